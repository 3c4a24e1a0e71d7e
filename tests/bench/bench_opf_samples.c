/* The work of one OPFLayer batch through the C API alone, for the Python overhead of
 * doc/benchmarks.md "Python layers": B samples of a case, loads pd_i (1 + 0.05 sin(7.1 k +
 * 1.3 i)) for sample k and bus i (python/tests/bench_opf_layer.py uses the same), each solved
 * cold on its own solver (fold_acopf_solve_on) and kept; then per sample one VJP of the sum
 * of the generators' pg with respect to pd (fold_acopf_differentiate, as the layer's
 * backward). Prints one line: case, B, solved, forward s per sample, backward s per sample,
 * peak MB.
 *
 *     bench_opf_samples CASE.m [B]                                                          */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <foldopt.h>
#include <foldopt/acopf.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_opf_samples CASE.m [B]\n");
        return 2;
    }
    long B = argc > 2 ? atol(argv[2]) : 64;
    fold_acopf_case *cs = NULL;
    fold_acopf *model = NULL;
    if (fold_acopf_case_read(argv[1], &cs) != FOLD_OK || fold_acopf_create(cs, &model) != FOLD_OK) {
        fprintf(stderr, "bench_opf_samples: %s\n", fold_last_error());
        return 2;
    }
    fold_acopf_case_free(cs);
    const fold_acopf_case *c = fold_acopf_get_case(model);
    fold_acopf_layout L = fold_acopf_get_layout(model);
    fold_int nb = c->n_bus, ng = c->n_gen;
    double *p = malloc((size_t)L.np * sizeof *p), *grad = malloc((size_t)nb * sizeof *grad);
    fold_int *cols = malloc((size_t)nb * sizeof *cols);
    fold_acopf_output *outs = malloc((size_t)ng * sizeof *outs);
    fold_solver **sv = calloc((size_t)B, sizeof *sv);
    fold_acopf **rm = calloc((size_t)B, sizeof *rm);
    for (fold_int i = 0; i < nb; i++)
        cols[i] = fold_acopf_param_index(model, FOLD_ACOPF_P_PD, i);
    for (fold_int k = 0; k < ng; k++)
        outs[k] = (fold_acopf_output){FOLD_ACOPF_OUT_PG, k};
    fold_settings set;
    fold_settings_default(&set);
    long solved = 0;
    double t0 = now();
    for (long k = 0; k < B; k++) {
        fold_problem_default_params(fold_acopf_problem(model), p);
        for (fold_int i = 0; i < nb; i++)
            p[cols[i]] *= 1 + 0.05 * sin(7.1 * (double)k + 1.3 * (double)i);
        fold_solver *rs = NULL;
        fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
        if (fold_solver_create(fold_acopf_problem(model), &set, &sv[k]) != FOLD_OK) return 2;
        fold_status st = fold_acopf_solve_on(model, sv[k], p, NULL, &rm[k], &rs, &fi, NULL);
        if (rs) { /* the re-solve's solver holds the solution */
            fold_solver_free(sv[k]);
            sv[k] = rs;
        }
        solved += st >= 0;
    }
    double t1 = now();
    for (long k = 0; k < B; k++) {
        fold_acopf_diff_request rq = {
            .mode = FOLD_ACOPF_DIFF_VJP, .n_out = ng, .out = outs, .n_cols = nb, .cols = cols};
        fold_acopf_differentiate(rm[k] ? rm[k] : model, sv[k], &rq, grad, NULL);
    }
    double t2 = now();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s\t%ld\t%ld\t%.6f\t%.6f\t%.1f\n", c->name, B, solved, (t1 - t0) / (double)B,
           (t2 - t1) / (double)B, (double)ru.ru_maxrss / 1024.0);
    for (long k = 0; k < B; k++) {
        fold_solver_free(sv[k]);
        fold_acopf_free(rm[k]);
    }
    free(sv);
    free(rm);
    free(p);
    free(grad);
    free(cols);
    free(outs);
    fold_acopf_free(model);
    return 0;
}
