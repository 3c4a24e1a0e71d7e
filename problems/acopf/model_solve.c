/* Solve an AC-OPF with Ipopt and re-solve warm with flow variables on the branches whose
 * binding thermal limit is too stiff for the tolerance (doc/acopf.md §2.2). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acopf_internal.h"

void fold_acopf_default_solve_options(fold_acopf_solve_options *opt)
{
    opt->max_rounds = FOLD_ACOPF_REFINE_ROUNDS;
    opt->stiff_factor = FOLD_ACOPF_STIFF_FACTOR;
    opt->ipopt_options = NULL;
}

/* The thermal limit of branch b, written in the voltages, adds mu grad|h|^2 to the
 * Hessian of the Lagrangian: entries of about 2 mu |grad h_e|^2. One rounding of a voltage
 * (DBL_EPSILON) then moves the dual residual by that times DBL_EPSILON (doc/acopf.md §2.1). */
static double residual_floor(const fold_acopf *m, fold_int k, const double *p, const double *x,
                             const double *lam)
{
    const fold_acopf_layout *L = &m->L;
    const acopf_branch_data *b = &m->br[k];
    acopf_flow fl;
    acopf_flow_at(m, p, k, x, false, &fl);
    double floor = 0;
    for (int e = 0; e < 4; e++) {
        double mu = fabs(lam[(e < 2 ? L->g_sf : L->g_st) + b->rated_row]), g2 = 0;
        for (int c = 0; c < 4; c++)
            g2 += fl.d[e][c] * fl.d[e][c];
        floor = fmax(floor, 2 * mu * g2 * DBL_EPSILON);
    }
    return floor;
}

/* Flags of the branches that keep flow variables (those of m) or get them (rated branches
 * whose residual floor exceeds `limit`); returns how many are new, -1 out of memory. */
static fold_int stiff_branches(const fold_acopf *m, const double *p, const double *x,
                               const double *lam, double limit, unsigned char **mask)
{
    fold_int added = 0;
    *mask = calloc((size_t)m->cs.n_branch + 1, 1);
    if (!*mask) return -1;
    for (fold_int k = 0; k < m->cs.n_branch; k++) {
        const acopf_branch_data *b = &m->br[k];
        if (b->flow >= 0)
            (*mask)[k] = 1;
        else if (b->rated_row >= 0 && residual_floor(m, k, p, x, lam) > limit)
            (*mask)[k] = 1, added++;
    }
    return added;
}

/* Sum the counts and times of a re-solve into *sum; with take_result also its status,
 * objective and residuals. */
static void add_info(fold_forward_info *sum, const fold_forward_info *next, bool take_result)
{
    fold_forward_info s = take_result ? *next : *sum;
    s.iterations = sum->iterations + next->iterations;
    s.solve_s = sum->solve_s + next->solve_s;
    s.callback_s = sum->callback_s + next->callback_s;
    s.total_s = sum->total_s + next->total_s;
    s.n_eval_f = sum->n_eval_f + next->n_eval_f;
    s.n_eval_g = sum->n_eval_g + next->n_eval_g;
    s.n_eval_grad_f = sum->n_eval_grad_f + next->n_eval_grad_f;
    s.n_eval_jac_g = sum->n_eval_jac_g + next->n_eval_jac_g;
    s.n_eval_hess_l = sum->n_eval_hess_l + next->n_eval_hess_l;
    *sum = s;
}

/* The settings of a warm re-solve. */
void acopf_warm_settings(const fold_settings *set, double spent_s, fold_settings *warm)
{
    *warm = *set;
    if (set->forward.time_limit_s > 0) /* the limit holds for all solves together */
        warm->forward.time_limit_s = fmax(set->forward.time_limit_s - spent_s, 1e-3);
}

