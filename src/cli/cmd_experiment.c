/* foldopt experiment unroll: reverse-mode unrolling of k projected-gradient iterations
 * against k LFPI and k GMRES iterations of the fold at the fixed point, on a seeded random
 * box-constrained QP (doc/iterative.md §5, doc/cli.md). */
#include <cholmod.h>
#include <string.h>

#include "cli/cli.h"
#include "fold/map/map_internal.h"

/* f(x; p) = x'Qx/2 + (q + p)'x, Q = V diag(lam) V', V = H1 H2 (Householder), lam on
 * [1, kappa]; Q v costs O(n). */
typedef struct rqp {
    long n;
    double *lam, *u1, *u2, *q, *t;
} rqp;

static double rnd(unsigned long long *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

static double rnorm(unsigned long long *s)
{
    double u = rnd(s), v = rnd(s);
    return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

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
    unsigned long long s = seed * 0x9E3779B97F4A7C15ULL + 1;
    double *us[2];
    Q->n = n;
    Q->lam = malloc((size_t)n * sizeof(double));
    Q->u1 = malloc((size_t)n * sizeof(double));
    Q->u2 = malloc((size_t)n * sizeof(double));
    Q->q = malloc((size_t)n * sizeof(double));
    Q->t = malloc((size_t)n * sizeof(double));
    if (!Q->lam || !Q->u1 || !Q->u2 || !Q->q || !Q->t)
        return false;
    us[0] = Q->u1;
    us[1] = Q->u2;
    for (long i = 0; i < n; i++)
        Q->lam[i] = n > 1 ? 1 + (kappa - 1) * (double)i / (double)(n - 1) : 1;
    for (int h = 0; h < 2; h++) {
        double nu = 0;
        for (long i = 0; i < n; i++) {
            us[h][i] = rnorm(&s);
            nu += us[h][i] * us[h][i];
        }
        for (long i = 0; i < n; i++)
            us[h][i] /= sqrt(nu);
    }
    for (long i = 0; i < n; i++)
        Q->q[i] = 2 * rnorm(&s);
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
 * by a CHOLMOD factorization of the dense Q_FF. */
static fold_status reference(rqp *Q, const double *x, const double *p, const double *c,
                             double step, double *ref)
{
    long n = Q->n, nf = 0;
    long *F = malloc((size_t)n * sizeof *F);
    double *e = calloc((size_t)n, sizeof *e), *col = malloc((size_t)n * sizeof *col);
    cholmod_common cm;
    cholmod_dense *D = NULL, *B = NULL, *X = NULL;
    cholmod_sparse *S = NULL;
    cholmod_factor *L = NULL;
    fold_status st = FOLD_OK;
    cholmod_l_start(&cm);
    cm.print = 0;
    rqp_grad(x, p, col, Q);
    for (long i = 0; i < n; i++) {
        double y = x[i] - step * col[i]; /* free where the projection is the identity */
        if (y > -1 && y < 1)
            F[nf++] = i;
    }
    memset(ref, 0, (size_t)n * sizeof *ref);
    if (nf == 0)
        goto done;
    D = cholmod_l_allocate_dense(nf, nf, nf, CHOLMOD_REAL, &cm);
    B = cholmod_l_allocate_dense(nf, 1, nf, CHOLMOD_REAL, &cm);
    if (!D || !B || !F || !e || !col) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    for (long j = 0; j < nf; j++) {
        e[F[j]] = 1;
        rqp_hess_v(x, NULL, e, col, Q);
        e[F[j]] = 0;
        for (long i = 0; i < nf; i++)
            ((double *)D->x)[i + j * nf] = col[F[i]];
        ((double *)B->x)[j] = c[F[j]];
    }
    S = cholmod_l_dense_to_sparse(D, 1, &cm);
    if (S)
        S->stype = -1;
    L = S ? cholmod_l_analyze(S, &cm) : NULL;
    if (!L || !cholmod_l_factorize(S, L, &cm) || cm.status != CHOLMOD_OK ||
        !(X = cholmod_l_solve(CHOLMOD_A, L, B, &cm))) {
        st = fold_error(FOLD_ERR_SINGULAR, "experiment: reference factorization failed");
        goto done;
    }
    for (long j = 0; j < nf; j++)
        ref[F[j]] = -((double *)X->x)[j];
done:
    cholmod_l_free_dense(&D, &cm);
    cholmod_l_free_dense(&B, &cm);
    cholmod_l_free_dense(&X, &cm);
    cholmod_l_free_sparse(&S, &cm);
    cholmod_l_free_factor(&L, &cm);
    cholmod_l_finish(&cm);
    free(F);
    free(e);
    free(col);
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
    fold_backward_info info = {0};
    fold_settings_default(&s);
    s.backward.method = method;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-16;
    s.backward.max_iter = k;
    s.backward.restart = (int)restart;
    memset(w, 0, (size_t)map->nz * sizeof *w);
    fold_status st = fold_map_solve(map, &s, true, c, w, &info);
    if (st < 0 && st != FOLD_ERR_NOT_CONVERGED)
        return st;
    return fold_map_psit(map, w, pbar);
}

typedef struct row {
    double eu, el, eg, tu, tl, tg;
    size_t bu, bl, bg;
} row;

static int usage(FILE *out)
{
    fprintf(out, "usage: foldopt experiment unroll [--n N] [--iters K] [--seed S] "
                 "[--spread KAPPA] [--json] [--csv FILE]\n"
                 "Gradient error of reverse-mode unrolling through k projected-gradient "
                 "iterations against k LFPI and k GMRES iterations of the fold, k = 1..K, on a "
                 "random box-constrained QP (Hessian eigenvalues on [1, KAPPA], step 1/KAPPA).\n"
                 "Defaults: N = 100, K = 60, S = 1, KAPPA = 10.\n");
    return out == stdout ? CLI_OK : CLI_USAGE;
}

int cmd_experiment(int argc, char **argv)
{
    long n = 100, K = 60, seed = 1;
    double kappa = 10;
    bool json = false;
    const char *csv = NULL;
    int rc = CLI_OK;
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout);
    if (strcmp(argv[1], "unroll"))
        return cli_usage_error("experiment: unknown experiment '%s' (known: unroll)", argv[1]);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json"))
            json = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        else if (!v)
            return cli_usage_error("experiment: %s needs a value", a);
        else if (!strcmp(a, "--n") && (i++, true)) {
            if (!cli_parse_long(a, v, &n))
                return CLI_USAGE;
        } else if (!strcmp(a, "--iters") && (i++, true)) {
            if (!cli_parse_long(a, v, &K))
                return CLI_USAGE;
        } else if (!strcmp(a, "--seed") && (i++, true)) {
            if (!cli_parse_long(a, v, &seed))
                return CLI_USAGE;
        } else if (!strcmp(a, "--spread") && (i++, true)) {
            if (!cli_parse_double(a, v, &kappa))
                return CLI_USAGE;
        } else if (!strcmp(a, "--csv") && (i++, true))
            csv = v;
        else
            return cli_usage_error("experiment: unknown option '%s'", a);
    }
    if (n < 1 || n > 4000)
        return cli_usage_error("experiment: --n %ld outside [1, 4000]", n);
    if (K < 1 || K > 100000)
        return cli_usage_error("experiment: --iters %ld outside [1, 100000]", K);
    if (!(kappa >= 1) || kappa > 1e8)
        return cli_usage_error("experiment: --spread %g outside [1, 1e8]", kappa);

    rqp Q;
    fold_map *map = NULL;
    row *rows = calloc((size_t)K + 1, sizeof *rows);
    double *p = calloc((size_t)n, sizeof *p), *x = malloc((size_t)n * sizeof *x);
    double *c = malloc((size_t)n * sizeof *c), *ref = malloc((size_t)n * sizeof *ref);
    double *pb = malloc((size_t)n * sizeof *pb), *w = malloc((size_t)n * sizeof *w);
    double *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi);
    fold_status st;
    fold_iter_info it;
    if (!rqp_init(&Q, n, kappa, (unsigned long long)seed) || !rows || !p || !x || !c || !ref ||
        !pb || !w || !lo || !hi) {
        rc = cli_status_error("experiment", FOLD_ERR_MEMORY);
        goto done;
    }
    for (long i = 0; i < n; i++) {
        lo[i] = -1;
        hi[i] = 1;
        c[i] = sin(1.0 + (double)i); /* loss c'x*, gradient pbar = J' c with J = dx* by dp */
    }
    fold_objective obj = {n, n, rqp_grad, rqp_hess_v, rqp_cross, rqp_cross, &Q};
    fold_iter_def def = {FOLD_ITER_PGD, obj, {FOLD_SET_BOX, lo, hi, 0, NULL, NULL, NULL}, 0,
                         1.0 / kappa};
    if ((st = fold_iter_solve(&def, p, NULL, 1000000, 1e-15, NULL, x, NULL, &it)) != FOLD_OK ||
        (st = reference(&Q, x, p, c, def.step, ref)) < 0 ||
        (st = fold_iter_map(&def, x, p, &map)) < 0) {
        rc = cli_status_error("experiment", st < 0 ? st : FOLD_ERR_NOT_CONVERGED);
        goto done;
    }
    for (long k = 1; k <= K; k++) {
        row *r = &rows[k];
        double t0 = fold_time_now();
        if ((st = fold_iter_unroll_vjp(&def, p, NULL, k, c, NULL, pb, &it)) < 0)
            break;
        r->tu = fold_time_now() - t0;
        r->bu = it.bytes_stored;
        r->eu = relerr(pb, ref, n);
        t0 = fold_time_now();
        if ((st = folded(map, FOLD_BACKWARD_LFPI, k, K, c, w, pb)) < 0)
            break;
        r->tl = fold_time_now() - t0;
        r->bl = 3 * (size_t)n * sizeof(double);
        r->el = relerr(pb, ref, n);
        t0 = fold_time_now();
        if ((st = folded(map, FOLD_BACKWARD_GMRES, k, K, c, w, pb)) < 0)
            break;
        r->tg = fold_time_now() - t0;
        r->bg = ((size_t)k + 3) * (size_t)n * sizeof(double) + 2 * (size_t)k * (size_t)k * 8;
        r->eg = relerr(pb, ref, n);
    }
    if (st < 0) {
        rc = cli_status_error("experiment", st);
        goto done;
    }
    if (csv) {
        FILE *f = cli_open_output("experiment", csv);
        if (!f) {
            rc = CLI_USAGE;
            goto done;
        }
        fprintf(f, "k,unrolled_error,lfpi_error,gmres_error,unrolled_s,lfpi_s,gmres_s,"
                   "unrolled_bytes,lfpi_bytes,gmres_bytes\n");
        for (long k = 1; k <= K; k++)
            fprintf(f, "%ld,%.6e,%.6e,%.6e,%.3e,%.3e,%.3e,%zu,%zu,%zu\n", k, rows[k].eu,
                    rows[k].el, rows[k].eg, rows[k].tu, rows[k].tl, rows[k].tg, rows[k].bu,
                    rows[k].bl, rows[k].bg);
        if ((rc = cli_close_output("experiment", f, csv)) != CLI_OK)
            goto done;
    }
    double su = 0, sl = 0, sg = 0;
    for (long k = 1; k <= K; k++) {
        su += rows[k].tu;
        sl += rows[k].tl;
        sg += rows[k].tg;
    }
    if (json) {
        printf("{\"n\": %ld, \"iters\": %ld, \"seed\": %ld, \"spread\": %g, \"step\": %g,\n"
               " \"forward_iterations\": %lld, \"rows\": [\n", n, K, seed, kappa, def.step,
               (long long)it.iterations);
        for (long k = 1; k <= K; k++)
            printf("  {\"k\": %ld, \"unrolled_error\": %.6e, \"lfpi_error\": %.6e, "
                   "\"gmres_error\": %.6e, \"unrolled_s\": %.3e, \"lfpi_s\": %.3e, "
                   "\"gmres_s\": %.3e, \"unrolled_bytes\": %zu, \"lfpi_bytes\": %zu, "
                   "\"gmres_bytes\": %zu}%s\n", k, rows[k].eu, rows[k].el, rows[k].eg,
                   rows[k].tu, rows[k].tl, rows[k].tg, rows[k].bu, rows[k].bl, rows[k].bg,
                   k < K ? "," : "");
        printf(" ],\n \"totals\": {\"unrolled_s\": %.6e, \"lfpi_s\": %.6e, \"gmres_s\": %.6e, "
               "\"unrolled_bytes_max\": %zu, \"lfpi_bytes_max\": %zu, "
               "\"gmres_bytes_max\": %zu, \"final_unrolled_error\": %.6e, "
               "\"final_lfpi_error\": %.6e, \"final_gmres_error\": %.6e}}\n",
               su, sl, sg, rows[K].bu, rows[K].bl, rows[K].bg, rows[K].eu, rows[K].el,
               rows[K].eg);
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
