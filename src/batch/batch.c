/* The scenario engine's lifecycle and local runs: create (start the workers), run a job
 * (plan chains, hand them out as workers free up, deliver records), free
 * (doc/api/batch.md). The run setup shared with the MPI coordinator is in batch_run.c. */
#include <signal.h>
#include <unistd.h>

#include "batch/batch_internal.h"

#define FN "fold_batch_create"

void fold_batch_default_options(fold_batch_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->chunk_size = FOLD_BATCH_CHUNK_AUTO;
    opt->warm = FOLD_BATCH_WARM_NEAREST;
}

static fold_status check_model(const fold_batch_model *m)
{
    if (!m) return fold_error(FOLD_ERR_ARGUMENT, "%s: model is NULL", FN);
    if (!m->create || !m->solve || !m->release)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: model.%s is NULL (required)", FN,
                          !m->create  ? "create"
                          : !m->solve ? "solve"
                                      : "release");
    if (m->np < 0 || m->n_out < 0 || m->n_sens < 0)
        return fold_error(FOLD_ERR_DIMENSION, "%s: model.%s = %lld is negative", FN,
                          m->np < 0      ? "np"
                          : m->n_out < 0 ? "n_out"
                                         : "n_sens",
                          (long long)(m->np < 0      ? m->np
                                      : m->n_out < 0 ? m->n_out
                                                     : m->n_sens));
    if (!m->record && (m->n_out > 0 || m->n_sens > 0))
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: model.record is NULL but n_out = %lld, "
                          "n_sens = %lld",
                          FN, (long long)m->n_out, (long long)m->n_sens);
    return FOLD_OK;
}

static fold_status check_options(const fold_batch_options *o)
{
    if (o->n_workers < 0 || o->n_workers > 4096)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: n_workers = %d outside [0, 4096]", FN,
                          o->n_workers);
    if (o->chunk_size < 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: chunk_size = %lld must be >= 1, or FOLD_BATCH_CHUNK_AUTO (0)", FN,
                          (long long)o->chunk_size);
    if (!(o->scenario_timeout_s >= 0) || !isfinite(o->scenario_timeout_s))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: scenario_timeout_s = %g must be >= 0", FN,
                          o->scenario_timeout_s);
    if (o->warm < FOLD_BATCH_WARM_NEAREST || o->warm > FOLD_BATCH_WARM_COLD)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: warm = %d is not a fold_batch_warm", FN, o->warm);
    return FOLD_OK;
}

fold_status fold_batch_create(const fold_batch_model *model, const fold_batch_options *opt,
                              fold_batch **out)
{
    fold_clear_error();
    fold_batch_options def;
    fold_status st;
    if (!out) return fold_error(FOLD_ERR_ARGUMENT, "%s: out is NULL", FN);
    *out = NULL;
    if (!opt) {
        fold_batch_default_options(&def);
        opt = &def;
    }
    if ((st = check_model(model)) || (st = check_options(opt))) return st;
    fold_batch *b = fold_calloc(1, sizeof *b, FN);
    if (!b) return FOLD_ERR_MEMORY;
    b->model = *model;
    b->opt = *opt;
    b->n_workers = opt->n_workers;
    if (b->n_workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        b->n_workers = cores > 0 ? (int)(cores < 4096 ? cores : 4096) : 1;
    }
    b->w = fold_calloc((size_t)b->n_workers, sizeof *b->w, FN);
    b->pfd = fold_calloc((size_t)b->n_workers, sizeof *b->pfd, FN);
    if (!b->w || !b->pfd)
        st = FOLD_ERR_MEMORY;
    else if (!(st = fold_bt_set_run(b, NULL, false)))
        st = fold_bt_pool_start(b);
    if (st) {
        free(b->w);
        free(b->pfd);
        fold_bt_buf_free(&b->run_msg);
        free(b);
        return st;
    }
    *out = b;
    return FOLD_OK;
}

void fold_batch_free(fold_batch *b)
{
    if (!b) return;
    fold_bt_pool_stop(b);
    for (int i = 0; i < b->n_workers; i++) {
        fold_bt_buf_free(&b->w[i].in);
        fold_bt_buf_free(&b->w[i].chunk);
    }
    while (b->n_pending > 0)
        fold_bt_buf_free(&b->pending[--b->n_pending]);
    free(b->pending);
    free(b->w);
    free(b->pfd);
    free(b->key_slot);
    free(b->key_gen);
    fold_bt_buf_free(&b->run_msg);
    fold_bt_record_store_free(&b->store);
    fold_bt_free_trust(b);
    free(b);
}

