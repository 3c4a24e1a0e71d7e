/* KKT residuals of (x, lam, zl, zu) at p: scaled stationarity, primal feasibility and
 * complementarity (with multiplier sign conditions), each with the location of its worst
 * entry. Definitions and scaling: doc/math.md §2.3, equations (2.6)-(2.10). */
#include "forward/kkt_residuals.h"

/* Keep the largest value seen and where it was. */
static void keep(double v, double *best, fold_kkt_where *bw, fold_int *bi, fold_kkt_where w,
                 fold_int i)
{
    if (v > *best) {
        *best = v;
        *bw = w;
        *bi = i;
    }
}

/* Complementarity entry of a multiplier mu that must be >= 0 for a bound at distance dist
 * (2.9): mu * dist / (1 + max(mu, dist)); an infinite bound gives mu. A negative mu is a
 * sign violation of size |mu| (2.10). */
static double comp_entry(double mu, double dist, bool bound_finite, bool *wrong)
{
    double a;
    *wrong = mu < 0 || (mu > 0 && !bound_finite);
    if (*wrong) return fabs(mu);
    if (mu == 0) return 0;
    a = fabs(dist);
    return mu * a / (1 + fmax(mu, a));
}

static void keep_comp(fold_kkt_detail *d, double v, bool wrong, fold_kkt_where w, fold_int i)
{
    if (v > d->complementarity) {
        d->complementarity = v;
        d->comp_where = w;
        d->comp_index = i;
        d->comp_wrong_sign = wrong;
    }
}

static void stationarity(const fold_problem *prob, const double *grad, const double *jac,
                         const double *lam, const double *zl, const double *zu, double *r,
                         fold_kkt_detail *d)
{
    double big = 0;
    for (fold_int j = 0; j < prob->n; j++) {
        r[j] = grad[j] - zl[j] + zu[j];
        big = fmax(big, fmax(fabs(grad[j]), fmax(fabs(zl[j]), fabs(zu[j]))));
    }
    for (fold_int k = 0; k < prob->jac_g.nnz; k++) {
        double t = jac[k] * lam[prob->jac_g.row[k]];
        r[prob->jac_g.col[k]] += t;
        big = fmax(big, fabs(t));
    }
    d->stationarity_scale = 1 + big;
    for (fold_int j = 0; j < prob->n; j++)
        keep(fabs(r[j]), &d->stationarity_raw, &d->stat_where, &d->stat_index, FOLD_KKT_X, j);
    d->stationarity = d->stationarity_raw / d->stationarity_scale;
}

/* Violation of lo <= v <= hi, relative to 1 + |bound| (2.8). */
static void feasibility(fold_kkt_detail *d, double v, double lo, double hi, fold_kkt_where wl,
                        fold_kkt_where wu, fold_int i)
{
    double old = d->feasibility;
    if (isfinite(lo) && v < lo)
        keep((lo - v) / (1 + fabs(lo)), &d->feasibility, &d->feas_where, &d->feas_index, wl, i);
    if (isfinite(hi) && v > hi)
        keep((v - hi) / (1 + fabs(hi)), &d->feasibility, &d->feas_where, &d->feas_index, wu, i);
    if (d->feasibility > old) {
        d->feas_value = v;
        d->feas_bound = d->feas_where == wl ? lo : hi;
    }
}

static void bounds_terms(const fold_problem *prob, const double *xl, const double *xu,
                         const double *x, const double *zl, const double *zu, fold_kkt_detail *d)
{
    bool wrong;
    double v;
    for (fold_int j = 0; j < prob->n; j++) {
        double lo = xl[j], hi = xu[j];
        feasibility(d, x[j], lo, hi, FOLD_KKT_X_LOWER, FOLD_KKT_X_UPPER, j);
        v = comp_entry(zl[j], x[j] - lo, isfinite(lo), &wrong);
        keep_comp(d, v, wrong, FOLD_KKT_X_LOWER, j);
        v = comp_entry(zu[j], hi - x[j], isfinite(hi), &wrong);
        keep_comp(d, v, wrong, FOLD_KKT_X_UPPER, j);
    }
}

/* Constraints: lam_i > 0 points to the upper bound, lam_i < 0 to the lower one (L = f +
 * lam'g); equality constraints have no sign condition. */
static void constraint_terms(const fold_problem *prob, const double *gl, const double *gu,
                             const double *g, const double *lam, fold_kkt_detail *d)
{
    bool wrong;
    double v;
    for (fold_int i = 0; i < prob->m; i++) {
        double lo = gl[i], hi = gu[i];
        feasibility(d, g[i], lo, hi, FOLD_KKT_G_LOWER, FOLD_KKT_G_UPPER, i);
        if (fold_prob_is_equality(prob, i) || lam[i] == 0) continue;
        if (lam[i] > 0)
            v = comp_entry(lam[i], hi - g[i], isfinite(hi), &wrong);
        else
            v = comp_entry(-lam[i], g[i] - lo, isfinite(lo), &wrong);
        keep_comp(d, v, wrong, FOLD_KKT_LAM, i);
    }
}

