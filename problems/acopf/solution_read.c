/* A solution computed elsewhere, read into the results struct (MATPOWER's units and signs,
 * doc/acopf.md §8): a MATPOWER solved case (the columns savecase writes after an OPF, at the
 * indices of idx_bus, idx_gen, idx_brch) or the "results" of foldopt opf --json. The
 * solution must be of the given case: the same in-service buses, generators and branches. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "acopf/acopf_internal.h"

/* MATPOWER's 1-based column numbers (idx_bus.m, idx_gen.m, idx_brch.m). */
enum { BUS_VM = 8, BUS_VA = 9, BUS_LAM_P = 14, BUS_LAM_Q, BUS_MU_VMAX, BUS_MU_VMIN };
enum { GEN_PG = 2, GEN_QG = 3, GEN_MU_PMAX = 22, GEN_MU_PMIN, GEN_MU_QMAX, GEN_MU_QMIN };
enum { BR_PF = 14, BR_QF, BR_PT, BR_QT, BR_MU_SF, BR_MU_ST, BR_MU_ANGMIN, BR_MU_ANGMAX };

#define M(mx, i, j) ((mx)->v[(size_t)(i) * (size_t)(mx)->n_col + (size_t)(j)-1])

/* The solution's network is the case's: same sizes, bus ids, generator buses and branch
 * ends, in order. */
static fold_status same_network(const fold_acopf_case *cs, const fold_acopf_case *sol,
                                const char *path)
{
    if (cs->n_bus != sol->n_bus || cs->n_gen != sol->n_gen || cs->n_branch != sol->n_branch)
        return acopf_error(FOLD_ERR_PARSE,
                           "%s: the solution has %ld buses, %ld generators, "
                           "%ld branches in service; %s has %ld, %ld, %ld",
                           path, (long)sol->n_bus, (long)sol->n_gen, (long)sol->n_branch, cs->name,
                           (long)cs->n_bus, (long)cs->n_gen, (long)cs->n_branch);
    for (fold_int i = 0; i < cs->n_bus; i++)
        if (cs->bus[i].id != sol->bus[i].id)
            return acopf_error(FOLD_ERR_PARSE, "%s:%ld: bus %ld where %s has bus %ld", path,
                               sol->bus[i].line, sol->bus[i].id, cs->name, cs->bus[i].id);
    for (fold_int k = 0; k < cs->n_gen; k++)
        if (cs->bus[cs->gen[k].bus].id != sol->bus[sol->gen[k].bus].id)
            return acopf_error(FOLD_ERR_PARSE,
                               "%s:%ld: generator at bus %ld where %s has "
                               "generator row %ld at bus %ld",
                               path, sol->gen[k].line, sol->bus[sol->gen[k].bus].id, cs->name,
                               cs->gen[k].row, cs->bus[cs->gen[k].bus].id);
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *a = &cs->branch[k], *b = &sol->branch[k];
        if (a->f != b->f || a->t != b->t)
            return acopf_error(FOLD_ERR_PARSE,
                               "%s:%ld: branch %ld-%ld where %s has branch "
                               "row %ld, %ld-%ld",
                               path, b->line, sol->bus[b->f].id, sol->bus[b->t].id, cs->name,
                               a->row, cs->bus[a->f].id, cs->bus[a->t].id);
    }
    return FOLD_OK;
}

static fold_acopf_results *new_results(const fold_acopf_case *cs)
{
    /* the results' allocation: a model-free twin of fold_acopf_results_create's */
    return acopf_results_alloc(cs->n_bus, cs->n_gen, cs->n_branch);
}

