/* Pattern of the active-set reduced KKT system (doc/math.md §3.3, eq. 3.6):
 * [H_FF J_AF'; J_AF 0] over the free variables F and the active constraints A. */
#include "fold/fold_internal.h"

fold_status fold_kkt_build_active(fold_kkt *kkt)
{
    fold_int nF = 0, nA = 0;
    for (fold_int j = 0; j < kkt->n; j++)
        kkt->sys.xpos[j] = kkt->cls.xstat[j] == FOLD_XS_FREE ? nF++ : -1;
    for (fold_int i = 0; i < kkt->m; i++)
        kkt->sys.cpos[i] = kkt->cls.cstat[i] != FOLD_CS_INACTIVE ? nF + nA++ : -1;
    kkt->sys.nK = nF + nA;
    kkt->sys.n_primal = nF;
    /* An explicit diagonal in every row (kkt_assemble.c): the CHOLMOD path regularizes it,
     * and the pattern does not depend on whether the Hessian has diagonal entries. */
    return fold_kkt_build_pattern(kkt);
}

void fold_kkt_active_weights(fold_kkt *kkt, const fold_solver *solver)
{
    (void)solver;
    kkt->sys.weights_pending = true;
}

void fold_kkt_weights(fold_kkt *kkt)
{
    const fold_solver *solver = kkt->solver;
    if (!kkt->sys.weights_pending) return;
    kkt->sys.weights_pending = false;
    for (fold_int j = 0; j < kkt->n; j++) {
        int st = kkt->cls.xstat[j];
        /* A fixed variable (xL = xU) puts the change on the larger multiplier. */
        if (st == FOLD_XS_FIXED)
            st = solver->zl[j] >= solver->zu[j] ? FOLD_XS_LOWER : FOLD_XS_UPPER;
        kkt->sys.al[j] = st == FOLD_XS_LOWER ? 1.0 : 0.0;
        kkt->sys.au[j] = st == FOLD_XS_UPPER ? 1.0 : 0.0;
    }
    /* Zero (calloc) since the state was created, unless the barrier form wrote them. */
    if (kkt->sys.sig_written) {
        memset(kkt->sys.sigl, 0, (size_t)kkt->n * sizeof(double));
        memset(kkt->sys.sigu, 0, (size_t)kkt->n * sizeof(double));
        kkt->sys.sig_written = false;
    }
}
