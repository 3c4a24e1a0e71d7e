/* AC optimal power flow: MATPOWER case reader, the PGLib baseline polar AC-OPF as a
 * parametric NLP, and a synthetic grid generator. Built on the public API only.
 * Formulation, units and parameter layout: doc/acopf.md. */
#ifndef FOLD_PROBLEMS_ACOPF_H
#define FOLD_PROBLEMS_ACOPF_H

#include <stdio.h>

#include "foldopt.h"

/* ---- case data (per-unit conversion happens in the model, the case keeps file units) ---- */

typedef struct fold_acopf_bus {
    long id;              /* bus number in the file */
    int type;             /* 1 PQ, 2 PV, 3 reference (isolated type-4 buses are dropped) */
    double pd, qd;        /* load, MW and MVAr */
    double gs, bs;        /* shunt, MW and MVAr demanded/injected at V = 1 p.u. */
    double vm0, va0;      /* voltage in the file (p.u., degrees) */
    double vmin, vmax;    /* p.u. */
    long line;            /* line of the row in the file */
} fold_acopf_bus;

typedef struct fold_acopf_gen {
    fold_int bus;         /* index into buses */
    long row;             /* 1-based row of mpc.gen in the file (kept in output keys) */
    double pg0, qg0;      /* set point in the file, MW and MVAr */
    double pmin, pmax, qmin, qmax; /* MW, MVAr */
    int n_cost;           /* polynomial: coefficients (degree n_cost - 1); piecewise linear:
                             points (>= 2) */
    fold_int cost_off;    /* polynomial: c_0 .. c_{n-1} (ascending powers of MW) at
                             case->cost[cost_off ..]; piecewise linear: x_1, y_1, .., x_n, y_n
                             (MW, $/h; x increasing, slopes non-decreasing) there */
    long line;
    bool pwl;             /* cost model 1 (piecewise linear) instead of 2 (polynomial) */
} fold_acopf_gen;

typedef struct fold_acopf_branch {
    fold_int f, t;        /* indices into buses */
    long row;             /* 1-based row of mpc.branch in the file */
    double r, x, b;       /* p.u. */
    double rate_a;        /* MVA; 0 = unlimited */
    double tap;           /* off-nominal ratio (0 in the file is stored as 1) */
    double shift_deg;     /* phase shift, degrees */
    double angmin_deg, angmax_deg;
    long line;
} fold_acopf_branch;

typedef struct fold_acopf_case {
    char name[128];       /* file name without folder and ".m" */
    double base_mva;
    fold_int n_bus, n_gen, n_branch;
    fold_acopf_bus *bus;
    fold_acopf_gen *gen;  /* in-service generators at non-isolated buses, file order */
    fold_acopf_branch *branch; /* in-service branches, file order */
    double *cost;         /* all generators' cost coefficients */
    fold_int n_dropped_bus, n_dropped_gen, n_dropped_branch;
} fold_acopf_case;

/* Detail of the last acopf error of the calling thread ("case14.m:37: branch row has 12
 * fields, need 13"), empty when none. Every fold_acopf_* function that fails sets it; the
 * fold_* library errors it passes through are copied in as well. */
const char *fold_acopf_last_error(void);

/* Read a MATPOWER version-2 case file. Errors: FOLD_ERR_IO (cannot read), FOLD_ERR_PARSE
 * (malformed: message names file, line, field), FOLD_ERR_UNSUPPORTED (non-convex
 * piecewise-linear cost, version 1), FOLD_ERR_MEMORY. *out is set only on success. */
fold_status fold_acopf_case_read(const char *path, fold_acopf_case **out);

/* Parse a case from memory (text need not be NUL-terminated; len bytes). name is used in
 * messages and as the case name. */
fold_status fold_acopf_case_parse(const char *text, size_t len, const char *name,
                                  fold_acopf_case **out);

/* Free; accepts NULL. */
void fold_acopf_case_free(fold_acopf_case *cs);

/* Write a case in MATPOWER version-2 format (all buses, gens and branches in service). */
fold_status fold_acopf_case_write(const fold_acopf_case *cs, FILE *out);

/* ---- the model: x = (va, vm, pg, qg, ...) in p.u./radians; see doc/acopf.md ---- */

typedef struct fold_acopf fold_acopf;

