/* Entries of a derivative that a singular KKT matrix leaves undetermined (doc/math.md §4.8,
 * eqs. 4.10-4.11): the null-space probe of the regularized factorization mapped to the
 * variables, multipliers, bound multipliers and parameters, and their marking in results
 * (NaN, or FOLD_ERR_SINGULAR under backward.not_unique = refuse). */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

void fold_kkt_null_free(fold_kkt *kkt)
{
    free(kkt->ns.null_x);
    free(kkt->ns.null_l);
    free(kkt->ns.null_z);
    free(kkt->ns.null_p);
    kkt->ns.null_x = kkt->ns.null_l = kkt->ns.null_z = kkt->ns.null_p = NULL;
    kkt->ns.has_null = false;
    kkt->ns.n_null_x = kkt->ns.n_null_l = kkt->ns.n_null_p = 0;
}

/* flag[k] = |s_k| > tiny a_k for s = P' v (or P v) and a = |P'| |v|: a linear functional of
 * the null direction that does not cancel (eq. 4.11). s and a are accumulated first. */
static void accumulate(const fold_owned_pattern *P, const double *val, bool transpose,
                       const double *v, double *s, double *a)
{
    const fold_int *ri = transpose ? P->col : P->row, *ci = transpose ? P->row : P->col;
    for (fold_int k = 0; k < P->nnz; k++) {
        double t = val[k] * v[ci[k]];
        s[ri[k]] += t;
        a[ri[k]] += fabs(t);
    }
}

static fold_int flag_uncancelled(const double *s, const double *a, fold_int len,
                                 unsigned char *flag)
{
    fold_int count = 0;
    for (fold_int k = 0; k < len; k++) {
        flag[k] = fabs(s[k]) > FOLD_LA_PROBE_TINY * a[k];
        count += flag[k];
    }
    return count;
}

/* The Hessian term H v (lower triangle mirrored) of the stationarity residual. */
static void accumulate_hessian(const fold_kkt *kkt, const double *v, double *s, double *a)
{
    const fold_owned_pattern *P = &kkt->prob->hess_l;
    for (fold_int k = 0; k < P->nnz; k++) {
        fold_int r = P->row[k], c = P->col[k];
        double t = kkt->val.hv[k] * v[c];
        s[r] += t;
        a[r] += fabs(t);
        if (r != c) {
            t = kkt->val.hv[k] * v[r];
            s[c] += t;
            a[c] += fabs(t);
        }
    }
}

/* The null-space arrays and a buffer of nK + 3 n + m + 3 np + 1 doubles (z, zx, zl, s, pa,
 * rs, ra, sb); NULL (nothing allocated) when memory runs out. */
static double *null_alloc(fold_kkt *kkt)
{
    fold_int n = kkt->n, m = kkt->m, np = kkt->np, nK = kkt->sys.nK;
    double *z = fold_malloc((size_t)(nK + 3 * n + m + 3 * np + 1), sizeof *z, "null-space probe");
    kkt->ns.null_x = fold_calloc((size_t)n + 1, 1, "undetermined variables");
    kkt->ns.null_l = fold_calloc((size_t)m + 1, 1, "undetermined multipliers");
    kkt->ns.null_z = fold_calloc((size_t)n + 1, 1, "undetermined stationarity residuals");
    kkt->ns.null_p = fold_calloc((size_t)np + 1, 1, "undetermined parameter entries");
    if (!z || !kkt->ns.null_x || !kkt->ns.null_l || !kkt->ns.null_z || !kkt->ns.null_p) {
        free(z);
        fold_kkt_null_free(kkt);
        return NULL;
    }
    return z;
}

static void null_mark(fold_kkt *kkt, double *z);

fold_status fold_kkt_null_setup_vector(fold_kkt *kkt, const double *zK)
{
    fold_kkt_null_free(kkt);
    double *z = null_alloc(kkt);
    if (!z) return FOLD_ERR_MEMORY;
    memcpy(z, zK, (size_t)kkt->sys.nK * sizeof *z);
    null_mark(kkt, z);
    free(z);
    return FOLD_OK;
}

