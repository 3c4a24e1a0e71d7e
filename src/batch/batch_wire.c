/* Length-prefixed binary messages between the parent, its workers and the MPI ranks:
 * [u32 payload length][u8 type][payload] (doc/api/batch.md, "Processes"). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch/batch_internal.h"

#define HEADER 5 /* u32 length + u8 type */

void fold_bt_buf_reset(fold_bt_buf *b)
{
    b->len = 0;
    b->failed = false;
}

void fold_bt_buf_free(fold_bt_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

bool fold_bt_reserve(fold_bt_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (b->len + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    unsigned char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void fold_bt_put_bytes(fold_bt_buf *b, const void *v, size_t n)
{
    if (n && fold_bt_reserve(b, n)) {
        memcpy(b->data + b->len, v, n);
        b->len += n;
    }
}

void fold_bt_put_u8(fold_bt_buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    fold_bt_put_bytes(b, &c, 1);
}

void fold_bt_put_i64(fold_bt_buf *b, int64_t v)
{
    fold_bt_put_bytes(b, &v, sizeof v);
}

void fold_bt_put_f64(fold_bt_buf *b, double v)
{
    fold_bt_put_bytes(b, &v, sizeof v);
}

void fold_bt_put_f64s(fold_bt_buf *b, const double *v, fold_int n)
{
    fold_bt_put_bytes(b, v, (size_t)n * sizeof *v);
}

void fold_bt_put_i64s(fold_bt_buf *b, const fold_int *v, fold_int n)
{
    fold_bt_put_bytes(b, v, (size_t)n * sizeof *v);
}

void fold_bt_put_str(fold_bt_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    fold_bt_put_i64(b, (int64_t)n);
    fold_bt_put_bytes(b, s, n);
}

void fold_bt_begin(fold_bt_buf *b, int type)
{
    fold_bt_buf_reset(b);
    uint32_t zero = 0;
    fold_bt_put_bytes(b, &zero, sizeof zero);
    fold_bt_put_u8(b, (unsigned)type);
}

void fold_bt_finish(fold_bt_buf *b)
{
    if (b->failed || b->len < HEADER) return;
    uint32_t n = (uint32_t)(b->len - HEADER);
    if (b->len - HEADER > UINT32_MAX) {
        b->failed = true;
        return;
    }
    memcpy(b->data, &n, sizeof n);
}

void fold_bt_reader_init(fold_bt_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->left = len;
    r->bad = false;
}

const unsigned char *fold_bt_get_raw(fold_bt_reader *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

unsigned fold_bt_get_u8(fold_bt_reader *r)
{
    const unsigned char *p = fold_bt_get_raw(r, 1);
    return p ? *p : 0;
}

int64_t fold_bt_get_i64(fold_bt_reader *r)
{
    int64_t v = 0;
    const unsigned char *p = fold_bt_get_raw(r, sizeof v);
    if (p) memcpy(&v, p, sizeof v);
    return v;
}

double fold_bt_get_f64(fold_bt_reader *r)
{
    double v = 0;
    const unsigned char *p = fold_bt_get_raw(r, sizeof v);
    if (p) memcpy(&v, p, sizeof v);
    return v;
}

void fold_bt_get_f64s(fold_bt_reader *r, double *out, fold_int n)
{
    const unsigned char *p = n > 0 ? fold_bt_get_raw(r, (size_t)n * sizeof *out) : NULL;
    if (p) memcpy(out, p, (size_t)n * sizeof *out);
}

void fold_bt_get_str(fold_bt_reader *r, char *out, size_t cap)
{
    int64_t n = fold_bt_get_i64(r);
    const unsigned char *p = n >= 0 ? fold_bt_get_raw(r, (size_t)n) : NULL;
    size_t k = p ? (size_t)n : 0;
    if (k >= cap) k = cap - 1;
    if (k) memcpy(out, p, k);
    out[k] = '\0';
    if (n < 0) r->bad = true;
}

int fold_bt_send_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* a non-blocking parent socket with a full buffer: the peer is reading */
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -1;
            continue;
        }
        if (k <= 0) return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static int recv_all(int fd, void *data, size_t len)
{
    unsigned char *p = data;
    while (len > 0) {
        ssize_t k = read(fd, p, len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

int fold_bt_recv_msg(int fd, fold_bt_buf *b, int *type)
{
    unsigned char head[HEADER];
    uint32_t n;
    if (recv_all(fd, head, HEADER)) return -1;
    memcpy(&n, head, sizeof n);
    *type = head[4];
    fold_bt_buf_reset(b);
    if (!fold_bt_reserve(b, n ? n : 1)) return -1;
    if (n && recv_all(fd, b->data, n)) return -1;
    b->len = n;
    return 0;
}

int fold_bt_read_some(int fd, fold_bt_buf *b)
{
    if (!fold_bt_reserve(b, 65536)) return -1;
    for (;;) {
        ssize_t k = read(fd, b->data + b->len, b->cap - b->len);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 2;
        if (k < 0) return -1;
        if (k == 0) return 0;
        b->len += (size_t)k;
        return 1;
    }
}

int fold_bt_next_msg(const fold_bt_buf *b, int *type, const unsigned char **payload,
                     size_t *payload_len, size_t *consumed)
{
    uint32_t n;
    if (b->len < HEADER) return 0;
    memcpy(&n, b->data, sizeof n);
    if (b->len < HEADER + (size_t)n) return 0;
    *type = b->data[4];
    *payload = b->data + HEADER;
    *payload_len = n;
    *consumed = HEADER + (size_t)n;
    return 1;
}

void fold_bt_consume(fold_bt_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
