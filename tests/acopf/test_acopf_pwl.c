/* Piecewise-linear generator costs (doc/acopf.md eq. 7): a one-segment PWL cost equals the
 * linear polynomial (same optimum, LMPs, d pg / d pd); a fine PWL interpolant of a
 * quadratic gives its optimum within the interpolation error bound; write/read round trip;
 * layout; derivatives against central differences. */
#include "acopf_test.h"

/* The tiny case with its gencost block replaced by `rows` (malloc'ed). */
static char *with_costs(const char *rows)
{
    const char *text = acopf_tiny_case;
    const char *start = strstr(text, "mpc.gencost"), *end = strstr(text, "mpc.branch");
    size_t head = (size_t)(start - text);
    char *out = malloc(head + strlen(rows) + strlen(end) + 64);
    memcpy(out, text, head);
    sprintf(out + head, "mpc.gencost = [\n%s];\n%s", rows, end);
    return out;
}

/* One PWL row interpolating c2 P^2 + c1 P + c0 at n points on [0, 200] MW, padded to
 * `width` fields; appended to buf. */
static void pwl_row(char *buf, int n, double c2, double c1, double c0, int width)
{
    char *p = buf + strlen(buf);
    p += sprintf(p, "\t1\t0\t0\t%d", n);
    for (int j = 0; j < n; j++) {
        double x = 200.0 * j / (n - 1);
        p += sprintf(p, "\t%.17g\t%.17g", x, c2 * x * x + c1 * x + c0);
    }
    for (int j = 2 * n; j < width; j++)
        p += sprintf(p, "\t0");
    sprintf(p, ";\n");
}

static void poly_row(char *buf, double c2, double c1, double c0, int width)
{
    char *p = buf + strlen(buf);
    p += sprintf(p, "\t2\t0\t0\t3\t%.17g\t%.17g\t%.17g", c2, c1, c0);
    for (int j = 3; j < width; j++)
        p += sprintf(p, "\t0");
    sprintf(p, ";\n");
}

typedef struct solved {
    fold_acopf_case *cs;
    fold_acopf *m;
    fold_solver *sv;
    fold_acopf_layout L;
    double obj, pg[2], lmp[3];
} solved;

static void solve_text(const char *text, const char *name, solved *s)
{
    fold_settings set;
    memset(s, 0, sizeof *s);
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), name, &s->cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(s->cs, &s->m), FOLD_OK);
    s->L = fold_acopf_get_layout(s->m);
    fold_settings_default(&set);
    set.forward.tol = 1e-10;
    ck_assert_status(fold_solver_create(fold_acopf_problem(s->m), &set, &s->sv), FOLD_OK);
    ck_assert_status(fold_solve(s->sv, NULL, NULL), FOLD_OK);
    double *x = malloc((size_t)s->L.n * sizeof(double)), *vg = malloc((size_t)s->L.np * 8);
    ck_assert_status(fold_solver_solution(s->sv, x, NULL, NULL, NULL, &s->obj), FOLD_OK);
    fold_acopf_solution_units(s->m, x, s->pg, NULL, NULL, NULL);
    /* the true cost at the dispatch equals the epigraph objective at the optimum */
    ck_assert_double_eq_tol(fold_acopf_objective(s->m, x), s->obj, 1e-6 * s->obj);
    ck_assert_status(fold_value_gradient(s->sv, vg), FOLD_OK);
    for (int i = 0; i < 3; i++)
        s->lmp[i] = vg[s->L.p_pd + i];
    free(x);
    free(vg);
}

static void solved_free(solved *s)
{
    fold_solver_free(s->sv);
    fold_acopf_free(s->m);
    fold_acopf_case_free(s->cs);
}

/* d pg / d pd (2 x 3, MW per MW in p.u. of the model) by fold_jacobian. */
static void dpg_dpd(solved *s, double *J)
{
    fold_int rows[2] = {s->L.x_pg, s->L.x_pg + 1};
    fold_int cols[3] = {s->L.p_pd, s->L.p_pd + 1, s->L.p_pd + 2};
    ck_assert_status(
        fold_jacobian(s->sv,
                      &(fold_jacobian_sel){
                          .of = FOLD_BLOCK_X, .n_rows = 2, .rows = rows, .n_cols = 3, .cols = cols},
                      J, NULL),
        FOLD_OK);
}

/* Linear costs: a 2-point PWL on [0, 200] MW is the same function, so the optimum, the LMPs
 * (envelope), the objective VJP and d pg / d pd agree to solver accuracy. */
