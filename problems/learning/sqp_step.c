/* SQP-type update step of an Ipopt-solved layer at its active set, as a fold map and as an
 * iteration to unroll: z = (x_F, lam_A), U(z) = z - alpha M^{-1} F(z; p) with F the KKT
 * residual on the free variables and active constraints, M = [B J'; J 0], B a diagonal
 * Hessian approximation, alpha a damping. I - Phi = alpha M^{-1} dF/dz, so every M and alpha
 * give the KKT fold's derivative
 * (doc/learning.md §4.5, doc/math.md §1.1, doc/iterative.md §6). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "foldopt/map.h"
#include "learning/tasks.h"

struct learn_sqp {
    learn_sqp_def def;
    fold_int n, nf, na, nz;
    double *x;                /* full x: free entries from the state, others fixed */
    double *p;                /* parameters (n) */
    double *Hs, *Js;          /* H_FF (nf x nf) and J_AF (na x nf) at the solution: K* */
    double *H, *J, *cp;       /* at an iterate (unrolling), and cp work */
    double *B;                /* diagonal of B (nf) */
    double *L;                /* Cholesky factor of the Schur complement J B^{-1} J' (na x na) */
    double *Lk;               /* the same at an iterate (nonlinear constraints) */
    const double *Jm, *Lm;    /* J and factor of the current M: (Js, L) or (J, Lk) */
    double *t1, *t2, *t3, *d; /* work (nz) */
};

/* out = K v with K = [H J'; J 0] (H, J row-major). */
static void k_apply(const learn_sqp *s, const double *H, const double *J, const double *v,
                    double *out)
{
    fold_int nf = s->nf;
    for (fold_int i = 0; i < nf; i++) {
        double a = 0;
        for (fold_int j = 0; j < nf; j++)
            a += H[i * nf + j] * v[j];
        out[i] = a;
    }
    for (fold_int r = 0; r < s->na; r++) {
        double a = 0;
        for (fold_int j = 0; j < nf; j++) {
            a += J[r * nf + j] * v[j];
            out[j] += J[r * nf + j] * v[nf + r];
        }
        out[nf + r] = a;
    }
}

/* out = M^{-1} v with M = [B Jm'; Jm 0]: b = S^{-1} (Jm B^{-1} r - s), a = B^{-1} (r - Jm'b),
 * S = Jm B^{-1} Jm' factored in Lm. */
static void m_solve(const learn_sqp *s, const double *v, double *out)
{
    fold_int nf = s->nf, na = s->na;
    double *b = out + nf;
    for (fold_int r = 0; r < na; r++) {
        double a = -v[nf + r];
        for (fold_int j = 0; j < nf; j++)
            a += s->Jm[r * nf + j] * v[j] / s->B[j];
        b[r] = a;
    }
    learn_chol_subst(s->Lm, na, b);
    for (fold_int j = 0; j < nf; j++) {
        double a = v[j];
        for (fold_int r = 0; r < na; r++)
            a -= s->Jm[r * nf + j] * b[r];
        out[j] = a / s->B[j];
    }
}

/* Factor S = J B^{-1} J' into L (na x na); FOLD_ERR_SINGULAR for dependent rows of J. */
static fold_status schur_factor(const learn_sqp *s, const double *J, double *L)
{
    fold_int nf = s->nf, na = s->na;
    for (fold_int r = 0; r < na; r++)
        for (fold_int q = 0; q <= r; q++) {
            double a = 0;
            for (fold_int j = 0; j < nf; j++)
                a += J[r * nf + j] * J[q * nf + j] / s->B[j];
            L[r * na + q] = L[q * na + r] = a;
        }
    return na > 0 ? learn_chol_factor(L, na) : FOLD_OK;
}

/* x (full) from the state's x_F. */
static void scatter_x(learn_sqp *s, const double *z)
{
    for (fold_int j = 0; j < s->nf; j++)
        s->x[s->def.free_idx[j]] = z[j];
}

/* ---- fold map at the solution: Phi = I - alpha M^{-1} K*,
 * Psi dp = -alpha M^{-1} [cp o dp_F; 0] ---- */

static int phi_v(const double *v, double *out, void *ud)
{
    learn_sqp *s = ud;
    s->Jm = s->Js;
    s->Lm = s->L;
    k_apply(s, s->Hs, s->Js, v, s->t1);
    m_solve(s, s->t1, out);
    for (fold_int k = 0; k < s->nz; k++)
        out[k] = v[k] - s->def.damping * out[k];
    return 0;
}

static int phit_v(const double *v, double *out, void *ud)
{
    learn_sqp *s = ud;
    s->Jm = s->Js;
    s->Lm = s->L;
    m_solve(s, v, s->t1);
    k_apply(s, s->Hs, s->Js, s->t1, out);
    for (fold_int k = 0; k < s->nz; k++)
        out[k] = v[k] - s->def.damping * out[k];
    return 0;
}

