/* The parts of the KKT fold's backward state (struct fold_kkt, fold_internal.h), one per stage
 * of doc/math.md §3.5: callback values, classification, candidates and their variants,
 * assembled system, factor cache, null space. Each part names the file (or the few files of
 * one stage) that write it; every other file only reads it. */
#ifndef FOLD_KKT_PARTS_H
#define FOLD_KKT_PARTS_H

#include "fold/engine.h"
#include "forward/sides.h"
#include "foldopt/fold.h"
#include "linalg/linalg.h"

/* Callback values at the solution, in the order of the problem's patterns: H = Hessian of
 * the Lagrangian (lower triangle), J = dg/dx (m x n), L_xp = d(grad_x L)/dp (n x np),
 * g_p = dg/dp (m x np). Products with them run on the triplets (kkt_rhs.c).
 * Written by kkt_eval.c only. */
typedef struct fold_kkt_values {
    double *hv, *jv, *lpv, *gpv;
    /* The entries of L_xp and g_p grouped by parameter (lp_idx[lp_ptr[j] .. lp_ptr[j+1]) are
     * those of parameter j): products with a sparse dp, or for some parameters only, touch
     * only their entries (kkt_rhs.c). */
    fold_int *lp_ptr, *lp_idx, *gp_ptr, *gp_idx;
    bool has_matrices; /* the value arrays are allocated */
} fold_kkt_values;

/* Classification (doc/math.md §3.2): xstat[n], cstat[m], the constraint values it was made
 * from and the weakly active list. Written by the classification stage: kkt_classify.c (the
 * primary classification), kkt_sides.c (a variant of the candidates applied), kkt_weak.c
 * (appends to the weak list) on behalf of kkt_structural.c and kkt_null.c, which add the
 * dependent items of eq. 4.12 (n_dependent, n_weak back to n_weak_classified before they
 * add them) and mark the derivative one-sided; kkt_state.c also resets n_weak when it
 * applies another variant. */
typedef struct fold_kkt_class {
    signed char *xstat, *cstat;
    double *gval; /* g(x; p) at the solution (m) */
    fold_weak_entry *weak;
    fold_int n_weak, weak_cap;
    fold_int n_weak_classified; /* n_weak from the classification (kkt_null.c may add) */
    fold_int n_weak_sides;      /* weak-list entries of the classification (the rest: eq. 4.12) */
    fold_int n_dependent;       /* null directions of K found by kkt_structural.c */
    fold_int n_dependent_new;   /* of them, in a comparison run: those the primary has not */
    fold_int n_active_cons, n_active_bounds;
    bool is_one_sided;
} fold_kkt_class;

/* A candidate: an item with a weakly active or ambiguous side (doc/math.md §3.2), held at
 * that side (status `side`: FOLD_XS_LOWER/UPPER, FOLD_CS_LOWER/UPPER) or not (0). */
typedef struct fold_kkt_cand {
    bool is_con, weak;
    bool dependent; /* held by dependent active constraints (eq. 4.12), not by its side */
    fold_int index;
    int side;
    signed char primary, alt; /* status in the primary classification and the other one */
} fold_kkt_cand;

/* Classification from the sides (not under active_set.ambiguity = ignore): the sides at the
 * solution, the candidates, the primary classification (pxstat, pcstat) and the variant of
 * the candidates requested / applied to xstat, cstat. Written by kkt_sides.c (the sides, the
 * candidates, the variants applied) and variants.c (which variant or path run is requested;
 * the report items of the candidates). */
typedef struct fold_kkt_candidates {
    fold_sides sides;
    fold_kkt_cand *cand;
    fold_int n_cand, cand_cap;
    signed char *pxstat, *pcstat;
    int variant, cur_variant;
    /* The central-path check of suspect verdicts (variants.c): 0 the form of the settings,
     * FOLD_PATH_AT_MU the barrier form at the solution, FOLD_PATH_SHRUNK the barrier form
     * with every Sigma moved towards its limit by FOLD_BARRIER_RATIO. */
    int path, cur_path;
    unsigned char *vflip; /* n_variants x n_cand: which candidates each variant flips */
    int n_variants;
    fold_int *cand_item; /* report item of each candidate (variants.c) */
    bool cand_item_ok;
} fold_kkt_candidates;

