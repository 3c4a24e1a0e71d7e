/* Singular active-set KKT matrices (doc/math.md §4.8): a null space in the primal block (two
 * variables that enter the problem identically, like generators sharing a bus) and in the
 * dual block (a repeated constraint, like the balance rows of a leaf bus without injection).
 * The regularized factorization returns every derivative that is unique (checked against
 * the envelope gradient, re-solves and adjointness), sets the undetermined entries to NaN
 * (named by the null-space probe) and refuses derivatives that do not exist. */
#include <float.h>

#include "fold/fold_internal.h"
#include "fold_test_util.h"

/* x = (y, z, u1, u2), s = u1 + u2, p = (p0, p1, p2, p3):
 *   min 0.5 (y - p0)^2 + 0.25 y^4 + 0.5 z^2 + 0.5 s^2 + p3 s
 *   s.t. y + z + u1 + u2 - p1 = 0,  z - y^2 - p2 >= 0 (active),  -5 <= u1, u2 <= 5.
 * With m = 3 the first constraint is repeated as y + z + u1 + u2 - p1 + (p3 - 0.3) = 0: the
 * same row at p3 = 0.3, so its multiplier split is free and a change of p3 alone moves the
 * two rows apart (not differentiable in p3; the derivative w.r.t. p3 is not unique). */
enum { NX = 4, NP = 4 };

static int f(const double *x, const double *p, double *obj, void *ud)
{
    double s = x[2] + x[3];
    *obj = 0.5 * (x[0] - p[0]) * (x[0] - p[0]) + 0.25 * pow(x[0], 4) + 0.5 * x[1] * x[1] +
           0.5 * s * s + p[3] * s;
    return 0;
}

static int grad_f(const double *x, const double *p, double *g, void *ud)
{
    double s = x[2] + x[3];
    g[0] = x[0] - p[0] + pow(x[0], 3);
    g[1] = x[1];
    g[2] = g[3] = s + p[3];
    return 0;
}

static int g(const double *x, const double *p, double *gx, void *ud)
{
    int m = *(const int *)ud;
    gx[0] = x[0] + x[1] + x[2] + x[3] - p[1];
    gx[1] = x[1] - x[0] * x[0] - p[2];
    if (m == 3) gx[2] = gx[0] + (p[3] - 0.3);
    return 0;
}

static const fold_int jrow[] = {0, 0, 0, 0, 1, 1, 2, 2, 2, 2};
static const fold_int jcol[] = {0, 1, 2, 3, 0, 1, 0, 1, 2, 3};

static int jac_g(const double *x, const double *p, double *v, void *ud)
{
    const double row0[] = {1, 1, 1, 1};
    memcpy(v, row0, sizeof row0);
    v[4] = -2 * x[0];
    v[5] = 1;
    if (*(const int *)ud == 3) memcpy(v + 6, row0, sizeof row0);
    return 0;
}

static const fold_int hrow[] = {0, 1, 2, 3, 3};
static const fold_int hcol[] = {0, 1, 2, 2, 3};

static int hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                  void *ud)
{
    v[0] = s * (1 + 3 * x[0] * x[0]) - 2 * lam[1];
    v[1] = s;
    v[2] = v[3] = v[4] = s;
    return 0;
}

static int grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    gp[0] = -(x[0] - p[0]);
    gp[1] = gp[2] = 0;
    gp[3] = x[2] + x[3];
    return 0;
}

static const fold_int gprow[] = {0, 1, 2, 2};
static const fold_int gpcol[] = {1, 2, 1, 3};

static int jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    v[0] = v[1] = -1;
    if (*(const int *)ud == 3) v[2] = -1, v[3] = 1;
    return 0;
}

static const fold_int lprow[] = {0, 2, 3};
static const fold_int lpcol[] = {0, 3, 3};

static int hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    v[0] = -1;
    v[1] = v[2] = 1;
    return 0;
}

static fold_problem *twins_problem(const int *m)
{
    static const double xl[NX] = {-FOLD_INF, -FOLD_INF, -5, -5};
    static const double xu[NX] = {FOLD_INF, FOLD_INF, 5, 5};
    static const double gl[3] = {0, 0, 0}, gu[3] = {0, FOLD_INF, 0};
    static const double p0[NP] = {1.0, 2.0, 0.5, 0.3};
    static const double x0[NX] = {0.5, 1.0, 0.2, -0.1};
    fold_nlp_def d = {.name = "twins",
                      .n = NX,
                      .m = *m,
                      .np = NP,
                      .x_lower = xl,
                      .x_upper = xu,
                      .g_lower = gl,
                      .g_upper = gu,
                      .x_start = x0,
                      .p_default = p0,
                      .jac_g = {*m == 3 ? 10 : 6, jrow, jcol},
                      .hess_l = {5, hrow, hcol},
                      .jac_g_p = {*m == 3 ? 4 : 2, gprow, gpcol},
                      .hess_lp = {3, lprow, lpcol},
                      .cb = {f, grad_f, g, jac_g, hess_l, grad_f_p, hess_lp, jac_g_p},
                      .user_data = (void *)m};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    return prob;
}

static const int M2 = 2, M3 = 3;

static fold_solver *solved(fold_problem *prob, const fold_settings *s, const double *p)
{
    fold_solver *sv = NULL;
    ck_assert_status(fold_solver_create(prob, s, &sv), FOLD_OK);
    ck_assert_status(fold_solve(sv, p, NULL), FOLD_OK);
    return sv;
}

/* The forward solve's last classification of its solution is the fold's (forward/resolve.c
 * keeps it, kkt_sides.c takes it instead of evaluating the solution again): equal, entry by
 * entry, to a fresh classification; taken once; gone with a new solution; and the VJP from
 * it equal bit for bit to the VJP of a fold that classified on its own. */
