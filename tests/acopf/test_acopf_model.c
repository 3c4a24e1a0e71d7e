/* The polar AC-OPF model: layout, constraint values against an independent complex-power
 * computation (MATPOWER's branch admittances), units, flat start, and forward solves of
 * synthetic grids (feasibility) with the power-balance identity at the solution. */
#include <complex.h>

#include "acopf_test.h"

static fold_acopf *tiny_model(void)
{
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_case_parse(acopf_tiny_case, strlen(acopf_tiny_case), "tiny.m", &cs),
                    FOLD_OK);
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    fold_acopf_case_free(cs); /* the model keeps its own copy */
    return m;
}

START_TEST(layout)
{
    fold_acopf *m = tiny_model();
    fold_acopf_layout L = fold_acopf_get_layout(m);
    fold_int n, mm, np;
    fold_problem_dims(fold_acopf_problem(m), &n, &mm, &np);
    ck_assert_int_eq(L.n, 2 * 3 + 2 * 2);
    ck_assert_int_eq(n, L.n);
    ck_assert_int_eq(L.n_rated, 3);
    ck_assert_int_eq(L.n_angle, 3);
    ck_assert_int_eq(L.m, 2 * 3 + 2 * 3 + 3);
    ck_assert_int_eq(mm, L.m);
    /* pd, qd, gs, bs, vmin, vmax per bus; c1, c2, c0, pmin, pmax, qmin, qmax per generator;
     * r, x, b, tap, shift, rate_a per branch */
    ck_assert_int_eq(L.np, 6 * 3 + 7 * 2 + 6 * 3);
    ck_assert_int_eq(np, L.np);
    ck_assert_int_eq(L.x_vm, 3);
    ck_assert_int_eq(L.x_qg, 8);
    ck_assert_int_eq(L.p_c2, 8);
    ck_assert(fold_problem_has_param_derivatives(fold_acopf_problem(m)));
    double p[50];
    fold_problem_default_params(fold_acopf_problem(m), p);
    ck_assert_double_eq(p[L.p_pd + 1], 50);
    ck_assert_double_eq(p[L.p_qd + 2], 5);
    ck_assert_double_eq(p[L.p_c1 + 1], 25);
    ck_assert_double_eq(p[L.p_c2 + 0], 0.01);
    ck_assert_double_eq(p[L.p_c0 + 0], 0);
    ck_assert_double_eq(p[L.p_bs + 1], 0.05);
    ck_assert_double_eq(p[L.p_gs + 2], 0.02);
    ck_assert_double_eq(p[L.p_x + 1], 0.1);
    ck_assert_double_eq(p[L.p_b + 2], 0.02);
    ck_assert_double_eq(p[L.p_tap + 1], 0.98);
    ck_assert_double_eq(p[L.p_tap + 0], 1); /* 0 in the file: a line */
    ck_assert_double_eq(p[L.p_shift + 1], 2);
    ck_assert_double_eq(p[L.p_rate + 2], 100);
    ck_assert_double_eq(p[L.p_vmin + 1], 0.9);
    ck_assert_double_eq(p[L.p_pmax + 1], 200);
    ck_assert_double_eq(p[L.p_qmin + 0], -100);
    ck_assert_int_eq(fold_acopf_rated_branch(m, 3), -1);
    fold_acopf_free(m);
    fold_acopf_free(NULL);
    ck_assert_acopf(fold_acopf_create(NULL, &m), FOLD_ERR_ARGUMENT);
}
END_TEST

START_TEST(flat_start_and_units)
{
    fold_acopf *m = tiny_model();
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double x[10], pg[2], qg[2], vm[3], va[3];
    fold_acopf_flat_start(m, x);
    ck_assert_double_eq(x[L.x_vm + 1], 1);
    ck_assert_double_eq(x[L.x_va + 2], 0);
    ck_assert_double_eq_tol(x[L.x_pg + 0], 1.0, 1e-15); /* (0 + 200 MW) / 2 / 100 MVA */
    ck_assert_double_eq_tol(x[L.x_qg + 1], 0.0, 1e-15);
    x[L.x_va + 1] = 0.1;
    fold_acopf_solution_units(m, x, pg, qg, vm, va);
    ck_assert_double_eq_tol(pg[0], 100, 1e-12);
    ck_assert_double_eq_tol(va[1], 0.1 / FOLD_ACOPF_RAD_PER_DEG, 1e-12);
    ck_assert_double_eq(vm[2], 1);
    /* cost: 0.01 * 100^2 + 20 * 100 + (0.02 * 100^2 + 25 * 100) */
    ck_assert_double_eq_tol(fold_acopf_objective(m, x), 100 + 2000 + 200 + 2500, 1e-9);
    fold_acopf_free(m);
}
END_TEST

