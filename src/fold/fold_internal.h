/* Internal interface of the KKT fold (doc/math.md §3): the backward state kept in
 * solver->backward, the classification of constraints and bounds (§3.2), the assembled KKT
 * matrix of either form (§3.3, §3.4) and its right-hand-side builders, so that direct and
 * iterative backward methods share one operator. */
#ifndef FOLD_FOLD_INTERNAL_H
#define FOLD_FOLD_INTERNAL_H

#include "fold/call.h"
#include "fold/engine.h"
#include "fold/kkt_parts.h"
#include "forward/sides.h"
#include "forward/solver_internal.h"
#include "linalg/linalg.h"

/* Status of a variable's bounds in the active-set form. */
enum { FOLD_XS_FREE = 0, FOLD_XS_LOWER = 1, FOLD_XS_UPPER = 2, FOLD_XS_FIXED = 3 };
/* Status of a constraint in the active-set form. */
enum { FOLD_CS_INACTIVE = 0, FOLD_CS_LOWER = 1, FOLD_CS_UPPER = 2, FOLD_CS_EQUALITY = 3 };

typedef struct fold_report fold_report;

/* The backward state of one solver (solver->backward), in parts with one writer each
 * (kkt_parts.h). Everything is evaluated at the stored solution whose id is `solution_id`;
 * `is_valid` says the evaluation, classification and assembly are current,
 * `fac.has_factor` / `fac.is_lsq` say how systems are solved. The fields outside the parts
 * are written by kkt_state.c (except up_* by kkt_rhs.c, report by report.c). */
typedef struct fold_kkt_hprod fold_kkt_hprod; /* products instead of matrices (kkt_product.h) */

typedef struct fold_kkt {
    const fold_problem *prob;
    const fold_solver *solver; /* owner (the state lives in solver->backward) */
    fold_int n, m, np;
    fold_la_common cm;
    bool has_cm;

    fold_kkt_values val;       /* kkt_eval.c */
    fold_kkt_class cls;        /* kkt_classify.c, kkt_sides.c, kkt_weak.c (eq. 4.12 additions) */
    fold_kkt_candidates cands; /* kkt_sides.c, variants.c */
    fold_kkt_sys sys;          /* kkt_active.c, kkt_barrier.c, kkt_assemble.c */
    fold_kkt_factor fac;       /* kkt_state.c, kkt_precond.c (pc) */
    fold_kkt_null_space ns;    /* kkt_null.c */
    fold_kkt_border border;    /* kkt_border.c */

    /* Classification current for solution classified_id (kkt_state.c). */
    bool has_classified;
    unsigned long classified_id;
    /* Evaluation, classification and assembly are current for solution_id. */
    bool is_valid;
    unsigned long solution_id;
    double assemble_s;

    /* Scratch vectors of length max(n, m, np, 1). */
    double *w1, *w2, *w3, *w4;
    /* The upstream gradients of the vjp in progress (fold_kkt_rhs_vjp to _finish_vjp). */
    const double *up_x, *up_zl, *up_zu;
    /* The name of the public call in progress (for error details). */
    const char *fn;
    fold_kkt_hprod *hprod; /* Hessian or L_xp given by products, else NULL (kkt_product.c) */

    /* The trust report of the last public call (report.c). */
    fold_report *report;
} fold_kkt;

/* --- state (kkt_state.c) --- */
/* Get or create the backward state of a solver. */
fold_status fold_kkt_state(fold_solver *solver, fold_kkt **out);
void fold_kkt_state_free(void *state);

/* Checks of every fold call: solver and solution present, converged (or allowed), df/dp
 * available; then the tightening re-solves fold_solve left pending (fold_solver_settle).
 * Returns FOLD_WARN_UNCONVERGED_INPUT when an unconverged point is allowed. */
fold_status fold_kkt_check_solution(fold_solver *solver, const char *fn);
/* The above plus what a KKT solve needs: a supported backward method (fold_kkt_iter_check),
 * a hess_l callback. */
