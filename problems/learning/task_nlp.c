/* Ipopt-solved layers: forward by fold_solve, backward by fold_vjp with the upstream
 * gradient on x (doc/learning.md §2, doc/math.md §1). */
#include <stdlib.h>

#include "learning/tasks.h"

fold_status learn_nlp_layer_init(learn_nlp_layer *L, const fold_nlp_def *def, int backward)
{
    fold_settings s;
    fold_status st;
    L->sample = -1;
    L->n = def->n;
    L->np = def->np;
    fold_settings_default(&s);
    s.forward.tol = 1e-10; /* the fold differentiates the returned point: solve it tightly */
    s.forward.warm_start = false; /* each sample solved from the same start: reproducible */
    s.active_set.weak_policy = FOLD_WEAK_INACTIVE;
    /* UMFPACK LU of the KKT matrix: on the 50-asset portfolio (risk multiplier ~500) the
     * regularized CHOLMOD LDL' left 1e-5 relative errors that refinement did not remove. */
    s.backward.factorization = FOLD_FACTOR_UMFPACK;
    s.backward.method = backward == LEARN_BACKWARD_LFPI    ? FOLD_BACKWARD_LFPI
                        : backward == LEARN_BACKWARD_GMRES ? FOLD_BACKWARD_GMRES
                                                           : FOLD_BACKWARD_DIRECT;
    /* MUMPS' default workspace (1000 % of its estimate) dominates the time of these small
     * solves; Ipopt enlarges it on demand when MUMPS reports too little. */
    if ((st = fold_settings_set_ipopt(&s, "print_level", "0")) ||
        (st = fold_settings_set_ipopt(&s, "sb", "yes")) ||
        (st = fold_settings_set_ipopt(&s, "mumps_mem_percent", "10")))
        return learn_error(st, "learn_task_create: %s: Ipopt options: %s", def->name,
                           fold_last_error());
    if ((st = fold_problem_create(def, &L->prob)) != FOLD_OK)
        return learn_error(st, "learn_task_create: %s: %s", def->name, fold_last_error());
    if ((st = fold_solver_create(L->prob, &s, &L->solver)) != FOLD_OK)
        return learn_error(st, "learn_task_create: %s: %s", def->name, fold_last_error());
    return FOLD_OK;
}

fold_status learn_nlp_layer_forward(learn_nlp_layer *L, fold_int i, const double *p, double *x)
{
    fold_forward_info info;
    fold_status st;
    L->sample = -1;
    for (fold_int j = 0; j < L->np; j++)
        if (!isfinite(p[j]))
            return learn_error(FOLD_ERR_NONFINITE, "forward: sample %lld: parameter[%lld] = %g",
                               (long long)i, (long long)j, p[j]);
    st = fold_solve(L->solver, p, &info);
    if (st < 0)
        return learn_error(st, "forward: sample %lld: %s (%s)", (long long)i,
                           fold_forward_status_string(info.status), fold_last_error());
    if ((st = fold_solver_solution(L->solver, x, NULL, NULL, NULL, NULL)) != FOLD_OK)
        return learn_error(st, "forward: sample %lld: %s", (long long)i, fold_last_error());
    L->sample = i;
    return FOLD_OK;
}

fold_status learn_nlp_layer_vjp(learn_nlp_layer *L, fold_int i, const double *xbar,
                                double *pbar)
{
    fold_backward_info info;
    fold_status st;
    if (L->sample != i)
        return learn_error(FOLD_ERR_NOT_SOLVED, "vjp: sample %lld is not the last solved one",
                           (long long)i);
    st = fold_vjp(L->solver, xbar, NULL, NULL, NULL, pbar, &info);
    if (st < 0)
        return learn_error(st, "vjp: sample %lld: %s", (long long)i, fold_last_error());
    return FOLD_OK;
}

void learn_nlp_layer_free(learn_nlp_layer *L)
{
    fold_solver_free(L->solver);
    fold_problem_free(L->prob);
    L->solver = NULL;
    L->prob = NULL;
}
