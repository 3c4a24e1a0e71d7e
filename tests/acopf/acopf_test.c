/* Shared helpers of the AC-OPF tests. */
#include "acopf_test.h"

#include <sys/stat.h>

const char acopf_tiny_case[] = "function mpc = tiny\n"
                               "mpc.version = '2';\n"
                               "mpc.baseMVA = 100;\n"
                               "mpc.bus = [\n"
                               "\t1\t3\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;\n"
                               "\t2\t1\t50\t10\t0\t0.05\t1\t1\t0\t230\t1\t1.1\t0.9;\n"
                               "\t3\t2\t40\t5\t0.02\t0\t1\t1\t0\t230\t1\t1.1\t0.9;\n"
                               "];\n"
                               "mpc.gen = [\n"
                               "\t1\t0\t0\t100\t-100\t1\t100\t1\t200\t0;\n"
                               "\t3\t0\t0\t100\t-100\t1\t100\t1\t200\t0;\n"
                               "];\n"
                               "mpc.gencost = [\n"
                               "\t2\t0\t0\t3\t0.01\t20\t0;\n"
                               "\t2\t0\t0\t3\t0.02\t25\t0;\n"
                               "];\n"
                               "mpc.branch = [\n"
                               "\t1\t2\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;\n"
                               "\t2\t3\t0.01\t0.1\t0.02\t100\t100\t100\t0.98\t2\t1\t-30\t30;\n"
                               "\t1\t3\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;\n"
                               "];\n";

const char *acopf_test_case_path(const char *name, char *buf, size_t cap)
{
    const char *dir = fold_test_pglib_dir();
    struct stat sb;
    if (!dir) return NULL;
    snprintf(buf, cap, "%s/%s.m", dir, name);
    return stat(buf, &sb) == 0 ? buf : NULL;
}

const char *acopf_test_need_case(const char *name, char *buf, size_t cap)
{
    const char *path = acopf_test_case_path(name, buf, cap);
    if (!path) fold_test_skip("%s absent (FOLDOPT_PGLIB_DIR)", name);
    return path;
}

char *acopf_test_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    if (buf && fread(buf, 1, (size_t)sz, fp) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[sz] = '\0';
        *len = (size_t)sz;
    }
    return buf;
}

double acopf_test_baseline(const char *name)
{
    const char *dir = fold_test_pglib_dir();
    char path[1024], line[512], cname[256];
    double obj = 0, value;
    long buses;
    if (!dir) return 0;
    snprintf(path, sizeof path, "%s/baseline_ac.tsv", dir);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "%255s %ld %lf", cname, &buses, &value) == 3 && !strcmp(cname, name))
            obj = value;
    fclose(fp);
    return obj;
}

void acopf_test_load(acopf_solved *s, const char *name, fold_int grid_buses,
                     unsigned long long seed)
{
    char buf[1024];
    memset(s, 0, sizeof *s);
    if (name)
        ck_assert_acopf(fold_acopf_case_read(acopf_test_need_case(name, buf, sizeof buf), &s->cs),
                        FOLD_OK);
    else
        ck_assert_acopf(fold_acopf_gen_grid(grid_buses, seed, &s->cs), FOLD_OK);
}

void acopf_test_solve(acopf_solved *s, const fold_acopf_options *opt, const fold_settings *set)
{
    acopf_test_solve_ipopt(s, opt, set, NULL);
}

void acopf_test_solve_ipopt(acopf_solved *s, const fold_acopf_options *opt,
                            const fold_settings *set, const char *const *ipopt)
{
    fold_acopf_solve_options so;
    fold_acopf_default_solve_options(&so);
    so.ipopt_options = ipopt;
    acopf_test_solve_with(s, opt, set, &so);
}

void acopf_test_solve_with(acopf_solved *s, const fold_acopf_options *opt, const fold_settings *set,
                           const fold_acopf_solve_options *so)
{
    fold_acopf_options defaults;
    fold_acopf_default_options(&defaults);
    ck_assert_acopf(fold_acopf_create_with(s->cs, opt ? opt : &defaults, &s->m), FOLD_OK);
    ck_assert_acopf(fold_acopf_solve(&s->m, set, NULL, so, &s->sv, NULL, NULL), FOLD_OK);
    /* the results of the point the fold differentiates: the tightening re-solves now */
    ck_assert_status(fold_solve_finish(s->sv, NULL), FOLD_OK);
    ck_assert_acopf(fold_acopf_results_from_solver(s->m, s->sv, &s->res), FOLD_OK);
}

void acopf_test_solved_free(acopf_solved *s)
{
    fold_acopf_results_free(s->res);
    fold_solver_free(s->sv);
    fold_acopf_free(s->m);
    fold_acopf_case_free(s->cs);
}
