/* Synthetic meshed grids that are feasible by construction (doc/acopf.md §4): buses on a
 * jittered 2-D lattice, a random spanning tree of lattice edges plus extra edges,
 * generators within two branches of every bus; an operating point is solved first
 * (gen_grid_point.c) and the loads, generator limits, thermal ratings, voltage and angle
 * limits are set around it with margins, so that it is a strictly feasible point. */
#include <stdlib.h>
#include <string.h>

#include "acopf/gen_grid.h"

enum { GEN_REACH = 2 }; /* every bus is at most this many branches from a generator */
#define LOAD_TOL 1e-9   /* MW, MVAr: largest power-balance residual the point keeps */

static void add_branch(fold_acopf_case *cs, grid_rng *r, const double *xy, fold_int a, fold_int b)
{
    fold_acopf_branch *br = &cs->branch[cs->n_branch];
    double dx = xy[2 * a] - xy[2 * b], dy = xy[2 * a + 1] - xy[2 * b + 1];
    double len = sqrt(dx * dx + dy * dy);
    br->f = a;
    br->t = b;
    br->row = (long)++cs->n_branch;
    br->r = 0.01 * len * grid_uniform(r, 0.8, 1.2);
    br->x = br->r * grid_uniform(r, 5, 10);
    br->b = 0.02 * len * grid_uniform(r, 0.8, 1.2);
    br->tap = 1;
}

/* Buses with their drawn loads, and the lattice edges (tree first). */
static void build_network(fold_acopf_case *cs, grid_rng *r, double *xy)
{
    fold_int n = cs->n_bus, side = (fold_int)ceil(sqrt((double)n));
    for (fold_int i = 0; i < n; i++) {
        fold_acopf_bus *b = &cs->bus[i];
        xy[2 * i] = (double)(i % side) + grid_uniform(r, -0.25, 0.25);
        xy[2 * i + 1] = (double)(i / side) + grid_uniform(r, -0.25, 0.25);
        b->id = (long)i + 1;
        b->type = 1;
        b->pd = grid_uniform(r, 0, 1) < 0.15 ? 0 : grid_uniform(r, 5, 40);
        b->qd = b->pd * grid_uniform(r, 0.15, 0.35);
    }
    /* Spanning tree: each bus joins the left or the upper lattice neighbour (both earlier);
     * the other one becomes an extra edge with probability 0.35. */
    for (fold_int i = 1; i < n; i++) {
        bool has_left = i % side > 0, has_up = i >= side;
        bool left_first = has_left && (!has_up || grid_uniform(r, 0, 1) < 0.5);
        add_branch(cs, r, xy, left_first ? i - 1 : i - side, i);
        if (has_left && has_up && grid_uniform(r, 0, 1) < 0.35)
            add_branch(cs, r, xy, left_first ? i - side : i - 1, i);
    }
}

/* Neighbours of each bus (compressed rows: adj[off[i] .. off[i + 1])). */
typedef struct adjacency {
    fold_int *off, *adj;
} adjacency;

static bool adjacency_build(const fold_acopf_case *cs, adjacency *a)
{
    fold_int n = cs->n_bus;
    a->off = calloc((size_t)n + 1, sizeof(fold_int));
    a->adj = malloc((size_t)(2 * cs->n_branch + 1) * sizeof(fold_int));
    if (!a->off || !a->adj) return false;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        a->off[cs->branch[k].f + 1]++;
        a->off[cs->branch[k].t + 1]++;
    }
    for (fold_int i = 0; i < n; i++)
        a->off[i + 1] += a->off[i];
    for (fold_int k = 0; k < cs->n_branch; k++) { /* off[i] runs ahead, then is restored */
        a->adj[a->off[cs->branch[k].f]++] = cs->branch[k].t;
        a->adj[a->off[cs->branch[k].t]++] = cs->branch[k].f;
    }
    for (fold_int i = n; i > 0; i--)
        a->off[i] = a->off[i - 1];
    a->off[0] = 0;
    return true;
}

/* Make bus g a generator bus and lower the hop distance of the buses within GEN_REACH
 * branches of it; queue holds n_bus entries. */
