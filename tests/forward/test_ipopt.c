/* fold_solve with Ipopt: published and closed-form optima, KKT conditions of the returned
 * multipliers (doc/math.md (2.3)-(2.5)), warm starts, status mapping, solver accessors. */
#include <pthread.h>

#include "basic/basic.h"
#include "forward/solver_internal.h"
#include "fwd_problems.h"

/* HS071 at its default parameters: the published optimum, multipliers that satisfy
 * stationarity, complementarity and the sign conventions of (2.2), info filled in. */
START_TEST(hs071_optimum)
{
    fold_problem *prob;
    fold_solver *s;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double x[4], lam[2], zl[4], zu[4], f, p[3];
    static const double xref[4] = {1.0, 4.7429996, 3.8211499, 1.3794082};
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, x, lam, zl, zu, &f), FOLD_OK);
    ck_assert_double_eq_tol(f, 17.0140173, 1e-6);
    ck_assert_double_eq_tol(info.objective, f, 1e-14);
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq_tol(x[j], xref[j], 1e-6);
    /* KKT residuals measured on foldopt's scale (doc/math.md 2.7-2.10). */
    ck_assert_double_lt(info.kkt_stationarity, 1e-7);
    ck_assert_double_lt(info.kkt_feasibility, 1e-7);
    ck_assert_double_lt(info.kkt_complementarity, 1e-7);
    fold_problem_default_params(prob, p);
    ck_assert_double_lt(stationarity(prob, p, x, lam, zl, zu), 1e-7);
    /* x1 sits at its lower bound 1: zl1 > 0 carries it; the others are interior. */
    ck_assert_double_gt(zl[0], 0.1);
    for (int j = 0; j < 4; j++) {
        ck_assert_double_ge(zl[j], 0);
        ck_assert_double_ge(zu[j], 0);
        ck_assert_double_lt(zl[j] * (x[j] - 1), 1e-7);
        ck_assert_double_lt(zu[j] * (5 - x[j]), 1e-7);
    }
    /* g0 = x1x2x3x4 - 25 >= 0 active at its lower bound: lam0 <= 0; equality g1 free sign. */
    ck_assert_double_lt(lam[0], -1e-3);
    ck_assert_int_eq(info.status, FOLD_FWD_SOLVED);
    ck_assert_int_eq(info.raw_status, 0);
    ck_assert_str_eq(info.backend, "ipopt");
    ck_assert_str_eq(fold_forward_status_string(info.status), "solved");
    ck_assert_int_gt(info.iterations, 3);
    ck_assert_int_lt(info.iterations, 30);
    ck_assert_int_ge(info.n_eval_f, info.iterations);
    ck_assert_int_ge(info.n_eval_grad_f, info.iterations);
    ck_assert_int_ge(info.n_eval_jac_g, info.iterations);
    ck_assert_int_ge(info.n_eval_hess_l, info.iterations);
    ck_assert_double_gt(info.solve_s, 0);
    ck_assert_double_ge(info.total_s, info.solve_s);
    ck_assert_double_ge(info.callback_s, 0);
    ck_assert_double_le(info.callback_s, info.solve_s + 1e-3);
    ck_assert(s->is_converged);
    ck_assert_int_eq(s->info.status, FOLD_FWD_SOLVED);
    ck_assert_int_eq(s->info.iterations, info.iterations);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* The parametric QP against its closed form for random parameter vectors. */