fold_status fold_kkt_null_setup(fold_kkt *kkt)
{
    fold_status st = FOLD_OK;
    double residual = HUGE_VAL;
    fold_kkt_null_free(kkt);
    if (!kkt->fac.F || !(kkt->fac.finfo.singular_delta > 0.0)) return FOLD_OK;
    double *z = null_alloc(kkt);
    if (!z) return FOLD_ERR_MEMORY;
    if ((st = fold_la_factor_null_probe(kkt->fac.F, z, &residual))) goto done;
    if (kkt->solver)
        fold_log(&kkt->solver->set, 3,
                 "%s: null-space probe of the %s KKT matrix: residual %.3g (a null "
                 "vector at most %.3g)",
                 kkt->fn ? kkt->fn : "fold",
                 fold_la_factor_pinned(kkt->fac.F) ? "pinned" : "regularized", residual,
                 FOLD_LA_NULL_RESIDUAL * kkt->fac.finfo.singular_delta);
    /* A residual far above delta: K is only ill-conditioned, and the refined solves are
     * its unique solutions. */
    if (residual <= FOLD_LA_NULL_RESIDUAL * kkt->fac.finfo.singular_delta) null_mark(kkt, z);
done:
    free(z);
    if (st) fold_kkt_null_free(kkt);
    return st;
}

/* The entries that the null vector z (K's coordinates, in a buffer of null_alloc's) moves. */
static void null_mark(fold_kkt *kkt, double *z)
{
    fold_int n = kkt->n, m = kkt->m, np = kkt->np, nK = kkt->sys.nK;
    kkt->ns.has_null = true;
    double *zx = z + nK, *zl = zx + n, *s = zl + m;
    /* The null direction in the unscaled variables (dx = S u, as fold_kkt_finish_jvp). */
    for (fold_int j = 0; j < n; j++) {
        fold_int t = kkt->sys.xpos[j];
        zx[j] = t >= 0 ? z[t] * kkt->sys.kscale[t] : 0.0;
        kkt->ns.null_x[j] = zx[j] != 0.0;
        kkt->ns.n_null_x += kkt->ns.null_x[j];
    }
    for (fold_int i = 0; i < m; i++) {
        fold_int t = kkt->sys.cpos[i];
        zl[i] = t >= 0 ? z[t] * kkt->sys.kscale[t] *
                             (kkt->sys.form == FOLD_KKT_BARRIER ? kkt->sys.jmask[i] : 1.0)
                       : 0.0;
    }
    fold_kkt_condense_finish(kkt, NULL, zx, zl); /* condensed rows: Sigma_s J_i zx (3.14a) */
    for (fold_int i = 0; i < m; i++) {
        kkt->ns.null_l[i] = zl[i] != 0.0;
        kkt->ns.n_null_l += kkt->ns.null_l[i];
    }
    /* Parameters: pbar moves by L_xp' zx + g_p' zl along the null direction (eq. 3.11). */
    memset(s, 0, (size_t)(2 * np + 2 * n) * sizeof *s);
    double *pa = s + np, *rs = pa + np, *ra = rs + n;
    if (!fold_kkt_lxp_accumulate(kkt, zx, s, pa))
        accumulate(&kkt->prob->hess_lp, kkt->val.lpv, true, zx, s, pa);
    accumulate(&kkt->prob->jac_g_p, kkt->val.gpv, true, zl, s, pa);
    if (kkt->prob->has_bound_maps) { /* and by the terms of moving bounds (math.md §3.10) */
        double *sb = ra + n;
        memset(sb, 0, (size_t)np * sizeof *sb);
        fold_kkt_bound_vjp(kkt, zx, NULL, zl, NULL, NULL, NULL, sb);
        for (fold_int k = 0; k < np; k++) {
            s[k] -= sb[k];
            pa[k] += fabs(sb[k]);
        }
    }
    kkt->ns.n_null_p = flag_uncancelled(s, pa, np, kkt->ns.null_p);
    if (kkt->solver)
        fold_log(&kkt->solver->set, 3,
                 "%s: null direction on %lld variables, %lld multipliers, %lld parameters",
                 kkt->fn ? kkt->fn : "fold", (long long)kkt->ns.n_null_x,
                 (long long)kkt->ns.n_null_l, (long long)kkt->ns.n_null_p);
    /* Bound multipliers: the stationarity residual moves by H zx + J' zl (eq. 3.9). */
    accumulate_hessian(kkt, zx, rs, ra);
    accumulate(&kkt->prob->jac_g, kkt->val.jv, true, zl, rs, ra);
    flag_uncancelled(rs, ra, n, kkt->ns.null_z);
}

