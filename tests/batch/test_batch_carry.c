/* The scenario engine across runs: warm starts carried from a worker's previous run
 * (job.carry) give the same optima in fewer iterations, start from the nearest held solution,
 * survive the release of kept keys, are dropped by a run without carry and by a worker's
 * replacement after a crash; trust reports travel with records and backward results
 * (doc/api/batch.md, "Warm starts", "Trust"). */
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/basic.h"
#include "test_support.h"

#define N 24

typedef struct runs {
    fold_batch_record rec[N];
    double out[N * 4];
} runs;

static int on_record(const fold_batch_record *r, void *ud)
{
    runs *c = ud;
    ck_assert_int_lt(r->scenario, N);
    c->rec[r->scenario] = *r;
    c->rec[r->scenario].message = NULL;
    if (r->outputs) memcpy(c->out + 4 * r->scenario, r->outputs, 4 * sizeof(double));
    return 0;
}

/* HS071 at loads moved by up to 5%, scaled by s. */
static void hs071_params(double *p, double s)
{
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 3);
    for (fold_int i = 0; i < N; i++) {
        p[3 * i] = s * 25 * (1 + 0.05 * fold_test_uniform(&rng));
        p[3 * i + 1] = s * 40 * (1 + 0.05 * fold_test_uniform(&rng));
        p[3 * i + 2] = s * (1 + 0.05 * fold_test_uniform(&rng));
    }
}

static fold_batch *start(const fold_batch_model *m, int workers)
{
    fold_batch_options opt;
    fold_batch *b;
    fold_batch_default_options(&opt);
    opt.n_workers = workers;
    opt.chunk_size = 6;
    ck_assert_status(fold_batch_create(m, &opt, &b), FOLD_OK);
    return b;
}

static void run(fold_batch *b, const double *p, bool carry, bool keep, runs *c,
                fold_batch_info *info)
{
    fold_batch_job job = {.n_scenarios = N,
                          .params_array = p,
                          .anchor_mean = true,
                          .keep = keep,
                          .carry = carry,
                          .on_record = on_record,
                          .record_data = c};
    memset(c, 0, sizeof *c);
    ck_assert_status(fold_batch_run(b, &job, info), FOLD_OK);
    ck_assert_int_eq(info->n_ok, N);
}

static fold_int n_carried(const runs *c)
{
    fold_int k = 0;
    for (fold_int i = 0; i < N; i++)
        k += c->rec[i].start == FOLD_BATCH_START_CARRIED;
    return k;
}

typedef struct fixture {
    fold_problem *prob;
    fold_batch_model m;
    double p[3 * N], p2[3 * N];
} fixture;

static void fixture_init(fixture *f)
{
    ck_assert_status(fold_hs071_create(&f->prob), FOLD_OK);
    fold_batch_problem_spec spec = {.problem = f->prob, .warm_duals = true};
    ck_assert_status(fold_batch_problem_model(&spec, &f->m), FOLD_OK);
    hs071_params(f->p, 1.0);
    hs071_params(f->p2, 1.001);
}

static void fixture_free(fixture *f)
{
    fold_batch_model_dispose(&f->m);
    fold_problem_free(f->prob);
}

static fold_int nearest(const double *held, const double *p)
{
    fold_int best = -1;
    double d = INFINITY;
    for (fold_int j = 0; j < N; j++) {
        double e = 0;
        for (int k = 0; k < 3; k++)
            e += (held[3 * j + k] - p[k]) * (held[3 * j + k] - p[k]);
        if (e < d) d = e, best = j;
    }
    return best;
}

/* A second run at parameters 0.1% away: with carry a scenario starts from the nearest
 * solution its worker holds from the first run when that is nearer than its chain's start
 * (1 worker: every scenario), the optima equal those of a run without carry, and the run
 * needs fewer iterations. */
