/* foldopt convert: a case from one format into another (MATPOWER .m, PowerModels JSON),
 * by the output file's extension (doc/cli.md, doc/acopf.md §1.3). */
#include <string.h>

#include "cli.h"
#include "foldopt/acopf.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: foldopt convert IN OUT\n"
            "Read the case IN (MATPOWER version-2 .m or PowerModels JSON, told by its content)\n"
            "and write it to OUT as a PowerModels JSON network (OUT ending in .json, per\n"
            "unit as PowerModels' export_json writes it) or a MATPOWER case (.m). Only the\n"
            "in-service buses, generators and branches are written.\n");
}

static fold_status write_json(const void *cs, FILE *fp)
{
    return fold_acopf_case_write_pm_json(cs, fp);
}

static fold_status write_m(const void *cs, FILE *fp)
{
    return fold_acopf_case_write(cs, fp);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n > k && !strcmp(s + n - k, tail);
}

int cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("convert: unknown option '%s'", argv[i]);
        if (!in)
            in = argv[i];
        else if (!out)
            out = argv[i];
        else
            return cli_usage_error("convert: more than two files ('%s')", argv[i]);
    }
    if (!in || !out) {
        usage(stderr);
        return cli_usage_error("convert: IN and OUT are required");
    }
    bool json = ends_with(out, ".json");
    if (!json && !ends_with(out, ".m"))
        return cli_usage_error("convert: '%s': the output must end in .json (PowerModels) or "
                               ".m (MATPOWER)",
                               out);
    fold_acopf_case *cs = NULL;
    fold_status st = fold_acopf_case_read(in, &cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: convert: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    int rc = cli_write_case_file("convert", out, json ? write_json : write_m, cs);
    fold_acopf_case_free(cs);
    return rc;
}
