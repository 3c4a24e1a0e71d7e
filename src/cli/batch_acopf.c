/* foldopt batch: the AC-OPF scenario model run by the workers. Each worker builds the
 * case's model once; a scenario is solved by fold_acopf_solve_on (re-solve policy of
 * doc/acopf.md §2.2) from the start the engine gives, then differentiated exactly as
 * foldopt opf does (opf_differentiate), trust report included. doc/cli.md. */
#include <stdlib.h>
#include <string.h>

#include "cmd_batch.h"

typedef struct acopf_worker {
    const batch_acopf_spec *spec;
    opf_run r;           /* the options, and the scenario being recorded */
    fold_acopf *base;    /* the model built once */
    fold_solver *shared; /* reused by the solves of one chain */
    double *buf;         /* a point of the base model (3 n + m of its layout) */
} acopf_worker;

typedef struct acopf_state {
    fold_acopf *model;   /* a kept re-solve's model (owned); NULL: the base */
    fold_solver *solver; /* owned (keep mode, anchor, re-solve); NULL: the shared one */
    fold_forward_info fwd;
    fold_acopf_solve_info refine;
    fold_status st;
    double *x, *lam, *zl, *zu; /* the solution, in the layout of its model */
} acopf_state;

static void destroy(void *model)
{
    acopf_worker *w = model;
    fold_solver_free(w->shared);
    fold_acopf_free(w->base);
    /* what opf_backward allocated in this worker (the rest of r is the parent's) */
    free(w->r.values);
    free(w->r.lo);
    opf_trust_free(&w->r);
    free(w->buf);
    free(w);
}

static fold_status create(void *user_data, void **model, char *message)
{
    const batch_acopf_spec *spec = user_data;
    acopf_worker *w = calloc(1, sizeof *w);
    if (!w) return FOLD_ERR_MEMORY;
    w->spec = spec;
    /* the parent's options and selection (outputs, weights, columns, direction): the worker
     * is a fork of it and reads them only; its own sensitivities go to r.values */
    w->r = *spec->args;
    w->r.values = NULL;
    w->r.progress = 0;
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = spec->args->flow_var_max_z;
    opt.start = spec->args->start;
    fold_status st = fold_acopf_create_with(spec->cs, &opt, &w->base);
    if (st != FOLD_OK) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
        destroy(w);
        return st;
    }
    w->r.model = w->base;
    w->r.cs = fold_acopf_get_case(w->base);
    w->r.L = fold_acopf_get_layout(w->base);
    w->buf = malloc((3 * (size_t)w->r.L.n + (size_t)w->r.L.m + 1) * sizeof *w->buf);
    if (!w->buf) {
        destroy(w);
        return FOLD_ERR_MEMORY;
    }
    *model = w;
    return FOLD_OK;
}

static const fold_acopf *model_of(const acopf_worker *w, const acopf_state *z)
{
    return z->model ? z->model : w->base;
}

static void release(void *model, void *state)
{
    (void)model; /* the state owns its model */
    acopf_state *z = state;
    fold_solver_free(z->solver);
    fold_acopf_free(z->model);
    free(z->x);
    free(z);
}

/* Start the solver from the state `from` (converted to the base layout at the parameters p
 * about to be solved when a re-solve gave it flow variables on more branches), or cold from
 * the model's flat start. */
static fold_status set_start(acopf_worker *w, fold_solver *s, const acopf_state *from,
                             const double *p)
{
    /* the base model's layout, which buf is sized for (w->r.L follows the model of the
     * scenario last recorded, which a re-solve may have given flow variables) */
    fold_acopf_layout L = fold_acopf_get_layout(w->base);
    size_t n = (size_t)L.n;
    double *x = w->buf, *zl = x + n, *zu = zl + n, *lam = zu + n;
    bool duals = w->spec->warm_duals;
    if (!from) {
        fold_problem_start_point(fold_acopf_problem(w->base), x);
        return fold_solver_set_start(s, x, NULL, NULL, NULL);
    }
    if (from->model) {
        fold_status st = fold_acopf_convert_point(from->model, w->base, p, from->x, from->lam,
                                                  from->zl, from->zu, x, lam, zl, zu);
        if (st != FOLD_OK) return st;
    } else {
        x = from->x, lam = from->lam, zl = from->zl, zu = from->zu;
    }
    return duals ? fold_solver_set_start(s, x, lam, zl, zu)
                 : fold_solver_set_start(s, x, NULL, NULL, NULL);
}

