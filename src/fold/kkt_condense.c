/* Condensed inequality rows of the barrier KKT form (doc/math.md §3.4, eq. 3.14a): a row i
 * far from its bounds has a small Sigma_s,i, i.e. a large pivot -D_i = -1/Sigma_s,i, and is
 * eliminated exactly by a Schur complement. K keeps the other rows; its primal block gains
 * Sigma_s,i J_i' J_i, the primal right-hand side J_i' Sigma_s,i b_i, and
 * dlam_i = Sigma_s,i (J_i dx - b_i) is recovered after the solve. */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

/* Criterion (eq. 3.14b): Sigma_s,i ||J_i||^2 <= TAU (1 + min_j |H_jj + Sigma_x,j|) over the
 * columns j of row i. The term added to the primal block is then small against the
 * diagonal it lands on (the elimination's growth is at most 1 + TAU per row), and the
 * cancellation in the recovered dlam_i is bounded the same way. Rows with more than
 * MAX_ROW entries are kept: condensing them would make a dense block. */
#define FOLD_CONDENSE_TAU 0.1
#define FOLD_CONDENSE_MAX_ROW 32

static double sigma_s(const fold_kkt *kkt, fold_int i)
{
    return kkt->sys.jmask[i] != 0.0 ? -1.0 / kkt->sys.cdiag[i] : 0.0;
}

void fold_kkt_condense_select(fold_kkt *kkt, const fold_settings *set)
{
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    fold_int m = kkt->m;
    unsigned char *want = kkt->sys.cwant;
    if (m == 0) return;
    memset(want, 0, (size_t)m);
    if (!set->backward.barrier_condense || set->backward.method != FOLD_BACKWARD_DIRECT ||
        fold_kkt_product_active(kkt))
        return;
    /* w1 holds the Hessian diagonal (fold_kkt_barrier_diagonals); per row: ||J_i||^2 in w2,
     * the smallest primal diagonal in w3, the entry count in w4 */
    double *nrm = kkt->w2, *dmin = kkt->w3, *cnt = kkt->w4;
    for (fold_int i = 0; i < m; i++)
        nrm[i] = cnt[i] = 0.0, dmin[i] = HUGE_VAL;
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int i = jp->row[k], j = jp->col[k];
        double v = kkt->val.jv[k], d = fabs(kkt->w1[j] + kkt->sys.xdiag[j]);
        nrm[i] += v * v;
        cnt[i] += 1.0;
        if (d < dmin[i]) dmin[i] = d;
    }
    for (fold_int i = 0; i < m; i++) {
        if (fold_prob_is_equality(kkt->prob, i)) continue;
        if (kkt->sys.jmask[i] == 0.0) { /* decoupled: the limit Sigma_s = 0 */
            want[i] = 1;
            continue;
        }
        double d = dmin[i] < HUGE_VAL ? dmin[i] : 0.0;
        want[i] = cnt[i] <= FOLD_CONDENSE_MAX_ROW &&
                  sigma_s(kkt, i) * nrm[i] <= FOLD_CONDENSE_TAU * (1.0 + d);
    }
}

bool fold_kkt_condense_changed(const fold_kkt *kkt)
{
    for (fold_int i = 0; i < kkt->m; i++)
        if ((kkt->sys.cpos[i] < 0) != (kkt->sys.cwant[i] != 0)) return true;
    return false;
}

void fold_kkt_condense_release(fold_kkt_sys *sys)
{
    free(sys->crow);
    free(sys->cptr);
    free(sys->cent);
    free(sys->cpbase);
    free(sys->cpair);
    sys->crow = sys->cptr = sys->cent = sys->cpbase = sys->cpair = NULL;
    sys->nc = 0;
}

fold_status fold_kkt_condense_build(fold_kkt *kkt)
{
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    fold_kkt_sys *sys = &kkt->sys;
    fold_int m = kkt->m, nc = 0, *slot;
    fold_kkt_condense_release(sys);
    for (fold_int i = 0; i < m; i++)
        nc += sys->cwant[i] != 0;
    if (nc == 0) return FOLD_OK;
    /* slot[i]: the index of condensed row i in crow, or -1 */
    slot = fold_malloc((size_t)m, sizeof *slot, "condensed rows");
    sys->crow = fold_malloc((size_t)nc, sizeof *sys->crow, "condensed rows");
    sys->cptr = fold_calloc((size_t)nc + 1, sizeof *sys->cptr, "condensed rows");
    sys->cpbase = fold_calloc((size_t)nc + 1, sizeof *sys->cpbase, "condensed rows");
    if (!slot || !sys->crow || !sys->cptr || !sys->cpbase) {
        free(slot);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int i = 0; i < m; i++) {
        slot[i] = sys->cwant[i] ? sys->nc : -1;
        if (slot[i] >= 0) sys->crow[sys->nc++] = i;
    }
    for (fold_int k = 0; k < jp->nnz; k++)
        if (slot[jp->row[k]] >= 0) sys->cptr[slot[jp->row[k]] + 1]++;
    for (fold_int q = 0; q < nc; q++) {
        fold_int len = sys->cptr[q + 1];
        sys->cptr[q + 1] += sys->cptr[q];
        sys->cpbase[q + 1] = sys->cpbase[q] + len * len;
    }
    sys->cent = fold_malloc((size_t)sys->cptr[nc] + 1, sizeof *sys->cent, "condensed rows");
    sys->cpair = fold_malloc((size_t)sys->cpbase[nc] + 1, sizeof *sys->cpair, "condensed rows");
    if (!sys->cent || !sys->cpair) {
        free(slot);
        return FOLD_ERR_MEMORY;
    }
    /* entries in pattern order within a row (slot reused as the cursor offset) */
    fold_int *cur = fold_malloc((size_t)nc + 1, sizeof *cur, "condensed rows");
    if (!cur) {
        free(slot);
        return FOLD_ERR_MEMORY;
    }
    memcpy(cur, sys->cptr, (size_t)nc * sizeof *cur);
    for (fold_int k = 0; k < jp->nnz; k++)
        if (slot[jp->row[k]] >= 0) sys->cent[cur[slot[jp->row[k]]]++] = k;
    free(cur);
    free(slot);
    return FOLD_OK;
}

