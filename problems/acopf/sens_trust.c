/* The trust report of an AC-OPF sensitivity call (fold_acopf_trust_report, doc/acopf.md §7):
 * the library's report of every fold_vjp, fold_jvp or fold_jacobian call the acopf call made
 * (fold_trust_report), renumbered to the entries of its result. An output that combines
 * several entries of the solution (a flow, a loss) is flagged when one of them is, and its
 * interval is the sum of its terms' intervals, which holds its values under either
 * classification (each term lies in its own interval). */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_sens.h"
#include "common/name_pool.h"

/* The report of the last call on this thread (like the error detail of matpower.c). */
typedef struct report {
    fold_trust_item *items;
    size_t *name_at; /* each item's name: its offset in names */
    name_pool names;
    fold_int **lists, *list_cap;
    fold_int *owner; /* the item whose list an item's is (itself unless shared) */
    fold_int n, cap;
} report;
static _Thread_local report T;

/* A flagged entry of the solution's derivative: (block, z) in the column col of the acopf
 * call's result (0 for a jvp); for a side's reach into it (kind -1), value holds the side's
 * item in the report. */
typedef struct zflag {
    int block;
    fold_int z, col;
    int kind;
    double value, lo, hi;
} zflag;

/* Column first: the flags come column by column from a Jacobian's calls (sorted already,
 * mostly), and the look-ups of acopf_trust_finish go column by column (one column's flags
 * together in memory, not a binary search over the whole report per entry). */
static int cmp_zflag(const void *a, const void *b)
{
    const zflag *x = a, *y = b;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    if (x->block != y->block) return x->block < y->block ? -1 : 1;
    if (x->z != y->z) return x->z < y->z ? -1 : 1;
    return (x->kind > y->kind) - (x->kind < y->kind);
}

static bool zflags_sorted(const zflag *f, fold_int n)
{
    for (fold_int k = 1; k < n; k++)
        if (cmp_zflag(&f[k - 1], &f[k]) > 0) return false;
    return true;
}

struct acopf_trust {
    zflag *f, *reach; /* flagged entries; entries moved by the sides */
    fold_int n, cap, n_reach, cap_reach;
};

static void clear(void)
{
    for (fold_int k = 0; k < T.n; k++)
        free(T.lists[k]);
    T.n = 0;
    T.names.len = 0;
}

fold_status fold_acopf_trust_report(const fold_trust_item **items, fold_int *count)
{
    if (!items || !count)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_trust_report: %s is NULL",
                           !items ? "items" : "count");
    for (fold_int k = 0; k < T.n; k++) { /* pointers are final once the call is done */
        T.items[k].name = T.names.buf + T.name_at[k];
        T.items[k].affected = T.lists[T.owner[k]];
        T.items[k].n_affected = T.items[T.owner[k]].n_affected;
    }
    *items = T.n ? T.items : NULL;
    *count = T.n;
    return FOLD_OK;
}

static bool is_side(int kind)
{
    return kind == FOLD_TRUST_AMBIGUOUS || kind == FOLD_TRUST_WEAK || kind == FOLD_TRUST_DEPENDENT;
}

/* Append an item (its name copied); its index, or -1 out of memory. */
static fold_int add(const fold_trust_item *it, const char *name)
{
    if (T.n == T.cap) {
        fold_int cap = T.cap ? 2 * T.cap : 16;
        fold_trust_item *items = realloc(T.items, (size_t)cap * sizeof *items);
        if (items) T.items = items;
        size_t *at = items ? realloc(T.name_at, (size_t)cap * sizeof *at) : NULL;
        if (at) T.name_at = at;
        fold_int **lists = at ? realloc(T.lists, (size_t)cap * sizeof *lists) : NULL;
        if (lists) T.lists = lists;
        fold_int *lcap = lists ? realloc(T.list_cap, (size_t)cap * sizeof *lcap) : NULL;
        if (lcap) T.list_cap = lcap;
        fold_int *own = lcap ? realloc(T.owner, (size_t)cap * sizeof *own) : NULL;
        if (!own) return -1;
        T.owner = own;
        T.cap = cap;
    }
    if ((T.name_at[T.n] = name_pool_add(&T.names, name)) == (size_t)-1) return -1;
    T.items[T.n] = *it;
    T.items[T.n].size = sizeof(fold_trust_item); /* the stride of the report */
    T.items[T.n].n_affected = 0;
    T.items[T.n].affected = NULL;
    T.lists[T.n] = NULL;
    T.list_cap[T.n] = 0;
    T.owner[T.n] = T.n;
    return T.n++;
}

