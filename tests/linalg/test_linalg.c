/* src/linalg: triplet assembly, and UMFPACK / CHOLMOD LDL' / AUTO factorizations of random
 * KKT matrices for every ordering, with transposed and multiple right-hand sides,
 * refactorization, the symmetry check, factors sharing the caller's matrix and blocked
 * solves of many right-hand sides, a factorization kept aside and restored. */
#include "kkt_fixture.h"

static const char *kind_name[] = {"auto", "umfpack", "cholmod"};
static const char *order_name[] = {"amd", "colamd", "metis"};

START_TEST(assembly_full_matches_dense)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 7);
    const fold_int nr = 7, nc = 5;
    trip t = {0};
    double ref[35] = {0};
    for (int k = 0; k < 60; k++) { /* unsorted, many duplicates */
        fold_int r = (fold_int)(fold_test_uniform(&rng) * nr);
        fold_int c = (fold_int)(fold_test_uniform(&rng) * nc);
        double v = fold_test_normal(&rng);
        trip_add(&t, r, c, v);
        ref[r + c * nr] += v;
    }
    fold_la_assembly *as = NULL;
    ck_assert_status(fold_la_assembly_create(nr, nc, t.n, t.r, t.c, 0, &cm, &as), FOLD_OK);
    fold_la_assembly_fill(as, t.v);
    ck_assert(cholmod_l_check_sparse(as->A, &cm));
    ck_assert_int_eq(as->A->stype, 0);
    ck_assert_status(fold_check_csc(nr, nc, as->A->p, as->A->i, as->A->x, "test", "A"), FOLD_OK);
    double *D = to_dense(as->A);
    for (int k = 0; k < 35; k++)
        ck_assert_double_eq_tol(D[k], ref[k], 1e-14);
    free(D);
    /* New values, same pattern: placed through the map. */
    for (fold_int k = 0; k < t.n; k++)
        t.v[k] *= -2.0;
    fold_la_assembly_fill(as, t.v);
    D = to_dense(as->A);
    for (int k = 0; k < 35; k++)
        ck_assert_double_eq_tol(D[k], -2.0 * ref[k], 1e-14);
    free(D);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(assembly_lower_mirrors)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 8);
    const fold_int n = 6;
    trip t = {0};
    double ref[36] = {0};
    for (int k = 0; k < 40; k++) {
        fold_int r = (fold_int)(fold_test_uniform(&rng) * n);
        fold_int c = (fold_int)(fold_test_uniform(&rng) * n);
        double v = fold_test_normal(&rng);
        trip_add(&t, r, c, v);
        if (r >= c)
            ref[r + c * n] += v;
        else
            ref[c + r * n] += v; /* mirrored into the lower triangle */
    }
    fold_la_assembly *as = assemble(&t, n, -1, &cm);
    ck_assert_int_eq(as->A->stype, -1);
    ck_assert(cholmod_l_check_sparse(as->A, &cm));
    const fold_int *p = as->A->p, *i = as->A->i;
    for (fold_int j = 0; j < n; j++)
        for (fold_int q = p[j]; q < p[j + 1]; q++)
            ck_assert_int_ge(i[q], j);
    double *D = to_dense(as->A);
    for (int k = 0; k < 36; k++)
        ck_assert_double_eq_tol(D[k], ref[k], 1e-14);
    free(D);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(assembly_bad_input)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_int r[2] = {0, 5}, c[2] = {0, 1};
    fold_la_assembly *as = NULL;
    ck_assert_status(fold_la_assembly_create(3, 3, 2, r, c, 0, &cm, &as), FOLD_ERR_SPARSITY);
    ck_assert_error_mentions("row[1] = 5");
    ck_assert_ptr_null(as);
    r[1] = 1;
    c[1] = -1;
    ck_assert_status(fold_la_assembly_create(3, 3, 2, r, c, 0, &cm, &as), FOLD_ERR_SPARSITY);
    ck_assert_error_mentions("col[1]");
    ck_assert_status(fold_la_assembly_create(3, 4, 1, r, r, -1, &cm, &as), FOLD_ERR_DIMENSION);
    ck_assert_status(fold_la_assembly_create(3, 3, 1, r, r, 1, &cm, &as), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_la_assembly_create(3, 3, 1, NULL, r, 0, &cm, &as), FOLD_ERR_ARGUMENT);
    /* Empty matrix is fine. */
    ck_assert_status(fold_la_assembly_create(3, 3, 0, NULL, NULL, 0, &cm, &as), FOLD_OK);
    fold_la_assembly_fill(as, NULL);
    fold_la_assembly_free(as, &cm);
    fold_la_common_finish(&cm);
}
END_TEST

