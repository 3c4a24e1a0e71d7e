/* Bounds that move with the parameters in the fold (doc/math.md §3.10): the terms they add
 * to the right-hand sides of both KKT forms, to the results (a held variable moves with its
 * bound; the barrier's bound multipliers), and the transposes for reverse mode. Nothing
 * when the problem has no bound maps. */
#include "fold/fold_internal.h"

/* The bound map of the side variable j is held at (active form), or -1. */
static int held_side(const fold_kkt *kkt, fold_int j)
{
    switch (kkt->cls.xstat[j]) {
    case FOLD_XS_LOWER:
    case FOLD_XS_FIXED:
        return FOLD_BMAP_XL; /* a fixed variable's maps are equal */
    case FOLD_XS_UPPER:
        return FOLD_BMAP_XU;
    default:
        return -1;
    }
}

/* The bound map of the side constraint i is held at: the active side (active form), or the
 * side its multiplier points to (barrier form, rows kept in the system); -1 when none. */
static int row_side(const fold_kkt *kkt, fold_int i)
{
    if (kkt->sys.form == FOLD_KKT_BARRIER) {
        if (fold_prob_is_equality(kkt->prob, i)) return FOLD_BMAP_GL;
        if (kkt->sys.jmask[i] == 0.0) return -1;
        return kkt->solver->lam[i] < 0 ? FOLD_BMAP_GL : FOLD_BMAP_GU;
    }
    switch (kkt->cls.cstat[i]) {
    case FOLD_CS_LOWER:
    case FOLD_CS_EQUALITY:
        return FOLD_BMAP_GL;
    case FOLD_CS_UPPER:
        return FOLD_BMAP_GU;
    default:
        return -1;
    }
}

/* Barrier form: Sigma_L, Sigma_U of variable j (kept as sigl or al Sigma_x, eq. 3.16) and
 * k = al au Sigma_x, the weight of dL - dU in dzl and dzu where Sigma_x dominates. A fixed
 * variable (pinned with Sigma ~ 1/eps) has dL = dU: k is 0 there, not 1e16 times a
 * difference that the transpose would form in rounding. */
static void sigmas(const fold_kkt *kkt, fold_int j, double *sl, double *su, double *k)
{
    fold_bounds b = fold_solver_bounds(kkt->solver);
    *sl = kkt->sys.sigl[j] + kkt->sys.al[j] * kkt->sys.xdiag[j];
    *su = kkt->sys.sigu[j] + kkt->sys.au[j] * kkt->sys.xdiag[j];
    *k = b.xl[j] == b.xu[j] ? 0.0 : kkt->sys.al[j] * kkt->sys.au[j] * kkt->sys.xdiag[j];
}

static bool finite_side(const fold_kkt *kkt, int side, fold_int j)
{
    fold_bounds b = fold_solver_bounds(kkt->solver);
    return !fold_is_inf_bound(side == FOLD_BMAP_XL ? b.xl[j] : b.xu[j]);
}

/* Does a bound of a held variable (active form) move with p? */
static bool held_bound_moves(const fold_kkt *kkt)
{
    const fold_problem *prob = kkt->prob;
    for (fold_int j = 0; j < kkt->n; j++) {
        int s = held_side(kkt, j);
        if (s >= 0 && prob->bmap[s].nnz && prob->bmap[s].ptr[j + 1] > prob->bmap[s].ptr[j])
            return true;
    }
    return false;
}

void fold_kkt_bound_rhs(const fold_kkt *kkt, const double *dp, double *tx, double *tc, double *db)
{
    const fold_problem *prob = kkt->prob;
    if (!prob->has_bound_maps) return;
    fold_int n = kkt->n, m = kkt->m;
    if (kkt->sys.form == FOLD_KKT_BARRIER) {
        /* (3.28): L_xp dp - Sigma_L dxL - Sigma_U dxU; g_p dp - dgS on the kept rows */
        for (fold_int j = 0; j < n; j++) {
            double sl, su, k;
            sigmas(kkt, j, &sl, &su, &k);
            if (finite_side(kkt, FOLD_BMAP_XL, j))
                tx[j] -= sl * fold_prob_bound_dot(prob, FOLD_BMAP_XL, j, dp);
            if (finite_side(kkt, FOLD_BMAP_XU, j))
                tx[j] -= su * fold_prob_bound_dot(prob, FOLD_BMAP_XU, j, dp);
        }
    } else {
        /* (3.27): a held variable moves with its bound, dx_B = C_B dp: its columns of H and
         * J enter the right-hand side like a parameter */
        bool moved = false;
        for (fold_int j = 0; j < n; j++) {
            int s = held_side(kkt, j);
            db[j] = s < 0 ? 0.0 : fold_prob_bound_dot(prob, s, j, dp);
            moved |= db[j] != 0.0;
        }
        if (moved) { /* most directions move no held bound (a Jacobian's unit columns) */
            fold_kkt_hmul_add(kkt, db, tx);
            fold_kkt_jmul_add(kkt, db, tc);
        }
    }
    for (fold_int i = 0; i < m; i++) { /* an active constraint follows its moving bound */
        int s = row_side(kkt, i);
        if (s >= 0) tc[i] -= fold_prob_bound_dot(prob, s, i, dp);
    }
}

void fold_kkt_bound_finish(const fold_kkt *kkt, const double *dp, double *vx)
{
    if (!kkt->prob->has_bound_maps || kkt->sys.form == FOLD_KKT_BARRIER) return;
    for (fold_int j = 0; j < kkt->n; j++) {
        int s = held_side(kkt, j);
        if (s >= 0) vx[j] = fold_prob_bound_dot(kkt->prob, s, j, dp);
    }
}

