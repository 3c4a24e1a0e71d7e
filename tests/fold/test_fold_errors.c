/* The KKT fold's refusals and warnings: weakly active constraints and bounds under each
 * policy, singular KKT with and without the least-squares fallback, unconverged input, and
 * table-driven bad arguments (outputs untouched on error). doc/api/fold.md. */
#include "basic/basic.h"
#include "fold_test_util.h"

static fold_rp *make_variant(int seed, bool weak_cons, bool weak_bound, bool dup)
{
    fold_rp_options o = {.n = 12,
                         .m = 6,
                         .np = 4,
                         .nonlinear = seed % 2,
                         .weak_cons = weak_cons,
                         .weak_bound = weak_bound,
                         .duplicate = dup};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(500 + (unsigned)seed, &o, &rp), FOLD_OK);
    return rp;
}

/* _i: 0 weak constraint, 1 weak bound; refused under active_set.ambiguity = refuse; the
 * inactive and active weak policies give the two one-sided derivatives; by default both are
 * computed: the entries where they differ are NaN, reported uncertain with both values, the
 * others returned, and the weak side is named with the entries it moves. */
START_TEST(weakly_active)
{
    bool cons = _i % 2 == 0;
    fold_rp *rp = make_variant(_i, cons, !cons, false);
    fold_int n, m, np, count = -1;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    double *dp = calloc((size_t)np, 8), *dx = calloc((size_t)n, 8);
    double *side[2] = {calloc((size_t)n, 8), calloc((size_t)n, 8)};
    fold_weak_entry list[4];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_settings s;
    dp[0] = 1;
    dx[0] = 12345;
    fold_settings_default(&s);
    s.active_set.ambiguity = FOLD_AMBIGUITY_REFUSE;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_DEGENERATE);
    ck_assert_error_mentions("weakly active");
    ck_assert_error_mentions(cons ? "constraint" : "variable");
    ck_assert_double_eq(dx[0], 12345); /* nothing written */
    ck_assert_status(fold_weak_list(solver, list, 4, sizeof *list, &count), FOLD_OK);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(list[0].kind, cons ? 0 : 2);
    ck_assert_int_eq(list[0].index, cons ? fold_rp_weak_constraint(rp) : fold_rp_weak_variable(rp));
    ck_assert_double_eq(list[0].multiplier, 0.0);
    ck_assert_double_le(fabs(list[0].distance), 1e-12);
    fold_solver_free(solver);
    s.active_set.ambiguity = FOLD_AMBIGUITY_RESOLVE;
    for (int policy = FOLD_WEAK_INACTIVE; policy <= FOLD_WEAK_ACTIVE; policy++) {
        s.active_set.weak_policy = policy;
        solver = fold_test_rp_solver(rp, &s);
        ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = side[policy - 1]}, &info),
                         FOLD_WARN_ONE_SIDED);
        ck_assert(info.is_one_sided);
        ck_assert_int_eq(info.n_weak, 1);
        ck_assert(isfinite(side[policy - 1][0]));
        fold_solver_free(solver);
    }
    /* Default: both classifications. */
    s.active_set.weak_policy = FOLD_WEAK_REFUSE;
    solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_WARN_UNCERTAIN);
    ck_assert_error_mentions(cons ? "g[" : "x[");
    ck_assert_int_eq(info.n_candidates, 1);
    ck_assert_int_eq(info.n_variants, 1);
    const fold_trust_item *items;
    fold_int n_items, n_diff = 0, weak_item = -1;
    double scale = 0;
    ck_assert_status(fold_trust_report(solver, &items, &n_items), FOLD_OK);
    for (fold_int j = 0; j < n; j++)
        scale = fmax(scale, fabs(side[0][j]));
    for (fold_int k = 0; k < n_items; k++)
        if (items[k].kind == FOLD_TRUST_WEAK) weak_item = k;
    ck_assert_int_ge(weak_item, 0);
    ck_assert_int_eq(items[weak_item].index,
                     cons ? fold_rp_weak_constraint(rp) : fold_rp_weak_variable(rp));
    ck_assert_int_eq(items[weak_item].item, cons ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE);
    ck_assert_ptr_nonnull(strstr(items[weak_item].name, cons ? "g[" : "x["));
    for (fold_int j = 0; j < n; j++) {
        double a = side[0][j], b = side[1][j];
        if (fabs(a - b) <= 1e-10 * scale) {
            ck_assert_double_le(fabs(dx[j] - a), 1e-9 * fmax(1, scale));
            continue;
        }
        n_diff++;
        ck_assert(isnan(dx[j]));
        fold_int it = -1;
        for (fold_int k = 0; k < n_items; k++)
            if (items[k].kind == FOLD_TRUST_UNCERTAIN && items[k].row == j &&
                items[k].block == FOLD_BLOCK_X)
                it = k;
        ck_assert_int_ge(it, 0);
        ck_assert_double_le(fabs(items[it].lo - fmin(a, b)), 1e-9 * fmax(1, scale));
        ck_assert_double_le(fabs(items[it].hi - fmax(a, b)), 1e-9 * fmax(1, scale));
        bool listed = false;
        for (fold_int q = 0; q < items[weak_item].n_affected; q++)
            listed |= items[weak_item].affected[q] == j;
        ck_assert(listed);
    }
    ck_assert_int_gt(n_diff, 0);
    ck_assert_int_eq(info.n_uncertain, n_diff);
    ck_assert_int_eq(items[weak_item].n_affected, n_diff);
    fold_solver_free(solver);
    free(side[0]);
    free(side[1]);
    /* The barrier form is defined at weakly active points: no refusal. */
    s.active_set.weak_policy = FOLD_WEAK_REFUSE;
    s.backward.kkt_form = FOLD_KKT_BARRIER;
    solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert_int_eq(info.n_weak, 1);
    fold_solver_free(solver);
    free(dp);
    free(dx);
    fold_rp_free(rp);
}
END_TEST

