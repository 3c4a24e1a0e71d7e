/* One-sided derivatives of the optimal value (doc/math.md §3.7). Where the multipliers are
 * not unique (dependent active constraint gradients), f*'(p; +e_k) is the largest and
 * -f*'(p; -e_k) the smallest value of dL/dp_k over the optimal multipliers: the current ones
 * plus t in the null space N of the active gradients on the free variables, with the signs
 * of inequality multipliers kept. Each group of null vectors that share a sign constraint is
 * a small linear program (fold_la_lp_max). Where the solution is not unique because
 * variables enter identically (twins: equal columns of the active gradients, no curvature,
 * equal objective gradients), the derivative with respect to a parameter of one of them
 * ranges over the segment of solutions. */
#include "fold/fold_internal.h"

/* Null vectors beyond this many are not resolved: their parameters get an unknown interval. */
#define MAX_NULL 512
/* A coefficient of the objective of a linear program below this share of its terms is
 * zero (the resolution of the null vectors, as the probe's). */
#define TINY FOLD_LA_PROBE_TINY

typedef struct kink_data {
    const fold_solver *solver;
    fold_kkt *kkt;
    const signed char *xs, *cs; /* primary classification */
    unsigned char *held_cand;   /* variables possibly held (a candidate bound side) */
    unsigned char *in_a;        /* constraints with a possibly nonzero multiplier */
    fold_int *acol, n_a;        /* constraint of each column of G */
    double *N;                  /* null basis, n_a x dim */
    fold_int dim;
    double *w;              /* n x dim: J_A' N on the held variables (their z change) */
    double *lo, *hi;        /* per parameter: the added range of dL/dp_k (<= 0, >= 0) */
    unsigned char *unknown; /* per parameter: in a null space too large to resolve */
} kink_data;

static bool var_held(const kink_data *D, fold_int j)
{
    return D->xs[j] != FOLD_XS_FREE || D->held_cand[j];
}

/* The candidates count as held / active (their multipliers may be nonzero): the multiplier
 * set computed is then a superset, and its interval contains the true one. */
static void mark_candidates(kink_data *D)
{
    const fold_kkt *kkt = D->kkt;
    for (fold_int i = 0; i < kkt->m; i++)
        D->in_a[i] = D->cs[i] != FOLD_CS_INACTIVE;
    for (fold_int c = 0; c < kkt->cands.n_cand; c++) {
        const fold_kkt_cand *cd = &kkt->cands.cand[c];
        if (cd->is_con)
            D->in_a[cd->index] = 1;
        else
            D->held_cand[cd->index] = 1;
    }
}

/* G = J_{A,F}': rows the free variables, columns the constraints of A (CSC). */
static fold_la_sparse *build_g(kink_data *D)
{
    fold_kkt *kkt = D->kkt;
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    fold_int *col_of = fold_malloc((size_t)kkt->m + 1, sizeof *col_of, "kink analysis");
    fold_la_sparse *G = NULL;
    if (!col_of) return NULL;
    D->n_a = 0;
    for (fold_int i = 0; i < kkt->m; i++)
        col_of[i] = D->in_a[i] ? D->n_a++ : -1;
    D->acol = fold_malloc((size_t)D->n_a + 1, sizeof *D->acol, "kink analysis");
    fold_int nnz = 0;
    for (fold_int k = 0; k < jp->nnz; k++)
        nnz += col_of[jp->row[k]] >= 0 && !var_held(D, jp->col[k]) && kkt->val.jv[k] != 0.0;
    if (fold_la_sparse_alloc(kkt->n, D->n_a, nnz + 1, &kkt->cm, &G) < 0 || !D->acol) goto fail;
    fold_int *Gp = G->p, *Gi = G->i;
    double *Gx = G->x;
    memset(Gp, 0, ((size_t)D->n_a + 1) * sizeof *Gp);
    for (fold_int i = 0; i < kkt->m; i++)
        if (col_of[i] >= 0) D->acol[col_of[i]] = i;
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int c = col_of[jp->row[k]];
        if (c >= 0 && !var_held(D, jp->col[k]) && kkt->val.jv[k] != 0.0) Gp[c + 1]++;
    }
    for (fold_int c = 0; c < D->n_a; c++)
        Gp[c + 1] += Gp[c];
    fold_int *next = fold_malloc((size_t)D->n_a + 1, sizeof *next, "kink analysis");
    if (!next) goto fail;
    memcpy(next, Gp, (size_t)D->n_a * sizeof *next);
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int c = col_of[jp->row[k]];
        if (c < 0 || var_held(D, jp->col[k]) || kkt->val.jv[k] == 0.0) continue;
        Gi[next[c]] = jp->col[k];
        Gx[next[c]++] = kkt->val.jv[k];
    }
    free(next);
    free(col_of);
    /* sort the rows of each column (SPQR needs a sorted matrix) */
    if (fold_la_sparse_sort(&G, &kkt->cm) == FOLD_OK) return G;
    fold_la_sparse_free(&G, &kkt->cm);
    return NULL;
