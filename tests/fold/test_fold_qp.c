/* Random sparse QPs, box-constrained and general (n = 100 .. 3000, seeded), built solution
 * first with a few sides near degeneracy: inactive bounds 2e-4 and 6e-7 from their limits,
 * active ones with multipliers 1e-5 and 3e-7 (the margins that fooled the fixed thresholds,
 * doc/math.md §3.2). Their derivative has a closed form, the reduced system on the free set
 * solved densely. Ipopt at the default settings + fold, and the exact point imported with
 * and without its multipliers, give it to 1e-8, or flag the entry (NaN, named in the trust
 * report, a warning status): never FOLD_OK with a wrong entry. */
#include "fold_test_util.h"

/* Share of the sides given the near / tiny margins. */
#define NEAR_SHARE 0.01
#define TINY_SHARE 0.005

typedef struct qp {
    fold_int n, me, mi, m; /* variables, equality and inequality rows */
    fold_int nq;           /* entries of Q's lower triangle */
    fold_int *qr, *qc;     /* Q lower triangle (triplets) */
    double *qv, *q;        /* its values; the linear term at p = 0 */
    fold_int na;           /* entries of A (4 per row) */
    fold_int *ar, *ac;
    double *av;
    double *xl, *xu, *gl, *gu;
    double *x, *lam, *zl, *zu; /* the solution at p = 0 */
    signed char *xs, *cs;      /* 0 free / inactive, 1 lower, 2 upper, 3 equality */
    fold_int *pi;              /* identity pattern of hess_lp */
    fold_problem *prob;
} qp;

static int qp_f(const double *x, const double *p, double *obj, void *ud)
{
    const qp *P = ud;
    double f = 0;
    for (fold_int k = 0; k < P->nq; k++)
        f += (P->qr[k] == P->qc[k] ? 0.5 : 1.0) * P->qv[k] * x[P->qr[k]] * x[P->qc[k]];
    for (fold_int j = 0; j < P->n; j++)
        f += (P->q[j] + p[j]) * x[j];
    *obj = f;
    return 0;
}

static int qp_grad(const double *x, const double *p, double *g, void *ud)
{
    const qp *P = ud;
    for (fold_int j = 0; j < P->n; j++)
        g[j] = P->q[j] + p[j];
    for (fold_int k = 0; k < P->nq; k++) {
        g[P->qr[k]] += P->qv[k] * x[P->qc[k]];
        if (P->qr[k] != P->qc[k]) g[P->qc[k]] += P->qv[k] * x[P->qr[k]];
    }
    return 0;
}

static int qp_g(const double *x, const double *p, double *g, void *ud)
{
    const qp *P = ud;
    memset(g, 0, (size_t)P->m * sizeof *g);
    for (fold_int k = 0; k < P->na; k++)
        g[P->ar[k]] += P->av[k] * x[P->ac[k]];
    return 0;
}

static int qp_jac(const double *x, const double *p, double *v, void *ud)
{
    const qp *P = ud;
    memcpy(v, P->av, (size_t)P->na * sizeof *v);
    return 0;
}

static int qp_hess(const double *x, const double *p, double s, const double *lam, double *v,
                   void *ud)
{
    const qp *P = ud;
    for (fold_int k = 0; k < P->nq; k++)
        v[k] = s * P->qv[k];
    return 0;
}

static int qp_grad_p(const double *x, const double *p, double *gp, void *ud)
{
    const qp *P = ud;
    memcpy(gp, x, (size_t)P->n * sizeof *gp);
    return 0;
}

static int qp_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    const qp *P = ud;
    for (fold_int j = 0; j < P->n; j++)
        v[j] = 1.0;
    return 0;
}

/* A margin: usually in [0.5, 1.5], now and then near (small) or tiny (smaller still). */
static double margin(fold_test_rng *r, double near, double tiny)
{
    double u = fold_test_uniform(r);
    if (u < TINY_SHARE) return tiny;
    if (u < TINY_SHARE + NEAR_SHARE) return near;
    return 0.5 + fold_test_uniform(r);
}