START_TEST(classification_from_the_solve)
{
    fold_problem *prob = twins_problem(&M2);
    fold_settings s = fold_test_tight_settings();
    fold_solver *a = solved(prob, &s, NULL), *b = solved(prob, &s, NULL);
    ck_assert_ptr_nonnull(a->sides);
    ck_assert(a->sides_id == a->solution_id);
    fold_sides F, *K = a->sides;
    ck_assert_status(fold_sides_eval(prob, a->p, a->x, a->lam, a->zl, a->zu, a->verdict, &F),
                     FOLD_OK);
    size_t c = (size_t)F.count;
    ck_assert_int_eq(K->count, F.count);
    ck_assert(memcmp(K->state, F.state, c) == 0 && memcmp(K->suspect, F.suspect, c) == 0);
    ck_assert(memcmp(K->dist, F.dist, c * sizeof(double)) == 0);
    ck_assert(memcmp(K->mult, F.mult, c * sizeof(double)) == 0);
    ck_assert(memcmp(K->logr, F.logr, c * sizeof(double)) == 0);
    ck_assert(K->eps_p == F.eps_p && K->mu == F.mu && K->n_active == F.n_active &&
              K->n_weak == F.n_weak && K->n_ambiguous == F.n_ambiguous &&
              K->n_suspect == F.n_suspect);
    fold_sides_free(&F);
    /* b's fold classifies on its own */
    ck_assert(fold_solver_copy_sides(b, &F));
    ck_assert(memcmp(F.state, b->sides->state, c) == 0 && F.state != b->sides->state);
    fold_sides_free(&F);
    fold_sides_free(b->sides);
    free(b->sides);
    b->sides = NULL;
    ck_assert(!fold_solver_copy_sides(b, &F));
    double x[NX], p[NP], xbar[NX], pa[NP], pb[NP];
    fold_solver_solution(a, x, NULL, NULL, NULL, NULL);
    fold_solver_params(a, p);
    grad_f(x, p, xbar, NULL);
    fold_backward_info ia = FOLD_BACKWARD_INFO_INIT, ib = FOLD_BACKWARD_INFO_INIT;
    fold_status sa = fold_vjp(a, &(fold_zbar){.x = xbar}, pa, &ia);
    fold_status sb = fold_vjp(b, &(fold_zbar){.x = xbar}, pb, &ib);
    ck_assert_msg(sa >= 0 && sa == sb, "%s %s", fold_status_name(sa), fold_status_name(sb));
    ck_assert_ptr_nonnull(a->sides); /* kept for the next fold call at this solution */
    fold_backward_info ia2 = FOLD_BACKWARD_INFO_INIT;
    double pa2[NP];
    ck_assert_status(fold_vjp(a, &(fold_zbar){.x = xbar}, pa2, &ia2), sa);
    ck_assert(memcmp(pa, pa2, sizeof pa) == 0);
    ck_assert(memcmp(pa, pb, sizeof pa) == 0);
    ck_assert_int_eq(ia.n_not_unique, ib.n_not_unique);
    ck_assert_int_eq(ia.n_active_bounds, ib.n_active_bounds);
    ck_assert_int_eq(ia.n_active_cons, ib.n_active_cons);
    /* a new solution: the kept classification was of the last one */
    fold_solver_free(b);
    b = solved(prob, &s, NULL);
    ck_assert_ptr_nonnull(b->sides);
    fold_solver_store(b, p, x, a->lam, a->zl, a->zu, 0.0, true);
    ck_assert_ptr_null(b->sides);
    ck_assert(!fold_solver_copy_sides(b, &F));
    fold_solver_free(a);
    fold_solver_free(b);
    fold_problem_free(prob);
}
END_TEST

/* The objective VJP (xbar = grad_x f, equal on the twins) equals the envelope gradient;
 * the fold reports the regularization. */
START_TEST(objective_vjp)
{
    fold_problem *prob = twins_problem(&M2);
    fold_settings s = fold_test_tight_settings();
    s.forward.tol = 1e-12;
    fold_solver *sv = solved(prob, &s, NULL);
    double x[NX], p[NP], xbar[NX], pbar[NP], gp[NP], vg[NP];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_solution(sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(sv, p);
    grad_f(x, p, xbar, NULL);
    grad_f_p(x, p, gp, NULL);
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_OK);
    ck_assert_status(fold_value_gradient(sv, vg), FOLD_OK);
    for (int j = 0; j < NP; j++)
        ck_assert_double_le(fabs(pbar[j] + gp[j] - vg[j]), 1e-8 * fmax(1, fabs(vg[j])));
    ck_assert_int_eq(info.kkt_form, FOLD_KKT_ACTIVE);
    ck_assert_double_gt(info.singular_delta, 0);
    /* the twins' copied columns pinned (doc/math.md eq. 4.12c), not regularized */
    ck_assert_ptr_nonnull(strstr(info.fallback_reason, "copied columns pinned"));
    ck_assert_int_eq(info.n_not_unique, 0);
    /* Disabled: the singular matrix is refused as before. */
    s.backward.singular_reg = 0;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_ERR_SINGULAR);
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* JVPs of the determined quantities (y, z, multipliers) match central differences of
 * re-solves; the twins' changes are undetermined (NaN, counted); their sum s, determined, by
 * a VJP with an upstream gradient equal on the twins. */
START_TEST(jvp_fd)
{
    fold_problem *prob = twins_problem(&M2);
    fold_settings s = fold_test_tight_settings();
    s.forward.tol = 1e-12;
    s.forward.warm_start = false;
    fold_solver *sv = solved(prob, &s, NULL);
    double p0[NP], p[NP], dx[NX], dlam[2], xp[NX], xm[NX], lp[2], lm[2], ds[NP];
    double sbar[NX] = {0, 0, 1, 1};
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_params(sv, p0);
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = sbar}, ds, &info), FOLD_OK);
    for (int k = 0; k < NP; k++) {
        double dp[NP] = {0}, h = 1e-5;
        dp[k] = 1;
        ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx, .lam = dlam}, &info),
                         FOLD_WARN_NOT_UNIQUE);
        ck_assert_error_mentions("x[2]");
        ck_assert(isnan(dx[2]) && isnan(dx[3]));
        ck_assert_int_eq(info.n_not_unique, 2);
        fold_solver *sp, *sm;
        memcpy(p, p0, sizeof p);
        p[k] += h;
        sp = solved(prob, &s, p);
        p[k] -= 2 * h;
        sm = solved(prob, &s, p);
        fold_solver_solution(sp, xp, lp, NULL, NULL, NULL);
        fold_solver_solution(sm, xm, lm, NULL, NULL, NULL);
        double fd[5] = {(xp[0] - xm[0]) / (2 * h), (xp[1] - xm[1]) / (2 * h),
                        (xp[2] + xp[3] - xm[2] - xm[3]) / (2 * h), (lp[0] - lm[0]) / (2 * h),
                        (lp[1] - lm[1]) / (2 * h)};
        double an[5] = {dx[0], dx[1], ds[k], dlam[0], dlam[1]};
        for (int q = 0; q < 5; q++)
            ck_assert_msg(fabs(an[q] - fd[q]) <= 1e-6 * fmax(1, fabs(fd[q])),
                          "p%d, output %d: fold %.10g, FD %.10g", k, q, an[q], fd[q]);
        fold_solver_free(sp);
        fold_solver_free(sm);
    }
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* <J dp, zbar> = <dp, pbar> for random upstream gradients on the determined outputs. */
START_TEST(adjoint)
{
    fold_problem *prob = twins_problem(&M2);
    fold_settings s = fold_test_tight_settings();
    fold_solver *sv = solved(prob, &s, NULL);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 7 + (unsigned)_i);
    double dp[NP], dx[NX], dlam[2], xbar[NX], lambar[2], pbar[NP];
    fold_test_fill_normal(&rng, dp, NP);
    fold_test_fill_normal(&rng, xbar, NX);
    fold_test_fill_normal(&rng, lambar, 2);
    xbar[2] = xbar[3] = 0;
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx, .lam = dlam}, NULL),
                     FOLD_WARN_NOT_UNIQUE);
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar, .lam = lambar}, pbar, NULL), FOLD_OK);
    double lhs = dx[0] * xbar[0] + dx[1] * xbar[1] + fold_test_dot(dlam, lambar, 2);
    double rhs = fold_test_dot(dp, pbar, NP);
    ck_assert_double_le(fabs(lhs - rhs), 1e-10 * fmax(1, fabs(lhs)));
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* An upstream gradient on one twin asks for a derivative that is not unique: refused with a
 * message naming the twins, or the flagged least-squares result. Jacobians mark the twins'
 * rows NaN in reverse and forward mode. */
