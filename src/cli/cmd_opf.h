/* foldopt opf: shared state of the command (cmd_opf.c) and its output (cmd_opf_out.c). */
#ifndef FOLD_CLI_CMD_OPF_H
#define FOLD_CLI_CMD_OPF_H

#include "cli/cli.h"
#include "acopf/acopf.h"

enum { OPF_OF_OBJECTIVE, OPF_OF_PG, OPF_OF_QG, OPF_OF_VM, OPF_OF_VA };
enum { OPF_WRT_NONE = -1, OPF_WRT_PD, OPF_WRT_QD, OPF_WRT_C1, OPF_WRT_C2 };
enum { OPF_MODE_DEFAULT = -1, OPF_MODE_VALUE, OPF_MODE_VJP, OPF_MODE_JVP, OPF_MODE_JACOBIAN };

typedef struct opf_run {
    const char *command;      /* "opf" or "batch": prefix of messages */
    /* arguments */
    const char *case_path, *out_path, *rows_text, *cols_text;
    int wrt, of, mode;
    bool json;
    bool kkt_given;           /* --kkt given: no automatic switch to the barrier form */
    char kkt_fallback[256];   /* why the active-set form was replaced by the barrier form */
    long top;
    double flow_var_max_z;    /* --flow-vars (doc/acopf.md §2.1) */
    long resolves;            /* --resolves: fold_acopf_solve's max_rounds (§2.2) */
    fold_settings settings;
    /* model and forward results */
    fold_acopf *model;
    const fold_acopf_case *cs;
    fold_acopf_layout L;
    fold_solver *solver;
    fold_forward_info fwd;
    fold_status fwd_status;
    fold_acopf_solve_info refine;
    double *x;
    /* sensitivities: rows = outputs (keys), cols = parameters (keys) */
    fold_int n_rows, n_cols;
    fold_int *rows, *cols;  /* indices into gens or buses */
    double *values;         /* gradient (n_cols), jvp (n_rows) or jacobian (n_rows x n_cols,
                               column-major) */
    bool has_backward;
    double backward_s;
    fold_backward_info bwd;
    bool has_bwd_info;
} opf_run;

/* Names of the --of / --wrt / --mode values. */
extern const char *const opf_of_names[];
extern const char *const opf_wrt_names[];
extern const char *const opf_mode_names[];

/* Key (bus id or generator row) of output row r / parameter column c. */
long opf_row_key(const opf_run *r, fold_int k);
long opf_col_key(const opf_run *r, fold_int k);

/* One of the options shared by opf and batch at argv[*i] (--wrt, --of, --mode, --kkt,
 * --backward, --tol, --rows, --cols, --flow-vars, --resolves, --set, --ipopt, -v), *i
 * advanced past its value: 0 taken, 1 not one of them, CLI_USAGE (message printed). */
int opf_parse_option(opf_run *r, int argc, char **argv, int *i);
/* After parsing: a case is given, --wrt/--of/--mode/--rows agree; the default mode. */
int opf_check_args(opf_run *r);
/* With r->cs set: the --rows / --cols keys into r->rows, r->cols (all when not given). */
int opf_parse_selection(opf_run *r);
/* Entries of r->values: the sensitivities of --mode. */
fold_int opf_n_values(const opf_run *r);
/* x index of output row k and its unit scale (MW, MVAr, degrees). */
fold_int opf_row_x(const opf_run *r, fold_int k, double *scale);
/* The sensitivities of --wrt/--of/--mode at the solution in r->solver (r->x, r->model, r->L
 * set) into r->values, with the switch to the barrier form when the active-set form is
 * refused and --kkt was not given (r->kkt_fallback says why); r->backward_s, r->bwd. */
fold_status opf_differentiate(opf_run *r);

/* A JSON string literal (quotes, backslashes and control characters escaped). */
void opf_json_string(FILE *out, const char *s);

/* Write the summary or the JSON object to out. */
void opf_print_text(const opf_run *r, FILE *out);
void opf_print_json(const opf_run *r, FILE *out);

#endif
