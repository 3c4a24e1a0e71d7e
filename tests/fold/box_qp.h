/* The dense box-constrained QP of the "one definition" tests and benchmark
 * (tests/fold/test_one_definition.c, tests/bench/bench_hess_forms.c):
 *     min 0.5 x'Qx + (q + p)'x,  -1 <= x <= 1,
 * Q dense, diagonally dominant (condition below 10), built solution first: a fifth of the
 * variables at each bound with multipliers in [0.5, 1.5], the rest strictly inside. */
#ifndef FOLD_TEST_BOX_QP_H
#define FOLD_TEST_BOX_QP_H

#include "foldopt.h"

typedef struct box_qp {
    fold_int n;
    double *Q;          /* dense n x n, column-major, symmetric positive definite */
    double *q;          /* linear term at p = 0 */
    double *x;          /* the solution at p = 0 */
    double *zl, *zu;    /* its bound multipliers */
    signed char *state; /* 0 free, 1 at lower, 2 at upper */
    double lipschitz;   /* Gershgorin bound of the largest eigenvalue of Q */
    fold_int *hr, *hc;  /* packed lower triangle as triplets (built by the triplet form) */
    fold_int *ident;    /* identity pattern of hess_lp */
    double *lo, *hi;
} box_qp;

/* Seeded instance of n variables (parameters p: the linear term, np = n, p = 0 at the
 * built solution). */
box_qp *box_qp_build(unsigned long long seed, fold_int n);
void box_qp_free(box_qp *B);
/* The one definition, in Hessian form `form` (triplets: the packed lower triangle hr, hc). */
fold_nlp_def box_qp_def(box_qp *B, fold_hess_form form);
/* Its callbacks (fold_nlp_callbacks; box_qp_hess_v: fold_hess_l_v_fn). */
int box_qp_f(const double *x, const double *p, double *obj, void *ud);
int box_qp_grad(const double *x, const double *p, double *g, void *ud);
int box_qp_hess(const double *x, const double *p, double s, const double *lam, double *v, void *ud);
int box_qp_hess_v(const double *x, const double *p, double s, const double *lam, const double *v,
                  double *out, void *ud);
int box_qp_grad_p(const double *x, const double *p, double *gp, void *ud);
int box_qp_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud);

#endif