/* _i = kind + 3 * (ordering + 3 * (H type)) */
START_TEST(kkt_solves)
{
    int kind = _i % 3, ordering = (_i / 3) % 3, htype = _i / 9;
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 100 + (unsigned long long)_i);
    const fold_int sizes[3][2] = {{36, 14}, {150, 50}, {350, 150}};
    for (int s = 0; s < 3; s++) {
        fold_int n = sizes[s][0], m = sizes[s][1];
        trip t = {0};
        make_kkt(&t, &rng, n, m, htype);
        fold_la_assembly *as = assemble(&t, n + m, 0, &cm);
        fold_la_factor *F = NULL;
        fold_status st = fold_la_factor_create(as->A, kind, ordering, n, 1e-10, 1e-14, &cm, &F);
        if (kind == FOLD_FACTOR_CHOLMOD && htype == H_INDEF && st != FOLD_OK) {
            /* LDL' without pivoting may meet a wrong-sign pivot: it must say so. */
            ck_assert_msg(st == FOLD_ERR_UNSUPPORTED || st == FOLD_ERR_SINGULAR, "%s: %s",
                          fold_status_name(st), fold_last_error());
            ck_assert_ptr_null(F);
        } else {
            ck_assert_msg(st == FOLD_OK, "%s/%s size %lld: %s %s", kind_name[kind],
                          order_name[ordering], (long long)(n + m), fold_status_name(st),
                          fold_last_error());
            fold_la_factor_info info;
            fold_la_factor_get_info(F, &info);
            ck_assert_int_eq(info.ordering, ordering);
            ck_assert_int_gt(info.factor_nnz, n + m - 1);
            ck_assert(!info.reused_analysis);
            ck_assert_double_ge(info.analyze_s, 0.0);
            if (kind == FOLD_FACTOR_UMFPACK) {
                ck_assert_int_eq(info.factorization, FOLD_FACTOR_UMFPACK);
                ck_assert_double_gt(info.rcond, 1e-14);
            }
            if (kind == FOLD_FACTOR_CHOLMOD)
                ck_assert_int_eq(info.factorization, FOLD_FACTOR_CHOLMOD);
            check_solves(F, as->A, &rng, 1e-12);
            fold_la_factor_get_info(F, &info);
            if (kind == FOLD_FACTOR_AUTO && htype == H_SPD)
                ck_assert_int_eq(info.factorization, FOLD_FACTOR_CHOLMOD);
            if (info.factorization == FOLD_FACTOR_UMFPACK && kind == FOLD_FACTOR_AUTO)
                ck_assert(info.fallback_reason[0] != '\0');
        }
        fold_la_factor_free(F);
        fold_la_assembly_free(as, &cm);
        trip_free(&t);
    }
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(refactor_reuses_analysis)
{
    int kind = _i;
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 200 + (unsigned long long)_i);
    fold_int n = 120, m = 40;
    trip t = {0};
    make_kkt(&t, &rng, n, m, H_SPD);
    fold_la_assembly *as = assemble(&t, n + m, 0, &cm);
    fold_la_factor *F = NULL;
    ck_assert_status(fold_la_factor_create(as->A, kind, FOLD_ORDER_AMD, n, 1e-10, 1e-14, &cm, &F),
                     FOLD_OK);
    check_solves(F, as->A, &rng, 1e-12);
    /* Same pattern, new values: scale each triplet by a random factor in [0.5, 1.5] while
     * keeping symmetry (pairs are adjacent in the list) and H's dominance. */
    for (fold_int k = 0; k < t.n; k++) {
        double f = 0.5 + fold_test_uniform(&rng);
        t.v[k] *= f;
        if (t.r[k] != t.c[k] && k + 1 < t.n && t.r[k + 1] == t.c[k] && t.c[k + 1] == t.r[k]) {
            t.v[k + 1] *= f;
            k++;
        }
        if (t.r[k] == t.c[k])
            t.v[k] *= 3.0; /* diagonals grow faster than their rows: H stays SPD */
    }
    fold_la_assembly_fill(as, t.v);
    ck_assert_status(fold_la_factor_refactor(F, as->A), FOLD_OK);
    fold_la_factor_info info;
    fold_la_factor_get_info(F, &info);
    ck_assert(info.reused_analysis);
    ck_assert_int_eq(info.factorization,
                     kind == FOLD_FACTOR_UMFPACK ? FOLD_FACTOR_UMFPACK : FOLD_FACTOR_CHOLMOD);
    check_solves(F, as->A, &rng, 1e-12);
    /* A different pattern is refused. */
    trip t2 = {0};
    make_kkt(&t2, &rng, n, m, H_SPD);
    fold_la_assembly *as2 = assemble(&t2, n + m, 0, &cm);
    ck_assert_status(fold_la_factor_refactor(F, as2->A), FOLD_ERR_SPARSITY);
    ck_assert_error_mentions("analyzed pattern");
    fold_la_assembly_free(as2, &cm);
    trip_free(&t2);
    fold_la_factor_free(F);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* The symmetry check of the LDL' path (one pass with column cursors): a value changed on
 * one side, or a structural entry without partner, is reported with its position; an entry
 * without partner but zero, or a difference within 1e-14 relative, is accepted. */
