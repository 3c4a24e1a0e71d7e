/* Sensitivities of AC-OPF outputs (flows, losses, multipliers, dispatch, voltages, the
 * objective) with respect to any parameters, on the solver's one factorization: Jacobians
 * block by block of z through fold_jacobian, VJPs and JVPs through one fold_vjp / fold_jvp
 * (doc/acopf.md §7). */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_sens.h"

static void point_free(acopf_point *pt)
{
    free(pt->x);
    memset(pt, 0, sizeof *pt);
}

/* The solution stored in sv with grad_x f and grad_p f there: the point the fold
 * differentiates, after the tightening re-solves fold_solve may have left to it. */
static fold_status point_load(const fold_acopf *m, fold_solver *sv, acopf_point *pt, const char *fn)
{
    size_t n = (size_t)m->L.n, mm = (size_t)m->L.m, np = (size_t)m->L.np;
    memset(pt, 0, sizeof *pt);
    fold_status fs = fold_solve_finish(sv, NULL);
    if (fs < 0) return acopf_error_from_lib(fs, fn);
    pt->x = malloc((4 * n + mm + 2 * np + 1) * sizeof(double));
    if (!pt->x) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", fn);
    pt->zl = pt->x + n;
    pt->zu = pt->zl + n;
    pt->grad_f = pt->zu + n;
    pt->lam = pt->grad_f + n;
    pt->p = pt->lam + mm;
    pt->grad_f_p = pt->p + np;
    fold_status st = fold_solver_solution(sv, pt->x, pt->lam, pt->zl, pt->zu, NULL);
    if (st == FOLD_OK) st = fold_solver_params(sv, pt->p);
    if (st != FOLD_OK) {
        point_free(pt);
        return acopf_error_from_lib(st, fn);
    }
    acopf_cb_grad_f(pt->x, pt->p, pt->grad_f, (void *)m);
    acopf_cb_grad_f_p(pt->x, pt->p, pt->grad_f_p, (void *)m);
    return FOLD_OK;
}

static fold_status check_args(const fold_acopf *m, const fold_solver *sv, fold_int n_out,
                              const fold_acopf_output *out, const char *fn)
{
    if (!m || !sv || (n_out > 0 && !out) || n_out < 0)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: %s", fn,
                           !m    ? "model is NULL"
                           : !sv ? "solver is NULL"
                                 : "no outputs");
    if (fold_solver_problem(sv) != m->prob)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: the solver is not of this model's problem", fn);
    for (fold_int r = 0; r < n_out; r++) {
        int type = fold_acopf_output_item_type(out[r].kind);
        if (type < 0 || out[r].item < 0 || out[r].item >= fold_acopf_item_count(m, type))
            return acopf_error(FOLD_ERR_ARGUMENT,
                               "%s: output %lld: kind %d, item %lld out of "
                               "range",
                               fn, (long long)r, out[r].kind, (long long)out[r].item);
    }
    return FOLD_OK;
}

/* Keep the first warning (its message in the acopf detail); errors end the call. */
static fold_status merge(fold_status acc, fold_status st, const char *fn)
{
    if (st > 0 && acc == FOLD_OK) {
        acopf_error_from_lib(st, fn);
        return st;
    }
    return acc;
}

static void add_info(fold_backward_info *sum, const fold_backward_info *b, bool first)
{
    if (first) {
        *sum = *b;
        return;
    }
    sum->n_rhs += b->n_rhs;
    sum->iterations += b->iterations;
    sum->assemble_s += b->assemble_s;
    sum->analyze_s += b->analyze_s;
    sum->factor_s += b->factor_s;
    sum->solve_s += b->solve_s;
    sum->total_s += b->total_s;
    sum->residual = fmax(sum->residual, b->residual);
    sum->n_not_unique += b->n_not_unique;
    sum->reused_factorization = sum->reused_factorization && b->reused_factorization;
    sum->n_candidates = b->n_candidates > sum->n_candidates ? b->n_candidates : sum->n_candidates;
    sum->n_variants += b->n_variants;
    sum->barrier_error = fmax(sum->barrier_error, b->barrier_error);
}

/* The counts of the info in the result's entries (those of the library count the entries of
 * the solution's derivative). */
