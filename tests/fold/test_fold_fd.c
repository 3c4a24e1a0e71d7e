/* The KKT fold at Ipopt solutions against central finite differences of warm-started
 * re-solves (doc/math.md §3): both forms, every factorization and ordering, the optimal-value
 * gradient, HS071 and the closed-form parametric QP.
 * Tolerances: the QPs are piecewise linear in p (no truncation error, step 1e-3); the NLPs
 * use step 1e-4 (truncation ~1e-8). Ipopt runs with tol 1e-10 and stops at mu ~ 1e-11, so
 * the barrier form differs from the active-set form by O(mu / min(z, d)^2) ~ 1e-10 here
 * (multipliers and inactive distances >= 0.5 by construction); 1e-6 bounds the FD noise. */
#include "basic/basic.h"
#include "fold_test_util.h"

#define N_PROBLEMS 20

typedef struct fd_ctx {
    fold_solver *solver;
    fold_int n, m, np;
    const double *x0, *lam0, *zl0, *zu0;
} fd_ctx;

/* Solve at p0 + t dp from the base solution; x (n), lam (m) and f returned. */
static void solve_at(fd_ctx *c, const double *p0, const double *dp, double t, double *x,
                     double *lam, double *f)
{
    double *p = calloc((size_t)c->np, 8);
    for (fold_int k = 0; k < c->np; k++)
        p[k] = p0[k] + t * dp[k];
    ck_assert_status(fold_solver_set_start(c->solver, c->x0, c->lam0, c->zl0, c->zu0), FOLD_OK);
    ck_assert_status(fold_solve(c->solver, p, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(c->solver, x, lam, NULL, NULL, f), FOLD_OK);
    free(p);
}

static fold_settings fd_settings(int variant)
{
    fold_settings s;
    fold_settings_default(&s);
    s.forward.tol = 1e-10;
    s.backward.factorization = (variant / 3) % 3;
    s.backward.ordering = variant % 3;
    return s;
}

START_TEST(random_fd)
{
    bool nl = _i % 2;
    fold_rp_options o = {.n = 8 + _i % 7, .m = 3 + _i % 4, .np = 2 + _i % 3, .nonlinear = nl};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(3000 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_int n = o.n, m = o.m, np = o.np;
    fold_settings s = fd_settings(_i);
    fold_solver *solver;
    const double *p0, *xk;
    double h = nl ? 1e-4 : 1e-3, fp, fm, fstar;
    double *v = calloc((size_t)(8 * n + 6 * m + 4 * np), 8);
    double *x0 = v, *lam0 = x0 + n, *zl0 = lam0 + m, *zu0 = zl0 + n, *xp = zu0 + n;
    double *xm = xp + n, *lp = xm + n, *lm = lp + m, *dx = lm + m, *dlam = dx + n;
    double *dxb = dlam + m, *dlb = dxb + n, *fdx = dlb + m, *fdl = fdx + n, *dp = fdl + m;
    double *grad = dp + np;
    fold_test_rng r;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_rp_solution(rp, &p0, &xk, NULL, NULL, NULL);
    ck_assert_status(fold_solver_create(fold_rp_problem(rp), &s, &solver), FOLD_OK);
    ck_assert_status(fold_solve(solver, p0, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(solver, x0, lam0, zl0, zu0, &fstar), FOLD_OK);
    ck_assert_msg(fold_test_vec_relerr(x0, xk, n, 1.0) < 1e-6, "seed %d: Ipopt missed x*", _i);
    fold_test_rng_seed(&r, 99 + (unsigned)_i);
    fold_test_fill_normal(&r, dp, np);
    /* Active-set and barrier forms at the Ipopt solution (the final interior iterate). */
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = dlam}, &info), FOLD_OK);
    ck_assert_int_eq(info.n_weak, 0);
    fold_int n_inactive = m - info.n_active_cons; /* inequalities at distance >= 0.5 */
    ck_assert_status(fold_value_gradient(solver, grad), FOLD_OK);
    s.backward.kkt_form = FOLD_KKT_BARRIER;
    ck_assert_status(fold_solver_update_settings(solver, &s), FOLD_OK);
    /* The barrier form's error, estimated by extrapolating the barrier parameter to zero
     * (doc/math.md eq. 3.19), is reported above the tolerance (FOLD_WARN_INACCURATE) */
    fold_status sb = fold_jvp(solver, dp, &(fold_dz){.x = dxb, .lam = dlb}, &info);
    ck_assert_msg(sb == FOLD_OK || (sb == FOLD_WARN_INACCURATE && info.n_barrier_error > 0),
                  "%s: %s", fold_status_name(sb), fold_last_error());
    double est = info.barrier_error;
    /* The inactive rows are condensed out of K (eq. 3.14a); the full form factors all n + m
     * rows and agrees to rounding (the Schur complement is exact). */
    ck_assert_int_eq(info.dim, n + m - n_inactive);
    s.backward.barrier_condense = false;
    ck_assert_status(fold_solver_update_settings(solver, &s), FOLD_OK);
    ck_assert_int_eq(fold_jvp(solver, dp, &(fold_dz){.x = fdx, .lam = fdl}, &info), sb);
    ck_assert_int_eq(info.dim, n + m);
    ck_assert_double_le(fold_test_vec_relerr(dxb, fdx, n, 1.0), 1e-9);
    ck_assert_double_le(fold_test_vec_relerr(dlb, fdl, m, 1.0), 1e-9);
    ck_assert_double_le(fabs(info.barrier_error - est), 1e-9 * (1.0 + est));
    s.backward.barrier_condense = true;
    /* Central differences of warm-started re-solves (on a separate solver). */
    fd_ctx c = {NULL, n, m, np, x0, lam0, zl0, zu0};
    s.backward.kkt_form = FOLD_KKT_ACTIVE;
    ck_assert_status(fold_solver_create(fold_rp_problem(rp), &s, &c.solver), FOLD_OK);
    solve_at(&c, p0, dp, h, xp, lp, &fp);
    solve_at(&c, p0, dp, -h, xm, lm, &fm);
    for (fold_int j = 0; j < n; j++)
        fdx[j] = (xp[j] - xm[j]) / (2 * h);
    for (fold_int i = 0; i < m; i++)
        fdl[i] = (lp[i] - lm[i]) / (2 * h);
    double ex = fold_test_vec_relerr(dx, fdx, n, 1.0), el = fold_test_vec_relerr(dlam, fdl, m, 1.0);
    double ebx = fold_test_vec_relerr(dxb, fdx, n, 1.0),
           ebl = fold_test_vec_relerr(dlb, fdl, m, 1.0);
    double eab = fold_test_vec_relerr(dxb, dx, n, 1.0);
    double fdv = (fp - fm) / (2 * h), gv = fold_test_dot(grad, dp, np);
    ck_assert_msg(ex <= 1e-6 && el <= 1e-6, "seed %d: active vs FD: dx %g dlam %g", _i, ex, el);
    ck_assert_msg(ebx <= 1e-6 && ebl <= 1e-6, "seed %d: barrier vs FD: dx %g dlam %g", _i, ebx,
                  ebl);
    ck_assert_msg(eab <= 1e-7, "seed %d: barrier vs active: %g", _i, eab);
    /* the estimate bounds the barrier form's actual error against the limit (the active
     * form), and is not far above it (measured: within 1x..4x, rounding 1e-11 aside) */
    printf("# seed %d: barrier vs active %.2e, estimated %.2e\n", _i, eab, est);
    ck_assert_msg(eab <= 3 * est + 1e-10 && est <= 10 * eab + 1e-10,
                  "seed %d: barrier error %.3g, estimated %.3g", _i, eab, est);
    ck_assert_msg(fold_test_relerr(gv, fdv) <= 1e-6, "seed %d: value gradient %.12g vs FD %.12g",
                  _i, gv, fdv);
    free(v);
    fold_solver_free(c.solver);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* HS071 (nonconvex, one bound and one inequality active): jvp along each parameter, both
 * forms, every factorization and ordering. H_FF is indefinite in the active form: a forced
 * CHOLMOD LDL' may meet a negative primal pivot (then the call fails cleanly, it is not
 * quasi-definite); AUTO falls back to UMFPACK. */
