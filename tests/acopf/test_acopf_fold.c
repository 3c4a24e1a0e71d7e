/* Differentiating AC-OPF solutions: d objective / dp by VJP equals the envelope-theorem
 * gradient (LMPs for pd), and d pg / d pd, d vm / d pd from fold_jacobian match central
 * differences of warm-started re-solves (case5, case14 when present; synthetic grids). */
#include "acopf_test.h"

/* The seed of a 60-bus synthetic grid whose block preconditioner breaks MINRES down. */
#define MINRES_GRID_SEED 1

typedef struct fixture {
    fold_acopf_case *cs;
    fold_acopf *m;
    fold_solver *sv;
    fold_acopf_layout L;
    fold_settings set;
} fixture;

/* Solve at the defaults with tol; the dual tolerance is scaled by the multiplier size as the
 * opf command does (doc/acopf.md §5). An absent PGLib case skips the test. */
static void setup(fixture *fx, const char *name, fold_int grid_buses, double tol)
{
    char buf[1024];
    memset(fx, 0, sizeof *fx);
    if (name) {
        ck_assert_acopf(fold_acopf_case_read(acopf_test_need_case(name, buf, sizeof buf), &fx->cs),
                        FOLD_OK);
    } else {
        ck_assert_acopf(fold_acopf_gen_grid(grid_buses, 11, &fx->cs), FOLD_OK);
    }
    ck_assert_acopf(fold_acopf_create(fx->cs, &fx->m), FOLD_OK);
    fx->L = fold_acopf_get_layout(fx->m);
    fold_settings_default(&fx->set);
    fx->set.forward.tol = tol;
    ck_assert_status(fold_solver_create(fold_acopf_problem(fx->m), &fx->set, &fx->sv), FOLD_OK);
    ck_assert_status(fold_solve(fx->sv, NULL, NULL), FOLD_OK);
}

static void teardown(fixture *fx)
{
    fold_solver_free(fx->sv);
    fold_acopf_free(fx->m);
    fold_acopf_case_free(fx->cs);
}

