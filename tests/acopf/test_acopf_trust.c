/* Derivatives that are never silently wrong (doc/math.md §3.2, §3.7; doc/acopf.md §5):
 * small grids built for the situations that fooled the fixed thresholds, each checked at the
 * default settings against central (or one-sided) differences of re-solves at a tight
 * tolerance, with the trust report naming the item as the user knows it.
 *  - a bus voltage 1e-5 p.u. below its upper limit (the multiplier pattern of
 *    pglib_opf_case2000_goc's bus 1484 at tol 1e-8);
 *  - two zero-load leaf buses on identical branches at Vmax (dependent active constraints:
 *    a kink of the optimal value, whose one-sided LMPs differ);
 *  - an isolated bus (no branch, no load: infeasible for any load there);
 *  - two identical generators with a linear cost (their split is not unique). */
#include <math.h>

#include "acopf_test.h"

/* The synthetic 30-bus grid the cases are built from. */
static fold_acopf_case *grid30(void)
{
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_gen_grid(30, 4, &cs), FOLD_OK);
    return cs;
}

typedef struct solved {
    fold_acopf *m;
    fold_solver *sv;
    fold_acopf_layout L;
    fold_forward_info fi;
    double *x, *lam, *zl, *zu, *p;
} solved;

/* Solve cs; s->fi is the solve's info. With finish, the point read into s is the one the
 * fold differentiates (the tightening re-solves of forward.resolve_when = fold run first),
 * else the solve's own. */
static void solve_case_at(const fold_acopf_case *cs, const fold_settings *set, bool finish,
                          solved *s)
{
    memset(s, 0, sizeof *s);
    s->fi = (fold_forward_info)FOLD_FORWARD_INFO_INIT;
    ck_assert_acopf(fold_acopf_create(cs, &s->m), FOLD_OK);
    fold_status st = fold_acopf_solve(&s->m, set, NULL, NULL, &s->sv, &s->fi, NULL);
    ck_assert_msg(st == FOLD_OK, "%s: %s", fold_status_name(st), fold_last_error());
    if (finish) ck_assert_status(fold_solve_finish(s->sv, NULL), FOLD_OK);
    s->L = fold_acopf_get_layout(s->m);
    size_t n = (size_t)s->L.n, m = (size_t)s->L.m;
    s->x = malloc(n * 8);
    s->zl = malloc(n * 8);
    s->zu = malloc(n * 8);
    s->lam = malloc(m * 8);
    s->p = malloc((size_t)s->L.np * 8);
    fold_solver_solution(s->sv, s->x, s->lam, s->zl, s->zu, NULL);
    fold_solver_params(s->sv, s->p);
}

static void solve_case(const fold_acopf_case *cs, const fold_settings *set, solved *s)
{
    solve_case_at(cs, set, true, s);
}

static void release(solved *s)
{
    fold_solver_free(s->sv);
    fold_acopf_free(s->m);
    free(s->x);
    free(s->lam);
    free(s->zl);
    free(s->zu);
    free(s->p);
}

/* A reference solver on s's model at tol 1e-11, the fixed thresholds (no re-solves of its
 * own): the re-solves of the differences start warm from s's solution. */
static fold_solver *reference(const solved *s)
{
    fold_settings set;
    fold_solver *ref = NULL;
    fold_settings_default(&set);
    set.forward.tol = 1e-11;
    set.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE;
    ck_assert_status(fold_solver_create(fold_acopf_problem(s->m), &set, &ref), FOLD_OK);
    return ref;
}

/* Re-solve at s's parameters with p[k] += h, warm from s's solution; the solution into x
 * (may be NULL) and the objective; the status of the solve. */
static fold_status resolve(fold_solver *ref, const solved *s, fold_int k, double h, double *x,
                           double *obj)
{
    double *p = malloc((size_t)s->L.np * 8);
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    memcpy(p, s->p, (size_t)s->L.np * 8);
    p[k] += h;
    ck_assert_status(fold_solver_set_start(ref, s->x, s->lam, s->zl, s->zu), FOLD_OK);
    fold_status st = fold_solve(ref, p, &fi);
    if (st >= 0) fold_solver_solution(ref, x, NULL, NULL, NULL, obj);
    free(p);
    return st;
}

/* The grid with bus id 2 put 1e-5 p.u. below its voltage limit (its solution's vm plus 1e-5),
 * solved first with the default settings *set. */
static fold_acopf_case *near_bound_grid(fold_settings *set)
{
    fold_acopf_case *cs = grid30();
    fold_settings_default(set);
    solved s0;
    solve_case(cs, set, &s0);
    cs->bus[1].vmax = s0.x[s0.L.x_vm + 1] + 1e-5;
    release(&s0);
    return cs;
}

/* Bus id 2 of the grid 1e-5 p.u. below its voltage limit: at tol 1e-8 Ipopt leaves a barrier
 * multiplier of 1.7e-2 there, which the fixed thresholds held active (d vm / d pd off by up
 * to 140x, as on case2000_goc). */
START_TEST(near_bound_voltage)
{
    fold_settings set;
    fold_acopf_case *cs = near_bound_grid(&set);
    solved s;
    solve_case(cs, &set, &s);
    const fold_int bus[4] = {1, 2, 8, 19}, col_bus = 4, nr = 4;
    fold_int rows[4], col = s.L.p_pd + col_bus;
    double J[4], fd[4], h = 0.05, scale = 0;
    for (int r = 0; r < nr; r++)
        rows[r] = s.L.x_vm + bus[r];
    /* central differences of warm re-solves at tol 1e-11 */
    fold_solver *ref = reference(&s);
    double *xp = malloc((size_t)s.L.n * 8), *xm = malloc((size_t)s.L.n * 8);
    ck_assert_status(resolve(ref, &s, col, h, xp, NULL), FOLD_OK);
    ck_assert_status(resolve(ref, &s, col, -h, xm, NULL), FOLD_OK);
    for (int r = 0; r < nr; r++) {
        fd[r] = (xp[rows[r]] - xm[rows[r]]) / (2 * h);
        scale = fmax(scale, fabs(fd[r]));
    }
    /* default: re-solved warm until decided, then exact */
    ck_assert_status(
        fold_jacobian(
            s.sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = nr, .rows = rows, .n_cols = 1, .cols = &col},
            J, NULL),
        FOLD_OK);
    for (int r = 0; r < nr; r++)
        ck_assert_msg(fabs(J[r] - fd[r]) <= 1e-4 * scale, "d vm(bus %ld) / d pd: %.10g vs FD %.10g",
                      cs->bus[bus[r]].id, J[r], fd[r]);
    /* the solve left the re-solves to the fold (forward.resolve_when = fold) */
    fold_forward_info fin = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solve_finish(s.sv, &fin), FOLD_OK);
    printf("# near-bound voltage: %d re-solves, d vm(2) / d pd(5) = %.6g (FD %.6g)\n", fin.resolves,
           J[0], fd[0]);
    ck_assert_int_eq(s.fi.resolves, 0);
    ck_assert_int_ge(fin.resolves, 1);
    /* the fixed thresholds at the same tolerance hold the bound active: wrong */
    solved old;
    set.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE;
    solve_case(cs, &set, &old);
    ck_assert_status(
        fold_jacobian(
            old.sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = nr, .rows = rows, .n_cols = 1, .cols = &col},
            J, NULL),
        FOLD_OK);
    double err = 0;
    for (int r = 0; r < nr; r++)
        err = fmax(err, fabs(J[r] - fd[r]) / scale);
    printf("# near-bound voltage: the fixed thresholds are off by %.3g of the column\n", err);
    ck_assert_double_gt(err, 1e-2);
    release(&old);
    /* flag (no re-solve): the bound is reported ambiguous by name, and every entry is exact
     * or uncertain with an interval that contains the differences */
    solved fl;
    set.active_set.ambiguity = FOLD_AMBIGUITY_FLAG;
    solve_case(cs, &set, &fl);
    ck_assert_int_eq(fl.fi.resolves, 0);
    ck_assert_int_ge(fl.fi.n_ambiguous, 1);
    ck_assert_status(
        fold_jacobian(
            fl.sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = nr, .rows = rows, .n_cols = 1, .cols = &col},
            J, NULL),
        FOLD_WARN_UNCERTAIN);
    ck_assert_error_mentions("bus 2 vm upper");
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(fl.sv, &items, &n_items), FOLD_OK);
    fold_int side = fold_test_trust_find(items, n_items, FOLD_TRUST_AMBIGUOUS, "bus 2 vm upper");
    ck_assert_int_ge(side, 0);
    /* the slack of the solution reported (vmax was set 1e-5 above vm of the first solve) */
    ck_assert_double_eq_tol(items[side].slack, cs->bus[1].vmax - fl.x[fl.L.x_vm + 1], 1e-15);
    ck_assert_double_le(items[side].slack, 2e-5);
    ck_assert_double_gt(items[side].multiplier, 1e-3);
    for (int r = 0; r < nr; r++) {
        if (!isnan(J[r])) {
            ck_assert_double_le(fabs(J[r] - fd[r]), 1e-4 * scale);
            continue;
        }
        fold_int it = -1;
        for (fold_int k = 0; k < n_items; k++)
            if (items[k].kind == FOLD_TRUST_UNCERTAIN && items[k].row == rows[r]) it = k;
        ck_assert_int_ge(it, 0);
        ck_assert_msg(items[it].lo - 1e-4 * scale <= fd[r] && fd[r] <= items[it].hi + 1e-4 * scale,
                      "%s: FD %.10g outside [%.10g, %.10g]", items[it].name, fd[r], items[it].lo,
                      items[it].hi);
    }
    release(&fl);
    free(xp);
    free(xm);
    fold_solver_free(ref);
    release(&s);
    fold_acopf_case_free(cs);
}
END_TEST

