/* Solver handle lifecycle and accessors (doc/api/solver.md). */
#include "forward/sides.h"
#include "forward/solver_internal.h"

static const char *forward_status_names[] = {"solved",          "acceptable", "imported",
                                             "not run",         "infeasible", "iteration limit",
                                             "time limit",      "diverging",  "numerical failure",
                                             "invalid problem", "user stop",  "error",
                                             "not a KKT point", "stalled"};
_Static_assert(sizeof forward_status_names / sizeof *forward_status_names == 3 - FOLD_FWD_STALLED,
               "one name per fold_forward_status, FOLD_FWD_SOLVED .. FOLD_FWD_STALLED");

const char *fold_forward_status_string(fold_forward_status status)
{
    if (status >= 0 && status <= FOLD_FWD_IMPORTED) return forward_status_names[status];
    if (status <= -1 && status >= FOLD_FWD_STALLED) return forward_status_names[2 - status];
    return "unknown";
}

void fold_forward_info_reset(fold_forward_info *info, const char *backend)
{
    memset(info, 0, sizeof *info);
    info->size = sizeof *info;
    info->status = FOLD_FWD_NOT_RUN;
    info->backend = backend;
    info->objective = NAN;
    info->kkt_stationarity = info->kkt_feasibility = info->kkt_complementarity = NAN;
}

fold_status fold_forward_info_open(fold_forward_info *info, const char *backend,
                                   fold_forward_info *out)
{
    fold_status st = fold_sized_open(info, out, sizeof *out, FOLD_FORWARD_INFO_V1,
                                     "fold_forward_info", "FOLD_FORWARD_INFO_INIT");
    if (st < 0) return st;
    fold_forward_info_reset(out, backend);
    fold_forward_info_put(info, out);
    return FOLD_OK;
}

void fold_forward_info_put(fold_forward_info *info, const fold_forward_info *out)
{
    fold_sized_close(info, out, sizeof *out);
}

static void drop_sides(fold_solver *s)
{
    if (s->sides) fold_sides_free(s->sides);
    free(s->sides);
    s->sides = NULL;
}

void fold_solver_free(fold_solver *s)
{
    if (!s) return;
    if (s->backward && s->backward_free) s->backward_free(s->backward);
    if (s->forward && s->forward_free) s->forward_free(s->forward);
    fold_solver_set_ipopt_option(s, NULL, NULL);
    free(s->ipopt_opt);
    free(s->p);
    free(s->x);
    free(s->zl);
    free(s->zu);
    free(s->lam);
    free(s->x0);
    free(s->zl0);
    free(s->zu0);
    free(s->lam0);
    free(s->verdict);
    drop_sides(s);
    if (s->prob->has_bound_maps) {
        free(s->xl);
        free(s->xu);
        free(s->gl);
        free(s->gu);
    }
    free(s);
}

