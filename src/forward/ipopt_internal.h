/* Ipopt backend internals: the int sparsity structure cached per solver, the context passed
 * to Ipopt's C callbacks (problem, bound parameters p, counters, first fatal error), the
 * status mapping. doc/api/solver.md, doc/math.md §2. */
#ifndef FOLD_IPOPT_INTERNAL_H
#define FOLD_IPOPT_INTERNAL_H

#include "IpStdCInterface.h"

#include "forward/solver_internal.h"

/* Sparsity of J (m x n) and of the lower triangle of H (n x n) as Ipopt's int triplets,
 * converted once per solver. Ipopt requires nnz_jac >= 1 when m > 0: a problem whose
 * constraints do not depend on x gets one structural zero (jac_dummy). */
typedef struct fold_ipopt_structure {
    int nnz_jac, nnz_hess;
    bool jac_dummy;
    int *jac_row, *jac_col;
    int *hess_row, *hess_col;
} fold_ipopt_structure;

#define FOLD_IPOPT_MSG_LEN 512

/* Ipopt's default acceptable_tol: the level at which a solve may end at its floor. */
#define FOLD_IPOPT_ACCEPTABLE_TOL 1e-6

/* A solve (not a tightening re-solve) is at its floor when its dual infeasibility has not
 * reached a new low for this many iterations. */
#define FOLD_IPOPT_FLOOR_STALE 4

/* The short-step stall test reads the median primal step over this many iterations. */
#define FOLD_IPOPT_STEP_WINDOW 20

/* State of one IpoptSolve, passed as Ipopt's user data. */
typedef struct fold_ipopt_ctx {
    const fold_problem *prob;
    const double *p; /* parameters bound for the whole solve */
    const fold_ipopt_structure *structure;
    fold_eval_stats *stats;
    double t_start, time_limit_s; /* wall clock; limit 0 = none */
    fold_int iterations;          /* last iteration count seen by the intermediate cb */
    int stall_iter;               /* forward.stall_iter of this run (0: no stall test) */
    double stall_growth;          /* forward.stall_dual_growth of this run (0: no such test) */
    int stall_step_iter;          /* forward.stall_step_iter of this run (0: no such test) */
    double stall_step;            /* forward.stall_step */
    double steps[FOLD_IPOPT_STEP_WINDOW]; /* the last primal steps at the first barrier
                                             parameter (restoration's not counted) */
    int n_steps;                          /* of n_steps, the k-th at k % the window */
    double mu0, du0; /* the barrier parameter of the first step, the dual infeasibility at 0 */
    const char *stall_why; /* the stall test that stopped the run, for the log; or NULL */
    bool rescue;           /* the adaptive re-run of a stalled solve: its steps all recorded */
    int rescue_iter;       /* forward.stall_rescue_iter of that re-run (0: no test) */
    bool rescue_stalled;   /* it stopped there, short steps */
    int floor_iter; /* forward.resolve_max_iter of a resolution re-solve, forward.floor_max_iter
                       of a cold or warm solve; 0: Ipopt decides the end */
    bool floor_at_start;  /* a tightening re-solve: at its floor from its first iteration, and
                             ended there without the test on new lows */
    double floor_mu;      /* other solves: the floor's iterations count from the first with
                             mu <= floor_mu; a run that starts there is left to Ipopt */
    int floor_from;       /* that iteration, or -1 */
    double floor_best_du; /* the lowest dual infeasibility since floor_from ... */
    int floor_stale;      /* ... and the iterations since it was reached */
    bool at_floor;        /* stopped acceptable floor_iter iterations after floor_from */
    bool has_iterated;    /* intermediate callback called at least once */
    bool timed_out;       /* stopped by the wall-clock limit */
    fold_status fatal;    /* first fatal callback error; FOLD_OK if none */
    char fatal_msg[FOLD_IPOPT_MSG_LEN];
    bool nonfinite; /* some callback output was NaN/Inf (recovered) */
    char nonfinite_msg[FOLD_IPOPT_MSG_LEN];
} fold_ipopt_ctx;

/* Check that n, m and the pattern sizes fit Ipopt's int Index (FOLD_ERR_TOO_LARGE). */
fold_status fold_ipopt_check_size(fold_int n, fold_int m, fold_int nnz_jac, fold_int nnz_hess);

/* The solver's cached structure, built on first use (hess_l pattern ignored when the
 * problem has no hess_l callback). NULL with FOLD_ERR_MEMORY detail on failure. */
const fold_ipopt_structure *fold_ipopt_structure_get(fold_solver *s);

/* The C callbacks given to CreateIpoptProblem / SetIntermediateCallback; user data is a
 * fold_ipopt_ctx. */
