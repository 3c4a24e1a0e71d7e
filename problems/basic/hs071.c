/* HS071 (Hock & Schittkowski problem 71) with three parameters; see basic.h. */
#include "basic/basic.h"

static int f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = x[0] * x[3] * (x[0] + x[1] + x[2]) + p[2] * x[2];
    return 0;
}

static int grad_f(const double *x, const double *p, double *grad, void *ud)
{
    grad[0] = x[3] * (2 * x[0] + x[1] + x[2]);
    grad[1] = x[0] * x[3];
    grad[2] = x[0] * x[3] + p[2];
    grad[3] = x[0] * (x[0] + x[1] + x[2]);
    return 0;
}

static int g(const double *x, const double *p, double *gx, void *ud)
{
    gx[0] = x[0] * x[1] * x[2] * x[3] - p[0];
    gx[1] = x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3] - p[1];
    return 0;
}

/* Dense 2 x 4 Jacobian, row-major in the pattern. */
static const fold_int jac_row[8] = {0, 0, 0, 0, 1, 1, 1, 1};
static const fold_int jac_col[8] = {0, 1, 2, 3, 0, 1, 2, 3};

static int jac_g(const double *x, const double *p, double *v, void *ud)
{
    v[0] = x[1] * x[2] * x[3];
    v[1] = x[0] * x[2] * x[3];
    v[2] = x[0] * x[1] * x[3];
    v[3] = x[0] * x[1] * x[2];
    for (int j = 0; j < 4; j++)
        v[4 + j] = 2 * x[j];
    return 0;
}

/* Dense lower triangle, row by row: (0,0) (1,0) (1,1) (2,0) (2,1) (2,2) (3,0) ... */
static const fold_int hess_row[10] = {0, 1, 1, 2, 2, 2, 3, 3, 3, 3};
static const fold_int hess_col[10] = {0, 0, 1, 0, 1, 2, 0, 1, 2, 3};

static int hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                  void *ud)
{
    v[0] = s * 2 * x[3];
    v[1] = s * x[3];
    v[2] = 0;
    v[3] = s * x[3];
    v[4] = 0;
    v[5] = 0;
    v[6] = s * (2 * x[0] + x[1] + x[2]);
    v[7] = s * x[0];
    v[8] = s * x[0];
    v[9] = 0;
    /* constraint 0: product */
    v[1] += lam[0] * x[2] * x[3];
    v[3] += lam[0] * x[1] * x[3];
    v[4] += lam[0] * x[0] * x[3];
    v[6] += lam[0] * x[1] * x[2];
    v[7] += lam[0] * x[0] * x[2];
    v[8] += lam[0] * x[0] * x[1];
    /* constraint 1: sum of squares */
    v[0] += lam[1] * 2;
    v[2] += lam[1] * 2;
    v[5] += lam[1] * 2;
    v[9] += lam[1] * 2;
    return 0;
}

static int grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    gp[0] = 0;
    gp[1] = 0;
    gp[2] = x[2];
    return 0;
}

/* dg/dp: dg0/dp0 = -1, dg1/dp1 = -1. */
static const fold_int gp_row[2] = {0, 1};
static const fold_int gp_col[2] = {0, 1};

static int jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    v[0] = -1;
    v[1] = -1;
    return 0;
}

/* d(grad_x L)/dp: only d(grad_x f)_2 / dp2 = 1. */
static const fold_int lp_row[1] = {2};
static const fold_int lp_col[1] = {2};

static int hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    v[0] = 1;
    return 0;
}

fold_status fold_hs071_create(fold_problem **out)
{
    static const double xl[4] = {1, 1, 1, 1}, xu[4] = {5, 5, 5, 5};
    static const double gl[2] = {0, 0}, gu[2] = {FOLD_INF, 0};
    static const double x0[4] = {1, 5, 5, 1}, p0[3] = {25, 40, 1};
    fold_nlp_def def = {
        .name = "hs071",
        .n = 4,
        .m = 2,
        .np = 3,
        .x_lower = xl,
        .x_upper = xu,
        .g_lower = gl,
        .g_upper = gu,
        .x_start = x0,
        .p_default = p0,
        .jac_g = {8, jac_row, jac_col},
        .hess_l = {10, hess_row, hess_col},
        .jac_g_p = {2, gp_row, gp_col},
        .hess_lp = {1, lp_row, lp_col},
        .cb = {f, grad_f, g, jac_g, hess_l, grad_f_p, hess_lp, jac_g_p},
    };
    return fold_problem_create(&def, out);
}
