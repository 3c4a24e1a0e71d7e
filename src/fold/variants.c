/* Derivatives under both classifications of the candidates (doc/math.md §3.2 "Both
 * classifications"): a call's result is computed again under every variant of kkt_sides.c;
 * the entries that differ from the primary result by more than the tolerance are uncertain:
 * set to NaN and reported with the interval of their values and the candidates that move
 * them. Also the report of the sides themselves and of a call's result (fold_call_report). */
#include <float.h>

#include "fold/fold_internal.h"

/* Is weak-list entry w one of the candidates? */
static bool is_candidate(const fold_kkt *kkt, const fold_weak_entry *w)
{
    for (fold_int c = 0; c < kkt->cands.n_cand; c++) {
        const fold_kkt_cand *cd = &kkt->cands.cand[c];
        if (cd->index == w->index && cd->is_con == (w->kind < 2)) return true;
    }
    return false;
}

fold_status fold_report_sides(fold_kkt *kkt, const fold_solver *solver)
{
    free(kkt->cands.cand_item);
    kkt->cands.cand_item = NULL;
    kkt->cands.cand_item_ok = false;
    if (kkt->cands.n_cand > 0 &&
        !(kkt->cands.cand_item =
              fold_malloc((size_t)kkt->cands.n_cand, sizeof(fold_int), "candidate items")))
        return FOLD_ERR_MEMORY;
    for (fold_int c = 0; c < kkt->cands.n_cand; c++) {
        const fold_kkt_cand *cd = &kkt->cands.cand[c];
        fold_int s = cd->is_con ? fold_side_of_con(kkt->n, cd->index, cd->side == 2)
                                : fold_side_of_var(cd->index, cd->side == 2);
        double mult = cd->is_con ? solver->lam[cd->index] : kkt->cands.sides.mult[s];
        int kind = cd->dependent ? FOLD_TRUST_DEPENDENT
                   : cd->weak    ? FOLD_TRUST_WEAK
                                 : FOLD_TRUST_AMBIGUOUS;
        kkt->cands.cand_item[c] = fold_report_side(kkt, kind, cd->is_con, cd->index, cd->side,
                                                   kkt->cands.sides.dist[s], mult);
        if (kkt->cands.cand_item[c] < 0) return FOLD_ERR_MEMORY;
    }
    kkt->cands.cand_item_ok = true;
    /* The rest of the weak list: weakly active sides resolved by an explicit weak_policy (or
     * the legacy classification), then the dependent items of eq. 4.12. */
    for (fold_int k = 0; k < kkt->cls.n_weak; k++) {
        const fold_weak_entry *w = &kkt->cls.weak[k];
        bool dep = k >= kkt->cls.n_weak_sides;
        if (is_candidate(kkt, w)) continue;
        if (fold_report_side(kkt, dep ? FOLD_TRUST_DEPENDENT : FOLD_TRUST_WEAK, w->kind < 2,
                             w->index, w->kind % 2 ? 2 : 1, w->distance, w->multiplier) < 0)
            return FOLD_ERR_MEMORY;
    }
    return FOLD_OK;
}

/* The scales entries are judged against (doc/math.md eq. 3.5c). FLOOR: a group of entries at
 * the rounding level of the others (the changes of the multipliers of inactive constraints)
 * cannot be judged on its own scale. */
#define FLOOR 1e-12
/* Differences of an entry below NOISE eps times the largest entry or input are rounding:
 * a column whose entries are all about 1e-16 (a zero derivative) moves by that much between
 * any two solves. */
#define NOISE 64.0
typedef struct judge {
    const fold_result_layout *L;
    double *scale; /* per group (column x kind): its largest entry, floored at FLOOR all */
    double *zero;  /* per column kind ck, [ck (n_kinds + 1) + 1 + t]: tau times the largest
                      entry of kind t in the columns of kind ck; [ck (n_kinds + 1)]: of all */
    double *all;   /* per column kind: the largest entry of its columns */
} judge;

/* The kind of entry k's column (of its parameter, fold_nlp_def.p_kind): entries are compared
 * only with entries of columns of the same kind (doc/math.md §3.2 "Groups"). */
static fold_int col_kind_of(const fold_result_layout *L, fold_int k)
{
    return L->col_kind ? L->col_kind[k / L->rows] : 0;
}

/* The group of entry k (column x kind of its row), -1 for a row judged against the whole
 * result. */
static fold_int group_of(const fold_result_layout *L, fold_int k)
{
    fold_int kind = L->row_kind ? L->row_kind[k % L->rows] : 0;
    return kind < 0 ? -1 : (k / L->rows) * L->n_kinds + kind;
}

