/* Comparison runs of the candidates over the primary factorization (doc/math.md §4.9): the
 * derivatives and the trust report are those of runs that factor their own KKT matrix
 * (backward.variant_refactor), to rounding, in both KKT forms, for weakly active
 * constraints, bounds and both at once (several candidates: single flips and the flip of all
 * together); and the bordered path is taken where it applies (the log says so). */
#include "basic/basic.h"
#include "fold_test_util.h"

typedef struct border_log {
    int n_border;              /* comparison runs solved over the primary factorization */
    int n_regularized;         /* of them, over a regularized primary */
    int n_probed;              /* null-space probes of bordered regularized runs */
    char nulls[4096];          /* the null spaces found, in order ("null direction on ...|") */
    long long reused, columns; /* of their columns, those that took the primary's solution */
} border_log;

static void count_border(int level, const char *line, void *data)
{
    border_log *b = data;
    long long used, cols;
    (void)level;
    if (strstr(line, "over the primary factorization") &&
        !strstr(line, "near singular: factored instead")) {
        b->n_border++;
        b->n_regularized += strstr(line, "(regularized)") != NULL;
    }
    b->n_probed += strstr(line, "probe of the bordered regularized") != NULL;
    const char *dir = strstr(line, "null direction on");
    size_t len = strlen(b->nulls);
    if (dir && len + strlen(dir) + 2 < sizeof b->nulls)
        snprintf(b->nulls + len, sizeof b->nulls - len, "%s|", dir);
    const char *at = strstr(line, "): ");
    if (at && strstr(line, "columns took the primary's solve") &&
        sscanf(at, "): %lld of %lld", &used, &cols) == 2) {
        b->reused += used;
        b->columns += cols;
    }
}

typedef struct results {
    double *J, *pbar, *pbar_lam; /* pbar_lam: a VJP of the first constraint's multiplier */
    fold_status st_lam;
    fold_backward_info ji, vi;
    fold_int n_items;
    fold_trust_item *items;
    char **names; /* the items' names (valid in the report only until the solver's next call) */
    border_log log;
} results;

/* Relative difference of a and b on the scale s, to 1e-10; NaN must match NaN. */
static void same(double a, double b, double s, const char *what, fold_int k)
{
    fold_test_same(a, b, s, 1e-10, what, k);
}

/* The Jacobian d x / d p, a VJP of x with weights w, and the trust report of the VJP. */
static void compute(const fold_rp *rp, fold_settings *s, const double *w, results *r)
{
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    r->log = (border_log){0};
    s->log.verbose = 3;
    s->log.sink = count_border;
    s->log.sink_data = &r->log;
    fold_solver *solver = fold_test_rp_solver(rp, s);
    r->J = malloc((size_t)(n * np) * 8);
    r->pbar = malloc((size_t)np * 8);
    r->ji = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    r->vi = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    fold_status st =
        fold_jacobian(solver, &(fold_jacobian_sel){FOLD_BLOCK_X, n, NULL, np, NULL}, r->J, &r->ji);
    ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
    st = fold_vjp(solver, &(fold_zbar){.x = w}, r->pbar, &r->vi);
    ck_assert_msg(st >= 0, "%s: %s", fold_status_name(st), fold_last_error());
    /* d lam_0 / d p by rows (reverse mode): the multiplier of a dependent row is not unique,
     * its right-hand side inconsistent (GMRES tells, eq. 4.9), the row NaN, in every run */
    fold_int row0 = 0;
    r->pbar_lam = malloc((size_t)np * 8);
    r->st_lam = fold_jacobian(solver, &(fold_jacobian_sel){FOLD_BLOCK_LAM, 1, &row0, np, NULL},
                              r->pbar_lam, NULL);
    const fold_trust_item *items;
    ck_assert_status(fold_trust_report(solver, &items, &r->n_items), FOLD_OK);
    r->items = malloc((size_t)(r->n_items + 1) * sizeof *items);
    r->names = malloc((size_t)(r->n_items + 1) * sizeof *r->names);
    for (fold_int k = 0; k < r->n_items; k++) {
        r->items[k] = *fold_trust_item_at(items, k);
        r->names[k] = strdup(r->items[k].name);
    }
    fold_solver_free(solver);
}

static void release(results *r)
{
    free(r->J);
    free(r->pbar);
    free(r->pbar_lam);
    for (fold_int k = 0; k < r->n_items; k++)
        free(r->names[k]);
    free(r->names);
    free(r->items);
}

/* _i: bit 0 nonlinear, bits 1-2 weak constraint / bound / both, bit 3 barrier form, bit 4 an
 * equality constraint the sum of two others (dependent rows that are no copies: the primary
 * K singular, factored regularized, §4.8, and the runs bordered over it). */
