/* Case files written by foldopt (convert, opf -o X.m): to a temporary file next to the
 * target, synced and renamed, so that a failed write leaves neither a partial file nor a
 * changed old one; the file gets the permissions of a file fopen would create. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "foldopt/acopf.h"

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
    errno = 0;
    fold_status st = write(ctx, fp);
    int err = st == FOLD_ERR_IO ? errno : 0; /* the failed write's reason (EFBIG, ENOSPC) */
    bool ok = st == FOLD_OK && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    if (!ok && !err) err = errno;
    ok = fclose(fp) == 0 && ok;
    if (!ok && !err) err = errno;
    ok = ok && rename(tmp, path) == 0;
    int rc = CLI_OK;
    if (!ok) {
        if (st != FOLD_OK && st != FOLD_ERR_IO)
            rc = cli_usage_error("%s: cannot write '%s': %s", cmd, path, fold_last_error());
        else
            rc = cli_usage_error("%s: write error on '%s': %s", cmd, path,
                                 strerror(err     ? err
                                          : errno ? errno
                                                  : EIO));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
