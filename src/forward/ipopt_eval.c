/* Adapters from Ipopt's C callbacks to the problem's callbacks (through fold_prob_eval_*,
 * with the parameters p of the solve bound), the cached int sparsity structure, the
 * intermediate callback (iteration count, wall-clock limit, stall and floor tests) and the
 * status mapping.
 * Lagrangian convention of doc/math.md (2.2) is Ipopt's own, so values pass unchanged. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "forward/ipopt_internal.h"

/* Ipopt's callback signatures pass arguments (n, new_x, m, ...) an adapter may not need. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

fold_status fold_ipopt_check_size(fold_int n, fold_int m, fold_int nnz_jac, fold_int nnz_hess)
{
    static const char *FN = "fold_solve";
    /* Ipopt forms the KKT system of dimension about 2n + 2m internally, but only the
     * sizes it is given must fit its int Index; MUMPS reports larger failures itself. */
    if (n > INT_MAX)
        return fold_error(FOLD_ERR_TOO_LARGE, "%s: n = %lld exceeds Ipopt's Index (int)", FN,
                          (long long)n);
    if (m > INT_MAX)
        return fold_error(FOLD_ERR_TOO_LARGE, "%s: m = %lld exceeds Ipopt's Index (int)", FN,
                          (long long)m);
    if (n + m > INT_MAX)
        return fold_error(FOLD_ERR_TOO_LARGE, "%s: n + m = %lld exceeds Ipopt's Index (int)", FN,
                          (long long)(n + m));
    if (nnz_jac > INT_MAX)
        return fold_error(FOLD_ERR_TOO_LARGE, "%s: jac_g.nnz = %lld exceeds Ipopt's Index (int)",
                          FN, (long long)nnz_jac);
    if (nnz_hess > INT_MAX)
        return fold_error(FOLD_ERR_TOO_LARGE, "%s: hess_l.nnz = %lld exceeds Ipopt's Index (int)",
                          FN, (long long)nnz_hess);
    return FOLD_OK;
}

static void structure_free(void *ptr)
{
    fold_ipopt_structure *t = ptr;
    if (!t) return;
    free(t->jac_row);
    free(t->jac_col);
    free(t->hess_row);
    free(t->hess_col);
    free(t);
}

static int *to_int(const fold_int *src, fold_int nnz, int pad, const char *what)
{
    int *dst = fold_malloc((size_t)(nnz > 0 ? nnz : pad), sizeof *dst, what);
    if (!dst) return NULL;
    for (fold_int k = 0; k < nnz; k++)
        dst[k] = (int)src[k];
    if (nnz == 0 && pad) dst[0] = 0;
    return dst;
}

const fold_ipopt_structure *fold_ipopt_structure_get(fold_solver *s)
{
    const fold_problem *prob = s->prob;
    fold_ipopt_structure *t;
    if (s->forward) return s->forward;
    t = fold_calloc(1, sizeof *t, "Ipopt structure");
    if (!t) return NULL;
    t->jac_dummy = prob->m > 0 && prob->jac_g.nnz == 0;
    t->nnz_jac = t->jac_dummy ? 1 : (int)prob->jac_g.nnz;
    t->nnz_hess = fold_prob_has_hessian(prob) ? (int)prob->hess_l.nnz : 0;
    t->jac_row = to_int(prob->jac_g.row, prob->jac_g.nnz, 1, "Ipopt jac_g rows");
    t->jac_col = to_int(prob->jac_g.col, prob->jac_g.nnz, 1, "Ipopt jac_g cols");
    t->hess_row = to_int(prob->hess_l.row, t->nnz_hess, 1, "Ipopt hess_l rows");
    t->hess_col = to_int(prob->hess_l.col, t->nnz_hess, 1, "Ipopt hess_l cols");
    if (!t->jac_row || !t->jac_col || !t->hess_row || !t->hess_col) {
        structure_free(t);
        return NULL;
    }
    s->forward = t;
    s->forward_free = structure_free;
    return t;
}

/* Translate a checked evaluation's status into Ipopt's Bool. A recoverable failure or a
 * non-finite output returns FALSE, so that Ipopt backtracks (it treats NaN the same way);
 * a fatal one is recorded and every later callback fails fast until the intermediate
 * callback stops the run. */
static Bool take(fold_ipopt_ctx *c, fold_status st)
{
    if (st == FOLD_OK) return TRUE;
    if (st == FOLD_CB_RECOVERABLE) return FALSE;
    if (st == FOLD_ERR_NONFINITE) {
        c->nonfinite = true;
        snprintf(c->nonfinite_msg, sizeof c->nonfinite_msg, "%s", fold_last_error());
        return FALSE;
    }
    if (c->fatal == FOLD_OK) {
        c->fatal = st;
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "%s", fold_last_error());
    }
    return FALSE;
}