START_TEST(hs071_fd)
{
    fold_problem *prob;
    fold_settings s = fd_settings(_i % 9);
    fold_solver *solver;
    double x0[4], lam0[2], zl0[4], zu0[4], p0[3], dx[4], xp[4], xm[4], lp[2], lm[2], f;
    double dp[3] = {0, 0, 0}, h = 1e-4, fdx[4];
    s.backward.kkt_form = _i / 9;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &s, &solver), FOLD_OK);
    ck_assert_status(fold_solve(solver, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(solver, x0, lam0, zl0, zu0, NULL), FOLD_OK);
    ck_assert_status(fold_solver_params(solver, p0), FOLD_OK);
    for (int k = 0; k < 3; k++) {
        fold_solver *fd;
        fd_ctx c = {NULL, 4, 2, 3, x0, lam0, zl0, zu0};
        fold_status st;
        memset(dp, 0, sizeof dp);
        dp[k] = 1;
        st = fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL);
        if (st < 0 && s.backward.factorization == FOLD_FACTOR_CHOLMOD) {
            ck_assert_error_mentions("fold_jvp");
            break;
        }
        if (s.backward.kkt_form == FOLD_KKT_BARRIER && st == FOLD_WARN_INACCURATE)
            ck_assert_error_mentions("barrier parameter is extrapolated"); /* reported */
        else
            ck_assert_status(st, FOLD_OK);
        ck_assert_status(fold_solver_create(prob, &s, &fd), FOLD_OK);
        c.solver = fd;
        solve_at(&c, p0, dp, h, xp, lp, &f);
        solve_at(&c, p0, dp, -h, xm, lm, &f);
        for (int j = 0; j < 4; j++)
            fdx[j] = (xp[j] - xm[j]) / (2 * h);
        ck_assert_msg(fold_test_vec_relerr(dx, fdx, 4, 1.0) <= 1e-6, "p%d: %g", k,
                      fold_test_vec_relerr(dx, fdx, 4, 1.0));
        fold_solver_free(fd);
    }
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* The closed-form QP solved by Ipopt: the jacobian equals fold_pqp_solution's dx/dp. */
START_TEST(pqp_ipopt_closed_form)
{
    fold_problem *prob;
    fold_settings s = fd_settings(_i);
    fold_solver *solver;
    double p[FOLD_PQP_N + 1], J[FOLD_PQP_N * (FOLD_PQP_N + 1)], ref[FOLD_PQP_N * (FOLD_PQP_N + 1)];
    s.backward.kkt_form = _i / 9;
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &s, &solver), FOLD_OK);
    ck_assert_status(fold_solve(solver, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_params(solver, p), FOLD_OK);
    fold_pqp_solution(p, NULL, NULL, ref);
    ck_assert_status(fold_jacobian(solver,
                                   &(fold_jacobian_sel){.of = FOLD_BLOCK_X,
                                                        .n_rows = FOLD_PQP_N,
                                                        .n_cols = FOLD_PQP_N + 1},
                                   J, NULL),
                     FOLD_OK);
    /* The barrier form carries Sigma_U = zu/(100 - x) ~ mu/100 from the inactive bounds. */
    ck_assert_double_le(fold_test_vec_relerr(J, ref, FOLD_PQP_N * (FOLD_PQP_N + 1), 1.0),
                        _i < 9 ? 1e-10 : 1e-9);
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

Suite *fold_fd_suite(void);
Suite *fold_fd_suite(void)
{
    Suite *s = suite_create("fold_fd");
    TCase *tc = tcase_create("fd");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, random_fd, 0, N_PROBLEMS);
    tcase_add_loop_test(tc, hs071_fd, 0, 18);
    tcase_add_loop_test(tc, pqp_ipopt_closed_form, 0, 18);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(fold_fd_suite());
}
