/* One-sided derivatives of the optimal value where the solution is not unique because
 * variables enter the problem identically (doc/math.md §3.7, "twins"): equal columns of the
 * constraint Jacobian, no curvature and equal objective gradients (generators at one bus with
 * equal linear costs). Their sum is determined, the split is not: each twin ranges over an
 * interval, and f*'(p; +e_k) is the smallest, -f*'(p; -e_k) the largest value of dL/dp_k
 * over it, for a parameter whose dL/dp_k depends on one twin only. */
#include "fold/fold_internal.h"
#include "fold/kkt_pattern.h"
#include "fold/kkt_product.h"

typedef struct twin_key {
    fold_int var;
    uint64_t hash;
} twin_key;

static int cmp_key(const void *a, const void *b)
{
    const twin_key *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return (x->var > y->var) - (x->var < y->var);
}

/* Column j of J (CSC by columns from the triplets) and grad f_j equal to those of k? */
static bool same_column(const fold_int *cp, const fold_int *ci, const double *cx,
                        const double *grad, fold_int j, fold_int k)
{
    if (cp[j + 1] - cp[j] != cp[k + 1] - cp[k] || grad[j] != grad[k]) return false;
    for (fold_int t = 0; t < cp[j + 1] - cp[j]; t++)
        if (ci[cp[j] + t] != ci[cp[k] + t] || cx[cp[j] + t] != cx[cp[k] + t]) return false;
    return true;
}

/* dL/dp at x (grad_f_p + g_p' lam) into out (np). */
static fold_status dl_dp(const fold_solver *sv, const fold_kkt *kkt, const double *x, double *gpv,
                         double *out)
{
    const fold_problem *prob = kkt->prob;
    fold_status st;
    if ((st = fold_prob_eval_grad_f_p(prob, x, sv->p, out, NULL)) ||
        (st = fold_prob_eval_jac_g_p(prob, x, sv->p, gpv, NULL)))
        return st == FOLD_CB_RECOVERABLE ? FOLD_ERR_CALLBACK : st;
    for (fold_int k = 0; k < prob->jac_g_p.nnz; k++)
        out[prob->jac_g_p.col[k]] += sv->lam[prob->jac_g_p.row[k]] * gpv[k];
    return FOLD_OK;
}

/* The range of twin a in its group (sum fixed, each within its bounds). */
static void twin_range(fold_bounds bd, const double *x, const twin_key *g, fold_int len, fold_int a,
                       double *lo, double *hi)
{
    double room_lo = 0.0, room_hi = 0.0; /* how far the others can go down / up */
    for (fold_int t = 0; t < len; t++) {
        fold_int b = g[t].var;
        if (b == a) continue;
        room_lo += x[b] - bd.xl[b];
        room_hi += bd.xu[b] - x[b];
    }
    *lo = fmax(bd.xl[a], x[a] - room_hi);
    *hi = fmin(bd.xu[a], x[a] + room_lo);
}

