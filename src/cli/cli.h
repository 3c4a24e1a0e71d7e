/* The foldopt command: one file per subcommand (cmd_<name>.c), shared argument helpers. */
#ifndef FOLD_CLI_H
#define FOLD_CLI_H

#include <stdio.h>

#include "foldopt.h"

/* Exit codes: 0 ok, 1 numerical failure, 2 usage or input error. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

/* Print "foldopt: <message>" to stderr; returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a failed status with fold_last_error to stderr; returns CLI_FAILED or CLI_USAGE. */
int cli_status_error(const char *what, fold_status st);

/* Output of a command: the file path, or stdout when path is NULL. cli_open_output prints
 * "foldopt: CMD: cannot write 'PATH': reason" and returns NULL on failure. cli_close_output
 * flushes and checks every write (a full disk, /dev/full), closes a file (never stdout) and
 * removes a regular file that could not be written completely; on failure it prints
 * "foldopt: CMD: write error on 'PATH' (or standard output): reason" and returns CLI_USAGE,
 * else CLI_OK. main() checks stdout once more when the command returns. */
FILE *cli_open_output(const char *cmd, const char *path);
int cli_close_output(const char *cmd, FILE *out, const char *path);

/* Parse a number / integer option value; print a usage error and return false on failure. */
bool cli_parse_double(const char *opt, const char *text, double *out);
bool cli_parse_long(const char *opt, const char *text, long *out);
/* Apply "--set group.name=value" to settings. */
bool cli_apply_set(fold_settings *s, const char *assignment);
/* Ipopt options of --ipopt name=value, for the solvers a command creates
 * (fold_solver_set_ipopt_options): name, value, ..., NULL in list (NULL when empty). */
typedef struct cli_ipopt {
    char **list;
    int n; /* options */
} cli_ipopt;
/* Add "name=value" (checked by fold_ipopt_option_check; a name given again replaces its
 * value); usage error and false when refused. */
bool cli_add_ipopt(cli_ipopt *o, const char *assignment);
void cli_ipopt_free(cli_ipopt *o);

/* Write a case file through write(ctx, fp) (an AC-OPF writer: its failures are reported with
 * fold_last_error): to a temporary file renamed into place, nothing left on failure.
 * Returns CLI_OK or CLI_USAGE after printing "foldopt: <cmd>: cannot write '<path>': .." or
 * "foldopt: <cmd>: write error on '<path>': <reason>". */
int cli_write_case_file(const char *cmd, const char *path,
                        fold_status (*write)(const void *ctx, FILE *fp), const void *ctx);

/* Subcommands. */
int cmd_demo(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_settings(int argc, char **argv);
int cmd_opf(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_gen_grid(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_train(int argc, char **argv);

#endif
