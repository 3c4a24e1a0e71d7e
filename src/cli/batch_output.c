/* foldopt batch: a scenario's record as a JSON line or a CSV row, keyed like foldopt opf's
 * output (bus ids, generator rows). doc/cli.md. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_batch.h"

void batch_text_printf(batch_text *t, const char *fmt, ...)
{
    va_list ap;
    for (int pass = 0; pass < 2 && !t->failed; pass++) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)k < room) {
            t->len += (size_t)k;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + (size_t)k + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

void batch_text_free(batch_text *t)
{
    free(t->s);
    memset(t, 0, sizeof *t);
}

static bool jacobian(const opf_run *r)
{
    return r->mode == OPF_MODE_JACOBIAN && r->of != OPF_OF_OBJECTIVE;
}

/* Key of output k: "objective", or "pg:3" (generator row), "vm:14" (bus id). */
static void out_key(const opf_run *r, fold_int k, char *buf, size_t cap)
{
    if (r->of == OPF_OF_OBJECTIVE)
        snprintf(buf, cap, "objective");
    else
        snprintf(buf, cap, "%s:%ld", opf_of_names[r->of], opf_row_key(r, k));
}

/* Key of sensitivity k (in the order written) and its index in the opf values array. */
static fold_int sens_key(const opf_run *r, fold_int k, char *buf, size_t cap)
{
    char row[48];
    if (jacobian(r)) {
        fold_int i = k / r->n_cols, j = k % r->n_cols;
        out_key(r, i, row, sizeof row);
        snprintf(buf, cap, "%s/%s:%ld", row, opf_wrt_names[r->wrt], opf_col_key(r, j));
        return i + j * r->n_rows;
    }
    if (r->mode == OPF_MODE_JVP)
        out_key(r, k, buf, cap);
    else
        snprintf(buf, cap, "%s:%ld", opf_wrt_names[r->wrt], opf_col_key(r, k));
    return k;
}

static fold_int n_outputs(const opf_run *r)
{
    return r->of == OPF_OF_OBJECTIVE ? 1 : r->n_rows;
}

static fold_int n_sens(const opf_run *r)
{
    return r->wrt == OPF_WRT_NONE ? 0 : opf_n_values(r);
}

static const char *status_name(const fold_batch_record *rec)
{
    if (rec->outcome == FOLD_BATCH_CRASHED)
        return "crashed";
    if (rec->outcome == FOLD_BATCH_TIMED_OUT)
        return "timeout";
    return fold_forward_status_string(rec->forward_status);
}

static const char *start_name(const fold_batch_record *rec)
{
    static const char *const names[] = {"cold", "anchor", "scenario"};
    return rec->outcome != FOLD_BATCH_DONE ? NULL : names[rec->start];
}

/* Round-trip exact numbers: records of two runs are equal as text when equal as bits. */
static void number(batch_text *t, double v, bool json)
{
    if (isfinite(v))
        batch_text_printf(t, "%.17g", v);
    else if (json)
        batch_text_printf(t, "null");
}

static void json_string(batch_text *t, const char *s)
{
    batch_text_printf(t, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            batch_text_printf(t, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            batch_text_printf(t, "\\u%04x", (unsigned)*s);
        else
            batch_text_printf(t, "%c", *s);
    }
    batch_text_printf(t, "\"");
}

static void csv_string(batch_text *t, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        batch_text_printf(t, "%s", s);
        return;
    }
    batch_text_printf(t, "\"");
    for (; *s; s++)
        batch_text_printf(t, *s == '"' ? "\"\"" : "%c", *s);
    batch_text_printf(t, "\"");
}

static const char *kkt_name(const fold_batch_record *rec)
{
    return rec->backward.kkt_form == FOLD_KKT_BARRIER ? "barrier" : "active";
}

static bool failed(const fold_batch_record *rec)
{
    return rec->status < 0 || rec->outcome != FOLD_BATCH_DONE;
}

