/* The unrolling experiment (doc/iterative.md §5, doc/benchmarks.md): reverse-mode unrolling
 * of k projected-gradient iterations against k LFPI and k GMRES iterations of the fold at
 * the fixed point, on a seeded random box-constrained QP, k = 1..K.
 *   bench_unroll [--n N] [--iters K] [--seed S] [--spread KAPPA] [--json] [--csv FILE] */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fold/map/map_internal.h"
#include "linalg/linalg.h"
#include "test_support.h"

/* f(x; p) = x'Qx/2 + (q + p)'x, Q = V diag(lam) V', V = H1 H2 (Householder), lam on
 * [1, kappa]; Q v costs O(n). */
typedef struct rqp {
    long n;
    double *lam, *u1, *u2, *q, *t;
} rqp;

static void house(const double *u, long n, double *v) /* v <- (I - 2uu') v */
{
    double s = 0;
    for (long i = 0; i < n; i++)
        s += u[i] * v[i];
    for (long i = 0; i < n; i++)
        v[i] -= 2 * s * u[i];
}

static int rqp_hess_v(const double *x, const double *p, const double *v, double *out, void *ud)
{
    rqp *Q = ud;
    memcpy(out, v, (size_t)Q->n * sizeof *out);
    house(Q->u2, Q->n, out);
    house(Q->u1, Q->n, out);
    for (long i = 0; i < Q->n; i++)
        out[i] *= Q->lam[i];
    house(Q->u1, Q->n, out);
    house(Q->u2, Q->n, out);
    return 0;
}

static int rqp_grad(const double *x, const double *p, double *g, void *ud)
{
    rqp *Q = ud;
    rqp_hess_v(x, p, x, g, ud);
    for (long i = 0; i < Q->n; i++)
        g[i] += Q->q[i] + p[i];
    return 0;
}

static int rqp_cross(const double *x, const double *p, const double *v, double *out, void *ud)
{
    memcpy(out, v, (size_t)((rqp *)ud)->n * sizeof *out); /* d grad / dp = I */
    return 0;
}

static bool rqp_init(rqp *Q, long n, double kappa, unsigned long long seed)
{
    fold_test_rng s = {seed * 0x9E3779B97F4A7C15ULL + 1};
    double *us[2];
    Q->n = n;
    Q->lam = malloc((size_t)n * sizeof(double));
    Q->u1 = malloc((size_t)n * sizeof(double));
    Q->u2 = malloc((size_t)n * sizeof(double));
    Q->q = malloc((size_t)n * sizeof(double));
    Q->t = malloc((size_t)n * sizeof(double));
    if (!Q->lam || !Q->u1 || !Q->u2 || !Q->q || !Q->t) return false;
    us[0] = Q->u1;
    us[1] = Q->u2;
    for (long i = 0; i < n; i++)
        Q->lam[i] = n > 1 ? 1 + (kappa - 1) * (double)i / (double)(n - 1) : 1;
    for (int h = 0; h < 2; h++) {
        double nu = 0;
        for (long i = 0; i < n; i++) {
            us[h][i] = fold_test_normal(&s);
            nu += us[h][i] * us[h][i];
        }
        for (long i = 0; i < n; i++)
            us[h][i] /= sqrt(nu);
    }
    for (long i = 0; i < n; i++)
        Q->q[i] = 2 * fold_test_normal(&s);
    return true;
}

static void rqp_free(rqp *Q)
{
    free(Q->lam);
    free(Q->u1);
    free(Q->u2);
    free(Q->q);
    free(Q->t);
}

/* Reference pbar = -Q_FF^{-1} c_F on the free set F (0 elsewhere): the active-set fold,
 * by a Cholesky factorization of the dense Q_FF. */
