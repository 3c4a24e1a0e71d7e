/* Warm re-solves of fold_solve (doc/math.md §3.2 "Resolution"): tightening a solved point
 * until its ambiguous sides of constraints and bounds are decided, and reaching a tight
 * forward.tol in stages when the direct solve fails. A re-solve is kept only when it ends
 * at "solved": a tighter tolerance never loses a solution a looser one found. */
#include "forward/ipopt_internal.h"
#include "forward/sides.h"

/* Each re-solve of the resolution divides tol by 100, each stage towards a tight forward.tol
 * by 10 (the tightest tolerance that ends solved is kept); each starts Ipopt's barrier
 * parameter at a tenth of its tol. */
#define STAGE_FACTOR 1e-2
#define STAGED_FACTOR 1e-1
/* The smallest tol a re-solve asks for (the range of forward.tol). */
#define TOL_FLOOR 1e-14
/* Indicator thresholds: a quantity "vanished with mu" when it fell at least as R^0.7, "held"
 * when it fell at most as R^0.3, R the ratio of the two complementarity levels; verdicts need
 * R >= 4. */
#define FELL 0.7
#define HELD 0.3
#define MIN_RATIO 4.0

/* The settings of a warm re-solve at tolerance tol, and in mu (MU_LEN bytes) its Ipopt
 * mu_init: the barrier parameter starts near tol (its default 0.1 would lead it back to the
 * central path far from the point; a mu_init the caller set on the solver wins,
 * fold_ipopt_attempt); a time limit covers all solves of the call together. */
#define MU_LEN 32
static void stage_settings(const fold_settings *set, double tol, double spent_s, fold_settings *out,
                           char *mu)
{
    *out = *set;
    out->forward.tol = tol;
    if (set->forward.time_limit_s > 0)
        out->forward.time_limit_s = fmax(set->forward.time_limit_s - spent_s, 1e-3);
    snprintf(mu, MU_LEN, "%.3g", 0.1 * tol);
    /* forward.resolve_max_iter applies to the re-solves of the resolution only, which set it
     * again: a warm start at the previous tol is acceptable (within Ipopt's acceptable_tol)
     * from its first iteration, and a re-solve that cannot reach its tol sits at the new
     * barrier level; the stages of a tight tol are left to Ipopt's own end. */
    out->forward.resolve_max_iter = 0;
}

/* Sum the counts and times of a re-solve into *sum. */
static void add_counts(fold_forward_info *sum, const fold_forward_info *next)
{
    sum->iterations += next->iterations;
    sum->solve_s += next->solve_s;
    sum->callback_s += next->callback_s;
    sum->n_eval_f += next->n_eval_f;
    sum->n_eval_g += next->n_eval_g;
    sum->n_eval_grad_f += next->n_eval_grad_f;
    sum->n_eval_jac_g += next->n_eval_jac_g;
    sum->n_eval_hess_l += next->n_eval_hess_l;
    sum->resolves++;
    sum->resolve_s += next->total_s;
}

/* Take the result of a kept re-solve: status, objective, residuals and tol of the new point,
 * the counts summed so far. */
static void take_result(fold_forward_info *sum, const fold_forward_info *next)
{
    fold_forward_info s = *next;
    s.iterations = sum->iterations;
    s.solve_s = sum->solve_s;
    s.callback_s = sum->callback_s;
    s.n_eval_f = sum->n_eval_f;
    s.n_eval_g = sum->n_eval_g;
    s.n_eval_grad_f = sum->n_eval_grad_f;
    s.n_eval_jac_g = sum->n_eval_jac_g;
    s.n_eval_hess_l = sum->n_eval_hess_l;
    s.resolves = sum->resolves;
    s.resolve_s = sum->resolve_s;
    s.total_s = sum->total_s;
    *sum = s;
}

/* Verdict on a side from its distance and multiplier at two points of the central path
 * whose complementarity levels differ by the factor R (doc/math.md eq. 3.5a): active when
 * the distance vanished with mu and the multiplier held, inactive in the mirror case
 * (the indicators of El-Bakry, Tapia, Tsuchiya and Zhang); 0 otherwise. */
static signed char indicator(double d0, double z0, double d1, double z1, double R)
{
    double lr = log(R);
    double ld = d1 == 0.0 ? HUGE_VAL : d0 == 0.0 ? -HUGE_VAL : log(d0 / d1) / lr;
    double lz = z1 == 0.0 ? HUGE_VAL : z0 == 0.0 ? -HUGE_VAL : log(z0 / z1) / lr;
    if (ld >= FELL && lz <= HELD) return 1;
    if (lz >= FELL && ld <= HELD) return -1;
    return 0;
}

