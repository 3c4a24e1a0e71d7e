/* Status strings and the per-thread error detail (doc/api/status.md). */
#include "core/core.h"

/* Long enough for messages that name several items (FOLD_NAME_MAX each). */
static _Thread_local char last_error[4096];
static _Thread_local fold_status last_status;

const char *fold_status_string(fold_status status)
{
    switch (status) {
#define FOLD_STATUS_TEXT(name, value, text)                                                        \
    case name:                                                                                     \
        return text;
        FOLD_STATUS_LIST(FOLD_STATUS_TEXT)
#undef FOLD_STATUS_TEXT
    }
    return "unknown status";
}

const char *fold_status_name(fold_status status)
{
    switch (status) {
#define FOLD_STATUS_NAME(name, value, text)                                                        \
    case name:                                                                                     \
        return #name;
        FOLD_STATUS_LIST(FOLD_STATUS_NAME)
#undef FOLD_STATUS_NAME
    }
    return "FOLD_UNKNOWN";
}

const char *fold_last_error(void)
{
    return last_error;
}

fold_status fold_last_status(void)
{
    return last_status;
}

void fold_clear_error(void)
{
    last_error[0] = '\0';
    last_status = FOLD_OK;
}

/* Formatted into a copy first: the arguments may point into last_error. */
static fold_status set_error(fold_status status, const char *fmt, va_list ap)
{
    char detail[sizeof last_error];
    vsnprintf(detail, sizeof detail, fmt, ap);
    memcpy(last_error, detail, sizeof detail);
    last_status = status;
    return status;
}

fold_status fold_set_error(fold_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(status, fmt, ap);
    va_end(ap);
    return status;
}

fold_status fold_error_context(fold_status status, const char *fmt, ...)
{
    char old[sizeof last_error];
    char ctx[256];
    va_list ap;
    memcpy(old, last_error, sizeof old);
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    if (old[0] != '\0')
        snprintf(last_error, sizeof last_error, "%s: %s", ctx, old);
    else
        snprintf(last_error, sizeof last_error, "%s: %s", ctx, fold_status_string(status));
    last_status = status;
    return status;
}

const char *fold_version(void)
{
    return FOLD_VERSION;
}
