/* Classification of the sides of constraints and bounds from the accuracy a point reached
 * (doc/math.md §3.2, eqs. 3.3-3.5). A side is decided by its slack when its multiplier is
 * zero at the accuracy of stationarity, by its multiplier when its slack is zero at the
 * accuracy of feasibility, and otherwise by its barrier stiffness Sigma = multiplier / slack
 * against the curvature h of the problem in its direction; within FOLD_SIDE_BAND decades of
 * that crossover it is ambiguous. */
#include <float.h>

#include "forward/sides.h"

void fold_sides_free(fold_sides *S)
{
    free(S->state);
    free(S->dist);
    free(S->mult);
    free(S->logr);
    free(S->suspect);
    memset(S, 0, sizeof *S);
}

fold_status fold_sides_copy(const fold_sides *from, fold_sides *to)
{
    size_t c = (size_t)from->count;
    *to = *from;
    to->state = fold_malloc(c + 1, 1, "side states");
    to->suspect = fold_malloc(c + 1, 1, "side verdicts");
    to->dist = fold_malloc(c + 1, sizeof(double), "side distances");
    to->mult = fold_malloc(c + 1, sizeof(double), "side multipliers");
    to->logr = fold_malloc(c + 1, sizeof(double), "side stiffness");
    if (!to->state || !to->suspect || !to->dist || !to->mult || !to->logr) {
        fold_sides_free(to);
        return FOLD_ERR_MEMORY;
    }
    memcpy(to->state, from->state, c);
    memcpy(to->suspect, from->suspect, c);
    memcpy(to->dist, from->dist, c * sizeof(double));
    memcpy(to->mult, from->mult, c * sizeof(double));
    memcpy(to->logr, from->logr, c * sizeof(double));
    return FOLD_OK;
}

/* decide's state for a side held active by its stiffness alone (finish_item). */
#define SIDE_ACTIVE_BY_BAND 4

/* Values the classification needs at the point (doc/math.md eqs. 3.3-3.4). Per variable j:
 * the scale s_j of its stationarity row (largest term of grad_x L_j) and its curvature h_j;
 * per row i: g_i, the norm a_i = ||grad g_i||_inf, the curvature of the row and the bound
 * min_j s_j / |J_ij| of a multiplier that every row it enters could absorb. */
typedef struct point_data {
    double *g, *rown, *hrow, *lamcap, *brow; /* m */
    double *scale, *hvar, *bvar;             /* n */
    /* brow, bvar: the band beyond which the stiffness alone holds a side active: FOLD_SIDE_BAND
     * where the curvature is the variable's own, twice that where it is estimated through
     * the rows (a variable that enters only linearly: the estimate can be far too small) */
    double *res;   /* n: |r_j|, the stationarity residual of row j (0 for fixed variables) */
    double viol_x; /* largest violation in x units: bounds, and rows divided by their norm */
    fold_int n_hess_products; /* of the diagonal estimate (FOLD_HESS_PRODUCT) */
} point_data;

/* h_j (doc/math.md eq. 3.4): the larger of |H_jj| and the curvature with which the rows of
 * j hold it, min over rows i of J_ij^2 min_{k != j} |H_kk| / J_ik^2 (a variable that enters
 * only linearly, e.g. a generator's reactive output, or whose own curvature is that of the
 * side in question, e.g. a flow variable's 2 mu, is held by the other variables of its
 * rows); the median |H_jj| where neither exists. A row's curvature is the largest h_j of
 * its variables, each held by its other rows: a row does not hold its own variables in the
 * direction of its own sides (the thermal limit of a flow-variable branch held by itself
 * through the other flow variable's 2 mu gave h = 1.5e-6 instead of 3.4e2). */
