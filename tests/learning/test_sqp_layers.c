/* The SQP step of the Ipopt-solved layers (qp, portfolio): folded by LFPI and GMRES it equals
 * the KKT fold (fold_vjp); unrolled from the fixed start it tends to it as the number of steps
 * grows and matches central differences of re-solved unrolled layers (doc/learning.md §4.5). */
#include "learning_check.h"

static learn_task *make(const char *name, fold_int size, fold_int n_eq, fold_int n_ineq,
                        uint64_t seed, int backward)
{
    learn_config c;
    learn_task *t = NULL;
    ck_assert_status(learn_config_default(name, &c), FOLD_OK);
    c.n_train = 4;
    c.n_test = 2;
    c.size = size;
    c.n_eq = n_eq;
    c.n_ineq = n_ineq;
    c.seed = seed;
    c.backward = backward;
    ck_assert_status(learn_task_create(name, &c, &t), FOLD_OK);
    return t;
}

/* qbar of sample s under the task's current backward (forward first). */
static void vjp_of(learn_task *t, fold_int s, const double *ybar, double *qbar)
{
    double y[64];
    ck_assert_int_le(t->n_y, 64);
    ck_assert_status(t->ops->forward(t, s, t->target + s * t->n_q, y), FOLD_OK);
    ck_assert_status(t->ops->vjp(t, s, ybar, qbar), FOLD_OK);
}

/* I - Phi = M^{-1} dF/dz: LFPI (B = beta I and the Gershgorin diagonal) and GMRES on the qp's
 * step give fold_vjp's answer to 1e-8 (both stop at a 1e-12 relative residual). */
START_TEST(qp_step_fold_matches_kkt)
{
    learn_task *t = make("qp", 12, 4, 6, 3, LEARN_BACKWARD_DIRECT);
    double ybar[12], ref[12], pbar[12];
    learn_rng rng;
    learn_rng_seed(&rng, 5);
    for (fold_int s = 0; s < 3; s++) {
        for (int j = 0; j < 12; j++)
            ybar[j] = learn_normal(&rng);
        t->backward = LEARN_BACKWARD_DIRECT;
        vjp_of(t, s, ybar, ref);
        for (int k = 0; k < 3; k++) {
            t->backward = k == 2 ? LEARN_BACKWARD_GMRES : LEARN_BACKWARD_LFPI;
            ck_assert_status(
                learn_task_set_step(t, k == 1 ? LEARN_STEP_DIAGONAL : LEARN_STEP_IDENTITY, 1.0),
                FOLD_OK);
            vjp_of(t, s, ybar, pbar);
            ck_assert_msg(fold_test_vec_relerr(pbar, ref, 12, 0) <= 1e-8,
                          "sample %lld config %d: %g", (long long)s, k,
                          fold_test_vec_relerr(pbar, ref, 12, 0));
            ck_assert_int_gt(t->backward_iterations, 0);
            ck_assert_uint_eq(t->backward_bytes, 0);
        }
    }
    learn_task_free(t);
}
END_TEST

/* Unrolling K SQP steps from the fixed start: the error of (dx_K/dp)' ybar against the fold
 * contracts with K from K = 8 on (linear convergence of the iteration and of its
 * derivative; measured, e.g. qp 0.79, 0.63, 0.37, 3e-2, 2e-4, 1e-7 at K = 2..64); run to
 * convergence (step <= 1e-13 (1 + |z|)) the limit reproduces Ipopt's point to ~1e-8 on these
 * instances, and the unrolled derivative the fold's to 1e-6. The tape holds z_0..z_K. */
static void unroll_tends_to_fold(learn_task *t, fold_int s, uint64_t seed)
{
    fold_int n = t->n_q, k_conv;
    double ybar[64], ref[64], pbar[64], prev = HUGE_VAL, first = 0;
    learn_rng rng;
    learn_rng_seed(&rng, seed);
    for (fold_int j = 0; j < n; j++)
        ybar[j] = learn_normal(&rng);
    t->backward = LEARN_BACKWARD_DIRECT;
    vjp_of(t, s, ybar, ref);
    t->backward = LEARN_BACKWARD_UNROLL;
    t->unroll_iters = 0;
    vjp_of(t, s, ybar, pbar);
    k_conv = t->backward_iterations;
    ck_assert_int_gt(k_conv, 4);
    ck_assert_msg(fold_test_vec_relerr(pbar, ref, (long)n, 0) <= 1e-6,
                  "%s: converged unroll "
                  "(K = %ld) vs fold: %g",
                  t->name, (long)k_conv, fold_test_vec_relerr(pbar, ref, (long)n, 0));
    ck_assert_uint_gt(t->backward_bytes, (size_t)k_conv * sizeof(double));
    for (fold_int k = 2; k < k_conv; k *= 2) {
        double err;
        t->unroll_iters = k;
        vjp_of(t, s, ybar, pbar);
        ck_assert_int_eq(t->backward_iterations, k);
        err = fold_test_vec_relerr(pbar, ref, (long)n, 0);
        if (k == 2) first = err;
        /* after the first steps from the start (a transient: the portfolio's multipliers
         * overshoot), and above the level where the forward's own error dominates */
        if (k >= 8 && prev > 1e-9)
            ck_assert_msg(err < prev, "%s: K = %ld: error %g not below %g", t->name, (long)k, err,
                          prev);
        prev = err;
    }
    ck_assert_double_gt(first, 1e-3); /* two steps from the start are far from the fold */
    t->unroll_iters = 0;
}

