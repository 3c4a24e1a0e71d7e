/* Trust reports (fold_trust_item lists) on the wire: encoded by a worker after a record or a
 * backward hook, decoded into storage the caller owns; the batch's reports of its last
 * backward call freed (doc/api/batch.md, "Trust"). */
#include "batch/batch_internal.h"

/* Item k of a report handed to the batch by a model's hook (doc/api/types.md, "Arrays that
 * grow"): the stride is its size field; a size below the first version (0: an array built
 * without it) is read as this library's. */
static const fold_trust_item *hook_item(const fold_trust_item *items, fold_int k,
                                        fold_trust_item *tmp)
{
    size_t size = items->size >= FOLD_TRUST_ITEM_V1 ? items->size : sizeof *items;
    fold_sized_copy(tmp, sizeof *tmp, (const char *)items + (size_t)k * size, size);
    return tmp;
}

void fold_bt_put_trust(fold_bt_buf *b, const fold_trust_item *items, fold_int n)
{
    fold_bt_put_i64(b, items ? n : 0);
    for (fold_int k = 0; items && k < n; k++) {
        fold_trust_item tmp;
        const fold_trust_item *t = hook_item(items, k, &tmp);
        fold_bt_put_i64(b, t->kind);
        fold_bt_put_i64(b, t->item);
        fold_bt_put_i64(b, t->index);
        fold_bt_put_i64(b, t->side);
        fold_bt_put_str(b, t->name);
        fold_bt_put_f64(b, t->slack);
        fold_bt_put_f64(b, t->multiplier);
        fold_bt_put_i64(b, t->block);
        fold_bt_put_i64(b, t->entry);
        fold_bt_put_i64(b, t->row);
        fold_bt_put_i64(b, t->col);
        fold_bt_put_f64(b, t->value);
        fold_bt_put_f64(b, t->lo);
        fold_bt_put_f64(b, t->hi);
        fold_int same = -1; /* an earlier item with this list (sides may share one) */
        for (fold_int j = 0; j < k && t->affected && t->n_affected > 0 && same < 0; j++) {
            fold_trust_item tj;
            if (hook_item(items, j, &tj)->affected == t->affected) same = j;
        }
        if (same >= 0) { /* sent once: -1 - j refers to item j's */
            fold_bt_put_i64(b, -1 - same);
            continue;
        }
        fold_bt_put_i64(b, t->n_affected);
        fold_bt_put_i64s(b, t->affected, t->affected ? t->n_affected : 0);
    }
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return (x > y) - (x < y);
}

void fold_bt_trust_free(fold_bt_trust *t)
{
    /* items may share a list: each freed once */
    void **lists = malloc(((size_t)t->n + 1) * sizeof *lists);
    fold_int n = 0;
    for (fold_int k = 0; k < t->n; k++) {
        free((char *)t->items[k].name);
        if (lists)
            lists[n++] = (void *)t->items[k].affected;
        else /* no room to sort: shared lists are not freed (a leak, never a double free) */
            t->items[k].affected = NULL;
    }
    if (lists) qsort(lists, (size_t)n, sizeof *lists, cmp_ptr);
    for (fold_int k = 0; k < n; k++)
        if (k == 0 || lists[k] != lists[k - 1]) free(lists[k]);
    free(lists);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

bool fold_bt_get_trust(fold_bt_reader *r, fold_bt_trust *t)
{
    fold_bt_trust_free(t);
    fold_int n = fold_bt_get_i64(r);
    if (r->bad || n < 0 || (size_t)n > r->left) return false; /* each item takes bytes */
    if (n == 0) return true;
    if (!(t->items = calloc((size_t)n, sizeof *t->items))) return false;
    char name[FOLD_BATCH_MESSAGE_LEN];
    for (fold_int k = 0; k < n && !r->bad; k++, t->n++) {
        fold_trust_item *it = &t->items[k];
        it->size = sizeof *it;
        it->kind = (int)fold_bt_get_i64(r);
        it->item = (int)fold_bt_get_i64(r);
        it->index = fold_bt_get_i64(r);
        it->side = (int)fold_bt_get_i64(r);
        fold_bt_get_str(r, name, sizeof name);
        it->name = strdup(name);
        it->slack = fold_bt_get_f64(r);
        it->multiplier = fold_bt_get_f64(r);
        it->block = (int)fold_bt_get_i64(r);
        it->entry = fold_bt_get_i64(r);
        it->row = fold_bt_get_i64(r);
        it->col = fold_bt_get_i64(r);
        it->value = fold_bt_get_f64(r);
        it->lo = fold_bt_get_f64(r);
        it->hi = fold_bt_get_f64(r);
        fold_int na = fold_bt_get_i64(r);
        if (na < 0 && !r->bad) { /* the list of an earlier item */
            fold_int j = -1 - na;
            if (j >= k || !it->name) {
                free((char *)it->name);
                it->name = NULL;
                r->bad = true;
                break;
            }
            it->affected = t->items[j].affected;
            it->n_affected = t->items[j].n_affected;
            continue;
        }
        const unsigned char *raw =
            na >= 0 && !r->bad ? fold_bt_get_raw(r, (size_t)na * sizeof(fold_int)) : NULL;
        fold_int *aff = raw ? malloc(((size_t)na + 1) * sizeof *aff) : NULL;
        if (!it->name || !aff) {
            free(aff);
            free((char *)it->name);
            it->name = NULL;
            r->bad = true;
            break;
        }
        if (na) memcpy(aff, raw, (size_t)na * sizeof *aff);
        it->affected = aff;
        it->n_affected = na;
    }
    if (r->bad) fold_bt_trust_free(t);
    return !r->bad;
}

void fold_bt_free_trust(fold_batch *b)
{
    for (fold_int i = 0; i < b->n_trust; i++)
        fold_bt_trust_free(&b->trust[i]);
    free(b->trust);
    b->trust = NULL;
    b->n_trust = 0;
}