/* A grid whose flat start drives large flows (doc/acopf.md §2 "Start"): a phase shifter of
 * 10 degrees and a transformer of ratio 1.05, both of impedance 3e-4 p.u., and bus 2's band
 * [1.04, 1.1] excluding 1. The ratio start puts vm in every band and va_ref at 0, and
 * leaves every thermal row within its limit, where the flat start exceeds it 1000-fold. */
static const char shifter_case[] = "function mpc = shifter\n"
                                   "mpc.version = '2';\n"
                                   "mpc.baseMVA = 100;\n"
                                   "mpc.bus = [\n"
                                   "\t1\t3\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;\n"
                                   "\t2\t1\t100\t20\t0\t0\t1\t1\t0\t230\t1\t1.1\t1.04;\n"
                                   "\t3\t2\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.06\t0.94;\n"
                                   "\t4\t1\t150\t30\t0\t0\t1\t1\t0\t230\t1\t1.05\t0.95;\n"
                                   "];\n"
                                   "mpc.gen = [\n"
                                   "\t1\t0\t0\t100\t-100\t1\t100\t1\t300\t0;\n"
                                   "\t3\t0\t0\t100\t-100\t1\t100\t1\t200\t0;\n"
                                   "];\n"
                                   "mpc.gencost = [\n"
                                   "\t2\t0\t0\t3\t0.01\t20\t0;\n"
                                   "\t2\t0\t0\t3\t0.02\t25\t0;\n"
                                   "];\n"
                                   "mpc.branch = [\n"
                                   "\t1\t2\t0.001\t0.01\t0.02\t500\t500\t500\t0\t0\t1\t-30\t30;\n"
                                   "\t2\t3\t3e-5\t3e-4\t0\t500\t500\t500\t1\t10\t1\t-30\t30;\n"
                                   "\t3\t4\t3e-5\t3e-4\t0\t500\t500\t500\t1.05\t0\t1\t-30\t30;\n"
                                   "\t1\t4\t0.01\t0.1\t0.02\t500\t500\t500\t0\t0\t1\t-30\t30;\n"
                                   "];\n";

static double largest_thermal_row(const fold_acopf *m, const double *x)
{
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double g[64], p[128], worst = 0;
    ck_assert_int_le(L.m, 64);
    ck_assert_int_le(L.np, 128);
    fold_problem_default_params(fold_acopf_problem(m), p);
    ck_assert_int_eq(fold_acopf_eval_g(m, x, p, g), 0);
    for (fold_int k = 0; k < 2 * L.n_rated; k++)
        worst = fmax(worst, g[L.g_sf + k]);
    return worst;
}