fold_status fold_kkt_check_solver(fold_solver *solver, const char *fn);

/* Bring the state up to date with the stored solution: evaluate the callbacks, classify,
 * assemble K; when factor is true also factor it (or mark the least-squares fallback).
 * Returns FOLD_OK, FOLD_WARN_ONE_SIDED (weak policy applied), FOLD_WARN_LEAST_SQUARES, or an
 * error (FOLD_ERR_DEGENERATE, FOLD_ERR_SINGULAR, callback errors). info may be NULL; its
 * timing, size and count fields are filled. This is the entry point for iterative backward
 * methods: call with factor = false, then use fold_kkt_matrix and the builders below. With
 * factor = true the factorization is made only when the backward method needs one
 * (fold_kkt_iter_wants_factor): direct, precond exact, or nearby without a kept factor. */
fold_status fold_kkt_setup(fold_solver *solver, bool factor, fold_backward_info *info,
                           const char *fn);

/* Evaluate and classify at the stored solution unless already done (no assembly): what the
 * optimal value's one-sided derivatives need (value_kink.c). */
fold_status fold_kkt_classified(fold_solver *solver, const char *fn);

/* The assembled, scaled KKT matrix S K S (full storage, sorted, nK x nK, symmetric), valid
 * until the next fold_kkt_setup. The first n_primal rows are primal (dx), the rest dual
 * (dlam). The builders below produce right-hand sides of, and take solutions of, this
 * scaled system. */
const fold_la_sparse *fold_kkt_matrix(const fold_kkt *kkt);

/* --- evaluation (kkt_eval.c) and classification (kkt_classify.c) --- */
/* Evaluate jac_g, hess_l (obj_factor 1), hess_lp and jac_g_p at the stored solution into
 * hv, jv, lpv, gpv (allocated on first use). */
fold_status fold_kkt_evaluate(fold_kkt *kkt, const fold_solver *solver);
void fold_kkt_values_free(fold_kkt_values *val);
/* Classify constraints and bounds (§3.2); fills xstat, cstat, weak list and counts.
 * FOLD_ERR_DEGENERATE under the refuse policy when weakly active ones exist. */
fold_status fold_kkt_classify(fold_kkt *kkt, fold_solver *solver, const char *fn);
/* The arrays of the classification for n variables and m constraints (zeroed), and their
 * release with the weak list. */
fold_status fold_kkt_class_alloc(fold_kkt_class *cls, fold_int n, fold_int m);
void fold_kkt_class_free(fold_kkt_class *cls);

/* "x[3] upper", "bus 7 vm lower": the item and side of a weak-list entry. */
void fold_kkt_weak_name(const fold_kkt *kkt, const fold_weak_entry *w, char *buf, size_t len);
/* The first three entries of the weak list, described and separated by "; ", into buf
 * (FOLD_WEAK_FIRST_LEN fits them); returns "; and more" when there are others, else "". */
#define FOLD_WEAK_FIRST_LEN (3 * (FOLD_NAME_MAX + 64))
const char *fold_kkt_weak_first(const fold_kkt *kkt, char *buf, size_t len);
/* "x[3] upper (variable bound, distance 0, multiplier 1e-9)". */
void fold_kkt_weak_describe(const fold_kkt *kkt, const fold_weak_entry *w, char *buf, size_t len);
/* --- classification from the sides and its variants (kkt_sides.c, doc/math.md §3.2) --- */
fold_status fold_kkt_classify_sides(fold_kkt *kkt, fold_solver *solver, const char *fn);
void fold_kkt_sides_free(fold_kkt *kkt);
/* List the alternative classifications of the candidates (after the primary setup, when
 * the dependent items are known); their count. */
fold_status fold_kkt_build_variants(fold_kkt *kkt);
int fold_kkt_variant_count(const fold_kkt *kkt);
/* Status of candidate c in variant v. */
signed char fold_kkt_variant_status(const fold_kkt *kkt, int v, fold_int c);
/* The dependent items weak[first..n_weak) of eq. 4.12 as candidates (held, or freed in the
 * variants) instead of a refusal: under active_set.ambiguity = resolve or flag with
 * weak_policy = refuse, in the active form. Returns whether they were taken. */