static void cover_from(const adjacency *a, fold_int g, bool *is_gen, fold_int *dist,
                       fold_int *queue)
{
    fold_int head = 0, tail = 0;
    is_gen[g] = true;
    dist[g] = 0;
    queue[tail++] = g;
    while (head < tail) {
        fold_int u = queue[head++];
        for (fold_int j = a->off[u]; j < a->off[u + 1] && dist[u] < GEN_REACH; j++) {
            fold_int v = a->adj[j];
            if (dist[v] > dist[u] + 1) {
                dist[v] = dist[u] + 1;
                queue[tail++] = v;
            }
        }
    }
}

/* Generator buses: bus 0 (the reference), then, in a random order, every bus farther than
 * GEN_REACH branches from the ones chosen, then more in that order up to n_bus / 5. perm,
 * dist and queue hold n_bus entries. */
static void place_generators(fold_acopf_case *cs, grid_rng *r, const adjacency *a, bool *is_gen,
                             fold_int *perm, fold_int *dist, fold_int *queue)
{
    fold_int n = cs->n_bus, count = 1;
    for (fold_int i = 0; i < n; i++) {
        perm[i] = i;
        dist[i] = n;
    }
    for (fold_int k = 1; k < n; k++) { /* Fisher-Yates on buses 1 .. n-1 */
        fold_int j = k + (fold_int)(grid_uniform(r, 0, 1) * (double)(n - k));
        j = j < n ? j : n - 1;
        fold_int t = perm[k];
        perm[k] = perm[j];
        perm[j] = t;
    }
    cover_from(a, 0, is_gen, dist, queue);
    for (fold_int k = 1; k < n; k++)
        if (dist[perm[k]] > GEN_REACH) {
            cover_from(a, perm[k], is_gen, dist, queue);
            count++;
        }
    for (fold_int k = 1; k < n && count < n / 5; k++)
        if (!is_gen[perm[k]]) {
            is_gen[perm[k]] = true;
            count++;
        }
}

/* Planned dispatch (MW per bus): each bus's load is served by its nearest generator
 * (breadth-first from all generator buses), the sums scaled by U(0.6, 1.4) and at least
 * 10 MW, then scaled to the total load. owner and queue hold n_bus entries. */
static void plan_dispatch(const fold_acopf_case *cs, grid_rng *r, const adjacency *a,
                          const bool *is_gen, double *plan, fold_int *owner, fold_int *queue)
{
    fold_int n = cs->n_bus, head = 0, tail = 0;
    for (fold_int i = 0; i < n; i++) {
        plan[i] = 0;
        owner[i] = is_gen[i] ? i : -1;
        if (is_gen[i]) queue[tail++] = i;
    }
    while (head < tail) {
        fold_int u = queue[head++];
        for (fold_int j = a->off[u]; j < a->off[u + 1]; j++)
            if (owner[a->adj[j]] < 0) {
                owner[a->adj[j]] = owner[u];
                queue[tail++] = a->adj[j];
            }
    }
    double load = 0, sum = 0;
    for (fold_int i = 0; i < n; i++) {
        plan[owner[i]] += cs->bus[i].pd;
        load += cs->bus[i].pd;
    }
    for (fold_int i = 0; i < n; i++)
        if (is_gen[i]) {
            plan[i] = fmax(plan[i] * grid_uniform(r, 0.6, 1.4), 10);
            sum += plan[i];
        }
    for (fold_int i = 0; i < n; i++)
        plan[i] *= load / sum;
}

