/* Matrix-free fold maps: a fixed point z* = U(z*, p) with products by Phi = dU/dz and
 * Psi = dU/dp, differentiated by direct or iterative backward solves (LFPI, GMRES, BiCGSTAB,
 * MINRES, CG); built-in update-step maps and iterative forward solvers with an unrolling
 * baseline. doc/math.md §1, doc/iterative.md, doc/api/map.md. */
#ifndef FOLDOPT_MAP_H
#define FOLDOPT_MAP_H

#include "fold.h"

/* Callbacks follow the convention of types.h: const inputs, outputs next, user_data last;
 * return 0 on success, nonzero on failure (nothing can be retried here, so > 0 fails the
 * call like < 0: FOLD_ERR_CALLBACK naming the callback). Outputs are checked for NaN/Inf. */

/** out[nz] = Phi v (or Phi' v): v has nz entries. */
typedef int (*fold_map_vec_fn)(const double *v, double *out, void *user_data);
/** out[nz] = Psi dp: dp has np entries. */
typedef int (*fold_map_psi_fn)(const double *dp, double *out, void *user_data);
/** out[np] = Psi' w: w has nz entries. */
typedef int (*fold_map_psit_fn)(const double *w, double *out, void *user_data);
/** diag[nz] = diagonal of Phi (for the Jacobi preconditioner). */
typedef int (*fold_map_diag_fn)(double *diag, void *user_data);
/** out[nz] = U(z, p): the update step itself (finite-difference maps). */
typedef int (*fold_map_update_fn)(const double *z, const double *p, double *out, void *user_data);

/** A compressed-column sparse matrix, 0-based, rows sorted and unique in each column.
 * Arrays are copied by the function that takes it. */
typedef struct fold_csc {
    fold_int nrow, ncol;
    const fold_int *colptr; /**< ncol + 1 */
    const fold_int *rowind; /**< colptr[ncol] */
    const double *values;   /**< colptr[ncol] */
} fold_csc;

/** Finite-difference schemes of maps given only by U (doc/iterative.md §3). */
typedef enum fold_fd_scheme {
    FOLD_FD_CENTRAL = 0, /**< (U(z+hv) - U(z-hv)) / 2h: error O(h^2), 2 evaluations */
    FOLD_FD_FORWARD = 1  /**< (U(z+hv) - U(z)) / h: error O(h), 1 evaluation */
} fold_fd_scheme;

/** Definition of a map at its fixed point. Give either the derivative products (phi_v and/or
 * phit_v, psi_v and/or psit_v), or the matrices (a_matrix = I - Phi, psi_matrix = Psi), or
 * only `update` (finite-difference forward mode). Forward mode (JVP) needs Phi v and Psi dp;
 * reverse mode (VJP) needs Phi' v and Psi' w (phi_v serves as phit_v when is_symmetric). */
typedef struct fold_map_def {
    const char *name; /**< for messages; may be NULL */
    fold_int nz, np;  /**< state and parameter sizes (nz >= 1, np >= 0) */
    const double *z;  /**< fixed point (nz); copied; required for `update`, else optional */
    const double *p;  /**< parameters (np); copied; required for `update`, else optional */
    fold_map_vec_fn phi_v, phit_v;
    fold_map_psi_fn psi_v;
    fold_map_psit_fn psit_v;
    fold_map_diag_fn diag_phi;  /**< optional: diagonal of Phi (Jacobi) */
    fold_map_update_fn update;  /**< optional: U itself (finite differences) */
    const fold_csc *a_matrix;   /**< optional: the fold matrix I - Phi (nz x nz), copied */
    const fold_csc *psi_matrix; /**< optional: Psi (nz x np), copied */
    bool is_symmetric;          /**< Phi is symmetric (enables MINRES and CG) */
    fold_int n_blocks;          /**< block preconditioner: number of diagonal blocks */
    const fold_int *block_ptr;  /**< n_blocks + 1 block boundaries 0 = b0 < ... = nz */
    fold_fd_scheme fd_scheme;
    double fd_step;  /**< relative step h (0: eps^(1/3) central, eps^(1/2) forward) */
    void *user_data; /**< passed to every callback */
} fold_map_def;

