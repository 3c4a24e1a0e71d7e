/* MATPOWER case file tokenizer: one pass over the text, "mpc.<field> = value;" statements
 * with numeric matrices, strings and cell arrays, % comments and ... continuations.
 * Bounded by the buffer length everywhere (truncated or garbage input gives FOLD_ERR_PARSE).
 * Format notes: doc/acopf.md §1. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

typedef struct lexer {
    const char *p, *end;
    long line;
    mp_file *f;
} lexer;

static fold_status lex_error(lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static fold_status lex_error(lexer *lx, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return acopf_error(FOLD_ERR_PARSE, "%s:%ld: %s", lx->f->name, lx->line, msg);
}

static bool at_end(const lexer *lx)
{
    return lx->p >= lx->end;
}

static void skip_to_eol(lexer *lx)
{
    while (!at_end(lx) && *lx->p != '\n')
        lx->p++;
}

/* Skip blanks, comments and "..." continuations (which also swallow the newline); newlines
 * themselves are skipped only when `newlines` is set. */
static void skip_blank(lexer *lx, bool newlines)
{
    while (!at_end(lx)) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->p++;
        } else if (c == '%') {
            skip_to_eol(lx);
        } else if (c == '.' && lx->end - lx->p >= 3 && lx->p[1] == '.' && lx->p[2] == '.') {
            skip_to_eol(lx);
            if (!at_end(lx)) {
                lx->p++;
                lx->line++;
            }
        } else if (c == '\n' && newlines) {
            lx->p++;
            lx->line++;
        } else {
            return;
        }
    }
}

static bool grow(void **ptr, fold_int *cap, fold_int need, size_t elem)
{
    if (need <= *cap) return true;
    fold_int nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*ptr, (size_t)nc * elem);
    if (!np) return false;
    *ptr = np;
    *cap = nc;
    return true;
}

/* One numeric token: up to a delimiter; the whole token must be a number (Inf allowed,
 * NaN refused). */
static fold_status read_number(lexer *lx, const char *field, double *out)
{
    const char *s = lx->p;
    while (!at_end(lx) && !strchr(" \t\r\n\f\v,;]%", *lx->p) && *lx->p != '\0')
        lx->p++;
    size_t len = (size_t)(lx->p - s);
    char buf[64];
    if (len == 0) {
        unsigned char c = at_end(lx) ? 0 : (unsigned char)*lx->p;
        lx->p++;
        return lex_error(lx, "mpc.%s: unexpected %s 0x%02x", field,
                         c >= 0x80 ? "non-ASCII byte" : "character", c);
    }
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)s[k] >= 0x80) /* e.g. a non-breaking space pasted into a row */
            return lex_error(lx, "mpc.%s: non-ASCII byte 0x%02x in a number", field,
                             (unsigned char)s[k]);
    if (len >= sizeof buf) return lex_error(lx, "mpc.%s: non-numeric token '%.20s...'", field, s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *endp;
    errno = 0;
    double v = strtod(buf, &endp);
    bool is_nan = v != v;
    if (endp != buf + len || is_nan)
        return lex_error(lx, "mpc.%s: non-numeric token '%s'", field, buf);
    if (errno == ERANGE && fabs(v) > 1)
        return lex_error(lx, "mpc.%s: number '%s' overflows a double", field, buf);
    *out = v;
    return FOLD_OK;
}

static fold_status end_row(lexer *lx, mp_matrix *mx, const char *field, fold_int count,
                           long row_line)
{
    if (count == 0) return FOLD_OK;
    if (mx->n_row == 0)
        mx->n_col = count;
    else if (count != mx->n_col)
        return acopf_error(FOLD_ERR_PARSE, "%s:%ld: mpc.%s row has %ld fields, previous rows %ld",
                           lx->f->name, row_line, field, (long)count, (long)mx->n_col);
    if (!grow((void **)&mx->row_line, &mx->cap_row, mx->n_row + 1, sizeof(long)))
        return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory reading mpc.%s", lx->f->name, field);
    mx->row_line[mx->n_row++] = row_line;
    return FOLD_OK;
}

/* A matrix after '['; rows end at ';' or a newline, entries are separated by blanks or
 * commas. */
static fold_status read_matrix(lexer *lx, mp_matrix *mx, const char *field)
{
    long open_line = lx->line, row_line = lx->line;
    fold_int count = 0, nv = 0;
    fold_status st;
    for (;;) {
        skip_blank(lx, false);
        if (at_end(lx))
            return acopf_error(FOLD_ERR_PARSE,
                               "%s:%ld: mpc.%s: matrix opened at line %ld not closed", lx->f->name,
                               lx->line, field, open_line);
        char c = *lx->p;
        if (c == ']' || c == ';' || c == '\n') {
            if ((st = end_row(lx, mx, field, count, row_line)) != FOLD_OK) return st;
            count = 0;
            lx->p++;
            if (c == '\n') lx->line++;
            if (c == ']') return FOLD_OK;
            continue;
        }
        if (c == ',') {
            lx->p++;
            continue;
        }
        if (count == 0) row_line = lx->line;
        double v;
        if ((st = read_number(lx, field, &v)) != FOLD_OK) return st;
        if (mx->n_row > 0 && count >= mx->n_col)
            return acopf_error(FOLD_ERR_PARSE,
                               "%s:%ld: mpc.%s row has more than %ld fields like "
                               "the previous rows",
                               lx->f->name, lx->line, field, (long)mx->n_col);
        if (!grow((void **)&mx->v, &mx->cap_v, nv + 1, sizeof(double)))
            return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory reading mpc.%s", lx->f->name,
                               field);
        mx->v[nv++] = v;
        count++;
    }
}

