/* SQP-type update step of the portfolio layer as a fold map: U(z) = z - M^{-1} F(z; c) on the
 * KKT residual F at the active set, M = [B J'; J 0] with B a diagonal Hessian approximation;
 * I - Phi = M^{-1} dF/dz, so every M gives the KKT fold's derivative (doc/learning.md §4.2,
 * doc/math.md §1.1, doc/iterative.md §6). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learning/tasks.h"

/* The step at the solution: z = (x_F, lam_A), K = [H_FF J_AF'; J_AF 0] with
 * H = 0.2 I + 2 lam_0 S, J row 0 = 2 (S x)', row 1 = 1'. */
typedef struct pf_step {
    fold_int n, nf, na, nz;
    const double *S;
    double lam0;
    fold_int *free_idx;  /* F: free assets */
    int act[2];          /* A: active constraint indices */
    double *H;           /* H_FF, nf x nf row-major */
    double *J;           /* J_AF, na x nf row-major */
    double *B;           /* diagonal Hessian approximation (nf) */
    double Sc[4];        /* inverse of the Schur complement J B^{-1} J' (na x na) */
    double *t1, *t2;     /* work (nz) */
} pf_step;

/* out = K v (K symmetric). */
static void k_apply(const pf_step *s, const double *v, double *out)
{
    fold_int nf = s->nf;
    for (fold_int i = 0; i < nf; i++) {
        double a = 0;
        for (fold_int j = 0; j < nf; j++)
            a += s->H[i * nf + j] * v[j];
        for (fold_int r = 0; r < s->na; r++)
            a += s->J[r * nf + i] * v[nf + r];
        out[i] = a;
    }
    for (fold_int r = 0; r < s->na; r++) {
        double a = 0;
        for (fold_int j = 0; j < nf; j++)
            a += s->J[r * nf + j] * v[j];
        out[nf + r] = a;
    }
}

/* out = M^{-1} v, M = [B J'; J 0] (symmetric): b = Sc (J B^{-1} r - s), a = B^{-1}(r - J'b). */
static void m_solve(const pf_step *s, const double *v, double *out)
{
    fold_int nf = s->nf, na = s->na;
    double rhs[2] = {0, 0}, b[2] = {0, 0};
    for (fold_int r = 0; r < na; r++) {
        for (fold_int j = 0; j < nf; j++)
            rhs[r] += s->J[r * nf + j] * v[j] / s->B[j];
        rhs[r] -= v[nf + r];
    }
    for (fold_int r = 0; r < na; r++)
        for (fold_int q = 0; q < na; q++)
            b[r] += s->Sc[r * 2 + q] * rhs[q];
    for (fold_int j = 0; j < nf; j++) {
        double a = v[j];
        for (fold_int r = 0; r < na; r++)
            a -= s->J[r * nf + j] * b[r];
        out[j] = a / s->B[j];
    }
    for (fold_int r = 0; r < na; r++)
        out[nf + r] = b[r];
}

/* Phi v = v - M^{-1} K v. */
static int phi_v(const double *v, double *out, void *ud)
{
    pf_step *s = ud;
    k_apply(s, v, s->t1);
    m_solve(s, s->t1, out);
    for (fold_int k = 0; k < s->nz; k++)
        out[k] = v[k] - out[k];
    return 0;
}

/* Phi' v = v - K M^{-1} v. */
static int phit_v(const double *v, double *out, void *ud)
{
    pf_step *s = ud;
    m_solve(s, v, s->t1);
    k_apply(s, s->t1, out);
    for (fold_int k = 0; k < s->nz; k++)
        out[k] = v[k] - out[k];
    return 0;
}

/* Psi dc = -M^{-1} dF/dc dc = M^{-1} [dc_F; 0]. */
static int psi_v(const double *dc, double *out, void *ud)
{
    pf_step *s = ud;
    memset(s->t1, 0, (size_t)s->nz * sizeof(double));
    for (fold_int j = 0; j < s->nf; j++)
        s->t1[j] = dc[s->free_idx[j]];
    m_solve(s, s->t1, out);
    return 0;
}

/* Psi' w = [E_F' 0] M^{-1} w: the x-part of M^{-1} w scattered to the free assets. */
static int psit_v(const double *w, double *out, void *ud)
{
    pf_step *s = ud;
    m_solve(s, w, s->t2);
    memset(out, 0, (size_t)s->n * sizeof(double));
    for (fold_int j = 0; j < s->nf; j++)
        out[s->free_idx[j]] = s->t2[j];
    return 0;
}

static void step_free(pf_step *s)
{
    free(s->free_idx);
    free(s->H);
    free(s->J);
    free(s->B);
    free(s->t1);
    free(s->t2);
}

/* Active set as the KKT fold classifies it with weak_policy = inactive: an item is active
 * when its multiplier exceeds dual_tol * max(1, largest multiplier) (math.md (3.2a)). */
