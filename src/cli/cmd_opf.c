/* foldopt opf: solve a MATPOWER case's AC-OPF, then differentiate its solution with respect
 * to loads or cost coefficients (doc/cli.md, doc/acopf.md §5). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd_opf.h"

#define DEG (3.14159265358979323846 / 180.0)

const char *const opf_of_names[] = {"objective", "pg", "qg", "vm", "va", NULL};
const char *const opf_wrt_names[] = {"pd", "qd", "c1", "c2", NULL};
const char *const opf_mode_names[] = {"value", "vjp", "jvp", "jacobian", NULL};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: foldopt opf CASE.m [--wrt pd|qd|c1|c2] [--of objective|pg|qg|vm|va]\n"
        "                  [--mode value|vjp|jvp|jacobian] [--kkt active|barrier]\n"
        "                  [--backward direct|lfpi|gmres|minres|bicgstab] [--tol T] [-v]\n"
        "                  [--json] [-o FILE] [--set name=value] [--ipopt name=value]\n"
        "                  [--top K] [--rows LIST] [--cols LIST] [--flow-vars Z|none|all]\n"
        "                  [--resolves N]\n"
        "Solve the AC optimal power flow of a MATPOWER case (PGLib baseline formulation) and\n"
        "optionally differentiate the solution with respect to the loads (pd, qd per bus, MW\n"
        "and MVAr) or the cost coefficients (c1, c2 per generator).\n"
        "  --of       output: objective ($/h), pg, qg (MW, MVAr per generator row), vm (p.u.),\n"
        "             va (degrees) per bus id; default objective\n"
        "  --mode     value: gradient of the optimal objective (envelope theorem; the LMP for\n"
        "             --wrt pd); vjp: gradient of the objective or of the sum of the --rows\n"
        "             outputs; jvp: derivative of the outputs along the sum of the --cols\n"
        "             parameters (1 unit each); jacobian: d outputs / d parameters.\n"
        "             Default: value for the objective, jacobian otherwise\n"
        "  --rows, --cols  comma-separated keys (bus ids or generator rows); default all\n"
        "  --top K    the summary lists the K largest sensitivities (default 10)\n"
        "  --flow-vars  thermal limits in flow variables on the rated branches of impedance\n"
        "             below Z p.u. (default 2e-4), none or all of them\n"
        "  --resolves N  when Ipopt stops at its acceptable level, re-solve warm up to N times\n"
        "             with flow variables also on the branches whose binding thermal limit is\n"
        "             too stiff for --tol (default 2; 0: keep the acceptable point)\n"
        "  -v         show Ipopt's iteration log on stderr\n"
        "Exit status: 0 ok, 1 numerical failure, 2 usage or input error.\n");
}

static int lookup(const char *const *names, const char *opt, const char *val)
{
    for (int i = 0; val && names[i]; i++)
        if (!strcmp(names[i], val))
            return i;
    cli_usage_error("opf: %s: unknown value '%s'", opt, val ? val : "");
    return -2;
}

static int parse_args(opf_run *r, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        const char *setting = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--json")) {
            r->json = true;
            continue;
        } else if (!strcmp(a, "-v")) {
            r->settings.log.verbose = 2;
            continue;
        } else if (a[0] != '-') {
            if (r->case_path)
                return cli_usage_error("opf: more than one case file ('%s', '%s')",
                                       r->case_path, a);
            r->case_path = a;
            continue;
        }
        if (!val)
            return cli_usage_error("opf: %s needs a value", a);
        i++;
        if (!strcmp(a, "--wrt") && (r->wrt = lookup(opf_wrt_names, a, val)) < 0)
            return CLI_USAGE;
        else if (!strcmp(a, "--of") && (r->of = lookup(opf_of_names, a, val)) < 0)
            return CLI_USAGE;
        else if (!strcmp(a, "--mode") && (r->mode = lookup(opf_mode_names, a, val)) < 0)
            return CLI_USAGE;
        else if (!strcmp(a, "--kkt")) {
            setting = "backward.kkt_form";
            r->kkt_given = true;
        }
        else if (!strcmp(a, "--backward"))
            setting = "backward.method";
        else if (!strcmp(a, "--tol"))
            setting = "forward.tol";
        else if (!strcmp(a, "-o"))
            r->out_path = val;
        else if (!strcmp(a, "--rows"))
            r->rows_text = val;
        else if (!strcmp(a, "--cols"))
            r->cols_text = val;
        else if (!strcmp(a, "--top")) {
            if (!cli_parse_long(a, val, &r->top))
                return CLI_USAGE;
            if (r->top < 0)
                return cli_usage_error("opf: --top must be non-negative");
        } else if (!strcmp(a, "--flow-vars")) {
            if (!strcmp(val, "none") || !strcmp(val, "all"))
                r->flow_var_max_z = val[0] == 'n' ? 0 : HUGE_VAL;
            else if (!cli_parse_double(a, val, &r->flow_var_max_z))
                return CLI_USAGE;
            else if (r->flow_var_max_z < 0)
                return cli_usage_error("opf: --flow-vars must be >= 0, none or all");
        } else if (!strcmp(a, "--resolves")) {
            if (!cli_parse_long(a, val, &r->resolves))
                return CLI_USAGE;
            if (r->resolves < 0 || r->resolves > 100)
                return cli_usage_error("opf: --resolves must be between 0 and 100");
        } else if (!strcmp(a, "--set")) {
            if (!cli_apply_set(&r->settings, val))
                return CLI_USAGE;
        } else if (!strcmp(a, "--ipopt")) {
            if (!cli_apply_ipopt(&r->settings, val))
                return CLI_USAGE;
        } else if (strcmp(a, "--wrt") && strcmp(a, "--of") && strcmp(a, "--mode")) {
            return cli_usage_error("opf: unknown option '%s'", a);
        }
        if (setting && fold_settings_set(&r->settings, setting, val) != FOLD_OK)
            return cli_usage_error("opf: %s: %s", a, fold_last_error());
    }
    if (!r->case_path)
        return cli_usage_error("opf: a case file is required (see 'foldopt opf --help')");
    if (r->wrt == OPF_WRT_NONE && (r->mode != OPF_MODE_DEFAULT || r->rows_text || r->cols_text))
        return cli_usage_error("opf: --mode, --rows and --cols need --wrt");
    if (r->mode == OPF_MODE_DEFAULT)
        r->mode = r->of == OPF_OF_OBJECTIVE ? OPF_MODE_VALUE : OPF_MODE_JACOBIAN;
    if (r->mode == OPF_MODE_VALUE && r->of != OPF_OF_OBJECTIVE)
        return cli_usage_error("opf: --mode value needs --of objective");
    if (r->of == OPF_OF_OBJECTIVE && r->rows_text)
        return cli_usage_error("opf: --rows selects outputs of a vector --of");
    return 0;
}

static bool rows_are_gens(const opf_run *r)
{
    return r->of == OPF_OF_PG || r->of == OPF_OF_QG;
}

static bool cols_are_gens(const opf_run *r)
{
    return r->wrt == OPF_WRT_C1 || r->wrt == OPF_WRT_C2;
}

long opf_row_key(const opf_run *r, fold_int k)
{
    return rows_are_gens(r) ? r->cs->gen[r->rows[k]].row : r->cs->bus[r->rows[k]].id;
}

long opf_col_key(const opf_run *r, fold_int k)
{
    return cols_are_gens(r) ? r->cs->gen[r->cols[k]].row : r->cs->bus[r->cols[k]].id;
}

/* Parse "a,b,c" keys into indices of gens (by file row) or buses (by id); all when NULL. */
static int parse_keys(const opf_run *r, const char *text, bool gens, const char *opt,
                      fold_int **out, fold_int *count)
{
    fold_int n = gens ? r->cs->n_gen : r->cs->n_bus, cap = n + 1, k = 0;
    *out = malloc((size_t)cap * sizeof(fold_int));
    if (!*out)
        return cli_usage_error("opf: out of memory");
    if (!text) {
        for (k = 0; k < n; k++)
            (*out)[k] = k;
        *count = n;
        return 0;
    }
    const char *s = text;
    while (*s) {
        char *end;
        long key = strtol(s, &end, 10);
        if (end == s || (*end && *end != ','))
            return cli_usage_error("opf: %s: '%s' is not a comma-separated list of integers",
                                   opt, text);
        fold_int idx = -1;
        for (fold_int i = 0; i < n && idx < 0; i++)
            if ((gens ? r->cs->gen[i].row : r->cs->bus[i].id) == key)
                idx = i;
        if (idx < 0)
            return cli_usage_error("opf: %s: no %s %ld in %s", opt,
                                   gens ? "in-service generator row" : "bus", key, r->cs->name);
        if (k >= cap)
            return cli_usage_error("opf: %s: more than %ld keys", opt, (long)n);
        (*out)[k++] = idx;
        s = *end ? end + 1 : end;
    }
    *count = k;
    return 0;
}

