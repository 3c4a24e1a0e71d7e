/* Bounds that move with the parameters (doc/math.md §2.5, §3.10) on a small problem whose
 * solution holds a variable at a moving upper bound, one at a moving lower bound, an
 * inequality at a moving lower limit, an equality with a moving right-hand side and a fixed
 * variable that moves; one moving bound is inactive. Every block of dz/dp in both KKT forms
 * and the optimal value's gradient against central differences of re-solves; JVP, VJP and
 * adjointness; an import at other parameters; the validation of the maps.
 *
 *   min (x0 - p0)^2 + (x1 + 1)^2 + (x2 - 1)^2 + x0 x2 / 2 + x3^2 + x4 x0 + x4^2
 *   x0 <= p1,  x1 >= p2,  x2 <= p6 (inactive),  x4 = p5 (fixed),
 *   x1 + x2 >= 2 p3,  x2 - x3 = p4.
 * At p = (3, 1, 2.5, 2.25, 1, 0.5, 10): x = (1, 2.5, 2, 1, 0.5), zu0 = 2.5, zl1 = 2.5,
 * lam = (-4.5, 2), zl4 = 2. */
#include "fold_test_util.h"

enum { N = 5, M = 2, NP = 7 };
static const double P0[NP] = {3, 1, 2.5, 2.25, 1, 0.5, 10};

static int cb_f(const double *x, const double *p, double *f, void *ud)
{
    *f = pow(x[0] - p[0], 2) + pow(x[1] + 1, 2) + pow(x[2] - 1, 2) + 0.5 * x[0] * x[2] +
         x[3] * x[3] + x[4] * x[0] + x[4] * x[4];
    return 0;
}

static int cb_grad_f(const double *x, const double *p, double *g, void *ud)
{
    g[0] = 2 * (x[0] - p[0]) + 0.5 * x[2] + x[4];
    g[1] = 2 * (x[1] + 1);
    g[2] = 2 * (x[2] - 1) + 0.5 * x[0];
    g[3] = 2 * x[3];
    g[4] = x[0] + 2 * x[4];
    return 0;
}

static int cb_g(const double *x, const double *p, double *g, void *ud)
{
    g[0] = x[1] + x[2];
    g[1] = x[2] - x[3];
    return 0;
}

static int cb_jac_g(const double *x, const double *p, double *v, void *ud)
{
    v[0] = 1, v[1] = 1, v[2] = 1, v[3] = -1;
    return 0;
}

/* lower triangle: (0,0) (1,1) (2,0) (2,2) (3,3) (4,0) (4,4) */
static int cb_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    v[0] = 2 * s, v[1] = 2 * s, v[2] = 0.5 * s, v[3] = 2 * s, v[4] = 2 * s, v[5] = s, v[6] = 2 * s;
    return 0;
}

static int cb_grad_f_p(const double *x, const double *p, double *g, void *ud)
{
    memset(g, 0, NP * sizeof(double));
    g[0] = -2 * (x[0] - p[0]);
    return 0;
}

static int cb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    v[0] = -2; /* d(grad_x0 f) / dp0 */
    return 0;
}

static int cb_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    return 0;
}

static const fold_int jr[] = {0, 0, 1, 1}, jc[] = {1, 2, 2, 3};
static const fold_int hr[] = {0, 1, 2, 2, 3, 4, 4}, hc[] = {0, 1, 0, 2, 3, 0, 4};
static const fold_int lr[] = {0}, lc[] = {0};
/* the maps: x0 upper ~ p1, x1 lower ~ p2, x2 upper ~ p6, x4 both ~ p5; g0 lower ~ 2 p3,
 * g1 both ~ p4 */
static const fold_int xl_i[] = {1, 4}, xl_p[] = {2, 5}, xu_i[] = {0, 2, 4}, xu_p[] = {1, 6, 5};
static const double xl_c[] = {1, 1}, xu_c[] = {1, 1, 1};
static const fold_int gl_i[] = {0, 1}, gl_p[] = {3, 4}, gu_i[] = {1}, gu_p[] = {4};
static const double gl_c[] = {2, 1}, gu_c[] = {1};