fold_status fold_kkt_residuals_detail(const fold_problem *prob, const double *p, const double *x,
                                      const double *lam, const double *zl, const double *zu,
                                      fold_kkt_detail *d, fold_eval_stats *st)
{
    fold_int n = prob->n, m = prob->m, nnz = prob->jac_g.nnz;
    double *grad, *r, *g, *jac;
    fold_status status;

    memset(d, 0, sizeof *d);
    grad = fold_malloc((size_t)(4 * n + 3 * m + nnz), sizeof(double), "KKT residual workspace");
    if (!grad) return FOLD_ERR_MEMORY;
    r = grad + n;
    g = r + n;
    jac = g + m;
    double *xl = jac + nnz, *xu = xl + n, *gl = xu + n, *gu = gl + m; /* bounds at p */
    fold_problem_bounds(prob, p, xl, xu, gl, gu);
    if ((status = fold_prob_eval_f(prob, x, p, &d->objective, st)) ||
        (status = fold_prob_eval_grad_f(prob, x, p, grad, st)) ||
        (status = fold_prob_eval_g(prob, x, p, g, st)) ||
        (status = fold_prob_eval_jac_g(prob, x, p, jac, st))) {
        free(grad);
        if (status == FOLD_CB_RECOVERABLE)
            return fold_error(FOLD_ERR_CALLBACK, "a callback failed (recoverable code) at x");
        return status;
    }
    stationarity(prob, grad, jac, lam, zl, zu, r, d);
    bounds_terms(prob, xl, xu, x, zl, zu, d);
    constraint_terms(prob, gl, gu, g, lam, d);
    free(grad);
    return FOLD_OK;
}

fold_status fold_kkt_residuals(const fold_problem *prob, const double *p, const double *x,
                               const double *lam, const double *zl, const double *zu,
                               fold_forward_info *info, fold_eval_stats *st)
{
    fold_kkt_detail d;
    fold_status status = fold_kkt_residuals_detail(prob, p, x, lam, zl, zu, &d, st);
    if (status) return fold_error_context(status, "fold_kkt_residuals");
    info->kkt_stationarity = d.stationarity;
    info->kkt_feasibility = d.feasibility;
    info->kkt_complementarity = d.complementarity;
    return FOLD_OK;
}

static void describe_comp(const fold_problem *prob, const fold_kkt_detail *d, const double *x,
                          const double *lam, const double *zl, const double *zu, char *buf,
                          size_t len)
{
    fold_int i = d->comp_index;
    long long li = (long long)i;
    char name[FOLD_NAME_MAX];
    if (d->comp_where == FOLD_KKT_LAM) {
        fold_prob_name(prob, FOLD_ITEM_CONSTRAINT, i, name, sizeof name);
        snprintf(buf, len, "complementarity %.3e at constraint %s (lam[%lld] = %.6g)%s",
                 d->complementarity, name, li, lam[i],
                 d->comp_wrong_sign ? ": the multiplier has the wrong sign (lam >= 0 at an "
                                      "upper bound of g, <= 0 at a lower one; the bound it "
                                      "points to is infinite or the constraint is not at it)"
                                    : ": multiplier times the distance to its bound");
        return;
    }
    bool lower = d->comp_where == FOLD_KKT_X_LOWER;
    fold_prob_name(prob, FOLD_ITEM_VARIABLE, i, name, sizeof name);
    snprintf(buf, len,
             "complementarity %.3e at the %s bound of %s (%s[%lld] = %.6g, x[%lld] = %.6g)%s",
             d->complementarity, lower ? "lower" : "upper", name, lower ? "zl" : "zu", li,
             lower ? zl[i] : zu[i], li, x[i],
             d->comp_wrong_sign ? ": bound multipliers must be >= 0 and zero for an infinite "
                                  "bound"
                                : ": multiplier times the distance to the bound");
}

void fold_kkt_describe_worst(const fold_problem *prob, const fold_kkt_detail *d, const double *x,
                             const double *lam, const double *zl, const double *zu, char *buf,
                             size_t len)
{
    char name[FOLD_NAME_MAX];
    if (d->complementarity >= d->stationarity && d->complementarity >= d->feasibility &&
        d->comp_where != FOLD_KKT_NONE) {
        describe_comp(prob, d, x, lam, zl, zu, buf, len);
    } else if (d->stationarity >= d->feasibility) {
        fold_prob_name(prob, FOLD_ITEM_VARIABLE, d->stat_index, name, sizeof name);
        snprintf(buf, len,
                 "stationarity %.3e (||grad_x L||_inf = %.3e, scale %.3e) in the row of %s "
                 "(grad_x L[%lld])",
                 d->stationarity, d->stationarity_raw, d->stationarity_scale, name,
                 (long long)d->stat_index);
    } else {
        bool is_x = d->feas_where == FOLD_KKT_X_LOWER || d->feas_where == FOLD_KKT_X_UPPER;
        bool lower = d->feas_where == FOLD_KKT_X_LOWER || d->feas_where == FOLD_KKT_G_LOWER;
        fold_prob_name(prob, is_x ? FOLD_ITEM_VARIABLE : FOLD_ITEM_CONSTRAINT, d->feas_index, name,
                       sizeof name);
        snprintf(buf, len, "feasibility %.3e at the %s bound of %s: %s[%lld] = %.10g, bound %.10g",
                 d->feasibility, lower ? "lower" : "upper", name, is_x ? "x" : "g",
                 (long long)d->feas_index, d->feas_value, d->feas_bound);
    }
}
