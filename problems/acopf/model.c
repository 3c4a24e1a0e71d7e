/* The polar AC-OPF model: layout, branch coefficients, bounds and the sparsity patterns
 * (built once: candidate entries sorted and deduplicated, each branch keeping the
 * slots it writes). Formulation: doc/acopf.md §2. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

/* Sorted unique (row, col) keys; slot lookup by binary search. */
typedef struct keyset {
    int64_t *k;
    fold_int n, ncol;
} keyset;

static void ks_add(keyset *ks, fold_int r, fold_int c)
{
    ks->k[ks->n++] = (int64_t)r * ks->ncol + c;
}

static int cmp_key(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void ks_finish(keyset *ks)
{
    qsort(ks->k, (size_t)ks->n, sizeof *ks->k, cmp_key);
    fold_int u = 0;
    for (fold_int i = 0; i < ks->n; i++)
        if (u == 0 || ks->k[i] != ks->k[u - 1]) ks->k[u++] = ks->k[i];
    ks->n = u;
}

static fold_int ks_slot(const keyset *ks, fold_int r, fold_int c)
{
    int64_t key = (int64_t)r * ks->ncol + c;
    fold_int lo = 0, hi = ks->n;
    while (lo < hi) {
        fold_int mid = lo + (hi - lo) / 2;
        if (ks->k[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo; /* present by construction */
}

/* Lower-triangle Hessian slot of the unordered pair (i, j). */
static fold_int hs_slot(const keyset *ks, fold_int i, fold_int j)
{
    return i >= j ? ks_slot(ks, i, j) : ks_slot(ks, j, i);
}

static bool copy_case(const fold_acopf_case *in, fold_acopf_case *cs)
{
    fold_int ncost = 0;
    for (fold_int k = 0; k < in->n_gen; k++) {
        fold_int len = (in->gen[k].pwl ? 2 : 1) * in->gen[k].n_cost;
        if (in->gen[k].cost_off + len > ncost) ncost = in->gen[k].cost_off + len;
    }
    *cs = *in;
    cs->bus = malloc(((size_t)in->n_bus + 1) * sizeof *cs->bus);
    cs->gen = malloc(((size_t)in->n_gen + 1) * sizeof *cs->gen);
    cs->branch = malloc(((size_t)in->n_branch + 1) * sizeof *cs->branch);
    cs->cost = malloc(((size_t)ncost + 1) * sizeof *cs->cost);
    if (!cs->bus || !cs->gen || !cs->branch || !cs->cost) return false;
    memcpy(cs->bus, in->bus, (size_t)in->n_bus * sizeof *cs->bus);
    memcpy(cs->gen, in->gen, (size_t)in->n_gen * sizeof *cs->gen);
    memcpy(cs->branch, in->branch, (size_t)in->n_branch * sizeof *cs->branch);
    memcpy(cs->cost, in->cost, (size_t)ncost * sizeof *cs->cost);
    return true;
}

static fold_status validate_case(const fold_acopf_case *cs)
{
    if (!(cs->base_mva > 0) || cs->n_bus < 1 || cs->n_gen < 0 || cs->n_branch < 0)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_create: case %s has base %g, %ld buses",
                           cs->name, cs->base_mva, (long)cs->n_bus);
    for (fold_int k = 0; k < cs->n_gen; k++)
        if (cs->gen[k].bus < 0 || cs->gen[k].bus >= cs->n_bus || cs->gen[k].n_cost < 0 ||
            cs->gen[k].cost_off < 0)
            return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_create: gen[%ld] invalid", (long)k);
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        const double *pt = cs->cost + g->cost_off;
        double prev = -HUGE_VAL;
        if (g->pwl && g->n_cost < 2)
            return acopf_error(FOLD_ERR_ARGUMENT,
                               "fold_acopf_create: gen[%ld]: piecewise-linear "
                               "cost with %d points, need >= 2",
                               (long)k, g->n_cost);
        for (int j = 0; g->pwl && j + 1 < g->n_cost; j++) {
            double dx = pt[2 * j + 2] - pt[2 * j], s = (pt[2 * j + 3] - pt[2 * j + 1]) / dx;
            if (!(dx > 0) || !isfinite(s) || s < prev - 1e-12 * fmax(1.0, fabs(prev)))
                return acopf_error(FOLD_ERR_ARGUMENT,
                                   "fold_acopf_create: gen[%ld]: piecewise-"
                                   "linear cost is not convex with increasing MW at point %d",
                                   (long)k, j + 1);
            prev = s;
        }
    }
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        if (b->f < 0 || b->f >= cs->n_bus || b->t < 0 || b->t >= cs->n_bus || b->f == b->t ||
            (b->r == 0 && b->x == 0) || b->tap == 0)
            return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_create: branch[%ld] invalid",
                               (long)k);
    }
    char where[160];
    snprintf(where, sizeof where, "fold_acopf_create: case %s", cs->name);
    return acopf_case_check(cs, where, false, FOLD_ERR_ARGUMENT);
}

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]) ? (x[0] > y[0]) - (x[0] < y[0])
                                         : (x[1] > y[1]) - (x[1] < y[1]);
}

