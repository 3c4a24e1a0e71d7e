/* Keep mode: backward requests (VJP, JVP, Jacobian blocks) on the states the workers kept
 * from a run, each answered by the worker holding it, on the factorization of that
 * scenario's forward solve; and their release (doc/api/batch.md, "Keep mode"). */
#include "batch/batch_internal.h"

typedef struct requests {
    fold_batch *b;
    int type;
    fold_int count;
    const fold_int *keys;
    const double *in; /* per key: in_len values (VJP, JVP) */
    fold_int in_len;
    fold_int n_rows, n_cols; /* JACOBIAN */
    const fold_int *rows, *cols;
    double *out; /* per key: out_len values */
    fold_int out_len;
    fold_status *status;
    unsigned char *todo;  /* per key: 1 to send, 2 sent, 0 answered */
    fold_int *next;       /* per worker slot: next key index to look at */
    fold_int first_error; /* index of the first failed key, -1 */
    char first_msg[FOLD_BATCH_MESSAGE_LEN];
} requests;

static void set_result(requests *q, fold_int i, fold_status st, const char *msg,
                       const double *values, fold_int count)
{
    double *out = q->out + (size_t)i * (size_t)q->out_len;
    q->todo[i] = 0;
    q->status[i] = st;
    if (st >= 0 && values && count == q->out_len)
        memcpy(out, values, (size_t)count * sizeof *out);
    else
        for (fold_int k = 0; k < q->out_len; k++)
            out[k] = NAN;
    if (st >= 0 && (!values || count != q->out_len) && q->out_len > 0) {
        q->status[i] = st = FOLD_ERR_INTERNAL;
        msg = "wrong result size from the worker";
    }
    if (st < 0 && (q->first_error < 0 || i < q->first_error)) {
        q->first_error = i;
        snprintf(q->first_msg, sizeof q->first_msg, "%s", msg ? msg : "");
    }
}

static void on_result(void *ctx, fold_int req, fold_status st, const char *msg,
                      const double *values, fold_int count, fold_bt_trust *trust)
{
    requests *q = ctx;
    if (req < 0 || req >= q->count) return;
    set_result(q, req, st, msg, values, count);
    if (trust && q->status[req] >= 0) { /* the report moves into the batch */
        q->b->trust[req] = *trust;
        *trust = (fold_bt_trust){0};
    }
}

/* Room for the trust reports of a backward call of count entries (the last call's freed). */
static fold_status reset_trust(fold_batch *b, fold_int count)
{
    fold_bt_free_trust(b);
    if (!(b->trust = calloc((size_t)count + 1, sizeof *b->trust)))
        return fold_error(FOLD_ERR_MEMORY, "fold_batch: out of memory");
    b->n_trust = count;
    return FOLD_OK;
}

fold_status fold_batch_trust_report(const fold_batch *b, fold_int entry,
                                    const fold_trust_item **items, fold_int *count)
{
    if (!b || !items || !count || entry < 0 || entry >= b->n_trust)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_batch_trust_report: %s",
                          !b || !items || !count ? "batch, items or count is NULL"
                                                 : "entry is not one of the last backward call");
    *items = b->trust[entry].items;
    *count = b->trust[entry].n;
    return FOLD_OK;
}

/* Slot of the worker holding key i's state, or -1 (released, lost with a crash, or never
 * kept). */
static int holder(const requests *q, fold_int i)
{
    const fold_batch *b = q->b;
    fold_int key = q->keys[i];
    if (key < 0 || key >= b->cap_keys || b->key_slot[key] < 0) return -1;
    int s = b->key_slot[key];
    return b->w[s].generation == b->key_gen[key] ? s : -1;
}