START_TEST(carry_saves_iterations)
{
    fixture f;
    fixture_init(&f);
    for (int workers = 1; workers <= 2; workers++) {
        runs c[2];
        fold_batch_info info[2] = {FOLD_BATCH_INFO_INIT, FOLD_BATCH_INFO_INIT};
        for (int k = 0; k < 2; k++) {
            fold_batch *b = start(&f.m, workers);
            run(b, f.p, k == 1, false, &c[k], &info[k]);
            ck_assert_int_eq(n_carried(&c[k]), 0); /* nothing held yet */
            run(b, f.p2, k == 1, false, &c[k], &info[k]);
            fold_batch_free(b);
        }
        printf("# HS071, %d workers, %d scenarios moved by 0.1%%: %ld iterations without "
               "carry, %ld with (%ld carried starts)\n",
               workers, N, (long)info[0].iterations, (long)info[1].iterations,
               (long)n_carried(&c[1]));
        fflush(stdout);
        ck_assert_int_lt(info[1].iterations, info[0].iterations);
        ck_assert_int_eq(n_carried(&c[0]), 0);
        /* 1 worker holds every solution of the first run; with 2 the assignment of scenarios
         * to workers is dynamic, and a scenario whose worker holds nothing nearer than its
         * chain's start starts from the chain */
        if (workers == 1)
            ck_assert_int_eq(n_carried(&c[1]), N);
        else
            ck_assert_int_gt(n_carried(&c[1]), 0);
        for (fold_int i = 0; i < N; i++) {
            ck_assert_double_le(fold_test_vec_relerr(c[1].out + 4 * i, c[0].out + 4 * i, 4, 1),
                                1e-6);
            if (workers == 1) /* the held solution nearest to it (the first of equals) */
                ck_assert_int_eq(c[1].rec[i].warm_from, nearest(f.p, f.p2 + 3 * i));
        }
    }
    fixture_free(&f);
}
END_TEST

/* Keep mode with carry: released keys stay held as start points (and their backward calls
 * say the state is gone); a run without carry drops them, so the next carrying run starts
 * from nothing held. */
START_TEST(carry_with_keep_and_release)
{
    fixture f;
    fixture_init(&f);
    fold_batch *b = start(&f.m, 2);
    runs c;
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    run(b, f.p, true, true, &c, &info);
    fold_int keys[N];
    for (fold_int i = 0; i < N; i++)
        keys[i] = c.rec[i].key;
    ck_assert_status(fold_batch_release(b, N / 2, keys), FOLD_OK);
    run(b, f.p2, true, true, &c, &info);
    ck_assert_int_gt(n_carried(&c), N / 2); /* others: a chain's predecessor is nearer */
    double ybar[4] = {1, 0, 0, 0}, pbar[3];
    fold_status st;
    ck_assert_status(fold_batch_vjp(b, 1, keys, ybar, pbar, &st), FOLD_ERR_NOT_SOLVED);
    ck_assert_status(fold_batch_vjp(b, 1, &c.rec[0].key, ybar, pbar, &st), FOLD_OK);
    ck_assert_status(fold_batch_release(b, 0, NULL), FOLD_OK); /* all keys */
    run(b, f.p, false, true, &c, &info);
    ck_assert_int_eq(n_carried(&c), 0);
    run(b, f.p2, true, false, &c, &info);
    ck_assert_int_eq(n_carried(&c), 0); /* the run without carry dropped them */
    run(b, f.p, true, false, &c, &info);
    ck_assert_int_gt(n_carried(&c), N / 2);
    fold_batch_free(b);
    fixture_free(&f);
}
END_TEST

/* A model that kills its worker at the first solve after a trigger file appears (created by
 * the test between runs: the workers are forks and share no memory with it), and whose trust
 * hook reports two fixed items. */
typedef struct crashing {
    fold_batch_model inner;
    char trigger[64], fail[64]; /* kill the worker / fail the solve once, when present */
} crashing;

typedef struct crash_worker {
    const crashing *cm;
    void *inner;
} crash_worker;

static fold_status cr_create(void *ud, void **model, char *message)
{
    const crashing *cm = ud;
    crash_worker *w = malloc(sizeof *w);
    w->cm = cm;
    *model = w;
    return cm->inner.create(cm->inner.user_data, &w->inner, message);
}

static void cr_destroy(void *model)
{
    crash_worker *w = model;
    w->cm->inner.destroy(w->inner);
    free(w);
}

