/* Registry of the learning tasks: defaults, validated creation, release
 * (doc/learning.md §4). */
#include <stdlib.h>
#include <string.h>

#include "learning/learning.h"
#include "learning/tasks.h"

typedef struct task_entry {
    const char *name;
    fold_status (*create)(const learn_config *c, learn_task *t);
    unsigned backward_mask; /* bit b set: learn_backward b is available */
} task_entry;

#define BIT(b) (1u << (b))
#define ALL_BACKWARDS                                                                              \
    (BIT(LEARN_BACKWARD_DIRECT) | BIT(LEARN_BACKWARD_LFPI) | BIT(LEARN_BACKWARD_GMRES) |           \
     BIT(LEARN_BACKWARD_UNROLL))

static const task_entry entries[] = {
    {"qp", learn_qp_create, ALL_BACKWARDS},
    {"portfolio", learn_portfolio_create, ALL_BACKWARDS},
    {"denoise", learn_denoise_create, ALL_BACKWARDS},
    {"topk", learn_topk_create, ALL_BACKWARDS},
};

#define N_TASKS (sizeof entries / sizeof entries[0])

static const char *const names[] = {"qp", "portfolio", "denoise", "topk", NULL};

const char *const *learn_task_names(void)
{
    return names;
}

static const task_entry *find(const char *name)
{
    for (size_t i = 0; name && i < N_TASKS; i++)
        if (!strcmp(name, entries[i].name)) return &entries[i];
    return NULL;
}

fold_status learn_config_default(const char *name, learn_config *c)
{
    fold_clear_error();
    if (!c) return learn_error(FOLD_ERR_ARGUMENT, "learn_config_default: config is NULL");
    if (!find(name))
        return learn_error(FOLD_ERR_ARGUMENT, "learn_config_default: unknown task '%s'",
                           name ? name : "(null)");
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->backward = LEARN_BACKWARD_DIRECT;
    c->noise = 0.5;
    c->deg = 4;
    c->n_train = 200;
    c->n_test = 100;
    c->n_feat = 5;
    if (!strcmp(name, "qp")) {
        c->size = 100;
        c->n_eq = 50;
        c->n_ineq = 50;
        c->slack = 1.0;
        c->n_train = 100;
        c->n_test = 50;
    } else if (!strcmp(name, "portfolio")) {
        c->size = 50;
        c->n_train = 100;
        c->n_test = 50;
    } else if (!strcmp(name, "denoise")) {
        c->size = 48;
        c->lambda = 1.0;
        c->noise = 0.3;
        c->n_train = 100;
        c->n_test = 50;
    } else {
        c->size = 20;
        c->k = 3;
        c->deg = 3;
        c->noise = 0.3;
    }
    return FOLD_OK;
}

void learn_task_free(learn_task *t)
{
    if (!t) return;
    if (t->ops && t->ops->free_data) t->ops->free_data(t->data);
    free(t->feat);
    free(t->target);
    free(t->q_baseline);
    free(t);
}

fold_status learn_task_create(const char *name, const learn_config *c, learn_task **out)
{
    fold_clear_error();
    const task_entry *e = find(name);
    learn_task *t;
    fold_status st;
    if (!out) return learn_error(FOLD_ERR_ARGUMENT, "learn_task_create: out is NULL");
    *out = NULL;
    if (!e)
        return learn_error(FOLD_ERR_ARGUMENT, "learn_task_create: unknown task '%s'",
                           name ? name : "(null)");
    if (!c) return learn_error(FOLD_ERR_ARGUMENT, "learn_task_create: config is NULL");
    if (c->n_train < 1 || c->n_test < 1 || c->size < 2 || c->n_feat < 0 ||
        (strcmp(name, "denoise") && c->n_feat < 1))
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_task_create: %s: n_train = %lld, n_test = "
                           "%lld, size = %lld, n_feat = %lld",
                           name, (long long)c->n_train, (long long)c->n_test, (long long)c->size,
                           (long long)c->n_feat);
    if (c->deg < 1 || !(c->noise >= 0) || !isfinite(c->noise))
        return learn_error(FOLD_ERR_ARGUMENT, "learn_task_create: %s: deg = %d, noise = %g", name,
                           c->deg, c->noise);
    if (c->backward < 0 || c->backward > LEARN_BACKWARD_UNROLL ||
        !(e->backward_mask & BIT(c->backward)))
        return learn_error(FOLD_ERR_UNSUPPORTED,
                           "learn_task_create: %s: backward '%s' is not "
                           "available for this task",
                           name, learn_backward_name(c->backward));
    if (c->unroll_iters < 0 ||
        (c->unroll_iters > 0 && (c->backward != LEARN_BACKWARD_UNROLL || !strcmp(name, "denoise"))))
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_task_create: %s: unroll_iters = %lld (a "
                           "fixed count of unrolled steps needs backward unroll on qp, "
                           "portfolio or topk)",
                           name, (long long)c->unroll_iters);
    t = calloc(1, sizeof *t);
    if (!t) return learn_error(FOLD_ERR_MEMORY, "learn_task_create: task");
    t->name = e->name;
    t->n_train = c->n_train;
    t->n_test = c->n_test;
    t->backward = c->backward;
    t->unroll_iters = c->unroll_iters;
    t->lr_hint = 0.05;
    t->step_hessian = LEARN_STEP_IDENTITY;
    t->step_scale = 1.0;
    st = e->create(c, t);
    if (st != FOLD_OK) {
        learn_task_free(t);
        return st;
    }
    *out = t;
    return FOLD_OK;
}

fold_status learn_task_set_step(learn_task *t, int hessian, double scale)
{
    fold_clear_error();
    if (!t || (strcmp(t->name, "portfolio") && strcmp(t->name, "qp")))
        return learn_error(FOLD_ERR_ARGUMENT, "learn_task_set_step: the SQP step belongs to the "
                                              "qp and portfolio tasks");
    if ((hessian != LEARN_STEP_IDENTITY && hessian != LEARN_STEP_DIAGONAL) || !(scale > 0.5) ||
        !isfinite(scale))
        return learn_error(FOLD_ERR_ARGUMENT,
                           "learn_task_set_step: hessian = %d, scale = %g "
                           "(need identity or diagonal, scale > 0.5)",
                           hessian, scale);
    t->step_hessian = hessian;
    t->step_scale = scale;
    return FOLD_OK;
}
