/* Assembly of the KKT matrix K straight into sorted CSC (doc/math.md §3.5, §4.1): the
 * entries of H (both triangles) and J, J' on the rows of K are counted per column, scattered
 * in the order of the callback patterns and packed with the diagonal inserted. Patterns in
 * lexicographic order (by row or by column) arrive sorted and are only checked; other
 * columns are sorted. Each entry keeps its source, so new values refill K in O(nnz). */
#include "fold/fold_internal.h"

/* Heap sort of rows r (with their sources s) ascending; no workspace. */
static void sift(fold_int *r, fold_int *s, fold_int root, fold_int len)
{
    for (;;) {
        fold_int child = 2 * root + 1, tr, ts;
        if (child >= len) return;
        if (child + 1 < len && r[child + 1] > r[child]) child++;
        if (r[root] >= r[child]) return;
        tr = r[root], ts = s[root];
        r[root] = r[child], s[root] = s[child];
        r[child] = tr, s[child] = ts;
        root = child;
    }
}

static void sort_column(fold_int *r, fold_int *s, fold_int len)
{
    if (len <= 16) { /* insertion sort: short columns are the rule */
        for (fold_int a = 1; a < len; a++) {
            fold_int tr = r[a], ts = s[a], b = a;
            for (; b > 0 && r[b - 1] > tr; b--)
                r[b] = r[b - 1], s[b] = s[b - 1];
            r[b] = tr, s[b] = ts;
        }
        return;
    }
    for (fold_int root = len / 2 - 1; root >= 0; root--)
        sift(r, s, root, len);
    for (fold_int end = len - 1; end > 0; end--) {
        fold_int tr = r[0], ts = s[0];
        r[0] = r[end], s[0] = s[end];
        r[end] = tr, s[end] = ts;
        sift(r, s, 0, end);
    }
}

/* Entry (row, col) of K with source src: counted (Ki NULL) or stored at the column's cursor. */
static inline void put(fold_int *next, fold_int *Ki, fold_int *kidx, fold_int col, fold_int row,
                       fold_int src)
{
    fold_int q = next[col]++;
    if (Ki) {
        Ki[q] = row;
        kidx[q] = src;
    }
}

/* Every entry of K from H (lower triangle, mirrored) and J (and J'), in pattern order. */
static void visit(const fold_kkt *kkt, fold_int *next, fold_int *Ki, fold_int *kidx)
{
    const fold_owned_pattern *hp = &kkt->prob->hess_l, *jp = &kkt->prob->jac_g;
    for (fold_int k = 0; k < hp->nnz; k++) {
        fold_int r = kkt->xpos[hp->row[k]], c = kkt->xpos[hp->col[k]];
        if (r < 0 || c < 0) continue;
        put(next, Ki, kidx, c, r, k);
        if (r != c) put(next, Ki, kidx, r, c, k);
    }
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int r = kkt->cpos[jp->row[k]], c = kkt->xpos[jp->col[k]];
        if (r < 0 || c < 0) continue;
        put(next, Ki, kidx, c, r, hp->nnz + k);
        put(next, Ki, kidx, r, c, hp->nnz + k);
    }
}

/* Pack column c from its padded slot [Kp[c], end) to position w: sort it if it arrived
 * unsorted, insert the diagonal (source -1) if H has none there. Returns the new w. */
static fold_int pack_column(fold_kkt *kkt, fold_int c, fold_int end, fold_int w, fold_int *Kp,
                            fold_int *Ki)
{
    fold_int src = Kp[c], len = end - src, pos = 0;
    fold_int *r = Ki + src, *s = kkt->kidx + src;
    for (fold_int t = 1; t < len; t++)
        if (r[t] <= r[t - 1]) {
            sort_column(r, s, len);
            kkt->n_sorted_cols++;
            break;
        }
    while (pos < len && r[pos] < c)
        pos++;
    bool has_diag = pos < len && r[pos] == c;
    /* w <= src: the head moves left first; the tail (shifted by one when the diagonal is
     * inserted) stays inside this column's padded slot, which has room for it. */
    if (w != src) {
        memmove(Ki + w, r, (size_t)pos * sizeof *Ki);
        memmove(kkt->kidx + w, s, (size_t)pos * sizeof *s);
    }
    if (!has_diag || w != src) {
        fold_int shift = has_diag ? 0 : 1;
        memmove(Ki + w + pos + shift, Ki + src + pos, (size_t)(len - pos) * sizeof *Ki);
        memmove(kkt->kidx + w + pos + shift, kkt->kidx + src + pos,
                (size_t)(len - pos) * sizeof *Ki);
    }
    if (!has_diag) {
        Ki[w + pos] = c;
        kkt->kidx[w + pos] = -1;
    }
    Kp[c] = w;
    kkt->kdiag[c] = w + pos;
    return w + len + !has_diag;
}

