/* fold_solver_import: accept a primal(-dual) point computed by any solver as the stored
 * solution after checking the KKT conditions (doc/math.md §2.3), estimating missing
 * multipliers by least squares (§2.4). doc/api/solver.md, "Importing a black-box solution". */
#include "forward/import_internal.h"
#include "forward/kkt_residuals.h"

#define FN "fold_solver_import"

static fold_status check_inputs(const fold_solver *s, const double *p, const double *x,
                                const double *lam, const double *zl, const double *zu)
{
    const fold_problem *prob;
    fold_status st;
    if (!s) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver is NULL", FN);
    prob = s->prob;
    if ((st = fold_check_not_null(x, FN, "pt.x"))) return st;
    if ((p && (st = fold_check_finite(p, prob->np, FN, "p"))) ||
        (st = fold_check_finite(x, prob->n, FN, "x")) ||
        (lam && (st = fold_check_finite(lam, prob->m, FN, "lam"))) ||
        (zl && (st = fold_check_finite(zl, prob->n, FN, "zl"))) ||
        (zu && (st = fold_check_finite(zu, prob->n, FN, "zu"))))
        return st;
    if ((st = fold_settings_check(&s->set))) return fold_error_context(st, "%s", FN);
    return FOLD_OK;
}

static void fill_info(fold_forward_info *out, const fold_solver *s, const fold_kkt_detail *d,
                      bool estimated, bool accepted, double lsq_s)
{
    memset(out, 0, sizeof *out);
    out->status = accepted ? FOLD_FWD_IMPORTED : FOLD_FWD_NOT_KKT;
    out->backend = "import";
    out->objective = d->objective;
    out->solve_s = lsq_s;
    out->callback_s = s->stats.seconds;
    out->n_eval_f = s->stats.n_f;
    out->n_eval_g = s->stats.n_g;
    out->n_eval_grad_f = s->stats.n_grad_f;
    out->n_eval_jac_g = s->stats.n_jac_g;
    out->n_eval_hess_l = s->stats.n_hess_l;
    out->kkt_stationarity = d->stationarity;
    out->kkt_feasibility = d->feasibility;
    out->kkt_complementarity = d->complementarity;
    out->duals_estimated = estimated;
}

fold_status fold_solver_import(fold_solver *s, const fold_import_point *pt, fold_forward_info *info)
{
    const fold_import_point none = {0};
    const fold_import_point *in = pt ? pt : &none; /* its NULL x is refused below */
    const double *p = in->p, *x = in->x, *lam = in->lam, *zl = in->zl, *zu = in->zu;
    fold_clear_error();
    double t_call = fold_time_now(), lsq_s = 0, tol;
    const fold_problem *prob;
    fold_forward_info out = FOLD_FORWARD_INFO_INIT;
    fold_kkt_detail d;
    fold_int n_active = 0;
    fold_status st;
    bool estimate, accepted;
    char where[2 * FOLD_NAME_MAX + 400];

    /* defined on every path, including the early failures below */
    if ((st = fold_forward_info_open(info, "import", &out)) < 0) return st;
    if ((st = check_inputs(s, p, x, lam, zl, zu))) return st;
    prob = s->prob;
    if (!p) p = prob->p_default;
    estimate = !zl || !zu || (prob->m > 0 && !lam);
    size_t n = (size_t)prob->n, m = (size_t)prob->m;
    double *buf = fold_malloc(2 * n + m + 1, sizeof(double), "import multipliers");
    if (!buf) return fold_error_context(FOLD_ERR_MEMORY, "%s", FN);
    double *l = buf, *a = l + m, *b = a + n;
    memset(&s->stats, 0, sizeof s->stats);
    if (estimate) {
        double t0 = fold_time_now();
        st = fold_import_estimate_duals(prob, p, x, s->set.active_set.primal_tol, l, a, b,
                                        &n_active, &s->stats);
        lsq_s = fold_time_now() - t0;
        if (st) {
            free(buf);
            return fold_error_context(st, "%s: multiplier estimate", FN);
        }
    } else {
        if (m) memcpy(l, lam, m * sizeof *l);
        memcpy(a, zl, n * sizeof *a);
        memcpy(b, zu, n * sizeof *b);
    }
    if ((st = fold_kkt_residuals_detail(prob, p, x, l, a, b, &d, &s->stats))) {
        free(buf);
        return fold_error_context(st, "%s", FN);
    }
    tol = s->set.forward.kkt_tol;
    accepted = d.stationarity <= tol && d.feasibility <= tol && d.complementarity <= tol;
    fill_info(&out, s, &d, estimate, accepted, lsq_s);
    if (accepted) {
        fold_solver_store(s, p, x, l, a, b, d.objective, true);
        out.total_s = fold_time_now() - t_call;
        s->info = out;
        st = FOLD_OK;
    } else {
        fold_kkt_describe_worst(prob, &d, x, l, a, b, where, sizeof where);
        st = fold_error(FOLD_ERR_NOT_KKT,
                        "%s: not a KKT point within forward.kkt_tol = %g%s: %s "
                        "(stationarity %.3e, feasibility %.3e, complementarity %.3e)",
                        FN, tol, estimate ? " (multipliers estimated by least squares)" : "", where,
                        d.stationarity, d.feasibility, d.complementarity);
    }
    free(buf);
    out.total_s = fold_time_now() - t_call;
    fold_log(&s->set, 1, "%s: %s, %s multipliers (%lld active), residuals %.2e %.2e %.2e, %.3g s",
             FN, accepted ? "accepted" : "rejected", estimate ? "estimated" : "given",
             (long long)n_active, d.stationarity, d.feasibility, d.complementarity, out.total_s);
    fold_forward_info_put(info, &out);
    return st;
}
