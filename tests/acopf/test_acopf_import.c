/* Solutions computed elsewhere (doc/acopf.md §8): foldopt's own solved case read back and
 * imported (the given multipliers accepted, the derivatives those of the solve), the same
 * rounded as MATPOWER's savecase writes it (residuals reported), with the multipliers
 * removed (recovered by least squares), perturbed (refused, naming the bus), shifted in
 * angle, polished, and of another network (refused). */
#include <unistd.h>

#include "acopf_test.h"

typedef acopf_solved solved;

/* The tiny case with generator 2's cost a convex 3-point PWL (epigraph rows, eq. 7). */
static const char *pwl_text(char *text, size_t len)
{
    const char *start = strstr(acopf_tiny_case, "mpc.gencost");
    const char *end = strstr(acopf_tiny_case, "mpc.branch");
    snprintf(text, len,
             "%.*smpc.gencost = [\n\t2\t0\t0\t3\t0.01\t20\t0\t0\t0\t0;\n"
             "\t1\t0\t0\t3\t0\t0\t40\t900\t200\t5000;\n];\n%s",
             (int)(start - acopf_tiny_case), acopf_tiny_case, end);
    return text;
}

/* Ipopt's tolerance for solve_case (0: the default; else without bound relaxation). */
static double solve_tol = 0;

/* Solve a PGLib case (name), the PWL case (name "pwl") or a synthetic grid. */
static void solve_case(solved *s, const char *name, fold_int grid, double max_z)
{
    if (name && !strcmp(name, "pwl")) {
        char buf[4096];
        memset(s, 0, sizeof *s);
        pwl_text(buf, sizeof buf);
        ck_assert_acopf(fold_acopf_case_parse(buf, strlen(buf), "pwl.m", &s->cs), FOLD_OK);
    } else {
        acopf_test_load(s, name, grid, 3);
    }
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = max_z;
    fold_settings set;
    fold_settings_default(&set);
    static const char *const no_relax[] = {"bound_relax_factor", "0", NULL};
    if (solve_tol > 0) set.forward.tol = solve_tol;
    acopf_test_solve_ipopt(s, &opt, &set, solve_tol > 0 ? no_relax : NULL);
}

/* Write res as a solved case into a temporary file and read it back as a solution. */
static fold_acopf_results *through_file(const solved *s, const fold_acopf_results *res,
                                        fold_acopf_case *cs_written)
{
    char path[] = "/tmp/foldopt_import_XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_acopf(fold_acopf_case_write_solved(cs_written ? cs_written : s->cs, res, fp),
                    FOLD_OK);
    fclose(fp);
    fold_acopf_results *back = NULL;
    fold_status st = fold_acopf_solution_read(path, s->cs, &back);
    unlink(path);
    ck_assert_acopf(st, FOLD_OK);
    return back;
}

/* A new solver of s's model with the solution imported. */
static fold_solver *imported(const solved *s, const fold_acopf_results *sol, bool polish,
                             fold_status want, fold_acopf_import_info *ii)
{
    fold_solver *sv = NULL;
    ck_assert_status(fold_solver_create(fold_acopf_problem(s->m), NULL, &sv), FOLD_OK);
    fold_acopf_import_options opt;
    fold_acopf_default_import_options(&opt);
    opt.polish = polish;
    ck_assert_acopf(fold_acopf_import(s->m, sv, NULL, sol, &opt, NULL, ii), want);
    return sv;
}

/* Entries of b's result that b leaves without a value (an imported point has no re-solve to
 * decide ambiguous sides: uncertain entries, kinks; doc/math.md §3.2) must hold a's value in
 * their interval; the others are compared. Returns the largest relative difference of those
 * and counts the flagged ones in *flagged. */
static double compare_flagged(const fold_solver *b, const double *va, double *vb, fold_int len,
                              fold_int *flagged)
{
    const fold_trust_item *items;
    fold_int count;
    ck_assert_status(fold_trust_report(b, &items, &count), FOLD_OK);
    for (fold_int k = 0; k < count; k++) {
        const fold_trust_item *it = &items[k];
        if (it->kind != FOLD_TRUST_UNCERTAIN && it->kind != FOLD_TRUST_KINK) continue;
        ck_assert(it->entry >= 0 && it->entry < len);
        double v = va[it->entry], tol = 1e-9 * fmax(1, fabs(v));
        ck_assert_msg(v >= fmin(it->lo, it->hi) - tol && v <= fmax(it->lo, it->hi) + tol,
                      "%s: %g outside [%g, %g]", it->name, v, it->lo, it->hi);
        vb[it->entry] = v; /* checked: compare the rest */
        (*flagged)++;
    }
    return fold_test_vec_relerr(vb, va, len, 1e-300);
}