static void curvatures(const fold_problem *prob, const double *jv, const double *hd, point_data *D)
{
    fold_int n = prob->n, m = prob->m, cnt = 0;
    const fold_owned_pattern *jp = &prob->jac_g;
    double h_floor = 1.0, *coupled = D->hvar;
    /* the two smallest |H_kk| / J_ik^2 of each row, and the variable of the smallest; per
     * variable the second smallest coupling over its rows (c2) and the row of the smallest */
    double *b1 = fold_malloc(2 * (size_t)m + 1, sizeof *b1, "row curvatures"), *b2 = b1 + m;
    fold_int *arg = fold_malloc((size_t)m + 1, sizeof *arg, "row curvatures");
    double *c2 = fold_malloc((size_t)n + 1, sizeof *c2, "row curvatures");
    fold_int *c_row = fold_malloc((size_t)n + 1, sizeof *c_row, "row curvatures");
    for (fold_int j = 0; j < n; j++)
        if (hd[j] != 0.0) coupled[cnt++] = fabs(hd[j]);
    if (cnt > 0) {
        qsort(coupled, (size_t)cnt, sizeof(double), fold_cmp_double);
        h_floor = coupled[cnt / 2];
    }
    for (fold_int j = 0; j < n; j++)
        coupled[j] = HUGE_VAL;
    bool coupling = b1 && arg && c2 && c_row; /* else (out of memory) the curvatures alone */
    if (coupling) {
        for (fold_int j = 0; j < n; j++) {
            c2[j] = HUGE_VAL;
            c_row[j] = -1;
        }
        for (fold_int i = 0; i < m; i++) {
            b1[i] = b2[i] = HUGE_VAL;
            arg[i] = -1;
        }
        for (fold_int k = 0; k < jp->nnz; k++) {
            fold_int i = jp->row[k], j = jp->col[k];
            if (hd[j] == 0.0 || jv[k] == 0.0) continue;
            double v = fabs(hd[j]) / (jv[k] * jv[k]);
            if (v < b1[i]) {
                b2[i] = b1[i];
                b1[i] = v;
                arg[i] = j;
            } else if (v < b2[i]) {
                b2[i] = v;
            }
        }
        for (fold_int k = 0; k < jp->nnz; k++) {
            fold_int i = jp->row[k], j = jp->col[k];
            double other = arg[i] == j ? b2[i] : b1[i];
            if (jv[k] == 0.0 || !(other < HUGE_VAL)) continue;
            double c = jv[k] * jv[k] * other;
            if (c < coupled[j]) {
                c2[j] = coupled[j];
                coupled[j] = c;
                c_row[j] = i;
            } else if (c < c2[j]) {
                c2[j] = c;
            }
        }
    }
    for (fold_int j = 0; j < n; j++) {
        double c = coupled[j] < HUGE_VAL ? coupled[j] : 0.0, h = fmax(fabs(hd[j]), c);
        D->hvar[j] = h > 0.0 ? h : h_floor;
        D->bvar[j] = fabs(hd[j]) >= c && hd[j] != 0.0 ? FOLD_SIDE_BAND : 2.0 * FOLD_SIDE_BAND;
    }
    for (fold_int i = 0; i < m; i++) {
        D->hrow[i] = 0.0;
        D->brow[i] = 2.0 * FOLD_SIDE_BAND;
    }
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int i = jp->row[k], j = jp->col[k];
        double h = D->hvar[j], band = D->bvar[j];
        if (coupling && c_row[j] == i) { /* j as held by its other rows */
            double c = c2[j] < HUGE_VAL ? c2[j] : 0.0;
            h = fmax(fabs(hd[j]), c);
            h = h > 0.0 ? h : h_floor;
            band = fabs(hd[j]) >= c && hd[j] != 0.0 ? FOLD_SIDE_BAND : 2.0 * FOLD_SIDE_BAND;
        }
        if (h > D->hrow[i]) {
            D->hrow[i] = h;
            D->brow[i] = band;
        }
    }
    for (fold_int i = 0; i < m; i++)
        if (!(D->hrow[i] > 0.0)) D->hrow[i] = h_floor;
    free(b1);
    free(arg);
    free(c2);
    free(c_row);
}

