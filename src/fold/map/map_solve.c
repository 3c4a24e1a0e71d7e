/* The fold map as a system of the backward engine (engine.h): (I - Phi) x = b and its
 * transpose, with the map's products, its Jacobi diagonal, its factorizations (block, exact,
 * nearby) and its direct solve (doc/math.md §1, doc/iterative.md §2). */
#include "fold/engine.h"
#include "fold/map/map_internal.h"
#include "fold/precond/precond.h"

/* y = (I - Phi) x, or (I - Phi)' x */
static fold_status apply_a(void *ctx, bool transpose, const double *x, double *y)
{
    fold_map *map = ctx;
    fold_status st = fold_map_phi(map, transpose, x, y);
    if (st < 0) return st;
    for (fold_int i = 0; i < map->nz; i++)
        y[i] = x[i] - y[i];
    return FOLD_OK;
}

static fold_status get_exact(fold_map *map, const char *fn, double *factor_s)
{
    fold_la_sparse *A;
    fold_status st;
    double t0 = fold_time_now();
    if (map->exact) return FOLD_OK;
    if ((st = fold_map_matrix(map, fn, &A)) < 0 ||
        (st = fold_pc_lu_create(A, &map->cm, fn, &map->exact)) < 0)
        return st;
    *factor_s += fold_time_now() - t0;
    return FOLD_OK;
}

/* Jacobi: the diagonal of I - Phi, from the map's diag_phi or its matrix. */
static fold_status jacobi(void *ctx, double *d)
{
    fold_map *map = ctx;
    const char *fn = map->fn;
    fold_status st;
    fold_la_sparse *A;
    if (map->has_diag) {
        if ((st = map->ops->diag(map->impl, d)) < 0) return st;
        for (fold_int i = 0; i < map->nz; i++)
            d[i] = 1.0 - d[i];
    } else {
        if ((st = fold_map_matrix(map, fn, &A)) < 0) return st;
        const fold_int *Ap = A->p, *Ai = A->i;
        for (fold_int j = 0; j < map->nz; j++) {
            d[j] = 0;
            for (fold_int k = Ap[j]; k < Ap[j + 1]; k++)
                if (Ai[k] == j) d[j] = ((const double *)A->x)[k];
        }
    }
    for (fold_int i = 0; i < map->nz; i++)
        if (!isfinite(d[i]) || d[i] == 0)
            return fold_error(FOLD_ERR_SINGULAR,
                              "%s: Jacobi preconditioner: diagonal of "
                              "I - Phi is %g at row %lld",
                              fn, d[i], (long long)i);
    return FOLD_OK;
}

/* block: the LDL' of the map's diagonal blocks; exact: the LU of I - Phi; nearby: that of
 * the nearby map. */
static fold_status factor_pc(void *ctx, int kind, fold_kry_pc *pc, fold_backward_info *info)
{
    fold_map *map = ctx;
    const char *fn = map->fn;
    fold_status st;
    fold_la_sparse *A;
    fold_precond_factor *F;
    switch (kind) {
    case FOLD_PRECOND_BLOCK:
        if (map->n_blocks == 0)
            return fold_error(FOLD_ERR_SETTING,
                              "%s: precond.kind = block needs the map's "
                              "n_blocks and block_ptr",
                              fn);
        if (!map->is_symmetric)
            return fold_error(FOLD_ERR_UNSUPPORTED,
                              "%s: precond.kind = block factors symmetric "
                              "blocks with CHOLMOD; map '%s' is not symmetric",
                              fn, map->name);
        if (!map->block) {
            double t0 = fold_time_now();
            if ((st = fold_map_matrix(map, fn, &A)) < 0 ||
                (st = fold_pc_block_create(A, map->n_blocks, map->block_ptr, &map->cm, fn,
                                           &map->block)) < 0)
                return st;
            info->factor_s += fold_time_now() - t0;
        }
        F = map->block;
        break;
    case FOLD_PRECOND_EXACT:
        if ((st = get_exact(map, fn, &info->factor_s)) < 0) return st;
        F = map->exact;
        break;
    default: /* nearby */
        if (!map->nearby)
            return fold_error(FOLD_ERR_SETTING,
                              "%s: precond.kind = nearby needs a nearby map "
                              "(fold_map_set_nearby)",
                              fn);
        if ((st = get_exact(map->nearby, fn, &info->factor_s)) < 0)
            return fold_error_context(st, "nearby map");
        F = map->nearby->exact;
        break;
    }
    info->factor_nnz = fold_pc_factor_nnz(F);
    pc->apply = fold_pc_factor_apply;
    pc->ctx = F;
    return FOLD_OK;
}