/* A duplicated equality: singular with a null space in the dual block. By default the two
 * multipliers' changes are undetermined (NaN, counted, FOLD_WARN_NOT_UNIQUE) and the rest is
 * returned; refused under not_unique = refuse or without regularization; the least-squares
 * fallback splits dlam evenly. */
START_TEST(duplicate_constraint)
{
    fold_rp *rp = make_variant(_i, false, false, true);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    double *dp = calloc((size_t)np, 8), *dx = calloc((size_t)n, 8), *dlam = calloc((size_t)m, 8);
    double *pbar = calloc((size_t)np, 8);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_settings s;
    fold_settings_default(&s);
    s.backward.factorization = FOLD_FACTOR_UMFPACK;
    for (int k = 0; k < np; k++)
        dp[k] = 1.0 + k;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = dlam}, &info),
                     FOLD_WARN_NOT_UNIQUE);
    ck_assert_error_mentions("not unique");
    ck_assert_int_eq(info.n_not_unique, 2);
    ck_assert(isnan(dlam[0]) && isnan(dlam[m - 1]));
    for (fold_int i = 1; i < m - 1; i++)
        ck_assert(isfinite(dlam[i]));
    for (fold_int j = 0; j < n; j++)
        ck_assert(isfinite(dx[j]));
    ck_assert_double_gt(info.singular_delta, 0);
    fold_solver_free(solver);
    s.backward.not_unique = FOLD_NOT_UNIQUE_REFUSE;
    solver = fold_test_rp_solver(rp, &s);
    dlam[1] = 7.0;
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = dlam}, &info),
                     FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not unique");
    ck_assert_error_mentions("g[0]");
    ck_assert_double_eq(dlam[1], 7.0); /* nothing written */
    fold_solver_free(solver);
    s.backward.not_unique = FOLD_NOT_UNIQUE_NAN;
    s.backward.singular_reg = 0;
    solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = dlam}, &info),
                     FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("fold_jvp");
    ck_assert_int_gt(info.dim, 0);
    ck_assert_int_ge(info.n_active_cons, 2);
    fold_solver_free(solver);
    for (int reg = 0; reg < 2; reg++) {
        s.backward.singular_reg = reg ? 1e-12 : 0;
        s.backward.lsq_fallback = true;
        solver = fold_test_rp_solver(rp, &s);
        ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = dlam}, &info),
                         FOLD_WARN_LEAST_SQUARES);
        ck_assert(info.is_least_squares);
        ck_assert_double_le(fabs(dlam[0] - dlam[m - 1]), 1e-8 * (1 + fabs(dlam[0])));
        ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = dx}, pbar, &info),
                         FOLD_WARN_LEAST_SQUARES);
        ck_assert(info.reused_factorization);
        fold_solver_free(solver);
    }
    free(dp);
    free(dx);
    free(dlam);
    free(pbar);
    fold_rp_free(rp);
}
END_TEST

static const double pqp_p[FOLD_PQP_N + 1] = {1.0, -2.0, 0.5, 3.0, 1.5, 2.0};

static fold_solver *pqp(fold_problem **prob, const fold_settings *s, bool converged)
{
    double x[FOLD_PQP_N], lam, zero[FOLD_PQP_N] = {0};
    fold_solver *solver;
    ck_assert_status(fold_pqp_create(prob), FOLD_OK);
    ck_assert_status(fold_solver_create(*prob, s, &solver), FOLD_OK);
    fold_pqp_solution(pqp_p, x, &lam, NULL);
    fold_solver_store(solver, pqp_p, x, &lam, zero, zero, 0.0, converged);
    return solver;
}