bool fold_kkt_dependent_candidates(fold_kkt *kkt, const fold_solver *solver, fold_int first);
/* The barrier form's variants extrapolate the central path to a barrier parameter this
 * many times smaller (doc/math.md eq. 3.19): Sigma of a side held at its bound grows by it
 * (distance ~ mu / multiplier), of a side off its bound shrinks by it. */
#define FOLD_BARRIER_RATIO 100.0
/* The factor on Sigma of side s in the current variant (1 in variant 0) or path run. */
double fold_kkt_side_factor(const fold_kkt *kkt, fold_int s);
enum { FOLD_PATH_AT_MU = 1, FOLD_PATH_SHRUNK = 2 };
/* Is the state the primary classification in the form of the settings (not a variant or a
 * path run, whose results are compared and never refused or reported on their own)? */
static inline bool fold_kkt_primary(const fold_kkt *kkt)
{
    return kkt->cands.variant == 0 && kkt->cands.path == 0;
}
/* Set xstat, cstat and the active counts to variant kkt->cands.variant. */
void fold_kkt_apply_variant(fold_kkt *kkt);

/* Append to the weakly active list (kind as fold_weak_entry). */
fold_status fold_kkt_add_weak(fold_kkt *kkt, fold_weak_kind kind, fold_int index, double dist,
                              double mult);
/* Append a held bound (var >= 0, its side from xstat) or an active inequality row (var < 0,
 * side from cstat) with its distance and multiplier, unless added since the
 * classification (eq. 4.12). */
fold_status fold_kkt_add_weak_item(fold_kkt *kkt, const fold_solver *solver, fold_int row,
                                   fold_int var);

/* --- assembly (kkt_active.c, kkt_barrier.c, kkt_assemble.c) --- */
/* Build the pattern of K for the current form and classification (rows and columns of the
 * variables and constraints from xpos, cpos). */
fold_status fold_kkt_build_active(fold_kkt *kkt);
fold_status fold_kkt_build_barrier(fold_kkt *kkt);
/* Barrier diagonals and bound-multiplier weights from the solution (§3.4, eqs. 3.12-3.16). */
void fold_kkt_barrier_diagonals(fold_kkt *kkt, const fold_solver *solver);
/* Bound-multiplier weights of the active form (eq. 3.9): marked pending, formed by
 * fold_kkt_weights on first use (a vjp without zlbar, zubar never needs them). */
void fold_kkt_active_weights(fold_kkt *kkt, const fold_solver *solver);
/* Form al, au (and zero sigl, sigu) if the active-form weights are pending. */
void fold_kkt_weights(fold_kkt *kkt);
/* Condensed inequality rows of the barrier form (kkt_condense.c, doc/math.md eq. 3.14a).
 * select: cwant from the diagonals (after fold_kkt_barrier_diagonals, whose Hessian
 * diagonal it reads in w1), none unless backward.barrier_condense, the direct method and an
 * assembled H; build: crow, cptr, cent, cpbase from cwant (the builder sets cpos); locate:
 * cpair once K's pattern is final; fill: the terms Sigma_s J_i' J_i into the unscaled K. */
void fold_kkt_condense_select(fold_kkt *kkt, const fold_settings *set);
bool fold_kkt_condense_changed(const fold_kkt *kkt);
fold_status fold_kkt_condense_build(fold_kkt *kkt);
void fold_kkt_condense_locate(fold_kkt *kkt);
void fold_kkt_condense_fill(const fold_kkt *kkt, double *Kx);
void fold_kkt_condense_release(fold_kkt_sys *sys);
/* Column col of a right-hand side in unscaled parts vx (n), vl (m), the system's being
 * sign * [vx; vl]: store sign * vl of the condensed rows, fold vx += J_C' Sigma_s vl_C. */
