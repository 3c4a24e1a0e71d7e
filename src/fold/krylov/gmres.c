/* Restarted GMRES(m), right-preconditioned (A M^{-1} y = b, x = M^{-1} y, so the residual
 * minimized is the true one), modified Gram-Schmidt with one reorthogonalization pass and
 * Givens rotations (doc/iterative.md §2.2). */
#include "fold/krylov/krylov.h"

typedef struct {
    fold_int n;
    int m;
    double *V; /* n x (m+1) Krylov basis */
    double *H; /* (m+1) x m Hessenberg, column-major */
    double *cs, *sn, *g, *y, *w, *z;
} gmres_work;

static void work_free(gmres_work *W)
{
    free(W->V);
    free(W->H);
    free(W->cs);
    free(W->sn);
    free(W->g);
    free(W->y);
    free(W->w);
    free(W->z);
}

static fold_status work_alloc(gmres_work *W, fold_int n, int m)
{
    memset(W, 0, sizeof *W);
    W->n = n;
    W->m = m;
    W->V = fold_malloc((size_t)n * (size_t)(m + 1), sizeof(double), "GMRES basis");
    W->H = fold_calloc((size_t)(m + 1) * (size_t)m, sizeof(double), "GMRES Hessenberg");
    W->cs = fold_malloc((size_t)m, sizeof(double), "GMRES rotations");
    W->sn = fold_malloc((size_t)m, sizeof(double), "GMRES rotations");
    W->g = fold_malloc((size_t)m + 1, sizeof(double), "GMRES rhs");
    W->y = fold_malloc((size_t)m, sizeof(double), "GMRES coefficients");
    W->w = fold_malloc((size_t)n, sizeof(double), "GMRES work");
    W->z = fold_malloc((size_t)n, sizeof(double), "GMRES work");
    if (!W->V || !W->H || !W->cs || !W->sn || !W->g || !W->y || !W->w || !W->z) {
        work_free(W);
        return FOLD_ERR_MEMORY;
    }
    return FOLD_OK;
}

/* x += M^{-1} V y for the first j basis vectors. */
static fold_status update_solution(gmres_work *W, const fold_kry_pc *M, bool transpose, int j,
                                   double *x)
{
    fold_int n = W->n;
    double *H = W->H;
    int ld = W->m + 1;
    for (int i = j - 1; i >= 0; i--) { /* back substitution with the triangular R */
        double s = W->g[i];
        for (int l = i + 1; l < j; l++)
            s -= H[i + (size_t)l * ld] * W->y[l];
        W->y[i] = s / H[i + (size_t)i * ld];
    }
    memset(W->w, 0, (size_t)n * sizeof(double));
    for (int i = 0; i < j; i++)
        fold_kry_axpy(n, W->y[i], W->V + (size_t)i * n, W->w);
    fold_status st = fold_kry_precond(M, transpose, n, W->w, W->z);
    if (st < 0) return st;
    fold_kry_axpy(n, 1.0, W->z, x);
    return FOLD_OK;
}

fold_status fold_kry_gmres(const fold_kry_op *A, const fold_kry_pc *M, const fold_kry_params *prm,
                           const double *b, double *x, fold_kry_result *res)
{
    fold_int n = A->n, it = 0;
    int m = prm->restart > 0 ? prm->restart : 30, ld;
    double bnorm = fold_kry_nrm2(n, b), beta, rel;
    gmres_work W;
    fold_status st;
    bool tr = prm->transpose;
    res->iterations = 0;
    res->reason = FOLD_REASON_CONVERGED;
    if (m > n) m = (int)n;
    if (bnorm == 0) {
        memset(x, 0, (size_t)n * sizeof *x);
        res->residual = 0;
        fold_kry_record(res, 0);
        return FOLD_OK;
    }
    if (work_alloc(&W, n, m) != FOLD_OK) return FOLD_ERR_MEMORY;
    ld = m + 1;
    for (;;) {
        /* (re)start: true residual */
        if ((st = fold_kry_residual(A, tr, b, x, W.V, &beta)) < 0) goto done;
        rel = beta / bnorm;
        res->residual = rel;
        if (it == 0) fold_kry_record(res, rel);
        if (!isfinite(rel)) {
            res->reason = FOLD_REASON_NAN;
            st = fold_error(FOLD_ERR_NONFINITE,
                            "GMRES: residual is not finite after %lld "
                            "iterations",
                            (long long)it);
            goto done;
        }
        if (rel <= prm->tol) break;
        if (it >= prm->max_iter) {
            res->reason = FOLD_REASON_MAX_ITER;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "GMRES(%d): relative residual %.3g > tol "
                            "%.3g after %lld iterations",
                            m, rel, prm->tol, (long long)it);
            goto done;
        }
        for (fold_int i = 0; i < n; i++)
            W.V[i] /= beta;
        memset(W.g, 0, (size_t)(m + 1) * sizeof(double));
        W.g[0] = beta;
        int j = 0;
        bool breakdown = false;
        while (j < m && it < prm->max_iter) {
            double *vj = W.V + (size_t)j * n, *vn = W.V + (size_t)(j + 1) * n, hn;
            double *h = W.H + (size_t)j * ld;
            if ((st = fold_kry_precond(M, tr, n, vj, W.z)) < 0) goto done;
            if ((st = A->apply(A->ctx, tr, W.z, vn)) < 0) goto done;
            double norm0 = fold_kry_nrm2(n, vn);
            for (int pass = 0; pass < 2; pass++) /* MGS, then one reorthogonalization */
                for (int i = 0; i <= j; i++) {
                    double c = fold_kry_dot(n, W.V + (size_t)i * n, vn);
                    h[i] = pass ? h[i] + c : c;
                    fold_kry_axpy(n, -c, W.V + (size_t)i * n, vn);
                }
            hn = fold_kry_nrm2(n, vn);
            h[j + 1] = hn;
            for (int i = 0; i < j; i++) { /* previous rotations */
                double t = W.cs[i] * h[i] + W.sn[i] * h[i + 1];
                h[i + 1] = -W.sn[i] * h[i] + W.cs[i] * h[i + 1];
                h[i] = t;
            }
            double den = hypot(h[j], h[j + 1]);
            if (den == 0 || !isfinite(den)) {
                breakdown = true;
                break;
            }
            W.cs[j] = h[j] / den;
            W.sn[j] = h[j + 1] / den;
            h[j] = den;
            h[j + 1] = 0;
            W.g[j + 1] = -W.sn[j] * W.g[j];
            W.g[j] = W.cs[j] * W.g[j];
            j++;
            it++;
            rel = fabs(W.g[j]) / bnorm;
            fold_kry_record(res, rel);
            /* happy breakdown: the Krylov space is invariant, the solution is exact */
            if (hn <= 1e-14 * norm0 || rel <= prm->tol) break;
            for (fold_int i = 0; i < n; i++)
                vn[i] /= hn;
        }
        if (j > 0 && (st = update_solution(&W, M, tr, j, x)) < 0) goto done;
        res->iterations = it;
        if (breakdown) {
            res->reason = FOLD_REASON_BREAKDOWN;
            st = fold_error(FOLD_ERR_NOT_CONVERGED,
                            "GMRES: breakdown (singular Hessenberg "
                            "matrix) at iteration %lld",
                            (long long)it);
            goto done;
        }
    }
    st = FOLD_OK;
done:
    res->iterations = it;
    work_free(&W);
    return st;
}
