/* Derivative checker on the AC-OPF model: all six derivative callbacks against central
 * differences (fold_problem_check_derivatives, doc/math.md §2.1) at seeded random points
 * around the flat start and around the solution, on case14, case30 (when present), synthetic
 * grids and a tiny case with cubic costs; plus a corrupted model the checker must reject. */
#include "acopf_test.h"
#include "acopf/acopf_internal.h"

/* Central differences with step h max(1, |v|) have truncation error O(h^2) and rounding
 * error ~1e-16 |f| / h: with h = 1e-6 both are <= ~1e-6 relative here, so 1e-5 separates
 * noise from a wrong derivative (the corruption test uses a 1e-4 error). */
#define FD_STEP 1e-6
#define FD_TOL 1e-5

static double clamp_uniform(fold_test_rng *r, double lo, double hi, double mid, double half)
{
    double a = fmax(lo, mid - half), b = fmin(hi, mid + half);
    if (!(a < b)) return mid;
    return a + (b - a) * fold_test_uniform(r);
}

/* x: base point perturbed by up to `rel` of each bound range (or by `rel` when a bound is
 * infinite), kept within the bounds; lam: balance multipliers ~ lam_scale N(0,1), thermal
 * U(0, lam_scale / 10), angle N(0, 1). base_lam (may be NULL) is added to lam. */
static void random_point(const fold_acopf *m, fold_test_rng *r, const double *base, double rel,
                         const double *base_lam, double lam_scale, double *x, double *lam)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int j = 0; j < L->n; j++) {
        double lo = m->x_lo[j], hi = m->x_hi[j];
        bool finite = lo > -FOLD_INF_BOUND && hi < FOLD_INF_BOUND;
        double half = rel * (finite ? hi - lo : 1.0);
        if (j < L->x_vm) half = rel * 1.0; /* angles: radians */
        x[j] = clamp_uniform(r, lo, hi, base[j], half);
    }
    for (fold_int i = 0; i < L->m; i++) {
        double v;
        if (i < L->g_sf)
            v = lam_scale * fold_test_normal(r);
        else if (i < L->g_ang)
            v = lam_scale / 10 * fold_test_uniform(r);
        else
            v = fold_test_normal(r);
        lam[i] = (base_lam ? base_lam[i] : 0) + v;
    }
}

/* Check at x, lam with the default parameters perturbed by up to 20%. */
static void check_at(const fold_acopf *m, fold_test_rng *r, const double *x, const double *lam,
                     const char *what, double *worst)
{
    const fold_problem *prob = fold_acopf_problem(m);
    double *p = malloc((size_t)m->L.np * sizeof(double));
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    fold_problem_default_params(prob, p);
    for (fold_int j = 0; j < m->L.np; j++)
        p[j] *= 1 + 0.2 * (2 * fold_test_uniform(r) - 1);
    fold_status st = fold_problem_check_derivatives(prob, x, p, lam, FD_STEP, FD_TOL, &rep);
    ck_assert_msg(st == FOLD_OK, "%s %s: %s", m->cs.name, what, fold_last_error());
    ck_assert_int_eq(rep.n_missing, 0);
    ck_assert(rep.n_checked > 0);
    *worst = fmax(*worst, rep.max_rel_error);
    free(p);
}

/* Four random points around the flat start and, unless skip_solve, four around the
 * solution (with the solution's multipliers plus noise). */
