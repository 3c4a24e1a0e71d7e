/* Fold-map backward solves: every iterative method and preconditioner against the direct
 * solve on random maps and KKT maps of small QPs; divergence, iteration limits, finite-
 * difference maps and bad input (doc/iterative.md §§1-3). */
#include "iter_fixtures.h"

static const int methods[] = {FOLD_BACKWARD_LFPI, FOLD_BACKWARD_GMRES, FOLD_BACKWARD_BICGSTAB,
                              FOLD_BACKWARD_MINRES, FOLD_BACKWARD_CG};

static fold_map *make_dense(dense_map *dm, bool sym, bool with_matrix, fold_int *cp, fold_int *ri,
                            double *vx)
{
    fold_csc A = {dm->nz, dm->nz, cp, ri, vx};
    fold_map_def d = dense_map_def(dm, "dense", sym);
    fold_map *map = NULL;
    d.diag_phi = dm_diag;
    d.a_matrix = with_matrix ? &A : NULL;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    return map;
}

/* Solve by every method (and a few preconditioners) and compare with the direct solve. */
static void check_all_methods(fold_map *map, long nz, long np, bool sym)
{
    fold_settings s;
    double *dp = malloc((size_t)np * sizeof(double)), *zbar = malloc((size_t)nz * sizeof(double));
    double *dz_ref = malloc((size_t)nz * sizeof(double)), *pb_ref = malloc((size_t)np * 8);
    double *dz = malloc((size_t)nz * sizeof(double)), *pb = malloc((size_t)np * 8);
    fold_test_rng r;
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_test_rng_seed(&r, 99);
    for (long i = 0; i < np; i++)
        dp[i] = fold_test_normal(&r);
    for (long i = 0; i < nz; i++)
        zbar[i] = fold_test_normal(&r);
    fold_settings_default(&s);
    ck_assert_status(fold_map_jvp(map, &s, dp, dz_ref, &info), FOLD_OK);
    ck_assert_int_eq(info.reason, FOLD_REASON_DIRECT);
    ck_assert(info.residual < 1e-12);
    ck_assert_status(fold_map_vjp(map, &s, zbar, pb_ref, NULL), FOLD_OK);
    /* adjoint identity <dz, zbar> = <dp, pbar> */
    double a = 0, b = 0;
    for (long i = 0; i < nz; i++)
        a += dz_ref[i] * zbar[i];
    for (long i = 0; i < np; i++)
        b += dp[i] * pb_ref[i];
    ck_assert_msg(fabs(a - b) <= 1e-10 * fmax(1, fabs(a)), "adjoint identity %g vs %g", a, b);
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        int pcs[] = {FOLD_PRECOND_NONE, FOLD_PRECOND_JACOBI, FOLD_PRECOND_EXACT};
        if (!sym && (methods[k] == FOLD_BACKWARD_MINRES || methods[k] == FOLD_BACKWARD_CG))
            continue;
        for (int q = 0; q < 3; q++) {
            s.backward.method = methods[k];
            s.precond.kind = pcs[q];
            s.backward.tol = 1e-12;
            s.backward.max_iter = 2000;
            if ((methods[k] == FOLD_BACKWARD_MINRES || methods[k] == FOLD_BACKWARD_CG) &&
                pcs[q] == FOLD_PRECOND_EXACT)
                continue; /* LU of I - Phi is not symmetric positive definite in general */
            ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_OK);
            ck_assert_msg(fold_test_vec_relerr(dz, dz_ref, nz, 0) < 1e-9,
                          "method %d precond %d: jvp error %g", methods[k], pcs[q],
                          fold_test_vec_relerr(dz, dz_ref, nz, 0));
            ck_assert_int_eq(info.reason, FOLD_REASON_CONVERGED);
            ck_assert(info.residual <= 1e-12);
            ck_assert_status(fold_map_vjp(map, &s, zbar, pb, &info), FOLD_OK);
            ck_assert_msg(fold_test_vec_relerr(pb, pb_ref, np, 0) < 1e-9,
                          "method %d precond %d: vjp error %g", methods[k], pcs[q],
                          fold_test_vec_relerr(pb, pb_ref, np, 0));
            fold_int count = 0;
            ck_assert_status(fold_map_residual_history(map, NULL, 0, &count), FOLD_OK);
            ck_assert_int_ge(count, info.iterations);
        }
    }
    free(dp);
    free(zbar);
    free(dz_ref);
    free(pb_ref);
    free(dz);
    free(pb);
}

