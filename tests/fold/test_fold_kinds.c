/* Kinds of variables (fold_nlp_def.x_kind, doc/math.md §3.2): an entry of a result is judged
 * uncertain against the largest entry of its kind. A problem with one variable of a large kind
 * and two of a small kind, one of them at a weakly active bound whose two classifications
 * change it by more than the tolerance of its kind but less than that of the large kind. */
#include "test_support.h"

/* min 1/2 CY (y - DY p)^2 + 1/2 C (w - DW p)^2 + 1/2 C (u - DU p)^2,  u >= 0,  x = (y, w, u):
 * at p = 0, u = 0 with multiplier 0 (weakly active); dy/dp = DY, dw/dp = DW, du/dp = DU for
 * p > 0 (u free) and 0 for p < 0 (u held). */
#define CY 1e-6
#define C 1e4
#define DY 1e6
#define DW 1e-3
#define DU 1e-5
static const double target[3] = {DY, DW, DU}, curv[3] = {CY, C, C};

static int kf(const double *x, const double *p, double *o, void *ud)
{
    (void)ud;
    *o = 0;
    for (int j = 0; j < 3; j++)
        *o += 0.5 * curv[j] * (x[j] - target[j] * p[0]) * (x[j] - target[j] * p[0]);
    return 0;
}
static int kg(const double *x, const double *p, double *g, void *ud)
{
    (void)ud;
    for (int j = 0; j < 3; j++)
        g[j] = curv[j] * (x[j] - target[j] * p[0]);
    return 0;
}
static int kh(const double *x, const double *p, double s, const double *l, double *v, void *ud)
{
    (void)x, (void)p, (void)l, (void)ud;
    for (int j = 0; j < 3; j++)
        v[j] = s * curv[j];
    return 0;
}
static int kgp(const double *x, const double *p, double *gp, void *ud)
{
    (void)ud;
    gp[0] = 0;
    for (int j = 0; j < 3; j++)
        gp[0] -= curv[j] * target[j] * (x[j] - target[j] * p[0]);
    return 0;
}
static int klp(const double *x, const double *p, const double *l, double *v, void *ud)
{
    (void)x, (void)p, (void)l, (void)ud;
    for (int j = 0; j < 3; j++)
        v[j] = -curv[j] * target[j];
    return 0;
}

static fold_problem *kinds_problem(bool kinds)
{
    static const double xl[3] = {-FOLD_INF, -FOLD_INF, 0}, p0[1] = {0};
    static const fold_int diag[3] = {0, 1, 2}, zero[3] = {0, 0, 0}, kind[3] = {0, 1, 1};
    fold_nlp_def d = {.name = "kinds",
                      .n = 3,
                      .np = 1,
                      .x_lower = xl,
                      .p_default = p0,
                      .hess_l = {3, diag, diag},
                      .hess_lp = {3, diag, zero},
                      .cb = {.f = kf, .grad_f = kg, .hess_l = kh, .grad_f_p = kgp, .hess_lp = klp},
                      .x_kind = kinds ? kind : NULL,
                      .n_x_kinds = kinds ? 2 : 0};
    fold_problem *prob;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    return prob;
}

/* u at parameter p, re-solved at default settings. */
static double solve_u(fold_problem *prob, double p)
{
    fold_solver *sv;
    double x[3];
    ck_assert_status(fold_solver_create(prob, NULL, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, &p, NULL), FOLD_OK);
    ck_assert_status(fold_solve_finish(sv, NULL), FOLD_OK); /* the tightened solution */
    ck_assert_status(fold_solver_solution(sv, x, NULL, NULL, NULL, NULL), FOLD_OK);
    fold_solver_free(sv);
    return x[2];
}

/* The entry of u in the call's report: uncertain with both values, named `name`, and the
 * bound of u moving it (its position in the call's result: `entry`). */
static void check_flagged(const fold_solver *sv, fold_int entry, const char *name, double *lo,
                          double *hi)
{
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(sv, &items, &n_items), FOLD_OK);
    fold_int it = -1, side = -1;
    for (fold_int k = 0; k < n_items; k++) {
        if (items[k].kind == FOLD_TRUST_UNCERTAIN && items[k].block == FOLD_BLOCK_X)
            ck_assert_int_eq(items[it = k].row, 2); /* the only uncertain entry */
        if (items[k].item == FOLD_ITEM_VARIABLE && items[k].index == 2) side = k;
    }
    ck_assert_int_ge(it, 0);
    ck_assert_int_eq(items[it].entry, entry);
    ck_assert_str_eq(items[it].name, name);
    ck_assert_int_ge(side, 0);
    ck_assert_str_eq(items[side].name, "x[2]");
    ck_assert_int_eq(items[side].side, 1);
    ck_assert_int_eq(items[side].n_affected, 1);
    ck_assert_int_eq(items[side].affected[0], entry);
    *lo = items[it].lo;
    *hi = items[it].hi;
}