/* The value gradient (every parameter) and d (pg, vm) / d pd of two solvers: b's entries
 * equal a's, or are flagged with an interval that holds a's. */
static double compare_derivatives(const solved *s, fold_solver *a, fold_solver *b,
                                  fold_int *flagged)
{
    fold_acopf_layout L = fold_acopf_get_layout(s->m);
    double *ga = malloc((size_t)L.np * sizeof(double)), *gb = malloc((size_t)L.np * 8);
    fold_int ng = s->cs->n_gen, rows[512], cols[3] = {L.p_pd, L.p_pd + 1, L.p_pd + 2};
    double Ja[3 * 512], Jb[3 * 512];
    ck_assert_int_le(ng + s->cs->n_bus, 512);
    for (fold_int k = 0; k < ng; k++)
        rows[k] = L.x_pg + k;
    for (fold_int i = 0; i < s->cs->n_bus; i++)
        rows[ng + i] = L.x_vm + i;
    fold_int nr = ng + s->cs->n_bus;
    *flagged = 0;
    ck_assert_status(fold_value_gradient(a, ga), FOLD_OK);
    fold_status st = fold_value_gradient(b, gb);
    ck_assert(st == FOLD_OK || st == FOLD_WARN_NOT_UNIQUE);
    double e = compare_flagged(b, ga, gb, L.np, flagged);
    ck_assert_status(
        fold_jacobian(
            a,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = nr, .rows = rows, .n_cols = 3, .cols = cols},
            Ja, NULL),
        FOLD_OK);
    st = fold_jacobian(
        b,
        &(fold_jacobian_sel){
            .of = FOLD_BLOCK_X, .n_rows = nr, .rows = rows, .n_cols = 3, .cols = cols},
        Jb, NULL);
    ck_assert(st == FOLD_OK || st == FOLD_WARN_UNCERTAIN);
    e = fmax(e, compare_flagged(b, Ja, Jb, 3 * nr, flagged));
    free(ga);
    free(gb);
    return e;
}

/* foldopt's own solved case (%.17g): the given multipliers pass, the derivatives are the
 * solve's; on PGLib cases, a PWL case and a model with flow variables on every branch. */
static void own_solution(const char *name, fold_int grid, double max_z)
{
    solved s;
    solve_case(&s, name, grid, max_z);
    fold_acopf_results *back = through_file(&s, s.res, NULL);
    ck_assert(back->has_duals);
    fold_acopf_import_info ii = FOLD_ACOPF_IMPORT_INFO_INIT;
    fold_solver *sv = imported(&s, back, false, FOLD_OK, &ii);
    ck_assert(ii.duals_given && !ii.duals_recovered);
    fold_int flagged;
    double e = compare_derivatives(&s, s.sv, sv, &flagged);
    printf("# %s: own solved case imported, residuals %.1e %.1e %.1e, derivatives differ by "
           "%.1e (%ld entries flagged, their intervals hold the solve's)\n",
           s.cs->name, ii.given_stationarity, ii.given_feasibility, ii.given_complementarity, e,
           (long)flagged);
    ck_assert_double_le(e, 1e-9);
    fold_acopf_results_free(back);
    fold_solver_free(sv);
    acopf_test_solved_free(&s);
}

START_TEST(own_pglib)
{
    const char *names[] = {"pglib_opf_case5_pjm", "pglib_opf_case14_ieee", "pglib_opf_case30_ieee",
                           "pglib_opf_case118_ieee"};
    own_solution(names[_i], 0, FOLD_ACOPF_FLOW_VAR_MAX_Z);
}
END_TEST

START_TEST(own_grid_flow_vars)
{
    own_solution(NULL, 30, HUGE_VAL);
}
END_TEST

START_TEST(own_pwl)
{
    own_solution("pwl", 0, FOLD_ACOPF_FLOW_VAR_MAX_Z);
}
END_TEST

/* Rounded as savecase writes: %.9g for voltages and dispatch, %.4f for the multipliers. */
static double round_g9(double v)
{
    char t[64];
    snprintf(t, sizeof t, "%.9g", v);
    return strtod(t, NULL);
}

static double round_f4(double v)
{
    char t[64];
    snprintf(t, sizeof t, "%.4f", v);
    return strtod(t, NULL);
}

