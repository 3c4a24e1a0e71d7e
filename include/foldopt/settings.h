/* Settings: one struct in groups, a defaults function, validation, and setting by name.
 * Every field is documented in doc/settings.md, generated from the same table. */
#ifndef FOLDOPT_SETTINGS_H
#define FOLDOPT_SETTINGS_H

#include "status.h"

typedef enum fold_forward_method { FOLD_FORWARD_IPOPT = 0 } fold_forward_method;

/** Fill-reducing ordering of MUMPS, the linear solver inside Ipopt (its mumps_pivot_order). */
typedef enum fold_forward_ordering {
    FOLD_FWD_ORDER_AUTO = 0,   /**< MUMPS chooses (Ipopt's default, mumps_pivot_order 7) */
    FOLD_FWD_ORDER_AMD = 1,    /**< approximate minimum degree (0) */
    FOLD_FWD_ORDER_AMF = 2,    /**< approximate minimum fill (2) */
    FOLD_FWD_ORDER_SCOTCH = 3, /**< SCOTCH nested dissection (3) */
    FOLD_FWD_ORDER_PORD = 4,   /**< PORD (4) */
    FOLD_FWD_ORDER_METIS = 5,  /**< METIS nested dissection (5) */
    FOLD_FWD_ORDER_QAMD = 6    /**< AMD with quasi-dense row detection (6) */
} fold_forward_ordering;

typedef enum fold_kkt_form {
    FOLD_KKT_ACTIVE = 0, /**< active-set reduced system (doc/math.md §3.1) */
    FOLD_KKT_BARRIER = 1 /**< interior-point system with complementarity diagonals (§3.2) */
} fold_kkt_form;

typedef enum fold_factorization {
    FOLD_FACTOR_AUTO = 0,    /**< CHOLMOD LDL' where it applies, else UMFPACK */
    FOLD_FACTOR_UMFPACK = 1, /**< UMFPACK LU: general, the robust choice (default) */
    FOLD_FACTOR_CHOLMOD = 2 /**< CHOLMOD LDL' of the regularized quasi-definite form + refinement */
} fold_factorization;

typedef enum fold_ordering {
    FOLD_ORDER_AMD = 0,
    FOLD_ORDER_COLAMD = 1,
    FOLD_ORDER_METIS = 2
} fold_ordering;

typedef enum fold_weak_policy {
    FOLD_WEAK_REFUSE = 0,   /**< weakly active constraints: FOLD_ERR_DEGENERATE */
    FOLD_WEAK_INACTIVE = 1, /**< treat them as inactive (one-sided derivative) */
    FOLD_WEAK_ACTIVE = 2    /**< treat them as active (one-sided derivative) */
} fold_weak_policy;

/** What to do with sides of constraints and bounds whose classification (active or not) the
 * accuracy of the solution cannot decide (doc/math.md §3.2). */
typedef enum fold_ambiguity_policy {
    FOLD_AMBIGUITY_RESOLVE = 0, /**< fold_solve tightens warm until they are decided; the fold
                                     differentiates what remains under both classifications and
                                     reports the entries that differ (FOLD_WARN_UNCERTAIN) */
    FOLD_AMBIGUITY_FLAG = 1,    /**< the same without the re-solves */
    FOLD_AMBIGUITY_REFUSE = 2,  /**< FOLD_ERR_DEGENERATE naming them (no re-solve) */
    FOLD_AMBIGUITY_IGNORE = 3   /**< unsafe: the fixed thresholds primal_tol, dual_tol alone
                                     (weak_policy for weakly active ones), nothing reported */
} fold_ambiguity_policy;

/** When fold_solve's tightening re-solves (forward.resolve_rounds, doc/math.md §3.2) run. */
typedef enum fold_resolve_when {
    FOLD_RESOLVE_AT_FOLD = 0, /**< in the first fold call at the solution (fold_jvp, fold_vjp,
                                   fold_jacobian, fold_value_gradient): a solution that is
                                   never differentiated does not pay for them */
    FOLD_RESOLVE_AT_SOLVE = 1 /**< within fold_solve: the solution it stores is already the
                                   tightened point */
} fold_resolve_when;

