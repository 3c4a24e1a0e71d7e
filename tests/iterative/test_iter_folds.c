/* Built-in update steps: projection Jacobians against finite differences, projected-gradient
 * folds against re-solved finite differences and the active-set derivative, forward- and
 * reverse-mode unrolling, and the theorem that unrolling k steps equals k LFPI steps when
 * the step Jacobian is constant (doc/iterative.md §4-5). */
#include "iter_fixtures.h"

#include "fold/map/map_internal.h"
#include "forward/iterative/iter_internal.h"

static void rand_vec(fold_test_rng *r, double *v, long n, double scale)
{
    for (long i = 0; i < n; i++)
        v[i] = scale * fold_test_normal(r);
}

START_TEST(projection_jacobians_match_fd)
{
    const long n = 8;
    double lo[8], hi[8], c[8], y[8], v[8], x[8], xp[8], xm[8], jv[8];
    fold_int cp[9], ri[16];
    double ax[16], b[2] = {0.5, -1.0};
    fold_test_rng r;
    fold_test_rng_seed(&r, 4);
    for (long i = 0; i < n; i++) {
        lo[i] = -0.5;
        hi[i] = 0.5;
        c[i] = 0.1 * (double)i;
    }
    for (long j = 0; j <= n; j++)
        cp[j] = 2 * j;
    for (long j = 0; j < n; j++) {
        ri[2 * j] = 0;
        ri[2 * j + 1] = 1;
        ax[2 * j] = 1.0;
        ax[2 * j + 1] = sin((double)j);
    }
    fold_csc A = {2, n, cp, ri, ax};
    fold_set sets[] = {{FOLD_SET_BOX, lo, hi, 0, NULL, NULL, NULL},
                       {FOLD_SET_NONNEG, NULL, NULL, 0, NULL, NULL, NULL},
                       {FOLD_SET_SIMPLEX, NULL, NULL, 1.0, NULL, NULL, NULL},
                       {FOLD_SET_BALL, NULL, NULL, 0.8, c, NULL, NULL},
                       {FOLD_SET_AFFINE, NULL, NULL, 0, NULL, &A, b},
                       {FOLD_SET_FREE, NULL, NULL, 0, NULL, NULL, NULL}};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        fold_iter_set *S;
        ck_assert_status(fold_iter_set_create(&sets[k], n, "test", &S), FOLD_OK);
        for (int trial = 0; trial < 5; trial++) {
            const double h = 1e-6;
            rand_vec(&r, y, n, 1.0);
            rand_vec(&r, v, n, 1.0);
            ck_assert_status(fold_iter_set_project(S, y, x), FOLD_OK);
            for (long i = 0; i < n; i++) {
                xp[i] = y[i] + h * v[i];
                xm[i] = y[i] - h * v[i];
            }
            ck_assert_status(fold_iter_set_project(S, xp, xp), FOLD_OK);
            ck_assert_status(fold_iter_set_project(S, xm, xm), FOLD_OK);
            ck_assert_status(fold_iter_set_jac(S, y, x, v, jv), FOLD_OK);
            for (long i = 0; i < n; i++)
                ck_assert_msg(fabs((xp[i] - xm[i]) / (2 * h) - jv[i]) < 1e-6,
                              "set %zu trial %d entry %ld: fd %g vs J v %g", k, trial, i,
                              (xp[i] - xm[i]) / (2 * h), jv[i]);
            /* projection property: P(P(y)) = P(y) */
            ck_assert_status(fold_iter_set_project(S, x, xp), FOLD_OK);
            ck_assert(fold_test_vec_relerr(xp, x, n, 1.0) < 1e-12);
        }
        fold_iter_set_free(S);
    }
    /* bad sets */
    fold_iter_set *S;
    fold_set bad = {FOLD_SET_BALL, NULL, NULL, -1, NULL, NULL, NULL};
    ck_assert_status(fold_iter_set_create(&bad, n, "test", &S), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("radius");
    hi[3] = -1;
    bad = (fold_set){FOLD_SET_BOX, lo, hi, 0, NULL, NULL, NULL};
    ck_assert_status(fold_iter_set_create(&bad, n, "test", &S), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("set.lower[3]");
    for (long j = 0; j < n; j++)
        ax[2 * j + 1] = 2 * ax[2 * j]; /* rank one */
    bad = (fold_set){FOLD_SET_AFFINE, NULL, NULL, 0, NULL, &A, b};
    ck_assert_status(fold_iter_set_create(&bad, n, "test", &S), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("full row rank");
}
END_TEST

/* Box-constrained QP: the projected-gradient fold against central differences of re-solves
 * and against the active-set derivative dx_F = -Q_FF^{-1} B_F dp, dx_A = 0. */
START_TEST(pgd_fold_matches_resolves)
{
    const long n = 30, np = 4;
    qp P;
    double lo[30], hi[30], p[4] = {0.2, -0.1, 0.3, 0.05}, dp[4] = {1, -0.5, 0.25, 2};
    double x[30], xp[30], xm[30], dz[30], fd[30], pp[4], pm[4], zbar[30], pb[4];
    fold_settings s;
    fold_map *map;
    qp_init(&P, n, np, 10, 11);
    for (long i = 0; i < n; i++) {
        lo[i] = -1;
        hi[i] = 1;
    }
    fold_iter_def def = {
        FOLD_ITER_PGD, qp_objective(&P), {FOLD_SET_BOX, lo, hi, 0, 0, 0, 0}, 0, 1.0 / 10, NULL};
    ck_assert_status(fold_iter_solve(&def,
                                     &(fold_iter_run){.p = p, .max_iter = 20000, .tol = 1e-15}, x,
                                     NULL, NULL),
                     FOLD_OK);
    long n_active = 0;
    for (long i = 0; i < n; i++)
        n_active += fabs(fabs(x[i]) - 1) < 1e-12;
    ck_assert_msg(n_active > 0 && n_active < n, "fixture should have some active bounds (%ld)",
                  n_active);
    ck_assert_status(fold_iter_map(&def, x, p, &map), FOLD_OK);
    fold_settings_default(&s);
    s.backward.tol = 1e-13;
    s.precond.kind = FOLD_PRECOND_NONE;
    int ms[] = {FOLD_BACKWARD_DIRECT, FOLD_BACKWARD_LFPI, FOLD_BACKWARD_GMRES,
                FOLD_BACKWARD_BICGSTAB};
    const double h = 1e-6;
    for (long k = 0; k < np; k++) {
        pp[k] = p[k] + h * dp[k];
        pm[k] = p[k] - h * dp[k];
    }
    ck_assert_status(
        fold_iter_solve(&def, &(fold_iter_run){.p = pp, .x0 = x, .max_iter = 20000, .tol = 1e-15},
                        xp, NULL, NULL),
        FOLD_OK);
    ck_assert_status(
        fold_iter_solve(&def, &(fold_iter_run){.p = pm, .x0 = x, .max_iter = 20000, .tol = 1e-15},
                        xm, NULL, NULL),
        FOLD_OK);
    for (long i = 0; i < n; i++)
        fd[i] = (xp[i] - xm[i]) / (2 * h);
    for (int k = 0; k < 4; k++) {
        s.backward.method = ms[k];
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_OK);
        ck_assert_msg(fold_test_vec_relerr(dz, fd, n, 1.0) < 1e-6, "method %d: error %g", ms[k],
                      fold_test_vec_relerr(dz, fd, n, 1.0));
    }
    /* adjoint identity with the VJP */
    for (long i = 0; i < n; i++)
        zbar[i] = cos((double)i);
    s.backward.method = FOLD_BACKWARD_GMRES;
    ck_assert_status(fold_map_vjp(map, &s, zbar, pb, NULL), FOLD_OK);
    double a = 0, b = 0;
    for (long i = 0; i < n; i++)
        a += dz[i] * zbar[i];
    for (long k = 0; k < np; k++)
        b += dp[k] * pb[k];
    ck_assert(fabs(a - b) < 1e-10 * fmax(1, fabs(a)));
    /* forward-mode unrolling converges to the same derivative */
    double xt[30], dxt[30];
    ck_assert_status(
        fold_iter_solve(&def, &(fold_iter_run){.p = p, .max_iter = 20000, .tol = 1e-15, .dp = dp},
                        xt, dxt, NULL),
        FOLD_OK);
    ck_assert(fold_test_vec_relerr(dxt, dz, n, 1.0) < 1e-9);
    fold_map_free(map);
    qp_free(&P);
}
END_TEST

/* Run k LFPI iterations (tol 0) on the transposed system and return pbar = Psi' w_k. */
static void lfpi_k(fold_map *map, long k, const double *xbar, double *pbar)
{
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double *w = calloc((size_t)map->nz, sizeof(double));
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_LFPI;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-16;
    s.backward.max_iter = k;
    fold_status st = fold_map_solve(map, &s, true, xbar, w, &info);
    ck_assert_msg(st == FOLD_ERR_NOT_CONVERGED || st == FOLD_OK, "%s", fold_last_error());
    /* exactly k iterations, unless the residual vanished earlier (Phi' xbar = 0) */
    ck_assert_msg(info.iterations == k || (st == FOLD_OK && info.iterations < k),
                  "k = %ld: %ld iterations", k, (long)info.iterations);
    ck_assert_status(fold_map_psit(map, w, pbar), FOLD_OK);
    free(w);
}

static void check_theorem(fold_iter_def *def, const double *p, const double *x0,
                          const double *xstar, long n, long np, long kmax)
{
    fold_map *map;
    double *xbar = malloc((size_t)n * sizeof(double)), *pu = malloc((size_t)np * 8);
    double *pl = malloc((size_t)np * 8);
    fold_iter_info info = FOLD_ITER_INFO_INIT;
    for (long i = 0; i < n; i++)
        xbar[i] = sin(1.0 + (double)i);
    ck_assert_status(fold_iter_map(def, xstar, p, &map), FOLD_OK);
    for (long k = 1; k <= kmax; k++) {
        ck_assert_status(fold_iter_unroll_vjp(
                             def, &(fold_unroll_run){.p = p, .start = x0, .iters = k, .bar = xbar},
                             NULL, pu, &info),
                         FOLD_OK);
        ck_assert_uint_eq(info.bytes_stored, (size_t)(2 * k + 1) * (size_t)n * sizeof(double));
        lfpi_k(map, k, xbar, pl);
        double err = fold_test_vec_relerr(pu, pl, np, 0);
        ck_assert_msg(err <= 1e-12, "set %d k = %ld: unrolled vs LFPI relative error %g",
                      def->set.kind, k, err);
    }
    fold_map_free(map);
    free(xbar);
    free(pu);
    free(pl);
}

START_TEST(theorem_unrolling_equals_lfpi)
{
    const long n = 20, np = 3;
    qp P;
    double p[3] = {0.5, -0.2, 0.1}, x[20], x0[20], lo[20], hi[20];
    fold_int cp[21], ri[60];
    double ax[60], b[3] = {1, 0, -1};
    qp_init(&P, n, np, 10, 31);
    for (long i = 0; i < n; i++)
        x0[i] = 0.3 * cos((double)i);
    /* unconstrained: Phi = I - aQ is constant along any trajectory */
    fold_iter_def def = {FOLD_ITER_PGD, qp_objective(&P), {FOLD_SET_FREE, 0, 0, 0, 0, 0, 0}, 0, 0.1,
                         NULL};
    ck_assert_status(fold_iter_solve(&def, &(fold_iter_run){.p = p, .max_iter = 5000, .tol = 1e-14},
                                     x, NULL, NULL),
                     FOLD_OK);
    check_theorem(&def, p, x0, x, n, np, 40);
    /* equality constraints A x = b: Phi = J_A (I - aQ) with the constant J_A */
    for (long j = 0; j <= n; j++)
        cp[j] = 3 * j;
    for (long j = 0; j < n; j++)
        for (long i = 0; i < 3; i++) {
            ri[3 * j + i] = i;
            ax[3 * j + i] = cos(0.7 * (double)((i + 1) * (j + 1)));
        }
    fold_csc A = {3, n, cp, ri, ax};
    def.set = (fold_set){FOLD_SET_AFFINE, 0, 0, 0, 0, &A, b};
    ck_assert_status(fold_iter_solve(&def, &(fold_iter_run){.p = p, .max_iter = 5000, .tol = 1e-14},
                                     x, NULL, NULL),
                     FOLD_OK);
    check_theorem(&def, p, x0, x, n, np, 40);
    /* inequalities: once the active set has settled (start at x_s, late iterate) */
    for (long i = 0; i < n; i++) {
        lo[i] = -1.0;
        hi[i] = 1.0;
    }
    def.set = (fold_set){FOLD_SET_BOX, lo, hi, 0, 0, 0, 0};
    double xs[20];
    ck_assert_status(
        fold_iter_solve(&def, &(fold_iter_run){.p = p, .max_iter = 300, .tol = 0}, xs, NULL, NULL),
        FOLD_WARN_INACCURATE);
    ck_assert_status(fold_iter_solve(&def,
                                     &(fold_iter_run){.p = p, .max_iter = 20000, .tol = 1e-15}, x,
                                     NULL, NULL),
                     FOLD_OK);
    long n_free = 0;
    for (long i = 0; i < n; i++)
        n_free += fabs(x[i]) < 1.0 - 1e-9;
    ck_assert_msg(n_free > 0 && n_free < n, "%ld free variables", n_free);
    check_theorem(&def, p, xs, x, n, np, 40);
    /* ... and not before: from a cold start the first steps see another active set */
    fold_map *map;
    double xbar[20], pu[3], pl[3];
    for (long i = 0; i < n; i++)
        xbar[i] = sin(1.0 + (double)i);
    ck_assert_status(fold_iter_map(&def, x, p, &map), FOLD_OK);
    ck_assert_status(
        fold_iter_unroll_vjp(&def, &(fold_unroll_run){.p = p, .start = x0, .iters = 5, .bar = xbar},
                             NULL, pu, NULL),
        FOLD_OK);
    lfpi_k(map, 5, xbar, pl);
    ck_assert(fold_test_vec_relerr(pu, pl, np, 0) > 1e-6);
    fold_map_free(map);
    qp_free(&P);
}
END_TEST

START_TEST(unrolled_tangent_and_adjoint_agree)
{
    const long n = 15, np = 3;
    qp P;
    double p[3] = {0.1, 0.2, 0.3}, dp[3] = {1, 2, -1}, x[15], dx[15], xbar[15], pbar[3];
    qp_init(&P, n, np, 5, 41);
    for (long i = 0; i < n; i++)
        xbar[i] = 1.0 / (1.0 + (double)i);
    fold_iter_def defs[] = {
        {FOLD_ITER_PGD, qp_objective(&P), {FOLD_SET_SIMPLEX, 0, 0, 1.0, 0, 0, 0}, 0, 0.2, NULL},
        {FOLD_ITER_PGD, qp_objective(&P), {FOLD_SET_BALL, 0, 0, 0.5, 0, 0, 0}, 0, 0.2, NULL},
        {FOLD_ITER_PROX_L1, qp_objective(&P), {0, 0, 0, 0, 0, 0, 0}, 0.8, 0.2, NULL}};
    for (int d = 0; d < 3; d++)
        for (long k = 1; k <= 25; k += 8) {
            ck_assert_status(
                fold_iter_solve(&defs[d],
                                &(fold_iter_run){.p = p, .max_iter = k, .tol = 0, .dp = dp}, x, dx,
                                NULL),
                FOLD_WARN_INACCURATE);
            ck_assert_status(
                fold_iter_unroll_vjp(&defs[d], &(fold_unroll_run){.p = p, .iters = k, .bar = xbar},
                                     NULL, pbar, NULL),
                FOLD_OK);
            double a = 0, b = 0;
            for (long i = 0; i < n; i++)
                a += dx[i] * xbar[i];
            for (long j = 0; j < np; j++)
                b += dp[j] * pbar[j];
            ck_assert_msg(fabs(a - b) < 1e-12 * fmax(1, fabs(a)), "def %d k %ld: %g vs %g", d, k, a,
                          b);
        }
    /* prox fold at the solution against re-solves */
    double xs[15], xp[15], xm[15], pp[3], pm[3], dz[15];
    fold_map *map;
    fold_settings s;
    ck_assert_status(fold_iter_solve(&defs[2],
                                     &(fold_iter_run){.p = p, .max_iter = 20000, .tol = 1e-15}, xs,
                                     NULL, NULL),
                     FOLD_OK);
    for (int j = 0; j < 3; j++) {
        pp[j] = p[j] + 1e-6 * dp[j];
        pm[j] = p[j] - 1e-6 * dp[j];
    }
    ck_assert_status(
        fold_iter_solve(&defs[2],
                        &(fold_iter_run){.p = pp, .x0 = xs, .max_iter = 20000, .tol = 1e-15}, xp,
                        NULL, NULL),
        FOLD_OK);
    ck_assert_status(
        fold_iter_solve(&defs[2],
                        &(fold_iter_run){.p = pm, .x0 = xs, .max_iter = 20000, .tol = 1e-15}, xm,
                        NULL, NULL),
        FOLD_OK);
    ck_assert_status(fold_iter_map(&defs[2], xs, p, &map), FOLD_OK);
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_GMRES;
    s.precond.kind = FOLD_PRECOND_NONE;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_OK);
    for (long i = 0; i < n; i++)
        xp[i] = (xp[i] - xm[i]) / 2e-6;
    ck_assert_msg(fold_test_vec_relerr(dz, xp, n, 1.0) < 1e-6, "prox fold vs FD %g",
                  fold_test_vec_relerr(dz, xp, n, 1.0));
    fold_map_free(map);
    /* bad definitions */
    fold_iter_def bad = defs[0];
    bad.step = 0;
    ck_assert_status(
        fold_iter_solve(&bad, &(fold_iter_run){.p = p, .max_iter = 10, .tol = 0}, x, NULL, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("step");
    ck_assert_status(fold_iter_solve(&defs[0], NULL, x, NULL, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("run");
    ck_assert_status(
        fold_iter_solve(&defs[0], &(fold_iter_run){.p = p, .max_iter = -1}, x, NULL, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("run.max_iter");
    bad = defs[0];
    bad.obj.cross_t_v = NULL;
    ck_assert_status(fold_iter_unroll_vjp(&bad, &(fold_unroll_run){.p = p, .iters = 3, .bar = xbar},
                                          NULL, pbar, NULL),
                     FOLD_ERR_MISSING_DERIVATIVE);
    ck_assert_status(fold_iter_unroll_vjp(&defs[0],
                                          &(fold_unroll_run){.p = p, .iters = -1, .bar = xbar},
                                          NULL, pbar, NULL),
                     FOLD_ERR_ARGUMENT);
    qp_free(&P);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("iter_folds");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, projection_jacobians_match_fd);
    tcase_add_test(tc, pgd_fold_matches_resolves);
    tcase_add_test(tc, theorem_unrolling_equals_lfpi);
    tcase_add_test(tc, unrolled_tangent_and_adjoint_agree);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