static fold_status eval_point(const fold_problem *prob, const double *p, fold_bounds b,
                              const double *x, const double *lam, const double *zl,
                              const double *zu, point_data *D)
{
    fold_int n = prob->n, m = prob->m;
    size_t nj = (size_t)prob->jac_g.nnz, nh = (size_t)prob->hess_l.nnz;
    double *w = fold_calloc(3 * (size_t)n + nj + nh + 1, sizeof *w, "side classification");
    fold_status st = FOLD_OK;
    if (!w) return FOLD_ERR_MEMORY;
    double *grad = w, *jv = grad + n, *hv = jv + nj, *r = hv + nh, *hd = r + n;
    if ((st = fold_prob_eval_grad_f(prob, x, p, grad, NULL)) ||
        (st = fold_prob_eval_g(prob, x, p, D->g, NULL)) ||
        (st = fold_prob_eval_jac_g(prob, x, p, jv, NULL)))
        goto done;
    /* products: the estimate of the diagonal (8 products instead of n, doc/math.md eq. 3.25) */
    bool by_products = prob->hess_form == FOLD_HESS_PRODUCT;
    fold_eval_stats es = {0};
    if (by_products && (st = fold_prob_hess_diag_estimate(prob, x, p, lam, hd, &es))) goto done;
    D->n_hess_products = es.n_hess_l;
    if (!by_products && fold_prob_has_hessian(prob) &&
        (st = fold_prob_eval_hess_l(prob, x, p, 1.0, lam, hv, NULL)))
        goto done;
    /* Stationarity residual (doc/math.md eq. 2.6) and the scale of each of its rows */
    for (fold_int j = 0; j < n; j++) {
        r[j] = grad[j] - zl[j] + zu[j];
        D->scale[j] = fmax(fabs(grad[j]), fmax(fabs(zl[j]), fabs(zu[j])));
    }
    for (fold_int k = 0; k < (fold_int)nj; k++) {
        fold_int i = prob->jac_g.row[k], j = prob->jac_g.col[k];
        D->rown[i] = fmax(D->rown[i], fabs(jv[k]));
        r[j] += jv[k] * lam[i];
        D->scale[j] = fmax(D->scale[j], fabs(jv[k] * lam[i]));
    }
    for (fold_int j = 0; j < n; j++) /* a fixed variable's row holds for some zu - zl */
        D->res[j] = prob->x_lower[j] == prob->x_upper[j] ? 0.0 : fabs(r[j]);
    /* The largest multiplier of row i that every stationarity row it enters could absorb
     * within its residual: min over j of |r_j| / |J_ij|. */
    for (fold_int i = 0; i < m; i++)
        D->lamcap[i] = HUGE_VAL;
    for (fold_int k = 0; k < (fold_int)nj; k++)
        if (jv[k] != 0.0) {
            fold_int i = prob->jac_g.row[k];
            D->lamcap[i] = fmin(D->lamcap[i], D->res[prob->jac_g.col[k]] / fabs(jv[k]));
        }
    for (fold_int k = 0; !by_products && fold_prob_has_hessian(prob) && k < (fold_int)nh; k++)
        if (prob->hess_l.row[k] == prob->hess_l.col[k]) hd[prob->hess_l.row[k]] += hv[k];
    curvatures(prob, jv, hd, D);
    /* Violations in x units */
    D->viol_x = 0.0;
    for (fold_int j = 0; j < n; j++)
        D->viol_x = fmax(D->viol_x, fmax(b.xl[j] - x[j], x[j] - b.xu[j]));
    for (fold_int i = 0; i < m; i++) {
        double v = fmax(b.gl[i] - D->g[i], D->g[i] - b.gu[i]);
        if (v > 0.0) D->viol_x = fmax(D->viol_x, v / (D->rown[i] > 0.0 ? D->rown[i] : 1.0));
    }
done:
    free(w);
    if (st == FOLD_CB_RECOVERABLE)
        st = fold_error(FOLD_ERR_CALLBACK, "a callback failed (recoverable code) at the solution");
    return st;
}

/* State of one side from its distance d, multiplier z, row norm a and the multiplier eps_z
 * that the stationarity rows it enters cannot tell from zero (eqs. 3.3-3.4). logr, the
 * stiffness Sigma = z a^2 / d against the curvature h in decades, says which way an
 * undecided side leans. */
