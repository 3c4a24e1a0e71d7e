/* KKT residuals (doc/math.md §2.3) and fold_solver_import: exact solutions in closed form
 * (parametric QP, HS071 multipliers from the stationarity equations), perturbed points,
 * wrong-sign multipliers, non-finite inputs. */
#include "test_support.h"
#include "basic/basic.h"
#include "forward/kkt_residuals.h"

#define PQP_NP (FOLD_PQP_N + 1)

/* p = defaults, x and lam in closed form. */
static void pqp_exact(const fold_problem *prob, double *p, double *x, double *lam)
{
    fold_problem_default_params(prob, p);
    fold_pqp_solution(p, x, lam, NULL);
}

START_TEST(residuals_zero_at_qp_solution)
{
    fold_problem *prob = NULL;
    double p[PQP_NP], x[FOLD_PQP_N], lam, z[FOLD_PQP_N] = {0};
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    pqp_exact(prob, p, x, &lam);
    ck_assert_status(fold_kkt_residuals(prob, p, x, &lam, z, z, &info, NULL), FOLD_OK);
    ck_assert_double_lt(info.kkt_stationarity, 1e-12);
    ck_assert_double_lt(info.kkt_feasibility, 1e-12);
    ck_assert_double_lt(info.kkt_complementarity, 1e-12);
    fold_problem_free(prob);
}
END_TEST

/* Each residual responds to its own defect and names the right place. */
START_TEST(residuals_locate_defects)
{
    fold_problem *prob = NULL;
    double p[PQP_NP], x[FOLD_PQP_N], lam, zl[FOLD_PQP_N] = {0}, zu[FOLD_PQP_N] = {0};
    fold_kkt_detail d;
    fold_eval_stats st = {0};
    char msg[512];
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    pqp_exact(prob, p, x, &lam);

    /* x_2 beyond its upper bound 100 (x_0 keeps a'x = b): infeasible by 1 / (1 + 100). */
    double x_saved[FOLD_PQP_N];
    memcpy(x_saved, x, sizeof x);
    x[0] -= 2 * (101 - x[2]);
    x[2] = 101;
    ck_assert_status(fold_kkt_residuals_detail(prob, p, x, &lam, zl, zu, &d, &st), FOLD_OK);
    ck_assert_double_eq_tol(d.feasibility, 1.0 / 101, 1e-12);
    ck_assert_int_eq(d.feas_where, FOLD_KKT_X_UPPER);
    ck_assert_int_eq(d.feas_index, 2);
    ck_assert_int_eq(st.n_f, 1);
    ck_assert_int_eq(st.n_grad_f, 1);
    ck_assert_double_eq(d.feas_value, 101);
    ck_assert_double_eq(d.feas_bound, 100);
    d.stationarity = 0; /* moving x_0 broke stationarity too; describe the feasibility part */
    fold_kkt_describe_worst(prob, &d, x, &lam, zl, zu, msg, sizeof msg);
    ck_assert_msg(strstr(msg, "upper bound of x[2]") != NULL, "%s", msg);
    memcpy(x, x_saved, sizeof x);

    /* Stationarity: a wrong multiplier of the equality moves grad_x L by 0.1 a. */
    double lam2 = lam + 0.1;
    ck_assert_status(fold_kkt_residuals_detail(prob, p, x, &lam2, zl, zu, &d, NULL), FOLD_OK);
    ck_assert_double_eq_tol(d.stationarity_raw, 0.2, 1e-12); /* a_2 = 2 is the largest */
    ck_assert_int_eq(d.stat_index, 2);
    ck_assert_double_eq_tol(d.stationarity, 0.2 / d.stationarity_scale, 1e-15);
    ck_assert_double_lt(d.complementarity, 1e-300); /* equality: no sign condition */

    /* Negative zu_3: wrong sign, residual |zu_3| (and stationarity moves too). */
    zu[3] = -0.25;
    ck_assert_status(fold_kkt_residuals_detail(prob, p, x, &lam, zl, zu, &d, NULL), FOLD_OK);
    ck_assert_double_eq_tol(d.complementarity, 0.25, 1e-15);
    ck_assert_int_eq(d.comp_where, FOLD_KKT_X_UPPER);
    ck_assert_int_eq(d.comp_index, 3);
    ck_assert(d.comp_wrong_sign);
    fold_kkt_describe_worst(prob, &d, x, &lam, zl, zu, msg, sizeof msg);
    ck_assert_msg(strstr(msg, "zu[3]") != NULL, "%s", msg);

    /* zl_1 > 0 for an infinite lower bound: also a violation of size zl_1. */
    zu[3] = 0;
    zl[1] = 0.5;
    ck_assert_status(fold_kkt_residuals_detail(prob, p, x, &lam, zl, zu, &d, NULL), FOLD_OK);
    ck_assert_double_eq_tol(d.complementarity, 0.5, 1e-15);
    ck_assert_int_eq(d.comp_where, FOLD_KKT_X_LOWER);
    ck_assert_int_eq(d.comp_index, 1);

    /* A positive zu_0 on the finite upper bound at distance 100 - x_0: (2.3.4). */
    zl[1] = 0;
    zu[0] = 1e-3;
    ck_assert_status(fold_kkt_residuals_detail(prob, p, x, &lam, zl, zu, &d, NULL), FOLD_OK);
    double dist = 100 - x[0];
    ck_assert_double_eq_tol(d.complementarity, 1e-3 * dist / (1 + dist), 1e-15);
    ck_assert(!d.comp_wrong_sign);
    fold_problem_free(prob);
}
END_TEST

