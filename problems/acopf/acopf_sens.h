/* Internal declarations of the AC-OPF sensitivities (sens_lin.c, sens.c): a solution with
 * the gradients the outputs need, and the outputs' linearization (doc/acopf.md §7). */
#ifndef FOLD_ACOPF_SENS_H
#define FOLD_ACOPF_SENS_H

#include "acopf/acopf_internal.h"

/* A primal-dual solution at p, with grad_x f (n) and grad_p f (np) there; one block. */
typedef struct acopf_point {
    double *x, *lam, *zl, *zu, *p, *grad_f, *grad_f_p;
} acopf_point;

/* do_r = sum over z-terms [zp[r], zp[r+1]) of zc * dz[zb][zi] + sum over p-terms [pp[r],
 * pp[r+1]) of pc * dp[pi]. */
typedef struct acopf_lin {
    fold_int n_out, nz, npt;
    fold_int *zp, *pp;
    int *zb;
    fold_int *zi, *pi;
    double *zc, *pc;
    fold_int cap_zb, cap_zi, cap_zc, cap_pi, cap_pc;
} acopf_lin;

fold_status acopf_lin_build(const fold_acopf *m, const acopf_point *pt, fold_int n_out,
                            const fold_acopf_output *out, acopf_lin *l);
void acopf_lin_free(acopf_lin *l);
/* Append the p-term coef * dp[index] to the output being built; false out of memory. */
bool acopf_lin_add_p(acopf_lin *l, fold_int index, double coef);
/* The p-terms of w times flow e of branch k: its derivative with respect to the branch's r,
 * x, b, tap and shift (sens_lin.c). */
bool acopf_flow_param_terms(const fold_acopf *m, const acopf_point *pt, fold_int k, int e, double w,
                            acopf_lin *l);

/* The trust report of one sensitivity call (sens_trust.c, fold_acopf_trust_report). */
typedef struct acopf_trust acopf_trust;
/* Where the entries of one fold_jvp or fold_jacobian call are: a Jacobian of block `block`
 * (rows: its z indices, n_rows of them; its columns are the acopf result's col0 ..
 * col0 + n_cols), or with rows NULL a jvp's packed dx, dzl, dzu (n each) and dlam. */
typedef struct acopf_zlayout {
    int block;
    const fold_int *rows;
    fold_int n_rows, col0, n_cols, n;
} acopf_zlayout;
void acopf_zlayout_locate(const acopf_zlayout *zl, fold_int k, int *block, fold_int *z,
                          fold_int *col);
/* Value of entry (block, z) in column col of the derivative, and the p-terms of output r in
 * column c (sens.c supplies them from the jvp or the Jacobian blocks). */
typedef double (*acopf_zvalue_fn)(void *ud, int block, fold_int z, fold_int col);
typedef double (*acopf_pterm_fn)(void *ud, fold_int r, fold_int c);

/* Clear this thread's report and start collecting (NULL out of memory: nothing collected). */
acopf_trust *acopf_trust_begin(void);
void acopf_trust_free(acopf_trust *t);
/* The report of the fold_vjp just made (entries are parameters), shifted by the outputs' own
 * p-terms pshift (np). */
fold_status acopf_trust_vjp(const fold_solver *sv, const double *pshift, const char *fn);
/* The report of the fold_jvp / fold_jacobian just made, entries located by zl. */
fold_status acopf_trust_zcall(acopf_trust *t, const fold_solver *sv, const acopf_zlayout *zl,
                              const char *fn);
/* The outputs' entries flagged by the calls collected, into this thread's report: the
 * interval of each from its terms (cols: the result's parameters, NULL for a jvp). */
fold_status acopf_trust_finish(acopf_trust *t, const fold_acopf *m, const acopf_lin *l,
                               const fold_acopf_output *out, const fold_int *cols,
                               acopf_zvalue_fn zvalue, acopf_pterm_fn pterm, void *ud,
                               const char *fn);
/* Count of the items of this thread's report of a kind. */
fold_int acopf_trust_count(fold_trust_kind kind);

#endif
