/* Bounds that move with the parameters (doc/math.md §2.5): validation and copy of the four
 * maps of fold_nlp_def, the bounds at p, and the products with the maps that the forward
 * solve, the fold and the value gradient use. */
#include "problem/problem_internal.h"

static const char *const map_names[FOLD_BMAP_N] = {"x_lower_p", "x_upper_p", "g_lower_p",
                                                   "g_upper_p"};

static const fold_bound_map *def_map(const fold_nlp_def *d, int side)
{
    const fold_bound_map *maps[FOLD_BMAP_N] = {&d->x_lower_p, &d->x_upper_p, &d->g_lower_p,
                                               &d->g_upper_p};
    return maps[side];
}

/* Order of entries: by index, then by parameter. */
typedef struct entry {
    fold_int index, param;
    double coef;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->index != y->index) return (x->index > y->index) - (x->index < y->index);
    return (x->param > y->param) - (x->param < y->param);
}

/* The bound of `index` on `side` at the defaults (validation of finiteness). */
static double base_bound(const fold_nlp_def *d, int side, fold_int i)
{
    const double *b = side == FOLD_BMAP_XL   ? d->x_lower
                      : side == FOLD_BMAP_XU ? d->x_upper
                      : side == FOLD_BMAP_GL ? d->g_lower
                                             : d->g_upper;
    return b ? b[i] : (side % 2 ? HUGE_VAL : -HUGE_VAL);
}

static fold_status check_map(const fold_nlp_def *d, int side, const char *fn)
{
    const fold_bound_map *bm = def_map(d, side);
    const char *what = map_names[side];
    fold_int len = side < FOLD_BMAP_GL ? d->n : d->m;
    if (bm->nnz < 0)
        return fold_error(FOLD_ERR_DIMENSION, "%s: %s.nnz = %lld is negative", fn, what,
                          (long long)bm->nnz);
    if (bm->nnz == 0) return FOLD_OK;
    if (!bm->index || !bm->param || !bm->coef)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s has %lld entries but a NULL array", fn, what,
                          (long long)bm->nnz);
    for (fold_int k = 0; k < bm->nnz; k++) {
        fold_int i = bm->index[k], j = bm->param[k];
        if (i < 0 || i >= len)
            return fold_error(FOLD_ERR_SPARSITY, "%s: %s.index[%lld] = %lld outside [0,%lld)", fn,
                              what, (long long)k, (long long)i, (long long)len);
        if (j < 0 || j >= d->np)
            return fold_error(FOLD_ERR_SPARSITY, "%s: %s.param[%lld] = %lld outside [0,%lld)", fn,
                              what, (long long)k, (long long)j, (long long)d->np);
        if (!isfinite(bm->coef[k]))
            return fold_error(FOLD_ERR_NONFINITE, "%s: %s.coef[%lld] is not finite", fn, what,
                              (long long)k);
        if (fold_is_inf_bound(base_bound(d, side, i)))
            return fold_error(FOLD_ERR_ARGUMENT,
                              "%s: %s.index[%lld] = %lld: that bound is "
                              "infinite and cannot move with p",
                              fn, what, (long long)k, (long long)i);
    }
    return FOLD_OK;
}

/* Copy map `side` into prob sorted (CSR by index), rejecting duplicate pairs. */
static fold_status copy_map(fold_problem *prob, const fold_nlp_def *d, int side, const char *fn)
{
    const fold_bound_map *bm = def_map(d, side);
    fold_owned_bmap *o = &prob->bmap[side];
    fold_int len = side < FOLD_BMAP_GL ? d->n : d->m, nnz = bm->nnz;
    entry *e = fold_malloc((size_t)nnz + 1, sizeof *e, map_names[side]);
    o->ptr = fold_calloc((size_t)len + 1, sizeof *o->ptr, map_names[side]);
    o->param = fold_malloc((size_t)nnz + 1, sizeof *o->param, map_names[side]);
    o->coef = fold_malloc((size_t)nnz + 1, sizeof *o->coef, map_names[side]);
    if (!e || !o->ptr || !o->param || !o->coef) {
        free(e);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int k = 0; k < nnz; k++)
        e[k] = (entry){bm->index[k], bm->param[k], bm->coef[k]};
    qsort(e, (size_t)nnz, sizeof *e, cmp_entry);
    for (fold_int k = 0; k < nnz; k++) {
        if (k > 0 && e[k].index == e[k - 1].index && e[k].param == e[k - 1].param) {
            long long index = (long long)e[k].index, param = (long long)e[k].param;
            free(e);
            return fold_error(FOLD_ERR_SPARSITY,
                              "%s: %s has the pair (index %lld, param %lld) "
                              "twice",
                              fn, map_names[side], index, param);
        }
        o->ptr[e[k].index + 1]++;
        o->param[k] = e[k].param;
        o->coef[k] = e[k].coef;
    }
    for (fold_int i = 0; i < len; i++)
        o->ptr[i + 1] += o->ptr[i];
    o->nnz = nnz;
    free(e);
    return FOLD_OK;
}

