/* The scenario engine: results against closed forms, the same records whatever the number
 * of workers and those of a serial run with the same starts, warm-start chains, keep mode
 * (VJP, JVP, Jacobian blocks on kept factorizations), failure isolation (an error, a crash,
 * a timeout), resume flags and bad input (doc/api/batch.md). */
#include <signal.h>
#include <unistd.h>

#include "basic/basic.h"
#include "test_support.h"

#define NP (FOLD_PQP_N + 1)

/* Every record of a run, by scenario. */
typedef struct collected {
    fold_int n;
    fold_batch_record *rec;
    fold_backward_info *bwd; /* rec[i].backward points here (NULL when the record had none) */
    double *out, *sens;      /* n x n_out, n x n_sens */
    char (*msg)[FOLD_BATCH_MESSAGE_LEN];
    int *count; /* records per scenario */
    fold_int n_out, n_sens;
} collected;

static void collected_init(collected *c, fold_int n, const fold_batch_model *m)
{
    c->n = n;
    c->n_out = m->n_out;
    c->n_sens = m->n_sens;
    c->rec = calloc((size_t)n, sizeof *c->rec);
    c->bwd = calloc((size_t)n, sizeof *c->bwd);
    c->out = calloc((size_t)(n * m->n_out + 1), sizeof *c->out);
    c->sens = calloc((size_t)(n * m->n_sens + 1), sizeof *c->sens);
    c->msg = calloc((size_t)n, sizeof *c->msg);
    c->count = calloc((size_t)n, sizeof *c->count);
}

static void collected_free(collected *c)
{
    free(c->rec);
    free(c->bwd);
    free(c->out);
    free(c->sens);
    free(c->msg);
    free(c->count);
}

static int on_record(const fold_batch_record *r, void *ud)
{
    collected *c = ud;
    ck_assert_int_ge(r->scenario, 0);
    ck_assert_int_lt(r->scenario, c->n);
    fold_int i = r->scenario;
    c->count[i]++;
    c->rec[i] = *r;
    if (r->backward) { /* valid during the call only */
        c->bwd[i] = *r->backward;
        c->rec[i].backward = &c->bwd[i];
    }
    snprintf(c->msg[i], sizeof c->msg[i], "%s", r->message);
    if (r->outputs) memcpy(c->out + i * c->n_out, r->outputs, (size_t)c->n_out * sizeof(double));
    if (r->sens) memcpy(c->sens + i * c->n_sens, r->sens, (size_t)c->n_sens * sizeof(double));
    return 0;
}

/* Scenario parameters of the parametric QP: seeded, q around 1, b around 2. */
static double *pqp_params(fold_int n, unsigned long long seed)
{
    fold_test_rng rng;
    double *p = malloc((size_t)(n * NP) * sizeof *p);
    fold_test_rng_seed(&rng, seed);
    for (fold_int i = 0; i < n * NP; i++)
        p[i] = (i % NP == FOLD_PQP_N ? 2.0 : 1.0) + 0.3 * fold_test_normal(&rng);
    return p;
}

typedef struct fixture {
    fold_problem *prob;
    fold_settings set;
    fold_batch_model model;
    double ybar[FOLD_PQP_N];
} fixture;

static void fixture_init(fixture *f, int sens)
{
    ck_assert_status(fold_pqp_create(&f->prob), FOLD_OK);
    fold_settings_default(&f->set);
    f->set.forward.tol = 1e-10;
    for (int k = 0; k < FOLD_PQP_N; k++)
        f->ybar[k] = 1.0 + k;
    fold_batch_problem_spec spec = {
        .problem = f->prob, .settings = &f->set, .sens = sens, .ybar = f->ybar, .warm_duals = true};
    ck_assert_status(fold_batch_problem_model(&spec, &f->model), FOLD_OK);
}

static fold_batch *start_timeout(const fold_batch_model *m, int workers, fold_int chunk, int warm,
                                 double timeout_s)
{
    fold_batch_options opt;
    fold_batch *b;
    fold_batch_default_options(&opt);
    opt.n_workers = workers;
    opt.chunk_size = chunk;
    opt.warm = warm;
    opt.scenario_timeout_s = timeout_s;
    ck_assert_status(fold_batch_create(m, &opt, &b), FOLD_OK);
    ck_assert_int_eq(fold_batch_workers(b), workers);
    return b;
}

static fold_batch *start(const fold_batch_model *m, int workers, fold_int chunk, int warm)
{
    return start_timeout(m, workers, chunk, warm, 0);
}

static void run(fold_batch *b, fold_int n, const double *params, const unsigned char *done,
                collected *c, fold_batch_info *info)
{
    fold_batch_job job = {.n_scenarios = n,
                          .params_array = params,
                          .anchor_mean = true,
                          .done = done,
                          .on_record = on_record,
                          .record_data = c};
    ck_assert_status(fold_batch_run(b, &job, info), FOLD_OK);
}

