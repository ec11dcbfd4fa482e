/* Internal: a non-allocating reader over JSON text that omni__json_validate
 * (or omni__json_scan) accepted. Values are spans of the text; nothing is
 * copied until a string is asked for. On text that was not validated the
 * functions stay within the given bounds but their answers mean nothing.
 * This keeps hot paths (identity lookup, the conversation step) at a few
 * microseconds per document. */
#ifndef OMNI_CORE_JSON_SPAN_H
#define OMNI_CORE_JSON_SPAN_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni__jspan {
    const char *p; /* NULL: absent */
    size_t n;
} omni__jspan;

typedef struct omni__jiter {
    const char *p, *e;
} omni__jiter;

static inline const char *omni__j_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static inline int omni__j_is(omni__jspan v, char c)
{
    return v.p && v.n > 0 && v.p[0] == c;
}

/* Skips one string (p at its opening quote); returns the byte after it. */
const char *omni__j_skip_str(const char *p, const char *e);
/* Skips one value (leading whitespace included). */
const char *omni__j_skip(const char *p, const char *e);
/* Starts iterating the members of an object span; 0 when it is not one. */
int omni__j_obj(omni__jiter *it, omni__jspan obj);
/* Next member: key (with its quotes) and value spans; 0 at the end. */
int omni__j_next(omni__jiter *it, omni__jspan *key, omni__jspan *val);
/* Unescapes a string span into buf (NUL-terminated). Returns the length,
 * or -1 when it is not a string, does not fit or holds a NUL. */
long omni__j_str(omni__jspan v, char *buf, size_t cap);
/* 1 when the key span (with quotes) is `name` (len bytes). */
int omni__j_key_is_n(omni__jspan key, const char *name, size_t len);
#define omni__j_key_is(key, lit) omni__j_key_is_n(key, lit, sizeof(lit) - 1)
/* The first member `name` of an object span ({NULL, 0}: absent). */
omni__jspan omni__j_get(omni__jspan obj, const char *name);
/* The value of a validated document, trimmed of surrounding whitespace. */
omni__jspan omni__j_root(const char *text, size_t len);
/* One pass over an object: out[i] receives the first member names[i]
 * (absent: {NULL, 0}); at most 8 names. */
void omni__j_fields(omni__jspan obj, const char *const *names, omni__jspan *out, size_t count);
/* A JSON integer of at most 18 digits, no sign, fraction or exponent (a
 * count, a limit, milliseconds): 1 with *out, else 0. */
int omni__j_uint(omni__jspan v, int64_t *out);

/* A string member copied into buf; 0 when absent or null; -1 on a wrong
 * type or a value that does not fit. */
int omni__j_get_str(omni__jspan obj, const char *name, char *buf, size_t cap);

#endif
