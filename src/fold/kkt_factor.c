/* The factorization of the KKT matrix at setup (kkt_state.c) and of a comparison run's
 * matrix after all when its bordered solve over the primary factorization misses the
 * refinement tolerance (kkt_system.c, doc/math.md §4.9): the factorization, and for a
 * singular K the regularized one and its null space (§4.8). */
#include "fold/fold_internal.h"

/* Factor K (rebuilt: a new pattern, analyzed anew). keep: K holds another classification's
 * or barrier parameter's values (variants.c) while F holds the primary's factorization,
 * which is kept aside and restored, instead of factored again, when the primary comes back. */
fold_status fold_kkt_factorize(fold_kkt *kkt, const fold_settings *set, bool rebuilt, bool keep,
                               const char *fn, double *probe_s)
{
    const fold_la_sparse *A = fold_kkt_matrix(kkt);
    fold_status st;
    kkt->fac.reused_analysis = false;
    memset(&kkt->fac.finfo, 0, sizeof kkt->fac.finfo);
    kkt->fac.finfo.factorization = set->backward.factorization;
    kkt->fac.finfo.ordering = set->backward.ordering;
    if (kkt->sys.nK == 0) {
        kkt->fac.has_factor = true; /* nothing to solve: every derivative is explicit */
        return FOLD_OK;
    }
    /* Dependent rows or variables found before factoring: K is singular (to within the
     * inverse barrier terms of held bounds), so the regularized matrix, or K with its copied
     * columns pinned (eq. 4.12c), is factored directly (§4.8; if it is regular after all, K
     * is factored as usual). */
    bool restore =
        kkt->fac.F && !rebuilt && fold_kkt_primary(kkt) && fold_la_factor_has_kept(kkt->fac.F);
    fold_kkt_pins pins = {0};
    bool expect_singular =
        !restore && (fold_kkt_null_columns(kkt, &pins) > 0 || kkt->cls.n_dependent > 0);
    bool primary = fold_kkt_primary(kkt);
    fold_la_pins la_pins = {primary || !kkt->fac.pins_refused ? pins.n : 0, pins.col, pins.partner,
                            pins.ratio};
    if (restore) {
        st = fold_la_factor_restore(kkt->fac.F);
    } else if (kkt->fac.F && !rebuilt) {
        if (keep) fold_la_factor_keep(kkt->fac.F);
        if (expect_singular) fold_la_factor_expect_singular(kkt->fac.F, &la_pins);
        st = fold_la_factor_refactor(kkt->fac.F, A);
    } else {
        fold_la_factor_free(kkt->fac.F);
        kkt->fac.F = NULL;
        st = fold_la_factor_create_shared(A, set->backward.factorization, set->backward.ordering,
                                          kkt->sys.n_primal, set->backward.regularization,
                                          set->backward.rcond_min, set->backward.singular_reg,
                                          expect_singular, &la_pins, &kkt->cm, &kkt->fac.F);
    }
    fold_kkt_pins_free(&pins);
    if (kkt->fac.F) fold_la_factor_get_info(kkt->fac.F, &kkt->fac.finfo);
    if (primary && !restore)
        kkt->fac.pins_refused = la_pins.n > 0 && !fold_la_factor_pinned(kkt->fac.F);
    kkt->fac.reused_analysis = kkt->fac.finfo.reused_analysis;
    if (st == FOLD_OK || st > 0) {
        /* A regularized (singular) K: which entries of results are undetermined (§4.8). */
        double t0 = fold_time_now();
        st = fold_kkt_null_setup(kkt);
        *probe_s = fold_time_now() - t0;
        if (st != FOLD_OK)
            return fold_error_context(st, "%s: null space of the singular KKT matrix", fn);
        if ((st = fold_kkt_null_degenerate(kkt, kkt->solver, fn)) != FOLD_OK) return st;
        kkt->fac.has_factor = true;
        if (kkt->ns.has_null && set->backward.lsq_fallback) { /* the caller's convention */
            fold_kkt_null_free(kkt);
            kkt->fac.is_lsq = true;
            return FOLD_WARN_LEAST_SQUARES;
        }
        return FOLD_OK;
    }
    fold_kkt_null_free(kkt);
    fold_la_factor_free(kkt->fac.F);
    kkt->fac.F = NULL;
    if (st == FOLD_ERR_SINGULAR && set->backward.lsq_fallback) {
        kkt->fac.is_lsq = true;
        return FOLD_WARN_LEAST_SQUARES;
    }
    if (st == FOLD_ERR_SINGULAR)
        return fold_error_context(st,
                                  "%s: KKT matrix of order %lld (%lld active constraints, "
                                  "%lld active bounds; dependent active constraints?)",
                                  fn, (long long)kkt->sys.nK, (long long)kkt->cls.n_active_cons,
                                  (long long)kkt->cls.n_active_bounds);
    return fold_error_context(st, "%s: factorization of the KKT matrix", fn);
}

fold_status fold_kkt_factor_run(fold_kkt *kkt, const fold_settings *set)
{
    double probe_s = 0.0;
    /* over a regularized primary: the later runs of the call factor at once */
    if (fold_kkt_border_delta(kkt) > 0.0) kkt->border.reg_refused = true;
    fold_kkt_border_end_run(kkt);
    kkt->fac.has_factor = false;
    fold_status st = fold_kkt_factorize(kkt, set, true, false, kkt->fn, &probe_s);
    fold_log(set, 3, "%s: comparison run (variant %d) factored after all", kkt->fn,
             kkt->cands.variant);
    return st;
}