/* x index and unit scale of output row k; parameter index of column k. */
static fold_int row_x(const opf_run *r, fold_int k, double *scale);

fold_int opf_row_x(const opf_run *r, fold_int k)
{
    double scale;
    return row_x(r, k, &scale);
}

static fold_int row_x(const opf_run *r, fold_int k, double *scale)
{
    const fold_acopf_layout *L = &r->L;
    *scale = r->of == OPF_OF_PG || r->of == OPF_OF_QG ? r->cs->base_mva
             : r->of == OPF_OF_VA                     ? 1 / DEG
                                                      : 1;
    fold_int i = r->rows[k];
    switch (r->of) {
    case OPF_OF_PG: return L->x_pg + i;
    case OPF_OF_QG: return L->x_qg + i;
    case OPF_OF_VM: return L->x_vm + i;
    default: return L->x_va + i;
    }
}

static fold_int col_p(const opf_run *r, fold_int k)
{
    const fold_int off[] = {r->L.p_pd, r->L.p_qd, r->L.p_c1, r->L.p_c2};
    return off[r->wrt] + r->cols[k];
}

fold_int opf_col_p(const opf_run *r, fold_int k)
{
    return col_p(r, k);
}

/* The objective's gradient (value mode, or the vjp's where they differ): NaN where the
 * optimal value has a kink, whose left and right derivatives the trust report carries. */
