/* Parameters and outputs of the AC-OPF by kind: names (as foldopt opf's --wrt and --of take
 * them), units, the items they are per (bus, generator, branch) and their place in p
 * (doc/acopf.md §2, §7). */
#include <stdlib.h>
#include <string.h>

#include "acopf/acopf_internal.h"

typedef struct kind_info {
    const char *name, *unit;
    int item; /* FOLD_ACOPF_ITEM_* */
} kind_info;

static const kind_info params[FOLD_ACOPF_N_PARAM_KINDS] = {
    [FOLD_ACOPF_P_PD] = {"pd", "MW", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_P_QD] = {"qd", "MVAr", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_P_C1] = {"c1", "$/MWh", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_P_C2] = {"c2", "$/MW^2h", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_P_C0] = {"c0", "$/h", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_P_GS] = {"gs", "MW", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_P_BS] = {"bs", "MVAr", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_P_R] = {"r", "p.u.", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_P_X] = {"x", "p.u.", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_P_B] = {"b", "p.u.", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_P_TAP] = {"tap", "ratio", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_P_SHIFT] = {"shift", "deg", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_P_RATE_A] = {"rate_a", "MVA", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_P_VMIN] = {"vmin", "p.u.", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_P_VMAX] = {"vmax", "p.u.", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_P_PMIN] = {"pmin", "MW", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_P_PMAX] = {"pmax", "MW", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_P_QMIN] = {"qmin", "MVAr", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_P_QMAX] = {"qmax", "MVAr", FOLD_ACOPF_ITEM_GEN},
};

static const kind_info outputs[FOLD_ACOPF_N_OUTPUT_KINDS] = {
    [FOLD_ACOPF_OUT_OBJECTIVE] = {"objective", "$/h", FOLD_ACOPF_ITEM_NONE},
    [FOLD_ACOPF_OUT_PG] = {"pg", "MW", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_OUT_QG] = {"qg", "MVAr", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_OUT_VM] = {"vm", "p.u.", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_OUT_VA] = {"va", "deg", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_OUT_PF] = {"pf", "MW", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_QF] = {"qf", "MVAr", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_PT] = {"pt", "MW", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_QT] = {"qt", "MVAr", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_PLOSS] = {"ploss", "MW", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_LAM_P] = {"lam_p", "$/MWh", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_OUT_LAM_Q] = {"lam_q", "$/MVArh", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_OUT_MU_VMIN] = {"mu_vmin", "$/h/p.u.", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_OUT_MU_VMAX] = {"mu_vmax", "$/h/p.u.", FOLD_ACOPF_ITEM_BUS},
    [FOLD_ACOPF_OUT_MU_PMIN] = {"mu_pmin", "$/MWh", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_OUT_MU_PMAX] = {"mu_pmax", "$/MWh", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_OUT_MU_QMIN] = {"mu_qmin", "$/MVArh", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_OUT_MU_QMAX] = {"mu_qmax", "$/MVArh", FOLD_ACOPF_ITEM_GEN},
    [FOLD_ACOPF_OUT_MU_SF] = {"mu_sf", "$/MVAh", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_MU_ST] = {"mu_st", "$/MVAh", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_MU_ANGMIN] = {"mu_angmin", "$/h/deg", FOLD_ACOPF_ITEM_BRANCH},
    [FOLD_ACOPF_OUT_MU_ANGMAX] = {"mu_angmax", "$/h/deg", FOLD_ACOPF_ITEM_BRANCH},
};

static bool param_ok(int kind)
{
    return kind >= 0 && kind < FOLD_ACOPF_N_PARAM_KINDS;
}

static bool output_ok(int kind)
{
    return kind >= 0 && kind < FOLD_ACOPF_N_OUTPUT_KINDS;
}

const char *fold_acopf_param_name(fold_acopf_param_kind kind)
{
    return param_ok(kind) ? params[kind].name : NULL;
}

const char *fold_acopf_param_unit(fold_acopf_param_kind kind)
{
    return param_ok(kind) ? params[kind].unit : NULL;
}

int fold_acopf_param_item_type(fold_acopf_param_kind kind)
{
    return param_ok(kind) ? params[kind].item : -1;
}

const char *fold_acopf_output_name(fold_acopf_output_kind kind)
{
    return output_ok(kind) ? outputs[kind].name : NULL;
}

const char *fold_acopf_output_unit(fold_acopf_output_kind kind)
{
    return output_ok(kind) ? outputs[kind].unit : NULL;
}

int fold_acopf_output_item_type(fold_acopf_output_kind kind)
{
    return output_ok(kind) ? outputs[kind].item : -1;
}

int fold_acopf_param_lookup(const char *name)
{
    for (int k = 0; name && k < FOLD_ACOPF_N_PARAM_KINDS; k++)
        if (!strcmp(params[k].name, name)) return k;
    return -1;
}

int fold_acopf_output_lookup(const char *name)
{
    for (int k = 0; name && k < FOLD_ACOPF_N_OUTPUT_KINDS; k++)
        if (!strcmp(outputs[k].name, name)) return k;
    return -1;
}

fold_int acopf_case_item_count(const fold_acopf_case *cs, int item_type)
{
    switch (item_type) {
    case FOLD_ACOPF_ITEM_NONE:
        return 1;
    case FOLD_ACOPF_ITEM_BUS:
        return cs->n_bus;
    case FOLD_ACOPF_ITEM_GEN:
        return cs->n_gen;
    case FOLD_ACOPF_ITEM_BRANCH:
        return cs->n_branch;
    default:
        return 0;
    }
}

