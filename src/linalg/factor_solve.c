/* Solves with a fold_la_factor: iterative refinement against the unregularized A
 * (componentwise backward error), the AUTO switch to LU when LDL' misses tol, and the
 * consistency test of solves with a regularized factor of a singular A. doc/math.md §4.3,
 * §4.8. */
#include <float.h>

#include "linalg/linalg_internal.h"

static fold_status factor_apply_inverse(fold_la_factor *F, bool transpose, fold_int nrhs,
                                        const double *B, double *X)
{
    /* A is symmetric on the LDL' path, so A' X = B is the same solve. */
    if (F->info.factorization == FOLD_FACTOR_CHOLMOD) return fold_la_ldl_solve(&F->ldl, nrhs, B, X);
    return fold_la_umf_solve(&F->umf, F->preg.delta > 0.0 ? F->preg.M : F->A, transpose, nrhs, B,
                             X);
}

/* The right-hand sides a pinned factor solves (eq. 4.12c): B with its pinned rows zeroed,
 * copied into out (n nrhs); B itself for any other factor. */
static const double *pinned_rows_zeroed(const fold_la_factor *F, fold_int nrhs, const double *B,
                                        double *out)
{
    if (!F->preg.pinned) return B;
    memcpy(out, B, (size_t)(F->n * nrhs) * sizeof *out);
    for (fold_int c = 0; c < nrhs; c++)
        for (fold_int k = 0; k < F->preg.n_pin; k++)
            out[c * F->n + F->preg.pin[k]] = 0.0;
    return out;
}

/* Eqs. 4.3, 4.4: x <- x + inv(M) (b - A x), r measured against the unregularized A, per
 * column, stopping a column when it meets tol or its residual stops decreasing. With a
 * regularized factor a column also needs a last correction below FOLD_LA_PREG_ETA of the
 * solution (eq. 4.9); bad[c] = 1 for a column that never got there (inconsistent), and
 * *worst is the largest residual of the other columns. ws: 3 n nrhs; cw: 3 nrhs. */
