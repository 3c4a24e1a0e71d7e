/* Reverse-mode unrolling of the built-in iterative solvers (the baseline the fold replaces):
 * the iterates are taped, then xbar is pulled back through every step,
 * pbar += Psi_k' xbar, xbar <- Phi_k' xbar, k = K-1..0 (doc/math.md §1, doc/iterative.md
 * §4.3). With constant Jacobians this is exactly K steps of LFPI. */
#include "forward/iterative/iter_internal.h"

static const char *FN = "fold_iter_unroll_vjp";

fold_status fold_iter_unroll_vjp(const fold_iter_def *def, const double *p, const double *x0,
                                 fold_int iters, const double *xbar, double *x, double *pbar,
                                 fold_iter_info *info)
{
    fold_iter_step *s = NULL;
    fold_status st;
    fold_int n, np;
    double *tx = NULL, *ty = NULL, *w = NULL, *w2 = NULL, *g = NULL, *acc = NULL;
    double t0 = fold_time_now();
    size_t bytes = 0;
    if ((st = fold_iter_step_create(def, FN, &s)) < 0)
        return st;
    n = s->n;
    np = s->np;
    if ((st = fold_check_not_null(xbar, FN, "xbar")) < 0 ||
        (np > 0 && (st = fold_check_not_null(pbar, FN, "pbar")) < 0) ||
        (np > 0 && (st = fold_check_not_null(p, FN, "p")) < 0) ||
        (np > 0 && (st = fold_check_finite(p, np, FN, "p")) < 0) ||
        (st = fold_check_finite(xbar, n, FN, "xbar")) < 0 ||
        (x0 && (st = fold_check_finite(x0, n, FN, "x0")) < 0))
        goto done;
    if (iters < 0) {
        st = fold_error(FOLD_ERR_ARGUMENT, "%s: iters = %lld < 0", FN, (long long)iters);
        goto done;
    }
    /* tape: x_0..x_K and the pre-projection points y_0..y_{K-1} */
    bytes = ((size_t)(iters + 1) + (size_t)iters) * (size_t)n * sizeof(double);
    tx = fold_malloc((size_t)(iters + 1) * (size_t)n, sizeof *tx, "unrolling tape (iterates)");
    ty = fold_malloc((size_t)(iters > 0 ? iters : 1) * (size_t)n, sizeof *ty,
                     "unrolling tape (steps)");
    w = fold_malloc((size_t)n, sizeof *w, "adjoint");
    w2 = fold_malloc((size_t)n, sizeof *w2, "adjoint");
    g = fold_malloc((size_t)(np > 0 ? np : 1), sizeof *g, "adjoint");
    acc = fold_calloc((size_t)(np > 0 ? np : 1), sizeof *acc, "adjoint");
    if (!tx || !ty || !w || !w2 || !g || !acc) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if (x0)
        memcpy(tx, x0, (size_t)n * sizeof *tx);
    else {
        memset(tx, 0, (size_t)n * sizeof *tx);
        if (def->kind == FOLD_ITER_PGD && (st = fold_iter_set_project(s->set, tx, tx)) < 0)
            goto done;
    }
    for (fold_int k = 0; k < iters; k++)
        if ((st = fold_iter_step_eval(s, tx + (size_t)k * n, p, ty + (size_t)k * n,
                                      tx + (size_t)(k + 1) * n)) < 0)
            goto done;
    memcpy(w, xbar, (size_t)n * sizeof *w);
    for (fold_int k = iters - 1; k >= 0; k--) {
        const double *xk = tx + (size_t)k * n, *yk = ty + (size_t)k * n;
        const double *xn = tx + (size_t)(k + 1) * n;
        if (np > 0) {
            if ((st = fold_iter_step_psit(s, xk, p, yk, xn, w, g)) < 0)
                goto done;
            fold_iter_axpy(np, 1.0, g, acc);
        }
        if ((st = fold_iter_step_phi(s, xk, p, yk, xn, true, w, w2)) < 0)
            goto done;
        memcpy(w, w2, (size_t)n * sizeof *w);
    }
    if (x)
        memcpy(x, tx + (size_t)iters * n, (size_t)n * sizeof *x);
    if (np > 0)
        memcpy(pbar, acc, (size_t)np * sizeof *pbar);
done:
    if (info) {
        memset(info, 0, sizeof *info);
        info->iterations = st < 0 ? 0 : iters;
        info->bytes_stored = bytes;
        info->solve_s = fold_time_now() - t0;
    }
    free(tx);
    free(ty);
    free(w);
    free(w2);
    free(g);
    free(acc);
    fold_iter_step_free(s);
    return st;
}
