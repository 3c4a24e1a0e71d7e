/* AC-OPF benchmark over the PGLib cases present (baseline_ac.tsv order, MIN < buses <= MAX;
 * MAX = argv[1] or FOLDOPT_BENCH_MAX_BUSES, default 3000; MIN = argv[2], default 0): forward
 * seconds and Ipopt iterations, callback share, one VJP of the objective, the full
 * d pg / d pd and d vm / d pd Jacobians, their ratios to the forward time (wall clock, then
 * CPU time of the process), the envelope error of the VJP (LMP identity), peak memory, the
 * 1-minute load average and the KKT form used. scripts/bench-opf.sh runs it per case.
 * Experiments: BENCH_OPF_SET="name=value,ipopt:name=value,..." changes the settings (ipopt:
 * passes an Ipopt option), BENCH_OPF_VARIANTS=
 * "a=1,b=2;c=3" times the backward again with other settings at the same solution,
 * BENCH_OPF_DETAIL=1 prints the phases (stderr), BENCH_OPF_VM=0 leaves d vm / d pd out,
 * BENCH_OPF_PG=0 d pg / d pd.
 * doc/benchmarks.md "AC-OPF". `bench_opf --grid BUSES [SEED [COLS]]`: the same for one synthetic
 * grid, the Jacobians over COLS loads (default 100); doc/benchmarks.md "Synthetic grids at scale".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "foldopt.h"
#include "foldopt/acopf.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of this process (all its threads). */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* 1-minute load average (the machine may be shared), -1 when unknown. */
static double load1(void)
{
    double l = -1;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp) {
        if (fscanf(fp, "%lf", &l) != 1) l = -1;
        fclose(fp);
    }
    return l;
}

/* Append to why the NaN entries of a gradient w.r.t. all parameters (not unique, eq. 4.11 of
 * doc/math.md), by block: the pd block are the LMPs; qd, c1 and c2 are counted apart. */
static void count_not_unique(const double *pbar, const fold_acopf_layout *L, fold_int nb,
                             fold_int ng, char *why, size_t len)
{
    fold_int lmp = 0, qd = 0, cost = 0;
    for (fold_int i = 0; i < nb; i++) {
        lmp += isnan(pbar[L->p_pd + i]);
        qd += isnan(pbar[L->p_qd + i]);
    }
    for (fold_int k = 0; k < ng; k++)
        cost += isnan(pbar[L->p_c1 + k]) + isnan(pbar[L->p_c2 + k]);
    if (lmp > 0) snprintf(why + strlen(why), len - strlen(why), "(%ld LMPs not unique)", (long)lmp);
    if (qd > 0)
        snprintf(why + strlen(why), len - strlen(why), "(%ld qd gradients not unique)", (long)qd);
    if (cost > 0)
        snprintf(why + strlen(why), len - strlen(why), "(%ld c1/c2 gradients not unique)",
                 (long)cost);
}

/* One timed Jacobian of x rows w.r.t. parameter cols into J (wall and CPU seconds); when
 * the active-set form refuses it (e.g. generators at one bus with equal linear costs: their
 * pg split, hence reverse mode on one pg, is not unique, doc/acopf.md §5), the barrier form
 * as `foldopt opf` does, timed with the refused attempt; what happened is appended to why. */
static fold_status timed_jacobian(fold_solver *sv, fold_settings *s, fold_int n_rows,
                                  const fold_int *rows, fold_int n_cols, const fold_int *cols,
                                  double *J, fold_backward_info *bi, const char *label, char *why,
                                  size_t len, double *wall, double *cpu)
{
    fold_jacobian_sel sel = {
        .of = FOLD_BLOCK_X, .n_rows = n_rows, .rows = rows, .n_cols = n_cols, .cols = cols};
    double t0 = now(), c0 = cpu_now();
    fold_status st = fold_jacobian(sv, &sel, J, bi);
    if (st < 0 && s->backward.kkt_form == FOLD_KKT_ACTIVE) {
        snprintf(why + strlen(why), len - strlen(why), "(%s active: %s, barrier)", label,
                 fold_status_name(st));
        s->backward.kkt_form = FOLD_KKT_BARRIER;
        fold_solver_update_settings(sv, s);
        st = fold_jacobian(sv, &sel, J, bi);
    }
    *wall = now() - t0;
    *cpu = cpu_now() - c0;
    if (st >= 0 && bi->n_not_unique > 0)
        snprintf(why + strlen(why), len - strlen(why), "(%s: %ld entries not unique)", label,
                 (long)bi->n_not_unique);
    return st;
}

