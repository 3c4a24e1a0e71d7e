/* Preconditioners of the iterative KKT fold built from the assembled, scaled matrix
 * K = [A B'; B C] (doc/math.md §3.9): Jacobi on the primal diagonal and the diagonal of
 * the approximate Schur complement (eq. 3.22), and the block-diagonal blkdiag(A, B D^-1 B' +
 * |C|) with CHOLMOD-factored blocks (eq. 3.23). */
#include "fold/fold_internal.h"
#include "fold/precond/precond.h"

/* Floor of the primal diagonal relative to the largest entry of its row (eq. 3.22). */
#define FOLD_KKT_PC_FLOOR 1e-3

struct fold_kkt_pc {
    unsigned long solution_id;
    fold_int nK;
    bool is_valid, diag_primal;
    fold_precond_factor *block; /* LDL' of the diagonal blocks */
    cholmod_common cm;
    bool has_cm;
};

void fold_kkt_pc_free(fold_kkt_pc *pc)
{
    if (!pc) return;
    fold_pc_factor_free(pc->block);
    if (pc->has_cm) fold_la_common_finish(&pc->cm);
    free(pc);
}

/* d (nK): |A_jj| floored at FOLD_KKT_PC_FLOOR * max_k |A_jk| on primal rows; on multiplier
 * rows |C_ii| + sum_j B_ij^2 / d_j, the diagonal of B D^-1 B' + |C| (eq. 3.22). Rows that
 * are entirely zero get 1 (the system is singular there anyway). */
void fold_kkt_pc_diagonal(const fold_kkt *kkt, double *d)
{
    const cholmod_sparse *K = fold_kkt_matrix(kkt);
    const SuiteSparse_long *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    fold_int np = kkt->n_primal, nK = kkt->nK;
    for (fold_int j = 0; j < np; j++) { /* K symmetric: column j holds row j */
        double dj = 0.0, big = 0.0;
        for (SuiteSparse_long k = Kp[j]; k < Kp[j + 1]; k++) {
            big = fmax(big, fabs(Kx[k]));
            if (Ki[k] == j) dj = fabs(Kx[k]);
        }
        dj = fmax(dj, FOLD_KKT_PC_FLOOR * big);
        d[j] = dj > 0.0 ? dj : 1.0;
    }
    for (fold_int i = np; i < nK; i++) {
        double di = 0.0;
        for (SuiteSparse_long k = Kp[i]; k < Kp[i + 1]; k++) {
            if (Ki[k] < np)
                di += Kx[k] * Kx[k] / d[Ki[k]];
            else if (Ki[k] == i)
                di += fabs(Kx[k]);
        }
        d[i] = di > 0.0 ? di : 1.0;
    }
}

/* P = blkdiag(A~, B D^-1 B' + |C|) as a full-storage matrix, A~ = A with diagonal entries
 * smaller than d_j in magnitude replaced by d_j (eq. 3.23). */
static cholmod_sparse *block_matrix(const fold_kkt *kkt, const double *d, bool diag_primal,
                                    cholmod_common *cm)
{
    const cholmod_sparse *K = fold_kkt_matrix(kkt);
    const SuiteSparse_long *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    fold_int np = kkt->n_primal, nK = kkt->nK, nd = nK - np;
    cholmod_sparse *Bs = NULL, *S = NULL, *P = NULL;
    cholmod_triplet *T = NULL;
    SuiteSparse_long *rset = NULL, *cset = NULL;
    size_t cap = (size_t)Kp[nK] + (size_t)np;
    if (nd > 0) {
        /* Bs = B D^{-1/2} (nd x np), S = Bs Bs' */
        rset = fold_malloc((size_t)nd, sizeof *rset, "row set");
        cset = fold_malloc((size_t)(np > 0 ? np : 1), sizeof *cset, "column set");
        if (!rset || !cset) goto done;
        for (fold_int i = 0; i < nd; i++)
            rset[i] = np + i;
        for (fold_int j = 0; j < np; j++)
            cset[j] = j;
        Bs = cholmod_l_submatrix((cholmod_sparse *)K, rset, nd, cset, np, 1, 1, cm);
        if (!Bs) goto done;
        for (fold_int j = 0; j < np; j++)
            for (SuiteSparse_long k = ((SuiteSparse_long *)Bs->p)[j];
                 k < ((SuiteSparse_long *)Bs->p)[j + 1]; k++)
                ((double *)Bs->x)[k] /= sqrt(d[j]);
        S = cholmod_l_aat(Bs, NULL, 0, 1, cm);
        if (!S) goto done;
        cap += (size_t)((SuiteSparse_long *)S->p)[nd] + (size_t)nd;
    }
    T = cholmod_l_allocate_triplet((size_t)nK, (size_t)nK, cap, 0, CHOLMOD_REAL, cm);
    if (!T) goto done;
    SuiteSparse_long *Ti = T->i, *Tj = T->j;
    double *Tx = T->x;
    size_t t = 0;
    for (fold_int j = 0; j < nK; j++)
        for (SuiteSparse_long k = Kp[j]; k < Kp[j + 1]; k++) {
            bool primal = j < np && Ki[k] < np && (!diag_primal || Ki[k] == j);
            bool cdiag = j >= np && Ki[k] == j;
            if (!primal && !cdiag) continue;
            Ti[t] = Ki[k];
            Tj[t] = j;
            Tx[t++] = primal ? Kx[k] : fabs(Kx[k]);
        }
    /* Primal diagonals below the floor are replaced by the floor d_j (eq. 3.23): variables
     * with no curvature (e.g. entering only linearly) would make the block singular. */
    for (fold_int j = 0; j < np; j++) {
        double kjj = 0.0;
        for (SuiteSparse_long k = Kp[j]; k < Kp[j + 1]; k++)
            if (Ki[k] == j) kjj = Kx[k];
        if (diag_primal || fabs(kjj) < d[j]) {
            Ti[t] = Tj[t] = j;
            Tx[t++] = d[j] - kjj;
        }
    }
    for (fold_int j = 0; S && j < nd; j++) {
        for (SuiteSparse_long k = ((SuiteSparse_long *)S->p)[j];
             k < ((SuiteSparse_long *)S->p)[j + 1]; k++) {
            Ti[t] = np + ((SuiteSparse_long *)S->i)[k];
            Tj[t] = np + j;
            Tx[t++] = ((double *)S->x)[k];
        }
    }
    T->nnz = t;
    P = cholmod_l_triplet_to_sparse(T, t, cm); /* sums duplicates, sorted */
done:
    if (!P && cm->status == CHOLMOD_OK) fold_error(FOLD_ERR_MEMORY, "block preconditioner");
    free(rset);
    free(cset);
    cholmod_l_free_sparse(&Bs, cm);
    cholmod_l_free_sparse(&S, cm);
    cholmod_l_free_triplet(&T, cm);
    return P;
}

