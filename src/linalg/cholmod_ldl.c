/* CHOLMOD simplicial LDL' of the quasi-definite regularization
 * K = A + delta * diag(+1 on the first n_primal rows, -1 on the rest), lower triangle,
 * analyzed once; pivot signs checked against the quasi-definite inertia (doc/math.md §4.2,
 * eqs. 4.1, 4.2); the norm estimate of inv(K) for §4.6. */
#include "linalg/linalg_internal.h"

typedef struct {
    int supernodal, final_ll, final_asis, nmethods, postorder, ordering;
} ldl_saved;

/* The common may be shared with other CHOLMOD work: set LDL' parameters only around calls. */
static ldl_saved ldl_params_set(cholmod_common *cm, int ordering)
{
    ldl_saved s = {cm->supernodal, cm->final_ll,  cm->final_asis,
                   cm->nmethods,   cm->postorder, cm->method[0].ordering};
    cm->supernodal = CHOLMOD_SIMPLICIAL;
    cm->final_ll = 0;
    cm->final_asis = 1;
    cm->nmethods = 1;
    cm->postorder = 1;
    /* CHOLMOD_COLAMD on a symmetric matrix means AMD (COLAMD applies to A*A' only). */
    cm->method[0].ordering = ordering == FOLD_ORDER_METIS    ? CHOLMOD_METIS
                             : ordering == FOLD_ORDER_COLAMD ? CHOLMOD_COLAMD
                                                             : CHOLMOD_AMD;
    return s;
}

static void ldl_params_restore(cholmod_common *cm, ldl_saved s)
{
    cm->supernodal = s.supernodal;
    cm->final_ll = s.final_ll;
    cm->final_asis = s.final_asis;
    cm->nmethods = s.nmethods;
    cm->postorder = s.postorder;
    cm->method[0].ordering = s.ordering;
}

static fold_status cholmod_fail(cholmod_common *cm, const char *fn)
{
    fold_status st = cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY : FOLD_ERR_INTERNAL;
    return fold_error_context(st, "%s", fn);
}

fold_status fold_la_ldl_analyze(fold_la_ldl *l, const cholmod_sparse *A, fold_int n_primal,
                                double delta, int ordering, cholmod_common *cm)
{
    const fold_int *Ap = A->p, *Ai = A->i;
    fold_int n = (fold_int)A->ncol, nk = n;
    l->cm = cm;
    l->n_primal = n_primal;
    l->delta = delta;
    for (fold_int j = 0; j < n; j++)
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            nk += Ai[q] > j;
    l->work = fold_malloc(2 * (size_t)n, sizeof *l->work, "LDL' workspace");
    if (!l->work) return FOLD_ERR_MEMORY;
    l->K = cholmod_l_allocate_sparse((size_t)n, (size_t)n, (size_t)nk, 1, 1, -1, CHOLMOD_REAL, cm);
    if (!l->K) return cholmod_fail(cm, "fold_la_ldl_analyze: cholmod_l_allocate_sparse");
    /* Column j of K: the diagonal (always present, it carries +-delta), then A(i,j), i > j
     * (A is sorted: the tail of its column j). */
    fold_int *Kp = l->K->p, *Ki = l->K->i, pos = 0;
    for (fold_int j = 0; j < n; j++) {
        Kp[j] = pos;
        Ki[pos++] = j;
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            if (Ai[q] > j) Ki[pos++] = Ai[q];
    }
    Kp[n] = pos;
    ldl_saved saved = ldl_params_set(cm, ordering);
    l->L = cholmod_l_analyze(l->K, cm);
    ldl_params_restore(cm, saved);
    if (!l->L) return cholmod_fail(cm, "fold_la_ldl_analyze: cholmod_l_analyze");
    return FOLD_OK;
}

fold_status fold_la_ldl_factor(fold_la_ldl *l, const cholmod_sparse *A)
{
    cholmod_common *cm = l->cm;
    const fold_int *Ap = A->p, *Ai = A->i, *Kp = l->K->p;
    const double *Ax = A->x;
    fold_int n = (fold_int)A->ncol;
    double *Kx = l->K->x;
    /* K's column j is A's column j from the diagonal down, the diagonal shifted by +-delta
     * (fold_la_ldl_analyze built the same layout). */
    for (fold_int j = 0; j < n; j++) {
        fold_int pos = Kp[j];
        Kx[pos] = j < l->n_primal ? l->delta : -l->delta;
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            if (Ai[q] == j)
                Kx[Kp[j]] += Ax[q];
            else if (Ai[q] > j)
                Kx[++pos] = Ax[q];
    }
    ldl_saved saved = ldl_params_set(cm, FOLD_ORDER_AMD);
    int ok = cholmod_l_factorize(l->K, l->L, cm);
    ldl_params_restore(cm, saved);
    if (!ok || cm->status < 0) return cholmod_fail(cm, "fold_la_ldl_factor: cholmod_l_factorize");
    const fold_int *Lp = l->L->p, *Lnz = l->L->nz, *perm = l->L->Perm;
    const double *Lx = l->L->x;
    if (cm->status == CHOLMOD_NOT_POSDEF || l->L->minor < (size_t)n) {
        fold_int k = (fold_int)l->L->minor;
        return fold_error(FOLD_ERR_SINGULAR,
                          "fold_la_ldl_factor: zero pivot at step %lld (row %lld) of LDL' of "
                          "the regularized matrix (delta = %g)",
                          (long long)k, (long long)(k < n ? perm[k] : -1), l->delta);
    }
    /* Quasi-definite K: every primal pivot > 0 and every dual pivot < 0, whatever the
     * symmetric permutation. Another sign pattern means LDL' without pivoting is unsafe. */
    l->factor_nnz = 0;
    for (fold_int k = 0; k < n; k++) {
        double d = Lx[Lp[k]];
        fold_int r = perm[k];
        bool primal = r < l->n_primal;
        l->factor_nnz += Lnz[k];
        if (!isfinite(d) || d == 0.0)
            return fold_error(FOLD_ERR_SINGULAR, "fold_la_ldl_factor: pivot %lld (row %lld) is %g",
                              (long long)k, (long long)r, d);
        if (primal ? d < 0.0 : d > 0.0)
            return fold_error(FOLD_ERR_UNSUPPORTED,
                              "fold_la_ldl_factor: regularized matrix is not quasi-definite: "
                              "pivot %lld of %s row %lld is %g (expected %s)",
                              (long long)k, primal ? "primal" : "dual", (long long)r, d,
                              primal ? "> 0" : "< 0");
    }
    return FOLD_OK;
}

