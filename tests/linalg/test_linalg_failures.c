/* src/linalg failure paths: singular matrices, the AUTO fallback, CHOLMOD's silent error
 * handler, bad input, allocation failures, and SPQR minimum-norm least squares. */
#include <unistd.h>

#include "kkt_fixture.h"

/* cm started, rng seeded, and the singular KKT matrix of order 80 (n = 60, m = 20; row
 * m - 1 of J copies row 0: the null vector e_lam0 - e_lam19) assembled from t. */
enum { SN = 60, SM = 20 };
static fold_la_assembly *singular_fixture(cholmod_common *cm, fold_test_rng *rng,
                                          unsigned long long seed, trip *t)
{
    ck_assert_status(fold_la_common_init(cm), FOLD_OK);
    fold_test_rng_seed(rng, seed);
    make_kkt(t, rng, SN, SM, H_SINGULAR_J);
    return assemble(t, SN + SM, 0, cm);
}

START_TEST(singular_detected)
{
    int ordering = _i;
    cholmod_common cm;
    fold_test_rng rng;
    fold_int n = SN, m = SM, dim = n + m;
    trip t = {0};
    fold_la_assembly *as = singular_fixture(&cm, &rng, 300, &t);
    fold_la_factor *F = NULL;
    /* UMFPACK: a zero pivot or rcond below rcond_min. */
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_UMFPACK, ordering, n, 1e-10, 1e-14, &cm, &F),
        FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("umfpack_dl_numeric");
    ck_assert_ptr_null(F);
    /* CHOLMOD: K is quasi-definite, hence factorable, but ||inv(K)||_1 ~ 1 / delta. */
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, ordering, n, 1e-10, 1e-14, &cm, &F),
        FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("numerically singular");
    ck_assert_ptr_null(F);
    /* AUTO: falls back to UMFPACK, which reports the singularity. */
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_AUTO, ordering, n, 1e-10, 1e-14, &cm, &F),
        FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("umfpack_dl_numeric");
    ck_assert_ptr_null(F);
    /* Refactoring a good factor with singular values leaves it unusable, not wrong. */
    trip t2 = {0};
    fold_test_rng_seed(&rng, 300);
    make_kkt(&t2, &rng, n, m, H_SPD);
    fold_la_assembly *good = assemble(&t2, dim, 0, &cm);
    double *B = malloc((size_t)dim * sizeof *B), *X = malloc((size_t)dim * sizeof *X);
    for (fold_int i = 0; i < dim; i++)
        B[i] = fold_test_normal(&rng);
    for (int kind = 0; kind < 3; kind++) {
        double res;
        ck_assert_status(fold_la_factor_create(good->A, kind, ordering, n, 1e-10, 1e-14, &cm, &F),
                         FOLD_OK);
        ck_assert_status(fold_la_factor_solve(F, false, 1, B, X, 3, 1e-12, &res), FOLD_OK);
        /* Same pattern? Only if the singular matrix happens to share it; else SPARSITY. */
        fold_status st = fold_la_factor_refactor(F, as->A);
        if (st != FOLD_ERR_SPARSITY) {
            ck_assert_int_eq(st, FOLD_ERR_SINGULAR);
            ck_assert_status(fold_la_factor_solve(F, false, 1, B, X, 3, 1e-12, &res),
                             FOLD_ERR_SINGULAR);
        }
        fold_la_factor_free(F);
        F = NULL;
    }
    fold_la_assembly_free(good, &cm);
    trip_free(&t2);
    free(B);
    free(X);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* A factor told to expect a singular A (doc/math.md §4.8): a singular A is factored
 * regularized at once, with the probe and the solutions of the regularization that a failed
 * factorization of A leads to; a regular A is refused by the probe and factored as itself,
 * also on refactorization. _i: UMFPACK, AUTO. */
