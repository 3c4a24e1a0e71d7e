/* fold_solve error paths: failing callbacks (fatal, recoverable, NaN), bad arguments,
 * refused and unknown Ipopt options, the Index size check, and Ipopt's silence at
 * verbose 0. On every error the stored solution is unchanged. */
#include <limits.h>
#include <unistd.h>

#include "basic/basic.h"
#include "forward/ipopt_internal.h"
#include "fwd_problems.h"

typedef struct {
    fail_where where;
    const char *name;
} cb_case;

static const cb_case cb_cases[] = {
    {FAIL_F, "f"},         {FAIL_GRAD_F, "grad_f"}, {FAIL_G, "g"},
    {FAIL_JAC_G, "jac_g"}, {FAIL_HESS_L, "hess_l"},
};

/* Solve once cleanly, then make one callback misbehave and solve at other parameters:
 * the error names the callback and the first solution stays stored. */
static void failing_callback(fail_how how, fold_status expected, int i)
{
    char mentions[64];
    plane_data ud = {.fail_above = INFINITY};
    fold_problem *prob;
    fold_solver *s;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double p[3] = {1, 2, 3}, x[3], xref[3], lam, pst[3];
    unsigned long id;
    ck_assert_status(plane_create(&ud, true, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    id = s->solution_id;
    ud.where = cb_cases[i].where;
    ud.how = how;
    ud.fail_above = -INFINITY;
    ck_assert_status(fold_solve(s, p, &info), expected);
    /* "callback f returned -1" or "callback f: output[0] = nan" */
    snprintf(mentions, sizeof mentions, "callback %s%s", cb_cases[i].name,
             how == FAIL_FATAL ? " returned -1" : ": output[0] = nan is not finite");
    ck_assert_error_mentions(mentions);
    ck_assert_error_mentions("fold_solve");
    ck_assert_str_eq(info.backend, "ipopt");
    ck_assert_int_eq(s->solution_id, id);
    ck_assert(s->is_converged);
    ck_assert_status(fold_solver_params(s, pst), FOLD_OK);
    ck_assert_double_eq(pst[0], 0.5); /* the problem's default, not p */
    fold_problem_default_params(prob, pst);
    plane_solution(pst, xref, &lam);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    ck_assert_double_lt(fold_test_vec_relerr(x, xref, 3, 1.0), 1e-7);
    fold_solver_free(s);
    fold_problem_free(prob);
}

START_TEST(fatal_callback)
{
    failing_callback(FAIL_FATAL, FOLD_ERR_CALLBACK, _i);
}
END_TEST

START_TEST(nan_callback)
{
    failing_callback(FAIL_NAN, FOLD_ERR_NONFINITE, _i);
}
END_TEST

/* A recoverable failure (> 0) of f beyond x0 = 0.2 makes Ipopt backtrack; the solution
 * x0 = 0.1 lies inside the region, so the solve succeeds. */
START_TEST(recoverable_callback_backtracks)
{
    plane_data ud = {.where = FAIL_F, .how = FAIL_RECOVERABLE, .fail_above = 0.2};
    fold_problem *prob;
    fold_solver *s;
    double p[3] = {0.1, 0.3, 0.6}, x[3], xref[3], lam;
    ck_assert_status(plane_create(&ud, true, &prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, p, NULL), FOLD_OK);
    plane_solution(p, xref, &lam);
    ck_assert_status(fold_solver_solution(s, x, NULL, NULL, NULL, NULL), FOLD_OK);
    ck_assert_double_lt(fold_test_vec_relerr(x, xref, 3, 1.0), 1e-7);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* The info of a call that did not run: "not run", no counts, NaN objective. */
static void assert_not_run(const fold_forward_info *info, const char *backend)
{
    ck_assert_int_eq(info->status, FOLD_FWD_NOT_RUN);
    ck_assert_str_eq(fold_forward_status_string(info->status), "not run");
    ck_assert_str_eq(info->backend, backend);
    ck_assert_int_eq(info->iterations, 0);
    ck_assert_int_eq(info->n_eval_f, 0);
    ck_assert(isnan(info->objective) && isnan(info->kkt_stationarity));
    ck_assert(info->total_s == 0 && info->solve_s == 0);
}

START_TEST(bad_arguments)
{
    fold_problem *prob;
    fold_solver *s;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double p[3] = {25, NAN, 1};
    memset(&info, 0xa5, sizeof info); /* garbage: every field must be written */
    info.size = sizeof info;
    ck_assert_status(fold_solve(NULL, NULL, &info), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("solver is NULL");
    assert_not_run(&info, "ipopt");
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    memset(&info, 0xa5, sizeof info);
    info.size = sizeof info;
    ck_assert_status(fold_solve(s, p, &info), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("fold_solve: p[1]");
    assert_not_run(&info, "ipopt"); /* was left as it was: status "solved" from a stale 0 */
    memset(&info, 0xa5, sizeof info);
    info.size = sizeof info;
    double x[4] = {1, 5, 5, 1};
    ck_assert_status(fold_solver_import(s, &(fold_import_point){.p = p, .x = x}, &info),
                     FOLD_ERR_NONFINITE);
    assert_not_run(&info, "import");
    ck_assert(!s->has_solution);
    ck_assert_int_eq(s->stats.n_f, 0);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

typedef struct {
    const char *name, *value, *mentions;
} opt_case;

static const opt_case refused[] = {
    {"linear_solver", "ma86", "ma86"},
    {"linear_solver", "MA27", "MA27"},
    {"hsllib", "libhsl.so", "hsllib"},
    {"no_such_option", "3", "no_such_option"},
    {"mu_strategy", "sideways", "mu_strategy"},
    {"max_iter", "-4", "max_iter"},
    {"tol", "fast", "tol"},
};

/* Refused (not in this build) or rejected by Ipopt (unknown name, wrong type, out of range)
 * when set on the solver, before any solve, with the option named; nothing changes then.
 * fold_ipopt_option_check says the same without a solver. */
START_TEST(refused_option)
{
    const opt_case *c = &refused[_i];
    fold_problem *prob;
    fold_solver *s;
    const char *name, *value;
    ck_assert_status(fold_ipopt_option_check(c->name, c->value), FOLD_ERR_SETTING);
    ck_assert_error_mentions(c->mentions);
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "mu_strategy", "adaptive"), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, c->name, c->value), FOLD_ERR_SETTING);
    ck_assert_error_mentions(c->mentions);
    ck_assert_error_mentions("fold_solver_set_ipopt_option");
    ck_assert_int_eq(fold_solver_ipopt_option_count(s), 1); /* the options kept */
    ck_assert_status(fold_solver_ipopt_option(s, 0, &name, &value), FOLD_OK);
    ck_assert_str_eq(name, "mu_strategy");
    ck_assert_str_eq(value, "adaptive");
    /* a list stops at its refused entry, naming it */
    const char *list[] = {"acceptable_iter", "10", c->name, c->value, NULL};
    ck_assert_status(fold_solver_set_ipopt_options(s, list), FOLD_ERR_SETTING);
    ck_assert_error_mentions("entry 1");
    ck_assert_int_eq(fold_solver_ipopt_option_count(s), 2);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* Valid pass-through options of each type: string, integer, number (an integer-looking
 * value for a number option too). */
START_TEST(passthrough_options)
{
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    double f;
    fold_settings_default(&set);
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "mu_strategy", "adaptive"), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "acceptable_iter", "10"), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "mu_init", "0.01"), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "constr_viol_tol", "1"), FOLD_OK);
    ck_assert_int_eq(fold_solver_ipopt_option_count(s), 4);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert_status(fold_solver_solution(s, NULL, NULL, NULL, NULL, &f), FOLD_OK);
    ck_assert_double_eq_tol(f, 17.0140173, 1e-6);
    /* The user's options override foldopt's: max_iter from the pass-through wins. */
    set.forward.warm_start = false;
    ck_assert_status(fold_solver_update_settings(s, &set), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "max_iter", "1"), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_MAX_ITER);
    /* a name given again replaces its value; value NULL removes it; name NULL clears all */
    ck_assert_status(fold_solver_set_ipopt_option(s, "max_iter", "3000"), FOLD_OK);
    ck_assert_int_eq(fold_solver_ipopt_option_count(s), 5);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "max_iter", NULL), FOLD_OK);
    ck_assert_int_eq(fold_solver_ipopt_option_count(s), 4);
    ck_assert_status(fold_solver_set_ipopt_option(s, NULL, NULL), FOLD_OK);
    ck_assert_int_eq(fold_solver_ipopt_option_count(s), 0);
    ck_assert_status(fold_solver_ipopt_option(s, 0, NULL, NULL), FOLD_ERR_ARGUMENT);
    /* no length limit: a value of 300 characters reaches Ipopt (and is refused by it) */
    char long_value[301];
    memset(long_value, 'a', 300);
    long_value[300] = '\0';
    ck_assert_status(fold_solver_set_ipopt_option(s, "mu_strategy", long_value), FOLD_ERR_SETTING);
    ck_assert_error_mentions("aaaaaaaaaaaaaaaaaaaa");
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* A stray ./ipopt.opt is not read (it would override foldopt's settings); a file named
 * with the pass-through option option_file_name is. */
START_TEST(option_file_only_on_request)
{
    char dir[] = "/tmp/foldopt_optXXXXXX", path[64], cwd[4096];
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    FILE *f;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ipopt.opt", dir);
    ck_assert_ptr_nonnull((f = fopen(path, "w")));
    fputs("max_iter 1\n", f);
    fclose(f);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    fold_settings_default(&set);
    set.forward.warm_start = false;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_OK);
    ck_assert_status(fold_solver_set_ipopt_option(s, "option_file_name", path), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, &info), FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(info.status, FOLD_FWD_MAX_ITER);
    ck_assert_int_eq(chdir(cwd), 0);
    remove(path);
    rmdir(dir);
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

START_TEST(index_size_check)
{
    long long big = (long long)INT_MAX + 1;
    ck_assert_status(fold_ipopt_check_size(10, 5, 20, 10), FOLD_OK);
    ck_assert_status(fold_ipopt_check_size(INT_MAX, 0, 1, 1), FOLD_OK);
    ck_assert_status(fold_ipopt_check_size(big, 0, 0, 0), FOLD_ERR_TOO_LARGE);
    ck_assert_error_mentions("n = 2147483648");
    ck_assert_status(fold_ipopt_check_size(10, big, 0, 0), FOLD_ERR_TOO_LARGE);
    ck_assert_status(fold_ipopt_check_size(INT_MAX, 1, 0, 0), FOLD_ERR_TOO_LARGE);
    ck_assert_error_mentions("n + m");
    ck_assert_status(fold_ipopt_check_size(10, 5, big, 0), FOLD_ERR_TOO_LARGE);
    ck_assert_error_mentions("jac_g.nnz");
    ck_assert_status(fold_ipopt_check_size(10, 5, 10, big), FOLD_ERR_TOO_LARGE);
    ck_assert_error_mentions("hess_l.nnz");
}
END_TEST

/* Each allocation of fold_solve fails in turn: FOLD_ERR_MEMORY, nothing stored; then a
 * normal solve still works (checked for leaks by the ASan/valgrind runs). */
START_TEST(allocation_failure)
{
    fold_problem *prob;
    fold_solver *s;
    int failures = 0;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    for (long k = 0; k < 10; k++) {
        ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
        fold_alloc_fail_after(k);
        fold_status st = fold_solve(s, NULL, NULL);
        fold_alloc_fail_after(-1);
        if (st == FOLD_OK) {
            fold_solver_free(s);
            break;
        }
        ck_assert_status(st, FOLD_ERR_MEMORY);
        ck_assert_error_mentions("fold_solve");
        ck_assert(!s->has_solution);
        ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
        fold_solver_free(s);
        failures++;
    }
    ck_assert_int_ge(failures, 2);
    fold_problem_free(prob);
}
END_TEST

static void count_lines(int level, const char *line, void *data)
{
    char *seen = data;
    if (level == 1 && strstr(line, "fold_solve: ipopt solved")) strcpy(seen, line);
}

/* verbose 1: one summary line through the log sink. */
START_TEST(summary_through_sink)
{
    fold_problem *prob;
    fold_solver *s;
    fold_settings set;
    char seen[1024] = "";
    fold_settings_default(&set);
    set.log.verbose = 1;
    set.log.sink = count_lines;
    set.log.sink_data = seen;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK);
    ck_assert_ptr_nonnull(strstr(seen, "objective 17.0140"));
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

typedef struct {
    int verbose;
    const char *option; /* pass-through option name tried before the solve, or NULL */
    fold_status st;
} quiet_run;

/* r->st: the first failing status of solver creation and solve. */
static void run_solve(void *arg)
{
    quiet_run *r = arg;
    fold_problem *prob;
    fold_solver *s = NULL;
    fold_settings set;
    fold_settings_default(&set);
    set.log.verbose = r->verbose;
    fold_hs071_create(&prob);
    if ((r->st = fold_solver_create(prob, &set, &s)) == FOLD_OK && r->option)
        r->st = fold_solver_set_ipopt_option(s, r->option, "1");
    if (r->st == FOLD_OK) r->st = fold_solve(s, NULL, NULL);
    fold_solver_free(s);
    fold_problem_free(prob);
}

/* verbose 0: nothing on stdout or stderr, neither from a solve nor from option probing
 * (constr_viol_tol "1" is first tried as a string and an integer) nor from an option
 * rejected when the solver is created. verbose 2: Ipopt's iteration log on stderr, stdout still
 * clean. */
START_TEST(ipopt_silence)
{
    static const char *options[] = {NULL, "constr_viol_tol", "no_such_option"};
    for (int k = 0; k < 3; k++) {
        quiet_run r = {.verbose = 0, .option = options[k]};
        char *out = capture_fd(1, run_solve, &r);
        char *err = capture_fd(2, run_solve, &r);
        ck_assert_msg(out[0] == '\0', "stdout not silent: '%.200s'", out);
        ck_assert_msg(err[0] == '\0', "stderr not silent: '%.200s'", err);
        ck_assert_status(r.st, k < 2 ? FOLD_OK : FOLD_ERR_SETTING);
        free(out);
        free(err);
    }
    quiet_run loud = {.verbose = 2};
    char *out = capture_fd(1, run_solve, &loud);
    char *err = capture_fd(2, run_solve, &loud);
    ck_assert_msg(out[0] == '\0', "stdout not clean at verbose 2: '%.200s'", out);
    ck_assert_ptr_nonnull(strstr(err, "iter    objective"));
    ck_assert_ptr_null(strstr(err, "This program contains Ipopt"));
    free(out);
    free(err);
}
END_TEST

int main(void)
{
    int n_cb = (int)(sizeof cb_cases / sizeof cb_cases[0]);
    Suite *suite = suite_create("ipopt_errors");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, fatal_callback, 0, n_cb);
    tcase_add_loop_test(tc, nan_callback, 0, n_cb);
    tcase_add_test(tc, recoverable_callback_backtracks);
    tcase_add_test(tc, bad_arguments);
    tcase_add_loop_test(tc, refused_option, 0, (int)(sizeof refused / sizeof refused[0]));
    tcase_add_test(tc, passthrough_options);
    tcase_add_test(tc, option_file_only_on_request);
    tcase_add_test(tc, index_size_check);
    tcase_add_test(tc, allocation_failure);
    tcase_add_test(tc, summary_through_sink);
    tcase_add_test(tc, ipopt_silence);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