static fold_status objective_onesided(opf_run *r, double *left, double *right, bool *kink)
{
    fold_status st = fold_value_onesided(r->solver, left, right);
    if (st < 0) return st;
    for (fold_int c = 0; c < r->n_cols; c++) {
        fold_int k = col_p(r, c);
        kink[c] = !(left[k] == right[k]);
    }
    r->scale = 1;
    if (opf_trust_collect(r, OPF_CALL_VALUE)) return FOLD_ERR_MEMORY;
    return st;
}

/* The sensitivities requested by --wrt/--of/--mode (doc/acopf.md §5). */
static fold_status backward(opf_run *r)
{
    const fold_acopf_layout *L = &r->L;
    fold_int n = L->n, np = L->np;
    double *p = malloc((size_t)np * sizeof(double)), *gp = calloc((size_t)np, sizeof(double));
    double *xbar = calloc((size_t)n, sizeof(double)), *pbar = calloc((size_t)np, sizeof(double));
    double *dx = calloc((size_t)n, sizeof(double)), *dp = calloc((size_t)np, sizeof(double));
    fold_int nv = r->mode == OPF_MODE_JACOBIAN && r->of != OPF_OF_OBJECTIVE
                      ? r->n_rows * r->n_cols
                      : (r->mode == OPF_MODE_JVP ? r->n_rows : r->n_cols);
    free(r->values); /* a second call (barrier fallback) replaces the first result */
    free(r->lo);
    opf_trust_free(r);
    r->values = calloc((size_t)nv + 1, sizeof(double));
    r->lo = malloc((2 * (size_t)nv + 1) * sizeof(double));
    r->hi = r->lo ? r->lo + nv : NULL;
    double *left = calloc((size_t)np + 1, sizeof(double)), *right = calloc((size_t)np + 1, 8);
    bool *kink = calloc((size_t)r->n_cols + 1, sizeof(bool));
    fold_status st = FOLD_ERR_MEMORY;
    if (!p || !gp || !xbar || !pbar || !dx || !dp || !r->values || !r->lo || !left || !right ||
        !kink)
        goto done;
    for (fold_int k = 0; k < 2 * nv; k++)
        r->lo[k] = NAN;
    fold_solver_params(r->solver, p);
    fold_acopf_eval_grad_f_p(r->model, r->x, p, gp);
    bool objective = r->of == OPF_OF_OBJECTIVE;
    if (r->mode == OPF_MODE_VALUE) {
        st = objective_onesided(r, left, right, kink);
        for (fold_int c = 0; st >= 0 && c < r->n_cols; c++)
            r->values[c] = kink[c] ? NAN : left[col_p(r, c)];
    } else if (r->mode == OPF_MODE_VJP || (objective && r->mode == OPF_MODE_JACOBIAN)) {
        double scale;
        /* the objective's kinks: one-sided derivatives where the vjp has no single value */
        if (objective && (st = objective_onesided(r, left, right, kink)) < 0) goto done;
        if (objective)
            fold_acopf_eval_grad_f(r->model, r->x, p, xbar);
        for (fold_int k = 0; !objective && k < r->n_rows; k++) {
            fold_int xi = row_x(r, k, &scale);
            xbar[xi] += scale;
        }
        st = fold_vjp(r->solver, xbar, NULL, NULL, NULL, pbar, &r->bwd);
        r->has_bwd_info = true;
        r->scale = 1;
        if (st >= 0 && opf_trust_collect(r, OPF_CALL_VJP)) st = FOLD_ERR_MEMORY;
        /* the objective also depends on c1, c2 directly: add d f / d p at fixed x */
        for (fold_int c = 0; st >= 0 && c < r->n_cols; c++)
            r->values[c] = kink[c] ? NAN : pbar[col_p(r, c)] + (objective ? gp[col_p(r, c)] : 0);
    } else if (r->mode == OPF_MODE_JVP) {
        for (fold_int c = 0; c < r->n_cols; c++)
            dp[col_p(r, c)] = 1;
        st = fold_jvp(r->solver, dp, dx, NULL, NULL, NULL, &r->bwd);
        r->has_bwd_info = true;
        if (objective) {
            double s = 0;
            fold_acopf_eval_grad_f(r->model, r->x, p, xbar);
            for (fold_int i = 0; i < n; i++)
                s += xbar[i] * dx[i];
            for (fold_int j = 0; j < np; j++)
                s += gp[j] * dp[j];
            r->values[0] = s;
        }
        for (fold_int k = 0; !objective && st >= 0 && k < r->n_rows; k++) {
            double scale;
            fold_int xi = row_x(r, k, &scale);
            r->values[k] = scale * dx[xi];
            r->scale = scale;
        }
        if (st >= 0 && !objective && opf_trust_collect(r, OPF_CALL_JVP)) st = FOLD_ERR_MEMORY;
    } else {
        fold_int *xr = malloc((size_t)r->n_rows * sizeof(fold_int) + 1);
        fold_int *pc = malloc((size_t)r->n_cols * sizeof(fold_int) + 1);
        double scale = 1;
        st = FOLD_ERR_MEMORY;
        if (xr && pc) {
            for (fold_int k = 0; k < r->n_rows; k++)
                xr[k] = row_x(r, k, &scale);
            for (fold_int c = 0; c < r->n_cols; c++)
                pc[c] = col_p(r, c);
            st = fold_jacobian(r->solver, FOLD_BLOCK_X, r->n_rows, xr, r->n_cols, pc, r->values,
                               &r->bwd);
            r->has_bwd_info = true;
            for (fold_int k = 0; st >= 0 && k < r->n_rows * r->n_cols; k++)
                r->values[k] *= scale;
            r->scale = scale;
            if (st >= 0 && opf_trust_collect(r, OPF_CALL_JACOBIAN)) st = FOLD_ERR_MEMORY;
        }
        free(xr);
        free(pc);
    }
done:
    free(left);
    free(right);
    free(kink);
    free(p);
    free(gp);
    free(xbar);
    free(pbar);
    free(dx);
    free(dp);
    return st;
}