/* Entries named in messages before "and N more". */
#define SHOWN 4

void fold_kkt_null_describe(const fold_kkt *kkt, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!kkt->ns.has_null) return;
    fold_prob_name_list(kkt->prob, FOLD_ITEM_VARIABLE, kkt->ns.null_x, NULL, kkt->n, SHOWN, buf,
                        size);
    if (!kkt->ns.n_null_l) return;
    size_t at = strlen(buf);
    snprintf(buf + at, size - at, "%smultipliers of ", at ? "; " : "");
    at = strlen(buf);
    /* fold_prob_name_list separates from what is already in buf: start a fresh list */
    fold_prob_name_list(kkt->prob, FOLD_ITEM_CONSTRAINT, kkt->ns.null_l, NULL, kkt->m, SHOWN,
                        buf + at, size - at);
}

/* what: "the parameter gradient is"; the flagged entries are items of `kind`, introduced
 * by `of` ("", "the multipliers of ", "the bound multipliers of "). */
static fold_status refuse(const fold_kkt *kkt, const char *what, const char *of,
                          const unsigned char *flag, fold_int len, int kind)
{
    char entries[FOLD_LIST_LEN] = "", dirs[FOLD_LIST_LEN] = "";
    fold_prob_name_list(kkt->prob, kind, flag, NULL, len, SHOWN, entries, sizeof entries);
    fold_kkt_null_describe(kkt, dirs, sizeof dirs);
    return fold_error(FOLD_ERR_SINGULAR,
                      "%s: %s not unique: the KKT matrix of order %lld is singular (null "
                      "direction on %s; e.g. dependent active constraints, or variables that "
                      "enter the problem identically) and leaves %s%s undetermined "
                      "(backward.not_unique = refuse)",
                      kkt->fn ? kkt->fn : "fold", what, (long long)kkt->sys.nK, dirs, of, entries);
}

fold_status fold_kkt_null_check_vjp(const fold_kkt *kkt, const fold_settings *set)
{
    if (!kkt->ns.has_null || !kkt->ns.n_null_p ||
        set->backward.not_unique != FOLD_NOT_UNIQUE_REFUSE)
        return FOLD_OK;
    return refuse(kkt, "the parameter gradient is", "", kkt->ns.null_p, kkt->np,
                  FOLD_ITEM_PARAMETER);
}

void fold_kkt_null_mark_vjp(const fold_kkt *kkt, fold_int nrhs, double *pbar,
                            fold_backward_info *info)
{
    if (!kkt->ns.has_null || !kkt->ns.n_null_p || !pbar) return;
    for (fold_int c = 0; c < nrhs; c++)
        for (fold_int k = 0; k < kkt->np; k++)
            if (kkt->ns.null_p[k]) pbar[c * kkt->np + k] = NAN;
    if (info) info->n_not_unique += kkt->ns.n_null_p * nrhs;
}

/* dzl_j = al_j r_j - sigl_j dx_j, dzu_j = -au_j r_j + sigu_j dx_j (eq. 3.9, 3.16): which of
 * them the null direction moves (the weights must be formed). */
