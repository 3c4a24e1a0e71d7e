/* foldopt opf: the backward call of --mode on the outputs and parameters selected
 * (fold_acopf_jacobian, _vjp, _jvp, fold_value_gradient; doc/acopf.md §7), progress of long
 * Jacobians on a terminal, and the sensitivities in the summary and the JSON (doc/cli.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_opf.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct progress {
    double t0;
    bool shown;
} progress;

/* "right-hand sides done of total, elapsed, left" on one rewritten stderr line. */
static void show_progress(fold_int done, fold_int total, void *ud)
{
    progress *pg = ud;
    double el = now_s() - pg->t0, left = done > 0 ? el * (double)(total - done) / (double)done : 0;
    fprintf(stderr,
            "\rfoldopt: opf: jacobian %ld/%ld right-hand sides, %.1f s, about %.0f s "
            "left   ",
            (long)done, (long)total, el, left);
    fflush(stderr);
    pg->shown = true;
}

static bool want_progress(const opf_run *r)
{
    return r->progress > 0 || (r->progress < 0 && isatty(STDERR_FILENO));
}

bool opf_has_wrt(const opf_run *r)
{
    return r->n_wrt > 0 || r->direction_path;
}

/* The result is the gradient of the objective: its intervals are one-sided derivatives. */
static bool kink_mode(const opf_run *r)
{
    return r->mode == OPF_MODE_VALUE || (r->mode == OPF_MODE_VJP && r->n_rows == 1 &&
                                         r->outs[0].kind == FOLD_ACOPF_OUT_OBJECTIVE);
}

/* The one-sided derivatives of the objective (value mode, and a vjp of the objective alone
 * with weight w): NaN in values where the optimal value has a kink, its left and right
 * derivatives (times w) in lo, hi; the trust report of the call collected. */
static fold_status objective_onesided(opf_run *r, double w, double *left, double *right)
{
    fold_status st = fold_value_onesided(r->solver, left, right);
    if (st < 0) return st;
    for (fold_int c = 0; c < r->n_cols; c++) {
        fold_int k = r->cols[c];
        if (left[k] == right[k]) continue;
        r->lo[c] = w >= 0 ? w * left[k] : w * right[k];
        r->hi[c] = w >= 0 ? w * right[k] : w * left[k];
    }
    if (opf_trust_collect(r, OPF_CALL_VALUE)) return FOLD_ERR_MEMORY;
    return st;
}

