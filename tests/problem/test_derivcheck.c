/* fold_problem_check_derivatives: the built-in problems pass for all six derivative
 * callbacks; deliberately wrong values or a missing pattern entry are found and located;
 * input validation and callback failures. */
#include "test_support.h"
#include "basic/basic.h"

/* n = 3, m = 2, np = 1:
 *   f  = x0^2 x1 + p x2
 *   g0 = x0 x2 + p x1,   g1 = x1^2 + x2                                              */
typedef struct tp_data {
    int wrong;     /* 0 none, 1 jac_g(1,1), 2 hess_l(1,0), 3 hess_lp(1,0), 4 grad_f_p */
    bool miss_jac; /* pattern of jac_g omits (0,1) */
    bool fail_g;   /* g returns a fatal error */
} tp_data;

static int tp_f(const double *x, const double *p, double *obj, void *ud)
{
    (void)ud;
    *obj = x[0] * x[0] * x[1] + p[0] * x[2];
    return 0;
}
static int tp_grad(const double *x, const double *p, double *gr, void *ud)
{
    (void)ud;
    gr[0] = 2 * x[0] * x[1];
    gr[1] = x[0] * x[0];
    gr[2] = p[0];
    return 0;
}
static int tp_g(const double *x, const double *p, double *g, void *ud)
{
    if (((tp_data *)ud)->fail_g) return -3;
    g[0] = x[0] * x[2] + p[0] * x[1];
    g[1] = x[1] * x[1] + x[2];
    return 0;
}
static int tp_jac(const double *x, const double *p, double *v, void *ud)
{
    tp_data *d = ud;
    int k = 0;
    v[k++] = x[2];
    if (!d->miss_jac) v[k++] = p[0];
    v[k++] = x[0];
    v[k++] = 2 * x[1] + (d->wrong == 1 ? 0.5 : 0);
    v[k++] = 1;
    return 0;
}
static int tp_hess(const double *x, const double *p, double s, const double *lam, double *v,
                   void *ud)
{
    (void)p;
    v[0] = s * 2 * x[1];
    v[1] = s * 2 * x[0] + (((tp_data *)ud)->wrong == 2 ? 1e-3 : 0);
    v[2] = lam[0];
    v[3] = 2 * lam[1];
    return 0;
}
static int tp_gfp(const double *x, const double *p, double *gp, void *ud)
{
    (void)p;
    gp[0] = x[2] * (((tp_data *)ud)->wrong == 4 ? 1.01 : 1);
    return 0;
}
static int tp_jgp(const double *x, const double *p, double *v, void *ud)
{
    (void)p, (void)ud;
    v[0] = x[1];
    return 0;
}
static int tp_hlp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    (void)x, (void)p;
    v[0] = ((tp_data *)ud)->wrong == 3 ? -lam[0] : lam[0];
    v[1] = 1;
    return 0;
}

static fold_problem *tp_create(tp_data *d, bool with_params)
{
    static const fold_int jr[5] = {0, 0, 0, 1, 1}, jc[5] = {0, 1, 2, 1, 2};
    static const fold_int jr_miss[4] = {0, 0, 1, 1}, jc_miss[4] = {0, 2, 1, 2};
    static const fold_int hr[4] = {0, 1, 2, 1}, hc[4] = {0, 0, 0, 1};
    static const fold_int pr[1] = {0}, pc[1] = {0}, lr[2] = {1, 2}, lc[2] = {0, 0};
    static const double gl[2] = {-1, -1}, gu[2] = {1, 1}, p0[1] = {0.7};
    fold_nlp_def def = {
        .name = "tp",
        .n = 3,
        .m = 2,
        .np = 1,
        .g_lower = gl,
        .g_upper = gu,
        .p_default = p0,
        .jac_g = d->miss_jac ? (fold_pattern){4, jr_miss, jc_miss} : (fold_pattern){5, jr, jc},
        .hess_l = {4, hr, hc},
        .jac_g_p = {1, pr, pc},
        .hess_lp = {2, lr, lc},
        .cb = {.f = tp_f, .grad_f = tp_grad, .g = tp_g, .jac_g = tp_jac, .hess_l = tp_hess},
        .user_data = d};
    if (with_params) {
        def.cb.grad_f_p = tp_gfp;
        def.cb.jac_g_p = tp_jgp;
        def.cb.hess_lp = tp_hlp;
    } else {
        def.jac_g_p = def.hess_lp = (fold_pattern){0, NULL, NULL};
    }
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&def, &prob), FOLD_OK);
    return prob;
}

