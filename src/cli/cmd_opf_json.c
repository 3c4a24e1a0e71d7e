/* Formatting shared by the opf outputs (summary, JSON, sensitivities, import report): JSON
 * numbers and strings, a setting's value as text (doc/cli.md). */
#include <math.h>

#include "cmd_opf.h"

void opf_json_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.12g", v);
    else
        fputs("null", out);
}

const char *opf_setting_text(const opf_run *r, const char *name, char *buf, size_t len)
{
    if (fold_settings_get(&r->settings, name, buf, len) != FOLD_OK) snprintf(buf, len, "?");
    return buf;
}

const char *opf_precond_text(const opf_run *r, char *buf, size_t len)
{
    fold_settings s = r->settings;
    s.precond.kind = r->bwd.precond;
    if (fold_settings_get(&s, "precond.kind", buf, len) != FOLD_OK) snprintf(buf, len, "?");
    return buf;
}

/* A JSON string literal (quotes, backslashes and control characters escaped). */
void opf_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}
