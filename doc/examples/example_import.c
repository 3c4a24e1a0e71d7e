/* Worked example (doc/api/README.md): differentiate a solution computed by another solver.
 * An economic dispatch of G generators,
 *     min sum_j a_j/2 pg_j^2 + c_j pg_j   s.t.  sum_j pg_j = D,  pmin_j <= pg_j <= pmax_j,
 * with parameters p = (D, c_0 .. c_{G-1}), is solved by the lambda iteration of power-system
 * textbooks (bisection on the system price). Only the dispatch pg is imported: foldopt
 * recovers the multipliers by least squares, checks the KKT conditions, and then gives a VJP
 * and the gradient of the cost. Checks: the recovered price equals the lambda iteration's,
 * d cost / dD is that price (envelope theorem), and the VJP matches central differences of
 * lambda-iteration re-solves. Built by meson and run as a test: exits 1 when a check fails. */
#include <math.h>
#include <stdio.h>

#include <foldopt.h>

#define G 4        /* generators */
#define NP (1 + G) /* D, then c_j */

static const double a[G] = {0.02, 0.04, 0.03, 0.05}; /* $/MW^2h */
static const double pmin[G] = {10, 10, 10, 10};      /* MW */
static const double pmax[G] = {300, 120, 200, 150};  /* MW */

/* The other solver: the lambda iteration. Each unit runs at its price-taking output
 * clip((price - c_j) / a_j); the price is bisected until they serve D. */
static void dispatch_at(const double *p, double price, double *pg)
{
    for (int j = 0; j < G; j++)
        pg[j] = fmin(pmax[j], fmax(pmin[j], (price - p[1 + j]) / a[j]));
}

static double lambda_iteration(const double *p, double *pg)
{
    double lo = 0, hi = 1e4, served = 0;
    for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; it++) {
        double mid = 0.5 * (lo + hi);
        dispatch_at(p, mid, pg);
        served = 0;
        for (int j = 0; j < G; j++)
            served += pg[j];
        *(served < p[0] ? &lo : &hi) = mid;
    }
    dispatch_at(p, 0.5 * (lo + hi), pg);
    return 0.5 * (lo + hi);
}

/* The same problem for foldopt: cost, balance sum pg - D = 0 and their derivatives. */
static int f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = 0;
    for (int j = 0; j < G; j++)
        *obj += 0.5 * a[j] * x[j] * x[j] + p[1 + j] * x[j];
    return 0;
}

static int grad_f(const double *x, const double *p, double *grad, void *ud)
{
    for (int j = 0; j < G; j++)
        grad[j] = a[j] * x[j] + p[1 + j];
    return 0;
}

static int g(const double *x, const double *p, double *gx, void *ud)
{
    gx[0] = x[0] + x[1] + x[2] + x[3] - p[0];
    return 0;
}

static int jac_g(const double *x, const double *p, double *v, void *ud)
{
    for (int j = 0; j < G; j++)
        v[j] = 1;
    return 0;
}

static int hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                  void *ud)
{
    for (int j = 0; j < G; j++)
        v[j] = s * a[j];
    return 0;
}

static int grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    gp[0] = 0; /* d cost / dD at fixed pg */
    for (int j = 0; j < G; j++)
        gp[1 + j] = x[j];
    return 0;
}

static int jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    v[0] = -1; /* d(sum pg - D) / dD */
    return 0;
}

static int hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    for (int j = 0; j < G; j++)
        v[j] = 1; /* d(a_j pg_j + c_j + lam) / dc_j */
    return 0;
}

