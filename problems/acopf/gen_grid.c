/* Synthetic feasible meshed grids: buses on a jittered 2-D lattice, a random spanning tree
 * of lattice edges plus extra edges, generators on ~20% of the buses with 1.6x the load,
 * thermal ratings from a DC power flow of a proportional dispatch with margin.
 * doc/acopf.md §4. */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

typedef struct rng {
    unsigned long long s;
} rng;

static double uniform(rng *r, double lo, double hi)
{
    /* splitmix64 */
    unsigned long long z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * 0x1.0p-53;
}

/* DC power flow B theta = P (theta_0 = 0) by conjugate gradients on the grounded
 * weighted Laplacian; returns the branch flows in MW in flow[]. */
static bool dc_flows(const fold_acopf_case *cs, const double *inj, double *flow)
{
    fold_int n = cs->n_bus;
    double *th = calloc((size_t)n, sizeof(double)), *r = malloc((size_t)n * sizeof(double));
    double *d = malloc((size_t)n * sizeof(double)), *q = malloc((size_t)n * sizeof(double));
    bool ok = th && r && d && q;
    if (ok) {
        double rr = 0;
        for (fold_int i = 0; i < n; i++) {
            r[i] = i == 0 ? 0 : inj[i] / cs->base_mva;
            d[i] = r[i];
            rr += r[i] * r[i];
        }
        double rr0 = rr;
        for (fold_int it = 0; it < 20 * n + 100 && rr > 1e-20 * (1 + rr0); it++) {
            memset(q, 0, (size_t)n * sizeof(double));
            for (fold_int k = 0; k < cs->n_branch; k++) {
                const fold_acopf_branch *b = &cs->branch[k];
                double w = (d[b->f] - d[b->t]) / b->x;
                q[b->f] += w;
                q[b->t] -= w;
            }
            q[0] = 0;
            double dq = 0;
            for (fold_int i = 1; i < n; i++)
                dq += d[i] * q[i];
            double alpha = rr / dq, rn = 0;
            for (fold_int i = 1; i < n; i++) {
                th[i] += alpha * d[i];
                r[i] -= alpha * q[i];
                rn += r[i] * r[i];
            }
            for (fold_int i = 1; i < n; i++)
                d[i] = r[i] + rn / rr * d[i];
            rr = rn;
        }
        for (fold_int k = 0; k < cs->n_branch; k++) {
            const fold_acopf_branch *b = &cs->branch[k];
            flow[k] = (th[b->f] - th[b->t]) / b->x * cs->base_mva;
        }
    }
    free(th);
    free(r);
    free(d);
    free(q);
    return ok;
}

static void add_branch(fold_acopf_case *cs, rng *r, const double *xy, fold_int a, fold_int b)
{
    fold_acopf_branch *br = &cs->branch[cs->n_branch];
    double dx = xy[2 * a] - xy[2 * b], dy = xy[2 * a + 1] - xy[2 * b + 1];
    double len = sqrt(dx * dx + dy * dy);
    br->f = a;
    br->t = b;
    br->row = (long)++cs->n_branch;
    br->r = 0.01 * len * uniform(r, 0.8, 1.2);
    br->x = br->r * uniform(r, 5, 10);
    br->b = 0.02 * len * uniform(r, 0.8, 1.2);
    br->tap = 1;
    br->angmin_deg = -30;
    br->angmax_deg = 30;
}

