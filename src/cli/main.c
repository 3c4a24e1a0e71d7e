/* foldopt: command dispatch, --help and --version (doc/cli.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const cli_command commands[] = {
    {"demo", "solve a built-in parametric problem and print its sensitivities", cmd_demo},
    {"check", "compare a problem's derivatives with central finite differences", cmd_check},
    {"settings", "list every setting with its default and documentation", cmd_settings},
    {"train", "train an optimization layer end to end on a synthetic task", cmd_train},
    {"opf", "solve an AC optimal power flow case and differentiate its solution", cmd_opf},
    {"batch", "solve and differentiate an AC-OPF at many scenarios on worker processes", cmd_batch},
    {"gen-grid", "write a synthetic feasible power grid as a MATPOWER case", cmd_gen_grid},
    {"convert", "convert a case between MATPOWER .m and PowerModels JSON", cmd_convert},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: foldopt <command> [options]\n"
                 "       foldopt --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'foldopt <command> --help' describes a command's options.\n"
                 "Exit status: 0 ok, 1 numerical failure, 2 usage or input error.\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("foldopt %s\n", fold_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    if (argv[1][0] == '-')
        cli_usage_error("unknown option '%s'", argv[1]);
    else
        cli_usage_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* Results that did not reach stdout (a full disk, /dev/full) are an error, whatever the
 * command: exit 2 with a message instead of 0 with nothing written. */
int main(int argc, char **argv)
{
    /* OpenBLAS's threads beneath MUMPS and UMFPACK spin without shortening these sparse
     * factorizations (doc/benchmarks.md, "Library threads"): one thread unless the user says
     * otherwise through the libraries' own variables. */
    if (!env_set("OPENBLAS_NUM_THREADS") && !env_set("OMP_NUM_THREADS"))
        (void)fold_set_library_threads(1);
    /* A buffer that holds what most commands print, so that a write error (a full disk,
     * /dev/full) surfaces at the final flush with its cause: past a flush in the middle of
     * the output, stdio keeps only the error flag (reported as EIO below). */
    static char out_buf[1 << 16];
    if (!isatty(STDOUT_FILENO)) setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    int rc = dispatch(argc, argv);
    int err = fflush(stdout) != 0 ? errno : 0;
    if (!err && ferror(stdout)) err = EIO;
    if (fclose(stdout) != 0 && !err && errno != EBADF) /* EBADF: stdout closed, unused */
        err = errno;
    if (err)
        return cli_usage_error("%s%swrite error on standard output: %s",
                               argc > 1 && argv[1][0] != '-' ? argv[1] : "",
                               argc > 1 && argv[1][0] != '-' ? ": " : "", strerror(err));
    return rc;
}
