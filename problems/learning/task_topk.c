/* Multilabel top-k layer: max c'x + sum H(x_i) s.t. 0 <= x <= 1, 1'x = k, solved exactly by
 * bisection on the dual variable (x = sigmoid(c - nu)); its VJP is the closed-form
 * derivative of that fixed point, or goes through the dual gradient map (task_topk_dual.c):
 * folded (LFPI, GMRES) or unrolled (doc/learning.md §4.4). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learning/tasks.h"

typedef struct topk_data {
    fold_int n, k;
    const double *labels; /* n_total x n, 0/1: the task's targets */
    double *x, *s;        /* last forward: solution and x(1-x) */
    double *c;            /* last forward: scores */
    double nu;            /* last forward: dual variable */
    fold_int n_iter;      /* unroll: iterations of the dual gradient method in the last forward */
    fold_int sample;      /* sample of the last forward, -1 if none */
} topk_data;

static void topk_free(void *data)
{
    topk_data *d = data;
    if (!d) return;
    free(d->x);
    free(d->s);
    free(d->c);
    free(d);
}

static double sigmoid(double a)
{
    if (a >= 0) return 1.0 / (1.0 + exp(-a));
    double e = exp(a);
    return e / (1.0 + e);
}

static double excess(const double *c, fold_int n, double nu, double k)
{
    double s = 0;
    for (fold_int i = 0; i < n; i++)
        s += sigmoid(c[i] - nu);
    return s - k;
}

static fold_status finish(topk_data *d, fold_int i, double nu, double *y)
{
    d->nu = nu;
    d->sample = i;
    for (fold_int j = 0; j < d->n; j++) {
        d->x[j] = sigmoid(d->c[j] - nu);
        d->s[j] = d->x[j] * (1 - d->x[j]);
        y[j] = d->x[j];
    }
    return FOLD_OK;
}

/* sum sigmoid(c - nu) decreases from n to 0, so the root in nu is bracketed by
 * [min c - 50, max c + 50]; bisection to machine precision, then Newton polish (4.12). */
static fold_status topk_forward(learn_task *t, fold_int i, const double *c, double *y)
{
    topk_data *d = t->data;
    double lo = HUGE_VAL, hi = -HUGE_VAL, nu, k = (double)d->k;
    for (fold_int j = 0; j < d->n; j++) {
        if (!isfinite(c[j]))
            return learn_error(FOLD_ERR_NONFINITE, "topk forward: sample %lld: score[%lld] = %g",
                               (long long)i, (long long)j, c[j]);
        lo = c[j] < lo ? c[j] : lo;
        hi = c[j] > hi ? c[j] : hi;
    }
    d->sample = -1;
    memcpy(d->c, c, (size_t)d->n * sizeof *c);
    if (t->backward == LEARN_BACKWARD_UNROLL) {
        /* the unrolled layer is the dual gradient method itself, from the fixed start */
        bool fixed = t->unroll_iters > 0;
        fold_status st = learn_topk_dual_solve(
            c, d->n, d->k, fixed ? t->unroll_iters : LEARN_TOPK_MAX_ITER, fixed, &nu, &d->n_iter);
        if (st != FOLD_OK)
            return learn_error(st, "topk forward: sample %lld: %s", (long long)i,
                               fold_last_error());
        return finish(d, i, nu, y);
    }
    lo -= 50;
    hi += 50;
    for (int it = 0; it < 200 && hi - lo > 1e-15 * (1 + fabs(lo) + fabs(hi)); it++) {
        double mid = 0.5 * (lo + hi);
        if (excess(c, d->n, mid, k) > 0)
            lo = mid;
        else
            hi = mid;
    }
    nu = 0.5 * (lo + hi);
    for (int it = 0; it < 3; it++) {
        double f = 0, fp = 0;
        for (fold_int j = 0; j < d->n; j++) {
            double x = sigmoid(c[j] - nu);
            f += x;
            fp += x * (1 - x);
        }
        if (fp <= 0) break;
        nu += (f - k) / fp;
    }
    return finish(d, i, nu, y);
}

/* dx = S (dc - 1 dnu), 1'dx = 0  =>  cbar = S xbar - s (s'xbar) / (1's)   (4.13).
 * Through the dual map: cbar = S xbar + (dnu/dc)' nubar, nubar = -s'xbar   (4.14). */
