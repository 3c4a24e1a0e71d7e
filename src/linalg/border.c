/* Solves with a matrix A_v that differs from the factored matrix A of a fold_la_factor by a
 * border of k rows and columns (doc/math.md §4.9, eqs. 4.14-4.17): a few A solves and one
 * dense k x k solve per right-hand side instead of a factorization of A_v, refined against
 * A_v itself with the componentwise test of the direct solves (eq. 4.4). */
#include <float.h>

#include "linalg/linalg_internal.h"

struct fold_la_border {
    fold_la_factor *F;        /* of A (order nP): not owned */
    const cholmod_sparse *Av; /* order nV: not owned */
    fold_int nP, nV, k;
    fold_int *pv;   /* nP: position in A_v of unknown t of A, -1 when A_v has none (removed) */
    fold_int *vpos; /* k: position in A_v of border unknown j, -1 for a multiplier (4.14) */
    double *C, *W;  /* nP x k: the border columns and A^{-1} C */
    double *lu;     /* k x k: LU of the capacitance matrix S = D - C' W (4.15), row pivots */
    fold_int *piv;
    double anorm;   /* ||A_v||_inf */
    bool exact_sym; /* A_v == A_v': residuals by the gather loop */
    double rcond;   /* 1 / (||S||_1 ||S^{-1}||_1) */
    /* A pinned F (eq. 4.12c): its pins p with their null vectors z_p = e_j - r e_k; those
     * whose rows g_p = z_p' C are not zero (active) border the capacitance matrix with an
     * unknown alpha_p each (eq. 4.16b): ke = k + a unknowns in lu. */
    fold_int n_pin, a, ke;
    fold_int *pj, *pk; /* the active pins first (in the order of G's rows), then the others */
    double *pr, *G;    /* G: a x k, the active rows g_p (row-major) */
    fold_int n_reused; /* columns whose A solve was given (Zp) */
    double *ws;        /* fold_la_border_solve's buffers, kept (fresh pages cost) */
    size_t ws_len;
    double *aws; /* fold_la_border_apply's */
    size_t aws_len;
    /* A regularized F (M = A + delta D, §4.8): the bordered inverse is that of A_v + delta D_v,
     * D_v = D on A's unknowns and 0 on the border's; dreg holds |D_v| (nV), the refinement
     * tests eq. 4.9, and dprobe (nV) scales the probe: dreg, or the row's norm where it is 0. */
    double delta;
    double *dreg, *dprobe;
};

void fold_la_border_free(fold_la_border *Bd)
{
    if (!Bd) return;
    free(Bd->pv);
    free(Bd->vpos);
    free(Bd->C);
    free(Bd->W);
    free(Bd->lu);
    free(Bd->piv);
    free(Bd->ws);
    free(Bd->pj);
    free(Bd->pk);
    free(Bd->pr);
    free(Bd->G);
    free(Bd->aws);
    free(Bd->dreg);
    free(Bd->dprobe);
    free(Bd);
}

/* In-place LU with partial pivoting of the k x k column-major a; false at a zero pivot. */
static bool dense_lu(fold_int k, double *a, fold_int *piv)
{
    for (fold_int c = 0; c < k; c++) {
        fold_int p = c;
        for (fold_int r = c + 1; r < k; r++)
            if (fabs(a[c * k + r]) > fabs(a[c * k + p])) p = r;
        piv[c] = p;
        if (!(a[c * k + p] != 0.0) || !isfinite(a[c * k + p])) return false;
        if (p != c)
            for (fold_int j = 0; j < k; j++) {
                double t = a[j * k + c];
                a[j * k + c] = a[j * k + p];
                a[j * k + p] = t;
            }
        for (fold_int r = c + 1; r < k; r++)
            a[c * k + r] /= a[c * k + c];
        for (fold_int j = c + 1; j < k; j++)
            for (fold_int r = c + 1; r < k; r++)
                a[j * k + r] -= a[c * k + r] * a[j * k + c];
    }
    return true;
}