fold_status fold_value_twins(fold_solver *solver, const signed char *xs, const unsigned char *held,
                             double *dlo, double *dhi, unsigned char *unknown)
{
    fold_kkt *kkt = solver->backward;
    const fold_problem *prob = kkt->prob;
    fold_int n = kkt->n, np = kkt->np, cnt = 0;
    const fold_owned_pattern *jp = &prob->jac_g, *hp = fold_kkt_hess_pattern(kkt),
                             *lp = &prob->hess_lp;
    fold_status st = FOLD_OK;
    size_t nn = (size_t)n + 1;
    fold_int *cp = fold_calloc(nn + 1, sizeof *cp, "twins"), *ci = NULL, *owner = NULL;
    double *cx = NULL, *grad = fold_malloc(nn, sizeof *grad, "twins"), *x = NULL;
    double *base = NULL, *val = NULL, *gpv = NULL;
    unsigned char *curved = fold_calloc(nn, 1, "twins");
    twin_key *keys = fold_malloc(nn, sizeof *keys, "twins");
    if (!cp || !grad || !curved || !keys) goto oom;
    if ((st = fold_prob_eval_grad_f(prob, solver->x, solver->p, grad, NULL))) goto done;
    for (fold_int k = 0; k < hp->nnz; k++)
        if (kkt->val.hv[k] != 0.0) curved[hp->row[k]] = curved[hp->col[k]] = 1;
    if (fold_kkt_product_active(kkt)) memset(curved, 1, nn); /* H by products: no twins */
    /* J by columns, rows sorted (counting sort by column of the row-ordered triplets) */
    ci = fold_malloc((size_t)jp->nnz + 1, sizeof *ci, "twins");
    cx = fold_malloc((size_t)jp->nnz + 1, sizeof *cx, "twins");
    if (!ci || !cx) goto oom;
    for (fold_int k = 0; k < jp->nnz; k++)
        cp[jp->col[k] + 1]++;
    for (fold_int j = 0; j < n; j++)
        cp[j + 1] += cp[j];
    {
        fold_int *next = fold_malloc(nn, sizeof *next, "twins");
        if (!next) goto oom;
        memcpy(next, cp, (size_t)n * sizeof *next);
        for (fold_int k = 0; k < jp->nnz; k++) {
            ci[next[jp->col[k]]] = jp->row[k];
            cx[next[jp->col[k]]++] = kkt->val.jv[k];
        }
        free(next);
        for (fold_int j = 0; j < n; j++) /* insertion sort: columns are short */
            for (fold_int a = cp[j] + 1; a < cp[j + 1]; a++)
                for (fold_int b = a; b > cp[j] && ci[b - 1] > ci[b]; b--) {
                    fold_int ti = ci[b];
                    double tx = cx[b];
                    ci[b] = ci[b - 1], cx[b] = cx[b - 1];
                    ci[b - 1] = ti, cx[b - 1] = tx;
                }
    }
    for (fold_int j = 0; j < n; j++) {
        if (xs[j] != FOLD_XS_FREE || held[j] || curved[j] || cp[j + 1] == cp[j]) continue;
        keys[cnt++] = (twin_key){j, fold_pattern_key(ci + cp[j], cp[j + 1] - cp[j])};
    }
    qsort(keys, (size_t)cnt, sizeof *keys, cmp_key);
    x = fold_malloc(nn, sizeof *x, "twins");
    base = fold_malloc((size_t)np + 1, sizeof *base, "twins");
    val = fold_malloc((size_t)np + 1, sizeof *val, "twins");
    gpv = fold_malloc((size_t)lp->nnz + (size_t)prob->jac_g_p.nnz + 1, sizeof *gpv, "twins");
    owner = fold_malloc((size_t)np + 1, sizeof *owner, "twins");
    if (!x || !base || !val || !gpv || !owner) goto oom;
    bool have_base = false;
    for (fold_int g0 = 0; g0 < cnt;) {
        /* a group: equal hashes and equal columns to its first member */
        fold_int g1 = g0 + 1;
        while (g1 < cnt && keys[g1].hash == keys[g0].hash &&
               same_column(cp, ci, cx, grad, keys[g0].var, keys[g1].var))
            g1++;
        if (g1 - g0 < 2) {
            g0 = g1;
            continue;
        }
        /* the parameters whose dL/dp depends on one member only (hess_lp column) */
        for (fold_int k = 0; k < np; k++)
            owner[k] = -1;
        for (fold_int t = g0; t < g1 && prob->hess_lp_v; t++) { /* L_xp' e_member */
            memset(x, 0, nn * sizeof *x);
            x[keys[t].var] = 1.0;
            fold_kkt_lxp_product(kkt, true, x, val, false);
            for (fold_int k = 0; k < np; k++)
                if (val[k] != 0.0) owner[k] = owner[k] == -1 ? keys[t].var : -2;
        }
        for (fold_int q = 0; q < lp->nnz; q++)
            for (fold_int t = g0; t < g1; t++)
                if (lp->row[q] == keys[t].var)
                    owner[lp->col[q]] = owner[lp->col[q]] == -1 ? keys[t].var : -2;
        if (!have_base && (st = dl_dp(solver, kkt, solver->x, gpv, base))) goto done;
        have_base = true;
        for (fold_int k = 0; k < np; k++) {
            fold_int a = owner[k];
            if (a == -2) unknown[k] = 1;
            if (a < 0) continue;
            double lo, hi, e[2];
            twin_range(fold_solver_bounds(solver), solver->x, keys + g0, g1 - g0, a, &lo, &hi);
            for (int s = 0; s < 2; s++) {
                memcpy(x, solver->x, (size_t)n * sizeof *x);
                x[a] = s ? hi : lo;
                if ((st = dl_dp(solver, kkt, x, gpv, val))) goto done;
                e[s] = val[k] - base[k];
            }
            /* right derivative: the smallest over the segment; left: the largest */
            dhi[k] += fmin(0.0, fmin(e[0], e[1]));
            dlo[k] += fmax(0.0, fmax(e[0], e[1]));
        }
        g0 = g1;
    }
    goto done;
oom:
    st = FOLD_ERR_MEMORY;
done:
    free(cp);
    free(ci);
    free(cx);
    free(grad);
    free(curved);
    free(keys);
    free(x);
    free(base);
    free(val);
    free(gpv);
    free(owner);
    return st;
}
