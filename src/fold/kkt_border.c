/* Comparison runs of the candidates over the primary factorization (doc/math.md §4.9): a run
 * differs from the primary active-form K by the rows and columns of the candidates it flips
 * (a constraint made active or inactive, a variable freed or held), so its K is the primary
 * K bordered by them (eq. 4.14) and is solved with the primary factorization and a
 * small capacitance matrix (eqs. 4.15-4.16) instead of an analysis and factorization of its
 * own. The primary system is kept aside meanwhile and comes back without refactoring. */
#include <float.h>

#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

/* Border columns beyond this: the run factors its K (k solves and a k x k dense system per
 * right-hand side would no longer be cheaper). */
#define BORDER_MAX 64
/* A capacitance matrix with a reciprocal condition below this: the run's K is near singular
 * (or the bordered solve would lose the digits the refinement restores); factored then, with
 * its own singularity handling (§4.8). */
#define BORDER_RCOND 1e-10 /* eq. 4.17 */
/* The primary run's right-hand sides and solutions kept for the comparison runs: at most
 * this many doubles (64 MB); the columns beyond are solved again. */
#define RECORD_MAX ((size_t)8 << 20)

#define SWAP(T, a, b)                                                                              \
    do {                                                                                           \
        T swap_tmp_ = (a);                                                                         \
        (a) = (b);                                                                                 \
        (b) = swap_tmp_;                                                                           \
    } while (0)

bool fold_kkt_border_wanted(const fold_kkt *kkt, const fold_settings *set)
{
    return !set->backward.variant_refactor && set->backward.method == FOLD_BACKWARD_DIRECT &&
           kkt->sys.form == FOLD_KKT_ACTIVE && (kkt->cands.path != 0 || kkt->cands.variant != 0) &&
           !fold_kkt_product_active(kkt) && kkt->fac.F && kkt->fac.has_factor && !kkt->fac.is_lsq &&
           kkt->sys.nK > 0;
}

/* Does a system's factorization solve it exactly, as the border and the record need (§4.9):
 * regular (no regularization, no null space), or singular through copied columns only and
 * factored with them pinned (eq. 4.12c), whose pins then border the capacitance matrix (eq.
 * 4.16b)? */
static bool exact_inverse(const fold_kkt_null_space *ns, const fold_la_factor_info *finfo,
                          const fold_la_factor *F)
{
    return (!ns->has_null && !(finfo->singular_delta > 0.0)) || fold_la_factor_pinned(F);
}

/* Can the primary aside be bordered: an exact inverse without dependent rows, or a
 * regularized factorization (§4.8), whose bordered inverse is that of the run's K plus the
 * primary's regularization on the unknowns they share (tested by the refinement as a
 * factorization of its own would be, eq. 4.9)? */
static bool primary_borderable(const fold_kkt *kkt)
{
    const fold_kkt_border *b = &kkt->border;
    if (!b->has_primary) return false;
    /* dependent rows the primary has too are copies its factorization pinned: null
     * directions of the run unless its border activates them (eq. 4.16b) */
    if (exact_inverse(&b->ns, &b->finfo, b->F)) {
        if (kkt->cls.n_dependent == 0) return true;
        if (!fold_la_factor_pinned(b->F)) return false;
        if (kkt->cls.n_dependent_new > 0)
            fold_log(&kkt->solver->set, 3,
                     "%s: comparison run (variant %d): %lld dependent rows the primary has not: "
                     "factored",
                     kkt->fn, kkt->cands.variant, (long long)kkt->cls.n_dependent_new);
        return kkt->cls.n_dependent_new == 0;
    }
    return b->finfo.singular_delta > 0.0 && !b->reg_refused;
}

/* Exchange the system in sys and fac with the one aside (the arrays of positions and
 * signature too: both sets exist once allocated). */