static int psi_v(const double *dp, double *out, void *ud)
{
    learn_sqp *s = ud;
    s->Jm = s->Js;
    s->Lm = s->L;
    memset(s->t1, 0, (size_t)s->nz * sizeof(double));
    for (fold_int j = 0; j < s->nf; j++)
        s->t1[j] = -s->def.damping * s->cp[j] * dp[s->def.free_idx[j]];
    m_solve(s, s->t1, out);
    return 0;
}

/* Psi' w = -alpha [diag(cp) E_F]' (M^{-1} w)_x, with cp at the point last evaluated. */
static int psit_v(const double *w, double *out, void *ud)
{
    learn_sqp *s = ud;
    s->Jm = s->Js;
    s->Lm = s->L;
    m_solve(s, w, s->t2);
    memset(out, 0, (size_t)s->n * sizeof(double));
    for (fold_int j = 0; j < s->nf; j++)
        out[s->def.free_idx[j]] = -s->def.damping * s->cp[j] * s->t2[j];
    return 0;
}

/* ---- the iteration: U(z, p) = z - alpha M(x)^{-1} F(z; p), M(x) = [B J(x)'; J(x) 0] (B
 * fixed; J at the iterate when the constraints are nonlinear), and its Jacobians at any
 * iterate: Phi(z) = I - alpha M^{-1} (K(z) - T(d)), T(d) v = dM[v] d, d = M^{-1} F; T'u has
 * the x-part sum_r (d_lam_r G_r u_x + u_lam_r G_r d_x), G_r the Hessian of constraint r. With
 * F(z*) = 0 the fold map above is Phi(z*) ---- */

/* Evaluate at iterate z (x into s->x) and set M: r, g into s->t3 when want_f; H into s->H
 * when want_h; cp when want_cp. */
static int at_iterate(learn_sqp *s, const double *z, const double *p, bool want_f, bool want_h,
                      bool want_cp)
{
    bool nonlinear = s->def.curv != NULL;
    scatter_x(s, z);
    if (s->def.eval(&s->def, s->x, z + s->nf, p, want_f ? s->t3 : NULL,
                    want_f ? s->t3 + s->nf : NULL, want_h ? s->H : NULL,
                    nonlinear || want_h ? s->J : NULL, want_cp ? s->cp : NULL))
        return 1;
    if (nonlinear) {
        if (schur_factor(s, s->J, s->Lk) != FOLD_OK) return 2;
        s->Jm = s->J;
        s->Lm = s->Lk;
    } else {
        s->Jm = s->Js;
        s->Lm = s->L;
    }
    return 0;
}

static int it_update(const double *z, const double *p, double *out, void *ud)
{
    learn_sqp *s = ud;
    int rc = at_iterate(s, z, p, true, false, false);
    if (rc) return rc;
    m_solve(s, s->t3, out);
    for (fold_int k = 0; k < s->nz; k++)
        out[k] = z[k] - s->def.damping * out[k];
    return 0;
}

static int it_phit(const double *z, const double *p, const double *v, double *out, void *ud)
{
    learn_sqp *s = ud;
    int rc = at_iterate(s, z, p, s->def.curv != NULL, true, false);
    fold_int nf = s->nf;
    if (rc) return rc;
    m_solve(s, v, s->t1); /* u = M^{-1} v (M symmetric) */
    k_apply(s, s->H, s->J, s->t1, out);
    if (s->def.curv) {
        m_solve(s, s->t3, s->d); /* d = M^{-1} F */
        if (s->def.curv(&s->def, s->x, s->d + nf, s->t1, s->t2)) return 3;
        for (fold_int j = 0; j < nf; j++)
            out[j] -= s->t2[j];
        if (s->def.curv(&s->def, s->x, s->t1 + nf, s->d, s->t2)) return 3;
        for (fold_int j = 0; j < nf; j++)
            out[j] -= s->t2[j];
    }
    for (fold_int k = 0; k < s->nz; k++)
        out[k] = v[k] - s->def.damping * out[k];
    return 0;
}

static int it_psit(const double *z, const double *p, const double *w, double *out, void *ud)
{
    learn_sqp *s = ud;
    int rc = at_iterate(s, z, p, false, false, true);
    if (rc) return rc;
    m_solve(s, w, s->t2);
    memset(out, 0, (size_t)s->n * sizeof(double));
    for (fold_int j = 0; j < s->nf; j++)
        out[s->def.free_idx[j]] = -s->def.damping * s->cp[j] * s->t2[j];
    return 0;
}

