/* The null-space probe's steps (doc/math.md §4.8, eq. 4.10), shared by the probe of a
 * regularized factorization (factor_reg.c) and the check of a pinned one (factor_pin.c):
 * inverse iteration on the row-scaled matrix D^-1/2 M D^-1/2 with M's factors, and the
 * scaled residual of the vector it leaves against A. */
#include "linalg/linalg_internal.h"

fold_status fold_la_probe_iterate(fold_la_factor *F, const unsigned char *mask, double *z,
                                  double *y)
{
    const double *d = F->preg.d;
    fold_status st;
    /* Eq. 4.10: inverse iteration on the row-scaled matrix D^-1/2 M D^-1/2, whose null
     * directions all have eigenvalues +-delta: z' <- D^1/2 inv(M) D^1/2 z', normalized. */
    for (int it = 0; it < FOLD_LA_PROBE_ITERATIONS; it++) {
        for (fold_int i = 0; i < F->n; i++)
            y[i] = sqrt(d[i]) * z[i];
        if ((st = fold_la_umf_solve(&F->umf, F->preg.M, false, 1, y, z))) return st;
        double zn = 0.0;
        for (fold_int i = 0; i < F->n; i++) {
            z[i] = mask && mask[i] ? 0.0 : z[i] * sqrt(d[i]);
            zn = fmax(zn, fabs(z[i]));
        }
        for (fold_int i = 0; i < F->n; i++)
            z[i] = zn > 0.0 ? z[i] / zn : 0.0;
    }
    /* z = D^-1/2 z' */
    for (fold_int i = 0; i < F->n; i++)
        z[i] /= sqrt(d[i]);
    return FOLD_OK;
}

double fold_la_probe_residual(const fold_la_factor *F, const double *z, double *y)
{
    const double *d = F->preg.d;
    fold_la_spmv(F->A, false, z, y, false);
    double res = 0.0;
    for (fold_int i = 0; i < F->n; i++)
        res = fmax(res, fabs(y[i]) / sqrt(d[i]));
    return res;
}
