/* foldopt opf --print: bus, generator and branch tables in the layout of MATPOWER's printpf,
 * and the same results in the JSON object, in MATPOWER's units and signs (doc/cli.md,
 * doc/acopf.md §6). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_opf.h"

/* printpf shows a multiplier only above this ($/h per unit) and marks a limit as binding
 * within this of it (MATPOWER's ptol and opf.violation defaults). */
#define SHOW_MU 1e-4
#define AT_LIMIT 5e-6

static void banner(FILE *out, const char *title)
{
    fprintf(out,
            "\n================================================================================"
            "\n|     %-73s|"
            "\n================================================================================",
            title);
}

static void bus_table(const opf_run *r, const fold_acopf_results *res, FILE *out)
{
    const fold_acopf_case *cs = r->cs;
    double *pg = calloc((size_t)cs->n_bus + 1, sizeof *pg);
    double *qg = calloc((size_t)cs->n_bus + 1, sizeof *qg);
    unsigned char *has_gen = calloc((size_t)cs->n_bus + 1, 1);
    if (!pg || !qg || !has_gen) goto done;
    double tot[4] = {0, 0, 0, 0};
    for (fold_int k = 0; k < cs->n_gen; k++) {
        pg[cs->gen[k].bus] += res->pg[k];
        qg[cs->gen[k].bus] += res->qg[k];
        has_gen[cs->gen[k].bus] = 1;
        tot[0] += res->pg[k];
        tot[1] += res->qg[k];
    }
    banner(out, "Bus Data");
    fprintf(out,
            "\n Bus      Voltage          Generation             Load          Lambda($/MVA-hr)"
            "\n  #   Mag(pu) Ang(deg)   P (MW)   Q (MVAr)   P (MW)   Q (MVAr)     P        Q   "
            "\n----- ------- --------  --------  --------  --------  --------  -------  -------");
    for (fold_int i = 0; i < cs->n_bus; i++) {
        fprintf(out, "\n%5ld%7.3f%9.3f%c", cs->bus[i].id, res->vm[i], res->va[i],
                cs->bus[i].type == 3 ? '*' : ' ');
        if (has_gen[i])
            fprintf(out, "%9.2f%10.2f", pg[i], qg[i]);
        else
            fputs("      -         -  ", out);
        if (res->pd[i] != 0 || res->qd[i] != 0)
            fprintf(out, "%10.2f%10.2f ", res->pd[i], res->qd[i]);
        else
            fputs("       -         -   ", out);
        tot[2] += res->pd[i];
        tot[3] += res->qd[i];
        fprintf(out, "%9.3f", res->lam_p[i]);
        if (fabs(res->lam_q[i]) > SHOW_MU)
            fprintf(out, "%8.3f", res->lam_q[i]);
        else
            fputs("     -", out);
    }
    fprintf(out,
            "\n                        --------  --------  --------  --------"
            "\n               Total: %9.2f %9.2f %9.2f %9.2f\n",
            tot[0], tot[1], tot[2], tot[3]);
done:
    free(pg);
    free(qg);
    free(has_gen);
}

/* "%10.3f" of a multiplier when shown (at its limit or above SHOW_MU), else a dash. */
static void mu_cell(FILE *out, double mu, bool at_limit)
{
    if (at_limit || mu > SHOW_MU)
        fprintf(out, "%10.3f", mu);
    else
        fputs("      -   ", out);
}

