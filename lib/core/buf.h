/* Internal: a growable byte buffer with a sticky failure flag.
 *
 * Appends never fail loudly: after an allocation failure (or growing past
 * `limit` when one is set) `failed` is set and later appends do nothing, so
 * a builder checks once at the end. The data is always NUL-terminated when
 * len > 0 and not failed. */
#ifndef OMNI_CORE_BUF_H
#define OMNI_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct omni_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* 0: no limit other than memory */
    int failed;   /* 0, or OMNI_ENOMEM / OMNI_ETOOLARGE */
} omni_buf;

#define OMNI_BUF_INIT {NULL, 0, 0, 0, 0}

void omni__buf_init(omni_buf *b, size_t limit);
void omni__buf_free(omni_buf *b);
void omni__buf_reset(omni_buf *b);
/* Makes room for n more bytes; returns 0 or the failure status. */
int omni__buf_reserve(omni_buf *b, size_t n);
/* The slow paths of the inline appends below (growing, limits, failure). */
void omni__buf_append_slow(omni_buf *b, const void *data, size_t n);
void omni__buf_puts(omni_buf *b, const char *s);

/* Appends n bytes (inline when they fit in the capacity). */
static inline void omni__buf_append(omni_buf *b, const void *data, size_t n)
{
    if (!b->failed && n < b->cap - b->len && (!b->limit || b->len + n <= b->limit)) {
        if (n)
            memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    omni__buf_append_slow(b, data, n);
}

static inline void omni__buf_putc(omni_buf *b, char c)
{
    omni__buf_append(b, &c, 1);
}
/* As omni__buf_printf, with a va_list (consumed). */
void omni__buf_vprintf(omni_buf *b, const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 0)))
#endif
    ;
void omni__buf_printf(omni_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hands the data (NUL-terminated, allocated with malloc) to the caller and
 * resets the buffer. Returns OMNI_OK, or the failure status after setting
 * the last error (nothing is handed out then). */
int omni__buf_detach(omni_buf *b, char **out, size_t *out_len);
/* The end of a call that builds its result in b: with rc an error, frees b
 * and returns rc; otherwise omni__buf_detach. */
int omni__buf_finish(omni_buf *b, int rc, char **out, size_t *out_len);
/* Sets the thread's last error from b->failed and returns it (0 if fine). */
int omni__buf_status(const omni_buf *b);

#endif
