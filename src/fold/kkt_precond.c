/* Preconditioners of the iterative KKT fold built from the assembled, scaled matrix
 * K = [A B'; B C] (doc/math.md §3.9): Jacobi on the primal diagonal and the diagonal of
 * the approximate Schur complement (eq. 3.22), and the block-diagonal blkdiag(A, B D^-1 B' +
 * |C|) (eq. 3.23, assembled by fold_la_saddle_block) with CHOLMOD-factored blocks. */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"
#include "fold/precond/precond.h"

/* Floor of the primal diagonal relative to the largest entry of its row (eq. 3.22). */
#define FOLD_KKT_PC_FLOOR 1e-3

struct fold_kkt_pc {
    unsigned long solution_id;
    fold_int nK;
    bool is_valid, diag_primal;
    fold_precond_factor *block; /* LDL' of the diagonal blocks, in the solver's common */
};

void fold_kkt_pc_free(fold_kkt_pc *pc)
{
    if (!pc) return;
    fold_pc_factor_free(pc->block);
    free(pc);
}

void fold_kkt_pc_invalidate(fold_kkt_pc *pc)
{
    if (pc) pc->is_valid = false;
}

/* d (nK): |A_jj| floored at FOLD_KKT_PC_FLOOR * max_k |A_jk| on primal rows; on multiplier
 * rows |C_ii| + sum_j B_ij^2 / d_j, the diagonal of B D^-1 B' + |C| (eq. 3.22). Rows that
 * are entirely zero get 1 (the system is singular there anyway). */
void fold_kkt_pc_diagonal(const fold_kkt *kkt, double *d)
{
    const fold_la_sparse *K = fold_kkt_matrix(kkt);
    const fold_int *Kp = K->p, *Ki = K->i;
    const double *Kx = K->x;
    fold_int np = kkt->sys.n_primal, nK = kkt->sys.nK;
    for (fold_int j = 0; j < np; j++) { /* K symmetric: column j holds row j */
        double dj = 0.0, big = 0.0;
        for (fold_int k = Kp[j]; k < Kp[j + 1]; k++) {
            big = fmax(big, fabs(Kx[k]));
            if (Ki[k] == j) dj = fabs(Kx[k] + fold_kkt_product_hdiag(kkt, j, true));
        }
        dj = fmax(dj, FOLD_KKT_PC_FLOOR * big);
        d[j] = dj > 0.0 ? dj : 1.0;
    }
    for (fold_int i = np; i < nK; i++) {
        double di = 0.0;
        for (fold_int k = Kp[i]; k < Kp[i + 1]; k++) {
            if (Ki[k] < np)
                di += Kx[k] * Kx[k] / d[Ki[k]];
            else if (Ki[k] == i)
                di += fabs(Kx[k]);
        }
        d[i] = di > 0.0 ? di : 1.0;
    }
}

static fold_status build(fold_kkt_pc *pc, fold_kkt *kkt, bool diag_primal, const char *fn)
{
    fold_int nK = kkt->sys.nK, np = kkt->sys.n_primal, ptr[3], nb = 0;
    double *d = fold_malloc((size_t)nK, sizeof *d, "preconditioner diagonal");
    fold_status st = FOLD_OK;
    if (!d) return FOLD_ERR_MEMORY;
    fold_kkt_pc_diagonal(kkt, d);
    fold_la_sparse *P = NULL;
    st = fold_la_saddle_block(fold_kkt_matrix(kkt), np, d, diag_primal, &kkt->cm, &P);
    free(d);
    if (st < 0) return fold_error_context(st, "%s: block preconditioner", fn);
    ptr[nb++] = 0; /* non-empty blocks only */
    if (np > 0 && np < nK) ptr[nb++] = np;
    ptr[nb] = nK;
    st = fold_pc_block_create(P, nb, ptr, &kkt->cm, fn, &pc->block);
    fold_la_sparse_free(&P, &kkt->cm);
    if (st == FOLD_ERR_SINGULAR)
        return fold_error_context(st,
                                  "precond.kind = block (blocks: primal rows 0..%lld, "
                                  "Schur complement approximation of the multiplier rows)",
                                  (long long)np - 1);
    return st;
}

fold_status fold_kkt_pc_setup(fold_kkt *kkt, bool diag_primal, fold_backward_info *info,
                              const char *fn)
{
    fold_kkt_pc *pc = kkt->fac.pc;
    double t0 = fold_time_now();
    fold_status st;
    if (pc && pc->is_valid && pc->diag_primal == diag_primal &&
        pc->solution_id == kkt->solution_id && pc->nK == kkt->sys.nK) {
        info->factor_nnz = fold_pc_factor_nnz(pc->block);
        return FOLD_OK;
    }
    fold_kkt_pc_free(pc);
    kkt->fac.pc = pc = fold_calloc(1, sizeof *pc, "preconditioner");
    if (!pc) return FOLD_ERR_MEMORY;
    if ((st = build(pc, kkt, diag_primal, fn)) < 0) {
        fold_kkt_pc_free(pc);
        kkt->fac.pc = NULL;
        return st;
    }
    pc->diag_primal = diag_primal;
    pc->solution_id = kkt->solution_id;
    pc->nK = kkt->sys.nK;
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