fold_status acopf_warm_options(const fold_solver *from, fold_solver *to, bool *added)
{
    const char *name, *value;
    char mu[32];
    fold_status st;
    if (added) *added = false;
    for (fold_int k = 0; from != to && k < fold_solver_ipopt_option_count(from); k++)
        if ((st = fold_solver_ipopt_option(from, k, &name, &value)) ||
            (st = fold_solver_set_ipopt_option(to, name, value)))
            return st;
    for (fold_int k = 0; k < fold_solver_ipopt_option_count(to); k++)
        if (fold_solver_ipopt_option(to, k, &name, NULL) == FOLD_OK && !strcmp(name, "mu_init"))
            return FOLD_OK;
    snprintf(mu, sizeof mu, "%.3g", 0.1 * fold_solver_settings(from)->forward.tol);
    if ((st = fold_solver_set_ipopt_option(to, "mu_init", mu))) return st;
    if (added) *added = true;
    return FOLD_OK;
}

/* A primal-dual point of one model (one allocation). */
typedef struct point {
    double *x, *zl, *zu, *lam;
} point;

static bool point_alloc(const fold_acopf *m, point *pt)
{
    size_t n = (size_t)m->L.n;
    pt->x = malloc((3 * n + (size_t)m->L.m + 1) * sizeof *pt->x);
    pt->zl = pt->x ? pt->x + n : NULL;
    pt->zu = pt->x ? pt->zl + n : NULL;
    pt->lam = pt->x ? pt->zu + n : NULL;
    return pt->x != NULL;
}

/* One re-solve: the model with flow variables on mask, started from pt (the solution of
 * the model m0, in its layout). On success (Ipopt solved or acceptable) *m1 and *s1 receive
 * the new model and its solver. */
static fold_status resolve(const fold_acopf *m0, const unsigned char *mask, const point *pt,
                           const fold_solver *from, double spent_s, const double *p,
                           fold_acopf **m1, fold_solver **s1, fold_forward_info *fi)
{
    fold_acopf_options opt = {.flow_var_max_z = 0, .flow_var_branch = mask};
    fold_settings warm;
    point to = {0};
    *m1 = NULL;
    *s1 = NULL;
    fold_status st = fold_acopf_create_with(&m0->cs, &opt, m1);
    if (st != FOLD_OK) return st;
    if (!point_alloc(*m1, &to)) {
        st = acopf_error(FOLD_ERR_MEMORY, "fold_acopf_solve: out of memory (%s)", m0->cs.name);
        goto done;
    }
    acopf_warm_settings(fold_solver_settings(from), spent_s, &warm);
    if ((st = fold_acopf_convert_point(m0, *m1, p, pt->x, pt->lam, pt->zl, pt->zu, to.x, to.lam,
                                       to.zl, to.zu)) != FOLD_OK ||
        (st = fold_solver_create((*m1)->prob, &warm, s1)) != FOLD_OK ||
        (st = acopf_warm_options(from, *s1, NULL)) != FOLD_OK ||
        (st = fold_solver_set_start(*s1, to.x, to.lam, to.zl, to.zu)) != FOLD_OK)
        goto done;
    st = fold_solve(*s1, p, fi);
done:
    if (st < 0) {
        fold_solver_free(*s1);
        fold_acopf_free(*m1);
        *s1 = NULL;
        *m1 = NULL;
    }
    free(to.x);
    return st;
}

void acopf_info_not_run(fold_forward_info *fi)
{
    *fi = (fold_forward_info)FOLD_FORWARD_INFO_INIT;
    fi->status = FOLD_FWD_NOT_RUN;
    fi->backend = "ipopt";
    fi->objective = fi->kkt_stationarity = fi->kkt_feasibility = fi->kkt_complementarity = NAN;
}

/* The caller's info and sinfo (either may be NULL) checked (FOLD_ERR_ARGUMENT, nothing
 * written) and set to "not run" through *total and *si, so that they are defined on every
 * path, the early failures included. */
