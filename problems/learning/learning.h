/* Optimization layers trained end to end through the fold: seeded synthetic tasks (each a
 * layer with forward and VJP, a task loss and a test figure), models, the training loop and
 * the two-stage baseline. Built on the public API only. doc/learning.md. */
#ifndef FOLD_PROBLEMS_LEARNING_H
#define FOLD_PROBLEMS_LEARNING_H

#include "foldopt.h"

/* How a layer computes its VJP (doc/learning.md §2). */
typedef enum learn_backward {
    LEARN_BACKWARD_DIRECT = 0, /* fold, one direct solve */
    LEARN_BACKWARD_LFPI = 1,   /* fold, linear fixed-point iteration */
    LEARN_BACKWARD_GMRES = 2,  /* fold, GMRES */
    LEARN_BACKWARD_UNROLL = 3  /* back-propagation through the forward iterations */
} learn_backward;

/* Name <-> value of learn_backward ("direct", "lfpi", "gmres", "unroll"); -1 if unknown. */
int learn_backward_parse(const char *name);
const char *learn_backward_name(int backward);

/* Record the calling thread's error detail (fold_last_error, the one channel of the library
 * and its problem families) and return st. */
#define learn_error fold_set_error

/* Seeded generator (splitmix64; uniform in [0,1), normal by Box-Muller). */
typedef struct learn_rng {
    uint64_t state;
} learn_rng;
void learn_rng_seed(learn_rng *r, uint64_t seed);
double learn_uniform(learn_rng *r);
double learn_normal(learn_rng *r);

/* The synthetic decision-focused data of the qp and portfolio tasks: B (n x nf, workspace)
 * and features z (nf per sample) standard normal, then target = ((B z)/sqrt(nf) + 3)^deg
 * / 3^deg times (1 + noise U[-1,1]), for ns samples; feat is ns x nf, target ns x n. */
void learn_synthetic_costs(learn_rng *rng, fold_int n, fold_int nf, fold_int ns, int deg,
                           double noise, double *B, double *feat, double *target);

/* Generation of a task instance. size: variables / assets / signal length / labels.
 * Zero fields take the task's defaults (learn_config_default). */
typedef struct learn_config {
    fold_int n_train, n_test;
    fold_int size;   /* decision dimension */
    fold_int n_eq;   /* qp: equality rows */
    fold_int n_ineq; /* qp: inequality rows (pairs +g, -g) */
    fold_int n_feat; /* features per sample */
    fold_int k;      /* topk: labels per sample */
    int deg;         /* degree of the nonlinear feature map (misspecification) */
    double noise;    /* noise level of the targets */
    double slack;    /* qp: margin of the inequalities at the known feasible point */
    double lambda;   /* denoise: weight of |Dx|_1 */
    uint64_t seed;
    int backward;          /* learn_backward */
    fold_int unroll_iters; /* backward unroll: 0 runs the iteration to convergence, K > 0
                            * exactly K steps (qp, portfolio, topk) */
} learn_config;

typedef struct learn_task learn_task;

/* Layer and loss of a task. forward solves sample i's layer at predicted input q (n_q) and
 * writes the decision y (n_y); vjp (after forward on the same sample) maps ybar to qbar;
 * loss evaluates the training loss of y (gradient into ybar when not NULL); metric is the
 * reported test figure (regret or loss). */
typedef struct learn_task_ops {
    fold_status (*forward)(learn_task *t, fold_int i, const double *q, double *y);
    fold_status (*vjp)(learn_task *t, fold_int i, const double *ybar, double *qbar);
    double (*loss)(learn_task *t, fold_int i, const double *y, double *ybar);
    double (*metric)(learn_task *t, fold_int i, const double *y);
    void (*free_data)(void *data);
} learn_task_ops;

/* Model kinds: q = W z + b; q = W2 relu(W1 z + b1) + b2; q = w (no features). */
typedef enum learn_model_kind {
    LEARN_MODEL_LINEAR = 0,
    LEARN_MODEL_MLP = 1,
    LEARN_MODEL_CONST = 2
} learn_model_kind;

struct learn_task {
    const char *name;
    const char *metric_name; /* "regret" or "loss" */
    const learn_task_ops *ops;
    fold_int n_train, n_test; /* samples 0..n_train-1 train, then n_test test */
    fold_int n_feat, n_q, n_y;
    double *feat;                 /* (n_train + n_test) x n_feat, row-major */
    double *target;               /* (n_train + n_test) x n_q: true layer inputs, or NULL */
    double *q_baseline;           /* const model: the two-stage / initial parameters, or NULL */
    int model_kind;               /* learn_model_kind used by default */
    int backward;                 /* learn_backward */
    double lr_hint;               /* step size that suits the task's scale (Adam) */
    const fold_problem *problem;  /* the layer's NLP (Ipopt-solved tasks), else NULL */
    fold_int backward_iterations; /* iterations of the last VJP's iterative solve or unrolled
                                   * steps, else 0 */
    size_t backward_bytes;        /* unroll: bytes of the last VJP's tape, else 0 */
    fold_int unroll_iters;        /* learn_config.unroll_iters */
    int step_hessian;             /* qp, portfolio: learn_step_hessian of the SQP step */
    double step_scale;            /* qp, portfolio: its scale (> 0.5) */
    void *data;                   /* task's own state */
};