static fold_int undecided(const fold_sides *S)
{
    return S->n_weak + S->n_ambiguous;
}

/* Sides a tighter solve could still settle: the undecided ones and the suspect verdicts. */
static fold_int unsettled(const fold_sides *S)
{
    return undecided(S) + S->n_suspect;
}

/* Is p the stored solution's parameter vector (the classification the fold would make)? */
static bool same_p(const fold_solver *s, const double *p)
{
    return s->has_solution &&
           (p == s->p || !s->prob->np || !memcmp(p, s->p, (size_t)s->prob->np * sizeof *p));
}

void fold_sides_count(fold_solver *s, const double *p, fold_forward_info *info)
{
    fold_sides S;
    char detail[4096];
    info->n_ambiguous = 0;
    if (s->set.active_set.ambiguity == FOLD_AMBIGUITY_IGNORE || !s->is_converged) return;
    /* a count for information: the solve's own message stands */
    snprintf(detail, sizeof detail, "%s", fold_last_error());
    if (fold_sides_eval(s->prob, p, s->x, s->lam, s->zl, s->zu, s->verdict, &S) == FOLD_OK) {
        info->n_ambiguous = undecided(&S);
        if (same_p(s, p))
            fold_solver_keep_sides(s, &S); /* the fold's classification of this solution */
        else
            fold_sides_free(&S);
    }
    fold_error(FOLD_OK, "%s", detail);
}

fold_status fold_resolve_ambiguity(fold_solver *s, const double *p, fold_forward_info *info)
{
    const fold_problem *prob = s->prob;
    fold_sides S0, S1;
    fold_status st;
    double tol = s->set.forward.tol, t0 = fold_time_now();
    if ((st = fold_sides_eval(prob, p, s->x, s->lam, s->zl, s->zu, NULL, &S0)))
        return fold_error_context(st, "fold_solve: classification of the solution");
    signed char *verdict = fold_calloc((size_t)S0.count + 1, 1, "side verdicts");
    if (!verdict) {
        fold_sides_free(&S0);
        return FOLD_ERR_MEMORY;
    }
    /* a round tightens 100 times; when that does not end solved, 10 times (a smaller step
     * from the point it has often succeeds where the large one does not) */
    double factor = STAGE_FACTOR;
    for (int round = 0; round < s->set.forward.resolve_rounds && unsettled(&S0) > 0; round++) {
        fold_settings warm;
        char mu[MU_LEN];
        fold_ipopt_result r;
        double spent = info->total_s + (fold_time_now() - t0);
        /* a first solve already below its tol in complementarity (the adaptive barrier
         * strategy of a restarted solve ends so, doc/api/solver.md "Stalls") is tightened from
         * the level it reached: a round at tol * factor would leave it there and give no
         * verdict (R = 1). Later rounds start from re-solves, which end at their tol. */
        double next = tol * factor;
        bool first_point = tol == s->set.forward.tol;
        if (first_point && S0.mu > 0.0 && S0.mu * factor < next) next = S0.mu * factor;
        if (next < 0.5 * TOL_FLOOR ||
            (s->set.forward.time_limit_s > 0 && spent >= s->set.forward.time_limit_s))
            break;
        stage_settings(&s->set, next, spent, &warm, mu);
        warm.forward.resolve_max_iter = s->set.forward.resolve_max_iter;
        fold_status rs = fold_ipopt_attempt(s, p, &warm, mu, true, &r);
        add_counts(info, &r.info);
        if (!r.usable || fold_sides_eval(prob, p, r.x, r.lam, r.zl, r.zu, NULL, &S1) != FOLD_OK) {
            fold_ipopt_result_free(&r);
            break;
        }
        /* verdicts from a point that converged (solved or acceptable: Ipopt's acceptable
         * point at a tight tol is usually a floor of one residual, its complementarity
         * followed mu); suspect ones are checked by the fold against the central path */
        double R = S1.mu > 0.0 && r.converged ? S0.mu / S1.mu : 0.0;
        fold_int decided = 0;
        for (fold_int k = 0; R >= MIN_RATIO && k < S0.count; k++) {
            /* a suspect verdict is judged again on the tighter pair of points */
            if (!((fold_side_undecided(&S0, k) && !verdict[k]) || S0.suspect[k])) continue;
            signed char v = indicator(S0.dist[k], S0.mult[k], S1.dist[k], S1.mult[k], R);
            if (v) verdict[k] = v;
            decided += v != 0 && !S0.suspect[k];
        }
        fold_log(&s->set, 2,
                 "fold_solve: re-solve at tol %.1e: %s after %lld iterations, complementarity "
                 "level %.2e -> %.2e, %lld of %lld undecided sides decided",
                 next, fold_forward_status_string(r.info.status), (long long)r.info.iterations,
                 S0.mu, S1.mu, (long long)decided, (long long)undecided(&S0));
        fold_sides_free(&S1);
        if (rs != FOLD_OK) { /* acceptable or failed: the solved point stands */
            fold_ipopt_result_free(&r);
            fold_sides_free(&S0);
            if ((st = fold_sides_eval(prob, p, s->x, s->lam, s->zl, s->zu, verdict, &S0))) break;
            if (factor == STAGED_FACTOR) break;
            factor = STAGED_FACTOR; /* the round again with the smaller step */
            round--;
            continue;
        }
        tol = next;
        fold_ipopt_store(s, p, &r);
        take_result(info, &r.info);
        fold_ipopt_result_free(&r);
        fold_sides_free(&S0);
        if ((st = fold_sides_eval(prob, p, s->x, s->lam, s->zl, s->zu, verdict, &S0))) break;
    }
    fold_clear_error(); /* a re-solve's failure is not the call's */
    info->n_ambiguous = st ? 0 : undecided(&S0);
    /* the verdicts decide the sides still undecided at the kept point */
    free(s->verdict);
    s->verdict = verdict;
    if (!st && same_p(s, p))
        fold_solver_keep_sides(s, &S0); /* S0: the kept point with these verdicts */
    else
        fold_sides_free(&S0);
    return st ? fold_error_context(st, "fold_solve: classification of a re-solve") : FOLD_OK;
}

