/* Replays the fuzzer's committed inputs through the normal build (doc/testing.md,
 * "Fuzzing"): every file of fuzz/corpus (seeds and kept inputs) and each past crash of
 * fuzz/crashes (one test each) must satisfy fold_fuzz_matpower_check, so that CI guards
 * them without clang. */
#include <dirent.h>

#include "acopf_test.h"
#include "matpower_check.h"

enum { MAX_FILES = 4096 };

static char corpus_dir[1024], crash_dir[1024];
static char *crash_files[MAX_FILES];
static int n_crash_files;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files in dir (at most cap); -1 when dir cannot be opened. */
static int list_files(const char *dir, char **names, int cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL && n < cap)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    return n;
}

/* The check on one file; a failure names the file and the property it broke. */
static void replay(const char *dir, const char *name)
{
    char path[2048], why[1024];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *data = acopf_test_slurp(path, &len);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    ck_assert_msg(fold_fuzz_matpower_check((const uint8_t *)data, len, why, sizeof why) == 0,
                  "%s: %s", path, why);
    free(data);
}

START_TEST(seed_corpus)
{
    char *names[MAX_FILES];
    int n = list_files(corpus_dir, names, MAX_FILES);
    ck_assert_msg(n >= 16, "%s: %d files, expected the 16 seeds of fuzz/make_seeds.py at least",
                  corpus_dir, n);
    ck_assert_msg(n_crash_files >= 1, "%s: no past crashes found", crash_dir);
    for (int i = 0; i < n; i++) {
        replay(corpus_dir, names[i]);
        free(names[i]);
    }
}
END_TEST

START_TEST(past_crash)
{
    replay(crash_dir, crash_files[_i]);
}
END_TEST

int main(void)
{
    const char *root = getenv("FOLDOPT_SOURCE_ROOT");
    snprintf(corpus_dir, sizeof corpus_dir, "%s/fuzz/corpus", root ? root : ".");
    snprintf(crash_dir, sizeof crash_dir, "%s/fuzz/crashes", root ? root : ".");
    n_crash_files = list_files(crash_dir, crash_files, MAX_FILES);
    Suite *s = suite_create("fuzz_replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, seed_corpus);
    tcase_add_loop_test(tc, past_crash, 0, n_crash_files > 0 ? n_crash_files : 0);
    suite_add_tcase(s, tc);
    int rc = fold_test_run(s);
    for (int i = 0; i < n_crash_files; i++)
        free(crash_files[i]);
    return rc;
}
