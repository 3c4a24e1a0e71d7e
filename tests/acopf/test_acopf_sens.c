/* Sensitivities of AC-OPF outputs with respect to every kind of parameter (doc/acopf.md §7),
 * at the default settings: fold_acopf_jacobian against central differences of warm-started
 * re-solves on case14, case30, case118 and a synthetic grid; columns equal JVPs, rows equal
 * VJPs (adjointness); the value gradient equals the VJP of the objective for every
 * parameter; d objective / d rate_a = -(MU_SF + MU_ST) of the results. */
#include "acopf_test.h"

typedef struct fixture {
    acopf_solved s; /* cs, m, sv, res */
    fold_acopf_case *cs;
    fold_acopf *m;
    fold_solver *sv;
    fold_acopf_layout L;
    fold_acopf_results *res;
} fixture;

/* Solve a PGLib case (name; false when absent) or a synthetic grid at the defaults. */
static void setup(fixture *fx, const char *name, fold_int grid_buses)
{
    memset(fx, 0, sizeof *fx);
    acopf_test_load(&fx->s, name, grid_buses, 9);
    acopf_test_solve(&fx->s, NULL, NULL);
    fx->cs = fx->s.cs;
    fx->m = fx->s.m;
    fx->sv = fx->s.sv;
    fx->res = fx->s.res;
    fx->L = fold_acopf_get_layout(fx->m);
}

static void teardown(fixture *fx)
{
    acopf_test_solved_free(&fx->s);
}

/* The rated branch most loaded at the solution, and the branch of largest |pf|. */
static fold_int busiest(const fixture *fx, bool rated)
{
    fold_int best = 0;
    double load = -1;
    for (fold_int k = 0; k < fx->cs->n_branch; k++) {
        double rate = fx->cs->branch[k].rate_a;
        double v = rated ? (rate > 0 ? hypot(fx->res->pf[k], fx->res->qf[k]) / rate : -1)
                         : fabs(fx->res->pf[k]);
        if (v > load) load = v, best = k;
    }
    return best;
}

/* The outputs compared: objective, pg, qg, vm, va, lam_p, lam_q of every generator and bus,
 * flows and losses of two branches, the thermal multipliers of the busiest rated branch. */
static fold_int make_outputs(const fixture *fx, fold_acopf_output *out)
{
    fold_int n = 0, kb = busiest(fx, false), kr = busiest(fx, true);
    out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_OBJECTIVE, 0};
    for (fold_int k = 0; k < fx->cs->n_gen; k++) {
        out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_PG, k};
        out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_QG, k};
    }
    for (fold_int i = 0; i < fx->cs->n_bus; i++) {
        out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_VM, i};
        out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_VA, i};
        out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_LAM_P, i};
        out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_LAM_Q, i};
    }
    int flows[] = {FOLD_ACOPF_OUT_PF, FOLD_ACOPF_OUT_QF, FOLD_ACOPF_OUT_PT, FOLD_ACOPF_OUT_QT,
                   FOLD_ACOPF_OUT_PLOSS};
    for (int f = 0; f < 5; f++) {
        out[n++] = (fold_acopf_output){flows[f], kb};
        out[n++] = (fold_acopf_output){flows[f], kr};
    }
    out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_MU_SF, kr};
    out[n++] = (fold_acopf_output){FOLD_ACOPF_OUT_MU_ST, kr};
    return n;
}

/* The item with the largest sum of two multipliers (a limit that binds), 0 when none. */
static fold_int binding(const double *lo, const double *hi, fold_int n)
{
    fold_int best = 0;
    for (fold_int k = 1; k < n; k++)
        if (lo[k] + hi[k] > lo[best] + hi[best]) best = k;
    return best;
}

/* One parameter per kind: a loaded bus, a generator inside its limits, the busiest
 * branches, the most binding voltage and generator limits. */