void fold_kkt_bound_dz(const fold_kkt *kkt, const double *dp, fold_int j, double *dzl, double *dzu)
{
    const fold_problem *prob = kkt->prob;
    if (!prob->has_bound_maps || kkt->sys.form != FOLD_KKT_BARRIER) return;
    double sl, su, k;
    sigmas(kkt, j, &sl, &su, &k);
    double dl =
        finite_side(kkt, FOLD_BMAP_XL, j) ? fold_prob_bound_dot(prob, FOLD_BMAP_XL, j, dp) : 0.0;
    double du =
        finite_side(kkt, FOLD_BMAP_XU, j) ? fold_prob_bound_dot(prob, FOLD_BMAP_XU, j, dp) : 0.0;
    /* dzl = -Sigma_L (dx - dxL), dzu = Sigma_U (dx - dxU) (3.29) */
    *dzl += kkt->sys.sigl[j] * dl + k * (dl - du);
    *dzu += -kkt->sys.sigu[j] * du + k * (dl - du);
}

void fold_kkt_bound_vjp(const fold_kkt *kkt, const double *wx, const double *c, const double *wl,
                        const double *xbar, const double *zlbar, const double *zubar, double *pb)
{
    const fold_problem *prob = kkt->prob;
    if (!prob->has_bound_maps) return;
    fold_int n = kkt->n, m = kkt->m;
    /* q = xbar - H (w_x - c) - J' w_lam: the adjoint's stationarity row without its
     * diagonal, so that Sigma_x w_x = q where Sigma_x dominates (computed from O(1) terms,
     * not as Sigma ~ 1e12 times w_x ~ 1e-12; cf. eq. 3.16) */
    double *q = kkt->w3, *jw = kkt->w4;
    bool barrier = kkt->sys.form == FOLD_KKT_BARRIER;
    bool need_q = barrier || held_bound_moves(kkt); /* else no held bound moves: q unused */
    if (need_q) {
        memset(q, 0, (size_t)n * sizeof(double));
        memset(jw, 0, (size_t)n * sizeof(double));
        fold_kkt_hmul_add(kkt, wx, q);
        fold_kkt_jtmul_add(kkt, wl, jw);
        for (fold_int j = 0; j < n; j++)
            q[j] = (xbar ? xbar[j] : 0.0) - q[j] - jw[j];
    }
    if (barrier) {
        /* transpose of (3.28)-(3.29): Sigma_L w_x, Sigma_U w_x on the bounds' maps, and the
         * upstream gradients of dzl, dzu */
        for (fold_int j = 0; j < n; j++) {
            double sl, su, k, zlb = zlbar ? zlbar[j] : 0.0, zub = zubar ? zubar[j] : 0.0;
            sigmas(kkt, j, &sl, &su, &k);
            bool dominant = kkt->sys.al[j] != 0.0 || kkt->sys.au[j] != 0.0;
            double w = wx[j] + (c ? c[j] : 0.0);
            double lw = dominant ? kkt->sys.al[j] * q[j] : sl * w;
            double uw = dominant ? kkt->sys.au[j] * q[j] : su * w;
            if (finite_side(kkt, FOLD_BMAP_XL, j))
                fold_prob_bound_axpy(prob, FOLD_BMAP_XL, j,
                                     lw + (kkt->sys.sigl[j] + k) * zlb + k * zub, pb);
            if (finite_side(kkt, FOLD_BMAP_XU, j))
                fold_prob_bound_axpy(prob, FOLD_BMAP_XU, j,
                                     uw - kkt->sys.sigu[j] * zub - k * (zlb + zub), pb);
        }
    } else if (need_q) {
        /* transpose of (3.27): held j gets C' ((H (w_x - c))_j + (J' w_lam)_j), and its own
         * upstream gradient xbar_j (dx_j = C_j dp): C' q */
        for (fold_int j = 0; j < n; j++) {
            int s = held_side(kkt, j);
            if (s >= 0) fold_prob_bound_axpy(prob, s, j, q[j], pb);
        }
    }
    for (fold_int i = 0; i < m; i++) {
        int s = row_side(kkt, i);
        if (s >= 0) fold_prob_bound_axpy(prob, s, i, wl[i], pb);
    }
}

void fold_kkt_bound_value_gradient(const fold_solver *solver, double *grad)
{
    const fold_problem *prob = solver->prob;
    if (!prob->has_bound_maps) return;
    fold_bounds b = fold_solver_bounds(solver);
    /* d/dp of zl'(xL(p) - x) + zu'(x - xU(p)) and of the constraints' bound terms
     * (math.md eq. 3.30): + zl C_xL - zu C_xU - lam_i C_side(i) */
    for (fold_int j = 0; j < prob->n; j++) {
        if (!fold_is_inf_bound(b.xl[j]))
            fold_prob_bound_axpy(prob, FOLD_BMAP_XL, j, solver->zl[j], grad);
        if (!fold_is_inf_bound(b.xu[j]))
            fold_prob_bound_axpy(prob, FOLD_BMAP_XU, j, -solver->zu[j], grad);
    }
    for (fold_int i = 0; i < prob->m; i++) {
        double lam = solver->lam[i];
        int s = fold_prob_is_equality(prob, i) || lam < 0 ? FOLD_BMAP_GL : FOLD_BMAP_GU;
        fold_prob_bound_axpy(prob, s, i, -lam, grad);
    }
}
