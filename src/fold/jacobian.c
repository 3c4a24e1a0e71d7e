/* fold_jacobian: selected entries of dz/dp on one factorization, by forward mode (columns)
 * or reverse mode (rows), whichever count is smaller, in blocks of backward.block_size
 * right-hand sides (doc/math.md §3.6); rows and columns a singular K leaves undetermined are
 * NaN (§4.8). */
#include "fold/fold_internal.h"

static fold_int block_len(const fold_solver *solver, fold_block of)
{
    return of == FOLD_BLOCK_LAM ? solver->prob->m : solver->prob->n;
}

static fold_int pick(const fold_int *idx, fold_int k)
{
    return idx ? idx[k] : k;
}

/* Which rows and columns of J are NaN (doc/math.md §4.8): flagged by the null-space probe
 * before any solve (eq. 4.11; they are not solved), or found inconsistent by the
 * refinement test of their solve (eq. 4.9). */
typedef struct nan_lines {
    unsigned char *row, *col;          /* n_rows, n_cols */
    unsigned char *bad;                /* per right-hand side of a block: inconsistent */
    fold_int n_row, n_col;             /* rows and columns marked */
    fold_int n_row_solve, n_col_solve; /* of which found by the solves */
} nan_lines;

/* The right-hand sides of a block that the solve found inconsistent: NaN lines of J, or
 * under backward.not_unique = refuse FOLD_ERR_SINGULAR naming the first. */
static fold_status mark_inconsistent(const fold_solver *solver, bool forward, const fold_int *idx,
                                     fold_int k0, fold_int nb, nan_lines *nl)
{
    const fold_kkt *kkt = solver->backward;
    for (fold_int q = 0; q < nb; q++) {
        if (!nl->bad[q]) continue;
        if (solver->set.backward.not_unique == FOLD_NOT_UNIQUE_REFUSE)
            return fold_kkt_null_refuse_line(kkt, forward, pick(idx, k0 + q));
        unsigned char *line = forward ? nl->col : nl->row;
        line[k0 + q] = 1;
        if (forward)
            nl->n_col++, nl->n_col_solve++;
        else
            nl->n_row++, nl->n_row_solve++;
    }
    return FOLD_OK;
}

/* Forward mode: columns cols[c0 .. c0+nb) of dz/dp, scattered into J. */
static fold_status forward_block(fold_solver *solver, fold_block of, fold_int n_rows,
                                 const fold_int *rows, const fold_int *cols, fold_int c0,
                                 fold_int nb, double *work, double *J, nan_lines *nl,
                                 fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_int np = kkt->np, nK = kkt->sys.nK;
    fold_int len = block_len(solver, of);
    double *dP = work, *B = dP + np * nb, *U = B + nK * nb, *Z = U + nK * nb;
    fold_status st;
    memset(dP, 0, (size_t)(np * nb) * sizeof(double));
    for (fold_int c = 0; c < nb; c++) /* a flagged column is not solved */
        if (!nl->col[c0 + c]) dP[c * np + pick(cols, c0 + c)] = 1.0;
    if ((st = fold_kkt_rhs_jvp(kkt, nb, dP, B)) < 0) return st;
    if ((st = fold_kkt_solve(kkt, &solver->set, nb, B, U, nl->bad, call->info)) < 0) return st;
    if ((st = mark_inconsistent(solver, true, cols, c0, nb, nl))) return st;
    fold_kkt_finish_jvp(kkt, nb, dP, U, of == FOLD_BLOCK_X ? Z : NULL,
                        of == FOLD_BLOCK_LAM ? Z : NULL, of == FOLD_BLOCK_ZL ? Z : NULL,
                        of == FOLD_BLOCK_ZU ? Z : NULL);
    for (fold_int c = 0; c < nb; c++)
        for (fold_int r = 0; r < n_rows; r++)
            J[(c0 + c) * n_rows + r] = Z[c * len + pick(rows, r)];
    return FOLD_OK;
}