static fold_int make_params(const fixture *fx, fold_int *cols, double *steps)
{
    fold_int bus = 0, n = 0;
    for (fold_int i = 0; i < fx->cs->n_bus; i++)
        if (fx->cs->bus[i].pd > fx->cs->bus[bus].pd) bus = i;
    fold_int gen = 0;
    for (fold_int k = 0; k < fx->cs->n_gen; k++) /* a generator strictly inside its limits */
        if (fx->res->pg[k] > fx->cs->gen[k].pmin + 1 && fx->res->pg[k] < fx->cs->gen[k].pmax - 1)
            gen = k;
    fold_int kb = busiest(fx, false), kr = busiest(fx, true);
    const fold_acopf_results *r = fx->res;
    fold_int bv = binding(r->mu_vmin, r->mu_vmax, fx->cs->n_bus);
    fold_int gp = binding(r->mu_pmin, r->mu_pmax, fx->cs->n_gen);
    fold_int gq = binding(r->mu_qmin, r->mu_qmax, fx->cs->n_gen);
    double p[64];
    struct {
        int kind;
        fold_int item;
        double h;
    } want[] = {
        {FOLD_ACOPF_P_PD, bus, 0.5},      {FOLD_ACOPF_P_QD, bus, 0.5},
        {FOLD_ACOPF_P_C1, gen, 0.005},    {FOLD_ACOPF_P_C2, gen, 1e-4},
        {FOLD_ACOPF_P_C0, gen, 1},        {FOLD_ACOPF_P_GS, bus, 0.01},
        {FOLD_ACOPF_P_BS, bus, 0.01},     {FOLD_ACOPF_P_R, kb, 0},
        {FOLD_ACOPF_P_X, kb, 0},          {FOLD_ACOPF_P_B, kb, 0},
        {FOLD_ACOPF_P_TAP, kb, 1e-4},     {FOLD_ACOPF_P_SHIFT, kb, 0.01},
        {FOLD_ACOPF_P_RATE_A, kr, 0.005}, {FOLD_ACOPF_P_VMIN, bv, 1e-5},
        {FOLD_ACOPF_P_VMAX, bv, 1e-5},    {FOLD_ACOPF_P_PMIN, gp, 0.01},
        {FOLD_ACOPF_P_PMAX, gp, 0.01},    {FOLD_ACOPF_P_QMIN, gq, 0.01},
        {FOLD_ACOPF_P_QMAX, gq, 0.01},
    };
    (void)p;
    double *p0 = malloc((size_t)fx->L.np * sizeof(double));
    fold_solver_params(fx->sv, p0);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        cols[n] = fold_acopf_param_index(fx->m, want[k].kind, want[k].item);
        ck_assert_int_ge(cols[n], 0);
        /* branch impedances: 1e-3 relative */
        steps[n] = want[k].h > 0 ? want[k].h : 1e-3 * fabs(p0[cols[n]]);
        n++;
    }
    free(p0);
    return n;
}

/* Central differences of warm-started re-solves at p +- h e_col, of every output, at tol
 * 1e-12 (the reference). An interior-point re-solve keeps a distance mu / z from a limit
 * held with a small multiplier z that moves with p: on case118 generator 17 sits at Qmax
 * with MU_QMAX 4e-4 $/MVArh, 2e-3 MVAr inside at tol 1e-8 and 2e-6 at 1e-10, and a step of
 * 1e-5 p.u. in vmax of bus 100 then reads 13.40 MVAr per p.u. in generator 16's qg at tol
 * 1e-10 where the fold and the differences at 1e-12 give 12.987. */
static void fd_column(fixture *fx, fold_int n_out, const fold_acopf_output *out, fold_int col,
                      double h, double *fd)
{
    fold_int n = fx->L.n, m = fx->L.m, np = fx->L.np;
    double *p0 = malloc((size_t)np * sizeof(double)), *p = malloc((size_t)np * sizeof(double));
    double *x = malloc((size_t)n * sizeof(double)), *lam = malloc((size_t)m * sizeof(double));
    double *zl = malloc((size_t)n * sizeof(double)), *zu = malloc((size_t)n * sizeof(double));
    double *vp = malloc((size_t)n_out * sizeof(double)), *vm = malloc((size_t)n_out * 8);
    fold_solver_params(fx->sv, p0);
    fold_solver_solution(fx->sv, x, lam, zl, zu, NULL);
    for (int side = 0; side < 2; side++) {
        memcpy(p, p0, (size_t)np * sizeof(double));
        p[col] += side ? -h : h;
        ck_assert_status(fold_solver_set_start(fx->sv, x, lam, zl, zu), FOLD_OK);
        fold_status st = fold_solve(fx->sv, p, NULL);
        ck_assert_msg(st >= 0, "re-solve: %s", fold_last_error());
        /* differences of tightened solutions, like the point the fold differentiates */
        ck_assert_status(fold_solve_finish(fx->sv, NULL), FOLD_OK);
        ck_assert_acopf(fold_acopf_output_values(fx->m, fx->sv, n_out, out, side ? vm : vp),
                        FOLD_OK);
    }
    for (fold_int r = 0; r < n_out; r++)
        fd[r] = (vp[r] - vm[r]) / (2 * h);
    /* back to the base solution */
    ck_assert_status(fold_solver_set_start(fx->sv, x, lam, zl, zu), FOLD_OK);
    ck_assert_msg(fold_solve(fx->sv, p0, NULL) >= 0, "%s", fold_last_error());
    free(p0);
    free(p);
    free(x);
    free(lam);
    free(zl);
    free(zu);
    free(vp);
    free(vm);
}

