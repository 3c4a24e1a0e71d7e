/* Preconditioned MINRES (Paige-Saunders) for symmetric, possibly indefinite I - Phi (KKT
 * maps) with a symmetric positive definite M; the Lanczos recurrence minimizes the residual
 * in the M^{-1} norm, and convergence is confirmed on the true residual (doc/iterative.md
 * §2.4). */
#include "fold/krylov/krylov.h"

typedef struct {
    double *r1, *r2, *y, *v, *w, *w1, *w2;
} minres_vecs;

fold_status fold_kry_minres(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                            const double *b, double *x, fold_kry_result *res)
{
    fold_int n = A->n, it = 0;
    double bnorm = fold_kry_nrm2(n, b), rnorm, rel = 0;
    double *buf = fold_malloc((size_t)n * 7, sizeof(double), "MINRES work");
    fold_status st = FOLD_OK;
    res->iterations = 0;
    res->reason = FOLD_REASON_CONVERGED;
    if (!buf) return FOLD_ERR_MEMORY;
    minres_vecs V = {buf, buf + n, buf + 2 * n, buf + 3 * n, buf + 4 * n, buf + 5 * n, buf + 6 * n};
    if (bnorm == 0) {
        memset(x, 0, (size_t)n * sizeof *x);
        fold_kry_record(res, 0);
        goto done;
    }
    for (bool first = true;; first = false) { /* restart from the true residual if needed */
        double beta1, beta, rel_start, oldb = 0, dbar = 0, epsln = 0, phibar, cs = -1, sn = 0, ry;
        if ((st = fold_kry_residual(A, false, b, x, V.r1, &rnorm)) < 0) goto done;
        rel = rnorm / bnorm;
        if (first) fold_kry_record(res, rel);
        if (rel <= prm->tol) goto done;
        if (!isfinite(rel)) {
            res->reason = FOLD_REASON_NAN;
            st = fold_error(FOLD_ERR_NONFINITE, "MINRES: residual is not finite");
            goto done;
        }
        if (it >= prm->max_iter) {
            res->reason = FOLD_REASON_MAX_ITER;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "MINRES: relative residual %.3g > tol "
                            "%.3g after %lld iterations",
                            rel, prm->tol, (long long)it);
            goto done;
        }
        if ((st = fold_kry_precond(M, false, n, V.r1, V.y)) < 0) goto done;
        ry = fold_kry_dot(n, V.r1, V.y);
        if (!(ry > 0)) {
            res->reason = FOLD_REASON_BREAKDOWN;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "MINRES: preconditioner is not positive "
                            "definite (r'M^-1 r = %.3g)",
                            ry);
            goto done;
        }
        beta1 = beta = phibar = sqrt(ry);
        rel_start = rel;
        memcpy(V.r2, V.r1, (size_t)n * sizeof(double));
        memset(V.w, 0, (size_t)n * sizeof(double));
        memset(V.w2, 0, (size_t)n * sizeof(double));
        for (fold_int k = 0; it < prm->max_iter; k++) {
            double alfa, oldeps, delta, gbar, gamma, phi;
            for (fold_int i = 0; i < n; i++)
                V.v[i] = V.y[i] / beta;
            if ((st = A->apply(A->ctx, false, V.v, V.y)) < 0) goto done;
            if (k > 0) fold_kry_axpy(n, -beta / oldb, V.r1, V.y);
            alfa = fold_kry_dot(n, V.v, V.y);
            fold_kry_axpy(n, -alfa / beta, V.r2, V.y);
            memcpy(V.r1, V.r2, (size_t)n * sizeof(double));
            memcpy(V.r2, V.y, (size_t)n * sizeof(double));
            if ((st = fold_kry_precond(M, false, n, V.r2, V.y)) < 0) goto done;
            oldb = beta;
            ry = fold_kry_dot(n, V.r2, V.y);
            if (ry < 0) {
                res->reason = FOLD_REASON_BREAKDOWN;
                st = fold_error(FOLD_ERR_NOT_CONVERGED,
                                "MINRES: preconditioner is not "
                                "positive definite at iteration %lld",
                                (long long)it);
                goto done;
            }
            beta = sqrt(ry);
            oldeps = epsln;
            delta = cs * dbar + sn * alfa;
            gbar = sn * dbar - cs * alfa;
            epsln = sn * beta;
            dbar = -cs * beta;
            gamma = fmax(hypot(gbar, beta), 1e-300);
            cs = gbar / gamma;
            sn = beta / gamma;
            phi = cs * phibar;
            phibar = sn * phibar;
            double *tmp = V.w1; /* rotate w1 <- w2 <- w <- new */
            V.w1 = V.w2;
            V.w2 = V.w;
            V.w = tmp;
            for (fold_int i = 0; i < n; i++)
                V.w[i] = (V.v[i] - oldeps * V.w1[i] - delta * V.w2[i]) / gamma;
            fold_kry_axpy(n, phi, V.w, x);
            it++;
            res->iterations = it;
            rel = phibar / beta1 * rel_start; /* M^{-1}-norm estimate */
            fold_kry_record(res, rel);
            if (!isfinite(rel) || phibar <= prm->tol * beta1 * 0.5 || beta == 0) break;
        }
    }
done:
    res->iterations = it;
    res->residual = rel;
    free(buf);
    return st;
}