/* KKT system K (full storage, nK x nK), primal block first (n_primal rows). Written by the
 * assembly: kkt_active.c and kkt_barrier.c (positions, diagonals and bound-multiplier
 * weights of their form), kkt_assemble.c (pattern, values, scaling); kkt_state.c records the
 * form and classification it was built for. */
typedef struct fold_kkt_sys {
    int form; /* fold_kkt_form of the assembled K */
    fold_int nK, n_primal;
    fold_int *xpos, *cpos;              /* position of x_j / lam_i in K, or -1 */
    signed char *sig_xstat, *sig_cstat; /* classification K was built for (active form) */
    /* K in sorted CSC with an explicit diagonal. Per entry q the source of its value:
     * kidx[q] = k < nnz(hess_l) for hv[k], nnz(hess_l) + k for jv[k], -1 for none (the
     * barrier diagonals are added at kdiag[t], the position of K(t,t)). n_sorted_cols counts
     * the columns that arrived unsorted from the patterns and were sorted. */
    fold_la_sparse *K;
    fold_int *kidx, *kdiag;
    fold_int n_sorted_cols;
    /* Symmetric diagonal scaling S of K (nK): the stored matrix is S K S, and the builders
     * below scale right-hand sides and solutions, so the huge Sigma of the barrier form at a
     * tight solution does not swamp the residual test (doc/math.md §3.4). 1 in the active
     * form. */
    double *kscale;
    /* Bound multipliers from dx and the stationarity residual r = H dx + J' dlam + L_xp dp
     * (eqs. 3.9, 3.16): dzl = al r - sigl dx, dzu = -au r + sigu dx. Active form: al = 1 on
     * lower-held, au = 1 on upper-held variables, sigl = sigu = 0. Barrier form: where
     * Sigma_x dominates the Hessian diagonal, al = Sigma_L / Sigma_x, au = Sigma_U / Sigma_x
     * (stable: r is O(1) while dx_j ~ 1/Sigma_x), elsewhere sigl = Sigma_L, sigu = Sigma_U. */
    double *al, *au, *sigl, *sigu;
    bool sig_written;     /* sigl, sigu written by the barrier form (else all zero) */
    bool weights_pending; /* active form: al, au not yet formed (fold_kkt_weights) */
    /* Barrier form (§3.4): Sigma_x (n), constraint diagonal -1/Sigma_s (m) and a 0/1 mask of
     * constraint rows kept in the system (an inequality with a zero multiplier is decoupled:
     * dlam_i = 0). */
    double *xdiag, *cdiag, *jmask;
    /* Barrier form, condensed rows (kkt_condense.c, doc/math.md eq. 3.14a): inequality rows
     * eliminated from K by a Schur complement (cpos = -1; Sigma_s J_i' J_i added to the
     * primal block, dlam_i recovered after the solve). cwant: the rows the current diagonals
     * would condense (K's pattern is rebuilt when they differ from K's); crow (nc): the
     * condensed rows (a decoupled one, Sigma_s = 0, contributes nothing), their Jacobian
     * entries cent[cptr[q] .. cptr[q+1]) and, per ordered pair of them, the position in K
     * of its term (cpair from cpbase[q]); crhs: the unscaled right-hand sides of the
     * condensed rows, nc per column, from the last fold_kkt_rhs_* to its fold_kkt_finish_*. */
    unsigned char *cwant;
    fold_int nc, *crow, *cptr, *cent, *cpbase, *cpair;
    double *crhs;
    size_t crhs_len; /* entries allocated */
} fold_kkt_sys;

typedef struct fold_kkt_pc fold_kkt_pc;

