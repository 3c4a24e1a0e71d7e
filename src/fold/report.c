/* The trust report of the last fold call (fold_trust_report, doc/api/fold.md "Trust"): the
 * items that limit the trust of a result, each named as the user knows it, and
 * fold_weak_list over it. */
#include "fold/fold_internal.h"

struct fold_report {
    fold_trust_item *items;
    fold_int n, cap;
    char **names;       /* owned names, one per item */
    fold_int **lists;   /* affected lists, one per item (NULL for a sharer) */
    fold_int *list_cap; /* capacity of each affected list */
    fold_int *owner;    /* the item whose list this item's is (itself unless shared) */
};

static const char *const kind_names[] = {"ambiguous",     "weakly_active", "dependent",
                                         "inconsistent",  "not_unique",    "uncertain",
                                         "barrier_error", "kink"};

const char *fold_trust_kind_name(fold_trust_kind kind)
{
    int k = (int)kind;
    return k >= 0 && k < (int)(sizeof kind_names / sizeof kind_names[0]) ? kind_names[k]
                                                                         : "unknown";
}

void fold_report_clear(fold_kkt *kkt)
{
    fold_report *r = kkt->report;
    if (!r) return;
    for (fold_int k = 0; k < r->n; k++) {
        free(r->names[k]);
        free(r->lists[k]);
    }
    r->n = 0;
}

void fold_report_free(fold_kkt *kkt)
{
    fold_report_clear(kkt);
    if (!kkt->report) return;
    free(kkt->report->items);
    free(kkt->report->names);
    free(kkt->report->lists);
    free(kkt->report->list_cap);
    free(kkt->report->owner);
    free(kkt->report);
    kkt->report = NULL;
}

/* Append an item with its name; returns its index or -1 out of memory. */
static fold_int add(fold_kkt *kkt, const fold_trust_item *it, const char *name)
{
    fold_report *r = kkt->report;
    if (!r && !(r = kkt->report = fold_calloc(1, sizeof *r, "trust report"))) return -1;
    if (r->n == r->cap) {
        fold_int cap = r->cap ? 2 * r->cap : 16;
        fold_trust_item *items = realloc(r->items, (size_t)cap * sizeof *items);
        char **names = items ? realloc(r->names, (size_t)cap * sizeof *names) : NULL;
        if (items) r->items = items;
        if (names) r->names = names;
        fold_int **lists = names ? realloc(r->lists, (size_t)cap * sizeof *lists) : NULL;
        if (lists) r->lists = lists;
        fold_int *lcap = lists ? realloc(r->list_cap, (size_t)cap * sizeof *lcap) : NULL;
        if (lcap) r->list_cap = lcap;
        fold_int *own = lcap ? realloc(r->owner, (size_t)cap * sizeof *own) : NULL;
        if (!own) {
            fold_error(FOLD_ERR_MEMORY, "out of memory: trust report (%lld items)", (long long)cap);
            return -1;
        }
        r->owner = own;
        r->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) {
        fold_error(FOLD_ERR_MEMORY, "out of memory: trust report");
        return -1;
    }
    r->items[r->n] = *it;
    r->names[r->n] = copy;
    r->lists[r->n] = NULL;
    r->list_cap[r->n] = 0;
    r->owner[r->n] = r->n;
    return r->n++;
}

static fold_trust_item blank(int kind)
{
    return (fold_trust_item){.size = sizeof(fold_trust_item),
                             .kind = kind,
                             .item = -1,
                             .index = -1,
                             .block = -1,
                             .slack = NAN,
                             .multiplier = NAN,
                             .entry = -1,
                             .row = -1,
                             .col = -1,
                             .lo = NAN,
                             .hi = NAN,
                             .value = NAN};
}

fold_int fold_report_side(fold_kkt *kkt, int kind, bool con, fold_int index, int side, double slack,
                          double multiplier)
{
    char name[FOLD_NAME_MAX];
    fold_trust_item it = blank(kind);
    int item = con ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE;
    fold_prob_side_name(kkt->prob, item, index, side, name, sizeof name);
    it.item = item;
    it.index = index;
    it.side = side;
    it.slack = slack;
    it.multiplier = multiplier;
    return add(kkt, &it, name);
}

/* "vm bus 7 / pd bus 3": the output of an entry and its parameter, as far as known. */
static void entry_name(const fold_kkt *kkt, int block, fold_int row, fold_int col, char *buf,
                       size_t len)
{
    static const char *const prefix[] = {"", "multiplier of ", "lower-bound multiplier of ",
                                         "upper-bound multiplier of "};
    char out[FOLD_NAME_MAX] = "", par[FOLD_NAME_MAX] = "";
    if (row >= 0)
        fold_prob_name(kkt->prob,
                       block == FOLD_BLOCK_LAM ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE, row,
                       out, sizeof out);
    if (col >= 0) fold_prob_name(kkt->prob, FOLD_ITEM_PARAMETER, col, par, sizeof par);
    if (row >= 0 && col >= 0)
        snprintf(buf, len, "d %s%s / d %s", prefix[block], out, par);
    else if (row >= 0)
        snprintf(buf, len, "d %s%s", prefix[block], out);
    else /* a gradient with respect to the parameters: the parameter */
        snprintf(buf, len, "%s", par);
}

