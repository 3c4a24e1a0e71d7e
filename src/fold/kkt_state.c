/* The backward state of a solver: evaluation, classification, assembly and factorization
 * of the KKT system at the stored solution, cached and reused (doc/math.md §3.5). */
#include "fold/fold_internal.h"
#include "fold/kkt_product.h"

void fold_kkt_state_free(void *state)
{
    fold_kkt *kkt = state;
    if (!kkt) return;
    fold_kkt_border_free(kkt);
    fold_kkt_release_system(kkt);
    fold_kkt_null_free(kkt);
    fold_kkt_sides_free(kkt);
    fold_report_free(kkt);
    fold_kkt_pc_free(kkt->fac.pc);
    fold_kkt_product_free(kkt);
    if (kkt->has_cm) fold_la_common_finish(&kkt->cm);
    fold_kkt_values_free(&kkt->val);
    fold_kkt_class_free(&kkt->cls);
    fold_kkt_sys_free(&kkt->sys);
    free(kkt->w1);
    free(kkt->w2);
    free(kkt->w3);
    free(kkt->w4);
    free(kkt);
}

fold_status fold_kkt_state(fold_solver *solver, fold_kkt **out)
{
    const fold_problem *prob = solver->prob;
    fold_kkt *kkt;
    size_t n, m, w;
    if (solver->backward) {
        *out = solver->backward;
        return FOLD_OK;
    }
    kkt = fold_calloc(1, sizeof *kkt, "backward state");
    if (!kkt) return FOLD_ERR_MEMORY;
    kkt->prob = prob;
    kkt->solver = solver;
    kkt->n = prob->n;
    kkt->m = prob->m;
    kkt->np = prob->np;
    n = (size_t)prob->n;
    m = (size_t)(prob->m > 0 ? prob->m : 1);
    w = n > m ? n : m;
    if ((size_t)prob->np > w) w = (size_t)prob->np;
    kkt->w1 = fold_calloc(w, sizeof(double), "scratch");
    kkt->w2 = fold_calloc(w, sizeof(double), "scratch");
    kkt->w3 = fold_calloc(w, sizeof(double), "scratch");
    kkt->w4 = fold_calloc(w, sizeof(double), "scratch");
    if (fold_kkt_class_alloc(&kkt->cls, prob->n, prob->m) != FOLD_OK ||
        fold_kkt_sys_alloc(&kkt->sys, prob->n, prob->m) != FOLD_OK || !kkt->w1 || !kkt->w2 ||
        !kkt->w3 || !kkt->w4) {
        fold_kkt_state_free(kkt);
        return FOLD_ERR_MEMORY;
    }
    if (fold_la_common_init(&kkt->cm) != FOLD_OK) {
        fold_kkt_state_free(kkt);
        return fold_error_context(FOLD_ERR_INTERNAL, "backward state");
    }
    kkt->has_cm = true;
    solver->backward = kkt;
    solver->backward_free = fold_kkt_state_free;
    *out = kkt;
    return FOLD_OK;
}

fold_status fold_kkt_check_solution(fold_solver *solver, const char *fn)
{
    const fold_problem *prob;
    if (!solver) return fold_error(FOLD_ERR_ARGUMENT, "%s: solver is NULL", fn);
    prob = solver->prob;
    if (!solver->has_solution)
        return fold_error(FOLD_ERR_NOT_SOLVED,
                          "%s: no solution stored: call fold_solve or fold_solver_import first",
                          fn);
    if (prob->np > 0 && !prob->cb.grad_f_p)
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                          "%s: problem '%s' has no grad_f_p callback (df/dp)", fn, prob->name);
    if (!solver->is_converged) {
        if (!solver->set.backward.allow_unconverged)
            return fold_error(FOLD_ERR_NOT_SOLVED,
                              "%s: the stored solution did not converge (forward status: %s); "
                              "set backward.allow_unconverged to differentiate it anyway",
                              fn, fold_forward_status_string(solver->info.status));
        return FOLD_WARN_UNCONVERGED_INPUT;
    }
    /* the re-solves fold_solve left to the first fold call (forward.resolve_when = fold) */
    return fold_solver_settle(solver, fn);
}