static fold_status ensure_history(fold_map *map, fold_int cap)
{
    if (cap > 100000) cap = 100000;
    if (map->history_cap >= cap) return FOLD_OK;
    double *h = realloc(map->history, (size_t)cap * sizeof *h);
    if (!h) return fold_error(FOLD_ERR_MEMORY, "out of memory for the residual history");
    map->history = h;
    map->history_cap = cap;
    return FOLD_OK;
}

/* The direct method: M = I - Phi exactly, one solve plus refinement against the operator
 * (an LU without regularization: no column is ever flagged). */
static fold_status direct(void *ctx, const fold_settings *s, bool transpose, fold_int nrhs,
                          const double *B, double *X, unsigned char *bad, fold_int *n_bad,
                          double *residual, fold_backward_info *info)
{
    fold_map *map = ctx;
    fold_kry_op op = {map->nz, apply_a, map};
    fold_status st;
    double *r = NULL, *d = NULL;
    (void)bad;
    *n_bad = 0;
    if ((st = get_exact(map, map->fn, &info->factor_s)) < 0) return st;
    info->factor_nnz = fold_pc_factor_nnz(map->exact);
    info->reason = FOLD_REASON_DIRECT;
    r = fold_malloc((size_t)map->nz, sizeof *r, "residual");
    d = fold_malloc((size_t)map->nz, sizeof *d, "correction");
    st = r && d ? FOLD_OK : FOLD_ERR_MEMORY;
    for (fold_int c = 0; c < nrhs && st >= 0; c++) {
        const double *b = B + c * map->nz;
        double *x = X + c * map->nz, bnorm = fold_kry_nrm2(map->nz, b), rnorm = 0;
        st = fold_pc_factor_apply(map->exact, transpose, b, x);
        for (int k = 0; st >= 0; k++) {
            if ((st = fold_kry_residual(&op, transpose, b, x, r, &rnorm)) < 0) break;
            if (bnorm == 0 || rnorm <= s->backward.tol * bnorm || k >= s->backward.refine_steps)
                break;
            if ((st = fold_pc_factor_apply(map->exact, transpose, r, d)) >= 0)
                fold_kry_axpy(map->nz, 1.0, d, x);
        }
        *residual = fmax(*residual, bnorm > 0 ? rnorm / bnorm : 0);
    }
    free(r);
    free(d);
    return st;
}

fold_status fold_map_system(fold_map *map, const fold_settings *s, bool transpose, char *what,
                            size_t len, fold_system *out)
{
    fold_status st;
    map->fn = transpose ? "fold_map_vjp" : "fold_map_jvp";
    map->n_history = 0;
    if (s->backward.method != FOLD_BACKWARD_DIRECT &&
        (st = ensure_history(map, fold_system_iter_limit(s) + 2)) < 0)
        return st;
    snprintf(what, len, "map '%s' (nz %lld)", map->name, (long long)map->nz);
    fold_system sys = {
        .fn = map->fn,
        .what = what,
        .n = map->nz,
        .is_symmetric = map->is_symmetric,
        .natural_pc = FOLD_PRECOND_NONE, /* the update step itself: LFPI is its iteration */
        .op = {map->nz, apply_a, map},
        .ctx = map,
        .jacobi = jacobi,
        .factor_pc = factor_pc,
        .direct = direct,
        .history = map->history,
        .history_cap = map->history_cap,
        .n_history = &map->n_history,
    };
    *out = sys;
    return FOLD_OK;
}

fold_status fold_map_solve(fold_map *map, const fold_settings *s, bool transpose, const double *b,
                           double *x, fold_backward_info *info)
{
    char what[FOLD_MAP_WHAT_LEN];
    fold_system sys;
    fold_status st = fold_map_system(map, s, transpose, what, sizeof what, &sys);
    return st < 0 ? st : fold_system_solve(&sys, s, transpose, 1, b, x, NULL, info);
}
