/* Direct CSC assembly of the KKT matrix (src/fold/kkt_assemble.c, doc/math.md §4.1): the
 * same random problem with its sparsity patterns given in row-major, column-major, reversed
 * and shuffled order must give the identical matrix K and the same derivatives; the two
 * lexicographic orders take the presorted path (no column sorted), the others are sorted. */
#include "fold/fold_internal.h"
#include "fold_test_util.h"

enum { ORD_ROW, ORD_COL, ORD_REVERSE, ORD_SHUFFLE, N_ORD };

/* A problem that forwards to an inner one with every pattern permuted: entry k of the outer
 * pattern is entry perm[k] of the inner one. */
typedef struct wrap {
    const fold_problem *in;
    fold_int *perm[4]; /* jac_g, hess_l, jac_g_p, hess_lp */
    double *buf;
} wrap;

static void permute(const wrap *w, int which, fold_int nnz, double *v)
{
    for (fold_int k = 0; k < nnz; k++)
        v[k] = w->buf[w->perm[which][k]];
}

static int w_f(const double *x, const double *p, double *o, void *ud)
{
    const wrap *w = ud;
    return w->in->cb.f(x, p, o, w->in->user_data);
}

static int w_grad_f(const double *x, const double *p, double *g, void *ud)
{
    const wrap *w = ud;
    return w->in->cb.grad_f(x, p, g, w->in->user_data);
}

static int w_g(const double *x, const double *p, double *g, void *ud)
{
    const wrap *w = ud;
    return w->in->cb.g(x, p, g, w->in->user_data);
}

static int w_grad_f_p(const double *x, const double *p, double *g, void *ud)
{
    const wrap *w = ud;
    return w->in->cb.grad_f_p(x, p, g, w->in->user_data);
}

static int w_jac_g(const double *x, const double *p, double *v, void *ud)
{
    const wrap *w = ud;
    int rc = w->in->cb.jac_g(x, p, w->buf, w->in->user_data);
    permute(w, 0, w->in->jac_g.nnz, v);
    return rc;
}

static int w_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                    void *ud)
{
    const wrap *w = ud;
    int rc = w->in->cb.hess_l(x, p, s, lam, w->buf, w->in->user_data);
    permute(w, 1, w->in->hess_l.nnz, v);
    return rc;
}

static int w_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    const wrap *w = ud;
    int rc = w->in->cb.jac_g_p(x, p, w->buf, w->in->user_data);
    permute(w, 2, w->in->jac_g_p.nnz, v);
    return rc;
}

static int w_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    const wrap *w = ud;
    int rc = w->in->cb.hess_lp(x, p, lam, w->buf, w->in->user_data);
    permute(w, 3, w->in->hess_lp.nnz, v);
    return rc;
}

static const fold_owned_pattern *pattern_of(const fold_problem *in, int which)
{
    return which == 0   ? &in->jac_g
           : which == 1 ? &in->hess_l
           : which == 2 ? &in->jac_g_p
                        : &in->hess_lp;
}

static const fold_owned_pattern *sort_pat; /* for the qsort comparators */

static int cmp_row(const void *a, const void *b)
{
    fold_int x = *(const fold_int *)a, y = *(const fold_int *)b;
    const fold_owned_pattern *P = sort_pat;
    if (P->row[x] != P->row[y]) return P->row[x] < P->row[y] ? -1 : 1;
    return P->col[x] < P->col[y] ? -1 : P->col[x] > P->col[y];
}

static int cmp_col(const void *a, const void *b)
{
    fold_int x = *(const fold_int *)a, y = *(const fold_int *)b;
    const fold_owned_pattern *P = sort_pat;
    if (P->col[x] != P->col[y]) return P->col[x] < P->col[y] ? -1 : 1;
    return P->row[x] < P->row[y] ? -1 : P->row[x] > P->row[y];
}