/* x <- S^{-1} x with the LU of dense_lu. */
static void dense_solve(fold_int k, const double *lu, const fold_int *piv, double *x)
{
    for (fold_int c = 0; c < k; c++) {
        double t = x[c];
        x[c] = x[piv[c]];
        x[piv[c]] = t;
        for (fold_int r = c + 1; r < k; r++)
            x[r] -= lu[c * k + r] * x[c];
    }
    for (fold_int c = k - 1; c >= 0; c--) {
        x[c] /= lu[c * k + c];
        for (fold_int r = 0; r < c; r++)
            x[r] -= lu[c * k + r] * x[c];
    }
}

/* The capacitance matrix S = D - C' W, bordered by the active pins' rows, [S G'; G 0]
 * (eq. 4.16b), its LU and 1 / (||S||_1 ||S^{-1}||_1) (S^{-1} formed column by column: ke is
 * small). */
static fold_status capacitance(fold_la_border *Bd, const double *D)
{
    fold_int k = Bd->k, ke = Bd->ke, nP = Bd->nP;
    double *inv = fold_malloc((size_t)(ke * ke), sizeof *inv, "capacitance inverse");
    if (!inv) return FOLD_ERR_MEMORY;
    double snorm = 0.0, inorm = 0.0;
    for (fold_int j = 0; j < ke; j++) {
        double colsum = 0.0;
        for (fold_int i = 0; i < ke; i++) {
            double s;
            if (i < k && j < k) {
                s = D[j * k + i];
                for (fold_int t = 0; t < nP; t++)
                    s -= Bd->C[i * nP + t] * Bd->W[j * nP + t];
            } else if (i < k) {
                s = Bd->G[(j - k) * k + i]; /* G' */
            } else {
                s = j < k ? Bd->G[(i - k) * k + j] : 0.0;
            }
            Bd->lu[j * ke + i] = s;
            colsum += fabs(s);
        }
        snorm = fold_la_max(snorm, colsum);
    }
    Bd->rcond = 0.0;
    if (dense_lu(ke, Bd->lu, Bd->piv)) {
        for (fold_int j = 0; j < ke; j++) {
            double *e = inv + j * ke, colsum = 0.0;
            memset(e, 0, (size_t)ke * sizeof *e);
            e[j] = 1.0;
            dense_solve(ke, Bd->lu, Bd->piv, e);
            for (fold_int i = 0; i < ke; i++)
                colsum += fabs(e[i]);
            inorm = fold_la_max(inorm, colsum);
        }
        if (snorm > 0.0 && isfinite(inorm) && inorm > 0.0) Bd->rcond = 1.0 / (snorm * inorm);
    }
    free(inv);
    return FOLD_OK;
}

/* The pins of a pinned F and the rows g_p = z_p' C of those the border columns activate
 * (not zero beyond rounding: a column that moves copied columns apart). */
static fold_status border_pins(fold_la_border *Bd)
{
    const fold_la_preg *r = &Bd->F->preg;
    fold_int k = Bd->k, nP = Bd->nP, n = r->n_pin;
    Bd->n_pin = n;
    Bd->pj = fold_malloc((size_t)n, sizeof *Bd->pj, "border pins");
    Bd->pk = fold_malloc((size_t)n, sizeof *Bd->pk, "border pins");
    Bd->pr = fold_malloc((size_t)n, sizeof *Bd->pr, "border pins");
    Bd->G = fold_malloc((size_t)(n * k) + 1, sizeof *Bd->G, "border pins");
    unsigned char *active = fold_calloc((size_t)n + 1, 1, "border pins");
    if (!Bd->pj || !Bd->pk || !Bd->pr || !Bd->G || !active) {
        free(active);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int p = 0; p < n; p++) {
        fold_int j = r->pin[p], q = r->partner[p];
        double ratio = r->ratio[p], *g = Bd->G + Bd->a * k;
        bool on = false;
        for (fold_int c = 0; c < k; c++) {
            double cj = Bd->C[c * nP + j], ck = q >= 0 ? ratio * Bd->C[c * nP + q] : 0.0;
            g[c] = cj - ck;
            on = on || fabs(g[c]) > 64.0 * DBL_EPSILON * (fabs(cj) + fabs(ck));
        }
        active[p] = on;
        Bd->pj[Bd->a] = j;
        Bd->pk[Bd->a] = q;
        Bd->pr[Bd->a] = ratio;
        if (on) Bd->a++;
    }
    /* the inactive ones after them, for fold_la_border_null_vector */
    for (fold_int p = 0, at = Bd->a; p < n; p++)
        if (!active[p]) {
            Bd->pj[at] = r->pin[p];
            Bd->pk[at] = r->partner[p];
            Bd->pr[at++] = r->ratio[p];
        }
    free(active);
    return FOLD_OK;
}

