/* PGLib-OPF objectives against the PowerModels baseline (baseline_ac.tsv, 5 significant
 * digits) to 1e-4 relative, for every listed case present with at most MAX buses
 * (argv[1]; the unit suite runs 300, the slow suite everything). TAP skip without data. */
#include "acopf_test.h"

#define MAX_CASES 128

static char case_names[MAX_CASES][128];
static long case_buses[MAX_CASES];
static double case_objective[MAX_CASES];
static int n_cases;
static long max_buses = 300;

static void load_baseline(const char *dir)
{
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/baseline_ac.tsv", dir);
    FILE *fp = fopen(path, "r");
    if (!fp) return;
    while (n_cases < MAX_CASES && fgets(line, sizeof line, fp))
        if (sscanf(line, "%127s %ld %lf", case_names[n_cases], &case_buses[n_cases],
                   &case_objective[n_cases]) == 3 &&
            case_buses[n_cases] <= max_buses)
            n_cases++;
    fclose(fp);
}

START_TEST(baseline_objective)
{
    char buf[1024];
    const char *path = acopf_test_need_case(case_names[_i], buf, sizeof buf);
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    fold_solver *sv = NULL;
    fold_forward_info info = FOLD_FORWARD_INFO_INIT;
    ck_assert_acopf(fold_acopf_case_read(path, &cs), FOLD_OK);
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_OK);
    fold_acopf_solve_info si = FOLD_ACOPF_SOLVE_INFO_INIT;
    fold_status st = fold_acopf_solve(&m, NULL, NULL, NULL, &sv, &info, &si);
    ck_assert_msg(st == FOLD_OK, "%s: %s after %ld iterations (%s | %s)", case_names[_i],
                  fold_forward_status_string(info.status), (long)info.iterations, fold_last_error(),
                  fold_last_error());
    double rel = fabs(info.objective - case_objective[_i]) / case_objective[_i];
    printf("# %s: objective %.6e baseline %.4e rel %.1e, %ld iterations, %.2f s", case_names[_i],
           info.objective, case_objective[_i], rel, (long)info.iterations, info.total_s);
    if (si.rounds > 0) /* doc/acopf.md §2.2 */
        printf(" (first solve %s after %ld; %d re-solve(s), flow variables added on %ld "
               "branches)",
               fold_forward_status_string(si.first_status), (long)si.first_iterations, si.rounds,
               (long)si.n_flow_added);
    printf("\n");
    ck_assert_msg(rel <= 1e-4, "%s: objective %.8g, baseline %.5g (rel %.2g)", case_names[_i],
                  info.objective, case_objective[_i], rel);
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}
END_TEST

int main(int argc, char **argv)
{
    const char *dir = fold_test_pglib_dir();
    if (argc > 1) max_buses = atol(argv[1]);
    if (dir) load_baseline(dir);
    if (!dir || n_cases == 0) {
        printf("1..0 # SKIP no PGLib data\n");
        return 0;
    }
    Suite *s = suite_create("acopf_pglib");
    TCase *tc = tcase_create("baseline");
    tcase_set_timeout(tc, max_buses > 300 ? 3600 : 120);
    tcase_add_loop_test(tc, baseline_objective, 0, n_cases);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
