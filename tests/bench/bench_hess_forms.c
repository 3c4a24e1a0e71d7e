/* Benchmark of the Hessian forms (doc/benchmarks.md "Hessian forms"): the dense box QP of
 * tests/fold/box_qp.h defined once as triplets, as a dense packed lower triangle and as
 * Hessian-vector products, at n = 1000 and 3000. Per form: the setup (the user's arrays and
 * fold_problem_create), the first KKT-fold VJP (direct: Hessian values, assembly,
 * factorization, solve) at the imported solution, a second VJP (factorization kept), the
 * PGD fold map's VJP (GMRES, no preconditioner: products only) at the same point, and the
 * first KKT-fold VJP of a fresh solver by MINRES and by GMRES (precond.kind auto: the
 * product form matrix-free, doc/math.md eq. 3.24) with their iterations. Median of --runs
 * runs. Usage: bench_hess_forms [--n 1000,3000] [--runs 3] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fold/box_qp.h"
#include "test_support.h"

enum { N_FORMS = 3, N_TIMES = 6 };
static const char *FORM_NAMES[N_FORMS] = {"triplets", "dense", "product"};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void die(const char *what, fold_status st)
{
    fprintf(stderr, "bench_hess_forms: %s: %s: %s\n", what, fold_status_name(st),
            fold_last_error());
    exit(1);
}

/* The first KKT-fold VJP by method (precond.kind auto) of a fresh solver at the solution:
 * seconds; its iterations in *iters. */
static double iterative_vjp(const fold_problem *prob, const box_qp *B, const double *p,
                            const double *xbar, double *pbar, fold_backward_method method,
                            fold_int *iters)
{
    fold_settings set;
    fold_settings_default(&set);
    set.backward.method = method;
    fold_solver *solver = NULL;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st;
    if ((st = fold_solver_create(prob, &set, &solver))) die("fold_solver_create", st);
    if ((st = fold_solver_import(
             solver, &(fold_import_point){.p = p, .x = B->x, .zl = B->zl, .zu = B->zu}, NULL)))
        die("fold_solver_import", st);
    double t0 = now();
    if ((st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, &info))) die("fold_vjp", st);
    double t = now() - t0;
    *iters = info.iterations;
    fold_solver_free(solver);
    return t;
}

/* One run of form f on a fresh instance: t[0] setup, t[1] first VJP, t[2] second VJP, t[3]
 * map VJP, t[4] MINRES VJP, t[5] GMRES VJP (seconds); iters[0], iters[1] their iterations. */
static void run_once(fold_int n, int f, double *t, fold_int *iters)
{
    box_qp *B = box_qp_build(1507, n);
    double *xbar = malloc((size_t)n * sizeof *xbar), *pbar = malloc((size_t)n * sizeof *pbar);
    double *p = calloc((size_t)n, sizeof *p);
    for (fold_int i = 0; i < n; i++)
        xbar[i] = 1.0 / (1.0 + (double)i);
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_map *map = NULL;
    fold_status st;
    double t0 = now();
    fold_nlp_def d = box_qp_def(B, (fold_hess_form)f);
    if ((st = fold_problem_create(&d, &prob))) die("fold_problem_create", st);
    t[0] = now() - t0;
    if ((st = fold_solver_create(prob, NULL, &solver))) die("fold_solver_create", st);
    if ((st = fold_solver_import(
             solver, &(fold_import_point){.p = p, .x = B->x, .zl = B->zl, .zu = B->zu}, NULL)))
        die("fold_solver_import", st);
    t0 = now();
    if ((st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL))) die("fold_vjp", st);
    t[1] = now() - t0;
    t0 = now();
    if ((st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL))) die("fold_vjp", st);
    t[2] = now() - t0;
    fold_settings set;
    fold_settings_default(&set);
    set.backward.method = FOLD_BACKWARD_GMRES;
    set.precond.kind = FOLD_PRECOND_NONE;
    fold_iter_def it = {.kind = FOLD_ITER_PGD, .step = 1.0 / B->lipschitz, .problem = prob};
    t0 = now();
    if ((st = fold_iter_map(&it, B->x, p, &map))) die("fold_iter_map", st);
    if ((st = fold_map_vjp(map, &set, xbar, pbar, NULL))) die("fold_map_vjp", st);
    t[3] = now() - t0;
    t[4] = iterative_vjp(prob, B, p, xbar, pbar, FOLD_BACKWARD_MINRES, &iters[0]);
    t[5] = iterative_vjp(prob, B, p, xbar, pbar, FOLD_BACKWARD_GMRES, &iters[1]);
    fold_map_free(map);
    fold_solver_free(solver);
    fold_problem_free(prob);
    box_qp_free(B);
    free(xbar);
    free(pbar);
    free(p);
}

int main(int argc, char **argv)
{
    const char *sizes = "1000,3000";
    int runs = 3;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--n") && a + 1 < argc)
            sizes = argv[++a];
        else if (!strcmp(argv[a], "--runs") && a + 1 < argc)
            runs = atoi(argv[++a]);
        else {
            fprintf(stderr, "usage: bench_hess_forms [--n 1000,3000] [--runs 3]\n");
            return 2;
        }
    }
    if (runs < 1) {
        fprintf(stderr, "bench_hess_forms: --runs must be >= 1\n");
        return 2;
    }
    printf("%6s %-9s %10s %12s %12s %12s %12s %9s %12s %9s\n", "n", "form", "setup_s", "kkt_vjp1_s",
           "kkt_vjp2_s", "map_vjp_s", "minres_s", "minres_it", "gmres_s", "gmres_it");
    char *list = strdup(sizes);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        fold_int n = atoll(tok);
        if (n < 1) {
            fprintf(stderr, "bench_hess_forms: bad size '%s'\n", tok);
            return 2;
        }
        for (int f = 0; f < N_FORMS; f++) {
            double *t = malloc((size_t)(runs * N_TIMES) * sizeof *t), med[N_TIMES], col[64];
            fold_int it[2] = {0, 0}; /* deterministic: the same in every run */
            for (int r = 0; r < runs; r++)
                run_once(n, f, t + r * N_TIMES, it);
            for (int k = 0; k < N_TIMES; k++) {
                for (int r = 0; r < runs && r < 64; r++)
                    col[r] = t[r * N_TIMES + k];
                qsort(col, (size_t)(runs < 64 ? runs : 64), sizeof *col, cmp_double);
                med[k] = col[(runs < 64 ? runs : 64) / 2];
            }
            printf("%6lld %-9s %10.3f %12.3f %12.3f %12.3f %12.3f %9lld %12.3f %9lld\n",
                   (long long)n, FORM_NAMES[f], med[0], med[1], med[2], med[3], med[4],
                   (long long)it[0], med[5], (long long)it[1]);
            fflush(stdout);
            free(t);
        }
    }
    free(list);
    return 0;
}
