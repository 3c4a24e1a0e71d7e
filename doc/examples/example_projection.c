/* Worked example (doc/api/README.md): the projection of a point p onto the simplex
 *     x*(p) = argmin 1/2 |x - p|^2  s.t.  sum(x) = 1, x >= 0
 * solved by Ipopt, then differentiated through the KKT conditions: a JVP, a VJP and the
 * optimal-value gradient, each checked against central differences of re-solves and the VJP
 * against the JVP (<J dp, xbar> = <dp, J' xbar>). Built by meson and run as a test: exits 1
 * when a check fails. */
#include <math.h>
#include <stdio.h>

#include <foldopt.h>

#define N 4

static int f(const double *x, const double *p, double *obj, void *ud)
{
    double v = 0;
    for (int j = 0; j < N; j++)
        v += 0.5 * (x[j] - p[j]) * (x[j] - p[j]);
    *obj = v;
    return 0;
}

static int grad_f(const double *x, const double *p, double *grad, void *ud)
{
    for (int j = 0; j < N; j++)
        grad[j] = x[j] - p[j];
    return 0;
}

static int g(const double *x, const double *p, double *gx, void *ud)
{
    gx[0] = x[0] + x[1] + x[2] + x[3];
    return 0;
}

static int ones(const double *x, const double *p, double *v, void *ud)
{
    for (int j = 0; j < N; j++)
        v[j] = 1;
    return 0;
}

static int hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                  void *ud)
{
    for (int j = 0; j < N; j++)
        v[j] = s;
    return 0;
}

static int grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    for (int j = 0; j < N; j++)
        gp[j] = p[j] - x[j];
    return 0;
}

static int hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    for (int j = 0; j < N; j++)
        v[j] = -1; /* d(x_j - p_j)/dp_j */
    return 0;
}

/* w . x*(p + h e_k) and f*(p + h e_k) by a re-solve (the stored solution moves there). */
static fold_status resolve(fold_solver *solver, const double *p, int k, double h, const double *w,
                           double *wx, double *obj)
{
    double q[N], x[N];
    for (int j = 0; j < N; j++)
        q[j] = p[j] + (j == k ? h : 0);
    fold_status st = fold_solve(solver, q, NULL);
    if (st != FOLD_OK) return st;
    fold_solver_solution(solver, x, NULL, NULL, NULL, obj);
    *wx = 0;
    for (int j = 0; j < N; j++)
        *wx += w[j] * x[j];
    return FOLD_OK;
}

int main(void)
{
    static const fold_int row0[N] = {0, 0, 0, 0}, diag[N] = {0, 1, 2, 3};
    static const double lower[N] = {0, 0, 0, 0}, one[1] = {1};
    static const double p[N] = {0.8, 0.5, -0.2, 0.1};
    fold_nlp_def def = {
        .name = "simplex projection",
        .n = N,
        .m = 1,
        .np = N,
        .x_lower = lower,
        .g_lower = one,
        .g_upper = one,
        .jac_g = {N, row0, diag},
        .hess_l = {N, diag, diag},
        .hess_lp = {N, diag, diag},
        .cb = {.f = f,
               .grad_f = grad_f,
               .g = g,
               .jac_g = ones,
               .hess_l = hess_l,
               .grad_f_p = grad_f_p,
               .hess_lp = hess_lp},
    };
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_forward_info fwd = FOLD_FORWARD_INFO_INIT;
    fold_backward_info bwd = FOLD_BACKWARD_INFO_INIT;
    double x[N], dx[N], pbar[N], grad[N];
    const double dp[N] = {1, 0, 0, 0}, w[N] = {1, 2, 3, 4};
    fold_status st;

    if ((st = fold_problem_create(&def, &prob)) != FOLD_OK ||
        (st = fold_solver_create(prob, NULL, &solver)) != FOLD_OK ||
        (st = fold_solve(solver, p, &fwd)) != FOLD_OK)
        goto fail;
    fold_solver_solution(solver, x, NULL, NULL, NULL, NULL);
    printf("x* = (%.4f, %.4f, %.4f, %.4f) after %lld Ipopt iterations\n", x[0], x[1], x[2], x[3],
           (long long)fwd.iterations);

    /* Forward mode: how x* moves when p0 increases. */
    if ((st = fold_jvp(solver, dp, &(fold_dz){.x = dx}, &bwd)) != FOLD_OK) goto fail;
    printf("dx*/dp0 = (%.4f, %.4f, %.4f, %.4f)\n", dx[0], dx[1], dx[2], dx[3]);

    /* Reverse mode: gradient of w . x* with respect to every p, one solve. */
    if ((st = fold_vjp(solver, &(fold_zbar){.x = w}, pbar, &bwd)) != FOLD_OK) goto fail;
    printf("d (w . x*)/dp = (%.4f, %.4f, %.4f, %.4f)  [%lld active bounds]\n", pbar[0], pbar[1],
           pbar[2], pbar[3], (long long)bwd.n_active_bounds);

    /* Envelope theorem: gradient of the optimal value, no solve. */
    if ((st = fold_value_gradient(solver, grad)) != FOLD_OK) goto fail;
    printf("d f*/dp = (%.4f, %.4f, %.4f, %.4f)\n", grad[0], grad[1], grad[2], grad[3]);

    /* Checks. Adjointness: <J dp, w> = <dp, J' w> = pbar[0]. Central differences of re-solves
     * at a tight forward tolerance (x* is piecewise linear in p: the differences are exact up
     * to the re-solves' accuracy over h). */
    fold_settings tight;
    fold_settings_default(&tight);
    tight.forward.tol = 1e-12;
    if ((st = fold_solver_update_settings(solver, &tight)) != FOLD_OK) goto fail;
    double jdp_w = 0, err_vjp = 0, err_value = 0, h = 1e-3;
    for (int j = 0; j < N; j++)
        jdp_w += dx[j] * w[j];
    for (int k = 0; k < N; k++) {
        double wx_plus, wx_minus, f_plus, f_minus;
        if ((st = resolve(solver, p, k, h, w, &wx_plus, &f_plus)) != FOLD_OK ||
            (st = resolve(solver, p, k, -h, w, &wx_minus, &f_minus)) != FOLD_OK)
            goto fail;
        err_vjp = fmax(err_vjp, fabs((wx_plus - wx_minus) / (2 * h) - pbar[k]));
        err_value = fmax(err_value, fabs((f_plus - f_minus) / (2 * h) - grad[k]));
    }
    int ok = fabs(jdp_w - pbar[0]) <= 1e-12 && err_vjp <= 1e-6 && err_value <= 1e-6;
    printf("<J dp, w> = %.6f = <dp, J' w>; against central differences of re-solves: VJP "
           "%.1e, d f*/dp %.1e (bound 1e-6)\n",
           jdp_w, err_vjp, err_value);

    fold_solver_free(solver);
    fold_problem_free(prob);
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "error: %s: %s\n", fold_status_string(st), fold_last_error());
    fold_solver_free(solver);
    fold_problem_free(prob);
    return 1;
}
