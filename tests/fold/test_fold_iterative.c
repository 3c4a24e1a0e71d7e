/* Iterative backward methods of the KKT fold (doc/math.md §3.9): every method and
 * preconditioner agrees with the direct fold on random problems with known solutions in both
 * KKT forms; LFPI with the exact factorization takes one step, without preconditioner it
 * diverges; the nearby factorization after a parameter change; refused settings. */
#include "fold_test_util.h"

#define N_SEEDS 8
#define AGREE_TOL 1e-9

typedef struct combo {
    int method, precond;
} combo;

static const combo combos[] = {
    {FOLD_BACKWARD_GMRES, FOLD_PRECOND_NONE},      {FOLD_BACKWARD_GMRES, FOLD_PRECOND_JACOBI},
    {FOLD_BACKWARD_GMRES, FOLD_PRECOND_BLOCK},     {FOLD_BACKWARD_GMRES, FOLD_PRECOND_EXACT},
    {FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_JACOBI}, {FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_BLOCK},
    {FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_EXACT},  {FOLD_BACKWARD_MINRES, FOLD_PRECOND_NONE},
    {FOLD_BACKWARD_MINRES, FOLD_PRECOND_JACOBI},   {FOLD_BACKWARD_LFPI, FOLD_PRECOND_EXACT},
    {FOLD_BACKWARD_LFPI, FOLD_PRECOND_NEARBY},
};
#define N_COMBOS ((int)(sizeof combos / sizeof combos[0]))

static const char *method_names[] = {"direct", "lfpi", "gmres", "minres", "bicgstab", "cg"};
static const char *pc_names[] = {"none", "jacobi", "block", "exact", "nearby"};

static fold_rp *make_rp(int seed, bool nonlinear)
{
    fold_rp_options o = {
        .n = 10 + seed % 9, .m = 4 + seed % 5, .np = 3 + seed % 4, .nonlinear = nonlinear};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(1000 + (unsigned)seed, &o, &rp), FOLD_OK);
    return rp;
}

/* Random directions: dp (np) and upstream gradients bar = (xbar, lambar, zlbar, zubar). */
typedef struct dirs {
    fold_int n, m, np;
    double *dp, *bar;
    double *jvp, *vjp; /* results: (dx, dzl, dzu, dlam) and pbar */
} dirs;

static dirs dirs_make(const fold_rp *rp, unsigned long long seed)
{
    dirs d;
    fold_test_rng r;
    fold_problem_dims(fold_rp_problem(rp), &d.n, &d.m, &d.np);
    d.dp = calloc((size_t)d.np, 8);
    d.bar = calloc((size_t)(3 * d.n + d.m), 8);
    d.jvp = calloc((size_t)(3 * d.n + d.m), 8);
    d.vjp = calloc((size_t)d.np, 8);
    fold_test_rng_seed(&r, seed);
    fold_test_fill_normal(&r, d.dp, d.np);
    fold_test_fill_normal(&r, d.bar, 3 * d.n + d.m);
    return d;
}

static void dirs_free(dirs *d)
{
    free(d->dp);
    free(d->bar);
    free(d->jvp);
    free(d->vjp);
}

static fold_status run_jvp(fold_solver *solver, dirs *d, fold_backward_info *info)
{
    fold_int n = d->n;
    return fold_jvp(
        solver, d->dp,
        &(fold_dz){.x = d->jvp, .lam = d->jvp + 3 * n, .zl = d->jvp + n, .zu = d->jvp + 2 * n},
        info);
}

static fold_status run_vjp(fold_solver *solver, dirs *d, fold_backward_info *info)
{
    fold_int n = d->n;
    return fold_vjp(
        solver,
        &(fold_zbar){.x = d->bar, .lam = d->bar + 3 * n, .zl = d->bar + n, .zu = d->bar + 2 * n},
        d->vjp, info);
}

static fold_settings iter_settings(int form, int method, int precond)
{
    fold_settings s = fold_test_tight_settings();
    s.backward.kkt_form = form;
    s.backward.method = method;
    s.precond.kind = precond;
    s.backward.tol = 1e-13;
    return s;
}

/* Direct reference results for d at the solver's stored point. */
static void reference(const fold_rp *rp, int form, dirs *d, double *jvp, double *vjp)
{
    fold_settings s = fold_test_tight_settings();
    s.backward.kkt_form = form;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(run_jvp(solver, d, NULL), FOLD_OK);
    ck_assert_status(run_vjp(solver, d, NULL), FOLD_OK);
    memcpy(jvp, d->jvp, (size_t)(3 * d->n + d->m) * 8);
    memcpy(vjp, d->vjp, (size_t)d->np * 8);
    fold_solver_free(solver);
}

