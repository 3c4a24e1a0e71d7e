/* Fixtures of the iterative-fold tests: dense random maps and strongly convex QPs
 * f(x; p) = x'Qx/2 + (q + B p)'x with their callbacks (doc/iterative.md). */
#ifndef FOLD_ITER_FIXTURES_H
#define FOLD_ITER_FIXTURES_H

#include "test_support.h"

typedef struct dense_map {
    long nz, np;
    double *phi; /* nz x nz column-major */
    double *psi; /* nz x np */
} dense_map;

static inline void dense_mv(const double *M, long nr, long nc, bool tr, const double *v,
                            double *out)
{
    for (long i = 0; i < (tr ? nc : nr); i++)
        out[i] = 0;
    for (long j = 0; j < nc; j++)
        for (long i = 0; i < nr; i++) {
            if (tr)
                out[j] += M[i + j * nr] * v[i];
            else
                out[i] += M[i + j * nr] * v[j];
        }
}

static inline int dm_phi(const double *v, double *out, void *ud)
{
    dense_map *m = ud;
    dense_mv(m->phi, m->nz, m->nz, false, v, out);
    return 0;
}
static inline int dm_phit(const double *v, double *out, void *ud)
{
    dense_map *m = ud;
    dense_mv(m->phi, m->nz, m->nz, true, v, out);
    return 0;
}
static inline int dm_psi(const double *v, double *out, void *ud)
{
    dense_map *m = ud;
    dense_mv(m->psi, m->nz, m->np, false, v, out);
    return 0;
}
static inline int dm_psit(const double *v, double *out, void *ud)
{
    dense_map *m = ud;
    dense_mv(m->psi, m->nz, m->np, true, v, out);
    return 0;
}
static inline int dm_diag(double *d, void *ud)
{
    dense_map *m = ud;
    for (long i = 0; i < m->nz; i++)
        d[i] = m->phi[i + i * m->nz];
    return 0;
}

/* The fold map of dm by its products alone (no diagonal, no assembled matrix). */
static inline fold_map_def dense_map_def(dense_map *dm, const char *name, bool sym)
{
    fold_map_def d = {0};
    d.name = name;
    d.nz = dm->nz;
    d.np = dm->np;
    d.phi_v = dm_phi;
    d.phit_v = dm_phit;
    d.psi_v = dm_psi;
    d.psit_v = dm_psit;
    d.is_symmetric = sym;
    d.user_data = dm;
    return d;
}

/* Random Phi with ||Phi||_F = rho (so spectral radius <= rho), symmetric when asked. */
static inline void dense_map_init(dense_map *m, long nz, long np, double rho, bool sym,
                                  unsigned long long seed)
{
    fold_test_rng r;
    double fro = 0;
    fold_test_rng_seed(&r, seed);
    m->nz = nz;
    m->np = np;
    m->phi = calloc((size_t)(nz * nz), sizeof(double));
    m->psi = calloc((size_t)(nz * np) + 1, sizeof(double));
    for (long j = 0; j < nz; j++)
        for (long i = 0; i < nz; i++)
            m->phi[i + j * nz] = fold_test_normal(&r);
    if (sym)
        for (long j = 0; j < nz; j++)
            for (long i = 0; i < j; i++)
                m->phi[i + j * nz] = m->phi[j + i * nz];
    for (long k = 0; k < nz * nz; k++)
        fro += m->phi[k] * m->phi[k];
    for (long k = 0; k < nz * nz; k++)
        m->phi[k] *= rho / sqrt(fro);
    for (long k = 0; k < nz * np; k++)
        m->psi[k] = fold_test_normal(&r);
}

static inline void dense_map_free(dense_map *m)
{
    free(m->phi);
    free(m->psi);
}

