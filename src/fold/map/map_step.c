/* The fold map of a built-in update step (projected or proximal gradient) at a point x:
 * Phi = J (I - a H), Psi = -a J C with exact projection Jacobians (doc/iterative.md §4). */
#include "fold/map/map_internal.h"
#include "forward/iterative/iter_internal.h"

typedef struct step_map {
    fold_iter_step *step;
    double *x, *p, *y, *xn;
} step_map;

static fold_status sm_phi(void *impl, bool transpose, const double *v, double *out)
{
    step_map *m = impl;
    return fold_iter_step_phi(m->step, m->x, m->p, m->y, m->xn, transpose, v, out);
}

static fold_status sm_psi(void *impl, const double *dp, double *out)
{
    step_map *m = impl;
    return fold_iter_step_psi(m->step, m->x, m->p, m->y, m->xn, dp, out);
}

static fold_status sm_psit(void *impl, const double *w, double *out)
{
    step_map *m = impl;
    return fold_iter_step_psit(m->step, m->x, m->p, m->y, m->xn, w, out);
}

static void sm_free(void *impl)
{
    step_map *m = impl;
    if (!m) return;
    fold_iter_step_free(m->step);
    free(m->x);
    free(m->p);
    free(m->y);
    free(m->xn);
    free(m);
}

static const fold_map_ops step_ops = {"step", sm_phi, sm_psi, sm_psit, NULL, sm_free};

fold_status fold_iter_map(const fold_iter_def *def, const double *x, const double *p,
                          fold_map **out)
{
    fold_clear_error();
    static const char *FN = "fold_iter_map";
    fold_status st;
    step_map *m;
    fold_int n, np;
    if ((st = fold_check_not_null(out, FN, "out")) < 0) return st;
    if (!(m = fold_calloc(1, sizeof *m, "step map"))) return FOLD_ERR_MEMORY;
    if ((st = fold_iter_step_create(def, FN, &m->step)) < 0) goto fail;
    n = m->step->n;
    np = m->step->np;
    if ((st = fold_check_not_null(x, FN, "x")) < 0 || (st = fold_check_finite(x, n, FN, "x")) < 0 ||
        (np > 0 && (st = fold_check_not_null(p, FN, "p")) < 0) ||
        (np > 0 && (st = fold_check_finite(p, np, FN, "p")) < 0))
        goto fail;
    m->x = fold_dup_doubles(x, n, "step map x");
    m->p = fold_malloc((size_t)(np > 0 ? np : 1), sizeof(double), "step map p");
    m->y = fold_malloc((size_t)n, sizeof(double), "step map y");
    m->xn = fold_malloc((size_t)n, sizeof(double), "step map U(x)");
    if (!m->x || !m->p || !m->y || !m->xn) {
        st = FOLD_ERR_MEMORY;
        goto fail;
    }
    if (np > 0) memcpy(m->p, p, (size_t)np * sizeof(double));
    if ((st = fold_iter_step_eval(m->step, m->x, m->p, m->y, m->xn)) < 0) goto fail;
    /* Phi = J (I - aH) is symmetric only without a projection (J = I). */
    bool sym = def->kind == FOLD_ITER_PGD && m->step->set->kind == FOLD_SET_FREE;
    return fold_map_create_kind(
        FN, def->kind == FOLD_ITER_PGD ? "projected gradient" : "proximal gradient (l1)", n, np,
        sym, &step_ops, m, out);
fail:
    sm_free(m);
    return st;
}
