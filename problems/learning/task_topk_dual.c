/* Top-k layer through its dual gradient method: nu <- nu - eta (k - sum sigmoid(c - nu)),
 * the projected gradient step on the dual g(nu; c) = sum log(1 + e^(c_i - nu)) + k nu over R
 * (fold_iter_def), folded by LFPI or GMRES (fold_map_vjp) or unrolled from a fixed start
 * (fold_iter_unroll_vjp) (doc/learning.md §4.4, doc/iterative.md §4-5). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foldopt/map.h"
#include "learning/tasks.h"

typedef struct dual_obj {
    const double *c;
    fold_int n;
    double k;
} dual_obj;

static double sigmoid(double a)
{
    if (a >= 0) return 1.0 / (1.0 + exp(-a));
    double e = exp(a);
    return e / (1.0 + e);
}

/* g'(nu) = k - sum sigmoid(c_i - nu). The callbacks read c from p (= the scores). */
static int d_grad(const double *nu, const double *c, double *g, void *ud)
{
    const dual_obj *o = ud;
    double s = 0;
    for (fold_int i = 0; i < o->n; i++)
        s += sigmoid(c[i] - nu[0]);
    g[0] = o->k - s;
    return 0;
}

/* g''(nu) v = (sum s_i) v, s_i = x_i (1 - x_i). */
static int d_hess(const double *nu, const double *c, const double *v, double *out, void *ud)
{
    const dual_obj *o = ud;
    double s = 0;
    for (fold_int i = 0; i < o->n; i++) {
        double x = sigmoid(c[i] - nu[0]);
        s += x * (1 - x);
    }
    out[0] = s * v[0];
    return 0;
}

/* C = d g' / dc = -s': C dc = -s'dc, C' w = -s w. */
static int d_cross(const double *nu, const double *c, const double *dc, double *out, void *ud)
{
    const dual_obj *o = ud;
    double a = 0;
    for (fold_int i = 0; i < o->n; i++) {
        double x = sigmoid(c[i] - nu[0]);
        a -= x * (1 - x) * dc[i];
    }
    out[0] = a;
    return 0;
}

static int d_cross_t(const double *nu, const double *c, const double *w, double *out, void *ud)
{
    const dual_obj *o = ud;
    for (fold_int i = 0; i < o->n; i++) {
        double x = sigmoid(c[i] - nu[0]);
        out[i] = -x * (1 - x) * w[0];
    }
    return 0;
}

/* Step 1/L with L = n/4 >= g'' (s_i <= 1/4): the gradient method converges from any start. */
static fold_iter_def dual_def(dual_obj *o)
{
    fold_iter_def def = {.kind = FOLD_ITER_PGD,
                         .obj = {1, o->n, d_grad, d_hess, d_cross, d_cross_t, o},
                         .set = {.kind = FOLD_SET_FREE},
                         .step = 4.0 / (double)o->n};
    return def;
}

fold_status learn_topk_dual_solve(const double *c, fold_int n, fold_int k, fold_int max_iter,
                                  bool fixed, double *nu, fold_int *iterations)
{
    dual_obj o = {c, n, (double)k};
    fold_iter_def def = dual_def(&o);
    fold_iter_info info = FOLD_ITER_INFO_INIT;
    double nu0 = LEARN_TOPK_NU0;
    fold_status st = fold_iter_solve(
        &def,
        &(fold_iter_run){
            .p = c, .x0 = &nu0, .max_iter = max_iter, .tol = fixed ? 0 : LEARN_TOPK_TOL},
        nu, NULL, &info);
    *iterations = info.iterations;
    if (st == FOLD_WARN_INACCURATE && !fixed)
        return learn_error(FOLD_ERR_NOT_CONVERGED,
                           "dual gradient method did not converge in "
                           "%lld iterations (last step %g)",
                           (long long)max_iter, info.step_norm);
    if (st < 0) return learn_error(st, "dual gradient method: %s", fold_last_error());
    return FOLD_OK; /* fixed: nu_K, converged or not */
}

fold_status learn_topk_dual_vjp(const double *c, fold_int n, fold_int k, double nu, int method,
                                fold_int iters, double nubar, double *cbar, fold_int *iterations,
                                size_t *bytes)
{
    dual_obj o = {c, n, (double)k};
    fold_iter_def def = dual_def(&o);
    fold_status st;
    *iterations = 0;
    *bytes = 0;
    if (method == LEARN_BACKWARD_UNROLL) {
        fold_iter_info info = FOLD_ITER_INFO_INIT;
        double nu0 = LEARN_TOPK_NU0;
        st = fold_iter_unroll_vjp(
            &def, &(fold_unroll_run){.p = c, .start = &nu0, .iters = iters, .bar = &nubar}, NULL,
            cbar, &info);
        if (st < 0) return learn_error(st, "unrolled dual gradient: %s", fold_last_error());
        *iterations = iters;
        *bytes = info.bytes_stored;
        return FOLD_OK;
    }
    fold_map *map = NULL;
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_settings_default(&s);
    s.backward.method = method == LEARN_BACKWARD_GMRES ? FOLD_BACKWARD_GMRES : FOLD_BACKWARD_LFPI;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-12;
    s.backward.max_iter = 1000000;
    st = fold_iter_map(&def, &nu, c, &map);
    if (st == FOLD_OK) st = fold_map_vjp(map, &s, &nubar, cbar, &info);
    fold_map_free(map);
    if (st < 0)
        return learn_error(st, "folded dual gradient (%s): %s", learn_backward_name(method),
                           fold_last_error());
    *iterations = info.iterations;
    return FOLD_OK;
}
