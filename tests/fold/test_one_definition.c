/* One problem definition for every solver and fold (doc/api/problem.md "Hessian forms",
 * doc/api/map.md "From a problem"): a dense box-constrained QP
 *     min 0.5 x'Qx + (q + p)'x,  -1 <= x <= 1   (n = 200, seeded, built solution first)
 * defined once per Hessian form (triplets, dense packed lower triangle, Hessian-vector
 * products) serves Ipopt + the KKT fold (direct, LFPI, GMRES) and projected gradient + its fold
 * map. Both forward solutions and every VJP agree with the closed form (the reduced system on
 * the free set solved densely) to 1e-8; JVP and VJP satisfy the adjoint identity; the
 * validation errors name what is missing. The product form's KKT fold by MINRES and GMRES is
 * matrix-free (about one product per iteration, never n), in both KKT forms, also above
 * FOLD_HESS_PRODUCT_MAX_N. */
#include "box_qp.h"
#include "fold_test_util.h"

#define N 200

/* Closed form: pbar = (dx/dp)' xbar = -Q_FF^{-1} xbar_F on the free set F, 0 elsewhere (the
 * active bounds hold x fixed). Dense Cholesky of Q_FF. */
static void reference_vjp(const box_qp *B, const double *xbar, double *pbar)
{
    fold_int n = B->n, nf = 0;
    fold_int *F = malloc((size_t)n * sizeof *F);
    for (fold_int j = 0; j < n; j++)
        if (!B->state[j]) F[nf++] = j;
    double *L = calloc((size_t)(nf * nf), sizeof *L), *y = malloc((size_t)nf * sizeof *y);
    for (fold_int a = 0; a < nf; a++)
        for (fold_int b = 0; b <= a; b++) {
            double s = B->Q[F[b] * n + F[a]];
            for (fold_int c = 0; c < b; c++)
                s -= L[a * nf + c] * L[b * nf + c];
            L[a * nf + b] = a == b ? sqrt(s) : s / L[b * nf + b];
        }
    for (fold_int a = 0; a < nf; a++) { /* L y = xbar_F */
        double s = xbar[F[a]];
        for (fold_int c = 0; c < a; c++)
            s -= L[a * nf + c] * y[c];
        y[a] = s / L[a * nf + a];
    }
    for (fold_int a = nf - 1; a >= 0; a--) { /* L' z = y */
        double s = y[a];
        for (fold_int c = a + 1; c < nf; c++)
            s -= L[c * nf + a] * y[c];
        y[a] = s / L[a * nf + a];
    }
    memset(pbar, 0, (size_t)n * sizeof *pbar);
    for (fold_int a = 0; a < nf; a++)
        pbar[F[a]] = -y[a];
    free(F);
    free(L);
    free(y);
}

/* <J dp, xbar> = <dp, J' xbar> with dx = J dp, pbar = J' xbar. */
static void check_adjoint(const double *dx, const double *xbar, const double *dp,
                          const double *pbar, fold_int n, const char *form, const char *fold)
{
    double lhs = fold_test_dot(dx, xbar, n), rhs = fold_test_dot(dp, pbar, n);
    ck_assert_msg(fabs(lhs - rhs) <= 1e-10 * fmax(1.0, fabs(rhs)),
                  "%s, %s: <J dp, xbar> = %.15g, <dp, J' xbar> = %.15g", form, fold, lhs, rhs);
}

static const fold_hess_form FORMS[3] = {FOLD_HESS_TRIPLETS, FOLD_HESS_DENSE, FOLD_HESS_PRODUCT};
static const char *FORM_NAMES[3] = {"triplets", "dense", "product"};
static const fold_backward_method METHODS[3] = {FOLD_BACKWARD_DIRECT, FOLD_BACKWARD_LFPI,
                                                FOLD_BACKWARD_GMRES};