/* --- fold_solver_import ----------------------------------------------------------------- */

/* Toy problem: min 1/2 sum (x_j - p_j)^2  s.t.  x0 + x1 <= 1.5,  0 <= x0, x1 <= 1,
 * x2 = 0.5 (fixed by its bounds). n = 3, m = 1, np = 3. */
static int toy_f(const double *x, const double *p, double *obj, void *ud)
{
    (void)ud;
    *obj = 0;
    for (int j = 0; j < 3; j++)
        *obj += 0.5 * (x[j] - p[j]) * (x[j] - p[j]);
    return 0;
}
static int toy_grad(const double *x, const double *p, double *gr, void *ud)
{
    (void)ud;
    for (int j = 0; j < 3; j++)
        gr[j] = x[j] - p[j];
    return 0;
}
static int toy_g(const double *x, const double *p, double *g, void *ud)
{
    (void)p, (void)ud;
    g[0] = x[0] + x[1];
    return 0;
}
static int toy_jac(const double *x, const double *p, double *v, void *ud)
{
    (void)x, (void)p, (void)ud;
    v[0] = v[1] = 1;
    return 0;
}

static fold_problem *toy_create(void)
{
    static const fold_int jr[2] = {0, 0}, jc[2] = {0, 1};
    static const double xl[3] = {0, 0, 0.5}, xu[3] = {1, 1, 0.5}, gu[1] = {1.5};
    static const double p0[3] = {1, 1, 0.5};
    fold_nlp_def d = {.name = "toy",
                      .n = 3,
                      .m = 1,
                      .np = 3,
                      .x_lower = xl,
                      .x_upper = xu,
                      .g_upper = gu,
                      .p_default = p0,
                      .jac_g = {2, jr, jc},
                      .cb = {.f = toy_f, .grad_f = toy_grad, .g = toy_g, .jac_g = toy_jac}};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    return prob;
}

static fold_solver *solver_for(const fold_problem *prob)
{
    fold_solver *s = NULL;
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    return s;
}

