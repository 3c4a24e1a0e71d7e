/* MATPOWER reader limits (doc/acopf.md §1.1): physical data the model cannot use refused
 * with file, line and the bus, generator or branch; text encodings (UTF-8 byte-order mark
 * accepted, UTF-16 and stray non-ASCII bytes named); directories, binary data and the size
 * cap; the write -> read round trip of what the reader accepts (rateA = Inf). */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acopf/acopf_internal.h"
#include "acopf_test.h"

static char *mutate(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "mutation target '%s' not found", from);
    size_t pre = (size_t)(at - text), lf = strlen(from), lt = strlen(to);
    char *out = malloc(strlen(text) - lf + lt + 1);
    memcpy(out, text, pre);
    memcpy(out + pre, to, lt);
    strcpy(out + pre + lt, at + lf);
    return out;
}

typedef struct limit_case {
    const char *label, *from, *to;
    fold_status status;
    const char *mention1, *mention2;
} limit_case;

#define BRANCH1 "\t1\t2\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;\n"
#define BRANCH3 "\t1\t3\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;\n"
#define GEN1 "\t1\t0\t0\t100\t-100\t1\t100\t1\t200\t0;"
#define GENCOST "\t2\t0\t0\t3\t0.01\t20\t0;\n\t2\t0\t0\t3\t0.02\t25\t0;\n"

static const limit_case limit_cases[] = {
    {"subnormal reactance", BRANCH1, "\t1\t2\t0\t1e-320\t0.02\t100\t100\t100\t0\t0\t1\t-30\t30;\n",
     FOLD_ERR_PARSE,
     "tiny.m:18: branch row 1 (bus 1 - bus 2): impedance |r + jx| =", "below 1e-10"},
    {"tiny tap", "0.98\t2", "1e-300\t2", FOLD_ERR_PARSE,
     "tiny.m:19: branch row 2 (bus 2 - bus 3): tap ratio 1e-300", "outside [0.001, 1000]"},
    {"negative tap", "0.98\t2", "-0.98\t2", FOLD_ERR_PARSE, "tiny.m:19:", "tap ratio -0.98"},
    {"Pmin = Pmax = Inf", GEN1, "\t1\t0\t0\t100\t-100\t1\t100\t1\tInf\tInf;", FOLD_ERR_PARSE,
     "tiny.m:10: gen row 1 (bus 1): Pmin = inf", "finite or -Inf"},
    {"Pmax = -Inf", GEN1, "\t1\t0\t0\t100\t-100\t1\t100\t1\t-Inf\t-Inf;", FOLD_ERR_PARSE,
     "tiny.m:10: gen row 1 (bus 1): Pmax = -inf", "finite or Inf"},
    {"huge Qmax", GEN1, "\t1\t0\t0\t1e12\t-100\t1\t100\t1\t200\t0;", FOLD_ERR_PARSE,
     "tiny.m:10: gen row 1 (bus 1): Qmax = 1e+12 MVAr", "write Inf for no limit"},
    {"huge load", "\t50\t10", "\t1e300\t10", FOLD_ERR_PARSE, "tiny.m:6: bus 2: Pd = 1e+300 MW",
     "magnitude limit 1e+09"},
    {"huge Vmax", "1.1\t0.9;\n\t2", "2e9\t0.9;\n\t2", FOLD_ERR_PARSE, "tiny.m:5: bus 1: Vmax",
     "magnitude limit"},
    {"subnormal baseMVA", "baseMVA = 100", "baseMVA = 1e-320", FOLD_ERR_PARSE,
     "tiny.m:3:", "outside [0.001, 1e+09]"},
    {"overflowing number", "\t50\t10", "\t1e999\t10", FOLD_ERR_PARSE,
     "tiny.m:6:", "'1e999' overflows a double"},
    {"shift angle", "0.98\t2", "0.98\t1e10", FOLD_ERR_PARSE, "tiny.m:19:", "angle = 1e+10"},
    {"cost degree", GENCOST,
     "\t2\t0\t0\t11\t1\t0\t0\t0\t0\t0\t0\t0\t0.01\t20\t0;\n"
     "\t2\t0\t0\t3\t0.02\t25\t0\t0\t0\t0\t0\t0\t0\t0\t0;\n",
     FOLD_ERR_UNSUPPORTED, "tiny.m:14: gencost row 1", "11 coefficients; at most 10"},
    {"steep piecewise-linear cost", GENCOST,
     "\t1\t0\t0\t3\t0\t0\t50\t1000\t50.000000001\t1000000;\n"
     "\t2\t0\t0\t3\t0.02\t25\t0\t0\t0\t0;\n",
     FOLD_ERR_PARSE, "tiny.m:14: gencost row 1: piecewise-linear slope", "points 2 and 3"},
    {"disjoint parallel angle limits", BRANCH3,
     BRANCH3 "\t3\t1\t0.01\t0.1\t0.02\t100\t100\t100\t0\t0\t1\t40\t50;\n", FOLD_ERR_PARSE,
     "tiny.m:21: branch row 4 (bus 3 - bus 1)", "row 3 and row 4 leave no angle"},
    {"non-ASCII statement", "mpc.gen =", "\xc3\xa9mpc.gen =", FOLD_ERR_PARSE,
     "tiny.m:9:", "non-ASCII byte 0xc3"},
    {"non-breaking space in a row", "\t50\t10", "\t50\xc2\xa0\t10", FOLD_ERR_PARSE,
     "tiny.m:6:", "non-ASCII byte 0xc2 in a number"},
    {"UTF-16 text", "function",
     "\xff\xfe"
     "function",
     FOLD_ERR_PARSE, "tiny.m:1:", "UTF-16"},
};

