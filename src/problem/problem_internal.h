/* The problem object and checked callback evaluation (doc/api/problem.md). Every module
 * evaluates the user's functions through fold_prob_eval_*, which time the call, count it,
 * map its return code and reject NaN/Inf outputs naming the callback and index. */
#ifndef FOLD_PROBLEM_INTERNAL_H
#define FOLD_PROBLEM_INTERNAL_H

#include "core/core.h"

/* A callback returned > 0: recoverable (the forward solver may backtrack). Internal only. */
#define FOLD_CB_RECOVERABLE 100

typedef struct fold_owned_pattern {
    fold_int nnz;
    fold_int *row;
    fold_int *col;
} fold_owned_pattern;

/* A bound map (fold_bound_map) in CSR form by bound index: entries ptr[i] .. ptr[i+1] of
 * bound i, sorted by parameter. The four maps in the order of FOLD_BMAP_*. */
enum { FOLD_BMAP_XL = 0, FOLD_BMAP_XU = 1, FOLD_BMAP_GL = 2, FOLD_BMAP_GU = 3, FOLD_BMAP_N = 4 };
typedef struct fold_owned_bmap {
    fold_int nnz;
    fold_int *ptr, *param;
    double *coef;
} fold_owned_bmap;

struct fold_problem {
    char name[64];
    fold_int n, m, np;
    double *x_lower, *x_upper; /* n, infinite bounds stored as -+HUGE_VAL */
    double *g_lower, *g_upper; /* m */
    double *x_start;           /* n, clipped into the bounds */
    double *p_default;         /* np */
    fold_owned_pattern jac_g, hess_l, jac_g_p, hess_lp;
    fold_nlp_callbacks cb;
    void *user_data;
    fold_item_name_fn item_name;       /* NULL: names are "x[j]", "g[i]", "p[k]" (names.c) */
    fold_owned_bmap bmap[FOLD_BMAP_N]; /* bounds moving with p (bounds.c) */
    bool has_bound_maps;
    fold_int *x_kind;            /* n kinds of the variables, or NULL: one kind */
    fold_int n_x_kinds;          /* >= 1 */
    fold_int *p_kind;            /* np kinds of the parameters, or NULL: one kind */
    fold_int n_p_kinds;          /* >= 1 */
    fold_hess_form hess_form;    /* dense / product: hess_l is the packed lower triangle */
    fold_hess_l_v_fn hess_l_v;   /* optional product (required by FOLD_HESS_PRODUCT) */
    fold_hess_lp_v_fn hess_lp_v; /* optional products with L_xp (hess_lp pattern then empty) */
};

/* Evaluation counters and time, kept by the caller (the problem is immutable). */
typedef struct fold_eval_stats {
    fold_int n_f, n_grad_f, n_g, n_jac_g, n_hess_l, n_param;
    double seconds;
} fold_eval_stats;

fold_status fold_prob_eval_f(const fold_problem *prob, const double *x, const double *p,
                             double *obj, fold_eval_stats *st);
fold_status fold_prob_eval_grad_f(const fold_problem *prob, const double *x, const double *p,
                                  double *grad, fold_eval_stats *st);
fold_status fold_prob_eval_g(const fold_problem *prob, const double *x, const double *p, double *g,
                             fold_eval_stats *st);
fold_status fold_prob_eval_jac_g(const fold_problem *prob, const double *x, const double *p,
                                 double *values, fold_eval_stats *st);
fold_status fold_prob_eval_hess_l(const fold_problem *prob, const double *x, const double *p,
                                  double obj_factor, const double *lam, double *values,
                                  fold_eval_stats *st);
fold_status fold_prob_eval_grad_f_p(const fold_problem *prob, const double *x, const double *p,
                                    double *grad_p, fold_eval_stats *st);
fold_status fold_prob_eval_jac_g_p(const fold_problem *prob, const double *x, const double *p,
                                   double *values, fold_eval_stats *st);
fold_status fold_prob_eval_hess_lp(const fold_problem *prob, const double *x, const double *p,
                                   const double *lam, double *values, fold_eval_stats *st);

/* Is the matrix of the Hessian available: cb.hess_l (triplets, dense), or products that
 * may be assembled (n <= FOLD_HESS_PRODUCT_MAX_N)? */
