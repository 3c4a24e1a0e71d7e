/* The fold map object behind include/foldopt/map.h: products by Phi, Phi', Psi, Psi' from
 * callbacks, explicit matrices, finite differences or a built-in update step, and the cached
 * matrix I - Phi and its factorization (doc/iterative.md §1). */
#ifndef FOLD_MAP_INTERNAL_H
#define FOLD_MAP_INTERNAL_H

#include "core/core.h"
#include "fold/engine.h"
#include "foldopt/map.h"
#include "foldopt/settings.h"
#include "linalg/linalg.h"

struct fold_precond_factor;

/* Operations of a map kind (errors carry their detail). phi: out = Phi v (transpose:
 * Phi' v); psi: out[nz] = Psi dp;
 * psit: out[np] = Psi' w; diag: out = diagonal of Phi. NULL when unavailable. */
typedef struct fold_map_ops {
    const char *kind;
    fold_status (*phi)(void *impl, bool transpose, const double *v, double *out);
    fold_status (*psi)(void *impl, const double *dp, double *out);
    fold_status (*psit)(void *impl, const double *w, double *out);
    fold_status (*diag)(void *impl, double *out);
    void (*free)(void *impl);
} fold_map_ops;

struct fold_map {
    char name[64];
    fold_int nz, np;
    bool is_symmetric;
    bool has_phi, has_phit, has_psi, has_psit, has_diag;
    bool is_fd; /* products by finite differences: forward mode only */
    const fold_map_ops *ops;
    void *impl;
    fold_la_sparse *A;   /* I - Phi (given or assembled), full storage, or NULL */
    fold_la_sparse *Psi; /* given Psi, or NULL */
    fold_int n_blocks;
    fold_int *block_ptr;
    struct fold_precond_factor *exact; /* factorization of A, built on first use */
    struct fold_precond_factor *block; /* block-diagonal factorization, built on first use */
    fold_map *nearby;
    double *history; /* residual history of the last iterative solve */
    fold_int n_history, history_cap;
    fold_la_common cm;
    bool cm_started;
    const char *fn; /* the public call in progress, for messages */
};

/* Largest nz for which the matrix I - Phi is assembled from nz products. */
#define FOLD_MAP_ASSEMBLE_MAX 4000

/* Create a map of a given kind (takes ownership of impl: ops->free is called on error). */
fold_status fold_map_create_kind(const char *fn, const char *name, fold_int nz, fold_int np,
                                 bool is_symmetric, const fold_map_ops *ops, void *impl,
                                 fold_map **out);

/* Checked products: NaN/Inf in outputs become errors naming the product. */
fold_status fold_map_phi(fold_map *map, bool transpose, const double *v, double *out);
fold_status fold_map_psi(fold_map *map, const double *dp, double *out);
fold_status fold_map_psit(fold_map *map, const double *w, double *out);

/* The matrix I - Phi (cached): given, or assembled from nz products of Phi. */
fold_status fold_map_matrix(fold_map *map, const char *fn, fold_la_sparse **A);

/* The engine's view of I - Phi (or its transpose) for settings s (engine.h); what
 * (FOLD_MAP_WHAT_LEN bytes) names it in messages. */
#define FOLD_MAP_WHAT_LEN 96
fold_status fold_map_system(fold_map *map, const fold_settings *s, bool transpose, char *what,
                            size_t len, fold_system *out);

/* Solve (I - Phi) x = b (transpose: (I - Phi)' x = b) for one right-hand side with the
 * method and preconditioner of s. x holds the initial guess (zeros usually) and receives the
 * last iterate whatever the status (the unrolling experiment runs exactly k iterations with
 * tol = 0 and reads it after FOLD_ERR_NOT_CONVERGED). info accumulates iterations and times;
 * the residual history of the solve is kept in the map. */
fold_status fold_map_solve(fold_map *map, const fold_settings *s, bool transpose, const double *b,
                           double *x, fold_backward_info *info);

#endif
