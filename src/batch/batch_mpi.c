/* Scenario batches over MPI ranks (doc/api/batch.md, "MPI"). Rank 0 plans the chains and
 * runs its own workers; the other ranks ask it for chains as their workers free up (dynamic
 * assignment), run them on their workers and send every record back. All messages are
 * non-blocking, and every rank polls (its workers and MPI) so that none waits in a busy MPI
 * call; the run ends with STOP from rank 0 and BYE from each rank, after which no message
 * is in flight. */
#include <time.h>

#include "batch/batch_internal.h"
#include "foldopt/batch_mpi.h"

enum {
    TAG_REQUEST = 7101,
    TAG_CHUNK,
    TAG_NOMORE,
    TAG_RECORD,
    TAG_DONE,
    TAG_ABORT,
    TAG_STOP,
    TAG_BYE
};

#define POLL_S 0.001 /* wait for worker events between looks at MPI */

typedef struct sends {
    MPI_Request *req;
    fold_bt_buf *buf;
    int n, cap;
} sends;

typedef struct mpi_run {
    fold_batch *b;
    MPI_Comm comm;
    int rank, size;
    sends out;
    fold_bt_buf in;
    fold_status err;
    /* rank 0 */
    const fold_batch_job *job;
    fold_bt_plan plan;
    fold_bt_tally tally;
    fold_int next;
    int byes;
    /* other ranks */
    fold_int requested;
    bool no_more, stop, aborted;
} mpi_run;

/* Send a buffer (moved into the list) without waiting for it. */
static fold_status isend(mpi_run *m, int dest, int tag, fold_bt_buf *buf)
{
    sends *s = &m->out;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        MPI_Request *r = realloc(s->req, (size_t)cap * sizeof *r);
        if (r) s->req = r;
        fold_bt_buf *b = r ? realloc(s->buf, (size_t)cap * sizeof *b) : NULL;
        if (!b) return fold_error(FOLD_ERR_MEMORY, "fold_batch_run_mpi: out of memory");
        s->buf = b;
        s->cap = cap;
    }
    s->buf[s->n] = *buf;
    memset(buf, 0, sizeof *buf);
    fold_bt_buf *mine = &s->buf[s->n];
    MPI_Isend(mine->data, (int)mine->len, MPI_BYTE, dest, tag, m->comm, &s->req[s->n]);
    s->n++;
    return FOLD_OK;
}

static fold_status isend_bytes(mpi_run *m, int dest, int tag, const void *data, size_t len)
{
    fold_bt_buf b = {0};
    fold_bt_put_bytes(&b, data, len);
    if (len == 0)
        fold_bt_put_u8(&b, 0); /* MPI accepts empty messages; a byte keeps buffers non-NULL */
    if (b.failed) return fold_error(FOLD_ERR_MEMORY, "fold_batch_run_mpi: out of memory");
    return isend(m, dest, tag, &b);
}

/* Free the buffers of completed sends. */
static void test_sends(sends *s)
{
    for (int k = 0; k < s->n;) {
        int done = 0;
        MPI_Test(&s->req[k], &done, MPI_STATUS_IGNORE);
        if (!done) {
            k++;
            continue;
        }
        fold_bt_buf_free(&s->buf[k]);
        s->req[k] = s->req[s->n - 1];
        s->buf[k] = s->buf[s->n - 1];
        s->n--;
    }
}

