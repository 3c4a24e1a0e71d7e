/* One step of projected gradient, U(x) = P_C(x - a grad f(x; p)), or proximal gradient with
 * the l1 prox, U(x) = S_{a l1}(x - a grad f(x; p)), and the products by its Jacobians
 * Phi = J (I - a H), Psi = -a J C (doc/iterative.md eqs. (4.1)-(4.3)). */
#include "forward/iterative/iter_internal.h"

static fold_status cb_check(const char *what, int rc, const double *out, fold_int n)
{
    if (rc != 0)
        return fold_error(FOLD_ERR_CALLBACK, "objective callback %s returned %d", what, rc);
    for (fold_int i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return fold_error(FOLD_ERR_NONFINITE,
                              "objective callback %s: output[%lld] = %g is "
                              "not finite",
                              what, (long long)i, out[i]);
    return FOLD_OK;
}

void fold_iter_step_free(fold_iter_step *s)
{
    if (!s) return;
    fold_iter_set_free(s->set);
    fold_iter_prob_free(s->prob);
    free(s->t1);
    free(s->t2);
    free(s->t3);
    free(s);
}

/* The step size, kind and l1 weight. */
static fold_status check_method(const fold_iter_def *def, const char *fn)
{
    if (!(def->step > 0) || !isfinite(def->step))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: step = %g, need a finite value > 0", fn,
                          def->step);
    if (def->kind != FOLD_ITER_PGD && def->kind != FOLD_ITER_PROX_L1)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: kind = %d is not a fold_iter_kind", fn,
                          def->kind);
    if (def->kind == FOLD_ITER_PROX_L1 && (!(def->l1_weight >= 0) || !isfinite(def->l1_weight)))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: l1_weight = %g, need a finite value >= 0", fn,
                          def->l1_weight);
    return FOLD_OK;
}

/* The step of n variables and np parameters onto `set`; takes prob (freed on failure). */
static fold_status create_step(const fold_iter_def *def, const fold_set *set, fold_int n,
                               fold_int np, fold_iter_prob *prob, const char *fn,
                               fold_iter_step **out)
{
    fold_status st;
    fold_iter_step *s;
    if (!(s = fold_calloc(1, sizeof *s, "iteration step"))) {
        fold_iter_prob_free(prob);
        return FOLD_ERR_MEMORY;
    }
    s->def = *def;
    memset(&s->def.set, 0, sizeof s->def.set);
    s->prob = prob;
    s->n = n;
    s->np = np;
    s->t1 = fold_malloc((size_t)s->n, sizeof(double), "step work");
    s->t2 = fold_malloc((size_t)s->n, sizeof(double), "step work");
    s->t3 = fold_malloc((size_t)s->n, sizeof(double), "step work");
    if (!s->t1 || !s->t2 || !s->t3) {
        fold_iter_step_free(s);
        return FOLD_ERR_MEMORY;
    }
    if (def->kind == FOLD_ITER_PGD && (st = fold_iter_set_create(set, s->n, fn, &s->set)) < 0) {
        fold_iter_step_free(s);
        return st;
    }
    *out = s;
    return FOLD_OK;
}

fold_status fold_iter_step_create(const fold_iter_def *def, const char *fn, fold_iter_step **out)
{
    fold_status st;
    if ((st = fold_check_not_null(def, fn, "def")) < 0) return st;
    if (def->problem) {
        fold_iter_prob *prob;
        fold_set box;
        fold_int n, np;
        if ((st = check_method(def, fn)) < 0 ||
            (st = fold_iter_prob_create(def, fn, &prob, &box)) < 0)
            return st;
        fold_problem_dims(def->problem, &n, NULL, &np);
        return create_step(def, &box, n, np, prob, fn, out);
    }
    if (def->obj.n < 1 || def->obj.np < 0)
        return fold_error(FOLD_ERR_DIMENSION,
                          "%s: obj.n = %lld, obj.np = %lld (need n >= 1, "
                          "np >= 0)",
                          fn, (long long)def->obj.n, (long long)def->obj.np);
    if (!def->obj.grad) return fold_error(FOLD_ERR_ARGUMENT, "%s: obj.grad is NULL", fn);
    if ((st = check_method(def, fn)) < 0) return st;
    return create_step(def, &def->set, def->obj.n, def->obj.np, NULL, fn, out);
}

