/* Iterative backward methods of the KKT fold (doc/math.md §3.9, doc/iterative.md §6): LFPI
 * (preconditioned Richardson) and its Krylov accelerations GMRES, BiCGSTAB, MINRES on the
 * assembled, scaled KKT matrix, with the preconditioners of kkt_precond.c. */
#include "fold/fold_internal.h"
#include "fold/krylov/krylov.h"

/* Own name tables: fold_enum_name returns one shared buffer, and messages name both. */
static const char *method_name(int method)
{
    static const char *names[] = {"direct", "lfpi", "gmres", "minres", "bicgstab", "cg"};
    return method >= 0 && method <= FOLD_BACKWARD_CG ? names[method] : "?";
}

static const char *pc_name(int kind)
{
    static const char *names[] = {"none", "jacobi", "block", "exact", "nearby"};
    return kind >= 0 && kind <= FOLD_PRECOND_NEARBY ? names[kind] : "?";
}

fold_status fold_kkt_iter_check(const fold_settings *set, const char *fn)
{
    int method = set->backward.method, kind = set->precond.kind;
    if (method == FOLD_BACKWARD_DIRECT) return FOLD_OK;
    if (method < FOLD_BACKWARD_LFPI || method > FOLD_BACKWARD_CG)
        return fold_error(FOLD_ERR_SETTING, "%s: backward.method = %d unknown", fn, method);
    if (kind < FOLD_PRECOND_NONE || kind > FOLD_PRECOND_NEARBY)
        return fold_error(FOLD_ERR_SETTING, "%s: precond.kind = %d unknown", fn, kind);
    return FOLD_OK;
}

/* Needs of CG and MINRES that depend on the assembled system: with multiplier rows K is
 * indefinite (no CG) and so is its factorization (not a MINRES preconditioner). Without them
 * K = H_FF (+ Sigma_x) is symmetric positive definite at a strict minimizer (§3.9). */
static fold_status check_symmetric_needs(const fold_kkt *kkt, const fold_settings *set,
                                         const char *fn)
{
    int method = set->backward.method, kind = set->precond.kind;
    fold_int n_dual = kkt->nK - kkt->n_primal;
    if (n_dual == 0) return FOLD_OK;
    if (method == FOLD_BACKWARD_CG)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: backward.method = cg needs a symmetric positive definite matrix; "
                          "the KKT matrix (order %lld, %lld multiplier rows) is indefinite (use "
                          "minres, gmres or bicgstab)",
                          fn, (long long)kkt->nK, (long long)n_dual);
    if (method == FOLD_BACKWARD_MINRES &&
        (kind == FOLD_PRECOND_EXACT || kind == FOLD_PRECOND_NEARBY))
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: backward.method = minres needs a symmetric positive definite "
                          "preconditioner; precond.kind = %s is a factorization of the "
                          "indefinite KKT matrix (%lld multiplier rows; use none, jacobi or "
                          "block, or gmres)",
                          fn, pc_name(kind), (long long)n_dual);
    return FOLD_OK;
}

bool fold_kkt_iter_wants_factor(const fold_kkt *kkt, const fold_settings *set)
{
    int kind = set->precond.kind;
    if (set->backward.method == FOLD_BACKWARD_DIRECT || kind == FOLD_PRECOND_EXACT) return true;
    /* nearby: factor only when no factorization of this pattern is kept (the first solution,
     * or the pattern changed, which frees the old one); otherwise the kept one is used. */
    return kind == FOLD_PRECOND_NEARBY && !kkt->F;
}

/* y = K x with the scaled KKT matrix (symmetric: the transpose is the same product). */
static fold_status apply_k(void *ctx, bool transpose, const double *x, double *y)
{
    fold_la_spmv(fold_kkt_matrix(ctx), transpose, x, y, false);
    return FOLD_OK;
}

/* z = M^{-1} r with the factorization in kkt->F (current or nearby): no refinement, since
 * the Krylov method itself corrects against K. */
static fold_status apply_factor(void *ctx, bool transpose, const double *r, double *z)
{
    fold_kkt *kkt = ctx;
    fold_status st = fold_la_factor_apply(kkt->F, transpose, 1, r, z);
    return st < 0 ? fold_error_context(st, "preconditioner") : FOLD_OK;
}

/* Set up the preconditioner of set->precond.kind for the current system. */
static fold_status setup_pc(fold_kkt *kkt, const fold_settings *set, fold_kry_pc *pc,
                            fold_backward_info *info, const char *fn)
{
    fold_la_factor_info fi;
    fold_status st;
    pc->apply = NULL;
    pc->ctx = NULL;
    switch (set->precond.kind) {
    case FOLD_PRECOND_NONE:
        return FOLD_OK;
    case FOLD_PRECOND_JACOBI:
    case FOLD_PRECOND_BLOCK:
        if ((st = fold_kkt_pc_setup(kkt, set->precond.kind, info, fn)) < 0) return st;
        pc->apply = fold_kkt_pc_apply;
        pc->ctx = kkt->pc;
        return FOLD_OK;
    default: /* exact or nearby: a factorization of K kept in the backward state */
        if (!kkt->F)
            return fold_error(FOLD_ERR_SINGULAR,
                              "%s: precond.kind = %s: no factorization of the KKT matrix of order "
                              "%lld is available (singular system)",
                              fn, pc_name(set->precond.kind), (long long)kkt->nK);
        fold_la_factor_get_info(kkt->F, &fi);
        info->factor_nnz = fi.factor_nnz;
        info->factorization = fi.factorization;
        /* nearby: a factorization of an earlier solution's matrix is being reused */
        if (!kkt->has_factor) info->reused_factorization = true;
        pc->apply = apply_factor;
        pc->ctx = kkt;
        return FOLD_OK;
    }
}

