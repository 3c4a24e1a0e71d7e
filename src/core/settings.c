/* Settings defaults, validation and set-by-name, all generated from settings_table.h. */
#include <errno.h>
#include <math.h>
#include <stddef.h>

#include "core/core.h"
#include "core/settings_table.h"

enum kind { KIND_INT, KIND_LONG, KIND_REAL, KIND_BOOL, KIND_ENUM };

typedef struct {
    fold_setting_info info;
    enum kind kind;
    size_t offset, size;
    double deflt;
} setting_row;

#define KIND_OF_INT KIND_INT
#define KIND_OF_LONG KIND_LONG
#define KIND_OF_REAL KIND_REAL
#define KIND_OF_BOOL KIND_BOOL
#define KIND_OF_ENUM KIND_ENUM
#define TYPE_OF_INT "int"
#define TYPE_OF_LONG "int"
#define TYPE_OF_REAL "real"
#define TYPE_OF_BOOL "bool"
#define TYPE_OF_ENUM "enum"

/* Each field is read and written through a pointer of its kind's C type (enum fields as
 * int): the table and the struct must agree on every field's size. */
#define SIZE_OF_INT sizeof(int)
#define SIZE_OF_LONG sizeof(fold_int)
#define SIZE_OF_REAL sizeof(double)
#define SIZE_OF_BOOL sizeof(bool)
#define SIZE_OF_ENUM sizeof(int)
#define CHECK_SIZE(group, name, kind, def, lo, hi, choices, doc)                                   \
    _Static_assert(sizeof(((fold_settings *)0)->group.name) == SIZE_OF_##kind,                     \
                   #group "." #name " has the size of its kind");
FOLD_SETTINGS_TABLE(CHECK_SIZE)
#undef CHECK_SIZE

static const setting_row table[] = {
#define ROW(group, name, kind, def, lo, hi, choices, doc)                                          \
    {{#group "." #name, TYPE_OF_##kind, choices, #def, lo, hi, doc},                               \
     KIND_OF_##kind,                                                                               \
     offsetof(fold_settings, group.name),                                                          \
     SIZE_OF_##kind,                                                                               \
     def},
    FOLD_SETTINGS_TABLE(ROW)
#undef ROW
};

#define N_SETTINGS ((fold_int)(sizeof table / sizeof table[0]))

fold_int fold_settings_count(void)
{
    return N_SETTINGS;
}

const fold_setting_info *fold_settings_info(fold_int index)
{
    if (index < 0 || index >= N_SETTINGS) return NULL;
    return &table[index].info;
}

static double get_value(const fold_settings *s, const setting_row *r)
{
    const char *base = (const char *)s + r->offset;
    switch (r->kind) {
    case KIND_INT:
    case KIND_ENUM:
        return *(const int *)base;
    case KIND_LONG:
        return (double)*(const fold_int *)base;
    case KIND_REAL:
        return *(const double *)base;
    case KIND_BOOL:
        return *(const bool *)base;
    }
    return 0;
}

static void put_value(fold_settings *s, const setting_row *r, double v)
{
    char *base = (char *)s + r->offset;
    switch (r->kind) {
    case KIND_INT:
    case KIND_ENUM:
        *(int *)base = (int)v;
        break;
    case KIND_LONG:
        *(fold_int *)base = (fold_int)v;
        break;
    case KIND_REAL:
        *(double *)base = v;
        break;
    case KIND_BOOL:
        *(bool *)base = v != 0;
        break;
    }
}

/* Number of '|'-separated names in an enum's choices. */
static int choice_count(const char *choices)
{
    int count = 1;
    for (const char *c = choices; *c; c++)
        count += *c == '|';
    return count;
}

/* Index of name among choices, or -1. */
static int choice_index(const char *choices, const char *name)
{
    size_t len = strlen(name);
    int index = 0;
    for (const char *c = choices; *c; index++) {
        const char *end = strchr(c, '|');
        size_t clen = end ? (size_t)(end - c) : strlen(c);
        if (clen == len && strncmp(c, name, len) == 0) return index;
        if (!end) break;
        c = end + 1;
    }
    return -1;
}

static void choice_name(const char *choices, int index, char *buf, size_t len)
{
    const char *c = choices;
    for (int i = 0; i < index && c; i++) {
        c = strchr(c, '|');
        if (c) c++;
    }
    if (!c) {
        snprintf(buf, len, "%d", index);
        return;
    }
    const char *end = strchr(c, '|');
    size_t clen = end ? (size_t)(end - c) : strlen(c);
    snprintf(buf, len, "%.*s", (int)clen, c);
}

static void defaults(fold_settings *s)
{
    memset(s, 0, sizeof *s);
    s->size = sizeof *s;
    for (fold_int i = 0; i < N_SETTINGS; i++)
        put_value(s, &table[i], table[i].deflt);
}

void fold_settings_init(fold_settings *s, size_t size)
{
    fold_settings full;
    if (!s || size < sizeof s->size) return;
    defaults(&full);
    memcpy(s, &full, size < sizeof full ? size : sizeof full);
    if (size > sizeof full) memset((char *)s + sizeof full, 0, size - sizeof full);
    s->size = size;
}

static fold_status check_size(const fold_settings *s)
{
    if (s->size == 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "fold_settings.size is 0: initialize with fold_settings_default");
    if (s->size < FOLD_SETTINGS_V1)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "fold_settings.size = %zu is smaller than the struct's first version "
                          "(%zu bytes): initialize with fold_settings_default",
                          s->size, (size_t)FOLD_SETTINGS_V1);
    return FOLD_OK;
}

fold_status fold_settings_copy_in(const fold_settings *in, fold_settings *out)
{
    fold_status st;
    defaults(out);
    if (!in) return FOLD_OK;
    if ((st = check_size(in)) < 0) return st;
    memcpy((char *)out + sizeof out->size, (const char *)in + sizeof in->size,
           (in->size < sizeof *out ? in->size : sizeof *out) - sizeof in->size);
    return fold_settings_check(out);
}

static fold_status check_row(const setting_row *r, double v)
{
    if (r->kind == KIND_ENUM) {
        int count = choice_count(r->info.choices);
        if (v < 0 || v >= count || v != (int)v)
            return fold_error(FOLD_ERR_SETTING, "setting %s = %g is not one of %s", r->info.name, v,
                              r->info.choices);
        return FOLD_OK;
    }
    if (r->kind == KIND_BOOL) return FOLD_OK;
    if (!isfinite(v))
        return fold_error(FOLD_ERR_SETTING, "setting %s = %g is not finite", r->info.name, v);
    if (v < r->info.min || v > r->info.max)
        return fold_error(FOLD_ERR_SETTING, "setting %s = %g outside [%g, %g]", r->info.name, v,
                          r->info.min, r->info.max);
    return FOLD_OK;
}

fold_status fold_settings_validate(const fold_settings *s)
{
    fold_settings full;
    fold_clear_error();
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "fold_settings_validate: settings is NULL");
    return fold_settings_copy_in(s, &full);
}