fold_status fold_kkt_check_solver(fold_solver *solver, const char *fn)
{
    fold_status st = fold_kkt_check_solution(solver, fn);
    if (st < 0) return st;
    fold_status sm = fold_kkt_iter_check(&solver->set, fn);
    if (sm < 0) return sm;
    if (fold_kkt_product_wanted(solver->prob, &solver->set)) return st; /* matrix-free */
    if (solver->prob->hess_form == FOLD_HESS_PRODUCT && !fold_prob_has_hessian(solver->prob))
        return fold_error(FOLD_ERR_TOO_LARGE,
                          "%s: problem '%s' gives its Hessian by products and n = %lld > %d: "
                          "backward.method = %s with precond.kind = %s needs the matrix, which is "
                          "not assembled above that size (set backward.method = minres or gmres "
                          "with precond.kind auto: the iterative KKT fold multiplies by the "
                          "products; or give FOLD_HESS_DENSE or triplets)",
                          fn, solver->prob->name, (long long)solver->prob->n,
                          FOLD_HESS_PRODUCT_MAX_N, fold_method_name(solver->set.backward.method),
                          fold_precond_name(solver->set.precond.kind));
    if (!fold_prob_has_hessian(solver->prob))
        return fold_error(FOLD_ERR_MISSING_DERIVATIVE,
                          "%s: problem '%s' has no hess_l callback (Hessian of the Lagrangian)", fn,
                          solver->prob->name);
    return st;
}

/* The product mode for the settings (kkt_product.h): K is assembled with or without H, so a
 * change releases K, its factorization and its preconditioner, and the next setup
 * re-evaluates and re-assembles. */
static fold_status select_products(fold_kkt *kkt, const fold_settings *set)
{
    bool changed;
    fold_status st = fold_kkt_product_select(kkt, set, &changed);
    if (st != FOLD_OK || !changed) return st;
    fold_kkt_border_drop(kkt);
    fold_kkt_release_system(kkt);
    fold_kkt_null_free(kkt);
    fold_kkt_pc_free(kkt->fac.pc);
    kkt->fac.pc = NULL;
    kkt->is_valid = kkt->has_classified = false;
    return FOLD_OK;
}

/* Does K need a new pattern for the current classification and form? */
static bool pattern_changed(const fold_kkt *kkt, int form)
{
    if (!kkt->sys.kdiag || kkt->sys.form != form) return true;
    if (form == FOLD_KKT_BARRIER) return fold_kkt_condense_changed(kkt);
    return memcmp(kkt->sys.sig_xstat, kkt->cls.xstat, (size_t)kkt->n) != 0 ||
           (kkt->m > 0 && memcmp(kkt->sys.sig_cstat, kkt->cls.cstat, (size_t)kkt->m) != 0);
}

/* Active-form signature: fixed and free variables and active constraints (the side of an
 * active bound does not change K's pattern, but is kept exact for simplicity). */
static void store_signature(fold_kkt *kkt)
{
    memcpy(kkt->sys.sig_xstat, kkt->cls.xstat, (size_t)kkt->n);
    if (kkt->m > 0) memcpy(kkt->sys.sig_cstat, kkt->cls.cstat, (size_t)kkt->m);
}

static fold_status assemble(fold_kkt *kkt, const fold_solver *solver, bool *rebuilt)
{
    int form = kkt->cands.path ? FOLD_KKT_BARRIER : solver->set.backward.kkt_form;
    fold_status st;
    if (form == FOLD_KKT_BARRIER) { /* the diagonals decide the condensed rows (eq. 3.14b) */
        fold_kkt_barrier_diagonals(kkt, solver);
        fold_kkt_condense_select(kkt, &solver->set);
    }
    *rebuilt = pattern_changed(kkt, form);
    if (*rebuilt) {
        fold_kkt_release_system(kkt);
        fold_kkt_null_free(kkt); /* the null space of the factorization released */
        kkt->sys.form = form;
        st = form == FOLD_KKT_BARRIER ? fold_kkt_build_barrier(kkt) : fold_kkt_build_active(kkt);
        if (st != FOLD_OK) {
            fold_kkt_release_system(kkt);
            return st;
        }
        store_signature(kkt);
    }
    if (form != FOLD_KKT_BARRIER) fold_kkt_active_weights(kkt, solver);
    fold_kkt_fill(kkt);
    return FOLD_OK;
}

fold_status fold_kkt_classified(fold_solver *solver, const char *fn)
{
    fold_kkt *kkt;
    fold_status st;
    if ((st = fold_kkt_state(solver, &kkt)) != FOLD_OK) return st;
    kkt->fn = fn;
    if ((st = select_products(kkt, &solver->set)) != FOLD_OK) return st;
    if (kkt->classified_id == solver->solution_id && kkt->has_classified) return FOLD_OK;
    if ((st = fold_kkt_evaluate(kkt, solver)) != FOLD_OK) return fold_error_context(st, "%s", fn);
    kkt->is_valid = false; /* the next setup assembles for this classification */
    if ((st = fold_kkt_classify(kkt, solver, fn)) != FOLD_OK) return st;
    kkt->has_classified = true;
    kkt->classified_id = solver->solution_id;
    return FOLD_OK;
}

