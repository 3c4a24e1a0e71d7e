/* PowerModels' JSON network format (the dictionary parse_file produces and export_json
 * writes: bus, gen, branch, load, shunt, keyed by index; per-unit fields when "per_unit" is
 * true) read into a fold_acopf_case and written from one (doc/acopf.md §1.3). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "acopf/acopf_internal.h"

/* The reader's context: the file name for messages, the unit conversion. */
typedef struct pm_ctx {
    const char *name;
    double S;      /* baseMVA */
    bool per_unit; /* powers in p.u. of S, angles in radians, costs per p.u. */
} pm_ctx;

/* Numeric field `key` of component `comp` (`table` "idx" for messages); absent: def, or an
 * error when required (def NAN). */
static fold_status num(const pm_ctx *c, const cJSON *comp, const char *table, const char *idx,
                       const char *key, double def, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(comp, key);
    if (!v && !isnan(def)) {
        *out = def;
        return FOLD_OK;
    }
    if (!v)
        return acopf_error(FOLD_ERR_PARSE, "%s: %s \"%s\": no field \"%s\"", c->name, table, idx,
                           key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return acopf_error(FOLD_ERR_PARSE, "%s: %s \"%s\": \"%s\" is not a finite number", c->name,
                           table, idx, key);
    *out = v->valuedouble;
    return FOLD_OK;
}

/* An integer that a long holds exactly (no cast of an out-of-range double). */
static bool is_int(double v)
{
    return fabs(v) <= 1e15 && v == floor(v);
}

static int cmp_index(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double i = cJSON_GetObjectItemCaseSensitive(x, "index")->valuedouble;
    double j = cJSON_GetObjectItemCaseSensitive(y, "index")->valuedouble;
    return (i > j) - (i < j);
}

/* The components of table `table` (an object keyed by index) sorted by their "index". */
static fold_status components(const pm_ctx *c, const cJSON *root, const char *table, bool required,
                              const cJSON ***out, fold_int *n)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, table);
    *out = NULL;
    *n = 0;
    if (!t)
        return required ? acopf_error(FOLD_ERR_PARSE, "%s: no \"%s\" table", c->name, table)
                        : FOLD_OK;
    if (!cJSON_IsObject(t) && !cJSON_IsArray(t))
        return acopf_error(FOLD_ERR_PARSE, "%s: \"%s\" is not an object of components", c->name,
                           table);
    fold_int cnt = cJSON_GetArraySize(t);
    *out = malloc(((size_t)cnt + 1) * sizeof **out);
    if (!*out) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", c->name);
    for (const cJSON *e = t->child; e; e = e->next) {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
        if (!cJSON_IsObject(e) || !cJSON_IsNumber(ix) || !is_int(ix->valuedouble) ||
            ix->valuedouble < 1)
            return acopf_error(FOLD_ERR_PARSE,
                               "%s: %s \"%s\" is not a component with a "
                               "positive integer \"index\"",
                               c->name, table, e->string ? e->string : "?");
        (*out)[(*n)++] = e;
    }
    qsort(*out, (size_t)*n, sizeof **out, cmp_index);
    for (fold_int k = 1; k < *n; k++)
        if (cmp_index(&(*out)[k - 1], &(*out)[k]) == 0)
            return acopf_error(FOLD_ERR_PARSE, "%s: %s: index %g appears twice", c->name, table,
                               cJSON_GetObjectItemCaseSensitive((*out)[k], "index")->valuedouble);
    return FOLD_OK;
}

static const char *key_of(const cJSON *comp, char *buf, size_t len)
{
    snprintf(buf, len, "%.0f", cJSON_GetObjectItemCaseSensitive(comp, "index")->valuedouble);
    return buf;
}