START_TEST(pqp_closed_form)
{
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    fold_test_rng rng;
    double p[FOLD_PQP_N + 1], x[FOLD_PQP_N], lam, xs[FOLD_PQP_N], lams, zl[FOLD_PQP_N],
        zu[FOLD_PQP_N], pback[FOLD_PQP_N + 1];
    fold_settings_default(&set);
    set.forward.tol = 1e-10;
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    fold_test_rng_seed(&rng, 42);
    for (int trial = 0; trial < 5; trial++) {
        for (int k = 0; k <= FOLD_PQP_N; k++)
            p[k] = 3 * fold_test_normal(&rng);
        fold_pqp_solution(p, x, &lam, NULL);
        ck_assert_status(fold_solve(s, p, NULL), FOLD_OK);
        ck_assert_status(fold_solver_solution(s, xs, &lams, zl, zu, NULL), FOLD_OK);
        ck_assert_double_lt(fold_test_vec_relerr(xs, x, FOLD_PQP_N, 1.0), 1e-7);
        ck_assert_double_lt(fold_test_relerr(lams, lam), 1e-7);
        ck_assert_double_lt(stationarity(prob, p, xs, &lams, zl, zu), 1e-7);
        ck_assert_status(fold_solver_params(s, pback), FOLD_OK);
        for (int k = 0; k <= FOLD_PQP_N; k++)
            ck_assert_double_eq(pback[k], p[k]);
    }
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* Bound multipliers: zl, zu >= 0 with grad f - zl + zu = 0 (2.3) on a problem whose
 * multipliers are known exactly; m = 0 exercises Ipopt without constraints. */
START_TEST(bound_multipliers)
{
    fold_problem *prob;
    fold_solver *s;
    double x[3], zl[3], zu[3];
    static const double xr[3] = {1, 0, 0.5}, zlr[3] = {0, 2, 0}, zur[3] = {2, 0, 0};
    ck_assert_status(box_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, x, NULL, zl, zu, NULL), FOLD_OK);
    for (int j = 0; j < 3; j++) {
        ck_assert_double_eq_tol(x[j], xr[j], 1e-7);
        ck_assert_double_eq_tol(zl[j], zlr[j], 1e-6);
        ck_assert_double_eq_tol(zu[j], zur[j], 1e-6);
    }
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* A constraint independent of x: Ipopt needs one Jacobian entry, a structural zero. */
START_TEST(constant_constraint)
{
    fold_problem *prob;
    fold_solver *s;
    double x, lam, zl, zu;
    ck_assert_status(constant_constraint_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, &x, &lam, &zl, &zu, NULL), FOLD_OK);
    ck_assert_double_eq_tol(x, 2, 1e-8);
    ck_assert_double_eq_tol(lam, 0, 1e-8);
    ck_assert_double_eq(zl, 0);
    ck_assert_double_eq(zu, 0);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* Without hess_l Ipopt runs L-BFGS and still reaches the closed form. */
START_TEST(lbfgs_without_hessian)
{
    plane_data ud = {.fail_above = INFINITY};
    fold_problem *prob;
    fold_solver *s;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double p[3] = {0.3, 2.0, -0.7}, x[3], lam, xs[3], lams;
    ck_assert_status(plane_create(&ud, false, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, p, &info), FOLD_OK);
    ck_assert_int_eq(info.n_eval_hess_l, 0);
    plane_solution(p, x, &lam);
    ck_assert_status(fold_solver_solution(s, xs, &lams, NULL, NULL, NULL), FOLD_OK);
    ck_assert_double_lt(fold_test_vec_relerr(xs, x, 3, 1.0), 1e-7);
    ck_assert_double_lt(fold_test_relerr(lams, lam), 1e-6);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

static fold_int solve_iterations(fold_solver *s, const double *p, double *x)
{
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_status(fold_solve(s, p, &info), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    return info.iterations;
}

/* Warm start from the solution at nearby parameters needs fewer iterations than a cold
 * start and reaches the same point. */
START_TEST(warm_start_fewer_iterations)
{
    fold_problem *prob;
    fold_solver *warm, *cold;
    fold_settings set;
    double p[3] = {25, 40, 1}, q[3] = {25.5, 40.3, 1.1}, xw[4], xc[4];
    fold_int it_warm, it_cold;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_settings_default(&set);
    ck_assert_status(fold_solver_create(prob, &set, &warm), FOLD_OK);
    set.forward.warm_start = false;
    ck_assert_status(fold_solver_create(prob, &set, &cold), FOLD_OK);
    solve_iterations(warm, p, xw);
    solve_iterations(cold, p, xc);
    it_warm = solve_iterations(warm, q, xw);
    it_cold = solve_iterations(cold, q, xc);
    ck_assert_msg(it_warm < it_cold, "warm %lld, cold %lld iterations", (long long)it_warm,
                  (long long)it_cold);
    ck_assert_double_lt(fold_test_vec_relerr(xw, xc, 4, 1.0), 1e-6);
    /* A repeated solve at unchanged p (doc/api/solver.md): warm, it starts at its own solution
     * and returns it in fewer iterations; cold, it is the same independent solve again. */
    double xw2[4], xc2[4];
    fold_int it_warm2 = solve_iterations(warm, q, xw2), it_cold2 = solve_iterations(cold, q, xc2);
    ck_assert_msg(it_warm2 < it_cold, "repeated warm %lld, cold %lld iterations",
                  (long long)it_warm2, (long long)it_cold);
    ck_assert_double_lt(fold_test_vec_relerr(xw2, xw, 4, 1.0), 1e-7);
    ck_assert_int_eq(it_cold2, it_cold);
    ck_assert_double_lt(fold_test_vec_relerr(xc2, xc, 4, 1.0), 1e-12);
    fold_solver_free(warm);
    fold_solver_free(cold);
    fold_problem_free(prob);
}
END_TEST

/* Infeasible problem: FOLD_ERR_FORWARD_FAILED, status infeasible, last iterate kept but
 * marked unconverged. */
START_TEST(infeasible_problem)
{
    fold_problem *prob;
    fold_solver *s;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double x[2];
    ck_assert_status(infeasible_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_INFEASIBLE);
    ck_assert_int_eq(info.raw_status, 2);
    ck_assert_error_mentions("infeasible");
    /* x1 + x2 <= 2 < 3: violation >= 1, scaled by 1 + |3| (2.8). */
    ck_assert_double_ge(info.kkt_feasibility, 0.25 - 1e-9);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    ck_assert(!s->is_converged);
    ck_assert_int_eq(s->info.status, FOLD_FWD_INFEASIBLE);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

START_TEST(iteration_limit)
{
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    fold_settings_default(&set);
    set.forward.max_iter = 2;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_MAX_ITER);
    ck_assert_int_eq(info.iterations, 2);
    ck_assert_error_mentions("iteration limit");
    ck_assert(s->has_solution && !s->is_converged);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* One HS071 solve under settings set and an optional Ipopt mu_strategy: its info and x. */
static void solve_hs071(const fold_settings *set, const char *mu_strategy, fold_forward_info *info,
                        double x[4])
{
    fold_problem *prob;
    fold_solver *s;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, set, &s), FOLD_OK);
    if (mu_strategy)
        ck_assert_status(fold_solver_set_ipopt_option(s, "mu_strategy", mu_strategy), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, info), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    fold_solver_free(s);
    fold_problem_free(prob);
}

/* forward.ordering and forward.pivtol (doc/api/solver.md "Settings used"): every choice is an
 * ordering this MUMPS accepts (a wrong mumps_pivot_order code, such as 1 = "given by the caller",
 * fails the solve) and reaches the published optimum; the defaults are qamd and 1e-4; a
 * mumps_pivot_order passed through is taken over the setting (QAMD set, the failing 1 passed:
 * it fails). */
START_TEST(orderings_agree)
{
    static const double xref[4] = {1.0, 4.7429996, 3.8211499, 1.3794082};
    static const char *names[] = {"auto", "amd", "amf", "scotch", "pord", "metis", "qamd"};
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double x[4];
    fold_settings_default(&set);
    ck_assert_int_eq(set.forward.ordering, FOLD_FWD_ORDER_QAMD);
    ck_assert_double_eq(set.forward.pivtol, 1e-4);
    for (int k = 0; k < 7; k++) {
        ck_assert_status(fold_settings_set(&set, "forward.ordering", names[k]), FOLD_OK);
        ck_assert_int_eq(set.forward.ordering, k);
        solve_hs071(&set, NULL, &info, x);
        ck_assert_int_eq(info.status, FOLD_FWD_SOLVED);
        for (int j = 0; j < 4; j++)
            ck_assert_double_eq_tol(x[j], xref[j], 1e-6);
    }
    ck_assert_status(fold_settings_set(&set, "forward.ordering", "nested"), FOLD_ERR_SETTING);
    ck_assert_int_eq(set.forward.ordering, FOLD_FWD_ORDER_QAMD);
    /* forward.pivtol: Ipopt's mumps_pivtolmax (0.1) bounds it; both ends solve */
    ck_assert_status(fold_settings_set(&set, "forward.pivtol", "0.5"), FOLD_ERR_SETTING);
    for (int k = 0; k < 2; k++) {
        set.forward.pivtol = k ? 0.1 : 0.0;
        solve_hs071(&set, NULL, &info, x);
        ck_assert_int_eq(info.status, FOLD_FWD_SOLVED);
        ck_assert_double_eq_tol(x[1], xref[1], 1e-6);
    }
    set.forward.pivtol = 1e-6;
    {
        fold_problem *prob;
        fold_solver *s;
        ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
        ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
        /* 1 asks MUMPS for the caller's permutation, which Ipopt never gives: the solve fails,
         * so the option, not forward.ordering, reached MUMPS */
        ck_assert_status(fold_solver_set_ipopt_option(s, "mumps_pivot_order", "1"), FOLD_OK);
        ck_assert_int_ne(fold_solve(s, NULL, &info), FOLD_OK);
        ck_assert_int_ne(info.status, FOLD_FWD_SOLVED);
        fold_solver_free(s);
        fold_problem_free(prob);
    }
}
END_TEST

/* forward.stall_iter (doc/api/solver.md "Stalls"): HS071 is still in its first barrier problem
 * (mu = 0.1) at iteration 2, so with stall_iter = 2 the solve stops there and runs again from
 * its start with mu_strategy adaptive: exactly the solve that option gives, plus the 2
 * iterations. A mu_strategy given as an Ipopt option, or a limit the solve never reaches,
 * leaves the solve alone. */
START_TEST(stall_restart)
{
    fold_settings set;
    fold_forward_info plain = FOLD_FORWARD_INFO_INIT, stalled = FOLD_FORWARD_INFO_INIT,
                      adaptive = FOLD_FORWARD_INFO_INIT, chosen = FOLD_FORWARD_INFO_INIT;
    double x_plain[4], x_stalled[4], x_adaptive[4], x_chosen[4];
    fold_settings_default(&set);
    ck_assert_int_eq(set.forward.stall_iter, 65);
    solve_hs071(&set, NULL, &plain, x_plain); /* the default never reaches its limit here */
    set.forward.stall_iter = 0;
    solve_hs071(&set, "adaptive", &adaptive, x_adaptive);
    set.forward.stall_iter = 2;
    solve_hs071(&set, NULL, &stalled, x_stalled);
    solve_hs071(&set, "monotone", &chosen, x_chosen);
    ck_assert_int_gt(plain.iterations, 2);
    ck_assert(memcmp(x_adaptive, x_plain, sizeof x_plain) != 0); /* another path */
    ck_assert_int_eq(stalled.iterations, adaptive.iterations + 2);
    ck_assert_int_eq(stalled.status, FOLD_FWD_SOLVED);
    ck_assert_mem_eq(x_stalled, x_adaptive, sizeof x_stalled);
    ck_assert_int_gt(stalled.n_eval_hess_l, adaptive.n_eval_hess_l);
    ck_assert_int_eq(chosen.iterations, plain.iterations);
    ck_assert_mem_eq(x_chosen, x_plain, sizeof x_chosen);
    /* forward.stall_step_iter: the same restart at that iteration when the median primal step
     * of the iterations before it at mu = 0.1 is at most forward.stall_step (every step is at
     * most 1; HS071's first two are not at most 1e-9) */
    fold_forward_info short_steps = FOLD_FORWARD_INFO_INIT, long_steps = FOLD_FORWARD_INFO_INIT;
    double x_short[4], x_long[4];
    ck_assert_int_eq(set.forward.stall_step_iter, 50);
    ck_assert_double_eq(set.forward.stall_step, 0.07);
    set.forward.stall_iter = 0;
    set.forward.stall_step_iter = 2;
    set.forward.stall_step = 1.0;
    solve_hs071(&set, NULL, &short_steps, x_short);
    set.forward.stall_step = 1e-9;
    solve_hs071(&set, NULL, &long_steps, x_long);
    ck_assert_int_eq(short_steps.iterations, adaptive.iterations + 2);
    ck_assert_mem_eq(x_short, x_adaptive, sizeof x_short);
    ck_assert_int_eq(long_steps.iterations, plain.iterations);
    ck_assert_mem_eq(x_long, x_plain, sizeof x_long);
    set.forward.stall_step_iter = 50;
    set.forward.stall_step = 0.07;
    set.forward.stall_iter = 2;
    /* forward.max_iter bounds the two runs together */
    fold_problem *prob;
    fold_solver *s;
    set.forward.max_iter = 5;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &stalled), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(stalled.status, FOLD_FWD_MAX_ITER);
    ck_assert_int_eq(stalled.iterations, 5);
    fold_solver_free(s);
    /* forward.stall_dual_growth: a cold solve whose dual infeasibility at the first mu exceeds
     * that multiple of its start (with one this small: at iteration 1) restarts the same way;
     * a warm start is not tested (its dual infeasibility can start near zero) */
    fold_forward_info grown = FOLD_FORWARD_INFO_INIT, warm = FOLD_FORWARD_INFO_INIT,
                      warm_off = FOLD_FORWARD_INFO_INIT;
    double x_grown[4], x_warm[4], p[3];
    fold_problem_default_params(prob, p);
    p[0] *= 1.1;
    set.forward.max_iter = 3000;
    set.forward.stall_iter = 0;
    for (int pass = 0; pass < 2; pass++) { /* the warm solve tested (0) or not (1) */
        set.forward.stall_dual_growth = 1e-300;
        ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
        ck_assert_status(fold_solve(s, NULL, &grown), FOLD_OK);
        ck_assert_status(fold_solver_solution(s, x_grown, NULL, NULL, NULL, NULL), FOLD_OK);
        set.forward.stall_dual_growth = pass ? 0.0 : 1e-300;
        ck_assert_status(fold_solver_update_settings(s, &set), FOLD_OK);
        ck_assert_status(fold_solve(s, p, pass ? &warm_off : &warm), FOLD_OK); /* warm */
        ck_assert_status(fold_solver_solution(s, pass ? x_plain : x_warm, NULL, NULL, NULL, NULL),
                         FOLD_OK);
        fold_solver_free(s);
    }
    ck_assert_int_eq(grown.iterations, adaptive.iterations + 1);
    ck_assert_mem_eq(x_grown, x_adaptive, sizeof x_grown);
    ck_assert_int_gt(warm.iterations, 0);
    ck_assert_int_eq(warm.iterations, warm_off.iterations);
    ck_assert_mem_eq(x_warm, x_plain, sizeof x_warm);
    fold_problem_free(prob);
}
END_TEST

/* A warm solve of HS071 at p0 (1 + 2%) from its solution at p0, with `mu_strategy` given or
 * not: its info and x. */
static void warm_hs071(const fold_settings *set, const char *mu_strategy, fold_forward_info *info,
                       double x[4])
{
    fold_problem *prob;
    fold_solver *s;
    double p[3];
    fold_settings cold = *set;
    cold.forward.stall_iter = 0;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_problem_default_params(prob, p);
    ck_assert_status(fold_solver_create(prob, &cold, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solver_update_settings(s, set), FOLD_OK);
    if (mu_strategy)
        ck_assert_status(fold_solver_set_ipopt_option(s, "mu_strategy", mu_strategy), FOLD_OK);
    for (int k = 0; k < 3; k++)
        p[k] *= 1.02;
    ck_assert_status(fold_solve(s, p, info), FOLD_OK); /* warm (forward.warm_start) */
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    fold_solver_free(s);
    fold_problem_free(prob);
}

/* The stall tests of a warm solve count from its first step's barrier problem: from a
 * solution nearby Ipopt lowers mu before its first step (here from 0.1 to 0.02), and a solve
 * stuck in the problem it lowered it to is stuck the same. HS071 converges too fast to stall,
 * so stall_iter = 1: still in its first step's problem at iteration 1, the warm solve stops
 * there and runs again with mu_strategy adaptive from the same warm start (the iterations of
 * that solve plus 1, its solution to the tolerance: the re-run's ends are fold_solve's, the
 * solve with the option given Ipopt's), where a test measured from the initial mu would not
 * fire and leave the plain solve. */
START_TEST(stall_restart_warm)
{
    fold_settings set;
    fold_forward_info plain = FOLD_FORWARD_INFO_INIT, stalled = FOLD_FORWARD_INFO_INIT,
                      adaptive = FOLD_FORWARD_INFO_INIT;
    double x_plain[4], x_stalled[4], x_adaptive[4];
    fold_settings_default(&set);
    ck_assert(set.forward.warm_start);
    set.forward.stall_dual_growth = 0;
    warm_hs071(&set, NULL, &plain, x_plain);
    warm_hs071(&set, "adaptive", &adaptive, x_adaptive);
    set.forward.stall_iter = 1;
    warm_hs071(&set, NULL, &stalled, x_stalled);
    ck_assert_int_gt(plain.iterations, 2);
    ck_assert_int_eq(stalled.iterations, adaptive.iterations + 1);
    ck_assert_int_eq(stalled.status, FOLD_FWD_SOLVED);
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq_tol(x_stalled[j], x_adaptive[j], 1e-7 * fabs(x_adaptive[j]));
    /* not the plain solve (which a test that never fires here would give, bit for bit) */
    ck_assert(memcmp(x_stalled, x_plain, sizeof x_plain) != 0);
}
END_TEST

/* forward.stall_rescue_iter (doc/api/solver.md "Stalls"): the adaptive re-run of a stalled
 * solve stops as failed (FOLD_FWD_STALLED) at that iteration of it when its median primal step
 * is at most forward.stall_step (every step is at most 1); steps above the threshold, or the
 * test off, leave the re-run to end as before. */
START_TEST(stall_rescue)
{
    fold_settings set;
    fold_forward_info restarted = FOLD_FORWARD_INFO_INIT, info = FOLD_FORWARD_INFO_INIT;
    double x_restarted[4], x[4];
    fold_problem *prob;
    fold_solver *s;
    fold_settings_default(&set);
    ck_assert_int_eq(set.forward.stall_rescue_iter, 50);
    set.forward.stall_iter = 2;
    solve_hs071(&set, NULL, &restarted, x_restarted); /* HS071's re-run ends before 50 */
    ck_assert_int_gt(restarted.iterations, 2 + 3);
    set.forward.stall_rescue_iter = 3;
    set.forward.stall_step = 1.0;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_STALLED);
    ck_assert_str_eq(fold_forward_status_string(info.status), "stalled");
    ck_assert_int_eq(info.iterations, 2 + 3);
    fold_solver_free(s);
    fold_problem_free(prob);
    set.forward.stall_step = 1e-9; /* HS071's first steps are longer */
    solve_hs071(&set, NULL, &info, x);
    ck_assert_int_eq(info.iterations, restarted.iterations);
    ck_assert_mem_eq(x, x_restarted, sizeof x);
    set.forward.stall_step = 1.0;
    set.forward.stall_rescue_iter = 0;
    solve_hs071(&set, NULL, &info, x);
    ck_assert_int_eq(info.iterations, restarted.iterations);
    ck_assert_mem_eq(x, x_restarted, sizeof x);
}
END_TEST

/* forward.floor_max_iter (doc/api/solver.md "Floor"): a solve whose residual floor lies
 * above tol and whose spikes restart Ipopt's count of acceptable iterations ends at an
 * acceptable iterate floor_max_iter iterations after mu came down to tol. */
static void solve_floor(const fold_settings *set, const char *option, const char *value,
                        fold_forward_info *info, fold_status want, double x[3])
{
    fold_problem *prob;
    fold_solver *s;
    long calls = 0;
    ck_assert_status(floor_create(&calls, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, set, &s), FOLD_OK);
    if (option) ck_assert_status(fold_solver_set_ipopt_option(s, option, value), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, info), want);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    fold_solver_free(s);
    fold_problem_free(prob);
}

