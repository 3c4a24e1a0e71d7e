/* AC-OPF results in MATPOWER's units and signs (doc/acopf.md §6): the printpf values in the
 * header of pglib_opf_case3_lmbd, flows and losses against the bus balance and the branch
 * model, multipliers against stationarity and complementarity written in MATPOWER's units,
 * and the solved case written, read back and compared. */
#include "acopf_test.h"

typedef acopf_solved solved;

/* Solve a PGLib case (name; an absent case skips the test) or a synthetic grid (n buses) at
 * tol. */
static void solve_case(solved *s, const char *name, fold_int grid_buses, double tol)
{
    acopf_test_load(s, name, grid_buses, 5);
    fold_settings set;
    fold_settings_default(&set);
    set.forward.tol = tol;
    acopf_test_solve(s, NULL, &set);
}

/* |a - b| within half a unit of the last printed decimal (dec decimals) plus rel |b|. */
static void near_printed(const char *what, long id, double a, double b, int dec, double rel)
{
    double tol = 0.5 * pow(10, -dec) + rel * fabs(b);
    ck_assert_msg(fabs(a - b) <= tol, "bus %ld %s: foldopt %.6f, printpf %.*f", id, what, a, dec,
                  b);
}

/* The bus table that MATPOWER's printpf wrote into the header of case3_lmbd: voltages,
 * generation, load, LMP (3 decimals) and "-" for |LAM_Q| <= 1e-4. The LMPs come from
 * MATPOWER's own solve at its tolerance: allowed 2e-5 relative besides the rounding. */
START_TEST(printpf_header_case3)
{
    solved s;
    char buf[1024];
    solve_case(&s, "pglib_opf_case3_lmbd", 0, 1e-10);
    size_t len;
    char *text =
        acopf_test_slurp(acopf_test_case_path("pglib_opf_case3_lmbd", buf, sizeof buf), &len);
    ck_assert_ptr_nonnull(text);
    int rows = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        long id;
        double vm, va, pg, qg, pd, qd, lp;
        char star, lq[16];
        if (sscanf(line, "%% %ld %lf %lf%c %lf %lf %lf %lf %lf %15s", &id, &vm, &va, &star, &pg,
                   &qg, &pd, &qd, &lp, lq) != 10)
            continue;
        fold_int i = id - 1; /* buses 1, 2, 3 in this order */
        ck_assert_int_eq(s.cs->bus[i].id, id);
        near_printed("vm", id, s.res->vm[i], vm, 3, 0);
        near_printed("va", id, s.res->va[i], va, 3, 0);
        ck_assert_int_eq(star == '*', s.cs->bus[i].type == 3);
        near_printed("pg", id, s.res->pg[i], pg, 2, 0); /* one generator per bus */
        near_printed("qg", id, s.res->qg[i], qg, 2, 0);
        near_printed("pd", id, s.res->pd[i], pd, 2, 0);
        near_printed("qd", id, s.res->qd[i], qd, 2, 0);
        near_printed("lam_p", id, s.res->lam_p[i], lp, 3, 2e-5);
        ck_assert_str_eq(lq, "-");
        ck_assert_double_le(fabs(s.res->lam_q[i]), 1e-4);
        rows++;
    }
    ck_assert_int_eq(rows, 3);
    ck_assert_double_le(fabs(s.res->objective - 5812.64), 0.005);
    free(text);
    acopf_test_solved_free(&s);
}
END_TEST

/* A multiplier mu >= 0 times the distance d (p.u.) to its limit, relative to mu: a
 * multiplier on a limit that is not reached gives about d. */
static double comp(double mu, double d)
{
    return fabs(mu) * fabs(d) / (1 + fabs(mu));
}