static void gen_tables(const opf_run *r, const fold_acopf_results *res, FILE *out)
{
    const fold_acopf_case *cs = r->cs;
    banner(out, "Generator Data");
    fprintf(out, "\n Gen   Bus      Pg        Qg        Lambda ($/MVA-hr)"
                 "\n  #     #      (MW)     (MVAr)       P         Q    "
                 "\n----  -----  --------  --------  --------  --------");
    double tp = 0, tq = 0;
    for (fold_int k = 0; k < cs->n_gen; k++) {
        fold_int b = cs->gen[k].bus;
        fprintf(out, "\n%4ld%7ld%10.2f%10.2f%10.2f%10.2f", cs->gen[k].row, cs->bus[b].id,
                res->pg[k], res->qg[k], res->lam_p[b], res->lam_q[b]);
        tp += res->pg[k];
        tq += res->qg[k];
    }
    fprintf(out, "\n             --------  --------\n     Total: %10.2f%10.2f\n", tp, tq);
    for (int q = 0; q < 2; q++) { /* active, then reactive power limits */
        const double *v = q ? res->qg : res->pg, *mlo = q ? res->mu_qmin : res->mu_pmin;
        const double *mhi = q ? res->mu_qmax : res->mu_pmax;
        bool header = false;
        for (fold_int k = 0; k < cs->n_gen; k++) {
            const fold_acopf_gen *g = &cs->gen[k];
            double lo = q ? g->qmin : g->pmin, hi = q ? g->qmax : g->pmax;
            bool at_lo = v[k]<lo + AT_LIMIT, at_hi = v[k]> hi - AT_LIMIT;
            if (!(at_lo || at_hi || mlo[k] > SHOW_MU || mhi[k] > SHOW_MU)) continue;
            if (!header) {
                banner(out, q ? "Generation Constraints (reactive power)"
                              : "Generation Constraints (active power)");
                fprintf(out,
                        "\n Gen   Bus                 %s Power Limits"
                        "\n  #     #     %cmin mu     %cmin       %cg       %cmax    %cmax mu"
                        "\n----  -----   -------   --------  --------  --------  -------",
                        q ? "Reactive" : " Active", "PQ"[q], "PQ"[q], "PQ"[q], "PQ"[q], "PQ"[q]);
                header = true;
            }
            fprintf(out, "\n%4ld%6ld ", g->row, cs->bus[g->bus].id);
            mu_cell(out, mlo[k], at_lo);
            fprintf(out, "%10.2f%10.2f%10.2f", lo, v[k], hi);
            mu_cell(out, mhi[k], at_hi);
        }
        if (header) fputc('\n', out);
    }
}

static void branch_tables(const opf_run *r, const fold_acopf_results *res, FILE *out)
{
    const fold_acopf_case *cs = r->cs;
    banner(out, "Branch Data");
    fprintf(out,
            "\nBrnch   From   To    From Bus Injection   To Bus Injection     Loss (I^2 * Z)  "
            "\n  #     Bus    Bus    P (MW)   Q (MVAr)   P (MW)   Q (MVAr)   P (MW)   Q (MVAr)"
            "\n-----  -----  -----  --------  --------  --------  --------  --------  --------");
    double lp = 0, lq = 0;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        fprintf(out, "\n%4ld%7ld%7ld%10.2f%10.2f%10.2f%10.2f%10.3f%10.2f", b->row, cs->bus[b->f].id,
                cs->bus[b->t].id, res->pf[k], res->qf[k], res->pt[k], res->qt[k], res->ploss[k],
                res->qloss[k]);
        lp += res->ploss[k];
        lq += res->qloss[k];
    }
    fprintf(out,
            "\n                                                             --------  --------"
            "\n                                                    Total:%10.3f%10.2f\n",
            lp, lq);
    bool header = false;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        if (!(b->rate_a > 0 && b->rate_a < FOLD_INF_BOUND)) continue;
        double sf = hypot(res->pf[k], res->qf[k]), st = hypot(res->pt[k], res->qt[k]);
        bool at_f = sf > b->rate_a - AT_LIMIT, at_t = st > b->rate_a - AT_LIMIT;
        if (!(at_f || at_t || res->mu_sf[k] > SHOW_MU || res->mu_st[k] > SHOW_MU)) continue;
        if (!header) {
            banner(out, "Branch Flow Constraints            (S in MVA)");
            fprintf(out, "\nBrnch   From     \"From\" End        Limit       \"To\" End        To"
                         "\n  #     Bus   |Sf| mu    |Sf|     |Smax|     |St|    |St| mu   Bus"
                         "\n-----  -----  -------  --------  --------  --------  -------  -----");
            header = true;
        }
        fprintf(out, "\n%4ld%7ld", b->row, cs->bus[b->f].id);
        mu_cell(out, res->mu_sf[k], at_f);
        fprintf(out, "%9.2f%10.2f%10.2f", sf, b->rate_a, st);
        mu_cell(out, res->mu_st[k], at_t);
        fprintf(out, "%6ld", cs->bus[b->t].id);
    }
    if (header) fputc('\n', out);
    header = false;
    for (fold_int k = 0; k < cs->n_branch; k++) {
        const fold_acopf_branch *b = &cs->branch[k];
        if (!(res->mu_angmin[k] > SHOW_MU || res->mu_angmax[k] > SHOW_MU)) continue;
        if (!header) {
            banner(out, "Branch Angle Difference Constraints   (degrees)");
            fprintf(out, "\nBrnch   From  angmin mu  angmin  Va_f-Va_t  angmax  angmax mu   To"
                         "\n-----  -----  ---------  ------  ---------  ------  ---------  -----");
            header = true;
        }
        fprintf(out, "\n%4ld%7ld %10.3f%8.2f%11.3f%8.2f %10.3f%7ld", b->row, cs->bus[b->f].id,
                res->mu_angmin[k], b->angmin_deg, res->va[b->f] - res->va[b->t], b->angmax_deg,
                res->mu_angmax[k], cs->bus[b->t].id);
    }
    if (header) fputc('\n', out);
}

