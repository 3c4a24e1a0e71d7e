/* Right-hand sides and results of the fold solves for both KKT forms (doc/math.md §3.3-3.4):
 * JVP eqs. 3.8-3.9 and 3.16 (bound multipliers from dx and the stationarity residual),
 * VJP eqs. 3.10-3.11. */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

/* y (len) = P dp (or += when accumulate), over the parameters with dp != 0 only: the
 * entries of parameter j are idx[ptr[j] .. ptr[j+1]). */
static void pmul(const fold_owned_pattern *P, const fold_int *ptr, const fold_int *idx,
                 const double *v, const double *dp, fold_int np, double *y, fold_int len,
                 bool accumulate)
{
    if (!accumulate) memset(y, 0, (size_t)len * sizeof(double));
    for (fold_int j = 0; j < np; j++) {
        if (dp[j] == 0) continue;
        for (fold_int q = ptr[j]; q < ptr[j + 1]; q++)
            y[P->row[idx[q]]] += v[idx[q]] * dp[j];
    }
}

/* (P' x)[j] for parameter j alone. */
static double pdot(const fold_owned_pattern *P, const fold_int *ptr, const fold_int *idx,
                   const double *v, const double *x, fold_int j)
{
    double s = 0;
    for (fold_int q = ptr[j]; q < ptr[j + 1]; q++)
        s += v[idx[q]] * x[P->row[idx[q]]];
    return s;
}

/* y = H x. */
static void hmul(const fold_kkt *kkt, const double *x, double *y)
{
    memset(y, 0, (size_t)kkt->n * sizeof(double));
    fold_kkt_hmul_add(kkt, x, y);
}

static double cmask(const fold_kkt *kkt, fold_int i)
{
    return kkt->sys.form == FOLD_KKT_BARRIER ? kkt->sys.jmask[i] : 1.0;
}

/* b = sign S [vx; vl] restricted to the rows of K (the kept variables and constraints). */
static void scatter_scaled(const fold_kkt *kkt, double sign, const double *vx, const double *vl,
                           double *b)
{
    for (fold_int j = 0; j < kkt->n; j++)
        if (kkt->sys.xpos[j] >= 0)
            b[kkt->sys.xpos[j]] = sign * vx[j] * kkt->sys.kscale[kkt->sys.xpos[j]];
    for (fold_int i = 0; i < kkt->m; i++)
        if (kkt->sys.cpos[i] >= 0)
            b[kkt->sys.cpos[i]] = sign * vl[i] * cmask(kkt, i) * kkt->sys.kscale[kkt->sys.cpos[i]];
}

fold_status fold_kkt_rhs_jvp(fold_kkt *kkt, fold_int nrhs, const double *dP, double *B)
{
    fold_status st;
    fold_int n = kkt->n, m = kkt->m, np = kkt->np, nK = kkt->sys.nK;
    double *tx = kkt->w1, *tc = kkt->w2;
    for (fold_int c = 0; c < nrhs; c++) {
        const double *dp = dP + c * np;
        double *b = B + c * nK;
        /* eq. 3.8: right-hand side -[L_xp,F dp; g_p,A dp]. */
        if (!fold_kkt_lxp_product(kkt, false, dp, tx, false))
            pmul(&kkt->prob->hess_lp, kkt->val.lp_ptr, kkt->val.lp_idx, kkt->val.lpv, dp, np, tx, n,
                 false);
        pmul(&kkt->prob->jac_g_p, kkt->val.gp_ptr, kkt->val.gp_idx, kkt->val.gpv, dp, np, tc, m,
             false);
        fold_kkt_bound_rhs(kkt, dp, tx, tc, kkt->w3); /* moving bounds (math.md §3.10) */
        /* condensed rows fold into the primal part (eq. 3.14a): b = -[tx; tc] */
        if ((st = fold_kkt_condense_rhs(kkt, c, -1.0, tx, tc)) < 0) return st;
        scatter_scaled(kkt, -1.0, tx, tc, b);
    }
    return FOLD_OK;
}