fold_int fold_report_entry(fold_kkt *kkt, int kind, int block, fold_int entry, fold_int row,
                           fold_int col, double value, double lo, double hi)
{
    char name[3 * FOLD_NAME_MAX];
    fold_trust_item it = blank(kind);
    entry_name(kkt, block, row, col, name, sizeof name);
    it.block = block;
    it.entry = entry;
    it.row = row;
    it.col = col;
    it.value = value;
    it.lo = lo;
    it.hi = hi;
    return add(kkt, &it, name);
}

void fold_report_share(fold_kkt *kkt, fold_int item, fold_int owner)
{
    kkt->report->owner[item] = owner;
}

fold_status fold_report_affect(fold_kkt *kkt, fold_int item, fold_int entry)
{
    fold_report *r = kkt->report;
    item = r->owner[item];
    fold_int n = r->items[item].n_affected;
    if (n > 0 && r->lists[item][n - 1] == entry) return FOLD_OK;
    if (n == r->list_cap[item]) {
        fold_int cap = n ? 2 * n : 8;
        fold_int *l = realloc(r->lists[item], (size_t)cap * sizeof *l);
        if (!l) return fold_error(FOLD_ERR_MEMORY, "out of memory: trust report");
        r->lists[item] = l;
        r->list_cap[item] = cap;
    }
    r->lists[item][n] = entry;
    r->items[item].n_affected = n + 1;
    return FOLD_OK;
}

static int cmp_int(const void *a, const void *b)
{
    fold_int x = *(const fold_int *)a, y = *(const fold_int *)b;
    return (x > y) - (x < y);
}

void fold_report_unique(fold_kkt *kkt)
{
    fold_report *r = kkt->report;
    for (fold_int k = 0; r && k < r->n; k++) {
        fold_int n = r->items[k].n_affected, u = 0;
        if (n < 2 || r->owner[k] != k) continue;
        qsort(r->lists[k], (size_t)n, sizeof *r->lists[k], cmp_int);
        for (fold_int q = 0; q < n; q++)
            if (u == 0 || r->lists[k][q] != r->lists[k][u - 1]) r->lists[k][u++] = r->lists[k][q];
        r->items[k].n_affected = u;
    }
}

fold_int fold_report_movers(const fold_kkt *kkt, char *buf, size_t len)
{
    const fold_report *r = kkt ? kkt->report : NULL;
    fold_int count = 0;
    buf[0] = '\0';
    for (fold_int k = 0; r && k < r->n; k++) {
        const fold_trust_item *it = &r->items[k];
        bool side = it->kind == FOLD_TRUST_AMBIGUOUS || it->kind == FOLD_TRUST_WEAK ||
                    it->kind == FOLD_TRUST_DEPENDENT;
        if (!side || r->items[r->owner[k]].n_affected == 0) continue;
        size_t at = strlen(buf);
        if (count < 4 && at < len)
            snprintf(buf + at, len - at, "%s%s", count ? ", " : "", r->names[k]);
        count++;
    }
    size_t at = strlen(buf);
    if (count > 4 && at < len)
        snprintf(buf + at, len - at, " and %lld more", (long long)(count - 4));
    return count;
}

fold_int fold_report_count(const fold_kkt *kkt, fold_trust_kind kind)
{
    fold_int count = 0;
    for (fold_int k = 0; kkt->report && k < kkt->report->n; k++)
        count += kkt->report->items[k].kind == kind;
    return count;
}

fold_status fold_trust_report(const fold_solver *solver, const fold_trust_item **items,
                              fold_int *count)
{
    static const char *FN = "fold_trust_report";
    if (!solver || !items || !count)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", FN,
                          !solver  ? "solver"
                          : !items ? "items"
                                   : "count");
    const fold_kkt *kkt = solver->backward;
    fold_report *r = kkt ? kkt->report : NULL;
    *items = NULL;
    *count = 0;
    if (!r || r->n == 0) return FOLD_OK;
    for (fold_int k = 0; k < r->n; k++) { /* pointers are final once the call is done */
        fold_int o = r->owner[k];
        r->items[k].name = r->names[k];
        r->items[k].affected = r->lists[o];
        r->items[k].n_affected = r->items[o].n_affected;
    }
    *items = r->items;
    *count = r->n;
    return FOLD_OK;
}

fold_status fold_weak_list(const fold_solver *solver, fold_weak_entry *out, fold_int cap,
                           size_t entry_size, fold_int *count)
{
    static const char *FN = "fold_weak_list";
    const fold_kkt *kkt;
    fold_int k;
    if (!solver) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver is NULL", FN);
    if (!count) return fold_error(FOLD_ERR_ARGUMENT, "%s: count is NULL", FN);
    if (cap < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: cap = %lld is negative", FN, (long long)cap);
    if (cap > 0 && !out)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: out is NULL but cap = %lld", FN, (long long)cap);
    if (cap > 0 && entry_size < FOLD_WEAK_ENTRY_V1)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: entry_size = %zu is smaller than fold_weak_entry's first version "
                          "(%zu bytes): pass sizeof(fold_weak_entry)",
                          FN, entry_size, (size_t)FOLD_WEAK_ENTRY_V1);
    kkt = solver->backward;
    if (!kkt) {
        *count = 0;
        return FOLD_OK;
    }
    for (k = 0; k < kkt->cls.n_weak && k < cap; k++)
        fold_sized_copy((char *)out + (size_t)k * entry_size, entry_size, &kkt->cls.weak[k],
                        sizeof kkt->cls.weak[k]);
    *count = kkt->cls.n_weak;
    return FOLD_OK;
}
