/* Null directions of K seen in its entries before any factorization (doc/math.md §4.8,
 * eq. 4.12b): two columns of K that are parallel, a_j = r a_k, leave the null vector
 * e_j - r e_k. Two variables that enter the problem identically (generators sharing a bus
 * whose reactive powers neither the cost nor the losses depend on: zero Hessian columns and
 * the same single entry in the bus's balance row) are the case of the AC-OPF; a column
 * without a nonzero is one too. Counting them lets the factorization expect a singular K and
 * factor the regularized matrix at once, instead of after a factorization of K that meets a
 * zero pivot. Parallel rows of the active constraints are found with their consequences by
 * kkt_structural.c; here they count again, which changes nothing. The pairs found are also
 * the pins of eq. 4.12c: the linear algebra factors K with them pinned when they hold to
 * rounding and are all of K's null directions (src/linalg/factor_pin.c). */
#include "fold/fold_internal.h"
#include "fold/kkt_pattern.h"
#include "fold/kkt_product.h"

/* Columns sharing a row pattern compared with at most this many earlier ones. */
#define MAX_GROUP 64

typedef struct col_view {
    fold_int col, start, count; /* its nonzeros: rows[start .. start + count), vals too */
    uint64_t key;               /* fold_pattern_key of their rows */
} col_view;

static int cmp_col(const void *a, const void *b)
{
    const col_view *x = a, *y = b;
    if (x->count != y->count) return x->count < y->count ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

fold_int fold_kkt_null_columns(const fold_kkt *kkt, fold_kkt_pins *pins)
{
    const fold_la_sparse *K = fold_kkt_matrix(kkt);
    if (!K || fold_kkt_product_active(kkt) || kkt->sys.nK == 0) return 0;
    const fold_int *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    fold_int nK = kkt->sys.nK, nv = 0, n_null = 0, at = 0;
    col_view *v = fold_malloc((size_t)nK, sizeof *v, "null column views");
    fold_int *rows = fold_malloc((size_t)Kp[nK] + 1, sizeof *rows, "null column entries");
    double *vals = fold_malloc((size_t)Kp[nK] + 1, sizeof *vals, "null column entries");
    if (pins) {
        pins->n = 0;
        pins->col = fold_malloc((size_t)nK, sizeof *pins->col, "pinned columns");
        pins->partner = fold_malloc((size_t)nK, sizeof *pins->partner, "pinned columns");
        pins->ratio = fold_malloc((size_t)nK, sizeof *pins->ratio, "pinned columns");
    }
    if (!v || !rows || !vals || (pins && (!pins->col || !pins->partner || !pins->ratio))) {
        free(v);
        free(rows);
        free(vals);
        if (pins) fold_kkt_pins_free(pins);
        fold_clear_error(); /* only a saving: the factorization finds the zero pivot */
        return 0;
    }
    for (fold_int j = 0; j < nK; j++) {
        fold_int start = at;
        for (fold_int q = Kp[j]; q < Kp[j + 1]; q++)
            if (Kx[q] != 0.0) { /* a stored zero (an explicit diagonal) is no entry */
                rows[at] = Ki[q];
                vals[at++] = Kx[q];
            }
        if (at == start) { /* a zero column */
            if (pins) {
                pins->col[pins->n] = j;
                pins->partner[pins->n] = -1;
                pins->ratio[pins->n++] = 0.0;
            }
            n_null++;
        } else
            v[nv++] = (col_view){j, start, at - start, fold_pattern_key(rows + start, at - start)};
    }
    qsort(v, (size_t)nv, sizeof *v, cmp_col);
    /* a column parallel to an earlier one of its run adds one null direction */
    for (fold_int a = 0; a < nv; a++)
        for (fold_int b = a - 1;
             b >= 0 && b >= a - MAX_GROUP && v[b].count == v[a].count && v[b].key == v[a].key;
             b--) {
            double r;
            if (fold_pattern_parallel(rows + v[a].start, vals + v[a].start, rows + v[b].start,
                                      vals + v[b].start, v[a].count, &r)) {
                if (pins) {
                    pins->col[pins->n] = v[a].col;
                    pins->partner[pins->n] = v[b].col;
                    pins->ratio[pins->n++] = r;
                }
                n_null++;
                break;
            }
        }
    free(v);
    free(rows);
    free(vals);
    return n_null;
}

void fold_kkt_pins_free(fold_kkt_pins *pins)
{
    free(pins->col);
    free(pins->partner);
    free(pins->ratio);
    *pins = (fold_kkt_pins){0};
}
