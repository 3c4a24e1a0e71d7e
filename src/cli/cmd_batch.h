/* foldopt batch: shared state of the command (cmd_batch.c), its scenario input
 * (batch_scenarios.c), its AC-OPF scenario model (batch_acopf.c) and its output
 * (batch_output.c, batch_journal.c). doc/cli.md. */
#ifndef FOLD_CLI_CMD_BATCH_H
#define FOLD_CLI_CMD_BATCH_H

#include "cmd_opf.h"

/* ---- scenarios: a CSV file or a seeded sample (batch_scenarios.c) ---- */

typedef struct batch_column {
    int kind;       /* fold_acopf_param_kind */
    fold_int index; /* bus, generator or branch index; -1: every one ("pd:*") */
} batch_column;

typedef struct batch_scenarios {
    fold_int n; /* scenarios */
    /* CSV: columns and their values (n x n_cols, row-major); factors or absolute */
    fold_int n_cols;
    batch_column *cols;
    double *values;
    bool factors;
    /* sample: scale uniform in [lo, hi], per-bus normal noise of relative size noise */
    bool sampled;
    double scale_lo, scale_hi, noise;
    unsigned long long seed;
    /* the model, its parameters at the case's values, and its layout */
    const fold_acopf *model;
    const double *p0;
    fold_acopf_layout L;
    const fold_acopf_case *cs;
} batch_scenarios;

/* Read a scenario file for the case (errors file:line:column; exit code returned). */
int batch_scenarios_read(batch_scenarios *sc, const char *path, const fold_acopf_case *cs);
/* Parameters of scenario i (np). */
void batch_scenarios_params(const batch_scenarios *sc, fold_int i, double *p);
void batch_scenarios_free(batch_scenarios *sc);

/* ---- the AC-OPF scenario model run by the workers (batch_acopf.c) ---- */

typedef struct batch_acopf_spec {
    const opf_run *args;       /* parsed opf options (model settings, --wrt/--of/--mode) */
    const fold_acopf_case *cs; /* the case as read */
    bool warm_duals;           /* warm starts with multipliers */
} batch_acopf_spec;

/* The model hooks: outputs = the --of values (objective, or the --rows of pg, qg, vm, va in
 * file units), sensitivities = those of foldopt opf's --mode. sizes from the parsed
 * selection in the parent's opf_run. */
fold_batch_model batch_acopf_model(const batch_acopf_spec *spec, fold_int n_out, fold_int n_sens);

/* ---- output: records as JSON lines or CSV, in scenario order (batch_output.c) ---- */

enum { BATCH_JSONL, BATCH_CSV };

typedef struct batch_format {
    int format;       /* BATCH_JSONL or BATCH_CSV */
    bool timings;     /* a "seconds" field */
    const opf_run *r; /* keys of outputs and sensitivities */
} batch_format;

/* One record as a line (ending in '\n') written to out. */
void batch_format_record(const batch_format *f, const fold_batch_record *rec, FILE *out);
/* The CSV header line to out (nothing for JSON lines). */
void batch_format_header(const batch_format *f, FILE *out);
/* Scenario index at the start of a record line, -1 if the line is not a record; whether its
 * status ends a chain (crashed, timeout). */
fold_int batch_line_scenario(const char *line, size_t len, int format, bool *ends_chain);

/* ---- the journal: records as they come, then the output in scenario order
 * (batch_journal.c) ---- */

typedef struct batch_journal batch_journal;

/* Open the journal of output path out (NULL: stdout, journal in a temporary file) for n
 * scenarios. resume: continue OUT.part if it was written by the same batch (fingerprint),
 * else start it anew. *done (n flags, FOLD_BATCH_*) says what is already recorded. Returns
 * 0 or an exit code (message printed). */
int batch_journal_open(batch_journal **j, const char *out, const batch_format *f, fold_int n,
                       unsigned long long fingerprint, bool resume, unsigned char **done);
/* Append a formatted record line; 0 or -1 (write error, message printed). */
int batch_journal_add(batch_journal *j, fold_int scenario, const char *line, size_t len);
/* Write the output in scenario order (file: renamed into place, the journal removed); 0 or
 * an exit code. complete: every scenario recorded. */
int batch_journal_finish(batch_journal *j, bool complete);
void batch_journal_free(batch_journal *j);

/* 64-bit FNV-1a, for fingerprints of the case, the scenarios and the options. */
unsigned long long batch_hash(unsigned long long h, const void *data, size_t len);
#define BATCH_HASH_INIT 0xcbf29ce484222325ULL

#endif
