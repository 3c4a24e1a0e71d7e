/* AC optimal power flow: MATPOWER and PowerModels case readers, the PGLib baseline polar
 * AC-OPF as a parametric NLP, its solve, results in MATPOWER's units, sensitivities of any
 * output with respect to any parameter, and a synthetic grid generator. Part of the
 * installed library (#include <foldopt/acopf.h>), built on the public API only (sources in
 * problems/acopf/). Formulation, units and parameter layout: doc/acopf.md; the C API:
 * doc/api/acopf.md. */
#ifndef FOLDOPT_ACOPF_H
#define FOLDOPT_ACOPF_H

#include <stdio.h>

#include "types.h"
#include "status.h"
#include "settings.h"
#include "problem.h"
#include "solver.h"
#include "fold.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- case data (per-unit conversion happens in the model, the case keeps file units) ---- */

typedef struct fold_acopf_bus {
    long id;           /* bus number in the file */
    int type;          /* 1 PQ, 2 PV, 3 reference (isolated type-4 buses are dropped) */
    double pd, qd;     /* load, MW and MVAr */
    double gs, bs;     /* shunt, MW and MVAr demanded/injected at V = 1 p.u. */
    double vm0, va0;   /* voltage in the file (p.u., degrees) */
    double vmin, vmax; /* p.u. */
    long line;         /* line of the row in the file */
} fold_acopf_bus;

typedef struct fold_acopf_gen {
    fold_int bus;                  /* index into buses */
    long row;                      /* 1-based row of mpc.gen in the file (kept in output keys) */
    double pg0, qg0;               /* set point in the file, MW and MVAr */
    double pmin, pmax, qmin, qmax; /* MW, MVAr */
    int n_cost;        /* polynomial: coefficients (degree n_cost - 1); piecewise linear:
                          points (>= 2) */
    fold_int cost_off; /* polynomial: c_0 .. c_{n-1} (ascending powers of MW) at
                          case->cost[cost_off ..]; piecewise linear: x_1, y_1, .., x_n, y_n
                          (MW, $/h; x increasing, slopes non-decreasing) there */
    long line;
    bool pwl; /* cost model 1 (piecewise linear) instead of 2 (polynomial) */
} fold_acopf_gen;

typedef struct fold_acopf_branch {
    fold_int f, t;    /* indices into buses */
    long row;         /* 1-based row of mpc.branch in the file */
    double r, x, b;   /* p.u. */
    double rate_a;    /* MVA; 0 = unlimited */
    double tap;       /* off-nominal ratio (0 in the file is stored as 1) */
    double shift_deg; /* phase shift, degrees */
    double angmin_deg, angmax_deg;
    long line;
} fold_acopf_branch;

typedef struct fold_acopf_case {
    char name[128]; /* file name without folder and ".m" */
    double base_mva;
    fold_int n_bus, n_gen, n_branch;
    fold_acopf_bus *bus;
    fold_acopf_gen *gen;       /* in-service generators at non-isolated buses, file order */
    fold_acopf_branch *branch; /* in-service branches, file order */
    double *cost;              /* all generators' cost coefficients */
    fold_int n_dropped_bus, n_dropped_gen, n_dropped_branch;
} fold_acopf_case;

/* Limits of the data the reader and the model accept (doc/acopf.md §1.1): they keep every
 * coefficient of the model and every callback value at its start point and at its bounds
 * finite. Numbers the model uses are finite with magnitude at most FOLD_ACOPF_MAX_MAGNITUDE
 * in file units (limits may be infinite on their open side: Pmax, Qmax, rateA = Inf,
 * Pmin, Qmin = -Inf); baseMVA at least FOLD_ACOPF_BASE_MIN; branch impedance |r + jx| at
 * least FOLD_ACOPF_MIN_IMPEDANCE p.u.; tap ratios in [FOLD_ACOPF_TAP_MIN,
 * FOLD_ACOPF_TAP_MAX]; polynomial costs with at most FOLD_ACOPF_MAX_COST_TERMS
 * coefficients. A case file has at most FOLD_ACOPF_MAX_CASE_BYTES bytes (FOLD_ERR_TOO_LARGE,
 * checked before it is read: about a million buses as gen-grid writes them). */
#define FOLD_ACOPF_MAX_MAGNITUDE 1e9
#define FOLD_ACOPF_BASE_MIN 1e-3
#define FOLD_ACOPF_MIN_IMPEDANCE 1e-10
#define FOLD_ACOPF_TAP_MIN 1e-3
#define FOLD_ACOPF_TAP_MAX 1e3
#define FOLD_ACOPF_MAX_COST_TERMS 10
#define FOLD_ACOPF_MAX_CASE_BYTES ((size_t)256 << 20)

/* Radians per degree: case files and the outputs in file units give angles (VA, SHIFT,
 * ANGMIN, ANGMAX) in degrees, the model works in radians. */
#define FOLD_ACOPF_RAD_PER_DEG (3.14159265358979323846 / 180.0)

/* Errors: every fold_acopf_* function that fails returns a negative fold_status and sets the
 * calling thread's detail, read by fold_last_error() (foldopt/status.h; the library's one
 * channel, e.g. "case14.m:37: branch row has 12 fields, need 13"), prefixing the fold_*
 * library errors it passes through. The calls that compute clear it on entry: after one that
 * succeeded it is the empty string. */

