/* Shared helpers of the AC-OPF tests: a small valid case, status assertions that print the
 * acopf error detail, PGLib case lookup, a case solved with its results. */
#ifndef FOLD_ACOPF_TEST_H
#define FOLD_ACOPF_TEST_H

#include "test_support.h"
#include "foldopt/acopf.h"

#define ck_assert_acopf(expr, expected)                                                            \
    do {                                                                                           \
        fold_status st_ = (expr);                                                                  \
        ck_assert_msg(st_ == (expected), "%s returned %s, expected %s: %s | %s", #expr,            \
                      fold_status_name(st_), fold_status_name(expected), fold_last_error(),        \
                      fold_last_error());                                                          \
    } while (0)

/* A valid 3-bus case (21 lines; line numbers are used by the reader tests). */
extern const char acopf_tiny_case[];

/* Path of PGLib case `name` ("pglib_opf_case14_ieee") in buf, or NULL when absent. */
const char *acopf_test_case_path(const char *name, char *buf, size_t cap);
/* The same, but an absent case ends the current test as skipped (TAP "# SKIP"). */
const char *acopf_test_need_case(const char *name, char *buf, size_t cap);

/* Read a whole file into a malloc'ed buffer (NULL on failure). */
char *acopf_test_slurp(const char *path, size_t *len);

/* Baseline AC objective of a PGLib case from baseline_ac.tsv (0 when not listed). */
double acopf_test_baseline(const char *name);

/* A case solved, with its results (the tests of results, sensitivities and imports). */
typedef struct acopf_solved {
    fold_acopf_case *cs;
    fold_acopf *m;
    fold_solver *sv;
    fold_acopf_results *res;
} acopf_solved;

/* s zeroed, then s->cs: PGLib case `name` (the test is skipped when it is absent) or, name
 * NULL, the synthetic grid of grid_buses buses from seed. */
void acopf_test_load(acopf_solved *s, const char *name, fold_int grid_buses,
                     unsigned long long seed);
/* The model of s->cs (opt NULL: default options) solved (set NULL: default settings), its
 * results in s->res; every step asserted. */
void acopf_test_solve(acopf_solved *s, const fold_acopf_options *opt, const fold_settings *set);
/* The same with Ipopt options (name, value, ..., NULL; fold_acopf_solve_options.ipopt_options). */
void acopf_test_solve_ipopt(acopf_solved *s, const fold_acopf_options *opt,
                            const fold_settings *set, const char *const *ipopt);
/* The same with fold_acopf_solve's options so (flow-variable re-solves, Ipopt options). */
void acopf_test_solve_with(acopf_solved *s, const fold_acopf_options *opt, const fold_settings *set,
                           const fold_acopf_solve_options *so);
void acopf_test_solved_free(acopf_solved *s);

#endif
