/* fold_la_factor: dispatch between UMFPACK LU and CHOLMOD LDL' of the quasi-definite
 * regularization, AUTO fallback, primal regularization of a singular A (factor_reg.c);
 * solves in factor_solve.c. doc/math.md §4 (eqs. 4.1-4.9). */
#include <float.h>

#include "linalg/linalg_internal.h"

static fold_status factor_validate(const cholmod_sparse *A, const char *fn)
{
    if (!A) return fold_error(FOLD_ERR_ARGUMENT, "%s: A is NULL", fn);
    if (A->nrow != A->ncol || A->nrow == 0)
        return fold_error(FOLD_ERR_DIMENSION, "%s: A is %zu x %zu, need square and nonempty", fn,
                          A->nrow, A->ncol);
    if (A->stype != 0 || !A->packed || !A->sorted || A->xtype != CHOLMOD_REAL ||
        A->itype != CHOLMOD_LONG || A->dtype != CHOLMOD_DOUBLE)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: A must be real, long-indexed, packed, sorted, full storage "
                          "(stype %d, packed %d, sorted %d, xtype %d, itype %d)",
                          fn, A->stype, A->packed, A->sorted, A->xtype, A->itype);
    return fold_check_csc((fold_int)A->nrow, (fold_int)A->ncol, A->p, A->i, A->x, fn, "A");
}

static void factor_norms(fold_la_factor *F)
{
    const fold_int *Ap = F->A->p, *Ai = F->A->i;
    const double *Ax = F->A->x;
    double *rowsum = F->work;
    memset(rowsum, 0, (size_t)F->n * sizeof *rowsum);
    F->norm_1 = F->norm_inf = 0.0;
    for (fold_int j = 0; j < F->n; j++) {
        double s = 0.0;
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++) {
            s += fabs(Ax[q]);
            rowsum[Ai[q]] += fabs(Ax[q]);
        }
        F->norm_1 = fmax(F->norm_1, s);
    }
    for (fold_int i = 0; i < F->n; i++)
        F->norm_inf = fmax(F->norm_inf, rowsum[i]);
    fold_int bi, bj;
    F->exact_sym = fold_la_symmetric(F->A, 0.0, F->iwork, &bi, &bj);
}

/* Is A numerically symmetric (the LDL' path needs it)? Relative tolerance 1e-14 (§4.2);
 * an offending entry: row *bi, column *bj. */
static bool factor_is_symmetric(const fold_la_factor *F, fold_int *bi, fold_int *bj)
{
    return fold_la_symmetric(F->A, 1e-14, F->iwork, bi, bj);
}

static void factor_record_fallback(fold_la_factor *F, const char *why)
{
    snprintf(F->info.fallback_reason, sizeof F->info.fallback_reason, "%s", why);
}

/* CHOLMOD attempt; on failure the LDL' state is freed. */
static fold_status factor_try_ldl(fold_la_factor *F, bool analyze)
{
    fold_int bi, bj;
    fold_status st;
    if (!factor_is_symmetric(F, &bi, &bj)) {
        st = fold_error(FOLD_ERR_UNSUPPORTED,
                        "fold_la_factor: A is not symmetric at (%lld,%lld); LDL' needs a "
                        "symmetric matrix",
                        (long long)bi, (long long)bj);
        fold_la_ldl_free(&F->ldl);
        return st;
    }
    if (analyze) {
        double t0 = fold_time_now();
        st = fold_la_ldl_analyze(&F->ldl, F->A, F->n_primal, F->delta, F->ordering, F->cm);
        F->info.analyze_s += fold_time_now() - t0;
        if (st) {
            fold_la_ldl_free(&F->ldl);
            return st;
        }
    }
    double t0 = fold_time_now();
    st = fold_la_ldl_factor(&F->ldl, F->A);
    F->info.factor_s += fold_time_now() - t0;
    if (st) {
        fold_la_ldl_free(&F->ldl);
        return st;
    }
    /* Eq. 4.5: sigma_min(K) <= 10 delta means A is singular up to the regularization. */
    double kinv = 0.0;
    if ((st = fold_la_ldl_inverse_norm1(&F->ldl, &kinv))) {
        fold_la_ldl_free(&F->ldl);
        return st;
    }
    F->info.rcond = F->norm_1 > 0.0 && kinv > 0.0 ? 1.0 / (F->norm_1 * kinv) : 0.0;
    if (kinv * F->delta >= 0.1 || !(F->info.rcond >= F->rcond_min)) {
        st = fold_error(FOLD_ERR_SINGULAR,
                        "fold_la_factor: LDL' of the regularized matrix: ||inv(K)||_1 >= %.3g "
                        "(rcond %.3g, delta %.3g): A is numerically singular",
                        kinv, F->info.rcond, F->delta);
        fold_la_ldl_free(&F->ldl);
        return st;
    }
    F->info.factorization = FOLD_FACTOR_CHOLMOD;
    F->info.factor_nnz = F->ldl.factor_nnz;
    return FOLD_OK;
}

