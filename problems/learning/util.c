/* Shared helpers of the learning tasks: error detail, seeded generator, dense Cholesky,
 * power iteration, wall clock (doc/learning.md §1). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/random.h"
#include "learning/learning.h"

static const char *const backward_names[] = {"direct", "lfpi", "gmres", "unroll"};

int learn_backward_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, backward_names[i])) return i;
    return -1;
}

const char *learn_backward_name(int backward)
{
    return backward >= 0 && backward < 4 ? backward_names[backward] : "unknown";
}

void learn_rng_seed(learn_rng *r, uint64_t seed)
{
    r->state = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
}

double learn_uniform(learn_rng *r)
{
    return rng_unit(rng_splitmix64(&r->state));
}

double learn_normal(learn_rng *r)
{
    double u1 = learn_uniform(r), u2 = learn_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void learn_synthetic_costs(learn_rng *rng, fold_int n, fold_int nf, fold_int ns, int deg,
                           double noise, double *B, double *feat, double *target)
{
    for (fold_int j = 0; j < n * nf; j++)
        B[j] = learn_normal(rng);
    for (fold_int s = 0; s < ns; s++) {
        double *z = feat + s * nf;
        for (fold_int j = 0; j < nf; j++)
            z[j] = learn_normal(rng);
        for (fold_int r = 0; r < n; r++) {
            double a = 0;
            for (fold_int j = 0; j < nf; j++)
                a += B[r * nf + j] * z[j];
            target[s * n + r] = pow(a / sqrt((double)nf) + 3, deg) / pow(3, deg) *
                                (1 + noise * (2 * learn_uniform(rng) - 1));
        }
    }
}

fold_status learn_chol_factor(double *A, fold_int n)
{
    /* A = L L' in the lower triangle (row-major). */
    for (fold_int j = 0; j < n; j++) {
        double d = A[j * n + j];
        for (fold_int k = 0; k < j; k++)
            d -= A[j * n + k] * A[j * n + k];
        if (!(d > 0))
            return learn_error(FOLD_ERR_SINGULAR, "learn_chol_factor: pivot %lld = %g",
                               (long long)j, d);
        d = sqrt(d);
        A[j * n + j] = d;
        for (fold_int i = j + 1; i < n; i++) {
            double s = A[i * n + j];
            for (fold_int k = 0; k < j; k++)
                s -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = s / d;
        }
    }
    return FOLD_OK;
}

void learn_chol_subst(const double *L, fold_int n, double *x)
{
    for (fold_int i = 0; i < n; i++) {
        double s = x[i];
        for (fold_int k = 0; k < i; k++)
            s -= L[i * n + k] * x[k];
        x[i] = s / L[i * n + i];
    }
    for (fold_int i = n - 1; i >= 0; i--) {
        double s = x[i];
        for (fold_int k = i + 1; k < n; k++)
            s -= L[k * n + i] * x[k];
        x[i] = s / L[i * n + i];
    }
}

fold_status learn_chol_solve(double *A, fold_int n, double *b, fold_int nrhs)
{
    fold_status st = learn_chol_factor(A, n);
    if (st != FOLD_OK) return st;
    for (fold_int c = 0; c < nrhs; c++) /* b column-major, n x nrhs */
        learn_chol_subst(A, n, b + c * n);
    return FOLD_OK;
}

double learn_norm2_sq(const double *M, fold_int m, fold_int n)
{
    double *v = malloc((size_t)n * sizeof *v), *w = malloc((size_t)m * sizeof *w);
    double lam = 0;
    if (!v || !w) {
        free(v);
        free(w);
        return NAN;
    }
    for (fold_int j = 0; j < n; j++)
        v[j] = 1.0 + 0.1 * (double)(j % 7);
    for (int it = 0; it < 200; it++) {
        double nv = 0;
        for (fold_int j = 0; j < n; j++)
            nv += v[j] * v[j];
        nv = sqrt(nv);
        if (nv == 0) break;
        for (fold_int j = 0; j < n; j++)
            v[j] /= nv;
        for (fold_int i = 0; i < m; i++) {
            double s = 0;
            for (fold_int j = 0; j < n; j++)
                s += M[i * n + j] * v[j];
            w[i] = s;
        }
        double nw = 0;
        for (fold_int i = 0; i < m; i++)
            nw += w[i] * w[i];
        for (fold_int j = 0; j < n; j++) {
            double s = 0;
            for (fold_int i = 0; i < m; i++)
                s += M[i * n + j] * w[i];
            v[j] = s;
        }
        if (fabs(nw - lam) <= 1e-12 * nw) {
            lam = nw;
            break;
        }
        lam = nw;
    }
    free(v);
    free(w);
    return lam;
}

double learn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