static int run(opf_run *r)
{
    fold_acopf_case *cs = NULL;
    fold_status st = fold_acopf_case_read(r->case_path, &cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: opf: %s\n", fold_acopf_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = r->flow_var_max_z;
    st = fold_acopf_create_with(cs, &opt, &r->model);
    fold_acopf_case_free(cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: opf: %s\n", fold_acopf_last_error());
        return CLI_FAILED;
    }
    r->cs = fold_acopf_get_case(r->model); /* keys are bus ids and generator rows */
    if (r->wrt != OPF_WRT_NONE) {
        int rc = parse_keys(r, r->cols_text, cols_are_gens(r), "--cols", &r->cols, &r->n_cols);
        if (rc)
            return rc;
        if (r->of == OPF_OF_OBJECTIVE) {
            r->n_rows = 1;
        } else if ((rc = parse_keys(r, r->rows_text, rows_are_gens(r), "--rows", &r->rows,
                                    &r->n_rows)) != 0) {
            return rc;
        }
    }
    fold_acopf_solve_options so;
    fold_acopf_default_solve_options(&so);
    so.max_rounds = (int)r->resolves;
    r->fwd_status = fold_acopf_solve(&r->model, &r->settings, NULL, &so, &r->solver, &r->fwd,
                                     &r->refine);
    if (!r->solver) { /* settings or memory */
        fprintf(stderr, "foldopt: opf: %s\n", fold_acopf_last_error());
        return r->fwd_status == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    /* the model of the kept solution (a re-solve may have added flow variables) */
    r->cs = fold_acopf_get_case(r->model);
    r->L = fold_acopf_get_layout(r->model);
    r->x = malloc((size_t)r->L.n * sizeof(double));
    if (!r->x)
        return cli_usage_error("opf: out of memory");
    bool solved = r->fwd_status >= 0;
    if (solved)
        fold_solver_solution(r->solver, r->x, NULL, NULL, NULL, NULL);
    int rc = solved ? CLI_OK : CLI_FAILED;
    if (!solved)
        fprintf(stderr, "foldopt: opf: forward solve failed: %s (%s)\n",
                fold_forward_status_string(r->fwd.status), fold_last_error());
    else if (r->fwd_status > 0) /* e.g. Ipopt's acceptable level: derivatives at that point */
        fprintf(stderr, "foldopt: opf: warning: forward solve %s: %s\n",
                fold_forward_status_string(r->fwd.status), fold_last_error());
    fold_status bst = FOLD_OK;
    if (solved && r->wrt != OPF_WRT_NONE) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bst = backward(r);
        /* Several generators at one bus leave their reactive split undetermined: the
         * active-set system is singular there while the barrier form stays regular
         * (doc/acopf.md). Without an explicit --kkt, switch and say so. */
        if ((bst == FOLD_ERR_SINGULAR || bst == FOLD_ERR_DEGENERATE) && !r->kkt_given &&
            r->settings.backward.kkt_form == FOLD_KKT_ACTIVE) {
            snprintf(r->kkt_fallback, sizeof r->kkt_fallback, "active-set form: %s",
                     fold_last_error());
            r->settings.backward.kkt_form = FOLD_KKT_BARRIER;
            if (fold_solver_update_settings(r->solver, &r->settings) == FOLD_OK)
                bst = backward(r);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        r->backward_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        r->has_backward = bst >= 0;
        if (bst < 0)
            rc = cli_status_error("opf: backward", bst);
        else if (bst > 0 && bst != FOLD_WARN_NOT_UNIQUE && bst != FOLD_WARN_UNCERTAIN &&
                 !(bst == FOLD_WARN_INACCURATE && r->bwd.n_barrier_error > 0))
            fprintf(stderr, "foldopt: opf: warning: %s: %s\n", fold_status_string(bst),
                    fold_last_error());
        if (bst >= 0) /* what limits the entries asked for, counted over those only */
            opf_trust_warn(r);
    }
    FILE *out = r->out_path ? fopen(r->out_path, "w") : stdout;
    if (!out)
        return cli_usage_error("opf: cannot write '%s'", r->out_path);
    if (r->json)
        opf_print_json(r, out);
    else
        opf_print_text(r, out);
    if (r->out_path && fclose(out) != 0)
        return cli_usage_error("opf: write error on '%s'", r->out_path);
    return rc;
}

int cmd_opf(int argc, char **argv)
{
    opf_run r;
    memset(&r, 0, sizeof r);
    r.wrt = OPF_WRT_NONE;
    r.of = OPF_OF_OBJECTIVE;
    r.mode = OPF_MODE_DEFAULT;
    r.top = 10;
    r.flow_var_max_z = FOLD_ACOPF_FLOW_VAR_MAX_Z;
    r.resolves = FOLD_ACOPF_REFINE_ROUNDS;
    fold_settings_default(&r.settings);
    int rc = parse_args(&r, argc, argv);
    if (rc == 0)
        rc = run(&r);
    else if (rc < 0)
        rc = CLI_OK;
    fold_solver_free(r.solver);
    fold_acopf_free(r.model);
    free(r.x);
    free(r.rows);
    free(r.cols);
    free(r.values);
    free(r.lo);
    opf_trust_free(&r);
    return rc;
}