static fold_int kind_of(const fold_result_layout *L, fold_int k)
{
    return L->row_kind ? L->row_kind[k % L->rows] : 0;
}

/* The largest entry of entry k's group (of the whole result for a row of kind -1). */
static double scale_at(const judge *J, fold_int k)
{
    fold_int g = group_of(J->L, k);
    return g < 0 ? J->all[col_kind_of(J->L, k)] : J->scale[g];
}

/* Largest finite magnitude of each group, and of each kind of the result over the columns of
 * each column kind (from out). */
static void judge_scales(judge *J, const double *out, double tau)
{
    const fold_result_layout *L = J->L;
    fold_int ng = L->cols * L->n_kinds, len = L->rows * L->cols, nck = fold_col_kinds(L);
    for (fold_int g = 0; g < ng; g++)
        J->scale[g] = 0.0;
    for (fold_int c = 0; c < nck; c++)
        J->all[c] = 0.0;
    fold_int stride = L->n_kinds + 1;
    for (fold_int i = 0; i < nck * stride; i++)
        J->zero[i] = 0.0;
    for (fold_int k = 0; k < len; k++) {
        fold_int g = group_of(L, k), ck = col_kind_of(L, k);
        if (!isfinite(out[k])) continue;
        J->all[ck] = fmax(J->all[ck], fabs(out[k]));
        if (g >= 0) J->scale[g] = fmax(J->scale[g], fabs(out[k]));
    }
    for (fold_int c = 0; c < L->cols; c++) {
        double *z = J->zero + col_kind_of(L, c * L->rows) * stride;
        for (fold_int t = 0; t < L->n_kinds; t++)
            z[1 + t] = fmax(z[1 + t], tau * J->scale[c * L->n_kinds + t]);
    }
    for (fold_int ck = 0; ck < nck; ck++)
        J->zero[ck * stride] = tau * J->all[ck];
    for (fold_int g = 0; g < ng; g++)
        J->scale[g] = fmax(J->scale[g], FLOOR * J->all[col_kind_of(L, (g / L->n_kinds) * L->rows)]);
}

/* The value of variant v at entry k to compare with: the active form's own; the barrier
 * form's extrapolated to mu -> 0 from mu and mu / R (Richardson, the error of the barrier
 * derivative being linear in mu away from the crossovers, eq. 3.19). */
static double limit(const fold_kkt *kkt, double d0, double dv)
{
    if (kkt->sys.form != FOLD_KKT_BARRIER) return dv;
    return dv + (dv - d0) / (FOLD_BARRIER_RATIO - 1.0);
}

/* Per entry: the interval of its values, and whether it is uncertain (the classifications
 * of the candidates differ) or carries a barrier error (the extrapolated primary differs from
 * the value at the reached barrier parameter). */
typedef struct compare {
    double *lo, *hi, *first; /* first: the barrier form's extrapolated primary */
    unsigned char *flag;     /* 1 uncertain, 2 barrier error */
    double *noise;           /* per column kind: differences below it are rounding (NOISE) */
    judge J;
} compare;

static double noise_at(const compare *C, fold_int k)
{
    return C->noise[col_kind_of(C->J.L, k)];
}

/* Are both values of entry k zero to the tolerance of its kind in the whole result (|a|, |b|
 * <= tau times the largest entry of that kind)? Such an entry (a parameter the output does not
 * depend on, moved by the barrier's O(mu) coupling or by a flip) cannot be judged on its own
 * group's scale, and the result is accurate to tau with either value (doc/math.md eq. 3.5c). */
static bool zero_at_tol(const compare *C, fold_int k, double a, double b)
{
    const fold_result_layout *L = C->J.L;
    double zero = C->J.zero[col_kind_of(L, k) * (L->n_kinds + 1) + 1 + kind_of(L, k)];
    return fabs(a) <= zero && fabs(b) <= zero;
}