START_TEST(ratio_start_carries_no_large_flows)
{
    fold_acopf_case *cs = NULL;
    fold_acopf *rs = NULL, *flat = NULL;
    fold_acopf_options opt;
    ck_assert_acopf(fold_acopf_case_parse(shifter_case, strlen(shifter_case), "s.m", &cs), FOLD_OK);
    fold_acopf_default_options(&opt);
    ck_assert_int_eq(opt.start, FOLD_ACOPF_START_RATIO);
    ck_assert_acopf(fold_acopf_create_with(cs, &opt, &rs), FOLD_OK);
    opt.start = FOLD_ACOPF_START_FLAT;
    ck_assert_acopf(fold_acopf_create_with(cs, &opt, &flat), FOLD_OK);
    opt.start = (fold_acopf_start)7;
    fold_acopf *bad = NULL;
    ck_assert_acopf(fold_acopf_create_with(cs, &opt, &bad), FOLD_ERR_ARGUMENT);
    ck_assert_ptr_null(bad);
    fold_acopf_layout L = fold_acopf_get_layout(rs);
    double xd[32], xf[32], x0[32], limit = 5.0 * 5.0; /* (500 MVA / 100)^2 */
    ck_assert_int_le(L.n, 32);
    fold_acopf_ratio_start(rs, xd);
    fold_acopf_flat_start(flat, xf);
    /* each model starts from its own choice */
    fold_problem_start_point(fold_acopf_problem(rs), x0);
    for (fold_int j = 0; j < L.n; j++)
        ck_assert_double_eq_tol(x0[j], xd[j], 1e-12);
    fold_problem_start_point(fold_acopf_problem(flat), x0);
    for (fold_int j = 0; j < L.n; j++)
        ck_assert_double_eq_tol(x0[j], xf[j], 1e-12);
    for (fold_int i = 0; i < cs->n_bus; i++) {
        ck_assert(xd[L.x_vm + i] >= cs->bus[i].vmin && xd[L.x_vm + i] <= cs->bus[i].vmax);
        ck_assert(isfinite(xd[L.x_va + i]));
    }
    ck_assert_double_eq(xd[L.x_va + 0], 0);
    ck_assert_double_eq_tol(xd[L.x_pg + 0], 1.5, 1e-15); /* pg at its midpoint */
    /* the shifter's angle difference near its 10 degrees, the transformer's ratio carried */
    double d23 = (xd[L.x_va + 1] - xd[L.x_va + 2]) / FOLD_ACOPF_RAD_PER_DEG;
    ck_assert_msg(fabs(d23 - 10) < 1, "shifter angle difference %g degrees", d23);
    ck_assert_double_eq_tol(xd[L.x_vm + 2] / xd[L.x_vm + 3], 1.05, 1e-3);
    double worst_rs = largest_thermal_row(rs, xd), worst_flat = largest_thermal_row(flat, xf);
    ck_assert_msg(worst_flat > 1000 * limit, "flat start: largest |S|^2 %g", worst_flat);
    ck_assert_msg(worst_rs < limit, "ratio start: largest |S|^2 %g", worst_rs);
    fold_acopf_free(rs);
    fold_acopf_free(flat);
    fold_acopf_case_free(cs);
}
END_TEST

/* g(x) of the balance rows against S = V conj(Y V) with MATPOWER's branch model, at random
 * voltages; thermal rows against |S_f|^2, |S_t|^2, or with flow variables v (doc/acopf.md
 * §2.1) against |v|^2, and their rows against v - S. */