static void info_counts(fold_backward_info *info)
{
    if (!info) return;
    info->n_uncertain = acopf_trust_count(FOLD_TRUST_UNCERTAIN);
    info->n_barrier_error = acopf_trust_count(FOLD_TRUST_BARRIER_ERROR);
}

fold_status fold_acopf_output_values(const fold_acopf *m, const fold_solver *sv, fold_int n_out,
                                     const fold_acopf_output *out, double *values)
{
    fold_clear_error();
    static const char *FN = "fold_acopf_output_values";
    fold_status st = check_args(m, sv, n_out, out, FN);
    fold_acopf_results *r = NULL;
    if (st != FOLD_OK || (st = fold_acopf_results_from_solver(m, sv, &r)) != FOLD_OK) return st;
    for (fold_int k = 0; k < n_out; k++) {
        fold_int i = out[k].item;
        const double *col[FOLD_ACOPF_N_OUTPUT_KINDS] = {[FOLD_ACOPF_OUT_PG] = r->pg,
                                                        [FOLD_ACOPF_OUT_QG] = r->qg,
                                                        [FOLD_ACOPF_OUT_VM] = r->vm,
                                                        [FOLD_ACOPF_OUT_VA] = r->va,
                                                        [FOLD_ACOPF_OUT_PF] = r->pf,
                                                        [FOLD_ACOPF_OUT_QF] = r->qf,
                                                        [FOLD_ACOPF_OUT_PT] = r->pt,
                                                        [FOLD_ACOPF_OUT_QT] = r->qt,
                                                        [FOLD_ACOPF_OUT_PLOSS] = r->ploss,
                                                        [FOLD_ACOPF_OUT_LAM_P] = r->lam_p,
                                                        [FOLD_ACOPF_OUT_LAM_Q] = r->lam_q,
                                                        [FOLD_ACOPF_OUT_MU_VMIN] = r->mu_vmin,
                                                        [FOLD_ACOPF_OUT_MU_VMAX] = r->mu_vmax,
                                                        [FOLD_ACOPF_OUT_MU_PMIN] = r->mu_pmin,
                                                        [FOLD_ACOPF_OUT_MU_PMAX] = r->mu_pmax,
                                                        [FOLD_ACOPF_OUT_MU_QMIN] = r->mu_qmin,
                                                        [FOLD_ACOPF_OUT_MU_QMAX] = r->mu_qmax,
                                                        [FOLD_ACOPF_OUT_MU_SF] = r->mu_sf,
                                                        [FOLD_ACOPF_OUT_MU_ST] = r->mu_st,
                                                        [FOLD_ACOPF_OUT_MU_ANGMIN] = r->mu_angmin,
                                                        [FOLD_ACOPF_OUT_MU_ANGMAX] = r->mu_angmax};
        values[k] = out[k].kind == FOLD_ACOPF_OUT_OBJECTIVE ? r->objective : col[out[k].kind][i];
    }
    fold_acopf_results_free(r);
    return FOLD_OK;
}

/* A backward info that has not run (the library's own calls reset it the same way): defined
 * on the paths that fail before the library is called. */
static void bwd_not_run(fold_backward_info *info)
{
    if (!info) return;
    *info = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    info->reason = FOLD_REASON_NOT_RUN;
}

/* The caller's info (NULL allowed) checked before anything else: the calls below fill a full
 * one, copied into the part of the caller's its size covers (doc/api/types.md). */
static fold_status bwd_open(fold_backward_info *info, fold_backward_info *full)
{
    return fold_sized_open(info, full, sizeof *full, FOLD_BACKWARD_INFO_V1, "fold_backward_info",
                           "FOLD_BACKWARD_INFO_INIT");
}

