/* Thin wrappers over SuiteSparse: cholmod_sparse (long-integer version, cholmod_l_*) is the
 * one sparse matrix type; factorizations of square systems by UMFPACK LU or CHOLMOD LDL',
 * minimum-norm least squares by SPQR. doc/math.md §4 (linear algebra of the fold). */
#ifndef FOLD_LINALG_H
#define FOLD_LINALG_H

#include <cholmod.h>

#include "core/core.h"

/* Only src/linalg calls SuiteSparse. The rest of the library holds its matrices as
 * fold_la_sparse (a long-integer cholmod_sparse: full storage, sorted, packed, real) and
 * one fold_la_common (CHOLMOD's workspace) per solver object. */
typedef cholmod_sparse fold_la_sparse;
typedef cholmod_common fold_la_common;

/* One cholmod_common per solver: cholmod_l_start, print = 0, its error_handler writes
 * fold_last_error (CHOLMOD never prints). */
fold_status fold_la_common_init(cholmod_common *cm);
void fold_la_common_finish(cholmod_common *cm);

/* A new nrow x ncol matrix with room for nzmax entries (at least 1), pattern and values to
 * be written by the caller. FOLD_ERR_MEMORY with detail on failure. */
fold_status fold_la_sparse_alloc(fold_int nrow, fold_int ncol, fold_int nzmax, fold_la_common *cm,
                                 fold_la_sparse **out);
/* Room for at least nzmax entries (the entries kept). FOLD_ERR_MEMORY with detail. */
fold_status fold_la_sparse_grow(fold_la_sparse *A, fold_int nzmax, fold_la_common *cm);
/* Free *A and set it to NULL; accepts NULL and *A NULL. */
void fold_la_sparse_free(fold_la_sparse **A, fold_la_common *cm);
/* Validate the caller's matrix M (named field of function fn: fold_check_csc, values
 * required when nnz > 0) and copy it. */
fold_status fold_la_sparse_from_csc(const fold_csc *M, const char *fn, const char *field,
                                    fold_la_common *cm, fold_la_sparse **out);
/* Sort the row indices of every column of *A (replaced by a sorted copy; *A unchanged on
 * error). */
fold_status fold_la_sparse_sort(fold_la_sparse **A, fold_la_common *cm);
/* Entries of A. */
static inline fold_int fold_la_sparse_nnz(const fold_la_sparse *A)
{
    return ((const fold_int *)A->p)[A->ncol];
}

/* CHOLMOD factorization of a small symmetric system, solved one right-hand side at a time.
 * fold_la_chol_aat: A A' for an m x n A of full row rank (CHOLMOD's LL'); fold_la_chol_block:
 * the symmetric diagonal block A[lo:lo+size, lo:lo+size] of a square A, from its lower
 * triangle, by simplicial LDL' when indefinite (no square roots), else CHOLMOD's LL'.
 * FOLD_ERR_SINGULAR ("CHOLMOD status S") when a pivot is zero or a matrix expected positive
 * definite is not; the caller names the matrix. The factor keeps cm, which must outlive it. */
typedef struct fold_la_chol fold_la_chol;
fold_status fold_la_chol_aat(const fold_la_sparse *A, fold_la_common *cm, fold_la_chol **out);
fold_status fold_la_chol_block(const fold_la_sparse *A, fold_int lo, fold_int size, bool indefinite,
                               fold_la_common *cm, fold_la_chol **out);
/* x = inv(M) b, b and x of the factor's order (they may not alias). */
fold_status fold_la_chol_solve(fold_la_chol *C, const double *b, double *x);
/* CHOLMOD's reciprocal condition estimate (min/max diagonal of the factor). */
double fold_la_chol_rcond(const fold_la_chol *C);
/* nnz(L) of the analysis. */
fold_int fold_la_chol_nnz(const fold_la_chol *C);
void fold_la_chol_free(fold_la_chol *C);

/* P = blkdiag(A~, B D^-1 B' + |C|) of a symmetric K = [A B'; B C] (full storage, sorted)
 * whose first np rows are primal, with the positive diagonal d (order of K) of eq. 3.22:
 * A~ = A with the diagonal entries smaller than d_j in magnitude replaced by d_j, or with
 * diag_primal A~ = D (doc/math.md eq. 3.23). Full storage, sorted; freed by the caller. */
fold_status fold_la_saddle_block(const fold_la_sparse *K, fold_int np, const double *d,
                                 bool diag_primal, fold_la_common *cm, fold_la_sparse **out);

