/* The KKT fold at known solutions (no forward solve): closed-form derivatives of the
 * parametric QP, adjointness, envelope theorem, agreement of forms, factorizations and
 * orderings, jacobian modes, factorization reuse (doc/math.md §3). */
#include "basic/basic.h"
#include "fold_test_util.h"

#define N_SEEDS 24

static fold_solver *pqp_solver(const fold_settings *s, const double *p, fold_problem **prob)
{
    double x[FOLD_PQP_N], lam, zero[FOLD_PQP_N] = {0};
    fold_solver *solver = NULL;
    ck_assert_status(fold_pqp_create(prob), FOLD_OK);
    ck_assert_status(fold_solver_create(*prob, s, &solver), FOLD_OK);
    fold_pqp_solution(p, x, &lam, NULL);
    fold_solver_store(solver, p, x, &lam, zero, zero, 0.0, true);
    return solver;
}

static const double pqp_p[FOLD_PQP_N + 1] = {1.0, -2.0, 0.5, 3.0, 1.5, 2.0};

/* Every form x factorization x ordering reproduces the closed-form dx/dp. */
START_TEST(pqp_closed_form)
{
    int form = _i / 9, fact = (_i / 3) % 3, ord = _i % 3;
    fold_settings s;
    fold_problem *prob;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double J[FOLD_PQP_N * (FOLD_PQP_N + 1)], ref[FOLD_PQP_N * (FOLD_PQP_N + 1)];
    fold_settings_default(&s);
    s.backward.kkt_form = form;
    s.backward.factorization = fact;
    s.backward.ordering = ord;
    s.backward.tol = 1e-14;
    s.backward.refine_steps = 10;
    fold_solver *solver = pqp_solver(&s, pqp_p, &prob);
    fold_pqp_solution(pqp_p, NULL, NULL, ref);
    ck_assert_status(fold_jacobian(solver,
                                   &(fold_jacobian_sel){.of = FOLD_BLOCK_X,
                                                        .n_rows = FOLD_PQP_N,
                                                        .n_cols = FOLD_PQP_N + 1},
                                   J, &info),
                     FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(J, ref, FOLD_PQP_N * (FOLD_PQP_N + 1), 1.0), 1e-10);
    ck_assert_int_eq(info.dim, FOLD_PQP_N + 1); /* no active bound: 5 + 1 in both forms */
    ck_assert_int_eq(info.n_active_cons, 1);
    ck_assert_int_eq(info.n_rhs, FOLD_PQP_N); /* reverse mode: 5 rows < 6 columns */
    ck_assert_double_le(info.residual, 1e-14);
    ck_assert_int_gt(info.factor_nnz, 0);
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* Envelope theorem against central differences of the closed-form optimal value. */
START_TEST(pqp_value_gradient)
{
    fold_problem *prob;
    fold_solver *solver = pqp_solver(NULL, pqp_p, &prob);
    double grad[FOLD_PQP_N + 1], p[FOLD_PQP_N + 1], x[FOLD_PQP_N], h = 1e-5;
    double D[FOLD_PQP_N] = {1, 2, 3, 4, 5};
    ck_assert_status(fold_value_gradient(solver, grad), FOLD_OK);
    for (int k = 0; k <= FOLD_PQP_N; k++) {
        double fv[2];
        for (int s = 0; s < 2; s++) {
            memcpy(p, pqp_p, sizeof p);
            p[k] += s ? -h : h;
            fold_pqp_solution(p, x, NULL, NULL);
            fv[s] = 0;
            for (int j = 0; j < FOLD_PQP_N; j++)
                fv[s] += 0.5 * D[j] * x[j] * x[j] - p[j] * x[j];
        }
        ck_assert_double_le(fold_test_relerr(grad[k], (fv[0] - fv[1]) / (2 * h)), 1e-8);
    }
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

static fold_rp *make_rp(int seed, bool nonlinear)
{
    fold_rp_options o = {
        .n = 10 + seed % 9, .m = 4 + seed % 5, .np = 3 + seed % 4, .nonlinear = nonlinear};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(1000 + (unsigned)seed, &o, &rp), FOLD_OK);
    return rp;
}

/* <J dp, zbar> = <dp, J' zbar> over all four blocks and both forms. */
START_TEST(random_adjointness)
{
    fold_rp *rp = make_rp(_i, _i % 2);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    for (int form = 0; form < 2; form++) {
        fold_settings s = fold_test_tight_settings();
        fold_test_rng r;
        s.backward.kkt_form = form;
        fold_solver *solver = fold_test_rp_solver(rp, &s);
        double *dp = calloc((size_t)np, 8), *pbar = calloc((size_t)np, 8);
        double *v = calloc((size_t)(6 * n + 2 * m), 8);
        double *dx = v, *dzl = v + n, *dzu = v + 2 * n, *xb = v + 3 * n, *zlb = v + 4 * n;
        double *zub = v + 5 * n, *dlam = v + 6 * n, *lamb = dlam + m;
        fold_test_rng_seed(&r, 77 + (unsigned)_i);
        fold_test_fill_normal(&r, dp, np);
        fold_test_fill_normal(&r, xb, 3 * n);
        fold_test_fill_normal(&r, lamb, m);
        ck_assert_status(
            fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = dlam, .zl = dzl, .zu = dzu}, NULL),
            FOLD_OK);
        ck_assert_status(
            fold_vjp(solver, &(fold_zbar){.x = xb, .lam = lamb, .zl = zlb, .zu = zub}, pbar, NULL),
            FOLD_OK);
        double lhs = fold_test_dot(dx, xb, n) + fold_test_dot(dlam, lamb, m) +
                     fold_test_dot(dzl, zlb, n) + fold_test_dot(dzu, zub, n);
        double rhs = fold_test_dot(dp, pbar, np);
        ck_assert_msg(fabs(lhs - rhs) <= 1e-10 * fmax(1.0, fabs(lhs)),
                      "seed %d form %d: <J dp, zbar> = %.15g, <dp, J'zbar> = %.15g", _i, form, lhs,
                      rhs);
        free(dp);
        free(pbar);
        free(v);
        fold_solver_free(solver);
    }
    fold_rp_free(rp);
}
END_TEST

