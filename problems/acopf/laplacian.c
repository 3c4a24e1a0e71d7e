/* Weighted graph Laplacians solved by Jacobi-preconditioned conjugate gradients
 * (laplacian.h). */
#include "acopf/laplacian.h"

void acopf_lap_diag(acopf_laplacian *A)
{
    const fold_acopf_case *cs = A->cs;
    for (fold_int i = 0; i < cs->n_bus; i++)
        A->diag[i] = A->shift ? A->shift[i] : 0;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        A->diag[cs->branch[k].f] += A->w[k];
        A->diag[cs->branch[k].t] += A->w[k];
    }
}

/* y = A x; x is zero on the fixed buses and so is y. */
static void lap_apply(const acopf_laplacian *A, const double *x, double *y)
{
    const fold_acopf_case *cs = A->cs;
    for (fold_int i = 0; i < cs->n_bus; i++)
        y[i] = A->shift ? A->shift[i] * x[i] : 0;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        fold_int f = cs->branch[k].f, t = cs->branch[k].t;
        double d = A->w[k] * (x[f] - x[t]);
        y[f] += d;
        y[t] -= d;
    }
    for (fold_int i = 0; i < cs->n_bus; i++)
        if (A->fixed[i]) y[i] = 0;
}

void acopf_lap_solve(const acopf_laplacian *A, const double *b, double rtol, double *x,
                     double *work)
{
    fold_int n = A->cs->n_bus;
    double *r = work, *d = work + n, *q = work + 2 * n;
    double rz = 0, bb = 0;
    for (fold_int i = 0; i < n; i++) {
        x[i] = 0;
        r[i] = A->fixed[i] ? 0 : b[i];
        d[i] = r[i] / A->diag[i];
        rz += r[i] * d[i];
        bb += r[i] * r[i];
    }
    double rr = bb;
    for (fold_int it = 0; it < 10 * n + 100 && rr > rtol * rtol * bb; it++) {
        lap_apply(A, d, q);
        double dq = 0;
        for (fold_int i = 0; i < n; i++)
            dq += d[i] * q[i];
        double alpha = rz / dq, rz_new = 0;
        rr = 0;
        for (fold_int i = 0; i < n; i++) {
            x[i] += alpha * d[i];
            r[i] -= alpha * q[i];
            rr += r[i] * r[i];
            rz_new += r[i] * r[i] / A->diag[i];
        }
        for (fold_int i = 0; i < n; i++)
            d[i] = r[i] / A->diag[i] + rz_new / rz * d[i];
        rz = rz_new;
    }
}
