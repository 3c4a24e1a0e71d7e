/* Ipopt-solved layers: forward by fold_solve; backward by fold_vjp (direct), by the SQP step
 * at the solution's active set folded with LFPI or GMRES, or by unrolling the SQP iteration
 * run from a fixed start on that active set (doc/learning.md §2, §4.5; doc/math.md §1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learning/tasks.h"

fold_status learn_nlp_layer_init(learn_nlp_layer *L, const fold_nlp_def *def,
                                 learn_sqp_eval_fn eval, learn_sqp_curv_fn curv, void *eval_data)
{
    fold_settings s;
    fold_status st;
    fold_int n = def->n, m = def->m;
    L->sample = -1;
    L->n = n;
    L->m = m;
    L->np = def->np;
    L->backward = LEARN_BACKWARD_DIRECT; /* the task sets its own before each forward */
    L->curv = curv;
    L->step_hessian = LEARN_STEP_IDENTITY;
    L->step_scale = 1.0;
    L->eval = eval;
    L->eval_data = eval_data;
    L->damping = 1.0;
    L->x_lower = def->x_lower;
    L->x_upper = def->x_upper;
    L->g_lower = def->g_lower;
    L->g_upper = def->g_upper;
    L->x_start = def->x_start;
    fold_settings_default(&s);
    s.forward.tol = 1e-10;        /* the fold differentiates the returned point: solve it tightly */
    s.forward.warm_start = false; /* each sample solved from the same start: reproducible */
    s.active_set.weak_policy = FOLD_WEAK_INACTIVE;
    /* UMFPACK LU of the KKT matrix: on the 50-asset portfolio (risk multiplier ~500) the
     * regularized CHOLMOD LDL' left 1e-5 relative errors that refinement did not remove. */
    s.backward.factorization = FOLD_FACTOR_UMFPACK;
    L->x = malloc((size_t)n * sizeof(double));
    L->zl = malloc((size_t)n * sizeof(double));
    L->zu = malloc((size_t)n * sizeof(double));
    L->p = malloc((size_t)(def->np + 1) * sizeof(double));
    L->lam = malloc((size_t)(m + 1) * sizeof(double));
    L->lam_act = malloc((size_t)(m + 1) * sizeof(double));
    L->act = malloc((size_t)(m + 1) * sizeof(fold_int));
    L->free_idx = malloc((size_t)n * sizeof(fold_int));
    L->z0 = malloc((size_t)(n + m) * sizeof(double));
    L->zk = malloc((size_t)(n + m) * sizeof(double));
    if (!L->x || !L->zl || !L->zu || !L->p || !L->lam || !L->lam_act || !L->act || !L->free_idx ||
        !L->z0 || !L->zk)
        return learn_error(FOLD_ERR_MEMORY, "learn_task_create: %s: layer", def->name);
    if ((st = fold_problem_create(def, &L->prob)) != FOLD_OK)
        return learn_error(st, "learn_task_create: %s: %s", def->name, fold_last_error());
    if ((st = fold_solver_create(L->prob, &s, &L->solver)) != FOLD_OK)
        return learn_error(st, "learn_task_create: %s: %s", def->name, fold_last_error());
    /* MUMPS' default workspace (1000 % of its estimate) dominates the time of these small
     * solves; Ipopt enlarges it on demand when MUMPS reports too little. */
    static const char *const ipopt[] = {"print_level",       "0",  "sb", "yes",
                                        "mumps_mem_percent", "10", NULL};
    if ((st = fold_solver_set_ipopt_options(L->solver, ipopt)) != FOLD_OK)
        return learn_error(st, "learn_task_create: %s: Ipopt options: %s", def->name,
                           fold_last_error());
    return FOLD_OK;
}

/* The active set as the KKT fold classifies it with weak_policy = inactive: an item is
 * active when its multiplier exceeds dual_tol * max(1, largest multiplier) (math.md (3.2a));
 * equality rows always. A non-free variable is fixed at its active bound. */
static fold_status build_step(learn_nlp_layer *L)
{
    double big = 1, dtol;
    fold_int nf = 0, na = 0;
    fold_status st;
    learn_sqp_free(L->sqp);
    L->sqp = NULL;
    for (fold_int j = 0; j < L->n; j++)
        big = fmax(big, fmax(fabs(L->zl[j]), fabs(L->zu[j])));
    for (fold_int i = 0; i < L->m; i++)
        big = fmax(big, fabs(L->lam[i]));
    dtol = fold_solver_settings(L->solver)->active_set.dual_tol * big;
    for (fold_int j = 0; j < L->n; j++) {
        if (L->zl[j] > dtol && L->x_lower)
            L->x[j] = L->x_lower[j];
        else if (L->zu[j] > dtol && L->x_upper)
            L->x[j] = L->x_upper[j];
        else
            L->free_idx[nf++] = j;
    }
    for (fold_int i = 0; i < L->m; i++)
        if (L->g_lower[i] == L->g_upper[i] || fabs(L->lam[i]) > dtol) {
            L->lam_act[na] = L->lam[i];
            L->act[na++] = i;
        }
    if (nf == 0) /* every variable at a bound: the solution is locally constant */
        return FOLD_OK;
    learn_sqp_def def = {L->n,       nf,   na,         L->free_idx, L->act,  L->x,
                         L->lam_act, L->p, L->damping, L->eval,     L->curv, L->eval_data};
    st = learn_sqp_create(&def, L->step_hessian, L->step_scale, &L->sqp);
    return st;
}