typedef enum fold_not_unique_policy {
    FOLD_NOT_UNIQUE_NAN = 0,   /**< undetermined entries set to NaN, FOLD_WARN_NOT_UNIQUE */
    FOLD_NOT_UNIQUE_REFUSE = 1 /**< FOLD_ERR_SINGULAR naming them */
} fold_not_unique_policy;

typedef enum fold_backward_method {
    FOLD_BACKWARD_DIRECT = 0,
    FOLD_BACKWARD_LFPI = 1,
    FOLD_BACKWARD_GMRES = 2,
    FOLD_BACKWARD_MINRES = 3,
    FOLD_BACKWARD_BICGSTAB = 4,
    FOLD_BACKWARD_CG = 5
} fold_backward_method;

typedef enum fold_precond_kind {
    FOLD_PRECOND_NONE = 0,
    FOLD_PRECOND_JACOBI = 1,
    FOLD_PRECOND_BLOCK = 2,  /**< block diagonal, CHOLMOD-factored blocks */
    FOLD_PRECOND_EXACT = 3,  /**< factorization of the current system */
    FOLD_PRECOND_NEARBY = 4, /**< factorization kept from an earlier parameter value */
    FOLD_PRECOND_AUTO = 5    /**< chosen for the method and the system, reported in
                                  fold_backward_info.precond (doc/math.md §3.9) */
} fold_precond_kind;

/** Log sink: level (1 = summary, 2 = iterations, 3 = debug), one line without newline. */
typedef void (*fold_log_fn)(int level, const char *line, void *user_data);

/** All settings. Initialize with fold_settings_default; change fields directly or by name
 * with fold_settings_set; fold_solver_create validates and copies them. The struct can grow
 * (doc/api/types.md, "Structs that grow"): size, set by fold_settings_default, is the sizeof
 * the caller was compiled with, and the library reads only those bytes (fields it does not
 * find there take their defaults). */
