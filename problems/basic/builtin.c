/* Registry of the built-in problems by name. */
#include <string.h>

#include "basic/basic.h"

static const char *const names[] = {"hs071", "pqp", NULL};

const char *const *fold_builtin_names(void)
{
    return names;
}

fold_status fold_builtin_create(const char *name, fold_problem **out)
{
    if (name && !strcmp(name, "hs071")) return fold_hs071_create(out);
    if (name && !strcmp(name, "pqp")) return fold_pqp_create(out);
    if (out) *out = NULL;
    return FOLD_ERR_ARGUMENT;
}
