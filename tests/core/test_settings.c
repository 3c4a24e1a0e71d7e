/* Settings table: defaults, validation, set/get by name, Ipopt option refusal. */
#include "test_support.h"

START_TEST(defaults_are_valid)
{
    fold_settings s;
    fold_settings_default(&s);
    ck_assert_status(fold_settings_validate(&s), FOLD_OK);
    ck_assert_double_eq(s.forward.tol, 1e-8);
    ck_assert_int_eq(s.backward.kkt_form, FOLD_KKT_ACTIVE);
    ck_assert_int_eq(s.active_set.weak_policy, FOLD_WEAK_REFUSE);
    ck_assert_int_eq(s.log.verbose, 0);
}
END_TEST

START_TEST(set_by_name)
{
    fold_settings s;
    char buf[64];
    fold_settings_default(&s);
    ck_assert_status(fold_settings_set(&s, "backward.kkt_form", "barrier"), FOLD_OK);
    ck_assert_int_eq(s.backward.kkt_form, FOLD_KKT_BARRIER);
    ck_assert_status(fold_settings_set(&s, "backward.ordering", "metis"), FOLD_OK);
    ck_assert_int_eq(s.backward.ordering, FOLD_ORDER_METIS);
    ck_assert_status(fold_settings_set(&s, "forward.tol", "1e-9"), FOLD_OK);
    ck_assert_double_eq(s.forward.tol, 1e-9);
    ck_assert_status(fold_settings_set(&s, "backward.lsq_fallback", "true"), FOLD_OK);
    ck_assert(s.backward.lsq_fallback);
    ck_assert_status(fold_settings_set(&s, "backward.restart", "20"), FOLD_OK);
    ck_assert_int_eq(s.backward.restart, 20);
    ck_assert_status(fold_settings_get(&s, "backward.kkt_form", buf, sizeof buf), FOLD_OK);
    ck_assert_str_eq(buf, "barrier");
    ck_assert_status(fold_settings_get(&s, "backward.restart", buf, sizeof buf), FOLD_OK);
    ck_assert_str_eq(buf, "20");
    /* reals: the shortest digits that read back exactly */
    ck_assert_status(fold_settings_set(&s, "active_set.primal_tol", "1e-6"), FOLD_OK);
    ck_assert_status(fold_settings_get(&s, "active_set.primal_tol", buf, sizeof buf), FOLD_OK);
    ck_assert_str_eq(buf, "1e-06");
    ck_assert_status(fold_settings_set(&s, "forward.tol", "0.030000000000000002"), FOLD_OK);
    ck_assert_status(fold_settings_get(&s, "forward.tol", buf, sizeof buf), FOLD_OK);
    ck_assert_double_eq(strtod(buf, NULL), 0.030000000000000002);
    ck_assert_str_eq(buf, "0.030000000000000002");
}
END_TEST

START_TEST(bad_settings_rejected_and_unchanged)
{
    fold_settings s, before;
    fold_settings_default(&s);
    before = s;
    ck_assert_status(fold_settings_set(&s, "backward.nonsense", "1"), FOLD_ERR_SETTING);
    ck_assert_error_mentions("backward.nonsense");
    ck_assert_status(fold_settings_set(&s, "backward.kkt_form", "sideways"), FOLD_ERR_SETTING);
    ck_assert_error_mentions("active|barrier");
    ck_assert_status(fold_settings_set(&s, "forward.tol", "abc"), FOLD_ERR_SETTING);
    ck_assert_status(fold_settings_set(&s, "forward.tol", "nan"), FOLD_ERR_SETTING);
    ck_assert_status(fold_settings_set(&s, "forward.tol", "-1"), FOLD_ERR_SETTING);
    ck_assert_error_mentions("forward.tol");
    ck_assert_status(fold_settings_set(&s, "backward.restart", "0"), FOLD_ERR_SETTING);
    ck_assert_status(fold_settings_set(&s, "backward.restart", "2.5"), FOLD_ERR_SETTING);
    ck_assert_status(fold_settings_set(&s, "backward.lsq_fallback", "maybe"), FOLD_ERR_SETTING);
    ck_assert_mem_eq(&s, &before, sizeof s);
    s.backward.tol = NAN;
    ck_assert_status(fold_settings_validate(&s), FOLD_ERR_SETTING);
    ck_assert_error_mentions("backward.tol");
    s = before;
    s.backward.method = 17;
    ck_assert_status(fold_settings_validate(&s), FOLD_ERR_SETTING);
    ck_assert_status(fold_settings_set(NULL, "a", "b"), FOLD_ERR_ARGUMENT);
}
END_TEST

START_TEST(table_metadata)
{
    ck_assert_int_gt(fold_settings_count(), 20);
    for (fold_int i = 0; i < fold_settings_count(); i++) {
        const fold_setting_info *info = fold_settings_info(i);
        ck_assert_ptr_nonnull(info);
        ck_assert_ptr_nonnull(strchr(info->name, '.'));
        ck_assert_int_gt(strlen(info->doc), 10);
    }
    ck_assert_ptr_null(fold_settings_info(fold_settings_count()));
}
END_TEST

START_TEST(status_strings)
{
    ck_assert_str_eq(fold_status_string(FOLD_OK), "ok");
    ck_assert_str_eq(fold_status_name(FOLD_ERR_SINGULAR), "FOLD_ERR_SINGULAR");
    ck_assert_str_eq(fold_status_string((fold_status)-999), "unknown status");
    ck_assert_str_eq(fold_version(), FOLD_VERSION);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("settings");
    TCase *tc = tcase_create("settings");
    tcase_add_test(tc, defaults_are_valid);
    tcase_add_test(tc, set_by_name);
    tcase_add_test(tc, bad_settings_rejected_and_unchanged);
    tcase_add_test(tc, table_metadata);
    tcase_add_test(tc, status_strings);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