fold_status fold_solver_create(const fold_problem *prob, const fold_settings *set,
                               fold_solver **out)
{
    fold_clear_error();
    fold_solver *s;
    fold_status st;
    size_t n, m, np;
    if (!out) return fold_error(FOLD_ERR_ARGUMENT, "fold_solver_create: out is NULL");
    *out = NULL;
    if (!prob) return fold_error(FOLD_ERR_ARGUMENT, "fold_solver_create: problem is NULL");
    fold_settings full;
    if ((st = fold_settings_copy_in(set, &full)) != FOLD_OK)
        return fold_error_context(st, "fold_solver_create");
    s = fold_calloc(1, sizeof *s, "solver");
    if (!s) return FOLD_ERR_MEMORY;
    s->prob = prob;
    s->set = full;
    n = (size_t)prob->n;
    m = (size_t)(prob->m > 0 ? prob->m : 1);
    np = (size_t)(prob->np > 0 ? prob->np : 1);
    s->p = fold_calloc(np, sizeof(double), "solver p");
    s->x = fold_calloc(n, sizeof(double), "solver x");
    s->zl = fold_calloc(n, sizeof(double), "solver zl");
    s->zu = fold_calloc(n, sizeof(double), "solver zu");
    s->lam = fold_calloc(m, sizeof(double), "solver lam");
    s->x0 = fold_calloc(n, sizeof(double), "solver x0");
    s->zl0 = fold_calloc(n, sizeof(double), "solver zl0");
    s->zu0 = fold_calloc(n, sizeof(double), "solver zu0");
    s->lam0 = fold_calloc(m, sizeof(double), "solver lam0");
    if (prob->has_bound_maps) {
        s->xl = fold_malloc(n, sizeof(double), "solver bounds");
        s->xu = fold_malloc(n, sizeof(double), "solver bounds");
        s->gl = fold_malloc(m, sizeof(double), "solver bounds");
        s->gu = fold_malloc(m, sizeof(double), "solver bounds");
    } else {
        s->xl = prob->x_lower;
        s->xu = prob->x_upper;
        s->gl = prob->g_lower;
        s->gu = prob->g_upper;
    }
    if (!s->p || !s->x || !s->zl || !s->zu || !s->lam || !s->x0 || !s->zl0 || !s->zu0 || !s->lam0 ||
        !s->xl || !s->xu || !s->gl || !s->gu) {
        fold_solver_free(s);
        return FOLD_ERR_MEMORY;
    }
    fold_problem_default_params(prob, s->p);
    if (prob->has_bound_maps) fold_problem_bounds(prob, NULL, s->xl, s->xu, s->gl, s->gu);
    fold_forward_info_reset(&s->info, "none");
    *out = s;
    return FOLD_OK;
}

fold_status fold_solver_update_settings(fold_solver *s, const fold_settings *set)
{
    fold_status st;
    fold_settings full;
    if (!s || !set)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_solver_update_settings: NULL argument");
    if ((st = fold_settings_copy_in(set, &full)) != FOLD_OK)
        return fold_error_context(st, "fold_solver_update_settings");
    if (memcmp(&s->set.backward, &full.backward, sizeof full.backward) != 0 ||
        memcmp(&s->set.active_set, &full.active_set, sizeof full.active_set) != 0 ||
        memcmp(&s->set.precond, &full.precond, sizeof full.precond) != 0) {
        if (s->backward && s->backward_free) s->backward_free(s->backward);
        s->backward = NULL;
    }
    s->set = full;
    return FOLD_OK;
}

fold_status fold_bounds_at(const fold_problem *prob, const double *p, double *xl, double *xu,
                           double *gl, double *gu, const char *fn)
{
    fold_problem_bounds(prob, p, xl, xu, gl, gu);
    for (int v = 0; v < 2 && prob->has_bound_maps; v++) {
        const double *lo = v ? gl : xl, *hi = v ? gu : xu;
        for (fold_int i = 0; i < (v ? prob->m : prob->n); i++)
            if (lo[i] > hi[i]) {
                char name[FOLD_NAME_MAX];
                fold_prob_name(prob, v ? FOLD_ITEM_CONSTRAINT : FOLD_ITEM_VARIABLE, i, name,
                               sizeof name);
                return fold_error(FOLD_ERR_ARGUMENT,
                                  "%s: at these parameters the lower bound "
                                  "of %s (%.17g) exceeds its upper bound (%.17g)",
                                  fn, name, lo[i], hi[i]);
            }
    }
    return FOLD_OK;
}

void fold_solver_keep_sides(fold_solver *s, fold_sides *S)
{
    drop_sides(s);
    if (!(s->sides = malloc(sizeof *s->sides))) { /* only a saving: the fold evaluates */
        fold_sides_free(S);
        return;
    }
    *s->sides = *S;
    memset(S, 0, sizeof *S);
    s->sides_id = s->solution_id;
}