/* Reverse mode: rows rows[r0 .. r0+nb) of dz/dp, gathered into J. */
static fold_status reverse_block(fold_solver *solver, fold_block of, fold_int n_rows,
                                 const fold_int *rows, fold_int n_cols, const fold_int *cols,
                                 fold_int r0, fold_int nb, double *work, double *J, nan_lines *nl,
                                 fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_int n = kkt->n, np = kkt->np, nK = kkt->sys.nK;
    fold_int len = block_len(solver, of);
    double *E = work, *B = E + len * nb, *W = B + nK * nb, *C = W + nK * nb, *P = C + n * nb;
    fold_status st;
    memset(E, 0, (size_t)(len * nb) * sizeof(double));
    for (fold_int r = 0; r < nb; r++) /* a flagged row is not solved */
        if (!nl->row[r0 + r]) E[r * len + pick(rows, r0 + r)] = 1.0;
    st = fold_kkt_rhs_vjp(kkt, nb, of == FOLD_BLOCK_X ? E : NULL, of == FOLD_BLOCK_LAM ? E : NULL,
                          of == FOLD_BLOCK_ZL ? E : NULL, of == FOLD_BLOCK_ZU ? E : NULL, B, C);
    if (st < 0) return st;
    if ((st = fold_kkt_solve(kkt, &solver->set, nb, B, W, nl->bad, call->info)) < 0) return st;
    if ((st = mark_inconsistent(solver, false, rows, r0, nb, nl))) return st;
    fold_kkt_finish_vjp(kkt, nb, W, C, n_cols, cols, P);
    for (fold_int r = 0; r < nb; r++)
        for (fold_int c = 0; c < n_cols; c++)
            J[c * n_rows + r0 + r] = P[r * np + pick(cols, c)];
    return FOLD_OK;
}

/* The rows and columns of J that a singular K leaves undetermined (eq. 4.11) into nl;
 * under backward.not_unique = refuse, FOLD_ERR_SINGULAR naming the first entry (before any
 * solve: J is then never touched). */
static fold_status flag_undetermined(const fold_solver *solver, fold_block of, fold_int n_rows,
                                     const fold_int *rows, fold_int n_cols, const fold_int *cols,
                                     nan_lines *nl)
{
    const fold_kkt *kkt = solver->backward;
    if (!kkt->ns.has_null) return FOLD_OK;
    for (fold_int c = 0; c < n_cols; c++)
        nl->n_col += nl->col[c] = kkt->ns.null_p[pick(cols, c)];
    for (fold_int r = 0; r < n_rows; r++)
        nl->n_row += nl->row[r] = fold_kkt_null_entry(kkt, of, pick(rows, r));
    if (solver->set.backward.not_unique != FOLD_NOT_UNIQUE_REFUSE || (!nl->n_row && !nl->n_col))
        return FOLD_OK;
    for (fold_int c = 0; c < n_cols; c++)
        for (fold_int r = 0; r < n_rows; r++) {
            if (!nl->col[c] && !nl->row[r]) continue;
            char dirs[FOLD_LIST_LEN] = "", out[FOLD_NAME_MAX], par[FOLD_NAME_MAX];
            fold_kkt_null_describe(kkt, dirs, sizeof dirs);
            fold_prob_name(kkt->prob,
                           of == FOLD_BLOCK_LAM ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE,
                           pick(rows, r), out, sizeof out);
            fold_prob_name(kkt->prob, FOLD_ITEM_PARAMETER, pick(cols, c), par, sizeof par);
            return fold_error(FOLD_ERR_SINGULAR,
                              "%s: entry (%s%s, %s) is not unique: the KKT matrix is singular "
                              "(null direction on %s; backward.not_unique = refuse)",
                              kkt->fn, of == FOLD_BLOCK_X ? "" : "multiplier of ", out, par, dirs);
        }
    return FOLD_OK;
}

/* Set the marked lines of J to NaN, count the entries, and say which lines and why in the
 * call's note (appended to the FOLD_WARN_NOT_UNIQUE message). */
static fold_int mark_lines(const fold_problem *prob, const nan_lines *nl, fold_block of,
                           fold_int n_rows, const fold_int *rows, fold_int n_cols,
                           const fold_int *cols, double *J, fold_call *call)
{
    static const char *const block_of[] = {"", "multipliers of ", "lower-bound multipliers of ",
                                           "upper-bound multipliers of "};
    fold_int count = 0;
    for (fold_int c = 0; c < n_cols; c++)
        for (fold_int r = 0; r < n_rows; r++)
            if (nl->col[c] || nl->row[r]) {
                J[c * n_rows + r] = NAN;
                count++;
            }
    char *buf = call->note;
    size_t size = sizeof call->note;
    buf[0] = '\0';
    if (nl->n_col) {
        snprintf(buf, size, "not differentiable with respect to %lld of the parameters (",
                 (long long)nl->n_col);
        fold_prob_name_list(prob, FOLD_ITEM_PARAMETER, nl->col, cols, n_cols, 4, buf + strlen(buf),
                            size - strlen(buf));
        size_t at = strlen(buf);
        snprintf(buf + at, size - at,
                 "; %lld flagged by the null-space probe, %lld by their "
                 "solves): their right-hand sides are not orthogonal to the null space, a "
                 "change of one alone pulls dependent constraints apart; NaN columns",
                 (long long)(nl->n_col - nl->n_col_solve), (long long)nl->n_col_solve);
    }
    if (nl->n_row) {
        size_t at = strlen(buf);
        snprintf(buf + at, size - at, "%s%lld outputs not unique (%s", at ? "; " : "",
                 (long long)nl->n_row, block_of[of]);
        at = strlen(buf);
        fold_prob_name_list(prob, of == FOLD_BLOCK_LAM ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE,
                            nl->row, rows, n_rows, 4, buf + at, size - at);
        at = strlen(buf);
        snprintf(buf + at, size - at, "%s): NaN rows",
                 nl->n_row_solve ? ", upstream gradients not orthogonal to the null space" : "");
    }
    return count;
}

