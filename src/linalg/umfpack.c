/* UMFPACK LU backend (umfpack_dl_*, SuiteSparse_long indices): one symbolic analysis,
 * numeric refactorizations reusing it, singularity from zero pivots or rcond.
 * doc/math.md §4. */
#include "linalg/linalg_internal.h"

static const char *umf_status_text(int status)
{
    switch (status) {
    case UMFPACK_OK:
        return "ok";
    case UMFPACK_WARNING_singular_matrix:
        return "singular matrix";
    case UMFPACK_WARNING_determinant_underflow:
        return "determinant underflow";
    case UMFPACK_WARNING_determinant_overflow:
        return "determinant overflow";
    case UMFPACK_ERROR_out_of_memory:
        return "out of memory";
    case UMFPACK_ERROR_invalid_Numeric_object:
        return "invalid Numeric object";
    case UMFPACK_ERROR_invalid_Symbolic_object:
        return "invalid Symbolic object";
    case UMFPACK_ERROR_argument_missing:
        return "argument missing";
    case UMFPACK_ERROR_n_nonpositive:
        return "n nonpositive";
    case UMFPACK_ERROR_invalid_matrix:
        return "invalid matrix";
    case UMFPACK_ERROR_different_pattern:
        return "pattern changed since the analysis";
    case UMFPACK_ERROR_invalid_system:
        return "invalid system";
    case UMFPACK_ERROR_invalid_permutation:
        return "invalid permutation";
    case UMFPACK_ERROR_internal_error:
        return "internal error";
    case UMFPACK_ERROR_file_IO:
        return "file I/O error";
    case UMFPACK_ERROR_ordering_failed:
        return "ordering failed";
    default:
        return "unknown status";
    }
}

static fold_status umf_fail(const char *fn, int status)
{
    fold_status st = status == UMFPACK_ERROR_out_of_memory ? FOLD_ERR_MEMORY : FOLD_ERR_INTERNAL;
    return fold_error(st, "%s: UMFPACK status %d (%s)", fn, status, umf_status_text(status));
}

fold_status fold_la_umf_analyze(fold_la_umf *u, const cholmod_sparse *A, int ordering)
{
    umfpack_dl_defaults(u->control);
    u->control[UMFPACK_PRL] = 0;
    u->control[UMFPACK_IRSTEP] = 0; /* refinement is done by the caller, against A */
    switch (ordering) {
    case FOLD_ORDER_AMD: /* AMD on A + A' (symmetric strategy: KKT matrices are symmetric) */
        u->control[UMFPACK_STRATEGY] = UMFPACK_STRATEGY_SYMMETRIC;
        u->control[UMFPACK_ORDERING] = UMFPACK_ORDERING_AMD;
        break;
    case FOLD_ORDER_COLAMD: /* COLAMD on A (unsymmetric strategy) */
        u->control[UMFPACK_STRATEGY] = UMFPACK_STRATEGY_UNSYMMETRIC;
        u->control[UMFPACK_ORDERING] = UMFPACK_ORDERING_AMD;
        break;
    default: /* METIS on A + A' */
        u->control[UMFPACK_STRATEGY] = UMFPACK_STRATEGY_SYMMETRIC;
        u->control[UMFPACK_ORDERING] = UMFPACK_ORDERING_METIS;
        break;
    }
    fold_int n = (fold_int)A->ncol;
    int status = umfpack_dl_symbolic(n, n, A->p, A->i, A->x, &u->symbolic, u->control, u->info);
    if (status != UMFPACK_OK) {
        u->symbolic = NULL;
        return umf_fail("umfpack_dl_symbolic", status);
    }
    return FOLD_OK;
}

fold_status fold_la_umf_factor(fold_la_umf *u, const cholmod_sparse *A, double rcond_min)
{
    fold_la_umf_lu_free(u->lu);
    u->lu = NULL;
    if (u->numeric) umfpack_dl_free_numeric(&u->numeric);
    int status =
        umfpack_dl_numeric(A->p, A->i, A->x, u->symbolic, &u->numeric, u->control, u->info);
    u->rcond = u->info[UMFPACK_RCOND];
    if (status < 0) {
        u->numeric = NULL;
        return umf_fail("umfpack_dl_numeric", status);
    }
    if (status == UMFPACK_WARNING_singular_matrix || !(u->rcond >= rcond_min)) {
        umfpack_dl_free_numeric(&u->numeric);
        if (status == UMFPACK_WARNING_singular_matrix)
            return fold_error(FOLD_ERR_SINGULAR,
                              "umfpack_dl_numeric: matrix is singular (zero pivot; rcond = %g)",
                              u->rcond);
        return fold_error(FOLD_ERR_SINGULAR,
                          "umfpack_dl_numeric: rcond = %g below rcond_min = %g "
                          "(matrix numerically singular)",
                          u->rcond, rcond_min);
    }
    fold_int lnz = 0, unz = 0, nr = 0, nc = 0, nzud = 0;
    status = umfpack_dl_get_lunz(&lnz, &unz, &nr, &nc, &nzud, u->numeric);
    if (status != UMFPACK_OK) {
        umfpack_dl_free_numeric(&u->numeric);
        return umf_fail("umfpack_dl_get_lunz", status);
    }
    u->factor_nnz = lnz + unz;
    return FOLD_OK;
}

fold_status fold_la_umf_solve(fold_la_umf *u, const cholmod_sparse *A, bool transpose,
                              fold_int nrhs, const double *B, double *X)
{
    fold_int n = (fold_int)A->nrow;
    if (!transpose && nrhs >= FOLD_LA_BLOCK_MIN && fold_la_umf_solve_blocked(u, n, nrhs, B, X))
        return FOLD_OK;
    fold_int *wi = fold_malloc((size_t)n, sizeof *wi, "UMFPACK solve workspace");
    double *w = fold_malloc((size_t)n, sizeof *w, "UMFPACK solve workspace");
    fold_status st = FOLD_OK;
    if (!wi || !w) st = FOLD_ERR_MEMORY;
    for (fold_int c = 0; c < nrhs && !st; c++) {
        /* For real matrices UMFPACK_At (A') and UMFPACK_Aat (A.') coincide. */
        int status =
            umfpack_dl_wsolve(transpose ? UMFPACK_At : UMFPACK_A, A->p, A->i, A->x, X + c * n,
                              B + c * n, u->numeric, u->control, u->info, wi, w);
        if (status == UMFPACK_WARNING_singular_matrix)
            st = fold_error(FOLD_ERR_SINGULAR, "umfpack_dl_wsolve: matrix is singular");
        else if (status != UMFPACK_OK)
            st = umf_fail("umfpack_dl_wsolve", status);
    }
    free(wi);
    free(w);
    return st;
}

void fold_la_umf_free(fold_la_umf *u)
{
    fold_la_umf_lu_free(u->lu);
    u->lu = NULL;
    if (u->numeric) umfpack_dl_free_numeric(&u->numeric);
    if (u->symbolic) umfpack_dl_free_symbolic(&u->symbolic);
}