START_TEST(unconverged)
{
    fold_problem *prob;
    fold_settings s;
    double dp[6] = {1, 0, 0, 0, 0, 0}, dx[5], g[6];
    fold_settings_default(&s);
    fold_solver *solver = pqp(&prob, &s, false);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_ERR_NOT_SOLVED);
    ck_assert_error_mentions("allow_unconverged");
    ck_assert_status(fold_value_gradient(solver, g), FOLD_ERR_NOT_SOLVED);
    s.backward.allow_unconverged = true;
    ck_assert_status(fold_solver_update_settings(solver, &s), FOLD_OK);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_WARN_UNCONVERGED_INPUT);
    ck_assert_status(fold_value_gradient(solver, g), FOLD_WARN_UNCONVERGED_INPUT);
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

START_TEST(not_solved_and_method)
{
    fold_problem *prob;
    fold_solver *solver;
    fold_settings s;
    double dp[6] = {0}, dx[5], pbar[6];
    fold_int count;
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &solver), FOLD_OK);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = dx}, pbar, NULL), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_weak_list(solver, NULL, 0, 0, &count), FOLD_OK);
    ck_assert_int_eq(count, 0);
    fold_solver_free(solver);
    fold_problem_free(prob);
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_CG; /* the KKT matrix is indefinite */
    solver = pqp(&prob, &s, true);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("cg");
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* Problem without parameter derivatives. */
static int f0(const double *x, const double *p, double *o, void *u)
{
    *o = (x[0] - p[0]) * (x[0] - p[0]);
    return 0;
}
static int g0(const double *x, const double *p, double *g, void *u)
{
    g[0] = 2 * (x[0] - p[0]);
    return 0;
}
static int h0(const double *x, const double *p, double s, const double *l, double *v, void *u)
{
    v[0] = 2 * s;
    return 0;
}

START_TEST(missing_derivative)
{
    static const fold_int d[1] = {0};
    fold_nlp_def def = {
        .n = 1, .np = 1, .hess_l = {1, d, d}, .cb = {.f = f0, .grad_f = g0, .hess_l = h0}};
    fold_problem *prob;
    fold_solver *solver;
    double x = 0, z = 0, p = 0, dp = 1, dx;
    ck_assert_status(fold_problem_create(&def, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &solver), FOLD_OK);
    fold_solver_store(solver, &p, &x, NULL, &z, &z, 0.0, true);
    ck_assert_status(fold_jvp(solver, &dp, &(fold_dz){.x = &dx}, NULL),
                     FOLD_ERR_MISSING_DERIVATIVE);
    ck_assert_error_mentions("grad_f_p");
    ck_assert_status(fold_value_gradient(solver, &dx), FOLD_ERR_MISSING_DERIVATIVE);
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* Table of bad arguments: status, message, and J / outputs untouched. */
START_TEST(bad_arguments)
{
    fold_problem *prob;
    fold_solver *solver = pqp(&prob, NULL, true);
    double dp[6] = {0, 0, NAN, 0, 0, 0}, xbar[5] = {0, INFINITY, 0, 0, 0}, out[30], pbar[6];
    fold_int rows_bad[2] = {0, 5}, rows_rep[2] = {1, 1}, cols_ok[2] = {0, 1};
    for (int k = 0; k < 30; k++)
        out[k] = -7;
    ck_assert_status(fold_jvp(NULL, dp, &(fold_dz){.x = out}, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_jvp(solver, NULL, &(fold_dz){.x = out}, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("dp is NULL");
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = out}, NULL), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("dp[2]");
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("zbar.x[1]");
    ck_assert_status(fold_vjp(solver, NULL, NULL, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("pbar");
    ck_assert_status(
        fold_jacobian(
            solver,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = 2, .rows = rows_bad, .n_cols = 2, .cols = cols_ok},
            out, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("rows[1] = 5 outside [0,5)");
    ck_assert_status(
        fold_jacobian(
            solver,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = 2, .rows = rows_rep, .n_cols = 2, .cols = cols_ok},
            out, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("repeated");
    ck_assert_status(
        fold_jacobian(
            solver,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_LAM, .n_rows = 2, .rows = rows_rep, .n_cols = 2, .cols = cols_ok},
            out, NULL),
        FOLD_ERR_DIMENSION);
    ck_assert_status(
        fold_jacobian(
            solver,
            &(fold_jacobian_sel){
                .of = (fold_block)7, .n_rows = 1, .rows = rows_bad, .n_cols = 2, .cols = cols_ok},
            out, NULL),
        FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("of = 7");
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 4, .n_cols = 6},
                      out, NULL),
        FOLD_ERR_DIMENSION);
    ck_assert_error_mentions("n_rows = 4");
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 5, .n_cols = 5},
                      out, NULL),
        FOLD_ERR_DIMENSION);
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 5, .n_cols = 6},
                      NULL, NULL),
        FOLD_ERR_ARGUMENT);
    for (int k = 0; k < 30; k++)
        ck_assert_double_eq(out[k], -7);
    ck_assert_status(fold_weak_list(solver, NULL, 3, sizeof(fold_weak_entry), rows_bad),
                     FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_weak_list(solver, NULL, 0, 0, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_value_gradient(NULL, pbar), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_value_gradient(solver, NULL), FOLD_ERR_ARGUMENT);
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* fold_jacobian_sel's defaults: fields left out select every entry (rows NULL with n_rows 0:
 * the whole block; cols NULL with n_cols 0: every parameter; sel NULL: all of x), the same
 * numbers as the explicit lists. */
