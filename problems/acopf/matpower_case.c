/* MATPOWER fields -> fold_acopf_case: column checks, bus-id lookup (sorted, O(n log n)),
 * dropping isolated buses and out-of-service generators and branches, cost conversion.
 * Column meanings: MATPOWER caseformat, doc/acopf.md §1. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

typedef struct id_index {
    long id;
    fold_int row; /* row in mpc.bus */
} id_index;

static int cmp_id(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Row of bus `id` in mpc.bus, or -1. */
static fold_int find_bus(const id_index *ids, fold_int n, long id)
{
    fold_int lo = 0, hi = n;
    while (lo < hi) {
        fold_int mid = lo + (hi - lo) / 2;
        if (ids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo].id == id ? ids[lo].row : -1;
}

static bool as_int(double v, long *out)
{
    if (!(v >= -1e15 && v <= 1e15) || v != (double)(long)v) return false;
    *out = (long)v;
    return true;
}

#define M(mx, i, j) ((mx)->v[(size_t)(i) * (size_t)(mx)->n_col + (size_t)(j)])

static fold_status need_cols(const mp_file *f, const mp_matrix *mx, const char *what, fold_int need)
{
    if (!mx->present) return acopf_error(FOLD_ERR_PARSE, "%s: missing field mpc.%s", f->name, what);
    if (mx->n_row > 0 && mx->n_col < need)
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: %s row has %ld fields, need %ld", f->name,
                           mx->row_line[0], what, (long)mx->n_col, (long)need);
    return FOLD_OK;
}

#define ROW_ERR(mx, i, ...) row_error(f, (mx)->row_line[i], __VA_ARGS__)

static fold_status row_error(const mp_file *f, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static fold_status row_error(const mp_file *f, long line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return acopf_error(FOLD_ERR_PARSE, "%s:%ld: %s", f->name, line, msg);
}

/* Checks the fixed header fields; on success sets *base. */
static fold_status check_header(const mp_file *f, double *base)
{
    if (f->version.present) {
        bool two = f->version.n_row == 0
                       ? !strcmp(f->version_text, "2")
                       : f->version.n_row == 1 && f->version.n_col == 1 && f->version.v[0] == 2;
        if (!two)
            return acopf_error(FOLD_ERR_UNSUPPORTED,
                               "%s:%ld: only MATPOWER case format version "
                               "2 is supported",
                               f->name, f->version.line);
    }
    if (!f->base_mva.present)
        return acopf_error(FOLD_ERR_PARSE, "%s: missing field mpc.baseMVA", f->name);
    if (f->base_mva.n_row != 1 || f->base_mva.n_col != 1)
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: mpc.baseMVA must be a scalar", f->name,
                           f->base_mva.line);
    *base = f->base_mva.v[0];
    if (!(*base > 0) || !isfinite(*base))
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: mpc.baseMVA = %g must be positive", f->name,
                           f->base_mva.line, *base);
    if (*base < FOLD_ACOPF_BASE_MIN || *base > FOLD_ACOPF_MAX_MAGNITUDE)
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: mpc.baseMVA = %g outside [%g, %g]", f->name,
                           f->base_mva.line, *base, FOLD_ACOPF_BASE_MIN, FOLD_ACOPF_MAX_MAGNITUDE);
    fold_status st;
    if ((st = need_cols(f, &f->bus, "bus", 13)) || (st = need_cols(f, &f->gen, "gen", 10)) ||
        (st = need_cols(f, &f->branch, "branch", 13)) ||
        (st = need_cols(f, &f->gencost, "gencost", 4)))
        return st;
    if (f->bus.n_row == 0)
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: mpc.bus is empty", f->name, f->bus.line);
    return FOLD_OK;
}

static bool all_finite(const mp_matrix *mx, fold_int i, int ncols)
{
    for (int j = 0; j < ncols; j++)
        if (!isfinite(M(mx, i, j))) return false;
    return true;
}

