/* Callbacks of the polar AC-OPF: objective, balance / thermal / angle constraints, their
 * exact first and second derivatives and the parameter derivatives (doc/acopf.md §2-3).
 * Every evaluation is O(buses + generators + branches). */
#include <string.h>

#include "acopf/acopf_internal.h"

/* Cost of generator k at pg (p.u.) with c0, c1, c2 from p: value, d/dpg, d2/dpg2 ($/h). */
static void gen_cost(const fold_acopf *m, fold_int k, double pg, const double *p, double *c,
                     double *dc, double *d2c)
{
    const fold_acopf_gen *g = &m->cs.gen[k];
    const double *coef = m->cs.cost + g->cost_off;
    if (g->pwl) { /* in the objective through its epigraph variable */
        *c = *dc = *d2c = 0;
        return;
    }
    double P = pg * m->base, c1 = p[m->L.p_c1 + k], c2 = p[m->L.p_c2 + k];
    double v = p[m->L.p_c0 + k] + c1 * P + c2 * P * P;
    double dv = c1 + 2 * c2 * P, d2v = 2 * c2;
    double pw = P; /* P^(j-2) */
    for (int j = 3; j < g->n_cost; j++) {
        d2v += j * (j - 1) * coef[j] * pw;
        dv += j * coef[j] * pw * P;
        v += coef[j] * pw * P * P;
        pw *= P;
    }
    *c = v;
    *dc = dv * m->base;
    *d2c = d2v * m->base * m->base;
}

int acopf_cb_f(const double *x, const double *p, double *obj, void *ud)
{
    const fold_acopf *m = ud;
    double sum = 0, c, dc, d2c;
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        gen_cost(m, k, x[m->L.x_pg + k], p, &c, &dc, &d2c);
        sum += c;
    }
    for (fold_int v = 0; v < m->L.n_pwl; v++)
        sum += x[m->L.x_t + v];
    *obj = sum;
    return 0;
}

int acopf_cb_grad_f(const double *x, const double *p, double *grad, void *ud)
{
    const fold_acopf *m = ud;
    double c, dc, d2c;
    memset(grad, 0, (size_t)m->L.n * sizeof *grad);
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        gen_cost(m, k, x[m->L.x_pg + k], p, &c, &dc, &d2c);
        grad[m->L.x_pg + k] = dc;
    }
    for (fold_int v = 0; v < m->L.n_pwl; v++)
        grad[m->L.x_t + v] = 1;
    return 0;
}

int acopf_cb_g(const double *x, const double *p, double *g, void *ud)
{
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    acopf_flow fl;
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        double v2 = x[L->x_vm + i] * x[L->x_vm + i];
        /* eq. 1: flows out + load + shunt - generation = 0 */
        g[L->g_p + i] = (p[L->p_pd + i] + p[L->p_gs + i] * v2) / m->base;
        g[L->g_q + i] = (p[L->p_qd + i] - p[L->p_bs + i] * v2) / m->base;
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        fold_int bus = m->cs.gen[k].bus;
        g[L->g_p + bus] -= x[L->x_pg + k];
        g[L->g_q + bus] -= x[L->x_qg + k];
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_at(m, p, k, x, false, &fl);
        g[L->g_p + b->f] += fl.v[0];
        g[L->g_q + b->f] += fl.v[1];
        g[L->g_p + b->t] += fl.v[2];
        g[L->g_q + b->t] += fl.v[3];
        const double *fv = b->flow >= 0 ? x + L->x_fl + 4 * b->flow : fl.v;
        for (int e = 0; b->flow >= 0 && e < 4; e++) /* rows (8) v_e - h_e */
            g[L->g_flow + 4 * b->flow + e] = fv[e] - fl.v[e];
        if (b->rated_row >= 0) {
            /* eq. 5 in the flows, or in the flow variables: |S|^2 - (rate^2 - rate_file^2)
             * <= rate_file^2 (p.u.), the file's row when rateA is the file's */
            double r = acopf_rate_a(m, p, k) / m->base, r0 = m->cs.branch[k].rate_a / m->base;
            double shift = r * r - r0 * r0;
            g[L->g_sf + b->rated_row] = fv[0] * fv[0] + fv[1] * fv[1] - shift;
            g[L->g_st + b->rated_row] = fv[2] * fv[2] + fv[3] * fv[3] - shift;
        }
    }
    for (fold_int k = 0; k < L->n_angle; k++) {
        const acopf_branch_data *b = &m->br[m->angle[k]];
        g[L->g_ang + k] = x[L->x_va + b->f] - x[L->x_va + b->t];
    }
    acopf_pwl_g(m, x, g);
    return 0;
}

