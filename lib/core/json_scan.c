/* The strict JSON scanner (see json_scan.h). One body of code, compiled
 * three times through constant `record` and `tape` flags: plain for the
 * validator, recording for the template data parser's pass 1, taping for
 * readers that look values up without reading the text again (push). */
#include "json_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "error.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

typedef struct {
    const unsigned char *p, *end, *start;
    int status; /* the first error */
    const char *why;
    omni__json_rec rec; /* recording: the caller's, copied in and back out */
    omni__jtape tape;   /* taping: the caller's, copied in and back out */
    uint32_t key, klen; /* taping: the key of the member whose value comes next */
    uint32_t escaped;   /* the last string held an escape: OMNI__JSON_ESCAPED, else 0 */
} scanner;

static int scan_fail(scanner *s, int status, const char *why)
{
    if (!s->status) {
        s->status = status;
        s->why = why;
    }
    return status;
}

static ALWAYS_INLINE void skip_ws(scanner *s)
{
    const unsigned char *p = s->p, *end = s->end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    s->p = p;
}

/* ---- recording ----------------------------------------------------------- */

static __attribute__((noinline)) int rec_grow(scanner *s)
{
    omni__json_rec *r = &s->rec;
    size_t cap = r->cap * 2;
    uint32_t *p;
    if (r->counts == r->local) {
        p = malloc(cap * sizeof(*p));
        if (p)
            memcpy(p, r->local, r->n * sizeof(*p));
    } else {
        p = realloc(r->counts, cap * sizeof(*p));
    }
    if (!p)
        return scan_fail(s, OMNI_ENOMEM, "out of memory");
    r->counts = p;
    r->cap = cap;
    return 0;
}

static ALWAYS_INLINE int rec_push(scanner *s, uint32_t v)
{
    omni__json_rec *r = &s->rec;
    if (r->n == r->cap && rec_grow(s))
        return s->status;
    r->counts[r->n++] = v;
    return 0;
}

/* A container opens: its count slot, filled in when it closes. */
static ALWAYS_INLINE int rec_open(scanner *s, uint32_t *idx)
{
    *idx = (uint32_t)s->rec.n;
    return rec_push(s, 0);
}

static ALWAYS_INLINE void rec_close(scanner *s, char kind, uint32_t idx, uint32_t count)
{
    s->rec.counts[idx] = count;
    if (s->rec.close)
        s->rec.close(s->rec.ud, kind, count);
}

/* ---- taping ------------------------------------------------------------- */

static __attribute__((noinline)) int tape_grow(scanner *s)
{
    omni__jtape *t = &s->tape;
    size_t cap = t->cap * 2;
    omni__jtape_ent *p;
    if (t->ents == t->local) {
        p = malloc(cap * sizeof(*p));
        if (p)
            memcpy(p, t->local, t->n * sizeof(*p));
    } else {
        p = realloc(t->ents, cap * sizeof(*p));
    }
    if (!p)
        return scan_fail(s, OMNI_ENOMEM, "out of memory");
    t->ents = p;
    t->cap = cap;
    return 0;
}

/* A value starts at s->p: its entry, with the pending key. */
static ALWAYS_INLINE int tape_open(scanner *s, uint32_t *idx)
{
    omni__jtape *t = &s->tape;
    if (t->n == t->cap && tape_grow(s))
        return s->status;
    omni__jtape_ent *e = &t->ents[t->n];
    e->start = (uint32_t)(s->p - s->start);
    e->key = s->key;
    e->klen = s->klen;
    s->klen = 0;
    *idx = (uint32_t)t->n++;
    return 0;
}

/* The value of entry idx ended before s->p. */
static ALWAYS_INLINE void tape_close(scanner *s, uint32_t idx)
{
    omni__jtape_ent *e = &s->tape.ents[idx];
    e->len = (uint32_t)(s->p - s->start) - e->start;
    e->next = (uint32_t)s->tape.n;
}

/* ---- tokens -------------------------------------------------------------- */

/* One UTF-8 sequence starting at s->p (a byte >= 0x80). */
static int scan_utf8(scanner *s)
{
    const unsigned char *p = s->p;
    size_t left = (size_t)(s->end - p);
    unsigned c = p[0];
    size_t n;
    unsigned min, cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2; min = 0x80; cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; min = 0x800; cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; min = 0x10000; cp = c & 0x07;
    } else {
        return scan_fail(s, OMNI_EJSON, "invalid UTF-8");
    }
    if (left < n)
        return scan_fail(s, OMNI_EJSON, "invalid UTF-8");
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return scan_fail(s, OMNI_EJSON, "invalid UTF-8");
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return scan_fail(s, OMNI_EJSON, "invalid UTF-8");
    s->p += n;
    return 0;
}