static void check_model(fold_acopf *m, unsigned long long seed, bool solve)
{
    const fold_acopf_layout *L = &m->L;
    fold_test_rng r;
    double *x0 = malloc((size_t)L->n * sizeof(double)), *x = malloc((size_t)L->n * sizeof(double));
    double *lam0 = calloc((size_t)L->m + 1, sizeof(double));
    double *lam = malloc(((size_t)L->m + 1) * sizeof(double));
    double worst_flat = 0, worst_sol = 0;
    fold_test_rng_seed(&r, seed);
    fold_acopf_flat_start(m, x0);
    /* Multipliers of scale 1 and 10: the second derivatives are linear in lam, and at the
     * scale of prices (1e3 $/h per p.u.) grad_x L reaches 1e5 at these points, whose
     * rounding noise in the central difference, |grad_x L| eps / h ~ 1e-5, is the
     * tolerance itself on the entries of hess_lp below 1 (branch parameters: the failing
     * entry moves with the step, 1e-5 .. 3e-7, as noise does, never a fixed one). */
    for (int k = 0; k < 4; k++) {
        random_point(m, &r, x0, 0.3, NULL, k < 2 ? 1.0 : 10.0, x, lam);
        check_at(m, &r, x, lam, "flat start", &worst_flat);
    }
    if (solve) {
        fold_settings set;
        fold_solver *sv = NULL;
        fold_settings_default(&set);
        ck_assert_status(fold_solver_create(m->prob, &set, &sv), FOLD_OK);
        ck_assert_status(fold_solve(sv, NULL, NULL), FOLD_OK);
        ck_assert_status(fold_solver_solution(sv, x0, lam0, NULL, NULL, NULL), FOLD_OK);
        fold_solver_free(sv);
        /* The second derivatives are linear in lam: scale the solution's multipliers (prices
         * of 1e3 $/h per p.u.) to at most 10. With them at full size the entries of grad_x L
         * reach 1e5 and the central difference's rounding noise, |grad_x L| eps / h ~ 4e-5,
         * exceeds the tolerance on the small entries of hess_lp (branch parameters). */
        double big = 0;
        for (fold_int i = 0; i < L->m; i++)
            big = fmax(big, fabs(lam0[i]));
        for (fold_int i = 0; big > 10 && i < L->m; i++)
            lam0[i] *= 10 / big;
        for (int k = 0; k < 4; k++) {
            random_point(m, &r, x0, 0.01, lam0, 10.0, x, lam);
            check_at(m, &r, x, lam, "near the solution", &worst_sol);
        }
    }
    printf("# %s (n %ld, m %ld, np %ld): worst relative error %.2e (flat), %.2e (solution)\n",
           m->cs.name, (long)L->n, (long)L->m, (long)L->np, worst_flat, worst_sol);
    free(x0);
    free(x);
    free(lam0);
    free(lam);
}

