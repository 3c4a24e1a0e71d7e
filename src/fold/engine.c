/* The backward engine: one routine for every fold's linear solve, direct or iterative, with
 * the preconditioner choice, the GMRES rescue and the least-squares fallback (engine.h;
 * doc/math.md §3.9, §4.8; doc/iterative.md §2). */
#include "fold/engine.h"

/* Own name tables: fold_enum_name returns one shared buffer, and messages name both. */
const char *fold_method_name(int method)
{
    static const char *names[] = {"direct", "lfpi", "gmres", "minres", "bicgstab", "cg"};
    return method >= 0 && method <= FOLD_BACKWARD_CG ? names[method] : "?";
}

const char *fold_precond_name(int kind)
{
    static const char *names[] = {"none", "jacobi", "block", "exact", "nearby", "auto"};
    return kind >= 0 && kind <= FOLD_PRECOND_AUTO ? names[kind] : "?";
}

/* Can M of this kind be symmetric positive definite on sys (what MINRES and CG need)? none
 * and jacobi are (d > 0 on the KKT system; a map's diagonal may not be: MINRES then says
 * so), block when its primal block is (eq. 3.23; else MINRES breaks down and says so); the
 * factorization of A (exact, nearby) only when A has no indefinite rows. */
static bool spd_kind(const fold_system *sys, int kind)
{
    return (kind != FOLD_PRECOND_EXACT && kind != FOLD_PRECOND_NEARBY) || sys->n_indefinite == 0;
}

int fold_system_precond(const fold_system *sys, const fold_settings *set)
{
    int method = set->backward.method, kind = set->precond.kind;
    if (kind != FOLD_PRECOND_AUTO) return kind;
    if (method == FOLD_BACKWARD_DIRECT) return FOLD_PRECOND_NONE;
    bool symmetric_method = method == FOLD_BACKWARD_MINRES || method == FOLD_BACKWARD_CG;
    if (!symmetric_method || spd_kind(sys, sys->natural_pc)) return sys->natural_pc;
    /* The factorization of an indefinite KKT matrix: MINRES takes the block preconditioner
     * of eq. 3.23 instead (jacobi when it turns out indefinite, below). */
    return sys->factor_pc ? FOLD_PRECOND_BLOCK : FOLD_PRECOND_JACOBI;
}

/* What MINRES and CG need (doc/math.md §3.9): a symmetric A, definite for CG, and an SPD M. */
static fold_status check_needs(const fold_system *sys, int method, int kind)
{
    const char *fn = sys->fn;
    if ((method == FOLD_BACKWARD_MINRES || method == FOLD_BACKWARD_CG) && !sys->is_symmetric)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: backward.method = %s needs a symmetric system; %s is not (use "
                          "gmres or bicgstab)",
                          fn, fold_method_name(method), sys->what);
    if (sys->n_indefinite == 0) return FOLD_OK;
    /* only the KKT system has indefinite rows: its multiplier rows */
    if (method == FOLD_BACKWARD_CG)
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: backward.method = cg needs a symmetric positive definite matrix; "
                          "the KKT matrix (order %lld, %lld multiplier rows) is indefinite (use "
                          "minres, gmres or bicgstab)",
                          fn, (long long)sys->n, (long long)sys->n_indefinite);
    if (method == FOLD_BACKWARD_MINRES && !spd_kind(sys, kind))
        return fold_error(FOLD_ERR_UNSUPPORTED,
                          "%s: backward.method = minres needs a symmetric positive definite "
                          "preconditioner; precond.kind = %s is a factorization of the "
                          "indefinite KKT matrix (%lld multiplier rows; use none, jacobi, block "
                          "or auto, or gmres)",
                          fn, fold_precond_name(kind), (long long)sys->n_indefinite);
    return FOLD_OK;
}

/* The public name of a kind (the internal one is a block preconditioner). */
static int public_kind(int kind)
{
    return kind == FOLD_PRECOND_BLOCK_DIAG ? FOLD_PRECOND_BLOCK : kind;
}

static fold_status jacobi_apply(void *ctx, bool transpose, const double *r, double *z)
{
    const fold_system *sys = ((void **)ctx)[0];
    const double *inv = ((void **)ctx)[1];
    (void)transpose; /* a diagonal M is its own transpose */
    for (fold_int i = 0; i < sys->n; i++)
        z[i] = r[i] * inv[i];
    return FOLD_OK;
}