static void swap_system(fold_kkt *kkt)
{
    fold_kkt_border *b = &kkt->border;
    fold_kkt_sys *s = &kkt->sys;
    SWAP(int, b->form, s->form);
    SWAP(fold_la_sparse *, b->K, s->K);
    SWAP(fold_int *, b->kidx, s->kidx);
    SWAP(fold_int *, b->kdiag, s->kdiag);
    SWAP(fold_int *, b->xpos, s->xpos);
    SWAP(fold_int *, b->cpos, s->cpos);
    SWAP(signed char *, b->sig_xstat, s->sig_xstat);
    SWAP(signed char *, b->sig_cstat, s->sig_cstat);
    SWAP(double *, b->kscale, s->kscale);
    SWAP(fold_int, b->nK, s->nK);
    SWAP(fold_int, b->n_primal, s->n_primal);
    SWAP(fold_int, b->n_sorted_cols, s->n_sorted_cols);
    SWAP(fold_la_factor *, b->F, kkt->fac.F);
    SWAP(fold_la_factor_info, b->finfo, kkt->fac.finfo);
    SWAP(fold_kkt_null_space, b->ns, kkt->ns);
}

fold_status fold_kkt_border_stash(fold_kkt *kkt)
{
    fold_kkt_border *b = &kkt->border;
    size_t n = (size_t)kkt->n, m = (size_t)(kkt->m > 0 ? kkt->m : 1);
    if (b->has_primary) return FOLD_OK;
    if (!b->xpos) {
        b->xpos = fold_calloc(n + 1, sizeof *b->xpos, "KKT positions");
        b->cpos = fold_calloc(m, sizeof *b->cpos, "KKT positions");
        b->sig_xstat = fold_calloc(n + 1, 1, "variable status");
        b->sig_cstat = fold_calloc(m, 1, "constraint status");
        if (!b->xpos || !b->cpos || !b->sig_xstat || !b->sig_cstat) return FOLD_ERR_MEMORY;
    }
    swap_system(kkt); /* sys and fac now hold the empty set: the run builds its own */
    kkt->fac.has_factor = false;
    b->has_primary = true;
    return FOLD_OK;
}

void fold_kkt_border_end_run(fold_kkt *kkt)
{
    if (kkt->border.run)
        fold_log(&kkt->solver->set, 3,
                 "%s: comparison run (variant %d): %lld of %lld columns took the primary's "
                 "solve",
                 kkt->fn, kkt->cands.cur_variant, (long long)fold_la_border_reused(kkt->border.run),
                 (long long)kkt->border.rec_pos);
    fold_la_border_free(kkt->border.run);
    kkt->border.run = NULL;
}

bool fold_kkt_border_restore(fold_kkt *kkt)
{
    fold_kkt_border *b = &kkt->border;
    fold_kkt_border_end_run(kkt);
    if (!b->has_primary) return false;
    fold_kkt_release_system(kkt);
    fold_kkt_null_free(kkt);
    swap_system(kkt);
    b->has_primary = false;
    fold_kkt_active_weights(kkt, kkt->solver); /* al, au of the primary's held bounds */
    return true;
}

void fold_kkt_border_drop(fold_kkt *kkt)
{
    fold_kkt_border *b = &kkt->border;
    fold_kkt_border_end_run(kkt);
    if (b->has_primary) {
        SWAP(fold_kkt_null_space, b->ns, kkt->ns); /* the primary's null space freed */
        fold_kkt_null_free(kkt);
        SWAP(fold_kkt_null_space, b->ns, kkt->ns);
        fold_la_factor_free(b->F);
        fold_la_sparse_free(&b->K, &kkt->cm);
        free(b->kidx);
        free(b->kdiag);
        free(b->kscale);
        b->F = NULL;
        b->kidx = b->kdiag = NULL;
        b->kscale = NULL;
        b->has_primary = false;
    }
    free(b->C);
    free(b->W);
    free(b->have);
    b->C = b->W = NULL;
    b->have = NULL;
    b->n_cols = 0;
    fold_kkt_border_forget(kkt);
}

void fold_kkt_border_forget(fold_kkt *kkt)
{
    fold_kkt_border *b = &kkt->border;
    free(b->rec_X);
    free(b->rec_ok);
    free(b->rec_bp);
    free(b->rec_bi);
    free(b->rec_bv);
    free(b->rec_Bd);
    b->rec_X = b->rec_bv = b->rec_Bd = NULL;
    b->rec_ok = NULL;
    b->rec_bp = NULL;
    b->rec_bi = NULL;
    b->rec_n = b->rec_cap = b->rec_pos = 0;
    b->rec_bcap = b->rec_bd_len = 0;
    b->rec_full = false;
    b->reg_refused = false;
}

