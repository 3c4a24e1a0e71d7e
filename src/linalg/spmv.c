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
