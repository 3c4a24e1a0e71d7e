/* Reverse-mode unrolling of a user-defined update step z <- U(z, p): the iterates are taped,
 * then zbar is pulled back, pbar += Psi(z_k)' w, w <- Phi(z_k)' w, k = K-1..0 (doc/math.md
 * §1, doc/iterative.md §4.4). With Jacobians constant along the iterates this is K LFPI steps. */
#include "fold/unroll_sweep.h"

static const char *FN = "fold_step_unroll_vjp";

/* A callback's return code and output, checked; names the step, callback and iteration. */
static fold_status checked(const fold_step_def *d, const char *what, fold_int k, int rc,
                           const double *out, fold_int n)
{
    const char *name = d->name ? d->name : "step";
    if (rc != 0)
        return fold_error(FOLD_ERR_CALLBACK,
                          "%s: '%s': callback %s returned %d at iteration "
                          "%lld",
                          FN, name, what, rc, (long long)k);
    for (fold_int i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return fold_error(FOLD_ERR_NONFINITE,
                              "%s: '%s': callback %s output[%lld] = %g at "
                              "iteration %lld",
                              FN, name, what, (long long)i, out[i], (long long)k);
    return FOLD_OK;
}

/* The user's step as an unrolling vtable: ctx is the fold_step_def, nothing beyond the
 * iterates is taped. */
static fold_status step(void *ctx, fold_int k, const double *z, const double *p, double *aux,
                        double *zn)
{
    const fold_step_def *d = ctx;
    (void)aux;
    return checked(d, "update", k, d->update(z, p, zn, d->user_data), zn, d->nz);
}

/* out = Phi(z)' w (nz) or Psi(z)' w (np), checked. */
static fold_status product(const fold_step_def *d, bool wrt_p, fold_int k, const double *z,
                           const double *p, const double *w, double *out)
{
    int rc = (wrt_p ? d->psit_v : d->phit_v)(z, p, w, out, d->user_data);
    return checked(d, wrt_p ? "psit_v" : "phit_v", k, rc, out, wrt_p ? d->np : d->nz);
}

static fold_status phit(void *ctx, fold_int k, const double *z, const double *p, const double *aux,
                        const double *zn, const double *w, double *out)
{
    (void)aux, (void)zn;
    return product(ctx, false, k, z, p, w, out);
}

static fold_status psit(void *ctx, fold_int k, const double *z, const double *p, const double *aux,
                        const double *zn, const double *w, double *out)
{
    (void)aux, (void)zn;
    return product(ctx, true, k, z, p, w, out);
}

static fold_status validate(const fold_step_def *def, const double *p, const double *z0,
                            fold_int iters, const double *zbar, const double *pbar)
{
    fold_status st;
    if ((st = fold_check_not_null(def, FN, "def")) < 0) return st;
    if (def->nz < 1 || def->np < 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: def.nz = %lld, def.np = %lld (need nz >= 1, "
                          "np >= 0)",
                          FN, (long long)def->nz, (long long)def->np);
    if (!def->update || !def->phit_v || (def->np > 0 && !def->psit_v))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: def.%s is NULL", FN,
                          !def->update   ? "update"
                          : !def->phit_v ? "phit_v"
                                         : "psit_v");
    if (iters < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: run.iters = %lld < 0", FN, (long long)iters);
    if ((st = fold_check_not_null(z0, FN, "run.start (z0)")) < 0 ||
        (st = fold_check_not_null(zbar, FN, "run.bar (zbar)")) < 0 ||
        (st = fold_check_finite(z0, def->nz, FN, "run.start (z0)")) < 0 ||
        (st = fold_check_finite(zbar, def->nz, FN, "run.bar (zbar)")) < 0)
        return st;
    if (def->np > 0 && ((st = fold_check_not_null(p, FN, "run.p")) < 0 ||
                        (st = fold_check_not_null(pbar, FN, "pbar")) < 0 ||
                        (st = fold_check_finite(p, def->np, FN, "run.p")) < 0))
        return st;
    return FOLD_OK;
}

fold_status fold_step_unroll_vjp(const fold_step_def *def, const fold_unroll_run *run, double *z,
                                 double *pbar, fold_iter_info *info)
{
    fold_clear_error();
    double t0 = fold_time_now();
    fold_status st;
    size_t bytes = 0;
    if ((st = FOLD_CHECK_ITER_INFO(info)) < 0) return st;
    if ((st = fold_check_not_null(run, FN, "run")) < 0) {
        fold_unroll_info(info, st, 0, 0, t0);
        return st;
    }
    const double *p = run->p, *z0 = run->start, *zbar = run->bar;
    fold_int iters = run->iters;
    if ((st = validate(def, p, z0, iters, zbar, pbar)) >= 0) {
        fold_step_def d = *def;
        fold_unroll_ops ops = {d.nz, d.np, 0, "unrolling tape", NULL, &d, NULL, step, phit, psit};
        st = fold_unroll_sweep(&ops, p, z0, iters, zbar, z, pbar, &bytes);
    }
    fold_unroll_info(info, st, iters, bytes, t0);
    return st;
}
