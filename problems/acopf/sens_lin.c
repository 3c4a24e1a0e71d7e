/* Linearization of the AC-OPF outputs (doc/acopf.md §7) at a solution: each output o (in
 * the units of fold_acopf_results) moves as do = sum c_z dz + sum e_p dp, with dz the
 * change of the primal-dual solution z = (x, lam, zl, zu) and dp the explicit dependence
 * on the parameters. The terms are kept in CSR form per output. */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_sens.h"

static bool grow(void **ptr, fold_int *cap, fold_int need, size_t elem)
{
    if (need <= *cap) return true;
    fold_int nc = *cap ? 2 * *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*ptr, (size_t)nc * elem);
    if (!np) return false;
    *ptr = np;
    *cap = nc;
    return true;
}

static bool add_z(acopf_lin *l, int block, fold_int index, double coef)
{
    if (coef == 0) return true;
    if (!grow((void **)&l->zb, &l->cap_zb, l->nz + 1, sizeof *l->zb) ||
        !grow((void **)&l->zi, &l->cap_zi, l->nz + 1, sizeof *l->zi) ||
        !grow((void **)&l->zc, &l->cap_zc, l->nz + 1, sizeof *l->zc))
        return false;
    l->zb[l->nz] = block;
    l->zi[l->nz] = index;
    l->zc[l->nz++] = coef;
    return true;
}

bool acopf_lin_add_p(acopf_lin *l, fold_int index, double coef)
{
    if (coef == 0) return true;
    if (!grow((void **)&l->pi, &l->cap_pi, l->npt + 1, sizeof *l->pi) ||
        !grow((void **)&l->pc, &l->cap_pc, l->npt + 1, sizeof *l->pc))
        return false;
    l->pi[l->npt] = index;
    l->pc[l->npt++] = coef;
    return true;
}

void acopf_lin_free(acopf_lin *l)
{
    free(l->zp);
    free(l->pp);
    free(l->zb);
    free(l->zi);
    free(l->zc);
    free(l->pi);
    free(l->pc);
    memset(l, 0, sizeof *l);
}

/* Flow e (0..3: pf, qf, pt, qt) of branch k: S grad h on the branch's four voltages, and
 * its explicit dependence on the branch's parameters. */
static bool flow_terms(const fold_acopf *m, const acopf_point *pt, fold_int k, int e, double w,
                       acopf_lin *l)
{
    const fold_acopf_layout *L = &m->L;
    const acopf_branch_data *b = &m->br[k];
    acopf_flow fl;
    acopf_flow_at(m, pt->p, k, pt->x, false, &fl);
    fold_int col[4] = {L->x_va + b->f, L->x_va + b->t, L->x_vm + b->f, L->x_vm + b->t};
    for (int c = 0; c < 4; c++)
        if (!add_z(l, FOLD_BLOCK_X, col[c], w * m->base * fl.d[e][c])) return false;
    return acopf_flow_param_terms(m, pt, k, e, w * m->base, l);
}

/* The objective ($/h): grad_x f on x, grad_p f on p (the costs enter f directly). */
static bool objective_terms(const fold_acopf *m, const acopf_point *pt, acopf_lin *l)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int j = 0; j < L->n; j++)
        if (!add_z(l, FOLD_BLOCK_X, j, pt->grad_f[j])) return false;
    for (fold_int j = 0; j < L->np; j++)
        if (!acopf_lin_add_p(l, j, pt->grad_f_p[j])) return false;
    return true;
}

/* Angle multiplier of branch k, side FOLD_ACOPF_SIDE_MIN / MAX: the row's -lam (lower) or
 * lam (upper) times pi/180 when branch k reports that side and the side holds the
 * multiplier at the solution (doc/acopf.md §6); 0 otherwise. */
static bool angle_terms(const fold_acopf *m, const acopf_point *pt, fold_int k, int want,
                        acopf_lin *l)
{
    fold_int row = m->branch_angle[k];
    if (row < 0) return true;
    double lam = pt->lam[m->L.g_ang + row];
    int side;
    if (lam == 0 || acopf_angle_side(m, row, lam < 0, &side) != k || side != want) return true;
    return add_z(l, FOLD_BLOCK_LAM, m->L.g_ang + row, (lam < 0 ? -1 : 1) * DEG);
}

/* Thermal multiplier of branch k at the from (to = false) or to end: 2 mu rateA / S^2. */
static bool thermal_terms(const fold_acopf *m, const acopf_point *pt, fold_int k, bool to,
                          acopf_lin *l)
{
    const acopf_branch_data *b = &m->br[k];
    if (b->rated_row < 0) return true;
    double S2 = m->base * m->base;
    fold_int row = (to ? m->L.g_st : m->L.g_sf) + b->rated_row;
    double rate = acopf_rate_a(m, pt->p, k);
    return add_z(l, FOLD_BLOCK_LAM, row, 2 * rate / S2) &&
           acopf_lin_add_p(l, acopf_param(m, FOLD_ACOPF_P_RATE_A, k), 2 * pt->lam[row] / S2);
}

