/* Vector kernels and residuals shared by the iterative backward solvers
 * (doc/iterative.md §2). */
#include "fold/krylov/krylov.h"

double fold_kry_dot(fold_int n, const double *x, const double *y)
{
    double s = 0;
    for (fold_int i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

double fold_kry_nrm2(fold_int n, const double *x)
{
    double scale = 0, ssq = 1;
    /* scaled sum of squares: no overflow for huge entries */
    for (fold_int i = 0; i < n; i++) {
        double a = fabs(x[i]);
        if (a == 0) continue;
        if (scale < a) {
            ssq = 1 + ssq * (scale / a) * (scale / a);
            scale = a;
        } else {
            ssq += (a / scale) * (a / scale);
        }
    }
    return scale * sqrt(ssq);
}

void fold_kry_axpy(fold_int n, double a, const double *x, double *y)
{
    for (fold_int i = 0; i < n; i++)
        y[i] += a * x[i];
}

fold_status fold_kry_residual(const fold_kry_op *A, bool transpose, const double *b,
                              const double *x, double *r, double *rnorm)
{
    fold_status st = A->apply(A->ctx, transpose, x, r);
    if (st < 0) return st;
    for (fold_int i = 0; i < A->n; i++)
        r[i] = b[i] - r[i];
    *rnorm = fold_kry_nrm2(A->n, r);
    return FOLD_OK;
}

fold_status fold_kry_precond(const fold_kry_pc *M, bool transpose, fold_int n, const double *r,
                             double *z)
{
    if (!M || !M->apply) {
        if (z != r) memcpy(z, r, (size_t)n * sizeof *z);
        return FOLD_OK;
    }
    return M->apply(M->ctx, transpose, r, z);
}

void fold_kry_record(fold_kry_result *res, double rel)
{
    if (res->history && res->n_history < res->history_cap) res->history[res->n_history] = rel;
    res->n_history++;
}