/* Offsets of the blocks of x, g and p. Sizes: va, vm: n_bus; pg, qg: n_gen; cost epigraph
 * variables t: n_pwl (one per piecewise-linear generator, $/h); constraint blocks: balance
 * P and Q (n_bus each), thermal limits at the from and to ends (n_rated each), angle
 * differences (n_angle), cost segments (n_seg); parameters pd, qd (n_bus), c1, c2 (n_gen;
 * inert for piecewise-linear generators). Branches with flow variables (doc/acopf.md §2.1):
 * n_flow of them, each with the variables (pf, qf, pt, qt) at x_fl + 4 k (p.u.) and the
 * rows flow - h(v) = 0 at g_flow + 4 k, in the same order. */
typedef struct fold_acopf_layout {
    fold_int n, m, np;
    fold_int x_va, x_vm, x_pg, x_qg;
    fold_int g_p, g_q, g_sf, g_st, g_ang;
    fold_int n_rated, n_angle;
    fold_int p_pd, p_qd, p_c1, p_c2;
    fold_int x_t, n_pwl;  /* epigraph variables (after qg) */
    fold_int g_seg, n_seg; /* segment rows (after the angle rows) */
    fold_int x_fl, g_flow, n_flow; /* flow variables (after t), their rows (after segments) */
} fold_acopf_layout;

/* Model options. flow_var_max_z: the rated branches whose series impedance |r + jx| (p.u.)
 * is below it get flow variables, so that their thermal limits are written in those
 * variables instead of the voltages (doc/acopf.md §2.1); 0: none, HUGE_VAL: every rated
 * branch. Default FOLD_ACOPF_FLOW_VAR_MAX_Z. flow_var_branch: NULL (default), or one flag
 * per branch of the case (n_branch): a nonzero flag gives that branch flow variables
 * whatever its impedance; it must have a thermal limit. */
#define FOLD_ACOPF_FLOW_VAR_MAX_Z 2e-4
typedef struct fold_acopf_options {
    double flow_var_max_z;
    const unsigned char *flow_var_branch;
} fold_acopf_options;

void fold_acopf_default_options(fold_acopf_options *opt);

/* Generator of epigraph variable k (0 <= k < n_pwl) and of segment row k (< n_seg); -1
 * when out of range. */
fold_int fold_acopf_pwl_gen(const fold_acopf *model, fold_int k);
fold_int fold_acopf_seg_gen(const fold_acopf *model, fold_int k);

/* Build the model (copies what it needs from cs) and its fold_problem. Errors:
 * FOLD_ERR_ARGUMENT, FOLD_ERR_MEMORY, or fold_problem_create's. */
fold_status fold_acopf_create(const fold_acopf_case *cs, fold_acopf **out);
/* The same with options (NULL: defaults). FOLD_ERR_ARGUMENT also for a negative or NaN
 * flow_var_max_z. */
fold_status fold_acopf_create_with(const fold_acopf_case *cs, const fold_acopf_options *opt,
                                   fold_acopf **out);

/* Free the model and its problem; accepts NULL. */
void fold_acopf_free(fold_acopf *model);

const fold_problem *fold_acopf_problem(const fold_acopf *model);
const fold_acopf_case *fold_acopf_get_case(const fold_acopf *model);
fold_acopf_layout fold_acopf_get_layout(const fold_acopf *model);
/* Branch index of thermal row k (0 <= k < n_rated) and of angle row k (< n_angle). */
fold_int fold_acopf_rated_branch(const fold_acopf *model, fold_int k);
fold_int fold_acopf_angle_branch(const fold_acopf *model, fold_int k);
/* Branch index of flow-variable group k (0 <= k < n_flow); -1 when out of range. */
fold_int fold_acopf_flow_branch(const fold_acopf *model, fold_int k);

/* Carry a primal-dual point (x, lam, zl, zu in from's layout) to the model `to` of the same
 * case with other flow variables (doc/acopf.md §2.2): the shared blocks are copied, a flow
 * variable new in `to` is set to its branch's flow h(V) and its row's multiplier to the
 * value stationarity in that variable gives, -2 mu v with mu the thermal multiplier of
 * its end; its bound multipliers are zero (flow variables are free). lam, zl, zu may be
 * NULL together (then so may the outputs). FOLD_ERR_ARGUMENT when the models are not of
 * one case. */
fold_status fold_acopf_convert_point(const fold_acopf *from, const fold_acopf *to,
                                     const double *x, const double *lam, const double *zl,
                                     const double *zu, double *x_to, double *lam_to,
                                     double *zl_to, double *zu_to);

/* ---- solving (doc/acopf.md §2.2) ---- */

/* fold_acopf_solve's options. max_rounds: re-solves after Ipopt stops at its acceptable
 * level (0: none); stiff_factor: a rated branch without flow variables gets them in a
 * re-solve when the residual floor of its thermal limit, 2 mu |grad h|^2 DBL_EPSILON at
 * the acceptable point, exceeds stiff_factor * forward.tol. */