static fold_status build(fold_kkt_pc *pc, const fold_kkt *kkt, bool diag_primal, const char *fn)
{
    fold_int nK = kkt->nK, np = kkt->n_primal, ptr[3], nb = 0;
    double *d = fold_malloc((size_t)nK, sizeof *d, "preconditioner diagonal");
    fold_status st = FOLD_OK;
    if (!d) return FOLD_ERR_MEMORY;
    fold_kkt_pc_diagonal(kkt, d);
    cholmod_sparse *P = block_matrix(kkt, d, diag_primal, &pc->cm);
    free(d);
    if (!P) return fold_error_context(FOLD_ERR_MEMORY, "%s: block preconditioner", fn);
    ptr[nb++] = 0; /* non-empty blocks only */
    if (np > 0 && np < nK) ptr[nb++] = np;
    ptr[nb] = nK;
    st = fold_pc_block_create(P, nb, ptr, &pc->cm, fn, &pc->block);
    cholmod_l_free_sparse(&P, &pc->cm);
    if (st == FOLD_ERR_SINGULAR)
        return fold_error_context(st, "precond.kind = block (blocks: primal rows 0..%lld, "
                                  "Schur complement approximation of the multiplier rows)",
                                  (long long)np - 1);
    return st;
}

fold_status fold_kkt_pc_setup(fold_kkt *kkt, bool diag_primal, fold_backward_info *info,
                              const char *fn)
{
    fold_kkt_pc *pc = kkt->pc;
    double t0 = fold_time_now();
    fold_status st;
    if (pc && pc->is_valid && pc->diag_primal == diag_primal &&
        pc->solution_id == kkt->solution_id && pc->nK == kkt->nK) {
        info->factor_nnz = fold_pc_factor_nnz(pc->block);
        return FOLD_OK;
    }
    fold_kkt_pc_free(pc);
    kkt->pc = pc = fold_calloc(1, sizeof *pc, "preconditioner");
    if (!pc) return FOLD_ERR_MEMORY;
    if (fold_la_common_init(&pc->cm) != FOLD_OK)
        return fold_error_context(FOLD_ERR_INTERNAL, "%s: preconditioner", fn);
    pc->has_cm = true;
    if ((st = build(pc, kkt, diag_primal, fn)) < 0) {
        fold_kkt_pc_free(pc);
        kkt->pc = NULL;
        return st;
    }
    pc->diag_primal = diag_primal;
    pc->solution_id = kkt->solution_id;
    pc->nK = kkt->nK;
    pc->is_valid = true;
    info->factor_nnz = fold_pc_factor_nnz(pc->block);
    info->factor_s += fold_time_now() - t0;
    return FOLD_OK;
}

fold_status fold_kkt_pc_apply(void *ctx, bool transpose, const double *r, double *z)
{
    fold_kkt_pc *pc = ctx;
    return fold_pc_factor_apply(pc->block, transpose, r, z);
}
