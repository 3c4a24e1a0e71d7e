/* The shared steps of the iterative refinement of direct solves (doc/math.md eqs. 4.3, 4.9):
 * only the columns still refining are solved, and each correction's size is what eq. 4.9
 * tests. Used by the solves with a factorization (factor_solve.c) and with a bordered one
 * (border.c). */
#include <float.h>

#include "linalg/linalg_internal.h"

fold_int fold_la_refine_pack(fold_int n, fold_int nrhs, const double *act, double *R)
{
    fold_int na = 0;
    for (fold_int c = 0; c < nrhs; c++) { /* in place: column na <= c */
        if (act[c] == 0.0) continue;
        if (na != c) memcpy(R + na * n, R + c * n, (size_t)n * sizeof *R);
        na++;
    }
    return na;
}

void fold_la_refine_correct(fold_int n, fold_int nrhs, const double *act, const double *D,
                            double *X, bool preg, double *dr)
{
    for (fold_int c = 0, k = 0; c < nrhs; c++) {
        if (act[c] == 0.0) continue;
        const double *d = D + k++ * n;
        double *x = X + c * n, dn = 0.0, xn = 0.0;
        for (fold_int i = 0; i < n; i++) {
            x[i] += d[i];
            dn = fold_la_max(dn, fabs(d[i]));
            xn = fold_la_max(xn, fabs(x[i]));
        }
        if (preg) dr[c] = dn <= FOLD_LA_PREG_ETA * xn ? dn / fold_la_max(xn, DBL_MIN) : HUGE_VAL;
    }
}
