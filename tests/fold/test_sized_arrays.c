/* Arrays and layouts that grow (doc/api/types.md, "Arrays that grow"): fold_weak_list writes
 * each entry at the caller's element size and nothing beyond; trust reports are stepped by
 * the size their items carry, so a caller compiled against an older header reads the fields
 * it knows in a report whose items have more; fold_acopf_layout_get fills the caller's
 * prefix. */
#include <stddef.h>

#include "foldopt/acopf.h"
#include "fold_test_util.h"

/* A solver whose backward call found one weakly active constraint (reported as a weak side
 * with the entries it moves). */
static fold_solver *weak_solver(fold_rp **rp)
{
    fold_rp_options o = {.n = 12, .m = 6, .np = 4, .weak_cons = true};
    fold_int n, m, np;
    ck_assert_status(fold_rp_create(500, &o, rp), FOLD_OK);
    fold_problem_dims(fold_rp_problem(*rp), &n, &m, &np);
    fold_solver *solver = fold_test_rp_solver(*rp, NULL);
    double *dp = calloc((size_t)np, sizeof *dp), *dx = calloc((size_t)n, sizeof *dx);
    dp[0] = 1;
    ck_assert_status(fold_jvp(solver, dp, &(fold_dz){.x = dx}, NULL), FOLD_WARN_UNCERTAIN);
    free(dp);
    free(dx);
    return solver;
}

/* The caller's element size is the stride: the entries of a caller whose struct is larger
 * (a newer header) land at its stride with the bytes the library does not know zeroed; one
 * of exactly the first version gets those bytes and not one more; a smaller size is refused
 * with nothing written. */