fold_status fold_iter_step_eval(fold_iter_step *s, const double *x, const double *p, double *y,
                                double *xn)
{
    const fold_objective *o = &s->def.obj;
    fold_status st = s->prob ? fold_iter_prob_grad(s->prob, x, p, s->t1)
                             : cb_check("grad", o->grad(x, p, s->t1, o->user_data), s->t1, s->n);
    if (st < 0) return st;
    for (fold_int i = 0; i < s->n; i++)
        y[i] = x[i] - s->def.step * s->t1[i];
    if (s->def.kind == FOLD_ITER_PGD) return fold_iter_set_project(s->set, y, xn);
    double t = s->def.step * s->def.l1_weight;
    for (fold_int i = 0; i < s->n; i++)
        xn[i] = y[i] > t ? y[i] - t : (y[i] < -t ? y[i] + t : 0.0);
    return FOLD_OK;
}

/* out = J v: projection Jacobian, or the soft-threshold 0/1 diagonal. */
static fold_status jac(fold_iter_step *s, const double *y, const double *xn, const double *v,
                       double *out)
{
    if (s->def.kind == FOLD_ITER_PGD) return fold_iter_set_jac(s->set, y, xn, v, out);
    double t = s->def.step * s->def.l1_weight;
    for (fold_int i = 0; i < s->n; i++)
        out[i] = fabs(y[i]) > t ? v[i] : 0.0;
    return FOLD_OK;
}

static fold_status hess(fold_iter_step *s, const double *x, const double *p, const double *v,
                        double *out)
{
    const fold_objective *o = &s->def.obj;
    if (s->prob) return fold_iter_prob_hess_v(s->prob, x, p, v, out);
    if (!o->hess_v)
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE, "objective has no hess_v callback "
                                                       "(needed to differentiate the step)");
    return cb_check("hess_v", o->hess_v(x, p, v, out, o->user_data), out, s->n);
}

fold_status fold_iter_step_phi(fold_iter_step *s, const double *x, const double *p, const double *y,
                               const double *xn, bool transpose, const double *v, double *out)
{
    fold_status st;
    double a = s->def.step;
    if (!transpose) { /* J (v - a H v) */
        if ((st = hess(s, x, p, v, s->t2)) < 0) return st;
        for (fold_int i = 0; i < s->n; i++)
            s->t2[i] = v[i] - a * s->t2[i];
        return jac(s, y, xn, s->t2, out);
    }
    /* (I - a H) J w: J and H are symmetric */
    if ((st = jac(s, y, xn, v, s->t2)) < 0 || (st = hess(s, x, p, s->t2, s->t3)) < 0) return st;
    for (fold_int i = 0; i < s->n; i++)
        out[i] = s->t2[i] - a * s->t3[i];
    return FOLD_OK;
}

fold_status fold_iter_step_psi(fold_iter_step *s, const double *x, const double *p, const double *y,
                               const double *xn, const double *dp, double *out)
{
    const fold_objective *o = &s->def.obj;
    fold_status st;
    if (s->prob) {
        if ((st = fold_iter_prob_cross(s->prob, x, p, false, dp, s->t2)) < 0) return st;
    } else if (!o->cross_v) {
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                          "objective has no cross_v callback "
                          "(d grad f / dp products, needed for forward mode)");
    } else if ((st = cb_check("cross_v", o->cross_v(x, p, dp, s->t2, o->user_data), s->t2, s->n)) <
               0)
        return st;
    if ((st = jac(s, y, xn, s->t2, out)) < 0) return st;
    for (fold_int i = 0; i < s->n; i++)
        out[i] *= -s->def.step;
    return FOLD_OK;
}

fold_status fold_iter_step_psit(fold_iter_step *s, const double *x, const double *p,
                                const double *y, const double *xn, const double *w, double *out)
{
    const fold_objective *o = &s->def.obj;
    fold_status st;
    if (!s->prob && !o->cross_t_v)
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                          "objective has no cross_t_v callback "
                          "(d grad f / dp transposed products, needed for reverse mode)");
    if ((st = jac(s, y, xn, w, s->t2)) < 0) return st;
    if (s->prob) {
        if ((st = fold_iter_prob_cross(s->prob, x, p, true, s->t2, out)) < 0) return st;
    } else if ((st = cb_check("cross_t_v", o->cross_t_v(x, p, s->t2, out, o->user_data), out,
                              s->np)) < 0)
        return st;
    for (fold_int i = 0; i < s->np; i++)
        out[i] *= -s->def.step;
    return FOLD_OK;
}