fold_status fold_la_ldl_solve(fold_la_ldl *l, fold_int nrhs, const double *B, double *X)
{
    cholmod_common *cm = l->cm;
    size_t n = l->K->nrow;
    cholmod_dense b = {.nrow = n,
                       .ncol = (size_t)nrhs,
                       .nzmax = n * (size_t)nrhs,
                       .d = n,
                       .x = (void *)B,
                       .z = NULL,
                       .xtype = CHOLMOD_REAL,
                       .dtype = CHOLMOD_DOUBLE};
    /* solve2 keeps its result and workspaces between calls (reallocated when nrhs changes). */
    if (!cholmod_l_solve2(CHOLMOD_A, l->L, &b, NULL, &l->X, NULL, &l->Y, &l->E, cm))
        return cholmod_fail(cm, "fold_la_ldl_solve: cholmod_l_solve2");
    memcpy(X, l->X->x, n * (size_t)nrhs * sizeof *X);
    return FOLD_OK;
}

void fold_la_ldl_free(fold_la_ldl *l)
{
    if (l->L) cholmod_l_free_factor(&l->L, l->cm);
    if (l->K) cholmod_l_free_sparse(&l->K, l->cm);
    if (l->X) cholmod_l_free_dense(&l->X, l->cm);
    if (l->Y) cholmod_l_free_dense(&l->Y, l->cm);
    if (l->E) cholmod_l_free_dense(&l->E, l->cm);
    free(l->work);
    memset(l, 0, sizeof *l);
}

/* Hager's estimate (with Higham's extra test vector) of ||inv(K)||_1; K is symmetric so
 * inv(K)' = inv(K). Five iterations at most, about ten solves. */
fold_status fold_la_ldl_inverse_norm1(fold_la_ldl *l, double *est)
{
    fold_int n = (fold_int)l->K->nrow, jmax = -1;
    double *x = l->work, *y = l->work + n, *z = y; /* y is spent when z is formed */
    fold_status st;
    *est = 0.0;
    /* Start from a fixed pseudo-random vector, not ones / n: a null vector of a singular A
     * such as e_i - e_j (two equal constraint rows) is orthogonal to ones. */
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (fold_int i = 0; i < n; i++) {
        double u = fold_la_lcg_unit(&seed);
        x[i] = (u < 0.5 ? -1.0 : 1.0) * (0.5 + u) / (double)n;
    }
    for (int it = 0; it < 5; it++) {
        if ((st = fold_la_ldl_solve(l, 1, x, y))) return st;
        double e = 0.0;
        for (fold_int i = 0; i < n; i++) {
            e += fabs(y[i]);
            x[i] = y[i] >= 0.0 ? 1.0 : -1.0;
        }
        if (it > 0 && e <= *est) break;
        *est = e;
        if ((st = fold_la_ldl_solve(l, 1, x, z))) return st;
        fold_int j = 0;
        for (fold_int i = 0; i < n; i++)
            if (fabs(z[i]) > fabs(z[j])) j = i;
        /* Converged when no unit vector beats the last one (z' x_prev = z[jmax]). */
        if (jmax >= 0 && (j == jmax || fabs(z[j]) <= z[jmax])) break;
        jmax = j;
        memset(x, 0, (size_t)n * sizeof *x);
        x[j] = 1.0;
    }
    for (fold_int i = 0; i < n; i++) /* Higham: x_i = (-1)^i (1 + i / (n - 1)) */
        x[i] = (i % 2 ? -1.0 : 1.0) * (1.0 + (n > 1 ? (double)i / (double)(n - 1) : 0.0));
    if ((st = fold_la_ldl_solve(l, 1, x, y))) return st;
    double e = 0.0;
    for (fold_int i = 0; i < n; i++)
        e += fabs(y[i]);
    *est = fmax(*est, 2.0 * e / (3.0 * (double)n));
    return FOLD_OK;
}