static void check_pglib(const char *name)
{
    char buf[1024];
    const char *path = acopf_test_need_case(name, buf, sizeof buf);
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_case_read(path, &cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    check_model(m, 14, true);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}

START_TEST(case14)
{
    check_pglib("pglib_opf_case14_ieee");
}
END_TEST

START_TEST(case30)
{
    check_pglib("pglib_opf_case30_ieee");
}
END_TEST

START_TEST(synthetic)
{
    fold_int sizes[] = {12, 40};
    for (int s = 0; s < 2; s++) {
        fold_acopf_case *cs = NULL;
        fold_acopf *m = NULL;
        ck_assert_acopf(fold_acopf_gen_grid(sizes[s], 3 + (unsigned)s, &cs), FOLD_OK);
        ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
        check_model(m, 100 + (unsigned long long)s, true);
        fold_acopf_free(m);
        fold_acopf_case_free(cs);
    }
}
END_TEST

/* Cubic and constant cost terms, a tap and a phase shift, shunts (the tiny case). */
START_TEST(cubic_costs)
{
    const char *text = acopf_tiny_case;
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    const char *cost_rows = "mpc.gencost = [\n\t2\t0\t0\t4\t0\t0.01\t20\t5;\n"
                            "\t2\t0\t0\t4\t1e-4\t0.02\t25\t7;\n];\n";
    const char *start = strstr(text, "mpc.gencost"), *end = strstr(text, "mpc.branch");
    ck_assert_ptr_nonnull(start);
    ck_assert_ptr_nonnull(end);
    size_t head = (size_t)(start - text), tail = strlen(end);
    char *full = malloc(head + strlen(cost_rows) + tail + 1);
    memcpy(full, text, head);
    strcpy(full + head, cost_rows);
    strcat(full, end);
    ck_assert_acopf(fold_acopf_case_parse(full, strlen(full), "tiny_cubic.m", &cs), FOLD_OK);
    ck_assert_int_eq(cs->gen[1].n_cost, 4);
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    check_model(m, 7, true);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
    free(full);
}
END_TEST

/* Every rated branch with flow variables (doc/acopf.md §2.1): thermal rows in the flow
 * variables, the rows v - h(V) and their Hessian weights, on case14 (when present), a
 * synthetic grid and the tiny case (tap, shift, line charging). */
START_TEST(flow_variables)
{
    fold_acopf_options opt = {.flow_var_max_z = HUGE_VAL};
    fold_acopf_case *cs = NULL;
    char buf[1024];
    if (_i == 0)
        ck_assert_acopf(fold_acopf_case_read(
                            acopf_test_need_case("pglib_opf_case14_ieee", buf, sizeof buf), &cs),
                        FOLD_OK);
    else if (_i == 1)
        ck_assert_acopf(fold_acopf_gen_grid(40, 5, &cs), FOLD_OK);
    else
        ck_assert_acopf(
            fold_acopf_case_parse(acopf_tiny_case, strlen(acopf_tiny_case), "tiny.m", &cs),
            FOLD_OK);
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_create_with(cs, &opt, &m), FOLD_OK);
    ck_assert_int_gt(m->L.n_flow, 0);
    ck_assert_int_eq(m->L.n_flow, m->L.n_rated);
    check_model(m, 40 + (unsigned long long)_i, true);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

/* ---- a corrupted copy of the model: one entry of one function off by 1e-4 relative ---- */

typedef struct corrupt {
    fold_acopf *m;
    int which;    /* 0 grad_f .. 5 hess_lp */
    double delta; /* the error: 1e-4 max(1, |entry|) at the checked point, the same at every
                     point (an error that varied with x would also show in the finite
                     differences of the next derivative) */
} corrupt;

static void spoil(const corrupt *c, double *v, fold_int k)
{
    v[k] += c->delta;
}

static int c_f(const double *x, const double *p, double *o, void *ud)
{
    return acopf_cb_f(x, p, o, ((corrupt *)ud)->m);
}

static int c_g(const double *x, const double *p, double *o, void *ud)
{
    return acopf_cb_g(x, p, o, ((corrupt *)ud)->m);
}

static int c_grad_f(const double *x, const double *p, double *o, void *ud)
{
    corrupt *c = ud;
    int rc = acopf_cb_grad_f(x, p, o, c->m);
    if (c->which == 0) spoil(c, o, c->m->L.x_pg);
    return rc;
}

static int c_jac_g(const double *x, const double *p, double *o, void *ud)
{
    corrupt *c = ud;
    int rc = acopf_cb_jac_g(x, p, o, c->m);
    if (c->which == 1) spoil(c, o, c->m->jac_nnz / 2);
    return rc;
}

static int c_hess_l(const double *x, const double *p, double s, const double *lam, double *o,
                    void *ud)
{
    corrupt *c = ud;
    int rc = acopf_cb_hess_l(x, p, s, lam, o, c->m);
    if (c->which == 2) spoil(c, o, c->m->hess_nnz / 2);
    return rc;
}

static int c_grad_f_p(const double *x, const double *p, double *o, void *ud)
{
    corrupt *c = ud;
    int rc = acopf_cb_grad_f_p(x, p, o, c->m);
    if (c->which == 3) spoil(c, o, c->m->L.p_c2);
    return rc;
}

static int c_jac_g_p(const double *x, const double *p, double *o, void *ud)
{
    corrupt *c = ud;
    int rc = acopf_cb_jac_g_p(x, p, o, c->m);
    if (c->which == 4) spoil(c, o, 1);
    return rc;
}

static int c_hess_lp(const double *x, const double *p, const double *lam, double *o, void *ud)
{
    corrupt *c = ud;
    int rc = acopf_cb_hess_lp(x, p, lam, o, c->m);
    if (c->which == 5) spoil(c, o, 0);
    return rc;
}

/* The entry that c->which spoils, at (x, default parameters, lam). */
static double spoiled_entry(const corrupt *c, const double *x, const double *lam)
{
    const fold_acopf *m = c->m;
    size_t len = (size_t)(m->L.n + m->L.np + m->jac_nnz + m->hess_nnz + 2 * m->cs.n_bus + 1);
    double *v = malloc(len * sizeof(double)), e = 0;
    const double *p = m->p0;
    switch (c->which) {
    case 0:
        acopf_cb_grad_f(x, p, v, c->m);
        e = v[m->L.x_pg];
        break;
    case 1:
        acopf_cb_jac_g(x, p, v, c->m);
        e = v[m->jac_nnz / 2];
        break;
    case 2:
        acopf_cb_hess_l(x, p, 1, lam, v, c->m);
        e = v[m->hess_nnz / 2];
        break;
    case 3:
        acopf_cb_grad_f_p(x, p, v, c->m);
        e = v[m->L.p_c2];
        break;
    case 4:
        acopf_cb_jac_g_p(x, p, v, c->m);
        e = v[1];
        break;
    default:
        acopf_cb_hess_lp(x, p, lam, v, c->m);
        e = v[0];
        break;
    }
    free(v);
    return e;
}

START_TEST(corrupted_is_rejected)
{
    static const char *names[6] = {"grad_f", "jac_g", "hess_l", "grad_f_p", "jac_g_p", "hess_lp"};
    fold_acopf_case *cs = NULL;
    corrupt c = {NULL, 0, 0};
    ck_assert_acopf(fold_acopf_gen_grid(12, 5, &cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(cs, &c.m), FOLD_OK);
    const fold_acopf *m = c.m;
    const fold_problem *orig = fold_acopf_problem(m);
    fold_nlp_def d = {
        .name = "corrupted",
        .n = m->L.n,
        .m = m->L.m,
        .np = m->L.np,
        .x_lower = m->x_lo,
        .x_upper = m->x_hi,
        .g_lower = m->g_lo,
        .g_upper = m->g_hi,
        .x_start = m->x0,
        .p_default = m->p0,
        .jac_g = {m->jac_nnz, m->jac_row, m->jac_col},
        .hess_l = {m->hess_nnz, m->hess_row, m->hess_col},
        .jac_g_p = {m->jgp_nnz, m->jgp_row, m->jgp_col},
        .hess_lp = {m->hlp_nnz, m->hlp_row, m->hlp_col},
        .cb = {c_f, c_grad_f, c_g, c_jac_g, c_hess_l, c_grad_f_p, c_hess_lp, c_jac_g_p},
        .user_data = &c};
    ck_assert_ptr_nonnull(orig);
    fold_test_rng r;
    fold_test_rng_seed(&r, 9);
    double *x = malloc((size_t)m->L.n * sizeof(double));
    double *lam = malloc(((size_t)m->L.m + 1) * sizeof(double));
    double *x0 = malloc((size_t)m->L.n * sizeof(double));
    fold_acopf_flat_start(m, x0);
    random_point(m, &r, x0, 0.3, NULL, 10.0, x, lam);
    for (int w = -1; w < 6; w++) {
        fold_problem *prob = NULL;
        fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
        c.which = w;
        c.delta = w < 0 ? 0 : 1e-4 * fmax(1.0, fabs(spoiled_entry(&c, x, lam)));
        ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
        fold_status st = fold_problem_check_derivatives(prob, x, NULL, lam, FD_STEP, FD_TOL, &rep);
        if (w < 0) {
            ck_assert_status(st, FOLD_OK); /* the wrapper itself is exact */
        } else {
            ck_assert_msg(st == FOLD_WARN_INACCURATE, "corrupted %s not detected", names[w]);
            ck_assert_str_eq(rep.worst_function, names[w]);
            ck_assert_int_ge(rep.n_bad, 1);
            printf("# corrupted %s: %ld bad entries, worst %.2e\n", names[w], (long)rep.n_bad,
                   rep.max_rel_error);
            ck_assert(rep.max_rel_error > 5e-5 && rep.max_rel_error < 2e-4);
        }
        fold_problem_free(prob);
    }
    free(x);
    free(x0);
    free(lam);
    fold_acopf_free(c.m);
    fold_acopf_case_free(cs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_deriv");
    TCase *tc = tcase_create("deriv");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, case14);
    tcase_add_test(tc, case30);
    tcase_add_test(tc, synthetic);
    tcase_add_test(tc, cubic_costs);
    tcase_add_loop_test(tc, flow_variables, 0, 3);
    tcase_add_test(tc, corrupted_is_rejected);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
