/* foldopt batch: solve and differentiate a case's AC-OPF at many scenarios on a pool of
 * worker processes (and MPI ranks under mpirun), one record per scenario in scenario
 * order, resumable (doc/cli.md, doc/api/batch.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch_mpi_cli.h"
#include "cmd_batch.h"

static const char *const format_names[] = {"jsonl", "csv", NULL};
static const char *const warm_names[] = {"nearest", "chain", "anchor", "cold", NULL};

typedef struct batch_cmd {
    opf_run r; /* opf options, and the model for keys and layout */
    const char *scenario_path;
    long sample;
    double scale_lo, scale_hi, noise;
    long seed;
    bool factors, resume, timings, summary, warm_duals;
    int format, warm, progress; /* progress: -1 on a terminal, 0 never, 1 always */
    const char *out_path;
    long jobs, chunk;
    double timeout_s;
    fold_acopf_case *cs;
    batch_scenarios sc;
    batch_format fmt;
    batch_journal *journal;
    unsigned char *done;
    FILE *line; /* one record's line (a memory stream) */
    char *line_buf;
    size_t line_size;
    bool any_failed;
    bool progress_shown; /* the progress bar is on stderr */
    int write_rc;
    double last_draw;
    batch_mpi mpi;
} batch_cmd;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: foldopt batch CASE.m (--scenarios FILE [--factors] | --sample N [--scale A:B]\n"
        "                     [--noise S] [--seed S]) [--wrt KINDS] [--of KINDS]\n"
        "                     [--mode value|vjp|jvp|jacobian] [--rows LIST] [--cols LIST]\n"
        "                     [--cotangent FILE] [--direction FILE] [--kkt active|barrier]\n"
        "                     [--backward METHOD] [--tol T] [--set name=value]\n"
        "                     [--ipopt name=value] [--flow-vars Z|none|all] [--resolves N]\n"
        "                     [--start ratio|flat]\n"
        "                     [--format jsonl|csv] [-o FILE [--resume]] [--jobs N] [--chunk N]\n"
        "                     [--warm nearest|chain|anchor|cold] [--warm-point "
        "primal|primal-dual]\n"
        "                     [--scenario-timeout S] [--no-timings] [--progress|--no-progress]\n"
        "                     [--summary] [-v]\n"
        "Solve the AC optimal power flow of a case at many scenarios of its parameters (loads,\n"
        "costs, impedances, limits) and differentiate each solution like foldopt opf, on a pool\n"
        "of worker processes (MPI ranks too under mpirun); one record per scenario, written in\n"
        "scenario order.\n"
        "  --scenarios FILE  CSV: a header of keys KIND:ITEM, KIND a parameter of --wrt (pd, qd,\n"
        "             c1, rate_a, ...), ITEM a bus id, generator or branch row, or * for every\n"
        "             one; then one row per scenario in the parameter's units (MW, $/MWh, p.u.),\n"
        "             or with --factors multiples of the case's values\n"
        "  --sample N  N scenarios: every load (pd, qd) times s (1 + S z), s uniform in [A, B]\n"
        "             (default 0.9:1.1) per scenario, z standard normal per bus (S default 0.05)\n"
        "  --wrt, --of, --mode, --rows, --cols, --cotangent, --direction, --kkt, --backward,\n"
        "  --tol, --set, --ipopt, --flow-vars, --resolves, --start  as for foldopt opf (one "
        "record\n"
        "             per scenario); without --wrt: no sensitivities, --of and --rows choose\n"
        "             the outputs recorded (default the objective)\n"
        "  --format   jsonl (default, one JSON object per line) or csv\n"
        "  -o FILE    write FILE (complete when the batch ends; records gather in FILE.part);\n"
        "             default stdout\n"
        "  --resume   continue FILE.part of an interrupted run of the same batch\n"
        "  --jobs N   worker processes (per MPI rank); default the number of cores\n"
        "  --chunk N  scenarios per warm-start chain (default 8, or ceil(S / 16) for a batch\n"
        "             of S < 113 scenarios, so that a small batch spreads over the workers)\n"
        "  --warm     start of each scenario: the preceding one of its chain or the anchor (the\n"
        "             mean scenario), whichever is nearer (nearest, default), the preceding one\n"
        "             (chain), the anchor, or none (cold)\n"
        "  --warm-point  primal-dual (default) or primal: what a warm start gives Ipopt\n"
        "  --scenario-timeout S  a scenario running longer is stopped (its worker replaced)\n"
        "  --no-timings  no seconds field: reruns give identical files\n"
        "  --progress  a progress bar on stderr (default on a terminal)\n"
        "  --summary  a JSON line of run statistics on stderr at the end\n"
        "Exit status: 0 every scenario solved and differentiated, 1 some failed (their records\n"
        "say why), 2 usage or input error.\n");
}