fold_status fold_kkt_condense_rhs(fold_kkt *kkt, fold_int col, double sign, double *vx,
                                  const double *vl);
/* dlam_i = Sigma_s (J_i dx - b_i) of the condensed rows into vl from the unscaled primal
 * part vx of the solution of column col (crhs NULL: b = 0, a null direction). */
void fold_kkt_condense_finish(const fold_kkt *kkt, const double *crhs, const double *vx,
                              double *vl);
/* Sorted CSC pattern of K, kidx, kdiag and kscale from xpos, cpos, nK (set by the builders
 * above): H_FF in both triangles, J_AF and J_AF', and the whole diagonal. */
fold_status fold_kkt_build_pattern(fold_kkt *kkt);
/* Free K, its triplets and its factorization (not the null-space flags of that
 * factorization: fold_kkt_null_free, kkt_null.c). */
void fold_kkt_release_system(fold_kkt *kkt);
/* The arrays of the system for n variables and m constraints (zeroed: the active-form weights
 * sigl = sigu = 0 rely on it), and their release (K itself: fold_kkt_release_system). */
fold_status fold_kkt_sys_alloc(fold_kkt_sys *sys, fold_int n, fold_int m);
void fold_kkt_sys_free(fold_kkt_sys *sys);

/* --- entries left undetermined by a singular K (kkt_null.c, doc/math.md §4.8) --- */
/* After a regularized factorization: probe null(K) and flag the entries it moves. */
fold_status fold_kkt_null_setup(fold_kkt *kkt);
/* The same for a null vector zK of the current K given (a comparison run bordered over a
 * pinned primary, whose copies it keeps: kkt_border.c). */
fold_status fold_kkt_null_setup_vector(fold_kkt *kkt, const double *zK);
void fold_kkt_null_free(fold_kkt *kkt);
/* Active form: inequality multipliers (bounds of held variables, active inequality
 * constraints) that the null direction moves can be shifted to zero (eq. 4.12): weakly
 * active in the minimal multipliers. Added to the weak list; FOLD_ERR_DEGENERATE under
 * weak_policy = refuse, else the derivative is one-sided. */
fold_status fold_kkt_null_degenerate(fold_kkt *kkt, const fold_solver *solver, const char *fn);
/* The same before any factorization (kkt_structural.c), for active rows without a nonzero
 * on a free variable and pairs of active rows parallel on the free variables; in both
 * forms it counts them in n_dependent (the factorization then expects a singular K). */
fold_status fold_kkt_null_structural(fold_kkt *kkt, const fold_solver *solver, const char *fn);
/* The parallel (copied) and zero columns of K as pins for the factorization (eq. 4.12c):
 * column col[k] = ratio[k] column partner[k] (partner -1: a zero column). */
typedef struct fold_kkt_pins {
    fold_int n, *col, *partner;
    double *ratio;
} fold_kkt_pins;
void fold_kkt_pins_free(fold_kkt_pins *pins);
/* The null directions that K's entries show (kkt_null_columns.c, eq. 4.12b): parallel
 * columns (two variables entering the problem alike) and zero columns, listed in *pins (may
 * be NULL; fold_kkt_pins_free). A count > 0 makes the factorization expect a singular K. */
fold_int fold_kkt_null_columns(const fold_kkt *kkt, fold_kkt_pins *pins);
/* "x[3], lam[7], ..." naming the null direction (empty when K is regular). */
void fold_kkt_null_describe(const fold_kkt *kkt, char *buf, size_t size);
/* backward.not_unique = refuse and undetermined parameter entries: FOLD_ERR_SINGULAR. */
fold_status fold_kkt_null_check_vjp(const fold_kkt *kkt, const fold_settings *set);
/* Set the undetermined entries of nrhs parameter gradients to NaN, count them in info. */
void fold_kkt_null_mark_vjp(const fold_kkt *kkt, fold_int nrhs, double *pbar,
                            fold_backward_info *info);
