/* The generic scenario model of a fold_problem: solve with fold_solve from the start the
 * engine gives, record selected entries of x and a VJP / JVP / Jacobian block / value
 * gradient, answer keep-mode backward requests (doc/api/batch.md, "Problem model"). */
#include "batch/batch_internal.h"
#include "forward/solver_internal.h"

#define FN "fold_batch_problem_model"

typedef struct spec {
    const fold_problem *prob;
    fold_settings set;
    fold_solver *ipopt; /* holds the spec's Ipopt options (checked once), copied to each solver */
    fold_int n, m, np, n_out, n_cols;
    fold_int *out_x, *cols;
    int sens;
    double *ybar, *dp;
    bool warm_duals;
} spec;

typedef struct worker {
    const spec *s;
    fold_solver *shared; /* reused by the solves of one chain (streaming) */
    double *xbar, *pbar, *dx, *grad;
} worker;

typedef struct state {
    fold_solver *own;    /* keep mode (and the anchor): the state's own solver */
    fold_solver *solver; /* own or the worker's shared one */
    double *x, *lam, *zl, *zu;
} state;

static void dispose(void *user_data)
{
    spec *s = user_data;
    if (!s) return;
    fold_solver_free(s->ipopt);
    free(s->out_x);
    free(s->cols);
    free(s->ybar);
    free(s->dp);
    free(s);
}

static void destroy(void *model)
{
    worker *w = model;
    fold_solver_free(w->shared);
    free(w->xbar);
    free(w->pbar);
    free(w->dx);
    free(w->grad);
    free(w);
}

static fold_status create(void *user_data, void **model, char *message)
{
    (void)message;
    const spec *s = user_data;
    worker *w = fold_calloc(1, sizeof *w, "batch problem worker");
    if (!w) return FOLD_ERR_MEMORY;
    w->s = s;
    w->xbar = fold_calloc((size_t)s->n + 1, sizeof(double), "xbar");
    w->pbar = fold_calloc((size_t)s->np + 1, sizeof(double), "pbar");
    w->dx = fold_calloc((size_t)s->n + 1, sizeof(double), "dx");
    w->grad = fold_calloc((size_t)s->np + 1, sizeof(double), "grad");
    if (!w->xbar || !w->pbar || !w->dx || !w->grad) {
        destroy(w);
        return FOLD_ERR_MEMORY;
    }
    *model = w;
    return FOLD_OK;
}

static void release(void *model, void *st)
{
    (void)model;
    state *z = st;
    fold_solver_free(z->own);
    free(z->x);
    free(z);
}

static fold_status solve(void *model, const fold_batch_solve_args *a, void **out,
                         fold_forward_info *info, char *message)
{
    worker *w = model;
    const spec *s = w->s;
    fold_status st;
    state *z = fold_calloc(1, sizeof *z, "batch state");
    if (!z) return FOLD_ERR_MEMORY;
    size_t n = (size_t)s->n;
    z->x = fold_malloc(3 * n + (size_t)s->m + 1, sizeof(double), "batch state point");
    if (!z->x) {
        free(z);
        return FOLD_ERR_MEMORY;
    }
    z->zl = z->x + n;
    z->zu = z->zl + n;
    z->lam = z->zu + n;
    if (a->keep) {
        st = fold_solver_create(s->prob, &s->set, &z->own);
        if (st == FOLD_OK) st = fold_solver_copy_ipopt_options(z->own, s->ipopt);
        z->solver = z->own;
    } else {
        if (a->new_chain || !w->shared) { /* nothing carried over from another chain */
            fold_solver_free(w->shared);
            w->shared = NULL;
            st = fold_solver_create(s->prob, &s->set, &w->shared);
            if (st == FOLD_OK) st = fold_solver_copy_ipopt_options(w->shared, s->ipopt);
        } else {
            st = FOLD_OK;
        }
        z->solver = w->shared;
    }
    if (st == FOLD_OK) {
        const state *from = a->start;
        if (from)
            st = fold_solver_set_start(z->solver, from->x, s->warm_duals ? from->lam : NULL,
                                       s->warm_duals ? from->zl : NULL,
                                       s->warm_duals ? from->zu : NULL);
        else { /* cold: the problem's start, not the solver's last solution */
            fold_problem_start_point(s->prob, z->x);
            st = fold_solver_set_start(z->solver, z->x, NULL, NULL, NULL);
        }
    }
    if (st == FOLD_OK) {
        st = fold_solve(z->solver, a->p, info);
        /* outputs and derivatives of one point: the one the fold differentiates, tightened
         * now (the next scenario starts from it, as when fold_solve tightens) */
        if (st == FOLD_OK && s->sens != FOLD_BATCH_SENS_NONE)
            st = fold_solve_finish(z->solver, info);
        if (st >= 0) fold_solver_solution(z->solver, z->x, z->lam, z->zl, z->zu, NULL);
    }
    if (st != FOLD_OK) snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
    *out = z;
    return st;
}

