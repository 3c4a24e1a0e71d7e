/* The trust report of the last fold call (fold_trust_report, doc/api/fold.md "Trust"): the
 * items that limit the trust of a result, each named as the user knows it, and
 * fold_weak_list over it. */
#include "fold/fold_internal.h"

/* Strings end to end in one growing buffer, referred to by offset (the buffer moves). */
typedef struct pool {
    char *buf;
    size_t len, cap;
} pool;

/* Append s (with its terminating zero): its offset, or (size_t)-1 out of memory. (The AC-OPF
 * layer and the command line have the same in problems/common/name_pool.h, which the
 * library does not include: it depends on no problem family.) */
static size_t pool_add(pool *p, const char *s)
{
    size_t n = strlen(s) + 1;
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4096;
        while (cap < p->len + n)
            cap *= 2;
        char *buf = realloc(p->buf, cap);
        if (!buf) return (size_t)-1;
        p->buf = buf;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    return p->len - n;
}

struct fold_report {
    fold_trust_item *items;
    fold_int n, cap;
    size_t *name_at; /* each item's name: its offset in names */
    pool names;      /* the names end to end (a Jacobian's report can name millions of
                        entries: one buffer instead of an allocation each) */
    /* The problem's names of variables, constraints and parameters (fold_prob_name) as the
     * entries' names use them, each asked once and kept across calls: a Jacobian's entries
     * pair every row with every column. Offsets in item_names, plus one (0: not yet). */
    size_t *item_at[3];
    pool item_names;
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
    for (fold_int k = 0; k < r->n; k++)
        free(r->lists[k]);
    r->n = 0;
    r->names.len = 0;
}

void fold_report_free(fold_kkt *kkt)
{
    fold_report_clear(kkt);
    if (!kkt->report) return;
    free(kkt->report->items);
    free(kkt->report->names.buf);
    free(kkt->report->name_at);
    for (int k = 0; k < 3; k++)
        free(kkt->report->item_at[k]);
    free(kkt->report->item_names.buf);
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
        size_t *at = items ? realloc(r->name_at, (size_t)cap * sizeof *at) : NULL;
        if (items) r->items = items;
        if (at) r->name_at = at;
        fold_int **lists = at ? realloc(r->lists, (size_t)cap * sizeof *lists) : NULL;
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
    size_t at = pool_add(&r->names, name);
    if (at == (size_t)-1) {
        fold_error(FOLD_ERR_MEMORY, "out of memory: trust report (names)");
        return -1;
    }
    r->items[r->n] = *it;
    r->name_at[r->n] = at;
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

/* The offset of item `index` of `kind` (FOLD_ITEM_*) in r->item_names, named on first use;
 * (size_t)-1 out of memory. */
static size_t item_name_at(fold_kkt *kkt, fold_report *r, int kind, fold_int index)
{
    fold_int count = kind == FOLD_ITEM_VARIABLE     ? kkt->prob->n
                     : kind == FOLD_ITEM_CONSTRAINT ? kkt->prob->m
                                                    : kkt->prob->np;
    if (!r->item_at[kind] && !(r->item_at[kind] = calloc((size_t)count + 1, sizeof(size_t))))
        return (size_t)-1;
    if (r->item_at[kind][index] == 0) {
        char name[FOLD_NAME_MAX];
        fold_prob_name(kkt->prob, kind, index, name, sizeof name);
        size_t at = pool_add(&r->item_names, name);
        if (at == (size_t)-1) return at;
        r->item_at[kind][index] = at + 1;
    }
    return r->item_at[kind][index] - 1;
}

/* Append the string s to buf (length *at of capacity len), truncating. */
static void append(char *buf, size_t len, size_t *at, const char *s)
{
    size_t n = strlen(s);
    if (*at + n >= len) n = len - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = '\0';
}

/* "d vm bus 7 / d pd bus 3": the output of an entry and its parameter, as far as known
 * (pieces appended rather than printed: a Jacobian's report names millions of entries).
 * False out of memory. */
static bool entry_name(fold_kkt *kkt, fold_report *r, int block, fold_int row, fold_int col,
                       char *buf, size_t len)
{
    static const char *const prefix[] = {"", "multiplier of ", "lower-bound multiplier of ",
                                         "upper-bound multiplier of "};
    size_t out = 0, par = 0, at = 0;
    if (row >= 0 &&
        (out = item_name_at(kkt, r,
                            block == FOLD_BLOCK_LAM ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE,
                            row)) == (size_t)-1)
        return false;
    if (col >= 0 && (par = item_name_at(kkt, r, FOLD_ITEM_PARAMETER, col)) == (size_t)-1)
        return false;
    buf[0] = '\0';
    if (row >= 0) { /* d prefix out [/ d par] */
        append(buf, len, &at, "d ");
        append(buf, len, &at, prefix[block]);
        append(buf, len, &at, r->item_names.buf + out);
        if (col >= 0) append(buf, len, &at, " / d ");
    }
    if (col >= 0) /* alone: a gradient with respect to the parameters */
        append(buf, len, &at, r->item_names.buf + par);
    return true;
}

fold_int fold_report_entry(fold_kkt *kkt, int kind, int block, fold_int entry, fold_int row,
                           fold_int col, double value, double lo, double hi)
{
    char name[3 * FOLD_NAME_MAX];
    fold_trust_item it = blank(kind);
    fold_report *r = kkt->report;
    if (!r && !(r = kkt->report = fold_calloc(1, sizeof *r, "trust report"))) return -1;
    if (!entry_name(kkt, r, block, row, col, name, sizeof name)) {
        fold_error(FOLD_ERR_MEMORY, "out of memory: trust report (names)");
        return -1;
    }
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
        bool sorted = true; /* as the entries are met, mostly */
        for (fold_int q = 1; q < n && sorted; q++)
            sorted = r->lists[k][q - 1] <= r->lists[k][q];
        if (!sorted) qsort(r->lists[k], (size_t)n, sizeof *r->lists[k], cmp_int);
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
            snprintf(buf + at, len - at, "%s%s", count ? ", " : "", r->names.buf + r->name_at[k]);
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
        r->items[k].name = r->names.buf + r->name_at[k];
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