int acopf_cb_jac_g(const double *x, const double *p, double *v, void *ud)
{
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    acopf_flow fl;
    memset(v, 0, (size_t)m->jac_nnz * sizeof *v);
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        double vm = x[L->x_vm + i];
        v[m->jac_bus[2 * i]] += 2 * p[L->p_gs + i] * vm / m->base;
        v[m->jac_bus[2 * i + 1]] -= 2 * p[L->p_bs + i] * vm / m->base;
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        v[m->jac_gen[2 * k]] -= 1;
        v[m->jac_gen[2 * k + 1]] -= 1;
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_at(m, p, k, x, false, &fl);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
                v[b->jac[4 * r + c]] += fl.d[r][c];
        if (b->flow >= 0) {
            const double *fv = x + L->x_fl + 4 * b->flow;
            for (int e = 0; e < 2; e++) {
                v[b->jac_sf[e]] = 2 * fv[e];
                v[b->jac_st[e]] = 2 * fv[2 + e];
            }
            for (int e = 0; e < 4; e++) {
                v[b->jac_def_fl[e]] = 1;
                for (int c = 0; c < 4; c++)
                    v[b->jac_def[4 * e + c]] = -fl.d[e][c];
            }
        } else if (b->rated_row >= 0)
            for (int c = 0; c < 4; c++) {
                v[b->jac_sf[c]] = 2 * (fl.v[0] * fl.d[0][c] + fl.v[1] * fl.d[1][c]);
                v[b->jac_st[c]] = 2 * (fl.v[2] * fl.d[2][c] + fl.v[3] * fl.d[3][c]);
            }
    }
    for (fold_int k = 0; k < L->n_angle; k++) {
        v[m->jac_ang[2 * k]] = 1;
        v[m->jac_ang[2 * k + 1]] = -1;
    }
    acopf_pwl_jac(m, v);
    return 0;
}

int acopf_cb_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                    void *ud)
{
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    acopf_flow fl;
    double c, dc, d2c;
    memset(v, 0, (size_t)m->hess_nnz * sizeof *v);
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        gen_cost(m, k, x[L->x_pg + k], p, &c, &dc, &d2c);
        v[m->hess_pg[k]] += s * d2c;
    }
    for (fold_int i = 0; i < m->cs.n_bus; i++)
        v[m->hess_vm[i]] +=
            2 * (lam[L->g_p + i] * p[L->p_gs + i] - lam[L->g_q + i] * p[L->p_bs + i]) / m->base;
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_at(m, p, k, x, true, &fl);
        double w[4] = {lam[L->g_p + b->f], lam[L->g_q + b->f], lam[L->g_p + b->t],
                       lam[L->g_q + b->t]};
        double mu[2] = {0, 0};
        if (b->flow >= 0) {
            /* rows v_e - h_e: weight -nu_e on Hess h_e; thermal: 2 mu on the v diagonal */
            for (int e = 0; e < 4; e++) {
                w[e] -= lam[L->g_flow + 4 * b->flow + e];
                v[b->hess_fl[e]] += 2 * lam[(e < 2 ? L->g_sf : L->g_st) + b->rated_row];
            }
        } else if (b->rated_row >= 0) {
            mu[0] = lam[L->g_sf + b->rated_row];
            mu[1] = lam[L->g_st + b->rated_row];
            /* Hess(p^2 + q^2) = 2 (grad p grad p' + p Hess p + grad q grad q' + q Hess q) */
            for (int e = 0; e < 4; e++)
                w[e] += 2 * mu[e / 2] * fl.v[e];
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j <= i; j++) {
                int t = i * (i + 1) / 2 + j;
                double h = 0;
                for (int e = 0; e < 4; e++)
                    h += w[e] * fl.h[e][t] + 2 * mu[e / 2] * fl.d[e][i] * fl.d[e][j];
                v[b->hess[t]] += h;
            }
    }
    return 0;
}

double fold_acopf_objective(const fold_acopf *m, const double *x)
{
    return fold_acopf_objective_at(m, x, NULL);
}

double fold_acopf_objective_at(const fold_acopf *m, const double *x, const double *p)
{
    double sum = 0, c, dc, d2c;
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        gen_cost(m, k, x[m->L.x_pg + k], p ? p : m->p0, &c, &dc, &d2c);
        sum += m->cs.gen[k].pwl ? acopf_pwl_cost(m, k, x[m->L.x_pg + k]) : c;
    }
    return sum;
}

int fold_acopf_eval_g(const fold_acopf *m, const double *x, const double *p, double *g)
{
    return acopf_cb_g(x, p, g, (void *)m);
}

int fold_acopf_eval_grad_f(const fold_acopf *m, const double *x, const double *p, double *grad)
{
    return acopf_cb_grad_f(x, p, grad, (void *)m);
}

int fold_acopf_eval_grad_f_p(const fold_acopf *m, const double *x, const double *p, double *grad_p)
{
    return acopf_cb_grad_f_p(x, p, grad_p, (void *)m);
}
