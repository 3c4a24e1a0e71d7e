/* The solver handle: settings, the stored solution and the start point, shared by the
 * forward backends (ipopt.c, import.c) and the fold module (which keeps its factorizations
 * behind `backward`). doc/api/solver.md. */
#ifndef FOLD_SOLVER_INTERNAL_H
#define FOLD_SOLVER_INTERNAL_H

#include "problem/problem_internal.h"

struct fold_solver {
    const fold_problem *prob;
    fold_settings set;
    /* Ipopt pass-through options (ipopt_options.c): name, value of option k at 2k, 2k + 1,
     * each its own allocation. */
    char **ipopt_opt;
    fold_int n_ipopt_opt, cap_ipopt_opt;

    /* Stored solution (valid when has_solution). */
    bool has_solution;
    bool is_converged;         /* solved, acceptable or imported */
    unsigned long solution_id; /* bumped by every new solution: the fold refactors on change */
    double *p;                 /* np */
    double *x, *zl, *zu;       /* n */
    double *lam;               /* m */
    double objective;
    fold_forward_info info;
    /* Per side of the stored solution (forward/sides.h numbering), or NULL: +1 / -1 where a
     * re-solve showed the side active / inactive (forward/resolve.c); reset by every new
     * solution. */
    signed char *verdict;
    /* The classification of every side (forward/sides.h) of the stored solution with its
     * verdicts, as the forward solve's last evaluation left it, or NULL: every fold call's
     * classification of this solution copies it (fold_solver_copy_sides) instead of
     * evaluating the solution again. Valid while sides_id == solution_id. */
    struct fold_sides *sides;
    unsigned long sides_id;
    /* fold_solve left its tightening re-solves to the first fold call (forward.resolve_when =
     * fold): they run under the settings of that solve, kept here (forward/resolve.c,
     * fold_solver_settle). Cleared by every new solution. */
    bool resolve_pending;
    fold_settings resolve_set;
    /* Bounds at p (doc/math.md §2.5): the problem's own arrays when none moves with p,
     * else owned copies updated with every stored solution (fold_solver_bounds). */
    double *xl, *xu, *gl, *gu;

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

/* The bounds of the stored solution's parameters. */
typedef struct fold_bounds {
    const double *xl, *xu, *gl, *gu;
} fold_bounds;
static inline fold_bounds fold_solver_bounds(const fold_solver *s)
{
    return (fold_bounds){s->xl, s->xu, s->gl, s->gu};
}
/* The bounds at p into xl, xu (n), gl, gu (m), and a check that no lower bound exceeds its
 * upper one there (FOLD_ERR_ARGUMENT naming the item). Solves and imports call it before
 * they start. */
fold_status fold_bounds_at(const fold_problem *prob, const double *p, double *xl, double *xu,
                           double *gl, double *gu, const char *fn);

/* The info of a call that has not run (yet): status FOLD_FWD_NOT_RUN, counts and times 0,
 * objective and KKT residuals NaN. Every public call that fills a fold_forward_info starts
 * with it, so that no path leaves the caller's struct undefined. */
void fold_forward_info_reset(fold_forward_info *info, const char *backend);
/* The caller's info (NULL allowed): FOLD_ERR_ARGUMENT when its size is 0 or too small
 * (nothing else is done then); else *out reset as above and, as on every later path,
 * copied into the caller's (fold_forward_info_put). */
fold_status fold_forward_info_open(fold_forward_info *info, const char *backend,
                                   fold_forward_info *out);
/* Copy *out into the caller's info (NULL: nothing), the part its size covers. */
void fold_forward_info_put(fold_forward_info *info, const fold_forward_info *out);

/* Run the tightening re-solves that fold_solve left pending (forward.resolve_when = fold;
 * doc/math.md §3.2) under the settings of that solve, updating the stored solution and its
 * info (counts, times, resolves, n_ambiguous) as fold_solve would have; FOLD_OK at once when
 * none is pending. Every fold call runs it before it reads the solution. */
fold_status fold_solver_settle(fold_solver *s, const char *fn);

/* Replace to's Ipopt options by a copy of from's (from NULL: none). */
fold_status fold_solver_copy_ipopt_options(fold_solver *to, const fold_solver *from);

/* Keep *S, the classification of the stored solution at s->p with s->verdict, for the fold
 * (moved: *S is emptied); fold_solver_copy_sides gives each fold call a copy (false when
 * none is kept for the current solution, or on a failed allocation: the fold evaluates). */
void fold_solver_keep_sides(fold_solver *s, struct fold_sides *S);
bool fold_solver_copy_sides(fold_solver *s, struct fold_sides *out);
/* Store a new solution (copies; p may equal solver->p). Bumps solution_id. */
void fold_solver_store(fold_solver *s, const double *p, const double *x, const double *lam,
                       const double *zl, const double *zu, double objective, bool converged);

/* KKT residuals of (x, lam, zl, zu) at p, scaled as documented in doc/math.md §2.3:
 * stationarity ||grad f + J'lam - zl + zu||_inf, feasibility (bounds and constraints),
 * complementarity max over finite bounds of |z * distance|. Fills the kkt_* fields. */
fold_status fold_kkt_residuals(const fold_problem *prob, const double *p, const double *x,
                               const double *lam, const double *zl, const double *zu,
                               fold_forward_info *info, fold_eval_stats *st);

/* Set zl, zu of every fixed variable (x_lower = x_upper) from its row of stationarity at
 * (x, lam): zl - zu = grad f + J' lam on that row (fixed_duals.c). */
fold_status fold_fixed_bound_duals(const fold_problem *prob, const double *p, const double *x,
                                   const double *lam, double *zl, double *zu, fold_eval_stats *st);

#endif
