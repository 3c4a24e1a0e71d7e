/* Conformance of the backward engine: every system x method x preconditioner combination
 * (the KKT fold in both forms, a general and a symmetric fold map) either agrees with the
 * direct solve and satisfies adjointness <J dp, zbar> = <dp, J' zbar>, or fails with a clear
 * error and leaves the outputs untouched; never a wrong result. The default preconditioner
 * (auto) serves every method the system admits (doc/math.md §3.9, doc/iterative.md §2). */
#include "../iterative/iter_fixtures.h"
#include "fold_test_util.h"

#define SENTINEL 7.25
#define AGREE_TOL 1e-7
#define ADJOINT_TOL 1e-8

enum { SYS_KKT_ACTIVE, SYS_KKT_BARRIER, SYS_MAP_GENERAL, SYS_MAP_SYMMETRIC, N_SYSTEMS };
static const char *sys_names[] = {"kkt-active", "kkt-barrier", "map-general", "map-symmetric"};
static const char *method_names[] = {"direct", "lfpi", "gmres", "minres", "bicgstab", "cg"};
static const char *pc_names[] = {"none", "jacobi", "block", "exact", "nearby", "auto"};

/* One system under test: a solver with a stored solution, or a fold map (and its nearby). */
typedef struct subject {
    int kind;
    fold_rp *rp;
    dense_map dm;
    fold_map *map, *nearby;
    fold_int *cp, *ri;
    double *vx;
    fold_int nz, np; /* result length of a jvp (dx, dlam for the KKT fold) and parameters */
    fold_int n, m;
} subject;

static fold_map *dense_fold_map(dense_map *dm, bool sym, const fold_csc *A)
{
    static const fold_int blocks[3] = {0, 20, 40};
    fold_map_def d = {.name = sym ? "symmetric" : "general",
                      .nz = dm->nz,
                      .np = dm->np,
                      .phi_v = dm_phi,
                      .phit_v = dm_phit,
                      .psi_v = dm_psi,
                      .psit_v = dm_psit,
                      .diag_phi = dm_diag,
                      .is_symmetric = sym,
                      .a_matrix = A,
                      .n_blocks = sym ? 2 : 0,
                      .block_ptr = sym ? blocks : NULL,
                      .user_data = dm};
    fold_map *map = NULL;
    ck_assert_status(fold_map_create(&d, &map), FOLD_OK);
    return map;
}

static void subject_init(subject *s, int kind)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (kind == SYS_KKT_ACTIVE || kind == SYS_KKT_BARRIER) {
        fold_rp_options o = {.n = 12, .m = 5, .np = 4, .nonlinear = true};
        ck_assert_status(fold_rp_create(4242, &o, &s->rp), FOLD_OK);
        fold_problem_dims(fold_rp_problem(s->rp), &s->n, &s->m, &s->np);
        s->nz = s->n + s->m;
        return;
    }
    bool sym = kind == SYS_MAP_SYMMETRIC;
    dense_map_init(&s->dm, 40, 5, 0.6, sym, 11 + (unsigned)sym);
    fold_csc A = {40, 40, NULL, NULL, NULL};
    if (sym) { /* the symmetric map also gives its matrix I - Phi */
        double *IA = calloc(40 * 40, sizeof(double));
        for (long k = 0; k < 40 * 40; k++)
            IA[k] = (k % 41 == 0 ? 1.0 : 0.0) - s->dm.phi[k];
        dense_to_csc(IA, 40, 40, &s->cp, &s->ri, &s->vx);
        free(IA);
        A.colptr = s->cp;
        A.rowind = s->ri;
        A.values = s->vx;
    }
    s->map = dense_fold_map(&s->dm, sym, sym ? &A : NULL);
    s->nearby = dense_fold_map(&s->dm, sym, sym ? &A : NULL); /* another instance: M = A */
    ck_assert_status(fold_map_set_nearby(s->map, s->nearby), FOLD_OK);
    s->nz = s->dm.nz;
    s->np = s->dm.np;
}