static qp *qp_build(unsigned long long seed, fold_int n, bool general)
{
    fold_test_rng r;
    fold_test_rng_seed(&r, seed);
    qp *P = calloc(1, sizeof *P);
    fold_int n_off = 3 * n;
    P->n = n;
    P->me = general ? n / 10 : 0;
    P->mi = general ? n / 5 : 0;
    P->m = P->me + P->mi;
    P->qr = malloc((size_t)(n + n_off) * sizeof(fold_int));
    P->qc = malloc((size_t)(n + n_off) * sizeof(fold_int));
    P->qv = malloc((size_t)(n + n_off) * sizeof(double));
    P->q = malloc((size_t)n * sizeof(double));
    double *rowsum = calloc((size_t)n, sizeof(double));
    /* Q: random off-diagonal pairs (distinct, lower), then a dominant diagonal: SPD */
    for (fold_int t = 0; t < n_off; t++) {
        fold_int a = (fold_int)(fold_test_uniform(&r) * (double)n);
        fold_int b = (fold_int)(fold_test_uniform(&r) * (double)n);
        if (a == b || a >= n || b >= n) continue;
        fold_int lo = a < b ? a : b, hi = a < b ? b : a;
        bool dup = false;
        for (fold_int k = 0; k < P->nq && !dup; k++)
            dup = P->qr[k] == hi && P->qc[k] == lo;
        if (dup) continue;
        P->qr[P->nq] = hi;
        P->qc[P->nq] = lo;
        P->qv[P->nq] = fold_test_uniform(&r) - 0.5;
        rowsum[hi] += fabs(P->qv[P->nq]);
        rowsum[lo] += fabs(P->qv[P->nq]);
        P->nq++;
    }
    for (fold_int j = 0; j < n; j++) {
        P->qr[P->nq] = P->qc[P->nq] = j;
        P->qv[P->nq++] = rowsum[j] + 1 + 3 * fold_test_uniform(&r);
    }
    free(rowsum);
    /* statuses of the variables first: each row of A gets a free column, so that the active
     * rows keep independent gradients on the free variables */
    P->xs = calloc((size_t)n, 1);
    fold_int *free_vars = malloc((size_t)n * sizeof(fold_int)), n_free = 0;
    for (fold_int j = 0; j < n; j++) {
        double u = fold_test_uniform(&r);
        P->xs[j] = u < 0.2 ? 1 : u < 0.4 ? 2 : 0;
        if (!P->xs[j]) free_vars[n_free++] = j;
    }
    /* A: 4 entries per row in distinct columns, the first a free variable */
    P->na = 4 * P->m;
    P->ar = malloc((size_t)P->na * sizeof(fold_int) + 1);
    P->ac = malloc((size_t)P->na * sizeof(fold_int) + 1);
    P->av = malloc((size_t)P->na * sizeof(double) + 1);
    for (fold_int i = 0; i < P->m; i++)
        for (int t = 0; t < 4; t++) {
            fold_int k = 4 * i + t, c;
            bool dup;
            do {
                double u = fold_test_uniform(&r);
                c = t == 0 ? free_vars[(fold_int)(u * (double)n_free) % n_free]
                           : (fold_int)(u * (double)n) % n;
                dup = false;
                for (int v = 0; v < t; v++)
                    dup |= P->ac[4 * i + v] == c;
            } while (dup);
            P->ar[k] = i;
            P->ac[k] = c;
            P->av[k] = fold_test_normal(&r);
        }
    free(free_vars);
    /* the solution and its statuses, margins, bounds and multipliers */
    P->x = malloc((size_t)n * sizeof(double));
    P->zl = calloc((size_t)n, sizeof(double));
    P->zu = calloc((size_t)n, sizeof(double));
    P->xl = malloc((size_t)n * sizeof(double));
    P->xu = malloc((size_t)n * sizeof(double));
    P->lam = calloc((size_t)P->m + 1, sizeof(double));
    P->gl = malloc((size_t)P->m * sizeof(double) + 1);
    P->gu = malloc((size_t)P->m * sizeof(double) + 1);
    P->cs = calloc((size_t)P->m + 1, 1);
    for (fold_int j = 0; j < n; j++) {
        double x = fold_test_normal(&r);
        P->x[j] = x;
        double lo = x - margin(&r, 2e-4, 6e-7), hi = x + margin(&r, 2e-4, 6e-7);
        if (P->xs[j] == 1) lo = x, P->zl[j] = margin(&r, 1e-5, 3e-7);
        if (P->xs[j] == 2) hi = x, P->zu[j] = margin(&r, 1e-5, 3e-7);
        P->xl[j] = lo;
        P->xu[j] = hi;
    }
    double *ax = calloc((size_t)P->m + 1, sizeof(double));
    for (fold_int k = 0; k < P->na; k++)
        ax[P->ar[k]] += P->av[k] * P->x[P->ac[k]];
    for (fold_int i = 0; i < P->m; i++) {
        double c = ax[i], u = fold_test_uniform(&r);
        if (i < P->me) {
            P->cs[i] = 3;
            P->gl[i] = P->gu[i] = c;
            P->lam[i] = fold_test_normal(&r);
            continue;
        }
        P->cs[i] = u < 0.25 ? 1 : u < 0.5 ? 2 : 0;
        P->gl[i] = c - margin(&r, 2e-4, 6e-7);
        P->gu[i] = c + margin(&r, 2e-4, 6e-7);
        if (P->cs[i] == 1) P->gl[i] = c, P->lam[i] = -margin(&r, 1e-5, 3e-7);
        if (P->cs[i] == 2) P->gu[i] = c, P->lam[i] = margin(&r, 1e-5, 3e-7);
    }
    free(ax);
    /* q from stationarity at p = 0: Q x + q + A' lam - zl + zu = 0 */
    double *zero = calloc((size_t)n, sizeof(double));
    memset(P->q, 0, (size_t)n * sizeof(double));
    qp_grad(P->x, zero, P->q, P); /* Q x (q = 0 so far) */
    for (fold_int k = 0; k < P->na; k++)
        P->q[P->ac[k]] += P->av[k] * P->lam[P->ar[k]];
    for (fold_int j = 0; j < n; j++)
        P->q[j] = -(P->q[j] - P->zl[j] + P->zu[j]);
    free(zero);
    P->pi = malloc((size_t)n * sizeof(fold_int));
    for (fold_int j = 0; j < n; j++)
        P->pi[j] = j;
    fold_nlp_def d = {.name = general ? "qp" : "box_qp",
                      .n = n,
                      .m = P->m,
                      .np = n,
                      .x_lower = P->xl,
                      .x_upper = P->xu,
                      .g_lower = P->gl,
                      .g_upper = P->gu,
                      .jac_g = {P->na, P->ar, P->ac},
                      .hess_l = {P->nq, P->qr, P->qc},
                      .hess_lp = {n, P->pi, P->pi},
                      .cb = {qp_f, qp_grad, qp_g, qp_jac, qp_hess, qp_grad_p, qp_hess_lp, NULL},
                      .user_data = P};
    ck_assert_status(fold_problem_create(&d, &P->prob), FOLD_OK);
    return P;
}

