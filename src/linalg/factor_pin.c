/* The pinned matrix of a singular A whose null directions are copied columns (doc/math.md
 * §4.8, eq. 4.12c): A(:, j) = r A(:, k) (or A(:, j) = 0) leaves the null vector
 * e_j - r e_k; with A symmetric entry by entry row j is r times row k too, so A x = b has a
 * solution exactly when b_j = r b_k, and then one with x_j = 0: that of the matrix without
 * row and column j. M is A with row and column j replaced by d_j e_j (d_j = ||A(j,:)||_inf),
 * which keeps A's pattern, and hence its symbolic analysis, and is regular when the pins are
 * all of A's null directions. Unlike A + delta D, its solves need no refinement beyond A's
 * own: factor_solve.c zeroes the pinned rows of each right-hand side and tests them for
 * consistency instead. */
#include <float.h>

#include "linalg/linalg_internal.h"

void fold_la_preg_free_pins(fold_la_preg *r)
{
    free(r->pin);
    free(r->partner);
    free(r->ratio);
    r->pin = r->partner = NULL;
    r->ratio = NULL;
    r->n_pin = 0;
}

fold_status fold_la_preg_set_pins(fold_la_preg *r, const fold_la_pins *pins)
{
    fold_la_preg_free_pins(r);
    if (!pins || pins->n <= 0) return FOLD_OK;
    size_t n = (size_t)pins->n;
    r->pin = fold_malloc(n, sizeof *r->pin, "pinned columns");
    r->partner = fold_malloc(n, sizeof *r->partner, "pinned columns");
    r->ratio = fold_malloc(n, sizeof *r->ratio, "pinned columns");
    if (!r->pin || !r->partner || !r->ratio) {
        fold_la_preg_free_pins(r);
        return FOLD_ERR_MEMORY;
    }
    memcpy(r->pin, pins->col, n * sizeof *r->pin);
    memcpy(r->partner, pins->partner, n * sizeof *r->partner);
    memcpy(r->ratio, pins->ratio, n * sizeof *r->ratio);
    r->n_pin = pins->n;
    return FOLD_OK;
}

/* Next nonzero of a column at or after q (explicit zeros are no entries). */
static fold_int next_nz(const double *Ax, fold_int q, fold_int end)
{
    while (q < end && Ax[q] == 0.0)
        q++;
    return q;
}

/* Does A(:, j) = r A(:, k) hold to rounding (r = 0, k < 0: a zero column)? */
static bool pin_holds(const cholmod_sparse *A, fold_int j, fold_int k, double r)
{
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    fold_int a = next_nz(Ax, Ap[j], Ap[j + 1]);
    if (k < 0) return a == Ap[j + 1];
    if (k == j || !isfinite(r) || r == 0.0) return false;
    fold_int b = next_nz(Ax, Ap[k], Ap[k + 1]);
    while (a < Ap[j + 1] && b < Ap[k + 1]) {
        if (Ai[a] != Ai[b] || fabs(Ax[a] - r * Ax[b]) > 4.0 * DBL_EPSILON * fabs(Ax[a]))
            return false;
        a = next_nz(Ax, a + 1, Ap[j + 1]);
        b = next_nz(Ax, b + 1, Ap[k + 1]);
    }
    return a == Ap[j + 1] && b == Ap[k + 1];
}

/* The probe vector of eq. 4.10 for the pins: sum_k c_k (e_j - r_k e_k) with pseudo-random
 * c_k of either sign in [0.5, 1] (a fixed sequence), scaled as fold_la_preg_probe's. */
fold_status fold_la_pin_probe(fold_la_factor *F)
{
    const fold_la_preg *r = &F->preg;
    fold_int n = F->n;
    if (!F->probe_z &&
        !(F->probe_z = fold_malloc((size_t)n, sizeof *F->probe_z, "null-space probe")))
        return FOLD_ERR_MEMORY;
    double *z = F->probe_z, *y = fold_malloc((size_t)n, sizeof *y, "null-space probe");
    if (!y) return FOLD_ERR_MEMORY;
    memset(z, 0, (size_t)n * sizeof *z);
    uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    for (fold_int k = 0; k < r->n_pin; k++) {
        double u = fold_la_lcg_unit(&state), c = 0.5 + 0.5 * fold_la_lcg_unit(&state);
        if (u < 0.5) c = -c;
        z[r->pin[k]] += c;
        if (r->partner[k] >= 0) z[r->partner[k]] -= c * r->ratio[k];
    }
    double zn = 0.0;
    for (fold_int i = 0; i < n; i++)
        zn = fmax(zn, fabs(z[i]) * sqrt(r->d[i]));
    for (fold_int i = 0; i < n; i++)
        z[i] = zn > 0.0 ? z[i] / zn : 0.0;
    F->probe_residual = fold_la_probe_residual(F, z, y);
    free(y);
    F->probe_valid = true;
    return FOLD_OK;
}

/* 1 when the pins do not apply to A's values (a pin that does not hold, a pinned column
 * without a stored diagonal, a column pinned twice). d: the row scales, filled. */