/* Buses, loads, the lattice edges (tree first) and the generators. */
static void build_topology(fold_acopf_case *cs, rng *r, double *xy, fold_int *perm)
{
    fold_int n = cs->n_bus, side = (fold_int)ceil(sqrt((double)n));
    for (fold_int i = 0; i < n; i++) {
        fold_acopf_bus *b = &cs->bus[i];
        xy[2 * i] = (double)(i % side) + uniform(r, -0.25, 0.25);
        xy[2 * i + 1] = (double)(i / side) + uniform(r, -0.25, 0.25);
        b->id = (long)i + 1;
        b->type = 1;
        b->pd = uniform(r, 0, 1) < 0.15 ? 0 : uniform(r, 5, 40);
        b->qd = b->pd * uniform(r, 0.15, 0.35);
        b->vm0 = 1;
        b->vmin = 0.9;
        b->vmax = 1.1;
    }
    /* Spanning tree: each bus joins the left or the upper lattice neighbour (both earlier);
     * the other one becomes an extra edge with probability 0.35. */
    for (fold_int i = 1; i < n; i++) {
        bool has_left = i % side > 0, has_up = i >= side;
        bool left_first = has_left && (!has_up || uniform(r, 0, 1) < 0.5);
        add_branch(cs, r, xy, left_first ? i - 1 : i - side, i);
        if (has_left && has_up && uniform(r, 0, 1) < 0.35)
            add_branch(cs, r, xy, left_first ? i - side : i - 1, i);
    }
    /* Generators on ~20% of the buses (bus 1 always: the reference). */
    for (fold_int i = 0; i < n; i++)
        perm[i] = i;
    fold_int n_gen = n / 5 > 1 ? n / 5 : 1;
    for (fold_int k = 1; k < n_gen; k++) {
        fold_int j = k + (fold_int)(uniform(r, 0, 1) * (double)(n - k));
        if (j >= n)
            j = n - 1;
        fold_int t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
    }
    double load = 0, weight = 0;
    for (fold_int i = 0; i < n; i++)
        load += cs->bus[i].pd;
    double *w = malloc((size_t)n_gen * sizeof(double));
    for (fold_int k = 0; k < n_gen; k++)
        weight += (w ? (w[k] = uniform(r, 0.5, 1.5)) : 1);
    for (fold_int k = 0; k < n_gen; k++) {
        fold_acopf_gen *g = &cs->gen[k];
        g->bus = perm[k];
        g->row = (long)k + 1;
        g->pmax = fmax(1.6 * load * (w ? w[k] : 1) / weight, 10);
        g->pmin = 0;
        g->qmax = 0.6 * g->pmax;
        g->qmin = -0.4 * g->pmax;
        g->pg0 = 0.5 * g->pmax;
        g->n_cost = 3;
        g->cost_off = 3 * k;
        cs->cost[3 * k] = 0;
        cs->cost[3 * k + 1] = uniform(r, 10, 40);
        cs->cost[3 * k + 2] = uniform(r, 0.005, 0.05);
        cs->bus[g->bus].type = k == 0 ? 3 : 2;
    }
    cs->n_gen = n_gen;
    free(w);
}

fold_status fold_acopf_gen_grid(fold_int n_bus, unsigned long long seed, fold_acopf_case **out)
{
    if (!out || n_bus < 2 || n_bus > 10000000)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_gen_grid: %s", out ? "n_bus must be "
                           "in [2, 1e7]" : "out is NULL");
    fold_acopf_case *cs = calloc(1, sizeof *cs);
    double *xy = malloc((size_t)n_bus * 2 * sizeof(double));
    double *flow = malloc((size_t)n_bus * 2 * sizeof(double));
    double *inj = calloc((size_t)n_bus, sizeof(double));
    fold_int *perm = malloc((size_t)n_bus * sizeof(fold_int));
    if (cs) {
        cs->bus = calloc((size_t)n_bus, sizeof *cs->bus);
        cs->gen = calloc((size_t)n_bus, sizeof *cs->gen);
        cs->branch = calloc((size_t)n_bus * 2, sizeof *cs->branch);
        cs->cost = calloc((size_t)n_bus * 3, sizeof *cs->cost);
    }
    bool ok = cs && xy && flow && inj && perm && cs->bus && cs->gen && cs->branch && cs->cost;
    if (ok) {
        rng r = {seed};
        snprintf(cs->name, sizeof cs->name, "grid%ld_s%llu", (long)n_bus, seed);
        cs->base_mva = 100;
        cs->n_bus = n_bus;
        build_topology(cs, &r, xy, perm);
        double cap = 0;
        for (fold_int k = 0; k < cs->n_gen; k++)
            cap += cs->gen[k].pmax;
        double load = 0;
        for (fold_int i = 0; i < n_bus; i++)
            load += cs->bus[i].pd;
        for (fold_int i = 0; i < n_bus; i++)
            inj[i] = -cs->bus[i].pd;
        for (fold_int k = 0; k < cs->n_gen; k++)
            inj[cs->gen[k].bus] += load * cs->gen[k].pmax / cap;
        ok = dc_flows(cs, inj, flow);
        for (fold_int k = 0; ok && k < cs->n_branch; k++)
            cs->branch[k].rate_a = round(2.0 * fabs(flow[k]) + 60);
    }
    free(xy);
    free(flow);
    free(inj);
    free(perm);
    if (!ok) {
        fold_acopf_case_free(cs);
        return acopf_error(FOLD_ERR_MEMORY, "fold_acopf_gen_grid: out of memory");
    }
    *out = cs;
    return FOLD_OK;
}
