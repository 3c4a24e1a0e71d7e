/* Multipliers of an imported primal point by sparse least squares on the active set:
 * min || grad f + J_A' lam_A - zl_B + zu_B ||_2, solved by SPQR (minimum-norm when the
 * active gradients are dependent). doc/math.md §2.4, equations (2.11)-(2.12). */
#include "forward/import_internal.h"
#include "linalg/linalg.h"

/* Side of a bound pair at which v sits (2.11): bit 1 lower, bit 2 upper. */
static int at_bound(double v, double lo, double hi, double tol)
{
    int side = 0;
    if (isfinite(lo) && v - lo <= tol * (1 + fabs(lo))) side |= 1;
    if (isfinite(hi) && hi - v <= tol * (1 + fabs(hi))) side |= 2;
    return side;
}

/* Column layout of the least-squares matrix: active constraints first (one column each,
 * sign free), then active bounds (one column each; a variable at both bounds gets one
 * column e_j whose sign decides between zu and zl). */
typedef struct lsq_layout {
    fold_int k;      /* columns */
    fold_int *col_g; /* m: column of constraint i or -1 */
    fold_int *col_x; /* n: column of variable j or -1 */
    int *side_x;     /* n: 1 lower, 2 upper, 3 both */
} lsq_layout;

/* The matrix [J_A', -I, I] of (2.12), n x lay->k, assembled from triplets. */
static fold_status build_matrix(const fold_problem *prob, const double *jac, const lsq_layout *lay,
                                fold_la_common *cm, fold_la_assembly **A)
{
    fold_int nnz = 0;
    for (fold_int k = 0; k < prob->jac_g.nnz; k++)
        nnz += lay->col_g[prob->jac_g.row[k]] >= 0;
    for (fold_int j = 0; j < prob->n; j++)
        nnz += lay->col_x[j] >= 0;
    fold_int *ti = fold_malloc((size_t)nnz + 1, 2 * sizeof *ti, "least-squares triplets");
    double *tx = fold_malloc((size_t)nnz + 1, sizeof *tx, "least-squares triplets");
    fold_int *tj = ti + nnz + 1;
    fold_status st = FOLD_ERR_MEMORY;
    if (!ti || !tx) goto done;
    nnz = 0;
    for (fold_int k = 0; k < prob->jac_g.nnz; k++) {
        fold_int c = lay->col_g[prob->jac_g.row[k]];
        if (c >= 0) {
            ti[nnz] = prob->jac_g.col[k];
            tj[nnz] = c;
            tx[nnz++] = jac[k];
        }
    }
    for (fold_int j = 0; j < prob->n; j++)
        if (lay->col_x[j] >= 0) {
            ti[nnz] = j;
            tj[nnz] = lay->col_x[j];
            tx[nnz++] = lay->side_x[j] == 1 ? -1.0 : 1.0; /* -zl_j or +zu_j (2.6) */
        }
    if (!(st = fold_la_assembly_create(prob->n, lay->k, nnz, ti, tj, 0, cm, A)))
        fold_la_assembly_fill(*A, tx);
done:
    free(ti);
    free(tx);
    return st < 0 ? fold_error_context(st, "least-squares matrix") : st;
}

/* b: the bounds at p (xl, xu, gl, gu). */
static void classify(const fold_problem *prob, const double *const b[4], const double *x,
                     const double *g, double tol, lsq_layout *lay)
{
    lay->k = 0;
    for (fold_int i = 0; i < prob->m; i++) {
        bool active = fold_prob_is_equality(prob, i) || at_bound(g[i], b[2][i], b[3][i], tol);
        lay->col_g[i] = active ? lay->k++ : -1;
    }
    for (fold_int j = 0; j < prob->n; j++) {
        lay->side_x[j] = at_bound(x[j], b[0][j], b[1][j], tol);
        if (prob->x_lower[j] == prob->x_upper[j]) lay->side_x[j] = 3; /* fixed variable */
        lay->col_x[j] = lay->side_x[j] ? lay->k++ : -1;
    }
}

static void scatter(const fold_problem *prob, const lsq_layout *lay, const double *y, double *lam,
                    double *zl, double *zu)
{
    for (fold_int i = 0; i < prob->m; i++)
        lam[i] = lay->col_g[i] >= 0 ? y[lay->col_g[i]] : 0.0;
    for (fold_int j = 0; j < prob->n; j++) {
        double v = lay->col_x[j] >= 0 ? y[lay->col_x[j]] : 0.0;
        zl[j] = zu[j] = 0.0;
        if (lay->side_x[j] == 1)
            zl[j] = v;
        else if (lay->side_x[j] == 2)
            zu[j] = v;
        else if (lay->side_x[j] == 3)
            *(v >= 0 ? &zu[j] : &zl[j]) = fabs(v); /* column e_j: zu - zl = v */
    }
}

fold_status fold_import_estimate_duals(const fold_problem *prob, const double *p, const double *x,
                                       double primal_tol, double *lam, double *zl, double *zu,
                                       fold_int *n_active, fold_eval_stats *st)
{
    fold_int n = prob->n, m = prob->m, nnz = prob->jac_g.nnz;
    fold_la_common cm;
    fold_la_assembly *A = NULL;
    lsq_layout lay;
    fold_status status;
    double *work = fold_malloc((size_t)(4 * n + 4 * m + nnz) + 1, sizeof(double), "import");
    fold_int *iwork = fold_malloc((size_t)(n + m) + 1, sizeof(fold_int), "import columns");
    int *side = fold_malloc((size_t)n, sizeof(int), "import sides");
    if (!work || !iwork || !side) {
        free(work);
        free(iwork);
        free(side);
        return FOLD_ERR_MEMORY;
    }
    double *rhs = work, *y = rhs + n, *g = y + n + m, *jac = g + m; /* y: up to n + m */
    double *xl = jac + nnz, *xu = xl + n, *gl = xu + n, *gu = gl + m;
    const double *const bounds[4] = {xl, xu, gl, gu};
    fold_problem_bounds(prob, p, xl, xu, gl, gu); /* at p (doc/math.md §2.5) */
    lay.col_g = iwork;
    lay.col_x = iwork + m;
    lay.side_x = side;
    if ((status = fold_prob_eval_grad_f(prob, x, p, rhs, st)) ||
        (status = fold_prob_eval_g(prob, x, p, g, st)) ||
        (status = fold_prob_eval_jac_g(prob, x, p, jac, st)))
        goto done;
    classify(prob, bounds, x, g, primal_tol, &lay);
    *n_active = lay.k;
    memset(y, 0, (size_t)(n + m) * sizeof *y);
    if (lay.k > 0) {
        if ((status = fold_la_common_init(&cm))) goto done;
        for (fold_int j = 0; j < n; j++)
            rhs[j] = -rhs[j]; /* [J_A', -I, I] y = -grad f  (2.12) */
        if (!(status = build_matrix(prob, jac, &lay, &cm, &A)))
            status = fold_la_lsq_solve(A->A, false, 1, rhs, y, &cm);
        fold_la_assembly_free(A, &cm);
        fold_la_common_finish(&cm);
        if (status) goto done;
    }
    scatter(prob, &lay, y, lam, zl, zu);
done:
    if (status == FOLD_CB_RECOVERABLE)
        status = fold_error(FOLD_ERR_CALLBACK, "a callback failed (recoverable code) at x");
    free(work);
    free(iwork);
    free(side);
    return status;
}
