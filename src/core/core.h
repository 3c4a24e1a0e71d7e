/* Internal helpers shared by every module: error detail, logging, timing, allocation and
 * the input-validation rules (one helper per rule; each names object, field and index). */
#ifndef FOLD_CORE_H
#define FOLD_CORE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldopt.h"

/* Record the calling thread's error detail and return status (so callers can
 * `return fold_error(FOLD_ERR_ARGUMENT, "fold_jvp: dp is NULL");`): the public
 * fold_set_error, the one error channel. */
#define fold_error fold_set_error

/* Prepend context to the existing detail: "ctx: <old detail>". Returns status. */
fold_status fold_error_context(fold_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logging through settings->log (silent unless level <= verbose). */
void fold_log(const fold_settings *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic wall-clock seconds. */
double fold_time_now(void);

/* Allocation that records FOLD_ERR_MEMORY detail on failure (and can be made to fail for
 * tests: fold_alloc_fail_after(k) makes the k-th following allocation fail; -1 disables). */
void *fold_malloc(size_t count, size_t size, const char *what);
void *fold_calloc(size_t count, size_t size, const char *what);
void fold_alloc_fail_after(long k);
/* Copy n doubles / fold_ints (NULL src -> NULL, not an error). */
double *fold_dup_doubles(const double *src, fold_int n, const char *what);
fold_int *fold_dup_ints(const fold_int *src, fold_int n, const char *what);
/* qsort comparator of doubles, ascending. */
int fold_cmp_double(const void *a, const void *b);

/* --- validation rules (src/core/check.c) --- */
fold_status fold_check_not_null(const void *ptr, const char *fn, const char *field);
fold_status fold_check_finite(const double *v, fold_int n, const char *fn, const char *field);
/* Bounds may be +-Inf but not NaN, and lower <= upper elementwise. */
fold_status fold_check_bounds(const double *lo, const double *hi, fold_int n, const char *fn,
                              const char *field_lo, const char *field_hi);
fold_status fold_check_dim(fold_int value, fold_int min, const char *fn, const char *field);
/* Triplets in [0,nrow) x [0,ncol), unique; lower_only requires row >= col. */
fold_status fold_check_pattern(const fold_pattern *pat, fold_int nrow, fold_int ncol,
                               bool lower_only, const char *fn, const char *field);
/* CSC well formed: colptr[0]=0, monotone, colptr[ncol]=nnz, rows in range, sorted, unique. */
fold_status fold_check_csc(fold_int nrow, fold_int ncol, const fold_int *colptr,
                           const fold_int *rowind, const double *values, const char *fn,
                           const char *field);
/* Indices in [0, limit), no duplicates. */
fold_status fold_check_index_list(const fold_int *idx, fold_int count, fold_int limit,
                                  const char *fn, const char *field);

/* Infinite bound test (|b| >= FOLD_INF_BOUND). */
static inline bool fold_is_inf_bound(double b)
{
    return b >= FOLD_INF_BOUND || b <= -FOLD_INF_BOUND;
}

/* --- structs that grow (src/core/info.c; doc/api/types.md) --- */
/* fold_sized_open's test alone (nothing written): FOLD_ERR_ARGUMENT naming type and macro. */
fold_status fold_sized_check(const void *caller, size_t min_size, const char *type,
                             const char *macro);
/* One element of an array that grows (doc/api/types.md, "Arrays that grow"): the first
 * min(dst_size, src_size) bytes of src into dst, the bytes of dst beyond src_size zeroed. */
void fold_sized_copy(void *dst, size_t dst_size, const void *src, size_t src_size);
/* The checks of the library's own info structs, by type. */
#define FOLD_CHECK_ITER_INFO(info)                                                                 \
    fold_sized_check((info), FOLD_ITER_INFO_V1, "fold_iter_info", "FOLD_ITER_INFO_INIT")

/* --- settings table (src/core/settings.c) --- */
/* fold_settings_validate of a full struct (the library's own copy) without clearing the
 * error detail first (for use inside calls). */
fold_status fold_settings_check(const fold_settings *s);
/* Copy the caller's settings (NULL: the defaults) into the full struct *out: its size
 * checked (FOLD_ERR_ARGUMENT), the fields it does not hold at their defaults, every field
 * checked (fold_settings_check). The caller adds its name as context. */
fold_status fold_settings_copy_in(const fold_settings *in, fold_settings *out);
const char *fold_enum_name(const char *setting, int value);

#endif
