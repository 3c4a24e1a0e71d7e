/* Iterative backward methods of the KKT fold against the direct one on AC-OPF of synthetic
 * grids (doc/benchmarks.md "KKT fold, iterative methods", doc/math.md §3.9): one VJP of the
 * objective per method x preconditioner at one solution, then a batch of load perturbations
 * where precond nearby reuses the first factorization. Accuracy: relative difference to a
 * tight UMFPACK solve and the error of the envelope identity (eq. 3.20).
 * Usage: bench_kkt_iterative [buses ...] (default 100 500 2000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/random.h"
#include "foldopt/acopf.h"

#define N_BATCH 8

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *method_names[] = {"direct", "lfpi", "gmres", "minres", "bicgstab", "cg"};
static const char *pc_names[] = {"none", "jacobi", "block", "exact", "nearby"};

typedef struct config {
    int method, precond, factorization;
} config;

static const config configs[] = {
    {FOLD_BACKWARD_DIRECT, FOLD_PRECOND_EXACT, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_DIRECT, FOLD_PRECOND_EXACT, FOLD_FACTOR_UMFPACK},
    {FOLD_BACKWARD_LFPI, FOLD_PRECOND_EXACT, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_GMRES, FOLD_PRECOND_EXACT, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_EXACT, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_GMRES, FOLD_PRECOND_BLOCK, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_MINRES, FOLD_PRECOND_BLOCK, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_BLOCK, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_GMRES, FOLD_PRECOND_JACOBI, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_MINRES, FOLD_PRECOND_JACOBI, FOLD_FACTOR_AUTO},
    {FOLD_BACKWARD_GMRES, FOLD_PRECOND_NONE, FOLD_FACTOR_AUTO},
};
#define N_CONFIGS ((int)(sizeof configs / sizeof configs[0]))

static double relerr(const double *a, const double *b, fold_int n)
{
    double e = 0, s = 1e-300;
    for (fold_int i = 0; i < n; i++) {
        e = fmax(e, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return e / s;
}

static void settings_for(fold_settings *s, int form, const config *c)
{
    fold_settings_default(s);
    s->backward.kkt_form = form;
    s->backward.method = c->method;
    s->precond.kind = c->precond;
    s->backward.factorization = c->factorization;
    s->backward.max_iter = 2000;
}

/* VJP of the objective at the stored solution: seconds, result in pbar. */
static fold_status vjp(fold_solver *sv, const fold_acopf *m, fold_int n, fold_int np, double *pbar,
                       fold_backward_info *bi, double *sec)
{
    double *x = malloc((size_t)n * sizeof *x), *p = malloc((size_t)np * sizeof *p);
    double *xbar = malloc((size_t)n * sizeof *xbar);
    fold_solver_solution(sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(sv, p);
    fold_acopf_eval_grad_f(m, x, p, xbar);
    double t0 = now();
    fold_status st = fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, bi);
    *sec = now() - t0;
    free(x);
    free(p);
    free(xbar);
    return st;
}

/* Envelope identity (doc/math.md eq. 3.20): pbar + df/dp equals the value gradient; the
 * relative error measures the accuracy of pbar independently of any reference solve. */