static void qp_free(qp *P)
{
    fold_problem_free(P->prob);
    void *a[] = {P->qr, P->qc, P->qv, P->q,   P->ar, P->ac, P->av, P->xl, P->xu,
                 P->gl, P->gu, P->x,  P->lam, P->zl, P->zu, P->xs, P->cs, P->pi};
    for (size_t k = 0; k < sizeof a / sizeof a[0]; k++)
        free(a[k]);
    free(P);
}

/* The reference VJP: pbar = -(K^{-1} [xbar_F; 0])_F on the free variables, 0 on the held
 * ones, K = [Q_FF A_F'; A_F 0] over the equality and active rows, solved by dense LU with
 * partial pivoting. */
static void reference_vjp(const qp *P, const double *xbar, double *pbar)
{
    fold_int n = P->n, nk = 0;
    fold_int *pos = malloc((size_t)(n + P->m) * sizeof(fold_int));
    for (fold_int j = 0; j < n; j++)
        pos[j] = P->xs[j] == 0 ? nk++ : -1;
    for (fold_int i = 0; i < P->m; i++)
        pos[n + i] = P->cs[i] != 0 ? nk++ : -1;
    double *K = calloc((size_t)(nk * nk), sizeof(double)), *w = calloc((size_t)nk, sizeof(double));
    for (fold_int k = 0; k < P->nq; k++) {
        fold_int a = pos[P->qr[k]], b = pos[P->qc[k]];
        if (a < 0 || b < 0) continue;
        K[a * nk + b] = K[b * nk + a] = P->qv[k];
    }
    for (fold_int k = 0; k < P->na; k++) {
        fold_int a = pos[n + P->ar[k]], b = pos[P->ac[k]];
        if (a < 0 || b < 0) continue;
        K[a * nk + b] = K[b * nk + a] = P->av[k];
    }
    for (fold_int j = 0; j < n; j++)
        if (pos[j] >= 0) w[pos[j]] = xbar[j];
    for (fold_int c = 0; c < nk; c++) { /* Gaussian elimination, partial pivoting */
        fold_int piv = c;
        for (fold_int i = c + 1; i < nk; i++)
            if (fabs(K[i * nk + c]) > fabs(K[piv * nk + c])) piv = i;
        if (piv != c) {
            for (fold_int t = 0; t < nk; t++) {
                double tmp = K[c * nk + t];
                K[c * nk + t] = K[piv * nk + t];
                K[piv * nk + t] = tmp;
            }
            double tmp = w[c];
            w[c] = w[piv];
            w[piv] = tmp;
        }
        for (fold_int i = c + 1; i < nk; i++) {
            double f = K[i * nk + c] / K[c * nk + c];
            if (f == 0.0) continue;
            for (fold_int t = c; t < nk; t++)
                K[i * nk + t] -= f * K[c * nk + t];
            w[i] -= f * w[c];
        }
    }
    for (fold_int c = nk - 1; c >= 0; c--) {
        for (fold_int t = c + 1; t < nk; t++)
            w[c] -= K[c * nk + t] * w[t];
        w[c] /= K[c * nk + c];
    }
    for (fold_int j = 0; j < n; j++)
        pbar[j] = pos[j] >= 0 ? -w[pos[j]] : 0.0;
    free(pos);
    free(K);
    free(w);
}