static signed char decide(const fold_sides *S, double d, double z, double a, double b, double h,
                          double band, double eps_z, double *logr)
{
    double dx = d / a, zg = z * a; /* x units, gradient units */
    bool zero_d = dx <= S->eps_p || d <= FOLD_SIDE_FLOOR * DBL_EPSILON * (1.0 + fabs(b));
    bool zero_z = z <= eps_z;
    *logr = dx == 0.0 ? HUGE_VAL : zg == 0.0 ? -HUGE_VAL : log10(zg / dx / h);
    if (zero_d && zero_z) return FOLD_SIDE_WEAK;
    if (zero_d) return FOLD_SIDE_ACTIVE;
    if (zero_z) return FOLD_SIDE_INACTIVE;
    if (*logr >= band) return SIDE_ACTIVE_BY_BAND;
    if (*logr <= -FOLD_SIDE_BAND) return FOLD_SIDE_INACTIVE;
    return FOLD_SIDE_AMBIGUOUS;
}

/* Complementarity level: the median product over the sides with both factors positive. */
static double level(const fold_sides *S)
{
    fold_int cnt = 0;
    double *prod = fold_malloc((size_t)S->count + 1, sizeof *prod, "complementarity level");
    double mu = 0.0;
    if (!prod) return 0.0;
    for (fold_int s = 0; s < S->count; s++)
        if (S->state[s] != FOLD_SIDE_NA && S->dist[s] > 0.0 && S->mult[s] > 0.0)
            prod[cnt++] = S->dist[s] * S->mult[s];
    if (cnt > 0) {
        qsort(prod, (size_t)cnt, sizeof *prod, fold_cmp_double);
        mu = prod[cnt / 2];
    }
    free(prod);
    return mu;
}

static void set_side(fold_sides *S, fold_int s, double d, double z, double a, double b, double h,
                     double band, double eps_z)
{
    S->dist[s] = fmax(d, 0.0);
    S->mult[s] = fmax(z, 0.0);
    S->state[s] = decide(S, S->dist[s], S->mult[s], a, b, h, band, eps_z, &S->logr[s]);
}

/* The sides lo and hi (-1 for none) of one item, set by set_side. Both held active by their
 * stiffness alone is a contradiction (an item cannot sit at both bounds): the curvature
 * estimate is wrong there (a variable held only through weakly curved neighbours sits at the
 * centre of its range), so both are ambiguous. Then the verdicts. */
static void finish_item(fold_sides *S, fold_int lo, fold_int hi, const signed char *verdict)
{
    if (lo >= 0 && hi >= 0 && S->state[lo] == SIDE_ACTIVE_BY_BAND &&
        S->state[hi] == SIDE_ACTIVE_BY_BAND)
        S->state[lo] = S->state[hi] = FOLD_SIDE_AMBIGUOUS;
    fold_int sides[2] = {lo, hi};
    for (int k = 0; k < 2; k++) {
        fold_int s = sides[k];
        if (s < 0) continue;
        if (S->state[s] == SIDE_ACTIVE_BY_BAND) S->state[s] = FOLD_SIDE_ACTIVE;
        if (!(verdict && verdict[s] && fold_side_undecided(S, s))) continue;
        /* A verdict on the other side of the crossover is suspect: a multiplier that fell
         * with mu while the side's stiffness still exceeds the curvature (logr > 0) may be a
         * variable held at the analytic centre of a nearly flat direction, which the central
         * path leaves only at a much smaller mu (likewise a slack that fell while logr < 0):
         * the indicators hold in the asymptotic regime only. The fold checks the derivatives
         * of such sides against the central path (src/fold/variants.c). */
        if (S->state[s] == FOLD_SIDE_AMBIGUOUS && (verdict[s] > 0) != (S->logr[s] >= 0.0))
            S->suspect[s] = 1;
        S->state[s] = verdict[s] > 0 ? FOLD_SIDE_ACTIVE : FOLD_SIDE_INACTIVE;
    }
}

