/* Reverse-mode unrolling driver shared by the built-in and user-defined steps: tape the
 * iterates, then pbar += Psi_k' w, w <- Phi_k' w, k = K-1..0 (doc/math.md §1,
 * doc/iterative.md §4.3-4.4). With constant Jacobians this is exactly K steps of LFPI. */
#include "fold/unroll_sweep.h"

fold_status fold_unroll_sweep(const fold_unroll_ops *ops, const double *p, const double *x0,
                              fold_int iters, const double *xbar, double *x, double *pbar,
                              size_t *bytes)
{
    const fold_int n = ops->n, np = ops->np, na = ops->aux;
    double *tx = NULL, *ta = NULL, *w = NULL, *w2 = NULL, *g = NULL, *acc = NULL;
    fold_status st = FOLD_OK;
    /* tape: x_0..x_K and the auxiliary records a_0..a_{K-1} */
    *bytes = ((size_t)(iters + 1) * (size_t)n + (size_t)iters * (size_t)na) * sizeof(double);
    tx = fold_malloc((size_t)(iters + 1) * (size_t)n, sizeof *tx, ops->tape_what);
    if (na > 0)
        ta = fold_malloc((size_t)(iters > 0 ? iters : 1) * (size_t)na, sizeof *ta, ops->aux_what);
    w = fold_malloc((size_t)n, sizeof *w, "adjoint");
    w2 = fold_malloc((size_t)n, sizeof *w2, "adjoint");
    g = fold_malloc((size_t)(np > 0 ? np : 1), sizeof *g, "adjoint");
    acc = fold_calloc((size_t)(np > 0 ? np : 1), sizeof *acc, "adjoint");
    if (!tx || (na > 0 && !ta) || !w || !w2 || !g || !acc) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if (x0)
        memcpy(tx, x0, (size_t)n * sizeof *tx);
    else {
        memset(tx, 0, (size_t)n * sizeof *tx);
        if (ops->start && (st = ops->start(ops->ctx, tx)) < 0) goto done;
    }
    for (fold_int k = 0; k < iters; k++)
        if ((st = ops->step(ops->ctx, k, tx + (size_t)k * n, p, ta ? ta + (size_t)k * na : NULL,
                            tx + (size_t)(k + 1) * n)) < 0)
            goto done;
    memcpy(w, xbar, (size_t)n * sizeof *w);
    for (fold_int k = iters - 1; k >= 0; k--) {
        const double *xk = tx + (size_t)k * n, *xn = tx + (size_t)(k + 1) * n;
        const double *ak = ta ? ta + (size_t)k * na : NULL;
        if (np > 0) {
            if ((st = ops->psit(ops->ctx, k, xk, p, ak, xn, w, g)) < 0) goto done;
            for (fold_int j = 0; j < np; j++)
                acc[j] += g[j];
        }
        if ((st = ops->phit(ops->ctx, k, xk, p, ak, xn, w, w2)) < 0) goto done;
        memcpy(w, w2, (size_t)n * sizeof *w);
    }
    if (x) memcpy(x, tx + (size_t)iters * n, (size_t)n * sizeof *x);
    if (np > 0) memcpy(pbar, acc, (size_t)np * sizeof *pbar);
done:
    free(tx);
    free(ta);
    free(w);
    free(w2);
    free(g);
    free(acc);
    return st;
}

void fold_unroll_info(fold_iter_info *info, fold_status st, fold_int iters, size_t bytes, double t0)
{
    fold_iter_info out = {.size = sizeof out,
                          .iterations = st < 0 ? 0 : iters,
                          .bytes_stored = bytes,
                          .solve_s = fold_time_now() - t0};
    fold_sized_close(info, &out, sizeof out);
}