START_TEST(import_qp_estimates_multipliers)
{
    fold_problem *prob = NULL;
    double p[PQP_NP], x[FOLD_PQP_N], lam, xs[FOLD_PQP_N], lams, zl[FOLD_PQP_N], zu[FOLD_PQP_N];
    double obj, f_ref;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    fold_solver *s = solver_for(prob);
    pqp_exact(prob, p, x, &lam);
    ck_assert_status(fold_solver_solution(s, xs, NULL, NULL, NULL, NULL), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = x}, &info), FOLD_OK);
    ck_assert_int_eq(info.status, FOLD_FWD_IMPORTED);
    ck_assert_str_eq(info.backend, "import");
    ck_assert(info.duals_estimated);
    ck_assert_double_lt(info.kkt_stationarity, 1e-12);
    ck_assert_double_lt(info.kkt_feasibility, 1e-12);
    ck_assert_double_lt(info.kkt_complementarity, 1e-12);
    ck_assert_status(fold_solver_solution(s, xs, &lams, zl, zu, &obj), FOLD_OK);
    ck_assert_double_eq_tol(lams, lam, 1e-8 * fmax(1, fabs(lam)));
    for (int j = 0; j < FOLD_PQP_N; j++) {
        ck_assert_double_eq(xs[j], x[j]);
        ck_assert_double_eq(zl[j], 0);
        ck_assert_double_eq(zu[j], 0); /* x <= 100 is far from active */
    }
    f_ref = 0;
    for (int j = 0; j < FOLD_PQP_N; j++) /* D = 1..5, 1/2 x'Dx - q'x */
        f_ref += 0.5 * (j + 1) * x[j] * x[j] - p[j] * x[j];
    ck_assert_double_eq_tol(obj, f_ref, 1e-12 * fmax(1, fabs(f_ref)));
    ck_assert_double_eq_tol(info.objective, f_ref, 1e-12 * fmax(1, fabs(f_ref)));
    double ps[PQP_NP];
    ck_assert_int_eq(fold_solver_params(s, ps), FOLD_OK);
    for (int k = 0; k < PQP_NP; k++)
        ck_assert_double_eq(ps[k], p[k]);

    /* Given multipliers: accepted without estimation. */
    double z0[FOLD_PQP_N] = {0};
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = z0, .zu = z0},
                           &info),
        FOLD_OK);
    ck_assert(!info.duals_estimated);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* HS071 at the published solution: x1 = 1 on its lower bound, g0 (product >= 25) at its
 * lower bound, g1 an equality. The multipliers follow from stationarity (2.3): rows 1 and
 * 2 (no bound multiplier) give lam, row 0 gives zl_0. */
static void hs071_multipliers(const fold_problem *prob, const double *x, const double *p,
                              double *lam, double *zl0)
{
    double gr[4], j0[4], j1[4];
    (void)prob;
    gr[0] = x[3] * (2 * x[0] + x[1] + x[2]);
    gr[1] = x[0] * x[3];
    gr[2] = x[0] * x[3] + p[2];
    gr[3] = x[0] * (x[0] + x[1] + x[2]);
    for (int j = 0; j < 4; j++) {
        j0[j] = 1;
        for (int k = 0; k < 4; k++)
            if (k != j) j0[j] *= x[k];
        j1[j] = 2 * x[j];
    }
    /* [j0_1 j1_1; j0_2 j1_2] lam = -[gr_1; gr_2] by Cramer's rule. */
    double det = j0[1] * j1[2] - j0[2] * j1[1];
    lam[0] = (-gr[1] * j1[2] + gr[2] * j1[1]) / det;
    lam[1] = (-j0[1] * gr[2] + j0[2] * gr[1]) / det;
    *zl0 = gr[0] + lam[0] * j0[0] + lam[1] * j1[0];
}