static void subject_free(subject *s)
{
    fold_rp_free(s->rp);
    fold_map_free(s->map);
    fold_map_free(s->nearby);
    if (s->kind >= SYS_MAP_GENERAL) dense_map_free(&s->dm);
    free(s->cp);
    free(s->ri);
    free(s->vx);
}

static fold_settings combo_settings(const subject *s, int method, int pc)
{
    fold_settings set = fold_test_tight_settings();
    set.backward.kkt_form = s->kind == SYS_KKT_BARRIER ? FOLD_KKT_BARRIER : FOLD_KKT_ACTIVE;
    set.backward.factorization = FOLD_FACTOR_UMFPACK;
    set.backward.method = method;
    set.precond.kind = pc;
    set.backward.tol = 1e-12;
    set.backward.max_iter = 4000;
    return set;
}

/* jvp: dz (nz: dx then dlam for the KKT fold); vjp: pbar from zbar (same layout). */
static fold_status run(const subject *s, const fold_settings *set, bool reverse, const double *in,
                       double *out, fold_backward_info *info)
{
    if (s->map)
        return reverse ? fold_map_vjp(s->map, set, in, out, info)
                       : fold_map_jvp(s->map, set, in, out, info);
    fold_solver *solver = fold_test_rp_solver(s->rp, set);
    fold_status st = reverse ? fold_vjp(solver, &(fold_zbar){.x = in, .lam = in + s->n}, out, info)
                             : fold_jvp(solver, in, &(fold_dz){.x = out, .lam = out + s->n}, info);
    fold_solver_free(solver);
    return st;
}

/* What auto must serve: every method but CG and MINRES on a nonsymmetric map and CG on the
 * indefinite KKT matrix. */
static bool auto_supported(int kind, int method)
{
    bool sym_method = method == FOLD_BACKWARD_MINRES || method == FOLD_BACKWARD_CG;
    if (kind == SYS_MAP_GENERAL) return !sym_method;
    if (kind == SYS_KKT_ACTIVE || kind == SYS_KKT_BARRIER) return method != FOLD_BACKWARD_CG;
    return true;
}

/* What auto picks: a map's own step (none: LFPI is the paper's iteration, no matrix formed);
 * the KKT map's factorization, or for MINRES an SPD block preconditioner. */
static int auto_expected(int kind, int method)
{
    if (kind >= SYS_MAP_GENERAL) return FOLD_PRECOND_NONE;
    return method == FOLD_BACKWARD_MINRES ? FOLD_PRECOND_BLOCK : FOLD_PRECOND_EXACT;
}