void fold_kkt_finish_jvp(fold_kkt *kkt, fold_int nrhs, const double *dP, const double *U,
                         double *dx, double *dlam, double *dzl, double *dzu)
{
    fold_int n = kkt->n, m = kkt->m, np = kkt->np, nK = kkt->sys.nK;
    double *vx = kkt->w3, *vl = kkt->w4, *r = kkt->w1;
    if (dzl || dzu) fold_kkt_weights(kkt);
    for (fold_int c = 0; c < nrhs; c++) {
        const double *u = U + c * nK;
        for (fold_int j = 0; j < n; j++)
            vx[j] = kkt->sys.xpos[j] >= 0 ? u[kkt->sys.xpos[j]] * kkt->sys.kscale[kkt->sys.xpos[j]]
                                          : 0.0;
        for (fold_int i = 0; i < m; i++)
            vl[i] = kkt->sys.cpos[i] >= 0 ? u[kkt->sys.cpos[i]] * kkt->sys.kscale[kkt->sys.cpos[i]]
                                          : 0.0;
        /* the condensed rows' multipliers from dx (eq. 3.14a) */
        if (kkt->sys.nc > 0)
            fold_kkt_condense_finish(kkt, kkt->sys.crhs + (size_t)c * (size_t)kkt->sys.nc, vx, vl);
        fold_kkt_bound_finish(kkt, dP + c * np, vx); /* held variables follow their bounds */
        if (dx) memcpy(dx + c * n, vx, (size_t)n * sizeof(double));
        if (dlam && m) memcpy(dlam + c * m, vl, (size_t)m * sizeof(double));
        if (!dzl && !dzu) continue;
        /* Stationarity residual r = H dx + J' dlam + L_xp dp (eq. 3.9, 3.16). */
        hmul(kkt, vx, r);
        fold_kkt_pattern_mul(&kkt->prob->jac_g, kkt->val.jv, true, vl, r, n, true);
        if (!fold_kkt_lxp_product(kkt, false, dP + c * np, r, true))
            pmul(&kkt->prob->hess_lp, kkt->val.lp_ptr, kkt->val.lp_idx, kkt->val.lpv, dP + c * np,
                 np, r, n, true);
        for (fold_int j = 0; j < n; j++) {
            double zl = kkt->sys.al[j] * r[j] - kkt->sys.sigl[j] * vx[j];
            double zu = -kkt->sys.au[j] * r[j] + kkt->sys.sigu[j] * vx[j];
            fold_kkt_bound_dz(kkt, dP + c * np, j, &zl, &zu);
            if (dzl) dzl[c * n + j] = zl;
            if (dzu) dzu[c * n + j] = zu;
        }
    }
}

fold_status fold_kkt_rhs_vjp(fold_kkt *kkt, fold_int nrhs, const double *xbar, const double *lambar,
                             const double *zlbar, const double *zubar, double *B, double *C)
{
    fold_status st;
    fold_int n = kkt->n, m = kkt->m, nK = kkt->sys.nK;
    double *vx = kkt->w1, *vl = kkt->w2;
    if (C) fold_kkt_weights(kkt);
    /* fold_kkt_finish_vjp needs them for moving bounds (math.md §3.10): the caller's arrays
     * stay alive from here to there */
    kkt->up_x = xbar;
    kkt->up_zl = zlbar;
    kkt->up_zu = zubar;
    for (fold_int c = 0; c < nrhs; c++) {
        double *b = B + c * nK;
        const double *xb = xbar ? xbar + c * n : NULL, *lb = lambar ? lambar + c * m : NULL;
        const double *zlb = zlbar ? zlbar + c * n : NULL, *zub = zubar ? zubar + c * n : NULL;
        /* eq. 3.10: c = al zlbar - au zubar; v = [xbar - sigl zlbar + sigu zubar + H c;
         * lambar + J c], restricted to the rows of K. Without zlbar and zubar (C NULL):
         * c = 0 and v = [xbar; lambar]. */
        if (!C && kkt->sys.nc == 0) {
            for (fold_int j = 0; j < n; j++) {
                fold_int t = kkt->sys.xpos[j];
                if (t >= 0) b[t] = (xb ? xb[j] : 0.0) * kkt->sys.kscale[t];
            }
            for (fold_int i = 0; i < m; i++) {
                fold_int t = kkt->sys.cpos[i];
                if (t >= 0) b[t] = (lb ? lb[i] : 0.0) * cmask(kkt, i) * kkt->sys.kscale[t];
            }
            continue;
        }
        if (!C) { /* condensed rows (eq. 3.14a): v = [xbar; lambar] folded */
            for (fold_int j = 0; j < n; j++)
                vx[j] = xb ? xb[j] : 0.0;
            for (fold_int i = 0; i < m; i++)
                vl[i] = lb ? lb[i] : 0.0;
            if ((st = fold_kkt_condense_rhs(kkt, c, 1.0, vx, vl)) < 0) return st;
            scatter_scaled(kkt, 1.0, vx, vl, b);
            continue;
        }
        double *cc = C + c * n;
        for (fold_int j = 0; j < n; j++) {
            double zl = zlb ? zlb[j] : 0.0, zu = zub ? zub[j] : 0.0;
            cc[j] = kkt->sys.al[j] * zl - kkt->sys.au[j] * zu;
        }
        hmul(kkt, cc, vx);
        fold_kkt_pattern_mul(&kkt->prob->jac_g, kkt->val.jv, false, cc, vl, m, false);
        for (fold_int j = 0; j < n; j++) {
            double zl = zlb ? zlb[j] : 0.0, zu = zub ? zub[j] : 0.0;
            vx[j] += (xb ? xb[j] : 0.0) - kkt->sys.sigl[j] * zl + kkt->sys.sigu[j] * zu;
        }
        for (fold_int i = 0; i < m; i++)
            vl[i] += lb ? lb[i] : 0.0;
        if ((st = fold_kkt_condense_rhs(kkt, c, 1.0, vx, vl)) < 0) return st;
        scatter_scaled(kkt, 1.0, vx, vl, b);
    }
    return FOLD_OK;
}