fold_status fold_sides_eval(const fold_problem *prob, const double *p, const double *x,
                            const double *lam, const double *zl, const double *zu,
                            const signed char *verdict, fold_sides *S)
{
    fold_int n = prob->n, m = prob->m;
    point_data D = {0};
    fold_status st;
    memset(S, 0, sizeof *S);
    S->n = n;
    S->m = m;
    S->count = 2 * (n + m);
    size_t c = (size_t)S->count, mm = (size_t)m + 1;
    S->state = fold_malloc(c, 1, "side states");
    S->dist = fold_calloc(c, sizeof(double), "side distances");
    S->mult = fold_calloc(c, sizeof(double), "side multipliers");
    S->logr = fold_calloc(c, sizeof(double), "side stiffness");
    S->suspect = fold_calloc(c, 1, "suspect verdicts");
    double *buf = fold_calloc(5 * mm + 4 * (size_t)n, sizeof(double), "side classification");
    /* the bounds at p (doc/math.md §2.5): copies only where some move with p */
    double *moved = NULL;
    fold_bounds b = {prob->x_lower, prob->x_upper, prob->g_lower, prob->g_upper};
    if (prob->has_bound_maps) {
        moved = fold_malloc(2 * ((size_t)n + mm), sizeof(double), "bounds at p");
        if (moved) {
            fold_problem_bounds(prob, p, moved, moved + n, moved + 2 * n, moved + 2 * n + mm);
            b = (fold_bounds){moved, moved + n, moved + 2 * n, moved + 2 * n + mm};
        }
    }
    if ((prob->has_bound_maps && !moved) || !S->state || !S->dist || !S->mult || !S->logr ||
        !S->suspect || !buf) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    D.g = buf;
    D.rown = D.g + mm;
    D.hrow = D.rown + mm;
    D.lamcap = D.hrow + mm;
    D.scale = D.lamcap + mm;
    D.hvar = D.scale + n;
    D.res = D.hvar + n;
    D.brow = D.res + n;
    D.bvar = D.brow + mm;
    memset(S->state, FOLD_SIDE_NA, c);
    if ((st = eval_point(prob, p, b, x, lam, zl, zu, &D))) goto done;
    S->n_hess_products = D.n_hess_products;
    S->eps_p = FOLD_SIDE_FLOOR * D.viol_x;
    for (fold_int j = 0; j < n; j++) {
        double lo = b.xl[j], hi = b.xu[j], eps_z = FOLD_SIDE_FLOOR * D.res[j];
        if (lo == hi) continue;
        fold_int sl = fold_is_inf_bound(lo) ? -1 : fold_side_of_var(j, 0);
        fold_int su = fold_is_inf_bound(hi) ? -1 : fold_side_of_var(j, 1);
        if (sl >= 0) set_side(S, sl, x[j] - lo, fabs(zl[j]), 1.0, lo, D.hvar[j], D.bvar[j], eps_z);
        if (su >= 0) set_side(S, su, hi - x[j], fabs(zu[j]), 1.0, hi, D.hvar[j], D.bvar[j], eps_z);
        finish_item(S, sl, su, verdict);
    }
    for (fold_int i = 0; i < m; i++) {
        double lo = b.gl[i], hi = b.gu[i], a = D.rown[i] > 0.0 ? D.rown[i] : 1.0;
        double eps_z = FOLD_SIDE_FLOOR * D.lamcap[i];
        if (lo == hi) continue;
        /* L = f + lam'g: lam >= 0 points to the upper bound, <= 0 to the lower (eq. 2.5); the
         * sign picks the side of a range, while a one-sided row's strength is |lam| (a wrong
         * sign is a violation of the KKT conditions, measured by eq. 2.10, not weakness) */
        bool range = !fold_is_inf_bound(lo) && !fold_is_inf_bound(hi);
        fold_int sl = fold_is_inf_bound(lo) ? -1 : fold_side_of_con(n, i, 0);
        fold_int su = fold_is_inf_bound(hi) ? -1 : fold_side_of_con(n, i, 1);
        if (sl >= 0)
            set_side(S, sl, D.g[i] - lo, range ? -lam[i] : fabs(lam[i]), a, lo, D.hrow[i],
                     D.brow[i], eps_z);
        if (su >= 0)
            set_side(S, su, hi - D.g[i], range ? lam[i] : fabs(lam[i]), a, hi, D.hrow[i], D.brow[i],
                     eps_z);
        finish_item(S, sl, su, verdict);
    }
    S->mu = level(S);
    for (fold_int s = 0; s < S->count; s++) {
        S->n_active += S->state[s] == FOLD_SIDE_ACTIVE;
        S->n_weak += S->state[s] == FOLD_SIDE_WEAK;
        S->n_ambiguous += S->state[s] == FOLD_SIDE_AMBIGUOUS;
        S->n_suspect += S->suspect[s];
    }
done:
    free(buf);
    free(moved);
    if (st) fold_sides_free(S);
    return st;
}
