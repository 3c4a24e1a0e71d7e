/* Pattern of the active-set reduced KKT system (doc/math.md §3.3, eq. 3.6):
 * [H_FF J_AF'; J_AF 0] over the free variables F and the active constraints A. */
#include "fold/fold_internal.h"

fold_status fold_kkt_build_active(fold_kkt *kkt)
{
    const fold_problem *prob = kkt->prob;
    const fold_owned_pattern *hp = &prob->hess_l, *jp = &prob->jac_g;
    fold_int nF = 0, nA = 0;
    fold_status st;
    for (fold_int j = 0; j < kkt->n; j++)
        kkt->xpos[j] = kkt->xstat[j] == FOLD_XS_FREE ? nF++ : -1;
    for (fold_int i = 0; i < kkt->m; i++)
        kkt->cpos[i] = kkt->cstat[i] != FOLD_CS_INACTIVE ? nF + nA++ : -1;
    kkt->nK = nF + nA;
    kkt->n_primal = nF;
    if ((st = fold_kkt_trip_reserve(kkt, 2 * hp->nnz + 2 * jp->nnz + kkt->nK)) != FOLD_OK)
        return st;
    for (fold_int k = 0; k < hp->nnz; k++) {
        fold_int r = kkt->xpos[hp->row[k]], c = kkt->xpos[hp->col[k]];
        if (r < 0 || c < 0) continue;
        fold_kkt_trip_add(kkt, r, c, FOLD_SRC_H, k);
        if (r != c) fold_kkt_trip_add(kkt, c, r, FOLD_SRC_H, k);
    }
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int r = kkt->cpos[jp->row[k]], c = kkt->xpos[jp->col[k]];
        if (r < 0 || c < 0) continue;
        fold_kkt_trip_add(kkt, r, c, FOLD_SRC_J, k);
        fold_kkt_trip_add(kkt, c, r, FOLD_SRC_J, k);
    }
    /* An explicit diagonal in every row: the CHOLMOD path regularizes it, and the pattern
     * does not depend on whether the Hessian has diagonal entries. */
    for (fold_int t = 0; t < kkt->nK; t++)
        fold_kkt_trip_add(kkt, t, t, FOLD_SRC_ZERO, 0);
    return fold_kkt_assembly_create(kkt);
}

void fold_kkt_active_weights(fold_kkt *kkt, const fold_solver *solver)
{
    for (fold_int j = 0; j < kkt->n; j++) {
        int st = kkt->xstat[j];
        /* A fixed variable (xL = xU) puts the change on the larger multiplier. */
        if (st == FOLD_XS_FIXED)
            st = solver->zl[j] >= solver->zu[j] ? FOLD_XS_LOWER : FOLD_XS_UPPER;
        kkt->al[j] = st == FOLD_XS_LOWER ? 1.0 : 0.0;
        kkt->au[j] = st == FOLD_XS_UPPER ? 1.0 : 0.0;
        kkt->sigl[j] = kkt->sigu[j] = 0.0;
    }
}
