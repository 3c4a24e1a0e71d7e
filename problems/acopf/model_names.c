/* Names of the AC-OPF's variables, constraints and parameters as a power engineer knows
 * them, keyed like foldopt opf's output (bus ids, mpc.gen and mpc.branch rows of the file):
 * "bus 1484 vm", "gen 7 (bus 12) qg", "branch 12 (3-7) thermal from-end", "pd bus 1484"
 * (doc/acopf.md §2.3). The problem's item_name callback: foldopt's messages and trust
 * reports use it. */
#include <stdio.h>

#include "acopf/acopf_internal.h"

static const char *const flow_names[4] = {"pf", "qf", "pt", "qt"};

static long bus_id(const fold_acopf *m, fold_int i)
{
    return m->cs.bus[i].id;
}

static int gen_name(const fold_acopf *m, fold_int k, const char *what, char *buf, size_t len)
{
    snprintf(buf, len, "gen %ld (bus %ld) %s", m->cs.gen[k].row, bus_id(m, m->cs.gen[k].bus), what);
    return 0;
}

static int branch_name(const fold_acopf *m, fold_int b, const char *what, char *buf, size_t len)
{
    const fold_acopf_branch *br = &m->cs.branch[b];
    snprintf(buf, len, "branch %ld (%ld-%ld) %s", br->row, bus_id(m, br->f), bus_id(m, br->t),
             what);
    return 0;
}

static int variable_name(const fold_acopf *m, fold_int j, char *buf, size_t len)
{
    const fold_acopf_layout *L = &m->L;
    if (j < L->x_vm) return snprintf(buf, len, "bus %ld va", bus_id(m, j - L->x_va)), 0;
    if (j < L->x_pg) return snprintf(buf, len, "bus %ld vm", bus_id(m, j - L->x_vm)), 0;
    if (j < L->x_qg) return gen_name(m, j - L->x_pg, "pg", buf, len);
    if (j < L->x_t) return gen_name(m, j - L->x_qg, "qg", buf, len);
    if (j < L->x_fl) return gen_name(m, m->pwl_gen[j - L->x_t], "cost", buf, len);
    fold_int q = (j - L->x_fl) / 4;
    return branch_name(m, m->flow_branch[q], flow_names[(j - L->x_fl) % 4], buf, len);
}

static int constraint_name(const fold_acopf *m, fold_int i, char *buf, size_t len)
{
    const fold_acopf_layout *L = &m->L;
    char what[48];
    if (i < L->g_q) return snprintf(buf, len, "bus %ld P balance", bus_id(m, i - L->g_p)), 0;
    if (i < L->g_sf) return snprintf(buf, len, "bus %ld Q balance", bus_id(m, i - L->g_q)), 0;
    if (i < L->g_st) return branch_name(m, m->rated[i - L->g_sf], "thermal from-end", buf, len);
    if (i < L->g_ang) return branch_name(m, m->rated[i - L->g_st], "thermal to-end", buf, len);
    if (i < L->g_seg) return branch_name(m, m->angle[i - L->g_ang], "angle difference", buf, len);
    if (i < L->g_flow) {
        /* the segments of one generator are consecutive: number them from 1 */
        fold_int r = i - L->g_seg, first = r;
        while (first > 0 && m->seg_gen[first - 1] == m->seg_gen[r])
            first--;
        snprintf(what, sizeof what, "cost segment %lld", (long long)(r - first + 1));
        return gen_name(m, m->seg_gen[r], what, buf, len);
    }
    fold_int q = (i - L->g_flow) / 4;
    snprintf(what, sizeof what, "%s definition", flow_names[(i - L->g_flow) % 4]);
    return branch_name(m, m->flow_branch[q], what, buf, len);
}

/* "pd bus 1484", "c1 gen 7", "rate_a branch 12 (3-7)": the kind's name (as --wrt takes it)
 * and its item. */
static int parameter_name(const fold_acopf *m, fold_int k, char *buf, size_t len)
{
    int kind;
    fold_int item = fold_acopf_param_item(m, k, &kind);
    const char *what = fold_acopf_param_name(kind);
    switch (fold_acopf_param_item_type(kind)) {
    case FOLD_ACOPF_ITEM_BUS:
        return snprintf(buf, len, "%s bus %ld", what, bus_id(m, item)), 0;
    case FOLD_ACOPF_ITEM_GEN:
        return snprintf(buf, len, "%s gen %ld", what, m->cs.gen[item].row), 0;
    default: {
        const fold_acopf_branch *br = &m->cs.branch[item];
        return snprintf(buf, len, "%s branch %ld (%ld-%ld)", what, br->row, bus_id(m, br->f),
                        bus_id(m, br->t)),
               0;
    }
    }
}

int acopf_cb_item_name(int kind, fold_int index, char *buf, size_t len, void *ud)
{
    const fold_acopf *m = ud;
    switch (kind) {
    case FOLD_ITEM_VARIABLE:
        return index >= 0 && index < m->L.n ? variable_name(m, index, buf, len) : -1;
    case FOLD_ITEM_CONSTRAINT:
        return index >= 0 && index < m->L.m ? constraint_name(m, index, buf, len) : -1;
    case FOLD_ITEM_PARAMETER:
        return index >= 0 && index < m->L.np ? parameter_name(m, index, buf, len) : -1;
    default:
        return -1;
    }
}
