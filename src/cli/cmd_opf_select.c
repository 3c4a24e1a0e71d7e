/* foldopt opf: what to differentiate. --wrt and --of lists of kinds, --rows / --cols keys
 * ("[kind:]key[:weight]"), --cotangent and --direction files (JSON or CSV), turned into the
 * outputs, weights, parameter indices and direction of the backward call (doc/cli.md). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd_opf.h"

/* "pd, qd, c1, ..." of every kind, for error messages. */
static void kind_list(bool params, char *buf, size_t len)
{
    int n = params ? FOLD_ACOPF_N_PARAM_KINDS : FOLD_ACOPF_N_OUTPUT_KINDS;
    buf[0] = '\0';
    for (int k = 0; k < n; k++) {
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, "%s%s", k ? ", " : "",
                 params ? fold_acopf_param_name(k) : fold_acopf_output_name(k));
    }
}

/* The kind of a name, MATPOWER's column names accepted for rate_a, tap and shift. */
int opf_kind_of(const char *name, bool params)
{
    static const char *const alias[][2] = {
        {"rateA", "rate_a"}, {"ratio", "tap"}, {"angle", "shift"}};
    for (size_t a = 0; params && a < sizeof alias / sizeof alias[0]; a++)
        if (!strcmp(name, alias[a][0])) name = alias[a][1];
    return params ? fold_acopf_param_lookup(name) : fold_acopf_output_lookup(name);
}

/* Report an unknown kind naming the valid ones. */
static int unknown_kind(const opf_run *r, const char *opt, const char *name, bool params)
{
    char valid[512];
    kind_list(params, valid, sizeof valid);
    return opf_usage_error(r, "%s: unknown %s '%s' (valid: %s)", opt,
                           params ? "parameter" : "output", name, valid);
}

int opf_parse_kinds(const opf_run *r, const char *opt, const char *text, bool params, int *kinds,
                    int *n)
{
    char buf[512];
    int max = params ? FOLD_ACOPF_N_PARAM_KINDS : FOLD_ACOPF_N_OUTPUT_KINDS;
    if (!text || !*text || strlen(text) >= sizeof buf)
        return unknown_kind(r, opt, text ? text : "", params);
    snprintf(buf, sizeof buf, "%s", text);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int k = opf_kind_of(tok, params);
        if (k < 0) return unknown_kind(r, opt, tok, params);
        for (int j = 0; j < *n; j++)
            if (kinds[j] == k) return opf_usage_error(r, "%s: '%s' is listed twice", opt, tok);
        if (*n >= max) return opf_usage_error(r, "%s: too many kinds", opt);
        kinds[(*n)++] = k;
    }
    if (*n == 0) return unknown_kind(r, opt, text, params);
    return 0;
}

const char *opf_item_word(int item_type)
{
    switch (item_type) {
    case FOLD_ACOPF_ITEM_BUS:
        return "bus";
    case FOLD_ACOPF_ITEM_GEN:
        return "gen";
    case FOLD_ACOPF_ITEM_BRANCH:
        return "branch";
    default:
        return "";
    }
}

/* Index of the item with `key` (bus id, gen row, branch row), -1 when none. Gen and branch
 * rows increase in case order; bus ids are searched linearly only once per call site. */
