/* Scenario engine internals: wire format between processes, chain planning, the worker loop
 * and the parent's pool of workers (doc/api/batch.md). */
#ifndef FOLD_BATCH_INTERNAL_H
#define FOLD_BATCH_INTERNAL_H

#include <poll.h>
#include <sys/types.h>

#include "core/core.h"
#include "foldopt/batch.h"

/* ---- wire format (batch_wire.c): [u32 payload length][u8 type][payload], little-endian
 * host order (all processes of a run share one binary and machine type) ---- */

enum {
    FOLD_BT_MSG_RUN = 1, /* parent -> worker: run id, keep, anchor */
    FOLD_BT_MSG_CHUNK,   /* parent -> worker: a chain of scenarios with parameters */
    FOLD_BT_MSG_VJP,     /* parent -> worker: backward requests on kept states */
    FOLD_BT_MSG_JVP,
    FOLD_BT_MSG_JACOBIAN,
    FOLD_BT_MSG_RELEASE, /* parent -> worker: free kept states */
    FOLD_BT_MSG_QUIT,
    FOLD_BT_MSG_BEGIN,  /* worker -> parent: a scenario (or the anchor, -1) starts */
    FOLD_BT_MSG_RECORD, /* worker -> parent (and rank -> rank 0): a scenario's record */
    FOLD_BT_MSG_RESULT, /* worker -> parent: a backward request's result */
    FOLD_BT_MSG_FATAL   /* worker -> parent: the model could not be built */
};

/* Member flags in a chunk: recorded or silent, and the designated start. */
enum { FOLD_BT_EMIT = 1, FOLD_BT_FROM_PREV = 2, FOLD_BT_FROM_ANCHOR = 4 };

typedef struct fold_bt_buf {
    unsigned char *data;
    size_t len, cap;
    bool failed; /* an allocation failed: the buffer is unusable */
} fold_bt_buf;

typedef struct fold_bt_reader {
    const unsigned char *p;
    size_t left;
    bool bad; /* read past the end */
} fold_bt_reader;

void fold_bt_buf_reset(fold_bt_buf *b);
/* Room for extra more bytes; false (and b->failed) when out of memory. */
bool fold_bt_reserve(fold_bt_buf *b, size_t extra);
void fold_bt_buf_free(fold_bt_buf *b);
void fold_bt_put_u8(fold_bt_buf *b, unsigned v);
void fold_bt_put_i64(fold_bt_buf *b, int64_t v);
void fold_bt_put_f64(fold_bt_buf *b, double v);
void fold_bt_put_f64s(fold_bt_buf *b, const double *v, fold_int n);
void fold_bt_put_i64s(fold_bt_buf *b, const fold_int *v, fold_int n);
void fold_bt_put_str(fold_bt_buf *b, const char *s);
void fold_bt_put_bytes(fold_bt_buf *b, const void *v, size_t n);
/* Start a message of a type (reserves the header); fold_bt_finish writes the length. */
void fold_bt_begin(fold_bt_buf *b, int type);
void fold_bt_finish(fold_bt_buf *b);

void fold_bt_reader_init(fold_bt_reader *r, const void *data, size_t len);
unsigned fold_bt_get_u8(fold_bt_reader *r);
int64_t fold_bt_get_i64(fold_bt_reader *r);
double fold_bt_get_f64(fold_bt_reader *r);
/* Pointer to n doubles / fold_ints in the message (unaligned: copy with memcpy), or NULL. */
const unsigned char *fold_bt_get_raw(fold_bt_reader *r, size_t n);
void fold_bt_get_f64s(fold_bt_reader *r, double *out, fold_int n);
void fold_bt_get_str(fold_bt_reader *r, char *out, size_t cap);

/* Write a whole buffer to a socket (no SIGPIPE); 0 ok, -1 peer gone. */
int fold_bt_send_all(int fd, const void *data, size_t len);
/* Blocking read of one message (worker side): type, payload in *b; 0 ok, -1 EOF/error. */
int fold_bt_recv_msg(int fd, fold_bt_buf *b, int *type);
/* Non-blocking side: read what is available into b (appending); 1 data, 0 EOF, -1 error,
 * 2 nothing available. */
int fold_bt_read_some(int fd, fold_bt_buf *b);
/* Next complete message at the start of b: 1 (type, payload, size consumed), 0 none yet. */
int fold_bt_next_msg(const fold_bt_buf *b, int *type, const unsigned char **payload,
                     size_t *payload_len, size_t *consumed);
void fold_bt_consume(fold_bt_buf *b, size_t n);

/* ---- trust reports (batch_trust.c) ---- */

/* A decoded report: items with their own names and affected lists. */
typedef struct fold_bt_trust {
    fold_trust_item *items;
    fold_int n;
} fold_bt_trust;
void fold_bt_put_trust(fold_bt_buf *b, const fold_trust_item *items, fold_int n);
/* Decode into t (its previous items freed); false on a malformed report or no memory. */
bool fold_bt_get_trust(fold_bt_reader *r, fold_bt_trust *t);
void fold_bt_trust_free(fold_bt_trust *t);

