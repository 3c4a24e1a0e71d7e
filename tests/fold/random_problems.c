/* Random parametric problems with a known KKT point (see random_problems.h). The solution,
 * its active set and multipliers are drawn first; bounds and the linear term are then set
 * so that the point satisfies the KKT conditions (doc/math.md eqs. 2.3-2.5), and the
 * Hessian on the free variables is made diagonally dominant (second-order sufficiency). */
#include "random_problems.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

struct fold_rp {
    int n, m, np;
    bool nl;
    double *Q, *A, *cq, *Bp, *Cq, *amp, *q0;
    char *Qm, *Am, *Bm, *Cm;
    int *kp;
    double *xl, *xu, *gl, *gu, *x, *lam, *zl, *zu, *p0, *xs;
    fold_int weak_c, weak_v;
    fold_int *hr, *hc, *jr, *jc, *gr, *gc, *lr, *lc;
    fold_int nh, nj, ngp, nlp;
    fold_problem *prob;
};

#define Q_(i, j) rp->Q[(size_t)(i) * (size_t)rp->n + (size_t)(j)]
#define A_(i, j) rp->A[(size_t)(i) * (size_t)rp->n + (size_t)(j)]
#define B_(i, k) rp->Bp[(size_t)(i) * (size_t)rp->np + (size_t)(k)]
#define C_(j, k) rp->Cq[(size_t)(j) * (size_t)rp->np + (size_t)(k)]

static int cb_f(const double *x, const double *p, double *obj, void *ud)
{
    const fold_rp *rp = ud;
    *obj = fold_rp_objective(rp, x, p);
    return 0;
}

static int cb_grad_f(const double *x, const double *p, double *g, void *ud)
{
    const fold_rp *rp = ud;
    for (int j = 0; j < rp->n; j++) {
        double v = rp->q0[j] + rp->amp[j] * p[rp->kp[j]] * cos(x[j]);
        for (int k = 0; k < rp->n; k++)
            v += Q_(j, k) * x[k];
        for (int k = 0; k < rp->np; k++)
            v += C_(j, k) * p[k];
        g[j] = v;
    }
    return 0;
}

static int cb_g(const double *x, const double *p, double *g, void *ud)
{
    const fold_rp *rp = ud;
    for (int i = 0; i < rp->m; i++) {
        double v = 0;
        for (int j = 0; j < rp->n; j++)
            if (rp->Am[i * rp->n + j]) v += A_(i, j) * x[j] + 0.5 * rp->cq[i] * x[j] * x[j];
        for (int k = 0; k < rp->np; k++)
            v -= B_(i, k) * p[k];
        g[i] = v;
    }
    return 0;
}

static int cb_jac_g(const double *x, const double *p, double *v, void *ud)
{
    const fold_rp *rp = ud;
    for (fold_int t = 0; t < rp->nj; t++)
        v[t] = A_(rp->jr[t], rp->jc[t]) + rp->cq[rp->jr[t]] * x[rp->jc[t]];
    return 0;
}

static int cb_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    const fold_rp *rp = ud;
    for (fold_int t = 0; t < rp->nh; t++) {
        fold_int r = rp->hr[t], c = rp->hc[t];
        double h = s * Q_(r, c);
        if (r == c) {
            h -= s * rp->amp[r] * p[rp->kp[r]] * sin(x[r]);
            for (int i = 0; i < rp->m; i++)
                if (rp->Am[i * rp->n + r]) h += lam[i] * rp->cq[i];
        }
        v[t] = h;
    }
    return 0;
}

static int cb_grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    const fold_rp *rp = ud;
    for (int k = 0; k < rp->np; k++) {
        double v = 0;
        for (int j = 0; j < rp->n; j++)
            v += C_(j, k) * x[j];
        gp[k] = v;
    }
    for (int j = 0; j < rp->n; j++)
        gp[rp->kp[j]] += rp->amp[j] * sin(x[j]);
    return 0;
}

static int cb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    const fold_rp *rp = ud;
    for (fold_int t = 0; t < rp->nlp; t++) {
        fold_int j = rp->lr[t], k = rp->lc[t];
        v[t] = C_(j, k) + (k == rp->kp[j] ? rp->amp[j] * cos(x[j]) : 0.0);
    }
    return 0;
}

static int cb_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    const fold_rp *rp = ud;
    for (fold_int t = 0; t < rp->ngp; t++)
        v[t] = -B_(rp->gr[t], rp->gc[t]);
    return 0;
}