fold_int fold_la_border_null_vector(const fold_la_border *Bd, double *z)
{
    memset(z, 0, (size_t)Bd->nV * sizeof *z);
    uint64_t state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)Bd->nV;
    for (fold_int p = Bd->a; p < Bd->n_pin; p++) {
        double c = 0.5 + 0.5 * fold_la_lcg_unit(&state);
        fold_int j = Bd->pv[Bd->pj[p]], q = Bd->pk[p] >= 0 ? Bd->pv[Bd->pk[p]] : -1;
        if (j >= 0) z[j] += c;
        if (q >= 0) z[q] -= c * Bd->pr[p];
    }
    return Bd->n_pin - Bd->a;
}

/* A regularized F (§4.8): the diagonal delta D_v of the bordered inverse on A_v's unknowns
 * (A's d_t where A_v keeps unknown t, 0 on the border's), and the probe's scales (d_t, or
 * the largest entry of A_v's row); false when memory runs out. */
static bool set_regularization(fold_la_border *Bd, double delta, const double *d)
{
    fold_int nV = Bd->nV;
    Bd->dreg = fold_calloc((size_t)nV + 1, sizeof *Bd->dreg, "border regularization");
    Bd->dprobe = fold_calloc((size_t)nV + 1, sizeof *Bd->dprobe, "border regularization");
    if (!Bd->dreg || !Bd->dprobe) return false;
    Bd->delta = delta;
    for (fold_int t = 0; t < Bd->nP; t++)
        if (Bd->pv[t] >= 0) Bd->dreg[Bd->pv[t]] = d[t];
    const fold_int *Ap = Bd->Av->p, *Ai = Bd->Av->i;
    const double *Ax = Bd->Av->x;
    for (fold_int j = 0; j < nV; j++) /* A_v symmetric: a column's entries are its row's */
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            Bd->dprobe[Ai[q]] = fold_la_max(Bd->dprobe[Ai[q]], fabs(Ax[q]));
    for (fold_int i = 0; i < nV; i++) {
        if (Bd->dreg[i] > 0.0) Bd->dprobe[i] = Bd->dreg[i];
        if (!(Bd->dprobe[i] > 0.0)) Bd->dprobe[i] = Bd->anorm > 0.0 ? Bd->anorm : 1.0;
    }
    return true;
}