START_TEST(floor_end)
{
    fold_settings set;
    fold_forward_info dflt = FOLD_FORWARD_INFO_INIT, later = FOLD_FORWARD_INFO_INIT,
                      off = FOLD_FORWARD_INFO_INIT, user = FOLD_FORWARD_INFO_INIT;
    double x_dflt[3], x_later[3], x_off[3], x_user[3];
    static const double x_box[3] = {1, 0, 0.5}; /* box_create's solution */
    fold_settings_default(&set);
    ck_assert_int_eq(set.forward.floor_max_iter, 12);
    set.forward.max_iter = 200;
    solve_floor(&set, NULL, NULL, &dflt, FOLD_WARN_INACCURATE, x_dflt);
    ck_assert_int_eq(dflt.status, FOLD_FWD_ACCEPTABLE);
    ck_assert_int_gt(dflt.iterations, 12);
    ck_assert_int_lt(dflt.iterations, 40);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq_tol(x_dflt[j], x_box[j], 1e-5);
    /* a later end: at the first acceptable iterate (two of three are) after 8 more */
    set.forward.floor_max_iter = 20;
    solve_floor(&set, NULL, NULL, &later, FOLD_WARN_INACCURATE, x_later);
    ck_assert_int_eq(later.status, FOLD_FWD_ACCEPTABLE);
    ck_assert_int_gt(later.iterations, dflt.iterations + 7);
    ck_assert_int_lt(later.iterations, dflt.iterations + 10);
    /* Ipopt alone never counts 15 consecutive acceptable iterations here */
    set.forward.floor_max_iter = 0;
    solve_floor(&set, NULL, NULL, &off, FOLD_ERR_FORWARD_FAILED, x_off);
    ck_assert_int_eq(off.status, FOLD_FWD_MAX_ITER);
    ck_assert_int_eq(off.iterations, 200);
    /* nor when the caller sets an acceptable_* option, which leaves the end to Ipopt */
    set.forward.floor_max_iter = 12;
    solve_floor(&set, "acceptable_iter", "15", &user, FOLD_ERR_FORWARD_FAILED, x_user);
    ck_assert_int_eq(user.status, FOLD_FWD_MAX_ITER);
    ck_assert_int_eq(user.iterations, 200);
    /* nor for a solve that starts at its floor (mu_init <= tol: a warm re-solve) */
    solve_floor(&set, "mu_init", "1e-9", &user, FOLD_ERR_FORWARD_FAILED, x_user);
    ck_assert_int_eq(user.status, FOLD_FWD_MAX_ITER);
    ck_assert_int_eq(user.iterations, 200);
}
END_TEST

