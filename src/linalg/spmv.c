/* Sparse matrix-vector products with a full-storage (stype 0) cholmod_sparse, and the
 * residual of the refinement with its componentwise scale (doc/math.md §4.3). */
#include "linalg/linalg.h"

void fold_la_spmv_abs(const cholmod_sparse *A, bool transpose, const double *x, double *y)
{
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    fold_int ncol = (fold_int)A->ncol, nrow = (fold_int)A->nrow;
    if (!transpose) {
        memset(y, 0, (size_t)nrow * sizeof *y);
        for (fold_int j = 0; j < ncol; j++) {
            double xj = fabs(x[j]);
            for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
                y[Ai[q]] += fabs(Ax[q]) * xj;
        }
    } else {
        for (fold_int j = 0; j < ncol; j++) {
            double s = 0.0;
            for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
                s += fabs(Ax[q]) * fabs(x[Ai[q]]);
            y[j] = s;
        }
    }
}

void fold_la_spmv(const cholmod_sparse *A, bool transpose, const double *x, double *y,
                  bool accumulate)
{
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    fold_int ncol = (fold_int)A->ncol, nrow = (fold_int)A->nrow;
    if (!transpose) {
        if (!accumulate) memset(y, 0, (size_t)nrow * sizeof *y);
        for (fold_int j = 0; j < ncol; j++) {
            double xj = x[j];
            for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
                y[Ai[q]] += Ax[q] * xj;
        }
    } else {
        for (fold_int j = 0; j < ncol; j++) {
            double s = 0.0;
            for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
                s += Ax[q] * x[Ai[q]];
            y[j] = accumulate ? y[j] + s : s;
        }
    }
}

void fold_la_residual(const cholmod_sparse *A, bool transpose, const double *x, const double *b,
                      double *r, double *w)
{
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    fold_int ncol = (fold_int)A->ncol, nrow = (fold_int)A->nrow;
    if (!transpose) {
        memcpy(r, b, (size_t)nrow * sizeof *r);
        memset(w, 0, (size_t)nrow * sizeof *w);
        for (fold_int j = 0; j < ncol; j++) {
            double xj = x[j];
            for (fold_int q = Ap[j]; q < Ap[j + 1]; q++) {
                double t = Ax[q] * xj;
                r[Ai[q]] -= t;
                w[Ai[q]] += fabs(t);
            }
        }
    } else {
        for (fold_int j = 0; j < ncol; j++) {
            double s = 0.0, a = 0.0;
            for (fold_int q = Ap[j]; q < Ap[j + 1]; q++) {
                double t = Ax[q] * x[Ai[q]];
                s += t;
                a += fabs(t);
            }
            r[j] = b[j] - s;
            w[j] = a;
        }
    }
}

/* |a - b| beyond rtol of the larger. */
static bool asym(double a, double b, double rtol)
{
    return fabs(a - b) > rtol * fmax(fabs(a), fabs(b));
}

/* One pass with a cursor per column (A sorted): entry (i,j) above the diagonal is matched
 * with the next unmatched entry below the diagonal of column i. */
bool fold_la_symmetric(const cholmod_sparse *A, double rtol, fold_int *cur, fold_int *bi,
                       fold_int *bj)
{
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    fold_int n = (fold_int)A->ncol;
    for (fold_int j = 0; j < n; j++) {
        fold_int q = Ap[j];
        while (q < Ap[j + 1] && Ai[q] <= j)
            q++;
        cur[j] = q; /* first entry below the diagonal */
    }
    for (fold_int j = 0; j < n; j++) {
        for (fold_int q = Ap[j]; q < Ap[j + 1] && Ai[q] < j; q++) {
            fold_int i = Ai[q];
            /* Entries of column i below the diagonal and above row j have no partner. */
            for (; cur[i] < Ap[i + 1] && Ai[cur[i]] < j; cur[i]++)
                if (asym(Ax[cur[i]], 0.0, rtol)) {
                    *bi = Ai[cur[i]], *bj = i;
                    return false;
                }
            double b = 0.0;
            if (cur[i] < Ap[i + 1] && Ai[cur[i]] == j) b = Ax[cur[i]++];
            if (asym(Ax[q], b, rtol)) {
                *bi = i, *bj = j;
                return false;
            }
        }
    }
    for (fold_int i = 0; i < n; i++)
        for (fold_int q = cur[i]; q < Ap[i + 1]; q++)
            if (asym(Ax[q], 0.0, rtol)) {
                *bi = Ai[q], *bj = i;
                return false;
            }
    return true;
}