/* The factor cache: what is kept across calls and solutions with the same pattern. F, the
 * factorization of K (the symbolic analysis, or the nearby preconditioner), whether it is
 * current (has_factor) or the least-squares fallback replaces it (is_lsq), and its info:
 * written by kkt_state.c (kkt_system.c refreshes finfo after a solve, where AUTO may switch
 * to LU; kkt_assemble.c frees F with K). pc, the block preconditioner of the iterative
 * methods: written by kkt_precond.c. auto_memo, the preconditioner precond.kind = auto fell
 * back to on this system: written by the engine (engine.c), cleared by kkt_state.c with
 * the factorization when K changes. */
typedef struct fold_kkt_factor {
    fold_la_factor *F;
    bool has_factor, is_lsq;
    fold_la_factor_info finfo;
    bool reused_analysis;
    /* the primary's copied columns were offered as pins and refused (not exact, or K nearly
     * singular beyond them): the other systems of this solution are not offered theirs,
     * which would cost a factorization each for the same refusal (kkt_factor.c) */
    bool pins_refused;
    fold_kkt_pc *pc;
    fold_pc_memo auto_memo;
} fold_kkt_factor;

/* Singular K (regularized factorization, doc/math.md §4.8): entries of the results that its
 * null space leaves undetermined: variables, multipliers, stationarity residuals (bound
 * multipliers), parameter entries of a vjp. Written by kkt_null.c only. */
typedef struct fold_kkt_null_space {
    bool has_null;
    unsigned char *null_x, *null_l, *null_z, *null_p;
    fold_int n_null_x, n_null_l, n_null_p;
} fold_kkt_null_space;

/* The primary system set aside while the comparison runs of the candidates are solved over
 * its factorization (doc/math.md §4.9), or factor their own K (a singular primary, the runs
 * of the central-path check):
 * K with its positions, signature, factorization and null space, moved out of sys, fac and
 * ns when a run starts and back when the primary classification returns; the border column of every
 * candidate (its K column, or e_t for an unknown the run removes) and A^{-1} of it, on first
 * use; the current run's bordered solve (NULL: the run factors its own K). Written by
 * kkt_border.c only (it moves the sys and fac fields named here). */
typedef struct fold_kkt_border {
    bool has_primary;
    int form;
    fold_la_sparse *K;
    fold_int *kidx, *kdiag, *xpos, *cpos;
    signed char *sig_xstat, *sig_cstat;
    double *kscale;
    fold_int nK, n_primal, n_sorted_cols;
    fold_la_factor *F;
    fold_la_factor_info finfo;
    fold_kkt_null_space ns;
    double *C, *W;       /* n_cand x nK (the primary's), column-major */
    unsigned char *have; /* n_cand: C, W of the candidate computed */
    fold_int n_cols;     /* candidates the arrays are sized for */
    fold_la_border *run;
    bool reg_refused; /* a run over the regularized primary was factored after all: the
                         call's later runs factor at once (the same loss of digits) */
    /* The primary's dependent active rows (kkt_structural.c): pairs (dep[2k], dep[2k + 1])
     * parallel on the free variables, the second -1 for a row without a free entry, sorted;
     * a run over a pinned primary whose dependent rows are all among them is bordered. */
    fold_int *dep, n_dep, dep_cap;
    /* The primary run's right-hand sides and solutions in the order solved (rec_n of them,
     * room for rec_cap), and the current run's position in them: a run's column whose kept
     * rows are the same takes the primary's solution instead of a solve (eq. 4.16). The
     * solutions dense; the right-hand sides (a Jacobian's: a few entries each) by their
     * nonzeros, column q at rec_bi / rec_bv [rec_bp[q], rec_bp[q + 1]), room for rec_bcap,
     * and expanded into rec_Bd (rec_bd_len doubles) for a solve. */
    double *rec_X;
    unsigned char *rec_ok; /* per column: 1 a solution, FOLD_LA_KNOWN_SLOW one GMRES found (it
                              missed eq. 4.9), 0 none (inconsistent: not to be taken) */
    fold_int rec_n, rec_cap, rec_pos;
    bool rec_full; /* a column did not fit: no later one is kept (the order is the key) */
    size_t *rec_bp, rec_bcap, rec_bd_len;
    fold_int *rec_bi;
    double *rec_bv, *rec_Bd;
} fold_kkt_border;

#endif