fold_status fold_kkt_build_pattern(fold_kkt *kkt)
{
    fold_int nK = kkt->nK, nz = 0, *Kp, *Ki, *next = NULL;
    kkt->n_sorted_cols = 0;
    kkt->kscale = fold_malloc((size_t)(nK + 1), sizeof(double), "KKT scaling");
    kkt->kdiag = fold_malloc((size_t)(nK + 1), sizeof(fold_int), "KKT diagonal positions");
    if (!kkt->kscale || !kkt->kdiag) return FOLD_ERR_MEMORY;
    if (nK == 0) return FOLD_OK;
    /* Counts per column (in kdiag, used as cursors), one extra slot for the diagonal. */
    next = kkt->kdiag;
    memset(next, 0, (size_t)nK * sizeof *next);
    visit(kkt, next, NULL, NULL);
    for (fold_int c = 0; c < nK; c++) {
        fold_int cnt = next[c] + 1;
        next[c] = nz;
        nz += cnt;
    }
    kkt->K = cholmod_l_allocate_sparse((size_t)nK, (size_t)nK, (size_t)nz, 1, 1, 0, CHOLMOD_REAL,
                                       &kkt->cm);
    if (!kkt->K)
        return fold_error_context(kkt->cm.status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                          : FOLD_ERR_INTERNAL,
                                  "KKT matrix of order %lld", (long long)nK);
    kkt->kidx = fold_malloc((size_t)nz, sizeof(fold_int), "KKT entry sources");
    if (!kkt->kidx) return FOLD_ERR_MEMORY;
    Kp = kkt->K->p;
    Ki = kkt->K->i;
    memcpy(Kp, next, (size_t)nK * sizeof *Kp);
    Kp[nK] = nz;
    visit(kkt, next, Ki, kkt->kidx);
    /* next[c] is now the end of column c's entries; pack left to right. */
    fold_int w = 0;
    for (fold_int c = 0; c < nK; c++)
        w = pack_column(kkt, c, next[c], w, Kp, Ki);
    Kp[nK] = w;
    /* Give back the unused diagonal slots (shrinking never moves much). */
    if (w < nz) {
        fold_int *shrunk = realloc(kkt->kidx, (size_t)w * sizeof *shrunk);
        if (shrunk) kkt->kidx = shrunk;
        cholmod_l_reallocate_sparse((size_t)w, kkt->K, &kkt->cm);
    }
    return FOLD_OK;
}

void fold_kkt_release_system(fold_kkt *kkt)
{
    fold_la_factor_free(kkt->F);
    kkt->F = NULL;
    if (kkt->K) cholmod_l_free_sparse(&kkt->K, &kkt->cm);
    kkt->K = NULL;
    free(kkt->kidx);
    free(kkt->kdiag);
    free(kkt->kscale);
    kkt->kidx = kkt->kdiag = NULL;
    kkt->kscale = NULL;
    kkt->nK = 0;
    kkt->has_factor = kkt->is_lsq = false;
}

/* S = diag(1 / sqrt(max(1, |K_tt|))) in the barrier form (Sigma up to ~1e16 at a tight
 * solution), identity in the active form; K <- S K S. */
static void scale(fold_kkt *kkt)
{
    double *s = kkt->kscale, *Kx = kkt->K->x;
    const fold_int *Kp = kkt->K->p, *Ki = kkt->K->i;
    if (kkt->form != FOLD_KKT_BARRIER) {
        for (fold_int t = 0; t < kkt->nK; t++)
            s[t] = 1.0;
        return;
    }
    for (fold_int t = 0; t < kkt->nK; t++)
        s[t] = 1.0 / sqrt(fmax(1.0, fabs(Kx[kkt->kdiag[t]])));
    for (fold_int c = 0; c < kkt->nK; c++)
        for (fold_int q = Kp[c]; q < Kp[c + 1]; q++)
            Kx[q] *= s[Ki[q]] * s[c];
}

void fold_kkt_fill(fold_kkt *kkt)
{
    const fold_int *jrow = kkt->prob->jac_g.row, nh = kkt->prob->hess_l.nnz;
    bool barrier = kkt->form == FOLD_KKT_BARRIER;
    if (!kkt->K) return;
    double *Kx = kkt->K->x;
    fold_int nz = ((const fold_int *)kkt->K->p)[kkt->nK];
    for (fold_int q = 0; q < nz; q++) {
        fold_int k = kkt->kidx[q];
        /* Decoupled barrier rows (§3.4) keep their pattern with zero values. */
        Kx[q] = k < 0    ? 0.0
                : k < nh ? kkt->hv[k]
                : barrier ? kkt->jv[k - nh] * kkt->jmask[jrow[k - nh]]
                          : kkt->jv[k - nh];
    }
    if (barrier) { /* Sigma_x on the primal, -1/Sigma_s on the constraint diagonal */
        for (fold_int j = 0; j < kkt->n; j++)
            Kx[kkt->kdiag[kkt->xpos[j]]] += kkt->xdiag[j];
        for (fold_int i = 0; i < kkt->m; i++)
            Kx[kkt->kdiag[kkt->cpos[i]]] += kkt->cdiag[i];
    }
    scale(kkt);
}

const cholmod_sparse *fold_kkt_matrix(const fold_kkt *kkt)
{
    return kkt ? kkt->K : NULL;
}