/* Bytes that continue a plain run in a string: printable ASCII but " and \. */
static const uint8_t plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0), /* 0x00..0x1F */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2F: " */
    R16(1), R16(1), /* 0x30..0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50..0x5F: \ */
    R16(1), R16(1), /* 0x60..0x7F */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

/* A string (s->p at its opening quote). Recording: its raw length and
 * whether it has escapes. */
static ALWAYS_INLINE int scan_string(scanner *s, const int record)
{
    const unsigned char *open = s->p;
    uint32_t escaped = 0;
    s->p++;
    while (s->p < s->end) {
        const unsigned char *q = s->p, *end = s->end;
        while (q < end && plain[*q])
            q++;
        s->p = q;
        if (q >= end)
            break;
        unsigned c = *q;
        if (c == '"') {
            size_t raw = (size_t)(q - open) - 1;
            s->p++;
            s->escaped = escaped;
            if (!record)
                return 0;
            s->rec.str_bytes += raw + 1;
            return rec_push(s, (uint32_t)raw | escaped);
        }
        if (c == '\\') {
            escaped = OMNI__JSON_ESCAPED;
            if (s->end - s->p < 2)
                break;
            unsigned e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6)
                    return scan_fail(s, OMNI_EJSON, "truncated \\u escape");
                for (int i = 2; i < 6; i++)
                    if (omni__hexval(s->p[i]) < 0)
                        return scan_fail(s, OMNI_EJSON, "invalid \\u escape");
                s->p += 6;
            } else if (e && strchr("\"\\/bfnrt", (int)e)) {
                s->p += 2;
            } else {
                return scan_fail(s, OMNI_EJSON, "invalid escape");
            }
        } else if (c < 0x20) {
            return scan_fail(s, OMNI_EJSON, "control character in string");
        } else if (c >= 0x80) {
            if (scan_utf8(s))
                return s->status;
        } else {
            s->p++; /* not reached: the table stops at no other byte */
        }
    }
    return scan_fail(s, OMNI_EJSON, "unterminated string");
}