/* Ipopt + KKT fold: forward, VJP by each method, adjoint identity; returns pbar (direct). */
static void check_kkt(box_qp *B, const fold_problem *prob, const double *xbar, const double *dp,
                      const double *ref, const char *form)
{
    fold_int n = B->n;
    fold_solver *solver = NULL;
    double *x = malloc((size_t)n * sizeof *x), *pbar = malloc((size_t)n * sizeof *pbar);
    double *dx = malloc((size_t)n * sizeof *dx);
    fold_settings set;
    fold_settings_default(&set);
    ck_assert_status(fold_solver_create(prob, &set, &solver), FOLD_OK);
    ck_assert_status(fold_solve(solver, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(solver, x, NULL, NULL, NULL, NULL), FOLD_OK);
    double ex = fold_test_vec_relerr(x, B->x, n, 1.0);
    ck_assert_msg(ex < 1e-8, "%s: Ipopt x off the built solution by %.3g", form, ex);
    for (int k = 0; k < 3; k++) {
        set.backward.method = METHODS[k];
        ck_assert_status(fold_solver_update_settings(solver, &set), FOLD_OK);
        ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_OK);
        double e = fold_test_vec_relerr(pbar, ref, n, 1.0);
        ck_assert_msg(e < 1e-8, "%s, KKT fold, method %d: VJP off the closed form by %.3g", form,
                      (int)METHODS[k], e);
    }
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_OK);
    check_adjoint(dx, xbar, dp, pbar, n, form, "KKT fold");
    fold_solver_free(solver);
    free(x);
    free(pbar);
    free(dx);
}

/* Projected gradient + its fold map on the same problem. */
static void check_pgd(box_qp *B, const fold_problem *prob, const double *xbar, const double *dp,
                      const double *ref, const char *form)
{
    fold_int n = B->n;
    double *x = malloc((size_t)n * sizeof *x), *pbar = malloc((size_t)n * sizeof *pbar);
    double *dx = malloc((size_t)n * sizeof *dx), *p = calloc((size_t)n, sizeof *p);
    fold_iter_def def = {.kind = FOLD_ITER_PGD, .step = 1.0 / B->lipschitz, .problem = prob};
    fold_iter_info it = FOLD_ITER_INFO_INIT;
    ck_assert_status(fold_iter_solve(&def,
                                     &(fold_iter_run){.p = p, .max_iter = 100000, .tol = 1e-15}, x,
                                     NULL, &it),
                     FOLD_OK);
    double ex = fold_test_vec_relerr(x, B->x, n, 1.0);
    ck_assert_msg(ex < 1e-8, "%s: PGD x off the built solution by %.3g (%lld iterations)", form, ex,
                  (long long)it.iterations);
    fold_map *map = NULL;
    ck_assert_status(fold_iter_map(&def, x, p, &map), FOLD_OK);
    fold_settings set;
    fold_settings_default(&set);
    for (int k = 0; k < 3; k++) {
        set.backward.method = METHODS[k];
        ck_assert_status(fold_map_vjp(map, &set, xbar, pbar, NULL), FOLD_OK);
        double e = fold_test_vec_relerr(pbar, ref, n, 1.0);
        ck_assert_msg(e < 1e-8, "%s, PGD map, method %d: VJP off the closed form by %.3g", form,
                      (int)METHODS[k], e);
    }
    ck_assert_status(fold_map_jvp(map, &set, dp, dx, NULL), FOLD_OK);
    check_adjoint(dx, xbar, dp, pbar, n, form, "PGD map");
    /* forward-mode unrolling of the same iteration converges to the folded tangent */
    double *x2 = malloc((size_t)n * sizeof *x2), *dx2 = malloc((size_t)n * sizeof *dx2);
    ck_assert_status(
        fold_iter_solve(&def, &(fold_iter_run){.p = p, .max_iter = 100000, .tol = 1e-15, .dp = dp},
                        x2, dx2, NULL),
        FOLD_OK);
    double et = fold_test_vec_relerr(dx2, dx, n, 1.0);
    ck_assert_msg(et < 1e-8, "%s: unrolled tangent off the folded JVP by %.3g", form, et);
    free(x2);
    free(dx2);
    fold_map_free(map);
    free(x);
    free(pbar);
    free(dx);
    free(p);
}

