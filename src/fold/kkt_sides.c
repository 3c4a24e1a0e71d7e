/* Classification of constraints and bounds from the sides of forward/sides.c (doc/math.md
 * §3.2): decided sides set the active set; the weakly active and ambiguous ones, and the
 * items held by dependent active constraints (eq. 4.12), are the candidates, differentiated
 * under both classifications (variants.c). Variant 0 is the primary classification (each
 * candidate on the side it leans to); fold_kkt_build_variants lists the others. */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

#define FOLD_MAX_SINGLE 16

void fold_kkt_sides_free(fold_kkt *kkt)
{
    fold_sides_free(&kkt->cands.sides);
    free(kkt->cands.cand);
    free(kkt->cands.pxstat);
    free(kkt->cands.pcstat);
    free(kkt->cands.cand_item);
    free(kkt->cands.vflip);
    kkt->cands.vflip = NULL;
    kkt->cands.n_variants = 0;
    kkt->cands.cand_item = NULL;
    kkt->cands.cand = NULL;
    kkt->cands.pxstat = kkt->cands.pcstat = NULL;
    kkt->cands.n_cand = kkt->cands.cand_cap = 0;
}

static fold_status add_cand(fold_kkt *kkt, fold_kkt_cand c)
{
    if (kkt->cands.n_cand == kkt->cands.cand_cap) {
        fold_int cap = kkt->cands.cand_cap ? 2 * kkt->cands.cand_cap : 16;
        fold_kkt_cand *p = realloc(kkt->cands.cand, (size_t)cap * sizeof *p);
        if (!p)
            return fold_error(FOLD_ERR_MEMORY, "out of memory: candidates (%lld)", (long long)cap);
        kkt->cands.cand = p;
        kkt->cands.cand_cap = cap;
    }
    kkt->cands.cand[kkt->cands.n_cand++] = c;
    return FOLD_OK;
}

/* The status of an item with lower side sl and upper side su (side numbers, -1 for none):
 * held at a decided active side (the larger multiplier when both are), else free; an
 * undecided side (the one leaning more to active when both are) is returned in *cand. */
static int item_status(const fold_sides *S, fold_int sl, fold_int su, fold_int *cand)
{
    bool al = sl >= 0 && S->state[sl] == FOLD_SIDE_ACTIVE;
    bool au = su >= 0 && S->state[su] == FOLD_SIDE_ACTIVE;
    *cand = -1;
    if (al && au) return S->mult[sl] >= S->mult[su] ? 1 : 2;
    if (al) return 1;
    if (au) return 2;
    bool ul = sl >= 0 && fold_side_undecided(S, sl), uu = su >= 0 && fold_side_undecided(S, su);
    if (ul && uu)
        *cand = S->logr[sl] >= S->logr[su] ? sl : su;
    else if (ul)
        *cand = sl;
    else if (uu)
        *cand = su;
    return 0;
}

/* One item with an undecided side c (upper when c is odd): its primary status, as an
 * explicit weak_policy asks or by its lean, the weak-list entry, and the candidate. */
static fold_status undecided_item(fold_kkt *kkt, const fold_solver *solver, bool con,
                                  fold_int index, fold_int c, int *status)
{
    const fold_sides *S = &kkt->cands.sides;
    int side = c % 2 ? 2 : 1, policy = solver->set.active_set.weak_policy;
    bool weak = S->state[c] == FOLD_SIDE_WEAK;
    double mult = con ? solver->lam[index] : S->mult[c];
    fold_status st = fold_kkt_add_weak(kkt, (con ? 0 : 2) + side - 1, index, S->dist[c], mult);
    if (st) return st;
    if (weak && policy != FOLD_WEAK_REFUSE) { /* the caller asks for a one-sided derivative */
        *status = policy == FOLD_WEAK_ACTIVE ? side : 0;
        kkt->cls.is_one_sided = solver->set.backward.kkt_form != FOLD_KKT_BARRIER;
        return FOLD_OK;
    }
    *status = S->logr[c] >= 0.0 ? side : 0;
    fold_kkt_cand cd = {.is_con = con,
                        .index = index,
                        .side = side,
                        .primary = (signed char)*status,
                        .alt = (signed char)(*status ? 0 : side),
                        .weak = weak};
    if (solver->set.log.verbose >= 3) {
        char name[FOLD_NAME_MAX];
        fold_prob_side_name(kkt->prob, con ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE, index, side,
                            name, sizeof name);
        fold_log(&solver->set, 3,
                 "candidate %s: %s, distance %.3e, multiplier %.3e, log10(Sigma/h) %.2f, held "
                 "first: %s",
                 name, weak ? "weakly active" : "ambiguous", S->dist[c], S->mult[c], S->logr[c],
                 *status ? "yes" : "no");
    }
    return add_cand(kkt, cd);
}

static fold_status refuse(const fold_kkt *kkt, const char *fn)
{
    char list[FOLD_WEAK_FIRST_LEN];
    const char *more = fold_kkt_weak_first(kkt, list, sizeof list);
    return fold_error(FOLD_ERR_DEGENERATE,
                      "%s: %lld constraints/bounds whose classification the accuracy of the "
                      "solution cannot decide (ambiguous or weakly active, doc/math.md §3.2): "
                      "%s%s; see fold_trust_report, or set active_set.ambiguity = resolve or flag",
                      fn, (long long)kkt->cands.n_cand, list, more);
}