/* Room in the record for `cols` solutions and `nnz` right-hand-side entries in all, within
 * RECORD_MAX doubles (an index counted as a double); false when it does not fit (or memory
 * runs out: a record is only a saving, kept as it was). */
static bool record_room(fold_kkt_border *b, fold_int nK, fold_int cols, size_t nnz)
{
    if ((size_t)cols * (size_t)nK + 2 * nnz > RECORD_MAX) return false;
    if (cols > b->rec_cap) {
        fold_int cap = b->rec_cap ? 2 * b->rec_cap : cols;
        if (cap < cols) cap = cols;
        if ((size_t)cap * (size_t)nK + 2 * nnz > RECORD_MAX)
            cap = (fold_int)((RECORD_MAX - 2 * nnz) / (size_t)nK);
        double *nx = realloc(b->rec_X, (size_t)cap * (size_t)nK * sizeof *nx);
        if (!nx) return false;
        b->rec_X = nx;
        unsigned char *nk = realloc(b->rec_ok, (size_t)cap + 1);
        if (!nk) return false;
        b->rec_ok = nk;
        size_t *np = realloc(b->rec_bp, ((size_t)cap + 1) * sizeof *np);
        if (!np) return false;
        b->rec_bp = np;
        if (b->rec_cap == 0) b->rec_bp[0] = 0;
        b->rec_cap = cap;
    }
    if (nnz > b->rec_bcap) {
        size_t cap = b->rec_bcap ? 2 * b->rec_bcap : nnz;
        if (cap < nnz) cap = nnz;
        fold_int *ni = realloc(b->rec_bi, cap * sizeof *ni);
        if (ni) b->rec_bi = ni;
        double *nv = ni ? realloc(b->rec_bv, cap * sizeof *nv) : NULL;
        if (nv) b->rec_bv = nv;
        if (!ni || !nv) return false;
        b->rec_bcap = cap;
    }
    return true;
}

void fold_kkt_border_record(fold_kkt *kkt, const fold_settings *set, fold_int nrhs, const double *B,
                            const double *X, const unsigned char *bad)
{
    fold_kkt_border *b = &kkt->border;
    fold_int nK = kkt->sys.nK;
    /* an exact, pinned or regularized primary (the runs' border of §4.9) */
    if (!fold_kkt_primary(kkt) || nrhs <= 0 || kkt->cands.n_cand == 0 ||
        set->active_set.ambiguity == FOLD_AMBIGUITY_IGNORE || set->backward.variant_refactor ||
        set->backward.method != FOLD_BACKWARD_DIRECT || kkt->sys.form != FOLD_KKT_ACTIVE ||
        kkt->fac.is_lsq || nK == 0 || !kkt->fac.F)
        return;
    if (b->rec_full) return; /* later columns are solved again */
    size_t nnz = b->rec_n ? b->rec_bp[b->rec_n] : 0;
    for (size_t q = 0; q < (size_t)(nrhs * nK); q++)
        nnz += B[q] != 0.0;
    if (!record_room(b, nK, b->rec_n + nrhs, nnz)) {
        b->rec_full = true;
        return;
    }
    for (fold_int c = 0; c < nrhs; c++) {
        const double *bc = B + (size_t)c * (size_t)nK;
        size_t at = b->rec_bp[b->rec_n + c];
        for (fold_int t = 0; t < nK; t++)
            if (bc[t] != 0.0) {
                b->rec_bi[at] = t;
                b->rec_bv[at++] = bc[t];
            }
        b->rec_bp[b->rec_n + c + 1] = at;
        /* an inconsistent column has no solution; one GMRES solved (eq. 4.9) is marked */
        b->rec_ok[b->rec_n + c] = !bad || !bad[c]                 ? 1
                                  : bad[c] == FOLD_SYSTEM_RESCUED ? FOLD_LA_KNOWN_SLOW
                                                                  : 0;
    }
    memcpy(b->rec_X + (size_t)b->rec_n * (size_t)nK, X, (size_t)(nrhs * nK) * sizeof *X);
    b->rec_n += nrhs;
}

