/* A numeric UMFPACK factorization kept aside while the same pattern is factored for other
 * values, and brought back without a new factorization (the comparison runs of doc/math.md
 * §3.2, which return to the first values). The symbolic analysis is shared: a kept numeric
 * object needs none for its solves. */
#include "linalg/linalg_internal.h"

/* Everything that describes one numeric factorization of F (not its analysis). */
struct fold_la_kept {
    void *numeric;
    fold_la_umf_lu *lu;
    double rcond;
    fold_int umf_factor_nnz;
    cholmod_sparse *M;
    double *d, delta;
    fold_int n_pin, *pin, *partner; /* the pins of a pinned factorization (factor_pin.c) */
    double *ratio;
    bool pinned;
    double *probe_z, probe_residual;
    bool probe_valid, is_factored;
    double norm_inf, norm_1;
    fold_la_factor_info info;
};

static void kept_free(fold_la_kept *k, cholmod_common *cm)
{
    if (!k) return;
    if (k->numeric) umfpack_dl_free_numeric(&k->numeric);
    fold_la_umf_lu_free(k->lu);
    if (k->M) cholmod_l_free_sparse(&k->M, cm);
    free(k->d);
    free(k->pin);
    free(k->partner);
    free(k->ratio);
    free(k->probe_z);
    free(k);
}

bool fold_la_factor_keep(fold_la_factor *F)
{
    if (!F || F->kept || !F->is_factored || F->info.factorization != FOLD_FACTOR_UMFPACK ||
        !F->umf.numeric)
        return false;
    fold_la_kept *k = fold_calloc(1, sizeof *k, "kept factorization");
    if (!k) {
        fold_clear_error(); /* not keeping it only costs a factorization later */
        return false;
    }
    k->numeric = F->umf.numeric;
    k->lu = F->umf.lu;
    k->rcond = F->umf.rcond;
    k->umf_factor_nnz = F->umf.factor_nnz;
    k->M = F->preg.M;
    k->d = F->preg.d;
    k->delta = F->preg.delta;
    k->pinned = F->preg.pinned;
    k->n_pin = F->preg.n_pin;
    k->pin = F->preg.pin;
    k->partner = F->preg.partner;
    k->ratio = F->preg.ratio;
    k->probe_z = F->probe_z;
    k->probe_residual = F->probe_residual;
    k->probe_valid = F->probe_valid;
    k->is_factored = F->is_factored;
    k->norm_inf = F->norm_inf;
    k->norm_1 = F->norm_1;
    k->info = F->info;
    /* The next factorization starts as a refactorization in place would, with its own
     * buffers (preg.delta stays: a regularized pattern is factored regularized again). */
    F->umf.numeric = NULL;
    F->umf.lu = NULL;
    F->preg.M = NULL;
    F->preg.d = NULL;
    F->preg.pin = F->preg.partner = NULL; /* the next factorization's pins are the caller's */
    F->preg.ratio = NULL;
    F->preg.n_pin = 0;
    F->preg.pinned = false;
    F->probe_z = NULL;
    F->probe_valid = false;
    F->is_factored = false;
    F->kept = k;
    return true;
}

bool fold_la_factor_has_kept(const fold_la_factor *F)
{
    return F && F->kept;
}

fold_status fold_la_factor_restore(fold_la_factor *F)
{
    if (!F || !F->kept)
        return fold_error(FOLD_ERR_ARGUMENT, "fold_la_factor_restore: no kept factorization");
    fold_la_kept *k = F->kept;
    fold_la_umf_lu_free(F->umf.lu);
    if (F->umf.numeric) umfpack_dl_free_numeric(&F->umf.numeric);
    fold_la_ldl_free(&F->ldl);
    if (F->preg.M) cholmod_l_free_sparse(&F->preg.M, F->cm);
    free(F->preg.d);
    fold_la_preg_free_pins(&F->preg);
    free(F->probe_z);
    F->umf.numeric = k->numeric;
    F->umf.lu = k->lu;
    F->umf.rcond = k->rcond;
    F->umf.factor_nnz = k->umf_factor_nnz;
    F->preg.M = k->M;
    F->preg.d = k->d;
    F->preg.delta = k->delta;
    F->preg.pinned = k->pinned;
    F->preg.n_pin = k->n_pin;
    F->preg.pin = k->pin;
    F->preg.partner = k->partner;
    F->preg.ratio = k->ratio;
    F->probe_z = k->probe_z;
    F->probe_residual = k->probe_residual;
    F->probe_valid = k->probe_valid;
    F->is_factored = k->is_factored;
    F->norm_inf = k->norm_inf;
    F->norm_1 = k->norm_1;
    F->info = k->info;
    F->info.reused_analysis = true;
    F->info.analyze_s = F->info.factor_s = 0.0;
    free(k);
    F->kept = NULL;
    return FOLD_OK;
}

void fold_la_factor_drop_kept(fold_la_factor *F)
{
    if (!F) return;
    kept_free(F->kept, F->cm);
    F->kept = NULL;
}