/* ---- records (batch_record.c) ---- */

/* Encode a record message (FOLD_BT_MSG_RECORD) into b; `emit` false marks a silent one. */
void fold_bt_put_record(fold_bt_buf *b, const fold_batch_record *rec, bool emit);
/* Decode a record payload; outputs/sens/message point into storage owned by `store`. */
typedef struct fold_bt_record_store {
    double *outputs, *sens;
    fold_int cap_out, cap_sens;
    char message[FOLD_BATCH_MESSAGE_LEN];
    fold_bt_trust trust;
    fold_backward_info backward;
} fold_bt_record_store;
bool fold_bt_get_record(fold_bt_reader *r, fold_batch_record *rec, bool *emit,
                        fold_bt_record_store *store);
void fold_bt_record_store_free(fold_bt_record_store *s);
/* A record without hook results: crashed or timed out (outcome), or failed before the
 * solve. */
void fold_bt_record_failed(fold_batch_record *rec, fold_int scenario, fold_int key, int outcome,
                           fold_status status, const char *message);

/* ---- chain planning (batch_order.c) ---- */

typedef struct fold_bt_member {
    fold_int scenario, key;
    unsigned char flags; /* FOLD_BT_EMIT | FOLD_BT_FROM_* */
} fold_bt_member;

typedef struct fold_bt_chunk {
    fold_int id, n;
    fold_bt_member *m;
} fold_bt_chunk;

typedef struct fold_bt_plan {
    fold_int n_chunks;
    fold_bt_chunk *chunks;
    fold_bt_member *members; /* storage of all chunks' members */
    double *anchor;          /* np, or NULL: no anchor */
    fold_int n_emit, n_silent;
} fold_bt_plan;

/* Order the job's scenarios into chains (doc/api/batch.md, "Chains"). np parameters,
 * chunk size, warm mode; keys (keep mode) numbered from first_key. */
fold_status fold_bt_plan_make(const fold_batch_job *job, fold_int np, fold_int chunk_size, int warm,
                              fold_int first_key, fold_bt_plan *plan);
void fold_bt_plan_free(fold_bt_plan *plan);
/* Parameters of a scenario (the job's callback or array), checked finite. */
fold_status fold_bt_job_params(const fold_batch_job *job, fold_int np, fold_int scenario,
                               double *p);

/* Encode a chunk message: header and members with their parameters. */
fold_status fold_bt_encode_chunk(const fold_batch_job *job, fold_int np, const fold_bt_chunk *c,
                                 bool keep, fold_bt_buf *b);

/* ---- warm starts across runs (batch_carry.c), in the worker ---- */

/* A solution held for later runs. */
typedef struct fold_bt_held {
    double *p; /* its parameters (np) */
    void *state;
    fold_int key;      /* keep mode: its key (-1: none) */
    fold_int scenario; /* its index in its run */
    bool owned;        /* the list frees it (it is not, or no longer, kept under key) */
} fold_bt_held;

typedef struct fold_bt_carry {
    const fold_batch_model *def;
    void *model;
    bool on;            /* the current run carries */
    fold_bt_held *prev; /* of the previous run with carry: start points */
    fold_bt_held *cur;  /* of the current run */
    fold_int n_prev, n_cur, cap_prev, cap_cur;
} fold_bt_carry;

void fold_bt_carry_init(fold_bt_carry *c, const fold_batch_model *def, void *model);
/* A new run: the current run's solutions become the start points (carry), or everything is
 * dropped (no carry). */
void fold_bt_carry_run(fold_bt_carry *c, bool carry);
/* Hold a converged state of the current run (false: not held, carry off or no memory). */
bool fold_bt_carry_add(fold_bt_carry *c, const double *p, void *state, fold_int key,
                       fold_int scenario, bool owned);
bool fold_bt_carry_holds(const fold_bt_carry *c, const void *state);
/* Its key was released: true when a held entry adopts the state (becomes its owner: the
 * caller must not free it). */
bool fold_bt_carry_adopt(fold_bt_carry *c, void *state);
/* The held start point nearest to p with squared distance below limit2, or NULL. */
const fold_bt_held *fold_bt_carry_nearest(const fold_bt_carry *c, const double *p, double limit2);
void fold_bt_carry_free(fold_bt_carry *c);
double fold_bt_distance2(const double *a, const double *b, fold_int n);

/* ---- the worker (batch_worker.c): runs in the child, never returns ---- */

void fold_bt_worker_main(const fold_batch_model *model, int fd) __attribute__((noreturn));

/* ---- the parent's pool (batch_pool.c) ---- */

enum { FOLD_BT_IDLE, FOLD_BT_CHUNK_BUSY, FOLD_BT_REQUEST_BUSY, FOLD_BT_DEAD };