/* Flows, losses and multipliers against their definitions at a solution. */
static void check_definitions(const solved *s)
{
    const fold_acopf_case *cs = s->cs;
    const fold_acopf_results *r = s->res;
    double S = cs->base_mva, scale = 1, err_bal = 0, err_loss = 0, err_stat = 0, err_comp = 0;
    double *p_net = calloc((size_t)cs->n_bus, sizeof(double));
    double *q_net = calloc((size_t)cs->n_bus, sizeof(double));
    for (fold_int k = 0; k < cs->n_gen; k++) {
        p_net[cs->gen[k].bus] += r->pg[k];
        q_net[cs->gen[k].bus] += r->qg[k];
    }
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        p_net[b->f] -= r->pf[k];
        q_net[b->f] -= r->qf[k];
        p_net[b->t] -= r->pt[k];
        q_net[b->t] -= r->qt[k];
        /* pi model: real losses are the series losses; reactive ones minus the charging */
        double vf = r->vm[b->f], vt = r->vm[b->t];
        double charging = b->b / 2 * (vf * vf / (b->tap * b->tap) + vt * vt) * S;
        err_loss = fmax(err_loss, fabs(r->pf[k] + r->pt[k] - r->ploss[k]));
        err_loss = fmax(err_loss, fabs(r->qf[k] + r->qt[k] - (r->qloss[k] - charging)));
        ck_assert(r->ploss[k] >= -1e-9);
        scale = fmax(scale, fabs(r->pf[k]));
        /* thermal limits: mu_sf >= 0, zero unless |Sf| is at the rating (MVA) */
        if (b->rate_a > 0) {
            double sf = hypot(r->pf[k], r->qf[k]), st = hypot(r->pt[k], r->qt[k]);
            /* Ipopt relaxes bounds by 1e-8 relative (bound_relax_factor) and then moves vm
             * onto its own bounds: measured 3.7e-8 relative above the rating (case3) */
            ck_assert(sf <= b->rate_a * (1 + 1e-6) && st <= b->rate_a * (1 + 1e-6));
            err_comp = fmax(err_comp, comp(r->mu_sf[k], (b->rate_a - sf) / S));
            err_comp = fmax(err_comp, comp(r->mu_st[k], (b->rate_a - st) / S));
            ck_assert(r->mu_sf[k] >= -1e-9 && r->mu_st[k] >= -1e-9);
        }
        ck_assert(r->mu_angmin[k] >= 0 && r->mu_angmax[k] >= 0);
    }
    for (fold_int i = 0; i < cs->n_bus; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        double v2 = r->vm[i] * r->vm[i];
        err_bal = fmax(err_bal, fabs(p_net[i] - r->pd[i] - b->gs * v2));
        err_bal = fmax(err_bal, fabs(q_net[i] - r->qd[i] + b->bs * v2));
        err_comp = fmax(err_comp, fmax(comp(r->mu_vmin[i], r->vm[i] - b->vmin),
                                       comp(r->mu_vmax[i], b->vmax - r->vm[i])));
        ck_assert(r->mu_vmin[i] >= -1e-9 && r->mu_vmax[i] >= -1e-9);
    }
    /* stationarity in pg and qg in MATPOWER's units ($/MWh): dC/dPg - LAM_P - MU_PMIN +
     * MU_PMAX = 0, -LAM_Q - MU_QMIN + MU_QMAX = 0 (polynomial costs) */
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        const double *c = cs->cost + g->cost_off;
        double P = r->pg[k], dc = 0, pw = 1;
        for (int j = 1; j < g->n_cost; j++, pw *= P)
            dc += j * c[j] * pw;
        double lp = r->lam_p[g->bus], lq = r->lam_q[g->bus];
        err_stat = fmax(err_stat, fabs(dc - lp - r->mu_pmin[k] + r->mu_pmax[k]) / fmax(1, lp));
        err_stat = fmax(err_stat, fabs(-lq - r->mu_qmin[k] + r->mu_qmax[k]) / fmax(1, lp));
        err_comp = fmax(err_comp, fmax(comp(r->mu_pmin[k], (P - g->pmin) / S),
                                       comp(r->mu_pmax[k], (g->pmax - P) / S)));
    }
    printf("# %s: balance %.1e MW, losses %.1e MW, stationarity %.1e, complementarity %.1e\n",
           cs->name, err_bal, err_loss, err_stat, err_comp);
    /* Ipopt meets the balance to 1e-15 on its relaxed bounds and then moves vm onto the
     * original ones (honor_original_bounds): 1e-8 p.u. times dQ/dvm, measured up to 3e-6
     * p.u. (case118); a missing term or sign would leave O(1) p.u. */
    ck_assert_double_le(err_bal, 1e-5 * S);
    ck_assert_double_le(err_loss, 1e-9 * scale);
    ck_assert_double_le(err_stat, 1e-6);
    ck_assert_double_le(err_comp, 1e-7);
    free(p_net);
    free(q_net);
}

START_TEST(definitions_pglib)
{
    const char *names[] = {"pglib_opf_case3_lmbd", "pglib_opf_case5_pjm", "pglib_opf_case14_ieee",
                           "pglib_opf_case30_ieee", "pglib_opf_case118_ieee"};
    solved s;
    solve_case(&s, names[_i], 0, 1e-9);
    check_definitions(&s);
    acopf_test_solved_free(&s);
}
END_TEST

START_TEST(definitions_grid)
{
    solved s;
    solve_case(&s, NULL, 40, 1e-9);
    check_definitions(&s);
    acopf_test_solved_free(&s);
}
END_TEST