/** A fold map: its definition, copied, plus the factorizations and the residual history of
 * its last solve, cached in it. Thread safety: calls on one map must not run concurrently
 * (nor on two maps sharing one nearby map, fold_map_set_nearby, which keeps its
 * factorization); distinct maps are independent. The built-in steps (fold_iter_*,
 * fold_step_unroll_vjp) keep no state and are thread-safe when their callbacks are. */
typedef struct fold_map fold_map;

/** Validate def and create a map (copies z, p and matrices). Errors (nothing allocated):
 * FOLD_ERR_ARGUMENT (NULL, no way to compute Phi or Psi products), FOLD_ERR_DIMENSION,
 * FOLD_ERR_SPARSITY (malformed CSC), FOLD_ERR_NONFINITE (NaN in z, p or matrix values). */
FOLD_API fold_status fold_map_create(const fold_map_def *def, fold_map **out);

/** Free; accepts NULL. */
FOLD_API void fold_map_free(fold_map *map);

/** Sizes (either pointer may be NULL). */
FOLD_API void fold_map_dims(const fold_map *map, fold_int *nz, fold_int *np);

/** Forward mode: solve (I - Phi) dz = Psi dp; dp (np) in, dz (nz) out. Method and
 * preconditioner from settings->backward.method and settings->precond.kind (settings NULL:
 * fold_settings_default). direct / precond exact / block / jacobi (without diag_phi) need the
 * matrix I - Phi: a_matrix, else assembled from nz products of Phi (refused with
 * FOLD_ERR_TOO_LARGE above nz = 4000). Returns FOLD_OK; FOLD_ERR_NOT_CONVERGED (iteration
 * limit or breakdown, info->reason says which), FOLD_ERR_DIVERGED (LFPI with spectral radius
 * >= 1), FOLD_ERR_UNSUPPORTED (missing products for the mode, MINRES/CG on a non-symmetric
 * map), FOLD_ERR_SETTING, FOLD_ERR_CALLBACK, FOLD_ERR_NONFINITE. dz is written only on
 * success. info may be NULL. Not thread-safe on one map. */
FOLD_API fold_status fold_map_jvp(fold_map *map, const fold_settings *settings, const double *dp,
                                  double *dz, fold_backward_info *info);

/** Reverse mode: solve (I - Phi)' w = zbar, then pbar = Psi' w; zbar (nz) in, pbar (np) out.
 * Maps defined only by `update` refuse with FOLD_ERR_UNSUPPORTED. Otherwise as fold_map_jvp. */
FOLD_API fold_status fold_map_vjp(fold_map *map, const fold_settings *settings, const double *zbar,
                                  double *pbar, fold_backward_info *info);

/** Full Jacobian dz/dp, dense column-major nz x np, by np JVPs (or nz VJPs when nz < np and
 * reverse mode is available); one factorization is shared. */
FOLD_API fold_status fold_map_jacobian(fold_map *map, const fold_settings *settings, double *J,
                                       fold_backward_info *info);

/** Relative residuals ||r_k|| / ||b|| of the last iterative solve (last right-hand side),
 * one per iteration starting with iteration 0. Copies up to cap entries into out (may be
 * NULL) and the total count into *count. */
FOLD_API fold_status fold_map_residual_history(const fold_map *map, double *out, fold_int cap,
                                               fold_int *count);

/** Use the factorization of a nearby map (same nz, e.g. another parameter value with the
 * same pattern) as the preconditioner when precond.kind = nearby. nearby's matrix is
 * factored once and kept in nearby, which must outlive its use; NULL clears. */
FOLD_API fold_status fold_map_set_nearby(fold_map *map, fold_map *nearby);

/* ---- Built-in update steps (doc/iterative.md §4) ---- */

/** A smooth objective f(x; p): gradient, Hessian-vector product and the cross term
 * C = d(grad_x f)/dp (n x np) by products. hess_v and cross products are needed for the
 * fold and the unrolled derivatives, not for plain solves. */
typedef struct fold_objective {
    fold_int n, np;
    int (*grad)(const double *x, const double *p, double *g, void *user_data);
    int (*hess_v)(const double *x, const double *p, const double *v, double *out,
                  void *user_data); /**< out[n] = H v */
    int (*cross_v)(const double *x, const double *p, const double *dp, double *out,
                   void *user_data); /**< out[n] = C dp */
    int (*cross_t_v)(const double *x, const double *p, const double *w, double *out,
                     void *user_data); /**< out[np] = C' w */
    void *user_data;
} fold_objective;

