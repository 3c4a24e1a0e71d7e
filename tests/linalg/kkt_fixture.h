/* Fixtures shared by the linalg test programs: triplet lists, random KKT matrices
 * [[H, J'], [J, 0]] of several kinds, dense copies and independent residuals. */
#ifndef FOLD_TEST_KKT_FIXTURE_H
#define FOLD_TEST_KKT_FIXTURE_H

#include "linalg/linalg.h"
#include "test_support.h"

/* Growable triplet list. */
typedef struct {
    fold_int n, cap;
    fold_int *r, *c;
    double *v;
} trip;

static inline void trip_add(trip *t, fold_int r, fold_int c, double v)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->r = realloc(t->r, (size_t)t->cap * sizeof *t->r);
        t->c = realloc(t->c, (size_t)t->cap * sizeof *t->c);
        t->v = realloc(t->v, (size_t)t->cap * sizeof *t->v);
    }
    t->r[t->n] = r;
    t->c[t->n] = c;
    t->v[t->n++] = v;
}

static inline void trip_sym(trip *t, fold_int r, fold_int c, double v)
{
    trip_add(t, r, c, v);
    if (r != c) trip_add(t, c, r, v);
}

static inline void trip_free(trip *t)
{
    free(t->r);
    free(t->c);
    free(t->v);
}

enum { H_SPD, H_INDEF, H_SINGULAR_J, H_NOT_QD };

/* KKT [[H, J'], [J, 0]] of size n + m as full-storage triplets (with duplicates). */
static inline void make_kkt(trip *t, fold_test_rng *rng, fold_int n, fold_int m, int type)
{
    if (type == H_NOT_QD) {
        /* H = diag(-1 on the first m, +1 on the rest), J = [I C] with ||C|| small:
         * H is positive definite on null(J) = {(-C y, y)}, so A is nonsingular, but every
         * ordering that eliminates a leaf primal x_i (i < m) first meets the pivot -1. */
        for (fold_int i = 0; i < n; i++)
            trip_sym(t, i, i, i < m ? -1.0 : 1.0 + fold_test_uniform(rng));
        for (fold_int r = 0; r < m; r++) {
            trip_sym(t, n + r, r, 1.0);
            for (fold_int j = m; j < n; j++)
                if (fold_test_uniform(rng) < 0.3)
                    trip_sym(t, n + r, j, 0.05 * fold_test_normal(rng));
        }
        return;
    }
    double *rowsum = calloc((size_t)n, sizeof *rowsum);
    for (fold_int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            fold_int j = (fold_int)(fold_test_uniform(rng) * (double)n);
            if (j == i) continue;
            double v = fold_test_normal(rng);
            trip_sym(t, i, j, v);
            rowsum[i] += fabs(v);
            rowsum[j] += fabs(v);
        }
    }
    for (fold_int i = 0; i < n; i++) /* SPD: strictly diagonally dominant with margin 1 */
        trip_sym(t, i, i, type == H_INDEF ? 2 * fold_test_uniform(rng) - 1.0 : rowsum[i] + 1.0);
    free(rowsum);
    for (fold_int r = 0; r < m; r++) {
        fold_int rr = type == H_SINGULAR_J && r == m - 1 ? 0 : r; /* copy of row 0 */
        fold_test_rng local;
        fold_test_rng_seed(&local, 1000 + (unsigned long long)rr);
        trip_sym(t, n + r, rr * (n / m), 2.0 + fold_test_uniform(&local));
        for (int k = 0; k < 3; k++) {
            fold_int j = (fold_int)(fold_test_uniform(&local) * (double)n);
            trip_sym(t, n + r, j, fold_test_normal(&local));
        }
    }
}

static inline fold_la_assembly *assemble(trip *t, fold_int dim, int stype, cholmod_common *cm)
{
    fold_la_assembly *as = NULL;
    ck_assert_status(fold_la_assembly_create(dim, dim, t->n, t->r, t->c, stype, cm, &as), FOLD_OK);
    fold_la_assembly_fill(as, t->v);
    return as;
}

/* Dense copy (column-major) of a full-storage matrix. */
static inline double *to_dense(const cholmod_sparse *A)
{
    size_t nr = A->nrow, nc = A->ncol;
    double *D = calloc(nr * nc, sizeof *D);
    const fold_int *p = A->p, *i = A->i;
    const double *x = A->x;
    for (size_t j = 0; j < nc; j++)
        for (fold_int q = p[j]; q < p[j + 1]; q++)
            D[i[q] + j * nr] = x[q];
    return D;
}

/* ||op(A) x - b||_inf / (||op(A)||_inf ||x||_inf + ||b||_inf), independently of the library. */
static inline double dense_residual(const double *D, fold_int n, bool tr, const double *x,
                                    const double *b)
{
    double rn = 0, an = 0, xn = 0, bn = 0;
    for (fold_int i = 0; i < n; i++) {
        double s = 0, a = 0;
        for (fold_int j = 0; j < n; j++) {
            double dij = tr ? D[j + i * n] : D[i + j * n];
            s += dij * x[j];
            a += fabs(dij);
        }
        rn = fmax(rn, fabs(s - b[i]));
        an = fmax(an, a);
        xn = fmax(xn, fabs(x[i]));
        bn = fmax(bn, fabs(b[i]));
    }
    return rn / (an * xn + bn);
}

/* Solve A X = B and A' X = B with 3 right-hand sides; check the residual independently. */
static inline void check_solves(fold_la_factor *F, const cholmod_sparse *A, fold_test_rng *rng,
                                double tol)
{
    fold_int n = (fold_int)A->nrow, nrhs = 3;
    double *B = malloc((size_t)(n * nrhs) * sizeof *B), *X = malloc((size_t)(n * nrhs) * sizeof *X);
    double *D = to_dense(A);
    for (int tr = 0; tr < 2; tr++) {
        for (fold_int k = 0; k < n * nrhs; k++)
            B[k] = fold_test_normal(rng);
        double res = -1;
        ck_assert_status(fold_la_factor_solve(F, tr, nrhs, B, X, 5, tol, &res), FOLD_OK);
        ck_assert_double_le(res, tol);
        for (fold_int c = 0; c < nrhs; c++) {
            double r = dense_residual(D, n, tr, X + c * n, B + c * n);
            ck_assert_msg(r <= tol, "transpose %d column %lld: residual %g", tr, (long long)c, r);
            ck_assert_double_le(r, res * 1.01 + 1e-300);
        }
    }
    free(B);
    free(X);
    free(D);
}

#endif
