/* Preconditioned conjugate gradients for symmetric positive definite I - Phi (and SPD M);
 * non-positive curvature is reported as a breakdown (doc/iterative.md §2.5). */
#include "fold/krylov/krylov.h"

fold_status fold_kry_cg(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                        const double *b, double *x, fold_kry_result *res)
{
    fold_int n = A->n, it = 0;
    double bnorm = fold_kry_nrm2(n, b), rnorm, rel = 0, rz;
    double *buf = fold_malloc((size_t)n * 4, sizeof(double), "CG work");
    fold_status st = FOLD_OK;
    res->iterations = 0;
    res->reason = FOLD_REASON_CONVERGED;
    if (!buf) return FOLD_ERR_MEMORY;
    double *r = buf, *z = buf + n, *p = buf + 2 * n, *q = buf + 3 * n;
    if (bnorm == 0) {
        memset(x, 0, (size_t)n * sizeof *x);
        res->residual = 0;
        fold_kry_record(res, 0);
        goto done;
    }
    if ((st = fold_kry_residual(A, false, b, x, r, &rnorm)) < 0) goto done;
    rel = rnorm / bnorm;
    fold_kry_record(res, rel);
    if ((st = fold_kry_precond(M, false, n, r, z)) < 0) goto done;
    memcpy(p, z, (size_t)n * sizeof *p);
    rz = fold_kry_dot(n, r, z);
    while (rel > prm->tol) {
        double pq, alpha, rz_new;
        if (it >= prm->max_iter) {
            res->reason = FOLD_REASON_MAX_ITER;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "CG: relative residual %.3g > tol %.3g "
                            "after %lld iterations",
                            rel, prm->tol, (long long)it);
            goto done;
        }
        if ((st = A->apply(A->ctx, false, p, q)) < 0) goto done;
        pq = fold_kry_dot(n, p, q);
        if (!(pq > 0) || !(rz > 0)) {
            res->reason = isfinite(pq) ? FOLD_REASON_BREAKDOWN : FOLD_REASON_NAN;
            st = fold_error(isfinite(pq) ? FOLD_ERR_NOT_CONVERGED : FOLD_ERR_NONFINITE,
                            "CG: breakdown at iteration %lld: p'Ap = %.3g, r'M^-1 r = %.3g "
                            "(I - Phi or M not positive definite)",
                            (long long)it, pq, rz);
            goto done;
        }
        alpha = rz / pq;
        fold_kry_axpy(n, alpha, p, x);
        fold_kry_axpy(n, -alpha, q, r);
        it++;
        rel = fold_kry_nrm2(n, r) / bnorm;
        fold_kry_record(res, rel);
        if (rel <= prm->tol) { /* confirm with the true residual */
            if ((st = fold_kry_residual(A, false, b, x, r, &rnorm)) < 0) goto done;
            rel = rnorm / bnorm;
        }
        if ((st = fold_kry_precond(M, false, n, r, z)) < 0) goto done;
        rz_new = fold_kry_dot(n, r, z);
        for (fold_int i = 0; i < n; i++)
            p[i] = z[i] + (rz_new / rz) * p[i];
        rz = rz_new;
    }
done:
    res->iterations = it;
    res->residual = rel;
    free(buf);
    return st;
}