static fold_status open_infos(fold_forward_info *info, fold_acopf_solve_info *sinfo,
                              fold_forward_info *total, fold_acopf_solve_info *si)
{
    fold_status st;
    if ((st = fold_sized_open(info, total, sizeof *total, FOLD_FORWARD_INFO_V1, "fold_forward_info",
                              "FOLD_FORWARD_INFO_INIT")) < 0 ||
        (st = fold_sized_open(sinfo, si, sizeof *si, FOLD_ACOPF_SOLVE_INFO_V1,
                              "fold_acopf_solve_info", "FOLD_ACOPF_SOLVE_INFO_INIT")) < 0)
        return st;
    acopf_info_not_run(total);
    *si = (fold_acopf_solve_info){
        .size = sizeof *si, .first_status = FOLD_FWD_NOT_RUN, .failed_status = FOLD_FWD_NOT_RUN};
    fold_sized_close(info, total, sizeof *total);
    fold_sized_close(sinfo, si, sizeof *si);
    return FOLD_OK;
}

static fold_status check_options(const fold_acopf_solve_options *opt, const char *fn)
{
    if (opt->max_rounds < 0 || !(opt->stiff_factor > 0))
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "%s: max_rounds = %d, stiff_factor = %g: need "
                           ">= 0 and > 0",
                           fn, opt->max_rounds, opt->stiff_factor);
    return FOLD_OK;
}

fold_status fold_acopf_solve_on(const fold_acopf *model, fold_solver *solver, const double *p,
                                const fold_acopf_solve_options *opt, fold_acopf **resolved,
                                fold_solver **resolved_solver, fold_forward_info *info,
                                fold_acopf_solve_info *sinfo)
{
    fold_clear_error();
    fold_acopf_solve_options defaults;
    fold_forward_info total = FOLD_FORWARD_INFO_INIT, fi = FOLD_FORWARD_INFO_INIT;
    fold_acopf_solve_info si = FOLD_ACOPF_SOLVE_INFO_INIT;
    const char *fn = "fold_acopf_solve_on";
    fold_status st = open_infos(info, sinfo, &total, &si);
    if (st < 0) return st;
    if (resolved) *resolved = NULL;
    if (resolved_solver) *resolved_solver = NULL;
    if (!model || !solver || !resolved || !resolved_solver)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", fn,
                           !model    ? "model"
                           : !solver ? "solver"
                                     : "resolved");
    fold_acopf_default_solve_options(&defaults);
    if (!opt) opt = &defaults;
    if ((st = check_options(opt, fn))) return st;
    if (fold_solver_problem(solver) != model->prob)
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "%s: the solver was not created for this model's "
                           "problem",
                           fn);
    const fold_settings set = *fold_solver_settings(solver);
    /* the kept solution: the caller's model and solver, or the last re-solve's (owned) */
    const fold_acopf *cur = model;
    fold_acopf *own_m = NULL;
    fold_solver *sv = solver, *own_s = NULL;
    /* Tightening re-solves asked within the solve (forward.resolve_when = solve) wait until
     * this round has chosen the model they tighten: on the first one they would stop at the
     * residual floor that flow variables remove. */
    bool defer = set.forward.resolve_when == FOLD_RESOLVE_AT_SOLVE;
    if (defer) {
        fold_settings first = set;
        first.forward.resolve_when = FOLD_RESOLVE_AT_FOLD;
        if ((st = fold_solver_update_settings(solver, &first)) != FOLD_OK)
            return acopf_error_from_lib(st, fn);
    }
    st = fold_solve(sv, p, &total);
    if (defer) fold_solver_update_settings(solver, &set); /* validated above: cannot fail */
    si.first_status = total.status;
    si.first_iterations = total.iterations;
    bool first_solved = st == FOLD_OK;
    fold_forward_info dropped = FOLD_FORWARD_INFO_INIT; /* counts of a re-solve not kept */
    while ((st == FOLD_WARN_INACCURATE || (st == FOLD_OK && si.rounds == 0)) &&
           si.rounds < opt->max_rounds &&
           !(set.forward.time_limit_s > 0 && total.total_s >= set.forward.time_limit_s)) {
        unsigned char *mask = NULL;
        point pt;
        fold_int added = -1;
        if (point_alloc(cur, &pt) &&
            fold_solver_solution(sv, pt.x, pt.lam, pt.zl, pt.zu, NULL) == FOLD_OK)
            added = stiff_branches(cur, p ? p : cur->p0, pt.x, pt.lam,
                                   opt->stiff_factor * set.forward.tol, &mask);
        if (added <= 0) { /* nothing to change (or no memory): the point reached stands */
            free(pt.x);
            free(mask);
            break;
        }
        fold_acopf *m1;
        fold_solver *s1;
        acopf_info_not_run(&fi);
        fold_status rst = resolve(cur, mask, &pt, solver, total.total_s, p, &m1, &s1, &fi);
        free(pt.x);
        free(mask);
        si.rounds++;
        /* a solved point is replaced only by a solved one */
        bool keep = rst == FOLD_OK || (rst > 0 && !first_solved);
        add_info(&total, &fi, keep);
        if (!keep) { /* the point of the previous model stands */
            if (rst >= 0) {
                fold_solver_free(s1);
                fold_acopf_free(m1);
            }
            dropped = fi;
            si.failed_status = fi.status;
            si.failed = rst;
            break;
        }
        fold_solver_free(own_s);
        fold_acopf_free(own_m);
        cur = own_m = m1;
        sv = own_s = s1;
        si.n_flow_added += added;
        st = rst;
    }
    if (defer && !own_s && st == FOLD_OK) {
        /* the first model kept: its tightening re-solves now (a kept re-solve ran its own) */
        fold_forward_info done = FOLD_FORWARD_INFO_INIT;
        fold_status fst = fold_solve_finish(sv, &done);
        if (fst < 0) st = fst;
        if (done.status != FOLD_FWD_NOT_RUN) {
            add_info(&done, &dropped, false);
            total = done;
        }
    }
    *resolved = own_m;
    *resolved_solver = own_s;
    fold_sized_close(info, &total, sizeof total);
    fold_sized_close(sinfo, &si, sizeof si);
    return st;
}

