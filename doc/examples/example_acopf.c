/* Worked AC-OPF example (doc/api/acopf.md): read a MATPOWER or PowerModels case (or, without
 * an argument, generate a 30-bus synthetic grid), solve its AC optimal power flow with the
 * re-solve policy of foldopt opf, print the dispatch and the LMPs, then differentiate:
 * the LMPs again as the gradient of the cost with respect to the loads (envelope theorem),
 * d pg / d pd of the largest load by a Jacobian, and a VJP of the total dispatch. Built by
 * meson against the public API and run as a test: it checks the identities it shows and
 * exits 1 when one fails.
 *
 *     example_acopf [CASE.m|CASE.json]                                                   */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <foldopt.h>
#include <foldopt/acopf.h>

static int fail(const char *what)
{
    fprintf(stderr, "example_acopf: %s: %s\n", what, fold_last_error());
    return 1;
}

static double rel_err(double a, double b)
{
    return fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b)));
}

int main(int argc, char **argv)
{
    fold_acopf_case *cs = NULL;
    fold_status st =
        argc > 1 ? fold_acopf_case_read(argv[1], &cs) : fold_acopf_gen_grid(30, 1, &cs);
    if (st != FOLD_OK) return fail("case");
    fold_acopf *model = NULL;
    st = fold_acopf_create(cs, &model); /* copies what it needs */
    fold_acopf_case_free(cs);
    if (st != FOLD_OK) return fail("create");

    /* Solve (Ipopt), re-solving with flow variables if Ipopt stops at its acceptable level.
     * The model may be replaced by the re-solve's: always use the one returned. */
    fold_settings set;
    fold_settings_default(&set);
    fold_solver *solver = NULL;
    fold_forward_info fwd = FOLD_FORWARD_INFO_INIT;
    st = fold_acopf_solve(&model, &set, NULL, NULL, &solver, &fwd, NULL);
    if (st < 0) {
        fprintf(stderr, "example_acopf: solve: %s\n", fold_forward_status_string(fwd.status));
        fold_solver_free(solver);
        fold_acopf_free(model);
        return 1;
    }
    const fold_acopf_case *c = fold_acopf_get_case(model);
    fold_acopf_results *res = NULL;
    if (fold_acopf_results_from_solver(model, solver, &res) != FOLD_OK) return fail("results");
    printf("%s: objective %.6f $/h, %ld Ipopt iterations\n", c->name, res->objective,
           (long)fwd.iterations);
    for (fold_int k = 0; k < res->n_gen && k < 5; k++)
        printf("  gen row %ld at bus %ld: pg %9.3f MW  qg %9.3f MVAr\n", c->gen[k].row,
               c->bus[c->gen[k].bus].id, res->pg[k], res->qg[k]);

    /* d objective / d pd (every bus): the LMPs, with no linear solve. */
    fold_int nb = c->n_bus, err = 0, big = 0;
    fold_int *cols = malloc((size_t)nb * sizeof *cols);
    double *lmp = malloc((size_t)nb * sizeof *lmp);
    for (fold_int i = 0; i < nb; i++) {
        cols[i] = fold_acopf_param_index(model, FOLD_ACOPF_P_PD, i);
        if (c->bus[i].pd > c->bus[big].pd) big = i;
    }
    fold_acopf_diff_request rq = {.mode = FOLD_ACOPF_DIFF_VALUE, .n_cols = nb, .cols = cols};
    fold_backward_info bi = FOLD_BACKWARD_INFO_INIT;
    fold_acopf_diff_info di = {.size = sizeof di, .backward = &bi};
    if (fold_acopf_differentiate(model, solver, &rq, lmp, &di) < 0) return fail("value gradient");
    for (fold_int i = 0; i < nb; i++) /* envelope theorem: d cost / d pd = LAM_P */
        err += rel_err(lmp[i], res->lam_p[i]) > 1e-6;
    printf("  LMP at bus %ld: %.4f $/MWh (lam_p %.4f)\n", c->bus[big].id, lmp[big],
           res->lam_p[big]);

    /* d pg / d pd of the largest load: a Jacobian column, one solve on one factorization. */
    fold_int ng = c->n_gen, col = cols[big];
    fold_acopf_output *outs = malloc((size_t)(ng + 1) * sizeof *outs);
    double *dpg = malloc((size_t)ng * sizeof *dpg);
    for (fold_int k = 0; k < ng; k++)
        outs[k] = (fold_acopf_output){FOLD_ACOPF_OUT_PG, k};
    rq = (fold_acopf_diff_request){
        .mode = FOLD_ACOPF_DIFF_JACOBIAN, .n_out = ng, .out = outs, .n_cols = 1, .cols = &col};
    if (fold_acopf_differentiate(model, solver, &rq, dpg, &di) < 0) return fail("jacobian");
    double total = 0;
    for (fold_int k = 0; k < ng; k++)
        total += dpg[k];
    printf("  d sum(pg) / d pd of bus %ld: %.6f MW per MW (1 + marginal losses)\n", c->bus[big].id,
           total);

    /* The same sum as a VJP: weights 1 on every pg, gradient over the loads. */
    double *grad = malloc((size_t)nb * sizeof *grad);
    rq = (fold_acopf_diff_request){
        .mode = FOLD_ACOPF_DIFF_VJP, .n_out = ng, .out = outs, .n_cols = nb, .cols = cols};
    if (fold_acopf_differentiate(model, solver, &rq, grad, &di) < 0) return fail("vjp");
    err += rel_err(grad[big], total) > 1e-8; /* <J e_big, 1> = <e_big, J' 1> */
    err += !(total > 0.9 && total < 1.5);    /* serving 1 MW more needs about 1 MW more */
    printf("  VJP: %.6f, backward %.3f ms, KKT dimension %ld\n", grad[big], 1e3 * di.seconds,
           (long)bi.dim);

    free(cols);
    free(lmp);
    free(outs);
    free(dpg);
    free(grad);
    fold_acopf_results_free(res);
    fold_solver_free(solver);
    fold_acopf_free(model);
    if (err) fprintf(stderr, "example_acopf: %ld identity checks failed\n", (long)err);
    return err ? 1 : 0;
}
