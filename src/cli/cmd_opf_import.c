/* foldopt opf --from-solution: a solution computed elsewhere instead of a solve, checked as a
 * KKT point, its multipliers recovered when missing or inconsistent, optionally polished
 * (doc/acopf.md §8, doc/cli.md). */
#include <math.h>

#include "cmd_opf.h"

int opf_import(opf_run *r)
{
    fold_acopf_results *sol = NULL;
    fold_status st = fold_acopf_solution_read(r->solution_path, r->cs, &sol);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: opf: --from-solution: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    st = fold_solver_create(fold_acopf_problem(r->model), &r->settings, &r->solver);
    if (st == FOLD_OK)
        st = fold_solver_set_ipopt_options(r->solver, (const char *const *)r->ipopt.list);
    if (st != FOLD_OK) {
        fold_acopf_results_free(sol);
        return cli_status_error("opf: --from-solution", st);
    }
    r->imported = true;
    fold_acopf_import_options opt;
    fold_acopf_default_import_options(&opt);
    opt.polish = r->polish;
    if (r->import_tol > 0) opt.kkt_tol = r->import_tol;
    r->fwd_status = fold_acopf_import(r->model, r->solver, NULL, sol, &opt, &r->fwd, &r->import);
    fold_acopf_results_free(sol);
    if (r->fwd_status == FOLD_ERR_NOT_KKT) {
        /* refused: the message names the worst residual by bus, generator or branch */
        fprintf(stderr, "foldopt: opf: --from-solution: %s\n", fold_last_error());
        return CLI_FAILED;
    }
    if (r->fwd_status < 0) {
        fprintf(stderr, "foldopt: opf: --from-solution: %s\n", fold_last_error());
        return r->fwd_status == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    return CLI_OK;
}

void opf_json_import(const opf_run *r, FILE *out)
{
    const fold_acopf_import_info *ii = &r->import;
    if (!r->imported) return;
    fputs(",\n \"import\": {\"file\": ", out);
    opf_json_string(out, r->solution_path);
    fprintf(out, ", \"duals_given\": %s, \"duals_recovered\": %s, \"given_residuals\": ",
            ii->duals_given ? "true" : "false", ii->duals_recovered ? "true" : "false");
    if (ii->duals_given) {
        fputs("{\"stationarity\": ", out);
        opf_json_num(out, ii->given_stationarity);
        fputs(", \"feasibility\": ", out);
        opf_json_num(out, ii->given_feasibility);
        fputs(", \"complementarity\": ", out);
        opf_json_num(out, ii->given_complementarity);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(", \"residuals\": {\"stationarity\": ", out);
    opf_json_num(out, r->fwd.kkt_stationarity);
    fputs(", \"feasibility\": ", out);
    opf_json_num(out, r->fwd.kkt_feasibility);
    fputs(", \"complementarity\": ", out);
    opf_json_num(out, r->fwd.kkt_complementarity);
    fprintf(out, "}, \"angle_shift_deg\": %.17g, \"polished\": %s, \"polish_iterations\": %ld}",
            ii->angle_shift_deg, ii->polished ? "true" : "false", (long)ii->polish_iterations);
}

void opf_text_import(const opf_run *r, FILE *out)
{
    const fold_acopf_import_info *ii = &r->import;
    if (!r->imported) return;
    fprintf(out, "imported    %s: multipliers %s", r->solution_path,
            ii->duals_given && !ii->duals_recovered ? "as given"
            : ii->duals_given                       ? "recovered by least squares (the "
                                                      "given ones missed forward.kkt_tol)"
                                                    : "recovered by least squares (none given)");
    if (ii->angle_shift_deg != 0)
        fprintf(out, "; angles shifted by %.9g deg (reference bus at 0)", -ii->angle_shift_deg);
    fputc('\n', out);
    if (ii->duals_given)
        fprintf(out,
                "            given multipliers: stationarity %.2e, feasibility %.2e, "
                "complementarity %.2e\n",
                ii->given_stationarity, ii->given_feasibility, ii->given_complementarity);
    fprintf(out,
            "            KKT residuals: stationarity %.2e, feasibility %.2e, complementarity "
            "%.2e%s\n",
            r->fwd.kkt_stationarity, r->fwd.kkt_feasibility, r->fwd.kkt_complementarity,
            ii->polished ? " (after the polish)" : "");
    if (ii->polished)
        fprintf(out,
                "            polished by a warm re-solve of %ld iterations, same active "
                "set\n",
                (long)ii->polish_iterations);
}
