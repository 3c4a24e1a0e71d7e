/* Case files written by foldopt (convert, opf -o X.m): to a temporary file next to the
 * target, synced and renamed, so that a failed write leaves neither a partial file nor a
 * changed old one; the file gets the permissions of a file fopen would create. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "acopf/acopf.h"

int cli_write_case_file(const char *cmd, const char *path,
                        fold_status (*write)(const void *ctx, FILE *fp), const void *ctx)
{
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp) return cli_usage_error("%s: out of memory", cmd);
    snprintf(tmp, len, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    mode_t mask = umask(0);
    umask(mask);
    FILE *fp = fd >= 0 && fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!fp) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return cli_usage_error("%s: cannot write '%s': %s", cmd, path, strerror(err));
    }
    fold_status st = write(ctx, fp);
    bool ok = st == FOLD_OK && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    ok = fclose(fp) == 0 && ok && rename(tmp, path) == 0;
    int rc = CLI_OK;
    if (!ok) {
        rc = cli_usage_error("%s: cannot write '%s': %s", cmd, path,
                             st != FOLD_OK ? fold_acopf_last_error() : strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