static fold_acopf_results *rounded(const solved *s)
{
    fold_acopf_results *r = through_file(s, s->res, NULL); /* a copy */
    for (fold_int i = 0; i < r->n_bus; i++) {
        r->vm[i] = round_g9(r->vm[i]);
        r->va[i] = round_g9(r->va[i]);
        r->lam_p[i] = round_f4(r->lam_p[i]);
        r->lam_q[i] = round_f4(r->lam_q[i]);
        r->mu_vmin[i] = round_f4(r->mu_vmin[i]);
        r->mu_vmax[i] = round_f4(r->mu_vmax[i]);
    }
    for (fold_int k = 0; k < r->n_gen; k++) {
        r->pg[k] = round_g9(r->pg[k]);
        r->qg[k] = round_g9(r->qg[k]);
        double *mu[4] = {r->mu_pmin, r->mu_pmax, r->mu_qmin, r->mu_qmax};
        for (int t = 0; t < 4; t++)
            mu[t][k] = round_f4(mu[t][k]);
    }
    for (fold_int k = 0; k < r->n_branch; k++) {
        double *mu[4] = {r->mu_sf, r->mu_st, r->mu_angmin, r->mu_angmax};
        for (int t = 0; t < 4; t++)
            mu[t][k] = round_f4(mu[t][k]);
    }
    return r;
}

/* The residuals savecase's digits leave, and the LMPs after the import: within the 4
 * decimals of LAM_P when the given multipliers pass, to the solve's otherwise. */
START_TEST(savecase_digits)
{
    const char *names[] = {"pglib_opf_case14_ieee", "pglib_opf_case30_ieee",
                           "pglib_opf_case118_ieee"};
    solved s;
    solve_case(&s, names[_i], 0, FOLD_ACOPF_FLOW_VAR_MAX_Z);
    fold_acopf_results *r = rounded(&s);
    fold_acopf_import_info ii = FOLD_ACOPF_IMPORT_INFO_INIT;
    fold_solver *sv = imported(&s, r, false, FOLD_OK, &ii);
    fold_acopf_results *got = NULL;
    ck_assert_acopf(fold_acopf_results_from_solver(s.m, sv, &got), FOLD_OK);
    double lmp = 0;
    for (fold_int i = 0; i < s.cs->n_bus; i++)
        lmp = fmax(lmp, fabs(got->lam_p[i] - s.res->lam_p[i]));
    printf("# %s at savecase's digits: given multipliers %s (stationarity %.1e, feasibility "
           "%.1e, complementarity %.1e), LMPs within %.1e $/MWh\n",
           s.cs->name, ii.duals_recovered ? "recovered" : "accepted", ii.given_stationarity,
           ii.given_feasibility, ii.given_complementarity, lmp);
    ck_assert_double_le(lmp, 1e-4);
    fold_acopf_results_free(got);
    fold_acopf_results_free(r);
    fold_solver_free(sv);
    acopf_test_solved_free(&s);
}
END_TEST

/* No multiplier in the file (a power-flow result or a solver that gives none): recovered by
 * least squares to 1e-8 of the largest, on PGLib cases and synthetic grids. The
 * reference is Ipopt at tol 1e-11 without its bound relaxation: at its defaults (tol 1e-8,
 * bounds relaxed by bound_relax_factor 1e-8) its multipliers are those of a problem 1e-8
 * away and differ from the exact ones of the point by up to 8e-6 of the largest where two
 * limits nearly coincide (both ends of a rated branch at their rating, grid40); against
 * the tight solve they agree to 5e-10. */
