/* Backends behind fold_la_factor: UMFPACK LU and CHOLMOD simplicial LDL' of the
 * quasi-definite regularization. Internal to src/linalg. doc/math.md §4. */
#ifndef FOLD_LINALG_INTERNAL_H
#define FOLD_LINALG_INTERNAL_H

#include <umfpack.h>
#include <cholmod.h>

#include "linalg/linalg.h"

/* A fixed pseudo-random sequence in [0, 1) (Knuth's MMIX LCG, the top 53 bits): the
 * reproducible starting vectors of the probes and norm estimates. */
static inline double fold_la_lcg_unit(uint64_t *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) * 0x1.0p-53;
}

/* max(acc, v) for the running maxima of the refinement loops: like fmax, a NaN v leaves
 * acc (acc itself is never NaN there), but inlined (fmax is a libm call at -O2: its NaN
 * rules keep the compiler from using maxsd). */
static inline double fold_la_max(double acc, double v)
{
    return v > acc ? v : acc;
}

/* UMFPACK's LU factors copied out for blocked solves (umfpack_block.c). */
typedef struct fold_la_umf_lu fold_la_umf_lu;
void fold_la_umf_lu_free(fold_la_umf_lu *lu);

typedef struct fold_la_umf {
    void *symbolic, *numeric;
    fold_la_umf_lu *lu; /* the factors of `numeric` for blocked solves, on first use */
    double control[UMFPACK_CONTROL];
    double info[UMFPACK_INFO];
    double rcond;
    fold_int factor_nnz;
} fold_la_umf;

/* Symbolic analysis of A (square, stype 0) with a fold_ordering. */
fold_status fold_la_umf_analyze(fold_la_umf *u, const cholmod_sparse *A, int ordering);
/* Numeric LU with the kept analysis; FOLD_ERR_SINGULAR when a pivot is zero or
 * rcond < rcond_min (the numeric object is then freed). */
fold_status fold_la_umf_factor(fold_la_umf *u, const cholmod_sparse *A, double rcond_min);
/* X = inv(A) B or inv(A') B (no refinement inside UMFPACK): column by column, or, for at
 * least FOLD_LA_BLOCK_MIN right-hand sides of A x = b, in blocks of FOLD_LA_BLOCK with the
 * extracted factors. */
#define FOLD_LA_BLOCK_MIN 4
#define FOLD_LA_BLOCK 32
fold_status fold_la_umf_solve(fold_la_umf *u, const cholmod_sparse *A, bool transpose,
                              fold_int nrhs, const double *B, double *X);
void fold_la_umf_free(fold_la_umf *u);
/* The blocked path; false when the factors could not be extracted (memory, zero pivot):
 * the caller solves column by column then. */
bool fold_la_umf_solve_blocked(fold_la_umf *u, fold_int n, fold_int nrhs, const double *B,
                               double *X);

/* Regularization of a singular A (doc/math.md §4.8): M = A + delta diag(d_x, -d_y)
 * factored by UMFPACK in place of A. rel = 0: off; delta = 0: not in use. */
typedef struct fold_la_preg {
    double rel;         /* requested delta relative to the row scales of A */
    double delta;       /* delta of the current factorization, 0 = none */
    cholmod_sparse *M;  /* A + delta D (the values factored) */
    double *d;          /* the row scales d_i = ||A(i,:)||_inf */
    bool symbolic_on_M; /* the UMFPACK analysis was made on M's pattern */
    bool expect;        /* the caller expects A singular: factor M first (once) */
    /* fold_la_pins: the caller's copied columns (owned copies), tried by every factorization
     * until replaced; pinned: the M in use is the pinned matrix, not A + delta D */
    fold_int n_pin, *pin, *partner;
    double *ratio;
    bool pinned;
} fold_la_preg;

/* Build M for A's current values with delta = rel * scale, analyze it when the kept
 * analysis does not fit its pattern, and factor it into u. */
fold_status fold_la_preg_factor(fold_la_preg *r, fold_la_umf *u, const cholmod_sparse *A,
                                fold_int n_primal, double scale, int ordering, double rcond_min,
                                cholmod_common *cm, double *analyze_s, double *factor_s);
void fold_la_preg_free(fold_la_preg *r, cholmod_common *cm);
/* An expected-singular A is accepted as singular when M's pivot ratio is at most this
 * multiple of delta (and the probe finds a null vector). */
#define FOLD_LA_EXPECT_RCOND 10.0
/* Keep a copy of pins in r (NULL or none: no pins). */
fold_status fold_la_preg_set_pins(fold_la_preg *r, const fold_la_pins *pins);
void fold_la_preg_free_pins(fold_la_preg *r);
/* The pinned matrix of eq. 4.12c for A's values, factored into F->umf, with the probe vector
 * of its null directions in F: FOLD_OK; 1 (M dropped, no error recorded) when the pins do
 * not apply (one does not hold on A's values, no stored diagonal) or M is singular or
 * nearly so beyond them; else an error. factor_pin.c. */
fold_status fold_la_pin_factor(fold_la_factor *F);
/* The probe vector (eq. 4.10) of a pinned factorization: a combination of its pins. */
fold_status fold_la_pin_probe(fold_la_factor *F);
/* Eq. 4.9: with a regularized factor, a column is consistent when its last correction is
 * below this fraction of the solution (an inconsistent column grows by about a constant
 * step per refinement, i.e. by at least 1 / (steps + 1) of the solution), within this many
 * steps more than refine_steps. factor_solve.c, border.c. */