START_TEST(not_unique)
{
    fold_problem *prob = twins_problem(&M2);
    fold_settings s = fold_test_tight_settings();
    fold_solver *sv = solved(prob, &s, NULL);
    double xbar[NX] = {0, 0, 1, 0}, pbar[NP] = {7, 7, 7, 7}, J[2 * NP], Jall[NX * NP];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not unique");
    ck_assert_error_mentions("x[2]");
    ck_assert_error_mentions("x[3]");
    ck_assert_double_eq(pbar[0], 7); /* nothing written */
    /* Reverse mode (1 row, 4 columns) and forward mode (2 rows, 1 column). */
    fold_int rows[1] = {2}, cols[NP] = {0, 1, 2, 3};
    ck_assert_status(
        fold_jacobian(
            sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = 1, .rows = rows, .n_cols = NP, .cols = cols},
            J, &info),
        FOLD_WARN_NOT_UNIQUE);
    ck_assert_int_eq(info.n_not_unique, NP);
    for (int c = 0; c < NP; c++)
        ck_assert(isnan(J[c]));
    fold_int rows2[2] = {2, 3}, cols2[1] = {1};
    ck_assert_status(
        fold_jacobian(
            sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = 2, .rows = rows2, .n_cols = 1, .cols = cols2},
            J, &info),
        FOLD_WARN_NOT_UNIQUE);
    ck_assert(isnan(J[0]) && isnan(J[1]));
    /* The whole dx/dp in both modes: determined rows equal to the JVPs, twins NaN. */
    for (int mode = 0; mode < 2; mode++) {
        fold_int r[NX] = {0, 1, 2, 3};
        fold_int nr = mode ? 2 : NX; /* 2 rows < 4 columns: reverse mode */
        fold_int rr[2] = {0, 2};
        ck_assert_status(fold_jacobian(sv,
                                       &(fold_jacobian_sel){.of = FOLD_BLOCK_X,
                                                            .n_rows = nr,
                                                            .rows = mode ? rr : r,
                                                            .n_cols = NP,
                                                            .cols = cols},
                                       Jall, &info),
                         FOLD_WARN_NOT_UNIQUE);
        for (int c = 0; c < NP; c++) {
            double dp[NP] = {0}, dx[NX];
            dp[c] = 1;
            ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, NULL), FOLD_WARN_NOT_UNIQUE);
            for (fold_int q = 0; q < nr; q++) {
                fold_int row = mode ? rr[q] : r[q];
                double v = Jall[c * nr + q];
                if (row >= 2)
                    ck_assert(isnan(v));
                else
                    ck_assert_double_le(fabs(v - dx[row]), 1e-10 * fmax(1, fabs(dx[row])));
            }
        }
    }
    /* Refuse policy: FOLD_ERR_SINGULAR naming the twins, nothing written. */
    s.backward.not_unique = FOLD_NOT_UNIQUE_REFUSE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    J[0] = 5;
    ck_assert_status(
        fold_jacobian(
            sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = 2, .rows = rows2, .n_cols = 1, .cols = cols2},
            J, NULL),
        FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("x[2]");
    ck_assert_double_eq(J[0], 5);
    s.backward.not_unique = FOLD_NOT_UNIQUE_NAN;
    s.backward.lsq_fallback = true;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_WARN_LEAST_SQUARES);
    ck_assert(info.is_least_squares);
    for (int j = 0; j < NP; j++)
        ck_assert(isfinite(pbar[j]));
    /* The least-squares VJP is that of the projection (e_u1 + e_u2) / 2 onto the range. */
    double half[NX] = {0, 0, 0.5, 0.5}, pref[NP];
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = half}, pref, NULL), FOLD_WARN_LEAST_SQUARES);
    for (int j = 0; j < NP; j++)
        ck_assert_double_le(fabs(pbar[j] - pref[j]), 1e-10 * fmax(1, fabs(pref[j])));
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* A repeated constraint (dual null space, besides the twins): the split of its multiplier
 * is undetermined (NaN), everything else equals the problem without the repeat (the sum of
 * the two multipliers' changes is the single one's); w.r.t. p3, which moves the two rows
 * apart, the solution is not differentiable: the JVP is refused, the VJP entry is NaN. */
