/* Convex sets with exact Euclidean projections and their Jacobians (almost everywhere):
 * box and orthant (0/1 diagonal), simplex (sort-based threshold; J = D - d d'/|S|), l2 ball
 * (radial scaling), affine set (CHOLMOD factorization of A A'). doc/iterative.md §4.1. */
#include "forward/iterative/iter_internal.h"

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

void fold_iter_set_free(fold_iter_set *S)
{
    if (!S) return;
    free(S->lower);
    free(S->upper);
    free(S->center);
    free(S->b);
    free(S->work);
    free(S->work_n);
    if (S->cm_started) {
        fold_la_sparse_free(&S->A, &S->cm);
        fold_la_chol_free(S->L);
        fold_la_common_finish(&S->cm);
    }
    free(S);
}

static fold_status affine_setup(fold_iter_set *S, const fold_set *set, const char *fn)
{
    fold_status st;
    if ((st = fold_check_not_null(set->A, fn, "set.A")) < 0 ||
        (st = fold_check_not_null(set->b, fn, "set.b")) < 0)
        return st;
    if (set->A->ncol != S->n || set->A->nrow < 1 || set->A->nrow > S->n)
        return fold_error(FOLD_ERR_DIMENSION,
                          "%s: set.A is %lld x %lld, need m x %lld with "
                          "1 <= m <= n",
                          fn, (long long)set->A->nrow, (long long)set->A->ncol, (long long)S->n);
    S->m = set->A->nrow;
    if ((st = fold_check_finite(set->b, S->m, fn, "set.b")) < 0) return st;
    if ((st = fold_la_common_init(&S->cm)) < 0) return fold_error_context(st, "%s", fn);
    S->cm_started = true;
    if ((st = fold_la_sparse_from_csc(set->A, fn, "set.A", &S->cm, &S->A)) < 0) return st;
    S->b = fold_dup_doubles(set->b, S->m, "set.b");
    S->work = fold_malloc(2 * (size_t)S->m, sizeof(double), "affine work"); /* b, y */
    S->work_n = fold_malloc((size_t)S->n, sizeof(double), "affine work");
    if (!S->b || !S->work || !S->work_n) return FOLD_ERR_MEMORY;
    if ((st = fold_la_chol_aat(S->A, &S->cm, &S->L)) < 0) {
        if (st == FOLD_ERR_MEMORY) return st;
        return fold_error(FOLD_ERR_SINGULAR,
                          "%s: set.A A' is not positive definite (A must have "
                          "full row rank; %s)",
                          fn, fold_last_error());
    }
    /* rounding can let a rank-deficient A A' through: reject a tiny condition estimate */
    double rc = fold_la_chol_rcond(S->L);
    if (!(rc > 1e-12))
        return fold_error(FOLD_ERR_SINGULAR,
                          "%s: set.A is rank deficient (rcond(A A') = %.2g); "
                          "A must have full row rank",
                          fn, rc);
    return FOLD_OK;
}

fold_status fold_iter_set_create(const fold_set *set, fold_int n, const char *fn,
                                 fold_iter_set **out)
{
    fold_status st = FOLD_OK;
    fold_iter_set *S = fold_calloc(1, sizeof *S, "set");
    if (!S) return FOLD_ERR_MEMORY;
    S->kind = set->kind;
    S->n = n;
    S->radius = set->radius;
    switch (set->kind) {
    case FOLD_SET_FREE:
    case FOLD_SET_NONNEG:
        break;
    case FOLD_SET_BOX:
        if ((st = fold_check_bounds(set->lower, set->upper, n, fn, "set.lower", "set.upper")) < 0)
            break;
        S->lower = fold_malloc((size_t)n, sizeof(double), "set.lower");
        S->upper = fold_malloc((size_t)n, sizeof(double), "set.upper");
        if (!S->lower || !S->upper) {
            st = FOLD_ERR_MEMORY;
            break;
        }
        for (fold_int i = 0; i < n; i++) {
            S->lower[i] = set->lower ? set->lower[i] : -FOLD_INF;
            S->upper[i] = set->upper ? set->upper[i] : FOLD_INF;
        }
        break;
    case FOLD_SET_SIMPLEX:
    case FOLD_SET_BALL:
        if (!(set->radius > 0) || !isfinite(set->radius)) {
            st = fold_error(FOLD_ERR_ARGUMENT, "%s: set.radius = %g, need a finite value > 0", fn,
                            set->radius);
            break;
        }
        S->work = fold_malloc((size_t)n, sizeof(double), "simplex work");
        if (!S->work) {
            st = FOLD_ERR_MEMORY;
            break;
        }
        if (set->kind == FOLD_SET_BALL && set->center) {
            if ((st = fold_check_finite(set->center, n, fn, "set.center")) < 0) break;
            if (!(S->center = fold_dup_doubles(set->center, n, "set.center"))) st = FOLD_ERR_MEMORY;
        }
        break;
    case FOLD_SET_AFFINE:
        st = affine_setup(S, set, fn);
        break;
    default:
        st = fold_error(FOLD_ERR_ARGUMENT, "%s: set.kind = %d is not a fold_set_kind", fn,
                        set->kind);
    }
    if (st < 0) {
        fold_iter_set_free(S);
        return st;
    }
    *out = S;
    return FOLD_OK;
}

