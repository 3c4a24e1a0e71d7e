/* The KKT fold of a problem that gives products instead of matrices (doc/math.md §3.9 "The
 * matrix-free operator"; doc/api/problem.md "Hessian forms"): with FOLD_HESS_PRODUCT and an
 * iterative backward method the KKT operator multiplies by hess_l_v and K is assembled
 * without its Hessian block (J, the barrier diagonals, the scaling and the active-set
 * structure as in the assembled K); the preconditioner replaces the primal block by a
 * diagonal estimated from a few products. hess_lp_v replaces the pattern of L_xp in the
 * right-hand sides and results. */
#ifndef FOLD_KKT_PRODUCT_H
#define FOLD_KKT_PRODUCT_H

#include "fold/fold_internal.h"

/* Does a call with these settings fold prob matrix-free: FOLD_HESS_PRODUCT, an iterative
 * method and a preconditioner that is not a factorization of K (exact, nearby)? */
bool fold_kkt_product_wanted(const fold_problem *prob, const fold_settings *set);

/* Before the setup of a call: allocate the product state when the problem has products and
 * choose the mode for the settings; *changed when the mode changed (the caller then releases
 * K, its factorization and its preconditioner: K is assembled with or without H). */
fold_status fold_kkt_product_select(fold_kkt *kkt, const fold_settings *set, bool *changed);

/* Is the current K assembled without H (the operator adds H by products)? */
bool fold_kkt_product_active(const fold_kkt *kkt);

/* The Hessian pattern K is assembled with: the problem's, or an empty one when matrix-free. */
const fold_owned_pattern *fold_kkt_hess_pattern(const fold_kkt *kkt);

/* The counters of the product callbacks (NULL without a product state). */
fold_eval_stats *fold_kkt_product_stats(fold_kkt *kkt);
/* Count n products made elsewhere for the call (the classification's diagonal estimate). */
void fold_kkt_product_count(fold_kkt *kkt, fold_int n);

/* Matrix-free: the diagonal estimate of H at the solution (FOLD_HESS_DIAG_PROBES products),
 * after the other callbacks were evaluated. No-op otherwise. */
fold_status fold_kkt_product_estimate(fold_kkt *kkt);

/* Matrix-free: the estimate at the positions of K (unscaled; called by fold_kkt_fill before
 * it scales K). No-op otherwise. */
void fold_kkt_product_positions(fold_kkt *kkt);

/* The estimate of H_tt at position t of K (0 off the primal rows or when not matrix-free);
 * scaled: times kscale[t]^2, as the stored S K S. */
double fold_kkt_product_hdiag(const fold_kkt *kkt, fold_int t, bool scaled);

/* Add the estimate of diag(H) (n, by variable) to d. No-op when not matrix-free. */
void fold_kkt_product_hdiag_add(const fold_kkt *kkt, double *d);

/* y += S P' H P S x by one product: what the operator adds to S K0 S x when matrix-free
 * (eq. 3.24; P the primal rows of K). */
fold_status fold_kkt_product_apply_h(fold_kkt *kkt, const double *x, double *y);

/* y += H x by one product (matrix-free). A failure is kept and returned by the call's end
 * (the right-hand-side builders return nothing). */
void fold_kkt_product_hmul_add(const fold_kkt *kkt, const double *x, double *y);

/* With hess_lp_v: y = L_xp v (transpose: L_xp' v; np entries), or += when accumulate;
 * returns true. Without it: false, nothing done (the caller uses the pattern). */
bool fold_kkt_lxp_product(const fold_kkt *kkt, bool transpose, const double *v, double *y,
                          bool accumulate);

/* With hess_lp_v: s += L_xp' v and, as the magnitude the cancellation test of kkt_null.c
 * compares s with, a += |L_xp' v| + |L_xp' |v||; returns true. Without it: false. */
bool fold_kkt_lxp_accumulate(const fold_kkt *kkt, const double *v, double *s, double *a);

/* The public call's bookkeeping: begin marks the counter; end writes n_hess_products into info
 * and turns a product failure in a right-hand side or result into the call's error. */
void fold_kkt_product_call_begin(fold_kkt *kkt);
fold_status fold_kkt_product_call_end(const fold_kkt *kkt, fold_backward_info *info, fold_status st,
                                      const char *fn);

void fold_kkt_product_free(fold_kkt *kkt);

#endif