typedef enum fold_set_kind {
    FOLD_SET_FREE = 0,    /**< R^n (no projection) */
    FOLD_SET_BOX = 1,     /**< lower <= x <= upper (NULL side: unbounded) */
    FOLD_SET_NONNEG = 2,  /**< x >= 0 */
    FOLD_SET_SIMPLEX = 3, /**< x >= 0, sum x = radius */
    FOLD_SET_BALL = 4,    /**< ||x - center||_2 <= radius (center NULL: origin) */
    FOLD_SET_AFFINE = 5   /**< A x = b, A (m x n) of full row rank */
} fold_set_kind;

/** A closed convex set with an exact projection and its Jacobian. Arrays are copied. */
typedef struct fold_set {
    fold_set_kind kind;
    const double *lower, *upper; /**< box (n) */
    double radius;               /**< simplex sum / ball radius (> 0) */
    const double *center;        /**< ball (n) */
    const fold_csc *A;           /**< affine (m x n) */
    const double *b;             /**< affine (m) */
} fold_set;

typedef enum fold_iter_kind {
    FOLD_ITER_PGD = 0,    /**< x <- P_C(x - step grad f(x; p)) */
    FOLD_ITER_PROX_L1 = 1 /**< x <- S_{step l1}(x - step grad f(x; p)) (soft threshold) */
} fold_iter_kind;

/** An iterative method: kind, objective, set (PGD) or l1 weight (prox), step (> 0,
 * typically 1/L). The objective and the set are given either as obj and set, or by a
 * fold_problem (the one definition Ipopt and the KKT fold use; obj and set then stay zero):
 * grad f from grad_f, H v from hess_l_v (else from the Hessian matrix), the cross term
 * C = d(grad_x f)/dp from hess_lp_v (else the hess_lp pattern), the box from the bounds. The
 * problem must be bound-constrained (m = 0: a projection onto {x : gL <= g(x) <= gU} is not built
 * in) with bounds that do not move with p; prox_l1 takes only a problem without finite bounds. It
 * must outlive the calls that use the definition (and the maps made from it). */
typedef struct fold_iter_def {
    fold_iter_kind kind;
    fold_objective obj;
    fold_set set;
    double l1_weight; /**< prox: weight of ||x||_1 (>= 0) */
    double step;
    const fold_problem *problem; /**< optional: objective and box from a problem */
} fold_iter_def;

/** Outcome of a built-in iterative solve or unrolled derivative. */
typedef struct fold_iter_info {
    size_t size; /**< set by the caller: initialize with FOLD_ITER_INFO_INIT */
    fold_int iterations;
    double step_norm;    /**< ||x_k - x_{k-1}||_inf of the last iteration */
    bool converged;      /**< step_norm <= tol (1 + ||x||_inf) */
    size_t bytes_stored; /**< memory kept for reverse-mode unrolling */
    double solve_s;
} fold_iter_info;

