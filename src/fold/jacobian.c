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

/* Forward mode: columns cols[c0 .. c0+nb) of dz/dp, scattered into J. */
static fold_status forward_block(fold_solver *solver, fold_block of, fold_int n_rows,
                                 const fold_int *rows, const fold_int *cols, fold_int c0,
                                 fold_int nb, double *work, double *J, fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_int np = kkt->np, nK = kkt->nK;
    fold_int len = block_len(solver, of);
    double *dP = work, *B = dP + np * nb, *U = B + nK * nb, *Z = U + nK * nb;
    fold_status st;
    memset(dP, 0, (size_t)(np * nb) * sizeof(double));
    for (fold_int c = 0; c < nb; c++) {
        fold_int k = pick(cols, c0 + c);
        /* An undetermined column is not solved (its direction is not differentiable). */
        if (!kkt->has_null || !kkt->null_p[k]) dP[c * np + k] = 1.0;
    }
    fold_kkt_rhs_jvp(kkt, nb, dP, B);
    if ((st = fold_kkt_solve(kkt, &solver->set, nb, B, U, call->info)) < 0) return st;
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
                                 fold_int r0, fold_int nb, double *work, double *J, fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_int n = kkt->n, np = kkt->np, nK = kkt->nK;
    fold_int len = block_len(solver, of);
    double *E = work, *B = E + len * nb, *W = B + nK * nb, *C = W + nK * nb, *P = C + n * nb;
    fold_status st;
    memset(E, 0, (size_t)(len * nb) * sizeof(double));
    for (fold_int r = 0; r < nb; r++) {
        fold_int k = pick(rows, r0 + r);
        /* An undetermined row is not solved (its upstream gradient is not consistent). */
        if (!fold_kkt_null_entry(kkt, of, k)) E[r * len + k] = 1.0;
    }
    fold_kkt_rhs_vjp(kkt, nb, of == FOLD_BLOCK_X ? E : NULL, of == FOLD_BLOCK_LAM ? E : NULL,
                     of == FOLD_BLOCK_ZL ? E : NULL, of == FOLD_BLOCK_ZU ? E : NULL, B, C);
    if ((st = fold_kkt_solve(kkt, &solver->set, nb, B, W, call->info)) < 0) return st;
    fold_kkt_finish_vjp(kkt, nb, W, C, P);
    for (fold_int r = 0; r < nb; r++)
        for (fold_int c = 0; c < n_cols; c++)
            J[c * n_rows + r0 + r] = P[r * np + pick(cols, c)];
    return FOLD_OK;
}

/* The entries of J that a singular K leaves undetermined (their rows or columns): with J,
 * set them to NaN and count them; under backward.not_unique = refuse, FOLD_ERR_SINGULAR
 * naming the first (call it without J before solving: J is then never touched). */
static fold_status mark_undetermined(const fold_solver *solver, fold_block of, fold_int n_rows,
                                     const fold_int *rows, fold_int n_cols, const fold_int *cols,
                                     double *J, fold_int *count)
{
    const fold_kkt *kkt = solver->backward;
    bool refuse = solver->set.backward.not_unique == FOLD_NOT_UNIQUE_REFUSE;
    *count = 0;
    if (!kkt->has_null) return FOLD_OK;
    for (fold_int c = 0; c < n_cols; c++) {
        bool col = kkt->null_p[pick(cols, c)];
        for (fold_int r = 0; r < n_rows; r++) {
            if (!col && !fold_kkt_null_entry(kkt, of, pick(rows, r))) continue;
            if (refuse) {
                char dirs[160] = "";
                fold_kkt_null_describe(kkt, dirs, sizeof dirs);
                return fold_error(FOLD_ERR_SINGULAR,
                                  "%s: entry (%lld, %lld) is not unique: the KKT matrix is "
                                  "singular (null direction on %s; backward.not_unique = "
                                  "refuse)",
                                  kkt->fn, (long long)pick(rows, r), (long long)pick(cols, c),
                                  dirs);
            }
            if (J) J[c * n_rows + r] = NAN;
            (*count)++;
        }
    }
    return FOLD_OK;
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
                          "%s: rows is NULL (all rows) but n_rows = %lld, block has %lld", fn,
                          (long long)n_rows, (long long)len);
    if (!cols && n_cols != np)
        return fold_error(FOLD_ERR_DIMENSION,
                          "%s: cols is NULL (all parameters) but n_cols = %lld, np = %lld", fn,
                          (long long)n_cols, (long long)np);
    if ((st = fold_check_index_list(rows, n_rows, len, fn, "rows")) ||
        (st = fold_check_index_list(cols, n_cols, np, fn, "cols")))
        return st;
    if (n_rows > 0 && n_cols > 0 && !J) return fold_error(FOLD_ERR_ARGUMENT, "%s: J is NULL", fn);
    return FOLD_OK;
}

