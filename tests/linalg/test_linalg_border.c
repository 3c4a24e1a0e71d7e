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
        for (fold_int i = 0; i < 2 * DIM; i++)
            b[i] = fold_test_normal(&rng);
        ck_assert_status(fold_la_border_solve(Bd, false, 2, b, x, NULL, NULL, 0, 3, 1e-14, &worst),
                         FOLD_OK);
        ck_assert_double_le(worst, 1e-14);
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

int main(void)
{
    Suite *s = suite_create("linalg_border");
    TCase *tc = tcase_create("border");
    tcase_add_test(tc, border_solves);
    tcase_add_test(tc, border_singular);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
