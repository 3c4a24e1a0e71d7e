/* foldopt opf: solve a MATPOWER case's AC-OPF, then differentiate its outputs with respect to
 * its parameters (doc/cli.md, doc/acopf.md §5, §7). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opf.h"

const char *const opf_mode_names[] = {"value", "vjp", "jvp", "jacobian", NULL};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: foldopt opf CASE.m [--wrt KINDS] [--of KINDS] [--mode value|vjp|jvp|jacobian]\n"
        "                  [--rows LIST] [--cols LIST] [--cotangent FILE] [--direction FILE]\n"
        "                  [--kkt active|barrier] [--backward direct|lfpi|gmres|minres|bicgstab]\n"
        "                  [--tol T] [-v] [--json] [--print] [-o FILE] [--set name=value]\n"
        "                  [--ipopt name=value] [--top K] [--flow-vars Z|none|all]\n"
        "                  [--resolves N] [--start ratio|flat] [--progress|--no-progress]\n"
        "                  [--from-solution FILE [--polish] [--kkt-tol T]]\n"
        "Solve the AC optimal power flow of a MATPOWER case (PGLib baseline formulation) and\n"
        "optionally differentiate the solution (doc/cli.md, doc/acopf.md §7).\n"
        "  --wrt      parameters, comma-separated: pd qd gs bs vmin vmax (per bus), c1 c2 c0\n"
        "             pmin pmax qmin qmax (per generator), r x b tap shift rate_a (per branch)\n"
        "  --of       outputs, comma-separated: objective ($/h, default), pg qg mu_pmin mu_pmax\n"
        "             mu_qmin mu_qmax (per generator row), vm va lam_p lam_q mu_vmin mu_vmax (per\n"
        "             bus id), pf qf pt qt ploss mu_sf mu_st mu_angmin mu_angmax (per branch row)\n"
        "  --mode     value: gradient of the optimal objective (envelope theorem; the LMP for\n"
        "             --wrt pd); vjp: gradient of the weighted sum of the --rows outputs; jvp:\n"
        "             derivative of the outputs along the --direction (default +1 unit on every\n"
        "             --cols parameter); jacobian: d outputs / d parameters.\n"
        "             Default: value for the objective, jacobian otherwise\n"
        "  --rows     outputs [kind:]key[:weight], comma-separated (weights with --mode vjp);\n"
        "  --cols     parameters [kind:]key; keys are bus ids, generator or branch rows;\n"
        "             default every item of the kinds\n"
        "  --cotangent FILE  vjp weights: JSON {\"pg\": {\"3\": 0.5}, \"objective\": 1} or CSV\n"
        "             lines kind,key,weight\n"
        "  --direction FILE  jvp direction in parameter units, the same formats\n"
        "  --print    add MATPOWER printpf-style bus, generator and branch tables\n"
        "  -o FILE    write the output there; FILE.m: a MATPOWER case with the results\n"
        "  --top K    the summary lists the K largest sensitivities (default 10)\n"
        "  --flow-vars  thermal limits in flow variables on the rated branches of impedance\n"
        "             below Z p.u. (default 2e-4), none or all of them\n"
        "  --resolves N  re-solve warm up to N times with flow variables also on the branches\n"
        "             whose binding thermal limit is too stiff for --tol (default 2; 0: keep\n"
        "             the first solve's point)\n"
        "  --start    where Ipopt starts: ratio (default; voltages that follow the transformer\n"
        "             ratios and phase shifts) or flat (vm 1, va 0); pg, qg at limits' midpoints\n"
        "  --progress, --no-progress  progress of Jacobians on stderr (default: on a terminal)\n"
        "  --from-solution FILE  no solve: differentiate a solution computed elsewhere (a\n"
        "             MATPOWER solved case .m or foldopt's JSON), checked as a KKT point;\n"
        "             --polish re-solves warm from it and keeps the result when the same\n"
        "             limits hold; --kkt-tol: its KKT test (default 1e-5)\n"
        "  -v         show Ipopt's iteration log on stderr\n"
        "Exit status: 0 ok, 1 numerical failure, 2 usage or input error.\n");
}

static int lookup_mode(const opf_run *r, const char *opt, const char *val)
{
    for (int i = 0; opf_mode_names[i]; i++)
        if (!strcmp(opf_mode_names[i], val)) return i;
    opf_usage_error(r, "%s: unknown value '%s' (valid: value, vjp, jvp, jacobian)", opt, val);
    return -2;
}

int opf_check_args(opf_run *r)
{
    if (!r->case_path)
        return opf_usage_error(r, "a case file is required (see 'foldopt %s --help')", r->command);
    if ((r->polish || r->import_tol > 0) && !r->solution_path)
        return opf_usage_error(r, "--polish and --kkt-tol need --from-solution");
    bool diff = opf_has_wrt(r);
    if (!diff && r->outputs_alone &&
        (r->mode != OPF_MODE_DEFAULT || r->cols_text || r->cotangent_path))
        return opf_usage_error(r, "--mode, --cols and --cotangent need --wrt (or --direction)");
    if (!diff && !r->outputs_alone &&
        (r->mode != OPF_MODE_DEFAULT || r->rows_text || r->cols_text || r->n_of ||
         r->cotangent_path))
        return opf_usage_error(r, "--of, --mode, --rows, --cols and --cotangent need --wrt "
                                  "(or --direction)");
    if (!diff && r->outputs_alone && r->n_of == 0) {
        r->of[0] = FOLD_ACOPF_OUT_OBJECTIVE;
        r->n_of = 1;
    }
    if (!diff) return 0;
    /* derivatives asked for: the tightening re-solves run within the solve, so that outputs,
     * iteration counts and times are those of the point the fold differentiates */
    r->settings.forward.resolve_when = FOLD_RESOLVE_AT_SOLVE;
    if (r->cotangent_path && (r->rows_text || r->n_of))
        return opf_usage_error(r, "--cotangent gives the outputs and their weights: not with "
                                  "--of or --rows");
    if (r->direction_path && (r->cols_text || r->n_wrt))
        return opf_usage_error(r, "--direction gives the parameters: not with --wrt or "
                                  "--cols");
    if (r->n_of == 0 && !r->cotangent_path) {
        r->of[0] = FOLD_ACOPF_OUT_OBJECTIVE;
        r->n_of = 1;
    }
    bool objective_only = r->n_of == 1 && r->of[0] == FOLD_ACOPF_OUT_OBJECTIVE;
    if (r->mode == OPF_MODE_DEFAULT)
        r->mode = r->cotangent_path   ? OPF_MODE_VJP
                  : r->direction_path ? OPF_MODE_JVP
                  : objective_only    ? OPF_MODE_VALUE
                                      : OPF_MODE_JACOBIAN;
    if (r->mode == OPF_MODE_VALUE && (!objective_only || r->rows_text))
        return opf_usage_error(r, "--mode value is the gradient of the objective alone (use "
                                  "--mode vjp for other outputs)");
    if (r->cotangent_path && r->mode != OPF_MODE_VJP)
        return opf_usage_error(r, "--cotangent needs --mode vjp");
    if (r->direction_path && r->mode != OPF_MODE_JVP)
        return opf_usage_error(r, "--direction needs --mode jvp");
    return 0;
}