/* Outputs (x) and the VJP with ybar match the closed form for every scenario; each is
 * recorded exactly once; chains: heads start from the anchor, the others from a scenario
 * of their chain or the anchor; the KKT analysis is made once per chain and reused. */
START_TEST(problem_model_closed_form)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_VJP);
    const fold_int n = 37;
    double *p = pqp_params(n, 7);
    fold_batch *b = start(&f.model, 2, 5, FOLD_BATCH_WARM_NEAREST);
    collected c;
    collected_init(&c, n, &f.model);
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    run(b, n, p, NULL, &c, &info);
    ck_assert_int_eq(info.n_recorded, n);
    ck_assert_int_eq(info.n_ok, n);
    ck_assert_int_eq(info.n_chunks, 8); /* ceil(37 / 5) */
    ck_assert_int_eq(info.n_workers, 2);
    ck_assert_int_eq(info.n_silent, 0);
    ck_assert_int_gt(info.worker_peak_kb, 0);
    int fresh = 0;
    for (fold_int i = 0; i < n; i++) {
        double x[FOLD_PQP_N], lam, J[FOLD_PQP_N * NP];
        fold_pqp_solution(p + i * NP, x, &lam, J);
        ck_assert_int_eq(c.count[i], 1);
        ck_assert_int_eq(c.rec[i].outcome, FOLD_BATCH_DONE);
        ck_assert_int_eq(c.rec[i].status, FOLD_OK);
        ck_assert_int_eq(c.rec[i].forward_status, FOLD_FWD_SOLVED);
        ck_assert_int_eq(c.rec[i].key, -1);
        ck_assert_double_le(fold_test_vec_relerr(c.out + i * FOLD_PQP_N, x, FOLD_PQP_N, 1), 1e-8);
        for (int j = 0; j < NP; j++) {
            double g = 0;
            for (int k = 0; k < FOLD_PQP_N; k++)
                g += f.ybar[k] * J[k + j * FOLD_PQP_N];
            ck_assert_double_le(fold_test_relerr(c.sens[i * NP + j], g), 1e-7);
        }
        ck_assert_int_ne(c.rec[i].start, FOLD_BATCH_START_COLD);
        ck_assert_ptr_nonnull(c.rec[i].backward);
        ck_assert_int_eq(c.rec[i].backward->dim, FOLD_PQP_N + 1);
        if (c.rec[i].start == FOLD_BATCH_START_SCENARIO) {
            ck_assert_int_ge(c.rec[i].warm_from, 0);
            ck_assert_int_ne(c.rec[i].warm_from, i);
            /* not a chain's first: its predecessor's analysis of the same KKT pattern */
            ck_assert(c.rec[i].backward->reused_analysis);
        } else {
            ck_assert_int_eq(c.rec[i].warm_from, -1);
        }
        fresh += !c.rec[i].backward->reused_analysis;
    }
    ck_assert_int_eq(fresh, 8); /* one analysis per chain: the pattern never changes */
    fold_batch_free(b);
    collected_free(&c);
    free(p);
    fold_batch_model_dispose(&f.model);
    fold_problem_free(f.prob);
}
END_TEST

/* The default chunk size (FOLD_BATCH_CHUNK_AUTO) depends on the job's size only: 20
 * scenarios make 10 chains of 2, 200 make 25 of 8; a job with carry
 * keeps chains of 8; an explicit size is kept. */
START_TEST(auto_chunk_size)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_NONE);
    const fold_int sizes[] = {1, 20, 200};
    const fold_int chains[] = {1, 10, 25};
    double *p = pqp_params(200, 11);
    for (int k = 0; k < 4; k++) {
        fold_int n = sizes[k < 3 ? k : 1];
        fold_batch *b =
            start(&f.model, 2, k < 3 ? FOLD_BATCH_CHUNK_AUTO : 3, FOLD_BATCH_WARM_NEAREST);
        collected c;
        collected_init(&c, n, &f.model);
        fold_batch_info info = FOLD_BATCH_INFO_INIT;
        run(b, n, p, NULL, &c, &info);
        ck_assert_int_eq(info.n_ok, n);
        ck_assert_int_eq(info.n_chunks, k < 3 ? chains[k] : 7); /* explicit 3: ceil(20 / 3) */
        fold_batch_free(b);
        collected_free(&c);
    }
    /* with carry: chains of FOLD_BATCH_CHUNK, 20 scenarios in 3 */
    fold_batch *b = start(&f.model, 2, FOLD_BATCH_CHUNK_AUTO, FOLD_BATCH_WARM_NEAREST);
    collected c;
    collected_init(&c, 20, &f.model);
    fold_batch_job job = {.n_scenarios = 20,
                          .params_array = p,
                          .anchor_mean = true,
                          .carry = true,
                          .on_record = on_record,
                          .record_data = &c};
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    ck_assert_status(fold_batch_run(b, &job, &info), FOLD_OK);
    ck_assert_int_eq(info.n_chunks, 3);
    fold_batch_free(b);
    collected_free(&c);
    fold_batch_options opt;
    fold_batch_default_options(&opt);
    ck_assert_int_eq(opt.chunk_size, FOLD_BATCH_CHUNK_AUTO);
    free(p);
    fold_batch_model_dispose(&f.model);
    fold_problem_free(f.prob);
}
END_TEST