fold_int opf_item_index(const fold_acopf_case *cs, int type, long key)
{
    fold_int n = type == FOLD_ACOPF_ITEM_BUS   ? cs->n_bus
                 : type == FOLD_ACOPF_ITEM_GEN ? cs->n_gen
                                               : cs->n_branch;
    if (type == FOLD_ACOPF_ITEM_BUS) {
        for (fold_int i = 0; i < n; i++)
            if (cs->bus[i].id == key) return i;
        return -1;
    }
    fold_int lo = 0, hi = n;
    while (lo < hi) {
        fold_int mid = lo + (hi - lo) / 2;
        if (fold_acopf_item_key(cs, type, mid) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && fold_acopf_item_key(cs, type, lo) == key ? lo : -1;
}

/* A growing list of (kind, item, weight). */
typedef struct sel_list {
    int *kind;
    fold_int *item;
    double *w;
    fold_int n, cap;
} sel_list;

static bool sel_add(sel_list *s, int kind, fold_int item, double w)
{
    if (s->n == s->cap) {
        fold_int cap = s->cap ? 2 * s->cap : 64;
        int *k = realloc(s->kind, (size_t)cap * sizeof *k);
        if (k) s->kind = k;
        fold_int *it = realloc(s->item, (size_t)cap * sizeof *it);
        if (it) s->item = it;
        double *w2 = realloc(s->w, (size_t)cap * sizeof *w2);
        if (w2) s->w = w2;
        if (!k || !it || !w2) return false;
        s->cap = cap;
    }
    s->kind[s->n] = kind;
    s->item[s->n] = item;
    s->w[s->n++] = w;
    return true;
}

static void sel_free(sel_list *s)
{
    free(s->kind);
    free(s->item);
    free(s->w);
}

static int item_type(int kind, bool params)
{
    return params ? fold_acopf_param_item_type(kind) : fold_acopf_output_item_type(kind);
}

static const char *kind_name(int kind, bool params)
{
    return params ? fold_acopf_param_name(kind) : fold_acopf_output_name(kind);
}

/* Every item of each kind (the default selection). */
static bool select_all(const opf_run *r, const int *kinds, int n_kinds, bool params, sel_list *s)
{
    for (int j = 0; j < n_kinds; j++) {
        fold_int n = fold_acopf_item_count(r->model, item_type(kinds[j], params));
        for (fold_int i = 0; i < n; i++)
            if (!sel_add(s, kinds[j], i, 1)) return false;
    }
    return true;
}

static bool parse_number(const char *t, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(t, &end);
    return end != t && *end == '\0' && errno != ERANGE && isfinite(*v);
}

/* One "[kind:]key[:weight]" entry of --rows / --cols: the entry applies to the named kind, or
 * to every selected kind that has an item with this key. */
static int parse_entry(const opf_run *r, const char *opt, char *tok, const int *kinds, int n_kinds,
                       bool params, bool weights, sel_list *s)
{
    char *f[4] = {tok, NULL, NULL, NULL};
    int nf = 1;
    for (char *c = tok; *c && nf < 4; c++)
        if (*c == ':') *c = '\0', f[nf++] = c + 1;
    int only = -1, at = 0;
    if (isalpha((unsigned char)f[0][0])) {
        if ((only = opf_kind_of(f[0], params)) < 0) return unknown_kind(r, opt, f[0], params);
        at = 1;
    }
    if (nf - at < 1 || nf - at > 2)
        return opf_usage_error(r, "%s: entry '%s' is not [%s:]key%s", opt, tok,
                               params ? "parameter" : "output", weights ? "[:weight]" : "");
    double w = 1, key_d;
    if (nf - at == 2 && (!weights || !parse_number(f[at + 1], &w)))
        return opf_usage_error(r, "%s: '%s': %s", opt, f[at + 1],
                               weights ? "the weight is not a finite number"
                                       : "weights are given with --mode vjp only");
    bool objective = only == FOLD_ACOPF_OUT_OBJECTIVE && !params;
    if (!objective && (!parse_number(f[at], &key_d) || fabs(key_d) > 1e15 || key_d != floor(key_d)))
        return opf_usage_error(r,
                               "%s: '%s' is not an integer key (bus id, generator or "
                               "branch row)",
                               opt, f[at]);
    int found = 0;
    for (int j = 0; j < n_kinds; j++) {
        if (only >= 0 && kinds[j] != only) continue;
        int type = item_type(kinds[j], params);
        fold_int i = type == FOLD_ACOPF_ITEM_NONE ? 0 : opf_item_index(r->cs, type, (long)key_d);
        if (i < 0) continue;
        for (fold_int q = 0; q < s->n; q++)
            if (s->kind[q] == kinds[j] && s->item[q] == i)
                return opf_usage_error(r, "%s: %s of %s %ld is listed twice", opt,
                                       kind_name(kinds[j], params),
                                       type == FOLD_ACOPF_ITEM_BUS   ? "bus"
                                       : type == FOLD_ACOPF_ITEM_GEN ? "generator row"
                                                                     : "branch row",
                                       (long)key_d);
        if (!sel_add(s, kinds[j], i, w)) return opf_usage_error(r, "out of memory");
        found++;
    }
    if (only >= 0 && found == 0 && !objective) {
        bool selected = false;
        for (int j = 0; j < n_kinds; j++)
            selected |= kinds[j] == only;
        if (!selected)
            return opf_usage_error(r, "%s: '%s' is not among the %s kinds given", opt,
                                   kind_name(only, params), params ? "--wrt" : "--of");
    }
    if (found == 0)
        return opf_usage_error(r, "%s: no %s with key %s in %s", opt,
                               only >= 0 ? kind_name(only, params) : "item of the kinds given",
                               f[at], r->cs->name);
    return 0;
}

static int parse_entries(const opf_run *r, const char *opt, const char *text, const int *kinds,
                         int n_kinds, bool params, bool weights, sel_list *s)
{
    if (!*text) return opf_usage_error(r, "%s: empty list (omit %s for all items)", opt, opt);
    char *buf = strdup(text);
    if (!buf) return opf_usage_error(r, "out of memory");
    int rc = 0;
    for (char *tok = buf, *comma; !rc; tok = comma + 1) {
        if ((comma = strchr(tok, ',')) != NULL) *comma = '\0';
        rc = *tok ? parse_entry(r, opt, tok, kinds, n_kinds, params, weights, s)
                  : opf_usage_error(r,
                                    "%s: '%s' is not a comma-separated list of entries "
                                    "(empty entry)",
                                    opt, text);
        if (!comma) break;
    }
    free(buf);
    return rc;
}

/* ---- --cotangent and --direction files: {"kind": {"key": value, ...}, "objective": v} or
 * CSV lines "kind,key,value" (objective: empty key) ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 + 1 > cap) {
            size_t nc = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + *len, 1, cap - *len - 1, fp);
        *len += got;
        if (got == 0) break;
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

static long line_of(const char *text, const char *at)
{
    long line = 1;
    for (const char *c = text; c < at && *c; c++)
        line += *c == '\n';
    return line;
}

/* Add (kind, key, value) from a file to s; kinds given (n_kinds > 0) restrict the kinds. */
static int file_entry(const opf_run *r, const char *path, long line, const char *kname,
                      const char *key, double v, bool params, sel_list *s)
{
    int kind = opf_kind_of(kname, params);
    if (kind < 0) {
        char valid[512];
        kind_list(params, valid, sizeof valid);
        return opf_usage_error(r, "%s:%ld: unknown %s '%s' (valid: %s)", path, line,
                               params ? "parameter" : "output", kname, valid);
    }
    if (!isfinite(v))
        return opf_usage_error(r, "%s:%ld: %s %s: value is not a finite number", path, line, kname,
                               key);
    int type = item_type(kind, params);
    fold_int i = 0;
    double key_d = 0;
    if (type != FOLD_ACOPF_ITEM_NONE) {
        if (!parse_number(key, &key_d) || key_d != (double)(long)key_d ||
            (i = opf_item_index(r->cs, type, (long)key_d)) < 0)
            return opf_usage_error(r, "%s:%ld: %s: no %s with key '%s' in %s", path, line, kname,
                                   opf_item_word(type), key, r->cs->name);
    }
    for (fold_int q = 0; q < s->n; q++)
        if (s->kind[q] == kind && s->item[q] == i)
            return opf_usage_error(r, "%s:%ld: %s %s is given twice", path, line, kname, key);
    return sel_add(s, kind, i, v) ? 0 : opf_usage_error(r, "out of memory");
}

static int read_json(const opf_run *r, const char *path, const char *text, size_t len, bool params,
                     sel_list *s)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return opf_usage_error(r, "%s:%ld: not valid JSON", path, at ? line_of(text, at) : 1L);
    }
    int rc = 0;
    if (!cJSON_IsObject(root))
        rc =
            opf_usage_error(r, "%s: the JSON must be an object {\"kind\": {\"key\": value}}", path);
    for (cJSON *k = root->child; k && !rc; k = k->next) {
        if (cJSON_IsNumber(k)) { /* a scalar: the objective */
            rc = file_entry(r, path, 1, k->string, "", k->valuedouble, params, s);
            continue;
        }
        if (!cJSON_IsObject(k)) {
            rc = opf_usage_error(r, "%s: \"%s\" must map keys to numbers", path, k->string);
            break;
        }
        for (cJSON *e = k->child; e && !rc; e = e->next)
            rc = cJSON_IsNumber(e)
                     ? file_entry(r, path, 1, k->string, e->string, e->valuedouble, params, s)
                     : opf_usage_error(r, "%s: \"%s\": \"%s\" is not a number", path, k->string,
                                       e->string);
    }
    cJSON_Delete(root);
    return rc;
}

