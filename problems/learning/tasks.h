/* Constructors of the individual learning tasks, used by the registry (task.c). Each fills
 * t (ops first, so learn_task_free can release a partly built task). */
#ifndef FOLD_PROBLEMS_LEARNING_TASKS_H
#define FOLD_PROBLEMS_LEARNING_TASKS_H

#include "learning/learning.h"

/* Top-k dual gradient method (task_topk_dual.c): fixed start, stopping tolerance on
 * |nu_k - nu_{k-1}| relative to 1 + |nu|, iteration limit. */
#define LEARN_TOPK_NU0 0.0
#define LEARN_TOPK_TOL 1e-15
#define LEARN_TOPK_MAX_ITER 200000
/* nu by the dual gradient method from LEARN_TOPK_NU0: to convergence (FOLD_ERR_NOT_CONVERGED
 * at max_iter), or exactly max_iter steps when fixed. */
fold_status learn_topk_dual_solve(const double *c, fold_int n, fold_int k, fold_int max_iter,
                                  bool fixed, double *nu, fold_int *iterations);
/* cbar (n) = (dnu/dc)' nubar through the dual gradient map: folded at nu (method lfpi or
 * gmres through fold_map_vjp), or unrolled over `iters` steps from LEARN_TOPK_NU0
 * (method unroll, fold_iter_unroll_vjp; nu unused). Backward iterations and tape bytes. */
fold_status learn_topk_dual_vjp(const double *c, fold_int n, fold_int k, double nu, int method,
                                fold_int iters, double nubar, double *cbar, fold_int *iterations,
                                size_t *bytes);

fold_status learn_qp_create(const learn_config *c, learn_task *t);
fold_status learn_portfolio_create(const learn_config *c, learn_task *t);
fold_status learn_denoise_create(const learn_config *c, learn_task *t);
fold_status learn_topk_create(const learn_config *c, learn_task *t);

/* ---- SQP-type step of an Ipopt-solved layer at its active set (sqp_step.c) ---- */

typedef struct learn_sqp_def learn_sqp_def;
/* KKT pieces at (x full n, lam active na) for parameters p (n); any output may be NULL:
 * r (nf) gradient of the Lagrangian on the free variables, g (na) active constraints minus
 * their bounds, H (nf x nf) and J (na x nf) row-major Hessian of the Lagrangian and active
 * Jacobian on the free variables, cp (nf) d r_j / d p_{free_idx[j]} (the cross derivative is
 * diagonal in every task). Return 0 on success. */
typedef int (*learn_sqp_eval_fn)(const learn_sqp_def *d, const double *x, const double *lam,
                                 const double *p, double *r, double *g, double *H, double *J,
                                 double *cp);
/* out (nf) = sum_r w_r G_r v, G_r the Hessian of active constraint r on the free variables
 * (v nf, w na): the curvature of nonlinear constraints (NULL when all are linear). */
typedef int (*learn_sqp_curv_fn)(const learn_sqp_def *d, const double *x, const double *w,
                                 const double *v, double *out);
struct learn_sqp_def {
    fold_int n, nf, na;
    const fold_int *free_idx; /* nf free variables */
    const fold_int *act;      /* na active constraints */
    const double *x;          /* solution (n), non-free entries at their bound */
    const double *lam;        /* multipliers of the active constraints (na) */
    const double *p;          /* parameters (n) */
    double damping;           /* alpha in (0, 1]: U(z) = z - alpha M^{-1} F(z; p) */
    learn_sqp_eval_fn eval;
    learn_sqp_curv_fn curv; /* NULL: linear constraints, J constant */
    void *user_data;        /* the task's */
};
typedef struct learn_sqp learn_sqp;

/* Build the step at the solution (arrays of def are referenced and must outlive it): B by
 * hessian/scale, the Schur complement J B^{-1} J' factored (FOLD_ERR_SINGULAR if the active
 * gradients are dependent). */
fold_status learn_sqp_create(const learn_sqp_def *def, int hessian, double scale, learn_sqp **out);
void learn_sqp_free(learn_sqp *s);
fold_int learn_sqp_nz(const learn_sqp *s);
/* Folded: pbar (n) = (dx/dp)' xbar (xbar n) by LFPI or GMRES on (I - Phi)' w = (xbar_F, 0)
 * through fold_map_vjp (tol 1e-12); iterations of that solve. */