static bool mentions_pair(fold_int i, fold_int j)
{
    char a[64], b[64];
    snprintf(a, sizeof a, "(%lld,%lld)", (long long)i, (long long)j);
    snprintf(b, sizeof b, "(%lld,%lld)", (long long)j, (long long)i);
    return strstr(fold_last_error(), a) || strstr(fold_last_error(), b);
}

START_TEST(symmetry_check)
{
    cholmod_common cm;
    fold_test_rng rng;
    fold_int n = 60, m = 20;
    trip t = {0};
    fold_la_factor *F = NULL;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 31);
    make_kkt(&t, &rng, n, m, H_SPD);
    fold_la_assembly *as = assemble(&t, n + m, 0, &cm);
    const fold_int *Ap = as->A->p, *Ai = as->A->i;
    double *Ax = as->A->x;
    ck_assert_status(fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, 0, n, 1e-10, 1e-14, &cm, &F),
                     FOLD_OK);
    fold_la_factor_free(F);
    /* the assembled KKT matrix is symmetric entry by entry: its residual A x - b computed
     * by columns (scatter) and as A' x (gather) agree to rounding, with |A| |x| */
    fold_int *cur = malloc((size_t)(n + m) * sizeof *cur), bi0, bj0;
    double *x = malloc((size_t)(n + m) * 4 * sizeof *x), *b = x + n + m, *r1 = b + n + m,
           *w1 = r1 + n + m, r2[80], w2[80];
    ck_assert(fold_la_symmetric(as->A, 0.0, cur, &bi0, &bj0));
    for (fold_int k = 0; k < n + m; k++) {
        x[k] = fold_test_uniform(&rng) - 0.5;
        b[k] = fold_test_uniform(&rng) - 0.5;
    }
    fold_la_residual(as->A, false, x, b, r1, w1);
    fold_la_residual(as->A, true, x, b, r2, w2);
    for (fold_int k = 0; k < n + m; k++) {
        ck_assert_double_le(fabs(r1[k] - r2[k]), 1e-15 * (w1[k] + fabs(b[k])));
        ck_assert_double_le(fabs(w1[k] - w2[k]), 1e-15 * w1[k]);
    }
    free(x);
    for (int trial = 0; trial < 40; trial++) {
        fold_int j = (fold_int)(fold_test_uniform(&rng) * (double)(n + m)), q = Ap[j];
        while (q < Ap[j + 1] && Ai[q] == j)
            q++;
        if (q == Ap[j + 1]) continue;
        double v = Ax[q];
        Ax[q] = v * (1 + 1e-15);
        /* exact symmetry (the residuals' gather loop) is lost, the 1e-14 test passes */
        fold_int bi = -1, bj = -1;
        ck_assert(!fold_la_symmetric(as->A, 0.0, cur, &bi, &bj));
        ck_assert((bi == Ai[q] && bj == j) || (bi == j && bj == Ai[q]));
        ck_assert(fold_la_symmetric(as->A, 1e-14, cur, &bi, &bj));
        ck_assert_status(
            fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, 0, n, 1e-10, 1e-14, &cm, &F),
            FOLD_OK);
        fold_la_factor_free(F);
        F = NULL;
        Ax[q] = v + 0.25;
        ck_assert_status(
            fold_la_factor_create(as->A, FOLD_FACTOR_CHOLMOD, 0, n, 1e-10, 1e-14, &cm, &F),
            FOLD_ERR_UNSUPPORTED);
        ck_assert_msg(mentions_pair(Ai[q], j), "'%s' does not name (%lld,%lld)", fold_last_error(),
                      (long long)Ai[q], (long long)j);
        Ax[q] = v;
    }
    /* (n, n + 1) lies in the zero dual block: present on one side only. */
    for (int side = 0; side < 2; side++)
        for (int nonzero = 0; nonzero < 2; nonzero++) {
            trip t2 = {0};
            for (fold_int k = 0; k < t.n; k++)
                trip_add(&t2, t.r[k], t.c[k], t.v[k]);
            trip_add(&t2, side ? n + 1 : n, side ? n : n + 1, nonzero ? 1.0 : 0.0);
            fold_la_assembly *as2 = assemble(&t2, n + m, 0, &cm);
            ck_assert_status(
                fold_la_factor_create(as2->A, FOLD_FACTOR_CHOLMOD, 0, n, 1e-10, 1e-14, &cm, &F),
                nonzero ? FOLD_ERR_UNSUPPORTED : FOLD_OK);
            if (nonzero) ck_assert(mentions_pair(n, n + 1));
            fold_la_factor_free(F);
            F = NULL;
            fold_la_assembly_free(as2, &cm);
            trip_free(&t2);
        }
    free(cur);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* A factor sharing the caller's matrix: new values written into it take effect at the
 * refactorization, another matrix is refused, and freeing the factor leaves A alone. */