fold_status fold_la_border_create(fold_la_factor *F, const cholmod_sparse *Av, const fold_int *pv,
                                  fold_int k, const fold_int *vpos, const double *C,
                                  const double *W, const double *D, fold_la_border **out)
{
    fold_int nP = F->n, nV = (fold_int)Av->ncol;
    fold_la_border *Bd = fold_calloc(1, sizeof *Bd, "bordered solve");
    *out = NULL;
    if (!Bd) return FOLD_ERR_MEMORY;
    size_t kk = (size_t)(k > 0 ? k : 1), len = (size_t)nP * kk;
    Bd->F = F;
    Bd->Av = Av;
    Bd->nP = nP;
    Bd->nV = nV;
    Bd->k = k;
    Bd->pv = fold_malloc((size_t)nP + 1, sizeof *Bd->pv, "bordered solve map");
    Bd->vpos = fold_malloc(kk, sizeof *Bd->vpos, "bordered solve map");
    Bd->C = fold_malloc(len, sizeof *Bd->C, "border columns");
    Bd->W = fold_malloc(len, sizeof *Bd->W, "border columns");
    if (!Bd->pv || !Bd->vpos || !Bd->C || !Bd->W) {
        fold_la_border_free(Bd);
        return FOLD_ERR_MEMORY;
    }
    memcpy(Bd->pv, pv, (size_t)nP * sizeof *pv);
    memcpy(Bd->vpos, vpos, (size_t)k * sizeof *vpos);
    memcpy(Bd->C, C, (size_t)(nP * k) * sizeof *C);
    memcpy(Bd->W, W, (size_t)(nP * k) * sizeof *W);
    fold_status sp = fold_la_factor_pinned(F) ? border_pins(Bd) : FOLD_OK;
    Bd->ke = k + Bd->a;
    size_t ke = (size_t)(Bd->ke > 0 ? Bd->ke : 1);
    Bd->lu = sp ? NULL : fold_malloc(ke * ke, sizeof *Bd->lu, "capacitance matrix");
    Bd->piv = sp ? NULL : fold_malloc(ke, sizeof *Bd->piv, "capacitance pivots");
    if (sp || !Bd->lu || !Bd->piv) {
        fold_la_border_free(Bd);
        return sp ? sp : FOLD_ERR_MEMORY;
    }
    const fold_int *Ap = Av->p;
    const double *Ax = Av->x;
    double *rowsum = fold_calloc((size_t)nV + 1, sizeof *rowsum, "row sums");
    if (!rowsum) {
        fold_la_border_free(Bd);
        return FOLD_ERR_MEMORY;
    }
    for (fold_int j = 0; j < nV; j++) /* A_v symmetric: row sums are column sums */
        for (fold_int q = Ap[j]; q < Ap[j + 1]; q++)
            rowsum[j] += fabs(Ax[q]);
    for (fold_int i = 0; i < nV; i++)
        Bd->anorm = fold_la_max(Bd->anorm, rowsum[i]);
    free(rowsum);
    if (F->preg.delta > 0.0 && !F->preg.pinned &&
        !set_regularization(Bd, F->preg.delta, F->preg.d)) {
        fold_la_border_free(Bd);
        return FOLD_ERR_MEMORY;
    }
    fold_int *cur = fold_malloc((size_t)nV + 1, sizeof *cur, "symmetry check"), bi, bj;
    if (!cur) {
        fold_la_border_free(Bd);
        return FOLD_ERR_MEMORY;
    }
    Bd->exact_sym = fold_la_symmetric(Av, 0.0, cur, &bi, &bj);
    free(cur);
    fold_status st = Bd->ke > 0 ? capacitance(Bd, D) : FOLD_OK;
    if (Bd->ke == 0) Bd->rcond = 1.0;
    if (st) {
        fold_la_border_free(Bd);
        return st;
    }
    *out = Bd;
    return FOLD_OK;
}

double fold_la_border_rcond(const fold_la_border *Bd)
{
    return Bd->rcond;
}

/* Is column b of A_v's right-hand sides the column bp of A's on the unknowns A_v keeps (the
 * others are free in eq. 4.14: any value there gives the same solution)? */
static bool same_kept(const fold_la_border *Bd, const double *b, const double *bp)
{
    for (fold_int t = 0; t < Bd->nP; t++)
        if (Bd->pv[t] >= 0 && b[Bd->pv[t]] != bp[t]) return false;
    return true;
}

