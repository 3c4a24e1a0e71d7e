/* A basis of the null space of a sparse matrix from a rank-revealing sparse QR (SPQR), and
 * the optimum of a small linear program by the simplex method: the one-sided derivatives of
 * an optimal value maximize a linear function over the set of optimal multipliers, which is
 * the current multipliers plus a polytope in the (small) null space of the active
 * constraint gradients (doc/math.md §3.7). */
#include <SuiteSparseQR_C.h>

#include "linalg/linalg.h"

/* Entries of a null vector below this (relative to its largest) are zero. */
#define NULL_TINY 1e-12

fold_status fold_la_null_basis(const cholmod_sparse *A, fold_int max_dim, double **N, fold_int *dim,
                               cholmod_common *cm)
{
    const char *fn = "fold_la_null_basis";
    cholmod_sparse *R = NULL;
    SuiteSparse_long *E = NULL;
    fold_status st = FOLD_OK;
    *N = NULL;
    *dim = 0;
    if (A->xtype != CHOLMOD_REAL || A->itype != CHOLMOD_LONG || A->stype != 0 || !A->packed)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: A must be real, long-indexed, packed, "
                          "unsymmetric",
                          fn);
    fold_int ncol = (fold_int)A->ncol;
    if (ncol == 0) return FOLD_OK;
    /* A E = Q R, rank r: R = [R11 R12] (r rows), R11 upper triangular and nonsingular; the
     * columns E(r..) depend on E(0..r-1): null vectors E [-R11^-1 R12(:, c); e_c]. */
    SuiteSparse_long r =
        SuiteSparseQR_C(SPQR_ORDERING_DEFAULT, SPQR_DEFAULT_TOL, 0, 0, (cholmod_sparse *)A, NULL,
                        NULL, NULL, NULL, &R, &E, NULL, NULL, NULL, cm);
    if (r < 0 || !R) {
        st = cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY : FOLD_ERR_INTERNAL;
        st = fold_error(st, "%s: SuiteSparseQR_C failed (status %d)", fn, cm->status);
        goto done;
    }
    fold_int k_dim = ncol - (fold_int)r;
    if (k_dim == 0) goto done;
    if (k_dim > max_dim) {
        *dim = k_dim; /* too many: the caller gets the dimension only */
        goto done;
    }
    const SuiteSparse_long *Rp = R->p, *Ri = R->i;
    const double *Rx = R->x;
    double *basis = fold_calloc((size_t)(ncol * k_dim), sizeof *basis, "null basis");
    double *y = fold_malloc((size_t)r + 1, sizeof *y, "null basis");
    if (!basis || !y) {
        free(basis);
        free(y);
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    for (fold_int q = 0; q < k_dim; q++) {
        fold_int c = (fold_int)r + q;
        double *v = basis + q * ncol, big = 1.0;
        for (SuiteSparse_long k = 0; k < r; k++)
            y[k] = 0.0;
        for (SuiteSparse_long t = Rp[c]; t < Rp[c + 1]; t++)
            y[Ri[t]] = -Rx[t];
        for (SuiteSparse_long k = r - 1; k >= 0; k--) { /* R11 y = -R12(:, c) */
            double diag = 0.0;
            for (SuiteSparse_long t = Rp[k]; t < Rp[k + 1]; t++)
                if (Ri[t] == k) diag = Rx[t];
            y[k] = diag != 0.0 ? y[k] / diag : 0.0;
            for (SuiteSparse_long t = Rp[k]; t < Rp[k + 1]; t++)
                if (Ri[t] < k) y[Ri[t]] -= Rx[t] * y[k];
        }
        for (SuiteSparse_long k = 0; k < r; k++)
            big = fmax(big, fabs(y[k]));
        for (SuiteSparse_long k = 0; k < r; k++) {
            double val = y[k] / big;
            v[E ? E[k] : k] = fabs(val) > NULL_TINY ? val : 0.0;
        }
        v[E ? E[c] : c] = 1.0 / big;
    }
    free(y);
    *N = basis;
    *dim = k_dim;
done:
    cholmod_l_free_sparse(&R, cm);
    if (E) cholmod_l_free(A->ncol, sizeof *E, E, cm);
    return st;
}

