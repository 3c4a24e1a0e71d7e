/* Input validation, one helper per rule. Each failure records which function, object,
 * field and index is wrong (doc/api/status.md). */
#include "core/core.h"

fold_status fold_check_not_null(const void *ptr, const char *fn, const char *field)
{
    if (!ptr) return fold_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", fn, field);
    return FOLD_OK;
}

fold_status fold_check_finite(const double *v, fold_int n, const char *fn, const char *field)
{
    for (fold_int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return fold_error(FOLD_ERR_NONFINITE, "%s: %s[%lld] = %g is not finite", fn, field,
                              (long long)i, v[i]);
    return FOLD_OK;
}

fold_status fold_check_bounds(const double *lo, const double *hi, fold_int n, const char *fn,
                              const char *field_lo, const char *field_hi)
{
    for (fold_int i = 0; i < n; i++) {
        double l = lo ? lo[i] : -FOLD_INF, u = hi ? hi[i] : FOLD_INF;
        if (isnan(l))
            return fold_error(FOLD_ERR_NONFINITE, "%s: %s[%lld] is NaN", fn, field_lo,
                              (long long)i);
        if (isnan(u))
            return fold_error(FOLD_ERR_NONFINITE, "%s: %s[%lld] is NaN", fn, field_hi,
                              (long long)i);
        if (l >= FOLD_INF_BOUND)
            return fold_error(FOLD_ERR_ARGUMENT, "%s: %s[%lld] = %g is +infinite", fn, field_lo,
                              (long long)i, l);
        if (u <= -FOLD_INF_BOUND)
            return fold_error(FOLD_ERR_ARGUMENT, "%s: %s[%lld] = %g is -infinite", fn, field_hi,
                              (long long)i, u);
        if (l > u)
            return fold_error(FOLD_ERR_ARGUMENT, "%s: %s[%lld] = %g > %s[%lld] = %g", fn, field_lo,
                              (long long)i, l, field_hi, (long long)i, u);
    }
    return FOLD_OK;
}

fold_status fold_check_dim(fold_int value, fold_int min, const char *fn, const char *field)
{
    if (value < min)
        return fold_error(FOLD_ERR_DIMENSION, "%s: %s = %lld, need >= %lld", fn, field,
                          (long long)value, (long long)min);
    return FOLD_OK;
}

typedef struct {
    fold_int row, col, k;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    return x->k < y->k ? -1 : (x->k > y->k);
}

fold_status fold_check_pattern(const fold_pattern *pat, fold_int nrow, fold_int ncol,
                               bool lower_only, const char *fn, const char *field)
{
    entry *e;
    if (pat->nnz < 0)
        return fold_error(FOLD_ERR_SPARSITY, "%s: %s.nnz = %lld is negative", fn, field,
                          (long long)pat->nnz);
    if (pat->nnz == 0) return FOLD_OK;
    if (!pat->row || !pat->col)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s.%s is NULL with nnz = %lld", fn, field,
                          pat->row ? "col" : "row", (long long)pat->nnz);
    for (fold_int k = 0; k < pat->nnz; k++) {
        if (pat->row[k] < 0 || pat->row[k] >= nrow)
            return fold_error(FOLD_ERR_SPARSITY, "%s: %s.row[%lld] = %lld outside [0,%lld)", fn,
                              field, (long long)k, (long long)pat->row[k], (long long)nrow);
        if (pat->col[k] < 0 || pat->col[k] >= ncol)
            return fold_error(FOLD_ERR_SPARSITY, "%s: %s.col[%lld] = %lld outside [0,%lld)", fn,
                              field, (long long)k, (long long)pat->col[k], (long long)ncol);
        if (lower_only && pat->row[k] < pat->col[k])
            return fold_error(FOLD_ERR_SPARSITY,
                              "%s: %s entry %lld = (%lld,%lld) is in the upper triangle", fn, field,
                              (long long)k, (long long)pat->row[k], (long long)pat->col[k]);
    }
    e = fold_malloc((size_t)pat->nnz, sizeof *e, field);
    if (!e) return FOLD_ERR_MEMORY;
    for (fold_int k = 0; k < pat->nnz; k++)
        e[k] = (entry){pat->row[k], pat->col[k], k};
    qsort(e, (size_t)pat->nnz, sizeof *e, entry_cmp);
    for (fold_int k = 1; k < pat->nnz; k++) {
        if (e[k].row == e[k - 1].row && e[k].col == e[k - 1].col) {
            fold_status st = fold_error(
                FOLD_ERR_SPARSITY, "%s: %s entries %lld and %lld are both (%lld,%lld)", fn, field,
                (long long)e[k - 1].k, (long long)e[k].k, (long long)e[k].row, (long long)e[k].col);
            free(e);
            return st;
        }
    }
    free(e);
    return FOLD_OK;
}

