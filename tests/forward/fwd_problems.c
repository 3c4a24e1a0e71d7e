/* Small problems for the forward-solver tests (see fwd_problems.h). */
#include <time.h>
#include <unistd.h>

#include "fwd_problems.h"
#include "problem/problem_internal.h"

static int misbehave(const plane_data *d, fail_where where, const double *x, double *out)
{
    if (d->where != where || !(x[0] > d->fail_above)) return 0;
    if (d->how == FAIL_FATAL) return -1;
    if (d->how == FAIL_RECOVERABLE) return 1;
    out[0] = NAN;
    return 0;
}

static int plane_f(const double *x, const double *p, double *obj, void *ud)
{
    plane_data *d = ud;
    d->n_f++;
    if (d->sleep_s > 0) {
        struct timespec ts = {0, (long)(d->sleep_s * 1e9)};
        nanosleep(&ts, NULL);
    }
    *obj = 0;
    for (int j = 0; j < 3; j++)
        *obj += (x[j] - p[j]) * (x[j] - p[j]);
    return misbehave(d, FAIL_F, x, obj);
}

static int plane_grad(const double *x, const double *p, double *grad, void *ud)
{
    for (int j = 0; j < 3; j++)
        grad[j] = 2 * (x[j] - p[j]);
    return misbehave(ud, FAIL_GRAD_F, x, grad);
}

static int plane_g(const double *x, const double *p, double *g, void *ud)
{
    g[0] = x[0] + x[1] + x[2];
    return misbehave(ud, FAIL_G, x, g);
}

static int plane_jac(const double *x, const double *p, double *v, void *ud)
{
    v[0] = v[1] = v[2] = 1;
    return misbehave(ud, FAIL_JAC_G, x, v);
}

static int plane_hess(const double *x, const double *p, double s, const double *lam, double *v,
                      void *ud)
{
    v[0] = v[1] = v[2] = 2 * s;
    return misbehave(ud, FAIL_HESS_L, x, v);
}

static const fold_int row0[3] = {0, 0, 0}, idx3[3] = {0, 1, 2};

fold_status plane_create(plane_data *ud, bool with_hess, fold_problem **out)
{
    static const double one[1] = {1}, p0[3] = {0.5, -1.0, 2.0}, x0[3] = {0, 0, 0};
    fold_nlp_def def = {
        .name = "plane",
        .n = 3,
        .m = 1,
        .np = 3,
        .g_lower = one,
        .g_upper = one,
        .x_start = x0,
        .p_default = p0,
        .jac_g = {3, row0, idx3},
        .hess_l = {with_hess ? 3 : 0, idx3, idx3},
        .cb = {.f = plane_f,
               .grad_f = plane_grad,
               .g = plane_g,
               .jac_g = plane_jac,
               .hess_l = with_hess ? plane_hess : NULL},
        .user_data = ud,
    };
    return fold_problem_create(&def, out);
}

void plane_solution(const double *p, double *x, double *lam)
{
    double shift = (p[0] + p[1] + p[2] - 1) / 3;
    for (int j = 0; j < 3; j++)
        x[j] = p[j] - shift;
    *lam = 2 * shift;
}

static int inf_f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = x[0] * x[0] + x[1] * x[1];
    return 0;
}

static int inf_grad(const double *x, const double *p, double *g, void *ud)
{
    g[0] = 2 * x[0];
    g[1] = 2 * x[1];
    return 0;
}

static int inf_g(const double *x, const double *p, double *g, void *ud)
{
    g[0] = x[0] + x[1];
    return 0;
}

static int inf_jac(const double *x, const double *p, double *v, void *ud)
{
    v[0] = v[1] = 1;
    return 0;
}

static int inf_hess(const double *x, const double *p, double s, const double *lam, double *v,
                    void *ud)
{
    v[0] = v[1] = 2 * s;
    return 0;
}

fold_status infeasible_create(fold_problem **out)
{
    static const double lo[2] = {0, 0}, hi[2] = {1, 1}, gl[1] = {3}, gu[1] = {FOLD_INF};
    fold_nlp_def def = {
        .name = "infeasible",
        .n = 2,
        .m = 1,
        .np = 0,
        .x_lower = lo,
        .x_upper = hi,
        .g_lower = gl,
        .g_upper = gu,
        .jac_g = {2, row0, idx3},
        .hess_l = {2, idx3, idx3},
        .cb = {.f = inf_f, .grad_f = inf_grad, .g = inf_g, .jac_g = inf_jac, .hess_l = inf_hess},
    };
    return fold_problem_create(&def, out);
}

static const double box_c[3] = {2, -1, 0.5};

