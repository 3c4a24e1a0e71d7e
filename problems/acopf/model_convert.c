/* A primal-dual point carried between two models of one case that differ only in which
 * branches have flow variables (doc/acopf.md §2.2). */
#include <string.h>

#include "acopf_internal.h"

/* Same case: same sizes and the same blocks outside the flow variables. */
static bool same_case(const fold_acopf *a, const fold_acopf *b)
{
    const fold_acopf_layout *A = &a->L, *B = &b->L;
    if (a->cs.n_bus != b->cs.n_bus || a->cs.n_gen != b->cs.n_gen ||
        a->cs.n_branch != b->cs.n_branch || a->base != b->base || A->x_fl != B->x_fl ||
        A->g_flow != B->g_flow || A->np != B->np || A->n_rated != B->n_rated)
        return false;
    for (fold_int k = 0; k < a->cs.n_branch; k++) {
        const fold_acopf_branch *p = &a->cs.branch[k], *q = &b->cs.branch[k];
        if (p->f != q->f || p->t != q->t || p->r != q->r || p->x != q->x || p->b != q->b ||
            p->tap != q->tap || p->shift_deg != q->shift_deg)
            return false;
    }
    return true;
}

fold_status fold_acopf_convert_point(const fold_acopf *from, const fold_acopf *to, const double *p,
                                     const double *x, const double *lam, const double *zl,
                                     const double *zu, double *x_to, double *lam_to, double *zl_to,
                                     double *zu_to)
{
    fold_clear_error();
    bool duals = lam || zl || zu;
    if (!from || !to || !x || !x_to)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_convert_point: a model or x is NULL");
    if (duals && (!lam || !zl || !zu || !lam_to || !zl_to || !zu_to))
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_convert_point: lam, zl, zu and "
                                              "their outputs must be given together");
    if (!same_case(from, to))
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "fold_acopf_convert_point: the models are not "
                           "of one case (%s, %s)",
                           from->cs.name, to->cs.name);
    const fold_acopf_layout *F = &from->L, *T = &to->L;
    /* Everything before the flow variables (columns) and before the flow rows is shared. */
    memcpy(x_to, x, (size_t)T->x_fl * sizeof *x);
    if (duals) {
        memcpy(zl_to, zl, (size_t)T->x_fl * sizeof *zl);
        memcpy(zu_to, zu, (size_t)T->x_fl * sizeof *zu);
        memcpy(lam_to, lam, (size_t)T->g_flow * sizeof *lam);
    }
    for (fold_int q = 0; q < T->n_flow; q++) {
        fold_int k = to->flow_branch[q];
        const acopf_branch_data *bf = &from->br[k], *bt = &to->br[k];
        fold_int v_to = T->x_fl + 4 * q, r_to = T->g_flow + 4 * q;
        if (bf->flow >= 0) { /* both have them: copy */
            fold_int v_from = F->x_fl + 4 * bf->flow, r_from = F->g_flow + 4 * bf->flow;
            memcpy(x_to + v_to, x + v_from, 4 * sizeof *x);
            if (duals) {
                memcpy(zl_to + v_to, zl + v_from, 4 * sizeof *zl);
                memcpy(zu_to + v_to, zu + v_from, 4 * sizeof *zu);
                memcpy(lam_to + r_to, lam + r_from, 4 * sizeof *lam);
            }
            continue;
        }
        acopf_flow fl;
        acopf_flow_at(to, p ? p : to->p0, k, x, false, &fl);
        for (int e = 0; e < 4; e++) {
            x_to[v_to + e] = fl.v[e];
            if (duals) {
                /* d/dv_e of mu (v_e^2 + v_e'^2) + nu_e (v_e - h_e) = 0 (doc/acopf.md §2.2) */
                double mu = lam[(e < 2 ? F->g_sf : F->g_st) + bt->rated_row];
                lam_to[r_to + e] = -2.0 * mu * fl.v[e];
                zl_to[v_to + e] = zu_to[v_to + e] = 0.0;
            }
        }
    }
    return FOLD_OK;
}
