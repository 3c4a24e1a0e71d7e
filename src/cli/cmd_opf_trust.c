/* foldopt opf: the trust report of the sensitivities (doc/cli.md "Trust report"). The report
 * of each call (the solver's for the one-sided derivatives of the objective, the acopf
 * call's otherwise, fold_acopf_trust_report) is mapped to the entries printed; the summary
 * and the JSON list it, and one line on stderr warns whenever it is not empty. Counts cover
 * the entries asked for only. foldopt batch sends the same items from its workers and
 * writes them with the same JSON writer and warning. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opf.h"

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (fold_int *const *)a, y = (uintptr_t) * (fold_int *const *)b;
    return (x > y) - (x < y);
}

void opf_trust_free(opf_run *r)
{
    /* sides may share one affected list (opf_trust_collect): each list freed once */
    fold_int **lists = malloc(((size_t)r->n_trust + 1) * sizeof *lists), n = 0;
    for (fold_int k = 0; k < r->n_trust; k++)
        if (lists && r->trust[k].affected) lists[n++] = (fold_int *)r->trust[k].affected;
    if (lists) {
        qsort(lists, (size_t)n, sizeof *lists, cmp_ptr);
        for (fold_int k = 0; k < n; k++)
            if (k == 0 || lists[k] != lists[k - 1]) free(lists[k]);
    }
    free(lists);
    free(r->trust);
    free(r->trust_name_at);
    name_pool_free(&r->trust_names);
    r->trust = NULL;
    r->trust_name_at = NULL;
    r->n_trust = r->cap_trust = 0;
}

static bool is_side(int kind)
{
    return kind == FOLD_TRUST_AMBIGUOUS || kind == FOLD_TRUST_WEAK || kind == FOLD_TRUST_DEPENDENT;
}

/* Append item t named name (copied); its name pointer is set by name_items. */
static int add(opf_run *r, const fold_trust_item *t, const char *name)
{
    if (r->n_trust == r->cap_trust) {
        fold_int cap = r->cap_trust ? 2 * r->cap_trust : 16;
        fold_trust_item *p = realloc(r->trust, (size_t)cap * sizeof *p);
        if (p) r->trust = p;
        size_t *at = p ? realloc(r->trust_name_at, (size_t)cap * sizeof *at) : NULL;
        if (!at) return -1;
        r->trust_name_at = at;
        r->cap_trust = cap;
    }
    size_t at = name_pool_add(&r->trust_names, name);
    if (at == (size_t)-1) return -1;
    r->trust_name_at[r->n_trust] = at;
    r->trust[r->n_trust] = *t;
    r->trust[r->n_trust].name = NULL;
    r->trust[r->n_trust++].size = sizeof *t; /* the stride of this array */
    return 0;
}

/* The items' name pointers, into the pool as it is now. */
static void name_items(opf_run *r)
{
    for (fold_int k = 0; k < r->n_trust; k++)
        r->trust[k].name = r->trust_names.buf + r->trust_name_at[k];
}

/* Position in values of entry e of a call's result (-1: not asked for): the acopf calls
 * number as values does, except a vjp (a parameter); the one-sided derivatives name
 * parameters. */
static fold_int position(const opf_run *r, int call, fold_int e, const fold_int *col_pos)
{
    if (e < 0) return -1;
    if (call == OPF_CALL_VALUE || r->mode == OPF_MODE_VJP) return col_pos[e];
    return e < opf_n_entries(r) ? e : -1;
}

/* A side already listed by an earlier call of this run (a vjp of the objective reads the
 * one-sided derivatives' report and the vjp's). */
static fold_trust_item *listed(opf_run *r, const fold_trust_item *it)
{
    for (fold_int k = 0; k < r->n_trust; k++)
        if (r->trust[k].kind == it->kind &&
            !strcmp(r->trust_names.buf + r->trust_name_at[k], it->name))
            return &r->trust[k];
    return NULL;
}

static int cmp_int(const void *a, const void *b)
{
    fold_int x = *(const fold_int *)a, y = *(const fold_int *)b;
    return (x > y) - (x < y);
}

/* Is list l the affected list of an item of r other than `self`? */
static bool shared(const opf_run *r, const fold_int *l, const fold_trust_item *self)
{
    for (fold_int k = 0; l && k < r->n_trust; k++)
        if (&r->trust[k] != self && r->trust[k].affected == l) return true;
    return false;
}

/* The positions of the entries asked for among the call's entries e[0..n), merged into t's
 * list, sorted and without repeats (several calls, several variants name an entry). */
