/* Seeded random parametric problems with a known KKT point, built solution first
 * (doc/math.md §3.8): convex QPs and nonconvex NLPs with equality, inequality and bound
 * constraints, strictly complementary unless a degenerate variant is asked for. */
#ifndef FOLD_TEST_RANDOM_PROBLEMS_H
#define FOLD_TEST_RANDOM_PROBLEMS_H

#include "foldopt.h"

typedef struct fold_rp_options {
    int n;           /* variables (>= 4) */
    int m;           /* constraints */
    int np;          /* parameters */
    bool nonlinear;  /* sin terms, quadratic constraints, negative curvature on fixed vars */
    bool weak_cons;  /* one inequality at its bound with zero multiplier */
    bool weak_bound; /* one variable at its bound with zero multiplier */
    bool duplicate;  /* the first equality constraint appears twice (singular KKT) */
    bool combined;   /* the last equality the sum of the first two, all linear (singular KKT
                        whose dependent rows are not copies) */
} fold_rp_options;

typedef struct fold_rp fold_rp;

/* Build a problem; the known KKT point is at p0. */
fold_status fold_rp_create(unsigned long long seed, const fold_rp_options *opt, fold_rp **out);
void fold_rp_free(fold_rp *rp);
const fold_problem *fold_rp_problem(const fold_rp *rp);
/* The known solution at p0 (pointers into rp; lam has m entries). */
void fold_rp_solution(const fold_rp *rp, const double **p0, const double **x, const double **lam,
                      const double **zl, const double **zu);
/* The same problem given by products (doc/api/problem.md): hess_products, FOLD_HESS_PRODUCT
 * with hess_l_v; lp_products, hess_lp_v instead of the hess_lp pattern. Both computed from
 * the pattern callbacks' values. Freed by the caller (fold_problem_free). */
fold_status fold_rp_products(const fold_rp *rp, bool hess_products, bool lp_products,
                             fold_problem **out);
/* Objective f(x; p), its gradients grad_x f (n) and df/dp (np). */
double fold_rp_objective(const fold_rp *rp, const double *x, const double *p);
void fold_rp_grad_x(const fold_rp *rp, const double *x, const double *p, double *g);
void fold_rp_grad_p(const fold_rp *rp, const double *x, const double *p, double *gp);
/* Index of the weakly active constraint / variable of a degenerate variant (-1 if none). */
fold_int fold_rp_weak_constraint(const fold_rp *rp);
fold_int fold_rp_weak_variable(const fold_rp *rp);

#endif