/* pbar against the reference: each entry within 1e-8 of the largest, or NaN with a warning
 * status and an item of the trust report on that parameter. Returns the entries flagged. */
static fold_int check_vjp(fold_solver *sv, fold_status st, const double *pbar, const double *ref,
                          fold_int n, const char *what)
{
    double scale = 0;
    fold_int flagged = 0;
    const fold_trust_item *items;
    fold_int n_items;
    for (fold_int j = 0; j < n; j++)
        scale = fmax(scale, fabs(ref[j]));
    ck_assert_status(fold_trust_report(sv, &items, &n_items), FOLD_OK);
    for (fold_int j = 0; j < n; j++) {
        if (isnan(pbar[j])) {
            flagged++;
            ck_assert_msg(st == FOLD_WARN_UNCERTAIN || st == FOLD_WARN_NOT_UNIQUE,
                          "%s: entry %ld NaN with status %s", what, (long)j, fold_status_name(st));
            bool named = false;
            for (fold_int k = 0; k < n_items && !named; k++)
                named = items[k].col == j && (items[k].kind == FOLD_TRUST_UNCERTAIN ||
                                              items[k].kind == FOLD_TRUST_NOT_UNIQUE);
            ck_assert_msg(named, "%s: entry %ld NaN but not in the trust report", what, (long)j);
            continue;
        }
        ck_assert_msg(fabs(pbar[j] - ref[j]) <= 1e-8 * scale,
                      "%s: entry %ld = %.12g, reference %.12g (status %s): silently wrong", what,
                      (long)j, pbar[j], ref[j], fold_status_name(st));
    }
    return flagged;
}