START_TEST(duplicate_constraint)
{
    fold_problem *prob2 = twins_problem(&M2), *prob3 = twins_problem(&M3);
    fold_settings s = fold_test_tight_settings();
    fold_solver *sv2 = solved(prob2, &s, NULL), *sv3 = NULL;
    double p[NP], x[NX], lam[3], zl[NX], zu[NX], dx[NX], dl[3], dx2[NX], dl2[2];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_params(sv2, p);
    fold_solver_solution(sv2, x, lam, zl, zu, NULL);
    lam[2] = 0.5 * lam[0];
    lam[0] *= 0.5;
    ck_assert_status(fold_solver_create(prob3, &s, &sv3), FOLD_OK);
    fold_solver_store(sv3, p, x, lam, zl, zu, 0.0, true);
    for (int k = 0; k < 3; k++) {
        double dp[NP] = {0};
        dp[k] = 1;
        ck_assert_status(fold_jvp(sv3, dp, &(fold_dz){.x = dx, .lam = dl}, &info),
                         FOLD_WARN_NOT_UNIQUE);
        /* The repeated row is found before factoring: K + delta D is factored directly. */
        ck_assert_msg(strstr(info.fallback_reason, "expected") != NULL, "'%s'",
                      info.fallback_reason);
        fold_backward_info info2 = FOLD_BACKWARD_INFO_INIT;
        ck_assert_status(fold_jvp(sv2, dp, &(fold_dz){.x = dx2, .lam = dl2}, &info2),
                         FOLD_WARN_NOT_UNIQUE);
        /* so are the twins alone: their columns of K are equal (eq. 4.12b) */
        ck_assert_msg(strstr(info2.fallback_reason, "null directions expected") != NULL, "'%s'",
                      info2.fallback_reason);
        ck_assert_int_eq(info.n_not_unique, 4); /* the twins and the repeated pair */
        ck_assert(isnan(dl[0]) && isnan(dl[2]) && isnan(dx[2]) && isnan(dx[3]));
        for (int j = 0; j < 2; j++)
            ck_assert_double_le(fabs(dx[j] - dx2[j]), 1e-9 * fmax(1, fabs(dx2[j])));
        ck_assert_double_le(fabs(dl[1] - dl2[1]), 1e-9 * fmax(1, fabs(dl2[1])));
    }
    double dp3[NP] = {0, 0, 0, 1};
    ck_assert_status(fold_jvp(sv3, dp3, &(fold_dz){.x = dx}, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not differentiable");
    ck_assert_error_mentions("dp[3]");
    /* VJP of y: p0..p2 entries equal the problem without the repeat, p3 is NaN. */
    double ybar[NX] = {1, 0, 0, 0}, pb3[NP], pb2[NP];
    ck_assert_status(fold_vjp(sv3, &(fold_zbar){.x = ybar}, pb3, &info), FOLD_WARN_NOT_UNIQUE);
    ck_assert_int_eq(info.n_not_unique, 1);
    ck_assert_status(fold_vjp(sv2, &(fold_zbar){.x = ybar}, pb2, NULL), FOLD_OK);
    ck_assert(isnan(pb3[3]));
    for (int k = 0; k < 3; k++)
        ck_assert_double_le(fabs(pb3[k] - pb2[k]), 1e-9 * fmax(1, fabs(pb2[k])));
    /* Under not_unique = refuse the VJP is refused naming p3, nothing written. */
    s.backward.not_unique = FOLD_NOT_UNIQUE_REFUSE;
    ck_assert_status(fold_solver_update_settings(sv3, &s), FOLD_OK);
    pb3[0] = 9;
    ck_assert_status(fold_vjp(sv3, &(fold_zbar){.x = ybar}, pb3, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("p[3]");
    ck_assert_double_eq(pb3[0], 9);
    s.backward.not_unique = FOLD_NOT_UNIQUE_NAN;
    ck_assert_status(fold_solver_update_settings(sv3, &s), FOLD_OK);
    /* An upstream gradient on one of the repeated multipliers: not unique. */
    double lbar[3] = {1, 0, 0};
    ck_assert_status(fold_vjp(sv3, &(fold_zbar){.lam = lbar}, pb3, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("g[0]");
    ck_assert_error_mentions("g[2]");
    fold_solver_free(sv2);
    fold_solver_free(sv3);
    fold_problem_free(prob2);
    fold_problem_free(prob3);
}
END_TEST

/* The problem with the repeated constraint at the stored solution of the problem without it
 * (multipliers of the pair split equally): a null space of dimension 2 (the twins, the
 * pair's split). */
static fold_solver *repeated_solver(fold_problem *prob2, fold_problem *prob3,
                                    const fold_settings *s)
{
    fold_solver *sv2 = solved(prob2, s, NULL), *sv3 = NULL;
    double p[NP], x[NX], lam[3], zl[NX], zu[NX];
    fold_solver_params(sv2, p);
    fold_solver_solution(sv2, x, lam, zl, zu, NULL);
    lam[2] = 0.5 * lam[0];
    lam[0] *= 0.5;
    ck_assert_status(fold_solver_create(prob3, s, &sv3), FOLD_OK);
    fold_solver_store(sv3, p, x, lam, zl, zu, 0.0, true);
    fold_solver_free(sv2);
    return sv3;
}

/* Set or clear the probe's flag of parameter k (eq. 4.11) in the current backward state. */
static void kkt_flag_p(fold_solver *sv, fold_int k, bool on)
{
    fold_kkt *kkt = sv->backward;
    ck_assert(kkt->ns.has_null && kkt->ns.null_p[k] != on);
    kkt->ns.null_p[k] = on;
    kkt->ns.n_null_p += on ? 1 : -1;
}

/* Jacobians with a two-dimensional null space (twins and a repeated constraint), some
 * columns consistent and one not: dx/dp in forward mode and dlam/dp in reverse mode. The
 * consistent columns equal central differences of re-solves (of the problem without the
 * repeat, which has the same solutions while p3 = 0.3), the column of p3 (it moves the pair
 * apart) and the undetermined rows (twins, the pair's multipliers) are NaN, counted in
 * n_not_unique and named in the warning; under not_unique = refuse nothing is written. */
START_TEST(jacobian_two_null_directions)
{
    fold_problem *prob2 = twins_problem(&M2), *prob3 = twins_problem(&M3);
    fold_settings s = fold_test_tight_settings();
    s.forward.tol = 1e-12;
    s.forward.warm_start = false;
    fold_solver *sv = repeated_solver(prob2, prob3, &s);
    double Jx[NX * NP], Jl[3 * NP], p0[NP], h = 1e-5;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_params(sv, p0);
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = NX, .n_cols = NP}, Jx,
                      &info),
        FOLD_WARN_NOT_UNIQUE);
    ck_assert_int_eq(info.n_not_unique, NX + 2 * (NP - 1)); /* column p3, rows x2, x3 */
    ck_assert_error_mentions("p[3]");
    ck_assert_error_mentions("not differentiable with respect to 1 of the parameters");
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_LAM, .n_rows = 3, .n_cols = NP}, Jl,
                      &info),
        FOLD_WARN_NOT_UNIQUE);
    ck_assert_int_eq(info.n_not_unique, 2 * NP + 1); /* rows lam0, lam2, column p3 */
    ck_assert_error_mentions("g[0]");
    ck_assert_error_mentions("g[2]");
    for (int k = 0; k < NP; k++) {
        for (int j = 0; j < NX; j++)
            ck_assert_msg(isnan(Jx[k * NX + j]) == (k == 3 || j >= 2), "dx%d/dp%d = %g", j, k,
                          Jx[k * NX + j]);
        for (int i = 0; i < 3; i++)
            ck_assert_msg(isnan(Jl[k * 3 + i]) == (k == 3 || i != 1), "dlam%d/dp%d = %g", i, k,
                          Jl[k * 3 + i]);
        if (k == 3) continue;
        double p[NP], xp[NX], xm[NX], lp[2], lm[2];
        memcpy(p, p0, sizeof p);
        p[k] += h;
        fold_solver *sp = solved(prob2, &s, p);
        p[k] -= 2 * h;
        fold_solver *sm = solved(prob2, &s, p);
        fold_solver_solution(sp, xp, lp, NULL, NULL, NULL);
        fold_solver_solution(sm, xm, lm, NULL, NULL, NULL);
        double fd[3] = {(xp[0] - xm[0]) / (2 * h), (xp[1] - xm[1]) / (2 * h),
                        (lp[1] - lm[1]) / (2 * h)};
        double an[3] = {Jx[k * NX], Jx[k * NX + 1], Jl[k * 3 + 1]};
        for (int q = 0; q < 3; q++)
            ck_assert_msg(fabs(an[q] - fd[q]) <= 1e-6 * fmax(1, fabs(fd[q])),
                          "p%d, output %d: jacobian %.10g, FD %.10g", k, q, an[q], fd[q]);
        fold_solver_free(sp);
        fold_solver_free(sm);
    }
    /* Under refuse: FOLD_ERR_SINGULAR, J untouched, in either mode. */
    s.backward.not_unique = FOLD_NOT_UNIQUE_REFUSE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    for (int k = 0; k < NX * NP; k++)
        Jx[k] = 5;
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = NX, .n_cols = NP}, Jx,
                      &info),
        FOLD_ERR_SINGULAR);
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_LAM, .n_rows = 3, .n_cols = NP}, Jx,
                      &info),
        FOLD_ERR_SINGULAR);
    for (int k = 0; k < NX * NP; k++)
        ck_assert_double_eq(Jx[k], 5);
    /* A column the probe does not flag (here: its flag cleared) is solved, found
     * inconsistent by its refinement (eq. 4.9) and GMRES, and set to NaN as well: the same
     * Jacobian, the column named as found by its solve; a jvp along it is refused, a
     * Jacobian under refuse too. */
    double Jc[NX * NP];
    fold_int rows01[2] = {0, 1}, col3[1] = {3};
    kkt_flag_p(sv, 3, false);
    ck_assert_status(
        fold_jacobian(
            sv,
            &(fold_jacobian_sel){
                .of = FOLD_BLOCK_X, .n_rows = 2, .rows = rows01, .n_cols = 1, .cols = col3},
            Jc, &info),
        FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("the column of p[3] is not differentiable");
    s.backward.not_unique = FOLD_NOT_UNIQUE_NAN;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_int_ge(fold_kkt_setup(sv, true, NULL, "test"), 0);
    kkt_flag_p(sv, 3, false);
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = NX, .n_cols = NP}, Jc,
                      &info),
        FOLD_WARN_NOT_UNIQUE);
    ck_assert_error_mentions("0 flagged by the null-space probe, 1 by their solves");
    ck_assert_int_eq(info.n_not_unique, NX + 2 * (NP - 1));
    ck_assert_int_gt(info.iterations, 0); /* GMRES tried it */
    ck_assert_status(
        fold_jacobian(sv, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = NX, .n_cols = NP}, Jx,
                      &info),
        FOLD_WARN_NOT_UNIQUE);
    for (int k = 0; k < NX * NP; k++)
        ck_assert(isnan(Jc[k]) ? isnan(Jx[k]) : Jc[k] == Jx[k]);
    double dp3[NP] = {0, 0, 0, 1}, dx[NX];
    ck_assert_status(fold_jvp(sv, dp3, &(fold_dz){.x = dx}, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not orthogonal to the null space");
    kkt_flag_p(sv, 3, true);
    fold_solver_free(sv);
    fold_problem_free(prob2);
    fold_problem_free(prob3);
}
END_TEST

/* A slow direction besides a null one: x = (y1, y2, u1, u2), p = (p0, p1, p2),
 *   min 0.5 (y1^2 + 2 (1 - e) y1 y2 + y2^2) - p0 y1 + 0.5 (u1 + u2 - p1)^2 - p2 u1,
 * unconstrained. The Hessian has the twins' null vector e_u1 - e_u2 and the eigenvalue e of
 * the y block; with the regularization delta = 1e-2 >> e = 1e-3 the refinement contracts
 * by about delta / (delta + e) per step along it. Solution y = H_yy^-1 (p0, 0), u1 + u2 =
 * p1 at p2 = 0; p2 moves one twin only (inconsistent). */
#define SLOW_E 1e-3

static int sl_f(const double *x, const double *p, double *obj, void *ud)
{
    double s = x[2] + x[3] - p[1];
    *obj = 0.5 * (x[0] * x[0] + 2 * (1 - SLOW_E) * x[0] * x[1] + x[1] * x[1]) - p[0] * x[0] +
           0.5 * s * s - p[2] * x[2];
    return 0;
}
static int sl_grad_f(const double *x, const double *p, double *g, void *ud)
{
    double s = x[2] + x[3] - p[1];
    g[0] = x[0] + (1 - SLOW_E) * x[1] - p[0];
    g[1] = (1 - SLOW_E) * x[0] + x[1];
    g[2] = s - p[2];
    g[3] = s;
    return 0;
}
static int sl_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    v[0] = v[2] = v[3] = v[4] = v[5] = s;
    v[1] = s * (1 - SLOW_E);
    return 0;
}
static int sl_grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    gp[0] = -x[0];
    gp[1] = -(x[2] + x[3] - p[1]);
    gp[2] = -x[2];
    return 0;
}
static int sl_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    v[0] = v[1] = v[2] = v[3] = -1;
    return 0;
}