/* A tight forward.tol never fails where a looser one succeeds (doc/math.md §3.2): with an
 * iteration limit that the solve at 1e-8 meets and the direct solve at 1e-13 does not,
 * fold_solve reaches 1e-13 in warm stages from the 1e-8 point. */
START_TEST(tight_tol_in_stages)
{
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double x[4];
    fold_settings_default(&set);
    set.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE; /* the stages alone */
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    fold_int n8 = info.iterations;
    ck_assert_int_eq(info.resolves, 0);
    fold_solver_free(s);
    set.forward.tol = 1e-13;
    set.forward.max_iter = n8;
    set.forward.warm_start = false;
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert_int_ge(info.resolves, 2); /* the stage at 1e-8, then warm ones */
    ck_assert_double_eq(info.tol_reached, 1e-13);
    ck_assert_int_eq(info.status, FOLD_FWD_SOLVED);
    ck_assert_int_gt(info.iterations, n8); /* the failed direct solve's included */
    ck_assert_double_gt(info.resolve_s, 0);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    ck_assert_double_eq_tol(x[1], 4.7429996, 1e-6);
    /* with a limit even the loose stage misses, the direct solve's failure is returned */
    fold_solver_free(s);
    set.forward.max_iter = 2;
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_MAX_ITER);
    ck_assert_error_mentions("iteration limit");
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* The wall-clock limit is enforced even when the time is not CPU time (f sleeps 30 ms):
 * unlimited the solve needs more iterations than fit in 50 ms. */
