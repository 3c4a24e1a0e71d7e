/* foldopt opf: the trust report of the sensitivities (doc/cli.md "Trust report"). The
 * library's report of each backward call is mapped to the keys of the output (bus ids,
 * generator rows) and to the entries printed; the summary and the JSON list it, and one line
 * on stderr warns whenever it is not empty. Counts cover the entries asked for only. */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_opf.h"

struct opf_trust {
    int kind;
    char *name;
    double slack, mult, value, lo, hi;
    long row, col;  /* keys of an entry, OPF_NO_KEY where not applicable */
    fold_int n_aff; /* entries a side moves (of those printed) */
    long *aff_row, *aff_col;
};

#define OPF_NO_KEY (-1L)

void opf_trust_free(opf_run *r)
{
    for (int k = 0; k < r->n_trust; k++) {
        free(r->trust[k].name);
        free(r->trust[k].aff_row);
        free(r->trust[k].aff_col);
    }
    free(r->trust);
    r->trust = NULL;
    r->n_trust = r->cap_trust = 0;
}

static bool is_side(int kind)
{
    return kind == FOLD_TRUST_AMBIGUOUS || kind == FOLD_TRUST_WEAK || kind == FOLD_TRUST_DEPENDENT;
}

/* Position in r->values of an entry (block, row, col, entry) of a call's result, or -1 when
 * it is not among the entries asked for. row_pos / col_pos map variables and parameters to
 * the selected rows and columns. */
static fold_int position(const opf_run *r, int call, const fold_trust_item *it, fold_int e,
                         const fold_int *row_pos, const fold_int *col_pos, fold_int *pr,
                         fold_int *pc)
{
    *pr = *pc = -1;
    switch (call) {
    case OPF_CALL_VALUE:
    case OPF_CALL_VJP: /* a parameter gradient: entry = parameter */
        *pc = e >= 0 ? col_pos[e] : (it->col >= 0 ? col_pos[it->col] : -1);
        return *pc;
    case OPF_CALL_JVP: /* dx: entry = variable */
        if (it->block != FOLD_BLOCK_X && !is_side(it->kind)) return -1;
        *pr = e >= 0 ? row_pos[e] : (it->row >= 0 ? row_pos[it->row] : -1);
        return *pr;
    default: /* a Jacobian: entry = row + n_rows col of the selection */
        if (e >= 0) {
            *pr = e % r->n_rows;
            *pc = e / r->n_rows;
            return e;
        }
        *pr = it->row >= 0 && it->block == FOLD_BLOCK_X ? row_pos[it->row] : -1;
        *pc = it->col >= 0 ? col_pos[it->col] : -1;
        return -1;
    }
}

static int add(opf_run *r, const opf_trust *t)
{
    if (r->n_trust == r->cap_trust) {
        int cap = r->cap_trust ? 2 * r->cap_trust : 16;
        opf_trust *p = realloc(r->trust, (size_t)cap * sizeof *p);
        if (!p) return -1;
        r->trust = p;
        r->cap_trust = cap;
    }
    r->trust[r->n_trust++] = *t;
    return 0;
}

/* The item's affected entries among those printed, as keys. */
static int affected(const opf_run *r, int call, const fold_trust_item *it, const fold_int *row_pos,
                    const fold_int *col_pos, opf_trust *t)
{
    t->aff_row = malloc(((size_t)it->n_affected + 1) * sizeof *t->aff_row);
    t->aff_col = malloc(((size_t)it->n_affected + 1) * sizeof *t->aff_col);
    if (!t->aff_row || !t->aff_col) return -1;
    for (fold_int q = 0; q < it->n_affected; q++) {
        fold_int pr, pc;
        if (position(r, call, it, it->affected[q], row_pos, col_pos, &pr, &pc) < 0 &&
            call != OPF_CALL_JACOBIAN)
            continue;
        if (call == OPF_CALL_JACOBIAN && (pr < 0 || pc < 0)) continue;
        t->aff_row[t->n_aff] = pr >= 0 ? opf_row_key(r, pr) : OPF_NO_KEY;
        t->aff_col[t->n_aff++] = pc >= 0 ? opf_col_key(r, pc) : OPF_NO_KEY;
    }
    return 0;
}

