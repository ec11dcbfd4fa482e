/* A reader over JSON text that the strict scanner already accepted: spans of
 * the text, no tree (see json_span.h); the helpers that read as cJSON does,
 * and lookups through a taping scan's tape. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "buf.h"
#include "json.h"
#include "json_scan.h"
#include "json_span.h"

/* Bytes that matter when skipping: 1 inside strings ('"', '\\'), 2 in
 * containers ('"', brackets). */
static const unsigned char j_class[256] = {
    ['"'] = 3, ['\\'] = 1, ['{'] = 2, ['}'] = 2, ['['] = 2, [']'] = 2,
};

const char *omni__j_skip_str(const char *p, const char *e)
{
    const char *s = ++p;
    for (;;) {
        const char *q = p < e ? memchr(p, '"', (size_t)(e - p)) : NULL;
        if (!q)
            return e;
        /* the quote is escaped when an odd number of backslashes precede it */
        const char *b = q;
        while (b > s && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q + 1;
        p = q + 1;
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

/* ---- reading as cJSON reads (see json_span.h) ------------------------------ */

static unsigned j_hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned h = (unsigned char)p[i];
        v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return v;
}

int omni__j_has_surrogate(const char *text, size_t len)
{
    const char *p = text, *e = text + len;
    while (p < e && (p = memchr(p, '\\', (size_t)(e - p))) != NULL) {
        if (e - p >= 6 && p[1] == 'u' && (p[2] | 0x20) == 'd') {
            char c = (char)(p[3] | 0x20);
            if (c == '8' || c == '9' || (c >= 'a' && c <= 'f'))
                return 1;
        }
        p += 2; /* the escaped character never starts another escape */
    }
    return 0;
}

size_t omni__j_decode(omni__jspan s, char *out, size_t cap)
{
    const char *p = s.p + 1, *e = s.p + s.n - 1;
    size_t n = 0;
    while (p < e) {
        if (*p != '\\') {
            const char *q = p;
            while (q < e && *q != '\\')
                q++;
            size_t run = (size_t)(q - p);
            if (run > cap - n) {
                memcpy(out + n, p, cap - n);
                return cap + 1;
            }
            memcpy(out + n, p, run);
            n += run;
            p = q;
            continue;
        }
        char c = p[1];
        unsigned long cp;
        p += 2;
        switch (c) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            cp = j_hex4(p);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned long lo = j_hex4(p + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            break;
        default: cp = (unsigned char)c; break; /* " \ / */
        }
        if (cp == 0)
            break; /* cJSON's string ends here */
        char u[4];
        size_t k;
        if (cp < 0x80) {
            u[0] = (char)cp, k = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
        } else {
            u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (k > cap - n) {
            memcpy(out + n, u, cap - n);
            return cap + 1;
        }
        memcpy(out + n, u, k);
        n += k;
    }
    return n;
}

int omni__j_ckey_is(omni__jspan key, const char *name, size_t len)
{
    /* the same text is the same name unless that text holds an escape (then
     * so does the name) */
    if (key.n == len + 2 && memcmp(key.p + 1, name, len) == 0 && !memchr(name, '\\', len))
        return 1;
    /* an escape makes the decoded key shorter than its text */
    char buf[128];
    if (key.n <= len + 2 || len > sizeof(buf) || omni__j_plain(key))
        return 0;
    return omni__j_decode(key, buf, len) == len && memcmp(buf, name, len) == 0;
}

/* Fills out[i] with v when key k is names[i] (cJSON's lookup) and out[i] is
 * still empty. plain: whether k holds no escape, or -1 when not known. */
static inline void j_match(omni__jspan k, int plain, omni__jspan v, const omni__jname *names,
                           omni__jspan *out, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        size_t n = names[i].n;
        if (out[i].p || k.n < n + 2)
            continue;
        if (plain < 0 && (k.n > n + 2 || memcmp(k.p + 1, names[i].s, n) == 0))
            plain = omni__j_plain(k);
        /* the same text is the same name when it holds no escape; an escape
         * makes the decoded key shorter than its text */
        if (k.n == n + 2 ? plain && memcmp(k.p + 1, names[i].s, n) == 0
                         : !plain && omni__j_ckey_is(k, names[i].s, n)) {
            out[i] = v;
            return;
        }
    }
}

void omni__j_cfields(omni__jspan obj, const omni__jname *names, omni__jspan *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = (omni__jspan){NULL, 0};
    omni__jiter it;
    omni__jspan k, v;
    if (!omni__j_obj(&it, obj))
        return;
    while (omni__j_next(&it, &k, &v))
        j_match(k, -1, v, names, out, count);
}

void omni__jdoc_fields(const omni__jdoc *doc, omni__jspan obj, const omni__jname *names,
                       omni__jspan *out, size_t count)
{
    for (size_t i = 0; i < count; i++)
        out[i] = (omni__jspan){NULL, 0};
    if (!omni__j_is(obj, '{'))
        return;
    /* the object's entry: entries are in document order, so by start */
    const omni__jtape_ent *e = doc->ents;
    uint32_t at = (uint32_t)(obj.p - doc->text);
    size_t lo = 0, hi = doc->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].start < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == doc->n || e[lo].start != at) {
        omni__j_cfields(obj, names, out, count); /* not of this document */
        return;
    }
    for (size_t c = lo + 1; c < e[lo].next; c = e[c].next) {
        omni__jspan k = {doc->text + e[c].key, e[c].klen & ~OMNI__JSON_ESCAPED};
        omni__jspan v = {doc->text + e[c].start, e[c].len};
        j_match(k, !(e[c].klen & OMNI__JSON_ESCAPED), v, names, out, count);
    }
}

