#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/common.h>

#include "error.h"

void omni__buf_init(omni_buf *b, size_t limit)
{
    *b = (omni_buf)OMNI_BUF_INIT;
    b->limit = limit;
}

void omni__buf_free(omni_buf *b)
{
    free(b->data);
    *b = (omni_buf)OMNI_BUF_INIT;
}

void omni__buf_reset(omni_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

int omni__buf_reserve(omni_buf *b, size_t n)
{
    if (b->failed)
        return b->failed;
    if (n > SIZE_MAX - b->len - 1) {
        b->failed = OMNI_ENOMEM;
        return b->failed;
    }
    size_t need = b->len + n + 1;
    if (b->limit && need - 1 > b->limit) {
        b->failed = OMNI_ETOOLARGE;
        return b->failed;
    }
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = OMNI_ENOMEM;
        return b->failed;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void omni__buf_append_slow(omni_buf *b, const void *data, size_t n)
{
    if (omni__buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void omni__buf_puts(omni_buf *b, const char *s)
{
    omni__buf_append(b, s, strlen(s));
}

void omni__buf_vprintf(omni_buf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return;
    char small[256];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n < 0) {
        b->failed = OMNI_EINTERNAL;
    } else if ((size_t)n < sizeof(small)) {
        omni__buf_append(b, small, (size_t)n);
    } else if (!omni__buf_reserve(b, (size_t)n)) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void omni__buf_printf(omni_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    omni__buf_vprintf(b, fmt, ap);
    va_end(ap);
}

int omni__buf_status(const omni_buf *b)
{
    if (!b->failed)
        return 0;
    if (b->failed == OMNI_ETOOLARGE)
        return omni__err(OMNI_ETOOLARGE, "output exceeds its size limit of %zu bytes", b->limit);
    return omni__err(b->failed, NULL);
}

int omni__buf_detach(omni_buf *b, char **out, size_t *out_len)
{
    int rc = omni__buf_status(b);
    if (rc) {
        omni__buf_free(b);
        return rc;
    }
    if (!b->data) {
        b->data = malloc(1);
        if (!b->data)
            return omni__err(OMNI_ENOMEM, NULL);
        b->data[0] = '\0';
    }
    *out = b->data;
    if (out_len)
        *out_len = b->len;
    *b = (omni_buf)OMNI_BUF_INIT;
    return OMNI_OK;
}

int omni__buf_finish(omni_buf *b, int rc, char **out, size_t *out_len)
{
    if (rc) {
        omni__buf_free(b);
        return rc;
    }
    return omni__buf_detach(b, out, out_len);
}
