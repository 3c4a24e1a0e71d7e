/* The Ipopt forward backend (C interface of Ipopt 3.11): one run of Ipopt on the NLP (2.1) of
 * doc/math.md at parameters p, giving x and the multipliers (lam, zl, zu) of the Lagrangian
 * (2.2), its status, counts and times; fold_solve (solve.c) drives it.
 * doc/api/solver.md describes settings, statuses, warm starts and Ipopt options. */
#include "forward/ipopt_internal.h"

static const char *FN = "fold_solve";

/* Work arrays of one solve: x, zl, zu (n), g, lam (m), the bounds at p. */
typedef struct solve_arrays {
    double *block, *x, *zl, *zu, *g, *lam, *xl, *xu, *gl, *gu;
} solve_arrays;

static fold_status arrays_alloc(solve_arrays *a, fold_int n, fold_int m)
{
    size_t nn = (size_t)n, mm = (size_t)m;
    a->block = fold_calloc(5 * nn + 4 * mm + 1, sizeof(double), "fold_solve work arrays");
    if (!a->block) return FOLD_ERR_MEMORY;
    a->x = a->block;
    a->zl = a->x + nn;
    a->zu = a->zl + nn;
    a->g = a->zu + nn;
    a->lam = a->g + mm;
    a->xl = a->lam + mm; /* the bounds at p (doc/math.md §2.5) */
    a->xu = a->xl + nn;
    a->gl = a->xu + nn;
    a->gu = a->gl + mm;
    return FOLD_OK;
}

/* How Ipopt starts: cold (no duals given), warm from a given primal-dual point (the caller's
 * fold_solver_set_start, the last solution under forward.warm_start, a point converted to
 * another model), or a tightening re-solve of the stored solution (forward/resolve.c). */
typedef enum start_kind { START_COLD, START_WARM, START_TIGHTEN } start_kind;

/* Ipopt relaxes the bounds by bound_relax_factor (relative) and projects its final point back
 * onto them, which leaves a stationarity residual of about that size on the rows of the
 * variables at a bound whatever tol asks (doc/math.md §2.3 "Bound relaxation"). Cold and warm
 * solves relax by min(1e-8, tol): Ipopt's default at the default tol, where the residual is
 * at the tolerance, and the solves of large cases need up to 1.8 times fewer iterations with
 * it (doc/benchmarks.md "Bound relaxation"); a warm solve after a change of model (the flow
 * variables of an AC-OPF) needs it as much as a cold one. Only the re-solves that tighten an
 * already converged point (resolution rounds, stages) do not relax, so a tightened point
 * carries no such residual. */
static double bound_relax(const fold_settings *set, start_kind start)
{
    return start == START_TIGHTEN ? 0.0 : fmin(1e-8, set->forward.tol);
}

/* Did the caller set Ipopt option `name` (a pass-through option, which wins over foldopt's)? */
static bool user_option(const fold_solver *s, const char *name)
{
    for (fold_int k = 0; k < s->n_ipopt_opt; k++)
        if (!strcmp(s->ipopt_opt[2 * k], name)) return true;
    return false;
}

/* MUMPS's mumps_pivot_order (its ICNTL(7)) of each forward.ordering, in enum order. */
static const int mumps_pivot_order[] = {7, 0, 2, 3, 4, 5, 6};
_Static_assert(sizeof mumps_pivot_order / sizeof *mumps_pivot_order == FOLD_FWD_ORDER_QAMD + 1,
               "one mumps_pivot_order per fold_forward_ordering");

/* Options in order: silence, foldopt's settings, start strategy, then the user's
 * pass-through options (which therefore override foldopt's). */