static fold_status reference(rqp *Q, const double *x, const double *p, const double *c, double step,
                             double *ref)
{
    long n = Q->n, nf = 0;
    long *F = malloc((size_t)n * sizeof *F);
    double *e = calloc((size_t)n, sizeof *e), *col = malloc((size_t)n * sizeof *col);
    double *b = malloc((size_t)n * sizeof *b), *y = malloc((size_t)n * sizeof *y);
    fold_la_common cm;
    fold_la_sparse *D = NULL;
    fold_la_chol *L = NULL;
    fold_status st = fold_la_common_init(&cm);
    if (st < 0 || !F || !e || !col || !b || !y) {
        st = st < 0 ? st : FOLD_ERR_MEMORY;
        goto done;
    }
    rqp_grad(x, p, col, Q);
    for (long i = 0; i < n; i++) {
        double yi = x[i] - step * col[i]; /* free where the projection is the identity */
        if (yi > -1 && yi < 1) F[nf++] = i;
    }
    memset(ref, 0, (size_t)n * sizeof *ref);
    if (nf == 0 || (st = fold_la_sparse_alloc(nf, nf, nf * nf, &cm, &D)) < 0) goto done;
    fold_int *Dp = D->p, *Di = D->i;
    for (long j = 0; j < nf; j++) { /* Q_FF, dense, column by column */
        e[F[j]] = 1;
        rqp_hess_v(x, NULL, e, col, Q);
        e[F[j]] = 0;
        Dp[j] = j * nf;
        for (long i = 0; i < nf; i++) {
            Di[j * nf + i] = i;
            ((double *)D->x)[j * nf + i] = col[F[i]];
        }
        b[j] = c[F[j]];
    }
    Dp[nf] = nf * nf;
    if ((st = fold_la_chol_block(D, 0, nf, false, &cm, &L)) < 0 ||
        (st = fold_la_chol_solve(L, b, y)) < 0)
        goto done;
    for (long j = 0; j < nf; j++)
        ref[F[j]] = -y[j];
done:
    fold_la_chol_free(L);
    fold_la_sparse_free(&D, &cm);
    fold_la_common_finish(&cm);
    free(F);
    free(e);
    free(col);
    free(b);
    free(y);
    return st;
}

static double relerr(const double *a, const double *b, long n)
{
    double d = 0, s = 0;
    for (long i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        s += b[i] * b[i];
    }
    return sqrt(d) / fmax(sqrt(s), 1e-300);
}

/* k iterations of method on (I - Phi)' w = c, then pbar = Psi' w. */
static fold_status folded(fold_map *map, int method, long k, long restart, const double *c,
                          double *w, double *pbar)
{
    fold_settings s;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_settings_default(&s);
    s.backward.method = method;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-16;
    s.backward.max_iter = k;
    s.backward.restart = (int)restart;
    memset(w, 0, (size_t)map->nz * sizeof *w);
    fold_status st = fold_map_solve(map, &s, true, c, w, &info);
    if (st < 0 && st != FOLD_ERR_NOT_CONVERGED) return st;
    return fold_map_psit(map, w, pbar);
}

typedef struct row {
    double eu, el, eg, tu, tl, tg;
    size_t bu, bl, bg;
} row;

static int usage(FILE *out)
{
    fprintf(out, "usage: bench_unroll [--n N] [--iters K] [--seed S] [--spread KAPPA] [--json] "
                 "[--csv FILE]\n"
                 "Gradient error of reverse-mode unrolling through k projected-gradient "
                 "iterations against k LFPI and k GMRES iterations of the fold, k = 1..K, on a "
                 "random box-constrained QP (Hessian eigenvalues on [1, KAPPA], step 1/KAPPA).\n"
                 "Defaults: N = 100, K = 60, S = 1, KAPPA = 10.\n");
    return out == stdout ? 0 : 2;
}

static int report_failure(fold_status st)
{
    fprintf(stderr, "bench_unroll: %s: %s\n", fold_status_string(st), fold_last_error());
    return 1;
}

/* A number option's value: exit status 2 with a message when it is not one. */
static bool parse_number(const char *opt, const char *text, double *out)
{
    char *end;
    *out = strtod(text, &end);
    if (end != text && *end == '\0' && isfinite(*out)) return true;
    fprintf(stderr, "bench_unroll: %s: '%s' is not a number\n", opt, text);
    return false;
}