START_TEST(test_one_definition_every_form)
{
    box_qp *B = box_qp_build(1507, N);
    fold_test_rng r;
    fold_test_rng_seed(&r, 99);
    double xbar[N], dp[N], ref[N];
    fold_test_fill_normal(&r, xbar, N);
    fold_test_fill_normal(&r, dp, N);
    reference_vjp(B, xbar, ref);
    for (int f = 0; f < 3; f++) {
        fold_nlp_def d = box_qp_def(B, FORMS[f]);
        fold_problem *prob = NULL;
        ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
        ck_assert_int_eq(fold_problem_hess_form(prob), FORMS[f]);
        check_kkt(B, prob, xbar, dp, ref, FORM_NAMES[f]);
        check_pgd(B, prob, xbar, dp, ref, FORM_NAMES[f]);
        fold_problem_free(prob);
    }
    box_qp_free(B);
}
END_TEST

/* The product form's KKT fold by MINRES and GMRES at default settings (precond.kind auto:
 * the block preconditioner without H) in both KKT forms: the closed form and the triplet
 * form's direct fold to 1e-8, the adjoint identity, and about one Hessian product per
 * iteration (the direct fold of the same solver assembles H from n products). */
static long n_hv_calls; /* calls of counted_hess_v */

static int counted_hess_v(const double *x, const double *p, double s, const double *lam,
                          const double *v, double *out, void *ud)
{
    n_hv_calls++;
    return box_qp_hess_v(x, p, s, lam, v, out, ud);
}