/* Measure one case (freed here): baseline objective NAN when unknown; the Jacobian is
 * d pg / d pd for every bus (n_cols 0) or for n_cols buses spread over the bus order. */
static void bench_loaded(fold_acopf_case *cs, const char *name, double baseline, fold_int n_cols)
{
    fold_acopf *m = NULL;
    fold_solver *sv = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    if (fold_acopf_create(cs, &m) != FOLD_OK) {
        printf("%-30s FAILED: %s\n", name, fold_last_error());
        fold_acopf_case_free(cs);
        return;
    }
    fold_settings s;
    fold_settings_default(&s);
    /* The forward of a call with derivatives, as foldopt opf --wrt runs it (cmd_opf.c): the
     * tightening re-solves inside the solve, counted with it. (fold_solve_finish would give
     * the info of the last model's solver only, without a first solve that the AC-OPF layer
     * re-solved with flow variables.) */
    s.forward.resolve_when = FOLD_RESOLVE_AT_SOLVE;
    /* BENCH_OPF_SET="name=value,name=value": settings changed for experiments */
    const char *extra = getenv("BENCH_OPF_SET");
    char buf[512];
    const char *ip_list[65] = {NULL};
    int n_ip = 0;
    if (extra) {
        char *save = NULL;
        snprintf(buf, sizeof buf, "%s", extra);
        for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                /* "ipopt:name=value" passes an Ipopt option through */
                bool ip = strncmp(kv, "ipopt:", 6) == 0;
                if (ip && n_ip + 2 < (int)(sizeof ip_list / sizeof *ip_list)) {
                    ip_list[n_ip++] = kv + 6; /* into buf, which outlives the solve */
                    ip_list[n_ip++] = eq + 1;
                } else if (!ip && fold_settings_set(&s, kv, eq + 1) != FOLD_OK) {
                    fprintf(stderr, "BENCH_OPF_SET: %s\n", fold_last_error());
                }
            }
        }
    }
    fold_acopf_solve_info si = FOLD_ACOPF_SOLVE_INFO_INIT;
    fold_acopf_solve_options so;
    fold_acopf_default_solve_options(&so);
    so.ipopt_options = ip_list;
    double fwd_cpu = cpu_now();
    fold_status st = fold_acopf_solve(&m, &s, NULL, &so, &sv, &fi, &si);
    fwd_cpu = cpu_now() - fwd_cpu;
    fold_acopf_layout L = fold_acopf_get_layout(m);
    if (si.rounds > 0) /* doc/acopf.md §2.2 */
        fprintf(stderr,
                "%s: first solve %s after %ld iterations; %d re-solve(s), flow "
                "variables added on %ld branches%s\n",
                name, fold_forward_status_string(si.first_status), (long)si.first_iterations,
                si.rounds, (long)si.n_flow_added, si.failed ? " (the last re-solve failed)" : "");
    double rel = fabs(fi.objective - baseline) / baseline;
    if (st < 0) {
        printf("%-30s %6ld  forward %s after %ld iterations (%.1f s)\n", name, (long)cs->n_bus,
               fold_forward_status_string(fi.status), (long)fi.iterations, fi.total_s);
        goto done;
    }
    double *x = malloc((size_t)L.n * sizeof(double)), *p = malloc((size_t)L.np * sizeof(double));
    double *xbar = malloc((size_t)L.n * sizeof(double));
    double *pbar = malloc((size_t)L.np * sizeof(double));
    fold_solver_solution(sv, x, NULL, NULL, NULL, NULL);
    fold_solver_params(sv, p);
    fold_acopf_eval_grad_f(m, x, p, xbar);
    double t0 = now(), c0 = cpu_now();
    fold_status vst = fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &bi);
    const char *form = bi.kkt_form == FOLD_KKT_BARRIER ? "barrier"
                       : bi.singular_delta > 0         ? "active+reg"
                                                       : "active";
    char why[256] = "";
    /* dependent balance rows (doc/acopf.md §5), or entries of ambiguous sides (math.md §3.2) */
    if (vst >= 0 && (bi.n_not_unique > 0 || bi.n_uncertain > 0))
        count_not_unique(pbar, &L, cs->n_bus, cs->n_gen, why, sizeof why);
    if (vst < 0) {
        /* weakly active constraints (refused) or a singular active-set system that the
         * regularization cannot handle: the barrier form, as `foldopt opf` does
         * (doc/acopf.md §5). vjp_s includes the refused attempt. */
        snprintf(why, sizeof why, "(active: %s)", fold_status_name(vst));
        form = "barrier";
        s.backward.kkt_form = FOLD_KKT_BARRIER;
        fold_solver_update_settings(sv, &s);
        vst = fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &bi);
        if (vst >= 0 && (bi.n_not_unique > 0 || bi.n_uncertain > 0))
            count_not_unique(pbar, &L, cs->n_bus, cs->n_gen, why, sizeof why);
    }
    double vjp_s = now() - t0, vjp_cpu = cpu_now() - c0;
    if (getenv("BENCH_OPF_DETAIL"))
        fprintf(stderr,
                "%s: vjp assemble %.3f analyze %.3f factor %.3f solve %.3f total %.3f "
                "order %ld factor_nnz %ld rcond %.2g delta %.2g\n",
                name, bi.assemble_s, bi.analyze_s, bi.factor_s, bi.solve_s, bi.total_s,
                (long)bi.dim, (long)bi.factor_nnz, bi.rcond, bi.singular_delta);
    /* Envelope check (LMP identity): the objective VJP w.r.t. pd equals the value gradient,
     * relative to the largest LMP, over the buses whose LMP is unique (the others are NaN). */
    double env = NAN;
    double *vg = malloc((size_t)L.np * sizeof(double));
    if (vst >= 0 && vg && fold_value_gradient(sv, vg) >= 0) {
        double num = 0, den = 0;
        for (fold_int i = 0; i < cs->n_bus; i++) {
            if (!isnan(pbar[L.p_pd + i])) num = fmax(num, fabs(pbar[L.p_pd + i] - vg[L.p_pd + i]));
            den = fmax(den, fabs(vg[L.p_pd + i]));
        }
        env = num / fmax(den, 1e-300);
    }
    free(vg);
    fold_int ng = cs->n_gen, nb = cs->n_bus, nc = n_cols > 0 && n_cols < nb ? n_cols : nb;
    fold_int *rows = malloc((size_t)ng * sizeof(fold_int));
    fold_int *cols = malloc((size_t)nc * sizeof(fold_int));
    double *J = malloc((size_t)ng * (size_t)nc * sizeof(double));
    for (fold_int k = 0; k < ng; k++)
        rows[k] = L.x_pg + k;
    for (fold_int j = 0; j < nc; j++)
        cols[j] = L.p_pd + (fold_int)((long long)j * nb / nc);
    double jac_s = NAN, jac_cpu = NAN, vm_s = NAN, vm_cpu = NAN;
    const char *want_pg = getenv("BENCH_OPF_PG");
    bool pg = !want_pg || strcmp(want_pg, "0") != 0;
    fold_status jst = !J    ? FOLD_ERR_MEMORY
                      : !pg ? FOLD_OK /* left out: NaN in the table */
                            : timed_jacobian(sv, &s, ng, rows, nc, cols, J, &bi, "jac", why,
                                             sizeof why, &jac_s, &jac_cpu);
    if (getenv("BENCH_OPF_DETAIL"))
        fprintf(stderr, "%s: jac factor %.3f solve %.3f total %.3f rhs %ld residual %.2g\n", name,
                bi.factor_s, bi.solve_s, bi.total_s, (long)bi.n_rhs, bi.residual);
    /* d vm / d pd over the same loads (forward mode: one solve per load); BENCH_OPF_VM=0
     * leaves it out */
    const char *want_vm = getenv("BENCH_OPF_VM");
    bool vm = !want_vm || strcmp(want_vm, "0") != 0;
    fold_int *vrows = vm ? malloc((size_t)nb * sizeof(fold_int)) : NULL;
    double *Jv = vm ? malloc((size_t)nb * (size_t)nc * sizeof(double)) : NULL;
    for (fold_int i = 0; vrows && i < nb; i++)
        vrows[i] = L.x_vm + i;
    fold_status vmst = !vm           ? FOLD_ERR_ARGUMENT
                       : vrows && Jv ? timed_jacobian(sv, &s, nb, vrows, nc, cols, Jv, &bi,
                                                      "jac vm", why, sizeof why, &vm_s, &vm_cpu)
                                     : FOLD_ERR_MEMORY;
    free(vrows);
    free(Jv);
    if (getenv("BENCH_OPF_DETAIL"))
        fprintf(stderr, "%s: jac factor %.3f solve %.3f total %.3f rhs %ld residual %.2g\n", name,
                bi.factor_s, bi.solve_s, bi.total_s, (long)bi.n_rhs, bi.residual);
    printf("%-30s %6ld %6ld %4ld %8.2f %6.1f%% %8.1e %9.4f %9.3f %7.2f%% %7.2f %9.3f %7.2f "
           "%7.2f%% %7.2f %7.2f %8.1e %8.0f %5.2f %s %s %s %s\n",
           name, (long)nb, (long)L.n, (long)fi.iterations, fi.total_s,
           100 * fi.callback_s / fmax(fi.solve_s, 1e-12), rel, vst >= 0 ? vjp_s : NAN,
           jst >= 0 ? jac_s : NAN, vst >= 0 ? 100 * vjp_s / fi.total_s : NAN,
           jst >= 0 ? jac_s / fi.total_s : NAN, vmst >= 0 ? vm_s : NAN,
           vmst >= 0 ? vm_s / fi.total_s : NAN, vst >= 0 ? 100 * vjp_cpu / fwd_cpu : NAN,
           jst >= 0 ? jac_cpu / fwd_cpu : NAN, vmst >= 0 ? vm_cpu / fwd_cpu : NAN, env, peak_mb(),
           load1(), fold_forward_status_string(fi.status), form, why,
           vst < 0          ? fold_status_name(vst)
           : jst < 0        ? fold_status_name(jst)
           : vm && vmst < 0 ? fold_status_name(vmst)
                            : "");
    fflush(stdout);
    /* BENCH_OPF_VARIANTS="a=1,b=2;c=3": backward-only timings of other settings at the same
     * solution (one line each on stderr) */
    const char *variants = getenv("BENCH_OPF_VARIANTS");
    if (variants && J) {
        char vbuf[1024], *vsave = NULL;
        snprintf(vbuf, sizeof vbuf, "%s", variants);
        for (char *v = strtok_r(vbuf, ";", &vsave); v; v = strtok_r(NULL, ";", &vsave)) {
            fold_settings vs;
            char kbuf[512], *ksave = NULL;
            fold_settings_default(&vs);
            snprintf(kbuf, sizeof kbuf, "%s", v);
            for (char *kv = strtok_r(kbuf, ",", &ksave); kv; kv = strtok_r(NULL, ",", &ksave)) {
                char *eq = strchr(kv, '=');
                if (eq) {
                    *eq = '\0';
                    fold_settings_set(&vs, kv, eq + 1);
                }
            }
            fold_solver_update_settings(sv, &vs);
            double v0 = now();
            fold_status a = fold_vjp(sv, &(fold_zbar){.x = xbar}, pbar, &bi);
            double v1 = now();
            double venv = NAN;
            double *vg2 = malloc((size_t)L.np * sizeof(double));
            if (a >= 0 && vg2 && fold_value_gradient(sv, vg2) >= 0) {
                double num = 0, den = 0;
                for (fold_int i = 0; i < nb; i++) {
                    num = fmax(num, fabs(pbar[L.p_pd + i] - vg2[L.p_pd + i]));
                    den = fmax(den, fabs(vg2[L.p_pd + i]));
                }
                venv = num / fmax(den, 1e-300);
            }
            free(vg2);
            fprintf(stderr, "%s [%s]: env %.2g delta %.2g residual %.2g rcond %.2g\n", name, v,
                    venv, bi.singular_delta, bi.residual, bi.rcond);
            double fct = bi.factor_s;
            long fnnz = (long)bi.factor_nnz;
            fold_status b = fold_jacobian(
                sv,
                &(fold_jacobian_sel){
                    .of = FOLD_BLOCK_X, .n_rows = ng, .rows = rows, .n_cols = nc, .cols = cols},
                J, &bi);
            double v2 = now();
            fprintf(stderr,
                    "%s [%s]: vjp %.3f s (factor %.3f, nnz %ld) %s, jac %.3f s "
                    "(solve %.3f, residual %.2g) %s, load %.2f\n",
                    name, v, v1 - v0, fct, fnnz, fold_status_name(a), v2 - v1, bi.solve_s,
                    bi.residual, fold_status_name(b), load1());
        }
    }
    free(x);
    free(p);
    free(xbar);
    free(pbar);
    free(rows);
    free(cols);
    free(J);