static fold_status read_matpower(const char *path, const char *text, size_t len,
                                 const fold_acopf_case *cs, fold_acopf_results **out)
{
    mp_file f;
    fold_acopf_case *sol = NULL;
    fold_acopf_results *r = NULL;
    memset(&f, 0, sizeof f);
    f.name = acopf_base_name(path);
    fold_status st = mp_tokenize(text, len, &f);
    if (st == FOLD_OK) st = mp_convert(&f, &sol);
    if (st == FOLD_OK) st = same_network(cs, sol, path);
    if (st == FOLD_OK && !(r = new_results(cs)))
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", path);
    if (st != FOLD_OK) goto done;
    const mp_matrix *bus = &f.bus, *gen = &f.gen, *br = &f.branch;
    r->has_duals =
        bus->n_col >= BUS_MU_VMIN && gen->n_col >= GEN_MU_QMIN && br->n_col >= BR_MU_ANGMAX;
    for (fold_int row = 0, i = 0; row < bus->n_row; row++) {
        if (M(bus, row, 2) == 4) /* isolated buses are dropped, as by the case reader */
            continue;
        r->vm[i] = M(bus, row, BUS_VM);
        r->va[i] = M(bus, row, BUS_VA);
        r->pd[i] = M(bus, row, 3);
        r->qd[i] = M(bus, row, 4);
        if (r->has_duals) {
            r->lam_p[i] = M(bus, row, BUS_LAM_P);
            r->lam_q[i] = M(bus, row, BUS_LAM_Q);
            r->mu_vmax[i] = M(bus, row, BUS_MU_VMAX);
            r->mu_vmin[i] = M(bus, row, BUS_MU_VMIN);
        }
        i++;
    }
    for (fold_int k = 0; k < cs->n_gen; k++) {
        fold_int row = sol->gen[k].row - 1;
        r->pg[k] = M(gen, row, GEN_PG);
        r->qg[k] = M(gen, row, GEN_QG);
        if (r->has_duals) {
            r->mu_pmax[k] = M(gen, row, GEN_MU_PMAX);
            r->mu_pmin[k] = M(gen, row, GEN_MU_PMIN);
            r->mu_qmax[k] = M(gen, row, GEN_MU_QMAX);
            r->mu_qmin[k] = M(gen, row, GEN_MU_QMIN);
        }
    }
    for (fold_int k = 0; k < cs->n_branch; k++) {
        fold_int row = sol->branch[k].row - 1;
        double *col[8] = {r->pf,    r->qf,    r->pt,        r->qt,
                          r->mu_sf, r->mu_st, r->mu_angmin, r->mu_angmax};
        for (int c = 0; c < 8; c++)
            if (br->n_col >= BR_PF + c) col[c][k] = M(br, row, BR_PF + c);
    }
done:
    if (st != FOLD_OK)
        fold_acopf_results_free(r);
    else
        *out = r;
    fold_acopf_case_free(sol);
    mp_file_clear(&f);
    return st;
}

/* ---- JSON: {"bus": {"bus": [ids], "vm": [...], ...}, "gen": {"row": [...], ...},
 * "branch": {"row": [...], ...}}, at the top level or under "results" (foldopt opf --json)
 * ---- */

typedef struct json_table {
    const cJSON *obj;
    const char *what; /* "bus", "gen", "branch" */
    const char *keyname;
    fold_int *pos; /* per entry of the lists: the case index */
    fold_int n;
} json_table;

static fold_status table_keys(const fold_acopf_case *cs, const char *path, json_table *t, int type)
{
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t->obj, t->keyname);
    fold_int want = acopf_case_item_count(cs, type);
    if (!cJSON_IsArray(keys))
        return acopf_error(FOLD_ERR_PARSE, "%s: \"%s\" has no list \"%s\"", path, t->what,
                           t->keyname);
    t->n = cJSON_GetArraySize(keys);
    if (t->n != want)
        return acopf_error(FOLD_ERR_PARSE, "%s: \"%s\" has %ld entries, %s has %ld", path, t->what,
                           (long)t->n, cs->name, (long)want);
    t->pos = malloc(((size_t)t->n + 1) * sizeof *t->pos);
    if (!t->pos) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", path);
    fold_int q = 0;
    for (const cJSON *e = keys->child; e; e = e->next, q++) {
        fold_int idx = -1;
        long key = cJSON_IsNumber(e) ? (long)e->valuedouble : -1;
        for (fold_int i = 0; i < want && idx < 0; i++)
            if (fold_acopf_item_key(cs, type, i) == key) idx = i;
        if (idx < 0)
            return acopf_error(FOLD_ERR_PARSE, "%s: \"%s\".\"%s\"[%ld] = %ld is not a %s of %s",
                               path, t->what, t->keyname, (long)q, key,
                               type == FOLD_ACOPF_ITEM_BUS ? "bus id" : "row in service", cs->name);
        t->pos[q] = idx;
    }
    return FOLD_OK;
}