fail:
    free(col_of);
    fold_la_sparse_free(&G, &kkt->cm);
    return NULL;
}

/* Sign constraints of the linear programs, a'n t <= b for a multiplier that must keep its
 * sign: an active inequality (lam <= 0 lower, >= 0 upper) and a held bound (z = z0 +-
 * (J_A' N t)_j >= 0). row[] lists, per null vector, the constraints it enters. */
typedef struct lp_rows {
    fold_int count;
    fold_int *item; /* constraint i (>= 0) or variable -1 - j */
    double *b;      /* the current multiplier's room: >= 0 */
    double *coef;   /* count x dim: the change of the signed multiplier per unit t_q (negated) */
} lp_rows;

static int con_side(const kink_data *D, fold_int i)
{
    int s = D->cs[i];
    for (fold_int c = 0; s == FOLD_CS_INACTIVE && c < D->kkt->cands.n_cand; c++)
        if (D->kkt->cands.cand[c].is_con && D->kkt->cands.cand[c].index == i)
            s = D->kkt->cands.cand[c].side;
    return s;
}

static int var_side(const kink_data *D, fold_int j)
{
    int s = D->xs[j];
    for (fold_int c = 0; s == FOLD_XS_FREE && c < D->kkt->cands.n_cand; c++)
        if (!D->kkt->cands.cand[c].is_con && D->kkt->cands.cand[c].index == j)
            s = D->kkt->cands.cand[c].side;
    return s;
}

static fold_status build_rows(kink_data *D, lp_rows *R)
{
    const fold_kkt *kkt = D->kkt;
    const fold_solver *sv = D->solver;
    fold_int n = kkt->n, dim = D->dim;
    double *w = D->w = fold_calloc((size_t)(n * dim) + 1, sizeof *w, "kink analysis");
    size_t cap = (size_t)(D->n_a + n) + 1;
    R->item = fold_malloc(cap, sizeof *R->item, "kink analysis");
    R->b = fold_malloc(cap, sizeof *R->b, "kink analysis");
    R->coef = fold_malloc(cap * (size_t)dim + 1, sizeof *R->coef, "kink analysis");
    R->count = 0;
    if (!w || !R->item || !R->b || !R->coef) return FOLD_ERR_MEMORY;
    fold_int *col_of = fold_malloc((size_t)kkt->m + 1, sizeof *col_of, "kink analysis");
    if (!col_of) return FOLD_ERR_MEMORY;
    for (fold_int i = 0; i < kkt->m; i++)
        col_of[i] = -1;
    for (fold_int c = 0; c < D->n_a; c++)
        col_of[D->acol[c]] = c;
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    for (fold_int k = 0; k < jp->nnz; k++) {
        fold_int c = col_of[jp->row[k]];
        if (c < 0 || !var_held(D, jp->col[k])) continue;
        for (fold_int q = 0; q < dim; q++)
            w[jp->col[k] * dim + q] += kkt->val.jv[k] * D->N[q * D->n_a + c];
    }
    for (fold_int c = 0; c < D->n_a; c++) { /* inequality multipliers */
        fold_int i = D->acol[c];
        int s = con_side(D, i);
        if (s != FOLD_CS_LOWER && s != FOLD_CS_UPPER) continue;
        double sg = s == FOLD_CS_UPPER ? 1.0 : -1.0;
        bool moves = false;
        for (fold_int q = 0; q < dim; q++) {
            R->coef[R->count * dim + q] = -sg * D->N[q * D->n_a + c];
            moves |= D->N[q * D->n_a + c] != 0.0;
        }
        if (!moves) continue;
        R->item[R->count] = i;
        R->b[R->count++] = fmax(sg * sv->lam[i], 0.0);
    }
    for (fold_int j = 0; j < n; j++) { /* held bounds: zl = zl0 + (J'dlam)_j, zu = zu0 - (.) */
        int s = var_side(D, j);
        if (s != FOLD_XS_LOWER && s != FOLD_XS_UPPER) continue;
        double sg = s == FOLD_XS_LOWER ? 1.0 : -1.0;
        bool moves = false;
        for (fold_int q = 0; q < dim; q++) {
            double a = w[j * dim + q];
            moves |= fabs(a) > 0.0;
            R->coef[R->count * dim + q] = -sg * a;
        }
        if (!moves) continue;
        R->item[R->count] = -1 - j;
        R->b[R->count++] = fmax(s == FOLD_XS_LOWER ? sv->zl[j] : sv->zu[j], 0.0);
    }
    free(col_of);
    return FOLD_OK;
}