/* Many right-hand sides (UMFPACK's factors extracted, blocks of FOLD_LA_BLOCK) give the
 * solutions of one-at-a-time solves, plain and transposed (the latter per column), also
 * with an incomplete last block; the refined results meet the residual. */
START_TEST(blocked_solves)
{
    cholmod_common cm;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 400 + (unsigned long long)_i);
    fold_int n = 220, m = 90, N = n + m, nrhs = 2 * 32 + 7;
    trip t = {0};
    make_kkt(&t, &rng, n, m, _i ? H_INDEF : H_SPD);
    fold_la_assembly *as = assemble(&t, N, 0, &cm);
    fold_la_factor *F = NULL;
    ck_assert_status(fold_la_factor_create(as->A, FOLD_FACTOR_UMFPACK, FOLD_ORDER_COLAMD, n, 1e-10,
                                           1e-14, &cm, &F),
                     FOLD_OK);
    double *B = malloc((size_t)(N * nrhs) * sizeof *B), *X = malloc((size_t)(N * nrhs) * 8);
    double *x1 = malloc((size_t)N * 8), res = 0;
    for (fold_int k = 0; k < N * nrhs; k++)
        B[k] = fold_test_normal(&rng);
    for (int tr = 0; tr < 2; tr++) {
        fold_status st = fold_la_factor_solve(F, tr, nrhs, B, X, 0, 1e-14, &res);
        ck_assert(st == FOLD_OK || st == FOLD_WARN_INACCURATE); /* no refinement asked */
        for (fold_int c = 0; c < nrhs; c++) {
            fold_la_factor_solve(F, tr, 1, B + c * N, x1, 0, 1e-14, NULL);
            double scale = 0, diff = 0;
            for (fold_int i = 0; i < N; i++) {
                scale = fmax(scale, fabs(x1[i]));
                diff = fmax(diff, fabs(x1[i] - X[c * N + i]));
            }
            ck_assert_msg(diff <= 1e-12 * scale, "rhs %lld (transpose %d): %g vs %g", (long long)c,
                          tr, diff, scale);
        }
        ck_assert_status(fold_la_factor_solve(F, tr, nrhs, B, X, 3, 1e-14, &res), FOLD_OK);
        ck_assert_double_le(res, 1e-14);
    }
    free(B);
    free(X);
    free(x1);
    fold_la_factor_free(F);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

