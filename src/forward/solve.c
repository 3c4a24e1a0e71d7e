/* fold_solve (doc/api/solver.md): one Ipopt run (ipopt.c), the staged tightening and the
 * resolution of ambiguous sides (resolve.c), the solution stored and reported. */
#include "forward/ipopt_internal.h"

static const char *FN = "fold_solve";

fold_status fold_solve(fold_solver *s, const double *p, fold_forward_info *info)
{
    fold_clear_error();
    double t_call = fold_time_now();
    fold_ipopt_result r;
    fold_forward_info out = FOLD_FORWARD_INFO_INIT;
    fold_status ret;

    /* defined on every path, including the early failures below */
    if ((ret = fold_forward_info_open(info, "ipopt", &out)) < 0) return ret;
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver is NULL", FN);
    if ((ret = fold_ipopt_check_call(s, &s->set, p))) /* nothing touched, info included */
        return ret;
    if (!p) p = s->prob->p_default;
    ret = fold_ipopt_attempt(s, p, &s->set, NULL, false, &r);
    if (ret < 0 && !r.usable && r.info.backend == NULL) /* Ipopt did not run */
        return ret;
    if ((ret == FOLD_ERR_FORWARD_FAILED || ret == FOLD_WARN_INACCURATE) &&
        s->set.forward.tol < FOLD_STAGE_TOL)
        ret = fold_solve_staged(s, p, ret, &r); /* forward/resolve.c */
    s->has_start = false;                       /* an explicit start serves one solve */
    out = r.info;
    bool stored = r.usable;
    if (stored) {
        fold_ipopt_store(s, p, &r);
        s->info = out;
    }
    fold_ipopt_result_free(&r);
    bool resolve = ret == FOLD_OK && s->set.active_set.ambiguity == FOLD_AMBIGUITY_RESOLVE &&
                   s->set.forward.resolve_rounds > 0;
    if (resolve && s->set.forward.resolve_when == FOLD_RESOLVE_AT_SOLVE) {
        fold_status st = fold_resolve_ambiguity(s, p, &out); /* forward/resolve.c */
        if (st < 0) ret = st;
        s->info = out;
    } else if (stored) {
        /* forward.resolve_when = fold: the first fold call runs the re-solves, under these
         * settings (fold_solver_settle) */
        s->resolve_pending = resolve;
        if (resolve) s->resolve_set = s->set;
        fold_sides_count(s, p, &out);
        s->info = out;
    }
    out.total_s = fold_time_now() - t_call;
    if (stored) s->info.total_s = out.total_s;
    fold_log(&s->set, 1,
             "fold_solve: ipopt %s, %lld iterations (%d re-solves), objective %.10g, %.3g s",
             fold_forward_status_string(out.status), (long long)out.iterations, out.resolves,
             out.objective, out.total_s);
    fold_forward_info_put(info, &out);
    return ret;
}
