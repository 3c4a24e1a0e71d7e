/* The solver handle: forward solves (Ipopt) and black-box imports, then any number of
 * fold calls (fold.h) at the stored solution. See doc/api/solver.md. */
#ifndef FOLDOPT_SOLVER_H
#define FOLDOPT_SOLVER_H

#include "problem.h"
#include "settings.h"

/** A solver: settings, the stored solution and the factorizations of its folds. Thread
 * safety: calls on one solver (solves, fold calls, accessors) must not run concurrently; the
 * caller serializes them. Distinct solvers may run on distinct threads (their problem may be
 * shared, problem.h), but their Ipopt runs are serialized by a process-wide lock (Ipopt 3.11
 * with sequential MUMPS is not thread-safe), so a callback must not call fold_solve. */
typedef struct fold_solver fold_solver;

/** Outcome of a forward solve or import (distinct from the call's return status). */
typedef enum fold_forward_status {
    FOLD_FWD_SOLVED = 0,     /**< converged to tolerance */
    FOLD_FWD_ACCEPTABLE = 1, /**< Ipopt's "solved to acceptable level" */
    FOLD_FWD_IMPORTED = 2,   /**< black-box point accepted as a KKT point */
    FOLD_FWD_NOT_RUN = -1,
    FOLD_FWD_INFEASIBLE = -2, /**< infeasible problem detected */
    FOLD_FWD_MAX_ITER = -3,
    FOLD_FWD_MAX_TIME = -4,
    FOLD_FWD_DIVERGING = -5,
    FOLD_FWD_NUMERICAL = -6, /**< step computation, restoration failure, tiny steps */
    FOLD_FWD_INVALID = -7,   /**< invalid problem, option or number detected */
    FOLD_FWD_USER_STOP = -8,
    FOLD_FWD_ERROR = -9,    /**< internal error, exception, out of memory */
    FOLD_FWD_NOT_KKT = -10, /**< imported point failed the KKT test */
    FOLD_FWD_STALLED = -11  /**< no progress: short steps after the adaptive restart
                                 (forward.stall_rescue_iter; often an infeasible problem) */
} fold_forward_status;

/** Name of a forward status ("solved", "infeasible", ...). */
FOLD_API const char *fold_forward_status_string(fold_forward_status status);

/** Information about the last forward solve or import. */
typedef struct fold_forward_info {
    size_t size;                /**< set by the caller: initialize with FOLD_FORWARD_INFO_INIT */
    fold_forward_status status; /**< outcome */
    int raw_status;             /**< backend's own code (Ipopt ApplicationReturnStatus) */
    const char *backend;        /**< "ipopt" or "import" */
    fold_int iterations;
    double objective;
    double solve_s;    /**< wall time of the backend's solve */
    double callback_s; /**< time spent in the problem's callbacks */
    double total_s;    /**< whole call */
    fold_int n_eval_f, n_eval_g, n_eval_grad_f, n_eval_jac_g, n_eval_hess_l;
    /* KKT residuals at the returned point, scaled as in doc/math.md §2.3 (2.6)-(2.10). */
    double kkt_stationarity;    /**< ||grad_x L||_inf / (1 + its largest term) */
    double kkt_feasibility;     /**< max constraint and bound violation / (1 + |bound|) */
    double kkt_complementarity; /**< max multiplier * distance, and wrong-sign multipliers */
    bool duals_estimated;       /**< multipliers recovered by least squares (import) */
    /* Ambiguous sides of constraints and bounds (doc/math.md §3.2). */
    int resolves;         /**< warm re-solves run (to decide ambiguous sides, or to reach a
                               tight forward.tol in stages); their counts and times are
                               included above */
    double resolve_s;     /**< wall time of those re-solves */
    double tol_reached;   /**< tolerance of the kept point: the tol of its solve, or for an
                               acceptable point its largest KKT residual */
    fold_int n_ambiguous; /**< sides still ambiguous or weakly active at the solution */
} fold_forward_info;