/* Two runs are the same bit for bit when every field that is not a time matches. */
static void assert_same_records(const collected *a, const collected *b)
{
    for (fold_int i = 0; i < a->n; i++) {
        const fold_batch_record *x = &a->rec[i], *y = &b->rec[i];
        ck_assert_int_eq(a->count[i], 1);
        ck_assert_int_eq(b->count[i], 1);
        ck_assert_int_eq(x->outcome, y->outcome);
        ck_assert_int_eq(x->status, y->status);
        ck_assert_int_eq(x->iterations, y->iterations);
        ck_assert_int_eq(x->start, y->start);
        ck_assert_int_eq(x->warm_from, y->warm_from);
        ck_assert_msg(memcmp(&x->objective, &y->objective, sizeof(double)) == 0,
                      "scenario %ld objective %.17g vs %.17g", (long)i, x->objective, y->objective);
        ck_assert(!memcmp(a->out + i * a->n_out, b->out + i * b->n_out,
                          (size_t)a->n_out * sizeof(double)));
        ck_assert(!memcmp(a->sens + i * a->n_sens, b->sens + i * b->n_sens,
                          (size_t)a->n_sens * sizeof(double)));
    }
}

/* The records of 1, 2 and 3 workers are identical (chains and their starts depend only on
 * the input), for every warm-start mode. */
START_TEST(same_records_any_workers)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_VJP);
    const fold_int n = 23;
    double *p = pqp_params(n, 11);
    for (int warm = FOLD_BATCH_WARM_NEAREST; warm <= FOLD_BATCH_WARM_COLD; warm++) {
        collected c[3];
        for (int w = 1; w <= 3; w++) {
            fold_batch *b = start(&f.model, w, 4, warm);
            collected_init(&c[w - 1], n, &f.model);
            run(b, n, p, NULL, &c[w - 1], NULL);
            fold_batch_free(b);
        }
        assert_same_records(&c[0], &c[1]);
        assert_same_records(&c[0], &c[2]);
        for (fold_int i = 0; i < n; i++) {
            if (warm == FOLD_BATCH_WARM_COLD)
                ck_assert_int_eq(c[0].rec[i].start, FOLD_BATCH_START_COLD);
            if (warm == FOLD_BATCH_WARM_ANCHOR)
                ck_assert_int_eq(c[0].rec[i].start, FOLD_BATCH_START_ANCHOR);
        }
        for (int w = 0; w < 3; w++)
            collected_free(&c[w]);
    }
    free(p);
    fold_batch_free(NULL);
    fold_batch_model_dispose(&f.model);
    fold_batch_model_dispose(NULL);
    fold_problem_free(f.prob);
}
END_TEST

/* The solution of one scenario solved alone: a new solver started from `from` (x, lam, zl,
 * zu; NULL: the problem's cold start), x (4) and the VJP of ybar into x_out, pbar. */
static fold_int solve_alone(const fold_problem *prob, const double *p, const double *from,
                            const double *ybar, double *pt, double *pbar)
{
    fold_solver *s;
    fold_settings set;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    double start[4], xbar[4];
    fold_settings_default(&set);
    ck_assert_status(fold_solver_create(prob, &set, &s), FOLD_OK);
    if (from) {
        ck_assert_status(fold_solver_set_start(s, from, from + 4, from + 6, from + 10), FOLD_OK);
    } else {
        fold_problem_start_point(prob, start);
        ck_assert_status(fold_solver_set_start(s, start, NULL, NULL, NULL), FOLD_OK);
    }
    ck_assert_status(fold_solve(s, p, &fi), FOLD_OK);
    /* pt: x (4), lam (2), zl (4), zu (4) */
    ck_assert_status(fold_solver_solution(s, pt, pt + 4, pt + 6, pt + 10, NULL), FOLD_OK);
    memcpy(xbar, ybar, sizeof xbar);
    ck_assert_status(fold_vjp(s, &(fold_zbar){.x = xbar}, pbar, NULL), FOLD_OK);
    fold_solver_free(s);
    return fi.iterations;
}

/* Results are those of a serial run with the same starts: each record of a 2-worker batch
 * (HS071, chains of warm starts with multipliers) equals, bit for bit, a solve of its
 * scenario alone on a new solver started from the point the record names (the anchor,
 * solved cold, or the serial solution of its warm_from scenario), and its VJP. */