int omni__j_arr(omni__jiter *it, omni__jspan arr)
{
    if (!omni__j_is(arr, '['))
        return 0;
    it->p = arr.p + 1;
    it->e = arr.p + arr.n - 1;
    return 1;
}

int omni__j_next_item(omni__jiter *it, omni__jspan *val)
{
    const char *p = omni__j_ws(it->p, it->e);
    if (p < it->e && *p == ',')
        p = omni__j_ws(p + 1, it->e);
    if (p >= it->e)
        return 0;
    const char *v = p;
    p = omni__j_skip(p, it->e);
    val->p = v;
    val->n = (size_t)(p - v);
    it->p = p;
    return 1;
}

size_t omni__j_count(omni__jspan arr)
{
    omni__jiter it;
    omni__jspan v;
    size_t n = 0;
    if (omni__j_arr(&it, arr))
        while (omni__j_next_item(&it, &v))
            n++;
    return n;
}

double omni__j_num(omni__jspan v)
{
    const char *p = v.p;
    size_t n = v.n, neg = n && p[0] == '-';
    /* the usual case: an integer of up to 15 digits, exact in a double */
    if (n - neg >= 1 && n - neg <= 15) {
        int64_t x = 0;
        size_t i = neg;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            x = x * 10 + (p[i++] - '0');
        if (i == n)
            return neg ? -(double)x : (double)x;
    }
    /* cJSON: the text with '.' as the locale's decimal point, through strtod */
    char local[64], *buf = n < sizeof(local) ? local : malloc(n + 1);
    if (!buf) {
        buf = local;
        n = sizeof(local) - 1;
    }
    char point = localeconv()->decimal_point[0];
    for (size_t i = 0; i < n; i++)
        buf[i] = p[i] == '.' ? point : p[i];
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (buf != local)
        free(buf);
    return d;
}

static void j_write_str(omni_buf *b, omni__jspan s)
{
    if (omni__j_plain(s)) {
        omni__json_w_raw(b, s.p, s.n); /* nothing in it to escape */
        return;
    }
    char local[256], *tmp = s.n <= sizeof(local) ? local : malloc(s.n);
    if (!tmp) {
        b->failed = OMNI_ENOMEM;
        return;
    }
    size_t n = omni__j_decode(s, tmp, s.n);
    omni__json_w_strn(b, tmp, n);
    if (tmp != local)
        free(tmp);
}

void omni__j_write_key(omni_buf *b, omni__jspan k)
{
    if (omni__j_plain(k)) {
        omni__json_w_raw_key(b, k.p, k.n);
        omni__buf_putc(b, ':');
        return;
    }
    char local[256], *tmp = k.n <= sizeof(local) ? local : malloc(k.n);
    if (!tmp) {
        b->failed = OMNI_ENOMEM;
        return;
    }
    tmp[omni__j_decode(k, tmp, k.n - 1)] = '\0';
    omni__json_w_key(b, tmp);
    if (tmp != local)
        free(tmp);
}

void omni__j_write(omni_buf *b, omni__jspan v)
{
    omni__jiter it;
    omni__jspan k, x;
    if (!v.p || !v.n) {
        omni__json_w_null(b);
        return;
    }
    switch (v.p[0]) {
    case '"': j_write_str(b, v); break;
    case '{':
        omni__json_w_obj_begin(b);
        omni__j_obj(&it, v);
        while (omni__j_next(&it, &k, &x)) {
            omni__j_write_key(b, k);
            omni__j_write(b, x);
        }
        omni__json_w_obj_end(b);
        break;
    case '[':
        omni__json_w_arr_begin(b);
        omni__j_arr(&it, v);
        while (omni__j_next_item(&it, &x))
            omni__j_write(b, x);
        omni__json_w_arr_end(b);
        break;
    case 't': omni__json_w_bool(b, 1); break;
    case 'f': omni__json_w_bool(b, 0); break;
    case 'n': omni__json_w_null(b); break;
    default: omni__json_w_num(b, omni__j_num(v)); break;
    }
}
