/* Factorizations used as preconditioners: UMFPACK LU of the whole matrix I - Phi (exact, or a
 * nearby instance's), CHOLMOD LDL' of its symmetric diagonal blocks (doc/iterative.md §2.6). */
#include <umfpack.h>

#include "fold/precond/precond.h"

struct fold_precond_factor {
    bool is_block;
    fold_int n;
    /* LU */
    void *numeric;
    SuiteSparse_long *Ap, *Ai;
    double *Ax;
    /* blocks */
    fold_int n_blocks;
    fold_int *ptr;
    cholmod_factor **L;
    cholmod_common *cm;
    fold_int nnz;
};

void fold_pc_factor_free(fold_precond_factor *F)
{
    if (!F)
        return;
    if (F->numeric)
        umfpack_dl_free_numeric(&F->numeric);
    free(F->Ap);
    free(F->Ai);
    free(F->Ax);
    if (F->L)
        for (fold_int k = 0; k < F->n_blocks; k++)
            cholmod_l_free_factor(&F->L[k], F->cm);
    free(F->L);
    free(F->ptr);
    free(F);
}

fold_status fold_pc_lu_create(const cholmod_sparse *A, const char *fn, fold_precond_factor **out)
{
    fold_int n = (fold_int)A->ncol, nnz = ((SuiteSparse_long *)A->p)[n];
    double control[UMFPACK_CONTROL], info[UMFPACK_INFO];
    void *symbolic = NULL;
    fold_precond_factor *F = fold_calloc(1, sizeof *F, "LU preconditioner");
    if (!F)
        return FOLD_ERR_MEMORY;
    F->n = n;
    F->Ap = fold_malloc((size_t)n + 1, sizeof *F->Ap, "LU preconditioner");
    F->Ai = fold_malloc((size_t)nnz, sizeof *F->Ai, "LU preconditioner");
    F->Ax = fold_malloc((size_t)nnz, sizeof *F->Ax, "LU preconditioner");
    if (!F->Ap || !F->Ai || !F->Ax) {
        fold_pc_factor_free(F);
        return FOLD_ERR_MEMORY;
    }
    memcpy(F->Ap, A->p, ((size_t)n + 1) * sizeof *F->Ap);
    memcpy(F->Ai, A->i, (size_t)nnz * sizeof *F->Ai);
    memcpy(F->Ax, A->x, (size_t)nnz * sizeof *F->Ax);
    umfpack_dl_defaults(control);
    control[UMFPACK_PRL] = 0;
    int rc = umfpack_dl_symbolic(n, n, F->Ap, F->Ai, F->Ax, &symbolic, control, info);
    if (rc == UMFPACK_OK)
        rc = umfpack_dl_numeric(F->Ap, F->Ai, F->Ax, symbolic, &F->numeric, control, info);
    umfpack_dl_free_symbolic(&symbolic);
    if (rc != UMFPACK_OK) {
        fold_pc_factor_free(F);
        if (rc == UMFPACK_WARNING_singular_matrix)
            return fold_error(FOLD_ERR_SINGULAR, "%s: I - Phi is singular (UMFPACK zero pivot)",
                              fn);
        if (rc == UMFPACK_ERROR_out_of_memory)
            return fold_error(FOLD_ERR_MEMORY, "%s: UMFPACK out of memory", fn);
        return fold_error(FOLD_ERR_INTERNAL, "%s: UMFPACK failed with status %d", fn, rc);
    }
    F->nnz = (fold_int)(info[UMFPACK_LNZ] + info[UMFPACK_UNZ]);
    *out = F;
    return FOLD_OK;
}