static fold_status set_options(IpoptProblem ip, const fold_solver *s, const fold_settings *set,
                               const char *mu_init, start_kind start, bool adaptive)
{
    fold_status st = FOLD_OK;
    double push = set->forward.bound_push;
    if ((st = fold_ipopt_quiet_init(ip)) ||
        (st = fold_ipopt_opt_num(ip, "tol", set->forward.tol)) ||
        (st = fold_ipopt_opt_int(ip, "max_iter", (int)set->forward.max_iter)) ||
        (st = fold_ipopt_opt_num(ip, "nlp_lower_bound_inf", -FOLD_INF_BOUND)) ||
        (st = fold_ipopt_opt_num(ip, "nlp_upper_bound_inf", FOLD_INF_BOUND)) ||
        (st = fold_ipopt_opt_num(ip, "bound_push", push)) ||
        (st = fold_ipopt_opt_num(ip, "bound_frac", push < 0.5 ? push : 0.5)) ||
        (st = fold_ipopt_opt_num(ip, "bound_relax_factor", bound_relax(set, start))) ||
        (st = fold_ipopt_opt_int(ip, "mumps_pivot_order",
                                 mumps_pivot_order[set->forward.ordering])) ||
        (st = fold_ipopt_opt_num(ip, "mumps_pivtol", set->forward.pivtol)))
        return st;
    if (set->forward.time_limit_s > 0 &&
        (st = fold_ipopt_opt_num(ip, "max_cpu_time", set->forward.time_limit_s)))
        return st;
    if (!fold_prob_has_hessian(s->prob)) {
        if (s->prob->hess_form == FOLD_HESS_PRODUCT)
            fold_log(set, 1,
                     "%s: the Hessian of '%s' is given by products and n = %lld > %d: Ipopt "
                     "uses its limited-memory quasi-Newton Hessian",
                     FN, s->prob->name, (long long)s->prob->n, FOLD_HESS_PRODUCT_MAX_N);
        if ((st = fold_ipopt_opt_str(ip, "hessian_approximation", "limited-memory"))) return st;
    }
    if (start != START_COLD &&
        ((st = fold_ipopt_opt_str(ip, "warm_start_init_point", "yes")) ||
         (st = fold_ipopt_opt_num(ip, "warm_start_bound_push", 1e-9)) ||
         (st = fold_ipopt_opt_num(ip, "warm_start_bound_frac", 1e-9)) ||
         (st = fold_ipopt_opt_num(ip, "warm_start_slack_bound_push", 1e-9)) ||
         (st = fold_ipopt_opt_num(ip, "warm_start_slack_bound_frac", 1e-9)) ||
         (st = fold_ipopt_opt_num(ip, "warm_start_mult_bound_push", 1e-9))))
        return st;
    if (adaptive && (st = fold_ipopt_opt_str(ip, "mu_strategy", "adaptive"))) return st;
    for (fold_int k = 0; k < s->n_ipopt_opt; k++)
        if ((st = fold_ipopt_pass_option(ip, s->ipopt_opt[2 * k], s->ipopt_opt[2 * k + 1], FN)))
            return st;
    if (mu_init && !user_option(s, "mu_init") &&
        (st = fold_ipopt_pass_option(ip, "mu_init", mu_init, FN)))
        return st;
    /* Iteration log at verbose >= 2 on stderr (stdout stays for results). */
    if (set->log.verbose >= 2 && !OpenIpoptOutputFile(ip, "stderr", 5))
        return fold_error(FOLD_ERR_INTERNAL, "%s: Ipopt could not open its log on stderr", FN);
    return FOLD_OK;
}

/* Start point: an explicit fold_solver_set_start, else the last converged solution when
 * forward.warm_start is set, else the problem's x_start. Returns whether duals are given. */
static bool choose_start(const fold_solver *s, bool from_solution, solve_arrays *a)
{
    const fold_problem *prob = s->prob;
    size_t n = (size_t)prob->n, m = (size_t)prob->m;
    if (s->has_start && !from_solution) {
        memcpy(a->x, s->x0, n * sizeof(double));
        if (!s->start_has_duals) return false;
        memcpy(a->zl, s->zl0, n * sizeof(double));
        memcpy(a->zu, s->zu0, n * sizeof(double));
        if (m) memcpy(a->lam, s->lam0, m * sizeof(double));
        return true;
    }
    if ((from_solution || s->set.forward.warm_start) && s->has_solution && s->is_converged) {
        memcpy(a->x, s->x, n * sizeof(double));
        memcpy(a->zl, s->zl, n * sizeof(double));
        memcpy(a->zu, s->zu, n * sizeof(double));
        if (m) memcpy(a->lam, s->lam, m * sizeof(double));
        return true;
    }
    memcpy(a->x, prob->x_start, n * sizeof(double));
    return false;
}

