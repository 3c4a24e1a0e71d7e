/* Helpers of the learning tests: VJP against central finite differences of re-solves. */
#ifndef FOLD_TEST_LEARNING_CHECK_H
#define FOLD_TEST_LEARNING_CHECK_H

#include <math.h>
#include <stdlib.h>

#include "learning/learning.h"
#include "test_support.h"

/* For n_dir random directions dq and a random upstream ybar, the relative error
 * |<qbar, dq> - (phi(q + h dq) - phi(q - h dq)) / 2h| / max(|fd|, floor) with
 * phi(q) = <ybar, y(q)>, each phi a fresh forward solve. Returns the worst one; qbar of the
 * first call is copied into qbar_out (n_q) when not NULL. */
static inline double vjp_fd_error(learn_task *t, fold_int i, const double *q, double h, int n_dir,
                                  uint64_t seed, double *qbar_out)
{
    fold_int nq = t->n_q, ny = t->n_y;
    double *y = malloc((size_t)ny * sizeof *y), *ybar = malloc((size_t)ny * sizeof *ybar);
    double *qbar = malloc((size_t)nq * sizeof *qbar), *qs = malloc((size_t)nq * sizeof *qs);
    double *dq = malloc((size_t)nq * sizeof *dq), worst = 0;
    learn_rng rng;
    learn_rng_seed(&rng, seed);
    for (fold_int j = 0; j < ny; j++)
        ybar[j] = learn_normal(&rng);
    ck_assert_status(t->ops->forward(t, i, q, y), FOLD_OK);
    ck_assert_status(t->ops->vjp(t, i, ybar, qbar), FOLD_OK);
    if (qbar_out)
        for (fold_int j = 0; j < nq; j++)
            qbar_out[j] = qbar[j];
    for (int d = 0; d < n_dir; d++) {
        double ad = 0, fp = 0, fm = 0, fd;
        for (fold_int j = 0; j < nq; j++) {
            dq[j] = learn_normal(&rng);
            ad += qbar[j] * dq[j];
        }
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            double v = 0;
            for (fold_int j = 0; j < nq; j++)
                qs[j] = q[j] + sgn * h * dq[j];
            ck_assert_status(t->ops->forward(t, i, qs, y), FOLD_OK);
            for (fold_int j = 0; j < ny; j++)
                v += ybar[j] * y[j];
            if (sgn < 0)
                fm = v;
            else
                fp = v;
        }
        fd = (fp - fm) / (2 * h);
        worst = fmax(worst, fabs(ad - fd) / fmax(fabs(fd), 1e-6));
    }
    free(y);
    free(ybar);
    free(qbar);
    free(qs);
    free(dq);
    return worst;
}

/* Train (from the two-stage fit when init_two_stage) and require the final test figure
 * below both the initial one and the two-stage baseline's. */
static inline void beats_two_stage(const char *name, const learn_config *c, int epochs, double lr,
                                   bool init_two_stage)
{
    learn_task *t = NULL;
    learn_options o;
    learn_result r;
    ck_assert_status(learn_task_create(name, c, &t), FOLD_OK);
    learn_options_default(&o);
    o.epochs = epochs;
    o.lr = lr > 0 ? lr : t->lr_hint;
    o.batch = 8;
    o.init_two_stage = init_two_stage;
    ck_assert_status(learn_train(t, &o, &r), FOLD_OK);
    if (init_two_stage) /* the start is the two-stage model: same test figure */
        ck_assert_double_eq_tol(r.history[0].test_metric, r.two_stage_metric,
                                1e-12 * (1 + fabs(r.two_stage_metric)));
    ck_assert_int_eq(r.n_epochs, epochs);
    ck_assert_int_eq(r.n_failed, 0);
    ck_assert_msg(r.history[epochs].test_metric < r.two_stage_metric,
                  "%s: trained test %s %g not below two-stage %g", name, t->metric_name,
                  r.history[epochs].test_metric, r.two_stage_metric);
    ck_assert_msg(r.history[epochs].test_metric < r.history[0].test_metric,
                  "%s: training did not lower the test %s (%g -> %g)", name, t->metric_name,
                  r.history[0].test_metric, r.history[epochs].test_metric);
    for (int e = 1; e <= epochs; e++)
        ck_assert(r.history[e].seconds > 0);
    learn_result_free(&r);
    learn_task_free(t);
}

#endif
