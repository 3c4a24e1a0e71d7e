/* Assembly of the KKT matrix K from per-triplet sources (Hessian, Jacobian, diagonals), so
 * that a new solution with the same pattern refills K in O(nnz) (doc/math.md §3.5). */
#include "fold/fold_internal.h"

fold_status fold_kkt_trip_reserve(fold_kkt *kkt, fold_int count)
{
    size_t c = (size_t)(count > 0 ? count : 1);
    kkt->n_trip = 0;
    kkt->trow = fold_malloc(c, sizeof(fold_int), "KKT triplet rows");
    kkt->tcol = fold_malloc(c, sizeof(fold_int), "KKT triplet columns");
    kkt->ksrc = fold_malloc(c, sizeof(signed char), "KKT triplet sources");
    kkt->kidx = fold_malloc(c, sizeof(fold_int), "KKT triplet indices");
    kkt->kval = fold_malloc(c, sizeof(double), "KKT values");
    kkt->kscale = fold_malloc((size_t)(kkt->nK + 1), sizeof(double), "KKT scaling");
    if (!kkt->trow || !kkt->tcol || !kkt->ksrc || !kkt->kidx || !kkt->kval || !kkt->kscale)
        return FOLD_ERR_MEMORY;
    return FOLD_OK;
}

void fold_kkt_trip_add(fold_kkt *kkt, fold_int r, fold_int c, int src, fold_int idx)
{
    fold_int t = kkt->n_trip++;
    kkt->trow[t] = r;
    kkt->tcol[t] = c;
    kkt->ksrc[t] = (signed char)src;
    kkt->kidx[t] = idx;
}

fold_status fold_kkt_assembly_create(fold_kkt *kkt)
{
    fold_status st = FOLD_OK;
    if (kkt->nK > 0)
        st = fold_la_assembly_create(kkt->nK, kkt->nK, kkt->n_trip, kkt->trow, kkt->tcol, 0,
                                     &kkt->cm, &kkt->K);
    return st;
}

void fold_kkt_release_system(fold_kkt *kkt)
{
    fold_la_factor_free(kkt->F);
    kkt->F = NULL;
    if (kkt->K) fold_la_assembly_free(kkt->K, &kkt->cm);
    kkt->K = NULL;
    free(kkt->trow);
    free(kkt->tcol);
    free(kkt->ksrc);
    free(kkt->kidx);
    free(kkt->kval);
    free(kkt->kscale);
    kkt->kscale = NULL;
    kkt->trow = kkt->tcol = NULL;
    kkt->ksrc = NULL;
    kkt->kidx = NULL;
    kkt->kval = NULL;
    kkt->n_trip = 0;
    kkt->nK = 0;
    kkt->has_factor = kkt->is_lsq = false;
}

/* S = diag(1 / sqrt(max(1, |K_tt|))) in the barrier form (Sigma up to ~1e16 at a tight
 * solution), identity in the active form; kval <- S K S. */
static void scale(fold_kkt *kkt)
{
    double *s = kkt->kscale;
    for (fold_int t = 0; t < kkt->nK; t++)
        s[t] = 0.0;
    if (kkt->form != FOLD_KKT_BARRIER) {
        for (fold_int t = 0; t < kkt->nK; t++)
            s[t] = 1.0;
        return;
    }
    for (fold_int t = 0; t < kkt->n_trip; t++)
        if (kkt->trow[t] == kkt->tcol[t]) s[kkt->trow[t]] += kkt->kval[t];
    for (fold_int t = 0; t < kkt->nK; t++)
        s[t] = 1.0 / sqrt(fmax(1.0, fabs(s[t])));
    for (fold_int t = 0; t < kkt->n_trip; t++)
        kkt->kval[t] *= s[kkt->trow[t]] * s[kkt->tcol[t]];
}

void fold_kkt_fill(fold_kkt *kkt)
{
    const fold_int *jrow = kkt->prob->jac_g.row;
    for (fold_int t = 0; t < kkt->n_trip; t++) {
        fold_int k = kkt->kidx[t];
        double v = 0.0;
        switch (kkt->ksrc[t]) {
        case FOLD_SRC_H:
            v = kkt->hv[k];
            break;
        case FOLD_SRC_J:
            /* Decoupled barrier rows (§3.4) keep their pattern with zero values. */
            v = kkt->form == FOLD_KKT_BARRIER ? kkt->jv[k] * kkt->jmask[jrow[k]] : kkt->jv[k];
            break;
        case FOLD_SRC_XDIAG:
            v = kkt->xdiag[k];
            break;
        case FOLD_SRC_CDIAG:
            v = kkt->cdiag[k];
            break;
        default:
            break;
        }
        kkt->kval[t] = v;
    }
    scale(kkt);
    if (kkt->K) fold_la_assembly_fill(kkt->K, kkt->kval);
}

const cholmod_sparse *fold_kkt_matrix(const fold_kkt *kkt)
{
    return kkt && kkt->K ? kkt->K->A : NULL;
}
