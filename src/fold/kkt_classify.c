/* Classification of constraints and bounds at the solution: inactive, strongly active,
 * weakly active (doc/math.md §3.2, dual threshold eqs. 3.2a-b), and the weak-activity policy. */
#include "fold/fold_internal.h"

static bool at_bound(double dist, double bound, double tol)
{
    return dist <= tol * (1.0 + fabs(bound));
}

/* Decide the status of one inequality-type item (constraint or bound) from whether it is at
 * its lower / upper bound and its multipliers (ml >= 0 for the lower side, mu >= 0 for the
 * upper side). Returns 0 inactive, 1 lower, 2 upper; *weak_side is 1/2 when the item is at
 * a bound with a multiplier <= dual_tol (the caller applies the policy), else 0. */
static int decide(bool at_l, bool at_u, double ml, double mu, double dtol, int *weak_side)
{
    int side;
    *weak_side = 0;
    if (at_l && at_u)
        side = ml >= mu ? 1 : 2;
    else if (at_l)
        side = 1;
    else if (at_u)
        side = 2;
    else {
        /* Not at a bound but with a significant multiplier: complementarity is violated
         * beyond primal_tol. The multiplier is the more reliable signal (the barrier
         * iterate keeps the slack at mu / multiplier), so the item is held active. */
        if (ml > dtol || mu > dtol) return ml >= mu ? 1 : 2;
        return 0;
    }
    if ((side == 1 ? ml : mu) > dtol) return side;
    *weak_side = side;
    return 0;
}

/* Weakly active items are held active only under the `active` policy. */
static int resolve_weak(int weak_side, int policy)
{
    return policy == FOLD_WEAK_ACTIVE ? weak_side : 0;
}

static fold_status refuse(const fold_kkt *kkt, const char *fn)
{
    char list[FOLD_WEAK_FIRST_LEN];
    const char *more = fold_kkt_weak_first(kkt, list, sizeof list);
    return fold_error(FOLD_ERR_DEGENERATE,
                      "%s: %lld weakly active constraints/bounds (at the bound with multiplier "
                      "<= active_set.dual_tol): %s%s; see fold_trust_report or set "
                      "active_set.weak_policy",
                      fn, (long long)kkt->cls.n_weak, list, more);
}

/* Complementarity level of the solution (doc/math.md eq. 3.2b): the median of the products
 * multiplier x distance over the inequality sides with both positive (an interior-point
 * solution keeps them all near its final barrier parameter). 0 when there are none (an
 * imported point with zero multipliers on its inactive items). */
static fold_status complementarity_level(const fold_kkt *kkt, const fold_solver *solver,
                                         const double *g, double *level)
{
    const fold_problem *prob = kkt->prob;
    fold_bounds b = fold_solver_bounds(solver); /* at the solution's p (math.md §2.5) */
    fold_int cnt = 0, cap = kkt->m + 2 * kkt->n;
    *level = 0.0;
    if (cap == 0) return FOLD_OK;
    double *prod = fold_malloc((size_t)cap, sizeof *prod, "complementarity products");
    if (!prod) return FOLD_ERR_MEMORY;
    for (fold_int i = 0; i < kkt->m; i++) {
        double lam = solver->lam[i];
        if (fold_prob_is_equality(prob, i)) continue;
        double d = lam < 0 ? g[i] - b.gl[i] : b.gu[i] - g[i];
        bool finite = !fold_is_inf_bound(lam < 0 ? b.gl[i] : b.gu[i]);
        if (finite && d > 0 && lam != 0) prod[cnt++] = fabs(lam) * d;
    }
    for (fold_int j = 0; j < kkt->n; j++) {
        double lo = b.xl[j], hi = b.xu[j], x = solver->x[j];
        if (!fold_is_inf_bound(lo) && !fold_is_inf_bound(hi) && lo == hi) continue;
        if (!fold_is_inf_bound(lo) && x > lo && solver->zl[j] > 0)
            prod[cnt++] = solver->zl[j] * (x - lo);
        if (!fold_is_inf_bound(hi) && x < hi && solver->zu[j] > 0)
            prod[cnt++] = solver->zu[j] * (hi - x);
    }
    if (cnt > 0) {
        qsort(prod, (size_t)cnt, sizeof *prod, fold_cmp_double);
        *level = prod[cnt / 2];
    }
    free(prod);
    return FOLD_OK;
}

