/* Chain planning: scenarios ordered into chunks of nearby parameter vectors, each a chain
 * solved by one worker, every scenario warm-started from its predecessor or from the
 * anchor. Depends only on the input, never on workers or timing (doc/api/batch.md,
 * "Chains and warm starts"). */
#include <math.h>

#include "batch/batch_internal.h"

#define SKETCH 16 /* dimensions of the count sketch used to split the scenario set */

fold_status fold_bt_job_params(const fold_batch_job *job, fold_int np, fold_int scenario, double *p)
{
    if (job->params) {
        int rc = job->params(scenario, p, job->params_data);
        if (rc)
            return fold_error(FOLD_ERR_CALLBACK,
                              "fold_batch_run: params returned %d for scenario %lld", rc,
                              (long long)scenario);
    } else {
        memcpy(p, job->params_array + (size_t)scenario * (size_t)np, (size_t)np * sizeof *p);
    }
    for (fold_int j = 0; j < np; j++)
        if (!isfinite(p[j]))
            return fold_error(FOLD_ERR_NONFINITE, "fold_batch_run: scenario %lld: p[%lld] = %g",
                              (long long)scenario, (long long)j, p[j]);
    return FOLD_OK;
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct planner {
    const fold_batch_job *job;
    fold_int n, np, chunk;
    int warm;
    double *mean, *w; /* per parameter: mean and 1 / standard deviation (0: constant) */
    double *sketch;   /* n x SKETCH */
    fold_int *order;  /* scenarios, split recursively into leaves */
    double *leaf_p;   /* chunk x np parameters of a leaf's members */
    double *anchor;
    fold_bt_plan *plan;
    fold_int next_member;
} planner;

/* Pass 1: mean and scale of every parameter over the scenarios (Welford, scenario order). */
static fold_status moments(planner *pl, double *p)
{
    double *m2 = pl->w;
    for (fold_int i = 0; i < pl->n; i++) {
        fold_status st = fold_bt_job_params(pl->job, pl->np, i, p);
        if (st) return st;
        for (fold_int j = 0; j < pl->np; j++) {
            double d = p[j] - pl->mean[j];
            pl->mean[j] += d / (double)(i + 1);
            m2[j] += d * (p[j] - pl->mean[j]);
        }
    }
    for (fold_int j = 0; j < pl->np; j++) {
        double sd = sqrt(m2[j] / (double)pl->n);
        pl->w[j] = sd > 1e-300 ? 1.0 / sd : 0.0;
    }
    return FOLD_OK;
}

/* Pass 2: a count sketch of each scenario's scaled deviation from the mean: parameter j
 * adds +-w_j (p_j - mean_j) to one of SKETCH coordinates (hash of j), which keeps
 * distances in expectation at the cost of one pass. */
static fold_status sketch(planner *pl, double *p)
{
    for (fold_int i = 0; i < pl->n; i++) {
        fold_status st = fold_bt_job_params(pl->job, pl->np, i, p);
        if (st) return st;
        double *s = pl->sketch + (size_t)i * SKETCH;
        for (fold_int j = 0; j < pl->np; j++) {
            if (pl->w[j] == 0.0) continue;
            uint64_t h = mix64((uint64_t)j);
            double v = pl->w[j] * (p[j] - pl->mean[j]);
            s[h % SKETCH] += (h >> 63) ? v : -v;
        }
    }
    return FOLD_OK;
}

typedef struct axis_cmp {
    const double *sketch;
    int dim;
} axis_cmp;

static int cmp_axis(const void *a, const void *b, void *ctx)
{
    const axis_cmp *c = ctx;
    fold_int i = *(const fold_int *)a, k = *(const fold_int *)b;
    double x = c->sketch[(size_t)i * SKETCH + c->dim], y = c->sketch[(size_t)k * SKETCH + c->dim];
    if (x != y) return x < y ? -1 : 1;
    return (i > k) - (i < k);
}

/* Scaled squared distance between two parameter vectors. */
static double dist2(const planner *pl, const double *a, const double *b)
{
    double s = 0;
    for (fold_int j = 0; j < pl->np; j++) {
        double d = pl->w[j] * (a[j] - b[j]);
        s += d * d;
    }
    return s;
}

static int source_flag(const planner *pl, fold_int pos, const double *p, const double *prev)
{
    if (!pl->anchor || pl->warm == FOLD_BATCH_WARM_COLD)
        return pos > 0 && pl->warm != FOLD_BATCH_WARM_COLD ? FOLD_BT_FROM_PREV : 0;
    if (pos == 0 || pl->warm == FOLD_BATCH_WARM_ANCHOR) return FOLD_BT_FROM_ANCHOR;
    if (pl->warm == FOLD_BATCH_WARM_NEAREST && dist2(pl, p, pl->anchor) < dist2(pl, p, prev))
        return FOLD_BT_FROM_ANCHOR;
    return FOLD_BT_FROM_PREV;
}

static void swap_member(fold_int *idx, double *P, size_t np, fold_int a, fold_int b)
{
    if (a == b) return;
    fold_int t = idx[a];
    idx[a] = idx[b];
    idx[b] = t;
    for (size_t j = 0; j < np; j++) {
        double v = P[(size_t)a * np + j];
        P[(size_t)a * np + j] = P[(size_t)b * np + j];
        P[(size_t)b * np + j] = v;
    }
}

/* A leaf: chain its members greedily by nearest neighbour from the one nearest the anchor
 * (without an anchor, from the one farthest from the leaf's mean), then cut what a resumed
 * run needs (members up to the last one to record, after the last chain end). */
static fold_status leaf(planner *pl, fold_int *idx, fold_int count)
{
    size_t np = (size_t)pl->np;
    double *P = pl->leaf_p;
    fold_status st;
    for (fold_int k = 0; k < count; k++)
        if ((st = fold_bt_job_params(pl->job, pl->np, idx[k], P + (size_t)k * np))) return st;
    /* the head: nearest the anchor, or (no anchor) farthest from the mean */
    fold_int first = 0;
    double best = 0;
    for (fold_int k = 0; k < count; k++) {
        double d = pl->anchor ? -dist2(pl, P + (size_t)k * np, pl->anchor)
                              : dist2(pl, P + (size_t)k * np, pl->mean);
        if (k == 0 || d > best || (d == best && idx[k] < idx[first])) best = d, first = k;
    }
    for (fold_int pos = 0; pos < count; pos++) {
        fold_int pick = pos == 0 ? first : pos;
        for (fold_int k = pos; pos > 0 && k < count; k++) {
            double d = dist2(pl, P + (size_t)k * np, P + (size_t)(pos - 1) * np);
            if (k == pos || d < best || (d == best && idx[k] < idx[pick])) best = d, pick = k;
        }
        swap_member(idx, P, np, pos, pick);
    }
    const unsigned char *done = pl->job->done;
    fold_int last = -1, start = 0;
    for (fold_int k = 0; k < count; k++)
        if (!done || done[idx[k]] == FOLD_BATCH_TODO) last = k;
    for (fold_int k = 0; done && k < last; k++)
        if (done[idx[k]] == FOLD_BATCH_RECORDED_END) start = k + 1;
    if (last < 0) return FOLD_OK;
    fold_bt_plan *plan = pl->plan;
    fold_bt_chunk *c = &plan->chunks[plan->n_chunks];
    c->id = plan->n_chunks++;
    c->n = last - start + 1;
    c->m = plan->members + pl->next_member;
    pl->next_member += c->n;
    for (fold_int k = start; k <= last; k++) {
        fold_bt_member *m = &c->m[k - start];
        bool emit = !done || done[idx[k]] == FOLD_BATCH_TODO;
        m->scenario = idx[k];
        m->key = -1;
        m->flags = (unsigned char)((emit ? FOLD_BT_EMIT : 0) |
                                   source_flag(pl, k, P + (size_t)k * np,
                                               k ? P + (size_t)(k - 1) * np : NULL));
        if (emit)
            plan->n_emit++;
        else
            plan->n_silent++;
    }
    return FOLD_OK;
}

/* Recursive coordinate bisection of the sketch: split along the coordinate of largest
 * spread so that the left part holds a whole number of chunks, down to one chunk. */
static fold_status split(planner *pl, fold_int *idx, fold_int count)
{
    if (count <= pl->chunk) return leaf(pl, idx, count);
    axis_cmp c = {pl->sketch, 0};
    double spread = -1;
    for (int d = 0; d < SKETCH; d++) {
        double lo = HUGE_VAL, hi = -HUGE_VAL;
        for (fold_int k = 0; k < count; k++) {
            double v = pl->sketch[(size_t)idx[k] * SKETCH + d];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        if (hi - lo > spread) spread = hi - lo, c.dim = d;
    }
    qsort_r(idx, (size_t)count, sizeof *idx, cmp_axis, &c);
    fold_int n_chunks = (count + pl->chunk - 1) / pl->chunk;
    fold_int left = pl->chunk * ((n_chunks + 1) / 2);
    fold_status st = split(pl, idx, left);
    return st ? st : split(pl, idx + left, count - left);
}

/* FOLD_BATCH_CHUNK_AUTO: chains of up to FOLD_BATCH_CHUNK scenarios, shorter for a small job
 * so that it has 9 to FOLD_BATCH_MIN_CHAINS chains to balance over the workers (20 scenarios in
 * chains of 8 leave one of two workers with 12 of them). It depends on the job's size only,
 * so that starts, and results, do not depend on the number of workers or ranks. A run with
 * carry (a layer called batch after batch) keeps FOLD_BATCH_CHUNK: a worker starts from the
 * solutions it holds, and a small batch cut into chains of one would send most scenarios to
 * a worker that did not solve their predecessors, to start from the anchor instead. */
static fold_int chunk_for(fold_int chunk_size, fold_int n, bool carry)
{
    if (chunk_size != FOLD_BATCH_CHUNK_AUTO) return chunk_size;
    if (carry) return FOLD_BATCH_CHUNK;
    fold_int c = (n + FOLD_BATCH_MIN_CHAINS - 1) / FOLD_BATCH_MIN_CHAINS;
    return c < 1 ? 1 : c > FOLD_BATCH_CHUNK ? FOLD_BATCH_CHUNK : c;
}

fold_status fold_bt_plan_make(const fold_batch_job *job, fold_int np, fold_int chunk_size, int warm,
                              fold_int first_key, fold_bt_plan *plan)
{
    chunk_size = chunk_for(chunk_size, job->n_scenarios, job->carry);
    planner pl = {.job = job,
                  .n = job->n_scenarios,
                  .np = np,
                  .chunk = chunk_size,
                  .warm = warm,
                  .plan = plan};
    size_t n = (size_t)pl.n, npz = (size_t)np + 1;
    fold_status st = FOLD_ERR_MEMORY;
    double *p = malloc(npz * sizeof *p);
    memset(plan, 0, sizeof *plan);
    pl.mean = calloc(npz, sizeof *pl.mean);
    pl.w = calloc(npz, sizeof *pl.w);
    pl.sketch = calloc(n * SKETCH + 1, sizeof *pl.sketch);
    pl.order = malloc((n + 1) * sizeof *pl.order);
    pl.leaf_p = malloc((size_t)chunk_size * npz * sizeof *pl.leaf_p);
    plan->chunks = calloc(n + 1, sizeof *plan->chunks);
    plan->members = calloc(n + 1, sizeof *plan->members);
    if (!p || !pl.mean || !pl.w || !pl.sketch || !pl.order || !pl.leaf_p || !plan->chunks ||
        !plan->members) {
        st = fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory planning %lld scenarios",
                        (long long)pl.n);
        goto done;
    }
    if ((st = moments(&pl, p)) || (st = sketch(&pl, p))) goto done;
    if (warm != FOLD_BATCH_WARM_COLD && (job->anchor || job->anchor_mean)) {
        if (!(plan->anchor = malloc(npz * sizeof *plan->anchor))) {
            st = fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory");
            goto done;
        }
        memcpy(plan->anchor, job->anchor ? job->anchor : pl.mean, (size_t)np * sizeof(double));
        pl.anchor = plan->anchor;
    }
    for (fold_int i = 0; i < pl.n; i++)
        pl.order[i] = i;
    if ((st = split(&pl, pl.order, pl.n))) goto done;
    for (fold_int k = 0; job->keep && k < pl.next_member; k++)
        plan->members[k].key = first_key + plan->members[k].scenario;
done:
    free(p);
    free(pl.mean);
    free(pl.w);
    free(pl.sketch);
    free(pl.order);
    free(pl.leaf_p);
    if (st) fold_bt_plan_free(plan);
    return st;
}

void fold_bt_plan_free(fold_bt_plan *plan)
{
    free(plan->chunks);
    free(plan->members);
    free(plan->anchor);
    memset(plan, 0, sizeof *plan);
}

fold_status fold_bt_encode_chunk(const fold_batch_job *job, fold_int np, const fold_bt_chunk *c,
                                 bool keep, fold_bt_buf *b)
{
    fold_status st = FOLD_OK;
    double *p = malloc(((size_t)np + 1) * sizeof *p);
    fold_bt_begin(b, FOLD_BT_MSG_CHUNK);
    fold_bt_put_i64(b, c->id);
    fold_bt_put_i64(b, c->n);
    fold_bt_put_u8(b, keep);
    for (fold_int k = 0; p && !st && k < c->n; k++) {
        const fold_bt_member *m = &c->m[k];
        fold_bt_put_i64(b, m->scenario);
        fold_bt_put_i64(b, m->key);
        fold_bt_put_u8(b, m->flags);
        if (!(st = fold_bt_job_params(job, np, m->scenario, p))) fold_bt_put_f64s(b, p, np);
    }
    fold_bt_finish(b);
    free(p);
    if (!st && (!p || b->failed))
        st = fold_error(FOLD_ERR_MEMORY, "fold_batch_run: out of memory for chunk %lld",
                        (long long)c->id);
    return st;
}
