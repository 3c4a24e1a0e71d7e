/* The training loop: mini-batch Adam or SGD through each layer's forward and VJP, failures
 * excluded per sample; evaluation; the two-stage least-squares baseline (doc/learning.md §3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learning/learning.h"

void learn_options_default(learn_options *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 10;
    o->batch = 16;
    o->lr = 0.05;
    o->optimizer = LEARN_OPT_ADAM;
    o->model_kind = -1;
    o->n_hidden = 32;
    o->seed = 1;
}

void learn_result_free(learn_result *r)
{
    if (!r) return;
    free(r->history);
    r->history = NULL;
}

/* Buffers for one sample: q, qbar (n_q), y, ybar (n_y), hidden activations. */
typedef struct sample_work {
    double *q, *qbar, *y, *ybar, *hidden;
} sample_work;

static void work_free(sample_work *w)
{
    free(w->q);
    free(w->qbar);
    free(w->y);
    free(w->ybar);
    free(w->hidden);
}

static fold_status work_alloc(const learn_task *t, const learn_model *m, sample_work *w)
{
    w->q = malloc((size_t)t->n_q * sizeof(double));
    w->qbar = malloc((size_t)t->n_q * sizeof(double));
    w->y = malloc((size_t)t->n_y * sizeof(double));
    w->ybar = malloc((size_t)t->n_y * sizeof(double));
    w->hidden = malloc((size_t)(m->n_hidden + 1) * sizeof(double));
    if (!w->q || !w->qbar || !w->y || !w->ybar || !w->hidden) {
        work_free(w);
        return learn_error(FOLD_ERR_MEMORY, "learn: sample buffers");
    }
    return FOLD_OK;
}

static const double *features(const learn_task *t, fold_int i)
{
    return t->feat ? t->feat + i * t->n_feat : NULL;
}

/* Mean loss (use_metric false) or test figure over [first, first+count). */
static fold_status eval_range(learn_task *t, const learn_model *m, fold_int first, fold_int count,
                              bool use_metric, double *mean, fold_int *n_failed)
{
    sample_work w;
    fold_status st = work_alloc(t, m, &w);
    double sum = 0;
    fold_int n_ok = 0, n_bad = 0;
    if (st != FOLD_OK) return st;
    for (fold_int i = first; i < first + count; i++) {
        learn_model_forward(m, features(t, i), w.q, w.hidden);
        if (t->ops->forward(t, i, w.q, w.y) < 0) {
            n_bad++;
            continue;
        }
        sum += use_metric ? t->ops->metric(t, i, w.y) : t->ops->loss(t, i, w.y, NULL);
        n_ok++;
    }
    work_free(&w);
    if (n_failed) *n_failed = n_bad;
    if (n_ok == 0)
        return learn_error(FOLD_ERR_FORWARD_FAILED, "learn_evaluate: all %lld samples failed",
                           (long long)count);
    *mean = sum / (double)n_ok;
    return FOLD_OK;
}

fold_status learn_evaluate(learn_task *t, const learn_model *m, fold_int first, fold_int count,
                           double *mean, fold_int *n_failed)
{
    fold_clear_error();
    if (!t || !m || !mean) return learn_error(FOLD_ERR_ARGUMENT, "learn_evaluate: NULL argument");
    if (first < 0 || count < 1 || first + count > t->n_train + t->n_test)
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_evaluate: samples [%lld, %lld) outside "
                           "[0, %lld)",
                           (long long)first, (long long)(first + count),
                           (long long)(t->n_train + t->n_test));
    return eval_range(t, m, first, count, true, mean, n_failed);
}

/* Least squares q ~ W z + b on the training targets: normal equations of the augmented
 * features [z, 1] with a tiny ridge, one right-hand side per output. */