/* One angle-difference row per bus pair (parallel branches share it, with the tightest
 * limits, as PowerModels' bus pairs): identical rows would make the KKT matrix singular
 * when active. Limits with |angle| >= 360 degrees are absent (doc/acopf.md eq. 6). */
static bool setup_angle_rows(fold_acopf *m)
{
    const fold_acopf_case *cs = &m->cs;
    fold_int nl = cs->n_branch, nb = cs->n_bus;
    int64_t *pairs = malloc(((size_t)2 * nl + 2) * sizeof(int64_t));
    m->ang_lo = malloc(((size_t)nl + 1) * sizeof(double));
    m->ang_hi = malloc(((size_t)nl + 1) * sizeof(double));
    m->branch_angle = malloc(((size_t)nl + 1) * sizeof(fold_int));
    m->ang_lo_branch = malloc(((size_t)nl + 1) * sizeof(fold_int));
    m->ang_hi_branch = malloc(((size_t)nl + 1) * sizeof(fold_int));
    if (!pairs || !m->ang_lo || !m->ang_hi || !m->branch_angle || !m->ang_lo_branch ||
        !m->ang_hi_branch) {
        free(pairs);
        return false;
    }
    fold_int np = 0;
    for (fold_int k = 0; k < nl; k++) {
        const fold_acopf_branch *in = &cs->branch[k];
        m->branch_angle[k] = -1;
        if (fabs(in->angmin_deg) >= 360 && fabs(in->angmax_deg) >= 360) continue;
        fold_int lo = in->f < in->t ? in->f : in->t, hi = in->f < in->t ? in->t : in->f;
        pairs[2 * np] = (int64_t)lo * nb + hi;
        pairs[2 * np + 1] = k;
        np++;
    }
    qsort(pairs, (size_t)np, 2 * sizeof(int64_t), cmp_pair);
    for (fold_int q = 0; q < np; q++) {
        const fold_acopf_branch *in = &cs->branch[pairs[2 * q + 1]];
        bool first = q == 0 || pairs[2 * q] != pairs[2 * q - 2];
        if (first) m->angle[m->L.n_angle++] = pairs[2 * q + 1];
        fold_int row = m->L.n_angle - 1;
        m->branch_angle[pairs[2 * q + 1]] = row;
        const fold_acopf_branch *rep = &cs->branch[m->angle[row]];
        /* limits of va_f - va_t in the representative branch's orientation */
        double amin = in->angmin_deg, amax = in->angmax_deg;
        if (in->f != rep->f) {
            amin = -in->angmax_deg;
            amax = -in->angmin_deg;
        }
        double lo = fabs(amin) < 360 ? amin * DEG : -FOLD_INF;
        double hi = fabs(amax) < 360 ? amax * DEG : FOLD_INF;
        /* the first branch with the tightest limit owns the side (ties: file order) */
        fold_int k = pairs[2 * q + 1];
        if (first || lo > m->ang_lo[row]) m->ang_lo_branch[row] = k;
        if (first || hi < m->ang_hi[row]) m->ang_hi_branch[row] = k;
        m->ang_lo[row] = first ? lo : fmax(m->ang_lo[row], lo);
        m->ang_hi[row] = first ? hi : fmin(m->ang_hi[row], hi);
    }
    free(pairs);
    return true;
}

/* A limit as a parameter value: an infinite one (Inf in the file) is +-FOLD_INF_BOUND, the
 * value foldopt reads as infinite, and its parameter is inert. */
