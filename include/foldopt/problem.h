/* Parametric NLP definition:  min f(x;p)  s.t.  gL <= g(x;p) <= gU,  xL <= x <= xU.
 * Lagrangian (Ipopt's convention): L = f + lam'g - zL'x + zU'x. See doc/math.md §2 and
 * doc/api/problem.md. */
#ifndef FOLDOPT_PROBLEM_H
#define FOLDOPT_PROBLEM_H

#include "status.h"

/* Callbacks follow the convention of types.h: const inputs, outputs next, user_data last;
 * return 0 on success, > 0 for a recoverable failure (the forward solver backtracks; a fold
 * call fails), < 0 for a fatal one (FOLD_ERR_CALLBACK naming the callback). Outputs are
 * checked for NaN/Inf. x has n entries, p has np, lam has m. */

/** f(x;p) -> *obj */
typedef int (*fold_f_fn)(const double *x, const double *p, double *obj, void *user_data);
/** grad_x f -> grad[n] */
typedef int (*fold_grad_f_fn)(const double *x, const double *p, double *grad, void *user_data);
/** g(x;p) -> g[m] */
typedef int (*fold_g_fn)(const double *x, const double *p, double *g, void *user_data);
/** Values of a sparse derivative in the order of its declared pattern:
 * jac_g (m x n), jac_g_p (m x np). */
typedef int (*fold_sparse_fn)(const double *x, const double *p, double *values, void *user_data);
/** Lower triangle of obj_factor * Hess f + sum_i lam_i Hess g_i (n x n), pattern order. */
typedef int (*fold_hess_l_fn)(const double *x, const double *p, double obj_factor,
                              const double *lam, double *values, void *user_data);
/** d(grad_x L)/dp = d/dp [grad f + J_g' lam] (n x np), pattern order. */
typedef int (*fold_hess_lp_fn)(const double *x, const double *p, const double *lam, double *values,
                               void *user_data);
/** out[n] = (obj_factor Hess f + sum_i lam_i Hess g_i) v: the Hessian of the Lagrangian
 * times v (n entries); lam (m entries) is not to be read when m = 0 and may then be NULL
 * (FOLD_HESS_PRODUCT). */
typedef int (*fold_hess_l_v_fn)(const double *x, const double *p, double obj_factor,
                                const double *lam, const double *v, double *out, void *user_data);
/** Products with d(grad_x L)/dp = d/dp [grad f + J_g' lam] (n x np) instead of its pattern
 * (fold_nlp_def.hess_lp_v): transpose = 0: out[n] = L_xp v with v of np entries; transpose
 * = 1: out[np] = L_xp' v with v of n entries. lam (m entries) may be NULL when m = 0. */
typedef int (*fold_hess_lp_v_fn)(const double *x, const double *p, const double *lam, int transpose,
                                 const double *v, double *out, void *user_data);
/** df/dp -> dense grad_p[np] */
typedef int (*fold_grad_f_p_fn)(const double *x, const double *p, double *grad_p, void *user_data);

/** The callbacks. f, grad_f and (when m > 0) g, jac_g are required; hess_l is required by
 * the fold and by Ipopt's exact Hessian (without it Ipopt uses L-BFGS); the parameter terms
 * are optional for solves and required for differentiation. */
typedef struct fold_nlp_callbacks {
    fold_f_fn f;
    fold_grad_f_fn grad_f;
    fold_g_fn g;
    fold_sparse_fn jac_g;
    fold_hess_l_fn hess_l;
    fold_grad_f_p_fn grad_f_p;
    fold_hess_lp_fn hess_lp;
    fold_sparse_fn jac_g_p;
} fold_nlp_callbacks;

/** Kinds of items a problem can name (fold_nlp_def.item_name, fold_problem_item_name). */
typedef enum fold_item_kind {
    FOLD_ITEM_VARIABLE = 0,   /**< x_j (its bounds are named "<name> lower" / "<name> upper") */
    FOLD_ITEM_CONSTRAINT = 1, /**< g_i (and its multiplier lam_i) */
    FOLD_ITEM_PARAMETER = 2,  /**< p_k */
    FOLD_ITEM_NONE = -1       /**< not an item (trust report entries) */
} fold_item_kind;

/** Longest name foldopt asks an item_name callback for (bytes, NUL included). */
#define FOLD_NAME_MAX 256

/** Optional: write the name of item `index` of `kind` (a fold_item_kind) as the user knows
 * it, e.g. "bus 1484 vm" or "branch 12 (3-7) thermal from-end", into buf (len bytes, NUL
 * included; len <= FOLD_NAME_MAX). Return 0 on success; any other value, or an empty
 * name, makes foldopt use its default "x[12]", "g[7]", "p[3]". Called only to write
 * messages and reports, never during a solve. */
typedef int (*fold_item_name_fn)(int kind, fold_int index, char *buf, size_t len, void *user_data);

