/* Assembly of the KKT matrix K straight into sorted CSC (doc/math.md §3.5, §4.1): the
 * entries of H (both triangles) and J, J' on the rows of K are counted per column, scattered
 * in the order of the callback patterns and the diagonal is inserted where H has none.
 * Patterns in lexicographic order (by row or by column) arrive sorted and are only checked;
 * other columns are sorted. Each entry keeps its source: new values refill K in O(nnz). */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

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

/* Every entry of K from H (lower triangle, mirrored) and J (and J'), in pattern order;
 * when counting (Ki NULL), diag[c] = 1 marks the columns where H has a diagonal entry. */
static void visit(const fold_kkt *kkt, fold_int *next, fold_int *Ki, fold_int *kidx,
                  unsigned char *diag)
{
    const fold_owned_pattern *hp = fold_kkt_hess_pattern(kkt), *jp = &kkt->prob->jac_g;
    for (fold_int k = 0; k < hp->nnz; k++) {
        fold_int r = kkt->sys.xpos[hp->row[k]], c = kkt->sys.xpos[hp->col[k]];
        if (r < 0 || c < 0) continue;
        put(next, Ki, kidx, c, r, k);
        if (r != c)
            put(next, Ki, kidx, r, c, k);
        else if (diag)
            diag[c] = 1;
    }
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int r = kkt->sys.cpos[jp->row[k]], c = kkt->sys.xpos[jp->col[k]];
        if (r < 0 || c < 0) continue;
        put(next, Ki, kidx, c, r, hp->nnz + k);
        put(next, Ki, kidx, r, c, hp->nnz + k);
    }
    /* The couplings Sigma_s J_i' J_i of the condensed rows (eq. 3.14a), after every entry
     * from the patterns (source -2; duplicates of other entries are dropped when the column
     * is finished; the diagonal is always there). */
    for (fold_int q = 0; q < kkt->sys.nc; q++)
        for (fold_int a = kkt->sys.cptr[q]; a < kkt->sys.cptr[q + 1]; a++)
            for (fold_int b = kkt->sys.cptr[q]; b < kkt->sys.cptr[q + 1]; b++) {
                fold_int r = kkt->sys.xpos[jp->col[kkt->sys.cent[a]]];
                fold_int c = kkt->sys.xpos[jp->col[kkt->sys.cent[b]]];
                if (r != c) put(next, Ki, kidx, c, r, -2);
            }
}

/* Finish column c, whose len entries from the patterns start at Kp[c] (with one free slot
 * after them when H has no diagonal there): drop the couplings of condensed rows that
 * repeat a row of the column (they come after the entries from the patterns), sort the
 * column if it arrived unsorted (counted when the entries from the patterns did), insert
 * the diagonal (source -1) if H has none. Returns the column's final length. */
static fold_int finish_column(fold_kkt *kkt, fold_int c, fold_int len, const fold_int *Kp,
                              fold_int *Ki, fold_int *mark)
{
    fold_int pos = 0, f = 0;
    fold_int *r = Ki + Kp[c], *s = kkt->sys.kidx + Kp[c];
    /* couplings whose row the column already has, dropped before any sort (mark[row] =
     * c + 1: seen in this column); most repeat H's entries */
    while (mark && f < len && s[f] != -2)
        f++;
    if (mark && f < len) {
        fold_int w = f;
        for (fold_int t = 0; t < f; t++)
            mark[r[t]] = c + 1;
        for (fold_int t = f; t < len; t++)
            if (mark[r[t]] != c + 1) {
                mark[r[t]] = c + 1;
                r[w] = r[t];
                s[w++] = s[t];
            }
        len = w;
    }
    for (fold_int t = 1; t < len; t++)
        if (r[t] <= r[t - 1]) {
            if (s[t] != -2) kkt->sys.n_sorted_cols++;
            sort_column(r, s, len);
            break;
        }
    while (pos < len && r[pos] < c)
        pos++;
    if (pos == len || r[pos] != c) { /* no diagonal from H: shift the tail into the slot */
        memmove(r + pos + 1, r + pos, (size_t)(len - pos) * sizeof *r);
        memmove(s + pos + 1, s + pos, (size_t)(len - pos) * sizeof *s);
        r[pos] = c;
        s[pos] = -1;
        len++;
    }
    kkt->sys.kdiag[c] = Kp[c] + pos;
    return len;
}