static int add_affected(const opf_run *r, fold_trust_item *t, int call, const fold_int *e,
                        fold_int n, const fold_int *col_pos)
{
    fold_int have = t->n_affected, m = 0;
    fold_int *l = malloc(((size_t)have + (size_t)n + 1) * sizeof *l);
    if (!l) return -1;
    for (fold_int q = 0; q < have; q++)
        l[m++] = t->affected[q];
    for (fold_int q = 0; q < n; q++) {
        fold_int pos = position(r, call, e[q], col_pos);
        if (pos >= 0) l[m++] = pos;
    }
    qsort(l, (size_t)m, sizeof *l, cmp_int);
    fold_int u = 0;
    for (fold_int q = 0; q < m; q++)
        if (u == 0 || l[q] != l[u - 1]) l[u++] = l[q];
    if (!shared(r, t->affected, t)) free((fold_int *)t->affected);
    t->affected = l;
    t->n_affected = u;
    return 0;
}

int opf_trust_collect(opf_run *r, int call)
{
    const fold_trust_item *items;
    fold_int count, np = r->L.np;
    fold_status st = call == OPF_CALL_VALUE ? fold_trust_report(r->solver, &items, &count)
                                            : fold_acopf_trust_report(&items, &count);
    if (st != FOLD_OK || count == 0) return 0;
    fold_int *col_pos = malloc(((size_t)np + 1) * sizeof *col_pos);
    /* the lists of the new sides of this report and their places in r->trust */
    const fold_int **src = calloc((size_t)count + 1, sizeof *src);
    fold_int *at = malloc(((size_t)count + 1) * sizeof *at);
    if (!col_pos || !src || !at) {
        free(col_pos);
        free(src);
        free(at);
        return -1;
    }
    for (fold_int k = 0; k < np; k++)
        col_pos[k] = -1;
    for (fold_int c = 0; c < r->n_cols; c++)
        col_pos[r->cols[c]] = c;
    int rc = -1;
    for (fold_int k = 0; k < count; k++) {
        const fold_trust_item *it = fold_trust_item_at(items, k);
        /* the item in the numbering of values: entry, col (a column position) and
         * affected positions; names copied */
        fold_trust_item t = *it;
        t.name = NULL;
        t.entry = t.row = t.col = -1;
        t.n_affected = 0;
        t.affected = NULL;
        if (is_side(it->kind)) {
            fold_trust_item *old = listed(r, it);
            fold_trust_item *dst = old ? old : &t;
            fold_int j = 0; /* a new side whose list an earlier new side had: shared */
            while (!old && it->n_affected > 0 && j < k && src[j] != it->affected)
                j++;
            if (!old && it->n_affected > 0 && j < k) {
                t.affected = r->trust[at[j]].affected;
                t.n_affected = r->trust[at[j]].n_affected;
            } else if (it->n_affected > 0 &&
                       add_affected(r, dst, call, it->affected, it->n_affected, col_pos)) {
                goto done;
            }
            if (old) continue;
            if (it->n_affected > 0) {
                src[k] = it->affected;
                at[k] = r->n_trust; /* where add() puts it */
            }
        } else if (it->entry < 0 && it->kind == FOLD_TRUST_INCONSISTENT) {
            if (it->col < 0 || (t.col = col_pos[it->col]) < 0) continue;
        } else {
            t.entry = position(r, call, it->entry, col_pos);
            if (t.entry < 0) continue; /* not an entry that was asked for */
            if (it->kind == FOLD_TRUST_UNCERTAIN || it->kind == FOLD_TRUST_BARRIER_ERROR) {
                r->lo[t.entry] = fmin(it->lo, it->hi);
                r->hi[t.entry] = fmax(it->lo, it->hi);
            }
            /* an entry not unique in the vjp whose one-sided derivatives are known is
             * listed once, as the kink */
            bool covered = false;
            for (fold_int q = 0; q < r->n_trust && it->kind == FOLD_TRUST_NOT_UNIQUE; q++)
                covered |= r->trust[q].entry == t.entry && r->trust[q].kind == FOLD_TRUST_KINK;
            if (covered) continue;
        }
        if (add(r, &t, it->name)) {
            if (!shared(r, t.affected, &t)) free((fold_int *)t.affected);
            goto done;
        }
    }
    rc = 0;
done:
    name_items(r);
    free(col_pos);
    free(src);
    free(at);
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

/* One line on stderr whenever the report is not empty: how many of the entries asked for
 * are flagged, by kind, then the sides (constraints and bounds) and how many of them move
 * an entry asked for. */
void opf_trust_warn_items(const opf_run *r, const fold_trust_item *items, fold_int n,
                          const char *scenario, const char *where)
{
    char entries[512] = "", sides[512] = "";
    for (int kind = 0; kind <= FOLD_TRUST_KINK; kind++) {
        fold_int c = 0, moving = 0;
        for (fold_int k = 0; k < n; k++) {
            const fold_trust_item *it = fold_trust_item_at(items, k);
            if ((int)it->kind != kind) continue;
            c++;
            moving += it->n_affected > 0;
        }
        if (!c) continue;
        char *line = is_side(kind) ? sides : entries;
        size_t at = strlen(line);
        if (is_side(kind))
            snprintf(line + at, sizeof sides - at,
                     "%s%ld %s (%ld of them moving entries asked for)", at ? ", " : "", (long)c,
                     plural_names[kind], (long)moving);
        else
            snprintf(line + at, sizeof entries - at, "%s%ld %s", at ? ", " : "", (long)c,
                     plural_names[kind]);
    }
    if (!entries[0] && !sides[0]) return;
    fprintf(stderr,
            "foldopt: %s: warning: %sof the %ld entries asked for: %s%s%s (see the trust "
            "report%s)\n",
            r->command, scenario ? scenario : "", (long)opf_n_entries(r),
            entries[0] ? entries : "none flagged", sides[0] ? "; constraint and bound sides: " : "",
            sides, where);
}

void opf_trust_warn(const opf_run *r)
{
    opf_trust_warn_items(r, r->trust, r->n_trust, NULL,
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
    fprintf(out, "trust       %ld items limit the derivatives (doc/cli.md \"Trust report\"):\n",
            (long)r->n_trust);
    for (fold_int k = 0; k < r->n_trust; k++) {
        const fold_trust_item *t = &r->trust[k];
        fprintf(out, "  %-14s %s", fold_trust_kind_name(t->kind), t->name);
        if (is_side(t->kind)) {
            fprintf(out, " (slack %.3g, multiplier %.3g", t->slack, t->multiplier);
            if (t->n_affected)
                fprintf(out, "; moves %ld of the entries asked for", (long)t->n_affected);
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

void opf_json_bound(FILE *out, double v)
{
    if (isinf(v))
        fputs(v > 0 ? "\"inf\"" : "\"-inf\"", out);
    else if (isnan(v))
        fputs("null", out);
    else
        fprintf(out, "%.12g", v);
}

/* The row and column labels of position pos of values (null where not part of it). */
static void json_place(const opf_run *r, FILE *out, fold_int pos, bool pair)
{
    bool jac = r->mode == OPF_MODE_JACOBIAN, jvp = r->mode == OPF_MODE_JVP;
    fold_int row = jac ? pos % r->n_rows : jvp ? pos : -1;
    fold_int col = jac ? pos / r->n_rows : jvp ? -1 : pos;
    if (!pair) { /* an affected entry: [row, col] of a Jacobian, else the one label */
        if (jac) fputc('[', out);
        if (row >= 0) opf_json_label(r, out, false, row);
        if (jac) fputs(", ", out);
        if (col >= 0) opf_json_label(r, out, true, col);
        if (jac) fputc(']', out);
        return;
    }
    fputs(", \"row\": ", out);
    if (row >= 0)
        opf_json_label(r, out, false, row);
    else
        fputs("null", out);
    fputs(", \"col\": ", out);
    if (col >= 0)
        opf_json_label(r, out, true, col);
    else
        fputs("null", out);
}

void opf_trust_json_items(const opf_run *r, const fold_trust_item *items, fold_int n, bool one_line,
                          FILE *out)
{
    const char *sep = one_line ? " " : "\n  ";
    fputs(one_line ? ", \"trust\": [" : ",\n \"trust\": [", out);
    for (fold_int k = 0; k < n; k++) {
        const fold_trust_item *t = fold_trust_item_at(items, k);
        fprintf(out, "%s%s{\"kind\": \"%s\", \"name\": ", k ? "," : "", k || !one_line ? sep : "",
                fold_trust_kind_name(t->kind));
        opf_json_string(out, t->name);
        if (is_side(t->kind)) {
            fputs(", \"slack\": ", out);
            opf_json_num(out, t->slack);
            fputs(", \"multiplier\": ", out);
            opf_json_num(out, t->multiplier);
            fold_int same = 0; /* an earlier side with this list: named, not repeated */
            while (same < k &&
                   !(t->n_affected > 0 && fold_trust_item_at(items, same)->affected == t->affected))
                same++;
            if (same < k) {
                fprintf(out, ", \"affected_same_as\": %ld", (long)same);
            } else {
                fputs(", \"affected\": [", out);
                for (fold_int q = 0; q < t->n_affected; q++) {
                    fputs(q ? ", " : "", out);
                    json_place(r, out, t->affected[q], false);
                }
                fputc(']', out);
            }
        } else if (t->entry < 0) { /* a column without a solution */
            fputs(", \"row\": null, \"col\": ", out);
            if (t->col >= 0)
                opf_json_label(r, out, true, t->col);
            else
                fputs("null", out);
        } else {
            json_place(r, out, t->entry, true);
            fputs(", \"value\": ", out);
            opf_json_num(out, t->value);
            fputs(t->kind == FOLD_TRUST_KINK ? ", \"left\": " : ", \"lo\": ", out);
            opf_json_bound(out, t->lo);
            fputs(t->kind == FOLD_TRUST_KINK ? ", \"right\": " : ", \"hi\": ", out);
            opf_json_bound(out, t->hi);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

void opf_trust_json(const opf_run *r, FILE *out)
{
    opf_trust_json_items(r, r->trust, r->n_trust, false, out);
}