static void voltage_table(const opf_run *r, const fold_acopf_results *res, FILE *out)
{
    const fold_acopf_case *cs = r->cs;
    bool header = false;
    for (fold_int i = 0; i < cs->n_bus; i++) {
        const fold_acopf_bus *b = &cs->bus[i];
        bool at_lo = res->vm[i]<b->vmin + AT_LIMIT, at_hi = res->vm[i]> b->vmax - AT_LIMIT;
        if (!(at_lo || at_hi || res->mu_vmin[i] > SHOW_MU || res->mu_vmax[i] > SHOW_MU)) continue;
        if (!header) {
            banner(out, "Voltage Constraints");
            fprintf(out, "\nBus #  Vmin mu    Vmin    |V|   Vmax    Vmax mu"
                         "\n-----  --------   -----  -----  -----   --------");
            header = true;
        }
        fprintf(out, "\n%5ld", b->id);
        mu_cell(out, res->mu_vmin[i], at_lo);
        fprintf(out, "%8.3f%7.3f%7.3f", b->vmin, res->vm[i], b->vmax);
        mu_cell(out, res->mu_vmax[i], at_hi);
    }
    if (header) fputc('\n', out);
}

void opf_print_tables(const opf_run *r, FILE *out)
{
    const fold_acopf_results *res = r->res;
    if (!res) return;
    fprintf(out, "\nObjective Function Value = %.2f $/hr\n", res->objective);
    bus_table(r, res, out);
    gen_tables(r, res, out);
    branch_tables(r, res, out);
    voltage_table(r, res, out);
}

/* "name": [values...] for one array of the results. */
static void json_array(FILE *out, const char *name, const double *v, fold_int n, bool first)
{
    fprintf(out, "%s\"%s\": [", first ? "" : ", ", name);
    for (fold_int k = 0; k < n; k++) {
        if (k) fputs(", ", out);
        opf_json_num(out, v[k]);
    }
    fputc(']', out);
}

static void json_keys_long(FILE *out, const char *name, const long *v, fold_int n)
{
    fprintf(out, "\"%s\": [", name);
    for (fold_int k = 0; k < n; k++)
        fprintf(out, "%s%ld", k ? ", " : "", v[k]);
    fputs("], ", out);
}

