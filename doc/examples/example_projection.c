/* Worked example (doc/api/README.md): the projection of a point p onto the simplex
 *     x*(p) = argmin 1/2 |x - p|^2  s.t.  sum(x) = 1, x >= 0
 * solved by Ipopt, then differentiated: a JVP, a VJP and the optimal-value gradient.
 * Built by meson as part of the build and run as a test. */
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
    fold_forward_info fwd;
    fold_backward_info bwd;
    double x[N], dx[N], pbar[N], grad[N];
    const double dp[N] = {1, 0, 0, 0}, xbar[N] = {1, 0, 0, 0};
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

    /* Reverse mode: gradient of x0* with respect to every p, one solve. */
    if ((st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, &bwd)) != FOLD_OK) goto fail;
    printf("d x0*/dp = (%.4f, %.4f, %.4f, %.4f)  [%lld active bounds]\n", pbar[0], pbar[1], pbar[2],
           pbar[3], (long long)bwd.n_active_bounds);

    /* Envelope theorem: gradient of the optimal value, no solve. */
    if ((st = fold_value_gradient(solver, grad)) != FOLD_OK) goto fail;
    printf("d f*/dp = (%.4f, %.4f, %.4f, %.4f)\n", grad[0], grad[1], grad[2], grad[3]);

    fold_solver_free(solver);
    fold_problem_free(prob);
    return 0;
fail:
    fprintf(stderr, "error: %s: %s\n", fold_status_string(st), fold_last_error());
    fold_solver_free(solver);
    fold_problem_free(prob);
    return 1;
}