static fold_status step_build(pf_step *s, const learn_pf_point *pt, int hessian, double scale)
{
    fold_int n = pt->n, nf = 0;
    double gersh_max = 0, big = fmax(1.0, fmax(fabs(pt->lam[0]), fabs(pt->lam[1]))), dtol;
    for (fold_int j = 0; j < n; j++)
        big = fmax(big, fabs(pt->zl[j]));
    dtol = pt->dual_tol * big;
    memset(s, 0, sizeof *s);
    s->n = n;
    s->S = pt->S;
    s->lam0 = pt->lam[0];
    for (int r = 0; r < 2; r++)
        if (pt->lam[r] > dtol)
            s->act[s->na++] = r;
    s->free_idx = malloc((size_t)n * sizeof *s->free_idx);
    if (!s->free_idx)
        return learn_error(FOLD_ERR_MEMORY, "vjp: portfolio step: index");
    for (fold_int j = 0; j < n; j++)
        if (!(pt->zl[j] > dtol))
            s->free_idx[nf++] = j;
    s->nf = nf;
    s->nz = nf + s->na;
    if (s->nz == 0)
        return FOLD_OK;
    s->H = malloc((size_t)(nf * nf + 1) * sizeof(double));
    s->J = malloc((size_t)(2 * nf + 1) * sizeof(double));
    s->B = malloc((size_t)(nf + 1) * sizeof(double));
    s->t1 = malloc((size_t)s->nz * sizeof(double));
    s->t2 = malloc((size_t)s->nz * sizeof(double));
    if (!s->H || !s->J || !s->B || !s->t1 || !s->t2)
        return learn_error(FOLD_ERR_MEMORY, "vjp: portfolio step: %lld free assets",
                           (long long)nf);
    for (fold_int i = 0; i < nf; i++) {
        const double *Si = pt->S + s->free_idx[i] * n;
        double sx = 0, row = 0;
        for (fold_int j = 0; j < n; j++)
            sx += Si[j] * pt->x[j];
        for (fold_int j = 0; j < nf; j++) {
            double h = 2 * s->lam0 * Si[s->free_idx[j]] + (i == j ? 0.2 : 0);
            s->H[i * nf + j] = h;
            row += fabs(h);
        }
        for (fold_int r = 0; r < s->na; r++)
            s->J[r * nf + i] = s->act[r] == 0 ? 2 * sx : 1;
        s->B[i] = row; /* Gershgorin: diag(B) - H is diagonally dominant, so B >= H */
        gersh_max = fmax(gersh_max, row);
    }
    for (fold_int i = 0; i < nf; i++)
        s->B[i] = scale * (hessian == LEARN_STEP_DIAGONAL ? s->B[i] : gersh_max);
    if (s->na > 0) {
        double A[4] = {0, 0, 0, 0}, det;
        for (fold_int r = 0; r < s->na; r++)
            for (fold_int q = 0; q < s->na; q++)
                for (fold_int j = 0; j < nf; j++)
                    A[r * 2 + q] += s->J[r * nf + j] * s->J[q * nf + j] / s->B[j];
        det = s->na == 1 ? A[0] : A[0] * A[3] - A[1] * A[2];
        if (!(fabs(det) > 1e-14 * (s->na == 1 ? fabs(A[0]) : fabs(A[0] * A[3]))) ||
            !isfinite(det))
            return learn_error(FOLD_ERR_SINGULAR, "vjp: portfolio step: active constraint "
                               "gradients are dependent on the %lld free assets (Schur "
                               "determinant %g)", (long long)nf, det);
        if (s->na == 1) {
            s->Sc[0] = 1 / det;
        } else {
            s->Sc[0] = A[3] / det;
            s->Sc[1] = -A[1] / det;
            s->Sc[2] = -A[2] / det;
            s->Sc[3] = A[0] / det;
        }
    }
    return FOLD_OK;
}

fold_status learn_pf_step_vjp(const learn_pf_point *pt, const double *xbar, int method,
                              int hessian, double scale, double *cbar, fold_int *iterations)
{
    pf_step s;
    fold_map *map = NULL;
    fold_settings set;
    fold_backward_info info;
    double *zbar = NULL;
    fold_status st;
    if (iterations)
        *iterations = 0;
    if ((hessian != LEARN_STEP_IDENTITY && hessian != LEARN_STEP_DIAGONAL) || !(scale > 0.5) ||
        !isfinite(scale))
        return learn_error(FOLD_ERR_ARGUMENT, "vjp: portfolio step: hessian = %d, scale = %g "
                           "(need identity or diagonal, scale > 0.5)", hessian, scale);
    st = step_build(&s, pt, hessian, scale);
    if (st == FOLD_OK && s.nz == 0) { /* every asset at its bound: the solution is locally fixed */
        memset(cbar, 0, (size_t)pt->n * sizeof *cbar);
        step_free(&s);
        return FOLD_OK;
    }
    if (st == FOLD_OK && !(zbar = calloc((size_t)s.nz, sizeof *zbar)))
        st = learn_error(FOLD_ERR_MEMORY, "vjp: portfolio step: zbar");
    if (st == FOLD_OK) {
        fold_map_def def = {.name = "portfolio SQP step", .nz = s.nz, .np = pt->n,
                            .phi_v = phi_v, .phit_v = phit_v, .psi_v = psi_v,
                            .psit_v = psit_v, .user_data = &s};
        for (fold_int j = 0; j < s.nf; j++)
            zbar[j] = xbar[s.free_idx[j]];
        fold_settings_default(&set);
        set.backward.method = method == LEARN_BACKWARD_GMRES ? FOLD_BACKWARD_GMRES
                                                             : FOLD_BACKWARD_LFPI;
        set.backward.tol = 1e-12;
        set.backward.max_iter = 200000;
        set.backward.restart = 50;
        set.precond.kind = FOLD_PRECOND_NONE;
        st = fold_map_create(&def, &map);
        if (st == FOLD_OK)
            st = fold_map_vjp(map, &set, zbar, cbar, &info);
        if (st < 0)
            st = learn_error(st, "vjp: portfolio step (%s): %s",
                             method == LEARN_BACKWARD_GMRES ? "gmres" : "lfpi",
                             fold_last_error());
        else if (iterations)
            *iterations = info.iterations;
    }
    fold_map_free(map);
    free(zbar);
    step_free(&s);
    return st < 0 ? st : FOLD_OK;
}