fold_status fold_kkt_iter_solve(fold_kkt *kkt, const fold_settings *set, fold_int nrhs,
                                const double *B, double *X, fold_backward_info *info)
{
    const char *fn = kkt->fn ? kkt->fn : "KKT fold";
    int method = set->backward.method;
    fold_kry_op op = {kkt->nK, apply_k, kkt};
    fold_kry_pc pc;
    fold_kry_params prm = {set->backward.tol, set->backward.max_iter, set->backward.restart, false,
                           0};
    fold_backward_info local;
    fold_status st = FOLD_OK;
    double t0 = fold_time_now();
    if (!info) {
        memset(&local, 0, sizeof local);
        info = &local;
    }
    info->method = method;
    if (kkt->nK == 0 || nrhs == 0) {
        info->n_rhs += nrhs;
        info->reason = FOLD_REASON_CONVERGED;
        return FOLD_OK;
    }
    if ((st = check_symmetric_needs(kkt, set, fn)) < 0) return st;
    if ((st = setup_pc(kkt, set, &pc, info, fn)) < 0) return st;
    if (info->reason == FOLD_REASON_DIRECT) info->reason = FOLD_REASON_CONVERGED;
    for (fold_int c = 0; c < nrhs && st >= 0; c++) {
        fold_kry_result res = {0};
        double *x = X + c * kkt->nK;
        memset(x, 0, (size_t)kkt->nK * sizeof(double));
        st = fold_kry_solve(method, &op, &pc, &prm, B + c * kkt->nK, x, &res);
        info->iterations += res.iterations;
        if (res.residual > info->residual || !isfinite(res.residual))
            info->residual = res.residual;
        if (res.reason != FOLD_REASON_CONVERGED) info->reason = res.reason;
        info->n_rhs++;
        fold_log(set, 2, "%s: %s (precond %s), right-hand side %lld: %lld iterations, relative "
                 "residual %.3e",
                 fn, method_name(method), pc_name(set->precond.kind), (long long)c,
                 (long long)res.iterations, res.residual);
    }
    info->solve_s += fold_time_now() - t0;
    if (st < 0 && st != FOLD_ERR_MEMORY)
        fold_error_context(st, "%s: backward.method = %s, precond.kind = %s, KKT order %lld", fn,
                           method_name(method), pc_name(set->precond.kind), (long long)kkt->nK);
    return st;
}

/* A rescued right-hand side whose relative residual stays above backward.tol but below this
 * is still taken as consistent (its residual is reported: FOLD_WARN_INACCURATE); an
 * inconsistent one keeps its component outside range(K), normally far larger. */
#define RESCUE_CONSISTENT 1e-8

fold_status fold_kkt_iter_rescue(fold_kkt *kkt, const fold_settings *set, fold_int nrhs,
                                 const double *B, double *X, unsigned char *bad, fold_int *n_bad,
                                 fold_backward_info *info)
{
    fold_kry_op op = {kkt->nK, apply_k, kkt};
    fold_kry_pc pc = {apply_factor, kkt};
    int cycle = set->backward.restart;
    if (set->backward.max_iter < cycle) cycle = (int)set->backward.max_iter;
    fold_kry_params prm = {set->backward.tol, cycle, cycle, false, 0};
    for (fold_int c = 0; c < nrhs && *n_bad > 0; c++) {
        if (!bad[c]) continue;
        fold_kry_result res = {0};
        double *x = X + c * kkt->nK;
        memset(x, 0, (size_t)kkt->nK * sizeof(double));
        fold_status st = fold_kry_gmres(&op, &pc, &prm, B + c * kkt->nK, x, &res);
        if (st == FOLD_ERR_MEMORY) return st;
        if (info) info->iterations += res.iterations;
        fold_log(set, 2, "%s: right-hand side %lld missed eq. 4.9; GMRES: %lld iterations, "
                 "relative residual %.3e", kkt->fn ? kkt->fn : "KKT fold", (long long)c,
                 (long long)res.iterations, res.residual);
        if ((st != FOLD_OK && st != FOLD_ERR_NOT_CONVERGED) ||
            !(res.residual <= fmax(set->backward.tol, RESCUE_CONSISTENT)))
            continue;
        bad[c] = 0;
        (*n_bad)--;
        if (info && res.residual > info->residual) info->residual = res.residual;
    }
    return FOLD_OK;
}