static void fill_info(const fold_kkt *kkt, const fold_settings *set, fold_backward_info *info)
{
    const fold_la_sparse *A = fold_kkt_matrix(kkt);
    info->kkt_form = set->backward.kkt_form;
    info->method = set->backward.method;
    info->factorization = kkt->fac.finfo.factorization;
    info->ordering = set->backward.ordering;
    snprintf(info->fallback_reason, sizeof info->fallback_reason, "%s",
             kkt->fac.finfo.fallback_reason);
    info->dim = kkt->sys.nK;
    info->nnz = A ? fold_la_sparse_nnz(A) : 0;
    info->factor_nnz = kkt->fac.finfo.factor_nnz;
    info->n_active_cons = kkt->cls.n_active_cons;
    info->n_active_bounds = kkt->cls.n_active_bounds;
    info->n_weak = kkt->cls.n_weak;
    info->is_one_sided = kkt->cls.is_one_sided;
    info->is_least_squares = kkt->fac.is_lsq;
    info->rcond = kkt->fac.finfo.rcond;
    info->singular_delta = kkt->fac.finfo.singular_delta;
    info->reason = FOLD_REASON_DIRECT;
}

/* Seconds of the phases of one fold_kkt_setup, for the log (verbose 3). */
typedef struct setup_times {
    double evaluate, classify, assemble, structural, probe;
} setup_times;

static void log_setup(const fold_kkt *kkt, const fold_settings *set, const setup_times *t,
                      const char *fn)
{
    if (set->log.verbose < 3) return;
    fold_log(set, 3,
             "%s: KKT setup (%s form, variant %d, path %d): evaluate %.4f s, classify %.4f s, "
             "assemble %.4f s, structural check %.4f s, analysis %.4f s, factorization %.4f s, "
             "null-space probe %.4f s; order %lld, factor nnz %lld",
             fn, kkt->sys.form == FOLD_KKT_BARRIER ? "barrier" : "active", kkt->cands.variant,
             kkt->cands.path, t->evaluate, t->classify, t->assemble, t->structural,
             kkt->fac.reused_analysis ? 0.0 : kkt->fac.finfo.analyze_s, kkt->fac.finfo.factor_s,
             t->probe, (long long)kkt->sys.nK, (long long)kkt->fac.finfo.factor_nnz);
}

