/* foldopt opf: the rows (outputs) and columns (parameters) of the result: how many entries
 * --mode gives, their keys, names and JSON labels (doc/cli.md). */
#include "cmd_opf.h"

fold_int opf_n_entries(const opf_run *r)
{
    return r->mode == OPF_MODE_JACOBIAN ? r->n_rows * r->n_cols
           : r->mode == OPF_MODE_JVP    ? r->n_rows
                                        : r->n_cols;
}

int opf_col_kind(const opf_run *r, fold_int c, fold_int *item)
{
    int kind;
    *item = fold_acopf_param_item(r->model, r->cols[c], &kind);
    return kind;
}

long opf_col_key(const opf_run *r, fold_int c)
{
    fold_int item;
    int kind = opf_col_kind(r, c, &item);
    return fold_acopf_item_key(r->cs, fold_acopf_param_item_type(kind), item);
}

long opf_row_key(const opf_run *r, fold_int k)
{
    return fold_acopf_item_key(r->cs, fold_acopf_output_item_type(r->outs[k].kind),
                               r->outs[k].item);
}

/* "pd bus 5", "pg gen 3", "pf branch 7", "objective". */
void opf_col_name(const opf_run *r, fold_int c, char *buf, size_t len)
{
    fold_int item;
    int kind = opf_col_kind(r, c, &item);
    snprintf(buf, len, "%s %s %ld", fold_acopf_param_name(kind),
             opf_item_word(fold_acopf_param_item_type(kind)), opf_col_key(r, c));
}

void opf_row_name(const opf_run *r, fold_int k, char *buf, size_t len)
{
    int kind = r->outs[k].kind, type = fold_acopf_output_item_type(kind);
    if (type == FOLD_ACOPF_ITEM_NONE)
        snprintf(buf, len, "%s", fold_acopf_output_name(kind));
    else
        snprintf(buf, len, "%s %s %ld", fold_acopf_output_name(kind), opf_item_word(type),
                 opf_row_key(r, k));
}

void opf_json_label(const opf_run *r, FILE *out, bool params, fold_int k)
{
    fold_int item;
    int kind = params ? opf_col_kind(r, k, &item) : (int)r->outs[k].kind;
    if (!params && fold_acopf_output_item_type(kind) == FOLD_ACOPF_ITEM_NONE)
        fprintf(out, "\"%s\"", fold_acopf_output_name(kind));
    else if ((params ? r->n_wrt : r->n_of) > 1)
        fprintf(out, "\"%s:%ld\"",
                params ? fold_acopf_param_name(kind) : fold_acopf_output_name(kind),
                params ? opf_col_key(r, k) : opf_row_key(r, k));
    else
        fprintf(out, "%ld", params ? opf_col_key(r, k) : opf_row_key(r, k));
}
