/* Every public call with an info struct writes all of it on every path, the early failures
 * included: the struct starts as garbage (0xa5 bytes) and must come back "not run"
 * (fold_forward_info.status FOLD_FWD_NOT_RUN, fold_backward_info.reason
 * FOLD_REASON_NOT_RUN, fold_iter_info zero and not converged, fold_acopf_solve_info's
 * statuses "not run", fold_deriv_report empty). A stale 0 would read as "solved" or
 * "direct". */
#include "foldopt/acopf.h"
#include "basic/basic.h"
#include "test_support.h"
#include "half_map.h"

/* garbage but for the size the caller sets (FOLD_..._INIT) */
#define GARBAGE(v) (memset(&(v), 0xa5, sizeof(v)), (v).size = sizeof(v))

static void assert_bwd_not_run(const fold_backward_info *info)
{
    ck_assert_int_eq(info->reason, FOLD_REASON_NOT_RUN);
    ck_assert_int_eq(info->n_rhs, 0);
    ck_assert_int_eq(info->iterations, 0);
    ck_assert_int_eq(info->dim, 0);
    ck_assert_int_eq(info->n_not_unique, 0);
    ck_assert(!info->is_least_squares && !info->reused_factorization);
    ck_assert(info->residual == 0 && info->solve_s == 0);
    ck_assert_str_eq(info->fallback_reason, "");
}

static void assert_fwd_not_run(const fold_forward_info *info)
{
    ck_assert_int_eq(info->status, FOLD_FWD_NOT_RUN);
    ck_assert_int_eq(info->iterations, 0);
    ck_assert_int_eq(info->n_eval_g, 0);
    ck_assert(isnan(info->objective));
    ck_assert(info->backend != NULL);
}