/* M of kind for sys into *pc; *inv_diag holds Jacobi's storage (freed by the caller), ctx2
 * the pair (sys, inv_diag) its apply reads. */
static fold_status setup_pc(const fold_system *sys, int kind, fold_kry_pc *pc, double **inv_diag,
                            void *ctx2[2], fold_backward_info *info)
{
    fold_status st;
    pc->apply = NULL;
    pc->ctx = NULL;
    switch (kind) {
    case FOLD_PRECOND_NONE:
        return FOLD_OK;
    case FOLD_PRECOND_JACOBI:
        if (!sys->jacobi)
            return fold_error(FOLD_ERR_UNSUPPORTED, "%s: precond.kind = jacobi: %s has no diagonal",
                              sys->fn, sys->what);
        if (!(*inv_diag = fold_malloc((size_t)sys->n, sizeof(double), "Jacobi diagonal")))
            return FOLD_ERR_MEMORY;
        if ((st = sys->jacobi(sys->ctx, *inv_diag)) < 0) return st;
        for (fold_int i = 0; i < sys->n; i++)
            (*inv_diag)[i] = 1.0 / (*inv_diag)[i];
        ctx2[0] = (void *)sys;
        ctx2[1] = *inv_diag;
        pc->apply = jacobi_apply;
        pc->ctx = ctx2;
        return FOLD_OK;
    case FOLD_PRECOND_BLOCK:
    case FOLD_PRECOND_BLOCK_DIAG:
    case FOLD_PRECOND_EXACT:
    case FOLD_PRECOND_NEARBY:
        if (!sys->factor_pc)
            return fold_error(FOLD_ERR_UNSUPPORTED, "%s: precond.kind = %s: %s has no matrix",
                              sys->fn, fold_precond_name(public_kind(kind)), sys->what);
        return sys->factor_pc(sys->ctx, kind, pc, info);
    default:
        return fold_error(FOLD_ERR_SETTING, "%s: precond.kind = %d unknown", sys->fn, kind);
    }
}

fold_int fold_system_iter_limit(const fold_settings *set)
{
    fold_int k = set->backward.fixed_iterations;
    return k > 0 ? k : set->backward.max_iter;
}

/* The end of a fixed-iteration run (backward.fixed_iterations, doc/iterative.md §2.6): the
 * iteration limit is what the caller asked for, not a failure, and so is a Krylov breakdown
 * once the true residual is within backward.tol (the method has nothing left to do: BiCGSTAB
 * at rounding level); the residual reported is the true one, ||b - A x|| / ||b||. */
static fold_status fixed_finish(const fold_system *sys, const fold_settings *set, bool transpose,
                                const double *b, const double *x, fold_status st,
                                fold_kry_result *res)
{
    bool limit = st == FOLD_ERR_NOT_CONVERGED && res->reason == FOLD_REASON_MAX_ITER;
    bool breakdown = st == FOLD_ERR_NOT_CONVERGED && res->reason == FOLD_REASON_BREAKDOWN;
    if (st < 0 && !limit && !breakdown) return st;
    fold_status failed = st;
    double bnorm = fold_kry_nrm2(sys->n, b), rnorm = 0;
    double *r = fold_malloc((size_t)sys->n, sizeof *r, "residual");
    if (!r) return FOLD_ERR_MEMORY;
    st = fold_kry_residual(&sys->op, transpose, b, x, r, &rnorm);
    free(r);
    if (st < 0) return st;
    double rel = bnorm > 0 ? rnorm / bnorm : 0.0;
    if (breakdown && !(rel <= set->backward.tol)) return failed; /* its detail stands */
    fold_clear_error();                                          /* the run asked for */
    res->residual = rel;
    res->reason = FOLD_REASON_FIXED_ITER;
    if (!isfinite(res->residual)) {
        res->reason = FOLD_REASON_NAN;
        return fold_error(FOLD_ERR_NONFINITE, "%s: residual not finite after %lld iterations",
                          sys->fn, (long long)res->iterations);
    }
    return FOLD_OK;
}

