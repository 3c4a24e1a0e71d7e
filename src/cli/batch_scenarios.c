/* foldopt batch: scenarios from a CSV file (one row per scenario, columns KIND:ITEM keyed
 * like foldopt opf's parameters, absolute values or factors of the case's) or sampled (loads scaled
 * uniformly with per-bus normal noise, computed on demand from the seed). doc/cli.md. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_batch.h"
#include "common/random.h"

typedef struct csv {
    const char *path, *text;
    size_t len, pos;
    long line; /* 1-based line of pos */
    const char *line_start;
} csv;

static int csv_error(const csv *c, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int csv_error(const csv *c, const char *at, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "foldopt: batch: %s:%ld:%ld: ", c->path, c->line ? c->line : 1,
            c->line_start ? (long)(at - c->line_start) + 1 : 1L);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

/* The next line without its end (CR LF or LF); false at the end of the text. */
static bool next_line(csv *c, const char **s, size_t *n)
{
    if (c->pos >= c->len) return false;
    const char *start = c->text + c->pos, *end = memchr(start, '\n', c->len - c->pos);
    size_t k = end ? (size_t)(end - start) : c->len - c->pos;
    c->pos += k + (end != NULL);
    if (c->line_start)
        c->line++;
    else
        c->line = 1;
    c->line_start = start;
    *s = start;
    *n = k > 0 && start[k - 1] == '\r' ? k - 1 : k;
    return true;
}

static bool blank(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t') return false;
    return true;
}

/* Field k of a line: [*f, *f + *fn) trimmed; returns the position after its comma (or the
 * end). */
static const char *field(const char *s, const char *end, const char **f, size_t *fn)
{
    const char *comma = memchr(s, ',', (size_t)(end - s));
    const char *e = comma ? comma : end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    const char *t = e;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
    *f = s;
    *fn = (size_t)(t - s);
    return comma ? comma + 1 : NULL;
}

static bool is_cost(int kind)
{
    return kind == FOLD_ACOPF_P_C0 || kind == FOLD_ACOPF_P_C1 || kind == FOLD_ACOPF_P_C2;
}

/* A key KIND:ITEM: any parameter kind of foldopt opf's --wrt (MATPOWER's column names for
 * rate_a, tap, shift too), ITEM a bus id, generator or branch row, or * for every one. */
static int parse_key(const csv *c, const char *f, size_t n, const fold_acopf_case *cs,
                     batch_column *col)
{
    const char *colon = memchr(f, ':', n);
    char name[32], buf[32], *end;
    size_t kn = colon ? (size_t)(colon - f) : n;
    int kind = -1;
    if (colon && kn < sizeof name) {
        memcpy(name, f, kn);
        name[kn] = '\0';
        kind = opf_kind_of(name, true);
    }
    if (kind < 0)
        return csv_error(c, f,
                         "unknown key '%.*s' (keys KIND:ITEM, KIND a parameter of "
                         "foldopt opf --wrt such as pd, qd, c1, rate_a, ITEM a bus id, generator "
                         "or branch row of the case, or * for every one)",
                         (int)n, f);
    col->kind = kind;
    int type = fold_acopf_param_item_type(kind);
    size_t vn = n - kn - 1;
    const char *v = colon + 1; /* the item */
    if (vn == 1 && v[0] == '*') {
        col->index = -1;
        return 0;
    }
    if (vn >= sizeof buf) return csv_error(c, f, "key '%.*s': number too long", (int)n, f);
    memcpy(buf, v, vn);
    buf[vn] = '\0';
    errno = 0;
    long id = strtol(buf, &end, 10);
    if (end == buf || *end || errno)
        return csv_error(c, f, "key '%.*s': '%s' is not an integer or *", (int)n, f, buf);
    col->index = opf_item_index(cs, type, id);
    if (col->index < 0)
        return csv_error(c, f,
                         "key '%.*s': no %s %ld in case %s (a scenario file for another "
                         "case?)",
                         (int)n, f,
                         type == FOLD_ACOPF_ITEM_BUS   ? "bus"
                         : type == FOLD_ACOPF_ITEM_GEN ? "generator row"
                                                       : "branch row",
                         id, cs->name);
    if (is_cost(kind) && cs->gen[col->index].pwl)
        return csv_error(c, f,
                         "key '%.*s': generator row %ld has a piecewise-linear cost (c0, "
                         "c1, c2 have no effect on it)",
                         (int)n, f, id);
    return 0;
}

/* The header: "# case: NAME" comments checked, then the keys. */
static int parse_header(batch_scenarios *sc, csv *c, const fold_acopf_case *cs)
{
    const char *s;
    size_t n;
    while (next_line(c, &s, &n)) {
        if (blank(s, n)) continue;
        if (s[0] == '#') {
            const char *tag = "# case:";
            size_t tl = strlen(tag);
            if (n > tl && !strncmp(s, tag, tl)) {
                const char *f;
                size_t fn;
                field(s + tl, s + n, &f, &fn);
                if (fn != strlen(cs->name) || strncmp(f, cs->name, fn))
                    return csv_error(c, f, "the scenarios are for case '%.*s', not %s", (int)fn, f,
                                     cs->name);
            }
            continue;
        }
        const char *p = s, *end = s + n;
        while (p) {
            const char *f;
            size_t fn;
            p = field(p, end, &f, &fn);
            batch_column col;
            int rc = parse_key(c, f, fn, cs, &col);
            if (rc) return rc;
            for (fold_int k = 0; k < sc->n_cols; k++)
                if (sc->cols[k].kind == col.kind && sc->cols[k].index == col.index)
                    return csv_error(c, f, "key '%.*s' appears twice", (int)fn, f);
            batch_column *g = realloc(sc->cols, (size_t)(sc->n_cols + 1) * sizeof *g);
            if (!g) return cli_usage_error("batch: out of memory");
            sc->cols = g;
            sc->cols[sc->n_cols++] = col;
        }
        return 0;
    }
    return csv_error(c, c->text + c->len, "no header line (keys such as pd:1,qd:1)");
}

static int parse_rows(batch_scenarios *sc, csv *c)
{
    const char *s;
    size_t n, cap = 0;
    while (next_line(c, &s, &n)) {
        if (blank(s, n) || s[0] == '#') continue;
        if ((size_t)sc->n * (size_t)sc->n_cols + (size_t)sc->n_cols > cap) {
            cap = cap ? 2 * cap : 64 * (size_t)sc->n_cols;
            double *v = realloc(sc->values, cap * sizeof *v);
            if (!v) return cli_usage_error("batch: out of memory");
            sc->values = v;
        }
        double *row = sc->values + (size_t)sc->n * (size_t)sc->n_cols;
        const char *p = s, *end = s + n;
        fold_int k = 0;
        while (p) {
            const char *f;
            size_t fn;
            char buf[64], *e;
            p = field(p, end, &f, &fn);
            if (k >= sc->n_cols)
                return csv_error(c, f, "more than the %ld fields of the header", (long)sc->n_cols);
            if (fn == 0 || fn >= sizeof buf)
                return csv_error(c, f, "field %ld: %s", (long)k + 1,
                                 fn ? "number too long" : "empty");
            memcpy(buf, f, fn);
            buf[fn] = '\0';
            errno = 0;
            double v = strtod(buf, &e);
            if (e == buf || *e)
                return csv_error(c, f, "field %ld: '%s' is not a number", (long)k + 1, buf);
            if (!isfinite(v) || errno == ERANGE)
                return csv_error(c, f, "field %ld: '%s' is not finite", (long)k + 1, buf);
            if (sc->factors && v < 0)
                return csv_error(c, f, "field %ld: factor %s is negative", (long)k + 1, buf);
            row[k++] = v;
        }
        if (k < sc->n_cols)
            return csv_error(c, s + n, "%ld fields, the header has %ld", (long)k, (long)sc->n_cols);
        sc->n++;
    }
    if (sc->n == 0) return csv_error(c, c->text + c->len, "no scenario rows after the header");
    return 0;
}

int batch_scenarios_read(batch_scenarios *sc, const char *path, const fold_acopf_case *cs)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return cli_usage_error("batch: cannot read scenario file '%s': %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0, k;
    do {
        if (len + 65536 > cap) {
            char *t = realloc(text, cap = 2 * cap + 65536);
            if (!t) {
                free(text);
                fclose(in);
                return cli_usage_error("batch: out of memory reading '%s'", path);
            }
            text = t;
        }
        k = fread(text + len, 1, cap - len, in);
        len += k;
    } while (k > 0);
    bool bad = ferror(in);
    fclose(in);
    if (bad) {
        free(text);
        return cli_usage_error("batch: read error on '%s'", path);
    }
    csv c = {.path = path, .text = text, .len = len};
    if (memchr(text, '\0', len)) {
        free(text);
        return cli_usage_error("batch: %s: not a text file (NUL byte)", path);
    }
    int rc = parse_header(sc, &c, cs);
    if (!rc) rc = parse_rows(sc, &c);
    free(text);
    return rc;
}

/* Counter-based uniform in (0, 1): the same numbers whatever the order of the calls. */
static double uniform(unsigned long long seed, unsigned long long i, unsigned long long j)
{
    uint64_t z = seed ^ (i * 0x9e3779b97f4a7c15ULL) ^ (j * 0xd1b54a32d192ed03ULL);
    for (int r = 0; r < 2; r++)
        z = rng_splitmix64(&z);
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

void batch_scenarios_params(const batch_scenarios *sc, fold_int i, double *p)
{
    const fold_acopf_layout *L = &sc->L;
    memcpy(p, sc->p0, (size_t)L->np * sizeof *p);
    if (sc->sampled) {
        double s = sc->scale_lo +
                   (sc->scale_hi - sc->scale_lo) * uniform(sc->seed, (unsigned long long)i, 0);
        for (fold_int b = 0; b < sc->cs->n_bus; b++) {
            unsigned long long j = 2 * (unsigned long long)b + 1;
            double u1 = uniform(sc->seed, (unsigned long long)i, j);
            double u2 = uniform(sc->seed, (unsigned long long)i, j + 1);
            double z = sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979323846 * u2);
            double f = s * (1 + sc->noise * z);
            p[L->p_pd + b] *= f;
            p[L->p_qd + b] *= f;
        }
        return;
    }
    const double *row = sc->values + (size_t)i * (size_t)sc->n_cols;
    /* every-bus (or every-generator) columns first, single ones after them */
    for (int pass = 0; pass < 2; pass++)
        for (fold_int k = 0; k < sc->n_cols; k++) {
            const batch_column *c = &sc->cols[k];
            if ((c->index < 0) != (pass == 0)) continue;
            fold_int count = fold_acopf_item_count(sc->model, fold_acopf_param_item_type(c->kind));
            fold_int lo = c->index < 0 ? 0 : c->index, hi = c->index < 0 ? count : c->index + 1;
            for (fold_int t = lo; t < hi; t++) {
                fold_int j = fold_acopf_param_index(sc->model, c->kind, t);
                p[j] = sc->factors ? sc->p0[j] * row[k] : row[k];
            }
        }
}

void batch_scenarios_free(batch_scenarios *sc)
{
    free(sc->cols);
    free(sc->values);
    sc->cols = NULL;
    sc->values = NULL;
}
