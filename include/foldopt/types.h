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

/* Conventions of every public header (doc/api/types.md):
 *
 * Callbacks (problem.h, map.h): const inputs first, outputs next, `void *user_data` last.
 * Every callback returns int: 0 on success; > 0 a recoverable failure (the forward solver
 * backtracks and retries with a shorter step; where nothing can be retried, in fold calls,
 * maps, unrolling and the built-in iterative solvers, it fails the call like < 0); < 0 a
 * fatal failure: the call returns FOLD_ERR_CALLBACK and fold_last_error() names the
 * callback and its return value. Outputs are checked for NaN/Inf (FOLD_ERR_NONFINITE names
 * the callback and the entry). The one exception is the naming hook fold_item_name_fn: its
 * failure never fails a call, foldopt then uses its default name. The log sink
 * (fold_log_fn) returns nothing.
 *
 * Enums: every struct field and function argument that takes the values of an enum has
 * that enum type (callback parameters excepted: they stay int, so that a callback's type
 * never depends on the compiler's choice of an enum's underlying type); every enum constant
 * has a fixed value written in the header, never renumbered (new ones are appended).
 *
 * Thread safety: each handle's header says it (fold_problem, fold_solver, fold_map,
 * fold_acopf, fold_batch); functions without a handle are thread-safe when the callbacks
 * they are given are. Errors are reported per thread (status.h). */

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
    FOLD_BLOCK_X = 0,    /**< primal variables, size n */
    FOLD_BLOCK_LAM = 1,  /**< constraint multipliers, size m */
    FOLD_BLOCK_ZL = 2,   /**< lower-bound multipliers, size n */
    FOLD_BLOCK_ZU = 3,   /**< upper-bound multipliers, size n */
    FOLD_BLOCK_NONE = -1 /**< no block (a trust report entry of a parameter gradient) */
} fold_block;

/** A side of a bounded item: a variable's lower or upper bound, an inequality's lower or
 * upper limit. */
typedef enum fold_side {
    FOLD_SIDE_NONE = 0,  /**< no side (an entry of a result, not a side) */
    FOLD_SIDE_LOWER = 1, /**< the lower bound or limit */
    FOLD_SIDE_UPPER = 2  /**< the upper bound or limit */
} fold_side;

#endif