static fold_status record(fold_kkt *kkt, const fold_result_layout *L, const double *out,
                          const double *alt, fold_status sv, int v, double tau, compare *C)
{
    bool barrier = kkt->sys.form == FOLD_KKT_BARRIER;
    fold_status st;
    fold_int flips = 0;
    for (fold_int c = 0; c < kkt->cands.n_cand; c++)
        flips += fold_kkt_variant_status(kkt, v, c) != kkt->cands.cand[c].primary;
    for (fold_int k = 0; k < L->rows * L->cols; k++) {
        if (isnan(out[k])) continue; /* not unique already */
        double a = sv < 0 ? NAN : limit(kkt, out[k], alt[k]);
        double thr = fmax(tau * scale_at(&C->J, k), noise_at(C, k));
        if (!isnan(a)) {
            C->lo[k] = fmin(C->lo[k], a);
            C->hi[k] = fmax(C->hi[k], a);
        }
        if (barrier && v == 1) { /* the extrapolated primary: the barrier form's error */
            C->first[k] = a;
            if (!(fabs(a - out[k]) <= thr) && !zero_at_tol(C, k, a, out[k])) C->flag[k] |= 2;
            continue;
        }
        double base = barrier ? C->first[k] : out[k];
        if (fabs(a - base) <= thr || zero_at_tol(C, k, a, base)) continue;
        /* a variant that flips several candidates names them only for an entry that no
         * single flip moved (the singles come first): the report stays precise */
        bool named = (C->flag[k] & 1) && flips > 1;
        C->flag[k] |= 1;
        for (fold_int c = 0; c < kkt->cands.n_cand && kkt->cands.cand_item_ok && !named; c++)
            if (fold_kkt_variant_status(kkt, v, c) != kkt->cands.cand[c].primary &&
                (st = fold_report_affect(kkt, kkt->cands.cand_item[c], k)))
                return st;
    }
    return FOLD_OK;
}

/* One run of the call at variant v / path run `path`, counted in the caller's info. */
static fold_status run_at(fold_solver *solver, fold_result_fn run, void *ctx, int v, int path,
                          double *alt, fold_call *call)
{
    fold_call vcall;
    fold_call_begin(&vcall, NULL, NULL);
    vcall.check = call->check;
    fold_kkt *kkt = solver->backward;
    kkt->cands.variant = v;
    kkt->cands.path = path;
    double t0 = fold_time_now();
    fold_status sv = run(solver, ctx, alt, &vcall);
    call->info->n_variants++;
    fold_log(&solver->set, 3, "%s: comparison run (variant %d, path %d): %.4f s", kkt->fn, v, path,
             fold_time_now() - t0);
    return sv;
}

/* Report the suspect sides (once per call) and that they move entry k. */
static fold_status report_suspects(fold_kkt *kkt, const fold_solver *solver, fold_int **items,
                                   fold_int *n_items, fold_int k)
{
    const fold_sides *S = &kkt->cands.sides;
    if (!*items) {
        if (!(*items = fold_malloc((size_t)S->n_suspect + 1, sizeof **items, "suspect items")))
            return FOLD_ERR_MEMORY;
        for (fold_int s = 0; s < S->count; s++) {
            if (!S->suspect[s]) continue;
            bool con = s >= 2 * kkt->n;
            fold_int index = con ? (s - 2 * kkt->n) / 2 : s / 2;
            double mult = con ? solver->lam[index] : S->mult[s];
            fold_int it = fold_report_side(kkt, FOLD_TRUST_AMBIGUOUS, con, index, s % 2 ? 2 : 1,
                                           S->dist[s], mult);
            if (it < 0) return FOLD_ERR_MEMORY;
            /* every suspect side moves every unsettled entry: one list, shared */
            if (*n_items > 0) fold_report_share(kkt, it, (*items)[0]);
            (*items)[(*n_items)++] = it;
        }
    }
    return *n_items > 0 ? fold_report_affect(kkt, (*items)[0], k) : FOLD_OK;
}

/* The barrier form at a tight solution (Sigma from 1e-12 to 1e12) agrees with the active
 * form to about this (relative to the group scale) even where the path has converged: the
 * central-path check judges differences above it only. */
#define PATH_NOISE 1e-7

/* The central-path check of the suspect verdicts (doc/math.md §3.2 "Suspect verdicts"): the
 * result in the barrier form with every Sigma moved FOLD_BARRIER_RATIO = R times towards its
 * limit (P2) and at the solution's barrier parameter (P1: the derivative of the path the
 * solver stopped on). An entry whose P2 is farther from the active form's value A than the
 * tolerance is not settled at this accuracy (a nearly flat direction whose variable sits at
 * the centre of its bounds until a much smaller mu): flagged 4 with the interval of A, P1
 * and P2. A P2 that merely moved towards A as the linearized path predicts, (P1 - A) / R,
 * does not settle it: the path of the re-solves need not follow (eq. 3.5b). P2 decides, so
 * P1 (a second barrier-form factorization and all the solves) is computed only when some
 * entry's P2 is off: it gives the interval of the flagged entries and may still settle
 * those whose three values are all zero to the tolerance. Returns whether the check ran. */
/* Is P2 of entry k off the active value: farther than the tolerance tau (floored at
 * PATH_NOISE) of its group's scale or its noise? */
