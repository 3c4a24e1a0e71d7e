/* Weighted graph Laplacians of a case's branches, solved by Jacobi-preconditioned conjugate
 * gradients: the DC power flows of the synthetic grids' operating point (gen_grid_point.c)
 * and of the model's start point (model_start.c). */
#ifndef FOLD_ACOPF_LAPLACIAN_H
#define FOLD_ACOPF_LAPLACIAN_H

#include "acopf/acopf_internal.h"

/* sum_k w_k (e_f - e_t)(e_f - e_t)' + diag(shift) restricted to the buses not fixed. */
typedef struct acopf_laplacian {
    const fold_acopf_case *cs;
    const double *w, *shift; /* per branch; per bus (NULL: none) */
    const bool *fixed;       /* per bus */
    double *diag;            /* per bus: the diagonal (preconditioner) */
} acopf_laplacian;

/* Fill A->diag. */
void acopf_lap_diag(acopf_laplacian *A);

/* Solve A x = b (b zero on the fixed buses) to a relative residual of rtol; work holds
 * 3 n_bus doubles. */
void acopf_lap_solve(const acopf_laplacian *A, const double *b, double rtol, double *x,
                     double *work);

#endif