/* Dense column-major matrix -> CSC arrays (all entries with |a| > 0). Caller frees. */
static inline void dense_to_csc(const double *M, long nr, long nc, fold_int **cp, fold_int **ri,
                                double **vx)
{
    long nnz = 0;
    *cp = malloc((size_t)(nc + 1) * sizeof(fold_int));
    *ri = malloc((size_t)(nr * nc + 1) * sizeof(fold_int));
    *vx = malloc((size_t)(nr * nc + 1) * sizeof(double));
    (*cp)[0] = 0;
    for (long j = 0; j < nc; j++) {
        for (long i = 0; i < nr; i++)
            if (M[i + j * nr] != 0) {
                (*ri)[nnz] = i;
                (*vx)[nnz++] = M[i + j * nr];
            }
        (*cp)[j + 1] = nnz;
    }
}

/* QP f = x'Qx/2 + (q + Bp)'x with Q = V diag(lam) V' (V from Householder reflections). */
typedef struct qp {
    long n, np;
    double *Q, *B, *q;
} qp;

static inline void qp_init(qp *P, long n, long np, double kappa, unsigned long long seed)
{
    fold_test_rng r;
    double *u = malloc((size_t)n * sizeof(double));
    fold_test_rng_seed(&r, seed);
    P->n = n;
    P->np = np;
    P->Q = calloc((size_t)(n * n), sizeof(double));
    P->B = malloc((size_t)(n * np) * sizeof(double) + 8);
    P->q = malloc((size_t)n * sizeof(double));
    for (long i = 0; i < n; i++)
        P->Q[i + i * n] = n > 1 ? 1 + (kappa - 1) * (double)i / (double)(n - 1) : 1;
    for (int h = 0; h < 2; h++) { /* Q <- (I - 2uu') Q (I - 2uu') */
        double nu = 0;
        for (long i = 0; i < n; i++) {
            u[i] = fold_test_normal(&r);
            nu += u[i] * u[i];
        }
        for (long i = 0; i < n; i++)
            u[i] /= sqrt(nu);
        for (long j = 0; j < n; j++) { /* left */
            double s = 0;
            for (long i = 0; i < n; i++)
                s += u[i] * P->Q[i + j * n];
            for (long i = 0; i < n; i++)
                P->Q[i + j * n] -= 2 * u[i] * s;
        }
        for (long i = 0; i < n; i++) { /* right */
            double s = 0;
            for (long j = 0; j < n; j++)
                s += P->Q[i + j * n] * u[j];
            for (long j = 0; j < n; j++)
                P->Q[i + j * n] -= 2 * s * u[j];
        }
    }
    for (long k = 0; k < n * np; k++)
        P->B[k] = fold_test_normal(&r);
    for (long i = 0; i < n; i++)
        P->q[i] = 2 * fold_test_normal(&r);
    free(u);
}

static inline void qp_free(qp *P)
{
    free(P->Q);
    free(P->B);
    free(P->q);
}

static inline int qp_grad(const double *x, const double *p, double *g, void *ud)
{
    qp *P = ud;
    double *t = malloc((size_t)P->n * sizeof(double));
    dense_mv(P->Q, P->n, P->n, false, x, g);
    dense_mv(P->B, P->n, P->np, false, p, t);
    for (long i = 0; i < P->n; i++)
        g[i] += P->q[i] + t[i];
    free(t);
    return 0;
}
static inline int qp_hess_v(const double *x, const double *p, const double *v, double *out,
                            void *ud)
{
    qp *P = ud;
    dense_mv(P->Q, P->n, P->n, false, v, out);
    return 0;
}
static inline int qp_cross_v(const double *x, const double *p, const double *dp, double *out,
                             void *ud)
{
    qp *P = ud;
    dense_mv(P->B, P->n, P->np, false, dp, out);
    return 0;
}
static inline int qp_cross_t_v(const double *x, const double *p, const double *w, double *out,
                               void *ud)
{
    qp *P = ud;
    dense_mv(P->B, P->n, P->np, true, w, out);
    return 0;
}

static inline fold_objective qp_objective(qp *P)
{
    fold_objective o = {P->n, P->np, qp_grad, qp_hess_v, qp_cross_v, qp_cross_t_v, P};
    return o;
}

#endif
