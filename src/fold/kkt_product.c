/* The matrix-free KKT fold of a problem with Hessian products (kkt_product.h; doc/math.md
 * §3.9 eqs. 3.24-3.25): the operator S (K0 + P' H P) S with K0 the assembled K without its
 * Hessian block, the diagonal estimate of H (eq. 3.25) for the preconditioner and the scaling, and
 * the products with L_xp given by hess_lp_v. */
#include "fold/kkt_product.h"

struct fold_kkt_hprod {
    bool matrix_free;      /* K is assembled without H (fold_kkt_product_wanted) */
    fold_eval_stats stats; /* n_hess_l: hess_l_v calls; n_param: hess_lp_v calls */
    fold_int mark;         /* stats.n_hess_l at the start of the public call */
    fold_status status;    /* first product failure in a right-hand side or result */
    char msg[256];         /* its detail */
    double *hest;          /* n: the estimate of diag(H) at the solution (eq. 3.25) */
    double *hk;            /* n: the same at the primal positions of K */
    double *u, *w;         /* n: scratch of the H products */
    double *lt;            /* max(n, np): scratch of the L_xp products */
};

bool fold_kkt_product_wanted(const fold_problem *prob, const fold_settings *set)
{
    int kind = set->precond.kind;
    return prob->hess_form == FOLD_HESS_PRODUCT && set->backward.method != FOLD_BACKWARD_DIRECT &&
           kind != FOLD_PRECOND_EXACT && kind != FOLD_PRECOND_NEARBY;
}

void fold_kkt_product_free(fold_kkt *kkt)
{
    fold_kkt_hprod *hp = kkt->hprod;
    if (!hp) return;
    free(hp->hest);
    free(hp->hk);
    free(hp->u);
    free(hp->w);
    free(hp->lt);
    free(hp);
    kkt->hprod = NULL;
}

static fold_status create(fold_kkt *kkt)
{
    size_t n = (size_t)kkt->n, w = (size_t)(kkt->np > kkt->n ? kkt->np : kkt->n) + 1;
    fold_kkt_hprod *hp = kkt->hprod = fold_calloc(1, sizeof *hp, "product state");
    if (!hp) return FOLD_ERR_MEMORY;
    hp->hest = fold_calloc(n, sizeof(double), "Hessian diagonal estimate");
    hp->hk = fold_calloc(n, sizeof(double), "Hessian diagonal estimate");
    hp->u = fold_calloc(n, sizeof(double), "product scratch");
    hp->w = fold_calloc(n, sizeof(double), "product scratch");
    hp->lt = fold_calloc(w, sizeof(double), "product scratch");
    if (!hp->hest || !hp->hk || !hp->u || !hp->w || !hp->lt) {
        fold_kkt_product_free(kkt);
        return FOLD_ERR_MEMORY;
    }
    return FOLD_OK;
}

fold_status fold_kkt_product_select(fold_kkt *kkt, const fold_settings *set, bool *changed)
{
    const fold_problem *prob = kkt->prob;
    *changed = false;
    if (prob->hess_form != FOLD_HESS_PRODUCT && !prob->hess_lp_v) return FOLD_OK;
    if (!kkt->hprod && create(kkt) < 0) return FOLD_ERR_MEMORY;
    bool want = fold_kkt_product_wanted(prob, set);
    *changed = want != kkt->hprod->matrix_free;
    kkt->hprod->matrix_free = want;
    return FOLD_OK;
}

bool fold_kkt_product_active(const fold_kkt *kkt)
{
    return kkt->hprod && kkt->hprod->matrix_free;
}

const fold_owned_pattern *fold_kkt_hess_pattern(const fold_kkt *kkt)
{
    static const fold_owned_pattern none = {0, NULL, NULL};
    return fold_kkt_product_active(kkt) ? &none : &kkt->prob->hess_l;
}

fold_eval_stats *fold_kkt_product_stats(fold_kkt *kkt)
{
    return kkt->hprod ? &kkt->hprod->stats : NULL;
}

void fold_kkt_product_count(fold_kkt *kkt, fold_int n)
{
    if (kkt->hprod) kkt->hprod->stats.n_hess_l += n;
}

/* Keep the first failure of a product made where no status can be returned. */
static void keep_failure(fold_kkt_hprod *hp, fold_status st)
{
    if (st == FOLD_OK || hp->status < 0) return;
    hp->status = st == FOLD_CB_RECOVERABLE ? FOLD_ERR_CALLBACK : st;
    snprintf(hp->msg, sizeof hp->msg, "%s",
             st == FOLD_CB_RECOVERABLE ? "a product callback failed (recoverable code) at the "
                                         "solution"
                                       : fold_last_error());
}

/* H v at the solution into out (n), counted. */
static fold_status hess_product(const fold_kkt *kkt, const double *v, double *out)
{
    const fold_solver *s = kkt->solver;
    fold_status st =
        fold_prob_eval_hess_l_v(kkt->prob, s->x, s->p, 1.0, s->lam, v, out, &kkt->hprod->stats);
    if (st == FOLD_CB_RECOVERABLE)
        return fold_error(FOLD_ERR_CALLBACK, "hess_l_v failed (recoverable code) at the solution");
    return st;
}

/* Floor of an entry of the estimate relative to the mean entry: an entry that the probes'
 * noise brings near zero still gets a share of the scale of H. */
#define FOLD_KKT_HPROD_FLOOR 0.1

