/* Edge cases of the KKT fold: bound-only problems (m = 0) against finite differences of
 * Ipopt re-solves, problems without parameters, analysis reuse across solutions and its loss
 * when the active set changes, and the classification of an inconsistent multiplier
 * (doc/math.md §3.2, §3.5). */
#include "fold_test_util.h"

/* min 1/2 sum (x_j - p_j)^2 + 1/2 sum_j (x_{j+1} - x_j)^2,  -1 <= x <= 1  (n = np). */
#define BN 12

/* np of the problem built last: with np = 0 the callbacks must not read p (its length is 0) */
static int b_np;
#define PJ(j) (b_np ? p[j] : 0.0)
static int bf(const double *x, const double *p, double *o, void *u)
{
    double v = 0;
    for (int j = 0; j < BN; j++)
        v += 0.5 * (x[j] - PJ(j)) * (x[j] - PJ(j)) +
             (j + 1 < BN ? 0.5 * (x[j + 1] - x[j]) * (x[j + 1] - x[j]) : 0);
    *o = v;
    return 0;
}
static int bg(const double *x, const double *p, double *g, void *u)
{
    for (int j = 0; j < BN; j++)
        g[j] = x[j] - PJ(j) + (j > 0 ? x[j] - x[j - 1] : 0) + (j + 1 < BN ? x[j] - x[j + 1] : 0);
    return 0;
}
static fold_int hr[2 * BN - 1], hc[2 * BN - 1], dg[BN];
static int bh(const double *x, const double *p, double s, const double *l, double *v, void *u)
{
    for (int t = 0; t < 2 * BN - 1; t++)
        v[t] = s * (hr[t] != hc[t] ? -1.0 : 1.0 + (hr[t] > 0) + (hr[t] + 1 < BN));
    return 0;
}
static int bgp(const double *x, const double *p, double *gp, void *u)
{
    for (int j = 0; j < BN; j++)
        gp[j] = PJ(j) - x[j];
    return 0;
}
static int blp(const double *x, const double *p, const double *l, double *v, void *u)
{
    for (int j = 0; j < BN; j++)
        v[j] = -1;
    return 0;
}

static fold_problem *bound_problem(int np)
{
    static double xl[BN], xu[BN], p0[BN];
    fold_problem *prob;
    b_np = np;
    for (int j = 0; j < BN; j++) {
        xl[j] = -1;
        xu[j] = 1;
        p0[j] = 3.0 * sin(0.45 * j + 0.3);
        dg[j] = j;
        hr[j] = hc[j] = j;
    }
    for (int j = 0; j + 1 < BN; j++) {
        hr[BN + j] = j + 1;
        hc[BN + j] = j;
    }
    fold_nlp_def d = {.name = "bounds",
                      .n = BN,
                      .np = np,
                      .x_lower = xl,
                      .x_upper = xu,
                      .p_default = np ? p0 : NULL,
                      .hess_l = {2 * BN - 1, hr, hc},
                      .hess_lp = {np ? BN : 0, dg, dg},
                      .cb = {.f = bf, .grad_f = bg, .hess_l = bh, .grad_f_p = bgp, .hess_lp = blp}};
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    return prob;
}

