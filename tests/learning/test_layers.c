/* Learning layers: each VJP against central finite differences of re-solved layers; fold
 * variants (direct, LFPI, unrolled) agree; bad input is reported. doc/learning.md. */
#include "learning/tasks.h"
#include "learning_check.h"

static learn_task *make(const char *name, fold_int size, int backward)
{
    learn_config c;
    learn_task *t = NULL;
    ck_assert_status(learn_config_default(name, &c), FOLD_OK);
    c.n_train = 6;
    c.n_test = 2;
    c.size = size;
    c.backward = backward;
    c.seed = 7;
    ck_assert_status(learn_task_create(name, &c, &t), FOLD_OK);
    return t;
}

START_TEST(topk_vjp_matches_fd)
{
    learn_task *t = make("topk", 12, LEARN_BACKWARD_DIRECT);
    double q[12], y[12], sum = 0;
    learn_rng rng;
    learn_rng_seed(&rng, 3);
    for (int j = 0; j < 12; j++)
        q[j] = 2 * learn_normal(&rng);
    ck_assert_status(t->ops->forward(t, 0, q, y), FOLD_OK);
    for (int j = 0; j < 12; j++) {
        ck_assert(y[j] > 0 && y[j] < 1);
        sum += y[j];
    }
    ck_assert_double_eq_tol(sum, 3.0, 1e-12); /* 1'x = k at the default k = 3 */
    ck_assert_double_le(vjp_fd_error(t, 0, q, 1e-5, 4, 11, NULL), 1e-7);
    learn_task_free(t);
}
END_TEST

/* The dual gradient map nu <- nu - eta (k - 1'sigmoid(c - nu)) (4.14): its fold by LFPI and
 * GMRES equals the closed form (4.13) to 1e-8 (both solve to 1e-12 relative residual); the
 * layer run by that method and unrolled agrees with central differences of re-solves. */
START_TEST(topk_dual_fold_matches_closed_form)
{
    learn_task *t = make("topk", 12, LEARN_BACKWARD_DIRECT);
    double q[12], ref[12], other[12];
    learn_rng rng;
    learn_rng_seed(&rng, 8);
    for (int trial = 0; trial < 4; trial++) {
        for (int j = 0; j < 12; j++)
            q[j] = (1 + trial) * learn_normal(&rng);
        t->backward = LEARN_BACKWARD_DIRECT;
        vjp_fd_error(t, 0, q, 1e-5, 0, 30 + (uint64_t)trial, ref);
        for (int b = LEARN_BACKWARD_LFPI; b <= LEARN_BACKWARD_UNROLL; b++) {
            t->backward = b;
            /* unroll: the forward is the dual gradient method itself, FD of its re-solves */
            ck_assert_double_le(vjp_fd_error(t, 0, q, 1e-5, 3, 30 + (uint64_t)trial, other), 1e-7);
            ck_assert_msg(fold_test_vec_relerr(other, ref, 12, 0) <= 1e-8, "trial %d %s: %g", trial,
                          learn_backward_name(b), fold_test_vec_relerr(other, ref, 12, 0));
            if (b == LEARN_BACKWARD_LFPI) ck_assert_int_gt(t->backward_iterations, 1);
            if (b == LEARN_BACKWARD_GMRES) /* a 1 x 1 fold system: one Krylov step */
                ck_assert_int_le(t->backward_iterations, 2);
            if (b == LEARN_BACKWARD_UNROLL) /* tape: nu_0..nu_K and the K pre-steps */
                ck_assert_uint_eq(t->backward_bytes,
                                  (size_t)(2 * t->backward_iterations + 1) * sizeof(double));
        }
    }
    learn_task_free(t);
}
END_TEST

/* Unrolling K dual gradient steps from nu_0 = 0 tends to the fold as K grows: the error of
 * (d nu_K / dc)' nubar contracts like K rho^K, rho = 1 - eta 1's at the solution; at the K
 * where the forward has converged (|nu_K - nu_{K-1}| <= 1e-15 (1 + |nu|)) what remains is
 * that forward error amplified by 1 / (1 - rho), about 1e-14 / (eta 1's) < 1e-11 here. */
START_TEST(topk_unroll_tends_to_fold)
{
    double c[12], nu, fold[12], unr[12], prev = HUGE_VAL;
    fold_int k_conv, iters;
    size_t bytes;
    learn_rng rng;
    learn_rng_seed(&rng, 21);
    for (int j = 0; j < 12; j++)
        c[j] = 2 * learn_normal(&rng);
    ck_assert_status(learn_topk_dual_solve(c, 12, 3, LEARN_TOPK_MAX_ITER, false, &nu, &k_conv),
                     FOLD_OK);
    ck_assert_status(
        learn_topk_dual_vjp(c, 12, 3, nu, LEARN_BACKWARD_GMRES, 0, 1.0, fold, &iters, &bytes),
        FOLD_OK);
    for (fold_int k = 4; k < k_conv; k *= 2) {
        ck_assert_status(
            learn_topk_dual_vjp(c, 12, 3, nu, LEARN_BACKWARD_UNROLL, k, 1.0, unr, &iters, &bytes),
            FOLD_OK);
        double err = fold_test_vec_relerr(unr, fold, 12, 0);
        if (k == 4) /* far from converged, the unrolled derivative is off */
            ck_assert_double_gt(err, 1e-3);
        if (prev > 1e-11) /* above the rounding floor the error contracts */
            ck_assert_msg(err < prev, "K = %ld: error %g not below %g", (long)k, err, prev);
        ck_assert_uint_eq(bytes, (size_t)(2 * k + 1) * sizeof(double));
        prev = err;
    }
    ck_assert_status(
        learn_topk_dual_vjp(c, 12, 3, nu, LEARN_BACKWARD_UNROLL, k_conv, 1.0, unr, &iters, &bytes),
        FOLD_OK);
    ck_assert_double_le(fold_test_vec_relerr(unr, fold, 12, 0), 1e-11);
}
END_TEST