static double finite_limit(double v)
{
    return fmax(-FOLD_INF_BOUND, fmin(FOLD_INF_BOUND, v));
}

/* Layout, rated and angle rows, flow variables, bounds, start point and parameter
 * defaults. */
static bool setup_rows_and_bounds(fold_acopf *m, const fold_acopf_options *opt)
{
    fold_acopf_case *cs = &m->cs;
    fold_int nb = cs->n_bus, ng = cs->n_gen, nl = cs->n_branch;
    fold_acopf_layout *L = &m->L;
    m->base = cs->base_mva;
    m->br = calloc((size_t)nl + 1, sizeof *m->br);
    m->rated = malloc(((size_t)nl + 1) * sizeof *m->rated);
    m->angle = malloc(((size_t)nl + 1) * sizeof *m->angle);
    m->flow_branch = malloc(((size_t)nl + 1) * sizeof *m->flow_branch);
    if (!m->br || !m->rated || !m->angle || !m->flow_branch) return false;
    for (fold_int k = 0; k < nl; k++) {
        const fold_acopf_branch *in = &cs->branch[k];
        m->br[k].f = in->f;
        m->br[k].t = in->t;
        m->br[k].rated_row = m->br[k].flow = -1;
        if (in->rate_a > 0 && in->rate_a < FOLD_INF_BOUND) {
            m->br[k].rated_row = L->n_rated;
            m->rated[L->n_rated++] = k;
            if (hypot(in->r, in->x) < opt->flow_var_max_z ||
                (opt->flow_var_branch && opt->flow_var_branch[k])) {
                m->br[k].flow = L->n_flow;
                m->flow_branch[L->n_flow++] = k;
            }
        }
    }
    if (!setup_angle_rows(m) || !acopf_pwl_setup(m)) return false;
    L->x_va = 0;
    L->x_vm = nb;
    L->x_pg = 2 * nb;
    L->x_qg = 2 * nb + ng;
    L->x_t = 2 * nb + 2 * ng;
    L->x_fl = L->x_t + L->n_pwl;
    L->n = L->x_fl + 4 * L->n_flow;
    L->g_p = 0;
    L->g_q = nb;
    L->g_sf = 2 * nb;
    L->g_st = 2 * nb + L->n_rated;
    L->g_ang = 2 * nb + 2 * L->n_rated;
    L->g_seg = L->g_ang + L->n_angle;
    L->g_flow = L->g_seg + L->n_seg;
    L->m = L->g_flow + 4 * L->n_flow;
    L->p_pd = 0;
    L->p_qd = nb;
    L->p_c1 = 2 * nb;
    L->p_c2 = 2 * nb + ng;
    L->p_c0 = 2 * nb + 2 * ng;
    L->p_gs = L->p_c0 + ng;
    L->p_bs = L->p_gs + nb;
    L->p_r = L->p_bs + nb;
    L->p_x = L->p_r + nl;
    L->p_b = L->p_x + nl;
    L->p_tap = L->p_b + nl;
    L->p_shift = L->p_tap + nl;
    L->p_rate = L->p_shift + nl;
    L->p_vmin = L->p_rate + nl;
    L->p_vmax = L->p_vmin + nb;
    L->p_pmin = L->p_vmax + nb;
    L->p_pmax = L->p_pmin + ng;
    L->p_qmin = L->p_pmax + ng;
    L->p_qmax = L->p_qmin + ng;
    L->np = L->p_qmax + ng;
    m->x_lo = malloc((size_t)L->n * sizeof(double));
    m->x_hi = malloc((size_t)L->n * sizeof(double));
    m->x0 = malloc((size_t)L->n * sizeof(double));
    m->g_lo = malloc(((size_t)L->m + 1) * sizeof(double));
    m->g_hi = malloc(((size_t)L->m + 1) * sizeof(double));
    m->p0 = malloc((size_t)L->np * sizeof(double));
    if (!m->x_lo || !m->x_hi || !m->x0 || !m->g_lo || !m->g_hi || !m->p0) return false;
    for (fold_int i = 0; i < nb; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        bool ref = b->type == 3;
        m->x_lo[L->x_va + i] = ref ? 0 : -FOLD_INF;
        m->x_hi[L->x_va + i] = ref ? 0 : FOLD_INF;
        m->x_lo[L->x_vm + i] = b->vmin;
        m->x_hi[L->x_vm + i] = b->vmax;
        m->p0[L->p_pd + i] = b->pd;
        m->p0[L->p_qd + i] = b->qd;
        m->p0[L->p_gs + i] = b->gs;
        m->p0[L->p_bs + i] = b->bs;
        m->p0[L->p_vmin + i] = finite_limit(b->vmin);
        m->p0[L->p_vmax + i] = finite_limit(b->vmax);
        m->g_lo[L->g_p + i] = m->g_hi[L->g_p + i] = 0;
        m->g_lo[L->g_q + i] = m->g_hi[L->g_q + i] = 0;
    }
    for (fold_int k = 0; k < ng; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        m->x_lo[L->x_pg + k] = g->pmin / m->base;
        m->x_hi[L->x_pg + k] = g->pmax / m->base;
        m->x_lo[L->x_qg + k] = g->qmin / m->base;
        m->x_hi[L->x_qg + k] = g->qmax / m->base;
        /* c0, c1, c2 are inert (0) for piecewise-linear costs */
        m->p0[L->p_c0 + k] = !g->pwl && g->n_cost > 0 ? cs->cost[g->cost_off] : 0;
        m->p0[L->p_c1 + k] = !g->pwl && g->n_cost > 1 ? cs->cost[g->cost_off + 1] : 0;
        m->p0[L->p_c2 + k] = !g->pwl && g->n_cost > 2 ? cs->cost[g->cost_off + 2] : 0;
        m->p0[L->p_pmin + k] = finite_limit(g->pmin);
        m->p0[L->p_pmax + k] = finite_limit(g->pmax);
        m->p0[L->p_qmin + k] = finite_limit(g->qmin);
        m->p0[L->p_qmax + k] = finite_limit(g->qmax);
    }
    for (fold_int k = 0; k < nl; k++) {
        const fold_acopf_branch *in = &cs->branch[k];
        double v[ACOPF_BR_N + 1] = {in->r,   in->x,         in->b,
                                    in->tap, in->shift_deg, finite_limit(in->rate_a)};
        for (int j = 0; j <= ACOPF_BR_N; j++)
            m->p0[L->p_r + j * nl + k] = v[j]; /* r, x, b, tap, shift, rate blocks */
    }
    for (fold_int k = 0; k < L->n_rated; k++) { /* eq. 5: (rateA / S)^2 of the file */
        double r = cs->branch[m->rated[k]].rate_a / m->base;
        m->g_lo[L->g_sf + k] = m->g_lo[L->g_st + k] = -FOLD_INF;
        m->g_hi[L->g_sf + k] = m->g_hi[L->g_st + k] = r * r;
    }
    for (fold_int k = 0; k < L->n_angle; k++) {
        m->g_lo[L->g_ang + k] = m->ang_lo[k];
        m->g_hi[L->g_ang + k] = m->ang_hi[k];
    }
    for (fold_int j = L->x_fl; j < L->n; j++) {
        m->x_lo[j] = -FOLD_INF;
        m->x_hi[j] = FOLD_INF;
    }
    for (fold_int i = L->g_flow; i < L->m; i++)
        m->g_lo[i] = m->g_hi[i] = 0;
    acopf_pwl_bounds(m);
    if (opt->start == FOLD_ACOPF_START_FLAT)
        fold_acopf_flat_start(m, m->x0);
    else
        fold_acopf_ratio_start(m, m->x0);
    return true;
}

