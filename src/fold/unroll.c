/* Reverse-mode unrolling of the built-in iterative solvers (the baseline the fold replaces):
 * the iterates are taped, then xbar is pulled back through every step,
 * pbar += Psi_k' xbar, xbar <- Phi_k' xbar, k = K-1..0 (doc/math.md §1, doc/iterative.md
 * §4.3). With constant Jacobians this is exactly K steps of LFPI. */
#include "fold/unroll_sweep.h"
#include "forward/iterative/iter_internal.h"

static const char *FN = "fold_iter_unroll_vjp";

/* The built-in step as an unrolling vtable: ctx is the fold_iter_step, the auxiliary record
 * of step k is its pre-projection point y_k. */
static fold_status start(void *ctx, double *x0)
{
    fold_iter_step *s = ctx;
    return s->def.kind == FOLD_ITER_PGD ? fold_iter_set_project(s->set, x0, x0) : FOLD_OK;
}

static fold_status step(void *ctx, fold_int k, const double *x, const double *p, double *y,
                        double *xn)
{
    (void)k;
    return fold_iter_step_eval(ctx, x, p, y, xn);
}

static fold_status phit(void *ctx, fold_int k, const double *x, const double *p, const double *y,
                        const double *xn, const double *w, double *out)
{
    (void)k;
    return fold_iter_step_phi(ctx, x, p, y, xn, true, w, out);
}

static fold_status psit(void *ctx, fold_int k, const double *x, const double *p, const double *y,
                        const double *xn, const double *w, double *out)
{
    (void)k;
    return fold_iter_step_psit(ctx, x, p, y, xn, w, out);
}

fold_status fold_iter_unroll_vjp(const fold_iter_def *def, const fold_unroll_run *run, double *x,
                                 double *pbar, fold_iter_info *info)
{
    fold_clear_error();
    fold_iter_step *s = NULL;
    fold_status st;
    fold_int n, np;
    double t0 = fold_time_now();
    size_t bytes = 0;
    fold_unroll_run none = {0};
    if ((st = FOLD_CHECK_ITER_INFO(info)) < 0) return st;
    st = fold_check_not_null(run, FN, "run");
    if (!run) run = &none;
    const double *p = run->p, *x0 = run->start, *xbar = run->bar;
    fold_int iters = run->iters;
    if (st < 0) goto done;
    if ((st = fold_iter_step_create(def, FN, &s)) < 0)
        goto done; /* info still written: nothing stored */
    n = s->n;
    np = s->np;
    if ((st = fold_check_not_null(xbar, FN, "run.bar (xbar)")) < 0 ||
        (np > 0 && (st = fold_check_not_null(pbar, FN, "pbar")) < 0) ||
        (np > 0 && (st = fold_check_not_null(p, FN, "run.p")) < 0) ||
        (np > 0 && (st = fold_check_finite(p, np, FN, "run.p")) < 0) ||
        (st = fold_check_finite(xbar, n, FN, "run.bar (xbar)")) < 0 ||
        (x0 && (st = fold_check_finite(x0, n, FN, "run.start (x0)")) < 0))
        goto done;
    if (iters < 0) {
        st = fold_error(FOLD_ERR_ARGUMENT, "%s: run.iters = %lld < 0", FN, (long long)iters);
        goto done;
    }
    {
        fold_unroll_ops ops = {
            n,    np,   n,   "unrolling tape (iterates)", "unrolling tape (steps)", s, start,
            step, phit, psit};
        st = fold_unroll_sweep(&ops, p, x0, iters, xbar, x, pbar, &bytes);
    }
done:
    fold_unroll_info(info, st, iters, bytes, t0);
    fold_iter_step_free(s);
    return st;
}