/* Triplets -> CSC with a stored scatter map, so that new values (same pattern) are placed
 * in O(nnz) without re-sorting. Duplicate triplets are summed (several callbacks may
 * contribute to one KKT entry). stype: 0 = full storage; -1 = only the lower triangle is
 * kept (entries above the diagonal are mirrored into it). */
typedef struct fold_la_assembly {
    cholmod_sparse *A; /* sorted, packed; values refreshed by fold_la_assembly_fill */
    fold_int n_triplets;
    fold_int *map; /* triplet k -> position in A->x */
} fold_la_assembly;

fold_status fold_la_assembly_create(fold_int nrow, fold_int ncol, fold_int n_triplets,
                                    const fold_int *row, const fold_int *col, int stype,
                                    cholmod_common *cm, fold_la_assembly **out);
/* A->x = 0, then A->x[map[k]] += values[k]. */
void fold_la_assembly_fill(fold_la_assembly *as, const double *values);
void fold_la_assembly_free(fold_la_assembly *as, cholmod_common *cm);

/* Factorization of a square matrix A given in full storage (stype 0, sorted, packed).
 * kind: FOLD_FACTOR_UMFPACK (LU of A), FOLD_FACTOR_CHOLMOD (simplicial LDL' of the
 * quasi-definite regularization K = A + diag(reg_sign) * delta, with reg_sign = +1 on the
 * first n_primal rows and -1 on the rest; solves are refined against A), or
 * FOLD_FACTOR_AUTO (CHOLMOD, falling back to UMFPACK when LDL' fails or its refined residual
 * misses tol; the reason is recorded). ordering: fold_ordering. The symbolic analysis is
 * kept and reused by fold_la_factor_refactor for new values with the same pattern. */
typedef struct fold_la_factor fold_la_factor;

typedef struct fold_la_factor_info {
    int factorization; /* fold_factorization actually in use */
    int ordering;
    fold_int factor_nnz; /* nnz(L) + nnz(U), or nnz(L) */
    double rcond;        /* UMFPACK: Info[UMFPACK_RCOND] = min/max |U_ii|; CHOLMOD:
                            1 / (||A||_1 est ||inv(K)||_1) (Hager estimate) */
    double analyze_s, factor_s;
    bool reused_analysis;      /* the last (re)factorization reused the symbolic analysis */
    char fallback_reason[128]; /* why CHOLMOD fell back to UMFPACK, or why A was
                                  regularized (singular_delta > 0), else "" */
    double singular_delta;     /* delta of the regularization of a singular A in use, else 0 */
} fold_la_factor_info;

/* Columns of A that a caller found to be exact copies of others (doc/math.md §4.8, eq.
 * 4.12c): A(:, col[k]) = ratio[k] A(:, partner[k]), or A(:, col[k]) = 0 when partner[k] < 0.
 * With an expected singular A (below) that is symmetric entry by entry, UMFPACK factors M =
 * A with those rows and columns replaced by unit ones scaled to their rows (the pinned
 * matrix: the solutions with a zero in each pinned entry) when the pins hold to rounding on
 * A's values and M is regular; else the regularization below. Solves with a pinned M leave
 * the pinned entries at zero, refine the other rows against A, and call a column
 * inconsistent (bad) when its pinned rows keep a residual above FOLD_LA_PIN_ETA; the
 * null-space probe is the combination of the pins' null vectors e_col - ratio e_partner.
 * singular_delta is singular_reg either way; fallback_reason says which. */
typedef struct fold_la_pins {
    fold_int n;
    const fold_int *col, *partner;
    const double *ratio;
} fold_la_pins;
#define FOLD_LA_PIN_ETA 1e-8

/* Analyze and factor. FOLD_ERR_SINGULAR (with detail) when A is numerically singular:
 * a zero pivot, or rcond < rcond_min, or (CHOLMOD) ||inv(K)||_1 >= 0.1 / delta. CHOLMOD with
 * a wrong pivot sign (K not quasi-definite) or a nonsymmetric A: FOLD_ERR_UNSUPPORTED.
 * AUTO falls back to UMFPACK on any CHOLMOD failure except FOLD_ERR_MEMORY, and also in
 * fold_la_factor_solve when the refined residual misses tol (it then stays on UMFPACK). */
fold_status fold_la_factor_create(const cholmod_sparse *A, int kind, int ordering,
                                  fold_int n_primal, double delta, double rcond_min,
                                  cholmod_common *cm, fold_la_factor **out);
