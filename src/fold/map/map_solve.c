/* Backward solves of the fold map: (I - Phi) x = b and its transpose by a factorization
 * (direct) or an iterative method with a preconditioner (doc/math.md §1, doc/iterative.md
 * §2), and the public JVP / VJP / Jacobian built on them. */
#include "fold/krylov/krylov.h"
#include "fold/map/map_internal.h"
#include "fold/precond/precond.h"

typedef struct op_ctx {
    fold_map *map;
} op_ctx;

/* y = (I - Phi) x, or (I - Phi)' x */
static fold_status apply_a(void *ctx, bool transpose, const double *x, double *y)
{
    fold_map *map = ((op_ctx *)ctx)->map;
    fold_status st = fold_map_phi(map, transpose, x, y);
    if (st < 0)
        return st;
    for (fold_int i = 0; i < map->nz; i++)
        y[i] = x[i] - y[i];
    return FOLD_OK;
}

static fold_status get_exact(fold_map *map, const char *fn, double *factor_s)
{
    fold_la_sparse *A;
    fold_status st;
    double t0 = fold_time_now();
    if (map->exact)
        return FOLD_OK;
    if ((st = fold_map_matrix(map, fn, &A)) < 0 ||
        (st = fold_pc_lu_create(A, &map->cm, fn, &map->exact)) < 0)
        return st;
    *factor_s += fold_time_now() - t0;
    return FOLD_OK;
}

/* Build the preconditioner of settings s; jac holds Jacobi storage. */
static fold_status setup_pc(fold_map *map, const fold_settings *s, const char *fn,
                            fold_kry_pc *pc, fold_pc_jacobi *jac, fold_backward_info *info)
{
    fold_status st;
    fold_la_sparse *A;
    pc->apply = NULL;
    pc->ctx = NULL;
    switch (s->precond.kind) {
    case FOLD_PRECOND_NONE:
        return FOLD_OK;
    case FOLD_PRECOND_JACOBI:
        jac->n = map->nz;
        if (!(jac->inv_diag = fold_malloc((size_t)map->nz, sizeof(double), "Jacobi diagonal")))
            return FOLD_ERR_MEMORY;
        if (map->has_diag) {
            if ((st = map->ops->diag(map->impl, jac->inv_diag)) < 0)
                return st;
            for (fold_int i = 0; i < map->nz; i++)
                jac->inv_diag[i] = 1.0 - jac->inv_diag[i];
        } else {
            if ((st = fold_map_matrix(map, fn, &A)) < 0)
                return st;
            const fold_int *Ap = A->p, *Ai = A->i;
            for (fold_int j = 0; j < map->nz; j++) {
                jac->inv_diag[j] = 0;
                for (fold_int k = Ap[j]; k < Ap[j + 1]; k++)
                    if (Ai[k] == j)
                        jac->inv_diag[j] = ((const double *)A->x)[k];
            }
        }
        for (fold_int i = 0; i < map->nz; i++) {
            if (!isfinite(jac->inv_diag[i]) || jac->inv_diag[i] == 0)
                return fold_error(FOLD_ERR_SINGULAR, "%s: Jacobi preconditioner: diagonal of "
                                  "I - Phi is %g at row %lld", fn, jac->inv_diag[i],
                                  (long long)i);
            jac->inv_diag[i] = 1.0 / jac->inv_diag[i];
        }
        pc->apply = fold_pc_jacobi_apply;
        pc->ctx = jac;
        return FOLD_OK;
    case FOLD_PRECOND_BLOCK:
        if (map->n_blocks == 0)
            return fold_error(FOLD_ERR_SETTING, "%s: precond.kind = block needs the map's "
                              "n_blocks and block_ptr", fn);
        if (!map->is_symmetric)
            return fold_error(FOLD_ERR_UNSUPPORTED, "%s: precond.kind = block factors symmetric "
                              "blocks with CHOLMOD; map '%s' is not symmetric", fn, map->name);
        if (!map->block) {
            double t0 = fold_time_now();
            if ((st = fold_map_matrix(map, fn, &A)) < 0 ||
                (st = fold_pc_block_create(A, map->n_blocks, map->block_ptr, &map->cm, fn,
                                           &map->block)) < 0)
                return st;
            info->factor_s += fold_time_now() - t0;
        }
        info->factor_nnz = fold_pc_factor_nnz(map->block);
        pc->apply = fold_pc_factor_apply;
        pc->ctx = map->block;
        return FOLD_OK;
    case FOLD_PRECOND_EXACT:
        if ((st = get_exact(map, fn, &info->factor_s)) < 0)
            return st;
        info->factor_nnz = fold_pc_factor_nnz(map->exact);
        pc->apply = fold_pc_factor_apply;
        pc->ctx = map->exact;
        return FOLD_OK;
    case FOLD_PRECOND_NEARBY:
        if (!map->nearby)
            return fold_error(FOLD_ERR_SETTING, "%s: precond.kind = nearby needs a nearby map "
                              "(fold_map_set_nearby)", fn);
        if ((st = get_exact(map->nearby, fn, &info->factor_s)) < 0)
            return fold_error_context(st, "nearby map");
        info->factor_nnz = fold_pc_factor_nnz(map->nearby->exact);
        pc->apply = fold_pc_factor_apply;
        pc->ctx = map->nearby->exact;
        return FOLD_OK;
    default:
        return fold_error(FOLD_ERR_SETTING, "%s: precond.kind = %d unknown", fn,
                          s->precond.kind);
    }
}