int main(void)
{
    static const fold_int zero[G] = {0, 0, 0, 0}, gens[G] = {0, 1, 2, 3}, costs[G] = {1, 2, 3, 4};
    static const double balance[1] = {0};
    const double p[NP] = {400, 20, 18, 22, 30}; /* D = 400 MW, c_j in $/MWh */
    fold_nlp_def def = {
        .name = "economic dispatch",
        .n = G,
        .m = 1,
        .np = NP,
        .x_lower = pmin,
        .x_upper = pmax,
        .g_lower = balance,
        .g_upper = balance,
        .p_default = p,
        .jac_g = {G, zero, gens},    /* d balance / d pg_j */
        .hess_l = {G, gens, gens},   /* diagonal */
        .jac_g_p = {1, zero, zero},  /* d balance / dD */
        .hess_lp = {G, gens, costs}, /* d grad_j / dc_j */
        .cb = {.f = f,
               .grad_f = grad_f,
               .g = g,
               .jac_g = jac_g,
               .hess_l = hess_l,
               .grad_f_p = grad_f_p,
               .hess_lp = hess_lp,
               .jac_g_p = jac_g_p},
    };
    fold_problem *prob = NULL;
    fold_solver *solver = NULL;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double pg[G], lam, grad[NP], pbar[NP];
    const double xbar[G] = {1, 0, 0, 0}; /* the output differentiated: pg_0 */
    fold_status st;

    double price = lambda_iteration(p, pg);
    printf("lambda iteration: price %.4f $/MWh, pg = (%.2f, %.2f, %.2f, %.2f) MW\n", price, pg[0],
           pg[1], pg[2], pg[3]);

    /* Import pg alone: every multiplier is estimated by least squares at pg. */
    if ((st = fold_problem_create(&def, &prob)) != FOLD_OK ||
        (st = fold_solver_create(prob, NULL, &solver)) != FOLD_OK ||
        (st = fold_solver_import(solver, &(fold_import_point){.p = p, .x = pg}, &info)) != FOLD_OK)
        goto fail;
    fold_solver_solution(solver, NULL, &lam, NULL, NULL, NULL);
    printf("imported: KKT residuals %.1e %.1e %.1e, multipliers %s, balance lam = %.4f\n",
           info.kkt_stationarity, info.kkt_feasibility, info.kkt_complementarity,
           info.duals_estimated ? "estimated" : "given", lam);

    /* d cost / dp without a solve (envelope theorem): the price, then the dispatch. */
    if ((st = fold_value_gradient(solver, grad)) != FOLD_OK) goto fail;
    printf("d cost / dD = %.4f $/MWh, d cost / dc = (%.2f, %.2f, %.2f, %.2f)\n", grad[0], grad[1],
           grad[2], grad[3], grad[4]);

    /* Reverse mode: how pg_0 moves with the demand and with every cost, one solve. */
    if ((st = fold_vjp(solver, &(fold_zbar){.x = xbar}, pbar, NULL)) != FOLD_OK) goto fail;
    printf("d pg_0 / dp = (%.4f, %.2f, %.2f, %.2f, %.2f)\n", pbar[0], pbar[1], pbar[2], pbar[3],
           pbar[4]);

    /* Checks against the lambda iteration: it is piecewise linear in p, so its central
     * differences are exact up to rounding while no unit changes limit. */
    double err = 0, h = 1e-3;
    for (int k = 0; k < NP; k++) {
        double q[NP], up[G], down[G];
        for (int i = 0; i < NP; i++)
            q[i] = p[i];
        q[k] = p[k] + h;
        lambda_iteration(q, up);
        q[k] = p[k] - h;
        lambda_iteration(q, down);
        err = fmax(err, fabs((up[0] - down[0]) / (2 * h) - pbar[k]));
    }
    int ok =
        fabs(-lam - price) <= 1e-6 * price && fabs(grad[0] - price) <= 1e-6 * price && err <= 1e-6;
    printf("price = -lam = d cost / dD: %s; VJP against central differences of re-solves: "
           "%.1e (bound 1e-6)\n",
           ok ? "yes" : "NO", err);

    fold_solver_free(solver);
    fold_problem_free(prob);
    return ok ? 0 : 1;
fail:
    fprintf(stderr, "error: %s: %s\n", fold_status_string(st), fold_last_error());
    fold_solver_free(solver);
    fold_problem_free(prob);
    return 1;
}
