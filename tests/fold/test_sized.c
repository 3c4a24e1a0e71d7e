/* Structs that grow (doc/api/types.md): every public output struct and fold_settings carry
 * the caller's size. A size of 0 or below the first version is refused naming the struct and
 * its initializer, nothing written; the library writes only the bytes the caller's size
 * covers (the rest of the caller's memory keeps its bytes); NULL info pointers stay allowed. */
#include <stddef.h>

#include "foldopt/acopf.h"
#include "basic/basic.h"
#include "fold_test_util.h"
#include "test_support.h"
#include "half_map.h"

/* A later version of a struct (v2: two fields appended) and a caller compiled against v1:
 * the library fills v2, the caller's prefix receives v1's fields, the bytes after it are the
 * caller's own and keep their values. */
typedef struct grown {
    size_t size;
    int a;
    double b;
    int c_new;
    double d_new;
} grown;

START_TEST(prefix_written_rest_untouched)
{
    unsigned char buf[sizeof(grown) + 16];
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    size_t v1 = offsetof(grown, c_new);
    memcpy(buf, &v1, sizeof v1); /* the caller's size */
    grown full;
    ck_assert_status(
        fold_sized_open(buf, &full, sizeof full, FOLD_FIELD_END(grown, b), "grown", "GROWN_INIT"),
        FOLD_OK);
    ck_assert_uint_eq(full.size, sizeof full);
    full.a = 7, full.b = 2.5, full.c_new = 9, full.d_new = -1;
    fold_sized_close(buf, &full, sizeof full);
    grown seen;
    memcpy(&seen, buf, v1);
    ck_assert_uint_eq(seen.size, v1); /* the caller's size is kept */
    ck_assert_int_eq(seen.a, 7);
    ck_assert_double_eq(seen.b, 2.5);
    ck_assert(fold_test_untouched(buf + v1, sizeof buf - v1));
    /* a caller newer than the library: the bytes the library does not know are zeroed */
    size_t v3 = sizeof(grown) + 8;
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    memcpy(buf, &v3, sizeof v3);
    fold_sized_close(buf, &full, sizeof full);
    memcpy(&seen, buf, sizeof seen);
    ck_assert_int_eq(seen.c_new, 9);
    for (size_t i = sizeof(grown); i < v3; i++)
        ck_assert_int_eq(buf[i], 0);
    ck_assert(fold_test_untouched(buf + v3, sizeof buf - v3));
    /* size 0 and a size below the first version */
    size_t zero = 0, small = offsetof(grown, b);
    ck_assert_status(
        fold_sized_open(&zero, &full, sizeof full, FOLD_FIELD_END(grown, b), "grown", "GROWN_INIT"),
        FOLD_ERR_ARGUMENT);
    ck_assert_str_eq(fold_last_error(), "grown.size is 0: initialize with GROWN_INIT");
    ck_assert_status(fold_sized_open(&small, &full, sizeof full, FOLD_FIELD_END(grown, b), "grown",
                                     "GROWN_INIT"),
                     FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("smaller than the struct's first version");
}
END_TEST

/* A real call with the size of the first version (which ends before the struct's trailing
 * padding) writes the fields and not one byte after them. */
START_TEST(backward_info_first_version)
{
    fold_map_def d = half_map_def();
    fold_map *map;
    unsigned char buf[sizeof(fold_backward_info) + 32];
    double dp = 1, dz = 0;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    size_t v1 = FOLD_BACKWARD_INFO_V1;
    memcpy(buf, &v1, sizeof v1);
    ck_assert_status(fold_map_jvp(map, NULL, &dp, &dz, (fold_backward_info *)buf), FOLD_OK);
    ck_assert_double_eq_tol(dz, 2.0, 1e-14);
    fold_backward_info seen;
    memcpy(&seen, buf, sizeof seen);
    ck_assert_uint_eq(seen.size, v1);
    ck_assert_int_eq(seen.dim, 1);
    ck_assert_int_eq(seen.reason, FOLD_REASON_DIRECT);
    ck_assert_int_eq(seen.precond, FOLD_PRECOND_NONE);
    ck_assert(fold_test_untouched(buf + v1, sizeof buf - v1));
    /* NULL info, as before */
    ck_assert_status(fold_map_jvp(map, NULL, &dp, &dz, NULL), FOLD_OK);
    fold_map_free(map);
}
END_TEST

/* The refusal of a zero size: FOLD_ERR_ARGUMENT naming struct and initializer, and the
 * caller's struct left as it was. */
#define ASSERT_ZERO_SIZE_REFUSED(call, type, macro)                                                \
    do {                                                                                           \
        ck_assert_status(call, FOLD_ERR_ARGUMENT);                                                 \
        ck_assert_error_mentions(type ".size is 0: initialize with " macro);                       \
    } while (0)

START_TEST(zero_size_refused)
{
    fold_problem *prob;
    fold_solver *s;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    ck_assert_status(fold_solver_create(prob, NULL, &s), FOLD_OK);
    double dp[4] = {1, 0, 0, 0}, dx[4], x[4] = {1, 5, 5, 1}, pbar[4], J[16];

    fold_forward_info fi;
    memset(&fi, FOLD_TEST_SENTINEL, sizeof fi);
    fi.size = 0;
    ASSERT_ZERO_SIZE_REFUSED(fold_solve(s, NULL, &fi), "fold_forward_info",
                             "FOLD_FORWARD_INFO_INIT");
    ck_assert(fold_test_untouched((char *)&fi + sizeof fi.size, sizeof fi - sizeof fi.size));
    ASSERT_ZERO_SIZE_REFUSED(fold_solver_import(s, &(fold_import_point){.x = x}, &fi),
                             "fold_forward_info", "FOLD_FORWARD_INFO_INIT");
    ck_assert_status(fold_solve(s, NULL, NULL), FOLD_OK); /* NULL info, as before */

    fold_backward_info bi;
    memset(&bi, FOLD_TEST_SENTINEL, sizeof bi);
    bi.size = 0;
    ASSERT_ZERO_SIZE_REFUSED(fold_jvp(s, dp, &(fold_dz){.x = dx}, &bi), "fold_backward_info",
                             "FOLD_BACKWARD_INFO_INIT");
    ASSERT_ZERO_SIZE_REFUSED(fold_vjp(s, &(fold_zbar){.x = x}, pbar, &bi), "fold_backward_info",
                             "FOLD_BACKWARD_INFO_INIT");
    ASSERT_ZERO_SIZE_REFUSED(
        fold_jacobian(s, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = 4, .n_cols = 3}, J,
                      &bi),
        "fold_backward_info", "FOLD_BACKWARD_INFO_INIT");
    ck_assert(fold_test_untouched((char *)&bi + sizeof bi.size, sizeof bi - sizeof bi.size));
    ck_assert_status(fold_vjp(s, &(fold_zbar){.x = x}, pbar, NULL), FOLD_OK);

    fold_deriv_report rep = {0};
    ASSERT_ZERO_SIZE_REFUSED(fold_problem_check_derivatives(prob, x, NULL, NULL, 1e-6, 1e-6, &rep),
                             "fold_deriv_report", "FOLD_DERIV_REPORT_INIT");

    fold_iter_info ii = {0};
    fold_step_def sd = {0};
    ASSERT_ZERO_SIZE_REFUSED(fold_iter_solve(NULL, NULL, x, NULL, &ii), "fold_iter_info",
                             "FOLD_ITER_INFO_INIT");
    ASSERT_ZERO_SIZE_REFUSED(
        fold_iter_unroll_vjp(NULL, &(fold_unroll_run){.iters = 1, .bar = x}, NULL, pbar, &ii),
        "fold_iter_info", "FOLD_ITER_INFO_INIT");
    ASSERT_ZERO_SIZE_REFUSED(
        fold_step_unroll_vjp(&sd, &(fold_unroll_run){.iters = 1, .bar = x}, NULL, pbar, &ii),
        "fold_iter_info", "FOLD_ITER_INFO_INIT");

    fold_batch_info bti = {0};
    ASSERT_ZERO_SIZE_REFUSED(fold_batch_run(NULL, NULL, &bti), "fold_batch_info",
                             "FOLD_BATCH_INFO_INIT");

    fold_acopf_solve_info asi = {0};
    fold_acopf_import_info aii = {0};
    fold_acopf_diff_info adi = {0};
    fold_solver *none = NULL;
    ASSERT_ZERO_SIZE_REFUSED(fold_acopf_solve(NULL, NULL, NULL, NULL, &none, NULL, &asi),
                             "fold_acopf_solve_info", "FOLD_ACOPF_SOLVE_INFO_INIT");
    ASSERT_ZERO_SIZE_REFUSED(fold_acopf_import(NULL, NULL, NULL, NULL, NULL, NULL, &aii),
                             "fold_acopf_import_info", "FOLD_ACOPF_IMPORT_INFO_INIT");
    ASSERT_ZERO_SIZE_REFUSED(fold_acopf_differentiate(NULL, NULL, NULL, NULL, &adi),
                             "fold_acopf_diff_info", "FOLD_ACOPF_DIFF_INFO_INIT");
    adi = (fold_acopf_diff_info)FOLD_ACOPF_DIFF_INFO_INIT;
    adi.backward = &bi; /* its own size, 0 here */
    ASSERT_ZERO_SIZE_REFUSED(fold_acopf_differentiate(NULL, NULL, NULL, NULL, &adi),
                             "fold_acopf_diff_info.backward", "FOLD_BACKWARD_INFO_INIT");
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

/* fold_settings: fold_settings_default sets the caller's size; an uninitialized struct
 * (size 0) is refused by every call that reads settings; fold_settings_init writes only the
 * bytes it is given. */
START_TEST(settings_size)
{
    fold_problem *prob;
    fold_solver *s = NULL;
    fold_settings set;
    fold_settings_default(&set);
    ck_assert_uint_eq(set.size, sizeof set);
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_settings zero = {0};
    ck_assert_status(fold_solver_create(prob, &zero, &s), FOLD_ERR_ARGUMENT);
    ck_assert_str_eq(fold_last_error(), "fold_solver_create: fold_settings.size is 0: initialize "
                                        "with fold_settings_default");
    ck_assert_ptr_null(s);
    ck_assert_status(fold_settings_validate(&zero), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_settings_set(&zero, "backward.tol", "1e-9"), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("fold_settings_default");
    fold_map_def d = half_map_def();
    fold_map *map;
    double dp = 1, dz = 0;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    ck_assert_status(fold_map_jvp(map, &zero, &dp, &dz, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("fold_map_jvp: fold_settings.size is 0");
    fold_map_free(map);

    /* a prefix: defaults written up to size, the rest untouched, and refused as too small */
    unsigned char buf[sizeof(fold_settings) + 16];
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    size_t part = offsetof(fold_settings, precond);
    fold_settings_init((fold_settings *)buf, part);
    fold_settings seen;
    memcpy(&seen, buf, sizeof seen);
    ck_assert_uint_eq(seen.size, part);
    ck_assert_double_eq(seen.backward.tol, set.backward.tol);
    ck_assert(fold_test_untouched(buf + part, sizeof buf - part));
    ck_assert_status(fold_solver_create(prob, (fold_settings *)buf, &s), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("smaller than the struct's first version");

    /* the first version's size: accepted, every field read */
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    fold_settings_init((fold_settings *)buf, FOLD_SETTINGS_V1);
    ((fold_settings *)buf)->backward.tol = 1e-9;
    ck_assert(fold_test_untouched(buf + FOLD_SETTINGS_V1, sizeof buf - FOLD_SETTINGS_V1));
    ck_assert_status(fold_solver_create(prob, (fold_settings *)buf, &s), FOLD_OK);
    ck_assert_double_eq(fold_solver_settings(s)->backward.tol, 1e-9);
    ck_assert_uint_eq(fold_solver_settings(s)->size, sizeof(fold_settings));
    fold_solver_free(s);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("sized");
    TCase *tc = tcase_create("sized");
    tcase_add_test(tc, prefix_written_rest_untouched);
    tcase_add_test(tc, backward_info_first_version);
    tcase_add_test(tc, zero_size_refused);
    tcase_add_test(tc, settings_size);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