void fold_kkt_finish_vjp(const fold_kkt *kkt, fold_int nrhs, const double *W, const double *C,
                         fold_int n_cols, const fold_int *cols, double *pbar)
{
    fold_int n = kkt->n, m = kkt->m, np = kkt->np, nK = kkt->sys.nK;
    double *wx = kkt->w1, *wl = kkt->w2; /* the scratch of fold_kkt_rhs_vjp, spent by now */
    for (fold_int c = 0; c < nrhs; c++) {
        const double *w = W + c * nK, *cc = C ? C + c * n : NULL;
        double *pb = pbar + c * np;
        /* eq. 3.11: pbar = -(L_xp' (w_x - c) + g_p' w_lam). */
        for (fold_int j = 0; j < n; j++)
            wx[j] = kkt->sys.xpos[j] >= 0 ? w[kkt->sys.xpos[j]] * kkt->sys.kscale[kkt->sys.xpos[j]]
                                          : 0.0;
        for (fold_int i = 0; i < m; i++)
            wl[i] = kkt->sys.cpos[i] >= 0
                        ? w[kkt->sys.cpos[i]] * cmask(kkt, i) * kkt->sys.kscale[kkt->sys.cpos[i]]
                        : 0.0;
        /* the condensed rows from the solution's w_x (eq. 3.14a) */
        if (kkt->sys.nc > 0)
            fold_kkt_condense_finish(kkt, kkt->sys.crhs + (size_t)c * (size_t)kkt->sys.nc, wx, wl);
        if (cc)
            for (fold_int j = 0; j < n; j++)
                wx[j] -= cc[j];
        if (cols) { /* the requested parameters only (fold_jacobian's columns) */
            /* L_xp' wx by products: all of it at once, then the requested entries */
            bool by_products = fold_kkt_lxp_product(kkt, true, wx, pb, false);
            if (!by_products) memset(pb, 0, (size_t)np * sizeof(double));
            for (fold_int q = 0; q < n_cols; q++) {
                fold_int j = cols[q];
                double lx = by_products ? pb[j]
                                        : pdot(&kkt->prob->hess_lp, kkt->val.lp_ptr,
                                               kkt->val.lp_idx, kkt->val.lpv, wx, j);
                pb[j] = -(lx + pdot(&kkt->prob->jac_g_p, kkt->val.gp_ptr, kkt->val.gp_idx,
                                    kkt->val.gpv, wl, j));
            }
        } else {
            if (!fold_kkt_lxp_product(kkt, true, wx, pb, false))
                fold_kkt_pattern_mul(&kkt->prob->hess_lp, kkt->val.lpv, true, wx, pb, np, false);
            fold_kkt_pattern_mul(&kkt->prob->jac_g_p, kkt->val.gpv, true, wl, pb, np, true);
            for (fold_int k = 0; k < np; k++)
                pb[k] = -pb[k];
        }
        fold_kkt_bound_vjp(kkt, wx, cc, wl, kkt->up_x ? kkt->up_x + c * n : NULL,
                           kkt->up_zl ? kkt->up_zl + c * n : NULL,
                           kkt->up_zu ? kkt->up_zu + c * n : NULL, pb);
    }
}
