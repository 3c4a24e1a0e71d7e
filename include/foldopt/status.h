/* Status codes: 0 ok, > 0 warning with valid output, < 0 error (nothing written).
 * See doc/api/status.md. */
#ifndef FOLDOPT_STATUS_H
#define FOLDOPT_STATUS_H

#include "types.h"

/* X(name, value, fixed text) — the single list behind the enum and fold_status_string. */
#define FOLD_STATUS_LIST(X)                                                                        \
    X(FOLD_OK, 0, "ok")                                                                            \
    X(FOLD_WARN_ONE_SIDED, 1,                                                                      \
      "derivative is one-sided: weakly active constraints resolved by policy")                     \
    X(FOLD_WARN_LEAST_SQUARES, 2, "singular KKT system: minimum-norm least-squares result")        \
    X(FOLD_WARN_UNCONVERGED_INPUT, 3, "derivative computed at a point that did not converge")      \
    X(FOLD_WARN_INACCURATE, 4, "result computed but its residual exceeds the tolerance")           \
    X(FOLD_WARN_NOT_UNIQUE, 5,                                                                     \
      "singular KKT system: entries the null space leaves undetermined are NaN")                   \
    X(FOLD_WARN_UNCERTAIN, 6,                                                                      \
      "entries that depend on ambiguous constraints are NaN: both values in the trust report")     \
    X(FOLD_ERR_ARGUMENT, -1, "invalid argument")                                                   \
    X(FOLD_ERR_DIMENSION, -2, "dimension mismatch")                                                \
    X(FOLD_ERR_SPARSITY, -3, "invalid sparsity pattern")                                           \
    X(FOLD_ERR_NONFINITE, -4, "NaN or Inf in input or callback output")                            \
    X(FOLD_ERR_CALLBACK, -5, "user callback failed")                                               \
    X(FOLD_ERR_SETTING, -6, "invalid setting")                                                     \
    X(FOLD_ERR_FORWARD_FAILED, -7, "forward solve failed")                                         \
    X(FOLD_ERR_NOT_SOLVED, -8, "no solution available: solve or import first")                     \
    X(FOLD_ERR_NOT_KKT, -9, "point is not a KKT point within tolerance")                           \
    X(FOLD_ERR_SINGULAR, -10, "singular or ill-conditioned KKT system")                            \
    X(FOLD_ERR_DEGENERATE, -11,                                                                    \
      "weakly active constraints make the solution map non-differentiable")                        \
    X(FOLD_ERR_NOT_CONVERGED, -12, "backward iteration did not converge")                          \
    X(FOLD_ERR_DIVERGED, -13, "backward iteration diverged")                                       \
    X(FOLD_ERR_UNSUPPORTED, -14, "operation not supported in this configuration")                  \
    X(FOLD_ERR_MISSING_DERIVATIVE, -15, "parameter derivative callbacks required for this call")   \
    X(FOLD_ERR_MEMORY, -16, "out of memory")                                                       \
    X(FOLD_ERR_IO, -17, "input/output error")                                                      \
    X(FOLD_ERR_PARSE, -18, "malformed input file")                                                 \
    X(FOLD_ERR_TOO_LARGE, -19, "problem too large for a backend's index type")                     \
    X(FOLD_ERR_INTERNAL, -20, "internal error in a backend")

typedef enum fold_status {
#define FOLD_STATUS_ENUM(name, value, text) name = value,
    FOLD_STATUS_LIST(FOLD_STATUS_ENUM)
#undef FOLD_STATUS_ENUM
} fold_status;

/** Fixed text for a status code (never NULL; "unknown status" for values not in the list). */
FOLD_API const char *fold_status_string(fold_status status);

/** Symbolic name of a status code, e.g. "FOLD_ERR_SINGULAR". */
FOLD_API const char *fold_status_name(fold_status status);

/** Detail of the last error or warning raised in the calling thread, naming the function,
 * object, field and index, e.g. "fold_problem_create: jac_g.row[17] = 12 outside [0,10)".
 * The one error channel of the library and of the problem families built on it (AC-OPF,
 * learning tasks). Every call that computes (create, solve, import, validate, jvp / vjp /
 * jacobian, case read / write) clears it on entry, so after such a call returned FOLD_OK it
 * is the empty string; accessors of an object's state (fold_solver_solution, _params,
 * _set_start, _update_settings, fold_problem_item_name, fold_settings_get, fold_weak_list,
 * fold_map_set_nearby, fold_map_residual_history) set it only when they fail. Valid until
 * the next such call in the same thread; per thread (another thread's errors never show
 * here). doc/api/status.md. */
FOLD_API const char *fold_last_error(void);

/** Status that went with fold_last_error() (FOLD_OK when the detail is empty). */
FOLD_API fold_status fold_last_status(void);

/** Clear the calling thread's status and detail. */
FOLD_API void fold_clear_error(void);

/** Record status and a printf-style detail for the calling thread and return status: for
 * code built on foldopt (problem families, callbacks) that reports through the same channel.
 * The arguments may include fold_last_error() itself (e.g. to add context). */
FOLD_API fold_status fold_set_error(fold_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Structs that grow (doc/api/types.md): every output struct the library fills and
 * fold_settings start with `size_t size`, set by the caller (FOLD_..._INIT,
 * fold_settings_default) to the sizeof it was compiled with. A newer library then reads and
 * writes only those bytes. The two calls below are that rule, for code built on foldopt that
 * defines growable structs of its own (problem families, bindings). */

/** Check the caller's struct (NULL: nothing to do, FOLD_OK) and prepare the full one: its
 * size (first field) must be at least min_size, the end of the struct's first version's last
 * field; otherwise FOLD_ERR_ARGUMENT "<type>.size is 0: initialize with <macro>". On success
 * *full (full_size bytes) is zeroed and its size set to full_size. */
FOLD_API fold_status fold_sized_open(const void *caller, void *full, size_t full_size,
                                     size_t min_size, const char *type, const char *macro);

/** Copy the full struct into the caller's (NULL: nothing) after a successful fold_sized_open:
 * the bytes after the size field up to the caller's size; bytes beyond full_size that the
 * caller knows (a newer header than the library) are zeroed. The caller's size is kept. */
FOLD_API void fold_sized_close(void *caller, const void *full, size_t full_size);

/** The end of field f of struct T: the smallest size a caller that knows f may pass. */
#define FOLD_FIELD_END(T, f) (offsetof(T, f) + sizeof(((T *)0)->f))

#endif