static int read_csv(const opf_run *r, const char *path, char *text, bool params, sel_list *s)
{
    long line = 0;
    int rc = 0;
    for (char *save = NULL, *ln = strtok_r(text, "\n", &save); ln && !rc;
         ln = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t n = strlen(ln);
        while (n > 0 && isspace((unsigned char)ln[n - 1]))
            ln[--n] = '\0';
        if (n == 0 || ln[0] == '#') continue;
        char *f[3] = {ln, NULL, NULL};
        int nf = 1;
        for (char *c = ln; *c; c++)
            if (*c == ',') {
                *c = '\0';
                if (nf < 3) f[nf] = c + 1;
                nf++;
            }
        double v;
        if (nf != 3)
            rc = opf_usage_error(r, "%s:%ld: %d fields, need 3 (kind,key,value)", path, line, nf);
        else if (!parse_number(f[2], &v) && line == 1 && !isdigit((unsigned char)f[1][0]))
            continue; /* a header line */
        else if (!parse_number(f[2], &v))
            rc = opf_usage_error(r, "%s:%ld: '%s' is not a finite number", path, line, f[2]);
        else
            rc = file_entry(r, path, line, f[0], f[1], v, params, s);
    }
    return rc;
}

static int read_file(const opf_run *r, const char *opt, const char *path, bool params, sel_list *s)
{
    size_t len;
    char *text = slurp(path, &len);
    if (!text) return opf_usage_error(r, "%s: cannot read '%s': %s", opt, path, strerror(errno));
    const char *c = text;
    while (*c && isspace((unsigned char)*c))
        c++;
    int rc =
        *c == '{' ? read_json(r, path, text, len, params, s) : read_csv(r, path, text, params, s);
    if (!rc && s->n == 0) rc = opf_usage_error(r, "%s: '%s' has no entries", opt, path);
    free(text);
    return rc;
}