START_TEST(same_as_serial_run)
{
    fold_problem *prob;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_int out_x[4] = {0, 1, 2, 3};
    double ybar[4] = {1, -2, 0.5, 3};
    fold_batch_problem_spec spec = {.problem = prob,
                                    .n_out = 4,
                                    .out_x = out_x,
                                    .sens = FOLD_BATCH_SENS_VJP,
                                    .ybar = ybar,
                                    .warm_duals = true};
    fold_batch_model m;
    ck_assert_status(fold_batch_problem_model(&spec, &m), FOLD_OK);
    enum { N = 18 };
    double p[3 * N], anchor[3] = {25, 40, 1};
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 9);
    for (fold_int i = 0; i < N; i++) {
        p[3 * i] = 25 * (1 + 0.05 * fold_test_uniform(&rng));
        p[3 * i + 1] = 40 * (1 + 0.05 * fold_test_uniform(&rng));
        p[3 * i + 2] = 1 + 0.05 * fold_test_uniform(&rng);
    }
    fold_batch *b = start(&m, 2, 5, FOLD_BATCH_WARM_NEAREST);
    collected c;
    collected_init(&c, N, &m);
    fold_batch_job job = {.n_scenarios = N,
                          .params_array = p,
                          .anchor = anchor,
                          .on_record = on_record,
                          .record_data = &c};
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_OK);
    fold_batch_free(b);
    /* the serial run: the anchor, then each scenario after the one it starts from */
    double anchor_pt[14], pt[N][14], pbar[3], anchor_pbar[3];
    bool solved[N] = {false};
    solve_alone(prob, anchor, NULL, ybar, anchor_pt, anchor_pbar);
    int n_scenario_starts = 0;
    for (fold_int left = N; left > 0;) {
        fold_int before = left;
        for (fold_int i = 0; i < N; i++) {
            const fold_batch_record *r = &c.rec[i];
            if (solved[i] || (r->start == FOLD_BATCH_START_SCENARIO && !solved[r->warm_from]))
                continue;
            const double *from = r->start == FOLD_BATCH_START_COLD     ? NULL
                                 : r->start == FOLD_BATCH_START_ANCHOR ? anchor_pt
                                                                       : pt[r->warm_from];
            fold_int it = solve_alone(prob, p + 3 * i, from, ybar, pt[i], pbar);
            n_scenario_starts += r->start == FOLD_BATCH_START_SCENARIO;
            ck_assert_int_eq(c.count[i], 1);
            ck_assert_int_eq(r->status, FOLD_OK);
            ck_assert_int_eq(r->iterations, it);
            ck_assert_msg(!memcmp(c.out + 4 * i, pt[i], 4 * sizeof(double)),
                          "scenario %ld: x differs from the serial solve", (long)i);
            ck_assert_msg(!memcmp(c.sens + 3 * i, pbar, 3 * sizeof(double)),
                          "scenario %ld: the VJP differs from the serial one", (long)i);
            solved[i] = true;
            left--;
        }
        ck_assert_int_lt(left, before); /* warm_from never forms a cycle */
    }
    ck_assert_int_gt(n_scenario_starts, 0);
    collected_free(&c);
    fold_batch_model_dispose(&m);
    fold_problem_free(prob);
}
END_TEST

/* HS071 at loads moved by up to 5%: chained warm starts (primal-dual) need fewer Ipopt
 * iterations than cold starts on average, and give the same optima. */
START_TEST(warm_starts_save_iterations)
{
    fold_problem *prob;
    ck_assert_status(fold_hs071_create(&prob), FOLD_OK);
    fold_batch_problem_spec spec = {.problem = prob, .warm_duals = true};
    fold_batch_model m;
    ck_assert_status(fold_batch_problem_model(&spec, &m), FOLD_OK);
    const fold_int n = 24;
    double *p = malloc(3 * n * sizeof *p);
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 3);
    for (fold_int i = 0; i < n; i++) {
        p[3 * i] = 25 * (1 + 0.05 * fold_test_uniform(&rng));
        p[3 * i + 1] = 40 * (1 + 0.05 * fold_test_uniform(&rng));
        p[3 * i + 2] = 1 + 0.05 * fold_test_uniform(&rng);
    }
    collected c[2];
    fold_batch_info info[2] = {FOLD_BATCH_INFO_INIT, FOLD_BATCH_INFO_INIT};
    for (int k = 0; k < 2; k++) {
        fold_batch *b = start(&m, 2, 6, k ? FOLD_BATCH_WARM_CHAIN : FOLD_BATCH_WARM_COLD);
        collected_init(&c[k], n, &m);
        run(b, n, p, NULL, &c[k], &info[k]);
        fold_batch_free(b);
        ck_assert_int_eq(info[k].n_ok, n);
    }
    printf("# HS071, %ld scenarios: %ld Ipopt iterations cold, %ld warm\n", (long)n,
           (long)info[0].iterations, (long)info[1].iterations);
    ck_assert_int_lt(info[1].iterations, info[0].iterations);
    for (fold_int i = 0; i < n; i++) {
        ck_assert_double_le(fold_test_vec_relerr(c[1].out + 4 * i, c[0].out + 4 * i, 4, 1), 1e-6);
        if (c[1].rec[i].start == FOLD_BATCH_START_SCENARIO)
            ck_assert_int_lt(c[1].rec[i].iterations, c[0].rec[i].iterations + 3);
    }
    for (int k = 0; k < 2; k++)
        collected_free(&c[k]);
    fold_batch_model_dispose(&m);
    free(p);
    fold_problem_free(prob);
}
END_TEST