START_TEST(import_hs071_estimates_multipliers)
{
    fold_problem *prob = NULL;
    double x[4] = {1, 4.742999644, 3.821149979, 1.379408293}, p[3], lam_ref[2], zl0_ref;
    double lam[2], zl[4], zu[4];
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_problem_default_params(prob, p);
    fold_solver *s = solver_for(prob);
    hs071_multipliers(prob, x, p, lam_ref, &zl0_ref);
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.x = x}, &info), FOLD_OK);
    ck_assert(info.duals_estimated);
    ck_assert_double_lt(info.kkt_stationarity, 1e-7);
    ck_assert_status(fold_solver_solution(s, NULL, lam, zl, zu, NULL), FOLD_OK);
    /* Ipopt's published values: lam = (-0.552294, 0.161469), zl_0 = 1.08787. */
    ck_assert_double_eq_tol(lam[0], lam_ref[0], 1e-6);
    ck_assert_double_eq_tol(lam[1], lam_ref[1], 1e-6);
    ck_assert_double_eq_tol(zl[0], zl0_ref, 1e-6);
    ck_assert_double_eq_tol(lam[0], -0.5522937, 1e-6);
    ck_assert_double_eq_tol(lam[1], 0.1614686, 1e-6);
    ck_assert_double_eq_tol(zl[0], 1.087871, 1e-5);
    for (int j = 1; j < 4; j++)
        ck_assert_double_eq(zl[j], 0);
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq(zu[j], 0);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* A perturbed point is rejected, the residuals are reported and the stored solution is
 * the previous one. */
START_TEST(import_rejects_perturbed_point)
{
    fold_problem *prob = NULL;
    double x[4] = {1, 4.742999644, 3.821149979, 1.379408293}, xp[4], xs[4];
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_solver *s = solver_for(prob);
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.x = x}, NULL), FOLD_OK);
    for (int j = 0; j < 4; j++)
        xp[j] = x[j] + 1e-3;
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.x = xp}, &info), FOLD_ERR_NOT_KKT);
    ck_assert_error_mentions("fold_solver_import");
    ck_assert_error_mentions("kkt_tol");
    ck_assert_int_eq(info.status, FOLD_FWD_NOT_KKT);
    ck_assert(info.duals_estimated);
    /* g1 = |x|^2 - 40 moves by about 2 sum(x) 1e-3 = 0.022: feasibility 0.022 / 1. */
    ck_assert_double_gt(info.kkt_feasibility, 1e-2);
    ck_assert_double_lt(info.kkt_feasibility, 3e-2);
    ck_assert_double_gt(info.kkt_stationarity, 1e-6); /* zl_0 no longer active */
    ck_assert_status(fold_solver_solution(s, xs, NULL, NULL, NULL, NULL), FOLD_OK);
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq(xs[j], x[j]);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

START_TEST(import_toy_bounds_and_fixed)
{
    fold_problem *prob = toy_create();
    fold_solver *s = solver_for(prob);
    double p[3] = {2, -1, 3}, x[3] = {1, 0, 0.5}, lam, zl[3], zu[3];
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = x}, &info), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, NULL, &lam, zl, zu, NULL), FOLD_OK);
    ck_assert_double_eq_tol(lam, 0, 1e-12);
    ck_assert_double_eq_tol(zu[0], 1, 1e-12);   /* grad_0 = -1 */
    ck_assert_double_eq_tol(zl[1], 1, 1e-12);   /* grad_1 = 1 */
    ck_assert_double_eq_tol(zu[2], 2.5, 1e-12); /* fixed x2: grad_2 = -2.5 */
    ck_assert_double_eq(zl[0] + zu[1] + zl[2], 0);

    /* The constraint at its upper bound with lam = 0.25 >= 0. */
    double p2[3] = {1, 1, 0.5}, x2[3] = {0.75, 0.75, 0.5};
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p2, .x = x2}, &info), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, NULL, &lam, zl, zu, NULL), FOLD_OK);
    ck_assert_double_eq_tol(lam, 0.25, 1e-12);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* Points where the objective pulls into the feasible set: least squares finds multipliers
 * of the wrong sign, so the point is not a KKT point. */