/* The size in which an output's re-solve error is measured: 1 p.u. for powers (S MW), 1
 * p.u. or 1 radian for voltages, the largest LMP for multipliers (times S per p.u. for the
 * voltage bounds, per degree for the angle limits). */
static double noise_scale(const fixture *fx, int kind, double value)
{
    double S = fx->cs->base_mva, price = 0;
    for (fold_int i = 0; i < fx->cs->n_bus; i++)
        price = fmax(price, fabs(fx->res->lam_p[i]));
    switch (kind) {
    case FOLD_ACOPF_OUT_OBJECTIVE:
        return fabs(value);
    case FOLD_ACOPF_OUT_VM:
        return 1;
    case FOLD_ACOPF_OUT_VA:
        return 1 / FOLD_ACOPF_RAD_PER_DEG;
    case FOLD_ACOPF_OUT_MU_VMIN:
    case FOLD_ACOPF_OUT_MU_VMAX:
        return price * S;
    case FOLD_ACOPF_OUT_MU_ANGMIN:
    case FOLD_ACOPF_OUT_MU_ANGMAX:
        return price * S * FOLD_ACOPF_RAD_PER_DEG;
    case FOLD_ACOPF_OUT_LAM_P:
    case FOLD_ACOPF_OUT_LAM_Q:
    case FOLD_ACOPF_OUT_MU_PMIN:
    case FOLD_ACOPF_OUT_MU_PMAX:
    case FOLD_ACOPF_OUT_MU_QMIN:
    case FOLD_ACOPF_OUT_MU_QMAX:
    case FOLD_ACOPF_OUT_MU_SF:
    case FOLD_ACOPF_OUT_MU_ST:
        return price;
    default:
        return S; /* MW, MVAr */
    }
}

/* Outputs in groups of one unit: powers of generators, voltage magnitudes, angles, branch
 * flows and losses, multipliers, the objective. */
static int group(int kind)
{
    switch (kind) {
    case FOLD_ACOPF_OUT_PG:
    case FOLD_ACOPF_OUT_QG:
        return 1;
    case FOLD_ACOPF_OUT_VM:
        return 2;
    case FOLD_ACOPF_OUT_VA:
        return 3;
    case FOLD_ACOPF_OUT_PF:
    case FOLD_ACOPF_OUT_QF:
    case FOLD_ACOPF_OUT_PT:
    case FOLD_ACOPF_OUT_QT:
    case FOLD_ACOPF_OUT_PLOSS:
        return 4;
    case FOLD_ACOPF_OUT_OBJECTIVE:
        return 0;
    default:
        return 5;
    }
}

/* Jacobian entries (at the default settings) against the differences: |fold - FD| within
 * 1e-3 of the larger of |FD| and 1e-3 times the largest entry of the same group in the
 * column (an entry a million times smaller is a cancellation of terms that the forward
 * tolerance decides: case118's d qf / d x of branch 9 is -1.7e-4 MVAr per p.u. at tol 1e-8,
 * 1.1e-3 at 1e-12, next to d qt / d x = 2313), plus the noise of the difference of two
 * re-solves to tolerance tol = 1e-12, 100 tol noise_scale / h. */