static const double X[3] = {0.8, -1.3, 2.1}, LAM[2] = {0.6, -1.7};
/* Entries compared: grad_f 3, jac_g 6, hess_l 6 (lower), grad_f_p 1, jac_g_p 2, hess_lp 3. */
#define TP_CHECKED 21

START_TEST(builtins_pass)
{
    const char *const *names = fold_builtin_names();
    /* Entries of the six functions: hs071 4 + 8 + 10 + 3 + 6 + 12, pqp 5 + 5 + 15 + 6 + 6 + 30. */
    const fold_int expect_checked[2] = {43, 67};
    int count = 0;
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 7);
    for (int t = 0; names[t]; t++) {
        fold_problem *prob = NULL;
        fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
        fold_int n, m;
        double x[8], lam[8];
        ck_assert_status(fold_builtin_create(names[t], &prob), FOLD_OK);
        fold_problem_dims(prob, &n, &m, NULL);
        ck_assert_int_le(n, 8);
        ck_assert_int_le(m, 8);
        for (fold_int j = 0; j < n; j++)
            x[j] = 1 + 3 * fold_test_uniform(&rng);
        for (fold_int i = 0; i < m; i++)
            lam[i] = fold_test_normal(&rng);
        ck_assert_status(fold_problem_check_derivatives(prob, x, NULL, lam, 1e-6, 1e-6, &rep),
                         FOLD_OK);
        ck_assert_int_eq(rep.n_bad, 0);
        ck_assert_int_eq(rep.n_missing, 0);
        ck_assert_double_lt(rep.max_rel_error, 1e-6);
        if (strcmp(names[t], "hs071") == 0) {
            ck_assert_int_eq(rep.n_checked, expect_checked[0]);
            count++;
        } else if (strcmp(names[t], "pqp") == 0) {
            ck_assert_int_eq(rep.n_checked, expect_checked[1]);
            count++;
        }
        fold_problem_free(prob);
    }
    ck_assert_int_eq(count, 2);
}
END_TEST

START_TEST(test_problem_passes)
{
    tp_data d = {0};
    fold_problem *prob = tp_create(&d, true);
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-7, &rep), FOLD_OK);
    ck_assert_int_eq(rep.n_checked, TP_CHECKED);
    ck_assert_int_eq(rep.n_bad, 0);
    /* Without parameter callbacks only grad_f, jac_g and hess_l are checked. */
    fold_problem_free(prob);
    prob = tp_create(&d, false);
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-7, &rep), FOLD_OK);
    ck_assert_int_eq(rep.n_checked, 3 + 6 + 6);
    fold_problem_free(prob);
}
END_TEST

/* Each wrong entry is found with its function, row, column and both values. */
START_TEST(wrong_entries_located)
{
    static const struct {
        int wrong;
        const char *fn;
        fold_int row, col;
        double analytic, fd;
    } cases[] = {
        {1, "jac_g", 1, 1, 2 * -1.3 + 0.5, 2 * -1.3},
        {2, "hess_l", 1, 0, 2 * 0.8 + 1e-3, 2 * 0.8},
        {3, "hess_lp", 1, 0, -0.6, 0.6},
        {4, "grad_f_p", 0, 0, 2.1 * 1.01, 2.1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tp_data d = {.wrong = cases[c].wrong};
        fold_problem *prob = tp_create(&d, true);
        fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
        ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-5, &rep),
                         FOLD_WARN_INACCURATE);
        ck_assert_str_eq(rep.worst_function, cases[c].fn);
        ck_assert_int_eq(rep.worst_row, cases[c].row);
        ck_assert_int_eq(rep.worst_col, cases[c].col);
        ck_assert_double_eq_tol(rep.worst_analytic, cases[c].analytic, 1e-12);
        ck_assert_double_eq_tol(rep.worst_fd, cases[c].fd, 1e-7);
        ck_assert_int_eq(rep.n_bad, 1);
        ck_assert_int_eq(rep.n_missing, 0);
        ck_assert_int_eq(rep.n_checked, TP_CHECKED);
        ck_assert_error_mentions(cases[c].fn);
        fold_problem_free(prob);
    }
}
END_TEST

