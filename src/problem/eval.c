/* Checked evaluation of the user's callbacks: time, count, return-code mapping and
 * NaN/Inf detection naming the callback and index. */
#include "problem/problem_internal.h"

/* What output k of a callback is: dense outputs are items of `rkind` (none for f: -1);
 * sparse ones (pat) the entry (row item of rkind, column item of ckind). */
typedef struct output_kind {
    int rkind, ckind;
    const fold_owned_pattern *pat;
} output_kind;

static void describe_output(const fold_problem *prob, output_kind ok, fold_int k, char *buf,
                            size_t len)
{
    char r[FOLD_NAME_MAX], c[FOLD_NAME_MAX];
    buf[0] = '\0';
    if (ok.rkind < 0) return;
    if (!ok.pat) {
        fold_prob_name(prob, ok.rkind, k, r, sizeof r);
        snprintf(buf, len, " (%s)", r);
        return;
    }
    fold_prob_name(prob, ok.rkind, ok.pat->row[k], r, sizeof r);
    fold_prob_name(prob, ok.ckind, ok.pat->col[k], c, sizeof c);
    snprintf(buf, len, " (entry of %s, %s)", r, c);
}

static fold_status finish(const fold_problem *prob, int rc, const char *name, output_kind ok,
                          const double *out, fold_int count, double t0, fold_int *counter,
                          fold_eval_stats *st)
{
    if (st) {
        st->seconds += fold_time_now() - t0;
        (*counter)++;
    }
    if (rc < 0) return fold_error(FOLD_ERR_CALLBACK, "callback %s returned %d (fatal)", name, rc);
    if (rc > 0) return FOLD_CB_RECOVERABLE;
    for (fold_int k = 0; k < count; k++)
        if (!isfinite(out[k])) {
            char what[2 * FOLD_NAME_MAX + 16];
            describe_output(prob, ok, k, what, sizeof what);
            return fold_error(FOLD_ERR_NONFINITE, "callback %s: output[%lld] = %g is not finite%s",
                              name, (long long)k, out[k], what);
        }
    return FOLD_OK;
}

enum { V = FOLD_ITEM_VARIABLE, G = FOLD_ITEM_CONSTRAINT, P = FOLD_ITEM_PARAMETER };

/* Counters when the caller keeps none. */
#define COUNTER(field) (st ? &st->field : &scratch)

fold_status fold_prob_eval_f(const fold_problem *prob, const double *x, const double *p,
                             double *obj, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0 = fold_time_now();
    int rc = prob->cb.f(x, p, obj, prob->user_data);
    return finish(prob, rc, "f", (output_kind){-1, -1, NULL}, obj, 1, t0, COUNTER(n_f), st);
}

fold_status fold_prob_eval_grad_f(const fold_problem *prob, const double *x, const double *p,
                                  double *grad, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0 = fold_time_now();
    int rc = prob->cb.grad_f(x, p, grad, prob->user_data);
    return finish(prob, rc, "grad_f", (output_kind){V, -1, NULL}, grad, prob->n, t0,
                  COUNTER(n_grad_f), st);
}

fold_status fold_prob_eval_g(const fold_problem *prob, const double *x, const double *p, double *g,
                             fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->m == 0) return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.g(x, p, g, prob->user_data);
    return finish(prob, rc, "g", (output_kind){G, -1, NULL}, g, prob->m, t0, COUNTER(n_g), st);
}

fold_status fold_prob_eval_jac_g(const fold_problem *prob, const double *x, const double *p,
                                 double *values, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->jac_g.nnz == 0) return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.jac_g(x, p, values, prob->user_data);
    return finish(prob, rc, "jac_g", (output_kind){G, V, &prob->jac_g}, values, prob->jac_g.nnz, t0,
                  COUNTER(n_jac_g), st);
}