/* List `name` of a table into dst (case order); absent: *present false (required: error). */
static fold_status table_list(const json_table *t, const char *path, const char *name,
                              bool required, double *dst, bool *present)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(t->obj, name);
    *present = a != NULL;
    if (!a)
        return required ? acopf_error(FOLD_ERR_PARSE, "%s: \"%s\" has no list \"%s\"", path,
                                      t->what, name)
                        : FOLD_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != t->n)
        return acopf_error(FOLD_ERR_PARSE, "%s: \"%s\".\"%s\" is not a list of %ld numbers", path,
                           t->what, name, (long)t->n);
    fold_int q = 0;
    for (const cJSON *e = a->child; e; e = e->next, q++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return acopf_error(FOLD_ERR_PARSE, "%s: \"%s\".\"%s\"[%ld] is not a finite number",
                               path, t->what, name, (long)q);
        dst[t->pos[q]] = e->valuedouble;
    }
    return FOLD_OK;
}

static fold_status read_json(const char *path, const char *text, size_t len,
                             const fold_acopf_case *cs, fold_acopf_results **out)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) return acopf_error(FOLD_ERR_PARSE, "%s: not valid JSON", path);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "results");
    if (!res) res = root;
    json_table t[3] = {{cJSON_GetObjectItemCaseSensitive(res, "bus"), "bus", "bus", NULL, 0},
                       {cJSON_GetObjectItemCaseSensitive(res, "gen"), "gen", "row", NULL, 0},
                       {cJSON_GetObjectItemCaseSensitive(res, "branch"), "branch", "row", NULL, 0}};
    const int types[3] = {FOLD_ACOPF_ITEM_BUS, FOLD_ACOPF_ITEM_GEN, FOLD_ACOPF_ITEM_BRANCH};
    fold_acopf_results *r = NULL;
    fold_status st = FOLD_OK;
    for (int k = 0; k < 3 && st == FOLD_OK; k++)
        st = cJSON_IsObject(t[k].obj) ? table_keys(cs, path, &t[k], types[k])
                                      : acopf_error(FOLD_ERR_PARSE,
                                                    "%s: no object \"%s\" (the \"results\" of "
                                                    "foldopt opf --json)",
                                                    path, t[k].what);
    if (st == FOLD_OK && !(r = new_results(cs)))
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", path);
    if (st == FOLD_OK) {
        struct {
            int table;
            const char *name;
            double *dst;
            bool required;
        } lists[] = {{0, "vm", r->vm, true},
                     {0, "va", r->va, true},
                     {1, "pg", r->pg, true},
                     {1, "qg", r->qg, true},
                     {0, "lam_p", r->lam_p, false},
                     {0, "lam_q", r->lam_q, false},
                     {0, "mu_vmin", r->mu_vmin, false},
                     {0, "mu_vmax", r->mu_vmax, false},
                     {1, "mu_pmin", r->mu_pmin, false},
                     {1, "mu_pmax", r->mu_pmax, false},
                     {1, "mu_qmin", r->mu_qmin, false},
                     {1, "mu_qmax", r->mu_qmax, false},
                     {2, "mu_sf", r->mu_sf, false},
                     {2, "mu_st", r->mu_st, false},
                     {2, "mu_angmin", r->mu_angmin, false},
                     {2, "mu_angmax", r->mu_angmax, false}};
        r->has_duals = true;
        for (size_t k = 0; k < sizeof lists / sizeof lists[0] && st == FOLD_OK; k++) {
            bool present;
            st = table_list(&t[lists[k].table], path, lists[k].name, lists[k].required,
                            lists[k].dst, &present);
            r->has_duals &= present || lists[k].required;
        }
    }
    for (int k = 0; k < 3; k++)
        free(t[k].pos);
    cJSON_Delete(root);
    if (st != FOLD_OK)
        fold_acopf_results_free(r);
    else
        *out = r;
    return st;
}

fold_status fold_acopf_solution_read(const char *path, const fold_acopf_case *cs,
                                     fold_acopf_results **out)
{
    fold_clear_error();
    if (!path || !cs || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_solution_read: an argument is NULL");
    char *text;
    size_t len;
    fold_status st = acopf_slurp(path, &text, &len);
    if (st != FOLD_OK) return st;
    const char *c = text;
    while (*c && isspace((unsigned char)*c))
        c++;
    st = *c == '{' ? read_json(path, text, len, cs, out) : read_matpower(path, text, len, cs, out);
    free(text);
    return st;
}
