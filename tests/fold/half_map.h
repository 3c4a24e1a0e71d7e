/* The scalar fold map z = z / 2 + p (Phi = 1/2, Psi = 1): dz/dp = 2, for tests of the calls'
 * bookkeeping rather than of the maths. */
#ifndef FOLD_TEST_HALF_MAP_H
#define FOLD_TEST_HALF_MAP_H

#include "foldopt/map.h"

fold_map_def half_map_def(void);

#endif
