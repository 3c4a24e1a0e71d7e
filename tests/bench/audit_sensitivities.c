/* Audit of the sensitivities of one AC-OPF case at the default settings (scripts/
 * audit-sensitivities.sh runs it on every PGLib case, each in its own process; doc/
 * benchmarks.md "Audit"). Usage: audit_sensitivities CASE.m [SEED [COLUMNS]].
 * The case is solved as foldopt opf does (fold_acopf_solve, default settings, the active form
 * and the barrier form where the active form is refused). For COLUMNS (default 5) load buses
 * drawn with SEED (default 1), the columns of d (pg, qg, vm, va) / d pd and / d qd by
 * fold_jacobian (one call per output kind, as foldopt opf --of KIND), and the LMPs
 * (fold_value_onesided), are compared with central differences of re-solves at tol 1e-9 warm from
 * the solution (steps 0.05, 0.025 and 0.0125 MW or MVAr that must agree; the middle one is the
 * reference; an entry it calls wrong, flagged or not, is judged on the two smaller steps re-solved
 * at tol 1e-11, CONFIRM_TOL, which must agree; where those stop short of 1e-10 the middle step
 * re-solved at 1e-10 must agree too). Each entry is matched (within 1e-3 of the largest entry of
 * its output block in that column, that scale at least 1e-6 of the column's largest entry),
 * reported (NaN, or a trust item whose interval contains the reference), flagged with an interval
 * that misses the reference, or silently wrong (returned without a flag and off); entries whose
 * three differences disagree by more than half the tolerance, or whose re-solves do not end solved,
 * are counted apart (the reference is unreliable there: a kink within the step). One TSV line on
 * stdout (header with --header); on stderr one line per entry whose flagged interval misses the
 * reference or that is silently wrong, with the references. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foldopt/acopf.h"

#define TOL_REL 1e-3
#define STEP 0.05
#define NSTEP 6 /* steps +-STEP, +-STEP/2, +-STEP/4 */
#define REF_TOL 1e-9
/* The reference's own noise: re-solves at REF_TOL place x to about REF_X relative (at
 * least 1), differenced over the middle step (doc/benchmarks.md "Audit"). */
#define REF_X 1e-9
/* An entry the reference calls wrong is judged again on the middle step re-solved at this
 * tolerance: at REF_TOL the re-solves stop on the barrier path at a mu whose coupling can
 * bias a derivative through a bound held with a small multiplier (case500_goc: d qg(35) /
 * d pd(bus 31) 0.00665 at tol 1e-9, 0.0069476 at 1e-11, the fold's 0.0069479). */
#define CONFIRM_TOL 1e-11
#define CONFIRM_NEED 1e-10 /* where Ipopt stops short of CONFIRM_TOL: 10 times REF_TOL */
/* Re-solves at CONFIRM_TOL that converge (solved or acceptable) short of CONFIRM_NEED but
 * within REF_TOL confirm only when re-solves at MID_TOL give the same difference: the
 * derivative stopped moving with the barrier parameter between the two (case2737sop_k d
 * vm(2375) / d pd(bus 357): -2.0757e-5 at tol 1e-9, -2.09055e-5 at 1e-10 and -2.09064e-5
 * at 1e-11, whose re-solves end acceptable with a complementarity of 1.1e-10). */
#define MID_TOL 1e-10
/* A column whose re-solves cannot reach REF_TOL (Ipopt stops at its acceptable level with a
 * dual infeasibility that stalls above it: case1803_snem, case2853_sdet) is measured again
 * with LOOSE_STEP times the steps, accepting re-solves that reach LOOSE_NEED. Such a
 * reference can confirm an entry (the three steps must still agree) but not convict one:
 * an entry it does not match is counted unreliable, listed on stderr. */
#define LOOSE_STEP 10.0
#define LOOSE_NEED 1e-7
/* A kink seen at the three steps is confirmed at steps this many times smaller: a breakpoint
 * of the active set within the steps (case1803_snem, d / d pd(bus 592): bus 26 vm upper
 * becomes active 0.0455 MW away) gives a gap there too, which vanishes at smaller steps. */
#define KINK_SHRINK 20.0