/* A direction dp moving undetermined parameter entries: FOLD_ERR_SINGULAR (not
 * differentiable); under refuse, undetermined requested outputs too. */
fold_status fold_kkt_null_check_jvp(fold_kkt *kkt, const fold_settings *set, fold_int nrhs,
                                    const double *dP, bool want_x, bool want_lam, bool want_z);
/* FOLD_ERR_SINGULAR for a jvp whose right-hand side the solve found inconsistent (eq.
 * 4.9) although dp moves no flagged parameter: not differentiable in that direction. */
fold_status fold_kkt_null_not_differentiable(const fold_kkt *kkt);
/* FOLD_ERR_SINGULAR under backward.not_unique = refuse for the column of parameter k
 * (column) or the row of output k of a Jacobian whose solve found it inconsistent. */
fold_status fold_kkt_null_refuse_line(const fold_kkt *kkt, bool column, fold_int k);
/* Set the undetermined entries of one jvp result to NaN, count them in info. */
void fold_kkt_null_mark_jvp(const fold_kkt *kkt, double *dx, double *dlam, double *dzl, double *dzu,
                            fold_backward_info *info);
/* Is entry k of block `of` undetermined? (false when K is regular) */
bool fold_kkt_null_entry(const fold_kkt *kkt, fold_block of, fold_int k);
/* Gather the current values into K. */
void fold_kkt_fill(fold_kkt *kkt);

/* --- right-hand sides and results (kkt_rhs.c) --- all blocks column-major, nrhs columns.
 * JVP (eq. 3.8): B (nK x nrhs) from directions dP (np x nrhs). */
fold_status fold_kkt_rhs_jvp(fold_kkt *kkt, fold_int nrhs, const double *dP, double *B);
/* From the solution U (nK x nrhs) of K U = B to dx (n), dlam (m), dzl, dzu (n) per column
 * (any output may be NULL; leading dimensions n and m). */
void fold_kkt_finish_jvp(fold_kkt *kkt, fold_int nrhs, const double *dP, const double *U,
                         double *dx, double *dlam, double *dzl, double *dzu);
/* VJP (eq. 3.10): B (nK x nrhs) and the bound term C (n x nrhs) from upstream gradients
 * (any may be NULL = zero; leading dimensions n, m, n, n). C may be NULL when zlbar and zubar
 * are (the bound term is then zero); fold_kkt_finish_vjp takes the same C. */
fold_status fold_kkt_rhs_vjp(fold_kkt *kkt, fold_int nrhs, const double *xbar, const double *lambar,
                             const double *zlbar, const double *zubar, double *B, double *C);
/* pbar (np x nrhs) from W = K^{-1} B and C (eq. 3.11); with cols (n_cols of them) only
 * those entries of each column of pbar are computed (the others are left partial). */
void fold_kkt_finish_vjp(const fold_kkt *kkt, fold_int nrhs, const double *W, const double *C,
                         fold_int n_cols, const fold_int *cols, double *pbar);

/* y = P x (transpose: P' x; y += when accumulate) for a callback pattern P with values v
 * (kkt_eval.c, with the products below). */
void fold_kkt_pattern_mul(const fold_owned_pattern *P, const double *v, bool transpose,
                          const double *x, double *y, fold_int len, bool accumulate);
/* Products with H (lower triangle mirrored), J and J' at the solution, added to y. */
void fold_kkt_hmul_add(const fold_kkt *kkt, const double *x, double *y);
void fold_kkt_jmul_add(const fold_kkt *kkt, const double *x, double *y);
void fold_kkt_jtmul_add(const fold_kkt *kkt, const double *x, double *y);