/* The "results" member: columns (one list per quantity, case order) with their keys, so that
 * a table library joins them with the case by bus id, gen row and branch row. */
void opf_json_results(const opf_run *r, FILE *out)
{
    const fold_acopf_results *res = r->res;
    const fold_acopf_case *cs = r->cs;
    fold_int nb = cs->n_bus, ng = cs->n_gen, nl = cs->n_branch;
    long *keys = malloc(((size_t)(nb > ng ? nb : ng) + (size_t)nl + 1) * sizeof *keys);
    if (!res || !keys) {
        fputs("null", out);
        free(keys);
        return;
    }
    fputs("{\"bus\": {", out);
    for (fold_int i = 0; i < nb; i++)
        keys[i] = cs->bus[i].id;
    json_keys_long(out, "bus", keys, nb);
    const char *bn[] = {"vm", "va", "pd", "qd", "lam_p", "lam_q", "mu_vmin", "mu_vmax"};
    const double *bv[] = {res->vm,    res->va,    res->pd,      res->qd,
                          res->lam_p, res->lam_q, res->mu_vmin, res->mu_vmax};
    for (int a = 0; a < 8; a++)
        json_array(out, bn[a], bv[a], nb, a == 0);
    fputs("},\n  \"gen\": {", out);
    for (fold_int k = 0; k < ng; k++)
        keys[k] = cs->gen[k].row;
    json_keys_long(out, "row", keys, ng);
    for (fold_int k = 0; k < ng; k++)
        keys[k] = cs->bus[cs->gen[k].bus].id;
    json_keys_long(out, "bus", keys, ng);
    const char *gn[] = {"pg", "qg", "mu_pmin", "mu_pmax", "mu_qmin", "mu_qmax"};
    const double *gv[] = {res->pg, res->qg, res->mu_pmin, res->mu_pmax, res->mu_qmin, res->mu_qmax};
    for (int a = 0; a < 6; a++)
        json_array(out, gn[a], gv[a], ng, a == 0);
    fputs("},\n  \"branch\": {", out);
    for (fold_int k = 0; k < nl; k++)
        keys[k] = cs->branch[k].row;
    json_keys_long(out, "row", keys, nl);
    for (fold_int k = 0; k < nl; k++)
        keys[k] = cs->bus[cs->branch[k].f].id;
    json_keys_long(out, "from_bus", keys, nl);
    for (fold_int k = 0; k < nl; k++)
        keys[k] = cs->bus[cs->branch[k].t].id;
    json_keys_long(out, "to_bus", keys, nl);
    const char *rn[] = {"pf",    "qf",    "pt",    "qt",        "ploss",
                        "qloss", "mu_sf", "mu_st", "mu_angmin", "mu_angmax"};
    const double *rv[] = {res->pf,    res->qf,    res->pt,    res->qt,        res->ploss,
                          res->qloss, res->mu_sf, res->mu_st, res->mu_angmin, res->mu_angmax};
    for (int a = 0; a < 10; a++)
        json_array(out, rn[a], rv[a], nl, a == 0);
    double lp = 0, lq = 0;
    for (fold_int k = 0; k < nl; k++) {
        lp += res->ploss[k];
        lq += res->qloss[k];
    }
    fputs("},\n  \"losses\": {\"p_mw\": ", out);
    opf_json_num(out, lp);
    fputs(", \"q_mvar\": ", out);
    opf_json_num(out, lq);
    fputs("}}", out);
    free(keys);
}

bool opf_writes_case(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 2 && !strcmp(path + n - 2, ".m");
}

static fold_status write_solved(const void *ctx, FILE *fp)
{
    const opf_run *r = ctx;
    return fold_acopf_case_write_solved(r->cs, r->res, fp);
}

/* The solved case (MATPOWER columns filled), written safely (cli_write_case_file). */
int opf_write_solved_case(const opf_run *r)
{
    return cli_write_case_file("opf", r->out_path, write_solved, r);
}