/* A generic operator near the baseline: first differences plus a random perturbation. */
static void perturbed_baseline(const learn_task *t, double *q)
{
    learn_rng rng;
    learn_rng_seed(&rng, 5);
    for (fold_int k = 0; k < t->n_q; k++)
        q[k] = t->q_baseline[k] + 0.05 * learn_normal(&rng);
}

START_TEST(denoise_vjp_matches_fd)
{
    learn_task *t = make("denoise", 10, LEARN_BACKWARD_DIRECT);
    double *q = malloc((size_t)t->n_q * sizeof *q);
    perturbed_baseline(t, q);
    for (fold_int s = 0; s < 3; s++)
        ck_assert_double_le(vjp_fd_error(t, s, q, 1e-6, 3, 20 + (uint64_t)s, NULL), 1e-5);
    free(q);
    learn_task_free(t);
}
END_TEST

START_TEST(denoise_fold_variants_agree)
{
    learn_task *t = make("denoise", 10, LEARN_BACKWARD_DIRECT);
    fold_int nq = t->n_q;
    double *q = malloc((size_t)nq * sizeof *q), *ref = malloc((size_t)nq * sizeof *ref);
    double *other = malloc((size_t)nq * sizeof *other);
    perturbed_baseline(t, q);
    vjp_fd_error(t, 1, q, 1e-6, 0, 9, ref);
    t->backward = LEARN_BACKWARD_LFPI;
    vjp_fd_error(t, 1, q, 1e-6, 0, 9, other);
    ck_assert_double_le(fold_test_vec_relerr(other, ref, (long)nq, 0), 1e-8);
    t->backward = LEARN_BACKWARD_GMRES; /* the step folded through fold_map_vjp */
    vjp_fd_error(t, 1, q, 1e-6, 0, 9, other);
    ck_assert_double_le(fold_test_vec_relerr(other, ref, (long)nq, 0), 1e-8);
    /* Unrolling the converged iterations tends to the folded derivative. */
    t->backward = LEARN_BACKWARD_UNROLL;
    vjp_fd_error(t, 1, q, 1e-6, 0, 9, other);
    ck_assert_double_le(fold_test_vec_relerr(other, ref, (long)nq, 0), 1e-6);
    free(q);
    free(ref);
    free(other);
    learn_task_free(t);
}
END_TEST

START_TEST(bad_input_reported)
{
    learn_config c;
    learn_task *t = NULL;
    double q[12], y[12];
    ck_assert_status(learn_config_default("nope", &c), FOLD_ERR_ARGUMENT);
    ck_assert_status(learn_config_default("topk", &c), FOLD_OK);
    ck_assert_status(learn_task_create("nope", &c, &t), FOLD_ERR_ARGUMENT);
    ck_assert_ptr_null(t);
    c.k = c.size;
    ck_assert_status(learn_task_create("topk", &c, &t), FOLD_ERR_ARGUMENT);
    ck_assert(strstr(fold_last_error(), "k = ") != NULL);
    ck_assert_status(learn_config_default("topk", &c), FOLD_OK);
    c.backward = 7;
    ck_assert_status(learn_task_create("topk", &c, &t), FOLD_ERR_UNSUPPORTED);
    ck_assert(strstr(fold_last_error(), "backward 'unknown'") != NULL);
    c.backward = LEARN_BACKWARD_DIRECT;
    c.n_train = 0;
    ck_assert_status(learn_task_create("topk", &c, &t), FOLD_ERR_ARGUMENT);
    ck_assert_status(learn_config_default("denoise", &c), FOLD_OK);
    c.lambda = -1;
    ck_assert_status(learn_task_create("denoise", &c, &t), FOLD_ERR_ARGUMENT);
    ck_assert_ptr_null(t);
    t = make("topk", 12, LEARN_BACKWARD_DIRECT);
    for (int j = 0; j < 12; j++)
        q[j] = j;
    q[4] = NAN;
    ck_assert_status(t->ops->forward(t, 0, q, y), FOLD_ERR_NONFINITE);
    ck_assert(strstr(fold_last_error(), "score[4]") != NULL);
    learn_task_free(t);
    learn_task_free(NULL);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("learning layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, topk_vjp_matches_fd);
    tcase_add_test(tc, topk_dual_fold_matches_closed_form);
    tcase_add_test(tc, topk_unroll_tends_to_fold);
    tcase_add_test(tc, denoise_vjp_matches_fd);
    tcase_add_test(tc, denoise_fold_variants_agree);
    tcase_add_test(tc, bad_input_reported);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
