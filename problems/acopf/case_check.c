/* Physical checks of a case, read from a file or built in memory, before the model uses it:
 * values finite where the model needs them (limits may be infinite on their open side),
 * magnitudes, impedance and tap ranges, ordered limits, polynomial degree. The limits keep
 * every model coefficient and callback value finite (doc/acopf.md §1.1). Messages name
 * the bus, generator or branch as the file does, with its line when known. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "acopf/acopf_internal.h"

typedef struct checker {
    const fold_acopf_case *cs;
    const char *where; /* file name, or "fold_acopf_create: case NAME" */
    fold_status status;
    bool file_lines; /* messages "where:line: ..." */
} checker;

static fold_status bad(const checker *ck, long line, const char *item, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static fold_status bad(const checker *ck, long line, const char *item, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ck->file_lines && line > 0)
        return acopf_error(ck->status, "%s:%ld: %s: %s", ck->where, line, item, msg);
    return acopf_error(ck->status, "%s: %s: %s", ck->where, item, msg);
}

/* A value the model uses: finite with |v| <= FOLD_ACOPF_MAX_MAGNITUDE, or (open_side = +1
 * or -1) infinite of that sign, meaning "no limit". */
static fold_status value_ok(const checker *ck, long line, const char *item, const char *field,
                            double v, const char *unit, int open_side)
{
    if (isinf(v) && (v > 0 ? 1 : -1) == open_side) return FOLD_OK;
    if (!isfinite(v))
        return open_side ? bad(ck, line, item, "%s = %g must be finite or %s", field, v,
                               open_side > 0 ? "Inf (no limit)" : "-Inf (no limit)")
                         : bad(ck, line, item, "%s = %g must be finite", field, v);
    if (fabs(v) > FOLD_ACOPF_MAX_MAGNITUDE)
        return bad(ck, line, item, "%s = %g %s exceeds the magnitude limit %g%s", field, v, unit,
                   FOLD_ACOPF_MAX_MAGNITUDE, open_side ? " (write Inf for no limit)" : "");
    return FOLD_OK;
}

static fold_status check_bus(const checker *ck, const fold_acopf_bus *b)
{
    char item[48];
    fold_status st;
    snprintf(item, sizeof item, "bus %ld", b->id);
    if ((st = value_ok(ck, b->line, item, "Pd", b->pd, "MW", 0)) ||
        (st = value_ok(ck, b->line, item, "Qd", b->qd, "MVAr", 0)) ||
        (st = value_ok(ck, b->line, item, "Gs", b->gs, "MW", 0)) ||
        (st = value_ok(ck, b->line, item, "Bs", b->bs, "MVAr", 0)) ||
        (st = value_ok(ck, b->line, item, "Vmax", b->vmax, "p.u.", 0)) ||
        (st = value_ok(ck, b->line, item, "Vmin", b->vmin, "p.u.", 0)) ||
        /* the start point the file carries, written back by the writers */
        (st = value_ok(ck, b->line, item, "Vm", b->vm0, "p.u.", 0)) ||
        (st = value_ok(ck, b->line, item, "Va", b->va0, "degrees", 0)))
        return st;
    if (!(0 <= b->vmin && b->vmin <= b->vmax))
        return bad(ck, b->line, item, "Vmin %g, Vmax %g are not 0 <= Vmin <= Vmax", b->vmin,
                   b->vmax);
    return FOLD_OK;
}

