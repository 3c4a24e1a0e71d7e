/* Public forward and reverse mode through the KKT map (doc/math.md §3): fold_jvp, fold_vjp,
 * and the status rules shared with fold_jacobian (doc/api/fold.md). */
#include "fold/engine.h"
#include "fold/fold_internal.h"

static const double zero_param = 0.0;

/* "bus 7 vm upper, x[3] lower and 2 more": the candidates of the classification. */
void fold_call_begin(fold_call *call, fold_backward_info *info, fold_solver *solver)
{
    if (solver && solver->backward) fold_report_clear(solver->backward);
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
                          fn, (long long)info->kkt_dim);
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
    if (info->n_barrier_error > 0)
        return fold_error(FOLD_WARN_INACCURATE,
                          "%s: %lld entries of the barrier form move by more than the tolerance "
                          "%.3g (relative) when the barrier parameter is extrapolated to zero "
                          "(largest %.3g): the values of the reached barrier parameter, their "
                          "limits in the trust report; a tighter forward.tol reduces it",
                          fn, (long long)info->n_barrier_error, fold_trust_tol(solver),
                          info->barrier_error);
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

/* The report of every call's result: the sides (ambiguous, weakly
 * active, dependent) of the classification the call used and the entries a singular KKT
 * matrix left undetermined (NaN in out). Then the variants of the candidates. */
fold_status fold_call_report(fold_solver *solver, fold_result_fn run, void *ctx,
                             const fold_result_layout *L, double *out, bool nan_entries,
                             fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_status st;
    if (!kkt) return FOLD_OK;
    call->info->n_candidates = kkt->n_cand;
    if ((st = fold_report_sides(kkt, solver))) return st;
    for (fold_int k = 0; out && nan_entries && k < L->len; k++) {
        int block;
        fold_int row, col;
        if (!isnan(out[k])) continue;
        L->locate(L->locate_ctx, k, &block, &row, &col);
        if (fold_report_entry(kkt, FOLD_TRUST_NOT_UNIQUE, block, k, row, col, NAN, NAN, NAN) < 0)
            return FOLD_ERR_MEMORY;
    }
    return out ? fold_variants_compare(solver, run, ctx, L, out, call) : FOLD_OK;
}

/* Largest |v_k| (0 for an empty or NULL v). */
static double fold_max_abs(const double *v, fold_int len)
{
    double s = 0.0;
    for (fold_int k = 0; v && k < len; k++)
        s = fmax(s, fabs(v[k]));
    return s;
}

/* A jvp's result: the requested blocks of dx, dzl, dzu, dlam packed in that order. */
typedef struct jvp_ctx {
    const double *dp;
    fold_int off[4]; /* offset of dx, dzl, dzu, dlam in out, or -1 */
    fold_int group[5], n_groups;
    int group_block[4];
} jvp_ctx;

static void jvp_locate(const void *ctx, fold_int k, int *block, fold_int *row, fold_int *col)
{
    const jvp_ctx *c = ctx;
    fold_int g = 0;
    while (k >= c->group[g + 1])
        g++;
    *block = c->group_block[g];
    *row = k - c->group[g];
    *col = -1;
}

static double *at(double *out, fold_int off)
{
    return off >= 0 ? out + off : NULL;
}

static fold_status jvp_run(fold_solver *solver, void *vctx, double *out, fold_call *call)
{
    const jvp_ctx *c = vctx;
    fold_status st;
    if ((st = fold_kkt_setup(solver, true, call->info, "fold_jvp")) < 0) return st;
    fold_kkt *kkt = solver->backward;
    double *B = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "right-hand side");
    double *U = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "solution");
    double *dx = at(out, c->off[0]), *dzl = at(out, c->off[1]), *dzu = at(out, c->off[2]);
    double *dlam = at(out, c->off[3]);
    unsigned char inconsistent = 0;
    if (!B || !U) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if ((st = fold_kkt_null_check_jvp(kkt, &solver->set, 1, c->dp, dx, dlam, dzl || dzu)))
        goto done;
    fold_kkt_rhs_jvp(kkt, 1, c->dp, B);
    if ((st = fold_kkt_solve(kkt, &solver->set, 1, B, U, &inconsistent, call->info)) < 0) goto done;
    if (inconsistent) { /* dp moves a combination the probe did not flag (eq. 4.9) */
        st = fold_kkt_null_not_differentiable(kkt);
        goto done;
    }
    fold_kkt_finish_jvp(kkt, 1, c->dp, U, dx, dlam, dzl, dzu);
    fold_kkt_null_mark_jvp(kkt, dx, dlam, dzl, dzu, call->info);
    st = FOLD_OK;
done:
    free(B);
    free(U);
    return st;
}