int opf_trust_collect(opf_run *r, int call)
{
    const fold_trust_item *items;
    fold_int count, n = r->L.n, np = r->L.np;
    if (fold_trust_report(r->solver, &items, &count) != FOLD_OK || count == 0) return 0;
    fold_int *row_pos = malloc(((size_t)n + 1) * sizeof *row_pos);
    fold_int *col_pos = malloc(((size_t)np + 1) * sizeof *col_pos);
    int rc = -1;
    if (!row_pos || !col_pos) goto done;
    for (fold_int j = 0; j < n; j++)
        row_pos[j] = -1;
    for (fold_int k = 0; k < np; k++)
        col_pos[k] = -1;
    for (fold_int k = 0; k < r->n_rows && r->of != OPF_OF_OBJECTIVE; k++)
        row_pos[opf_row_x(r, k)] = k;
    for (fold_int c = 0; c < r->n_cols; c++)
        col_pos[opf_col_p(r, c)] = c;
    for (fold_int k = 0; k < count; k++) {
        const fold_trust_item *it = &items[k];
        opf_trust t = {.kind = it->kind,
                       .slack = it->slack,
                       .mult = it->multiplier,
                       .value = it->value,
                       .lo = it->lo,
                       .hi = it->hi,
                       .row = OPF_NO_KEY,
                       .col = OPF_NO_KEY};
        if (is_side(it->kind)) {
            if (affected(r, call, it, row_pos, col_pos, &t)) goto done;
        } else {
            fold_int pr, pc, pos = position(r, call, it, it->entry, row_pos, col_pos, &pr, &pc);
            if (pr < 0 && pc < 0) continue; /* not an entry that was asked for */
            t.row = pr >= 0 ? opf_row_key(r, pr) : OPF_NO_KEY;
            t.col = pc >= 0 ? opf_col_key(r, pc) : OPF_NO_KEY;
            if (pos >= 0 && (it->kind == FOLD_TRUST_UNCERTAIN || it->kind == FOLD_TRUST_KINK ||
                             it->kind == FOLD_TRUST_BARRIER_ERROR)) {
                r->lo[pos] = r->scale * it->lo;
                r->hi[pos] = r->scale * it->hi;
                t.lo = r->lo[pos];
                t.hi = r->hi[pos];
                t.value = r->scale * it->value;
            }
        }
        if (!(t.name = strdup(it->name)) || add(r, &t)) {
            free(t.name);
            free(t.aff_row);
            free(t.aff_col);
            goto done;
        }
    }
    rc = 0;
    /* an entry "not unique" in the vjp whose interval the one-sided derivatives give is
     * listed once, as the kink */
    int kept = 0;
    for (int k = 0; k < r->n_trust; k++) {
        opf_trust *t = &r->trust[k];
        bool dup = false;
        for (int q = 0; q < r->n_trust && t->kind == FOLD_TRUST_NOT_UNIQUE && !dup; q++)
            dup =
                (r->trust[q].kind == FOLD_TRUST_KINK || r->trust[q].kind == FOLD_TRUST_UNCERTAIN) &&
                r->trust[q].row == t->row && r->trust[q].col == t->col;
        if (dup) {
            free(t->name);
            free(t->aff_row);
            free(t->aff_col);
        } else {
            r->trust[kept++] = *t;
        }
    }
    r->n_trust = kept;
done:
    free(row_pos);
    free(col_pos);
    return rc;
}

static const char *const plural_names[] = {"ambiguous",
                                           "weakly active",
                                           "dependent",
                                           "inconsistent",
                                           "not unique",
                                           "uncertain",
                                           "with a barrier-form error",
                                           "at a kink"};

/* The number of entries asked for. */
static fold_int n_asked(const opf_run *r)
{
    switch (r->mode) {
    case OPF_MODE_JACOBIAN:
        return r->n_rows * r->n_cols;
    case OPF_MODE_JVP:
        return r->n_rows;
    default:
        return r->n_cols;
    }
}

/* One line on stderr whenever the report is not empty: how many of the entries asked for
 * are flagged, by kind, then the sides (constraints and bounds) and how many of them move
 * an entry asked for. */