/* Close the gaps the dropped couplings left between the columns (their lengths in len). */
static void compact(fold_kkt *kkt, const fold_int *len)
{
    fold_int *Kp = kkt->sys.K->p, *Ki = kkt->sys.K->i, *kidx = kkt->sys.kidx, w = 0;
    for (fold_int c = 0; c < kkt->sys.nK; c++) {
        fold_int start = Kp[c];
        memmove(Ki + w, Ki + start, (size_t)len[c] * sizeof *Ki);
        memmove(kidx + w, kidx + start, (size_t)len[c] * sizeof *kidx);
        kkt->sys.kdiag[c] -= start - w;
        Kp[c] = w;
        w += len[c];
    }
    Kp[kkt->sys.nK] = w;
}

fold_status fold_kkt_build_pattern(fold_kkt *kkt)
{
    fold_int nK = kkt->sys.nK, nz = 0, *Kp, *Ki, *next = NULL;
    unsigned char *diag;
    kkt->sys.n_sorted_cols = 0;
    kkt->sys.kscale = fold_malloc((size_t)(nK + 1), sizeof(double), "KKT scaling");
    kkt->sys.kdiag = fold_calloc((size_t)(nK + 1), sizeof(fold_int), "KKT diagonal positions");
    if (!kkt->sys.kscale || !kkt->sys.kdiag) return FOLD_ERR_MEMORY;
    if (nK == 0) return FOLD_OK;
    /* Counts per column (in kdiag, used as cursors), plus the diagonal where H has none:
     * every column gets exactly its final size. */
    if (!(diag = fold_calloc((size_t)nK, 1, "KKT diagonal flags"))) return FOLD_ERR_MEMORY;
    next = kkt->sys.kdiag;
    visit(kkt, next, NULL, NULL, diag);
    for (fold_int c = 0; c < nK; c++) {
        fold_int cnt = next[c] + !diag[c];
        next[c] = nz;
        nz += cnt;
    }
    free(diag);
    fold_status st = fold_la_sparse_alloc(nK, nK, nz, &kkt->cm, &kkt->sys.K);
    if (st < 0) return fold_error_context(st, "KKT matrix of order %lld", (long long)nK);
    kkt->sys.kidx = fold_malloc((size_t)nz, sizeof(fold_int), "KKT entry sources");
    if (!kkt->sys.kidx) return FOLD_ERR_MEMORY;
    Kp = kkt->sys.K->p;
    Ki = kkt->sys.K->i;
    memcpy(Kp, next, (size_t)nK * sizeof *Kp);
    Kp[nK] = nz;
    visit(kkt, next, Ki, kkt->sys.kidx, NULL);
    /* next[c] (kdiag) is now the end of column c's entries from the patterns; with condensed
     * rows, flen[c] the final length of column c. */
    fold_int *flen = NULL, *mark = NULL;
    if (kkt->sys.nc > 0) {
        flen = fold_malloc((size_t)nK, sizeof *flen, "KKT column lengths");
        mark = fold_calloc((size_t)nK, sizeof *mark, "KKT column marks");
        if (!flen || !mark) {
            free(flen);
            free(mark);
            return FOLD_ERR_MEMORY;
        }
    }
    for (fold_int c = 0; c < nK; c++) {
        fold_int len = finish_column(kkt, c, next[c] - Kp[c], Kp, Ki, mark);
        if (flen) flen[c] = len;
    }
    if (flen) {
        compact(kkt, flen);
        free(flen);
        free(mark);
        fold_kkt_condense_locate(kkt);
    }
    return FOLD_OK;
}

fold_status fold_kkt_sys_alloc(fold_kkt_sys *sys, fold_int n, fold_int m)
{
    size_t nn = (size_t)n, mm = (size_t)(m > 0 ? m : 1);
    sys->sig_xstat = fold_calloc(nn, 1, "variable status");
    sys->sig_cstat = fold_calloc(mm, 1, "constraint status");
    sys->xpos = fold_calloc(nn, sizeof(fold_int), "KKT positions");
    sys->cpos = fold_calloc(mm, sizeof(fold_int), "KKT positions");
    sys->al = fold_calloc(nn, sizeof(double), "bound weights");
    sys->au = fold_calloc(nn, sizeof(double), "bound weights");
    sys->sigl = fold_calloc(nn, sizeof(double), "Sigma_L");
    sys->sigu = fold_calloc(nn, sizeof(double), "Sigma_U");
    sys->xdiag = fold_calloc(nn, sizeof(double), "Sigma_x");
    sys->cdiag = fold_calloc(mm, sizeof(double), "constraint diagonal");
    sys->jmask = fold_calloc(mm, sizeof(double), "constraint mask");
    sys->cwant = fold_calloc(mm, 1, "condensed rows");
    return sys->cwant && sys->sig_xstat && sys->sig_cstat && sys->xpos && sys->cpos && sys->al &&
                   sys->au && sys->sigl && sys->sigu && sys->xdiag && sys->cdiag && sys->jmask
               ? FOLD_OK
               : FOLD_ERR_MEMORY;
}

