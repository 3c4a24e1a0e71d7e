/* fold_problem_create: validation at the API boundary and deep copies (doc/api/problem.md). */
#include "problem/problem_internal.h"

static const char *FN = "fold_problem_create";

static void free_pattern(fold_owned_pattern *p)
{
    free(p->row);
    free(p->col);
}

void fold_problem_free(fold_problem *prob)
{
    if (!prob) return;
    free(prob->x_lower);
    free(prob->x_upper);
    free(prob->g_lower);
    free(prob->g_upper);
    free(prob->x_start);
    free(prob->p_default);
    free(prob->x_kind);
    free_pattern(&prob->jac_g);
    free_pattern(&prob->hess_l);
    free_pattern(&prob->jac_g_p);
    free_pattern(&prob->hess_lp);
    fold_prob_bounds_free(prob);
    free(prob);
}

static fold_status copy_pattern(const fold_pattern *src, fold_owned_pattern *dst, const char *what)
{
    dst->nnz = src->nnz;
    if (src->nnz == 0) return FOLD_OK;
    dst->row = fold_dup_ints(src->row, src->nnz, what);
    dst->col = fold_dup_ints(src->col, src->nnz, what);
    return dst->row && dst->col ? FOLD_OK : FOLD_ERR_MEMORY;
}

/* Copy bounds with every |b| >= FOLD_INF_BOUND normalized to -+HUGE_VAL. */
static double *copy_bounds(const double *src, fold_int n, double fill, const char *what)
{
    double *dst = fold_malloc((size_t)n, sizeof *dst, what);
    if (!dst) return NULL;
    for (fold_int i = 0; i < n; i++) {
        double b = src ? src[i] : fill;
        dst[i] = fold_is_inf_bound(b) ? (b > 0 ? HUGE_VAL : -HUGE_VAL) : b;
    }
    return dst;
}

/* The optional kinds of the variables: given with their count, each in range. */
static fold_status check_kinds(const fold_nlp_def *d)
{
    fold_status st;
    if ((st = fold_check_dim(d->n_x_kinds, 0, FN, "n_x_kinds"))) return st;
    if (!d->x_kind != !d->n_x_kinds)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: x_kind is %s but n_x_kinds = %lld", FN,
                          d->x_kind ? "set" : "NULL", (long long)d->n_x_kinds);
    for (fold_int j = 0; d->x_kind && j < d->n; j++)
        if (d->x_kind[j] < 0 || d->x_kind[j] >= d->n_x_kinds)
            return fold_error(FOLD_ERR_ARGUMENT,
                              "%s: x_kind[%lld] = %lld is outside 0 .. n_x_kinds - 1 = %lld", FN,
                              (long long)j, (long long)d->x_kind[j], (long long)(d->n_x_kinds - 1));
    return FOLD_OK;
}

static fold_status validate(const fold_nlp_def *d)
{
    fold_status st;
    if ((st = fold_check_dim(d->n, 1, FN, "n")) || (st = fold_check_dim(d->m, 0, FN, "m")) ||
        (st = fold_check_dim(d->np, 0, FN, "np")))
        return st;
    if ((st = fold_check_not_null((const void *)d->cb.f, FN, "cb.f")) ||
        (st = fold_check_not_null((const void *)d->cb.grad_f, FN, "cb.grad_f")))
        return st;
    if (d->m > 0 && ((st = fold_check_not_null((const void *)d->cb.g, FN, "cb.g (m > 0)")) ||
                     (st = fold_check_not_null((const void *)d->cb.jac_g, FN, "cb.jac_g (m > 0)"))))
        return st;
    if ((st = fold_check_bounds(d->x_lower, d->x_upper, d->n, FN, "x_lower", "x_upper")) ||
        (st = fold_check_bounds(d->g_lower, d->g_upper, d->m, FN, "g_lower", "g_upper")))
        return st;
    if (d->x_start && (st = fold_check_finite(d->x_start, d->n, FN, "x_start"))) return st;
    if (d->np > 0 && d->p_default && (st = fold_check_finite(d->p_default, d->np, FN, "p_default")))
        return st;
    if ((st = fold_check_pattern(&d->jac_g, d->m, d->n, false, FN, "jac_g")) ||
        (st = fold_check_pattern(&d->hess_l, d->n, d->n, true, FN, "hess_l")) ||
        (st = fold_check_pattern(&d->jac_g_p, d->m, d->np, false, FN, "jac_g_p")) ||
        (st = fold_check_pattern(&d->hess_lp, d->n, d->np, false, FN, "hess_lp")))
        return st;
    if ((st = check_kinds(d))) return st;
    if (d->hess_l.nnz > 0 && !d->cb.hess_l)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: hess_l pattern has %lld entries but cb.hess_l "
                          "is NULL",
                          FN, (long long)d->hess_l.nnz);
    if (d->jac_g_p.nnz > 0 && !d->cb.jac_g_p)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: jac_g_p pattern has %lld entries but "
                          "cb.jac_g_p is NULL",
                          FN, (long long)d->jac_g_p.nnz);
    if (d->hess_lp.nnz > 0 && !d->cb.hess_lp)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: hess_lp pattern has %lld entries but "
                          "cb.hess_lp is NULL",
                          FN, (long long)d->hess_lp.nnz);
    return FOLD_OK;
}

