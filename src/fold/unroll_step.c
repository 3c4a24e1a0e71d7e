/* Reverse-mode unrolling of a user-defined update step z <- U(z, p): the iterates are taped,
 * then zbar is pulled back, pbar += Psi(z_k)' w, w <- Phi(z_k)' w, k = K-1..0 (doc/math.md
 * §1, doc/iterative.md §4.4). With Jacobians constant along the iterates this is K LFPI steps. */
#include "core/core.h"
#include "foldopt/map.h"

static const char *FN = "fold_step_unroll_vjp";

/* A callback's return code and output, checked; names the step, callback and iteration. */
static fold_status checked(const fold_step_def *d, const char *what, fold_int k, int rc,
                           const double *out, fold_int n)
{
    const char *name = d->name ? d->name : "step";
    if (rc != 0)
        return fold_error(FOLD_ERR_CALLBACK, "%s: '%s': callback %s returned %d at iteration "
                          "%lld", FN, name, what, rc, (long long)k);
    for (fold_int i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return fold_error(FOLD_ERR_NONFINITE, "%s: '%s': callback %s output[%lld] = %g at "
                              "iteration %lld", FN, name, what, (long long)i, out[i],
                              (long long)k);
    return FOLD_OK;
}

static fold_status validate(const fold_step_def *def, const double *p, const double *z0,
                            fold_int iters, const double *zbar, const double *pbar)
{
    fold_status st;
    if ((st = fold_check_not_null(def, FN, "def")) < 0)
        return st;
    if (def->nz < 1 || def->np < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: def.nz = %lld, def.np = %lld (need nz >= 1, "
                          "np >= 0)", FN, (long long)def->nz, (long long)def->np);
    if (!def->update || !def->phit_v || (def->np > 0 && !def->psit_v))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: def.%s is NULL", FN,
                          !def->update ? "update" : !def->phit_v ? "phit_v" : "psit_v");
    if (iters < 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: iters = %lld < 0", FN, (long long)iters);
    if ((st = fold_check_not_null(z0, FN, "z0")) < 0 ||
        (st = fold_check_not_null(zbar, FN, "zbar")) < 0 ||
        (st = fold_check_finite(z0, def->nz, FN, "z0")) < 0 ||
        (st = fold_check_finite(zbar, def->nz, FN, "zbar")) < 0)
        return st;
    if (def->np > 0 && ((st = fold_check_not_null(p, FN, "p")) < 0 ||
                        (st = fold_check_not_null(pbar, FN, "pbar")) < 0 ||
                        (st = fold_check_finite(p, def->np, FN, "p")) < 0))
        return st;
    return FOLD_OK;
}

fold_status fold_step_unroll_vjp(const fold_step_def *def, const double *p, const double *z0,
                                 fold_int iters, const double *zbar, double *z, double *pbar,
                                 fold_iter_info *info)
{
    double t0 = fold_time_now(), *tape = NULL, *w = NULL, *w2 = NULL, *g = NULL, *acc = NULL;
    fold_status st;
    fold_int nz, np;
    size_t bytes = 0;
    if ((st = validate(def, p, z0, iters, zbar, pbar)) < 0)
        goto done;
    nz = def->nz;
    np = def->np;
    bytes = (size_t)(iters + 1) * (size_t)nz * sizeof(double);
    tape = fold_malloc((size_t)(iters + 1) * (size_t)nz, sizeof *tape, "unrolling tape");
    w = fold_malloc((size_t)nz, sizeof *w, "adjoint");
    w2 = fold_malloc((size_t)nz, sizeof *w2, "adjoint");
    g = fold_malloc((size_t)(np > 0 ? np : 1), sizeof *g, "adjoint");
    acc = fold_calloc((size_t)(np > 0 ? np : 1), sizeof *acc, "adjoint");
    if (!tape || !w || !w2 || !g || !acc) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    memcpy(tape, z0, (size_t)nz * sizeof *tape);
    for (fold_int k = 0; k < iters; k++) {
        double *zn = tape + (size_t)(k + 1) * nz;
        if ((st = checked(def, "update", k, def->update(tape + (size_t)k * nz, p, zn,
                                                         def->user_data), zn, nz)) < 0)
            goto done;
    }
    memcpy(w, zbar, (size_t)nz * sizeof *w);
    for (fold_int k = iters - 1; k >= 0; k--) {
        const double *zk = tape + (size_t)k * nz;
        if (np > 0) {
            if ((st = checked(def, "psit_v", k, def->psit_v(zk, p, w, g, def->user_data), g,
                              np)) < 0)
                goto done;
            for (fold_int j = 0; j < np; j++)
                acc[j] += g[j];
        }
        if ((st = checked(def, "phit_v", k, def->phit_v(zk, p, w, w2, def->user_data), w2,
                          nz)) < 0)
            goto done;
        memcpy(w, w2, (size_t)nz * sizeof *w);
    }
    if (z)
        memcpy(z, tape + (size_t)iters * nz, (size_t)nz * sizeof *z);
    if (np > 0)
        memcpy(pbar, acc, (size_t)np * sizeof *pbar);
done:
    if (info) {
        memset(info, 0, sizeof *info);
        info->iterations = st < 0 ? 0 : iters;
        info->bytes_stored = bytes;
        info->solve_s = fold_time_now() - t0;
    }
    free(tape);
    free(w);
    free(w2);
    free(g);
    free(acc);
    return st;
}
