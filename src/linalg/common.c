/* The cholmod_common of a solver: long-integer CHOLMOD, silent, errors routed to
 * fold_last_error instead of stdout. doc/math.md §4. */
#include <SuiteSparse_config.h>

#include "linalg/linalg.h"

_Static_assert(sizeof(SuiteSparse_long) == sizeof(fold_int),
               "SuiteSparse_long must be the 64-bit fold_int");
_Static_assert(_Generic((SuiteSparse_long *)0, fold_int * : 1, default : 0),
               "SuiteSparse_long and fold_int must be the same type");

static const char *cholmod_status_text(int status)
{
    switch (status) {
    case CHOLMOD_NOT_INSTALLED:
        return "method not installed";
    case CHOLMOD_OUT_OF_MEMORY:
        return "out of memory";
    case CHOLMOD_TOO_LARGE:
        return "integer overflow";
    case CHOLMOD_INVALID:
        return "invalid input";
    case CHOLMOD_GPU_PROBLEM:
        return "GPU problem";
    case CHOLMOD_NOT_POSDEF:
        return "matrix not positive definite (zero pivot in LDL')";
    case CHOLMOD_DSMALL:
        return "diagonal entry of the factor is tiny";
    default:
        return "unknown status";
    }
}

static void cholmod_handler(int status, const char *file, int line, const char *message)
{
    fold_status st = status == CHOLMOD_OUT_OF_MEMORY ? FOLD_ERR_MEMORY
                     : status < 0                    ? FOLD_ERR_INTERNAL
                                                     : FOLD_ERR_SINGULAR;
    const char *base = file ? strrchr(file, '/') : NULL;
    fold_error(st, "CHOLMOD %s %d (%s) at %s:%d: %s", status < 0 ? "error" : "warning", status,
               cholmod_status_text(status), base ? base + 1 : (file ? file : "?"), line,
               message ? message : "");
}

fold_status fold_la_common_init(cholmod_common *cm)
{
    if (!cm) return fold_error(FOLD_ERR_ARGUMENT, "fold_la_common_init: cm is NULL");
    if (!cholmod_l_start(cm))
        return fold_error(FOLD_ERR_INTERNAL, "fold_la_common_init: cholmod_l_start failed");
    cm->print = 0;
    cm->error_handler = cholmod_handler;
    cm->itype = CHOLMOD_LONG;
    cm->dtype = CHOLMOD_DOUBLE;
    return FOLD_OK;
}

void fold_la_common_finish(cholmod_common *cm)
{
    if (cm) cholmod_l_finish(cm);
}