START_TEST(multipliers_removed)
{
    const char *names[] = {"pglib_opf_case14_ieee",
                           "pglib_opf_case30_ieee",
                           "pglib_opf_case118_ieee",
                           NULL,
                           NULL,
                           NULL,
                           NULL};
    const fold_int grids[] = {0, 0, 0, 40, 30, 60, 100};
    solved s;
    solve_tol = 1e-11;
    solve_case(&s, names[_i], grids[_i], FOLD_ACOPF_FLOW_VAR_MAX_Z);
    solve_tol = 0;
    fold_acopf_results *r = through_file(&s, s.res, NULL);
    r->has_duals = false;
    fold_acopf_import_info ii = FOLD_ACOPF_IMPORT_INFO_INIT;
    fold_solver *sv = imported(&s, r, false, FOLD_OK, &ii);
    ck_assert(!ii.duals_given && ii.duals_recovered);
    fold_acopf_layout L = fold_acopf_get_layout(s.m);
    double *la = malloc((size_t)L.m * 8), *lb = malloc((size_t)L.m * 8);
    double *za = malloc((size_t)L.n * 8), *zb = malloc((size_t)L.n * 8);
    fold_solver_solution(s.sv, NULL, la, za, NULL, NULL);
    fold_solver_solution(sv, NULL, lb, zb, NULL, NULL);
    double scale = 0;
    for (fold_int i = 0; i < L.m; i++)
        scale = fmax(scale, fabs(la[i]));
    double e =
        fmax(fold_test_vec_relerr(lb, la, L.m, scale), fold_test_vec_relerr(zb, za, L.n, scale));
    fold_int flagged;
    double ed = compare_derivatives(&s, s.sv, sv, &flagged);
    printf("# %s: multipliers recovered to %.1e (relative to the largest), derivatives %.1e\n",
           s.cs->name, e, ed);
    ck_assert_double_le(e, 1e-8);
    ck_assert_double_le(ed, 1e-8);
    free(la);
    free(lb);
    free(za);
    free(zb);
    fold_acopf_results_free(r);
    fold_solver_free(sv);
    acopf_test_solved_free(&s);
}
END_TEST

/* A voltage moved by 1e-3 p.u.: refused, the balance of that bus named; angles shifted by
 * 10 degrees (a reference angle of 10 in another tool): the same point. */
START_TEST(perturbed_and_shifted)
{
    solved s;
    solve_case(&s, NULL, 30, FOLD_ACOPF_FLOW_VAR_MAX_Z);
    fold_acopf_results *r = through_file(&s, s.res, NULL);
    r->vm[7] += 1e-3;
    fold_solver *sv = imported(&s, r, false, FOLD_ERR_NOT_KKT, NULL);
    char want[64];
    snprintf(want, sizeof want, "bus %ld", s.cs->bus[7].id);
    ck_assert_msg(strstr(fold_last_error(), want) != NULL, "%s", fold_last_error());
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "balance"));
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "with the given multipliers"));
    printf("# perturbed: %s\n", fold_last_error());
    fold_solver_free(sv);
    r->vm[7] -= 1e-3;
    for (fold_int i = 0; i < r->n_bus; i++)
        r->va[i] += 10;
    fold_acopf_import_info ii = FOLD_ACOPF_IMPORT_INFO_INIT;
    sv = imported(&s, r, false, FOLD_OK, &ii);
    ck_assert_double_eq_tol(ii.angle_shift_deg, 10, 1e-12);
    ck_assert(!ii.duals_recovered);
    fold_int flagged;
    ck_assert_double_le(compare_derivatives(&s, s.sv, sv, &flagged), 1e-9);
    fold_acopf_results_free(r);
    fold_solver_free(sv);
    acopf_test_solved_free(&s);
}
END_TEST

/* --polish (case5): the rounded point polishes into the same active set; a point of another
 * operating condition (a generator at Pmax whose Pmax is raised by 5 MW: the re-solve moves it
 * to the new limit)
 * accepted at a loose kkt_tol is refused by the polish, naming the generator's limit. */
START_TEST(polish)
{
    solved s;
    char buf[1024];
    if (!acopf_test_case_path("pglib_opf_case5_pjm", buf, sizeof buf)) return;
    solve_case(&s, "pglib_opf_case5_pjm", 0, FOLD_ACOPF_FLOW_VAR_MAX_Z);
    fold_acopf_results *r = rounded(&s);
    fold_acopf_import_info ii = FOLD_ACOPF_IMPORT_INFO_INIT;
    fold_solver *sv = imported(&s, r, true, FOLD_OK, &ii);
    printf("# case5 polished in %ld iterations\n", (long)ii.polish_iterations);
    ck_assert(ii.polished);
    fold_int flagged;
    ck_assert_double_le(compare_derivatives(&s, s.sv, sv, &flagged), 1e-6);
    fold_solver_free(sv);
    /* the generator at its Pmax with the largest multiplier (not a fixed one: pmin < pmax) */
    fold_int k = -1;
    for (fold_int j = 0; j < s.cs->n_gen; j++)
        if (s.cs->gen[j].pmin < s.cs->gen[j].pmax &&
            (k < 0 || s.res->mu_pmax[j] > s.res->mu_pmax[k]))
            k = j;
    ck_assert(s.res->mu_pmax[k] > 1);
    fold_acopf_layout L = fold_acopf_get_layout(s.m);
    double *p = malloc((size_t)L.np * sizeof(double));
    fold_problem_default_params(fold_acopf_problem(s.m), p);
    p[L.p_pmax + k] += 5;
    fold_acopf_import_options loose = {.kkt_tol = 1, .polish = false};
    ck_assert_status(fold_solver_create(fold_acopf_problem(s.m), NULL, &sv), FOLD_OK);
    ck_assert_acopf(fold_acopf_import(s.m, sv, p, s.res, NULL, NULL, &ii), FOLD_ERR_NOT_KKT);
    ck_assert_acopf(fold_acopf_import(s.m, sv, p, s.res, &loose, NULL, &ii), FOLD_OK);
    loose.polish = true;
    ck_assert_acopf(fold_acopf_import(s.m, sv, p, s.res, &loose, NULL, &ii), FOLD_ERR_NOT_KKT);
    snprintf(buf, sizeof buf, "gen %ld (bus %ld) pg upper free at the imported point, held",
             s.cs->gen[k].row, s.cs->bus[s.cs->gen[k].bus].id);
    ck_assert_msg(strstr(fold_last_error(), buf) != NULL, "%s", fold_last_error());
    printf("# refused: %s\n", fold_last_error());
    free(p);
    fold_acopf_results_free(r);
    fold_solver_free(sv);
    acopf_test_solved_free(&s);
}
END_TEST

