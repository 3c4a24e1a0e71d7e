/* Benchmark of the direct KKT fold on a bound-constrained banded least-squares family with a
 * parametric target (doc/benchmarks.md, "Direct fold"):
 *   min 1/2 ||B x - p||^2 + reg/2 ||x||^2,  -1 <= x <= 1,  B tridiagonal, np = n.
 * Prints forward (Ipopt) time, analysis/factorization/solve times of the fold, one vjp and
 * one jvp, factor nonzeros and peak memory. Usage: bench_direct [n ...] (default 1e3 1e4 1e5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/random.h"
#include "foldopt.h"

#define REG 1e-2
static const double B_SUB = -0.5, B_DIAG = 1.0, B_SUP = 0.25; /* (Bx)_i = .. */

typedef struct {
    fold_int n;
} bench_prob;

/* y = B x */
static void apply_b(fold_int n, const double *x, double *y)
{
    for (fold_int i = 0; i < n; i++)
        y[i] = B_DIAG * x[i] + (i > 0 ? B_SUB * x[i - 1] : 0) + (i + 1 < n ? B_SUP * x[i + 1] : 0);
}

/* y = B' r */
static void apply_bt(fold_int n, const double *r, double *y)
{
    for (fold_int j = 0; j < n; j++)
        y[j] = B_DIAG * r[j] + (j + 1 < n ? B_SUB * r[j + 1] : 0) + (j > 0 ? B_SUP * r[j - 1] : 0);
}

/* B_kj */
static double b_entry(fold_int n, fold_int k, fold_int j)
{
    if (k < 0 || k >= n || j < 0 || j >= n) return 0;
    return k == j ? B_DIAG : k == j + 1 ? B_SUB : k + 1 == j ? B_SUP : 0;
}

static int f_cb(const double *x, const double *p, double *obj, void *ud)
{
    fold_int n = ((bench_prob *)ud)->n;
    double *r = malloc((size_t)n * sizeof *r), v = 0;
    if (!r) return -1;
    apply_b(n, x, r);
    for (fold_int i = 0; i < n; i++)
        v += 0.5 * (r[i] - p[i]) * (r[i] - p[i]) + 0.5 * REG * x[i] * x[i];
    free(r);
    *obj = v;
    return 0;
}

static int grad_cb(const double *x, const double *p, double *g, void *ud)
{
    fold_int n = ((bench_prob *)ud)->n;
    double *r = malloc((size_t)n * sizeof *r);
    if (!r) return -1;
    apply_b(n, x, r);
    for (fold_int i = 0; i < n; i++)
        r[i] -= p[i];
    apply_bt(n, r, g);
    for (fold_int i = 0; i < n; i++)
        g[i] += REG * x[i];
    free(r);
    return 0;
}

static fold_int *hr, *hc, *lr, *lc;
static fold_int nh, nl;

static int hess_cb(const double *x, const double *p, double s, const double *lam, double *v,
                   void *ud)
{
    fold_int n = ((bench_prob *)ud)->n;
    for (fold_int t = 0; t < nh; t++) {
        fold_int i = hr[t], j = hc[t];
        double h = i == j ? REG : 0;
        for (fold_int k = i - 1; k <= i + 1; k++)
            h += b_entry(n, k, i) * b_entry(n, k, j);
        v[t] = s * h;
    }
    return 0;
}

static int grad_p_cb(const double *x, const double *p, double *gp, void *ud)
{
    fold_int n = ((bench_prob *)ud)->n;
    apply_b(n, x, gp);
    for (fold_int i = 0; i < n; i++)
        gp[i] = p[i] - gp[i];
    return 0;
}

/* d(grad_x f)/dp = -B' : entry (i, j) = -B_ji. */
static int hess_lp_cb(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    fold_int n = ((bench_prob *)ud)->n;
    for (fold_int t = 0; t < nl; t++)
        v[t] = -b_entry(n, lc[t], lr[t]);
    return 0;
}

static void patterns(fold_int n)
{
    hr = malloc((size_t)(3 * n) * sizeof *hr);
    hc = malloc((size_t)(3 * n) * sizeof *hc);
    lr = malloc((size_t)(3 * n) * sizeof *lr);
    lc = malloc((size_t)(3 * n) * sizeof *lc);
    nh = nl = 0;
    for (fold_int i = 0; i < n; i++) {
        for (fold_int d = 0; d <= 2 && d <= i; d++) {
            hr[nh] = i;
            hc[nh++] = i - d;
        }
        for (fold_int j = i - 1; j <= i + 1; j++)
            if (j >= 0 && j < n) {
                lr[nl] = i;
                lc[nl++] = j;
            }
    }
}

static double peak_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* A nearby parameter (p + 1e-8 xbar), warm-started: the same active set, so the next vjp
 * refactors numerically on the kept symbolic analysis. */
