/* The one error channel (doc/api/status.md): status and detail per thread, cleared on entry
 * by every call that computes, shared by the library and the problem families. */
#include <pthread.h>

#include "foldopt/acopf.h"
#include "basic/basic.h"
#include "learning/learning.h"
#include "test_support.h"

/* A failing call leaves its status and detail. */
static void fail_once(void)
{
    fold_problem *prob = NULL;
    ck_assert_int_eq(fold_problem_create(NULL, &prob), FOLD_ERR_ARGUMENT);
    ck_assert_int_eq(fold_last_status(), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("fold_problem_create");
}

static void assert_clean(const char *after)
{
    ck_assert_msg(fold_last_error()[0] == '\0', "stale detail after %s: '%s'", after,
                  fold_last_error());
    ck_assert_int_eq(fold_last_status(), FOLD_OK);
}

START_TEST(success_clears_the_detail)
{
    fold_settings s;
    fold_settings_default(&s);
    fail_once();
    ck_assert_status(fold_settings_validate(&s), FOLD_OK);
    assert_clean("fold_settings_validate");

    fold_problem *prob = NULL;
    fold_solver *sv = NULL;
    fail_once();
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    assert_clean("fold_problem_create");
    fail_once();
    ck_assert_status(fold_solver_create(prob, NULL, &sv), FOLD_OK);
    assert_clean("fold_solver_create");
    fail_once();
    ck_assert_status(fold_solve(sv, NULL, NULL), FOLD_OK);
    assert_clean("fold_solve");
    double xbar[4] = {1, 0, 0, 0}, pbar[3];
    fail_once();
    ck_assert_status(fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_OK);
    assert_clean("fold_vjp");
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* An accessor sets the detail when it fails and leaves another call's detail alone when it
 * succeeds (a cleanup after a failure does not erase the reason). */
START_TEST(accessors_keep_the_detail)
{
    fold_problem *prob = NULL;
    fold_solver *sv = NULL;
    double x[4];
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &sv), FOLD_OK);
    ck_assert_int_eq(fold_solver_solution(sv, x, NULL, NULL, NULL, NULL), FOLD_ERR_NOT_SOLVED);
    ck_assert_int_eq(fold_last_status(), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_solve(sv, NULL, NULL), FOLD_OK);
    fail_once();
    ck_assert_status(fold_solver_solution(sv, x, NULL, NULL, NULL, NULL), FOLD_OK);
    ck_assert_int_eq(fold_last_status(), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("fold_problem_create");
    fold_solver_free(sv);
    fold_problem_free(prob);
}
END_TEST

/* Problem families report through the same channel, cleared the same way. */
START_TEST(problem_families_share_the_channel)
{
    const char bad[] = "function mpc = bad\nmpc.version = '2';\nmpc.baseMVA = 100;\n"
                       "mpc.bus = [\n1 3 0 0;\n];\n";
    fold_acopf_case *cs = NULL;
    ck_assert_int_eq(fold_acopf_case_parse(bad, strlen(bad), "bad.m", &cs), FOLD_ERR_PARSE);
    ck_assert_int_eq(fold_last_status(), FOLD_ERR_PARSE);
    ck_assert_error_mentions("bad.m");
    ck_assert_status(fold_acopf_gen_grid(5, 1, &cs), FOLD_OK);
    assert_clean("fold_acopf_gen_grid");
    fold_acopf *m = NULL;
    fold_solver *sv = NULL;
    fail_once();
    ck_assert_status(fold_acopf_create(cs, &m), FOLD_OK);
    assert_clean("fold_acopf_create");
    fail_once();
    ck_assert_status(fold_acopf_solve(&m, NULL, NULL, NULL, &sv, NULL, NULL), FOLD_OK);
    assert_clean("fold_acopf_solve");
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);

    learn_config c;
    ck_assert_int_eq(learn_config_default("no-such-task", &c), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("no-such-task");
    ck_assert_status(learn_config_default("qp", &c), FOLD_OK);
    assert_clean("learn_config_default");
}
END_TEST

/* fold_set_error may quote the detail it replaces. */
START_TEST(set_error_quotes_the_old_detail)
{
    fail_once();
    char old[256];
    snprintf(old, sizeof old, "%s", fold_last_error());
    ck_assert_int_eq(fold_set_error(FOLD_ERR_IO, "reading x.m: %s", fold_last_error()),
                     FOLD_ERR_IO);
    ck_assert_int_eq(fold_last_status(), FOLD_ERR_IO);
    ck_assert(!strncmp(fold_last_error(), "reading x.m: ", 13));
    ck_assert_str_eq(fold_last_error() + 13, old);
    fold_clear_error();
    assert_clean("fold_clear_error");
}
END_TEST

/* Two threads failing and succeeding in turn each see only their own detail. */
typedef struct worker {
    int id;
    int mismatches;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    fold_settings s;
    char want[64];
    if (fold_last_error()[0] != '\0') w->mismatches++; /* a new thread starts clean */
    snprintf(want, sizeof want, "settings: thread %d", w->id);
    fold_settings_default(&s);
    for (int k = 0; k < 2000; k++) {
        fold_set_error(FOLD_ERR_SETTING, "%s", want);
        if (strcmp(fold_last_error(), want) || fold_last_status() != FOLD_ERR_SETTING)
            w->mismatches++;
        if (fold_settings_validate(&s) != FOLD_OK || fold_last_error()[0] != '\0') w->mismatches++;
    }
    fold_set_error(FOLD_ERR_SETTING, "%s", want);
    return NULL;
}

START_TEST(detail_is_per_thread)
{
    fail_once();
    worker w[2] = {{1, 0}, {2, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    ck_assert_int_eq(w[0].mismatches, 0);
    ck_assert_int_eq(w[1].mismatches, 0);
    ck_assert_int_eq(fold_last_status(), FOLD_ERR_ARGUMENT); /* this thread's, untouched */
    ck_assert_error_mentions("fold_problem_create");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, success_clears_the_detail);
    tcase_add_test(tc, accessors_keep_the_detail);
    tcase_add_test(tc, problem_families_share_the_channel);
    tcase_add_test(tc, set_error_quotes_the_old_detail);
    tcase_add_test(tc, detail_is_per_thread);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