START_TEST(wall_clock_limit)
{
    plane_data ud = {.fail_above = INFINITY, .sleep_s = 0.03};
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    fold_int unlimited;
    fold_settings_default(&set);
    set.forward.warm_start = false;
    ck_assert_status(plane_create(&ud, false, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    unlimited = info.iterations;
    ck_assert_double_ge(info.solve_s, 0.03 * (double)info.n_eval_f);
    ck_assert_double_gt(info.solve_s, 0.05);
    set.forward.time_limit_s = 0.05;
    ck_assert_status(fold_solver_update_settings(s, &set), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_MAX_TIME);
    ck_assert_error_mentions("time limit");
    /* Stopped by the intermediate callback (Ipopt's User_Requested_Stop), not by Ipopt's
     * CPU-time check: sleeping costs no CPU. */
    ck_assert_int_eq(info.raw_status, 5);
    ck_assert_int_lt(info.iterations, unlimited);
    ck_assert_double_ge(info.solve_s, 0.05);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

typedef struct {
    const fold_problem *prob;
    unsigned long long seed;
    double worst;
    fold_status st;
} thread_job;

static void *solve_many(void *arg)
{
    thread_job *job = arg;
    fold_solver *s;
    fold_test_rng rng;
    double p[FOLD_PQP_N + 1], x[FOLD_PQP_N], xs[FOLD_PQP_N], lam;
    job->st = fold_solver_create(job->prob, NULL, &s);
    fold_test_rng_seed(&rng, job->seed);
    for (int trial = 0; trial < 8 && job->st == FOLD_OK; trial++) {
        for (int k = 0; k <= FOLD_PQP_N; k++)
            p[k] = fold_test_normal(&rng);
        if ((job->st = fold_solve(s, p, NULL)) == FOLD_OK)
            job->st = fold_solver_solution(s, xs, NULL, NULL, NULL, NULL);
        fold_pqp_solution(p, x, &lam, NULL);
        job->worst = fmax(job->worst, fold_test_vec_relerr(xs, x, FOLD_PQP_N, 1.0));
    }
    fold_solver_free(s);
    return NULL;
}

/* Solvers in several threads (sharing one problem) give the same results as alone. */
START_TEST(concurrent_solvers)
{
    fold_problem *prob;
    pthread_t th[4];
    thread_job jobs[4];
    ck_assert_status(fold_pqp_create(&prob), FOLD_OK);
    for (int t = 0; t < 4; t++) {
        jobs[t] = (thread_job){.prob = prob, .seed = 100 + (unsigned long long)t};
        ck_assert_int_eq(pthread_create(&th[t], NULL, solve_many, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        ck_assert_status(jobs[t].st, FOLD_OK);
        ck_assert_double_lt(jobs[t].worst, 1e-7);
    }
    fold_problem_free(prob);
}
END_TEST

/* Accessors before and after a solve; an explicit start point (with multipliers) from the
 * solution restarts at the optimum. */
START_TEST(accessors_and_start)
{
    fold_problem *prob;
    fold_solver *s;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double x[4], lam[2], zl[4], zu[4], p[3], bad[4] = {1, NAN, 1, 1};
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_solver_params(s, p), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_solver_solution(NULL, x, NULL, NULL, NULL, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_solver_params(s, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_solver_set_start(s, NULL, NULL, NULL, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_solver_set_start(s, bad, NULL, NULL, NULL), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("x[1]");
    ck_assert_ptr_eq(fold_solver_problem(s), prob);
    ck_assert_ptr_nonnull(fold_solver_settings(s));
    ck_assert_int_eq(s->info.status, FOLD_FWD_NOT_RUN);

    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert_status(fold_solver_params(s, p), FOLD_OK);
    ck_assert_double_eq(p[0], 25);
    ck_assert_double_eq(p[1], 40);
    ck_assert_double_eq(p[2], 1);
    ck_assert_status(fold_solver_solution(s, x, lam, zl, zu, NULL), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, NULL, NULL, NULL, NULL, NULL), FOLD_OK);

    ck_assert_status(fold_solver_set_start(s, x, lam, zl, zu), FOLD_OK);
    ck_assert(s->has_start && s->start_has_duals);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert(!s->has_start); /* consumed by one solve */
    ck_assert_int_le(info.iterations, 3);
    fold_solver_free(s);
    fold_solver_free(NULL);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("ipopt");
    TCase *tc = tcase_create("solve");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hs071_optimum);
    tcase_add_test(tc, tight_tol_in_stages);
    tcase_add_test(tc, pqp_closed_form);
    tcase_add_test(tc, bound_multipliers);
    tcase_add_test(tc, constant_constraint);
    tcase_add_test(tc, lbfgs_without_hessian);
    tcase_add_test(tc, warm_start_fewer_iterations);
    tcase_add_test(tc, infeasible_problem);
    tcase_add_test(tc, iteration_limit);
    tcase_add_test(tc, orderings_agree);
    tcase_add_test(tc, stall_restart);
    tcase_add_test(tc, stall_rescue);
    tcase_add_test(tc, stall_restart_warm);
    tcase_add_test(tc, floor_end);
    tcase_add_test(tc, wall_clock_limit);
    tcase_add_test(tc, concurrent_solvers);
    tcase_add_test(tc, accessors_and_start);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
