/* The backward engine (doc/math.md §1, §3.9; doc/iterative.md §2): solve A X = B or A' X = B
 * for the linear system of a fold, by the direct method or an iterative one with a
 * preconditioner, for the KKT fold (A = the assembled, scaled KKT matrix K: the KKT map with
 * M = I) and the fold maps (A = I - Phi) alike. A system describes itself by its products and
 * hooks for the pieces only it can build (its Jacobi diagonal, its factorizations, its direct
 * solve); the engine owns the choice of preconditioner (precond.kind = auto), the checks of
 * what MINRES and CG need, the Krylov iteration, the GMRES rescue of the columns a
 * regularized factorization could not settle (eq. 4.9) and the least-squares fallback. */
#ifndef FOLD_ENGINE_H
#define FOLD_ENGINE_H

#include "fold/krylov/krylov.h"
#include "foldopt/fold.h"
#include "foldopt/settings.h"

/* What precond.kind = auto settled on for a system after the kind it starts with failed
 * (fold_system.auto_memo): the method it was for and the kind that worked. */
typedef struct fold_pc_memo {
    bool is_set;
    int method, kind;
} fold_pc_memo;

/* The flag of a column that missed eq. 4.9 and GMRES solved (fold_system.solved). */
#define FOLD_SYSTEM_RESCUED 2

typedef struct fold_system {
    const char *fn;        /* the public call in progress, for messages */
    const char *what;      /* "KKT order 130", "map 'name' (nz 5)": the system in messages */
    fold_int n;            /* order of A */
    bool is_symmetric;     /* A = A' */
    fold_int n_indefinite; /* KKT multiplier rows: with them A and its factorization are
                              indefinite (no CG; no factorization as MINRES preconditioner) */
    int natural_pc;        /* the M that defines the map (doc/math.md §1): what precond.kind =
                              auto gives LFPI, GMRES and BiCGSTAB */
    fold_kry_op op;        /* y = A x (transpose: A' x) */
    void *ctx;             /* of the hooks below */
    /* The positive diagonal d of M = diag(d) (precond.kind = jacobi), n entries. */
    fold_status (*jacobi)(void *ctx, double *d);
    /* A factorization as M: kind block, exact or nearby (built or taken from a cache); sets
     * *pc and the factor fields of info. */
    fold_status (*factor_pc)(void *ctx, int kind, fold_kry_pc *pc, fold_backward_info *info);
    /* The direct method: X = inv(A) B with refinement; the largest relative residual of the
     * consistent columns in *residual; a column whose refinement diverges (a regularized
     * factorization of a singular A, eq. 4.9) is flagged in bad[c] and counted in *n_bad. */
    fold_status (*direct)(void *ctx, const fold_settings *set, bool transpose, fold_int nrhs,
                          const double *B, double *X, unsigned char *bad, fold_int *n_bad,
                          double *residual, fold_backward_info *info);
    /* M of the GMRES rescue of flagged columns (the regularized factorization); apply NULL
     * when the system has none. */
    fold_kry_pc rescue;
    /* approximate (NULL: never): the direct solves and M above are those of another matrix
     * bordered to this one (a comparison run, doc/math.md §4.9), not of the system's own
     * factorization, which refactor makes (after which approximate is false); a column GMRES
     * does not solve over the approximation is then solved again over it. */
    bool (*approximate)(void *ctx);
    fold_status (*refactor)(void *ctx, const fold_settings *set);
    /* After a direct solve and its rescue (bad[c]: 1 for a column still inconsistent,
     * FOLD_SYSTEM_RESCUED for one that missed eq. 4.9 and GMRES solved, else 0): the system
     * may keep the solutions (the KKT system's record, doc/math.md §4.9); NULL: nothing to
     * do. */
    void (*solved)(void *ctx, const fold_settings *set, fold_int nrhs, const double *B,
                   const double *X, const unsigned char *bad);
    /* Minimum-norm least-squares solution (backward.lsq_fallback); NULL when unavailable.
     * use_lsq: the system is solved this way for every column (singular factorization). */
    fold_status (*lsq)(void *ctx, bool transpose, fold_int nrhs, const double *B, double *X);
    bool use_lsq;
    /* Where precond.kind = auto remembers the kind it fell back to (block with a diagonal
     * primal block, jacobi) after the block preconditioner broke MINRES down or was
     * singular, so that the next solve on the same system starts there instead of building
     * and breaking down again; NULL: not kept. The system clears it when it changes. */
    fold_pc_memo *auto_memo;
    /* The error of a column that stays inconsistent when the caller takes no flags. */
    fold_status (*not_unique)(void *ctx);
    /* Residual history of an iterative solve (one right-hand side), or NULL. */
    double *history;
    fold_int history_cap, *n_history;
} fold_system;

