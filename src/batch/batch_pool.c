/* The parent's side of the worker processes: start and replace them, hand them chunks and
 * requests, read their messages, and turn a death (crash, or the kill of a timeout) into a
 * record for the scenario it was on and a continuation of its chain (doc/api/batch.md,
 * "Failures"). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch_internal.h"

#define MEMBER_HEAD 17 /* i64 scenario, i64 key, u8 flags */
#define CHUNK_HEAD 17  /* i64 id, i64 n, u8 keep */

static size_t member_size(const fold_batch *b)
{
    return MEMBER_HEAD + (size_t)b->model.np * sizeof(double);
}

static fold_status spawn(fold_batch *b, fold_bt_worker *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return fold_error(FOLD_ERR_INTERNAL, "fold_batch: socketpair: %s", strerror(errno));
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return fold_error(FOLD_ERR_INTERNAL, "fold_batch: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* the child keeps only its own socket of the pool's: a sibling holding another
         * worker's end would hide that worker's death from the parent */
        close(sv[0]);
        for (int i = 0; i < b->n_workers; i++)
            if (b->w[i].fd >= 0) close(b->w[i].fd);
        fold_bt_worker_main(&b->model, sv[1]);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    w->pid = pid;
    w->fd = sv[0];
    w->state = FOLD_BT_IDLE;
    w->killed = w->run_sent = w->fatal = w->in_member = w->progressed = false;
    fold_bt_buf_reset(&w->in);
    return FOLD_OK;
}

fold_status fold_bt_pool_start(fold_batch *b)
{
    for (int i = 0; i < b->n_workers; i++) {
        b->w[i].slot = i;
        b->w[i].fd = -1;
        b->w[i].state = FOLD_BT_DEAD;
    }
    for (int i = 0; i < b->n_workers; i++) {
        fold_status st = spawn(b, &b->w[i]);
        if (st) {
            fold_bt_pool_stop(b);
            return st;
        }
    }
    return FOLD_OK;
}

static void reap(fold_bt_worker *w, int *wstatus)
{
    *wstatus = 0;
    if (w->pid > 0) {
        while (waitpid(w->pid, wstatus, 0) < 0 && errno == EINTR)
            ;
    }
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    w->pid = 0;
    w->state = FOLD_BT_DEAD;
}

void fold_bt_pool_stop(fold_batch *b)
{
    fold_bt_buf q = {0};
    fold_bt_begin(&q, FOLD_BT_MSG_QUIT);
    fold_bt_finish(&q);
    for (int i = 0; i < b->n_workers; i++) {
        fold_bt_worker *w = &b->w[i];
        if (w->fd < 0) continue;
        if (w->state != FOLD_BT_IDLE) /* busy: no waiting for the end of its chunk */
            kill(w->pid, SIGKILL);
        else
            fold_bt_send_all(w->fd, q.data, q.len);
        int ws;
        reap(w, &ws);
    }
    fold_bt_buf_free(&q);
}

void fold_bt_pool_send(fold_bt_worker *w, const fold_bt_buf *msg)
{
    if (w->fd >= 0 && !msg->failed)
        fold_bt_send_all(w->fd, msg->data, msg->len); /* a dead peer shows at the next poll */
}

fold_bt_worker *fold_bt_pool_idle(fold_batch *b)
{
    for (int i = 0; i < b->n_workers; i++)
        if (b->w[i].fd >= 0 && b->w[i].state == FOLD_BT_IDLE && !b->w[i].fatal) return &b->w[i];
    return NULL;
}

int fold_bt_pool_n_busy(const fold_batch *b)
{
    int n = 0;
    for (int i = 0; i < b->n_workers; i++)
        n += b->w[i].state == FOLD_BT_CHUNK_BUSY || b->w[i].state == FOLD_BT_REQUEST_BUSY;
    return n;
}

static void member_at(const fold_batch *b, const fold_bt_worker *w, fold_int k, fold_int *scenario,
                      fold_int *key, unsigned *flags)
{
    fold_bt_reader r;
    size_t off = 5 + CHUNK_HEAD + (size_t)k * member_size(b);
    fold_bt_reader_init(&r, w->chunk.data + off, MEMBER_HEAD);
    *scenario = fold_bt_get_i64(&r);
    *key = fold_bt_get_i64(&r);
    *flags = fold_bt_get_u8(&r);
}

fold_status fold_bt_pool_dispatch(fold_batch *b, fold_bt_worker *w, fold_bt_buf *chunk)
{
    fold_bt_buf t = w->chunk;
    w->chunk = *chunk;
    *chunk = t;
    fold_bt_buf_reset(chunk);
    fold_bt_reader r;
    fold_bt_reader_init(&r, w->chunk.data + 5, w->chunk.len - 5);
    w->chunk_id = fold_bt_get_i64(&r);
    w->chunk_n = fold_bt_get_i64(&r);
    w->next_pos = 0;
    w->in_member = false;
    if (!w->run_sent) {
        fold_bt_pool_send(w, &b->run_msg);
        w->run_sent = true;
    }
    w->state = FOLD_BT_CHUNK_BUSY;
    w->t_begin = fold_time_now();
    w->member = -2; /* nothing started yet */
    b->n_chunks_sent++;
    fold_bt_pool_send(w, &w->chunk);
    return FOLD_OK;
}

fold_status fold_bt_pool_push_pending(fold_batch *b, fold_bt_buf *chunk)
{
    if (b->n_pending == b->cap_pending) {
        fold_int cap = b->cap_pending ? 2 * b->cap_pending : 8;
        fold_bt_buf *p = realloc(b->pending, (size_t)cap * sizeof *p);
        if (!p) return fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory");
        b->pending = p;
        b->cap_pending = cap;
    }
    b->pending[b->n_pending++] = *chunk;
    memset(chunk, 0, sizeof *chunk);
    return FOLD_OK;
}

bool fold_bt_pool_pop_pending(fold_batch *b, fold_bt_buf *out)
{
    if (b->n_pending == 0) return false;
    fold_bt_buf_free(out);
    *out = b->pending[0];
    memmove(b->pending, b->pending + 1, (size_t)(b->n_pending - 1) * sizeof *b->pending);
    b->n_pending--;
    return true;
}

/* The rest of a dead worker's chunk, from member `from` on, as a new chunk message. */
static fold_status continuation(fold_batch *b, fold_bt_worker *w, fold_int from)
{
    if (from >= w->chunk_n) {
        if (b->sink.chunk_done) b->sink.chunk_done(b->sink.ctx, w->chunk_id);
        return FOLD_OK;
    }
    fold_bt_buf c = {0};
    size_t ms = member_size(b);
    fold_bt_begin(&c, FOLD_BT_MSG_CHUNK);
    fold_bt_put_i64(&c, w->chunk_id);
    fold_bt_put_i64(&c, w->chunk_n - from);
    fold_bt_put_u8(&c, w->chunk.data[5 + 16]);
    fold_bt_put_bytes(&c, w->chunk.data + 5 + CHUNK_HEAD + (size_t)from * ms,
                      (size_t)(w->chunk_n - from) * ms);
    fold_bt_finish(&c);
    if (c.failed) {
        fold_bt_buf_free(&c);
        return fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory");
    }
    return fold_bt_pool_push_pending(b, &c);
}

static void death_message(const fold_batch *b, const fold_bt_worker *w, pid_t pid, int wstatus,
                          double busy_s, char *msg, size_t cap)
{
    if (w->killed)
        snprintf(msg, cap, "timed out: worker %d killed after %.3g s (scenario_timeout_s %g)",
                 w->slot, busy_s, b->opt.scenario_timeout_s);
    else if (WIFSIGNALED(wstatus))
        snprintf(msg, cap, "worker %d (pid %ld) killed by signal %d (%s)", w->slot, (long)pid,
                 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
    else if (WIFEXITED(wstatus))
        snprintf(msg, cap, "worker %d (pid %ld) exited with status %d", w->slot, (long)pid,
                 WEXITSTATUS(wstatus));
    else
        snprintf(msg, cap, "worker %d (pid %ld) died", w->slot, (long)pid);
}

/* A worker is gone: record the scenario it was on, queue the rest of its chain, fail its
 * request, lose its kept states (its generation changes), and replace it. */
static fold_status handle_death(fold_batch *b, fold_bt_worker *w)
{
    int ws;
    char msg[FOLD_BATCH_MESSAGE_LEN];
    double busy_s = fold_time_now() - w->t_begin;
    pid_t pid = w->pid;
    reap(w, &ws);
    death_message(b, w, pid, ws, busy_s, msg, sizeof msg);
    fold_status st = FOLD_OK;
    bool blamed = false; /* the death was charged to a scenario or a request */
    int prev = w->state_before_death;
    if (prev == FOLD_BT_CHUNK_BUSY) {
        fold_int from = w->next_pos;
        if (w->in_member && w->member >= 0) {
            fold_int scenario, key;
            unsigned flags;
            member_at(b, w, w->next_pos, &scenario, &key, &flags);
            fold_batch_record rec;
            fold_bt_record_failed(&rec, scenario, key,
                                  w->killed ? FOLD_BATCH_TIMED_OUT : FOLD_BATCH_CRASHED,
                                  FOLD_ERR_FORWARD_FAILED, msg);
            fold_bt_buf out = {0};
            fold_bt_put_record(&out, &rec, (flags & FOLD_BT_EMIT) != 0);
            st = out.failed ? fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory")
                            : b->sink.record(b->sink.ctx, &rec, (flags & FOLD_BT_EMIT) != 0,
                                             out.data + 5, out.len - 5);
            fold_bt_buf_free(&out);
            from++;
            blamed = true;
        } else if (w->in_member && w->member == -1) {
            fold_bt_set_run_anchor_lost(b); /* no anchor for this rank's next workers */
        }
        fold_status cs = continuation(b, w, from);
        if (!st) st = cs;
    } else if (prev == FOLD_BT_REQUEST_BUSY && b->sink.result) {
        b->sink.result(b->sink.ctx, w->req, FOLD_ERR_NOT_SOLVED, msg, NULL, 0, NULL);
        blamed = true;
    }
    w->generation++;
    /* deaths nothing explains (a model that cannot be built, a crash at start) must not
     * loop forever */
    if (!w->progressed && !blamed && ++b->n_start_deaths > 2 * (fold_int)b->n_workers + 2)
        return st ? st
                  : fold_error(FOLD_ERR_INTERNAL,
                               "fold_batch: workers keep dying before "
                               "finishing anything (last: %s)",
                               msg);
    if (w->fatal) return st;
    fold_status sp = spawn(b, w);
    b->n_respawned++;
    return st ? st : sp;
}

static fold_status handle_message(fold_batch *b, fold_bt_worker *w, int type,
                                  const unsigned char *payload, size_t len)
{
    fold_bt_reader r;
    fold_bt_reader_init(&r, payload, len);
    switch (type) {
    case FOLD_BT_MSG_BEGIN:
        w->member = fold_bt_get_i64(&r);
        w->in_member = true;
        w->t_begin = fold_time_now();
        return FOLD_OK;
    case FOLD_BT_MSG_RECORD: {
        fold_batch_record rec;
        bool emit;
        if (!fold_bt_get_record(&r, &rec, &emit, &b->store))
            return fold_error(FOLD_ERR_INTERNAL, "fold_batch: malformed record from worker %d",
                              w->slot);
        w->in_member = false;
        w->progressed = true;
        b->n_start_deaths = 0;
        w->next_pos++;
        if (rec.worker_peak_kb > b->peak_kb) b->peak_kb = rec.worker_peak_kb;
        if (rec.key >= 0 && rec.key < b->cap_keys) {
            b->key_slot[rec.key] = rec.solve_status >= 0 ? w->slot : -1; /* kept */
            b->key_gen[rec.key] = w->generation;
        }
        fold_status st = b->sink.record(b->sink.ctx, &rec, emit, payload, len);
        if (w->next_pos >= w->chunk_n) {
            w->state = FOLD_BT_IDLE;
            if (b->sink.chunk_done) b->sink.chunk_done(b->sink.ctx, w->chunk_id);
        }
        return st;
    }
    case FOLD_BT_MSG_RESULT: {
        fold_int req = fold_bt_get_i64(&r);
        fold_status st = (fold_status)fold_bt_get_i64(&r);
        char msg[FOLD_BATCH_MESSAGE_LEN];
        fold_bt_get_str(&r, msg, sizeof msg);
        fold_int count = fold_bt_get_i64(&r);
        const unsigned char *v = count > 0 ? fold_bt_get_raw(&r, (size_t)count * 8) : NULL;
        fold_bt_trust trust = {0};
        bool trust_ok = fold_bt_get_trust(&r, &trust);
        w->state = FOLD_BT_IDLE;
        w->progressed = true;
        if (r.bad || !trust_ok) {
            fold_bt_trust_free(&trust);
            return fold_error(r.bad ? FOLD_ERR_INTERNAL : FOLD_ERR_MEMORY,
                              "fold_batch: malformed result from worker %d (or no memory for "
                              "its trust report)",
                              w->slot);
        }
        if (b->sink.result)
            b->sink.result(b->sink.ctx, req, st, msg, (const double *)(const void *)v, count,
                           &trust);
        fold_bt_trust_free(&trust);
        return FOLD_OK;
    }
    case FOLD_BT_MSG_FATAL: {
        fold_status st = (fold_status)fold_bt_get_i64(&r);
        char msg[FOLD_BATCH_MESSAGE_LEN];
        fold_bt_get_str(&r, msg, sizeof msg);
        w->fatal = true;
        return fold_error(st < 0 ? st : FOLD_ERR_INTERNAL,
                          "fold_batch: worker %d could not "
                          "build the model%s%s: %s",
                          w->slot, b->model.name ? " " : "", b->model.name ? b->model.name : "",
                          msg);
    }
    default:
        return fold_error(FOLD_ERR_INTERNAL, "fold_batch: unknown message %d from worker %d", type,
                          w->slot);
    }
}

/* Read what a worker sent; handle complete messages; EOF means it died. */
static fold_status drain(fold_batch *b, fold_bt_worker *w)
{
    int rc = fold_bt_read_some(w->fd, &w->in);
    fold_status st = FOLD_OK;
    int type;
    const unsigned char *payload;
    size_t len, used;
    while (!st && fold_bt_next_msg(&w->in, &type, &payload, &len, &used)) {
        st = handle_message(b, w, type, payload, len);
        fold_bt_consume(&w->in, used);
    }
    if (rc <= 0 && !st) {
        w->state_before_death = w->state;
        return handle_death(b, w);
    }
    return st;
}

fold_status fold_bt_pool_poll(fold_batch *b, double max_wait_s)
{
    struct pollfd *pfd = b->pfd;
    int n = 0;
    double now = fold_time_now(), limit = b->opt.scenario_timeout_s;
    double wait = max_wait_s < 0 ? HUGE_VAL : max_wait_s;
    for (int i = 0; i < b->n_workers; i++) {
        fold_bt_worker *w = &b->w[i];
        if (w->fd < 0) continue;
        pfd[n].fd = w->fd;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
        n++;
        bool timed =
            limit > 0 && !w->killed &&
            ((w->state == FOLD_BT_CHUNK_BUSY && w->in_member) || w->state == FOLD_BT_REQUEST_BUSY);
        if (timed) wait = fmin(wait, fmax(0.0, w->t_begin + limit - now));
    }
    int ms = wait >= 1e6 ? -1 : (int)ceil(wait * 1e3);
    int rc = poll(pfd, (nfds_t)n, ms);
    if (rc < 0 && errno != EINTR)
        return fold_error(FOLD_ERR_INTERNAL, "fold_batch: poll: %s", strerror(errno));
    fold_status st = FOLD_OK;
    for (int k = 0, i = 0; rc > 0 && !st && i < b->n_workers; i++) {
        fold_bt_worker *w = &b->w[i];
        if (w->fd < 0) continue;
        if (pfd[k].fd == w->fd && pfd[k].revents) st = drain(b, w);
        k++;
    }
    now = fold_time_now();
    for (int i = 0; limit > 0 && i < b->n_workers; i++) {
        fold_bt_worker *w = &b->w[i];
        bool timed =
            (w->state == FOLD_BT_CHUNK_BUSY && w->in_member) || w->state == FOLD_BT_REQUEST_BUSY;
        if (w->fd >= 0 && timed && !w->killed && now - w->t_begin > limit) {
            kill(w->pid, SIGKILL); /* its EOF comes at the next poll */
            w->killed = true;
        }
    }
    return st;
}

fold_status fold_bt_pool_reset_busy(fold_batch *b)
{
    fold_status st = FOLD_OK;
    for (int i = 0; i < b->n_workers; i++) {
        fold_bt_worker *w = &b->w[i];
        if (w->fd < 0 || w->state == FOLD_BT_IDLE) continue;
        kill(w->pid, SIGKILL);
        int ws;
        reap(w, &ws);
        w->generation++;
        fold_status sp = spawn(b, w);
        if (!st) st = sp;
    }
    while (b->n_pending > 0)
        fold_bt_buf_free(&b->pending[--b->n_pending]);
    return st;
}
