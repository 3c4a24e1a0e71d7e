/* Parametric equality-constrained QP with a closed-form solution; see basic.h. */
#include "basic/basic.h"

#define N FOLD_PQP_N
static const double D[N] = {1.0, 2.0, 3.0, 4.0, 5.0};
static const double A[N] = {1.0, -1.0, 2.0, 0.5, 1.0};

static int f(const double *x, const double *p, double *obj, void *ud)
{
    double v = 0;
    for (int j = 0; j < N; j++)
        v += 0.5 * D[j] * x[j] * x[j] - p[j] * x[j];
    *obj = v;
    return 0;
}

static int grad_f(const double *x, const double *p, double *grad, void *ud)
{
    for (int j = 0; j < N; j++)
        grad[j] = D[j] * x[j] - p[j];
    return 0;
}

static int g(const double *x, const double *p, double *gx, void *ud)
{
    double v = 0;
    for (int j = 0; j < N; j++)
        v += A[j] * x[j];
    gx[0] = v - p[N];
    return 0;
}

static const fold_int jac_row[N] = {0, 0, 0, 0, 0};
static const fold_int jac_col[N] = {0, 1, 2, 3, 4};

static int jac_g(const double *x, const double *p, double *v, void *ud)
{
    for (int j = 0; j < N; j++)
        v[j] = A[j];
    return 0;
}

static const fold_int diag[N] = {0, 1, 2, 3, 4};

static int hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                  void *ud)
{
    for (int j = 0; j < N; j++)
        v[j] = s * D[j];
    return 0;
}

static int grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    for (int j = 0; j < N; j++)
        gp[j] = -x[j];
    gp[N] = 0;
    return 0;
}

static const fold_int gp_row[1] = {0};
static const fold_int gp_col[1] = {N};

static int jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    v[0] = -1;
    return 0;
}

/* d(grad_x f)/dq = -I. */
static int hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    for (int j = 0; j < N; j++)
        v[j] = -1;
    return 0;
}

fold_status fold_pqp_create(fold_problem **out)
{
    static double xu[N] = {100, 100, 100, 100, 100};
    static const double gl[1] = {0}, gu[1] = {0};
    static const double p0[N + 1] = {1.0, -2.0, 0.5, 3.0, 1.5, 2.0};
    fold_nlp_def def = {
        .name = "pqp",
        .n = N,
        .m = 1,
        .np = N + 1,
        .x_upper = xu,
        .g_lower = gl,
        .g_upper = gu,
        .p_default = p0,
        .jac_g = {N, jac_row, jac_col},
        .hess_l = {N, diag, diag},
        .jac_g_p = {1, gp_row, gp_col},
        .hess_lp = {N, diag, diag},
        .cb = {f, grad_f, g, jac_g, hess_l, grad_f_p, hess_lp, jac_g_p},
    };
    return fold_problem_create(&def, out);
}

void fold_pqp_solution(const double *p, double *x, double *lam, double *dxdp)
{
    /* lam = (a'D^-1 q - b) / (a'D^-1 a);  x = D^-1 (q - lam a). */
    double ada = 0, adq = 0;
    for (int j = 0; j < N; j++) {
        ada += A[j] * A[j] / D[j];
        adq += A[j] * p[j] / D[j];
    }
    double l = (adq - p[N]) / ada;
    if (lam) *lam = l;
    if (x)
        for (int j = 0; j < N; j++)
            x[j] = (p[j] - l * A[j]) / D[j];
    if (dxdp) {
        /* dlam/dq_k = a_k / (D_k ada), dlam/db = -1/ada; dx_j/dp_k = (delta_jk - a_j dlam/dp_k)/D_j
         */
        for (int k = 0; k <= N; k++) {
            double dl = k < N ? A[k] / (D[k] * ada) : -1.0 / ada;
            for (int j = 0; j < N; j++)
                dxdp[k * N + j] = ((j == k ? 1.0 : 0.0) - A[j] * dl) / D[j];
        }
    }
}
