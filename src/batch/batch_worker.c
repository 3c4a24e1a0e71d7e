/* The worker process: builds the model once, then solves the chains it is handed (each
 * scenario warm-started from its predecessor or the anchor), records each scenario, keeps
 * states for later backward requests in keep mode (doc/api/batch.md, "Processes"). */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "batch/batch_internal.h"

/* Kept states by key: open addressing, linear probing; key -1 empty, -2 deleted. */
typedef struct kept_map {
    fold_int *keys;
    void **states;
    size_t cap, used;
} kept_map;

typedef struct worker {
    const fold_batch_model *def;
    void *model;
    int fd;
    fold_bt_buf in, out;
    double *p;       /* np: one member's parameters (aligned copy) */
    double *chain_p; /* np: the parameters of the chain's last converged member */
    double *outputs, *sens;
    char message[FOLD_BATCH_MESSAGE_LEN];
    /* the anchor of the current run */
    double *anchor_p;
    bool has_anchor, anchor_tried;
    void *anchor_state;
    kept_map kept;
    fold_bt_carry held;          /* solutions kept across runs (job.carry) */
    fold_backward_info backward; /* the record hook's, for the record being sent */
} worker;

static size_t slot_of(const kept_map *m, fold_int key)
{
    return (size_t)((uint64_t)key * 0x9e3779b97f4a7c15ULL >> 7) & (m->cap - 1);
}

static void *kept_find(const kept_map *m, fold_int key, bool take)
{
    for (size_t i = m->cap ? slot_of(m, key) : 0, k = 0; k < m->cap;
         k++, i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == -1) return NULL;
        if (m->keys[i] == key) {
            void *s = m->states[i];
            if (take) m->keys[i] = -2;
            return s;
        }
    }
    return NULL;
}

static bool kept_put(kept_map *m, fold_int key, void *state)
{
    if (2 * (m->used + 1) > m->cap) { /* grow (and drop deleted slots) */
        kept_map g = {.cap = m->cap ? 2 * m->cap : 64};
        g.keys = malloc(g.cap * sizeof *g.keys);
        g.states = malloc(g.cap * sizeof *g.states);
        if (!g.keys || !g.states) {
            free(g.keys);
            free(g.states);
            return false;
        }
        for (size_t i = 0; i < g.cap; i++)
            g.keys[i] = -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i] >= 0) {
                size_t j = slot_of(&g, m->keys[i]);
                while (g.keys[j] != -1)
                    j = (j + 1) & (g.cap - 1);
                g.keys[j] = m->keys[i];
                g.states[j] = m->states[i];
                g.used++;
            }
        free(m->keys);
        free(m->states);
        *m = g;
    }
    size_t j = slot_of(m, key);
    while (m->keys[j] >= 0)
        j = (j + 1) & (m->cap - 1);
    m->keys[j] = key;
    m->states[j] = state;
    m->used++;
    return true;
}

static void release(worker *w, void *state)
{
    if (state) w->def->release(w->model, state);
}

/* A kept state whose key is released: freed unless held for later runs. */
static void release_kept(worker *w, void *state)
{
    if (state && !fold_bt_carry_adopt(&w->held, state)) release(w, state);
}

static void release_all(worker *w)
{
    for (size_t i = 0; i < w->kept.cap; i++)
        if (w->kept.keys[i] >= 0) {
            release_kept(w, w->kept.states[i]);
            w->kept.keys[i] = -2;
        }
}

static void send_or_die(worker *w, const fold_bt_buf *b)
{
    if (b->failed || fold_bt_send_all(w->fd, b->data, b->len))
        _exit(3); /* the parent is gone (or no memory to tell it anything) */
}

static void send_begin(worker *w, fold_int scenario)
{
    fold_bt_begin(&w->out, FOLD_BT_MSG_BEGIN);
    fold_bt_put_i64(&w->out, scenario);
    fold_bt_finish(&w->out);
    send_or_die(w, &w->out);
}