static void check_against_complex(fold_acopf *m, fold_test_rng *r)
{
    const fold_acopf_case *cs = fold_acopf_get_case(m);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double *x = malloc((size_t)L.n * sizeof(double)), *g = malloc((size_t)L.m * sizeof(double));
    double *p = malloc((size_t)L.np * sizeof(double));
    double complex *inj = calloc((size_t)cs->n_bus, sizeof(double complex));
    double complex *V = malloc((size_t)cs->n_bus * sizeof(double complex));
    for (fold_int i = 0; i < L.n; i++)
        x[i] = fold_test_uniform(r) - 0.5;
    for (fold_int i = 0; i < cs->n_bus; i++) {
        x[L.x_vm + i] = 0.9 + 0.2 * fold_test_uniform(r);
        V[i] = x[L.x_vm + i] * cexp(I * x[L.x_va + i]);
    }
    fold_problem_default_params(fold_acopf_problem(m), p);
    ck_assert_int_eq(fold_acopf_eval_g(m, x, p, g), 0);
    double scale = 0, err = 0;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        double complex ys = 1 / (b->r + I * b->x),
                       T = b->tap * cexp(I * b->shift_deg * FOLD_ACOPF_RAD_PER_DEG);
        double complex yff = (ys + I * b->b / 2) / (T * conj(T)), yft = -ys / conj(T);
        double complex ytf = -ys / T, ytt = ys + I * b->b / 2;
        double complex sf = V[b->f] * conj(yff * V[b->f] + yft * V[b->t]);
        double complex st = V[b->t] * conj(ytf * V[b->f] + ytt * V[b->t]);
        inj[b->f] += sf;
        inj[b->t] += st;
        fold_int grp = -1; /* flow variables v: rows v - (sf, st), limits |v|^2 */
        for (fold_int q = 0; q < L.n_flow; q++)
            if (fold_acopf_flow_branch(m, q) == k) grp = q;
        for (fold_int q = 0; q < L.n_rated; q++)
            if (fold_acopf_rated_branch(m, q) == k && grp < 0) {
                err = fmax(err, fabs(g[L.g_sf + q] - creal(sf * conj(sf))));
                err = fmax(err, fabs(g[L.g_st + q] - creal(st * conj(st))));
            } else if (fold_acopf_rated_branch(m, q) == k) {
                const double *v = x + L.x_fl + 4 * grp, *row = g + L.g_flow + 4 * grp;
                double flow[4] = {creal(sf), cimag(sf), creal(st), cimag(st)};
                err = fmax(err, fabs(g[L.g_sf + q] - (v[0] * v[0] + v[1] * v[1])));
                err = fmax(err, fabs(g[L.g_st + q] - (v[2] * v[2] + v[3] * v[3])));
                for (int e = 0; e < 4; e++)
                    err = fmax(err, fabs(row[e] - (v[e] - flow[e])));
            }
    }
    for (fold_int i = 0; i < cs->n_bus; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        double v2 = x[L.x_vm + i] * x[L.x_vm + i], pgen = 0, qgen = 0;
        for (fold_int k = 0; k < cs->n_gen; k++)
            if (cs->gen[k].bus == i) {
                pgen += x[L.x_pg + k];
                qgen += x[L.x_qg + k];
            }
        double gp = creal(inj[i]) + (b->pd + b->gs * v2) / cs->base_mva - pgen;
        double gq = cimag(inj[i]) + (b->qd - b->bs * v2) / cs->base_mva - qgen;
        err = fmax(err, fmax(fabs(g[L.g_p + i] - gp), fabs(g[L.g_q + i] - gq)));
        scale = fmax(scale, fabs(gp));
    }
    ck_assert_msg(err <= 1e-10 * fmax(1, scale), "%s: max |g - complex| = %g (scale %g)", cs->name,
                  err, scale);
    free(x);
    free(g);
    free(p);
    free(inj);
    free(V);
}

/* The default model and the one with every rated branch in flow variables (doc/acopf.md
 * §2.1), so that both ways of writing the thermal rows are checked on every case. */
static void check_both_formulations(const fold_acopf_case *cs, fold_test_rng *r)
{
    fold_acopf_options all = {.flow_var_max_z = HUGE_VAL};
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    check_against_complex(m, r);
    fold_acopf_free(m);
    ck_assert_acopf(fold_acopf_create_with(cs, &all, &m), FOLD_OK);
    ck_assert_int_eq(fold_acopf_get_layout(m).n_flow, fold_acopf_get_layout(m).n_rated);
    check_against_complex(m, r);
    fold_acopf_free(m);
}

START_TEST(constraints_match_complex_power)
{
    fold_test_rng r;
    fold_test_rng_seed(&r, 3);
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_parse(acopf_tiny_case, strlen(acopf_tiny_case), "tiny.m", &cs),
                    FOLD_OK);
    check_both_formulations(cs, &r);
    fold_acopf_case_free(cs);
}
END_TEST

static const char *const pglib_names[] = {"pglib_opf_case30_ieee", "pglib_opf_case300_ieee",
                                          "pglib_opf_case89_pegase"};

START_TEST(constraints_match_complex_power_pglib)
{
    fold_test_rng r;
    fold_test_rng_seed(&r, 3 + (unsigned long long)_i);
    fold_acopf_case *cs = NULL;
    char buf[1024];
    ck_assert_acopf(
        fold_acopf_case_read(acopf_test_need_case(pglib_names[_i], buf, sizeof buf), &cs), FOLD_OK);
    check_both_formulations(cs, &r);
    fold_acopf_case_free(cs);
}
END_TEST

/* Synthetic grids of a few sizes and seeds solve; at the solution generation equals load
 * plus losses (sum of both branch-end flows) and losses are positive. */