static fold_status vjp_full(const fold_acopf *m, fold_solver *sv, fold_int n_out,
                            const fold_acopf_output *out, const double *weights, double *pbar,
                            fold_backward_info *info)
{
    static const char *FN = "fold_acopf_vjp";
    acopf_point pt;
    acopf_lin l;
    bwd_not_run(info);
    acopf_trust_free(acopf_trust_begin()); /* this call's report (its entries: parameters) */
    fold_status st = check_args(m, sv, n_out, out, FN);
    if (st != FOLD_OK || !pbar)
        return st ? st : acopf_error(FOLD_ERR_ARGUMENT, "%s: pbar is NULL", FN);
    if ((st = point_load(m, sv, &pt, FN)) != FOLD_OK) return st;
    if ((st = acopf_lin_build(m, &pt, n_out, out, &l)) != FOLD_OK) {
        point_free(&pt);
        return st;
    }
    size_t n = (size_t)m->L.n, mm = (size_t)m->L.m;
    double *bar = calloc(3 * n + mm + 1, sizeof(double));         /* xbar, zlbar, zubar, lambar */
    double *pshift = calloc((size_t)m->L.np + 1, sizeof(double)); /* the outputs' p-terms */
    if (!bar || !pshift) {
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
        goto done;
    }
    double *blk[4] = {bar, bar + 3 * n, bar + n, bar + 2 * n}; /* indexed by fold_block */
    for (fold_int r = 0; r < n_out; r++) {
        double w = weights ? weights[r] : 1;
        for (fold_int q = l.zp[r]; q < l.zp[r + 1]; q++)
            blk[l.zb[q]][l.zi[q]] += w * l.zc[q];
    }
    st = fold_vjp(sv,
                  &(fold_zbar){.x = blk[FOLD_BLOCK_X],
                               .lam = mm ? blk[FOLD_BLOCK_LAM] : NULL,
                               .zl = blk[FOLD_BLOCK_ZL],
                               .zu = blk[FOLD_BLOCK_ZU]},
                  pbar, info);
    if (st < 0) {
        st = acopf_error_from_lib(st, FN);
        goto done;
    }
    merge(FOLD_OK, st, FN);
    for (fold_int r = 0; r < n_out; r++) { /* the outputs' own dependence on p */
        double w = weights ? weights[r] : 1;
        for (fold_int q = l.pp[r]; q < l.pp[r + 1]; q++)
            pshift[l.pi[q]] += w * l.pc[q];
    }
    for (fold_int k = 0; k < m->L.np; k++)
        pbar[k] += pshift[k];
    fold_status tr = acopf_trust_vjp(sv, pshift, FN);
    if (tr < 0) st = tr;
    info_counts(info);
done:
    free(bar);
    free(pshift);
    acopf_lin_free(&l);
    point_free(&pt);
    return st;
}

/* The values the trust report combines (sens_trust.c): of a jvp, and of a Jacobian. */
typedef struct jvp_values {
    double *const *blk;
    const double *dp;
    const acopf_lin *l;
} jvp_values;

static double jvp_z(void *ud, int block, fold_int z, fold_int col)
{
    (void)col;
    return ((jvp_values *)ud)->blk[block][z];
}

static double jvp_p(void *ud, fold_int r, fold_int c)
{
    const jvp_values *v = ud;
    double s = 0;
    (void)c;
    for (fold_int q = v->l->pp[r]; q < v->l->pp[r + 1]; q++)
        s += v->l->pc[q] * v->dp[v->l->pi[q]];
    return s;
}

static fold_status jvp_full(const fold_acopf *m, fold_solver *sv, const double *dp, fold_int n_out,
                            const fold_acopf_output *out, double *dout, fold_backward_info *info)
{
    static const char *FN = "fold_acopf_jvp";
    acopf_point pt;
    acopf_lin l;
    bwd_not_run(info);
    acopf_trust_free(acopf_trust_begin()); /* this call's report, empty until it is made */
    fold_status st = check_args(m, sv, n_out, out, FN);
    if (st != FOLD_OK || !dp || !dout)
        return st ? st : acopf_error(FOLD_ERR_ARGUMENT, "%s: dp or dout is NULL", FN);
    if ((st = point_load(m, sv, &pt, FN)) != FOLD_OK) return st;
    if ((st = acopf_lin_build(m, &pt, n_out, out, &l)) != FOLD_OK) {
        point_free(&pt);
        return st;
    }
    size_t n = (size_t)m->L.n, mm = (size_t)m->L.m;
    double *dz = malloc((3 * n + mm + 1) * sizeof(double));
    acopf_trust *tr = acopf_trust_begin();
    if (!dz) {
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
        goto done;
    }
    double *blk[4] = {dz, dz + 3 * n, dz + n, dz + 2 * n};
    st = fold_jvp(sv, dp,
                  &(fold_dz){.x = blk[FOLD_BLOCK_X],
                             .lam = mm ? blk[FOLD_BLOCK_LAM] : NULL,
                             .zl = blk[FOLD_BLOCK_ZL],
                             .zu = blk[FOLD_BLOCK_ZU]},
                  info);
    if (st < 0) {
        st = acopf_error_from_lib(st, FN);
        goto done;
    }
    merge(FOLD_OK, st, FN);
    jvp_values v = {blk, dp, &l};
    for (fold_int r = 0; r < n_out; r++) {
        double s = jvp_p(&v, r, 0);
        for (fold_int q = l.zp[r]; q < l.zp[r + 1]; q++)
            s += l.zc[q] * blk[l.zb[q]][l.zi[q]];
        dout[r] = s;
    }
    acopf_zlayout zl = {.n = m->L.n};
    fold_status ts = FOLD_OK;
    if (tr && (ts = acopf_trust_zcall(tr, sv, &zl, FN)) == FOLD_OK)
        ts = acopf_trust_finish(tr, m, &l, out, NULL, jvp_z, jvp_p, &v, FN);
    if (ts < 0) st = ts;
    info_counts(info);
done:
    acopf_trust_free(tr);
    free(dz);
    acopf_lin_free(&l);
    point_free(&pt);
    return st;
}