static const struct {
    fold_int n;
    bool general;
} qp_cases[] = {{100, false}, {300, false}, {1000, false}, {3000, false},
                {100, true},  {300, true},  {1000, true}};

START_TEST(qp_default_and_imports)
{
    fold_int n = qp_cases[_i].n;
    bool general = qp_cases[_i].general;
    qp *P = qp_build(9000 + (unsigned long long)_i, n, general);
    double *xbar = malloc((size_t)n * 8), *ref = malloc((size_t)n * 8),
           *pbar = malloc((size_t)n * 8);
    fold_test_rng r;
    fold_test_rng_seed(&r, 77 + (unsigned long long)_i);
    fold_test_fill_normal(&r, xbar, n);
    reference_vjp(P, xbar, ref);
    char what[96];
    /* Ipopt at the default settings, then the fold at the default settings */
    fold_solver *sv = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solver_create(P->prob, NULL, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, NULL, &fi), FOLD_OK);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st = fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info);
    ck_assert_msg(st >= 0, "%s", fold_last_error());
    snprintf(what, sizeof what, "%s n = %ld, Ipopt", general ? "QP" : "box QP", (long)n);
    fold_int flagged = check_vjp(sv, st, pbar, ref, n, what);
    ck_assert_status(fold_solve_finish(sv, &fi), FOLD_OK); /* the re-solves the vjp ran */
    printf("# %s: %d re-solves, %ld sides still ambiguous, %ld candidates, %ld of %ld entries "
           "flagged\n",
           what, fi.resolves, (long)fi.n_ambiguous, (long)info.n_candidates, (long)flagged,
           (long)n);
    fold_solver_free(sv);
    /* the exact point imported, with and without its multipliers: exact, nothing flagged */
    for (int duals = 1; duals >= 0; duals--) {
        ck_assert_status(fold_solver_create(P->prob, NULL, &sv), FOLD_OK);
        ck_assert_status(fold_solver_import(sv,
                                            &(fold_import_point){.x = P->x,
                                                                 .lam = duals ? P->lam : NULL,
                                                                 .zl = duals ? P->zl : NULL,
                                                                 .zu = duals ? P->zu : NULL},
                                            NULL),
                         FOLD_OK);
        st = fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info);
        snprintf(what, sizeof what, "%s n = %ld, import %s multipliers", general ? "QP" : "box QP",
                 (long)n, duals ? "with" : "without");
        ck_assert_msg(st == FOLD_OK, "%s: %s: %s", what, fold_status_name(st), fold_last_error());
        ck_assert_int_eq(info.n_candidates, 0);
        check_vjp(sv, st, pbar, ref, n, what);
        fold_solver_free(sv);
    }
    free(xbar);
    free(ref);
    free(pbar);
    qp_free(P);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fold_qp");
    /* n <= 300 apart from the larger cases, so that a memory check can run the small ones
     * alone (CK_RUN_CASE=qp; doc/testing.md); the indices keep each case's seeds */
    TCase *tc = tcase_create("qp"), *large = tcase_create("qp_large");
    tcase_set_timeout(tc, 300);
    tcase_set_timeout(large, 300);
    tcase_add_loop_test(tc, qp_default_and_imports, 0, 2);
    tcase_add_loop_test(tc, qp_default_and_imports, 4, 6);
    tcase_add_loop_test(large, qp_default_and_imports, 2, 4);
    tcase_add_loop_test(large, qp_default_and_imports, 6, 7);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, large);
    return fold_test_run(s);
}