/** Bounds that move with the parameters (doc/math.md §2.5): entry k says that bound
 * index[k] (a variable for the x maps, a constraint for the g maps) changes by coef[k] per
 * unit of p[param[k]]:
 *     b(p) = b + sum_k coef[k] (p[param[k]] - p_default[param[k]]),
 * so the bounds given in fold_nlp_def are those at the default parameters. The (index,
 * param) pairs of a map are unique; a moving bound must be finite; an equality constraint
 * (g_lower = g_upper) or a fixed variable needs the same entries in its lower and upper
 * maps (it stays an equality). nnz = 0: the bounds do not depend on p. */
typedef struct fold_bound_map {
    fold_int nnz;
    const fold_int *index;
    const fold_int *param;
    const double *coef;
} fold_bound_map;

/** How the Hessian of the Lagrangian is given (fold_nlp_def.hess_form; doc/api/problem.md
 * "Hessian forms"). */
typedef enum fold_hess_form {
    /** Sparse lower triangle: the hess_l pattern and cb.hess_l filling its values. */
    FOLD_HESS_TRIPLETS = 0,
    /** Dense lower triangle packed by columns (LAPACK's 'L' packed storage): cb.hess_l
     * writes n (n + 1) / 2 values, entry (i, j) with i >= j at j n - j (j - 1) / 2 + i - j
     * (column 0 rows 0..n-1, then column 1 rows 1..n-1, ...). The hess_l pattern stays
     * empty: foldopt builds it. */
    FOLD_HESS_DENSE = 1,
    /** Hessian-vector products only: hess_l_v. The built-in iterative solvers and their fold
     * maps, and the KKT fold with an iterative backward method (matrix-free: its operator
     * multiplies by hess_l_v, its preconditioner needs no H) use the products. Ipopt and the
     * direct KKT fold (or precond.kind exact / nearby) need the matrix, assembled column by
     * column from n products when n <= FOLD_HESS_PRODUCT_MAX_N; above it Ipopt uses its
     * limited-memory quasi-Newton Hessian and the direct KKT fold refuses
     * (FOLD_ERR_TOO_LARGE). */
    FOLD_HESS_PRODUCT = 2
} fold_hess_form;

/** Largest n for which a FOLD_HESS_PRODUCT Hessian is assembled from n products (as fold
 * maps assemble I - Phi, fold_map_jvp): for Ipopt and the direct KKT fold. */
#define FOLD_HESS_PRODUCT_MAX_N 4000

/** Everything that defines a problem. Arrays are copied by fold_problem_create.
 * Bounds: NULL means unbounded on that side; entries with |b| >= FOLD_INF_BOUND (or
 * +-FOLD_INF) are infinite. Equality constraints have gL[i] == gU[i]. */
typedef struct fold_nlp_def {
    const char *name;  /**< for messages; may be NULL */
    fold_int n, m, np; /**< variables, constraints, parameters (n >= 1, m >= 0, np >= 0) */
    const double *x_lower, *x_upper; /**< size n */
    const double *g_lower, *g_upper; /**< size m */
    const double *x_start;           /**< size n; NULL: 0 clipped into the bounds */
    const double *p_default;         /**< size np; NULL: zeros */
    fold_pattern jac_g;              /**< m x n */
    fold_pattern hess_l;             /**< n x n, lower triangle only (row >= col) */
    fold_pattern jac_g_p;            /**< m x np */
    fold_pattern hess_lp;            /**< n x np */
    fold_nlp_callbacks cb;
    void *user_data;             /**< passed to every callback; the one pointer foldopt keeps */
    fold_item_name_fn item_name; /**< optional: names of variables, constraints and
                                      parameters in messages and reports; NULL = indices */
    fold_bound_map x_lower_p, x_upper_p; /**< optional: bounds of x moving with p */
    fold_bound_map g_lower_p, g_upper_p; /**< optional: bounds of g moving with p */
    /** optional: the kind of each variable (n entries in 0 .. n_x_kinds - 1), for variables
     * in different units (angles, voltages, powers). An entry of a result that is a change of
     * x (fold_jvp's dx, the rows of x of fold_jacobian) is judged uncertain against the
     * largest entry of its kind, not of all x (doc/math.md §3.2). NULL (n_x_kinds = 0): one
     * kind. */
    const fold_int *x_kind;
    fold_int n_x_kinds;
    fold_hess_form hess_form;  /**< how the Hessian is given (0: triplets) */
    fold_hess_l_v_fn hess_l_v; /**< FOLD_HESS_PRODUCT: the Hessian-vector product */
    /** optional: products with d(grad_x L)/dp instead of the hess_lp pattern and cb.hess_lp
     * (then left empty); the KKT fold's right-hand sides and results use them */
    fold_hess_lp_v_fn hess_lp_v;
    /** optional: the kind of each parameter (np entries in 0 .. n_p_kinds - 1), for
     * parameters in different units (loads, cost coefficients, limits). A Jacobian's entries
     * are judged uncertain against entries of columns of the same kind only (doc/math.md
     * §3.2 "Groups"). NULL (n_p_kinds = 0): one kind. */
    const fold_int *p_kind;
    fold_int n_p_kinds;
} fold_nlp_def;