START_TEST(jacobian_selection_defaults)
{
    fold_problem *prob;
    fold_solver *solver = pqp(&prob, NULL, true);
    double all[30], listed[30], whole[30];
    fold_int rows[5] = {0, 1, 2, 3, 4}, cols[6] = {0, 1, 2, 3, 4, 5};
    ck_assert_status(fold_jacobian(solver, NULL, all, NULL), FOLD_OK);
    ck_assert_status(
        fold_jacobian(solver,
                      &(fold_jacobian_sel){.n_rows = 5, .rows = rows, .n_cols = 6, .cols = cols},
                      listed, NULL),
        FOLD_OK);
    ck_assert_status(fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X}, whole, NULL),
                     FOLD_OK);
    for (int k = 0; k < 30; k++) {
        ck_assert_double_eq(all[k], listed[k]);
        ck_assert_double_eq(all[k], whole[k]);
    }
    ck_assert_status(
        fold_jacobian(solver, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 3}, whole, NULL),
        FOLD_ERR_DIMENSION);
    ck_assert_error_mentions("(0: all)");
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

/* Allocation failure at every fold_malloc of a first jvp/vjp (fresh state): FOLD_ERR_MEMORY
 * or success, outputs untouched on failure, and the solver usable afterwards. */
START_TEST(allocation_failure)
{
    fold_rp_options o = {.n = 10, .m = 5, .np = 3, .nonlinear = true};
    fold_rp *rp = NULL;
    double dp[3] = {1, -1, 0.5}, dx[10], ref[10], pbar[3];
    int failures = 0;
    ck_assert_status(fold_rp_create(77, &o, &rp), FOLD_OK);
    fold_solver *solver = fold_test_rp_solver(rp, NULL);
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = ref}, NULL), FOLD_OK);
    fold_solver_free(solver);
    for (long k = 0; k < 200; k++) {
        fold_status st;
        solver = fold_test_rp_solver(rp, NULL);
        for (int j = 0; j < 10; j++)
            dx[j] = -99;
        fold_alloc_fail_after(k);
        st = fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL);
        fold_alloc_fail_after(-1);
        if (st == FOLD_OK) {
            fold_solver_free(solver);
            break;
        }
        failures++;
        ck_assert_msg(st == FOLD_ERR_MEMORY, "k = %ld: %s: %s", k, fold_status_name(st),
                      fold_last_error());
        for (int j = 0; j < 10; j++)
            ck_assert_double_eq(dx[j], -99);
        /* The same solver recovers once memory is available again. */
        ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_OK);
        ck_assert_double_le(fold_test_vec_relerr(dx, ref, 10, 1.0), 1e-12);
        fold_alloc_fail_after(k);
        st = fold_vjp(solver, &(fold_zbar){.x = dx}, pbar, NULL);
        fold_alloc_fail_after(-1);
        ck_assert(st == FOLD_OK || st == FOLD_ERR_MEMORY);
        fold_solver_free(solver);
    }
    ck_assert_int_gt(failures, 5);
    fold_rp_free(rp);
}
END_TEST

Suite *fold_errors_suite(void);
Suite *fold_errors_suite(void)
{
    Suite *s = suite_create("fold_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_loop_test(tc, weakly_active, 0, 4);
    tcase_add_loop_test(tc, duplicate_constraint, 0, 2);
    tcase_add_test(tc, unconverged);
    tcase_add_test(tc, not_solved_and_method);
    tcase_add_test(tc, missing_derivative);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, jacobian_selection_defaults);
    tcase_add_test(tc, allocation_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(fold_errors_suite());
}
