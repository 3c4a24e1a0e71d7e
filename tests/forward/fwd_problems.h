/* Small problems written for the forward-solver tests: a projection onto a plane with a
 * closed form and switchable callback failures, an infeasible box problem, a bound-only
 * problem, and helpers that check KKT conditions (doc/math.md (2.3)-(2.5)). */
#ifndef FOLD_TEST_FWD_PROBLEMS_H
#define FOLD_TEST_FWD_PROBLEMS_H

#include "test_support.h"

/* Which callback misbehaves and how. */
typedef enum { FAIL_NONE, FAIL_F, FAIL_GRAD_F, FAIL_G, FAIL_JAC_G, FAIL_HESS_L } fail_where;
typedef enum { FAIL_FATAL, FAIL_RECOVERABLE, FAIL_NAN } fail_how;

typedef struct plane_data {
    fail_where where;
    fail_how how;
    double fail_above; /* misbehave only when x[0] > fail_above (-INFINITY: always) */
    double sleep_s;    /* wall-clock delay in f (time-limit tests) */
    long n_f;          /* calls of f */
} plane_data;

/* min sum_j (x_j - p_j)^2  s.t.  x0 + x1 + x2 = 1   (n = 3, m = 1, np = 3).
 * x = p - (sum p - 1)/3, lam = 2 (sum p - 1)/3. with_hess = false omits hess_l. */
fold_status plane_create(plane_data *ud, bool with_hess, fold_problem **out);
void plane_solution(const double *p, double *x, double *lam);

/* x0 + x1 >= 3, 0 <= x <= 1: infeasible. */
fold_status infeasible_create(fold_problem **out);

/* min sum_j (x_j - c_j)^2, 0 <= x <= 1, c = (2, -1, 0.5), no constraints:
 * x = (1, 0, 0.5), zu = (2, 0, 0), zl = (0, 2, 0). */
fold_status box_create(fold_problem **out);

/* The box problem with a gradient whose error never falls below 3e-7 and rises to 2e-6 on
 * every third call (*calls counts them): a solve at tol 1e-8 sits at that floor. */
fold_status floor_create(long *calls, fold_problem **out);

/* min (x - 2)^2  s.t.  0 <= g(x) = 0.5 <= 1: a constraint that does not depend on x
 * (empty Jacobian pattern). x = 2, lam = 0. */
fold_status constant_constraint_create(fold_problem **out);

/* ||grad f + J'lam - zl + zu||_inf at (x, lam, zl, zu; p), from the problem's callbacks. */
double stationarity(const fold_problem *prob, const double *p, const double *x, const double *lam,
                    const double *zl, const double *zu);

/* Run fn() with file descriptor fd redirected to a temporary file; returns what was written
 * (malloc'd, NUL-terminated). */
char *capture_fd(int fd, void (*fn)(void *), void *arg);

#endif