/* Keep mode: forward of a batch, then per-scenario VJPs with their own cotangents, JVPs and
 * a Jacobian block on the kept factorizations, against the closed form; released keys and
 * unknown keys say so. */
START_TEST(keep_mode_backward)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_NONE);
    const fold_int n = 9;
    double *p = pqp_params(n, 5);
    fold_batch *b = start(&f.model, 2, 3, FOLD_BATCH_WARM_NEAREST);
    collected c;
    collected_init(&c, n, &f.model);
    fold_batch_job job = {.n_scenarios = n,
                          .params_array = p,
                          .anchor_mean = true,
                          .keep = true,
                          .on_record = on_record,
                          .record_data = &c};
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_OK);
    fold_int keys[9];
    double ybar[9 * FOLD_PQP_N], pbar[9 * NP], dp[9 * NP], ydot[9 * FOLD_PQP_N];
    fold_test_rng rng;
    fold_test_rng_seed(&rng, 1);
    for (fold_int i = 0; i < n; i++) {
        keys[i] = c.rec[n - 1 - i].key; /* any order */
        ck_assert_int_ge(keys[i], 0);
        for (int k = 0; k < FOLD_PQP_N; k++)
            ybar[i * FOLD_PQP_N + k] = fold_test_normal(&rng);
        for (int j = 0; j < NP; j++)
            dp[i * NP + j] = fold_test_normal(&rng);
    }
    fold_status status[9];
    ck_assert_status(fold_batch_vjp(b, n, keys, ybar, pbar, status), FOLD_OK);
    ck_assert_status(fold_batch_jvp(b, n, keys, dp, ydot, NULL), FOLD_OK);
    fold_int rows[2] = {0, 3}, cols[3] = {1, 5, 2};
    double Jb[9 * 6];
    ck_assert_status(fold_batch_jacobian(b, n, keys, 2, rows, 3, cols, Jb, NULL), FOLD_OK);
    for (fold_int i = 0; i < n; i++) {
        fold_int s = n - 1 - i;
        double x[FOLD_PQP_N], lam, J[FOLD_PQP_N * NP];
        fold_pqp_solution(p + s * NP, x, &lam, J);
        ck_assert_int_eq(status[i], FOLD_OK);
        for (int j = 0; j < NP; j++) {
            double g = 0;
            for (int k = 0; k < FOLD_PQP_N; k++)
                g += ybar[i * FOLD_PQP_N + k] * J[k + j * FOLD_PQP_N];
            ck_assert_double_le(fold_test_relerr(pbar[i * NP + j], g), 1e-7);
        }
        for (int k = 0; k < FOLD_PQP_N; k++) {
            double v = 0;
            for (int j = 0; j < NP; j++)
                v += J[k + j * FOLD_PQP_N] * dp[i * NP + j];
            ck_assert_double_le(fold_test_relerr(ydot[i * FOLD_PQP_N + k], v), 1e-7);
        }
        for (int jc = 0; jc < 3; jc++)
            for (int r = 0; r < 2; r++)
                ck_assert_double_le(
                    fold_test_relerr(Jb[i * 6 + r + 2 * jc], J[rows[r] + cols[jc] * FOLD_PQP_N]),
                    1e-7);
    }
    /* release two; their requests fail, the others still answer */
    fold_int gone[2] = {keys[1], keys[4]};
    ck_assert_status(fold_batch_release(b, 2, gone), FOLD_OK);
    for (int k = 0; k < n * NP; k++)
        pbar[k] = 0;
    ck_assert_status(fold_batch_vjp(b, n, keys, ybar, pbar, status), FOLD_ERR_NOT_SOLVED);
    ck_assert_error_mentions("key");
    for (fold_int i = 0; i < n; i++) {
        bool released = i == 1 || i == 4;
        ck_assert_int_eq(status[i], released ? FOLD_ERR_NOT_SOLVED : FOLD_OK);
        ck_assert(released ? isnan(pbar[i * NP]) : isfinite(pbar[i * NP]));
    }
    fold_int unknown = 1000;
    ck_assert_status(fold_batch_jvp(b, 1, &unknown, dp, ydot, status), FOLD_ERR_NOT_SOLVED);
    /* a second keep run gets new keys; releasing all empties both */
    collected c2;
    collected_init(&c2, n, &f.model);
    job.record_data = &c2;
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_OK);
    for (fold_int i = 0; i < n; i++)
        ck_assert_int_ge(c2.rec[i].key, n);
    ck_assert_status(fold_batch_release(b, 0, NULL), FOLD_OK);
    ck_assert_status(fold_batch_vjp(b, 1, &c2.rec[0].key, ybar, pbar, NULL), FOLD_ERR_NOT_SOLVED);
    fold_batch_free(b);
    collected_free(&c);
    collected_free(&c2);
    free(p);
    fold_batch_model_dispose(&f.model);
    fold_problem_free(f.prob);
}
END_TEST