/* Order a selection by the position of its kind in kinds[] (stable: keys in the order
 * given within a kind), so that rows and columns come grouped by kind. */
static int order_by_kind(const opf_run *r, sel_list *s, const int *kinds, int n_kinds)
{
    sel_list t = {0};
    for (int j = 0; j < n_kinds; j++)
        for (fold_int q = 0; q < s->n; q++)
            if (s->kind[q] == kinds[j] && !sel_add(&t, s->kind[q], s->item[q], s->w[q])) {
                sel_free(&t);
                return opf_usage_error(r, "out of memory");
            }
    sel_free(s);
    *s = t;
    return 0;
}

/* Parameter indices (and the direction) from a list of parameter selections. */
static int to_params(opf_run *r, const sel_list *s, bool direction)
{
    r->n_cols = s->n;
    r->cols = malloc(((size_t)s->n + 1) * sizeof *r->cols);
    if (!r->cols) return opf_usage_error(r, "out of memory");
    for (fold_int q = 0; q < s->n; q++)
        r->cols[q] = fold_acopf_param_index(r->model, s->kind[q], s->item[q]);
    if (direction) {
        r->dp = calloc((size_t)r->L.np + 1, sizeof *r->dp);
        if (!r->dp) return opf_usage_error(r, "out of memory");
        for (fold_int q = 0; q < s->n; q++)
            r->dp[r->cols[q]] = s->w[q];
    }
    return 0;
}

static int to_outputs(opf_run *r, const sel_list *s)
{
    r->n_rows = s->n;
    r->outs = malloc(((size_t)s->n + 1) * sizeof *r->outs);
    r->weights = malloc(((size_t)s->n + 1) * sizeof *r->weights);
    if (!r->outs || !r->weights) return opf_usage_error(r, "out of memory");
    for (fold_int q = 0; q < s->n; q++) {
        r->outs[q] = (fold_acopf_output){s->kind[q], s->item[q]};
        r->weights[q] = s->w[q];
    }
    return 0;
}

/* The kinds present in a selection (for the output's wrt / of lists). */
static void kinds_of(const sel_list *s, int *kinds, int *n)
{
    *n = 0;
    for (fold_int q = 0; q < s->n; q++) {
        bool seen = false;
        for (int j = 0; j < *n; j++)
            seen |= kinds[j] == s->kind[q];
        if (!seen) kinds[(*n)++] = s->kind[q];
    }
}

int opf_select(opf_run *r)
{
    sel_list rows = {0}, cols = {0};
    int rc = 0;
    bool vjp = r->mode == OPF_MODE_VJP;
    if (r->cotangent_path) {
        rc = read_file(r, "--cotangent", r->cotangent_path, false, &rows);
        if (!rc) kinds_of(&rows, r->of, &r->n_of);
    } else if (r->rows_text) {
        rc = parse_entries(r, "--rows", r->rows_text, r->of, r->n_of, false, vjp, &rows);
    } else if (!select_all(r, r->of, r->n_of, false, &rows)) {
        rc = opf_usage_error(r, "out of memory");
    }
    if (!rc && r->direction_path) {
        rc = read_file(r, "--direction", r->direction_path, true, &cols);
        if (!rc) kinds_of(&cols, r->wrt, &r->n_wrt);
    } else if (!rc && r->cols_text) {
        rc = parse_entries(r, "--cols", r->cols_text, r->wrt, r->n_wrt, true, false, &cols);
    } else if (!rc && !select_all(r, r->wrt, r->n_wrt, true, &cols)) {
        rc = opf_usage_error(r, "out of memory");
    }
    if (!rc) rc = order_by_kind(r, &rows, r->of, r->n_of);
    if (!rc) rc = order_by_kind(r, &cols, r->wrt, r->n_wrt);
    if (!rc) rc = to_outputs(r, &rows);
    if (!rc) rc = to_params(r, &cols, r->mode == OPF_MODE_JVP);
    if (!rc && r->mode == OPF_MODE_JVP && !r->direction_path) /* +1 unit on each --cols */
        for (fold_int q = 0; q < r->n_cols; q++)
            r->dp[r->cols[q]] = 1;
    sel_free(&rows);
    sel_free(&cols);
    return rc;
}