/* Names of the tasks ("qp", "portfolio", "denoise", "topk"), NULL-terminated. */
const char *const *learn_task_names(void);
/* Defaults of a task (the benchmark-size instance). FOLD_ERR_ARGUMENT for an unknown name. */
fold_status learn_config_default(const char *name, learn_config *c);
/* Generate a task instance. Errors: FOLD_ERR_ARGUMENT (unknown name, bad sizes),
 * FOLD_ERR_UNSUPPORTED (backward method not available for the task), FOLD_ERR_FORWARD_FAILED
 * (the generated instance is infeasible), FOLD_ERR_MEMORY. Detail in fold_last_error. */
fold_status learn_task_create(const char *name, const learn_config *c, learn_task **out);
void learn_task_free(learn_task *t);

/* Hessian approximation B of the SQP step map of the qp and portfolio layers (backward
 * lfpi, gmres, unroll): identity: B = scale * beta I, diagonal: B = scale * diag(sum_k
 * |H_jk|), with beta the largest Gershgorin row sum of the Lagrangian Hessian H on the free
 * variables (doc/learning.md §4.5). */
typedef enum learn_step_hessian {
    LEARN_STEP_IDENTITY = 0,
    LEARN_STEP_DIAGONAL = 1
} learn_step_hessian;
/* Select B for the qp or portfolio task (default identity, scale 1). LFPI converges for
 * scale > 0.5. FOLD_ERR_ARGUMENT for another task or bad values. */
fold_status learn_task_set_step(learn_task *t, int hessian, double scale);

/* A model mapping features (n_in) to layer inputs (n_out); parameters w (n_w). */
typedef struct learn_model {
    int kind;
    fold_int n_in, n_hidden, n_out, n_w;
    double *w;
} learn_model;
fold_status learn_model_create(int kind, fold_int n_in, fold_int n_hidden, fold_int n_out,
                               learn_rng *rng, learn_model **out);
void learn_model_free(learn_model *m);
/* q = model(z); work has at least n_hidden entries (hidden activations, kept for backward). */
void learn_model_forward(const learn_model *m, const double *z, double *q, double *work);
/* Accumulate dloss/dw += (dq/dw)' qbar into gw (n_w); work as left by learn_model_forward. */
void learn_model_backward(const learn_model *m, const double *z, const double *qbar,
                          const double *work, double *gw);

typedef enum learn_optimizer { LEARN_OPT_ADAM = 0, LEARN_OPT_SGD = 1 } learn_optimizer;

/* Per-epoch figures. Epoch 0 is the initial model (no update). */
typedef struct learn_epoch {
    int epoch;
    double train_loss;     /* mean training loss over the samples that solved */
    double test_metric;    /* mean test regret or loss */
    double seconds;        /* wall time of the epoch's updates (forward + backward) */
    fold_int n_failed;     /* training samples whose forward or backward failed */
    double backward_iters; /* mean iterations of the VJP's iterative solve / unrolled steps */
    size_t tape_bytes;     /* unroll: largest tape of the epoch's VJPs (bytes), else 0 */
} learn_epoch;

/* Called after each epoch (progress output); may be NULL. */
typedef void (*learn_progress_fn)(const learn_epoch *e, void *user_data);
/* Called once per failed sample with a one-line reason; may be NULL. */
typedef void (*learn_report_fn)(fold_int sample, fold_status st, const char *detail,
                                void *user_data);

typedef struct learn_options {
    int epochs;
    fold_int batch;
    double lr;
    int optimizer;     /* learn_optimizer */
    int model_kind;    /* -1: the task's default */
    fold_int n_hidden; /* MLP width */
    uint64_t seed;
    bool init_two_stage; /* linear model: start from the two-stage least-squares fit */
    learn_progress_fn progress;
    learn_report_fn report;
    void *user_data;
} learn_options;

void learn_options_default(learn_options *o);

typedef struct learn_result {
    learn_epoch *history; /* epochs + 1 entries (epoch 0 = initial); owned, see _free */
    int n_epochs;
    double two_stage_metric; /* test figure of the two-stage baseline */
    double two_stage_s;      /* its fit + evaluation time */
    fold_int n_failed;       /* failed training samples over all epochs */
} learn_result;
void learn_result_free(learn_result *r);

/* Mean test figure of a model over samples [first, first+count); failed samples are counted
 * in *n_failed (may be NULL) and excluded. */
fold_status learn_evaluate(learn_task *t, const learn_model *m, fold_int first, fold_int count,
                           double *mean, fold_int *n_failed);
/* Two-stage baseline: least-squares fit of a linear model on the targets (or the task's
 * baseline parameters when it has no targets), then the layer; mean test figure. */
fold_status learn_two_stage(learn_task *t, double *metric);
/* Decision-focused training; res->history is allocated on success. */
fold_status learn_train(learn_task *t, const learn_options *o, learn_result *res);

/* Dense helpers (row-major): solve the SPD system A x = b in place by Cholesky (A n x n is
 * overwritten by its factor, b by x); FOLD_ERR_SINGULAR when not positive definite. */
fold_status learn_chol_solve(double *A, fold_int n, double *b, fold_int nrhs);
/* The factor alone (lower triangle of A overwritten by L), and the two substitutions
 * L L' x = b in place with such a factor. */
fold_status learn_chol_factor(double *A, fold_int n);
void learn_chol_subst(const double *L, fold_int n, double *x);
/* Largest eigenvalue of M'M for M (m x n) by power iteration. */
double learn_norm2_sq(const double *M, fold_int m, fold_int n);
double learn_now(void);

#endif