START_TEST(missing_pattern_entry)
{
    tp_data d = {.miss_jac = true};
    fold_problem *prob = tp_create(&d, true);
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-6, &rep),
                     FOLD_WARN_INACCURATE);
    ck_assert_str_eq(rep.worst_function, "jac_g");
    ck_assert_int_eq(rep.worst_row, 0);
    ck_assert_int_eq(rep.worst_col, 1);
    ck_assert_double_eq(rep.worst_analytic, 0);
    ck_assert_double_eq_tol(rep.worst_fd, 0.7, 1e-8);
    /* The omitted d g0/dx1 = p also hides the p-term of J'lam: hess_lp(1,0) = lam0 now
     * disagrees with the FD of grad f + J'lam (declared, so bad but not missing). */
    ck_assert_int_eq(rep.n_missing, 1);
    ck_assert_int_eq(rep.n_bad, 2);
    ck_assert_error_mentions("jac_g[0,1]");
    fold_problem_free(prob);
}
END_TEST

START_TEST(bad_input)
{
    tp_data d = {0};
    fold_problem *prob = tp_create(&d, true);
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    double x[3] = {0.8, NAN, 2.1}, p[1] = {INFINITY}, lam[2] = {0, NAN};
    ck_assert_status(fold_problem_check_derivatives(prob, x, NULL, LAM, 1e-6, 1e-6, &rep),
                     FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("x[1]");
    ck_assert_status(fold_problem_check_derivatives(prob, X, p, LAM, 1e-6, 1e-6, &rep),
                     FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("p[0]");
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, lam, 1e-6, 1e-6, &rep),
                     FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("lam[1]");
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 0, 1e-6, &rep),
                     FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("h = 0");
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, NAN, 1e-6, &rep),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, -1, &rep),
                     FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("tol");
    ck_assert_status(fold_problem_check_derivatives(NULL, X, NULL, LAM, 1e-6, 1e-6, &rep),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_check_derivatives(prob, NULL, NULL, LAM, 1e-6, 1e-6, &rep),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-6, NULL),
                     FOLD_ERR_ARGUMENT);
    /* lam = NULL means zeros: the constraint Hessians are not exercised, still all good. */
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, NULL, 1e-6, 1e-6, &rep),
                     FOLD_OK);
    /* A failing callback: the call fails naming it, rep an empty report (not stale). */
    d.fail_g = true;
    memset(&rep, 0x5a, sizeof rep);
    rep.size = sizeof rep;
    ck_assert_status(fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-6, &rep),
                     FOLD_ERR_CALLBACK);
    ck_assert_error_mentions("callback g");
    ck_assert_int_eq(rep.n_checked, 0);
    ck_assert_str_eq(rep.worst_function, "");
    /* Allocation failure. */
    d.fail_g = false;
    fold_alloc_fail_after(1);
    fold_status st = fold_problem_check_derivatives(prob, X, NULL, LAM, 1e-6, 1e-6, &rep);
    fold_alloc_fail_after(-1);
    ck_assert_status(st, FOLD_ERR_MEMORY);
    fold_problem_free(prob);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("derivcheck");
    TCase *tc = tcase_create("derivcheck");
    tcase_add_test(tc, builtins_pass);
    tcase_add_test(tc, test_problem_passes);
    tcase_add_test(tc, wrong_entries_located);
    tcase_add_test(tc, missing_pattern_entry);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(suite());
}