/* A model that fails on purpose: scenario CRASH kills its worker, SLOW sleeps past the
 * timeout (when asked), FAIL returns an error (infeasible), STUCK stalls after STUCK_ITER
 * iterations when started warm; the others are the problem model's. */
enum { CRASH = 5, STUCK = 9, SLOW = 12, FAIL = 17, STUCK_ITER = 7 };

typedef struct misbehave {
    fold_batch_model inner;
    bool slow; /* SLOW sleeps (else it is an ordinary scenario) */
} misbehave;

typedef struct bad_worker {
    const misbehave *mb;
    void *inner;
} bad_worker;

static fold_status bad_create(void *ud, void **model, char *message)
{
    const misbehave *mb = ud;
    bad_worker *w = malloc(sizeof *w);
    w->mb = mb;
    fold_status st = mb->inner.create(mb->inner.user_data, &w->inner, message);
    *model = w;
    return st;
}

static void bad_destroy(void *model)
{
    bad_worker *w = model;
    w->mb->inner.destroy(w->inner);
    free(w);
}

static fold_status bad_solve(void *model, const fold_batch_solve_args *a, void **state,
                             fold_forward_info *info, char *message)
{
    bad_worker *w = model;
    if (a->scenario == CRASH) /* as the out-of-memory killer would (and no sanitizer can catch) */
        raise(SIGKILL);
    if (a->scenario == SLOW && w->mb->slow) sleep(600);
    if (a->scenario == FAIL) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "scenario %d refused", FAIL);
        *state = NULL;
        info->status = FOLD_FWD_INFEASIBLE;
        return FOLD_ERR_FORWARD_FAILED;
    }
    if (a->scenario == STUCK && a->start) {
        snprintf(message, FOLD_BATCH_MESSAGE_LEN, "scenario %d stuck", STUCK);
        *state = NULL;
        info->status = FOLD_FWD_STALLED;
        info->iterations = STUCK_ITER;
        return FOLD_ERR_FORWARD_FAILED;
    }
    return w->mb->inner.solve(w->inner, a, state, info, message);
}

static fold_status bad_record(void *model, void *state, double *out, double *sens,
                              fold_backward_info *bwd, char *msg)
{
    bad_worker *w = model;
    return w->mb->inner.record(w->inner, state, out, sens, bwd, msg);
}

static void bad_release(void *model, void *state)
{
    bad_worker *w = model;
    w->mb->inner.release(w->inner, state);
}

static fold_batch_model misbehaving(const fold_batch_model *inner, misbehave *mb, bool slow)
{
    mb->inner = *inner;
    mb->slow = slow;
    return (fold_batch_model){.name = "misbehaving",
                              .np = inner->np,
                              .n_out = inner->n_out,
                              .n_sens = inner->n_sens,
                              .user_data = mb,
                              .create = bad_create,
                              .destroy = bad_destroy,
                              .solve = bad_solve,
                              .record = bad_record,
                              .release = bad_release};
}

/* Iterations of scenario i solved alone, cold. */
static fold_int cold_iterations(const fixture *f, const double *params, fold_int i)
{
    fold_solver *s;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    double x[FOLD_PQP_N];
    ck_assert_status(fold_solver_create(f->prob, &f->set, &s), FOLD_OK);
    fold_problem_start_point(f->prob, x);
    ck_assert_status(fold_solver_set_start(s, x, NULL, NULL, NULL), FOLD_OK);
    ck_assert_status(fold_solve(s, params + i * f->model.np, &fi), FOLD_OK);
    fold_solver_free(s);
    return fi.iterations;
}

/* A crash, a timeout and a failure each get their record and the run goes on; the chains
 * they break restart from the anchor; a warm solve that stalls is solved again cold; 1 and
 * 2 workers give the same records. */