Bool fold_ipopt_eval_f(Index n, Number *x, Bool new_x, Number *obj, UserDataPtr ud)
{
    fold_ipopt_ctx *c = ud;
    if (c->fatal) return FALSE;
    return take(c, fold_prob_eval_f(c->prob, x, c->p, obj, c->stats));
}

Bool fold_ipopt_eval_grad_f(Index n, Number *x, Bool new_x, Number *grad, UserDataPtr ud)
{
    fold_ipopt_ctx *c = ud;
    if (c->fatal) return FALSE;
    return take(c, fold_prob_eval_grad_f(c->prob, x, c->p, grad, c->stats));
}

Bool fold_ipopt_eval_g(Index n, Number *x, Bool new_x, Index m, Number *g, UserDataPtr ud)
{
    fold_ipopt_ctx *c = ud;
    if (c->fatal) return FALSE;
    return take(c, fold_prob_eval_g(c->prob, x, c->p, g, c->stats));
}

Bool fold_ipopt_eval_jac_g(Index n, Number *x, Bool new_x, Index m, Index nele, Index *row,
                           Index *col, Number *values, UserDataPtr ud)
{
    fold_ipopt_ctx *c = ud;
    const fold_ipopt_structure *t = c->structure;
    if (!values) {
        memcpy(row, t->jac_row, (size_t)t->nnz_jac * sizeof *row);
        memcpy(col, t->jac_col, (size_t)t->nnz_jac * sizeof *col);
        return TRUE;
    }
    if (c->fatal) return FALSE;
    if (t->jac_dummy) {
        values[0] = 0;
        return TRUE;
    }
    return take(c, fold_prob_eval_jac_g(c->prob, x, c->p, values, c->stats));
}

Bool fold_ipopt_eval_h(Index n, Number *x, Bool new_x, Number obj_factor, Index m, Number *lam,
                       Bool new_lam, Index nele, Index *row, Index *col, Number *values,
                       UserDataPtr ud)
{
    fold_ipopt_ctx *c = ud;
    const fold_ipopt_structure *t = c->structure;
    if (!values) {
        memcpy(row, t->hess_row, (size_t)t->nnz_hess * sizeof *row);
        memcpy(col, t->hess_col, (size_t)t->nnz_hess * sizeof *col);
        return TRUE;
    }
    if (c->fatal) return FALSE;
    return take(c, fold_prob_eval_hess_l(c->prob, x, c->p, obj_factor, lam, values, c->stats));
}

/* The median of the primal steps recorded at the first barrier parameter, the last
 * FOLD_IPOPT_STEP_WINDOW of them if more (the mean of the two middle ones for an even count);
 * 1 (no sign of a stall) if none. */
static double median_step(const fold_ipopt_ctx *c)
{
    double w[FOLD_IPOPT_STEP_WINDOW];
    int n = c->n_steps < FOLD_IPOPT_STEP_WINDOW ? c->n_steps : FOLD_IPOPT_STEP_WINDOW;
    if (n == 0) return 1.0;
    for (int k = 0; k < n; k++)
        w[k] = c->steps[(c->n_steps - 1 - k) % FOLD_IPOPT_STEP_WINDOW];
    qsort(w, (size_t)n, sizeof *w, fold_cmp_double);
    return n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
}