static void fill_message(char *msg, fold_status st)
{
    if (st != FOLD_OK && !msg[0]) snprintf(msg, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
}

static void solve_anchor(worker *w)
{
    w->anchor_tried = true;
    send_begin(w, -1);
    fold_batch_solve_args a = {.scenario = -1, .p = w->anchor_p, .keep = true};
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    w->message[0] = '\0';
    void *state = NULL;
    fold_status st = w->def->solve(w->model, &a, &state, &info, w->message);
    if (st >= 0)
        w->anchor_state = state;
    else
        release(w, state);
}

/* The start of a member: the carried solution nearest to it when that is nearer than the
 * start its chain designates (its predecessor, or the anchor solved on first use), else the
 * designated one. *designated receives the latter (NULL: cold) for a retry; after a carried
 * start, the anchor only if it was solved already (its solve would interleave with the
 * member's on the wire). */
static const void *choose_start(worker *w, unsigned flags, const void *chain, const double *chain_p,
                                fold_int chain_scenario, fold_batch_record *rec,
                                const void **designated)
{
    bool warm = (flags & (FOLD_BT_FROM_PREV | FOLD_BT_FROM_ANCHOR)) != 0;
    bool from_chain = (flags & FOLD_BT_FROM_PREV) && chain;
    const double *des_p = from_chain ? chain_p : w->has_anchor ? w->anchor_p : NULL;
    double limit = des_p ? fold_bt_distance2(w->p, des_p, w->def->np) : INFINITY;
    const fold_bt_held *h = warm ? fold_bt_carry_nearest(&w->held, w->p, limit) : NULL;
    *designated = NULL;
    if (from_chain) {
        *designated = chain;
    } else if (warm && !h) {
        if (w->has_anchor && !w->anchor_tried) solve_anchor(w);
        *designated = w->anchor_state;
        if (!*designated) h = fold_bt_carry_nearest(&w->held, w->p, INFINITY);
    }
    if (h) { /* for a retry: the predecessor, or the anchor if solved already, or cold */
        if (!from_chain && warm) *designated = w->anchor_state;
        rec->start = FOLD_BATCH_START_CARRIED;
        rec->warm_from = h->scenario;
        return h->state;
    }
    rec->start = from_chain    ? FOLD_BATCH_START_SCENARIO
                 : *designated ? FOLD_BATCH_START_ANCHOR
                               : FOLD_BATCH_START_COLD;
    rec->warm_from = from_chain ? chain_scenario : -1;
    return *designated;
}

/* The record hook and, after sensitivities, the model's trust report into rec. */
static void record_hooks(worker *w, void *state, fold_batch_record *rec, fold_status st)
{
    const fold_batch_model *d = w->def;
    char msg[FOLD_BATCH_MESSAGE_LEN] = "";
    double t0 = fold_time_now();
    w->backward = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    fold_status rst = d->record(w->model, state, w->outputs, w->sens, &w->backward, msg);
    rec->backward = w->backward.n_rhs > 0 || w->backward.dim > 0 ? &w->backward : NULL;
    rec->record_s = fold_time_now() - t0;
    fill_message(msg, rst);
    rec->outputs = d->n_out > 0 ? w->outputs : NULL;
    rec->sens = rst >= 0 && d->n_sens > 0 ? w->sens : NULL;
    if (rec->sens && d->trust && d->trust(w->model, state, &rec->trust, &rec->n_trust) != FOLD_OK)
        rec->trust = NULL, rec->n_trust = 0;
    if (rst < 0 || (rst > 0 && st == FOLD_OK)) rec->status = rst;
    if (msg[0]) { /* after the solve's own message, if any */
        size_t k = strlen(w->message);
        snprintf(w->message + k, sizeof w->message - k, "%s%s", k ? "; " : "", msg);
    }
}

/* Is a warm solve that ended so worth solving again cold: the solver lost its way (not a
 * verdict of infeasibility, a time limit, a stop asked for, an error of the model)? A warm
 * start can lead Ipopt where a cold one does not (doc/api/batch.md "Warm starts"). */
static bool retry_cold(const fold_forward_info *info)
{
    switch (info->status) {
    case FOLD_FWD_MAX_ITER:
    case FOLD_FWD_DIVERGING:
    case FOLD_FWD_NUMERICAL:
    case FOLD_FWD_STALLED:
        return true;
    default:
        return false;
    }
}

/* One member of a chunk: solve from its start, record, send. Returns the state when the
 * solve converged (the next start of the chain), else NULL. */
static void *member(worker *w, fold_bt_reader *r, bool keep, bool first, void *chain,
                    const double *chain_p, fold_int chain_scenario)
{
    const fold_batch_model *d = w->def;
    fold_batch_record rec;
    memset(&rec, 0, sizeof rec);
    rec.scenario = fold_bt_get_i64(r);
    rec.key = fold_bt_get_i64(r);
    unsigned flags = fold_bt_get_u8(r);
    fold_bt_get_f64s(r, w->p, d->np);
    rec.n_out = d->n_out;
    rec.n_sens = d->n_sens;
    const void *designated;
    const void *start = choose_start(w, flags, chain, chain_p, chain_scenario, &rec, &designated);
    send_begin(w, rec.scenario);
    fold_batch_solve_args a = {
        .scenario = rec.scenario, .p = w->p, .start = start, .keep = keep, .new_chain = first};
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    void *state = NULL;
    fold_status st;
    double t0 = fold_time_now();
    for (;;) {
        info = (fold_forward_info)FOLD_FORWARD_INFO_INIT;
        w->message[0] = '\0';
        st = d->solve(w->model, &a, &state, &info, w->message);
        rec.iterations += info.iterations;
        if (st >= 0 || rec.start == FOLD_BATCH_START_COLD) break;
        if (rec.start != FOLD_BATCH_START_CARRIED && !retry_cold(&info)) break;
        release(w, state);
        state = NULL;
        if (rec.start == FOLD_BATCH_START_CARRIED) {
            /* a failed solve from a carried solution: again from the chain's own start */
            a.start = designated;
            rec.start = designated ? FOLD_BATCH_START_ANCHOR : FOLD_BATCH_START_COLD;
            if (designated == chain && chain) rec.start = FOLD_BATCH_START_SCENARIO;
        } else { /* from the anchor or the chain: again cold (doc/api/batch.md) */
            a.start = NULL;
            rec.start = FOLD_BATCH_START_COLD;
        }
        rec.warm_from = rec.start == FOLD_BATCH_START_SCENARIO ? chain_scenario : -1;
    }
    rec.solve_s = fold_time_now() - t0;
    fill_message(w->message, st);
    rec.solve_status = rec.status = st;
    rec.forward_status = info.status;
    rec.objective = st >= 0 ? info.objective : NAN;
    if (st >= 0 && d->record) record_hooks(w, state, &rec, st);
    rec.message = w->message;
    struct rusage ru;
    rec.worker_peak_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
    fold_bt_put_record(&w->out, &rec, (flags & FOLD_BT_EMIT) != 0);
    send_or_die(w, &w->out);
    if (st < 0) {
        release(w, state);
        return NULL;
    }
    if (keep && !kept_put(&w->kept, rec.key, state)) {
        release(w, state); /* out of memory: a backward call on it says so */
        return NULL;
    }
    /* held for later runs (job.carry); kept states stay owned by their key until released */
    fold_bt_carry_add(&w->held, w->p, state, keep ? rec.key : -1, rec.scenario, !keep);
    return state;
}

static void run_chunk(worker *w, const fold_bt_buf *msg)
{
    fold_bt_reader r;
    fold_bt_reader_init(&r, msg->data, msg->len);
    (void)fold_bt_get_i64(&r); /* chunk id */
    fold_int n = fold_bt_get_i64(&r);
    bool keep = fold_bt_get_u8(&r) != 0;
    void *chain = NULL;
    fold_int chain_scenario = -1, np = w->def->np;
    double *chain_p = w->chain_p;
    for (fold_int k = 0; k < n && !r.bad; k++) {
        fold_bt_reader peek = r;
        fold_int scenario = fold_bt_get_i64(&peek);
        void *state = member(w, &r, keep, k == 0, chain, chain_p, chain_scenario);
        if (!state) continue; /* a failed scenario: the chain goes on from the last converged one */
        if (!keep && !fold_bt_carry_holds(&w->held, chain)) release(w, chain);
        chain = state;
        chain_scenario = scenario;
        if (np) memcpy(chain_p, w->p, (size_t)np * sizeof *chain_p);
    }
    if (!keep && !fold_bt_carry_holds(&w->held, chain)) release(w, chain);
}

static void set_run(worker *w, const fold_bt_buf *msg)
{
    fold_bt_reader r;
    fold_bt_reader_init(&r, msg->data, msg->len);
    (void)fold_bt_get_i64(&r); /* run id */
    fold_bt_carry_run(&w->held, fold_bt_get_u8(&r) != 0);
    bool has = fold_bt_get_u8(&r) != 0;
    fold_int np = w->def->np;
    const unsigned char *a = has ? fold_bt_get_raw(&r, (size_t)np * sizeof(double)) : NULL;
    /* a new anchor (or none): the old solution no longer serves */
    if (!has || !w->has_anchor || (np && memcmp(a, w->anchor_p, (size_t)np * sizeof(double)))) {
        release(w, w->anchor_state);
        w->anchor_state = NULL;
        w->anchor_tried = false;
        if (has && np) memcpy(w->anchor_p, a, (size_t)np * sizeof(double));
    }
    w->has_anchor = has;
}

/* A backward request on a kept state; answers with RESULT. */
static void request(worker *w, int type, const fold_bt_buf *msg)
{
    const fold_batch_model *d = w->def;
    fold_bt_reader r;
    fold_bt_reader_init(&r, msg->data, msg->len);
    fold_int req = fold_bt_get_i64(&r), key = fold_bt_get_i64(&r), count = 0;
    void *state = kept_find(&w->kept, key, false);
    fold_status st = FOLD_ERR_UNSUPPORTED;
    double *in = NULL, *out = NULL;
    fold_int *rows = NULL, *cols = NULL;
    char msgbuf[FOLD_BATCH_MESSAGE_LEN] = "";
    if (type == FOLD_BT_MSG_JACOBIAN) {
        fold_int nr = fold_bt_get_i64(&r), nc = 0;
        rows = malloc(((size_t)(nr > 0 ? nr : 0) + 1) * sizeof *rows);
        if (rows && nr >= 0 && !r.bad) {
            const unsigned char *p = fold_bt_get_raw(&r, (size_t)nr * sizeof *rows);
            if (p) memcpy(rows, p, (size_t)nr * sizeof *rows);
            nc = fold_bt_get_i64(&r);
            cols = malloc(((size_t)(nc > 0 ? nc : 0) + 1) * sizeof *cols);
            p = cols && nc >= 0 ? fold_bt_get_raw(&r, (size_t)nc * sizeof *cols) : NULL;
            if (p) memcpy(cols, p, (size_t)nc * sizeof *cols);
        }
        count = nr * nc;
        out = malloc(((size_t)(count > 0 ? count : 0) + 1) * sizeof *out);
        if (!state)
            st = FOLD_ERR_NOT_SOLVED;
        else if (!rows || !cols || !out || r.bad)
            st = FOLD_ERR_MEMORY;
        else if (d->jacobian)
            st = d->jacobian(w->model, state, nr, rows, nc, cols, out, msgbuf);
    } else {
        bool vjp = type == FOLD_BT_MSG_VJP;
        fold_int n_in = vjp ? d->n_out : d->np;
        count = vjp ? d->np : d->n_out;
        in = malloc(((size_t)n_in + 1) * sizeof *in);
        out = malloc(((size_t)count + 1) * sizeof *out);
        if (in) fold_bt_get_f64s(&r, in, n_in);
        if (!state)
            st = FOLD_ERR_NOT_SOLVED;
        else if (!in || !out || r.bad)
            st = FOLD_ERR_MEMORY;
        else if (vjp && d->vjp)
            st = d->vjp(w->model, state, in, out, msgbuf);
        else if (!vjp && d->jvp)
            st = d->jvp(w->model, state, in, out, msgbuf);
    }
    if (!state)
        snprintf(msgbuf, sizeof msgbuf, "no kept state for key %lld (released, or never solved)",
                 (long long)key);
    else if (st == FOLD_ERR_UNSUPPORTED && !msgbuf[0])
        snprintf(msgbuf, sizeof msgbuf, "the model has no %s hook",
                 type == FOLD_BT_MSG_VJP   ? "vjp"
                 : type == FOLD_BT_MSG_JVP ? "jvp"
                                           : "jacobian");
    fill_message(msgbuf, st);
    const fold_trust_item *items = NULL;
    fold_int n_items = 0;
    if (st >= 0 && d->trust && d->trust(w->model, state, &items, &n_items) != FOLD_OK) items = NULL;
    fold_bt_begin(&w->out, FOLD_BT_MSG_RESULT);
    fold_bt_put_i64(&w->out, req);
    fold_bt_put_i64(&w->out, st);
    fold_bt_put_str(&w->out, msgbuf);
    fold_bt_put_i64(&w->out, st >= 0 ? count : 0);
    if (st >= 0) fold_bt_put_f64s(&w->out, out, count);
    fold_bt_put_trust(&w->out, items, n_items);
    fold_bt_finish(&w->out);
    free(in);
    free(out);
    free(rows);
    free(cols);
    send_or_die(w, &w->out);
}

static void release_keys(worker *w, const fold_bt_buf *msg)
{
    fold_bt_reader r;
    fold_bt_reader_init(&r, msg->data, msg->len);
    fold_int n = fold_bt_get_i64(&r);
    if (n < 0) {
        release_all(w);
        return;
    }
    for (fold_int k = 0; k < n && !r.bad; k++) {
        fold_int key = fold_bt_get_i64(&r);
        release_kept(w, kept_find(&w->kept, key, true));
    }
}

static void quit(worker *w, int code)
{
    release_all(w);
    fold_bt_carry_free(&w->held);
    release(w, w->anchor_state);
    if (w->model && w->def->destroy) w->def->destroy(w->model);
    _exit(code);
}

void fold_bt_worker_main(const fold_batch_model *model, int fd)
{
    worker w = {.def = model, .fd = fd};
    pid_t parent = getppid();
    /* die with the parent, whatever it is doing when it goes */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(3);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    /* One process per core: the libraries' own thread pools run one thread each, which also
     * keeps results independent of the pool sizes. */
    (void)fold_set_library_threads(1);
    size_t np = (size_t)model->np + 1;
    w.p = malloc(np * sizeof *w.p);
    w.anchor_p = malloc(np * sizeof *w.anchor_p);
    w.chain_p = malloc(np * sizeof *w.chain_p);
    w.outputs = malloc(((size_t)model->n_out + 1) * sizeof *w.outputs);
    w.sens = malloc(((size_t)model->n_sens + 1) * sizeof *w.sens);
    fold_status st = FOLD_ERR_MEMORY;
    w.message[0] = '\0';
    if (w.p && w.anchor_p && w.chain_p && w.outputs && w.sens)
        st = model->create(model->user_data, &w.model, w.message);
    else
        snprintf(w.message, sizeof w.message, "worker: out of memory");
    fold_bt_carry_init(&w.held, model, st < 0 ? NULL : w.model);
    if (st < 0) {
        fill_message(w.message, st);
        fold_bt_begin(&w.out, FOLD_BT_MSG_FATAL);
        fold_bt_put_i64(&w.out, st);
        fold_bt_put_str(&w.out, w.message);
        fold_bt_finish(&w.out);
        send_or_die(&w, &w.out);
        w.model = NULL;
        quit(&w, 2);
    }
    for (;;) {
        int type;
        if (fold_bt_recv_msg(fd, &w.in, &type)) quit(&w, 0); /* the parent closed the socket */
        switch (type) {
        case FOLD_BT_MSG_RUN:
            set_run(&w, &w.in);
            break;
        case FOLD_BT_MSG_CHUNK:
            run_chunk(&w, &w.in);
            break;
        case FOLD_BT_MSG_VJP:
        case FOLD_BT_MSG_JVP:
        case FOLD_BT_MSG_JACOBIAN:
            request(&w, type, &w.in);
            break;
        case FOLD_BT_MSG_RELEASE:
            release_keys(&w, &w.in);
            break;
        default:
            quit(&w, 0);
        }
    }
}