/* d z[block][rows] / d p[cols] (n_rows x n_cols, column-major) by fold_jacobian, in chunks
 * along the dimension fold_jacobian solves for (columns in forward mode, n_cols <= n_rows;
 * rows otherwise) when progress is reported. */
typedef struct progress_state {
    fold_acopf_progress_fn fn;
    void *ud;
    fold_int done, total;
    fold_backward_info info;
    bool has_info;
    acopf_trust *trust; /* the report of each call is collected (NULL: not) */
} progress_state;

static fold_status block_jacobian(fold_solver *sv, int block, fold_int n_rows, const fold_int *rows,
                                  fold_int n_cols, const fold_int *cols, double *Jb,
                                  progress_state *ps, const char *fn)
{
    bool forward = n_cols <= n_rows;
    fold_int total = forward ? n_cols : n_rows;
    /* one call, or about 20 when progress is shown (each call copies the factors out) */
    fold_int chunk = ps->fn ? (total + 19) / 20 : total;
    if (chunk < 64) chunk = 64;
    double *tmp = forward || chunk >= total ? NULL : malloc((size_t)(chunk * n_cols) * 8 + 8);
    fold_status acc = FOLD_OK;
    if (!forward && chunk < total && !tmp)
        return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", fn);
    for (fold_int k0 = 0; k0 < total; k0 += chunk) {
        fold_int nb = total - k0 < chunk ? total - k0 : chunk;
        fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
        fold_status st;
        if (forward)
            st = fold_jacobian(sv,
                               &(fold_jacobian_sel){.of = (fold_block)block,
                                                    .n_rows = n_rows,
                                                    .rows = rows,
                                                    .n_cols = nb,
                                                    .cols = cols + k0},
                               Jb + k0 * n_rows, &bi);
        else if (!tmp)
            st = fold_jacobian(sv,
                               &(fold_jacobian_sel){.of = (fold_block)block,
                                                    .n_rows = n_rows,
                                                    .rows = rows,
                                                    .n_cols = n_cols,
                                                    .cols = cols},
                               Jb, &bi);
        else {
            st = fold_jacobian(sv,
                               &(fold_jacobian_sel){.of = (fold_block)block,
                                                    .n_rows = nb,
                                                    .rows = rows + k0,
                                                    .n_cols = n_cols,
                                                    .cols = cols},
                               tmp, &bi);
            for (fold_int c = 0; st >= 0 && c < n_cols; c++)
                memcpy(Jb + c * n_rows + k0, tmp + c * nb, (size_t)nb * sizeof(double));
        }
        if (st < 0) { /* the failing call's info says why */
            free(tmp);
            ps->info = bi;
            ps->has_info = true;
            return acopf_error_from_lib(st, fn);
        }
        acc = merge(acc, st, fn);
        add_info(&ps->info, &bi, !ps->has_info);
        ps->has_info = true;
        /* where this call's entries are in the result */
        acopf_zlayout zl = {block,
                            forward || !tmp ? rows : rows + k0,
                            forward || !tmp ? n_rows : nb,
                            forward ? k0 : 0,
                            forward ? nb : n_cols,
                            0};
        fold_status ts = ps->trust ? acopf_trust_zcall(ps->trust, sv, &zl, fn) : FOLD_OK;
        if (ts < 0) {
            free(tmp);
            return ts;
        }
        ps->done += nb;
        if (ps->fn) ps->fn(ps->done, ps->total, ps->ud);
    }
    free(tmp);
    return acc;
}