static bool output_terms(const fold_acopf *m, const acopf_point *pt, fold_acopf_output o,
                         acopf_lin *l)
{
    const fold_acopf_layout *L = &m->L;
    double S = m->base;
    fold_int i = o.item;
    switch (o.kind) {
    case FOLD_ACOPF_OUT_OBJECTIVE:
        return objective_terms(m, pt, l);
    case FOLD_ACOPF_OUT_PG:
        return add_z(l, FOLD_BLOCK_X, L->x_pg + i, S);
    case FOLD_ACOPF_OUT_QG:
        return add_z(l, FOLD_BLOCK_X, L->x_qg + i, S);
    case FOLD_ACOPF_OUT_VM:
        return add_z(l, FOLD_BLOCK_X, L->x_vm + i, 1);
    case FOLD_ACOPF_OUT_VA:
        return add_z(l, FOLD_BLOCK_X, L->x_va + i, 1 / DEG);
    case FOLD_ACOPF_OUT_PF:
        return flow_terms(m, pt, i, 0, 1, l);
    case FOLD_ACOPF_OUT_QF:
        return flow_terms(m, pt, i, 1, 1, l);
    case FOLD_ACOPF_OUT_PT:
        return flow_terms(m, pt, i, 2, 1, l);
    case FOLD_ACOPF_OUT_QT:
        return flow_terms(m, pt, i, 3, 1, l);
    case FOLD_ACOPF_OUT_PLOSS: /* pf + pt */
        return flow_terms(m, pt, i, 0, 1, l) && flow_terms(m, pt, i, 2, 1, l);
    case FOLD_ACOPF_OUT_LAM_P:
        return add_z(l, FOLD_BLOCK_LAM, L->g_p + i, 1 / S);
    case FOLD_ACOPF_OUT_LAM_Q:
        return add_z(l, FOLD_BLOCK_LAM, L->g_q + i, 1 / S);
    case FOLD_ACOPF_OUT_MU_VMIN:
        return add_z(l, FOLD_BLOCK_ZL, L->x_vm + i, 1);
    case FOLD_ACOPF_OUT_MU_VMAX:
        return add_z(l, FOLD_BLOCK_ZU, L->x_vm + i, 1);
    case FOLD_ACOPF_OUT_MU_PMIN:
        return add_z(l, FOLD_BLOCK_ZL, L->x_pg + i, 1 / S);
    case FOLD_ACOPF_OUT_MU_PMAX:
        return add_z(l, FOLD_BLOCK_ZU, L->x_pg + i, 1 / S);
    case FOLD_ACOPF_OUT_MU_QMIN:
        return add_z(l, FOLD_BLOCK_ZL, L->x_qg + i, 1 / S);
    case FOLD_ACOPF_OUT_MU_QMAX:
        return add_z(l, FOLD_BLOCK_ZU, L->x_qg + i, 1 / S);
    case FOLD_ACOPF_OUT_MU_SF:
        return thermal_terms(m, pt, i, false, l);
    case FOLD_ACOPF_OUT_MU_ST:
        return thermal_terms(m, pt, i, true, l);
    case FOLD_ACOPF_OUT_MU_ANGMIN:
        return angle_terms(m, pt, i, FOLD_ACOPF_SIDE_MIN, l);
    case FOLD_ACOPF_OUT_MU_ANGMAX:
        return angle_terms(m, pt, i, FOLD_ACOPF_SIDE_MAX, l);
    default:
        return false;
    }
}

fold_status acopf_lin_build(const fold_acopf *m, const acopf_point *pt, fold_int n_out,
                            const fold_acopf_output *out, acopf_lin *l)
{
    memset(l, 0, sizeof *l);
    l->n_out = n_out;
    l->zp = malloc(((size_t)n_out + 1) * sizeof *l->zp);
    l->pp = malloc(((size_t)n_out + 1) * sizeof *l->pp);
    if (!l->zp || !l->pp) goto nomem;
    l->zp[0] = l->pp[0] = 0;
    for (fold_int r = 0; r < n_out; r++) {
        if (!output_terms(m, pt, out[r], l)) goto nomem;
        l->zp[r + 1] = l->nz;
        l->pp[r + 1] = l->npt;
    }
    return FOLD_OK;
nomem:
    acopf_lin_free(l);
    return acopf_error(FOLD_ERR_MEMORY, "fold_acopf: out of memory (output linearization)");
}

bool acopf_flow_param_terms(const fold_acopf *m, const acopf_point *pt, fold_int k, int e, double w,
                            acopf_lin *l)
{
    acopf_coef dc;
    acopf_flow dfl;
    for (int t = 0; t < ACOPF_BR_N; t++) {
        acopf_branch_coef_d(m, pt->p, k, t, &dc);
        acopf_flow_eval(&m->br[k], &dc, m, pt->x, false, &dfl);
        if (!acopf_lin_add_p(l, acopf_param(m, FOLD_ACOPF_P_R + t, k), w * dfl.v[e])) return false;
    }
    return true;
}