static fold_nlp_def make_def(double *xl, double *xu, double *gl, double *gu)
{
    double lo[N] = {-10, 2.5, -10, -FOLD_INF, 0.5}, hi[N] = {1, 10, 10, FOLD_INF, 0.5};
    double glo[M] = {4.5, 1}, ghi[M] = {FOLD_INF, 1};
    memcpy(xl, lo, sizeof lo);
    memcpy(xu, hi, sizeof hi);
    memcpy(gl, glo, sizeof glo);
    memcpy(gu, ghi, sizeof ghi);
    fold_nlp_def d = {
        .name = "moving bounds",
        .n = N,
        .m = M,
        .np = NP,
        .x_lower = xl,
        .x_upper = xu,
        .g_lower = gl,
        .g_upper = gu,
        .p_default = P0,
        .jac_g = {4, jr, jc},
        .hess_l = {7, hr, hc},
        .jac_g_p = {0, NULL, NULL},
        .hess_lp = {1, lr, lc},
        .cb = {cb_f, cb_grad_f, cb_g, cb_jac_g, cb_hess_l, cb_grad_f_p, cb_hess_lp, cb_jac_g_p},
        .x_lower_p = {2, xl_i, xl_p, xl_c},
        .x_upper_p = {3, xu_i, xu_p, xu_c},
        .g_lower_p = {2, gl_i, gl_p, gl_c},
        .g_upper_p = {1, gu_i, gu_p, gu_c}};
    return d;
}

static fold_problem *make_problem(void)
{
    double xl[N], xu[N], gl[M], gu[M];
    fold_nlp_def d = make_def(xl, xu, gl, gu);
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    return prob;
}

static fold_solver *solve_at(const fold_problem *prob, int form, const double *p)
{
    fold_settings s = fold_test_tight_settings();
    fold_solver *sv = NULL;
    s.forward.tol = 1e-12;
    s.backward.kkt_form = form;
    ck_assert_status(fold_solver_create(prob, &s, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, p, NULL), FOLD_OK);
    return sv;
}

