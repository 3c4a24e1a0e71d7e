/* Grouping sparse vectors (rows or columns of K or J) by their pattern, to find the parallel
 * ones before any factorization: the dependent active rows (kkt_structural.c, eq. 4.12), the
 * parallel columns of K (kkt_null_columns.c, eq. 4.12b), twin variables (value_twins.c).
 * Vectors are given as sorted index lists with their values. */
#ifndef FOLD_KKT_PATTERN_H
#define FOLD_KKT_PATTERN_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "foldopt/types.h"

/* Vectors parallel to within this relative difference per entry: the resolution of the
 * null-space probe (doc/math.md §4.8). */
#define FOLD_PARALLEL_TOL 1e-9

/* FNV-1a hash of an index list: equal patterns have equal keys. */
static inline uint64_t fold_pattern_key(const fold_int *idx, fold_int len)
{
    uint64_t key = 1469598103934665603ULL;
    for (fold_int t = 0; t < len; t++)
        key = (key ^ (uint64_t)idx[t]) * 1099511628211ULL;
    return key;
}

/* Are (ia, va) and (ib, vb), len entries each, parallel: the same indices and va = r vb to
 * FOLD_PARALLEL_TOL |va| per entry? *r: the ratio. */
static inline bool fold_pattern_parallel(const fold_int *ia, const double *va, const fold_int *ib,
                                         const double *vb, fold_int len, double *r)
{
    *r = va[0] / vb[0];
    if (!isfinite(*r)) return false;
    for (fold_int t = 0; t < len; t++)
        if (ia[t] != ib[t] || fabs(va[t] - *r * vb[t]) > FOLD_PARALLEL_TOL * fabs(va[t]))
            return false;
    return true;
}

#endif