static int lookup_quiet(const char *const *names, const char *val)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], val)) return i;
    return -1;
}

static int lookup(const char *const *names, const char *opt, const char *val)
{
    int k = lookup_quiet(names, val);
    if (k < 0) cli_usage_error("batch: %s: unknown value '%s'", opt, val);
    return k;
}

static int parse_scale(batch_cmd *c, const char *val)
{
    char *colon = strchr(val, ':'), buf[64];
    if (!colon || (size_t)(colon - val) >= sizeof buf)
        return cli_usage_error("batch: --scale needs A:B, got '%s'", val);
    memcpy(buf, val, (size_t)(colon - val));
    buf[colon - val] = '\0';
    if (!cli_parse_double("--scale", buf, &c->scale_lo) ||
        !cli_parse_double("--scale", colon + 1, &c->scale_hi))
        return CLI_USAGE;
    if (c->scale_lo < 0 || c->scale_hi < c->scale_lo)
        return cli_usage_error("batch: --scale %s: need 0 <= A <= B", val);
    return 0;
}

static const char *const valued[] = {
    "--scenarios",        "-o",       "--format", "--warm", "--warm-point", "--scale", "--noise",
    "--scenario-timeout", "--sample", "--seed",   "--jobs", "--chunk",      NULL};

/* Batch options with a value (opf's are handled before). */
static int parse_valued(batch_cmd *c, const char *a, const char *val)
{
    if (!strcmp(a, "--scenarios"))
        c->scenario_path = val;
    else if (!strcmp(a, "-o"))
        c->out_path = val;
    else if (!strcmp(a, "--format"))
        return (c->format = lookup(format_names, a, val)) < 0 ? CLI_USAGE : 0;
    else if (!strcmp(a, "--warm"))
        return (c->warm = lookup(warm_names, a, val)) < 0 ? CLI_USAGE : 0;
    else if (!strcmp(a, "--warm-point")) {
        if (strcmp(val, "primal") && strcmp(val, "primal-dual"))
            return cli_usage_error("batch: --warm-point: unknown value '%s'", val);
        c->warm_duals = !strcmp(val, "primal-dual");
    } else if (!strcmp(a, "--scale"))
        return parse_scale(c, val);
    else if (!strcmp(a, "--noise")) {
        if (!cli_parse_double(a, val, &c->noise)) return CLI_USAGE;
        if (c->noise < 0 || c->noise > 1)
            return cli_usage_error("batch: --noise must be in [0, 1]");
    } else if (!strcmp(a, "--scenario-timeout")) {
        if (!cli_parse_double(a, val, &c->timeout_s)) return CLI_USAGE;
        if (!(c->timeout_s > 0))
            return cli_usage_error("batch: --scenario-timeout must be positive");
    } else {
        long *dst = !strcmp(a, "--sample") ? &c->sample
                    : !strcmp(a, "--seed") ? &c->seed
                    : !strcmp(a, "--jobs") ? &c->jobs
                                           : &c->chunk;
        if (!cli_parse_long(a, val, dst)) return CLI_USAGE;
        if (dst != &c->seed && *dst < 1)
            return cli_usage_error("batch: %s must be >= 1%s", a,
                                   dst == &c->jobs ? " (default: the number of cores)" : "");
    }
    return 0;
}