void fold_kkt_sys_free(fold_kkt_sys *sys)
{
    free(sys->xpos);
    free(sys->cpos);
    free(sys->sig_xstat);
    free(sys->sig_cstat);
    free(sys->al);
    free(sys->au);
    free(sys->sigl);
    free(sys->sigu);
    free(sys->xdiag);
    free(sys->cdiag);
    free(sys->jmask);
    free(sys->cwant);
    free(sys->crhs);
    fold_kkt_condense_release(sys);
}

void fold_kkt_release_system(fold_kkt *kkt)
{
    fold_la_factor_free(kkt->fac.F);
    kkt->fac.F = NULL;
    fold_la_sparse_free(&kkt->sys.K, &kkt->cm);
    free(kkt->sys.kidx);
    free(kkt->sys.kdiag);
    free(kkt->sys.kscale);
    kkt->sys.kidx = kkt->sys.kdiag = NULL;
    kkt->sys.kscale = NULL;
    kkt->sys.nK = 0;
    fold_kkt_condense_release(&kkt->sys);
    kkt->fac.has_factor = kkt->fac.is_lsq = false;
}

/* S = diag(1 / sqrt(max(1, |K_tt|))) in the barrier form (Sigma up to ~1e16 at a tight
 * solution), identity in the active form; K <- S K S. */
static void scale(fold_kkt *kkt)
{
    double *s = kkt->sys.kscale, *Kx = kkt->sys.K->x;
    const fold_int *Kp = kkt->sys.K->p, *Ki = kkt->sys.K->i;
    if (kkt->sys.form != FOLD_KKT_BARRIER) {
        for (fold_int t = 0; t < kkt->sys.nK; t++)
            s[t] = 1.0;
        return;
    }
    for (fold_int t = 0; t < kkt->sys.nK; t++)
        s[t] = 1.0 /
               sqrt(fmax(1.0, fabs(Kx[kkt->sys.kdiag[t]] + fold_kkt_product_hdiag(kkt, t, false))));
    for (fold_int c = 0; c < kkt->sys.nK; c++)
        for (fold_int q = Kp[c]; q < Kp[c + 1]; q++)
            Kx[q] *= s[Ki[q]] * s[c];
}

void fold_kkt_fill(fold_kkt *kkt)
{
    const fold_int *jrow = kkt->prob->jac_g.row, nh = fold_kkt_hess_pattern(kkt)->nnz;
    bool barrier = kkt->sys.form == FOLD_KKT_BARRIER;
    if (!kkt->sys.K) return;
    fold_kkt_product_positions(kkt);
    double *Kx = kkt->sys.K->x;
    fold_int nz = ((const fold_int *)kkt->sys.K->p)[kkt->sys.nK];
    for (fold_int q = 0; q < nz; q++) {
        fold_int k = kkt->sys.kidx[q];
        /* Decoupled barrier rows (§3.4) keep their pattern with zero values. */
        Kx[q] = k < 0     ? 0.0
                : k < nh  ? kkt->val.hv[k]
                : barrier ? kkt->val.jv[k - nh] * kkt->sys.jmask[jrow[k - nh]]
                          : kkt->val.jv[k - nh];
    }
    if (barrier) { /* Sigma_x on the primal, -1/Sigma_s on the constraint diagonal */
        fold_kkt_condense_fill(kkt, Kx); /* Sigma_s J_i' J_i of the condensed rows */
        for (fold_int j = 0; j < kkt->n; j++)
            Kx[kkt->sys.kdiag[kkt->sys.xpos[j]]] += kkt->sys.xdiag[j];
        for (fold_int i = 0; i < kkt->m; i++)
            if (kkt->sys.cpos[i] >= 0) Kx[kkt->sys.kdiag[kkt->sys.cpos[i]]] += kkt->sys.cdiag[i];
    }
    scale(kkt);
}

const fold_la_sparse *fold_kkt_matrix(const fold_kkt *kkt)
{
    return kkt ? kkt->sys.K : NULL;
}