START_TEST(expect_singular)
{
    int kind = _i ? FOLD_FACTOR_AUTO : FOLD_FACTOR_UMFPACK;
    cholmod_common cm;
    fold_test_rng rng;
    fold_int n = SN, m = SM, dim = n + m;
    trip t = {0}, tr = {0};
    fold_la_assembly *as = singular_fixture(&cm, &rng, 310, &t);
    fold_la_factor *found = NULL, *told = NULL;
    fold_la_factor_info fi, ti;
    ck_assert_status(fold_la_factor_create_reg(as->A, kind, FOLD_ORDER_METIS, n, 1e-10, 1e-14,
                                               1e-12, &cm, &found),
                     FOLD_OK);
    ck_assert_status(fold_la_factor_create_shared(as->A, kind, FOLD_ORDER_METIS, n, 1e-10, 1e-14,
                                                  1e-12, true, NULL, &cm, &told),
                     FOLD_OK);
    fold_la_factor_get_info(found, &fi);
    fold_la_factor_get_info(told, &ti);
    ck_assert_double_eq(fi.singular_delta, 1e-12);
    ck_assert_double_eq(ti.singular_delta, 1e-12);
    ck_assert_int_eq(ti.factorization, FOLD_FACTOR_UMFPACK);
    ck_assert_msg(strstr(ti.fallback_reason, "expected") != NULL, "'%s'", ti.fallback_reason);
    ck_assert_msg(strstr(fi.fallback_reason, "expected") == NULL, "'%s'", fi.fallback_reason);
    /* The same null vector (the copied row: lam[m - 1] - lam[0] up to the primal part). */
    double *z1 = malloc((size_t)dim * sizeof *z1), *z2 = malloc((size_t)dim * sizeof *z2);
    double r1, r2;
    ck_assert_status(fold_la_factor_null_probe(found, z1, &r1), FOLD_OK);
    ck_assert_status(fold_la_factor_null_probe(told, z2, &r2), FOLD_OK);
    ck_assert_double_le(r1, FOLD_LA_NULL_RESIDUAL * 1e-12);
    ck_assert_double_le(r2, FOLD_LA_NULL_RESIDUAL * 1e-12);
    ck_assert(z2[n] != 0.0 && z2[n + m - 1] != 0.0);
    for (fold_int i = 0; i < dim; i++) {
        ck_assert_int_eq(z1[i] != 0.0, z2[i] != 0.0);
        ck_assert_double_le(fabs(z1[i] - z2[i]), 1e-9 * (fabs(z1[i]) + 1e-300) + 1e-12);
    }
    /* Consistent right-hand sides b = A x0: the same solution. */
    double *x0 = malloc((size_t)dim * sizeof *x0), *b = malloc((size_t)dim * sizeof *b);
    for (fold_int i = 0; i < dim; i++)
        x0[i] = fold_test_normal(&rng);
    fold_la_spmv(as->A, false, x0, b, false);
    double res;
    ck_assert_status(fold_la_factor_solve(found, false, 1, b, z1, 5, 1e-13, &res), FOLD_OK);
    ck_assert_double_le(res, 1e-13);
    ck_assert_status(fold_la_factor_solve(told, false, 1, b, z2, 5, 1e-13, &res), FOLD_OK);
    ck_assert_double_le(res, 1e-13);
    for (fold_int i = 0; i < dim; i++)
        ck_assert_double_le(fabs(z1[i] - z2[i]), 1e-8 * (fabs(z1[i]) + 1.0));
    fold_la_factor_free(found);
    fold_la_factor_free(told);
    /* A regular A: the probe finds no null vector, A itself is factored. */
    make_kkt(&tr, &rng, n, m, H_SPD);
    fold_la_assembly *reg = assemble(&tr, dim, 0, &cm);
    ck_assert_status(fold_la_factor_create_shared(reg->A, kind, FOLD_ORDER_METIS, n, 1e-10, 1e-14,
                                                  1e-12, true, NULL, &cm, &told),
                     FOLD_OK);
    for (int round = 0; round < 2; round++) {
        fold_la_factor_get_info(told, &ti);
        ck_assert_double_eq(ti.singular_delta, 0.0);
        ck_assert_str_eq(ti.fallback_reason, "");
        ck_assert_int_eq(ti.factorization,
                         kind == FOLD_FACTOR_AUTO ? FOLD_FACTOR_CHOLMOD : FOLD_FACTOR_UMFPACK);
        ck_assert_status(fold_la_factor_null_probe(told, z1, &r1), FOLD_ERR_ARGUMENT);
        check_solves(told, reg->A, &rng, 1e-12);
        fold_la_factor_expect_singular(told, NULL);
        ck_assert_status(fold_la_factor_refactor(told, reg->A), FOLD_OK);
    }
    fold_la_factor_free(told);
    free(z1);
    free(z2);
    free(x0);
    free(b);
    fold_la_assembly_free(reg, &cm);
    fold_la_assembly_free(as, &cm);
    trip_free(&tr);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* KKT of order PN + PM whose variables PA, PA + 1 and PA + 2 have no Hessian entries and
 * J(:, PA + 1) = J(:, PA), J(:, PA + 2) = ratio J(:, PA) but for its second entry, ratio (1 +
 * skew) times: copied columns (doc/math.md eq. 4.12c), the null vectors e_(PA+1) - e_PA and,
 * for skew = 0, e_(PA+2) - ratio e_PA. Their diagonals are stored zeros, as in the fold's
 * matrices. */
enum { PN = 40, PM = 15, PA = PN - 3 };
static fold_la_assembly *copied_columns(cholmod_common *cm, fold_test_rng *rng, double ratio,
                                        double skew, trip *t)
{
    double *rowsum = calloc(PN, sizeof *rowsum);
    for (fold_int i = 0; i < PA; i++)
        for (int k = 0; k < 3; k++) {
            fold_int j = (fold_int)(fold_test_uniform(rng) * (double)PA);
            if (j == i) continue;
            double v = fold_test_normal(rng);
            trip_sym(t, i, j, v);
            rowsum[i] += fabs(v);
            rowsum[j] += fabs(v);
        }
    for (fold_int i = 0; i < PN; i++)
        trip_add(t, i, i, i < PA ? rowsum[i] + 1.0 : 0.0);
    free(rowsum);
    for (fold_int r = 0; r < PM; r++) {
        trip_sym(t, PN + r, r * (PA / PM), 2.0 + fold_test_uniform(rng));
        for (int k = 0; k < 3; k++)
            trip_sym(t, PN + r, (fold_int)(fold_test_uniform(rng) * (double)PA),
                     fold_test_normal(rng));
        if (r < 2) { /* the copies appear in the first two rows */
            double v = 1.0 + fold_test_uniform(rng);
            trip_sym(t, PN + r, PA, v);
            trip_sym(t, PN + r, PA + 1, v);
            trip_sym(t, PN + r, PA + 2, ratio * v * (r == 1 ? 1 + skew : 1));
        }
    }
    return assemble(t, PN + PM, 0, cm);
}

/* A singular A whose null directions are copied columns, told so with pins (eq. 4.12c):
 * factored pinned (not regularized), with the pins' null vectors as probe and the same
 * solutions as the regularized factor outside them, at A's own accuracy; an inconsistent
 * right-hand side (b_(PA+1) != b_PA) is flagged; a kept pinned factorization comes back
 * pinned after a regularized one; pins that do not hold (a wrong ratio), or A regular
 * (ratio 3), are not used. _i: UMFPACK, AUTO. */
START_TEST(pinned_columns)
{
    int kind = _i ? FOLD_FACTOR_AUTO : FOLD_FACTOR_UMFPACK;
    cholmod_common cm;
    fold_test_rng rng;
    trip t = {0}, tr = {0};
    const fold_int dim = PN + PM;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 330);
    fold_la_assembly *as = copied_columns(&cm, &rng, 2.0, 0.0, &t);
    fold_int col[2] = {PA + 1, PA + 2}, partner[2] = {PA, PA};
    double ratio[2] = {1.0, 2.0}, wrong[2] = {1.0, 2.5};
    fold_la_pins pins = {2, col, partner, ratio}, bad_pins = {2, col, partner, wrong};
    fold_la_factor *P = NULL, *R = NULL;
    fold_la_factor_info pi, ri;
    ck_assert_status(fold_la_factor_create_shared(as->A, kind, FOLD_ORDER_AMD, PN, 1e-10, 1e-14,
                                                  1e-12, true, &pins, &cm, &P),
                     FOLD_OK);
    ck_assert_status(
        fold_la_factor_create_reg(as->A, kind, FOLD_ORDER_AMD, PN, 1e-10, 1e-14, 1e-12, &cm, &R),
        FOLD_OK);
    fold_la_factor_get_info(P, &pi);
    fold_la_factor_get_info(R, &ri);
    ck_assert_double_eq(pi.singular_delta, 1e-12);
    ck_assert_double_eq(ri.singular_delta, 1e-12);
    ck_assert_int_eq(pi.factorization, FOLD_FACTOR_UMFPACK);
    ck_assert_msg(strstr(pi.fallback_reason, "2 copied columns pinned"), "'%s'",
                  pi.fallback_reason);
    ck_assert_msg(!strstr(ri.fallback_reason, "pinned"), "'%s'", ri.fallback_reason);
    /* the probe: nonzero on the three copies only, a null vector */
    double *z = malloc((size_t)dim * sizeof *z), res;
    ck_assert_status(fold_la_factor_null_probe(P, z, &res), FOLD_OK);
    ck_assert_double_le(res, 1e-14);
    for (fold_int i = 0; i < dim; i++)
        ck_assert_int_eq(z[i] != 0.0, i >= PA && i < PN);
    /* consistent right-hand sides b = A x0, both orientations: A's accuracy in one solve
     * (refine_steps 0; the regularized factor needs its extra steps for 1e-13), the
     * pinned entries zero, the others those of the regularized solution */
    double *x0 = malloc((size_t)dim * sizeof *x0), *b = malloc((size_t)(2 * dim) * sizeof *b);
    double *xp = malloc((size_t)(2 * dim) * sizeof *xp), *xr = malloc((size_t)dim * sizeof *xr);
    double *D = to_dense(as->A);
    for (fold_int i = 0; i < dim; i++)
        x0[i] = fold_test_normal(&rng);
    fold_la_spmv(as->A, false, x0, b, false);
    for (int tp = 0; tp < 2; tp++) {
        ck_assert_status(fold_la_factor_solve(P, tp, 1, b, xp, 0, 1e-13, &res), FOLD_OK);
        ck_assert_double_le(res, 1e-13);
        ck_assert_double_le(dense_residual(D, dim, tp, xp, b), 1e-14);
        ck_assert(xp[PA + 1] == 0.0 && xp[PA + 2] == 0.0);
        ck_assert_status(fold_la_factor_solve(R, tp, 1, b, xr, 5, 1e-13, &res), FOLD_OK);
        for (fold_int i = 0; i < dim; i++)
            if (i < PA || i >= PN)
                ck_assert_double_le(fabs(xp[i] - xr[i]), 1e-9 * (fabs(xr[i]) + 1));
    }
    /* the factors alone (fold_la_factor_apply): the same solution, the pinned rows of b
     * counted as zero */
    ck_assert_status(fold_la_factor_apply(P, false, 1, b, xp), FOLD_OK);
    ck_assert(xp[PA + 1] == 0.0 && xp[PA + 2] == 0.0);
    ck_assert_double_le(dense_residual(D, dim, false, xp, b), 1e-13);
    /* b + e_(PA+1) is not in range(A): flagged, the consistent column next to it solved */
    memcpy(b + dim, b, (size_t)dim * sizeof *b);
    b[dim + PA + 1] += 1.0;
    unsigned char flag[2];
    fold_int n_bad = 0;
    ck_assert_status(fold_la_factor_solve_cols(P, false, 2, b, xp, 3, 1e-13, &res, flag, &n_bad),
                     FOLD_OK);
    ck_assert_int_eq(n_bad, 1);
    ck_assert(flag[0] == 0 && flag[1] == 1);
    ck_assert_double_le(res, 1e-13);
    ck_assert_status(fold_la_factor_solve(P, false, 1, b + dim, xp, 3, 1e-13, &res),
                     FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("pinned rows keep a residual");
    /* kept aside while the same matrix is factored without pins (regularized), restored */
    if (kind == FOLD_FACTOR_UMFPACK) {
        ck_assert(fold_la_factor_keep(P));
        ck_assert_status(fold_la_factor_refactor(P, as->A), FOLD_OK);
        fold_la_factor_get_info(P, &pi);
        ck_assert_msg(!strstr(pi.fallback_reason, "pinned"), "'%s'", pi.fallback_reason);
        ck_assert_status(fold_la_factor_restore(P), FOLD_OK);
        fold_la_factor_get_info(P, &pi);
        ck_assert_msg(strstr(pi.fallback_reason, "pinned"), "'%s'", pi.fallback_reason);
        ck_assert_status(fold_la_factor_solve(P, false, 1, b, xp, 0, 1e-13, &res), FOLD_OK);
        ck_assert_double_le(dense_residual(D, dim, false, xp, b), 1e-14);
    }
    /* pins that do not hold on A's values: the regularization, as without pins */
    fold_la_factor_expect_singular(P, &bad_pins);
    ck_assert_status(fold_la_factor_refactor(P, as->A), FOLD_OK);
    fold_la_factor_get_info(P, &pi);
    ck_assert_double_eq(pi.singular_delta, 1e-12);
    ck_assert_msg(!strstr(pi.fallback_reason, "pinned"), "'%s'", pi.fallback_reason);
    ck_assert_status(fold_la_factor_solve(P, false, 1, b, xp, 5, 1e-13, &res), FOLD_OK);
    ck_assert_double_le(dense_residual(D, dim, false, xp, b), 1e-13);
    fold_la_factor_free(P);
    fold_la_factor_free(R);
    /* the third column no copy (one entry half as large again): the one copy pinned, the
     * pinned matrix regular, its null vector e_(PA+1) - e_PA alone */
    fold_test_rng_seed(&rng, 330);
    fold_la_assembly *reg = copied_columns(&cm, &rng, 2.0, 0.5, &tr);
    fold_int one_col[1] = {PA + 1}, one_partner[1] = {PA};
    double one_ratio[1] = {1.0};
    fold_la_pins partial = {1, one_col, one_partner, one_ratio};
    ck_assert_status(fold_la_factor_create_shared(reg->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD, PN,
                                                  1e-10, 1e-14, 1e-12, true, &partial, &cm, &P),
                     FOLD_OK);
    fold_la_factor_get_info(P, &pi);
    ck_assert_msg(strstr(pi.fallback_reason, "1 copied columns pinned"), "'%s'",
                  pi.fallback_reason);
    ck_assert_status(fold_la_factor_null_probe(P, z, &res), FOLD_OK);
    for (fold_int i = 0; i < dim; i++)
        ck_assert_int_eq(z[i] != 0.0, i == PA || i == PA + 1);
    fold_la_factor_free(P);
    /* the third column twice the first but for one entry 1e-10 off (a near copy), told a
     * copy or not: the pin does not hold to rounding, or the pinned matrix keeps a nearly
     * null direction (the inverse iteration of eq. 4.10 finds it): the regularization either
     * way, whose probe takes the near copy for a null direction as before the pins */
    trip tn = {0};
    fold_test_rng_seed(&rng, 330);
    fold_la_assembly *near = copied_columns(&cm, &rng, 2.0, 1e-10, &tn);
    for (int told = 0; told < 2; told++) {
        fold_la_pins tried = told ? pins : partial;
        ck_assert_status(fold_la_factor_create_shared(near->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD,
                                                      PN, 1e-10, 1e-14, 1e-12, true, &tried, &cm,
                                                      &P),
                         FOLD_OK);
        fold_la_factor_get_info(P, &pi);
        ck_assert_msg(!strstr(pi.fallback_reason, "pinned"), "%d '%s'", told, pi.fallback_reason);
        ck_assert_double_eq(pi.singular_delta, 1e-12);
        ck_assert_status(fold_la_factor_null_probe(P, z, &res), FOLD_OK);
        ck_assert_double_le(res, FOLD_LA_NULL_RESIDUAL * 1e-12);
        ck_assert(z[PA + 2] != 0.0 && z[PA] != 0.0);
        fold_la_factor_free(P);
    }
    fold_la_assembly_free(near, &cm);
    trip_free(&tn);
    /* one copy pinned, one left: the pinned matrix is singular too, the regularization */
    ck_assert_status(fold_la_factor_create_shared(as->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD, PN,
                                                  1e-10, 1e-14, 1e-12, true, &partial, &cm, &P),
                     FOLD_OK);
    fold_la_factor_get_info(P, &pi);
    ck_assert_double_eq(pi.singular_delta, 1e-12);
    ck_assert_msg(!strstr(pi.fallback_reason, "pinned"), "'%s'", pi.fallback_reason);
    ck_assert_status(fold_la_factor_null_probe(P, z, &res), FOLD_OK);
    ck_assert(z[PA + 2] != 0.0 && z[PA + 1] != 0.0);
    fold_la_factor_free(P);
    free(D);
    free(z);
    free(x0);
    free(b);
    free(xp);
    free(xr);
    fold_la_assembly_free(reg, &cm);
    fold_la_assembly_free(as, &cm);
    trip_free(&tr);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* A border over a pinned factorization (doc/math.md eq. 4.16b): A of pinned_columns (the
 * copies PA + 1 = PA and PA + 2 = 2 PA) bordered by a new unknown whose column couples to
 * PA + 1 and to a regular unknown: it moves the first copy apart (an active pin, an unknown
 * of the capacitance matrix) and leaves the second a null direction of A_v
 * (fold_la_border_null_vector). Consistent right-hand sides A_v x0 are solved to A_v's
 * accuracy, equal to x0 off the remaining null direction, both orientations. */
START_TEST(pinned_border)
{
    cholmod_common cm;
    fold_test_rng rng;
    trip t = {0}, tv = {0};
    const fold_int dim = PN + PM, nv = dim + 1;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 340);
    fold_la_assembly *as = copied_columns(&cm, &rng, 2.0, 0.0, &t);
    fold_int col[2] = {PA + 1, PA + 2}, partner[2] = {PA, PA};
    double ratio[2] = {1.0, 2.0};
    fold_la_pins pins = {2, col, partner, ratio};
    fold_la_factor *P = NULL;
    ck_assert_status(fold_la_factor_create_shared(as->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_AMD, PN,
                                                  1e-10, 1e-14, 1e-12, true, &pins, &cm, &P),
                     FOLD_OK);
    ck_assert(fold_la_factor_pinned(P));
    /* A_v: A plus unknown dim, coupled to PA + 1 (0.7) and to unknown 3 (-1.3), diagonal 5 */
    for (fold_int k = 0; k < t.n; k++)
        trip_add(&tv, t.r[k], t.c[k], t.v[k]);
    trip_sym(&tv, dim, PA + 1, 0.7);
    trip_sym(&tv, dim, 3, -1.3);
    trip_add(&tv, dim, dim, 5.0);
    fold_la_assembly *av = assemble(&tv, nv, 0, &cm);
    fold_int pv[PN + PM], vpos[1] = {dim};
    double C[PN + PM] = {0}, W[PN + PM], D[1] = {5.0}, res;
    for (fold_int i = 0; i < dim; i++)
        pv[i] = i;
    C[PA + 1] = 0.7;
    C[3] = -1.3;
    unsigned char flag[1];
    fold_int n_bad = 0;
    ck_assert_int_ge(fold_la_factor_solve_cols(P, false, 1, C, W, 3, 1e-14, &res, flag, &n_bad), 0);
    ck_assert_int_eq(n_bad, 1); /* C moves a copy apart: not in range(A), W its pinned solve */
    fold_la_border *Bd = NULL;
    ck_assert_status(fold_la_border_create(P, av->A, pv, 1, vpos, C, W, D, &Bd), FOLD_OK);
    ck_assert_double_gt(fold_la_border_rcond(Bd), 1e-10);
    /* the remaining null direction: e_(PA+2) - 2 e_PA */
    double z[PN + PM + 1], *Dv = to_dense(av->A), y[PN + PM + 1];
    ck_assert_int_eq(fold_la_border_null_vector(Bd, z), 1);
    for (fold_int i = 0; i < nv; i++)
        ck_assert_int_eq(z[i] != 0.0, i == PA || i == PA + 2);
    ck_assert_double_eq_tol(z[PA], -2.0 * z[PA + 2], 1e-15 * fabs(z[PA]));
    fold_la_spmv(av->A, false, z, y, false);
    for (fold_int i = 0; i < nv; i++)
        ck_assert_double_le(fabs(y[i]), 1e-14);
    /* consistent right-hand sides: solved, equal to x0 off the null direction */
    double x0[2 * (PN + PM + 1)], b[2 * (PN + PM + 1)], x[2 * (PN + PM + 1)];
    for (fold_int i = 0; i < 2 * nv; i++)
        x0[i] = fold_test_normal(&rng);
    unsigned char bad[2];
    for (int tp = 0; tp < 2; tp++) {
        for (fold_int c = 0; c < 2; c++)
            fold_la_spmv(av->A, tp, x0 + c * nv, b + c * nv, false);
        ck_assert_status(
            fold_la_border_solve(Bd, tp, 2, b, x, NULL, NULL, NULL, 0, 3, 1e-14, &res, bad, &n_bad),
            FOLD_OK);
        ck_assert_double_le(res, 1e-14);
        ck_assert_int_eq(n_bad, 0);
        for (fold_int c = 0; c < 2; c++) {
            ck_assert_double_le(dense_residual(Dv, nv, tp, x + c * nv, b + c * nv), 1e-15);
            for (fold_int i = 0; i < nv; i++)
                if (i != PA && i != PA + 2)
                    ck_assert_double_le(fabs(x[c * nv + i] - x0[c * nv + i]),
                                        1e-9 * (1 + fabs(x0[c * nv + i])));
        }
    }
    free(Dv);
    fold_la_border_free(Bd);
    fold_la_factor_free(P);
    fold_la_assembly_free(av, &cm);
    fold_la_assembly_free(as, &cm);
    trip_free(&tv);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* A singular A (two equal constraint rows: the null vector e_lam0 - e_lam(m-1)) and a batch
 * mixing consistent right-hand sides b = A x0 with inconsistent ones, b = A x0 + e_lam(m-1)
 * (doc/math.md eq. 4.9): fold_la_factor_solve_cols flags exactly the inconsistent columns and
 * solves the others to tol (each equal to its solve alone); fold_la_factor_solve refuses the
 * batch; fold_la_factor_apply is inv(M) b without a test. Batches of 1, 3 (column by
 * column) and 8 (blocked) right-hand sides; _i: ordering. */
START_TEST(solve_cols_flags_inconsistent)
{
    cholmod_common cm;
    fold_test_rng rng;
    trip t = {0};
    fold_la_assembly *as = singular_fixture(&cm, &rng, 320, &t);
    const fold_int n = SN, dim = SN + SM;
    fold_la_factor *F = NULL, *G = NULL;
    ck_assert_status(
        fold_la_factor_create_reg(as->A, FOLD_FACTOR_UMFPACK, _i, n, 1e-10, 1e-14, 1e-12, &cm, &F),
        FOLD_OK);
    fold_la_factor_info fi;
    fold_la_factor_get_info(F, &fi);
    ck_assert_double_eq(fi.singular_delta, 1e-12);
    const fold_int sizes[3] = {1, 3, 8};
    double *B = malloc((size_t)(8 * dim) * sizeof *B), *X = malloc((size_t)(8 * dim) * sizeof *X);
    double *x1 = malloc((size_t)dim * sizeof *x1), *x0 = malloc((size_t)dim * sizeof *x0);
    for (int k = 0; k < 3; k++) {
        fold_int nrhs = sizes[k];
        unsigned char bad[8], want[8];
        fold_int n_bad = -1, n_want = 0;
        for (fold_int c = 0; c < nrhs; c++) {
            for (fold_int i = 0; i < dim; i++)
                x0[i] = fold_test_normal(&rng);
            fold_la_spmv(as->A, false, x0, B + c * dim, false);
            want[c] = nrhs == 1 || c % 3 == 1; /* the single column is inconsistent */
            if (want[c]) B[c * dim + dim - 1] += 1.0;
            n_want += want[c];
        }
        double res = -1;
        ck_assert_status(
            fold_la_factor_solve_cols(F, false, nrhs, B, X, 3, 1e-13, &res, bad, &n_bad), FOLD_OK);
        ck_assert_int_eq(n_bad, n_want);
        ck_assert_double_le(res, 1e-13);
        if (n_want == nrhs) ck_assert_double_eq(res, 0.0);
        for (fold_int c = 0; c < nrhs; c++) {
            ck_assert_int_eq(bad[c], want[c]);
            if (want[c]) continue;
            double r1;
            ck_assert_status(fold_la_factor_solve(F, false, 1, B + c * dim, x1, 3, 1e-13, &r1),
                             FOLD_OK);
            /* equal but on the null vector's entries, which are a convention */
            for (fold_int i = 0; i < dim; i++)
                if (i != n && i != dim - 1)
                    ck_assert_double_le(fabs(X[c * dim + i] - x1[i]), 1e-9 * (fabs(x1[i]) + 1.0));
            ck_assert_double_le(fabs(X[c * dim + n] + X[c * dim + dim - 1] - x1[n] - x1[dim - 1]),
                                1e-9 * (fabs(x1[n]) + fabs(x1[dim - 1]) + 1.0));
        }
        ck_assert_status(fold_la_factor_solve(F, false, nrhs, B, X, 3, 1e-13, &res),
                         FOLD_ERR_SINGULAR);
        ck_assert_error_mentions("not in its range");
    }
    /* apply: inv(M) b for any b; for the last, inconsistent column about 1 / delta along
     * the null vector. */
    ck_assert_status(fold_la_factor_apply(F, false, 1, B + 7 * dim, x1), FOLD_OK);
    ck_assert_double_gt(fabs(x1[n] - x1[dim - 1]), 1e6);
    /* A regular A: nothing is flagged. */
    trip tr = {0};
    make_kkt(&tr, &rng, n, SM, H_SPD);
    fold_la_assembly *reg = assemble(&tr, dim, 0, &cm);
    ck_assert_status(
        fold_la_factor_create_reg(reg->A, FOLD_FACTOR_UMFPACK, _i, n, 1e-10, 1e-14, 1e-12, &cm, &G),
        FOLD_OK);
    unsigned char bad[8];
    fold_int n_bad = -1;
    for (fold_int i = 0; i < 8 * dim; i++)
        B[i] = fold_test_normal(&rng);
    ck_assert_status(fold_la_factor_solve_cols(G, false, 8, B, X, 3, 1e-13, NULL, bad, &n_bad),
                     FOLD_OK);
    ck_assert_int_eq(n_bad, 0);
    for (int c = 0; c < 8; c++)
        ck_assert_int_eq(bad[c], 0);
    ck_assert_status(fold_la_factor_solve_cols(G, false, 8, B, X, 3, 1e-13, NULL, NULL, NULL),
                     FOLD_ERR_ARGUMENT);
    fold_la_factor_free(G);
    fold_la_factor_free(F);
    fold_la_assembly_free(reg, &cm);
    fold_la_assembly_free(as, &cm);
    trip_free(&tr);
    trip_free(&t);
    free(B);
    free(X);
    free(x0);
    free(x1);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(auto_falls_back_when_not_quasi_definite)
{
    int ordering = _i;
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 400);
    fold_int n = 50, m = 20;
    trip t = {0};
    make_kkt(&t, &rng, n, m, H_NOT_QD);
    fold_la_assembly *as = assemble(&t, n + m, 0, &cm);
    fold_la_factor *F = NULL;
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, ordering, n, 1e-10, 1e-14, &cm, &F),
        FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("not quasi-definite");
    ck_assert_ptr_null(F);
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_AUTO, ordering, n, 1e-10, 1e-14, &cm, &F),
        FOLD_OK);
    fold_la_factor_info info;
    fold_la_factor_get_info(F, &info);
    ck_assert_int_eq(info.factorization, FOLD_FACTOR_UMFPACK);
    ck_assert_msg(strstr(info.fallback_reason, "quasi-definite") != NULL, "reason '%s'",
                  info.fallback_reason);
    check_solves(F, as->A, &rng, 1e-12);
    /* Refactor keeps the UMFPACK analysis. */
    ck_assert_status(fold_la_factor_refactor(F, as->A), FOLD_OK);
    fold_la_factor_get_info(F, &info);
    ck_assert(info.reused_analysis);
    ck_assert_int_eq(info.factorization, FOLD_FACTOR_UMFPACK);
    fold_la_factor_free(F);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(auto_falls_back_when_refinement_misses_tol)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 450);
    fold_int n = 80, m = 30;
    trip t = {0};
    make_kkt(&t, &rng, n, m, H_SPD);
    fold_la_assembly *as = assemble(&t, n + m, 0, &cm);
    fold_la_factor *F = NULL;
    /* A large delta and no refinement: LDL' alone cannot reach 1e-12. */
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_AUTO, FOLD_ORDER_AMD, n, 1e-3, 1e-14, &cm, &F),
        FOLD_OK);
    fold_la_factor_info info;
    fold_la_factor_get_info(F, &info);
    ck_assert_int_eq(info.factorization, FOLD_FACTOR_CHOLMOD);
    ck_assert_str_eq(info.fallback_reason, "");
    double *B = malloc((size_t)(n + m) * sizeof *B), *X = malloc((size_t)(n + m) * sizeof *X);
    double *D = to_dense(as->A), res;
    for (fold_int i = 0; i < n + m; i++)
        B[i] = fold_test_normal(&rng);
    ck_assert_status(fold_la_factor_solve(F, true, 1, B, X, 0, 1e-12, &res), FOLD_OK);
    ck_assert_double_le(dense_residual(D, n + m, true, X, B), 1e-12);
    fold_la_factor_get_info(F, &info);
    ck_assert_int_eq(info.factorization, FOLD_FACTOR_UMFPACK);
    ck_assert_msg(strstr(info.fallback_reason, "refined residual") != NULL, "reason '%s'",
                  info.fallback_reason);
    /* The same matrix with refinement: CHOLMOD alone converges (rate ~ delta ||inv(A)||). */
    fold_la_factor_free(F);
    ck_assert_status(
        fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, FOLD_ORDER_AMD, n, 1e-3, 1e-14, &cm, &F),
        FOLD_OK);
    ck_assert_status(fold_la_factor_solve(F, false, 1, B, X, 0, 1e-12, &res), FOLD_WARN_INACCURATE);
    ck_assert_double_gt(res, 1e-12);
    ck_assert_status(fold_la_factor_solve(F, false, 1, B, X, 30, 1e-12, &res), FOLD_OK);
    ck_assert_double_le(dense_residual(D, n + m, false, X, B), 1e-12);
    fold_la_factor_free(F);
    free(B);
    free(X);
    free(D);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* Minimum-norm least squares: x solves the normal equations op(A)' (op(A) x - b) = 0 and is
 * orthogonal to null(op(A)); together these determine op(A)^+ b uniquely. */