/* Read a MATPOWER version-2 case file (ASCII or UTF-8 text; a UTF-8 byte-order mark at the
 * start is skipped). Errors: FOLD_ERR_IO (cannot read, a directory), FOLD_ERR_TOO_LARGE
 * (more than FOLD_ACOPF_MAX_CASE_BYTES), FOLD_ERR_PARSE (malformed, or data outside the
 * limits above: message names file, line, field and the bus, generator or branch),
 * FOLD_ERR_UNSUPPORTED (non-convex piecewise-linear cost, version 1, polynomial cost of
 * too high a degree), FOLD_ERR_MEMORY. *out is set only on success. */
FOLD_API fold_status fold_acopf_case_read(const char *path, fold_acopf_case **out);

/* Parse a case from memory (text need not be NUL-terminated; len bytes, at most
 * FOLD_ACOPF_MAX_CASE_BYTES). name is used in messages and as the case name. The format is
 * told by the text: a JSON object is a PowerModels network (doc/acopf.md §1.3), text with
 * mpc.<field> statements a MATPOWER case; anything else is FOLD_ERR_PARSE saying which
 * formats foldopt reads. */
FOLD_API fold_status fold_acopf_case_parse(const char *text, size_t len, const char *name,
                                           fold_acopf_case **out);

/* Free; accepts NULL. */
FOLD_API void fold_acopf_case_free(fold_acopf_case *cs);

/* Write a case in MATPOWER version-2 format (all buses, gens and branches in service). */
FOLD_API fold_status fold_acopf_case_write(const fold_acopf_case *cs, FILE *out);

/* Write a case as a PowerModels JSON network (doc/acopf.md §1.3): per unit, as
 * PowerModels' parse_file makes it and export_json writes it (bus, load, shunt, gen,
 * branch keyed by their index: bus ids, the rows of mpc.gen and mpc.branch);
 * fold_acopf_case_read reads it back as the same case (to rounding of the per-unit and
 * radian conversions). FOLD_ERR_ARGUMENT, FOLD_ERR_MEMORY, FOLD_ERR_IO. */
FOLD_API fold_status fold_acopf_case_write_pm_json(const fold_acopf_case *cs, FILE *out);

/* ---- the model: x = (va, vm, pg, qg, ...) in p.u./radians; see doc/acopf.md ---- */

/* A model: the case and the problem built from it. Thread safety: read-only after
 * fold_acopf_create (every other call takes it const), so several threads may use one model
 * with their own solvers; the trust report of fold_acopf_* calls is kept per thread. */
typedef struct fold_acopf fold_acopf;

/* Offsets of the blocks of x, g and p. Sizes: va, vm: n_bus; pg, qg: n_gen; cost epigraph
 * variables t: n_pwl (one per piecewise-linear generator, $/h); constraint blocks: balance
 * P and Q (n_bus each), thermal limits at the from and to ends (n_rated each), angle
 * differences (n_angle), cost segments (n_seg); parameters pd, qd (n_bus), c1, c2 (n_gen;
 * inert for piecewise-linear generators). Branches with flow variables (doc/acopf.md §2.1):
 * n_flow of them, each with the variables (pf, qf, pt, qt) at x_fl + 4 k (p.u.) and the
 * rows flow - h(v) = 0 at g_flow + 4 k, in the same order. The struct grows with the model
 * (size, doc/api/types.md): fold_acopf_layout_get fills the caller's prefix. */
typedef struct fold_acopf_layout {
    size_t size; /**< set by the caller: sizeof(fold_acopf_layout) (FOLD_ACOPF_LAYOUT_INIT) */
    fold_int n, m, np;
    fold_int x_va, x_vm, x_pg, x_qg;
    fold_int g_p, g_q, g_sf, g_st, g_ang;
    fold_int n_rated, n_angle;
    fold_int p_pd, p_qd, p_c1, p_c2;
    fold_int x_t, n_pwl;           /* epigraph variables (after qg) */
    fold_int g_seg, n_seg;         /* segment rows (after the angle rows) */
    fold_int x_fl, g_flow, n_flow; /* flow variables (after t), their rows (after segments) */
    /* further parameters (doc/acopf.md §2, file units): c0 per generator ($/h); gs, bs per
     * bus (MW, MVAr at 1 p.u.); r, x, b (p.u.), tap (ratio), shift (degrees), rate_a (MVA)
     * per branch. Inert (every derivative 0): c0 of piecewise-linear generators, rate_a of
     * branches without a limit in the file. */
    fold_int p_c0, p_gs, p_bs, p_r, p_x, p_b, p_tap, p_shift, p_rate;
    /* the limits as parameters (bounds of x that move with p, doc/acopf.md §2): vmin, vmax
     * per bus (p.u.); pmin, pmax, qmin, qmax per generator (MW, MVAr). Inert: an infinite
     * limit (its parameter holds +-FOLD_INF_BOUND). A variable with equal limits (pmin =
     * pmax) stays fixed at their mean. */
    fold_int p_vmin, p_vmax, p_pmin, p_pmax, p_qmin, p_qmax;
} fold_acopf_layout;