/* Append buses (zero load, Vm in [0.9, 1.1]) to cs; returns the index of the first. */
static fold_int add_buses(fold_acopf_case *cs, int count)
{
    fold_int first = cs->n_bus;
    cs->bus = realloc(cs->bus, (size_t)(cs->n_bus + count) * sizeof *cs->bus);
    ck_assert_ptr_nonnull(cs->bus);
    for (int k = 0; k < count; k++) {
        fold_acopf_bus b = {.id = 31 + k, .type = 1, .vm0 = 1, .vmin = 0.9, .vmax = 1.1};
        cs->bus[cs->n_bus++] = b;
    }
    return first;
}

/* A branch f-t with charging (unrated): the voltage of a leaf at its open end rises. */
static void add_branch(fold_acopf_case *cs, fold_int f, fold_int t)
{
    cs->branch = realloc(cs->branch, (size_t)(cs->n_branch + 1) * sizeof *cs->branch);
    ck_assert_ptr_nonnull(cs->branch);
    fold_acopf_branch br = {.f = f,
                            .t = t,
                            .row = cs->n_branch + 1,
                            .r = 0.01,
                            .x = 0.1,
                            .b = 0.3,
                            .tap = 1,
                            .angmin_deg = -30,
                            .angmax_deg = 30};
    cs->branch[cs->n_branch++] = br;
}

/* One-sided derivative of the objective along e_k by re-solves: Richardson's extrapolation
 * of (f(p + s h) - f(p)) / (s h) from h and h / 2 (s = +1 right, -1 left). */
static double one_sided(fold_solver *ref, const solved *s, fold_int k, double f0, double h, int sgn)
{
    double f1, f2;
    ck_assert_status(resolve(ref, s, k, sgn * h, NULL, &f1), FOLD_OK);
    ck_assert_status(resolve(ref, s, k, sgn * h / 2, NULL, &f2), FOLD_OK);
    double d1 = (f1 - f0) / (sgn * h), d2 = (f2 - f0) / (sgn * h / 2);
    return 2 * d2 - d1;
}

/* The tightening re-solves left to the first fold call (forward.resolve_when = fold, the
 * default) give the point, derivatives, trust report and counts of the re-solves run within
 * fold_solve (solve), bit for bit, even when the solver's settings change in between; a solve
 * that is not differentiated runs none. d vm / d pd at three loads (fold_jacobian). */
static void vm_jacobian(solved *s, double *J, fold_int *n_trust)
{
    fold_int rows[30], cols[3];
    for (fold_int r = 0; r < 30; r++)
        rows[r] = s->L.x_vm + r;
    for (fold_int c = 0; c < 3; c++)
        cols[c] = s->L.p_pd + 3 + c;
    fold_status st = fold_jacobian(
        s->sv,
        &(fold_jacobian_sel){
            .of = FOLD_BLOCK_X, .n_rows = 30, .rows = rows, .n_cols = 3, .cols = cols},
        J, NULL);
    ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
    const fold_trust_item *items;
    ck_assert_status(fold_trust_report(s->sv, &items, n_trust), FOLD_OK);
}

/* The re-solve lines of a solve and whether it was restarted (the sink of the tests below). */
typedef struct resolve_log {
    int n;
    char line[8][512];
    bool restarted;
} resolve_log;

static void keep_resolve_lines(int level, const char *line, void *data)
{
    resolve_log *r = data;
    (void)level;
    if (strstr(line, "restarted with mu_strategy adaptive")) r->restarted = true;
    if (r->n < 8 && strstr(line, "fold_solve: re-solve at tol "))
        snprintf(r->line[r->n++], sizeof r->line[0], "%s", line);
}

/* A first point already below its tol in complementarity (the adaptive barrier strategy of a
 * restarted solve ends so: case14 with forward.stall_iter = 2 ends at 2.3e-10 for tol 1e-8) is
 * tightened from the level it reached (doc/math.md §3.2 "Resolution"): its first re-solve aims
 * 100 times below that level and gives verdicts. At tol / 100 = 1e-10 the re-solve would end
 * where it started, with a pair of points at one level and no verdict. */
START_TEST(deep_first_point_resolved)
{
    acopf_solved s;
    fold_settings set;
    resolve_log log = {0};
    fold_settings_default(&set);
    set.forward.stall_iter = 2;
    set.forward.resolve_when = FOLD_RESOLVE_AT_SOLVE;
    set.log.verbose = 2;
    set.log.sink = keep_resolve_lines;
    set.log.sink_data = &log;
    acopf_test_load(&s, "pglib_opf_case14_ieee", 0, 0);
    acopf_test_solve(&s, NULL, &set);
    ck_assert(log.restarted);
    ck_assert_int_ge(log.n, 1);
    double tol, from, to;
    long decided, undecided;
    printf("# %s\n", log.line[0]);
    ck_assert_int_eq(sscanf(log.line[0],
                            "fold_solve: re-solve at tol %lf: %*[^,], complementarity level %lf -> "
                            "%lf, %ld of %ld",
                            &tol, &from, &to, &decided, &undecided),
                     5);
    ck_assert_double_lt(from, set.forward.tol);                       /* deeper than its tol */
    ck_assert_double_le(fabs(tol - from / 100) / (from / 100), 0.06); /* %.1e of from / 100 */
    ck_assert_double_lt(to, from / 4);                                /* R >= 4: verdicts */
    ck_assert_int_gt(undecided, 0);
    ck_assert_int_eq(decided, undecided);
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solve_finish(s.sv, &fi), FOLD_OK);
    ck_assert_int_eq(fi.n_ambiguous, 0);
    acopf_test_solved_free(&s);
}
END_TEST

/* A re-solve at the floor of its residuals ends after forward.resolve_max_iter iterations
 * (doc/math.md §3.2). On case118 the last round cannot reach its tol: Ipopt alone ends it
 * after its 15 consecutive acceptable iterations (resolve_max_iter = 0), the default at its
 * first acceptable iterate after 12 (iteration 13 here), with Ipopt's own MUMPS ordering and
 * pivot tolerance (forward.ordering auto, forward.pivtol 1e-6). The other rounds, the kept point,
 * the verdicts (undecided sides, derivatives, trust report) are the same; only the iterations
 * differ, by what was cut. */
