/* fold_batch_run_mpi on the ranks of mpirun (run by meson as `mpirun -np 2`): chains are
 * handed out as workers free up (dynamic assignment), every record reaches rank 0 once,
 * and the counts cover every rank (doc/api/batch.md, "MPI"). TAP on rank 0's stdout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "foldopt.h"
#include "foldopt/batch_mpi.h"

enum { N = 24, CHUNK = 2, SLOW = 0 };

static int my_rank; /* set before fold_batch_create: the forked workers see it */

static void pause_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&t, NULL);
}

static fold_status create(void *ud, void **model, char *message)
{
    *model = NULL;
    return FOLD_OK;
}

/* Scenario SLOW takes 2 s, the others 20 ms: a fixed split would give each rank half. */
static fold_status solve(void *model, const fold_batch_solve_args *a, void **state,
                         fold_forward_info *info, char *message)
{
    pause_s(a->scenario == SLOW ? 2.0 : 0.02);
    double *z = malloc(sizeof *z);
    *z = a->p[0];
    *state = z;
    info->status = FOLD_FWD_SOLVED;
    info->objective = a->p[0];
    return FOLD_OK;
}

/* Outputs: the scenario's parameter and the rank that ran it. */
static fold_status record(void *model, void *state, double *out, double *sens,
                          fold_backward_info *bwd, char *message)
{
    out[0] = *(double *)state;
    out[1] = my_rank;
    return FOLD_OK;
}

static void release(void *model, void *state)
{
    free(state);
}

typedef struct seen {
    int count[N];
    int rank[N];
    double value[N];
} seen;

static int on_record(const fold_batch_record *r, void *ud)
{
    seen *s = ud;
    if (r->scenario >= 0 && r->scenario < N && r->outputs) {
        s->count[r->scenario]++;
        s->value[r->scenario] = r->outputs[0];
        s->rank[r->scenario] = (int)r->outputs[1];
    }
    return 0;
}

static int n_tests;
static void tap(bool ok, const char *what)
{
    printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n_tests, what);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    fold_batch_model m = {.name = "sleeper",
                          .np = 1,
                          .n_out = 2,
                          .create = create,
                          .solve = solve,
                          .record = record,
                          .release = release};
    fold_batch_options opt;
    fold_batch_default_options(&opt);
    opt.n_workers = 1;
    opt.chunk_size = CHUNK;
    opt.warm = FOLD_BATCH_WARM_CHAIN;
    fold_batch *b = NULL;
    fold_status st = fold_batch_create(&m, &opt, &b);
    double p[N];
    for (int i = 0; i < N; i++)
        p[i] = i;
    seen s;
    memset(&s, 0, sizeof s);
    fold_batch_job job = {.n_scenarios = my_rank == 0 ? N : 0,
                          .params_array = p,
                          .on_record = on_record,
                          .record_data = &s};
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    if (st == FOLD_OK) st = fold_batch_run_mpi(b, MPI_COMM_WORLD, &job, &info);
    fold_batch_info info2 = FOLD_BATCH_INFO_INIT;
    job.carry = true; /* warm starts across runs need one process */
    fold_status carry_st = b ? fold_batch_run_mpi(b, MPI_COMM_WORLD, &job, &info2) : FOLD_OK;
    if (my_rank == 0) {
        printf("1..5\n");
        tap(size == 2 && st == FOLD_OK, "2 ranks, the run succeeds");
        bool once = true, values = true;
        int by_rank[2] = {0, 0};
        for (int i = 0; i < N; i++) {
            once &= s.count[i] == 1;
            values &= s.value[i] == i;
            if (s.rank[i] == 0 || s.rank[i] == 1) by_rank[s.rank[i]]++;
        }
        tap(once && values, "every record reaches rank 0 once, with its scenario's outputs");
        tap(info.n_ranks == 2 && info.n_workers == 2 && info.n_recorded == N && info.n_ok == N,
            "the counts cover both ranks and workers");
        int slow_rank = s.rank[SLOW], other = 1 - slow_rank;
        printf("# the rank that ran the slow scenario recorded %d scenarios, the other %d\n",
               by_rank[slow_rank], by_rank[other]);
        /* while the slow chain runs (2 s) the other rank takes every chain it asks for */
        tap(by_rank[slow_rank] + by_rank[other] == N && by_rank[slow_rank] <= 3 * CHUNK,
            "dynamic assignment: the rank busy with the slow scenario runs few chains");
        tap(carry_st == FOLD_ERR_UNSUPPORTED, "job.carry is refused under MPI");
    }
    fold_batch_free(b);
    MPI_Finalize();
    return 0;
}