fold_status opf_backward(opf_run *r)
{
    fold_int nv = opf_n_entries(r), np = r->L.np;
    double t0 = now_s();
    free(r->values); /* a worker's earlier scenario (foldopt batch) */
    free(r->lo);
    opf_trust_free(r);
    r->values = calloc((size_t)nv + 1, sizeof(double));
    r->lo = malloc((2 * (size_t)nv + 1) * sizeof(double));
    r->hi = r->lo ? r->lo + nv : NULL;
    r->kkt_fallback[0] = '\0';
    bool grad = r->mode == OPF_MODE_VALUE || r->mode == OPF_MODE_VJP;
    double *left = grad ? malloc((2 * (size_t)np + 1) * sizeof(double)) : NULL;
    if (!r->values || !r->lo || (grad && !left)) {
        free(left);
        fprintf(stderr, "foldopt: %s: out of memory\n", r->command);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int k = 0; k < 2 * nv; k++)
        r->lo[k] = NAN;
    double *right = left ? left + np : NULL;
    /* a vjp of the objective alone has the value's kinks (value and vjp mode agree) */
    bool objective = r->mode == OPF_MODE_VJP && kink_mode(r);
    r->bwd = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    r->has_bwd_info = false;
    fold_status st = FOLD_OK;
    if (r->mode == OPF_MODE_VALUE || objective)
        st = objective_onesided(r, objective && r->weights ? r->weights[0] : 1.0, left, right);
    if (r->mode == OPF_MODE_VALUE) { /* envelope theorem: no solve */
        for (fold_int c = 0; st >= 0 && c < r->n_cols; c++)
            r->values[c] = isnan(r->lo[c]) ? left[r->cols[c]] : NAN;
    } else if (st >= 0) {
        /* the modes of the command are fold_acopf_diff_mode's, in the same order */
        fold_acopf_diff_request rq = {.mode = r->mode,
                                      .n_out = r->n_rows,
                                      .out = r->outs,
                                      .weights = r->weights,
                                      .dp = r->dp,
                                      .n_cols = r->n_cols,
                                      .cols = r->cols,
                                      .keep_kkt_form = r->kkt_given};
        progress pg = {now_s(), false};
        if (r->mode == OPF_MODE_JACOBIAN && want_progress(r)) {
            rq.progress = show_progress;
            rq.user_data = &pg;
        }
        fold_acopf_diff_info di = FOLD_ACOPF_DIFF_INFO_INIT;
        di.backward = &r->bwd;
        st = fold_acopf_differentiate(r->model, r->solver, &rq, r->values, &di);
        if (pg.shown) fputc('\n', stderr);
        r->has_bwd_info = true;
        if (di.kkt_fallback) {
            snprintf(r->kkt_fallback, sizeof r->kkt_fallback, "%s", di.fallback_reason);
            r->settings = *fold_solver_settings(r->solver);
        }
        /* the report of the acopf call that produced the values (after a fallback: its
         * barrier-form call) */
        if (st >= 0 && opf_trust_collect(r, OPF_CALL_ACOPF)) st = FOLD_ERR_MEMORY;
        for (fold_int c = 0; st >= 0 && r->mode == OPF_MODE_VJP && c < r->n_cols; c++)
            if (!isnan(r->lo[c])) r->values[c] = NAN; /* a kink, or uncertain */
    }
    free(left);
    r->backward_s = now_s() - t0;
    r->bwd_msg[0] = '\0';
    if (st != FOLD_OK) snprintf(r->bwd_msg, sizeof r->bwd_msg, "%s", fold_last_error());
    return st;
}

static void kinds_text(const int *kinds, int n, bool params, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int j = 0; j < n; j++) {
        size_t at = strlen(buf);
        snprintf(buf + at, len - at, "%s%s", j ? "," : "",
                 params ? fold_acopf_param_name(kinds[j]) : fold_acopf_output_name(kinds[j]));
    }
}

/* ---- JSON ---- */

/* {"key": v, ...} for one kind, or {"kind": {"key": v}, ...} for several: entries of a
 * vector over the columns (params) or rows. */
static void json_vector(const opf_run *r, FILE *out, bool params, const double *v)
{
    fold_int n = params ? r->n_cols : r->n_rows;
    int n_kinds = params ? r->n_wrt : r->n_of;
    const int *kinds = params ? r->wrt : r->of;
    fputc('{', out);
    for (int j = 0; j < n_kinds; j++) {
        if (n_kinds > 1)
            fprintf(out, "%s\"%s\": {", j ? ", " : "",
                    params ? fold_acopf_param_name(kinds[j]) : fold_acopf_output_name(kinds[j]));
        bool first = true;
        for (fold_int k = 0; k < n; k++) {
            fold_int item;
            int kind = params ? opf_col_kind(r, k, &item) : (int)r->outs[k].kind;
            if (kind != kinds[j]) continue;
            if (!params && fold_acopf_output_item_type(kind) == FOLD_ACOPF_ITEM_NONE)
                fprintf(out, "%s\"%s\": ", first ? "" : ", ", fold_acopf_output_name(kind));
            else
                fprintf(out, "%s\"%ld\": ", first ? "" : ", ",
                        params ? opf_col_key(r, k) : opf_row_key(r, k));
            opf_json_num(out, v[k]);
            first = false;
        }
        if (n_kinds > 1) fputc('}', out);
    }
    fputc('}', out);
}

