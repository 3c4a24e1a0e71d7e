/* Solves with a bordered matrix over another's factorization (fold_la_border, doc/math.md
 * §4.9): a KKT matrix whose last constraint row is replaced by another (one unknown removed,
 * one added: a border of two) is solved to the refinement tolerance, checked against its own
 * dense copy; when the new row depends on the others the capacitance matrix says the
 * bordered matrix is singular (the caller then factors it with its own singularity
 * handling). */
#include "kkt_fixture.h"

enum { BN = 30, BM = 8, DIM = BN + BM };

/* A (SPD H, BM constraints) factored, and A_v: A without the unknown of constraint BM - 1,
 * with a new constraint row `row` (BN entries) in its place, solved by a border over A's
 * factorization; returns the capacitance rcond and, when solved, the residual of A_v x = b
 * checked on A_v's dense copy. */
static double bordered(const double *row, double *residual)
{
    cholmod_common cm;
    fold_test_rng rng;
    trip t = {0}, tv = {0};
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 42);
    make_kkt(&t, &rng, BN, BM, H_SPD);
    fold_la_assembly *as = assemble(&t, DIM, 0, &cm);
    fold_la_factor *F = NULL;
    ck_assert_status(fold_la_factor_create(as->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD, BN, 1e-10,
                                           1e-14, &cm, &F),
                     FOLD_OK);
    fold_int last = DIM - 1;
    for (fold_int k = 0; k < t.n; k++)
        if (t.r[k] != last && t.c[k] != last) trip_add(&tv, t.r[k], t.c[k], t.v[k]);
    for (fold_int j = 0; j < BN; j++)
        if (row[j] != 0.0) trip_sym(&tv, last, j, row[j]);
    trip_add(&tv, last, last, 0.0);
    fold_la_assembly *av = assemble(&tv, DIM, 0, &cm);
    /* border: j = 0 the multiplier of the removed unknown (C e_last), j = 1 the new row */
    fold_int pv[DIM], vpos[2] = {-1, last};
    double C[2 * DIM] = {0}, W[2 * DIM], D[4] = {0};
    for (fold_int i = 0; i < DIM; i++)
        pv[i] = i == last ? -1 : i;
    C[last] = 1.0;
    for (fold_int j = 0; j < BN; j++)
        C[DIM + j] = row[j];
    double res;
    ck_assert_status(fold_la_factor_solve(F, false, 2, C, W, 3, 1e-14, &res), FOLD_OK);
    fold_la_border *Bd = NULL;
    ck_assert_status(fold_la_border_create(F, av->A, pv, 2, vpos, C, W, D, &Bd), FOLD_OK);
    double rcond = fold_la_border_rcond(Bd);
    *residual = NAN;
    if (rcond > 1e-10) {
        double b[2 * DIM], x[2 * DIM], worst;
        unsigned char bad[2];
        fold_int n_bad = -1;
        for (fold_int i = 0; i < 2 * DIM; i++)
            b[i] = fold_test_normal(&rng);
        ck_assert_status(fold_la_border_solve(Bd, false, 2, b, x, NULL, NULL, NULL, 0, 3, 1e-14,
                                              &worst, bad, &n_bad),
                         FOLD_OK);
        ck_assert_double_le(worst, 1e-14);
        ck_assert_int_eq(n_bad, 0); /* a regular A: no column tested by eq. 4.9 */
        double *Dv = to_dense(av->A);
        *residual = fmax(dense_residual(Dv, DIM, false, x, b),
                         dense_residual(Dv, DIM, false, x + DIM, b + DIM));
        free(Dv);
    }
    fold_la_border_free(Bd);
    fold_la_factor_free(F);
    fold_la_assembly_free(as, &cm);
    fold_la_assembly_free(av, &cm);
    trip_free(&t);
    trip_free(&tv);
    fold_la_common_finish(&cm);
    return rcond;
}

