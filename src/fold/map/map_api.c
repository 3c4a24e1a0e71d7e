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
    if ((st = fold_check_not_null(map, fn, "map")) < 0) return st;
    if ((st = fold_settings_copy_in(s, out)) < 0) return fold_error_context(st, "%s", fn);
    info->method = out->backward.method;
    info->dim = map->nz;
    return FOLD_OK;
}

static void finish(fold_map *map, fold_call *call)
{
    if (map && map->A) call->info->nnz = fold_la_sparse_nnz(map->A);
    fold_call_stop(call);
}

static fold_status need_forward(const fold_map *map, const char *fn)
{
    if (!map->has_phi || !map->has_psi)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: map '%s' has no %s product (forward mode "
                          "needs Phi v and Psi dp)",
                          fn, map->name, map->has_phi ? "Psi dp" : "Phi v");
    return FOLD_OK;
}

static fold_status need_reverse(const fold_map *map, const char *fn)
{
    if (map->is_fd)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: map '%s' is differentiated by finite "
                          "differences of U, which give forward-mode products only; reverse "
                          "mode needs phit_v and psit_v (or the matrices)",
                          fn, map->name);
    if (!map->has_phit || !map->has_psit)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: map '%s' has no %s product (reverse mode "
                          "needs Phi' v and Psi' w)",
                          fn, map->name, map->has_phit ? "Psi' w" : "Phi' v");
    return FOLD_OK;
}

/* The ends of a map's solve (doc/math.md §1): forward, B = Psi dp and dz = X; reverse,
 * B = zbar and pbar = Psi' w (through a buffer: pbar is written only when Psi' w succeeded). */
typedef struct map_ends {
    fold_map *map;
    const double *in; /* dp or zbar */
} map_ends;

static fold_status jvp_rhs(void *ctx, double *B)
{
    const map_ends *e = ctx;
    return e->map->np > 0 ? fold_map_psi(e->map, e->in, B) : FOLD_OK;
}

static fold_status jvp_finish(void *ctx, const double *X, bool inconsistent, double *dz)
{
    const map_ends *e = ctx;
    (void)inconsistent; /* an LU without regularization flags nothing */
    memcpy(dz, X, (size_t)e->map->nz * sizeof *dz);
    return FOLD_OK;
}

static fold_status vjp_rhs(void *ctx, double *B)
{
    const map_ends *e = ctx;
    memcpy(B, e->in, (size_t)e->map->nz * sizeof *B);
    return FOLD_OK;
}

static fold_status vjp_finish(void *ctx, const double *W, bool inconsistent, double *pbar)
{
    const map_ends *e = ctx;
    fold_int np = e->map->np;
    (void)inconsistent;
    if (np == 0) return FOLD_OK;
    double *g = fold_malloc((size_t)np, sizeof *g, "parameter gradient");
    fold_status st = g ? fold_map_psit(e->map, W, g) : FOLD_ERR_MEMORY;
    if (st >= 0) memcpy(pbar, g, (size_t)np * sizeof *pbar);
    free(g);
    return st;
}

/* One JVP (transpose false) or VJP of the map through the engine. */
static fold_status map_apply(fold_map *map, const fold_settings *s, bool transpose,
                             const double *in, double *out, fold_backward_info *info)
{
    char what[FOLD_MAP_WHAT_LEN];
    fold_system sys;
    map_ends e = {map, in};
    fold_ends ends = {&e, transpose ? vjp_rhs : jvp_rhs, transpose ? vjp_finish : jvp_finish,
                      false};
    fold_status st = fold_map_system(map, s, transpose, what, sizeof what, &sys);
    return st < 0 ? st : fold_system_apply(&sys, &ends, s, transpose, out, info);
}

fold_status fold_map_jvp(fold_map *map, const fold_settings *settings, const double *dp, double *dz,
                         fold_backward_info *info)
{
    fold_clear_error();
    static const char *FN = "fold_map_jvp";
    fold_settings s;
    fold_call call;
    fold_status st;
    if ((st = fold_call_begin(&call, info, NULL)) < 0) return st;
    if ((st = prepare(map, settings, FN, &s, call.info)) >= 0 &&
        (st = fold_call_input(dp, map->np, true, FN, "dp")) >= 0 &&
        (st = fold_check_not_null(dz, FN, "dz")) >= 0 && (st = need_forward(map, FN)) >= 0)
        st = map_apply(map, &s, false, dp, dz, call.info);
    finish(map, &call);
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
    if ((st = fold_call_begin(&call, info, NULL)) < 0) return st;
    if ((st = prepare(map, settings, FN, &s, call.info)) >= 0 &&
        (st = fold_call_input(zbar, map->nz, true, FN, "zbar")) >= 0 &&
        (map->np == 0 || (st = fold_check_not_null(pbar, FN, "pbar")) >= 0) &&
        (st = need_reverse(map, FN)) >= 0)
        st = map_apply(map, &s, true, zbar, pbar, call.info);
    finish(map, &call);
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
    if ((st = fold_call_begin(&call, info, NULL)) < 0) return st;
    if ((st = prepare(map, settings, FN, &s, call.info)) < 0 ||
        (st = fold_check_not_null(J, FN, "J")) < 0)
        goto done;
    nz = map->nz;
    np = map->np;
    reverse = nz < np && need_reverse(map, FN) == FOLD_OK;
    if (!reverse && (st = need_forward(map, FN)) < 0) goto done;
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
