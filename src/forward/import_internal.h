/* Black-box import internals: least-squares estimate of the multipliers of a primal point
 * from the constraints and bounds active at it (doc/math.md §2.4). */
#ifndef FOLD_IMPORT_INTERNAL_H
#define FOLD_IMPORT_INTERNAL_H

#include "forward/solver_internal.h"

/* Estimate lam (m), zl, zu (n) at (x; p): classify the sides at their bounds with
 * primal_tol (2.11) and solve the sparse least-squares problem (2.12) by SPQR. Inactive
 * multipliers are zero. *n_active receives the number of estimated multipliers. */
fold_status fold_import_estimate_duals(const fold_problem *prob, const double *p, const double *x,
                                       double primal_tol, double *lam, double *zl, double *zu,
                                       fold_int *n_active, fold_eval_stats *st);

#endif
