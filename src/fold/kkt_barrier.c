/* The interior-point (barrier) KKT system at the final iterate (doc/math.md §3.4):
 * [H + Sigma_x, J'; J, -D] with Sigma_x = zl/(x - xL) + zu/(xU - x) and D = 1/Sigma_s on
 * inequality rows (eqs. 3.12-3.14), less the rows condensed out of it (kkt_condense.c,
 * eq. 3.14a). */
#include <float.h>

#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

/* Below this, an inequality's complementarity diagonal Sigma_s is treated as zero: the row
 * is decoupled (dlam_i = 0), which is the limit of -1/Sigma_s -> -inf (§3.4). */
#define FOLD_SIGMA_S_MIN 1e-20

fold_status fold_kkt_build_barrier(fold_kkt *kkt)
{
    fold_int n = kkt->n, m = kkt->m;
    for (fold_int j = 0; j < n; j++)
        kkt->sys.xpos[j] = j;
    fold_int kept = 0;
    /* condensed rows (cwant, eq. 3.14a) are not rows of K */
    for (fold_int i = 0; i < m; i++)
        kkt->sys.cpos[i] = kkt->sys.cwant[i] ? -1 : n + kept++;
    kkt->sys.nK = n + kept;
    kkt->sys.n_primal = n;
    fold_status st = fold_kkt_condense_build(kkt);
    return st < 0 ? st : fold_kkt_build_pattern(kkt);
}

/* Distance to a bound, floored so that an iterate exactly at a bound (an imported point)
 * gives a large but finite Sigma. */
static double floored(double dist, double bound)
{
    double lo = DBL_EPSILON * (1.0 + fabs(bound));
    return dist > lo ? dist : lo;
}

void fold_kkt_barrier_diagonals(fold_kkt *kkt, const fold_solver *solver)
{
    const fold_problem *prob = kkt->prob;
    fold_int n = kkt->n;
    const fold_owned_pattern *hp = fold_kkt_hess_pattern(kkt);
    fold_bounds b = fold_solver_bounds(solver); /* at the solution's p (math.md §2.5) */
    /* Hessian diagonal in w1 (the scale Sigma_x is compared with). */
    memset(kkt->w1, 0, (size_t)kkt->n * sizeof(double));
    kkt->sys.sig_written = true;
    kkt->sys.weights_pending = false;
    for (fold_int k = 0; k < hp->nnz; k++)
        if (hp->row[k] == hp->col[k]) kkt->w1[hp->row[k]] += kkt->val.hv[k];
    fold_kkt_product_hdiag_add(kkt, kkt->w1); /* matrix-free: its estimate */
    for (fold_int j = 0; j < kkt->n; j++) {
        double lo = b.xl[j], hi = b.xu[j], x = solver->x[j];
        bool fl = !fold_is_inf_bound(lo), fu = !fold_is_inf_bound(hi);
        /* Linearizing zl (x - xL) = mu, zu (xU - x) = mu at fixed mu (eq. 3.13). */
        kkt->sys.sigl[j] = fl ? fmax(solver->zl[j], 0.0) / floored(x - lo, lo) : 0.0;
        kkt->sys.sigu[j] = fu ? fmax(solver->zu[j], 0.0) / floored(hi - x, hi) : 0.0;
        /* a variant extrapolates the central path (variants.c, eq. 3.19) */
        kkt->sys.sigl[j] *= fold_kkt_side_factor(kkt, fold_side_of_var(j, 0));
        kkt->sys.sigu[j] *= fold_kkt_side_factor(kkt, fold_side_of_var(j, 1));
        if (fl && fu && lo == hi) {
            /* A fixed variable has no interior: pin it (dx_j = 0 up to 1e-16 relative). */
            double big = (1.0 + fabs(solver->zl[j]) + fabs(solver->zu[j])) / floored(0.0, lo);
            kkt->sys.sigl[j] = kkt->sys.sigu[j] = 0.5 * big;
        }
        kkt->sys.xdiag[j] = kkt->sys.sigl[j] + kkt->sys.sigu[j];
        kkt->sys.al[j] = kkt->sys.au[j] = 0.0;
        /* Where Sigma_x dominates, dx_j ~ r_j / Sigma_x is tiny and Sigma * dx_j would lose
         * all accuracy: take dz from the stationarity row instead (eq. 3.16). */
        if (kkt->sys.xdiag[j] > 1.0 + fabs(kkt->w1[j])) {
            kkt->sys.al[j] = kkt->sys.sigl[j] / kkt->sys.xdiag[j];
            kkt->sys.au[j] = kkt->sys.sigu[j] / kkt->sys.xdiag[j];
            kkt->sys.sigl[j] = kkt->sys.sigu[j] = 0.0;
        }
    }
    for (fold_int i = 0; i < kkt->m; i++) {
        double lo = b.gl[i], hi = b.gu[i], lam = solver->lam[i], g;
        double sig = 0.0;
        if (fold_prob_is_equality(prob, i)) {
            kkt->sys.cdiag[i] = 0.0;
            kkt->sys.jmask[i] = 1.0;
            continue;
        }
        /* Slack s_i = g_i with multipliers vl = max(-lam, 0), vu = max(lam, 0) (eq. 3.14):
         * Sigma_s = vl / (s - gL) + vu / (gU - s). The slack equals g at a converged
         * iterate; the distances come from the constraint values at the solution. */
        g = kkt->cls.gval[i];
        if (lam < 0 && !fold_is_inf_bound(lo))
            sig = -lam / floored(g - lo, lo) * fold_kkt_side_factor(kkt, fold_side_of_con(n, i, 0));
        else if (lam > 0 && !fold_is_inf_bound(hi))
            sig = lam / floored(hi - g, hi) * fold_kkt_side_factor(kkt, fold_side_of_con(n, i, 1));
        if (sig > FOLD_SIGMA_S_MIN) {
            kkt->sys.cdiag[i] = -1.0 / sig;
            kkt->sys.jmask[i] = 1.0;
        } else {
            kkt->sys.cdiag[i] = -1.0;
            kkt->sys.jmask[i] = 0.0;
        }
    }
}