/* Entry k has no value and no interval: not unique (a singular KKT matrix). */
static bool no_value(const opf_run *r, fold_int k)
{
    return isnan(r->values[k]) && isnan(r->lo[k]) && isnan(r->hi[k]);
}

/* The entries of a vector without a value (not unique), by key, or "kind:key" with several
 * kinds; and those with an interval: the objective's left and right derivatives at a kink
 * ("onesided"), or the values of an uncertain entry or of one with a barrier-form error
 * ("uncertain"). */
static void json_flagged(const opf_run *r, FILE *out, bool params)
{
    fold_int n = params ? r->n_cols : r->n_rows, n_nan = 0;
    for (fold_int k = 0; k < n; k++)
        n_nan += no_value(r, k);
    if (n_nan > 0) {
        fputs(", \"not_unique\": [", out);
        for (fold_int k = 0, shown = 0; k < n; k++) {
            if (!no_value(r, k)) continue;
            if (shown++) fputs(", ", out);
            opf_json_label(r, out, params, k);
        }
        fputc(']', out);
    }
    fprintf(out, ", \"%s\": {", kink_mode(r) ? "onesided" : "uncertain");
    for (fold_int k = 0, shown = 0; k < n; k++) {
        if (isnan(r->lo[k]) && isnan(r->hi[k])) continue;
        if (shown++) fputs(", ", out);
        if ((params ? r->n_wrt : r->n_of) > 1) /* a label that is a JSON string already */
            opf_json_label(r, out, params, k);
        else {
            fputc('"', out);
            fprintf(out, "%ld", params ? opf_col_key(r, k) : opf_row_key(r, k));
            fputc('"', out);
        }
        fputs(": [", out);
        opf_json_bound(out, r->lo[k]);
        fputs(", ", out);
        opf_json_bound(out, r->hi[k]);
        fputc(']', out);
    }
    fputc('}', out);
}

static void json_jacobian(const opf_run *r, FILE *out)
{
    fputs(",\n \"jacobian\": {\"rows\": [", out);
    for (fold_int k = 0; k < r->n_rows; k++)
        fprintf(out, "%s%ld", k ? ", " : "", opf_row_key(r, k));
    fputs("], \"cols\": [", out);
    for (fold_int c = 0; c < r->n_cols; c++)
        fprintf(out, "%s%ld", c ? ", " : "", opf_col_key(r, c));
    fputs("], \"row_of\": [", out);
    for (fold_int k = 0; k < r->n_rows; k++)
        fprintf(out, "%s\"%s\"", k ? ", " : "", fold_acopf_output_name(r->outs[k].kind));
    fputs("], \"col_wrt\": [", out);
    for (fold_int c = 0; c < r->n_cols; c++) {
        fold_int item;
        fprintf(out, "%s\"%s\"", c ? ", " : "", fold_acopf_param_name(opf_col_kind(r, c, &item)));
    }
    fputs("], \"values\": [", out);
    for (fold_int i = 0; i < r->n_rows; i++) {
        fprintf(out, "%s\n  [", i ? "," : "");
        for (fold_int j = 0; j < r->n_cols; j++) {
            if (j) fputs(", ", out);
            opf_json_num(out, r->values[i + j * r->n_rows]);
        }
        fputc(']', out);
    }
    fold_int n_nan = 0;
    for (fold_int k = 0; k < r->n_rows * r->n_cols; k++)
        n_nan += no_value(r, k);
    fprintf(out, "], \"n_not_unique\": %ld, \"uncertain\": [", (long)n_nan);
    /* [row, col, lo, hi]: an uncertain entry's values, or a value and its barrier limit */
    for (fold_int k = 0, shown = 0; k < r->n_rows * r->n_cols; k++) {
        if (isnan(r->lo[k]) && isnan(r->hi[k])) continue;
        fputs(shown++ ? ", [" : "[", out);
        opf_json_label(r, out, false, k % r->n_rows);
        fputs(", ", out);
        opf_json_label(r, out, true, k / r->n_rows);
        fputs(", ", out);
        opf_json_bound(out, r->lo[k]);
        fputs(", ", out);
        opf_json_bound(out, r->hi[k]);
        fputc(']', out);
    }
    fputs("]}", out);
}

