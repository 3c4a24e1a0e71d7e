/* foldopt batch: the journal. Records are appended to OUT.part as they complete (one
 * write per record: complete or absent), so memory stays bounded whatever the order; the
 * output is written in scenario order from it, to a temporary file renamed to OUT, and the
 * journal removed. A killed run leaves OUT.part, which --resume continues (doc/cli.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_batch.h"

#define MAGIC "#foldopt-batch-journal 1"

struct batch_journal {
    const batch_format *f;
    char *out, *part, *tmp; /* output, journal and temporary paths (out NULL: stdout) */
    int fd;                 /* the journal */
    fold_int n, next_out;   /* stdout: next scenario to print */
    off_t *off;             /* per scenario: offset of its line in the journal, -1 */
    size_t *len;
    off_t end;
    char *line; /* one line read back */
    size_t line_cap;
};

unsigned long long batch_hash(unsigned long long h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t k = 0; k < len; k++) {
        h ^= p[k];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    char *s = malloc(n + m + 1);
    if (s) {
        memcpy(s, a, n);
        memcpy(s + n, b, m + 1);
    }
    return s;
}

static int write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, s, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

static int read_line_at(batch_journal *j, fold_int s)
{
    if (j->len[s] + 1 > j->line_cap) {
        char *l = realloc(j->line, j->len[s] + 1);
        if (!l) return -1;
        j->line = l;
        j->line_cap = j->len[s] + 1;
    }
    size_t got = 0;
    while (got < j->len[s]) {
        ssize_t k = pread(j->fd, j->line + got, j->len[s] - got, j->off[s] + (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

/* Read an existing journal: its header must match; every complete line is a record; a torn
 * last line (a kill during its write) is cut off. */
static int load(batch_journal *j, const char *header, unsigned char *done)
{
    FILE *in = fdopen(dup(j->fd), "r");
    if (!in) return cli_usage_error("batch: cannot read '%s': %s", j->part, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t k;
    off_t at = 0;
    int rc = 0;
    long lineno = 0;
    while ((k = getline(&line, &cap, in)) > 0) {
        lineno++;
        if (line[k - 1] != '\n') break; /* torn: cut below */
        if (lineno == 1) {
            if (strcmp(line, header))
                rc = cli_usage_error("batch: --resume: '%s' was written by another batch (case, "
                                     "scenarios, output format or options differ); remove it "
                                     "or run without --resume",
                                     j->part);
        } else {
            bool ends;
            fold_int s = batch_line_scenario(line, (size_t)k, j->f->format, &ends);
            if (s < 0 || s >= j->n || j->off[s] >= 0)
                rc = cli_usage_error("batch: --resume: '%s':%ld: %s", j->part, lineno,
                                     s < 0 || s >= j->n ? "not a record of this batch"
                                                        : "scenario recorded twice");
            else {
                j->off[s] = at;
                j->len[s] = (size_t)k;
                done[s] = ends ? FOLD_BATCH_RECORDED_END : FOLD_BATCH_RECORDED;
            }
        }
        if (rc) break;
        at += k;
    }
    free(line);
    fclose(in);
    if (!rc && lineno == 0) rc = cli_usage_error("batch: --resume: '%s' is empty", j->part);
    if (!rc && ftruncate(j->fd, at))
        rc = cli_usage_error("batch: cannot truncate '%s': %s", j->part, strerror(errno));
    j->end = at;
    return rc;
}

int batch_journal_open(batch_journal **out_j, const char *out, const batch_format *f, fold_int n,
                       unsigned long long fingerprint, bool resume, unsigned char **done_out)
{
    batch_journal *j = calloc(1, sizeof *j);
    unsigned char *done = calloc((size_t)n + 1, 1);
    char header[128];
    *out_j = NULL;
    *done_out = NULL;
    if (!j || !done || !(j->off = malloc(((size_t)n + 1) * sizeof *j->off)) ||
        !(j->len = calloc((size_t)n + 1, sizeof *j->len))) {
        free(done);
        batch_journal_free(j);
        return cli_usage_error("batch: out of memory for %ld scenarios", (long)n);
    }
    j->f = f;
    j->n = n;
    j->fd = -1;
    for (fold_int s = 0; s < n; s++)
        j->off[s] = -1;
    snprintf(header, sizeof header, "%s %016llx %ld %s\n", MAGIC, fingerprint, (long)n,
             f->format == BATCH_CSV ? "csv" : "jsonl");
    int rc = 0;
    if (!out) {
        FILE *t = tmpfile();
        j->fd = t ? dup(fileno(t)) : -1;
        if (t) fclose(t);
        if (j->fd < 0)
            rc = cli_usage_error("batch: cannot create a temporary file: %s", strerror(errno));
    } else if (!(j->out = strdup(out)) || !(j->part = concat(out, ".part")) ||
               !(j->tmp = concat(out, ".tmp"))) {
        rc = cli_usage_error("batch: out of memory");
    } else {
        struct stat sb;
        bool have = resume && stat(j->part, &sb) == 0;
        j->fd = open(j->part, O_RDWR | O_APPEND | O_CREAT | (have ? 0 : O_TRUNC), 0644);
        if (j->fd < 0)
            rc = cli_usage_error("batch: cannot write '%s': %s", j->part, strerror(errno));
        else if (have)
            rc = load(j, header, done);
        else if (write_all(j->fd, header, strlen(header)))
            rc = cli_usage_error("batch: write error on '%s': %s", j->part, strerror(errno));
        else
            j->end = (off_t)strlen(header);
    }
    if (rc) {
        free(done);
        batch_journal_free(j);
        return rc;
    }
    if (!out) batch_format_header(f, stdout);
    *out_j = j;
    *done_out = done;
    return 0;
}

/* stdout: print the records that now follow in scenario order. */
static int flush_in_order(batch_journal *j)
{
    while (j->next_out < j->n && j->off[j->next_out] >= 0) {
        if (read_line_at(j, j->next_out))
            return cli_usage_error("batch: cannot read back the journal: %s", strerror(errno));
        fwrite(j->line, 1, j->len[j->next_out], stdout);
        j->next_out++;
    }
    return fflush(stdout) ? cli_usage_error("batch: write error on stdout") : 0;
}

int batch_journal_add(batch_journal *j, fold_int s, const char *line, size_t len)
{
    if (write_all(j->fd, line, len))
        return cli_usage_error("batch: write error on %s: %s", j->part ? j->part : "journal",
                               strerror(errno));
    j->off[s] = j->end;
    j->len[s] = len;
    j->end += (off_t)len;
    return j->out ? 0 : flush_in_order(j);
}

int batch_journal_finish(batch_journal *j, bool complete)
{
    if (!j->out) return 0;
    if (!complete) return 0; /* the journal stays for --resume */
    FILE *out = fopen(j->tmp, "w");
    if (!out) return cli_usage_error("batch: cannot write '%s': %s", j->tmp, strerror(errno));
    batch_format_header(j->f, out);
    int rc = 0;
    for (fold_int s = 0; !rc && s < j->n; s++)
        rc = j->off[s] < 0 || read_line_at(j, s) || fwrite(j->line, 1, j->len[s], out) != j->len[s];
    if (!rc) rc = fflush(out) || fsync(fileno(out));
    if (fclose(out) || rc || rename(j->tmp, j->out)) {
        int e = errno;
        unlink(j->tmp);
        return cli_usage_error("batch: cannot write '%s': %s", j->out, strerror(e));
    }
    close(j->fd);
    j->fd = -1;
    unlink(j->part);
    return 0;
}

void batch_journal_free(batch_journal *j)
{
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    free(j->out);
    free(j->part);
    free(j->tmp);
    free(j->off);
    free(j->len);
    free(j->line);
    free(j);
}
