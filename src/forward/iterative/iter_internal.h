/* Built-in iterative methods (projected and proximal gradient): sets with exact projections
 * and projection Jacobians, one update step U(x; p) with its derivative products, and small
 * sparse helpers (doc/iterative.md §4). */
#ifndef FOLD_ITER_INTERNAL_H
#define FOLD_ITER_INTERNAL_H

#include "core/core.h"
#include "foldopt/map.h"
#include "linalg/linalg.h"

/* --- helpers --- */
void fold_iter_axpy(fold_int n, double a, const double *x, double *y);

/* --- sets (sets.c) --- */
typedef struct fold_iter_set {
    int kind;
    fold_int n, m;
    double *lower, *upper, *center, *b, *work, *work_n;
    double radius;
    fold_la_sparse *A;
    fold_la_chol *L; /* A A' (affine) */
    fold_la_common cm;
    bool cm_started;
} fold_iter_set;

fold_status fold_iter_set_create(const fold_set *set, fold_int n, const char *fn,
                                 fold_iter_set **out);
void fold_iter_set_free(fold_iter_set *S);
/* x = P_C(y). */
fold_status fold_iter_set_project(fold_iter_set *S, const double *y, double *x);
/* out = J v with J = dP_C/dy at y (x = P_C(y)); J is symmetric for every set. */
fold_status fold_iter_set_jac(fold_iter_set *S, const double *y, const double *x, const double *v,
                              double *out);

/* --- the objective and box of a fold_problem (step_problem.c) --- */
typedef struct fold_iter_prob fold_iter_prob;
/* Check def->problem against def (obj and set zero, m = 0, fixed bounds) and write the set of
 * its bounds into *box (arrays referenced, copied by fold_iter_set_create). */
fold_status fold_iter_prob_create(const fold_iter_def *def, const char *fn, fold_iter_prob **out,
                                  fold_set *box);
void fold_iter_prob_free(fold_iter_prob *P);
fold_status fold_iter_prob_grad(fold_iter_prob *P, const double *x, const double *p, double *g);
fold_status fold_iter_prob_hess_v(fold_iter_prob *P, const double *x, const double *p,
                                  const double *v, double *out);
/* out = C v (n) or, transpose, C' v (np): C = d(grad_x f)/dp. */
fold_status fold_iter_prob_cross(fold_iter_prob *P, const double *x, const double *p,
                                 bool transpose, const double *v, double *out);

/* --- one step (step.c) --- */
typedef struct fold_iter_step {
    fold_iter_def def;    /* set arrays are owned by `set`, not referenced */
    fold_iter_set *set;   /* PGD */
    fold_iter_prob *prob; /* objective and box from def.problem (NULL: def.obj, def.set) */
    fold_int n, np;
    double *t1, *t2, *t3; /* work (n) */
} fold_iter_step;

fold_status fold_iter_step_create(const fold_iter_def *def, const char *fn, fold_iter_step **out);
void fold_iter_step_free(fold_iter_step *s);
/* y = x - step grad f(x; p), xn = U(x) = P(y) (or soft threshold). */
fold_status fold_iter_step_eval(fold_iter_step *s, const double *x, const double *p, double *y,
                                double *xn);
/* Derivative products at x (with y, xn from fold_iter_step_eval):
 * Phi v = J (v - a H v), Phi' w = (I - a H) J w, Psi dp = -a J C dp, Psi' w = -a C' J w. */
fold_status fold_iter_step_phi(fold_iter_step *s, const double *x, const double *p, const double *y,
                               const double *xn, bool transpose, const double *v, double *out);
fold_status fold_iter_step_psi(fold_iter_step *s, const double *x, const double *p, const double *y,
                               const double *xn, const double *dp, double *out);
fold_status fold_iter_step_psit(fold_iter_step *s, const double *x, const double *p,
                                const double *y, const double *xn, const double *w, double *out);

#endif
