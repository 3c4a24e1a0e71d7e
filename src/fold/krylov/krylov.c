/* The iterative backward solvers by fold_backward_method: LFPI, GMRES, BiCGSTAB, MINRES, CG
 * (doc/iterative.md §2). */
#include "fold/krylov/krylov.h"

fold_status fold_kry_solve(int method, const fold_kry_op *A, const fold_kry_pc *M,
                           const fold_kry_params *prm, const double *b, double *x,
                           fold_kry_result *res)
{
    switch (method) {
    case FOLD_BACKWARD_LFPI:
        return fold_kry_lfpi(A, M, prm, b, x, res);
    case FOLD_BACKWARD_GMRES:
        return fold_kry_gmres(A, M, prm, b, x, res);
    case FOLD_BACKWARD_BICGSTAB:
        return fold_kry_bicgstab(A, M, prm, b, x, res);
    case FOLD_BACKWARD_MINRES:
        return fold_kry_minres(A, M, prm, b, x, res);
    case FOLD_BACKWARD_CG:
        return fold_kry_cg(A, M, prm, b, x, res);
    default:
        return fold_error(FOLD_ERR_SETTING, "backward.method = %d is not an iterative method",
                          method);
    }
}
