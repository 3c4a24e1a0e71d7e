/* Differentiating the stored solution: JVP, VJP, Jacobians and the optimal-value gradient
 * through the KKT map (doc/math.md §3). All calls at one solution share one factorization.
 * See doc/api/fold.md. */
#ifndef FOLDOPT_FOLD_H
#define FOLDOPT_FOLD_H

#include "solver.h"

/** Why an iterative backward solve stopped. */
typedef enum fold_backward_reason {
    FOLD_REASON_DIRECT = 0, /**< direct solve (no iteration) */
    FOLD_REASON_CONVERGED = 1,
    FOLD_REASON_FIXED_ITER = 2, /**< ran the backward.fixed_iterations asked for: the result
                                     and its true relative residual are returned whatever
                                     that residual is (no convergence test) */
    FOLD_REASON_MAX_ITER = -1,
    FOLD_REASON_BREAKDOWN = -2,
    FOLD_REASON_DIVERGED = -3,
    FOLD_REASON_NAN = -4,
    FOLD_REASON_NOT_RUN = -5 /**< no backward solve ran (the call failed before it) */
} fold_backward_reason;

/** Information about the last backward call. */
typedef struct fold_backward_info {
    size_t size;                 /**< set by the caller: initialize with FOLD_BACKWARD_INFO_INIT */
    fold_kkt_form kkt_form;      /**< used */
    fold_backward_method method; /**< used */
    fold_factorization factorization; /**< actually used (after any fallback) */
    fold_ordering ordering;           /**< used */
    char fallback_reason[128];        /**< why CHOLMOD fell back to UMFPACK, else "" */
    fold_int dim;                     /**< order of the linear system solved: the KKT matrix, or
                                           I - Phi of a fold map (its nz) */
    fold_int nnz;                     /**< nonzeros of its assembled matrix (0 when none) */
    fold_int factor_nnz;              /**< nonzeros of the factors (L+U or L) */
    fold_int n_active_cons;           /**< constraints treated as active (equalities included) */
    fold_int n_active_bounds;         /**< variable bounds treated as active */
    fold_int n_weak;                  /**< weakly active constraints and bounds found */
    bool is_one_sided;                /**< weakly active ones were resolved by policy */
    bool is_least_squares;            /**< singular system: minimum-norm least-squares result */
    bool reused_factorization;        /**< no new numeric factorization in this call */
    bool reused_analysis;             /**< symbolic analysis reused from an earlier solution */
    double rcond;                     /**< reciprocal condition estimate (UMFPACK), else 0 */
    double residual;                  /**< max relative residual over the right-hand sides */
    fold_int iterations;              /**< Krylov / LFPI iterations (summed over right-hand sides);
                                           direct method: GMRES iterations on right-hand sides a
                                           regularized solve could not settle (doc/math.md §4.8) */
    fold_backward_reason reason;
    fold_int n_rhs; /**< right-hand sides solved */
    double assemble_s, analyze_s, factor_s, solve_s, total_s;
    double singular_delta;     /**< singular KKT matrix: backward.singular_reg, the delta
                                    of its regularization K + delta diag(d_x, -d_y), or of
                                    K with its copied columns pinned (fallback_reason says
                                    which; doc/math.md §4.8), else 0 */
    fold_int n_not_unique;     /**< entries of the result left undetermined by the null space
                                    of a singular KKT matrix, or (jacobian) in a column or row
                                    without a solution (set to NaN, FOLD_WARN_NOT_UNIQUE) */
    fold_int n_candidates;     /**< sides the solution's accuracy cannot classify (ambiguous or
                                    weakly active, doc/math.md §3.2), differentiated both ways */
    fold_int n_uncertain;      /**< entries of the result that depend on the classification of
                                    the candidates, or that the central path does not settle
                                    (suspect verdicts, doc/math.md eq. 3.5b): set to NaN,
                                    FOLD_WARN_UNCERTAIN, their values in the trust report */
    int n_variants;            /**< other classifications (active form) or barrier parameters
                                    (barrier form) solved for the comparison */
    double barrier_error;      /**< barrier form: the largest change of an entry from the
                                    reached barrier parameter to its extrapolated limit,
                                    relative to the largest entry of its output (eq. 3.19) */
    fold_int n_barrier_error;  /**< entries whose change exceeds the tolerance (reported as
                                    FOLD_TRUST_BARRIER_ERROR with their limit; the value kept,
                                    FOLD_WARN_INACCURATE) */
    fold_precond_kind precond; /**< the preconditioner an iterative method used (precond.kind,
                                   or what auto chose); FOLD_PRECOND_NONE for direct */
    fold_int n_hess_products;  /**< Hessian-vector products (hess_l_v) the call made: with
                                    FOLD_HESS_PRODUCT about one per iteration of an iterative
                                    method (matrix-free KKT operator), plus 8 per diagonal
                                    estimate (classification, preconditioner; once per
                                    solution), n more when the direct method assembled H;
                                    0 for the other forms */
} fold_backward_info;