static bool off_path(const compare *C, double tau, const double *out, const double *p2, fold_int k)
{
    double thr = fmax(fmax(tau, PATH_NOISE) * scale_at(&C->J, k), noise_at(C, k));
    double e2 = p2[k] - out[k];
    return isfinite(e2) && fabs(e2) > thr;
}

static fold_status path_check(fold_solver *solver, fold_result_fn run, void *ctx,
                              const fold_result_layout *L, const double *out, double tau,
                              compare *C, fold_call *call, bool *ran)
{
    fold_kkt *kkt = solver->backward;
    size_t len = (size_t)(L->rows * L->cols);
    *ran = false;
    double *p1 = fold_malloc(2 * len, sizeof *p1, "central-path results"), *p2 = p1 + len;
    if (!p1) return FOLD_ERR_MEMORY;
    fold_status s2 = run_at(solver, run, ctx, 0, FOLD_PATH_SHRUNK, p2, call);
    bool off = false; /* an entry whose P2 is farther from A than its threshold */
    for (fold_int k = 0; s2 >= 0 && !off && k < (fold_int)len; k++)
        off = !isnan(out[k]) && !C->flag[k] && off_path(C, tau, out, p2, k);
    fold_status s1 = off ? run_at(solver, run, ctx, 0, FOLD_PATH_AT_MU, p1, call) : FOLD_OK;
    kkt->cands.path = 0;
    if (s1 == FOLD_ERR_MEMORY || s2 == FOLD_ERR_MEMORY) {
        free(p1);
        return FOLD_ERR_MEMORY;
    }
    if (s1 >= 0 && s2 >= 0) {
        *ran = true;
        fold_int worst = -1; /* the settled entry farthest from A at mu / R, for the log */
        double worst_e = 0.0;
        for (fold_int k = 0; k < (fold_int)len; k++) {
            if (isnan(out[k]) || C->flag[k]) continue;
            double scale = scale_at(&C->J, k);
            double e2 = p2[k] - out[k], e1 = off ? p1[k] - out[k] : 0.0;
            if (!off_path(C, tau, out, p2, k) ||
                (off && (!isfinite(e1) ||
                         (zero_at_tol(C, k, out[k], p1[k]) && zero_at_tol(C, k, out[k], p2[k]))))) {
                if (scale > 0.0 && isfinite(e2) && fabs(e2) / scale > worst_e) {
                    worst_e = fabs(e2) / scale;
                    worst = k;
                }
                continue;
            }
            C->flag[k] |= 4;
            C->lo[k] = fmin(out[k], fmin(p1[k], p2[k]));
            C->hi[k] = fmax(out[k], fmax(p1[k], p2[k]));
        }
        if (worst >= 0)
            fold_log(&solver->set, 3,
                     "central-path check: largest settled difference at entry %lld: active "
                     "%.8g, path at mu / %g %.8g (%.2g of its group)%s",
                     (long long)worst, out[worst], FOLD_BARRIER_RATIO, p2[worst], worst_e,
                     off ? "" : "; no entry off the path: the path at mu not computed");
    }
    free(p1);
    return FOLD_OK;
}