/* vjp of the objective through x* plus the explicit df/dp equals the envelope gradient. */
START_TEST(random_envelope)
{
    fold_rp *rp = make_rp(_i, _i % 2);
    const fold_problem *prob = fold_rp_problem(rp);
    fold_int n, m, np;
    fold_problem_dims(prob, &n, &m, &np);
    fold_settings st = fold_test_tight_settings();
    fold_solver *solver = fold_test_rp_solver(rp, &st);
    const double *p0, *x;
    fold_rp_solution(rp, &p0, &x, NULL, NULL, NULL);
    double *gx = calloc((size_t)n, 8), *pbar = calloc((size_t)np, 8);
    double *vg = calloc((size_t)np, 8), *fd = calloc((size_t)np, 8), *p = calloc((size_t)np, 8);
    fold_rp_grad_x(rp, x, p0, gx);
    fold_rp_grad_p(rp, x, p0, fd);
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = gx}, pbar, NULL), FOLD_OK);
    ck_assert_status(fold_value_gradient(solver, vg), FOLD_OK);
    for (fold_int k = 0; k < np; k++)
        pbar[k] += fd[k];
    ck_assert_double_le(fold_test_vec_relerr(pbar, vg, np, 1.0), 1e-8);
    free(gx);
    free(pbar);
    free(vg);
    free(fd);
    free(p);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* Jacobian (both modes, every block) equals stacked jvps; barrier at the exact solution
 * equals active-set; every factorization and ordering agrees. */