START_TEST(random_maps_all_methods)
{
    for (int sym = 0; sym < 2; sym++) {
        dense_map dm;
        dense_map_init(&dm, 40, 5, 0.6, sym, 7 + (unsigned)sym);
        /* symmetric case: also force I - Phi SPD for CG: rho = 0.6 < 1 */
        fold_map *map = make_dense(&dm, sym, false, NULL, NULL, NULL);
        check_all_methods(map, dm.nz, dm.np, sym);
        fold_map_free(map);
        dense_map_free(&dm);
    }
}
END_TEST

/* KKT map of an equality-constrained QP: I - Phi = K = [Q A'; A 0] (M = I), Psi = -dF/dp. */
typedef struct kkt_fixture {
    long n, m, np;
    double *K, *Psi;
    fold_int *cp, *ri, *pcp, *pri;
    double *vx, *pvx;
} kkt_fixture;

static void kkt_init(kkt_fixture *f, long n, long m, long np, double shift, unsigned seed)
{
    qp P;
    fold_test_rng r;
    long N = n + m;
    qp_init(&P, n, np, 10, seed);
    fold_test_rng_seed(&r, seed + 1);
    f->n = n;
    f->m = m;
    f->np = np;
    f->K = calloc((size_t)(N * N), sizeof(double));
    f->Psi = calloc((size_t)(N * np), sizeof(double));
    for (long j = 0; j < n; j++)
        for (long i = 0; i < n; i++)
            f->K[i + j * N] = P.Q[i + j * n] + (i == j ? shift : 0);
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            double a = fold_test_normal(&r);
            f->K[n + i + j * N] = a;
            f->K[j + (n + i) * N] = a;
        }
    for (long j = 0; j < np; j++) {
        for (long i = 0; i < n; i++)
            f->Psi[i + j * N] = -P.B[i + j * n];
        for (long i = 0; i < m; i++)
            f->Psi[n + i + j * N] = fold_test_normal(&r);
    }
    dense_to_csc(f->K, N, N, &f->cp, &f->ri, &f->vx);
    dense_to_csc(f->Psi, N, np, &f->pcp, &f->pri, &f->pvx);
    qp_free(&P);
}

static void kkt_free(kkt_fixture *f)
{
    free(f->K);
    free(f->Psi);
    free(f->cp);
    free(f->ri);
    free(f->vx);
    free(f->pcp);
    free(f->pri);
    free(f->pvx);
}

static fold_map *kkt_map(kkt_fixture *f, const fold_int *block_ptr)
{
    long N = f->n + f->m;
    fold_csc A = {N, N, f->cp, f->ri, f->vx}, Psi = {N, f->np, f->pcp, f->pri, f->pvx};
    fold_map_def d = {0};
    fold_map *map = NULL;
    d.name = "kkt";
    d.nz = N;
    d.np = f->np;
    d.a_matrix = &A;
    d.psi_matrix = &Psi;
    d.is_symmetric = true;
    d.n_blocks = block_ptr ? 2 : 0;
    d.block_ptr = block_ptr;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    return map;
}