START_TEST(resolve_floor_ends_early)
{
    const int cap[2] = {0, 12};
    acopf_solved s[2];
    resolve_log log[2] = {{0}, {0}};
    fold_forward_info fi[2] = {FOLD_FORWARD_INFO_INIT, FOLD_FORWARD_INFO_INIT};
    double *x[2], *pbar[2];
    fold_int n_trust[2];
    for (int k = 0; k < 2; k++) {
        fold_settings set;
        fold_settings_default(&set);
        ck_assert_int_eq(set.forward.resolve_max_iter, 12); /* the documented default */
        set.forward.resolve_max_iter = cap[k];
        set.forward.resolve_when = FOLD_RESOLVE_AT_SOLVE;
        /* Ipopt's own MUMPS settings: with the defaults' (qamd, pivtol 1e-4) the last round
         * reaches its tol after 5 iterations and nothing is cut */
        set.forward.ordering = FOLD_FWD_ORDER_AUTO;
        set.forward.pivtol = 1e-6;
        set.log.verbose = 2;
        set.log.sink = keep_resolve_lines;
        set.log.sink_data = &log[k];
        acopf_test_load(&s[k], "pglib_opf_case118_ieee", 0, 0);
        acopf_test_solve(&s[k], NULL, &set);
        ck_assert_status(fold_solve_finish(s[k].sv, &fi[k]), FOLD_OK);
        fold_acopf_layout L = fold_acopf_get_layout(s[k].m);
        x[k] = malloc((size_t)L.n * sizeof(double));
        pbar[k] = malloc((size_t)L.np * sizeof(double));
        double *ones = malloc((size_t)L.n * sizeof(double));
        ck_assert(x[k] && pbar[k] && ones);
        for (fold_int j = 0; j < L.n; j++)
            ones[j] = 1.0;
        ck_assert_status(fold_solver_solution(s[k].sv, x[k], NULL, NULL, NULL, NULL), FOLD_OK);
        fold_status st = fold_vjp(s[k].sv, &(fold_zbar){.x = ones}, pbar[k], NULL);
        ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
        const fold_trust_item *items;
        ck_assert_status(fold_trust_report(s[k].sv, &items, &n_trust[k]), FOLD_OK);
        free(ones);
    }
    ck_assert_int_eq(log[0].n, log[1].n);
    long cut = 0;
    int floored = 0;
    for (int i = 0; i < log[0].n; i++) {
        double tol[2];
        char how[2][32];
        long it[2];
        for (int k = 0; k < 2; k++) {
            printf("# resolve_max_iter %d: %s\n", cap[k], log[k].line[i]);
            ck_assert_int_eq(sscanf(log[k].line[i],
                                    "fold_solve: re-solve at tol %lf: %31s after %ld", &tol[k],
                                    how[k], &it[k]),
                             3);
        }
        ck_assert_double_eq(tol[0], tol[1]);
        if (it[0] <= cap[1]) { /* within the cap: untouched */
            ck_assert_str_eq(how[0], how[1]);
            ck_assert_int_eq(it[0], it[1]);
            continue;
        }
        /* Ipopt went on past the cap without reaching tol: ended at the next iteration */
        ck_assert_str_eq(how[0], "acceptable");
        ck_assert_str_eq(how[1], "acceptable");
        ck_assert_int_gt(it[1], cap[1]); /* at its first acceptable iterate after the cap */
        ck_assert_int_lt(it[1], it[0]);
        cut += it[0] - it[1];
        floored++;
    }
    ck_assert_int_ge(floored, 1); /* the case shows what it tests */
    ck_assert_int_eq(fi[1].iterations, fi[0].iterations - cut);
    ck_assert_int_eq(fi[1].resolves, fi[0].resolves);
    ck_assert_int_eq(fi[1].n_ambiguous, fi[0].n_ambiguous);
    fold_acopf_layout L = fold_acopf_get_layout(s[0].m);
    ck_assert(memcmp(x[0], x[1], (size_t)L.n * sizeof(double)) == 0);
    ck_assert(memcmp(pbar[0], pbar[1], (size_t)L.np * sizeof(double)) == 0);
    ck_assert_int_eq(n_trust[0], n_trust[1]);
    for (int k = 0; k < 2; k++) {
        free(x[k]);
        free(pbar[k]);
        acopf_test_solved_free(&s[k]);
    }
}
END_TEST

START_TEST(resolves_at_first_fold)
{
    fold_settings set;
    fold_acopf_case *cs = near_bound_grid(&set);
    solved e, l;
    double Je[90], Jl[90];
    fold_int te, tl;
    set.forward.resolve_when = FOLD_RESOLVE_AT_SOLVE;
    solve_case(cs, &set, &e);
    ck_assert_int_ge(e.fi.resolves, 1);
    vm_jacobian(&e, Je, &te);
    set.forward.resolve_when = FOLD_RESOLVE_AT_FOLD;
    solve_case_at(cs, &set, false, &l);
    ck_assert_int_eq(l.fi.resolves, 0);
    ck_assert_int_lt(l.fi.iterations, e.fi.iterations);
    ck_assert_int_ge(l.fi.n_ambiguous, 1); /* counted at the first point, not yet decided */
    /* the first point: the solution to forward.tol, not the tightened one */
    ck_assert(memcmp(l.x, e.x, (size_t)l.L.n * sizeof *l.x) != 0);
    double gap = 0;
    for (fold_int j = 0; j < l.L.n; j++)
        gap = fmax(gap, fabs(l.x[j] - e.x[j]) / (1 + fabs(e.x[j])));
    printf("# first point vs tightened: objective %.3g relative, x %.3g\n",
           fabs(l.fi.objective - e.fi.objective) / fabs(e.fi.objective), gap);
    ck_assert_double_le(fabs(l.fi.objective - e.fi.objective), 1e-7 * fabs(e.fi.objective));
    ck_assert_double_le(gap, 1e-4);
    /* settings changed before the fold: the re-solves still run as the solve would have */
    fold_settings other = set;
    other.forward.tol = 1e-4;
    other.forward.resolve_rounds = 0;
    ck_assert_status(fold_solver_update_settings(l.sv, &other), FOLD_OK);
    vm_jacobian(&l, Jl, &tl);
    ck_assert(memcmp(Je, Jl, sizeof Je) == 0);
    ck_assert_int_eq(te, tl);
    ck_assert_double_eq(fold_solver_settings(l.sv)->forward.tol, 1e-4); /* the caller's */
    fold_forward_info fe = FOLD_FORWARD_INFO_INIT, fl = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solve_finish(e.sv, &fe), FOLD_OK); /* nothing pending */
    ck_assert_status(fold_solve_finish(l.sv, &fl), FOLD_OK);
    ck_assert_int_eq(fe.resolves, e.fi.resolves);
    ck_assert_int_eq(fe.iterations, e.fi.iterations);
    ck_assert_int_eq(fl.resolves, fe.resolves);
    ck_assert_int_eq(fl.iterations, fe.iterations);
    ck_assert_int_eq(fl.n_ambiguous, fe.n_ambiguous);
    ck_assert(fl.objective == fe.objective && fl.tol_reached == fe.tol_reached);
    double *x = malloc((size_t)l.L.n * sizeof *x);
    fold_solver_solution(l.sv, x, NULL, NULL, NULL, NULL);
    ck_assert(memcmp(x, e.x, (size_t)l.L.n * sizeof *x) == 0);
    free(x);
    release(&l);
    /* the ACOPF layer linearizes its outputs at the tightened point too (fold_acopf_vjp) */
    solve_case_at(cs, &set, false, &l);
    const fold_acopf_output out[2] = {{FOLD_ACOPF_OUT_VM, 1}, {FOLD_ACOPF_OUT_LAM_P, 4}};
    const double w[2] = {1.0, -0.5};
    double *pe = malloc((size_t)e.L.np * sizeof *pe), *pl = malloc((size_t)l.L.np * sizeof *pl);
    fold_status se = fold_acopf_vjp(e.m, e.sv, 2, out, w, pe, NULL);
    fold_status sl = fold_acopf_vjp(l.m, l.sv, 2, out, w, pl, NULL);
    ck_assert_msg(se >= 0 && sl == se, "%s / %s: %s", fold_status_name(se), fold_status_name(sl),
                  fold_last_error());
    ck_assert(memcmp(pe, pl, (size_t)e.L.np * sizeof *pe) == 0);
    free(pe);
    free(pl);
    release(&l);
    release(&e);
    fold_acopf_case_free(cs);
}
END_TEST

/* Two zero-load leaf buses (ids 31, 32) on identical branches from bus 2, both at Vmax: their
 * voltage limits say the same thing about bus 2's voltage, so the active constraints are
 * dependent and the multipliers not unique. The LMPs at the leaves have a kink: value mode
 * and the vjp of the objective give NaN with left and right derivatives, which match
 * one-sided differences of re-solves; the LMP elsewhere is unique. */