Bool fold_ipopt_intermediate(Index alg_mod, Index iter, Number obj, Number inf_pr, Number inf_du,
                             Number mu, Number d_norm, Number reg, Number alpha_du, Number alpha_pr,
                             Index ls_trials, UserDataPtr ud)
{
    fold_ipopt_ctx *c = ud;
    c->iterations = iter;
    c->has_iterated = true;
    if (c->fatal) return FALSE;
    /* max_cpu_time bounds CPU time only; the documented limit is wall clock. */
    if (c->time_limit_s > 0 && fold_time_now() - c->t_start > c->time_limit_s) {
        c->timed_out = true;
        return FALSE;
    }
    if (alg_mod != 0) return TRUE; /* the restoration phase has its own barrier problem */
    /* doc/math.md §3.2, doc/api/solver.md "Floor": a solve still short of its tol floor_iter
     * iterations after its barrier parameter came down to floor_mu (a tightening re-solve:
     * from its start) sits at the floor of its residuals; it ends at an acceptable iterate
     * (Ipopt's acceptable_tol 1e-6 on the dual infeasibility, conservative for the constraint
     * violation) instead of Ipopt's 15 consecutive ones. This test comes before Ipopt's own
     * convergence test of the iterate, hence "after". */
    if (c->floor_iter > 0 && iter == 0 && !c->floor_at_start && mu <= c->floor_mu)
        c->floor_iter = 0; /* a warm solve that starts at its floor (a small mu_init) */
    if (c->floor_iter > 0) {
        if (c->floor_from < 0 && (c->floor_at_start || mu <= c->floor_mu)) {
            c->floor_from = iter;
            c->floor_best_du = HUGE_VAL;
        }
        if (c->floor_from >= 0) {
            /* a solve that still lowers its dual infeasibility (a quasi-Newton one creeping
             * to tol, Ipopt's watchdog about to take a full step) is not at its floor; a
             * tightening re-solve starts at its floor */
            if (inf_du < c->floor_best_du) {
                c->floor_best_du = inf_du;
                c->floor_stale = 0;
            } else {
                c->floor_stale++;
            }
            bool stale = c->floor_at_start || c->floor_stale >= FOLD_IPOPT_FLOOR_STALE;
            if (iter > c->floor_from + c->floor_iter && stale &&
                inf_du <= FOLD_IPOPT_ACCEPTABLE_TOL && inf_pr <= FOLD_IPOPT_ACCEPTABLE_TOL) {
                c->at_floor = true;
                return FALSE;
            }
        }
    }
    /* doc/api/solver.md "Stalls", the adaptive re-run of a stalled solve: short steps over
     * its last 20 iterations, whatever mu does, at its first iteration outside the
     * restoration phase from rescue_iter on */
    if (c->rescue) {
        if (iter == 0) return TRUE;
        c->steps[c->n_steps++ % FOLD_IPOPT_STEP_WINDOW] = alpha_pr;
        if (c->rescue_iter > 0 && iter >= c->rescue_iter) {
            c->rescue_iter = 0;
            if (median_step(c) <= c->stall_step) {
                c->rescue_stalled = true;
                return FALSE;
            }
        }
        return TRUE;
    }
    /* doc/api/solver.md "Stalls": still in the first barrier problem at iteration stall_iter,
     * or its dual infeasibility grown stall_growth-fold there, or at iteration stall_step_iter
     * with short primal steps. The first barrier problem is that of the first step: from a
     * warm start near a solution of the initial one Ipopt lowers mu before it, and a solve
     * that then stalls is as stuck (seen: 627 iterations at steps of about 3e-4) */
    if (iter == 0) c->du0 = inf_du;
    if (iter <= 1) c->mu0 = mu;
    if (iter > 0 && mu >= c->mu0) {
        c->steps[c->n_steps++ % FOLD_IPOPT_STEP_WINDOW] = alpha_pr;
        if (c->stall_iter > 0 && iter == c->stall_iter)
            c->stall_why = "after";
        else if (c->stall_step_iter > 0 && iter == c->stall_step_iter &&
                 median_step(c) <= c->stall_step)
            c->stall_why = "with a median primal step of at most forward.stall_step over its "
                           "last 20 iterations after";
        else if (c->stall_growth > 0 && c->du0 > 0 && inf_du > c->stall_growth * c->du0)
            c->stall_why = "and its dual infeasibility grown past forward.stall_dual_growth "
                           "times its start after";
        if (c->stall_why) return FALSE;
    }
    return TRUE;
}

int fold_ipopt_map_status(int raw)
{
    switch (raw) {
    case Solve_Succeeded:
        return FOLD_FWD_SOLVED;
    case Solved_To_Acceptable_Level:
        return FOLD_FWD_ACCEPTABLE;
    case Infeasible_Problem_Detected:
        return FOLD_FWD_INFEASIBLE;
    case Diverging_Iterates:
        return FOLD_FWD_DIVERGING;
    case User_Requested_Stop:
        return FOLD_FWD_USER_STOP;
    case Maximum_Iterations_Exceeded:
        return FOLD_FWD_MAX_ITER;
    case Maximum_CpuTime_Exceeded:
        return FOLD_FWD_MAX_TIME;
    case Search_Direction_Becomes_Too_Small:
    case Feasible_Point_Found: /* restoration found a feasible point, not a KKT point */
    case Restoration_Failed:
    case Error_In_Step_Computation:
        return FOLD_FWD_NUMERICAL;
    case Not_Enough_Degrees_Of_Freedom:
    case Invalid_Problem_Definition:
    case Invalid_Option:
    case Invalid_Number_Detected:
        return FOLD_FWD_INVALID;
    default: /* exceptions, insufficient memory, internal error */
        return FOLD_FWD_ERROR;
    }
}