/** Initializer of a fold_backward_info: its size, every other field zero. */
#define FOLD_BACKWARD_INFO_INIT                                                                    \
    {                                                                                              \
        .size = sizeof(fold_backward_info)                                                         \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_BACKWARD_INFO_V1 FOLD_FIELD_END(fold_backward_info, precond)

/** Kinds of items of the trust report (fold_trust_report; doc/math.md §3.2, §4.8). */
typedef enum fold_trust_kind {
    FOLD_TRUST_AMBIGUOUS = 0,     /**< a side whose slack and multiplier are both nonzero at the
                                       accuracy the solution reached */
    FOLD_TRUST_WEAK = 1,          /**< a side whose slack and multiplier are both zero there */
    FOLD_TRUST_DEPENDENT = 2,     /**< a held bound or inequality of dependent active constraints
                                       whose multiplier can be shifted to zero (eq. 4.12) */
    FOLD_TRUST_INCONSISTENT = 3,  /**< a Jacobian column (parameter) or row (output) without a
                                       solution: its entries are NaN */
    FOLD_TRUST_NOT_UNIQUE = 4,    /**< an entry a singular KKT matrix leaves undetermined: NaN */
    FOLD_TRUST_UNCERTAIN = 5,     /**< an entry whose value depends on the classification of
                                       ambiguous sides, or that the central path does not
                                       settle: NaN, its values in [lo, hi] */
    FOLD_TRUST_BARRIER_ERROR = 6, /**< an entry whose barrier-form error estimate exceeds the
                                       tolerance: its value kept, the value and its limit
                                       for mu -> 0 in [lo, hi] */
    FOLD_TRUST_KINK = 7           /**< a parameter at which the optimal value has a kink: its
                                       left derivative in lo, its right derivative in hi */
} fold_trust_kind;

/** One item of the trust report. Sides (ambiguous, weakly active, dependent) name a bound of
 * a variable or a side of a constraint; entries (not unique, uncertain, barrier error, kink)
 * an entry of the call's result. Reports are arrays the library owns whose items may gain
 * fields in later versions: step through them with fold_trust_item_at (doc/api/types.md,
 * "Arrays that grow"). */
typedef struct fold_trust_item {
    size_t size; /**< the library's sizeof(fold_trust_item): the stride of the array */
    fold_trust_kind kind;
    fold_item_kind item; /**< sides: FOLD_ITEM_VARIABLE (a bound) or FOLD_ITEM_CONSTRAINT;
                           entries: FOLD_ITEM_NONE */
    fold_int index;      /**< sides: the variable or constraint; -1 */
    fold_side side;      /**< sides: FOLD_SIDE_LOWER or FOLD_SIDE_UPPER; entries: FOLD_SIDE_NONE */
    const char *name;    /**< as the user knows it: "bus 1484 vm upper", "d bus 7 vm / d pd
                              bus 3" (fold_problem_item_name); valid until the next call */
    double slack, multiplier; /**< sides: distance to the bound and multiplier; else NaN */
    fold_block block;         /**< entries: block of the output (FOLD_BLOCK_NONE for a parameter
                                   gradient) */
    fold_int entry;           /**< entries: position in the call's result (a Jacobian's column-major
                                   row + n_rows col; a jvp's index in its block); -1 */
    fold_int row, col;        /**< entries: output index (in block) and parameter index, or -1 */
    double value;        /**< entries: the value of the primary classification / barrier form */
    double lo, hi;       /**< uncertain, barrier error: the interval of its values; kink: the
                              left (lo) and right (hi) derivatives; else NaN */
    fold_int n_affected; /**< sides: entries of the call's result whose values depend on it */
    const fold_int *affected; /**< their positions (entry numbering above) */
} fold_trust_item;

/** The end of its first version: the smallest item size (stride) of a report. */
#define FOLD_TRUST_ITEM_V1 FOLD_FIELD_END(fold_trust_item, affected)

/** Item k of a trust report: steps by items->size, the stride the library wrote, so that a
 * program compiled against this header reads the reports of a later library whose items have
 * more fields (it sees the fields it knows). Use it instead of items[k]. */
static inline const fold_trust_item *fold_trust_item_at(const fold_trust_item *items, fold_int k)
{
    return (const fold_trust_item *)(const void *)((const char *)items + (size_t)k * items->size);
}

/** A weakly active constraint or bound: at its bound but with a small multiplier. Copied into
 * the caller's array by fold_weak_list at the caller's element size, so the struct may gain
 * fields (doc/api/types.md, "Arrays that grow"). */
/** Which bound a weakly active entry is at. */
typedef enum fold_weak_kind {
    FOLD_WEAK_CONSTRAINT_LOWER = 0,
    FOLD_WEAK_CONSTRAINT_UPPER = 1,
    FOLD_WEAK_VARIABLE_LOWER = 2,
    FOLD_WEAK_VARIABLE_UPPER = 3
} fold_weak_kind;

typedef struct fold_weak_entry {
    fold_weak_kind kind; /**< constraint or variable, lower or upper */
    fold_int index;      /**< constraint or variable index */
    double distance;     /**< distance to the bound */
    double multiplier;
} fold_weak_entry;

/** The end of its first version: the smallest entry_size fold_weak_list accepts. */
#define FOLD_WEAK_ENTRY_V1 FOLD_FIELD_END(fold_weak_entry, multiplier)

/** Upstream gradients of a VJP on the blocks of z = (x, lam, zl, zu): x, zl, zu have n entries,
 * lam m; a NULL block is zero. Only read during the call. */
typedef struct fold_zbar {
    const double *x, *lam, *zl, *zu;
} fold_zbar;

/** Outputs of a JVP on the blocks of z = (x, lam, zl, zu): caller arrays of n (x, zl, zu) and
 * m (lam) entries; a NULL block is not computed. Written only on success. */
typedef struct fold_dz {
    double *x, *lam, *zl, *zu;
} fold_dz;

/** Forward mode: directional derivative dz = (dz/dp) dp of the solution along dp (np entries)
 * into the blocks of *dz (dz NULL: none wanted). */
FOLD_API fold_status fold_jvp(fold_solver *solver, const double *dp, const fold_dz *dz,
                              fold_backward_info *info);

/** Reverse mode: pbar = (dz/dp)' zbar for the upstream gradients *zbar (NULL: all zero). One
 * linear solve whatever np is. Output pbar (np; written only on success, may alias a block of
 * zbar). */
FOLD_API fold_status fold_vjp(fold_solver *solver, const fold_zbar *zbar, double *pbar,
                              fold_backward_info *info);

/** The entries of a fold_jacobian: rows of block `of` (rows[0..n_rows); rows NULL: all rows of
 * the block, n_rows then 0 or the block's size) and parameter columns (cols[0..n_cols);
 * cols NULL: all np, n_cols then 0 or np). Arrays are only read during the call; initialize
 * with designated initializers ({.of = FOLD_BLOCK_X, .n_rows = 2, .rows = r}): fields left out
 * are zero / NULL, so {.of = FOLD_BLOCK_LAM} asks for every entry of that block. */
typedef struct fold_jacobian_sel {
    fold_block of;
    fold_int n_rows;
    const fold_int *rows;
    fold_int n_cols;
    const fold_int *cols;
} fold_jacobian_sel;

/** Selected entries of dz/dp as *sel says (NULL: every entry of x). Output J is dense,
 * column-major, n_rows x n_cols (the counts after NULL rows / cols are expanded). Chooses forward
 * or reverse mode by the smaller count and solves backward.block_size right-hand sides at a time.
 * With a singular KKT matrix, the columns of parameters along which the solution is not
 * differentiable and the rows of outputs that are not unique are NaN, every other entry is returned
 * (FOLD_WARN_NOT_UNIQUE, info->n_not_unique, fold_last_error() names them; doc/math.md
 * §4.8); under backward.not_unique = refuse, FOLD_ERR_SINGULAR. */
FOLD_API fold_status fold_jacobian(fold_solver *solver, const fold_jacobian_sel *sel, double *J,
                                   fold_backward_info *info);

/** Gradient of the optimal value f*(p) = f(x*(p); p): dL/dp at the solution (envelope
 * theorem; no linear solve). Output grad (np). Where the optimal value has a kink (the
 * multipliers or the solution are not unique, doc/math.md §3.7) the entry is NaN and the
 * call returns FOLD_WARN_NOT_UNIQUE; fold_value_onesided and the trust report (FOLD_TRUST_KINK)
 * give its left and right derivatives. */
FOLD_API fold_status fold_value_gradient(fold_solver *solver, double *grad);

/** Left and right derivatives of the optimal value with respect to each parameter:
 * left[k] = lim (f*(p) - f*(p - t e_k)) / t and right[k] = lim (f*(p + t e_k) - f*(p)) / t as
 * t -> 0+ (-inf / +inf where the problem becomes infeasible on that side, NaN where they
 * could not be resolved); equal to the gradient where it exists. For a load at a bus of an
 * AC-OPF these are the two one-sided LMPs. FOLD_OK when every derivative exists,
 * FOLD_WARN_NOT_UNIQUE otherwise (FOLD_TRUST_KINK items name the parameters). */
FOLD_API fold_status fold_value_onesided(fold_solver *solver, double *left, double *right);

/** The trust report of the last fold call on this solver (fold_jvp, fold_vjp, fold_jacobian,
 * fold_value_gradient, fold_value_onesided): every item that limits the trust of its result,
 * named as the user knows it. *items points into the solver (valid until its next call);
 * *count = 0 when nothing limits it. */
FOLD_API fold_status fold_trust_report(const fold_solver *solver, const fold_trust_item **items,
                                       fold_int *count);

/** JSON spelling of a fold_trust_kind: "ambiguous", "weakly_active", "dependent",
 * "inconsistent", "not_unique", "uncertain", "barrier_error", "kink". */
FOLD_API const char *fold_trust_kind_name(fold_trust_kind kind);

/** Weakly active, ambiguous and dependent sides found by the last backward call (the sides of
 * the trust report as fold_weak_entry); copies up to cap entries into out (may be NULL) and
 * returns the total count in *count. entry_size is the caller's sizeof(fold_weak_entry), the
 * stride of out: entry k is written at out + k * entry_size, its first min(entry_size,
 * library's size) bytes (fields a newer caller knows beyond them zeroed), nothing else;
 * below FOLD_WEAK_ENTRY_V1 (with out and cap > 0) FOLD_ERR_ARGUMENT. */
FOLD_API fold_status fold_weak_list(const fold_solver *solver, fold_weak_entry *out, fold_int cap,
                                    size_t entry_size, fold_int *count);

#endif