/* Loads, generators and limits around the point pt (doc/acopf.md §4, margins (13)). */
static void set_around_point(fold_acopf_case *cs, grid_rng *r, const bool *is_gen,
                             const grid_point *pt)
{
    double S = cs->base_mva;
    fold_int ng = 0;
    for (fold_int i = 0; i < cs->n_bus; i++) {
        fold_acopf_bus *b = &cs->bus[i];
        b->vm0 = pt->vm[i];
        b->va0 = pt->va[i] / DEG;
        b->vmin = fmin(0.9, b->vm0 - 0.02);
        b->vmax = fmax(1.1, b->vm0 + 0.02);
        if (!is_gen[i]) { /* the load is what the point draws there: its draw unless the
                           * iterations left more than LOAD_TOL between them */
            if (fabs(b->pd + S * pt->p[i]) > LOAD_TOL || fabs(b->qd + S * pt->q[i]) > LOAD_TOL) {
                b->pd = -S * pt->p[i];
                b->qd = -S * pt->q[i];
            }
            continue;
        }
        fold_acopf_gen *g = &cs->gen[ng];
        b->type = ng == 0 ? 3 : 2;
        g->bus = i;
        g->row = (long)ng + 1;
        g->pg0 = S * pt->p[i] + b->pd;
        g->qg0 = S * pt->q[i] + b->qd;
        g->pmax = ceil(fmax(g->pg0, 0) * grid_uniform(r, 1.25, 2.0) + 10);
        g->pmin = g->pg0 >= 0.05 * g->pmax ? 0 : floor(g->pg0 - 0.1 * g->pmax);
        g->qmax = ceil(fmax(g->qg0, 0) + grid_uniform(r, 0.25, 0.5) * g->pmax);
        g->qmin = floor(fmin(g->qg0, 0) - grid_uniform(r, 0.1, 0.3) * g->pmax);
        g->n_cost = 3;
        g->cost_off = 3 * ng;
        cs->cost[3 * ng] = 0;
        cs->cost[3 * ng + 1] = grid_uniform(r, 10, 40);
        cs->cost[3 * ng + 2] = grid_uniform(r, 0.005, 0.05);
        ng++;
    }
    cs->n_gen = ng;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        fold_acopf_branch *br = &cs->branch[k];
        double ang = fabs(pt->va[br->f] - pt->va[br->t]) / DEG;
        br->rate_a = ceil(S * pt->s_max[k] * grid_uniform(r, 1.25, 1.75) + grid_uniform(r, 15, 40));
        br->angmax_deg = ang <= 25 ? 30 : ceil(ang + 5);
        br->angmin_deg = -br->angmax_deg;
    }
}

fold_status fold_acopf_gen_grid(fold_int n_bus, unsigned long long seed, fold_acopf_case **out)
{
    fold_clear_error();
    if (!out || n_bus < 2 || n_bus > 10000000)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_gen_grid: %s",
                           out ? "n_bus must be in [2, 1e7]" : "out is NULL");
    fold_acopf_case *cs = calloc(1, sizeof *cs);
    size_t n = (size_t)n_bus;
    double *xy = malloc(n * 2 * sizeof(double)), *plan = malloc(n * sizeof(double));
    double *vm_gen = malloc(n * sizeof(double));
    fold_int *perm = malloc(n * sizeof(fold_int)), *dist = malloc(n * sizeof(fold_int));
    fold_int *queue = malloc(n * sizeof(fold_int));
    bool *is_gen = calloc(n, sizeof(bool));
    adjacency a = {NULL, NULL};
    grid_point pt = {0};
    if (cs) {
        cs->bus = calloc(n, sizeof *cs->bus);
        cs->gen = calloc(n, sizeof *cs->gen);
        cs->branch = calloc(n * 2, sizeof *cs->branch);
        cs->cost = calloc(n * 3, sizeof *cs->cost);
    }
    bool ok = cs && xy && plan && vm_gen && perm && dist && queue && is_gen && cs->bus && cs->gen &&
              cs->branch && cs->cost;
    grid_rng r = {seed};
    if (ok) {
        snprintf(cs->name, sizeof cs->name, "grid%ld_s%llu", (long)n_bus, seed);
        cs->base_mva = 100;
        cs->n_bus = n_bus;
        build_network(cs, &r, xy);
        ok = adjacency_build(cs, &a);
    }
    if (ok) {
        place_generators(cs, &r, &a, is_gen, perm, dist, queue);
        plan_dispatch(cs, &r, &a, is_gen, plan, dist, queue);
        for (fold_int i = 0; i < n_bus; i++)
            vm_gen[i] = is_gen[i] ? grid_uniform(&r, 1.0, 1.05) : 1;
        ok = grid_point_solve(cs, is_gen, plan, vm_gen, &pt);
        if (ok) set_around_point(cs, &r, is_gen, &pt);
    }
    grid_point_free(&pt);
    free(a.off);
    free(a.adj);
    free(xy);
    free(plan);
    free(vm_gen);
    free(perm);
    free(dist);
    free(queue);
    free(is_gen);
    if (!ok) {
        fold_acopf_case_free(cs);
        return acopf_error(FOLD_ERR_MEMORY, "fold_acopf_gen_grid: out of memory");
    }
    *out = cs;
    return FOLD_OK;
}
