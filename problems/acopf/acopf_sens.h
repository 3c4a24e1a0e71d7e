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

#endif
