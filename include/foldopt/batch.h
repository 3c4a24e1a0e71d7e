/* Scenario batches: one model solved and differentiated at many parameter vectors by a pool
 * of worker processes that build the model once, warm-start each scenario from a nearby
 * solution, isolate failures and crashes, and can keep each scenario's factorization for
 * later backward calls. MPI ranks on top: foldopt/batch_mpi.h. See doc/api/batch.md. */
#ifndef FOLDOPT_BATCH_H
#define FOLDOPT_BATCH_H

#include "fold.h"

/** Size of the message buffers the hooks write into (with the terminating NUL). */
#define FOLD_BATCH_MESSAGE_LEN 1024
/** Largest number of scenarios per chunk (one warm-start chain, solved by one worker) that
 *  FOLD_BATCH_CHUNK_AUTO chooses. */
#define FOLD_BATCH_CHUNK 8
/** chunk_size = FOLD_BATCH_CHUNK_AUTO (the default): min(FOLD_BATCH_CHUNK,
 *  ceil(n / FOLD_BATCH_MIN_CHAINS)) for a job of n scenarios, so that a small job still has
 *  9 to FOLD_BATCH_MIN_CHAINS chains to spread over the workers (n chains for n <= 16);
 *  FOLD_BATCH_CHUNK for a job with carry (doc/api/batch.md). */
#define FOLD_BATCH_CHUNK_AUTO 0
#define FOLD_BATCH_MIN_CHAINS 16

/** What a scenario's solve started from. */
typedef enum fold_batch_start {
    FOLD_BATCH_START_COLD = 0,     /**< the model's own start point */
    FOLD_BATCH_START_ANCHOR = 1,   /**< the solution at the run's anchor parameters */
    FOLD_BATCH_START_SCENARIO = 2, /**< the solution of the scenario `warm_from` */
    FOLD_BATCH_START_CARRIED = 3   /**< a solution its worker kept from its last run with
                                        job.carry (scenario `warm_from` of that run) */
} fold_batch_start;

/** What became of a scenario. */
typedef enum fold_batch_outcome {
    FOLD_BATCH_DONE = 0,     /**< the model's hooks ran: `status` says how it went */
    FOLD_BATCH_CRASHED = 1,  /**< its worker process died while on it (signal or exit) */
    FOLD_BATCH_TIMED_OUT = 2 /**< it ran longer than scenario_timeout_s: its worker was
                                  killed (and replaced) */
} fold_batch_outcome;

/** How the start point of each scenario is chosen (doc/api/batch.md, "Warm starts"). */
typedef enum fold_batch_warm {
    FOLD_BATCH_WARM_NEAREST = 0, /**< the preceding scenario of its chain or the anchor,
                                      whichever is nearer in parameter space (default) */
    FOLD_BATCH_WARM_CHAIN = 1,   /**< the preceding scenario of its chain (chain heads: the
                                      anchor) */
    FOLD_BATCH_WARM_ANCHOR = 2,  /**< the anchor */
    FOLD_BATCH_WARM_COLD = 3     /**< no warm start */
} fold_batch_warm;

/** Arguments of a model's solve hook. */
typedef struct fold_batch_solve_args {
    fold_int scenario; /**< index of the scenario in its run; -1 for the anchor */
    const double *p;   /**< its parameters (np) */
    const void *start; /**< a converged state of this model whose solution starts the solve;
                            NULL: cold start */
    bool keep;         /**< the state must keep its own factorization: backward hooks may be
                            called on it until it is released, whatever is solved meanwhile */
    bool new_chain;    /**< first solve of a chain: drop whatever earlier solves left behind
                            (reusable solvers, their analyses), so that a result never depends
                            on which chains this worker ran before */
} fold_batch_solve_args;

