/* Basic types shared by every public header: the index type, infinity, export macro.
 * See doc/api/types.md. */
#ifndef FOLDOPT_TYPES_H
#define FOLDOPT_TYPES_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(FOLD_BUILDING_LIBRARY)
#define FOLD_API __attribute__((visibility("default")))
#else
#define FOLD_API
#endif

/** The one index type of the API: 64-bit on every build (never a build switch). */
typedef int64_t fold_int;

/** Infinite bound. Any bound with |b| >= FOLD_INF_BOUND is treated as infinite, as in Ipopt. */
#define FOLD_INF HUGE_VAL
#define FOLD_INF_BOUND 1e20

/** Sparsity pattern as 0-based triplets (row[k], col[k]), k = 0..nnz-1.
 * Entries need not be sorted but must be unique; the callbacks that fill the values write
 * them in this same order. The arrays are copied at fold_problem_create. */
typedef struct fold_pattern {
    fold_int nnz;
    const fold_int *row;
    const fold_int *col;
} fold_pattern;

/** Which block of the primal-dual solution z = (x, lambda, zL, zU) a row of a Jacobian
 * refers to. */
typedef enum fold_block {
    FOLD_BLOCK_X = 0,   /**< primal variables, size n */
    FOLD_BLOCK_LAM = 1, /**< constraint multipliers, size m */
    FOLD_BLOCK_ZL = 2,  /**< lower-bound multipliers, size n */
    FOLD_BLOCK_ZU = 3   /**< upper-bound multipliers, size n */
} fold_block;

#endif