double fold_rp_objective(const fold_rp *rp, const double *x, const double *p)
{
    double v = 0;
    for (int j = 0; j < rp->n; j++) {
        double qx = 0, cp = 0;
        for (int k = 0; k < rp->n; k++)
            qx += Q_(j, k) * x[k];
        for (int k = 0; k < rp->np; k++)
            cp += C_(j, k) * p[k];
        v += 0.5 * x[j] * qx + (rp->q0[j] + cp) * x[j] + rp->amp[j] * p[rp->kp[j]] * sin(x[j]);
    }
    return v;
}

void fold_rp_grad_x(const fold_rp *rp, const double *x, const double *p, double *g)
{
    cb_grad_f(x, p, g, (void *)rp);
}

void fold_rp_grad_p(const fold_rp *rp, const double *x, const double *p, double *gp)
{
    cb_grad_f_p(x, p, gp, (void *)rp);
}

void fold_rp_free(fold_rp *rp)
{
    if (!rp) return;
    fold_problem_free(rp->prob);
    void *ptrs[] = {rp->Q,  rp->A,   rp->cq, rp->Bp, rp->Cq, rp->amp, rp->q0, rp->Qm,
                    rp->Am, rp->Bm,  rp->Cm, rp->kp, rp->xl, rp->xu,  rp->gl, rp->gu,
                    rp->x,  rp->lam, rp->zl, rp->zu, rp->p0, rp->xs,  rp->hr, rp->hc,
                    rp->jr, rp->jc,  rp->gr, rp->gc, rp->lr, rp->lc};
    for (size_t k = 0; k < sizeof ptrs / sizeof ptrs[0]; k++)
        free(ptrs[k]);
    free(rp);
}

enum { ST_FREE, ST_LOWER, ST_UPPER, ST_EQ, ST_INACTIVE };

/* Triplets of a dense mask (rows x cols), optionally lower triangle only. */
static fold_int mask_triplets(const char *mask, int rows, int cols, bool lower, fold_int **r,
                              fold_int **c)
{
    fold_int cnt = 0, t = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            cnt += mask[i * cols + j] && (!lower || i >= j);
    *r = calloc((size_t)cnt + 1, sizeof(fold_int));
    *c = calloc((size_t)cnt + 1, sizeof(fold_int));
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            if (mask[i * cols + j] && (!lower || i >= j)) {
                (*r)[t] = i;
                (*c)[t++] = j;
            }
    return cnt;
}

static void draw_structure(fold_rp *rp, fold_test_rng *r, const fold_rp_options *o, int *xs,
                           int *cs)
{
    int n = rp->n, m = rp->m, np = rp->np, nfree = 0, nact = 0;
    for (int j = 0; j < n; j++) {
        double u = fold_test_uniform(r);
        xs[j] = u < 0.25 ? ST_LOWER : u < 0.4 ? ST_UPPER : ST_FREE;
        if (j < n / 2) xs[j] = ST_FREE; /* keep at least half of the variables free */
        nfree += xs[j] == ST_FREE;
    }
    for (int i = 0; i < m; i++) {
        double u = fold_test_uniform(r);
        cs[i] = u < 0.3 ? ST_EQ : u < 0.45 ? ST_LOWER : u < 0.6 ? ST_UPPER : ST_INACTIVE;
        if ((i == 0 && o->duplicate) || (i < 2 && o->combined)) cs[i] = ST_EQ;
        if (cs[i] != ST_INACTIVE && nact + 1 + (o->duplicate || o->combined ? 1 : 0) >= nfree)
            cs[i] = ST_INACTIVE;
        nact += cs[i] != ST_INACTIVE;
    }
    if (o->duplicate || o->combined) cs[m - 1] = ST_EQ;
    for (int i = 0; i < m; i++) {
        int placed = 0;
        /* At least two free variables per row keeps the active rows independent on F. */
        while (placed < 2) {
            int j = (int)(fold_test_uniform(r) * (n / 2));
            if (!rp->Am[i * n + j]) {
                rp->Am[i * n + j] = 1;
                placed++;
            }
        }
        for (int j = 0; j < n; j++)
            if (fold_test_uniform(r) < 0.3) rp->Am[i * n + j] = 1;
        for (int j = 0; j < n; j++)
            A_(i, j) = rp->Am[i * n + j] ? fold_test_normal(r) : 0.0;
        for (int k = 0; k < np; k++)
            if ((rp->Bm[i * np + k] = fold_test_uniform(r) < 0.5)) B_(i, k) = fold_test_normal(r);
        rp->cq[i] = rp->nl && fold_test_uniform(r) < 0.5 ? 0.2 * fold_test_normal(r) : 0.0;
    }
    if (o->duplicate && m >= 2) {
        memcpy(&A_(m - 1, 0), &A_(0, 0), (size_t)n * sizeof(double));
        memcpy(rp->Am + (m - 1) * n, rp->Am, (size_t)n);
        memcpy(&B_(m - 1, 0), &B_(0, 0), (size_t)np * sizeof(double));
        memcpy(rp->Bm + (m - 1) * np, rp->Bm, (size_t)np);
        rp->cq[m - 1] = rp->cq[0];
    }
    if (o->combined && m >= 3) { /* row m - 1 = row 0 + row 1 */
        for (int j = 0; j < n; j++) {
            A_(m - 1, j) = A_(0, j) + A_(1, j);
            rp->Am[(m - 1) * n + j] = rp->Am[j] || rp->Am[n + j];
        }
        for (int k = 0; k < np; k++) {
            B_(m - 1, k) = B_(0, k) + B_(1, k);
            rp->Bm[(m - 1) * np + k] = rp->Bm[k] || rp->Bm[np + k];
        }
        rp->cq[0] = rp->cq[1] = rp->cq[m - 1] = 0.0;
    }
    for (int j = 0; j < n; j++) {
        for (int k = 0; k < np; k++)
            if ((rp->Cm[j * np + k] = fold_test_uniform(r) < 0.4)) C_(j, k) = fold_test_normal(r);
        rp->kp[j] = (int)(fold_test_uniform(r) * np);
        rp->amp[j] = rp->nl && fold_test_uniform(r) < 0.5 ? 0.3 * fold_test_normal(r) : 0.0;
        if (rp->amp[j] != 0.0) rp->Cm[j * np + rp->kp[j]] = 1;
        for (int k = 0; k < j; k++)
            if (fold_test_uniform(r) < 0.3) {
                Q_(j, k) = Q_(k, j) = 0.5 * fold_test_normal(r);
                rp->Qm[j * n + k] = rp->Qm[k * n + j] = 1;
            }
        rp->Qm[j * n + j] = 1;
    }
}