START_TEST(kkt_maps_of_small_qps)
{
    kkt_fixture f, g;
    long n = 12, m = 4, N = n + m;
    fold_int bp[3] = {0, 12, 16};
    fold_settings s;
    double dp[3] = {0.3, -1.0, 0.7}, dz_ref[16], dz[16], zbar[16], pb_ref[3], pb[3];
    kkt_init(&f, n, m, 3, 0.0, 21);
    kkt_init(&g, n, m, 3, 0.3, 21); /* same pattern, nearby values: Q + 0.3 I */
    fold_map *map = kkt_map(&f, bp), *near = kkt_map(&g, NULL);
    for (long i = 0; i < N; i++)
        zbar[i] = sin((double)i + 1);
    fold_settings_default(&s);
    ck_assert_status(fold_map_jvp(map, &s, dp, dz_ref, NULL), FOLD_OK);
    ck_assert_status(fold_map_vjp(map, &s, zbar, pb_ref, NULL), FOLD_OK);
    s.backward.tol = 1e-12;
    /* Krylov methods without preconditioning (K is indefinite: MINRES, GMRES, BiCGSTAB) */
    int ms[] = {FOLD_BACKWARD_GMRES, FOLD_BACKWARD_MINRES, FOLD_BACKWARD_BICGSTAB};
    for (int k = 0; k < 3; k++) {
        s.backward.method = ms[k];
        s.precond.kind = FOLD_PRECOND_NONE;
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_OK);
        ck_assert_msg(fold_test_vec_relerr(dz, dz_ref, N, 0) < 1e-9, "method %d", ms[k]);
        ck_assert_status(fold_map_vjp(map, &s, zbar, pb, NULL), FOLD_OK);
        ck_assert(fold_test_vec_relerr(pb, pb_ref, 3, 0) < 1e-9);
    }
    /* LFPI = Richardson with the factorization of the nearby instance as M */
    ck_assert_status(fold_map_set_nearby(map, near), FOLD_OK);
    s.precond.kind = FOLD_PRECOND_NEARBY;
    for (int k = 0; k < 3; k++) {
        s.backward.method = k == 0   ? FOLD_BACKWARD_LFPI
                            : k == 1 ? FOLD_BACKWARD_GMRES
                                     : FOLD_BACKWARD_BICGSTAB;
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_OK);
        ck_assert_msg(fold_test_vec_relerr(dz, dz_ref, N, 0) < 1e-9, "nearby method %d", k);
        ck_assert_status(fold_map_vjp(map, &s, zbar, pb, NULL), FOLD_OK);
        ck_assert(fold_test_vec_relerr(pb, pb_ref, 3, 0) < 1e-9);
    }
    /* block-diagonal preconditioner: the zero (2,2) block is singular and says so */
    s.backward.method = FOLD_BACKWARD_GMRES;
    s.precond.kind = FOLD_PRECOND_BLOCK;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_ERR_SINGULAR);
    ck_assert_error_mentions("block 1");
    /* CG refuses nothing structurally, but K is indefinite: breakdown or convergence only */
    fold_map_free(map);
    fold_map_free(near);
    kkt_free(&f);
    kkt_free(&g);
}
END_TEST

START_TEST(block_preconditioner_spd)
{
    dense_map dm;
    fold_int *cp, *ri, bp[4] = {0, 10, 25, 40};
    double *vx, *A, dp[5] = {1, 2, 3, 4, 5}, ref[40], dz[40];
    fold_settings s;
    fold_map_def d = {0};
    fold_map *map;
    dense_map_init(&dm, 40, 5, 0.5, true, 3);
    A = malloc(40 * 40 * sizeof(double));
    for (int j = 0; j < 40; j++)
        for (int i = 0; i < 40; i++)
            A[i + j * 40] = (i == j) - dm.phi[i + j * 40];
    dense_to_csc(A, 40, 40, &cp, &ri, &vx);
    fold_csc M = {40, 40, cp, ri, vx};
    d.nz = 40;
    d.np = 5;
    d.a_matrix = &M;
    d.psi_v = dm_psi;
    d.psit_v = dm_psit;
    d.is_symmetric = true;
    d.n_blocks = 3;
    d.block_ptr = bp;
    d.user_data = &dm;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    fold_settings_default(&s);
    ck_assert_status(fold_map_jvp(map, &s, dp, ref, NULL), FOLD_OK);
    s.precond.kind = FOLD_PRECOND_BLOCK;
    s.backward.tol = 1e-12;
    int ms[] = {FOLD_BACKWARD_CG, FOLD_BACKWARD_MINRES, FOLD_BACKWARD_GMRES, FOLD_BACKWARD_LFPI};
    for (int k = 0; k < 4; k++) {
        s.backward.method = ms[k];
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_OK);
        ck_assert_msg(fold_test_vec_relerr(dz, ref, 40, 0) < 1e-9, "method %d", ms[k]);
    }
    fold_map_free(map);
    dense_map_free(&dm);
    free(A);
    free(cp);
    free(ri);
    free(vx);
}
END_TEST

