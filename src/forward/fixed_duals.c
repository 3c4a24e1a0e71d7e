/* Bound multipliers of fixed variables (xL = xU) after an Ipopt solve. Ipopt removes such
 * variables from its problem (fixed_variable_treatment = make_parameter) and returns zl = zu
 * = 0 for them, which leaves their rows of stationarity (doc/math.md eq. 2.3) violated by
 * the whole price of the variable. The row itself gives the multiplier: zl - zu = grad f_j
 * + (J' lam)_j, on the side its sign points to. */
#include "forward/solver_internal.h"

fold_status fold_fixed_bound_duals(const fold_problem *prob, const double *p, const double *x,
                                   const double *lam, double *zl, double *zu, fold_eval_stats *st)
{
    fold_int n = prob->n, n_fixed = 0;
    for (fold_int j = 0; j < n; j++)
        n_fixed += prob->x_lower[j] == prob->x_upper[j];
    if (n_fixed == 0) return FOLD_OK;
    double *grad = fold_malloc((size_t)(n + prob->jac_g.nnz), sizeof(double), "fixed duals");
    if (!grad) return FOLD_ERR_MEMORY;
    double *jac = grad + n;
    fold_status status = fold_prob_eval_grad_f(prob, x, p, grad, st);
    if (!status && prob->m) status = fold_prob_eval_jac_g(prob, x, p, jac, st);
    if (!status) {
        for (fold_int k = 0; k < prob->jac_g.nnz; k++)
            grad[prob->jac_g.col[k]] += jac[k] * lam[prob->jac_g.row[k]];
        for (fold_int j = 0; j < n; j++)
            if (prob->x_lower[j] == prob->x_upper[j]) {
                zl[j] = fmax(grad[j], 0);
                zu[j] = fmax(-grad[j], 0);
            }
    }
    free(grad);
    return status;
}