START_TEST(failures_isolated)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_VJP);
    misbehave mb;
    fold_batch_model m = misbehaving(&f.model, &mb, true);
    const fold_int n = 24;
    double *p = pqp_params(n, 13);
    /* a time limit well above what an ordinary scenario takes here (valgrind included) */
    collected calib;
    collected_init(&calib, n, &f.model);
    fold_batch *b = start(&f.model, 2, 6, FOLD_BATCH_WARM_NEAREST);
    run(b, n, p, NULL, &calib, NULL);
    fold_batch_free(b);
    double slowest = 0;
    for (fold_int i = 0; i < n; i++)
        slowest = fmax(slowest, calib.rec[i].solve_s + calib.rec[i].record_s);
    double limit = fmax(1.0, 20 * slowest);
    printf("# slowest ordinary scenario %.3g s: time limit %.3g s\n", slowest, limit);
    collected_free(&calib);
    collected c[2];
    for (int w = 1; w <= 2; w++) {
        b = start_timeout(&m, w, 6, FOLD_BATCH_WARM_NEAREST, limit);
        collected_init(&c[w - 1], n, &m);
        fold_batch_info info = FOLD_BATCH_INFO_INIT;
        run(b, n, p, NULL, &c[w - 1], &info);
        ck_assert_int_eq(info.n_recorded, n);
        ck_assert_int_eq(info.n_crashed, 1);
        ck_assert_int_eq(info.n_timed_out, 1);
        ck_assert_int_eq(info.n_failed, 1);
        ck_assert_int_eq(info.n_ok, n - 3);
        ck_assert_int_eq(info.n_respawned, 2);
        fold_batch_free(b);
    }
    assert_same_records(&c[0], &c[1]);
    const collected *r = &c[1];
    ck_assert_int_eq(r->rec[CRASH].outcome, FOLD_BATCH_CRASHED);
    ck_assert_int_eq(r->rec[CRASH].status, FOLD_ERR_FORWARD_FAILED);
    ck_assert_msg(strstr(r->msg[CRASH], "killed by signal 9") != NULL, "%s", r->msg[CRASH]);
    ck_assert_int_eq(r->rec[SLOW].outcome, FOLD_BATCH_TIMED_OUT);
    ck_assert_msg(strstr(r->msg[SLOW], "timed out") != NULL, "%s", r->msg[SLOW]);
    ck_assert_int_eq(r->rec[FAIL].outcome, FOLD_BATCH_DONE);
    ck_assert_int_eq(r->rec[FAIL].status, FOLD_ERR_FORWARD_FAILED);
    ck_assert_int_eq(r->rec[FAIL].forward_status, FOLD_FWD_INFEASIBLE);
    ck_assert_str_eq(r->msg[FAIL], "scenario 17 refused");
    ck_assert(r->rec[FAIL].outputs == NULL && r->rec[FAIL].sens == NULL);
    /* STUCK: from its warm start it stalled, then solved cold (both solves' iterations);
     * without the retry it would be a failure */
    ck_assert_int_eq(r->rec[STUCK].status, FOLD_OK);
    ck_assert_int_eq(r->rec[STUCK].start, FOLD_BATCH_START_COLD);
    ck_assert_int_eq(r->rec[STUCK].warm_from, -1);
    ck_assert_int_eq(r->rec[STUCK].iterations, STUCK_ITER + cold_iterations(&f, p, STUCK));
    for (fold_int i = 0; i < n; i++) {
        ck_assert_int_eq(r->count[i], 1);
        /* nobody starts from a scenario that did not converge */
        if (r->rec[i].start == FOLD_BATCH_START_SCENARIO) {
            fold_int from = r->rec[i].warm_from;
            ck_assert(from != CRASH && from != SLOW && from != FAIL);
        }
    }
    for (int w = 0; w < 2; w++)
        collected_free(&c[w]);
    free(p);
    fold_batch_model_dispose(&f.model);
    fold_problem_free(f.prob);
}
END_TEST

/* Resume: scenarios flagged recorded are not recorded again, the others get exactly the
 * records of the uninterrupted run (their chains re-solved silently up to them), also after
 * a crash that ended a chain. */
START_TEST(resume_flags)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_VJP);
    misbehave mb;
    fold_batch_model m = misbehaving(&f.model, &mb, false);
    const fold_int n = 20;
    double *p = pqp_params(n, 17);
    unsigned char done[20];
    fold_batch *b = start(&m, 2, 5, FOLD_BATCH_WARM_CHAIN);
    collected full, part;
    collected_init(&full, n, &m);
    run(b, n, p, NULL, &full, NULL);
    for (fold_int i = 0; i < n; i++)
        done[i] =
            i < 11 ? (i == CRASH ? FOLD_BATCH_RECORDED_END : FOLD_BATCH_RECORDED) : FOLD_BATCH_TODO;
    collected_init(&part, n, &m);
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    run(b, n, p, done, &part, &info);
    ck_assert_int_eq(info.n_recorded, n - 11);
    ck_assert_int_eq(info.n_crashed, 0);
    ck_assert_int_gt(info.n_silent, 0);
    for (fold_int i = 0; i < n; i++) {
        ck_assert_int_eq(part.count[i], i < 11 ? 0 : 1);
        if (i < 11) continue;
        ck_assert_int_eq(part.rec[i].start, full.rec[i].start);
        ck_assert_int_eq(part.rec[i].warm_from, full.rec[i].warm_from);
        ck_assert_int_eq(part.rec[i].iterations, full.rec[i].iterations);
        ck_assert(!memcmp(part.out + i * FOLD_PQP_N, full.out + i * FOLD_PQP_N,
                          FOLD_PQP_N * sizeof(double)));
        ck_assert(!memcmp(part.sens + i * NP, full.sens + i * NP, NP * sizeof(double)));
    }
    fold_batch_free(b);
    collected_free(&full);
    collected_free(&part);
    free(p);
    fold_batch_model_dispose(&f.model);
    fold_problem_free(f.prob);
}
END_TEST