fold_status learn_sqp_vjp(learn_sqp *s, const double *xbar, int method, double *pbar,
                          fold_int *iterations);
/* The fixed start z0 (nz) = (x0_F, 0) from a full x0 (n). */
void learn_sqp_start(const learn_sqp *s, const double *x0, double *z0);
/* Iterate U from z0 until |z_k - z_{k-1}|_inf <= tol (1 + |z_k|_inf) (FOLD_ERR_NOT_CONVERGED
 * after max_iter, with z and x of the last iterate): z (nz), the full x (n), iterations. */
fold_status learn_sqp_run(learn_sqp *s, const double *z0, fold_int max_iter, double tol, double *z,
                          double *x, fold_int *iterations);
/* Unrolled: pbar (n) = (d x_iters / dp)' xbar through `iters` steps from z0
 * (fold_step_unroll_vjp; M held fixed); tape bytes. */
fold_status learn_sqp_unroll_vjp(learn_sqp *s, const double *z0, fold_int iters, const double *xbar,
                                 double *pbar, size_t *bytes);

/* Unrolled SQP iteration: stopping tolerance and iteration limit of the forward. */
#define LEARN_SQP_TOL 1e-13
#define LEARN_SQP_MAX_ITER 100000
/* Largest deviation of its limit from the Ipopt solution, relative to 1 + |x|_inf: Ipopt's
 * interior point is biased by O(mu / x_j) near bounds (up to ~1e-5 on the portfolio), while
 * another KKT point of the active-set problem lies O(0.1) or farther away. */
#define LEARN_SQP_AGREE 1e-3

/* ---- An Ipopt-solved layer (task_nlp.c) ---- */

/* Forward by fold_solve (a black box to the training loop). Backward direct: fold_vjp at
 * the stored solution. lfpi, gmres: the SQP step at the solution's active set, folded.
 * unroll: the forward continues with the SQP iteration from x_start (and zero multipliers)
 * on that active set to convergence, its output is the layer's, the VJP unrolls it. */
typedef struct learn_nlp_layer {
    fold_problem *prob;
    fold_solver *solver;
    fold_int n, m, np, sample; /* sample of the stored solution, -1 if none */
    int backward, step_hessian;
    double step_scale;
    fold_int unroll_iters;  /* 0: the SQP iteration to convergence, else exactly that many */
    learn_sqp_eval_fn eval; /* KKT pieces for the SQP step */
    learn_sqp_curv_fn curv;
    double damping; /* alpha of the SQP step (the task's) */
    void *eval_data;
    const double *x_lower, *x_upper, *g_lower, *g_upper, *x_start; /* the task's */
    double *x, *lam, *zl, *zu, *lam_act, *z0, *zk, *p;
    fold_int *free_idx, *act;
    learn_sqp *sqp;  /* NULL when no variable is free */
    fold_int n_iter; /* unroll: SQP iterations of the last forward */
    bool unrolled;   /* the last forward ran the SQP iteration */
} learn_nlp_layer;

fold_status learn_nlp_layer_init(learn_nlp_layer *L, const fold_nlp_def *def,
                                 learn_sqp_eval_fn eval, learn_sqp_curv_fn curv, void *eval_data);
fold_status learn_nlp_layer_forward(learn_nlp_layer *L, fold_int i, const double *p, double *x);
/* VJP of the last forward; iterations of an iterative backward and tape bytes (may be NULL). */
fold_status learn_nlp_layer_vjp(learn_nlp_layer *L, fold_int i, const double *xbar, double *pbar,
                                fold_int *iterations, size_t *bytes);
void learn_nlp_layer_free(learn_nlp_layer *L);
/* The task's backward settings into its layer (before each forward and VJP). */
static inline void sync_layer(const learn_task *t, learn_nlp_layer *L)
{
    L->backward = t->backward;
    L->unroll_iters = t->unroll_iters;
    L->step_hessian = t->step_hessian;
    L->step_scale = t->step_scale;
}
#endif