static fold_status factor_umf(fold_la_factor *F)
{
    fold_status st;
    bool analyze = F->umf.symbolic == NULL;
    if (analyze) {
        double t0 = fold_time_now();
        st = fold_la_umf_analyze(&F->umf, F->A, F->ordering);
        F->info.analyze_s += fold_time_now() - t0;
        if (st) return st;
        F->info.reused_analysis = false;
    }
    double t0 = fold_time_now();
    st = fold_la_umf_factor(&F->umf, F->A, F->rcond_min);
    F->info.factor_s += fold_time_now() - t0;
    F->info.rcond = F->umf.rcond;
    if (st) return st;
    F->info.factorization = FOLD_FACTOR_UMFPACK;
    F->info.factor_nnz = F->umf.factor_nnz;
    return FOLD_OK;
}

/* LU of M = A + delta diag(d_x, -d_y) in place of A (eqs. 4.7-4.9). */
static fold_status factor_umf_reg(fold_la_factor *F, const char *why)
{
    /* the reason of a pinned factorization no longer describes this one */
    if (!why && strstr(F->info.fallback_reason, "pinned")) why = "null directions expected";
    F->preg.pinned = false;
    fold_status st =
        fold_la_preg_factor(&F->preg, &F->umf, F->A, F->n_primal, F->norm_inf, F->ordering,
                            F->rcond_min, F->cm, &F->info.analyze_s, &F->info.factor_s);
    F->info.rcond = F->umf.rcond;
    if (st) {
        fold_la_preg_free(&F->preg, F->cm);
        return st;
    }
    F->info.factorization = FOLD_FACTOR_UMFPACK;
    F->info.factor_nnz = F->umf.factor_nnz;
    F->info.singular_delta = F->preg.delta;
    if (why)
        snprintf(F->info.fallback_reason, sizeof F->info.fallback_reason,
                 "singular (%s): regularized K + delta diag(d_x, -d_y), delta=%.2g, "
                 "refined against K",
                 why, F->preg.delta);
    return FOLD_OK;
}

/* Pins the caller gave for a singular A that UMFPACK may use (fold_la_pins). */
static bool pins_usable(const fold_la_factor *F)
{
    return F->preg.n_pin > 0 && F->exact_sym && F->preg.rel > 0.0 && F->n_primal > 0 &&
           F->kind != FOLD_FACTOR_CHOLMOD;
}

/* LU of the pinned matrix in place of A (eq. 4.12c): FOLD_OK, an error, or 1 when the pins
 * do not make a regular matrix (nothing changed but the analysis). */
static fold_status factor_umf_pinned(fold_la_factor *F)
{
    fold_status st = fold_la_pin_factor(F);
    if (st != FOLD_OK) return st;
    F->preg.delta = F->preg.rel;
    F->info.rcond = F->umf.rcond;
    F->info.factorization = FOLD_FACTOR_UMFPACK;
    F->info.factor_nnz = F->umf.factor_nnz;
    F->info.singular_delta = F->preg.delta;
    snprintf(F->info.fallback_reason, sizeof F->info.fallback_reason,
             "singular (null directions expected): %lld copied columns pinned, refined against K",
             (long long)F->preg.n_pin);
    return FOLD_OK;
}