START_TEST(qp_unroll_tends_to_fold)
{
    learn_task *t = make("qp", 12, 4, 6, 3, LEARN_BACKWARD_UNROLL);
    for (fold_int s = 0; s < 2; s++)
        unroll_tends_to_fold(t, s, 60 + (uint64_t)s);
    /* the unrolled layer (Ipopt, then the SQP iteration) against its own re-solves */
    for (fold_int s = 0; s < 2; s++)
        ck_assert_double_le(
            vjp_fd_error(t, s, t->target + s * t->n_q, 1e-4, 3, 70 + (uint64_t)s, NULL), 1e-5);
    learn_task_free(t);
}
END_TEST

/* The portfolio's risk constraint is nonlinear: the iteration updates J(x) (the fold at the
 * solution is unchanged since F(z*) = 0). Same instance as the KKT-fold FD test. */
START_TEST(portfolio_unroll_tends_to_fold)
{
    learn_task *t = make("portfolio", 10, 0, 0, 5, LEARN_BACKWARD_UNROLL);
    for (fold_int s = 0; s < 3; s++)
        unroll_tends_to_fold(t, s, 80 + (uint64_t)s);
    for (fold_int s = 0; s < 2; s++)
        ck_assert_double_le(
            vjp_fd_error(t, s, t->target + s * t->n_q, 1e-4, 3, 90 + (uint64_t)s, NULL), 1e-5);
    learn_task_free(t);
}
END_TEST

START_TEST(sqp_bad_input)
{
    learn_config c;
    learn_task *t = NULL;
    double y[12], ybar[12] = {0}, pbar[12];
    ck_assert_status(learn_config_default("qp", &c), FOLD_OK);
    c.n_train = 2;
    c.n_test = 1;
    c.size = 12;
    c.n_eq = 4;
    c.n_ineq = 6;
    c.unroll_iters = 5; /* a fixed step count needs backward unroll */
    ck_assert_status(learn_task_create("qp", &c, &t), FOLD_ERR_ARGUMENT);
    ck_assert(strstr(fold_last_error(), "unroll_iters") != NULL);
    c.unroll_iters = -1;
    c.backward = LEARN_BACKWARD_UNROLL;
    ck_assert_status(learn_task_create("qp", &c, &t), FOLD_ERR_ARGUMENT);
    c.unroll_iters = 0;
    ck_assert_status(learn_task_create("qp", &c, &t), FOLD_OK);
    /* the unrolled VJP needs a forward that ran the iteration */
    t->backward = LEARN_BACKWARD_DIRECT;
    ck_assert_status(t->ops->forward(t, 0, t->target, y), FOLD_OK);
    t->backward = LEARN_BACKWARD_UNROLL;
    ck_assert_status(t->ops->vjp(t, 0, ybar, pbar), FOLD_ERR_NOT_SOLVED);
    ck_assert(strstr(fold_last_error(), "SQP iteration") != NULL);
    ck_assert_status(learn_task_set_step(t, LEARN_STEP_DIAGONAL, 0.4), FOLD_ERR_ARGUMENT);
    learn_task_free(t);
    ck_assert_status(learn_config_default("denoise", &c), FOLD_OK);
    c.backward = LEARN_BACKWARD_UNROLL;
    c.unroll_iters = 3; /* denoise unrolls the iterations its forward ran */
    ck_assert_status(learn_task_create("denoise", &c, &t), FOLD_ERR_ARGUMENT);
    ck_assert_status(learn_config_default("denoise", &c), FOLD_OK);
    c.n_train = 2;
    c.n_test = 1;
    c.size = 8;
    ck_assert_status(learn_task_create("denoise", &c, &t), FOLD_OK);
    ck_assert_status(learn_task_set_step(t, LEARN_STEP_IDENTITY, 1.0), FOLD_ERR_ARGUMENT);
    learn_task_free(t);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("learning sqp layers");
    TCase *tc = tcase_create("sqp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, qp_step_fold_matches_kkt);
    tcase_add_test(tc, qp_unroll_tends_to_fold);
    tcase_add_test(tc, portfolio_unroll_tends_to_fold);
    tcase_add_test(tc, sqp_bad_input);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
