/* fold_problem_create: every validation rule, copies, and the built-in problems. */
#include "test_support.h"
#include "basic/basic.h"

static int f1(const double *x, const double *p, double *obj, void *ud)
{
    *obj = x[0] * x[0] + x[1] * x[1];
    return 0;
}
static int g1(const double *x, const double *p, double *obj, void *ud)
{
    obj[0] = x[0] + x[1];
    return 0;
}
static int v1(const double *x, const double *p, double *v, void *ud)
{
    v[0] = v[1] = 1;
    return 0;
}
static int h1(const double *x, const double *p, double s, const double *lam, double *v, void *ud)
{
    v[0] = v[1] = 2 * s;
    return 0;
}

static fold_int jr[2] = {0, 0}, jc[2] = {0, 1}, hr[2] = {0, 1}, hc[2] = {0, 1};
static double xl[2] = {0, 0}, xu[2] = {1, 1}, gl[1] = {1}, gu[1] = {1}, pd[1] = {0.5};
static fold_int kinds_ok[2] = {0, 1};

static fold_nlp_def good_def(void)
{
    fold_nlp_def d = {.name = "tiny",
                      .n = 2,
                      .m = 1,
                      .np = 1,
                      .x_lower = xl,
                      .x_upper = xu,
                      .g_lower = gl,
                      .g_upper = gu,
                      .p_default = pd,
                      .jac_g = {2, jr, jc},
                      .hess_l = {2, hr, hc},
                      .cb = {.f = f1, .grad_f = v1, .g = g1, .jac_g = v1, .hess_l = h1}};
    return d;
}

START_TEST(good_problem)
{
    fold_nlp_def d = good_def();
    fold_problem *prob = NULL;
    fold_int n, m, np;
    double p;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_problem_dims(prob, &n, &m, &np);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(m, 1);
    ck_assert_int_eq(np, 1);
    fold_problem_default_params(prob, &p);
    ck_assert_double_eq(p, 0.5);
    ck_assert(!fold_problem_has_param_derivatives(prob));
    fold_problem_free(prob);
    fold_problem_free(NULL);
    d.x_kind = kinds_ok; /* one kind per variable */
    d.n_x_kinds = 2;
    static const fold_int pkind_ok[1] = {1};
    d.p_kind = pkind_ok;
    d.n_p_kinds = 2;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_problem_free(prob);
}
END_TEST

typedef struct {
    const char *label;
    void (*mutate)(fold_nlp_def *d);
    fold_status expected;
    const char *mentions;
} bad_case;

static fold_int bad_row[2] = {0, 3}, dup_col[2] = {1, 1}, upper_r[2] = {0, 0}, upper_c[2] = {0, 1};
static double nan_lo[2] = {0, NAN}, crossed_lo[2] = {2, 0}, inf_start[2] = {0, INFINITY};
static double nan_p[1] = {NAN}, plus_inf_lo[1] = {INFINITY};

static void m_n0(fold_nlp_def *d)
{
    d->n = 0;
}
static void m_mneg(fold_nlp_def *d)
{
    d->m = -1;
}
static void m_row(fold_nlp_def *d)
{
    d->jac_g.row = bad_row;
}
static void m_dup(fold_nlp_def *d)
{
    d->jac_g.col = dup_col;
}
static void m_upper(fold_nlp_def *d)
{
    d->hess_l.row = upper_r;
    d->hess_l.col = upper_c;
}
static void m_nanb(fold_nlp_def *d)
{
    d->x_lower = nan_lo;
}
static void m_cross(fold_nlp_def *d)
{
    d->x_lower = crossed_lo;
}
static void m_start(fold_nlp_def *d)
{
    d->x_start = inf_start;
}
static void m_nanp(fold_nlp_def *d)
{
    d->p_default = nan_p;
}
static void m_nof(fold_nlp_def *d)
{
    d->cb.f = NULL;
}
static void m_nog(fold_nlp_def *d)
{
    d->cb.g = NULL;
}
static void m_nojac(fold_nlp_def *d)
{
    d->cb.jac_g = NULL;
}
static void m_nohess(fold_nlp_def *d)
{
    d->cb.hess_l = NULL;
}
static void m_nnzneg(fold_nlp_def *d)
{
    d->jac_g.nnz = -2;
}
static void m_nullrow(fold_nlp_def *d)
{
    d->jac_g.row = NULL;
}
static void m_infglo(fold_nlp_def *d)
{
    d->g_lower = plus_inf_lo;
}
static void m_gpnocb(fold_nlp_def *d)
{
    d->jac_g_p = (fold_pattern){1, jr, jr};
}
static fold_int kinds_high[2] = {0, 2}, kinds_neg[2] = {-1, 0};
static void m_kind_high(fold_nlp_def *d)
{
    d->x_kind = kinds_high;
    d->n_x_kinds = 2;
}
static void m_kind_neg(fold_nlp_def *d)
{
    d->x_kind = kinds_neg;
    d->n_x_kinds = 2;
}
static void m_kind_count(fold_nlp_def *d)
{
    d->x_kind = kinds_ok;
}
static void m_kind_null(fold_nlp_def *d)
{
    d->n_x_kinds = 2;
}
static void m_kind_negcount(fold_nlp_def *d)
{
    d->n_x_kinds = -1;
}
static fold_int pkind_high[1] = {3};
static void m_pkind_high(fold_nlp_def *d)
{
    d->p_kind = pkind_high;
    d->n_p_kinds = 3;
}
static void m_pkind_count(fold_nlp_def *d)
{
    d->p_kind = pkind_high;
}
static void m_pkind_negcount(fold_nlp_def *d)
{
    d->n_p_kinds = -2;
}