static int params_nan(fold_int i, double *p, void *ud)
{
    for (int j = 0; j < NP; j++)
        p[j] = 1;
    if (i == 3) p[2] = NAN;
    return i == 6 ? -7 : 0;
}

static int stop_at_two(const fold_batch_record *r, void *ud)
{
    return ++*(int *)ud >= 2;
}

static fold_status fail_create(void *ud, void **model, char *message)
{
    snprintf(message, FOLD_BATCH_MESSAGE_LEN, "no model here");
    return FOLD_ERR_ARGUMENT;
}

/* Bad arguments and inputs: named errors, nothing run. */
START_TEST(bad_input)
{
    fixture f;
    fixture_init(&f, FOLD_BATCH_SENS_VJP);
    fold_batch_options opt;
    fold_batch *b = (fold_batch *)&opt;
    fold_batch_default_options(&opt);
    fold_batch_model m = f.model;
    m.solve = NULL;
    ck_assert_status(fold_batch_create(&m, NULL, &b), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("model.solve");
    ck_assert_ptr_null(b);
    opt.chunk_size = -1;
    ck_assert_status(fold_batch_create(&f.model, &opt, &b), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("chunk_size");
    fold_batch_default_options(&opt);
    opt.scenario_timeout_s = NAN;
    ck_assert_status(fold_batch_create(&f.model, &opt, &b), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("scenario_timeout_s");
    fold_batch_default_options(&opt);
    opt.n_workers = -1;
    ck_assert_status(fold_batch_create(&f.model, &opt, &b), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("n_workers");
    /* problem model spec */
    fold_int bad_x[1] = {FOLD_PQP_N};
    fold_batch_problem_spec spec = {.problem = f.prob, .n_out = 1, .out_x = bad_x};
    ck_assert_status(fold_batch_problem_model(&spec, &m), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("out_x");
    spec = (fold_batch_problem_spec){.problem = f.prob, .sens = FOLD_BATCH_SENS_VJP};
    ck_assert_status(fold_batch_problem_model(&spec, &m), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("ybar");
    /* run: NaN parameters, a failing params callback, a record callback that stops */
    b = start(&f.model, 2, 4, FOLD_BATCH_WARM_NEAREST);
    fold_batch_job job = {.n_scenarios = 5, .params = params_nan};
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_ERR_NONFINITE);
    ck_assert_error_mentions("scenario 3: p[2]");
    job.n_scenarios = 8;
    job.params = params_nan;
    unsigned char done[8] = {0, 0, 0, 1, 0, 0, 0, 0};
    job.done = done;
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_ERR_NONFINITE);
    done[3] = 7;
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("done[3]");
    job.done = NULL;
    job.n_scenarios = -1;
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_ERR_DIMENSION);
    double *p = pqp_params(12, 3);
    int seen = 0;
    job = (fold_batch_job){
        .n_scenarios = 12, .params_array = p, .on_record = stop_at_two, .record_data = &seen};
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_ERR_CALLBACK);
    ck_assert_error_mentions("on_record");
    /* the batch still works after a stopped run */
    collected c;
    collected_init(&c, 12, &f.model);
    fold_batch_info info = FOLD_BATCH_INFO_INIT;
    run(b, 12, p, NULL, &c, &info);
    ck_assert_int_eq(info.n_ok, 12);
    fold_batch_free(b);
    /* a model the workers cannot build: the run says why */
    m = f.model;
    m.create = fail_create;
    m.dispose = NULL;
    b = start(&m, 2, 4, FOLD_BATCH_WARM_NEAREST);
    job = (fold_batch_job){.n_scenarios = 3, .params_array = p};
    ck_assert_status(fold_batch_run(b, &job, NULL), FOLD_ERR_ARGUMENT);
    ck_assert_error_mentions("no model here");
    fold_batch_free(b);
    collected_free(&c);
    free(p);
    fold_batch_model_dispose(&f.model);
    fold_problem_free(f.prob);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, problem_model_closed_form);
    tcase_add_test(tc, auto_chunk_size);
    tcase_add_test(tc, same_records_any_workers);
    tcase_add_test(tc, same_as_serial_run);
    tcase_add_test(tc, warm_starts_save_iterations);
    tcase_add_test(tc, keep_mode_backward);
    tcase_add_test(tc, failures_isolated);
    tcase_add_test(tc, resume_flags);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