START_TEST(leaf_buses_at_vmax)
{
    fold_acopf_case *cs = grid30();
    fold_int leaf = add_buses(cs, 2);
    add_branch(cs, 1, leaf);
    add_branch(cs, 1, leaf + 1);
    fold_settings set;
    fold_settings_default(&set);
    solved s;
    solve_case(cs, &set, &s);
    ck_assert_double_le(fabs(s.x[s.L.x_vm + leaf] - 1.1), 1e-7);
    ck_assert_double_le(fabs(s.x[s.L.x_vm + leaf + 1] - 1.1), 1e-7);
    fold_int np = s.L.np;
    double *left = malloc((size_t)np * 8), *right = malloc((size_t)np * 8);
    double *grad = malloc((size_t)np * 8), *pbar = malloc((size_t)np * 8);
    double *xbar = malloc((size_t)s.L.n * 8), *gp = malloc((size_t)np * 8);
    ck_assert_status(fold_value_onesided(s.sv, left, right), FOLD_WARN_NOT_UNIQUE);
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(s.sv, &items, &n_items), FOLD_OK);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_KINK, "pd bus 31"), 0);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_KINK, "pd bus 32"), 0);
    ck_assert_status(fold_value_gradient(s.sv, grad), FOLD_WARN_NOT_UNIQUE);
    fold_acopf_eval_grad_f(s.m, s.x, s.p, xbar);
    fold_acopf_eval_grad_f_p(s.m, s.x, s.p, gp);
    fold_status sv = fold_vjp(s.sv, &(fold_zbar){.x = xbar}, pbar, NULL);
    ck_assert_msg(sv >= 0, "%s: %s", fold_status_name(sv), fold_last_error());
    fold_solver *ref = reference(&s);
    double f0;
    ck_assert_status(resolve(ref, &s, 0, 0.0, NULL, &f0), FOLD_OK);
    for (int b = 0; b < 2; b++) {
        fold_int k = s.L.p_pd + leaf + b;
        double r = one_sided(ref, &s, k, f0, 0.02, 1), l = one_sided(ref, &s, k, f0, 0.02, -1);
        printf("# leaf bus %d: one-sided LMPs [%.8g, %.8g], re-solves [%.8g, %.8g]\n", 31 + b,
               left[k], right[k], l, r);
        ck_assert_double_gt(right[k] - left[k], 1e-3); /* a kink, not rounding */
        ck_assert_double_le(fabs(right[k] - r), 1e-5 * fabs(r));
        ck_assert_double_le(fabs(left[k] - l), 1e-5 * fabs(l));
        ck_assert(isnan(grad[k]));
        /* value mode and vjp mode agree that the derivative is not unique */
        ck_assert(isnan(pbar[k]));
    }
    /* the leaves' voltage limits move with vmax (moving bounds, doc/math.md eq. 3.30): their
     * one-sided derivatives hold the bound terms of the multipliers the kink leaves free */
    for (int b = 0; b < 2; b++) {
        fold_int k = s.L.p_vmax + leaf + b;
        double r = one_sided(ref, &s, k, f0, 2e-4, 1), l = one_sided(ref, &s, k, f0, 2e-4, -1);
        printf("# leaf bus %d: one-sided d f / d vmax [%.8g, %.8g], re-solves [%.8g, %.8g]\n",
               31 + b, left[k], right[k], l, r);
        ck_assert_double_gt(fabs(right[k] - left[k]), 1e-3 * fmax(fabs(l), fabs(r)));
        ck_assert_double_le(fabs(right[k] - r), 1e-4 * fmax(fabs(l), fabs(r)));
        ck_assert_double_le(fabs(left[k] - l), 1e-4 * fmax(fabs(l), fabs(r)));
        ck_assert(isnan(grad[k]));
    }
    /* a bus away from the leaves: one LMP, equal to central differences and the vjp */
    fold_int k = s.L.p_pd + 4;
    double fp, fm;
    ck_assert_status(resolve(ref, &s, k, 0.05, NULL, &fp), FOLD_OK);
    ck_assert_status(resolve(ref, &s, k, -0.05, NULL, &fm), FOLD_OK);
    ck_assert_double_eq(left[k], right[k]);
    ck_assert_double_le(fabs(grad[k] - (fp - fm) / 0.1), 1e-5 * fabs(grad[k]));
    ck_assert_double_le(fabs(pbar[k] + gp[k] - grad[k]), 1e-6 * fabs(grad[k]));
    fold_solver_free(ref);
    free(left);
    free(right);
    free(grad);
    free(pbar);
    free(xbar);
    free(gp);
    release(&s);
    fold_acopf_case_free(cs);
}
END_TEST

/* A bus without branches or load (id 31): any load there makes the problem infeasible, so
 * both one-sided derivatives of the optimal value are infinite; its multipliers are free
 * (the vjp says not unique). */
START_TEST(isolated_bus)
{
    fold_acopf_case *cs = grid30();
    fold_int iso = add_buses(cs, 1);
    fold_settings set;
    fold_settings_default(&set);
    solved s;
    solve_case(cs, &set, &s);
    fold_int np = s.L.np, k = s.L.p_pd + iso;
    double *left = malloc((size_t)np * 8), *right = malloc((size_t)np * 8);
    double *pbar = malloc((size_t)np * 8), *xbar = malloc((size_t)s.L.n * 8);
    ck_assert_status(fold_value_onesided(s.sv, left, right), FOLD_WARN_NOT_UNIQUE);
    ck_assert(isinf(left[k]) && left[k] < 0);
    ck_assert(isinf(right[k]) && right[k] > 0);
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(s.sv, &items, &n_items), FOLD_OK);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_KINK, "pd bus 31"), 0);
    fold_acopf_eval_grad_f(s.m, s.x, s.p, xbar);
    ck_assert_status(fold_vjp(s.sv, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_WARN_NOT_UNIQUE);
    ck_assert(isnan(pbar[k]));
    ck_assert_status(fold_trust_report(s.sv, &items, &n_items), FOLD_OK);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_NOT_UNIQUE, "pd bus 31"), 0);
    fold_solver *ref = reference(&s);
    for (int sgn = -1; sgn <= 1; sgn += 2) {
        fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
        ck_assert_status(resolve(ref, &s, k, sgn * 0.01, NULL, NULL), FOLD_ERR_FORWARD_FAILED);
        fold_solver_params(ref, pbar); /* the failed solve's parameters */
        (void)fi;
    }
    fold_solver_free(ref);
    free(left);
    free(right);
    free(pbar);
    free(xbar);
    release(&s);
    fold_acopf_case_free(cs);
}
END_TEST

/* The first generator whose active (reactive) output at s lies 1 MW (MVAr) within its
 * limits, or the last one. */
static fold_int first_inside(const fold_acopf_case *cs, const solved *s, bool reactive)
{
    fold_int g = 0;
    for (; g < cs->n_gen - 1; g++) {
        const fold_acopf_gen *a = &cs->gen[g];
        double v = s->x[(reactive ? s->L.x_qg : s->L.x_pg) + g] * cs->base_mva;
        if (v > (reactive ? a->qmin : a->pmin) + 1 && v < (reactive ? a->qmax : a->pmax) - 1) break;
    }
    return g;
}

/* Generator row 1 duplicated (same bus, same limits) with a linear cost on both: their total
 * output is determined, the split is not. LMPs are unique and match the re-solves; d pg / d
 * pd of the twins is not unique (named); the optimal value has a kink in each twin's c1,
 * whose one-sided derivatives are the least and the largest output the twin can take. */