static fold_status check_args(const fold_solver *solver, fold_block of, fold_int n_rows,
                              const fold_int *rows, fold_int n_cols, const fold_int *cols,
                              const double *J, const char *fn)
{
    fold_int len, np = solver->prob->np;
    fold_status st;
    if (of < FOLD_BLOCK_X || of > FOLD_BLOCK_ZU)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: of = %d is not a fold_block (0..3)", fn, (int)of);
    len = block_len(solver, of);
    if (!rows && n_rows != len)
        return fold_error(FOLD_ERR_DIMENSION,
                          "%s: rows is NULL (all rows) but n_rows = %lld, block has %lld (0: all)",
                          fn, (long long)n_rows, (long long)len);
    if (!cols && n_cols != np)
        return fold_error(FOLD_ERR_DIMENSION,
                          "%s: cols is NULL (all parameters) but n_cols = %lld, np = %lld (0: all)",
                          fn, (long long)n_cols, (long long)np);
    if ((st = fold_check_index_list(rows, n_rows, len, fn, "rows")) ||
        (st = fold_check_index_list(cols, n_cols, np, fn, "cols")))
        return st;
    if (n_rows > 0 && n_cols > 0 && !J) return fold_error(FOLD_ERR_ARGUMENT, "%s: J is NULL", fn);
    return FOLD_OK;
}

/* A Jacobian call: the selection, and per entry its place for the report. */
typedef struct jac_ctx {
    fold_block of;
    fold_int n_rows, n_cols;
    const fold_int *rows, *cols;
} jac_ctx;

static void jac_locate(const void *ctx, fold_int k, int *block, fold_int *row, fold_int *col)
{
    const jac_ctx *c = ctx;
    *block = c->of;
    *row = pick(c->rows, k % c->n_rows);
    *col = pick(c->cols, k / c->n_rows);
}

/* The NaN lines of the primary result in the report: a column of a parameter along which
 * the solution is not differentiable, a row of an output that is not unique. */
static fold_status report_lines(fold_kkt *kkt, const jac_ctx *c, const nan_lines *nl)
{
    for (fold_int j = 0; j < c->n_cols; j++)
        if (nl->col[j] && fold_report_entry(kkt, FOLD_TRUST_INCONSISTENT, -1, -1, -1,
                                            pick(c->cols, j), NAN, NAN, NAN) < 0)
            return FOLD_ERR_MEMORY;
    for (fold_int r = 0; r < c->n_rows; r++)
        if (nl->row[r] && fold_report_entry(kkt, FOLD_TRUST_NOT_UNIQUE, c->of, -1, pick(c->rows, r),
                                            -1, NAN, NAN, NAN) < 0)
            return FOLD_ERR_MEMORY;
    return FOLD_OK;
}