void fold_kkt_border_free(fold_kkt *kkt)
{
    fold_kkt_border_drop(kkt);
    free(kkt->border.dep);
    free(kkt->border.xpos);
    free(kkt->border.cpos);
    free(kkt->border.sig_xstat);
    free(kkt->border.sig_cstat);
}

/* Is candidate cd's item in the primary K (a constraint held active, a variable free)? */
static fold_int primary_pos(const fold_kkt *kkt, const fold_kkt_cand *cd)
{
    return cd->is_con ? kkt->border.cpos[cd->index] : kkt->border.xpos[cd->index];
}

/* Column c (length nK of the primary) of candidate cd: e_t when the primary K has its row t
 * (a run removes it), else its entries of H and J on the primary's rows (E and B of eq. 4.14),
 * from the callback values as kkt_assemble.c fills K (active form: unscaled). */
static void border_column(const fold_kkt *kkt, const fold_kkt_cand *cd, double *c)
{
    const fold_kkt_border *b = &kkt->border;
    fold_int t = primary_pos(kkt, cd);
    memset(c, 0, (size_t)b->nK * sizeof *c);
    if (t >= 0) {
        c[t] = 1.0;
        return;
    }
    const fold_owned_pattern *hp = fold_kkt_hess_pattern(kkt), *jp = &kkt->prob->jac_g;
    if (cd->is_con) {
        for (fold_int k = 0; k < jp->nnz; k++)
            if (jp->row[k] == cd->index && b->xpos[jp->col[k]] >= 0)
                c[b->xpos[jp->col[k]]] += kkt->val.jv[k];
        return;
    }
    fold_int j = cd->index;
    for (fold_int k = 0; k < hp->nnz; k++) {
        fold_int r = hp->row[k], q = hp->col[k];
        if (r == q) continue; /* the diagonal is in D */
        if (q == j && b->xpos[r] >= 0) c[b->xpos[r]] += kkt->val.hv[k];
        if (r == j && b->xpos[q] >= 0) c[b->xpos[q]] += kkt->val.hv[k];
    }
    for (fold_int k = 0; k < jp->nnz; k++)
        if (jp->col[k] == j && b->cpos[jp->row[k]] >= 0) c[b->cpos[jp->row[k]]] += kkt->val.jv[k];
}

/* C and W = A^{-1} C of the listed candidates not computed yet: one refined multi-column
 * solve with the primary factorization. */
static fold_status ensure_columns(fold_kkt *kkt, const fold_settings *set, const fold_int *list,
                                  fold_int k)
{
    fold_kkt_border *b = &kkt->border;
    fold_int nc = kkt->cands.n_cand, nP = b->nK, n_new = 0;
    fold_status st;
    if (b->n_cols != nc) {
        free(b->C);
        free(b->W);
        free(b->have);
        b->C = fold_malloc((size_t)(nc * nP), sizeof *b->C, "border columns");
        b->W = fold_malloc((size_t)(nc * nP), sizeof *b->W, "border columns");
        b->have = fold_calloc((size_t)nc, 1, "border columns");
        b->n_cols = b->C && b->W && b->have ? nc : 0;
        if (!b->n_cols) return FOLD_ERR_MEMORY;
    }
    double *Cn = fold_malloc((size_t)(k * nP), sizeof *Cn, "border columns");
    double *Wn = fold_malloc((size_t)(k * nP), sizeof *Wn, "border columns");
    if (!Cn || !Wn) {
        free(Cn);
        free(Wn);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int j = 0; j < k; j++)
        if (!b->have[list[j]]) border_column(kkt, &kkt->cands.cand[list[j]], Cn + nP * n_new++);
    /* a column that moves a pinned primary's copies apart is not in its range: its pinned
     * solve is the W of eq. 4.16b (the flags of fold_la_factor_solve_cols ignored); over a
     * regularized primary W = M^{-1} C unrefined, so that the border inverts the run's K
     * plus the primary's regularization exactly (refined against K, a column along its
     * null space would grow without bound, eq. 4.8) */
    double worst = 0.0;
    unsigned char *bad = fold_malloc((size_t)n_new + 1, 1, "border columns");
    bool regularized = !exact_inverse(&b->ns, &b->finfo, b->F);
    st = !bad     ? FOLD_ERR_MEMORY
         : !n_new ? FOLD_OK
         : regularized
             ? fold_la_factor_apply(b->F, false, n_new, Cn, Wn)
             : fold_la_factor_solve_cols(b->F, false, n_new, Cn, Wn, set->backward.refine_steps,
                                         set->backward.refine_tol, &worst, bad, NULL);
    free(bad);
    if (st == FOLD_WARN_INACCURATE) fold_clear_error(); /* the run's refinement settles it */
    if (st >= 0) {
        st = FOLD_OK;
        n_new = 0;
        for (fold_int j = 0; j < k; j++) {
            fold_int c = list[j];
            if (b->have[c]) continue;
            memcpy(b->C + c * nP, Cn + nP * n_new, (size_t)nP * sizeof *Cn);
            memcpy(b->W + c * nP, Wn + nP * n_new++, (size_t)nP * sizeof *Wn);
            b->have[c] = 1;
        }
    }
    free(Cn);
    free(Wn);
    return st;
}