int opf_parse_option(opf_run *r, int argc, char **argv, int *i)
{
    static const char *const with_value[] = {
        "--wrt",       "--of",    "--mode",     "--rows", "--cols",      "--cotangent",
        "--direction", "--kkt",   "--backward", "--tol",  "--flow-vars", "--resolves",
        "--set",       "--ipopt", "--start",    NULL};
    const char *a = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    const char *setting = NULL;
    if (!strcmp(a, "-v")) {
        r->settings.log.verbose = 2;
        return 0;
    }
    int known = 0;
    while (with_value[known] && strcmp(with_value[known], a))
        known++;
    if (!with_value[known]) return 1;
    if (!val) return opf_usage_error(r, "%s needs a value", a);
    ++*i;
    if (!strcmp(a, "--wrt")) return opf_parse_kinds(r, a, val, true, r->wrt, &r->n_wrt);
    if (!strcmp(a, "--of")) return opf_parse_kinds(r, a, val, false, r->of, &r->n_of);
    if (!strcmp(a, "--mode")) return (r->mode = lookup_mode(r, a, val)) < 0 ? CLI_USAGE : 0;
    if (!strcmp(a, "--rows"))
        r->rows_text = val;
    else if (!strcmp(a, "--cols"))
        r->cols_text = val;
    else if (!strcmp(a, "--cotangent"))
        r->cotangent_path = val;
    else if (!strcmp(a, "--direction"))
        r->direction_path = val;
    else if (!strcmp(a, "--kkt")) {
        setting = "backward.kkt_form";
        r->kkt_given = true;
    } else if (!strcmp(a, "--backward"))
        setting = "backward.method";
    else if (!strcmp(a, "--tol"))
        setting = "forward.tol";
    else if (!strcmp(a, "--flow-vars")) {
        if (!strcmp(val, "none") || !strcmp(val, "all"))
            r->flow_var_max_z = val[0] == 'n' ? 0 : HUGE_VAL;
        else if (!cli_parse_double(a, val, &r->flow_var_max_z))
            return CLI_USAGE;
        else if (r->flow_var_max_z < 0)
            return opf_usage_error(r, "--flow-vars must be >= 0, none or all");
    } else if (!strcmp(a, "--start")) {
        if (strcmp(val, "ratio") && strcmp(val, "flat"))
            return opf_usage_error(r, "--start must be ratio or flat, not '%s'", val);
        r->start = val[0] == 'f' ? FOLD_ACOPF_START_FLAT : FOLD_ACOPF_START_RATIO;
    } else if (!strcmp(a, "--resolves")) {
        if (!cli_parse_long(a, val, &r->resolves)) return CLI_USAGE;
        if (r->resolves < 0 || r->resolves > 100)
            return opf_usage_error(r, "--resolves must be between 0 and 100");
    } else if (!strcmp(a, "--set")) {
        return cli_apply_set(&r->settings, val) ? 0 : CLI_USAGE;
    } else if (!strcmp(a, "--ipopt")) {
        return cli_add_ipopt(&r->ipopt, val) ? 0 : CLI_USAGE;
    }
    if (setting && fold_settings_set(&r->settings, setting, val) != FOLD_OK)
        return opf_usage_error(r, "%s: %s", a, fold_last_error());
    return 0;
}

