/* Shared helpers of the Check test programs: TAP runner, status assertions, tolerances. */
#ifndef FOLD_TEST_SUPPORT_H
#define FOLD_TEST_SUPPORT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "foldopt.h"
void fold_alloc_fail_after(long k); /* test hook (src/core/util.c) */

/* Run a suite with TAP on stdout; returns the process exit code (skips are not failures). */
int fold_test_run(Suite *suite);

/* End the current test as skipped (TAP "# SKIP reason"), e.g. when its PGLib case is absent.
 * A skip is never counted as passed. */
#define FOLD_TEST_SKIP_TAG "SKIP: "
#define fold_test_skip(...) ck_abort_msg(FOLD_TEST_SKIP_TAG __VA_ARGS__)

/* Assert a status code, printing fold_last_error() on mismatch. */
#define ck_assert_status(expr, expected)                                                           \
    do {                                                                                           \
        fold_status st_ = (expr);                                                                  \
        ck_assert_msg(st_ == (expected), "%s returned %s (%d), expected %s: %s", #expr,            \
                      fold_status_name(st_), (int)st_, fold_status_name(expected),                 \
                      fold_last_error());                                                          \
    } while (0)

/* Assert the last error detail contains a substring. */
#define ck_assert_error_mentions(substr)                                                           \
    ck_assert_msg(strstr(fold_last_error(), (substr)) != NULL,                                     \
                  "error detail '%s' does not mention '%s'", fold_last_error(), (substr))

/* Relative difference |a - b| / max(1, |b|). */
double fold_test_relerr(double a, double b);
/* Max over i of |a_i - b_i| / max(scale, max_i |b_i|). */
double fold_test_vec_relerr(const double *a, const double *b, long n, double scale);

/* Seeded uniform and standard normal numbers (xorshift; reproducible across platforms). */
typedef struct {
    uint64_t state;
} fold_test_rng;
void fold_test_rng_seed(fold_test_rng *r, unsigned long long seed);
double fold_test_uniform(fold_test_rng *r);
double fold_test_normal(fold_test_rng *r);

/* Folder of the PGLib data (FOLDOPT_PGLIB_DIR), or NULL when absent. */
const char *fold_test_pglib_dir(void);

/* Index of the first item of the trust report `items` (n of them) of `kind` named `name`
 * (any name when NULL), or -1. */
fold_int fold_test_trust_find(const fold_trust_item *items, fold_int n, int kind, const char *name);

#endif