static void check_against_fd(const char *name, fold_int grid)
{
    fixture fx;
    setup(&fx, name, grid);
    fold_int max_out = 1 + 2 * fx.cs->n_gen + 4 * fx.cs->n_bus + 12;
    fold_acopf_output *out = malloc((size_t)max_out * sizeof *out);
    fold_int cols[32], n_out = make_outputs(&fx, out);
    double steps[32], tol = fold_solver_settings(fx.sv)->forward.tol;
    fold_int n_cols = make_params(&fx, cols, steps);
    double *J = malloc((size_t)(n_out * n_cols) * sizeof(double));
    double *fd = malloc((size_t)n_out * sizeof(double)), *v = malloc((size_t)n_out * 8);
    ck_assert_acopf(fold_acopf_output_values(fx.m, fx.sv, n_out, out, v), FOLD_OK);
    fold_status st =
        fold_acopf_jacobian(fx.m, fx.sv, n_out, out, n_cols, cols, J, NULL, NULL, NULL);
    ck_assert_msg(st == FOLD_OK || st == FOLD_WARN_NOT_UNIQUE || st == FOLD_WARN_UNCERTAIN, "%s",
                  fold_last_error());
    /* an uncertain entry (NaN, doc/math.md §3.2) is checked by its interval: lo, hi */
    double *lo = malloc((size_t)(n_out * n_cols) * 8), *hi = malloc((size_t)(n_out * n_cols) * 8);
    for (fold_int k = 0; k < n_out * n_cols; k++)
        lo[k] = hi[k] = J[k];
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_acopf_trust_report(&items, &n_items), FOLD_OK);
    for (fold_int k = 0; k < n_items; k++) {
        const fold_trust_item *it = fold_trust_item_at(items, k);
        if (it->kind != FOLD_TRUST_UNCERTAIN) continue;
        ck_assert(it->entry >= 0 && it->entry < n_out * n_cols && isnan(J[it->entry]));
        lo[it->entry] = fmin(it->lo, it->hi);
        hi[it->entry] = fmax(it->lo, it->hi);
    }
    /* the derivatives above at the defaults; the reference differences at tol 1e-12 */
    fold_settings tight = *fold_solver_settings(fx.sv);
    tight.forward.tol = tol = 1e-12;
    ck_assert_status(fold_solver_update_settings(fx.sv, &tight), FOLD_OK);
    double worst_all = 0;
    for (fold_int c = 0; c < n_cols; c++) {
        fd_column(&fx, n_out, out, cols[c], steps[c], fd);
        double scale[6] = {0}, worst = 0;
        fold_int worst_r = 0, n_nan = 0, n_uncertain = 0;
        for (fold_int r = 0; r < n_out; r++)
            scale[group(out[r].kind)] = fmax(scale[group(out[r].kind)], fabs(fd[r]));
        for (fold_int r = 0; r < n_out; r++) {
            double a = J[c * n_out + r], a_lo = lo[c * n_out + r], a_hi = hi[c * n_out + r];
            if (isnan(a) && isnan(a_lo)) { /* not unique (generators sharing a bus): said so */
                n_nan++;
                continue;
            }
            n_uncertain += isnan(a);
            double allowed = 1e-3 * fmax(fabs(fd[r]), 1e-3 * scale[group(out[r].kind)]) +
                             100 * tol * noise_scale(&fx, out[r].kind, v[r]) / steps[c];
            double e = fmax(0.0, fmax(a_lo - fd[r], fd[r] - a_hi)) / allowed;
            if (e > worst) worst = e, worst_r = r;
        }
        char pname[FOLD_NAME_MAX];
        fold_problem_item_name(fold_acopf_problem(fx.m), FOLD_ITEM_PARAMETER, cols[c], pname,
                               sizeof pname);
        printf("# %s: d / d %s (h %g): worst %.2f of the allowed at %s[%ld] (fold %.8g, FD "
               "%.8g), %ld not unique, %ld uncertain (FD within their intervals)\n",
               fx.cs->name, pname, steps[c], worst, fold_acopf_output_name(out[worst_r].kind),
               (long)out[worst_r].item, J[c * n_out + worst_r], fd[worst_r], (long)n_nan,
               (long)n_uncertain);
        ck_assert_msg(worst <= 1, "%s: d %s[%ld] / d %s: fold %.8g, FD %.8g", fx.cs->name,
                      fold_acopf_output_name(out[worst_r].kind), (long)out[worst_r].item, pname,
                      J[c * n_out + worst_r], fd[worst_r]);
        ck_assert_int_eq(n_nan, 0);
        worst_all = fmax(worst_all, worst);
    }
    printf("# %s: every parameter kind, worst %.2f of the allowed\n", fx.cs->name, worst_all);
    free(out);
    free(J);
    free(lo);
    free(hi);
    free(fd);
    free(v);
    teardown(&fx);
}