START_TEST(one_segment_equals_linear)
{
    char rows_poly[512] = "", rows_pwl[512] = "";
    poly_row(rows_poly, 0, 20, 5, 4);
    poly_row(rows_poly, 0, 21, 0, 4);
    pwl_row(rows_pwl, 2, 0, 20, 5, 4);
    pwl_row(rows_pwl, 2, 0, 21, 0, 4);
    char *t_poly = with_costs(rows_poly), *t_pwl = with_costs(rows_pwl);
    solved a, b;
    solve_text(t_poly, "lin.m", &a);
    solve_text(t_pwl, "pwl.m", &b);
    ck_assert_int_eq(b.L.n_pwl, 2);
    ck_assert_int_eq(b.L.n_seg, 2);
    ck_assert_int_eq(b.L.n, a.L.n + 2);
    ck_assert_int_eq(b.L.m, a.L.m + 2);
    ck_assert_int_eq(b.L.np, a.L.np);
    ck_assert_int_eq(fold_acopf_pwl_gen(b.m, 1), 1);
    ck_assert_int_eq(fold_acopf_seg_gen(b.m, 0), 0);
    ck_assert_int_eq(fold_acopf_seg_gen(b.m, 2), -1);
    printf("# linear: objective %.10g vs PWL %.10g, pg (%.6f, %.6f) vs (%.6f, %.6f)\n", a.obj,
           b.obj, a.pg[0], a.pg[1], b.pg[0], b.pg[1]);
    ck_assert_double_eq_tol(a.obj, b.obj, 1e-7 * a.obj);
    for (int k = 0; k < 2; k++)
        ck_assert_double_eq_tol(a.pg[k], b.pg[k], 1e-5);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq_tol(a.lmp[i], b.lmp[i], 1e-5 * fabs(a.lmp[i]));
    double Ja[6], Jb[6];
    dpg_dpd(&a, Ja);
    dpg_dpd(&b, Jb);
    for (int k = 0; k < 6; k++)
        ck_assert_double_eq_tol(Ja[k], Jb[k], 1e-5);
    /* the objective VJP through the epigraph rows equals the envelope gradient */
    double *x = malloc((size_t)b.L.n * sizeof(double)), *xbar = malloc((size_t)b.L.n * 8);
    double *pbar = malloc((size_t)b.L.np * 8), *gp = malloc((size_t)b.L.np * 8);
    double *p = malloc((size_t)b.L.np * 8);
    fold_solver_solution(b.sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(b.sv, p);
    fold_acopf_eval_grad_f(b.m, x, p, xbar);
    fold_acopf_eval_grad_f_p(b.m, x, p, gp);
    ck_assert_status(fold_vjp(b.sv, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq_tol(pbar[b.L.p_pd + i] + gp[b.L.p_pd + i], b.lmp[i],
                                1e-6 * fabs(b.lmp[i]));
    /* c1, c2 are inert for PWL generators */
    for (int k = 0; k < 2; k++) {
        ck_assert_double_eq(p[b.L.p_c1 + k], 0);
        ck_assert_double_eq(gp[b.L.p_c1 + k], 0);
        ck_assert_double_eq_tol(pbar[b.L.p_c2 + k], 0, 1e-12);
    }
    free(x);
    free(xbar);
    free(pbar);
    free(gp);
    free(p);
    solved_free(&a);
    solved_free(&b);
    free(t_poly);
    free(t_pwl);
}
END_TEST

/* A PWL interpolant with n points of convex quadratics lies above them by at most
 * c2 dx^2 / 4 (dx = 200 / (n - 1) MW), so 0 <= f*_pwl - f*_poly <= sum_k c2_k dx^2 / 4; the
 * dispatch and the LMPs approach those of the quadratic as dx -> 0. */
START_TEST(fine_pwl_approximates_quadratic)
{
    const double c2[2] = {0.01, 0.02}, c1[2] = {20, 21}, c0[2] = {0, 3};
    char rows_poly[512] = "";
    for (int k = 0; k < 2; k++)
        poly_row(rows_poly, c2[k], c1[k], c0[k], 3);
    char *t_poly = with_costs(rows_poly);
    solved a;
    solve_text(t_poly, "quad.m", &a);
    ck_assert(a.pg[0] > 1 && a.pg[1] > 1); /* both generators inside their ranges */
    const int npts[2] = {41, 401};
    double prev_err = HUGE_VAL;
    for (int r = 0; r < 2; r++) {
        int n = npts[r];
        double dx = 200.0 / (n - 1), bound = (c2[0] + c2[1]) * dx * dx / 4;
        char *rows = calloc(64 * (size_t)n + 256, 2);
        for (int k = 0; k < 2; k++)
            pwl_row(rows, n, c2[k], c1[k], c0[k], 2 * n);
        char *text = with_costs(rows);
        solved b;
        solve_text(text, "pwl.m", &b);
        double gap = b.obj - a.obj, err = fmax(fabs(b.pg[0] - a.pg[0]), fabs(b.pg[1] - a.pg[1]));
        double lmp_err = 0;
        for (int i = 0; i < 3; i++)
            lmp_err = fmax(lmp_err, fabs(b.lmp[i] - a.lmp[i]));
        printf("# %d points: objective gap %.3e (bound %.3e), pg error %.3e MW, LMP error "
               "%.3e $/MWh\n",
               n, gap, bound, err, lmp_err);
        ck_assert(gap >= -1e-8 * a.obj && gap <= bound + 1e-8 * a.obj);
        /* marginal costs differ by at most 2 c2 dx between a PWL slope and the quadratic */
        ck_assert(err <= 2 * dx);
        ck_assert(lmp_err <= 2 * fmax(c2[0], c2[1]) * dx * 1.05);
        ck_assert(err < prev_err || err < 1e-3);
        prev_err = err;
        /* write and read back: the same PWL */
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        ck_assert_acopf(fold_acopf_case_write(b.cs, mem), FOLD_OK);
        fclose(mem);
        fold_acopf_case *back = NULL;
        ck_assert_acopf(fold_acopf_case_parse(buf, len, "back.m", &back), FOLD_OK);
        ck_assert(back->gen[0].pwl && back->gen[1].pwl);
        ck_assert_int_eq(back->gen[1].n_cost, n);
        for (int j = 0; j < 2 * n; j++)
            ck_assert_double_eq(back->cost[back->gen[1].cost_off + j],
                                b.cs->cost[b.cs->gen[1].cost_off + j]);
        fold_acopf_case_free(back);
        free(buf);
        solved_free(&b);
        free(text);
        free(rows);
    }
    solved_free(&a);
    free(t_poly);
}
END_TEST

/* Mixed models: gen 1 polynomial, gen 2 PWL; derivatives against central differences at
 * jittered points and at the solution (PWL rows: exact linear entries). */
START_TEST(pwl_derivatives)
{
    char rows[1024] = "";
    poly_row(rows, 0.01, 20, 0, 10);
    pwl_row(rows, 5, 0.02, 21, 3, 10);
    char *text = with_costs(rows);
    solved s;
    solve_text(text, "mixed.m", &s);
    ck_assert_int_eq(s.L.n_pwl, 1);
    ck_assert_int_eq(s.L.n_seg, 4);
    const fold_problem *prob = fold_acopf_problem(s.m);
    double x[11], x0[11], p[96], lam[20];
    ck_assert_int_le(s.L.np, 96);
    fold_test_rng r;
    fold_test_rng_seed(&r, 21);
    fold_problem_default_params(prob, p);
    ck_assert_double_eq(p[s.L.p_c2 + 0], 0.01);
    ck_assert_double_eq(p[s.L.p_c2 + 1], 0);
    fold_solver_solution(s.sv, x0, NULL, NULL, NULL, NULL);
    for (int trial = 0; trial < 4; trial++) {
        fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
        if (trial < 2)
            fold_acopf_flat_start(s.m, x);
        else
            memcpy(x, x0, sizeof x);
        for (fold_int j = 0; j < s.L.n; j++)
            x[j] += (trial < 2 ? 0.1 : 0.01) * (2 * fold_test_uniform(&r) - 1);
        for (fold_int i = 0; i < s.L.m; i++)
            lam[i] = 100 * fold_test_normal(&r);
        ck_assert_status(fold_problem_check_derivatives(prob, x, p, lam, 1e-6, 1e-5, &rep),
                         FOLD_OK);
        ck_assert(rep.max_rel_error < 1e-5);
    }
    solved_free(&s);
    free(text);
}
END_TEST

START_TEST(invalid_pwl_in_memory)
{
    char rows[512] = "";
    poly_row(rows, 0.01, 20, 0, 6);
    pwl_row(rows, 3, 0.02, 21, 3, 6);
    char *text = with_costs(rows);
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "mem.m", &cs), FOLD_OK);
    double *pt = cs->cost + cs->gen[1].cost_off;
    pt[5] = pt[3]; /* flat last segment after a rising one: not convex */
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_ERR_ARGUMENT);
    ck_assert(strstr(fold_last_error(), "gen[1]") != NULL);
    pt[5] = 1e6;
    pt[4] = pt[2]; /* repeated MW */
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_ERR_ARGUMENT);
    cs->gen[1].n_cost = 1;
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_ERR_ARGUMENT);
    ck_assert_ptr_null(m);
    fold_acopf_case_free(cs);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_pwl");
    TCase *tc = tcase_create("pwl");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, one_segment_equals_linear);
    tcase_add_test(tc, fine_pwl_approximates_quadratic);
    tcase_add_test(tc, pwl_derivatives);
    tcase_add_test(tc, invalid_pwl_in_memory);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
