/* Worked example (doc/api/README.md, map.md): a box-constrained QP
 *     x*(p) = argmin 1/2 x'Qx - p'x   s.t.  0 <= x <= 1,   Q = tridiag(-1, 3, -1),
 * solved by projected gradient, x <- P_box(x - step (Q x - p)), then differentiated through
 * that step's fixed point (a fold map, foldopt/map.h): one VJP by each backward method,
 * direct, LFPI and GMRES. Checks: every VJP matches central differences of re-solves (x* is
 * piecewise linear in p: exact up to the solves' accuracy), and <J dp, xbar> = <dp, J' xbar>
 * with a JVP. Built by meson and run as a test: exits 1 when a check fails. */
#include <math.h>
#include <stdio.h>

#include <foldopt.h>

#define N 6

static void q_times(const double *v, double *out)
{
    for (int i = 0; i < N; i++)
        out[i] = 3 * v[i] - (i > 0 ? v[i - 1] : 0) - (i < N - 1 ? v[i + 1] : 0);
}

/* f's gradient Q x - p, its Hessian Q by products, and the cross term C = d grad / dp = -I. */
static int grad(const double *x, const double *p, double *gr, void *ud)
{
    q_times(x, gr);
    for (int i = 0; i < N; i++)
        gr[i] -= p[i];
    return 0;
}

static int hess_v(const double *x, const double *p, const double *v, double *out, void *ud)
{
    q_times(v, out);
    return 0;
}

static int cross_v(const double *x, const double *p, const double *v, double *out, void *ud)
{
    for (int i = 0; i < N; i++)
        out[i] = -v[i]; /* C dp and C' w alike: C = -I */
    return 0;
}

/* x*(p + h e_k) by projected gradient, to machine precision. */
static fold_status solve(const fold_iter_def *def, const double *p, int k, double h, double *x)
{
    double q[N];
    for (int i = 0; i < N; i++)
        q[i] = p[i] + (i == k ? h : 0);
    return fold_iter_solve(def, &(fold_iter_run){.p = q, .max_iter = 100000, .tol = 1e-15}, x, NULL,
                           NULL);
}

int main(void)
{
    static const double lower[N] = {0, 0, 0, 0, 0, 0}, upper[N] = {1, 1, 1, 1, 1, 1};
    const double p[N] = {4, -1, 2, 0.5, 5, -2};
    const double xbar[N] = {1, 2, 3, 4, 5, 6}, dp[N] = {0, 1, 0, 0, 0, 0};
    fold_iter_def def = {
        .kind = FOLD_ITER_PGD,
        .obj = {.n = N,
                .np = N,
                .grad = grad,
                .hess_v = hess_v,
                .cross_v = cross_v,
                .cross_t_v = cross_v},
        .set = {.kind = FOLD_SET_BOX, .lower = lower, .upper = upper},
        .step = 0.2, /* 1 / L with L = 5 >= ||Q|| */
    };
    double x[N], fd[N], dx[N];
    fold_iter_info it = FOLD_ITER_INFO_INIT;
    fold_map *map = NULL;
    fold_status st;
    int ok = 1;

    /* Forward: projected gradient from 0 until the step is below 1e-15 (1 + |x|). */
    const fold_iter_run run = {.p = p, .max_iter = 100000, .tol = 1e-15};
    if ((st = fold_iter_solve(&def, &run, x, NULL, &it)) != FOLD_OK) goto fail;
    printf("x* = (%.4f, %.4f, %.4f, %.4f, %.4f, %.4f) after %lld projected-gradient steps\n", x[0],
           x[1], x[2], x[3], x[4], x[5], (long long)it.iterations);

    /* The reference: d (xbar . x*) / dp_k by central differences of re-solves. */
    for (int k = 0; k < N; k++) {
        double up[N], down[N], h = 1e-4;
        if ((st = solve(&def, p, k, h, up)) != FOLD_OK ||
            (st = solve(&def, p, k, -h, down)) != FOLD_OK)
            goto fail;
        fd[k] = 0;
        for (int i = 0; i < N; i++)
            fd[k] += xbar[i] * (up[i] - down[i]) / (2 * h);
    }

    /* The fold map of one step at x*: Phi = dU/dx, Psi = dU/dp, products only. */
    if ((st = fold_iter_map(&def, x, p, &map)) != FOLD_OK) goto fail;
    fold_settings set;
    fold_settings_default(&set);
    if ((st = fold_map_jvp(map, &set, dp, dx, NULL)) != FOLD_OK) goto fail;
    double jdp_xbar = 0;
    for (int i = 0; i < N; i++)
        jdp_xbar += dx[i] * xbar[i];

    const fold_backward_method methods[] = {FOLD_BACKWARD_DIRECT, FOLD_BACKWARD_LFPI,
                                            FOLD_BACKWARD_GMRES};
    const char *names[] = {"direct", "lfpi", "gmres"};
    for (int m = 0; m < 3; m++) {
        double pbar[N], err = 0;
        fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
        set.backward.method = methods[m];
        if ((st = fold_map_vjp(map, &set, xbar, pbar, &bi)) != FOLD_OK) goto fail;
        for (int k = 0; k < N; k++)
            err = fmax(err, fabs(pbar[k] - fd[k]));
        int adjoint = fabs(pbar[1] - jdp_xbar) <= 1e-8 * (1 + fabs(jdp_xbar));
        ok = ok && err <= 1e-6 && adjoint;
        printf("%-6s pbar = (%.4f, %.4f, %.4f, %.4f, %.4f, %.4f), %2lld iterations, "
               "|pbar - fd| %.0e, <J dp, xbar> = <dp, pbar>: %s\n",
               names[m], pbar[0], pbar[1], pbar[2], pbar[3], pbar[4], pbar[5],
               (long long)bi.iterations, err, adjoint ? "yes" : "NO");
    }
    fold_map_free(map);
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "error: %s: %s\n", fold_status_string(st), fold_last_error());
    fold_map_free(map);
    return 1;
}
