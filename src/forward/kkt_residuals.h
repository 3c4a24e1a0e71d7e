/* KKT residuals of a primal-dual point with the location of the worst entry of each
 * (stationarity, feasibility, complementarity), doc/math.md §2.3. Used by the import and
 * by forward backends through fold_kkt_residuals (solver_internal.h). */
#ifndef FOLD_KKT_RESIDUALS_H
#define FOLD_KKT_RESIDUALS_H

#include "forward/solver_internal.h"

/* Which multiplier or bound a worst entry refers to. */
typedef enum fold_kkt_where {
    FOLD_KKT_NONE = 0,
    FOLD_KKT_X,       /* stationarity row j of grad_x L */
    FOLD_KKT_X_LOWER, /* x_j >= xL_j, or zl_j */
    FOLD_KKT_X_UPPER, /* x_j <= xU_j, or zu_j */
    FOLD_KKT_G_LOWER, /* g_i >= gL_i */
    FOLD_KKT_G_UPPER, /* g_i <= gU_i */
    FOLD_KKT_LAM      /* lam_i */
} fold_kkt_where;

typedef struct fold_kkt_detail {
    double stationarity, feasibility, complementarity; /* scaled (2.7)-(2.10) */
    double stationarity_raw;                           /* ||grad_x L||_inf before scaling */
    double stationarity_scale;                         /* 1 + largest term of grad_x L (2.7) */
    fold_kkt_where stat_where, feas_where, comp_where;
    fold_int stat_index, feas_index, comp_index;
    double feas_value, feas_bound; /* x_j or g_i and the bound it violates */
    bool comp_wrong_sign;          /* the worst complementarity entry is a wrong-sign multiplier */
    double objective;              /* f(x; p) */
} fold_kkt_detail;

/* As fold_kkt_residuals, with locations and the objective. lam may be NULL only when
 * m == 0. */
fold_status fold_kkt_residuals_detail(const fold_problem *prob, const double *p, const double *x,
                                      const double *lam, const double *zl, const double *zu,
                                      fold_kkt_detail *d, fold_eval_stats *st);

/* "complementarity 3.1e-02 at constraint g[0] (lam[0] = -0.5): the multiplier has the wrong
 * sign ...": the largest of the three residuals and where, the item named as the problem
 * names it (fold_prob_name), written into buf. */
void fold_kkt_describe_worst(const fold_problem *prob, const fold_kkt_detail *d, const double *x,
                             const double *lam, const double *zl, const double *zu, char *buf,
                             size_t len);

#endif