/* The permuted problem; *rows / *cols receive the pattern arrays to free. */
static fold_problem *make_wrapped(const fold_problem *in, int order, wrap *w, fold_int **arr)
{
    fold_test_rng rng;
    fold_owned_pattern out[4];
    fold_problem *prob = NULL;
    fold_int maxnnz = 1;
    fold_test_rng_seed(&rng, 77 + (unsigned)order);
    w->in = in;
    for (int which = 0; which < 4; which++) {
        const fold_owned_pattern *P = pattern_of(in, which);
        fold_int nnz = P->nnz, *perm = calloc((size_t)nnz + 1, sizeof *perm);
        for (fold_int k = 0; k < nnz; k++)
            perm[k] = k;
        sort_pat = P;
        if (order == ORD_ROW || order == ORD_REVERSE)
            qsort(perm, (size_t)nnz, sizeof *perm, cmp_row);
        else if (order == ORD_COL)
            qsort(perm, (size_t)nnz, sizeof *perm, cmp_col);
        if (order == ORD_REVERSE)
            for (fold_int k = 0; k < nnz / 2; k++) {
                fold_int t = perm[k];
                perm[k] = perm[nnz - 1 - k];
                perm[nnz - 1 - k] = t;
            }
        if (order == ORD_SHUFFLE)
            for (fold_int k = nnz - 1; k > 0; k--) {
                fold_int j = (fold_int)(fold_test_uniform(&rng) * (double)(k + 1)), t;
                if (j > k) j = k;
                t = perm[k], perm[k] = perm[j], perm[j] = t;
            }
        w->perm[which] = perm;
        arr[2 * which] = calloc((size_t)nnz + 1, sizeof(fold_int));
        arr[2 * which + 1] = calloc((size_t)nnz + 1, sizeof(fold_int));
        for (fold_int k = 0; k < nnz; k++) {
            arr[2 * which][k] = P->row[perm[k]];
            arr[2 * which + 1][k] = P->col[perm[k]];
        }
        out[which] = (fold_owned_pattern){nnz, arr[2 * which], arr[2 * which + 1]};
        if (nnz > maxnnz) maxnnz = nnz;
    }
    w->buf = calloc((size_t)maxnnz, sizeof(double));
    fold_nlp_def def = {
        .name = "permuted",
        .n = in->n,
        .m = in->m,
        .np = in->np,
        .x_lower = in->x_lower,
        .x_upper = in->x_upper,
        .g_lower = in->g_lower,
        .g_upper = in->g_upper,
        .p_default = in->p_default,
        .jac_g = {out[0].nnz, out[0].row, out[0].col},
        .hess_l = {out[1].nnz, out[1].row, out[1].col},
        .jac_g_p = {out[2].nnz, out[2].row, out[2].col},
        .hess_lp = {out[3].nnz, out[3].row, out[3].col},
        .cb = {w_f, w_grad_f, w_g, w_jac_g, w_hess_l, w_grad_f_p, w_hess_lp, w_jac_g_p},
        .user_data = w};
    ck_assert_status(fold_problem_create(&def, &prob), FOLD_OK);
    return prob;
}

static void free_wrapped(fold_problem *prob, wrap *w, fold_int **arr)
{
    fold_problem_free(prob);
    for (int k = 0; k < 4; k++)
        free(w->perm[k]);
    for (int k = 0; k < 8; k++)
        free(arr[k]);
    free(w->buf);
}

/* Every order: identical K (pattern and values, a column is never summed), derivatives
 * equal to rounding, sorted columns only for the non-lexicographic orders. */