static int parse_args(batch_cmd *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = opf_parse_option(&c->r, argc, argv, &i);
        if (rc != 1) {
            if (rc) return rc;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        }
        bool *flag = !strcmp(a, "--factors")   ? &c->factors
                     : !strcmp(a, "--resume")  ? &c->resume
                     : !strcmp(a, "--summary") ? &c->summary
                                               : NULL;
        if (flag) {
            *flag = true;
        } else if (!strcmp(a, "--no-timings")) {
            c->timings = false;
        } else if (!strcmp(a, "--progress") || !strcmp(a, "--no-progress")) {
            c->progress = a[2] == 'p';
        } else if (a[0] != '-') {
            if (c->r.case_path)
                return cli_usage_error("batch: more than one case file ('%s', '%s')",
                                       c->r.case_path, a);
            c->r.case_path = a;
        } else if (lookup_quiet(valued, a) < 0) {
            return cli_usage_error("batch: unknown option '%s'", a);
        } else if (i + 1 >= argc) {
            return cli_usage_error("batch: %s needs a value", a);
        } else if ((rc = parse_valued(c, a, argv[++i])) != 0) {
            return rc;
        }
    }
    int rc = opf_check_args(&c->r);
    if (rc) return rc;
    if (!c->scenario_path == !c->sample)
        return cli_usage_error("batch: give either --scenarios FILE or --sample N");
    if (c->factors && !c->scenario_path)
        return cli_usage_error("batch: --factors applies to --scenarios");
    if (c->resume && !c->out_path) return cli_usage_error("batch: --resume needs -o FILE");
    return 0;
}

/* Fingerprint of everything that decides the records: a journal continues only a batch
 * with the same one. */
static unsigned long long fingerprint(const batch_cmd *c)
{
    unsigned long long h = BATCH_HASH_INIT;
    const char *files[4] = {c->r.case_path, c->scenario_path, c->r.cotangent_path,
                            c->r.direction_path};
    for (int k = 0; k < 4; k++) {
        if (!files[k]) {
            h = batch_hash(h, "-\n--\n", 5);
            continue;
        }
        FILE *in = fopen(files[k], "rb");
        char buf[65536];
        size_t n;
        while (in && (n = fread(buf, 1, sizeof buf, in)) > 0)
            h = batch_hash(h, buf, n);
        if (in) fclose(in);
        h = batch_hash(h, "\n--\n", 4);
    }
    char text[1024], value[256];
    snprintf(text, sizeof text,
             "sample %ld %.17g %.17g %.17g %ld factors %d mode %d flow %.17g resolves %ld "
             "chunk %ld warm %d duals %d timings %d format %d kkt %d",
             c->sample, c->scale_lo, c->scale_hi, c->noise, c->seed, c->factors, c->r.mode,
             c->r.flow_var_max_z, c->r.resolves, c->chunk, c->warm, c->warm_duals, c->timings,
             c->format, c->r.kkt_given);
    h = batch_hash(h, text, strlen(text));
    if (c->r.start == FOLD_ACOPF_START_FLAT) /* absent for the default: journals stay valid */
        h = batch_hash(h, " start flat", 11);
    /* the selection as parsed: kinds, rows with their weights, columns */
    h = batch_hash(h, c->r.wrt, (size_t)c->r.n_wrt * sizeof *c->r.wrt);
    h = batch_hash(h, "|", 1);
    h = batch_hash(h, c->r.of, (size_t)c->r.n_of * sizeof *c->r.of);
    h = batch_hash(h, "|", 1);
    for (fold_int k = 0; k < c->r.n_rows; k++) { /* member by member: no padding bytes */
        long out[2] = {c->r.outs[k].kind, (long)c->r.outs[k].item};
        h = batch_hash(h, out, sizeof out);
    }
    h = batch_hash(h, c->r.weights, (size_t)c->r.n_rows * sizeof *c->r.weights);
    h = batch_hash(h, "|", 1);
    h = batch_hash(h, c->r.cols, (size_t)c->r.n_cols * sizeof *c->r.cols);
    for (fold_int k = 0; k < fold_settings_count(); k++) {
        const fold_setting_info *s = fold_settings_info(k);
        if (!strncmp(s->name, "log.", 4) ||
            fold_settings_get(&c->r.settings, s->name, value, sizeof value) != FOLD_OK)
            continue;
        snprintf(text, sizeof text, "%s=%s;", s->name, value);
        h = batch_hash(h, text, strlen(text));
    }
    for (int k = 0; k < c->r.ipopt.n; k++) { /* as typed: their text may be long */
        h = batch_hash(h, "ipopt ", 6);
        h = batch_hash(h, c->r.ipopt.list[2 * k], strlen(c->r.ipopt.list[2 * k]));
        h = batch_hash(h, "=", 1);
        h = batch_hash(h, c->r.ipopt.list[2 * k + 1], strlen(c->r.ipopt.list[2 * k + 1]));
        h = batch_hash(h, ";", 1);
    }
    return h;
}

