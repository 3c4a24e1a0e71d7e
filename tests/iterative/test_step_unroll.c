/* Reverse-mode unrolling of a user-defined step (fold_step_unroll_vjp): equal to the built-in
 * unrolling of the same projected-gradient step, to central differences of the K-step
 * iteration, and bad input named (doc/iterative.md §4.4). */
#include <math.h>

#include "test_support.h"

#define N 6
#define NP N

/* f(z; p) = z'Qz/2 - b'z - p'cos z: grad = Qz - b + p o sin z, H = Q + diag(p o cos z),
 * C = d grad / dp = diag(sin z). The step is z - a grad. */
typedef struct nl {
    double Q[N * N], b[N], a;
    int fail_at; /* iteration at which update fails (-1 never) */
    int calls;
} nl;

static void grad(const nl *m, const double *z, const double *p, double *g)
{
    for (int i = 0; i < N; i++) {
        g[i] = -m->b[i] + p[i] * sin(z[i]);
        for (int j = 0; j < N; j++)
            g[i] += m->Q[i * N + j] * z[j];
    }
}

static int update(const double *z, const double *p, double *out, void *ud)
{
    nl *m = ud;
    if (m->fail_at >= 0 && m->calls++ == m->fail_at) return 7;
    grad(m, z, p, out);
    for (int i = 0; i < N; i++)
        out[i] = z[i] - m->a * out[i];
    return 0;
}

/* Phi' v = v - a H v (H symmetric). */
static int phit(const double *z, const double *p, const double *v, double *out, void *ud)
{
    nl *m = ud;
    for (int i = 0; i < N; i++) {
        double hv = p[i] * cos(z[i]) * v[i];
        for (int j = 0; j < N; j++)
            hv += m->Q[i * N + j] * v[j];
        out[i] = v[i] - m->a * hv;
    }
    return 0;
}

static int psit(const double *z, const double *p, const double *w, double *out, void *ud)
{
    nl *m = ud;
    for (int i = 0; i < N; i++)
        out[i] = -m->a * sin(z[i]) * w[i];
    return 0;
}

/* The same objective for the built-in projected gradient on R^n. */
static int o_grad(const double *x, const double *p, double *g, void *ud)
{
    grad(ud, x, p, g);
    return 0;
}
static int o_hess(const double *x, const double *p, const double *v, double *out, void *ud)
{
    nl *m = ud;
    for (int i = 0; i < N; i++) {
        out[i] = p[i] * cos(x[i]) * v[i];
        for (int j = 0; j < N; j++)
            out[i] += m->Q[i * N + j] * v[j];
    }
    return 0;
}
static int o_cross(const double *x, const double *p, const double *dp, double *out, void *ud)
{
    for (int i = 0; i < N; i++)
        out[i] = sin(x[i]) * dp[i];
    return 0;
}
static int o_cross_t(const double *x, const double *p, const double *w, double *out, void *ud)
{
    for (int i = 0; i < N; i++)
        out[i] = sin(x[i]) * w[i];
    return 0;
}

static void init(nl *m, fold_test_rng *r)
{
    for (int i = 0; i < N; i++) {
        m->b[i] = fold_test_normal(r);
        for (int j = 0; j < N; j++)
            m->Q[i * N + j] = (i == j ? 3.0 : 0) + 0.3 * cos((double)(i + 2 * j));
    }
    for (int i = 0; i < N; i++) /* symmetrize */
        for (int j = 0; j < i; j++)
            m->Q[i * N + j] = m->Q[j * N + i];
    m->a = 0.2;
    m->fail_at = -1;
    m->calls = 0;
}

static void run_k(nl *m, const double *p, const double *z0, int k, double *z)
{
    double t[N];
    for (int i = 0; i < N; i++)
        z[i] = z0[i];
    for (int it = 0; it < k; it++) {
        update(z, p, t, m);
        for (int i = 0; i < N; i++)
            z[i] = t[i];
    }
}

