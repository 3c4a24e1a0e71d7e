/* foldopt: differentiate the solution of an optimization problem with respect to its
 * parameters by folding the solver's fixed-point map. See doc/README and doc/math.md. */
#ifndef FOLDOPT_H
#define FOLDOPT_H

#ifdef __cplusplus
extern "C" {
#endif

#include "foldopt/types.h"
#include "foldopt/status.h"
#include "foldopt/version.h"
#include "foldopt/settings.h"
#include "foldopt/problem.h"
#include "foldopt/solver.h"
#include "foldopt/fold.h"
#include "foldopt/map.h"
#include "foldopt/batch.h"

/** Library version string (same as FOLD_VERSION of the headers compiled against). */
FOLD_API const char *fold_version(void);

/** Sets the thread pools of the numerical libraries beneath foldopt (OpenBLAS, used by
 *  MUMPS inside Ipopt, UMFPACK and CHOLMOD; OpenMP where present) to n >= 1 threads, for
 *  the whole process. foldopt itself never calls it: the CLI uses 1 unless the environment
 *  sets OPENBLAS_NUM_THREADS or OMP_NUM_THREADS (doc/api/README.md, "Threads").
 *  FOLD_ERR_ARGUMENT for n < 1, FOLD_ERR_UNSUPPORTED when neither pool is in the process. */
FOLD_API fold_status fold_set_library_threads(int n);

/** OpenBLAS's current number of threads, or 0 when the process has no OpenBLAS. */
FOLD_API int fold_library_threads(void);

#ifdef __cplusplus
}
#endif

#endif