static fold_status convert_buses(const mp_file *f, fold_acopf_case *cs, id_index *ids,
                                 fold_int *bus_index)
{
    const mp_matrix *mx = &f->bus;
    fold_int nb = mx->n_row, n_ref = 0;
    for (fold_int i = 0; i < nb; i++) {
        long id, type;
        if (!as_int(M(mx, i, 0), &id) || id <= 0)
            return ROW_ERR(mx, i, "bus id %g is not a positive integer", M(mx, i, 0));
        if (!as_int(M(mx, i, 1), &type) || type < 1 || type > 4)
            return ROW_ERR(mx, i, "bus %ld: type %g is not 1, 2, 3 or 4", id, M(mx, i, 1));
        if (!all_finite(mx, i, 13)) return ROW_ERR(mx, i, "bus %ld: infinite value", id);
        ids[i].id = id;
        ids[i].row = i;
        bus_index[i] = -1;
        if (type == 4) {
            cs->n_dropped_bus++;
            continue;
        }
        fold_acopf_bus *b = &cs->bus[cs->n_bus];
        b->id = id;
        b->type = (int)type;
        b->pd = M(mx, i, 2);
        b->qd = M(mx, i, 3);
        b->gs = M(mx, i, 4);
        b->bs = M(mx, i, 5);
        b->vm0 = M(mx, i, 7);
        b->va0 = M(mx, i, 8);
        b->vmax = M(mx, i, 11);
        b->vmin = M(mx, i, 12);
        b->line = mx->row_line[i];
        n_ref += type == 3;
        bus_index[i] = cs->n_bus++;
    }
    qsort(ids, (size_t)nb, sizeof *ids, cmp_id);
    for (fold_int k = 1; k < nb; k++)
        if (ids[k].id == ids[k - 1].id) {
            fold_int a = ids[k - 1].row < ids[k].row ? ids[k - 1].row : ids[k].row;
            fold_int b = ids[k - 1].row < ids[k].row ? ids[k].row : ids[k - 1].row;
            return ROW_ERR(mx, b, "duplicate bus id %ld (first at line %ld)", ids[k].id,
                           mx->row_line[a]);
        }
    if (n_ref == 0)
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: mpc.bus has no reference bus (type 3)", f->name,
                           mx->line);
    return FOLD_OK;
}

/* Look up the bus in column `col` of row i; error names the table. */
static fold_status bus_of(const mp_file *f, const mp_matrix *mx, fold_int i, int col,
                          const char *what, const id_index *ids, fold_int *row)
{
    long id;
    if (!as_int(M(mx, i, col), &id) || (*row = find_bus(ids, f->bus.n_row, id)) < 0)
        return ROW_ERR(mx, i, "%s row %ld: unknown bus %g", what, (long)i + 1, M(mx, i, col));
    return FOLD_OK;
}

/* Cost row i: model 2 (polynomial, n coefficients) or model 1 (piecewise linear, n >= 2
 * points with increasing MW and non-decreasing slopes: the epigraph form needs a convex
 * cost, doc/acopf.md eq. 7). Extra fields are ignored. *ncost = n. */
