/* Small built-in parametric problems with known solutions, used by the CLI (`foldopt demo`,
 * `foldopt check`) and the tests. Built on the public API only. doc/problems.md. */
#ifndef FOLD_PROBLEMS_BASIC_H
#define FOLD_PROBLEMS_BASIC_H

#include "foldopt.h"

/* HS071 with parameters p = (p0, p1, p2), defaults (25, 40, 1):
 *   min x1 x4 (x1 + x2 + x3) + p2 x3
 *   s.t. x1 x2 x3 x4 >= p0,  x1^2 + x2^2 + x3^2 + x4^2 = p1,  1 <= x <= 5.
 * At the defaults: x* = (1, 4.74300, 3.82115, 1.37941), f* = 17.0140173. */
fold_status fold_hs071_create(fold_problem **out);

/* Parametric equality-constrained QP with a closed-form solution (n = 5, np = 6):
 *   min 1/2 x'Dx - q'x  s.t.  a'x = b,  x <= 100,   p = (q[0..4], b).
 * Solution: lam = (a'D^{-1}q - b)/(a'D^{-1}a), x = D^{-1}(q - lam a). */
#define FOLD_PQP_N 5
fold_status fold_pqp_create(fold_problem **out);
/* Closed form x(p), lam(p) and dx/dp (n x np, column-major) for the parametric QP. */
void fold_pqp_solution(const double *p, double *x, double *lam, double *dxdp);

/* Look a built-in problem up by name ("hs071", "pqp"); FOLD_ERR_ARGUMENT if unknown. */
fold_status fold_builtin_create(const char *name, fold_problem **out);
/* Names of the built-in problems, NULL-terminated. */
const char *const *fold_builtin_names(void);

#endif
