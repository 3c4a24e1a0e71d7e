/* foldopt check: compare a problem's derivative callbacks with central finite differences
 * at its start point, default parameters and seeded random multipliers (doc/cli.md,
 * doc/api/problem.md "Derivative checker"). */
#include <stdlib.h>
#include <string.h>

#include "foldopt/acopf.h"
#include "basic/basic.h"
#include "common/random.h"
#include "cli.h"

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: foldopt check PROBLEM [--h H] [--tol T] [--seed S] [--jitter R] [--json]\n"
            "Compare every derivative callback of PROBLEM (grad_f, jac_g, hess_l and, when\n"
            "present, grad_f_p, jac_g_p, hess_lp) with central finite differences of step\n"
            "H * max(1, |v|) (default 1e-6) at the start point, the default parameters and\n"
            "multipliers drawn uniformly from [-1, 1] with seed S (default 1). An entry is bad\n"
            "when |analytic - fd| > T * max(1, |fd|) (default T = 1e-5).\n"
            "PROBLEM: a built-in problem (");
    for (const char *const *name = fold_builtin_names(); *name; name++)
        fprintf(out, "%s%s", *name, name[1] ? ", " : "");
    fprintf(out, ") or a MATPOWER case file (a path ending in .m: the AC-OPF model of\n"
                 "doc/acopf.md at its start point, the ratio start).\n"
                 "--jitter R moves every variable from the start point by up to R times its\n"
                 "bound range (R in absolute units when a bound is infinite), seeded by S and\n"
                 "kept within the bounds (default 0).\n"
                 "--json prints the report as one JSON object.\n"
                 "Exit status: 0 all entries agree, 1 some entry is bad or a callback failed,\n"
                 "2 usage error.\n");
}

/* The checked problem and what owns it (a built-in problem or an AC-OPF model). */
typedef struct checked {
    fold_problem *own;
    fold_acopf *model;
    const fold_problem *prob;
} checked;

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* A built-in problem by name, or the AC-OPF model of a MATPOWER case (PROBLEM ends in .m).
 * Prints the reason and returns a CLI exit code on failure. */