static fold_status topk_vjp(learn_task *t, fold_int i, const double *ybar, double *qbar)
{
    topk_data *d = t->data;
    double ss = 0, sy = 0;
    t->backward_iterations = 0;
    t->backward_bytes = 0;
    if (d->sample != i)
        return learn_error(FOLD_ERR_NOT_SOLVED,
                           "topk vjp: sample %lld is not the last solved "
                           "one",
                           (long long)i);
    for (fold_int j = 0; j < d->n; j++) {
        ss += d->s[j];
        sy += d->s[j] * ybar[j];
    }
    if (t->backward != LEARN_BACKWARD_DIRECT) {
        fold_status st = learn_topk_dual_vjp(d->c, d->n, d->k, d->nu, t->backward, d->n_iter, -sy,
                                             qbar, &t->backward_iterations, &t->backward_bytes);
        if (st != FOLD_OK)
            return learn_error(st, "topk vjp: sample %lld: %s", (long long)i, fold_last_error());
        for (fold_int j = 0; j < d->n; j++)
            qbar[j] += d->s[j] * ybar[j];
        return FOLD_OK;
    }
    if (!(ss > 0))
        return learn_error(FOLD_ERR_SINGULAR,
                           "topk vjp: sample %lld: saturated solution "
                           "(sum x(1-x) = %g)",
                           (long long)i, ss);
    for (fold_int j = 0; j < d->n; j++)
        qbar[j] = d->s[j] * (ybar[j] - sy / ss);
    return FOLD_OK;
}

/* Binary cross-entropy of the soft top-k against the labels, mean over labels. */
static double topk_loss(learn_task *t, fold_int i, const double *y, double *ybar)
{
    topk_data *d = t->data;
    const double *l = d->labels + i * d->n;
    double sum = 0;
    for (fold_int j = 0; j < d->n; j++) {
        double x = fmin(fmax(y[j], 1e-12), 1 - 1e-12);
        sum -= l[j] * log(x) + (1 - l[j]) * log(1 - x);
        if (ybar) ybar[j] = (-l[j] / x + (1 - l[j]) / (1 - x)) / (double)d->n;
    }
    return sum / (double)d->n;
}

static double topk_metric(learn_task *t, fold_int i, const double *y)
{
    return topk_loss(t, i, y, NULL);
}

static const learn_task_ops topk_ops = {topk_forward, topk_vjp, topk_loss, topk_metric, topk_free};

/* Features z ~ N(0, I); true scores s = (B z / sqrt(d))^deg + noise (odd deg keeps the sign);
 * labels = the k largest true scores. Targets for the two-stage baseline are the labels. */
fold_status learn_topk_create(const learn_config *c, learn_task *t)
{
    topk_data *d = calloc(1, sizeof *d);
    fold_int n = c->size, nf = c->n_feat, ns = c->n_train + c->n_test;
    double *B = malloc((size_t)(n * nf) * sizeof *B), *s = malloc((size_t)n * sizeof *s);
    learn_rng rng;
    t->data = d;
    t->ops = &topk_ops;
    if (!d || !B || !s) {
        free(B);
        free(s);
        return learn_error(FOLD_ERR_MEMORY, "learn_task_create: topk");
    }
    if (c->k < 1 || c->k >= n) {
        free(B);
        free(s);
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_task_create: topk: k = %lld outside "
                           "[1, %lld)",
                           (long long)c->k, (long long)n);
    }
    d->n = n;
    d->k = c->k;
    t->target = calloc((size_t)(ns * n), sizeof(double));
    d->labels = t->target;
    d->x = malloc((size_t)n * sizeof(double));
    d->s = malloc((size_t)n * sizeof(double));
    d->c = malloc((size_t)n * sizeof(double));
    d->sample = -1;
    t->feat = malloc((size_t)(ns * nf) * sizeof(double));
    if (!t->target || !d->x || !d->s || !d->c || !t->feat) {
        free(B);
        free(s);
        return learn_error(FOLD_ERR_MEMORY, "learn_task_create: topk data");
    }
    t->metric_name = "loss";
    t->n_feat = nf;
    t->n_q = t->n_y = n;
    t->model_kind = LEARN_MODEL_LINEAR;
    learn_rng_seed(&rng, c->seed);
    for (fold_int j = 0; j < n * nf; j++)
        B[j] = learn_normal(&rng);
    for (fold_int i = 0; i < ns; i++) {
        double *z = t->feat + i * nf;
        for (fold_int j = 0; j < nf; j++)
            z[j] = learn_normal(&rng);
        for (fold_int r = 0; r < n; r++) {
            double a = 0;
            for (fold_int j = 0; j < nf; j++)
                a += B[r * nf + j] * z[j];
            s[r] = pow(a / sqrt((double)nf), c->deg) + c->noise * learn_normal(&rng);
        }
        for (fold_int kk = 0; kk < c->k; kk++) {
            fold_int best = -1;
            for (fold_int r = 0; r < n; r++)
                if (t->target[i * n + r] == 0 && (best < 0 || s[r] > s[best])) best = r;
            t->target[i * n + best] = 1;
        }
    }
    free(B);
    free(s);
    return FOLD_OK;
}