void learn_sqp_free(learn_sqp *s)
{
    if (!s) return;
    free(s->x);
    free(s->p);
    free(s->Hs);
    free(s->Js);
    free(s->H);
    free(s->J);
    free(s->cp);
    free(s->B);
    free(s->L);
    free(s->Lk);
    free(s->d);
    free(s->t1);
    free(s->t2);
    free(s->t3);
    free(s);
}

fold_status learn_sqp_create(const learn_sqp_def *def, int hessian, double scale, learn_sqp **out)
{
    learn_sqp *s;
    fold_int nf = def->nf, na = def->na, n = def->n;
    double beta = 0;
    fold_status st;
    *out = NULL;
    if ((hessian != LEARN_STEP_IDENTITY && hessian != LEARN_STEP_DIAGONAL) || !(scale > 0.5) ||
        !isfinite(scale))
        return learn_error(FOLD_ERR_ARGUMENT,
                           "SQP step: hessian = %d, scale = %g (need "
                           "identity or diagonal, scale > 0.5)",
                           hessian, scale);
    if (!(def->damping > 0 && def->damping <= 1))
        return learn_error(FOLD_ERR_ARGUMENT, "SQP step: damping = %g outside (0, 1]",
                           def->damping);
    if (nf < 1 || na < 0 || na > nf)
        return learn_error(FOLD_ERR_ARGUMENT,
                           "SQP step: %lld free variables, %lld active "
                           "constraints",
                           (long long)nf, (long long)na);
    if (!(s = calloc(1, sizeof *s))) return learn_error(FOLD_ERR_MEMORY, "SQP step");
    s->def = *def;
    s->n = n;
    s->nf = nf;
    s->na = na;
    s->nz = nf + na;
    s->x = malloc((size_t)n * sizeof(double));
    s->p = malloc((size_t)n * sizeof(double));
    s->Hs = malloc((size_t)(nf * nf) * sizeof(double));
    s->Js = malloc((size_t)(na * nf + 1) * sizeof(double));
    s->H = malloc((size_t)(nf * nf) * sizeof(double));
    s->J = malloc((size_t)(na * nf + 1) * sizeof(double));
    s->cp = malloc((size_t)nf * sizeof(double));
    s->B = malloc((size_t)nf * sizeof(double));
    s->L = calloc((size_t)(na * na + 1), sizeof(double));
    s->Lk = calloc((size_t)(na * na + 1), sizeof(double));
    s->d = malloc((size_t)s->nz * sizeof(double));
    s->t1 = malloc((size_t)s->nz * sizeof(double));
    s->t2 = malloc((size_t)s->nz * sizeof(double));
    s->t3 = malloc((size_t)s->nz * sizeof(double));
    if (!s->x || !s->p || !s->Hs || !s->Js || !s->H || !s->J || !s->cp || !s->B || !s->L ||
        !s->Lk || !s->d || !s->t1 || !s->t2 || !s->t3) {
        learn_sqp_free(s);
        return learn_error(FOLD_ERR_MEMORY, "SQP step: %lld free variables", (long long)nf);
    }
    memcpy(s->x, def->x, (size_t)n * sizeof(double));
    memcpy(s->p, def->p, (size_t)n * sizeof(double));
    if (s->def.eval(&s->def, s->x, def->lam, s->p, NULL, NULL, s->Hs, s->Js, s->cp)) {
        learn_sqp_free(s);
        return learn_error(FOLD_ERR_CALLBACK, "SQP step: evaluation at the solution failed");
    }
    /* Gershgorin row sums: diag(row) - H is diagonally dominant, so diag(row) >= H, and
     * beta I >= H with beta the largest; a zero row is floored to keep B invertible. */
    for (fold_int i = 0; i < nf; i++) {
        double row = 0;
        for (fold_int j = 0; j < nf; j++)
            row += fabs(s->Hs[i * nf + j]);
        s->B[i] = row;
        beta = fmax(beta, row);
    }
    if (!(beta > 0)) beta = 1;
    for (fold_int i = 0; i < nf; i++)
        s->B[i] = scale * (hessian == LEARN_STEP_DIAGONAL ? fmax(s->B[i], 1e-8 * beta) : beta);
    if ((st = schur_factor(s, s->Js, s->L)) != FOLD_OK) {
        learn_sqp_free(s);
        return learn_error(FOLD_ERR_SINGULAR,
                           "SQP step: the %lld active constraint gradients "
                           "are dependent on the %lld free variables",
                           (long long)na, (long long)nf);
    }
    *out = s;
    return FOLD_OK;
}

fold_int learn_sqp_nz(const learn_sqp *s)
{
    return s->nz;
}

