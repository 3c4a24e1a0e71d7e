/* Internal declarations shared by the acopf files: error detail, the MATPOWER tokenizer's
 * result, the model structure. Not part of the public foldopt/acopf.h. */
#ifndef FOLD_ACOPF_INTERNAL_H
#define FOLD_ACOPF_INTERNAL_H

#include <string.h>

#include "foldopt/acopf.h"

/* Record the calling thread's error detail (fold_last_error) and return status. */
#define acopf_error fold_set_error

/* Radians per degree (angles are degrees in case files, radians in the model). */
#define DEG FOLD_ACOPF_RAD_PER_DEG

/* Prefix the library's detail with prefix and the status text; returns status. */
static inline fold_status acopf_error_from_lib(fold_status status, const char *prefix)
{
    const char *what = fold_status_string(status), *detail = fold_last_error();
    if (!strncmp(detail, what, strlen(what))) /* "out of memory: ..." says it already */
        return fold_set_error(status, "%s: %s", prefix, detail);
    return fold_set_error(status, "%s: %s: %s", prefix, what, detail);
}

/* A numeric matrix from the file (row-major), with the line of each row. */
typedef struct mp_matrix {
    bool present;
    long line; /* line of "mpc.<name> =" */
    fold_int n_row, n_col;
    double *v;
    long *row_line;
    fold_int cap_v, cap_row;
} mp_matrix;

/* The fields of a MATPOWER file that the model uses; others are skipped. */
typedef struct mp_file {
    const char *name; /* for messages */
    mp_matrix base_mva, version, bus, gen, branch, gencost;
    char version_text[16];
} mp_file;

/* Read a whole file into a malloc'ed, NUL-terminated buffer (acopf_read_stream's checks and
 * limit; FOLD_ERR_IO when it cannot be opened); the file name without its folder. */
fold_status acopf_slurp(const char *path, char **out, size_t *len);
const char *acopf_base_name(const char *path);

/* The format of a case file's text: a JSON object (PowerModels), MATPOWER (an mpc.<field>
 * statement), or neither. */
enum { ACOPF_FORMAT_UNKNOWN = 0, ACOPF_FORMAT_MATPOWER, ACOPF_FORMAT_JSON };
int acopf_case_format(const char *text, size_t len);
/* A PowerModels JSON network into a case (pm_json.c, doc/acopf.md §1.3). */
fold_status acopf_pm_parse(const char *text, size_t len, const char *name, fold_acopf_case **out);

/* The info of a solve or import that has not run: status FOLD_FWD_NOT_RUN, counts 0,
 * objective and residuals NaN (fold_solve fills its own the same way; model_solve.c). */
void acopf_info_not_run(fold_forward_info *fi);

/* Physical checks of a case before the model uses it (case_check.c, doc/acopf.md §1.1):
 * messages "where:line: item: ..." (with file_lines and a known line, else "where: item:
 * ..."), status `status` (FOLD_ERR_PARSE for files), FOLD_ERR_UNSUPPORTED or
 * FOLD_ERR_MEMORY. */
fold_status acopf_case_check(const fold_acopf_case *cs, const char *where, bool file_lines,
                             fold_status status);

/* Read all of fp (named path in messages) into a malloc'ed *out of *len bytes: at most
 * max_bytes (FOLD_ERR_TOO_LARGE, a regular file by its size before reading), no NUL byte
 * (FOLD_ERR_PARSE), not a directory (FOLD_ERR_IO). matpower_read.c. */
fold_status acopf_read_stream(FILE *fp, const char *path, size_t max_bytes, char **out,
                              size_t *len);

/* Tokenize text into f (fields the model uses). FOLD_ERR_PARSE / FOLD_ERR_MEMORY. */
fold_status mp_tokenize(const char *text, size_t len, mp_file *f);
void mp_file_clear(mp_file *f);
/* Convert the tokenized fields into a case (validation, dropping out-of-service items). */
fold_status mp_convert(const mp_file *f, fold_acopf_case **out);

/* ---- the model (model.c, model_eval.c) ---- */

/* One branch: the four flows pf, qf, pt, qt (p.u.) are
 *   h_k = a[k] V_e^2 + Vf Vt (c[k] cos d + s[k] sin d),  d = va_f - va_t,
 * with e the branch end of flow k (doc/acopf.md eq. 3); the coefficients come from the
 * branch's parameters (acopf_branch_coef). */
