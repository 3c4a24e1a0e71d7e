/* Public forward and reverse mode through the KKT map (doc/math.md §3): fold_jvp, fold_vjp,
 * and the status rules shared with fold_jacobian (doc/api/fold.md). */
#include "fold/fold_internal.h"

static const double zero_param = 0.0;

void fold_call_begin(fold_call *call, fold_backward_info *info)
{
    call->t0 = fold_time_now();
    call->info = info ? info : &call->local;
    memset(call->info, 0, sizeof *call->info);
    call->info->reason = FOLD_REASON_NOT_RUN; /* until a solve sets it */
    call->note[0] = '\0';
}

fold_status fold_call_end(fold_call *call, fold_status st, const fold_solver *solver,
                          const char *fn)
{
    fold_backward_info *info = call->info;
    const fold_kkt *kkt = solver ? solver->backward : NULL;
    info->total_s = fold_time_now() - call->t0;
    if (solver && solver->set.log.verbose >= 1) {
        fold_log(&solver->set, 1,
                 "%s: %s form, KKT order %lld (nnz %lld, factor nnz %lld, %s%s), %lld active "
                 "constraints, %lld active bounds, %lld weak, %lld rhs, residual %.2e, %.3g s: "
                 "%s",
                 fn, info->kkt_form == FOLD_KKT_BARRIER ? "barrier" : "active",
                 (long long)info->kkt_dim, (long long)info->kkt_nnz, (long long)info->factor_nnz,
                 fold_enum_name("backward.factorization", info->factorization),
                 info->reused_factorization ? ", reused"
                 : info->reused_analysis    ? ", analysis reused"
                                            : "",
                 (long long)info->n_active_cons, (long long)info->n_active_bounds,
                 (long long)info->n_weak, (long long)info->n_rhs, info->residual, info->total_s,
                 st < 0 ? fold_status_name(st) : "ok");
        if (info->fallback_reason[0])
            fold_log(&solver->set, 1, "%s: factorization fallback: %s", fn, info->fallback_reason);
    }
    if (st < 0) return st;
    if (info->is_least_squares)
        return fold_error(FOLD_WARN_LEAST_SQUARES,
                          "%s: singular KKT matrix of order %lld: minimum-norm least-squares "
                          "result (backward.lsq_fallback)",
                          fn, (long long)info->kkt_dim);
    if (info->n_not_unique > 0) {
        char dirs[FOLD_LIST_LEN] = "";
        if (kkt) fold_kkt_null_describe(kkt, dirs, sizeof dirs);
        return fold_error(FOLD_WARN_NOT_UNIQUE,
                          "%s: singular KKT matrix of order %lld (null direction on %s): %lld "
                          "entries of the result are not unique and were set to NaN "
                          "(backward.not_unique)%s%s",
                          fn, (long long)info->kkt_dim, dirs, (long long)info->n_not_unique,
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
                          fn, (long long)(kkt ? kkt->n_weak : 0),
                          solver->set.active_set.weak_policy == FOLD_WEAK_ACTIVE ? "active"
                                                                                 : "inactive");
    if (info->residual > solver->set.backward.tol)
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

/* Do the arrays [a, a + na) and [b, b + nb) share memory? */
static bool overlaps(const double *a, fold_int na, const double *b, fold_int nb)
{
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a && b && na > 0 && nb > 0 && a0 < b0 + (uintptr_t)nb * sizeof *b &&
           b0 < a0 + (uintptr_t)na * sizeof *a;
}

fold_status fold_jvp(fold_solver *solver, const double *dp, double *dx, double *dlam, double *dzl,
                     double *dzu, fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_jvp";
    fold_call call;
    fold_kkt *kkt;
    fold_status st;
    double *B = NULL, *U = NULL, *out = NULL;
    fold_int n, m, np;
    bool alias;
    fold_call_begin(&call, info);
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    n = solver->prob->n;
    m = solver->prob->m;
    np = solver->prob->np;
    if (np > 0 && !dp)
        return fold_call_end(&call, fold_error(FOLD_ERR_ARGUMENT, "%s: dp is NULL", FN), solver,
                             FN);
    if ((st = fold_check_finite(dp, solver->prob->np, FN, "dp")) != FOLD_OK)
        return fold_call_end(&call, st, solver, FN);
    if ((st = fold_kkt_setup(solver, true, call.info, FN)) < 0)
        return fold_call_end(&call, st, solver, FN);
    kkt = solver->backward;
    B = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "right-hand side");
    U = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "solution");
    /* Outputs overlapping dp go through a buffer (dp is read after dx and dlam are formed). */
    alias = overlaps(dx, n, dp, np) || overlaps(dlam, m, dp, np) || overlaps(dzl, n, dp, np) ||
            overlaps(dzu, n, dp, np);
    if (alias) out = fold_malloc((size_t)(3 * n + m), sizeof(double), "jvp result");
    if (!B || !U || (alias && !out)) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    dp = fold_call_params(dp);
    if ((st = fold_kkt_null_check_jvp(kkt, &solver->set, 1, dp, dx, dlam, dzl || dzu))) goto done;
    fold_kkt_rhs_jvp(kkt, 1, dp, B);
    unsigned char inconsistent = 0;
    if ((st = fold_kkt_solve(kkt, &solver->set, 1, B, U, &inconsistent, call.info)) < 0) goto done;
    if (inconsistent) { /* dp moves a combination the probe did not flag (eq. 4.9) */
        st = fold_kkt_null_not_differentiable(kkt);
        goto done;
    }
    st = FOLD_OK;
    /* Outputs are written only now that every step succeeded. */
    if (!alias) {
        fold_kkt_finish_jvp(kkt, 1, dp, U, dx, dlam, dzl, dzu);
        fold_kkt_null_mark_jvp(kkt, dx, dlam, dzl, dzu, call.info);
        goto done;
    }
    fold_kkt_finish_jvp(kkt, 1, dp, U, out, out + 3 * n, out + n, out + 2 * n);
    fold_kkt_null_mark_jvp(kkt, dx ? out : NULL, dlam ? out + 3 * n : NULL, dzl ? out + n : NULL,
                           dzu ? out + 2 * n : NULL, call.info);
    if (dx) memcpy(dx, out, (size_t)n * sizeof(double));
    if (dzl) memcpy(dzl, out + n, (size_t)n * sizeof(double));
    if (dzu) memcpy(dzu, out + 2 * n, (size_t)n * sizeof(double));
    if (dlam && m) memcpy(dlam, out + 3 * n, (size_t)m * sizeof(double));
done:
    free(B);
    free(U);
    free(out);
    return fold_call_end(&call, st, solver, FN);
}