static fold_status jac_run(fold_solver *solver, void *vctx, double *out, fold_call *call)
{
    const jac_ctx *c = vctx;
    fold_status st;
    double *work = NULL;
    nan_lines nl = {0};
    if ((st = fold_kkt_setup(solver, true, call->info, "fold_jacobian")) < 0) return st;
    fold_kkt *kkt = solver->backward;
    fold_int n = kkt->n, np = kkt->np, nK = kkt->sys.nK, len = block_len(solver, c->of);
    bool forward = c->n_cols <= c->n_rows;
    fold_int bs = solver->set.backward.block_size;
    if (bs > (forward ? c->n_cols : c->n_rows)) bs = forward ? c->n_cols : c->n_rows;
    /* Work: forward dP, B, U, result (len); reverse E, B, W, C (n), pbar (np). */
    size_t per = forward ? (size_t)(np + 2 * nK + len) : (size_t)(len + 2 * nK + n + np);
    work = fold_malloc(per * (size_t)bs + 1, sizeof(double), "jacobian work");
    nl.row = fold_calloc((size_t)(c->n_rows + c->n_cols + bs), 1, "jacobian NaN lines");
    if (!work || !nl.row) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    nl.col = nl.row + c->n_rows;
    nl.bad = nl.col + c->n_cols;
    if ((st = flag_undetermined(solver, c->of, c->n_rows, c->rows, c->n_cols, c->cols, &nl)))
        goto done;
    for (fold_int k0 = 0; k0 < (forward ? c->n_cols : c->n_rows); k0 += bs) {
        fold_int nb = (forward ? c->n_cols : c->n_rows) - k0;
        if (nb > bs) nb = bs;
        st = forward ? forward_block(solver, c->of, c->n_rows, c->rows, c->cols, k0, nb, work, out,
                                     &nl, call)
                     : reverse_block(solver, c->of, c->n_rows, c->rows, c->n_cols, c->cols, k0, nb,
                                     work, out, &nl, call);
        if (st < 0) goto done;
    }
    call->info->n_not_unique +=
        mark_lines(solver->prob, &nl, c->of, c->n_rows, c->rows, c->n_cols, c->cols, out, call);
    if (fold_kkt_primary(kkt) && (nl.n_row || nl.n_col)) st = report_lines(kkt, c, &nl);
done:
    free(work);
    free(nl.row);
    fold_la_factor_trim(kkt->fac.F); /* the buffers of many right-hand sides */
    return st;
}

fold_status fold_jacobian(fold_solver *solver, const fold_jacobian_sel *sel, double *J,
                          fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_jacobian";
    fold_call call;
    fold_status st;
    double *out = NULL;
    fold_int *kinds = NULL, *col_kinds = NULL;
    fold_jacobian_sel all = {FOLD_BLOCK_X, 0, NULL, 0, NULL};
    if (!sel) sel = &all;
    fold_block of = sel->of;
    fold_int n_rows = sel->n_rows, n_cols = sel->n_cols;
    const fold_int *rows = sel->rows, *cols = sel->cols;
    if ((st = fold_call_begin(&call, info, solver)) < 0) return st;
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    /* NULL rows / cols with a count of 0: the whole block / every parameter */
    if (!rows && n_rows == 0 && of >= FOLD_BLOCK_X && of <= FOLD_BLOCK_ZU)
        n_rows = block_len(solver, of);
    if (!cols && n_cols == 0) n_cols = solver->prob->np;
    jac_ctx c = {of, n_rows, n_cols, rows, cols};
    if ((st = check_args(solver, of, n_rows, rows, n_cols, cols, J, FN)) != FOLD_OK)
        return fold_call_end(&call, st, solver, FN);
    if (n_rows == 0 || n_cols == 0) {
        st = fold_kkt_setup(solver, true, call.info, FN);
        return fold_call_end(&call, st < 0 ? st : FOLD_OK, solver, FN);
    }
    /* each column judged by the kinds of its rows of x (the multipliers: by column) */
    const fold_int *x_kind = of == FOLD_BLOCK_X ? solver->prob->x_kind : NULL;
    const fold_int *p_kind = solver->prob->p_kind; /* columns compared within a kind */
    out = fold_malloc((size_t)(n_rows * n_cols), sizeof(double), "jacobian result");
    if (x_kind) kinds = fold_malloc((size_t)n_rows, sizeof *kinds, "jacobian row kinds");
    if (p_kind) col_kinds = fold_malloc((size_t)n_cols, sizeof *col_kinds, "jacobian column kinds");
    if (!out || (x_kind && !kinds) || (p_kind && !col_kinds)) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    for (fold_int r = 0; x_kind && r < n_rows; r++)
        kinds[r] = x_kind[pick(rows, r)];
    for (fold_int j = 0; p_kind && j < n_cols; j++)
        col_kinds[j] = p_kind[pick(cols, j)];
    fold_result_layout L = {.rows = n_rows,
                            .cols = n_cols,
                            .n_kinds = x_kind ? solver->prob->n_x_kinds : 1,
                            .row_kind = kinds,
                            .col_kind = col_kinds,
                            .n_col_kinds = solver->prob->n_p_kinds,
                            .input = 1.0,
                            .locate = jac_locate,
                            .locate_ctx = &c};
    st = jac_run(solver, &c, out, &call);
    /* NaN lines are reported as lines (jac_run), not entry by entry */
    fold_status sr = fold_call_report(solver, jac_run, &c, &L, st >= 0 ? out : NULL, false, &call);
    if (st < 0 || (st = sr) < 0) goto done;
    memcpy(J, out, (size_t)(n_rows * n_cols) * sizeof(double));
    st = FOLD_OK;
done:
    free(out);
    free(kinds);
    free(col_kinds);
    return fold_call_end(&call, st, solver, FN);
}