/* The dual threshold (doc/math.md eqs. 3.2a, 3.2b) is relative to the largest multiplier:
 * multipliers carry the objective's units (prices of O(1e3) in an AC-OPF), while the
 * barrier multipliers of inactive items are O(mu / distance) whatever the scale. When the
 * largest multiplier dwarfs those of the equality constraints (the prices), it is capped at
 * max(sqrt(mu), dual_tol * price scale): an interior-point item with multiplier > sqrt(mu)
 * has distance < sqrt(mu). */
static double dual_threshold(const fold_kkt *kkt, const fold_solver *solver, double level)
{
    double big = 1.0, price = 1.0, tol = solver->set.active_set.dual_tol;
    for (fold_int i = 0; i < kkt->m; i++) {
        big = fmax(big, fabs(solver->lam[i]));
        if (fold_prob_is_equality(kkt->prob, i)) price = fmax(price, fabs(solver->lam[i]));
    }
    for (fold_int j = 0; j < kkt->n; j++) {
        if (!fold_is_inf_bound(solver->xl[j])) big = fmax(big, fabs(solver->zl[j]));
        if (!fold_is_inf_bound(solver->xu[j])) big = fmax(big, fabs(solver->zu[j]));
    }
    double dtol = tol * big;
    if (level > 0) dtol = fmin(dtol, fmax(tol * price, sqrt(level)));
    return dtol;
}

static fold_status classify_constraints(fold_kkt *kkt, const fold_solver *solver, const double *g,
                                        double dtol, int policy)
{
    const fold_problem *prob = kkt->prob;
    double ptol = solver->set.active_set.primal_tol;
    fold_status st;
    fold_bounds b = fold_solver_bounds(solver);
    for (fold_int i = 0; i < kkt->m; i++) {
        double lo = b.gl[i], hi = b.gu[i], lam = solver->lam[i];
        bool fl = !fold_is_inf_bound(lo), fu = !fold_is_inf_bound(hi);
        int weak_side, s;
        if (fold_prob_is_equality(prob, i)) {
            kkt->cls.cstat[i] = FOLD_CS_EQUALITY;
            kkt->cls.n_active_cons++;
            continue;
        }
        bool at_l = fl && at_bound(g[i] - lo, lo, ptol);
        bool at_u = fu && at_bound(hi - g[i], hi, ptol);
        /* Ipopt's signs (doc/math.md eq. 2.5): lam <= 0 at a lower bound, >= 0 at an upper.
         * The sign only picks the side when both or neither side is at its bound; at one
         * side the strength is |lam| (a wrong sign is a KKT violation, not weakness). */
        double ml = fmax(-lam, 0.0), mu = fmax(lam, 0.0);
        if (at_l != at_u) ml = mu = fabs(lam);
        s = decide(at_l, at_u, ml, mu, dtol, &weak_side);
        if (weak_side) {
            double dist = weak_side == 1 ? g[i] - lo : hi - g[i];
            if ((st = fold_kkt_add_weak(kkt, weak_side - 1, i, dist, lam)) != FOLD_OK) return st;
            s = resolve_weak(weak_side, policy);
        }
        kkt->cls.cstat[i] = (signed char)s;
        if (s) kkt->cls.n_active_cons++;
    }
    return FOLD_OK;
}