static fold_status record(void *model, void *st, double *outputs, double *sens,
                          fold_backward_info *bwd, char *message)
{
    worker *w = model;
    const spec *s = w->s;
    state *z = st;
    fold_status rc = FOLD_OK;
    for (fold_int k = 0; k < s->n_out; k++)
        outputs[k] = z->x[s->out_x[k]];
    switch (s->sens) {
    case FOLD_BATCH_SENS_VJP:
        memset(w->xbar, 0, (size_t)s->n * sizeof(double));
        for (fold_int k = 0; k < s->n_out; k++)
            w->xbar[s->out_x[k]] += s->ybar[k];
        rc = fold_vjp(z->solver, &(fold_zbar){.x = w->xbar}, w->pbar, bwd);
        for (fold_int c = 0; rc >= 0 && c < s->n_cols; c++)
            sens[c] = w->pbar[s->cols[c]];
        break;
    case FOLD_BATCH_SENS_JVP:
        rc = fold_jvp(z->solver, s->dp, &(fold_dz){.x = w->dx}, bwd);
        for (fold_int k = 0; rc >= 0 && k < s->n_out; k++)
            sens[k] = w->dx[s->out_x[k]];
        break;
    case FOLD_BATCH_SENS_JACOBIAN:
        rc = fold_jacobian(z->solver,
                           &(fold_jacobian_sel){.of = FOLD_BLOCK_X,
                                                .n_rows = s->n_out,
                                                .rows = s->out_x,
                                                .n_cols = s->n_cols,
                                                .cols = s->cols},
                           sens, bwd);
        break;
    case FOLD_BATCH_SENS_VALUE:
        rc = fold_value_gradient(z->solver, w->grad);
        for (fold_int c = 0; rc >= 0 && c < s->n_cols; c++)
            sens[c] = w->grad[s->cols[c]];
        break;
    default:
        break;
    }
    if (rc != FOLD_OK) snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
    return rc;
}

static fold_status vjp(void *model, void *st, const double *ybar, double *pbar, char *message)
{
    worker *w = model;
    const spec *s = w->s;
    memset(w->xbar, 0, (size_t)s->n * sizeof(double));
    for (fold_int k = 0; k < s->n_out; k++)
        w->xbar[s->out_x[k]] += ybar[k];
    fold_status rc = fold_vjp(((state *)st)->solver, &(fold_zbar){.x = w->xbar}, pbar, NULL);
    if (rc != FOLD_OK) snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
    return rc;
}

static fold_status jvp(void *model, void *st, const double *dp, double *ydot, char *message)
{
    worker *w = model;
    const spec *s = w->s;
    fold_status rc = fold_jvp(((state *)st)->solver, dp, &(fold_dz){.x = w->dx}, NULL);
    for (fold_int k = 0; rc >= 0 && k < s->n_out; k++)
        ydot[k] = w->dx[s->out_x[k]];
    if (rc != FOLD_OK) snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
    return rc;
}

static fold_status jacobian(void *model, void *st, fold_int n_rows, const fold_int *rows,
                            fold_int n_cols, const fold_int *cols, double *J, char *message)
{
    worker *w = model;
    const spec *s = w->s;
    fold_int *xr = fold_malloc((size_t)n_rows + 1, sizeof *xr, "jacobian rows");
    if (!xr) return FOLD_ERR_MEMORY;
    for (fold_int k = 0; k < n_rows; k++)
        xr[k] = s->out_x[rows[k]];
    fold_status rc = fold_jacobian(
        ((state *)st)->solver,
        &(fold_jacobian_sel){
            .of = FOLD_BLOCK_X, .n_rows = n_rows, .rows = xr, .n_cols = n_cols, .cols = cols},
        J, NULL);
    free(xr);
    if (rc != FOLD_OK) snprintf(message, FOLD_BATCH_MESSAGE_LEN, "%s", fold_last_error());
    return rc;
}

/* The report of the last derivative on the state's solver (the record's, or a backward
 * request's). */
static fold_status trust(void *model, void *st, const fold_trust_item **items, fold_int *count)
{
    (void)model;
    return fold_trust_report(((state *)st)->solver, items, count);
}

