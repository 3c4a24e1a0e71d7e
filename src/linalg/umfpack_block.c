/* Many right-hand sides with UMFPACK's LU factors: P R A Q = L U is extracted once
 * (umfpack_dl_get_numeric) and solved for blocks of right-hand sides at a time, each pass
 * over L and U serving the whole block (one read of the factors per block instead of per
 * right-hand side; the solves of a Jacobian are memory-bound). doc/math.md §4.3. */
#include "linalg/linalg_internal.h"

struct fold_la_umf_lu {
    fold_int n;
    SuiteSparse_long *Lp, *Lj, *Up, *Ui, *P, *Q, do_recip;
    double *Lx, *Ux, *Dx, *Rs;
    double *W; /* n * FOLD_LA_BLOCK workspace, kept */
};

void fold_la_umf_lu_free(fold_la_umf_lu *lu)
{
    if (!lu) return;
    free(lu->Lp);
    free(lu->Lj);
    free(lu->Up);
    free(lu->Ui);
    free(lu->P);
    free(lu->Q);
    free(lu->Lx);
    free(lu->Ux);
    free(lu->Dx);
    free(lu->Rs);
    free(lu->W);
    free(lu);
}

/* Copy the factors out of the numeric object; NULL (and a recorded error) on failure or a
 * zero pivot (the caller then solves per right-hand side, which reports it). */
static fold_la_umf_lu *extract(fold_la_umf *u, fold_int n)
{
    SuiteSparse_long lnz, unz, nr, nc, nzud;
    if (umfpack_dl_get_lunz(&lnz, &unz, &nr, &nc, &nzud, u->numeric) != UMFPACK_OK) return NULL;
    fold_la_umf_lu *lu = fold_calloc(1, sizeof *lu, "LU factors");
    if (!lu) return NULL;
    lu->n = n;
    lu->Lp = fold_malloc((size_t)n + 1, sizeof *lu->Lp, "LU factors");
    lu->Up = fold_malloc((size_t)n + 1, sizeof *lu->Up, "LU factors");
    lu->Lj = fold_malloc((size_t)lnz + 1, sizeof *lu->Lj, "LU factors");
    lu->Ui = fold_malloc((size_t)unz + 1, sizeof *lu->Ui, "LU factors");
    lu->Lx = fold_malloc((size_t)lnz + 1, sizeof *lu->Lx, "LU factors");
    lu->Ux = fold_malloc((size_t)unz + 1, sizeof *lu->Ux, "LU factors");
    lu->P = fold_malloc((size_t)n, sizeof *lu->P, "LU factors");
    lu->Q = fold_malloc((size_t)n, sizeof *lu->Q, "LU factors");
    lu->Dx = fold_malloc((size_t)n, sizeof *lu->Dx, "LU factors");
    lu->Rs = fold_malloc((size_t)n, sizeof *lu->Rs, "LU factors");
    lu->W = fold_malloc((size_t)n * FOLD_LA_BLOCK, sizeof *lu->W, "blocked solve workspace");
    bool ok = lu->Lp && lu->Up && lu->Lj && lu->Ui && lu->Lx && lu->Ux && lu->P && lu->Q &&
              lu->Dx && lu->Rs && lu->W &&
              umfpack_dl_get_numeric(lu->Lp, lu->Lj, lu->Lx, lu->Up, lu->Ui, lu->Ux, lu->P, lu->Q,
                                     lu->Dx, &lu->do_recip, lu->Rs, u->numeric) == UMFPACK_OK;
    for (fold_int k = 0; ok && k < n; k++)
        ok = lu->Dx[k] != 0.0 && isfinite(lu->Dx[k]);
    if (!ok) {
        fold_la_umf_lu_free(lu);
        return NULL;
    }
    return lu;
}

/* X(:, 0:nb) = inv(A) B(:, 0:nb), W: n * nb, row-major by unknown (W[i nb + r]). Inlined
 * into a copy for full blocks, where nb is a constant and the updates of a row, nb
 * independent multiply-adds, are vector instructions (rows i != j do not overlap). */
static inline __attribute__((always_inline)) void solve_block(const fold_la_umf_lu *lu, fold_int nb,
                                                              const double *B, double *X, double *W)
{
    fold_int n = lu->n;
    /* W = P R B: row k of P R A is row P[k] of A scaled by R. */
    for (fold_int k = 0; k < n; k++) {
        SuiteSparse_long i = lu->P[k];
        double s = lu->do_recip ? lu->Rs[i] : 1.0 / lu->Rs[i];
        for (fold_int r = 0; r < nb; r++)
            W[k * nb + r] = s * B[r * n + i];
    }
    /* L y = W, L unit lower triangular by rows (the diagonal is the last entry). */
    for (fold_int i = 0; i < n; i++) {
        double *restrict wi = W + i * nb;
        for (SuiteSparse_long q = lu->Lp[i]; q < lu->Lp[i + 1]; q++) {
            SuiteSparse_long j = lu->Lj[q];
            if (j == i) continue;
            const double l = lu->Lx[q];
            const double *restrict wj = W + j * nb;
#pragma GCC ivdep
            for (fold_int r = 0; r < nb; r++)
                wi[r] -= l * wj[r];
        }
    }
    /* U z = y, U upper triangular by columns, diagonal in Dx. */
    for (fold_int j = n - 1; j >= 0; j--) {
        double *restrict wj = W + j * nb;
        const double d = lu->Dx[j];
        for (fold_int r = 0; r < nb; r++)
            wj[r] /= d;
        for (SuiteSparse_long q = lu->Up[j]; q < lu->Up[j + 1]; q++) {
            SuiteSparse_long i = lu->Ui[q];
            if (i == j) continue;
            const double v = lu->Ux[q];
            double *restrict wi = W + i * nb;
#pragma GCC ivdep
            for (fold_int r = 0; r < nb; r++)
                wi[r] -= v * wj[r];
        }
    }
    /* X = Q z. */
    for (fold_int k = 0; k < n; k++) {
        SuiteSparse_long j = lu->Q[k];
        for (fold_int r = 0; r < nb; r++)
            X[r * n + j] = W[k * nb + r];
    }
}

static void solve_full_block(const fold_la_umf_lu *lu, const double *B, double *X, double *W)
{
    solve_block(lu, FOLD_LA_BLOCK, B, X, W);
}

static void solve_part_block(const fold_la_umf_lu *lu, fold_int nb, const double *B, double *X,
                             double *W)
{
    solve_block(lu, nb, B, X, W);
}

bool fold_la_umf_solve_blocked(fold_la_umf *u, fold_int n, fold_int nrhs, const double *B,
                               double *X)
{
    if (!u->lu && !(u->lu = extract(u, n))) return false;
    for (fold_int c0 = 0; c0 < nrhs; c0 += FOLD_LA_BLOCK) {
        fold_int nb = nrhs - c0 < FOLD_LA_BLOCK ? nrhs - c0 : FOLD_LA_BLOCK;
        if (nb == FOLD_LA_BLOCK)
            solve_full_block(u->lu, B + c0 * n, X + c0 * n, u->lu->W);
        else
            solve_part_block(u->lu, nb, B + c0 * n, X + c0 * n, u->lu->W);
    }
    return true;
}
