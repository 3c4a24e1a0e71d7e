/* Products with the values of a problem's derivative patterns: the symmetric Hessian given by
 * its lower triangle and the rectangular callback patterns (doc/math.md §2.1); the diagonal of
 * a Hessian given by products (doc/math.md eq. 3.25). */
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

/* Entry j of probe k: +-1 from a bit mix of (k, j) (splitmix64), reproducible. */
static double probe_sign(int k, fold_int j)
{
    unsigned long long z = ((unsigned long long)k << 40) ^ (unsigned long long)j;
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) >> 63 ? 1.0 : -1.0;
}

fold_status fold_prob_hess_diag_estimate(const fold_problem *prob, const double *x, const double *p,
                                         const double *lam, double *diag, fold_eval_stats *st)
{
    fold_int n = prob->n;
    double *v = fold_malloc(2 * (size_t)n, sizeof *v, "Hessian diagonal estimate"), *hv = v + n;
    fold_status s = FOLD_OK;
    if (!v) return FOLD_ERR_MEMORY;
    /* diag(H) = E[v o H v] over Rademacher v */
    memset(diag, 0, (size_t)n * sizeof *diag);
    for (int k = 0; k < FOLD_HESS_DIAG_PROBES && s == FOLD_OK; k++) {
        for (fold_int j = 0; j < n; j++)
            v[j] = probe_sign(k, j);
        s = fold_prob_eval_hess_l_v(prob, x, p, 1.0, lam, v, hv, st);
        for (fold_int j = 0; j < n && s == FOLD_OK; j++)
            diag[j] += v[j] * hv[j] / FOLD_HESS_DIAG_PROBES;
    }
    free(v);
    return s;
}