START_TEST(border_matches_refactor)
{
    int kinds = 1 + (_i >> 1) % 3;
    bool barrier = _i & 8, duplicate = _i & 16;
    fold_rp_options o = {.n = 14,
                         .m = 7,
                         .np = 5,
                         .nonlinear = _i & 1,
                         .weak_cons = kinds & 1,
                         .weak_bound = kinds & 2,
                         .combined = duplicate};
    fold_rp *rp = NULL;
    ck_assert_status(fold_rp_create(700 + (unsigned)_i, &o, &rp), FOLD_OK);
    fold_int n, m, np;
    fold_problem_dims(fold_rp_problem(rp), &n, &m, &np);
    double *w = malloc((size_t)n * 8);
    for (fold_int j = 0; j < n; j++)
        w[j] = 1.0 + 0.1 * (double)j;
    fold_settings s;
    fold_settings_default(&s);
    if (barrier) s.backward.kkt_form = FOLD_KKT_BARRIER;
    results a, b;
    compute(rp, &s, w, &a);
    s.backward.variant_refactor = true;
    compute(rp, &s, w, &b);
    ck_assert_int_eq(b.log.n_border, 0);
    /* the active form's runs are bordered, and the columns whose right-hand side the flips
     * leave alone take the primary run's solution (eq. 4.16); the barrier form's runs
     * rescale every Sigma */
    if (barrier) {
        ck_assert_int_eq(a.log.n_border, 0);
    } else if (duplicate) { /* over the regularized primary, its solutions the runs' start */
        ck_assert_double_gt(a.ji.singular_delta, 0.0);
        ck_assert_int_ge(a.log.n_border, 2 * (int)a.vi.n_variants);
        ck_assert_int_eq(a.log.n_regularized, a.log.n_border);
        ck_assert_int_eq(a.log.n_probed, a.log.n_border);
        ck_assert_int_gt(a.log.reused, 0);
    } else {
        ck_assert_int_ge(a.log.n_border, 2 * (int)a.vi.n_variants);
        ck_assert_int_eq(a.log.n_regularized, 0);
        ck_assert_int_gt(a.log.reused, 0);
    }
    ck_assert_int_ge(a.vi.n_candidates, kinds == 3 ? 2 : 1);
    ck_assert_int_eq(a.vi.n_candidates, b.vi.n_candidates);
    ck_assert_int_eq(a.vi.n_variants, b.vi.n_variants);
    ck_assert_int_eq(a.ji.n_uncertain, b.ji.n_uncertain);
    ck_assert_int_eq(a.vi.n_uncertain, b.vi.n_uncertain);
    ck_assert_int_eq(a.ji.n_not_unique, b.ji.n_not_unique);
    ck_assert_int_eq(a.vi.n_not_unique, b.vi.n_not_unique);
    /* each null space found (the primary's, each bordered run's) is one of the factored
     * runs' (the probe over the bordered inverse marks what a factorization's marks) */
    int n_null = 0;
    for (const char *at = a.log.nulls, *end; (end = strchr(at, '|')); at = end + 1, n_null++) {
        char one[256];
        snprintf(one, sizeof one, "%.*s|", (int)(end - at), at);
        ck_assert_msg(strstr(b.log.nulls, one) != NULL, "%s not among %s", one, b.log.nulls);
    }
    if (duplicate && !barrier) ck_assert_int_ge(n_null, 1 + a.log.n_border);
    ck_assert_int_eq(a.st_lam, b.st_lam);
    ck_assert_int_ge(a.st_lam, 0);
    for (fold_int k = 0; k < np; k++)
        same(a.pbar_lam[k], b.pbar_lam[k], fold_test_max_abs(b.pbar_lam, np), "pbar_lam", k);
    double sj = fold_test_max_abs(b.J, n * np), sp = fold_test_max_abs(b.pbar, np);
    for (fold_int k = 0; k < n * np; k++)
        same(a.J[k], b.J[k], sj, "J", k);
    for (fold_int k = 0; k < np; k++)
        same(a.pbar[k], b.pbar[k], sp, "pbar", k);
    ck_assert_int_eq(a.n_items, b.n_items);
    for (fold_int k = 0; k < a.n_items; k++) {
        const fold_trust_item *x = &a.items[k], *y = &b.items[k];
        fold_test_same_item(x, y, sp, 1e-10, k);
        ck_assert_str_eq(a.names[k], b.names[k]);
        ck_assert_int_eq(x->row, y->row);
        ck_assert_int_eq(x->col, y->col);
    }
    printf("# %s form, %s%s, %lld candidates, %lld variants: %d bordered runs (%d regularized; "
           "%lld of %lld columns took the primary's solution), %lld uncertain entries in the "
           "jacobian, %lld in the vjp, alike\n",
           barrier ? "barrier" : "active", o.nonlinear ? "nonlinear" : "QP",
           duplicate ? ", dependent rows" : "", (long long)a.vi.n_candidates,
           (long long)a.vi.n_variants, a.log.n_border, a.log.n_regularized, a.log.reused,
           a.log.columns, (long long)a.ji.n_uncertain, (long long)a.vi.n_uncertain);
    release(&a);
    release(&b);
    free(w);
    fold_rp_free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fold_border");
    TCase *tc = tcase_create("border");
    tcase_add_loop_test(tc, border_matches_refactor, 0, 32);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