fold_status fold_pc_block_create(const cholmod_sparse *A, fold_int n_blocks, const fold_int *ptr,
                                 cholmod_common *cm, const char *fn, fold_precond_factor **out)
{
    fold_precond_factor *F = fold_calloc(1, sizeof *F, "block preconditioner");
    if (!F)
        return FOLD_ERR_MEMORY;
    F->is_block = true;
    F->n = (fold_int)A->ncol;
    F->cm = cm;
    F->n_blocks = n_blocks;
    F->ptr = fold_dup_ints(ptr, n_blocks + 1, "block preconditioner");
    F->L = fold_calloc((size_t)n_blocks, sizeof *F->L, "block preconditioner");
    if (!F->ptr || !F->L) {
        fold_pc_factor_free(F);
        return FOLD_ERR_MEMORY;
    }
    cm->supernodal = CHOLMOD_SIMPLICIAL; /* LDL' without square roots: indefinite blocks ok */
    cm->final_ll = 0;
    for (fold_int k = 0; k < n_blocks; k++) {
        fold_int lo = ptr[k], size = ptr[k + 1] - ptr[k];
        SuiteSparse_long *set = fold_malloc((size_t)size, sizeof *set, "block index set");
        cholmod_sparse *sub = NULL, *sym = NULL;
        if (!set) {
            fold_pc_factor_free(F);
            return FOLD_ERR_MEMORY;
        }
        for (fold_int i = 0; i < size; i++)
            set[i] = lo + i;
        sub = cholmod_l_submatrix((cholmod_sparse *)A, set, size, set, size, 1, 1, cm);
        free(set);
        if (sub)
            sym = cholmod_l_copy(sub, -1, 1, cm); /* lower triangle, symmetric */
        if (sym)
            F->L[k] = cholmod_l_analyze(sym, cm);
        if (F->L[k])
            cholmod_l_factorize(sym, F->L[k], cm);
        bool ok = F->L[k] && cm->status == CHOLMOD_OK && F->L[k]->minor == F->L[k]->n;
        cholmod_l_free_sparse(&sub, cm);
        cholmod_l_free_sparse(&sym, cm);
        if (!ok) {
            fold_pc_factor_free(F);
            return fold_error(FOLD_ERR_SINGULAR, "%s: diagonal block %lld (rows %lld..%lld) of "
                              "the preconditioner is singular or could not be factored (CHOLMOD status "
                              "%d)", fn, (long long)k, (long long)lo,
                              (long long)(lo + size - 1), cm->status);
        }
        F->nnz += (fold_int)cm->lnz;
    }
    *out = F;
    return FOLD_OK;
}

fold_status fold_pc_factor_apply(void *ctx, bool transpose, const double *r, double *z)
{
    fold_precond_factor *F = ctx;
    if (!F->is_block) {
        double info[UMFPACK_INFO];
        int rc = umfpack_dl_solve(transpose ? UMFPACK_At : UMFPACK_A, F->Ap, F->Ai, F->Ax, z, r,
                                  F->numeric, NULL, info);
        if (rc != UMFPACK_OK && rc != UMFPACK_WARNING_singular_matrix)
            return fold_error(FOLD_ERR_INTERNAL, "preconditioner: UMFPACK solve failed (%d)", rc);
        return FOLD_OK;
    }
    /* Blocks are symmetric: the transpose solve is the same. */
    for (fold_int k = 0; k < F->n_blocks; k++) {
        fold_int lo = F->ptr[k], size = F->ptr[k + 1] - lo;
        cholmod_dense *B = cholmod_l_allocate_dense(size, 1, size, CHOLMOD_REAL, F->cm), *X;
        if (!B)
            return fold_error(FOLD_ERR_MEMORY, "preconditioner: out of memory");
        memcpy(B->x, r + lo, (size_t)size * sizeof(double));
        X = cholmod_l_solve(CHOLMOD_A, F->L[k], B, F->cm);
        cholmod_l_free_dense(&B, F->cm);
        if (!X)
            return fold_error(FOLD_ERR_INTERNAL, "preconditioner: CHOLMOD block solve failed");
        memcpy(z + lo, X->x, (size_t)size * sizeof(double));
        cholmod_l_free_dense(&X, F->cm);
    }
    return FOLD_OK;
}

fold_int fold_pc_factor_nnz(const fold_precond_factor *F)
{
    return F ? F->nnz : 0;
}

fold_status fold_pc_jacobi_apply(void *ctx, bool transpose, const double *r, double *z)
{
    const fold_pc_jacobi *J = ctx;
    for (fold_int i = 0; i < J->n; i++)
        z[i] = r[i] * J->inv_diag[i];
    return FOLD_OK;
}