/** Initializer of a fold_acopf_layout: its size, every other field zero. */
#define FOLD_ACOPF_LAYOUT_INIT                                                                     \
    {                                                                                              \
        .size = sizeof(fold_acopf_layout)                                                          \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_ACOPF_LAYOUT_V1 FOLD_FIELD_END(fold_acopf_layout, p_qmax)

/* Model options. flow_var_max_z: the rated branches whose series impedance |r + jx| (p.u.)
 * is below it get flow variables, so that their thermal limits are written in those
 * variables instead of the voltages (doc/acopf.md §2.1); 0: none, HUGE_VAL: every rated
 * branch. Default FOLD_ACOPF_FLOW_VAR_MAX_Z. flow_var_branch: NULL (default), or one flag
 * per branch of the case (n_branch): a nonzero flag gives that branch flow variables
 * whatever its impedance; it must have a thermal limit. */
#define FOLD_ACOPF_FLOW_VAR_MAX_Z 2e-4
/* start: the point Ipopt starts a cold solve from (the problem's x_start; doc/acopf.md §2
 * "Start"): FOLD_ACOPF_START_RATIO (default, fold_acopf_ratio_start) or FOLD_ACOPF_START_FLAT
 * (fold_acopf_flat_start). */
typedef enum fold_acopf_start {
    FOLD_ACOPF_START_RATIO = 0,
    FOLD_ACOPF_START_FLAT = 1
} fold_acopf_start;
typedef struct fold_acopf_options {
    double flow_var_max_z;
    const unsigned char *flow_var_branch;
    fold_acopf_start start;
} fold_acopf_options;

FOLD_API void fold_acopf_default_options(fold_acopf_options *opt);

/* Generator of epigraph variable k (0 <= k < n_pwl) and of segment row k (< n_seg); -1
 * when out of range. */
FOLD_API fold_int fold_acopf_pwl_gen(const fold_acopf *model, fold_int k);
FOLD_API fold_int fold_acopf_seg_gen(const fold_acopf *model, fold_int k);

/* Build the model (copies what it needs from cs) and its fold_problem. Errors:
 * FOLD_ERR_ARGUMENT, FOLD_ERR_MEMORY, or fold_problem_create's. */
FOLD_API fold_status fold_acopf_create(const fold_acopf_case *cs, fold_acopf **out);
/* The same with options (NULL: defaults). FOLD_ERR_ARGUMENT also for a negative or NaN
 * flow_var_max_z. */
FOLD_API fold_status fold_acopf_create_with(const fold_acopf_case *cs,
                                            const fold_acopf_options *opt, fold_acopf **out);

/* Free the model and its problem; accepts NULL. */
FOLD_API void fold_acopf_free(fold_acopf *model);

FOLD_API const fold_problem *fold_acopf_problem(const fold_acopf *model);
FOLD_API const fold_acopf_case *fold_acopf_get_case(const fold_acopf *model);
/* The layout of the model into *out, whose size the caller sets (FOLD_ACOPF_LAYOUT_INIT): the
 * library writes that many bytes. FOLD_ERR_ARGUMENT for a NULL model or out, or a size below
 * FOLD_ACOPF_LAYOUT_V1 (nothing written). */
FOLD_API fold_status fold_acopf_layout_get(const fold_acopf *model, fold_acopf_layout *out);
/* The layout by value (every offset zero for a NULL model): fold_acopf_layout_get with the
 * size this header was compiled with, so it keeps working with a later library. */
static inline fold_acopf_layout fold_acopf_get_layout(const fold_acopf *model)
{
    fold_acopf_layout L = {0}; /* not the INIT macro: this header also compiles as C++ */
    L.size = sizeof L;
    if (model) fold_acopf_layout_get(model, &L);
    return L;
}
/* Branch index of thermal row k (0 <= k < n_rated) and of angle row k (< n_angle). */
FOLD_API fold_int fold_acopf_rated_branch(const fold_acopf *model, fold_int k);
FOLD_API fold_int fold_acopf_angle_branch(const fold_acopf *model, fold_int k);
/* Branch index of flow-variable group k (0 <= k < n_flow); -1 when out of range. */
FOLD_API fold_int fold_acopf_flow_branch(const fold_acopf *model, fold_int k);

/* Carry a primal-dual point (x, lam, zl, zu in from's layout) at parameters p (NULL: the
 * defaults) to the model `to` of the same case with other flow variables (doc/acopf.md
 * §2.2): the shared blocks are copied, a flow
 * variable new in `to` is set to its branch's flow h(V) and its row's multiplier to the
 * value stationarity in that variable gives, -2 mu v with mu the thermal multiplier of
 * its end; its bound multipliers are zero (flow variables are free). lam, zl, zu may be
 * NULL together (then so may the outputs). FOLD_ERR_ARGUMENT when the models are not of
 * one case. */
FOLD_API fold_status fold_acopf_convert_point(const fold_acopf *from, const fold_acopf *to,
                                              const double *p, const double *x, const double *lam,
                                              const double *zl, const double *zu, double *x_to,
                                              double *lam_to, double *zl_to, double *zu_to);

/* ---- solving (doc/acopf.md §2.2) ---- */

/* fold_acopf_solve's options. max_rounds: re-solves with flow variables (0: none): while
 * Ipopt stops at its acceptable level, and one after a solved first solve; stiff_factor: a
 * rated branch without flow variables gets them in a re-solve when the residual floor of its
 * thermal limit, 2 mu |grad h|^2 DBL_EPSILON at the point reached, exceeds stiff_factor *
 * forward.tol. */
#define FOLD_ACOPF_REFINE_ROUNDS 2
#define FOLD_ACOPF_STIFF_FACTOR 0.1
typedef struct fold_acopf_solve_options {
    int max_rounds;
    double stiff_factor;
    /** fold_acopf_solve only: Ipopt options of the solver it creates, name, value, ..., NULL
     * (fold_solver_set_ipopt_options; NULL: none, the default). fold_acopf_solve_on uses the
     * caller's solver's own options (fold_solver_set_ipopt_option). Re-solves carry them. */
    const char *const *ipopt_options;
} fold_acopf_solve_options;

FOLD_API void fold_acopf_default_solve_options(fold_acopf_solve_options *opt);

typedef struct fold_acopf_solve_info {
    size_t size; /**< set by the caller: initialize with FOLD_ACOPF_SOLVE_INFO_INIT */
    fold_forward_status first_status;  /* of the first solve */
    fold_int first_iterations;         /* its Ipopt iterations */
    int rounds;                        /* re-solves run */
    fold_int n_flow_added;             /* branches given flow variables by the kept re-solves */
    fold_status failed;                /* a re-solve whose result was dropped: an error when it
                                          failed, FOLD_WARN_INACCURATE when it ended acceptable
                                          after a solved first solve; else 0 */
    fold_forward_status failed_status; /* its forward status */
} fold_acopf_solve_info;

/** Initializer of a fold_acopf_solve_info: its size, every other field zero. */
#define FOLD_ACOPF_SOLVE_INFO_INIT                                                                 \
    {                                                                                              \
        .size = sizeof(fold_acopf_solve_info)                                                      \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_ACOPF_SOLVE_INFO_V1 FOLD_FIELD_END(fold_acopf_solve_info, failed_status)

/* Solve *model with Ipopt (settings set, NULL: defaults; parameters p, NULL: the model's
 * defaults). When the point reached has branches whose thermal limit is too stiff for
 * forward.tol, build the model again with flow variables also on them and re-solve it warm
 * from the point carried over (fold_acopf_convert_point): while Ipopt stops at its
 * acceptable level, up to opt->max_rounds times (opt NULL: defaults), and once after a
 * solved first solve (kept only if solved too, doc/acopf.md §2.2); a re-solve that fails is
 * dropped and the previous point kept. Tightening re-solves under forward.resolve_when =
 * solve run on the kept model only. On return *model is the model of the kept solution (the one
 * given is freed when replaced) and *solver (new, the caller frees it) holds that
 * solution, also when the solve failed (NULL only on an argument or memory error). info
 * sums iterations, times and evaluations over the solves; status and objective are the
 * kept solution's. Returns fold_solve's status of the kept solution, or an error. */
FOLD_API fold_status fold_acopf_solve(fold_acopf **model, const fold_settings *set, const double *p,
                                      const fold_acopf_solve_options *opt, fold_solver **solver,
                                      fold_forward_info *info, fold_acopf_solve_info *sinfo);

/* The solve of fold_acopf_solve on a solver the caller created for fold_acopf_problem(model)
 * and keeps: its settings apply, its start point (fold_solver_set_start, or its stored
 * solution under forward.warm_start) starts the first solve, and the analyses it holds
 * carry over between calls. model and solver are never freed nor replaced: when a re-solve
 * is kept, *resolved and *resolved_solver receive its model and solver (the caller frees
 * both, the solver first) and hold the returned solution; otherwise they are NULL and
 * solver holds it. FOLD_ERR_ARGUMENT also when solver belongs to another problem. */
FOLD_API fold_status fold_acopf_solve_on(const fold_acopf *model, fold_solver *solver,
                                         const double *p, const fold_acopf_solve_options *opt,
                                         fold_acopf **resolved, fold_solver **resolved_solver,
                                         fold_forward_info *info, fold_acopf_solve_info *sinfo);

/* The flat start (vm = 1 clipped into its bounds, va = 0, pg and qg at their bound
 * midpoints, infinite bounds replaced by 0, each t at its generator's cost there, each flow
 * variable at its branch's flow there) into x (n). */
FOLD_API void fold_acopf_flat_start(const fold_acopf *model, double *x);

/* The ratio start (doc/acopf.md §2 "Start"), the default x_start: the voltages follow the
 * branches' complex ratios tap e^{j shift}. vm: the least-squares fit of ln vm_f - ln vm_t =
 * ln tap over the branches, weighted by 1/|z|, within each bus's [vmin, vmax], the reference
 * buses at the one magnitude inside most of those bands; va: the DC power flow whose only
 * injections are the phase shifts'. pg, qg, t and the flow variables as in the flat start. */
FOLD_API void fold_acopf_ratio_start(const fold_acopf *model, double *x);

/* Convert x to file units: pg, qg (MW, MVAr, n_gen), vm (p.u.), va (degrees) (n_bus).
 * Any output may be NULL. */
FOLD_API void fold_acopf_solution_units(const fold_acopf *model, const double *x, double *pg_mw,
                                        double *qg_mvar, double *vm, double *va_deg);

/* Objective in $/h at x with the case's own costs (for tests): polynomial costs and the
 * piecewise-linear costs evaluated at pg (not the epigraph variables t). */
FOLD_API double fold_acopf_objective(const fold_acopf *model, const double *x);
/* The same with the cost parameters of p (np entries; NULL: the model's defaults). */
FOLD_API double fold_acopf_objective_at(const fold_acopf *model, const double *x, const double *p);

/* Constraint values g(x; p) into g (m entries), as the solver sees them; returns 0. */
FOLD_API int fold_acopf_eval_g(const fold_acopf *model, const double *x, const double *p,
                               double *g);
/* Objective gradients at (x, p): grad_x f (n entries) and grad_p f (np entries); return 0. */
FOLD_API int fold_acopf_eval_grad_f(const fold_acopf *model, const double *x, const double *p,
                                    double *grad);
FOLD_API int fold_acopf_eval_grad_f_p(const fold_acopf *model, const double *x, const double *p,
                                      double *grad_p);

/* ---- results in MATPOWER's units and signs (doc/acopf.md §6) ---- */

/* Every result of a solution, per bus (case order), generator and branch (the in-service
 * rows of the file, in file order: keys bus id, gen.row, branch.row). Units and signs are
 * MATPOWER's (idx_bus, idx_gen, idx_brch), the objective's unit u = $/h:
 *   vm p.u., va degrees, pd qd MW MVAr (the load of the parameters), pg qg MW MVAr;
 *   pf qf pt qt: power injected into the branch at its from / to end, MW MVAr;
 *   ploss qloss: series losses |V_f/T - V_t|^2 / conj(z), MW MVAr (MATPOWER's I^2 Z);
 *   lam_p, lam_q: multipliers of the balance rows, $/MWh and $/MVArh (LAM_P is the LMP);
 *   mu_vmin, mu_vmax: $/h per p.u.; mu_pmin .. mu_qmax: $/MWh, $/MVArh;
 *   mu_sf, mu_st: thermal limits at the from / to end, $/MVAh (d cost / d rateA);
 *   mu_angmin, mu_angmax: $/h per degree, on the branch whose limit is the tightest of its
 *   bus pair (0 on the others).
 * Every mu is >= 0 at a KKT point (the value of the multiplier of an active bound, 0 or
 * O(barrier) on an inactive one). has_duals false: all multipliers 0 (none given). */
typedef struct fold_acopf_results {
    fold_int n_bus, n_gen, n_branch;
    double objective; /* $/h, true costs at pg */
    bool has_duals;
    double *vm, *va, *pd, *qd, *lam_p, *lam_q, *mu_vmin, *mu_vmax; /* n_bus */
    double *pg, *qg, *mu_pmin, *mu_pmax, *mu_qmin, *mu_qmax;       /* n_gen */
    double *pf, *qf, *pt, *qt, *ploss, *qloss, *mu_sf, *mu_st, *mu_angmin,
        *mu_angmax; /* n_branch */
} fold_acopf_results;

/* Results at the primal-dual point (x, lam, zl, zu) of model with parameters p (NULL:
 * defaults); lam, zl, zu NULL together: no multipliers. *out is new (free with
 * fold_acopf_results_free). FOLD_ERR_ARGUMENT, FOLD_ERR_MEMORY. */
FOLD_API fold_status fold_acopf_results_create(const fold_acopf *model, const double *p,
                                               const double *x, const double *lam, const double *zl,
                                               const double *zu, fold_acopf_results **out);
/* The same at the solution stored in solver (a solver of model's problem). */
FOLD_API fold_status fold_acopf_results_from_solver(const fold_acopf *model,
                                                    const fold_solver *solver,
                                                    fold_acopf_results **out);
FOLD_API void fold_acopf_results_free(fold_acopf_results *res);

/* Write the case with the result columns filled, MATPOWER's solved-case layout (what its
 * savecase writes after an OPF): bus 17 columns (VM, VA from the solution, LAM_P, LAM_Q,
 * MU_VMAX, MU_VMIN), gen 25 (PG, QG; columns 11-21 zero; MU_PMAX, MU_PMIN, MU_QMAX,
 * MU_QMIN), branch 21 (PF, QF, PT, QT, MU_SF, MU_ST, ANGMIN, ANGMAX, MU_ANGMIN, MU_ANGMAX),
 * gencost; %.17g, so that reading it back gives the same numbers. The in-service rows only
 * (a row dropped from the file renumbers the later ones: each gen and branch row then ends
 * with a comment naming its row in the original file). res must be of cs's sizes. */
FOLD_API fold_status fold_acopf_case_write_solved(const fold_acopf_case *cs,
                                                  const fold_acopf_results *res, FILE *out);

/* ---- solutions computed elsewhere (doc/acopf.md §8) ---- */

/* Read a solution of case cs computed elsewhere into a results struct (MATPOWER's units
 * and signs): a MATPOWER solved case (.m: VM, VA, PG, QG and, when the file has them, every
 * LAM_* and MU_* column at MATPOWER's indices; has_duals says whether all were there) or
 * the JSON of foldopt opf --json (its "results" object: "bus", "gen", "branch" with their
 * key lists and value lists; vm, va, pg, qg required, the multipliers optional). The
 * solution must be of the same network (in-service buses, generators and branches, in
 * order): FOLD_ERR_PARSE naming the first difference. Also FOLD_ERR_IO, FOLD_ERR_MEMORY. */
FOLD_API fold_status fold_acopf_solution_read(const char *path, const fold_acopf_case *cs,
                                              fold_acopf_results **out);

/* What fold_acopf_import did. */
typedef struct fold_acopf_import_info {
    size_t size;          /**< set by the caller: initialize with FOLD_ACOPF_IMPORT_INFO_INIT */
    bool duals_given;     /* the solution had every multiplier (converted and tried) */
    bool duals_recovered; /* the stored multipliers come from least squares: none given, or
                             the given ones failed the KKT test (residuals below) */
    double given_stationarity, given_feasibility, given_complementarity; /* with the given
                              multipliers (doc/math.md §2.3); NaN when none were given */
    double angle_shift_deg; /* subtracted from every angle (the reference bus at 0) */
    bool polished;          /* a warm re-solve replaced the point and kept its active set */
    fold_int polish_iterations;
} fold_acopf_import_info;

/** Initializer of a fold_acopf_import_info: its size, every other field zero. */
#define FOLD_ACOPF_IMPORT_INFO_INIT                                                                \
    {                                                                                              \
        .size = sizeof(fold_acopf_import_info)                                                     \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_ACOPF_IMPORT_INFO_V1 FOLD_FIELD_END(fold_acopf_import_info, polish_iterations)

/* fold_acopf_import's options. kkt_tol: the KKT test of the point (doc/math.md §2.3; the
 * solver's forward.kkt_tol is used for nothing else here): default
 * FOLD_ACOPF_IMPORT_KKT_TOL = 1e-5, since solutions of other tools and of Ipopt itself carry
 * constraint residuals of a few 1e-6 p.u. (Ipopt at tol 1e-8 moves the point onto the
 * original bounds after converging: 2.7e-6 on case118; MATPOWER's MIPS stops at a feasibility
 * of 1e-6 relative to 1 + |x|). polish: re-solve warm from the imported point (below). */
#define FOLD_ACOPF_IMPORT_KKT_TOL 1e-5
typedef struct fold_acopf_import_options {
    double kkt_tol;
    bool polish;
} fold_acopf_import_options;

FOLD_API void fold_acopf_default_import_options(fold_acopf_import_options *opt);

/* Store the solution sol (MATPOWER's units, e.g. from fold_acopf_solution_read or
 * fold_acopf_results_create) at parameters p (NULL: defaults) in solver (a solver of model's
 * problem) without solving: angles relative to the first reference bus, epigraph and flow
 * variables from the point, multipliers converted (the inverse of doc/acopf.md §6) and
 * checked by fold_solver_import against opt->kkt_tol; missing or inconsistent ones are
 * recovered by least squares on the constraints active at the point. A point that is not a
 * KKT point within kkt_tol is refused: FOLD_ERR_NOT_KKT, the message naming the worst
 * residual by bus, generator or branch (and the residuals of the given multipliers). With
 * opt->polish, Ipopt re-solves warm from the imported point and its solution replaces it
 * when it holds the same limits; otherwise FOLD_ERR_NOT_KKT naming the limits that changed
 * (the imported point stays stored). opt NULL: defaults. info: the import's (or the
 * polish's) forward info, "not run" (FOLD_FWD_NOT_RUN) when refused before the import; ii
 * (may be NULL) what was done. FOLD_ERR_ARGUMENT for a kkt_tol
 * that is not positive and finite. */
FOLD_API fold_status fold_acopf_import(const fold_acopf *model, fold_solver *solver,
                                       const double *p, const fold_acopf_results *sol,
                                       const fold_acopf_import_options *opt,
                                       fold_forward_info *info, fold_acopf_import_info *ii);

/* ---- parameters and outputs by kind; sensitivities (doc/acopf.md §7) ---- */

/* What a parameter or an output is per. */
typedef enum fold_acopf_item_type {
    FOLD_ACOPF_ITEM_NONE = 0, /* one value for the case (the objective) */
    FOLD_ACOPF_ITEM_BUS,      /* per bus, case order (key: bus id) */
    FOLD_ACOPF_ITEM_GEN,      /* per in-service generator (key: its row of mpc.gen) */
    FOLD_ACOPF_ITEM_BRANCH    /* per in-service branch (key: its row of mpc.branch) */
} fold_acopf_item_type;

/* The parameters of p by kind, in the order of their blocks (file units, doc/acopf.md §2):
 * pd, qd, gs, bs per bus (MW, MVAr); c1, c2, c0 per generator ($/MWh, $/MW^2h, $/h); r, x,
 * b (p.u.), tap (ratio), shift (degrees), rate_a (MVA) per branch; the limits vmin, vmax
 * per bus (p.u.), pmin, pmax, qmin, qmax per generator (MW, MVAr). */
typedef enum fold_acopf_param_kind {
    FOLD_ACOPF_P_PD = 0,
    FOLD_ACOPF_P_QD,
    FOLD_ACOPF_P_C1,
    FOLD_ACOPF_P_C2,
    FOLD_ACOPF_P_C0,
    FOLD_ACOPF_P_GS,
    FOLD_ACOPF_P_BS,
    FOLD_ACOPF_P_R,
    FOLD_ACOPF_P_X,
    FOLD_ACOPF_P_B,
    FOLD_ACOPF_P_TAP,
    FOLD_ACOPF_P_SHIFT,
    FOLD_ACOPF_P_RATE_A,
    FOLD_ACOPF_P_VMIN,
    FOLD_ACOPF_P_VMAX,
    FOLD_ACOPF_P_PMIN,
    FOLD_ACOPF_P_PMAX,
    FOLD_ACOPF_P_QMIN,
    FOLD_ACOPF_P_QMAX,
    FOLD_ACOPF_N_PARAM_KINDS
} fold_acopf_param_kind;

/* Outputs, in the units of fold_acopf_results (MATPOWER's): the objective ($/h); pg, qg;
 * vm, va (degrees); the branch flows pf, qf, pt, qt and the real series losses ploss = pf +
 * pt; the multipliers lam_p, lam_q, mu_* of doc/acopf.md §6. */
typedef enum fold_acopf_output_kind {
    FOLD_ACOPF_OUT_OBJECTIVE = 0,
    FOLD_ACOPF_OUT_PG,
    FOLD_ACOPF_OUT_QG,
    FOLD_ACOPF_OUT_VM,
    FOLD_ACOPF_OUT_VA,
    FOLD_ACOPF_OUT_PF,
    FOLD_ACOPF_OUT_QF,
    FOLD_ACOPF_OUT_PT,
    FOLD_ACOPF_OUT_QT,
    FOLD_ACOPF_OUT_PLOSS,
    FOLD_ACOPF_OUT_LAM_P,
    FOLD_ACOPF_OUT_LAM_Q,
    FOLD_ACOPF_OUT_MU_VMIN,
    FOLD_ACOPF_OUT_MU_VMAX,
    FOLD_ACOPF_OUT_MU_PMIN,
    FOLD_ACOPF_OUT_MU_PMAX,
    FOLD_ACOPF_OUT_MU_QMIN,
    FOLD_ACOPF_OUT_MU_QMAX,
    FOLD_ACOPF_OUT_MU_SF,
    FOLD_ACOPF_OUT_MU_ST,
    FOLD_ACOPF_OUT_MU_ANGMIN,
    FOLD_ACOPF_OUT_MU_ANGMAX,
    FOLD_ACOPF_N_OUTPUT_KINDS
} fold_acopf_output_kind;

/* Name ("pd", "rate_a", "lam_p"), unit ("MW", "$/MWh") and item type of a kind; NULL / -1
 * for an unknown kind. fold_acopf_*_lookup: the kind of a name, -1 when unknown. */
FOLD_API const char *fold_acopf_param_name(fold_acopf_param_kind kind);
FOLD_API const char *fold_acopf_param_unit(fold_acopf_param_kind kind);
FOLD_API int fold_acopf_param_item_type(fold_acopf_param_kind kind);
FOLD_API int fold_acopf_param_lookup(const char *name);
FOLD_API const char *fold_acopf_output_name(fold_acopf_output_kind kind);
FOLD_API const char *fold_acopf_output_unit(fold_acopf_output_kind kind);
FOLD_API int fold_acopf_output_item_type(fold_acopf_output_kind kind);
FOLD_API int fold_acopf_output_lookup(const char *name);

/* The key of item i of a type in a case, as foldopt opf's keys and MATPOWER's files name
 * it: the bus id, the row of mpc.gen, the row of mpc.branch (0 for FOLD_ACOPF_ITEM_NONE). */
FOLD_API long fold_acopf_item_key(const fold_acopf_case *cs, int item_type, fold_int i);
/* Number of items of a type in the model's case (1 for FOLD_ACOPF_ITEM_NONE). */
FOLD_API fold_int fold_acopf_item_count(const fold_acopf *model, int item_type);
/* Index in p of parameter `kind` of item `item` (0-based bus, generator or branch index);
 * -1 when out of range. */
FOLD_API fold_int fold_acopf_param_index(const fold_acopf *model, fold_acopf_param_kind kind,
                                         fold_int item);
/* The kind (in *kind) and item of parameter index `index`; -1 (and *kind -1) out of range. */
FOLD_API fold_int fold_acopf_param_item(const fold_acopf *model, fold_int index, int *kind);

/* One output: kind and item (0-based index of its bus, generator or branch; 0 for the
 * objective). */
typedef struct fold_acopf_output {
    fold_acopf_output_kind kind;
    fold_int item;
} fold_acopf_output;

/* Called between blocks of right-hand sides of fold_acopf_jacobian: done of total. */
typedef void (*fold_acopf_progress_fn)(fold_int done, fold_int total, void *user_data);

/* Values of n_out outputs at the solution stored in solver (a solver of model's problem).
 * FOLD_ERR_ARGUMENT (an output's kind or item out of range), FOLD_ERR_NOT_SOLVED,
 * FOLD_ERR_MEMORY. */
FOLD_API fold_status fold_acopf_output_values(const fold_acopf *model, const fold_solver *solver,
                                              fold_int n_out, const fold_acopf_output *out,
                                              double *values);

/* d outputs / d parameters at the solution in solver: J (n_out x n_cols, column-major) for
 * the parameter indices cols (NULL: all np, n_cols = np), in output units per parameter
 * unit. Outputs are functions of the primal-dual solution z and of p; each block of z they
 * touch (x, lam, zl, zu) is differentiated by fold_jacobian on the solver's one
 * factorization, in forward or reverse mode by the smaller count, and combined with the
 * outputs' own dependence on p (doc/acopf.md §7). Entries a singular KKT matrix leaves
 * undetermined are NaN (FOLD_WARN_NOT_UNIQUE). progress (may be NULL) is called between
 * blocks. info (may be NULL) sums the calls. Errors of fold_jacobian, FOLD_ERR_ARGUMENT. */
FOLD_API fold_status fold_acopf_jacobian(const fold_acopf *model, fold_solver *solver,
                                         fold_int n_out, const fold_acopf_output *out,
                                         fold_int n_cols, const fold_int *cols, double *J,
                                         fold_backward_info *info, fold_acopf_progress_fn progress,
                                         void *user_data);

/* Reverse mode: pbar (np) = sum_r weights[r] d out_r / dp, one linear solve (fold_vjp)
 * whatever the number of outputs; weights NULL: all 1. */
FOLD_API fold_status fold_acopf_vjp(const fold_acopf *model, fold_solver *solver, fold_int n_out,
                                    const fold_acopf_output *out, const double *weights,
                                    double *pbar, fold_backward_info *info);

/* Forward mode: dout[r] = d out_r / dp . dp along the direction dp (np entries, parameter
 * units), one linear solve (fold_jvp). */
FOLD_API fold_status fold_acopf_jvp(const fold_acopf *model, fold_solver *solver, const double *dp,
                                    fold_int n_out, const fold_acopf_output *out, double *dout,
                                    fold_backward_info *info);

/* The trust report of the last fold_acopf_jacobian, _vjp or _jvp call made on this thread
 * (doc/acopf.md §7): the items of the library's reports of the calls it made
 * (fold_trust_report), with entries numbered as its result (a Jacobian's row + n_out col, a
 * vjp's parameter index, a jvp's output index), row = output, col = parameter (-1 for a jvp)
 * and intervals in output units. Sides (ambiguous, weakly active, dependent) keep their
 * names, slacks and multipliers, their affected entries renumbered the same way. An output
 * that combines several entries of the solution (a flow, a loss) is flagged when one of them
 * is; its interval is the sum of its terms' intervals, which holds its value under either
 * classification. *items is valid until the next such call on this thread. */
FOLD_API fold_status fold_acopf_trust_report(const fold_trust_item **items, fold_int *count);

/* ---- one differentiation as foldopt opf does it ---- */

/* What fold_acopf_differentiate computes. */
typedef enum fold_acopf_diff_mode {
    FOLD_ACOPF_DIFF_VALUE = 0, /* gradient of the optimal objective (envelope theorem, no
                                  linear solve): values[c] = d objective / d p[cols[c]] */
    FOLD_ACOPF_DIFF_VJP,       /* values[c] = sum_r weights[r] d out_r / d p[cols[c]] */
    FOLD_ACOPF_DIFF_JVP,       /* values[r] = d out_r / dp . dp */
    FOLD_ACOPF_DIFF_JACOBIAN   /* values[r + c n_out] = d out_r / d p[cols[c]] */
} fold_acopf_diff_mode;

/* A request: mode, the outputs (VJP, JVP, JACOBIAN), their weights (VJP; NULL: all 1), the
 * direction dp (JVP, np entries in parameter units), the parameter columns (VALUE, VJP,
 * JACOBIAN; cols NULL: all np, then n_cols must be np). keep_kkt_form: never switch forms
 * (the CLI's --kkt). progress: as for fold_acopf_jacobian (JACOBIAN only; may be NULL). */
typedef struct fold_acopf_diff_request {
    fold_acopf_diff_mode mode;
    fold_int n_out;
    const fold_acopf_output *out;
    const double *weights;
    const double *dp;
    fold_int n_cols;
    const fold_int *cols;
    bool keep_kkt_form;
    fold_acopf_progress_fn progress;
    void *user_data;
} fold_acopf_diff_request;

/* What was done: whether the active-set form refused and the barrier form was used
 * instead, and why, and the wall time; and, in the caller's *backward when given, the backward
 * information of the call that produced the values (all zero with reason FOLD_REASON_NOT_RUN
 * for VALUE, which solves nothing). */
typedef struct fold_acopf_diff_info {
    size_t size; /**< set by the caller: initialize with FOLD_ACOPF_DIFF_INFO_INIT */
    fold_backward_info *backward; /**< in: where the backward information goes (its own size
                                       set: FOLD_BACKWARD_INFO_INIT); NULL: not wanted. A
                                       pointer, so that each struct grows on its own */
    bool kkt_fallback;
    char fallback_reason[1100];
    double seconds;
} fold_acopf_diff_info;

/** Initializer of a fold_acopf_diff_info: its size, every other field zero. */
#define FOLD_ACOPF_DIFF_INFO_INIT                                                                  \
    {                                                                                              \
        .size = sizeof(fold_acopf_diff_info)                                                       \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_ACOPF_DIFF_INFO_V1 FOLD_FIELD_END(fold_acopf_diff_info, seconds)

/* Differentiate the solution stored in solver (a solver of model's problem, after
 * fold_acopf_solve or fold_acopf_import) as foldopt opf does: the call of req->mode
 * (fold_value_gradient, fold_acopf_vjp, fold_acopf_jvp or fold_acopf_jacobian), and when the
 * solver's form is the active-set one, req->keep_kkt_form is false and that form refuses
 * (FOLD_ERR_SINGULAR: dependent active constraints or a derivative that is not unique, e.g.
 * the reactive split of several generators at one bus; FOLD_ERR_DEGENERATE: weakly active
 * constraints under weak_policy = refuse), the solver's settings are switched to the
 * barrier form (they stay so: info->kkt_fallback) and the call is redone. values: n_cols
 * (VALUE, VJP), n_out (JVP) or n_out x n_cols column-major (JACOBIAN) entries; written only
 * on success (>= 0). Returns the call's status (warnings such as FOLD_WARN_NOT_UNIQUE with
 * NaN for the entries that are not unique); fold_last_error() names the detail.
 * FOLD_ERR_ARGUMENT for a bad mode, NULL arrays, a column out of range. info may be NULL. */
FOLD_API fold_status fold_acopf_differentiate(const fold_acopf *model, fold_solver *solver,
                                              const fold_acopf_diff_request *req, double *values,
                                              fold_acopf_diff_info *info);

/* ---- synthetic grids ---- */

/* Generate a meshed grid of n_bus buses (>= 2) from seed, feasible by construction: buses on
 * a jittered 2-D lattice, a random spanning tree plus extra short edges, generators on about
 * 20% of the buses and within two branches of every bus; an operating point is solved
 * first and the limits are set around it with margins, so that it is strictly feasible
 * (doc/acopf.md §4). The point is the case's vm0, va0 (buses) and pg0, qg0 (generators).
 * *out is a case like one read from a file. */
FOLD_API fold_status fold_acopf_gen_grid(fold_int n_bus, unsigned long long seed,
                                         fold_acopf_case **out);

#ifdef __cplusplus
}
#endif

#endif