static fold_status fit_least_squares(const learn_task *t, learn_model *m)
{
    fold_int d = t->n_feat + 1, nq = t->n_q;
    double *A = calloc((size_t)(d * d), sizeof *A), *B = calloc((size_t)(d * nq), sizeof *B);
    fold_status st;
    if (!A || !B) {
        free(A);
        free(B);
        return learn_error(FOLD_ERR_MEMORY, "learn_two_stage: normal equations");
    }
    for (fold_int s = 0; s < t->n_train; s++) {
        const double *z = features(t, s), *q = t->target + s * nq;
        bool finite = true;
        for (fold_int a = 0; a < d - 1; a++)
            finite = finite && isfinite(z[a]);
        for (fold_int k = 0; k < nq; k++)
            finite = finite && isfinite(q[k]);
        if (!finite) continue; /* a corrupt sample is left out of the fit, as from training */
        for (fold_int a = 0; a < d; a++) {
            double za = a < d - 1 ? z[a] : 1.0;
            for (fold_int b = 0; b < d; b++)
                A[a * d + b] += za * (b < d - 1 ? z[b] : 1.0);
            for (fold_int k = 0; k < nq; k++)
                B[k * d + a] += za * q[k];
        }
    }
    for (fold_int a = 0; a < d; a++)
        A[a * d + a] += 1e-8 * (double)t->n_train;
    st = learn_chol_solve(A, d, B, nq);
    if (st == FOLD_OK)
        for (fold_int k = 0; k < nq; k++) {
            for (fold_int a = 0; a < d - 1; a++)
                m->w[k * (d - 1) + a] = B[k * d + a];
            m->w[nq * (d - 1) + k] = B[k * d + d - 1];
        }
    free(A);
    free(B);
    return st;
}

fold_status learn_two_stage(learn_task *t, double *metric)
{
    fold_clear_error();
    learn_model *m = NULL;
    fold_status st;
    if (!t || !metric) return learn_error(FOLD_ERR_ARGUMENT, "learn_two_stage: NULL argument");
    if (t->target) {
        if ((st = learn_model_create(LEARN_MODEL_LINEAR, t->n_feat, 0, t->n_q, NULL, &m)))
            return st;
        st = fit_least_squares(t, m);
    } else if (t->q_baseline) {
        if ((st = learn_model_create(LEARN_MODEL_CONST, 0, 0, t->n_q, NULL, &m))) return st;
        memcpy(m->w, t->q_baseline, (size_t)t->n_q * sizeof(double));
    } else {
        return learn_error(FOLD_ERR_UNSUPPORTED, "learn_two_stage: task '%s' has no targets",
                           t->name);
    }
    if (st == FOLD_OK) st = eval_range(t, m, t->n_train, t->n_test, true, metric, NULL);
    learn_model_free(m);
    return st;
}

typedef struct adam_state {
    double *m1, *m2;
    long step;
} adam_state;

static void optimizer_step(const learn_options *o, adam_state *a, double *w, const double *g,
                           fold_int n)
{
    if (o->optimizer == LEARN_OPT_SGD) {
        for (fold_int i = 0; i < n; i++)
            w[i] -= o->lr * g[i];
        return;
    }
    const double b1 = 0.9, b2 = 0.999;
    a->step++;
    double c1 = 1.0 - pow(b1, (double)a->step), c2 = 1.0 - pow(b2, (double)a->step);
    for (fold_int i = 0; i < n; i++) {
        a->m1[i] = b1 * a->m1[i] + (1 - b1) * g[i];
        a->m2[i] = b2 * a->m2[i] + (1 - b2) * g[i] * g[i];
        w[i] -= o->lr * (a->m1[i] / c1) / (sqrt(a->m2[i] / c2) + 1e-8);
    }
}

static void report(const learn_options *o, fold_int i, fold_status st)
{
    if (o->report) o->report(i, st, fold_last_error(), o->user_data);
}

/* One pass over the shuffled training set; returns the mean loss of the samples that
 * solved (before each batch's update) and counts the failures. */
