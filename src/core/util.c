/* Logging, timing and allocation with failure injection. */
#include <time.h>

#include "core/core.h"

static long alloc_countdown = -1; /* test hook: fail the k-th allocation from now */

void fold_alloc_fail_after(long k)
{
    alloc_countdown = k;
}

static bool alloc_should_fail(void)
{
    if (alloc_countdown < 0) return false;
    if (alloc_countdown == 0) {
        alloc_countdown = -1;
        return true;
    }
    alloc_countdown--;
    return false;
}

void *fold_malloc(size_t count, size_t size, const char *what)
{
    void *ptr = NULL;
    if (count != 0 && size > SIZE_MAX / count) {
        fold_error(FOLD_ERR_MEMORY, "allocation of %zu x %zu bytes for %s overflows", count, size,
                   what);
        return NULL;
    }
    if (!alloc_should_fail()) ptr = malloc(count * size > 0 ? count * size : 1);
    if (!ptr)
        fold_error(FOLD_ERR_MEMORY, "out of memory allocating %zu bytes for %s", count * size,
                   what);
    return ptr;
}

/* calloc, not malloc + memset: fresh pages from the kernel are already zero, so large
 * arrays that are never written cost no page faults. */
void *fold_calloc(size_t count, size_t size, const char *what)
{
    void *ptr = NULL;
    if (count != 0 && size > SIZE_MAX / count) {
        fold_error(FOLD_ERR_MEMORY, "allocation of %zu x %zu bytes for %s overflows", count, size,
                   what);
        return NULL;
    }
    if (!alloc_should_fail()) ptr = count * size > 0 ? calloc(count, size) : calloc(1, 1);
    if (!ptr)
        fold_error(FOLD_ERR_MEMORY, "out of memory allocating %zu bytes for %s", count * size,
                   what);
    return ptr;
}

double *fold_dup_doubles(const double *src, fold_int n, const char *what)
{
    double *dst;
    if (!src) return NULL;
    dst = fold_malloc((size_t)n, sizeof *dst, what);
    if (dst && n > 0) memcpy(dst, src, (size_t)n * sizeof *dst);
    return dst;
}

fold_int *fold_dup_ints(const fold_int *src, fold_int n, const char *what)
{
    fold_int *dst;
    if (!src) return NULL;
    dst = fold_malloc((size_t)n, sizeof *dst, what);
    if (dst && n > 0) memcpy(dst, src, (size_t)n * sizeof *dst);
    return dst;
}

int fold_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fold_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void fold_log(const fold_settings *s, int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!s || level > s->log.verbose) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->log.sink)
        s->log.sink(level, line, s->log.sink_data);
    else
        fprintf(stderr, "%s\n", line);
}
