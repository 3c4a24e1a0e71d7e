/* Parameter derivatives of the AC-OPF (doc/acopf.md §2 and eq. 12-13): patterns and values
 * of jac_g_p = dg/dp, hess_lp = d(grad_x L)/dp and grad_f_p for the loads, costs, shunts,
 * branch parameters (r, x, b, tap, shift) and thermal ratings. */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

/* Rows of g that flow e of branch b enters besides its balance row: the thermal row of its
 * end (no flow variables) or its row (8) (flow variables); -1 when none. */
static fold_int extra_row(const fold_acopf *m, const acopf_branch_data *b, int e)
{
    const fold_acopf_layout *L = &m->L;
    if (b->flow >= 0) return L->g_flow + 4 * b->flow + e;
    if (b->rated_row >= 0 && (e == 0 || e == 2)) return (e == 0 ? L->g_sf : L->g_st) + b->rated_row;
    return -1;
}

static fold_int balance_row(const fold_acopf *m, const acopf_branch_data *b, int e)
{
    return (e % 2 ? m->L.g_q : m->L.g_p) + (e < 2 ? b->f : b->t);
}

/* The patterns, in the order the callbacks write: jac_g_p per bus (pd, qd, gs, bs), per
 * branch and parameter (r, x, b, tap, shift) its four balance rows and its thermal or flow
 * rows, per rated branch (rate_a) its two thermal rows; hess_lp per generator (c1, c2), per
 * bus (gs, bs) on vm, per branch and parameter on its four voltages. */
static fold_int fill_patterns(const fold_acopf *m, fold_int *jr, fold_int *jc, fold_int *hr,
                              fold_int *hc, fold_int *n_hess)
{
    const fold_acopf_layout *L = &m->L;
    fold_int nb = m->cs.n_bus, ng = m->cs.n_gen, nl = m->cs.n_branch, nj = 0, nh = 0;
#define J(r, c) (jr ? (jr[nj] = (r), jc[nj] = (c)) : 0, nj++)
#define H(r, c) (hr ? (hr[nh] = (r), hc[nh] = (c)) : 0, nh++)
    for (fold_int i = 0; i < nb; i++) {
        J(L->g_p + i, L->p_pd + i);
        J(L->g_q + i, L->p_qd + i);
        J(L->g_p + i, L->p_gs + i);
        J(L->g_q + i, L->p_bs + i);
        H(L->x_vm + i, L->p_gs + i);
        H(L->x_vm + i, L->p_bs + i);
    }
    for (fold_int k = 0; k < ng; k++) {
        H(L->x_pg + k, L->p_c1 + k);
        H(L->x_pg + k, L->p_c2 + k);
    }
    for (fold_int k = 0; k < nl; k++) {
        const acopf_branch_data *b = &m->br[k];
        fold_int col[4] = {L->x_va + b->f, L->x_va + b->t, L->x_vm + b->f, L->x_vm + b->t};
        for (int w = 0; w < ACOPF_BR_N; w++) {
            fold_int pc = L->p_r + w * nl + k;
            for (int e = 0; e < 4; e++)
                J(balance_row(m, b, e), pc);
            for (int e = 0; e < 4; e++)
                if (extra_row(m, b, e) >= 0) J(extra_row(m, b, e), pc);
            for (int c = 0; c < 4; c++)
                H(col[c], pc);
        }
        if (b->rated_row >= 0) {
            J(L->g_sf + b->rated_row, L->p_rate + k);
            J(L->g_st + b->rated_row, L->p_rate + k);
        }
    }
#undef J
#undef H
    *n_hess = nh;
    return nj;
}

bool acopf_param_patterns(fold_acopf *m)
{
    fold_int nh;
    fold_int nj = fill_patterns(m, NULL, NULL, NULL, NULL, &nh);
    m->jgp_row = malloc(((size_t)nj + 1) * sizeof(fold_int));
    m->jgp_col = malloc(((size_t)nj + 1) * sizeof(fold_int));
    m->hlp_row = malloc(((size_t)nh + 1) * sizeof(fold_int));
    m->hlp_col = malloc(((size_t)nh + 1) * sizeof(fold_int));
    if (!m->jgp_row || !m->jgp_col || !m->hlp_row || !m->hlp_col) return false;
    m->jgp_nnz = fill_patterns(m, m->jgp_row, m->jgp_col, m->hlp_row, m->hlp_col, &m->hlp_nnz);
    return true;
}

int acopf_cb_grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    (void)p; /* d f / d(c0, c1, c2) = (1, P, P^2) does not depend on the coefficients */
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    memset(gp, 0, (size_t)L->np * sizeof *gp);
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        if (m->cs.gen[k].pwl) continue;
        double P = x[L->x_pg + k] * m->base;
        gp[L->p_c0 + k] = 1;
        gp[L->p_c1 + k] = P;
        gp[L->p_c2 + k] = P * P;
    }
    return 0;
}