static fold_status cr_solve(void *model, const fold_batch_solve_args *a, void **state,
                            fold_forward_info *info, char *message)
{
    crash_worker *w = model;
    if (unlink(w->cm->trigger) == 0) raise(SIGKILL);
    if (unlink(w->cm->fail) == 0) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "refused once");
        *state = NULL;
        return FOLD_ERR_FORWARD_FAILED;
    }
    return w->cm->inner.solve(w->inner, a, state, info, message);
}

static fold_status cr_record(void *model, void *state, double *out, double *sens,
                             fold_backward_info *bwd, char *msg)
{
    crash_worker *w = model;
    return w->cm->inner.record(w->inner, state, out, sens, bwd, msg);
}

static fold_status cr_vjp(void *model, void *state, const double *ybar, double *pbar, char *msg)
{
    crash_worker *w = model;
    return w->cm->inner.vjp(w->inner, state, ybar, pbar, msg);
}

static void cr_release(void *model, void *state)
{
    crash_worker *w = model;
    w->cm->inner.release(w->inner, state);
}

static const fold_int AFFECTED[] = {2, 0};

static fold_status cr_trust(void *model, void *state, const fold_trust_item **items,
                            fold_int *count)
{
    static fold_trust_item fixed[3];
    fixed[0] = (fold_trust_item){.kind = FOLD_TRUST_WEAK,
                                 .item = FOLD_ITEM_CONSTRAINT,
                                 .index = 1,
                                 .side = 2,
                                 .name = "g[1] upper",
                                 .slack = 0,
                                 .multiplier = 1e-12,
                                 .block = -1,
                                 .entry = -1,
                                 .row = -1,
                                 .col = -1,
                                 .value = NAN,
                                 .lo = NAN,
                                 .hi = NAN,
                                 .n_affected = 2,
                                 .affected = AFFECTED};
    fixed[1] = (fold_trust_item){.kind = FOLD_TRUST_UNCERTAIN,
                                 .item = -1,
                                 .index = -1,
                                 .name = "d x[0] / d p[2]",
                                 .slack = NAN,
                                 .multiplier = NAN,
                                 .block = FOLD_BLOCK_X,
                                 .entry = 2,
                                 .row = 0,
                                 .col = 2,
                                 .value = 0.25,
                                 .lo = -1.5,
                                 .hi = 0.25};
    fixed[2] = fixed[0]; /* a side moving the same entries: one list, shared */
    fixed[2].index = 2;
    fixed[2].name = "g[2] upper";
    (void)model;
    (void)state;
    *items = fixed;
    *count = 3;
    return FOLD_OK;
}

static fold_batch_model crashing_model(crashing *cm, const fold_batch_model *inner)
{
    cm->inner = *inner;
    snprintf(cm->trigger, sizeof cm->trigger, "/tmp/fold_carry_%ld", (long)getpid());
    snprintf(cm->fail, sizeof cm->fail, "/tmp/fold_carry_%ld.fail", (long)getpid());
    unlink(cm->trigger);
    unlink(cm->fail);
    fold_batch_model m = *inner;
    m.name = "crashing";
    m.user_data = cm;
    m.create = cr_create;
    m.destroy = cr_destroy;
    m.solve = cr_solve;
    m.record = cr_record;
    m.vjp = cr_vjp;
    m.release = cr_release;
    m.trust = cr_trust;
    m.dispose = NULL;
    return m;
}

static void touch(const char *path)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
}

/* A worker killed between runs: its replacement holds nothing, so the carrying run starts
 * from the anchor and chains without error, with the same optima. */