static void draw_multipliers(fold_rp *rp, fold_test_rng *r, const fold_rp_options *o, int *xs,
                             int *cs)
{
    int n = rp->n, m = rp->m;
    for (int j = 0; j < n; j++) {
        rp->zl[j] = xs[j] == ST_LOWER ? 0.5 + fold_test_uniform(r) : 0.0;
        rp->zu[j] = xs[j] == ST_UPPER ? 0.5 + fold_test_uniform(r) : 0.0;
    }
    for (int i = 0; i < m; i++) {
        double u = 0.5 + fold_test_uniform(r);
        rp->lam[i] = cs[i] == ST_EQ ? fold_test_normal(r) + (fold_test_uniform(r) < 0.5 ? u : -u)
                     : cs[i] == ST_LOWER ? -u
                     : cs[i] == ST_UPPER ? u
                                         : 0.0;
    }
    if (o->duplicate && m >= 2) rp->lam[0] = rp->lam[m - 1] = 0.5 * rp->lam[0];
    if (o->weak_cons)
        for (int i = 1; i < m; i++)
            if (cs[i] == ST_INACTIVE) {
                rp->weak_c = i; /* at its lower bound, multiplier 0 */
                break;
            }
    if (o->weak_bound) rp->weak_v = n / 2 - 1; /* a free variable put at its lower bound, zl = 0 */
}

/* Diagonal of Q: diagonally dominant Hessian of the Lagrangian on the free variables;
 * negative curvature on variables held by a bound in the nonlinear case. */
static void set_diagonal(fold_rp *rp, fold_test_rng *r, const int *xs)
{
    int n = rp->n;
    for (int j = 0; j < n; j++) {
        double off = 0, extra = -rp->amp[j] * rp->p0[rp->kp[j]] * sin(rp->x[j]);
        for (int k = 0; k < n; k++)
            if (k != j) off += fabs(Q_(j, k));
        for (int i = 0; i < rp->m; i++)
            if (rp->Am[i * n + j]) extra += rp->lam[i] * rp->cq[i];
        if (rp->nl && xs[j] != ST_FREE)
            Q_(j, j) = -0.5 - fold_test_uniform(r);
        else
            Q_(j, j) = off + fabs(extra) - extra + 0.5 + fold_test_uniform(r);
    }
}