static bool affect(fold_int item, fold_int entry)
{
    fold_int n = T.items[item].n_affected;
    if (n == T.list_cap[item]) {
        fold_int cap = n ? 2 * n : 8, *l = realloc(T.lists[item], (size_t)cap * sizeof *l);
        if (!l) return false;
        T.lists[item] = l;
        T.list_cap[item] = cap;
    }
    T.lists[item][n] = entry;
    T.items[item].n_affected = n + 1;
    return true;
}

/* The side of item it already in the report (a later block's call names it again), or a
 * new copy. */
static fold_int side_item(const fold_trust_item *it)
{
    for (fold_int k = 0; k < T.n; k++)
        if (T.items[k].kind == it->kind && T.items[k].item == it->item &&
            T.items[k].index == it->index && T.items[k].side == it->side)
            return k;
    return add(it, it->name);
}

static fold_status oom(const char *fn)
{
    return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory (trust report)", fn);
}

acopf_trust *acopf_trust_begin(void)
{
    clear();
    return calloc(1, sizeof(acopf_trust));
}

void acopf_trust_free(acopf_trust *t)
{
    if (!t) return;
    free(t->f);
    free(t->reach);
    free(t);
}

static bool push_to(zflag **v, fold_int *n, fold_int *cap, zflag f)
{
    if (*n == *cap) {
        fold_int c = *cap ? 2 * *cap : 64;
        zflag *p = realloc(*v, (size_t)c * sizeof *p);
        if (!p) return false;
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = f;
    return true;
}

static bool push(acopf_trust *t, zflag f)
{
    return f.kind >= 0 && !is_side(f.kind) ? push_to(&t->f, &t->n, &t->cap, f)
                                           : push_to(&t->reach, &t->n_reach, &t->cap_reach, f);
}

fold_status acopf_trust_vjp(const fold_solver *sv, const double *pshift, const char *fn)
{
    const fold_trust_item *items;
    fold_int count;
    if (fold_trust_report(sv, &items, &count) != FOLD_OK) return FOLD_OK;
    fold_int base = T.n;
    for (fold_int k = 0; k < count; k++) { /* entries are parameters: the result's own */
        fold_trust_item it = *fold_trust_item_at(items, k);
        if (!is_side(it.kind) && it.col >= 0) {
            it.value += pshift[it.col];
            it.lo += pshift[it.col];
            it.hi += pshift[it.col];
        }
        fold_int q = add(&it, it.name), j = it.n_affected > 0 ? base : q;
        if (q < 0) return oom(fn);
        while (j < q && T.items[j].affected != it.affected)
            j++;
        T.items[q].affected = it.affected; /* the library's list, to find its sharers */
        if (j < q) {                       /* the library shares this list: share it too */
            T.owner[q] = T.owner[j];
            continue;
        }
        for (fold_int a = 0; a < it.n_affected; a++)
            if (!affect(q, it.affected[a])) return oom(fn);
    }
    return FOLD_OK;
}

/* Give every item of the report whose owner is o its own list: a copy of o's reach. */
static bool dissolve(acopf_trust *t, fold_int o)
{
    for (fold_int j = 0; j < T.n; j++) {
        if (j == o || T.owner[j] != o) continue;
        T.owner[j] = j;
        for (fold_int r = 0, n = t->n_reach; r < n; r++)
            if ((fold_int)t->reach[r].value == o) {
                zflag f = t->reach[r];
                f.value = (double)j;
                if (!push_to(&t->reach, &t->n_reach, &t->cap_reach, f)) return false;
            }
    }
    return true;
}

/* The entries of the solution that the sides sharing the library's list L move (the sides
 * of the report: items[sk[j]] the side in place sq[j] of this report, sq -1 once done; the
 * group's first j0): reached once through one list when the group's sides share one in the
 * report already or are new to it (the path check's suspect sides move the same entries:
 * one list instead of one per side), else through a list per side. base: the first item
 * this call added. */
static bool reach_group(acopf_trust *t, const acopf_zlayout *zl, const fold_trust_item *items,
                        const fold_int *sk, fold_int *sq, fold_int ns, fold_int j0, fold_int base)
{
    const fold_int *L = fold_trust_item_at(items, sk[j0])->affected;
    fold_int nL = fold_trust_item_at(items, sk[j0])->n_affected, owner = -1, n_old = 0;
    bool one = true;
    for (fold_int j = j0; j < ns; j++) { /* the members from earlier calls: one owner? */
        if (sq[j] < 0 || sq[j] >= base || fold_trust_item_at(items, sk[j])->affected != L) continue;
        n_old++;
        if (owner < 0) owner = T.owner[sq[j]];
        one &= T.owner[sq[j]] == owner;
    }
    if (one && owner >= 0) { /* that no item outside the group shares */
        fold_int sharing = 0;
        for (fold_int j = 0; j < T.n; j++)
            sharing += T.owner[j] == owner;
        one = sharing == n_old;
    }
    if (owner < 0) owner = sq[j0];
    for (fold_int j = j0; j < ns; j++) {
        if (sq[j] < 0 || fold_trust_item_at(items, sk[j])->affected != L) continue;
        fold_int q = sq[j];
        sq[j] = -1;
        if (one) {
            T.owner[q] = owner;
            if (q != owner) continue;
        } else if (!dissolve(t, T.owner[q])) {
            return false;
        }
        for (fold_int a = 0; a < nL; a++) {
            zflag f = {.kind = -1, .value = (double)q}; /* value: the side's item */
            acopf_zlayout_locate(zl, L[a], &f.block, &f.z, &f.col);
            if (!push(t, f)) return false;
        }
    }
    return true;
}

fold_status acopf_trust_zcall(acopf_trust *t, const fold_solver *sv, const acopf_zlayout *zl,
                              const char *fn)
{
    const fold_trust_item *items;
    fold_int count, base = T.n, ns = 0;
    if (fold_trust_report(sv, &items, &count) != FOLD_OK) return FOLD_OK;
    fold_int *sk = malloc(2 * ((size_t)count + 1) * sizeof *sk), *sq = sk + count + 1;
    if (!sk) return oom(fn);
    for (fold_int k = 0; k < count; k++) {
        const fold_trust_item *it = fold_trust_item_at(items, k);
        zflag f = {0};
        if (is_side(it->kind)) {
            sk[ns] = k;
            if ((sq[ns++] = side_item(it)) < 0) goto oom;
            continue;
        }
        if (it->entry < 0) { /* a whole line of a Jacobian: a column (parameter) or a row */
            if (it->row < 0) {
                fold_trust_item c = *it;
                if (add(&c, it->name) < 0) goto oom;
                continue;
            }
            for (fold_int c = 0; c < zl->n_cols; c++)
                if (!push(t, (zflag){it->block, it->row, zl->col0 + c, it->kind, NAN, NAN, NAN}))
                    goto oom;
            continue;
        }
        acopf_zlayout_locate(zl, it->entry, &f.block, &f.z, &f.col);
        f.kind = it->kind;
        f.value = it->value;
        f.lo = fmin(it->lo, it->hi);
        f.hi = fmax(it->lo, it->hi);
        if (!push(t, f)) goto oom;
    }
    for (fold_int j = 0; j < ns; j++)
        if (sq[j] >= 0 && fold_trust_item_at(items, sk[j])->n_affected > 0 &&
            !reach_group(t, zl, items, sk, sq, ns, j, base))
            goto oom;
    free(sk);
    return FOLD_OK;
oom:
    free(sk);
    return oom(fn);
}

void acopf_zlayout_locate(const acopf_zlayout *zl, fold_int k, int *block, fold_int *z,
                          fold_int *col)
{
    if (zl->rows) { /* a Jacobian of one block: row + n_rows col */
        *block = zl->block;
        *z = zl->rows[k % zl->n_rows];
        *col = zl->col0 + k / zl->n_rows;
        return;
    }
    /* a jvp: dx, dzl, dzu (n each), dlam packed */
    static const int order[4] = {FOLD_BLOCK_X, FOLD_BLOCK_ZL, FOLD_BLOCK_ZU, FOLD_BLOCK_LAM};
    int g = (int)(k / zl->n < 3 ? k / zl->n : 3);
    *block = order[g];
    *z = k - (fold_int)g * zl->n;
    *col = 0;
}

/* The outputs using each entry of the solution: a list per (block, z) over the terms. */
typedef struct users {
    fold_int *head[4], *next, *out;
} users;

static bool users_build(const fold_acopf *m, const acopf_lin *l, users *u)
{
    fold_int len[4] = {m->L.n, m->L.m, m->L.n, m->L.n};
    memset(u, 0, sizeof *u);
    for (int b = 0; b < 4; b++) {
        if (!(u->head[b] = malloc(((size_t)len[b] + 1) * sizeof(fold_int)))) return false;
        for (fold_int j = 0; j < len[b]; j++)
            u->head[b][j] = -1;
    }
    u->next = malloc(((size_t)l->nz + 1) * sizeof(fold_int));
    u->out = malloc(((size_t)l->nz + 1) * sizeof(fold_int));
    if (!u->next || !u->out) return false;
    for (fold_int r = 0; r < l->n_out; r++)
        for (fold_int q = l->zp[r]; q < l->zp[r + 1]; q++) {
            u->out[q] = r;
            u->next[q] = u->head[l->zb[q]][l->zi[q]];
            u->head[l->zb[q]][l->zi[q]] = q;
        }
    return true;
}

static void users_free(users *u)
{
    for (int b = 0; b < 4; b++)
        free(u->head[b]);
    free(u->next);
    free(u->out);
}

static int cmp_entry(const void *a, const void *b)
{
    fold_int x = *(const fold_int *)a, y = *(const fold_int *)b;
    return (x > y) - (x < y);
}

/* The first of the sorted entry flags [lo, hi) at or after column col. */
static fold_int column_start(const acopf_trust *t, fold_int lo, fold_int hi, fold_int col)
{
    while (lo < hi) {
        fold_int mid = (lo + hi) / 2;
        if (t->f[mid].col < col)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool entries_sorted(const fold_int *e, fold_int n)
{
    for (fold_int k = 1; k < n; k++)
        if (e[k - 1] > e[k]) return false;
    return true;
}

/* The flag of (block, z, col) among the sorted entry flags [lo, hi) (those of column col),
 * or NULL. */
static const zflag *find(const acopf_trust *t, fold_int lo, fold_int hi, int block, fold_int z,
                         fold_int col)
{
    zflag key = {block, z, col, -1000, 0, 0, 0};
    const fold_int end = hi;
    while (lo < hi) { /* first flag >= key */
        fold_int mid = (lo + hi) / 2;
        if (cmp_zflag(&t->f[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < end && t->f[lo].block == block && t->f[lo].z == z && t->f[lo].col == col)
        return &t->f[lo];
    return NULL;
}

/* The two halves of the entries' names, each made once per report (a Jacobian's entries
 * pair every output with every parameter): "d pf branch 7" per output, " / d pd bus 3" per
 * parameter; offsets in pool, plus one (0: not made yet). */
typedef struct entry_names {
    name_pool pool;
    size_t *out_at, *par_at;
} entry_names;

static void entry_names_free(entry_names *e)
{
    name_pool_free(&e->pool);
    free(e->out_at);
    free(e->par_at);
}

/* Offset of output r's half, or (size_t)-1 out of memory. */
static size_t out_half(const fold_acopf *m, const fold_acopf_output *o, fold_int r, entry_names *e)
{
    static const char *const words[] = {"", "bus", "gen", "branch"};
    if (e->out_at[r] == 0) {
        int type = fold_acopf_output_item_type(o->kind);
        char text[128];
        if (type == FOLD_ACOPF_ITEM_NONE)
            snprintf(text, sizeof text, "d %s", fold_acopf_output_name(o->kind));
        else
            snprintf(text, sizeof text, "d %s %s %ld", fold_acopf_output_name(o->kind),
                     type >= 0 && type <= 3 ? words[type] : "",
                     fold_acopf_item_key(&m->cs, type, o->item));
        size_t at = name_pool_add(&e->pool, text);
        if (at == (size_t)-1) return at;
        e->out_at[r] = at + 1;
    }
    return e->out_at[r] - 1;
}

/* Offset of parameter param's half, or (size_t)-1 out of memory. */
static size_t par_half(const fold_acopf *m, fold_int param, entry_names *e)
{
    if (e->par_at[param] == 0) {
        char par[FOLD_NAME_MAX] = "", text[FOLD_NAME_MAX + 8];
        fold_problem_item_name(m->prob, FOLD_ITEM_PARAMETER, param, par, sizeof par);
        snprintf(text, sizeof text, " / d %s", par);
        size_t at = name_pool_add(&e->pool, text);
        if (at == (size_t)-1) return at;
        e->par_at[param] = at + 1;
    }
    return e->par_at[param] - 1;
}

/* "d pf branch 7 / d pd bus 3" (a Jacobian entry) or "d pf branch 7" (a jvp's) into buf;
 * false out of memory. */
static bool entry_name(const fold_acopf *m, const fold_acopf_output *o, fold_int r, fold_int param,
                       entry_names *e, char *buf, size_t len)
{
    size_t oh = out_half(m, o, r, e), ph = param >= 0 ? par_half(m, param, e) : 0;
    if (oh == (size_t)-1 || ph == (size_t)-1) return false;
    const char *a = e->pool.buf + oh, *b = param >= 0 ? e->pool.buf + ph : "";
    size_t na = strlen(a), nb = strlen(b);
    if (na > len - 1) na = len - 1;
    if (nb > len - 1 - na) nb = len - 1 - na;
    memcpy(buf, a, na);
    memcpy(buf + na, b, nb);
    buf[na + nb] = '\0';
    return true;
}

fold_status acopf_trust_finish(acopf_trust *t, const fold_acopf *m, const acopf_lin *l,
                               const fold_acopf_output *out, const fold_int *cols,
                               acopf_zvalue_fn zvalue, acopf_pterm_fn pterm, void *ud,
                               const char *fn)
{
    users u;
    fold_status st = FOLD_OK;
    fold_int *cand = NULL, n_cand = 0;
    entry_names names = {0};
    if (t->n == 0 && t->n_reach == 0) return FOLD_OK;
    if (!users_build(m, l, &u)) {
        users_free(&u);
        return oom(fn);
    }
    if (t->n > 0 && !zflags_sorted(t->f, t->n)) /* t->f is NULL when empty */
        qsort(t->f, (size_t)t->n, sizeof *t->f, cmp_zflag);
    fold_int n_entry = t->n, cap = t->n * 4 + 1;
    cand = malloc((size_t)cap * sizeof *cand);
    names.out_at = calloc((size_t)l->n_out + 1, sizeof *names.out_at);
    names.par_at = calloc((size_t)m->L.np + 1, sizeof *names.par_at);
    if (!cand || !names.out_at || !names.par_at) {
        st = oom(fn);
        goto done;
    }
    /* the sides: the outputs using an entry they move, in that entry's column */
    for (fold_int k = 0; k < t->n_reach; k++) {
        fold_int item = (fold_int)t->reach[k].value;
        for (fold_int q = u.head[t->reach[k].block][t->reach[k].z]; q >= 0; q = u.next[q])
            if (!affect(item, u.out[q] + l->n_out * t->reach[k].col)) {
                st = oom(fn);
                goto done;
            }
    }
    for (fold_int k = 0; k < T.n; k++) { /* sorted, without repeats */
        fold_int n = T.items[k].n_affected, w = 0;
        if (n > 0 && !entries_sorted(T.lists[k], n))
            qsort(T.lists[k], (size_t)n, sizeof *T.lists[k], cmp_entry);
        for (fold_int q = 0; q < n; q++)
            if (w == 0 || T.lists[k][q] != T.lists[k][w - 1]) T.lists[k][w++] = T.lists[k][q];
        T.items[k].n_affected = w;
    }
    /* candidate result entries: outputs using a flagged entry, in that entry's column */
    for (fold_int k = 0; k < n_entry; k++)
        for (fold_int q = u.head[t->f[k].block][t->f[k].z]; q >= 0; q = u.next[q]) {
            if (n_cand == cap) {
                fold_int *p = realloc(cand, (size_t)(2 * cap) * sizeof *p);
                if (!p) {
                    st = oom(fn);
                    goto done;
                }
                cand = p;
                cap *= 2;
            }
            cand[n_cand++] = u.out[q] + l->n_out * t->f[k].col;
        }
    qsort(cand, (size_t)n_cand, sizeof *cand, cmp_entry);
    fold_int col_lo = 0, col_hi = 0, col_at = -1; /* the flags of column col_at */
    for (fold_int k = 0; k < n_cand; k++) {
        if (k > 0 && cand[k] == cand[k - 1]) continue;
        fold_int r = cand[k] % l->n_out, c = cand[k] / l->n_out;
        if (c != col_at) {
            col_lo = column_start(t, col_hi, n_entry, c);
            col_hi = column_start(t, col_lo, n_entry, c + 1);
            col_at = c;
        }
        double value = pterm(ud, r, c), lo = value, hi = value;
        int kind = FOLD_TRUST_BARRIER_ERROR;
        for (fold_int q = l->zp[r]; q < l->zp[r + 1]; q++) {
            const zflag *f = find(t, col_lo, col_hi, l->zb[q], l->zi[q], c);
            double a = l->zc[q];
            if (!f) {
                double v = a * zvalue(ud, l->zb[q], l->zi[q], c);
                value += v, lo += v, hi += v;
                continue;
            }
            if (f->kind == FOLD_TRUST_NOT_UNIQUE || f->kind == FOLD_TRUST_INCONSISTENT)
                kind = FOLD_TRUST_NOT_UNIQUE;
            else if (f->kind == FOLD_TRUST_UNCERTAIN && kind != FOLD_TRUST_NOT_UNIQUE)
                kind = FOLD_TRUST_UNCERTAIN;
            value += a * f->value;
            lo += fmin(a * f->lo, a * f->hi);
            hi += fmax(a * f->lo, a * f->hi);
        }
        fold_int param = cols ? cols[c] : -1;
        char name[3 * FOLD_NAME_MAX];
        if (!entry_name(m, &out[r], r, param, &names, name, sizeof name)) {
            st = oom(fn);
            goto done;
        }
        fold_trust_item it = {.kind = kind,
                              .item = -1,
                              .index = -1,
                              .block = -1,
                              .slack = NAN,
                              .multiplier = NAN,
                              .entry = cand[k],
                              .row = r,
                              .col = param,
                              .value = value,
                              .lo = lo,
                              .hi = hi};
        if (kind == FOLD_TRUST_NOT_UNIQUE) it.value = it.lo = it.hi = NAN;
        if (add(&it, name) < 0) {
            st = oom(fn);
            goto done;
        }
    }
done:
    free(cand);
    entry_names_free(&names);
    users_free(&u);
    return st;
}

fold_int acopf_trust_count(fold_trust_kind kind)
{
    fold_int c = 0;
    for (fold_int k = 0; k < T.n; k++)
        c += T.items[k].kind == kind;
    return c;
}