START_TEST(fd_pglib)
{
    const char *names[] = {"pglib_opf_case14_ieee", "pglib_opf_case30_ieee",
                           "pglib_opf_case118_ieee"};
    check_against_fd(names[_i], 0);
}
END_TEST

START_TEST(fd_grid)
{
    check_against_fd(NULL, 40);
}
END_TEST

/* d qg of generator 3 / d c2 of generator 1 on case14 at the default settings (the
 * resolution tightens the point to tol 1e-12 in warm re-solves) and with Ipopt's bound
 * relaxation on every solve (bound_relax_factor 1e-8 passed through): Ipopt projects its
 * final point back onto the bounds, which leaves a stationarity residual of that size on the
 * rows of the voltages at Vmax whatever tol asks (doc/math.md §3.2 "Bound relaxation"), and
 * the entry converged to -4.3e-4 MVAr per $/MW^2h where central differences of re-solves
 * give about 1e-8. Returns the distance of the differences from the entry (or from the
 * interval of an uncertain entry: its central path is not settled, doc/math.md eq. 3.5b) in
 * *err, the entry in *J. */
static bool relaxation_error(const fold_settings *set, const char *const *ipopt, double *J,
                             double *err)
{
    fixture fx;
    memset(&fx, 0, sizeof fx);
    acopf_test_load(&fx.s, "pglib_opf_case14_ieee", 0, 9);
    acopf_test_solve_ipopt(&fx.s, NULL, set, ipopt);
    fx.cs = fx.s.cs, fx.m = fx.s.m, fx.sv = fx.s.sv, fx.res = fx.s.res;
    fx.L = fold_acopf_get_layout(fx.m);
    fold_acopf_output out = {FOLD_ACOPF_OUT_QG, 2};
    fold_int col = fold_acopf_param_index(fx.m, FOLD_ACOPF_P_C2, 0);
    double fd;
    fold_status st = fold_acopf_jacobian(fx.m, fx.sv, 1, &out, 1, &col, J, NULL, NULL, NULL);
    ck_assert_msg(st >= 0, "%s", fold_last_error());
    double lo = *J, hi = *J; /* an uncertain entry (eq. 3.5b): the interval of its values */
    if (isnan(*J)) {
        const fold_trust_item *items;
        fold_int n_items;
        ck_assert_status(fold_acopf_trust_report(&items, &n_items), FOLD_OK);
        for (fold_int k = 0; k < n_items; k++)
            if (items[k].kind == FOLD_TRUST_UNCERTAIN) {
                lo = items[k].lo;
                hi = items[k].hi;
                *J = items[k].value;
            }
    }
    fd_column(&fx, 1, &out, col, 1e-4, &fd);
    printf("# case14 d qg gen 3 / d c2 gen 1: [%.3g, %.3g], re-solves %.3g (%s)\n", lo, hi, fd,
           set ? "bounds relaxed on every solve" : "defaults");
    ck_assert(isfinite(lo) && isfinite(hi));
    *err = fmax(0.0, fmax(lo - fd, fd - hi));
    teardown(&fx);
    return true;
}

START_TEST(tightened_point_unrelaxed)
{
    double J, err;
    if (!relaxation_error(NULL, NULL, &J, &err)) return;
    ck_assert_double_le(err, 1e-6);
    fold_settings set;
    fold_settings_default(&set);
    static const char *const relax[] = {"bound_relax_factor", "1e-8", NULL};
    ck_assert(relaxation_error(&set, relax, &J, &err));
    ck_assert_double_gt(err, 1e-5); /* the mechanism the defaults avoid */
}
END_TEST

/* The suspect sides of the central-path check (doc/math.md §3.2 "Suspect verdicts") each
 * move every entry the check left unsettled: the trust report gives them one shared list
 * (one list per side made pglib_opf_case1888_rte's d vm / d pd need 24 GB), exactly the
 * uncertain entries, also when the result is made by several fold_jacobian calls (one per
 * block of the solution the outputs use: x for qg and vm, lam for the LMPs). case14: the qg
 * bounds of generator 5 (bus 8). */
