/* Scenario batches over MPI ranks: rank 0 plans the chains and hands them out to the ranks
 * as their workers free up, gathers every record and gives it to its callbacks; each rank
 * runs its own pool of worker processes. Installed when foldopt is built with MPI
 * (meson option mpi). See doc/api/batch.md, "MPI". */
#ifndef FOLDOPT_BATCH_MPI_H
#define FOLDOPT_BATCH_MPI_H

#include <mpi.h>

#include "batch.h"

/** Collective over comm: every rank calls it with its own batch (fold_batch_create after
 * MPI_Init). Only rank 0's job is read (scenarios, anchor, done flags, callbacks: records
 * come to rank 0's on_record, in completion order); the other ranks may pass a job with
 * n_scenarios 0. Keep mode is refused (FOLD_ERR_UNSUPPORTED). The records are the same as
 * those of fold_batch_run on one process with the same options. info (rank 0): counts of
 * all ranks. Returns, on every rank, FOLD_OK or the error that stopped the run (the other
 * ranks get FOLD_ERR_CALLBACK when rank 0's callbacks stopped it). */
FOLD_API fold_status fold_batch_run_mpi(fold_batch *batch, MPI_Comm comm, const fold_batch_job *job,
                                        fold_batch_info *info);

#endif