/* Per block of z: the entries any output uses (pos: entry -> row of that block's Jacobian,
 * -1 when unused), in increasing order. */
typedef struct block_rows {
    fold_int n, *idx, *pos;
    double *J;
} block_rows;

static fold_status collect_rows(const fold_acopf *m, const acopf_lin *l, block_rows *br)
{
    fold_int len[4] = {m->L.n, m->L.m, m->L.n, m->L.n};
    for (int b = 0; b < 4; b++) {
        br[b].pos = malloc(((size_t)len[b] + 1) * sizeof(fold_int));
        br[b].idx = malloc(((size_t)len[b] + 1) * sizeof(fold_int));
        if (!br[b].pos || !br[b].idx) return FOLD_ERR_MEMORY;
        for (fold_int j = 0; j < len[b]; j++)
            br[b].pos[j] = -1;
    }
    for (fold_int q = 0; q < l->nz; q++)
        br[l->zb[q]].pos[l->zi[q]] = 0;
    for (int b = 0; b < 4; b++)
        for (fold_int j = 0; j < len[b]; j++)
            if (br[b].pos[j] == 0) {
                br[b].pos[j] = br[b].n;
                br[b].idx[br[b].n++] = j;
            }
    return FOLD_OK;
}

typedef struct jac_values {
    const block_rows *br;
    const fold_int *col_of;
    const acopf_lin *l;
} jac_values;

static double jac_z(void *ud, int block, fold_int z, fold_int col)
{
    const block_rows *B = &((jac_values *)ud)->br[block];
    return B->J[col * B->n + B->pos[z]];
}

static double jac_p(void *ud, fold_int r, fold_int c)
{
    const jac_values *v = ud;
    double s = 0;
    for (fold_int q = v->l->pp[r]; q < v->l->pp[r + 1]; q++)
        if (v->col_of[v->l->pi[q]] == c) s += v->l->pc[q];
    return s;
}