/* --- bounds moving with p (kkt_bounds.c, doc/math.md §3.10); no-ops without them --- */
/* Add to tx = L_xp dp and tc = g_p dp the bound terms of the form (db: scratch n). */
void fold_kkt_bound_rhs(const fold_kkt *kkt, const double *dp, double *tx, double *tc, double *db);
/* Active form: dx of the held variables, which follow their bounds. */
void fold_kkt_bound_finish(const fold_kkt *kkt, const double *dp, double *vx);
/* Barrier form: the bound terms of dzl_j, dzu_j. */
void fold_kkt_bound_dz(const fold_kkt *kkt, const double *dp, fold_int j, double *dzl, double *dzu);
/* The transposes into pbar (one right-hand side): wx = w_x - c, c (may be NULL), wl = w_lam,
 * and the upstream gradients (any may be NULL). */
void fold_kkt_bound_vjp(const fold_kkt *kkt, const double *wx, const double *c, const double *wl,
                        const double *xbar, const double *zlbar, const double *zubar, double *pbar);
/* The bound terms of the optimal value's gradient (eq. 3.30), added to grad. */
void fold_kkt_bound_value_gradient(const fold_solver *solver, double *grad);

/* --- comparison runs over the primary factorization (kkt_border.c, doc/math.md §4.9) --- */
/* Is the primary system to be set aside while a run (a variant of the candidates or of the
 * central-path check) starting now builds its own: active form, direct method, assembled
 * H, the primary factored, not backward.variant_refactor? Then it comes back unfactored,
 * and a variant over a regular primary is solved over its factorization (bordered). */
bool fold_kkt_border_wanted(const fold_kkt *kkt, const fold_settings *set);
/* Move the primary system (K, positions, factorization) aside; sys and fac are then empty. */
fold_status fold_kkt_border_stash(fold_kkt *kkt);
/* After the run's K is assembled and checked: its bordered solve over the primary
 * factorization (exact, pinned or regularized), with the run's null space when it has one;
 * false (and nothing kept) when the run changes too many rows, K is structurally singular
 * or the capacitance matrix is near singular: it is factored then. */
bool fold_kkt_border_setup(fold_kkt *kkt, const fold_settings *set, fold_status *st);
/* Solves of the current run (kkt->border.run set): X = K^{-1} B refined against K;
 * FOLD_WARN_INACCURATE when a column misses backward.refine_tol (the caller factors K).
 * Over a regularized primary, bad[c] = 1 (*n_bad of them) for a column that misses eq. 4.9
 * (the caller's GMRES, preconditioned by fold_kkt_border_apply, tells slow from
 * inconsistent); fold_kkt_border_delta is then the primary's delta (else 0). */
fold_status fold_kkt_border_solve(fold_kkt *kkt, const fold_settings *set, bool transpose,
                                  fold_int nrhs, const double *B, double *X, double *residual,
                                  unsigned char *bad, fold_int *n_bad);
fold_status fold_kkt_border_apply(fold_kkt *kkt, bool transpose, const double *r, double *z);
double fold_kkt_border_delta(const fold_kkt *kkt);
/* After a solve of the primary run and its rescue of eq. 4.9 (nrhs columns, bad as
 * fold_system's solved, or NULL; an inconsistent column is kept but not taken): its
 * right-hand sides and solutions kept for the comparison runs of the call, within a memory
 * cap; _forget clears them (a new primary run starts). */
void fold_kkt_border_record(fold_kkt *kkt, const fold_settings *set, fold_int nrhs, const double *B,
                            const double *X, const unsigned char *bad);
void fold_kkt_border_forget(fold_kkt *kkt);
/* The run's bordered solve released (its K is factored after all, or the run ends). */
void fold_kkt_border_end_run(fold_kkt *kkt);
/* The primary classification is back: the run's system released and the primary's moved
 * back (returns false when none is aside). */
bool fold_kkt_border_restore(fold_kkt *kkt);
/* Free what is aside (another solution); _free also the arrays (the state freed). */
void fold_kkt_border_drop(fold_kkt *kkt);
void fold_kkt_border_free(fold_kkt *kkt);
/* --- factorization (kkt_factor.c) --- */
/* Factor K (rebuilt: a new pattern, analyzed anew); keep: the primary's factorization is
 * kept aside (UMFPACK) while K holds a variant's values. Then the null space of a
 * regularized (singular) K; *probe_s its seconds. */
