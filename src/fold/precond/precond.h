/* Factorizations used as preconditioners M of the backward solves of I - Phi (doc/iterative.md
 * §2.6; Jacobi is the engine's, src/fold/engine.c): block diagonal with CHOLMOD-factored
 * blocks, and the UMFPACK factorization of the current matrix (exact) or of a nearby
 * instance. */
#ifndef FOLD_PRECOND_H
#define FOLD_PRECOND_H

#include "fold/krylov/krylov.h"
#include "linalg/linalg.h"

/* A factorization used as M: the LU of a whole square matrix (fold_la_factor, UMFPACK), or
 * the LDL' of its symmetric diagonal blocks (fold_la_chol). */
typedef struct fold_precond_factor fold_precond_factor;

/* LU of A (square, full storage, sorted). FOLD_ERR_SINGULAR when it has a zero pivot. cm
 * must outlive the factor. */
fold_status fold_pc_lu_create(const fold_la_sparse *A, fold_la_common *cm, const char *fn,
                              fold_precond_factor **out);
/* LDL' of the diagonal blocks A[ptr[k]:ptr[k+1], same] (symmetric). */
fold_status fold_pc_block_create(const fold_la_sparse *A, fold_int n_blocks, const fold_int *ptr,
                                 fold_la_common *cm, const char *fn, fold_precond_factor **out);
/* z = M^{-1} r (transpose: M^{-T} r). */
fold_status fold_pc_factor_apply(void *F, bool transpose, const double *r, double *z);
fold_int fold_pc_factor_nnz(const fold_precond_factor *F);
void fold_pc_factor_free(fold_precond_factor *F);

#endif