START_TEST(random_jacobian)
{
    fold_rp *rp = make_rp(_i, _i % 2);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_settings s0 = fold_test_tight_settings();
    fold_solver *solver = fold_test_rp_solver(rp, &s0);
    fold_int len[4] = {n, m, n, n};
    double *J = calloc((size_t)(n * np), 8), *Jr = calloc((size_t)(n * np), 8);
    double *col = calloc((size_t)(3 * n + m), 8), *dp = calloc((size_t)np, 8);
    fold_int rows1[1] = {0};
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    for (int b = 0; b < 4; b++) {
        if (len[b] == 0) continue;
        /* All rows: forward mode when np <= len. */
        ck_assert_status(
            fold_jacobian(solver,
                          &(fold_jacobian_sel){.of = (fold_block)b, .n_rows = len[b], .n_cols = np},
                          J, &info),
            FOLD_OK);
        ck_assert(info.reused_factorization == (b > 0));
        for (fold_int k = 0; k < np; k++) {
            memset(dp, 0, (size_t)np * 8);
            dp[k] = 1;
            ck_assert_status(
                fold_jvp(solver, dp,
                         &(fold_dz){.x = col, .lam = col + 3 * n, .zl = col + n, .zu = col + 2 * n},
                         NULL),
                FOLD_OK);
            const double *blk = b == 0   ? col
                                : b == 1 ? col + 3 * n
                                : b == 2 ? col + n
                                         : col + 2 * n;
            ck_assert_double_le(fold_test_vec_relerr(J + k * len[b], blk, len[b], 1.0), 1e-12);
        }
        /* One row: reverse mode. */
        rows1[0] = len[b] - 1;
        ck_assert_status(
            fold_jacobian(
                solver,
                &(fold_jacobian_sel){.of = (fold_block)b, .n_rows = 1, .rows = rows1, .n_cols = np},
                Jr, &info),
            FOLD_OK);
        for (fold_int k = 0; k < np; k++)
            ck_assert_double_le(fabs(Jr[k] - J[k * len[b] + rows1[0]]), 1e-10);
    }
    /* Other forms, factorizations and orderings. */
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np},
                      J, NULL),
        FOLD_OK);
    for (int v = 0; v < 10; v++) {
        fold_settings s = s0;
        if (v < 9) {
            s.backward.factorization = v / 3;
            s.backward.ordering = v % 3;
        } else {
            s.backward.kkt_form = FOLD_KKT_BARRIER;
        }
        fold_solver *s2 = fold_test_rp_solver(rp, &s);
        ck_assert_status(
            fold_jacobian(s2, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np},
                          Jr, &info),
            FOLD_OK);
        ck_assert_msg(fold_test_vec_relerr(Jr, J, n * np, 1.0) <= 1e-10, "seed %d variant %d: %g",
                      _i, v, fold_test_vec_relerr(Jr, J, n * np, 1.0));
        fold_solver_free(s2);
    }
    /* One right-hand side per block: forward mode over all columns, reverse mode over two
     * rows (two blocks each way). */
    fold_settings s1 = s0;
    s1.backward.block_size = 1;
    fold_solver *s3 = fold_test_rp_solver(rp, &s1);
    fold_int two[2] = {n - 1, 0};
    ck_assert_status(
        fold_jacobian(s3, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np}, Jr,
                      &info),
        FOLD_OK);
    ck_assert_int_eq(info.n_rhs, np);
    ck_assert_double_le(fold_test_vec_relerr(Jr, J, n * np, 1.0), 1e-10);
    ck_assert_status(
        fold_jacobian(
            s3, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 2, .rows = two, .n_cols = np},
            Jr, &info),
        FOLD_OK);
    ck_assert_int_eq(info.n_rhs, 2);
    for (fold_int k = 0; k < np; k++) {
        ck_assert_double_le(fabs(Jr[2 * k] - J[k * n + n - 1]), 1e-10);
        ck_assert_double_le(fabs(Jr[2 * k + 1] - J[k * n]), 1e-10);
    }
    fold_solver_free(s3);
    free(J);
    free(Jr);
    free(col);
    free(dp);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* Same solution: numeric factorization reused; new solution, same active set: analysis reused. */
