/* foldopt opf: shared state of the command (cmd_opf.c), what it differentiates
 * (cmd_opf_select.c), the backward call and its output (cmd_opf_sens.c), the summary and
 * JSON (cmd_opf_out.c) and the result tables (cmd_opf_print.c). */
#ifndef FOLD_CLI_CMD_OPF_H
#define FOLD_CLI_CMD_OPF_H

#include "cli.h"
#include "common/name_pool.h"
#include "foldopt/acopf.h"

/* --mode: the library's fold_acopf_diff_mode, or not given */
enum {
    OPF_MODE_DEFAULT = -1,
    OPF_MODE_VALUE = FOLD_ACOPF_DIFF_VALUE,
    OPF_MODE_VJP = FOLD_ACOPF_DIFF_VJP,
    OPF_MODE_JVP = FOLD_ACOPF_DIFF_JVP,
    OPF_MODE_JACOBIAN = FOLD_ACOPF_DIFF_JACOBIAN
};
/* The report collected: the solver's (fold_value_onesided) or the acopf call's. */
enum { OPF_CALL_VALUE, OPF_CALL_ACOPF };

typedef struct opf_run {
    const char *command; /* "opf" or "batch": the prefix of its messages */
    /* arguments */
    const char *case_path, *out_path, *rows_text, *cols_text;
    const char *cotangent_path, *direction_path; /* --cotangent, --direction files */
    const char *solution_path;                   /* --from-solution FILE */
    bool polish;                                 /* --polish */
    double import_tol;                           /* --kkt-tol (0: the import's default) */
    int wrt[FOLD_ACOPF_N_PARAM_KINDS], n_wrt;    /* --wrt kinds (fold_acopf_param_kind) */
    int of[FOLD_ACOPF_N_OUTPUT_KINDS], n_of;     /* --of kinds (fold_acopf_output_kind) */
    int mode;
    bool outputs_alone; /* --of and --rows without --wrt select outputs (batch) */
    bool json;
    bool print_tables;            /* --print: printpf-style tables (cmd_opf_print.c) */
    bool kkt_given;               /* --kkt given: no automatic switch to the barrier form */
    char kkt_fallback[4096 + 64]; /* why the active-set form was replaced by the barrier form
                                     (the library's message whole: it holds 4096) */
    long top;
    double flow_var_max_z;  /* --flow-vars (doc/acopf.md §2.1) */
    long resolves;          /* --resolves: fold_acopf_solve's max_rounds (§2.2) */
    fold_acopf_start start; /* --start (doc/acopf.md §2 "Start") */
    int progress;           /* --progress: -1 auto (a terminal), 0 off, 1 on */
    fold_settings settings;
    cli_ipopt ipopt; /* --ipopt: the options of every solver of the command */
    /* model and forward results */
    fold_acopf *model;
    const fold_acopf_case *cs;
    fold_acopf_layout L;
    fold_solver *solver;
    fold_forward_info fwd;
    fold_status fwd_status;
    fold_acopf_solve_info refine;
    double *x;
    fold_acopf_results *res; /* results of the solution (doc/acopf.md §6), NULL unsolved */
    bool imported;           /* --from-solution: what the import did */
    fold_acopf_import_info import;
    /* sensitivities: rows = outputs, cols = parameters */
    fold_int n_rows, n_cols;
    fold_acopf_output *outs; /* the outputs (rows) */
    double *weights;         /* their cotangent weights (--mode vjp) */
    fold_int *cols;          /* parameter indices (columns) */
    double *dp;              /* the direction of --mode jvp (np) */
    double *values;          /* gradient (n_cols), jvp (n_rows) or jacobian (n_rows x n_cols,
                                column-major) */
    double *lo, *hi;         /* per entry of values: its interval (uncertain, barrier error, or
                                left and right derivatives of the objective), NaN when none */
    /* the trust report of the entries asked for (cmd_opf_trust.c), in the numbering of values:
     * entry and affected are positions in values, col (an inconsistent column) a position in
     * cols; lists owned, names in trust_names (item k's at offset trust_name_at[k]) */
    fold_trust_item *trust;
    fold_int n_trust, cap_trust;
    name_pool trust_names;
    size_t *trust_name_at;
    bool has_backward;
    char bwd_msg[4096]; /* the backward call's error or warning detail */
    double backward_s;
    fold_backward_info bwd;
    bool has_bwd_info;
} opf_run;

extern const char *const opf_mode_names[];

/* "foldopt: <command>: <message>" on stderr; returns CLI_USAGE. */
#define opf_usage_error(r, fmt, ...) cli_usage_error("%s: " fmt, (r)->command, ##__VA_ARGS__)

/* r with the defaults of the options, for command "opf" or "batch"; what it holds freed. */
void opf_run_init(opf_run *r, const char *command);
void opf_run_free(opf_run *r);
/* One of the options foldopt opf and foldopt batch share at argv[*i] (--wrt, --of, --mode,
 * --rows, --cols, --cotangent, --direction, --kkt, --backward, --tol, --flow-vars,
 * --resolves, --set, --ipopt, -v), *i advanced past its value: 0 taken, 1 not one of them,
 * CLI_USAGE (message printed). */