/* Groups of null vectors coupled by a sign constraint (union-find): each is its own linear
 * program, and the parameter's range is the sum of theirs. */
static fold_int find(fold_int *parent, fold_int a)
{
    while (parent[a] != a)
        a = parent[a] = parent[parent[a]];
    return a;
}

static void groups(const lp_rows *R, fold_int dim, fold_int *parent)
{
    for (fold_int q = 0; q < dim; q++)
        parent[q] = q;
    for (fold_int r = 0; r < R->count; r++) {
        fold_int first = -1;
        for (fold_int q = 0; q < dim; q++) {
            if (R->coef[r * dim + q] == 0.0) continue;
            if (first < 0)
                first = q;
            else
                parent[find(parent, q)] = find(parent, first);
        }
    }
}

/* Add v C_side(i, .) to c and |v C_side(i, .)| to a (np x dim, column q): the change of the
 * bound terms of dL/dp (doc/math.md eq. 3.30) when a multiplier of a bound moving with p
 * changes by v per unit t_q. */
static void add_bound_terms(const fold_problem *prob, int side, fold_int i, double v, fold_int dim,
                            fold_int q, double *c, double *a)
{
    const fold_owned_bmap *o = &prob->bmap[side];
    if (!o->nnz || v == 0.0) return;
    for (fold_int k = o->ptr[i]; k < o->ptr[i + 1]; k++) {
        double t = o->coef[k] * v;
        c[o->param[k] * dim + q] += t;
        a[o->param[k] * dim + q] += fabs(t);
    }
}

/* Moving bounds (math.md eq. 3.30): dL/dp holds -lam_i C_side(i) for a constraint and
 * zl C_xL - zu C_xU for a variable; along t_q, dlam = N e_q and a held variable's multiplier
 * moves by +-(J_A' N e_q)_j (build_rows), both adding w_j C_side(j). */
static void bound_objective(const kink_data *D, double *c, double *a)
{
    const fold_problem *prob = D->kkt->prob;
    if (!prob->has_bound_maps) return;
    for (fold_int col = 0; col < D->n_a; col++) {
        fold_int i = D->acol[col];
        int side = con_side(D, i) == FOLD_CS_UPPER ? FOLD_BMAP_GU : FOLD_BMAP_GL;
        for (fold_int q = 0; q < D->dim; q++)
            add_bound_terms(prob, side, i, -D->N[q * D->n_a + col], D->dim, q, c, a);
    }
    for (fold_int j = 0; j < D->kkt->n; j++) {
        int s = var_side(D, j);
        if (s == FOLD_XS_FREE) continue;
        int side = s == FOLD_XS_UPPER ? FOLD_BMAP_XU : FOLD_BMAP_XL; /* fixed: equal maps */
        for (fold_int q = 0; q < D->dim; q++)
            add_bound_terms(prob, side, j, D->w[j * D->dim + q], D->dim, q, c, a);
    }
}

/* The range of dL/dp_k over each group: max and min of c't, c = g_p' N (and the terms of
 * moving bounds) restricted to it. */
