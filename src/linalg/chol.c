/* CHOLMOD factorizations of small symmetric systems: A A' of a full-row-rank A (the affine
 * set's projection, doc/iterative.md §4.1) and the symmetric diagonal blocks of a matrix (the
 * block preconditioner, doc/iterative.md §2.7). doc/math.md §4. */
#include "linalg/linalg.h"

struct fold_la_chol {
    cholmod_factor *L;
    fold_la_common *cm;
    fold_int n;
    fold_int nnz; /* nnz(L) from the analysis (cm->lnz) */
};

void fold_la_chol_free(fold_la_chol *C)
{
    if (!C) return;
    if (C->L) cholmod_l_free_factor(&C->L, C->cm);
    free(C);
}

/* Analyze and factor S (stype -1: S itself; stype 0: S S'); simplicial LDL' when ldl (no
 * square roots: an indefinite S is fine), CHOLMOD's default otherwise. The settings of cm are
 * restored. */
static fold_status chol_factor(cholmod_sparse *S, bool ldl, fold_la_common *cm, fold_la_chol **out)
{
    int supernodal = cm->supernodal, final_ll = cm->final_ll;
    fold_la_chol *C = fold_calloc(1, sizeof *C, "Cholesky factor");
    if (!C) return FOLD_ERR_MEMORY;
    C->cm = cm;
    C->n = (fold_int)S->nrow;
    if (ldl) {
        cm->supernodal = CHOLMOD_SIMPLICIAL;
        cm->final_ll = 0;
    }
    C->L = cholmod_l_analyze(S, cm);
    C->nnz = (fold_int)cm->lnz;
    bool ok = C->L && cholmod_l_factorize(S, C->L, cm) && cm->status == CHOLMOD_OK &&
              C->L->minor == C->L->n;
    int status = cm->status;
    cm->supernodal = supernodal;
    cm->final_ll = final_ll;
    if (!ok) {
        fold_la_chol_free(C);
        if (status == CHOLMOD_OUT_OF_MEMORY)
            return fold_error(FOLD_ERR_MEMORY, "CHOLMOD: out of memory");
        return fold_error(FOLD_ERR_SINGULAR, "CHOLMOD status %d", status);
    }
    *out = C;
    return FOLD_OK;
}

fold_status fold_la_chol_aat(const fold_la_sparse *A, fold_la_common *cm, fold_la_chol **out)
{
    /* An unsymmetric A makes CHOLMOD analyze and factor A A'. */
    return chol_factor((cholmod_sparse *)A, false, cm, out);
}

fold_status fold_la_chol_block(const fold_la_sparse *A, fold_int lo, fold_int size, bool indefinite,
                               fold_la_common *cm, fold_la_chol **out)
{
    fold_int *set = fold_malloc((size_t)size, sizeof *set, "block index set");
    cholmod_sparse *sub = NULL, *sym = NULL;
    fold_status st;
    if (!set) return FOLD_ERR_MEMORY;
    for (fold_int i = 0; i < size; i++)
        set[i] = lo + i;
    sub = cholmod_l_submatrix((cholmod_sparse *)A, set, size, set, size, 1, 1, cm);
    free(set);
    if (sub) sym = cholmod_l_copy(sub, -1, 1, cm); /* lower triangle, symmetric */
    if (sym)
        st = chol_factor(sym, indefinite, cm, out);
    else
        st = fold_error(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY : FOLD_ERR_INTERNAL,
                        "CHOLMOD: block extraction failed (status %d)", cm->status);
    cholmod_l_free_sparse(&sub, cm);
    cholmod_l_free_sparse(&sym, cm);
    return st;
}

fold_status fold_la_chol_solve(fold_la_chol *C, const double *b, double *x)
{
    cholmod_dense *B = cholmod_l_allocate_dense((size_t)C->n, 1, (size_t)C->n, CHOLMOD_REAL, C->cm);
    if (!B) return fold_error(FOLD_ERR_MEMORY, "CHOLMOD solve: out of memory");
    memcpy(B->x, b, (size_t)C->n * sizeof(double));
    cholmod_dense *X = cholmod_l_solve(CHOLMOD_A, C->L, B, C->cm);
    cholmod_l_free_dense(&B, C->cm);
    if (!X) return fold_error(FOLD_ERR_INTERNAL, "CHOLMOD solve failed (status %d)", C->cm->status);
    memcpy(x, X->x, (size_t)C->n * sizeof(double));
    cholmod_l_free_dense(&X, C->cm);
    return FOLD_OK;
}

double fold_la_chol_rcond(const fold_la_chol *C)
{
    return cholmod_l_rcond(C->L, C->cm);
}

fold_int fold_la_chol_nnz(const fold_la_chol *C)
{
    return C->nnz;
}