START_TEST(border_solves)
{
    double row[BN] = {0}, residual;
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 7);
    for (fold_int j = 0; j < BN; j += 3)
        row[j] = fold_test_normal(&rng);
    double rcond = bordered(row, &residual);
    printf("# regular border: capacitance rcond %.3g, residual %.3g\n", rcond, residual);
    ck_assert_double_gt(rcond, 1e-10);
    ck_assert_double_le(residual, 1e-15);
}
END_TEST

/* The new row a combination of two rows A keeps (rows 0 and 1 of J, read off A's dense
 * copy): A_v is singular, and the capacitance matrix says so. */
START_TEST(border_singular)
{
    cholmod_common cm;
    fold_test_rng rng;
    trip t = {0};
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 42);
    make_kkt(&t, &rng, BN, BM, H_SPD);
    fold_la_assembly *as = assemble(&t, DIM, 0, &cm);
    double *Dn = to_dense(as->A), row[BN], residual;
    for (fold_int j = 0; j < BN; j++)
        row[j] = 2.0 * Dn[BN + j * DIM] - 0.5 * Dn[BN + 1 + j * DIM];
    free(Dn);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
    double rcond = bordered(row, &residual);
    printf("# dependent row: capacitance rcond %.3g\n", rcond);
    ck_assert_double_lt(rcond, 1e-10);
}
END_TEST

/* A border over a regularized factorization (doc/math.md §4.8-4.9): A's last constraint row
 * is 2 row 0 - 0.5 row 1 (dependent rows that are no copies: M = A + delta D factored), and
 * A_v adds an unknown coupled to two primal unknowns. The bordered inverse is that of A_v +
 * delta D_v: consistent right-hand sides A_v x0 are refined to A_v's accuracy, equal to x0
 * off the null direction (the three multipliers); one with a component along it misses eq.
 * 4.9 (flagged); the probe over the bordered inverse finds the null direction. */
