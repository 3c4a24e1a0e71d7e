/* Bookkeeping of every public backward call, of the KKT fold (backward.c, jacobian.c) and of
 * the fold maps (map/map_api.c) alike: the info struct from "not run" to the caller, the
 * clock, checked inputs (doc/api/fold.md, doc/api/map.md). */
#ifndef FOLD_CALL_H
#define FOLD_CALL_H

#include "core/core.h"
#include "foldopt/fold.h"

/* Buffers of messages that list a few item names ("a, b, c, d and 7 more"). */
#define FOLD_LIST_LEN (5 * FOLD_NAME_MAX)

typedef struct fold_call {
    double t0;
    fold_backward_info *info, local; /* info = &local, the full struct the call fills */
    fold_backward_info *caller;      /* the caller's (NULL: not wanted), written at the end */
    fold_status check;               /* KKT fold: result of fold_kkt_check_solver */
    char note[2 * FOLD_LIST_LEN];    /* which entries were set to NaN and why (appended to the
                             FOLD_WARN_NOT_UNIQUE message), or "" */
} fold_call;

/* Check the caller's info (its size, FOLD_ERR_ARGUMENT; nothing else is done then), zero the
 * call's full one (reason FOLD_REASON_NOT_RUN until a solve sets it), clear the solver's trust
 * report (solver may be NULL: a fold map) and start the clock. */
fold_status fold_call_begin(fold_call *call, fold_backward_info *info, fold_solver *solver);
/* Stop the clock (info->total_s) and copy the info into the caller's (the part its size
 * covers). */
void fold_call_stop(fold_call *call);
/* An input vector of len entries: NULL is refused when required and len > 0 (FOLD_ERR_ARGUMENT
 * "fn: field is NULL"), NaN/Inf always (FOLD_ERR_NONFINITE naming the entry). */
fold_status fold_call_input(const double *v, fold_int len, bool required, const char *fn,
                            const char *field);

#endif
