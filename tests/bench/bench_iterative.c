/* Benchmark of the iterative fold (doc/benchmarks.md "Iterative fold"): backward time against
 * n for the direct, LFPI and GMRES solves, and unrolled against folded time and memory
 * against the forward iteration count, on a box-constrained QP with a tridiagonal Hessian. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "fold/map/map_internal.h"

typedef struct tqp {
    long n;
    double shift, *q;
} tqp;

static int hv(const double *x, const double *p, const double *v, double *out, void *ud)
{
    const tqp *Q = ud;
    for (long i = 0; i < Q->n; i++)
        out[i] = (2 + Q->shift) * v[i] - (i > 0 ? v[i - 1] : 0) - (i + 1 < Q->n ? v[i + 1] : 0);
    return 0;
}
static int grad(const double *x, const double *p, double *g, void *ud)
{
    const tqp *Q = ud;
    hv(x, p, x, g, ud);
    for (long i = 0; i < Q->n; i++)
        g[i] += Q->q[i] + p[i];
    return 0;
}
static int cross(const double *x, const double *p, const double *v, double *out, void *ud)
{
    memcpy(out, v, (size_t)((const tqp *)ud)->n * sizeof *out);
    return 0;
}

typedef struct setup {
    tqp Q;
    double *lo, *hi, *p, *x, *c, *pb;
    fold_iter_def def;
    fold_map *map;  /* matrix-free step map */
    fold_map *mmap; /* same map with the assembled matrix I - Phi (direct, Jacobi) */
    fold_int *cp, *ri;
    double *vx;
    double *psi;
} setup;

static double *dvec(long n)
{
    double *v = calloc((size_t)n, sizeof(double));
    if (!v) exit(1);
    return v;
}

static int psit_diag(const double *w, double *out, void *ud)
{
    const setup *S = ud;
    for (long i = 0; i < S->Q.n; i++)
        out[i] = S->psi[i] * w[i];
    return 0;
}

static void setup_init(setup *S, long n)
{
    uint64_t s = 12345;
    memset(S, 0, sizeof *S);
    S->Q.n = n;
    S->Q.shift = 0.5;
    S->Q.q = dvec(n);
    S->lo = dvec(n);
    S->hi = dvec(n);
    S->p = dvec(n);
    S->x = dvec(n);
    S->c = dvec(n);
    S->pb = dvec(n);
    for (long i = 0; i < n; i++) {
        S->Q.q[i] = 4.0 * ((double)(rng_xorshift64(&s) % 10000) / 10000.0 - 0.5);
        S->lo[i] = -1;
        S->hi[i] = 1;
        S->c[i] = sin(1.0 + (double)i);
    }
    fold_objective obj = {n, n, grad, hv, cross, cross, &S->Q};
    fold_iter_def def = {FOLD_ITER_PGD,          obj, {FOLD_SET_BOX, S->lo, S->hi, 0, 0, 0, 0}, 0,
                         1.0 / (4 + S->Q.shift), NULL};
    S->def = def;
    fold_iter_solve(&S->def, &(fold_iter_run){.p = S->p, .max_iter = 100000, .tol = 1e-13}, S->x,
                    NULL, NULL);
    fold_iter_map(&S->def, S->x, S->p, &S->map);
    /* assembled I - Phi = I - D (I - aQ): tridiagonal; Psi = -a D (diagonal) */
    double a = S->def.step, *g = dvec(n);
    grad(S->x, S->p, g, &S->Q);
    S->cp = malloc((size_t)(n + 1) * sizeof(fold_int));
    S->ri = malloc((size_t)(3 * n) * sizeof(fold_int));
    S->vx = malloc((size_t)(3 * n) * sizeof(double));
    S->psi = dvec(n);
    fold_int nnz = 0;
    S->cp[0] = 0;
    for (long j = 0; j < n; j++) {
        for (long i = j - 1; i <= j + 1; i++) {
            if (i < 0 || i >= n) continue;
            double y = S->x[i] - a * g[i], d = (y > -1 && y < 1) ? 1.0 : 0.0;
            double qij = i == j ? 2 + S->Q.shift : -1.0;
            double v = (i == j ? 1.0 : 0.0) - d * ((i == j ? 1.0 : 0.0) - a * qij);
            if (v != 0) {
                S->ri[nnz] = i;
                S->vx[nnz++] = v;
            }
            if (i == j) S->psi[i] = -a * d;
        }
        S->cp[j + 1] = nnz;
    }
    fold_csc A = {n, n, S->cp, S->ri, S->vx};
    fold_map_def md = {0};
    md.name = "assembled step";
    md.nz = n;
    md.np = n;
    md.a_matrix = &A;
    md.psit_v = psit_diag;
    md.user_data = S;
    fold_map_create(&md, &S->mmap);
    free(g);
}

