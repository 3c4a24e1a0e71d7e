/* Shared helpers of the Check test programs. */
#include "test_support.h"

#include <math.h>
#include <sys/stat.h>

int fold_test_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    int failed;
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
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
    if (r->state == 0)
        r->state = 1;
}

double fold_test_uniform(fold_test_rng *r)
{
    unsigned long long x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

double fold_test_normal(fold_test_rng *r)
{
    double u1 = fold_test_uniform(r), u2 = fold_test_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

const char *fold_test_pglib_dir(void)
{
    const char *dir = getenv("FOLDOPT_PGLIB_DIR");
    struct stat sb;
    if (!dir || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return NULL;
    return dir;
}

fold_int fold_test_trust_find(const fold_trust_item *items, fold_int n, int kind,
                              const char *name)
{
    for (fold_int k = 0; k < n; k++)
        if (items[k].kind == kind && (!name || !strcmp(items[k].name, name))) return k;
    return -1;
}