fold_status fold_problem_create(const fold_nlp_def *def, fold_problem **out)
{
    fold_clear_error();
    fold_problem *prob;
    fold_status st;
    if (!out) return fold_error(FOLD_ERR_ARGUMENT, "%s: out is NULL", FN);
    *out = NULL;
    if (!def) return fold_error(FOLD_ERR_ARGUMENT, "%s: def is NULL", FN);
    if ((st = validate(def)) != FOLD_OK) return st;
    prob = fold_calloc(1, sizeof *prob, "problem");
    if (!prob) return FOLD_ERR_MEMORY;
    snprintf(prob->name, sizeof prob->name, "%s", def->name ? def->name : "problem");
    prob->n = def->n;
    prob->m = def->m;
    prob->np = def->np;
    prob->cb = def->cb;
    prob->user_data = def->user_data;
    prob->item_name = def->item_name;
    prob->x_lower = copy_bounds(def->x_lower, def->n, -HUGE_VAL, "x_lower");
    prob->x_upper = copy_bounds(def->x_upper, def->n, HUGE_VAL, "x_upper");
    prob->g_lower = copy_bounds(def->g_lower, def->m, -HUGE_VAL, "g_lower");
    prob->g_upper = copy_bounds(def->g_upper, def->m, HUGE_VAL, "g_upper");
    prob->x_start = fold_calloc((size_t)def->n, sizeof(double), "x_start");
    prob->p_default = fold_calloc((size_t)(def->np > 0 ? def->np : 1), sizeof(double), "p");
    st = prob->x_lower && prob->x_upper && prob->g_lower && prob->g_upper && prob->x_start &&
                 prob->p_default
             ? FOLD_OK
             : FOLD_ERR_MEMORY;
    if (st == FOLD_OK) st = copy_pattern(&def->jac_g, &prob->jac_g, "jac_g");
    if (st == FOLD_OK) st = copy_pattern(&def->hess_l, &prob->hess_l, "hess_l");
    if (st == FOLD_OK) st = copy_pattern(&def->jac_g_p, &prob->jac_g_p, "jac_g_p");
    if (st == FOLD_OK) st = copy_pattern(&def->hess_lp, &prob->hess_lp, "hess_lp");
    if (st == FOLD_OK) st = fold_prob_bounds_setup(prob, def, FN);
    prob->n_x_kinds = def->x_kind ? def->n_x_kinds : 1;
    if (st == FOLD_OK && def->x_kind &&
        !(prob->x_kind = fold_dup_ints(def->x_kind, def->n, "x_kind")))
        st = FOLD_ERR_MEMORY;
    if (st != FOLD_OK) {
        fold_problem_free(prob);
        return st;
    }
    for (fold_int j = 0; j < def->n; j++) {
        double x = def->x_start ? def->x_start[j] : 0.0;
        prob->x_start[j] = fmin(fmax(x, prob->x_lower[j]), prob->x_upper[j]);
    }
    if (def->p_default && def->np > 0)
        memcpy(prob->p_default, def->p_default, (size_t)def->np * sizeof(double));
    *out = prob;
    return FOLD_OK;
}

void fold_problem_dims(const fold_problem *prob, fold_int *n, fold_int *m, fold_int *np)
{
    if (n) *n = prob ? prob->n : 0;
    if (m) *m = prob ? prob->m : 0;
    if (np) *np = prob ? prob->np : 0;
}

bool fold_problem_has_param_derivatives(const fold_problem *prob)
{
    if (!prob || prob->np == 0) return false;
    /* The fold needs df/dp, d(grad_x L)/dp (unless empty) and dg/dp (unless m = 0). */
    return prob->cb.grad_f_p && prob->cb.hess_l && (prob->hess_lp.nnz == 0 || prob->cb.hess_lp) &&
           (prob->jac_g_p.nnz == 0 || prob->cb.jac_g_p);
}

void fold_problem_default_params(const fold_problem *prob, double *p)
{
    if (prob && p && prob->np > 0) memcpy(p, prob->p_default, (size_t)prob->np * sizeof(double));
}

void fold_problem_start_point(const fold_problem *prob, double *x)
{
    if (prob && x) memcpy(x, prob->x_start, (size_t)prob->n * sizeof(double));
}