/* As fold_la_factor_create, with the regularization of a singular A (doc/math.md §4.8):
 * when UMFPACK finds A singular and singular_reg > 0, factor M = A + delta diag(d_x, -d_y)
 * instead, delta = singular_reg, d_i = ||A(i,:)||_inf (plus on the n_primal first rows,
 * minus on the rest), and keep doing so on refactorization; M with a pivot ratio below
 * min(rcond_min, 1e-3 singular_reg) is FOLD_ERR_SINGULAR. Solves are refined against A;
 * they converge for right-hand sides in range(A), to a solution with some null-space
 * component (fold_la_factor_null_probe says which entries it touches). A right-hand side
 * whose refinement corrections do not decrease (eq. 4.9) is not consistent:
 * fold_la_factor_solve returns FOLD_ERR_SINGULAR (with the diverging iterate in X),
 * fold_la_factor_solve_cols flags the column. singular_reg = 0 is fold_la_factor_create. */
fold_status fold_la_factor_create_reg(const cholmod_sparse *A, int kind, int ordering,
                                      fold_int n_primal, double delta, double rcond_min,
                                      double singular_reg, cholmod_common *cm,
                                      fold_la_factor **out);
/* As fold_la_factor_create_reg, but the factor keeps a pointer to A instead of a copy (one
 * copy of the matrix less): A must stay allocated with the same pattern until the factor is
 * freed, new values are written into A itself and take effect with
 * fold_la_factor_refactor(F, A) (any other matrix is refused); solves refine against A as it
 * is at the time of the solve. */
fold_status fold_la_factor_create_shared(const cholmod_sparse *A, int kind, int ordering,
                                         fold_int n_primal, double delta, double rcond_min,
                                         double singular_reg, bool expect_singular,
                                         const fold_la_pins *pins, cholmod_common *cm,
                                         fold_la_factor **out);
/* The caller expects the next factorization's A to be singular (dependent rows found
 * before factoring it): with singular_reg > 0 and kind UMFPACK or AUTO, M is factored
 * directly, saving the factorization of A that would find it singular; when the null-space
 * probe (below) then finds no null vector of A, A itself is factored after all. One
 * factorization only. pins (may be NULL; copied): the copied columns found, tried first
 * (fold_la_pins) by this and every later factorization until the next call.
 * fold_la_factor_create_shared's expect_singular and pins are the same for the first
 * factorization. */
void fold_la_factor_expect_singular(fold_la_factor *F, const fold_la_pins *pins);
/* New values, same pattern: numeric factorization only (symbolic analysis reused). */
fold_status fold_la_factor_refactor(fold_la_factor *F, const cholmod_sparse *A);
/* Solve A X = B (transpose: A' X = B) for nrhs dense column-major right-hand sides of
 * length A->nrow. Up to refine_steps of iterative refinement against A until the
 * componentwise relative residual (doc/math.md eq. 4.4) <= tol; the largest final residual
 * over the columns is returned in *residual (may be NULL). X and B may not alias. With a
 * regularized factor (singular_delta > 0) a column whose refinement corrections do not
 * decrease (eq. 4.9: not in range(A)) makes the whole call FOLD_ERR_SINGULAR. */
fold_status fold_la_factor_solve(fold_la_factor *F, bool transpose, fold_int nrhs, const double *B,
                                 double *X, int refine_steps, double tol, double *residual);
/* As fold_la_factor_solve, but a column that misses eq. 4.9 does not fail the others:
 * bad[c] (nrhs entries, required) is set to 1 for such a column, whose X column is then no
 * solution (the diverging iterate) and must not be used, and to 0 for every other column;
 * *n_bad (may be NULL) counts them. Returns FOLD_OK, or FOLD_WARN_INACCURATE when a
 * consistent column misses tol; *residual is the largest over the consistent columns (0
 * when there are none). Without a regularized factor every bad[c] is 0. */
fold_status fold_la_factor_solve_cols(fold_la_factor *F, bool transpose, fold_int nrhs,
                                      const double *B, double *X, int refine_steps, double tol,
                                      double *residual, unsigned char *bad, fold_int *n_bad);
/* X = inv(M) B (transpose: inv(M') B) with the factors alone, M the matrix factored (A, its
 * CHOLMOD regularization K, the regularization of a singular A, or its pinned matrix, whose
 * pinned rows of B count as zero): no refinement and no consistency test, e.g. a
 * preconditioner's application. */
fold_status fold_la_factor_apply(fold_la_factor *F, bool transpose, fold_int nrhs, const double *B,
                                 double *X);
