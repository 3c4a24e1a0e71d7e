/* foldopt batch under mpirun (doc/cli.md, "MPI"). */
#include <stdlib.h>

#include "batch_mpi_cli.h"
#include "cli.h"
#ifdef FOLD_HAVE_MPI
#include "foldopt/batch_mpi.h"
#endif

/* Size of the job as the launcher says it (Open MPI, or a PMI-based launcher). */
static int env_int(const char *const *names)
{
    for (int k = 0; names[k]; k++) {
        const char *v = getenv(names[k]);
        if (v && *v) return atoi(v);
    }
    return 0;
}

int batch_mpi_begin(batch_mpi *m, int *argc, char ***argv)
{
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", NULL};
    static const char *const local_vars[] = {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", NULL};
    m->active = false;
    m->rank = 0;
    m->size = 1;
    m->local_size = 1;
    int size = env_int(size_vars);
    if (size <= 1) return 0;
#ifdef FOLD_HAVE_MPI
    MPI_Init(argc, argv);
    m->active = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &m->size);
    int local = env_int(local_vars);
    m->local_size = local > 0 ? local : 1;
    return 0;
#else
    return cli_usage_error("batch: launched with %d MPI ranks, but this foldopt was built "
                           "without MPI (meson option mpi): run it without mpirun",
                           size);
#endif
}

int batch_mpi_agree(const batch_mpi *m, int rc)
{
#ifdef FOLD_HAVE_MPI
    if (m->active) {
        /* an input error beats "nothing to do" (-1), which beats success */
        int mine = rc < 0 ? 1 : rc == 0 ? 0 : rc + 1, all = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        return all == 0 ? 0 : all == 1 ? -1 : all - 1;
    }
#endif
    return rc;
}

fold_status batch_mpi_run(const batch_mpi *m, fold_batch *b, const fold_batch_job *job,
                          fold_batch_info *info)
{
#ifdef FOLD_HAVE_MPI
    if (m->active) return fold_batch_run_mpi(b, MPI_COMM_WORLD, job, info);
#endif
    return fold_batch_run(b, job, info);
}

int batch_mpi_end(batch_mpi *m, int rc)
{
#ifdef FOLD_HAVE_MPI
    if (m->active) MPI_Finalize();
#endif
    m->active = false;
    return rc;
}
