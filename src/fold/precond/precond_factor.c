/* Factorizations used as preconditioners: the LU of the whole matrix I - Phi (exact, or a
 * nearby instance's) and the LDL' of its symmetric diagonal blocks (doc/iterative.md §2.7),
 * both from src/linalg. */
#include "fold/precond/precond.h"

struct fold_precond_factor {
    fold_la_factor *lu; /* the whole matrix, or NULL */
    fold_int n_blocks;  /* else its diagonal blocks */
    fold_int *ptr;
    fold_la_chol **blocks;
    fold_int nnz;
};

void fold_pc_factor_free(fold_precond_factor *F)
{
    if (!F) return;
    fold_la_factor_free(F->lu);
    if (F->blocks)
        for (fold_int k = 0; k < F->n_blocks; k++)
            fold_la_chol_free(F->blocks[k]);
    free(F->blocks);
    free(F->ptr);
    free(F);
}

fold_status fold_pc_lu_create(const fold_la_sparse *A, fold_la_common *cm, const char *fn,
                              fold_precond_factor **out)
{
    fold_precond_factor *F = fold_calloc(1, sizeof *F, "LU preconditioner");
    if (!F) return FOLD_ERR_MEMORY;
    /* UMFPACK, no rcond threshold: only a zero pivot makes I - Phi singular here */
    fold_status st = fold_la_factor_create(A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD,
                                           (fold_int)A->nrow, 0.0, 0.0, cm, &F->lu);
    if (st < 0) {
        fold_pc_factor_free(F);
        return fold_error_context(st, "%s: I - Phi", fn);
    }
    fold_la_factor_info info;
    fold_la_factor_get_info(F->lu, &info);
    F->nnz = info.factor_nnz;
    *out = F;
    return FOLD_OK;
}

fold_status fold_pc_block_create(const fold_la_sparse *A, fold_int n_blocks, const fold_int *ptr,
                                 fold_la_common *cm, const char *fn, fold_precond_factor **out)
{
    fold_precond_factor *F = fold_calloc(1, sizeof *F, "block preconditioner");
    if (!F) return FOLD_ERR_MEMORY;
    F->n_blocks = n_blocks;
    F->ptr = fold_dup_ints(ptr, n_blocks + 1, "block preconditioner");
    F->blocks = fold_calloc((size_t)n_blocks, sizeof *F->blocks, "block preconditioner");
    if (!F->ptr || !F->blocks) {
        fold_pc_factor_free(F);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int k = 0; k < n_blocks; k++) {
        fold_int lo = ptr[k], size = ptr[k + 1] - ptr[k];
        fold_status st = fold_la_chol_block(A, lo, size, true, cm, &F->blocks[k]);
        if (st < 0) {
            fold_pc_factor_free(F);
            if (st == FOLD_ERR_MEMORY) return st;
            return fold_error_context(st,
                                      "%s: diagonal block %lld (rows %lld..%lld) of the "
                                      "preconditioner is singular or could not be factored",
                                      fn, (long long)k, (long long)lo, (long long)(lo + size - 1));
        }
        F->nnz += fold_la_chol_nnz(F->blocks[k]);
    }
    *out = F;
    return FOLD_OK;
}

fold_status fold_pc_factor_apply(void *ctx, bool transpose, const double *r, double *z)
{
    fold_precond_factor *F = ctx;
    if (F->lu) return fold_la_factor_apply(F->lu, transpose, 1, r, z);
    /* Blocks are symmetric: the transpose solve is the same. */
    for (fold_int k = 0; k < F->n_blocks; k++) {
        fold_int lo = F->ptr[k];
        fold_status st = fold_la_chol_solve(F->blocks[k], r + lo, z + lo);
        if (st < 0) return fold_error_context(st, "preconditioner block %lld", (long long)k);
    }
    return FOLD_OK;
}

fold_int fold_pc_factor_nnz(const fold_precond_factor *F)
{
    return F ? F->nnz : 0;
}
