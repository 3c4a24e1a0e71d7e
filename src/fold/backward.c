/* Public forward and reverse mode through the KKT map (doc/math.md §3): fold_jvp, fold_vjp
 * (doc/api/fold.md); their bookkeeping and status rules are in call.c. */
#include "fold/fold_internal.h"

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
    if ((st = fold_call_input(dp, np, true, FN, "dp")) != FOLD_OK)
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
    if ((st = fold_call_input(xbar, n, false, FN, "xbar")) ||
        (st = fold_call_input(lambar, m, false, FN, "lambar")) ||
        (st = fold_call_input(zlbar, n, false, FN, "zlbar")) ||
        (st = fold_call_input(zubar, n, false, FN, "zubar")))
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