/* Right-hand sides the refinement cannot tell apart (doc/math.md §4.8, eq. 4.9): with
 * delta = 1e-2 the corrections of the consistent right-hand side of p0 shrink by about 0.9
 * per step and miss eq. 4.9 like those of the inconsistent one of p2. fold_kkt_solve
 * re-solves both by GMRES preconditioned with the regularized factorization: the
 * consistent one converges to the solution of the default regularization, the inconsistent
 * one stays flagged, and without flags the batch is refused. */
START_TEST(slow_refinement_rescued)
{
    static const double xl[4] = {-FOLD_INF, -FOLD_INF, -FOLD_INF, -FOLD_INF};
    static const double xu[4] = {FOLD_INF, FOLD_INF, FOLD_INF, FOLD_INF};
    static const double p0[3] = {1.0, 2.0, 0.0}, x0[4] = {0, 0, 0, 0};
    static const fold_int hr[6] = {0, 1, 1, 2, 3, 3}, hc[6] = {0, 0, 1, 2, 2, 3};
    static const fold_int lr[4] = {0, 2, 3, 2}, lc[4] = {0, 1, 1, 2};
    fold_nlp_def d = {.name = "slow",
                      .n = 4,
                      .m = 0,
                      .np = 3,
                      .x_lower = xl,
                      .x_upper = xu,
                      .x_start = x0,
                      .p_default = p0,
                      .hess_l = {6, hr, hc},
                      .hess_lp = {4, lr, lc},
                      .cb = {.f = sl_f,
                             .grad_f = sl_grad_f,
                             .hess_l = sl_hess_l,
                             .grad_f_p = sl_grad_f_p,
                             .hess_lp = sl_hess_lp}};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    double det = 1 - (1 - SLOW_E) * (1 - SLOW_E), zero[4] = {0, 0, 0, 0};
    double x[4] = {p0[0] / det, -(1 - SLOW_E) * p0[0] / det, 1.2, p0[1] - 1.2}, obj;
    sl_f(x, p0, &obj, NULL);
    fold_settings s = fold_test_tight_settings(), slow = s;
    slow.backward.singular_reg = 1e-2;
    slow.backward.tol = 1e-12;
    fold_solver *ref = NULL, *sv = NULL;
    ck_assert_status(fold_solver_create(prob, &s, &ref), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &slow, &sv), FOLD_OK);
    fold_solver_store(ref, p0, x, NULL, zero, zero, obj, true);
    fold_solver_store(sv, p0, x, NULL, zero, zero, obj, true);
    double dP[6] = {1, 0, 0, 0, 0, 1}, dx[4], dref[4];
    ck_assert_status(fold_jvp(ref, dP, &(fold_dz){.x = dref}, NULL), FOLD_WARN_NOT_UNIQUE);
    ck_assert_double_le(fabs(dref[0] - 1 / det), 1e-9 / det);
    fold_status st0 = fold_kkt_setup(sv, true, NULL, "test");
    ck_assert_msg(st0 >= 0, "%d %s", st0, fold_last_error());
    fold_kkt *kkt = sv->backward;
    ck_assert_double_eq(kkt->fac.finfo.singular_delta, 1e-2);
    /* x2 and x3 enter alike (copied columns), but the pinned matrix's probe resolution,
     * 1e3 delta = 10 here, takes its slowest direction for a null one (eq. 4.12c): the
     * regularized factor this test is about, as without the pins */
    ck_assert_ptr_null(strstr(kkt->fac.finfo.fallback_reason, "pinned"));
    fold_la_factor_expect_singular(kkt->fac.F, NULL);
    ck_assert_status(fold_la_factor_refactor(kkt->fac.F, fold_kkt_matrix(kkt)), FOLD_OK);
    fold_la_factor_get_info(kkt->fac.F, &kkt->fac.finfo);
    ck_assert_ptr_null(strstr(kkt->fac.finfo.fallback_reason, "pinned"));
    ck_assert_double_eq(kkt->fac.finfo.singular_delta, 1e-2);
    fold_int nK = kkt->sys.nK;
    double *B = malloc((size_t)(2 * nK) * sizeof *B), *X = malloc((size_t)(2 * nK) * sizeof *X);
    fold_kkt_rhs_jvp(kkt, 2, dP, B);
    unsigned char bad[2] = {0, 0};
    fold_int n_bad = 0;
    ck_assert_int_ge(fold_la_factor_solve_cols(kkt->fac.F, false, 2, B, X,
                                               slow.backward.refine_steps, 1e-14, NULL, bad,
                                               &n_bad),
                     0);
    ck_assert_msg(bad[0] && bad[1], "refinement alone: flags %d %d", bad[0], bad[1]);
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    ck_assert_int_ge(fold_kkt_solve(kkt, &sv->set, 2, B, X, bad, &info), 0);
    ck_assert_int_eq(bad[0], 0);
    ck_assert_int_eq(bad[1], 1);
    ck_assert_int_gt(info.iterations, 0);
    ck_assert_double_le(info.residual, 1e-12);
    fold_kkt_finish_jvp(kkt, 1, dP, X, dx, NULL, NULL, NULL);
    for (int j = 0; j < 2; j++)
        ck_assert_double_le(fabs(dx[j] - dref[j]), 1e-9 * fmax(1, fabs(dref[j])));
    ck_assert_double_le(fabs(dx[2] + dx[3]), 1e-9);
    ck_assert_status(fold_kkt_solve(kkt, &sv->set, 2, B, X, NULL, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not unique");
    ck_assert_int_ge(fold_kkt_solve(kkt, &sv->set, 1, B, X, NULL, NULL), 0);
    free(B);
    free(X);
    fold_solver_free(ref);
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* A bound held twice: min (x0 - p0)^2 + (x1 - 3)^2 s.t. x1 - p1 = 0, x1 <= 1, at p1 = 1.
 * The equality and the bound of x1 are dependent (the equality's row has no free column):
 * their multipliers (sum 4) can be shifted until the bound's is zero, so the bound is weakly
 * active in the minimal multipliers and the active-set derivative w.r.t. p1 is one-sided
 * (x1 follows p1 down, not up). Refused under weak_policy = refuse, one-sided otherwise. */
static int hb_f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = (x[0] - p[0]) * (x[0] - p[0]) + (x[1] - 3) * (x[1] - 3);
    return 0;
}
static int hb_grad_f(const double *x, const double *p, double *g, void *ud)
{
    g[0] = 2 * (x[0] - p[0]);
    g[1] = 2 * (x[1] - 3);
    return 0;
}
static int hb_g(const double *x, const double *p, double *gx, void *ud)
{
    gx[0] = x[1] - p[1];
    return 0;
}
static int hb_jac_g(const double *x, const double *p, double *v, void *ud)
{
    v[0] = 1;
    return 0;
}
static int hb_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    v[0] = v[1] = 2 * s;
    return 0;
}
static int hb_grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    gp[0] = -2 * (x[0] - p[0]);
    gp[1] = 0;
    return 0;
}
static int hb_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    v[0] = -1;
    return 0;
}
static int hb_hess_lp(const double *x, const double *p, const double *lam, double *v, void *ud)
{
    v[0] = -2;
    return 0;
}