static inline bool fold_prob_has_hessian(const fold_problem *prob)
{
    return prob->cb.hess_l ||
           (prob->hess_form == FOLD_HESS_PRODUCT && prob->n <= FOLD_HESS_PRODUCT_MAX_N);
}

/* out = (obj_factor Hess f + sum lam_i Hess g_i) v by the hess_l_v callback (which must be
 * present). */
fold_status fold_prob_eval_hess_l_v(const fold_problem *prob, const double *x, const double *p,
                                    double obj_factor, const double *lam, const double *v,
                                    double *out, fold_eval_stats *st);

/* out = L_xp v (transpose: L_xp' v; out of np entries, else n) by the hess_lp_v callback
 * (which must be present); counted in n_param. */
fold_status fold_prob_eval_hess_lp_v(const fold_problem *prob, const double *x, const double *p,
                                     const double *lam, bool transpose, const double *v,
                                     double *out, fold_eval_stats *st);

/* --- products with pattern values (products.c) --- */
/* y = P x (transpose: P' x) for a callback pattern P with values v (entries unique, as
 * validated at creation); y += when accumulate. len is the length of y. */
void fold_prob_pattern_mul(const fold_owned_pattern *P, const double *v, bool transpose,
                           const double *x, double *y, fold_int len, bool accumulate);
/* y += H x for the Hessian given by the values hv of its lower triangle (prob->hess_l). */
void fold_prob_hess_mul_add(const fold_problem *prob, const double *hv, const double *x, double *y);
/* Probes of fold_prob_hess_diag_estimate. */
#define FOLD_HESS_DIAG_PROBES 8
/* An estimate of diag(obj_factor 1 Hess f + sum lam_i Hess g_i) (n) from FOLD_HESS_DIAG_PROBES
 * products with reproducible random-sign vectors (doc/math.md eq. 3.25; exact for a diagonal
 * H, off in entry j by about (sum_{i != j} H_ij^2 / 8)^(1/2) otherwise). Needs hess_l_v;
 * returns its status (FOLD_CB_RECOVERABLE included). */
fold_status fold_prob_hess_diag_estimate(const fold_problem *prob, const double *x, const double *p,
                                         const double *lam, double *diag, fold_eval_stats *st);

/* --- names of items (names.c) --- */
/* Name of item `index` of `kind` (fold_item_kind, valid index) into buf: the problem's
 * callback or "x[j]", "g[i]", "p[k]". Records no error. */
void fold_prob_name(const fold_problem *prob, int kind, fold_int index, char *buf, size_t len);
/* The same followed by " lower" / " upper" for side FOLD_SIDE_LOWER / _UPPER when the item
 * has two distinct finite bounds (a one-sided or fixed item needs no side). */
void fold_prob_side_name(const fold_problem *prob, int kind, fold_int index, int side, char *buf,
                         size_t len);
/* Append "a, b, c, d and N more" to buf (size bytes): the names of items idx[k] (k when idx
 * is NULL) for k < count with flag[k] set (all when flag is NULL), at most max_shown. */
void fold_prob_name_list(const fold_problem *prob, int kind, const unsigned char *flag,
                         const fold_int *idx, fold_int count, int max_shown, char *buf,
                         size_t size);

/* --- bounds moving with p (bounds.c, doc/math.md §2.5) --- */
/* Validate and copy the maps of d into prob (after its bounds are copied). */
fold_status fold_prob_bounds_setup(fold_problem *prob, const fold_nlp_def *d, const char *fn);
void fold_prob_bounds_free(fold_problem *prob);
/* sum_k C_side(i, k) dp_k: the change of bound i of `side` (FOLD_BMAP_*) along dp. */
double fold_prob_bound_dot(const fold_problem *prob, int side, fold_int i, const double *dp);
/* pbar_k += v C_side(i, k) (the transpose). */
void fold_prob_bound_axpy(const fold_problem *prob, int side, fold_int i, double v, double *pbar);

/* Convenience: is constraint i an equality; has variable j a finite lower/upper bound. */
static inline bool fold_prob_is_equality(const fold_problem *prob, fold_int i)
{
    return prob->g_lower[i] == prob->g_upper[i];
}

#endif
