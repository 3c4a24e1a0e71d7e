/* foldopt opf output: the human-readable summary and the JSON object (doc/cli.md). */
#include <stdlib.h>
#include <string.h>

#include "cmd_opf.h"

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
                opf_json_num(out, vals[b][k]);
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
    bool solved = r->fwd_status >= 0;
    fprintf(out, "{\"case\": \"%s\", \"status\": \"%s\", \"objective\": ", r->cs->name,
            fold_forward_status_string(r->fwd.status));
    opf_json_num(out, solved ? r->fwd.objective : NAN);
    fprintf(out,
            ", \"iterations\": %ld, \"forward_seconds\": %.6g, \"callback_seconds\": %.6g"
            ", \"n_buses\": %ld, \"n_gens\": %ld, \"n_branches\": %ld, \"n_vars\": %ld"
            ", \"n_cons\": %ld, \"n_params\": %ld, \"n_flow_var_branches\": %ld",
            (long)r->fwd.iterations, r->fwd.total_s, r->fwd.callback_s, (long)r->cs->n_bus,
            (long)r->cs->n_gen, (long)r->cs->n_branch, (long)r->L.n, (long)r->L.m, (long)r->L.np,
            (long)r->L.n_flow);
    fprintf(out, ", \"resolves\": %d, \"first_status\": \"%s\", \"first_iterations\": %ld",
            r->refine.rounds, fold_forward_status_string(r->refine.first_status),
            (long)r->refine.first_iterations);
    /* fold_solve's own warm re-solves: ambiguous sides, staged tolerance (doc/math.md §3.2) */
    fprintf(out, ", \"classify_resolves\": %d, \"classify_seconds\": %.6g, \"tol_reached\": ",
            r->fwd.resolves, r->fwd.resolve_s);
    opf_json_num(out, r->fwd.tol_reached);
    fprintf(out, ", \"n_ambiguous\": %ld, \"library_threads\": %d", (long)r->fwd.n_ambiguous,
            fold_library_threads());
    fputs(",\n \"solution\": ", out);
    if (solved)
        json_solution(out, r);
    else
        fputs("null", out);
    fputs(",\n \"results\": ", out);
    if (solved)
        opf_json_results(r, out);
    else
        fputs("null", out);
    opf_json_import(r, out);
    if (r->has_backward) opf_json_sens(r, out);
    fputs("}\n", out);
}

void opf_print_text(const opf_run *r, FILE *out)
{
    char b1[32], b2[32];
    fprintf(out, "case        %s: %ld buses, %ld generators, %ld branches\n", r->cs->name,
            (long)r->cs->n_bus, (long)r->cs->n_gen, (long)r->cs->n_branch);
    fprintf(out, "problem     %ld variables, %ld constraints, %ld parameters", (long)r->L.n,
            (long)r->L.m, (long)r->L.np);
    if (r->L.n_flow > 0) fprintf(out, " (flow variables on %ld branches)", (long)r->L.n_flow);
    fputc('\n', out);
    fprintf(out, "status      %s\n", fold_forward_status_string(r->fwd.status));
    if (r->fwd_status >= 0) fprintf(out, "objective   %.8g $/h\n", r->fwd.objective);
    fprintf(out, "iterations  %ld\nforward     %.3f s (callbacks %.3f s)\n",
            (long)r->fwd.iterations, r->fwd.total_s, r->fwd.callback_s);
    opf_text_import(r, out);
    if (r->refine.rounds > 0)
        fprintf(out,
                "re-solved   first solve %s after %ld iterations; %d warm re-solve(s)%s, "
                "flow variables added on %ld branches\n",
                fold_forward_status_string(r->refine.first_status),
                (long)r->refine.first_iterations, r->refine.rounds,
                r->refine.failed < 0   ? " (the last failed: its result dropped)"
                : r->refine.failed > 0 ? " (the last not solved: its result dropped)"
                                       : "",
                (long)r->refine.n_flow_added);
    if (r->fwd.resolves > 0 || r->fwd.n_ambiguous > 0)
        fprintf(out,
                "classified  %d warm re-solve(s) to classify constraints (%.3f s), tol %.3g "
                "reached, %ld sides still ambiguous\n",
                r->fwd.resolves, r->fwd.resolve_s, r->fwd.tol_reached, (long)r->fwd.n_ambiguous);
    if (!r->has_backward) return;
    fprintf(out, "backward    %.3f s: %s, %s KKT, %s", r->backward_s, opf_mode_names[r->mode],
            opf_setting_text(r, "backward.kkt_form", b1, sizeof b1),
            opf_setting_text(r, "backward.method", b2, sizeof b2));
    if (r->has_bwd_info && r->settings.backward.method != FOLD_BACKWARD_DIRECT)
        fprintf(out, " with precond %s, %ld iterations", opf_precond_text(r, b1, sizeof b1),
                (long)r->bwd.iterations);
    if (r->has_bwd_info)
        fprintf(out,
                " (KKT order %ld, %ld active constraints, %ld active bounds, %ld weakly "
                "active)",
                (long)r->bwd.dim, (long)r->bwd.n_active_cons, (long)r->bwd.n_active_bounds,
                (long)r->bwd.n_weak);
    fputc('\n', out);
    if (r->has_bwd_info && r->bwd.fallback_reason[0])
        fprintf(out, "            %s\n", r->bwd.fallback_reason);
    if (r->kkt_fallback[0]) fprintf(out, "            barrier form used: %s\n", r->kkt_fallback);
    opf_text_sens(r, out);
}