done:
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
}

static void bench_case(const char *dir, const char *name, double baseline)
{
    char path[1024];
    fold_acopf_case *cs = NULL;
    snprintf(path, sizeof path, "%s/%s.m", dir, name);
    FILE *probe = fopen(path, "r");
    if (!probe) return;
    fclose(probe);
    if (fold_acopf_case_read(path, &cs) != FOLD_OK) {
        printf("%-30s FAILED: %s\n", name, fold_last_error());
        return;
    }
    bench_loaded(cs, name, baseline, 0);
}

static void print_header(const char *jac, const char *vm)
{
    printf("%-30s %6s %6s %4s %8s %7s %8s %9s %9s %8s %7s %9s %7s %8s %7s %7s %8s %8s %5s %s\n",
           "case", "buses", "n", "iter", "fwd_s", "cb", "obj_rel", "vjp_s", jac, "vjp/fwd",
           "jac/fwd", vm, "vm/fwd", "vjp/cpu", "jac/cpu", "vm/cpu", "env_err", "peak_MB", "load",
           "status kkt");
}

/* --grid BUSES [SEED [COLS]]: a synthetic grid (fold_acopf_gen_grid; doc/acopf.md §4), its
 * Jacobian over COLS (default 100) loads; scripts/bench-gridscale.sh runs it per size. */