static fold_status check_cost_row(const mp_file *f, fold_int i, long model, long *ncost)
{
    const mp_matrix *gc = &f->gencost;
    long nfield;
    if (!as_int(M(gc, i, 3), ncost) || *ncost < (model == 1 ? 2 : 0) ||
        (nfield = model == 1 ? 2 * *ncost : *ncost) > gc->n_col - 4)
        return ROW_ERR(gc, i,
                       "gencost row %ld: model %ld with n = %g needs %s%g fields, the "
                       "row has %ld",
                       (long)i + 1, model, M(gc, i, 3), model == 1 ? "n >= 2 and " : "",
                       (model == 1 ? 2 * M(gc, i, 3) : M(gc, i, 3)) + 4, (long)gc->n_col);
    for (long k = 0; k < nfield; k++)
        if (!isfinite(M(gc, i, 4 + k)))
            return ROW_ERR(gc, i, "gencost row %ld: %s %ld is not finite", (long)i + 1,
                           model == 1 ? "value" : "coefficient", k + 1);
    if (model == 2 && *ncost > FOLD_ACOPF_MAX_COST_TERMS)
        return acopf_error(FOLD_ERR_UNSUPPORTED,
                           "%s:%ld: gencost row %ld: polynomial cost with "
                           "%ld coefficients; at most %d are supported",
                           f->name, gc->row_line[i], (long)i + 1, *ncost,
                           FOLD_ACOPF_MAX_COST_TERMS);
    if (model == 2) return FOLD_OK;
    double prev_slope = -HUGE_VAL;
    for (long k = 0; k + 1 < *ncost; k++) {
        double x0 = M(gc, i, 4 + 2 * k), y0 = M(gc, i, 5 + 2 * k);
        double x1 = M(gc, i, 6 + 2 * k), y1 = M(gc, i, 7 + 2 * k);
        if (!(x1 > x0))
            return ROW_ERR(gc, i,
                           "gencost row %ld: piecewise-linear points must have "
                           "increasing MW (point %ld at %g, point %ld at %g)",
                           (long)i + 1, k + 1, x0, k + 2, x1);
        double slope = (y1 - y0) / (x1 - x0);
        if (!(fabs(slope) <= FOLD_ACOPF_MAX_MAGNITUDE))
            return ROW_ERR(gc, i,
                           "gencost row %ld: piecewise-linear slope %g $/MWh between "
                           "points %ld and %ld exceeds the magnitude limit %g",
                           (long)i + 1, slope, k + 1, k + 2, FOLD_ACOPF_MAX_MAGNITUDE);
        if (slope < prev_slope - 1e-12 * fmax(1.0, fabs(prev_slope)))
            return acopf_error(FOLD_ERR_UNSUPPORTED,
                               "%s:%ld: gencost row %ld: piecewise-linear "
                               "cost is not convex (slope %g after %g at point %ld)",
                               f->name, gc->row_line[i], (long)i + 1, slope, prev_slope, k + 1);
        prev_slope = slope;
    }
    return FOLD_OK;
}

static fold_status convert_gens(const mp_file *f, fold_acopf_case *cs, const id_index *ids,
                                const fold_int *bus_index, fold_int *cost_len)
{
    const mp_matrix *mx = &f->gen, *gc = &f->gencost;
    fold_int ng = mx->n_row;
    fold_status st;
    if (gc->n_row != ng && gc->n_row != 2 * ng)
        return acopf_error(FOLD_ERR_PARSE,
                           "%s:%ld: mpc.gencost has %ld rows, need %ld (one per "
                           "generator) or %ld",
                           f->name, gc->line, (long)gc->n_row, (long)ng, (long)(2 * ng));
    *cost_len = 0;
    for (fold_int i = 0; i < ng; i++) {
        fold_int brow;
        if ((st = bus_of(f, mx, i, 0, "gen", ids, &brow)) != FOLD_OK) return st;
        for (int j = 1; j < 10; j++)
            if (M(mx, i, j) != M(mx, i, j))
                return ROW_ERR(mx, i, "gen row %ld: NaN in column %d", (long)i + 1, j + 1);
        long model, ncost = 0;
        if (!as_int(M(gc, i, 0), &model) || (model != 1 && model != 2))
            return ROW_ERR(gc, i, "gencost row %ld: cost model %g is not 1 or 2", (long)i + 1,
                           M(gc, i, 0));
        if ((st = check_cost_row(f, i, model, &ncost)) != FOLD_OK) return st;
        if (M(mx, i, 7) <= 0 || bus_index[brow] < 0) {
            cs->n_dropped_gen++;
            continue;
        }
        fold_acopf_gen *g = &cs->gen[cs->n_gen++];
        g->bus = bus_index[brow];
        g->row = (long)i + 1;
        g->pg0 = M(mx, i, 1);
        g->qg0 = M(mx, i, 2);
        g->qmax = M(mx, i, 3);
        g->qmin = M(mx, i, 4);
        g->pmax = M(mx, i, 8);
        g->pmin = M(mx, i, 9);
        g->line = mx->row_line[i];
        g->n_cost = (int)ncost;
        g->cost_off = *cost_len;
        g->pwl = model == 1;
        if (g->pwl) {
            /* points x_1, y_1, .. x_n, y_n (MW, $/h) in file order */
            for (long k = 0; k < 2 * ncost; k++)
                cs->cost[*cost_len + k] = M(gc, i, 4 + k);
            *cost_len += 2 * ncost;
        } else {
            /* The file lists c_{n-1} .. c_0; store ascending powers. */
            for (long k = 0; k < ncost; k++)
                cs->cost[*cost_len + k] = M(gc, i, 4 + ncost - 1 - k);
            *cost_len += ncost;
        }
    }
    return FOLD_OK;
}