static fold_int *keys_rows(const keyset *ks, bool col_part)
{
    fold_int *out = malloc(((size_t)ks->n + 1) * sizeof *out);
    if (out)
        for (fold_int i = 0; i < ks->n; i++)
            out[i] = col_part ? ks->k[i] % ks->ncol : ks->k[i] / ks->ncol;
    return out;
}

/* Pattern entries (pass 0) or slots (pass 1) of a branch with flow variables v_k at
 * x_fl + 4 flow + k: thermal rows on (v_0, v_1) and (v_2, v_3), the rows v_k - h_k(V) on
 * v_k and the branch's four voltages, the thermal Hessian on the diagonal of v. */
static void flow_var_slots(const fold_acopf *m, acopf_branch_data *b, keyset *J, keyset *H,
                           const fold_int col[4], int pass)
{
    const fold_acopf_layout *L = &m->L;
    fold_int v0 = L->x_fl + 4 * b->flow, r0 = L->g_flow + 4 * b->flow;
    for (int k = 0; k < 4; k++) {
        fold_int therm = (k < 2 ? L->g_sf : L->g_st) + b->rated_row;
        fold_int *therm_slot = k < 2 ? &b->jac_sf[k] : &b->jac_st[k - 2];
        if (pass == 0) {
            ks_add(J, therm, v0 + k);
            ks_add(J, r0 + k, v0 + k);
            ks_add(H, v0 + k, v0 + k);
            for (int c = 0; c < 4; c++)
                ks_add(J, r0 + k, col[c]);
        } else {
            *therm_slot = ks_slot(J, therm, v0 + k);
            b->jac_def_fl[k] = ks_slot(J, r0 + k, v0 + k);
            b->hess_fl[k] = ks_slot(H, v0 + k, v0 + k);
            for (int c = 0; c < 4; c++)
                b->jac_def[4 * k + c] = ks_slot(J, r0 + k, col[c]);
        }
    }
}