/* Entry (r, c) of the run's K (summed duplicates; 0 outside its pattern). */
static double entry(const fold_la_sparse *K, fold_int r, fold_int c)
{
    const fold_int *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    double s = 0.0;
    for (fold_int q = Kp[c]; q < Kp[c + 1]; q++)
        if (Ki[q] == r) s += Kx[q];
    return s;
}

/* The border of the current run: the flipped candidates (list), their columns and the
 * positions of the run's unknowns in the primary K. */
static fold_status build(fold_kkt *kkt, const fold_settings *set, const fold_int *list, fold_int k,
                         fold_la_border **out)
{
    const fold_kkt_border *b = &kkt->border;
    fold_int nP = b->nK;
    fold_status st = ensure_columns(kkt, set, list, k);
    if (st) return st;
    fold_int *pv = fold_malloc((size_t)nP + 1, sizeof *pv, "border map");
    fold_int *vpos = fold_malloc((size_t)k + 1, sizeof *vpos, "border map");
    double *C = fold_malloc((size_t)(k * nP) + 1, sizeof *C, "border columns");
    double *W = fold_malloc((size_t)(k * nP) + 1, sizeof *W, "border columns");
    double *D = fold_calloc((size_t)(k * k) + 1, sizeof *D, "border block");
    if (!pv || !vpos || !C || !W || !D) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    for (fold_int j = 0; j < kkt->n; j++)
        if (b->xpos[j] >= 0) pv[b->xpos[j]] = kkt->sys.xpos[j];
    for (fold_int i = 0; i < kkt->m; i++)
        if (b->cpos[i] >= 0) pv[b->cpos[i]] = kkt->sys.cpos[i];
    for (fold_int j = 0; j < k; j++) {
        const fold_kkt_cand *cd = &kkt->cands.cand[list[j]];
        fold_int vp = cd->is_con ? kkt->sys.cpos[cd->index] : kkt->sys.xpos[cd->index];
        vpos[j] = primary_pos(kkt, cd) >= 0 ? -1 : vp;
        memcpy(C + j * nP, b->C + list[j] * nP, (size_t)nP * sizeof *C);
        memcpy(W + j * nP, b->W + list[j] * nP, (size_t)nP * sizeof *W);
    }
    for (fold_int j = 0; j < k; j++)
        for (fold_int i = 0; i < k; i++)
            if (vpos[i] >= 0 && vpos[j] >= 0) D[j * k + i] = entry(kkt->sys.K, vpos[i], vpos[j]);
    st = fold_la_border_create(b->F, kkt->sys.K, pv, k, vpos, C, W, D, out);
done:
    free(pv);
    free(vpos);
    free(C);
    free(W);
    free(D);
    return st;
}

