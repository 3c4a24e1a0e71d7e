/* The KKT system as a system of the backward engine (engine.h; doc/math.md §3.9, §4.8): the
 * assembled, scaled KKT matrix K (the KKT map with M = I), its preconditioners (kkt_precond.c),
 * its factorization as the direct method and as M, and the least-squares fallback. */
#include "fold/engine.h"
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

fold_status fold_kkt_iter_check(const fold_settings *set, const char *fn)
{
    int method = set->backward.method, kind = set->precond.kind;
    if (method == FOLD_BACKWARD_DIRECT) return FOLD_OK;
    if (method < FOLD_BACKWARD_LFPI || method > FOLD_BACKWARD_CG)
        return fold_error(FOLD_ERR_SETTING, "%s: backward.method = %d unknown", fn, method);
    if (kind < FOLD_PRECOND_NONE || kind > FOLD_PRECOND_AUTO)
        return fold_error(FOLD_ERR_SETTING, "%s: precond.kind = %d unknown", fn, kind);
    return FOLD_OK;
}

/* y = K x with the scaled KKT matrix (symmetric: the transpose is the same product). */
static fold_status apply_k(void *ctx, bool transpose, const double *x, double *y)
{
    fold_la_spmv(fold_kkt_matrix(ctx), transpose, x, y, false);
    /* matrix-free: K without H, plus H by one product (eq. 3.24; symmetric) */
    return fold_kkt_product_active(ctx) ? fold_kkt_product_apply_h(ctx, x, y) : FOLD_OK;
}

/* z = M^{-1} r with the factorization in kkt->fac.F (current or nearby): no refinement, since
 * the Krylov method itself corrects against K. */
static fold_status apply_factor(void *ctx, bool transpose, const double *r, double *z)
{
    fold_kkt *kkt = ctx;
    /* a comparison run over the regularized primary: its bordered inverse (§4.9) */
    fold_status st = kkt->border.run ? fold_kkt_border_apply(kkt, transpose, r, z)
                                     : fold_la_factor_apply(kkt->fac.F, transpose, 1, r, z);
    return st < 0 ? fold_error_context(st, "preconditioner") : FOLD_OK;
}

static fold_status jacobi(void *ctx, double *d)
{
    fold_kkt_pc_diagonal(ctx, d);
    return FOLD_OK;
}

/* block: eq. 3.23 (cached per solution); exact or nearby: the factorization in kkt->fac.F. */
static fold_status factor_pc(void *ctx, int kind, fold_kry_pc *pc, fold_backward_info *info)
{
    fold_kkt *kkt = ctx;
    const char *fn = kkt->fn ? kkt->fn : "KKT fold";
    fold_la_factor_info fi;
    fold_status st;
    if (kind == FOLD_PRECOND_BLOCK || kind == FOLD_PRECOND_BLOCK_DIAG) {
        /* matrix-free: no H in K, the primal block is the diagonal estimate (eq. 3.25) */
        bool diag = kind == FOLD_PRECOND_BLOCK_DIAG || fold_kkt_product_active(kkt);
        if ((st = fold_kkt_pc_setup(kkt, diag, info, fn)) < 0) return st;
        pc->apply = fold_kkt_pc_apply;
        pc->ctx = kkt->fac.pc;
        return FOLD_OK;
    }
    if (!kkt->fac.F)
        return fold_error(FOLD_ERR_SINGULAR,
                          "%s: precond.kind = %s: no factorization of the KKT matrix of order "
                          "%lld is available (singular system)",
                          fn, fold_precond_name(kind), (long long)kkt->sys.nK);
    fold_la_factor_get_info(kkt->fac.F, &fi);
    info->factor_nnz = fi.factor_nnz;
    info->factorization = fi.factorization;
    /* nearby: a factorization of an earlier solution's matrix is being reused */
    if (!kkt->fac.has_factor) info->reused_factorization = true;
    pc->apply = apply_factor;
    pc->ctx = kkt;
    return FOLD_OK;
}

static fold_status direct(void *ctx, const fold_settings *set, bool transpose, fold_int nrhs,
                          const double *B, double *X, unsigned char *bad, fold_int *n_bad,
                          double *residual, fold_backward_info *info)
{
    fold_kkt *kkt = ctx;
    fold_status st;
    if (kkt->border.run) { /* a comparison run over the primary factorization (§4.9) */
        st = fold_kkt_border_solve(kkt, set, transpose, nrhs, B, X, residual, bad, n_bad);
        if (st != FOLD_WARN_INACCURATE) return st;
        fold_clear_error(); /* missed refine_tol: the run's K factored, as without the border */
        if ((st = fold_kkt_factor_run(kkt, set)) < 0) return st;
        if (kkt->fac.is_lsq || !kkt->fac.F) /* singular after all: least squares asked for */
            return fold_la_lsq_solve(fold_kkt_matrix(kkt), transpose, nrhs, B, X, &kkt->cm);
    }
    st = fold_la_factor_solve_cols(kkt->fac.F, transpose, nrhs, B, X, set->backward.refine_steps,
                                   set->backward.refine_tol, residual, bad, n_bad);
    /* AUTO may have switched to LU during the solve (doc/math.md §4.4). */
    fold_la_factor_get_info(kkt->fac.F, &kkt->fac.finfo);
    info->factorization = kkt->fac.finfo.factorization;
    info->factor_nnz = kkt->fac.finfo.factor_nnz;
    snprintf(info->fallback_reason, sizeof info->fallback_reason, "%s",
             kkt->fac.finfo.fallback_reason);
    return st;
}

