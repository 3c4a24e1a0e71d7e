/* Dependent active constraints found before any factorization (doc/math.md eq. 4.12): an
 * active row with no nonzero on a free variable, and pairs of active rows that are parallel
 * on the free variables. Their null direction of K moves the multipliers of the held bounds
 * on which the rows differ (and of the rows themselves when they are inequalities), which
 * are then weakly active in the minimal multipliers: the refusal costs no factorization.
 * Either form: the count tells the factorization to expect a singular K (§4.8; in the
 * barrier form the held bounds' barrier terms make it singular to within their inverse). */
#include "fold/fold_internal.h"
#include "fold/kkt_pattern.h"

/* The estimate of a barrier pivot (eq. 4.13) is rough: it counts as singular only this far
 * below rcond_min (a wrong guess costs one factorization either way; on the PGLib cases the
 * estimates of LUs that passed rcond_min went down to 6e-15, of singular ones up to 1.3e-18). */
#define BARRIER_MARGIN 1e-3
/* Rows sharing a free-column pattern compared pairwise up to this many per pattern. */
#define MAX_GROUP 64

typedef struct row_view {
    fold_int row, start, n_free; /* entries [start, start + n_free) of the free part */
    uint64_t key;
} row_view;

typedef struct structural {
    fold_kkt *kkt;
    const fold_solver *solver;
    fold_int *fcol, *hcol, *fptr, *hptr; /* free / held entries per active row (CSR) */
    double *fval, *hval;
    fold_int first_row, first_weak, added; /* the first dependent row; weak[first_weak] */
    fold_int n_dependent;                  /* null directions found */
    fold_int n_new;                        /* of them, a run's that the primary has not */
    bool count_only;                       /* barrier form: count them, mark nothing */
    double *rowsum;                        /* barrier form: ||J(i,:)||_1 + |D_ii| per active row */
    double rcond_min;
} structural;

