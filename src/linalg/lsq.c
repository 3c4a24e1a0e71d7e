/* Minimum-norm least-squares solves by SPQR. doc/math.md §4.5. */
#include "linalg/linalg.h"

fold_status fold_la_lsq_solve(const cholmod_sparse *A, bool transpose, fold_int nrhs,
                              const double *B, double *X, cholmod_common *cm)
{
    return fold_error(FOLD_ERR_UNSUPPORTED, "fold_la_lsq_solve: not implemented yet");
}