static void wait_sends(sends *s)
{
    if (s->n) MPI_Waitall(s->n, s->req, MPI_STATUSES_IGNORE);
    for (int k = 0; k < s->n; k++)
        fold_bt_buf_free(&s->buf[k]);
    free(s->req);
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* Receive the message Iprobe found into m->in; false when out of memory. */
static bool receive(mpi_run *m, const MPI_Status *ps)
{
    int count = 0;
    MPI_Get_count(ps, MPI_BYTE, &count);
    fold_bt_buf_reset(&m->in);
    if (!fold_bt_reserve(&m->in, (size_t)count + 1)) return false;
    MPI_Recv(m->in.data, count, MPI_BYTE, ps->MPI_SOURCE, ps->MPI_TAG, m->comm, MPI_STATUS_IGNORE);
    m->in.len = (size_t)count;
    return true;
}

static fold_status abort_message(mpi_run *m, int from)
{
    fold_bt_reader r;
    char msg[FOLD_BATCH_MESSAGE_LEN];
    fold_bt_reader_init(&r, m->in.data, m->in.len);
    fold_status st = (fold_status)fold_bt_get_i64(&r);
    fold_bt_get_str(&r, msg, sizeof msg);
    return fold_error(st < 0 ? st : FOLD_ERR_INTERNAL, "rank %d: %s", from, msg);
}

/* ---- rank 0 ---- */

static fold_status root_record(void *ctx, const fold_batch_record *rec, bool emit,
                               const unsigned char *payload, size_t len)
{
    (void)payload;
    (void)len;
    return fold_bt_deliver(&((mpi_run *)ctx)->tally, rec, emit);
}

static void root_chunk_done(void *ctx, fold_int chunk_id)
{
    (void)chunk_id;
    ((mpi_run *)ctx)->tally.chunks_left--;
}

/* Answer a rank's request for k chains: up to k chunks, then NOMORE when short. */
static fold_status serve_request(mpi_run *m, int to, fold_int k)
{
    fold_bt_buf c = {0};
    fold_status st = FOLD_OK;
    for (fold_int i = 0; !st && i < k; i++) {
        if (m->next >= m->plan.n_chunks) return isend_bytes(m, to, TAG_NOMORE, NULL, 0);
        st = fold_bt_encode_chunk(m->job, m->b->model.np, &m->plan.chunks[m->next++], false, &c);
        if (!st) st = isend(m, to, TAG_CHUNK, &c);
    }
    fold_bt_buf_free(&c);
    return st;
}

/* Every message waiting for rank 0. */
static fold_status root_messages(mpi_run *m)
{
    fold_status st = FOLD_OK;
    for (;;) {
        int flag = 0;
        MPI_Status ps;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, m->comm, &flag, &ps);
        if (!flag) return st;
        if (!receive(m, &ps))
            return fold_error(FOLD_ERR_MEMORY, "fold_batch_run_mpi: out of memory");
        fold_bt_reader r;
        fold_bt_reader_init(&r, m->in.data, m->in.len);
        if (ps.MPI_TAG == TAG_BYE) {
            m->byes++;
        } else if (m->stop || st) {
            continue; /* stopping: what still arrives is dropped */
        } else if (ps.MPI_TAG == TAG_REQUEST) {
            st = serve_request(m, ps.MPI_SOURCE, fold_bt_get_i64(&r));
        } else if (ps.MPI_TAG == TAG_RECORD) {
            fold_batch_record rec;
            bool emit;
            if (!fold_bt_get_record(&r, &rec, &emit, &m->b->store))
                st = fold_error(FOLD_ERR_INTERNAL,
                                "fold_batch_run_mpi: malformed record from "
                                "rank %d",
                                ps.MPI_SOURCE);
            else
                st = fold_bt_deliver(&m->tally, &rec, emit);
        } else if (ps.MPI_TAG == TAG_DONE) {
            m->tally.chunks_left--;
        } else if (ps.MPI_TAG == TAG_ABORT) {
            st = abort_message(m, ps.MPI_SOURCE);
        }
    }
}

