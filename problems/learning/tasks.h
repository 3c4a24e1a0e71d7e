/* Constructors of the individual learning tasks, used by the registry (task.c). Each fills
 * t (ops first, so learn_task_free can release a partly built task). */
#ifndef FOLD_PROBLEMS_LEARNING_TASKS_H
#define FOLD_PROBLEMS_LEARNING_TASKS_H

#include "learning/learning.h"

/* Backward methods of the Ipopt-solved layers: the direct fold (fold_vjp). */
#define LEARN_QP_BACKWARDS (1u << LEARN_BACKWARD_DIRECT)
/* Portfolio: also the SQP step fold by LFPI or GMRES. */
#define LEARN_PF_BACKWARDS                                                                      \
    ((1u << LEARN_BACKWARD_DIRECT) | (1u << LEARN_BACKWARD_LFPI) | (1u << LEARN_BACKWARD_GMRES))

/* Top-k dual gradient method (task_topk_dual.c): fixed start, stopping tolerance on
 * |nu_k - nu_{k-1}| relative to 1 + |nu|, iteration limit. */
#define LEARN_TOPK_NU0 0.0
#define LEARN_TOPK_TOL 1e-15
#define LEARN_TOPK_MAX_ITER 200000
/* nu by the dual gradient method from LEARN_TOPK_NU0 (FOLD_ERR_NOT_CONVERGED at max_iter). */
fold_status learn_topk_dual_solve(const double *c, fold_int n, fold_int k, fold_int max_iter,
                                  double *nu, fold_int *iterations);
/* cbar (n) = (dnu/dc)' nubar through the dual gradient map: folded at nu (method lfpi or
 * gmres through fold_map_vjp), or unrolled over `iters` steps from LEARN_TOPK_NU0
 * (method unroll, fold_iter_unroll_vjp; nu unused). Backward iterations and tape bytes. */
fold_status learn_topk_dual_vjp(const double *c, fold_int n, fold_int k, double nu, int method,
                                fold_int iters, double nubar, double *cbar,
                                fold_int *iterations, size_t *bytes);

fold_status learn_qp_create(const learn_config *c, learn_task *t);
fold_status learn_portfolio_create(const learn_config *c, learn_task *t);
fold_status learn_denoise_create(const learn_config *c, learn_task *t);
fold_status learn_topk_create(const learn_config *c, learn_task *t);

/* An Ipopt-solved layer: forward by fold_solve (a black box to the training loop), VJP by
 * fold_vjp at the stored solution (task_nlp.c). */
typedef struct learn_nlp_layer {
    fold_problem *prob;
    fold_solver *solver;
    fold_int n, np, sample; /* sample of the stored solution, -1 if none */
} learn_nlp_layer;

fold_status learn_nlp_layer_init(learn_nlp_layer *L, const fold_nlp_def *def, int backward);
fold_status learn_nlp_layer_forward(learn_nlp_layer *L, fold_int i, const double *p, double *x);
fold_status learn_nlp_layer_vjp(learn_nlp_layer *L, fold_int i, const double *xbar,
                                double *pbar);
void learn_nlp_layer_free(learn_nlp_layer *L);

/* A portfolio solution for the SQP step fold (task_pf_step.c): covariance S (n x n), the
 * solution x, multipliers lam (risk, budget) and zl, active_set.dual_tol. */
typedef struct learn_pf_point {
    fold_int n;
    const double *S, *x, *lam, *zl;
    double dual_tol;
} learn_pf_point;

/* cbar = (dx/dc)' xbar through the SQP step map with fold_map_vjp (method lfpi or gmres,
 * hessian learn_step_hessian, scale > 0.5); iterations of the backward solve. */
fold_status learn_pf_step_vjp(const learn_pf_point *pt, const double *xbar, int method,
                              int hessian, double scale, double *cbar, fold_int *iterations);
#endif
