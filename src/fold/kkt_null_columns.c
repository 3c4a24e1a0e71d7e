/* Null directions of K seen in its entries before any factorization (doc/math.md §4.8,
 * eq. 4.12b): two columns of K that are parallel, a_j = r a_k, leave the null vector
 * e_j - r e_k. Two variables that enter the problem identically (generators sharing a bus
 * whose reactive powers neither the cost nor the losses depend on: zero Hessian columns and
 * the same single entry in the bus's balance row) are the case of the AC-OPF; a column
 * without a nonzero is one too. Counting them lets the factorization expect a singular K and
 * factor the regularized matrix at once, instead of after a factorization of K that meets a
 * zero pivot. Parallel rows of the active constraints are found with their consequences by
 * kkt_structural.c; here they count again, which changes nothing. */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

/* Columns parallel to within this relative difference per entry (as kkt_structural.c's). */
#define PARALLEL_TOL 1e-9
/* Columns sharing a row pattern compared with at most this many earlier ones. */
#define MAX_GROUP 64

typedef struct col_view {
    fold_int col, start, count; /* its nonzeros: nz[start .. start + count) */
    uint64_t key;               /* hash of their rows */
} col_view;

static int cmp_col(const void *a, const void *b)
{
    const col_view *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

/* Are columns a and b (as many nonzeros) parallel: the same rows, a constant ratio? nz: the
 * positions in K of the columns' nonzeros. */
static bool parallel(const fold_la_sparse *K, const fold_int *nz, const col_view *a,
                     const col_view *b)
{
    const fold_int *Ki = K->i;
    const double *Kx = K->x;
    double r = Kx[nz[b->start]] / Kx[nz[a->start]];
    if (!isfinite(r)) return false;
    for (fold_int k = 0; k < a->count; k++) {
        fold_int p = nz[a->start + k], q = nz[b->start + k];
        if (Ki[p] != Ki[q]) return false;
        if (fabs(Kx[q] - r * Kx[p]) > PARALLEL_TOL * fmax(fabs(Kx[q]), fabs(r * Kx[p])))
            return false;
    }
    return true;
}

fold_int fold_kkt_null_columns(const fold_kkt *kkt)
{
    const fold_la_sparse *K = fold_kkt_matrix(kkt);
    if (!K || fold_kkt_product_active(kkt) || kkt->sys.nK == 0) return 0;
    const fold_int *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    fold_int nK = kkt->sys.nK, nv = 0, n_null = 0, at = 0;
    col_view *v = fold_malloc((size_t)nK, sizeof *v, "null column views");
    fold_int *nz = fold_malloc((size_t)Kp[nK] + 1, sizeof *nz, "null column entries");
    if (!v || !nz) {
        free(v);
        free(nz);
        fold_clear_error(); /* only a saving: the factorization finds the zero pivot */
        return 0;
    }
    for (fold_int j = 0; j < nK; j++) {
        uint64_t key = 1469598103934665603ULL; /* FNV-1a over the rows of the nonzeros */
        fold_int start = at;
        for (fold_int q = Kp[j]; q < Kp[j + 1]; q++)
            if (Kx[q] != 0.0) { /* a stored zero (an explicit diagonal) is no entry */
                nz[at++] = q;
                key = (key ^ (uint64_t)Ki[q]) * 1099511628211ULL;
            }
        if (at == start)
            n_null++; /* a zero column */
        else
            v[nv++] = (col_view){j, start, at - start, key};
    }
    qsort(v, (size_t)nv, sizeof *v, cmp_col);
    /* a column parallel to an earlier one of its run adds one null direction */
    for (fold_int a = 0; a < nv; a++)
        for (fold_int b = a - 1;
             b >= 0 && b >= a - MAX_GROUP && v[b].count == v[a].count && v[b].key == v[a].key; b--)
            if (parallel(K, nz, &v[b], &v[a])) {
                n_null++;
                break;
            }
    free(v);
    free(nz);
    return n_null;
}