typedef struct fold_bt_worker {
    int slot;
    pid_t pid;
    int fd;
    long generation; /* replacements of this slot so far */
    int state;
    bool killed;   /* we killed it (timeout, or a stopped run) */
    bool run_sent; /* this process has the current run's setup */
    bool fatal;    /* it reported that the model could not be built */
    fold_bt_buf in;
    /* the chunk in progress: its message (for a continuation) and members */
    fold_bt_buf chunk;
    fold_int chunk_id, chunk_n, next_pos;
    bool in_member;  /* BEGIN seen, RECORD not yet */
    fold_int member; /* scenario in progress (-1: the anchor) */
    double t_begin;
    /* the backward request in progress (keep mode) */
    fold_int req;
    bool progressed; /* finished a scenario or request since it was started */
    int state_before_death;
} fold_bt_worker;

/* Sink of the pool's events (set by the coordinator in use: local or MPI). */
typedef struct fold_bt_sink {
    /* a record from a worker or made for a crash/timeout: decoded, and its payload */
    fold_status (*record)(void *ctx, const fold_batch_record *rec, bool emit,
                          const unsigned char *payload, size_t len);
    /* a chunk finished on this process */
    void (*chunk_done)(void *ctx, fold_int chunk_id);
    /* a backward result (keep mode) with its trust report (NULL when none) */
    void (*result)(void *ctx, fold_int req, fold_status st, const char *msg, const double *values,
                   fold_int count, fold_bt_trust *trust);
    void *ctx;
} fold_bt_sink;

struct fold_batch {
    fold_batch_model model;
    fold_batch_options opt;
    int n_workers;
    fold_bt_worker *w;
    struct pollfd *pfd; /* n_workers */
    fold_int run_id;
    fold_bt_buf run_msg; /* the current run's setup, sent to every (new) worker */
    fold_bt_sink sink;
    /* continuations after crashes: chunk messages waiting for a worker */
    fold_bt_buf *pending;
    fold_int n_pending, cap_pending;
    fold_int n_respawned;
    fold_int n_start_deaths; /* workers dead before finishing anything (crash loop guard) */
    fold_int n_chunks_sent;
    long peak_kb;
    /* keep mode: key -> slot and generation of the worker holding it (-1: none) */
    fold_int next_key, cap_keys;
    int *key_slot;
    long *key_gen;
    fold_bt_record_store store;
    bool carry;           /* the run message's carry flag */
    fold_bt_trust *trust; /* per entry of the last backward call */
    fold_int n_trust;
};

/* Free the trust reports of the last backward call (batch_trust.c). */
void fold_bt_free_trust(fold_batch *b);

fold_status fold_bt_pool_start(fold_batch *b);
void fold_bt_pool_stop(fold_batch *b);
/* Hand a chunk message to an idle worker (the buffer is moved into the worker). */
fold_status fold_bt_pool_dispatch(fold_batch *b, fold_bt_worker *w, fold_bt_buf *chunk);
fold_bt_worker *fold_bt_pool_idle(fold_batch *b);
int fold_bt_pool_n_busy(const fold_batch *b);
/* Wait up to max_wait_s for worker events and handle them (records, results, crashes,
 * timeouts, replacements). Returns FOLD_OK or an error that stops the run. */
fold_status fold_bt_pool_poll(fold_batch *b, double max_wait_s);
/* Queue a continuation chunk message (moved) to be dispatched before new chunks. */
fold_status fold_bt_pool_push_pending(fold_batch *b, fold_bt_buf *chunk);
bool fold_bt_pool_pop_pending(fold_batch *b, fold_bt_buf *out);
/* Send a message to a worker; a dead peer is handled by the next poll. */
void fold_bt_pool_send(fold_bt_worker *w, const fold_bt_buf *msg);
/* Replace busy workers after a run was stopped (their chunks are abandoned). */
fold_status fold_bt_pool_reset_busy(fold_batch *b);

/* ---- run setup shared by the local and MPI coordinators (batch_run.c) ---- */

fold_status fold_bt_check_job(const fold_batch *b, const fold_batch_job *job);
/* Build b->run_msg (run id, anchor) for the workers' next chunk. */
fold_status fold_bt_set_run(fold_batch *b, const double *anchor, bool carry);
/* The anchor crashed or timed out: workers started from now on get none. */
void fold_bt_set_run_anchor_lost(fold_batch *b);

/* Counting and delivery of records to the job's callbacks (local run, MPI rank 0). */
typedef struct fold_bt_tally {
    const fold_batch_job *job;
    fold_batch_info *info;
    fold_batch_progress progress;
    double t0;
    fold_int chunks_left;
} fold_bt_tally;
void fold_bt_tally_init(fold_bt_tally *t, const fold_batch_job *job, fold_batch_info *info,
                        fold_int n_emit, fold_int n_chunks);
fold_status fold_bt_deliver(fold_bt_tally *t, const fold_batch_record *rec, bool emit);

#endif