fold_status fold_kkt_product_estimate(fold_kkt *kkt)
{
    fold_kkt_hprod *hp = kkt->hprod;
    const fold_solver *s = kkt->solver;
    fold_int n = kkt->n;
    double mean = 0.0;
    if (!fold_kkt_product_active(kkt)) return FOLD_OK;
    fold_status st =
        fold_prob_hess_diag_estimate(kkt->prob, s->x, s->p, s->lam, hp->hest, &hp->stats);
    if (st == FOLD_CB_RECOVERABLE)
        st = fold_error(FOLD_ERR_CALLBACK, "hess_l_v failed (recoverable code) at the solution");
    if (st < 0) return fold_error_context(st, "diagonal estimate of the Hessian");
    for (fold_int j = 0; j < n; j++) {
        hp->hest[j] = fabs(hp->hest[j]);
        mean += hp->hest[j] / (double)n;
    }
    for (fold_int j = 0; j < n; j++)
        hp->hest[j] = fmax(hp->hest[j], FOLD_KKT_HPROD_FLOOR * mean);
    return FOLD_OK;
}

void fold_kkt_product_positions(fold_kkt *kkt)
{
    if (!fold_kkt_product_active(kkt)) return;
    for (fold_int j = 0; j < kkt->n; j++) {
        fold_int t = kkt->sys.xpos[j];
        if (t >= 0 && t < kkt->sys.n_primal) kkt->hprod->hk[t] = kkt->hprod->hest[j];
    }
}

double fold_kkt_product_hdiag(const fold_kkt *kkt, fold_int t, bool scaled)
{
    if (!fold_kkt_product_active(kkt) || t < 0 || t >= kkt->sys.n_primal) return 0.0;
    double h = kkt->hprod->hk[t];
    return scaled ? h * kkt->sys.kscale[t] * kkt->sys.kscale[t] : h;
}

void fold_kkt_product_hdiag_add(const fold_kkt *kkt, double *d)
{
    if (!fold_kkt_product_active(kkt)) return;
    for (fold_int j = 0; j < kkt->n; j++)
        d[j] += kkt->hprod->hest[j];
}

fold_status fold_kkt_product_apply_h(fold_kkt *kkt, const double *x, double *y)
{
    fold_kkt_hprod *hp = kkt->hprod;
    const double *s = kkt->sys.kscale;
    fold_status st;
    /* eq. 3.24: S P' H P S x, P the primal rows of K (the free variables in the active form,
     * every variable in the barrier form) */
    for (fold_int j = 0; j < kkt->n; j++) {
        fold_int t = kkt->sys.xpos[j];
        hp->u[j] = t >= 0 && t < kkt->sys.n_primal ? s[t] * x[t] : 0.0;
    }
    if ((st = hess_product(kkt, hp->u, hp->w)) < 0)
        return fold_error_context(st, "matrix-free KKT operator");
    for (fold_int j = 0; j < kkt->n; j++) {
        fold_int t = kkt->sys.xpos[j];
        if (t >= 0 && t < kkt->sys.n_primal) y[t] += s[t] * hp->w[j];
    }
    return FOLD_OK;
}

void fold_kkt_product_hmul_add(const fold_kkt *kkt, const double *x, double *y)
{
    fold_kkt_hprod *hp = kkt->hprod;
    fold_status st = hess_product(kkt, x, hp->w);
    if (st < 0) {
        keep_failure(hp, st);
        return;
    }
    for (fold_int j = 0; j < kkt->n; j++)
        y[j] += hp->w[j];
}

bool fold_kkt_lxp_product(const fold_kkt *kkt, bool transpose, const double *v, double *y,
                          bool accumulate)
{
    const fold_solver *s = kkt->solver;
    fold_kkt_hprod *hp = kkt->hprod;
    if (!kkt->prob->hess_lp_v || !hp) return false;
    fold_int len = transpose ? kkt->np : kkt->n;
    fold_status st =
        fold_prob_eval_hess_lp_v(kkt->prob, s->x, s->p, s->lam, transpose, v, hp->lt, &hp->stats);
    if (st != FOLD_OK) {
        keep_failure(hp, st);
        memset(hp->lt, 0, (size_t)len * sizeof(double));
    }
    for (fold_int k = 0; k < len; k++)
        y[k] = (accumulate ? y[k] : 0.0) + hp->lt[k];
    return true;
}

bool fold_kkt_lxp_accumulate(const fold_kkt *kkt, const double *v, double *s, double *a)
{
    fold_kkt_hprod *hp = kkt->hprod;
    fold_int n = kkt->n, np = kkt->np;
    if (!kkt->prob->hess_lp_v || !hp) return false;
    double *abs_v = fold_malloc((size_t)(n + np) + 1, sizeof *abs_v, "null direction");
    if (!abs_v) {
        keep_failure(hp, FOLD_ERR_MEMORY);
        return true;
    }
    double *t = abs_v + n;
    for (fold_int j = 0; j < n; j++)
        abs_v[j] = fabs(v[j]);
    fold_kkt_lxp_product(kkt, true, abs_v, t, false);
    for (fold_int k = 0; k < np; k++)
        a[k] += fabs(t[k]);
    fold_kkt_lxp_product(kkt, true, v, t, false);
    for (fold_int k = 0; k < np; k++) {
        s[k] += t[k];
        a[k] += fabs(t[k]);
    }
    free(abs_v);
    return true;
}

void fold_kkt_product_call_begin(fold_kkt *kkt)
{
    if (!kkt || !kkt->hprod) return;
    kkt->hprod->mark = kkt->hprod->stats.n_hess_l;
    kkt->hprod->status = FOLD_OK;
}

fold_status fold_kkt_product_call_end(const fold_kkt *kkt, fold_backward_info *info, fold_status st,
                                      const char *fn)
{
    const fold_kkt_hprod *hp = kkt ? kkt->hprod : NULL;
    if (!hp) return st;
    info->n_hess_products = hp->stats.n_hess_l - hp->mark;
    if (st < 0 || hp->status >= 0) return st;
    return fold_error(hp->status, "%s: %s", fn, hp->msg);
}