/* The SQP iteration from (x_start_F, 0), to convergence or exactly unroll_iters steps; its
 * last iterate is the layer's output x. */
static fold_status run_unrolled(learn_nlp_layer *L, fold_int i, double *x)
{
    bool fixed = L->unroll_iters > 0;
    double dev = 0, xmax = 0;
    fold_status st;
    learn_sqp_start(L->sqp, L->x_start, L->z0);
    st = learn_sqp_run(L->sqp, L->z0, fixed ? L->unroll_iters : LEARN_SQP_MAX_ITER,
                       fixed ? 0 : LEARN_SQP_TOL, L->zk, x, &L->n_iter);
    if (st != FOLD_OK && !(fixed && st == FOLD_ERR_NOT_CONVERGED))
        return learn_error(st, "forward: sample %lld: %s", (long long)i, fold_last_error());
    /* A nonconvex problem on its active set may have other KKT points: the unrolled layer
     * must be the same function as the folded one. */
    for (fold_int j = 0; j < L->n && !fixed; j++) {
        dev = fmax(dev, fabs(x[j] - L->x[j]));
        xmax = fmax(xmax, fabs(L->x[j]));
    }
    if (dev > LEARN_SQP_AGREE * (1 + xmax))
        return learn_error(FOLD_ERR_NOT_CONVERGED,
                           "forward: sample %lld: the SQP iteration "
                           "converged to another KKT point (max |x - x_ipopt| = %g)",
                           (long long)i, dev);
    return FOLD_OK;
}

fold_status learn_nlp_layer_forward(learn_nlp_layer *L, fold_int i, const double *p, double *x)
{
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
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
    if ((st = fold_solver_solution(L->solver, x, L->lam, L->zl, L->zu, NULL)) != FOLD_OK)
        return learn_error(st, "forward: sample %lld: %s", (long long)i, fold_last_error());
    memcpy(L->x, x, (size_t)L->n * sizeof *x);
    memcpy(L->p, p, (size_t)L->np * sizeof *p);
    L->unrolled = L->backward == LEARN_BACKWARD_UNROLL;
    if (L->unrolled) {
        if ((st = build_step(L)) != FOLD_OK)
            return learn_error(st, "forward: sample %lld: %s", (long long)i, fold_last_error());
        if (!L->sqp) { /* every variable at a bound */
            memcpy(x, L->x, (size_t)L->n * sizeof *x);
            L->n_iter = 0;
        } else if ((st = run_unrolled(L, i, x)) != FOLD_OK) {
            return st;
        }
    }
    L->sample = i;
    return FOLD_OK;
}

fold_status learn_nlp_layer_vjp(learn_nlp_layer *L, fold_int i, const double *xbar, double *pbar,
                                fold_int *iterations, size_t *bytes)
{
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st = FOLD_OK;
    fold_int it = 0;
    size_t by = 0;
    if (L->sample != i)
        return learn_error(FOLD_ERR_NOT_SOLVED, "vjp: sample %lld is not the last solved one",
                           (long long)i);
    if (L->backward == LEARN_BACKWARD_DIRECT) {
        st = fold_vjp(L->solver, &(fold_zbar){.x = xbar}, pbar, &info);
        if (st < 0) return learn_error(st, "vjp: sample %lld: %s", (long long)i, fold_last_error());
    } else if (L->backward == LEARN_BACKWARD_UNROLL) {
        if (!L->unrolled)
            return learn_error(FOLD_ERR_NOT_SOLVED,
                               "vjp: sample %lld: the forward did not run "
                               "the SQP iteration (backward unroll)",
                               (long long)i);
        if (L->sqp)
            st = learn_sqp_unroll_vjp(L->sqp, L->z0, L->n_iter, xbar, pbar, &by);
        else
            memset(pbar, 0, (size_t)L->np * sizeof *pbar);
        it = L->n_iter;
    } else {
        /* the step at the stored solution, with the current Hessian approximation */
        if (!L->unrolled && (st = build_step(L)) != FOLD_OK)
            return learn_error(st, "vjp: sample %lld: %s", (long long)i, fold_last_error());
        if (L->sqp)
            st = learn_sqp_vjp(L->sqp, xbar, L->backward, pbar, &it);
        else
            memset(pbar, 0, (size_t)L->np * sizeof *pbar);
    }
    if (st < 0) return learn_error(st, "vjp: sample %lld: %s", (long long)i, fold_last_error());
    if (iterations) *iterations = it;
    if (bytes) *bytes = by;
    return FOLD_OK;
}

void learn_nlp_layer_free(learn_nlp_layer *L)
{
    learn_sqp_free(L->sqp);
    fold_solver_free(L->solver);
    fold_problem_free(L->prob);
    free(L->x);
    free(L->zl);
    free(L->zu);
    free(L->p);
    free(L->lam);
    free(L->lam_act);
    free(L->act);
    free(L->free_idx);
    free(L->z0);
    free(L->zk);
    memset(L, 0, sizeof *L);
    L->sample = -1;
}