void fold_la_factor_get_info(const fold_la_factor *F, fold_la_factor_info *info);
/* Is the factorization in use the pinned matrix of eq. 4.12c (fold_la_pins)? Its
 * fold_la_factor_apply is the solution with zero pinned entries of the right-hand sides
 * with zero pinned rows. */
bool fold_la_factor_pinned(const fold_la_factor *F);
/* Free what solves keep between calls (refinement buffers, UMFPACK's factors extracted for
 * blocked solves), e.g. after the many right-hand sides of a Jacobian; the next solve
 * allocates them again. */
void fold_la_factor_trim(fold_la_factor *F);

/* With a regularized factorization in use (singular_delta > 0): a random vector of null(A)
 * by FOLD_LA_PROBE_ITERATIONS steps of inverse iteration on the row-scaled M (eq. 4.10),
 * scaled so that max |z_i| sqrt(d_i) = 1, with the entries where |z_i| sqrt(d_i) <=
 * FOLD_LA_PROBE_TINY set to zero. *residual = ||D^-1/2 A z||_inf: a null vector when about
 * delta, else A is only ill-conditioned. A generic combination of every null direction, so
 * an entry of a solution (or a linear functional c'x of it) is unique exactly when z_i = 0
 * (c'z = 0), up to the probe's resolution. */
#define FOLD_LA_PROBE_ITERATIONS 3
#define FOLD_LA_PROBE_TINY 1e-6
/* A probe vector is a null vector of A when *residual <= FOLD_LA_NULL_RESIDUAL delta. */
#define FOLD_LA_NULL_RESIDUAL 1e3
fold_status fold_la_factor_null_probe(fold_la_factor *F, double *z, double *residual);
void fold_la_factor_free(fold_la_factor *F);
/* Keep the current numeric factorization aside (UMFPACK only; false when there is none or
 * one is kept already): the next fold_la_factor_refactor makes a new one with the same
 * analysis, and fold_la_factor_restore brings the kept one back, with its info and its
 * null-space probe, for the values it was made from (the caller puts them back in a shared
 * A). fold_la_factor_drop_kept frees it (fold_la_factor_free does too). */
bool fold_la_factor_keep(fold_la_factor *F);
bool fold_la_factor_has_kept(const fold_la_factor *F);
fold_status fold_la_factor_restore(fold_la_factor *F);
void fold_la_factor_drop_kept(fold_la_factor *F);

/* Solves with a symmetric A_v (order nV) that differs from the matrix A factored in F
 * (order nP) by k rows and columns (doc/math.md §4.9): A_v's unknowns are those of A with
 * pv[t] >= 0 (their position in A_v) and k border unknowns, columns C (nP x k, column-major)
 * with W = A^{-1} C computed by the caller (kept across borders that share columns) and the
 * block D (k x k) among them; vpos[j] is the position in A_v of border unknown j, or -1 for
 * the multiplier of an unknown of A that A_v has not (C's column e_t, eq. 4.14). F and A_v
 * are not copied and must outlive the border. The capacitance matrix's reciprocal
 * condition (fold_la_border_rcond) tells whether A_v is near singular: the caller then
 * factors A_v instead. */
typedef struct fold_la_border fold_la_border;
fold_status fold_la_border_create(fold_la_factor *F, const cholmod_sparse *Av, const fold_int *pv,
                                  fold_int k, const fold_int *vpos, const double *C,
                                  const double *W, const double *D, fold_la_border **out);
double fold_la_border_rcond(const fold_la_border *Bd);
/* F pinned (fold_la_factor_pinned, eq. 4.12c): A is singular through copied columns, A^{-1}
 * above is the pinned solve, and W must be the pinned solves of C (fold_la_factor_solve_cols
 * flags the columns that move copies apart; their X is that solve). A_v is then solved with
 * the pins whose null vectors the border columns do not annihilate as unknowns of the
 * capacitance matrix (doc/math.md eq. 4.16b); the others stay null directions of A_v: z
 * (nV) = a combination of them with pseudo-random weights, their count returned (0: A_v
 * has none of A's). */