static fold_status train_epoch(learn_task *t, learn_model *m, const learn_options *o,
                               learn_rng *rng, fold_int *order, adam_state *adam, double *g,
                               sample_work *w, learn_epoch *e)
{
    double loss_sum = 0, iter_sum = 0;
    fold_int n_ok_all = 0;
    for (fold_int i = t->n_train - 1; i > 0; i--) {
        fold_int j = (fold_int)(learn_uniform(rng) * (double)(i + 1)), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (fold_int b0 = 0; b0 < t->n_train; b0 += o->batch) {
        fold_int n_ok = 0, b1 = b0 + o->batch < t->n_train ? b0 + o->batch : t->n_train;
        memset(g, 0, (size_t)m->n_w * sizeof *g);
        for (fold_int k = b0; k < b1; k++) {
            fold_int i = order[k];
            fold_status st;
            double l;
            learn_model_forward(m, features(t, i), w->q, w->hidden);
            if ((st = t->ops->forward(t, i, w->q, w->y)) < 0) {
                report(o, i, st);
                e->n_failed++;
                continue;
            }
            l = t->ops->loss(t, i, w->y, w->ybar);
            if ((st = t->ops->vjp(t, i, w->ybar, w->qbar)) < 0) {
                report(o, i, st);
                e->n_failed++;
                continue;
            }
            learn_model_backward(m, features(t, i), w->qbar, w->hidden, g);
            iter_sum += (double)t->backward_iterations;
            if (t->backward_bytes > e->tape_bytes) e->tape_bytes = t->backward_bytes;
            loss_sum += l;
            n_ok++;
        }
        if (n_ok == 0) continue; /* the whole batch failed: no update */
        for (fold_int j = 0; j < m->n_w; j++)
            g[j] /= (double)n_ok;
        optimizer_step(o, adam, m->w, g, m->n_w);
        n_ok_all += n_ok;
    }
    if (n_ok_all == 0)
        return learn_error(FOLD_ERR_FORWARD_FAILED,
                           "learn_train: epoch %d: every training "
                           "sample failed",
                           e->epoch);
    e->train_loss = loss_sum / (double)n_ok_all;
    e->backward_iters = iter_sum / (double)n_ok_all;
    return FOLD_OK;
}

fold_status learn_train(learn_task *t, const learn_options *o, learn_result *res)
{
    fold_clear_error();
    learn_model *m = NULL;
    learn_rng rng;
    sample_work w = {0};
    adam_state adam = {0};
    fold_int *order = NULL;
    double *g = NULL;
    fold_status st;
    int kind;
    if (!t || !o || !res) return learn_error(FOLD_ERR_ARGUMENT, "learn_train: NULL argument");
    if (o->epochs < 0 || o->batch < 1 || !(o->lr > 0) || !isfinite(o->lr))
        return learn_error(FOLD_ERR_ARGUMENT, "learn_train: epochs = %d, batch = %lld, lr = %g",
                           o->epochs, (long long)o->batch, o->lr);
    kind = o->model_kind < 0 ? t->model_kind : o->model_kind;
    if (kind == LEARN_MODEL_CONST && !t->q_baseline)
        return learn_error(FOLD_ERR_ARGUMENT, "learn_train: task '%s' needs a feature model",
                           t->name);
    if (o->init_two_stage && (kind != LEARN_MODEL_LINEAR || !t->target))
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_train: init_two_stage needs the linear "
                           "model and a task with targets ('%s')",
                           t->name);
    if (kind != LEARN_MODEL_CONST && !t->feat)
        return learn_error(FOLD_ERR_ARGUMENT, "learn_train: task '%s' has no features", t->name);
    memset(res, 0, sizeof *res);
    learn_rng_seed(&rng, o->seed);
    if ((st = learn_model_create(kind, t->n_feat, o->n_hidden, t->n_q, &rng, &m))) return st;
    if (kind == LEARN_MODEL_CONST) memcpy(m->w, t->q_baseline, (size_t)t->n_q * sizeof(double));
    if (o->init_two_stage && (st = fit_least_squares(t, m)) != FOLD_OK) {
        learn_model_free(m);
        return st;
    }
    order = malloc((size_t)t->n_train * sizeof *order);
    g = malloc((size_t)m->n_w * sizeof *g);
    adam.m1 = calloc((size_t)m->n_w, sizeof(double));
    adam.m2 = calloc((size_t)m->n_w, sizeof(double));
    res->history = calloc((size_t)o->epochs + 1, sizeof *res->history);
    if (!order || !g || !adam.m1 || !adam.m2 || !res->history) {
        st = learn_error(FOLD_ERR_MEMORY, "learn_train: buffers");
        goto done;
    }
    if ((st = work_alloc(t, m, &w))) goto done;
    for (fold_int i = 0; i < t->n_train; i++)
        order[i] = i;
    for (int ep = 0; ep <= o->epochs; ep++) {
        learn_epoch *e = &res->history[ep];
        e->epoch = ep;
        if (ep == 0) {
            st = eval_range(t, m, 0, t->n_train, false, &e->train_loss, &e->n_failed);
        } else {
            double t0 = learn_now();
            st = train_epoch(t, m, o, &rng, order, &adam, g, &w, e);
            e->seconds = learn_now() - t0;
        }
        if (st == FOLD_OK)
            st = eval_range(t, m, t->n_train, t->n_test, true, &e->test_metric, NULL);
        if (st != FOLD_OK) goto done;
        res->n_failed += ep > 0 ? e->n_failed : 0;
        res->n_epochs = ep;
        if (o->progress) o->progress(e, o->user_data);
    }
    {
        double t0 = learn_now();
        st = learn_two_stage(t, &res->two_stage_metric);
        res->two_stage_s = learn_now() - t0;
    }
done:
    if (st != FOLD_OK) learn_result_free(res);
    work_free(&w);
    learn_model_free(m);
    free(order);
    free(g);
    free(adam.m1);
    free(adam.m2);
    return st;
}
