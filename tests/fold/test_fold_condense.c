/* The barrier KKT form with its inactive inequality rows condensed out of K (doc/math.md
 * eq. 3.14a, backward.barrier_condense) against the full form (every row factored): the
 * Schur complement is exact, so Jacobians (forward and reverse, several right-hand sides per
 * block), VJPs with upstream gradients on every block, the barrier error and the trust
 * report agree to rounding. Problems with active, weakly active and inactive inequalities
 * and bounds; at the known KKT point (inactive rows with Sigma_s ~ 0) and at a point whose
 * inactive rows carry multipliers mu / distance (Sigma_s = mu / distance^2 not negligible,
 * so their recovered multipliers matter). */
#include "fold/fold_internal.h"
#include "fold_test_util.h"

typedef struct results {
    double *Jx, *Jl, *pbar, *dx, *dlam, *dzl;
    fold_backward_info ji, li, vi, fi;
    fold_status sj, sl, sv, sf;
    fold_int n_items, dim;
    fold_trust_item *items;
} results;

/* Relative difference of a and b on the scale s, to 1e-9; NaN must match NaN. */
static void same(double a, double b, double s, const char *what, fold_int k)
{
    fold_test_same(a, b, s, 1e-9, what, k);
}

static void same_vec(const double *a, const double *b, fold_int len, const char *what)
{
    double s = fmax(1e-300, fold_test_max_abs(b, len));
    for (fold_int k = 0; k < len; k++)
        same(a[k], b[k], s, what, k);
}

/* The point: the known solution, or (moderate) with the multipliers of the inactive
 * inequalities set to mu / distance on the side of their nearer bound. */
static fold_solver *make_solver(const fold_rp *rp, const fold_settings *s, bool moderate)
{
    const double *p0, *x, *lam, *zl, *zu;
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_solver *solver = fold_test_rp_solver(rp, s);
    if (!moderate) return solver;
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    /* g(x) from a first call's evaluation */
    double dxs[64];
    ck_assert_int_le(n, 64);
    double *dp = calloc((size_t)np, 8);
    dp[0] = 1;
    ck_assert_int_ge(fold_jvp(solver, dp, &(fold_dz){.x = dxs}, NULL), 0);
    free(dp);
    const fold_kkt *kkt = solver->backward;
    fold_bounds b = fold_solver_bounds(solver);
    double *lam2 = malloc((size_t)m * 8);
    for (fold_int i = 0; i < m; i++) {
        double g = kkt->cls.gval[i], lo = b.gl[i], hi = b.gu[i], mu = 1e-3;
        lam2[i] = lam[i];
        if (lo == hi || lam[i] != 0.0) continue;
        double dl = fold_is_inf_bound(lo) ? HUGE_VAL : g - lo;
        double du = fold_is_inf_bound(hi) ? HUGE_VAL : hi - g;
        if (fmin(dl, du) < 1e-3) continue; /* the weakly active row stays at its bound */
        lam2[i] = du < dl ? mu / du : -mu / dl;
    }
    fold_solver_store(solver, p0, x, lam2, zl, zu, fold_rp_objective(rp, x, p0), true);
    free(lam2);
    return solver;
}

static void compute(const fold_rp *rp, fold_settings *s, bool moderate, results *r)
{
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_solver *solver = make_solver(rp, s, moderate);
    r->Jx = malloc((size_t)(n * np) * 8);
    r->Jl = malloc((size_t)(7 * np) * 8);
    r->pbar = malloc((size_t)np * 8);
    r->dx = malloc((size_t)n * 8);
    r->dlam = malloc((size_t)m * 8);
    r->dzl = malloc((size_t)n * 8);
    r->ji = r->li = r->vi = r->fi = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    /* d x / d p forward (np columns), d lam / d p in reverse mode (m rows) */
    r->sj =
        fold_jacobian(solver, &(fold_jacobian_sel){FOLD_BLOCK_X, n, NULL, np, NULL}, r->Jx, &r->ji);
    ck_assert_msg(r->sj >= 0, "%s: %s", fold_status_name(r->sj), fold_last_error());
    /* fewer rows than parameters: reverse mode (4 rows of d lam / d p, 3 of d zl / d p, whose
     * right-hand sides carry the bound term) */
    fold_int rows[4] = {0, 1, 2, 3};
    r->sl = fold_jacobian(solver, &(fold_jacobian_sel){FOLD_BLOCK_LAM, 4, rows, np, NULL}, r->Jl,
                          &r->li);
    ck_assert_msg(r->sl >= 0, "%s: %s", fold_status_name(r->sl), fold_last_error());
    fold_status sz = fold_jacobian(solver, &(fold_jacobian_sel){FOLD_BLOCK_ZL, 3, rows, np, NULL},
                                   r->Jl + 4 * np, NULL);
    ck_assert_msg(sz >= 0, "%s: %s", fold_status_name(sz), fold_last_error());
    double *w = malloc((size_t)(3 * n + m) * 8), *wl = w + n, *wz = wl + m, *dp = wz + n;
    for (fold_int j = 0; j < n; j++)
        w[j] = 1.0 + 0.1 * (double)j, wz[j] = 0.5 - 0.05 * (double)j;
    for (fold_int i = 0; i < m; i++)
        wl[i] = 0.3 * (double)(i % 3) - 0.2;
    for (fold_int k = 0; k < np && k < n; k++)
        dp[k] = 1.0 - 0.3 * (double)k;
    r->sv = fold_vjp(solver, &(fold_zbar){.x = w, .lam = wl, .zl = wz}, r->pbar, &r->vi);
    ck_assert_msg(r->sv >= 0, "%s: %s", fold_status_name(r->sv), fold_last_error());
    r->sf = fold_jvp(solver, dp, &(fold_dz){.x = r->dx, .lam = r->dlam, .zl = r->dzl}, &r->fi);
    ck_assert_msg(r->sf >= 0, "%s: %s", fold_status_name(r->sf), fold_last_error());
    r->dim = r->fi.dim;
    const fold_trust_item *items;
    ck_assert_status(fold_trust_report(solver, &items, &r->n_items), FOLD_OK);
    r->items = malloc((size_t)(r->n_items + 1) * sizeof *items);
    for (fold_int k = 0; k < r->n_items; k++)
        r->items[k] = *fold_trust_item_at(items, k);
    free(w);
    fold_solver_free(solver);
}

