/* Shared helpers of the Check test programs. */
#include "test_support.h"

#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* Check has no skip: a skipped test ends as a failure whose message starts with
 * FOLD_TEST_SKIP_TAG; fold_test_run prints it as "ok N - name # SKIP reason" and does not count
 * it as failed. Check writes its TAP to a file, copied to stdout with those lines rewritten. */
static bool is_skip(const char *msg)
{
    return strncmp(msg, FOLD_TEST_SKIP_TAG, strlen(FOLD_TEST_SKIP_TAG)) == 0;
}

static void print_tap(FILE *tap)
{
    char line[4096];
    const char *tag = ": " FOLD_TEST_SKIP_TAG;
    while (fgets(line, sizeof line, tap)) {
        char *at = strstr(line, tag);
        if (at && !strncmp(line, "not ok ", 7)) {
            *at = '\0';
            printf("%s # SKIP %s", line + 4, at + strlen(tag));
        } else {
            fputs(line, stdout);
        }
    }
}

int fold_test_run(Suite *suite)
{
    char path[] = "/tmp/fold_test_tap_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        printf("Bail out! cannot create a temporary TAP file\n");
        return EXIT_FAILURE;
    }
    close(fd);
    SRunner *sr = srunner_create(suite);
    srunner_set_tap(sr, path);
    srunner_run_all(sr, CK_SILENT);
    int n_failed = srunner_ntests_failed(sr);
    TestResult **failed = srunner_failures(sr);
    for (int i = 0; i < srunner_ntests_failed(sr); i++)
        if (is_skip(tr_msg(failed[i]))) n_failed--;
    free(failed);
    srunner_free(sr);
    fflush(stdout);
    FILE *tap = fopen(path, "r");
    if (tap) {
        print_tap(tap);
        fclose(tap);
    }
    unlink(path);
    return n_failed == 0 && tap ? EXIT_SUCCESS : EXIT_FAILURE;
}
double fold_test_relerr(double a, double b)
{
    return fabs(a - b) / fmax(1.0, fabs(b));
}

double fold_test_vec_relerr(const double *a, const double *b, long n, double scale)
{
    double bmax = scale, err = 0;
    for (long i = 0; i < n; i++)
        bmax = fmax(bmax, fabs(b[i]));
    for (long i = 0; i < n; i++)
        err = fmax(err, fabs(a[i] - b[i]) / bmax);
    return err;
}

void fold_test_rng_seed(fold_test_rng *r, unsigned long long seed)
{
    r->state = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (r->state == 0) r->state = 1;
}

double fold_test_uniform(fold_test_rng *r)
{
    return rng_unit(rng_xorshift64s(&r->state));
}

double fold_test_normal(fold_test_rng *r)
{
    double u1 = fold_test_uniform(r), u2 = fold_test_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

const char *fold_test_pglib_dir(void)
{
    const char *dir = getenv("FOLDOPT_PGLIB_DIR");
    struct stat sb;
    if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return NULL;
    return dir;
}

fold_int fold_test_trust_find(const fold_trust_item *items, fold_int n, int kind, const char *name)
{
    for (fold_int k = 0; k < n; k++)
        if ((int)items[k].kind == kind && (!name || !strcmp(items[k].name, name))) return k;
    return -1;
}