static int params(fold_int i, double *p, void *ud)
{
    batch_scenarios_params(ud, i, p);
    return 0;
}

/* As foldopt opf does, one line on stderr for a scenario whose sensitivities have trust
 * items (over the progress bar, which is drawn again with the next record). */
static void warn_trust(const batch_cmd *c, const fold_batch_record *rec)
{
    if (!rec->sens || rec->n_trust == 0) return;
    char scenario[64];
    snprintf(scenario, sizeof scenario, "scenario %ld: ", (long)rec->scenario);
    if (c->progress_shown) fprintf(stderr, "\r%*s\r", 79, "");
    opf_trust_warn_items(&c->r, rec->trust, rec->n_trust, scenario,
                         c->format == BATCH_CSV ? ": the trust column of its row"
                                                : ": \"trust\" in its record");
}

static int on_record(const fold_batch_record *rec, void *ud)
{
    batch_cmd *c = ud;
    warn_trust(c, rec);
    rewind(c->line);
    batch_format_record(&c->fmt, rec, c->line);
    long len = ftell(c->line);
    if (fflush(c->line) || len <= 0) {
        c->write_rc = cli_usage_error("batch: out of memory formatting a record");
        return 1;
    }
    if (rec->status < 0 || rec->outcome != FOLD_BATCH_DONE) c->any_failed = true;
    if ((c->write_rc = batch_journal_add(c->journal, rec->scenario, c->line_buf, (size_t)len)))
        return 1;
    return 0;
}

static void on_progress(const fold_batch_progress *p, void *ud)
{
    batch_cmd *c = ud;
    bool last = p->n_done >= p->n_total;
    if (!last && p->elapsed_s - c->last_draw < 0.2) return;
    c->last_draw = p->elapsed_s;
    double rate = p->elapsed_s > 0 ? (double)p->n_done / p->elapsed_s : 0;
    long eta = rate > 0 ? (long)((double)(p->n_total - p->n_done) / rate + 0.5) : 0;
    int width = 30, fill = p->n_total ? (int)(width * p->n_done / p->n_total) : width;
    fprintf(stderr, "\r[%.*s%.*s] %ld/%ld  %.3g/s  ETA %ld:%02ld  %ld failed ", fill,
            "##############################", width - fill, "------------------------------",
            (long)p->n_done, (long)p->n_total, rate, eta / 60, eta % 60, (long)p->n_failed);
    if (last) fputc('\n', stderr);
}

