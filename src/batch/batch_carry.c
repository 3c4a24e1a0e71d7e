/* Warm starts across runs (job.carry): a worker holds the solutions of the scenarios it
 * solved in its last run with carry and starts a later run's scenarios from the nearest one
 * when it is nearer than the start their chain gives (doc/api/batch.md, "Warm starts"). A
 * held state may also be kept under its key (keep mode): it is freed by whichever of the
 * two lets it go last. */
#include "batch/batch_internal.h"

static void drop_list(fold_bt_carry *c, fold_bt_held *h, fold_int n)
{
    for (fold_int i = 0; i < n; i++) {
        if (h[i].owned && h[i].state) c->def->release(c->model, h[i].state);
        free(h[i].p);
    }
}

void fold_bt_carry_init(fold_bt_carry *c, const fold_batch_model *def, void *model)
{
    memset(c, 0, sizeof *c);
    c->def = def;
    c->model = model;
}

void fold_bt_carry_run(fold_bt_carry *c, bool carry)
{
    drop_list(c, c->prev, c->n_prev);
    fold_bt_held *t = c->prev;
    fold_int cap = c->cap_prev;
    c->prev = c->cur, c->n_prev = c->n_cur, c->cap_prev = c->cap_cur;
    c->cur = t, c->n_cur = 0, c->cap_cur = cap;
    if (!carry) {
        drop_list(c, c->prev, c->n_prev);
        c->n_prev = 0;
    }
    c->on = carry;
}

bool fold_bt_carry_add(fold_bt_carry *c, const double *p, void *state, fold_int key,
                       fold_int scenario, bool owned)
{
    if (!c->on) return false;
    fold_int np = c->def->np;
    if (c->n_cur == c->cap_cur) {
        fold_int cap = c->cap_cur ? 2 * c->cap_cur : 16;
        fold_bt_held *h = realloc(c->cur, (size_t)cap * sizeof *h);
        if (!h) return false;
        c->cur = h;
        c->cap_cur = cap;
    }
    double *copy = malloc(((size_t)np + 1) * sizeof *copy);
    if (!copy) return false;
    if (np) memcpy(copy, p, (size_t)np * sizeof *copy);
    c->cur[c->n_cur++] = (fold_bt_held){copy, state, key, scenario, owned};
    return true;
}

bool fold_bt_carry_holds(const fold_bt_carry *c, const void *state)
{
    for (fold_int i = 0; i < c->n_cur; i++)
        if (c->cur[i].state == state) return true;
    return false;
}

bool fold_bt_carry_adopt(fold_bt_carry *c, void *state)
{
    bool held = false;
    for (fold_int i = 0; i < c->n_prev; i++)
        if (c->prev[i].state == state) c->prev[i].owned = held = true;
    for (fold_int i = 0; i < c->n_cur; i++)
        if (c->cur[i].state == state) c->cur[i].owned = held = true;
    return held;
}

double fold_bt_distance2(const double *a, const double *b, fold_int n)
{
    double d = 0;
    for (fold_int j = 0; j < n; j++)
        d += (a[j] - b[j]) * (a[j] - b[j]);
    return d;
}

const fold_bt_held *fold_bt_carry_nearest(const fold_bt_carry *c, const double *p, double limit2)
{
    const fold_bt_held *best = NULL;
    for (fold_int i = 0; i < c->n_prev; i++) { /* the first of equal distances: deterministic */
        double d = fold_bt_distance2(p, c->prev[i].p, c->def->np);
        if (d < limit2) {
            limit2 = d;
            best = &c->prev[i];
        }
    }
    return best;
}

void fold_bt_carry_free(fold_bt_carry *c)
{
    drop_list(c, c->prev, c->n_prev);
    drop_list(c, c->cur, c->n_cur);
    free(c->prev);
    free(c->cur);
    c->prev = c->cur = NULL;
    c->n_prev = c->n_cur = c->cap_prev = c->cap_cur = 0;
}