START_TEST(held_twice)
{
    static const double xl[2] = {-FOLD_INF, -FOLD_INF}, xu[2] = {FOLD_INF, 1};
    static const double gl[1] = {0}, gu[1] = {0}, p0[2] = {0.5, 1.0}, x0[2] = {0, 0};
    static const fold_int z0[1] = {0}, one[1] = {1}, hr[2] = {0, 1}, hc[2] = {0, 1};
    fold_nlp_def d = {
        .name = "held_twice",
        .n = 2,
        .m = 1,
        .np = 2,
        .x_lower = xl,
        .x_upper = xu,
        .g_lower = gl,
        .g_upper = gu,
        .x_start = x0,
        .p_default = p0,
        .jac_g = {1, z0, one},
        .hess_l = {2, hr, hc},
        .jac_g_p = {1, z0, one},
        .hess_lp = {1, z0, z0},
        .cb = {hb_f, hb_grad_f, hb_g, hb_jac_g, hb_hess_l, hb_grad_f_p, hb_hess_lp, hb_jac_g_p}};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_settings s = fold_test_tight_settings();
    fold_solver *sv = solved(prob, &s, NULL);
    double x[2], zu[2], dp[2] = {0, 1}, dx[2], pbar[2], xbar[2] = {0, 1};
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_solution(sv, x, NULL, NULL, zu, NULL);
    ck_assert_double_le(fabs(x[1] - 1), 1e-7);
    ck_assert_double_gt(zu[1], 1e-3); /* Ipopt keeps a share on the bound */
    /* By default the bound is a candidate (held, or freed in a variant): dp moves the
     * equality off it, which the held classification cannot follow: refused. */
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not differentiable");
    /* active_set.ambiguity = refuse: the dependent constraints are refused by name */
    s.active_set.ambiguity = FOLD_AMBIGUITY_REFUSE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_DEGENERATE);
    ck_assert_error_mentions("dependent active constraints");
    ck_assert_error_mentions("bound of variable x[1]");
    fold_weak_entry w[4];
    fold_int nw = -1;
    ck_assert_status(fold_weak_list(sv, w, 4, sizeof *w, &nw), FOLD_OK);
    ck_assert_int_eq(nw, 1);
    ck_assert_int_eq(w[0].kind, 3);
    ck_assert_int_eq(w[0].index, 1);
    /* Treated as held (policy active): one-sided, x1 stays, the multiplier split NaN. */
    s.active_set.weak_policy = FOLD_WEAK_ACTIVE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    double dl[1];
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx, .lam = dl}, &info), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("not differentiable"); /* p1 moves the equality off the bound */
    double dp0[2] = {1, 0};
    ck_assert_status(fold_jvp(sv, dp0, &(fold_dz){.x = dx, .lam = dl}, &info),
                     FOLD_WARN_NOT_UNIQUE);
    ck_assert(info.is_one_sided);
    ck_assert_double_le(fabs(dx[0] - 1), 1e-10);
    ck_assert_double_eq(dx[1], 0);
    ck_assert(isnan(dl[0]));
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &info), FOLD_WARN_NOT_UNIQUE);
    ck_assert(isnan(pbar[1]) && pbar[0] == 0);
    /* Barrier form, x1 stored 1e-6 inside its bound and exactly at it (Sigma about
     * zu / eps): the single row is not expected singular either way (eq. 4.13; the LU
     * pivots lam0 on x1, [Sigma 1; 1 0] is well-conditioned that way): K itself is
     * factored, dx0 = 1. */
    double lam[1], zl[2], pp[2];
    fold_solver_params(sv, pp);
    fold_solver_solution(sv, x, lam, zl, zu, NULL);
    s.active_set.weak_policy = FOLD_WEAK_REFUSE;
    s.backward.kkt_form = FOLD_KKT_BARRIER;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    for (int at_bound = 0; at_bound < 2; at_bound++) {
        x[1] = at_bound ? 1.0 : 1.0 - 1e-6;
        fold_solver_store(sv, pp, x, lam, zl, zu, 0.0, true);
        ck_assert_status(fold_jvp(sv, dp0, &(fold_dz){.x = dx, .lam = dl}, &info), FOLD_OK);
        ck_assert_msg(strstr(info.fallback_reason, "expected") == NULL, "'%s'",
                      info.fallback_reason);
        ck_assert_double_eq(info.singular_delta, 0);
        ck_assert_double_le(fabs(dx[0] - 1), 1e-12);
        ck_assert(isfinite(dl[0]));
    }
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* Two equalities that agree on the free variables and differ on a held one: min (x0 - p0)^2
 * + x1^2 + (x2 - 3)^2 s.t. x0 + x1 + x2 = p1, x0 + x1 + 2 x2 = p1 + 1, x2 <= 1. Their
 * difference forces x2 = 1, so the bound is held twice again; no row is empty, but the two
 * are parallel on the free variables: refused before any factorization (eq. 4.12). */