static ALWAYS_INLINE int scan_number(scanner *s)
{
    const unsigned char *p = s->p;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return scan_fail(s, OMNI_EJSON, "invalid number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return scan_fail(s, OMNI_EJSON, "invalid number");
    }
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return scan_fail(s, OMNI_EJSON, "invalid number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return scan_fail(s, OMNI_EJSON, "invalid number");
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static ALWAYS_INLINE int scan_literal(scanner *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return scan_fail(s, OMNI_EJSON, "unexpected character");
    s->p += n;
    return 0;
}

/* An object member's key and its ':' (s->p before the key). */
static ALWAYS_INLINE int scan_key(scanner *s, const int record, const int tape)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return scan_fail(s, OMNI_EJSON, "expected a string key");
    const unsigned char *open = s->p;
    if (scan_string(s, record))
        return s->status;
    if (tape) {
        s->key = (uint32_t)(open - s->start);
        s->klen = (uint32_t)(s->p - open) | s->escaped;
    }
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return scan_fail(s, OMNI_EJSON, "expected ':'");
    s->p++;
    return 0;
}

/* ---- values -------------------------------------------------------------- */

/* One value, iteratively with an explicit container stack. */
static ALWAYS_INLINE int scan_value(scanner *s, const int record, const int tape)
{
    char stack[OMNI_LIMIT_JSON_DEPTH + 1];
    uint32_t sidx[OMNI_LIMIT_JSON_DEPTH + 1];   /* recording: each one's count slot */
    uint32_t scount[OMNI_LIMIT_JSON_DEPTH + 1]; /* recording: its children so far */
    uint32_t tidx[OMNI_LIMIT_JSON_DEPTH + 1];   /* taping: each one's entry */
    uint32_t ti = 0;
    int top = 0;
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end)
            return scan_fail(s, OMNI_EJSON, "unexpected end of input");
        if (record && top > 0)
            scount[top - 1]++;
        unsigned c = *s->p;
        int rc = 0;
        int opened = 0;
        if (tape && tape_open(s, &ti))
            return s->status;
        switch (c) {
        case '{':
        case '[':
            if (top >= OMNI_LIMIT_JSON_DEPTH)
                return scan_fail(s, OMNI_ETOODEEP, "nesting too deep");
            if (record) {
                if (rec_open(s, &sidx[top]))
                    return s->status;
                scount[top] = 0;
            }
            if (tape)
                tidx[top] = ti;
            stack[top++] = (char)c;
            s->p++;
            skip_ws(s);
            if (s->p < s->end && *s->p == (c == '{' ? '}' : ']')) {
                s->p++;
                top--;
                if (record)
                    rec_close(s, stack[top], sidx[top], 0);
            } else {
                opened = 1;
            }
            break;
        case '"': rc = scan_string(s, record); break;
        case 't': rc = scan_literal(s, "true", 4); break;
        case 'f': rc = scan_literal(s, "false", 5); break;
        case 'n': rc = scan_literal(s, "null", 4); break;
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                rc = scan_number(s);
            else
                return scan_fail(s, OMNI_EJSON, "unexpected character");
        }
        if (rc)
            return rc;
        if (opened) {
            /* an object's first key, or an array's first value */
            if (stack[top - 1] == '{' && scan_key(s, record, tape))
                return s->status;
            continue;
        }
        if (tape)
            tape_close(s, ti); /* a scalar, or a container closed at once */
        /* after a value: close containers or move to the next member */
        for (;;) {
            if (top == 0)
                return 0;
            skip_ws(s);
            if (s->p >= s->end)
                return scan_fail(s, OMNI_EJSON, "unexpected end of input");
            char open = stack[top - 1];
            if (*s->p == ',') {
                s->p++;
                if (open == '{' && scan_key(s, record, tape))
                    return s->status;
                break;
            }
            if (*s->p == (open == '{' ? '}' : ']')) {
                s->p++;
                top--;
                if (record)
                    rec_close(s, stack[top], sidx[top], scount[top]);
                if (tape)
                    tape_close(s, tidx[top]);
                continue;
            }
            return scan_fail(s, OMNI_EJSON,
                             open == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
}

static __attribute__((noinline)) int scan_value_plain(scanner *s)
{
    return scan_value(s, 0, 0);
}

static __attribute__((noinline)) int scan_value_record(scanner *s)
{
    return scan_value(s, 1, 0);
}

static __attribute__((noinline)) int scan_value_tape(scanner *s)
{
    return scan_value(s, 0, 1);
}

/* ---- the document -------------------------------------------------------- */

static int scan_error(const scanner *s, const char *what)
{
    if (s->status == OMNI_ENOMEM)
        return omni__err(OMNI_ENOMEM, "%s: out of memory", what);
    size_t off = (size_t)(s->p - s->start);
    size_t line = 1, col = 1;
    for (const unsigned char *q = s->start; q < s->p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else if ((*q & 0xC0) != 0x80) {
            col++;
        }
    }
    char details[96];
    snprintf(details, sizeof(details), "{\"offset\":%zu,\"line\":%zu,\"column\":%zu}", off, line,
             col);
    return omni__err_details(s->status, details, "%s: %s at line %zu, column %zu", what, s->why,
                             line, col);
}

static int scan_doc(const char *text, size_t len, size_t max_bytes, const char *what,
                    omni__json_rec *rec, omni__jtape *tape)
{
    if (!what)
        what = "JSON";
    if (!max_bytes)
        max_bytes = OMNI_LIMIT_JSON_BYTES;
    if (!text && len)
        return omni__err(OMNI_EINVAL, "%s: NULL text", what);
    if (len > max_bytes)
        return omni__err(OMNI_ETOOLARGE, "%s is %zu bytes, over the limit of %zu", what, len,
                         max_bytes);
    scanner s;
    s.p = s.start = (const unsigned char *)text;
    s.end = s.p + len;
    s.status = 0;
    s.why = NULL;
    s.key = s.klen = s.escaped = 0;
    if (rec)
        s.rec = *rec;
    if (tape)
        s.tape = *tape;
    if (len == 0) {
        scan_fail(&s, OMNI_EJSON, "empty document");
    } else if ((rec    ? scan_value_record(&s)
                : tape ? scan_value_tape(&s)
                       : scan_value_plain(&s)) == 0) {
        skip_ws(&s);
        if (s.p != s.end)
            scan_fail(&s, OMNI_EJSON, "trailing characters after the document");
    }
    if (rec)
        *rec = s.rec;
    if (tape)
        *tape = s.tape;
    if (s.status)
        return scan_error(&s, what);
    return OMNI_OK;
}

int omni__json_scan(const char *text, size_t len, size_t max_bytes, const char *what,
                    omni__json_rec *rec)
{
    return scan_doc(text, len, max_bytes, what, rec, NULL);
}

int omni__json_scan_tape(const char *text, size_t len, size_t max_bytes, const char *what,
                         omni__jtape *tape)
{
    if (len >= OMNI__JSON_ESCAPED)
        return omni__err(OMNI_ETOOLARGE, "%s is %zu bytes, too large to index",
                         what ? what : "JSON", len);
    tape->n = 0;
    return scan_doc(text, len, max_bytes, what, NULL, tape);
}

void omni__jtape_free(omni__jtape *tape)
{
    if (tape->ents != tape->local)
        free(tape->ents);
    tape->ents = NULL;
    tape->n = 0;
}

void omni__json_rec_free(omni__json_rec *rec)
{
    if (rec->counts != rec->local)
        free(rec->counts);
    rec->counts = NULL;
}