START_TEST(import_rejects_wrong_signs)
{
    fold_problem *prob = toy_create();
    fold_solver *s = solver_for(prob);
    double p[3] = {0.5, 0.5, 0.5}, xg[3] = {0.75, 0.75, 0.5}, xb[3] = {0, 0.5, 0.5};
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = xg}, &info),
                     FOLD_ERR_NOT_KKT);
    ck_assert_error_mentions("lam[0] = -0.25");
    ck_assert_error_mentions("wrong sign");
    ck_assert_double_eq_tol(info.kkt_complementarity, 0.25, 1e-12);
    ck_assert_double_lt(info.kkt_stationarity, 1e-12);
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = xb}, &info),
                     FOLD_ERR_NOT_KKT);
    ck_assert_error_mentions("zl[0] = -0.5");
    ck_assert_double_eq_tol(info.kkt_complementarity, 0.5, 1e-12);

    /* Given multipliers that satisfy stationarity exactly but have the wrong sign. */
    double lam = 0, zl[3] = {-0.5, 0, 0}, zu[3] = {0};
    ck_assert_status(
        fold_solver_import(
            s, &(fold_import_point){.p = p, .x = xb, .lam = &lam, .zl = zl, .zu = zu}, &info),
        FOLD_ERR_NOT_KKT);
    ck_assert_double_lt(info.kkt_stationarity, 1e-15);
    ck_assert_error_mentions("zl[0]");
    ck_assert(!info.duals_estimated);
    ck_assert_status(fold_solver_solution(s, NULL, NULL, NULL, NULL, NULL), FOLD_ERR_NOT_SOLVED);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

START_TEST(import_rejects_bad_input)
{
    fold_problem *prob = toy_create();
    fold_solver *s = solver_for(prob);
    double p[3] = {2, -1, 3}, x[3] = {1, 0, 0.5}, lam = 0, zl[3] = {0, 1, 0}, zu[3] = {1, 0, 2.5};
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu},
                           NULL),
        FOLD_OK);
    x[2] = NAN;
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu},
                           NULL),
        FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("x[2]");
    x[2] = 0.5;
    p[1] = INFINITY;
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu},
                           NULL),
        FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("p[1]");
    p[1] = -1;
    lam = NAN;
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu},
                           NULL),
        FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("lam[0]");
    lam = 0;
    zu[2] = -INFINITY;
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu},
                           NULL),
        FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("zu[2]");
    zu[2] = 2.5;
    zl[1] = NAN;
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu},
                           NULL),
        FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("zl[1]");
    zl[1] = 1;
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.p = p, .lam = &lam, .zl = zl, .zu = zu}, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("x");
    ck_assert_status(
        fold_solver_import(
            NULL, &(fold_import_point){.p = p, .x = x, .lam = &lam, .zl = zl, .zu = zu}, NULL),
        FOLD_ERR_ARGUMENT);
    /* x outside its bounds: infeasible, named. */
    x[1] = -0.01;
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = x}, NULL),
                     FOLD_ERR_NOT_KKT);
    ck_assert_error_mentions("lower bound of x[1]");
    /* Nothing was stored by the failed calls: the first import stays. */
    double xs[3];
    ck_assert_status(fold_solver_solution(s, xs, NULL, NULL, NULL, NULL), FOLD_OK);
    ck_assert_double_eq(xs[1], 0);
    ck_assert_double_eq(xs[2], 0.5);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* Allocation failures leave nothing stored and report FOLD_ERR_MEMORY. */