fold_status fold_jacobian(fold_solver *solver, fold_block of, fold_int n_rows, const fold_int *rows,
                          fold_int n_cols, const fold_int *cols, double *J,
                          fold_backward_info *info)
{
    static const char *FN = "fold_jacobian";
    fold_call call;
    fold_kkt *kkt = NULL;
    fold_status st;
    double *work = NULL, *out = NULL;
    fold_int bs, nK, n, np, len;
    bool forward;
    fold_call_begin(&call, info);
    if ((call.check = fold_kkt_check_solver(solver, FN)) < 0)
        return fold_call_end(&call, call.check, solver, FN);
    if ((st = check_args(solver, of, n_rows, rows, n_cols, cols, J, FN)) != FOLD_OK)
        return fold_call_end(&call, st, solver, FN);
    if ((st = fold_kkt_setup(solver, true, call.info, FN)) < 0)
        return fold_call_end(&call, st, solver, FN);
    if (n_rows == 0 || n_cols == 0) return fold_call_end(&call, FOLD_OK, solver, FN);
    kkt = solver->backward;
    fold_int n_nan = 0;
    if ((st = mark_undetermined(solver, of, n_rows, rows, n_cols, cols, NULL, &n_nan)))
        return fold_call_end(&call, st, solver, FN);
    n = kkt->n;
    np = kkt->np;
    nK = kkt->nK;
    len = block_len(solver, of);
    forward = n_cols <= n_rows;
    bs = solver->set.backward.block_size;
    if (bs > (forward ? n_cols : n_rows)) bs = forward ? n_cols : n_rows;
    /* Work: forward dP, B, U, result (len); reverse E, B, W, C (n), pbar (np). */
    size_t per = forward ? (size_t)(np + 2 * nK + len) : (size_t)(len + 2 * nK + n + np);
    work = fold_malloc(per * (size_t)bs + 1, sizeof(double), "jacobian work");
    out = fold_malloc((size_t)(n_rows * n_cols), sizeof(double), "jacobian result");
    if (!work || !out) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    for (fold_int k0 = 0; k0 < (forward ? n_cols : n_rows); k0 += bs) {
        fold_int nb = (forward ? n_cols : n_rows) - k0;
        if (nb > bs) nb = bs;
        st = forward
                 ? forward_block(solver, of, n_rows, rows, cols, k0, nb, work, out, &call)
                 : reverse_block(solver, of, n_rows, rows, n_cols, cols, k0, nb, work, out, &call);
        if (st < 0) goto done;
    }
    mark_undetermined(solver, of, n_rows, rows, n_cols, cols, out, &n_nan);
    call.info->n_not_unique += n_nan;
    memcpy(J, out, (size_t)(n_rows * n_cols) * sizeof(double));
    st = FOLD_OK;
done:
    free(work);
    free(out);
    if (kkt) fold_la_factor_trim(kkt->F); /* the buffers of many right-hand sides */
    return fold_call_end(&call, st, solver, FN);
}
