/* A scenario's record on the wire: encoded by the worker (or by the parent for a crash or a
 * timeout), forwarded unchanged between MPI ranks, decoded where it is given to the caller. */
#include "batch/batch_internal.h"

enum { HAS_OUTPUTS = 1, HAS_SENS = 2, IS_EMIT = 4, HAS_BACKWARD = 8, HAS_TRUST = 16 };

void fold_bt_put_record(fold_bt_buf *b, const fold_batch_record *rec, bool emit)
{
    unsigned flags = (rec->outputs ? HAS_OUTPUTS : 0) | (rec->sens ? HAS_SENS : 0) |
                     (emit ? IS_EMIT : 0) | (rec->backward ? HAS_BACKWARD : 0) |
                     (rec->trust ? HAS_TRUST : 0);
    fold_bt_begin(b, FOLD_BT_MSG_RECORD);
    fold_bt_put_i64(b, rec->scenario);
    fold_bt_put_i64(b, rec->key);
    fold_bt_put_u8(b, flags);
    fold_bt_put_u8(b, (unsigned)rec->outcome);
    fold_bt_put_i64(b, rec->status);
    fold_bt_put_i64(b, rec->solve_status);
    fold_bt_put_i64(b, rec->forward_status);
    fold_bt_put_f64(b, rec->objective);
    fold_bt_put_i64(b, rec->iterations);
    fold_bt_put_u8(b, (unsigned)rec->start);
    fold_bt_put_i64(b, rec->warm_from);
    fold_bt_put_f64(b, rec->solve_s);
    fold_bt_put_f64(b, rec->record_s);
    fold_bt_put_i64(b, rec->worker_peak_kb);
    fold_bt_put_i64(b, rec->n_out);
    fold_bt_put_i64(b, rec->n_sens);
    if (rec->outputs) fold_bt_put_f64s(b, rec->outputs, rec->n_out);
    if (rec->sens) fold_bt_put_f64s(b, rec->sens, rec->n_sens);
    if (rec->backward) /* a plain struct: every process runs the same binary */
        fold_bt_put_bytes(b, rec->backward, sizeof *rec->backward);
    if (rec->trust) fold_bt_put_trust(b, rec->trust, rec->n_trust);
    fold_bt_put_str(b, rec->message);
    fold_bt_finish(b);
}

static bool fit(double **v, fold_int *cap, fold_int n)
{
    if (n <= *cap) return true;
    double *d = realloc(*v, (size_t)n * sizeof *d);
    if (!d) return false;
    *v = d;
    *cap = n;
    return true;
}

bool fold_bt_get_record(fold_bt_reader *r, fold_batch_record *rec, bool *emit,
                        fold_bt_record_store *store)
{
    memset(rec, 0, sizeof *rec);
    rec->scenario = fold_bt_get_i64(r);
    rec->key = fold_bt_get_i64(r);
    unsigned flags = fold_bt_get_u8(r);
    rec->outcome = (int)fold_bt_get_u8(r);
    rec->status = (fold_status)fold_bt_get_i64(r);
    rec->solve_status = (fold_status)fold_bt_get_i64(r);
    rec->forward_status = (int)fold_bt_get_i64(r);
    rec->objective = fold_bt_get_f64(r);
    rec->iterations = fold_bt_get_i64(r);
    rec->start = (int)fold_bt_get_u8(r);
    rec->warm_from = fold_bt_get_i64(r);
    rec->solve_s = fold_bt_get_f64(r);
    rec->record_s = fold_bt_get_f64(r);
    rec->worker_peak_kb = (long)fold_bt_get_i64(r);
    rec->n_out = fold_bt_get_i64(r);
    rec->n_sens = fold_bt_get_i64(r);
    if (r->bad || rec->n_out < 0 || rec->n_sens < 0) return false;
    if (flags & HAS_OUTPUTS) {
        if (!fit(&store->outputs, &store->cap_out, rec->n_out + 1)) return false;
        fold_bt_get_f64s(r, store->outputs, rec->n_out);
        rec->outputs = store->outputs;
    }
    if (flags & HAS_SENS) {
        if (!fit(&store->sens, &store->cap_sens, rec->n_sens + 1)) return false;
        fold_bt_get_f64s(r, store->sens, rec->n_sens);
        rec->sens = store->sens;
    }
    if (flags & HAS_BACKWARD) {
        const unsigned char *p = fold_bt_get_raw(r, sizeof store->backward);
        if (p) memcpy(&store->backward, p, sizeof store->backward);
        rec->backward = p ? &store->backward : NULL;
    }
    if (flags & HAS_TRUST) {
        if (!fold_bt_get_trust(r, &store->trust)) return false;
        rec->trust = store->trust.items;
        rec->n_trust = store->trust.n;
    }
    fold_bt_get_str(r, store->message, sizeof store->message);
    rec->message = store->message;
    *emit = (flags & IS_EMIT) != 0;
    return !r->bad;
}

void fold_bt_record_store_free(fold_bt_record_store *s)
{
    free(s->outputs);
    free(s->sens);
    s->outputs = s->sens = NULL;
    s->cap_out = s->cap_sens = 0;
    fold_bt_trust_free(&s->trust);
}

void fold_bt_record_failed(fold_batch_record *rec, fold_int scenario, fold_int key, int outcome,
                           fold_status status, const char *message)
{
    memset(rec, 0, sizeof *rec);
    rec->scenario = scenario;
    rec->key = key;
    rec->outcome = outcome;
    rec->status = rec->solve_status = status;
    rec->forward_status = FOLD_FWD_NOT_RUN;
    rec->objective = NAN;
    rec->start = FOLD_BATCH_START_COLD;
    rec->warm_from = -1;
    rec->message = message;
}
