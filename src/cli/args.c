/* Argument helpers shared by the subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("foldopt: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

int cli_status_error(const char *what, fold_status st)
{
    fprintf(stderr, "foldopt: %s: %s", what, fold_status_string(st));
    if (fold_last_error()[0]) fprintf(stderr, ": %s", fold_last_error());
    fputc('\n', stderr);
    switch (st) {
    case FOLD_ERR_ARGUMENT:
    case FOLD_ERR_DIMENSION:
    case FOLD_ERR_SETTING:
    case FOLD_ERR_IO:
    case FOLD_ERR_PARSE:
    case FOLD_ERR_UNSUPPORTED:
        return CLI_USAGE;
    default:
        return CLI_FAILED;
    }
}

FILE *cli_open_output(const char *cmd, const char *path)
{
    if (!path) return stdout;
    FILE *out = fopen(path, "w");
    if (!out) cli_usage_error("%s: cannot write '%s': %s", cmd, path, strerror(errno));
    return out;
}

int cli_close_output(const char *cmd, FILE *out, const char *path)
{
    int err = fflush(out) != 0 ? errno : 0;
    if (!err && ferror(out)) err = EIO;
    if (out == stdout) {
        if (!err) return CLI_OK;
        clearerr(stdout); /* reported here: main() need not report it again */
        return cli_usage_error("%s: write error on standard output: %s", cmd, strerror(err));
    }
    struct stat sb;
    bool regular = fstat(fileno(out), &sb) == 0 && S_ISREG(sb.st_mode);
    if (fclose(out) != 0 && !err) err = errno;
    if (!err) return CLI_OK;
    if (regular) /* nothing half-written is left (a device such as /dev/full stays) */
        remove(path);
    return cli_usage_error("%s: write error on '%s': %s", cmd, path, strerror(err));
}

bool cli_parse_double(const char *opt, const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = text ? strtod(text, &end) : 0;
    if (!text || end == text || *end || errno == ERANGE || !isfinite(*out)) {
        cli_usage_error("%s needs a finite number, got '%s'", opt, text ? text : "");
        return false;
    }
    return true;
}

bool cli_parse_long(const char *opt, const char *text, long *out)
{
    char *end;
    errno = 0;
    *out = text ? strtol(text, &end, 10) : 0;
    if (!text || end == text || *end || errno == ERANGE) {
        cli_usage_error("%s needs an integer, got '%s'", opt, text ? text : "");
        return false;
    }
    return true;
}

static bool split_assignment(const char *opt, const char *assignment, char *name, size_t cap,
                             const char **value)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment || (size_t)(eq - assignment) >= cap) {
        cli_usage_error("%s needs name=value, got '%s'", opt, assignment ? assignment : "");
        return false;
    }
    memcpy(name, assignment, (size_t)(eq - assignment));
    name[eq - assignment] = '\0';
    *value = eq + 1;
    return true;
}

bool cli_apply_set(fold_settings *s, const char *assignment)
{
    char name[128];
    const char *value;
    if (!split_assignment("--set", assignment, name, sizeof name, &value)) return false;
    if (fold_settings_set(s, name, value) != FOLD_OK) {
        cli_usage_error("--set: %s", fold_last_error());
        return false;
    }
    return true;
}

bool cli_add_ipopt(cli_ipopt *o, const char *assignment)
{
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment) {
        cli_usage_error("--ipopt needs name=value, got '%s'", assignment ? assignment : "");
        return false;
    }
    char *name = strndup(assignment, (size_t)(eq - assignment)), *value = strdup(eq + 1);
    if (!name || !value) {
        free(name);
        free(value);
        cli_usage_error("--ipopt: out of memory");
        return false;
    }
    if (fold_ipopt_option_check(name, value) != FOLD_OK) {
        cli_usage_error("--ipopt: %s", fold_last_error());
        free(name);
        free(value);
        return false;
    }
    for (int k = 0; k < o->n; k++)
        if (!strcmp(o->list[2 * k], name)) { /* given again: the last value counts */
            free(name);
            free(o->list[2 * k + 1]);
            o->list[2 * k + 1] = value;
            return true;
        }
    char **grown = realloc(o->list, (size_t)(2 * o->n + 3) * sizeof *grown);
    if (!grown) {
        free(name);
        free(value);
        cli_usage_error("--ipopt: out of memory");
        return false;
    }
    o->list = grown;
    o->list[2 * o->n] = name;
    o->list[2 * o->n + 1] = value;
    o->list[2 * ++o->n] = NULL;
    return true;
}

void cli_ipopt_free(cli_ipopt *o)
{
    for (int k = 0; k < 2 * o->n; k++)
        free(o->list[k]);
    free(o->list);
    o->list = NULL;
    o->n = 0;
}
