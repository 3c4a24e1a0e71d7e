/* foldopt opf: shared state of the command (cmd_opf.c) and its output (cmd_opf_out.c). */
#ifndef FOLD_CLI_CMD_OPF_H
#define FOLD_CLI_CMD_OPF_H

#include "cli/cli.h"
#include "acopf/acopf.h"

enum { OPF_OF_OBJECTIVE, OPF_OF_PG, OPF_OF_QG, OPF_OF_VM, OPF_OF_VA };
enum { OPF_WRT_NONE = -1, OPF_WRT_PD, OPF_WRT_QD, OPF_WRT_C1, OPF_WRT_C2 };
enum { OPF_MODE_DEFAULT = -1, OPF_MODE_VALUE, OPF_MODE_VJP, OPF_MODE_JVP, OPF_MODE_JACOBIAN };
/* The library call whose trust report is collected. */
enum { OPF_CALL_VALUE, OPF_CALL_VJP, OPF_CALL_JVP, OPF_CALL_JACOBIAN };

typedef struct opf_trust opf_trust;

typedef struct opf_run {
    /* arguments */
    const char *case_path, *out_path, *rows_text, *cols_text;
    int wrt, of, mode;
    bool json;
    bool kkt_given;           /* --kkt given: no automatic switch to the barrier form */
    char kkt_fallback[4096 + 64]; /* why the active-set form was replaced by the barrier form
                                  (the library message whole: fold_last_error holds 4096) */
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
    double *lo, *hi;        /* per entry of values: its interval (uncertain, or left and right
                               derivatives of the objective), NaN when it has none */
    double scale;           /* output units per library unit of the entries */
    opf_trust *trust;       /* the trust report of the entries asked for (cmd_opf_trust.c) */
    int n_trust, cap_trust;
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

/* x index of output row k (and its unit scale); parameter index of column k. */
fold_int opf_row_x(const opf_run *r, fold_int k);
fold_int opf_col_p(const opf_run *r, fold_int k);

/* The trust report (cmd_opf_trust.c): append the solver's last report for a call of kind
 * OPF_CALL_*, its entries mapped to the keys asked for (intervals into lo, hi); free; the
 * summary lines, the JSON member "trust" and the one-line warning on stderr. */
int opf_trust_collect(opf_run *r, int call);
void opf_trust_free(opf_run *r);
void opf_trust_text(const opf_run *r, FILE *out);
void opf_trust_json(const opf_run *r, FILE *out, void (*num)(FILE *, double),
                    void (*str)(FILE *, const char *));
void opf_trust_warn(const opf_run *r);
void opf_json_bound(FILE *out, double v);

/* Write the summary or the JSON object to out. */
void opf_print_text(const opf_run *r, FILE *out);
void opf_print_json(const opf_run *r, FILE *out);

#endif