/** Initializer of a fold_forward_info: its size, every other field zero. */
#define FOLD_FORWARD_INFO_INIT                                                                     \
    {                                                                                              \
        .size = sizeof(fold_forward_info)                                                          \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_FORWARD_INFO_V1 FOLD_FIELD_END(fold_forward_info, n_ambiguous)

/** Create a solver for prob with settings s (NULL: defaults), which are validated and
 * copied. prob must outlive the solver. */
FOLD_API fold_status fold_solver_create(const fold_problem *prob, const fold_settings *s,
                                        fold_solver **out);

/** Free; accepts NULL. */
FOLD_API void fold_solver_free(fold_solver *solver);

/** Replace the settings (validated; the factorization is discarded when backward settings
 * change). */
FOLD_API fold_status fold_solver_update_settings(fold_solver *solver, const fold_settings *s);

/** Solve at parameters p (np entries; NULL: the problem's defaults). The tightening re-solves
 * that only derivatives need (forward.resolve_rounds) are left to the first fold call at this
 * solution unless forward.resolve_when = solve (fold_solve_finish). Warm-starts from the
 * last converged solution when forward.warm_start is set (the default): a repeated solve at
 * unchanged p then starts at its own solution and returns it after few iterations
 * (info->iterations), it does not solve again from scratch; set forward.warm_start = false
 * (or give a start with fold_solver_set_start) for an independent solve. Returns FOLD_OK (solved),
 * FOLD_WARN_INACCURATE (acceptable level), FOLD_ERR_FORWARD_FAILED (infeasible, iteration
 * limit, ...: info->status says which; the solution is kept but not differentiable unless
 * backward.allow_unconverged), or an argument/callback error. info may be NULL. */
FOLD_API fold_status fold_solve(fold_solver *solver, const double *p, fold_forward_info *info);

/** Run now the tightening re-solves (forward.resolve_rounds, doc/math.md §3.2) that fold_solve
 * leaves to the first fold call under forward.resolve_when = fold (the default), as fold_solve
 * would have run them (its settings, its point): the stored solution becomes the tightened
 * point. FOLD_OK at once when none is pending (another forward.resolve_when, a solution
 * already differentiated or imported, none needed). info (may be NULL) receives the stored
 * solution's info: the solve's counts and times with the re-solves' included. Call it before
 * reading a solution that must be the one the fold differentiates. */
FOLD_API fold_status fold_solve_finish(fold_solver *solver, fold_forward_info *info);

/** A point computed elsewhere, for fold_solver_import. Arrays are only read during the call;
 * initialize with designated initializers ({.x = x}): fields left out are NULL. */
typedef struct fold_import_point {
    const double *p;       /**< parameters (np); NULL: the problem's defaults */
    const double *x;       /**< primal point (n), required */
    const double *lam;     /**< constraint multipliers (m), or NULL */
    const double *zl, *zu; /**< bound multipliers (n), or NULL */
} fold_import_point;

/** Import a solution computed elsewhere (black box): pt->x and, if known, pt->lam, zl, zu —
 * any of the multiplier arrays may be NULL and then all are estimated by sparse least squares
 * on the constraints active at x. The KKT residuals are measured and reported; the point is
 * accepted when all are below forward.kkt_tol (FOLD_OK), otherwise FOLD_ERR_NOT_KKT with the
 * residuals in info. FOLD_ERR_ARGUMENT for a NULL pt or x. */
FOLD_API fold_status fold_solver_import(fold_solver *solver, const fold_import_point *pt,
                                        fold_forward_info *info);

/* ---- Ipopt options (doc/api/solver.md, "Ipopt options") ---- */

/** Check an Ipopt option without a solver: FOLD_OK when Ipopt accepts name = value (its type,
 * string, integer or number, is found by Ipopt); FOLD_ERR_SETTING naming it otherwise:
 * unknown name, wrong type, out of range, or refused because it would terminate the
 * process or is unavailable in this build (linear_solver ma27/ma57/ma77/ma86/ma97/pardiso/
 * wsmp, hsllib, pardisolib, linear_system_scaling mc19). No length limit. */
FOLD_API fold_status fold_ipopt_option_check(const char *name, const char *value);

/** Pass an option to Ipopt verbatim on every later solve of this solver (after foldopt's own
 * options, which it overrides). Checked at once (fold_ipopt_option_check; on error nothing
 * changes). Setting a name again replaces its value; value NULL removes the name; name NULL
 * (and value NULL) removes every option. */
FOLD_API fold_status fold_solver_set_ipopt_option(fold_solver *solver, const char *name,
                                                  const char *value);

/** Set every option of list: name, value, name, value, ..., NULL (NULL: none), in order, as
 * fold_solver_set_ipopt_option. Stops at the first refused one (FOLD_ERR_SETTING naming its
 * entry; the ones before it stay set). */
FOLD_API fold_status fold_solver_set_ipopt_options(fold_solver *solver, const char *const *list);

/** Number of Ipopt options set on the solver. */
FOLD_API fold_int fold_solver_ipopt_option_count(const fold_solver *solver);

/** Option `index` (0 <= index < count, in the order first set): *name and *value point into
 * the solver, valid until its options change. FOLD_ERR_ARGUMENT for an index out of range. */
FOLD_API fold_status fold_solver_ipopt_option(const fold_solver *solver, fold_int index,
                                              const char **name, const char **value);

/** Copy the stored solution; any output may be NULL. FOLD_ERR_NOT_SOLVED if none. */
FOLD_API fold_status fold_solver_solution(const fold_solver *solver, double *x, double *lam,
                                          double *zl, double *zu, double *objective);

/** Parameters of the stored solution (np entries). */
FOLD_API fold_status fold_solver_params(const fold_solver *solver, double *p);

/** Set the starting point of the next solve (x required, multipliers optional). */
FOLD_API fold_status fold_solver_set_start(fold_solver *solver, const double *x, const double *lam,
                                           const double *zl, const double *zu);

/** The problem the solver was created for. */
FOLD_API const fold_problem *fold_solver_problem(const fold_solver *solver);

/** The solver's settings (read-only view). */
FOLD_API const fold_settings *fold_solver_settings(const fold_solver *solver);

#endif