START_TEST(orders_agree)
{
    int form = _i % 2, seed = _i / 2;
    fold_rp_options o = {.n = 50 + 5 * seed, .m = 8 + seed % 3, .np = 4, .nonlinear = seed % 2};
    fold_rp *rp = NULL;
    fold_settings s = fold_test_tight_settings();
    fold_test_rng rng;
    const cholmod_sparse *K0 = NULL;
    double *pbar[N_ORD], *dx[N_ORD], *xbar, *dp;
    fold_solver *sv[N_ORD];
    fold_problem *pw[N_ORD];
    wrap w[N_ORD];
    fold_int *arr[N_ORD][8], maxcol = 0;
    const double *p0, *x, *lam, *zl, *zu;
    s.backward.kkt_form = form;
    ck_assert_status(fold_rp_create(1000 + (unsigned)seed, &o, &rp), FOLD_OK);
    fold_rp_solution(rp, &p0, &x, &lam, &zl, &zu);
    fold_test_rng_seed(&rng, 5 + (unsigned)seed);
    xbar = calloc((size_t)o.n, sizeof *xbar);
    dp = calloc((size_t)o.np, sizeof *dp);
    fold_test_fill_normal(&rng, xbar, o.n);
    fold_test_fill_normal(&rng, dp, o.np);
    for (int ord = 0; ord < N_ORD; ord++) {
        fold_kkt *kkt;
        pw[ord] = make_wrapped(fold_rp_problem(rp), ord, &w[ord], arr[ord]);
        ck_assert_status(fold_solver_create(pw[ord], &s, &sv[ord]), FOLD_OK);
        fold_solver_store(sv[ord], p0, x, lam, zl, zu, fold_rp_objective(rp, x, p0), true);
        pbar[ord] = calloc((size_t)o.np, sizeof(double));
        dx[ord] = calloc((size_t)o.n, sizeof(double));
        ck_assert_status(fold_vjp(sv[ord], &(fold_zbar){.x = xbar}, pbar[ord], NULL), FOLD_OK);
        ck_assert_status(fold_jvp(sv[ord], dp, &(fold_dz){.x = dx[ord]}, NULL), FOLD_OK);
        kkt = sv[ord]->backward;
        const cholmod_sparse *K = fold_kkt_matrix(kkt);
        const fold_int *Kp = K->p, *Ki = K->i;
        const double *Kx = K->x;
        if (ord == ORD_ROW || ord == ORD_COL)
            ck_assert_int_eq(kkt->sys.n_sorted_cols, 0);
        else
            ck_assert_int_gt(kkt->sys.n_sorted_cols, 0);
        for (fold_int c = 0; c < kkt->sys.nK; c++) {
            if (Kp[c + 1] - Kp[c] > maxcol) maxcol = Kp[c + 1] - Kp[c];
            ck_assert_int_eq(Ki[kkt->sys.kdiag[c]], c); /* the diagonal is always stored */
            for (fold_int q = Kp[c] + 1; q < Kp[c + 1]; q++)
                ck_assert_int_lt(Ki[q - 1], Ki[q]);
        }
        if (ord == 0) {
            K0 = K;
            continue;
        }
        const fold_int *P0 = K0->p, *I0 = K0->i;
        ck_assert_int_eq((fold_int)K->ncol, (fold_int)K0->ncol);
        ck_assert_mem_eq(Kp, P0, (K->ncol + 1) * sizeof(fold_int));
        ck_assert_mem_eq(Ki, I0, (size_t)Kp[K->ncol] * sizeof(fold_int));
        ck_assert_mem_eq(Kx, K0->x, (size_t)Kp[K->ncol] * sizeof(double));
        ck_assert_double_le(fold_test_vec_relerr(pbar[ord], pbar[0], o.np, 1.0), 1e-12);
        ck_assert_double_le(fold_test_vec_relerr(dx[ord], dx[0], o.n, 1.0), 1e-12);
    }
    ck_assert_int_gt(maxcol, 16); /* columns long enough for the heap sort */
    for (int ord = 0; ord < N_ORD; ord++) {
        fold_solver_free(sv[ord]);
        free_wrapped(pw[ord], &w[ord], arr[ord]);
        free(pbar[ord]);
        free(dx[ord]);
    }
    free(xbar);
    free(dp);
    fold_rp_free(rp);
}
END_TEST

/* A Hessian without diagonal entries, given in reversed row order: the diagonal of K is
 * inserted in sorted position in every column. Problem (saddle point, all free):
 *   min x0 x1 + x1 x2 + x0 x2 - p0 x0 - p1 x2   s.t.  x0 + x1 + x2 = 1,
 * stationarity gives x0 = 1 - p0 + l, x1 = 1 + l, x2 = 1 - p1 + l, l = (p0 + p1 - 2) / 3. */
static int nd_f(const double *x, const double *p, double *o, void *ud)
{
    *o = x[0] * x[1] + x[1] * x[2] + x[0] * x[2] - p[0] * x[0] - p[1] * x[2];
    return 0;
}

