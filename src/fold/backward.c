/* Public forward and reverse mode through the KKT map (doc/math.md §3): fold_jvp, fold_vjp
 * (doc/api/fold.md); their bookkeeping and status rules are in call.c. */
#include "fold/engine.h"
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

/* The ends of a jvp's solve (eqs. 3.8, 3.9): B from dp, then dx, dlam, dzl, dzu from U, and
 * the entries a singular K leaves undetermined. */
typedef struct jvp_ends {
    fold_kkt *kkt;
    const fold_settings *set;
    const jvp_ctx *c;
    fold_backward_info *info;
} jvp_ends;

static fold_status jvp_rhs(void *ctx, double *B)
{
    const jvp_ends *e = ctx;
    const jvp_ctx *c = e->c;
    fold_status st = fold_kkt_null_check_jvp(e->kkt, e->set, 1, c->dp, c->off[0] >= 0,
                                             c->off[3] >= 0, c->off[1] >= 0 || c->off[2] >= 0);
    if (st) return st;
    return fold_kkt_rhs_jvp(e->kkt, 1, c->dp, B);
}

static fold_status jvp_finish(void *ctx, const double *U, bool inconsistent, double *out)
{
    const jvp_ends *e = ctx;
    const jvp_ctx *c = e->c;
    /* dp moves a combination the probe did not flag (eq. 4.9) */
    if (inconsistent) return fold_kkt_null_not_differentiable(e->kkt);
    double *dx = at(out, c->off[0]), *dzl = at(out, c->off[1]), *dzu = at(out, c->off[2]);
    double *dlam = at(out, c->off[3]);
    fold_kkt_finish_jvp(e->kkt, 1, c->dp, U, dx, dlam, dzl, dzu);
    fold_kkt_null_mark_jvp(e->kkt, dx, dlam, dzl, dzu, e->info);
    return FOLD_OK;
}

static fold_status jvp_run(fold_solver *solver, void *vctx, double *out, fold_call *call)
{
    fold_status st;
    char what[32];
    if ((st = fold_kkt_setup(solver, true, call->info, "fold_jvp")) < 0) return st;
    jvp_ends e = {solver->backward, &solver->set, vctx, call->info};
    fold_ends ends = {&e, jvp_rhs, jvp_finish, true};
    fold_system sys = fold_kkt_system(solver->backward, what, sizeof what);
    st = fold_system_apply(&sys, &ends, &solver->set, false, out, call->info);
    return st < 0 ? st : FOLD_OK;
}

fold_status fold_jvp(fold_solver *solver, const double *dp, const fold_dz *dz,
                     fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_jvp";
    fold_call call;
    fold_status st;
    double *out = NULL;
    fold_int *kinds = NULL;
    if ((st = fold_call_begin(&call, info, solver)) < 0) return st;
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    fold_int n = solver->prob->n, m = solver->prob->m, np = solver->prob->np;
    if ((st = fold_call_input(dp, np, true, FN, "dp")) != FOLD_OK)
        return fold_call_end(&call, st, solver, FN);
    jvp_ctx c = {.dp = fold_call_params(dp), .off = {-1, -1, -1, -1}};
    fold_dz none = {0};
    if (!dz) dz = &none;
    double *user[4] = {dz->x, dz->zl, dz->zu, dz->lam};
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
    /* dx by the kinds of the variables; the multipliers against the whole result: the changes
     * of the multipliers of inactive constraints are not judged against themselves */
    const fold_problem *prob = solver->prob;
    fold_result_layout L = {.rows = len,
                            .cols = 1,
                            .n_kinds = prob->n_x_kinds,
                            .input = fold_max_abs(c.dp, np),
                            .locate = jvp_locate,
                            .locate_ctx = &c};
    if (prob->x_kind) {
        if (!(kinds = fold_malloc((size_t)len + 1, sizeof *kinds, "jvp kinds"))) {
            st = FOLD_ERR_MEMORY;
            goto done;
        }
        for (fold_int k = 0; k < len; k++)
            kinds[k] = c.off[0] >= 0 && k < n ? prob->x_kind[k] : -1;
        L.row_kind = kinds;
    }
    st = jvp_run(solver, &c, out, &call);
    fold_status sr = fold_call_report(solver, jvp_run, &c, &L, st >= 0 ? out : NULL, true, &call);
    if (st < 0 || (st = sr) < 0) goto done;
    for (int b = 0; b < 4; b++)
        if (user[b] && size[b]) memcpy(user[b], out + c.off[b], (size_t)size[b] * sizeof(double));
    st = FOLD_OK;
done:
    free(out);
    free(kinds);
    return fold_call_end(&call, st, solver, FN);
}