/* One right-hand side by an iterative method; *res its outcome. */
static fold_status iter_column(const fold_system *sys, const fold_settings *set, bool transpose,
                               const fold_kry_pc *pc, const double *b, double *x,
                               fold_kry_result *res)
{
    bool fixed = set->backward.fixed_iterations > 0;
    fold_kry_params prm = {fixed ? 0.0 : set->backward.tol,
                           fold_system_iter_limit(set),
                           set->backward.restart,
                           transpose,
                           0,
                           fixed};
    memset(res, 0, sizeof *res);
    res->history = sys->history;
    res->history_cap = sys->history ? sys->history_cap : 0;
    memset(x, 0, (size_t)sys->n * sizeof(double));
    fold_status st = fold_kry_solve(set->backward.method, &sys->op, pc, &prm, b, x, res);
    return fixed ? fixed_finish(sys, set, transpose, b, x, st, res) : st;
}

/* Under precond.kind = auto, the next preconditioner to try after kind failed to build
 * (singular) or broke MINRES down (indefinite), or -1: block, then block with a diagonal
 * primal block, then jacobi, which is always SPD (doc/math.md §3.9). */
static int next_kind(const fold_system *sys, const fold_settings *set, int kind, fold_status st,
                     const fold_kry_result *res)
{
    bool failed = st == FOLD_ERR_SINGULAR ||
                  (st == FOLD_ERR_NOT_CONVERGED && res && res->reason == FOLD_REASON_BREAKDOWN);
    if (set->precond.kind != FOLD_PRECOND_AUTO || !failed) return -1;
    if (kind == FOLD_PRECOND_BLOCK) return FOLD_PRECOND_BLOCK_DIAG;
    if (kind == FOLD_PRECOND_BLOCK_DIAG && sys->jacobi) return FOLD_PRECOND_JACOBI;
    return -1;
}

/* The kind auto starts with: where an earlier solve on this system fell back to (auto_memo),
 * else fold_system_precond's. */
static int first_kind(const fold_system *sys, const fold_settings *set)
{
    const fold_pc_memo *memo = sys->auto_memo;
    if (set->precond.kind == FOLD_PRECOND_AUTO && memo && memo->is_set &&
        memo->method == (int)set->backward.method)
        return memo->kind;
    return fold_system_precond(sys, set);
}

/* Remember the kind auto fell back to and could build. */
static void remember(const fold_system *sys, const fold_settings *set, int kind)
{
    if (sys->auto_memo) *sys->auto_memo = (fold_pc_memo){true, set->backward.method, kind};
}

static fold_status iter_solve(const fold_system *sys, const fold_settings *set, bool transpose,
                              fold_int nrhs, const double *B, double *X, fold_backward_info *info)
{
    int method = set->backward.method, kind = first_kind(sys, set), next;
    double *inv_diag = NULL;
    void *ctx2[2];
    fold_kry_pc pc;
    fold_status st;
    info->method = method;
    info->precond = kind;
    if (sys->n == 0 || nrhs == 0) {
        info->n_rhs += nrhs;
        info->reason = FOLD_REASON_CONVERGED;
        return FOLD_OK;
    }
    if ((st = check_needs(sys, method, kind)) < 0) return st;
    st = setup_pc(sys, kind, &pc, &inv_diag, ctx2, info);
    while (st < 0 && (next = next_kind(sys, set, kind, st, NULL)) >= 0) {
        fold_log(set, 2, "%s: %s preconditioner singular; trying the next", sys->fn,
                 fold_precond_name(public_kind(kind)));
        st = setup_pc(sys, kind = next, &pc, &inv_diag, ctx2, info);
        if (st >= 0) remember(sys, set, kind);
    }
    info->precond = public_kind(kind);
    if (st < 0) goto done;
    if (info->reason == FOLD_REASON_DIRECT || info->reason == FOLD_REASON_NOT_RUN)
        info->reason =
            set->backward.fixed_iterations > 0 ? FOLD_REASON_FIXED_ITER : FOLD_REASON_CONVERGED;
    double t0 = fold_time_now();
    for (fold_int c = 0; c < nrhs && st >= 0; c++) {
        fold_kry_result res;
        double *x = X + c * sys->n;
        st = iter_column(sys, set, transpose, &pc, B + c * sys->n, x, &res);
        while ((next = next_kind(sys, set, kind, st, &res)) >= 0) {
            fold_log(set, 2, "%s: %s broke down with the %s preconditioner (indefinite); the next",
                     sys->fn, fold_method_name(method), fold_precond_name(public_kind(kind)));
            info->iterations += res.iterations; /* the attempt counts */
            free(inv_diag);
            inv_diag = NULL;
            if ((st = setup_pc(sys, kind = next, &pc, &inv_diag, ctx2, info)) < 0) goto done;
            remember(sys, set, kind);
            info->precond = public_kind(kind);
            if (fold_last_status() == FOLD_ERR_NOT_CONVERGED) fold_clear_error();
            st = iter_column(sys, set, transpose, &pc, B + c * sys->n, x, &res);
        }
        info->iterations += res.iterations;
        if (res.residual > info->residual || !isfinite(res.residual)) info->residual = res.residual;
        if (res.reason != FOLD_REASON_CONVERGED && res.reason != FOLD_REASON_FIXED_ITER)
            info->reason = res.reason;
        info->n_rhs++;
        if (sys->n_history)
            *sys->n_history = res.n_history < sys->history_cap ? res.n_history : sys->history_cap;
        fold_log(set, 2,
                 "%s: %s (precond %s), right-hand side %lld: %lld iterations, relative "
                 "residual %.3e",
                 sys->fn, fold_method_name(method), fold_precond_name(public_kind(kind)),
                 (long long)c, (long long)res.iterations, res.residual);
    }
    info->solve_s += fold_time_now() - t0;
done:
    free(inv_diag);
    if (st < 0 && st != FOLD_ERR_MEMORY)
        fold_error_context(st, "%s: backward.method = %s, precond.kind = %s, %s", sys->fn,
                           fold_method_name(method), fold_precond_name(public_kind(kind)),
                           sys->what);
    return st;
}