static fold_status solve(void *model, const fold_batch_solve_args *a, void **out,
                         fold_forward_info *info, char *message)
{
    acopf_worker *w = model;
    const fold_problem *prob = fold_acopf_problem(w->base);
    const fold_settings *set = &w->spec->args->settings;
    fold_solver *own = NULL, *s;
    fold_status st = FOLD_OK;
    acopf_state *z = calloc(1, sizeof *z);
    if (!z) return FOLD_ERR_MEMORY;
    z->refine = (fold_acopf_solve_info)FOLD_ACOPF_SOLVE_INFO_INIT;
    const char *const *ipopt = (const char *const *)w->spec->args->ipopt.list;
    if (a->keep) {
        st = fold_solver_create(prob, set, &own);
        if (st == FOLD_OK) st = fold_solver_set_ipopt_options(own, ipopt);
        s = own;
    } else {
        if (a->new_chain || !w->shared) { /* nothing carried over from another chain */
            fold_solver_free(w->shared);
            w->shared = NULL;
            st = fold_solver_create(prob, set, &w->shared);
            if (st == FOLD_OK) st = fold_solver_set_ipopt_options(w->shared, ipopt);
        }
        s = w->shared;
    }
    if (st == FOLD_OK && (st = set_start(w, s, a->start, a->p)) == FOLD_OK) {
        fold_acopf_solve_options so;
        fold_acopf_default_solve_options(&so);
        so.max_rounds = (int)w->r.resolves;
        st = fold_acopf_solve_on(w->base, s, a->p, &so, &z->model, &z->solver, info, &z->refine);
        if (z->solver) /* a kept re-solve: its own model and solver */
            fold_solver_free(own);
        else
            z->solver = own;
    } else {
        fold_solver_free(own);
    }
    z->st = st;
    z->fwd = *info;
    fold_acopf_layout L = fold_acopf_get_layout(model_of(w, z));
    size_t n = (size_t)L.n;
    z->x = malloc((3 * n + (size_t)L.m + 1) * sizeof *z->x);
    if (!z->x) {
        release(w, z);
        return FOLD_ERR_MEMORY;
    }
    z->zl = z->x + n;
    z->zu = z->zl + n;
    z->lam = z->zu + n;
    if (st >= 0) fold_solver_solution(z->solver ? z->solver : s, z->x, z->lam, z->zl, z->zu, NULL);
    if (st != FOLD_OK) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "forward solve %s: %s",
                 fold_forward_status_string(info->status), fold_last_error());
    }
    *out = z;
    return st;
}

static fold_status record(void *model, void *state, double *outputs, double *sens,
                          fold_backward_info *bwd, char *message)
{
    acopf_worker *w = model;
    acopf_state *z = state;
    opf_run *r = &w->r;
    r->model = (fold_acopf *)model_of(w, z);
    r->cs = fold_acopf_get_case(r->model);
    r->L = fold_acopf_get_layout(r->model);
    r->solver = z->solver ? z->solver : w->shared;
    r->x = z->x;
    r->fwd = z->fwd;
    r->fwd_status = z->st;
    r->refine = z->refine;
    fold_status st = fold_acopf_output_values(r->model, r->solver, r->n_rows, r->outs, outputs);
    if (st != FOLD_OK) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "outputs: %s", fold_last_error());
        return st;
    }
    if (!opf_has_wrt(r)) return FOLD_OK;
    /* every scenario starts in the KKT form asked for (a fallback of the previous one
     * changed the shared solver's) */
    r->settings = w->spec->args->settings;
    if (fold_solver_settings(r->solver)->backward.kkt_form != r->settings.backward.kkt_form &&
        fold_solver_update_settings(r->solver, &r->settings) != FOLD_OK) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
        return FOLD_ERR_SETTING;
    }
    st = opf_differentiate(r);
    if (st >= 0) memcpy(sens, r->values, (size_t)opf_n_entries(r) * sizeof *sens);
    if (r->has_bwd_info) *bwd = r->bwd;
    /* the message buffer is shorter than both details together: each is cut to fit */
    if (st != FOLD_OK)
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "backward: %.500s%s%.480s", r->bwd_msg,
                 r->kkt_fallback[0] ? "; barrier form used: " : "", r->kkt_fallback);
    else if (r->kkt_fallback[0])
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "barrier form used: %.1000s", r->kkt_fallback);
    return st;
}

/* The trust report of the sensitivities just recorded (the engine asks right after record):
 * foldopt opf's items, in the numbering of the values the record sent. */
static fold_status trust(void *model, void *state, const fold_trust_item **items, fold_int *count)
{
    (void)state;
    const acopf_worker *w = model;
    *items = w->r.trust;
    *count = w->r.n_trust;
    return FOLD_OK;
}

fold_batch_model batch_acopf_model(const batch_acopf_spec *spec, fold_int n_out, fold_int n_sens)
{
    const fold_acopf_layout *L = &spec->args->L;
    return (fold_batch_model){.name = spec->cs->name,
                              .np = L->np,
                              .n_out = n_out,
                              .n_sens = n_sens,
                              .user_data = (void *)spec,
                              .create = create,
                              .destroy = destroy,
                              .solve = solve,
                              .record = record,
                              .release = release,
                              .trust = trust};
}
