/* foldopt train: decision-focused training of an optimization layer on a seeded synthetic
 * task, with the two-stage baseline for comparison (doc/cli.md, doc/learning.md). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "learning/learning.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: foldopt train TASK [--backward direct|lfpi|gmres|unroll] [--epochs E]\n"
        "                          [--seed S] [--batch B] [--lr R] [--model linear|mlp]\n"
        "                          [--n-train N] [--n-test N] [--size N] [--init "
        "random|two-stage]\n"
        "                          [--step-hessian identity|diagonal] [--step-scale A]\n"
        "                          [--unroll-iters K] [--quiet] [--json]\n"
        "Train an optimization layer end to end through the fold on a seeded synthetic task\n"
        "and compare with the two-stage baseline (least squares on the targets, then solve).\n"
        "TASK: qp, portfolio, denoise, topk (doc/learning.md).\n"
        "--init two-stage starts the linear model from the least-squares fit (tasks with\n"
        "targets). qp and portfolio --backward lfpi|gmres|unroll go through their SQP step;\n"
        "--step-hessian and --step-scale (> 0.5) choose the step's Hessian approximation B.\n"
        "--size N sets the decision dimension (qp: with N/2 equality and N/2 inequality\n"
        "rows). --unroll-iters K (backward unroll; qp, portfolio, topk) unrolls exactly K steps\n"
        "instead of running the iteration to convergence.\n"
        "Progress (one line per epoch: train loss, test loss or regret, seconds) goes to\n"
        "stderr; the history goes to stdout as TSV, or as one JSON object with --json.\n");
}

static void progress(const learn_epoch *e, void *ud)
{
    const learn_task *t = ud;
    fprintf(stderr, "epoch %3d  train loss %.6g  test %s %.6g  %.3f s  failed %lld\n", e->epoch,
            e->train_loss, t->metric_name, e->test_metric, e->seconds, (long long)e->n_failed);
}

static void report(fold_int sample, fold_status st, const char *detail, void *ud)
{
    (void)ud; /* learn_options.report's signature */
    fprintf(stderr, "foldopt: train: sample %lld excluded: %s: %s\n", (long long)sample,
            fold_status_name(st), detail);
}

static void print_json(const learn_task *t, const learn_options *o, const learn_result *r,
                       const char *backward)
{
    static const char *const hess[] = {"identity", "diagonal"};
    printf("{\"task\": \"%s\", \"backward\": \"%s\", \"metric\": \"%s\", \"seed\": %llu, "
           "\"epochs\": %d, \"n_train\": %lld, \"n_test\": %lld, \"init\": \"%s\", "
           "\"lr\": %.6g, \"step_hessian\": \"%s\", \"step_scale\": %.6g, "
           "\"unroll_iters\": %lld,\n \"history\": [",
           t->name, backward, t->metric_name, (unsigned long long)o->seed, r->n_epochs,
           (long long)t->n_train, (long long)t->n_test, o->init_two_stage ? "two-stage" : "random",
           o->lr, hess[t->step_hessian != 0], t->step_scale, (long long)t->unroll_iters);
    for (int i = 0; i <= r->n_epochs; i++) {
        const learn_epoch *e = &r->history[i];
        printf("%s\n  {\"epoch\": %d, \"train_loss\": %.10g, \"test\": %.10g, \"seconds\": %.6g,"
               " \"failed\": %lld, \"backward_iters\": %.6g, \"tape_bytes\": %zu}",
               i ? "," : "", e->epoch, e->train_loss, e->test_metric, e->seconds,
               (long long)e->n_failed, e->backward_iters, e->tape_bytes);
    }
    printf("],\n \"final_test\": %.10g, \"two_stage_test\": %.10g, \"two_stage_seconds\": %.6g, "
           "\"failed\": %lld}\n",
           r->history[r->n_epochs].test_metric, r->two_stage_metric, r->two_stage_s,
           (long long)r->n_failed);
}

static bool parse_count(const char *opt, const char *text, long min, long *out)
{
    if (!cli_parse_long(opt, text, out)) return false;
    if (*out < min) {
        cli_usage_error("%s must be at least %ld, got %ld", opt, min, *out);
        return false;
    }
    return true;
}

