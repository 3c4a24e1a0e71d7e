/* Training loop: decision-focused training beats the two-stage baseline on small seeded
 * instances where the model is misspecified; failed samples are reported and excluded.
 * doc/learning.md §3. */
#include "learning_check.h"

typedef struct reports {
    int count;
    fold_int sample;
    fold_status status;
    char detail[256];
} reports;

static void on_failure(fold_int sample, fold_status st, const char *detail, void *ud)
{
    reports *r = ud;
    r->count++;
    r->sample = sample;
    r->status = st;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
}

START_TEST(topk_beats_two_stage)
{
    learn_config c;
    learn_config_default("topk", &c);
    c.n_train = 60;
    c.n_test = 40;
    c.size = 10;
    beats_two_stage("topk", &c, 8, 0, false);
}
END_TEST

START_TEST(denoise_beats_two_stage)
{
    learn_config c;
    learn_config_default("denoise", &c);
    c.n_train = 40;
    c.n_test = 20;
    c.size = 16;
    beats_two_stage("denoise", &c, 4, 0, false);
}
END_TEST

START_TEST(failed_sample_excluded)
{
    learn_task *t = NULL;
    learn_config c;
    learn_options o;
    learn_result r;
    reports rep = {0};
    learn_config_default("topk", &c);
    c.n_train = 20;
    c.n_test = 10;
    c.size = 8;
    ck_assert_status(learn_task_create("topk", &c, &t), FOLD_OK);
    t->feat[5 * t->n_feat + 1] = NAN; /* training sample 5: its scores are not finite */
    learn_options_default(&o);
    o.epochs = 3;
    o.batch = 4;
    o.report = on_failure;
    o.user_data = &rep;
    ck_assert_status(learn_train(t, &o, &r), FOLD_OK);
    ck_assert_int_eq(rep.count, 3 + 0); /* once per training epoch (epoch 0 only evaluates) */
    ck_assert_int_eq(rep.sample, 5);
    ck_assert_int_eq(rep.status, FOLD_ERR_NONFINITE);
    ck_assert(strstr(rep.detail, "sample 5") != NULL);
    ck_assert_int_eq(r.n_failed, 3);
    ck_assert_int_eq(r.history[0].n_failed, 1);
    for (int e = 1; e <= 3; e++) {
        ck_assert_int_eq(r.history[e].n_failed, 1);
        ck_assert(isfinite(r.history[e].train_loss)); /* the NaN sample did not leak in */
        ck_assert(isfinite(r.history[e].test_metric));
    }
    learn_result_free(&r);
    learn_task_free(t);
}
END_TEST

START_TEST(bad_options)
{
    learn_task *t = NULL;
    learn_config c;
    learn_options o;
    learn_result r;
    learn_config_default("topk", &c);
    c.n_train = 4;
    c.n_test = 2;
    c.size = 5;
    ck_assert_status(learn_task_create("topk", &c, &t), FOLD_OK);
    learn_options_default(&o);
    o.batch = 0;
    ck_assert_status(learn_train(t, &o, &r), FOLD_ERR_ARGUMENT);
    ck_assert(strstr(fold_last_error(), "batch = 0") != NULL);
    learn_options_default(&o);
    o.lr = NAN;
    ck_assert_status(learn_train(t, &o, &r), FOLD_ERR_ARGUMENT);
    learn_options_default(&o);
    o.model_kind = LEARN_MODEL_CONST; /* topk has no baseline parameters */
    ck_assert_status(learn_train(t, &o, &r), FOLD_ERR_ARGUMENT);
    ck_assert_status(learn_train(NULL, &o, &r), FOLD_ERR_ARGUMENT);
    learn_task_free(t);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("learning training");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, topk_beats_two_stage);
    tcase_add_test(tc, denoise_beats_two_stage);
    tcase_add_test(tc, failed_sample_excluded);
    tcase_add_test(tc, bad_options);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
