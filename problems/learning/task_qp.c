/* Nonconvex decision-focused QP: min 1/2 y'Qy + p' sin(y) s.t. Ay = b, Gy <= h, with p
 * predicted from features; loss = f(y*(p_hat); p_true) (doc/learning.md §4.1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learning/tasks.h"

typedef struct qp_data {
    fold_int n, m_eq, m_in;
    double *Q;  /* diagonal (n) */
    double *AG; /* [A; G] row-major, (m_eq + m_in) x n */
    double *y0; /* known feasible point, the start of every solve */
    fold_int *jrow, *jcol, *diag, *none;
    double *gl, *gu;
    learn_nlp_layer layer;
} qp_data;

static void qp_free(void *data)
{
    qp_data *d = data;
    if (!d) return;
    learn_nlp_layer_free(&d->layer);
    free(d->Q);
    free(d->AG);
    free(d->y0);
    free(d->jrow);
    free(d->jcol);
    free(d->diag);
    free(d->none);
    free(d->gl);
    free(d->gu);
    free(d);
}

static int cb_f(const double *y, const double *p, double *obj, void *ud)
{
    const qp_data *d = ud;
    double v = 0;
    for (fold_int j = 0; j < d->n; j++)
        v += 0.5 * d->Q[j] * y[j] * y[j] + p[j] * sin(y[j]);
    *obj = v;
    return 0;
}

static int cb_grad_f(const double *y, const double *p, double *g, void *ud)
{
    const qp_data *d = ud;
    for (fold_int j = 0; j < d->n; j++)
        g[j] = d->Q[j] * y[j] + p[j] * cos(y[j]);
    return 0;
}

static int cb_g(const double *y, const double *p, double *g, void *ud)
{
    const qp_data *d = ud;
    for (fold_int i = 0; i < d->m_eq + d->m_in; i++) {
        double s = 0;
        for (fold_int j = 0; j < d->n; j++)
            s += d->AG[i * d->n + j] * y[j];
        g[i] = s;
    }
    return 0;
}

static int cb_jac_g(const double *y, const double *p, double *v, void *ud)
{
    const qp_data *d = ud;
    memcpy(v, d->AG, (size_t)((d->m_eq + d->m_in) * d->n) * sizeof *v);
    return 0;
}

static int cb_hess_l(const double *y, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    const qp_data *d = ud;
    for (fold_int j = 0; j < d->n; j++)
        v[j] = s * (d->Q[j] - p[j] * sin(y[j]));
    return 0;
}

static int cb_grad_f_p(const double *y, const double *p, double *gp, void *ud)
{
    const qp_data *d = ud;
    for (fold_int j = 0; j < d->n; j++)
        gp[j] = sin(y[j]);
    return 0;
}

/* d(grad_y f)/dp = diag(cos y). */
static int cb_hess_lp(const double *y, const double *p, const double *lam, double *v, void *ud)
{
    const qp_data *d = ud;
    for (fold_int j = 0; j < d->n; j++)
        v[j] = cos(y[j]);
    return 0;
}

static int cb_jac_g_p(const double *y, const double *p, double *v, void *ud)
{
    return 0;
}

static fold_status qp_forward(learn_task *t, fold_int i, const double *q, double *y)
{
    qp_data *d = t->data;
    sync_layer(t, &d->layer);
    return learn_nlp_layer_forward(&d->layer, i, q, y);
}

/* direct: the KKT fold (fold_vjp); lfpi, gmres, unroll: the SQP step (sqp_step.c). */
static fold_status qp_vjp(learn_task *t, fold_int i, const double *ybar, double *qbar)
{
    qp_data *d = t->data;
    sync_layer(t, &d->layer);
    return learn_nlp_layer_vjp(&d->layer, i, ybar, qbar, &t->backward_iterations,
                               &t->backward_bytes);
}

/* KKT pieces of the SQP step (4.1a): Lagrangian 1/2 y'Qy + p' sin y + lam'([A; G]y - bound)
 * on the active rows; H = diag(Q - p o sin y), J = the active rows, d r / dp = diag(cos y). */
static int qp_eval(const learn_sqp_def *s, const double *y, const double *lam, const double *p,
                   double *r, double *g, double *H, double *J, double *cp)
{
    const qp_data *d = s->user_data;
    fold_int n = d->n, nf = s->nf;
    for (fold_int i = 0; i < nf; i++) {
        fold_int j = s->free_idx[i];
        if (r) {
            r[i] = d->Q[j] * y[j] + p[j] * cos(y[j]);
            for (fold_int a = 0; a < s->na; a++)
                r[i] += lam[a] * d->AG[s->act[a] * n + j];
        }
        if (H) {
            memset(H + i * nf, 0, (size_t)nf * sizeof *H);
            H[i * nf + i] = d->Q[j] - p[j] * sin(y[j]);
        }
        if (J)
            for (fold_int a = 0; a < s->na; a++)
                J[a * nf + i] = d->AG[s->act[a] * n + j];
        if (cp) cp[i] = cos(y[j]);
    }
    if (g)
        for (fold_int a = 0; a < s->na; a++) {
            fold_int row = s->act[a];
            double v = 0;
            for (fold_int j = 0; j < n; j++)
                v += d->AG[row * n + j] * y[j];
            /* equality rows: gl = gu; G rows are bounded above only */
            g[a] = v - d->gu[row];
        }
    return 0;
}