static double envelope_err(fold_solver *sv, const fold_acopf *m, fold_int n, fold_int np,
                           const double *pbar)
{
    double *x = malloc((size_t)n * sizeof *x), *p = malloc((size_t)np * sizeof *p);
    double *gp = malloc((size_t)np * sizeof *gp), *vg = malloc((size_t)np * sizeof *vg);
    fold_solver_solution(sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(sv, p);
    fold_acopf_eval_grad_f_p(m, x, p, gp);
    fold_value_gradient(sv, vg);
    for (fold_int k = 0; k < np; k++)
        gp[k] += pbar[k];
    double e = relerr(gp, vg, np);
    free(x);
    free(p);
    free(gp);
    free(vg);
    return e;
}

/* Loads pd, qd scaled by 1 + 0.02 u, u uniform in [-1, 1] (deterministic). */
static void perturb(const double *p0, double *p, const fold_acopf_layout *L, unsigned seed)
{
    uint64_t st = 88172645463325252ULL + seed;
    memcpy(p, p0, (size_t)L->np * sizeof *p);
    for (fold_int i = L->p_pd; i < L->p_qd + (L->p_qd - L->p_pd); i++) {
        p[i] *= 1.0 + 0.02 * (2.0 * rng_unit(rng_xorshift64(&st)) - 1.0);
    }
}

static void bench_grid(fold_int buses)
{
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    fold_solver *sv = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_settings s;
    int form = FOLD_KKT_ACTIVE;
    if (fold_acopf_gen_grid(buses, 1, &cs) != FOLD_OK || fold_acopf_create(cs, &m) != FOLD_OK) {
        printf("grid %lld: %s\n", (long long)buses, fold_last_error());
        fold_acopf_case_free(cs);
        return;
    }
    fold_acopf_layout L = fold_acopf_get_layout(m);
    double *ref = malloc((size_t)L.np * sizeof *ref), *pbar = malloc((size_t)L.np * sizeof *pbar);
    double *p0 = malloc((size_t)L.np * sizeof *p0), *p = malloc((size_t)L.np * sizeof *p);
    double sec;
    settings_for(&s, form, &configs[1]);
    s.backward.tol = 1e-14;
    s.backward.refine_steps = 10;
    fold_solver_create(fold_acopf_problem(m), &s, &sv);
    if (fold_solve(sv, NULL, &fi) < 0) {
        printf("grid %lld: forward failed\n", (long long)buses);
        goto done;
    }
    fold_solver_params(sv, p0);
    if (vjp(sv, m, L.n, L.np, ref, &bi, &sec) < 0) { /* singular active form: barrier */
        form = FOLD_KKT_BARRIER;
        s.backward.kkt_form = form;
        fold_solver_update_settings(sv, &s);
        vjp(sv, m, L.n, L.np, ref, &bi, &sec);
    }
    printf("# %lld buses, %s form, KKT order %lld, reference: UMFPACK, tol 1e-14\n",
           (long long)buses, form ? "barrier" : "active", (long long)bi.dim);
    printf("%-9s %-7s %-8s %10s %10s %7s %9s %9s %s\n", "method", "precond", "factor", "1st vjp s",
           "2nd vjp s", "iters", "rel diff", "envelope", "status");
    for (int c = 0; c < N_CONFIGS; c++) {
        double sec2;
        fold_backward_info bi2 = FOLD_BACKWARD_INFO_INIT;
        settings_for(&s, form, &configs[c]);
        fold_solver_update_settings(sv, &s); /* discards the backward state */
        fold_status st = vjp(sv, m, L.n, L.np, pbar, &bi, &sec);
        fold_status st2 = vjp(sv, m, L.n, L.np, pbar, &bi2, &sec2);
        printf("%-9s %-7s %-8s %10.4f %10.4f %7lld %9.1e %9.1e %s\n",
               method_names[configs[c].method],
               configs[c].method ? pc_names[configs[c].precond] : "-",
               configs[c].factorization ? "umfpack" : "auto", sec, sec2, (long long)bi.iterations,
               st >= 0 ? relerr(pbar, ref, L.np) : NAN,
               st >= 0 ? envelope_err(sv, m, L.n, L.np, pbar) : NAN,
               st < 0    ? fold_status_name(st)
               : st2 < 0 ? fold_status_name(st2)
                         : "ok");
    }
    /* Batch: N_BATCH load perturbations, warm-started re-solves; direct refactors, nearby
     * keeps the factorization of p0. */
    printf("# batch of %d load perturbations (+-2%%): mean seconds per vjp, mean iterations, "
           "largest rel diff vs direct UMFPACK, largest envelope error, refactorizations\n",
           N_BATCH);
    const config batch[] = {{FOLD_BACKWARD_DIRECT, FOLD_PRECOND_EXACT, FOLD_FACTOR_UMFPACK},
                            {FOLD_BACKWARD_DIRECT, FOLD_PRECOND_EXACT, FOLD_FACTOR_AUTO},
                            {FOLD_BACKWARD_GMRES, FOLD_PRECOND_NEARBY, FOLD_FACTOR_AUTO},
                            {FOLD_BACKWARD_BICGSTAB, FOLD_PRECOND_NEARBY, FOLD_FACTOR_AUTO},
                            {FOLD_BACKWARD_LFPI, FOLD_PRECOND_NEARBY, FOLD_FACTOR_AUTO}};
    double **dref = calloc(N_BATCH, sizeof *dref);
    for (int c = 0; c < 5; c++) {
        double tsum = 0, emax = 0, envmax = 0;
        fold_int isum = 0, refactors = 0, fails = 0;
        settings_for(&s, form, &batch[c]);
        s.forward.warm_start = true;
        fold_solver_update_settings(sv, &s);
        fold_solve(sv, p0, &fi);
        vjp(sv, m, L.n, L.np, pbar, &bi, &sec); /* factorization at p0 */
        for (int k = 0; k < N_BATCH; k++) {
            perturb(p0, p, &L, (unsigned)k);
            if (fold_solve(sv, p, &fi) < 0) {
                fails++;
                continue;
            }
            fold_status st = vjp(sv, m, L.n, L.np, pbar, &bi, &sec);
            if (st < 0) {
                fails++;
                continue;
            }
            tsum += sec;
            isum += bi.iterations;
            refactors += !bi.reused_factorization;
            envmax = fmax(envmax, envelope_err(sv, m, L.n, L.np, pbar));
            if (c == 0) {
                dref[k] = malloc((size_t)L.np * sizeof(double));
                memcpy(dref[k], pbar, (size_t)L.np * sizeof(double));
            } else if (dref[k]) {
                emax = fmax(emax, relerr(pbar, dref[k], L.np));
            }
        }
        int ok = N_BATCH - (int)fails;
        printf("%-9s %-7s %-8s %10.4f %7.1f %9.1e %9.1e %3lld refactorizations, %lld failed\n",
               method_names[batch[c].method], batch[c].method ? "nearby" : "-",
               batch[c].factorization ? "umfpack" : "auto", ok ? tsum / ok : NAN,
               ok ? (double)isum / ok : NAN, emax, envmax, (long long)refactors, (long long)fails);
    }
    for (int k = 0; k < N_BATCH; k++)
        free(dref[k]);
    free(dref);
    printf("\n");
done:
    free(ref);
    free(pbar);
    free(p0);
    free(p);
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        for (int a = 1; a < argc; a++)
            bench_grid((fold_int)atof(argv[a]));
    else
        for (fold_int b = 100; b <= 2000; b *= (b == 100 ? 5 : 4))
            bench_grid(b);
    return 0;
}
