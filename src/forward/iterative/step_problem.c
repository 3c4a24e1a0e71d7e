/* The objective and the box of a built-in iterative method taken from a fold_problem (the one
 * definition Ipopt and the KKT fold use): grad f from grad_f, H v from hess_l_v or from the
 * Hessian's values, C = d(grad_x f)/dp from hess_lp, the box from the bounds
 * (doc/iterative.md §4.5). The values of H and C are evaluated once per point and kept. */
#include "forward/iterative/iter_internal.h"
#include "problem/problem_internal.h"

/* The problem has m = 0: its callbacks get this (empty) multiplier vector. */
static const double no_lam[1] = {0.0};

struct fold_iter_prob {
    const fold_problem *prob;
    fold_int n, np;
    double *hv, *lpv; /* values of H (hess_l; allocated on first use) and C (hess_lp) at
                         (xh, ph), (xc, pc) */
    double *xh, *ph, *xc, *pc;
    bool has_h, has_c; /* hv / lpv hold the values at the kept point */
};

void fold_iter_prob_free(fold_iter_prob *P)
{
    if (!P) return;
    free(P->hv);
    free(P->lpv);
    free(P->xh);
    free(P->ph);
    free(P->xc);
    free(P->pc);
    free(P);
}

static fold_status check_def(const fold_iter_def *def, const fold_problem *prob, const char *fn)
{
    static const fold_set no_set = {0};
    if (def->obj.n || def->obj.np || def->obj.grad || def->obj.hess_v || def->obj.cross_v ||
        def->obj.cross_t_v || def->obj.user_data)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: def gives both a problem and obj: the objective comes from "
                          "problem '%s' (leave obj zero)",
                          fn, prob->name);
    if (memcmp(&def->set, &no_set, sizeof no_set) != 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: def gives both a problem and set: the box comes from the bounds "
                          "of problem '%s' (leave set zero)",
                          fn, prob->name);
    if (prob->m > 0)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: problem '%s' has m = %lld general constraints: the built-in "
                          "iterative methods project onto its box only (no projection onto "
                          "{x : gL <= g(x) <= gU} is built in); solve it with fold_solve and "
                          "fold its KKT system",
                          fn, prob->name, (long long)prob->m);
    if (prob->has_bound_maps)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: problem '%s' has bounds moving with p: the built-in iterative "
                          "methods project onto a fixed box (differentiate it with the KKT fold)",
                          fn, prob->name);
    if (def->kind == FOLD_ITER_PROX_L1)
        for (fold_int j = 0; j < prob->n; j++)
            if (isfinite(prob->x_lower[j]) || isfinite(prob->x_upper[j])) {
                char name[FOLD_NAME_MAX];
                fold_prob_name(prob, FOLD_ITEM_VARIABLE, j, name, sizeof name);
                return fold_error(FOLD_ERR_UNSUPPORTED,
                                  "%s: prox_l1 has no projection, but variable %s of problem "
                                  "'%s' has a finite bound (use FOLD_ITER_PGD)",
                                  fn, name, prob->name);
            }
    return FOLD_OK;
}

fold_status fold_iter_prob_create(const fold_iter_def *def, const char *fn, fold_iter_prob **out,
                                  fold_set *box)
{
    const fold_problem *prob = def->problem;
    fold_iter_prob *P;
    fold_status st = check_def(def, prob, fn);
    if (st < 0) return st;
    if (!(P = fold_calloc(1, sizeof *P, "problem objective"))) return FOLD_ERR_MEMORY;
    P->prob = prob;
    P->n = prob->n;
    P->np = prob->np;
    size_t n = (size_t)P->n, np = (size_t)(P->np > 0 ? P->np : 1);
    P->lpv = fold_malloc((size_t)(prob->hess_lp.nnz > 0 ? prob->hess_lp.nnz : 1), sizeof(double),
                         "cross-term values");
    P->xh = fold_malloc(n, sizeof(double), "Hessian point");
    P->xc = fold_malloc(n, sizeof(double), "cross-term point");
    P->ph = fold_malloc(np, sizeof(double), "Hessian point");
    P->pc = fold_malloc(np, sizeof(double), "cross-term point");
    if (!P->lpv || !P->xh || !P->xc || !P->ph || !P->pc) {
        fold_iter_prob_free(P);
        return FOLD_ERR_MEMORY;
    }
    /* no finite bound: R^n, whose step map is symmetric (MINRES and CG apply) */
    bool bounded = false;
    for (fold_int j = 0; j < prob->n && !bounded; j++)
        bounded = isfinite(prob->x_lower[j]) || isfinite(prob->x_upper[j]);
    *box = (fold_set){.kind = bounded ? FOLD_SET_BOX : FOLD_SET_FREE,
                      .lower = prob->x_lower,
                      .upper = prob->x_upper};
    *out = P;
    return FOLD_OK;
}

