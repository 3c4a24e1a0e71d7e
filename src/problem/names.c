/* Names of variables, constraints and parameters as the user knows them: the problem's
 * item_name callback, or "x[12]", "g[7]", "p[3]" (doc/api/problem.md "Names"). Every
 * library message and report that names an item goes through these. */
#include "problem/problem_internal.h"

static fold_int kind_count(const fold_problem *prob, int kind)
{
    switch (kind) {
    case FOLD_ITEM_VARIABLE:
        return prob->n;
    case FOLD_ITEM_CONSTRAINT:
        return prob->m;
    case FOLD_ITEM_PARAMETER:
        return prob->np;
    default:
        return -1;
    }
}

void fold_prob_name(const fold_problem *prob, int kind, fold_int index, char *buf, size_t len)
{
    static const char *const fallback[] = {"x", "g", "p"};
    if (len == 0) return;
    if (prob->item_name) {
        char name[FOLD_NAME_MAX];
        name[0] = '\0';
        int rc = prob->item_name(kind, index, name, sizeof name, prob->user_data);
        name[sizeof name - 1] = '\0'; /* a callback that forgot the terminator */
        if (rc == 0 && name[0]) {
            snprintf(buf, len, "%s", name);
            return;
        }
    }
    snprintf(buf, len, "%s[%lld]", fallback[kind], (long long)index);
}

void fold_prob_side_name(const fold_problem *prob, int kind, fold_int index, int side, char *buf,
                         size_t len)
{
    fold_prob_name(prob, kind, index, buf, len);
    if (side != FOLD_SIDE_LOWER && side != FOLD_SIDE_UPPER) return;
    const double *lo = kind == FOLD_ITEM_VARIABLE ? prob->x_lower : prob->g_lower;
    const double *hi = kind == FOLD_ITEM_VARIABLE ? prob->x_upper : prob->g_upper;
    /* The side is said only where the item has two (distinct, finite) bounds. */
    if (fold_is_inf_bound(lo[index]) || fold_is_inf_bound(hi[index]) || lo[index] == hi[index])
        return;
    size_t at = strlen(buf);
    snprintf(buf + at, len > at ? len - at : 0, side == FOLD_SIDE_LOWER ? " lower" : " upper");
}

void fold_prob_name_list(const fold_problem *prob, int kind, const unsigned char *flag,
                         const fold_int *idx, fold_int count, int max_shown, char *buf, size_t size)
{
    fold_int shown = 0, total = 0;
    char name[FOLD_NAME_MAX];
    for (fold_int k = 0; k < count; k++) {
        if (flag && !flag[k]) continue;
        if (shown < max_shown) {
            size_t at = strlen(buf);
            fold_prob_name(prob, kind, idx ? idx[k] : k, name, sizeof name);
            snprintf(buf + at, size > at ? size - at : 0, "%s%s", at ? ", " : "", name);
            shown++;
        }
        total++;
    }
    if (total > shown) {
        size_t at = strlen(buf);
        snprintf(buf + at, size > at ? size - at : 0, " and %lld more", (long long)(total - shown));
    }
}

fold_status fold_problem_item_name(const fold_problem *prob, fold_item_kind kind, fold_int index,
                                   char *buf, size_t len)
{
    static const char *FN = "fold_problem_item_name";
    if (buf && len > 0) buf[0] = '\0';
    if (!prob || !buf || len == 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: %s", FN,
                          !prob  ? "prob is NULL"
                          : !buf ? "buf is NULL"
                                 : "len is 0");
    fold_int count = kind_count(prob, kind);
    if (count < 0)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s: kind = %d is not a fold_item_kind (0 variable, 1 constraint, "
                          "2 parameter)",
                          FN, kind);
    if (index < 0 || index >= count)
        return fold_error(FOLD_ERR_ARGUMENT, "%s: index = %lld outside [0,%lld) for kind %d", FN,
                          (long long)index, (long long)count, kind);
    fold_prob_name(prob, kind, index, buf, len);
    return FOLD_OK;
}
