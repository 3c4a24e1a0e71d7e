/* Primal regularization for a singular A whose null space lies in the primal block:
 * UMFPACK LU of M = A + delta diag(d, 0), d_i = ||A(i,:)||_inf, refined against A by the
 * caller.
 * doc/math.md §4.8 (eqs. 4.7-4.9). */
#include "linalg/linalg_internal.h"

void fold_la_preg_free(fold_la_preg *r, cholmod_common *cm)
{
    if (r->M)
        cholmod_l_free_sparse(&r->M, cm);
    r->M = NULL;
    r->delta = 0.0;
    r->symbolic_on_M = false;
}

/* M = A + delta D, D = diag(d on the first n_primal rows, 0 elsewhere), sorted and packed,
 * d_i = ||A(i,:)||_inf (eq. 4.7; ||A||_inf for an empty row). */
static fold_status build_m(fold_la_preg *r, const cholmod_sparse *A, fold_int n_primal,
                           double scale, cholmod_common *cm)
{
    fold_int n = (fold_int)A->nrow;
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    cholmod_sparse *D = cholmod_l_allocate_sparse((size_t)n, (size_t)n, (size_t)n_primal, 1, 1,
                                                  0, CHOLMOD_REAL, cm);
    if (!D)
        return fold_error_context(FOLD_ERR_MEMORY, "primal regularization: diagonal");
    fold_int *Dp = D->p, *Di = D->i;
    double *Dx = D->x;
    for (fold_int j = 0; j <= n; j++)
        Dp[j] = j < n_primal ? j : n_primal;
    for (fold_int j = 0; j < n_primal; j++) {
        Di[j] = j;
        Dx[j] = 0.0;
    }
    for (fold_int j = 0; j < n; j++)
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            if (Ai[q] < n_primal)
                Dx[Ai[q]] = fmax(Dx[Ai[q]], fabs(Ax[q]));
    for (fold_int j = 0; j < n_primal; j++)
        if (!(Dx[j] > 0.0))
            Dx[j] = scale > 0.0 ? scale : 1.0;
    double one[2] = {1.0, 0.0}, d[2] = {r->delta, 0.0};
    if (r->M)
        cholmod_l_free_sparse(&r->M, cm);
    r->M = cholmod_l_add((cholmod_sparse *)A, D, one, d, 1, 1, cm);
    cholmod_l_free_sparse(&D, cm);
    if (!r->M)
        return fold_error_context(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                      : FOLD_ERR_INTERNAL,
                                  "primal regularization: A + delta D");
    return FOLD_OK;
}

static bool same_pattern(const cholmod_sparse *A, const cholmod_sparse *B)
{
    const fold_int *Ap = A->p, *Bp = B->p, *Ai = A->i, *Bi = B->i;
    fold_int n = (fold_int)A->ncol;
    if (memcmp(Ap, Bp, (size_t)(n + 1) * sizeof *Ap) != 0)
        return false;
    return memcmp(Ai, Bi, (size_t)Ap[n] * sizeof *Ai) == 0;
}

fold_status fold_la_preg_factor(fold_la_preg *r, fold_la_umf *u, const cholmod_sparse *A,
                                fold_int n_primal, double scale, int ordering, double rcond_min,
                                cholmod_common *cm, double *analyze_s, double *factor_s)
{
    fold_status st;
    /* Eq. 4.7: delta relative to each row's scale, so the choice does not depend on units
     * and rows of small entries are not swamped. */
    r->delta = r->rel;
    if ((st = build_m(r, A, n_primal, scale, cm)))
        return st;
    /* An analysis made on A is valid for M when M has no new entries (A has every primal
     * diagonal, as the KKT matrices of the fold do); else analyze M's pattern once. */
    if (u->symbolic && !r->symbolic_on_M && !same_pattern(A, r->M)) {
        umfpack_dl_free_symbolic(&u->symbolic);
        u->symbolic = NULL;
    }
    if (!u->symbolic) {
        double t0 = fold_time_now();
        st = fold_la_umf_analyze(u, r->M, ordering);
        *analyze_s += fold_time_now() - t0;
        if (st)
            return st;
        r->symbolic_on_M = true;
    }
    double t0 = fold_time_now();
    /* The pivots of the primal null directions are delta d_i, a pivot ratio of about rel
     * (UMFPACK scales rows by their sums); one far below it is a rounding-level pivot of a
     * null direction that the regularization does not reach: the dual block (eq. 4.8). */
    st = fold_la_umf_factor(u, r->M, fmin(rcond_min, 1e-3 * r->rel));
    *factor_s += fold_time_now() - t0;
    if (st == FOLD_ERR_SINGULAR)
        return fold_error(FOLD_ERR_SINGULAR,
                          "A + delta diag(d, 0) is singular too (delta = %.3g, UMFPACK rcond "
                          "%.3g): a null space in the dual block (dependent constraints)",
                          r->delta, u->rcond);
    return st;
}