/* A recoverable callback failure (> 0) cannot be retried by a fixed-step method. */
static fold_status checked(fold_status st, const char *what)
{
    if (st == FOLD_CB_RECOVERABLE)
        return fold_error(FOLD_ERR_CALLBACK,
                          "callback %s failed (recoverable code) during an iterative step", what);
    return st;
}

fold_status fold_iter_prob_grad(fold_iter_prob *P, const double *x, const double *p, double *g)
{
    return checked(fold_prob_eval_grad_f(P->prob, x, p, g, NULL), "grad_f");
}

/* Are the values kept for (x, p) current? Else remember (x, p) as their point. */
static bool same_point(fold_iter_prob *P, bool valid, double *xk, double *pk, const double *x,
                       const double *p)
{
    size_t bx = (size_t)P->n * sizeof(double), bp = (size_t)P->np * sizeof(double);
    if (valid && memcmp(xk, x, bx) == 0 && (P->np == 0 || memcmp(pk, p, bp) == 0)) return true;
    memcpy(xk, x, bx);
    if (P->np > 0) memcpy(pk, p, bp);
    return false;
}

fold_status fold_iter_prob_hess_v(fold_iter_prob *P, const double *x, const double *p,
                                  const double *v, double *out)
{
    const fold_problem *prob = P->prob;
    fold_status st;
    if (prob->hess_l_v)
        return checked(fold_prob_eval_hess_l_v(prob, x, p, 1.0, no_lam, v, out, NULL), "hess_l_v");
    if (!fold_prob_has_hessian(prob))
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                          "problem '%s' has no Hessian (cb.hess_l or hess_l_v), needed to "
                          "differentiate the step",
                          prob->name);
    if (!P->hv) { /* the values only when there is no product */
        size_t nnz = (size_t)(prob->hess_l.nnz > 0 ? prob->hess_l.nnz : 1);
        if (!(P->hv = fold_malloc(nnz, sizeof(double), "Hessian values"))) return FOLD_ERR_MEMORY;
    }
    if (!same_point(P, P->has_h, P->xh, P->ph, x, p)) {
        P->has_h = false;
        st = checked(fold_prob_eval_hess_l(prob, x, p, 1.0, no_lam, P->hv, NULL), "hess_l");
        if (st < 0) return st;
        P->has_h = true;
    }
    memset(out, 0, (size_t)P->n * sizeof(double));
    fold_prob_hess_mul_add(prob, P->hv, v, out);
    return FOLD_OK;
}

/* out = C v (n) or C' v (np) with C = d(grad_x f)/dp: hess_lp_v, or the hess_lp values
 * (m = 0). */
fold_status fold_iter_prob_cross(fold_iter_prob *P, const double *x, const double *p,
                                 bool transpose, const double *v, double *out)
{
    const fold_problem *prob = P->prob;
    fold_status st;
    if (prob->hess_lp_v)
        return checked(fold_prob_eval_hess_lp_v(prob, x, p, no_lam, transpose, v, out, NULL),
                       "hess_lp_v");
    if (prob->hess_lp.nnz > 0 && !same_point(P, P->has_c, P->xc, P->pc, x, p)) {
        P->has_c = false;
        st = checked(fold_prob_eval_hess_lp(prob, x, p, no_lam, P->lpv, NULL), "hess_lp");
        if (st < 0) return st;
        P->has_c = true;
    }
    fold_prob_pattern_mul(&prob->hess_lp, P->lpv, transpose, v, out, transpose ? P->np : P->n,
                          false);
    return FOLD_OK;
}
