/* Synthetic grids (doc/acopf.md §4): the operating point written in each case (bus Vm, Va,
 * generator Pg, Qg) satisfies every constraint of the model, the inequalities with the
 * margins (13), at sizes up to 30,000 buses and several seeds, without solving; the grids
 * are meshed, with a generator within two branches of every bus and the standard limits;
 * small grids solve, and their optimum is constrained (binding thermal and generator limits,
 * prices that differ between buses). */
#include "acopf_test.h"
#include "acopf/acopf_internal.h"

/* The case's own operating point in the model's layout. */
static void case_point(const fold_acopf *m, double *x)
{
    const fold_acopf_case *cs = fold_acopf_get_case(m);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    memset(x, 0, (size_t)L.n * sizeof(double));
    for (fold_int i = 0; i < cs->n_bus; i++) {
        x[L.x_va + i] = cs->bus[i].va0 * DEG;
        x[L.x_vm + i] = cs->bus[i].vm0;
    }
    for (fold_int k = 0; k < cs->n_gen; k++) {
        x[L.x_pg + k] = cs->gen[k].pg0 / cs->base_mva;
        x[L.x_qg + k] = cs->gen[k].qg0 / cs->base_mva;
    }
}

/* Margins (13) of doc/acopf.md §4 at the case's point, through the model's constraint
 * evaluation; returns the largest power-balance residual (p.u.). */
static double check_point(const fold_acopf *m, const char *name)
{
    const fold_acopf_case *cs = fold_acopf_get_case(m);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double *x = malloc((size_t)L.n * sizeof(double)), *g = malloc((size_t)L.m * sizeof(double));
    double *p = malloc((size_t)L.np * sizeof(double));
    fold_problem_default_params(fold_acopf_problem(m), p);
    case_point(m, x);
    ck_assert_int_eq(fold_acopf_eval_g(m, x, p, g), 0);
    double balance = 0;
    for (fold_int i = L.g_p; i < L.g_sf; i++) {
        ck_assert(m->g_lo[i] == 0 && m->g_hi[i] == 0);
        balance = fmax(balance, fabs(g[i]));
    }
    ck_assert_int_eq(L.n_rated, cs->n_branch);
    for (fold_int k = 0; k < L.n_rated; k++) /* |S| <= rateA / 1.25 at both ends */
        for (int e = 0; e < 2; e++) {
            fold_int i = (e ? L.g_st : L.g_sf) + k;
            ck_assert_msg(g[i] >= 0 && g[i] * 1.25 * 1.25 <= m->g_hi[i],
                          "%s: thermal row %ld: "
                          "|S|^2 %g, limit %g",
                          name, (long)i, g[i], m->g_hi[i]);
        }
    for (fold_int i = L.g_ang; i < L.g_ang + L.n_angle; i++) /* 5 degrees from the limits */
        ck_assert_msg(g[i] >= m->g_lo[i] + 5 * DEG && g[i] <= m->g_hi[i] - 5 * DEG,
                      "%s: angle row %ld: %g in [%g, %g]", name, (long)i, g[i], m->g_lo[i],
                      m->g_hi[i]);
    for (fold_int j = 0; j < L.n; j++) {
        double margin = 0; /* angles: free, the reference fixed at 0 */
        if (j >= L.x_vm && j < L.x_pg)
            margin = 0.02;
        else if (j >= L.x_pg)
            margin = 0.05 * cs->gen[(j - L.x_pg) % cs->n_gen].pmax / cs->base_mva;
        ck_assert_msg(x[j] >= m->x_lo[j] + margin && x[j] <= m->x_hi[j] - margin,
                      "%s: x[%ld] = %g, bounds [%g, %g], margin %g", name, (long)j, x[j],
                      m->x_lo[j], m->x_hi[j], margin);
    }
    free(x);
    free(g);
    free(p);
    return balance;
}

/* Every bus within two branches of a generator bus (breadth-first from all of them). */
static fold_int farthest_from_generation(const fold_acopf_case *cs)
{
    fold_int n = cs->n_bus, far = 0;
    fold_int *dist = malloc((size_t)n * sizeof(fold_int));
    for (fold_int i = 0; i < n; i++)
        dist[i] = n;
    for (fold_int k = 0; k < cs->n_gen; k++)
        dist[cs->gen[k].bus] = 0;
    for (bool changed = true; changed;) { /* relax along branches until nothing moves */
        changed = false;
        for (fold_int k = 0; k < cs->n_branch; k++) {
            fold_int f = cs->branch[k].f, t = cs->branch[k].t;
            fold_int lo = dist[f] < dist[t] ? dist[f] : dist[t];
            if (dist[f] > lo + 1 || dist[t] > lo + 1) {
                dist[f] = dist[f] > lo + 1 ? lo + 1 : dist[f];
                dist[t] = dist[t] > lo + 1 ? lo + 1 : dist[t];
                changed = true;
            }
        }
    }
    for (fold_int i = 0; i < n; i++)
        far = dist[i] > far ? dist[i] : far;
    free(dist);
    return far;
}

