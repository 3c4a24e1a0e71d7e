/* Built-in iterative forward solvers (projected / proximal gradient) with optional
 * forward-mode unrolling: the tangent dx_{k+1} = Phi_k dx_k + Psi_k dp is propagated along the
 * iterates (doc/iterative.md §4.2, eq. (4.4)). */
#include "forward/iterative/iter_internal.h"

static const char *FN = "fold_iter_solve";

fold_status fold_iter_solve(const fold_iter_def *def, const fold_iter_run *run, double *x,
                            double *dx, fold_iter_info *info)
{
    fold_clear_error();
    fold_iter_step *s = NULL;
    fold_iter_run none = {0};
    fold_status st = FOLD_CHECK_ITER_INFO(info);
    if (st < 0) return st;
    st = fold_check_not_null(run, FN, "run");
    if (!run) run = &none;
    const double *p = run->p, *x0 = run->x0, *dp = run->dp;
    fold_int max_iter = run->max_iter;
    double tol = run->tol;
    fold_int n, np, k = 0;
    double *xk = NULL, *y = NULL, *xn = NULL, *t = NULL, *u = NULL, step_norm = 0;
    double t0 = fold_time_now();
    bool tangent = dp || dx, converged = false;
    if (st < 0 || (st = fold_iter_step_create(def, FN, &s)) < 0)
        goto done; /* info still written: iterations 0, not converged */
    n = s->n;
    np = s->np;
    if ((st = fold_check_not_null(x, FN, "x")) < 0 ||
        (np > 0 && (st = fold_check_not_null(p, FN, "run.p")) < 0) ||
        (np > 0 && (st = fold_check_finite(p, np, FN, "run.p")) < 0) ||
        (x0 && (st = fold_check_finite(x0, n, FN, "run.x0")) < 0) ||
        (tangent && (st = fold_check_not_null(dp, FN, "run.dp")) < 0) ||
        (tangent && (st = fold_check_not_null(dx, FN, "dx")) < 0) ||
        (tangent && (st = fold_check_finite(dp, np, FN, "run.dp")) < 0))
        goto done;
    if (max_iter < 0 || !(tol >= 0)) {
        st = fold_error(FOLD_ERR_ARGUMENT, "%s: run.max_iter = %lld, run.tol = %g (need >= 0)", FN,
                        (long long)max_iter, tol);
        goto done;
    }
    xk = fold_calloc((size_t)n, sizeof *xk, "iterate");
    y = fold_malloc((size_t)n, sizeof *y, "iterate");
    xn = fold_malloc((size_t)n, sizeof *xn, "iterate");
    t = fold_calloc((size_t)n, sizeof *t, "tangent");
    u = fold_malloc((size_t)n, sizeof *u, "tangent");
    if (!xk || !y || !xn || !t || !u) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    if (x0)
        memcpy(xk, x0, (size_t)n * sizeof *xk);
    else if (def->kind == FOLD_ITER_PGD && (st = fold_iter_set_project(s->set, xk, xk)) < 0)
        goto done;
    for (k = 0; k < max_iter && !converged; k++) {
        double xmax = 0;
        if ((st = fold_iter_step_eval(s, xk, p, y, xn)) < 0) goto done;
        if (tangent) { /* t <- Phi_k t + Psi_k dp, Jacobians at x_k */
            if ((st = fold_iter_step_phi(s, xk, p, y, xn, false, t, u)) < 0 ||
                (np > 0 && (st = fold_iter_step_psi(s, xk, p, y, xn, dp, t)) < 0))
                goto done;
            if (np == 0) memset(t, 0, (size_t)n * sizeof *t);
            fold_iter_axpy(n, 1.0, u, t);
        }
        step_norm = 0;
        for (fold_int i = 0; i < n; i++) {
            step_norm = fmax(step_norm, fabs(xn[i] - xk[i]));
            xmax = fmax(xmax, fabs(xn[i]));
        }
        memcpy(xk, xn, (size_t)n * sizeof *xk);
        converged = step_norm <= tol * (1 + xmax);
    }
    memcpy(x, xk, (size_t)n * sizeof *x);
    if (tangent) memcpy(dx, t, (size_t)n * sizeof *dx);
    st = converged ? FOLD_OK
                   : fold_error(FOLD_WARN_INACCURATE,
                                "%s: no convergence in %lld "
                                "iterations (last step %.3g)",
                                FN, (long long)k, step_norm);
done:
    fold_sized_close(info,
                     &(fold_iter_info){.size = sizeof(fold_iter_info),
                                       .iterations = k,
                                       .step_norm = step_norm,
                                       .converged = converged,
                                       .solve_s = fold_time_now() - t0},
                     sizeof(fold_iter_info));
    free(xk);
    free(y);
    free(xn);
    free(t);
    free(u);
    fold_iter_step_free(s);
    return st;
}