static int box_f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = 0;
    for (int j = 0; j < 3; j++)
        *obj += (x[j] - box_c[j]) * (x[j] - box_c[j]);
    return 0;
}

static int box_grad(const double *x, const double *p, double *g, void *ud)
{
    for (int j = 0; j < 3; j++)
        g[j] = 2 * (x[j] - box_c[j]);
    return 0;
}

static int box_hess(const double *x, const double *p, double s, const double *lam, double *v,
                    void *ud)
{
    v[0] = v[1] = v[2] = 2 * s;
    return 0;
}

/* The box problem with the gradient `grad` (its user data `ud`). */
static fold_status box_with_gradient(const char *name, fold_grad_f_fn grad, void *ud,
                                     fold_problem **out)
{
    static const double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    fold_nlp_def def = {
        .name = name,
        .n = 3,
        .m = 0,
        .np = 0,
        .x_lower = lo,
        .x_upper = hi,
        .hess_l = {3, idx3, idx3},
        .cb = {.f = box_f, .grad_f = grad, .hess_l = box_hess},
        .user_data = ud,
    };
    return fold_problem_create(&def, out);
}

fold_status box_create(fold_problem **out)
{
    return box_with_gradient("box", box_grad, NULL, out);
}

/* The gradient of the box problem with an error on its interior component, by call, of
 * alternating sign (a Newton step cannot absorb it): 3e-7, a floor of the dual infeasibility
 * above tol 1e-8 and below Ipopt's acceptable_tol 1e-6, and 2e-6 on every third call, a spike
 * that restarts Ipopt's count of acceptable iterations. */
static int floor_grad(const double *x, const double *p, double *g, void *ud)
{
    long *calls = ud;
    ++*calls;
    box_grad(x, p, g, NULL);
    g[2] += (*calls % 2 ? 1.0 : -1.0) * (*calls % 3 == 0 ? 2e-6 : 3e-7);
    return 0;
}

fold_status floor_create(long *calls, fold_problem **out)
{
    return box_with_gradient("floor", floor_grad, calls, out);
}

static int cc_f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = (x[0] - 2) * (x[0] - 2);
    return 0;
}

static int cc_grad(const double *x, const double *p, double *g, void *ud)
{
    g[0] = 2 * (x[0] - 2);
    return 0;
}

static int cc_g(const double *x, const double *p, double *g, void *ud)
{
    g[0] = 0.5;
    return 0;
}

static int cc_hess(const double *x, const double *p, double s, const double *lam, double *v,
                   void *ud)
{
    v[0] = 2 * s;
    return 0;
}

fold_status constant_constraint_create(fold_problem **out)
{
    static const double gl[1] = {0}, gu[1] = {1};
    fold_nlp_def def = {
        .name = "constant",
        .n = 1,
        .m = 1,
        .np = 0,
        .g_lower = gl,
        .g_upper = gu,
        .hess_l = {1, idx3, idx3},
        .cb = {.f = cc_f, .grad_f = cc_grad, .g = cc_g, .jac_g = inf_jac, .hess_l = cc_hess},
    };
    return fold_problem_create(&def, out);
}

double stationarity(const fold_problem *prob, const double *p, const double *x, const double *lam,
                    const double *zl, const double *zu)
{
    fold_int n = prob->n;
    double *r = calloc((size_t)n, sizeof *r), *jv = calloc((size_t)prob->jac_g.nnz + 1, sizeof *jv);
    double worst = 0;
    ck_assert_int_eq(fold_prob_eval_grad_f(prob, x, p, r, NULL), FOLD_OK);
    ck_assert_int_eq(fold_prob_eval_jac_g(prob, x, p, jv, NULL), FOLD_OK);
    for (fold_int k = 0; k < prob->jac_g.nnz; k++)
        r[prob->jac_g.col[k]] += jv[k] * lam[prob->jac_g.row[k]];
    for (fold_int j = 0; j < n; j++)
        worst = fmax(worst, fabs(r[j] - zl[j] + zu[j]));
    free(r);
    free(jv);
    return worst;
}

char *capture_fd(int fd, void (*fn)(void *), void *arg)
{
    FILE *tmp = tmpfile();
    int saved;
    long size;
    char *text;
    ck_assert_ptr_nonnull(tmp);
    fflush(stdout);
    fflush(stderr);
    saved = dup(fd);
    dup2(fileno(tmp), fd);
    fn(arg);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, fd);
    close(saved);
    fseek(tmp, 0, SEEK_END);
    size = ftell(tmp);
    rewind(tmp);
    text = calloc((size_t)size + 1, 1);
    if (size > 0) ck_assert_int_eq(fread(text, 1, (size_t)size, tmp), size);
    fclose(tmp);
    return text;
}