static fold_status second_solution(fold_solver *solver, const double *p, fold_int n,
                                   const double *xbar, double *pbar, fold_forward_info *fi,
                                   fold_backward_info *vi)
{
    double *p2 = malloc((size_t)n * sizeof *p2);
    fold_status st;
    if (!p2) return FOLD_ERR_MEMORY;
    for (fold_int i = 0; i < n; i++)
        p2[i] = p[i] + 1e-8 * xbar[i];
    st = fold_solve(solver, p2, fi);
    if (st >= 0) st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, vi);
    free(p2);
    return st;
}

static int run(fold_int n)
{
    bench_prob bp = {n};
    double *xl = malloc((size_t)n * 8), *xu = malloc((size_t)n * 8), *p = malloc((size_t)n * 8);
    double *xbar = malloc((size_t)n * 8), *pbar = malloc((size_t)n * 8);
    double *dx = malloc((size_t)n * 8);
    uint64_t s = 12345;
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_backward_info vi = FOLD_BACKWARD_INFO_INIT, ji = FOLD_BACKWARD_INFO_INIT,
                       v2 = FOLD_BACKWARD_INFO_INIT;
    fold_forward_info f2 = FOLD_FORWARD_INFO_INIT;
    fold_status st;
    patterns(n);
    for (fold_int i = 0; i < n; i++) {
        xl[i] = -1;
        xu[i] = 1;
        p[i] = 3.0 * (rng_unit(rng_lcg64(&s)) - 0.5) * 2.0; /* uniform in [-3, 3] */
        xbar[i] = (i % 7) - 3.0;
    }
    fold_nlp_def def = {.name = "banded-ls",
                        .n = n,
                        .m = 0,
                        .np = n,
                        .x_lower = xl,
                        .x_upper = xu,
                        .p_default = p,
                        .hess_l = {nh, hr, hc},
                        .hess_lp = {nl, lr, lc},
                        .cb = {.f = f_cb,
                               .grad_f = grad_cb,
                               .hess_l = hess_cb,
                               .grad_f_p = grad_p_cb,
                               .hess_lp = hess_lp_cb},
                        .user_data = &bp};
    fold_settings set;
    fold_settings_default(&set);
    set.backward.factorization = FOLD_FACTOR_AUTO; /* convex: CHOLMOD LDL' applies */
    set.forward.tol = 1e-10;
    if ((st = fold_problem_create(&def, &prob)) || (st = fold_solver_create(prob, &set, &solver)) ||
        (st = fold_solve(solver, p, &fi)) < 0 ||
        (st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, &vi)) < 0 ||
        (st = fold_jvp(solver, xbar, &(fold_dz){.x = dx}, &ji)) < 0 ||
        (st = second_solution(solver, p, n, xbar, pbar, &f2, &v2)) < 0) {
        fprintf(stderr, "n = %lld: %s: %s\n", (long long)n, fold_status_name(st),
                fold_last_error());
        return 1;
    }
    printf("%9lld %6lld %9.3f %7lld %8lld %9.4f %9.4f %9.4f %9.4f %9.4f %9.4f %10lld %8.1f %s "
           "%7.3f %9.4f %s\n",
           (long long)n, (long long)fi.iterations, fi.solve_s, (long long)vi.n_active_bounds,
           (long long)vi.dim, vi.assemble_s, vi.analyze_s, vi.factor_s, vi.solve_s, vi.total_s,
           ji.total_s, (long long)vi.factor_nnz, peak_mib(),
           vi.factorization == FOLD_FACTOR_CHOLMOD ? "cholmod" : "umfpack", f2.solve_s, v2.total_s,
           v2.reused_analysis ? "yes" : "no");
    fold_solver_free(solver);
    fold_problem_free(prob);
    free(xl);
    free(xu);
    free(p);
    free(xbar);
    free(pbar);
    free(dx);
    free(hr);
    free(hc);
    free(lr);
    free(lc);
    return 0;
}

int main(int argc, char **argv)
{
    fold_int sizes[16] = {1000, 10000, 100000};
    int count = 3, rc = 0;
    if (argc > 1) {
        count = 0;
        for (int a = 1; a < argc && count < 16; a++)
            sizes[count++] = (fold_int)atof(argv[a]);
    }
    printf("# direct KKT fold, banded least squares with bounds (active-set form, auto "
           "factorization, default ordering)\n");
    printf("%9s %6s %9s %7s %8s %9s %9s %9s %9s %9s %9s %10s %8s %s %7s %9s %s\n", "n", "iters",
           "ipopt_s", "active", "kkt_dim", "assem_s", "analyz_s", "factor_s", "solve_s", "vjp_s",
           "jvp_s", "factor_nnz", "peak_MiB", "factor", "ipopt2_s", "vjp2_s", "reused");
    for (int k = 0; k < count; k++)
        rc |= run(sizes[k]);
    return rc;
}
