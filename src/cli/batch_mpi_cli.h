/* foldopt batch under mpirun: start and end MPI when the command was launched by it (and
 * foldopt was built with MPI), agree on input errors, run on every rank. */
#ifndef FOLD_CLI_BATCH_MPI_CLI_H
#define FOLD_CLI_BATCH_MPI_CLI_H

#include "foldopt.h"

typedef struct batch_mpi {
    bool active;    /* MPI initialized by us */
    int rank, size; /* 0, 1 without MPI */
    int local_size; /* ranks on this machine (default --jobs shares its cores) */
} batch_mpi;

/* Launched by mpirun with more than one rank: MPI_Init. 0, or CLI_USAGE when foldopt was
 * built without MPI (each rank would run the whole batch). */
int batch_mpi_begin(batch_mpi *m, int *argc, char ***argv);
/* Every rank's exit code so far -> one for all (rank 0's input errors included). */
int batch_mpi_agree(const batch_mpi *m, int rc);
/* fold_batch_run_mpi on every rank, or fold_batch_run. */
fold_status batch_mpi_run(const batch_mpi *m, fold_batch *b, const fold_batch_job *job,
                          fold_batch_info *info);
/* MPI_Finalize when begun; returns rc. */
int batch_mpi_end(batch_mpi *m, int rc);

#endif