static int cmp_view(const void *a, const void *b)
{
    const row_view *x = a, *y = b;
    if (x->n_free != y->n_free) return x->n_free < y->n_free ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Mark one item weakly active (once): a held bound (var >= 0) or an inequality row. */
static fold_status mark(structural *S, fold_int row, fold_int var)
{
    fold_int before = S->kkt->cls.n_weak;
    fold_status st = fold_kkt_add_weak_item(S->kkt, S->solver, row, var);
    if (st || S->kkt->cls.n_weak == before) return st;
    if (S->first_weak < 0) S->first_weak = before, S->first_row = row;
    S->added++;
    return FOLD_OK;
}

static bool inequality(const fold_kkt *kkt, fold_int row)
{
    return kkt->cls.cstat[row] == FOLD_CS_LOWER || kkt->cls.cstat[row] == FOLD_CS_UPPER;
}

/* Row b's held entry on column j (0 when it has none). */
static double held_entry(const structural *S, fold_int b, fold_int j)
{
    double v = 0.0;
    for (fold_int t = S->hptr[b]; t < S->hptr[b + 1]; t++)
        if (S->hcol[t] == j) v += S->hval[t];
    return v;
}

/* The null direction e_a - r e_b (b < 0: e_a alone): mark the held bounds whose multiplier
 * it moves (J_aj - r J_bj does not cancel) and the inequality rows in it. */
static fold_status mark_direction(structural *S, fold_int a, fold_int b, double r)
{
    fold_status st;
    if (inequality(S->kkt, a) && (st = mark(S, a, -1))) return st;
    if (b >= 0 && inequality(S->kkt, b) && (st = mark(S, b, -1))) return st;
    for (fold_int q = S->hptr[a]; q < S->hptr[a + 1]; q++) {
        double vb = b >= 0 ? held_entry(S, b, S->hcol[q]) : 0.0;
        double d = S->hval[q] - r * vb;
        if (fabs(d) > FOLD_LA_PROBE_TINY * (fabs(S->hval[q]) + fabs(r * vb)) &&
            (st = mark(S, a, S->hcol[q])))
            return st;
    }
    for (fold_int t = b >= 0 ? S->hptr[b] : 0; b >= 0 && t < S->hptr[b + 1]; t++) {
        bool in_a = false;
        for (fold_int q = S->hptr[a]; q < S->hptr[a + 1] && !in_a; q++)
            in_a = S->hcol[q] == S->hcol[t];
        if (!in_a && S->hval[t] != 0.0 && (st = mark(S, b, S->hcol[t]))) return st;
    }
    return FOLD_OK;
}

/* Barrier form: the null direction e_a - r e_b (b < 0: e_a) of the active form is only
 * nearly null in the barrier matrix. A single row with a held entry is not: the LU pivots
 * it on that column ([Sigma_j J_aj; J_aj 0] is well-conditioned that way). A pair keeps a
 * pivot of about h' diag(1/(|H_jj| + Sigma_j)) h + D_aa + r^2 D_bb (h = J_a - r J_b on the
 * held columns, D the inequality rows' 1/Sigma_s), and relative to the rows' scale, far
 * below rcond_min, that is what UMFPACK's pivot test calls singular (doc/math.md eq.
 * 4.13). */
static bool barrier_singular(const structural *S, fold_int a, fold_int b, double r)
{
    const fold_kkt *kkt = S->kkt;
    if (b < 0 && S->hptr[a] < S->hptr[a + 1]) return false;
    double num = fabs(kkt->sys.cdiag[a]) + (b >= 0 ? r * r * fabs(kkt->sys.cdiag[b]) : 0.0);
    for (fold_int q = S->hptr[a]; q < S->hptr[a + 1]; q++) {
        fold_int j = S->hcol[q];
        double h = S->hval[q] - (b >= 0 ? r * held_entry(S, b, j) : 0.0);
        num += h * h / (fabs(kkt->w1[j]) + kkt->sys.xdiag[j]);
    }
    for (fold_int q = b >= 0 ? S->hptr[b] : 0; b >= 0 && q < S->hptr[b + 1]; q++) {
        fold_int j = S->hcol[q];
        if (held_entry(S, a, j) != 0.0) continue; /* counted with row a */
        double h = -r * S->hval[q];
        num += h * h / (fabs(kkt->w1[j]) + kkt->sys.xdiag[j]);
    }
    double den = S->rowsum[a] + (b >= 0 ? fabs(r) * S->rowsum[b] : 0.0);
    return den == 0.0 || !(num >= BARRIER_MARGIN * S->rcond_min * den);
}

/* Rows a and b parallel on the free columns (same pattern): row_a = r row_b. */
static bool parallel(const structural *S, const row_view *a, const row_view *b, double *r)
{
    return fold_pattern_parallel(S->fcol + a->start, S->fval + a->start, S->fcol + b->start,
                                 S->fval + b->start, a->n_free, r);
}

/* Sort a row's free entries by column (insertion sort: rows are short). */
static void sort_entries(fold_int *c, double *v, fold_int len)
{
    for (fold_int a = 1; a < len; a++) {
        fold_int tc = c[a], b = a;
        double tv = v[a];
        for (; b > 0 && c[b - 1] > tc; b--)
            c[b] = c[b - 1], v[b] = v[b - 1];
        c[b] = tc, v[b] = tv;
    }
}

static fold_status build(structural *S)
{
    fold_kkt *kkt = S->kkt;
    const fold_owned_pattern *jp = &kkt->prob->jac_g;
    fold_int m = kkt->m;
    S->fptr = fold_calloc((size_t)m + 1, sizeof(fold_int), "structural check");
    S->hptr = fold_calloc((size_t)m + 1, sizeof(fold_int), "structural check");
    S->fcol = fold_malloc((size_t)jp->nnz + 1, sizeof(fold_int), "structural check");
    S->hcol = fold_malloc((size_t)jp->nnz + 1, sizeof(fold_int), "structural check");
    S->fval = fold_malloc((size_t)jp->nnz + 1, sizeof(double), "structural check");
    S->hval = fold_malloc((size_t)jp->nnz + 1, sizeof(double), "structural check");
    if (!S->fptr || !S->hptr || !S->fcol || !S->hcol || !S->fval || !S->hval)
        return FOLD_ERR_MEMORY;
    if (S->count_only) {
        if (!(S->rowsum = fold_calloc((size_t)m + 1, sizeof(double), "structural check")))
            return FOLD_ERR_MEMORY;
        for (fold_int i = 0; i < m; i++)
            S->rowsum[i] = fabs(kkt->sys.cdiag[i]);
        for (fold_int k = 0; k < jp->nnz; k++)
            S->rowsum[jp->row[k]] += fabs(kkt->val.jv[k]);
    }
    for (int pass = 0; pass < 2; pass++) {
        for (fold_int k = 0; k < jp->nnz; k++) {
            fold_int i = jp->row[k], j = jp->col[k];
            int xs = kkt->cls.xstat[j];
            if (kkt->cls.cstat[i] == FOLD_CS_INACTIVE || kkt->val.jv[k] == 0.0) continue;
            bool free_col = xs == FOLD_XS_FREE, held = xs == FOLD_XS_LOWER || xs == FOLD_XS_UPPER;
            if (!free_col && !held) continue;
            fold_int *ptr = free_col ? S->fptr : S->hptr;
            if (pass == 0) {
                ptr[i + 1]++;
                continue;
            }
            fold_int q = ptr[i]++;
            (free_col ? S->fcol : S->hcol)[q] = j;
            (free_col ? S->fval : S->hval)[q] = kkt->val.jv[k];
        }
        if (pass == 0)
            for (fold_int i = 0; i < m; i++) {
                S->fptr[i + 1] += S->fptr[i];
                S->hptr[i + 1] += S->hptr[i];
            }
        else
            for (fold_int i = m; i > 0; i--) { /* the cursors ran one row ahead */
                S->fptr[i] = S->fptr[i - 1];
                S->hptr[i] = S->hptr[i - 1];
            }
    }
    S->fptr[0] = S->hptr[0] = 0;
    return FOLD_OK;
}

static int cmp_pair(const void *a, const void *b)
{
    const fold_int *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* A dependent row (b < 0) or pair of rows found: the primary keeps it (kkt->border.dep,
 * sorted when the scan ends), a comparison run counts it new when the primary has not. */
static fold_status note_dependent(structural *S, fold_int a, fold_int b)
{
    fold_kkt_border *bd = &S->kkt->border;
    fold_int pair[2] = {b < 0 || a < b ? a : b, b < 0 || a < b ? b : a};
    S->n_dependent++;
    if (!fold_kkt_primary(S->kkt)) {
        if (!bd->n_dep || !bsearch(pair, bd->dep, (size_t)bd->n_dep, 2 * sizeof *pair, cmp_pair))
            S->n_new++;
        return FOLD_OK;
    }
    if (bd->n_dep == bd->dep_cap) {
        fold_int cap = bd->dep_cap ? 2 * bd->dep_cap : 16;
        fold_int *grown = realloc(bd->dep, (size_t)cap * 2 * sizeof *grown);
        if (!grown) return fold_error(FOLD_ERR_MEMORY, "structural check: out of memory");
        bd->dep = grown;
        bd->dep_cap = cap;
    }
    bd->dep[2 * bd->n_dep] = pair[0];
    bd->dep[2 * bd->n_dep++ + 1] = pair[1];
    return FOLD_OK;
}

static fold_status scan(structural *S)
{
    fold_kkt *kkt = S->kkt;
    fold_int nv = 0;
    fold_status st = FOLD_OK;
    row_view *v = fold_malloc((size_t)kkt->m + 1, sizeof *v, "structural check");
    if (!v) return FOLD_ERR_MEMORY;
    for (fold_int i = 0; i < kkt->m; i++) {
        if (kkt->cls.cstat[i] == FOLD_CS_INACTIVE) continue;
        fold_int len = S->fptr[i + 1] - S->fptr[i];
        if (len == 0) { /* e_i is a null direction */
            if (S->count_only) {
                if (barrier_singular(S, i, -1, 0.0)) S->n_dependent++;
            } else if ((st = note_dependent(S, i, -1)) || (st = mark_direction(S, i, -1, 0.0))) {
                goto done;
            }
            continue;
        }
        sort_entries(S->fcol + S->fptr[i], S->fval + S->fptr[i], len);
        v[nv++] = (row_view){i, S->fptr[i], len, fold_pattern_key(S->fcol + S->fptr[i], len)};
    }
    qsort(v, (size_t)nv, sizeof *v, cmp_view);
    for (fold_int a = 0; a < nv; a++)
        for (fold_int b = a + 1;
             b < nv && b <= a + MAX_GROUP && v[b].n_free == v[a].n_free && v[b].key == v[a].key;
             b++) {
            double r;
            if (!parallel(S, &v[a], &v[b], &r)) continue;
            if (S->count_only) {
                if (barrier_singular(S, v[a].row, v[b].row, r)) S->n_dependent++;
            } else if ((st = note_dependent(S, v[a].row, v[b].row)) ||
                       (st = mark_direction(S, v[a].row, v[b].row, r))) {
                goto done;
            }
        }
done:
    free(v);
    return st;
}

fold_status fold_kkt_null_structural(fold_kkt *kkt, const fold_solver *solver, const char *fn)
{
    structural S = {.kkt = kkt,
                    .solver = solver,
                    .first_row = -1,
                    .first_weak = -1,
                    .count_only = kkt->sys.form == FOLD_KKT_BARRIER,
                    .rcond_min = solver->set.backward.rcond_min};
    fold_status st;
    kkt->cls.n_weak = kkt->cls.n_weak_classified;
    kkt->cls.n_dependent = kkt->cls.n_dependent_new = 0;
    if (fold_kkt_primary(kkt) && !S.count_only) kkt->border.n_dep = 0; /* found again */
    if (kkt->m == 0) return FOLD_OK;
    if (!(st = build(&S))) st = scan(&S);
    kkt->cls.n_dependent = S.n_dependent;
    kkt->cls.n_dependent_new = S.n_new;
    if (fold_kkt_primary(kkt) && kkt->border.n_dep > 1)
        qsort(kkt->border.dep, (size_t)kkt->border.n_dep, 2 * sizeof *kkt->border.dep, cmp_pair);
    free(S.fptr);
    free(S.hptr);
    free(S.fcol);
    free(S.hcol);
    free(S.fval);
    free(S.hval);
    free(S.rowsum);
    if (st) return st;
    if (S.added == 0) return FOLD_OK;
    if (fold_kkt_primary(kkt)) /* kept by fold_kkt_null_degenerate; a variant's are its own */
        kkt->cls.n_weak_classified = kkt->cls.n_weak;
    if (fold_kkt_dependent_candidates(kkt, solver, S.first_weak)) return FOLD_OK;
    /* a variant of the candidates (variants.c) is compared, never refused */
    if (solver->set.active_set.weak_policy == FOLD_WEAK_REFUSE && fold_kkt_primary(kkt)) {
        char first[FOLD_NAME_MAX + 64], row[FOLD_NAME_MAX];
        fold_kkt_weak_describe(kkt, &kkt->cls.weak[S.first_weak], first, sizeof first);
        fold_prob_name(kkt->prob, FOLD_ITEM_CONSTRAINT, S.first_row, row, sizeof row);
        return fold_error(FOLD_ERR_DEGENERATE,
                          "%s: dependent active constraints (constraint %s has no nonzero on "
                          "a free variable, or is parallel there to another active row) whose "
                          "multipliers can be shifted to zero on %lld inequalities (first: %s): "
                          "weakly active in the minimal multipliers; see fold_trust_report or set "
                          "active_set.weak_policy",
                          fn, row, (long long)S.added, first);
    }
    kkt->cls.is_one_sided = true;
    return FOLD_OK;
}