static bool z_flag(const fold_kkt *kkt, fold_int j, bool upper)
{
    double a = upper ? kkt->sys.au[j] : kkt->sys.al[j],
           sg = upper ? kkt->sys.sigu[j] : kkt->sys.sigl[j];
    return (a != 0.0 && kkt->ns.null_z[j]) || (sg != 0.0 && kkt->ns.null_x[j]);
}

static fold_int count_z(const fold_kkt *kkt, bool upper)
{
    fold_int count = 0;
    for (fold_int j = 0; j < kkt->n; j++)
        count += z_flag(kkt, j, upper);
    return count;
}

/* FOLD_ERR_SINGULAR "<fn>: <what> ... (null direction on ...)<after>". */
static fold_status null_error(const fold_kkt *kkt, const char *what, const char *after)
{
    char dirs[FOLD_LIST_LEN] = "";
    fold_kkt_null_describe(kkt, dirs, sizeof dirs);
    return fold_error(FOLD_ERR_SINGULAR, "%s: %s a singular KKT matrix (null direction on %s)%s",
                      kkt->fn ? kkt->fn : "fold", what, dirs[0] ? dirs : "not resolved", after);
}

/* dp is not a direction of differentiability: `why` names what moves. */
static fold_status not_differentiable(const fold_kkt *kkt, const char *why)
{
    char what[2 * FOLD_NAME_MAX + 256];
    snprintf(what, sizeof what,
             "the solution is not differentiable in the direction dp: %s a "
             "combination of constraints that",
             why);
    return null_error(kkt, what,
                      " cannot follow (dependent active constraints: the active "
                      "set changes)");
}

fold_status fold_kkt_null_not_differentiable(const fold_kkt *kkt)
{
    return not_differentiable(kkt, "its right-hand side is not orthogonal to the null space "
                                   "(the refinement corrections do not decrease, eq. 4.9): dp "
                                   "moves");
}

fold_status fold_kkt_null_refuse_line(const fold_kkt *kkt, bool column, fold_int k)
{
    char what[FOLD_NAME_MAX + 128], name[FOLD_NAME_MAX];
    if (column)
        fold_prob_name(kkt->prob, FOLD_ITEM_PARAMETER, k, name, sizeof name);
    else
        snprintf(name, sizeof name, "output %lld", (long long)k);
    snprintf(what, sizeof what,
             "the %s %s %s: its right-hand side is not orthogonal to the "
             "null space of",
             column ? "column of" : "row of", name,
             column ? "is not differentiable" : "is not unique");
    return null_error(kkt, what, " (backward.not_unique = refuse)");
}

fold_status fold_kkt_null_check_jvp(fold_kkt *kkt, const fold_settings *set, fold_int nrhs,
                                    const double *dP, bool want_x, bool want_lam, bool want_z)
{
    if (!kkt->ns.has_null) return FOLD_OK;
    for (fold_int c = 0; c < nrhs; c++)
        for (fold_int k = 0; k < kkt->np; k++)
            if (kkt->ns.null_p[k] && dP[c * kkt->np + k] != 0.0) {
                char why[FOLD_NAME_MAX + 96], name[FOLD_NAME_MAX];
                fold_prob_name(kkt->prob, FOLD_ITEM_PARAMETER, k, name, sizeof name);
                snprintf(why, sizeof why, "dp[%lld] = %g (parameter %s) moves", (long long)k,
                         dP[c * kkt->np + k], name);
                return not_differentiable(kkt, why);
            }
    if (set->backward.not_unique != FOLD_NOT_UNIQUE_REFUSE) return FOLD_OK;
    if (want_x && kkt->ns.n_null_x)
        return refuse(kkt, "dx is", "", kkt->ns.null_x, kkt->n, FOLD_ITEM_VARIABLE);
    if (want_lam && kkt->ns.n_null_l)
        return refuse(kkt, "dlam is", "the multipliers of ", kkt->ns.null_l, kkt->m,
                      FOLD_ITEM_CONSTRAINT);
    if (want_z) {
        fold_kkt_weights(kkt);
        if (count_z(kkt, false) || count_z(kkt, true))
            return refuse(kkt, "dz is", "the bound multipliers of ", kkt->ns.null_z, kkt->n,
                          FOLD_ITEM_VARIABLE);
    }
    return FOLD_OK;
}