fold_status fold_kkt_factorize(fold_kkt *kkt, const fold_settings *set, bool rebuilt, bool keep,
                               const char *fn, double *probe_s);
/* Factor the current run's K after all: its bordered solve missed the refinement
 * tolerance. */
fold_status fold_kkt_factor_run(fold_kkt *kkt, const fold_settings *set);

/* --- the KKT system in the backward engine (kkt_system.c, kkt_precond.c; engine.h) --- */
/* Solve K X = B with the engine (fold_system_solve): the factorization (or the least-squares
 * fallback), or the iterative method of backward.method; updates info (solve_s, residual,
 * n_rhs, iterations, reason, precond). With a regularized factorization, a column not
 * orthogonal to the null space of K (eq. 4.9) that GMRES cannot rescue fails the call with
 * FOLD_ERR_SINGULAR (not unique) when bad is NULL; with bad (nrhs entries) it is flagged
 * there instead (bad[c] = 1, its X column unusable) and the other columns are returned.
 * Under backward.lsq_fallback every column is solved by least squares instead and none is
 * flagged. */
fold_status fold_kkt_solve(fold_kkt *kkt, const fold_settings *set, fold_int nrhs, const double *B,
                           double *X, unsigned char *bad, fold_backward_info *info);
/* The engine's view of the current K (engine.h); what (32 bytes) names it in messages. */
fold_system fold_kkt_system(fold_kkt *kkt, char *what, size_t len);
/* Settings check of every fold call (method and preconditioner known). The needs that
 * depend on the system (CG and MINRES with a factorization need no multiplier rows) are
 * checked by the engine: FOLD_ERR_UNSUPPORTED. */
fold_status fold_kkt_iter_check(const fold_settings *set, const char *fn);
/* Does the backward method need a (new) factorization of K at the current solution? */
bool fold_kkt_iter_wants_factor(fold_kkt *kkt, const fold_settings *set);
/* The block preconditioner of eq. 3.23 of the current K (cached per solution; diag_primal:
 * its primal block replaced by D, SPD), its apply, and the positive diagonal d of eq. 3.22
 * (jacobi). */
fold_status fold_kkt_pc_setup(fold_kkt *kkt, bool diag_primal, fold_backward_info *info,
                              const char *fn);
fold_status fold_kkt_pc_apply(void *pc, bool transpose, const double *r, double *z);
void fold_kkt_pc_diagonal(const fold_kkt *kkt, double *d);
void fold_kkt_pc_free(fold_kkt_pc *pc);
/* K's values changed at the same solution and order (a variant or path run): rebuild. */
void fold_kkt_pc_invalidate(fold_kkt_pc *pc);

/* --- the trust report (report.c) --- */
void fold_report_clear(fold_kkt *kkt);
void fold_report_free(fold_kkt *kkt);
/* A side item (ambiguous, weak, dependent); returns its index, -1 out of memory. */
fold_int fold_report_side(fold_kkt *kkt, int kind, bool con, fold_int index, int side, double slack,
                          double multiplier);
/* An entry item of the call's result; returns its index, -1 out of memory. */
fold_int fold_report_entry(fold_kkt *kkt, int kind, int block, fold_int entry, fold_int row,
                           fold_int col, double value, double lo, double hi);
/* Record that side item `item` affects result entry `entry` (in its owner's list). */
fold_status fold_report_affect(fold_kkt *kkt, fold_int item, fold_int entry);
/* Side item `item` affects exactly the entries `owner` does (an item added before it): one
 * list for both, which the report hands out for both (doc/api/fold.md "Trust"). */
void fold_report_share(fold_kkt *kkt, fold_int item, fold_int owner);
fold_int fold_report_count(const fold_kkt *kkt, fold_trust_kind kind);
/* The sides of the report that move entries of the result: their count, and the names of
 * the first four ("a, b, c, d and 3 more") into buf. */
