/* The KKT fold of problems given by products (doc/api/problem.md "Hessian forms", doc/math.md
 * §3.9 eqs. 3.24-3.25) on random problems with equality, inequality and bound constraints and
 * known solutions: the matrix-free fold (FOLD_HESS_PRODUCT, MINRES and GMRES with the block
 * preconditioner without H) agrees with the triplet form's direct fold in both KKT forms, for
 * every output of the JVP and the VJP, and satisfies the adjoint identity; d(grad_x L)/dp by
 * hess_lp_v gives the same JVP, VJP and Jacobian as its pattern; the validation. */
#include "fold_test_util.h"

#define N_SEEDS 4
#define AGREE_TOL 1e-8

static fold_rp *make_rp(int seed, bool nonlinear)
{
    fold_rp_options o = {
        .n = 14 + seed % 7, .m = 5 + seed % 4, .np = 4 + seed % 3, .nonlinear = nonlinear};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(7000 + (unsigned)seed, &o, &rp), FOLD_OK);
    return rp;
}

/* A solver of prob (rp's problem in another form) at rp's known solution. */
static fold_solver *solver_at(const fold_rp *rp, const fold_problem *prob, const fold_settings *s)
{
    const double *p0, *x, *lam, *zl, *zu;
    fold_solver *solver = NULL;
    ck_assert_status(fold_solver_create(prob, s, &solver), FOLD_OK);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    fold_solver_store(solver, p0, x, lam, zl, zu, fold_rp_objective(rp, x, p0), true);
    return solver;
}

/* The JVP (dx, dzl, dzu, dlam: 3 n + m) along dp and the VJP (np) of bar (same layout). */
static void run_both(fold_solver *solver, fold_int n, const double *dp, const double *bar,
                     double *jvp, double *vjp, fold_backward_info *jinfo, fold_backward_info *vinfo)
{
    fold_status st =
        fold_jvp(solver, dp,
                 &(fold_dz){.x = jvp, .zl = jvp + n, .zu = jvp + 2 * n, .lam = jvp + 3 * n}, jinfo);
    ck_assert_msg(st == FOLD_OK, "jvp: %s", fold_last_error());
    st = fold_vjp(solver,
                  &(fold_zbar){.x = bar, .zl = bar + n, .zu = bar + 2 * n, .lam = bar + 3 * n}, vjp,
                  vinfo);
    ck_assert_msg(st == FOLD_OK, "vjp: %s", fold_last_error());
}