START_TEST(twin_generators)
{
    fold_acopf_case *cs = grid30();
    fold_settings set;
    fold_settings_default(&set);
    solved s;
    /* linear at the generator's marginal cost at the optimum (c1 + 2 c2 pg): two of them
     * then share its output, split anyhow */
    solve_case(cs, &set, &s);
    /* the first generator strictly within its limits goes first (it is the one twinned) */
    fold_int g0 = first_inside(cs, &s, false);
    double pg0 = s.x[s.L.x_pg + g0] * cs->base_mva;
    release(&s);
    fold_acopf_gen first = cs->gen[0];
    long row0 = first.row;
    cs->gen[0] = cs->gen[g0];
    cs->gen[g0] = first;
    cs->gen[g0].row = cs->gen[0].row;
    cs->gen[0].row = row0;
    double *cost = cs->cost + cs->gen[0].cost_off;
    cost[1] += 2 * cost[2] * pg0;
    cost[2] = 0;
    cs->gen = realloc(cs->gen, (size_t)(cs->n_gen + 1) * sizeof *cs->gen);
    cs->cost = realloc(cs->cost, (size_t)(3 * cs->n_gen + 3) * sizeof *cs->cost);
    ck_assert(cs->gen && cs->cost);
    fold_acopf_gen twin = cs->gen[0];
    twin.row = cs->n_gen + 1;
    twin.cost_off = 3 * cs->n_gen;
    memcpy(cs->cost + twin.cost_off, cs->cost + cs->gen[0].cost_off, 3 * sizeof(double));
    cs->gen[cs->n_gen++] = twin;
    solve_case(cs, &set, &s);
    fold_int np = s.L.np, ng = cs->n_gen;
    double *left = malloc((size_t)np * 8), *right = malloc((size_t)np * 8);
    ck_assert_status(fold_value_onesided(s.sv, left, right), FOLD_WARN_NOT_UNIQUE);
    fold_solver *ref = reference(&s);
    double f0;
    ck_assert_status(resolve(ref, &s, 0, 0.0, NULL, &f0), FOLD_OK);
    for (int b = 0; b < cs->n_bus; b++) /* LMPs unique */
        ck_assert_double_eq(left[s.L.p_pd + b], right[s.L.p_pd + b]);
    fold_int k = s.L.p_pd + 4;
    double fp, fm;
    ck_assert_status(resolve(ref, &s, k, 0.05, NULL, &fp), FOLD_OK);
    ck_assert_status(resolve(ref, &s, k, -0.05, NULL, &fm), FOLD_OK);
    ck_assert_double_le(fabs(left[k] - (fp - fm) / 0.1), 1e-5 * fabs(left[k]));
    /* c1 of each twin: right = its least output (a dearer twin gives way), left = its most */
    double total = s.x[s.L.x_pg] + s.x[s.L.x_pg + ng - 1];
    for (int t = 0; t < 2; t++) {
        fold_int g = t ? ng - 1 : 0, c = s.L.p_c1 + g;
        double most = fmin(cs->gen[g].pmax, total * cs->base_mva - cs->gen[g].pmin);
        double least = fmax(cs->gen[g].pmin, total * cs->base_mva - cs->gen[g].pmax);
        double fr, fl;
        ck_assert_status(resolve(ref, &s, c, 0.01, NULL, &fr), FOLD_OK);
        ck_assert_status(resolve(ref, &s, c, -0.01, NULL, &fl), FOLD_OK);
        printf("# twin %d: d f / d c1 left %.8g right %.8g, re-solves %.8g %.8g\n", t, left[c],
               right[c], (f0 - fl) / 0.01, (fr - f0) / 0.01);
        ck_assert_double_le(fabs(right[c] - least), 1e-6 * most);
        ck_assert_double_le(fabs(left[c] - most), 1e-6 * most);
        ck_assert_double_le(fabs((fr - f0) / 0.01 - right[c]), 1e-4 * most);
        ck_assert_double_le(fabs((f0 - fl) / 0.01 - left[c]), 1e-4 * most);
    }
    /* d pg / d pd: the twins' rows are not unique, named; the others finite */
    fold_int rows[3] = {s.L.x_pg, s.L.x_pg + 1, s.L.x_pg + ng - 1}, col = k;
    double J[3];
    ck_assert_status(
        fold_jacobian(s.sv,
                      &(fold_jacobian_sel){
                          .of = FOLD_BLOCK_X, .n_rows = 3, .rows = rows, .n_cols = 1, .cols = &col},
                      J, NULL),
        FOLD_WARN_NOT_UNIQUE);
    ck_assert(isnan(J[0]) && isnan(J[2]) && isfinite(J[1]));
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(s.sv, &items, &n_items), FOLD_OK);
    char name[64];
    snprintf(name, sizeof name, "d gen %ld (bus %ld) pg", (long)ng, cs->bus[cs->gen[0].bus].id);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_NOT_UNIQUE, name), 0);
    fold_solver_free(ref);
    free(left);
    free(right);
    release(&s);
    fold_acopf_case_free(cs);
}
END_TEST

/* The kinds of the variables (doc/math.md §3.2): the JVP over all of z (what foldopt opf
 * --mode jvp computes) and the Jacobians of the rows of each kind of x (va, vm, pg, qg, cost
 * epigraphs, flow variables: --of vm --mode jacobian) judge every entry of x against the
 * largest entry of its kind, so they flag the same entries (the near-bound voltage of
 * near_bound_voltage without re-solves, d / d qd at bus 21), and a Jacobian of all the rows
 * of x too. Some of them differ by less than the tolerance times the largest entry of the
 * JVP's whole result: judged against it, as without kinds, they were returned unflagged. */
START_TEST(kinds_flag_alike)
{
    fold_settings set;
    fold_acopf_case *cs = near_bound_grid(&set);
    set.active_set.ambiguity = FOLD_AMBIGUITY_FLAG;
    solved s;
    solve_case(cs, &set, &s);
    const fold_acopf_layout *L = &s.L;
    size_t n = (size_t)L->n, m = (size_t)L->m;
    fold_int col = L->p_qd + 20, flagged = 0, vm_flagged = 0, hidden = 0;
    double *dp = calloc((size_t)L->np, 8), *dz = malloc((3 * n + m) * 8), *J = malloc(n * 8);
    fold_int *rows = malloc(n * sizeof *rows);
    dp[col] = 1;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st = fold_jvp(
        s.sv, dp, &(fold_dz){.x = dz, .zl = dz + n, .zu = dz + 2 * n, .lam = dz + 3 * n}, &info);
    ck_assert_status(st, FOLD_WARN_UNCERTAIN);
    const fold_trust_item *items;
    fold_int n_items;
    double whole = 0; /* the largest entry of the JVP's result, flagged entries included */
    ck_assert_status(fold_trust_report(s.sv, &items, &n_items), FOLD_OK);
    for (size_t k = 0; k < 3 * n + m; k++)
        if (!isnan(dz[k])) whole = fmax(whole, fabs(dz[k]));
    for (fold_int k = 0; k < n_items; k++)
        if (items[k].kind == FOLD_TRUST_UNCERTAIN) whole = fmax(whole, fabs(items[k].value));
    /* the kinds in the order of x (doc/acopf.md §2) */
    const fold_int start[7] = {L->x_va, L->x_vm, L->x_pg, L->x_qg, L->x_t, L->x_fl, L->n};
    for (int k = 0; k < 6; k++) {
        fold_int nr = start[k + 1] - start[k];
        if (nr == 0) continue;
        for (fold_int r = 0; r < nr; r++)
            rows[r] = start[k] + r;
        st = fold_jacobian(s.sv, &(fold_jacobian_sel){FOLD_BLOCK_X, nr, rows, 1, &col}, J, &info);
        ck_assert(st == FOLD_OK || st == FOLD_WARN_UNCERTAIN);
        ck_assert_status(fold_trust_report(s.sv, &items, &n_items), FOLD_OK);
        for (fold_int q = 0; q < n_items; q++)
            hidden += items[q].kind == FOLD_TRUST_UNCERTAIN &&
                      items[q].hi - items[q].lo < s.fi.tol_reached * whole;
        for (fold_int r = 0; r < nr; r++) {
            double a = dz[rows[r]];
            ck_assert_msg(isnan(J[r]) == isnan(a), "x[%lld] (kind %d): jacobian %g, jvp %g",
                          (long long)rows[r], k, J[r], a);
            if (!isnan(a)) ck_assert_double_le(fabs(J[r] - a), 1e-9 * fabs(a) + 1e-15);
            flagged += isnan(a);
            vm_flagged += isnan(a) && k == 1;
        }
    }
    ck_assert_int_ge(vm_flagged, 1);
    ck_assert_int_ge(hidden, 1);
    ck_assert_status(
        fold_jacobian(s.sv, &(fold_jacobian_sel){FOLD_BLOCK_X, L->n, NULL, 1, &col}, J, &info),
        FOLD_WARN_UNCERTAIN);
    ck_assert_int_eq(info.n_uncertain, flagged);
    for (fold_int j = 0; j < L->n; j++)
        ck_assert_msg(isnan(J[j]) == isnan(dz[j]), "x[%lld]: jacobian %g, jvp %g", (long long)j,
                      J[j], dz[j]);
    printf("# kinds: %lld entries of x uncertain (%lld of vm), alike in the jvp and the "
           "jacobians; %lld of them below tol %g times the jvp's largest entry %g\n",
           (long long)flagged, (long long)vm_flagged, (long long)hidden, s.fi.tol_reached, whole);
    free(dp);
    free(dz);
    free(J);
    free(rows);
    release(&s);
    fold_acopf_case_free(cs);
}
END_TEST

