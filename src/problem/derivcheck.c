/* Derivative checker: every derivative callback against central finite differences of the
 * function it differentiates, column by column (dense FD column vs. the declared sparse
 * entries of that column). doc/api/problem.md "Derivative checker", doc/math.md §2.1. */
#include "problem/problem_internal.h"

#define FN "fold_problem_check_derivatives"

/* One checked block: an nrow x ncol derivative whose analytic values (pattern order) are
 * given, and a function producing the central-difference column j. */
typedef struct block {
    const char *name;
    fold_int nrow, ncol;
    const fold_owned_pattern *pat; /* NULL: dense 1 x ncol row in values[] */
    const double *values;
    bool lower_only;
    int which;    /* what fd_column differentiates */
    bool product; /* hess_lp_v: column j is the product with e_j (pat NULL, values unused) */
} block;

enum { D_F_X, D_G_X, D_GL_X, D_F_P, D_G_P, D_GL_P };

typedef struct ctx {
    const fold_problem *prob;
    const double *x, *p, *lam;
    double h;
    double *xw, *pw; /* perturbed copies of x and p */
    double *fp, *fm; /* function values at +h / -h (length max(n, m, 1)) */
    double *jac;     /* jac_g values (gradient of the Lagrangian) */
    fold_deriv_report rep;
} ctx;

static fold_status eval_fail(fold_status st, const char *what)
{
    if (st == FOLD_CB_RECOVERABLE)
        st = fold_error(FOLD_ERR_CALLBACK, "callback %s failed (returned > 0)", what);
    return fold_error_context(st, "%s: %s", FN, what);
}

/* grad_x L = grad f + J' lam at (x, p) into out (n). */
static fold_status grad_lagrangian(ctx *c, const double *x, const double *p, double *out)
{
    const fold_problem *prob = c->prob;
    fold_status st;
    if ((st = fold_prob_eval_grad_f(prob, x, p, out, NULL))) return eval_fail(st, "grad_f");
    if (prob->m == 0) return FOLD_OK;
    if ((st = fold_prob_eval_jac_g(prob, x, p, c->jac, NULL))) return eval_fail(st, "jac_g");
    for (fold_int k = 0; k < prob->jac_g.nnz; k++)
        out[prob->jac_g.col[k]] += c->jac[k] * c->lam[prob->jac_g.row[k]];
    return FOLD_OK;
}

/* The function differentiated by block `which`, at (x, p), into out. */
static fold_status eval_fun(ctx *c, int which, const double *x, const double *p, double *out)
{
    fold_status st = FOLD_OK;
    switch (which) {
    case D_F_X:
    case D_F_P:
        st = fold_prob_eval_f(c->prob, x, p, out, NULL);
        return st ? eval_fail(st, "f") : FOLD_OK;
    case D_G_X:
    case D_G_P:
        st = fold_prob_eval_g(c->prob, x, p, out, NULL);
        return st ? eval_fail(st, "g") : FOLD_OK;
    default:
        return grad_lagrangian(c, x, p, out);
    }
}

/* Central difference along x_j (or p_j) with step h max(1, |v_j|). */
static fold_status fd_column(ctx *c, int which, fold_int j, fold_int nrow, double *col)
{
    bool in_p = which >= D_F_P;
    double *v = in_p ? c->pw : c->xw, v0 = v[j];
    double step = c->h * fmax(1.0, fabs(v0));
    fold_status st;
    v[j] = v0 + step;
    st = eval_fun(c, which, c->xw, c->pw, c->fp);
    v[j] = v0 - step;
    if (!st) st = eval_fun(c, which, c->xw, c->pw, c->fm);
    v[j] = v0;
    if (st) return st;
    for (fold_int i = 0; i < nrow; i++)
        col[i] = (c->fp[i] - c->fm[i]) / (2 * step);
    return FOLD_OK;
}

static void compare(ctx *c, const block *b, fold_int i, fold_int j, double a, double fd,
                    bool declared, double tol)
{
    fold_deriv_report *r = &c->rep;
    double abs_err = fabs(a - fd), rel = abs_err / fmax(1.0, fabs(fd));
    r->n_checked++;
    r->max_abs_error = fmax(r->max_abs_error, abs_err);
    if (rel > tol) {
        r->n_bad++;
        if (!declared) r->n_missing++;
    }
    if (rel > r->max_rel_error || r->worst_function[0] == '\0') {
        r->max_rel_error = rel;
        snprintf(r->worst_function, sizeof r->worst_function, "%s", b->name);
        r->worst_row = i;
        r->worst_col = j;
        r->worst_analytic = a;
        r->worst_fd = fd;
    }
}

/* Compare every entry of block b (lower triangle only when asked). colptr/order group the
 * pattern by column; dense/mark are nrow workspaces. */