/** A scenario model: the hooks that run in the worker processes. Each worker calls create
 * once, then solve / record / release per scenario, and the backward hooks on kept states.
 * The struct is copied by fold_batch_create; user_data and what it points to must stay
 * valid until fold_batch_free (workers are fork()ed copies of the calling process: they see
 * its memory as it was at fold_batch_create or at a worker's replacement). The caller owns
 * user_data: fold_batch_model_dispose frees it through `dispose`. Hooks return a fold_status (>= 0
 * ok, > 0 a warning with valid output) and may explain it in `message` (FOLD_BATCH_MESSAGE_LEN
 * bytes, empty on entry; when left empty on an error, fold_last_error() is used). */
typedef struct fold_batch_model {
    const char *name; /**< for messages; may be NULL */
    fold_int np;      /**< parameters per scenario (>= 0) */
    fold_int n_out;   /**< outputs per scenario: values recorded, cotangent size of vjp */
    fold_int n_sens;  /**< sensitivities recorded per scenario by `record` */
    void *user_data;  /**< given to create and dispose */
    /** Build the model (once per worker). */
    fold_status (*create)(void *user_data, void **model, char *message);
    /** Free it (worker exit). May be NULL. */
    void (*destroy)(void *model);
    /** Solve one scenario. *state receives the scenario's state (NULL allowed when the solve
     * failed); info (zeroed, its size set, on entry) its forward information. Status < 0: the
     * scenario failed (its state is then never a start point and record is not called). */
    fold_status (*solve)(void *model, const fold_batch_solve_args *args, void **state,
                         fold_forward_info *info, char *message);
    /** Right after a successful solve: outputs (n_out) and sensitivities (n_sens) of the
     * scenario; backward (zeroed, its size set, on entry): the fold_backward_info of the backward
     * call behind sens, when there was one. Status < 0: its sensitivities are dropped (outputs
     * kept). May be NULL when n_out = n_sens = 0. */
    fold_status (*record)(void *model, void *state, double *outputs, double *sens,
                          fold_backward_info *backward, char *message);
    /** Free a state. */
    void (*release)(void *model, void *state);
    /** Backward hooks on a kept state (keep mode); any may be NULL (FOLD_ERR_UNSUPPORTED).
     * vjp: pbar (np) = (d outputs / d p)' ybar (n_out). jvp: ydot (n_out) = (d outputs / d p)
     * dp (np). jacobian: J (n_rows x n_cols, column-major) = d outputs[rows] / d p[cols]. */
    fold_status (*vjp)(void *model, void *state, const double *ybar, double *pbar, char *message);
    fold_status (*jvp)(void *model, void *state, const double *dp, double *ydot, char *message);
    fold_status (*jacobian)(void *model, void *state, fold_int n_rows, const fold_int *rows,
                            fold_int n_cols, const fold_int *cols, double *J, char *message);
    /** The trust report (fold_trust_item, foldopt/fold.h) of the last derivative computed on
     * a state: called right after a record hook that gave sensitivities and after each
     * successful backward hook; *items must stay valid until the next hook call. May be
     * NULL (no reports). */
    fold_status (*trust)(void *model, void *state, const fold_trust_item **items, fold_int *count);
    /** Frees user_data (fold_batch_model_dispose). May be NULL. */
    void (*dispose)(void *user_data);
} fold_batch_model;

/** Engine options. */
typedef struct fold_batch_options {
    int n_workers;             /**< worker processes; 0: the online processor count */
    fold_int chunk_size;       /**< scenarios per chain (>= 1), or FOLD_BATCH_CHUNK_AUTO (the
                                    default: depends on the job's size only) */
    double scenario_timeout_s; /**< wall-clock limit per scenario (and per backward request);
                                    0: none. A scenario over it is recorded as timed out and
                                    its worker replaced */
    fold_batch_warm warm;
} fold_batch_options;

/** Fill *opt with the defaults. */
FOLD_API void fold_batch_default_options(fold_batch_options *opt);