START_TEST(shared_suspect_lists)
{
    fixture fx;
    setup(&fx, "pglib_opf_case14_ieee", 0);
    fold_acopf_output out[64];
    fold_int cols[64], n_out = 0, n_cols = 0, n_nan = 0, sides = 0, shared = 0;
    for (fold_int g = 0; g < fx.cs->n_gen; g++) {
        out[n_out++] = (fold_acopf_output){FOLD_ACOPF_OUT_QG, g};
        cols[n_cols++] = fold_acopf_param_index(fx.m, FOLD_ACOPF_P_C2, g);
    }
    for (fold_int b = 0; b < fx.cs->n_bus; b++) {
        out[n_out++] = (fold_acopf_output){FOLD_ACOPF_OUT_VM, b};
        out[n_out++] = (fold_acopf_output){FOLD_ACOPF_OUT_LAM_P, b};
        cols[n_cols++] = fold_acopf_param_index(fx.m, FOLD_ACOPF_P_PD, b);
    }
    size_t len = (size_t)(n_out * n_cols);
    double *J = malloc(len * 8);
    fold_status st =
        fold_acopf_jacobian(fx.m, fx.sv, n_out, out, n_cols, cols, J, NULL, NULL, NULL);
    ck_assert_msg(st == FOLD_WARN_UNCERTAIN, "%s: %s", fold_status_name(st), fold_last_error());
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_acopf_trust_report(&items, &n_items), FOLD_OK);
    for (size_t k = 0; k < len; k++)
        n_nan += isnan(J[k]);
    const fold_trust_item *first = NULL;
    for (fold_int k = 0; k < n_items; k++) {
        const fold_trust_item *it = fold_trust_item_at(items, k);
        if (it->kind != FOLD_TRUST_AMBIGUOUS) continue;
        sides++;
        if (first) {
            ck_assert_ptr_eq(it->affected, first->affected); /* shared, not copied */
            ck_assert_int_eq(it->n_affected, first->n_affected);
            shared++;
            continue;
        }
        first = it; /* its list: the uncertain entries, sorted */
        ck_assert_int_eq(it->n_affected, n_nan);
        for (fold_int q = 0; q < it->n_affected; q++) {
            ck_assert(isnan(J[it->affected[q]]));
            if (q) ck_assert_int_gt(it->affected[q], it->affected[q - 1]);
        }
    }
    printf("# case14 qg, vm, lmp / c2, pd: %lld uncertain entries moved by %lld suspect sides "
           "(%lld sharing the first's list)\n",
           (long long)n_nan, (long long)sides, (long long)shared);
    ck_assert_int_ge(sides, 2);
    ck_assert_int_eq(shared, sides - 1);
    ck_assert_int_gt(n_nan, 0);
    free(J);
    teardown(&fx);
}
END_TEST

/* Jacobian columns are JVPs, rows are VJPs, and <J dp, w> = <dp, J' w> for random dp, w;
 * the VJP of the objective is the value gradient for every parameter; d objective /
 * d rate_a = -(MU_SF + MU_ST). */