static fold_status check_gen(const checker *ck, const fold_acopf_gen *g)
{
    const fold_acopf_case *cs = ck->cs;
    char item[64];
    fold_status st;
    snprintf(item, sizeof item, "gen row %ld (bus %ld)", g->row, cs->bus[g->bus].id);
    if ((st = value_ok(ck, g->line, item, "Pmin", g->pmin, "MW", -1)) ||
        (st = value_ok(ck, g->line, item, "Pmax", g->pmax, "MW", 1)) ||
        (st = value_ok(ck, g->line, item, "Qmin", g->qmin, "MVAr", -1)) ||
        (st = value_ok(ck, g->line, item, "Qmax", g->qmax, "MVAr", 1)) ||
        (st = value_ok(ck, g->line, item, "Pg", g->pg0, "MW", 0)) ||
        (st = value_ok(ck, g->line, item, "Qg", g->qg0, "MVAr", 0)))
        return st;
    if (g->pmin > g->pmax || g->qmin > g->qmax)
        return bad(ck, g->line, item, "Pmin %g > Pmax %g or Qmin %g > Qmax %g", g->pmin, g->pmax,
                   g->qmin, g->qmax);
    if (!g->pwl && g->n_cost > FOLD_ACOPF_MAX_COST_TERMS) {
        checker unsupported = *ck;
        unsupported.status = FOLD_ERR_UNSUPPORTED;
        return bad(&unsupported, g->line, item,
                   "polynomial cost with %d coefficients; at most "
                   "%d are supported",
                   g->n_cost, FOLD_ACOPF_MAX_COST_TERMS);
    }
    const double *c = cs->cost + g->cost_off;
    for (int j = 0; j < (g->pwl ? 2 * g->n_cost : g->n_cost); j++)
        if ((st = value_ok(ck, g->line, item, "cost term", c[j], "", 0))) return st;
    /* piecewise linear: >= 2 points, MW increasing, slopes bounded and non-decreasing (the
     * epigraph form needs a convex cost, doc/acopf.md eq. 7) */
    if (g->pwl && g->n_cost < 2)
        return bad(ck, g->line, item,
                   "piecewise-linear cost with %d point(s); it needs 2 or "
                   "more",
                   g->n_cost);
    double prev = -HUGE_VAL;
    for (int j = 0; g->pwl && j + 1 < g->n_cost; j++) {
        if (!(c[2 * j + 2] > c[2 * j]))
            return bad(ck, g->line, item,
                       "piecewise-linear points must have increasing MW "
                       "(point %d at %g, point %d at %g)",
                       j + 1, c[2 * j], j + 2, c[2 * j + 2]);
        double slope = (c[2 * j + 3] - c[2 * j + 1]) / (c[2 * j + 2] - c[2 * j]);
        if (!(fabs(slope) <= FOLD_ACOPF_MAX_MAGNITUDE))
            return bad(ck, g->line, item,
                       "piecewise-linear cost slope %g $/MWh between points %d "
                       "and %d exceeds the magnitude limit %g",
                       slope, j + 1, j + 2, FOLD_ACOPF_MAX_MAGNITUDE);
        if (slope < prev - 1e-12 * fmax(1.0, fabs(prev))) {
            checker unsupported = *ck;
            unsupported.status = FOLD_ERR_UNSUPPORTED;
            return bad(&unsupported, g->line, item,
                       "piecewise-linear cost is not convex (slope "
                       "%g after %g at point %d)",
                       slope, prev, j + 1);
        }
        prev = slope;
    }
    return FOLD_OK;
}

static fold_status check_branch(const checker *ck, const fold_acopf_branch *b)
{
    const fold_acopf_case *cs = ck->cs;
    char item[96];
    fold_status st;
    snprintf(item, sizeof item, "branch row %ld (bus %ld - bus %ld)", b->row, cs->bus[b->f].id,
             cs->bus[b->t].id);
    if ((st = value_ok(ck, b->line, item, "r", b->r, "p.u.", 0)) ||
        (st = value_ok(ck, b->line, item, "x", b->x, "p.u.", 0)) ||
        (st = value_ok(ck, b->line, item, "b", b->b, "p.u.", 0)) ||
        (st = value_ok(ck, b->line, item, "rateA", b->rate_a, "MVA", 1)) ||
        (st = value_ok(ck, b->line, item, "angle", b->shift_deg, "degrees", 0)) ||
        (st = value_ok(ck, b->line, item, "angmin", b->angmin_deg, "degrees", 0)) ||
        (st = value_ok(ck, b->line, item, "angmax", b->angmax_deg, "degrees", 0)))
        return st;
    if (b->r == 0 && b->x == 0) return bad(ck, b->line, item, "zero impedance (r = x = 0)");
    if (hypot(b->r, b->x) < FOLD_ACOPF_MIN_IMPEDANCE)
        return bad(ck, b->line, item, "impedance |r + jx| = %g p.u. is below %g", hypot(b->r, b->x),
                   FOLD_ACOPF_MIN_IMPEDANCE);
    if (!(b->tap >= FOLD_ACOPF_TAP_MIN && b->tap <= FOLD_ACOPF_TAP_MAX))
        return bad(ck, b->line, item, "tap ratio %g outside [%g, %g] (0 in the file means 1)",
                   b->tap, FOLD_ACOPF_TAP_MIN, FOLD_ACOPF_TAP_MAX);
    if (b->rate_a < 0) return bad(ck, b->line, item, "negative rateA %g", b->rate_a);
    if (b->angmin_deg > b->angmax_deg)
        return bad(ck, b->line, item, "angmin %g > angmax %g", b->angmin_deg, b->angmax_deg);
    return FOLD_OK;
}