/* UMFPACK: LU of A; when A is singular and its regularization is enabled, LU of M
 * instead (and for every later refactorization: a singular pattern tends to stay so). */
static fold_status factor_umf_any(fold_la_factor *F)
{
    F->info.singular_delta = 0.0;
    if (F->preg.delta > 0.0) {
        fold_status st = pins_usable(F) ? factor_umf_pinned(F) : 1;
        return st <= 0 ? st : factor_umf_reg(F, NULL);
    }
    fold_status st = factor_umf(F);
    if (st != FOLD_ERR_SINGULAR || !(F->preg.rel > 0.0) || F->n_primal == 0) return st;
    return factor_umf_reg(F, F->umf.rcond > 0.0 ? "small pivot" : "zero pivot");
}

/* Switch an AUTO factor from CHOLMOD to UMFPACK, recording why (from fold_last_error). */
fold_status fold_la_factor_fall_back(fold_la_factor *F)
{
    factor_record_fallback(F, fold_last_error());
    fold_la_ldl_free(&F->ldl);
    return factor_umf_any(F);
}

/* A expected singular (fold_la_factor_expect_singular): factor M directly and keep it when
 * the probe finds a null vector of A. Returns FOLD_OK (M in use), an error, or 1: A is not
 * singular after all, M is dropped and A is to be factored as usual. */
static fold_status factor_expected_singular(fold_la_factor *F)
{
    F->preg.expect = false;
    if (!(F->preg.rel > 0.0) || F->n_primal == 0 || F->kind == FOLD_FACTOR_CHOLMOD ||
        F->preg.delta > 0.0)
        return 1;
    char saved[sizeof F->info.fallback_reason];
    memcpy(saved, F->info.fallback_reason, sizeof saved);
    fold_status st = pins_usable(F) ? factor_umf_pinned(F) : 1;
    if (st <= 0) return st;
    st = factor_umf_reg(F, "null directions expected");
    if (st && st != FOLD_ERR_SINGULAR) return st;
    /* Eq. 4.7: a null direction of A has a pivot of about delta in M; a pivot ratio well
     * above it means A is only ill-conditioned (its own LU would pass rcond_min). M
     * singular too: A's own factorization says what it is. */
    if (!st && F->umf.rcond <= FOLD_LA_EXPECT_RCOND * F->preg.delta) {
        F->is_factored = true;
        st = fold_la_preg_probe(F);
        F->is_factored = false;
        if (st) return st;
        if (F->probe_residual <= FOLD_LA_NULL_RESIDUAL * F->preg.delta) return FOLD_OK;
    }
    /* Only ill-conditioned: back to A, analyzed on its own pattern. */
    fold_la_preg_free(&F->preg, F->cm);
    fold_la_umf_free(&F->umf);
    F->probe_valid = false;
    F->info.singular_delta = 0.0;
    F->info.reused_analysis = false;
    memcpy(F->info.fallback_reason, saved, sizeof saved);
    F->info.factorization =
        F->kind == FOLD_FACTOR_UMFPACK || saved[0] ? FOLD_FACTOR_UMFPACK : FOLD_FACTOR_CHOLMOD;
    return 1;
}

/* Numeric factorization for the values now in F->A. */
static fold_status factor_numeric(fold_la_factor *F)
{
    fold_status st;
    F->is_factored = false;
    F->probe_valid = false;
    F->info.analyze_s = F->info.factor_s = 0.0;
    F->info.reused_analysis = true;
    if (F->preg.expect && (st = factor_expected_singular(F)) <= 0) {
        F->is_factored = st == FOLD_OK;
        return st;
    }
    if (F->kind == FOLD_FACTOR_UMFPACK || F->info.fallback_reason[0]) {
        st = factor_umf_any(F);
    } else {
        bool analyze = F->ldl.L == NULL;
        if (analyze) F->info.reused_analysis = false;
        st = factor_try_ldl(F, analyze);
        if (st && st != FOLD_ERR_MEMORY && F->kind == FOLD_FACTOR_AUTO)
            st = fold_la_factor_fall_back(F);
    }
    F->is_factored = st == FOLD_OK;
    return st;
}