static void check_min_norm(const double *D, fold_int n, bool tr, const double *x, const double *b,
                           const double *null_vec, bool consistent)
{
    double *r = calloc((size_t)n, sizeof *r), rn = 0, gn = 0, xn = 0, dot = 0, vn = 0, an = 0;
    for (fold_int i = 0; i < n; i++) {
        for (fold_int j = 0; j < n; j++)
            r[i] += (tr ? D[j + i * n] : D[i + j * n]) * x[j];
        r[i] -= b[i];
        rn = fmax(rn, fabs(r[i]));
        xn = fmax(xn, fabs(x[i]));
        dot += x[i] * null_vec[i];
        vn += null_vec[i] * null_vec[i];
    }
    for (fold_int j = 0; j < n * n; j++)
        an = fmax(an, fabs(D[j]));
    for (fold_int j = 0; j < n; j++) { /* g = op(A)' r */
        double g = 0;
        for (fold_int i = 0; i < n; i++)
            g += (tr ? D[j + i * n] : D[i + j * n]) * r[i];
        gn = fmax(gn, fabs(g));
    }
    ck_assert_msg(gn <= 1e-10 * an * an * (xn + 1), "normal equations residual %g", gn);
    ck_assert_msg(fabs(dot) <= 1e-10 * sqrt(vn) * (xn + 1), "x . null = %g", dot);
    if (consistent) ck_assert_msg(rn <= 1e-10 * an * (xn + 1), "consistent system residual %g", rn);
    free(r);
}

