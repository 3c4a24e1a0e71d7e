/* Piecewise-linear generator costs (MATPOWER gencost model 1) in epigraph form: one variable
 * t_g ($/h) per such generator, minimized, and one linear row per segment,
 * S s_k pg - t_g <= -b_k (doc/acopf.md eq. 7). Segment data, values and Jacobian entries. */
#include <stdlib.h>

#include "acopf/acopf_internal.h"

bool acopf_pwl_setup(fold_acopf *m)
{
    const fold_acopf_case *cs = &m->cs;
    fold_acopf_layout *L = &m->L;
    L->n_pwl = L->n_seg = 0;
    for (fold_int k = 0; k < cs->n_gen; k++)
        if (cs->gen[k].pwl) {
            L->n_pwl++;
            L->n_seg += cs->gen[k].n_cost - 1;
        }
    m->gen_pwl = malloc(((size_t)cs->n_gen + 1) * sizeof *m->gen_pwl);
    m->pwl_gen = malloc(((size_t)L->n_pwl + 1) * sizeof *m->pwl_gen);
    m->seg_gen = malloc(((size_t)L->n_seg + 1) * sizeof *m->seg_gen);
    m->seg_slope = malloc(((size_t)L->n_seg + 1) * sizeof *m->seg_slope);
    m->seg_icpt = malloc(((size_t)L->n_seg + 1) * sizeof *m->seg_icpt);
    m->jac_seg = malloc(((size_t)2 * L->n_seg + 1) * sizeof *m->jac_seg);
    if (!m->gen_pwl || !m->pwl_gen || !m->seg_gen || !m->seg_slope || !m->seg_icpt || !m->jac_seg)
        return false;
    fold_int v = 0, r = 0;
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        m->gen_pwl[k] = g->pwl ? v : -1;
        if (!g->pwl) continue;
        m->pwl_gen[v++] = k;
        const double *pt = cs->cost + g->cost_off;
        for (int j = 0; j + 1 < g->n_cost; j++) {
            /* segment through (x_j, y_j), (x_{j+1}, y_{j+1}): y = s x + b, x in MW */
            double s = (pt[2 * j + 3] - pt[2 * j + 1]) / (pt[2 * j + 2] - pt[2 * j]);
            m->seg_gen[r] = k;
            m->seg_slope[r] = s * m->base; /* $/h per p.u. */
            m->seg_icpt[r] = pt[2 * j + 1] - s * pt[2 * j];
            r++;
        }
    }
    return true;
}

void acopf_pwl_free(fold_acopf *m)
{
    free(m->gen_pwl);
    free(m->pwl_gen);
    free(m->seg_gen);
    free(m->seg_slope);
    free(m->seg_icpt);
    free(m->jac_seg);
}

/* The cost of piecewise-linear generator k at pg (p.u.): the largest segment value (the
 * cost is convex, so this is the interpolant inside the points and the extension of the
 * end segments outside). Segments of generator k are contiguous. */
double acopf_pwl_cost(const fold_acopf *m, fold_int k, double pg)
{
    double best = -HUGE_VAL;
    for (fold_int r = 0; r < m->L.n_seg; r++)
        if (m->seg_gen[r] == k) best = fmax(best, m->seg_slope[r] * pg + m->seg_icpt[r]);
    return best;
}

void acopf_pwl_bounds(fold_acopf *m)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int v = 0; v < L->n_pwl; v++) {
        m->x_lo[L->x_t + v] = -FOLD_INF;
        m->x_hi[L->x_t + v] = FOLD_INF;
    }
    for (fold_int r = 0; r < L->n_seg; r++) {
        m->g_lo[L->g_seg + r] = -FOLD_INF;
        m->g_hi[L->g_seg + r] = -m->seg_icpt[r];
    }
}

void acopf_pwl_start(const fold_acopf *m, double *x)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int v = 0; v < L->n_pwl; v++) {
        fold_int k = m->pwl_gen[v];
        x[L->x_t + v] = acopf_pwl_cost(m, k, x[L->x_pg + k]);
    }
}

void acopf_pwl_g(const fold_acopf *m, const double *x, double *g)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int r = 0; r < L->n_seg; r++) {
        fold_int k = m->seg_gen[r];
        g[L->g_seg + r] = m->seg_slope[r] * x[L->x_pg + k] - x[L->x_t + m->gen_pwl[k]];
    }
}

void acopf_pwl_jac(const fold_acopf *m, double *v)
{
    for (fold_int r = 0; r < m->L.n_seg; r++) {
        v[m->jac_seg[2 * r]] = m->seg_slope[r];
        v[m->jac_seg[2 * r + 1]] = -1;
    }
}

fold_int fold_acopf_pwl_gen(const fold_acopf *m, fold_int k)
{
    return m && k >= 0 && k < m->L.n_pwl ? m->pwl_gen[k] : -1;
}

fold_int fold_acopf_seg_gen(const fold_acopf *m, fold_int k)
{
    return m && k >= 0 && k < m->L.n_seg ? m->seg_gen[k] : -1;
}