/* fold_jvp / fold_vjp / fold_jacobian refused before any solve: no solver, no solution. */
START_TEST(backward_calls)
{
    fold_problem *prob;
    fold_solver *s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double dp[3] = {1, 0, 0}, dx[4], xbar[4] = {1, 0, 0, 0}, pbar[3], J[12];
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    GARBAGE(info);
    ck_assert_status(fold_jvp(NULL, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_ARGUMENT);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(fold_jvp(s, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_NOT_SOLVED);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(fold_vjp(s, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_ERR_NOT_SOLVED);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(
        fold_jacobian(s, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 4, .n_cols = 3}, J,
                      &info),
        FOLD_ERR_NOT_SOLVED);
    assert_bwd_not_run(&info);
    /* after a solve, a refused argument still leaves "not run" */
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    dp[1] = NAN;
    GARBAGE(info);
    ck_assert_status(fold_jvp(s, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_NONFINITE);
    assert_bwd_not_run(&info);
    /* and a call that solves says how */
    dp[1] = 0;
    GARBAGE(info);
    ck_assert_status(fold_jvp(s, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert_int_eq(info.reason, FOLD_REASON_DIRECT);
    ck_assert_int_eq(info.n_rhs, 1);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

static int psit_one(const double *w, double *out, void *ud)
{
    (void)ud;
    out[0] = w[0];
    return 0;
}

/* fold_map_jvp / vjp / jacobian: NULL map, invalid settings, missing products. */
START_TEST(map_calls)
{
    fold_map_def d = half_map_def();
    fold_map *map;
    fold_settings bad;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double dp = 1, dz = 0, zbar = 1, pbar = 0, J = 0;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    GARBAGE(info);
    ck_assert_status(fold_map_jvp(NULL, NULL, &dp, &dz, &info), FOLD_ERR_ARGUMENT);
    assert_bwd_not_run(&info);
    fold_settings_default(&bad);
    bad.backward.tol = -1;
    GARBAGE(info);
    ck_assert_status(fold_map_jvp(map, &bad, &dp, &dz, &info), FOLD_ERR_SETTING);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(fold_map_vjp(map, NULL, &zbar, &pbar, &info), FOLD_ERR_UNSUPPORTED);
    ck_assert_int_eq(info.reason, FOLD_REASON_NOT_RUN);
    ck_assert_int_eq(info.n_rhs, 0);
    GARBAGE(info);
    ck_assert_status(fold_map_jacobian(map, NULL, NULL, &info), FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(info.reason, FOLD_REASON_NOT_RUN);
    GARBAGE(info);
    ck_assert_status(fold_map_jacobian(map, NULL, &J, &info), FOLD_OK);
    ck_assert_int_eq(info.reason, FOLD_REASON_DIRECT);
    ck_assert_double_eq_tol(J, 2.0, 1e-14); /* (1 - 1/2)^-1 */
    fold_map_free(map);
    d.psit_v = psit_one; /* reverse mode needs Phi' too: still refused, info defined */
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    GARBAGE(info);
    ck_assert_status(fold_map_vjp(map, NULL, &zbar, NULL, &info), FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(info.reason, FOLD_REASON_NOT_RUN);
    ck_assert_int_eq(info.dim, 1); /* the map's size, known before the refusal */
    ck_assert_int_eq(info.n_rhs, 0);
    fold_map_free(map);
}
END_TEST

/* fold_iter_solve, fold_iter_unroll_vjp, fold_step_unroll_vjp with a NULL definition. */
START_TEST(iter_calls)
{
    fold_iter_info info = FOLD_ITER_INFO_INIT;
    double x[2], p[1] = {0}, xbar[2] = {1, 1}, pbar[1];
    GARBAGE(info);
    ck_assert_status(fold_iter_solve(NULL, &(fold_iter_run){.p = p, .max_iter = 10, .tol = 1e-8}, x,
                                     NULL, &info),
                     FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(info.iterations, 0);
    ck_assert(!info.converged);
    ck_assert_int_eq(info.bytes_stored, 0);
    GARBAGE(info);
    ck_assert_status(fold_iter_unroll_vjp(NULL, &(fold_unroll_run){.p = p, .iters = 5, .bar = xbar},
                                          x, pbar, &info),
                     FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(info.iterations, 0);
    ck_assert(!info.converged);
    ck_assert_int_eq(info.bytes_stored, 0);
    GARBAGE(info);
    ck_assert_status(
        fold_step_unroll_vjp(NULL, &(fold_unroll_run){.p = p, .start = x, .iters = 5, .bar = xbar},
                             x, pbar, &info),
        FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(info.iterations, 0);
    ck_assert(!info.converged);
}
END_TEST

/* fold_problem_check_derivatives: a refused argument leaves an empty report. */
START_TEST(derivative_report)
{
    fold_problem *prob;
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    double x[4] = {1, 5, 5, 1}, lam[2] = {1, 1};
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    GARBAGE(rep);
    ck_assert_status(fold_problem_check_derivatives(prob, x, NULL, lam, -1, 1e-6, &rep),
                     FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(rep.n_checked, 0);
    ck_assert_int_eq(rep.n_bad, 0);
    ck_assert_str_eq(rep.worst_function, "");
    ck_assert(rep.max_abs_error == 0 && rep.max_rel_error == 0);
    x[2] = NAN;
    GARBAGE(rep);
    ck_assert_status(fold_problem_check_derivatives(prob, x, NULL, lam, 1e-6, 1e-6, &rep),
                     FOLD_ERR_NONFINITE);
    ck_assert_int_eq(rep.n_checked, 0);
    fold_problem_free(prob);
}
END_TEST

/* fold_acopf_solve: an unknown Ipopt option (refused when the solver is created, before any
 * solve) and a NaN parameter (refused by fold_solve) leave both infos "not run"; the first
 * was reported as "solved" from an uninitialized sum. */
START_TEST(acopf_solve_calls)
{
    fold_acopf_case *cs;
    fold_acopf *m;
    fold_solver *sv = (fold_solver *)&sv;
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    fold_acopf_solve_info si = FOLD_ACOPF_SOLVE_INFO_INIT;
    ck_assert_status(fold_acopf_gen_grid(5, 3, &cs), FOLD_OK);
    ck_assert_status(fold_acopf_create(cs, &m), FOLD_OK);
    fold_settings_default(&set);
    fold_acopf_solve_options so;
    fold_acopf_default_solve_options(&so);
    so.ipopt_options = (const char *const[]){"bogus", "1", NULL};
    GARBAGE(info);
    GARBAGE(si);
    ck_assert_status(fold_acopf_solve(&m, &set, NULL, &so, &sv, &info, &si), FOLD_ERR_SETTING);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "bogus"));
    ck_assert_ptr_null(sv);
    assert_fwd_not_run(&info);
    ck_assert_int_eq(si.first_status, FOLD_FWD_NOT_RUN);
    ck_assert_int_eq(si.rounds, 0);
    ck_assert_int_eq(si.failed, FOLD_OK);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double *p = malloc((size_t)L.np * sizeof *p);
    fold_problem_default_params(fold_acopf_problem(m), p);
    p[0] = NAN;
    GARBAGE(info);
    GARBAGE(si);
    ck_assert_status(fold_acopf_solve(&m, NULL, p, NULL, &sv, &info, &si), FOLD_ERR_NONFINITE);
    assert_fwd_not_run(&info);
    ck_assert_int_eq(si.first_status, FOLD_FWD_NOT_RUN);
    ck_assert_ptr_nonnull(sv); /* the solver is returned, with no solution */
    ck_assert_status(fold_solver_solution(sv, NULL, NULL, NULL, NULL, NULL), FOLD_ERR_NOT_SOLVED);
    fold_solver_free(sv);
    GARBAGE(info);
    GARBAGE(si);
    ck_assert_status(fold_acopf_solve(NULL, NULL, NULL, NULL, &sv, &info, &si), FOLD_ERR_ARGUMENT);
    assert_fwd_not_run(&info);
    ck_assert_int_eq(si.first_status, FOLD_FWD_NOT_RUN);
    free(p);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

/* The AC-OPF sensitivities and the import of a solution computed elsewhere, refused before
 * any solve (no solution, bad arguments): their infos come back "not run". */
START_TEST(acopf_sens_and_import_calls)
{
    fold_acopf_case *cs;
    fold_acopf *m;
    fold_solver *sv;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_acopf_import_info ii = FOLD_ACOPF_IMPORT_INFO_INIT;
    ck_assert_status(fold_acopf_gen_grid(5, 3, &cs), FOLD_OK);
    ck_assert_status(fold_acopf_create(cs, &m), FOLD_OK);
    ck_assert_status(fold_solver_create(fold_acopf_problem(m), NULL, &sv), FOLD_OK);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    fold_acopf_output out = {FOLD_ACOPF_OUT_PG, 0};
    double *v = calloc((size_t)L.np + 1, sizeof *v), dout[1], J[1];
    fold_int col = 0;
    GARBAGE(info);
    ck_assert_status(fold_acopf_vjp(m, sv, 1, &out, NULL, v, &info), FOLD_ERR_NOT_SOLVED);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(fold_acopf_jvp(m, sv, v, 1, &out, dout, &info), FOLD_ERR_NOT_SOLVED);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(fold_acopf_jacobian(m, sv, 1, &out, 1, &col, J, &info, NULL, NULL),
                     FOLD_ERR_NOT_SOLVED);
    assert_bwd_not_run(&info);
    GARBAGE(info);
    ck_assert_status(fold_acopf_vjp(NULL, sv, 1, &out, NULL, v, &info), FOLD_ERR_ARGUMENT);
    assert_bwd_not_run(&info);
    GARBAGE(fi);
    GARBAGE(ii);
    ck_assert_status(fold_acopf_import(m, sv, NULL, NULL, NULL, &fi, &ii), FOLD_ERR_ARGUMENT);
    assert_fwd_not_run(&fi);
    ck_assert(!ii.duals_given && !ii.duals_recovered && !ii.polished);
    ck_assert(isnan(ii.given_stationarity));
    free(v);
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("info_defined");
    TCase *tc = tcase_create("info");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, backward_calls);
    tcase_add_test(tc, map_calls);
    tcase_add_test(tc, iter_calls);
    tcase_add_test(tc, derivative_report);
    tcase_add_test(tc, acopf_solve_calls);
    tcase_add_test(tc, acopf_sens_and_import_calls);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