/* A rescued right-hand side whose relative residual stays above backward.tol but below this
 * is still taken as consistent (its residual is reported: FOLD_WARN_INACCURATE); an
 * inconsistent one keeps its component outside range(A), normally far larger. */
#define RESCUE_CONSISTENT 1e-8

/* The columns of X that missed eq. 4.9 (bad[c] = 1, *n_bad of them) solved again from X = 0
 * by GMRES preconditioned with the regularized factorization, one cycle of at most
 * backward.restart (and backward.max_iter) iterations, to backward.tol (doc/math.md §4.8).
 * A column that gets below max(backward.tol, 1e-8) was only slow to refine and is
 * consistent: its flag becomes FOLD_SYSTEM_RESCUED (the caller clears it). */
/* Over an approximation of the system's own factorization (sys->approximate: a comparison run
 * bordered over a regularized primary, doc/math.md §4.9) the rescue stops at the first
 * column that GMRES does not bring to backward.tol within this many iterations (*stalled:
 * the caller makes the factorization, sys->refactor, and solves again), so that a column
 * near inconsistency is judged with the system's own factorization. */
#define APPROX_CYCLE 20
static fold_status rescue(const fold_system *sys, const fold_settings *set, bool transpose,
                          fold_int nrhs, const double *B, double *X, unsigned char *bad,
                          fold_int *n_bad, fold_backward_info *info, bool *stalled)
{
    int cycle = set->backward.restart;
    if (set->backward.max_iter < cycle) cycle = (int)set->backward.max_iter;
    bool approx = sys->approximate && sys->approximate(sys->ctx);
    if (approx && cycle > APPROX_CYCLE) cycle = APPROX_CYCLE;
    fold_kry_params prm = {set->backward.tol, cycle, cycle, transpose, 0, false};
    for (fold_int c = 0; c<nrhs && * n_bad> 0; c++) {
        if (!bad[c]) continue;
        fold_kry_result res = {0};
        double *x = X + c * sys->n;
        memset(x, 0, (size_t)sys->n * sizeof(double));
        fold_status st = fold_kry_gmres(&sys->op, &sys->rescue, &prm, B + c * sys->n, x, &res);
        if (st == FOLD_ERR_MEMORY) return st;
        info->iterations += res.iterations;
        fold_log(set, 2,
                 "%s: right-hand side %lld missed eq. 4.9; GMRES: %lld iterations, relative "
                 "residual %.3e",
                 sys->fn, (long long)c, (long long)res.iterations, res.residual);
        if (approx && !(st == FOLD_OK && res.residual <= set->backward.tol)) {
            fold_clear_error();
            *stalled = true;
            return FOLD_OK;
        }
        if ((st != FOLD_OK && st != FOLD_ERR_NOT_CONVERGED) ||
            !(res.residual <= fmax(set->backward.tol, RESCUE_CONSISTENT)))
            continue;
        bad[c] = FOLD_SYSTEM_RESCUED;
        (*n_bad)--;
        if (res.residual > info->residual) info->residual = res.residual;
    }
    return FOLD_OK;
}

