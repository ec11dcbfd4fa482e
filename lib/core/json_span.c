/* A reader over JSON text that the strict scanner already accepted: spans of
 * the text, no tree and no allocation (see json_span.h). */
#include <string.h>

#include "json_span.h"

/* Bytes that matter when skipping: 1 inside strings ('"', '\\'), 2 in
 * containers ('"', brackets). */
static const unsigned char j_class[256] = {
    ['"'] = 3, ['\\'] = 1, ['{'] = 2, ['}'] = 2, ['['] = 2, [']'] = 2,
};

const char *omni__j_skip_str(const char *p, const char *e)
{
    p++;
    for (;;) {
        while (p < e && !(j_class[(unsigned char)*p] & 1))
            p++;
        if (p >= e)
            return e;
        if (*p == '"')
            return p + 1;
        p += 2; /* an escape: the next byte never ends the string */
    }
}

const char *omni__j_skip(const char *p, const char *e)
{
    p = omni__j_ws(p, e);
    if (p >= e)
        return e;
    if (*p == '"')
        return omni__j_skip_str(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            while (p < e && !(j_class[(unsigned char)*p] & 2))
                p++;
            if (p >= e)
                break;
            char c = *p;
            if (c == '"') {
                p = omni__j_skip_str(p, e);
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (--depth == 0) {
                return p + 1;
            }
            p++;
        }
        return e;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r')
        p++;
    return p;
}



int omni__j_obj(omni__jiter *it, omni__jspan obj)
{
    if (!omni__j_is(obj, '{'))
        return 0;
    it->p = obj.p + 1;
    it->e = obj.p + obj.n;
    return 1;
}

/* Next member: key (with its quotes) and value spans. */
int omni__j_next(omni__jiter *it, omni__jspan *key, omni__jspan *val)
{
    const char *p = omni__j_ws(it->p, it->e);
    if (p < it->e && *p == ',')
        p = omni__j_ws(p + 1, it->e);
    if (p >= it->e || *p != '"')
        return 0;
    const char *k = p;
    p = omni__j_skip_str(p, it->e);
    key->p = k;
    key->n = (size_t)(p - k);
    p = omni__j_ws(p, it->e);
    if (p < it->e && *p == ':')
        p++;
    p = omni__j_ws(p, it->e);
    const char *v = p;
    p = omni__j_skip(p, it->e);
    val->p = v;
    val->n = (size_t)(p - v);
    it->p = p;
    return 1;
}

/* Unescapes a JSON string span into buf (NUL-terminated). Returns the
 * length, or -1 when it does not fit or holds a NUL. */
long omni__j_str(omni__jspan v, char *buf, size_t cap)
{
    if (!omni__j_is(v, '"') || v.n < 2 || cap == 0)
        return -1;
    const char *p = v.p + 1, *e = v.p + v.n - 1;
    size_t n = 0;
    while (p < e) {
        unsigned long cp;
        if (*p != '\\') {
            if (n + 1 >= cap)
                return -1;
            buf[n++] = *p++;
            continue;
        }
        p++;
        if (p >= e)
            return -1;
        char c = *p++;
        switch (c) {
        case 'n': cp = '\n'; break;
        case 't': cp = '\t'; break;
        case 'r': cp = '\r'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'u': {
            if (e - p < 4)
                return -1;
            cp = 0;
            for (int i = 0; i < 4; i++) {
                char h = *p++;
                cp = cp * 16 + (unsigned long)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned long lo = 0;
                for (int i = 2; i < 6; i++) {
                    char h = p[i];
                    lo = lo * 16 + (unsigned long)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            break;
        }
        default: cp = (unsigned char)c; break;
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        char tmp[4];
        size_t k;
        if (cp < 0x80) {
            tmp[0] = (char)cp, k = 1;
        } else if (cp < 0x800) {
            tmp[0] = (char)(0xC0 | (cp >> 6)), tmp[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
        } else if (cp < 0x10000) {
            tmp[0] = (char)(0xE0 | (cp >> 12)), tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
        } else {
            tmp[0] = (char)(0xF0 | (cp >> 18)), tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), tmp[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (n + k >= cap)
            return -1;
        memcpy(buf + n, tmp, k);
        n += k;
    }
    buf[n] = '\0';
    return (long)n;
}

/* 1 when the key span (with quotes) is `name` (len bytes). */
int omni__j_key_is_n(omni__jspan key, const char *name, size_t len)
{
    if (key.n == len + 2)
        return memcmp(key.p + 1, name, len) == 0;
    /* only a longer key can spell the name with escapes */
    if (key.n < len + 2 || !memchr(key.p, '\\', key.n))
        return 0;
    char buf[64];
    long k = omni__j_str(key, buf, sizeof(buf));
    return k == (long)len && memcmp(buf, name, len) == 0;
}

/* The first member `name` of an object span (cJSON's lookup order). */
omni__jspan omni__j_get(omni__jspan obj, const char *name)
{
    omni__jiter it;
    omni__jspan k, v, none = {NULL, 0};
    if (!omni__j_obj(&it, obj))
        return none;
    size_t len = strlen(name);
    while (omni__j_next(&it, &k, &v))
        if (omni__j_key_is_n(k, name, len))
            return v;
    return none;
}

/* The value of a validated document: trimmed of surrounding whitespace. */
omni__jspan omni__j_root(const char *text, size_t len)
{
    const char *e = text + len;
    const char *p = omni__j_ws(text, e);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    omni__jspan s = {p, (size_t)(e - p)};
    return s;
}

/* One pass over an object: out[i] receives the first member names[i]
 * (absent: {NULL, 0}). */
void omni__j_fields(omni__jspan obj, const char *const *names, omni__jspan *out,
                    size_t count)
{
    size_t lens[8];
    for (size_t i = 0; i < count && i < 8; i++) {
        out[i] = (omni__jspan){NULL, 0};
        lens[i] = strlen(names[i]);
    }
    omni__jiter it;
    omni__jspan k, v;
    if (!omni__j_obj(&it, obj))
        return;
    while (omni__j_next(&it, &k, &v)) {
        for (size_t i = 0; i < count && i < 8; i++) {
            if (!out[i].p && omni__j_key_is_n(k, names[i], lens[i])) {
                out[i] = v;
                break;
            }
        }
    }
}

/* A string member copied into buf; 0 when absent or null; -1 on a wrong
 * type or a value that does not fit. */
int omni__j_get_str(omni__jspan obj, const char *name, char *buf, size_t cap)
{
    omni__jspan v = omni__j_get(obj, name);
    if (!v.p || omni__j_is(v, 'n'))
        return 0;
    if (!omni__j_is(v, '"') || omni__j_str(v, buf, cap) < 0)
        return -1;
    return 1;
}

int omni__j_uint(omni__jspan v, int64_t *out)
{
    if (!v.p || v.n == 0 || v.n > 18)
        return 0;
    int64_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 0;
        x = x * 10 + (v.p[i] - '0');
    }
    *out = x;
    return 1;
}