START_TEST(test_kkt_matrix_free)
{
    box_qp *B = box_qp_build(2024, N);
    fold_test_rng r;
    fold_test_rng_seed(&r, 7);
    double xbar[N], dp[N], ref[N], tri[N], pbar[N], dx[N], p0[N] = {0};
    fold_test_fill_normal(&r, xbar, N);
    fold_test_fill_normal(&r, dp, N);
    reference_vjp(B, xbar, ref);
    fold_problem *pt = NULL, *pp = NULL;
    fold_nlp_def dt = box_qp_def(B, FOLD_HESS_TRIPLETS), dpr = box_qp_def(B, FOLD_HESS_PRODUCT);
    dpr.hess_l_v = counted_hess_v;
    ck_assert_status(fold_problem_create(&dt, &pt), FOLD_OK);
    ck_assert_status(fold_problem_create(&dpr, &pp), FOLD_OK);
    double obj;
    box_qp_f(B->x, p0, &obj, B);
    const fold_kkt_form kforms[2] = {FOLD_KKT_ACTIVE, FOLD_KKT_BARRIER};
    const fold_backward_method ms[2] = {FOLD_BACKWARD_MINRES, FOLD_BACKWARD_GMRES};
    for (int f = 0; f < 2; f++) {
        fold_settings set;
        fold_settings_default(&set);
        set.backward.kkt_form = kforms[f];
        fold_solver *st = NULL, *sp = NULL;
        ck_assert_status(fold_solver_create(pt, &set, &st), FOLD_OK);
        ck_assert_status(fold_solver_create(pp, &set, &sp), FOLD_OK);
        fold_solver_store(st, p0, B->x, NULL, B->zl, B->zu, obj, true);
        fold_solver_store(sp, p0, B->x, NULL, B->zl, B->zu, obj, true);
        fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
        ck_assert_status(fold_vjp(st, &(fold_zbar){.x = xbar}, tri, &info), FOLD_OK);
        ck_assert_int_eq(info.n_hess_products, 0); /* triplets: no products */
        double e = fold_test_vec_relerr(tri, ref, N, 1.0);
        ck_assert_msg(e < 1e-8, "form %d: triplet direct VJP off the closed form by %.3g", f, e);
        for (int k = 0; k < 2; k++) {
            set.backward.method = ms[k];
            ck_assert_status(fold_solver_update_settings(sp, &set), FOLD_OK);
            n_hv_calls = 0;
            ck_assert_status(fold_vjp(sp, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_OK);
            ck_assert_int_eq(info.n_hess_products, n_hv_calls); /* every call counted */
            ck_assert_int_eq(info.method, ms[k]);
            ck_assert_int_eq(info.precond, FOLD_PRECOND_BLOCK);
            ck_assert_int_gt(info.iterations, 0);
            /* one product per iteration, the diagonal estimates of the classification and of
             * the preconditioner (8 each, the first call at this solution) and a few more:
             * never n */
            ck_assert_int_ge(info.n_hess_products, info.iterations);
            if (kforms[f] == FOLD_KKT_ACTIVE)
                ck_assert_int_le(info.n_hess_products,
                                 info.iterations + 2 * FOLD_HESS_DIAG_PROBES + 2);
            ck_assert_int_lt(info.n_hess_products, N);
            e = fold_test_vec_relerr(pbar, ref, N, 1.0);
            double et = fold_test_vec_relerr(pbar, tri, N, 1.0);
            ck_assert_msg(e < 1e-8 && et < 1e-8,
                          "form %d, method %d: matrix-free VJP off the closed form by %.3g, off "
                          "the triplet form by %.3g",
                          f, (int)ms[k], e, et);
            ck_assert_status(fold_jvp(sp, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
            ck_assert_int_lt(info.n_hess_products, N);
            double lhs = fold_test_dot(dx, xbar, N), rhs = fold_test_dot(dp, pbar, N);
            ck_assert_msg(fabs(lhs - rhs) <= 1e-8 * fmax(1.0, fabs(rhs)),
                          "form %d, method %d: <J dp, xbar> = %.15g, <dp, J' xbar> = %.15g", f,
                          (int)ms[k], lhs, rhs);
        }
        /* the direct method of the same solver assembles H from n products */
        set.backward.method = FOLD_BACKWARD_DIRECT;
        ck_assert_status(fold_solver_update_settings(sp, &set), FOLD_OK);
        n_hv_calls = 0;
        ck_assert_status(fold_vjp(sp, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_OK);
        ck_assert_int_eq(info.n_hess_products, N + FOLD_HESS_DIAG_PROBES); /* and the estimate */
        ck_assert_int_eq(info.n_hess_products, n_hv_calls);
        e = fold_test_vec_relerr(pbar, tri, N, 1.0);
        ck_assert_msg(e < 1e-12, "form %d: assembled product form off triplets by %.3g", f, e);
        fold_solver_free(st);
        fold_solver_free(sp);
    }
    fold_problem_free(pt);
    fold_problem_free(pp);
    box_qp_free(B);
}
END_TEST

/* d(grad_x L)/dp = I by products (hess_lp_v) instead of the identity pattern. */
static int ident_lp_v(const double *x, const double *p, const double *lam, int transpose,
                      const double *v, double *out, void *ud)
{
    memcpy(out, v, (size_t)((const box_qp *)ud)->n * sizeof *out);
    return 0;
}

/* Everything given by products (hess_l_v and hess_lp_v): Ipopt + the KKT fold (direct, LFPI,
 * GMRES) and PGD + its fold map agree with the closed form. */
START_TEST(test_cross_term_by_products)
{
    box_qp *B = box_qp_build(1507, N);
    fold_test_rng r;
    fold_test_rng_seed(&r, 99);
    double xbar[N], dp[N], ref[N];
    fold_test_fill_normal(&r, xbar, N);
    fold_test_fill_normal(&r, dp, N);
    reference_vjp(B, xbar, ref);
    fold_nlp_def d = box_qp_def(B, FOLD_HESS_PRODUCT);
    d.hess_lp = (fold_pattern){0, NULL, NULL};
    d.cb.hess_lp = NULL;
    d.hess_lp_v = ident_lp_v;
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    check_kkt(B, prob, xbar, dp, ref, "products, hess_lp_v");
    check_pgd(B, prob, xbar, dp, ref, "products, hess_lp_v");
    fold_problem_free(prob);
    box_qp_free(B);
}
END_TEST

/* The derivative checker reads every form (the product form assembled from products). */
START_TEST(test_hess_forms_check_derivatives)
{
    box_qp *B = box_qp_build(11, 20);
    double p[20] = {0};
    for (int f = 0; f < 3; f++) {
        fold_nlp_def d = box_qp_def(B, FORMS[f]);
        fold_problem *prob = NULL;
        fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
        ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
        ck_assert_status(fold_problem_check_derivatives(prob, B->x, p, NULL, 1e-6, 1e-5, &rep),
                         FOLD_OK);
        /* grad f, the lower triangle of H, df/dp, L_xp */
        ck_assert_int_eq(rep.n_checked, 20 + 20 * 21 / 2 + 20 + 20 * 20);
        fold_problem_free(prob);
    }
    box_qp_free(B);
}
END_TEST

START_TEST(test_hess_form_validation)
{
    box_qp *B = box_qp_build(7, 20);
    fold_problem *prob = NULL;
    fold_nlp_def d = box_qp_def(B, FOLD_HESS_DENSE);
    d.cb.hess_l = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("FOLD_HESS_DENSE needs cb.hess_l");
    d = box_qp_def(B, FOLD_HESS_TRIPLETS);
    d.hess_form = FOLD_HESS_DENSE;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("leave the pattern empty");
    d = box_qp_def(B, FOLD_HESS_PRODUCT);
    d.hess_l_v = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("FOLD_HESS_PRODUCT needs hess_l_v");
    d = box_qp_def(B, FOLD_HESS_PRODUCT);
    d.cb.hess_l = box_qp_hess;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("takes hess_l_v only");
    d = box_qp_def(B, FOLD_HESS_DENSE);
    d.hess_form = (fold_hess_form)7;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("hess_form = 7");
    ck_assert_ptr_null(prob);
    /* iterative definitions from a problem: obj or set beside it, constraints, moving bounds */
    d = box_qp_def(B, FOLD_HESS_DENSE);
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    double x[20] = {0}, p[20] = {0};
    fold_map *map = NULL;
    fold_iter_def it = {.kind = FOLD_ITER_PGD, .step = 0.1, .problem = prob};
    it.set.kind = FOLD_SET_NONNEG;
    ck_assert_status(fold_iter_map(&it, x, p, &map), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("leave set zero");
    it.set.kind = FOLD_SET_FREE;
    it.obj.grad = box_qp_grad;
    ck_assert_status(fold_iter_map(&it, x, p, &map), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("leave obj zero");
    it = (fold_iter_def){.kind = FOLD_ITER_PROX_L1, .step = 0.1, .problem = prob};
    ck_assert_status(fold_iter_map(&it, x, p, &map), FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("finite bound");
    ck_assert_ptr_null(map);
    fold_problem_free(prob);
    fold_int one = 1, zero = 0;
    double coef = 1.0;
    d.x_upper_p = (fold_bound_map){1, &one, &zero, &coef};
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    it = (fold_iter_def){.kind = FOLD_ITER_PGD, .step = 0.1, .problem = prob};
    ck_assert_status(fold_iter_map(&it, x, p, &map), FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("moving with p");
    fold_problem_free(prob);
    box_qp_free(B);
}
END_TEST

/* Above FOLD_HESS_PRODUCT_MAX_N the products are never assembled: Ipopt runs limited-memory,
 * the direct KKT fold refuses with FOLD_ERR_TOO_LARGE, the iterative KKT fold (MINRES, GMRES)
 * and the PGD fold map (products only) work. */
static int diag_grad(const double *x, const double *p, double *g, void *ud)
{
    fold_int n = ((const box_qp *)ud)->n;
    for (fold_int i = 0; i < n; i++)
        g[i] = (1.0 + (double)(i % 3)) * x[i] + p[i];
    return 0;
}

static int diag_f(const double *x, const double *p, double *obj, void *ud)
{
    fold_int n = ((const box_qp *)ud)->n;
    double f = 0;
    for (fold_int i = 0; i < n; i++)
        f += 0.5 * (1.0 + (double)(i % 3)) * x[i] * x[i] + p[i] * x[i];
    *obj = f;
    return 0;
}

static int diag_hv(const double *x, const double *p, double s, const double *lam, const double *v,
                   double *out, void *ud)
{
    fold_int n = ((const box_qp *)ud)->n;
    for (fold_int i = 0; i < n; i++)
        out[i] = s * (1.0 + (double)(i % 3)) * v[i];
    return 0;
}

/* Without finite bounds the step map of projected gradient is I - aH: symmetric, so MINRES
 * applies; it gives -Q^{-1} xbar (a quadratic: at any point). */
START_TEST(test_unbounded_problem_symmetric_map)
{
    box_qp *B = box_qp_build(5, 30);
    memset(B->state, 0, 30); /* every variable free */
    fold_nlp_def d = box_qp_def(B, FOLD_HESS_PRODUCT);
    d.x_lower = d.x_upper = NULL;
    fold_problem *prob = NULL;
    fold_map *map = NULL;
    double x[30] = {0}, p[30] = {0}, xbar[30], pbar[30], ref[30];
    for (int i = 0; i < 30; i++)
        xbar[i] = cos((double)i);
    reference_vjp(B, xbar, ref);
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_iter_def it = {.kind = FOLD_ITER_PGD, .step = 1.0 / B->lipschitz, .problem = prob};
    fold_settings set;
    fold_settings_default(&set);
    set.backward.method = FOLD_BACKWARD_MINRES;
    set.precond.kind = FOLD_PRECOND_NONE;
    ck_assert_status(fold_iter_map(&it, x, p, &map), FOLD_OK);
    ck_assert_status(fold_map_vjp(map, &set, xbar, pbar, NULL), FOLD_OK);
    double e = fold_test_vec_relerr(pbar, ref, 30, 1.0);
    ck_assert_msg(e < 1e-8, "MINRES VJP off -Q^{-1} xbar by %.3g", e);
    fold_map_free(map);
    fold_problem_free(prob);
    box_qp_free(B);
}
END_TEST

/* A log sink that remembers whether a line mentioned Ipopt's limited-memory Hessian. */
static void note_lbfgs(int level, const char *line, void *ud)
{
    if (strstr(line, "limited-memory quasi-Newton")) *(int *)ud = 1;
}

START_TEST(test_products_above_limit)
{
    fold_int n = FOLD_HESS_PRODUCT_MAX_N + 1;
    double *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi);
    double *p = malloc((size_t)n * sizeof *p), *x = malloc((size_t)n * sizeof *x);
    double *xbar = malloc((size_t)n * sizeof *xbar), *pbar = malloc((size_t)n * sizeof *pbar);
    fold_int *ident = malloc((size_t)n * sizeof *ident);
    for (fold_int i = 0; i < n; i++) {
        lo[i] = -1;
        hi[i] = 1;
        p[i] = i % 4 == 0 ? 4.0 : 0.5; /* every fourth variable at its lower bound */
        xbar[i] = 1.0;
        ident[i] = i;
    }
    fold_nlp_def d = {.name = "large diagonal QP",
                      .n = n,
                      .np = n,
                      .x_lower = lo,
                      .x_upper = hi,
                      .p_default = p,
                      .hess_form = FOLD_HESS_PRODUCT,
                      .hess_l_v = diag_hv};
    d.cb = (fold_nlp_callbacks){
        .f = diag_f, .grad_f = diag_grad, .grad_f_p = box_qp_grad_p, .hess_lp = box_qp_hess_lp};
    d.hess_lp = (fold_pattern){n, ident, ident};
    box_qp dummy = {.n = n};
    d.user_data = &dummy;
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    ck_assert(fold_problem_has_param_derivatives(prob)); /* the iterative KKT fold runs */
    int said = 0;
    fold_settings logged;
    fold_settings_default(&logged);
    logged.log.verbose = 1;
    logged.log.sink = note_lbfgs;
    logged.log.sink_data = &said;
    ck_assert_status(fold_solver_create(prob, &logged, &solver), FOLD_OK);
    ck_assert_status(fold_solve(solver, NULL, NULL), FOLD_OK);
    ck_assert_msg(said, "the log does not say that Ipopt approximates the Hessian");
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_ERR_TOO_LARGE);
    ck_assert_error_mentions("gives its Hessian by products");
    const fold_backward_method ms[2] = {FOLD_BACKWARD_MINRES, FOLD_BACKWARD_GMRES};
    for (int k = 0; k < 2; k++) { /* dx_i/dp_i = -1/h_i when free, 0 at the bound */
        fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
        logged.backward.method = ms[k];
        logged.log.verbose = 0;
        ck_assert_status(fold_solver_update_settings(solver, &logged), FOLD_OK);
        ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_OK);
        ck_assert_int_eq(info.precond, FOLD_PRECOND_BLOCK);
        ck_assert_int_lt(info.n_hess_products, 100);
        for (fold_int i = 0; i < n; i++) {
            double want = i % 4 == 0 ? 0.0 : -1.0 / (1.0 + (double)(i % 3));
            ck_assert_msg(fabs(pbar[i] - want) < 1e-8, "method %d: pbar[%lld] = %.12g, want %.12g",
                          (int)ms[k], (long long)i, pbar[i], want);
        }
    }
    fold_solver_free(solver);
    /* projected gradient and the map fold by products alone: dx_i/dp_i = -1/h_i when free */
    fold_iter_def it = {.kind = FOLD_ITER_PGD, .step = 1.0 / 3.0, .problem = prob};
    ck_assert_status(fold_iter_solve(&it, &(fold_iter_run){.p = p, .max_iter = 10000, .tol = 1e-14},
                                     x, NULL, NULL),
                     FOLD_OK);
    fold_map *map = NULL;
    fold_settings set;
    fold_settings_default(&set);
    set.backward.method = FOLD_BACKWARD_LFPI;
    set.precond.kind = FOLD_PRECOND_NONE;
    ck_assert_status(fold_iter_map(&it, x, p, &map), FOLD_OK);
    ck_assert_status(fold_map_vjp(map, &set, xbar, pbar, NULL), FOLD_OK);
    for (fold_int i = 0; i < n; i++) {
        double want = i % 4 == 0 ? 0.0 : -1.0 / (1.0 + (double)(i % 3));
        ck_assert_msg(fabs(pbar[i] - want) < 1e-8, "pbar[%lld] = %.12g, want %.12g", (long long)i,
                      pbar[i], want);
    }
    fold_map_free(map);
    fold_problem_free(prob);
    free(lo);
    free(hi);
    free(p);
    free(x);
    free(xbar);
    free(pbar);
    free(ident);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("one_definition");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_one_definition_every_form);
    tcase_add_test(tc, test_hess_forms_check_derivatives);
    tcase_add_test(tc, test_hess_form_validation);
    tcase_add_test(tc, test_unbounded_problem_symmetric_map);
    tcase_add_test(tc, test_products_above_limit);
    tcase_add_test(tc, test_kkt_matrix_free);
    tcase_add_test(tc, test_cross_term_by_products);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
