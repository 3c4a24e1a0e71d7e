/* The results of an AC-OPF solution in MATPOWER's units and sign conventions: voltages,
 * dispatch, branch flows and losses, and every multiplier converted from the model's
 * (p.u., $/h) to MATPOWER's (LAM_P in $/MWh, MU_SF in $/MVAh, ...); doc/acopf.md §6. */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

/* The arrays of a results struct, in one block; order of fold_acopf_results' fields. */
enum { BUS_ARRAYS = 8, GEN_ARRAYS = 6, BRANCH_ARRAYS = 10 };

fold_acopf_results *acopf_results_alloc(fold_int nb, fold_int ng, fold_int nl)
{
    fold_acopf_results *r = calloc(1, sizeof *r);
    size_t total = (size_t)BUS_ARRAYS * (size_t)nb + (size_t)GEN_ARRAYS * (size_t)ng +
                   (size_t)BRANCH_ARRAYS * (size_t)nl + 1;
    double *v = r ? calloc(total, sizeof *v) : NULL;
    if (!v) {
        free(r);
        return NULL;
    }
    double **bus[BUS_ARRAYS] = {&r->vm,    &r->va,    &r->pd,      &r->qd,
                                &r->lam_p, &r->lam_q, &r->mu_vmin, &r->mu_vmax};
    double **gen[GEN_ARRAYS] = {&r->pg, &r->qg, &r->mu_pmin, &r->mu_pmax, &r->mu_qmin, &r->mu_qmax};
    double **br[BRANCH_ARRAYS] = {&r->pf,    &r->qf,    &r->pt,    &r->qt,        &r->ploss,
                                  &r->qloss, &r->mu_sf, &r->mu_st, &r->mu_angmin, &r->mu_angmax};
    for (int a = 0; a < BUS_ARRAYS; a++, v += nb)
        *bus[a] = v;
    for (int a = 0; a < GEN_ARRAYS; a++, v += ng)
        *gen[a] = v;
    for (int a = 0; a < BRANCH_ARRAYS; a++, v += nl)
        *br[a] = v;
    r->n_bus = nb;
    r->n_gen = ng;
    r->n_branch = nl;
    return r;
}

void fold_acopf_results_free(fold_acopf_results *r)
{
    if (!r) return;
    free(r->vm); /* the start of the one block */
    free(r);
}

/* Series losses of branch k (MW, MVAr): |V_f / (tau e^{j phi}) - V_t|^2 / conj(r + jx) S,
 * MATPOWER's I^2 Z (printpf's "Loss" columns). */
static void series_loss(const fold_acopf *m, fold_int k, const double *p, const double *x,
                        double *pl, double *ql)
{
    const fold_acopf_branch *b = &m->cs.branch[k];
    const fold_acopf_layout *L = &m->L;
    double r = p[L->p_r + k], xs = p[L->p_x + k], tap = p[L->p_tap + k];
    double vf = x[L->x_vm + b->f], vt = x[L->x_vm + b->t];
    double d = x[L->x_va + b->f] - x[L->x_va + b->t] - p[L->p_shift + k] * DEG;
    double dv2 = vf * vf / (tap * tap) + vt * vt - 2 * vf * vt / tap * cos(d);
    double z2 = r * r + xs * xs;
    *pl = dv2 * r / z2 * m->base;
    *ql = dv2 * xs / z2 * m->base;
}

/* Angle-difference multipliers (doc/acopf.md §6): row k's lower and upper sides ($/h per
 * radian, -lam and lam) go to the branch whose own limit is the row's (ang_lo_branch,
 * ang_hi_branch), in that branch's orientation, per degree. */
static void angle_multipliers(const fold_acopf *m, const double *lam, fold_acopf_results *r)
{
    for (fold_int row = 0; row < m->L.n_angle; row++) {
        double l = lam[m->L.g_ang + row];
        int side;
        fold_int k = acopf_angle_side(m, row, l < 0, &side);
        double *mu = side == FOLD_ACOPF_SIDE_MIN ? r->mu_angmin : r->mu_angmax;
        if (l != 0) mu[k] = fabs(l) * DEG;
    }
}

