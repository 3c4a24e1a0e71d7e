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
    free(prob->p_kind);
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

/* Optional kinds (of the variables, of the parameters): given with their count, each of the
 * len entries in range. */
static fold_status check_kind_list(const fold_int *kind, fold_int n_kinds, fold_int len,
                                   const char *what)
{
    fold_status st;
    char count[32];
    snprintf(count, sizeof count, "n_%s_kinds", what);
    if ((st = fold_check_dim(n_kinds, 0, FN, count))) return st;
    if (!kind != !n_kinds)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s_kind is %s but %s = %lld", FN, what,
                          kind ? "set" : "NULL", count, (long long)n_kinds);
    for (fold_int j = 0; kind && j < len; j++)
        if (kind[j] < 0 || kind[j] >= n_kinds)
            return fold_error(FOLD_ERR_ARGUMENT,
                              "%s: %s_kind[%lld] = %lld is outside 0 .. %s - 1 = %lld", FN, what,
                              (long long)j, (long long)kind[j], count, (long long)(n_kinds - 1));
    return FOLD_OK;
}

static fold_status check_kinds(const fold_nlp_def *d)
{
    fold_status st = check_kind_list(d->x_kind, d->n_x_kinds, d->n, "x");
    return st ? st : check_kind_list(d->p_kind, d->n_p_kinds, d->np, "p");
}

/* Which Hessian callbacks the form needs (doc/api/problem.md "Hessian forms"). */
static fold_status validate_hess_form(const fold_nlp_def *d)
{
    switch (d->hess_form) {
    case FOLD_HESS_TRIPLETS:
        return FOLD_OK;
    case FOLD_HESS_DENSE:
        if (!d->cb.hess_l)
            return fold_error(FOLD_ERR_ARGUMENT,
                              "%s: hess_form = FOLD_HESS_DENSE needs cb.hess_l (it writes the "
                              "packed lower triangle, n (n + 1) / 2 values)",
                              FN);
        break;
    case FOLD_HESS_PRODUCT:
        if (!d->hess_l_v)
            return fold_error(FOLD_ERR_ARGUMENT,
                              "%s: hess_form = FOLD_HESS_PRODUCT needs hess_l_v (the "
                              "Hessian-vector product)",
                              FN);
        if (d->cb.hess_l)
            return fold_error(
                FOLD_ERR_ARGUMENT,
                "%s: hess_form = FOLD_HESS_PRODUCT takes hess_l_v only, but cb.hess_l "
                "is also given (use FOLD_HESS_TRIPLETS or FOLD_HESS_DENSE for a "
                "matrix, with hess_l_v as an optional product)",
                FN);
        break;
    default:
        return fold_error(FOLD_ERR_ARGUMENT, "%s: hess_form = %d is not a fold_hess_form", FN,
                          (int)d->hess_form);
    }
    if (d->hess_l.nnz != 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: hess_l pattern has %lld entries but hess_form = %s builds its own "
                          "(leave the pattern empty)",
                          FN, (long long)d->hess_l.nnz,
                          d->hess_form == FOLD_HESS_DENSE ? "FOLD_HESS_DENSE"
                                                          : "FOLD_HESS_PRODUCT");
    /* n (n + 1) / 2 entries must be addressable (and Ipopt's int bounds them further) */
    if (d->n > 3037000499LL)
        return fold_error(FOLD_ERR_TOO_LARGE, "%s: n = %lld is too large for a dense Hessian", FN,
                          (long long)d->n);
    return FOLD_OK;
}

/* The packed lower triangle of a dense or assembled Hessian as a pattern: column j holds
 * rows j..n-1, columns in order (doc/api/problem.md "Hessian forms"). */
static fold_status packed_pattern(fold_int n, fold_owned_pattern *dst)
{
    dst->nnz = n * (n + 1) / 2;
    dst->row = fold_malloc((size_t)dst->nnz, sizeof(fold_int), "dense hess_l pattern");
    dst->col = fold_malloc((size_t)dst->nnz, sizeof(fold_int), "dense hess_l pattern");
    if (!dst->row || !dst->col) return FOLD_ERR_MEMORY;
    fold_int k = 0;
    for (fold_int j = 0; j < n; j++)
        for (fold_int i = j; i < n; i++, k++) {
            dst->row[k] = i;
            dst->col[k] = j;
        }
    return FOLD_OK;
}

/* The Hessian's pattern: the user's triplets, or the packed lower triangle when the matrix is
 * dense or assembled from products (none above FOLD_HESS_PRODUCT_MAX_N). */
static fold_status hessian_pattern(const fold_nlp_def *d, fold_owned_pattern *dst)
{
    if (d->hess_form == FOLD_HESS_TRIPLETS) return copy_pattern(&d->hess_l, dst, "hess_l");
    if (d->hess_form == FOLD_HESS_PRODUCT && d->n > FOLD_HESS_PRODUCT_MAX_N) return FOLD_OK;
    return packed_pattern(d->n, dst);
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
    if ((st = validate_hess_form(d)) != FOLD_OK) return st;
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
    if (d->hess_lp_v && d->hess_lp.nnz > 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: hess_lp pattern has %lld entries but hess_lp_v is also given "
                          "(give d(grad_x L)/dp either by products or by its pattern)",
                          FN, (long long)d->hess_lp.nnz);
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
    prob->hess_form = def->hess_form;
    prob->hess_l_v = def->hess_l_v;
    prob->hess_lp_v = def->hess_lp_v;
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
    if (st == FOLD_OK) st = hessian_pattern(def, &prob->hess_l);
    if (st == FOLD_OK) st = copy_pattern(&def->jac_g_p, &prob->jac_g_p, "jac_g_p");
    if (st == FOLD_OK) st = copy_pattern(&def->hess_lp, &prob->hess_lp, "hess_lp");
    if (st == FOLD_OK) st = fold_prob_bounds_setup(prob, def, FN);
    prob->n_x_kinds = def->x_kind ? def->n_x_kinds : 1;
    if (st == FOLD_OK && def->x_kind &&
        !(prob->x_kind = fold_dup_ints(def->x_kind, def->n, "x_kind")))
        st = FOLD_ERR_MEMORY;
    prob->n_p_kinds = def->p_kind ? def->n_p_kinds : 1;
    if (st == FOLD_OK && def->p_kind && def->np > 0 &&
        !(prob->p_kind = fold_dup_ints(def->p_kind, def->np, "p_kind")))
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

fold_hess_form fold_problem_hess_form(const fold_problem *prob)
{
    return prob ? prob->hess_form : FOLD_HESS_TRIPLETS;
}

bool fold_problem_has_param_derivatives(const fold_problem *prob)
{
    if (!prob || prob->np == 0) return false;
    /* The fold needs df/dp, d(grad_x L)/dp (unless empty) and dg/dp (unless m = 0), and H:
     * the matrix, or products (the iterative KKT fold multiplies by them). */
    return prob->cb.grad_f_p && (fold_prob_has_hessian(prob) || prob->hess_l_v) &&
           (prob->hess_lp.nnz == 0 || prob->cb.hess_lp) &&
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
