/* Iterative solvers of A x = b (or A' x = b) for the backward pass of the fold: LFPI
 * (preconditioned Richardson), restarted GMRES, BiCGSTAB, MINRES and CG on an abstract
 * operator and preconditioner. doc/math.md §1, doc/iterative.md §2. */
#ifndef FOLD_KRYLOV_H
#define FOLD_KRYLOV_H

#include "core/core.h"

/* y = A x (transpose: A' x). A failure records its detail and returns < 0. */
typedef struct fold_kry_op {
    fold_int n;
    fold_status (*apply)(void *ctx, bool transpose, const double *x, double *y);
    void *ctx;
} fold_kry_op;

/* z = M^{-1} r (transpose: M^{-T} r); apply NULL means M = I. */
typedef struct fold_kry_pc {
    fold_status (*apply)(void *ctx, bool transpose, const double *r, double *z);
    void *ctx;
} fold_kry_pc;

typedef struct fold_kry_params {
    double tol;        /* relative residual target ||b - A x||_2 <= tol ||b||_2 */
    fold_int max_iter; /* operator applications counted as iterations */
    int restart;       /* GMRES cycle length */
    bool transpose;    /* solve A' x = b with M' */
    fold_int window;   /* LFPI divergence window (0: 20) */
    bool fixed;        /* run max_iter iterations with tol 0: no stagnation test (LFPI) */
} fold_kry_params;

typedef struct fold_kry_result {
    fold_int iterations;
    double residual; /* final true relative residual */
    int reason;      /* fold_backward_reason */
    double *history; /* caller buffer of history_cap entries, or NULL */
    fold_int history_cap;
    fold_int n_history; /* entries that would have been written (may exceed history_cap) */
} fold_kry_result;

/* Each solver takes the initial guess in x and leaves its last iterate there whatever the
 * outcome (the public layer copies it out only on success). Returns FOLD_OK (converged),
 * FOLD_ERR_NOT_CONVERGED (max_iter, breakdown or stagnation: res->reason), FOLD_ERR_DIVERGED
 * (LFPI), FOLD_ERR_NONFINITE (NaN in the iteration), or an operator/preconditioner error. */
fold_status fold_kry_lfpi(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                          const double *b, double *x, fold_kry_result *res);
fold_status fold_kry_gmres(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                           const double *b, double *x, fold_kry_result *res);
fold_status fold_kry_bicgstab(const fold_kry_op *A, const fold_kry_pc *M,
                              const fold_kry_params *prm, const double *b, double *x,
                              fold_kry_result *res);
/* MINRES and CG need symmetric A and a symmetric positive definite M. */
fold_status fold_kry_minres(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                            const double *b, double *x, fold_kry_result *res);
fold_status fold_kry_cg(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                        const double *b, double *x, fold_kry_result *res);

/* Dispatch by fold_backward_method (lfpi..cg). */
fold_status fold_kry_solve(int method, const fold_kry_op *A, const fold_kry_pc *M,
                           const fold_kry_params *prm, const double *b, double *x,
                           fold_kry_result *res);

/* --- shared kernels (krylov_util.c) --- */
double fold_kry_dot(fold_int n, const double *x, const double *y);
double fold_kry_nrm2(fold_int n, const double *x);
/* y += a x */
void fold_kry_axpy(fold_int n, double a, const double *x, double *y);
/* r = b - A x; returns ||r||_2 through *rnorm. */
fold_status fold_kry_residual(const fold_kry_op *A, bool transpose, const double *b,
                              const double *x, double *r, double *rnorm);
fold_status fold_kry_precond(const fold_kry_pc *M, bool transpose, fold_int n, const double *r,
                             double *z);
/* Record relative residual rel for iteration k (k = 0 is the initial guess). */
void fold_kry_record(fold_kry_result *res, double rel);

#endif