static void send_request(requests *q, fold_bt_worker *w, fold_int i)
{
    fold_bt_buf m = {0};
    fold_bt_begin(&m, q->type);
    fold_bt_put_i64(&m, i);
    fold_bt_put_i64(&m, q->keys[i]);
    if (q->type == FOLD_BT_MSG_JACOBIAN) {
        fold_bt_put_i64(&m, q->n_rows);
        fold_bt_put_i64s(&m, q->rows, q->n_rows);
        fold_bt_put_i64(&m, q->n_cols);
        fold_bt_put_i64s(&m, q->cols, q->n_cols);
    } else {
        fold_bt_put_f64s(&m, q->in + (size_t)i * (size_t)q->in_len, q->in_len);
    }
    fold_bt_finish(&m);
    if (m.failed) {
        set_result(q, i, FOLD_ERR_MEMORY, "out of memory for the request", NULL, 0);
    } else {
        q->todo[i] = 2;
        w->state = FOLD_BT_REQUEST_BUSY;
        w->req = i;
        w->t_begin = fold_time_now();
        fold_bt_pool_send(w, &m);
    }
    fold_bt_buf_free(&m);
}

/* Give each idle worker its next request; true when some request is still to send. */
static bool feed(requests *q)
{
    fold_batch *b = q->b;
    bool left = false;
    for (int s = 0; s < b->n_workers; s++) {
        fold_bt_worker *w = &b->w[s];
        while (q->next[s] < q->count) {
            fold_int i = q->next[s];
            if (q->todo[i] != 1 || q->b->key_slot[q->keys[i]] != s) {
                q->next[s]++;
                continue;
            }
            if (holder(q, i) != s) { /* its worker died meanwhile */
                set_result(q, i, FOLD_ERR_NOT_SOLVED, "state lost: its worker died", NULL, 0);
                q->next[s]++;
                continue;
            }
            if (w->fd < 0 || w->state != FOLD_BT_IDLE) {
                left = true;
                break;
            }
            q->next[s]++;
            send_request(q, w, i);
            left = left || q->next[s] < q->count;
            break;
        }
    }
    return left;
}

static fold_status run_requests(requests *q)
{
    fold_batch *b = q->b;
    const char *fn = q->type == FOLD_BT_MSG_VJP   ? "fold_batch_vjp"
                     : q->type == FOLD_BT_MSG_JVP ? "fold_batch_jvp"
                                                  : "fold_batch_jacobian";
    q->first_error = -1;
    fold_status rt = reset_trust(b, q->count);
    if (rt) return rt;
    q->next = calloc((size_t)b->n_workers, sizeof *q->next);
    q->todo = malloc((size_t)q->count + 1);
    if (!q->next || !q->todo) {
        free(q->next);
        free(q->todo);
        return fold_error(FOLD_ERR_MEMORY, "%s: out of memory", fn);
    }
    for (fold_int i = 0; i < q->count; i++) {
        q->todo[i] = 1;
        if (holder(q, i) < 0)
            set_result(q, i, FOLD_ERR_NOT_SOLVED,
                       "no kept state: released, lost with its "
                       "worker, or its solve failed",
                       NULL, 0);
    }
    b->sink = (fold_bt_sink){.result = on_result, .ctx = q};
    fold_status st = FOLD_OK;
    while (!st) {
        bool left = feed(q);
        if (!left && fold_bt_pool_n_busy(b) == 0) break;
        st = fold_bt_pool_poll(b, -1);
    }
    b->sink = (fold_bt_sink){0};
    free(q->next);
    free(q->todo);
    if (st) return st;
    if (q->first_error >= 0) {
        fold_int i = q->first_error;
        return fold_error(q->status[i], "%s: key %lld (entry %lld): %s", fn, (long long)q->keys[i],
                          (long long)i, q->first_msg);
    }
    return FOLD_OK;
}

static fold_status check(const fold_batch *b, fold_int count, const fold_int *keys, const void *in,
                         const void *out, const char *fn)
{
    if (!b || count < 0 || (count > 0 && (!keys || !in || !out)))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s", fn,
                          !b          ? "batch is NULL"
                          : count < 0 ? "count is negative"
                                      : "keys, input or output is NULL");
    return FOLD_OK;
}