static fold_status check_spec(const fold_batch_problem_spec *in, fold_int n, fold_int np)
{
    fold_status st;
    if (in->sens < FOLD_BATCH_SENS_NONE || in->sens > FOLD_BATCH_SENS_VALUE)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: sens = %d is not a fold_batch_sens", FN,
                          in->sens);
    if (in->out_x && (st = fold_check_index_list(in->out_x, in->n_out, n, FN, "out_x"))) return st;
    if (!in->out_x && in->n_out != 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: out_x is NULL with n_out = %lld (0: all x)", FN,
                          (long long)in->n_out);
    if (in->cols && (st = fold_check_index_list(in->cols, in->n_cols, np, FN, "cols"))) return st;
    if (!in->cols && in->n_cols != 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: cols is NULL with n_cols = %lld (0: all)", FN,
                          (long long)in->n_cols);
    if (in->sens != FOLD_BATCH_SENS_NONE && !fold_problem_has_param_derivatives(in->problem))
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                          "%s: sens needs the problem's parameter "
                          "derivatives (grad_f_p, hess_lp, jac_g_p)",
                          FN);
    return FOLD_OK;
}

static fold_int *index_copy(const fold_int *v, fold_int n)
{
    fold_int *c = fold_malloc((size_t)n + 1, sizeof *c, "batch problem indices");
    for (fold_int k = 0; c && k < n; k++)
        c[k] = v ? v[k] : k;
    return c;
}

fold_status fold_batch_problem_model(const fold_batch_problem_spec *in, fold_batch_model *model)
{
    fold_clear_error();
    if (!in || !model || !in->problem)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", FN,
                          !in      ? "spec"
                          : !model ? "model"
                                   : "spec.problem");
    fold_int n, m, np;
    fold_problem_dims(in->problem, &n, &m, &np);
    fold_settings set;
    fold_status st = check_spec(in, n, np);
    if (st) return st;
    if ((st = fold_settings_copy_in(in->settings, &set)))
        return fold_error_context(st, "%s: settings", FN);
    spec *s = fold_calloc(1, sizeof *s, FN);
    if (!s) return FOLD_ERR_MEMORY;
    s->prob = in->problem;
    s->set = set;
    s->n = n, s->m = m, s->np = np;
    s->n_out = in->out_x ? in->n_out : n;
    s->n_cols = in->cols ? in->n_cols : np;
    s->sens = in->sens;
    s->warm_duals = in->warm_duals;
    s->out_x = index_copy(in->out_x, s->n_out);
    s->cols = index_copy(in->cols, s->n_cols);
    bool vjp_ok = in->sens != FOLD_BATCH_SENS_VJP || in->ybar;
    bool jvp_ok = in->sens != FOLD_BATCH_SENS_JVP || in->dp;
    if (vjp_ok && jvp_ok && in->sens == FOLD_BATCH_SENS_VJP) {
        s->ybar = fold_dup_doubles(in->ybar, s->n_out, "ybar");
        st = s->ybar ? fold_check_finite(s->ybar, s->n_out, FN, "ybar") : FOLD_ERR_MEMORY;
    } else if (vjp_ok && jvp_ok && in->sens == FOLD_BATCH_SENS_JVP) {
        s->dp = fold_dup_doubles(in->dp, np, "dp");
        st = s->dp ? fold_check_finite(s->dp, np, FN, "dp") : FOLD_ERR_MEMORY;
    } else if (!vjp_ok || !jvp_ok) {
        st = fold_error(FOLD_ERR_ARGUMENT, "%s: sens = %s needs %s", FN, vjp_ok ? "jvp" : "vjp",
                        vjp_ok ? "dp" : "ybar");
    }
    if (!st && (!s->out_x || !s->cols)) st = FOLD_ERR_MEMORY;
    if (!st && !(st = fold_solver_create(s->prob, &s->set, &s->ipopt)) &&
        (st = fold_solver_set_ipopt_options(s->ipopt, in->ipopt_options)))
        st = fold_error_context(st, "%s: ipopt_options", FN);
    if (st) {
        dispose(s);
        return st;
    }
    fold_int n_sens[] = {0, s->n_cols, s->n_out, s->n_out * s->n_cols, s->n_cols};
    *model = (fold_batch_model){.name = "problem",
                                .np = np,
                                .n_out = s->n_out,
                                .n_sens = n_sens[s->sens],
                                .user_data = s,
                                .create = create,
                                .destroy = destroy,
                                .solve = solve,
                                .record = record,
                                .release = release,
                                .vjp = vjp,
                                .jvp = jvp,
                                .jacobian = jacobian,
                                .trust = trust,
                                .dispose = dispose};
    return FOLD_OK;
}

void fold_batch_model_dispose(fold_batch_model *model)
{
    if (model && model->dispose) model->dispose(model->user_data);
}