static double ball_dist(const fold_iter_set *S, const double *y)
{
    double d = 0;
    for (fold_int i = 0; i < S->n; i++) {
        double t = y[i] - (S->center ? S->center[i] : 0);
        d += t * t;
    }
    return sqrt(d);
}

/* A' (A A')^{-1} (A v - rhs) into out (rhs NULL: zero). */
static fold_status affine_correction(fold_iter_set *S, const double *v, const double *rhs,
                                     double *out)
{
    double *b = S->work, *y = S->work + S->m;
    fold_la_spmv(S->A, false, v, b, false);
    if (rhs) fold_iter_axpy(S->m, -1.0, rhs, b);
    fold_status st = fold_la_chol_solve(S->L, b, y);
    if (st < 0) return fold_error_context(st, "affine projection");
    fold_la_spmv(S->A, true, y, out, false);
    return FOLD_OK;
}

fold_status fold_iter_set_project(fold_iter_set *S, const double *y, double *x)
{
    fold_int n = S->n;
    switch (S->kind) {
    case FOLD_SET_BOX:
        for (fold_int i = 0; i < n; i++)
            x[i] = fmin(fmax(y[i], S->lower[i]), S->upper[i]);
        return FOLD_OK;
    case FOLD_SET_NONNEG:
        for (fold_int i = 0; i < n; i++)
            x[i] = fmax(y[i], 0.0);
        return FOLD_OK;
    case FOLD_SET_SIMPLEX: { /* x = max(y - tau, 0) with sum x = radius */
        double cum = 0, tau = 0;
        memcpy(S->work, y, (size_t)n * sizeof(double));
        qsort(S->work, (size_t)n, sizeof(double), cmp_desc);
        for (fold_int k = 0; k < n; k++) {
            cum += S->work[k];
            double t = (cum - S->radius) / (double)(k + 1);
            if (S->work[k] - t > 0) tau = t;
        }
        for (fold_int i = 0; i < n; i++)
            x[i] = fmax(y[i] - tau, 0.0);
        return FOLD_OK;
    }
    case FOLD_SET_BALL: {
        double d = ball_dist(S, y), s = d > S->radius ? S->radius / d : 1.0;
        for (fold_int i = 0; i < n; i++) {
            double c = S->center ? S->center[i] : 0;
            x[i] = c + s * (y[i] - c);
        }
        return FOLD_OK;
    }
    case FOLD_SET_AFFINE: {
        fold_status st = affine_correction(S, y, S->b, S->work_n); /* x may alias y */
        if (st < 0) return st;
        for (fold_int i = 0; i < n; i++)
            x[i] = y[i] - S->work_n[i];
        return FOLD_OK;
    }
    default:
        if (x != y) memcpy(x, y, (size_t)n * sizeof(double));
        return FOLD_OK;
    }
}

fold_status fold_iter_set_jac(fold_iter_set *S, const double *y, const double *x, const double *v,
                              double *out)
{
    fold_int n = S->n;
    switch (S->kind) {
    case FOLD_SET_BOX:
        for (fold_int i = 0; i < n; i++)
            out[i] = (y[i] > S->lower[i] && y[i] < S->upper[i]) ? v[i] : 0.0;
        return FOLD_OK;
    case FOLD_SET_NONNEG:
        for (fold_int i = 0; i < n; i++)
            out[i] = y[i] > 0 ? v[i] : 0.0;
        return FOLD_OK;
    case FOLD_SET_SIMPLEX: { /* J = D_S - 1_S 1_S' / |S| on the support S of x */
        double sum = 0;
        fold_int count = 0;
        for (fold_int i = 0; i < n; i++)
            if (x[i] > 0) {
                sum += v[i];
                count++;
            }
        for (fold_int i = 0; i < n; i++)
            out[i] = x[i] > 0 ? v[i] - sum / (double)count : 0.0;
        return FOLD_OK;
    }
    case FOLD_SET_BALL: { /* outside: (r/d)(I - u u'), u = (y - c)/d */
        double d = ball_dist(S, y), uv = 0;
        if (d <= S->radius) {
            memcpy(out, v, (size_t)n * sizeof(double));
            return FOLD_OK;
        }
        for (fold_int i = 0; i < n; i++)
            uv += (y[i] - (S->center ? S->center[i] : 0)) / d * v[i];
        for (fold_int i = 0; i < n; i++)
            out[i] = S->radius / d * (v[i] - (y[i] - (S->center ? S->center[i] : 0)) / d * uv);
        return FOLD_OK;
    }
    case FOLD_SET_AFFINE: { /* I - A'(AA')^{-1}A */
        fold_status st = affine_correction(S, v, NULL, S->work_n);
        if (st < 0) return st;
        for (fold_int i = 0; i < n; i++)
            out[i] = v[i] - S->work_n[i];
        return FOLD_OK;
    }
    default:
        memcpy(out, v, (size_t)n * sizeof(double));
        return FOLD_OK;
    }
}