/* Without kinds the JVP over all of x judges du against dy: the difference of the two
 * classifications (DU) is below tau DY and the entry is returned unflagged. With kinds it is
 * judged against dw: uncertain, NaN, with the interval [0, DU] that the one-sided re-solve
 * differences match and their central difference lies in. A Jacobian of the rows of x gives the
 * same flags, and the rows of the small kind alone give them without kinds. */
START_TEST(small_kind_uncertain)
{
    double dp = 1, dx[3], J[3], lo, hi;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_problem *plain = kinds_problem(false), *kinded = kinds_problem(true);
    fold_solver *sv;

    ck_assert_status(fold_solver_create(plain, NULL, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_jvp(sv, &dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert_int_ge(info.n_candidates, 1);
    ck_assert_int_eq(info.n_uncertain, 0);
    ck_assert(isfinite(dx[2]));
    ck_assert_double_le(fabs(dx[0] - DY), 1e-6 * DY);
    ck_assert_double_le(fabs(dx[1] - DW), 1e-6 * DW);
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){FOLD_BLOCK_X, 3, NULL, 1, NULL}, J, &info), FOLD_OK);
    ck_assert_int_eq(info.n_uncertain, 0);
    fold_int small[2] = {1, 2};
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){FOLD_BLOCK_X, 2, small, 1, NULL}, J, &info),
        FOLD_WARN_UNCERTAIN);
    ck_assert(isnan(J[1]) && isfinite(J[0]));
    fold_solver_free(sv);

    ck_assert_status(fold_solver_create(kinded, NULL, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_jvp(sv, &dp, &(fold_dz){.x = dx}, &info), FOLD_WARN_UNCERTAIN);
    ck_assert_int_eq(info.n_uncertain, 1);
    ck_assert(isnan(dx[2]));
    ck_assert_double_le(fabs(dx[0] - DY), 1e-6 * DY);
    ck_assert_double_le(fabs(dx[1] - DW), 1e-6 * DW);
    check_flagged(sv, 2, "d x[2]", &lo, &hi);
    ck_assert_double_le(fabs(lo), 1e-6 * DU);
    ck_assert_double_le(fabs(hi - DU), 1e-6 * DU);
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){FOLD_BLOCK_X, 3, NULL, 1, NULL}, J, &info),
        FOLD_WARN_UNCERTAIN);
    ck_assert_int_eq(info.n_uncertain, 1);
    ck_assert(isnan(J[2]) && isfinite(J[0]) && isfinite(J[1]));
    check_flagged(sv, 2, "d x[2] / d p[0]", &lo, &hi);
    /* the same entry again: the names of x[2] and p[0] kept from the last call */
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){FOLD_BLOCK_X, 3, NULL, 1, NULL}, J, &info),
        FOLD_WARN_UNCERTAIN);
    check_flagged(sv, 2, "d x[2] / d p[0]", &lo, &hi);
    /* multipliers alone: judged by column as without kinds */
    double dzl[3];
    ck_assert_status(fold_jvp(sv, &dp, &(fold_dz){.x = dx, .zl = dzl}, &info), FOLD_WARN_UNCERTAIN);
    ck_assert(isnan(dx[2]));
    fold_solver_free(sv);

    /* re-solves: the one-sided differences are the two classifications, the central one lies
     * between them */
    double h = 1.0, u0 = solve_u(kinded, 0), up = solve_u(kinded, h), um = solve_u(kinded, -h);
    double right = (up - u0) / h, left = (u0 - um) / h, central = (up - um) / (2 * h);
    ck_assert_double_le(fabs(right - DU), 1e-2 * DU);
    ck_assert_double_le(fabs(left), 1e-2 * DU);
    ck_assert_double_gt(central, lo + 0.1 * DU);
    ck_assert_double_lt(central, hi - 0.1 * DU);
    fold_problem_free(plain);
    fold_problem_free(kinded);
}
END_TEST

Suite *fold_kinds_suite(void);
Suite *fold_kinds_suite(void)
{
    Suite *s = suite_create("fold_kinds");
    TCase *tc = tcase_create("kinds");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, small_kind_uncertain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(fold_kinds_suite());
}