/* Pivot the tableau T (rows x cols, row-major; row `rows - 1` is the objective) on (pr, pc). */
static void pivot(double *T, fold_int rows, fold_int cols, fold_int pr, fold_int pc)
{
    double *prow = T + pr * cols, pv = prow[pc];
    for (fold_int j = 0; j < cols; j++)
        prow[j] /= pv;
    for (fold_int i = 0; i < rows; i++) {
        double f = T[i * cols + pc];
        if (i == pr || f == 0.0) continue;
        for (fold_int j = 0; j < cols; j++)
            T[i * cols + j] -= f * prow[j];
    }
}

/* Why a tableau simplex of its own: the linear programs of the one-sided derivatives
 * (doc/math.md eq. 3.22) have one variable per null vector of a group (one to three at the
 * PGLib cases, at most a few dozen) and one row per multiplier those vectors move. A dense
 * tableau with Bland's rule cannot cycle, so it ends after finitely many pivots with the
 * exact optimum up to rounding; the project's dependencies (SuiteSparse, Ipopt) offer no LP
 * solver, and an LP library would be a new dependency for programs of this size. */
double fold_la_lp_max(fold_int d, fold_int r, const double *A, const double *b, const double *c)
{
    /* max c't s.t. A t <= b, t free, b >= 0 (t = 0 feasible): t = u - v, u, v >= 0, slacks s;
     * tableau columns u (d), v (d), s (r), rhs; the slacks form the first basis. Bland's rule
     * (smallest entering and leaving index) cannot cycle on the degenerate vertices that
     * multipliers at zero give. */
    fold_int cols = 2 * d + r + 1, rows = r + 1, rhs = cols - 1;
    double *T = calloc((size_t)(rows * cols), sizeof *T), best = NAN;
    fold_int *basis = malloc((size_t)(r + 1) * sizeof *basis);
    if (!T || !basis) goto done;
    double scale = 0.0;
    for (fold_int j = 0; j < d; j++)
        scale = fmax(scale, fabs(c[j]));
    for (fold_int i = 0; i < r; i++) {
        for (fold_int j = 0; j < d; j++) {
            T[i * cols + j] = A[i * d + j];
            T[i * cols + d + j] = -A[i * d + j];
        }
        T[i * cols + 2 * d + i] = 1.0;
        T[i * cols + rhs] = fmax(b[i], 0.0);
        basis[i] = 2 * d + i;
    }
    double *obj = T + r * cols; /* reduced costs -c (maximization: enter while negative) */
    for (fold_int j = 0; j < d; j++) {
        obj[j] = -c[j];
        obj[d + j] = c[j];
    }
    double eps = 1e-12 * (scale > 0.0 ? scale : 1.0);
    for (int iter = 0; iter < 50 * (int)(rows + cols); iter++) {
        fold_int pc = -1, pr = -1;
        for (fold_int j = 0; j < rhs && pc < 0; j++)
            if (obj[j] < -eps) pc = j;
        if (pc < 0) {
            best = obj[rhs];
            goto done;
        }
        double ratio = HUGE_VAL;
        for (fold_int i = 0; i < r; i++) {
            double a = T[i * cols + pc];
            if (a <= 1e-12) continue;
            double q = T[i * cols + rhs] / a;
            if (q < ratio || (q == ratio && pr >= 0 && basis[i] < basis[pr])) {
                ratio = q;
                pr = i;
            }
        }
        if (pr < 0) {
            best = HUGE_VAL; /* unbounded */
            goto done;
        }
        pivot(T, rows, cols, pr, pc);
        basis[pr] = pc;
    }
done:
    free(T);
    free(basis);
    return best;
}