/* Every method x preconditioner of the table matches the direct jvp and vjp. */
START_TEST(agrees_with_direct)
{
    int seed = _i / 2, form = _i % 2;
    fold_rp *rp = make_rp(seed, seed % 2);
    dirs d = dirs_make(rp, 500 + (unsigned)_i);
    fold_int len = 3 * d.n + d.m;
    double *rj = calloc((size_t)len, 8), *rv = calloc((size_t)d.np, 8);
    reference(rp, form, &d, rj, rv);
    for (int c = 0; c < N_COMBOS; c++) {
        fold_settings s = iter_settings(form, combos[c].method, combos[c].precond);
        fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
        fold_solver *solver = fold_test_rp_solver(rp, &s);
        fold_status st = run_jvp(solver, &d, &info);
        ck_assert_msg(st == FOLD_OK, "seed %d form %d %s/%s jvp: %s", seed, form,
                      method_names[combos[c].method], pc_names[combos[c].precond],
                      fold_last_error());
        ck_assert_int_eq(info.method, combos[c].method);
        ck_assert_int_eq(info.reason, FOLD_REASON_CONVERGED);
        ck_assert_int_gt(info.iterations, 0);
        ck_assert_double_le(info.residual, 1e-13);
        double ej = fold_test_vec_relerr(d.jvp, rj, len, 1.0);
        ck_assert_msg(ej <= AGREE_TOL, "seed %d form %d %s/%s: jvp differs by %.3g", seed, form,
                      method_names[combos[c].method], pc_names[combos[c].precond], ej);
        st = run_vjp(solver, &d, &info);
        ck_assert_msg(st == FOLD_OK, "seed %d form %d %s/%s vjp: %s", seed, form,
                      method_names[combos[c].method], pc_names[combos[c].precond],
                      fold_last_error());
        double ev = fold_test_vec_relerr(d.vjp, rv, d.np, 1.0);
        ck_assert_msg(ev <= AGREE_TOL, "seed %d form %d %s/%s: vjp differs by %.3g", seed, form,
                      method_names[combos[c].method], pc_names[combos[c].precond], ev);
        fold_solver_free(solver);
    }
    free(rj);
    free(rv);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* fold_jacobian in both modes with GMRES + Jacobi equals the direct Jacobian. */
START_TEST(jacobian_iterative)
{
    fold_rp *rp = make_rp(_i, _i % 2);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_settings s0 = fold_test_tight_settings();
    fold_settings s1 = iter_settings(FOLD_KKT_ACTIVE, FOLD_BACKWARD_GMRES, FOLD_PRECOND_JACOBI);
    s1.backward.block_size = 2; /* several blocks of several right-hand sides */
    fold_solver *direct = fold_test_rp_solver(rp, &s0), *iter = fold_test_rp_solver(rp, &s1);
    double *J0 = calloc((size_t)(n * np), 8), *J1 = calloc((size_t)(n * np), 8);
    fold_int rows[2] = {0, n - 1};
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    /* forward mode (np <= n columns) */
    ck_assert_status(
        fold_jacobian(direct, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np},
                      J0, NULL),
        FOLD_OK);
    ck_assert_status(
        fold_jacobian(iter, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np}, J1,
                      &info),
        FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(J1, J0, n * np, 1.0), AGREE_TOL);
    ck_assert_int_eq(info.n_rhs, np);
    ck_assert_int_ge(info.iterations, np);
    /* reverse mode (2 rows < np columns when np > 2) */
    ck_assert_status(
        fold_jacobian(
            direct,
            &(fold_jacobian_sel){.of = FOLD_BLOCK_ZL, .n_rows = 2, .rows = rows, .n_cols = np}, J0,
            NULL),
        FOLD_OK);
    ck_assert_status(
        fold_jacobian(
            iter,
            &(fold_jacobian_sel){.of = FOLD_BLOCK_ZL, .n_rows = 2, .rows = rows, .n_cols = np}, J1,
            &info),
        FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(J1, J0, 2 * np, 1.0), AGREE_TOL);
    free(J0);
    free(J1);
    fold_solver_free(direct);
    fold_solver_free(iter);
    fold_rp_free(rp);
}
END_TEST