/* An equality constraint or a fixed variable moves as one: same entries on both sides. */
static fold_status check_equalities(const fold_problem *prob, const char *fn)
{
    for (int v = 0; v < 2; v++) {
        const fold_owned_bmap *lo = &prob->bmap[2 * v], *hi = &prob->bmap[2 * v + 1];
        const double *bl = v ? prob->g_lower : prob->x_lower;
        const double *bu = v ? prob->g_upper : prob->x_upper;
        fold_int len = v ? prob->m : prob->n;
        for (fold_int i = 0; i < len; i++) {
            if (bl[i] != bu[i]) continue;
            bool same = lo->ptr[i + 1] - lo->ptr[i] == hi->ptr[i + 1] - hi->ptr[i];
            for (fold_int a = lo->ptr[i], b = hi->ptr[i]; same && a < lo->ptr[i + 1]; a++, b++)
                same = lo->param[a] == hi->param[b] && lo->coef[a] == hi->coef[b];
            if (!same)
                return fold_error(FOLD_ERR_ARGUMENT,
                                  "%s: %s %lld has equal bounds (%s) but "
                                  "different %s and %s entries: it would stop being one",
                                  fn, v ? "constraint" : "variable", (long long)i,
                                  v ? "an equality" : "fixed", map_names[2 * v],
                                  map_names[2 * v + 1]);
        }
    }
    return FOLD_OK;
}

fold_status fold_prob_bounds_setup(fold_problem *prob, const fold_nlp_def *d, const char *fn)
{
    fold_status st;
    for (int side = 0; side < FOLD_BMAP_N; side++)
        if ((st = check_map(d, side, fn))) return st;
    for (int side = 0; side < FOLD_BMAP_N; side++) {
        if ((st = copy_map(prob, d, side, fn))) return st;
        prob->has_bound_maps |= prob->bmap[side].nnz > 0;
    }
    return check_equalities(prob, fn);
}

void fold_prob_bounds_free(fold_problem *prob)
{
    for (int side = 0; side < FOLD_BMAP_N; side++) {
        free(prob->bmap[side].ptr);
        free(prob->bmap[side].param);
        free(prob->bmap[side].coef);
    }
}

double fold_prob_bound_dot(const fold_problem *prob, int side, fold_int i, const double *dp)
{
    const fold_owned_bmap *o = &prob->bmap[side];
    double s = 0.0;
    if (!o->nnz) return 0.0;
    for (fold_int k = o->ptr[i]; k < o->ptr[i + 1]; k++)
        s += o->coef[k] * dp[o->param[k]];
    return s;
}

void fold_prob_bound_axpy(const fold_problem *prob, int side, fold_int i, double v, double *pbar)
{
    const fold_owned_bmap *o = &prob->bmap[side];
    if (!o->nnz || v == 0.0) return;
    for (fold_int k = o->ptr[i]; k < o->ptr[i + 1]; k++)
        pbar[o->param[k]] += o->coef[k] * v;
}

void fold_problem_bounds(const fold_problem *prob, const double *p, double *xl, double *xu,
                         double *gl, double *gu)
{
    if (!prob) return;
    double *out[FOLD_BMAP_N] = {xl, xu, gl, gu};
    const double *base[FOLD_BMAP_N] = {prob->x_lower, prob->x_upper, prob->g_lower, prob->g_upper};
    for (int side = 0; side < FOLD_BMAP_N; side++) {
        const fold_owned_bmap *o = &prob->bmap[side];
        fold_int len = side < FOLD_BMAP_GL ? prob->n : prob->m;
        if (!out[side]) continue;
        if (len) memcpy(out[side], base[side], (size_t)len * sizeof(double));
        for (fold_int i = 0; p && o->nnz && i < len; i++)
            for (fold_int k = o->ptr[i]; k < o->ptr[i + 1]; k++)
                out[side][i] += o->coef[k] * (p[o->param[k]] - prob->p_default[o->param[k]]);
    }
}
