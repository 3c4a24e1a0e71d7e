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
    fold_forward_info info;
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
    fold_kkt_describe_worst(&d, x, &lam, zl, zu, msg, sizeof msg);
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
    fold_kkt_describe_worst(&d, x, &lam, zl, zu, msg, sizeof msg);
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

static Suite *suite(void)
{
    Suite *s = suite_create("import");
    TCase *tc = tcase_create("residuals");
    tcase_add_test(tc, residuals_zero_at_qp_solution);
    tcase_add_test(tc, residuals_locate_defects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(suite());
}