static void print_summary(const batch_cmd *c, const fold_batch_info *in)
{
    fprintf(stderr,
            "{\"scenarios\": %ld, \"recorded\": %ld, \"ok\": %ld, \"failed\": %ld, \"crashed\": "
            "%ld, \"timed_out\": %ld, \"silent\": %ld, \"seconds\": %.4g, "
            "\"scenarios_per_second\": %.4g, \"iterations_mean\": %.4g, \"workers\": %d, "
            "\"ranks\": %d, \"chunks\": %ld, \"respawned\": %ld, \"worker_peak_kb\": %ld}\n",
            (long)c->sc.n, (long)in->n_recorded, (long)in->n_ok, (long)in->n_failed,
            (long)in->n_crashed, (long)in->n_timed_out, (long)in->n_silent, in->wall_s,
            in->wall_s > 0 ? (double)in->n_recorded / in->wall_s : 0,
            in->n_recorded ? (double)in->iterations / (double)in->n_recorded : 0, in->n_workers,
            in->n_ranks, (long)in->n_chunks, (long)in->n_respawned, in->worker_peak_kb);
}

/* Read the case and build the parent's model (keys, layout, parameters of the case). */
static int load_case(batch_cmd *c)
{
    fold_status st = fold_acopf_case_read(c->r.case_path, &c->cs);
    if (st != FOLD_OK) {
        fprintf(stderr, "foldopt: batch: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE;
    }
    fold_acopf_options opt;
    fold_acopf_default_options(&opt);
    opt.flow_var_max_z = c->r.flow_var_max_z;
    opt.start = c->r.start;
    if ((st = fold_acopf_create_with(c->cs, &opt, &c->r.model)) != FOLD_OK) {
        fprintf(stderr, "foldopt: batch: %s\n", fold_last_error());
        return st == FOLD_ERR_MEMORY ? CLI_FAILED : CLI_USAGE; /* data the model refuses */
    }
    c->r.cs = fold_acopf_get_case(c->r.model);
    c->r.L = fold_acopf_get_layout(c->r.model);
    return opf_select(&c->r);
}

/* Rank 0: the scenarios and the journal (what is already recorded when resuming). */
static int load_input(batch_cmd *c, double *p0)
{
    batch_scenarios *sc = &c->sc;
    fold_problem_default_params(fold_acopf_problem(c->r.model), p0);
    sc->model = c->r.model;
    sc->p0 = p0;
    sc->L = c->r.L;
    sc->cs = c->r.cs;
    sc->factors = c->factors;
    if (c->scenario_path) {
        int rc = batch_scenarios_read(sc, c->scenario_path, c->r.cs);
        if (rc) return rc;
    } else {
        sc->sampled = true;
        sc->n = c->sample;
        sc->scale_lo = c->scale_lo;
        sc->scale_hi = c->scale_hi;
        sc->noise = c->noise;
        sc->seed = (unsigned long long)c->seed;
    }
    if (c->resume && access(c->out_path, F_OK) == 0) {
        char *part = malloc(strlen(c->out_path) + 6);
        bool have_part = part && (sprintf(part, "%s.part", c->out_path), access(part, F_OK) == 0);
        free(part);
        if (!have_part) {
            fprintf(stderr, "foldopt: batch: --resume: '%s' is complete\n", c->out_path);
            return -1;
        }
    }
    return batch_journal_open(&c->journal, c->out_path, &c->fmt, sc->n, fingerprint(c), c->resume,
                              &c->done);
}

static int default_jobs(const batch_mpi *mpi)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long per_rank = (cores > 0 ? cores : 1) / (mpi->local_size > 0 ? mpi->local_size : 1);
    return per_rank > 0 ? (int)per_rank : 1;
}