/* X = M^{-1} B for nrhs columns of length nV, M^{-1} the exact inverse of A_v in exact
 * arithmetic (eqs. 4.15-4.16, 4.16b for a pinned A); z = A^{-1} b~ taken from Zp for the
 * first n_known columns whose right-hand side is Bp's on the kept unknowns, solved for the
 * others; ws: nP nrhs (2x) + ke. */
static fold_status bordered_apply(fold_la_border *Bd, bool transpose, fold_int nrhs,
                                  const double *B, double *X, double *ws, const double *Bp,
                                  const double *Zp, const unsigned char *ok, fold_int n_known)
{
    fold_int nP = Bd->nP, nV = Bd->nV, k = Bd->k, ke = Bd->ke, n_solve = 0;
    double *bt = ws, *z = ws + nP * nrhs, *g = ws + 2 * nP * nrhs;
    unsigned char *known = fold_malloc((size_t)nrhs + 1, 1, "bordered solve columns");
    if (!known) return FOLD_ERR_MEMORY;
    for (fold_int c = 0; c < nrhs; c++) { /* the columns to solve, packed at the front */
        known[c] = c < n_known && (!ok || ok[c]) && same_kept(Bd, B + c * nV, Bp + c * nP);
        if (known[c]) continue;
        for (fold_int t = 0; t < nP; t++)
            bt[n_solve * nP + t] = Bd->pv[t] >= 0 ? B[c * nV + Bd->pv[t]] : 0.0;
        n_solve++;
    }
    fold_status st = n_solve ? fold_la_factor_apply(Bd->F, transpose, n_solve, bt, z) : FOLD_OK;
    if (st) {
        free(known);
        return st;
    }
    for (fold_int c = nrhs - 1, q = n_solve - 1; c >= 0; c--) { /* unpack, from the back */
        if (known[c])
            memcpy(z + c * nP, Zp + c * nP, (size_t)nP * sizeof *z);
        else if (q != c)
            memmove(z + c * nP, z + q-- * nP, (size_t)nP * sizeof *z);
        else
            q--;
    }
    Bd->n_reused += nrhs - n_solve;
    for (fold_int c = 0; c < nrhs; c++) {
        double *zc = z + c * nP, *x = X + c * nV;
        for (fold_int j = 0; j < k; j++) {
            double s = Bd->vpos[j] >= 0 ? B[c * nV + Bd->vpos[j]] : 0.0;
            for (fold_int t = 0; t < nP; t++)
                s -= Bd->C[j * nP + t] * zc[t];
            g[j] = s;
        }
        /* z_p' b~ for the right-hand side on A that z solves: Bp's column where z is Zp's
         * (equal to b~ on the kept unknowns; the removed ones' multipliers absorb the rest) */
        const double *bp = known[c] ? Bp + c * nP : NULL;
        for (fold_int p = 0; p < Bd->a; p++) {
            fold_int j = Bd->pj[p], q = Bd->pk[p];
            double bj = bp ? bp[j] : Bd->pv[j] >= 0 ? B[c * nV + Bd->pv[j]] : 0.0;
            double bq = q < 0 ? 0.0 : bp ? bp[q] : Bd->pv[q] >= 0 ? B[c * nV + Bd->pv[q]] : 0.0;
            g[k + p] = bj - Bd->pr[p] * bq;
        }
        dense_solve(ke, Bd->lu, Bd->piv, g);
        for (fold_int j = 0; j < k; j++)
            for (fold_int t = 0; t < nP; t++)
                zc[t] -= Bd->W[j * nP + t] * g[j];
        for (fold_int p = 0; p < Bd->a; p++) { /* + Z alpha */
            zc[Bd->pj[p]] += g[k + p];
            if (Bd->pk[p] >= 0) zc[Bd->pk[p]] -= Bd->pr[p] * g[k + p];
        }
        for (fold_int t = 0; t < nP; t++)
            if (Bd->pv[t] >= 0) x[Bd->pv[t]] = zc[t];
        for (fold_int j = 0; j < k; j++)
            if (Bd->vpos[j] >= 0) x[Bd->vpos[j]] = g[j];
    }
    free(known);
    return FOLD_OK;
}