START_TEST(synthetic_grids_feasible)
{
    const fold_int sizes[] = {5, 30, 120, 400};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (unsigned long long seed = 1; seed <= 2; seed++) {
            fold_acopf_case *cs = NULL;
            fold_acopf *m = NULL;
            fold_solver *sv = NULL;
            fold_forward_info info = FOLD_FORWARD_INFO_INIT;
            ck_assert_acopf(fold_acopf_gen_grid(sizes[si], seed, &cs), FOLD_OK);
            ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
            ck_assert_status(fold_solver_create(fold_acopf_problem(m), NULL, &sv), FOLD_OK);
            fold_status st = fold_solve(sv, NULL, &info);
            ck_assert_msg(st == FOLD_OK, "grid %ld seed %llu: %s (%s)", (long)sizes[si], seed,
                          fold_forward_status_string(info.status), fold_last_error());
            fold_acopf_layout L = fold_acopf_get_layout(m);
            double *x = malloc((size_t)L.n * sizeof(double));
            double *pg = malloc((size_t)cs->n_gen * sizeof(double));
            ck_assert_status(fold_solver_solution(sv, x, NULL, NULL, NULL, NULL), FOLD_OK);
            fold_acopf_solution_units(m, x, pg, NULL, NULL, NULL);
            double gen = 0, load = 0, shunt = 0;
            for (fold_int k = 0; k < cs->n_gen; k++)
                gen += pg[k];
            for (fold_int i = 0; i < cs->n_bus; i++) {
                load += cs->bus[i].pd;
                shunt += cs->bus[i].gs * x[L.x_vm + i] * x[L.x_vm + i];
            }
            double losses = gen - load - shunt;
            ck_assert_msg(losses > 0 && losses < 0.1 * load, "grid %ld: losses %g of load %g",
                          (long)sizes[si], losses, load);
            ck_assert_double_eq_tol(info.objective, fold_acopf_objective(m, x),
                                    1e-7 * info.objective);
            free(x);
            free(pg);
            fold_solver_free(sv);
            fold_acopf_free(m);
            fold_acopf_case_free(cs);
        }
}
END_TEST

/* Every block of x, g and p is named as foldopt opf keys it (bus ids, mpc.gen and
 * mpc.branch rows): the tiny case with a piecewise-linear cost on its second generator
 * (3 points: two segment rows) and flow variables on every rated branch. */
