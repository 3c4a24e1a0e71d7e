/* The scalar test map of half_map.h. */
#include "half_map.h"

static int phi_half(const double *v, double *out, void *ud)
{
    (void)ud;
    out[0] = 0.5 * v[0];
    return 0;
}

static int psi_one(const double *dp, double *out, void *ud)
{
    (void)ud;
    out[0] = dp[0];
    return 0;
}

fold_map_def half_map_def(void)
{
    return (fold_map_def){.name = "half", .nz = 1, .np = 1, .phi_v = phi_half, .psi_v = psi_one};
}