void opf_run_init(opf_run *r, const char *command)
{
    memset(r, 0, sizeof *r);
    r->command = command;
    r->mode = OPF_MODE_DEFAULT;
    r->progress = -1;
    r->top = 10;
    r->flow_var_max_z = FOLD_ACOPF_FLOW_VAR_MAX_Z;
    r->resolves = FOLD_ACOPF_REFINE_ROUNDS;
    r->fwd = (fold_forward_info)FOLD_FORWARD_INFO_INIT;
    r->refine = (fold_acopf_solve_info)FOLD_ACOPF_SOLVE_INFO_INIT;
    r->import = (fold_acopf_import_info)FOLD_ACOPF_IMPORT_INFO_INIT;
    r->bwd = (fold_backward_info)FOLD_BACKWARD_INFO_INIT;
    fold_settings_default(&r->settings);
}

void opf_run_free(opf_run *r)
{
    fold_solver_free(r->solver);
    fold_acopf_free(r->model);
    free(r->x);
    free(r->outs);
    free(r->weights);
    free(r->cols);
    free(r->dp);
    free(r->values);
    free(r->lo);
    opf_trust_free(r);
    fold_acopf_results_free(r->res);
    cli_ipopt_free(&r->ipopt);
}

static int parse_args(opf_run *r, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = opf_parse_option(r, argc, argv, &i);
        if (rc != 1) {
            if (rc) return rc;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--json")) {
            r->json = true;
            continue;
        } else if (!strcmp(a, "--print")) {
            r->print_tables = true;
            continue;
        } else if (!strcmp(a, "--polish")) {
            r->polish = true;
            continue;
        } else if (!strcmp(a, "--progress") || !strcmp(a, "--no-progress")) {
            r->progress = a[2] == 'p';
            continue;
        } else if (a[0] != '-') {
            if (r->case_path)
                return cli_usage_error("opf: more than one case file ('%s', '%s')", r->case_path,
                                       a);
            r->case_path = a;
            continue;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--from-solution") || !strcmp(a, "--kkt-tol") ||
            !strcmp(a, "--top")) {
            if (!val) return cli_usage_error("opf: %s needs a value", a);
            i++;
        }
        if (!strcmp(a, "-o")) {
            r->out_path = val;
        } else if (!strcmp(a, "--from-solution")) {
            r->solution_path = val;
        } else if (!strcmp(a, "--kkt-tol")) {
            if (!cli_parse_double(a, val, &r->import_tol)) return CLI_USAGE;
            if (!(r->import_tol > 0)) return cli_usage_error("opf: --kkt-tol must be > 0");
        } else if (!strcmp(a, "--top")) {
            if (!cli_parse_long(a, val, &r->top)) return CLI_USAGE;
            if (r->top < 0) return cli_usage_error("opf: --top must be non-negative");
        } else {
            return cli_usage_error("opf: unknown option '%s'", a);
        }
    }
    return opf_check_args(r);
}

fold_status opf_differentiate(opf_run *r)
{
    /* the barrier fallback of fold_acopf_differentiate, as the library gives it to C */
    fold_status bst = opf_backward(r);
    r->has_backward = bst >= 0;
    return bst;
}

