/* The library's sparse matrix (fold_la_sparse, a long-integer cholmod_sparse in full storage,
 * sorted and packed): allocation, freeing and the validated copy of a caller's fold_csc.
 * doc/math.md §4. */
#include "linalg/linalg.h"

fold_status fold_la_sparse_alloc(fold_int nrow, fold_int ncol, fold_int nzmax, fold_la_common *cm,
                                 fold_la_sparse **out)
{
    *out = cholmod_l_allocate_sparse((size_t)nrow, (size_t)ncol, (size_t)(nzmax > 0 ? nzmax : 1), 1,
                                     1, 0, CHOLMOD_REAL, cm);
    if (*out) return FOLD_OK;
    return fold_error_context(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                  : FOLD_ERR_INTERNAL,
                              "sparse matrix %lld x %lld with %lld entries", (long long)nrow,
                              (long long)ncol, (long long)nzmax);
}

fold_status fold_la_sparse_grow(fold_la_sparse *A, fold_int nzmax, fold_la_common *cm)
{
    if ((size_t)nzmax <= A->nzmax || cholmod_l_reallocate_sparse((size_t)nzmax, A, cm))
        return FOLD_OK;
    return fold_error(FOLD_ERR_MEMORY, "out of memory for a sparse matrix of %lld entries",
                      (long long)nzmax);
}

void fold_la_sparse_free(fold_la_sparse **A, fold_la_common *cm)
{
    if (A && *A) cholmod_l_free_sparse(A, cm);
}

fold_status fold_la_sparse_from_csc(const fold_csc *M, const char *fn, const char *field,
                                    fold_la_common *cm, fold_la_sparse **out)
{
    fold_status st;
    if ((st = fold_check_csc(M->nrow, M->ncol, M->colptr, M->rowind, M->values, fn, field)) < 0)
        return st;
    fold_int nnz = M->colptr[M->ncol];
    if (nnz > 0 && !M->values)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s.values is NULL", fn, field);
    if ((st = fold_la_sparse_alloc(M->nrow, M->ncol, nnz, cm, out)) < 0)
        return fold_error_context(st, "%s: copy of %s", fn, field);
    memcpy((*out)->p, M->colptr, ((size_t)M->ncol + 1) * sizeof(fold_int));
    if (nnz > 0) {
        memcpy((*out)->i, M->rowind, (size_t)nnz * sizeof(fold_int));
        memcpy((*out)->x, M->values, (size_t)nnz * sizeof(double));
    }
    return FOLD_OK;
}

fold_status fold_la_sparse_sort(fold_la_sparse **A, fold_la_common *cm)
{
    /* the transpose of the transpose, each with sorted columns */
    cholmod_sparse *T = cholmod_l_transpose(*A, 1, cm);
    cholmod_sparse *S = T ? cholmod_l_transpose(T, 1, cm) : NULL;
    cholmod_l_free_sparse(&T, cm);
    if (!S)
        return fold_error(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY : FOLD_ERR_INTERNAL,
                          "CHOLMOD: sorting a sparse matrix (status %d)", cm->status);
    cholmod_l_free_sparse(A, cm);
    *A = S;
    return FOLD_OK;
}