typedef struct counts {
    long entries, matched, reported, miss, wrong, unreliable;
    long loose;   /* of matched: against a loose reference (LOOSE_STEP) */
    long kinks;   /* of wrong and miss: a kink at the solution (one-sided differences) */
    double worst; /* largest relative error of a silently wrong entry */
    char worst_what[160];
} counts;

/* Re-solve at p with p[k] += h warm from (x, lam, zl, zu): x into out (n), objective. */
static int resolve(fold_solver *ref, const double *p0, fold_int np, fold_int k, double h,
                   const double *x, const double *lam, const double *zl, const double *zu,
                   double need, double *out, double *obj, double *reached)
{
    double *p = malloc((size_t)np * sizeof *p);
    memcpy(p, p0, (size_t)np * sizeof *p);
    p[k] += h;
    fold_solver_set_start(ref, x, lam, zl, zu);
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    fold_status st = fold_solve(ref, p, &fi);
    free(p);
    /* a point solved to REF_TOL (directly or in stages); an acceptable point is none */
    if (st < 0 || !(fi.tol_reached <= need)) return -1;
    if (reached) *reached = fmax(*reached, fi.tol_reached);
    fold_solver_solution(ref, out, NULL, NULL, NULL, obj);
    return 0;
}

/* A kink of x[row] at the solution in the column's direction: the one-sided differences
 * against the unmoved re-solve x0 at steps h/4, h/2 and h (xs[4], xs[5]; xs[2], xs[3];
 * xs[0], xs[1]) differ by more than the tolerance, by a gap that stays the same at the three
 * steps (a smooth x gives a gap of x'' h, a bias of the re-solves one that falls like 1/h: no
 * sum of the two is the same at three steps). noise: the re-solves' own error in x. The
 * one-sided derivatives at the smallest step in *left, *right. */
static bool kink(double x0, double *const *xs, fold_int row, double h, double big, double noise,
                 double *left, double *right, double *gap4)
{
    double gap[3];
    for (int k = 0; k < 3; k++) { /* steps h, h/2, h/4 */
        double hk = h / (double)(1 << k);
        gap[k] = (xs[2 * k][row] - x0) / hk - (x0 - xs[2 * k + 1][row]) / hk;
    }
    *left = (x0 - xs[5][row]) / (h / 4);
    *right = (xs[4][row] - x0) / (h / 4);
    double t = TOL_REL * big + 2 * noise / (h / 4);
    *gap4 = gap[2];
    return fabs(gap[2]) > t && fabs(gap[1] - gap[2]) < 0.25 * fabs(gap[2]) &&
           fabs(gap[0] - gap[2]) < 0.25 * fabs(gap[2]);
}

/* Is entry (row, col) named by an entry item of the trust report? lo, hi: the interval of
 * its values (both classifications, or the value and its barrier-form limit), NaN when the
 * item gives none. */
static bool reported(const fold_trust_item *items, fold_int n_items, fold_int row, fold_int col,
                     double *lo, double *hi)
{
    for (fold_int k = 0; k < n_items; k++)
        if ((items[k].kind == FOLD_TRUST_UNCERTAIN || items[k].kind == FOLD_TRUST_BARRIER_ERROR ||
             items[k].kind == FOLD_TRUST_NOT_UNIQUE || items[k].kind == FOLD_TRUST_INCONSISTENT) &&
            (items[k].row == row || items[k].row < 0) &&
            (items[k].col == col || items[k].col < 0)) {
            if (items[k].kind == FOLD_TRUST_BARRIER_ERROR) {
                *lo = fmin(items[k].value, items[k].lo);
                *hi = fmax(items[k].value, items[k].hi);
            } else {
                *lo = items[k].lo;
                *hi = items[k].hi;
            }
            return true;
        }
    return false;
}

/* The columns cols of d x / d p for the rows of the 4 output kinds (block_start), one
 * fold_jacobian call per kind as foldopt opf --of KIND makes it (the fold judges an entry
 * against the largest of its call's column: the kind's), into J (column-major, all rows);
 * the trust items of the calls into *items (replaced). */