static int hr_f(const double *x, const double *p, double *obj, void *ud)
{
    *obj = (x[0] - p[0]) * (x[0] - p[0]) + x[1] * x[1] + (x[2] - 3) * (x[2] - 3);
    return 0;
}
static int hr_grad_f(const double *x, const double *p, double *g, void *ud)
{
    g[0] = 2 * (x[0] - p[0]);
    g[1] = 2 * x[1];
    g[2] = 2 * (x[2] - 3);
    return 0;
}
static int hr_g(const double *x, const double *p, double *gx, void *ud)
{
    gx[0] = x[0] + x[1] + x[2] - p[1];
    gx[1] = x[0] + x[1] + 2 * x[2] - p[1] - 1;
    return 0;
}
static int hr_jac_g(const double *x, const double *p, double *v, void *ud)
{
    const double j[6] = {1, 1, 1, 1, 1, 2};
    memcpy(v, j, sizeof j);
    return 0;
}
static int hr_hess_l(const double *x, const double *p, double s, const double *lam, double *v,
                     void *ud)
{
    v[0] = v[1] = v[2] = 2 * s;
    return 0;
}
static int hr_grad_f_p(const double *x, const double *p, double *gp, void *ud)
{
    gp[0] = -2 * (x[0] - p[0]);
    gp[1] = 0;
    return 0;
}
static int hr_jac_g_p(const double *x, const double *p, double *v, void *ud)
{
    v[0] = v[1] = -1;
    return 0;
}

START_TEST(held_by_rows)
{
    static const double xl[3] = {-FOLD_INF, -FOLD_INF, -FOLD_INF}, xu[3] = {FOLD_INF, FOLD_INF, 1};
    static const double gl[2] = {0, 0}, gu[2] = {0, 0}, p0[2] = {0.5, 2.0}, x0[3] = {0, 0, 0};
    static const fold_int jr[6] = {0, 0, 0, 1, 1, 1}, jc[6] = {0, 1, 2, 0, 1, 2};
    static const fold_int hr[3] = {0, 1, 2}, gpr[2] = {0, 1}, gpc[2] = {1, 1}, z0[1] = {0};
    fold_nlp_def d = {
        .name = "held_by_rows",
        .n = 3,
        .m = 2,
        .np = 2,
        .x_lower = xl,
        .x_upper = xu,
        .g_lower = gl,
        .g_upper = gu,
        .x_start = x0,
        .p_default = p0,
        .jac_g = {6, jr, jc},
        .hess_l = {3, hr, hr},
        .jac_g_p = {2, gpr, gpc},
        .hess_lp = {1, z0, z0},
        .cb = {hr_f, hr_grad_f, hr_g, hr_jac_g, hr_hess_l, hr_grad_f_p, hb_hess_lp, hr_jac_g_p}};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_settings s = fold_test_tight_settings();
    fold_solver *sv = solved(prob, &s, NULL);
    double x[3], zu[3], dp[2] = {1, 0}, dx[3];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_solver_solution(sv, x, NULL, NULL, zu, NULL);
    ck_assert_double_le(fabs(x[2] - 1), 1e-7);
    ck_assert_double_gt(zu[2], 1e-3);
    /* By default the bound held by the rows is a candidate: held (the rows hold x2 = 1
     * anyway) or freed, both give dx0 = 1/2, dx2 = 0; it is reported as dependent. */
    ck_assert(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info) >= 0);
    ck_assert_double_le(fabs(dx[0] - 0.5), 1e-9);
    ck_assert_double_le(fabs(dx[2]), 1e-9);
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(sv, &items, &n_items), FOLD_OK);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_DEPENDENT, "x[2]"), 0);
    ck_assert_int_eq(info.n_candidates, 1);
    /* active_set.ambiguity = refuse: refused before any factorization, naming the rows */
    s.active_set.ambiguity = FOLD_AMBIGUITY_REFUSE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_DEGENERATE);
    ck_assert_error_mentions("parallel there to another active row");
    ck_assert_error_mentions("bound of variable x[2]");
    ck_assert_double_eq(info.factor_s, 0); /* no factorization */
    /* Another policy: returned, flagged one-sided (the rows hold x2 = 1 anyway; dx0 = 1/2). */
    s.active_set.weak_policy = FOLD_WEAK_INACTIVE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_WARN_ONE_SIDED);
    ck_assert_double_le(fabs(dx[0] - 0.5), 1e-9);
    ck_assert_double_le(fabs(dx[2]), 1e-9);
    /* Barrier form with x2 exactly at its bound and a large zu: the pair's pivot estimate
     * (eq. 4.13), about eps / zu, is far below rcond_min, so K + delta D is factored first
     * and kept (its pivot ratio is about delta, the probe finds the nearly null direction
     * of the rows' split); dx0 = 1/2 and the pinned x2 are determined. */
    double lam[2], zl[3], pp[2];
    fold_solver_params(sv, pp);
    fold_solver_solution(sv, x, lam, zl, zu, NULL);
    s.backward.kkt_form = FOLD_KKT_BARRIER;
    /* zu[2] scaled breaks stationarity: the fixed thresholds classify this point */
    s.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    x[2] = 1.0;
    zu[2] *= 1e4;
    fold_solver_store(sv, pp, x, lam, zl, zu, 0.0, true);
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_OK);
    ck_assert_msg(strstr(info.fallback_reason, "expected") != NULL, "'%s'", info.fallback_reason);
    ck_assert_double_eq(info.singular_delta, 1e-12);
    ck_assert_double_le(fabs(dx[0] - 0.5), 1e-9);
    ck_assert_double_le(fabs(dx[2]), 1e-9);
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* Three equalities dependent on the free variables with no parallel pair: x0 + x2 = p1,
 * x1 + x2 = 2, x0 + x1 + 3 x2 = p1 + 3, x2 <= 1 (c0 + c1 - c2 = 1 - x2 forces x2 = 1). Found
 * by the null-space probe after the factorization, with the bound it moves (eq. 4.12). */