static int create_problem(const char *name, checked *c)
{
    if (!ends_with(name, ".m")) {
        if (fold_builtin_create(name, &c->own) != FOLD_OK)
            return cli_usage_error("check: unknown problem '%s' (see foldopt check --help)", name);
        c->prob = c->own;
        return CLI_OK;
    }
    fold_acopf_case *cs = NULL;
    fold_status st = fold_acopf_case_read(name, &cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: check: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    st = fold_acopf_create(cs, &c->model);
    fold_acopf_case_free(cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: check: %s\n", fold_last_error());
        return CLI_FAILED;
    }
    c->prob = fold_acopf_problem(c->model);
    return CLI_OK;
}

/* Reproducible multipliers on every platform. */
static double uniform_pm1(uint64_t *state)
{
    return 2.0 * rng_unit(rng_xorshift64s(state)) - 1;
}

static void print_text(const char *name, fold_int n, fold_int m, fold_int np, double h, double tol,
                       long seed, double jitter, const fold_deriv_report *r)
{
    printf("problem        %s (n = %lld, m = %lld, np = %lld)\n", name, (long long)n, (long long)m,
           (long long)np);
    printf("point          start point%s, default parameters, random lam (seed %ld)\n",
           jitter > 0 ? " jittered" : "", seed);
    printf("step, tol      h = %g, tol = %g\n", h, tol);
    printf("checked        %lld entries\n", (long long)r->n_checked);
    printf("bad            %lld\n", (long long)r->n_bad);
    printf("missing        %lld (nonzero outside the declared pattern)\n", (long long)r->n_missing);
    printf("max abs error  %.3e\n", r->max_abs_error);
    printf("max rel error  %.3e\n", r->max_rel_error);
    printf("worst entry    %s[%lld,%lld]: analytic %.12g, finite difference %.12g\n",
           r->worst_function, (long long)r->worst_row, (long long)r->worst_col, r->worst_analytic,
           r->worst_fd);
    printf("result         %s\n", r->n_bad ? "FAILED" : "ok");
}

/* A JSON string literal (problem names may be file paths). */
static void put_json_string(const char *v)
{
    putchar('"');
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(const char *name, fold_int n, fold_int m, fold_int np, double h, double tol,
                       long seed, double jitter, const fold_deriv_report *r)
{
    printf("{\"problem\": ");
    put_json_string(name);
    printf(
        ", \"n\": %lld, \"m\": %lld, \"np\": %lld, \"h\": %.17g, "
        "\"tol\": %.17g, \"seed\": %ld, \"jitter\": %.17g, \"n_checked\": %lld, \"n_bad\": %lld, "
        "\"n_missing\": %lld, \"max_abs_error\": %.17g, \"max_rel_error\": %.17g, "
        "\"worst\": {\"function\": \"%s\", \"row\": %lld, \"col\": %lld, "
        "\"analytic\": %.17g, \"fd\": %.17g}, \"ok\": %s}\n",
        (long long)n, (long long)m, (long long)np, h, tol, seed, jitter, (long long)r->n_checked,
        (long long)r->n_bad, (long long)r->n_missing, r->max_abs_error, r->max_rel_error,
        r->worst_function, (long long)r->worst_row, (long long)r->worst_col, r->worst_analytic,
        r->worst_fd, r->n_bad ? "false" : "true");
}

int cmd_check(int argc, char **argv)
{
    const char *name = NULL;
    double h = 1e-6, tol = 1e-5, jitter = 0;
    long seed = 1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            print_usage(stdout);
            return CLI_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--h") && i + 1 < argc) {
            if (!cli_parse_double("--h", argv[++i], &h)) return CLI_USAGE;
        } else if (!strcmp(argv[i], "--tol") && i + 1 < argc) {
            if (!cli_parse_double("--tol", argv[++i], &tol)) return CLI_USAGE;
        } else if (!strcmp(argv[i], "--jitter") && i + 1 < argc) {
            if (!cli_parse_double("--jitter", argv[++i], &jitter)) return CLI_USAGE;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            if (!cli_parse_long("--seed", argv[++i], &seed)) return CLI_USAGE;
        } else if (argv[i][0] == '-' || name) {
            print_usage(stderr);
            return cli_usage_error("check: unknown or incomplete argument '%s'", argv[i]);
        } else {
            name = argv[i];
        }
    }
    if (!name) {
        print_usage(stderr);
        return cli_usage_error("check: PROBLEM is missing");
    }
    if (!(h > 0) || !(tol > 0)) return cli_usage_error("check: --h and --tol must be > 0");
    if (!(jitter >= 0)) return cli_usage_error("check: --jitter must be >= 0");

    checked c = {NULL, NULL, NULL};
    int crc = create_problem(name, &c);
    if (crc != CLI_OK) return crc;
    const fold_problem *prob = c.prob;
    fold_int n, m, np;
    fold_problem_dims(prob, &n, &m, &np);
    double *x = malloc((size_t)n * sizeof *x), *p = malloc((size_t)(np + 1) * sizeof *p);
    double *lam = malloc((size_t)(m + 1) * sizeof *lam);
    double *lo = malloc((size_t)n * sizeof *lo), *hi = malloc((size_t)n * sizeof *hi);
    int rc = CLI_OK;
    if (!x || !p || !lam || !lo || !hi) {
        rc = cli_status_error("check", FOLD_ERR_MEMORY);
        goto done;
    }
    uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)seed;
    fold_problem_start_point(prob, x);
    fold_problem_default_params(prob, p);
    for (fold_int i = 0; i < m; i++)
        lam[i] = uniform_pm1(&state);
    if (jitter > 0) {
        fold_problem_bounds(prob, p, lo, hi, NULL, NULL);
        for (fold_int j = 0; j < n; j++) {
            bool finite = lo[j] > -FOLD_INF_BOUND && hi[j] < FOLD_INF_BOUND;
            double step = jitter * (finite ? hi[j] - lo[j] : 1.0) * uniform_pm1(&state);
            x[j] = fmin(fmax(x[j] + step, lo[j]), hi[j]);
        }
    }
    fold_deriv_report rep = FOLD_DERIV_REPORT_INIT;
    fold_status st = fold_problem_check_derivatives(prob, x, p, lam, h, tol, &rep);
    if (st < 0) {
        rc = cli_status_error("check", st);
        goto done;
    }
    if (json)
        print_json(name, n, m, np, h, tol, seed, jitter, &rep);
    else
        print_text(name, n, m, np, h, tol, seed, jitter, &rep);
    rc = rep.n_bad ? CLI_FAILED : CLI_OK;
done:
    free(x);
    free(p);
    free(lam);
    free(lo);
    free(hi);
    fold_problem_free(c.own);
    fold_acopf_free(c.model);
    return rc;
}
