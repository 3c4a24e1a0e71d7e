/* Fixed-iteration backward mode (backward.fixed_iterations, doc/iterative.md §2.6) on fold
 * maps: exactly K LFPI steps equal K unrolled steps w <- Phi' w + zbar computed by hand, the
 * residual reported is the true one, K large enough gives the converged result, and with the
 * setting off an iteration limit is still an error. */
#include "iter_fixtures.h"

#define NZ 12
#define NP 4

static fold_map *make_map(dense_map *dm, bool sym)
{
    fold_map_def d = dense_map_def(dm, "fixed", sym);
    fold_map *map = NULL;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    return map;
}

/* ||b - (I - Phi) x|| / ||b|| (transpose: with Phi'). */
static double true_residual(const dense_map *dm, bool tr, const double *b, const double *x)
{
    double r[NZ], bn = 0, rn = 0;
    dense_mv(dm->phi, NZ, NZ, tr, x, r);
    for (int i = 0; i < NZ; i++) {
        double ri = b[i] - (x[i] - r[i]);
        rn += ri * ri;
        bn += b[i] * b[i];
    }
    return sqrt(rn / bn);
}

/* K steps of x <- Phi x + b (transpose: Phi' x + b) from x = 0. */
static void unrolled(const dense_map *dm, bool tr, const double *b, int K, double *x)
{
    double t[NZ];
    memset(x, 0, NZ * sizeof *x);
    for (int k = 0; k < K; k++) {
        dense_mv(dm->phi, NZ, NZ, tr, x, t);
        for (int i = 0; i < NZ; i++)
            x[i] = t[i] + b[i];
    }
}

static void fill(double *v, int n, unsigned long long seed)
{
    fold_test_rng r;
    fold_test_rng_seed(&r, seed);
    for (int i = 0; i < n; i++)
        v[i] = fold_test_normal(&r);
}

/* LFPI with K = 5: the JVP and VJP are those of 5 unrolled steps, FOLD_OK although the
 * residual is far above backward.tol, and the residual is the true one. */
START_TEST(lfpi_k_steps_exactly)
{
    dense_map dm;
    dense_map_init(&dm, NZ, NP, 0.9, false, 7);
    fold_map *map = make_map(&dm, false);
    double dp[NP], b[NZ], dz[NZ], ref[NZ], zbar[NZ], w[NZ], pbar[NP], pref[NP];
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fill(dp, NP, 1);
    fill(zbar, NZ, 2);
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_LFPI;
    s.precond.kind = FOLD_PRECOND_NONE;
    ck_assert_status(fold_settings_set(&s, "backward.fixed_iterations", "5"), FOLD_OK);
    ck_assert_int_eq(s.backward.fixed_iterations, 5);
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_OK);
    ck_assert_str_eq(fold_last_error(), "");
    ck_assert_int_eq(info.iterations, 5);
    ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
    dense_mv(dm.psi, NZ, NP, false, dp, b);
    unrolled(&dm, false, b, 5, ref);
    ck_assert_msg(fold_test_vec_relerr(dz, ref, NZ, 0) < 1e-13, "jvp vs unrolled: %g",
                  fold_test_vec_relerr(dz, ref, NZ, 0));
    double r = true_residual(&dm, false, b, dz);
    ck_assert_msg(r > 1e-6, "5 steps should leave a residual above tol, got %g", r);
    ck_assert_msg(fabs(info.residual - r) <= 1e-12 * r, "residual %g, true %g", info.residual, r);
    /* reverse mode: pbar = Psi' w_5, w_5 = sum_{k<5} Phi'^k zbar */
    ck_assert_status(fold_map_vjp(map, &s, zbar, pbar, &info), FOLD_OK);
    ck_assert_int_eq(info.iterations, 5);
    ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
    unrolled(&dm, true, zbar, 5, w);
    dense_mv(dm.psi, NZ, NP, true, w, pref);
    ck_assert_msg(fold_test_vec_relerr(pbar, pref, NP, 0) < 1e-13, "vjp vs unrolled: %g",
                  fold_test_vec_relerr(pbar, pref, NP, 0));
    ck_assert_msg(fabs(info.residual - true_residual(&dm, true, zbar, w)) <= 1e-12 * info.residual,
                  "vjp residual %g", info.residual);
    /* Jacobian: K steps per column */
    double J[NZ * NP];
    ck_assert_status(fold_map_jacobian(map, &s, J, &info), FOLD_OK);
    ck_assert_int_eq(info.iterations, 5 * NP);
    ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
    fold_map_free(map);
    dense_map_free(&dm);
}
END_TEST