START_TEST(divergence_and_limits)
{
    dense_map dm;
    fold_settings s;
    double dp[3] = {1, -1, 2}, dz[20], pb[3];
    fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
    fold_map *map;
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_LFPI;
    s.precond.kind = FOLD_PRECOND_NONE;
    for (int c = 0; c < 2; c++) { /* Phi = 1.5 I (rho > 1), Phi = -I (rho = 1) */
        dense_map_init(&dm, 20, 3, 1.0, false, 5);
        for (int j = 0; j < 20; j++)
            for (int i = 0; i < 20; i++)
                dm.phi[i + j * 20] = i == j ? (c == 0 ? 1.5 : -1.0) : 0.0;
        map = make_dense(&dm, false, false, NULL, NULL, NULL);
        for (int i = 0; i < 20; i++)
            dz[i] = 42;
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, &info), FOLD_ERR_DIVERGED);
        ck_assert_int_eq(info.reason, FOLD_REASON_DIVERGED);
        ck_assert_error_mentions("spectral radius");
        for (int i = 0; i < 20; i++)
            ck_assert_double_eq(dz[i], 42); /* nothing written */
        /* GMRES solves it (I - Phi is nonsingular) */
        s.backward.method = FOLD_BACKWARD_GMRES;
        ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_OK);
        s.backward.method = FOLD_BACKWARD_LFPI;
        fold_map_free(map);
        dense_map_free(&dm);
    }
    /* iteration limit: not converged, output untouched */
    dense_map_init(&dm, 20, 3, 0.95, false, 6);
    map = make_dense(&dm, false, false, NULL, NULL, NULL);
    s.backward.max_iter = 3;
    pb[0] = pb[1] = pb[2] = 7;
    ck_assert_status(fold_map_vjp(map, &s, dz, pb, &info), FOLD_ERR_NOT_CONVERGED);
    ck_assert_int_eq(info.reason, FOLD_REASON_MAX_ITER);
    ck_assert_int_eq(info.iterations, 3);
    ck_assert_double_eq(pb[0], 7);
    s.backward.method = FOLD_BACKWARD_GMRES;
    ck_assert_status(fold_map_vjp(map, &s, dz, pb, &info), FOLD_ERR_NOT_CONVERGED);
    ck_assert_error_mentions("GMRES");
    fold_map_free(map);
    dense_map_free(&dm);
}
END_TEST

/* U(z, p) = 0.5 tanh(z) + W p + c: nonlinear, with analytic Phi = 0.5 diag(sech^2 z). */
typedef struct fd_fix {
    double W[6 * 2], z[6];
} fd_fix;
static int fd_update(const double *z, const double *p, double *out, void *ud)
{
    fd_fix *f = ud;
    for (int i = 0; i < 6; i++)
        out[i] = 0.5 * tanh(z[i]) + f->W[i] * p[0] + f->W[i + 6] * p[1] + 0.1;
    return 0;
}
static int fd_phi(const double *v, double *out, void *ud)
{
    fd_fix *f = ud;
    for (int i = 0; i < 6; i++)
        out[i] = 0.5 * v[i] / (cosh(f->z[i]) * cosh(f->z[i]));
    return 0;
}
static int fd_psi(const double *dp, double *out, void *ud)
{
    fd_fix *f = ud;
    for (int i = 0; i < 6; i++)
        out[i] = f->W[i] * dp[0] + f->W[i + 6] * dp[1];
    return 0;
}

START_TEST(finite_difference_maps)
{
    fd_fix f;
    double p[2] = {0.4, -0.8}, dp[2] = {1.0, 0.5}, ref[6], dz[6], zbar[6] = {1}, pb[2];
    fold_settings s;
    fold_map_def d = {0};
    fold_map *exact, *fd;
    for (int i = 0; i < 12; i++)
        f.W[i] = sin(1.0 + i);
    for (int i = 0; i < 6; i++)
        f.z[i] = 0.3 * i - 0.7; /* any point: the products are what is tested */
    d.nz = 6;
    d.np = 2;
    d.z = f.z;
    d.p = p;
    d.phi_v = fd_phi;
    d.psi_v = fd_psi;
    d.user_data = &f;
    ck_assert_status(fold_map_create(&d, &exact), FOLD_OK);
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_GMRES;
    s.precond.kind = FOLD_PRECOND_NONE;
    s.backward.tol = 1e-13;
    ck_assert_status(fold_map_jvp(exact, &s, dp, ref, NULL), FOLD_OK);
    d.phi_v = NULL;
    d.psi_v = NULL;
    d.update = fd_update;
    for (int scheme = 0; scheme < 2; scheme++) {
        d.fd_scheme = scheme;
        ck_assert_status(fold_map_create(&d, &fd), FOLD_OK);
        ck_assert_status(fold_map_jvp(fd, &s, dp, dz, NULL), FOLD_OK);
        double err = fold_test_vec_relerr(dz, ref, 6, 1.0);
        /* documented bounds (doc/iterative.md §3): central 1e-8, forward 1e-6 */
        ck_assert_msg(err < (scheme == 0 ? 1e-8 : 1e-6), "scheme %d: error %g", scheme, err);
        ck_assert_msg(err > 0, "FD result identical to the analytic one is suspicious");
        ck_assert_status(fold_map_vjp(fd, &s, zbar, pb, NULL), FOLD_ERR_UNSUPPORTED);
        ck_assert_error_mentions("finite differences");
        fold_map_free(fd);
    }
    fold_map_free(exact);
}
END_TEST