/* Validate an optional upstream gradient block. */
static fold_status check_bar(const double *v, fold_int len, const char *field)
{
    return v ? fold_check_finite(v, len, "fold_vjp", field) : FOLD_OK;
}

fold_status fold_vjp(fold_solver *solver, const double *xbar, const double *lambar,
                     const double *zlbar, const double *zubar, double *pbar,
                     fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_vjp";
    fold_call call;
    fold_kkt *kkt;
    fold_status st;
    double *B = NULL, *W = NULL, *C = NULL;
    fold_int n, m, np;
    fold_call_begin(&call, info);
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    n = solver->prob->n;
    m = solver->prob->m;
    np = solver->prob->np;
    if (np > 0 && !pbar)
        return fold_call_end(&call, fold_error(FOLD_ERR_ARGUMENT, "%s: pbar is NULL", FN), solver,
                             FN);
    if ((st = check_bar(xbar, n, "xbar")) || (st = check_bar(lambar, m, "lambar")) ||
        (st = check_bar(zlbar, n, "zlbar")) || (st = check_bar(zubar, n, "zubar")))
        return fold_call_end(&call, st, solver, FN);
    if ((st = fold_kkt_setup(solver, true, call.info, FN)) < 0)
        return fold_call_end(&call, st, solver, FN);
    kkt = solver->backward;
    B = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "right-hand side");
    W = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "solution");
    if (zlbar || zubar) C = fold_malloc((size_t)n, sizeof(double), "bound term");
    if (!B || !W || ((zlbar || zubar) && !C)) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if ((st = fold_kkt_null_check_vjp(kkt, &solver->set))) goto done;
    fold_kkt_rhs_vjp(kkt, 1, xbar, lambar, zlbar, zubar, B, C);
    if ((st = fold_kkt_solve(kkt, &solver->set, 1, B, W, NULL, call.info)) < 0) goto done;
    /* Nothing can fail from here: pbar is written only now (it may alias an input). */
    if (np) fold_kkt_finish_vjp(kkt, 1, W, C, 0, NULL, pbar);
    fold_kkt_null_mark_vjp(kkt, 1, np ? pbar : NULL, call.info);
    st = FOLD_OK;
done:
    free(B);
    free(W);
    free(C);
    return fold_call_end(&call, st, solver, FN);
}