START_TEST(solution_at_defaults)
{
    fold_problem *prob = make_problem();
    fold_solver *sv = solve_at(prob, FOLD_KKT_ACTIVE, NULL);
    double x[N], lam[M], zl[N], zu[N];
    const double want_x[N] = {1, 2.5, 2, 1, 0.5}, want_lam[M] = {-4.5, 2};
    fold_solver_solution(sv, x, lam, zl, zu, NULL);
    for (int j = 0; j < N; j++)
        ck_assert_double_eq_tol(x[j], want_x[j], 1e-7);
    ck_assert_double_eq_tol(lam[0], want_lam[0], 1e-7);
    ck_assert_double_eq_tol(lam[1], want_lam[1], 1e-7);
    ck_assert_double_eq_tol(zu[0], 2.5, 1e-7);
    ck_assert_double_eq_tol(zl[1], 2.5, 1e-7);
    ck_assert_double_eq_tol(zl[4] - zu[4], 2, 1e-7);
    /* at other parameters the bounds have moved */
    double p[NP], xl[N], xu[N], gl[M], gu[M];
    memcpy(p, P0, sizeof p);
    p[1] = 0.5;
    p[3] = 2.5;
    fold_problem_bounds(prob, p, xl, xu, gl, gu);
    ck_assert_double_eq(xu[0], 0.5);
    ck_assert_double_eq(gl[0], 5);
    ck_assert_double_eq(xl[4], 0.5);
    ck_assert_status(fold_solve(sv, p, NULL), FOLD_OK);
    fold_solver_solution(sv, x, NULL, NULL, NULL, NULL);
    ck_assert_double_eq_tol(x[0], 0.5, 1e-7);
    ck_assert_double_eq_tol(x[1] + x[2], 5, 1e-7);
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* dz/dp (all four blocks) and the value gradient against central differences. */
static void check_fd(int form)
{
    fold_problem *prob = make_problem();
    fold_solver *sv = solve_at(prob, form, NULL), *fd = solve_at(prob, form, NULL);
    fold_int nz[4] = {N, M, N, N};
    double J[4][N * NP], zp[4][N], zm[4][N], vg[NP], fp, fm, err = 0, err_v = 0;
    for (int b = 0; b < 4; b++)
        ck_assert_status(
            fold_jacobian(sv,
                          &(fold_jacobian_sel){.of = (fold_block)b, .n_rows = nz[b], .n_cols = NP},
                          J[b], NULL),
            FOLD_OK);
    ck_assert_status(fold_value_gradient(sv, vg), FOLD_OK);
    const double h = 1e-4;
    for (int k = 0; k < NP; k++) {
        double p[NP];
        for (int side = 0; side < 2; side++) {
            memcpy(p, P0, sizeof p);
            p[k] += side ? -h : h;
            ck_assert_status(fold_solve(fd, p, NULL), FOLD_OK);
            fold_solver_solution(fd, side ? zm[0] : zp[0], side ? zm[1] : zp[1],
                                 side ? zm[2] : zp[2], side ? zm[3] : zp[3], side ? &fm : &fp);
        }
        for (int b = 0; b < 4; b++)
            for (fold_int r = 0; r < nz[b]; r++) {
                double want = (zp[b][r] - zm[b][r]) / (2 * h), got = J[b][k * nz[b] + r];
                /* the barrier form's multipliers of a fixed variable are the side split of
                 * one number: compare zl - zu there */
                if (b >= 2 && r == 4) {
                    double other =
                        (b == 2 ? (zp[3][r] - zm[3][r]) : (zp[2][r] - zm[2][r])) / (2 * h);
                    double other_j = J[b == 2 ? 3 : 2][k * N + r];
                    want = b == 2 ? want - other : other - want;
                    got = b == 2 ? got - other_j : other_j - got;
                }
                err = fmax(err, fabs(got - want));
            }
        err_v = fmax(err_v, fabs(vg[k] - (fp - fm) / (2 * h)));
    }
    printf("# %s form: dz/dp vs FD %.1e, value gradient vs FD %.1e\n",
           form == FOLD_KKT_ACTIVE ? "active" : "barrier", err, err_v);
    ck_assert_double_le(err, 1e-6);
    ck_assert_double_le(err_v, 1e-6);
    /* the entries the problem makes known */
    ck_assert_double_eq_tol(J[0][1 * N + 0], 1, 1e-8);  /* x0 follows its bound p1 */
    ck_assert_double_eq_tol(J[0][2 * N + 1], 1, 1e-8);  /* x1 follows p2 */
    ck_assert_double_eq_tol(J[0][3 * N + 2], 2, 1e-8);  /* x1 + x2 = 2 p3, x1 held */
    ck_assert_double_eq_tol(J[0][4 * N + 3], -1, 1e-8); /* x3 = x2 - p4 */
    ck_assert_double_eq_tol(J[0][5 * N + 4], 1, 1e-8);  /* the fixed x4 = p5 */
    for (int r = 0; r < N; r++)                         /* the inactive bound p6 moves nothing */
        ck_assert_double_eq_tol(J[0][6 * N + r], 0, 1e-8);
    ck_assert_double_eq_tol(vg[1], -2.5, 1e-7); /* -zu0: a looser upper bound saves cost */
    fold_solver_free(sv);
    fold_solver_free(fd);
    fold_problem_free(prob);
}

START_TEST(fd_active)
{
    check_fd(FOLD_KKT_ACTIVE);
}
END_TEST

START_TEST(fd_barrier)
{
    check_fd(FOLD_KKT_BARRIER);
}
END_TEST

/* JVP along random dp, VJP of random upstream gradients on every block: <J dp, zbar> =
 * <dp, J' zbar>, and the JVP equals the Jacobian times dp. */
START_TEST(adjointness)
{
    for (int form = 0; form < 2; form++) {
        fold_problem *prob = make_problem();
        fold_solver *sv = solve_at(prob, form, NULL);
        fold_test_rng r;
        fold_test_rng_seed(&r, 7 + (unsigned)form);
        double dp[NP], xb[N], lb[M], zlb[N], zub[N], dx[N], dl[M], dzl[N], dzu[N], pbar[NP];
        fold_test_fill_normal(&r, dp, NP);
        fold_test_fill_normal(&r, xb, N);
        fold_test_fill_normal(&r, lb, M);
        fold_test_fill_normal(&r, zlb, N);
        fold_test_fill_normal(&r, zub, N);
        ck_assert_status(
            fold_jvp(sv, dp, &(fold_dz){.x = dx, .lam = dl, .zl = dzl, .zu = dzu}, NULL), FOLD_OK);
        for (int blk = 0; blk < 4; blk++) { /* each block of upstream gradients alone */
            double z0[N] = {0}, z1[M] = {0};
            ck_assert_status(fold_vjp(sv,
                                      &(fold_zbar){.x = blk == 0 ? xb : z0,
                                                   .lam = blk == 1 ? lb : z1,
                                                   .zl = blk == 2 ? zlb : z0,
                                                   .zu = blk == 3 ? zub : z0},
                                      pbar, NULL),
                             FOLD_OK);
            double l = blk == 0   ? fold_test_dot(dx, xb, N)
                       : blk == 1 ? fold_test_dot(dl, lb, M)
                       : blk == 2 ? fold_test_dot(dzl, zlb, N)
                                  : fold_test_dot(dzu, zub, N);
            ck_assert_double_le(fabs(l - fold_test_dot(dp, pbar, NP)), 1e-9 * fmax(1, fabs(l)));
        }
        ck_assert_status(
            fold_vjp(sv, &(fold_zbar){.x = xb, .lam = lb, .zl = zlb, .zu = zub}, pbar, NULL),
            FOLD_OK);
        double lhs = fold_test_dot(dx, xb, N) + fold_test_dot(dl, lb, M) +
                     fold_test_dot(dzl, zlb, N) + fold_test_dot(dzu, zub, N);
        double rhs = fold_test_dot(dp, pbar, NP);
        printf("# %s form: <J dp, zbar> %.15g, <dp, J' zbar> %.15g\n", form ? "barrier" : "active",
               lhs, rhs);
        ck_assert_double_le(fabs(lhs - rhs), 1e-9 * fmax(1, fabs(lhs)));
        double Jx[N * NP], jd;
        ck_assert_status(
            fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = N, .n_cols = NP},
                          Jx, NULL),
            FOLD_OK);
        for (int j = 0; j < N; j++) {
            jd = 0;
            for (int k = 0; k < NP; k++)
                jd += Jx[k * N + j] * dp[k];
            ck_assert_double_le(fabs(jd - dx[j]), 1e-10 * fmax(1, fabs(jd)));
        }
        fold_solver_free(sv);
        fold_problem_free(prob);
    }
}
END_TEST

