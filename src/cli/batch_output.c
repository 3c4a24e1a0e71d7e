/* foldopt batch: a scenario's record as a JSON line or a CSV row, keyed like foldopt opf's
 * output (bus ids, generator and branch rows). doc/cli.md. */
#include <stdlib.h>
#include <string.h>

#include "cmd_batch.h"

/* Key of output k: "objective", or "pg:3" (generator row), "vm:14" (bus id), "pf:7"
 * (branch row). */
static void out_key(const opf_run *r, fold_int k, char *buf, size_t cap)
{
    int kind = r->outs[k].kind;
    if (fold_acopf_output_item_type(kind) == FOLD_ACOPF_ITEM_NONE)
        snprintf(buf, cap, "%s", fold_acopf_output_name(kind));
    else
        snprintf(buf, cap, "%s:%ld", fold_acopf_output_name(kind), opf_row_key(r, k));
}

/* Key of parameter column c: "pd:5" (bus id), "c1:2" (generator row), "rate_a:7" (branch). */
static void col_key(const opf_run *r, fold_int c, char *buf, size_t cap)
{
    int kind;
    fold_acopf_param_item(r->model, r->cols[c], &kind);
    snprintf(buf, cap, "%s:%ld", fold_acopf_param_name(kind), opf_col_key(r, c));
}

/* Key of sensitivity k (in the order written) and its index in the opf values array. */
static fold_int sens_key(const opf_run *r, fold_int k, char *buf, size_t cap)
{
    char row[64], col[64];
    if (r->mode == OPF_MODE_JACOBIAN) {
        fold_int i = k / r->n_cols, j = k % r->n_cols;
        out_key(r, i, row, sizeof row);
        col_key(r, j, col, sizeof col);
        snprintf(buf, cap, "%s/%s", row, col);
        return i + j * r->n_rows;
    }
    if (r->mode == OPF_MODE_JVP)
        out_key(r, k, buf, cap);
    else
        col_key(r, k, buf, cap);
    return k;
}

static fold_int n_outputs(const opf_run *r)
{
    return r->n_rows;
}

static fold_int n_sens(const opf_run *r)
{
    return opf_has_wrt(r) ? opf_n_entries(r) : 0;
}

static const char *status_name(const fold_batch_record *rec)
{
    if (rec->outcome == FOLD_BATCH_CRASHED) return "crashed";
    if (rec->outcome == FOLD_BATCH_TIMED_OUT) return "timeout";
    return fold_forward_status_string(rec->forward_status);
}

static const char *start_name(const fold_batch_record *rec)
{
    static const char *const names[] = {"cold", "anchor", "scenario"};
    return rec->outcome != FOLD_BATCH_DONE ? NULL : names[rec->start];
}

/* Round-trip exact numbers: records of two runs are equal as text when equal as bits. */
static void number(FILE *t, double v, bool json)
{
    if (isfinite(v))
        fprintf(t, "%.17g", v);
    else if (json)
        fputs("null", t);
}

/* A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a line break. */
static void csv_string(FILE *t, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, t);
        return;
    }
    fputc('"', t);
    for (; *s; s++) {
        if (*s == '"') fputc('"', t);
        fputc(*s, t);
    }
    fputc('"', t);
}

static const char *kkt_name(const fold_batch_record *rec)
{
    return rec->backward->kkt_form == FOLD_KKT_BARRIER ? "barrier" : "active";
}

static bool failed(const fold_batch_record *rec)
{
    return rec->status < 0 || rec->outcome != FOLD_BATCH_DONE;
}

static bool has_trust(const opf_run *r, const fold_batch_record *rec)
{
    return opf_has_wrt(r) && rec->sens;
}

/* The CSV fields n_trust and trust: the count and "kind: name" of each item, "; " between. */
static void csv_trust(const opf_run *r, const fold_batch_record *rec, FILE *t)
{
    fputc(',', t);
    if (!has_trust(r, rec)) {
        fputc(',', t);
        return;
    }
    fprintf(t, "%ld,", (long)rec->n_trust);
    if (rec->n_trust == 0) return;
    size_t len = 1;
    for (fold_int k = 0; k < rec->n_trust; k++)
        len += strlen(fold_trust_kind_name(rec->trust[k].kind)) + strlen(rec->trust[k].name) + 4;
    char *text = malloc(len), *at = text;
    for (fold_int k = 0; text && k < rec->n_trust; k++)
        at += sprintf(at, "%s%s: %s", k ? "; " : "", fold_trust_kind_name(rec->trust[k].kind),
                      rec->trust[k].name);
    csv_string(t, text ? text : "?");
    free(text);
}

