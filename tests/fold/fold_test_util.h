/* Helpers shared by the fold tests: solvers at a stored (known) solution, dense products. */
#ifndef FOLD_TEST_FOLD_UTIL_H
#define FOLD_TEST_FOLD_UTIL_H

#include "forward/solver_internal.h"
#include "random_problems.h"
#include "test_support.h"

/* Defaults with refinement to a 1e-14 residual: the forward error of a solve is about
 * cond(K) x residual, and the identities below are checked to 1e-8 .. 1e-10 also on random
 * problems with cond(K) ~ 1e7 (the default backward.tol = 1e-10 guarantees the residual). */
static inline fold_settings fold_test_tight_settings(void)
{
    fold_settings s;
    fold_settings_default(&s);
    s.backward.tol = 1e-14;
    s.backward.refine_steps = 10;
    return s;
}

/* |a - b| <= tol * s (s: the scale of the compared quantity); NaN must match NaN. */
static inline void fold_test_same(double a, double b, double s, double tol, const char *what,
                                  fold_int k)
{
    ck_assert_msg(isnan(a) == isnan(b), "%s[%lld]: %g vs %g", what, (long long)k, a, b);
    if (!isnan(a))
        ck_assert_msg(fabs(a - b) <= tol * s, "%s[%lld]: %.17g vs %.17g (scale %g)", what,
                      (long long)k, a, b, s);
}

/* Largest finite |v_k|. */
static inline double fold_test_max_abs(const double *v, fold_int len)
{
    double s = 0;
    for (fold_int k = 0; k < len; k++)
        if (isfinite(v[k])) s = fmax(s, fabs(v[k]));
    return s;
}

/* Trust items x and y alike: kind, index, affected count, and the interval [lo, hi] to tol
 * on the scale max(s, |y.lo|, |y.hi|); item k of the report. */
static inline void fold_test_same_item(const fold_trust_item *x, const fold_trust_item *y, double s,
                                       double tol, fold_int k)
{
    ck_assert_int_eq(x->kind, y->kind);
    ck_assert_int_eq(x->index, y->index);
    ck_assert_int_eq(x->n_affected, y->n_affected);
    double si = fmax(s, fmax(fabs(y->lo), fabs(y->hi)));
    fold_test_same(x->lo, y->lo, si, tol, "lo", k);
    fold_test_same(x->hi, y->hi, si, tol, "hi", k);
}

/* Solver for rp with settings s (NULL: defaults) holding rp's known solution at p0. */
static inline fold_solver *fold_test_rp_solver(const fold_rp *rp, const fold_settings *s)
{
    const double *p0, *x, *lam, *zl, *zu;
    fold_solver *solver = NULL;
    ck_assert_status(fold_solver_create(fold_rp_problem(rp), s, &solver), FOLD_OK);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    fold_solver_store(solver, p0, x, lam, zl, zu, fold_rp_objective(rp, x, p0), true);
    return solver;
}

static inline double fold_test_dot(const double *a, const double *b, fold_int n)
{
    double s = 0;
    for (fold_int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static inline void fold_test_fill_normal(fold_test_rng *r, double *v, fold_int n)
{
    for (fold_int i = 0; i < n; i++)
        v[i] = fold_test_normal(r);
}

/* The byte the tests of structs that grow (test_sized*.c) fill the caller's memory with. */
#define FOLD_TEST_SENTINEL 0x5c

/* True when the n bytes at p all hold FOLD_TEST_SENTINEL: the library wrote none of them. */
static inline bool fold_test_untouched(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != FOLD_TEST_SENTINEL) return false;
    return true;
}

#endif
