/* Evaluation of the derivative callbacks at the stored solution: the values of H, J, L_xp
 * and g_p of doc/math.md §2.1 in the order of the problem's sparsity patterns, and the
 * products with them. */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

static fold_status alloc_values(fold_int nnz, double **out, const char *what)
{
    *out = fold_malloc((size_t)(nnz > 0 ? nnz : 1), sizeof(double), what);
    return *out ? FOLD_OK : FOLD_ERR_MEMORY;
}

/* Also undoes a partial create_values, so that the next call starts over. */
void fold_kkt_values_free(fold_kkt_values *val)
{
    double **vals[] = {&val->hv, &val->jv, &val->lpv, &val->gpv};
    fold_int **idx[] = {&val->lp_ptr, &val->lp_idx, &val->gp_ptr, &val->gp_idx};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        free(*vals[k]);
        *vals[k] = NULL;
        free(*idx[k]);
        *idx[k] = NULL;
    }
}

/* The entries of pattern P (np columns) grouped by column: counting sort. */
static fold_status by_param(const fold_owned_pattern *P, fold_int np, fold_int **ptr,
                            fold_int **idx)
{
    *ptr = fold_calloc((size_t)np + 1, sizeof(fold_int), "parameter index");
    *idx = fold_malloc((size_t)(P->nnz > 0 ? P->nnz : 1), sizeof(fold_int), "parameter index");
    if (!*ptr || !*idx) return FOLD_ERR_MEMORY;
    for (fold_int k = 0; k < P->nnz; k++)
        (*ptr)[P->col[k] + 1]++;
    for (fold_int j = 0; j < np; j++)
        (*ptr)[j + 1] += (*ptr)[j];
    for (fold_int k = 0; k < P->nnz; k++) /* ptr[j] runs ahead, then is shifted back */
        (*idx)[(*ptr)[P->col[k]]++] = k;
    for (fold_int j = np; j > 0; j--)
        (*ptr)[j] = (*ptr)[j - 1];
    (*ptr)[0] = 0;
    return FOLD_OK;
}

/* The value arrays, once per problem (patterns never change). No matrix is assembled from
 * them: products with H, J, L_xp and g_p run on the callback triplets (kkt_rhs.c). */
static fold_status create_values(fold_kkt *kkt)
{
    const fold_problem *prob = kkt->prob;
    fold_status st;
    if ((st = alloc_values(prob->hess_l.nnz, &kkt->val.hv, "hess_l values")) ||
        (st = alloc_values(prob->jac_g.nnz, &kkt->val.jv, "jac_g values")) ||
        (st = alloc_values(prob->hess_lp.nnz, &kkt->val.lpv, "hess_lp values")) ||
        (st = alloc_values(prob->jac_g_p.nnz, &kkt->val.gpv, "jac_g_p values")) ||
        (st = by_param(&prob->hess_lp, prob->np, &kkt->val.lp_ptr, &kkt->val.lp_idx)) ||
        (st = by_param(&prob->jac_g_p, prob->np, &kkt->val.gp_ptr, &kkt->val.gp_idx)))
        return st;
    return FOLD_OK;
}

fold_status fold_kkt_evaluate(fold_kkt *kkt, const fold_solver *solver)
{
    const fold_problem *prob = kkt->prob;
    const double *x = solver->x, *p = solver->p, *lam = solver->lam;
    fold_status st;
    if (!kkt->val.has_matrices) {
        if ((st = create_values(kkt)) != FOLD_OK) {
            fold_kkt_values_free(&kkt->val);
            return st;
        }
        kkt->val.has_matrices = true;
    }
    /* A recoverable (> 0) callback failure cannot be retried here: it is an error. */
    if ((st = fold_prob_eval_jac_g(prob, x, p, kkt->val.jv, NULL)) ||
        (st = fold_kkt_product_active(kkt)
                  ? fold_kkt_product_estimate(kkt) /* H by products: its diagonal estimate */
                  : fold_prob_eval_hess_l(prob, x, p, 1.0, lam, kkt->val.hv,
                                          fold_kkt_product_stats(kkt))) ||
        (st = fold_prob_eval_hess_lp(prob, x, p, lam, kkt->val.lpv, NULL)) ||
        (st = fold_prob_eval_jac_g_p(prob, x, p, kkt->val.gpv, NULL))) {
        if (st == FOLD_CB_RECOVERABLE)
            return fold_error(FOLD_ERR_CALLBACK,
                              "a derivative callback failed (recoverable code) at the solution");
        return st;
    }
    return FOLD_OK;
}

void fold_kkt_pattern_mul(const fold_owned_pattern *P, const double *v, bool transpose,
                          const double *x, double *y, fold_int len, bool accumulate)
{
    fold_prob_pattern_mul(P, v, transpose, x, y, len, accumulate);
}

/* y += H x for the Hessian of the Lagrangian given by its lower triangle. */
void fold_kkt_hmul_add(const fold_kkt *kkt, const double *x, double *y)
{
    if (fold_kkt_product_active(kkt))
        fold_kkt_product_hmul_add(kkt, x, y);
    else
        fold_prob_hess_mul_add(kkt->prob, kkt->val.hv, x, y);
}

void fold_kkt_jmul_add(const fold_kkt *kkt, const double *x, double *y)
{
    fold_kkt_pattern_mul(&kkt->prob->jac_g, kkt->val.jv, false, x, y, kkt->m, true);
}

void fold_kkt_jtmul_add(const fold_kkt *kkt, const double *x, double *y)
{
    fold_kkt_pattern_mul(&kkt->prob->jac_g, kkt->val.jv, true, x, y, kkt->n, true);
}