/** One scenario's result, as given to the record callback (pointers valid during the call). */
typedef struct fold_batch_record {
    fold_int scenario; /**< index in the run */
    fold_int key;      /**< keep mode: handle of its kept state; else -1 */
    fold_batch_outcome outcome;
    fold_status status;       /**< the solve's status when it failed, else the record hook's;
                                   FOLD_ERR_FORWARD_FAILED for a crash or timeout */
    fold_status solve_status; /**< the solve hook's status */
    fold_forward_status forward_status; /**< of the solve */
    double objective;                   /**< NaN unless solved */
    fold_int iterations;
    fold_batch_start start;
    fold_int warm_from;       /**< START_SCENARIO: that scenario's index, else -1 */
    double solve_s, record_s; /**< wall seconds of the solve and record hooks in the worker */
    fold_int n_out, n_sens;
    const double *outputs;              /**< n_out values; NULL when the solve failed */
    const double *sens;                 /**< n_sens values; NULL when unavailable */
    const fold_backward_info *backward; /**< the record hook's backward information (e.g.
                                             reused_analysis: the chain's previous scenario
                                             left a KKT analysis of the same pattern); NULL
                                             when none */
    const char *message;                /**< why it failed, or a warning; "" when none */
    const fold_trust_item *trust;       /**< the trust report of the sensitivities the record hook
                                             gave (the model's trust hook); NULL when none */
    fold_int n_trust;                   /**< its items */
    long worker_peak_kb;                /**< peak resident memory of the worker that ran it, kB */
} fold_batch_record;

/** Progress of a run (rank 0 under MPI). */
typedef struct fold_batch_progress {
    fold_int n_total;  /**< scenarios to record in this run */
    fold_int n_done;   /**< recorded so far */
    fold_int n_failed; /**< of which failed (status < 0, crashed or timed out) */
    double elapsed_s;
} fold_batch_progress;

/** Parameters of scenario `scenario` into p (np). Return 0, or nonzero to stop the run
 * (FOLD_ERR_CALLBACK). Called in the calling process, in any order, possibly more than once
 * per scenario: it must give the same values each time. */
typedef int (*fold_batch_params_fn)(fold_int scenario, double *p, void *user_data);
/** A record; return 0, or nonzero to stop the run (FOLD_ERR_CALLBACK). */
typedef int (*fold_batch_record_fn)(const fold_batch_record *rec, void *user_data);
typedef void (*fold_batch_progress_fn)(const fold_batch_progress *pr, void *user_data);

/** Done flags of a resumed run (fold_batch_job.done). */
enum {
    FOLD_BATCH_TODO = 0,        /**< to run and record */
    FOLD_BATCH_RECORDED = 1,    /**< recorded earlier: not recorded again (re-solved silently
                                     when a later scenario of its chain needs its solution) */
    FOLD_BATCH_RECORDED_END = 2 /**< recorded earlier as crashed or timed out: its chain
                                     restarted after it */
};

/** One run: which scenarios, where results go. */
typedef struct fold_batch_job {
    fold_int n_scenarios;
    fold_batch_params_fn params; /**< parameters of a scenario; or NULL and params_array */
    void *params_data;
    const double *params_array;     /**< np x n_scenarios, column-major (used when params is
                                         NULL) */
    const double *anchor;           /**< np: solved once per worker (cold), the start of chain
                                         heads (and of nearer scenarios, WARM_NEAREST); NULL:
                                         see anchor_mean */
    bool anchor_mean;               /**< no anchor given: use the mean of the scenarios */
    const unsigned char *done;      /**< n_scenarios FOLD_BATCH_TODO / RECORDED / RECORDED_END
                                         flags (resume); NULL: all to do */
    bool keep;                      /**< keep each scenario's state for fold_batch_vjp / jvp /
                                         jacobian until fold_batch_release (not under MPI) */
    bool carry;                     /**< warm starts across runs: each worker holds the
                                         solutions of the scenarios it solves in this run,
                                         and starts every scenario (unless warm = cold) from
                                         the nearest solution it holds from its previous
                                         run with carry when that is nearer in parameter
                                         space than the start its chain gives (START_CARRIED;
                                         a failed solve from it is redone from the chain's
                                         start). A run without carry drops what the workers
                                         hold; a replaced worker holds nothing. Not under
                                         MPI. doc/api/batch.md, "Warm starts" */
    fold_batch_record_fn on_record; /**< each record, in completion order; may be NULL */
    void *record_data;
    fold_batch_progress_fn on_progress; /**< after each record; may be NULL */
    void *progress_data;
} fold_batch_job;