void fold_la_factor_free(fold_la_factor *F)
{
    if (!F) return;
    fold_la_factor_drop_kept(F);
    fold_la_umf_free(&F->umf);
    fold_la_ldl_free(&F->ldl);
    fold_la_preg_free(&F->preg, F->cm);
    fold_la_preg_free_pins(&F->preg);
    free(F->probe_z);
    if (F->A && !F->shared) cholmod_l_free_sparse(&F->A, F->cm);
    free(F->iwork);
    free(F->work);
    free(F->solve_ws);
    free(F);
}

fold_status fold_la_factor_create(const cholmod_sparse *A, int kind, int ordering,
                                  fold_int n_primal, double delta, double rcond_min,
                                  cholmod_common *cm, fold_la_factor **out)
{
    return fold_la_factor_create_reg(A, kind, ordering, n_primal, delta, rcond_min, 0.0, cm, out);
}

static fold_status factor_create(const cholmod_sparse *A, int kind, int ordering, fold_int n_primal,
                                 double delta, double rcond_min, double singular_reg,
                                 bool expect_singular, const fold_la_pins *pins, cholmod_common *cm,
                                 bool shared, fold_la_factor **out)
{
    const char *fn = shared ? "fold_la_factor_create_shared" : "fold_la_factor_create";
    fold_status st;
    if ((st = fold_check_not_null(out, fn, "out")) || (st = fold_check_not_null(cm, fn, "cm")) ||
        (st = factor_validate(A, fn)))
        return st;
    *out = NULL;
    if (kind < FOLD_FACTOR_AUTO || kind > FOLD_FACTOR_CHOLMOD)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: kind = %d is not a fold_factorization", fn, kind);
    if (ordering < FOLD_ORDER_AMD || ordering > FOLD_ORDER_METIS)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: ordering = %d is not a fold_ordering", fn,
                          ordering);
    if (n_primal < 0 || n_primal > (fold_int)A->nrow)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: n_primal = %lld outside [0,%zu]", fn,
                          (long long)n_primal, A->nrow);
    if (!(delta >= 0.0 && isfinite(delta)))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: delta = %g, need finite >= 0", fn, delta);
    if (!(rcond_min >= 0.0 && rcond_min < 1.0))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: rcond_min = %g, need [0,1)", fn, rcond_min);
    if (!(singular_reg >= 0.0 && singular_reg < 1.0))
        return fold_error(FOLD_ERR_ARGUMENT, "%s: singular_reg = %g, need [0,1)", fn, singular_reg);
    fold_la_factor *F = fold_calloc(1, sizeof *F, "factor");
    if (!F) return FOLD_ERR_MEMORY;
    F->kind = kind;
    F->ordering = ordering;
    F->n = (fold_int)A->nrow;
    F->n_primal = n_primal;
    F->delta = delta;
    F->rcond_min = rcond_min;
    F->preg.rel = singular_reg;
    F->preg.expect = expect_singular;
    F->cm = cm;
    F->info.ordering = ordering;
    F->info.factorization = kind == FOLD_FACTOR_UMFPACK ? FOLD_FACTOR_UMFPACK : FOLD_FACTOR_CHOLMOD;
    F->shared = shared;
    F->A = shared ? (cholmod_sparse *)A : cholmod_l_copy_sparse((cholmod_sparse *)A, cm);
    if (!F->A) {
        st = fold_error_context(cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                    : FOLD_ERR_INTERNAL,
                                "%s: copy of A", fn);
        fold_la_factor_free(F);
        return st;
    }
    F->work = fold_malloc((size_t)F->n, sizeof *F->work, "factor workspace");
    if (!F->work) {
        fold_la_factor_free(F);
        return FOLD_ERR_MEMORY;
    }
    if (!(F->iwork = fold_malloc((size_t)F->n + 1, sizeof *F->iwork, "symmetry check"))) {
        fold_la_factor_free(F);
        return FOLD_ERR_MEMORY;
    }
    if (expect_singular && fold_la_preg_set_pins(&F->preg, pins))
        fold_clear_error(); /* without the pins: only the regularization's longer solves */
    factor_norms(F);
    if ((st = factor_numeric(F))) {
        fold_error_context(st, "%s", fn);
        fold_la_factor_free(F);
        return st;
    }
    F->info.reused_analysis = false;
    *out = F;
    return FOLD_OK;
}