fold_status fold_check_csc(fold_int nrow, fold_int ncol, const fold_int *colptr,
                           const fold_int *rowind, const double *values, const char *fn,
                           const char *field)
{
    if (nrow < 0 || ncol < 0)
        return fold_error(FOLD_ERR_DIMENSION, "%s: %s is %lld x %lld", fn, field, (long long)nrow,
                          (long long)ncol);
    if (!colptr) return fold_error(FOLD_ERR_ARGUMENT, "%s: %s.colptr is NULL", fn, field);
    if (colptr[0] != 0)
        return fold_error(FOLD_ERR_SPARSITY, "%s: %s.colptr[0] = %lld, need 0", fn, field,
                          (long long)colptr[0]);
    for (fold_int j = 0; j < ncol; j++)
        if (colptr[j + 1] < colptr[j])
            return fold_error(FOLD_ERR_SPARSITY, "%s: %s.colptr[%lld] = %lld < colptr[%lld] = %lld",
                              fn, field, (long long)(j + 1), (long long)colptr[j + 1], (long long)j,
                              (long long)colptr[j]);
    if (colptr[ncol] > 0 && !rowind)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s.rowind is NULL", fn, field);
    for (fold_int j = 0; j < ncol; j++) {
        for (fold_int k = colptr[j]; k < colptr[j + 1]; k++) {
            if (rowind[k] < 0 || rowind[k] >= nrow)
                return fold_error(FOLD_ERR_SPARSITY, "%s: %s.rowind[%lld] = %lld outside [0,%lld)",
                                  fn, field, (long long)k, (long long)rowind[k], (long long)nrow);
            if (k > colptr[j] && rowind[k] <= rowind[k - 1])
                return fold_error(FOLD_ERR_SPARSITY,
                                  "%s: %s column %lld: rowind[%lld] = %lld %s rowind[%lld] = %lld",
                                  fn, field, (long long)j, (long long)k, (long long)rowind[k],
                                  rowind[k] == rowind[k - 1] ? "duplicates" : "is below",
                                  (long long)(k - 1), (long long)rowind[k - 1]);
            if (values && !isfinite(values[k]))
                return fold_error(FOLD_ERR_NONFINITE, "%s: %s.values[%lld] = %g is not finite", fn,
                                  field, (long long)k, values[k]);
        }
    }
    return FOLD_OK;
}

fold_status fold_check_index_list(const fold_int *idx, fold_int count, fold_int limit,
                                  const char *fn, const char *field)
{
    unsigned char *seen;
    if (count < 0 || count > limit)
        return fold_error(FOLD_ERR_DIMENSION, "%s: %s has %lld entries, need 0..%lld", fn, field,
                          (long long)count, (long long)limit);
    if (!idx) return FOLD_OK;
    seen = fold_calloc((size_t)(limit > 0 ? limit : 1), 1, field);
    if (!seen) return FOLD_ERR_MEMORY;
    for (fold_int k = 0; k < count; k++) {
        if (idx[k] < 0 || idx[k] >= limit) {
            free(seen);
            return fold_error(FOLD_ERR_ARGUMENT, "%s: %s[%lld] = %lld outside [0,%lld)", fn, field,
                              (long long)k, (long long)idx[k], (long long)limit);
        }
        if (seen[idx[k]]) {
            free(seen);
            return fold_error(FOLD_ERR_ARGUMENT, "%s: %s[%lld] = %lld is repeated", fn, field,
                              (long long)k, (long long)idx[k]);
        }
        seen[idx[k]] = 1;
    }
    free(seen);
    return FOLD_OK;
}