static fold_int mark(const unsigned char *flag, fold_int len, double *v)
{
    fold_int count = 0;
    for (fold_int k = 0; v && k < len; k++)
        if (flag[k]) {
            v[k] = NAN;
            count++;
        }
    return count;
}

void fold_kkt_null_mark_jvp(const fold_kkt *kkt, double *dx, double *dlam, double *dzl, double *dzu,
                            fold_backward_info *info)
{
    if (!kkt->ns.has_null) return;
    fold_int count = mark(kkt->ns.null_x, kkt->n, dx) + mark(kkt->ns.null_l, kkt->m, dlam);
    for (fold_int j = 0; j < kkt->n; j++) {
        if (dzl && z_flag(kkt, j, false)) dzl[j] = NAN, count++;
        if (dzu && z_flag(kkt, j, true)) dzu[j] = NAN, count++;
    }
    if (info) info->n_not_unique += count;
}

bool fold_kkt_null_entry(const fold_kkt *kkt, fold_block of, fold_int k)
{
    if (!kkt->ns.has_null) return false;
    switch (of) {
    case FOLD_BLOCK_X:
        return kkt->ns.null_x[k];
    case FOLD_BLOCK_LAM:
        return kkt->ns.null_l[k];
    case FOLD_BLOCK_ZL:
        return z_flag(kkt, k, false);
    default:
        return z_flag(kkt, k, true);
    }
}

fold_status fold_kkt_null_degenerate(fold_kkt *kkt, const fold_solver *solver, const char *fn)
{
    fold_status st;
    kkt->cls.n_weak = kkt->cls.n_weak_classified; /* a repeated factorization adds them once */
    fold_int n_before = kkt->cls.n_weak;
    if (!kkt->ns.has_null || kkt->sys.form == FOLD_KKT_BARRIER) return FOLD_OK;
    for (fold_int j = 0; j < kkt->n; j++) {
        int xs = kkt->cls.xstat[j];
        if (xs == FOLD_XS_FREE || xs == FOLD_XS_FIXED || !kkt->ns.null_z[j]) continue;
        if ((st = fold_kkt_add_weak_item(kkt, solver, -1, j))) return st;
    }
    for (fold_int i = 0; i < kkt->m; i++) {
        int cs = kkt->cls.cstat[i];
        if ((cs != FOLD_CS_LOWER && cs != FOLD_CS_UPPER) || !kkt->ns.null_l[i]) continue;
        if ((st = fold_kkt_add_weak_item(kkt, solver, i, -1))) return st;
    }
    fold_int added = kkt->cls.n_weak - n_before;
    if (added == 0 || fold_kkt_dependent_candidates(kkt, solver, n_before)) return FOLD_OK;
    /* a variant of the candidates (variants.c) is compared, never refused */
    if (solver->set.active_set.weak_policy == FOLD_WEAK_REFUSE && fold_kkt_primary(kkt)) {
        char dirs[FOLD_LIST_LEN] = "", what[FOLD_NAME_MAX + 64];
        fold_kkt_null_describe(kkt, dirs, sizeof dirs);
        fold_kkt_weak_describe(kkt, &kkt->cls.weak[n_before], what, sizeof what);
        return fold_error(FOLD_ERR_DEGENERATE,
                          "%s: dependent active constraints (singular KKT matrix, null direction "
                          "on %s) whose multipliers can be shifted to zero on %lld "
                          "inequalities (first: %s): weakly active in the minimal "
                          "multipliers, the active set may change under any perturbation; see "
                          "fold_trust_report or set active_set.weak_policy",
                          fn, dirs, (long long)added, what);
    }
    kkt->cls.is_one_sided = true;
    return FOLD_OK;
}