static fold_status jacobian_full(const fold_acopf *m, fold_solver *sv, fold_int n_out,
                                 const fold_acopf_output *out, fold_int n_cols,
                                 const fold_int *cols, double *J, fold_backward_info *info,
                                 fold_acopf_progress_fn progress, void *user_data)
{
    static const char *FN = "fold_acopf_jacobian";
    acopf_point pt;
    acopf_lin l;
    block_rows br[4];
    fold_int *all = NULL, *col_of = NULL;
    memset(br, 0, sizeof br);
    bwd_not_run(info);
    acopf_trust *tr = acopf_trust_begin();
    fold_status st = check_args(m, sv, n_out, out, FN), acc = FOLD_OK;
    if (st != FOLD_OK) {
        acopf_trust_free(tr);
        return st;
    }
    if (!cols && n_cols != m->L.np)
        st = acopf_error(FOLD_ERR_ARGUMENT, "%s: cols is NULL but n_cols = %lld, np = %lld", FN,
                         (long long)n_cols, (long long)m->L.np);
    for (fold_int c = 0; st == FOLD_OK && cols && c < n_cols; c++)
        if (cols[c] < 0 || cols[c] >= m->L.np)
            st = acopf_error(FOLD_ERR_ARGUMENT, "%s: cols[%lld] = %lld outside [0, %lld)", FN,
                             (long long)c, (long long)cols[c], (long long)m->L.np);
    if (st == FOLD_OK && n_out > 0 && n_cols > 0 && !J)
        st = acopf_error(FOLD_ERR_ARGUMENT, "%s: J is NULL", FN);
    if (st != FOLD_OK || (st = point_load(m, sv, &pt, FN)) != FOLD_OK) {
        acopf_trust_free(tr);
        return st;
    }
    if ((st = acopf_lin_build(m, &pt, n_out, out, &l)) != FOLD_OK) {
        acopf_trust_free(tr);
        point_free(&pt);
        return st;
    }
    if (!cols && (all = malloc(((size_t)n_cols + 1) * sizeof *all)) != NULL)
        for (fold_int c = 0; c < n_cols; c++)
            all[c] = c;
    col_of = malloc(((size_t)m->L.np + 1) * sizeof *col_of);
    if ((!cols && !all) || !col_of || collect_rows(m, &l, br) != FOLD_OK) {
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
        goto done;
    }
    if (!cols) cols = all;
    progress_state ps = {progress, user_data, 0, 0, {0}, false, tr};
    ps.info.reason = FOLD_REASON_NOT_RUN; /* until a block is solved */
    for (int b = 0; b < 4; b++)
        if (br[b].n > 0) ps.total += n_cols <= br[b].n ? n_cols : br[b].n;
    for (int b = 0; b < 4 && n_cols > 0; b++) {
        if (br[b].n == 0) continue;
        br[b].J = malloc((size_t)(br[b].n * n_cols) * sizeof(double));
        if (!br[b].J) {
            st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
            goto done;
        }
        st = block_jacobian(sv, b, br[b].n, br[b].idx, n_cols, cols, br[b].J, &ps, FN);
        if (st < 0) {
            if (info) *info = ps.info;
            goto done;
        }
        acc = merge(acc, st, FN);
    }
    for (fold_int j = 0; j < m->L.np; j++)
        col_of[j] = -1;
    for (fold_int c = 0; c < n_cols; c++)
        col_of[cols[c]] = c;
    fold_int n_nan = 0;
    for (fold_int c = 0; c < n_cols; c++)
        for (fold_int r = 0; r < n_out; r++) {
            double s = 0;
            for (fold_int q = l.zp[r]; q < l.zp[r + 1]; q++) {
                const block_rows *B = &br[l.zb[q]];
                s += l.zc[q] * B->J[c * B->n + B->pos[l.zi[q]]];
            }
            for (fold_int q = l.pp[r]; q < l.pp[r + 1]; q++)
                if (col_of[l.pi[q]] == c) s += l.pc[q];
            J[c * n_out + r] = s;
            n_nan += isnan(s);
        }
    jac_values v = {br, col_of, &l};
    fold_status ts = tr ? acopf_trust_finish(tr, m, &l, out, cols, jac_z, jac_p, &v, FN) : FOLD_OK;
    info_counts(&ps.info);
    ps.info.n_not_unique = n_nan - ps.info.n_uncertain; /* the uncertain ones are NaN too */
    if (info) *info = ps.info;
    st = ts < 0 ? ts : acc;
done:
    acopf_trust_free(tr);
    for (int b = 0; b < 4; b++) {
        free(br[b].pos);
        free(br[b].idx);
        free(br[b].J);
    }
    free(all);
    free(col_of);
    acopf_lin_free(&l);
    point_free(&pt);
    return st;
}

fold_status fold_acopf_vjp(const fold_acopf *m, fold_solver *sv, fold_int n_out,
                           const fold_acopf_output *out, const double *weights, double *pbar,
                           fold_backward_info *info)
{
    fold_backward_info full = FOLD_BACKWARD_INFO_INIT;
    fold_clear_error();
    fold_status st = bwd_open(info, &full);
    if (st < 0) return st;
    st = vjp_full(m, sv, n_out, out, weights, pbar, &full);
    fold_sized_close(info, &full, sizeof full);
    return st;
}

fold_status fold_acopf_jvp(const fold_acopf *m, fold_solver *sv, const double *dp, fold_int n_out,
                           const fold_acopf_output *out, double *dout, fold_backward_info *info)
{
    fold_backward_info full = FOLD_BACKWARD_INFO_INIT;
    fold_clear_error();
    fold_status st = bwd_open(info, &full);
    if (st < 0) return st;
    st = jvp_full(m, sv, dp, n_out, out, dout, &full);
    fold_sized_close(info, &full, sizeof full);
    return st;
}

fold_status fold_acopf_jacobian(const fold_acopf *m, fold_solver *sv, fold_int n_out,
                                const fold_acopf_output *out, fold_int n_cols, const fold_int *cols,
                                double *J, fold_backward_info *info,
                                fold_acopf_progress_fn progress, void *user_data)
{
    fold_backward_info full = FOLD_BACKWARD_INFO_INIT;
    fold_clear_error();
    fold_status st = bwd_open(info, &full);
    if (st < 0) return st;
    st = jacobian_full(m, sv, n_out, out, n_cols, cols, J, &full, progress, user_data);
    fold_sized_close(info, &full, sizeof full);
    return st;
}