/* Matrix-free MINRES and GMRES against the direct fold of the triplet form. */
START_TEST(test_matrix_free_agrees)
{
    int seed = _i / 2, form = _i % 2;
    fold_rp *rp = make_rp(seed, seed % 2);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_int len = 3 * n + m;
    double *dp = calloc((size_t)np, 8), *bar = calloc((size_t)len, 8);
    double *rj = calloc((size_t)len, 8), *rv = calloc((size_t)np, 8);
    double *jv = calloc((size_t)len, 8), *vv = calloc((size_t)np, 8);
    fold_test_rng r;
    fold_test_rng_seed(&r, 40 + (unsigned)_i);
    fold_test_fill_normal(&r, dp, np);
    fold_test_fill_normal(&r, bar, len);
    fold_settings s = fold_test_tight_settings();
    s.backward.kkt_form = form;
    fold_solver *ref = fold_test_rp_solver(rp, &s);
    run_both(ref, n, dp, bar, rj, rv, NULL, NULL);
    fold_solver_free(ref);
    fold_problem *pp = NULL;
    ck_assert_status(fold_rp_products(rp, true, true, &pp), FOLD_OK);
    ck_assert_int_eq(fold_problem_hess_form(pp), FOLD_HESS_PRODUCT);
    const fold_backward_method ms[2] = {FOLD_BACKWARD_MINRES, FOLD_BACKWARD_GMRES};
    for (int k = 0; k < 2; k++) {
        fold_settings t;
        fold_settings_default(&t);
        t.backward.kkt_form = form;
        t.backward.method = ms[k];
        t.backward.tol = 1e-13; /* random K of condition up to ~1e7 (fold_test_util.h) */
        fold_backward_info ji = FOLD_BACKWARD_INFO_INIT, vi = FOLD_BACKWARD_INFO_INIT;
        fold_solver *solver = solver_at(rp, pp, &t);
        run_both(solver, n, dp, bar, jv, vv, &ji, &vi);
        ck_assert_int_eq(vi.precond, FOLD_PRECOND_BLOCK);
        ck_assert_int_gt(vi.iterations, 0);
        /* the estimate (first call), one per iteration and a few for the residual and the dz /
         * bound terms, per solve (the barrier form's extrapolation solves again, n_variants) */
        ck_assert_int_le(ji.n_hess_products,
                         2 * FOLD_HESS_DIAG_PROBES + (1 + ji.n_variants) * (ji.iterations + 4));
        ck_assert_int_le(vi.n_hess_products, (1 + vi.n_variants) * (vi.iterations + 4));
        double ej = fold_test_vec_relerr(jv, rj, len, 1.0),
               ev = fold_test_vec_relerr(vv, rv, np, 1.0);
        ck_assert_msg(ej <= AGREE_TOL && ev <= AGREE_TOL,
                      "seed %d form %d method %d: matrix-free jvp off by %.3g, vjp by %.3g", seed,
                      form, (int)ms[k], ej, ev);
        /* <J dp, zbar> = <dp, J' zbar> over every output */
        double lhs = fold_test_dot(jv, bar, len), rhs = fold_test_dot(dp, vv, np);
        ck_assert_msg(fabs(lhs - rhs) <= AGREE_TOL * fmax(1.0, fabs(rhs)),
                      "seed %d form %d method %d: <J dp, zbar> = %.15g, <dp, J' zbar> = %.15g",
                      seed, form, (int)ms[k], lhs, rhs);
        /* the direct method of the same solver (H assembled from n products) */
        t.backward.method = FOLD_BACKWARD_DIRECT;
        ck_assert_status(fold_solver_update_settings(solver, &t), FOLD_OK);
        run_both(solver, n, dp, bar, jv, vv, &ji, &vi);
        /* assembled once (kept for the vjp), and the classification's diagonal estimate */
        ck_assert_int_eq(ji.n_hess_products, n + FOLD_HESS_DIAG_PROBES);
        ck_assert_int_eq(vi.n_hess_products, 0);
        ej = fold_test_vec_relerr(jv, rj, len, 1.0);
        ev = fold_test_vec_relerr(vv, rv, np, 1.0);
        ck_assert_msg(ej <= AGREE_TOL && ev <= AGREE_TOL,
                      "seed %d form %d: assembled product form jvp off by %.3g, vjp by %.3g", seed,
                      form, ej, ev);
        fold_solver_free(solver);
    }
    fold_problem_free(pp);
    fold_rp_free(rp);
    free(dp);
    free(bar);
    free(rj);
    free(rv);
    free(jv);
    free(vv);
}
END_TEST