void opf_json_sens(const opf_run *r, FILE *out)
{
    char wrt[512], of[512], b1[32], b2[32];
    kinds_text(r->wrt, r->n_wrt, true, wrt, sizeof wrt);
    kinds_text(r->of, r->n_of, false, of, sizeof of);
    fprintf(out,
            ",\n \"wrt\": \"%s\", \"of\": \"%s\", \"mode\": \"%s\", \"kkt\": \"%s\", "
            "\"backward_method\": \"%s\", \"backward_seconds\": %.6g",
            wrt, of, opf_mode_names[r->mode],
            opf_setting_text(r, "backward.kkt_form", b1, sizeof b1),
            opf_setting_text(r, "backward.method", b2, sizeof b2), r->backward_s);
    if (r->kkt_fallback[0]) {
        fputs(", \"kkt_fallback\": ", out);
        opf_json_string(out, r->kkt_fallback);
    }
    if (r->has_bwd_info)
        fprintf(out,
                ",\n \"backward\": {\"kkt_dim\": %ld, \"n_active_cons\": %ld, "
                "\"n_active_bounds\": %ld, \"n_weak\": %ld, \"residual\": %.3g, "
                "\"iterations\": %ld, \"n_rhs\": %ld, \"solve_seconds\": %.6g}",
                (long)r->bwd.dim, (long)r->bwd.n_active_cons, (long)r->bwd.n_active_bounds,
                (long)r->bwd.n_weak, r->bwd.residual, (long)r->bwd.iterations, (long)r->bwd.n_rhs,
                r->bwd.total_s);
    if (r->has_bwd_info && r->settings.backward.method != FOLD_BACKWARD_DIRECT)
        fprintf(out, ",\n \"backward_precond\": \"%s\"", opf_precond_text(r, b1, sizeof b1));
    if (r->has_bwd_info && r->bwd.fallback_reason[0]) {
        /* e.g. several generators at one bus: singular K, regularized */
        fprintf(out, ",\n \"singular_delta\": %.3g, \"fallback_reason\": ", r->bwd.singular_delta);
        opf_json_string(out, r->bwd.fallback_reason);
    }
    if (r->mode == OPF_MODE_JACOBIAN) {
        json_jacobian(r, out);
        opf_trust_json(r, out);
        return;
    }
    bool jvp = r->mode == OPF_MODE_JVP;
    fprintf(out, ",\n \"%s\": ", jvp ? "jvp" : "gradient");
    json_vector(r, out, !jvp, r->values);
    json_flagged(r, out, !jvp);
    if (jvp && r->dp) {
        double *d = malloc(((size_t)r->n_cols + 1) * sizeof *d);
        for (fold_int c = 0; d && c < r->n_cols; c++)
            d[c] = r->dp[r->cols[c]];
        fputs(", \"direction\": ", out);
        if (d)
            json_vector(r, out, true, d);
        else
            fputs("null", out);
        free(d);
    }
    opf_trust_json(r, out);
}

/* ---- summary ---- */

typedef struct ranked {
    double v;
    fold_int i, j; /* row, column; -1 when not part of the entry */
    fold_int pos;  /* in values */
} ranked;

static int cmp_abs_desc(const void *a, const void *b)
{
    double x = fabs(((const ranked *)a)->v), y = fabs(((const ranked *)b)->v);
    return (x < y) - (x > y);
}

/* "MW per MW" of entry (row i, column j); -1 for the objective / the direction. */
static void unit_text(const opf_run *r, fold_int i, fold_int j, char *buf, size_t len)
{
    fold_int item;
    const char *ou = i >= 0 ? fold_acopf_output_unit(r->outs[i].kind) : "$/h";
    const char *pu = j >= 0 ? fold_acopf_param_unit(opf_col_kind(r, j, &item)) : "unit";
    if (r->mode == OPF_MODE_JVP) pu = "unit of the direction";
    if (r->mode == OPF_MODE_VJP && !(r->n_of == 1 && r->of[0] == FOLD_ACOPF_OUT_OBJECTIVE))
        ou = "weighted outputs";
    snprintf(buf, len, "%s per %s", ou, pu);
}