/* Index of the case bus with id `id` (ids sorted ascending in the case), -1 when absent. */
static fold_int bus_index(const fold_acopf_case *cs, double id)
{
    fold_int lo = 0, hi = cs->n_bus;
    while (lo < hi) {
        fold_int mid = lo + (hi - lo) / 2;
        if ((double)cs->bus[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cs->n_bus && (double)cs->bus[lo].id == id ? lo : -1;
}

/* Components in service (status field absent or nonzero) at a bus in service. */
static fold_status in_service(const pm_ctx *c, const cJSON *comp, const char *table,
                              const char *status, const char *busfield, const fold_acopf_case *cs,
                              const double *all_ids, fold_int n_all, fold_int *bus, bool *keep)
{
    char k[32];
    double st, b;
    fold_status e;
    key_of(comp, k, sizeof k);
    if ((e = num(c, comp, table, k, status, 1, &st)) ||
        (e = num(c, comp, table, k, busfield, NAN, &b)))
        return e;
    fold_int lo = 0, hi = n_all; /* all_ids ascending (buses sorted by index = bus_i) */
    while (lo < hi) {
        fold_int mid = lo + (hi - lo) / 2;
        if (all_ids[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= n_all || all_ids[lo] != b)
        return acopf_error(FOLD_ERR_PARSE, "%s: %s \"%s\": \"%s\" = %g is not a bus", c->name,
                           table, k, busfield, b);
    *bus = bus_index(cs, b);
    *keep = st != 0 && *bus >= 0;
    return FOLD_OK;
}

static fold_status read_buses(const pm_ctx *c, const cJSON *root, fold_acopf_case *cs,
                              double **all_ids, fold_int *n_all)
{
    const cJSON **b;
    fold_int n;
    fold_status st = components(c, root, "bus", true, &b, &n);
    *all_ids = malloc(((size_t)n + 1) * sizeof **all_ids);
    cs->bus = calloc((size_t)n + 1, sizeof *cs->bus);
    if (st == FOLD_OK && (!*all_ids || !cs->bus))
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", c->name);
    fold_int n_ref = 0;
    for (fold_int q = 0; q < n && st == FOLD_OK; q++) {
        char k[32];
        double id, type, vm, va, vmin, vmax;
        key_of(b[q], k, sizeof k);
        if ((st = num(c, b[q], "bus", k, "bus_i", NAN, &id)) ||
            (st = num(c, b[q], "bus", k, "bus_type", NAN, &type)) ||
            (st = num(c, b[q], "bus", k, "vm", 1, &vm)) ||
            (st = num(c, b[q], "bus", k, "va", 0, &va)) ||
            (st = num(c, b[q], "bus", k, "vmin", NAN, &vmin)) ||
            (st = num(c, b[q], "bus", k, "vmax", NAN, &vmax)))
            break;
        if (id != cJSON_GetObjectItemCaseSensitive(b[q], "index")->valuedouble) {
            st = acopf_error(FOLD_ERR_PARSE, "%s: bus \"%s\": bus_i %g differs from its index",
                             c->name, k, id);
            break;
        }
        if (!is_int(id) || id <= 0 || !is_int(type) || type < 1 || type > 4 || vmin > vmax ||
            vmin < 0) {
            st = acopf_error(FOLD_ERR_PARSE,
                             "%s: bus \"%s\": bus_i %g, bus_type %g, vmin %g, "
                             "vmax %g: need a positive integer id, a type 1..4 and 0 <= vmin <= "
                             "vmax",
                             c->name, k, id, type, vmin, vmax);
            break;
        }
        (*all_ids)[(*n_all)++] = id;
        if (type == 4) {
            cs->n_dropped_bus++;
            continue;
        }
        fold_acopf_bus *bus = &cs->bus[cs->n_bus++];
        bus->id = (long)id;
        bus->type = (int)type;
        bus->vm0 = vm;
        bus->va0 = c->per_unit ? va / DEG : va;
        bus->vmin = vmin;
        bus->vmax = vmax;
        n_ref += type == 3;
    }
    if (st == FOLD_OK && n_ref == 0)
        st = acopf_error(FOLD_ERR_PARSE, "%s: no reference bus (bus_type 3)", c->name);
    free(b);
    return st;
}

/* Loads and shunts add to their bus (several per bus allowed). */
static fold_status read_injections(const pm_ctx *c, const cJSON *root, fold_acopf_case *cs,
                                   const double *ids, fold_int n_ids, bool shunt)
{
    const char *table = shunt ? "shunt" : "load";
    const cJSON **e;
    fold_int n;
    fold_status st = components(c, root, table, false, &e, &n);
    double scale = c->per_unit ? c->S : 1;
    for (fold_int q = 0; q < n && st == FOLD_OK; q++) {
        fold_int bus;
        bool keep;
        char k[32];
        double a, b;
        key_of(e[q], k, sizeof k);
        if ((st = in_service(c, e[q], table, "status", shunt ? "shunt_bus" : "load_bus", cs, ids,
                             n_ids, &bus, &keep)) ||
            (st = num(c, e[q], table, k, shunt ? "gs" : "pd", NAN, &a)) ||
            (st = num(c, e[q], table, k, shunt ? "bs" : "qd", NAN, &b)))
            break;
        if (!keep) continue;
        *(shunt ? &cs->bus[bus].gs : &cs->bus[bus].pd) += a * scale;
        *(shunt ? &cs->bus[bus].bs : &cs->bus[bus].qd) += b * scale;
    }
    free(e);
    return st;
}

/* The cost of a generator: model 2 (polynomial, descending powers of P) or 1 (PWL points
 * x1 y1 ..), per p.u. when per_unit (PowerModels' _rescale_cost_model!). */
static fold_status read_cost(const pm_ctx *c, const cJSON *g, const char *k, fold_acopf_gen *gen,
                             double *cost, fold_int *len)
{
    double model;
    fold_status st = num(c, g, "gen", k, "model", NAN, &model);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(g, "cost");
    if (st != FOLD_OK) return st;
    if ((model != 1 && model != 2) || !cJSON_IsArray(arr))
        return acopf_error(FOLD_ERR_PARSE,
                           "%s: gen \"%s\": cost model %g with %s: need model 1 "
                           "or 2 and a list \"cost\"",
                           c->name, k, model, arr ? "that \"cost\"" : "no \"cost\"");
    fold_int n = cJSON_GetArraySize(arr), q = 0;
    if (model == 1 && (n < 4 || n % 2))
        return acopf_error(FOLD_ERR_PARSE, "%s: gen \"%s\": %ld cost entries for model %g", c->name,
                           k, (long)n, model);
    gen->pwl = model == 1;
    gen->n_cost = (int)(gen->pwl ? n / 2 : n);
    gen->cost_off = *len;
    for (const cJSON *e = arr->child; e; e = e->next, q++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return acopf_error(FOLD_ERR_PARSE,
                               "%s: gen \"%s\": cost[%ld] is not a finite "
                               "number",
                               c->name, k, (long)q);
        double v = e->valuedouble;
        if (gen->pwl) { /* x (MW, or p.u. of S) y ($/h) pairs */
            cost[*len + q] = q % 2 == 0 && c->per_unit ? v * c->S : v;
        } else { /* descending powers: store ascending, per MW */
            fold_int power = n - 1 - q;
            cost[*len + power] = c->per_unit ? v / pow(c->S, (double)power) : v;
        }
    }
    *len += n;
    return FOLD_OK;
}

static fold_status read_gens(const pm_ctx *c, const cJSON *root, fold_acopf_case *cs,
                             const double *ids, fold_int n_ids)
{
    const cJSON **g;
    fold_int n, len = 0;
    fold_status st = components(c, root, "gen", true, &g, &n);
    double s = c->per_unit ? c->S : 1;
    size_t n_cost = 0;
    for (fold_int q = 0; q < n; q++)
        n_cost += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g[q], "cost"));
    cs->gen = calloc((size_t)n + 1, sizeof *cs->gen);
    cs->cost = calloc(n_cost + 1, sizeof *cs->cost);
    if (st == FOLD_OK && (!cs->gen || !cs->cost))
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", c->name);
    for (fold_int q = 0; q < n && st == FOLD_OK; q++) {
        char k[32];
        fold_int bus;
        bool keep;
        double v[6];
        const char *f[6] = {"pg", "qg", "pmin", "pmax", "qmin", "qmax"};
        key_of(g[q], k, sizeof k);
        if ((st = in_service(c, g[q], "gen", "gen_status", "gen_bus", cs, ids, n_ids, &bus, &keep)))
            break;
        for (int j = 0; j < 6 && st == FOLD_OK; j++) {
            /* export_json writes an infinite limit as null */
            const cJSON *lim = cJSON_GetObjectItemCaseSensitive(g[q], f[j]);
            if (j >= 2 && cJSON_IsNull(lim))
                v[j] = j % 2 ? HUGE_VAL : -HUGE_VAL;
            else
                st = num(c, g[q], "gen", k, f[j], j < 2 ? 0 : NAN, &v[j]);
        }
        if (st != FOLD_OK) break;
        if (!keep) {
            cs->n_dropped_gen++;
            continue;
        }
        fold_acopf_gen *gen = &cs->gen[cs->n_gen];
        gen->bus = bus;
        gen->row = (long)cJSON_GetObjectItemCaseSensitive(g[q], "index")->valuedouble;
        gen->pg0 = v[0] * s;
        gen->qg0 = v[1] * s;
        gen->pmin = v[2] * s;
        gen->pmax = v[3] * s;
        gen->qmin = v[4] * s;
        gen->qmax = v[5] * s;
        if (gen->pmin > gen->pmax || gen->qmin > gen->qmax) {
            st = acopf_error(FOLD_ERR_PARSE,
                             "%s: gen \"%s\": pmin %g > pmax %g or qmin %g > "
                             "qmax %g",
                             c->name, k, gen->pmin, gen->pmax, gen->qmin, gen->qmax);
            break;
        }
        if ((st = read_cost(c, g[q], k, gen, cs->cost, &len))) break;
        cs->n_gen++;
    }
    free(g);
    return st;
}

static fold_status read_branches(const pm_ctx *c, const cJSON *root, fold_acopf_case *cs,
                                 const double *ids, fold_int n_ids)
{
    const cJSON **b;
    fold_int n;
    fold_status st = components(c, root, "branch", true, &b, &n);
    cs->branch = calloc((size_t)n + 1, sizeof *cs->branch);
    if (st == FOLD_OK && !cs->branch)
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", c->name);
    double ang = c->per_unit ? 1 / DEG : 1, s = c->per_unit ? c->S : 1;
    for (fold_int q = 0; q < n && st == FOLD_OK; q++) {
        char k[32];
        fold_int f, t;
        bool keep_f, keep_t;
        double v[11];
        const char *fld[11] = {"br_r",   "br_x", "g_fr",  "g_to",   "b_fr",  "b_to",
                               "rate_a", "tap",  "shift", "angmin", "angmax"};
        const double def[11] = {NAN, NAN, 0, 0, 0, 0, 0, 1, 0, -360 * DEG, 360 * DEG};
        key_of(b[q], k, sizeof k);
        if ((st = in_service(c, b[q], "branch", "br_status", "f_bus", cs, ids, n_ids, &f,
                             &keep_f)) ||
            (st = in_service(c, b[q], "branch", "br_status", "t_bus", cs, ids, n_ids, &t, &keep_t)))
            break;
        for (int j = 0; j < 11 && st == FOLD_OK; j++) {
            if (j == 6 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b[q], fld[j])))
                v[j] = 0; /* an infinite rating written as null: no limit */
            else
                st = num(c, b[q], "branch", k, fld[j],
                         def[j] * (j >= 9 && !c->per_unit ? 1 / DEG : 1), &v[j]);
        }
        if (st != FOLD_OK) break;
        if (v[2] != 0 || v[3] != 0 || v[4] != v[5])
            st = acopf_error(FOLD_ERR_UNSUPPORTED,
                             "%s: branch \"%s\": g_fr %g, g_to %g, b_fr %g, "
                             "b_to %g: foldopt's branch model (MATPOWER's) has no line "
                             "conductance and equal charging at both ends",
                             c->name, k, v[2], v[3], v[4], v[5]);
        if (st == FOLD_OK && ((v[0] == 0 && v[1] == 0) || v[6] < 0 || v[9] > v[10]))
            st = acopf_error(FOLD_ERR_PARSE,
                             "%s: branch \"%s\": br_r %g, br_x %g, rate_a %g, "
                             "angmin %g, angmax %g: need r or x nonzero, rate_a >= 0, angmin <= "
                             "angmax",
                             c->name, k, v[0], v[1], v[6], v[9], v[10]);
        if (st == FOLD_OK && f == t && keep_f)
            st = acopf_error(FOLD_ERR_PARSE, "%s: branch \"%s\" connects bus %ld to itself",
                             c->name, k, cs->bus[f].id);
        if (st == FOLD_OK && !cJSON_GetObjectItemCaseSensitive(b[q], "rate_a") &&
            cJSON_GetObjectItemCaseSensitive(b[q], "c_rating_a"))
            st = acopf_error(FOLD_ERR_UNSUPPORTED,
                             "%s: branch \"%s\": a current rating "
                             "(c_rating_a) and no rate_a: foldopt limits |S| (rate_a)",
                             c->name, k);
        if (st != FOLD_OK) break;
        if (!keep_f || !keep_t) {
            cs->n_dropped_branch++;
            continue;
        }
        fold_acopf_branch *br = &cs->branch[cs->n_branch++];
        br->f = f;
        br->t = t;
        br->row = (long)cJSON_GetObjectItemCaseSensitive(b[q], "index")->valuedouble;
        br->r = v[0];
        br->x = v[1];
        br->b = v[4] + v[5];
        br->rate_a = v[6] * s;
        br->tap = v[7] == 0 ? 1 : v[7];
        br->shift_deg = v[8] * ang;
        br->angmin_deg = v[9] * ang;
        br->angmax_deg = v[10] * ang;
    }
    free(b);
    return st;
}

/* Components foldopt has no model for must be absent or empty. */
static fold_status check_unsupported(const pm_ctx *c, const cJSON *root)
{
    const char *tables[] = {"dcline", "storage", "switch", "ne_branch"};
    for (size_t k = 0; k < sizeof tables / sizeof tables[0]; k++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, tables[k]);
        if (t && cJSON_GetArraySize(t) > 0)
            return acopf_error(FOLD_ERR_UNSUPPORTED,
                               "%s: %d %s components: not in foldopt's "
                               "AC-OPF model",
                               c->name, cJSON_GetArraySize(t), tables[k]);
    }
    const cJSON *nw = cJSON_GetObjectItemCaseSensitive(root, "multinetwork");
    if (cJSON_IsTrue(nw))
        return acopf_error(FOLD_ERR_UNSUPPORTED, "%s: a multi-network: foldopt reads one network",
                           c->name);
    return FOLD_OK;
}