static int pins_check(const fold_la_factor *F, double *d, unsigned char *mark)
{
    const cholmod_sparse *A = F->A;
    const fold_int *Ap = A->p, *Ai = A->i;
    const double *Ax = A->x;
    const fold_la_preg *r = &F->preg;
    fold_int n = F->n;
    memset(d, 0, (size_t)n * sizeof *d);
    for (fold_int j = 0; j < n; j++) /* A symmetric: column maxima are row maxima */
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            d[j] = fmax(d[j], fabs(Ax[q]));
    for (fold_int i = 0; i < n; i++)
        if (!(d[i] > 0.0)) d[i] = F->norm_inf > 0.0 ? F->norm_inf : 1.0;
    memset(mark, 0, (size_t)n);
    for (fold_int k = 0; k < r->n_pin; k++) {
        fold_int j = r->pin[k], p = r->partner[k];
        if (j < 0 || j >= n || p >= n || mark[j]) return 1;
        mark[j] = 1;
        if (!pin_holds(A, j, p, r->ratio[k])) return 1;
        bool diag = false;
        for (fold_int q = Ap[j]; q < Ap[j + 1] && !diag; q++)
            diag = Ai[q] == j;
        if (!diag) return 1;
    }
    return 0;
}

/* Does the pinned matrix have a null direction of its own, to the probe's resolution? The
 * inverse iteration of eq. 4.10 (FOLD_LA_PROBE_ITERATIONS steps on D^-1/2 M D^-1/2 from a
 * pseudo-random start, pinned entries zero) and its residual ||D^-1/2 A z||_inf, as
 * fold_la_preg_probe measures them: a matrix that is only nearly singular beyond its copies
 * (rows dependent up to the forward tolerance) has one, and is left to A + delta D, whose
 * probe marks such directions as it did before the pins (§4.8 "Nearly singular"). */
static fold_status pinned_near_null(fold_la_factor *F, const unsigned char *mark, bool *found)
{
    fold_int n = F->n;
    double *z = fold_malloc((size_t)n, sizeof *z, "pinned probe");
    double *y = fold_malloc((size_t)n, sizeof *y, "pinned probe");
    fold_status st = !z || !y ? FOLD_ERR_MEMORY : FOLD_OK;
    uint64_t state = 0x2545f4914f6cdd1dULL ^ (uint64_t)n;
    for (fold_int i = 0; !st && i < n; i++)
        z[i] = mark[i] ? 0.0 : 2.0 * fold_la_lcg_unit(&state) - 1.0;
    if (!st && !(st = fold_la_probe_iterate(F, mark, z, y)))
        *found = fold_la_probe_residual(F, z, y) <= FOLD_LA_NULL_RESIDUAL * F->preg.rel;
    free(z);
    free(y);
    return st;
}

fold_status fold_la_pin_factor(fold_la_factor *F)
{
    fold_la_preg *r = &F->preg;
    fold_la_umf *u = &F->umf;
    fold_int n = F->n;
    fold_status st;
    r->pinned = false;
    if (r->n_pin <= 0 || !F->exact_sym) return 1;
    if (!r->d && !(r->d = fold_malloc((size_t)n, sizeof *r->d, "regularization scales")))
        return FOLD_ERR_MEMORY;
    unsigned char *mark = fold_malloc((size_t)n, 1, "pinned columns");
    if (!mark) return FOLD_ERR_MEMORY;
    if (pins_check(F, r->d, mark)) {
        free(mark);
        return 1;
    }
    if (r->M) cholmod_l_free_sparse(&r->M, F->cm);
    r->M = cholmod_l_copy_sparse(F->A, F->cm);
    if (!r->M) {
        free(mark);
        return fold_error_context(F->cm->status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                                                                         : FOLD_ERR_INTERNAL,
                                  "pinned matrix: copy of A");
    }
    const fold_int *Mp = r->M->p, *Mi = r->M->i;
    double *Mx = r->M->x;
    for (fold_int j = 0; j < n; j++)
        for (fold_int q = Mp[j]; q < Mp[j + 1]; q++)
            if (mark[j] || mark[Mi[q]]) Mx[q] = Mi[q] == j ? r->d[j] : 0.0;
    /* M has A's pattern: an analysis of an earlier A + delta D (more diagonals) is not its */
    if (u->symbolic && r->symbolic_on_M) {
        umfpack_dl_free_symbolic(&u->symbolic);
        u->symbolic = NULL;
    }
    r->symbolic_on_M = false;
    if (!u->symbolic) {
        double t0 = fold_time_now();
        st = fold_la_umf_analyze(u, r->M, F->ordering);
        F->info.analyze_s += fold_time_now() - t0;
        if (st) {
            free(mark);
            return st;
        }
        F->info.reused_analysis = false;
    }
    double t0 = fold_time_now();
    st = fold_la_umf_factor(u, r->M, F->rcond_min);
    F->info.factor_s += fold_time_now() - t0;
    bool near_null = false;
    if (st == FOLD_OK && (st = pinned_near_null(F, mark, &near_null)) == FOLD_OK && near_null)
        st = FOLD_ERR_SINGULAR;
    free(mark);
    if (st == FOLD_OK) {
        r->pinned = true;
        if ((st = fold_la_pin_probe(F))) return st;
        /* the pins are null vectors of A by construction; a residual above the probe's
         * threshold would mean they are not (an A that is not symmetric after all) */
        if (F->probe_residual <= FOLD_LA_NULL_RESIDUAL * r->rel) return FOLD_OK;
        st = FOLD_ERR_SINGULAR;
    }
    r->pinned = false;
    F->probe_valid = false;
    cholmod_l_free_sparse(&r->M, F->cm);
    if (st != FOLD_ERR_SINGULAR) return st;
    fold_clear_error(); /* other null directions: the caller regularizes instead */
    return 1;
}