/* LFPI preconditioned by the factorization of K: M = K (UMFPACK) gives the solution in one
 * step; CHOLMOD's regularized LDL' (M = K + delta D) in at most two. */
START_TEST(lfpi_exact_one_step)
{
    int form = _i % 2, fact = _i / 2 ? FOLD_FACTOR_AUTO : FOLD_FACTOR_UMFPACK;
    fold_rp *rp = make_rp(3 + _i, false);
    dirs d = dirs_make(rp, 900 + (unsigned)_i);
    fold_settings s = iter_settings(form, FOLD_BACKWARD_LFPI, FOLD_PRECOND_EXACT);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    s.backward.factorization = fact;
    s.backward.tol = 1e-12;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(run_jvp(solver, &d, &info), FOLD_OK);
    ck_assert_int_ge(info.iterations, 1);
    ck_assert_int_le(info.iterations, fact == FOLD_FACTOR_UMFPACK ? 1 : 2);
    ck_assert_int_gt(info.factor_nnz, 0);
    ck_assert_status(run_vjp(solver, &d, &info), FOLD_OK);
    ck_assert_int_le(info.iterations, fact == FOLD_FACTOR_UMFPACK ? 1 : 2);
    ck_assert(info.reused_factorization);
    fold_solver_free(solver);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* Unpreconditioned LFPI x <- x + (b - K x) on the indefinite KKT matrix: I - K has an
 * eigenvalue > 1, the iteration diverges; nothing is written. */
START_TEST(lfpi_none_diverges)
{
    int form = _i;
    fold_rp *rp = make_rp(2, false);
    dirs d = dirs_make(rp, 77);
    fold_settings s = iter_settings(form, FOLD_BACKWARD_LFPI, FOLD_PRECOND_NONE);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_int len = 3 * d.n + d.m;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    for (fold_int k = 0; k < len; k++)
        d.jvp[k] = 42.0;
    for (fold_int k = 0; k < d.np; k++)
        d.vjp[k] = 42.0;
    ck_assert_status(run_jvp(solver, &d, &info), FOLD_ERR_DIVERGED);
    ck_assert_error_mentions("fold_jvp");
    ck_assert_error_mentions("lfpi");
    ck_assert(info.reason == FOLD_REASON_DIVERGED || info.reason == FOLD_REASON_NAN);
    ck_assert_status(run_vjp(solver, &d, &info), FOLD_ERR_DIVERGED);
    for (fold_int k = 0; k < len; k++)
        ck_assert_double_eq(d.jvp[k], 42.0);
    for (fold_int k = 0; k < d.np; k++)
        ck_assert_double_eq(d.vjp[k], 42.0);
    fold_solver_free(solver);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* Iteration limit: FOLD_ERR_NOT_CONVERGED, reason max_iter, outputs untouched. */
START_TEST(not_converged)
{
    fold_rp *rp = make_rp(5, true);
    dirs d = dirs_make(rp, 78);
    fold_settings s = iter_settings(FOLD_KKT_ACTIVE, FOLD_BACKWARD_GMRES, FOLD_PRECOND_NONE);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double J[4] = {7, 7, 7, 7};
    s.backward.max_iter = 2;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    for (fold_int k = 0; k < d.np; k++)
        d.vjp[k] = 42.0;
    ck_assert_status(run_vjp(solver, &d, &info), FOLD_ERR_NOT_CONVERGED);
    ck_assert_error_mentions("fold_vjp");
    ck_assert_error_mentions("gmres");
    ck_assert_int_eq(info.reason, FOLD_REASON_MAX_ITER);
    ck_assert_int_eq(info.iterations, 2);
    for (fold_int k = 0; k < d.np; k++)
        ck_assert_double_eq(d.vjp[k], 42.0);
    ck_assert_status(fold_jacobian(solver,
                                   &(fold_jacobian_sel){.of = FOLD_BLOCK_X,
                                                        .n_rows = 2,
                                                        .rows = (fold_int[]){0, 1},
                                                        .n_cols = 2,
                                                        .cols = (fold_int[]){0, 1}},
                                   J, NULL),
                     FOLD_ERR_NOT_CONVERGED);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq(J[k], 7.0);
    fold_solver_free(solver);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* backward.fixed_iterations on the KKT fold: K GMRES iterations return FOLD_OK with their
 * residual above backward.tol (where max_iter = K fails), K large gives the direct result. */
START_TEST(fixed_iterations)
{
    fold_rp *rp = make_rp(5, true);
    dirs d = dirs_make(rp, 78);
    double *ref_jvp = calloc((size_t)(3 * d.n + d.m), 8), *ref_vjp = calloc((size_t)d.np, 8);
    fold_settings s = iter_settings(FOLD_KKT_ACTIVE, FOLD_BACKWARD_GMRES, FOLD_PRECOND_NONE);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    reference(rp, FOLD_KKT_ACTIVE, &d, ref_jvp, ref_vjp);
    s.backward.fixed_iterations = 2;
    fold_solver *solver = fold_test_rp_solver(rp, &s);
    ck_assert_status(run_vjp(solver, &d, &info), FOLD_OK);
    ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
    ck_assert_int_eq(info.iterations, 2);
    ck_assert_msg(info.residual > s.backward.tol && info.residual < 1, "residual %g",
                  info.residual);
    ck_assert_msg(fold_test_vec_relerr(d.vjp, ref_vjp, d.np, 0) > 1e-6, "2 steps: no change");
    s.backward.fixed_iterations = 300;
    s.backward.method = FOLD_BACKWARD_LFPI;
    s.precond.kind = FOLD_PRECOND_EXACT;
    ck_assert_status(fold_solver_update_settings(solver, &s), FOLD_OK);
    ck_assert_status(run_jvp(solver, &d, &info), FOLD_OK);
    ck_assert_int_eq(info.reason, FOLD_REASON_FIXED_ITER);
    ck_assert_int_eq(info.iterations, 300);
    ck_assert_msg(info.residual < 1e-12, "residual %g", info.residual);
    ck_assert_msg(fold_test_vec_relerr(d.jvp, ref_jvp, 3 * d.n + d.m, 0) < AGREE_TOL,
                  "jvp error %g", fold_test_vec_relerr(d.jvp, ref_jvp, 3 * d.n + d.m, 0));
    ck_assert_status(run_vjp(solver, &d, &info), FOLD_OK);
    ck_assert_msg(fold_test_vec_relerr(d.vjp, ref_vjp, d.np, 0) < AGREE_TOL, "vjp error %g",
                  fold_test_vec_relerr(d.vjp, ref_vjp, d.np, 0));
    fold_solver_free(solver);
    free(ref_jvp);
    free(ref_vjp);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* Store the first-order prediction of the solution at p0 + h dp (same active set): a
 * nearby point, differentiated as a converged solution. */
static void store_nearby(fold_solver *solver, const fold_rp *rp, const dirs *d, double h)
{
    const double *p0, *x, *lam, *zl, *zu;
    fold_int n = d->n, m = d->m, np = d->np;
    double *p = calloc((size_t)np + 1, 8), *z = calloc((size_t)(3 * n + m), 8);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    for (fold_int k = 0; k < np; k++)
        p[k] = p0[k] + h * d->dp[k];
    for (fold_int j = 0; j < n; j++) {
        z[j] = x[j] + h * d->jvp[j];
        z[n + j] = zl[j] + h * d->jvp[n + j];
        z[2 * n + j] = zu[j] + h * d->jvp[2 * n + j];
    }
    for (fold_int i = 0; i < m; i++)
        z[3 * n + i] = lam[i] + h * d->jvp[3 * n + i];
    fold_solver_store(solver, p, z, z + 3 * n, z + n, z + 2 * n, 0.0, true);
    free(p);
    free(z);
}

/* precond nearby: the factorization made at p0 preconditions the system at p0 + h dp. Krylov
 * methods converge in a few iterations to the direct result at the new point in both forms;
 * LFPI in the active form (in the barrier form Sigma = z / distance changes by large factors
 * on active bounds, and M^{-1} K may have eigenvalues far from 1: GMRES copes, LFPI need not). */
static const combo nearby_cases[] = {
    {FOLD_BACKWARD_GMRES, FOLD_KKT_ACTIVE},    {FOLD_BACKWARD_GMRES, FOLD_KKT_BARRIER},
    {FOLD_BACKWARD_BICGSTAB, FOLD_KKT_ACTIVE}, {FOLD_BACKWARD_BICGSTAB, FOLD_KKT_BARRIER},
    {FOLD_BACKWARD_LFPI, FOLD_KKT_ACTIVE},
};

START_TEST(nearby_after_parameter_change)
{
    int method = nearby_cases[_i % 5].method, form = nearby_cases[_i % 5].precond;
    fold_rp *rp = make_rp(4 + _i, _i % 2);
    dirs d = dirs_make(rp, 1234 + (unsigned)_i);
    fold_int len = 3 * d.n + d.m;
    fold_settings s0 = fold_test_tight_settings();
    fold_settings s = iter_settings(form, method, FOLD_PRECOND_NEARBY);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double *rj = calloc((size_t)len, 8), *rv = calloc((size_t)d.np, 8);
    s0.backward.kkt_form = form;
    fold_solver *direct = fold_test_rp_solver(rp, &s0), *iter = fold_test_rp_solver(rp, &s);
    /* at p0 the factorization is made: M = K up to CHOLMOD's regularization */
    ck_assert_status(run_jvp(iter, &d, &info), FOLD_OK);
    ck_assert(!info.reused_factorization);
    /* move both solvers to p0 + h dp along the derivative just computed */
    ck_assert_status(run_jvp(direct, &d, NULL), FOLD_OK);
    store_nearby(direct, rp, &d, 1e-2);
    store_nearby(iter, rp, &d, 1e-2);
    /* the extrapolated point is off the central path: the barrier form reports its error
     * (eq. 3.19); the iterative methods are compared with the direct values either way */
    fold_status sj = run_jvp(direct, &d, NULL), sv = run_vjp(direct, &d, NULL);
    ck_assert(sj == FOLD_OK || (form == FOLD_KKT_BARRIER && sj == FOLD_WARN_INACCURATE));
    ck_assert(sv == FOLD_OK || (form == FOLD_KKT_BARRIER && sv == FOLD_WARN_INACCURATE));
    memcpy(rj, d.jvp, (size_t)len * 8);
    memcpy(rv, d.vjp, (size_t)d.np * 8);
    sj = run_jvp(iter, &d, &info);
    ck_assert(sj == FOLD_OK || (form == FOLD_KKT_BARRIER && sj == FOLD_WARN_INACCURATE));
    ck_assert(info.reused_factorization);
    ck_assert_int_le(info.iterations, 10); /* 1..8 measured; unpreconditioned: about nK */
    ck_assert_double_le(fold_test_vec_relerr(d.jvp, rj, len, 1.0), AGREE_TOL);
    sv = run_vjp(iter, &d, &info);
    ck_assert(sv == FOLD_OK || (form == FOLD_KKT_BARRIER && sv == FOLD_WARN_INACCURATE));
    ck_assert(info.reused_factorization);
    ck_assert_double_le(fold_test_vec_relerr(d.vjp, rv, d.np, 1.0), AGREE_TOL);
    free(rj);
    free(rv);
    fold_solver_free(direct);
    fold_solver_free(iter);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* Settings that cannot work are refused with a precise message; nothing is written. */
START_TEST(refused_settings)
{
    fold_rp *rp = make_rp(1, false);
    dirs d = dirs_make(rp, 5);
    fold_settings s;
    fold_solver *solver = NULL;
    fold_settings_default(&s);
    ck_assert_status(fold_settings_set(&s, "backward.restart", "0"), FOLD_ERR_SETTING);
    ck_assert_error_mentions("backward.restart");
    ck_assert_int_eq(s.backward.restart, 50);
    s.backward.restart = 0;
    ck_assert_status(fold_solver_create(fold_rp_problem(rp), &s, &solver), FOLD_ERR_SETTING);
    ck_assert_error_mentions("backward.restart");
    ck_assert_ptr_null(solver);
    fold_settings_default(&s);
    ck_assert_status(fold_settings_set(&s, "backward.max_iter", "0"), FOLD_ERR_SETTING);
    ck_assert_status(fold_settings_set(&s, "precond.kind", "ilu"), FOLD_ERR_SETTING);
    const combo refused[] = {{FOLD_BACKWARD_CG, FOLD_PRECOND_NONE},
                             {FOLD_BACKWARD_CG, FOLD_PRECOND_JACOBI},
                             {FOLD_BACKWARD_MINRES, FOLD_PRECOND_EXACT},
                             {FOLD_BACKWARD_MINRES, FOLD_PRECOND_NEARBY}};
    const char *why[] = {"indefinite", "indefinite", "positive definite", "positive definite"};
    for (int c = 0; c < 4; c++) {
        s = iter_settings(FOLD_KKT_ACTIVE, refused[c].method, refused[c].precond);
        solver = fold_test_rp_solver(rp, &s);
        d.vjp[0] = 42.0;
        ck_assert_status(run_vjp(solver, &d, NULL), FOLD_ERR_UNSUPPORTED);
        ck_assert_error_mentions("fold_vjp");
        ck_assert_error_mentions(why[c]);
        ck_assert_double_eq(d.vjp[0], 42.0);
        fold_solver_free(solver);
    }
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* Without constraints K = H_FF (+ Sigma_x) is symmetric positive definite: CG and MINRES
 * with a factorization as preconditioner are accepted and agree with the direct fold. */
START_TEST(bound_constrained_spd)
{
    int form = _i % 2;
    fold_rp_options o = {.n = 12 + _i, .m = 0, .np = 4};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(3000 + (unsigned)_i, &o, &rp), FOLD_OK);
    dirs d = dirs_make(rp, 31 + (unsigned)_i);
    fold_int len = 3 * d.n + d.m;
    double *rj = calloc((size_t)len, 8), *rv = calloc((size_t)d.np, 8);
    const combo spd[] = {{FOLD_BACKWARD_CG, FOLD_PRECOND_NONE},
                         {FOLD_BACKWARD_CG, FOLD_PRECOND_JACOBI},
                         {FOLD_BACKWARD_CG, FOLD_PRECOND_BLOCK},
                         {FOLD_BACKWARD_CG, FOLD_PRECOND_EXACT},
                         {FOLD_BACKWARD_MINRES, FOLD_PRECOND_EXACT}};
    reference(rp, form, &d, rj, rv);
    for (int c = 0; c < 5; c++) {
        fold_settings s = iter_settings(form, spd[c].method, spd[c].precond);
        fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
        fold_solver *solver = fold_test_rp_solver(rp, &s);
        ck_assert_status(run_jvp(solver, &d, &info), FOLD_OK);
        ck_assert_double_le(fold_test_vec_relerr(d.jvp, rj, len, 1.0), AGREE_TOL);
        ck_assert_status(run_vjp(solver, &d, &info), FOLD_OK);
        ck_assert_double_le(fold_test_vec_relerr(d.vjp, rv, d.np, 1.0), AGREE_TOL);
        fold_solver_free(solver);
    }
    free(rj);
    free(rv);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

/* The block preconditioner (eq. 3.23) cuts the Krylov iterations on a larger problem; Jacobi
 * (eq. 3.22) does not increase them. Measured (n = 200, m = 80): GMRES 127 / 92 / 21. */
START_TEST(preconditioners_reduce_iterations)
{
    int form = _i % 2, method = _i / 2 ? FOLD_BACKWARD_MINRES : FOLD_BACKWARD_GMRES;
    fold_rp_options o = {.n = 120, .m = 50, .np = 3, .nonlinear = true};
    fold_rp *rp = NULL;
    fold_int it[3];
    ck_assert_status(fold_rp_create(4242, &o, &rp), FOLD_OK);
    dirs d = dirs_make(rp, 99);
    for (int pc = 0; pc < 3; pc++) {
        fold_settings s = iter_settings(form, method, pc);
        fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
        s.backward.tol = 1e-10;
        fold_solver *solver = fold_test_rp_solver(rp, &s);
        ck_assert_status(run_jvp(solver, &d, &info), FOLD_OK);
        it[pc] = info.iterations;
        fold_solver_free(solver);
    }
    ck_assert_int_le(it[FOLD_PRECOND_JACOBI], it[FOLD_PRECOND_NONE]);
    ck_assert_int_le(2 * it[FOLD_PRECOND_BLOCK], it[FOLD_PRECOND_NONE]);
    dirs_free(&d);
    fold_rp_free(rp);
}
END_TEST

Suite *fold_iterative_suite(void);
Suite *fold_iterative_suite(void)
{
    Suite *s = suite_create("fold_iterative");
    TCase *tc = tcase_create("iterative");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, agrees_with_direct, 0, 2 * N_SEEDS);
    tcase_add_loop_test(tc, jacobian_iterative, 0, 4);
    tcase_add_loop_test(tc, lfpi_exact_one_step, 0, 4);
    tcase_add_loop_test(tc, lfpi_none_diverges, 0, 2);
    tcase_add_test(tc, not_converged);
    tcase_add_test(tc, fixed_iterations);
    tcase_add_loop_test(tc, nearby_after_parameter_change, 0, 10);
    tcase_add_test(tc, refused_settings);
    tcase_add_loop_test(tc, bound_constrained_spd, 0, 4);
    tcase_add_loop_test(tc, preconditioners_reduce_iterations, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return fold_test_run(fold_iterative_suite());
}
