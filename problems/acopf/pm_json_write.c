/* Write a case as a PowerModels JSON network, per unit as PowerModels' parse_file makes it
 * (export_json's layout: components keyed by their index; doc/acopf.md §1.3). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "acopf/acopf_internal.h"

static cJSON *source_id(const char *table, long id)
{
    cJSON *a = cJSON_CreateArray();
    if (a) {
        cJSON_AddItemToArray(a, cJSON_CreateString(table));
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)id));
    }
    return a;
}

/* A component keyed "<index>" in table t, with index and source_id set. */
static cJSON *component(cJSON *t, const char *table, long index)
{
    char key[32];
    cJSON *c = cJSON_CreateObject();
    snprintf(key, sizeof key, "%ld", index);
    if (!c || !cJSON_AddItemToObject(t, key, c)) return NULL;
    cJSON_AddNumberToObject(c, "index", (double)index);
    cJSON_AddItemToObject(c, "source_id", source_id(table, index));
    return c;
}

static void add(cJSON *c, const char *key, double v)
{
    cJSON_AddNumberToObject(c, key, v);
}

static bool write_buses(const fold_acopf_case *cs, cJSON *bus, cJSON *load, cJSON *shunt)
{
    double S = cs->base_mva;
    long n_load = 0, n_shunt = 0;
    for (fold_int i = 0; i < cs->n_bus; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        cJSON *c = component(bus, "bus", b->id);
        if (!c) return false;
        add(c, "bus_i", (double)b->id);
        add(c, "bus_type", b->type);
        add(c, "vm", b->vm0);
        add(c, "va", b->va0 * DEG);
        add(c, "vmin", b->vmin);
        add(c, "vmax", b->vmax);
        add(c, "base_kv", 230);
        add(c, "area", 1);
        add(c, "zone", 1);
        if (b->pd != 0 || b->qd != 0) { /* PowerModels' _split_loads_shunts! */
            cJSON *l = component(load, "bus", ++n_load);
            if (!l) return false;
            cJSON_ReplaceItemInObject(l, "source_id", source_id("bus", b->id));
            add(l, "load_bus", (double)b->id);
            add(l, "pd", b->pd / S);
            add(l, "qd", b->qd / S);
            add(l, "status", 1);
        }
        if (b->gs != 0 || b->bs != 0) {
            cJSON *s = component(shunt, "bus", ++n_shunt);
            if (!s) return false;
            cJSON_ReplaceItemInObject(s, "source_id", source_id("bus", b->id));
            add(s, "shunt_bus", (double)b->id);
            add(s, "gs", b->gs / S);
            add(s, "bs", b->bs / S);
            add(s, "status", 1);
        }
    }
    return true;
}

static bool write_gens(const fold_acopf_case *cs, cJSON *gen)
{
    double S = cs->base_mva;
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        cJSON *c = component(gen, "gen", g->row);
        if (!c) return false;
        add(c, "gen_bus", (double)cs->bus[g->bus].id);
        add(c, "pg", g->pg0 / S);
        add(c, "qg", g->qg0 / S);
        add(c, "pmin", g->pmin / S);
        add(c, "pmax", g->pmax / S);
        add(c, "qmin", g->qmin / S);
        add(c, "qmax", g->qmax / S);
        add(c, "vg", 1);
        add(c, "mbase", S);
        add(c, "gen_status", 1);
        add(c, "model", g->pwl ? 1 : 2);
        add(c, "startup", 0);
        add(c, "shutdown", 0);
        add(c, "ncost", g->n_cost);
        cJSON *cost = cJSON_AddArrayToObject(c, "cost");
        if (!cost) return false;
        const double *v = cs->cost + g->cost_off;
        /* per unit (PowerModels' _rescale_cost_model!): PWL x in p.u.; polynomial
         * coefficients of descending powers of P times S^power */
        for (int j = 0; cost && g->pwl && j < 2 * g->n_cost; j++)
            cJSON_AddItemToArray(cost, cJSON_CreateNumber(j % 2 ? v[j] : v[j] / S));
        for (int j = g->n_cost - 1; cost && !g->pwl && j >= 0; j--)
            cJSON_AddItemToArray(cost, cJSON_CreateNumber(v[j] * pow(S, j)));
    }
    return true;
}

static bool write_branches(const fold_acopf_case *cs, cJSON *branch)
{
    double S = cs->base_mva;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        cJSON *c = component(branch, "branch", b->row);
        if (!c) return false;
        add(c, "f_bus", (double)cs->bus[b->f].id);
        add(c, "t_bus", (double)cs->bus[b->t].id);
        add(c, "br_r", b->r);
        add(c, "br_x", b->x);
        add(c, "g_fr", 0);
        add(c, "g_to", 0);
        add(c, "b_fr", b->b / 2);
        add(c, "b_to", b->b / 2);
        if (b->rate_a > 0) /* PowerModels deletes a rate of 0 (unlimited) */
            add(c, "rate_a", b->rate_a / S);
        add(c, "tap", b->tap);
        add(c, "shift", b->shift_deg * DEG);
        add(c, "angmin", b->angmin_deg * DEG);
        add(c, "angmax", b->angmax_deg * DEG);
        add(c, "br_status", 1);
        cJSON_AddBoolToObject(c, "transformer", b->tap != 1 || b->shift_deg != 0);
    }
    return true;
}

fold_status fold_acopf_case_write_pm_json(const fold_acopf_case *cs, FILE *out)
{
    fold_clear_error();
    static const char *FN = "fold_acopf_case_write_pm_json";
    if (!cs || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", FN, cs ? "out" : "case");
    cJSON *root = cJSON_CreateObject();
    cJSON *bus = cJSON_AddObjectToObject(root, "bus"), *gen = cJSON_AddObjectToObject(root, "gen");
    cJSON *branch = cJSON_AddObjectToObject(root, "branch");
    cJSON *load = cJSON_AddObjectToObject(root, "load");
    cJSON *shunt = cJSON_AddObjectToObject(root, "shunt");
    const char *empty[] = {"dcline", "storage", "switch"};
    for (int k = 0; k < 3; k++)
        cJSON_AddObjectToObject(root, empty[k]);
    cJSON_AddStringToObject(root, "name", cs->name);
    cJSON_AddNumberToObject(root, "baseMVA", cs->base_mva);
    cJSON_AddBoolToObject(root, "per_unit", 1);
    cJSON_AddStringToObject(root, "source_type", "foldopt");
    cJSON_AddStringToObject(root, "source_version", "2");
    if (!root || !bus || !gen || !branch || !load || !shunt) {
        cJSON_Delete(root);
        return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
    }
    char *text =
        write_buses(cs, bus, load, shunt) && write_gens(cs, gen) && write_branches(cs, branch)
            ? cJSON_Print(root)
            : NULL;
    cJSON_Delete(root);
    if (!text) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
    bool ok = fputs(text, out) >= 0 && fputc('\n', out) != EOF && !ferror(out);
    cJSON_free(text);
    return ok ? FOLD_OK : acopf_error(FOLD_ERR_IO, "%s: write error", FN);
}
