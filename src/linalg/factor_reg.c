/* Regularization of a singular A (null space in the primal or the dual block): UMFPACK LU
 * of M = A + delta diag(d_x, -d_y), d_i = ||A(i,:)||_inf, refined against A by the caller;
 * the null-space probe that finds which entries of a solution are not unique.
 * doc/math.md §4.8 (eqs. 4.7-4.10). */
#include "linalg/linalg_internal.h"

void fold_la_preg_free(fold_la_preg *r, cholmod_common *cm)
{
    if (r->M) cholmod_l_free_sparse(&r->M, cm);
    r->M = NULL;
    free(r->d);
    r->d = NULL;
    r->delta = 0.0;
    r->symbolic_on_M = false;
    r->pinned = false;
}

/* M = A + delta D, D = diag(d_i on the first n_primal rows, -d_i on the rest), sorted and
 * packed, d_i = ||A(i,:)||_inf (eq. 4.7; ||A||_inf for an empty row); d is kept for the
 * null-space probe. */
static fold_status build_m(fold_la_preg *r, const cholmod_sparse *A, fold_int n_primal,
                           double scale, cholmod_common *cm)
{
    fold_int n = (fold_int)A->nrow;
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    if (!r->d && !(r->d = fold_malloc((size_t)n, sizeof *r->d, "regularization scales")))
        return FOLD_ERR_MEMORY;
    cholmod_sparse *D =
        cholmod_l_allocate_sparse((size_t)n, (size_t)n, (size_t)n, 1, 1, 0, CHOLMOD_REAL, cm);
    if (!D) return fold_error_context(FOLD_ERR_MEMORY, "singular-system regularization: diagonal");
    fold_int *Dp = D->p, *Di = D->i;
    double *Dx = D->x, *d = r->d;
    memset(d, 0, (size_t)n * sizeof *d);
    for (fold_int j = 0; j < n; j++)
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            d[Ai[q]] = fmax(d[Ai[q]], fabs(Ax[q]));
    for (fold_int j = 0; j < n; j++) {
        if (!(d[j] > 0.0)) d[j] = scale > 0.0 ? scale : 1.0;
        Dp[j] = j;
        Di[j] = j;
        Dx[j] = j < n_primal ? d[j] : -d[j];
    }
    Dp[n] = n;
    double one[2] = {1.0, 0.0}, dl[2] = {r->delta, 0.0};
    if (r->M) cholmod_l_free_sparse(&r->M, cm);
    r->M = cholmod_l_add((cholmod_sparse *)A, D, one, dl, 1, 1, cm);
    cholmod_l_free_sparse(&D, cm);
    if (!r->M)
        return fold_error_context(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                      : FOLD_ERR_INTERNAL,
                                  "singular-system regularization: A + delta D");
    return FOLD_OK;
}

static bool same_pattern(const cholmod_sparse *A, const cholmod_sparse *B)
{
    const fold_int *Ap = A->p, *Bp = B->p, *Ai = A->i, *Bi = B->i;
    fold_int n = (fold_int)A->ncol;
    if (memcmp(Ap, Bp, (size_t)(n + 1) * sizeof *Ap) != 0) return false;
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
    if ((st = build_m(r, A, n_primal, scale, cm))) return st;
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
        if (st) return st;
        r->symbolic_on_M = true;
    }
    double t0 = fold_time_now();
    /* The pivots of the null directions are about delta d_i, a pivot ratio of about rel
     * (UMFPACK scales rows by their sums); one far below it is a rounding-level pivot that
     * the regularization does not reach (eq. 4.8). */
    st = fold_la_umf_factor(u, r->M, fmin(rcond_min, 1e-3 * r->rel));
    *factor_s += fold_time_now() - t0;
    if (st == FOLD_ERR_SINGULAR)
        return fold_error(FOLD_ERR_SINGULAR,
                          "A + delta diag(d_x, -d_y) is singular too (delta = %.3g, UMFPACK "
                          "rcond %.3g)",
                          r->delta, u->rcond);
    return st;
}

/* The probe of eq. 4.10 for the factorization of M now in F, kept in F->probe_z. */
fold_status fold_la_preg_probe(fold_la_factor *F)
{
    if (F->preg.pinned) return fold_la_pin_probe(F); /* the pins are the null vectors */
    fold_status st;
    fold_int n = F->n;
    if (!F->probe_z &&
        !(F->probe_z = fold_malloc((size_t)n, sizeof *F->probe_z, "null-space probe")))
        return FOLD_ERR_MEMORY;
    double *z = F->probe_z;
    const double *d = F->preg.d;
    double *y = fold_malloc((size_t)n, sizeof *y, "null-space probe");
    if (!y) return FOLD_ERR_MEMORY;
    fold_la_probe_start(n, z); /* a fixed sequence: results are reproducible */
    if ((st = fold_la_probe_iterate(F, NULL, z, y))) {
        free(y);
        return st;
    }
    double res = fold_la_probe_residual(F, z, y);
    fold_la_probe_cut(n, d, z);
    free(y);
    F->probe_residual = res;
    F->probe_valid = true;
    return FOLD_OK;
}

fold_status fold_la_factor_null_probe(fold_la_factor *F, double *z, double *residual)
{
    const char *fn = "fold_la_factor_null_probe";
    fold_status st;
    if ((st = fold_check_not_null(F, fn, "F")) || (st = fold_check_not_null(z, fn, "z"))) return st;
    if (!F->is_factored || !(F->preg.delta > 0.0))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: no regularized factorization in use", fn);
    if (!F->probe_valid && (st = fold_la_preg_probe(F))) return st;
    memcpy(z, F->probe_z, (size_t)F->n * sizeof *z);
    *residual = F->probe_residual;
    return FOLD_OK;
}