fold_status fold_prob_eval_hess_l_v(const fold_problem *prob, const double *x, const double *p,
                                    double obj_factor, const double *lam, const double *v,
                                    double *out, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0 = fold_time_now();
    int rc = prob->hess_l_v(x, p, obj_factor, lam, v, out, prob->user_data);
    return finish(prob, rc, "hess_l_v", (output_kind){V, -1, NULL}, out, prob->n, t0,
                  COUNTER(n_hess_l), st);
}

fold_status fold_prob_eval_hess_lp_v(const fold_problem *prob, const double *x, const double *p,
                                     const double *lam, bool transpose, const double *v,
                                     double *out, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0 = fold_time_now();
    int rc = prob->hess_lp_v(x, p, lam, transpose, v, out, prob->user_data);
    return finish(prob, rc, "hess_lp_v", (output_kind){transpose ? P : V, -1, NULL}, out,
                  transpose ? prob->np : prob->n, t0, COUNTER(n_param), st);
}

/* The packed lower triangle of a FOLD_HESS_PRODUCT Hessian from n products H e_j: column j
 * keeps rows j..n-1 (doc/api/problem.md "Hessian forms"). */
static fold_status assemble_hess_l(const fold_problem *prob, const double *x, const double *p,
                                   double obj_factor, const double *lam, double *values,
                                   fold_eval_stats *st)
{
    fold_int n = prob->n, k = 0;
    double *e = fold_calloc(2 * (size_t)n, sizeof *e, "Hessian column"), *col = e + n;
    fold_status s = FOLD_OK;
    if (!e) return FOLD_ERR_MEMORY;
    for (fold_int j = 0; j < n && s == FOLD_OK; j++) {
        e[j] = 1.0;
        s = fold_prob_eval_hess_l_v(prob, x, p, obj_factor, lam, e, col, st);
        e[j] = 0.0;
        for (fold_int i = j; i < n && s == FOLD_OK; i++)
            values[k++] = col[i];
    }
    free(e);
    return s;
}

fold_status fold_prob_eval_hess_l(const fold_problem *prob, const double *x, const double *p,
                                  double obj_factor, const double *lam, double *values,
                                  fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->hess_l.nnz == 0) return FOLD_OK;
    if (prob->hess_form == FOLD_HESS_PRODUCT)
        return assemble_hess_l(prob, x, p, obj_factor, lam, values, st);
    t0 = fold_time_now();
    rc = prob->cb.hess_l(x, p, obj_factor, lam, values, prob->user_data);
    return finish(prob, rc, "hess_l", (output_kind){V, V, &prob->hess_l}, values, prob->hess_l.nnz,
                  t0, COUNTER(n_hess_l), st);
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
    if (prob->np == 0) return FOLD_OK;
    if (!prob->cb.grad_f_p) return missing("grad_f_p");
    t0 = fold_time_now();
    rc = prob->cb.grad_f_p(x, p, grad_p, prob->user_data);
    return finish(prob, rc, "grad_f_p", (output_kind){P, -1, NULL}, grad_p, prob->np, t0,
                  COUNTER(n_param), st);
}

fold_status fold_prob_eval_jac_g_p(const fold_problem *prob, const double *x, const double *p,
                                   double *values, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->jac_g_p.nnz == 0) return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.jac_g_p(x, p, values, prob->user_data);
    return finish(prob, rc, "jac_g_p", (output_kind){G, P, &prob->jac_g_p}, values,
                  prob->jac_g_p.nnz, t0, COUNTER(n_param), st);
}

fold_status fold_prob_eval_hess_lp(const fold_problem *prob, const double *x, const double *p,
                                   const double *lam, double *values, fold_eval_stats *st)
{
    fold_int scratch = 0;
    double t0;
    int rc;
    if (prob->hess_lp.nnz == 0) return FOLD_OK;
    t0 = fold_time_now();
    rc = prob->cb.hess_lp(x, p, lam, values, prob->user_data);
    return finish(prob, rc, "hess_lp", (output_kind){V, P, &prob->hess_lp}, values,
                  prob->hess_lp.nnz, t0, COUNTER(n_param), st);
}