fold_status fold_kkt_classify_sides(fold_kkt *kkt, fold_solver *solver, const char *fn)
{
    const fold_problem *prob = kkt->prob;
    fold_int n = kkt->n, m = kkt->m;
    fold_status st;
    fold_kkt_sides_free(kkt);
    kkt->cands.pxstat = fold_malloc((size_t)n, 1, "primary classification");
    kkt->cands.pcstat = fold_malloc((size_t)m + 1, 1, "primary classification");
    if (!kkt->cands.pxstat || !kkt->cands.pcstat) return FOLD_ERR_MEMORY;
    /* the forward solve's last classification of this solution, when it made one */
    if (!fold_solver_copy_sides(solver, &kkt->cands.sides)) {
        if ((st = fold_sides_eval(prob, solver->p, solver->x, solver->lam, solver->zl, solver->zu,
                                  solver->verdict, &kkt->cands.sides)))
            return fold_error_context(st, "%s: classification of the solution", fn);
        fold_kkt_product_count(kkt, kkt->cands.sides.n_hess_products);
    }
    const fold_sides *S = &kkt->cands.sides;
    fold_bounds b = fold_solver_bounds(solver); /* at the solution's p (math.md §2.5) */
    for (fold_int j = 0; j < n; j++) {
        double lo = b.xl[j], hi = b.xu[j];
        fold_int c;
        int s;
        if (!fold_is_inf_bound(lo) && lo == hi) {
            kkt->cls.xstat[j] = FOLD_XS_FIXED;
            kkt->cls.n_active_bounds++;
            continue;
        }
        s = item_status(S, fold_is_inf_bound(lo) ? -1 : fold_side_of_var(j, 0),
                        fold_is_inf_bound(hi) ? -1 : fold_side_of_var(j, 1), &c);
        if (c >= 0 && (st = undecided_item(kkt, solver, false, j, c, &s))) return st;
        kkt->cls.xstat[j] = (signed char)s;
        if (s) kkt->cls.n_active_bounds++;
    }
    for (fold_int i = 0; i < m; i++) {
        double lo = b.gl[i], hi = b.gu[i];
        fold_int c;
        int s;
        if (fold_prob_is_equality(prob, i)) {
            kkt->cls.cstat[i] = FOLD_CS_EQUALITY;
            kkt->cls.n_active_cons++;
            continue;
        }
        s = item_status(S, fold_is_inf_bound(lo) ? -1 : fold_side_of_con(n, i, 0),
                        fold_is_inf_bound(hi) ? -1 : fold_side_of_con(n, i, 1), &c);
        if (c >= 0 && (st = undecided_item(kkt, solver, true, i, c, &s))) return st;
        kkt->cls.cstat[i] = (signed char)s;
        if (s) kkt->cls.n_active_cons++;
    }
    kkt->cls.n_weak_sides = kkt->cls.n_weak;
    memcpy(kkt->cands.pxstat, kkt->cls.xstat, (size_t)n);
    if (m) memcpy(kkt->cands.pcstat, kkt->cls.cstat, (size_t)m);
    kkt->cands.cur_variant = kkt->cands.variant = 0;
    kkt->cands.cur_path = kkt->cands.path = 0;
    if (kkt->cands.n_cand > 0 && solver->set.active_set.ambiguity == FOLD_AMBIGUITY_REFUSE)
        return refuse(kkt, fn);
    return FOLD_OK;
}

bool fold_kkt_dependent_candidates(fold_kkt *kkt, const fold_solver *solver, fold_int first)
{
    int amb = solver->set.active_set.ambiguity;
    if ((amb != FOLD_AMBIGUITY_RESOLVE && amb != FOLD_AMBIGUITY_FLAG) ||
        solver->set.active_set.weak_policy != FOLD_WEAK_REFUSE || kkt->cands.variant != 0 ||
        kkt->sys.form != FOLD_KKT_ACTIVE || !kkt->cands.pxstat)
        return false;
    for (fold_int k = first; k < kkt->cls.n_weak; k++) {
        const fold_weak_entry *w = &kkt->cls.weak[k];
        bool con = w->kind < 2, known = false;
        for (fold_int c = 0; c < kkt->cands.n_cand && !known; c++)
            known = kkt->cands.cand[c].is_con == con && kkt->cands.cand[c].index == w->index;
        if (known) continue;
        int side = w->kind % 2 ? 2 : 1;
        fold_kkt_cand cd = {.is_con = con,
                            .index = w->index,
                            .side = side,
                            .primary = (signed char)side,
                            .alt = 0,
                            .dependent = true};
        if (add_cand(kkt, cd)) return false; /* out of memory: refuse as without */
    }
    return true;
}

