/* Products with the values of a problem's derivative patterns: the symmetric Hessian given by
 * its lower triangle and the rectangular callback patterns (doc/math.md §2.1). */
#include "problem/problem_internal.h"

void fold_prob_pattern_mul(const fold_owned_pattern *P, const double *v, bool transpose,
                           const double *x, double *y, fold_int len, bool accumulate)
{
    const fold_int *ri = transpose ? P->col : P->row, *ci = transpose ? P->row : P->col;
    if (!accumulate) memset(y, 0, (size_t)len * sizeof(double));
    for (fold_int k = 0; k < P->nnz; k++)
        y[ri[k]] += v[k] * x[ci[k]];
}

void fold_prob_hess_mul_add(const fold_problem *prob, const double *hv, const double *x, double *y)
{
    const fold_owned_pattern *P = &prob->hess_l;
    for (fold_int k = 0; k < P->nnz; k++) {
        fold_int r = P->row[k], c = P->col[k];
        y[r] += hv[k] * x[c];
        if (r != c) y[c] += hv[k] * x[r];
    }
}