#define FOLD_ACOPF_REFINE_ROUNDS 2
#define FOLD_ACOPF_STIFF_FACTOR 0.1
typedef struct fold_acopf_solve_options {
    int max_rounds;
    double stiff_factor;
} fold_acopf_solve_options;

void fold_acopf_default_solve_options(fold_acopf_solve_options *opt);

typedef struct fold_acopf_solve_info {
    int first_status;          /* fold_forward_status of the first solve */
    fold_int first_iterations; /* its Ipopt iterations */
    int rounds;                /* re-solves run */
    fold_int n_flow_added;     /* branches given flow variables by the kept re-solves */
    fold_status failed;        /* a re-solve that failed (its result dropped), else 0 */
    int failed_status;         /* its fold_forward_status */
} fold_acopf_solve_info;

/* Solve *model with Ipopt (settings set, NULL: defaults; parameters p, NULL: the model's
 * defaults). When Ipopt stops at its acceptable level, build the model again with flow
 * variables also on the branches whose thermal limit is too stiff at that point and
 * re-solve it warm from the point carried over (fold_acopf_convert_point), up to
 * opt->max_rounds times (opt NULL: defaults); a re-solve that fails is dropped and the
 * acceptable point kept. On return *model is the model of the kept solution (the one
 * given is freed when replaced) and *solver (new, the caller frees it) holds that
 * solution, also when the solve failed (NULL only on an argument or memory error). info
 * sums iterations, times and evaluations over the solves; status and objective are the
 * kept solution's. Returns fold_solve's status of the kept solution, or an error. */
fold_status fold_acopf_solve(fold_acopf **model, const fold_settings *set, const double *p,
                             const fold_acopf_solve_options *opt, fold_solver **solver,
                             fold_forward_info *info, fold_acopf_solve_info *sinfo);

/* The solve of fold_acopf_solve on a solver the caller created for fold_acopf_problem(model)
 * and keeps: its settings apply, its start point (fold_solver_set_start, or its stored
 * solution under forward.warm_start) starts the first solve, and the analyses it holds
 * carry over between calls. model and solver are never freed nor replaced: when a re-solve
 * is kept, *resolved and *resolved_solver receive its model and solver (the caller frees
 * both, the solver first) and hold the returned solution; otherwise they are NULL and
 * solver holds it. FOLD_ERR_ARGUMENT also when solver belongs to another problem. */
fold_status fold_acopf_solve_on(const fold_acopf *model, fold_solver *solver, const double *p,
                                const fold_acopf_solve_options *opt, fold_acopf **resolved,
                                fold_solver **resolved_solver, fold_forward_info *info,
                                fold_acopf_solve_info *sinfo);

/* The flat start (vm = 1 clipped into its bounds, va = 0, pg and qg at their bound
 * midpoints, infinite bounds replaced by 0, each t at its generator's cost there, each flow
 * variable at its branch's flow there) into x (n). */
void fold_acopf_flat_start(const fold_acopf *model, double *x);

/* Convert x to file units: pg, qg (MW, MVAr, n_gen), vm (p.u.), va (degrees) (n_bus).
 * Any output may be NULL. */
void fold_acopf_solution_units(const fold_acopf *model, const double *x, double *pg_mw,
                               double *qg_mvar, double *vm, double *va_deg);

/* Objective in $/h at x with the case's own costs (for tests): polynomial costs and the
 * piecewise-linear costs evaluated at pg (not the epigraph variables t). */
double fold_acopf_objective(const fold_acopf *model, const double *x);

/* Constraint values g(x; p) into g (m entries), as the solver sees them; returns 0. */
int fold_acopf_eval_g(const fold_acopf *model, const double *x, const double *p, double *g);
/* Objective gradients at (x, p): grad_x f (n entries) and grad_p f (np entries); return 0. */
int fold_acopf_eval_grad_f(const fold_acopf *model, const double *x, const double *p,
                           double *grad);
int fold_acopf_eval_grad_f_p(const fold_acopf *model, const double *x, const double *p,
                             double *grad_p);

/* ---- synthetic grids ---- */

/* Generate a feasible meshed grid of n_bus buses (>= 2) from seed: buses on a jittered 2-D
 * lattice, a random spanning tree plus extra short edges, generators on about 20% of the
 * buses with capacity above the load. *out is a case like one read from a file. */
fold_status fold_acopf_gen_grid(fold_int n_bus, unsigned long long seed,
                                fold_acopf_case **out);

#endif