typedef struct fold_settings {
    size_t size; /**< set by fold_settings_default; 0 (never initialized) is refused */
    struct {
        fold_forward_method method; /**< forward solver backend */
        double tol;                 /**< Ipopt tol */
        fold_int max_iter;          /**< Ipopt max_iter */
        double time_limit_s;        /**< wall-clock limit of one forward solve; 0 = none */
        bool warm_start;            /**< start the next solve from the last solution */
        double kkt_tol;             /**< KKT residual accepted for an imported (black-box) point */
        double bound_push;          /**< Ipopt bound_push / bound_frac for cold starts */
        fold_forward_ordering ordering; /**< MUMPS's fill-reducing ordering inside Ipopt */
        double pivtol;                  /**< MUMPS's pivot tolerance inside Ipopt */
        int resolve_rounds;   /**< warm re-solves that tighten tol to decide ambiguous sides */
        int resolve_max_iter; /**< those re-solves end at their next acceptable iterate
                                   after this many iterations (0: Ipopt decides) */
        int floor_max_iter;   /**< a solve ends at its next acceptable iterate this many
                                   iterations after mu came down to tol (0: Ipopt decides) */
        fold_resolve_when resolve_when; /**< those re-solves: in the first fold call or in
                                             fold_solve */
        int stall_iter; /**< restart with Ipopt's adaptive barrier strategy when mu has not
                             fallen after this many iterations (0: never) */
        double stall_dual_growth; /**< the same when the dual infeasibility grows past this
                                       many times its start at the first mu (0: never) */
        int stall_step_iter;      /**< the same when mu has not fallen after this many iterations
                                       with a median primal step <= stall_step over the last 20
                                       (0: never) */
        double stall_step;        /**< that median step */
        int stall_rescue_iter;    /**< the adaptive re-run of a stalled solve stops, failed
                                       (FOLD_FWD_STALLED), when its median primal step over
                                       the last 20 is <= stall_step at this iteration (0: never) */
    } forward;
    struct {
        fold_kkt_form kkt_form;
        fold_backward_method method;
        fold_factorization factorization;
        fold_ordering ordering;
        double tol;                /**< relative residual target of iterative backward solves */
        double refine_tol;         /**< refinement target of direct solves (auto: LU below it) */
        fold_int max_iter;         /**< iteration limit of iterative backward methods */
        fold_int fixed_iterations; /**< > 0: exactly this many iterations, no convergence
                                        test (FOLD_REASON_FIXED_ITER); 0: off */
        int restart;               /**< GMRES restart length */
        int refine_steps;          /**< iterative refinement steps after a direct solve */
        double regularization;     /**< delta of the quasi-definite form for CHOLMOD LDL' */
        double singular_reg;       /**< relative delta of the regularization of a singular KKT */
        fold_not_unique_policy not_unique;
        double rcond_min;       /**< reciprocal condition estimate below which KKT is singular */
        bool lsq_fallback;      /**< on a singular KKT, return the SPQR minimum-norm result */
        bool allow_unconverged; /**< differentiate a forward solve that did not converge */
        int block_size;         /**< right-hand sides per block in jacobian calls */
        bool variant_refactor;  /**< comparison runs factor their own KKT matrix */
        bool barrier_condense;  /**< barrier form: eliminate rows far from their bounds */
    } backward;
    struct {
        fold_precond_kind kind;
    } precond;
    struct {
        double primal_tol; /**< distance to bound below which a constraint is at its bound */
        double dual_tol;   /**< multiplier above which an at-bound constraint is strongly active */
        fold_weak_policy weak_policy;
        fold_ambiguity_policy ambiguity;
    } active_set;
    struct {
        int verbose;      /**< 0 silent, 1 summary, 2 iteration tables, 3 debug */
        fold_log_fn sink; /**< NULL: stderr */
        void *sink_data;
    } log;
} fold_settings;

/** The end of the first version of fold_settings: the smallest size accepted. */
#define FOLD_SETTINGS_V1 FOLD_FIELD_END(fold_settings, log)

/** Fill the first size bytes of *s with the documented defaults and set s->size = size (the
 * bytes beyond the library's own struct, when size is larger, are zeroed). Call it through
 * fold_settings_default. Does nothing for a NULL s or a size smaller than the size field. */
FOLD_API void fold_settings_init(fold_settings *s, size_t size);

/** Fill *s (a fold_settings *) with the documented defaults and its size. */
#define fold_settings_default(s) fold_settings_init((s), sizeof *(s))

/** Check every field against its range; FOLD_ERR_SETTING naming the field otherwise;
 * FOLD_ERR_ARGUMENT when s->size is 0 or smaller than the first version of the struct. */
FOLD_API fold_status fold_settings_validate(const fold_settings *s);

/** Set one field by its dotted name ("backward.tol", "active_set.weak_policy") from text:
 * numbers, true/false, or an enum value's name ("barrier", "metis"). The value is checked
 * against the field's range; on error *s is unchanged. A field beyond s->size (a caller
 * compiled before it existed) is FOLD_ERR_SETTING. */
FOLD_API fold_status fold_settings_set(fold_settings *s, const char *name, const char *value);

/** Format the current value of a named field into buf (size len). */
FOLD_API fold_status fold_settings_get(const fold_settings *s, const char *name, char *buf,
                                       size_t len);

/** Number of settings in the table and their metadata, for generated docs and --help. */
typedef struct fold_setting_info {
    const char *name;    /**< dotted name */
    const char *type;    /**< "int", "real", "bool" or "enum" */
    const char *choices; /**< enum value names separated by '|', else NULL */
    const char *deflt;   /**< default as text */
    double min, max;     /**< range (int, real) */
    const char *doc;
} fold_setting_info;

FOLD_API fold_int fold_settings_count(void);
FOLD_API const fold_setting_info *fold_settings_info(fold_int index);

#endif