static void set_bounds(fold_rp *rp, fold_test_rng *r, const int *xs, const int *cs)
{
    int n = rp->n, m = rp->m;
    double *g = calloc((size_t)m + 1, sizeof(double));
    cb_g(rp->x, rp->p0, g, rp);
    for (int j = 0; j < n; j++) {
        double x = rp->x[j];
        double lo = x - 0.5 - fold_test_uniform(r), hi = x + 0.5 + fold_test_uniform(r);
        if (fold_test_uniform(r) < 0.3) lo = -FOLD_INF;
        if (fold_test_uniform(r) < 0.3) hi = FOLD_INF;
        if (xs[j] == ST_LOWER || j == rp->weak_v) lo = x;
        if (xs[j] == ST_UPPER) hi = x;
        rp->xl[j] = lo;
        rp->xu[j] = hi;
    }
    for (int i = 0; i < m; i++) {
        double lo = g[i] - 0.5 - fold_test_uniform(r), hi = g[i] + 0.5 + fold_test_uniform(r);
        bool drop_lo = fold_test_uniform(r) < 0.3, drop_hi = fold_test_uniform(r) < 0.3;
        if (cs[i] == ST_EQ) lo = hi = g[i];
        if (cs[i] == ST_LOWER || i == rp->weak_c) lo = g[i];
        if (cs[i] == ST_UPPER) hi = g[i];
        if (drop_lo && cs[i] != ST_EQ && cs[i] != ST_LOWER && i != rp->weak_c)
            lo = -FOLD_INF;
        else if (drop_hi && cs[i] != ST_EQ && cs[i] != ST_UPPER)
            hi = FOLD_INF;
        rp->gl[i] = lo;
        rp->gu[i] = hi;
    }
    free(g);
}

/* q0 from stationarity at (x*, lam*, zl*, zu*; p0) (eq. 2.3). */
static void set_linear_term(fold_rp *rp)
{
    int n = rp->n;
    double *gf = calloc((size_t)n, sizeof(double));
    memset(rp->q0, 0, (size_t)n * sizeof(double));
    cb_grad_f(rp->x, rp->p0, gf, rp);
    for (int j = 0; j < n; j++)
        gf[j] += -rp->zl[j] + rp->zu[j];
    for (int i = 0; i < rp->m; i++)
        for (int j = 0; j < n; j++)
            if (rp->Am[i * n + j]) gf[j] += rp->lam[i] * (A_(i, j) + rp->cq[i] * rp->x[j]);
    for (int j = 0; j < n; j++)
        rp->q0[j] = -gf[j];
    free(gf);
}

static fold_nlp_def rp_def(fold_rp *rp, bool nonlinear);

fold_status fold_rp_create(unsigned long long seed, const fold_rp_options *o, fold_rp **out)
{
    fold_rp *rp = calloc(1, sizeof *rp);
    fold_test_rng r;
    int n = o->n, m = o->m, np = o->np;
    int *xs = calloc((size_t)n, sizeof(int)), *cs = calloc((size_t)m + 1, sizeof(int));
    size_t N = (size_t)n, M = (size_t)m + 1, P = (size_t)np;
    fold_status st;
    fold_test_rng_seed(&r, seed);
    rp->n = n;
    rp->m = m;
    rp->np = np;
    rp->nl = o->nonlinear;
    rp->weak_c = rp->weak_v = -1;
    rp->Q = calloc(N * N, sizeof(double));
    rp->Qm = calloc(N * N, 1);
    rp->A = calloc(M * N, sizeof(double));
    rp->Am = calloc(M * N, 1);
    rp->Bp = calloc(M * P, sizeof(double));
    rp->Bm = calloc(M * P, 1);
    rp->Cq = calloc(N * P, sizeof(double));
    rp->Cm = calloc(N * P, 1);
    rp->cq = calloc(M, sizeof(double));
    rp->amp = calloc(N, sizeof(double));
    rp->kp = calloc(N, sizeof(int));
    rp->q0 = calloc(N, sizeof(double));
    rp->xl = calloc(N, sizeof(double));
    rp->xu = calloc(N, sizeof(double));
    rp->gl = calloc(M, sizeof(double));
    rp->gu = calloc(M, sizeof(double));
    rp->x = calloc(N, sizeof(double));
    rp->xs = calloc(N, sizeof(double));
    rp->lam = calloc(M, sizeof(double));
    rp->zl = calloc(N, sizeof(double));
    rp->zu = calloc(N, sizeof(double));
    rp->p0 = calloc(P + 1, sizeof(double));
    for (int j = 0; j < n; j++)
        rp->x[j] = fold_test_normal(&r);
    for (int k = 0; k < np; k++)
        rp->p0[k] = 0.5 * fold_test_normal(&r);
    draw_structure(rp, &r, o, xs, cs);
    draw_multipliers(rp, &r, o, xs, cs);
    set_diagonal(rp, &r, xs);
    set_bounds(rp, &r, xs, cs);
    set_linear_term(rp);
    memcpy(rp->xs, rp->x, N * sizeof(double));
    rp->nh = mask_triplets(rp->Qm, n, n, true, &rp->hr, &rp->hc);
    rp->nj = mask_triplets(rp->Am, m, n, false, &rp->jr, &rp->jc);
    rp->ngp = mask_triplets(rp->Bm, m, np, false, &rp->gr, &rp->gc);
    rp->nlp = mask_triplets(rp->Cm, n, np, false, &rp->lr, &rp->lc);
    fold_nlp_def def = rp_def(rp, o->nonlinear);
    free(xs);
    free(cs);
    if ((st = fold_problem_create(&def, &rp->prob)) != FOLD_OK) {
        fold_rp_free(rp);
        return st;
    }
    *out = rp;
    return FOLD_OK;
}

