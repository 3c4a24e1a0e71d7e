/* Gradient of the optimal value by the envelope theorem, grad f*(p) = df/dp + g_p' lam and
 * the terms of bounds that move with p (doc/math.md §3.7, eq. 3.30), and the weakly active
 * list. */
#include "fold/fold_internal.h"

fold_status fold_value_gradient(fold_solver *solver, double *grad)
{
    fold_clear_error();
    static const char *FN = "fold_value_gradient";
    const fold_problem *prob;
    fold_status chk, st;
    double *gp = NULL, *gpv = NULL;
    /* No linear solve: the backward method and the Hessian do not matter here. */
    if ((chk = fold_kkt_check_solution(solver, FN)) < 0) return chk;
    prob = solver->prob;
    if (prob->np > 0 && !grad) return fold_error(FOLD_ERR_ARGUMENT, "%s: grad is NULL", FN);
    if (prob->np == 0) return chk;
    gp = fold_malloc((size_t)prob->np, sizeof(double), "value gradient");
    gpv = fold_malloc((size_t)(prob->jac_g_p.nnz + 1), sizeof(double), "jac_g_p values");
    if (!gp || !gpv) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if ((st = fold_prob_eval_grad_f_p(prob, solver->x, solver->p, gp, NULL)) ||
        (st = fold_prob_eval_jac_g_p(prob, solver->x, solver->p, gpv, NULL))) {
        if (st == FOLD_CB_RECOVERABLE)
            st = fold_error(FOLD_ERR_CALLBACK,
                            "%s: a parameter-derivative callback failed "
                            "(recoverable code) at the solution",
                            FN);
        else
            st = fold_error_context(st, "%s", FN);
        goto done;
    }
    /* eq. 3.20: grad f*(p) = df/dp + sum_i lam_i dg_i/dp. */
    for (fold_int k = 0; k < prob->jac_g_p.nnz; k++)
        gp[prob->jac_g_p.col[k]] += solver->lam[prob->jac_g_p.row[k]] * gpv[k];
    fold_kkt_bound_value_gradient(solver, gp); /* bounds moving with p (eq. 3.30) */
    memcpy(grad, gp, (size_t)prob->np * sizeof(double));
    st = chk;
    if (st == FOLD_WARN_UNCONVERGED_INPUT)
        fold_error(st, "%s: computed at a forward solution that did not converge", FN);
done:
    free(gp);
    free(gpv);
    return st;
}

fold_status fold_weak_list(const fold_solver *solver, fold_weak_entry *out, fold_int cap,
                           fold_int *count)
{
    static const char *FN = "fold_weak_list";
    const fold_kkt *kkt;
    fold_int k;
    if (!solver) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver is NULL", FN);
    if (!count) return fold_error(FOLD_ERR_ARGUMENT, "%s: count is NULL", FN);
    if (cap < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: cap = %lld is negative", FN, (long long)cap);
    if (cap > 0 && !out)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: out is NULL but cap = %lld", FN, (long long)cap);
    kkt = solver->backward;
    if (!kkt) {
        *count = 0;
        return FOLD_OK;
    }
    for (k = 0; k < kkt->n_weak && k < cap; k++)
        out[k] = kkt->weak[k];
    *count = kkt->n_weak;
    return FOLD_OK;
}
