/* LFPI: the linear fixed-point iteration x <- x + M^{-1}(b - A x), i.e. preconditioned
 * Richardson; with A = I - Phi and M = I it is x <- Phi x + b, the iteration that reverse-mode
 * unrolling performs (doc/math.md §1, doc/iterative.md §2.1). Divergence is detected from
 * the residual over a window of iterations (not in a fixed-iteration run, which only stops at
 * a non-finite or exploding residual). */
#include "fold/krylov/krylov.h"

fold_status fold_kry_lfpi(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                          const double *b, double *x, fold_kry_result *res)
{
    fold_int n = A->n, window = prm->window > 0 ? prm->window : 20, k;
    double bnorm = fold_kry_nrm2(n, b), rnorm, rel, rel_mark = 0, rel_min;
    double *r = fold_malloc((size_t)n, sizeof *r, "LFPI residual");
    double *z = fold_malloc((size_t)n, sizeof *z, "LFPI correction");
    fold_status st = FOLD_OK;
    res->iterations = 0;
    res->reason = FOLD_REASON_CONVERGED;
    if (!r || !z) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if (bnorm == 0) {
        memset(x, 0, (size_t)n * sizeof *x);
        res->residual = 0;
        fold_kry_record(res, 0);
        goto done;
    }
    for (k = 0;; k++) {
        if ((st = fold_kry_residual(A, prm->transpose, b, x, r, &rnorm)) < 0) goto done;
        rel = rnorm / bnorm;
        res->residual = rel;
        fold_kry_record(res, rel);
        if (!isfinite(rel)) {
            res->reason = FOLD_REASON_NAN;
            st = fold_error(FOLD_ERR_DIVERGED,
                            "LFPI: residual is not finite at iteration %lld "
                            "(spectral radius of Phi >= 1)",
                            (long long)k);
            goto done;
        }
        if (rel <= prm->tol) break;
        if (k == 0) rel_mark = rel_min = rel;
        rel_min = fmin(rel_min, rel);
        /* No decrease over a whole window: the contraction factor estimate
         * (rel_k / rel_{k-W})^(1/W) is >= 1. Far above rounding level that means the spectral
         * radius of the iteration matrix is >= 1; near it, stagnation. */
        if (k > 0 && k % window == 0 && !prm->fixed) {
            if (rel >= rel_mark) {
                double rate = pow(rel / rel_mark, 1.0 / (double)window);
                if (rel > 1e-8 * fmax(1.0, rel_min) && rel > 1e3 * prm->tol) {
                    res->reason = FOLD_REASON_DIVERGED;
                    st = fold_error(FOLD_ERR_DIVERGED,
                                    "LFPI: residual %.3g did not decrease over %lld iterations "
                                    "(contraction estimate %.4f >= 1: spectral radius of the "
                                    "preconditioned iteration >= 1)",
                                    rel, (long long)window, rate);
                } else {
                    res->reason = FOLD_REASON_BREAKDOWN;
                    st = fold_error(FOLD_ERR_NOT_CONVERGED,
                                    "LFPI: stagnated at relative residual %.3g above tol %.3g", rel,
                                    prm->tol);
                }
                goto done;
            }
            rel_mark = rel;
        }
        if (rel > 1e12) {
            res->reason = FOLD_REASON_DIVERGED;
            st = fold_error(FOLD_ERR_DIVERGED,
                            "LFPI: relative residual grew to %.3g at "
                            "iteration %lld (spectral radius >= 1)",
                            rel, (long long)k);
            goto done;
        }
        if (k >= prm->max_iter) {
            res->reason = FOLD_REASON_MAX_ITER;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "LFPI: relative residual %.3g > tol %.3g "
                            "after %lld iterations",
                            rel, prm->tol, (long long)k);
            goto done;
        }
        if ((st = fold_kry_precond(M, prm->transpose, n, r, z)) < 0) goto done;
        fold_kry_axpy(n, 1.0, z, x);
        res->iterations = k + 1;
    }
done:
    free(r);
    free(z);
    return st;
}