void opf_trust_warn(const opf_run *r)
{
    char entries[512] = "", sides[512] = "";
    for (int kind = 0; kind <= FOLD_TRUST_KINK; kind++) {
        fold_int c = 0, moving = 0;
        for (int k = 0; k < r->n_trust; k++) {
            if (r->trust[k].kind != kind) continue;
            c++;
            moving += r->trust[k].n_aff > 0;
        }
        if (!c) continue;
        char *line = is_side(kind) ? sides : entries;
        size_t at = strlen(line);
        if (is_side(kind))
            snprintf(line + at, sizeof sides - at,
                     "%s%ld %s (%ld of them moving entries asked "
                     "for)",
                     at ? ", " : "", (long)c, plural_names[kind], (long)moving);
        else
            snprintf(line + at, sizeof entries - at, "%s%ld %s", at ? ", " : "", (long)c,
                     plural_names[kind]);
    }
    if (!entries[0] && !sides[0]) return;
    fprintf(stderr,
            "foldopt: opf: warning: of the %ld entries asked for: %s%s%s (see the trust "
            "report%s)\n",
            (long)n_asked(r), entries[0] ? entries : "none flagged",
            sides[0] ? "; constraint and bound sides: " : "", sides,
            r->json ? ": \"trust\" in the JSON" : " in the summary");
}

static void print_num(FILE *out, double v)
{
    if (isnan(v))
        fputs("?", out);
    else
        fprintf(out, "%.8g", v);
}

void opf_trust_text(const opf_run *r, FILE *out)
{
    if (r->n_trust == 0) return;
    fprintf(out, "trust       %d items limit the derivatives (doc/cli.md \"Trust report\"):\n",
            r->n_trust);
    for (int k = 0; k < r->n_trust; k++) {
        const opf_trust *t = &r->trust[k];
        fprintf(out, "  %-14s %s", fold_trust_kind_name(t->kind), t->name);
        if (is_side(t->kind)) {
            fprintf(out, " (slack %.3g, multiplier %.3g", t->slack, t->mult);
            if (t->n_aff) fprintf(out, "; moves %ld of the entries shown", (long)t->n_aff);
            fputc(')', out);
        } else if (t->kind == FOLD_TRUST_KINK) {
            fputs(": left ", out);
            print_num(out, t->lo);
            fputs(", right ", out);
            print_num(out, t->hi);
        } else if (!isnan(t->lo) || !isnan(t->hi)) {
            fputs(": [", out);
            print_num(out, t->lo);
            fputs(", ", out);
            print_num(out, t->hi);
            fputc(']', out);
        }
        fputc('\n', out);
    }
}

static void json_key_or_null(FILE *out, long key)
{
    if (key == OPF_NO_KEY)
        fputs("null", out);
    else
        fprintf(out, "%ld", key);
}

/* A number, with +-inf as the strings "inf" / "-inf" (a one-sided derivative where the
 * problem becomes infeasible) and NaN as null. */
void opf_json_bound(FILE *out, double v)
{
    if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", out);
    else if (isnan(v))
        fputs("null", out);
    else
        fprintf(out, "%.12g", v);
}

void opf_trust_json(const opf_run *r, FILE *out, void (*num)(FILE *, double),
                    void (*str)(FILE *, const char *))
{
    fputs(",\n \"trust\": [", out);
    for (int k = 0; k < r->n_trust; k++) {
        const opf_trust *t = &r->trust[k];
        fprintf(out, "%s\n  {\"kind\": \"%s\", \"name\": ", k ? "," : "",
                fold_trust_kind_name(t->kind));
        str(out, t->name);
        if (is_side(t->kind)) {
            fputs(", \"slack\": ", out);
            num(out, t->slack);
            fputs(", \"multiplier\": ", out);
            num(out, t->mult);
            fputs(", \"affected\": [", out);
            for (fold_int q = 0; q < t->n_aff; q++) {
                fputs(q ? ", " : "", out);
                if (t->aff_row[q] != OPF_NO_KEY && t->aff_col[q] != OPF_NO_KEY)
                    fprintf(out, "[%ld, %ld]", t->aff_row[q], t->aff_col[q]);
                else
                    json_key_or_null(out,
                                     t->aff_row[q] != OPF_NO_KEY ? t->aff_row[q] : t->aff_col[q]);
            }
            fputc(']', out);
        } else {
            fputs(", \"row\": ", out);
            json_key_or_null(out, t->row);
            fputs(", \"col\": ", out);
            json_key_or_null(out, t->col);
            fputs(", \"value\": ", out);
            num(out, t->value);
            fputs(t->kind == FOLD_TRUST_KINK ? ", \"left\": " : ", \"lo\": ", out);
            opf_json_bound(out, t->lo);
            fputs(t->kind == FOLD_TRUST_KINK ? ", \"right\": " : ", \"hi\": ", out);
            opf_json_bound(out, t->hi);
        }
        fputc('}', out);
    }
    fputc(']', out);
}