int opf_parse_option(opf_run *r, int argc, char **argv, int *i);
/* After parsing: a case given, the options that go together; the default --of and --mode.
 * 0 or CLI_USAGE. */
int opf_check_args(opf_run *r);
/* Sensitivities asked for: --wrt or --direction given. */
bool opf_has_wrt(const opf_run *r);
/* Entries of r->values for --mode: n_rows x n_cols (jacobian), n_rows (jvp), n_cols. */
fold_int opf_n_entries(const opf_run *r);
/* --wrt / --of lists: kinds into kinds[], *n (a usage error lists the valid names). */
int opf_parse_kinds(const opf_run *r, const char *opt, const char *text, bool params, int *kinds,
                    int *n);
/* The kind of a parameter (params) or output name, MATPOWER's column names accepted for
 * rate_a, tap and shift; -1 when unknown. */
int opf_kind_of(const char *name, bool params);
/* Index of the item with `key` (bus id, gen row, branch row) in cs, -1 when none. */
fold_int opf_item_index(const fold_acopf_case *cs, int item_type, long key);
/* The outputs, weights, parameters and direction of r from its options and files
 * (after the model exists). Returns 0 or CLI_USAGE (message printed). */
int opf_select(opf_run *r);
/* The word of an item type ("bus", "gen", "branch"). */
const char *opf_item_word(int item_type);

/* --from-solution: read the file, import it (and polish) into a new solver (cmd_opf_import.c);
 * its part of the JSON object and of the summary. */
int opf_import(opf_run *r);
void opf_json_import(const opf_run *r, FILE *out);
void opf_text_import(const opf_run *r, FILE *out);

/* The backward call of --mode (doc/acopf.md §7) through fold_acopf_differentiate: the switch
 * to the barrier form when the active-set form is singular and --kkt was not given
 * (r->kkt_fallback says why), progress on a terminal; r->values, r->bwd, r->backward_s. */
fold_status opf_backward(opf_run *r);
/* opf_backward, and r->has_backward. */
fold_status opf_differentiate(opf_run *r);
/* The rows and columns of the result (cmd_opf_names.c). The parameter kind of column c, its
 * item into *item. Keys of output row k and parameter column c (bus id, generator or branch
 * row). */
int opf_col_kind(const opf_run *r, fold_int c, fold_int *item);
long opf_row_key(const opf_run *r, fold_int k);
long opf_col_key(const opf_run *r, fold_int c);
/* Its part of the JSON object and of the summary. */
void opf_json_sens(const opf_run *r, FILE *out);
void opf_text_sens(const opf_run *r, FILE *out);

/* Names and JSON labels of a row (output) and a column (parameter) of the result: "vm bus
 * 7", "pd bus 3"; the key, or "kind:key" when several kinds are asked for. */
void opf_row_name(const opf_run *r, fold_int k, char *buf, size_t len);
void opf_col_name(const opf_run *r, fold_int c, char *buf, size_t len);
void opf_json_label(const opf_run *r, FILE *out, bool params, fold_int k);

/* The trust report (cmd_opf_trust.c): append the report of the call just made (OPF_CALL_*),
 * its entries mapped to the positions of values (intervals into lo, hi); free; the summary
 * lines, the JSON member "trust" and the one-line warning on stderr. */
int opf_trust_collect(opf_run *r, int call);
void opf_trust_free(opf_run *r);
void opf_trust_text(const opf_run *r, FILE *out);
void opf_trust_json(const opf_run *r, FILE *out);
void opf_trust_warn(const opf_run *r);
/* The same for a report in r's numbering held elsewhere (foldopt batch: a worker's r->trust
 * sent with its record): the member ', "trust": [...]' on one line or as opf's JSON, and the
 * warning with a prefix (e.g. "scenario 3: ") and where to look (" in the summary"). */
void opf_trust_json_items(const opf_run *r, const fold_trust_item *items, fold_int n, bool one_line,
                          FILE *out);
void opf_trust_warn_items(const opf_run *r, const fold_trust_item *items, fold_int n,
                          const char *scenario, const char *where);
/* A number for JSON with +-inf as "inf" / "-inf" and NaN as null. */
void opf_json_bound(FILE *out, double v);

/* JSON number (null when not finite) and string literal. */
void opf_json_num(FILE *out, double v);
void opf_json_string(FILE *out, const char *s);
const char *opf_setting_text(const opf_run *r, const char *name, char *buf, size_t len);
/* The preconditioner the iterative backward method used (r->bwd.precond; auto resolved). */
const char *opf_precond_text(const opf_run *r, char *buf, size_t len);

/* printpf-style tables of r->res, and its JSON "results" member (cmd_opf_print.c). */
void opf_print_tables(const opf_run *r, FILE *out);
void opf_json_results(const opf_run *r, FILE *out);
/* -o FILE.m: the solved case (MATPOWER columns) instead of the summary. */
bool opf_writes_case(const char *path);
int opf_write_solved_case(const opf_run *r);

/* Write the summary or the JSON object to out. */
void opf_print_text(const opf_run *r, FILE *out);
void opf_print_json(const opf_run *r, FILE *out);

#endif