/* d(grad_x L)/dp by hess_lp_v: JVP, VJP and the Jacobian of x equal to the pattern form's. */
START_TEST(test_cross_term_products)
{
    int seed = _i;
    fold_rp *rp = make_rp(seed, true);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_int len = 3 * n + m;
    double *dp = calloc((size_t)np, 8), *bar = calloc((size_t)len, 8);
    double *rj = calloc((size_t)len, 8), *rv = calloc((size_t)np, 8);
    double *jv = calloc((size_t)len, 8), *vv = calloc((size_t)np, 8);
    double *J1 = calloc((size_t)(n * np), 8), *J2 = calloc((size_t)(n * np), 8);
    double *L1 = calloc((size_t)(m * np), 8), *L2 = calloc((size_t)(m * np), 8);
    fold_test_rng r;
    fold_test_rng_seed(&r, 90 + (unsigned)seed);
    fold_test_fill_normal(&r, dp, np);
    fold_test_fill_normal(&r, bar, len);
    fold_settings s = fold_test_tight_settings();
    fold_solver *ref = fold_test_rp_solver(rp, &s);
    run_both(ref, n, dp, bar, rj, rv, NULL, NULL);
    ck_assert_status(fold_jacobian(ref, NULL, J1, NULL), FOLD_OK);
    fold_jacobian_sel lam_sel = {.of = FOLD_BLOCK_LAM};
    ck_assert_status(fold_jacobian(ref, &lam_sel, L1, NULL), FOLD_OK);
    /* one row, two columns: reverse mode with selected parameters (fold_kkt_finish_vjp) */
    fold_int row0 = 1, cols[2] = {0, 2};
    fold_jacobian_sel few = {
        .of = FOLD_BLOCK_X, .n_rows = 1, .rows = &row0, .n_cols = 2, .cols = cols};
    double S1[2], S2[2];
    ck_assert_status(fold_jacobian(ref, &few, S1, NULL), FOLD_OK);
    fold_solver_free(ref);
    fold_problem *pl = NULL;
    ck_assert_status(fold_rp_products(rp, false, true, &pl), FOLD_OK);
    fold_solver *solver = solver_at(rp, pl, &s);
    run_both(solver, n, dp, bar, jv, vv, NULL, NULL);
    ck_assert_status(fold_jacobian(solver, NULL, J2, NULL), FOLD_OK);
    ck_assert_status(fold_jacobian(solver, &lam_sel, L2, NULL), FOLD_OK);
    ck_assert_status(fold_jacobian(solver, &few, S2, NULL), FOLD_OK);
    double eS = fold_test_vec_relerr(S2, S1, 2, 1.0);
    ck_assert_msg(eS < 1e-12, "seed %d: selected entries by hess_lp_v off by %.3g", seed, eS);
    double ej = fold_test_vec_relerr(jv, rj, len, 1.0), ev = fold_test_vec_relerr(vv, rv, np, 1.0);
    double eJ = fold_test_vec_relerr(J2, J1, n * np, 1.0);
    double eL = fold_test_vec_relerr(L2, L1, m * np, 1.0);
    ck_assert_msg(ej < 1e-12 && ev < 1e-12 && eJ < 1e-12 && eL < 1e-12,
                  "seed %d: hess_lp_v vs pattern: jvp %.3g, vjp %.3g, jacobian of x %.3g, of "
                  "lam %.3g",
                  seed, ej, ev, eJ, eL);
    ck_assert(fold_problem_has_param_derivatives(pl));
    fold_solver_free(solver);
    fold_problem_free(pl);
    fold_rp_free(rp);
    free(dp);
    free(bar);
    free(rj);
    free(rv);
    free(jv);
    free(vv);
    free(J1);
    free(J2);
    free(L1);
    free(L2);
}
END_TEST

/* f = x^2 + 3 p x: L_xp = 3; the product multiplies by *(double *)ud (3: right). */
static int lp_v(const double *x, const double *p, const double *lam, int transpose, const double *v,
                double *out, void *ud)
{
    (void)x, (void)p, (void)lam, (void)transpose;
    out[0] = *(const double *)ud * v[0];
    return 0;
}

static int f1(const double *x, const double *p, double *obj, void *ud)
{
    (void)ud;
    *obj = x[0] * x[0] + 3 * p[0] * x[0];
    return 0;
}

static int g1(const double *x, const double *p, double *g, void *ud)
{
    (void)ud;
    g[0] = 2 * x[0] + 3 * p[0];
    return 0;
}

/* hess_lp_v and a non-empty hess_lp pattern are one or the other; the derivative checker
 * compares the products with differences of grad_x L. */
START_TEST(test_cross_term_validation)
{
    fold_int zero = 0;
    double coef = 3.0, x = 0.5, p = 0.25;
    fold_nlp_def d = {
        .n = 1, .np = 1, .hess_lp = {1, &zero, &zero}, .hess_lp_v = lp_v, .user_data = &coef};
    d.cb = (fold_nlp_callbacks){.f = f1, .grad_f = g1};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("hess_lp_v is also given");
    ck_assert_ptr_null(prob);
    d.hess_lp = (fold_pattern){0, NULL, NULL};
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    ck_assert_status(fold_problem_check_derivatives(prob, &x, &p, NULL, 1e-6, 1e-5, &rep), FOLD_OK);
    ck_assert_int_eq(rep.n_checked, 2); /* grad_f and the one entry of L_xp */
    coef = 2.0;                         /* a wrong product */
    ck_assert_status(fold_problem_check_derivatives(prob, &x, &p, NULL, 1e-6, 1e-5, &rep),
                     FOLD_WARN_INACCURATE);
    ck_assert_str_eq(rep.worst_function, "hess_lp_v");
    ck_assert_double_eq_tol(rep.worst_fd, 3.0, 1e-6);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hess_product");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_matrix_free_agrees, 0, 2 * N_SEEDS);
    tcase_add_loop_test(tc, test_cross_term_products, 0, N_SEEDS);
    tcase_add_test(tc, test_cross_term_validation);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