fold_status fold_settings_check(const fold_settings *s)
{
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "fold_settings_validate: settings is NULL");
    for (fold_int i = 0; i < N_SETTINGS; i++) {
        fold_status st = check_row(&table[i], get_value(s, &table[i]));
        if (st != FOLD_OK) return st;
    }
    return FOLD_OK;
}

static const setting_row *find_row(const char *name)
{
    for (fold_int i = 0; i < N_SETTINGS; i++)
        if (strcmp(table[i].info.name, name) == 0) return &table[i];
    return NULL;
}

/* A field the caller's struct does not hold (compiled before the field existed). */
static fold_status beyond_size(const fold_settings *s, const setting_row *r, const char *fn)
{
    if (r->offset + r->size <= s->size) return FOLD_OK;
    return fold_error(FOLD_ERR_SETTING,
                      "%s: setting %s lies beyond this fold_settings (size %zu): the caller was "
                      "compiled before it existed",
                      fn, r->info.name, s->size);
}

static fold_status parse_value(const setting_row *r, const char *text, double *out)
{
    char *end;
    if (r->kind == KIND_ENUM) {
        int index = choice_index(r->info.choices, text);
        if (index < 0)
            return fold_error(FOLD_ERR_SETTING, "setting %s: '%s' is not one of %s", r->info.name,
                              text, r->info.choices);
        *out = index;
        return FOLD_OK;
    }
    if (r->kind == KIND_BOOL) {
        if (!strcmp(text, "true") || !strcmp(text, "yes") || !strcmp(text, "1") ||
            !strcmp(text, "on"))
            *out = 1;
        else if (!strcmp(text, "false") || !strcmp(text, "no") || !strcmp(text, "0") ||
                 !strcmp(text, "off"))
            *out = 0;
        else
            return fold_error(FOLD_ERR_SETTING, "setting %s: '%s' is not true or false",
                              r->info.name, text);
        return FOLD_OK;
    }
    errno = 0;
    *out = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE)
        return fold_error(FOLD_ERR_SETTING, "setting %s: '%s' is not a number", r->info.name, text);
    if ((r->kind == KIND_INT || r->kind == KIND_LONG) && *out != floor(*out))
        return fold_error(FOLD_ERR_SETTING, "setting %s: '%s' is not an integer", r->info.name,
                          text);
    return FOLD_OK;
}

fold_status fold_settings_set(fold_settings *s, const char *name, const char *value)
{
    fold_clear_error();
    const setting_row *r;
    double v = 0;
    fold_status st;
    if (!s || !name || !value)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_settings_set: NULL argument");
    if ((st = check_size(s)) < 0) return fold_error_context(st, "fold_settings_set");
    r = find_row(name);
    if (!r) return fold_error(FOLD_ERR_SETTING, "fold_settings_set: no setting named '%s'", name);
    if ((st = beyond_size(s, r, "fold_settings_set")) < 0) return st;
    st = parse_value(r, value, &v);
    if (st == FOLD_OK) st = check_row(r, v);
    if (st == FOLD_OK) put_value(s, r, v);
    return st;
}

/* Whole numbers in full (3000, not 3e+03), others in the shortest %g form that reads back as
 * v (1e-06, not 9.9999999999999995e-07). */
static void format_real(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) return;
    }
}

fold_status fold_settings_get(const fold_settings *s, const char *name, char *buf, size_t len)
{
    const setting_row *r;
    double v;
    fold_status st;
    if (!s || !name || !buf)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_settings_get: NULL argument");
    if ((st = check_size(s)) < 0) return fold_error_context(st, "fold_settings_get");
    r = find_row(name);
    if (!r) return fold_error(FOLD_ERR_SETTING, "fold_settings_get: no setting named '%s'", name);
    if ((st = beyond_size(s, r, "fold_settings_get")) < 0) return st;
    v = get_value(s, r);
    if (r->kind == KIND_ENUM)
        choice_name(r->info.choices, (int)v, buf, len);
    else if (r->kind == KIND_BOOL)
        snprintf(buf, len, "%s", v != 0 ? "true" : "false");
    else
        format_real(v, buf, len);
    return FOLD_OK;
}

const char *fold_enum_name(const char *setting, int value)
{
    static _Thread_local char buf[64];
    const setting_row *r = find_row(setting);
    if (!r || r->kind != KIND_ENUM) return "?";
    choice_name(r->info.choices, value, buf, sizeof buf);
    return buf;
}