typedef struct acopf_branch_data {
    fold_int f, t;
    fold_int rated_row; /* k of the thermal rows g_sf + k, g_st + k; -1 when unlimited */
    fold_int jac[16];   /* slots of rows (Pf, Qf, Pt, Qt) x cols (va_f, va_t, vm_f, vm_t) */
    fold_int jac_sf[4], jac_st[4]; /* thermal rows: voltage columns, or with flow variables
                                      the columns of (pf, qf) and (pt, qt) in [0], [1] */
    fold_int flow;        /* flow-variable group (x_fl + 4 flow, g_flow + 4 flow); -1: none */
    fold_int jac_def[16]; /* flow rows (pf, qf, pt, qt) x (va_f, va_t, vm_f, vm_t) */
    fold_int jac_def_fl[4], hess_fl[4]; /* (flow row k, variable k), (variable k, itself) */
    fold_int hess[10]; /* lower-triangle pairs of (va_f, va_t, vm_f, vm_t), i(i+1)/2 + j */
} acopf_branch_data;

/* Coefficients of the four flows of a branch (eq. 3), or their derivatives. */
typedef struct acopf_coef {
    double a[4], c[4], s[4];
} acopf_coef;

/* The branch parameters, in the order of their blocks of p (doc/acopf.md §2). */
enum { ACOPF_BR_R, ACOPF_BR_X, ACOPF_BR_B, ACOPF_BR_TAP, ACOPF_BR_SHIFT, ACOPF_BR_N };

/* Values, gradients and Hessians (10 lower-triangle entries) of the four flows. */
typedef struct acopf_flow {
    double v[4], d[4][4], h[4][10];
} acopf_flow;

struct fold_acopf {
    fold_acopf_case cs; /* own copy (arrays owned) */
    fold_acopf_layout L;
    double base;
    acopf_branch_data *br;
    fold_int *rated, *angle; /* branch of each thermal / angle row */
    fold_int *branch_angle;  /* per branch: the angle row of its bus pair, -1 without limits */
    fold_int *ang_lo_branch, *ang_hi_branch; /* per angle row: the branch whose own limit is
                                                the row's lower / upper one (the first such
                                                in file order): it reports the multiplier */
    fold_int *flow_branch;                   /* branch of each flow-variable group */
    fold_int *jac_bus;                       /* per bus: slots (P_i, vm_i), (Q_i, vm_i) */
    fold_int *jac_gen;                       /* per gen: slots (P_bus, pg), (Q_bus, qg) */
    fold_int *jac_ang;                       /* per angle row: slots (va_f), (va_t) */
    fold_int *hess_vm;                       /* per bus: slot (vm_i, vm_i) */
    fold_int *hess_pg;                       /* per gen: slot (pg, pg) */
    fold_int jac_nnz, hess_nnz;
    fold_int *jac_row, *jac_col, *hess_row, *hess_col;
    fold_int *jgp_row, *jgp_col, *hlp_row, *hlp_col;
    fold_int jgp_nnz, hlp_nnz;
    /* bound maps of x (lower, upper): the limits as parameters (model_param.c) */
    fold_int bm_n[2], *bm_idx[2], *bm_par[2];
    double *bm_coef[2];
    double *x_lo, *x_hi, *g_lo, *g_hi, *x0, *p0;
    double *ang_lo, *ang_hi; /* limits of each angle row (radians) */
    /* piecewise-linear costs (model_pwl.c) */
    fold_int *gen_pwl; /* per gen: its epigraph variable, -1 for polynomial costs */
    fold_int *pwl_gen; /* per epigraph variable: the generator */
    fold_int *seg_gen; /* per segment row: the generator */
    double *seg_slope; /* per segment: slope, $/h per p.u. (slope in $/MWh times S) */
    double *seg_icpt;  /* per segment: intercept, $/h */
    fold_int *jac_seg; /* per segment: slots (row, pg), (row, t) */
    fold_problem *prob;
};

/* Branch flows (model_branch.c): coefficients of branch k at p; their derivative with
 * respect to its parameter `which` (ACOPF_BR_*; shift per degree); the flows with these
 * coefficients at x (with `second`, their Hessians); the flows at p; rateA of branch k at
 * p (MVA). */
void acopf_branch_coef(const fold_acopf *m, const double *p, fold_int k, acopf_coef *out);
void acopf_branch_coef_d(const fold_acopf *m, const double *p, fold_int k, int which,
                         acopf_coef *out);
void acopf_flow_eval(const acopf_branch_data *b, const acopf_coef *cf, const fold_acopf *m,
                     const double *x, bool second, acopf_flow *out);
void acopf_flow_at(const fold_acopf *m, const double *p, fold_int k, const double *x, bool second,
                   acopf_flow *out);