START_TEST(replacement_starts_cold)
{
    fixture f;
    fixture_init(&f);
    crashing cm;
    fold_batch_model m = crashing_model(&cm, &f.m);
    fold_batch *b = start(&m, 1), *ref = start(&f.m, 1);
    runs c, r;
    fold_batch_info info = FOLD_BATCH_INFO_INIT, rinfo = FOLD_BATCH_INFO_INIT;
    run(b, f.p, true, false, &c, &info);
    run(ref, f.p2, false, false, &r, &rinfo);
    touch(cm.trigger);
    fold_batch_job job = {.n_scenarios = N,
                          .params_array = f.p2,
                          .anchor_mean = true,
                          .carry = true,
                          .on_record = on_record,
                          .record_data = &c};
    ck_assert_status(fold_batch_run(b, &job, &info), FOLD_OK);
    ck_assert_int_eq(info.n_crashed, 1);
    ck_assert_int_eq(info.n_respawned, 1);
    ck_assert_int_eq(info.n_ok, N - 1);
    ck_assert_int_eq(n_carried(&c), 0);
    for (fold_int i = 0; i < N; i++)
        if (c.rec[i].outcome == FOLD_BATCH_DONE)
            ck_assert_double_le(fold_test_vec_relerr(c.out + 4 * i, r.out + 4 * i, 4, 1), 1e-6);
    /* and the next carrying run starts from what the replacement held (all but the
     * crashed scenario, which may start from its chain's predecessor) */
    run(b, f.p2, true, false, &c, &info);
    ck_assert_int_ge(n_carried(&c), N - 1);
    fold_batch_free(b);
    fold_batch_free(ref);
    fixture_free(&f);
}
END_TEST

/* A solve that fails from a carried solution is redone from the chain's own start: the
 * scenario is solved (its record says from where), the others still start carried. */
START_TEST(failed_carried_start_retried)
{
    fixture f;
    fixture_init(&f);
    crashing cm;
    fold_batch_model m = crashing_model(&cm, &f.m);
    fold_batch *b = start(&m, 1);
    runs c;
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    run(b, f.p, true, false, &c, &info);
    touch(cm.fail);
    run(b, f.p2, true, false, &c, &info); /* asserts n_ok = N */
    ck_assert_int_eq(n_carried(&c), N - 1);
    fold_int redone = -1;
    for (fold_int i = 0; i < N; i++)
        if (c.rec[i].start != FOLD_BATCH_START_CARRIED) redone = i;
    ck_assert_int_ge(redone, 0);
    ck_assert_int_ge(c.rec[redone].status, 0);
    ck_assert_int_ne(c.rec[redone].start, FOLD_BATCH_START_CARRIED);
    ck_assert_int_eq(access(cm.fail, F_OK), -1); /* the failure happened */
    fold_batch_free(b);
    fixture_free(&f);
}
END_TEST

static void assert_trust(const fold_trust_item *it, fold_int n)
{
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(it[0].kind, FOLD_TRUST_WEAK);
    ck_assert_int_eq(it[0].item, FOLD_ITEM_CONSTRAINT);
    ck_assert_int_eq(it[0].index, 1);
    ck_assert_int_eq(it[0].side, 2);
    ck_assert_str_eq(it[0].name, "g[1] upper");
    ck_assert_double_eq(it[0].multiplier, 1e-12);
    ck_assert_int_eq(it[0].n_affected, 2);
    ck_assert_int_eq(it[0].affected[0], 2);
    ck_assert_int_eq(it[0].affected[1], 0);
    ck_assert(isnan(it[0].lo));
    ck_assert_int_eq(it[1].kind, FOLD_TRUST_UNCERTAIN);
    ck_assert_str_eq(it[1].name, "d x[0] / d p[2]");
    ck_assert_int_eq(it[1].block, FOLD_BLOCK_X);
    ck_assert_int_eq(it[1].entry, 2);
    ck_assert_int_eq(it[1].row, 0);
    ck_assert_int_eq(it[1].col, 2);
    ck_assert_double_eq(it[1].value, 0.25);
    ck_assert_double_eq(it[1].lo, -1.5);
    ck_assert_double_eq(it[1].hi, 0.25);
    ck_assert_int_eq(it[1].n_affected, 0);
    ck_assert_str_eq(it[2].name, "g[2] upper"); /* sent once, shared again on arrival */
    ck_assert_int_eq(it[2].n_affected, 2);
    ck_assert_ptr_eq(it[2].affected, it[0].affected);
}