START_TEST(step_unroll_matches_builtin_and_fd)
{
    nl m;
    fold_test_rng r;
    double p[NP], z0[N], zbar[N], pbar[NP], pref[NP], z[N], zref[N];
    fold_test_rng_seed(&r, 12);
    init(&m, &r);
    for (int i = 0; i < N; i++) {
        p[i] = 0.5 * fold_test_normal(&r);
        z0[i] = fold_test_normal(&r);
        zbar[i] = fold_test_normal(&r);
    }
    fold_step_def def = {"nonlinear gradient step", N, NP, update, phit, psit, &m};
    fold_iter_def it = {FOLD_ITER_PGD,
                        {N, NP, o_grad, o_hess, o_cross, o_cross_t, &m},
                        {FOLD_SET_FREE, 0, 0, 0, 0, 0, 0},
                        0,
                        m.a,
                        NULL};
    for (int k = 0; k <= 30; k += 6) {
        fold_iter_info info = FOLD_ITER_INFO_INIT;
        ck_assert_status(fold_step_unroll_vjp(
                             &def, &(fold_unroll_run){.p = p, .start = z0, .iters = k, .bar = zbar},
                             z, pbar, &info),
                         FOLD_OK);
        ck_assert_int_eq(info.iterations, k);
        ck_assert_uint_eq(info.bytes_stored, (size_t)(k + 1) * N * sizeof(double));
        ck_assert_status(fold_iter_unroll_vjp(
                             &it, &(fold_unroll_run){.p = p, .start = z0, .iters = k, .bar = zbar},
                             zref, pref, NULL),
                         FOLD_OK);
        ck_assert_double_le(fold_test_vec_relerr(z, zref, N, 1.0), 1e-14);
        ck_assert_double_le(fold_test_vec_relerr(pbar, pref, NP, 1e-300), 1e-12);
        /* <pbar, dp> = d <zbar, z_k(p + h dp)> / dh by central differences */
        for (int d = 0; d < 3 && k > 0; d++) {
            double dp[NP], pp[NP], pm[NP], zp[N], zm[N], fd = 0, ad = 0, h = 1e-5;
            for (int j = 0; j < NP; j++) {
                dp[j] = fold_test_normal(&r);
                pp[j] = p[j] + h * dp[j];
                pm[j] = p[j] - h * dp[j];
                ad += pbar[j] * dp[j];
            }
            run_k(&m, pp, z0, k, zp);
            run_k(&m, pm, z0, k, zm);
            for (int i = 0; i < N; i++)
                fd += zbar[i] * (zp[i] - zm[i]) / (2 * h);
            ck_assert_msg(fabs(fd - ad) <= 1e-8 * fmax(1, fabs(fd)), "k %d: fd %.12g vs %.12g", k,
                          fd, ad);
        }
    }
}
END_TEST

START_TEST(step_unroll_bad_input)
{
    nl m;
    fold_test_rng r;
    double p[NP] = {0}, z0[N] = {0}, zbar[N] = {1, 1, 1, 1, 1, 1}, pbar[NP], z[N];
    fold_test_rng_seed(&r, 3);
    init(&m, &r);
    for (int j = 0; j < NP; j++)
        pbar[j] = z[j] = 42;
    fold_step_def def = {"bad step", N, NP, update, phit, psit, &m}, bad = def;
    ck_assert_status(
        fold_step_unroll_vjp(NULL, &(fold_unroll_run){.p = p, .start = z0, .iters = 3, .bar = zbar},
                             z, pbar, NULL),
        FOLD_ERR_ARGUMENT);
    bad.phit_v = NULL;
    ck_assert_status(
        fold_step_unroll_vjp(&bad, &(fold_unroll_run){.p = p, .start = z0, .iters = 3, .bar = zbar},
                             z, pbar, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("phit_v");
    bad = def;
    bad.nz = 0;
    ck_assert_status(
        fold_step_unroll_vjp(&bad, &(fold_unroll_run){.p = p, .start = z0, .iters = 3, .bar = zbar},
                             z, pbar, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("nz");
    ck_assert_status(
        fold_step_unroll_vjp(
            &def, &(fold_unroll_run){.p = p, .start = z0, .iters = -1, .bar = zbar}, z, pbar, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("iters");
    zbar[2] = NAN;
    ck_assert_status(
        fold_step_unroll_vjp(&def, &(fold_unroll_run){.p = p, .start = z0, .iters = 3, .bar = zbar},
                             z, pbar, NULL),
        FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("zbar");
    zbar[2] = 1;
    m.calls = 0;
    m.fail_at = 2;
    ck_assert_status(
        fold_step_unroll_vjp(&def, &(fold_unroll_run){.p = p, .start = z0, .iters = 5, .bar = zbar},
                             z, pbar, NULL),
        FOLD_ERR_CALLBACK);
    ck_assert_error_mentions("update");
    ck_assert_error_mentions("iteration 2");
    m.fail_at = -1;
    p[1] = INFINITY; /* p itself is checked */
    ck_assert_status(
        fold_step_unroll_vjp(&def, &(fold_unroll_run){.p = p, .start = z0, .iters = 5, .bar = zbar},
                             z, pbar, NULL),
        FOLD_ERR_NONFINITE);
    p[1] = 1e200; /* the iteration blows up: the non-finite update output is named */
    m.a = 10;
    ck_assert_status(fold_step_unroll_vjp(
                         &def, &(fold_unroll_run){.p = p, .start = z0, .iters = 400, .bar = zbar},
                         z, pbar, NULL),
                     FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("update output");
    for (int j = 0; j < NP; j++) /* nothing written on failure */
        ck_assert(pbar[j] == 42 && z[j] == 42);
    /* zero iterations: z = z0 and pbar = 0 */
    m.a = 0.2;
    p[1] = 0;
    ck_assert_status(fold_step_unroll_vjp(
                         &def, &(fold_unroll_run){.p = p, .start = z0, .bar = zbar}, z, pbar, NULL),
                     FOLD_OK);
    for (int j = 0; j < NP; j++)
        ck_assert(pbar[j] == 0 && z[j] == z0[j]);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("step_unroll");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, step_unroll_matches_builtin_and_fd);
    tcase_add_test(tc, step_unroll_bad_input);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