static const bad_case bad_cases[] = {
    {"n = 0", m_n0, FOLD_ERR_DIMENSION, "n = 0"},
    {"m < 0", m_mneg, FOLD_ERR_DIMENSION, "m = -1"},
    {"row out of range", m_row, FOLD_ERR_SPARSITY, "jac_g.row[1] = 3 outside [0,1)"},
    {"duplicate", m_dup, FOLD_ERR_SPARSITY, "jac_g entries 0 and 1"},
    {"upper triangle", m_upper, FOLD_ERR_SPARSITY, "upper triangle"},
    {"NaN bound", m_nanb, FOLD_ERR_NONFINITE, "x_lower[1] is NaN"},
    {"crossed bounds", m_cross, FOLD_ERR_ARGUMENT, "x_lower[0] = 2 > x_upper[0] = 1"},
    {"Inf start", m_start, FOLD_ERR_NONFINITE, "x_start[1]"},
    {"NaN parameter", m_nanp, FOLD_ERR_NONFINITE, "p_default[0]"},
    {"no f", m_nof, FOLD_ERR_ARGUMENT, "cb.f"},
    {"no g", m_nog, FOLD_ERR_ARGUMENT, "cb.g"},
    {"no jac_g", m_nojac, FOLD_ERR_ARGUMENT, "cb.jac_g"},
    {"hess pattern, no callback", m_nohess, FOLD_ERR_ARGUMENT, "cb.hess_l"},
    {"negative nnz", m_nnzneg, FOLD_ERR_SPARSITY, "jac_g.nnz"},
    {"NULL rows", m_nullrow, FOLD_ERR_ARGUMENT, "jac_g.row"},
    {"+inf lower bound", m_infglo, FOLD_ERR_ARGUMENT, "g_lower[0]"},
    {"jac_g_p pattern, no callback", m_gpnocb, FOLD_ERR_ARGUMENT, "cb.jac_g_p"},
    {"kind too large", m_kind_high, FOLD_ERR_ARGUMENT,
     "x_kind[1] = 2 is outside 0 .. n_x_kinds - 1 = 1"},
    {"negative kind", m_kind_neg, FOLD_ERR_ARGUMENT, "x_kind[0] = -1"},
    {"kinds without a count", m_kind_count, FOLD_ERR_ARGUMENT, "x_kind is set but n_x_kinds = 0"},
    {"count without kinds", m_kind_null, FOLD_ERR_ARGUMENT, "x_kind is NULL but n_x_kinds = 2"},
    {"negative count", m_kind_negcount, FOLD_ERR_DIMENSION, "n_x_kinds = -1"},
    {"parameter kind too large", m_pkind_high, FOLD_ERR_ARGUMENT,
     "p_kind[0] = 3 is outside 0 .. n_p_kinds - 1 = 2"},
    {"parameter kinds without a count", m_pkind_count, FOLD_ERR_ARGUMENT,
     "p_kind is set but n_p_kinds = 0"},
    {"negative parameter kind count", m_pkind_negcount, FOLD_ERR_DIMENSION, "n_p_kinds = -2"},
};

START_TEST(bad_problem)
{
    const bad_case *bc = &bad_cases[_i];
    fold_nlp_def d = good_def();
    fold_problem *prob = (fold_problem *)&d; /* must be reset to NULL on failure */
    bc->mutate(&d);
    fold_status st = fold_problem_create(&d, &prob);
    ck_assert_msg(st == bc->expected, "%s: got %s: %s", bc->label, fold_status_name(st),
                  fold_last_error());
    ck_assert_ptr_null(prob);
    ck_assert_msg(strstr(fold_last_error(), bc->mentions), "%s: '%s' lacks '%s'", bc->label,
                  fold_last_error(), bc->mentions);
    ck_assert_msg(strstr(fold_last_error(), "fold_problem_create"), "%s: no function name",
                  bc->label);
}
END_TEST