fold_status fold_solver_settle(fold_solver *s, const char *fn)
{
    if (!s->resolve_pending) return FOLD_OK;
    /* as fold_solve would have run them: its settings (a later fold_solver_update_settings
     * applies to the fold, not to these), its stored point and p, its info summed into */
    fold_settings now = s->set;
    fold_forward_info info = s->info;
    double t0 = fold_time_now();
    s->resolve_pending = false;
    s->set = s->resolve_set;
    fold_status st = fold_resolve_ambiguity(s, s->p, &info);
    s->set = now;
    info.total_s += fold_time_now() - t0;
    s->info = info;
    fold_log(&s->set, 1,
             "%s: fold_solve's tightening re-solves: %d, %lld iterations in all, %.3g s", fn,
             info.resolves, (long long)info.iterations, info.resolve_s);
    return st < 0 ? fold_error_context(st, "%s", fn) : FOLD_OK;
}

fold_status fold_solve_finish(fold_solver *s, fold_forward_info *info)
{
    fold_forward_info out;
    fold_status st = fold_forward_info_open(info, "ipopt", &out);
    if (st < 0) return st;
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "fold_solve_finish: solver is NULL");
    fold_clear_error();
    st = fold_solver_settle(s, "fold_solve_finish");
    if (s->has_solution) out = s->info;
    fold_forward_info_put(info, &out);
    return st;
}

/* After a solve that stopped at Ipopt's acceptable level, one tightening re-solve from its
 * point at the target tol (no bound relaxation: a projection residual near tol can be what
 * stopped it, doc/math.md §2.3). Replaces *r and returns FOLD_OK when it ends solved. */
static fold_status polish_acceptable(fold_solver *s, const double *p, fold_ipopt_result *r)
{
    fold_settings warm;
    char mu[MU_LEN];
    fold_ipopt_result b;
    fold_forward_info sum = r->info;
    fold_ipopt_store(s, p, r);
    stage_settings(&s->set, s->set.forward.tol, r->info.total_s, &warm, mu);
    fold_status st = fold_ipopt_attempt(s, p, &warm, mu, true, &b);
    add_counts(&sum, &b.info);
    fold_log(&s->set, 2,
             "fold_solve: re-solve of the acceptable point at tol %.1e: %s after "
             "%lld iterations",
             s->set.forward.tol, fold_forward_status_string(b.info.status),
             (long long)b.info.iterations);
    if (st != FOLD_OK) {
        fold_ipopt_result_free(&b);
        r->info.iterations = sum.iterations;
        r->info.resolves = sum.resolves;
        r->info.resolve_s = sum.resolve_s;
        return st;
    }
    take_result(&sum, &b.info);
    fold_ipopt_result_free(r);
    *r = b;
    r->info = sum;
    return FOLD_OK;
}

