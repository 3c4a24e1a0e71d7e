/* Stress of the public API (doc/testing.md, "Stress"): hundreds of create / solve /
 * differentiate / free cycles on two threads at once, each with its own problems and
 * solvers (doc/api/solver.md "Thread safety": Ipopt runs are serialized, the rest runs
 * concurrently). Every cycle's results must be bit-identical to a single-threaded reference,
 * and the heap in use must come back to its level after the threads end (glibc mallinfo2;
 * under AddressSanitizer, LeakSanitizer checks leaks instead). */
#include <malloc.h>
#include <pthread.h>

#include "foldopt/acopf.h"
#include "basic/basic.h"
#include "test_support.h"

enum { CYCLES_PER_THREAD = 200, WARMUP_CYCLES = 10, MAX_OUT = 4096 };

/* Everything one cycle computes, compared bit for bit. */
typedef struct cycle_out {
    size_t len;
    bool overflow; /* more than MAX_OUT values: never equal to a reference */
    double v[MAX_OUT];
} cycle_out;

static void put(cycle_out *o, const double *v, fold_int n)
{
    if (o->len + (size_t)n > MAX_OUT) {
        o->overflow = true;
        return;
    }
    memcpy(o->v + o->len, v, (size_t)n * sizeof *v);
    o->len += (size_t)n;
}

/* Solve, JVP, VJP, full Jacobian of x and the optimal-value gradient of prob, then free the
 * solver. Returns the first failing status (FOLD_OK when all succeed). */
static fold_status differentiate(const fold_problem *prob, cycle_out *o)
{
    fold_int n, m, np;
    fold_problem_dims(prob, &n, &m, &np);
    double *buf = calloc((size_t)(4 * n + m + 4 * np + n * np + 8), sizeof *buf);
    double *x = buf, *lam = x + n, *zl = lam + m, *zu = zl + n, *dx = zu + n, *dp = dx + n;
    double *pbar = dp + np, *grad = pbar + np, *J = grad + np, *xbar = J + n * np, obj = 0;
    fold_solver *s = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_status st;
    for (fold_int j = 0; j < np; j++)
        dp[j] = 1.0 / (double)(j + 1);
    for (fold_int i = 0; i < n; i++)
        xbar[i] = (i % 3) - 1.0;
    if ((st = fold_solver_create(prob, NULL, &s)) == FOLD_OK &&
        (st = fold_solve(s, NULL, &fi)) == FOLD_OK &&
        (st = fold_solver_solution(s, x, lam, zl, zu, &obj)) == FOLD_OK &&
        (st = fold_jvp(s, dp, &(fold_dz){.x = dx}, &bi)) >= 0 &&
        (st = fold_vjp(s, &(fold_zbar){.x = xbar}, pbar, &bi)) >= 0 &&
        (st = fold_jacobian(s, &(fold_jacobian_sel){.of = FOLD_BLOCK_X, .n_rows = n, .n_cols = np},
                            J, &bi)) >= 0 &&
        (st = fold_value_gradient(s, grad)) >= 0) {
        double iters = (double)fi.iterations;
        put(o, x, n);
        put(o, lam, m);
        put(o, zl, n);
        put(o, zu, n);
        put(o, &obj, 1);
        put(o, &iters, 1);
        put(o, dx, n);
        put(o, pbar, np);
        put(o, J, n * np);
        put(o, grad, np);
        st = FOLD_OK;
    }
    fold_solver_free(s);
    free(buf);
    return st;
}

/* Cycle kind 0: HS071 with parameters; kind 1: the AC-OPF of a 6-bus synthetic grid. Each
 * builds its problem from scratch and frees everything. */
static fold_status cycle(int kind, cycle_out *o)
{
    fold_status st;
    o->len = 0;
    o->overflow = false;
    if (kind == 0) {
        fold_problem *prob = NULL;
        if ((st = fold_hs071_create(&prob)) == FOLD_OK) st = differentiate(prob, o);
        fold_problem_free(prob);
        return st;
    }
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    if ((st = fold_acopf_gen_grid(6, 2, &cs)) == FOLD_OK &&
        (st = fold_acopf_create(cs, &m)) == FOLD_OK)
        st = differentiate(fold_acopf_problem(m), o);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
    return st;
}

static cycle_out reference[2];

typedef struct worker {
    int cycles, first_kind;
    int n_done, n_failed, n_different;
    fold_status first_error;
    char error[256];
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    cycle_out *o = malloc(sizeof *o);
    for (int c = 0; o && c < w->cycles; c++) {
        int kind = (w->first_kind + c) % 2;
        fold_status st = cycle(kind, o);
        if (st != FOLD_OK) {
            if (!w->n_failed++) {
                w->first_error = st;
                snprintf(w->error, sizeof w->error, "%s", fold_last_error());
            }
        } else if (o->overflow || o->len != reference[kind].len ||
                   memcmp(o->v, reference[kind].v, o->len * sizeof *o->v) != 0) {
            w->n_different++;
        }
        w->n_done++;
    }
    free(o);
    return NULL;
}

/* Two threads, each `cycles` cycles alternating the kinds (starting on different ones). */
static void run_pair(int cycles, worker w[2])
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (worker){.cycles = cycles, .first_kind = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(w[i].n_failed == 0, "thread %d: %d cycles failed, first %s: %s", i,
                      w[i].n_failed, fold_status_name(w[i].first_error), w[i].error);
        ck_assert_msg(w[i].n_different == 0,
                      "thread %d: %d of %d cycles differ from the "
                      "single-threaded reference",
                      i, w[i].n_different, w[i].n_done);
        ck_assert_int_eq(w[i].n_done, cycles);
    }
}

static size_t heap_in_use(void)
{
    malloc_trim(0);
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_MEASURED 0
#else
#define HEAP_MEASURED 1
#endif

START_TEST(two_threads_many_cycles)
{
    worker w[2];
    for (int kind = 0; kind < 2; kind++) {
        ck_assert_status(cycle(kind, &reference[kind]), FOLD_OK);
        ck_assert_int_gt(reference[kind].len, 10);
        ck_assert(!reference[kind].overflow);
    }
    run_pair(WARMUP_CYCLES, w); /* first-use allocations of Ipopt, MUMPS, BLAS */
    size_t before = heap_in_use();
    run_pair(CYCLES_PER_THREAD, w);
    size_t after = heap_in_use();
    printf("# %d cycles on 2 threads, results bit-identical; heap in use %zu -> %zu bytes%s\n",
           2 * CYCLES_PER_THREAD, before, after, HEAP_MEASURED ? "" : " (not measured: ASan)");
    /* A leak of 8 bytes per cycle would add 3200 bytes. */
    if (HEAP_MEASURED)
        ck_assert_msg(after <= before + 1024,
                      "heap in use grew from %zu to %zu bytes over %d "
                      "cycles",
                      before, after, 2 * CYCLES_PER_THREAD);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress");
    TCase *tc = tcase_create("stress");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, two_threads_many_cycles);
    suite_add_tcase(s, tc);
    return fold_test_run(s);
}
