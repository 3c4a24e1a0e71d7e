/* The run setup shared by the local (batch.c) and MPI (batch_mpi.c) coordinators: the job's
 * check, the run message every worker gets before its first chunk of a run (run id, carry,
 * anchor; the pool resends it to replacements), and the counting and delivery of records to
 * the job's callbacks (doc/api/batch.md). */
#include "batch/batch_internal.h"

static fold_status make_run_msg(fold_batch *b, const double *anchor)
{
    fold_bt_begin(&b->run_msg, FOLD_BT_MSG_RUN);
    fold_bt_put_i64(&b->run_msg, b->run_id);
    fold_bt_put_u8(&b->run_msg, b->carry);
    fold_bt_put_u8(&b->run_msg, anchor != NULL);
    if (anchor) fold_bt_put_f64s(&b->run_msg, anchor, b->model.np);
    fold_bt_finish(&b->run_msg);
    return b->run_msg.failed ? fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory")
                             : FOLD_OK;
}

fold_status fold_bt_set_run(fold_batch *b, const double *anchor, bool carry)
{
    b->run_id++;
    b->carry = carry;
    for (int i = 0; i < b->n_workers; i++)
        b->w[i].run_sent = false;
    return make_run_msg(b, anchor);
}

void fold_bt_set_run_anchor_lost(fold_batch *b)
{
    make_run_msg(b, NULL); /* for the workers started from now on */
}

fold_status fold_bt_check_job(const fold_batch *b, const fold_batch_job *job)
{
    const char *fn = "fold_batch_run";
    if (!b || !job) return fold_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", fn, b ? "job" : "batch");
    if (job->n_scenarios < 0)
        return fold_error(FOLD_ERR_DIMENSION, "%s: n_scenarios = %lld is negative", fn,
                          (long long)job->n_scenarios);
    if (job->n_scenarios > 0 && b->model.np > 0 && !job->params && !job->params_array)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: job.params and job.params_array are NULL", fn);
    if (b->opt.warm == FOLD_BATCH_WARM_ANCHOR && !job->anchor && !job->anchor_mean)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: warm = anchor needs job.anchor or "
                          "job.anchor_mean",
                          fn);
    for (fold_int j = 0; job->anchor && j < b->model.np; j++)
        if (!isfinite(job->anchor[j]))
            return fold_error(FOLD_ERR_NONFINITE, "%s: anchor[%lld] = %g", fn, (long long)j,
                              job->anchor[j]);
    for (fold_int i = 0; job->done && i < job->n_scenarios; i++)
        if (job->done[i] > FOLD_BATCH_RECORDED_END)
            return fold_error(FOLD_ERR_ARGUMENT, "%s: done[%lld] = %d is not a done flag", fn,
                              (long long)i, job->done[i]);
    return FOLD_OK;
}

void fold_bt_tally_init(fold_bt_tally *t, const fold_batch_job *job, fold_batch_info *info,
                        fold_int n_emit, fold_int n_chunks)
{
    memset(info, 0, sizeof *info);
    memset(t, 0, sizeof *t);
    t->job = job;
    t->info = info;
    t->t0 = fold_time_now();
    t->progress.n_total = n_emit;
    t->chunks_left = n_chunks;
}

fold_status fold_bt_deliver(fold_bt_tally *t, const fold_batch_record *rec, bool emit)
{
    fold_batch_info *info = t->info;
    if (rec->worker_peak_kb > info->worker_peak_kb) info->worker_peak_kb = rec->worker_peak_kb;
    if (!emit) {
        info->n_silent++;
        return FOLD_OK;
    }
    info->n_recorded++;
    info->iterations += rec->iterations;
    bool ok = rec->status >= 0 && rec->outcome == FOLD_BATCH_DONE;
    info->n_ok += ok;
    info->n_failed += !ok && rec->outcome == FOLD_BATCH_DONE;
    info->n_crashed += rec->outcome == FOLD_BATCH_CRASHED;
    info->n_timed_out += rec->outcome == FOLD_BATCH_TIMED_OUT;
    t->progress.n_done++;
    t->progress.n_failed += !ok;
    t->progress.elapsed_s = fold_time_now() - t->t0;
    if (t->job->on_record) {
        int rc = t->job->on_record(rec, t->job->record_data);
        if (rc)
            return fold_error(FOLD_ERR_CALLBACK,
                              "fold_batch_run: on_record returned %d at "
                              "scenario %lld",
                              rc, (long long)rec->scenario);
    }
    if (t->job->on_progress) t->job->on_progress(&t->progress, t->job->progress_data);
    return FOLD_OK;
}
