/* Minimum-norm least-squares solves by SPQR for singular systems: a basic least-squares
 * solution from QR of op(A), projected onto range(op(A)') with a QR of op(A)'.
 * doc/math.md §4.7 (eq. 4.6). */
#include <SuiteSparseQR_C.h>

#include "linalg/linalg.h"

static fold_status lsq_fail(cholmod_common *cm, const char *what)
{
    fold_status st = cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY : FOLD_ERR_INTERNAL;
    return fold_error_context(st, "fold_la_lsq_solve: %s", what);
}

fold_status fold_la_lsq_solve(const cholmod_sparse *A, bool transpose, fold_int nrhs,
                              const double *B, double *X, cholmod_common *cm)
{
    const char *fn = "fold_la_lsq_solve";
    fold_status st;
    if ((st = fold_check_not_null(A, fn, "A")) || (st = fold_check_not_null(cm, fn, "cm")) ||
        (st = fold_check_dim(nrhs, 0, fn, "nrhs")))
        return st;
    if (A->stype != 0 || !A->packed || !A->sorted || A->xtype != CHOLMOD_REAL ||
        A->itype != CHOLMOD_LONG)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: A must be real, long-indexed, packed, sorted, "
                          "full storage",
                          fn);
    if ((st = fold_check_csc((fold_int)A->nrow, (fold_int)A->ncol, A->p, A->i, A->x, fn, "A")))
        return st;
    size_t m = transpose ? A->ncol : A->nrow, n = transpose ? A->nrow : A->ncol;
    if (nrhs == 0) return FOLD_OK;
    if ((st = fold_check_not_null(B, fn, "B")) || (st = fold_check_not_null(X, fn, "X")) ||
        (st = fold_check_finite(B, (fold_int)m * nrhs, fn, "B")))
        return st;
    cholmod_sparse *At = cholmod_l_transpose((cholmod_sparse *)A, 1, cm);
    cholmod_dense *xls = NULL, *y = NULL, *x = NULL;
    SuiteSparseQR_C_factorization *qr = NULL;
    if (!At) return lsq_fail(cm, "cholmod_l_transpose");
    cholmod_sparse *M = transpose ? At : (cholmod_sparse *)A;  /* op(A), m x n */
    cholmod_sparse *Mt = transpose ? (cholmod_sparse *)A : At; /* op(A)', n x m */
    cholmod_dense b = {.nrow = m,
                       .ncol = (size_t)nrhs,
                       .nzmax = m * (size_t)nrhs,
                       .d = m,
                       .x = (void *)B,
                       .xtype = CHOLMOD_REAL,
                       .dtype = CHOLMOD_DOUBLE};
    /* Basic least-squares solution (rank-revealing QR of op(A)). */
    xls = SuiteSparseQR_C_backslash(SPQR_ORDERING_DEFAULT, SPQR_DEFAULT_TOL, M, &b, cm);
    if (!xls) {
        st = lsq_fail(cm, "SuiteSparseQR_C_backslash");
        goto done;
    }
    /* op(A)' E = Q R with rank r: range(op(A)') = span Q(:, 1:r); x = Q1 Q1' xls. */
    qr = SuiteSparseQR_C_factorize(SPQR_ORDERING_DEFAULT, SPQR_DEFAULT_TOL, Mt, cm);
    if (!qr) {
        st = lsq_fail(cm, "SuiteSparseQR_C_factorize");
        goto done;
    }
    fold_int rank = cm->SPQR_istat[4];
    if (rank < 0 || (size_t)rank > (m < n ? m : n)) {
        st = fold_error(FOLD_ERR_INTERNAL, "%s: SPQR rank estimate %lld outside [0,%zu]", fn,
                        (long long)rank, m < n ? m : n);
        goto done;
    }
    y = SuiteSparseQR_C_qmult(SPQR_QTX, qr, xls, cm);
    if (!y) {
        st = lsq_fail(cm, "SuiteSparseQR_C_qmult");
        goto done;
    }
    for (fold_int c = 0; c < nrhs; c++)
        for (size_t i = (size_t)rank; i < n; i++)
            ((double *)y->x)[i + (size_t)c * y->d] = 0.0;
    x = SuiteSparseQR_C_qmult(SPQR_QX, qr, y, cm);
    if (!x) {
        st = lsq_fail(cm, "SuiteSparseQR_C_qmult");
        goto done;
    }
    for (fold_int c = 0; c < nrhs; c++)
        if (fold_check_finite((double *)x->x + (size_t)c * x->d, (fold_int)n, fn, "X")) {
            st = fold_error(FOLD_ERR_INTERNAL, "%s: SPQR produced a non-finite solution", fn);
            goto done;
        }
    for (fold_int c = 0; c < nrhs; c++)
        memcpy(X + (size_t)c * n, (double *)x->x + (size_t)c * x->d, n * sizeof *X);
done:
    cholmod_l_free_sparse(&At, cm);
    cholmod_l_free_dense(&xls, cm);
    cholmod_l_free_dense(&y, cm);
    cholmod_l_free_dense(&x, cm);
    if (qr) SuiteSparseQR_C_free(&qr, cm);
    return st;
}