fold_status acopf_pm_parse(const char *text, size_t len, const char *name, fold_acopf_case **out)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return acopf_error(FOLD_ERR_PARSE,
                           "%s: not a JSON object (foldopt reads a PowerModels "
                           "network as JSON)",
                           name);
    }
    pm_ctx c = {name, 0, false};
    fold_acopf_case *cs = calloc(1, sizeof *cs);
    double *ids = NULL;
    fold_int n_ids = 0;
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "baseMVA");
    const cJSON *pu = cJSON_GetObjectItemCaseSensitive(root, "per_unit");
    fold_status st = FOLD_OK;
    if (!cs)
        st = acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", name);
    else if (!cJSON_IsNumber(base) || !(base->valuedouble > 0) || !isfinite(base->valuedouble))
        st = acopf_error(FOLD_ERR_PARSE,
                         "%s: \"baseMVA\" is missing or not positive (is this a "
                         "PowerModels network?)",
                         name);
    if (st == FOLD_OK) {
        c.S = base->valuedouble;
        c.per_unit = cJSON_IsTrue(pu);
        const char *dot = strrchr(name, '.');
        size_t nl = dot && (!strcmp(dot, ".json") || !strcmp(dot, ".m")) ? (size_t)(dot - name)
                                                                         : strlen(name);
        snprintf(cs->name, sizeof cs->name, "%.*s", (int)nl, name);
        cs->base_mva = c.S;
        st = check_unsupported(&c, root);
    }
    if (st == FOLD_OK) st = read_buses(&c, root, cs, &ids, &n_ids);
    if (st == FOLD_OK) st = read_injections(&c, root, cs, ids, n_ids, false);
    if (st == FOLD_OK) st = read_injections(&c, root, cs, ids, n_ids, true);
    if (st == FOLD_OK) st = read_gens(&c, root, cs, ids, n_ids);
    if (st == FOLD_OK) st = read_branches(&c, root, cs, ids, n_ids);
    if (st == FOLD_OK) /* the physical limits a MATPOWER file is held to (§1.1) */
        st = acopf_case_check(cs, name, false, FOLD_ERR_PARSE);
    free(ids);
    cJSON_Delete(root);
    if (st != FOLD_OK) {
        fold_acopf_case_free(cs);
        return st;
    }
    *out = cs;
    return FOLD_OK;
}
