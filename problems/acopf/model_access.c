/* Accessors of the AC-OPF model: problem, case, layout, row-to-branch maps, the flat start
 * and conversion of a solution to file units (doc/acopf.md §2). */
#include "acopf/acopf_internal.h"

const fold_problem *fold_acopf_problem(const fold_acopf *m)
{
    return m ? m->prob : NULL;
}

const fold_acopf_case *fold_acopf_get_case(const fold_acopf *m)
{
    return m ? &m->cs : NULL;
}

fold_status fold_acopf_layout_get(const fold_acopf *m, fold_acopf_layout *out)
{
    static const char *FN = "fold_acopf_layout_get";
    fold_acopf_layout full;
    if (!m || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", FN, m ? "out" : "model");
    fold_status st = fold_sized_open(out, &full, sizeof full, FOLD_ACOPF_LAYOUT_V1,
                                     "fold_acopf_layout", "FOLD_ACOPF_LAYOUT_INIT");
    if (st < 0) return st;
    full = m->L;
    full.size = sizeof full;
    fold_sized_close(out, &full, sizeof full);
    return FOLD_OK;
}

fold_int fold_acopf_rated_branch(const fold_acopf *m, fold_int k)
{
    return m && k >= 0 && k < m->L.n_rated ? m->rated[k] : -1;
}

fold_int fold_acopf_flow_branch(const fold_acopf *m, fold_int k)
{
    return m && k >= 0 && k < m->L.n_flow ? m->flow_branch[k] : -1;
}

fold_int fold_acopf_angle_branch(const fold_acopf *m, fold_int k)
{
    return m && k >= 0 && k < m->L.n_angle ? m->angle[k] : -1;
}

fold_int acopf_angle_side(const fold_acopf *m, fold_int row, bool lower_side, int *side)
{
    fold_int k = lower_side ? m->ang_lo_branch[row] : m->ang_hi_branch[row];
    bool flip = m->cs.branch[k].f != m->cs.branch[m->angle[row]].f;
    *side = lower_side != flip ? FOLD_ACOPF_SIDE_MIN : FOLD_ACOPF_SIDE_MAX;
    return k;
}

void acopf_flow_vars_start(const fold_acopf *m, const double *p, double *x)
{
    acopf_flow fl;
    for (fold_int q = 0; q < m->L.n_flow; q++) {
        acopf_flow_at(m, p, m->flow_branch[q], x, false, &fl);
        for (int e = 0; e < 4; e++)
            x[m->L.x_fl + 4 * q + e] = fl.v[e];
    }
}

void fold_acopf_solution_units(const fold_acopf *m, const double *x, double *pg_mw, double *qg_mvar,
                               double *vm, double *va_deg)
{
    const fold_acopf_layout *L = &m->L;
    for (fold_int k = 0; k < m->cs.n_gen; k++) {
        if (pg_mw) pg_mw[k] = x[L->x_pg + k] * m->base;
        if (qg_mvar) qg_mvar[k] = x[L->x_qg + k] * m->base;
    }
    for (fold_int i = 0; i < m->cs.n_bus; i++) {
        if (vm) vm[i] = x[L->x_vm + i];
        if (va_deg) va_deg[i] = x[L->x_va + i] / DEG;
    }
}