Bool fold_ipopt_eval_f(Index n, Number *x, Bool new_x, Number *obj, UserDataPtr ud);
Bool fold_ipopt_eval_grad_f(Index n, Number *x, Bool new_x, Number *grad, UserDataPtr ud);
Bool fold_ipopt_eval_g(Index n, Number *x, Bool new_x, Index m, Number *g, UserDataPtr ud);
Bool fold_ipopt_eval_jac_g(Index n, Number *x, Bool new_x, Index m, Index nele, Index *row,
                           Index *col, Number *values, UserDataPtr ud);
Bool fold_ipopt_eval_h(Index n, Number *x, Bool new_x, Number obj_factor, Index m, Number *lam,
                       Bool new_lam, Index nele, Index *row, Index *col, Number *values,
                       UserDataPtr ud);
Bool fold_ipopt_intermediate(Index alg_mod, Index iter, Number obj, Number inf_pr, Number inf_du,
                             Number mu, Number d_norm, Number reg, Number alpha_du, Number alpha_pr,
                             Index ls_trials, UserDataPtr ud);

/* The result of one Ipopt run (fold_ipopt_attempt): the point (x owns one block holding
 * zl, zu, lam too) when usable (converged, or iterated at least once), its info. */
typedef struct fold_ipopt_result {
    double *x, *zl, *zu, *lam;
    double objective;
    bool usable, converged;
    fold_forward_info info;
} fold_ipopt_result;

/* One Ipopt run at p with settings set (validated here). With tighten, a re-solve that
 * tightens the stored converged solution (forward/resolve.c only): warm from it, and without
 * Ipopt's bound relaxation (doc/math.md §2.3). Else from fold_solver_set_start's point, the
 * last solution under forward.warm_start, or x_start, with the relaxation. Nothing is stored
 * in s except the evaluation counters. mu_init (NULL: none) is Ipopt's mu_init of this run
 * unless the solver's options set one. Returns fold_solve's statuses for this run. */
fold_status fold_ipopt_attempt(fold_solver *s, const double *p, const fold_settings *set,
                               const char *mu_init, bool tighten, fold_ipopt_result *r);
void fold_ipopt_result_free(fold_ipopt_result *r);
/* The checks of a solve before Ipopt runs: p finite, sizes, settings and their pass-through
 * options (named as fold_solve's). */
fold_status fold_ipopt_check_call(const fold_solver *s, const fold_settings *set, const double *p);
/* Store r's point as the solver's solution (converged or not). */
void fold_ipopt_store(fold_solver *s, const double *p, fold_ipopt_result *r);

/* --- ipopt_options.c --- */
/* The process-wide Ipopt lock: every Ipopt call runs under it. */
void fold_ipopt_lock(void);
void fold_ipopt_unlock(void);
/* Options foldopt sets (FOLD_ERR_INTERNAL when Ipopt refuses one). */
fold_status fold_ipopt_opt_str(IpoptProblem ip, const char *name, const char *value);
fold_status fold_ipopt_opt_int(IpoptProblem ip, const char *name, int value);
fold_status fold_ipopt_opt_num(IpoptProblem ip, const char *name, double value);
/* A user's pass-through option, typed by trial (FOLD_ERR_SETTING naming it when refused). */
fold_status fold_ipopt_pass_option(IpoptProblem ip, const char *name, const char *value,
                                   const char *fn);
/* Silence Ipopt before any other option (print_level, banner, no option file). */
fold_status fold_ipopt_quiet_init(IpoptProblem ip);

/* A forward.tol below this is reached in stages when the direct solve fails
 * (forward/resolve.c). */
#define FOLD_STAGE_TOL 1e-8
/* The direct solve at a tight tol failed or ended at the acceptable level (status failed):
 * solve at FOLD_STAGE_TOL, then tighten warm 10 times per stage down to forward.tol,
 * keeping the last solved point in r (doc/math.md §3.2 "Resolution"). When even the first
 * stage does not end solved, r (the direct solve) stays and failed is returned. Returns the
 * status of the kept point. */
fold_status fold_solve_staged(fold_solver *s, const double *p, fold_status failed,
                              fold_ipopt_result *r);
/* After a solve that ended solved, under active_set.ambiguity = resolve: re-solve warm with a
 * tol and initial barrier parameter 100 times smaller while sides stay ambiguous, at most
 * forward.resolve_rounds times; keep each re-solve that ends solved and record the verdicts
 * of the sides whose slack or multiplier vanished with the barrier parameter (s->verdict).
 * Updates *info (counts, times, resolves, n_ambiguous). */
fold_status fold_resolve_ambiguity(fold_solver *s, const double *p, fold_forward_info *info);
/* n_ambiguous of the stored solution into info (no re-solve). */
void fold_sides_count(fold_solver *s, const double *p, fold_forward_info *info);

/* Ipopt ApplicationReturnStatus -> fold_forward_status. */
int fold_ipopt_map_status(int raw);

#endif
