/* Learning layers: each VJP against central finite differences of re-solved layers; fold
 * variants (direct, LFPI, unrolled) agree; bad input is reported. doc/learning.md. */
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
    ck_assert(strstr(learn_last_error(), "k = ") != NULL);
    ck_assert_status(learn_config_default("topk", &c), FOLD_OK);
    c.backward = LEARN_BACKWARD_UNROLL;
    ck_assert_status(learn_task_create("topk", &c, &t), FOLD_ERR_UNSUPPORTED);
    ck_assert(strstr(learn_last_error(), "unroll") != NULL);
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
    ck_assert(strstr(learn_last_error(), "score[4]") != NULL);
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
    tcase_add_test(tc, denoise_vjp_matches_fd);
    tcase_add_test(tc, denoise_fold_variants_agree);
    tcase_add_test(tc, bad_input_reported);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