fold_status fold_la_factor_create_reg(const cholmod_sparse *A, int kind, int ordering,
                                      fold_int n_primal, double delta, double rcond_min,
                                      double singular_reg, cholmod_common *cm, fold_la_factor **out)
{
    return factor_create(A, kind, ordering, n_primal, delta, rcond_min, singular_reg, false, NULL,
                         cm, false, out);
}

fold_status fold_la_factor_create_shared(const cholmod_sparse *A, int kind, int ordering,
                                         fold_int n_primal, double delta, double rcond_min,
                                         double singular_reg, bool expect_singular,
                                         const fold_la_pins *pins, cholmod_common *cm,
                                         fold_la_factor **out)
{
    return factor_create(A, kind, ordering, n_primal, delta, rcond_min, singular_reg,
                         expect_singular, pins, cm, true, out);
}

void fold_la_factor_expect_singular(fold_la_factor *F, const fold_la_pins *pins)
{
    if (!F) return;
    F->preg.expect = true;
    if (fold_la_preg_set_pins(&F->preg, pins))
        fold_clear_error(); /* without the pins: only the regularization's longer solves */
}

fold_status fold_la_factor_refactor(fold_la_factor *F, const cholmod_sparse *A)
{
    const char *fn = "fold_la_factor_refactor";
    fold_status st;
    if ((st = fold_check_not_null(F, fn, "F")) || (st = factor_validate(A, fn))) return st;
    const fold_int *Ap = A->p, *Ai = A->i, *Fp = F->A->p, *Fi = F->A->i;
    if ((fold_int)A->nrow != F->n)
        return fold_error(FOLD_ERR_DIMENSION, "%s: A has %zu rows, the factor %lld", fn, A->nrow,
                          (long long)F->n);
    if (F->shared && A != F->A)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: the factor shares its matrix: pass the same "
                          "A with the new values",
                          fn);
    if (A == F->A)
        goto numeric; /* shared: the pattern is the analyzed one, the values are in place */
    for (fold_int j = 0; j <= F->n; j++)
        if (Ap[j] != Fp[j])
            return fold_error(FOLD_ERR_SPARSITY,
                              "%s: A.colptr[%lld] = %lld differs from the "
                              "analyzed pattern (%lld)",
                              fn, (long long)j, (long long)Ap[j], (long long)Fp[j]);
    for (fold_int q = 0; q < Fp[F->n]; q++)
        if (Ai[q] != Fi[q])
            return fold_error(FOLD_ERR_SPARSITY,
                              "%s: A.rowind[%lld] = %lld differs from the "
                              "analyzed pattern (%lld)",
                              fn, (long long)q, (long long)Ai[q], (long long)Fi[q]);
    memcpy(F->A->x, A->x, (size_t)Fp[F->n] * sizeof(double));
numeric:
    factor_norms(F);
    if ((st = factor_numeric(F))) return fold_error_context(st, "%s", fn);
    return FOLD_OK;
}

void fold_la_factor_trim(fold_la_factor *F)
{
    if (!F) return;
    free(F->solve_ws);
    F->solve_ws = NULL;
    F->solve_ws_len = 0;
    fold_la_umf_lu_free(F->umf.lu);
    F->umf.lu = NULL;
}

void fold_la_factor_get_info(const fold_la_factor *F, fold_la_factor_info *info)
{
    if (F && info) *info = F->info;
}