/* Internal kind: the block preconditioner of eq. 3.23 with the primal block replaced by its
 * diagonal D (eq. 3.22), symmetric positive definite whenever the constraint rows have full
 * rank: what MINRES takes when the block preconditioner turns out indefinite. Reported as
 * block in fold_backward_info.precond. */
#define FOLD_PRECOND_BLOCK_DIAG (FOLD_PRECOND_AUTO + 1)

/* The two ends of a fold's solve (doc/math.md §1): the right-hand side from the call's input
 * (Psi dp, or the upstream gradient zbar) and the result from the solution (dz, or
 * pbar = Psi' w); out is written only by finish. */
typedef struct fold_ends {
    void *ctx;
    fold_status (*rhs)(void *ctx, double *B);
    /* inconsistent: the direct solve found B outside range(A) (eq. 4.9); only with
     * flag_inconsistent, else such a solve fails (sys->not_unique). */
    fold_status (*finish)(void *ctx, const double *X, bool inconsistent, double *out);
    bool flag_inconsistent;
} fold_ends;

/* "lfpi", "block": the names of fold_backward_method and fold_precond_kind values. */
const char *fold_method_name(int method);
const char *fold_precond_name(int kind);

/* The preconditioner backward.method uses on sys: precond.kind, or for auto the map's natural
 * M when the method can use it (LFPI, GMRES, BiCGSTAB; MINRES and CG when A is definite),
 * else the block preconditioner (or jacobi when the system has no factorizations). */
int fold_system_precond(const fold_system *sys, const fold_settings *set);

/* Iterations an iterative method may run: backward.fixed_iterations when set (exactly that
 * many, no convergence test), else backward.max_iter. */
fold_int fold_system_iter_limit(const fold_settings *set);

/* Solve A X = B (transpose: A' X = B) for nrhs columns of length sys->n with backward.method.
 * Iterative methods start each column from X = 0; on failure X holds the last iterates
 * (FOLD_ERR_NOT_CONVERGED, FOLD_ERR_DIVERGED for LFPI). Under backward.fixed_iterations = K
 * they run K iterations and succeed with reason FOLD_REASON_FIXED_ITER and the largest true
 * relative residual in info->residual. The direct method: columns that miss
 * eq. 4.9 are rescued by GMRES (sys->rescue); those that stay inconsistent fail the call
 * (sys->not_unique) when bad is NULL, else are flagged there (bad[c] = 1, X column unusable);
 * under backward.lsq_fallback every column is then solved by least squares instead. info
 * accumulates n_rhs, iterations, residual, reason, solve_s and the preconditioner used. */
fold_status fold_system_solve(const fold_system *sys, const fold_settings *set, bool transpose,
                              fold_int nrhs, const double *B, double *X, unsigned char *bad,
                              fold_backward_info *info);

/* One JVP or VJP through sys: ends->rhs, fold_system_solve (transpose: A' X = B), and
 * ends->finish. */
fold_status fold_system_apply(const fold_system *sys, const fold_ends *ends,
                              const fold_settings *set, bool transpose, double *out,
                              fold_backward_info *info);

#endif