static void json_record(const batch_format *f, const fold_batch_record *rec, batch_text *t)
{
    const opf_run *r = f->r;
    char key[128];
    batch_text_printf(t, "{\"scenario\": %ld, \"status\": \"%s\", \"objective\": ",
                      (long)rec->scenario, status_name(rec));
    number(t, rec->objective, true);
    batch_text_printf(t, ", \"iterations\": %ld", (long)rec->iterations);
    if (f->timings)
        batch_text_printf(t, ", \"seconds\": %.4g", rec->solve_s + rec->record_s);
    if (start_name(rec))
        batch_text_printf(t, ", \"start\": \"%s\"", start_name(rec));
    else
        batch_text_printf(t, ", \"start\": null");
    if (rec->warm_from >= 0)
        batch_text_printf(t, ", \"warm_from\": %ld", (long)rec->warm_from);
    else
        batch_text_printf(t, ", \"warm_from\": null");
    batch_text_printf(t, ", \"outputs\": ");
    if (rec->outputs) {
        for (fold_int k = 0; k < n_outputs(r); k++) {
            out_key(r, k, key, sizeof key);
            batch_text_printf(t, "%s\"%s\": ", k ? ", " : "{", key);
            number(t, rec->outputs[k], true);
        }
        batch_text_printf(t, "}");
    } else {
        batch_text_printf(t, "null");
    }
    if (r->wrt != OPF_WRT_NONE) {
        batch_text_printf(t, ", \"sensitivities\": ");
        if (rec->sens) {
            for (fold_int k = 0; k < n_sens(r); k++) {
                fold_int v = sens_key(r, k, key, sizeof key);
                batch_text_printf(t, "%s\"%s\": ", k ? ", " : "{", key);
                number(t, rec->sens[v], true);
            }
            batch_text_printf(t, "}");
        } else {
            batch_text_printf(t, "null");
        }
    }
    if (rec->has_backward)
        batch_text_printf(t, ", \"backward\": {\"kkt\": \"%s\", \"kkt_dim\": %ld, "
                          "\"reused_analysis\": %s, \"n_weak\": %ld, \"n_not_unique\": %ld, "
                          "\"residual\": %.3g}", kkt_name(rec), (long)rec->backward.kkt_dim,
                          rec->backward.reused_analysis ? "true" : "false",
                          (long)rec->backward.n_weak, (long)rec->backward.n_not_unique,
                          rec->backward.residual);
    /* the per-scenario trust report goes here (null until the model provides one) */
    batch_text_printf(t, ", \"trust\": null");
    if (rec->message && rec->message[0]) {
        batch_text_printf(t, failed(rec) ? ", \"error\": " : ", \"warning\": ");
        json_string(t, rec->message);
    }
    batch_text_printf(t, "}\n");
}

void batch_format_header(const batch_format *f, batch_text *t)
{
    const opf_run *r = f->r;
    char key[128];
    if (f->format != BATCH_CSV)
        return;
    batch_text_printf(t, "scenario,status,objective,iterations%s,start,warm_from,kkt,"
                      "reused_analysis", f->timings ? ",seconds" : "");
    for (fold_int k = 0; k < n_outputs(r); k++) {
        out_key(r, k, key, sizeof key);
        batch_text_printf(t, ",out:%s", key);
    }
    for (fold_int k = 0; k < n_sens(r); k++) {
        sens_key(r, k, key, sizeof key);
        batch_text_printf(t, ",d:%s", key);
    }
    batch_text_printf(t, ",trust,error,warning\n");
}

static void csv_record(const batch_format *f, const fold_batch_record *rec, batch_text *t)
{
    const opf_run *r = f->r;
    char key[128];
    batch_text_printf(t, "%ld,%s,", (long)rec->scenario, status_name(rec));
    number(t, rec->objective, false);
    batch_text_printf(t, ",%ld", (long)rec->iterations);
    if (f->timings)
        batch_text_printf(t, ",%.4g", rec->solve_s + rec->record_s);
    batch_text_printf(t, ",%s,", start_name(rec) ? start_name(rec) : "");
    if (rec->warm_from >= 0)
        batch_text_printf(t, "%ld", (long)rec->warm_from);
    if (rec->has_backward)
        batch_text_printf(t, ",%s,%d", kkt_name(rec), rec->backward.reused_analysis);
    else
        batch_text_printf(t, ",,");
    for (fold_int k = 0; k < n_outputs(r); k++) {
        batch_text_printf(t, ",");
        if (rec->outputs)
            number(t, rec->outputs[k], false);
    }
    for (fold_int k = 0; k < n_sens(r); k++) {
        batch_text_printf(t, ",");
        if (rec->sens)
            number(t, rec->sens[sens_key(r, k, key, sizeof key)], false);
    }
    batch_text_printf(t, ",,"); /* trust: empty until the model provides one */
    bool err = failed(rec);
    if (err)
        csv_string(t, rec->message ? rec->message : "");
    batch_text_printf(t, ",");
    if (!err && rec->message)
        csv_string(t, rec->message);
    batch_text_printf(t, "\n");
}

void batch_format_record(const batch_format *f, const fold_batch_record *rec, batch_text *t)
{
    if (f->format == BATCH_CSV)
        csv_record(f, rec, t);
    else
        json_record(f, rec, t);
}

fold_int batch_line_scenario(const char *line, size_t len, int format, bool *ends_chain)
{
    const char *prefix = format == BATCH_CSV ? "" : "{\"scenario\": ";
    size_t pl = strlen(prefix);
    char buf[64];
    if (len <= pl || strncmp(line, prefix, pl))
        return -1;
    size_t k = len - pl < sizeof buf - 1 ? len - pl : sizeof buf - 1;
    memcpy(buf, line + pl, k);
    buf[k] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || v < 0)
        return -1;
    const char *st = format == BATCH_CSV ? "," : ", \"status\": \"";
    size_t sl = strlen(st);
    if (strncmp(end, st, sl))
        return -1;
    end += sl;
    *ends_chain = !strncmp(end, "crashed", 7) || !strncmp(end, "timeout", 7);
    return v;
}