/* Derivatives with respect to parameters of different kinds (units) are never compared
 * (fold_nlp_def.p_kind, doc/math.md §3.2 "Groups"): on case14 d qg(gen 3) / d c2(gen 1) is
 * uncertain (its central path spans [1.41e-8, 1.60e-8] MVAr per $/MW^2h, tests/acopf/
 * test_acopf_sens.c tightened_point_unrelaxed), and stays flagged when the columns of vmax
 * (up to 474 MVAr per p.u.) are asked beside it. */
START_TEST(parameter_kinds_kept_apart)
{
    acopf_solved s;
    acopf_test_load(&s, "pglib_opf_case14_ieee", 0, 0);
    acopf_test_solve(&s, NULL, NULL);
    fold_int ng = s.cs->n_gen, nb = s.cs->n_bus, cols[64], n_cols = 0;
    fold_acopf_output out[16];
    for (fold_int g = 0; g < ng; g++) {
        out[g] = (fold_acopf_output){FOLD_ACOPF_OUT_QG, g};
        cols[n_cols++] = fold_acopf_param_index(s.m, FOLD_ACOPF_P_C2, g);
    }
    for (fold_int b = 0; b < nb; b++)
        cols[n_cols++] = fold_acopf_param_index(s.m, FOLD_ACOPF_P_VMAX, b);
    double *alone = malloc((size_t)(ng * ng) * 8), *beside = malloc((size_t)(ng * n_cols) * 8);
    fold_status st = fold_acopf_jacobian(s.m, s.sv, ng, out, ng, cols, alone, NULL, NULL, NULL);
    ck_assert_msg(st == FOLD_WARN_UNCERTAIN, "%s: %s", fold_status_name(st), fold_last_error());
    ck_assert(isnan(alone[2])); /* row gen 3, column c2 gen 1 */
    st = fold_acopf_jacobian(s.m, s.sv, ng, out, n_cols, cols, beside, NULL, NULL, NULL);
    ck_assert_msg(st == FOLD_WARN_UNCERTAIN, "%s: %s", fold_status_name(st), fold_last_error());
    double largest = 0.0; /* of the vmax columns */
    for (fold_int k = ng * ng; k < ng * n_cols; k++)
        if (isfinite(beside[k])) largest = fmax(largest, fabs(beside[k]));
    for (fold_int k = 0; k < ng * ng; k++) /* the c2 columns as when asked alone */
        ck_assert_msg(isnan(alone[k]) ? isnan(beside[k]) : alone[k] == beside[k],
                      "entry %lld: %g alone, %g beside vmax", (long long)k, alone[k], beside[k]);
    printf("# case14 d qg gen 3 / d c2 gen 1: uncertain alone and beside vmax columns "
           "(largest entry %.3g)\n",
           largest);
    ck_assert_double_gt(1e-8 * largest, 1.6e-8); /* tol times it: the zero that hid it */
    free(alone);
    free(beside);
    acopf_test_solved_free(&s);
}
END_TEST

/* The log of border_matches_refactor: comparison runs solved over the primary
 * factorization, and the null spaces of the KKT systems in the order they were set up. */
typedef struct border_log {
    int n_border;
    int n_border_dependent; /* of them, with dependent rows (the primary's, pinned) */
    int n_new_dependent;    /* runs factored for dependent rows the primary has not */
    char nulls[1024];
} border_log;

static void count_border(int level, const char *line, void *data)
{
    border_log *b = data;
    (void)level;
    if (strstr(line, "over the primary factorization") && !strstr(line, "factored instead")) {
        b->n_border++;
        b->n_border_dependent += !strstr(line, " 0 dependent rows");
    }
    b->n_new_dependent += strstr(line, "dependent rows the primary has not") != NULL;
    const char *at = strstr(line, "null direction on");
    size_t len = strlen(b->nulls);
    if (at && len + strlen(at) + 2 < sizeof b->nulls)
        snprintf(b->nulls + len, sizeof b->nulls - len, "%s|", at);
}

/* Generator g split in two halves at its bus (limits halved, costs c0 / 2, c1, 2 c2 each):
 * the same optimum, and two reactive powers whose columns of K are copies (eq. 4.12c). */
static void split_generator(fold_acopf_case *cs, fold_int g)
{
    cs->gen = realloc(cs->gen, (size_t)(cs->n_gen + 1) * sizeof *cs->gen);
    cs->cost = realloc(cs->cost, (size_t)(3 * cs->n_gen + 3) * sizeof *cs->cost);
    ck_assert(cs->gen && cs->cost && !cs->gen[g].pwl && cs->gen[g].n_cost == 3);
    fold_acopf_gen *a = &cs->gen[g];
    double *c = cs->cost + a->cost_off;
    c[0] /= 2;
    c[2] *= 2;
    a->pmin /= 2;
    a->pmax /= 2;
    a->qmin /= 2;
    a->qmax /= 2;
    a->pg0 /= 2;
    a->qg0 /= 2;
    fold_acopf_gen half = *a;
    half.row = cs->n_gen + 1;
    half.cost_off = 3 * cs->n_gen;
    memcpy(cs->cost + half.cost_off, c, 3 * sizeof(double));
    cs->gen[cs->n_gen++] = half;
}

/* The multiplier of branch l's thermal limit at its from end in s (the model's row of it,
 * fold_acopf_rated_branch). */
static double thermal_multiplier(const solved *s, fold_int l)
{
    for (fold_int k = 0; k < s->L.n_rated; k++)
        if (fold_acopf_rated_branch(s->m, k) == l) return s->lam[s->L.g_sf + k];
    ck_abort_msg("branch %lld has no thermal limit", (long long)l);
    return 0.0;
}

/* The near-bound grid with the first rated branch replaced by two identical branches in
 * parallel (each of twice its impedance and half its charging and rating, the same network),
 * both at their flow limit: two identical thermal-limit rows, dependent active
 * constraints (eq. 4.12) whose multiplier columns of K are copies. */
static fold_acopf_case *parallel_pair_grid(fold_settings *set)
{
    fold_acopf_case *cs = grid30();
    fold_settings_default(set);
    solved s0;
    solve_case(cs, set, &s0);
    ck_assert_int_gt(s0.L.n_rated, 0);
    fold_int l = fold_acopf_rated_branch(s0.m, 0);
    release(&s0);
    fold_acopf_branch *a = &cs->branch[l];
    a->r *= 2;
    a->x *= 2;
    a->b /= 2;
    a->rate_a /= 2;
    cs->branch = realloc(cs->branch, (size_t)(cs->n_branch + 1) * sizeof *cs->branch);
    ck_assert_ptr_nonnull(cs->branch);
    cs->branch[cs->n_branch] = cs->branch[l];
    cs->branch[cs->n_branch].row = cs->n_branch + 1;
    fold_int twin = cs->n_branch++;
    double rate = cs->branch[l].rate_a;
    for (int k = 0;; k++) { /* lower both ratings until their limits bind */
        ck_assert_int_lt(k, 40);
        cs->branch[l].rate_a = cs->branch[twin].rate_a = rate;
        solve_case(cs, set, &s0);
        double m0 = fabs(thermal_multiplier(&s0, l)), m1 = fabs(thermal_multiplier(&s0, twin));
        release(&s0);
        if (m0 > 1e-3 && m1 > 1e-3) break;
        rate *= 0.85;
    }
    solve_case(cs, set, &s0);
    cs->bus[1].vmax = s0.x[s0.L.x_vm + 1] + 1e-5;
    release(&s0);
    return cs;
}

