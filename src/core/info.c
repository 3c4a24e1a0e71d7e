/* Structs that grow without breaking callers (doc/api/types.md, "Structs that grow"): the
 * caller's leading `size` says how many bytes of the struct it knows; the library reads and
 * writes that prefix only. */
#include "core/core.h"

fold_status fold_sized_check(const void *caller, size_t min_size, const char *type,
                             const char *macro)
{
    if (!caller) return FOLD_OK;
    size_t size = *(const size_t *)caller;
    if (size == 0)
        return fold_error(FOLD_ERR_ARGUMENT, "%s.size is 0: initialize with %s", type, macro);
    if (size < min_size)
        return fold_error(FOLD_ERR_ARGUMENT,
                          "%s.size = %zu is smaller than the struct's first version (%zu bytes): "
                          "initialize with %s",
                          type, size, min_size, macro);
    return FOLD_OK;
}

fold_status fold_sized_open(const void *caller, void *full, size_t full_size, size_t min_size,
                            const char *type, const char *macro)
{
    fold_status st = fold_sized_check(caller, min_size, type, macro);
    if (st < 0 || !caller) return st;
    memset(full, 0, full_size);
    *(size_t *)full = full_size;
    return FOLD_OK;
}

void fold_sized_close(void *caller, const void *full, size_t full_size)
{
    if (!caller) return;
    size_t size = *(const size_t *)caller;
    size_t n = size < full_size ? size : full_size;
    if (n <= sizeof(size_t)) return;
    memcpy((char *)caller + sizeof(size_t), (const char *)full + sizeof(size_t),
           n - sizeof(size_t));
    if (size > full_size) memset((char *)caller + full_size, 0, size - full_size);
}

void fold_sized_copy(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    memcpy(dst, src, dst_size < src_size ? dst_size : src_size);
    if (dst_size > src_size) memset((char *)dst + src_size, 0, dst_size - src_size);
}