static fold_status root_loop(mpi_run *m)
{
    fold_batch *b = m->b;
    fold_bt_buf msg = {0};
    fold_status st = FOLD_OK;
    while (!st) {
        fold_bt_worker *w;
        while (!st && (w = fold_bt_pool_idle(b))) {
            if (!fold_bt_pool_pop_pending(b, &msg)) {
                if (m->next >= m->plan.n_chunks) break;
                st = fold_bt_encode_chunk(m->job, b->model.np, &m->plan.chunks[m->next++], false,
                                          &msg);
            }
            if (!st) st = fold_bt_pool_dispatch(b, w, &msg);
        }
        if (!st) st = root_messages(m);
        test_sends(&m->out);
        if (st || (m->tally.chunks_left <= 0 && b->n_pending == 0)) break;
        st = fold_bt_pool_poll(b, POLL_S);
    }
    fold_bt_buf_free(&msg);
    /* STOP to every rank, then take what they still send until each says BYE */
    m->stop = true;
    for (int r = 1; r < m->size; r++) {
        fold_status ss = isend_bytes(m, r, TAG_STOP, NULL, 0);
        if (!st) st = ss;
    }
    while (m->byes < m->size - 1) {
        fold_status ms = root_messages(m);
        if (!st) st = ms;
        test_sends(&m->out);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    return st;
}

/* ---- the other ranks ---- */

static fold_status rank_record(void *ctx, const fold_batch_record *rec, bool emit,
                               const unsigned char *payload, size_t len)
{
    (void)rec;
    (void)emit;
    return isend_bytes(ctx, 0, TAG_RECORD, payload, len);
}

static void rank_chunk_done(void *ctx, fold_int chunk_id)
{
    mpi_run *m = ctx;
    fold_bt_buf b = {0};
    fold_bt_put_i64(&b, chunk_id);
    if (!b.failed && !m->err) m->err = isend(m, 0, TAG_DONE, &b);
    fold_bt_buf_free(&b);
}

static int n_idle(const fold_batch *b)
{
    int n = 0;
    for (int i = 0; i < b->n_workers; i++)
        n += b->w[i].fd >= 0 && b->w[i].state == FOLD_BT_IDLE && !b->w[i].fatal;
    return n;
}

static fold_status rank_messages(mpi_run *m)
{
    fold_batch *b = m->b;
    fold_status st = FOLD_OK;
    for (;;) {
        int flag = 0;
        MPI_Status ps;
        MPI_Iprobe(0, MPI_ANY_TAG, m->comm, &flag, &ps);
        if (!flag) return st;
        if (!receive(m, &ps))
            return fold_error(FOLD_ERR_MEMORY, "fold_batch_run_mpi: out of memory");
        if (ps.MPI_TAG == TAG_STOP) {
            m->stop = true;
            return st;
        } else if (ps.MPI_TAG == TAG_NOMORE) {
            m->no_more = true;
            m->requested = 0;
        } else if (ps.MPI_TAG == TAG_CHUNK && !m->aborted) {
            m->requested--;
            fold_bt_worker *w = fold_bt_pool_idle(b);
            fold_bt_buf c = m->in; /* the chunk message, as rank 0 encoded it */
            memset(&m->in, 0, sizeof m->in);
            st = w ? fold_bt_pool_dispatch(b, w, &c) : fold_bt_pool_push_pending(b, &c);
            fold_bt_buf_free(&c);
        }
    }
}

static void rank_abort(mpi_run *m, fold_status st)
{
    fold_bt_buf a = {0};
    fold_bt_put_i64(&a, st);
    fold_bt_put_str(&a, fold_last_error());
    if (!a.failed) isend(m, 0, TAG_ABORT, &a);
    fold_bt_buf_free(&a);
    m->aborted = true;
}

static void rank_loop(mpi_run *m)
{
    fold_batch *b = m->b;
    fold_bt_buf msg = {0};
    while (!m->stop) {
        fold_status st = FOLD_OK;
        fold_bt_worker *w;
        while (!m->aborted && (w = fold_bt_pool_idle(b)) && fold_bt_pool_pop_pending(b, &msg))
            st = fold_bt_pool_dispatch(b, w, &msg);
        int want = n_idle(b) - (int)m->requested - (int)b->n_pending;
        if (!st && !m->aborted && !m->no_more && want > 0) {
            fold_bt_buf q = {0};
            fold_bt_put_i64(&q, want);
            if (!(st = q.failed ? FOLD_ERR_MEMORY : isend(m, 0, TAG_REQUEST, &q)))
                m->requested += want;
            fold_bt_buf_free(&q);
        }
        if (!st) st = rank_messages(m);
        test_sends(&m->out);
        if (!st && !m->stop) st = fold_bt_pool_poll(b, POLL_S);
        if (!st && m->err) st = m->err;
        if (st && !m->aborted) rank_abort(m, st);
    }
    fold_bt_buf_free(&msg);
}

/* ---- both ---- */

static fold_status setup(mpi_run *m, const fold_batch_job *job)
{
    fold_batch *b = m->b;
    long long np[2] = {b->model.np, -b->model.np}, ext[2];
    MPI_Allreduce(np, ext, 2, MPI_LONG_LONG, MPI_MAX, m->comm);
    fold_status st = FOLD_OK;
    if (ext[0] != -ext[1])
        st = fold_error(FOLD_ERR_DIMENSION,
                        "fold_batch_run_mpi: the ranks' models have "
                        "different parameter counts (%lld to %lld)",
                        -ext[1], ext[0]);
    if (!st && m->rank == 0) {
        if (!(st = fold_bt_check_job(b, job)) && (job->keep || job->carry))
            st = fold_error(FOLD_ERR_UNSUPPORTED,
                            "fold_batch_run_mpi: %s runs on one process "
                            "(fold_batch_run)",
                            job->keep ? "keep mode" : "job.carry");
        if (!st)
            st = fold_bt_plan_make(job, b->model.np, b->opt.chunk_size, b->opt.warm, 0, &m->plan);
    }
    int head[2] = {st, m->plan.anchor != NULL};
    MPI_Bcast(head, 2, MPI_INT, 0, m->comm);
    if (m->rank != 0 && head[0] < 0)
        st = fold_error(FOLD_ERR_ARGUMENT, "fold_batch_run_mpi: rank 0 refused the job");
    if (head[0] < 0 || st) return st ? st : (fold_status)head[0];
    double *anchor = m->plan.anchor;
    if (head[1] && m->rank != 0 && !(anchor = malloc(((size_t)b->model.np + 1) * sizeof *anchor)))
        return fold_error(FOLD_ERR_MEMORY, "fold_batch_run_mpi: out of memory");
    if (head[1]) MPI_Bcast(anchor, (int)b->model.np, MPI_DOUBLE, 0, m->comm);
    st = fold_bt_set_run(b, head[1] ? anchor : NULL, false);
    if (anchor != m->plan.anchor) free(anchor);
    return st;
}

static fold_status run_mpi(fold_batch *b, MPI_Comm comm, const fold_batch_job *job,
                           fold_batch_info *info)
{
    mpi_run m = {.b = b, .comm = comm, .job = job};
    if (!b) return fold_error(FOLD_ERR_ARGUMENT, "fold_batch_run_mpi: batch is NULL");
    MPI_Comm_rank(comm, &m.rank);
    MPI_Comm_size(comm, &m.size);
    if (m.size == 1) return fold_batch_run(b, job, info);
    fold_status st = setup(&m, job);
    if (st) {
        fold_bt_plan_free(&m.plan);
        return st;
    }
    b->n_chunks_sent = b->n_respawned = 0;
    b->peak_kb = 0;
    if (m.rank == 0) {
        fold_bt_tally_init(&m.tally, job, info, m.plan.n_emit, m.plan.n_chunks);
        b->sink = (fold_bt_sink){.record = root_record, .chunk_done = root_chunk_done, .ctx = &m};
        st = root_loop(&m);
    } else {
        b->sink = (fold_bt_sink){.record = rank_record, .chunk_done = rank_chunk_done, .ctx = &m};
        rank_loop(&m);
        fold_bt_buf bye = {0};
        fold_bt_put_u8(&bye, 0);
        isend(&m, 0, TAG_BYE, &bye);
    }
    if (fold_bt_pool_n_busy(b) > 0 || b->n_pending > 0)
        fold_bt_pool_reset_busy(b); /* a stopped run: abandon what was in progress */
    b->sink = (fold_bt_sink){0};
    wait_sends(&m.out);
    fold_bt_buf_free(&m.in);
    fold_bt_plan_free(&m.plan);
    /* one outcome and the counts of every rank */
    int code = st;
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    long long mine[4] = {b->n_chunks_sent, b->n_respawned, b->n_workers, 0}, sum[4];
    long long peak = b->peak_kb, peak_all = 0;
    MPI_Reduce(mine, sum, 4, MPI_LONG_LONG, MPI_SUM, 0, comm);
    MPI_Reduce(&peak, &peak_all, 1, MPI_LONG_LONG, MPI_MAX, 0, comm);
    if (m.rank == 0) {
        info->n_chunks = sum[0];
        info->n_respawned = sum[1];
        info->n_workers = (int)sum[2];
        info->n_ranks = m.size;
        info->wall_s = fold_time_now() - m.tally.t0;
        if (peak_all > info->worker_peak_kb) info->worker_peak_kb = (long)peak_all;
        return st;
    }
    return code < 0 ? fold_error((fold_status)code, "fold_batch_run_mpi: the run stopped on "
                                                    "another rank")
                    : FOLD_OK;
}

fold_status fold_batch_run_mpi(fold_batch *b, MPI_Comm comm, const fold_batch_job *job,
                               fold_batch_info *info)
{
    fold_clear_error();
    fold_batch_info full = FOLD_BATCH_INFO_INIT;
    fold_status st = fold_sized_open(info, &full, sizeof full, FOLD_BATCH_INFO_V1,
                                     "fold_batch_info", "FOLD_BATCH_INFO_INIT");
    if (st < 0) return st;
    st = run_mpi(b, comm, job, &full);
    fold_sized_close(info, &full, sizeof full);
    return st;
}
