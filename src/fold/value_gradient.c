/* Gradient of the optimal value by the envelope theorem, grad f*(p) = df/dp + g_p' lam and
 * the terms of bounds that move with p (doc/math.md §3.7, eq. 3.30), and its one-sided
 * derivatives where the multipliers or the solution are not unique (§3.7, value_kink.c). */
#include "fold/fold_internal.h"

/* df/dp + g_p' lam and the moving bounds' terms at the stored solution into grad (np). */
static fold_status envelope(const fold_solver *solver, double *grad, const char *fn)
{
    const fold_problem *prob = solver->prob;
    fold_status st;
    double *gpv = fold_malloc((size_t)(prob->jac_g_p.nnz + 1), sizeof(double), "jac_g_p values");
    if (!gpv) return FOLD_ERR_MEMORY;
    if ((st = fold_prob_eval_grad_f_p(prob, solver->x, solver->p, grad, NULL)) ||
        (st = fold_prob_eval_jac_g_p(prob, solver->x, solver->p, gpv, NULL))) {
        if (st == FOLD_CB_RECOVERABLE)
            st = fold_error(FOLD_ERR_CALLBACK,
                            "%s: a parameter-derivative callback failed "
                            "(recoverable code) at the solution",
                            fn);
        else
            st = fold_error_context(st, "%s", fn);
        free(gpv);
        return st;
    }
    /* eq. 3.20: grad f*(p) = df/dp + sum_i lam_i dg_i/dp. */
    for (fold_int k = 0; k < prob->jac_g_p.nnz; k++)
        grad[prob->jac_g_p.col[k]] += solver->lam[prob->jac_g_p.row[k]] * gpv[k];
    fold_kkt_bound_value_gradient(solver, grad); /* bounds moving with p (eq. 3.30) */
    free(gpv);
    return FOLD_OK;
}

/* The envelope gradient, and with left / right (either may be NULL) the one-sided
 * derivatives; grad is NaN where they differ (the trust report lists those parameters). */
static fold_status value_call(fold_solver *solver, double *grad, double *left, double *right,
                              const char *fn)
{
    fold_status chk, st;
    if ((chk = fold_kkt_check_solution(solver, fn)) < 0) return chk;
    const fold_problem *prob = solver->prob;
    fold_int np = prob->np;
    if (np == 0) return chk;
    if (solver->backward) fold_report_clear(solver->backward);
    size_t len = (size_t)np;
    double *g = fold_malloc(len, sizeof *g, "value gradient");
    double *dlo = fold_malloc(len, sizeof *dlo, "value gradient");
    double *dhi = fold_malloc(len, sizeof *dhi, "value gradient");
    unsigned char *unknown = fold_malloc(len, 1, "value gradient");
    fold_int n_kinks = 0;
    if (!g || !dlo || !dhi || !unknown) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if ((st = envelope(solver, g, fn))) goto done;
    bool kinks = solver->set.active_set.ambiguity != FOLD_AMBIGUITY_IGNORE;
    if (kinks && (st = fold_value_kinks(solver, dlo, dhi, unknown, fn)) < 0) goto done;
    if (!kinks) {
        memset(dlo, 0, len * sizeof *dlo);
        memset(dhi, 0, len * sizeof *dhi);
        memset(unknown, 0, len);
    }
    double tau = fold_trust_tol(solver);
    fold_kkt *kkt = solver->backward;
    if (kkt && kinks && (st = fold_report_sides(kkt, solver))) goto done;
    for (fold_int k = 0; k < np; k++) {
        double lo = unknown[k] ? NAN : g[k] + dlo[k], hi = unknown[k] ? NAN : g[k] + dhi[k];
        bool kink = unknown[k] || !(fabs(hi - lo) <= tau * fmax(1.0, fabs(g[k])));
        if (left) left[k] = kink ? lo : g[k];
        if (right) right[k] = kink ? hi : g[k];
        if (!kink) continue;
        n_kinks++;
        if (fold_report_entry(kkt, FOLD_TRUST_KINK, -1, k, -1, k, g[k], lo, hi) < 0) {
            st = FOLD_ERR_MEMORY;
            goto done;
        }
        g[k] = NAN;
    }
    if (grad) memcpy(grad, g, len * sizeof *g);
    st = chk;
    if (n_kinks > 0)
        st = fold_error(FOLD_WARN_NOT_UNIQUE,
                        "%s: the optimal value is not differentiable with respect to %lld "
                        "parameters (multipliers or solution not unique): NaN in the gradient, "
                        "their left and right derivatives in fold_value_onesided and the trust "
                        "report",
                        fn, (long long)n_kinks);
    else if (st == FOLD_WARN_UNCONVERGED_INPUT)
        fold_error(st, "%s: computed at a forward solution that did not converge", fn);
done:
    free(g);
    free(dlo);
    free(dhi);
    free(unknown);
    return st;
}

fold_status fold_value_gradient(fold_solver *solver, double *grad)
{
    fold_clear_error();
    static const char *FN = "fold_value_gradient";
    if (solver && solver->prob->np > 0 && !grad)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: grad is NULL", FN);
    return value_call(solver, grad, NULL, NULL, FN);
}

fold_status fold_value_onesided(fold_solver *solver, double *left, double *right)
{
    fold_clear_error();
    static const char *FN = "fold_value_onesided";
    if (solver && solver->prob->np > 0 && (!left || !right))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", FN, !left ? "left" : "right");
    fold_status st = value_call(solver, NULL, left, right, FN);
    return st;
}
