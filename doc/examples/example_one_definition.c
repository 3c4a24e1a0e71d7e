/* Worked example (doc/api/README.md, problem.md "Hessian forms", map.md "From a problem"):
 * one problem definition served by Ipopt + the KKT fold and by projected gradient + its fold
 * map. The box-constrained QP
 *     x*(p) = argmin 1/2 x'Qx - p'x   s.t.  0 <= x <= 1,   Q = tridiag(-1, 3, -1),
 * is written once as a fold_nlp_def with a dense Hessian (FOLD_HESS_DENSE: the packed lower
 * triangle, no pattern to write). Checks: the two solutions and the two VJPs agree, the VJP
 * matches central differences of re-solves, and <J dp, xbar> = <dp, J' xbar>. Built by meson
 * and run as a test: exits 1 when a check fails. */
#include <math.h>
#include <stdio.h>

#include <foldopt.h>

#define N 6

static double q_entry(int i, int j)
{
    return i == j ? 3.0 : (i - j == 1 || j - i == 1) ? -1.0 : 0.0;
}

static int f(const double *x, const double *p, double *obj, void *ud)
{
    double s = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            s += 0.5 * x[i] * q_entry(i, j) * x[j];
    for (int i = 0; i < N; i++)
        s -= p[i] * x[i];
    *obj = s;
    return 0;
}

static int grad_f(const double *x, const double *p, double *g, void *ud)
{
    for (int i = 0; i < N; i++) {
        g[i] = -p[i];
        for (int j = 0; j < N; j++)
            g[i] += q_entry(i, j) * x[j];
    }
    return 0;
}

/* The dense form: column j, rows j..N-1, one column after the other. */
static int hess_dense(const double *x, const double *p, double obj_factor, const double *lam,
                      double *values, void *ud)
{
    int k = 0;
    for (int j = 0; j < N; j++)
        for (int i = j; i < N; i++)
            values[k++] = obj_factor * q_entry(i, j);
    return 0;
}

/* df/dp = -x, and d(grad_x f)/dp = -I on the identity pattern. */
static int grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    for (int i = 0; i < N; i++)
        gp[i] = -x[i];
    return 0;
}

static int hess_lp(const double *x, const double *p, const double *lam, double *values, void *ud)
{
    for (int i = 0; i < N; i++)
        values[i] = -1.0;
    return 0;
}

static const fold_int diag[N] = {0, 1, 2, 3, 4, 5};
static const double lower[N] = {0, 0, 0, 0, 0, 0}, upper[N] = {1, 1, 1, 1, 1, 1};

/* x*(p + h e_k) by projected gradient, to machine precision. */
static fold_status resolve(const fold_iter_def *it, const double *p, int k, double h, double *x)
{
    double q[N];
    for (int i = 0; i < N; i++)
        q[i] = p[i] + (i == k ? h : 0);
    return fold_iter_solve(it, &(fold_iter_run){.p = q, .max_iter = 100000, .tol = 1e-15}, x, NULL,
                           NULL);
}

/* (v_0, ..., v_5) to 4 decimals, zeros without a sign. */
static void print_vec(const char *label, const double *v)
{
    printf("%s (", label);
    for (int i = 0; i < N; i++)
        printf("%s%.4f", i ? ", " : "", fabs(v[i]) < 5e-5 ? 0.0 : v[i]);
    printf(")");
}

static double max_diff(const double *a, const double *b)
{
    double d = 0;
    for (int i = 0; i < N; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

int main(void)
{
    const double p[N] = {4, -1, 2, 0.5, 5, -2};
    const double xbar[N] = {1, 2, 3, 4, 5, 6}, dp[N] = {0, 1, 0, 0, 0, 0};
    const fold_nlp_def def = {
        .name = "box QP",
        .n = N,
        .np = N,
        .x_lower = lower,
        .x_upper = upper,
        .p_default = p,
        .hess_lp = {N, diag, diag},
        .cb = {.f = f,
               .grad_f = grad_f,
               .hess_l = hess_dense,
               .grad_f_p = grad_f_p,
               .hess_lp = hess_lp},
        .hess_form = FOLD_HESS_DENSE,
    };
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_map *map = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_iter_info ii = FOLD_ITER_INFO_INIT;
    double x_ipopt[N], x_pgd[N], pbar_kkt[N], pbar_map[N], fd[N], dx[N], xp[N], xm[N];
    fold_status st;
    int ok = 1;

    if ((st = fold_problem_create(&def, &prob)) != FOLD_OK) goto fail;
    /* Ipopt, then the KKT fold (default settings: direct backward solve) */
    if ((st = fold_solver_create(prob, NULL, &solver)) != FOLD_OK ||
        (st = fold_solve(solver, p, &fi)) != FOLD_OK ||
        (st = fold_solver_solution(solver, x_ipopt, NULL, NULL, NULL, NULL)) != FOLD_OK ||
        (st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar_kkt, NULL)) != FOLD_OK)
        goto fail;
    /* Projected gradient on the same problem (step 1/L, L = 5 >= ||Q||), then its fold map */
    const fold_iter_def it = {.kind = FOLD_ITER_PGD, .step = 0.2, .problem = prob};
    if ((st = fold_iter_solve(&it, &(fold_iter_run){.p = p, .max_iter = 100000, .tol = 1e-15},
                              x_pgd, NULL, &ii)) != FOLD_OK ||
        (st = fold_iter_map(&it, x_pgd, p, &map)) != FOLD_OK ||
        (st = fold_map_vjp(map, NULL, xbar, pbar_map, NULL)) != FOLD_OK ||
        (st = fold_map_jvp(map, NULL, dp, dx, NULL)) != FOLD_OK)
        goto fail;
    print_vec("Ipopt:              x* =", x_ipopt);
    printf(", %lld iterations\n", (long long)fi.iterations);
    print_vec("projected gradient: x* =", x_pgd);
    printf(", %lld steps\n", (long long)ii.iterations);
    print_vec("KKT fold VJP pbar =", pbar_kkt);
    print_vec("\nmap fold VJP pbar =", pbar_map);
    printf("\n");

    /* Checks: agreement, central differences of re-solves (x* is piecewise linear in p), and
     * the adjoint identity. */
    const double h = 1e-4;
    for (int k = 0; k < N; k++) {
        if ((st = resolve(&it, p, k, h, xp)) != FOLD_OK || (st = resolve(&it, p, k, -h, xm)))
            goto fail;
        fd[k] = 0;
        for (int i = 0; i < N; i++)
            fd[k] += xbar[i] * (xp[i] - xm[i]) / (2 * h);
    }
    double lhs = 0, rhs = 0;
    for (int i = 0; i < N; i++) {
        lhs += dx[i] * xbar[i];
        rhs += dp[i] * pbar_map[i];
    }
    int agree = max_diff(x_ipopt, x_pgd) < 1e-6 && max_diff(pbar_kkt, pbar_map) < 1e-8;
    int match = max_diff(pbar_map, fd) < 1e-6, adjoint = fabs(lhs - rhs) < 1e-12;
    printf("solutions and VJPs agree: %s; VJP = central differences of re-solves: %s; "
           "<J dp, xbar> = <dp, J' xbar>: %s\n",
           agree ? "yes" : "no", match ? "yes" : "no", adjoint ? "yes" : "no");
    ok = agree && match && adjoint;
    fold_map_free(map);
    fold_solver_free(solver);
    fold_problem_free(prob);
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "example_one_definition: %s: %s\n", fold_status_name(st), fold_last_error());
    fold_map_free(map);
    fold_solver_free(solver);
    fold_problem_free(prob);
    return 1;
}