typedef struct vjp_ctx {
    const double *xbar, *lambar, *zlbar, *zubar;
} vjp_ctx;

static void vjp_locate(const void *ctx, fold_int k, int *block, fold_int *row, fold_int *col)
{
    (void)ctx;
    *block = -1;
    *row = -1;
    *col = k;
}

/* The ends of a vjp's solve (eqs. 3.10, 3.11): B and the bound term C from the upstream
 * gradients, then pbar from W and C, and the entries a singular K leaves undetermined. */
typedef struct vjp_ends {
    fold_kkt *kkt;
    const fold_settings *set;
    const vjp_ctx *c;
    double *C;
    fold_backward_info *info;
} vjp_ends;

static fold_status vjp_rhs(void *ctx, double *B)
{
    const vjp_ends *e = ctx;
    const vjp_ctx *c = e->c;
    fold_status st = fold_kkt_null_check_vjp(e->kkt, e->set);
    if (st) return st;
    return fold_kkt_rhs_vjp(e->kkt, 1, c->xbar, c->lambar, c->zlbar, c->zubar, B, e->C);
}

static fold_status vjp_finish(void *ctx, const double *W, bool inconsistent, double *pbar)
{
    const vjp_ends *e = ctx;
    (void)inconsistent; /* not flagged: an inconsistent vjp fails the solve */
    if (e->kkt->np) fold_kkt_finish_vjp(e->kkt, 1, W, e->C, 0, NULL, pbar);
    fold_kkt_null_mark_vjp(e->kkt, 1, e->kkt->np ? pbar : NULL, e->info);
    return FOLD_OK;
}

static fold_status vjp_run(fold_solver *solver, void *vctx, double *pbar, fold_call *call)
{
    const vjp_ctx *c = vctx;
    fold_status st;
    char what[32];
    if ((st = fold_kkt_setup(solver, true, call->info, "fold_vjp")) < 0) return st;
    fold_kkt *kkt = solver->backward;
    bool bounds = c->zlbar || c->zubar;
    vjp_ends e = {kkt, &solver->set, c, NULL, call->info};
    if (bounds && !(e.C = fold_malloc((size_t)kkt->n, sizeof(double), "bound term")))
        return FOLD_ERR_MEMORY;
    fold_ends ends = {&e, vjp_rhs, vjp_finish, false};
    fold_system sys = fold_kkt_system(kkt, what, sizeof what);
    st = fold_system_apply(&sys, &ends, &solver->set, false, pbar, call->info);
    free(e.C);
    return st < 0 ? st : FOLD_OK;
}

fold_status fold_vjp(fold_solver *solver, const fold_zbar *zbar, double *pbar,
                     fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_vjp";
    fold_call call;
    fold_status st;
    double *out = NULL;
    if ((st = fold_call_begin(&call, info, solver)) < 0) return st;
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    fold_int n = solver->prob->n, m = solver->prob->m, np = solver->prob->np;
    fold_zbar zero = {0};
    if (!zbar) zbar = &zero;
    const double *xbar = zbar->x, *lambar = zbar->lam, *zlbar = zbar->zl, *zubar = zbar->zu;
    if (np > 0 && !pbar)
        return fold_call_end(&call, fold_error(FOLD_ERR_ARGUMENT, "%s: pbar is NULL", FN), solver,
                             FN);
    if ((st = fold_call_input(xbar, n, false, FN, "zbar.x")) ||
        (st = fold_call_input(lambar, m, false, FN, "zbar.lam")) ||
        (st = fold_call_input(zlbar, n, false, FN, "zbar.zl")) ||
        (st = fold_call_input(zubar, n, false, FN, "zbar.zu")))
        return fold_call_end(&call, st, solver, FN);
    vjp_ctx c = {xbar, lambar, zlbar, zubar};
    double input = fmax(fold_max_abs(xbar, xbar ? n : 0), fold_max_abs(lambar, lambar ? m : 0));
    input =
        fmax(input, fmax(fold_max_abs(zlbar, zlbar ? n : 0), fold_max_abs(zubar, zubar ? n : 0)));
    /* the gradient judged as one vector: its entries are sums over the outputs, to which the
     * caller adds the outputs' own dependence on p (the fold cannot judge a part alone) */
    fold_result_layout L = {.rows = np,
                            .cols = 1,
                            .n_kinds = 1,
                            .input = input,
                            .locate = vjp_locate,
                            .locate_ctx = &c};
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