typedef struct pair_key {
    fold_int lo, hi, k; /* bus indices (lo < hi) and branch */
} pair_key;

static int cmp_pair_key(const void *a, const void *b)
{
    const pair_key *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi) return x->hi < y->hi ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* Parallel branches share one angle-difference row with the tightest of their limits
 * (doc/acopf.md eq. 6): those limits must leave some angle, else the row's bounds cross. */
static fold_status check_parallel_angles(const checker *ck)
{
    const fold_acopf_case *cs = ck->cs;
    pair_key *keys = malloc(((size_t)cs->n_branch + 1) * sizeof *keys);
    fold_int n = 0;
    fold_status st = FOLD_OK;
    if (!keys) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", ck->where);
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        if (fabs(b->angmin_deg) >= 360 && fabs(b->angmax_deg) >= 360) continue; /* no angle row */
        keys[n++] = (pair_key){b->f < b->t ? b->f : b->t, b->f < b->t ? b->t : b->f, k};
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_pair_key);
    const fold_acopf_branch *rep = NULL;
    double lo = 0, hi = 0; /* over the group so far, in the orientation of its first branch */
    fold_int k_lo = 0, k_hi = 0;
    for (fold_int q = 0; q < n && st == FOLD_OK; q++) {
        const fold_acopf_branch *b = &cs->branch[keys[q].k];
        if (q == 0 || keys[q].lo != keys[q - 1].lo || keys[q].hi != keys[q - 1].hi) {
            rep = b;
            lo = -HUGE_VAL;
            hi = HUGE_VAL;
        }
        bool same = b->f == rep->f;
        double amin = same ? b->angmin_deg : -b->angmax_deg;
        double amax = same ? b->angmax_deg : -b->angmin_deg;
        if (fabs(amin) < 360 && amin > lo) lo = amin, k_lo = keys[q].k;
        if (fabs(amax) < 360 && amax < hi) hi = amax, k_hi = keys[q].k;
        if (lo > hi) {
            char item[96];
            snprintf(item, sizeof item, "branch row %ld (bus %ld - bus %ld)", b->row,
                     cs->bus[b->f].id, cs->bus[b->t].id);
            st = bad(ck, b->line, item,
                     "the angle-difference limits of the parallel branches "
                     "row %ld and row %ld leave no angle: va(bus %ld) - va(bus %ld) >= %g and "
                     "<= %g degrees",
                     cs->branch[k_lo].row, cs->branch[k_hi].row, cs->bus[rep->f].id,
                     cs->bus[rep->t].id, lo, hi);
        }
    }
    free(keys);
    return st;
}

fold_status acopf_case_check(const fold_acopf_case *cs, const char *where, bool file_lines,
                             fold_status status)
{
    checker ck = {cs, where, status, file_lines};
    fold_status st;
    if (!(cs->base_mva >= FOLD_ACOPF_BASE_MIN && cs->base_mva <= FOLD_ACOPF_MAX_MAGNITUDE))
        return acopf_error(status, "%s: baseMVA = %g outside [%g, %g]", where, cs->base_mva,
                           FOLD_ACOPF_BASE_MIN, FOLD_ACOPF_MAX_MAGNITUDE);
    for (fold_int i = 0; i < cs->n_bus; i++)
        if ((st = check_bus(&ck, &cs->bus[i]))) return st;
    for (fold_int k = 0; k < cs->n_gen; k++)
        if ((st = check_gen(&ck, &cs->gen[k]))) return st;
    for (fold_int k = 0; k < cs->n_branch; k++)
        if ((st = check_branch(&ck, &cs->branch[k]))) return st;
    return check_parallel_angles(&ck);
}