#define FOLD_LA_PREG_ETA 1e-3
#define FOLD_LA_PREG_EXTRA_STEPS 2
/* The refinement steps of factor_solve.c and border.c: the residual columns of R (n each)
 * whose act[c] is set moved to its front (returns their count; the others are not read); then each
 * such column of X corrected by the next column of D, with dr[c] its last correction relative to
 * the column (eq. 4.9; HUGE_VAL above FOLD_LA_PREG_ETA) when preg. refine.c. */
fold_int fold_la_refine_pack(fold_int n, fold_int nrhs, const double *act, double *R);
void fold_la_refine_correct(fold_int n, fold_int nrhs, const double *act, const double *D,
                            double *X, bool preg, double *dr);
/* The probe's steps (eq. 4.10, probe.c), for any solve by M (ctx: the solver's): the fixed
 * pseudo-random start in [-1, 1]^n; FOLD_LA_PROBE_ITERATIONS steps of inverse iteration from
 * z with the row scales d (entries where mask is set kept at zero; mask may be NULL),
 * returned unscaled, z = D^-1/2 z', max |z'_i| = 1 (y: n doubles of workspace); the
 * residual ||D^-1/2 A z||_inf; the entries with |z_i| sqrt(d_i) <= FOLD_LA_PROBE_TINY set
 * to zero. */
typedef fold_status (*fold_la_probe_solve)(void *ctx, const double *y, double *z);
void fold_la_probe_start(fold_int n, double *z);
fold_status fold_la_probe_iterate_with(fold_int n, const double *d, fold_la_probe_solve solve,
                                       void *ctx, const unsigned char *mask, double *z, double *y);
double fold_la_probe_residual_of(const cholmod_sparse *A, const double *d, const double *z,
                                 double *y);
void fold_la_probe_cut(fold_int n, const double *d, double *z);
/* The probe's inverse iteration (eq. 4.10, FOLD_LA_PROBE_ITERATIONS steps with the factors
 * of M in F) from z (n, in/out; entries where mask is set kept at zero, mask may be NULL),
 * returned unscaled: z = D^-1/2 z', max |z'_i| = 1. y: n doubles of workspace. */
fold_status fold_la_probe_iterate(fold_la_factor *F, const unsigned char *mask, double *z,
                                  double *y);
/* The probe's residual ||D^-1/2 A z||_inf (y: n doubles of workspace). probe.c. */
double fold_la_probe_residual(const fold_la_factor *F, const double *z, double *y);
/* Run the null-space probe (eq. 4.10) for the factorization of M in F and keep its result
 * (F->probe_z, F->probe_residual) for fold_la_factor_null_probe. */
fold_status fold_la_preg_probe(fold_la_factor *F);

typedef struct fold_la_ldl {
    cholmod_common *cm;
    cholmod_sparse *K; /* lower triangle of A + delta * diag(+1 primal, -1 dual) */
    cholmod_factor *L;
    double *work;             /* 2 n doubles */
    cholmod_dense *X, *Y, *E; /* cholmod_l_solve2's result and workspaces, kept */
    fold_int n_primal;
    double delta;
    fold_int factor_nnz;
} fold_la_ldl;

/* Build the pattern of K from A and run cholmod_l_analyze with the ordering. */
fold_status fold_la_ldl_analyze(fold_la_ldl *l, const cholmod_sparse *A, fold_int n_primal,
                                double delta, int ordering, cholmod_common *cm);
/* Numeric LDL' of K for A's values. FOLD_ERR_SINGULAR on a zero or non-finite pivot,
 * FOLD_ERR_UNSUPPORTED when the pivot signs show K is not quasi-definite. */
fold_status fold_la_ldl_factor(fold_la_ldl *l, const cholmod_sparse *A);
/* X = inv(K) B. */
fold_status fold_la_ldl_solve(fold_la_ldl *l, fold_int nrhs, const double *B, double *X);
/* Lower estimate of ||inv(K)||_1 (Hager/Higham), a few solves. */
fold_status fold_la_ldl_inverse_norm1(fold_la_ldl *l, double *est);
void fold_la_ldl_free(fold_la_ldl *l);

/* A numeric factorization kept aside (factor_keep.c). */
typedef struct fold_la_kept fold_la_kept;

/* The factor object (factor.c: creation, factorization; factor_solve.c: solves). */
struct fold_la_factor {
    int kind; /* requested fold_factorization */
    int ordering;
    fold_int n, n_primal;
    double delta, rcond_min;
    cholmod_common *cm;
    cholmod_sparse *A;       /* the unregularized matrix: a private copy, or the caller's */
    bool shared;             /* A is the caller's (fold_la_factor_create_shared) */
    fold_int *iwork;         /* n, the symmetry checks' cursors */
    bool exact_sym;          /* A == A' entry by entry: residuals by the gather (A') loop */
    double norm_inf, norm_1; /* ||A||_inf, ||A||_1 = ||A'||_inf */
    double *work;            /* n doubles */
    double *solve_ws;        /* fold_la_factor_solve's buffers, kept: fresh pages of a large
                                allocation cost more than the solve on this kind of VM */
    size_t solve_ws_len;
    bool is_factored;
    fold_la_umf umf;
    fold_la_ldl ldl;
    fold_la_preg preg; /* primal regularization of a singular A (§4.8) */
    double *probe_z;   /* the null-space probe of the current factorization, n */
    double probe_residual;
    bool probe_valid;
    fold_la_factor_info info;
    fold_la_kept *kept; /* fold_la_factor_keep's, or NULL */
};

/* Switch an AUTO factor from CHOLMOD to UMFPACK (LU of A, or of M when A is singular and
 * primal regularization is on), recording fold_last_error() as the reason. */
fold_status fold_la_factor_fall_back(fold_la_factor *F);

#endif
