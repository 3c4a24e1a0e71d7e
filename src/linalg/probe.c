/* The null-space probe's steps (doc/math.md §4.8, eq. 4.10), shared by the probe of a
 * regularized factorization (factor_reg.c), the check of a pinned one (factor_pin.c) and the
 * probe of a bordered solve over a regularized factorization (border.c): a fixed
 * pseudo-random start, inverse iteration on the row-scaled matrix D^-1/2 M D^-1/2 with a
 * solve by M, the scaled residual of the vector it leaves against A, and the cut of the
 * entries below the probe's resolution. */
#include "linalg/linalg_internal.h"

void fold_la_probe_start(fold_int n, double *z)
{
    uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    for (fold_int i = 0; i < n; i++)
        z[i] = 2.0 * fold_la_lcg_unit(&state) - 1.0;
}

fold_status fold_la_probe_iterate_with(fold_int n, const double *d, fold_la_probe_solve solve,
                                       void *ctx, const unsigned char *mask, double *z, double *y)
{
    fold_status st;
    /* Eq. 4.10: inverse iteration on the row-scaled matrix D^-1/2 M D^-1/2, whose null
     * directions all have eigenvalues +-delta: z' <- D^1/2 inv(M) D^1/2 z', normalized. */
    for (int it = 0; it < FOLD_LA_PROBE_ITERATIONS; it++) {
        for (fold_int i = 0; i < n; i++)
            y[i] = sqrt(d[i]) * z[i];
        if ((st = solve(ctx, y, z))) return st;
        double zn = 0.0;
        for (fold_int i = 0; i < n; i++) {
            z[i] = mask && mask[i] ? 0.0 : z[i] * sqrt(d[i]);
            zn = fmax(zn, fabs(z[i]));
        }
        for (fold_int i = 0; i < n; i++)
            z[i] = zn > 0.0 ? z[i] / zn : 0.0;
    }
    /* z = D^-1/2 z' */
    for (fold_int i = 0; i < n; i++)
        z[i] /= sqrt(d[i]);
    return FOLD_OK;
}

double fold_la_probe_residual_of(const cholmod_sparse *A, const double *d, const double *z,
                                 double *y)
{
    fold_la_spmv(A, false, z, y, false);
    double res = 0.0;
    for (fold_int i = 0; i < (fold_int)A->nrow; i++)
        res = fmax(res, fabs(y[i]) / sqrt(d[i]));
    return res;
}

void fold_la_probe_cut(fold_int n, const double *d, double *z)
{
    /* Entries of the scaled vector below the probe's resolution are not part of a null
     * direction: the remainder of the other directions after the iterations, or rounding. */
    for (fold_int i = 0; i < n; i++)
        if (fabs(z[i]) * sqrt(d[i]) <= FOLD_LA_PROBE_TINY) z[i] = 0.0;
}

/* M's solve of a regularized or pinned factorization. */
static fold_status factor_solve_m(void *ctx, const double *y, double *z)
{
    fold_la_factor *F = ctx;
    return fold_la_umf_solve(&F->umf, F->preg.M, false, 1, y, z);
}

fold_status fold_la_probe_iterate(fold_la_factor *F, const unsigned char *mask, double *z,
                                  double *y)
{
    return fold_la_probe_iterate_with(F->n, F->preg.d, factor_solve_m, F, mask, z, y);
}

double fold_la_probe_residual(const fold_la_factor *F, const double *z, double *y)
{
    return fold_la_probe_residual_of(F->A, F->preg.d, z, y);
}