/* The null space of a run bordered over a pinned primary: the pins its border leaves null
 * directions (fold_la_border_null_vector), checked to be a null vector of the run's K
 * (else 1: the run factors its K), marked as fold_kkt_null_setup marks a factorization's
 * (eq. 4.11) with its weakly active multipliers (eq. 4.12); none: no null space. */
static fold_status run_null_space(fold_kkt *kkt, const fold_la_border *Bd)
{
    fold_int nV = kkt->sys.nK;
    fold_kkt_null_free(kkt);
    double *z = fold_malloc((size_t)nV + 1, sizeof *z, "null vector");
    double *zero = fold_calloc((size_t)nV + 1, sizeof *zero, "null vector");
    double *y = fold_malloc((size_t)nV + 1, sizeof *y, "null vector");
    double *w = fold_malloc((size_t)nV + 1, sizeof *w, "null vector");
    fold_status st = !z || !zero || !y || !w ? FOLD_ERR_MEMORY : FOLD_OK;
    if (!st && fold_la_border_null_vector(Bd, z) > 0) {
        /* K z = 0 row by row, against |K| |z| */
        fold_la_residual(kkt->sys.K, false, z, zero, y, w);
        for (fold_int r = 0; r < nV && !st; r++)
            if (fabs(y[r]) > 64.0 * DBL_EPSILON * w[r]) st = 1;
        if (!st) st = fold_kkt_null_setup_vector(kkt, z);
        if (!st) st = fold_kkt_null_degenerate(kkt, kkt->solver, kkt->fn);
    }
    free(z);
    free(zero);
    free(y);
    free(w);
    if (st) fold_kkt_null_free(kkt);
    return st;
}

/* The null space of a run bordered over a regularized primary: the probe of eq. 4.10 with
 * the bordered inverse, marked as fold_kkt_null_setup marks a factorization's (eq. 4.11)
 * with its weakly active multipliers (eq. 4.12); 1 when the run has a null direction and
 * backward.lsq_fallback asks for least squares (the run factors its K, which gives them). */
static fold_status regularized_null_space(fold_kkt *kkt, const fold_settings *set,
                                          fold_la_border *Bd)
{
    fold_int nV = kkt->sys.nK;
    double residual = HUGE_VAL, delta = fold_la_border_delta(Bd);
    fold_kkt_null_free(kkt);
    double *z = fold_malloc((size_t)nV + 1, sizeof *z, "null vector");
    fold_status st = z ? fold_la_border_null_probe(Bd, z, &residual) : FOLD_ERR_MEMORY;
    if (!st)
        fold_log(set, 3,
                 "%s: null-space probe of the bordered regularized KKT matrix: residual %.3g (a "
                 "null vector at most %.3g)",
                 kkt->fn, residual, FOLD_LA_NULL_RESIDUAL * delta);
    if (!st && residual <= FOLD_LA_NULL_RESIDUAL * delta) {
        st = set->backward.lsq_fallback ? 1 : fold_kkt_null_setup_vector(kkt, z);
        if (!st) st = fold_kkt_null_degenerate(kkt, kkt->solver, kkt->fn);
    }
    free(z);
    if (st) fold_kkt_null_free(kkt);
    return st;
}

double fold_kkt_border_delta(const fold_kkt *kkt)
{
    return kkt->border.run ? fold_la_border_delta(kkt->border.run) : 0.0;
}

fold_status fold_kkt_border_apply(fold_kkt *kkt, bool transpose, const double *r, double *z)
{
    return fold_la_border_apply(kkt->border.run, transpose, 1, r, z);
}