/* m = 0: both forms against central differences; the LAM block is empty. */
START_TEST(bound_only_fd)
{
    fold_problem *prob = bound_problem(BN);
    fold_settings s;
    fold_solver *solver, *fd;
    double p[BN], dp[BN], dx[BN], xp[BN], xm[BN], x0[BN], zl0[BN], zu0[BN], fdx[BN], h = 1e-3;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_settings_default(&s);
    s.forward.tol = 1e-10;
    s.backward.kkt_form = _i;
    ck_assert_status(fold_solver_create(prob, &s, &solver), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &s, &fd), FOLD_OK);
    ck_assert_status(fold_solve(solver, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(solver, x0, NULL, zl0, zu0, NULL), FOLD_OK);
    fold_problem_default_params(prob, p);
    for (int j = 0; j < BN; j++)
        dp[j] = cos(0.9 * j);
    /* the barrier form reports its error when it exceeds the tolerance (eq. 3.19) */
    fold_status st = fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info);
    if (_i == FOLD_KKT_BARRIER && st == FOLD_WARN_INACCURATE)
        ck_assert_int_gt(info.n_barrier_error, 0);
    else
        ck_assert_status(st, FOLD_OK);
    ck_assert_int_gt(info.n_active_bounds, 2);
    ck_assert_int_eq(info.n_active_cons, 0);
    for (int sgn = 0; sgn < 2; sgn++) {
        double q[BN];
        for (int j = 0; j < BN; j++)
            q[j] = p[j] + (sgn ? -h : h) * dp[j];
        ck_assert_status(fold_solver_set_start(fd, x0, NULL, NULL, NULL), FOLD_OK);
        ck_assert_status(fold_solve(fd, q, NULL), FOLD_OK);
        ck_assert_status(fold_solver_solution(fd, sgn ? xm : xp, NULL, NULL, NULL, NULL), FOLD_OK);
    }
    for (int j = 0; j < BN; j++)
        fdx[j] = (xp[j] - xm[j]) / (2 * h);
    ck_assert_double_le(fold_test_vec_relerr(dx, fdx, BN, 1.0), 1e-6);
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_LAM, .n_cols = BN}, NULL, NULL),
        FOLD_OK);
    fold_solver_free(solver);
    fold_solver_free(fd);
    fold_problem_free(prob);
}
END_TEST