static fold_status with_status(requests *q, fold_status *status)
{
    fold_status *own = NULL;
    if (!status && !(status = own = malloc(((size_t)q->count + 1) * sizeof *status)))
        return fold_error(FOLD_ERR_MEMORY, "fold_batch: out of memory");
    q->status = status;
    fold_status st = run_requests(q);
    free(own);
    return st;
}

fold_status fold_batch_vjp(fold_batch *b, fold_int count, const fold_int *keys, const double *ybar,
                           double *pbar, fold_status *status)
{
    fold_clear_error();
    fold_status st = check(b, count, keys, ybar, pbar, "fold_batch_vjp");
    if (st) return st;
    requests q = {.b = b,
                  .type = FOLD_BT_MSG_VJP,
                  .count = count,
                  .keys = keys,
                  .in = ybar,
                  .in_len = b->model.n_out,
                  .out = pbar,
                  .out_len = b->model.np};
    return with_status(&q, status);
}

fold_status fold_batch_jvp(fold_batch *b, fold_int count, const fold_int *keys, const double *dp,
                           double *ydot, fold_status *status)
{
    fold_clear_error();
    fold_status st = check(b, count, keys, dp, ydot, "fold_batch_jvp");
    if (st) return st;
    requests q = {.b = b,
                  .type = FOLD_BT_MSG_JVP,
                  .count = count,
                  .keys = keys,
                  .in = dp,
                  .in_len = b->model.np,
                  .out = ydot,
                  .out_len = b->model.n_out};
    return with_status(&q, status);
}

fold_status fold_batch_jacobian(fold_batch *b, fold_int count, const fold_int *keys,
                                fold_int n_rows, const fold_int *rows, fold_int n_cols,
                                const fold_int *cols, double *J, fold_status *status)
{
    fold_clear_error();
    const char *fn = "fold_batch_jacobian";
    fold_status st = check(b, count, keys, J, J, fn);
    if (st) return st;
    if ((st = fold_check_index_list(rows, n_rows, b->model.n_out, fn, "rows")) ||
        (st = fold_check_index_list(cols, n_cols, b->model.np, fn, "cols")))
        return st;
    requests q = {.b = b,
                  .type = FOLD_BT_MSG_JACOBIAN,
                  .count = count,
                  .keys = keys,
                  .n_rows = n_rows,
                  .n_cols = n_cols,
                  .rows = rows,
                  .cols = cols,
                  .out = J,
                  .out_len = n_rows * n_cols};
    return with_status(&q, status);
}

fold_status fold_batch_release(fold_batch *b, fold_int count, const fold_int *keys)
{
    if (!b || (count > 0 && !keys && count >= 0) || count < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_batch_release: %s",
                          !b ? "batch is NULL" : "count is negative or keys NULL");
    fold_bt_buf m = {0};
    for (int s = 0; s < b->n_workers; s++) {
        fold_bt_worker *w = &b->w[s];
        if (w->fd < 0) continue;
        fold_bt_begin(&m, FOLD_BT_MSG_RELEASE);
        fold_int n = 0;
        size_t at = m.len;
        fold_bt_put_i64(&m, keys ? 0 : -1);
        for (fold_int i = 0; keys && i < count; i++) {
            fold_int key = keys[i];
            if (key >= 0 && key < b->cap_keys && b->key_slot[key] == s) {
                fold_bt_put_i64(&m, key);
                b->key_slot[key] = -1;
                n++;
            }
        }
        if (keys && !m.failed) memcpy(m.data + at, &n, sizeof n);
        fold_bt_finish(&m);
        if (m.failed) {
            fold_bt_buf_free(&m);
            return fold_error(FOLD_ERR_MEMORY, "fold_batch_release: out of memory");
        }
        if (!keys || n > 0) fold_bt_pool_send(w, &m);
    }
    for (fold_int k = 0; !keys && k < b->cap_keys; k++)
        b->key_slot[k] = -1;
    fold_bt_buf_free(&m);
    return FOLD_OK;
}