/** Summary of a run. */
typedef struct fold_batch_info {
    size_t size;         /**< set by the caller: initialize with FOLD_BATCH_INFO_INIT */
    fold_int n_recorded; /**< records given to on_record */
    fold_int n_ok;       /**< of which status >= 0 */
    fold_int n_failed;   /**< status < 0 with outcome DONE */
    fold_int n_crashed, n_timed_out;
    fold_int n_silent;    /**< scenarios re-solved without a record (resume) */
    fold_int n_chunks;    /**< chains handed out (continuations after crashes included) */
    fold_int iterations;  /**< forward iterations summed over the records */
    fold_int n_respawned; /**< workers replaced after a crash or timeout */
    int n_workers;        /**< worker processes (all ranks) */
    int n_ranks;          /**< MPI ranks (1 without MPI) */
    double wall_s;        /**< whole run */
    long worker_peak_kb;  /**< largest peak resident memory of a worker, kB */
} fold_batch_info;

/** Initializer of a fold_batch_info: its size, every other field zero. */
#define FOLD_BATCH_INFO_INIT                                                                       \
    {                                                                                              \
        .size = sizeof(fold_batch_info)                                                            \
    }
/** The end of its first version: the smallest size accepted. */
#define FOLD_BATCH_INFO_V1 FOLD_FIELD_END(fold_batch_info, worker_peak_kb)

/** A batch of worker processes. Thread safety: used by one thread at a time; distinct batches
 * are independent; create it before starting threads of your own (fork copies only the
 * calling thread). */
typedef struct fold_batch fold_batch;

/** Validate model and options and start the worker processes (fork), each of which builds
 * the model. A batch is used by one thread at a time; different batches are independent.
 * FOLD_ERR_ARGUMENT (missing hook, bad option; message names it), FOLD_ERR_MEMORY,
 * FOLD_ERR_INTERNAL (fork or socketpair failed). Call it before starting threads: the workers are
 * copies of the calling process. */
FOLD_API fold_status fold_batch_create(const fold_batch_model *model, const fold_batch_options *opt,
                                       fold_batch **out);

/** Stop the workers (kept states are lost) and free; accepts NULL. */
FOLD_API void fold_batch_free(fold_batch *batch);

/** Number of worker processes. */
FOLD_API int fold_batch_workers(const fold_batch *batch);

/** Run a job: order the scenarios into chains of nearby ones, hand the chains to the
 * workers as they become free, give every record to job->on_record. A failed, crashed or
 * timed-out scenario gets its record and the run goes on. Results do not depend on the
 * number of workers or on timing (doc/api/batch.md, "Determinism"). Returns FOLD_OK, or an
 * error that stopped the run: FOLD_ERR_ARGUMENT, FOLD_ERR_NONFINITE (a parameter; message
 * names scenario and index), FOLD_ERR_CALLBACK (params or on_record returned nonzero),
 * the model's create error, FOLD_ERR_INTERNAL (workers keep dying at start). info may be
 * NULL. */
FOLD_API fold_status fold_batch_run(fold_batch *batch, const fold_batch_job *job,
                                    fold_batch_info *info);

/** Keep mode: backward calls on kept states, count of them at once (run in parallel on the
 * workers holding them). vjp: ybar n_out x count, pbar np x count; jvp: dp np x count,
 * ydot n_out x count; jacobian: J (n_rows * n_cols) x count. status (count, may be NULL)
 * receives each key's status; a key whose state is gone (released, or its worker crashed)
 * gets FOLD_ERR_NOT_SOLVED. Returns FOLD_OK when every key succeeded (warnings included),
 * else the first error (fold_last_error names the key). Outputs of failed keys are NaN. */