static fold_status direct_solve(const fold_system *sys, const fold_settings *set, bool transpose,
                                fold_int nrhs, const double *B, double *X, unsigned char *bad,
                                fold_backward_info *info)
{
    double t0 = fold_time_now(), res = 0.0;
    fold_status st = FOLD_OK;
    fold_int n_bad = 0;
    info->precond = FOLD_PRECOND_NONE;
    if (sys->n > 0 && nrhs > 0) {
        if (sys->use_lsq)
            st = sys->lsq(sys->ctx, transpose, nrhs, B, X);
        else {
            /* Columns that miss eq. 4.9 are flagged (bad) or fail the call (not_unique). */
            unsigned char *flags = bad ? bad : fold_malloc((size_t)nrhs, 1, "column flags");
            if (!flags) return FOLD_ERR_MEMORY;
            /* a second pass, over the system's own factorization and from the start, when
             * the rescue stalled over an approximation of it */
            bool stalled = false;
            for (int pass = 0; pass < 2 && (pass == 0 || stalled); pass++) {
                if (pass > 0) {
                    stalled = false;
                    n_bad = 0;
                    res = 0.0;
                    if ((st = sys->refactor(sys->ctx, set)) < 0) break;
                }
                st = sys->direct(sys->ctx, set, transpose, nrhs, B, X, flags, &n_bad, &res, info);
                if (st >= 0 && n_bad > 0 && sys->rescue.apply) { /* slow, or inconsistent */
                    fold_status sr =
                        rescue(sys, set, transpose, nrhs, B, X, flags, &n_bad, info, &stalled);
                    if (sr < 0) st = sr;
                }
                if (st < 0) break;
            }
            if (st >= 0 && sys->solved) sys->solved(sys->ctx, set, nrhs, B, X, flags);
            for (fold_int c = 0; c < nrhs; c++)
                if (flags[c] == FOLD_SYSTEM_RESCUED) flags[c] = 0;
            if (!bad) free(flags);
            if (st >= 0 && n_bad > 0 && (!bad || set->backward.lsq_fallback)) {
                if (!set->backward.lsq_fallback || !sys->lsq) return sys->not_unique(sys->ctx);
                if (bad) memset(bad, 0, (size_t)nrhs);
                st = sys->lsq(sys->ctx, transpose, nrhs, B, X);
                info->is_least_squares = true;
                res = 0.0;
            }
        }
    }
    fold_log(set, 3, "%s: direct solve of %lld right-hand side(s): %.4f s (refinement included)",
             sys->fn, (long long)nrhs, fold_time_now() - t0);
    info->solve_s += fold_time_now() - t0;
    info->n_rhs += nrhs;
    if (res > info->residual) info->residual = res;
    return st;
}

fold_status fold_system_solve(const fold_system *sys, const fold_settings *set, bool transpose,
                              fold_int nrhs, const double *B, double *X, unsigned char *bad,
                              fold_backward_info *info)
{
    fold_backward_info local = FOLD_BACKWARD_INFO_INIT;
    if (!info) {
        memset(&local, 0, sizeof local);
        info = &local;
    }
    if (bad && nrhs > 0) memset(bad, 0, (size_t)nrhs);
    if (set->backward.method == FOLD_BACKWARD_DIRECT)
        return direct_solve(sys, set, transpose, nrhs, B, X, bad, info);
    return iter_solve(sys, set, transpose, nrhs, B, X, info);
}

fold_status fold_system_apply(const fold_system *sys, const fold_ends *ends,
                              const fold_settings *set, bool transpose, double *out,
                              fold_backward_info *info)
{
    double *B = fold_calloc((size_t)sys->n + 1, sizeof(double), "right-hand side");
    double *X = fold_calloc((size_t)sys->n + 1, sizeof(double), "solution");
    unsigned char bad = 0;
    fold_status st = B && X ? ends->rhs(ends->ctx, B) : FOLD_ERR_MEMORY;
    if (st >= 0)
        st = fold_system_solve(sys, set, transpose, 1, B, X, ends->flag_inconsistent ? &bad : NULL,
                               info);
    if (st >= 0) st = ends->finish(ends->ctx, X, bad != 0, out);
    free(B);
    free(X);
    return st;
}
