/* The engine's GMRES rescue of columns that missed eq. 4.9 (doc/math.md §4.8) over an
 * approximation of a system's own factorization (a comparison run bordered over a regularized
 * primary, §4.9): a column GMRES does not solve within the approximation's cycle makes the
 * system factor (refactor) and the solve start again over its own factorization; without
 * the approximation the same column keeps GMRES's full cycle. A mock system: A diagonal
 * with entries spread over eight decades, whose "approximate" direct solve flags column 0
 * and whose approximate M is the identity (GMRES cannot converge within 20 iterations). */
#include "fold/engine.h"
#include "fold_test_util.h"

enum { N = 60 };

typedef struct mock {
    double a[N];
    bool approximate; /* the state before refactor */
    int n_refactor, n_direct;
} mock;

static fold_status apply_a(void *ctx, bool transpose, const double *x, double *y)
{
    const mock *m = ctx;
    (void)transpose;
    for (int i = 0; i < N; i++)
        y[i] = m->a[i] * x[i];
    return FOLD_OK;
}

/* M: the identity over the approximation, A's inverse over the factorization */
static fold_status apply_m(void *ctx, bool transpose, const double *r, double *z)
{
    const mock *m = ctx;
    (void)transpose;
    for (int i = 0; i < N; i++)
        z[i] = m->approximate ? r[i] : r[i] / m->a[i];
    return FOLD_OK;
}

static fold_status direct(void *ctx, const fold_settings *set, bool transpose, fold_int nrhs,
                          const double *B, double *X, unsigned char *bad, fold_int *n_bad,
                          double *residual, fold_backward_info *info)
{
    mock *m = ctx;
    (void)set;
    (void)transpose;
    (void)info;
    m->n_direct++;
    *n_bad = 0;
    *residual = 0.0;
    for (fold_int c = 0; c < nrhs; c++) {
        for (int i = 0; i < N; i++)
            X[c * N + i] = B[c * N + i] / m->a[i];
        bad[c] = m->approximate && c == 0; /* column 0: slow over the approximation */
        *n_bad += bad[c];
    }
    return FOLD_OK;
}

static bool approximate(void *ctx)
{
    return ((mock *)ctx)->approximate;
}

static fold_status refactor(void *ctx, const fold_settings *set)
{
    mock *m = ctx;
    (void)set;
    m->n_refactor++;
    m->approximate = false;
    return FOLD_OK;
}

static fold_status not_unique(void *ctx)
{
    (void)ctx;
    return fold_error(FOLD_ERR_SINGULAR, "mock: not unique");
}

/* _i = 1: the system says its solves are approximate (refactor then), 0: it does not. */
START_TEST(rescue_over_approximation)
{
    mock m = {.approximate = true};
    for (int i = 0; i < N; i++)
        m.a[i] = pow(10.0, 8.0 * i / (N - 1));
    fold_system sys = {.fn = "mock",
                       .what = "mock",
                       .n = N,
                       .is_symmetric = true,
                       .op = {N, apply_a, &m},
                       .ctx = &m,
                       .direct = direct,
                       .rescue = {apply_m, &m},
                       .not_unique = not_unique};
    if (_i) {
        sys.approximate = approximate;
        sys.refactor = refactor;
    }
    fold_settings set;
    fold_settings_default(&set);
    double B[2 * N], X[2 * N];
    for (int i = 0; i < 2 * N; i++)
        B[i] = 1.0 + 0.01 * i;
    unsigned char bad[2];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st = fold_system_solve(&sys, &set, false, 2, B, X, bad, &info);
    ck_assert_int_ge(st, 0);
    ck_assert_int_eq(m.n_refactor, _i);
    ck_assert_int_eq(m.n_direct, 1 + _i);
    ck_assert_int_eq(bad[1], 0);
    /* refactored: both columns solved exactly; not: column 0 left to GMRES's cycle with
     * M = I, which cannot solve it (flagged inconsistent) */
    ck_assert_int_eq(bad[0], !_i);
    for (int c = _i ? 0 : 1; c < 2; c++)
        for (int i = 0; i < N; i++)
            ck_assert_double_eq_tol(X[c * N + i], B[c * N + i] / m.a[i],
                                    1e-14 * fabs(X[c * N + i]));
    printf("# %s: %d refactor, %d direct solves, %lld GMRES iterations\n",
           _i ? "approximate" : "exact", m.n_refactor, m.n_direct, (long long)info.iterations);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_rescue");
    TCase *tc = tcase_create("rescue");
    tcase_add_loop_test(tc, rescue_over_approximation, 0, 2);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