static fold_status ensure_history(fold_map *map, fold_int cap)
{
    if (cap > 100000)
        cap = 100000;
    if (map->history_cap >= cap)
        return FOLD_OK;
    double *h = realloc(map->history, (size_t)cap * sizeof *h);
    if (!h)
        return fold_error(FOLD_ERR_MEMORY, "out of memory for the residual history");
    map->history = h;
    map->history_cap = cap;
    return FOLD_OK;
}

fold_status fold_map_solve(fold_map *map, const fold_settings *s, bool transpose, const double *b,
                           double *x, fold_backward_info *info)
{
    const char *fn = transpose ? "fold_map_vjp" : "fold_map_jvp";
    int method = s->backward.method;
    fold_status st;
    op_ctx ctx = {map};
    fold_kry_op op = {map->nz, apply_a, &ctx};
    double t0 = fold_time_now();
    map->n_history = 0;
    if (method == FOLD_BACKWARD_DIRECT) {
        /* M = I - Phi exactly: one solve plus refinement against the operator */
        double *r = NULL, *d = NULL, bnorm = fold_kry_nrm2(map->nz, b), rnorm = 0;
        if ((st = get_exact(map, fn, &info->factor_s)) < 0)
            return st;
        info->factor_nnz = fold_pc_factor_nnz(map->exact);
        r = fold_malloc((size_t)map->nz, sizeof *r, "residual");
        d = fold_malloc((size_t)map->nz, sizeof *d, "correction");
        st = r && d ? fold_pc_factor_apply(map->exact, transpose, b, x) : FOLD_ERR_MEMORY;
        for (int k = 0; st >= 0; k++) {
            if ((st = fold_kry_residual(&op, transpose, b, x, r, &rnorm)) < 0)
                break;
            if (bnorm == 0 || rnorm <= s->backward.tol * bnorm || k >= s->backward.refine_steps)
                break;
            if ((st = fold_pc_factor_apply(map->exact, transpose, r, d)) >= 0)
                fold_kry_axpy(map->nz, 1.0, d, x);
        }
        free(r);
        free(d);
        if (st < 0)
            return st;
        info->residual = fmax(info->residual, bnorm > 0 ? rnorm / bnorm : 0);
        info->reason = FOLD_REASON_DIRECT;
        info->solve_s += fold_time_now() - t0;
        return FOLD_OK;
    }
    if ((method == FOLD_BACKWARD_MINRES || method == FOLD_BACKWARD_CG) && !map->is_symmetric)
        return fold_error(FOLD_ERR_UNSUPPORTED, "%s: backward.method = %s needs a symmetric map; "
                          "'%s' is not (use gmres or bicgstab)", fn,
                          method == FOLD_BACKWARD_CG ? "cg" : "minres", map->name);
    fold_kry_pc pc;
    fold_pc_jacobi jac = {0, NULL};
    fold_kry_params prm = {s->backward.tol, s->backward.max_iter, s->backward.restart, transpose,
                           0};
    fold_kry_result res = {0};
    if ((st = setup_pc(map, s, fn, &pc, &jac, info)) < 0 ||
        (st = ensure_history(map, s->backward.max_iter + 2)) < 0) {
        free(jac.inv_diag);
        return st;
    }
    res.history = map->history;
    res.history_cap = map->history_cap;
    double t1 = fold_time_now();
    st = fold_kry_solve(method, &op, &pc, &prm, b, x, &res);
    free(jac.inv_diag);
    map->n_history = res.n_history < map->history_cap ? res.n_history : map->history_cap;
    info->iterations += res.iterations;
    info->residual = fmax(info->residual, res.residual);
    info->reason = res.reason;
    info->solve_s += fold_time_now() - t1;
    if (st < 0 && st != FOLD_ERR_MEMORY)
        fold_error_context(st, "%s (map '%s')", fn, map->name);
    return st;
}