/* A solution of another network: refused when read, naming the difference. */
START_TEST(other_network)
{
    solved s;
    solve_case(&s, NULL, 20, FOLD_ACOPF_FLOW_VAR_MAX_Z);
    fold_acopf_case *other = NULL;
    ck_assert_acopf(fold_acopf_gen_grid(20, 3, &other), FOLD_OK);
    other->branch[4].t = other->branch[4].t == 0 ? 1 : 0; /* another end */
    char path[] = "/tmp/foldopt_other_XXXXXX";
    FILE *fp = fdopen(mkstemp(path), "w");
    ck_assert_acopf(fold_acopf_case_write_solved(other, s.res, fp), FOLD_OK);
    fclose(fp);
    fold_acopf_results *back = NULL;
    ck_assert_acopf(fold_acopf_solution_read(path, s.cs, &back), FOLD_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "branch row 5"));
    unlink(path);
    fold_acopf_case_free(other);
    acopf_test_solved_free(&s);
}
END_TEST

/* A solver that ignored the angle-difference limits: its solution of the tiny case violates
 * the 0.5-degree limit of branch 1-2 that foldopt's model has, and the refusal names it. */
START_TEST(ignored_angle_limits)
{
    char limited[4096], free_text[4096];
    const char *br = strstr(acopf_tiny_case, "\t1\t2\t0.01");
    const char *eol = strchr(br, '\n');
    snprintf(limited, sizeof limited,
             "%.*s\t1\t2\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-0.5"
             "\t0.5;%s",
             (int)(br - acopf_tiny_case), acopf_tiny_case, eol);
    snprintf(free_text, sizeof free_text,
             "%.*s\t1\t2\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1"
             "\t-360\t360;%s",
             (int)(br - acopf_tiny_case), acopf_tiny_case, eol);
    solved a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ck_assert_acopf(fold_acopf_case_parse(limited, strlen(limited), "limited.m", &a.cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_case_parse(free_text, strlen(free_text), "free.m", &b.cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(a.cs, &a.m), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(b.cs, &b.m), FOLD_OK);
    ck_assert_acopf(fold_acopf_solve(&b.m, NULL, NULL, NULL, &b.sv, NULL, NULL), FOLD_OK);
    ck_assert_acopf(fold_acopf_results_from_solver(b.m, b.sv, &b.res), FOLD_OK);
    ck_assert(b.res->va[0] - b.res->va[1] > 0.6); /* beyond the limit */
    fold_solver *sv = imported(&a, b.res, false, FOLD_ERR_NOT_KKT, NULL);
    printf("# ignored angle limits: %s\n", fold_last_error());
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "branch 1 (1-2) angle difference"));
    fold_solver_free(sv);
    acopf_test_solved_free(&a);
    acopf_test_solved_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_import");
    TCase *tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, own_pglib, 0, 4);
    tcase_add_test(tc, own_grid_flow_vars);
    tcase_add_test(tc, own_pwl);
    tcase_add_loop_test(tc, savecase_digits, 0, 3);
    tcase_add_loop_test(tc, multipliers_removed, 0, 7);
    tcase_add_test(tc, perturbed_and_shifted);
    tcase_add_test(tc, polish);
    tcase_add_test(tc, other_network);
    tcase_add_test(tc, ignored_angle_limits);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