static double dot(const double *a, const double *b, fold_int n)
{
    double s = 0;
    for (fold_int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

START_TEST(every_combination)
{
    subject s;
    subject_init(&s, _i);
    fold_test_rng r;
    fold_test_rng_seed(&r, 77 + (unsigned)_i);
    double *dp = calloc((size_t)s.np, 8), *zbar = calloc((size_t)s.nz, 8);
    double *dz_ref = calloc((size_t)s.nz, 8), *pb_ref = calloc((size_t)s.np, 8);
    double *dz = calloc((size_t)s.nz, 8), *pb = calloc((size_t)s.np, 8);
    fold_test_fill_normal(&r, dp, s.np);
    fold_test_fill_normal(&r, zbar, s.nz);
    fold_settings set = combo_settings(&s, FOLD_BACKWARD_DIRECT, FOLD_PRECOND_AUTO);
    ck_assert_status(run(&s, &set, false, dp, dz_ref, NULL), FOLD_OK);
    ck_assert_status(run(&s, &set, true, zbar, pb_ref, NULL), FOLD_OK);
    int n_ok = 0, n_refused = 0;
    for (int method = FOLD_BACKWARD_DIRECT; method <= FOLD_BACKWARD_CG; method++)
        for (int pc = FOLD_PRECOND_NONE; pc <= FOLD_PRECOND_AUTO; pc++) {
            fold_backward_info info = FOLD_BACKWARD_INFO_INIT;
            fold_status st[2];
            set = combo_settings(&s, method, pc);
            for (fold_int i = 0; i < s.nz; i++)
                dz[i] = SENTINEL;
            for (fold_int i = 0; i < s.np; i++)
                pb[i] = SENTINEL;
            st[0] = run(&s, &set, false, dp, dz, &info);
            const char *why0 = st[0] < 0 ? fold_last_error() : "";
            ck_assert_msg(st[0] < 0 || (int)info.method == method, "%s %s/%s: info.method %d",
                          sys_names[_i], method_names[method], pc_names[pc], info.method);
            if (method != FOLD_BACKWARD_DIRECT && st[0] >= 0)
                ck_assert_msg(info.precond >= FOLD_PRECOND_NONE &&
                                  info.precond < FOLD_PRECOND_AUTO &&
                                  (pc == FOLD_PRECOND_AUTO || (int)info.precond == pc),
                              "%s %s/%s: info.precond %d", sys_names[_i], method_names[method],
                              pc_names[pc], info.precond);
            if (pc == FOLD_PRECOND_AUTO && method != FOLD_BACKWARD_DIRECT && st[0] >= 0)
                ck_assert_int_eq(info.precond, auto_expected(_i, method));
            if (pc == FOLD_PRECOND_AUTO && method == FOLD_BACKWARD_LFPI && _i == SYS_MAP_GENERAL) {
                /* the paper's iteration on a matrix-free map: nothing assembled or factored */
                ck_assert_int_gt(info.iterations, 5);
                ck_assert_int_eq(info.factor_nnz, 0);
            }
            char why[512];
            snprintf(why, sizeof why, "%s", why0);
            st[1] = run(&s, &set, true, zbar, pb, &info);
            for (int k = 0; k < 2; k++) {
                const double *got = k ? pb : dz, *ref = k ? pb_ref : dz_ref;
                fold_int len = k ? s.np : s.nz;
                if (st[k] < 0) { /* refused: a message naming it, nothing written */
                    const char *msg = k ? fold_last_error() : why;
                    ck_assert_msg(strlen(msg) > 20, "%s %s/%s: %s without a message", sys_names[_i],
                                  method_names[method], pc_names[pc], fold_status_name(st[k]));
                    for (fold_int i = 0; i < len; i++)
                        ck_assert_msg(got[i] == SENTINEL, "%s %s/%s: output written on error",
                                      sys_names[_i], method_names[method], pc_names[pc]);
                    continue;
                }
                double e = fold_test_vec_relerr(got, ref, len, 1.0);
                ck_assert_msg(e <= AGREE_TOL, "%s %s/%s %s: %s but differs from direct by %.3g",
                              sys_names[_i], method_names[method], pc_names[pc], k ? "vjp" : "jvp",
                              fold_status_name(st[k]), e);
            }
            if (st[0] >= 0 && st[1] >= 0) {
                double a = dot(dz, zbar, s.nz), b = dot(dp, pb, s.np);
                ck_assert_msg(fabs(a - b) <= ADJOINT_TOL * fmax(1.0, fabs(a)),
                              "%s %s/%s: adjointness %.15g vs %.15g", sys_names[_i],
                              method_names[method], pc_names[pc], a, b);
                n_ok++;
            } else {
                n_refused++;
            }
            if (pc == FOLD_PRECOND_AUTO && auto_supported(_i, method))
                ck_assert_msg(st[0] >= 0 && st[1] >= 0, "%s %s with auto: %s", sys_names[_i],
                              method_names[method], st[0] < 0 ? why : fold_last_error());
            fprintf(stderr, "# %-13s %-8s %-6s jvp %-22s vjp %s\n", sys_names[_i],
                    method_names[method], pc_names[pc], fold_status_name(st[0]),
                    fold_status_name(st[1]));
        }
    ck_assert_int_gt(n_ok, 0);
    ck_assert_int_eq(n_ok + n_refused, 36);
    free(dp);
    free(zbar);
    free(dz_ref);
    free(pb_ref);
    free(dz);
    free(pb);
    subject_free(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("backward_conformance");
    TCase *tc = tcase_create("conformance");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, every_combination, 0, N_SYSTEMS);
    suite_add_tcase(su, tc);
    return fold_test_run(su);
}