long fold_acopf_item_key(const fold_acopf_case *cs, int item_type, fold_int i)
{
    switch (item_type) {
    case FOLD_ACOPF_ITEM_BUS:
        return cs->bus[i].id;
    case FOLD_ACOPF_ITEM_GEN:
        return cs->gen[i].row;
    case FOLD_ACOPF_ITEM_BRANCH:
        return cs->branch[i].row;
    default:
        return 0;
    }
}

fold_int fold_acopf_item_count(const fold_acopf *m, int item_type)
{
    return m ? acopf_case_item_count(&m->cs, item_type) : 0;
}

/* Offset in p of each kind's block. */
static fold_int param_offset(const fold_acopf_layout *L, int kind)
{
    const fold_int off[FOLD_ACOPF_N_PARAM_KINDS] = {
        [FOLD_ACOPF_P_PD] = L->p_pd,       [FOLD_ACOPF_P_QD] = L->p_qd,
        [FOLD_ACOPF_P_C1] = L->p_c1,       [FOLD_ACOPF_P_C2] = L->p_c2,
        [FOLD_ACOPF_P_C0] = L->p_c0,       [FOLD_ACOPF_P_GS] = L->p_gs,
        [FOLD_ACOPF_P_BS] = L->p_bs,       [FOLD_ACOPF_P_R] = L->p_r,
        [FOLD_ACOPF_P_X] = L->p_x,         [FOLD_ACOPF_P_B] = L->p_b,
        [FOLD_ACOPF_P_TAP] = L->p_tap,     [FOLD_ACOPF_P_SHIFT] = L->p_shift,
        [FOLD_ACOPF_P_RATE_A] = L->p_rate, [FOLD_ACOPF_P_VMIN] = L->p_vmin,
        [FOLD_ACOPF_P_VMAX] = L->p_vmax,   [FOLD_ACOPF_P_PMIN] = L->p_pmin,
        [FOLD_ACOPF_P_PMAX] = L->p_pmax,   [FOLD_ACOPF_P_QMIN] = L->p_qmin,
        [FOLD_ACOPF_P_QMAX] = L->p_qmax,
    };
    return off[kind];
}

fold_int fold_acopf_param_index(const fold_acopf *m, fold_acopf_param_kind kind, fold_int item)
{
    if (!m || !param_ok(kind) || item < 0 || item >= fold_acopf_item_count(m, params[kind].item))
        return -1;
    return param_offset(&m->L, kind) + item;
}

fold_int fold_acopf_param_item(const fold_acopf *m, fold_int index, int *kind)
{
    *kind = -1;
    if (!m || index < 0 || index >= m->L.np) return -1;
    for (int k = 0; k < FOLD_ACOPF_N_PARAM_KINDS; k++) {
        fold_int off = param_offset(&m->L, k);
        if (index >= off && index < off + fold_acopf_item_count(m, params[k].item)) {
            *kind = k;
            return index - off;
        }
    }
    return -1;
}

fold_int acopf_param(const fold_acopf *m, int kind, fold_int item)
{
    return param_offset(&m->L, kind) + item;
}

/* The kinds of the parameters (fold_nlp_def.p_kind): a load in MW, a cost coefficient in
 * $/MW^2h and a voltage limit in p.u. are not compared when the fold judges an entry
 * (doc/math.md §3.2 "Groups"). */
fold_int *acopf_parameter_kinds(const fold_acopf *m)
{
    fold_int *kind = malloc((size_t)m->L.np * sizeof *kind + 1);
    if (!kind) return NULL;
    for (fold_int j = 0; j < m->L.np; j++) /* every parameter is of a kind: else refused */
        kind[j] = -1;
    for (int k = 0; k < FOLD_ACOPF_N_PARAM_KINDS; k++) {
        fold_int off = param_offset(&m->L, k), count = fold_acopf_item_count(m, params[k].item);
        for (fold_int j = 0; j < count; j++)
            kind[off + j] = k;
    }
    return kind;
}

/* The kinds of the variables (fold_nlp_def.x_kind, doc/acopf.md §2): each in its own units,
 * so that the fold judges a change of a voltage against the other voltages, not against the
 * reactive outputs (doc/math.md §3.2). */
fold_int *acopf_variable_kinds(const fold_acopf_layout *L)
{
    fold_int *kind = malloc((size_t)L->n * sizeof *kind + 1);
    if (!kind) return NULL;
    const struct {
        fold_int start, count;
        int kind;
    } blocks[] = {
        {L->x_va, L->x_vm - L->x_va, ACOPF_X_VA}, {L->x_vm, L->x_pg - L->x_vm, ACOPF_X_VM},
        {L->x_pg, L->x_qg - L->x_pg, ACOPF_X_PG}, {L->x_qg, L->x_t - L->x_qg, ACOPF_X_QG},
        {L->x_t, L->n_pwl, ACOPF_X_EPIGRAPH},     {L->x_fl, 4 * L->n_flow, ACOPF_X_FLOW}};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
        for (fold_int j = 0; j < blocks[b].count; j++)
            kind[blocks[b].start + j] = blocks[b].kind;
    return kind;
}