/** An immutable problem. Thread safety: foldopt never writes a problem after
 * fold_problem_create (every other call takes it const), so one problem may serve several
 * solvers on several threads; their callbacks are then called concurrently with the same
 * user_data, which must allow it. */
typedef struct fold_problem fold_problem;

/** Validate def and create an immutable problem. Errors (nothing allocated):
 * FOLD_ERR_ARGUMENT (NULL def/out, missing required callback), FOLD_ERR_DIMENSION,
 * FOLD_ERR_SPARSITY (index out of range, duplicate, upper-triangle Hessian entry),
 * FOLD_ERR_NONFINITE (NaN bound, NaN/Inf start or default parameter, lower > upper),
 * FOLD_ERR_ARGUMENT naming the variable for an x_kind entry outside 0 .. n_x_kinds - 1 (the
 * parameter for p_kind). */
FOLD_API fold_status fold_problem_create(const fold_nlp_def *def, fold_problem **out);

/** Free; accepts NULL. */
FOLD_API void fold_problem_free(fold_problem *prob);

/** Dimensions (any pointer may be NULL). */
FOLD_API void fold_problem_dims(const fold_problem *prob, fold_int *n, fold_int *m, fold_int *np);

/** How the problem's Hessian was given (FOLD_HESS_TRIPLETS for a NULL prob). */
FOLD_API fold_hess_form fold_problem_hess_form(const fold_problem *prob);

/** True when all parameter-derivative callbacks needed by the fold are present. */
FOLD_API bool fold_problem_has_param_derivatives(const fold_problem *prob);

/** The bounds at parameters p (np entries; NULL: the defaults) into xl, xu (n) and gl, gu
 * (m); any output may be NULL. Infinite bounds are -+HUGE_VAL. */
FOLD_API void fold_problem_bounds(const fold_problem *prob, const double *p, double *xl, double *xu,
                                  double *gl, double *gu);

/** Copy the default parameter vector (np entries) into p. */
FOLD_API void fold_problem_default_params(const fold_problem *prob, double *p);

/** Name of item `index` of `kind` (a fold_item_kind) into buf (len bytes, always
 * NUL-terminated when len > 0; a longer name is cut): the problem's item_name callback, or
 * "x[12]", "g[7]", "p[3]" without one (or when it fails or gives an empty name).
 * FOLD_ERR_ARGUMENT for a NULL prob or buf, len = 0, an unknown kind or an index out of
 * range (buf then holds "" when len > 0). */
FOLD_API fold_status fold_problem_item_name(const fold_problem *prob, fold_item_kind kind,
                                            fold_int index, char *buf, size_t len);

/** Copy the start point (n entries; x_start clipped into the bounds, or 0 clipped) into x. */
FOLD_API void fold_problem_start_point(const fold_problem *prob, double *x);

/** Report of the derivative checker: the worst entry over all callbacks. */
typedef struct fold_deriv_report {
    size_t size;             /**< set by the caller: initialize with FOLD_DERIV_REPORT_INIT */
    double max_abs_error;    /**< over all checked entries */
    double max_rel_error;    /**< |a - fd| / max(1, |fd|) at the worst entry */
    char worst_function[16]; /**< "grad_f", "jac_g", "hess_l", "grad_f_p", "jac_g_p", "hess_lp",
                                  "hess_lp_v" */
    fold_int worst_row, worst_col;
    double worst_analytic, worst_fd;
    fold_int n_checked; /**< entries compared, including structural zeros */
    fold_int n_bad;     /**< entries with relative error above tol */
    fold_int n_missing; /**< nonzero FD entries outside the declared pattern */
} fold_deriv_report;

/** Initializer of a fold_deriv_report: its size, every other field zero. */
#define FOLD_DERIV_REPORT_INIT                                                                     \
    {                                                                                              \
        .size = sizeof(fold_deriv_report)                                                          \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_DERIV_REPORT_V1 FOLD_FIELD_END(fold_deriv_report, n_missing)

/** Compare every derivative callback (parameter terms included when present) with central
 * finite differences of step h at (x, p, lam); lam may be NULL (zeros; then random weights
 * are not used, so pass lam to exercise constraint Hessians). An entry is bad when
 * |a - fd| > tol * max(1, |fd|). Returns FOLD_OK when none is bad, FOLD_WARN_INACCURATE
 * otherwise (rep filled in both cases), < 0 on a callback error (rep then reset to an empty
 * report: n_checked = 0). */
FOLD_API fold_status fold_problem_check_derivatives(const fold_problem *prob, const double *x,
                                                    const double *p, const double *lam, double h,
                                                    double tol, fold_deriv_report *rep);

#endif
