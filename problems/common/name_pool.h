/* Names packed end to end in one growing buffer: a trust report can name millions of
 * Jacobian entries, and an allocation per name would cost more than the naming. A name is
 * referred to by its offset, since the buffer moves as it grows; pointers into it are taken
 * once the names are all in. */
#ifndef FOLD_PROBLEMS_NAME_POOL_H
#define FOLD_PROBLEMS_NAME_POOL_H

#include <stdlib.h>
#include <string.h>

typedef struct name_pool {
    char *buf;
    size_t len, cap;
} name_pool;

/* Append name (with its terminating zero): its offset, or (size_t)-1 out of memory. */
static inline size_t name_pool_add(name_pool *p, const char *name)
{
    size_t n = strlen(name) + 1;
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4096;
        while (cap < p->len + n)
            cap *= 2;
        char *buf = realloc(p->buf, cap);
        if (!buf) return (size_t)-1;
        p->buf = buf;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, name, n);
    p->len += n;
    return p->len - n;
}

static inline void name_pool_free(name_pool *p)
{
    free(p->buf);
    *p = (name_pool){0};
}

#endif