START_TEST(identities)
{
    fixture fx;
    setup(&fx, NULL, 30);
    fold_int np = fx.L.np, max_out = 1 + 2 * fx.cs->n_gen + 4 * fx.cs->n_bus + 12;
    fold_acopf_output *out = malloc((size_t)max_out * sizeof *out);
    fold_int n_out = make_outputs(&fx, out);
    double *J = malloc((size_t)(n_out * np) * sizeof(double));
    double *dp = malloc((size_t)np * sizeof(double)), *w = malloc((size_t)n_out * 8);
    double *pbar = malloc((size_t)np * sizeof(double)), *dout = malloc((size_t)n_out * 8);
    double *vg = malloc((size_t)np * sizeof(double));
    fold_test_rng r;
    fold_test_rng_seed(&r, 4);
    ck_assert_acopf(fold_acopf_jacobian(fx.m, fx.sv, n_out, out, np, NULL, J, NULL, NULL, NULL),
                    FOLD_OK);
    for (fold_int j = 0; j < np; j++)
        dp[j] = fold_test_normal(&r);
    for (fold_int k = 0; k < n_out; k++)
        w[k] = fold_test_normal(&r);
    ck_assert_acopf(fold_acopf_jvp(fx.m, fx.sv, dp, n_out, out, dout, NULL), FOLD_OK);
    ck_assert_acopf(fold_acopf_vjp(fx.m, fx.sv, n_out, out, w, pbar, NULL), FOLD_OK);
    double lhs = 0, rhs = 0, scale = 0, err_jvp = 0, err_vjp = 0;
    for (fold_int k = 0; k < n_out; k++) {
        double jd = 0;
        for (fold_int j = 0; j < np; j++)
            jd += J[j * n_out + k] * dp[j];
        err_jvp = fmax(err_jvp, fabs(jd - dout[k]) / fmax(1, fabs(jd)));
        lhs += w[k] * dout[k];
        scale = fmax(scale, fabs(w[k] * dout[k]));
    }
    for (fold_int j = 0; j < np; j++) {
        double jw = 0;
        for (fold_int k = 0; k < n_out; k++)
            jw += J[j * n_out + k] * w[k];
        err_vjp = fmax(err_vjp, fabs(jw - pbar[j]) / fmax(1, fabs(jw)));
        rhs += dp[j] * pbar[j];
    }
    printf("# identities: J dp vs JVP %.1e, J'w vs VJP %.1e, adjointness %.1e\n", err_jvp, err_vjp,
           fabs(lhs - rhs) / scale);
    ck_assert_double_le(err_jvp, 1e-8);
    ck_assert_double_le(err_vjp, 1e-8);
    ck_assert_double_le(fabs(lhs - rhs), 1e-9 * scale);
    /* the objective alone: VJP = value gradient (envelope theorem), every parameter */
    fold_acopf_output obj = {FOLD_ACOPF_OUT_OBJECTIVE, 0};
    ck_assert_acopf(fold_acopf_vjp(fx.m, fx.sv, 1, &obj, NULL, pbar, NULL), FOLD_OK);
    ck_assert_status(fold_value_gradient(fx.sv, vg), FOLD_OK);
    double env = fold_test_vec_relerr(pbar, vg, np, 1e-300);
    printf("# envelope identity over all %ld parameters: %.2e\n", (long)np, env);
    ck_assert_double_le(env, 1e-6);
    /* MU_SF and MU_ST are the price of the rating (u/MVA): d f / d rate_a = -(mu_sf + mu_st) */
    fold_int kr = busiest(&fx, true);
    double mu = fx.res->mu_sf[kr] + fx.res->mu_st[kr];
    double d = vg[fold_acopf_param_index(fx.m, FOLD_ACOPF_P_RATE_A, kr)];
    printf("# busiest rated branch %ld: mu_sf + mu_st %.8g $/MVAh, d f / d rate_a %.8g\n",
           (long)fx.cs->branch[kr].row, mu, d);
    ck_assert(mu > 1e-3); /* the limit binds on this grid */
    ck_assert_double_le(fabs(d + mu), 1e-8 * fmax(1, mu));
    /* and the other limits: d f / d pmax = -MU_PMAX (u/MW), d f / d vmin = MU_VMIN (u/p.u.) */
    const fold_acopf_results *res = fx.res;
    for (fold_int k = 0; k < fx.cs->n_gen; k++) {
        double want[4] = {res->mu_pmin[k], -res->mu_pmax[k], res->mu_qmin[k], -res->mu_qmax[k]};
        int kinds[4] = {FOLD_ACOPF_P_PMIN, FOLD_ACOPF_P_PMAX, FOLD_ACOPF_P_QMIN, FOLD_ACOPF_P_QMAX};
        for (int t = 0; t < 4; t++) {
            double got = vg[fold_acopf_param_index(fx.m, kinds[t], k)];
            ck_assert_double_le(fabs(got - want[t]), 1e-9 * fmax(1, fabs(want[t])));
        }
    }
    for (fold_int i = 0; i < fx.cs->n_bus; i++) {
        ck_assert_double_le(
            fabs(vg[fold_acopf_param_index(fx.m, FOLD_ACOPF_P_VMIN, i)] - res->mu_vmin[i]),
            1e-9 * fmax(1, res->mu_vmin[i]));
        ck_assert_double_le(
            fabs(vg[fold_acopf_param_index(fx.m, FOLD_ACOPF_P_VMAX, i)] + res->mu_vmax[i]),
            1e-9 * fmax(1, res->mu_vmax[i]));
    }
    free(out);
    free(J);
    free(dp);
    free(w);
    free(pbar);
    free(dout);
    free(vg);
    teardown(&fx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_sens");
    TCase *tc = tcase_create("sens");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, fd_pglib, 0, 3);
    tcase_add_test(tc, fd_grid);
    tcase_add_test(tc, identities);
    tcase_add_test(tc, tightened_point_unrelaxed);
    tcase_add_test(tc, shared_suspect_lists);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