/* Position of entry (row r, column c) of K (present by construction). */
static fold_int find(const fold_la_sparse *K, fold_int r, fold_int c)
{
    const fold_int *Kp = K->p, *Ki = K->i;
    fold_int lo = Kp[c], hi = Kp[c + 1] - 1;
    while (lo < hi) {
        fold_int mid = lo + (hi - lo) / 2;
        if (Ki[mid] < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void fold_kkt_condense_locate(fold_kkt *kkt)
{
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    fold_kkt_sys *sys = &kkt->sys;
    for (fold_int q = 0; q < sys->nc; q++) {
        fold_int a0 = sys->cptr[q], len = sys->cptr[q + 1] - a0, *pq = sys->cpair + sys->cpbase[q];
        for (fold_int a = 0; a < len; a++)
            for (fold_int b = 0; b < len; b++)
                pq[a * len + b] = find(sys->K, sys->xpos[jp->col[sys->cent[a0 + a]]],
                                       sys->xpos[jp->col[sys->cent[a0 + b]]]);
    }
}

void fold_kkt_condense_fill(const fold_kkt *kkt, double *Kx)
{
    const fold_kkt_sys *sys = &kkt->sys;
    const double *jv = kkt->val.jv;
    for (fold_int q = 0; q < sys->nc; q++) {
        fold_int a0 = sys->cptr[q], len = sys->cptr[q + 1] - a0;
        const fold_int *pq = sys->cpair + sys->cpbase[q], *e = sys->cent + a0;
        double sig = sigma_s(kkt, sys->crow[q]);
        /* sig (J_a J_b): the same rounding in both triangles, K stays exactly symmetric */
        for (fold_int a = 0; a < len; a++)
            for (fold_int b = 0; b < len; b++)
                Kx[pq[a * len + b]] += sig * (jv[e[a]] * jv[e[b]]);
    }
}

fold_status fold_kkt_condense_rhs(fold_kkt *kkt, fold_int col, double sign, double *vx,
                                  const double *vl)
{
    fold_kkt_sys *sys = &kkt->sys;
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    const double *jv = kkt->val.jv;
    if (sys->nc == 0 || sys->form != FOLD_KKT_BARRIER) return FOLD_OK;
    size_t need = (size_t)(col + 1) * (size_t)sys->nc; /* nc changes with the pattern */
    if (need > sys->crhs_len) {
        size_t len = need > 2 * sys->crhs_len ? need : 2 * sys->crhs_len;
        double *r = realloc(sys->crhs, len * sizeof *r);
        if (!r)
            return fold_error(FOLD_ERR_MEMORY,
                              "out of memory: right-hand sides of %lld condensed rows",
                              (long long)sys->nc);
        sys->crhs = r;
        sys->crhs_len = len;
    }
    double *b = sys->crhs + (size_t)col * (size_t)sys->nc;
    for (fold_int q = 0; q < sys->nc; q++) {
        fold_int i = sys->crow[q];
        double t = sigma_s(kkt, i) * vl[i];
        b[q] = sign * vl[i];
        for (fold_int e = sys->cptr[q]; e < sys->cptr[q + 1]; e++)
            vx[jp->col[sys->cent[e]]] += jv[sys->cent[e]] * t;
    }
    return FOLD_OK;
}

void fold_kkt_condense_finish(const fold_kkt *kkt, const double *crhs, const double *vx, double *vl)
{
    const fold_kkt_sys *sys = &kkt->sys;
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    const double *jv = kkt->val.jv;
    if (sys->form != FOLD_KKT_BARRIER) return;
    for (fold_int q = 0; q < sys->nc; q++) {
        double s = crhs ? -crhs[q] : 0.0;
        for (fold_int e = sys->cptr[q]; e < sys->cptr[q + 1]; e++)
            s += jv[sys->cent[e]] * vx[jp->col[sys->cent[e]]];
        vl[sys->crow[q]] = sigma_s(kkt, sys->crow[q]) * s;
    }
}