bool fold_kkt_border_setup(fold_kkt *kkt, const fold_settings *set, fold_status *st)
{
    fold_int nc = kkt->cands.n_cand, k = 0;
    *st = FOLD_OK;
    fold_kkt_border_end_run(kkt);
    if (kkt->sys.form != FOLD_KKT_ACTIVE || kkt->cands.path != 0 || kkt->cands.variant == 0 ||
        kkt->cands.n_cand == 0 || !kkt->sys.K || kkt->sys.nK == 0 ||
        set->backward.method != FOLD_BACKWARD_DIRECT || !primary_borderable(kkt))
        return false;
    fold_int *list = fold_malloc((size_t)nc + 1, sizeof *list, "flipped candidates");
    if (!list) {
        *st = FOLD_ERR_MEMORY;
        return false;
    }
    for (fold_int c = 0; c < nc; c++)
        if (fold_kkt_variant_status(kkt, kkt->cands.variant, c) != kkt->cands.cand[c].primary)
            list[k++] = c;
    fold_la_border *Bd = NULL;
    if (k <= BORDER_MAX) *st = build(kkt, set, list, k, &Bd);
    free(list);
    if (*st || !Bd) return false;
    if (fold_la_factor_pinned(kkt->border.F) && (*st = run_null_space(kkt, Bd)) != FOLD_OK) {
        fold_la_border_free(Bd);
        if (*st > 0) *st = FOLD_OK; /* not a null vector after all: factored instead */
        return false;
    }
    double rc = fold_la_border_rcond(Bd);
    fold_log(set, 3,
             "%s: comparison run (variant %d) over the primary factorization%s: %lld rows "
             "and columns, %lld dependent rows of the primary's, capacitance rcond %.3g%s",
             kkt->fn, kkt->cands.variant, fold_la_border_delta(Bd) > 0.0 ? " (regularized)" : "",
             (long long)k, (long long)kkt->cls.n_dependent, rc,
             rc < BORDER_RCOND ? " (near singular: factored instead)" : "");
    if (!(rc >= BORDER_RCOND)) {
        fold_la_border_free(Bd);
        return false;
    }
    if (fold_la_border_delta(Bd) > 0.0 && (*st = regularized_null_space(kkt, set, Bd)) != FOLD_OK) {
        fold_la_border_free(Bd);
        if (*st > 0) *st = FOLD_OK; /* least squares asked for: factored instead */
        return false;
    }
    kkt->border.run = Bd;
    kkt->border.rec_pos = 0; /* the run solves the primary run's columns in its order */
    return true;
}

/* Columns [q0, q0 + count) of the record's right-hand sides, dense, into b->rec_Bd. */
static double *record_rhs(fold_kkt_border *b, fold_int q0, fold_int count)
{
    size_t len = (size_t)count * (size_t)b->nK;
    if (b->rec_bd_len < len) {
        free(b->rec_Bd);
        b->rec_bd_len = 0;
        if (!(b->rec_Bd = fold_malloc(len, sizeof *b->rec_Bd, "recorded right-hand sides")))
            return NULL;
        b->rec_bd_len = len;
    }
    memset(b->rec_Bd, 0, len * sizeof *b->rec_Bd);
    for (fold_int c = 0; c < count; c++) {
        double *col = b->rec_Bd + (size_t)c * (size_t)b->nK;
        for (size_t k = b->rec_bp[q0 + c]; k < b->rec_bp[q0 + c + 1]; k++)
            col[b->rec_bi[k]] = b->rec_bv[k];
    }
    return b->rec_Bd;
}

fold_status fold_kkt_border_solve(fold_kkt *kkt, const fold_settings *set, bool transpose,
                                  fold_int nrhs, const double *B, double *X, double *residual,
                                  unsigned char *bad, fold_int *n_bad)
{
    fold_kkt_border *b = &kkt->border;
    fold_int known = b->rec_n - b->rec_pos;
    if (known > nrhs) known = nrhs;
    if (known < 0) known = 0;
    const double *Bp = known ? record_rhs(b, b->rec_pos, known) : NULL;
    if (known && !Bp) return FOLD_ERR_MEMORY;
    fold_status st = fold_la_border_solve(
        b->run, transpose, nrhs, B, X, Bp,
        known ? b->rec_X + (size_t)b->rec_pos * (size_t)b->nK : NULL,
        known ? b->rec_ok + b->rec_pos : NULL, known, set->backward.refine_steps,
        set->backward.refine_tol, residual, bad, n_bad);
    b->rec_pos += nrhs;
    if (st) return st;
    return *residual <= set->backward.refine_tol ? FOLD_OK : FOLD_WARN_INACCURATE;
}
