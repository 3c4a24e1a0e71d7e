/* The settings table: X(group, name, kind, default, min, max, choices, doc).
 * It generates fold_settings_default, validation, fold_settings_set and doc/settings.md.
 * kind: INT (int), LONG (fold_int), REAL (double), BOOL (bool), ENUM (int, value names in
 * choices separated by '|', in enum order). */
#ifndef FOLD_SETTINGS_TABLE_H
#define FOLD_SETTINGS_TABLE_H

#define FOLD_SETTINGS_TABLE(X)                                                                     \
    X(forward, method, ENUM, 0, 0, 0, "ipopt", "Forward solver backend.")                          \
    X(forward, tol, REAL, 1e-8, 1e-14, 1e-1, NULL,                                                 \
      "Convergence tolerance of the forward solve (Ipopt tol).")                                   \
    X(forward, max_iter, LONG, 3000, 0, 1e9, NULL, "Iteration limit of the forward solve.")        \
    X(forward, time_limit_s, REAL, 0, 0, 1e9, NULL,                                                \
      "Wall-clock limit of one forward solve in seconds; 0 means none.")                           \
    X(forward, warm_start, BOOL, 1, 0, 1, NULL,                                                    \
      "Start the next solve from the last solution (primal and dual).")                            \
    X(forward, kkt_tol, REAL, 1e-6, 1e-14, 1e3, NULL,                                              \
      "Largest KKT residual (stationarity, feasibility, complementarity, scaled by "               \
      "1 + the largest term) accepted for an imported black-box point.")                           \
    X(forward, bound_push, REAL, 1e-2, 1e-12, 1, NULL,                                             \
      "Ipopt bound_push and bound_frac for cold starts (warm starts use 1e-9).")                   \
    X(forward, ordering, ENUM, 6, 0, 6, "auto|amd|amf|scotch|pord|metis|qamd",                     \
      "Fill-reducing ordering of MUMPS, the linear solver inside Ipopt (its mumps_pivot_order; "   \
      "auto lets MUMPS choose, Ipopt's default). With forward.pivtol, chosen over the 59 PGLib "   \
      "AC-OPF cases: qamd with pivtol 1e-4 takes the same iterations in all as auto with 1e-6 "    \
      "(Ipopt's defaults) at about half the CPU (doc/benchmarks.md \"Forward solve: MUMPS "        \
      "ordering and pivot tolerance\"). An Ipopt option mumps_pivot_order passed through wins.")   \
    X(forward, pivtol, REAL, 1e-4, 0, 0.1, NULL,                                                   \
      "Pivot tolerance of MUMPS inside Ipopt (its mumps_pivtol: larger pivots for stability, "     \
      "smaller for sparsity; Ipopt raises it up to mumps_pivtolmax = 0.1 when a factorization "    \
      "fails). Ipopt's default 1e-6 lets the inertia of case8387_pegase's KKT matrices depend "    \
      "on the ordering (247 iterations with qamd instead of 109). An Ipopt option mumps_pivtol "   \
      "passed through wins.")                                                                      \
    X(forward, resolve_rounds, INT, 3, 0, 10, NULL,                                                \
      "With active_set.ambiguity = resolve: at most this many warm re-solves, each with tol and "  \
      "the initial barrier parameter 100 times smaller (10 when that does not end solved), after " \
      "a solve that leaves ambiguous constraints or bounds (doc/math.md §3.2); a re-solve that "  \
      "does not end at solved is dropped. A forward.tol below 1e-8 is reached in stages (10 "      \
      "times per stage) from a solve at 1e-8 when the direct solve fails or ends acceptable.")     \
    X(forward, resolve_max_iter, INT, 12, 0, 100000, NULL,                                         \
      "A re-solve of forward.resolve_rounds that has not reached its tol after this many "         \
      "iterations ends at its next acceptable iterate (doc/math.md §3.2): it is at the floor of " \
      "its residuals, and is dropped with its verdicts used, as an acceptable end is; 0 leaves "   \
      "the end to Ipopt (15 consecutive acceptable iterations).")                                  \
    X(forward, floor_max_iter, INT, 12, 0, 100000, NULL,                                           \
      "A solve (not a tightening re-solve) whose barrier parameter has come down to forward.tol "  \
      "and that has not reached tol this many iterations later, its dual infeasibility without "   \
      "a new low for 4 iterations, ends at its next acceptable iterate, reported acceptable as "   \
      "Ipopt's own acceptable end (15 consecutive acceptable iterations) is (doc/api/solver.md "   \
      "\"Floor\"); 0 leaves the end to Ipopt.")                                                    \
    X(forward, stall_iter, INT, 65, 0, 100000, NULL,                                               \
      "A solve (not a tightening re-solve) whose barrier parameter is still that of its first "    \
      "step after this many iterations is run again from its start with Ipopt's adaptive barrier " \
      "strategy (mu_strategy adaptive; not when a mu_strategy is given as an Ipopt option); 0 "    \
      "never restarts (doc/api/solver.md \"Stalls\").")                                            \
    X(forward, stall_dual_growth, REAL, 300, 0, 1e300, NULL,                                       \
      "A cold solve whose dual infeasibility grows past this many times its starting value "       \
      "while the barrier parameter is still that of its first step is run again the same way as "  \
      "forward.stall_iter; 0 never.")                                                              \
    X(forward, stall_step_iter, INT, 50, 0, 100000, NULL,                                          \
      "A solve (not a tightening re-solve) whose barrier parameter is still that of its first "    \
      "step after this many iterations, with a median primal step (Ipopt's alpha_pr) of at most "  \
      "forward.stall_step over its last 20 of them, is run again the same way as "                 \
      "forward.stall_iter; 0 never.")                                                              \
    X(forward, stall_step, REAL, 0.07, 0, 1, NULL,                                                 \
      "The median primal step at or below which forward.stall_step_iter restarts a solve (1: "     \
      "whatever the steps).")                                                                      \
    X(forward, stall_rescue_iter, INT, 50, 0, 100000, NULL,                                        \
      "The adaptive re-run of a stalled solve (forward.stall_iter) whose median primal step over " \
      "its last 20 iterations is at most forward.stall_step at this iteration of it (the first "   \
      "outside Ipopt's restoration phase from it on) stops as failed, FOLD_FWD_STALLED: no "       \
      "progress, often an infeasible problem (doc/api/solver.md \"Stalls\"); 0 never.")            \
    X(forward, resolve_when, ENUM, 0, 0, 1, "fold|solve",                                          \
      "When the re-solves of forward.resolve_rounds run (doc/math.md §3.2): fold = in the first " \
      "fold call at the solution (fold_jvp, fold_vjp, fold_jacobian, fold_value_gradient), "       \
      "which then tightens the stored solution before it differentiates it, so that a solve "      \
      "whose solution is not differentiated does not pay for them (its solution is the first "     \
      "solve's point, accurate to forward.tol); solve = within fold_solve, which then returns "    \
      "the tightened point. Derivatives are the same either way.")                                 \
    X(backward, kkt_form, ENUM, 0, 0, 1, "active|barrier",                                         \
      "KKT system differentiated: active-set reduced system or the interior-point barrier "        \
      "system (doc/math.md §3).")                                                                  \
    X(backward, method, ENUM, 0, 0, 5, "direct|lfpi|gmres|minres|bicgstab|cg",                     \
      "Backward linear solver: a sparse factorization or an iterative method.")                    \
    X(backward, factorization, ENUM, 1, 0, 2, "auto|umfpack|cholmod",                              \
      "Factorization of the KKT matrix: UMFPACK LU (robust for nonconvex, badly scaled KKT "       \
      "systems), CHOLMOD LDL' of the regularized quasi-definite form with refinement, or auto "    \
      "(CHOLMOD where it factors and meets refine_tol, else UMFPACK; fastest on convex "           \
      "problems).")                                                                                \
    X(backward, ordering, ENUM, 1, 0, 2, "amd|colamd|metis",                                       \
      "Fill-reducing ordering. UMFPACK: colamd is its unsymmetric strategy, which keeps the "      \
      "fill of KKT matrices with a zero multiplier block 2-3.5x below amd/metis (symmetric "       \
      "strategy); CHOLMOD: colamd means AMD (doc/math.md §4.5).")                                  \
    X(backward, tol, REAL, 1e-10, 1e-16, 1, NULL,                                                  \
      "Relative residual target of iterative backward methods; a direct solve whose refined "      \
      "residual stays above it returns FOLD_WARN_INACCURATE.")                                     \
    X(backward, refine_tol, REAL, 1e-14, 1e-16, 1, NULL,                                           \
      "Iterative refinement of a direct solve stops below this relative residual; with "           \
      "factorization auto, CHOLMOD LDL' missing it switches to UMFPACK LU (doc/math.md §4).")      \
    X(backward, max_iter, LONG, 1000, 1, 1e9, NULL,                                                \
      "Iteration limit of iterative backward methods.")                                            \
    X(backward, fixed_iterations, LONG, 0, 0, 1e9, NULL,                                           \
      "K > 0: iterative backward methods run exactly K iterations whatever the residual (earlier " \
      "only at a zero residual, or at a Krylov breakdown within backward.tol), like K unrolled "   \
      "steps in the fixed-iteration mode of folded optimization, "                                 \
      "and return FOLD_OK with fold_backward_info.reason = FOLD_REASON_FIXED_ITER and the "        \
      "true relative residual of the result in .residual (doc/iterative.md §2.6); tol and "       \
      "max_iter are then not used. 0: iterate to backward.tol, an error at backward.max_iter. "    \
      "The direct method ignores it.")                                                             \
    X(backward, restart, INT, 50, 1, 100000, NULL, "GMRES restart length.")                        \
    X(backward, refine_steps, INT, 3, 0, 100, NULL,                                                \
      "Iterative refinement steps after a direct solve (against the unregularized matrix).")       \
    X(backward, regularization, REAL, 1e-10, 0, 1, NULL,                                           \
      "Diagonal regularization delta of the quasi-definite form factored by CHOLMOD.")             \
    X(backward, singular_reg, REAL, 1e-12, 0, 1e-2, NULL,                                          \
      "A singular KKT matrix (UMFPACK) is factored as K + delta diag(d_x, -d_y), delta d_i = "     \
      "singular_reg ||K(i,:)||_inf, and solves are refined against K; entries of a result that "   \
      "the null space leaves undetermined follow backward.not_unique (doc/math.md §4.8); 0 "      \
      "disables.")                                                                                 \
    X(backward, not_unique, ENUM, 0, 0, 1, "nan|refuse",                                           \
      "Entries of a derivative that a singular KKT matrix leaves undetermined (e.g. the price "    \
      "of one of two dependent constraints): nan = set to NaN, count in n_not_unique, return "     \
      "FOLD_WARN_NOT_UNIQUE; refuse = FOLD_ERR_SINGULAR naming them.")                             \
    X(backward, rcond_min, REAL, 1e-14, 0, 1, NULL,                                                \
      "Reciprocal condition estimate below which the KKT matrix is declared singular.")            \
    X(backward, lsq_fallback, BOOL, 0, 0, 1, NULL,                                                 \
      "On a singular KKT matrix return the SPQR minimum-norm least-squares result, flagged, "      \
      "instead of FOLD_ERR_SINGULAR.")                                                             \
    X(backward, allow_unconverged, BOOL, 0, 0, 1, NULL,                                            \
      "Differentiate at a forward solution that did not converge (result flagged).")               \
    X(backward, block_size, INT, 32, 1, 100000, NULL,                                              \
      "Right-hand sides solved together in jacobian calls (their buffers scale with it).")         \
    X(backward, variant_refactor, BOOL, 0, 0, 1, NULL,                                             \
      "Factor the KKT matrix of every comparison run of the candidates (doc/math.md §3.2) "       \
      "instead of solving it over the primary factorization with a bordered update "               \
      "(§4.9); the results agree to rounding, on nearly singular runs to the accuracy of their "  \
      "GMRES rescue.")                                                                             \
    X(backward, barrier_condense, BOOL, 1, 0, 1, NULL,                                             \
      "Barrier KKT form with the direct method: eliminate the inequality rows whose "              \
      "Sigma_s ||J_i||^2 is small against the Hessian diagonal (far from their bounds) by an "     \
      "exact Schur complement (doc/math.md eq. 3.14a); false factors all n + m rows.")             \
    X(precond, kind, ENUM, 5, 0, 5, "none|jacobi|block|exact|nearby|auto",                         \
      "Preconditioner of iterative backward methods. auto: the one that defines the map (exact "   \
      "for the KKT fold, none for a fold map), block (jacobi if singular or indefinite) for "      \
      "MINRES on a KKT matrix with multiplier rows; the choice is reported in "                    \
      "fold_backward_info.precond.")                                                               \
    X(active_set, primal_tol, REAL, 1e-6, 0, 1e10, NULL,                                           \
      "With active_set.ambiguity = ignore: a constraint or bound whose distance to its bound is "  \
      "at most primal_tol * (1 + |bound|) is at its bound (the other policies judge by the "       \
      "residuals reached, doc/math.md §3.2). Also the sides that an import without multipliers "  \
      "takes as at their bounds when it estimates them (doc/math.md §2.4).")                       \
    X(active_set, dual_tol, REAL, 1e-6, 0, 1e10, NULL,                                             \
      "With active_set.ambiguity = ignore: an at-bound constraint is strongly active when its "    \
      "multiplier exceeds dual_tol * "                                                             \
      "max(1, largest multiplier), capped at max(dual_tol * max(1, largest equality multiplier), " \
      "sqrt(mu)), mu the median multiplier x distance (doc/math.md 3.2a-b); below, it is "         \
      "weakly active.")                                                                            \
    X(active_set, weak_policy, ENUM, 0, 0, 2, "refuse|inactive|active",                            \
      "Weakly active items of the active-set form: refuse (FOLD_ERR_DEGENERATE), or treat them "   \
      "as inactive or active (one-sided derivative, FOLD_WARN_ONE_SIDED). Applies to items "       \
      "weakly active in the minimal multipliers of dependent active constraints, and to every "    \
      "weakly active side when set to inactive or active or with active_set.ambiguity = ignore.")  \
    X(active_set, ambiguity, ENUM, 0, 0, 3, "resolve|flag|refuse|ignore",                          \
      "Sides of constraints and bounds that the accuracy of the solution cannot classify "         \
      "(slack and multiplier both nonzero, or both zero, at the residuals reached; doc/math.md "   \
      "§3.2): resolve = fold_solve re-solves warm with a tighter tol (forward.resolve_rounds), "  \
      "and what stays ambiguous is differentiated under both classifications, the entries that "   \
      "differ set to NaN with both values in the trust report (FOLD_WARN_UNCERTAIN); flag = the "  \
      "same without re-solves; refuse = FOLD_ERR_DEGENERATE naming them; ignore = the fixed "      \
      "thresholds primal_tol and dual_tol alone, nothing checked (unsafe: derivatives may be "     \
      "silently wrong).")                                                                          \
    X(log, verbose, INT, 0, 0, 3, NULL,                                                            \
      "0 silent, 1 summary lines, 2 iteration tables (Ipopt log), 3 debug.")

#endif
