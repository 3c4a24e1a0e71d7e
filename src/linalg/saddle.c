/* The block-diagonal preconditioner matrix of a symmetric saddle-point matrix (doc/math.md
 * §3.9, eq. 3.23): the first np rows of K = [A B'; B C] are primal. */
#include "linalg/linalg.h"

fold_status fold_la_saddle_block(const fold_la_sparse *K, fold_int np, const double *d,
                                 bool diag_primal, fold_la_common *cm, fold_la_sparse **out)
{
    const SuiteSparse_long *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    fold_int nK = (fold_int)K->ncol, nd = nK - np;
    cholmod_sparse *Bs = NULL, *S = NULL, *P = NULL;
    cholmod_triplet *T = NULL;
    SuiteSparse_long *rset = NULL, *cset = NULL;
    size_t cap = (size_t)Kp[nK] + (size_t)np;
    if (nd > 0) {
        /* Bs = B D^{-1/2} (nd x np), S = Bs Bs' */
        rset = fold_malloc((size_t)nd, sizeof *rset, "row set");
        cset = fold_malloc((size_t)(np > 0 ? np : 1), sizeof *cset, "column set");
        if (!rset || !cset) goto done;
        for (fold_int i = 0; i < nd; i++)
            rset[i] = np + i;
        for (fold_int j = 0; j < np; j++)
            cset[j] = j;
        Bs = cholmod_l_submatrix((cholmod_sparse *)K, rset, nd, cset, np, 1, 1, cm);
        if (!Bs) goto done;
        for (fold_int j = 0; j < np; j++)
            for (SuiteSparse_long k = ((SuiteSparse_long *)Bs->p)[j];
                 k < ((SuiteSparse_long *)Bs->p)[j + 1]; k++)
                ((double *)Bs->x)[k] /= sqrt(d[j]);
        S = cholmod_l_aat(Bs, NULL, 0, 1, cm);
        if (!S) goto done;
        cap += (size_t)((SuiteSparse_long *)S->p)[nd] + (size_t)nd;
    }
    T = cholmod_l_allocate_triplet((size_t)nK, (size_t)nK, cap, 0, CHOLMOD_REAL, cm);
    if (!T) goto done;
    SuiteSparse_long *Ti = T->i, *Tj = T->j;
    double *Tx = T->x;
    size_t t = 0;
    for (fold_int j = 0; j < nK; j++)
        for (SuiteSparse_long k = Kp[j]; k < Kp[j + 1]; k++) {
            bool primal = j < np && Ki[k] < np && (!diag_primal || Ki[k] == j);
            bool cdiag = j >= np && Ki[k] == j;
            if (!primal && !cdiag) continue;
            Ti[t] = Ki[k];
            Tj[t] = j;
            Tx[t++] = primal ? Kx[k] : fabs(Kx[k]);
        }
    /* Primal diagonals below the floor are replaced by the floor d_j (eq. 3.23): variables
     * with no curvature (e.g. entering only linearly) would make the block singular. */
    for (fold_int j = 0; j < np; j++) {
        double kjj = 0.0;
        for (SuiteSparse_long k = Kp[j]; k < Kp[j + 1]; k++)
            if (Ki[k] == j) kjj = Kx[k];
        if (diag_primal || fabs(kjj) < d[j]) {
            Ti[t] = Tj[t] = j;
            Tx[t++] = d[j] - kjj;
        }
    }
    for (fold_int j = 0; S && j < nd; j++) {
        for (SuiteSparse_long k = ((SuiteSparse_long *)S->p)[j];
             k < ((SuiteSparse_long *)S->p)[j + 1]; k++) {
            Ti[t] = np + ((SuiteSparse_long *)S->i)[k];
            Tj[t] = np + j;
            Tx[t++] = ((double *)S->x)[k];
        }
    }
    T->nnz = t;
    P = cholmod_l_triplet_to_sparse(T, t, cm); /* sums duplicates, sorted */
done:
    free(rset);
    free(cset);
    cholmod_l_free_sparse(&Bs, cm);
    cholmod_l_free_sparse(&S, cm);
    cholmod_l_free_triplet(&T, cm);
    *out = P;
    if (P) return FOLD_OK;
    return fold_error(cm->status == CHOLMOD_OK || cm->status == CHOLMOD_OUT_OF_MEMORY
                          ? FOLD_ERR_MEMORY
                          : FOLD_ERR_INTERNAL,
                      "CHOLMOD: saddle-point block matrix (status %d)", cm->status);
}
