/* Ipopt-solved learning layers (nonconvex QP, portfolio): VJP against central differences
 * of re-solves, training beats the two-stage baseline, infeasible instances reported. doc/learning.md §4.1-4.2. */
#include "learning_check.h"

static learn_task *make(const char *name, fold_int size, fold_int n_eq, fold_int n_ineq,
                        double slack)
{
    learn_config c;
    learn_task *t = NULL;
    ck_assert_status(learn_config_default(name, &c), FOLD_OK);
    c.n_train = 4;
    c.n_test = 2;
    c.size = size;
    c.n_eq = n_eq;
    c.n_ineq = n_ineq;
    c.slack = slack;
    c.seed = 3;
    ck_assert_status(learn_task_create(name, &c, &t), FOLD_OK);
    return t;
}

START_TEST(qp_vjp_matches_fd)
{
    learn_task *t = make("qp", 12, 4, 6, 1.0);
    for (fold_int s = 0; s < 3; s++)
        ck_assert_double_le(vjp_fd_error(t, s, t->target + s * t->n_q, 1e-4, 3,
                                         40 + (uint64_t)s, NULL), 1e-5);
    learn_task_free(t);
}
END_TEST

START_TEST(portfolio_vjp_matches_fd)
{
    learn_task *t = make("portfolio", 8, 0, 0, 0);
    for (fold_int s = 0; s < 3; s++)
        ck_assert_double_le(vjp_fd_error(t, s, t->target + s * t->n_q, 1e-4, 3,
                                         50 + (uint64_t)s, NULL), 1e-5);
    learn_task_free(t);
}
END_TEST

START_TEST(qp_beats_two_stage)
{
    learn_config c;
    learn_config_default("qp", &c);
    c.n_train = 30;
    c.n_test = 20;
    c.size = 12;
    c.n_eq = 4;
    c.n_ineq = 6;
    beats_two_stage("qp", &c, 5, 0);
}
END_TEST

START_TEST(portfolio_beats_two_stage)
{
    learn_config c;
    learn_config_default("portfolio", &c);
    c.n_train = 40;
    c.n_test = 20;
    c.size = 10;
    beats_two_stage("portfolio", &c, 5, 0);
}
END_TEST

START_TEST(qp_infeasible_reported)
{
    learn_config c;
    learn_task *t = NULL;
    ck_assert_status(learn_config_default("qp", &c), FOLD_OK);
    c.n_train = 2;
    c.n_test = 1;
    c.size = 10;
    c.n_eq = 3;
    c.n_ineq = 4;
    c.slack = -0.5; /* rows +g and -g: -slack <= g(y - y0) <= slack is empty */
    ck_assert_status(learn_task_create("qp", &c, &t), FOLD_ERR_FORWARD_FAILED);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(learn_last_error(), "infeasible") != NULL, "detail: %s",
                  learn_last_error());
    c.n_eq = 10; /* as many equalities as variables */
    ck_assert_status(learn_task_create("qp", &c, &t), FOLD_ERR_ARGUMENT);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("learning nlp layers");
    TCase *tc = tcase_create("nlp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, qp_vjp_matches_fd);
    tcase_add_test(tc, portfolio_vjp_matches_fd);
    tcase_add_test(tc, qp_infeasible_reported);
    tcase_add_test(tc, qp_beats_two_stage);
    tcase_add_test(tc, portfolio_beats_two_stage);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