START_TEST(physical_limits)
{
    const limit_case *lc = &limit_cases[_i];
    char *text = mutate(acopf_tiny_case, lc->from, lc->to);
    fold_acopf_case *cs = NULL;
    fold_status st = fold_acopf_case_parse(text, strlen(text), "tiny.m", &cs);
    ck_assert_msg(st == lc->status, "%s: got %s (%s)", lc->label, fold_status_name(st),
                  fold_last_error());
    ck_assert_ptr_null(cs);
    ck_assert_msg(
        strstr(fold_last_error(), lc->mention1) && strstr(fold_last_error(), lc->mention2),
        "%s: '%s' lacks '%s' or '%s'", lc->label, fold_last_error(), lc->mention1, lc->mention2);
    free(text);
}
END_TEST

/* The model applies the same rules to a case built in memory (no file line). */
START_TEST(model_checks_built_cases)
{
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_case_parse(acopf_tiny_case, strlen(acopf_tiny_case), "tiny.m", &cs),
                    FOLD_OK);
    cs->branch[1].tap = 1e-300;
    cs->branch[1].line = 0;
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_ERR_ARGUMENT);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(fold_last_error(),
                     "fold_acopf_create: case tiny: branch row 2 "
                     "(bus 2 - bus 3): tap ratio 1e-300 outside [0.001, 1000] (0 in the file "
                     "means 1)");
    cs->branch[1].tap = 1;
    cs->gen[0].pmin = HUGE_VAL;
    ck_assert_acopf(fold_acopf_create(cs, &m), FOLD_ERR_ARGUMENT);
    ck_assert_str_eq(fold_last_error(), "fold_acopf_create: case tiny: gen row 1 (bus 1): "
                                        "Pmin = inf must be finite or -Inf (no limit)");
    fold_acopf_case_free(cs);
}
END_TEST

/* A UTF-8 byte-order mark is skipped; line numbers are unchanged. */
START_TEST(byte_order_mark)
{
    size_t len = strlen(acopf_tiny_case);
    char *text = malloc(len + 7); /* room for a second mark below */
    memcpy(text, "\xef\xbb\xbf", 3);
    memcpy(text + 3, acopf_tiny_case, len + 1);
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, len + 3, "bom.m", &cs), FOLD_OK);
    ck_assert_int_eq(cs->n_bus, 3);
    ck_assert_int_eq(cs->branch[2].line, 20);
    fold_acopf_case_free(cs);
    /* a second mark after the first is text, and not ASCII */
    memmove(text + 3, text, len + 3);
    ck_assert_acopf(fold_acopf_case_parse(text, len + 6, "bom.m", &cs), FOLD_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "bom.m:1: unexpected non-ASCII byte "
                                                    "0xef"));
    free(text);
}
END_TEST

/* Write -> read is exact for every case the reader accepts: rateA = Inf (no limit) was
 * copied into rateB and rateC, which the reader refused ("column 7 is not finite"). A case
 * name that is no MATLAB identifier is written as one. */