FOLD_API fold_status fold_batch_vjp(fold_batch *batch, fold_int count, const fold_int *keys,
                                    const double *ybar, double *pbar, fold_status *status);
FOLD_API fold_status fold_batch_jvp(fold_batch *batch, fold_int count, const fold_int *keys,
                                    const double *dp, double *ydot, fold_status *status);
FOLD_API fold_status fold_batch_jacobian(fold_batch *batch, fold_int count, const fold_int *keys,
                                         fold_int n_rows, const fold_int *rows, fold_int n_cols,
                                         const fold_int *cols, double *J, fold_status *status);

/** The trust report of entry `entry` of the last fold_batch_vjp / jvp / jacobian call on this
 * batch: the model's trust hook in the worker right after the backward hook (e.g. the
 * AC-OPF's non-unique, weakly active, uncertain entries named by bus, generator, branch).
 * *count = 0 when the model has no trust hook, the entry failed or nothing limits it; the
 * items are valid until the next backward call or fold_batch_free. FOLD_ERR_ARGUMENT when
 * entry is not one of that call's. */
FOLD_API fold_status fold_batch_trust_report(const fold_batch *batch, fold_int entry,
                                             const fold_trust_item **items, fold_int *count);

/** Release kept states (keys NULL: all). Unknown keys are ignored. */
FOLD_API fold_status fold_batch_release(fold_batch *batch, fold_int count, const fold_int *keys);

/** What the generic problem model records after each solve. */
typedef enum fold_batch_sens {
    FOLD_BATCH_SENS_NONE = 0,     /**< outputs only */
    FOLD_BATCH_SENS_VJP = 1,      /**< (d outputs / d p[cols])' ybar */
    FOLD_BATCH_SENS_JVP = 2,      /**< d outputs / d p along dp */
    FOLD_BATCH_SENS_JACOBIAN = 3, /**< d outputs / d p[cols], column-major */
    FOLD_BATCH_SENS_VALUE = 4     /**< gradient of the optimal value at cols (envelope) */
} fold_batch_sens;

/** The generic model of a fold_problem: scenario = parameter vector, outputs = selected
 * entries of x, solved by fold_solve with the settings given. */
typedef struct fold_batch_problem_spec {
    const fold_problem *problem;   /**< must outlive the batch */
    const fold_settings *settings; /**< NULL: defaults; copied */
    fold_int n_out;                /**< outputs: x[out_x[k]]; out_x NULL: all of x (n_out 0) */
    const fold_int *out_x;
    fold_batch_sens sens;
    const double *ybar; /**< SENS_VJP: cotangent on the outputs (n_out) */
    const double *dp;   /**< SENS_JVP: direction (np) */
    fold_int n_cols;    /**< parameter columns of VJP / VALUE / JACOBIAN; cols NULL:
                             all np */
    const fold_int *cols;
    bool warm_duals;                  /**< warm starts give Ipopt the multipliers too */
    const char *const *ipopt_options; /**< Ipopt options of every solve: name, value, ...,
                                           NULL (fold_solver_set_ipopt_options; NULL: none);
                                           copied and checked */
} fold_batch_problem_spec;

/** Fill *model with the generic problem model (a copy of the spec and its arrays, freed by
 * fold_batch_model_dispose once no batch uses the model). FOLD_ERR_ARGUMENT naming the
 * field, FOLD_ERR_MISSING_DERIVATIVE, FOLD_ERR_SETTING, FOLD_ERR_MEMORY. */
FOLD_API fold_status fold_batch_problem_model(const fold_batch_problem_spec *spec,
                                              fold_batch_model *model);

/** Free a model's user_data through model->dispose (after the batches that use it are
 * freed); accepts NULL. */
FOLD_API void fold_batch_model_dispose(fold_batch_model *model);

#endif