bool fold_solver_copy_sides(fold_solver *s, fold_sides *out)
{
    if (!s->sides || s->sides_id != s->solution_id) {
        drop_sides(s);
        return false;
    }
    return fold_sides_copy(s->sides, out) == FOLD_OK; /* else the fold evaluates */
}

void fold_solver_store(fold_solver *s, const double *p, const double *x, const double *lam,
                       const double *zl, const double *zu, double objective, bool converged)
{
    const fold_problem *prob = s->prob;
    size_t n = (size_t)prob->n, m = (size_t)prob->m, np = (size_t)prob->np;
    if (np && p != s->p) memmove(s->p, p, np * sizeof(double));
    if (prob->has_bound_maps) /* the bounds of this solution */
        fold_problem_bounds(prob, s->p, s->xl, s->xu, s->gl, s->gu);
    memmove(s->x, x, n * sizeof(double));
    if (m) memmove(s->lam, lam, m * sizeof(double));
    memmove(s->zl, zl, n * sizeof(double));
    memmove(s->zu, zu, n * sizeof(double));
    s->objective = objective;
    free(s->verdict); /* classification evidence belongs to one solution */
    s->verdict = NULL;
    drop_sides(s);
    s->resolve_pending = false; /* so do the re-solves still owed to the last one */
    s->has_solution = true;
    s->is_converged = converged;
    s->solution_id++;
}

fold_status fold_solver_solution(const fold_solver *s, double *x, double *lam, double *zl,
                                 double *zu, double *objective)
{
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "fold_solver_solution: solver is NULL");
    if (!s->has_solution)
        return fold_error(FOLD_ERR_NOT_SOLVED, "fold_solver_solution: no solution stored");
    size_t n = (size_t)s->prob->n, m = (size_t)s->prob->m;
    if (x) memcpy(x, s->x, n * sizeof(double));
    if (lam && m) memcpy(lam, s->lam, m * sizeof(double));
    if (zl) memcpy(zl, s->zl, n * sizeof(double));
    if (zu) memcpy(zu, s->zu, n * sizeof(double));
    if (objective) *objective = s->objective;
    return FOLD_OK;
}

fold_status fold_solver_params(const fold_solver *s, double *p)
{
    if (!s || !p) return fold_error(FOLD_ERR_ARGUMENT, "fold_solver_params: NULL argument");
    if (!s->has_solution)
        return fold_error(FOLD_ERR_NOT_SOLVED, "fold_solver_params: no solution stored");
    if (s->prob->np) memcpy(p, s->p, (size_t)s->prob->np * sizeof(double));
    return FOLD_OK;
}

fold_status fold_solver_set_start(fold_solver *s, const double *x, const double *lam,
                                  const double *zl, const double *zu)
{
    static const char *FN = "fold_solver_set_start";
    fold_status st;
    const fold_problem *prob;
    if (!s || !x) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver or x is NULL", FN);
    prob = s->prob;
    if ((st = fold_check_finite(x, prob->n, FN, "x"))) return st;
    bool duals = lam && zl && zu;
    if (duals && ((st = fold_check_finite(lam, prob->m, FN, "lam")) ||
                  (st = fold_check_finite(zl, prob->n, FN, "zl")) ||
                  (st = fold_check_finite(zu, prob->n, FN, "zu"))))
        return st;
    memcpy(s->x0, x, (size_t)prob->n * sizeof(double));
    if (duals) {
        if (prob->m) memcpy(s->lam0, lam, (size_t)prob->m * sizeof(double));
        memcpy(s->zl0, zl, (size_t)prob->n * sizeof(double));
        memcpy(s->zu0, zu, (size_t)prob->n * sizeof(double));
    }
    s->has_start = true;
    s->start_has_duals = duals;
    return FOLD_OK;
}

const fold_problem *fold_solver_problem(const fold_solver *s)
{
    return s ? s->prob : NULL;
}

const fold_settings *fold_solver_settings(const fold_solver *s)
{
    return s ? &s->set : NULL;
}
