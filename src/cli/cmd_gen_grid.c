/* foldopt gen-grid: write a synthetic feasible grid as a MATPOWER case (doc/cli.md,
 * doc/acopf.md §4). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "foldopt/acopf.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: foldopt gen-grid --buses N [--seed S] [-o FILE]\n"
                 "Write a synthetic meshed grid of N buses (N >= 2) as a MATPOWER version-2 case\n"
                 "(stdout unless -o): buses on a jittered lattice, a random spanning tree plus\n"
                 "extra edges, generators on about 20%% of the buses, within two branches of\n"
                 "every bus. Feasible by construction: an operating point is solved first and\n"
                 "the limits are set around it with margins; the file carries it (bus Vm, Va,\n"
                 "generator Pg, Qg). Same seed, same grid.\n");
}

int cmd_gen_grid(int argc, char **argv)
{
    long n_bus = -1, seed = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--buses")) {
            if (!cli_parse_long(a, val, &n_bus)) return CLI_USAGE;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_long(a, val, &seed)) return CLI_USAGE;
            i++;
        } else if (!strcmp(a, "-o")) {
            if (!val) return cli_usage_error("-o needs a file name");
            path = val;
            i++;
        } else {
            usage(stderr);
            return cli_usage_error("gen-grid: unknown argument '%s'", a);
        }
    }
    if (n_bus < 0) {
        usage(stderr);
        return cli_usage_error("gen-grid: --buses is required");
    }
    if (n_bus < 2 || n_bus > 10000000)
        return cli_usage_error("gen-grid: --buses must be in [2, 10000000], got %ld", n_bus);
    if (seed < 0) return cli_usage_error("gen-grid: --seed must be non-negative, got %ld", seed);
    fold_acopf_case *cs = NULL;
    fold_status st = fold_acopf_gen_grid(n_bus, (unsigned long long)seed, &cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: gen-grid: %s\n", fold_last_error());
        return CLI_FAILED;
    }
    FILE *out = cli_open_output("gen-grid", path);
    if (!out) {
        fold_acopf_case_free(cs);
        return CLI_USAGE;
    }
    fold_acopf_case_write(cs, out); /* a write error stays in out's error flag */
    fold_acopf_case_free(cs);
    return cli_close_output("gen-grid", out, path);
}
