/* One differentiation of an AC-OPF solution as foldopt opf does it: the call of the mode, and
 * the switch to the barrier KKT form when the active-set form refuses (doc/acopf.md §5, §7;
 * doc/api/acopf.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acopf/acopf_internal.h"

static const char *FN = "fold_acopf_differentiate";

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static fold_status check_request(const fold_acopf *m, const fold_solver *sv,
                                 const fold_acopf_diff_request *rq, const double *values)
{
    if (!m || !sv || !rq || !values)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", FN,
                           !m    ? "model"
                           : !sv ? "solver"
                           : !rq ? "request"
                                 : "values");
    if (rq->mode < FOLD_ACOPF_DIFF_VALUE || rq->mode > FOLD_ACOPF_DIFF_JACOBIAN)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: mode %d is not a fold_acopf_diff_mode", FN,
                           rq->mode);
    fold_int np = fold_acopf_get_layout(m).np;
    if (rq->mode == FOLD_ACOPF_DIFF_JVP) {
        if (!rq->dp) return acopf_error(FOLD_ERR_ARGUMENT, "%s: dp is NULL (mode jvp)", FN);
        return FOLD_OK;
    }
    if (rq->n_cols < 0 || (!rq->cols && rq->n_cols != np))
        return acopf_error(FOLD_ERR_DIMENSION, "%s: n_cols = %ld with cols NULL (need np = %ld)",
                           FN, (long)rq->n_cols, (long)np);
    for (fold_int c = 0; rq->cols && c < rq->n_cols; c++)
        if (rq->cols[c] < 0 || rq->cols[c] >= np)
            return acopf_error(FOLD_ERR_ARGUMENT, "%s: cols[%ld] = %ld outside [0,%ld)", FN,
                               (long)c, (long)rq->cols[c], (long)np);
    return FOLD_OK;
}

/* VALUE and VJP give the gradient over all parameters: pick the columns. */
static fold_status gradient_call(const fold_acopf *m, fold_solver *sv,
                                 const fold_acopf_diff_request *rq, double *values,
                                 fold_backward_info *bwd)
{
    fold_int np = fold_acopf_get_layout(m).np;
    double *pbar = malloc(((size_t)np + 1) * sizeof *pbar);
    if (!pbar) return acopf_error(FOLD_ERR_MEMORY, "%s: out of memory", FN);
    fold_status st;
    if (rq->mode == FOLD_ACOPF_DIFF_VALUE) { /* envelope theorem: no solve */
        st = fold_value_gradient(sv, pbar);
        if (st != FOLD_OK) acopf_error_from_lib(st, FN);
    } else {
        st = fold_acopf_vjp(m, sv, rq->n_out, rq->out, rq->weights, pbar, bwd);
    }
    for (fold_int c = 0; st >= 0 && c < rq->n_cols; c++)
        values[c] = pbar[rq->cols ? rq->cols[c] : c];
    free(pbar);
    return st;
}

static fold_status call(const fold_acopf *m, fold_solver *sv, const fold_acopf_diff_request *rq,
                        double *values, fold_backward_info *bwd)
{
    *bwd = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    bwd->reason = FOLD_REASON_NOT_RUN;
    switch (rq->mode) {
    case FOLD_ACOPF_DIFF_VALUE:
    case FOLD_ACOPF_DIFF_VJP:
        return gradient_call(m, sv, rq, values, bwd);
    case FOLD_ACOPF_DIFF_JVP:
        return fold_acopf_jvp(m, sv, rq->dp, rq->n_out, rq->out, values, bwd);
    default:
        return fold_acopf_jacobian(m, sv, rq->n_out, rq->out, rq->n_cols, rq->cols, values, bwd,
                                   rq->progress, rq->user_data);
    }
}

/* fold_acopf_differentiate on full structs: info's fields, and the backward information in
 * *bwd. */
static fold_status differentiate(const fold_acopf *m, fold_solver *sv,
                                 const fold_acopf_diff_request *rq, double *values,
                                 fold_acopf_diff_info *info, fold_backward_info *bwd)
{
    fold_status st = check_request(m, sv, rq, values);
    if (st != FOLD_OK) return st;
    double t0 = now_s();
    st = call(m, sv, rq, values, bwd);
    /* Several generators at one bus leave their reactive split undetermined: the active-set
     * system is singular there while the barrier form stays regular (doc/acopf.md §5). */
    const fold_settings *cur = fold_solver_settings(sv);
    if ((st == FOLD_ERR_SINGULAR || st == FOLD_ERR_DEGENERATE) && !rq->keep_kkt_form &&
        cur->backward.kkt_form == FOLD_KKT_ACTIVE) {
        snprintf(info->fallback_reason, sizeof info->fallback_reason, "active-set form: %s",
                 fold_last_error());
        fold_settings set = *cur;
        set.backward.kkt_form = FOLD_KKT_BARRIER;
        fold_status ust = fold_solver_update_settings(sv, &set);
        if (ust != FOLD_OK) {
            st = acopf_error_from_lib(ust, FN);
        } else {
            info->kkt_fallback = true;
            st = call(m, sv, rq, values, bwd);
        }
    }
    info->seconds = now_s() - t0;
    return st;
}

fold_status fold_acopf_differentiate(const fold_acopf *m, fold_solver *sv,
                                     const fold_acopf_diff_request *rq, double *values,
                                     fold_acopf_diff_info *info)
{
    fold_acopf_diff_info full = FOLD_ACOPF_DIFF_INFO_INIT;
    fold_backward_info bwd = FOLD_BACKWARD_INFO_INIT;
    fold_clear_error();
    fold_status st = fold_sized_open(info, &full, sizeof full, FOLD_ACOPF_DIFF_INFO_V1,
                                     "fold_acopf_diff_info", "FOLD_ACOPF_DIFF_INFO_INIT");
    fold_backward_info *user_bwd = info ? info->backward : NULL;
    if (st < 0 ||
        (st = fold_sized_open(user_bwd, &bwd, sizeof bwd, FOLD_BACKWARD_INFO_V1,
                              "fold_acopf_diff_info.backward", "FOLD_BACKWARD_INFO_INIT")) < 0)
        return st;
    bwd.reason = FOLD_REASON_NOT_RUN;
    full.backward = user_bwd;
    st = differentiate(m, sv, rq, values, &full, &bwd);
    fold_sized_close(user_bwd, &bwd, sizeof bwd);
    fold_sized_close(info, &full, sizeof full);
    return st;
}