/* H v and L_xp v (L_xp' v) from the values of the pattern callbacks: the same problem given
 * by products. */
static int cb_hess_l_v(const double *x, const double *p, double s, const double *lam,
                       const double *v, double *out, void *ud)
{
    fold_rp *rp = ud;
    double *val = malloc((size_t)(rp->nh + 1) * sizeof *val);
    int rc = cb_hess_l(x, p, s, lam, val, ud);
    memset(out, 0, (size_t)rp->n * sizeof *out);
    for (fold_int k = 0; k < rp->nh && rc == 0; k++) {
        out[rp->hr[k]] += val[k] * v[rp->hc[k]];
        if (rp->hr[k] != rp->hc[k]) out[rp->hc[k]] += val[k] * v[rp->hr[k]];
    }
    free(val);
    return rc;
}

static int cb_hess_lp_v(const double *x, const double *p, const double *lam, int transpose,
                        const double *v, double *out, void *ud)
{
    fold_rp *rp = ud;
    double *val = malloc((size_t)(rp->nlp + 1) * sizeof *val);
    int rc = cb_hess_lp(x, p, lam, val, ud);
    memset(out, 0, (size_t)(transpose ? rp->np : rp->n) * sizeof *out);
    for (fold_int k = 0; k < rp->nlp && rc == 0; k++) {
        if (transpose)
            out[rp->lc[k]] += val[k] * v[rp->lr[k]];
        else
            out[rp->lr[k]] += val[k] * v[rp->lc[k]];
    }
    free(val);
    return rc;
}

fold_status fold_rp_products(const fold_rp *rp, bool hess_products, bool lp_products,
                             fold_problem **out)
{
    fold_nlp_def def = rp_def((fold_rp *)rp, rp->nl);
    if (hess_products) {
        def.hess_form = FOLD_HESS_PRODUCT;
        def.hess_l = (fold_pattern){0, NULL, NULL};
        def.cb.hess_l = NULL;
        def.hess_l_v = cb_hess_l_v;
    }
    if (lp_products) {
        def.hess_lp = (fold_pattern){0, NULL, NULL};
        def.cb.hess_lp = NULL;
        def.hess_lp_v = cb_hess_lp_v;
    }
    return fold_problem_create(&def, out);
}

static fold_nlp_def rp_def(fold_rp *rp, bool nonlinear)
{
    fold_nlp_def def = {
        .name = nonlinear ? "random-nlp" : "random-qp",
        .n = rp->n,
        .m = rp->m,
        .np = rp->np,
        .x_lower = rp->xl,
        .x_upper = rp->xu,
        .g_lower = rp->gl,
        .g_upper = rp->gu,
        .x_start = rp->xs,
        .p_default = rp->p0,
        .jac_g = {rp->nj, rp->jr, rp->jc},
        .hess_l = {rp->nh, rp->hr, rp->hc},
        .jac_g_p = {rp->ngp, rp->gr, rp->gc},
        .hess_lp = {rp->nlp, rp->lr, rp->lc},
        .cb = {cb_f, cb_grad_f, cb_g, cb_jac_g, cb_hess_l, cb_grad_f_p, cb_hess_lp, cb_jac_g_p},
        .user_data = rp,
    };
    return def;
}

const fold_problem *fold_rp_problem(const fold_rp *rp)
{
    return rp->prob;
}

void fold_rp_solution(const fold_rp *rp, const double **p0, const double **x, const double **lam,
                      const double **zl, const double **zu)
{
    if (p0) *p0 = rp->p0;
    if (x) *x = rp->x;
    if (lam) *lam = rp->lam;
    if (zl) *zl = rp->zl;
    if (zu) *zu = rp->zu;
}

fold_int fold_rp_weak_constraint(const fold_rp *rp)
{
    return rp->weak_c;
}

fold_int fold_rp_weak_variable(const fold_rp *rp)
{
    return rp->weak_v;
}
