/* Write a case in MATPOWER version-2 format (the subset the reader needs), with %.17g
 * numbers so that a write-read round trip is exact; with results, the solved-case columns
 * of MATPOWER's savecase after an OPF (idx_bus, idx_gen, idx_brch). doc/acopf.md §1, §6. */
#include <ctype.h>

#include "acopf/acopf_internal.h"

#define G "\t%.17g"

/* The case name as a MATLAB function name: letters, digits and '_', starting with a letter
 * (a name taken from a file name may hold anything, even a newline). */
static void function_name(const char *name, char *out, size_t cap)
{
    size_t k = 0;
    if (!isalpha((unsigned char)name[0])) k = (size_t)snprintf(out, cap, "case_");
    for (size_t i = 0; name[i] && i < sizeof((fold_acopf_case *)0)->name && k + 1 < cap; i++)
        out[k++] = isalnum((unsigned char)name[i]) ? name[i] : '_';
    out[k] = '\0';
}

static void write_buses(const fold_acopf_case *cs, const fold_acopf_results *res, FILE *out)
{
    fprintf(out,
            "\n%%%% bus data\n"
            "%%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin%s\n"
            "mpc.bus = [\n",
            res ? "\tlam_P\tlam_Q\tmu_Vmax\tmu_Vmin" : "");
    for (fold_int i = 0; i < cs->n_bus; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        fprintf(out, "\t%ld\t%d" G G G G "\t1" G G "\t230\t1" G G, b->id, b->type,
                res ? res->pd[i] : b->pd, res ? res->qd[i] : b->qd, b->gs, b->bs,
                res ? res->vm[i] : b->vm0, res ? res->va[i] : b->va0, b->vmax, b->vmin);
        if (res)
            fprintf(out, G G G G, res->lam_p[i], res->lam_q[i], res->mu_vmax[i], res->mu_vmin[i]);
        fputs(";\n", out);
    }
    fputs("];\n", out);
}

/* "% row R" after a gen or branch row of a solved case when rows of the file were dropped
 * (renumbering), for the reader of the results; a plain case is written without them, so
 * that writing a case read back from a written one gives the same text. */
static void row_note(FILE *out, bool renumbered, long row)
{
    if (renumbered) fprintf(out, "\t%% row %ld", row);
    fputc('\n', out);
}

static void write_gens(const fold_acopf_case *cs, const fold_acopf_results *res, FILE *out)
{
    bool renumbered = res && (cs->n_dropped_gen > 0 || cs->n_dropped_bus > 0);
    fprintf(out,
            "\n%%%% generator data\n%%\tbus\tPg\tQg\tQmax\tQmin\tVg\tmBase\tstatus\tPmax\t"
            "Pmin%s\nmpc.gen = [\n",
            res ? "\tPc1\tPc2\tQc1min\tQc1max\tQc2min\tQc2max\tramp_agc\tramp_10\tramp_30\t"
                  "ramp_q\tapf\tmu_Pmax\tmu_Pmin\tmu_Qmax\tmu_Qmin"
                : "");
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        /* after an OPF MATPOWER sets Vg to the bus voltage */
        fprintf(out, "\t%ld" G G G G G G "\t1" G G, cs->bus[g->bus].id, res ? res->pg[k] : g->pg0,
                res ? res->qg[k] : g->qg0, g->qmax, g->qmin, res ? res->vm[g->bus] : 1.0,
                cs->base_mva, g->pmax, g->pmin);
        if (res) {
            for (int c = 11; c <= 21; c++)
                fputs("\t0", out);
            fprintf(out, G G G G, res->mu_pmax[k], res->mu_pmin[k], res->mu_qmax[k],
                    res->mu_qmin[k]);
        }
        fputc(';', out);
        row_note(out, renumbered, g->row);
    }
    fputs("];\n", out);
}