double acopf_rate_a(const fold_acopf *m, const double *p, fold_int k);
/* The flow variables at the flows of the voltages in x at parameters p (start points). */
void acopf_flow_vars_start(const fold_acopf *m, const double *p, double *x);
/* The coefficients of eq. 3 of a case branch at its file values (gen_grid_point.c). */
void acopf_branch_coefficients(const fold_acopf_branch *in, acopf_coef *out);
/* Piecewise-linear costs (model_pwl.c): count and segment data (sets L.n_pwl, L.n_seg;
 * false when out of memory), free, true cost at pg, bounds of t and of the segment rows,
 * t at the start, segment row values and Jacobian values. */
bool acopf_pwl_setup(fold_acopf *m);
void acopf_pwl_free(fold_acopf *m);
double acopf_pwl_cost(const fold_acopf *m, fold_int k, double pg);
void acopf_pwl_bounds(fold_acopf *m);
void acopf_pwl_start(const fold_acopf *m, double *x);
void acopf_pwl_g(const fold_acopf *m, const double *x, double *g);
void acopf_pwl_jac(const fold_acopf *m, double *v);

/* The branch that reports the lower (lower_side) or upper side of angle row `row`, and in
 * *side which of its limits that is (FOLD_ACOPF_SIDE_MIN: its angmin, MAX: its angmax; a
 * branch running the other way than the row's first branch has them swapped). */
enum { FOLD_ACOPF_SIDE_MIN = 0, FOLD_ACOPF_SIDE_MAX = 1 };
fold_int acopf_angle_side(const fold_acopf *m, fold_int row, bool lower_side, int *side);

/* Items of a type in a case. */
fold_int acopf_case_item_count(const fold_acopf_case *cs, int item_type);
/* A zeroed results struct of these sizes (results.c); NULL out of memory. */
fold_acopf_results *acopf_results_alloc(fold_int nb, fold_int ng, fold_int nl);

/* Kinds of the variables (fold_nlp_def.x_kind): angles, magnitudes, active and reactive
 * outputs, cost epigraphs, flow variables. acopf_variable_kinds: L->n of them (malloc; NULL
 * out of memory; kinds.c). */
enum {
    ACOPF_X_VA,
    ACOPF_X_VM,
    ACOPF_X_PG,
    ACOPF_X_QG,
    ACOPF_X_EPIGRAPH,
    ACOPF_X_FLOW,
    ACOPF_X_KINDS
};
fold_int *acopf_variable_kinds(const fold_acopf_layout *L);
/* Kinds of the parameters (fold_nlp_def.p_kind): their fold_acopf_param_kind, each in its own
 * units. L.np of them (malloc; NULL out of memory; kinds.c). */
fold_int *acopf_parameter_kinds(const fold_acopf *m);
/* Index in p of parameter `kind` of item `item` (no range check; kinds.c). */
fold_int acopf_param(const fold_acopf *m, int kind, fold_int item);

/* The settings of a warm re-solve (model_solve.c, doc/acopf.md §2.2): Ipopt's barrier
 * parameter starts near the tolerance unless the caller chose mu_init; a time limit less
 * spent_s. */
void acopf_warm_settings(const fold_settings *set, double spent_s, fold_settings *warm);
/* The Ipopt options of a warm re-solve on `to`: those of `from` (copied when to is another
 * solver), and Ipopt's barrier parameter starting near from's tolerance (its default 0.1
 * would lead it back to the central path far from the point) unless mu_init is set already;
 * *added (may be NULL) says whether mu_init was added. */
fold_status acopf_warm_options(const fold_solver *from, fold_solver *to, bool *added);

/* Callbacks (model_eval.c). */
int acopf_cb_f(const double *x, const double *p, double *obj, void *ud);
int acopf_cb_grad_f(const double *x, const double *p, double *grad, void *ud);
int acopf_cb_g(const double *x, const double *p, double *g, void *ud);
int acopf_cb_jac_g(const double *x, const double *p, double *v, void *ud);
int acopf_cb_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                    void *ud);
int acopf_cb_grad_f_p(const double *x, const double *p, double *gp, void *ud);
int acopf_cb_jac_g_p(const double *x, const double *p, double *v, void *ud);
int acopf_cb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud);
/* Patterns of jac_g_p and hess_lp, and the bound maps of the limits (model_param.c); false
 * when out of memory. */
bool acopf_param_patterns(fold_acopf *m);
bool acopf_bound_maps(fold_acopf *m);
/* Names of variables, constraints and parameters (model_names.c, doc/acopf.md §2.3). */
int acopf_cb_item_name(int kind, fold_int index, char *buf, size_t len, void *ud);

#endif