static void json_record(const batch_format *f, const fold_batch_record *rec, FILE *t)
{
    const opf_run *r = f->r;
    char key[128];
    fprintf(t, "{\"scenario\": %ld, \"status\": \"%s\", \"objective\": ", (long)rec->scenario,
            status_name(rec));
    number(t, rec->objective, true);
    fprintf(t, ", \"iterations\": %ld", (long)rec->iterations);
    if (f->timings) fprintf(t, ", \"seconds\": %.4g", rec->solve_s + rec->record_s);
    if (start_name(rec))
        fprintf(t, ", \"start\": \"%s\"", start_name(rec));
    else
        fprintf(t, ", \"start\": null");
    if (rec->warm_from >= 0)
        fprintf(t, ", \"warm_from\": %ld", (long)rec->warm_from);
    else
        fprintf(t, ", \"warm_from\": null");
    fprintf(t, ", \"outputs\": ");
    if (rec->outputs) {
        for (fold_int k = 0; k < n_outputs(r); k++) {
            out_key(r, k, key, sizeof key);
            fprintf(t, "%s\"%s\": ", k ? ", " : "{", key);
            number(t, rec->outputs[k], true);
        }
        fprintf(t, "}");
    } else {
        fprintf(t, "null");
    }
    if (opf_has_wrt(r)) {
        fprintf(t, ", \"sensitivities\": ");
        if (rec->sens) {
            for (fold_int k = 0; k < n_sens(r); k++) {
                fold_int v = sens_key(r, k, key, sizeof key);
                fprintf(t, "%s\"%s\": ", k ? ", " : "{", key);
                number(t, rec->sens[v], true);
            }
            fprintf(t, "}");
        } else {
            fprintf(t, "null");
        }
    }
    if (rec->backward)
        fprintf(t,
                ", \"backward\": {\"kkt\": \"%s\", \"kkt_dim\": %ld, "
                "\"reused_analysis\": %s, \"n_weak\": %ld, \"n_not_unique\": %ld, "
                "\"residual\": %.3g}",
                kkt_name(rec), (long)rec->backward->dim,
                rec->backward->reused_analysis ? "true" : "false", (long)rec->backward->n_weak,
                (long)rec->backward->n_not_unique, rec->backward->residual);
    /* the trust report of the sensitivities, as foldopt opf --json writes it ([] when nothing
     * limits them); null without sensitivities */
    if (has_trust(r, rec))
        opf_trust_json_items(r, rec->trust, rec->n_trust, true, t);
    else
        fprintf(t, ", \"trust\": null");
    if (rec->message && rec->message[0]) {
        fputs(failed(rec) ? ", \"error\": " : ", \"warning\": ", t);
        opf_json_string(t, rec->message);
    }
    fprintf(t, "}\n");
}

void batch_format_header(const batch_format *f, FILE *t)
{
    const opf_run *r = f->r;
    char key[128];
    if (f->format != BATCH_CSV) return;
    fprintf(t,
            "scenario,status,objective,iterations%s,start,warm_from,kkt,"
            "reused_analysis",
            f->timings ? ",seconds" : "");
    for (fold_int k = 0; k < n_outputs(r); k++) {
        out_key(r, k, key, sizeof key);
        fprintf(t, ",out:%s", key);
    }
    for (fold_int k = 0; k < n_sens(r); k++) {
        sens_key(r, k, key, sizeof key);
        fprintf(t, ",d:%s", key);
    }
    fprintf(t, ",n_trust,trust,error,warning\n");
}

static void csv_record(const batch_format *f, const fold_batch_record *rec, FILE *t)
{
    const opf_run *r = f->r;
    char key[128];
    fprintf(t, "%ld,%s,", (long)rec->scenario, status_name(rec));
    number(t, rec->objective, false);
    fprintf(t, ",%ld", (long)rec->iterations);
    if (f->timings) fprintf(t, ",%.4g", rec->solve_s + rec->record_s);
    fprintf(t, ",%s,", start_name(rec) ? start_name(rec) : "");
    if (rec->warm_from >= 0) fprintf(t, "%ld", (long)rec->warm_from);
    if (rec->backward)
        fprintf(t, ",%s,%d", kkt_name(rec), rec->backward->reused_analysis);
    else
        fprintf(t, ",,");
    for (fold_int k = 0; k < n_outputs(r); k++) {
        fprintf(t, ",");
        if (rec->outputs) number(t, rec->outputs[k], false);
    }
    for (fold_int k = 0; k < n_sens(r); k++) {
        fprintf(t, ",");
        if (rec->sens) number(t, rec->sens[sens_key(r, k, key, sizeof key)], false);
    }
    csv_trust(r, rec, t);
    fputc(',', t);
    bool err = failed(rec);
    if (err) csv_string(t, rec->message ? rec->message : "");
    fprintf(t, ",");
    if (!err && rec->message) csv_string(t, rec->message);
    fprintf(t, "\n");
}

void batch_format_record(const batch_format *f, const fold_batch_record *rec, FILE *t)
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
    if (len <= pl || strncmp(line, prefix, pl)) return -1;
    size_t k = len - pl < sizeof buf - 1 ? len - pl : sizeof buf - 1;
    memcpy(buf, line + pl, k);
    buf[k] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || v < 0) return -1;
    const char *st = format == BATCH_CSV ? "," : ", \"status\": \"";
    size_t sl = strlen(st);
    if (strncmp(end, st, sl)) return -1;
    end += sl;
    *ends_chain = !strncmp(end, "crashed", 7) || !strncmp(end, "timeout", 7);
    return v;
}