void opf_text_sens(const opf_run *r, FILE *out)
{
    bool jac = r->mode == OPF_MODE_JACOBIAN, jvp = r->mode == OPF_MODE_JVP;
    fold_int n = opf_n_entries(r);
    ranked *rk = malloc(((size_t)n + 1) * sizeof *rk);
    if (!rk) return;
    fold_int n_nan = 0, q = 0;
    char a[96], b[96], unit[96];
    for (fold_int k = 0; k < n; k++) {
        if (no_value(r, k)) { /* not unique (singular KKT): listed below, not ranked */
            n_nan++;
            continue;
        }
        /* an interval ranks by its larger end */
        bool interval = !isnan(r->lo[k]) || !isnan(r->hi[k]);
        rk[q].v = interval ? fmax(fabs(r->lo[k]), fabs(r->hi[k])) : r->values[k];
        rk[q].pos = k;
        rk[q].i = jac ? k % r->n_rows : jvp ? k : -1;
        rk[q].j = jac ? k / r->n_rows : jvp ? -1 : k;
        q++;
    }
    if (n_nan > 0) {
        fprintf(out,
                "not unique  %ld of %ld entries (singular KKT: dependent active constraints "
                "or interchangeable generators)",
                (long)n_nan, (long)n);
        for (fold_int k = 0, shown = 0; !jac && k < n && shown < 8; k++)
            if (no_value(r, k)) {
                if (jvp)
                    opf_row_name(r, k, a, sizeof a);
                else
                    opf_col_name(r, k, a, sizeof a);
                fprintf(out, "%s%s", shown++ ? ", " : ": ", a);
            }
        fputc('\n', out);
    }
    qsort(rk, (size_t)q, sizeof *rk, cmp_abs_desc);
    char wrt[512], of[512];
    kinds_text(r->wrt, r->n_wrt, true, wrt, sizeof wrt);
    kinds_text(r->of, r->n_of, false, of, sizeof of);
    const char *what = r->mode == OPF_MODE_VJP && !(r->n_of == 1 && r->of[0] == 0)
                           ? "weighted sum of the outputs"
                           : of;
    fprintf(out, "d %s / d %s%s, %ld largest of %ld:\n", what, wrt,
            jvp ? " along the direction" : "", (long)(r->top < q ? r->top : q), (long)q);
    for (fold_int k = 0; k < q && k < r->top; k++) {
        a[0] = b[0] = '\0';
        if (rk[k].i >= 0) opf_row_name(r, rk[k].i, a, sizeof a);
        if (rk[k].j >= 0) opf_col_name(r, rk[k].j, b, sizeof b);
        unit_text(r, rk[k].i, rk[k].j, unit, sizeof unit);
        fprintf(out, "  %-24s %-28s ", rk[k].i >= 0 ? a : what, rk[k].j >= 0 ? b : "");
        fold_int pos = rk[k].pos;
        if (isnan(r->lo[pos]) && isnan(r->hi[pos]))
            fprintf(out, "% .8g", rk[k].v);
        else if (!isnan(r->values[pos])) /* a barrier-form value and its limit */
            fprintf(out, "% .8g (limit in [% .8g, % .8g])", r->values[pos], r->lo[pos], r->hi[pos]);
        else if (kink_mode(r)) /* left and right derivatives at a kink */
            fprintf(out, "left % .8g, right % .8g", r->lo[pos], r->hi[pos]);
        else /* the uncertain entry's values */
            fprintf(out, "[% .8g, % .8g]", r->lo[pos], r->hi[pos]);
        fprintf(out, "  %s\n", unit);
    }
    free(rk);
    opf_trust_text(r, out);
}