START_TEST(regularized_border)
{
    cholmod_common cm;
    fold_test_rng rng;
    trip t = {0}, tv = {0};
    const fold_int last = DIM - 1, nv = DIM + 1;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 42);
    make_kkt(&t, &rng, BN, BM - 1, H_SPD);
    fold_la_assembly *a0 = assemble(&t, DIM - 1, 0, &cm);
    double *D0 = to_dense(a0->A);
    for (fold_int j = 0; j < BN; j++) {
        double v = 2.0 * D0[BN + j * (DIM - 1)] - 0.5 * D0[BN + 1 + j * (DIM - 1)];
        if (v != 0.0) trip_sym(&t, last, j, v);
    }
    trip_add(&t, last, last, 0.0);
    free(D0);
    fold_la_assembly_free(a0, &cm);
    fold_la_assembly *as = assemble(&t, DIM, 0, &cm);
    fold_la_factor *F = NULL;
    ck_assert_status(fold_la_factor_create_shared(as->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD, BN,
                                                  1e-10, 1e-14, 1e-12, true, NULL, &cm, &F),
                     FOLD_OK);
    fold_la_factor_info fi;
    fold_la_factor_get_info(F, &fi);
    ck_assert_double_eq(fi.singular_delta, 1e-12);
    ck_assert(!fold_la_factor_pinned(F));
    for (fold_int k = 0; k < t.n; k++)
        trip_add(&tv, t.r[k], t.c[k], t.v[k]);
    trip_sym(&tv, DIM, 3, 1.1);
    trip_sym(&tv, DIM, 7, -0.6);
    trip_add(&tv, DIM, DIM, 3.0);
    fold_la_assembly *av = assemble(&tv, nv, 0, &cm);
    fold_int pv[DIM], vpos[1] = {DIM};
    double C[DIM] = {0}, W[DIM], D[1] = {3.0};
    for (fold_int i = 0; i < DIM; i++)
        pv[i] = i;
    C[3] = 1.1;
    C[7] = -0.6;
    ck_assert_status(fold_la_factor_apply(F, false, 1, C, W), FOLD_OK);
    fold_la_border *Bd = NULL;
    ck_assert_status(fold_la_border_create(F, av->A, pv, 1, vpos, C, W, D, &Bd), FOLD_OK);
    ck_assert_double_eq(fold_la_border_delta(Bd), 1e-12);
    ck_assert_double_gt(fold_la_border_rcond(Bd), 1e-10);
    /* the null direction: the multipliers of rows 0, 1 and last in the ratio 2 : -0.5 : -1 */
    const fold_int mult[3] = {BN, BN + 1, last};
    double z[DIM + 1], residual;
    ck_assert_status(fold_la_border_null_probe(Bd, z, &residual), FOLD_OK);
    ck_assert_double_le(residual, FOLD_LA_NULL_RESIDUAL * 1e-12);
    for (fold_int i = 0; i < nv; i++)
        ck_assert_int_eq(z[i] != 0.0, i == mult[0] || i == mult[1] || i == mult[2]);
    ck_assert_double_eq_tol(z[mult[0]], -2.0 * z[mult[2]], 1e-8 * fabs(z[mult[0]]));
    ck_assert_double_eq_tol(z[mult[1]], 0.5 * z[mult[2]], 1e-8 * fabs(z[mult[0]]));
    /* columns: A_v x0 (twice, both orientations), then one plus e_last */
    double x0[2 * (DIM + 1)], b[2 * (DIM + 1)], x[2 * (DIM + 1)], *Dv = to_dense(av->A), worst;
    unsigned char bad[2];
    fold_int n_bad = -1;
    for (fold_int i = 0; i < 2 * nv; i++)
        x0[i] = fold_test_normal(&rng);
    for (int tp = 0; tp < 2; tp++) {
        for (fold_int c = 0; c < 2; c++)
            fold_la_spmv(av->A, tp, x0 + c * nv, b + c * nv, false);
        ck_assert_status(fold_la_border_solve(Bd, tp, 2, b, x, NULL, NULL, NULL, 0, 3, 1e-14,
                                              &worst, bad, &n_bad),
                         FOLD_OK);
        ck_assert_int_eq(n_bad, 0);
        ck_assert_double_le(worst, 1e-14);
        for (fold_int c = 0; c < 2; c++) {
            ck_assert_double_le(dense_residual(Dv, nv, tp, x + c * nv, b + c * nv), 1e-15);
            for (fold_int i = 0; i < nv; i++)
                if (z[i] == 0.0) ck_assert_double_eq_tol(x[c * nv + i], x0[c * nv + i], 1e-9);
        }
    }
    /* the first column given with an earlier solution of A (kept unknowns: all of A's) that
     * took GMRES (ok 2): flagged without refinement; taken as a start (ok 1): solved */
    for (int mark = 1; mark <= 2; mark++) {
        unsigned char ok[1] = {(unsigned char)mark};
        double x1[2 * (DIM + 1)];
        ck_assert_status(
            fold_la_border_solve(Bd, false, 2, b, x1, b, x, ok, 1, 3, 1e-14, &worst, bad, &n_bad),
            FOLD_OK);
        ck_assert_int_eq(n_bad, (mark == 2));
        ck_assert_int_eq(bad[0], (mark == 2));
        ck_assert_int_eq(bad[1], 0);
        if (mark == 1) ck_assert_double_le(dense_residual(Dv, nv, false, x1, b), 1e-15);
    }
    b[nv + last] += 1.0; /* not in range(A_v) = null(A_v)^perp */
    ck_assert_status(fold_la_border_solve(Bd, false, 2, b, x, NULL, NULL, NULL, 0, 3, 1e-14, &worst,
                                          bad, &n_bad),
                     FOLD_OK);
    ck_assert_int_eq(n_bad, 1);
    ck_assert_int_eq(bad[0], 0);
    ck_assert_int_eq(bad[1], 1);
    printf("# regularized border: probe residual %.3g, consistent columns to %.3g\n", residual,
           worst);
    free(Dv);
    fold_la_border_free(Bd);
    fold_la_factor_free(F);
    fold_la_assembly_free(as, &cm);
    fold_la_assembly_free(av, &cm);
    trip_free(&t);
    trip_free(&tv);
    fold_la_common_finish(&cm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linalg_border");
    TCase *tc = tcase_create("border");
    tcase_add_test(tc, border_solves);
    tcase_add_test(tc, border_singular);
    tcase_add_test(tc, regularized_border);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