/* The variants as rows of flags (1: the candidate takes its other status). Up to
 * FOLD_MAX_SINGLE candidates, each is flipped alone, and the ambiguous and weak ones all
 * together; beyond, those are all held, then all freed, and the dependent ones flipped
 * alone. A dependent item is never freed together with another: the multipliers of
 * dependent constraints can be shifted to zero on one of them, not on all (eq. 4.12). */
fold_status fold_kkt_build_variants(fold_kkt *kkt)
{
    fold_int nc = kkt->cands.n_cand, nd = 0;
    free(kkt->cands.vflip);
    kkt->cands.vflip = NULL;
    kkt->cands.n_variants = 0;
    for (fold_int c = 0; c < nc; c++)
        nd += kkt->cands.cand[c].dependent;
    if (nc == 0 && kkt->sys.form != FOLD_KKT_BARRIER) return FOLD_OK;
    bool singles = nc <= FOLD_MAX_SINGLE, barrier = kkt->sys.form == FOLD_KKT_BARRIER;
    int cap = (int)(singles ? nc + 1 : nd + 2) + 1;
    if (!(kkt->cands.vflip = fold_calloc((size_t)cap * (size_t)(nc + 1), 1, "variants")))
        return FOLD_ERR_MEMORY;
    unsigned char *row = kkt->cands.vflip;
    if (barrier) /* the barrier form's first variant: every side extrapolated as it leans */
        row += nc;
    for (fold_int c = 0; c < nc; c++) {
        if (!singles && !kkt->cands.cand[c].dependent) continue;
        row[c] = 1;
        row += nc;
    }
    if (nc - nd >= (singles ? 2 : 1)) {
        for (int g = 0; g < (singles ? 1 : 2); g++) { /* together: flipped, or held / freed */
            for (fold_int c = 0; c < nc; c++) {
                const fold_kkt_cand *cd = &kkt->cands.cand[c];
                if (cd->dependent) continue;
                signed char want = singles ? cd->alt : (signed char)(g == 0 ? cd->side : 0);
                row[c] = want != cd->primary;
            }
            row += nc;
        }
    }
    kkt->cands.n_variants = nc > 0 ? (int)((row - kkt->cands.vflip) / nc) : 1;
    return FOLD_OK;
}

double fold_kkt_side_factor(const fold_kkt *kkt, fold_int s)
{
    if ((kkt->cands.variant == 0 && kkt->cands.path != FOLD_PATH_SHRUNK) ||
        kkt->cands.path == FOLD_PATH_AT_MU || s < 0 || s >= kkt->cands.sides.count)
        return 1.0;
    const fold_sides *S = &kkt->cands.sides;
    bool held;
    switch (S->state[s]) {
    case FOLD_SIDE_NA:
        return 1.0;
    case FOLD_SIDE_ACTIVE:
        held = true;
        break;
    case FOLD_SIDE_INACTIVE:
        held = false;
        break;
    default:
        held = S->logr[s] >= 0.0;
        break;
    }
    for (fold_int c = 0; c < kkt->cands.n_cand; c++) { /* a candidate: as its variant holds it */
        const fold_kkt_cand *cd = &kkt->cands.cand[c];
        fold_int cs = cd->is_con ? fold_side_of_con(kkt->n, cd->index, cd->side == 2)
                                 : fold_side_of_var(cd->index, cd->side == 2);
        if (cs == s) held = fold_kkt_variant_status(kkt, kkt->cands.variant, c) != 0;
    }
    return held ? FOLD_BARRIER_RATIO : 1.0 / FOLD_BARRIER_RATIO;
}

int fold_kkt_variant_count(const fold_kkt *kkt)
{
    return kkt->cands.n_variants;
}

signed char fold_kkt_variant_status(const fold_kkt *kkt, int v, fold_int c)
{
    const fold_kkt_cand *cd = &kkt->cands.cand[c];
    if (v == 0 || v > kkt->cands.n_variants) return cd->primary;
    return kkt->cands.vflip[(size_t)(v - 1) * (size_t)kkt->cands.n_cand + (size_t)c] ? cd->alt
                                                                                     : cd->primary;
}

void fold_kkt_apply_variant(fold_kkt *kkt)
{
    int v = kkt->cands.variant;
    memcpy(kkt->cls.xstat, kkt->cands.pxstat, (size_t)kkt->n);
    if (kkt->m) memcpy(kkt->cls.cstat, kkt->cands.pcstat, (size_t)kkt->m);
    kkt->cls.n_active_bounds = kkt->cls.n_active_cons = 0;
    for (fold_int c = 0; c < kkt->cands.n_cand; c++) {
        const fold_kkt_cand *cd = &kkt->cands.cand[c];
        signed char s = fold_kkt_variant_status(kkt, v, c);
        if (cd->is_con)
            kkt->cls.cstat[cd->index] = s;
        else
            kkt->cls.xstat[cd->index] = s;
    }
    for (fold_int j = 0; j < kkt->n; j++)
        kkt->cls.n_active_bounds += kkt->cls.xstat[j] != FOLD_XS_FREE;
    for (fold_int i = 0; i < kkt->m; i++)
        kkt->cls.n_active_cons += kkt->cls.cstat[i] != FOLD_CS_INACTIVE;
    kkt->cands.cur_variant = v;
}
