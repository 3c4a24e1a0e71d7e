/* The model's start points (doc/acopf.md §2 "Start"): the flat start, and the ratio start
 * whose voltages follow the transformer ratios and phase shifts, so that no branch of small
 * impedance carries a large flow. */
#include <stdlib.h>
#include <string.h>

#include "acopf/laplacian.h"

static double midpoint(double lo, double hi)
{
    bool lo_inf = lo <= -FOLD_INF_BOUND, hi_inf = hi >= FOLD_INF_BOUND;
    if (lo_inf && hi_inf) return 0;
    if (lo_inf) return hi < 0 ? hi : 0;
    if (hi_inf) return lo > 0 ? lo : 0;
    return 0.5 * (lo + hi);
}

/* pg, qg at their bound midpoints, each t at its cost there, each flow variable at its
 * flow at (va, vm) of x. */
static void finish(const fold_acopf *m, double *x)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        x[L->x_pg + k] = midpoint(m->x_lo[L->x_pg + k], m->x_hi[L->x_pg + k]);
        x[L->x_qg + k] = midpoint(m->x_lo[L->x_qg + k], m->x_hi[L->x_qg + k]);
    }
    acopf_pwl_start(m, x);
    acopf_flow_vars_start(m, m->p0, x);
}

void fold_acopf_flat_start(const fold_acopf *m, double *x)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        x[L->x_va + i] = 0;
        x[L->x_vm + i] = fmin(fmax(1.0, m->x_lo[L->x_vm + i]), m->x_hi[L->x_vm + i]);
    }
    finish(m, x);
}

static int cmp_event(const void *a, const void *b)
{
    const double *u = a, *v = b;
    return u[0] < v[0] ? -1 : u[0] > v[0] ? 1 : (u[1] > v[1]) - (u[1] < v[1]);
}

/* The magnitude inside the most voltage bands [vmin, vmax] (of those, the one nearest 1):
 * with every vm at it, clipped into its band, neighbouring buses differ only where their
 * bands are disjoint. */
static double common_magnitude(const fold_acopf *m)
{
    fold_int nb = m->cs.n_bus;
    double *ev = malloc((size_t)(2 * nb + 1) * 2 * sizeof *ev), best = 1;
    if (!ev) return 1;
    for (fold_int i = 0; i < nb; i++) { /* a band opens (+1) before one closes (-1) */
        ev[4 * i] = m->x_lo[m->L.x_vm + i], ev[4 * i + 1] = -1;
        ev[4 * i + 2] = m->x_hi[m->L.x_vm + i], ev[4 * i + 3] = 1;
    }
    qsort(ev, (size_t)(2 * nb), 2 * sizeof *ev, cmp_event);
    fold_int count = 0, best_count = 0;
    double best_dist = HUGE_VAL;
    for (fold_int e = 0; e < 2 * nb; e++) {
        count -= (fold_int)ev[2 * e + 1];
        if (ev[2 * e + 1] > 0) continue; /* a segment [ev[e], ev[e+1]] with count bands */
        double a = ev[2 * e], b = e + 1 < 2 * nb ? ev[2 * e + 2] : a;
        double v = fmin(fmax(1.0, a), b), dist = fabs(v - 1);
        if (count > best_count || (count == best_count && dist < best_dist))
            best_count = count, best_dist = dist, best = v;
    }
    free(ev);
    return best;
}

/* va of the DC power flow whose only injections are those of the phase shifts (MATPOWER's
 * B, branch weights 1/(tap |z|)), grounded at the reference buses: the angle differences
 * across the shifters near their shifts, the other branches near 0. false (va untouched)
 * when out of memory or the result is not finite. */
static bool shift_angles(const fold_acopf *m, double *x)
{
    const fold_acopf_case *cs = &m->cs;
    fold_int nb = cs->n_bus, nl = cs->n_branch;
    double *w = malloc((size_t)(nl + 1) * sizeof *w), *rhs = calloc((size_t)nb, sizeof *rhs);
    double *diag = malloc((size_t)nb * sizeof *diag), *work = malloc((size_t)nb * 3 * 8);
    double *va = malloc((size_t)nb * sizeof *va);
    bool *ground = calloc((size_t)nb, sizeof *ground);
    bool ok = w && rhs && diag && work && va && ground;
    if (ok) {
        for (fold_int i = 0; i < nb; i++)
            ground[i] = cs->bus[i].type == 3;
        for (fold_int k = 0; k < nl; k++) {
            const fold_acopf_branch *b = &cs->branch[k];
            double phi = b->shift_deg * DEG;
            w[k] = 1 / (b->tap * hypot(b->r, b->x)); /* |x| ~ |z|, > 0 also for series capacitors */
            rhs[b->f] += w[k] * phi;
            rhs[b->t] -= w[k] * phi;
        }
        for (fold_int i = 0; i < nb; i++)
            if (ground[i]) rhs[i] = 0;
        acopf_laplacian A = {cs, w, NULL, ground, diag};
        acopf_lap_diag(&A);
        acopf_lap_solve(&A, rhs, 1e-8, va, work);
        for (fold_int i = 0; i < nb && ok; i++)
            ok = isfinite(va[i]);
        for (fold_int i = 0; i < nb && ok; i++)
            x[m->L.x_va + i] = va[i];
    }
    free(w);
    free(rhs);
    free(diag);
    free(work);
    free(va);
    free(ground);
    return ok;
}