static fold_status jacobian_by_kind(fold_solver *sv, const fold_int *rows,
                                    const fold_int *block_start, fold_int nc, const fold_int *cols,
                                    double *J, fold_trust_item **items, fold_int *n_items)
{
    fold_int nr = block_start[4];
    fold_status worst = FOLD_OK;
    free(*items);
    *items = NULL;
    *n_items = 0;
    for (int b = 0; b < 4; b++) {
        fold_int nk = block_start[b + 1] - block_start[b];
        if (nk == 0) continue;
        double *Jk = malloc((size_t)(nk * nc) * sizeof *Jk);
        fold_status st = fold_jacobian(sv,
                                       &(fold_jacobian_sel){.of = FOLD_BLOCK_X,
                                                            .n_rows = nk,
                                                            .rows = rows + block_start[b],
                                                            .n_cols = nc,
                                                            .cols = cols},
                                       Jk, NULL);
        if (st < 0) {
            free(Jk);
            return st;
        }
        if (st > worst) worst = st;
        for (fold_int c = 0; c < nc; c++)
            memcpy(J + block_start[b] + c * nr, Jk + c * nk, (size_t)nk * sizeof *J);
        free(Jk);
        const fold_trust_item *it;
        fold_int ni;
        fold_trust_report(sv, &it, &ni);
        *items = realloc(*items, ((size_t)(*n_items + ni) + 1) * sizeof **items);
        memcpy(*items + *n_items, it, (size_t)ni * sizeof **items);
        for (fold_int k = 0; k < ni; k++) { /* they point into the solver: gone next call */
            (*items)[*n_items + k].name = NULL;
            (*items)[*n_items + k].affected = NULL;
        }
        *n_items += ni;
    }
    return worst;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--header")) {
        printf("case\tbuses\tform\tforward_s\tresolve_s\tresolves\tambiguous\tentries\tmatched"
               "\treported\tmiss\twrong\tunreliable\tlmp\tlmp_matched\tlmp_reported\tlmp_miss"
               "\tlmp_wrong\tlmp_unreliable"
               "\tworst_wrong\tworst_entry\tmatched_loose\tlmp_matched_loose\tkinks\n");
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: audit_sensitivities CASE.m [SEED [COLUMNS]] | --header\n");
        return 2;
    }
    unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    int ncol_bus = argc > 3 ? atoi(argv[3]) : 5;
    fold_acopf_case *cs = NULL;
    fold_acopf *m = NULL;
    fold_solver *sv = NULL, *ref = NULL, *tight = NULL, *mid = NULL;
    fold_forward_info fi = FOLD_FORWARD_INFO_INIT;
    if (fold_acopf_case_read(argv[1], &cs) || fold_acopf_create(cs, &m)) {
        fprintf(stderr, "%s\n", fold_last_error());
        return 2;
    }
    fold_settings set;
    fold_settings_default(&set);
    fold_status st = fold_acopf_solve(&m, &set, NULL, NULL, &sv, &fi, NULL);
    /* the tightening re-solves counted with the solve, as foldopt opf with derivatives */
    if (st == FOLD_OK) st = fold_solve_finish(sv, &fi);
    if (st < 0) {
        printf("%s\t%ld\tfailed\n", cs->name, (long)cs->n_bus);
        return 1;
    }
    const fold_acopf_case *mc = fold_acopf_get_case(m);
    fold_acopf_layout L = fold_acopf_get_layout(m);
    fold_int nb = mc->n_bus, ng = mc->n_gen, n = L.n, np = L.np;
    /* rows: pg, qg, vm, va (4 blocks); columns: pd and qd at the sampled load buses */
    fold_int nr = 2 * ng + 2 * nb, *rows = malloc((size_t)nr * sizeof *rows);
    fold_int block_start[5] = {0, ng, 2 * ng, 2 * ng + nb, nr};
    for (fold_int k = 0; k < ng; k++) {
        rows[k] = L.x_pg + k;
        rows[ng + k] = L.x_qg + k;
    }
    for (fold_int i = 0; i < nb; i++) {
        rows[2 * ng + i] = L.x_vm + i;
        rows[2 * ng + nb + i] = L.x_va + i;
    }
    fold_int *loads = malloc((size_t)nb * sizeof *loads), n_loads = 0;
    for (fold_int i = 0; i < nb; i++)
        if (mc->bus[i].pd != 0) loads[n_loads++] = i;
    srand((unsigned)seed);
    for (fold_int k = n_loads - 1; k > 0; k--) { /* seeded shuffle */
        fold_int j = rand() % (k + 1), t = loads[k];
        loads[k] = loads[j];
        loads[j] = t;
    }
    if (ncol_bus > n_loads) ncol_bus = (int)n_loads;
    fold_int nc = 2 * ncol_bus, *cols = malloc((size_t)nc * sizeof *cols);
    for (int c = 0; c < ncol_bus; c++) {
        cols[c] = L.p_pd + loads[c];
        cols[ncol_bus + c] = L.p_qd + loads[c];
    }
    double *J = malloc((size_t)(nr * nc) * sizeof *J);
    const char *form = "active";
    fold_trust_item *kept = NULL;
    fold_int n_items = 0;
    st = jacobian_by_kind(sv, rows, block_start, nc, cols, J, &kept, &n_items);
    if (st == FOLD_ERR_SINGULAR || st == FOLD_ERR_DEGENERATE) { /* as foldopt opf does */
        set.backward.kkt_form = FOLD_KKT_BARRIER;
        fold_solver_update_settings(sv, &set);
        form = "barrier";
        st = jacobian_by_kind(sv, rows, block_start, nc, cols, J, &kept, &n_items);
    }
    if (st < 0) {
        printf("%s\t%ld\t%s refused: %s\n", cs->name, (long)nb, form, fold_last_error());
        return 1;
    }
    double *left = malloc((size_t)np * sizeof *left), *right = malloc((size_t)np * sizeof *right);
    fold_value_onesided(sv, left, right);
    /* the reference */
    double *x = malloc((size_t)n * 8), *lam = malloc((size_t)L.m * 8), *zl = malloc((size_t)n * 8);
    double *zu = malloc((size_t)n * 8), *p0 = malloc((size_t)np * 8), f0;
    double *xs[NSTEP], *x0r = malloc((size_t)n * 8), f0r;
    for (int s = 0; s < NSTEP; s++)
        xs[s] = malloc((size_t)n * 8);
    fold_solver_solution(sv, x, lam, zl, zu, &f0);
    fold_solver_params(sv, p0);
    fold_settings rset;
    fold_settings_default(&rset);
    rset.forward.tol = REF_TOL;
    rset.active_set.ambiguity = FOLD_AMBIGUITY_IGNORE; /* the re-solves only give x */
    /* no bound relaxation in the reference's warm re-solves (foldopt keeps it in warm solves
     * that are not tightenings): its projection residual would bias x (doc/math.md §2.3) */
    fold_solver_create(fold_acopf_problem(m), &rset, &ref);
    fold_solver_set_ipopt_option(ref, "bound_relax_factor", "0");
    rset.forward.tol = CONFIRM_TOL;
    fold_solver_create(fold_acopf_problem(m), &rset, &tight);
    fold_solver_set_ipopt_option(tight, "bound_relax_factor", "0");
    rset.forward.tol = MID_TOL;
    fold_solver_create(fold_acopf_problem(m), &rset, &mid);
    double *xt[4], *xmid[2], *xk[2], ft, reached = 0;
    for (int s = 0; s < 2; s++)
        xk[s] = malloc((size_t)n * 8);
    for (int s = 0; s < 4; s++)
        xt[s] = malloc((size_t)n * 8);
    for (int s = 0; s < 2; s++)
        xmid[s] = malloc((size_t)n * 8);
    counts C = {0}, P = {0};
    for (fold_int c = 0; c < nc; c++) {
        int tight_ok = -1; /* the column's confirmation: not yet run, failed, done */
        double step = STEP, need = REF_TOL, f[NSTEP], hs[NSTEP];
        bool ok = false, loose = false;
        for (int round = 0; round < 2 && !ok; round++) {
            if (round) { /* a loose reference: larger steps, a lower reach */
                loose = true;
                step = LOOSE_STEP * STEP;
                need = LOOSE_NEED;
            }
            for (int s = 0; s < NSTEP; s++)
                hs[s] = (s % 2 ? -step : step) / (double)(1 << (s / 2));
            ok = true;
            for (int s = 0; s < NSTEP && ok; s++)
                ok = resolve(ref, p0, np, cols[c], hs[s], x, lam, zl, zu, need, xs[s], &f[s],
                             NULL) == 0;
        }
        if (!ok) {
            C.unreliable += nr;
            continue;
        }
        /* the unmoved point re-solved alike, for one-sided differences (a kink at the
         * solution: central differences of any step give the mean of the two sides) */
        bool kink_ok =
            resolve(ref, p0, np, cols[c], 0.0, x, lam, zl, zu, need, x0r, &f0r, NULL) == 0;
        int small_ok = -1; /* the column's re-solves at the small steps: not yet, failed, done */
        double h_small = step / 4 / KINK_SHRINK;
        /* a block's scale, floored at 1e-6 of the column's: a block of derivatives at the
         * noise level of the others (va w.r.t. a reactive load) is judged against them */
        double col_big = 0;
        for (fold_int r = 0; r < nr; r++)
            col_big = fmax(col_big, fabs((xs[0][rows[r]] - xs[1][rows[r]]) / (2 * step)));
        for (int b = 0; b < 4; b++) {
            double big = 1e-6 * col_big;
            for (fold_int r = block_start[b]; r < block_start[b + 1]; r++)
                big = fmax(big, fabs((xs[0][rows[r]] - xs[1][rows[r]]) / (2 * step)));
            for (fold_int r = block_start[b]; r < block_start[b + 1]; r++) {
                double fd = (xs[0][rows[r]] - xs[1][rows[r]]) / (2 * step);
                double fd2 = (xs[2][rows[r]] - xs[3][rows[r]]) / step, v = J[r + c * nr];
                double fd4 = (xs[4][rows[r]] - xs[5][rows[r]]) / (step / 2);
                C.entries++;
                double lo = v, hi = v;
                bool rep = reported(kept, n_items, rows[r], cols[c], &lo, &hi) || isnan(v);
                /* three steps that agree, the smallest one the reference */
                if (fabs(fd - fd2) > 0.5 * TOL_REL * big || fabs(fd2 - fd4) > 0.5 * TOL_REL * big) {
                    if (rep)
                        C.reported++;
                    else
                        C.unreliable++;
                    continue;
                }
                fd = fd2; /* the middle step: less truncation than step, less noise than
                             step / 4 */
                /* a reported entry whose interval misses the reference is wrong too */
                double miss = fmax(0, fmax(lo - fd, fd - hi));
                double noise = (loose ? LOOSE_NEED : REF_X) * fmax(1, fabs(x[rows[r]])) / step;
                double e = miss <= noise ? 0 : miss / (big > 0 ? big : 1);
                static const char *bn[] = {"pg", "qg", "vm", "va"};
                fold_int k = r - block_start[b];
                char what[96];
                snprintf(what, sizeof what, "d %s(%ld)/d %s(bus %ld)", bn[b],
                         b < 2 ? mc->gen[k].row : mc->bus[k].id, c < ncol_bus ? "pd" : "qd",
                         mc->bus[loads[c % ncol_bus]].id);
                /* a kink at the solution is judged on one-sided differences, whatever the
                 * reference (the test allows for the re-solves' own error) */
                double side_l, side_r, gap4;
                double xnoise = (loose ? LOOSE_NEED : REF_X) * fmax(1, fabs(x[rows[r]]));
                if (kink_ok &&
                    kink(x0r[rows[r]], xs, rows[r], step, big, xnoise, &side_l, &side_r, &gap4)) {
                    if (small_ok < 0) {
                        small_ok = 1;
                        for (int s = 0; s < 2 && small_ok; s++)
                            small_ok = resolve(ref, p0, np, cols[c], s ? -h_small : h_small, x, lam,
                                               zl, zu, need, xk[s], &ft, NULL) == 0;
                    }
                    double x0 = x0r[rows[r]];
                    double gap_s =
                        (xk[0][rows[r]] - x0) / h_small - (x0 - xk[1][rows[r]]) / h_small;
                    if (!small_ok || fabs(gap_s - gap4) >= 0.25 * fabs(gap4) ||
                        fabs(gap_s) <= TOL_REL * big + 2 * xnoise / h_small) {
                        /* a breakpoint within the steps: no central difference is a reference */
                        if (rep)
                            C.reported++;
                        else
                            C.unreliable++;
                        fprintf(stderr,
                                "breakpoint: %s: %.8g; one-sided gap %.3g at step %g, %.3g at %g "
                                "(%s)\n",
                                what, v, gap4, step / 4, small_ok ? gap_s : NAN, h_small,
                                small_ok ? "not a kink at the point" : "small steps failed");
                        continue;
                    }
                    double t = TOL_REL * big;
                    bool both = rep && !isnan(lo) && side_l >= lo - t && side_l <= hi + t &&
                                side_r >= lo - t && side_r <= hi + t;
                    if (rep && (isnan(lo) || both)) {
                        C.reported++;
                        continue;
                    }
                    C.kinks++;
                    if (rep)
                        C.miss++;
                    else
                        C.wrong++;
                    fprintf(stderr,
                            "kink: %s: %.8g%s; one-sided differences: left %.8g, right %.8g "
                            "(steps %g, %g, %g)\n",
                            what, v, rep ? " (flagged, interval misses a side)" : "", side_l,
                            side_r, h_small, step / 4, step / 2);
                    continue;
                }
                if (loose) { /* otherwise it confirms, never convicts */
                    if (e <= TOL_REL) {
                        if (rep) {
                            C.reported++;
                        } else {
                            C.matched++;
                            C.loose++;
                        }
                    } else {
                        C.unreliable++;
                        fprintf(stderr,
                                "loose: %s: %.8g%s; reference %.8g at steps %g (re-solves "
                                "reaching %g), %.2g of the block\n",
                                what, v, rep ? " (flagged)" : "", fd, step / 2, need, e);
                    }
                    continue;
                }
                /* an entry the reference calls wrong, flagged or not, is judged again on the
                 * re-solves at CONFIRM_TOL */
                if (e > TOL_REL && !(rep && isnan(lo)) && tight_ok < 0) {
                    tight_ok = 1;
                    reached = 0;
                    for (int s = 0; s < 4 && tight_ok; s++)
                        tight_ok = resolve(tight, p0, np, cols[c], hs[2 + s], x, lam, zl, zu,
                                           REF_TOL, xt[s], &ft, &reached) == 0;
                    /* short of CONFIRM_NEED: the middle step again at MID_TOL, converged
                     * (solved or acceptable: the agreement of the two levels is the test) */
                    for (int s = 0; s < 2 && tight_ok && reached > CONFIRM_NEED; s++)
                        tight_ok = resolve(mid, p0, np, cols[c], hs[2 + s], x, lam, zl, zu,
                                           HUGE_VAL, xmid[s], &ft, NULL) == 0;
                }
                if (e > TOL_REL && tight_ok > 0) { /* the reference at CONFIRM_TOL decides */
                    fd = (xt[0][rows[r]] - xt[1][rows[r]]) / step;
                    double fdt4 = (xt[2][rows[r]] - xt[3][rows[r]]) / (step / 2);
                    /* ... when its two steps agree: else the derivative moved with the
                     * barrier parameter between the tolerances (a nearly flat direction whose
                     * re-solves wander at CONFIRM_TOL; case179_goc d qg(4)/d pd(bus 6): 0.3417
                     * MVAr/MW at tol 1e-9 and 1e-10, -0.46 and -0.37 at 1e-11) */
                    double fdm =
                        reached > CONFIRM_NEED ? (xmid[0][rows[r]] - xmid[1][rows[r]]) / step : fd;
                    if (fabs(fd - fdt4) > 0.5 * TOL_REL * big ||
                        fabs(fd - fdm) > 0.5 * TOL_REL * big) {
                        fprintf(stderr,
                                "unreliable: %s: %.8g; reference %.8g at REF_TOL, %.8g "
                                "and %.8g (steps %g, %g) at CONFIRM_TOL (reached %.2g), %.8g "
                                "at MID_TOL\n",
                                what, v, fd2, fd, fdt4, step / 2, step / 4, reached, fdm);
                        C.unreliable++;
                        continue;
                    }
                    miss = fmax(0, fmax(lo - fd, fd - hi));
                    double confirm_noise = noise * fmax(reached, CONFIRM_NEED) / REF_TOL;
                    e = miss <= confirm_noise ? 0 : miss / (big > 0 ? big : 1);
                }
                const char *ref_at = tight_ok > 0 ? "confirmed at CONFIRM_TOL" : "REF_TOL only";
                if (rep) { /* flagged: its interval contains the reference, or misses it */
                    if (isnan(lo) || e <= TOL_REL) {
                        C.reported++;
                    } else {
                        C.miss++;
                        fprintf(stderr,
                                "miss: %s: interval [%.8g, %.8g]; reference %.8g (%s; "
                                "steps at REF_TOL: %.8g %.8g %.8g), %.2g of the block\n",
                                what, lo, hi, fd, ref_at,
                                (xs[0][rows[r]] - xs[1][rows[r]]) / (2 * step), fd2, fd4, e);
                    }
                    continue;
                }
                if (e <= TOL_REL) {
                    C.matched++;
                    continue;
                }
                C.wrong++;
                fprintf(stderr, "wrong: %s: %.8g; reference %.8g (%s), %.2g of the block\n", what,
                        v, fd, ref_at, e);
                if (e > C.worst) {
                    C.worst = e;
                    snprintf(C.worst_what, sizeof C.worst_what, "%s: %.6g vs %.6g", what, v, fd);
                }
            }
        }
        /* the objective: LMP (pd) or its reactive counterpart (qd) */
        double g1 = (f[0] - f[1]) / (2 * step), g = (f[2] - f[3]) / step;
        double g4 = (f[4] - f[5]) / (step / 2), gtol = 0.5 * TOL_REL * fmax(1, fabs(g));
        bool g_unreliable = fabs(g1 - g) > gtol || fabs(g - g4) > gtol;
        double vr = right[cols[c]], vl = left[cols[c]];
        P.entries++;
        double gt = TOL_REL * fmax(1, fabs(g));
        if (!(vl == vr) && (g_unreliable || (g >= vl - gt && g <= vr + gt))) {
            P.reported++; /* an interval that contains the reference (or none is reliable) */
        } else if (g_unreliable || (loose && (!(vl == vr) || fabs(vl - g) > gt))) {
            P.unreliable++;
        } else if (!(vl == vr)) {
            P.miss++;
        } else if (fabs(vl - g) <= gt) {
            P.matched++;
            P.loose += loose;
        } else {
            P.wrong++;
        }
    }
    printf("%s\t%ld\t%s\t%.3f\t%.3f\t%d\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld\t%ld"
           "\t%ld\t%ld\t%.3g\t%s\t%ld\t%ld\t%ld\n",
           cs->name, (long)nb, form, fi.total_s, fi.resolve_s, fi.resolves, (long)fi.n_ambiguous,
           C.entries, C.matched, C.reported, C.miss, C.wrong, C.unreliable, P.entries, P.matched,
           P.reported, P.miss, P.wrong, P.unreliable, C.worst, C.worst_what[0] ? C.worst_what : "-",
           C.loose, P.loose, C.kinks);
    for (int s = 0; s < NSTEP; s++)
        free(xs[s]);
    void *a[] = {rows, loads, cols, J, kept, left, right, x, lam, zl, zu, p0, x0r};
    for (size_t k = 0; k < sizeof a / sizeof a[0]; k++)
        free(a[k]);
    fold_solver_free(ref);
    fold_solver_free(tight);
    fold_solver_free(mid);
    for (int s = 0; s < 4; s++)
        free(xt[s]);
    for (int s = 0; s < 2; s++) {
        free(xmid[s]);
        free(xk[s]);
    }
    fold_solver_free(sv);
    fold_acopf_free(m);
    fold_acopf_case_free(cs);
    return 0;
}
