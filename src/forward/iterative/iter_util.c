/* Small vector and sparse helpers of the built-in iterative methods and fold maps. */
#include "forward/iterative/iter_internal.h"

void fold_iter_axpy(fold_int n, double a, const double *x, double *y)
{
    for (fold_int i = 0; i < n; i++)
        y[i] += a * x[i];
}

void fold_iter_spmv(const cholmod_sparse *A, bool transpose, const double *x, double *y)
{
    const SuiteSparse_long *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    fold_int ncol = (fold_int)A->ncol;
    if (transpose) {
        for (fold_int j = 0; j < ncol; j++) {
            double s = 0;
            for (SuiteSparse_long k = Ap[j]; k < Ap[j + 1]; k++)
                s += Ax[k] * x[Ai[k]];
            y[j] = s;
        }
        return;
    }
    memset(y, 0, A->nrow * sizeof(double));
    for (fold_int j = 0; j < ncol; j++)
        for (SuiteSparse_long k = Ap[j]; k < Ap[j + 1]; k++)
            y[Ai[k]] += Ax[k] * x[j];
}

fold_status fold_iter_csc_copy(const fold_csc *M, const char *fn, const char *field,
                               cholmod_common *cm, cholmod_sparse **out)
{
    fold_status st;
    fold_int nnz;
    cholmod_sparse *S;
    if ((st = fold_check_csc(M->nrow, M->ncol, M->colptr, M->rowind, M->values, fn, field)) < 0)
        return st;
    nnz = M->colptr[M->ncol];
    if (nnz > 0 && !M->values)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s.values is NULL", fn, field);
    S = cholmod_l_allocate_sparse(M->nrow, M->ncol, nnz > 0 ? nnz : 1, 1, 1, 0, CHOLMOD_REAL, cm);
    if (!S)
        return fold_error(FOLD_ERR_MEMORY, "%s: out of memory copying %s", fn, field);
    memcpy(S->p, M->colptr, ((size_t)M->ncol + 1) * sizeof(SuiteSparse_long));
    if (nnz > 0) {
        memcpy(S->i, M->rowind, (size_t)nnz * sizeof(SuiteSparse_long));
        memcpy(S->x, M->values, (size_t)nnz * sizeof(double));
    }
    *out = S;
    return FOLD_OK;
}