static void write_costs(const fold_acopf_case *cs, FILE *out)
{
    int max_cost = 1, width = 1;
    for (fold_int k = 0; k < cs->n_gen; k++) {
        const fold_acopf_gen *g = &cs->gen[k];
        if (!g->pwl && g->n_cost > max_cost) max_cost = g->n_cost;
        if ((g->pwl ? 2 * g->n_cost : g->n_cost) > width)
            width = g->pwl ? 2 * g->n_cost : g->n_cost;
    }
    if (max_cost > width) width = max_cost;
    fprintf(out, "\n%%%% generator cost data\n%%\t2\tstartup\tshutdown\tn\tc(n-1)\t...\tc0 "
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
                fprintf(out, G, cs->cost[g->cost_off + j]);
        else
            for (int j = max_cost - 1; j >= 0; j--)
                fprintf(out, G, j < g->n_cost ? cs->cost[g->cost_off + j] : 0.0);
        for (int j = used; j < width; j++)
            fprintf(out, "\t0");
        fprintf(out, ";\n");
    }
    fputs("];\n", out);
}

static void write_branches(const fold_acopf_case *cs, const fold_acopf_results *res, FILE *out)
{
    bool renumbered = res && (cs->n_dropped_branch > 0 || cs->n_dropped_bus > 0);
    fprintf(out,
            "\n%%%% branch data\n%%\tfbus\ttbus\tr\tx\tb\trateA\trateB\trateC\tratio\t"
            "angle\tstatus\tangmin\tangmax%s\nmpc.branch = [\n",
            res ? "\tPf\tQf\tPt\tQt\tmu_Sf\tmu_St\tmu_angmin\tmu_angmax" : "");
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        fprintf(out, "\t%ld\t%ld" G G G G G G G G "\t1" G G, cs->bus[b->f].id, cs->bus[b->t].id,
                b->r, b->x, b->b, b->rate_a, b->rate_a, b->rate_a, b->tap, b->shift_deg,
                b->angmin_deg, b->angmax_deg);
        if (res)
            fprintf(out, G G G G G G G G, res->pf[k], res->qf[k], res->pt[k], res->qt[k],
                    res->mu_sf[k], res->mu_st[k], res->mu_angmin[k], res->mu_angmax[k]);
        fputc(';', out);
        row_note(out, renumbered, b->row);
    }
    fputs("];\n", out);
}

static fold_status write_case(const fold_acopf_case *cs, const fold_acopf_results *res, FILE *out,
                              const char *fn)
{
    if (!cs || !out)
        return acopf_error(FOLD_ERR_ARGUMENT, "%s: %s is NULL", fn, cs ? "out" : "case");
    if (res &&
        (res->n_bus != cs->n_bus || res->n_gen != cs->n_gen || res->n_branch != cs->n_branch))
        return acopf_error(FOLD_ERR_ARGUMENT,
                           "%s: results of %ld buses, %ld generators, %ld "
                           "branches for a case of %ld, %ld, %ld",
                           fn, (long)res->n_bus, (long)res->n_gen, (long)res->n_branch,
                           (long)cs->n_bus, (long)cs->n_gen, (long)cs->n_branch);
    char name[sizeof cs->name + 8];
    function_name(cs->name, name, sizeof name);
    fprintf(out,
            "%% %s: %s by foldopt\nfunction mpc = %s\nmpc.version = '2';\n"
            "mpc.baseMVA = %.17g;\n",
            name, res ? "AC-OPF solution (MATPOWER solved-case columns) written" : "written", name,
            cs->base_mva);
    if (res) fprintf(out, "%% objective %.17g $/h\n", res->objective);
    write_buses(cs, res, out);
    write_gens(cs, res, out);
    write_costs(cs, out);
    write_branches(cs, res, out);
    if (ferror(out)) return acopf_error(FOLD_ERR_IO, "%s: write error", fn);
    return FOLD_OK;
}

fold_status fold_acopf_case_write(const fold_acopf_case *cs, FILE *out)
{
    fold_clear_error();
    return write_case(cs, NULL, out, "fold_acopf_case_write");
}

fold_status fold_acopf_case_write_solved(const fold_acopf_case *cs, const fold_acopf_results *res,
                                         FILE *out)
{
    fold_clear_error();
    if (!res)
        return acopf_error(FOLD_ERR_ARGUMENT, "fold_acopf_case_write_solved: results is NULL");
    return write_case(cs, res, out, "fold_acopf_case_write_solved");
}