/* GMRES with K = 3 < nz: 3 iterations, the true residual; K large gives the direct result,
 * for every iterative method. */
START_TEST(krylov_k_steps_and_large_k)
{
    static const int methods[] = {FOLD_BACKWARD_LFPI, FOLD_BACKWARD_GMRES, FOLD_BACKWARD_BICGSTAB,
                                  FOLD_BACKWARD_MINRES, FOLD_BACKWARD_CG};
    dense_map dm;
    dense_map_init(&dm, NZ, NP, 0.5, true, 11);
    fold_map *map = make_map(&dm, true);
    double dp[NP], b[NZ], dz[NZ], ref[NZ];
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fill(dp, NP, 3);
    dense_mv(dm.psi, NZ, NP, false, dp, b);
    fold_settings_default(&s);
    ck_assert_status(fold_map_jvp(map, &s, dp, ref, NULL), FOLD_OK); /* direct */
    s.backward.method = FOLD_BACKWARD_GMRES;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.fixed_iterations = 3;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_OK);
    ck_assert_int_eq(info.iterations, 3);
    ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
    double r = true_residual(&dm, false, b, dz);
    ck_assert_msg(r > 1e-6, "3 GMRES steps on nz = 12 should not converge: %g", r);
    ck_assert_msg(fabs(info.residual - r) <= 1e-12 * r, "residual %g, true %g", info.residual, r);
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        s.backward.method = methods[k];
        s.backward.fixed_iterations = 200;
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_OK);
        ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
        ck_assert_int_le(info.iterations, 200);
        ck_assert_msg(fold_test_vec_relerr(dz, ref, NZ, 0) < 1e-10, "method %d: error %g",
                      methods[k], fold_test_vec_relerr(dz, ref, NZ, 0));
        ck_assert_msg(info.residual < 1e-12, "method %d: residual %g", methods[k], info.residual);
        ck_assert_msg(fabs(info.residual - true_residual(&dm, false, b, dz)) <= 1e-14,
                      "method %d: residual %g", methods[k], info.residual);
    }
    /* LFPI has no early stop short of a zero residual: exactly K */
    s.backward.method = FOLD_BACKWARD_LFPI;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_OK);
    ck_assert_int_eq(info.iterations, 200);
    fold_map_free(map);
    dense_map_free(&dm);
}
END_TEST

/* With the setting off, the limit stays an error and nothing is written; negative K is
 * refused by name. */
START_TEST(default_unchanged)
{
    dense_map dm;
    dense_map_init(&dm, NZ, NP, 0.9, false, 7);
    fold_map *map = make_map(&dm, false);
    double dp[NP], dz[NZ];
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fill(dp, NP, 1);
    for (int i = 0; i < NZ; i++)
        dz[i] = 42.0;
    fold_settings_default(&s);
    ck_assert_int_eq(s.backward.fixed_iterations, 0);
    s.backward.method = FOLD_BACKWARD_LFPI;
    s.backward.max_iter = 5;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_ERR_NOT_CONVERGED);
    ck_assert_int_eq(info.reason, FOLD_REASON_MAX_ITER);
    ck_assert_error_mentions("LFPI");
    for (int i = 0; i < NZ; i++)
        ck_assert_double_eq(dz[i], 42.0);
    ck_assert_status(fold_settings_set(&s, "backward.fixed_iterations", "-1"), FOLD_ERR_SETTING);
    ck_assert_error_mentions("backward.fixed_iterations");
    s.backward.fixed_iterations = -3;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_ERR_SETTING);
    /* the direct method ignores it */
    s.backward.fixed_iterations = 2;
    s.backward.method = FOLD_BACKWARD_DIRECT;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_OK);
    ck_assert_int_eq(info.reason, FOLD_REASON_DIRECT);
    fold_map_free(map);
    dense_map_free(&dm);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("fixed_iterations");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lfpi_k_steps_exactly);
    tcase_add_test(tc, krylov_k_steps_and_large_k);
    tcase_add_test(tc, default_unchanged);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