int cmd_train(int argc, char **argv)
{
    const char *task = NULL, *backward = "direct";
    bool json = false, quiet = false;
    long v, n_train = 0, n_test = 0, size = 0, unroll_iters = 0;
    learn_options o;
    learn_config c;
    learn_task *t = NULL;
    learn_result r;
    fold_status st;
    bool have_lr = false;
    int step_hessian = -1;
    double step_scale = 1.0;
    learn_options_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = true;
        } else if (a[0] == '-' && !val) {
            return cli_usage_error("train: option '%s' needs a value", a);
        } else if (!strcmp(a, "--backward")) {
            backward = argv[++i];
            if (learn_backward_parse(backward) < 0)
                return cli_usage_error("train: --backward must be direct, lfpi, gmres or "
                                       "unroll, got '%s'",
                                       backward);
        } else if (!strcmp(a, "--epochs")) {
            if (!parse_count(a, argv[++i], 0, &v)) return CLI_USAGE;
            o.epochs = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (!parse_count(a, argv[++i], 0, &v)) return CLI_USAGE;
            o.seed = (uint64_t)v;
        } else if (!strcmp(a, "--batch")) {
            if (!parse_count(a, argv[++i], 1, &v)) return CLI_USAGE;
            o.batch = v;
        } else if (!strcmp(a, "--lr")) {
            if (!cli_parse_double(a, argv[++i], &o.lr)) return CLI_USAGE;
            if (!(o.lr > 0)) return cli_usage_error("train: --lr must be positive, got %g", o.lr);
            have_lr = true;
        } else if (!strcmp(a, "--model")) {
            const char *m = argv[++i];
            if (!strcmp(m, "linear"))
                o.model_kind = LEARN_MODEL_LINEAR;
            else if (!strcmp(m, "mlp"))
                o.model_kind = LEARN_MODEL_MLP;
            else
                return cli_usage_error("train: --model must be linear or mlp, got '%s'", m);
        } else if (!strcmp(a, "--init")) {
            const char *m = argv[++i];
            if (strcmp(m, "random") && strcmp(m, "two-stage"))
                return cli_usage_error("train: --init must be random or two-stage, got '%s'", m);
            o.init_two_stage = !strcmp(m, "two-stage");
        } else if (!strcmp(a, "--step-hessian")) {
            const char *m = argv[++i];
            if (!strcmp(m, "identity"))
                step_hessian = LEARN_STEP_IDENTITY;
            else if (!strcmp(m, "diagonal"))
                step_hessian = LEARN_STEP_DIAGONAL;
            else
                return cli_usage_error("train: --step-hessian must be identity or diagonal, "
                                       "got '%s'",
                                       m);
        } else if (!strcmp(a, "--step-scale")) {
            if (!cli_parse_double(a, argv[++i], &step_scale)) return CLI_USAGE;
            if (!(step_scale > 0.5))
                return cli_usage_error("train: --step-scale must exceed 0.5, got %g", step_scale);
            if (step_hessian < 0) step_hessian = LEARN_STEP_IDENTITY;
        } else if (!strcmp(a, "--unroll-iters")) {
            if (!parse_count(a, argv[++i], 1, &unroll_iters)) return CLI_USAGE;
        } else if (!strcmp(a, "--n-train")) {
            if (!parse_count(a, argv[++i], 1, &n_train)) return CLI_USAGE;
        } else if (!strcmp(a, "--n-test")) {
            if (!parse_count(a, argv[++i], 1, &n_test)) return CLI_USAGE;
        } else if (!strcmp(a, "--size")) {
            if (!parse_count(a, argv[++i], 2, &size)) return CLI_USAGE;
        } else if (a[0] == '-') {
            return cli_usage_error("train: unknown option '%s'", a);
        } else if (!task) {
            task = a;
        } else {
            return cli_usage_error("train: unexpected argument '%s'", a);
        }
    }
    if (!task) {
        usage(stderr);
        return cli_usage_error("train: TASK is required");
    }
    if (learn_config_default(task, &c) != FOLD_OK)
        return cli_usage_error("train: unknown task '%s' (qp, portfolio, denoise, topk)", task);
    c.seed = o.seed;
    c.backward = learn_backward_parse(backward);
    if (n_train) c.n_train = n_train;
    if (n_test) c.n_test = n_test;
    if (size) {
        c.size = size;
        if (!strcmp(task, "qp")) { /* keep the default proportions: n/2 equalities, n/2 rows */
            c.n_eq = size / 2;
            c.n_ineq = size / 2;
        }
    }
    c.unroll_iters = unroll_iters;
    if ((st = learn_task_create(task, &c, &t)) != FOLD_OK) {
        fprintf(stderr, "foldopt: train: %s: %s\n", fold_status_string(st), fold_last_error());
        return st == FOLD_ERR_ARGUMENT || st == FOLD_ERR_UNSUPPORTED ? CLI_USAGE : CLI_FAILED;
    }
    if (o.model_kind == LEARN_MODEL_MLP && t->model_kind == LEARN_MODEL_CONST) {
        learn_task_free(t);
        return cli_usage_error("train: task '%s' learns the layer's parameters directly; "
                               "--model does not apply",
                               task);
    }
    if (step_hessian >= 0 && learn_task_set_step(t, step_hessian, step_scale) != FOLD_OK) {
        learn_task_free(t);
        return cli_usage_error("train: --step-hessian/--step-scale apply to qp and portfolio "
                               "only");
    }
    if (!have_lr) o.lr = t->lr_hint;
    o.progress = quiet ? NULL : progress;
    o.report = report;
    o.user_data = t;
    if ((st = learn_train(t, &o, &r)) != FOLD_OK) {
        fprintf(stderr, "foldopt: train: %s: %s\n", fold_status_string(st), fold_last_error());
        learn_task_free(t);
        return st == FOLD_ERR_ARGUMENT ? CLI_USAGE : CLI_FAILED;
    }
    if (json) {
        print_json(t, &o, &r, backward);
    } else {
        printf("epoch\ttrain_loss\ttest_%s\tseconds\tfailed\n", t->metric_name);
        for (int i = 0; i <= r.n_epochs; i++)
            printf("%d\t%.8g\t%.8g\t%.4f\t%lld\n", r.history[i].epoch, r.history[i].train_loss,
                   r.history[i].test_metric, r.history[i].seconds,
                   (long long)r.history[i].n_failed);
        printf("two-stage\t\t%.8g\t%.4f\t\n", r.two_stage_metric, r.two_stage_s);
    }
    learn_result_free(&r);
    learn_task_free(t);
    return CLI_OK;
}