/** Initializer of a fold_iter_info: its size, every other field zero. */
#define FOLD_ITER_INFO_INIT                                                                        \
    {                                                                                              \
        .size = sizeof(fold_iter_info)                                                             \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_ITER_INFO_V1 FOLD_FIELD_END(fold_iter_info, solve_s)

/** The fold map of one step at x (n) with parameters p (np): Phi and Psi products exact
 * (projection Jacobians of every set, soft-threshold Jacobian). */
FOLD_API fold_status fold_iter_map(const fold_iter_def *def, const double *x, const double *p,
                                   fold_map **out);

/** One run of a built-in iterative method (fold_iter_solve). Arrays are only read during the
 * call; initialize with designated initializers ({.p = p, .max_iter = 1000, .tol = 1e-10}):
 * fields left out are zero / NULL. */
typedef struct fold_iter_run {
    const double *p;   /**< parameters (np; may be NULL when np = 0) */
    const double *x0;  /**< start (n); NULL: zeros (projected onto the set for PGD) */
    fold_int max_iter; /**< iteration limit (>= 0) */
    double tol;        /**< stop when ||x_k - x_{k-1}||_inf <= tol (1 + ||x_k||_inf); 0: run
                            max_iter iterations */
    const double *dp;  /**< optional direction (np): also propagate the tangent
                            dx_k = (d x_k / dp) dp (forward-mode unrolling; x0 independent of
                            p); needs the output dx */
} fold_iter_run;

/** Run the method as *run says; x (n) receives the last iterate and, with run->dp, dx (n) its
 * tangent. Returns FOLD_OK, or FOLD_WARN_INACCURATE when max_iter was reached (x written);
 * FOLD_ERR_ARGUMENT (NULL def, run or x, dp without dx or the reverse, max_iter < 0, tol < 0),
 * FOLD_ERR_NONFINITE, FOLD_ERR_CALLBACK. info (may be NULL) is written on every path.
 * Thread-safe if the callbacks are. */
FOLD_API fold_status fold_iter_solve(const fold_iter_def *def, const fold_iter_run *run, double *x,
                                     double *dx, fold_iter_info *info);

/** One reverse-mode unrolling (fold_iter_unroll_vjp, fold_step_unroll_vjp). Arrays are only
 * read during the call; initialize with designated initializers ({.p = p, .iters = 50,
 * .bar = xbar}): fields left out are zero / NULL. */
typedef struct fold_unroll_run {
    const double *p;     /**< parameters (np; may be NULL when np = 0) */
    const double *start; /**< x0 (n) / z0 (nz), independent of p; NULL: zeros (projected onto
                              the set for PGD) */
    fold_int iters;      /**< iterations run and unrolled (>= 0) */
    const double *bar;   /**< upstream gradient on the last iterate: xbar (n) / zbar (nz) */
} fold_unroll_run;

/** Reverse-mode unrolling: run exactly run->iters iterations from run->start storing the
 * iterates, then back-propagate run->bar through them: pbar (np) = (d x_iters / dp)' bar.
 * x (n, may be NULL) receives x_iters; info->bytes_stored the memory of the tape. */
FOLD_API fold_status fold_iter_unroll_vjp(const fold_iter_def *def, const fold_unroll_run *run,
                                          double *x, double *pbar, fold_iter_info *info);

/** A user-defined update step z <- U(z, p) of any iterative method (an SQP step, a dual
 * gradient step, ...), for reverse-mode unrolling: U itself and the products by its
 * Jacobians Phi(z) = dU/dz and Psi(z) = dU/dp at any iterate z (doc/iterative.md §4.4). */
typedef struct fold_step_def {
    const char *name; /**< for messages; may be NULL */
    fold_int nz, np;  /**< state and parameter sizes (nz >= 1, np >= 0) */
    /** out[nz] = U(z, p) */
    int (*update)(const double *z, const double *p, double *out, void *user_data);
    /** out[nz] = Phi(z)' v */
    int (*phit_v)(const double *z, const double *p, const double *v, double *out, void *user_data);
    /** out[np] = Psi(z)' w */
    int (*psit_v)(const double *z, const double *p, const double *w, double *out, void *user_data);
    void *user_data; /**< passed to every callback */
} fold_step_def;

/** Reverse-mode unrolling of a user-defined step: run exactly run->iters steps from
 * z0 = run->start (nz; NULL: zeros), storing z_0..z_iters, then pull zbar = run->bar (nz)
 * back: pbar (np) = (d z_iters / dp)' zbar =
 * sum_k Psi(z_k)' Phi(z_{k+1})' ... Phi(z_{iters-1})' zbar (z0 independent of p). z (nz, may
 * be NULL) receives z_iters; info (may be NULL) the iterations, the tape's bytes and the
 * time. Errors (outputs not written): FOLD_ERR_ARGUMENT (NULL def/callback/array, iters < 0,
 * sizes), FOLD_ERR_NONFINITE (p, z0, zbar or a callback output), FOLD_ERR_CALLBACK (names the
 * callback and the iteration), FOLD_ERR_MEMORY. Thread-safe if the callbacks are. */
FOLD_API fold_status fold_step_unroll_vjp(const fold_step_def *def, const fold_unroll_run *run,
                                          double *z, double *pbar, fold_iter_info *info);

#endif