static fold_status convert_branches(const mp_file *f, fold_acopf_case *cs, const id_index *ids,
                                    const fold_int *bus_index)
{
    const mp_matrix *mx = &f->branch;
    fold_status st;
    for (fold_int i = 0; i < mx->n_row; i++) {
        fold_int fr, tr;
        if ((st = bus_of(f, mx, i, 0, "branch", ids, &fr)) != FOLD_OK ||
            (st = bus_of(f, mx, i, 1, "branch", ids, &tr)) != FOLD_OK)
            return st;
        /* ratings (columns 6-8) may be Inf: no limit */
        for (int j = 2; j < 13; j++)
            if (M(mx, i, j) != M(mx, i, j) || ((j < 5 || j > 7) && !isfinite(M(mx, i, j))))
                return ROW_ERR(mx, i, "branch row %ld: column %d is not finite", (long)i + 1,
                               j + 1);
        if (M(mx, i, 10) <= 0 || bus_index[fr] < 0 || bus_index[tr] < 0) {
            cs->n_dropped_branch++;
            continue;
        }
        if (fr == tr)
            return ROW_ERR(mx, i, "branch row %ld connects bus %g to itself", (long)i + 1,
                           M(mx, i, 0));
        fold_acopf_branch *b = &cs->branch[cs->n_branch++];
        b->f = bus_index[fr];
        b->t = bus_index[tr];
        b->row = (long)i + 1;
        b->r = M(mx, i, 2);
        b->x = M(mx, i, 3);
        b->b = M(mx, i, 4);
        b->rate_a = M(mx, i, 5);
        b->tap = M(mx, i, 8) == 0 ? 1.0 : M(mx, i, 8);
        b->shift_deg = M(mx, i, 9);
        b->angmin_deg = M(mx, i, 11);
        b->angmax_deg = M(mx, i, 12);
        b->line = mx->row_line[i];
    }
    return FOLD_OK;
}

void fold_acopf_case_free(fold_acopf_case *cs)
{
    if (!cs) return;
    free(cs->bus);
    free(cs->gen);
    free(cs->branch);
    free(cs->cost);
    free(cs);
}

fold_status mp_convert(const mp_file *f, fold_acopf_case **out)
{
    double base = 0;
    fold_status st = check_header(f, &base);
    if (st != FOLD_OK) return st;
    fold_int nb = f->bus.n_row, ng = f->gen.n_row, nl = f->branch.n_row;
    size_t ncost = (size_t)f->gencost.n_row * (size_t)(f->gencost.n_col);
    fold_acopf_case *cs = calloc(1, sizeof *cs);
    id_index *ids = malloc((size_t)nb * sizeof *ids);
    fold_int *bus_index = malloc((size_t)nb * sizeof *bus_index);
    if (cs) {
        cs->bus = calloc((size_t)nb, sizeof *cs->bus);
        cs->gen = calloc((size_t)ng + 1, sizeof *cs->gen);
        cs->branch = calloc((size_t)nl + 1, sizeof *cs->branch);
        cs->cost = calloc(ncost + 1, sizeof *cs->cost);
    }
    if (!cs || !ids || !bus_index || !cs->bus || !cs->gen || !cs->branch || !cs->cost) {
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", f->name);
        goto done;
    }
    const char *dot = strrchr(f->name, '.');
    size_t len = dot && !strcmp(dot, ".m") ? (size_t)(dot - f->name) : strlen(f->name);
    snprintf(cs->name, sizeof cs->name, "%.*s", (int)len, f->name);
    cs->base_mva = base;
    fold_int cost_len;
    if ((st = convert_buses(f, cs, ids, bus_index)) == FOLD_OK &&
        (st = convert_gens(f, cs, ids, bus_index, &cost_len)) == FOLD_OK &&
        (st = convert_branches(f, cs, ids, bus_index)) == FOLD_OK)
        st = acopf_case_check(cs, f->name, true, FOLD_ERR_PARSE);
done:
    free(ids);
    free(bus_index);
    if (st != FOLD_OK)
        fold_acopf_case_free(cs);
    else
        *out = cs;
    return st;
}
