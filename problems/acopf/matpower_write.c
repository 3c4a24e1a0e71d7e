/* Write a case in MATPOWER version-2 format (the subset the reader needs), with %.17g
 * numbers so that a write-read round trip is exact. doc/acopf.md §1. */
#include <ctype.h>

#include "acopf/acopf_internal.h"

/* The case name as a MATLAB function name: letters, digits and '_', starting with a letter
 * (a name taken from a file name may hold anything, even a newline). */
static void function_name(const char *name, char *out, size_t cap)
{
    size_t k = 0;
    if (!isalpha((unsigned char)name[0]))
        k = (size_t)snprintf(out, cap, "case_");
    for (size_t i = 0; name[i] && i < sizeof((fold_acopf_case *)0)->name && k + 1 < cap; i++)
        out[k++] = isalnum((unsigned char)name[i]) ? name[i] : '_';
    out[k] = '\0';
}

fold_status fold_acopf_case_write(const fold_acopf_case *cs, FILE *out)
{
    char name[sizeof cs->name + 8];
    if (!cs || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_case_write: %s is NULL",
                           cs ? "out" : "case");
    function_name(cs->name, name, sizeof name);
    fprintf(out, "%% %s: written by foldopt\nfunction mpc = %s\nmpc.version = '2';\n"
                 "mpc.baseMVA = %.17g;\n\n%%%% bus data\n"
                 "%%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin\n"
                 "mpc.bus = [\n", name, name, cs->base_mva);
    for (fold_int i = 0; i < cs->n_bus; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        fprintf(out, "\t%ld\t%d\t%.17g\t%.17g\t%.17g\t%.17g\t1\t%.17g\t%.17g\t230\t1\t%.17g\t%.17g;\n",
                b->id, b->type, b->pd, b->qd, b->gs, b->bs, b->vm0, b->va0, b->vmax, b->vmin);
    }
    fprintf(out, "];\n\n%%%% generator data\n"
                 "%%\tbus\tPg\tQg\tQmax\tQmin\tVg\tmBase\tstatus\tPmax\tPmin\n"
                 "mpc.gen = [\n");
    int max_cost = 1, width = 1;
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        fprintf(out, "\t%ld\t%.17g\t%.17g\t%.17g\t%.17g\t1\t%.17g\t1\t%.17g\t%.17g;\n",
                cs->bus[g->bus].id, g->pg0, g->qg0, g->qmax, g->qmin, cs->base_mva, g->pmax,
                g->pmin);
        if (!g->pwl && g->n_cost > max_cost)
            max_cost = g->n_cost;
        if ((g->pwl ? 2 * g->n_cost : g->n_cost) > width)
            width = g->pwl ? 2 * g->n_cost : g->n_cost;
    }
    if (max_cost > width)
        width = max_cost;
    fprintf(out, "];\n\n%%%% generator cost data\n%%\t2\tstartup\tshutdown\tn\tc(n-1)\t...\tc0 "
                 "(or 1 ... n x1 y1 ... xn yn)\n"
                 "mpc.gencost = [\n");
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        /* polynomials padded to max_cost coefficients with leading zeros (same polynomial),
         * then every row to `width` fields with trailing zeros (ignored by readers) */
        int used = g->pwl ? 2 * g->n_cost : max_cost;
        fprintf(out, "\t%d\t0\t0\t%d", g->pwl ? 1 : 2, g->pwl ? g->n_cost : max_cost);
        if (g->pwl)
            for (int j = 0; j < 2 * g->n_cost; j++)
                fprintf(out, "\t%.17g", cs->cost[g->cost_off + j]);
        else
            for (int j = max_cost - 1; j >= 0; j--)
                fprintf(out, "\t%.17g", j < g->n_cost ? cs->cost[g->cost_off + j] : 0.0);
        for (int j = used; j < width; j++)
            fprintf(out, "\t0");
        fprintf(out, ";\n");
    }
    fprintf(out, "];\n\n%%%% branch data\n%%\tfbus\ttbus\tr\tx\tb\trateA\trateB\trateC\tratio\t"
                 "angle\tstatus\tangmin\tangmax\nmpc.branch = [\n");
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        fprintf(out, "\t%ld\t%ld\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t1\t"
                     "%.17g\t%.17g;\n",
                cs->bus[b->f].id, cs->bus[b->t].id, b->r, b->x, b->b, b->rate_a, b->rate_a,
                b->rate_a, b->tap, b->shift_deg, b->angmin_deg, b->angmax_deg);
    }
    fprintf(out, "];\n");
    if (ferror(out))
        return acopf_error(FOLD_ERR_IO, "fold_acopf_case_write: write error");
    return FOLD_OK;
}