int acopf_cb_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    fold_int q = 0;
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        double v2 = x[L->x_vm + i] * x[L->x_vm + i];
        v[q++] = 1 / m->base;
        v[q++] = 1 / m->base;
        v[q++] = v2 / m->base;
        v[q++] = -v2 / m->base;
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow fl, dfl;
        acopf_coef dc;
        acopf_flow_at(m, p, k, x, false, &fl);
        for (int w = 0; w < ACOPF_BR_N; w++) {
            acopf_branch_coef_d(m, p, k, w, &dc);
            acopf_flow_eval(b, &dc, m, x, false, &dfl);
            for (int e = 0; e < 4; e++)
                v[q++] = dfl.v[e];
            for (int e = 0; e < 4; e++) {
                if (extra_row(m, b, e) < 0) continue;
                if (b->flow >= 0) /* row v_e - h_e */
                    v[q++] = -dfl.v[e];
                else /* thermal: |S_end|^2, e is the end's first flow */
                    v[q++] = 2 * (fl.v[e] * dfl.v[e] + fl.v[e + 1] * dfl.v[e + 1]);
            }
        }
        if (b->rated_row >= 0) { /* - (rateA / S)^2 */
            double rate = acopf_rate_a(m, p, k);
            v[q++] = -2 * rate / (m->base * m->base);
            v[q++] = -2 * rate / (m->base * m->base);
        }
    }
    return 0;
}

/* Branch k's block of hess_lp: d/dtheta of sum_e w_e grad h_e + (thermal rows without flow
 * variables) 2 mu_end (h_p grad h_p + h_q grad h_q), on its four voltages. */
static void branch_hess_lp(const fold_acopf *m, fold_int k, const double *x, const double *p,
                           const double *lam, double *v)
{
    const fold_acopf_layout *L = &m->L;
    const acopf_branch_data *b = &m->br[k];
    acopf_flow fl, dfl;
    acopf_coef dc;
    double w[4], mu[4] = {0, 0, 0, 0};
    acopf_flow_at(m, p, k, x, false, &fl);
    for (int e = 0; e < 4; e++) {
        w[e] = lam[balance_row(m, b, e)];
        if (b->flow >= 0) {
            w[e] -= lam[L->g_flow + 4 * b->flow + e];
        } else if (b->rated_row >= 0) {
            mu[e] = lam[(e < 2 ? L->g_sf : L->g_st) + b->rated_row];
            w[e] += 2 * mu[e] * fl.v[e];
        }
    }
    for (int t = 0; t < ACOPF_BR_N; t++) {
        acopf_branch_coef_d(m, p, k, t, &dc);
        acopf_flow_eval(b, &dc, m, x, false, &dfl);
        for (int c = 0; c < 4; c++) {
            double h = 0;
            for (int e = 0; e < 4; e++)
                h += w[e] * dfl.d[e][c] + 2 * mu[e] * dfl.v[e] * fl.d[e][c];
            v[4 * t + c] = h;
        }
    }
}

int acopf_cb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    fold_int q = 0;
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        double vm = x[L->x_vm + i];
        v[q++] = 2 * lam[L->g_p + i] * vm / m->base;
        v[q++] = -2 * lam[L->g_q + i] * vm / m->base;
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        bool pwl = m->cs.gen[k].pwl;
        v[q++] = pwl ? 0 : m->base;
        v[q++] = pwl ? 0 : 2 * m->base * m->base * x[L->x_pg + k];
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++, q += 4 * ACOPF_BR_N)
        branch_hess_lp(m, k, x, p, lam, v + q);
    return 0;
}

/* One limit of variable j moving with its parameter k (coefficient c: 1 for vm, 1/S for pg
 * and qg in p.u.); a variable with equal limits moves both with their mean (the maps of a
 * fixed variable must be equal, doc/math.md §2.5); infinite limits do not move. */
static void map_limit(fold_acopf *m, fold_int j, fold_int k_lo, fold_int k_hi, double c, int pass)
{
    double lo = m->x_lo[j], hi = m->x_hi[j];
    for (int s = 0; s < 2; s++) {
        if (s ? hi >= FOLD_INF_BOUND : lo <= -FOLD_INF_BOUND) continue;
        fold_int k[2] = {s ? k_hi : k_lo, -1};
        double w[2] = {c, 0};
        if (lo == hi) {
            k[0] = k_lo, k[1] = k_hi;
            w[0] = w[1] = c / 2;
        }
        for (int t = 0; t < 2 && k[t] >= 0; t++) {
            if (pass) {
                m->bm_idx[s][m->bm_n[s]] = j;
                m->bm_par[s][m->bm_n[s]] = k[t];
                m->bm_coef[s][m->bm_n[s]] = w[t];
            }
            m->bm_n[s]++;
        }
    }
}

bool acopf_bound_maps(fold_acopf *m)
{
    const fold_acopf_layout *L = &m->L;
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            for (int s = 0; s < 2; s++) {
                size_t len = (size_t)m->bm_n[s] + 1;
                m->bm_idx[s] = malloc(len * sizeof(fold_int));
                m->bm_par[s] = malloc(len * sizeof(fold_int));
                m->bm_coef[s] = malloc(len * sizeof(double));
                if (!m->bm_idx[s] || !m->bm_par[s] || !m->bm_coef[s]) return false;
                m->bm_n[s] = 0;
            }
        else
            m->bm_n[0] = m->bm_n[1] = 0;
        for (fold_int i = 0; i < m->cs.n_bus; i++)
            map_limit(m, L->x_vm + i, L->p_vmin + i, L->p_vmax + i, 1, pass);
        for (fold_int k = 0; k < m->cs.n_gen; k++) {
            map_limit(m, L->x_pg + k, L->p_pmin + k, L->p_pmax + k, 1 / m->base, pass);
            map_limit(m, L->x_qg + k, L->p_qmin + k, L->p_qmax + k, 1 / m->base, pass);
        }
    }
    return true;
}