int main(int argc, char **argv)
{
    double n_in = 100, K_in = 60, seed_in = 1, kappa = 10;
    bool json = false;
    const char *csv = NULL;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double *num = !strcmp(a, "--n")        ? &n_in
                      : !strcmp(a, "--iters")  ? &K_in
                      : !strcmp(a, "--seed")   ? &seed_in
                      : !strcmp(a, "--spread") ? &kappa
                                               : NULL;
        if (!strcmp(a, "--json"))
            json = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        else if (!v || (!num && strcmp(a, "--csv")))
            return usage(stderr);
        else if (num && !parse_number(a, argv[++i], num))
            return 2;
        else if (!num)
            csv = argv[++i];
    }
    long n = (long)n_in, K = (long)K_in, seed = (long)seed_in;
    if (n < 1 || n > 4000 || n != n_in || K < 1 || K > 100000 || K != K_in || seed != seed_in ||
        !(kappa >= 1) || kappa > 1e8) {
        fprintf(stderr, "bench_unroll: need integers 1 <= N <= 4000, 1 <= K <= 100000, S and "
                        "1 <= KAPPA <= 1e8\n");
        return 2;
    }

    rqp Q;
    fold_map *map = NULL;
    row *rows = calloc((size_t)K + 1, sizeof *rows);
    double *p = calloc((size_t)n, sizeof *p), *x = malloc((size_t)n * sizeof *x);
    double *c = malloc((size_t)n * sizeof *c), *ref = malloc((size_t)n * sizeof *ref);
    double *pb = malloc((size_t)n * sizeof *pb), *w = malloc((size_t)n * sizeof *w);
    double *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi);
    fold_status st;
    fold_iter_info it = FOLD_ITER_INFO_INIT;
    if (!rqp_init(&Q, n, kappa, (unsigned long long)seed) || !rows || !p || !x || !c || !ref ||
        !pb || !w || !lo || !hi) {
        rc = report_failure(FOLD_ERR_MEMORY);
        goto done;
    }
    for (long i = 0; i < n; i++) {
        lo[i] = -1;
        hi[i] = 1;
        c[i] = sin(1.0 + (double)i); /* loss c'x*, gradient pbar = J' c with J = dx* by dp */
    }
    fold_objective obj = {n, n, rqp_grad, rqp_hess_v, rqp_cross, rqp_cross, &Q};
    fold_iter_def def = {FOLD_ITER_PGD, obj, {FOLD_SET_BOX, lo, hi, 0, NULL, NULL, NULL}, 0,
                         1.0 / kappa,   NULL};
    if ((st = fold_iter_solve(&def, &(fold_iter_run){.p = p, .max_iter = 1000000, .tol = 1e-15}, x,
                              NULL, &it)) != FOLD_OK ||
        (st = reference(&Q, x, p, c, def.step, ref)) < 0 ||
        (st = fold_iter_map(&def, x, p, &map)) < 0) {
        rc = report_failure(st < 0 ? st : FOLD_ERR_NOT_CONVERGED);
        goto done;
    }
    for (long k = 1; k <= K; k++) {
        row *r = &rows[k];
        double t0 = fold_time_now();
        if ((st = fold_iter_unroll_vjp(&def, &(fold_unroll_run){.p = p, .iters = k, .bar = c}, NULL,
                                       pb, &it)) < 0)
            break;
        r->tu = fold_time_now() - t0;
        r->bu = it.bytes_stored;
        r->eu = relerr(pb, ref, n);
        t0 = fold_time_now();
        if ((st = folded(map, FOLD_BACKWARD_LFPI, k, K, c, w, pb)) < 0) break;
        r->tl = fold_time_now() - t0;
        r->bl = 3 * (size_t)n * sizeof(double);
        r->el = relerr(pb, ref, n);
        t0 = fold_time_now();
        if ((st = folded(map, FOLD_BACKWARD_GMRES, k, K, c, w, pb)) < 0) break;
        r->tg = fold_time_now() - t0;
        r->bg = ((size_t)k + 3) * (size_t)n * sizeof(double) + 2 * (size_t)k * (size_t)k * 8;
        r->eg = relerr(pb, ref, n);
    }
    if (st < 0) {
        rc = report_failure(st);
        goto done;
    }
    if (csv) {
        FILE *f = fopen(csv, "w");
        if (!f) {
            fprintf(stderr, "bench_unroll: cannot write '%s'\n", csv);
            rc = 2;
            goto done;
        }
        fprintf(f, "k,unrolled_error,lfpi_error,gmres_error,unrolled_s,lfpi_s,gmres_s,"
                   "unrolled_bytes,lfpi_bytes,gmres_bytes\n");
        for (long k = 1; k <= K; k++)
            fprintf(f, "%ld,%.6e,%.6e,%.6e,%.3e,%.3e,%.3e,%zu,%zu,%zu\n", k, rows[k].eu, rows[k].el,
                    rows[k].eg, rows[k].tu, rows[k].tl, rows[k].tg, rows[k].bu, rows[k].bl,
                    rows[k].bg);
        if (ferror(f) | fclose(f)) {
            fprintf(stderr, "bench_unroll: write error on '%s'\n", csv);
            rc = 2;
            goto done;
        }
    }
    double su = 0, sl = 0, sg = 0;
    for (long k = 1; k <= K; k++) {
        su += rows[k].tu;
        sl += rows[k].tl;
        sg += rows[k].tg;
    }
    if (json) {
        printf("{\"n\": %ld, \"iters\": %ld, \"seed\": %ld, \"spread\": %g, \"step\": %g,\n"
               " \"forward_iterations\": %lld, \"rows\": [\n",
               n, K, seed, kappa, def.step, (long long)it.iterations);
        for (long k = 1; k <= K; k++)
            printf("  {\"k\": %ld, \"unrolled_error\": %.6e, \"lfpi_error\": %.6e, "
                   "\"gmres_error\": %.6e, \"unrolled_s\": %.3e, \"lfpi_s\": %.3e, "
                   "\"gmres_s\": %.3e, \"unrolled_bytes\": %zu, \"lfpi_bytes\": %zu, "
                   "\"gmres_bytes\": %zu}%s\n",
                   k, rows[k].eu, rows[k].el, rows[k].eg, rows[k].tu, rows[k].tl, rows[k].tg,
                   rows[k].bu, rows[k].bl, rows[k].bg, k < K ? "," : "");
        printf(" ],\n \"totals\": {\"unrolled_s\": %.6e, \"lfpi_s\": %.6e, \"gmres_s\": %.6e, "
               "\"unrolled_bytes_max\": %zu, \"lfpi_bytes_max\": %zu, "
               "\"gmres_bytes_max\": %zu, \"final_unrolled_error\": %.6e, "
               "\"final_lfpi_error\": %.6e, \"final_gmres_error\": %.6e}}\n",
               su, sl, sg, rows[K].bu, rows[K].bl, rows[K].bg, rows[K].eu, rows[K].el, rows[K].eg);
    } else {
        printf("k\tunrolled_error\tlfpi_error\tgmres_error\tunrolled_bytes\tgmres_bytes\n");
        for (long k = 1; k <= K; k++)
            printf("%ld\t%.3e\t%.3e\t%.3e\t%zu\t%zu\n", k, rows[k].eu, rows[k].el, rows[k].eg,
                   rows[k].bu, rows[k].bg);
        printf("# total time: unrolled %.3g s, LFPI %.3g s, GMRES %.3g s\n", su, sl, sg);
    }
done:
    fold_map_free(map);
    rqp_free(&Q);
    free(rows);
    free(p);
    free(x);
    free(c);
    free(ref);
    free(pb);
    free(w);
    free(lo);
    free(hi);
    return rc;
}