fold_status fold_kkt_setup(fold_solver *solver, bool want_factor, fold_backward_info *info,
                           const char *fn)
{
    const fold_settings *set = &solver->set;
    fold_backward_info local = FOLD_BACKWARD_INFO_INIT;
    fold_kkt *kkt;
    fold_status st;
    double t0, t1;
    setup_times tm = {0};
    bool rebuilt = false, current, keep = false;
    if (!info) info = &local;
    if ((st = fold_kkt_state(solver, &kkt)) != FOLD_OK) return st;
    kkt->fn = fn;
    if ((st = select_products(kkt, set)) != FOLD_OK) return st;
    if (fold_kkt_primary(kkt)) { /* a primary run starts: the last run and its record end */
        fold_kkt_border_end_run(kkt);
        fold_kkt_border_forget(kkt);
    }
    current = kkt->is_valid && kkt->solution_id == solver->solution_id;
    if (!current) {
        fold_la_factor_drop_kept(kkt->fac.F); /* another solution's */
        fold_kkt_border_drop(kkt);            /* a primary set aside, of another solution */
        kkt->is_valid = kkt->fac.has_factor = kkt->fac.is_lsq = false;
        kkt->fac.auto_memo.is_set = false; /* a new K: auto starts over (engine.c) */
        t0 = fold_time_now();
        if ((st = fold_kkt_evaluate(kkt, solver)) != FOLD_OK)
            return fold_error_context(st, "%s", fn);
        kkt->has_classified = false;
        tm.evaluate = (t1 = fold_time_now()) - t0;
        if ((st = fold_kkt_classify(kkt, solver, fn)) != FOLD_OK) {
            info->n_weak = kkt->cls.n_weak;
            info->n_active_cons = kkt->cls.n_active_cons;
            info->n_active_bounds = kkt->cls.n_active_bounds;
            return st;
        }
        kkt->has_classified = true;
        kkt->classified_id = solver->solution_id;
        tm.classify = fold_time_now() - t1;
        t1 = fold_time_now();
        if ((st = assemble(kkt, solver, &rebuilt)) != FOLD_OK)
            return fold_error_context(st, "%s: KKT assembly", fn);
        tm.assemble = fold_time_now() - t1;
        t1 = fold_time_now();
        if ((st = fold_kkt_null_structural(kkt, solver, fn)) != FOLD_OK) {
            info->n_weak = kkt->cls.n_weak;
            return st;
        }
        tm.structural = fold_time_now() - t1;
        kkt->assemble_s = fold_time_now() - t0;
        info->assemble_s = kkt->assemble_s;
        kkt->is_valid = true;
        kkt->solution_id = solver->solution_id;
        kkt->fac.has_factor = false;
        kkt->fac.finfo.factor_nnz = 0;
        kkt->fac.finfo.rcond = 0;
        kkt->fac.finfo.fallback_reason[0] = '\0';
        kkt->fac.finfo.factorization = set->backward.factorization;
    } else if (kkt->cands.variant != kkt->cands.cur_variant ||
               kkt->cands.path != kkt->cands.cur_path) {
        /* Another classification of the candidates at the same solution, or a run of the
         * central-path check (variants.c). */
        t0 = fold_time_now();
        keep = kkt->fac.has_factor && !kkt->fac.is_lsq && kkt->cands.cur_variant == 0 &&
               kkt->cands.cur_path == 0;
        /* the primary is set aside while the run builds its own system, and a run of the
         * active form is solved over the primary factorization where it can be (§4.9) */
        if (keep && fold_kkt_border_wanted(kkt, set)) {
            if ((st = fold_kkt_border_stash(kkt)) != FOLD_OK) return st;
            keep = false;
        }
        fold_kkt_border_end_run(kkt);
        fold_kkt_apply_variant(kkt);
        kkt->cands.cur_path = kkt->cands.path;
        kkt->fac.has_factor = kkt->fac.is_lsq = false;
        kkt->fac.auto_memo.is_set = false;
        fold_kkt_pc_invalidate(kkt->fac.pc); /* built from the K of another variant */
        kkt->cls.n_weak = kkt->cls.n_weak_classified;
        bool restored = fold_kkt_primary(kkt) && fold_kkt_border_restore(kkt);
        if (!restored && (st = assemble(kkt, solver, &rebuilt)) != FOLD_OK)
            return fold_error_context(st, "%s: KKT assembly", fn);
        tm.assemble = fold_time_now() - t0;
        t1 = fold_time_now();
        if ((st = fold_kkt_null_structural(kkt, solver, fn)) != FOLD_OK) return st;
        tm.structural = fold_time_now() - t1;
        if (restored) {
            kkt->fac.has_factor = true; /* the primary factorization, back from aside */
            /* the multipliers its null space moves are weakly active again (eq. 4.12) */
            if ((st = fold_kkt_null_degenerate(kkt, solver, fn)) != FOLD_OK) return st;
        } else if (fold_kkt_border_setup(kkt, set, &st)) {
            kkt->fac.has_factor = true; /* solved over the primary factorization */
            fold_log(set, 3,
                     "%s: KKT setup (active form, variant %d): assemble %.4f s, structural "
                     "check %.4f s, border %.4f s; order %lld",
                     fn, kkt->cands.variant, tm.assemble, tm.structural,
                     fold_time_now() - t1 - tm.structural, (long long)kkt->sys.nK);
            memset(&kkt->fac.finfo, 0, sizeof kkt->fac.finfo);
            kkt->fac.finfo.factorization = set->backward.factorization;
            kkt->fac.finfo.singular_delta = fold_kkt_border_delta(kkt);
        } else if (st < 0) {
            return st;
        }
        kkt->assemble_s = fold_time_now() - t0;
        info->assemble_s = kkt->assemble_s;
    }
    want_factor = want_factor && fold_kkt_iter_wants_factor(kkt, set);
    if (want_factor && !kkt->fac.has_factor && !kkt->fac.is_lsq) {
        st = fold_kkt_factorize(kkt, set, rebuilt || !kkt->fac.F, keep, fn, &tm.probe);
        log_setup(kkt, set, &tm, fn);
        info->analyze_s = kkt->fac.reused_analysis ? 0.0 : kkt->fac.finfo.analyze_s;
        info->factor_s = kkt->fac.finfo.factor_s;
        info->reused_analysis = kkt->fac.reused_analysis;
        if (st < 0) {
            fill_info(kkt, set, info); /* sizes and counts of the system that failed */
            return st;
        }
    } else if (want_factor) {
        info->reused_factorization = true;
        info->reused_analysis = true;
    }
    fill_info(kkt, set, info);
    if (kkt->fac.is_lsq) return FOLD_WARN_LEAST_SQUARES;
    return kkt->cls.is_one_sided ? FOLD_WARN_ONE_SIDED : FOLD_OK;
}