/* A quoted string after the opening quote ('' is an escaped quote); copied into buf. */
static fold_status read_string(lexer *lx, const char *field, char *buf, size_t cap)
{
    size_t k = 0;
    for (;;) {
        if (at_end(lx) || *lx->p == '\n')
            return lex_error(lx, "mpc.%s: unterminated string", field);
        char c = *lx->p++;
        if (c == '\'') {
            if (!at_end(lx) && *lx->p == '\'')
                lx->p++;
            else
                break;
        }
        if (buf && k + 1 < cap) buf[k++] = c;
    }
    if (buf) buf[k] = '\0';
    return FOLD_OK;
}

/* Skip a cell array after '{' (nested braces, strings, comments, any layout). */
static fold_status skip_cell(lexer *lx, const char *field)
{
    long open_line = lx->line;
    int depth = 1;
    fold_status st;
    while (depth > 0) {
        skip_blank(lx, true);
        if (at_end(lx))
            return acopf_error(FOLD_ERR_PARSE,
                               "%s:%ld: mpc.%s: cell array opened at line %ld "
                               "not closed",
                               lx->f->name, lx->line, field, open_line);
        char c = *lx->p++;
        if (c == '{')
            depth++;
        else if (c == '}')
            depth--;
        else if (c == '\'' && (st = read_string(lx, field, NULL, 0)) != FOLD_OK)
            return st;
    }
    return FOLD_OK;
}

static mp_matrix *field_slot(mp_file *f, const char *name)
{
    if (!strcmp(name, "baseMVA")) return &f->base_mva;
    if (!strcmp(name, "version")) return &f->version;
    if (!strcmp(name, "bus")) return &f->bus;
    if (!strcmp(name, "gen")) return &f->gen;
    if (!strcmp(name, "branch")) return &f->branch;
    if (!strcmp(name, "gencost")) return &f->gencost;
    return NULL;
}

/* The value of "mpc.<field> =": matrix, cell array, string or number. Values of fields the
 * model does not use are parsed (for syntax) into a scratch matrix and dropped. */
static fold_status read_value(lexer *lx, const char *field)
{
    mp_matrix scratch = {0};
    mp_matrix *mx = field_slot(lx->f, field);
    fold_status st = FOLD_OK;
    if (mx && mx->present)
        return lex_error(lx, "mpc.%s assigned twice (first at line %ld)", field, mx->line);
    if (!mx) mx = &scratch;
    mx->present = true;
    mx->line = lx->line;
    skip_blank(lx, false);
    if (at_end(lx)) return lex_error(lx, "mpc.%s: missing value", field);
    char c = *lx->p;
    if (c == '[') {
        lx->p++;
        st = read_matrix(lx, mx, field);
    } else if (c == '{') {
        lx->p++;
        st = skip_cell(lx, field);
        if (st == FOLD_OK && mx != &scratch)
            st = lex_error(lx, "mpc.%s must be numeric, found a cell array", field);
    } else if (c == '\'') {
        lx->p++;
        char *buf = mx == &lx->f->version ? lx->f->version_text : NULL;
        st = read_string(lx, field, buf, sizeof lx->f->version_text);
        if (st == FOLD_OK && mx != &scratch && mx != &lx->f->version)
            st = lex_error(lx, "mpc.%s must be numeric, found a string", field);
    } else {
        double v;
        st = read_number(lx, field, &v);
        if (st == FOLD_OK && (!grow((void **)&mx->v, &mx->cap_v, 1, sizeof(double)) ||
                              !grow((void **)&mx->row_line, &mx->cap_row, 1, sizeof(long))))
            st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", lx->f->name);
        if (st == FOLD_OK) {
            mx->v[0] = v;
            mx->row_line[0] = lx->line;
            mx->n_row = mx->n_col = 1;
        }
    }
    free(scratch.v);
    free(scratch.row_line);
    if (st != FOLD_OK) return st;
    skip_blank(lx, false);
    if (!at_end(lx) && *lx->p != ';' && *lx->p != ',' && *lx->p != '\n')
        return lex_error(lx, "mpc.%s: unexpected text after the value", field);
    return FOLD_OK;
}