START_TEST(point_strictly_feasible)
{
    const fold_int sizes[] = {2, 5, 30, 400, 3000, 30000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (unsigned long long seed = 1; seed <= (sizes[si] > 3000 ? 2u : 3u); seed++) {
            fold_acopf_case *cs = NULL;
            fold_acopf *m = NULL;
            ck_assert_acopf(fold_acopf_gen_grid(sizes[si], seed, &cs), FOLD_OK);
            ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
            double balance = check_point(m, cs->name);
            /* realism: loads are the drawn ones (non-negative), generators on about 20% of
             * the buses and within two branches of every bus, the standard voltage and
             * angle limits everywhere, and meshed (about 1.35 branches per bus) */
            fold_int far = farthest_from_generation(cs);
            double vlo = 2, vhi = 0;
            for (fold_int i = 0; i < cs->n_bus; i++) {
                ck_assert(cs->bus[i].pd >= 0 && cs->bus[i].qd >= 0);
                ck_assert(cs->bus[i].vmin == 0.9 && cs->bus[i].vmax == 1.1);
                vlo = fmin(vlo, cs->bus[i].vm0);
                vhi = fmax(vhi, cs->bus[i].vm0);
            }
            for (fold_int k = 0; k < cs->n_branch; k++)
                ck_assert(cs->branch[k].angmin_deg == -30 && cs->branch[k].angmax_deg == 30);
            for (fold_int k = 0; k < cs->n_gen; k++)
                ck_assert(cs->gen[k].pmin == 0);
            printf("# %s: %ld gens, %ld branches; point: balance residual %.1e p.u., vm in "
                   "[%.3f, %.3f], farthest bus %ld branches from a generator\n",
                   cs->name, (long)cs->n_gen, (long)cs->n_branch, balance, vlo, vhi, (long)far);
            ck_assert_double_le(balance, 1e-11);
            ck_assert_int_le(far, 2);
            ck_assert_int_ge(cs->n_gen, cs->n_bus / 5);
            ck_assert_int_le(cs->n_gen, cs->n_bus / 4 + 1);
            if (cs->n_bus >= 400)
                ck_assert_double_ge((double)cs->n_branch, 1.3 * (double)cs->n_bus);
            fold_acopf_free(m);
            fold_acopf_case_free(cs);
        }
}
END_TEST

/* Small grids solve; at 400 buses the optimum has binding thermal limits, generators at
 * both limits and LMPs that differ by more than 5 $/MWh. */
START_TEST(small_grids_solve_constrained)
{
    const fold_int sizes[] = {2, 5, 30, 120, 400};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (unsigned long long seed = 1; seed <= 3; seed++) {
            fold_acopf_case *cs = NULL;
            fold_acopf *m = NULL;
            fold_solver *sv = NULL;
            fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
            ck_assert_acopf(fold_acopf_gen_grid(sizes[si], seed, &cs), FOLD_OK);
            ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
            ck_assert_status(fold_solver_create(fold_acopf_problem(m), NULL, &sv), FOLD_OK);
            fold_status st = fold_solve(sv, NULL, &fi);
            ck_assert_msg(st == FOLD_OK, "%s: %s", cs->name, fold_forward_status_string(fi.status));
            fold_acopf_layout L = fold_acopf_get_layout(m);
            double *x = malloc((size_t)L.n * sizeof(double));
            double *lam = malloc((size_t)L.m * sizeof(double));
            double *g = malloc((size_t)L.m * sizeof(double));
            double *p = malloc((size_t)L.np * sizeof(double));
            fold_solver_solution(sv, x, lam, NULL, NULL, NULL);
            fold_solver_params(sv, p);
            fold_acopf_eval_g(m, x, p, g);
            fold_int thermal = 0, at_max = 0, at_min = 0;
            double lmp_lo = HUGE_VAL, lmp_hi = -HUGE_VAL;
            for (fold_int k = 0; k < 2 * L.n_rated; k++)
                thermal += g[L.g_sf + k] > (1 - 1e-4) * m->g_hi[L.g_sf + k];
            for (fold_int k = 0; k < cs->n_gen; k++) {
                at_max += x[L.x_pg + k] > m->x_hi[L.x_pg + k] - 1e-5;
                at_min += x[L.x_pg + k] < m->x_lo[L.x_pg + k] + 1e-5;
            }
            for (fold_int i = 0; i < cs->n_bus; i++) {
                lmp_lo = fmin(lmp_lo, lam[L.g_p + i] / cs->base_mva);
                lmp_hi = fmax(lmp_hi, lam[L.g_p + i] / cs->base_mva);
            }
            printf("# %s: solved in %ld iterations, objective %.2f $/h; binding thermal ends "
                   "%ld, generators at pmax %ld, at pmin %ld, LMPs in [%.2f, %.2f] $/MWh\n",
                   cs->name, (long)fi.iterations, fi.objective, (long)thermal, (long)at_max,
                   (long)at_min, lmp_lo, lmp_hi);
            if (cs->n_bus == 400) {
                ck_assert_int_ge(thermal, 5);
                ck_assert_int_ge(at_max, 5);
                ck_assert_int_ge(at_min, 1);
                ck_assert_double_ge(lmp_hi - lmp_lo, 5);
            }
            free(x);
            free(lam);
            free(g);
            free(p);
            fold_solver_free(sv);
            fold_acopf_free(m);
            fold_acopf_case_free(cs);
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_gen_grid");
    TCase *tc = tcase_create("gen_grid");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, point_strictly_feasible);
    tcase_add_test(tc, small_grids_solve_constrained);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