/* case3_lmbd: the limit of branch 2 (3-2, 50 MVA) binds: MU_SF = 2 mu rateA / S^2. */
START_TEST(thermal_multiplier_units)
{
    solved s;
    solve_case(&s, "pglib_opf_case3_lmbd", 0, 1e-10);
    fold_acopf_layout L = fold_acopf_get_layout(s.m);
    double *lam = malloc((size_t)L.m * sizeof(double));
    fold_solver_solution(s.sv, NULL, lam, NULL, NULL, NULL);
    fold_int row = -1;
    for (fold_int q = 0; q < L.n_rated; q++)
        if (fold_acopf_rated_branch(s.m, q) == 1) row = q;
    ck_assert_int_ge(row, 0);
    double mu = lam[L.g_sf + row], want = 2 * mu * 50 / (100.0 * 100.0);
    ck_assert(mu > 1);
    ck_assert_double_eq_tol(s.res->mu_sf[1], want, 1e-12 * want);
    ck_assert_double_le(fabs(s.res->mu_sf[0]), 1e-8); /* not binding: 0 up to the barrier */
    free(lam);
    acopf_test_solved_free(&s);
}
END_TEST

/* The solved case read back: the case's data unchanged, VM, VA, PG, QG the solution. */
START_TEST(solved_case_round_trip)
{
    solved s;
    solve_case(&s, NULL, 25, 1e-8);
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    ck_assert_acopf(fold_acopf_case_write_solved(s.cs, s.res, fp), FOLD_OK);
    fclose(fp);
    fold_acopf_case *back = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, len, "solved.m", &back), FOLD_OK);
    ck_assert_int_eq(back->n_bus, s.cs->n_bus);
    ck_assert_int_eq(back->n_gen, s.cs->n_gen);
    ck_assert_int_eq(back->n_branch, s.cs->n_branch);
    for (fold_int i = 0; i < back->n_bus; i++) {
        ck_assert_double_eq(back->bus[i].vm0, s.res->vm[i]);
        ck_assert_double_eq(back->bus[i].va0, s.res->va[i]);
        ck_assert_double_eq(back->bus[i].pd, s.cs->bus[i].pd);
        ck_assert_double_eq(back->bus[i].vmax, s.cs->bus[i].vmax);
    }
    for (fold_int k = 0; k < back->n_gen; k++) {
        ck_assert_double_eq(back->gen[k].pg0, s.res->pg[k]);
        ck_assert_double_eq(back->gen[k].qg0, s.res->qg[k]);
        ck_assert_double_eq(back->gen[k].pmax, s.cs->gen[k].pmax);
    }
    for (fold_int k = 0; k < back->n_branch; k++) {
        ck_assert_double_eq(back->branch[k].x, s.cs->branch[k].x);
        ck_assert_double_eq(back->branch[k].rate_a, s.cs->branch[k].rate_a);
    }
    ck_assert(strstr(text, "\tlam_P\tlam_Q\tmu_Vmax\tmu_Vmin") != NULL);
    ck_assert_acopf(fold_acopf_case_write_solved(s.cs, NULL, stdout), FOLD_ERR_ARGUMENT);
    fold_acopf_case_free(back);
    free(text);
    acopf_test_solved_free(&s);
}
END_TEST

/* Rows of the file dropped (a generator out of service): a solved case notes each row's
 * number in the original file ("% row R"), a plain case is written without notes. */
START_TEST(solved_case_row_notes)
{
    char text[4096];
    const char *at = strstr(acopf_tiny_case, "\t3\t0\t0\t100\t-100\t1\t100\t1\t200\t0;\n");
    ck_assert_ptr_nonnull(at);
    /* a third generator, out of service, before the one at bus 3 */
    snprintf(text, sizeof text, "%.*s\t2\t0\t0\t10\t-10\t1\t100\t0\t50\t0;\n%s",
             (int)(at - acopf_tiny_case), acopf_tiny_case, at);
    char *cost = strstr(text, "\t2\t0\t0\t3\t0.02\t25\t0;\n");
    ck_assert_ptr_nonnull(cost);
    char tail[2048];
    snprintf(tail, sizeof tail, "%s", cost);
    snprintf(cost, sizeof text - (size_t)(cost - text), "\t2\t0\t0\t3\t0\t1\t0;\n%s", tail);
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "drop.m", &cs), FOLD_OK);
    ck_assert_int_eq(cs->n_dropped_gen, 1);
    ck_assert_int_eq(cs->gen[1].row, 3);
    fold_acopf *m = NULL;
    fold_solver *sv = NULL;
    fold_acopf_results *res = NULL;
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    ck_assert_acopf(fold_acopf_solve(&m, NULL, NULL, NULL, &sv, NULL, NULL), FOLD_OK);
    ck_assert_acopf(fold_acopf_results_from_solver(m, sv, &res), FOLD_OK);
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    ck_assert_acopf(fold_acopf_case_write_solved(cs, res, fp), FOLD_OK);
    fclose(fp);
    ck_assert_msg(strstr(out, ";\t% row 1\n") && strstr(out, ";\t% row 3\n"), "%s", out);
    free(out);
    fp = open_memstream(&out, &len);
    ck_assert_acopf(fold_acopf_case_write(cs, fp), FOLD_OK);
    fclose(fp);
    ck_assert_ptr_null(strstr(out, "% row"));
    free(out);
    fold_acopf_results_free(res);
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