/* Column j of L_xp by hess_lp_v into dense (n); e is a zero workspace of np entries. */
static fold_status product_column(ctx *c, fold_int j, double *e, double *dense)
{
    e[j] = 1.0;
    fold_status st = fold_prob_eval_hess_lp_v(c->prob, c->x, c->p, c->lam, false, e, dense, NULL);
    e[j] = 0.0;
    return st ? eval_fail(st, "hess_lp_v") : FOLD_OK;
}

static fold_status check_block(ctx *c, const block *b, double tol, fold_int *colptr,
                               fold_int *order, double *dense, char *mark, double *col)
{
    const fold_owned_pattern *pat = b->pat;
    fold_status st = FOLD_OK;
    double *e = NULL;
    if (b->product && !(e = fold_calloc((size_t)b->ncol + 1, sizeof *e, "unit vector")))
        return fold_error_context(FOLD_ERR_MEMORY, "%s", FN);
    if (pat) {
        memset(colptr, 0, (size_t)(b->ncol + 1) * sizeof *colptr);
        for (fold_int k = 0; k < pat->nnz; k++)
            colptr[pat->col[k] + 1]++;
        for (fold_int j = 0; j < b->ncol; j++)
            colptr[j + 1] += colptr[j];
        for (fold_int k = 0; k < pat->nnz; k++)
            order[colptr[pat->col[k]]++] = k;
        for (fold_int j = b->ncol; j > 0; j--)
            colptr[j] = colptr[j - 1];
        colptr[0] = 0;
    }
    for (fold_int j = 0; j < b->ncol && st == FOLD_OK; j++) {
        if ((st = fd_column(c, b->which, j, b->nrow, col))) break;
        memset(dense, 0, (size_t)b->nrow * sizeof *dense);
        memset(mark, 0, (size_t)b->nrow);
        if (b->product) {
            if ((st = product_column(c, j, e, dense))) break;
            memset(mark, 1, (size_t)b->nrow);
        } else if (pat) {
            for (fold_int q = colptr[j]; q < colptr[j + 1]; q++) {
                dense[pat->row[order[q]]] = b->values[order[q]];
                mark[pat->row[order[q]]] = 1;
            }
        } else {
            dense[0] = b->values[j];
            mark[0] = 1;
        }
        for (fold_int i = b->lower_only ? j : 0; i < b->nrow; i++)
            compare(c, b, i, j, dense[i], col[i], mark[i], tol);
    }
    free(e);
    return st;
}

static fold_status check_inputs(const fold_problem *prob, const double *x, const double *p,
                                const double *lam, double h, double tol,
                                const fold_deriv_report *rep)
{
    fold_status st;
    if ((st = fold_check_not_null(prob, FN, "prob")) || (st = fold_check_not_null(x, FN, "x")) ||
        (st = fold_check_not_null(rep, FN, "rep")))
        return st;
    if (!(h > 0) || !isfinite(h))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: h = %g must be finite and > 0", FN, h);
    if (!(tol > 0) || !isfinite(tol))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: tol = %g must be finite and > 0", FN, tol);
    if ((st = fold_check_finite(x, prob->n, FN, "x")) ||
        (p && (st = fold_check_finite(p, prob->np, FN, "p"))) ||
        (lam && (st = fold_check_finite(lam, prob->m, FN, "lam"))))
        return st;
    return FOLD_OK;
}

static fold_int max3(fold_int a, fold_int b, fold_int c)
{
    fold_int m = a > b ? a : b;
    return m > c ? m : c;
}

/* Analytic values of every present derivative, then one check_block per function. */
static fold_status run(ctx *c, double tol, double *work, fold_int *iwork, char *mark)
{
    const fold_problem *prob = c->prob;
    fold_int n = prob->n, m = prob->m, np = prob->np, rows = max3(n, m, 1);
    double *col = work, *dense = col + rows;
    double *grad = dense + rows, *jac = grad + n, *hess = jac + prob->jac_g.nnz;
    double *gradp = hess + prob->hess_l.nnz, *jacp = gradp + np, *hlp = jacp + prob->jac_g_p.nnz;
    fold_int *colptr = iwork, *order = iwork + (n > np ? n : np) + 1;
    const double *x = c->x, *p = c->p, *lam = c->lam;
    fold_status st;
    bool has_p = np > 0;

    if ((st = fold_prob_eval_grad_f(prob, x, p, grad, NULL))) return eval_fail(st, "grad_f");
    if ((st = fold_prob_eval_jac_g(prob, x, p, jac, NULL))) return eval_fail(st, "jac_g");
    if (fold_prob_has_hessian(prob) &&
        (st = fold_prob_eval_hess_l(prob, x, p, 1.0, lam, hess, NULL)))
        return eval_fail(st, "hess_l");
    if (has_p && prob->cb.grad_f_p && (st = fold_prob_eval_grad_f_p(prob, x, p, gradp, NULL)))
        return eval_fail(st, "grad_f_p");
    if (has_p && prob->cb.jac_g_p && (st = fold_prob_eval_jac_g_p(prob, x, p, jacp, NULL)))
        return eval_fail(st, "jac_g_p");
    if (has_p && prob->cb.hess_lp && (st = fold_prob_eval_hess_lp(prob, x, p, lam, hlp, NULL)))
        return eval_fail(st, "hess_lp");

    const block blocks[6] = {
        {"grad_f", 1, n, NULL, grad, false, D_F_X, false},
        {"jac_g", m, n, &prob->jac_g, jac, false, D_G_X, false},
        {"hess_l", n, n, &prob->hess_l, hess, true, D_GL_X, false},
        {"grad_f_p", 1, np, NULL, gradp, false, D_F_P, false},
        {"jac_g_p", m, np, &prob->jac_g_p, jacp, false, D_G_P, false},
        prob->hess_lp_v ? (block){"hess_lp_v", n, np, NULL, hlp, false, D_GL_P, true}
                        : (block){"hess_lp", n, np, &prob->hess_lp, hlp, false, D_GL_P, false},
    };
    const bool present[6] = {true,
                             m > 0,
                             fold_prob_has_hessian(prob),
                             has_p && prob->cb.grad_f_p,
                             has_p && m > 0 && prob->cb.jac_g_p,
                             has_p && (prob->cb.hess_lp || prob->hess_lp_v)};
    for (int b = 0; b < 6; b++)
        if (present[b] && (st = check_block(c, &blocks[b], tol, colptr, order, dense, mark, col)))
            return st;
    return FOLD_OK;
}