START_TEST(import_allocation_failure)
{
    fold_problem *prob = NULL;
    double p[PQP_NP], x[FOLD_PQP_N], lam;
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    fold_solver *s = solver_for(prob);
    pqp_exact(prob, p, x, &lam);
    for (long k = 0; k < 4; k++) {
        fold_alloc_fail_after(k);
        fold_status st = fold_solver_import(s, &(fold_import_point){.p = p, .x = x}, NULL);
        fold_alloc_fail_after(-1);
        ck_assert_status(st, FOLD_ERR_MEMORY);
        ck_assert_status(fold_solver_solution(s, NULL, NULL, NULL, NULL, NULL),
                         FOLD_ERR_NOT_SOLVED);
    }
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* An imported point is differentiable: fold_jvp at the imported QP solution matches the
 * closed-form dx/dp; a second import at new parameters replaces it. */
START_TEST(import_then_fold)
{
    fold_problem *prob = NULL;
    double p[PQP_NP], x[FOLD_PQP_N], lam, dxdp[FOLD_PQP_N * PQP_NP], dx[FOLD_PQP_N];
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    fold_solver *s = solver_for(prob);
    pqp_exact(prob, p, x, &lam);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            p[0] += 0.7;
            p[FOLD_PQP_N] -= 0.3;
            fold_pqp_solution(p, x, &lam, NULL);
        }
        fold_pqp_solution(p, NULL, NULL, dxdp);
        ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = x}, NULL),
                         FOLD_OK);
        for (int k = 0; k < PQP_NP; k++) {
            double dp[PQP_NP] = {0};
            dp[k] = 1;
            ck_assert_status(fold_jvp(s, dp, &(fold_dz){.x = dx}, NULL), FOLD_OK);
            for (int j = 0; j < FOLD_PQP_N; j++)
                ck_assert_double_eq_tol(dx[j], dxdp[k * FOLD_PQP_N + j], 1e-9);
        }
    }
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* Cross-check with Ipopt: a tight solve, then the import of its x alone recovers Ipopt's
 * multipliers; importing Ipopt's full primal-dual point is accepted as given. */
START_TEST(import_matches_ipopt)
{
    fold_problem *prob = NULL;
    fold_settings set;
    double x[4], lam[2], zl[4], zu[4], lam2[2], zl2[4], zu2[4];
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_settings_default(&set);
    set.forward.tol = 1e-12;
    fold_solver *s = NULL;
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, x, lam, zl, zu, NULL), FOLD_OK);
    ck_assert_status(
        fold_solver_import(s, &(fold_import_point){.x = x, .lam = lam, .zl = zl, .zu = zu}, &info),
        FOLD_OK);
    ck_assert(!info.duals_estimated);
    /* Ipopt relaxes bounds by 1e-8 and projects x back (honor_original_bounds): x_0 moves
     * from 1 - 1e-8 to 1 and g_0 = x0 x1 x2 x3 - 25 by 2.4e-7, so lam_0 d ~ 1e-7 here. */
    ck_assert_double_lt(info.kkt_complementarity, 2e-7);
    ck_assert_double_lt(info.kkt_stationarity, 1e-8);
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.x = x, .zl = zl, .zu = zu}, &info),
                     FOLD_OK);
    ck_assert(info.duals_estimated);
    ck_assert_status(fold_solver_solution(s, NULL, lam2, zl2, zu2, NULL), FOLD_OK);
    /* Agreement limited by the 1e-8 projection of x above (gradients ~ 25). */
    for (int i = 0; i < 2; i++)
        ck_assert_double_eq_tol(lam2[i], lam[i], 1e-6);
    for (int j = 0; j < 4; j++) {
        ck_assert_double_eq_tol(zl2[j], zl[j], 1e-6);
        ck_assert_double_eq_tol(zu2[j], zu[j], 1e-6);
    }
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("residuals");
    tcase_add_test(tc, residuals_zero_at_qp_solution);
    tcase_add_test(tc, residuals_locate_defects);
    suite_add_tcase(s, tc);
    tc = tcase_create("import");
    tcase_add_test(tc, import_qp_estimates_multipliers);
    tcase_add_test(tc, import_hs071_estimates_multipliers);
    tcase_add_test(tc, import_rejects_perturbed_point);
    tcase_add_test(tc, import_toy_bounds_and_fixed);
    tcase_add_test(tc, import_rejects_wrong_signs);
    tcase_add_test(tc, import_rejects_bad_input);
    tcase_add_test(tc, import_allocation_failure);
    tcase_add_test(tc, import_then_fold);
    tcase_add_test(tc, import_matches_ipopt);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(suite());
}