fold_status fold_acopf_solve(fold_acopf **model, const fold_settings *set, const double *p,
                             const fold_acopf_solve_options *opt, fold_solver **solver,
                             fold_forward_info *info, fold_acopf_solve_info *sinfo)
{
    fold_acopf_solve_options defaults;
    fold_forward_info total = FOLD_FORWARD_INFO_INIT;
    fold_acopf_solve_info si = FOLD_ACOPF_SOLVE_INFO_INIT;
    fold_solver *sv = NULL;
    fold_clear_error();
    fold_status st = open_infos(info, sinfo, &total, &si);
    if (st < 0) return st;
    if (solver) *solver = NULL;
    if (!model || !*model || !solver)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_solve: %s is NULL",
                           solver ? "model" : "solver");
    fold_acopf_default_solve_options(&defaults);
    if ((st = check_options(opt ? opt : &defaults, "fold_acopf_solve"))) return st;
    if ((st = fold_solver_create((*model)->prob, set, &sv)) != FOLD_OK)
        return acopf_error_from_lib(st, "fold_acopf_solve");
    if (opt && (st = fold_solver_set_ipopt_options(sv, opt->ipopt_options)) != FOLD_OK) {
        fold_solver_free(sv);
        return acopf_error_from_lib(st, "fold_acopf_solve: opt.ipopt_options");
    }
    fold_acopf *m1;
    fold_solver *s1;
    st = fold_acopf_solve_on(*model, sv, p, opt, &m1, &s1, info, sinfo);
    if (m1) { /* a re-solve kept: its model replaces the caller's */
        fold_solver_free(sv);
        fold_acopf_free(*model);
        *model = m1;
        sv = s1;
    }
    *solver = sv;
    return st;
}