fold_int fold_report_movers(const fold_kkt *kkt, char *buf, size_t len);
/* Sort the affected entries of every item and drop repeats (several variants flag one). */
void fold_report_unique(fold_kkt *kkt);

/* --- both classifications of the candidates (variants.c, doc/math.md §3.2) --- */
/* Computes a call's result (`out`, in the layout below) at the current variant. */
typedef fold_status (*fold_result_fn)(fold_solver *solver, void *ctx, double *out, fold_call *call);
/* A result of rows x cols entries (column-major; a vector is one column). Each column is
 * split into groups by the kinds of its rows, and an entry is judged against the largest
 * entry of its group (doc/math.md §3.2): row_kind[r] in 0 .. n_kinds - 1, or -1 for a row
 * judged against the largest entry of the whole result (the changes of multipliers); NULL:
 * every row of kind 0. locate gives an entry's block, output row and parameter column for
 * the report. */
typedef struct fold_result_layout {
    fold_int rows, cols, n_kinds;
    const fold_int *row_kind;
    /* the kind of each column (its parameter's, fold_nlp_def.p_kind) in 0 .. n_col_kinds - 1:
     * what the comparisons take from "the whole result" (the largest entry, the zeros of each
     * kind, the rounding level) comes from the columns of the entry's kind only; NULL: one */
    const fold_int *col_kind;
    fold_int n_col_kinds;
    double input; /* largest magnitude of the call's input (dp, the upstream gradients; 1 for
                     a Jacobian's unit directions): differences below DBL_EPSILON times it are
                     rounding, whatever the size of the result */
    void (*locate)(const void *ctx, fold_int k, int *block, fold_int *row, fold_int *col);
    const void *locate_ctx;
} fold_result_layout;
/* The number of column kinds of a layout (1 without col_kind). */
static inline fold_int fold_col_kinds(const fold_result_layout *L)
{
    return L->col_kind ? L->n_col_kinds : 1;
}
/* Relative tolerance of comparisons: max(backward.tol, the accuracy of the solution). */
double fold_trust_tol(const fold_solver *solver);
/* Report the candidates, weakly active and dependent sides of the current classification. */
fold_status fold_report_sides(fold_kkt *kkt, const fold_solver *solver);
/* Compute the result under every variant of the candidates (active form, not under
 * ambiguity = ignore) and set the entries of `out` that differ to NaN, reported as
 * uncertain. */
fold_status fold_variants_compare(fold_solver *solver, fold_result_fn run, void *ctx,
                                  const fold_result_layout *L, double *out, fold_call *call);

/* --- one-sided derivatives of the optimal value (value_kink.c, value_twins.c, §3.7) --- */
/* Increments of the left (dlo) and right (dhi) derivatives over the envelope gradient at the
 * solution's multipliers, per parameter; unknown[k] where they could not be resolved. */
fold_status fold_value_kinks(fold_solver *solver, double *dlo, double *dhi, unsigned char *unknown,
                             const char *fn);
fold_status fold_value_twins(fold_solver *solver, const signed char *xs, const unsigned char *held,
                             double *dlo, double *dhi, unsigned char *unknown);

/* --- public-call bookkeeping of the KKT fold (call.c; call.h for every fold) --- */
/* Stop the clock and turn the call's outcome into the returned status: errors pass through;
 * warnings in the order least squares, unconverged input, one-sided, inaccurate residual. */
fold_status fold_call_end(fold_call *call, fold_status st, const fold_solver *solver,
                          const char *fn);
/* After a call's primary result `out` (NULL when it failed; layout L): the report of the
 * sides and (nan_entries) of the undetermined entries, then fold_variants_compare
 * (variants.c). */
fold_status fold_call_report(fold_solver *solver, fold_result_fn run, void *ctx,
                             const fold_result_layout *L, double *out, bool nan_entries,
                             fold_call *call);
/* dp, or a valid pointer when np = 0 and dp is NULL. */
const double *fold_call_params(const double *dp);

#endif