static fold_status classify_bounds(fold_kkt *kkt, const fold_solver *solver, double dtol,
                                   int policy)
{
    double ptol = solver->set.active_set.primal_tol;
    fold_status st;
    fold_bounds b = fold_solver_bounds(solver);
    for (fold_int j = 0; j < kkt->n; j++) {
        double lo = b.xl[j], hi = b.xu[j], x = solver->x[j];
        bool fl = !fold_is_inf_bound(lo), fu = !fold_is_inf_bound(hi);
        int weak_side, s;
        if (fl && fu && lo == hi) {
            kkt->cls.xstat[j] = FOLD_XS_FIXED;
            kkt->cls.n_active_bounds++;
            continue;
        }
        s = decide(fl && at_bound(x - lo, lo, ptol), fu && at_bound(hi - x, hi, ptol),
                   fl ? fabs(solver->zl[j]) : 0.0, fu ? fabs(solver->zu[j]) : 0.0, dtol,
                   &weak_side);
        if (weak_side) {
            double dist = weak_side == 1 ? x - lo : hi - x;
            double mult = weak_side == 1 ? solver->zl[j] : solver->zu[j];
            if ((st = fold_kkt_add_weak(kkt, weak_side + 1, j, dist, mult)) != FOLD_OK) return st;
            s = resolve_weak(weak_side, policy);
        }
        kkt->cls.xstat[j] = (signed char)s;
        if (s) kkt->cls.n_active_bounds++;
    }
    return FOLD_OK;
}

fold_status fold_kkt_classify(fold_kkt *kkt, fold_solver *solver, const char *fn)
{
    int policy = solver->set.active_set.weak_policy;
    bool barrier = solver->set.backward.kkt_form == FOLD_KKT_BARRIER;
    fold_status st;
    kkt->cls.n_weak = 0;
    kkt->cls.n_active_cons = kkt->cls.n_active_bounds = 0;
    kkt->cls.is_one_sided = false;
    double level, dtol;
    if (kkt->m > 0) {
        st = fold_prob_eval_g(kkt->prob, solver->x, solver->p, kkt->cls.gval, NULL);
        if (st == FOLD_CB_RECOVERABLE)
            st = fold_error(FOLD_ERR_CALLBACK, "callback g failed (recoverable code) at the "
                                               "solution");
        if (st != FOLD_OK) return st;
    }
    if (solver->set.active_set.ambiguity != FOLD_AMBIGUITY_IGNORE) {
        if ((st = fold_kkt_classify_sides(kkt, solver, fn)) != FOLD_OK) return st;
        kkt->cls.n_weak_classified = kkt->cls.n_weak;
        return FOLD_OK;
    }
    fold_kkt_sides_free(kkt); /* the legacy thresholds alone (ambiguity = ignore) */
    if ((st = complementarity_level(kkt, solver, kkt->cls.gval, &level)) != FOLD_OK) return st;
    dtol = dual_threshold(kkt, solver, level);
    if (kkt->m > 0 &&
        (st = classify_constraints(kkt, solver, kkt->cls.gval, dtol, policy)) != FOLD_OK)
        return st;
    if ((st = classify_bounds(kkt, solver, dtol, policy)) != FOLD_OK) return st;
    kkt->cls.n_weak_classified = kkt->cls.n_weak_sides = kkt->cls.n_weak;
    /* The barrier form is continuous at weakly active points (§3.4): report, never refuse. */
    if (kkt->cls.n_weak > 0 && !barrier) {
        if (policy == FOLD_WEAK_REFUSE) return refuse(kkt, fn);
        kkt->cls.is_one_sided = true;
    }
    return FOLD_OK;
}

fold_status fold_kkt_class_alloc(fold_kkt_class *cls, fold_int n, fold_int m)
{
    size_t nn = (size_t)n, mm = (size_t)(m > 0 ? m : 1);
    cls->xstat = fold_calloc(nn, 1, "variable status");
    cls->cstat = fold_calloc(mm, 1, "constraint status");
    cls->gval = fold_calloc(mm, sizeof(double), "constraint values");
    return cls->xstat && cls->cstat && cls->gval ? FOLD_OK : FOLD_ERR_MEMORY;
}

void fold_kkt_class_free(fold_kkt_class *cls)
{
    free(cls->xstat);
    free(cls->cstat);
    free(cls->gval);
    free(cls->weak);
}
