/* Bookkeeping of every public backward call (call.h) and the status rules of the KKT fold's
 * calls, fold_jvp, fold_vjp and fold_jacobian (doc/api/fold.md). */
#include "fold/engine.h"
#include "fold/fold_internal.h"

static const double zero_param = 0.0;

/* Differences below this (relative) are rounding: two factorizations of KKT matrices of
 * condition up to ~1e6 agree to it. */
#define ROUNDING 1e-10

/* The relative tolerance of the comparison: the backward tolerance, or the accuracy of the
 * solution when that is coarser (a difference below it is no larger than the error every
 * derivative at this point carries), and at least the rounding of two solves. */
double fold_trust_tol(const fold_solver *solver)
{
    const fold_forward_info *fi = &solver->info;
    double acc = fi->tol_reached > 0.0 ? fi->tol_reached : 0.0;
    if (!(acc > 0.0) && fi->status == FOLD_FWD_IMPORTED)
        acc = fmax(fi->kkt_stationarity, fmax(fi->kkt_feasibility, fi->kkt_complementarity));
    return fmax(fmax(solver->set.backward.tol, ROUNDING), isfinite(acc) ? acc : 0.0);
}

fold_status fold_call_begin(fold_call *call, fold_backward_info *info, fold_solver *solver)
{
    call->info = &call->local;
    call->caller = NULL;
    call->note[0] = '\0';
    call->t0 = fold_time_now();
    fold_status st = fold_sized_open(info, &call->local, sizeof call->local, FOLD_BACKWARD_INFO_V1,
                                     "fold_backward_info", "FOLD_BACKWARD_INFO_INIT");
    if (st < 0) return st;
    call->caller = info;
    if (solver && solver->backward) fold_report_clear(solver->backward);
    memset(&call->local, 0, sizeof call->local);
    call->local.size = sizeof call->local;
    call->local.reason = FOLD_REASON_NOT_RUN; /* until a solve sets it */
    return FOLD_OK;
}

void fold_call_stop(fold_call *call)
{
    call->info->total_s = fold_time_now() - call->t0;
    fold_sized_close(call->caller, &call->local, sizeof call->local);
}

fold_status fold_call_input(const double *v, fold_int len, bool required, const char *fn,
                            const char *field)
{
    if (!v) return required && len > 0 ? fold_check_not_null(v, fn, field) : FOLD_OK;
    return fold_check_finite(v, len, fn, field);
}

fold_status fold_call_end(fold_call *call, fold_status st, const fold_solver *solver,
                          const char *fn)
{
    fold_backward_info *info = call->info;
    const fold_kkt *kkt = solver ? solver->backward : NULL;
    fold_call_stop(call);
    if (solver && solver->set.log.verbose >= 1) {
        fold_log(&solver->set, 1,
                 "%s: %s form, KKT order %lld (nnz %lld, factor nnz %lld, %s%s), %lld active "
                 "constraints, %lld active bounds, %lld weak, %lld rhs, residual %.2e, %.3g s: "
                 "%s",
                 fn, info->kkt_form == FOLD_KKT_BARRIER ? "barrier" : "active",
                 (long long)info->dim, (long long)info->nnz, (long long)info->factor_nnz,
                 fold_enum_name("backward.factorization", info->factorization),
                 info->reused_factorization ? ", reused"
                 : info->reused_analysis    ? ", analysis reused"
                                            : "",
                 (long long)info->n_active_cons, (long long)info->n_active_bounds,
                 (long long)info->n_weak, (long long)info->n_rhs, info->residual, info->total_s,
                 st < 0 ? fold_status_name(st) : "ok");
        if (info->fallback_reason[0])
            fold_log(&solver->set, 1, "%s: factorization fallback: %s", fn, info->fallback_reason);
        if (info->method != FOLD_BACKWARD_DIRECT)
            fold_log(&solver->set, 1, "%s: %s with precond %s, %lld iterations", fn,
                     fold_method_name(info->method), fold_precond_name(info->precond),
                     (long long)info->iterations);
    }
    if (st < 0) return st;
    if (info->is_least_squares)
        return fold_error(FOLD_WARN_LEAST_SQUARES,
                          "%s: singular KKT matrix of order %lld: minimum-norm least-squares "
                          "result (backward.lsq_fallback)",
                          fn, (long long)info->dim);
    if (info->n_uncertain > 0) {
        char sides[FOLD_LIST_LEN];
        fold_int n_sides = fold_report_movers(kkt, sides, sizeof sides);
        return fold_error(FOLD_WARN_UNCERTAIN,
                          "%s: %lld entries depend on the classification of %lld constraints/"
                          "bounds that the accuracy of the solution cannot settle (%s; "
                          "active_set.ambiguity, doc/math.md §3.2): set to NaN, their values in "
                          "the trust report (fold_trust_report)%s",
                          fn, (long long)info->n_uncertain, (long long)n_sides, sides,
                          info->n_not_unique > 0 ? "; others are not unique (singular KKT "
                                                   "matrix)"
                                                 : "");
    }
    if (info->n_not_unique > 0) {
        char dirs[FOLD_LIST_LEN] = "";
        if (kkt) fold_kkt_null_describe(kkt, dirs, sizeof dirs);
        return fold_error(FOLD_WARN_NOT_UNIQUE,
                          "%s: singular KKT matrix of order %lld (null direction on %s): %lld "
                          "entries of the result are not unique and were set to NaN "
                          "(backward.not_unique)%s%s",
                          fn, (long long)info->dim, dirs, (long long)info->n_not_unique,
                          call->note[0] ? ": " : "", call->note);
    }
    if (call->check == FOLD_WARN_UNCONVERGED_INPUT)
        return fold_error(FOLD_WARN_UNCONVERGED_INPUT,
                          "%s: differentiated at a forward solution that did not converge "
                          "(forward status: %s)",
                          fn, fold_forward_status_string(solver->info.status));
    if (info->is_one_sided)
        return fold_error(FOLD_WARN_ONE_SIDED,
                          "%s: %lld weakly active constraints/bounds treated as %s "
                          "(active_set.weak_policy); the derivative is one-sided",
                          fn, (long long)(kkt ? kkt->cls.n_weak : 0),
                          solver->set.active_set.weak_policy == FOLD_WEAK_ACTIVE ? "active"
                                                                                 : "inactive");
    if (info->n_barrier_error > 0)
        return fold_error(FOLD_WARN_INACCURATE,
                          "%s: %lld entries of the barrier form move by more than the tolerance "
                          "%.3g (relative) when the barrier parameter is extrapolated to zero "
                          "(largest %.3g): the values of the reached barrier parameter, their "
                          "limits in the trust report; a tighter forward.tol reduces it",
                          fn, (long long)info->n_barrier_error, fold_trust_tol(solver),
                          info->barrier_error);
    /* a fixed-iteration run returns its residual, whatever it is, as asked */
    if (info->residual > solver->set.backward.tol && info->reason != FOLD_REASON_FIXED_ITER)
        return fold_error(FOLD_WARN_INACCURATE,
                          "%s: relative residual %.3g of the KKT solve exceeds backward.tol = "
                          "%.3g after %d refinement steps",
                          fn, info->residual, solver->set.backward.tol,
                          solver->set.backward.refine_steps);
    return FOLD_OK;
}

const double *fold_call_params(const double *dp)
{
    return dp ? dp : &zero_param;
}
