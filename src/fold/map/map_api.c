/* Public JVP, VJP and Jacobian of a fold map: validation, right-hand sides Psi dp, the
 * backward solve, Psi' w, and outputs written only on success (doc/api/map.md). */
#include "fold/call.h"
#include "fold/map/map_internal.h"

/* The settings of the call (the caller's, checked, or the defaults) and the map's size in
 * info; info itself starts as "not run" (fold_call_begin) and reaches the caller on every
 * path, also when the arguments are refused. */
static fold_status prepare(fold_map *map, const fold_settings *s, const char *fn,
                           fold_settings *out, fold_backward_info *info)
{
    fold_status st;
    if ((st = fold_check_not_null(map, fn, "map")) < 0)
        return st;
    if (s) {
        if ((st = fold_settings_check(s)) < 0)
            return fold_error_context(st, "%s", fn);
        *out = *s;
    } else {
        fold_settings_default(out);
    }
    info->method = out->backward.method;
    info->kkt_dim = map->nz;
    return FOLD_OK;
}

static void finish(fold_map *map, fold_call *call)
{
    if (map && map->A)
        call->info->kkt_nnz = fold_la_sparse_nnz(map->A);
    fold_call_stop(call);
}

static fold_status need_forward(const fold_map *map, const char *fn)
{
    if (!map->has_phi || !map->has_psi)
        return fold_error(FOLD_ERR_UNSUPPORTED, "%s: map '%s' has no %s product (forward mode "
                          "needs Phi v and Psi dp)", fn, map->name,
                          map->has_phi ? "Psi dp" : "Phi v");
    return FOLD_OK;
}

static fold_status need_reverse(const fold_map *map, const char *fn)
{
    if (map->is_fd)
        return fold_error(FOLD_ERR_UNSUPPORTED, "%s: map '%s' is differentiated by finite "
                          "differences of U, which give forward-mode products only; reverse "
                          "mode needs phit_v and psit_v (or the matrices)", fn, map->name);
    if (!map->has_phit || !map->has_psit)
        return fold_error(FOLD_ERR_UNSUPPORTED, "%s: map '%s' has no %s product (reverse mode "
                          "needs Phi' v and Psi' w)", fn, map->name,
                          map->has_phit ? "Psi' w" : "Phi' v");
    return FOLD_OK;
}

fold_status fold_map_jvp(fold_map *map, const fold_settings *settings, const double *dp,
                         double *dz, fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_map_jvp";
    fold_settings s;
    fold_call call;
    fold_status st;
    double *rhs = NULL, *x = NULL;
    fold_call_begin(&call, info, NULL);
    if ((st = prepare(map, settings, FN, &s, call.info)) < 0 ||
        (st = fold_call_input(dp, map->np, true, FN, "dp")) < 0 ||
        (st = fold_check_not_null(dz, FN, "dz")) < 0 || (st = need_forward(map, FN)) < 0)
        goto done;
    rhs = fold_calloc((size_t)map->nz, sizeof *rhs, "right-hand side");
    x = fold_calloc((size_t)map->nz, sizeof *x, "solution");
    if (!rhs || !x) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if (map->np > 0 && (st = fold_map_psi(map, dp, rhs)) < 0)
        goto done;
    if ((st = fold_map_solve(map, &s, false, rhs, x, call.info)) < 0)
        goto done;
    memcpy(dz, x, (size_t)map->nz * sizeof *dz);
done:
    finish(map, &call);
    free(rhs);
    free(x);
    return st;
}

fold_status fold_map_vjp(fold_map *map, const fold_settings *settings, const double *zbar,
                         double *pbar, fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_map_vjp";
    fold_settings s;
    fold_call call;
    fold_status st;
    double *w = NULL, *g = NULL;
    fold_call_begin(&call, info, NULL);
    if ((st = prepare(map, settings, FN, &s, call.info)) < 0 ||
        (st = fold_call_input(zbar, map->nz, true, FN, "zbar")) < 0 ||
        (map->np > 0 && (st = fold_check_not_null(pbar, FN, "pbar")) < 0) ||
        (st = need_reverse(map, FN)) < 0)
        goto done;
    w = fold_calloc((size_t)map->nz, sizeof *w, "adjoint");
    g = fold_calloc((size_t)(map->np > 0 ? map->np : 1), sizeof *g, "parameter gradient");
    if (!w || !g) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if ((st = fold_map_solve(map, &s, true, zbar, w, call.info)) < 0)
        goto done;
    if (map->np > 0 && (st = fold_map_psit(map, w, g)) < 0)
        goto done;
    if (map->np > 0)
        memcpy(pbar, g, (size_t)map->np * sizeof *pbar);
done:
    finish(map, &call);
    free(w);
    free(g);
    return st;
}

fold_status fold_map_jacobian(fold_map *map, const fold_settings *settings, double *J,
                              fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_map_jacobian";
    fold_settings s;
    fold_call call;
    fold_status st;
    fold_int nz, np;
    double *e = NULL, *col = NULL, *out = NULL;
    bool reverse;
    fold_call_begin(&call, info, NULL);
    if ((st = prepare(map, settings, FN, &s, call.info)) < 0 ||
        (st = fold_check_not_null(J, FN, "J")) < 0)
        goto done;
    nz = map->nz;
    np = map->np;
    reverse = nz < np && need_reverse(map, FN) == FOLD_OK;
    if (!reverse && (st = need_forward(map, FN)) < 0)
        goto done;
    fold_clear_error();
    e = fold_calloc((size_t)(nz > np ? nz : np) + 1, sizeof *e, "unit vector");
    col = fold_malloc((size_t)(nz > np ? nz : np) + 1, sizeof *col, "work");
    out = fold_malloc((size_t)nz * (size_t)np + 1, sizeof *out, "Jacobian");
    if (!e || !col || !out) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    for (fold_int k = 0; k < (reverse ? nz : np); k++) {
        fold_int rhs_len = reverse ? nz : np;
        memset(e, 0, (size_t)rhs_len * sizeof *e);
        e[k] = 1;
        if (reverse) { /* row k of dz/dp */
            double *w = col;
            memset(w, 0, (size_t)nz * sizeof *w);
            if ((st = fold_map_solve(map, &s, true, e, w, call.info)) < 0 ||
                (st = fold_map_psit(map, w, e)) < 0)
                goto done;
            for (fold_int j = 0; j < np; j++)
                out[k + (size_t)j * nz] = e[j];
        } else { /* column k */
            double *x = out + (size_t)k * nz;
            memset(x, 0, (size_t)nz * sizeof *x);
            if ((st = fold_map_psi(map, e, col)) < 0 ||
                (st = fold_map_solve(map, &s, false, col, x, call.info)) < 0)
                goto done;
        }
    }
    memcpy(J, out, (size_t)nz * (size_t)np * sizeof *J);
done:
    finish(map, &call);
    free(e);
    free(col);
    free(out);
    return st;
}