static int check_record_trust(const fold_batch_record *r, void *ud)
{
    int *seen = ud;
    if (r->sens) { /* the record hook gave sensitivities: its report comes along */
        assert_trust(r->trust, r->n_trust);
        ++*seen;
    } else {
        ck_assert_ptr_null(r->trust);
    }
    return 0;
}

static int check_record_empty(const fold_batch_record *r, void *ud)
{
    ck_assert_ptr_nonnull(r->sens);
    ck_assert_ptr_null(r->trust);
    ck_assert_int_eq(r->n_trust, 0);
    ++*(int *)ud;
    return 0;
}

/* The model's trust reports reach the caller unchanged: with each record that has
 * sensitivities, and per entry of a backward call on kept states. */
START_TEST(trust_reports_travel)
{
    fold_problem *prob;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    double ybar[4] = {1, 0.5, 0, 0}, p[3 * N];
    hs071_params(p, 1.0);
    fold_batch_problem_spec spec = {.problem = prob, .sens = FOLD_BATCH_SENS_VJP, .ybar = ybar};
    fold_batch_model inner, m;
    crashing cm;
    ck_assert_status(fold_batch_problem_model(&spec, &inner), FOLD_OK);
    m = crashing_model(&cm, &inner);
    fold_batch *b = start(&m, 2);
    int seen = 0;
    fold_batch_job job = {.n_scenarios = N,
                          .params_array = p,
                          .anchor_mean = true,
                          .keep = true,
                          .on_record = check_record_trust,
                          .record_data = &seen};
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    ck_assert_status(fold_batch_run(b, &job, &info), FOLD_OK);
    ck_assert_int_eq(seen, N);
    fold_int keys[3] = {0, 5, 99};
    double yb[3 * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1}, pbar[3 * 3];
    fold_status st[3];
    ck_assert_status(fold_batch_vjp(b, 3, keys, yb, pbar, st), FOLD_ERR_NOT_SOLVED);
    const fold_trust_item *items;
    fold_int n;
    for (int k = 0; k < 2; k++) {
        ck_assert_status(fold_batch_trust_report(b, k, &items, &n), FOLD_OK);
        assert_trust(items, n);
    }
    ck_assert_status(fold_batch_trust_report(b, 2, &items, &n), FOLD_OK); /* key 99: none */
    ck_assert_int_eq(n, 0);
    ck_assert_status(fold_batch_trust_report(b, 3, &items, &n), FOLD_ERR_ARGUMENT);
    ck_assert_status(fold_batch_trust_report(NULL, 0, &items, &n), FOLD_ERR_ARGUMENT);
    fold_batch_free(b);
    fold_batch_model_dispose(&inner);
    fold_problem_free(prob);
}
END_TEST

/* The problem model's own trust hook: a record's report is the solver's fold_trust_report
 * of the record's VJP (nothing limits HS071's: none). */
START_TEST(problem_model_trust_empty)
{
    fold_problem *prob;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    double ybar[4] = {1, 0.5, 0, 0}, p[3 * N];
    hs071_params(p, 1.0);
    fold_batch_problem_spec spec = {.problem = prob, .sens = FOLD_BATCH_SENS_VJP, .ybar = ybar};
    fold_batch_model m;
    ck_assert_status(fold_batch_problem_model(&spec, &m), FOLD_OK);
    ck_assert_ptr_nonnull(m.trust);
    fold_batch *b = start(&m, 1);
    int seen = 0;
    fold_batch_job job = {.n_scenarios = N,
                          .params_array = p,
                          .anchor_mean = true,
                          .on_record = check_record_empty,
                          .record_data = &seen};
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    ck_assert_status(fold_batch_run(b, &job, &info), FOLD_OK);
    ck_assert_int_eq(seen, N);
    fold_batch_free(b);
    fold_batch_model_dispose(&m);
    fold_problem_free(prob);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch_carry");
    TCase *tc = tcase_create("carry");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, carry_saves_iterations);
    tcase_add_test(tc, carry_with_keep_and_release);
    tcase_add_test(tc, replacement_starts_cold);
    tcase_add_test(tc, failed_carried_start_retried);
    tcase_add_test(tc, trust_reports_travel);
    tcase_add_test(tc, problem_model_trust_empty);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