/* The true objective at the decision; its gradient Q y + p_true cos(y) is the upstream xbar. */
static double qp_loss(learn_task *t, fold_int i, const double *y, double *ybar)
{
    const qp_data *d = t->data;
    const double *p = t->target + i * t->n_q;
    double v = 0;
    for (fold_int j = 0; j < d->n; j++) {
        v += 0.5 * d->Q[j] * y[j] * y[j] + p[j] * sin(y[j]);
        if (ybar) ybar[j] = d->Q[j] * y[j] + p[j] * cos(y[j]);
    }
    return v;
}

static double qp_metric(learn_task *t, fold_int i, const double *y)
{
    return qp_loss(t, i, y, NULL);
}

static const learn_task_ops qp_ops = {qp_forward, qp_vjp, qp_loss, qp_metric, qp_free};

/* A, G Gaussian / sqrt(n); G = [G1; -G1] (two-sided rows), h = G y0 + slack for a known y0
 * with A y0 = b. True p = ((B z)/sqrt(d) + 3)^deg / 3^deg times (1 + noise U[-1,1]). */
fold_status learn_qp_create(const learn_config *c, learn_task *t)
{
    qp_data *d = calloc(1, sizeof *d);
    fold_int n = c->size, me = c->n_eq, mi = c->n_ineq, m = me + mi, nf = c->n_feat;
    fold_int ns = c->n_train + c->n_test;
    double *B = NULL, *x = NULL;
    learn_rng rng;
    fold_status st;
    t->data = d;
    t->ops = &qp_ops;
    if (!d) return learn_error(FOLD_ERR_MEMORY, "learn_task_create: qp");
    d->layer.sample = -1;
    if (me < 0 || mi < 0 || me >= n)
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_task_create: qp: n_eq = %lld, n_ineq = "
                           "%lld for %lld variables",
                           (long long)me, (long long)mi, (long long)n);
    if (!isfinite(c->slack))
        return learn_error(FOLD_ERR_ARGUMENT, "learn_task_create: qp: slack = %g", c->slack);
    d->n = n;
    d->m_eq = me;
    d->m_in = mi;
    d->Q = malloc((size_t)n * sizeof(double));
    d->AG = malloc((size_t)(m * n + 1) * sizeof(double));
    d->y0 = malloc((size_t)n * sizeof(double));
    d->jrow = malloc((size_t)(m * n + 1) * sizeof(fold_int));
    d->jcol = malloc((size_t)(m * n + 1) * sizeof(fold_int));
    d->diag = malloc((size_t)n * sizeof(fold_int));
    d->none = malloc(sizeof(fold_int));
    d->gl = malloc((size_t)(m + 1) * sizeof(double));
    d->gu = malloc((size_t)(m + 1) * sizeof(double));
    t->feat = malloc((size_t)(ns * nf) * sizeof(double));
    t->target = malloc((size_t)(ns * n) * sizeof(double));
    B = malloc((size_t)(n * nf) * sizeof(double));
    x = malloc((size_t)n * sizeof(double));
    if (!d->Q || !d->AG || !d->y0 || !d->jrow || !d->jcol || !d->diag || !d->none || !d->gl ||
        !d->gu || !t->feat || !t->target || !B || !x) {
        free(B);
        free(x);
        return learn_error(FOLD_ERR_MEMORY, "learn_task_create: qp data");
    }
    t->metric_name = "loss";
    t->n_feat = nf;
    t->n_q = t->n_y = n;
    t->model_kind = LEARN_MODEL_LINEAR;
    learn_rng_seed(&rng, c->seed);
    for (fold_int j = 0; j < n; j++) {
        d->Q[j] = 0.5 + learn_uniform(&rng);
        d->y0[j] = learn_normal(&rng);
        d->diag[j] = j;
    }
    for (fold_int i = 0; i < m; i++) {
        double s = 0;
        bool mirror = i >= me + (mi + 1) / 2; /* second half of G: minus the first half */
        for (fold_int j = 0; j < n; j++) {
            double a =
                mirror ? -d->AG[(i - (mi + 1) / 2) * n + j] : learn_normal(&rng) / sqrt((double)n);
            d->AG[i * n + j] = a;
            d->jrow[i * n + j] = i;
            d->jcol[i * n + j] = j;
            s += a * d->y0[j];
        }
        d->gl[i] = i < me ? s : -FOLD_INF;
        d->gu[i] = i < me ? s : s + c->slack;
    }
    learn_synthetic_costs(&rng, n, nf, ns, c->deg, c->noise, B, t->feat, t->target);
    free(B);
    {
        fold_nlp_def def = {
            .name = "qp",
            .n = n,
            .m = m,
            .np = n,
            .g_lower = d->gl,
            .g_upper = d->gu,
            .x_start = d->y0,
            .jac_g = {m * n, d->jrow, d->jcol},
            .hess_l = {n, d->diag, d->diag},
            .jac_g_p = {0, d->none, d->none},
            .hess_lp = {n, d->diag, d->diag},
            .cb = {cb_f, cb_grad_f, cb_g, cb_jac_g, cb_hess_l, cb_grad_f_p, cb_hess_lp, cb_jac_g_p},
            .user_data = d,
        };
        st = learn_nlp_layer_init(&d->layer, &def, qp_eval, NULL, d);
        t->problem = d->layer.prob;
    }
    /* The constraints do not depend on p: one convex solve (p = 0) proves feasibility. */
    if (st == FOLD_OK) {
        double *p0 = calloc((size_t)n, sizeof *p0);
        st = p0 ? learn_nlp_layer_forward(&d->layer, -1, p0, x) : FOLD_ERR_MEMORY;
        if (st != FOLD_OK)
            st = learn_error(st,
                             "learn_task_create: qp: generated instance is infeasible or "
                             "unsolvable (slack = %g): %s",
                             c->slack, fold_last_error());
        free(p0);
    }
    free(x);
    return st;
}