int fold_batch_workers(const fold_batch *b)
{
    return b ? b->n_workers : 0;
}

static fold_status local_record(void *ctx, const fold_batch_record *rec, bool emit,
                                const unsigned char *payload, size_t len)
{
    (void)payload;
    (void)len;
    return fold_bt_deliver(ctx, rec, emit);
}

static void local_chunk_done(void *ctx, fold_int chunk_id)
{
    (void)chunk_id;
    ((fold_bt_tally *)ctx)->chunks_left--;
}

static fold_status ensure_keys(fold_batch *b, fold_int need)
{
    if (need <= b->cap_keys) return FOLD_OK;
    fold_int cap = b->cap_keys ? b->cap_keys : 64;
    while (cap < need)
        cap *= 2;
    int *slot = realloc(b->key_slot, (size_t)cap * sizeof *slot);
    if (slot) b->key_slot = slot;
    long *gen = slot ? realloc(b->key_gen, (size_t)cap * sizeof *gen) : NULL;
    if (!gen)
        return fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory for %lld keys",
                          (long long)cap);
    b->key_gen = gen;
    for (fold_int k = b->cap_keys; k < cap; k++)
        b->key_slot[k] = -1, b->key_gen[k] = -1;
    b->cap_keys = cap;
    return FOLD_OK;
}

/* Hand chunks (continuations first) to idle workers, poll, until every chunk is done. */
static fold_status drive(fold_batch *b, const fold_batch_job *job, const fold_bt_plan *plan,
                         fold_bt_tally *t)
{
    fold_bt_buf msg = {0};
    fold_int next = 0;
    fold_status st = FOLD_OK;
    while (!st) {
        fold_bt_worker *w;
        while (!st && (w = fold_bt_pool_idle(b))) {
            if (!fold_bt_pool_pop_pending(b, &msg)) {
                if (next >= plan->n_chunks) break;
                st = fold_bt_encode_chunk(job, b->model.np, &plan->chunks[next++], job->keep, &msg);
            }
            if (!st) st = fold_bt_pool_dispatch(b, w, &msg);
        }
        if (st || (t->chunks_left <= 0 && b->n_pending == 0)) break;
        st = fold_bt_pool_poll(b, -1);
    }
    fold_bt_buf_free(&msg);
    return st;
}

static fold_status run(fold_batch *b, const fold_batch_job *job, fold_batch_info *info)
{
    fold_bt_plan plan;
    fold_bt_tally t;
    fold_status st = fold_bt_check_job(b, job);
    if (st || (job->keep && (st = ensure_keys(b, b->next_key + job->n_scenarios)))) return st;
    if ((st = fold_bt_plan_make(job, b->model.np, b->opt.chunk_size, b->opt.warm, b->next_key,
                                &plan)))
        return st;
    if (job->keep) b->next_key += job->n_scenarios;
    fold_bt_tally_init(&t, job, info, plan.n_emit, plan.n_chunks);
    b->sink = (fold_bt_sink){.record = local_record, .chunk_done = local_chunk_done, .ctx = &t};
    b->n_chunks_sent = b->n_respawned = 0;
    b->peak_kb = 0;
    if (!(st = fold_bt_set_run(b, plan.anchor, job->carry))) st = drive(b, job, &plan, &t);
    if (st && fold_bt_pool_reset_busy(b) != FOLD_OK)
        st = fold_error_context(st, "fold_batch_run (and replacing its busy workers failed)");
    b->sink = (fold_bt_sink){0};
    fold_bt_plan_free(&plan);
    info->n_chunks = b->n_chunks_sent;
    info->n_respawned = b->n_respawned;
    info->n_workers = b->n_workers;
    info->n_ranks = 1;
    info->wall_s = fold_time_now() - t.t0;
    if (b->peak_kb > info->worker_peak_kb) info->worker_peak_kb = b->peak_kb;
    return st;
}

fold_status fold_batch_run(fold_batch *b, const fold_batch_job *job, fold_batch_info *info)
{
    fold_clear_error();
    fold_batch_info full = FOLD_BATCH_INFO_INIT;
    fold_status st = fold_sized_open(info, &full, sizeof full, FOLD_BATCH_INFO_V1,
                                     "fold_batch_info", "FOLD_BATCH_INFO_INIT");
    if (st < 0) return st;
    st = run(b, job, &full);
    fold_sized_close(info, &full, sizeof full);
    return st;
}