fold_status fold_solve_staged(fold_solver *s, const double *p, fold_status failed,
                              fold_ipopt_result *r)
{
    double target = s->set.forward.tol, tol = FOLD_STAGE_TOL, t0 = fold_time_now();
    char why[512];
    fold_settings stage;
    char mu[MU_LEN];
    fold_ipopt_result a;
    snprintf(why, sizeof why, "%s", fold_last_error());
    if (failed == FOLD_WARN_INACCURATE && r->usable && r->converged &&
        polish_acceptable(s, p, r) == FOLD_OK) {
        fold_clear_error();
        return FOLD_OK;
    }
    stage_settings(&s->set, tol, r->info.total_s, &stage, mu);
    /* the first stage starts as the direct solve did, with Ipopt's own mu_init */
    fold_status st = fold_ipopt_attempt(s, p, &stage, NULL, false, &a);
    fold_forward_info sum = r->info;
    add_counts(&sum, &a.info);
    fold_log(&s->set, 2, "fold_solve: first stage at tol %.1e: %s after %lld iterations", tol,
             fold_forward_status_string(a.info.status), (long long)a.info.iterations);
    /* the looser tolerance fails too, or reaches no better accuracy than the direct solve's
     * acceptable point: the direct solve's result */
    if (st != FOLD_OK ||
        (failed == FOLD_WARN_INACCURATE && a.info.tol_reached >= r->info.tol_reached)) {
        fold_ipopt_result_free(&a);
        r->info.iterations = sum.iterations;
        r->info.resolves = sum.resolves;
        r->info.resolve_s = sum.resolve_s;
        fold_error(failed, "%s", why);
        return failed;
    }
    fold_ipopt_result direct = *r;
    *r = a;
    take_result(&sum, &a.info);
    while (tol > target) {
        fold_ipopt_result b;
        double spent = sum.total_s + (fold_time_now() - t0);
        if (s->set.forward.time_limit_s > 0 && spent >= s->set.forward.time_limit_s) break;
        tol *= STAGED_FACTOR;
        if (tol < 2.0 * target) tol = target; /* not a rounding error away from it */
        /* warm from the last solved point: make it the stored solution first */
        fold_ipopt_store(s, p, r);
        stage_settings(&s->set, tol, spent, &stage, mu);
        st = fold_ipopt_attempt(s, p, &stage, mu, true, &b);
        add_counts(&sum, &b.info);
        fold_log(&s->set, 2, "fold_solve: stage at tol %.1e: %s after %lld iterations", tol,
                 fold_forward_status_string(b.info.status), (long long)b.info.iterations);
        if (st != FOLD_OK) {
            /* warm from the stage point with a small barrier parameter can stall where a
             * solve from the direct solve's start with Ipopt's own mu_init succeeds */
            fold_ipopt_result_free(&b);
            st = fold_ipopt_attempt(s, p, &stage, NULL, false, &b);
            add_counts(&sum, &b.info);
            fold_log(&s->set, 2,
                     "fold_solve: stage at tol %.1e from the start: %s after %lld "
                     "iterations",
                     tol, fold_forward_status_string(b.info.status), (long long)b.info.iterations);
        }
        if (st != FOLD_OK) {
            fold_ipopt_result_free(&b);
            break;
        }
        fold_ipopt_result_free(r);
        *r = b;
        take_result(&sum, &b.info);
    }
    fold_clear_error();
    if (failed == FOLD_WARN_INACCURATE && direct.info.tol_reached < r->info.tol_reached) {
        fold_ipopt_result_free(r); /* the direct acceptable point is the more accurate */
        *r = direct;
        take_result(&sum, &direct.info);
        r->info = sum;
        fold_error(failed, "%s", why);
        return failed;
    }
    fold_ipopt_result_free(&direct);
    sum.tol_reached = r->info.tol_reached;
    r->info = sum;
    if (r->info.tol_reached <= target) return FOLD_OK;
    r->info.status = FOLD_FWD_ACCEPTABLE; /* solved, but at a looser tolerance */
    return fold_error(FOLD_WARN_INACCURATE,
                      "fold_solve: solved in stages to tol %g only (the requested tol %g was not "
                      "reached; the direct solve %s: %s)",
                      r->info.tol_reached, target,
                      failed == FOLD_WARN_INACCURATE ? "ended at the acceptable level" : "failed",
                      why);
}