static fold_status factor_refined_solve(fold_la_factor *F, bool transpose, fold_int nrhs,
                                        const double *B, double *X, int refine_steps, double tol,
                                        double *ws, double *cw, double *worst, unsigned char *bad,
                                        fold_int *n_bad)
{
    fold_int n = F->n;
    double *R = ws, *D = ws + n * nrhs, *Xprev = ws + 2 * n * nrhs;
    double *res = cw, *dr = cw + nrhs, *act = cw + 2 * nrhs;
    double anorm = transpose ? F->norm_1 : F->norm_inf;
    /* A pinned factor (eq. 4.12c) solves for zero pinned entries from right-hand sides
     * whose pinned rows are zeroed; dr[c] then holds the residual of those rows, which no
     * correction reduces: the column's consistency. */
    const bool pinned = F->preg.pinned;
    const fold_int *pin = F->preg.pin, n_pin = pinned ? F->preg.n_pin : 0;
    bool preg = F->preg.delta > 0.0 && !pinned;
    int max_steps = preg ? refine_steps + FOLD_LA_PREG_EXTRA_STEPS : refine_steps;
    fold_status st = factor_apply_inverse(F, transpose, nrhs, pinned_rows_zeroed(F, nrhs, B, R), X);
    if (st) return st;
    for (fold_int c = 0; c < nrhs; c++) {
        res[c] = HUGE_VAL;
        dr[c] = preg ? HUGE_VAL : 0.0;
    }
    for (int step = 0;; step++) {
        bool active = false;
        *worst = 0.0;
        for (fold_int c = 0; c < nrhs; c++) {
            double *x = X + c * n, *r = R + c * n;
            const double *b = B + c * n;
            act[c] = 0.0;
            /* converged, or stalled (stored negated) */
            if (res[c] < 0 || (res[c] <= tol && (pinned || dr[c] <= FOLD_LA_PREG_ETA))) {
                *worst = fold_la_max(*worst, fabs(res[c]));
                continue;
            }
            fold_la_residual(F->A, transpose || F->exact_sym, x, b, r, F->work);
            double xn = 0.0, bn = 0.0, rc = 0.0;
            for (fold_int i = 0; i < n; i++) {
                xn = fold_la_max(xn, fabs(x[i]));
                bn = fold_la_max(bn, fabs(b[i]));
            }
            /* Componentwise backward error (4.4): a row's residual against that row's own
             * scale |A||x| + |b|, floored at eps times the normwise scale; with a
             * regularized factor, (|A| + delta |D|) |x| (§4.8): a row whose terms are
             * rounding keeps the noise delta d_i |x_i| that every correction by M leaves. */
            double floor_den = DBL_EPSILON * (anorm * xn + bn);
            if (pinned) {
                double rp = 0.0;
                for (fold_int k = 0; k < n_pin; k++) {
                    fold_int i = pin[k];
                    double den = F->work[i] + fabs(b[i]) + floor_den;
                    if (r[i] != 0.0) rp = fold_la_max(rp, den > 0.0 ? fabs(r[i]) / den : HUGE_VAL);
                    r[i] = 0.0;
                }
                dr[c] = isnan(rp) ? HUGE_VAL : rp;
            }
            for (fold_int i = 0; i < n; i++) {
                double den = F->work[i] + fabs(b[i]) + floor_den;
                if (preg) den += F->preg.delta * F->preg.d[i] * fabs(x[i]);
                double ri = fabs(r[i]);
                if (ri > 0.0) rc = fold_la_max(rc, den > 0.0 ? ri / den : HUGE_VAL);
            }
            if (isnan(rc)) rc = HUGE_VAL;
            if (step > 0 && !(rc < res[c]) && !(preg && rc <= tol)) {
                /* refinement stalled: keep the previous x */
                memcpy(x, Xprev + c * n, (size_t)n * sizeof *x);
                res[c] = -res[c];
            } else {
                res[c] = rc;
                if (rc > tol || (!pinned && dr[c] > FOLD_LA_PREG_ETA)) {
                    active = true;
                    act[c] = 1.0;
                    memcpy(Xprev + c * n, x, (size_t)n * sizeof *x);
                }
            }
            *worst = fold_la_max(*worst, fabs(res[c]));
        }
        if (!active || step >= max_steps) break;
        /* only the columns still refining are solved (R's active columns moved to its front,
         * in place): a block's inconsistent columns would otherwise make every column pay
         * each of their steps */
        fold_int na = fold_la_refine_pack(n, nrhs, act, R);
        if ((st = factor_apply_inverse(F, transpose, na, R, D))) return st;
        fold_la_refine_correct(n, nrhs, act, D, X, preg, dr);
    }
    *worst = 0.0;
    *n_bad = 0;
    for (fold_int c = 0; c < nrhs; c++) {
        bad[c] = dr[c] > (pinned ? FOLD_LA_PIN_ETA : FOLD_LA_PREG_ETA);
        *n_bad += bad[c];
        if (!bad[c]) *worst = fold_la_max(*worst, fabs(res[c]));
    }
    return FOLD_OK;
}

fold_status fold_la_factor_apply(fold_la_factor *F, bool transpose, fold_int nrhs, const double *B,
                                 double *X)
{
    const char *fn = "fold_la_factor_apply";
    fold_status st;
    if ((st = fold_check_not_null(F, fn, "F")) || (st = fold_check_dim(nrhs, 0, fn, "nrhs")))
        return st;
    if (nrhs > 0 &&
        ((st = fold_check_not_null(B, fn, "B")) || (st = fold_check_not_null(X, fn, "X"))))
        return st;
    if (!F->is_factored)
        return fold_error(FOLD_ERR_SINGULAR,
                          "%s: no valid factorization (the last "
                          "factorization failed)",
                          fn);
    if (nrhs == 0) return FOLD_OK;
    double *Bm = NULL; /* a pinned factor: the solution with zero pinned entries (4.12c) */
    if (F->preg.pinned &&
        !(Bm = fold_malloc((size_t)(F->n * nrhs), sizeof *Bm, "pinned right-hand sides")))
        return fold_error_context(FOLD_ERR_MEMORY, "%s", fn);
    st = factor_apply_inverse(F, transpose, nrhs, pinned_rows_zeroed(F, nrhs, B, Bm), X);
    free(Bm);
    if (st) return fold_error_context(st, "%s", fn);
    return FOLD_OK;
}

bool fold_la_factor_pinned(const fold_la_factor *F)
{
    return F && F->is_factored && F->preg.pinned;
}