static int ht_g(const double *x, const double *p, double *gx, void *ud)
{
    gx[0] = x[0] + x[2] - p[1];
    gx[1] = x[1] + x[2] - 2;
    gx[2] = x[0] + x[1] + 3 * x[2] - p[1] - 3;
    return 0;
}
static int ht_jac_g(const double *x, const double *p, double *v, void *ud)
{
    const double j[7] = {1, 1, 1, 1, 1, 1, 3};
    memcpy(v, j, sizeof j);
    return 0;
}

/* Counts the setups (assembly and factorization) of the primary classification. */
static void count_primary_setups(int level, const char *line, void *data)
{
    (void)level;
    if (strstr(line, "KKT setup (active form, variant 0, path 0)")) (*(int *)data)++;
}

START_TEST(held_by_three)
{
    static const double xl[3] = {-FOLD_INF, -FOLD_INF, -FOLD_INF}, xu[3] = {FOLD_INF, FOLD_INF, 1};
    static const double gl[3] = {0, 0, 0}, gu[3] = {0, 0, 0}, p0[2] = {0.5, 2.0};
    static const double x0[3] = {0, 0, 0};
    static const fold_int jr[7] = {0, 0, 1, 1, 2, 2, 2}, jc[7] = {0, 2, 1, 2, 0, 1, 2};
    static const fold_int hr[3] = {0, 1, 2}, gpr[2] = {0, 2}, gpc[2] = {1, 1}, z0[1] = {0};
    fold_nlp_def d = {
        .name = "held_by_three",
        .n = 3,
        .m = 3,
        .np = 2,
        .x_lower = xl,
        .x_upper = xu,
        .g_lower = gl,
        .g_upper = gu,
        .x_start = x0,
        .p_default = p0,
        .jac_g = {7, jr, jc},
        .hess_l = {3, hr, hr},
        .jac_g_p = {2, gpr, gpc},
        .hess_lp = {1, z0, z0},
        .cb = {hr_f, hr_grad_f, ht_g, ht_jac_g, hr_hess_l, hr_grad_f_p, hb_hess_lp, hr_jac_g_p}};
    fold_problem *prob = NULL;
    ck_assert_status(fold_problem_create(&d, &prob), FOLD_OK);
    fold_settings s = fold_test_tight_settings();
    /* The solution x = (1, 1, 1) with a share of the multiplier on the bound (zu = 1,
     * lam = (-7, -8, 6): grad f + J' lam + zu e_2 = 0), stored: Ipopt's relaxed bounds
     * leave the bound's share at zero on this instance. */
    fold_solver *sv = NULL;
    double x[3] = {1, 1, 1}, lam[3] = {-7, -8, 6}, zl[3] = {0, 0, 0}, zu[3] = {0, 0, 1};
    double p[2] = {0.5, 2.0}, dp[2] = {1, 0}, dx[3];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    int setups[2] = {0, 0};
    s.log.verbose = 3;
    s.log.sink = count_primary_setups;
    s.log.sink_data = &setups[0];
    ck_assert_status(fold_solver_create(prob, &s, &sv), FOLD_OK);
    fold_solver_store(sv, p, x, lam, zl, zu, 5.25, true);
    /* By default: the bound of x2 is a candidate found by the probe, held or freed in a
     * variant; dx does not depend on it (x2 stays, x0 = p1 - x2), the multipliers of the
     * dependent rows are not unique either way (NaN). */
    double dl[3];
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx, .lam = dl}, &info), FOLD_WARN_NOT_UNIQUE);
    ck_assert_error_mentions("multipliers of g[0]");
    ck_assert_double_le(fabs(dx[0]), 1e-9);
    ck_assert_double_le(fabs(dx[2]), 1e-9);
    ck_assert(isnan(dl[0]) && isnan(dl[1]) && isnan(dl[2]));
    ck_assert_int_eq(info.n_uncertain, 0);
    ck_assert_int_eq(info.n_variants, 1);
    const fold_trust_item *items;
    fold_int n_items;
    ck_assert_status(fold_trust_report(sv, &items, &n_items), FOLD_OK);
    ck_assert_int_ge(fold_test_trust_find(items, n_items, FOLD_TRUST_DEPENDENT, "x[2]"), 0);
    /* The singular primary is set aside while the variant factors its own K and comes back
     * with its factorization and null space: one primary setup, where the variant refactored
     * (backward.variant_refactor) sets it up again; the same derivatives and report. */
    fold_settings sr = s;
    sr.backward.variant_refactor = true;
    sr.log.sink_data = &setups[1];
    fold_solver *svr = NULL;
    double dxr[3], dlr[3];
    fold_int n_items_r;
    ck_assert_status(fold_solver_create(prob, &sr, &svr), FOLD_OK);
    fold_solver_store(svr, p, x, lam, zl, zu, 5.25, true);
    ck_assert_status(fold_jvp(svr, dp, &(fold_dz){.x = dxr, .lam = dlr}, NULL),
                     FOLD_WARN_NOT_UNIQUE);
    ck_assert_int_eq(setups[0], 1);
    ck_assert_int_eq(setups[1], 2);
    for (int j = 0; j < 3; j++) {
        ck_assert(isnan(dx[j]) == isnan(dxr[j]) && isnan(dl[j]) == isnan(dlr[j]));
        if (!isnan(dx[j])) ck_assert_double_le(fabs(dx[j] - dxr[j]), 1e-12);
    }
    ck_assert_status(fold_trust_report(svr, &items, &n_items_r), FOLD_OK);
    ck_assert_int_eq(n_items_r, n_items);
    fold_solver_free(svr);
    ck_assert_status(fold_trust_report(sv, &items, &n_items), FOLD_OK);
    s.active_set.ambiguity = FOLD_AMBIGUITY_REFUSE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_ERR_DEGENERATE);
    ck_assert_error_mentions("dependent active constraints (singular KKT matrix");
    ck_assert_error_mentions("bound of variable x[2]");
    ck_assert_double_gt(info.singular_delta, 0);
    /* Another policy: returned, flagged one-sided; x2 stays, so x0 = p1 - x2 stays too. */
    s.active_set.weak_policy = FOLD_WEAK_INACTIVE;
    ck_assert_status(fold_solver_update_settings(sv, &s), FOLD_OK);
    ck_assert_status(fold_jvp(sv, dp, &(fold_dz){.x = dx}, &info), FOLD_WARN_ONE_SIDED);
    ck_assert_double_le(fabs(dx[0]), 1e-9); /* x0 = p1 - x2: held by c0 */
    ck_assert_double_le(fabs(dx[2]), 1e-9);
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fold_nullspace");
    TCase *tc = tcase_create("nullspace");
    tcase_add_test(tc, objective_vjp);
    tcase_add_test(tc, jvp_fd);
    tcase_add_loop_test(tc, adjoint, 0, 4);
    tcase_add_test(tc, not_unique);
    tcase_add_test(tc, duplicate_constraint);
    tcase_add_test(tc, jacobian_two_null_directions);
    tcase_add_test(tc, slow_refinement_rescued);
    tcase_add_test(tc, held_twice);
    tcase_add_test(tc, held_by_rows);
    tcase_add_test(tc, held_by_three);
    tcase_add_test(tc, classification_from_the_solve);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