static fold_status read_statement(lexer *lx)
{
    char ident[64];
    size_t k = 0;
    while (!at_end(lx) && (isalnum((unsigned char)*lx->p) || *lx->p == '_' || *lx->p == '.')) {
        if (k + 1 >= sizeof ident) return lex_error(lx, "name too long");
        ident[k++] = *lx->p++;
    }
    ident[k] = '\0';
    if (k == 0) {
        unsigned char c = (unsigned char)*lx->p;
        if (c >= 0x80) /* outside comments and strings a case file is ASCII */
            return lex_error(lx, "unexpected non-ASCII byte 0x%02x outside comments and strings",
                             c);
        return isprint(c) ? lex_error(lx, "unexpected '%c'", c)
                          : lex_error(lx, "unexpected byte 0x%02x", c);
    }
    if (!strcmp(ident, "function")) {
        skip_to_eol(lx);
        return FOLD_OK;
    }
    if (!strcmp(ident, "end") || !strcmp(ident, "return")) return FOLD_OK;
    if (strncmp(ident, "mpc.", 4) != 0 || !ident[4] || strchr(ident + 4, '.'))
        return lex_error(lx, "unexpected '%s' (expected mpc.<field> = ...)", ident);
    skip_blank(lx, false);
    if (at_end(lx) || *lx->p != '=') return lex_error(lx, "expected '=' after %s", ident);
    lx->p++;
    return read_value(lx, ident + 4);
}

fold_status mp_tokenize(const char *text, size_t len, mp_file *f)
{
    lexer lx = {text, text + len, 1, f};
    fold_status st;
    for (;;) {
        skip_blank(&lx, true);
        while (!at_end(&lx) && (*lx.p == ';' || *lx.p == ',')) {
            lx.p++;
            skip_blank(&lx, true);
        }
        if (at_end(&lx)) return FOLD_OK;
        if ((st = read_statement(&lx)) != FOLD_OK) return st;
    }
}

static void matrix_clear(mp_matrix *mx)
{
    free(mx->v);
    free(mx->row_line);
    memset(mx, 0, sizeof *mx);
}

void mp_file_clear(mp_file *f)
{
    matrix_clear(&f->base_mva);
    matrix_clear(&f->version);
    matrix_clear(&f->bus);
    matrix_clear(&f->gen);
    matrix_clear(&f->branch);
    matrix_clear(&f->gencost);
}

/* The text starts (after white space) with a JSON array or string. */
static bool json_non_object(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    return i < len && (text[i] == '[' || text[i] == '"');
}

/* Byte-order marks: UTF-8's is skipped (editors add it; the text is ASCII after it), UTF-16
 * and UTF-32 text is refused by name rather than as "unexpected byte". */
static fold_status skip_bom(const char **text, size_t *len, const char *name)
{
    const unsigned char *u = (const unsigned char *)*text;
    if (*len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) {
        *text += 3;
        *len -= 3;
    } else if (*len >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))) {
        return acopf_error(FOLD_ERR_PARSE,
                           "%s:1: the file is UTF-16 or UTF-32 text (byte-order "
                           "mark 0x%02x 0x%02x); save it as ASCII or UTF-8",
                           name, u[0], u[1]);
    }
    return FOLD_OK;
}

fold_status fold_acopf_case_parse(const char *text, size_t len, const char *name,
                                  fold_acopf_case **out)
{
    fold_clear_error();
    if (!out || (!text && len > 0))
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_case_parse: %s is NULL",
                           out ? "text" : "out");
    name = name ? name : "(case)";
    if (len > FOLD_ACOPF_MAX_CASE_BYTES)
        return acopf_error(FOLD_ERR_TOO_LARGE,
                           "%s: %zu bytes: a case may have at most %zu "
                           "(FOLD_ACOPF_MAX_CASE_BYTES)",
                           name, len, FOLD_ACOPF_MAX_CASE_BYTES);
    text = text ? text : "";
    fold_status st = skip_bom(&text, &len, name);
    if (st != FOLD_OK) return st;
    switch (acopf_case_format(text, len)) {
    case ACOPF_FORMAT_JSON:
        return acopf_pm_parse(text, len, name, out);
    case ACOPF_FORMAT_UNKNOWN:
        return acopf_error(FOLD_ERR_PARSE,
                           "%s: not a case foldopt reads: %s; foldopt reads "
                           "MATPOWER case format version 2 (.m, mpc.<field> = ... statements) "
                           "and PowerModels networks as JSON (what PowerModels' export_json "
                           "writes)%s",
                           name,
                           len == 0                     ? "the file is empty"
                           : json_non_object(text, len) ? "a JSON value that is not an object"
                                                        : "no mpc.<field> statement",
                           strstr(name, ".raw") ? "; a PSS/E .raw file can be converted to "
                                                  "either with MATPOWER's psse2mpc or "
                                                  "PowerModels' parse_file and export_json"
                                                : "");
    default:
        break;
    }
    mp_file f;
    memset(&f, 0, sizeof f);
    f.name = name;
    st = mp_tokenize(text, len, &f);
    if (st == FOLD_OK) st = mp_convert(&f, out);
    mp_file_clear(&f);
    return st;
}

int acopf_case_format(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == '{') return ACOPF_FORMAT_JSON;
    for (size_t k = i; k + 4 <= len; k++) /* a MATPOWER file assigns mpc.<field> */
        if (!memcmp(text + k, "mpc.", 4)) return ACOPF_FORMAT_MATPOWER;
    return ACOPF_FORMAT_UNKNOWN;
}
