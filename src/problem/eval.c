/* Checked evaluation of the user's callbacks: time, count, return-code mapping and
 * NaN/Inf detection naming the callback and index. */
#include "problem/problem_internal.h"

static fold_status finish(int rc, const char *name, const double *out, fold_int count,
                          double t0, fold_int *counter, fold_eval_stats *st)
{
    if (st) {
        st->seconds += fold_time_now() - t0;
        (*counter)++;
    }
    if (rc < 0)
        return fold_error(FOLD_ERR_CALLBACK, "callback %s returned %d (fatal)", name, rc);
    if (rc > 0)
        return FOLD_CB_RECOVERABLE;
    for (fold_int k = 0; k < count; k++)
        if (!isfinite(out[k]))
            return fold_error(FOLD_ERR_NONFINITE, "callback %s: output[%lld] = %g is not finite",
                              name, (long long)k, out[k]);
    return FOLD_OK;
}

/* Counters when the caller keeps none. */
#define COUNTER(field) (st ? &st->field : &scratch)

fold_status fold_prob_eval_f(const fold_problem *prob, const double *x, const double *p,
                             double *obj, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0 = fold_time_now();
    int rc = prob->cb.f(x, p, obj, prob->user_data);
    return finish(rc, "f", obj, 1, t0, COUNTER(n_f), st);
}

fold_status fold_prob_eval_grad_f(const fold_problem *prob, const double *x, const double *p,
                                  double *grad, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0 = fold_time_now();
    int rc = prob->cb.grad_f(x, p, grad, prob->user_data);
    return finish(rc, "grad_f", grad, prob->n, t0, COUNTER(n_grad_f), st);
}

fold_status fold_prob_eval_g(const fold_problem *prob, const double *x, const double *p,
                             double *g, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->m == 0)
        return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.g(x, p, g, prob->user_data);
    return finish(rc, "g", g, prob->m, t0, COUNTER(n_g), st);
}

fold_status fold_prob_eval_jac_g(const fold_problem *prob, const double *x, const double *p,
                                 double *values, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->jac_g.nnz == 0)
        return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.jac_g(x, p, values, prob->user_data);
    return finish(rc, "jac_g", values, prob->jac_g.nnz, t0, COUNTER(n_jac_g), st);
}

fold_status fold_prob_eval_hess_l(const fold_problem *prob, const double *x, const double *p,
                                  double obj_factor, const double *lam, double *values,
                                  fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->hess_l.nnz == 0)
        return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.hess_l(x, p, obj_factor, lam, values, prob->user_data);
    return finish(rc, "hess_l", values, prob->hess_l.nnz, t0, COUNTER(n_hess_l), st);
}

static fold_status missing(const char *name)
{
    return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                      "callback %s is required to differentiate but was not given", name);
}

fold_status fold_prob_eval_grad_f_p(const fold_problem *prob, const double *x, const double *p,
                                    double *grad_p, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->np == 0)
        return FOLD_OK;
    if (!prob->cb.grad_f_p)
        return missing("grad_f_p");
    t0 = fold_time_now();
    rc = prob->cb.grad_f_p(x, p, grad_p, prob->user_data);
    return finish(rc, "grad_f_p", grad_p, prob->np, t0, COUNTER(n_param), st);
}

fold_status fold_prob_eval_jac_g_p(const fold_problem *prob, const double *x, const double *p,
                                   double *values, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->jac_g_p.nnz == 0)
        return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.jac_g_p(x, p, values, prob->user_data);
    return finish(rc, "jac_g_p", values, prob->jac_g_p.nnz, t0, COUNTER(n_param), st);
}

fold_status fold_prob_eval_hess_lp(const fold_problem *prob, const double *x, const double *p,
                                   const double *lam, double *values, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->hess_lp.nnz == 0)
        return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.hess_lp(x, p, lam, values, prob->user_data);
    return finish(rc, "hess_lp", values, prob->hess_lp.nnz, t0, COUNTER(n_param), st);
}