START_TEST(null_arguments)
{
    fold_problem *prob;
    fold_nlp_def d = good_def();
    ck_assert_status(fold_problem_create(NULL, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_create(&d, NULL), FOLD_ERR_ARGUMENT);
}
END_TEST

START_TEST(allocation_failure_leaves_nothing)
{
    /* Fail each allocation of create in turn: always FOLD_ERR_MEMORY, never a leak
     * (checked by ASan/valgrind runs of this test). The kinds are copied too. */
    fold_nlp_def d = good_def();
    d.x_kind = kinds_ok;
    d.n_x_kinds = 2;
    int failures = 0;
    for (long k = 0; k < 40; k++) {
        fold_problem *prob = NULL;
        fold_alloc_fail_after(k);
        fold_status st = fold_problem_create(&d, &prob);
        fold_alloc_fail_after(-1);
        if (st == FOLD_OK) {
            fold_problem_free(prob);
            break;
        }
        ck_assert_status(st, FOLD_ERR_MEMORY);
        ck_assert_ptr_null(prob);
        failures++;
    }
    ck_assert_int_gt(failures, 5);
}
END_TEST

START_TEST(builtins_create)
{
    for (const char *const *name = fold_builtin_names(); *name; name++) {
        fold_problem *prob = NULL;
        ck_assert_status(fold_builtin_create(*name, &prob), FOLD_OK);
        ck_assert(fold_problem_has_param_derivatives(prob));
        fold_problem_free(prob);
    }
    fold_problem *prob = NULL;
    ck_assert_int_eq(fold_builtin_create("nope", &prob), FOLD_ERR_ARGUMENT);
}
END_TEST

/* A naming callback: "left", "right"; constraint 0 fails (-> default); parameter 0 gives an
 * empty name (-> default); variable 1 with the magic user data writes a long name. */
static int names(int kind, fold_int index, char *buf, size_t len, void *ud)
{
    if (kind == FOLD_ITEM_CONSTRAINT) return 1;
    if (kind == FOLD_ITEM_PARAMETER) return buf[0] = '\0', 0;
    if (ud && index == 1) {
        memset(buf, 'z', len); /* no terminator: foldopt must add one */
        return 0;
    }
    snprintf(buf, len, "%s", index == 0 ? "left" : "right");
    return 0;
}

START_TEST(item_names)
{
    fold_nlp_def d = good_def();
    fold_problem *prob = NULL;
    char buf[64];
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    /* Without a callback: the defaults. */
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 1, buf, sizeof buf), FOLD_OK);
    ck_assert_str_eq(buf, "x[1]");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_CONSTRAINT, 0, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "g[0]");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_PARAMETER, 0, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "p[0]");
    /* Arguments: buf holds "" after every refusal. */
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 2, buf, sizeof buf),
                     FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("index = 2 outside [0,2)");
    ck_assert_str_eq(buf, "");
    ck_assert_status(fold_problem_item_name(prob, 3, 0, buf, sizeof buf), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("kind = 3");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, -1, buf, sizeof buf),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_item_name(NULL, FOLD_ITEM_VARIABLE, 0, buf, sizeof buf),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 0, NULL, 8),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 0, buf, 0),
                     FOLD_ERR_ARGUMENT);
    fold_problem_free(prob);

    /* With a callback: its names, the default where it fails or gives nothing, and a name
     * cut to the caller's buffer. */
    d.item_name = names;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 1, buf, sizeof buf), FOLD_OK);
    ck_assert_str_eq(buf, "right");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 0, buf, 3), FOLD_OK);
    ck_assert_str_eq(buf, "le");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_CONSTRAINT, 0, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "g[0]");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_PARAMETER, 0, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "p[0]");
    fold_problem_free(prob);

    static int magic;
    d.user_data = &magic;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    char big[FOLD_NAME_MAX + 8];
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, 1, big, sizeof big), FOLD_OK);
    ck_assert_uint_eq(strlen(big), FOLD_NAME_MAX - 1);
    fold_problem_free(prob);
}
END_TEST

/* Library messages name items through the callback: a rejected import names the bound of
 * the variable it violates. */
START_TEST(messages_use_names)
{
    fold_nlp_def d = good_def();
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    d.item_name = names;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &solver), FOLD_OK);
    double x[2] = {1.5, -0.5}, lam = -1, z[2] = {0, 0}; /* stationary, x[1] < 0 worst */
    ck_assert_status(fold_solver_import(
                         solver, &(fold_import_point){.x = x, .lam = &lam, .zl = z, .zu = z}, NULL),
                     FOLD_ERR_NOT_KKT);
    ck_assert_error_mentions("lower bound of right");
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("problem");
    TCase *tc = tcase_create("problem");
    tcase_add_test(tc, good_problem);
    tcase_add_loop_test(tc, bad_problem, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, allocation_failure_leaves_nothing);
    tcase_add_test(tc, builtins_create);
    tcase_add_test(tc, item_names);
    tcase_add_test(tc, messages_use_names);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