/* Jacobian and Hessian patterns and each component's slots. */
static bool build_patterns(fold_acopf *m)
{
    const fold_acopf_layout *L = &m->L;
    fold_int nb = m->cs.n_bus, ng = m->cs.n_gen, nl = m->cs.n_branch;
    keyset J = {malloc(((size_t)16 * nl + 2 * nb + 2 * ng + 8 * L->n_rated + 2 * L->n_angle +
                        2 * L->n_seg + 20 * L->n_flow + 1) *
                       sizeof(int64_t)),
                0, L->n};
    keyset H = {malloc(((size_t)10 * nl + nb + ng + 4 * L->n_flow + 1) * sizeof(int64_t)), 0, L->n};
    bool ok = J.k && H.k;
    m->jac_bus = malloc(((size_t)2 * nb + 1) * sizeof(fold_int));
    m->jac_gen = malloc(((size_t)2 * ng + 1) * sizeof(fold_int));
    m->jac_ang = malloc(((size_t)2 * L->n_angle + 1) * sizeof(fold_int));
    m->hess_vm = malloc(((size_t)nb + 1) * sizeof(fold_int));
    m->hess_pg = malloc(((size_t)ng + 1) * sizeof(fold_int));
    ok = ok && m->jac_bus && m->jac_gen && m->jac_ang && m->hess_vm && m->hess_pg;
    if (!ok) goto done;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0 collects candidates, pass 1 looks the slots up */
        for (fold_int k = 0; k < nl; k++) {
            acopf_branch_data *b = &m->br[k];
            fold_int col[4] = {L->x_va + b->f, L->x_va + b->t, L->x_vm + b->f, L->x_vm + b->t};
            fold_int row[4] = {L->g_p + b->f, L->g_q + b->f, L->g_p + b->t, L->g_q + b->t};
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++) {
                    if (pass == 0)
                        ks_add(&J, row[r], col[c]);
                    else
                        b->jac[4 * r + c] = ks_slot(&J, row[r], col[c]);
                }
            if (b->flow >= 0) flow_var_slots(m, b, &J, &H, col, pass);
            for (int c = 0; c < 4 && b->rated_row >= 0 && b->flow < 0; c++) {
                if (pass == 0) {
                    ks_add(&J, L->g_sf + b->rated_row, col[c]);
                    ks_add(&J, L->g_st + b->rated_row, col[c]);
                } else {
                    b->jac_sf[c] = ks_slot(&J, L->g_sf + b->rated_row, col[c]);
                    b->jac_st[c] = ks_slot(&J, L->g_st + b->rated_row, col[c]);
                }
            }
            for (int i = 0; i < 4; i++)
                for (int j = 0; j <= i; j++) {
                    fold_int hi = col[i] > col[j] ? col[i] : col[j];
                    fold_int lo = col[i] > col[j] ? col[j] : col[i];
                    if (pass == 0)
                        ks_add(&H, hi, lo);
                    else
                        b->hess[i * (i + 1) / 2 + j] = hs_slot(&H, hi, lo);
                }
        }
        for (fold_int i = 0; i < nb; i++) {
            if (pass == 0) {
                ks_add(&J, L->g_p + i, L->x_vm + i);
                ks_add(&J, L->g_q + i, L->x_vm + i);
                ks_add(&H, L->x_vm + i, L->x_vm + i);
            } else {
                m->jac_bus[2 * i] = ks_slot(&J, L->g_p + i, L->x_vm + i);
                m->jac_bus[2 * i + 1] = ks_slot(&J, L->g_q + i, L->x_vm + i);
                m->hess_vm[i] = ks_slot(&H, L->x_vm + i, L->x_vm + i);
            }
        }
        for (fold_int k = 0; k < ng; k++) {
            fold_int bus = m->cs.gen[k].bus;
            if (pass == 0) {
                ks_add(&J, L->g_p + bus, L->x_pg + k);
                ks_add(&J, L->g_q + bus, L->x_qg + k);
                ks_add(&H, L->x_pg + k, L->x_pg + k);
            } else {
                m->jac_gen[2 * k] = ks_slot(&J, L->g_p + bus, L->x_pg + k);
                m->jac_gen[2 * k + 1] = ks_slot(&J, L->g_q + bus, L->x_qg + k);
                m->hess_pg[k] = ks_slot(&H, L->x_pg + k, L->x_pg + k);
            }
        }
        for (fold_int k = 0; k < L->n_angle; k++) {
            const acopf_branch_data *b = &m->br[m->angle[k]];
            if (pass == 0) {
                ks_add(&J, L->g_ang + k, L->x_va + b->f);
                ks_add(&J, L->g_ang + k, L->x_va + b->t);
            } else {
                m->jac_ang[2 * k] = ks_slot(&J, L->g_ang + k, L->x_va + b->f);
                m->jac_ang[2 * k + 1] = ks_slot(&J, L->g_ang + k, L->x_va + b->t);
            }
        }
        for (fold_int r = 0; r < L->n_seg; r++) {
            fold_int k = m->seg_gen[r], t = L->x_t + m->gen_pwl[k];
            if (pass == 0) {
                ks_add(&J, L->g_seg + r, L->x_pg + k);
                ks_add(&J, L->g_seg + r, t);
            } else {
                m->jac_seg[2 * r] = ks_slot(&J, L->g_seg + r, L->x_pg + k);
                m->jac_seg[2 * r + 1] = ks_slot(&J, L->g_seg + r, t);
            }
        }
        if (pass == 0) {
            ks_finish(&J);
            ks_finish(&H);
        }
    }
    m->jac_nnz = J.n;
    m->hess_nnz = H.n;
    m->jac_row = keys_rows(&J, false);
    m->jac_col = keys_rows(&J, true);
    m->hess_row = keys_rows(&H, false);
    m->hess_col = keys_rows(&H, true);
    ok = m->jac_row && m->jac_col && m->hess_row && m->hess_col;