fold_status fold_problem_check_derivatives(const fold_problem *prob, const double *x,
                                           const double *p, const double *lam, double h, double tol,
                                           fold_deriv_report *rep)
{
    fold_clear_error();
    fold_status st;
    ctx c;
    fold_deriv_report empty = FOLD_DERIV_REPORT_INIT;
    if ((st = fold_sized_open(rep, &empty, sizeof empty, FOLD_DERIV_REPORT_V1, "fold_deriv_report",
                              "FOLD_DERIV_REPORT_INIT")))
        return st;
    /* an empty report (nothing checked) until the check completes */
    fold_sized_close(rep, &empty, sizeof empty);
    if ((st = check_inputs(prob, x, p, lam, h, tol, rep))) return st;
    fold_int n = prob->n, m = prob->m, np = prob->np, rows = max3(n, m, 1);
    fold_int nnz_max =
        max3(max3(prob->jac_g.nnz, prob->hess_l.nnz, prob->jac_g_p.nnz), prob->hess_lp.nnz, 1);
    size_t nwork = (size_t)(4 * rows + 2 * n + 2 * np + m + prob->jac_g.nnz * 2 + prob->hess_l.nnz +
                            prob->jac_g_p.nnz + prob->hess_lp.nnz + 1);
    double *work = fold_calloc(nwork, sizeof(double), "derivative checker workspace");
    fold_int *iwork = fold_malloc((size_t)((n > np ? n : np) + 1 + nnz_max), sizeof(fold_int),
                                  "derivative checker index");
    char *mark = fold_malloc((size_t)rows, 1, "derivative checker marks");
    if (!work || !iwork || !mark) {
        st = fold_error_context(FOLD_ERR_MEMORY, "%s", FN);
        goto done;
    }
    memset(&c, 0, sizeof c);
    c.prob = prob;
    c.x = x;
    c.p = p ? p : prob->p_default;
    c.h = h;
    /* After the blocks of run(): perturbed x, p, FD values, Jacobian scratch, zero lam. */
    double *tail = work + (2 * rows + n + prob->jac_g.nnz + prob->hess_l.nnz + np +
                           prob->jac_g_p.nnz + prob->hess_lp.nnz);
    c.xw = tail;
    c.pw = c.xw + n;
    c.fp = c.pw + np;
    c.fm = c.fp + rows;
    c.jac = c.fm + rows;
    double *lam0 = c.jac + prob->jac_g.nnz; /* m zeros */
    c.lam = lam ? lam : lam0;
    memcpy(c.xw, x, (size_t)n * sizeof *x);
    if (np) memcpy(c.pw, c.p, (size_t)np * sizeof *c.pw);
    if ((st = run(&c, tol, work, iwork, mark))) goto done;
    fold_sized_close(rep, &c.rep, sizeof c.rep);
    st = c.rep.n_bad ? fold_error(FOLD_WARN_INACCURATE,
                                  "%s: %lld of %lld entries differ from central differences "
                                  "(worst %s[%lld,%lld]: analytic %.10g, finite difference "
                                  "%.10g, relative error %.3e > tol %g)",
                                  FN, (long long)c.rep.n_bad, (long long)c.rep.n_checked,
                                  c.rep.worst_function, (long long)c.rep.worst_row,
                                  (long long)c.rep.worst_col, c.rep.worst_analytic, c.rep.worst_fd,
                                  c.rep.max_rel_error, tol)
                     : FOLD_OK;
done:
    free(work);
    free(iwork);
    free(mark);
    return st;
}