static int nd_grad_f(const double *x, const double *p, double *g, void *ud)
{
    g[0] = x[1] + x[2] - p[0];
    g[1] = x[0] + x[2];
    g[2] = x[0] + x[1] - p[1];
    return 0;
}

static int nd_g(const double *x, const double *p, double *g, void *ud)
{
    g[0] = x[0] + x[1] + x[2];
    return 0;
}

static int nd_jac_g(const double *x, const double *p, double *v, void *ud)
{
    v[0] = v[1] = v[2] = 1;
    return 0;
}

static int nd_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    v[0] = v[1] = v[2] = s;
    return 0;
}

static int nd_grad_f_p(const double *x, const double *p, double *g, void *ud)
{
    g[0] = -x[0];
    g[1] = -x[2];
    return 0;
}

static int nd_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    v[0] = v[1] = -1;
    return 0;
}

START_TEST(no_hessian_diagonal)
{
    fold_int hr[3] = {2, 2, 1}, hc[3] = {1, 0, 0}, jr[3] = {0, 0, 0}, jc[3] = {2, 0, 1};
    fold_int lr[2] = {0, 2}, lc[2] = {0, 1};
    double gl = 1, gu = 1, p[2] = {1, 1};
    fold_nlp_def def = {.name = "no-diagonal",
                        .n = 3,
                        .m = 1,
                        .np = 2,
                        .g_lower = &gl,
                        .g_upper = &gu,
                        .jac_g = {3, jr, jc},
                        .hess_l = {3, hr, hc},
                        .hess_lp = {2, lr, lc},
                        .cb = {.f = nd_f,
                               .grad_f = nd_grad_f,
                               .g = nd_g,
                               .jac_g = nd_jac_g,
                               .hess_l = nd_hess_l,
                               .grad_f_p = nd_grad_f_p,
                               .hess_lp = nd_hess_lp}};
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_settings s = fold_test_tight_settings();
    s.backward.factorization = FOLD_FACTOR_UMFPACK; /* K is indefinite in the primal block */
    ck_assert_status(fold_problem_create(&def, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &s, &solver), FOLD_OK);
    double x[3] = {0, 1, 0}, lam = 0, z[3] = {0}, dx[3], dlam, pbar[2];
    fold_solver_store(solver, p, x, &lam, z, z, 0.0, true);
    /* dl = (dp0 + dp1) / 3, dx0 = dl - dp0, dx1 = dl, dx2 = dl - dp1. */
    double dp[2] = {1, 2}, ref[3] = {0, 1, -1};
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx, .lam = &dlam}, NULL), FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(dx, ref, 3, 1.0), 1e-14);
    ck_assert_double_le(fabs(dlam - 1.0), 1e-14);
    /* Reverse mode with xbar = e1: pbar = d x1 / dp = (1/3, 1/3). */
    double xbar[3] = {0, 1, 0};
    ck_assert_status(fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_OK);
    ck_assert_double_le(fabs(pbar[0] - 1.0 / 3) + fabs(pbar[1] - 1.0 / 3), 1e-14);
    fold_kkt *kkt = solver->backward;
    const cholmod_sparse *K = fold_kkt_matrix(kkt);
    const fold_int *Kp = K->p, *Ki = K->i;
    ck_assert_int_eq(kkt->sys.nK, 4);
    ck_assert_int_gt(kkt->sys.n_sorted_cols, 0);
    for (fold_int c = 0; c < 4; c++) {
        ck_assert_int_eq(Ki[kkt->sys.kdiag[c]], c);
        for (fold_int q = Kp[c] + 1; q < Kp[c + 1]; q++)
            ck_assert_int_lt(Ki[q - 1], Ki[q]);
    }
    ck_assert_int_eq(Kp[4], 4 + 6 + 6); /* diagonal, H in both triangles, J and J' */
    fold_solver_free(solver);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kkt_assembly");
    TCase *tc = tcase_create("orders");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, orders_agree, 0, 8);
    tcase_add_test(tc, no_hessian_diagonal);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