static fold_status solve_groups(kink_data *D, const lp_rows *R)
{
    const fold_kkt *kkt = D->kkt;
    fold_int dim = D->dim, np = kkt->np;
    const fold_owned_pattern *gp = &kkt->prob->jac_g_p;
    fold_int *parent = fold_malloc((size_t)dim, sizeof *parent, "kink analysis");
    fold_int *col_of = fold_malloc((size_t)kkt->m + 1, sizeof *col_of, "kink analysis");
    double *c = fold_calloc((size_t)(np * dim), sizeof *c, "kink analysis");
    double *a = fold_calloc((size_t)(np * dim), sizeof *a, "kink analysis");
    double *A = fold_malloc((size_t)(R->count * dim) + 1, sizeof *A, "kink analysis");
    double *b = fold_malloc((size_t)R->count + 1, sizeof *b, "kink analysis");
    double *cg = fold_malloc((size_t)dim, sizeof *cg, "kink analysis");
    fold_int *qs = fold_malloc((size_t)dim, sizeof *qs, "kink analysis");
    fold_status st = FOLD_OK;
    if (!parent || !col_of || !c || !a || !A || !b || !cg || !qs) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    groups(R, dim, parent);
    for (fold_int i = 0; i < kkt->m; i++)
        col_of[i] = -1;
    for (fold_int q = 0; q < D->n_a; q++)
        col_of[D->acol[q]] = q;
    for (fold_int k = 0; k < gp->nnz; k++) { /* c = g_p' N, a = |g_p|' |N| */
        fold_int col = col_of[gp->row[k]], p = gp->col[k];
        if (col < 0) continue;
        for (fold_int q = 0; q < dim; q++) {
            double t = kkt->val.gpv[k] * D->N[q * D->n_a + col];
            c[p * dim + q] += t;
            a[p * dim + q] += fabs(t);
        }
    }
    bound_objective(D, c, a);
    for (fold_int g = 0; g < dim; g++) {
        if (find(parent, g) != g) continue;
        fold_int d = 0, r = 0;
        for (fold_int q = 0; q < dim; q++)
            if (find(parent, q) == g) qs[d++] = q;
        for (fold_int row = 0; row < R->count; row++) {
            bool in = false;
            for (fold_int t = 0; t < d && !in; t++)
                in = R->coef[row * dim + qs[t]] != 0.0;
            if (!in) continue;
            for (fold_int t = 0; t < d; t++)
                A[r * d + t] = R->coef[row * dim + qs[t]];
            b[r++] = R->b[row];
        }
        for (fold_int p = 0; p < np; p++) {
            bool any = false;
            for (fold_int t = 0; t < d; t++) {
                double v = c[p * dim + qs[t]];
                cg[t] = fabs(v) > TINY * a[p * dim + qs[t]] ? v : 0.0;
                any |= cg[t] != 0.0;
            }
            if (!any) continue;
            double up = fold_la_lp_max(d, r, A, b, cg);
            for (fold_int t = 0; t < d; t++)
                cg[t] = -cg[t];
            double down = fold_la_lp_max(d, r, A, b, cg);
            if (isnan(up) || isnan(down)) {
                D->unknown[p] = 1;
                continue;
            }
            D->hi[p] += up;
            D->lo[p] -= down;
        }
    }
done:
    free(parent);
    free(col_of);
    free(c);
    free(a);
    free(A);
    free(b);
    free(cg);
    free(qs);
    return st;
}

fold_status fold_value_kinks(fold_solver *solver, double *dlo, double *dhi, unsigned char *unknown,
                             const char *fn)
{
    fold_kkt *kkt;
    fold_status st;
    if ((st = fold_kkt_classified(solver, fn)) < 0) return st;
    kkt = solver->backward;
    kink_data D = {.solver = solver, .kkt = kkt, .lo = dlo, .hi = dhi, .unknown = unknown};
    D.xs = kkt->cands.pxstat ? kkt->cands.pxstat : kkt->cls.xstat;
    D.cs = kkt->cands.pcstat ? kkt->cands.pcstat : kkt->cls.cstat;
    memset(dlo, 0, (size_t)kkt->np * sizeof *dlo);
    memset(dhi, 0, (size_t)kkt->np * sizeof *dhi);
    memset(unknown, 0, (size_t)kkt->np);
    D.held_cand = fold_calloc((size_t)kkt->n, 1, "kink analysis");
    D.in_a = fold_calloc((size_t)kkt->m + 1, 1, "kink analysis");
    lp_rows R = {0};
    fold_la_sparse *G = NULL;
    if (!D.held_cand || !D.in_a) {
        st = FOLD_ERR_MEMORY;
        goto done;
    }
    mark_candidates(&D);
    if (kkt->m == 0 || !(G = build_g(&D))) {
        st = kkt->m == 0 ? FOLD_OK : fold_error_context(FOLD_ERR_MEMORY, "%s", fn);
        goto twins;
    }
    if ((st = fold_la_null_basis(G, MAX_NULL, &D.N, &D.dim, &kkt->cm))) goto done;
    if (D.dim > 0 && !D.N) { /* too many to resolve: every parameter they move is unknown */
        for (fold_int k = 0; k < kkt->prob->jac_g_p.nnz; k++)
            if (D.in_a[kkt->prob->jac_g_p.row[k]]) unknown[kkt->prob->jac_g_p.col[k]] = 1;
        goto twins;
    }
    if (D.dim > 0 && (!(st = build_rows(&D, &R)))) st = solve_groups(&D, &R);
    if (st) goto done;
twins:
    st = fold_value_twins(solver, D.xs, D.held_cand, dlo, dhi, unknown);
done:
    fold_la_sparse_free(&G, &kkt->cm);
    free(D.held_cand);
    free(D.in_a);
    free(D.acol);
    free(D.N);
    free(D.w);
    free(R.item);
    free(R.b);
    free(R.coef);
    return st;
}