fold_status fold_acopf_results_create(const fold_acopf *m, const double *p, const double *x,
                                      const double *lam, const double *zl, const double *zu,
                                      fold_acopf_results **out)
{
    fold_clear_error();
    if (!m || !x || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_results_create: %s is NULL",
                           !m   ? "model"
                           : !x ? "x"
                                : "out");
    if ((lam || zl || zu) && !(lam && zl && zu))
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_results_create: lam, zl and zu must "
                                              "be given together");
    const fold_acopf_layout *L = &m->L;
    const fold_acopf_case *cs = &m->cs;
    double S = m->base;
    if (!p) p = m->p0;
    fold_acopf_results *r = acopf_results_alloc(cs->n_bus, cs->n_gen, cs->n_branch);
    if (!r) return acopf_error(FOLD_ERR_MEMORY, "fold_acopf_results_create: out of memory");
    fold_acopf_solution_units(m, x, r->pg, r->qg, r->vm, r->va);
    r->objective = fold_acopf_objective_at(m, x, p);
    r->has_duals = lam != NULL;
    for (fold_int i = 0; i < cs->n_bus; i++) {
        r->pd[i] = p[L->p_pd + i];
        r->qd[i] = p[L->p_qd + i];
        if (lam) { /* balance rows are p.u.: u/MW = (u per p.u.) / S */
            r->lam_p[i] = lam[L->g_p + i] / S;
            r->lam_q[i] = lam[L->g_q + i] / S;
            r->mu_vmin[i] = zl[L->x_vm + i];
            r->mu_vmax[i] = zu[L->x_vm + i];
        }
    }
    for (fold_int k = 0; lam && k < cs->n_gen; k++) {
        r->mu_pmin[k] = zl[L->x_pg + k] / S;
        r->mu_pmax[k] = zu[L->x_pg + k] / S;
        r->mu_qmin[k] = zl[L->x_qg + k] / S;
        r->mu_qmax[k] = zu[L->x_qg + k] / S;
    }
    acopf_flow fl;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_at(m, p, k, x, false, &fl);
        r->pf[k] = fl.v[0] * S;
        r->qf[k] = fl.v[1] * S;
        r->pt[k] = fl.v[2] * S;
        r->qt[k] = fl.v[3] * S;
        series_loss(m, k, p, x, &r->ploss[k], &r->qloss[k]);
        if (lam && b->rated_row >= 0) {
            /* mu on |S|^2 <= (rateA/S)^2 (u per p.u.^2) times d(rateA/S)^2 / d rateA:
             * u/MVA, MATPOWER's MU_SF */
            double per_mva = 2 * acopf_rate_a(m, p, k) / (S * S);
            r->mu_sf[k] = lam[L->g_sf + b->rated_row] * per_mva;
            r->mu_st[k] = lam[L->g_st + b->rated_row] * per_mva;
        }
    }
    if (lam) angle_multipliers(m, lam, r);
    *out = r;
    return FOLD_OK;
}

fold_status fold_acopf_results_from_solver(const fold_acopf *m, const fold_solver *solver,
                                           fold_acopf_results **out)
{
    fold_clear_error();
    if (!m || !solver || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_results_from_solver: an argument is "
                                              "NULL");
    size_t n = (size_t)m->L.n, mm = (size_t)m->L.m, np = (size_t)m->L.np;
    double *buf = malloc((3 * n + mm + np + 1) * sizeof *buf);
    if (!buf) return acopf_error(FOLD_ERR_MEMORY, "fold_acopf_results_from_solver: out of memory");
    double *x = buf, *zl = x + n, *zu = zl + n, *lam = zu + n, *p = lam + mm;
    fold_status st = fold_solver_solution(solver, x, lam, zl, zu, NULL);
    if (st == FOLD_OK) st = fold_solver_params(solver, p);
    if (st != FOLD_OK)
        st = acopf_error_from_lib(st, "fold_acopf_results_from_solver");
    else
        st = fold_acopf_results_create(m, p, x, lam, zl, zu, out);
    free(buf);
    return st;
}