START_TEST(shared_factor)
{
    int kind = _i;
    cholmod_common cm;
    fold_test_rng rng;
    fold_int n = 80, m = 30;
    trip t = {0};
    fold_la_factor *F = NULL;
    fold_la_factor_info info;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 400 + (unsigned long long)_i);
    make_kkt(&t, &rng, n, m, H_SPD);
    fold_la_assembly *as = assemble(&t, n + m, 0, &cm), *copy = assemble(&t, n + m, 0, &cm);
    ck_assert_status(fold_la_factor_create_shared(as->A, kind, FOLD_ORDER_AMD, n, 1e-10, 1e-14, 0.0,
                                                  false, NULL, &cm, &F),
                     FOLD_OK);
    check_solves(F, as->A, &rng, 1e-12);
    for (fold_int k = 0; k < t.n; k++)
        t.v[k] *= t.r[k] == t.c[k] ? 3.0 : 1.5;
    fold_la_assembly_fill(as, t.v);
    ck_assert_status(fold_la_factor_refactor(F, as->A), FOLD_OK);
    fold_la_factor_get_info(F, &info);
    ck_assert(info.reused_analysis);
    check_solves(F, as->A, &rng, 1e-12);
    ck_assert_status(fold_la_factor_refactor(F, copy->A), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("shares its matrix");
    fold_la_factor_free(F);
    ck_assert_int_eq(((fold_int *)as->A->p)[n + m], ((fold_int *)copy->A->p)[n + m]);
    fold_la_assembly_free(as, &cm);
    fold_la_assembly_free(copy, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* A kept factorization (UMFPACK): the values refactored while it is kept are solved with
 * their own factors, and after the first values are written back and the kept one is
 * restored, solves are those of the first values again without a new factorization;
 * CHOLMOD keeps none; a factor freed with one kept leaves nothing behind. */
START_TEST(kept_factor)
{
    int kind = _i ? FOLD_FACTOR_CHOLMOD : FOLD_FACTOR_UMFPACK;
    cholmod_common cm;
    fold_test_rng rng;
    fold_int n = 80, m = 30;
    trip t = {0};
    fold_la_factor *F = NULL;
    fold_la_factor_info info;
    ck_assert_status(fold_la_common_init(&cm), FOLD_OK);
    fold_test_rng_seed(&rng, 500 + (unsigned long long)_i);
    make_kkt(&t, &rng, n, m, H_SPD);
    fold_la_assembly *as = assemble(&t, n + m, 0, &cm);
    double *first = malloc((size_t)t.n * sizeof *first);
    memcpy(first, t.v, (size_t)t.n * sizeof *first);
    ck_assert_status(fold_la_factor_create_shared(as->A, kind, FOLD_ORDER_COLAMD, n, 1e-10, 1e-14,
                                                  1e-12, false, NULL, &cm, &F),
                     FOLD_OK);
    ck_assert(!fold_la_factor_has_kept(F));
    ck_assert(fold_la_factor_keep(F) == (kind == FOLD_FACTOR_UMFPACK));
    if (kind == FOLD_FACTOR_CHOLMOD) {
        ck_assert_status(fold_la_factor_restore(F), FOLD_ERR_ARGUMENT);
        check_solves(F, as->A, &rng, 1e-12); /* untouched */
    } else {
        ck_assert(fold_la_factor_has_kept(F));
        ck_assert(!fold_la_factor_keep(F)); /* one at a time */
        for (fold_int k = 0; k < t.n; k++)
            t.v[k] *= t.r[k] == t.c[k] ? 3.0 : 1.5;
        fold_la_assembly_fill(as, t.v);
        ck_assert_status(fold_la_factor_refactor(F, as->A), FOLD_OK);
        check_solves(F, as->A, &rng, 1e-12);
        fold_la_assembly_fill(as, first);
        ck_assert_status(fold_la_factor_restore(F), FOLD_OK);
        ck_assert(!fold_la_factor_has_kept(F));
        fold_la_factor_get_info(F, &info);
        ck_assert(info.reused_analysis);
        ck_assert_double_eq(info.factor_s, 0.0);
        ck_assert_int_eq(info.factorization, FOLD_FACTOR_UMFPACK);
        check_solves(F, as->A, &rng, 1e-12);
        ck_assert(fold_la_factor_keep(F)); /* freed below with one kept */
    }
    fold_la_factor_free(F);
    free(first);
    fold_la_assembly_free(as, &cm);
    trip_free(&t);
    fold_la_common_finish(&cm);
}
END_TEST

/* The process's OpenBLAS pool (beneath UMFPACK and CHOLMOD; scripts/deps.sh installs
 * libopenblas0, the system's libblas.so.3) follows fold_set_library_threads. */
START_TEST(library_threads)
{
    ck_assert_int_eq(fold_set_library_threads(0), FOLD_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(fold_last_error(), "n = 0"));
    ck_assert_int_gt(fold_library_threads(), 0);
    ck_assert_int_eq(fold_set_library_threads(2), FOLD_OK);
    ck_assert_int_eq(fold_library_threads(), 2);
    ck_assert_int_eq(fold_set_library_threads(1), FOLD_OK);
    ck_assert_int_eq(fold_library_threads(), 1);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("linalg");
    TCase *tc = tcase_create("linalg");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, assembly_full_matches_dense);
    tcase_add_test(tc, assembly_lower_mirrors);
    tcase_add_test(tc, assembly_bad_input);
    tcase_add_loop_test(tc, kkt_solves, 0, 18);
    tcase_add_loop_test(tc, refactor_reuses_analysis, 0, 3);
    tcase_add_test(tc, symmetry_check);
    tcase_add_loop_test(tc, shared_factor, 0, 3);
    tcase_add_loop_test(tc, blocked_solves, 0, 2);
    tcase_add_loop_test(tc, kept_factor, 0, 2);
    tcase_add_test(tc, library_threads);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