/* np = 0: nothing to differentiate, every call succeeds with empty or zero results. */
START_TEST(no_parameters)
{
    fold_problem *prob = bound_problem(0);
    fold_solver *solver;
    double x[BN], zero[BN] = {0}, dx[BN];
    for (int j = 0; j < BN; j++)
        x[j] = 0.1 * j - 0.5;
    ck_assert_status(fold_solver_create(prob, NULL, &solver), FOLD_OK);
    fold_solver_store(solver, NULL, x, NULL, zero, zero, 0.0, true);
    ck_assert_status(fold_jvp(solver, NULL, &(fold_dz){.x = dx}, NULL), FOLD_OK);
    for (int j = 0; j < BN; j++)
        ck_assert_double_eq(dx[j], 0.0);
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = x}, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_value_gradient(solver, NULL), FOLD_OK);
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = BN}, NULL, NULL),
        FOLD_OK);
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* Same pattern: analysis reused (both forms); a changed active set: a new analysis. */
START_TEST(analysis_reuse)
{
    fold_rp_options o = {.n = 14, .m = 5, .np = 3};
    fold_rp *rp = NULL;
    const double *p0, *x, *lam, *zl, *zu;
    double dp[3] = {1, 2, 3}, dx[14], x2[14], zl2[14];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_settings s;
    fold_int j0 = -1;
    ck_assert_status(fold_rp_create(4242, &o, &rp), FOLD_OK);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    fold_settings_default(&s);
    /* The points below are not KKT points (x moved without the multipliers): the classification
     * by the residuals would judge them ambiguous; the subject here is the reuse of the
     * analysis, so the fixed thresholds classify them. */
    s.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE;
    s.backward.kkt_form = _i;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert(!info.reused_analysis);
    /* A second solution with the same active set (values moved slightly). */
    memcpy(x2, x, sizeof x2);
    for (int j = 0; j < 14; j++)
        if (zl[j] == 0 && zu[j] == 0) x2[j] += 1e-3;
    fold_solver_store(solver, p0, x2, lam, zl, zu, 0.0, true);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert(info.reused_analysis);
    ck_assert(!info.reused_factorization);
    /* Release one active lower bound: the free set changes. */
    memcpy(zl2, zl, sizeof zl2);
    for (int j = 0; j < 14 && j0 < 0; j++)
        if (zl[j] > 0) j0 = j;
    ck_assert_int_ge(j0, 0);
    zl2[j0] = 0;
    x2[j0] += 0.25;
    fold_solver_store(solver, p0, x2, lam, zl2, zu, 0.0, true);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert(info.reused_analysis == (_i == FOLD_KKT_BARRIER));
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* Under the fixed thresholds (active_set.ambiguity = ignore), a multiplier above dual_tol on
 * a constraint away from its bounds is held active. By default the same point is judged by
 * its residuals: the multiplier 0.5 is what breaks stationarity, so the bounds of the
 * variables its row touches are weakly active there, and their entries uncertain. */
START_TEST(inconsistent_multiplier)
{
    fold_rp_options o = {.n = 14, .m = 6, .np = 3};
    fold_rp *rp = NULL;
    const double *p0, *x, *lam, *zl, *zu;
    double lam2[6], dp[3] = {1, 0, 0}, dx[14];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_int base, i0 = -1;
    ck_assert_status(fold_rp_create(99, &o, &rp), FOLD_OK);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    fold_settings s;
    fold_settings_default(&s);
    s.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    base = info.n_active_cons;
    memcpy(lam2, lam, sizeof lam2);
    for (int i = 0; i < 6 && i0 < 0; i++)
        if (lam[i] == 0) i0 = i;
    ck_assert_int_ge(i0, 0);
    lam2[i0] = 0.5;
    fold_solver_store(solver, p0, x, lam2, zl, zu, 0.0, true);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert_int_eq(info.n_active_cons, base + 1);
    ck_assert_int_eq(info.n_weak, 0);
    s.active_set.ambiguity = FOLD_AMBIGUITY_RESOLVE;
    ck_assert_status(fold_solver_update_settings(solver, &s), FOLD_OK);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_WARN_UNCERTAIN);
    ck_assert_int_gt(info.n_candidates, 0);
    ck_assert_int_gt(info.n_uncertain, 0);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* A black-box point (fold_solver_import, with or without multipliers) differentiates like the
 * stored known solution, in both forms (the barrier form floors the zero distances). */
START_TEST(imported_point)
{
    fold_rp_options o = {.n = 12, .m = 5, .np = 3, .nonlinear = _i % 2};
    fold_rp *rp = NULL;
    const double *p0, *x, *lam, *zl, *zu;
    double dp[3] = {0.3, -1, 2}, ref[12], dx[12];
    ck_assert_status(fold_rp_create(700 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    fold_settings s = fold_test_tight_settings();
    fold_solver *known = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(known, dp, &(fold_dz){.x = ref}, NULL), FOLD_OK);
    for (int v = 0; v < 4; v++) {
        fold_solver *solver;
        s.backward.kkt_form = v / 2;
        ck_assert_status(fold_solver_create(fold_rp_problem(rp), &s, &solver), FOLD_OK);
        if (v % 2)
            ck_assert_status(
                fold_solver_import(solver, &(fold_import_point){.p = p0, .x = x}, NULL), FOLD_OK);
        else
            ck_assert_status(
                fold_solver_import(
                    solver, &(fold_import_point){.p = p0, .x = x, .lam = lam, .zl = zl, .zu = zu},
                    NULL),
                FOLD_OK);
        ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_OK);
        ck_assert_msg(fold_test_vec_relerr(dx, ref, 12, 1.0) <= 1e-8, "variant %d: %g", v,
                      fold_test_vec_relerr(dx, ref, 12, 1.0));
        fold_solver_free(solver);
    }
    fold_solver_free(known);
    fold_rp_free(rp);
}
END_TEST

static char log_line[1024];
static int log_count;
static void sink(int level, const char *line, void *ud)
{
    snprintf(log_line, sizeof log_line, "%s", line);
    log_count++;
}

/* Silent at verbose 0; one summary line per call at verbose 1, through the sink. */
START_TEST(summary_log)
{
    fold_rp_options o = {.n = 10, .m = 4, .np = 2};
    fold_rp *rp = NULL;
    double dp[2] = {1, 1}, dx[10];
    fold_settings s;
    ck_assert_status(fold_rp_create(5, &o, &rp), FOLD_OK);
    fold_settings_default(&s);
    s.log.sink = sink;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    log_count = 0;
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_OK);
    ck_assert_int_eq(log_count, 0);
    s.log.verbose = 1;
    ck_assert_status(fold_solver_update_settings(solver, &s), FOLD_OK);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_OK);
    ck_assert_int_eq(log_count, 1);
    ck_assert_msg(strstr(log_line, "fold_jvp: active form, KKT order") != NULL, "%s", log_line);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

Suite *fold_cases_suite(void);
Suite *fold_cases_suite(void)
{
    Suite *s = suite_create("fold_cases");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, bound_only_fd, 0, 2);
    tcase_add_test(tc, no_parameters);
    tcase_add_loop_test(tc, analysis_reuse, 0, 2);
    tcase_add_test(tc, inconsistent_multiplier);
    tcase_add_test(tc, summary_log);
    tcase_add_loop_test(tc, imported_point, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(fold_cases_suite());
}