/* Componentwise backward error of x (eq. 4.4): r = b - A_v x, w = |A_v| |x|; with a
 * regularized F the row scale has the term delta d_i |x_i| of §4.8, as factor_solve.c's. */
static double backward_error(const fold_la_border *Bd, const double *x, const double *b,
                             const double *r, const double *w)
{
    double xn = 0.0, bn = 0.0, rc = 0.0;
    for (fold_int i = 0; i < Bd->nV; i++) {
        xn = fold_la_max(xn, fabs(x[i]));
        bn = fold_la_max(bn, fabs(b[i]));
    }
    double floor_den = DBL_EPSILON * (Bd->anorm * xn + bn);
    for (fold_int i = 0; i < Bd->nV; i++) {
        double den = w[i] + fabs(b[i]) + floor_den, ri = fabs(r[i]);
        if (Bd->dreg) den += Bd->delta * Bd->dreg[i] * fabs(x[i]);
        if (ri > 0.0) rc = fold_la_max(rc, den > 0.0 ? ri / den : HUGE_VAL);
    }
    return isnan(rc) ? HUGE_VAL : rc;
}

fold_int fold_la_border_reused(const fold_la_border *Bd)
{
    return Bd->n_reused;
}

fold_status fold_la_border_solve(fold_la_border *Bd, bool transpose, fold_int nrhs, const double *B,
                                 double *X, const double *Bp, const double *Zp,
                                 const unsigned char *ok, fold_int n_known, int refine_steps,
                                 double tol, double *residual, unsigned char *bad, fold_int *n_bad)
{
    fold_int nP = Bd->nP, nV = Bd->nV;
    size_t len = (size_t)(nV * nrhs);
    *residual = 0.0;
    *n_bad = 0;
    if (nrhs == 0 || nV == 0) return FOLD_OK;
    memset(bad, 0, (size_t)nrhs);
    /* R, D, Xprev (nV nrhs each), w (nV), res, dr, act (nrhs each), bordered_apply's (2 nP
     * nrhs + k) */
    size_t need =
        3 * len + (size_t)nV + 3 * (size_t)nrhs + 2 * (size_t)(nP * nrhs) + (size_t)Bd->ke + 1;
    if (Bd->ws_len < need) {
        free(Bd->ws);
        Bd->ws_len = 0;
        if (!(Bd->ws = fold_malloc(need, sizeof *Bd->ws, "bordered solve workspace")))
            return FOLD_ERR_MEMORY;
        Bd->ws_len = need;
    }
    double *ws = Bd->ws;
    double *R = ws, *Dx = R + len, *Xprev = Dx + len, *w = Xprev + len, *res = w + nV;
    double *dr = res + nrhs, *act = dr + nrhs, *aws = act + nrhs;
    /* a regularized F: a column also needs its last correction below FOLD_LA_PREG_ETA of
     * its solution (eq. 4.9), within FOLD_LA_PREG_EXTRA_STEPS more steps */
    const bool preg = Bd->dreg != NULL;
    const int max_steps = preg ? refine_steps + FOLD_LA_PREG_EXTRA_STEPS : refine_steps;
    fold_status st = bordered_apply(Bd, transpose, nrhs, B, X, aws, Bp, Zp, ok, n_known);
    for (fold_int c = 0; c < nrhs; c++) {
        res[c] = HUGE_VAL;
        dr[c] = preg ? HUGE_VAL : 0.0;
        /* a column whose earlier solution GMRES found is as slow here: flagged for it
         * at once, without the refinement steps it would spend first */
        if (preg && c < n_known && ok && ok[c] == FOLD_LA_KNOWN_SLOW &&
            same_kept(Bd, B + c * nV, Bp + c * nP))
            res[c] = -HUGE_VAL;
    }
    /* refinement as the direct solves' (factor_solve.c, eqs. 4.3-4.4, 4.9): per column until
     * it meets tol, its residual stops decreasing (the previous x kept) or the steps run out */
    for (int step = 0; st == FOLD_OK; step++) {
        bool active = false;
        for (fold_int c = 0; c < nrhs; c++) {
            double *x = X + c * nV, *r = R + c * nV;
            const double *b = B + c * nV;
            act[c] = 0.0;
            if (res[c] < 0 || (res[c] <= tol && dr[c] <= FOLD_LA_PREG_ETA)) continue;
            fold_la_residual(Bd->Av, transpose || Bd->exact_sym, x, b, r, w);
            double rc = backward_error(Bd, x, b, r, w);
            if (step > 0 && !(rc < res[c]) && !(preg && rc <= tol)) {
                memcpy(x, Xprev + c * nV, (size_t)nV * sizeof *x);
                res[c] = -res[c];
                continue;
            }
            res[c] = rc;
            if (rc > tol || dr[c] > FOLD_LA_PREG_ETA) {
                active = true;
                act[c] = 1.0;
                memcpy(Xprev + c * nV, x, (size_t)nV * sizeof *x);
            }
        }
        if (!active || step >= max_steps) break;
        /* only the columns still refining are solved (R's active columns moved to its front,
         * in place): a block's slow columns would otherwise make every column pay each of
         * their steps */
        fold_int na = fold_la_refine_pack(nV, nrhs, act, R);
        if ((st = bordered_apply(Bd, transpose, na, R, Dx, aws, NULL, NULL, NULL, 0))) break;
        fold_la_refine_correct(nV, nrhs, act, Dx, X, preg, dr);
    }
    for (fold_int c = 0; c < nrhs; c++) {
        bad[c] = dr[c] > FOLD_LA_PREG_ETA;
        *n_bad += bad[c];
        if (!bad[c]) *residual = fold_la_max(*residual, fabs(res[c]));
    }
    return st;
}