/* The near-bound grid with a zero-load leaf bus on bus id 7, both limited 0.01 p.u. below
 * their voltages without the limits: the leaf's limit is then ambiguous (a candidate), and
 * where a comparison run holds it, bus 7 being held too, the leaf's P and Q balances depend
 * on its branch's angle difference alone: two parallel rows that the primary does not have. */
static fold_acopf_case *leaf_near_bound_grid(fold_settings *set)
{
    fold_acopf_case *cs = grid30();
    fold_settings_default(set);
    fold_int leaf = add_buses(cs, 1);
    add_branch(cs, 6, leaf);
    solved s0;
    solve_case(cs, set, &s0);
    cs->bus[leaf].vmax = s0.x[s0.L.x_vm + leaf] - 0.01;
    cs->bus[6].vmax = s0.x[s0.L.x_vm + 6] - 0.01;
    release(&s0);
    solve_case(cs, set, &s0);
    cs->bus[1].vmax = s0.x[s0.L.x_vm + 1] + 1e-5;
    release(&s0);
    return cs;
}

/* The comparison runs of the near-bound grid's candidates solved over the primary
 * factorization (doc/math.md §4.9) give the Jacobian d x / d (qd at buses 21, 2, 5 and the
 * last bus) and its trust report (uncertain entries, intervals, the candidate named) of runs
 * that factor their own KKT matrix (backward.variant_refactor), to rounding; _i >= 1: with a
 * generator (reactive power within its limits) split in two, whose reactive powers make the
 * primary singular, factored with the copy pinned (eq. 4.12c), and the runs bordered over it
 * (eq. 4.16b), where the copy stays a null direction (its entries NaN alike); _i = 2: the
 * primary also has dependent rows (a rated branch split in two, both at their limit), which
 * its runs share and are bordered with; _i = 3: a run that holds a candidate makes dependent
 * rows of its own (a leaf bus), and factors its K: bordered, it would miss their null
 * direction (the trust report's affected entries differ). */
START_TEST(border_matches_refactor)
{
    fold_settings set;
    fold_acopf_case *cs = _i == 2   ? parallel_pair_grid(&set)
                          : _i == 3 ? leaf_near_bound_grid(&set)
                                    : near_bound_grid(&set);
    if (_i) { /* the first generator whose reactive power is within its limits */
        solved s0;
        solve_case(cs, &set, &s0);
        fold_int g = first_inside(cs, &s0, true);
        release(&s0);
        split_generator(cs, g);
    }
    set.active_set.ambiguity = FOLD_AMBIGUITY_FLAG;
    set.log.verbose = 3;
    set.log.sink = count_border;
    double *J[2] = {NULL, NULL}, scale = 0;
    fold_backward_info info[2];
    fold_int n_items[2], n = 0;
    fold_trust_item *copy[2];
    char **names[2];
    border_log logs[2] = {{0}, {0}};
    for (int v = 0; v < 2; v++) {
        set.backward.variant_refactor = v == 1;
        set.log.sink_data = &logs[v];
        solved s;
        solve_case(cs, &set, &s);
        n = s.L.n;
        /* qd at bus ids 21, 2, 5 and at the last bus (the leaf of _i = 3) */
        fold_int cols[4] = {s.L.p_qd + 20, s.L.p_qd + 1, s.L.p_qd + 4, s.L.p_qd + cs->n_bus - 1};
        J[v] = malloc((size_t)(4 * n) * 8);
        info[v] = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
        fold_status st = fold_jacobian(s.sv, &(fold_jacobian_sel){FOLD_BLOCK_X, n, NULL, 4, cols},
                                       J[v], &info[v]);
        ck_assert_msg(st == FOLD_OK || st == FOLD_WARN_UNCERTAIN || st == FOLD_WARN_NOT_UNIQUE,
                      "%s: %s", fold_status_name(st), fold_last_error());
        ck_assert_int_eq(strstr(info[v].fallback_reason, "copied columns pinned") != NULL, _i != 0);
        const fold_trust_item *items;
        ck_assert_status(fold_trust_report(s.sv, &items, &n_items[v]), FOLD_OK);
        copy[v] = malloc((size_t)(n_items[v] + 1) * sizeof *items);
        names[v] = malloc((size_t)(n_items[v] + 1) * sizeof *names[v]);
        for (fold_int k = 0; k < n_items[v]; k++) {
            copy[v][k] = *fold_trust_item_at(items, k);
            names[v][k] = strdup(copy[v][k].name);
        }
        release(&s);
    }
    ck_assert_int_ge(logs[0].n_border, 1);
    ck_assert_int_eq(logs[1].n_border, 0);
    /* the null spaces: the primary's and each bordered run's (eq. 4.16b), the same lines as
     * those of the factored runs (where the primary, factored again, logs its own twice) */
    int n_null[2] = {0, 0};
    for (int v = 0; v < 2; v++)
        for (const char *at = logs[v].nulls; (at = strchr(at, '|')); at++) {
            n_null[v]++;
            char one[256];
            const char *start = at;
            while (start > logs[v].nulls && start[-1] != '|')
                start--;
            snprintf(one, sizeof one, "%.*s|", (int)(at - start), start);
            ck_assert_ptr_nonnull(strstr(logs[1 - v].nulls, one));
        }
    if (_i < 2) ck_assert_int_eq(n_null[0], _i ? 1 + logs[0].n_border : 0);
    /* 2: the primary's dependent rows are the runs' (bordered over their pins); 3: a run
     * that holds the leaf has dependent rows of its own (factored) */
    ck_assert_int_eq(logs[0].n_border_dependent > 0, _i == 2);
    ck_assert_int_eq(logs[0].n_new_dependent > 0, _i == 3);
    ck_assert_int_eq(logs[1].n_new_dependent, 0);
    ck_assert_int_ge(info[0].n_candidates, 1);
    ck_assert_int_ge(info[0].n_uncertain, 1);
    ck_assert_int_eq(info[0].n_variants, info[1].n_variants);
    ck_assert_int_eq(info[0].n_uncertain, info[1].n_uncertain);
    ck_assert_int_eq(info[0].n_not_unique, info[1].n_not_unique);
    if (_i) ck_assert_int_gt(info[0].n_not_unique, 0);
    /* the result's scale: its finite entries and the intervals of its uncertain ones (the
     * finite entries of these columns are the zeros of the held items) */
    for (fold_int k = 0; k < 4 * n; k++)
        if (isfinite(J[1][k])) scale = fmax(scale, fabs(J[1][k]));
    for (fold_int k = 0; k < n_items[1]; k++)
        if (copy[1][k].kind == FOLD_TRUST_UNCERTAIN)
            scale = fmax(scale, fmax(fabs(copy[1][k].lo), fabs(copy[1][k].hi)));
    for (fold_int k = 0; k < 4 * n; k++) {
        ck_assert_msg(isnan(J[0][k]) == isnan(J[1][k]), "entry %lld", (long long)k);
        if (!isnan(J[0][k])) ck_assert_double_le(fabs(J[0][k] - J[1][k]), 1e-10 * scale);
    }
    ck_assert_int_eq(n_items[0], n_items[1]);
    for (fold_int k = 0; k < n_items[0]; k++) {
        const fold_trust_item *a = &copy[0][k], *b = &copy[1][k];
        ck_assert_int_eq(a->kind, b->kind);
        ck_assert_str_eq(names[0][k], names[1][k]);
        ck_assert_int_eq(a->row, b->row);
        ck_assert_int_eq(a->col, b->col);
        ck_assert_int_eq(a->n_affected, b->n_affected);
        if (a->kind != FOLD_TRUST_UNCERTAIN) continue;
        double si = fmax(scale, fmax(fabs(b->lo), fabs(b->hi)));
        ck_assert_double_le(fabs(a->lo - b->lo), 1e-10 * si);
        ck_assert_double_le(fabs(a->hi - b->hi), 1e-10 * si);
    }
    printf("# border: %lld candidates, %d bordered runs, %lld uncertain entries alike; null "
           "spaces %s\n",
           (long long)info[0].n_candidates, logs[0].n_border, (long long)info[0].n_uncertain,
           logs[0].nulls);
    for (int v = 0; v < 2; v++) {
        for (fold_int k = 0; k < n_items[v]; k++)
            free(names[v][k]);
        free(names[v]);
        free(copy[v]);
        free(J[v]);
    }
    fold_acopf_case_free(cs);
}
END_TEST

