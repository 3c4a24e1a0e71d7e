/* Evaluation of the derivative callbacks at the stored solution and the full-storage
 * matrices H, J, L_xp, g_p of doc/math.md §2.1 that every KKT form is built from. */
#include "fold/fold_internal.h"

/* Assembly of a (possibly empty) pattern; *out stays NULL for an empty matrix. */
static fold_status make_assembly(fold_kkt *kkt, fold_int nrow, fold_int ncol, fold_int nnz,
                                 const fold_int *row, const fold_int *col, fold_la_assembly **out)
{
    if (nrow == 0 || ncol == 0 || nnz == 0) return FOLD_OK;
    return fold_la_assembly_create(nrow, ncol, nnz, row, col, 0, &kkt->cm, out);
}

/* H in full storage: the lower-triangle triplets followed by their mirror images. */
static fold_status make_hessian(fold_kkt *kkt)
{
    const fold_owned_pattern *hp = &kkt->prob->hess_l;
    fold_int nnz = hp->nnz, nt, t;
    fold_int *row, *col;
    fold_status st;
    if (nnz == 0) return FOLD_OK;
    kkt->hoff = fold_malloc((size_t)nnz, sizeof(fold_int), "hess_l mirror map");
    if (!kkt->hoff) return FOLD_ERR_MEMORY;
    kkt->n_hoff = 0;
    for (fold_int k = 0; k < nnz; k++)
        if (hp->row[k] != hp->col[k]) kkt->hoff[kkt->n_hoff++] = k;
    nt = nnz + kkt->n_hoff;
    row = fold_malloc((size_t)nt, sizeof(fold_int), "hessian triplets");
    col = fold_malloc((size_t)nt, sizeof(fold_int), "hessian triplets");
    kkt->hv2 = fold_malloc((size_t)nt, sizeof(double), "hessian values");
    if (!row || !col || !kkt->hv2) {
        free(row);
        free(col);
        return FOLD_ERR_MEMORY;
    }
    memcpy(row, hp->row, (size_t)nnz * sizeof(fold_int));
    memcpy(col, hp->col, (size_t)nnz * sizeof(fold_int));
    for (t = 0; t < kkt->n_hoff; t++) {
        row[nnz + t] = hp->col[kkt->hoff[t]];
        col[nnz + t] = hp->row[kkt->hoff[t]];
    }
    st = fold_la_assembly_create(kkt->n, kkt->n, nt, row, col, 0, &kkt->cm, &kkt->H);
    free(row);
    free(col);
    return st;
}

static fold_status alloc_values(fold_int nnz, double **out, const char *what)
{
    *out = fold_calloc((size_t)(nnz > 0 ? nnz : 1), sizeof(double), what);
    return *out ? FOLD_OK : FOLD_ERR_MEMORY;
}

static void free_assembly(fold_kkt *kkt, fold_la_assembly **as)
{
    if (*as)
        fold_la_assembly_free(*as, &kkt->cm);
    *as = NULL;
}

/* Undo a partial create_matrices, so that the next call starts over. */
static void free_matrices(fold_kkt *kkt)
{
    double **vals[] = {&kkt->hv, &kkt->jv, &kkt->lpv, &kkt->gpv, &kkt->hv2};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        free(*vals[k]);
        *vals[k] = NULL;
    }
    free(kkt->hoff);
    kkt->hoff = NULL;
    free_assembly(kkt, &kkt->H);
    free_assembly(kkt, &kkt->J);
    free_assembly(kkt, &kkt->Lxp);
    free_assembly(kkt, &kkt->Gp);
}

/* Create the value arrays and assemblies once per problem (patterns never change). */
static fold_status create_matrices(fold_kkt *kkt)
{
    const fold_problem *prob = kkt->prob;
    fold_status st;
    if ((st = alloc_values(prob->hess_l.nnz, &kkt->hv, "hess_l values")) ||
        (st = alloc_values(prob->jac_g.nnz, &kkt->jv, "jac_g values")) ||
        (st = alloc_values(prob->hess_lp.nnz, &kkt->lpv, "hess_lp values")) ||
        (st = alloc_values(prob->jac_g_p.nnz, &kkt->gpv, "jac_g_p values")))
        return st;
    if ((st = make_hessian(kkt)) ||
        (st = make_assembly(kkt, kkt->m, kkt->n, prob->jac_g.nnz, prob->jac_g.row, prob->jac_g.col,
                            &kkt->J)) ||
        (st = make_assembly(kkt, kkt->n, kkt->np, prob->hess_lp.nnz, prob->hess_lp.row,
                            prob->hess_lp.col, &kkt->Lxp)) ||
        (st = make_assembly(kkt, kkt->m, kkt->np, prob->jac_g_p.nnz, prob->jac_g_p.row,
                            prob->jac_g_p.col, &kkt->Gp)))
        return st;
    return FOLD_OK;
}

fold_status fold_kkt_evaluate(fold_kkt *kkt, const fold_solver *solver)
{
    const fold_problem *prob = kkt->prob;
    const double *x = solver->x, *p = solver->p, *lam = solver->lam;
    fold_status st;
    if (!kkt->has_matrices) {
        if ((st = create_matrices(kkt)) != FOLD_OK) {
            free_matrices(kkt);
            return st;
        }
        kkt->has_matrices = true;
    }
    /* A recoverable (> 0) callback failure cannot be retried here: it is an error. */
    if ((st = fold_prob_eval_jac_g(prob, x, p, kkt->jv, NULL)) ||
        (st = fold_prob_eval_hess_l(prob, x, p, 1.0, lam, kkt->hv, NULL)) ||
        (st = fold_prob_eval_hess_lp(prob, x, p, lam, kkt->lpv, NULL)) ||
        (st = fold_prob_eval_jac_g_p(prob, x, p, kkt->gpv, NULL))) {
        if (st == FOLD_CB_RECOVERABLE)
            return fold_error(FOLD_ERR_CALLBACK,
                              "a derivative callback failed (recoverable code) at the solution");
        return st;
    }
    if (kkt->H) {
        fold_int nnz = prob->hess_l.nnz;
        memcpy(kkt->hv2, kkt->hv, (size_t)nnz * sizeof(double));
        for (fold_int t = 0; t < kkt->n_hoff; t++)
            kkt->hv2[nnz + t] = kkt->hv[kkt->hoff[t]];
        fold_la_assembly_fill(kkt->H, kkt->hv2);
    }
    if (kkt->J) fold_la_assembly_fill(kkt->J, kkt->jv);
    if (kkt->Lxp) fold_la_assembly_fill(kkt->Lxp, kkt->lpv);
    if (kkt->Gp) fold_la_assembly_fill(kkt->Gp, kkt->gpv);
    return FOLD_OK;
}