fold_int fold_la_border_null_vector(const fold_la_border *Bd, double *z);
/* ok[c] of fold_la_border_solve: an earlier solution that took GMRES (it missed eq. 4.9). */
#define FOLD_LA_KNOWN_SLOW 2
/* X = A_v^{-1} B (nrhs columns), refined against A_v as fold_la_factor_solve refines;
 * *residual: the largest componentwise backward error of the columns (eq. 4.4). Bp, Zp:
 * n_known earlier right-hand sides of A (nP each) and their solutions (those with ok[c] set;
 * ok may be NULL: all): a column of B equal to Bp's on the unknowns A_v keeps takes Zp's
 * instead of a solve with A (Bp, Zp NULL when n_known = 0; over a regularized F, Zp may solve
 * A rather than M: the refinement corrects the difference). fold_la_border_reused counts
 * those columns. Over a regularized F, a column with ok[c] = FOLD_LA_KNOWN_SLOW is flagged
 * bad without refinement. */
fold_status fold_la_border_solve(fold_la_border *Bd, bool transpose, fold_int nrhs, const double *B,
                                 double *X, const double *Bp, const double *Zp,
                                 const unsigned char *ok, fold_int n_known, int refine_steps,
                                 double tol, double *residual, unsigned char *bad, fold_int *n_bad);
/* F regularized (M = A + delta D, §4.8, not pinned): the bordered inverse is that of
 * A_v + delta D_v (D_v: D on A's unknowns, 0 on the border's), and fold_la_border_solve
 * refines against A_v with the test of eq. 4.9 as fold_la_factor_solve_cols does: bad[c] = 1
 * (*n_bad of them) for a column whose corrections do not shrink (inconsistent, or slow:
 * the caller's GMRES tells), *residual then the largest of the others'; for any other F no
 * column is bad. fold_la_border_delta: delta, or 0 when F is not regularized. */
double fold_la_border_delta(const fold_la_border *Bd);
/* X = the bordered inverse applied to B (nrhs columns of nV), without refinement (a Krylov
 * method's preconditioner, as fold_la_factor_apply). */
fold_status fold_la_border_apply(fold_la_border *Bd, bool transpose, fold_int nrhs, const double *B,
                                 double *X);
/* F regularized: the null-space probe of eq. 4.10 (as fold_la_factor_null_probe, z of nV)
 * with the bordered inverse, the rows scaled by D_v (by the largest entry of A_v's row on
 * the border's unknowns). */
fold_status fold_la_border_null_probe(fold_la_border *Bd, double *z, double *residual);
fold_int fold_la_border_reused(const fold_la_border *Bd);
void fold_la_border_free(fold_la_border *Bd);

/* Minimum-norm least-squares solution of A X = B (or A' X = B) by SPQR, for singular KKT
 * systems (flagged by the caller). */
fold_status fold_la_lsq_solve(const cholmod_sparse *A, bool transpose, fold_int nrhs,
                              const double *B, double *X, cholmod_common *cm);

/* r = b - A x and w = |A| |x| in one pass over A (transpose: A', |A'|): the residual and
 * the scale of its componentwise backward error (doc/math.md eq. 4.4). */
void fold_la_residual(const cholmod_sparse *A, bool transpose, const double *x, const double *b,
                      double *r, double *w);

/* Is the square, sorted, packed A symmetric: |a_ij - a_ji| <= rtol max(|a_ij|, |a_ji|) for
 * every pair (rtol = 0: equal)? cur: ncol workspace; an offending entry: row *bi, column
 * *bj. With exact symmetry the residual of A x is computed as A' x's (the faster gather). */
bool fold_la_symmetric(const cholmod_sparse *A, double rtol, fold_int *cur, fold_int *bi,
                       fold_int *bj);

/* y = |A| |x| (transpose: |A'| |x|), entrywise absolute values (componentwise residuals). */
void fold_la_spmv_abs(const cholmod_sparse *A, bool transpose, const double *x, double *y);

/* y = A x (transpose: y = A' x) for a full-storage A; y += when accumulate. */
void fold_la_spmv(const cholmod_sparse *A, bool transpose, const double *x, double *y,
                  bool accumulate);

/* A basis of null(A) (A: nrow x ncol, real, long, packed) from SPQR's rank-revealing QR:
 * *N (malloc'ed, ncol x *dim column-major, each vector scaled to largest entry 1) and its
 * dimension. Above max_dim vectors only *dim is set (*N = NULL). doc/math.md §3.7. */
fold_status fold_la_null_basis(const cholmod_sparse *A, fold_int max_dim, double **N, fold_int *dim,
                               cholmod_common *cm);
/* max c't subject to A t <= b (A: r x d row-major, b >= 0 so that t = 0 is feasible), t
 * free, by the simplex method with Bland's rule: the optimum (>= 0), +inf when unbounded,
 * NaN when out of memory or not converged. */
double fold_la_lp_max(fold_int d, fold_int r, const double *A, const double *b, const double *c);

#endif