START_TEST(item_names)
{
    const char *start = strstr(acopf_tiny_case, "mpc.gencost");
    const char *end = strstr(acopf_tiny_case, "mpc.branch");
    char text[4096];
    snprintf(text, sizeof text,
             "%.*smpc.gencost = [\n\t2\t0\t0\t3\t0.01\t20\t0\t0\t0\t0;\n"
             "\t1\t0\t0\t3\t0\t0\t100\t2000\t200\t5000;\n];\n%s",
             (int)(start - acopf_tiny_case), acopf_tiny_case, end);
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = HUGE_VAL;
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "named.m", &cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create_with(cs, &opt, &m), FOLD_OK);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    const fold_problem *prob = fold_acopf_problem(m);
    ck_assert_int_eq(L.n_pwl, 1);
    ck_assert_int_eq(L.n_seg, 2);
    ck_assert_int_eq(L.n_flow, 3);
    char a1[64], a2[64];
    snprintf(a1, sizeof a1, "branch %ld (%ld-%ld) angle difference",
             cs->branch[fold_acopf_angle_branch(m, 1)].row,
             cs->bus[cs->branch[fold_acopf_angle_branch(m, 1)].f].id,
             cs->bus[cs->branch[fold_acopf_angle_branch(m, 1)].t].id);
    snprintf(a2, sizeof a2, "branch %ld (%ld-%ld) thermal to-end",
             cs->branch[fold_acopf_rated_branch(m, 2)].row,
             cs->bus[cs->branch[fold_acopf_rated_branch(m, 2)].f].id,
             cs->bus[cs->branch[fold_acopf_rated_branch(m, 2)].t].id);
    struct {
        int kind;
        fold_int index;
        const char *name;
    } want[] = {
        {FOLD_ITEM_VARIABLE, L.x_va + 0, "bus 1 va"},
        {FOLD_ITEM_VARIABLE, L.x_vm + 2, "bus 3 vm"},
        {FOLD_ITEM_VARIABLE, L.x_pg + 0, "gen 1 (bus 1) pg"},
        {FOLD_ITEM_VARIABLE, L.x_qg + 1, "gen 2 (bus 3) qg"},
        {FOLD_ITEM_VARIABLE, L.x_t + 0, "gen 2 (bus 3) cost"},
        {FOLD_ITEM_VARIABLE, L.x_fl + 4 * 1 + 2, "branch 2 (2-3) pt"},
        {FOLD_ITEM_CONSTRAINT, L.g_p + 1, "bus 2 P balance"},
        {FOLD_ITEM_CONSTRAINT, L.g_q + 2, "bus 3 Q balance"},
        {FOLD_ITEM_CONSTRAINT, L.g_sf + 0, "branch 1 (1-2) thermal from-end"},
        {FOLD_ITEM_CONSTRAINT, L.g_st + 2, a2},
        {FOLD_ITEM_CONSTRAINT, L.g_ang + 1, a1},
        {FOLD_ITEM_CONSTRAINT, L.g_seg + 1, "gen 2 (bus 3) cost segment 2"},
        {FOLD_ITEM_CONSTRAINT, L.g_flow + 4 * 2 + 1, "branch 3 (1-3) qf definition"},
        {FOLD_ITEM_PARAMETER, L.p_pd + 1, "pd bus 2"},
        {FOLD_ITEM_PARAMETER, L.p_qd + 2, "qd bus 3"},
        {FOLD_ITEM_PARAMETER, L.p_c1 + 0, "c1 gen 1"},
        {FOLD_ITEM_PARAMETER, L.p_c2 + 1, "c2 gen 2"},
        {FOLD_ITEM_PARAMETER, L.p_c0 + 1, "c0 gen 2"},
        {FOLD_ITEM_PARAMETER, L.p_gs + 2, "gs bus 3"},
        {FOLD_ITEM_PARAMETER, L.p_bs + 0, "bs bus 1"},
        {FOLD_ITEM_PARAMETER, L.p_r + 1, "r branch 2 (2-3)"},
        {FOLD_ITEM_PARAMETER, L.p_x + 0, "x branch 1 (1-2)"},
        {FOLD_ITEM_PARAMETER, L.p_b + 2, "b branch 3 (1-3)"},
        {FOLD_ITEM_PARAMETER, L.p_tap + 1, "tap branch 2 (2-3)"},
        {FOLD_ITEM_PARAMETER, L.p_shift + 1, "shift branch 2 (2-3)"},
        {FOLD_ITEM_PARAMETER, L.p_rate + 2, "rate_a branch 3 (1-3)"},
        {FOLD_ITEM_PARAMETER, L.p_vmin + 2, "vmin bus 3"},
        {FOLD_ITEM_PARAMETER, L.p_pmax + 0, "pmax gen 1"},
    };
    char buf[FOLD_NAME_MAX];
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        ck_assert_status(fold_problem_item_name(prob, want[k].kind, want[k].index, buf, sizeof buf),
                         FOLD_OK);
        ck_assert_str_eq(buf, want[k].name);
    }
    /* The last item of each kind is named (no default "x[..]" at the ends of the layout). */
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_VARIABLE, L.n - 1, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "branch 3 (1-3) qt");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_CONSTRAINT, L.m - 1, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "branch 3 (1-3) qt definition");
    ck_assert_status(fold_problem_item_name(prob, FOLD_ITEM_PARAMETER, L.np - 1, buf, sizeof buf),
                     FOLD_OK);
    ck_assert_str_eq(buf, "qmax gen 2");
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, layout);
    tcase_add_test(tc, flat_start_and_units);
    tcase_add_test(tc, ratio_start_carries_no_large_flows);
    tcase_add_test(tc, constraints_match_complex_power);
    tcase_add_loop_test(tc, constraints_match_complex_power_pglib, 0,
                        (int)(sizeof pglib_names / sizeof pglib_names[0]));
    tcase_add_test(tc, synthetic_grids_feasible);
    tcase_add_test(tc, item_names);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