fold_status fold_la_factor_solve_cols(fold_la_factor *F, bool transpose, fold_int nrhs,
                                      const double *B, double *X, int refine_steps, double tol,
                                      double *residual, unsigned char *bad, fold_int *n_bad)
{
    const char *fn = "fold_la_factor_solve";
    fold_status st;
    if ((st = fold_check_not_null(F, fn, "F")) || (st = fold_check_dim(nrhs, 0, fn, "nrhs")))
        return st;
    if (nrhs > 0 &&
        ((st = fold_check_not_null(B, fn, "B")) || (st = fold_check_not_null(X, fn, "X")) ||
         (st = fold_check_not_null(bad, fn, "bad"))))
        return st;
    if (refine_steps < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: refine_steps = %d < 0", fn, refine_steps);
    if (!(tol >= 0.0)) return fold_error(FOLD_ERR_ARGUMENT, "%s: tol = %g, need >= 0", fn, tol);
    if (!F->is_factored)
        return fold_error(FOLD_ERR_SINGULAR,
                          "%s: no valid factorization (the last "
                          "factorization failed)",
                          fn);
    if ((st = fold_check_finite(B, F->n * nrhs, fn, "B"))) return st;
    if (n_bad) *n_bad = 0;
    if (nrhs == 0) {
        if (residual) *residual = 0.0;
        return FOLD_OK;
    }
    size_t len = (size_t)(F->n * nrhs), need = 4 * len + 3 * (size_t)nrhs;
    if (F->solve_ws_len < need) {
        free(F->solve_ws);
        F->solve_ws_len = 0;
        if (!(F->solve_ws = fold_malloc(need, sizeof *F->solve_ws, "refinement workspace")))
            return FOLD_ERR_MEMORY;
        F->solve_ws_len = need;
    }
    double *Xt = F->solve_ws, *ws = Xt + len, *res = ws + 3 * len;
    fold_int nb = 0;
    double worst = HUGE_VAL;
    st = factor_refined_solve(F, transpose, nrhs, B, Xt, refine_steps, tol, ws, res, &worst, bad,
                              &nb);
    if (!st && !(worst <= tol) && F->kind == FOLD_FACTOR_AUTO &&
        F->info.factorization == FOLD_FACTOR_CHOLMOD) {
        /* AUTO: LDL' + refinement missed tol (§4.4), so switch to LU for good. */
        fold_error(FOLD_WARN_INACCURATE,
                   "CHOLMOD LDL' refined residual %.3g > tol %.3g after "
                   "%d refinement steps",
                   worst, tol, refine_steps);
        F->is_factored = false;
        F->info.analyze_s = F->info.factor_s = 0.0;
        if (!(st = fold_la_factor_fall_back(F))) {
            F->is_factored = true;
            st = factor_refined_solve(F, transpose, nrhs, B, Xt, refine_steps, tol, ws, res, &worst,
                                      bad, &nb);
        }
    }
    if (st) return fold_error_context(st, "%s", fn);
    memcpy(X, Xt, len * sizeof *X);
    if (residual) *residual = worst;
    if (n_bad) *n_bad = nb;
    if (nb < nrhs && !(worst <= tol))
        return fold_error(FOLD_WARN_INACCURATE,
                          "%s: relative residual %.3g > tol %.3g after "
                          "%d refinement steps (%s)",
                          fn, worst, tol, refine_steps,
                          F->info.factorization == FOLD_FACTOR_CHOLMOD
                              ? "CHOLMOD LDL': A may be singular or delta too large"
                              : "UMFPACK LU: A is ill-conditioned");
    return FOLD_OK;
}

fold_status fold_la_factor_solve(fold_la_factor *F, bool transpose, fold_int nrhs, const double *B,
                                 double *X, int refine_steps, double tol, double *residual)
{
    unsigned char one, *bad = nrhs > 1 ? fold_malloc((size_t)nrhs, 1, "column flags") : &one;
    fold_int n_bad = 0;
    if (!bad) return fold_error_context(FOLD_ERR_MEMORY, "fold_la_factor_solve");
    fold_status st = fold_la_factor_solve_cols(F, transpose, nrhs, B, X, refine_steps, tol,
                                               residual, bad, &n_bad);
    if (bad != &one) free(bad);
    if (st >= 0 && n_bad > 0)
        st = fold_error(FOLD_ERR_SINGULAR,
                        "fold_la_factor_solve: A is singular (solved %s %.3g) and %lld of %lld "
                        "right-hand sides are not in its range: %s",
                        F->preg.pinned ? "with copied columns pinned, delta"
                                       : "with "
                                         "regularization delta =",
                        F->preg.delta, (long long)n_bad, (long long)nrhs,
                        F->preg.pinned ? "their pinned rows keep a residual"
                                       : "their refinement corrections do not decrease");
    return st;
}