/* A comparison run bordered over the regularized primary (§4.9): its solves and GMRES's M
 * are the bordered inverse, not a factorization of its own K. */
static bool approximate(void *ctx)
{
    fold_kkt *kkt = ctx;
    return kkt->border.run && fold_kkt_border_delta(kkt) > 0.0;
}

static fold_status refactor(void *ctx, const fold_settings *set)
{
    fold_kkt *kkt = ctx;
    fold_log(set, 3, "%s: comparison run (variant %d): GMRES not converged over the border",
             kkt->fn, kkt->cands.variant);
    return fold_kkt_factor_run(kkt, set);
}

/* The primary run's solutions kept for the comparison runs (§4.9). */
static void record(void *ctx, const fold_settings *set, fold_int nrhs, const double *B,
                   const double *X, const unsigned char *bad)
{
    fold_kkt_border_record(ctx, set, nrhs, B, X, bad);
}

static fold_status lsq(void *ctx, bool transpose, fold_int nrhs, const double *B, double *X)
{
    fold_kkt *kkt = ctx;
    return fold_la_lsq_solve(fold_kkt_matrix(kkt), transpose, nrhs, B, X, &kkt->cm);
}

/* A right-hand side not orthogonal to the null space of a regularized K (§4.8): the
 * derivative asked for is not unique (the upstream gradient weighs an undetermined entry)
 * or does not exist (the direction moves dependent constraints apart). */
static fold_status not_unique(void *ctx)
{
    const fold_kkt *kkt = ctx;
    char dirs[FOLD_LIST_LEN] = "";
    fold_kkt_null_describe(kkt, dirs, sizeof dirs);
    return fold_error(FOLD_ERR_SINGULAR,
                      "%s: the requested derivative is not unique: the KKT matrix of order %lld "
                      "is singular (solved with regularization delta = %.3g) and the "
                      "right-hand side is not orthogonal to its null space (null direction on "
                      "%s; e.g. an upstream gradient on one of several variables that enter the "
                      "problem identically, or on the multiplier of one of several dependent "
                      "constraints); set backward.lsq_fallback for the minimum-norm "
                      "least-squares result",
                      kkt->fn ? kkt->fn : "fold", (long long)kkt->sys.nK,
                      kkt->fac.finfo.singular_delta, dirs[0] ? dirs : "not resolved");
}

fold_system fold_kkt_system(fold_kkt *kkt, char *what, size_t len)
{
    snprintf(what, len, "KKT order %lld", (long long)kkt->sys.nK);
    fold_system sys = {
        .fn = kkt->fn ? kkt->fn : "KKT fold",
        .what = what,
        .n = kkt->sys.nK,
        .is_symmetric = true,
        .n_indefinite = kkt->sys.nK - kkt->sys.n_primal,
        /* Newton's map: M = the KKT matrix (§1.1); matrix-free, the block preconditioner */
        .natural_pc = fold_kkt_product_active(kkt) ? FOLD_PRECOND_BLOCK : FOLD_PRECOND_EXACT,
        .op = {kkt->sys.nK, apply_k, kkt},
        .ctx = kkt,
        .jacobi = jacobi,
        .factor_pc = factor_pc,
        .direct = direct,
        .rescue = {apply_factor, kkt},
        .solved = record,
        .approximate = approximate,
        .refactor = refactor,
        .lsq = lsq,
        .use_lsq = kkt->fac.is_lsq,
        .not_unique = not_unique,
        .auto_memo = &kkt->fac.auto_memo,
    };
    return sys;
}

bool fold_kkt_iter_wants_factor(fold_kkt *kkt, const fold_settings *set)
{
    char what[32];
    if (set->backward.method == FOLD_BACKWARD_DIRECT) return true;
    fold_system sys = fold_kkt_system(kkt, what, sizeof what);
    int kind = fold_system_precond(&sys, set);
    if (kind == FOLD_PRECOND_EXACT) return true;
    /* nearby: factor only when no factorization of this pattern is kept (the first solution,
     * or the pattern changed, which frees the old one); otherwise the kept one is used. */
    return kind == FOLD_PRECOND_NEARBY && !kkt->fac.F;
}

fold_status fold_kkt_solve(fold_kkt *kkt, const fold_settings *set, fold_int nrhs, const double *B,
                           double *X, unsigned char *bad, fold_backward_info *info)
{
    char what[32];
    fold_system sys = fold_kkt_system(kkt, what, sizeof what);
    return fold_system_solve(&sys, set, false, nrhs, B, X, bad, info);
}