static bool all_finite(const double *v, fold_int count)
{
    for (fold_int i = 0; i < count; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

/* Create the Ipopt problem, set options and solve. Returns < 0 only when Ipopt could not
 * be run (setting or internal error); *raw receives Ipopt's status otherwise. */
static fold_status run_ipopt(fold_solver *s, const fold_settings *set, const char *mu_init,
                             fold_ipopt_ctx *ctx, solve_arrays *a, start_kind start, bool adaptive,
                             double *obj, int *raw, double *solve_s)
{
    const fold_problem *prob = s->prob;
    const fold_ipopt_structure *t = ctx->structure;
    IpoptProblem ip;
    fold_status st;
    double t0;
    fold_ipopt_lock();
    ip = CreateIpoptProblem((Index)prob->n, a->xl, a->xu, (Index)prob->m, prob->m ? a->gl : NULL,
                            prob->m ? a->gu : NULL, t->nnz_jac, t->nnz_hess, 0, fold_ipopt_eval_f,
                            fold_ipopt_eval_g, fold_ipopt_eval_grad_f, fold_ipopt_eval_jac_g,
                            fold_ipopt_eval_h);
    if (!ip) {
        fold_ipopt_unlock();
        return fold_error(FOLD_ERR_INTERNAL, "%s: CreateIpoptProblem refused the problem", FN);
    }
    if ((st = set_options(ip, s, set, mu_init, start, adaptive)) != FOLD_OK) {
        FreeIpoptProblem(ip);
        fold_ipopt_unlock();
        return st;
    }
    SetIntermediateCallback(ip, fold_ipopt_intermediate);
    t0 = fold_time_now();
    if (!(ctx->t_start > 0)) ctx->t_start = t0; /* a restart keeps the limit of the solve */
    *raw = IpoptSolve(ip, a->x, prob->m ? a->g : NULL, obj, a->lam, a->zl, a->zu, ctx);
    *solve_s = fold_time_now() - t0;
    FreeIpoptProblem(ip);
    fold_ipopt_unlock();
    return FOLD_OK;
}

static void fill_info(fold_forward_info *info, const fold_solver *s, const fold_ipopt_ctx *ctx,
                      int raw, double obj, double solve_s)
{
    memset(info, 0, sizeof *info);
    info->raw_status = raw;
    info->status = fold_ipopt_map_status(raw);
    if (ctx->timed_out && raw == User_Requested_Stop) info->status = FOLD_FWD_MAX_TIME;
    if (ctx->at_floor && raw == User_Requested_Stop) info->status = FOLD_FWD_ACCEPTABLE;
    if (ctx->rescue_stalled && raw == User_Requested_Stop) info->status = FOLD_FWD_STALLED;
    info->backend = "ipopt";
    info->iterations = ctx->iterations;
    info->objective = obj;
    info->solve_s = solve_s;
    info->callback_s = s->stats.seconds;
    info->n_eval_f = s->stats.n_f;
    info->n_eval_g = s->stats.n_g;
    info->n_eval_grad_f = s->stats.n_grad_f;
    info->n_eval_jac_g = s->stats.n_jac_g;
    info->n_eval_hess_l = s->stats.n_hess_l;
    info->kkt_stationarity = info->kkt_feasibility = info->kkt_complementarity = NAN;
}

/* A solve stopped by the stall test (doc/api/solver.md "Stalls"): the monotone barrier
 * strategy is stuck in its first barrier problem, so the adaptive one runs from the same start
 * (a restart from the stalled iterate took longer on case8387_pegase), within what is left
 * of forward.max_iter; counts and times cover both runs. A re-run that makes no progress
 * either (short steps at forward.stall_rescue_iter) stops as failed. */
static fold_status rerun_adaptive(fold_solver *s, const fold_settings *set, const char *mu_init,
                                  fold_ipopt_ctx *ctx, solve_arrays *a, double *obj, int *raw,
                                  double *solve_s)
{
    const fold_problem *prob = s->prob;
    fold_int before = ctx->iterations;
    double first_s = *solve_s;
    fold_log(set, 1,
             "%s: barrier parameter still %g %s %lld iterations: restarted with mu_strategy "
             "adaptive",
             FN, ctx->mu0, ctx->stall_why, (long long)before);
    ctx->stall_iter = 0;
    ctx->stall_growth = 0;
    ctx->stall_step_iter = 0;
    ctx->stall_why = NULL;
    ctx->floor_from = -1;
    ctx->rescue = true;
    ctx->n_steps = 0;
    if (set->forward.max_iter - before > set->forward.stall_rescue_iter)
        ctx->rescue_iter = set->forward.stall_rescue_iter;
    memset(a->zl, 0, (size_t)prob->n * sizeof(double));
    memset(a->zu, 0, (size_t)prob->n * sizeof(double));
    if (prob->m) memset(a->lam, 0, (size_t)prob->m * sizeof(double));
    start_kind start = choose_start(s, false, a) ? START_WARM : START_COLD;
    fold_settings rest = *set;
    rest.forward.max_iter -= before;
    fold_status st = run_ipopt(s, &rest, mu_init, ctx, a, start, true, obj, raw, solve_s);
    if (ctx->rescue_stalled)
        fold_log(set, 1,
                 "%s: the adaptive re-run's median primal step over its last %d iterations is "
                 "at most forward.stall_step = %g after %lld iterations: stopped, no progress",
                 FN, FOLD_IPOPT_STEP_WINDOW, set->forward.stall_step, (long long)ctx->iterations);
    ctx->iterations += before;
    *solve_s += first_s;
    return st;
}

/* Validation of everything fold_solve reads before Ipopt runs. */
fold_status fold_ipopt_check_call(const fold_solver *s, const fold_settings *set, const double *p)
{
    const fold_problem *prob = s->prob;
    fold_status st;
    if (p && (st = fold_check_finite(p, prob->np, FN, "p"))) return st;
    if ((st = fold_ipopt_check_size(prob->n, prob->m, prob->jac_g.nnz,
                                    fold_prob_has_hessian(prob) ? prob->hess_l.nnz : 0)))
        return st;
    if (set->forward.method != FOLD_FORWARD_IPOPT)
        return fold_error(FOLD_ERR_UNSUPPORTED, "%s: forward.method = %d is not ipopt", FN,
                          set->forward.method);
    if ((st = fold_settings_check(set))) return fold_error_context(st, "%s", FN);
    return FOLD_OK;
}

void fold_ipopt_result_free(fold_ipopt_result *r)
{
    free(r->x);
    memset(r, 0, sizeof *r);
}

fold_status fold_ipopt_attempt(fold_solver *s, const double *p, const fold_settings *set,
                               const char *mu_init, bool tighten, fold_ipopt_result *r)
{
    double t_call = fold_time_now(), obj = NAN, solve_s = 0;
    const fold_problem *prob = s->prob;
    fold_ipopt_ctx ctx;
    solve_arrays a = {0};
    fold_status st, ret;
    start_kind start;
    bool converged;
    int raw = 0;

    memset(r, 0, sizeof *r);
    if ((st = fold_ipopt_check_call(s, set, p))) return st;
    memset(&ctx, 0, sizeof ctx);
    ctx.prob = prob;
    ctx.p = p;
    ctx.stats = &s->stats;
    ctx.time_limit_s = set->forward.time_limit_s;
    if (!(ctx.structure = fold_ipopt_structure_get(s)) || arrays_alloc(&a, prob->n, prob->m))
        return fold_error_context(FOLD_ERR_MEMORY, "%s", FN);
    if ((st = fold_bounds_at(prob, p, a.xl, a.xu, a.gl, a.gu, FN))) {
        free(a.block);
        return st;
    }
    memset(&s->stats, 0, sizeof s->stats);
    start = choose_start(s, tighten, &a) ? (tighten ? START_TIGHTEN : START_WARM) : START_COLD;
    if (start != START_TIGHTEN && !user_option(s, "mu_strategy")) {
        if (set->forward.max_iter > set->forward.stall_iter)
            ctx.stall_iter = set->forward.stall_iter;
        if (set->forward.max_iter > set->forward.stall_step_iter) {
            ctx.stall_step_iter = set->forward.stall_step_iter;
            ctx.stall_step = set->forward.stall_step;
        }
        /* a warm start's dual infeasibility can start near zero: cold starts only */
        if (start == START_COLD) ctx.stall_growth = set->forward.stall_dual_growth;
    }
    /* the caller's acceptable_* options leave the end to Ipopt */
    if (!user_option(s, "acceptable_iter") && !user_option(s, "acceptable_tol")) {
        ctx.floor_at_start = start == START_TIGHTEN;
        ctx.floor_iter =
            ctx.floor_at_start ? set->forward.resolve_max_iter : set->forward.floor_max_iter;
        ctx.floor_mu = set->forward.tol;
    }
    ctx.floor_from = -1;
    if ((st = run_ipopt(s, set, mu_init, &ctx, &a, start, false, &obj, &raw, &solve_s))) {
        free(a.block);
        return st;
    }
    if (ctx.stall_why && raw == User_Requested_Stop &&
        (st = rerun_adaptive(s, set, mu_init, &ctx, &a, &obj, &raw, &solve_s))) {
        free(a.block);
        return st;
    }
    fill_info(&r->info, s, &ctx, raw, obj, solve_s);
    r->info.tol_reached = set->forward.tol;
    converged = r->info.status == FOLD_FWD_SOLVED || r->info.status == FOLD_FWD_ACCEPTABLE;

    if (ctx.fatal) {
        ret = fold_error(ctx.fatal, "%s: %s (Ipopt stopped)", FN, ctx.fatal_msg);
    } else if (raw == Invalid_Option) {
        ret = fold_error(FOLD_ERR_SETTING, "%s: Ipopt rejected the combination of options", FN);
    } else if (!converged && ctx.nonfinite) {
        ret = fold_error(FOLD_ERR_NONFINITE, "%s: %s (Ipopt stopped: %s)", FN, ctx.nonfinite_msg,
                         fold_forward_status_string(r->info.status));
    } else if (!all_finite(a.x, prob->n) || !all_finite(a.lam, prob->m) ||
               !all_finite(a.zl, prob->n) || !all_finite(a.zu, prob->n) ||
               (converged && !isfinite(obj))) {
        ret = fold_error(converged ? FOLD_ERR_NONFINITE : FOLD_ERR_FORWARD_FAILED,
                         "%s: Ipopt returned a non-finite point (%s, Ipopt status %d)", FN,
                         fold_forward_status_string(r->info.status), raw);
    } else {
        if (converged || ctx.has_iterated) {
            /* Measured on foldopt's own scale (doc/math.md §2.3), not Ipopt's scaled NLP
             * error; these evaluations are not counted in info. A callback failure here
             * leaves the fields NaN: the solve itself stands. */
            fold_eval_stats scratch = {0};
            /* a failure leaves them at Ipopt's zeros: the residuals below show it */
            (void)fold_fixed_bound_duals(prob, p, a.x, a.lam, a.zl, a.zu, &scratch);
            if (fold_kkt_residuals(prob, p, a.x, a.lam, a.zl, a.zu, &r->info, &scratch) != FOLD_OK)
                r->info.kkt_stationarity = r->info.kkt_feasibility = r->info.kkt_complementarity =
                    NAN;
            r->usable = true;
            r->converged = converged;
            r->objective = obj;
            r->x = a.block; /* the result owns the arrays */
            r->zl = a.zl;
            r->zu = a.zu;
            r->lam = a.lam;
            a.block = NULL;
        }
        if (r->info.status == FOLD_FWD_SOLVED)
            ret = FOLD_OK;
        else if (r->info.status == FOLD_FWD_ACCEPTABLE) {
            /* tol was not reached: the accuracy is what the residuals measure */
            double res = fmax(r->info.kkt_stationarity,
                              fmax(r->info.kkt_feasibility, r->info.kkt_complementarity));
            r->info.tol_reached = isfinite(res) ? fmax(res, set->forward.tol) : HUGE_VAL;
            ret = fold_error(FOLD_WARN_INACCURATE,
                             "%s: Ipopt solved to acceptable level only (tol %g not reached)", FN,
                             set->forward.tol);
        } else
            ret = fold_error(FOLD_ERR_FORWARD_FAILED,
                             "%s: Ipopt stopped: %s (Ipopt status %d) after %lld iterations", FN,
                             fold_forward_status_string(r->info.status), raw,
                             (long long)r->info.iterations);
    }
    free(a.block);
    r->info.total_s = fold_time_now() - t_call;
    return ret;
}

void fold_ipopt_store(fold_solver *s, const double *p, fold_ipopt_result *r)
{
    fold_solver_store(s, p, r->x, r->lam, r->zl, r->zu, r->objective, r->converged);
}