/* Counts the KKT setups of the central-path check's runs (the barrier form, variants.c),
 * [0], and of the primary classification, [1]. */
static void count_path(int level, const char *line, void *data)
{
    int *n = data;
    (void)level;
    if (strstr(line, "KKT setup (barrier form") && !strstr(line, "path 0)")) n[0]++;
    if (strstr(line, "KKT setup (active form, variant 0, path 0)")) n[1]++;
}

/* The central-path check of case14's suspect sides (the qg bounds of generator 5, doc/math.md
 * §3.2 "Suspect verdicts", eq. 3.19), its runs in the barrier form with the rows far from
 * their bounds condensed out of K (eq. 3.14a, the default) or all rows factored
 * (backward.barrier_condense = false): the same Jacobian d (qg, vm) / d (c2, pd), VJP,
 * uncertain entries, barrier error and trust report, to 1e-9. */
START_TEST(path_check_condensed)
{
    double *J[2] = {NULL, NULL}, *pbar[2] = {NULL, NULL}, scale = 0, sp = 0;
    fold_backward_info vinfo[2];
    fold_int n_items[2], n_nan[2] = {0, 0}, np = 0, len = 0;
    fold_trust_item *copy[2];
    int n_path[2] = {0, 0}, n_path_jac[2] = {0, 0}, counts[2][2] = {{0, 0}, {0, 0}};
    fold_status sj[2];
    for (int v = 0; v < 2; v++) {
        fold_settings set;
        fold_settings_default(&set);
        set.backward.barrier_condense = v == 0;
        /* at the point of Ipopt's own MUMPS settings; at the defaults' point one entry of
         * 2e-11 (d qg / d c2) has an interval 1.9e-12 wide, at the uncertainty threshold, and
         * its verdict follows the roundoff of the two forms */
        set.forward.ordering = FOLD_FWD_ORDER_AUTO;
        set.forward.pivtol = 1e-6;
        set.log.verbose = 3;
        set.log.sink = count_path;
        set.log.sink_data = counts[v];
        acopf_solved s;
        acopf_test_load(&s, "pglib_opf_case14_ieee", 0, 0);
        acopf_test_solve(&s, NULL, &set);
        fold_int ng = s.cs->n_gen, nb = s.cs->n_bus, n_out = 0, n_cols = 0, cols[64];
        fold_acopf_output out[64];
        for (fold_int g = 0; g < ng; g++) {
            out[n_out++] = (fold_acopf_output){FOLD_ACOPF_OUT_QG, g};
            cols[n_cols++] = fold_acopf_param_index(s.m, FOLD_ACOPF_P_C2, g);
        }
        for (fold_int k = 0; k < nb; k++) {
            out[n_out++] = (fold_acopf_output){FOLD_ACOPF_OUT_VM, k};
            cols[n_cols++] = fold_acopf_param_index(s.m, FOLD_ACOPF_P_PD, k);
        }
        len = n_out * n_cols;
        J[v] = malloc((size_t)len * 8);
        sj[v] = fold_acopf_jacobian(s.m, s.sv, n_out, out, n_cols, cols, J[v], NULL, NULL, NULL);
        ck_assert_msg(sj[v] >= 0, "%s: %s", fold_status_name(sj[v]), fold_last_error());
        n_path_jac[v] = counts[v][0];
        for (fold_int k = 0; k < len; k++)
            n_nan[v] += isnan(J[v][k]);
        const fold_trust_item *items;
        ck_assert_status(fold_acopf_trust_report(&items, &n_items[v]), FOLD_OK);
        copy[v] = malloc((size_t)(n_items[v] + 1) * sizeof *items);
        for (fold_int k = 0; k < n_items[v]; k++)
            copy[v][k] = *fold_trust_item_at(items, k);
        fold_int n = fold_acopf_get_layout(s.m).n;
        np = fold_acopf_get_layout(s.m).np;
        double *xbar = malloc((size_t)n * 8);
        for (fold_int j = 0; j < n; j++)
            xbar[j] = 1.0 + 0.01 * (double)(j % 17);
        pbar[v] = malloc((size_t)np * 8);
        vinfo[v] = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
        fold_status st = fold_vjp(s.sv, &(fold_zbar){.x = xbar}, pbar[v], &vinfo[v]);
        ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
        free(xbar);
        acopf_test_solved_free(&s);
        n_path[v] = counts[v][0];
    }
    /* the primary system waits aside during the barrier runs: set up once for both calls */
    ck_assert_int_eq(counts[0][1], 1);
    ck_assert_int_eq(counts[1][1], 1);
    /* the Jacobian's entries off the path need the path at mu too (their interval); the
     * VJP's P2 settles everything, so its check is one barrier run */
    ck_assert_int_eq(n_path_jac[0], 2);
    ck_assert_int_eq(vinfo[0].n_uncertain, 0);
    ck_assert_int_eq(n_path[0] - n_path_jac[0], 1);
    ck_assert_int_eq(n_path[0], n_path[1]);
    ck_assert_int_eq(n_path_jac[0], n_path_jac[1]);
    ck_assert_int_eq(sj[0], sj[1]);
    ck_assert_int_eq(n_nan[0], n_nan[1]);
    ck_assert_int_eq(vinfo[0].n_uncertain, vinfo[1].n_uncertain);
    ck_assert_int_eq(vinfo[0].n_barrier_error, vinfo[1].n_barrier_error);
    ck_assert_double_le(fabs(vinfo[0].barrier_error - vinfo[1].barrier_error), 1e-9);
    for (fold_int k = 0; k < len; k++)
        if (isfinite(J[1][k])) scale = fmax(scale, fabs(J[1][k]));
    for (fold_int k = 0; k < np; k++)
        if (isfinite(pbar[1][k])) sp = fmax(sp, fabs(pbar[1][k]));
    for (fold_int k = 0; k < len; k++) {
        ck_assert_msg(isnan(J[0][k]) == isnan(J[1][k]), "entry %lld", (long long)k);
        if (!isnan(J[0][k])) ck_assert_double_le(fabs(J[0][k] - J[1][k]), 1e-9 * scale);
    }
    for (fold_int k = 0; k < np; k++) {
        ck_assert_msg(isnan(pbar[0][k]) == isnan(pbar[1][k]), "pbar %lld", (long long)k);
        if (!isnan(pbar[0][k])) ck_assert_double_le(fabs(pbar[0][k] - pbar[1][k]), 1e-9 * sp);
    }
    ck_assert_int_eq(n_items[0], n_items[1]);
    for (fold_int k = 0; k < n_items[0]; k++) {
        const fold_trust_item *a = &copy[0][k], *b = &copy[1][k];
        ck_assert_int_eq(a->kind, b->kind);
        ck_assert_int_eq(a->index, b->index);
        ck_assert_int_eq(a->n_affected, b->n_affected);
        if (a->kind != FOLD_TRUST_UNCERTAIN) continue;
        double si = fmax(scale, fmax(fabs(b->lo), fabs(b->hi)));
        ck_assert_double_le(fabs(a->lo - b->lo), 1e-9 * si);
        ck_assert_double_le(fabs(a->hi - b->hi), 1e-9 * si);
    }
    printf("# case14 path check: %d barrier runs, %lld uncertain entries, %lld items alike\n",
           n_path[0], (long long)n_nan[0], (long long)n_items[0]);
    for (int v = 0; v < 2; v++) {
        free(copy[v]);
        free(J[v]);
        free(pbar[v]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_trust");
    TCase *tc = tcase_create("trust");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, near_bound_voltage);
    tcase_add_test(tc, resolves_at_first_fold);
    tcase_add_test(tc, deep_first_point_resolved);
    tcase_add_test(tc, resolve_floor_ends_early);
    tcase_add_test(tc, leaf_buses_at_vmax);
    tcase_add_test(tc, isolated_bus);
    tcase_add_test(tc, twin_generators);
    tcase_add_test(tc, kinds_flag_alike);
    tcase_add_test(tc, parameter_kinds_kept_apart);
    tcase_add_loop_test(tc, border_matches_refactor, 0, 4);
    tcase_add_test(tc, path_check_condensed);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
