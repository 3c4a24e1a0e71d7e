/* The list of weakly active constraints and bounds found at the solution (doc/math.md §3.2):
 * filled by the classification (kkt_classify.c, kkt_sides.c) and the null-space and
 * structural checks, named as the user knows the items. */
#include "fold/fold_internal.h"

fold_status fold_kkt_add_weak(fold_kkt *kkt, fold_weak_kind kind, fold_int index, double dist,
                              double mult)
{
    if (kkt->cls.n_weak == kkt->cls.weak_cap) {
        fold_int cap = kkt->cls.weak_cap ? 2 * kkt->cls.weak_cap : 16;
        fold_weak_entry *w = realloc(kkt->cls.weak, (size_t)cap * sizeof *w);
        if (!w)
            return fold_error(FOLD_ERR_MEMORY, "out of memory: weak list (%lld entries)",
                              (long long)cap);
        kkt->cls.weak = w;
        kkt->cls.weak_cap = cap;
    }
    kkt->cls.weak[kkt->cls.n_weak++] = (fold_weak_entry){kind, index, dist, mult};
    return FOLD_OK;
}

fold_status fold_kkt_add_weak_item(fold_kkt *kkt, const fold_solver *solver, fold_int row,
                                   fold_int var)
{
    fold_weak_kind kind;
    fold_int index;
    double dist, mult;
    if (var >= 0) {
        bool upper = kkt->cls.xstat[var] == FOLD_XS_UPPER;
        kind = upper ? FOLD_WEAK_VARIABLE_UPPER : FOLD_WEAK_VARIABLE_LOWER;
        index = var;
        dist = upper ? solver->xu[var] - solver->x[var] : solver->x[var] - solver->xl[var];
        mult = upper ? solver->zu[var] : solver->zl[var];
    } else {
        bool upper = kkt->cls.cstat[row] == FOLD_CS_UPPER;
        kind = upper ? FOLD_WEAK_CONSTRAINT_UPPER : FOLD_WEAK_CONSTRAINT_LOWER;
        index = row;
        dist = upper ? solver->gu[row] - kkt->cls.gval[row] : kkt->cls.gval[row] - solver->gl[row];
        mult = fabs(solver->lam[row]);
    }
    for (fold_int w = kkt->cls.n_weak_classified; w < kkt->cls.n_weak; w++)
        if (kkt->cls.weak[w].index == index && kkt->cls.weak[w].kind == kind) return FOLD_OK;
    return fold_kkt_add_weak(kkt, kind, index, dist, mult);
}

void fold_kkt_weak_name(const fold_kkt *kkt, const fold_weak_entry *w, char *buf, size_t len)
{
    bool var = w->kind >= 2, upper = w->kind % 2 == 1;
    fold_prob_side_name(kkt->prob, var ? FOLD_ITEM_VARIABLE : FOLD_ITEM_CONSTRAINT, w->index,
                        upper ? FOLD_SIDE_UPPER : FOLD_SIDE_LOWER, buf, len);
}

void fold_kkt_weak_describe(const fold_kkt *kkt, const fold_weak_entry *w, char *buf, size_t len)
{
    char what[FOLD_NAME_MAX];
    if (w->kind >= 2) {
        fold_prob_name(kkt->prob, FOLD_ITEM_VARIABLE, w->index, what, sizeof what);
        snprintf(buf, len, "%s bound of variable %s (distance %.3g, multiplier %.3g)",
                 w->kind == 3 ? "upper" : "lower", what, w->distance, w->multiplier);
    } else {
        fold_kkt_weak_name(kkt, w, what, sizeof what);
        snprintf(buf, len, "constraint %s (distance %.3g, multiplier %.3g)", what, w->distance,
                 w->multiplier);
    }
}

const char *fold_kkt_weak_first(const fold_kkt *kkt, char *buf, size_t len)
{
    fold_int shown = kkt->cls.n_weak < 3 ? kkt->cls.n_weak : 3;
    buf[0] = '\0';
    for (fold_int k = 0; k < shown; k++) {
        size_t at = strlen(buf);
        if (k) at += (size_t)snprintf(buf + at, len - at, "; ");
        if (at < len) fold_kkt_weak_describe(kkt, &kkt->cls.weak[k], buf + at, len - at);
    }
    return kkt->cls.n_weak > shown ? "; and more" : "";
}