START_TEST(reuse)
{
    fold_problem *prob;
    fold_solver *solver = pqp_solver(NULL, pqp_p, &prob);
    double dp[FOLD_PQP_N + 1] = {1, 0, 0, 0, 0, 0}, dx[FOLD_PQP_N], x[FOLD_PQP_N], lam;
    double p2[FOLD_PQP_N + 1], zero[FOLD_PQP_N] = {0}, ref[FOLD_PQP_N * (FOLD_PQP_N + 1)];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert(!info.reused_factorization);
    ck_assert(!info.reused_analysis);
    ck_assert_double_ge(info.total_s, info.solve_s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert(info.reused_factorization);
    memcpy(p2, pqp_p, sizeof p2);
    p2[5] = 3.0;
    fold_pqp_solution(p2, x, &lam, ref);
    fold_solver_store(solver, p2, x, &lam, zero, zero, 0.0, true);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert(!info.reused_factorization);
    ck_assert(info.reused_analysis);
    for (int j = 0; j < FOLD_PQP_N; j++)
        ck_assert_double_le(fabs(dx[j] - ref[j]), 1e-9); /* backward.tol = 1e-10 */
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* Outputs of fold_jvp written in place, or through a buffer when one aliases dp (n = m = np
 * here): each aliased call reproduces the separate-array result; without dzl and dzu the
 * other outputs are unchanged. And fold_vjp with pbar aliasing xbar. */
START_TEST(jvp_vjp_aliasing)
{
    fold_rp_options o = {.n = 12, .m = 12, .np = 12, .nonlinear = _i % 2};
    fold_rp *rp = NULL;
    fold_test_rng r;
    ck_assert_status(fold_rp_create(900 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_settings s = fold_test_tight_settings();
    s.backward.kkt_form = _i / 2;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    double dp[12], ref[4][12], out[4][12], buf[12], pbar[12];
    fold_test_rng_seed(&r, 5 + (unsigned)_i);
    fold_test_fill_normal(&r, dp, 12);
    ck_assert_status(fold_jvp(solver, dp,
                              &(fold_dz){.x = ref[0], .lam = ref[1], .zl = ref[2], .zu = ref[3]},
                              NULL),
                     FOLD_OK);
    for (int which = 0; which < 4; which++) { /* dx, dlam, dzl, dzu alias dp in turn */
        double *o4[4] = {out[0], out[1], out[2], out[3]};
        memcpy(buf, dp, sizeof buf);
        o4[which] = buf;
        ck_assert_status(fold_jvp(solver, buf,
                                  &(fold_dz){.x = o4[0], .lam = o4[1], .zl = o4[2], .zu = o4[3]},
                                  NULL),
                         FOLD_OK);
        for (int k = 0; k < 4; k++)
            ck_assert_double_le(fold_test_vec_relerr(o4[k], ref[k], 12, 1.0), 1e-14);
    }
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = out[0], .lam = out[1]}, NULL), FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(out[0], ref[0], 12, 1.0), 1e-14);
    ck_assert_double_le(fold_test_vec_relerr(out[1], ref[1], 12, 1.0), 1e-14);
    fold_test_fill_normal(&r, buf, 12);
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = buf}, pbar, NULL), FOLD_OK);
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = buf}, buf, NULL), FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(buf, pbar, 12, 1.0), 1e-14);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* The active-form bound weights are formed on first use: a vjp without zlbar, zubar first
 * (weights never formed), then a jvp with dzl, dzu and a vjp with zlbar, zubar give what a
 * fresh solver gives, also after switching to the barrier form and back. */