START_TEST(weak_list_stride)
{
    fold_rp *rp;
    fold_solver *solver = weak_solver(&rp);
    fold_weak_entry ref[2];
    fold_int count = -1;
    ck_assert_status(fold_weak_list(solver, ref, 2, sizeof ref[0], &count), FOLD_OK);
    ck_assert_int_eq(count, 1);
    ck_assert_int_eq(ref[0].kind, 0);
    ck_assert_int_eq(ref[0].index, fold_rp_weak_constraint(rp));

    /* a newer caller: 16 more bytes per entry */
    size_t stride = sizeof(fold_weak_entry) + 16;
    unsigned char buf[2 * (sizeof(fold_weak_entry) + 16) + 32];
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    ck_assert_status(fold_weak_list(solver, (fold_weak_entry *)buf, 2, stride, &count), FOLD_OK);
    fold_weak_entry seen;
    memcpy(&seen, buf, sizeof seen);
    ck_assert_int_eq(seen.kind, ref[0].kind);
    ck_assert_int_eq(seen.index, ref[0].index);
    ck_assert_double_eq(seen.distance, ref[0].distance);
    ck_assert_double_eq(seen.multiplier, ref[0].multiplier);
    for (size_t i = sizeof(fold_weak_entry); i < stride; i++)
        ck_assert_int_eq(buf[i], 0);
    ck_assert(fold_test_untouched(buf + stride,
                                  sizeof buf - stride)); /* one entry: the rest is the caller's */

    /* the first version's size: that many bytes */
    size_t v1 = FOLD_WEAK_ENTRY_V1;
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    ck_assert_status(fold_weak_list(solver, (fold_weak_entry *)buf, 2, v1, &count), FOLD_OK);
    memcpy(&seen, buf, v1);
    ck_assert_int_eq(seen.index, ref[0].index);
    ck_assert_double_eq(seen.multiplier, ref[0].multiplier);
    ck_assert(fold_test_untouched(buf + v1, sizeof buf - v1));

    /* below the first version: refused, nothing written */
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    ck_assert_status(fold_weak_list(solver, (fold_weak_entry *)buf, 2, v1 - 8, &count),
                     FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("entry_size");
    ck_assert(fold_test_untouched(buf, sizeof buf));
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* What a later library's trust report would look like to a caller compiled now: items with
 * two more fields, their size saying so. */
typedef struct grown_item {
    fold_trust_item known;
    double later_a;
    fold_int later_b;
} grown_item;

/* The library's items carry their size; fold_trust_item_at steps by it, so the fields a
 * caller knows are read right in the items of a later version. */
START_TEST(trust_items_stride)
{
    fold_rp *rp;
    fold_solver *solver = weak_solver(&rp);
    const fold_trust_item *items;
    fold_int count = 0;
    ck_assert_status(fold_trust_report(solver, &items, &count), FOLD_OK);
    ck_assert_int_ge(count, 2); /* the weak side and the entries it makes uncertain */
    for (fold_int k = 0; k < count; k++) {
        ck_assert_uint_eq(items[k].size, sizeof(fold_trust_item));
        ck_assert_ptr_eq(fold_trust_item_at(items, k), &items[k]);
    }
    grown_item *later = calloc((size_t)(count > 0 ? count : 1), sizeof *later);
    for (fold_int k = 0; k < count; k++) {
        later[k].known = items[k];
        later[k].known.size = sizeof(grown_item);
        later[k].later_a = -1;
        later[k].later_b = -1;
    }
    for (fold_int k = 0; k < count; k++) {
        const fold_trust_item *it = fold_trust_item_at(&later[0].known, k);
        ck_assert_int_eq(it->kind, items[k].kind);
        ck_assert_int_eq(it->index, items[k].index);
        ck_assert_int_eq(it->entry, items[k].entry);
        ck_assert_str_eq(it->name, items[k].name);
        ck_assert_int_eq(it->n_affected, items[k].n_affected);
    }
    free(later);
    fold_solver_free(solver);
    fold_rp_free(rp);
}
END_TEST

/* fold_acopf_layout_get writes the caller's size (the first version here) and nothing after
 * it, zeroes what a newer caller knows beyond the library's struct, refuses a zero size and
 * a NULL model with nothing written; the by-value fold_acopf_get_layout agrees. */
START_TEST(acopf_layout_sized)
{
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    ck_assert_status(fold_acopf_gen_grid(6, 1, &cs), FOLD_OK);
    ck_assert_status(fold_acopf_create(cs, &m), FOLD_OK);
    fold_acopf_case_free(cs);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    fold_int n, mm, np;
    fold_problem_dims(fold_acopf_problem(m), &n, &mm, &np);
    ck_assert_uint_eq(L.size, sizeof L);
    ck_assert_int_eq(L.n, n);
    ck_assert_int_eq(L.m, mm);
    ck_assert_int_eq(L.np, np);

    unsigned char buf[sizeof(fold_acopf_layout) + 32];
    size_t v1 = FOLD_ACOPF_LAYOUT_V1;
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    memcpy(buf, &v1, sizeof v1);
    ck_assert_status(fold_acopf_layout_get(m, (fold_acopf_layout *)buf), FOLD_OK);
    fold_acopf_layout seen;
    memcpy(&seen, buf, v1);
    ck_assert_uint_eq(seen.size, v1); /* the caller's size is kept */
    ck_assert_int_eq(seen.np, L.np);
    ck_assert_int_eq(seen.p_qmax, L.p_qmax);
    ck_assert(fold_test_untouched(buf + v1, sizeof buf - v1));

    size_t newer = sizeof(fold_acopf_layout) + 16;
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    memcpy(buf, &newer, sizeof newer);
    ck_assert_status(fold_acopf_layout_get(m, (fold_acopf_layout *)buf), FOLD_OK);
    memcpy(&seen, buf, sizeof seen);
    ck_assert_int_eq(seen.x_vm, L.x_vm);
    for (size_t i = sizeof(fold_acopf_layout); i < newer; i++)
        ck_assert_int_eq(buf[i], 0);
    ck_assert(fold_test_untouched(buf + newer, sizeof buf - newer));

    size_t zero = 0;
    memset(buf, FOLD_TEST_SENTINEL, sizeof buf);
    memcpy(buf, &zero, sizeof zero);
    ck_assert_status(fold_acopf_layout_get(m, (fold_acopf_layout *)buf), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("fold_acopf_layout.size is 0: initialize with FOLD_ACOPF_LAYOUT_INIT");
    ck_assert(fold_test_untouched(buf + sizeof zero, sizeof buf - sizeof zero));
    fold_acopf_layout none = FOLD_ACOPF_LAYOUT_INIT;
    ck_assert_status(fold_acopf_layout_get(NULL, &none), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("model is NULL");
    ck_assert_int_eq(fold_acopf_get_layout(NULL).n, 0);
    fold_acopf_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sized_arrays");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, weak_list_stride);
    tcase_add_test(tc, trust_items_stride);
    tcase_add_test(tc, acopf_layout_sized);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
