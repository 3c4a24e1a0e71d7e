/* Callbacks of the polar AC-OPF: objective, balance / thermal / angle constraints, their
 * exact first and second derivatives and the parameter derivatives (doc/acopf.md §2-3).
 * Every evaluation is O(buses + generators + branches). */
#include <string.h>

#include "acopf/acopf_internal.h"

/* Flows of branch b and, with `second`, their Hessians (eq. 3-4 of doc/acopf.md). Local
 * variable order (va_f, va_t, vm_f, vm_t). */
void acopf_flow_eval(const acopf_branch_data *b, const fold_acopf *m, const double *x,
                     bool second, acopf_flow *out)
{
    const fold_acopf_layout *L = &m->L;
    double vf = x[L->x_vm + b->f], vt = x[L->x_vm + b->t];
    double d = x[L->x_va + b->f] - x[L->x_va + b->t];
    double cd = cos(d), sd = sin(d), vv = vf * vt;
    for (int k = 0; k < 4; k++) {
        bool from = k < 2;
        double ve = from ? vf : vt;
        double T = b->c[k] * cd + b->s[k] * sd, Tp = -b->c[k] * sd + b->s[k] * cd;
        out->v[k] = b->a[k] * ve * ve + vv * T;
        out->d[k][0] = vv * Tp;
        out->d[k][1] = -vv * Tp;
        out->d[k][2] = (from ? 2 * b->a[k] * vf : 0) + vt * T;
        out->d[k][3] = (from ? 0 : 2 * b->a[k] * vt) + vf * T;
        if (!second)
            continue;
        double *h = out->h[k];
        h[0] = -vv * T;
        h[1] = vv * T;
        h[2] = -vv * T;
        h[3] = vt * Tp;
        h[4] = -vt * Tp;
        h[5] = from ? 2 * b->a[k] : 0;
        h[6] = vf * Tp;
        h[7] = -vf * Tp;
        h[8] = T;
        h[9] = from ? 0 : 2 * b->a[k];
    }
}

/* Cost of generator k at pg (p.u.) with c1, c2 from p: value, d/dpg, d2/dpg2 ($/h). */
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
    double v = (g->n_cost > 0 ? coef[0] : 0) + c1 * P + c2 * P * P;
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
        const fold_acopf_bus *b = &m->cs.bus[i];
        /* eq. 1: flows out + load + shunt - generation = 0 */
        g[L->g_p + i] = (p[L->p_pd + i] + b->gs * v2) / m->base;
        g[L->g_q + i] = (p[L->p_qd + i] - b->bs * v2) / m->base;
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        fold_int bus = m->cs.gen[k].bus;
        g[L->g_p + bus] -= x[L->x_pg + k];
        g[L->g_q + bus] -= x[L->x_qg + k];
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_eval(b, m, x, false, &fl);
        g[L->g_p + b->f] += fl.v[0];
        g[L->g_q + b->f] += fl.v[1];
        g[L->g_p + b->t] += fl.v[2];
        g[L->g_q + b->t] += fl.v[3];
        if (b->flow >= 0) { /* thermal limits in the flow variables, and their rows */
            const double *fv = x + L->x_fl + 4 * b->flow;
            g[L->g_sf + b->rated_row] = fv[0] * fv[0] + fv[1] * fv[1];
            g[L->g_st + b->rated_row] = fv[2] * fv[2] + fv[3] * fv[3];
            for (int e = 0; e < 4; e++)
                g[L->g_flow + 4 * b->flow + e] = fv[e] - fl.v[e];
        } else if (b->rated_row >= 0) {
            g[L->g_sf + b->rated_row] = fl.v[0] * fl.v[0] + fl.v[1] * fl.v[1];
            g[L->g_st + b->rated_row] = fl.v[2] * fl.v[2] + fl.v[3] * fl.v[3];
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
        v[m->jac_bus[2 * i]] += 2 * m->cs.bus[i].gs * vm / m->base;
        v[m->jac_bus[2 * i + 1]] -= 2 * m->cs.bus[i].bs * vm / m->base;
    }
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        v[m->jac_gen[2 * k]] -= 1;
        v[m->jac_gen[2 * k + 1]] -= 1;
    }
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_eval(b, m, x, false, &fl);
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
        v[m->hess_vm[i]] += 2 * (lam[L->g_p + i] * m->cs.bus[i].gs -
                                 lam[L->g_q + i] * m->cs.bus[i].bs) / m->base;
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        acopf_flow_eval(b, m, x, true, &fl);
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

int acopf_cb_grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    const fold_acopf *m = ud;
    const fold_acopf_layout *L = &m->L;
    memset(gp, 0, (size_t)L->np * sizeof *gp);
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        double P = m->cs.gen[k].pwl ? 0 : x[L->x_pg + k] * m->base;
        gp[L->p_c1 + k] = P;
        gp[L->p_c2 + k] = P * P;
    }
    return 0;
}

int acopf_cb_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    const fold_acopf *m = ud;
    for (fold_int i = 0; i < 2 * m->cs.n_bus; i++)
        v[i] = 1 / m->base;
    return 0;
}

int acopf_cb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    const fold_acopf *m = ud;
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        bool pwl = m->cs.gen[k].pwl;
        v[2 * k] = pwl ? 0 : m->base;
        v[2 * k + 1] = pwl ? 0 : 2 * m->base * m->base * x[m->L.x_pg + k];
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

int fold_acopf_eval_grad_f_p(const fold_acopf *m, const double *x, const double *p,
                             double *grad_p)
{
    return acopf_cb_grad_f_p(x, p, grad_p, (void *)m);
}