fold_status learn_sqp_vjp(learn_sqp *s, const double *xbar, int method, double *pbar,
                          fold_int *iterations)
{
    fold_map_def def = {.name = "SQP step",
                        .nz = s->nz,
                        .np = s->n,
                        .phi_v = phi_v,
                        .phit_v = phit_v,
                        .psi_v = psi_v,
                        .psit_v = psit_v,
                        .user_data = s};
    fold_map *map = NULL;
    fold_settings set;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_status st;
    memset(s->t3, 0, (size_t)s->nz * sizeof(double));
    for (fold_int j = 0; j < s->nf; j++)
        s->t3[j] = xbar[s->def.free_idx[j]];
    /* cp at the solution (an unrolled run may have left another point's) */
    if (s->def.eval(&s->def, s->def.x, s->def.lam, s->p, NULL, NULL, NULL, NULL, s->cp))
        return learn_error(FOLD_ERR_CALLBACK, "SQP step: evaluation at the solution failed");
    fold_settings_default(&set);
    set.backward.method = method == LEARN_BACKWARD_GMRES ? FOLD_BACKWARD_GMRES : FOLD_BACKWARD_LFPI;
    set.backward.tol = 1e-12;
    set.backward.max_iter = 200000;
    set.backward.restart = 50;
    set.precond.kind = FOLD_PRECOND_NONE;
    st = fold_map_create(&def, &map);
    if (st == FOLD_OK) st = fold_map_vjp(map, &set, s->t3, pbar, &info);
    fold_map_free(map);
    if (st < 0)
        return learn_error(st, "SQP step fold (%s): %s", learn_backward_name(method),
                           fold_last_error());
    *iterations = info.iterations;
    return FOLD_OK;
}

void learn_sqp_start(const learn_sqp *s, const double *x0, double *z0)
{
    for (fold_int j = 0; j < s->nf; j++)
        z0[j] = x0 ? x0[s->def.free_idx[j]] : 0;
    memset(z0 + s->nf, 0, (size_t)s->na * sizeof *z0);
}

fold_status learn_sqp_run(learn_sqp *s, const double *z0, fold_int max_iter, double tol, double *z,
                          double *x, fold_int *iterations)
{
    double step = HUGE_VAL, zmax = 0;
    fold_int k;
    memcpy(z, z0, (size_t)s->nz * sizeof *z);
    for (k = 0; k < max_iter && step > tol * (1 + zmax); k++) {
        int rc = it_update(z, s->p, s->t2, s);
        if (rc == 2)
            return learn_error(FOLD_ERR_SINGULAR,
                               "SQP iteration %lld: the active constraint "
                               "gradients are dependent at the iterate",
                               (long long)k);
        if (rc)
            return learn_error(FOLD_ERR_CALLBACK, "SQP iteration %lld: evaluation failed",
                               (long long)k);
        step = zmax = 0;
        for (fold_int i = 0; i < s->nz; i++) {
            if (!isfinite(s->t2[i]))
                return learn_error(FOLD_ERR_NONFINITE,
                                   "SQP iteration %lld diverged "
                                   "(z[%lld] = %g)",
                                   (long long)k, (long long)i, s->t2[i]);
            step = fmax(step, fabs(s->t2[i] - z[i]));
            zmax = fmax(zmax, fabs(s->t2[i]));
            z[i] = s->t2[i];
        }
    }
    *iterations = k;
    memcpy(x, s->def.x, (size_t)s->n * sizeof *x);
    for (fold_int j = 0; j < s->nf; j++)
        x[s->def.free_idx[j]] = z[j];
    if (step > tol * (1 + zmax)) /* z and x hold the last iterate */
        return learn_error(FOLD_ERR_NOT_CONVERGED,
                           "SQP iteration did not converge in %lld "
                           "steps (last step %g)",
                           (long long)max_iter, step);
    return FOLD_OK;
}

fold_status learn_sqp_unroll_vjp(learn_sqp *s, const double *z0, fold_int iters, const double *xbar,
                                 double *pbar, size_t *bytes)
{
    fold_step_def def = {"SQP iteration", s->nz, s->n, it_update, it_phit, it_psit, s};
    fold_iter_info info = FOLD_ITER_INFO_INIT;
    double *zbar = calloc((size_t)s->nz, sizeof *zbar);
    fold_status st;
    if (!zbar) return learn_error(FOLD_ERR_MEMORY, "SQP unroll: zbar");
    for (fold_int j = 0; j < s->nf; j++)
        zbar[j] = xbar[s->def.free_idx[j]];
    st = fold_step_unroll_vjp(
        &def, &(fold_unroll_run){.p = s->p, .start = z0, .iters = iters, .bar = zbar}, NULL, pbar,
        &info);
    free(zbar);
    if (st < 0) return learn_error(st, "SQP unroll: %s", fold_last_error());
    *bytes = info.bytes_stored;
    return FOLD_OK;
}