static int bench_grid(int argc, char **argv)
{
    long buses = argc > 2 ? atol(argv[2]) : 0, cols = argc > 4 ? atol(argv[4]) : 100;
    unsigned long long seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    fold_acopf_case *cs = NULL;
    double t0 = now();
    if (fold_acopf_gen_grid(buses, seed, &cs) != FOLD_OK) {
        printf("gen_grid %ld: %s\n", buses, fold_last_error());
        return 1;
    }
    fprintf(stderr, "%s: generated in %.2f s\n", cs->name, now() - t0);
    char jac[32], name[sizeof cs->name];
    snprintf(jac, sizeof jac, "jac%ld_s", cols);
    snprintf(name, sizeof name, "%s", cs->name);
    char vm[32];
    snprintf(vm, sizeof vm, "vm%ld_s", cols);
    print_header(jac, vm);
    bench_loaded(cs, name, NAN, cols);
    return 0;
}

int main(int argc, char **argv)
{
    /* As the CLI (src/cli/main.c): OpenBLAS on one thread unless the environment sizes it. */
    const char *blas = getenv("OPENBLAS_NUM_THREADS"), *omp = getenv("OMP_NUM_THREADS");
    if (!(blas && *blas) && !(omp && *omp)) (void)fold_set_library_threads(1);
    if (argc > 1 && !strcmp(argv[1], "--grid")) return bench_grid(argc, argv);
    const char *dir = getenv("FOLDOPT_PGLIB_DIR"), *env = getenv("FOLDOPT_BENCH_MAX_BUSES");
    long max_buses = argc > 1 ? atol(argv[1]) : env ? atol(env) : 3000;
    long min_buses = argc > 2 ? atol(argv[2]) : 0;
    char path[1024], line[512], name[256];
    long buses;
    double obj;
    snprintf(path, sizeof path, "%s/baseline_ac.tsv", dir ? dir : ".");
    FILE *fp = dir ? fopen(path, "r") : NULL;
    if (!fp) {
        printf("no PGLib data (FOLDOPT_PGLIB_DIR)\n");
        return 0;
    }
    print_header("jac_pg_s", "jac_vm_s");
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "%255s %ld %lf", name, &buses, &obj) == 3 && buses <= max_buses &&
            buses > min_buses)
            bench_case(dir, name, obj);
    fclose(fp);
    return 0;
}
