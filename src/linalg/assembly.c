/* Triplets -> sorted, packed CSC (cholmod_sparse) with a scatter map, so that new values
 * with the same pattern are placed in O(nnz). Duplicates are summed; stype -1 keeps the
 * lower triangle, mirroring entries given above the diagonal. doc/math.md §4. */
#include "linalg/linalg.h"

static fold_status assembly_validate(fold_int nrow, fold_int ncol, fold_int n_triplets,
                                     const fold_int *row, const fold_int *col, int stype,
                                     const cholmod_common *cm, fold_la_assembly **out)
{
    const char *fn = "fold_la_assembly_create";
    fold_status st;
    if ((st = fold_check_not_null(out, fn, "out")) || (st = fold_check_not_null(cm, fn, "cm")))
        return st;
    if ((st = fold_check_dim(nrow, 0, fn, "nrow")) || (st = fold_check_dim(ncol, 0, fn, "ncol")) ||
        (st = fold_check_dim(n_triplets, 0, fn, "n_triplets")))
        return st;
    if (stype != 0 && stype != -1)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: stype = %d, must be 0 or -1", fn, stype);
    if (stype == -1 && nrow != ncol)
        return fold_error(FOLD_ERR_DIMENSION, "%s: stype -1 needs a square matrix, got %lld x %lld",
                          fn, (long long)nrow, (long long)ncol);
    if (n_triplets > 0 &&
        ((st = fold_check_not_null(row, fn, "row")) || (st = fold_check_not_null(col, fn, "col"))))
        return st;
    for (fold_int k = 0; k < n_triplets; k++) {
        if (row[k] < 0 || row[k] >= nrow)
            return fold_error(FOLD_ERR_SPARSITY, "%s: row[%lld] = %lld outside [0,%lld)", fn,
                              (long long)k, (long long)row[k], (long long)nrow);
        if (col[k] < 0 || col[k] >= ncol)
            return fold_error(FOLD_ERR_SPARSITY, "%s: col[%lld] = %lld outside [0,%lld)", fn,
                              (long long)k, (long long)col[k], (long long)ncol);
    }
    return FOLD_OK;
}

fold_status fold_la_assembly_create(fold_int nrow, fold_int ncol, fold_int n_triplets,
                                    const fold_int *row, const fold_int *col, int stype,
                                    cholmod_common *cm, fold_la_assembly **out)
{
    fold_status st = assembly_validate(nrow, ncol, n_triplets, row, col, stype, cm, out);
    if (st) return st;
    *out = NULL;
    fold_la_assembly *as = fold_calloc(1, sizeof *as, "assembly");
    fold_int *cnt = fold_calloc((size_t)(nrow > ncol ? nrow : ncol) + 1, sizeof *cnt, "counts");
    fold_int *ord1 = fold_malloc((size_t)n_triplets, sizeof *ord1, "triplet order");
    fold_int *ord2 = fold_malloc((size_t)n_triplets, sizeof *ord2, "triplet order");
    fold_int *colnnz = fold_calloc((size_t)ncol + 1, sizeof *colnnz, "column counts");
    if (!as || !cnt || !ord1 || !ord2 || !colnnz) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    as->n_triplets = n_triplets;
    as->map = fold_malloc((size_t)n_triplets, sizeof *as->map, "assembly map");
    if (!as->map) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
#define ROW_OF(k) ((stype == -1 && row[k] < col[k]) ? col[k] : row[k])
#define COL_OF(k) ((stype == -1 && row[k] < col[k]) ? row[k] : col[k])
    /* Two stable counting sorts (by row, then by column) order triplets by (col, row). */
    for (fold_int k = 0; k < n_triplets; k++)
        cnt[ROW_OF(k) + 1]++;
    for (fold_int i = 0; i < nrow; i++)
        cnt[i + 1] += cnt[i];
    for (fold_int k = 0; k < n_triplets; k++)
        ord1[cnt[ROW_OF(k)]++] = k;
    memset(cnt, 0, ((size_t)(nrow > ncol ? nrow : ncol) + 1) * sizeof *cnt);
    for (fold_int k = 0; k < n_triplets; k++)
        cnt[COL_OF(k) + 1]++;
    for (fold_int j = 0; j < ncol; j++)
        cnt[j + 1] += cnt[j];
    for (fold_int t = 0; t < n_triplets; t++)
        ord2[cnt[COL_OF(ord1[t])]++] = ord1[t];
    /* Unique entries: position of each triplet in the packed value array. */
    fold_int nnz = 0, prev_r = -1, prev_c = -1;
    for (fold_int t = 0; t < n_triplets; t++) {
        fold_int k = ord2[t], r = ROW_OF(k), c = COL_OF(k);
        if (r != prev_r || c != prev_c) {
            ord1[nnz] = r; /* ord1 is reused as the row index of unique entry nnz */
            colnnz[c + 1]++;
            nnz++;
            prev_r = r;
            prev_c = c;
        }
        as->map[k] = nnz - 1;
    }
#undef ROW_OF
#undef COL_OF
    as->A = cholmod_l_allocate_sparse((size_t)nrow, (size_t)ncol, (size_t)nnz, 1, 1, stype,
                                      CHOLMOD_REAL, cm);
    if (!as->A) {
        st = fold_error_context(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                    : FOLD_ERR_INTERNAL,
                                "fold_la_assembly_create");
        goto done;
    }
    fold_int *Ap = as->A->p, *Ai = as->A->i;
    Ap[0] = 0;
    for (fold_int j = 0; j < ncol; j++)
        Ap[j + 1] = Ap[j] + colnnz[j + 1];
    for (fold_int q = 0; q < nnz; q++)
        Ai[q] = ord1[q];
    memset(as->A->x, 0, (size_t)(nnz > 0 ? nnz : 1) * sizeof(double));
done:
    free(cnt);
    free(ord1);
    free(ord2);
    free(colnnz);
    if (st) {
        fold_la_assembly_free(as, cm);
        return st;
    }
    *out = as;
    return FOLD_OK;
}

void fold_la_assembly_fill(fold_la_assembly *as, const double *values)
{
    double *x = as->A->x;
    fold_int nnz = as->A->nzmax > 0 ? ((fold_int *)as->A->p)[as->A->ncol] : 0;
    memset(x, 0, (size_t)nnz * sizeof *x);
    for (fold_int k = 0; k < as->n_triplets; k++)
        x[as->map[k]] += values[k];
}

void fold_la_assembly_free(fold_la_assembly *as, cholmod_common *cm)
{
    if (!as) return;
    if (as->A) cholmod_l_free_sparse(&as->A, cm);
    free(as->map);
    free(as);
}