START_TEST(bad_input)
{
    dense_map dm;
    fold_map_def d = {0};
    fold_map *map = NULL;
    fold_settings s;
    double dp[3] = {1, 2, 3}, dz[10] = {0}, z[10] = {0};
    fold_int cp[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 8}, ri[9] = {0, 1, 2, 3, 4, 5, 6, 7, 7};
    double vx[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    dense_map_init(&dm, 10, 3, 0.5, false, 8);
    ck_assert_status(fold_map_create(NULL, &map), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("def");
    d.nz = 0;
    d.np = 3;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_DIMENSION);
    d.nz = 10;
    d.psi_v = dm_psi;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("Phi");
    d.phi_v = dm_phi;
    d.psi_v = NULL;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("Psi");
    d.psi_v = dm_psi;
    z[4] = NAN;
    d.z = z;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("z[4]");
    d.z = NULL;
    fold_csc A = {10, 9, cp, ri, vx};
    d.a_matrix = &A;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_DIMENSION);
    ck_assert_error_mentions("a_matrix");
    A.ncol = 10;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_SPARSITY);
    ck_assert_error_mentions("a_matrix.colptr[10]");
    d.a_matrix = NULL;
    fold_int bp[3] = {0, 5, 9};
    d.n_blocks = 2;
    d.block_ptr = bp;
    ck_assert_status(fold_map_create(&d, &map), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("block_ptr");
    d.n_blocks = 0;
    d.user_data = &dm;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_GMRES;
    s.backward.restart = 0;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_ERR_SETTING);
    ck_assert_error_mentions("backward.restart");
    s.backward.restart = 20;
    dp[1] = NAN;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("dp[1]");
    dp[1] = 2;
    ck_assert_status(fold_map_jvp(map, &s, NULL, dz, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_map_jvp(NULL, &s, dp, dz, NULL), FOLD_ERR_ARGUMENT);
    s.backward.method = FOLD_BACKWARD_MINRES;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("symmetric");
    s.backward.method = FOLD_BACKWARD_GMRES;
    ck_assert_status(fold_map_vjp(map, &s, dz, dp, NULL), FOLD_ERR_UNSUPPORTED);
    ck_assert_error_mentions("Phi' v");
    s.precond.kind = FOLD_PRECOND_NEARBY;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_ERR_SETTING);
    ck_assert_error_mentions("nearby");
    s.precond.kind = FOLD_PRECOND_BLOCK;
    ck_assert_status(fold_map_jvp(map, &s, dp, dz, NULL), FOLD_ERR_SETTING);
    ck_assert_status(fold_map_set_nearby(map, map), FOLD_ERR_ARGUMENT);
    fold_map_free(map);
    fold_map_free(NULL);
    dense_map_free(&dm);
}
END_TEST

START_TEST(jacobian_matches_jvps)
{
    dense_map dm;
    double J[30 * 4], dz[30], e[4] = {0};
    fold_settings s;
    fold_map *map;
    dense_map_init(&dm, 30, 4, 0.7, false, 12);
    map = make_dense(&dm, false, false, NULL, NULL, NULL);
    fold_settings_default(&s);
    s.backward.method = FOLD_BACKWARD_BICGSTAB;
    s.backward.tol = 1e-12;
    ck_assert_status(fold_map_jacobian(map, &s, J, NULL), FOLD_OK);
    s.backward.method = FOLD_BACKWARD_DIRECT;
    for (int k = 0; k < 4; k++) {
        e[k] = 1;
        ck_assert_status(fold_map_jvp(map, &s, e, dz, NULL), FOLD_OK);
        e[k] = 0;
        ck_assert(fold_test_vec_relerr(J + 30 * k, dz, 30, 0) < 1e-9);
    }
    fold_map_free(map);
    dense_map_free(&dm);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("map_solvers");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, random_maps_all_methods);
    tcase_add_test(tc, kkt_maps_of_small_qps);
    tcase_add_test(tc, block_preconditioner_spd);
    tcase_add_test(tc, divergence_and_limits);
    tcase_add_test(tc, finite_difference_maps);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, jacobian_matches_jvps);
    suite_add_tcase(suite, tc);
    return fold_test_run(suite);
}