fold_status fold_la_border_apply(fold_la_border *Bd, bool transpose, fold_int nrhs, const double *B,
                                 double *X)
{
    size_t need = 2 * (size_t)(Bd->nP * nrhs) + (size_t)Bd->ke + 1;
    if (Bd->aws_len < need) {
        free(Bd->aws);
        Bd->aws_len = 0;
        if (!(Bd->aws = fold_malloc(need, sizeof *Bd->aws, "bordered solve workspace")))
            return FOLD_ERR_MEMORY;
        Bd->aws_len = need;
    }
    return bordered_apply(Bd, transpose, nrhs, B, X, Bd->aws, NULL, NULL, NULL, 0);
}

/* The probe's solve by M: the bordered inverse. */
static fold_status border_solve_m(void *ctx, const double *y, double *z)
{
    return fold_la_border_apply(ctx, false, 1, y, z);
}

fold_status fold_la_border_null_probe(fold_la_border *Bd, double *z, double *residual)
{
    fold_int nV = Bd->nV;
    const double *d = Bd->dprobe;
    *residual = HUGE_VAL;
    if (!d) return fold_error(FOLD_ERR_ARGUMENT, "fold_la_border_null_probe: F not regularized");
    double *y = fold_malloc((size_t)nV + 1, sizeof *y, "null-space probe");
    if (!y) return FOLD_ERR_MEMORY;
    /* eq. 4.10 as a factorization's probe, with the bordered inverse as the solve by M */
    fold_la_probe_start(nV, z);
    fold_status st = fold_la_probe_iterate_with(nV, d, border_solve_m, Bd, NULL, z, y);
    if (!st) {
        double res = fold_la_probe_residual_of(Bd->Av, d, z, y);
        *residual = isnan(res) ? HUGE_VAL : res;
        fold_la_probe_cut(nV, d, z);
    }
    free(y);
    return st;
}

double fold_la_border_delta(const fold_la_border *Bd)
{
    return Bd->dreg ? Bd->delta : 0.0;
}
