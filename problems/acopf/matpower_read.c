/* Reading a case file into memory for the tokenizer (matpower.c): the size limit
 * FOLD_ACOPF_MAX_CASE_BYTES checked before the file is read, directories and binary data
 * refused by name (doc/acopf.md §1.1). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "acopf/acopf_internal.h"

/* The whole of fp into a malloc'ed buffer, refusing more than FOLD_ACOPF_MAX_CASE_BYTES
 * (a regular file by its size before anything is read, a pipe or device as it is read) and
 * binary data (a NUL byte: /dev/zero fails at once instead of at the size limit). */
fold_status acopf_read_stream(FILE *fp, const char *path, size_t max_bytes, char **out,
                              size_t *out_len)
{
    struct stat sb;
    char *buf = NULL;
    size_t len = 0, cap = 0, first = (size_t)1 << 16;
    if (fstat(fileno(fp), &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return acopf_error(FOLD_ERR_IO, "%s: is a directory, not a case file", path);
        if (S_ISREG(sb.st_mode) && (uintmax_t)sb.st_size > max_bytes)
            return acopf_error(FOLD_ERR_TOO_LARGE,
                               "%s: %jd bytes: a case file may have at most "
                               "%zu (FOLD_ACOPF_MAX_CASE_BYTES)",
                               path, (intmax_t)sb.st_size, max_bytes);
        if (S_ISREG(sb.st_mode))
            first = (size_t)sb.st_size + 1; /* one read, and one to see the end */
    }
    for (;;) {
        if (!buf || len == cap) {
            size_t nc = buf ? 2 * cap : first;
            nc = nc > max_bytes + 1 ? max_bytes + 1 : nc;
            bool full = buf && nc <= cap; /* max_bytes + 1 read */
            char *nb = full ? NULL : realloc(buf, nc);
            if (!nb) {
                free(buf);
                if (full)
                    return acopf_error(FOLD_ERR_TOO_LARGE,
                                       "%s: more than %zu bytes: a case "
                                       "file may have at most that (FOLD_ACOPF_MAX_CASE_BYTES)",
                                       path, max_bytes);
                return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", path);
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        /* UTF-16 text is full of NUL bytes: the parser names it by its byte-order mark */
        const unsigned char *u = (const unsigned char *)buf;
        bool utf16 =
            len + got >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff));
        const char *nul = got && !utf16 ? memchr(buf + len, '\0', got) : NULL;
        if (nul) {
            size_t offset = (size_t)(nul - buf);
            long line = 1;
            for (size_t q = 0; q < offset; q++)
                line += buf[q] == '\n';
            free(buf);
            return acopf_error(FOLD_ERR_PARSE,
                               "%s:%ld: NUL byte (offset %zu): binary data, not "
                               "a case file",
                               path, line, offset);
        }
        len += got;
        if (got == 0) break;
    }
    if (ferror(fp)) {
        int err = errno;
        free(buf);
        return acopf_error(FOLD_ERR_IO, "%s: read error: %s", path, strerror(err));
    }
    if (len > max_bytes) {
        free(buf);
        return acopf_error(FOLD_ERR_TOO_LARGE,
                           "%s: more than %zu bytes: a case file may have at "
                           "most that (FOLD_ACOPF_MAX_CASE_BYTES)",
                           path, max_bytes);
    }
    *out = buf;
    *out_len = len;
    return FOLD_OK;
}

fold_status acopf_slurp(const char *path, char **out, size_t *out_len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return acopf_error(FOLD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0;
    fold_status st = acopf_read_stream(fp, path, FOLD_ACOPF_MAX_CASE_BYTES, &buf, &len);
    fclose(fp);
    if (st != FOLD_OK) return st;
    char *nb = realloc(buf, len + 1); /* room for the terminating NUL */
    if (!nb) {
        free(buf);
        return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", path);
    }
    nb[len] = '\0';
    *out = nb;
    *out_len = len;
    return FOLD_OK;
}

const char *acopf_base_name(const char *path)
{
    const char *base = strrchr(path, '/');
    return base ? base + 1 : path;
}

fold_status fold_acopf_case_read(const char *path, fold_acopf_case **out)
{
    fold_clear_error();
    if (!path || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_case_read: %s is NULL",
                           path ? "out" : "path");
    char *buf = NULL;
    size_t len = 0;
    fold_status st = acopf_slurp(path, &buf, &len);
    if (st != FOLD_OK) return st;
    st = fold_acopf_case_parse(buf, len, acopf_base_name(path), out);
    free(buf);
    return st;
}