START_TEST(lsq_minimum_norm)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    /* Small nonsymmetric rank-2 matrix: null(A) = (-1,-1,1), null(A') = (-2,1,0). */
    double dense[9] = {1, 2, 1, 2, 4, 0, 3, 6, 1}; /* column-major [[1,2,3],[2,4,6],[1,0,1]] */
    trip t = {0};
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
            if (dense[i + 3 * j] != 0) trip_add(&t, i, j, dense[i + 3 * j]);
    fold_la_assembly *as = assemble(&t, 3, 0, &cm);
    double null_a[3] = {-1, -1, 1}, null_at[3] = {-2, 1, 0};
    double b[6] = {1, 2, 3, 1, 2, 1}, x[6] = {0}; /* column 0 inconsistent, column 1 consistent */
    ck_assert_status(fold_la_lsq_solve(as->A, false, 2, b, x, &cm), FOLD_OK);
    check_min_norm(dense, 3, false, x, b, null_a, false);
    check_min_norm(dense, 3, false, x + 3, b + 3, null_a, true);
    ck_assert_status(fold_la_lsq_solve(as->A, true, 2, b, x, &cm), FOLD_OK);
    check_min_norm(dense, 3, true, x, b, null_at, false);
    /* Consistent column for A': b = A' (1, 1, 1) = (4, 6, 10). */
    double bt[3] = {4, 6, 10};
    ck_assert_status(fold_la_lsq_solve(as->A, true, 1, bt, x, &cm), FOLD_OK);
    check_min_norm(dense, 3, true, x, bt, null_at, true);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    /* Singular KKT (two equal constraint rows): null(A) = (0, e_0 - e_{m-1}). */
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 600);
    fold_int n = 40, m = 12, dim = n + m;
    trip k = {0};
    make_kkt(&k, &rng, n, m, H_SINGULAR_J);
    as = assemble(&k, dim, 0, &cm);
    double *D = to_dense(as->A), *nv = calloc((size_t)dim, sizeof *nv);
    nv[n] = 1;
    nv[n + m - 1] = -1;
    double *x0 = malloc((size_t)dim * sizeof *x0), *bb = malloc((size_t)dim * sizeof *bb);
    double *xx = malloc((size_t)dim * sizeof *xx);
    for (fold_int i = 0; i < dim; i++)
        x0[i] = fold_test_normal(&rng);
    fold_la_spmv(as->A, false, x0, bb, false);
    for (int tr = 0; tr < 2; tr++) {
        ck_assert_status(fold_la_lsq_solve(as->A, tr, 1, bb, xx, &cm), FOLD_OK);
        check_min_norm(D, dim, tr, xx, bb, nv, true);
    }
    bb[n] += 1.0; /* now inconsistent */
    ck_assert_status(fold_la_lsq_solve(as->A, false, 1, bb, xx, &cm), FOLD_OK);
    check_min_norm(D, dim, false, xx, bb, nv, false);
    /* Bad input. */
    ck_assert_status(fold_la_lsq_solve(NULL, false, 1, bb, xx, &cm), FOLD_ERR_ARGUMENT);
    bb[0] = NAN;
    ck_assert_status(fold_la_lsq_solve(as->A, false, 1, bb, xx, &cm), FOLD_ERR_NONFINITE);
    free(D);
    free(nv);
    free(x0);
    free(bb);
    free(xx);
    fold_la_assembly_free(as, &cm);
    trip_free(&k);
    fold_la_common_finish(&cm);
    ck_assert_int_eq(cm.malloc_count, 0);
}
END_TEST