/* vjp with xbar = grad_x f plus the explicit grad_p f equals fold_value_gradient. */
static void check_lmp(fixture *fx, double tol, bool singular)
{
    fold_int n = fx->L.n, np = fx->L.np;
    double *x = malloc((size_t)n * sizeof(double)), *p = malloc((size_t)np * sizeof(double));
    double *xbar = malloc((size_t)n * sizeof(double)), *pbar = malloc((size_t)np * sizeof(double));
    double *gp = malloc((size_t)np * sizeof(double)), *vg = malloc((size_t)np * sizeof(double));
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_solution(fx->sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(fx->sv, p);
    fold_acopf_eval_grad_f(fx->m, x, p, xbar);
    fold_acopf_eval_grad_f_p(fx->m, x, p, gp);
    ck_assert_status(fold_value_gradient(fx->sv, vg), FOLD_OK);
    ck_assert_status(fold_vjp(fx->sv, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_OK);
    for (fold_int j = 0; j < np; j++)
        pbar[j] += gp[j];
    /* the envelope identity (doc/math.md §3.7) for loads (the LMPs) and cost coefficients,
     * relative to the largest entry (case197_snem's LMPs are ~1e-3 $/MWh) */
    fold_int nb2 = 2 * fx->cs->n_bus;
    double err = fold_test_vec_relerr(pbar, vg, nb2, 1e-300);
    double err_c = fold_test_vec_relerr(pbar + nb2, vg + nb2, np - nb2, 1e-300);
    double lmp_min = vg[fx->L.p_pd], lmp_max = vg[fx->L.p_pd];
    for (fold_int i = 0; i < fx->cs->n_bus; i++) {
        lmp_min = fmin(lmp_min, vg[fx->L.p_pd + i]);
        lmp_max = fmax(lmp_max, vg[fx->L.p_pd + i]);
    }
    fold_int n_weak = -1;
    ck_assert_status(fold_weak_list(fx->sv, NULL, 0, 0, &n_weak), FOLD_OK);
    printf("# %s: LMP in [%.4g, %.4g] $/MWh, vjp vs value gradient %.2e (loads), %.2e (costs), "
           "active cons %ld, "
           "active bounds %ld, weakly active %ld\n",
           fx->cs->name, lmp_min, lmp_max, err, err_c, (long)info.n_active_cons,
           (long)info.n_active_bounds, (long)info.n_weak);
    ck_assert_int_eq(n_weak, info.n_weak);
    ck_assert_int_eq(info.kkt_form, FOLD_KKT_ACTIVE);
    ck_assert(singular ? info.singular_delta > 0 : info.singular_delta == 0);
    ck_assert_msg(err <= tol, "%s: vjp and value gradient differ by %g", fx->cs->name, err);
    ck_assert_msg(err_c <= 1e-6, "%s: cost part differs by %g", fx->cs->name, err_c);
    /* LMPs are prices of the order of the marginal costs: positive here */
    ck_assert(lmp_min > 0);
    free(x);
    free(p);
    free(xbar);
    free(pbar);
    free(gp);
    free(vg);
}

START_TEST(lmp_pglib)
{
    /* case24 and case73 have several generators at one bus with reactive output strictly
     * inside its bounds: singular active-set KKT, primal regularization (math.md §4.8).
     * case197_snem: multipliers from 1e-4 (marginal units at pmax) to 1.2e3 (expensive units
     * at pmin), the threshold of math.md (3.2b) must hold the former active. */
    const char *names[] = {"pglib_opf_case5_pjm",       "pglib_opf_case14_ieee",
                           "pglib_opf_case30_ieee",     "pglib_opf_case118_ieee",
                           "pglib_opf_case24_ieee_rts", "pglib_opf_case73_ieee_rts",
                           "pglib_opf_case197_snem"};
    fixture fx;
    /* case197's LMPs (1e-3 $/MWh) are small against Ipopt's absolute tolerance: the value
     * gradient's error scales with it (1.2e-7 relative at 1e-10, 1.2e-8 at 1e-11) */
    setup(&fx, names[_i], 0, _i == 6 ? 1e-11 : 1e-10);
    check_lmp(&fx, 1e-6, _i == 4 || _i == 5);
    teardown(&fx);
}
END_TEST

START_TEST(lmp_grid)
{
    fixture fx;
    setup(&fx, NULL, 60, 1e-10);
    check_lmp(&fx, 1e-6, false);
    teardown(&fx);
}
END_TEST

/* Columns of d pg / d pd and d vm / d pd for a few buses against central differences of
 * re-solves warm-started from the solution (step h MW). */
static void check_fd(fixture *fx, const fold_int *buses, int n_buses, double h)
{
    const fold_acopf_layout *L = &fx->L;
    fold_int n = L->n, np = L->np, ng = fx->cs->n_gen, nb = fx->cs->n_bus;
    fold_int nr = ng + nb;
    fold_int *rows = malloc((size_t)nr * sizeof(fold_int)), cols[8];
    double *J = malloc((size_t)nr * (size_t)n_buses * sizeof(double));
    double *p0 = malloc((size_t)np * sizeof(double)), *p = malloc((size_t)np * sizeof(double));
    double *x0 = malloc((size_t)n * sizeof(double)), *lam0 = malloc((size_t)L->m * sizeof(double));
    double *zl0 = malloc((size_t)n * sizeof(double)), *zu0 = malloc((size_t)n * sizeof(double));
    double *xp = malloc((size_t)n * sizeof(double)), *xm = malloc((size_t)n * sizeof(double));
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    for (fold_int k = 0; k < ng; k++)
        rows[k] = L->x_pg + k;
    for (fold_int i = 0; i < nb; i++)
        rows[ng + i] = L->x_vm + i;
    for (int c = 0; c < n_buses; c++)
        cols[c] = L->p_pd + buses[c];
    ck_assert_status(
        fold_jacobian(
            fx->sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = nr, .rows = rows, .n_cols = n_buses, .cols = cols},
            J, &info),
        FOLD_OK);
    fold_solver_params(fx->sv, p0);
    fold_solver_solution(fx->sv, x0, lam0, zl0, zu0, NULL);
    double worst = 0;
    for (int c = 0; c < n_buses; c++) {
        for (int side = 0; side < 2; side++) {
            memcpy(p, p0, (size_t)np * sizeof(double));
            p[cols[c]] += side ? -h : h;
            ck_assert_status(fold_solver_set_start(fx->sv, x0, lam0, zl0, zu0), FOLD_OK);
            ck_assert_status(fold_solve(fx->sv, p, NULL), FOLD_OK);
            fold_solver_solution(fx->sv, side ? xm : xp, NULL, NULL, NULL, NULL);
        }
        for (fold_int r = 0; r < nr; r++) {
            double fd = (xp[rows[r]] - xm[rows[r]]) / (2 * h);
            double an = J[r + (fold_int)c * nr];
            /* pg rows are p.u. per MW: compare in MW per MW */
            double s = r < ng ? fx->cs->base_mva : 1;
            double e = fabs(s * (fd - an)) / fmax(0.05, fabs(s * fd));
            if (e > worst) worst = e;
            ck_assert_msg(e <= 1e-4, "%s: d %s[%ld] / d pd[bus %ld]: fold %.8g, FD %.8g",
                          fx->cs->name, r < ng ? "pg" : "vm", (long)(r < ng ? r : r - ng),
                          fx->cs->bus[buses[c]].id, s * an, s * fd);
        }
    }
    printf("# %s: d(pg, vm)/d pd vs FD of re-solves: worst relative error %.2e\n", fx->cs->name,
           worst);
    /* restore the base solution */
    ck_assert_status(fold_solver_set_start(fx->sv, x0, lam0, zl0, zu0), FOLD_OK);
    ck_assert_status(fold_solve(fx->sv, p0, NULL), FOLD_OK);
    free(rows);
    free(J);
    free(p0);
    free(p);
    free(x0);
    free(lam0);
    free(zl0);
    free(zu0);
    free(xp);
    free(xm);
}

START_TEST(fd_pglib)
{
    const char *names[] = {"pglib_opf_case5_pjm", "pglib_opf_case14_ieee",
                           "pglib_opf_case24_ieee_rts"};
    const fold_int buses[][3] = {{1, 2, 3}, {2, 8, 13}, {0, 6, 18}};
    fixture fx;
    setup(&fx, names[_i], 0, 1e-11);
    check_fd(&fx, buses[_i], 3, 1e-2);
    teardown(&fx);
}
END_TEST

START_TEST(fd_grid)
{
    const fold_int buses[] = {3, 17, 40};
    fixture fx;
    setup(&fx, NULL, 60, 1e-11);
    check_fd(&fx, buses, 3, 1e-2);
    teardown(&fx);
}
END_TEST

/* case24: generators 1-4 sit at bus 1 with free reactive output. The derivative of one of
 * their qg is not unique (refused, naming the qg variables); in d qg / d pd (forward mode)
 * exactly the rows whose VJP is refused are NaN (doc/acopf.md §5). */
START_TEST(twin_qg)
{
    fixture fx;
    setup(&fx, "pglib_opf_case24_ieee_rts", 0, 1e-10);
    fold_int n = fx.L.n, np = fx.L.np, ng = fx.cs->n_gen;
    double *xbar = calloc((size_t)n, sizeof(double)), *pbar = malloc((size_t)np * sizeof(double));
    double *J = malloc((size_t)ng * sizeof(double));
    char want[64];
    xbar[fx.L.x_qg] = 1;
    ck_assert_status(fold_vjp(fx.sv, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not unique");
    snprintf(want, sizeof want, "gen %ld (bus %ld) qg", fx.cs->gen[0].row,
             fx.cs->bus[fx.cs->gen[0].bus].id);
    ck_assert_error_mentions(want);
    fold_int rows[64], col = fx.L.p_pd; /* bus 1 */
    ck_assert_int_le(ng, 64);
    for (fold_int k = 0; k < ng; k++)
        rows[k] = fx.L.x_qg + k;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    ck_assert_status(
        fold_jacobian(
            fx.sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = ng, .rows = rows, .n_cols = 1, .cols = &col},
            J, &info),
        FOLD_WARN_NOT_UNIQUE);
    /* their columns of K (zero in the Hessian, one entry in bus 1's reactive balance) are
     * parallel: the regularized matrix is factored at once (eq. 4.12b) */
    ck_assert_msg(strstr(info.fallback_reason, "null directions expected"), "'%s'",
                  info.fallback_reason);
    fold_int n_nan = 0;
    for (fold_int k = 0; k < ng; k++) {
        memset(xbar, 0, (size_t)n * sizeof(double));
        xbar[rows[k]] = 1;
        fold_status st = fold_vjp(fx.sv, &(fold_zbar){.x = xbar}, pbar, NULL);
        ck_assert_msg(isnan(J[k]) == (st == FOLD_ERR_SINGULAR),
                      "qg of generator %ld: J %g, "
                      "vjp %s",
                      (long)k, J[k], fold_status_name(st));
        if (!isnan(J[k])) /* the column of pd at bus 1 of the row's VJP */
            ck_assert_double_le(fabs(J[k] - pbar[col]), 1e-8 * fmax(1e-6, fabs(J[k])));
        n_nan += isnan(J[k]);
    }
    ck_assert(isnan(J[0]) && isnan(J[1]) && isnan(J[2]) && isnan(J[3]));
    ck_assert_int_eq(info.n_not_unique, n_nan);
    free(xbar);
    free(pbar);
    free(J);
    teardown(&fx);
}
END_TEST

/* MINRES under precond.kind = auto on a grid whose primal block makes the block
 * preconditioner indefinite: the first VJP breaks down with it and goes on with the SPD
 * variant (eq. 3.23 with a diagonal primal block); the second starts there, from the kept
 * factorization (no factorization, no broken-down attempt), with the same result, which is
 * the direct one (doc/math.md §3.9). */
START_TEST(minres_auto_kept)
{
    fixture fx;
    memset(&fx, 0, sizeof fx);
    ck_assert_acopf(fold_acopf_gen_grid(60, MINRES_GRID_SEED, &fx.cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(fx.cs, &fx.m), FOLD_OK);
    fx.L = fold_acopf_get_layout(fx.m);
    fold_settings_default(&fx.set);
    ck_assert_status(fold_solver_create(fold_acopf_problem(fx.m), &fx.set, &fx.sv), FOLD_OK);
    ck_assert_status(fold_solve(fx.sv, NULL, NULL), FOLD_OK);
    fold_int n = fx.L.n, np = fx.L.np;
    double *xbar = calloc((size_t)n, sizeof(double)), *pbar[3];
    for (int k = 0; k < 3; k++)
        pbar[k] = malloc((size_t)np * sizeof(double));
    for (fold_int k = 0; k < fx.cs->n_gen; k++)
        xbar[fx.L.x_pg + k] = 1.0 + (double)k / 7;
    ck_assert_status(fold_vjp(fx.sv, &(fold_zbar){.x = xbar}, pbar[0], NULL), FOLD_OK);
    fx.set.backward.method = FOLD_BACKWARD_MINRES;
    ck_assert_status(fold_solver_update_settings(fx.sv, &fx.set), FOLD_OK);
    fold_backward_info info[2] = {FOLD_BACKWARD_INFO_INIT, FOLD_BACKWARD_INFO_INIT};
    for (int k = 0; k < 2; k++) {
        ck_assert_status(fold_vjp(fx.sv, &(fold_zbar){.x = xbar}, pbar[k + 1], &info[k]), FOLD_OK);
        ck_assert_int_eq(info[k].precond, FOLD_PRECOND_BLOCK);
    }
    ck_assert_double_gt(info[0].factor_s, 0.0);
    ck_assert_double_eq(info[1].factor_s, 0.0);               /* the kept factorization */
    ck_assert_int_lt(info[1].iterations, info[0].iterations); /* no broken-down attempt */
    ck_assert_mem_eq(pbar[1], pbar[2], (size_t)np * sizeof(double));
    ck_assert_double_le(fold_test_vec_relerr(pbar[1], pbar[0], np, 1e-300), 1e-8);
    free(xbar);
    for (int k = 0; k < 3; k++)
        free(pbar[k]);
    teardown(&fx);
}
END_TEST

/* The barrier form as the primary form (backward.kkt_form = barrier) on a 200-bus grid: its
 * inequality rows far from their bounds (branch flows, voltage and generator limits given
 * as rows) condensed out of K (doc/math.md eq. 3.14a) give the Jacobian d vm / d pd (three
 * blocks of right-hand sides), d pg / d pd in reverse mode and the VJP of the objective of
 * the full form (every row factored), to 1e-9 relative; K is smaller. */
START_TEST(barrier_condensed)
{
    fixture fx;
    setup(&fx, NULL, 200, 1e-8);
    fold_int n = fx.L.n, np = fx.L.np, ng = fx.cs->n_gen, nb = fx.cs->n_bus;
    fold_int cols[7], rows[5];
    for (int k = 0; k < 7; k++)
        cols[k] = fx.L.p_pd + (fold_int)(k * 29) % nb;
    for (int k = 0; k < 5; k++)
        rows[k] = fx.L.x_pg + (fold_int)(k * 3) % ng;
    double *x = malloc((size_t)n * 8), *p = malloc((size_t)np * 8), *xbar = malloc((size_t)n * 8);
    double *J[2], *R[2], *pbar[2];
    fold_backward_info info[2];
    fold_solver_solution(fx.sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(fx.sv, p);
    fold_acopf_eval_grad_f(fx.m, x, p, xbar);
    fx.set.backward.kkt_form = FOLD_KKT_BARRIER;
    fx.set.backward.block_size = 3;
    for (int v = 0; v < 2; v++) {
        fx.set.backward.barrier_condense = v == 0;
        ck_assert_status(fold_solver_update_settings(fx.sv, &fx.set), FOLD_OK);
        J[v] = malloc((size_t)(nb * 7) * 8);
        R[v] = malloc((size_t)(5 * 7) * 8);
        pbar[v] = malloc((size_t)np * 8);
        info[v] = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
        fold_status st;
        fold_int *vm = malloc((size_t)nb * sizeof *vm);
        for (fold_int i = 0; i < nb; i++)
            vm[i] = fx.L.x_vm + i;
        st = fold_jacobian(fx.sv, &(fold_jacobian_sel){FOLD_BLOCK_X, nb, vm, 7, cols}, J[v], NULL);
        ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
        st = fold_jacobian(fx.sv, &(fold_jacobian_sel){FOLD_BLOCK_X, 5, rows, 7, cols}, R[v], NULL);
        ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
        st = fold_vjp(fx.sv, &(fold_zbar){.x = xbar}, pbar[v], &info[v]);
        ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
        ck_assert_int_eq(info[v].kkt_form, FOLD_KKT_BARRIER);
        free(vm);
    }
    ck_assert_int_eq(info[1].dim, n + fx.L.m);
    ck_assert_int_lt(info[0].dim, n + fx.L.m / 2); /* most rows are far from their bounds */
    double ej = fold_test_vec_relerr(J[0], J[1], nb * 7, 1e-300);
    double er = fold_test_vec_relerr(R[0], R[1], 5 * 7, 1e-300);
    double ep = fold_test_vec_relerr(pbar[0], pbar[1], np, 1e-300);
    printf("# barrier form, 200 buses: order %lld of %lld; condensed vs full: d vm / d pd %.2e, "
           "d pg / d pd %.2e, vjp %.2e\n",
           (long long)info[0].dim, (long long)info[1].dim, ej, er, ep);
    ck_assert_double_le(ej, 1e-9);
    ck_assert_double_le(er, 1e-9);
    ck_assert_double_le(ep, 1e-9);
    for (int v = 0; v < 2; v++) {
        free(J[v]);
        free(R[v]);
        free(pbar[v]);
    }
    free(x);
    free(p);
    free(xbar);
    teardown(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_fold");
    TCase *tc = tcase_create("fold");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, lmp_pglib, 0, 7);
    tcase_add_test(tc, lmp_grid);
    tcase_add_loop_test(tc, fd_pglib, 0, 3);
    tcase_add_test(tc, twin_qg);
    tcase_add_test(tc, fd_grid);
    tcase_add_test(tc, minres_auto_kept);
    tcase_add_test(tc, barrier_condensed);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
