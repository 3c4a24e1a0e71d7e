/* Shared tape-and-pull-back driver of reverse-mode unrolling (doc/math.md §1,
 * doc/iterative.md §4.3-4.4): one step of an iterative method seen through a small vtable
 * (the step, the products by Phi_k' and Psi_k'), used by the built-in and user-defined steps. */
#ifndef FOLD_UNROLL_SWEEP_H
#define FOLD_UNROLL_SWEEP_H

#include "core/core.h"
#include "foldopt/map.h"

/* One update step x_{k+1} = U(x_k, p). Every callback gets ctx and the iteration k, the taped
 * iterate x_k, its auxiliary record aux_k (NULL when aux = 0) and the next iterate x_{k+1}. */
typedef struct fold_unroll_ops {
    fold_int n, np;        /* iterate and parameter sizes */
    fold_int aux;          /* doubles taped per step besides the iterate (0: none) */
    const char *tape_what; /* allocation labels of the iterate and auxiliary tapes */
    const char *aux_what;
    void *ctx;
    /* x0 (zeroed) -> the starting iterate when the caller passes none; NULL: zeros. */
    fold_status (*start)(void *ctx, double *x0);
    /* xn = U(x, p); records aux. */
    fold_status (*step)(void *ctx, fold_int k, const double *x, const double *p, double *aux,
                        double *xn);
    /* out (n) = Phi_k' w. */
    fold_status (*phit)(void *ctx, fold_int k, const double *x, const double *p, const double *aux,
                        const double *xn, const double *w, double *out);
    /* out (np) = Psi_k' w (called only when np > 0). */
    fold_status (*psit)(void *ctx, fold_int k, const double *x, const double *p, const double *aux,
                        const double *xn, const double *w, double *out);
} fold_unroll_ops;

/* Run `iters` steps from x0 (NULL: zeros then ops->start) on a tape, then pull xbar back:
 * pbar (np) = sum_k Psi_k' Phi_{k+1}' ... Phi_{iters-1}' xbar; x (may be NULL) = x_iters.
 * Arguments are validated by the caller. *bytes receives the tape's size (set before the
 * allocation). Outputs are written only on success. */
fold_status fold_unroll_sweep(const fold_unroll_ops *ops, const double *p, const double *x0,
                              fold_int iters, const double *xbar, double *x, double *pbar,
                              size_t *bytes);

/* The unrolling's info (may be NULL): iterations (0 on failure), tape bytes, time since t0. */
void fold_unroll_info(fold_iter_info *info, fold_status st, fold_int iters, size_t bytes,
                      double t0);

#endif