done:
    free(J.k);
    free(H.k);
    return ok;
}

void fold_acopf_default_options(fold_acopf_options *opt)
{
    opt->flow_var_max_z = FOLD_ACOPF_FLOW_VAR_MAX_Z;
    opt->flow_var_branch = NULL;
    opt->start = FOLD_ACOPF_START_RATIO;
}

fold_status fold_acopf_create(const fold_acopf_case *cs, fold_acopf **out)
{
    fold_clear_error();
    return fold_acopf_create_with(cs, NULL, out);
}

fold_status fold_acopf_create_with(const fold_acopf_case *cs, const fold_acopf_options *opt,
                                   fold_acopf **out)
{
    fold_clear_error();
    fold_acopf_options defaults;
    fold_acopf_default_options(&defaults);
    if (!opt) opt = &defaults;
    if (!cs || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_create: %s is NULL", cs ? "out" : "case");
    if (!(opt->flow_var_max_z >= 0))
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "fold_acopf_create: flow_var_max_z = %g, need "
                           ">= 0",
                           opt->flow_var_max_z);
    if (opt->start != FOLD_ACOPF_START_RATIO && opt->start != FOLD_ACOPF_START_FLAT)
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "fold_acopf_create: start = %d, need FOLD_ACOPF_START_RATIO or "
                           "FOLD_ACOPF_START_FLAT",
                           (int)opt->start);
    fold_status st = validate_case(cs);
    if (st != FOLD_OK) return st;
    for (fold_int k = 0; opt->flow_var_branch && k < cs->n_branch; k++)
        if (opt->flow_var_branch[k] &&
            !(cs->branch[k].rate_a > 0 && cs->branch[k].rate_a < FOLD_INF_BOUND))
            return acopf_error(FOLD_ERR_ARGUMENT,
                               "fold_acopf_create: flow_var_branch[%lld] is set but that "
                               "branch (mpc.branch row %ld, buses %ld-%ld) has no thermal "
                               "limit",
                               (long long)k, cs->branch[k].row, cs->bus[cs->branch[k].f].id,
                               cs->bus[cs->branch[k].t].id);
    fold_acopf *m = calloc(1, sizeof *m);
    if (!m || !copy_case(cs, &m->cs) || !setup_rows_and_bounds(m, opt) || !build_patterns(m) ||
        !acopf_param_patterns(m) || !acopf_bound_maps(m)) {
        fold_acopf_free(m);
        return acopf_error(FOLD_ERR_MEMORY, "fold_acopf_create: out of memory (%s)", cs->name);
    }
    const fold_acopf_layout *L = &m->L;
    fold_int *x_kind = acopf_variable_kinds(L), *p_kind = acopf_parameter_kinds(m);
    if (!x_kind || !p_kind) {
        free(x_kind);
        free(p_kind);
        fold_acopf_free(m);
        return acopf_error(FOLD_ERR_MEMORY, "fold_acopf_create: out of memory (%s)", cs->name);
    }
    fold_nlp_def d = {.name = m->cs.name,
                      .n = L->n,
                      .m = L->m,
                      .np = L->np,
                      .x_lower = m->x_lo,
                      .x_upper = m->x_hi,
                      .g_lower = m->g_lo,
                      .g_upper = m->g_hi,
                      .x_start = m->x0,
                      .p_default = m->p0,
                      .jac_g = {m->jac_nnz, m->jac_row, m->jac_col},
                      .hess_l = {m->hess_nnz, m->hess_row, m->hess_col},
                      .jac_g_p = {m->jgp_nnz, m->jgp_row, m->jgp_col},
                      .hess_lp = {m->hlp_nnz, m->hlp_row, m->hlp_col},
                      .cb = {acopf_cb_f, acopf_cb_grad_f, acopf_cb_g, acopf_cb_jac_g,
                             acopf_cb_hess_l, acopf_cb_grad_f_p, acopf_cb_hess_lp,
                             acopf_cb_jac_g_p},
                      .user_data = m,
                      .item_name = acopf_cb_item_name,
                      .x_lower_p = {m->bm_n[0], m->bm_idx[0], m->bm_par[0], m->bm_coef[0]},
                      .x_upper_p = {m->bm_n[1], m->bm_idx[1], m->bm_par[1], m->bm_coef[1]},
                      .x_kind = x_kind,
                      .n_x_kinds = ACOPF_X_KINDS,
                      .p_kind = p_kind,
                      .n_p_kinds = FOLD_ACOPF_N_PARAM_KINDS};
    st = fold_problem_create(&d, &m->prob);
    free(x_kind);
    free(p_kind);
    if (st != FOLD_OK) {
        fold_acopf_free(m);
        return acopf_error_from_lib(st, "fold_acopf_create");
    }
    *out = m;
    return FOLD_OK;
}

void fold_acopf_free(fold_acopf *m)
{
    if (!m) return;
    fold_problem_free(m->prob);
    free(m->cs.bus);
    free(m->cs.gen);
    free(m->cs.branch);
    free(m->cs.cost);
    acopf_pwl_free(m);
    for (int s = 0; s < 2; s++) {
        free(m->bm_idx[s]);
        free(m->bm_par[s]);
        free(m->bm_coef[s]);
    }
    void *arrays[] = {
        m->br,       m->rated,        m->angle,         m->flow_branch,  m->jac_bus, m->jac_gen,
        m->jac_ang,  m->hess_vm,      m->hess_pg,       m->jac_row,      m->jac_col, m->hess_row,
        m->hess_col, m->jgp_row,      m->jgp_col,       m->hlp_row,      m->hlp_col, m->x_lo,
        m->x_hi,     m->g_lo,         m->g_hi,          m->x0,           m->p0,      m->ang_lo,
        m->ang_hi,   m->branch_angle, m->ang_lo_branch, m->ang_hi_branch};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    free(m);
}