/* An import at other parameters is judged with the bounds there. */
START_TEST(import_at_p)
{
    fold_problem *prob = make_problem();
    fold_solver *sv = NULL;
    double p[NP], x[N] = {0.5, 2.5, 2.5, 1.5, 0.7};
    memcpy(p, P0, sizeof p);
    p[1] = 0.5;
    p[5] = 0.7;
    p[3] = 2.5;
    p[4] = 1;
    ck_assert_status(fold_solver_create(prob, NULL, &sv), FOLD_OK);
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solver_import(sv, &(fold_import_point){.p = p, .x = x}, &info), FOLD_OK);
    ck_assert(info.kkt_feasibility <= 1e-12);
    ck_assert(info.kkt_stationarity <= 1e-10);
    /* at the defaults the same point is infeasible: x4 = 0.7, fixed at 0.5 there */
    ck_assert_status(fold_solver_import(sv, &(fold_import_point){.x = x}, &info), FOLD_ERR_NOT_KKT);
    ck_assert(info.kkt_feasibility > 1e-3);
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* Bad maps are refused at creation, naming the map; crossing bounds at p at the solve. */
START_TEST(validation)
{
    double xl[N], xu[N], gl[M], gu[M];
    fold_problem *prob = NULL;
    fold_nlp_def d = make_def(xl, xu, gl, gu);
    static const fold_int bad_i[] = {7}, dup_i[] = {0, 0}, dup_p[] = {1, 1}, inf_i[] = {3};
    static const fold_int one_p[] = {1};
    static const double c1[] = {1, 1}, cnan[] = {NAN};
    struct {
        fold_bound_map map;
        int which; /* 0 x_lower_p, 1 x_upper_p, 2 g_lower_p, 3 g_upper_p */
        fold_status st;
        const char *msg;
    } bad[] = {
        {{1, bad_i, one_p, c1}, 1, FOLD_ERR_SPARSITY, "x_upper_p.index[0] = 7"},
        {{2, dup_i, dup_p, c1}, 1, FOLD_ERR_SPARSITY, "twice"},
        {{1, inf_i, one_p, c1}, 0, FOLD_ERR_ARGUMENT, "infinite"},
        {{1, xl_i, one_p, cnan}, 0, FOLD_ERR_NONFINITE, "coef[0]"},
        {{0, NULL, NULL, NULL}, 3, FOLD_ERR_ARGUMENT, "equality"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        fold_nlp_def e = d;
        fold_bound_map *maps[4] = {&e.x_lower_p, &e.x_upper_p, &e.g_lower_p, &e.g_upper_p};
        *maps[bad[k].which] = bad[k].map;
        ck_assert_status(fold_problem_create(&e, &prob), bad[k].st);
        ck_assert_error_mentions(bad[k].msg);
        ck_assert_ptr_null(prob);
    }
    prob = make_problem();
    fold_solver *sv = NULL;
    double p[NP];
    memcpy(p, P0, sizeof p);
    p[6] = -20; /* x2 <= -20 below its lower bound -10 */
    ck_assert_status(fold_solver_create(prob, NULL, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, p, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("x[2]");
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fold_bounds");
    TCase *tc = tcase_create("bounds");
    tcase_add_test(tc, solution_at_defaults);
    tcase_add_test(tc, fd_active);
    tcase_add_test(tc, fd_barrier);
    tcase_add_test(tc, adjointness);
    tcase_add_test(tc, import_at_p);
    tcase_add_test(tc, validation);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