static void setup_free(setup *S)
{
    fold_map_free(S->map);
    fold_map_free(S->mmap);
    free(S->Q.q);
    free(S->lo);
    free(S->hi);
    free(S->p);
    free(S->x);
    free(S->c);
    free(S->pb);
    free(S->cp);
    free(S->ri);
    free(S->vx);
    free(S->psi);
}

/* Best of 3 VJP times; returns seconds, iterations through *its. */
static double time_vjp(fold_map *map, int method, int pc, const double *c, double *pb, long *its)
{
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    double best = 1e30;
    fold_settings_default(&s);
    s.backward.method = method;
    s.precond.kind = pc;
    s.backward.tol = 1e-10;
    s.backward.max_iter = 100000;
    s.backward.restart = 30;
    for (int r = 0; r < 3; r++) {
        double t0 = fold_time_now();
        fold_status st = fold_map_vjp(map, &s, c, pb, &info);
        double t = fold_time_now() - t0;
        if (st < 0) {
            printf("  (failed: %s)\n", fold_last_error());
            return -1;
        }
        best = t < best ? t : best;
    }
    *its = (long)info.iterations;
    return best;
}

int main(void)
{
    long sizes[] = {1000, 10000, 100000};
    printf("Iterative fold: backward (VJP) time vs n, tol 1e-10, box QP with tridiagonal "
           "Hessian (kappa ~ 9)\n");
    printf("%8s %12s %12s %14s %14s %14s\n", "n", "direct_s", "lfpi_s(it)", "gmres_s(it)",
           "gmres+jac_s", "bicgstab_s");
    for (int k = 0; k < 3; k++) {
        setup S;
        long it_l = 0, it_g = 0, it_j = 0, it_b = 0;
        setup_init(&S, sizes[k]);
        fold_settings s;
        fold_settings_default(&s);
        double td = time_vjp(S.mmap, FOLD_BACKWARD_DIRECT, FOLD_PRECOND_EXACT, S.c, S.pb, &it_l);
        double tl = time_vjp(S.map, FOLD_BACKWARD_LFPI, FOLD_PRECOND_NONE, S.c, S.pb, &it_l);
        double tg = time_vjp(S.map, FOLD_BACKWARD_GMRES, FOLD_PRECOND_NONE, S.c, S.pb, &it_g);
        double tj = time_vjp(S.mmap, FOLD_BACKWARD_GMRES, FOLD_PRECOND_JACOBI, S.c, S.pb, &it_j);
        double tb = time_vjp(S.map, FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_NONE, S.c, S.pb, &it_b);
        printf("%8ld %12.2e %8.2e(%ld) %9.2e(%ld) %9.2e(%ld) %9.2e(%ld)\n", sizes[k], td, tl, it_l,
               tg, it_g, tj, it_j, tb, it_b);
        setup_free(&S);
    }
    printf("\nUnrolled vs folded at n = 10000: reverse-mode unrolling through K iterations "
           "against the folded VJP at the solution (GMRES(30), LFPI)\n");
    printf("%6s %12s %14s %12s %12s %12s %12s\n", "K", "unroll_s", "unroll_bytes", "gmres_s",
           "gmres_bytes", "lfpi_s", "lfpi_bytes");
    setup S;
    setup_init(&S, 10000);
    long Ks[] = {10, 100, 1000};
    for (int k = 0; k < 3; k++) {
        fold_iter_info info = FOLD_ITER_INFO_INIT;
        long it_g, it_l;
        double t0 = fold_time_now();
        fold_iter_unroll_vjp(&S.def, &(fold_unroll_run){.p = S.p, .iters = Ks[k], .bar = S.c}, NULL,
                             S.pb, &info);
        double tu = fold_time_now() - t0;
        double tg = time_vjp(S.map, FOLD_BACKWARD_GMRES, FOLD_PRECOND_NONE, S.c, S.pb, &it_g);
        double tl = time_vjp(S.map, FOLD_BACKWARD_LFPI, FOLD_PRECOND_NONE, S.c, S.pb, &it_l);
        size_t bg = (size_t)(30 + 3) * 10000 * sizeof(double), bl = 3 * 10000 * sizeof(double);
        printf("%6ld %12.3e %14zu %12.3e %12zu %12.3e %12zu\n", Ks[k], tu, info.bytes_stored, tg,
               bg, tl, bl);
        if (Ks[k] == 1000)
            printf("K = 1000: GMRES fold %.0fx faster, %.0fx less memory; LFPI fold %.0fx "
                   "faster, %.0fx less memory\n",
                   tu / tg, (double)info.bytes_stored / (double)bg, tu / tl,
                   (double)info.bytes_stored / (double)bl);
    }
    setup_free(&S);
    return 0;
}