START_TEST(lazy_bound_weights)
{
    fold_rp_options o = {.n = 14, .m = 5, .np = 4, .nonlinear = true};
    fold_rp *rp = NULL;
    fold_test_rng r;
    ck_assert_status(fold_rp_create(700 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_settings s = fold_test_tight_settings();
    fold_solver *lazy = fold_test_rp_solver(rp, &s), *fresh = fold_test_rp_solver(rp, &s);
    double dp[4], xb[14], zb[14], pbar[4], ref[4][14], out[4][14], pref[4];
    fold_test_rng_seed(&r, 11 + (unsigned)_i);
    fold_test_fill_normal(&r, dp, 4);
    fold_test_fill_normal(&r, xb, 14);
    fold_test_fill_normal(&r, zb, 14);
    if (_i == 1) { /* through the barrier form first: it writes the Sigma terms */
        fold_settings b = s;
        b.backward.kkt_form = FOLD_KKT_BARRIER;
        ck_assert_status(fold_solver_update_settings(lazy, &b), FOLD_OK);
        ck_assert_status(
            fold_jvp(lazy, dp, &(fold_dz){.x = out[0], .lam = out[1], .zl = out[2], .zu = out[3]},
                     NULL),
            FOLD_OK);
        ck_assert_status(fold_solver_update_settings(lazy, &s), FOLD_OK);
    }
    ck_assert_status(fold_vjp(lazy, &(fold_zbar){.x = xb}, pbar, NULL), FOLD_OK);
    ck_assert_status(fold_jvp(lazy, dp,
                              &(fold_dz){.x = out[0], .lam = out[1], .zl = out[2], .zu = out[3]},
                              NULL),
                     FOLD_OK);
    ck_assert_status(fold_jvp(fresh, dp,
                              &(fold_dz){.x = ref[0], .lam = ref[1], .zl = ref[2], .zu = ref[3]},
                              NULL),
                     FOLD_OK);
    for (int k = 0; k < 4; k++)
        ck_assert_double_le(fold_test_vec_relerr(out[k], ref[k], k == 1 ? 5 : 14, 1.0), 1e-14);
    ck_assert_status(fold_vjp(lazy, &(fold_zbar){.x = xb, .zl = zb, .zu = zb}, pbar, NULL),
                     FOLD_OK);
    ck_assert_status(fold_vjp(fresh, &(fold_zbar){.x = xb, .zl = zb, .zu = zb}, pref, NULL),
                     FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(pbar, pref, 4, 1.0), 1e-14);
    fold_solver_free(lazy);
    fold_solver_free(fresh);
    fold_rp_free(rp);
}
END_TEST

/* The barrier form's comparison run (its error estimate, at other Sigma) leaves the primary
 * factorization in place: the next call reuses it and gives bitwise the result of the first
 * call and of a fresh solver. */
START_TEST(barrier_primary_restored)
{
    fold_rp_options o = {.n = 12, .m = 5, .np = 4, .nonlinear = true};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(600 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_settings s;
    fold_settings_default(&s);
    s.backward.kkt_form = FOLD_KKT_BARRIER;
    fold_solver *solver = fold_test_rp_solver(rp, &s), *fresh = fold_test_rp_solver(rp, &s);
    double dp[4] = {0.5, -1, 2, 1}, dx[3][12], dl[3][5];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st = fold_jvp(solver, dp, &(fold_dz){.x = dx[0], .lam = dl[0]}, &info);
    ck_assert(st >= 0);
    ck_assert_int_ge(info.n_variants, 1);
    ck_assert(!info.reused_factorization);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx[1], .lam = dl[1]}, &info), st);
    ck_assert(info.reused_factorization);
    ck_assert_status(fold_jvp(fresh, dp, &(fold_dz){.x = dx[2], .lam = dl[2]}, &info), st);
    for (int r = 1; r < 3; r++) {
        ck_assert_msg(memcmp(dx[0], dx[r], sizeof dx[0]) == 0, "dx of call %d differs", r);
        ck_assert_msg(memcmp(dl[0], dl[r], sizeof dl[0]) == 0, "dlam of call %d differs", r);
    }
    fold_solver_free(fresh);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

Suite *fold_kkt_suite(void);
Suite *fold_kkt_suite(void)
{
    Suite *s = suite_create("fold_kkt");
    TCase *tc = tcase_create("kkt");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, pqp_closed_form, 0, 18);
    tcase_add_test(tc, pqp_value_gradient);
    tcase_add_loop_test(tc, random_adjointness, 0, N_SEEDS);
    tcase_add_loop_test(tc, random_envelope, 0, N_SEEDS);
    tcase_add_loop_test(tc, random_jacobian, 0, N_SEEDS);
    tcase_add_test(tc, reuse);
    tcase_add_loop_test(tc, barrier_primary_restored, 0, 4);
    tcase_add_loop_test(tc, jvp_vjp_aliasing, 0, 4);
    tcase_add_loop_test(tc, lazy_bound_weights, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(fold_kkt_suite());
}
