/* BiCGSTAB (van der Vorst), right-preconditioned; restarts from the true residual when the
 * recursive one has drifted (doc/iterative.md §2.3). */
#include "fold/krylov/krylov.h"

fold_status fold_kry_bicgstab(const fold_kry_op *A, const fold_kry_pc *M,
                              const fold_kry_params *prm, const double *b, double *x,
                              fold_kry_result *res)
{
    fold_int n = A->n, it = 0;
    bool tr = prm->transpose;
    double bnorm = fold_kry_nrm2(n, b), rnorm, rel;
    double *buf = fold_malloc((size_t)n * 7, sizeof(double), "BiCGSTAB work");
    fold_status st = FOLD_OK;
    res->iterations = 0;
    res->reason = FOLD_REASON_CONVERGED;
    if (!buf) return FOLD_ERR_MEMORY;
    double *r = buf, *rh = buf + n, *p = buf + 2 * n, *v = buf + 3 * n, *ph = buf + 4 * n;
    double *sh = buf + 5 * n, *t = buf + 6 * n;
    if (bnorm == 0) {
        memset(x, 0, (size_t)n * sizeof *x);
        res->residual = 0;
        fold_kry_record(res, 0);
        goto done;
    }
    for (;;) { /* (re)start from the true residual */
        if ((st = fold_kry_residual(A, tr, b, x, r, &rnorm)) < 0) goto done;
        rel = rnorm / bnorm;
        res->residual = rel;
        if (it == 0) fold_kry_record(res, rel);
        if (!isfinite(rel)) {
            res->reason = FOLD_REASON_NAN;
            st = fold_error(FOLD_ERR_NONFINITE,
                            "BiCGSTAB: residual is not finite after %lld "
                            "iterations",
                            (long long)it);
            goto done;
        }
        if (rel <= prm->tol) goto done;
        if (it >= prm->max_iter) {
            res->reason = FOLD_REASON_MAX_ITER;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "BiCGSTAB: relative residual %.3g > tol "
                            "%.3g after %lld iterations",
                            rel, prm->tol, (long long)it);
            goto done;
        }
        memcpy(rh, r, (size_t)n * sizeof *r);
        memset(p, 0, (size_t)n * sizeof *p);
        memset(v, 0, (size_t)n * sizeof *v);
        double rho = 1, alpha = 1, omega = 1;
        while (it < prm->max_iter) {
            double rho_new = fold_kry_dot(n, rh, r), beta, tt;
            if (rho_new == 0 || !isfinite(rho_new)) {
                res->reason = FOLD_REASON_BREAKDOWN;
                st = fold_error(FOLD_ERR_NOT_CONVERGED,
                                "BiCGSTAB: breakdown (rho = 0) at "
                                "iteration %lld",
                                (long long)it);
                goto done;
            }
            beta = (rho_new / rho) * (alpha / omega);
            rho = rho_new;
            for (fold_int i = 0; i < n; i++)
                p[i] = r[i] + beta * (p[i] - omega * v[i]);
            if ((st = fold_kry_precond(M, tr, n, p, ph)) < 0 ||
                (st = A->apply(A->ctx, tr, ph, v)) < 0)
                goto done;
            alpha = rho / fold_kry_dot(n, rh, v);
            fold_kry_axpy(n, -alpha, v, r); /* r is now s */
            fold_kry_axpy(n, alpha, ph, x);
            it++;
            res->iterations = it;
            rel = fold_kry_nrm2(n, r) / bnorm;
            if (rel <= prm->tol || !isfinite(rel)) {
                fold_kry_record(res, rel);
                break;
            }
            if ((st = fold_kry_precond(M, tr, n, r, sh)) < 0 ||
                (st = A->apply(A->ctx, tr, sh, t)) < 0)
                goto done;
            tt = fold_kry_dot(n, t, t);
            omega = tt > 0 ? fold_kry_dot(n, t, r) / tt : 0;
            fold_kry_axpy(n, omega, sh, x);
            fold_kry_axpy(n, -omega, t, r);
            rel = fold_kry_nrm2(n, r) / bnorm;
            fold_kry_record(res, rel);
            if (rel <= prm->tol || !isfinite(rel)) break;
            if (omega == 0) {
                res->reason = FOLD_REASON_BREAKDOWN;
                st = fold_error(FOLD_ERR_NOT_CONVERGED,
                                "BiCGSTAB: breakdown (omega = 0) at "
                                "iteration %lld",
                                (long long)it);
                goto done;
            }
        }
    }
done:
    res->iterations = it;
    free(buf);
    return st;
}
