/* foldopt demo: solve a built-in parametric problem with Ipopt and print its solution, the
 * optimal-value gradient and the Jacobian dx/dp from one factorization. */
#include <stdlib.h>
#include <string.h>

#include "basic/basic.h"
#include "cli.h"

static void print_usage(FILE *out)
{
    fprintf(out, "usage: foldopt demo [--problem hs071|pqp] [--set name=value] [-v]\n"
                 "Solve a built-in parametric problem with Ipopt, then fold it: the gradient of\n"
                 "the optimal value (envelope theorem) and the Jacobian dx*/dp.\n");
}

int cmd_demo(int argc, char **argv)
{
    const char *name = "hs071";
    fold_settings set;
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_forward_info fwd = FOLD_FORWARD_INFO_INIT;
    fold_backward_info bwd = FOLD_BACKWARD_INFO_INIT;
    fold_int n, m, np;
    double *x = NULL, *grad = NULL, *jac = NULL, obj;
    int rc = CLI_OK;
    fold_status st;

    fold_settings_default(&set);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            print_usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--problem") && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            if (!cli_apply_set(&set, argv[++i])) return CLI_USAGE;
        } else if (!strcmp(argv[i], "-v")) {
            set.log.verbose = 2;
        } else {
            print_usage(stderr);
            return cli_usage_error("demo: unknown or incomplete option '%s'", argv[i]);
        }
    }
    if (fold_builtin_create(name, &prob) != FOLD_OK)
        return cli_usage_error("demo: unknown problem '%s' (hs071, pqp)", name);
    fold_problem_dims(prob, &n, &m, &np);
    x = calloc((size_t)n, sizeof *x);
    grad = calloc((size_t)np, sizeof *grad);
    jac = calloc((size_t)(n * np), sizeof *jac);
    if (!x || !grad || !jac) {
        rc = cli_usage_error("demo: out of memory");
        goto done;
    }
    if ((st = fold_solver_create(prob, &set, &solver)) != FOLD_OK) {
        rc = cli_status_error("creating the solver", st);
        goto done;
    }
    if ((st = fold_solve(solver, NULL, &fwd)) < 0) {
        rc = cli_status_error("forward solve", st);
        goto done;
    }
    fold_solver_solution(solver, x, NULL, NULL, NULL, &obj);
    printf("problem %s: n = %lld, m = %lld, np = %lld\n", name, (long long)n, (long long)m,
           (long long)np);
    printf("forward (Ipopt): %s, objective %.10g, %lld iterations, %.4f s\n",
           fold_forward_status_string(fwd.status), obj, (long long)fwd.iterations, fwd.total_s);
    printf("x* =");
    for (fold_int j = 0; j < n; j++)
        printf(" %.6f", x[j]);
    printf("\n");
    if ((st = fold_value_gradient(solver, grad)) < 0) {
        rc = cli_status_error("optimal-value gradient", st);
        goto done;
    }
    printf("d f*/dp (envelope theorem) =");
    for (fold_int k = 0; k < np; k++)
        printf(" %.6f", grad[k]);
    printf("\n");
    if ((st = fold_jacobian(solver,
                            &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np},
                            jac, &bwd)) < 0) {
        rc = cli_status_error("Jacobian", st);
        goto done;
    }
    printf("dx*/dp (%s KKT, %lld x %lld system, %lld factor nonzeros, %.2e s):\n",
           bwd.kkt_form == FOLD_KKT_BARRIER ? "barrier" : "active-set", (long long)bwd.dim,
           (long long)bwd.dim, (long long)bwd.factor_nnz, bwd.total_s);
    for (fold_int j = 0; j < n; j++) {
        printf("  x%-3lld", (long long)j);
        for (fold_int k = 0; k < np; k++)
            printf(" %10.6f", jac[k * n + j]);
        printf("\n");
    }
done:
    fold_solver_free(solver);
    fold_problem_free(prob);
    free(x);
    free(grad);
    free(jac);
    return rc;
}
