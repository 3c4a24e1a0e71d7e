/* foldopt opf output: the human-readable summary and the JSON object (doc/cli.md). */
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_opf.h"

static void json_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.12g", v);
    else
        fputs("null", out);
}

static const char *setting_text(const opf_run *r, const char *name, char *buf, size_t len)
{
    if (fold_settings_get(&r->settings, name, buf, len) != FOLD_OK)
        snprintf(buf, len, "?");
    return buf;
}

static const char *key_kind(bool gens)
{
    return gens ? "generator" : "bus";
}

static bool rows_gens(const opf_run *r)
{
    return r->of == OPF_OF_PG || r->of == OPF_OF_QG;
}

static bool cols_gens(const opf_run *r)
{
    return r->wrt == OPF_WRT_C1 || r->wrt == OPF_WRT_C2;
}

static bool is_jacobian(const opf_run *r)
{
    return r->mode == OPF_MODE_JACOBIAN && r->of != OPF_OF_OBJECTIVE;
}

/* A JSON string literal (quotes, backslashes and control characters escaped). */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(out, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(out, "\\u%04x", (unsigned)*s);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void json_keys(FILE *out, const opf_run *r, bool rows, fold_int n)
{
    fputc('[', out);
    for (fold_int k = 0; k < n; k++)
        fprintf(out, "%s%ld", k ? ", " : "", rows ? opf_row_key(r, k) : opf_col_key(r, k));
    fputc(']', out);
}

static void json_solution(FILE *out, const opf_run *r)
{
    fold_int ng = r->cs->n_gen, nb = r->cs->n_bus;
    double *pg = malloc(((size_t)ng + 1) * sizeof(double));
    double *qg = malloc(((size_t)ng + 1) * sizeof(double));
    double *vm = malloc(((size_t)nb + 1) * sizeof(double));
    double *va = malloc(((size_t)nb + 1) * sizeof(double));
    if (!pg || !qg || !vm || !va) {
        fputs("null", out);
    } else {
        fold_acopf_solution_units(r->model, r->x, pg, qg, vm, va);
        const double *vals[4] = {pg, qg, vm, va};
        const char *names[4] = {"pg", "qg", "vm", "va"};
        fputc('{', out);
        for (int b = 0; b < 4; b++) {
            fold_int n = b < 2 ? ng : nb;
            fprintf(out, "%s\n  \"%s\": {", b ? "," : "", names[b]);
            for (fold_int k = 0; k < n; k++) {
                long key = b < 2 ? r->cs->gen[k].row : r->cs->bus[k].id;
                fprintf(out, "%s\"%ld\": ", k ? ", " : "", key);
                json_num(out, vals[b][k]);
            }
            fputc('}', out);
        }
        fputs("}", out);
    }
    free(pg);
    free(qg);
    free(vm);
    free(va);
}

void opf_print_json(const opf_run *r, FILE *out)
{
    char buf[64];
    bool solved = r->fwd_status >= 0;
    fprintf(out, "{\"case\": \"%s\", \"status\": \"%s\", \"objective\": ", r->cs->name,
            fold_forward_status_string(r->fwd.status));
    json_num(out, solved ? r->fwd.objective : NAN);
    fprintf(out, ", \"iterations\": %ld, \"forward_seconds\": %.6g, \"callback_seconds\": %.6g"
                 ", \"n_buses\": %ld, \"n_gens\": %ld, \"n_branches\": %ld, \"n_vars\": %ld"
                 ", \"n_cons\": %ld, \"n_params\": %ld, \"n_flow_var_branches\": %ld",
            (long)r->fwd.iterations, r->fwd.total_s, r->fwd.callback_s, (long)r->cs->n_bus,
            (long)r->cs->n_gen, (long)r->cs->n_branch, (long)r->L.n, (long)r->L.m,
            (long)r->L.np, (long)r->L.n_flow);
    fprintf(out, ", \"resolves\": %d, \"first_status\": \"%s\", \"first_iterations\": %ld",
            r->refine.rounds, fold_forward_status_string(r->refine.first_status),
            (long)r->refine.first_iterations);
    /* fold_solve's own warm re-solves: ambiguous sides, staged tolerance (doc/math.md §3.2) */
    fprintf(out, ", \"classify_resolves\": %d, \"classify_seconds\": %.6g, \"tol_reached\": ",
            r->fwd.resolves, r->fwd.resolve_s);
    json_num(out, r->fwd.tol_reached);
    fprintf(out, ", \"n_ambiguous\": %ld", (long)r->fwd.n_ambiguous);
    fputs(",\n \"solution\": ", out);
    if (solved)
        json_solution(out, r);
    else
        fputs("null", out);
    if (r->has_backward) {
        fprintf(out, ",\n \"wrt\": \"%s\", \"of\": \"%s\", \"mode\": \"%s\", \"kkt\": \"%s\", "
                     "\"backward_method\": \"%s\", \"backward_seconds\": %.6g",
                opf_wrt_names[r->wrt], opf_of_names[r->of], opf_mode_names[r->mode],
                setting_text(r, "backward.kkt_form", buf, sizeof buf),
                setting_text(r, "backward.method", buf + 32, 32), r->backward_s);
        if (r->kkt_fallback[0]) {
            fputs(", \"kkt_fallback\": ", out);
            json_string(out, r->kkt_fallback);
        }
        if (r->has_bwd_info)
            fprintf(out, ",\n \"backward\": {\"kkt_dim\": %ld, \"n_active_cons\": %ld, "
                         "\"n_active_bounds\": %ld, \"n_weak\": %ld, \"residual\": %.3g, "
                         "\"iterations\": %ld, \"solve_seconds\": %.6g}",
                    (long)r->bwd.kkt_dim, (long)r->bwd.n_active_cons,
                    (long)r->bwd.n_active_bounds, (long)r->bwd.n_weak, r->bwd.residual,
                    (long)r->bwd.iterations, r->bwd.total_s);
        if (r->has_bwd_info && r->bwd.fallback_reason[0]) {
            /* e.g. several generators at one bus, or a leaf bus without injection whose vm
             * is at a bound: singular K, regularized */
            fprintf(out, ",\n \"singular_delta\": %.3g, \"fallback_reason\": ",
                    r->bwd.singular_delta);
            json_string(out, r->bwd.fallback_reason);
        }
        if (is_jacobian(r)) {
            fputs(",\n \"jacobian\": {\"rows\": ", out);
            json_keys(out, r, true, r->n_rows);
            fputs(", \"cols\": ", out);
            json_keys(out, r, false, r->n_cols);
            fputs(", \"values\": [", out);
            for (fold_int i = 0; i < r->n_rows; i++) {
                fprintf(out, "%s\n  [", i ? "," : "");
                for (fold_int j = 0; j < r->n_cols; j++) {
                    if (j)
                        fputs(", ", out);
                    json_num(out, r->values[i + j * r->n_rows]);
                }
                fputc(']', out);
            }
            fold_int n_nan = 0, shown = 0;
            for (fold_int k = 0; k < r->n_rows * r->n_cols; k++)
                n_nan += isnan(r->values[k]) && isnan(r->lo[k]);
            fprintf(out, "], \"n_not_unique\": %ld, \"uncertain\": [", (long)n_nan);
            for (fold_int k = 0; k < r->n_rows * r->n_cols; k++) {
                if (isnan(r->lo[k]) && isnan(r->hi[k])) continue;
                fprintf(out, "%s[%ld, %ld, ", shown++ ? ", " : "", opf_row_key(r, k % r->n_rows),
                        opf_col_key(r, k / r->n_rows));
                opf_json_bound(out, r->lo[k]);
                fputs(", ", out);
                opf_json_bound(out, r->hi[k]);
                fputc(']', out);
            }
            fputs("]}", out);
        } else {
            bool by_rows = r->mode == OPF_MODE_JVP && r->of != OPF_OF_OBJECTIVE;
            fold_int n = r->mode == OPF_MODE_JVP ? (by_rows ? r->n_rows : 1) : r->n_cols;
            fprintf(out, ",\n \"%s\": {", r->mode == OPF_MODE_JVP ? "jvp" : "gradient");
            for (fold_int k = 0; k < n; k++) {
                if (r->mode == OPF_MODE_JVP && !by_rows)
                    fputs("\"objective\": ", out);
                else
                    fprintf(out, "%s\"%ld\": ", k ? ", " : "",
                            by_rows ? opf_row_key(r, k) : opf_col_key(r, k));
                json_num(out, r->values[k]);
            }
            fputc('}', out);
            /* entries without a value: not unique (a singular KKT matrix), or with an
             * interval: the objective's left and right derivatives at a kink ("onesided"),
             * or the two classifications of ambiguous sides ("uncertain") */
            fold_int n_nan = 0;
            for (fold_int k = 0; k < n; k++)
                n_nan += isnan(r->values[k]) && isnan(r->lo[k]) && isnan(r->hi[k]);
            if (n_nan > 0) {
                fputs(", \"not_unique\": [", out);
                for (fold_int k = 0, shown = 0; k < n; k++)
                    if (isnan(r->values[k]) && isnan(r->lo[k]) && isnan(r->hi[k]))
                        fprintf(out, "%s%ld", shown++ ? ", " : "",
                                by_rows ? opf_row_key(r, k) : opf_col_key(r, k));
                fputc(']', out);
            }
            fprintf(out, ", \"%s\": {", r->of == OPF_OF_OBJECTIVE ? "onesided" : "uncertain");
            for (fold_int k = 0, shown = 0; k < n; k++) {
                if (isnan(r->lo[k]) && isnan(r->hi[k])) continue;
                fprintf(out, "%s\"%ld\": [", shown++ ? ", " : "",
                        by_rows ? opf_row_key(r, k) : opf_col_key(r, k));
                opf_json_bound(out, r->lo[k]);
                fputs(", ", out);
                opf_json_bound(out, r->hi[k]);
                fputc(']', out);
            }
            fputc('}', out);
            if (r->mode == OPF_MODE_JVP) {
                fputs(", \"direction\": ", out);
                json_keys(out, r, false, r->n_cols);
            }
        }
        opf_trust_json(r, out, json_num, json_string);
    }
    fputs("}\n", out);
}

typedef struct ranked {
    double v;
    fold_int i, j, pos;
} ranked;

static int cmp_abs_desc(const void *a, const void *b)
{
    double x = fabs(((const ranked *)a)->v), y = fabs(((const ranked *)b)->v);
    return (x < y) - (x > y);
}

static const char *unit_of(const opf_run *r)
{
    static const char *out_units[] = {"$/h", "MW", "MVAr", "p.u.", "deg"};
    static const char *par_units[] = {"MW", "MVAr", "$/MWh", "$/MW^2h"};
    static char buf[64];
    snprintf(buf, sizeof buf, "%s per %s", out_units[r->of], par_units[r->wrt]);
    return buf;
}

void opf_print_text(const opf_run *r, FILE *out)
{
    char b1[32], b2[32];
    fprintf(out, "case        %s: %ld buses, %ld generators, %ld branches\n", r->cs->name,
            (long)r->cs->n_bus, (long)r->cs->n_gen, (long)r->cs->n_branch);
    fprintf(out, "problem     %ld variables, %ld constraints, %ld parameters", (long)r->L.n,
            (long)r->L.m, (long)r->L.np);
    if (r->L.n_flow > 0)
        fprintf(out, " (flow variables on %ld branches)", (long)r->L.n_flow);
    fputc('\n', out);
    fprintf(out, "status      %s\n", fold_forward_status_string(r->fwd.status));
    if (r->fwd_status >= 0)
        fprintf(out, "objective   %.8g $/h\n", r->fwd.objective);
    fprintf(out, "iterations  %ld\nforward     %.3f s (callbacks %.3f s)\n",
            (long)r->fwd.iterations, r->fwd.total_s, r->fwd.callback_s);
    if (r->refine.rounds > 0)
        fprintf(out, "re-solved   first solve %s after %ld iterations; %d warm re-solve(s)%s, "
                     "flow variables added on %ld branches\n",
                fold_forward_status_string(r->refine.first_status),
                (long)r->refine.first_iterations, r->refine.rounds,
                r->refine.failed ? " (the last failed: its result dropped)" : "",
                (long)r->refine.n_flow_added);
    if (r->fwd.resolves > 0 || r->fwd.n_ambiguous > 0)
        fprintf(out,
                "classified  %d warm re-solve(s) to classify constraints (%.3f s), tol %.3g "
                "reached, %ld sides still ambiguous\n",
                r->fwd.resolves, r->fwd.resolve_s, r->fwd.tol_reached, (long)r->fwd.n_ambiguous);
    if (!r->has_backward)
        return;
    fprintf(out, "backward    %.3f s: %s, %s KKT, %s", r->backward_s, opf_mode_names[r->mode],
            setting_text(r, "backward.kkt_form", b1, sizeof b1),
            setting_text(r, "backward.method", b2, sizeof b2));
    if (r->has_bwd_info)
        fprintf(out, " (KKT order %ld, %ld active constraints, %ld active bounds, %ld weakly "
                     "active)", (long)r->bwd.kkt_dim, (long)r->bwd.n_active_cons,
                (long)r->bwd.n_active_bounds, (long)r->bwd.n_weak);
    fputc('\n', out);
    if (r->has_bwd_info && r->bwd.fallback_reason[0])
        fprintf(out, "            %s\n", r->bwd.fallback_reason);
    if (r->kkt_fallback[0])
        fprintf(out, "            barrier form used: %s\n", r->kkt_fallback);
    bool jac = is_jacobian(r), by_rows = r->mode == OPF_MODE_JVP && r->of != OPF_OF_OBJECTIVE;
    fold_int n = jac ? r->n_rows * r->n_cols
                     : (r->mode == OPF_MODE_JVP ? (by_rows ? r->n_rows : 1) : r->n_cols);
    ranked *rk = malloc(((size_t)n + 1) * sizeof *rk);
    if (!rk)
        return;
    fold_int n_nan = 0, n_all = n;
    for (fold_int k = 0, q = 0; k < n_all; k++) {
        bool interval = !isnan(r->lo[k]) || !isnan(r->hi[k]);
        if (isnan(r->values[k]) && !interval) { /* not unique (singular KKT): listed below */
            n_nan++;
            continue;
        }
        /* an interval ranks by its larger end */
        rk[q].v = interval ? fmax(fabs(r->lo[k]), fabs(r->hi[k])) : r->values[k];
        rk[q].pos = k;
        rk[q].i = jac ? k % r->n_rows : (by_rows ? k : -1);
        rk[q].j = jac ? k / r->n_rows : (by_rows || r->mode == OPF_MODE_JVP ? -1 : k);
        q++;
    }
    n -= n_nan;
    if (n_nan > 0) {
        fprintf(out, "not unique  %ld of %ld entries (singular KKT: dependent active constraints "
                     "or interchangeable generators)", (long)n_nan, (long)n_all);
        for (fold_int k = 0, shown = 0; !jac && k < n_all && shown < 8; k++)
            if (isnan(r->values[k]) && isnan(r->lo[k]) && isnan(r->hi[k]))
                fprintf(out, "%s%ld", shown++ ? ", " : ": ",
                        by_rows ? opf_row_key(r, k) : opf_col_key(r, k));
        fputc('\n', out);
    }
    qsort(rk, (size_t)n, sizeof *rk, cmp_abs_desc);
    const char *of = r->of == OPF_OF_OBJECTIVE   ? "objective"
                     : r->mode == OPF_MODE_VJP ? "sum of selected outputs"
                                               : opf_of_names[r->of];
    fprintf(out, "d %s / d %s (%s), %ld largest of %ld:\n", of, opf_wrt_names[r->wrt],
            unit_of(r), (long)(r->top < n ? r->top : n), (long)n);
    for (fold_int k = 0; k < n && k < r->top; k++) {
        fputs("  ", out);
        if (rk[k].i >= 0)
            fprintf(out, "%s %-8ld", key_kind(rows_gens(r)), opf_row_key(r, rk[k].i));
        if (rk[k].j >= 0)
            fprintf(out, "%s%s %-8ld", rk[k].i >= 0 ? " wrt " : "", key_kind(cols_gens(r)),
                    opf_col_key(r, rk[k].j));
        if (rk[k].i < 0 && rk[k].j < 0)
            fputs("along the --cols direction", out);
        fold_int pos = rk[k].pos;
        if (isnan(r->lo[pos]) && isnan(r->hi[pos]))
            fprintf(out, "  % .8g\n", rk[k].v);
        else if (r->of == OPF_OF_OBJECTIVE) /* left and right derivatives at a kink */
            fprintf(out, "  left % .8g, right % .8g\n", r->lo[pos], r->hi[pos]);
        else /* the uncertain entry's interval */
            fprintf(out, "  [% .8g, % .8g]\n", r->lo[pos], r->hi[pos]);
    }
    free(rk);
    opf_trust_text(r, out);
}