static int run(batch_cmd *c)
{
    double *p0 = NULL;
    fold_batch *b = NULL;
    int rc = load_case(c);
    if (!rc && c->mpi.rank == 0) {
        p0 = malloc(((size_t)c->r.L.np + 1) * sizeof *p0);
        c->line = open_memstream(&c->line_buf, &c->line_size);
        rc = p0 && c->line ? load_input(c, p0) : cli_usage_error("batch: out of memory");
    }
    rc = batch_mpi_agree(&c->mpi, rc);
    if (rc) goto done;
    fold_int n_out = c->r.n_rows;
    fold_int n_sens = opf_has_wrt(&c->r) ? opf_n_entries(&c->r) : 0;
    batch_acopf_spec spec = {.args = &c->r, .cs = c->cs, .warm_duals = c->warm_duals};
    fold_batch_model model = batch_acopf_model(&spec, n_out, n_sens);
    fold_batch_options opt;
    fold_batch_default_options(&opt);
    opt.n_workers = c->jobs ? (int)c->jobs : default_jobs(&c->mpi);
    opt.chunk_size = c->chunk;
    opt.scenario_timeout_s = c->timeout_s;
    opt.warm = c->warm;
    fold_status st = fold_batch_create(&model, &opt, &b);
    /* every rank enters the run, or none */
    if (batch_mpi_agree(&c->mpi, st < 0 ? CLI_FAILED : 0) && st == FOLD_OK) {
        if (c->mpi.rank == 0)
            fprintf(stderr, "foldopt: batch: another MPI rank could not start its workers\n");
        rc = CLI_FAILED;
        goto done;
    }
    if (st == FOLD_OK) {
        fold_batch_job job = {.n_scenarios = c->sc.n,
                              .params = params,
                              .params_data = &c->sc,
                              .anchor_mean = true,
                              .done = c->done,
                              .on_record = on_record,
                              .record_data = c};
        if (c->progress == 1 || (c->progress < 0 && isatty(STDERR_FILENO))) {
            job.on_progress = on_progress;
            job.progress_data = c;
            c->progress_shown = true;
        }
        fold_batch_info info = FOLD_BATCH_INFO_INIT;
        st = batch_mpi_run(&c->mpi, b, &job, &info);
        if (c->mpi.rank == 0 && c->summary) print_summary(c, &info);
    }
    if (c->mpi.rank != 0) {
        rc = st < 0 ? CLI_FAILED : 0;
        goto done;
    }
    if (st < 0 && c->write_rc)
        rc = c->write_rc;
    else if (st < 0)
        rc = cli_status_error("batch", st);
    int fin = batch_journal_finish(c->journal, st == FOLD_OK);
    if (!rc) rc = fin ? fin : c->any_failed ? CLI_FAILED : CLI_OK;
    if (st < 0 && c->out_path)
        fprintf(stderr,
                "foldopt: batch: the records so far are in %s.part: rerun with --resume "
                "to continue\n",
                c->out_path);
done:
    fold_batch_free(b);
    free(p0);
    return rc;
}

int cmd_batch(int argc, char **argv)
{
    batch_cmd c;
    memset(&c, 0, sizeof c);
    opf_run_init(&c.r, "batch");
    c.r.outputs_alone = true;
    c.r.progress = 0; /* the batch's own progress bar */
    c.scale_lo = 0.9;
    c.scale_hi = 1.1;
    c.noise = 0.05;
    c.seed = 1;
    c.timings = true;
    c.warm_duals = true;
    c.progress = -1;
    c.chunk = FOLD_BATCH_CHUNK_AUTO;
    c.fmt.r = &c.r;
    int rc = parse_args(&c, argc, argv);
    c.fmt.format = c.format;
    c.fmt.timings = c.timings;
    if (rc < 0) return CLI_OK;
    if (!rc && (rc = batch_mpi_begin(&c.mpi, &argc, &argv)) == 0) rc = run(&c);
    rc = batch_mpi_end(&c.mpi, rc);
    batch_journal_free(c.journal);
    batch_scenarios_free(&c.sc);
    if (c.line) fclose(c.line);
    free(c.line_buf);
    free(c.done);
    opf_run_free(&c.r);
    fold_acopf_case_free(c.cs);
    return rc < 0 ? CLI_OK : rc;
}