fold_status fold_variants_compare(fold_solver *solver, fold_result_fn run, void *ctx,
                                  const fold_result_layout *L, double *out, fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_status st = fold_kkt_build_variants(kkt);
    int nv = fold_kkt_variant_count(kkt);
    if (st) return st;
    call->info->n_candidates = kkt->cands.n_cand;
    /* suspect verdicts are checked against the central path (direct method, active form) */
    bool path = kkt->sys.form == FOLD_KKT_ACTIVE && kkt->cands.sides.suspect &&
                kkt->cands.sides.n_suspect > 0 &&
                solver->set.backward.method == FOLD_BACKWARD_DIRECT;
    if ((nv == 0 && !path) || L->rows * L->cols == 0 ||
        solver->set.active_set.ambiguity == FOLD_AMBIGUITY_IGNORE)
        return FOLD_OK;
    double tau = fold_trust_tol(solver);
    size_t len = (size_t)(L->rows * L->cols);
    double *alt = fold_malloc(len, sizeof *alt, "variant result");
    double *buf = fold_malloc(3 * len, sizeof *buf, "variant interval");
    /* scales: per group, then per column kind its zeros, its largest entry and its noise */
    fold_int nck = fold_col_kinds(L);
    double *scale = fold_malloc((size_t)(L->cols * L->n_kinds + nck * (L->n_kinds + 3)),
                                sizeof *scale, "variant scales");
    double *zero = scale ? scale + L->cols * L->n_kinds : NULL;
    double *all = zero ? zero + nck * (L->n_kinds + 1) : NULL;
    compare C = {buf,
                 buf ? buf + len : NULL,
                 buf ? buf + 2 * len : NULL,
                 fold_calloc(len, 1, "uncertain entries"),
                 all ? all + nck : NULL,
                 {L, scale, zero, all}};
    fold_int *suspect_items = NULL, n_suspect_items = 0;
    bool path_ran = false;
    if (!alt || !buf || !scale || !C.flag) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    judge_scales(&C.J, out, tau);
    for (fold_int ck = 0; ck < nck; ck++)
        C.noise[ck] = NOISE * DBL_EPSILON * fmax(L->input, C.J.all[ck]);
    for (size_t k = 0; k < len; k++)
        C.lo[k] = C.hi[k] = C.first[k] = out[k];
    for (int v = 1; v <= nv; v++) {
        fold_status sv = run_at(solver, run, ctx, v, 0, alt, call);
        if (sv == FOLD_ERR_MEMORY) {
            st = sv;
            goto done;
        }
        if ((st = record(kkt, L, out, alt, sv, v, tau, &C))) goto done;
    }
    if (path && (st = path_check(solver, run, ctx, L, out, tau, &C, call, &path_ran))) goto done;
    for (fold_int k = 0; k < (fold_int)len; k++) {
        double sk = scale_at(&C.J, k);
        if (kkt->sys.form == FOLD_KKT_BARRIER && sk > 0.0 && isfinite(C.first[k]) &&
            fabs(C.first[k] - out[k]) > noise_at(&C, k) && !zero_at_tol(&C, k, C.first[k], out[k]))
            call->info->barrier_error =
                fmax(call->info->barrier_error, fabs(C.first[k] - out[k]) / sk);
        if (!C.flag[k]) continue;
        int block;
        fold_int row, col;
        bool uncertain = C.flag[k] & 5;
        L->locate(L->locate_ctx, k, &block, &row, &col);
        if ((C.flag[k] & 4) &&
            (st = report_suspects(kkt, solver, &suspect_items, &n_suspect_items, k)))
            goto done;
        if (fold_report_entry(kkt, uncertain ? FOLD_TRUST_UNCERTAIN : FOLD_TRUST_BARRIER_ERROR,
                              block, k, row, col, out[k], C.lo[k], C.hi[k]) < 0) {
            st = FOLD_ERR_MEMORY;
            goto done;
        }
        if (uncertain) { /* no value: the classifications disagree */
            out[k] = NAN;
            call->info->n_uncertain++;
        } else { /* the barrier value, flagged with its limit */
            call->info->n_barrier_error++;
        }
    }
done:
    fold_report_unique(kkt);
    /* the primary classification again: the state (its factorization, its null space) is
     * the one the result and the messages describe */
    kkt->cands.variant = 0;
    kkt->cands.path = 0;
    if ((nv > 0 || path_ran) && st == FOLD_OK) {
        fold_backward_info scratch = FOLD_BACKWARD_INFO_INIT;
        double t0 = fold_time_now();
        fold_status sp = fold_kkt_setup(solver, true, &scratch, kkt->fn);
        fold_log(&solver->set, 3, "%s: primary classification restored: %.4f s", kkt->fn,
                 fold_time_now() - t0);
        if (sp < 0) st = sp;
    }
    free(alt);
    free(buf);
    free(scale);
    free(C.flag);
    free(suspect_items);
    return st;
}

/* The report of every call's result: the sides (ambiguous, weakly
 * active, dependent) of the classification the call used and the entries a singular KKT
 * matrix left undetermined (NaN in out). Then the variants of the candidates. */
fold_status fold_call_report(fold_solver *solver, fold_result_fn run, void *ctx,
                             const fold_result_layout *L, double *out, bool nan_entries,
                             fold_call *call)
{
    fold_kkt *kkt = solver->backward;
    fold_status st;
    if (!kkt) return FOLD_OK;
    call->info->n_candidates = kkt->cands.n_cand;
    if ((st = fold_report_sides(kkt, solver))) return st;
    for (fold_int k = 0; out && nan_entries && k < L->rows * L->cols; k++) {
        int block;
        fold_int row, col;
        if (!isnan(out[k])) continue;
        L->locate(L->locate_ctx, k, &block, &row, &col);
        if (fold_report_entry(kkt, FOLD_TRUST_NOT_UNIQUE, block, k, row, col, NAN, NAN, NAN) < 0)
            return FOLD_ERR_MEMORY;
    }
    return out ? fold_variants_compare(solver, run, ctx, L, out, call) : FOLD_OK;
}