START_TEST(round_trip_infinite_rating)
{
    char *text = mutate(acopf_tiny_case, BRANCH1,
                        "\t1\t2\t0.01\t0.1\t0.02\tInf\tInf\tInf\t0\t0\t1\t-30\t30;\n");
    fold_acopf_case *cs = NULL, *back = NULL;
    ck_assert_acopf(fold_acopf_case_parse(text, strlen(text), "tiny.m", &cs), FOLD_OK);
    ck_assert(isinf(cs->branch[0].rate_a));
    snprintf(cs->name, sizeof cs->name, "9 lines\nmpc.bus = [");
    char *out = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&out, &len);
    ck_assert_acopf(fold_acopf_case_write(cs, mem), FOLD_OK);
    fclose(mem);
    ck_assert_ptr_nonnull(strstr(out, "\nfunction mpc = case_9_lines_mpc_bus____\n"));
    ck_assert_acopf(fold_acopf_case_parse(out, len, "written.m", &back), FOLD_OK);
    ck_assert(isinf(back->branch[0].rate_a));
    ck_assert_int_eq(back->n_branch, cs->n_branch);
    fold_acopf *m = NULL;
    ck_assert_acopf(fold_acopf_create(back, &m), FOLD_OK);
    ck_assert_int_eq(fold_acopf_get_layout(m).n_rated, 2); /* Inf: no thermal row */
    fold_acopf_free(m);
    fold_acopf_case_free(back);
    fold_acopf_case_free(cs);
    free(out);
    free(text);
}
END_TEST

/* A directory is named as such (was "read error"); binary data (/dev/zero) fails at its
 * first NUL byte instead of filling memory. */
START_TEST(directory_and_binary)
{
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_read("/tmp", &cs), FOLD_ERR_IO);
    ck_assert_str_eq(fold_last_error(), "/tmp: is a directory, not a case file");
    ck_assert_acopf(fold_acopf_case_read("/dev/zero", &cs), FOLD_ERR_PARSE);
    ck_assert_str_eq(fold_last_error(), "/dev/zero:1: NUL byte (offset 0): binary data, "
                                        "not a case file");
    ck_assert_ptr_null(cs);
}
END_TEST

/* The size cap: a regular file is refused by its size before it is read (a sparse file,
 * so the test is instant), a stream when it passes the cap, text in memory by its length. */
START_TEST(size_cap)
{
    char path[] = "/tmp/foldopt_big_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)FOLD_ACOPF_MAX_CASE_BYTES + 1), 0);
    close(fd);
    fold_acopf_case *cs = NULL;
    ck_assert_acopf(fold_acopf_case_read(path, &cs), FOLD_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "268435457 bytes: a case file may "
                                                    "have at most 268435456"));
    remove(path);
    FILE *pipe = popen("yes 'mpc.baseMVA = 100;'", "r");
    ck_assert_ptr_nonnull(pipe);
    char *buf = NULL;
    size_t len = 0;
    ck_assert_acopf(acopf_read_stream(pipe, "pipe", 100000, &buf, &len), FOLD_ERR_TOO_LARGE);
    ck_assert_str_eq(fold_last_error(), "pipe: more than 100000 bytes: a case file may "
                                        "have at most that (FOLD_ACOPF_MAX_CASE_BYTES)");
    pclose(pipe);
    pipe = popen("head -c 100000 /dev/zero | tr '\\0' ' '", "r"); /* exactly at the cap */
    ck_assert_acopf(acopf_read_stream(pipe, "pipe", 100000, &buf, &len), FOLD_OK);
    ck_assert_int_eq(len, 100000);
    free(buf);
    pclose(pipe);
    const char dummy[] = "x";
    ck_assert_acopf(fold_acopf_case_parse(dummy, FOLD_ACOPF_MAX_CASE_BYTES + 1, "mem.m", &cs),
                    FOLD_ERR_TOO_LARGE);
    ck_assert_ptr_null(cs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acopf_matpower_limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, physical_limits, 0, (int)(sizeof limit_cases / sizeof limit_cases[0]));
    tcase_add_test(tc, model_checks_built_cases);
    tcase_add_test(tc, byte_order_mark);
    tcase_add_test(tc, round_trip_infinite_rating);
    tcase_add_test(tc, directory_and_binary);
    tcase_add_test(tc, size_cap);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