static int run(opf_run *r)
{
    fold_acopf_case *cs = NULL;
    fold_status st = fold_acopf_case_read(r->case_path, &cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: opf: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = r->flow_var_max_z;
    opt.start = r->start;
    st = fold_acopf_create_with(cs, &opt, &r->model);
    fold_acopf_case_free(cs);
    if (st != FOLD_OK) { /* data the model refuses is an input error */
        fprintf(stderr, "foldopt: opf: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    r->cs = fold_acopf_get_case(r->model); /* keys are bus ids, gen and branch rows */
    r->L = fold_acopf_get_layout(r->model);
    bool diff = opf_has_wrt(r);
    if (diff) {
        int rc = opf_select(r);
        if (rc) return rc;
    }
    if (r->solution_path) { /* a solution computed elsewhere (cmd_opf_import.c) */
        int irc = opf_import(r);
        if (irc != CLI_OK) return irc;
    } else {
        fold_acopf_solve_options so;
        fold_acopf_default_solve_options(&so);
        so.max_rounds = (int)r->resolves;
        so.ipopt_options = (const char *const *)r->ipopt.list;
        r->fwd_status =
            fold_acopf_solve(&r->model, &r->settings, NULL, &so, &r->solver, &r->fwd, &r->refine);
    }
    if (!r->solver) { /* settings (an unknown --ipopt option) or memory */
        fprintf(stderr, "foldopt: opf: %s\n", fold_last_error());
        return r->fwd_status == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    if (r->fwd_status < 0 && r->fwd.status == FOLD_FWD_NOT_RUN) /* refused before Ipopt ran */
        return cli_status_error("opf: forward solve", r->fwd_status);
    char fwd_detail[1024]; /* the solve's detail, before the next call clears it */
    snprintf(fwd_detail, sizeof fwd_detail, "%s", fold_last_error());
    /* the model of the kept solution (a re-solve may have added flow variables) */
    r->cs = fold_acopf_get_case(r->model);
    r->L = fold_acopf_get_layout(r->model);
    r->x = malloc((size_t)r->L.n * sizeof(double));
    if (!r->x) return cli_usage_error("opf: out of memory");
    bool solved = r->fwd_status >= 0;
    if (solved) fold_solver_solution(r->solver, r->x, NULL, NULL, NULL, NULL);
    if (solved && fold_acopf_results_from_solver(r->model, r->solver, &r->res) != FOLD_OK)
        return cli_usage_error("opf: %s", fold_last_error());
    int rc = solved ? CLI_OK : CLI_FAILED;
    if (!solved)
        fprintf(stderr, "foldopt: opf: forward solve failed: %s (%s)\n",
                fold_forward_status_string(r->fwd.status), fwd_detail);
    else if (r->fwd_status > 0) /* e.g. Ipopt's acceptable level: derivatives at that point */
        fprintf(stderr, "foldopt: opf: warning: forward solve %s: %s\n",
                fold_forward_status_string(r->fwd.status), fwd_detail);
    fold_status bst = FOLD_OK;
    if (solved && diff) {
        bst = opf_differentiate(r);
        if (bst < 0) {
            fprintf(stderr, "foldopt: opf: backward: %s: %s\n", fold_status_string(bst),
                    r->bwd_msg);
            rc = bst == FOLD_ERR_ARGUMENT || bst == FOLD_ERR_UNSUPPORTED || bst == FOLD_ERR_SETTING
                     ? CLI_USAGE
                     : CLI_FAILED;
        } else if (bst > 0 && bst != FOLD_WARN_NOT_UNIQUE && bst != FOLD_WARN_UNCERTAIN &&
                   !(bst == FOLD_WARN_INACCURATE && r->bwd.n_barrier_error > 0))
            fprintf(stderr, "foldopt: opf: warning: %s: %s\n", fold_status_string(bst), r->bwd_msg);
        if (bst >= 0) /* what limits the entries asked for, counted over those only */
            opf_trust_warn(r);
    }
    bool solved_case = opf_writes_case(r->out_path);
    if (solved_case) {
        int wrc = solved ? opf_write_solved_case(r)
                         : cli_usage_error("opf: no solution to write to '%s'", r->out_path);
        if (wrc != CLI_OK) return wrc;
    }
    FILE *out = cli_open_output("opf", solved_case ? NULL : r->out_path);
    if (!out) return CLI_USAGE;
    if (r->json)
        opf_print_json(r, out);
    else
        opf_print_text(r, out);
    if (r->print_tables && !r->json) opf_print_tables(r, out);
    int wrc = cli_close_output("opf", out, solved_case ? NULL : r->out_path);
    return wrc != CLI_OK ? wrc : rc;
}

int cmd_opf(int argc, char **argv)
{
    opf_run r;
    opf_run_init(&r, "opf");
    int rc = parse_args(&r, argc, argv);
    if (rc == 0)
        rc = run(&r);
    else if (rc < 0)
        rc = CLI_OK;
    opf_run_free(&r);
    return rc;
}