fold_status fold_jvp(fold_solver *solver, const double *dp, double *dx, double *dlam, double *dzl,
                     double *dzu, fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_jvp";
    fold_call call;
    fold_status st;
    double *out = NULL;
    fold_call_begin(&call, info, solver);
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    fold_int n = solver->prob->n, m = solver->prob->m, np = solver->prob->np;
    if (np > 0 && !dp)
        return fold_call_end(&call, fold_error(FOLD_ERR_ARGUMENT, "%s: dp is NULL", FN), solver,
                             FN);
    if ((st = fold_check_finite(dp, np, FN, "dp")) != FOLD_OK)
        return fold_call_end(&call, st, solver, FN);
    jvp_ctx c = {.dp = fold_call_params(dp), .off = {-1, -1, -1, -1}};
    double *user[4] = {dx, dzl, dzu, dlam};
    fold_int size[4] = {n, n, n, m}, len = 0;
    const int blocks[4] = {FOLD_BLOCK_X, FOLD_BLOCK_ZL, FOLD_BLOCK_ZU, FOLD_BLOCK_LAM};
    for (int b = 0; b < 4; b++) {
        if (!user[b]) continue;
        c.off[b] = c.group[c.n_groups] = len;
        c.group_block[c.n_groups++] = blocks[b];
        len += size[b];
    }
    c.group[c.n_groups] = len;
    /* The result goes through a buffer: outputs are written only when every step succeeded,
     * and may overlap dp (read by every variant). */
    if (!(out = fold_malloc((size_t)len + 1, sizeof(double), "jvp result"))) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    /* one scale for all blocks: the changes of the multipliers of inactive constraints are
     * judged against the whole result, not against themselves */
    fold_int whole[2] = {0, len};
    fold_result_layout L = {len, 1, fold_max_abs(c.dp, np), whole, jvp_locate, &c};
    st = jvp_run(solver, &c, out, &call);
    fold_status sr = fold_call_report(solver, jvp_run, &c, &L, st >= 0 ? out : NULL, true, &call);
    if (st < 0 || (st = sr) < 0) goto done;
    for (int b = 0; b < 4; b++)
        if (user[b] && size[b]) memcpy(user[b], out + c.off[b], (size_t)size[b] * sizeof(double));
    st = FOLD_OK;
done:
    free(out);
    return fold_call_end(&call, st, solver, FN);
}

/* Validate an optional upstream gradient block. */
static fold_status check_bar(const double *v, fold_int len, const char *field)
{
    return v ? fold_check_finite(v, len, "fold_vjp", field) : FOLD_OK;
}

typedef struct vjp_ctx {
    const double *xbar, *lambar, *zlbar, *zubar;
    fold_int group[2];
} vjp_ctx;

static void vjp_locate(const void *ctx, fold_int k, int *block, fold_int *row, fold_int *col)
{
    (void)ctx;
    *block = -1;
    *row = -1;
    *col = k;
}

static fold_status vjp_run(fold_solver *solver, void *vctx, double *pbar, fold_call *call)
{
    const vjp_ctx *c = vctx;
    fold_status st;
    if ((st = fold_kkt_setup(solver, true, call->info, "fold_vjp")) < 0) return st;
    fold_kkt *kkt = solver->backward;
    bool bounds = c->zlbar || c->zubar;
    double *B = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "right-hand side");
    double *W = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "solution");
    double *C = bounds ? fold_malloc((size_t)kkt->n, sizeof(double), "bound term") : NULL;
    if (!B || !W || (bounds && !C)) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if ((st = fold_kkt_null_check_vjp(kkt, &solver->set))) goto done;
    fold_kkt_rhs_vjp(kkt, 1, c->xbar, c->lambar, c->zlbar, c->zubar, B, C);
    if ((st = fold_kkt_solve(kkt, &solver->set, 1, B, W, NULL, call->info)) < 0) goto done;
    if (kkt->np) fold_kkt_finish_vjp(kkt, 1, W, C, 0, NULL, pbar);
    fold_kkt_null_mark_vjp(kkt, 1, kkt->np ? pbar : NULL, call->info);
    st = FOLD_OK;
done:
    free(B);
    free(W);
    free(C);
    return st;
}

fold_status fold_vjp(fold_solver *solver, const double *xbar, const double *lambar,
                     const double *zlbar, const double *zubar, double *pbar,
                     fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_vjp";
    fold_call call;
    fold_status st;
    double *out = NULL;
    fold_call_begin(&call, info, solver);
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    fold_int n = solver->prob->n, m = solver->prob->m, np = solver->prob->np;
    if (np > 0 && !pbar)
        return fold_call_end(&call, fold_error(FOLD_ERR_ARGUMENT, "%s: pbar is NULL", FN), solver,
                             FN);
    if ((st = check_bar(xbar, n, "xbar")) || (st = check_bar(lambar, m, "lambar")) ||
        (st = check_bar(zlbar, n, "zlbar")) || (st = check_bar(zubar, n, "zubar")))
        return fold_call_end(&call, st, solver, FN);
    vjp_ctx c = {xbar, lambar, zlbar, zubar, {0, np}};
    double input = fmax(fold_max_abs(xbar, xbar ? n : 0), fold_max_abs(lambar, lambar ? m : 0));
    input =
        fmax(input, fmax(fold_max_abs(zlbar, zlbar ? n : 0), fold_max_abs(zubar, zubar ? n : 0)));
    fold_result_layout L = {np, 1, input, c.group, vjp_locate, &c};
    /* pbar is written only at the end: it may alias an upstream gradient. */
    if (!(out = fold_malloc((size_t)np + 1, sizeof(double), "vjp result"))) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    st = vjp_run(solver, &c, out, &call);
    fold_status sr = fold_call_report(solver, vjp_run, &c, &L, st >= 0 ? out : NULL, true, &call);
    if (st < 0 || (st = sr) < 0) goto done;
    if (np) memcpy(pbar, out, (size_t)np * sizeof(double));
    st = FOLD_OK;
done:
    free(out);
    return fold_call_end(&call, st, solver, FN);
}