/* A binding angle limit on a branch that runs against its parallel twin: the tiny case's
 * branch 1-2 gets a parallel branch 2-1 whose limits (own orientation, va2 - va1 in [-0.5,
 * 0.2] degrees) are the tightest. The multiplier of the row's upper side (va1 - va2 <= 0.5)
 * is that branch's MU_ANGMIN, positive, in $/h per degree; the other branch reports 0; and
 * the output mu_angmin differentiates to the central difference of re-solves. */
START_TEST(angle_multiplier_owner)
{
    const char *br = strstr(acopf_tiny_case, "mpc.branch = [\n");
    const char *end = strstr(br, "];");
    char text[4096];
    snprintf(text, sizeof text,
             "%.*s\t2\t1\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-0.5\t0.2;\n%s",
             (int)(end - acopf_tiny_case), acopf_tiny_case, end);
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    fold_solver *sv = NULL;
    fold_acopf_results *r = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "twin.m", &cs), FOLD_OK);
    ck_assert_int_eq(cs->n_branch, 4);
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    ck_assert_acopf(fold_acopf_solve(&m, NULL, NULL, NULL, &sv, NULL, NULL), FOLD_OK);
    ck_assert_acopf(fold_acopf_results_from_solver(m, sv, &r), FOLD_OK);
    printf("# va1 - va2 = %.6f deg; mu_angmin %g %g, mu_angmax %g %g\n", r->va[0] - r->va[1],
           r->mu_angmin[0], r->mu_angmin[3], r->mu_angmax[0], r->mu_angmax[3]);
    ck_assert_double_le(fabs(r->va[0] - r->va[1] - 0.5), 1e-6); /* the limit binds */
    ck_assert(r->mu_angmin[3] > 1);
    ck_assert_double_le(r->mu_angmax[3] + r->mu_angmin[0] + r->mu_angmax[0], 1e-6);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double *lam = malloc((size_t)L.m * sizeof(double));
    fold_solver_solution(sv, NULL, lam, NULL, NULL, NULL);
    double l = lam[L.g_ang + 0]; /* the row of buses 1-2 (sorted first) */
    ck_assert_double_eq_tol(r->mu_angmin[3], l * FOLD_ACOPF_RAD_PER_DEG, 1e-12 * l);
    /* d mu_angmin / d pd at bus 2 against re-solves (tol 1e-12) */
    fold_acopf_output o = {FOLD_ACOPF_OUT_MU_ANGMIN, 3};
    fold_int col = fold_acopf_param_index(m, FOLD_ACOPF_P_PD, 1);
    double J, v[2], h = 0.01;
    ck_assert_acopf(fold_acopf_jacobian(m, sv, 1, &o, 1, &col, &J, NULL, NULL, NULL), FOLD_OK);
    fold_settings set = *fold_solver_settings(sv);
    set.forward.tol = 1e-12;
    fold_solver_update_settings(sv, &set);
    double *p = malloc((size_t)L.np * sizeof(double));
    for (int side = 0; side < 2; side++) {
        fold_problem_default_params(fold_acopf_problem(m), p);
        p[col] += side ? -h : h;
        ck_assert(fold_solve(sv, p, NULL) >= 0);
        ck_assert_acopf(fold_acopf_output_values(m, sv, 1, &o, &v[side]), FOLD_OK);
    }
    double fd = (v[0] - v[1]) / (2 * h);
    printf("# d mu_angmin / d pd bus 2: fold %.8g, FD %.8g $/h per degree per MW\n", J, fd);
    ck_assert_double_le(fabs(J - fd), 1e-5 * fmax(1, fabs(fd)));
    free(lam);
    free(p);
    fold_acopf_results_free(r);
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_results");
    TCase *tc = tcase_create("results");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, printpf_header_case3);
    tcase_add_loop_test(tc, definitions_pglib, 0, 5);
    tcase_add_test(tc, definitions_grid);
    tcase_add_test(tc, thermal_multiplier_units);
    tcase_add_test(tc, solved_case_round_trip);
    tcase_add_test(tc, solved_case_row_notes);
    tcase_add_test(tc, angle_multiplier_owner);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
