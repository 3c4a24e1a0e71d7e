/* The solver handle: settings, the stored solution and the start point, shared by the
 * forward backends (ipopt.c, import.c) and the fold module (which keeps its factorizations
 * behind `backward`). doc/api/solver.md. */
#ifndef FOLD_SOLVER_INTERNAL_H
#define FOLD_SOLVER_INTERNAL_H

#include "problem/problem_internal.h"

struct fold_solver {
    const fold_problem *prob;
    fold_settings set;

    /* Stored solution (valid when has_solution). */
    bool has_solution;
    bool is_converged;        /* solved, acceptable or imported */
    unsigned long solution_id; /* bumped by every new solution: the fold refactors on change */
    double *p;                /* np */
    double *x, *zl, *zu;      /* n */
    double *lam;              /* m */
    double objective;
    fold_forward_info info;
    /* Per side of the stored solution (forward/sides.h numbering), or NULL: +1 / -1 where a
     * re-solve showed the side active / inactive (forward/resolve.c); reset by every new
     * solution. */
    signed char *verdict;

    /* Start point of the next solve (valid when has_start). */
    bool has_start, start_has_duals;
    double *x0, *zl0, *zu0, *lam0;

    fold_eval_stats stats; /* callback counts and time of the current call */

    /* Forward backend state kept across solves (Ipopt: int sparsity structure). */
    void *forward;
    void (*forward_free)(void *forward);

    /* Backward state owned by src/fold (factorizations, symbolic analysis). */
    void *backward;
    void (*backward_free)(void *backward);
};

/* Store a new solution (copies; p may equal solver->p). Bumps solution_id. */
void fold_solver_store(fold_solver *s, const double *p, const double *x, const double *lam,
                       const double *zl, const double *zu, double objective, bool converged);

/* KKT residuals of (x, lam, zl, zu) at p, scaled as documented in doc/math.md §2.3:
 * stationarity ||grad f + J'lam - zl + zu||_inf, feasibility (bounds and constraints),
 * complementarity max over finite bounds of |z * distance|. Fills the kkt_* fields. */
fold_status fold_kkt_residuals(const fold_problem *prob, const double *p, const double *x,
                               const double *lam, const double *zl, const double *zu,
                               fold_forward_info *info, fold_eval_stats *st);

#endif