START_TEST(cholmod_errors_are_silent_and_recorded)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fflush(stdout);
    fflush(stderr);
    FILE *tmp = tmpfile();
    int out = dup(1), err = dup(2);
    dup2(fileno(tmp), 1);
    dup2(fileno(tmp), 2);
    fold_clear_error();
    /* A symmetric stype with a rectangular shape is invalid input for CHOLMOD. */
    cholmod_sparse *S = cholmod_l_allocate_sparse(3, 4, 2, 1, 1, 1, CHOLMOD_REAL, &cm);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    ck_assert_ptr_null(S);
    ck_assert_int_eq(ftell(tmp), 0);
    fclose(tmp);
    ck_assert_error_mentions("CHOLMOD error");
    ck_assert_error_mentions("invalid");
    ck_assert_status(fold_la_common_init(NULL), FOLD_ERR_ARGUMENT);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(factor_bad_input)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_int r[4] = {0, 1, 0, 1}, c[4] = {0, 1, 1, 0};
    double v[4] = {2, 3, 1, 1};
    trip t = {0};
    for (int k = 0; k < 4; k++)
        trip_add(&t, r[k], c[k], v[k]);
    fold_la_assembly *as = assemble(&t, 2, 0, &cm), *rect = NULL, *low = assemble(&t, 2, -1, &cm);
    ck_assert_status(fold_la_assembly_create(2, 3, 4, r, c, 0, &cm, &rect), FOLD_OK);
    fold_la_factor *F = NULL;
    ck_assert_status(fold_la_factor_create(rect->A, 1, 0, 1, 0, 0, &cm, &F), FOLD_ERR_DIMENSION);
    ck_assert_status(fold_la_factor_create(low->A, 1, 0, 1, 0, 0, &cm, &F), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("full storage");
    ck_assert_status(fold_la_factor_create(as->A, 7, 0, 1, 0, 0, &cm, &F), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_factor_create(as->A, 1, 9, 1, 0, 0, &cm, &F), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_factor_create(as->A, 1, 0, 3, 0, 0, &cm, &F), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_factor_create(as->A, 1, 0, 1, -1, 0, &cm, &F), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_factor_create(as->A, 1, 0, 1, 0, NAN, &cm, &F), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_factor_create(NULL, 1, 0, 1, 0, 0, &cm, &F), FOLD_ERR_ARGUMENT);
    ((double *)as->A->x)[1] = NAN;
    ck_assert_status(fold_la_factor_create(as->A, 1, 0, 1, 0, 0, &cm, &F), FOLD_ERR_NONFINITE);
    ck_assert_ptr_null(F);
    fold_la_assembly_fill(as, v);
    /* CHOLMOD needs a symmetric A. */
    ((double *)as->A->x)[1] = 5;
    ck_assert_status(fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, 0, 1, 0, 0, &cm, &F),
                     FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("not symmetric");
    fold_la_assembly_fill(as, v);
    ck_assert_status(fold_la_factor_create(as->A, FOLD_FACTOR_UMFPACK, 0, 2, 0, 0, &cm, &F),
                     FOLD_OK);
    double b[2] = {1, 2}, x[2] = {-7, -7}, res;
    ck_assert_status(fold_la_factor_solve(F, false, 1, NULL, x, 1, 0, &res), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_factor_solve(F, false, -1, b, x, 1, 0, &res), FOLD_ERR_DIMENSION);
    ck_assert_status(fold_la_factor_solve(F, false, 1, b, x, -1, 0, &res), FOLD_ERR_ARGUMENT);
    b[1] = INFINITY;
    ck_assert_status(fold_la_factor_solve(F, false, 1, b, x, 1, 0, &res), FOLD_ERR_NONFINITE);
    ck_assert_double_eq(x[0], -7); /* nothing written */
    b[1] = 2;
    ck_assert_status(fold_la_factor_solve(F, false, 1, b, x, 2, 1e-15, &res), FOLD_OK);
    ck_assert_double_eq_tol(2 * x[0] + x[1], 1, 1e-14);
    ck_assert_double_eq_tol(x[0] + 3 * x[1], 2, 1e-14);
    ck_assert_status(fold_la_factor_refactor(F, rect->A), FOLD_ERR_DIMENSION);
    fold_la_factor_free(F);
    fold_la_factor_free(NULL);
    fold_la_assembly_free(as, &cm);
    fold_la_assembly_free(rect, &cm);
    fold_la_assembly_free(low, &cm);
    fold_la_assembly_free(NULL, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(allocation_failures_leave_nothing)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 500);
    fold_int n = 30, m = 10;
    trip t = {0};
    make_kkt(&t, &rng, n, m, H_SPD);
    double b[40], x[40], res;
    for (int i = 0; i < 40; i++)
        b[i] = fold_test_normal(&rng);
    for (int kind = 0; kind < 3; kind++) {
        int failures = 0;
        for (long k = 0;; k++) {
            fold_la_assembly *as = NULL;
            fold_la_factor *F = NULL;
            fold_alloc_fail_after(k);
            fold_status st = fold_la_assembly_create(n + m, n + m, t.n, t.r, t.c, 0, &cm, &as);
            if (!st) {
                fold_la_assembly_fill(as, t.v);
                st = fold_la_factor_create(as->A, kind, FOLD_ORDER_AMD, n, 1e-10, 1e-14, &cm, &F);
            }
            if (!st) st = fold_la_factor_solve(F, false, 1, b, x, 3, 1e-12, &res);
            fold_alloc_fail_after(-1);
            fold_la_factor_free(F);
            fold_la_assembly_free(as, &cm);
            if (st == FOLD_OK) break;
            ck_assert_status(st, FOLD_ERR_MEMORY);
            failures++;
        }
        ck_assert_int_gt(failures, 3);
    }
    trip_free(&t);
    fold_la_common_finish(&cm);
    ck_assert_int_eq(cm.malloc_count, 0); /* every CHOLMOD object was freed */
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("linalg_failures");
    TCase *tc = tcase_create("linalg_failures");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, singular_detected, 0, 3);
    tcase_add_loop_test(tc, expect_singular, 0, 2);
    tcase_add_loop_test(tc, pinned_columns, 0, 2);
    tcase_add_test(tc, pinned_border);
    tcase_add_loop_test(tc, solve_cols_flags_inconsistent, 0, 3);
    tcase_add_loop_test(tc, auto_falls_back_when_not_quasi_definite, 0, 3);
    tcase_add_test(tc, auto_falls_back_when_refinement_misses_tol);
    tcase_add_test(tc, lsq_minimum_norm);
    tcase_add_test(tc, cholmod_errors_are_silent_and_recorded);
    tcase_add_test(tc, factor_bad_input);
    tcase_add_test(tc, allocation_failures_leave_nothing);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
