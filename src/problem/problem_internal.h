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
fold_status fold_prob_eval_g(const fold_problem *prob, const double *x, const double *p,
                             double *g, fold_eval_stats *st);
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

/* Convenience: is constraint i an equality; has variable j a finite lower/upper bound. */
static inline bool fold_prob_is_equality(const fold_problem *prob, fold_int i)
{
    return prob->g_lower[i] == prob->g_upper[i];
}

#endif
