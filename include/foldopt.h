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

#ifdef __cplusplus
}
#endif

#endif