static void release(results *r)
{
    free(r->Jx);
    free(r->Jl);
    free(r->pbar);
    free(r->dx);
    free(r->dlam);
    free(r->dzl);
    free(r->items);
}

/* _i: bit 0 nonlinear, bits 1-2 weak constraint / bound / both / none, bit 3 moderate. */
START_TEST(condensed_matches_full)
{
    int kinds = (_i >> 1) % 4;
    bool moderate = _i & 8;
    fold_rp_options o = {.n = 14,
                         .m = 9,
                         .np = 5,
                         .nonlinear = _i & 1,
                         .weak_cons = kinds & 1,
                         .weak_bound = (kinds & 2) != 0};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(900 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    fold_settings s;
    fold_settings_default(&s);
    s.backward.kkt_form = FOLD_KKT_BARRIER;
    s.backward.block_size = 3; /* several blocks of several right-hand sides */
    results a, b;
    compute(rp, &s, moderate, &a);
    s.backward.barrier_condense = false;
    compute(rp, &s, moderate, &b);
    ck_assert_int_eq(b.dim, n + m);
    ck_assert_int_lt(a.dim, n + m); /* every problem has inactive inequalities */
    ck_assert_int_eq(a.sj, b.sj);
    ck_assert_int_eq(a.sl, b.sl);
    ck_assert_int_eq(a.sv, b.sv);
    ck_assert_int_eq(a.sf, b.sf);
    same_vec(a.Jx, b.Jx, n * np, "d x / d p");
    same_vec(a.Jl, b.Jl, 7 * np, "d (lam, zl) / d p");
    same_vec(a.pbar, b.pbar, np, "pbar");
    same_vec(a.dx, b.dx, n, "dx");
    same_vec(a.dlam, b.dlam, m, "dlam");
    same_vec(a.dzl, b.dzl, n, "dzl");
    ck_assert_int_eq(a.vi.n_candidates, b.vi.n_candidates);
    ck_assert_int_eq(a.vi.n_variants, b.vi.n_variants);
    ck_assert_int_eq(a.ji.n_uncertain, b.ji.n_uncertain);
    ck_assert_int_eq(a.li.n_uncertain, b.li.n_uncertain);
    ck_assert_int_eq(a.vi.n_uncertain, b.vi.n_uncertain);
    ck_assert_int_eq(a.fi.n_barrier_error, b.fi.n_barrier_error);
    same(a.fi.barrier_error, b.fi.barrier_error, 1.0, "barrier error", 0);
    same(a.vi.barrier_error, b.vi.barrier_error, 1.0, "barrier error", 1);
    ck_assert_int_eq(a.n_items, b.n_items);
    double sp = fold_test_max_abs(b.pbar, np);
    for (fold_int k = 0; k < a.n_items; k++)
        fold_test_same_item(&a.items[k], &b.items[k], sp, 1e-9, k);
    /* at the moderate point the condensed rows' multipliers are not negligible: the test
     * sees their recovery (eq. 3.14a) */
    if (moderate) {
        double sl = 0;
        for (fold_int i = 0; i < m; i++)
            if (!isnan(b.dlam[i]) && fabs(b.dlam[i]) > 1e-6 * fold_test_max_abs(b.dlam, m) &&
                fabs(b.dlam[i]) < 1e-2 * fold_test_max_abs(b.dlam, m))
                sl += 1;
        printf("# seed %d: %g small but not negligible condensed multipliers\n", _i, sl);
    }
    printf("# %s, kinds %d, %s point: order %lld of %lld, %lld candidates, %lld items, alike\n",
           o.nonlinear ? "nonlinear" : "QP", kinds, moderate ? "moderate" : "KKT", (long long)a.dim,
           (long long)(n + m), (long long)a.vi.n_candidates, (long long)a.n_items);
    release(&a);
    release(&b);
    fold_rp_free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fold_condense");
    TCase *tc = tcase_create("condense");
    tcase_add_loop_test(tc, condensed_matches_full, 0, 16);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
