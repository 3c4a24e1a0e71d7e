/* The fold map object: creation from a kind's operations, checked products, the cached matrix
 * I - Phi (given or assembled from nz products), accessors (doc/iterative.md §1). */
#include "fold/map/map_internal.h"
#include "fold/precond/precond.h"

fold_status fold_map_create_kind(const char *fn, const char *name, fold_int nz, fold_int np,
                                 bool is_symmetric, const fold_map_ops *ops, void *impl,
                                 fold_map **out)
{
    fold_map *map = fold_calloc(1, sizeof *map, "fold_map");
    if (!map) {
        if (ops->free) ops->free(impl);
        return FOLD_ERR_MEMORY;
    }
    snprintf(map->name, sizeof map->name, "%s", name ? name : ops->kind);
    map->nz = nz;
    map->np = np;
    map->is_symmetric = is_symmetric;
    map->ops = ops;
    map->impl = impl;
    map->has_phi = ops->phi != NULL;
    map->has_phit = ops->phi != NULL;
    map->has_psi = ops->psi != NULL;
    map->has_psit = ops->psit != NULL;
    map->has_diag = ops->diag != NULL;
    fold_status st = fold_la_common_init(&map->cm);
    if (st < 0) {
        fold_map_free(map);
        return fold_error_context(st, "%s", fn);
    }
    map->cm_started = true;
    *out = map;
    return FOLD_OK;
}

void fold_map_free(fold_map *map)
{
    if (!map) return;
    if (map->ops && map->ops->free) map->ops->free(map->impl);
    fold_pc_factor_free(map->exact);
    fold_pc_factor_free(map->block);
    if (map->cm_started) {
        fold_la_sparse_free(&map->A, &map->cm);
        fold_la_sparse_free(&map->Psi, &map->cm);
        fold_la_common_finish(&map->cm);
    }
    free(map->block_ptr);
    free(map->history);
    free(map);
}

void fold_map_dims(const fold_map *map, fold_int *nz, fold_int *np)
{
    if (nz) *nz = map ? map->nz : 0;
    if (np) *np = map ? map->np : 0;
}

static fold_status check_output(const fold_map *map, const char *what, fold_status st,
                                const double *out, fold_int n)
{
    if (st < 0) return st;
    for (fold_int i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return fold_error(FOLD_ERR_NONFINITE, "map '%s': %s output[%lld] = %g is not finite",
                              map->name, what, (long long)i, out[i]);
    return FOLD_OK;
}

fold_status fold_map_phi(fold_map *map, bool transpose, const double *v, double *out)
{
    fold_status st = map->ops->phi(map->impl, transpose, v, out);
    return check_output(map, transpose ? "Phi' v" : "Phi v", st, out, map->nz);
}

fold_status fold_map_psi(fold_map *map, const double *dp, double *out)
{
    return check_output(map, "Psi dp", map->ops->psi(map->impl, dp, out), out, map->nz);
}

fold_status fold_map_psit(fold_map *map, const double *w, double *out)
{
    return check_output(map, "Psi' w", map->ops->psit(map->impl, w, out), out, map->np);
}

fold_status fold_map_matrix(fold_map *map, const char *fn, fold_la_sparse **A)
{
    fold_int n = map->nz, nnz = 0;
    double *e, *col;
    fold_la_sparse *S = NULL;
    fold_status st = FOLD_OK;
    if (map->A) {
        *A = map->A;
        return FOLD_OK;
    }
    if (n > FOLD_MAP_ASSEMBLE_MAX)
        return fold_error(FOLD_ERR_TOO_LARGE,
                          "%s: map '%s' has no matrix and nz = %lld > %d is "
                          "too large to assemble I - Phi from products; use an iterative method "
                          "with precond none (or jacobi with diag_phi)",
                          fn, map->name, (long long)n, FOLD_MAP_ASSEMBLE_MAX);
    if (!map->has_phi)
        return fold_error(FOLD_ERR_UNSUPPORTED, "%s: map '%s' cannot form I - Phi (no Phi v)", fn,
                          map->name);
    e = fold_calloc((size_t)n, sizeof *e, "unit vector");
    col = fold_malloc((size_t)n, sizeof *col, "matrix column");
    if (!e || !col || fold_la_sparse_alloc(n, n, n, &map->cm, &S) < 0) {
        st = fold_error(FOLD_ERR_MEMORY, "%s: out of memory assembling I - Phi", fn);
        goto done;
    }
    for (fold_int j = 0; j < n; j++) {
        fold_int *Sp = S->p;
        e[j] = 1;
        st = fold_map_phi(map, false, e, col);
        e[j] = 0;
        if (st < 0) goto done;
        for (fold_int i = 0; i < n; i++) /* column j of I - Phi */
            col[i] = (i == j ? 1.0 : 0.0) - col[i];
        if ((size_t)(nnz + n) > S->nzmax &&
            fold_la_sparse_grow(S, 2 * (fold_int)S->nzmax + n, &map->cm) < 0) {
            st = fold_error_context(FOLD_ERR_MEMORY, "%s: assembling I - Phi", fn);
            goto done;
        }
        for (fold_int i = 0; i < n; i++)
            if (col[i] != 0) {
                ((fold_int *)S->i)[nnz] = i;
                ((double *)S->x)[nnz++] = col[i];
            }
        Sp[j + 1] = nnz;
    }
    map->A = S;
    S = NULL;
    *A = map->A;
done:
    fold_la_sparse_free(&S, &map->cm);
    free(e);
    free(col);
    return st;
}

fold_status fold_map_residual_history(const fold_map *map, double *out, fold_int cap,
                                      fold_int *count)
{
    fold_status st;
    if ((st = fold_check_not_null(map, "fold_map_residual_history", "map")) < 0 ||
        (st = fold_check_not_null(count, "fold_map_residual_history", "count")) < 0)
        return st;
    if (cap < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_map_residual_history: cap = %lld < 0",
                          (long long)cap);
    if (out && cap > 0 && map->n_history > 0)
        memcpy(out, map->history,
               (size_t)(cap < map->n_history ? cap : map->n_history) * sizeof *out);
    *count = map->n_history;
    return FOLD_OK;
}

fold_status fold_map_set_nearby(fold_map *map, fold_map *nearby)
{
    fold_status st;
    if ((st = fold_check_not_null(map, "fold_map_set_nearby", "map")) < 0) return st;
    if (nearby && nearby->nz != map->nz)
        return fold_error(FOLD_ERR_DIMENSION,
                          "fold_map_set_nearby: nearby.nz = %lld differs "
                          "from map.nz = %lld",
                          (long long)nearby->nz, (long long)map->nz);
    if (nearby == map)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_map_set_nearby: nearby is the map itself "
                                             "(use precond.kind = exact)");
    map->nearby = nearby;
    return FOLD_OK;
}