/* ln vm of the least-squares fit of ln vm_f - ln vm_t = ln tap over the branches, weighted
 * by 1/|z| (a branch's voltage drop is then carried by its transformer ratio, not by a
 * large reactive flow), within each bus's band: the reference buses held at ln v clipped
 * into their band, then each bus that leaves its band held at the bound it crossed and the
 * others solved again (at most MAG_ROUNDS times). false (vm untouched) when out of memory
 * or not finite. */
enum { MAG_ROUNDS = 8 };
static bool tap_magnitudes(const fold_acopf *m, double v, double *x)
{
    const fold_acopf_case *cs = &m->cs;
    const double *lo = m->x_lo + m->L.x_vm, *hi = m->x_hi + m->L.x_vm;
    fold_int nb = cs->n_bus, nl = cs->n_branch;
    double *w = malloc((size_t)(nl + 1) * sizeof *w), *rhs = malloc((size_t)nb * sizeof *rhs);
    double *diag = malloc((size_t)nb * sizeof *diag), *work = malloc((size_t)nb * 3 * 8);
    double *lv = malloc((size_t)nb * sizeof *lv), *held = malloc((size_t)nb * sizeof *held);
    bool *fixed = calloc((size_t)nb, sizeof *fixed);
    bool ok = w && rhs && diag && work && lv && held && fixed, again = true;
    for (fold_int i = 0; ok && i < nb; i++)
        if ((fixed[i] = cs->bus[i].type == 3)) held[i] = log(fmin(fmax(v, lo[i]), hi[i]));
    for (fold_int k = 0; ok && k < nl; k++)
        w[k] = 1 / hypot(cs->branch[k].r, cs->branch[k].x);
    for (int round = 0; ok && again && round < MAG_ROUNDS; round++) {
        for (fold_int i = 0; i < nb; i++)
            rhs[i] = 0;
        for (fold_int k = 0; k < nl; k++) {
            fold_int f = cs->branch[k].f, t = cs->branch[k].t;
            double lt = log(cs->branch[k].tap);
            rhs[f] += w[k] * (lt + (fixed[t] ? held[t] : 0));
            rhs[t] -= w[k] * (lt - (fixed[f] ? held[f] : 0));
        }
        for (fold_int i = 0; i < nb; i++)
            if (fixed[i]) rhs[i] = 0;
        acopf_laplacian A = {cs, w, NULL, fixed, diag};
        acopf_lap_diag(&A);
        acopf_lap_solve(&A, rhs, 1e-8, lv, work);
        again = false;
        for (fold_int i = 0; i < nb && ok; i++) {
            ok = isfinite(lv[i]);
            if (fixed[i]) continue;
            if (lv[i] < log(lo[i]) || lv[i] > log(hi[i])) {
                fixed[i] = again = true;
                held[i] = lv[i] < log(lo[i]) ? log(lo[i]) : log(hi[i]);
            }
        }
    }
    for (fold_int i = 0; i < nb && ok; i++)
        x[m->L.x_vm + i] = fmin(fmax(exp(fixed[i] ? held[i] : lv[i]), lo[i]), hi[i]);
    free(w);
    free(rhs);
    free(diag);
    free(work);
    free(lv);
    free(held);
    free(fixed);
    return ok;
}

void fold_acopf_ratio_start(const fold_acopf *m, double *x)
{
    const fold_acopf_layout *L = &m->L;
    double v = common_magnitude(m);
    for (fold_int i = 0; i < m->cs.n_bus; i++) { /* kept where a solve below fails */
        x[L->x_va + i] = 0;
        x[L->x_vm + i] = fmin(fmax(v, m->x_lo[L->x_vm + i]), m->x_hi[L->x_vm + i]);
    }
    tap_magnitudes(m, v, x);
    shift_angles(m, x);
    finish(m, x);
}
