/* The rule engine's matcher: resolves every field the rules reference once
 * (from JSON text with the span reader, skipping subtrees no rule reads, or
 * from a parsed omni_data), supplies time.* facts when needed, probes the
 * index with the resolved values to collect candidate rules (deduplicated
 * with a per-thread epoch stamp), sorts them into match order and
 * evaluates only those. Scratch space lives per thread (a pthread key; it
 * grows to the largest rule set used on the thread and is reused). */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include <omni/omni.h>
#include <omni/rules.h>

#include "../core/codec.h"
#include "../core/engine.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../core/json_span.h"
#include "../core/tz.h"
#include "../template/template_internal.h"
#include "regex.h"
#include "rules_internal.h"

/* a == b over n bytes (short strings: no call) */
static inline int bytes_eq(const char *a, const char *b, size_t n)
{
    if (n > 32)
        return memcmp(a, b, n) == 0;
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return 0;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return 0;
    return 1;
}

struct rr_eval {
    const omni_rules *r;
    uint32_t epoch;
    int in_use; /* 1: the thread's own, 2: a temporary one (released on give) */
    int failed;
    uint32_t *fstamp;
    rr_fact *facts;
    size_t fcap;
    uint32_t *tstamp;
    size_t tcap;
    uint32_t *rstamp, *cand, *matched;
    size_t rcap, nmatched;
    uint32_t *estamp; /* per index entry: substring needle already reported */
    size_t escap;
    rr_item *elems;
    size_t nelem, ecap;
    rr_arena arena;
};

/* ---- per-thread scratch ------------------------------------------------ */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void ev_destroy(rr_eval *ev)
{
    free(ev->fstamp);
    free(ev->facts);
    free(ev->tstamp);
    free(ev->rstamp);
    free(ev->cand);
    free(ev->matched);
    free(ev->estamp);
    free(ev->elems);
    omni__rr_arena_free(&ev->arena);
    free(ev);
}

static void scratch_destroy(void *p)
{
    ev_destroy(p);
}

static void scratch_init(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

static int grow_u32(uint32_t **p, size_t n)
{
    uint32_t *q = calloc(n, sizeof(uint32_t));
    if (!q)
        return -1;
    free(*p);
    *p = q;
    return 0;
}

static void ev_new_epoch(rr_eval *ev);

/* Takes the thread's scratch sized for r, with a fresh epoch. */
static rr_eval *ev_take(const omni_rules *r)
{
    pthread_once(&scratch_once, scratch_init);
    rr_eval *ev = scratch_key_ok ? pthread_getspecific(scratch_key) : NULL;
    if (!ev || ev->in_use) {
        rr_eval *own = ev;
        ev = calloc(1, sizeof(*ev));
        if (!ev)
            return NULL;
        ev->in_use = 2;
        if (!own && scratch_key_ok && pthread_setspecific(scratch_key, ev) == 0)
            ev->in_use = 1;
    } else {
        ev->in_use = 1;
    }
    ev->r = r;
    ev->failed = 0;
    ev->nelem = 0;
    ev->nmatched = 0;
    size_t nf = r->nfields ? r->nfields : 1, nt = r->ntnodes ? r->ntnodes : 1;
    size_t nr = r->nrules ? r->nrules : 1, ne = r->nentries ? r->nentries : 1;
    int bad = 0;
    if (ev->fcap < nf) {
        rr_fact *f = malloc(nf * sizeof(rr_fact));
        if (!f || grow_u32(&ev->fstamp, nf)) {
            free(f);
            bad = 1;
        } else {
            free(ev->facts);
            ev->facts = f;
            ev->fcap = nf;
        }
    }
    if (!bad && ev->tcap < nt) {
        if (grow_u32(&ev->tstamp, nt))
            bad = 1;
        else
            ev->tcap = nt;
    }
    if (!bad && ev->rcap < nr) {
        if (grow_u32(&ev->rstamp, nr) || grow_u32(&ev->cand, nr) || grow_u32(&ev->matched, nr))
            bad = 1;
        else
            ev->rcap = nr;
    }
    if (!bad && ev->escap < ne) {
        if (grow_u32(&ev->estamp, ne))
            bad = 1;
        else
            ev->escap = ne;
    }
    if (bad) {
        /* sizes stay consistent: drop everything */
        free(ev->fstamp);
        free(ev->facts);
        free(ev->tstamp);
        free(ev->rstamp);
        free(ev->cand);
        free(ev->matched);
        free(ev->estamp);
        ev->fstamp = ev->tstamp = ev->rstamp = ev->cand = ev->matched = ev->estamp = NULL;
        ev->facts = NULL;
        ev->fcap = ev->tcap = ev->rcap = ev->escap = 0;
        if (ev->in_use == 2)
            ev_destroy(ev);
        else
            ev->in_use = 0;
        return NULL;
    }
    ev_new_epoch(ev);
    omni__rr_arena_reset(&ev->arena);
    return ev;
}

/* A fresh epoch (forgets every stamp) for a second pass. */
static void ev_new_epoch(rr_eval *ev)
{
    if (++ev->epoch == 0) {
        memset(ev->fstamp, 0, ev->fcap * sizeof(uint32_t));
        memset(ev->tstamp, 0, ev->tcap * sizeof(uint32_t));
        memset(ev->rstamp, 0, ev->rcap * sizeof(uint32_t));
        if (ev->estamp)
            memset(ev->estamp, 0, ev->escap * sizeof(uint32_t));
        ev->epoch = 1;
    }
    ev->nelem = 0;
}

void omni__rr_eval_release(rr_eval *ev)
{
    if (!ev)
        return;
    if (ev->in_use == 2) {
        ev_destroy(ev);
        return;
    }
    if (ev->ecap > 65536) {
        free(ev->elems);
        ev->elems = NULL;
        ev->ecap = 0;
    }
    ev->in_use = 0;
}

/* ---- resolved values ---------------------------------------------------- */

static rr_item *elem_push(rr_eval *ev)
{
    if (ev->nelem == ev->ecap) {
        size_t nc = ev->ecap ? ev->ecap * 2 : 64;
        rr_item *p = realloc(ev->elems, nc * sizeof(rr_item));
        if (!p) {
            ev->failed = OMNI_ENOMEM;
            return NULL;
        }
        ev->elems = p;
        ev->ecap = nc;
    }
    rr_item *it = &ev->elems[ev->nelem++];
    it->have = 0;
    return it;
}

static inline uint32_t item_hash(rr_item *it)
{
    if (!(it->have & 1)) {
        it->hash = it->type == RR_STR ? omni__rr_khash(it->s, it->len)
                                      : omni__rr_val_hash(it->type, it->b, it->num, it->s, it->len);
        it->have |= 1;
    }
    return it->hash;
}

/* The folded string of a string item (in the arena); 0 on OOM. */
static int item_fold(rr_eval *ev, rr_item *it)
{
    if (it->have & 2)
        return 1;
    char *o = omni__rr_alloc(&ev->arena, it->len + 1);
    if (!o) {
        ev->failed = OMNI_ENOMEM;
        return 0;
    }
    it->flen = (uint32_t)omni__rr_fold(o, it->s, it->len);
    it->fs = o;
    it->have |= 2;
    return 1;
}

static inline uint32_t item_fhash(rr_item *it)
{
    if (!(it->have & 4)) {
        it->fhash = omni__rr_khash(it->fs, it->flen);
        it->have |= 4;
    }
    return it->fhash;
}

/* ---- JSON text ------------------------------------------------------------ */

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)p[i];
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* A validated string (p at its quote, n its raw span length with quotes):
 * the raw bytes when there is no escape, else decoded into the arena as
 * omni_data decodes it (lone surrogates become U+FFFD). */
static int decode_str(rr_eval *ev, const char *p, size_t n, const char **s, uint32_t *len)
{
    const char *b = p + 1, *e = p + n - 1;
    const char *bs = memchr(b, '\\', (size_t)(e - b));
    if (!bs) {
        *s = b;
        *len = (uint32_t)(e - b);
        return 0;
    }
    char *o0 = omni__rr_alloc(&ev->arena, (size_t)(e - b) + 1);
    if (!o0) {
        ev->failed = OMNI_ENOMEM;
        return -1;
    }
    char *o = o0;
    memcpy(o, b, (size_t)(bs - b));
    o += bs - b;
    const char *q = bs;
    while (q < e) {
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        char c = q[1];
        q += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = hex4(q);
            q += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && q + 6 <= e && q[0] == '\\' && q[1] == 'u') {
                unsigned lo = hex4(q + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    q += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            o = omni__utf8_put(o, cp);
            break;
        }
        default: *o++ = c; /* " \ / */
        }
    }
    *o = '\0';
    *s = o0;
    *len = (uint32_t)(o - o0);
    return 0;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A validated JSON number, correctly rounded (a fast exact path, strtod in
 * the C locale otherwise). */
static double parse_num(const char *p, size_t n)
{
    const char *e = p + n, *s0 = p;
    int neg = 0;
    if (p < e && *p == '-') {
        neg = 1;
        p++;
    }
    uint64_t m = 0;
    int digits = 0, exp10 = 0, exact = 1;
    while (p < e && *p >= '0' && *p <= '9') {
        if (digits < 19) {
            if (m || *p != '0') {
                m = m * 10 + (uint64_t)(*p - '0');
                digits++;
            }
        } else {
            exp10++;
            if (*p != '0')
                exact = 0;
        }
        p++;
    }
    if (p < e && *p == '.') {
        p++;
        while (p < e && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                if (m || *p != '0') {
                    m = m * 10 + (uint64_t)(*p - '0');
                    digits++;
                }
                exp10--;
            } else if (*p != '0') {
                exact = 0;
            }
            p++;
        }
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        int x = 0;
        while (p < e && *p >= '0' && *p <= '9') {
            if (x < 100000)
                x = x * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -x : x;
    }
    if (m == 0)
        return neg ? -0.0 : 0.0;
    if (exact && digits <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        return neg ? -v : v;
    }
    char small[64];
    size_t len = (size_t)(e - s0);
    char *buf = len < sizeof(small) ? small : malloc(len + 1);
    if (!buf)
        return NAN;
    memcpy(buf, s0, len);
    buf[len] = '\0';
    double v;
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c) {
        v = strtod_l(buf, NULL, c);
        freelocale(c);
    } else {
        v = strtod(buf, NULL);
    }
    if (buf != small)
        free(buf);
    return v;
}

/* A scalar (or a marker for containers) from a validated value span. */
static void item_from_span(rr_eval *ev, rr_item *it, const char *p, size_t n)
{
    it->have = 0;
    it->b = 0;
    switch (*p) {
    case '"':
        it->type = RR_STR;
        if (decode_str(ev, p, n, &it->s, &it->len))
            it->type = RR_NULL;
        break;
    case 't': it->type = RR_BOOL; it->b = 1; break;
    case 'f': it->type = RR_BOOL; break;
    case 'n': it->type = RR_NULL; break;
    case '[': it->type = RR_ARR; break;
    case '{': it->type = RR_OBJ; break;
    default:
        it->type = RR_NUM;
        it->num = parse_num(p, n);
    }
}

/* Iterates the elements of an array span: *p starts after '['. */
static int arr_next(const char **p, const char *e, omni__jspan *el)
{
    const char *q = omni__j_ws(*p, e);
    if (q < e && *q == ',')
        q = omni__j_ws(q + 1, e);
    if (q >= e || *q == ']')
        return 0;
    const char *v = q;
    q = omni__j_skip(q, e);
    el->p = v;
    el->n = (size_t)(q - v);
    *p = q;
    return el->n > 0;
}

static void set_fact_span(rr_eval *ev, uint32_t field, omni__jspan v)
{
    rr_fact *f = &ev->facts[field];
    ev->fstamp[field] = ev->epoch;
    f->dv = NULL;
    f->raw = v.p;
    f->rawlen = v.n;
    item_from_span(ev, &f->v, v.p, v.n);
    f->nelem = 0;
    if (f->v.type == RR_ARR) {
        f->elem = (uint32_t)ev->nelem;
        const char *p = v.p + 1, *e = v.p + v.n;
        omni__jspan el;
        while (arr_next(&p, e, &el)) {
            rr_item *it = elem_push(ev);
            if (!it)
                return;
            item_from_span(ev, it, el.p, el.n);
            f->nelem++;
        }
        f->v.len = f->nelem;
    }
}

static void visit_span(rr_eval *ev, const rr_tnode *t, omni__jspan v);

static void scan_obj(rr_eval *ev, const rr_tnode *t, omni__jspan obj)
{
    const omni_rules *r = ev->r;
    omni__jiter it;
    omni__jspan k, v;
    if (!omni__j_obj(&it, obj))
        return;
    while (omni__j_next(&it, &k, &v)) {
        const char *key = k.p + 1;
        size_t klen = k.n - 2;
        if (!memchr(key, '\\', klen)) {
            if (klen > 64)
                continue; /* longer than any path segment */
        } else {
            uint32_t n;
            if (klen > 6 * 64)
                continue;
            if (decode_str(ev, k.p, k.n, &key, &n))
                return;
            klen = n;
        }
        const rr_tnode *c = omni__rr_child(r, t, key, klen);
        if (c)
            visit_span(ev, c, v);
    }
}

static void visit_span(rr_eval *ev, const rr_tnode *c, omni__jspan v)
{
    const omni_rules *r = ev->r;
    uint32_t ti = (uint32_t)(c - r->tnodes);
    if (ev->tstamp[ti] == ev->epoch) {
        /* a repeated key: the last one wins, forget what the earlier set */
        for (uint32_t f = c->flo; f < c->fhi; f++)
            ev->fstamp[f] = 0;
    }
    ev->tstamp[ti] = ev->epoch;
    if (c->field)
        set_fact_span(ev, c->field - 1, v);
    if (!c->child_n || ev->failed)
        return;
    if (v.p[0] == '{') {
        scan_obj(ev, c, v);
    } else if (v.p[0] == '[' && c->max_index >= 0) {
        const char *p = v.p + 1, *e = v.p + v.n;
        omni__jspan el;
        int64_t i = 0;
        while (i <= c->max_index && arr_next(&p, e, &el)) {
            char num[24];
            int n = snprintf(num, sizeof(num), "%lld", (long long)i);
            const rr_tnode *g = omni__rr_child(r, c, num, (size_t)n);
            if (g)
                visit_span(ev, g, el);
            i++;
        }
    }
}

/* ---- JSON text in one pass ----------------------------------------------------
 *
 * The fast path of omni_rules_match: one pass that checks the document
 * exactly as lib/core/json_scan.c does (RFC 8259, strict UTF-8, no raw
 * control characters, at most OMNI_LIMIT_JSON_DEPTH nested containers)
 * and resolves the trie's fields on the way:
 *   - members under trie nodes are matched by length and first byte before
 *     their bytes are compared (no hashing below 9 children);
 *   - values no rule reads are skipped by an iterative validating skip
 *     (strings 16 bytes at a time), never decoded;
 *   - a field's value becomes its item directly (strings decoded only when
 *     they hold an escape; arrays of scalars collected as they are read).
 * Any problem makes it give up; the caller then runs omni__json_validate
 * for the error (and, should that accept the text, the two-pass path
 * above). */

typedef struct fscan {
    const unsigned char *p, *end;
    int depth;
    rr_eval *ev;
} fscan;

static const uint8_t fs_plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

static inline const unsigned char *ws(const unsigned char *p, const unsigned char *e)
{
    while (p < e && *p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The first byte at or after p that is '"', '\\', a control character or
 * not ASCII (e when none). */
static inline const unsigned char *plain_run(const unsigned char *p, const unsigned char *e)
{
#if defined(__SSE2__) && defined(__GNUC__)
    const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed: bytes 0x80-0xff are negative, so "< 0x20" takes them too */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                                 _mm_cmplt_epi8(v, sp));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t v, q, b;
        memcpy(&v, p, 8);
        q = v ^ (ones * '"');
        b = v ^ (ones * '\\');
        uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v;
        if (t & highs)
            break;
        p += 8;
    }
#endif
    while (p < e && fs_plain[*p])
        p++;
    return p;
}

static int fs_hex(unsigned c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* The rest of a string from p (a byte plain_run stopped at): the byte
 * after its closing quote, or NULL; *esc set when it holds an escape. */
static const unsigned char *str_rest(const unsigned char *p, const unsigned char *e, int *esc)
{
    for (;;) {
        if (p >= e)
            return NULL;
        unsigned c = *p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            *esc = 1;
            if (e - p < 2)
                return NULL;
            unsigned x = p[1];
            if (x == 'u') {
                if (e - p < 6 || !fs_hex(p[2]) || !fs_hex(p[3]) || !fs_hex(p[4]) ||
                    !fs_hex(p[5]))
                    return NULL;
                p += 6;
            } else if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' ||
                       x == 'r' || x == 't') {
                p += 2;
            } else {
                return NULL;
            }
        } else if (c < 0x80) {
            return NULL; /* a control character */
        } else {
            uint32_t cp;
            size_t k = omni__utf8_next(p, (size_t)(e - p), &cp);
            if (!k)
                return NULL;
            p += k;
        }
        p = plain_run(p, e);
    }
}

/* A string at p (its quote): the byte after its closing quote, or NULL;
 * *esc set when it holds an escape. */
static inline const unsigned char *str_end(const unsigned char *p, const unsigned char *e,
                                           int *esc)
{
    p = plain_run(p + 1, e);
    if (p < e && *p == '"')
        return p + 1;
    return str_rest(p, e, esc);
}

static inline int is_digit(unsigned c)
{
    return c - '0' < 10u;
}

/* A number at p: the byte after it, or NULL. */
static const unsigned char *num_end(const unsigned char *p, const unsigned char *e)
{
    if (p < e && *p == '-')
        p++;
    if (p >= e)
        return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < e && is_digit(*p))
            p++;
    } else {
        return NULL;
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p))
            return NULL;
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p | 0x20) == 'e') {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p))
            return NULL;
        while (p < e && is_digit(*p))
            p++;
    }
    return p;
}

/* true / false / null at p: the byte after it, or NULL. */
static inline const unsigned char *lit_end(const unsigned char *p, const unsigned char *e)
{
    if (e - p < 4)
        return NULL;
    uint32_t v;
    memcpy(&v, p, 4);
    if (*p == 'f') {
        if (e - p < 5 || p[4] != 'e')
            return NULL;
        return memcmp(&v, "fals", 4) == 0 ? p + 5 : NULL;
    }
    return memcmp(&v, *p == 't' ? "true" : "null", 4) == 0 ? p + 4 : NULL;
}

/* Skips (and checks) one value at s->p that no rule reads: iterative, the
 * open containers kept as bits (1: object) of `stack`. */
static int fs_skip(fscan *s)
{
    const unsigned char *p = s->p, *e = s->end;
    uint64_t stack = 0;
    int d = 0;
    int room = OMNI_LIMIT_JSON_DEPTH - s->depth; /* containers that may still open */
    int esc = 0;
value:
    p = ws(p, e);
    if (p >= e)
        return -1;
    switch (*p) {
    case '{':
        if (d >= room)
            return -1;
        stack |= (uint64_t)1 << d;
        d++;
        p = ws(p + 1, e);
        if (p < e && *p == '}') {
            p++;
            d--;
            goto after;
        }
        goto key;
    case '[':
        if (d >= room)
            return -1;
        stack &= ~((uint64_t)1 << d);
        d++;
        p = ws(p + 1, e);
        if (p < e && *p == ']') {
            p++;
            d--;
            goto after;
        }
        goto value;
    case '"':
        p = str_end(p, e, &esc);
        break;
    case 't':
    case 'f':
    case 'n':
        p = lit_end(p, e);
        break;
    default:
        p = num_end(p, e);
        break;
    }
    if (!p)
        return -1;
after:
    if (d == 0) {
        s->p = p;
        return 0;
    }
    p = ws(p, e);
    if (p >= e)
        return -1;
    if (stack & ((uint64_t)1 << (d - 1))) {
        if (*p == ',') {
            p = ws(p + 1, e);
            goto key;
        }
        if (*p != '}')
            return -1;
    } else {
        if (*p == ',') {
            p++;
            goto value;
        }
        if (*p != ']')
            return -1;
    }
    p++;
    d--;
    goto after;
key:
    if (p >= e || *p != '"')
        return -1;
    p = str_end(p, e, &esc);
    if (!p)
        return -1;
    p = ws(p, e);
    if (p >= e || *p != ':')
        return -1;
    p++;
    goto value;
}

/* Reads one value at s->p into item it: scalars as values (strings
 * decoded only when escaped), containers as markers (skipped). */
static int fs_item(fscan *s, rr_item *it)
{
    const unsigned char *p = s->p, *e = s->end;
    it->have = 0;
    it->b = 0;
    switch (*p) {
    case '"': {
        int esc = 0;
        const unsigned char *q = str_end(p, e, &esc);
        if (!q)
            return -1;
        it->type = RR_STR;
        if (!esc) {
            it->s = (const char *)p + 1;
            it->len = (uint32_t)(q - p - 2);
        } else if (decode_str(s->ev, (const char *)p, (size_t)(q - p), &it->s, &it->len)) {
            return -1;
        }
        s->p = q;
        return 0;
    }
    case 't':
    case 'f':
    case 'n': {
        const unsigned char *q = lit_end(p, e);
        if (!q)
            return -1;
        it->type = *p == 'n' ? RR_NULL : RR_BOOL;
        it->b = *p == 't';
        s->p = q;
        return 0;
    }
    case '{':
    case '[':
        it->type = *p == '{' ? RR_OBJ : RR_ARR;
        return fs_skip(s);
    default: {
        const unsigned char *q = num_end(p, e);
        if (!q)
            return -1;
        it->type = RR_NUM;
        it->num = parse_num((const char *)p, (size_t)(q - p));
        s->p = q;
        return 0;
    }
    }
}

static int fs_value(fscan *s, const rr_tnode *t);

/* The child of t for member key k[0..n) (raw bytes between the quotes). */
static inline const rr_tnode *fs_child(fscan *s, const rr_tnode *t, const unsigned char *k,
                                       size_t n, int esc)
{
    const omni_rules *r = s->ev->r;
    if (esc) {
        const char *key;
        uint32_t dn;
        if (n > 6 * 64 || decode_str(s->ev, (const char *)k - 1, n + 2, &key, &dn))
            return NULL;
        return omni__rr_child(r, t, key, dn);
    }
    if (n > 64 || n == 0)
        return n ? NULL : omni__rr_child(r, t, "", 0);
    if (t->tab_bits)
        return omni__rr_child(r, t, (const char *)k, n);
    const rr_tnode *c = &r->tnodes[t->child_off];
    for (uint32_t i = 0; i < t->child_n; i++, c++) {
        if (c->klen == n && (unsigned char)c->key[0] == k[0] &&
            bytes_eq(c->key, (const char *)k, n))
            return c;
    }
    return NULL;
}

/* The member value (or array element) for trie node c: stamps, repeated
 * keys, the field. */
static int fs_tracked(fscan *s, const rr_tnode *c)
{
    rr_eval *ev = s->ev;
    uint32_t ti = (uint32_t)(c - ev->r->tnodes);
    if (ev->tstamp[ti] == ev->epoch)
        for (uint32_t f = c->flo; f < c->fhi; f++)
            ev->fstamp[f] = 0;
    ev->tstamp[ti] = ev->epoch;
    if (!c->field)
        return fs_value(s, c);
    uint32_t fi = c->field - 1;
    rr_fact *f = &ev->facts[fi];
    const unsigned char *start = s->p;
    f->dv = NULL;
    f->nelem = 0;
    if (start >= s->end)
        return -1;
    if (*start == '[' && c->max_index < 0) {
        /* an array no trie node looks into: its elements as items */
        if (s->depth >= OMNI_LIMIT_JSON_DEPTH)
            return -1;
        s->depth++;
        f->v.type = RR_ARR;
        f->v.have = 0;
        f->elem = (uint32_t)ev->nelem;
        const unsigned char *e = s->end;
        s->p = ws(start + 1, e);
        if (s->p < e && *s->p == ']') {
            s->p++;
        } else {
            for (;;) {
                s->p = ws(s->p, e);
                if (s->p >= e)
                    return -1;
                rr_item *it = elem_push(ev);
                if (!it || fs_item(s, it))
                    return -1;
                f->nelem++;
                s->p = ws(s->p, e);
                if (s->p >= e)
                    return -1;
                if (*s->p == ',') {
                    s->p++;
                    continue;
                }
                if (*s->p != ']')
                    return -1;
                s->p++;
                break;
            }
        }
        s->depth--;
        f->v.len = f->nelem;
    } else if (*start == '{' || *start == '[') {
        if (fs_value(s, c))
            return -1;
        omni__jspan v = {(const char *)start, (size_t)(s->p - start)};
        set_fact_span(ev, fi, v);
        if (ev->failed)
            return -1;
    } else if (fs_item(s, &f->v)) {
        return -1;
    }
    f->raw = (const char *)start;
    f->rawlen = (size_t)(s->p - start);
    ev->fstamp[fi] = ev->epoch;
    return 0;
}

static int fs_object(fscan *s, const rr_tnode *t)
{
    const unsigned char *e = s->end;
    s->p = ws(s->p + 1, e);
    if (s->p < e && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (s->p >= e || *s->p != '"')
            return -1;
        const unsigned char *k = s->p + 1;
        int esc = 0;
        const unsigned char *q = str_end(s->p, e, &esc);
        if (!q)
            return -1;
        size_t klen = (size_t)(q - k) - 1;
        q = ws(q, e);
        if (q >= e || *q != ':')
            return -1;
        s->p = ws(q + 1, e);
        if (s->p >= e)
            return -1;
        const rr_tnode *c = fs_child(s, t, k, klen, esc);
        if (s->ev->failed)
            return -1;
        if (c) {
            if (fs_tracked(s, c))
                return -1;
        } else if (*s->p == '"') {
            /* the usual member no rule reads: a string */
            if (!(q = str_end(s->p, e, &esc)))
                return -1;
            s->p = q;
        } else if (fs_skip(s)) {
            return -1;
        }
        s->p = ws(s->p, e);
        if (s->p >= e)
            return -1;
        if (*s->p == ',') {
            s->p = ws(s->p + 1, e);
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        return -1;
    }
}

static int fs_array(fscan *s, const rr_tnode *t)
{
    const unsigned char *e = s->end;
    s->p = ws(s->p + 1, e);
    if (s->p < e && *s->p == ']') {
        s->p++;
        return 0;
    }
    int64_t i = 0;
    for (;;) {
        s->p = ws(s->p, e);
        if (s->p >= e)
            return -1;
        const rr_tnode *c = NULL;
        if (i <= t->max_index) {
            const rr_tnode *k = &s->ev->r->tnodes[t->child_off];
            for (uint32_t j = 0; j < t->child_n; j++, k++)
                if (k->index == i) {
                    c = k;
                    break;
                }
        }
        if (c ? fs_tracked(s, c) : fs_skip(s))
            return -1;
        i++;
        s->p = ws(s->p, e);
        if (s->p >= e)
            return -1;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        return -1;
    }
}

/* A value under trie node t (t has children to look for, or is NULL). */
static int fs_value(fscan *s, const rr_tnode *t)
{
    if (s->p >= s->end)
        return -1;
    unsigned c = *s->p;
    if (!t || !t->child_n || (c != '{' && (c != '[' || t->max_index < 0)))
        return fs_skip(s);
    if (s->depth >= OMNI_LIMIT_JSON_DEPTH)
        return -1;
    s->depth++;
    int rc = c == '{' ? fs_object(s, t) : fs_array(s, t);
    s->depth--;
    return rc;
}

/* 0 when the document was checked and resolved in one pass. */
static int fast_scan(rr_eval *ev, const char *text, size_t len)
{
    fscan s;
    s.p = (const unsigned char *)text;
    s.end = s.p + len;
    s.depth = 0;
    s.ev = ev;
    s.p = ws(s.p, s.end);
    if (s.p >= s.end || *s.p != '{')
        return -1;
    ev->tstamp[0] = ev->epoch;
    if (fs_value(&s, &ev->r->tnodes[0]))
        return -1;
    s.p = ws(s.p, s.end);
    return s.p == s.end ? 0 : -1;
}

/* ---- parsed data ------------------------------------------------------------ */

static void item_from_value(rr_item *it, const omni_value *v)
{
    it->have = 0;
    it->b = 0;
    switch (v->type) {
    case OMNI_VALUE_STRING:
        it->type = RR_STR;
        it->s = v->u.str;
        it->len = v->n;
        break;
    case OMNI_VALUE_NUMBER:
        it->type = RR_NUM;
        it->num = v->u.num;
        break;
    case OMNI_VALUE_BOOL:
        it->type = RR_BOOL;
        it->b = v->u.boolean ? 1 : 0;
        break;
    case OMNI_VALUE_ARRAY: it->type = RR_ARR; break;
    case OMNI_VALUE_OBJECT: it->type = RR_OBJ; break;
    case OMNI_VALUE_NULL: it->type = RR_NULL; break;
    default: it->type = RR_MISSING; break;
    }
}

static void set_fact_value(rr_eval *ev, uint32_t field, const omni_value *v)
{
    rr_fact *f = &ev->facts[field];
    item_from_value(&f->v, v);
    if (f->v.type == RR_MISSING)
        return;
    ev->fstamp[field] = ev->epoch;
    f->dv = v;
    f->raw = NULL;
    f->nelem = 0;
    if (f->v.type == RR_ARR) {
        f->elem = (uint32_t)ev->nelem;
        for (uint32_t i = 0; i < v->n; i++) {
            rr_item *it = elem_push(ev);
            if (!it)
                return;
            item_from_value(it, &v->u.items[i]);
        }
        f->nelem = v->n;
        f->v.len = v->n;
    }
}

static void visit_value(rr_eval *ev, const rr_tnode *t, const omni_value *v)
{
    const omni_rules *r = ev->r;
    const rr_tnode *c = &r->tnodes[t->child_off];
    for (uint32_t k = 0; k < t->child_n; k++, c++) {
        const omni_value *m = NULL;
        if (v->type == OMNI_VALUE_OBJECT) {
            m = omni__value_member(v, c->key, c->klen, c->hash);
        } else if (v->type == OMNI_VALUE_ARRAY && c->index >= 0 && c->index < (int64_t)v->n) {
            m = &v->u.items[c->index];
        }
        if (!m)
            continue;
        ev->tstamp[c - r->tnodes] = ev->epoch;
        if (c->field)
            set_fact_value(ev, c->field - 1, m);
        if (c->child_n && (m->type == OMNI_VALUE_OBJECT || m->type == OMNI_VALUE_ARRAY))
            visit_value(ev, c, m);
        if (ev->failed)
            return;
    }
}

/* ---- time.* ------------------------------------------------------------------ */

static const char *const weekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};

static void set_synth(rr_eval *ev, uint32_t field, int type, double num, const char *s,
                      size_t n, const char *raw, size_t rawlen)
{
    rr_fact *f = &ev->facts[field];
    ev->fstamp[field] = ev->epoch;
    memset(f, 0, sizeof(*f));
    f->v.type = (uint8_t)type;
    f->v.num = num;
    f->v.s = s;
    f->v.len = (uint32_t)n;
    f->raw = raw;
    f->rawlen = rawlen;
}

static void synth_time(rr_eval *ev, int64_t now_ms)
{
    const omni_rules *r = ev->r;
    const rr_tnode *t = &r->tnodes[r->time_node];
    if (ev->tstamp[r->time_node] == ev->epoch)
        return; /* the facts have their own "time" */
    if (now_ms == 0)
        now_ms = omni__system_now_ms();
    int64_t s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    int32_t off = 0;
    if (omni__tz_offset(r->tz, s, &off, NULL, NULL) != 0)
        off = 0;
    omni__civil cv;
    omni__civil_from_seconds(s + off, &cv);
    char *buf = omni__rr_alloc(&ev->arena, 256);
    if (!buf) {
        ev->failed = OMNI_ENOMEM;
        return;
    }
    /* date "YYYY-MM-DD" at 0, clock "HH:MM" at 32, the object at 64 */
    char date[32], clock[16];
    int dn = snprintf(date, sizeof(date), "%04lld-%02d-%02d", (long long)cv.year, cv.month,
                      cv.day);
    if (dn < 0 || dn >= (int)sizeof(date))
        date[0] = '\0';
    snprintf(clock, sizeof(clock), "%02d:%02d", cv.hour, cv.minute);
    memcpy(buf, date, sizeof(date));
    memcpy(buf + 32, clock, sizeof(clock));
    int iso = cv.weekday == 0 ? 7 : cv.weekday;
    int on = snprintf(buf + 64, 192,
                      "{\"hour\":%d,\"minute\":%d,\"weekday\":\"%s\",\"isoWeekday\":%d,"
                      "\"date\":\"%s\",\"clock\":\"%s\",\"epochMs\":%lld}",
                      cv.hour, cv.minute, weekdays[cv.weekday], iso, date, clock,
                      (long long)now_ms);
    if (on < 0 || on >= 192)
        on = 0;
    if (t->field)
        set_synth(ev, t->field - 1, RR_OBJ, 0, NULL, 0, buf + 64, (size_t)on);
    const rr_tnode *c = &r->tnodes[t->child_off];
    for (uint32_t k = 0; k < t->child_n; k++, c++) {
        if (!c->field)
            continue;
        uint32_t f = c->field - 1;
        const char *key = c->key;
        char nb[32];
        double num;
        if (strcmp(key, "hour") == 0 || strcmp(key, "minute") == 0 ||
            strcmp(key, "isoWeekday") == 0 || strcmp(key, "epochMs") == 0) {
            num = key[0] == 'h' ? cv.hour : key[0] == 'm' ? cv.minute
                                          : key[0] == 'i' ? iso : (double)now_ms;
            int n = snprintf(nb, sizeof(nb), "%lld", (long long)num);
            char *raw = omni__rr_strdup(&ev->arena, nb, (size_t)n);
            if (!raw) {
                ev->failed = OMNI_ENOMEM;
                return;
            }
            set_synth(ev, f, RR_NUM, num, NULL, 0, raw, (size_t)n);
        } else if (strcmp(key, "weekday") == 0 || strcmp(key, "date") == 0 ||
                   strcmp(key, "clock") == 0) {
            const char *sv = key[0] == 'w' ? weekdays[cv.weekday] : key[0] == 'd' ? buf
                                                                                   : buf + 32;
            size_t sn = strlen(sv);
            char *raw = omni__rr_alloc(&ev->arena, sn + 3);
            if (!raw) {
                ev->failed = OMNI_ENOMEM;
                return;
            }
            raw[0] = '"';
            memcpy(raw + 1, sv, sn);
            raw[sn + 1] = '"';
            raw[sn + 2] = '\0';
            set_synth(ev, f, RR_STR, 0, raw + 1, sn, raw, sn + 2);
        }
    }
}

/* ---- candidates ---------------------------------------------------------------- */

static inline void add_posts(rr_eval *ev, const rr_entry *e, size_t *nc)
{
    const uint32_t *p = ev->r->postings + e->post_off;
    uint32_t ep = ev->epoch;
    for (uint32_t i = 0; i < e->post_n; i++) {
        uint32_t rank = p[i];
        if (ev->rstamp[rank] != ep) {
            ev->rstamp[rank] = ep;
            ev->cand[(*nc)++] = rank;
        }
    }
}

static inline const rr_entry *lookup(const omni_rules *r, int kind, uint32_t field, uint32_t vh,
                                     int type, int b, double num, const char *s, size_t len)
{
    uint32_t h = omni__rr_key_hash(vh, field, kind);
    uint32_t mask = (1u << r->ebits) - 1;
    for (uint32_t slot = h & mask; r->etab[slot]; slot = (slot + 1) & mask) {
        const rr_entry *e = &r->entries[r->etab[slot] - 1];
        if (e->hash != h || e->field != field || e->kind != kind || e->v.type != type)
            continue;
        switch (type) {
        case RR_STR:
            if (e->v.len == len && bytes_eq(e->v.s, s, len))
                return e;
            break;
        case RR_NUM:
            if (e->v.num == num)
                return e;
            break;
        case RR_BOOL:
            if (e->v.b == b)
                return e;
            break;
        default:
            return e;
        }
    }
    return NULL;
}

static void probe_prefix(rr_eval *ev, uint32_t field, int kind, const uint32_t *lens, uint32_t n,
                         const char *s, size_t len, size_t *nc)
{
    uint32_t h = 2166136261u;
    size_t pos = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t L = lens[k];
        if (L > len)
            break;
        for (; pos < L; pos++) {
            h ^= (unsigned char)s[pos];
            h *= 16777619u;
        }
        const rr_entry *e = lookup(ev->r, kind, field, h, RR_STR, 0, 0, s, L);
        if (e)
            add_posts(ev, e, nc);
    }
}

/* A substring needle found: entry out[st] - 1 (when st ends one) and the
 * needles ending at its suffixes, each once per evaluation (a reported
 * entry's whole suffix chain was reported with it, so the walk stops). */
static void acm_report(rr_eval *ev, const rr_acm *a, uint32_t st, size_t *nc)
{
    uint32_t u = a->out[st] ? st : a->dict[st];
    uint32_t ep = ev->epoch;
    while (u) {
        uint32_t ei = a->out[u] - 1;
        if (ev->estamp[ei] == ep)
            break;
        ev->estamp[ei] = ep;
        add_posts(ev, &ev->r->entries[ei], nc);
        u = a->dict[u];
    }
}

/* The substring entries occurring in s[0..n): one DFA step per byte. */
static void probe_acm(rr_eval *ev, const rr_acm *a, const char *s, size_t n, size_t *nc)
{
    if (a->out[0] && ev->estamp[a->out[0] - 1] != ev->epoch) {
        /* the empty needle */
        ev->estamp[a->out[0] - 1] = ev->epoch;
        add_posts(ev, &ev->r->entries[a->out[0] - 1], nc);
    }
    const uint32_t *delta = a->delta;
    const uint8_t *cls = a->cls;
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    uint32_t st = 0;
    for (; p < e; p++) {
        uint32_t t = delta[st + cls[*p]];
        st = t & ~RR_ACM_OUT;
        if (t & RR_ACM_OUT)
            acm_report(ev, a, st / a->nclass, nc);
    }
}

/* The substring entries of a field's list found in s[0..n) (memmem each;
 * a field whose automaton would be too large). */
static void probe_subs(rr_eval *ev, const uint32_t *subs, uint32_t k, const char *s, size_t n,
                       size_t *nc)
{
    const omni_rules *r = ev->r;
    for (uint32_t i = 0; i < k; i++) {
        const rr_entry *e = &r->entries[subs[i]];
        if (e->v.len <= n && memmem(s, n, e->v.s, e->v.len))
            add_posts(ev, e, nc);
    }
}

static void probe_item(rr_eval *ev, uint32_t field, const rr_findex *fx, rr_item *it, int scalar,
                       size_t *nc)
{
    const omni_rules *r = ev->r;
    uint32_t kinds = fx->kinds;
    if (it->type == RR_ARR || it->type == RR_OBJ || it->type == RR_MISSING)
        return;
    if (kinds & (1u << RR_K_EQ)) {
        const rr_entry *e = lookup(r, RR_K_EQ, field, item_hash(it), it->type, it->b, it->num,
                                   it->s, it->len);
        if (e)
            add_posts(ev, e, nc);
    }
    if (it->type != RR_STR)
        return;
    if (kinds & (1u << RR_K_PRE))
        probe_prefix(ev, field, RR_K_PRE, r->lens + fx->pre_off, fx->pre_n, it->s, it->len, nc);
    if (scalar && (kinds & (1u << RR_K_SUB))) {
        if (fx->sub_acm)
            probe_acm(ev, &r->acms[fx->sub_acm - 1], it->s, it->len, nc);
        else
            probe_subs(ev, r->subs + fx->sub_off, fx->sub_n, it->s, it->len, nc);
    }
    if (!(kinds & ((1u << RR_K_IEQ) | (1u << RR_K_IPRE) | (1u << RR_K_ISUB))))
        return;
    if (!item_fold(ev, it))
        return;
    if (kinds & (1u << RR_K_IEQ)) {
        const rr_entry *e = lookup(r, RR_K_IEQ, field, item_fhash(it), RR_STR, 0, 0, it->fs,
                                   it->flen);
        if (e)
            add_posts(ev, e, nc);
    }
    if (kinds & (1u << RR_K_IPRE))
        probe_prefix(ev, field, RR_K_IPRE, r->lens + fx->ipre_off, fx->ipre_n, it->fs, it->flen,
                     nc);
    if (scalar && (kinds & (1u << RR_K_ISUB))) {
        if (fx->isub_acm)
            probe_acm(ev, &r->acms[fx->isub_acm - 1], it->fs, it->flen, nc);
        else
            probe_subs(ev, r->subs + fx->isub_off, fx->isub_n, it->fs, it->flen, nc);
    }
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Candidate ranks in match order into ev->cand; returns their count. */
static size_t candidates(rr_eval *ev)
{
    const omni_rules *r = ev->r;
    size_t nc = 0;
    for (size_t i = 0; i < r->nifields; i++) {
        uint32_t f = r->ifields[i];
        if (ev->fstamp[f] != ev->epoch)
            continue;
        const rr_findex *fx = &r->findex[f];
        rr_fact *fact = &ev->facts[f];
        if (fx->exists_entry)
            add_posts(ev, &r->entries[fx->exists_entry - 1], &nc);
        if (fact->v.type == RR_ARR) {
            for (uint32_t k = 0; k < fact->nelem; k++)
                probe_item(ev, f, fx, &ev->elems[fact->elem + k], 0, &nc);
        } else {
            probe_item(ev, f, fx, &fact->v, 1, &nc);
        }
    }
    for (size_t i = 0; i < r->nalways; i++) {
        uint32_t rank = r->always[i];
        if (ev->rstamp[rank] != ev->epoch) {
            ev->rstamp[rank] = ev->epoch;
            ev->cand[nc++] = rank;
        }
    }
    uint32_t *c = ev->cand;
    if (nc <= 1)
        return nc;
    if (nc <= 24) {
        for (size_t i = 1; i < nc; i++) {
            uint32_t x = c[i];
            size_t j = i;
            while (j > 0 && c[j - 1] > x) {
                c[j] = c[j - 1];
                j--;
            }
            c[j] = x;
        }
    } else if (nc * 16 >= r->nrules) {
        size_t k = 0;
        for (uint32_t rank = 0; rank < r->nrules; rank++)
            if (ev->rstamp[rank] == ev->epoch)
                c[k++] = rank;
    } else {
        qsort(c, nc, sizeof(uint32_t), cmp_u32);
    }
    return nc;
}

/* ---- conditions ------------------------------------------------------------------- */

static int item_eq_val(rr_eval *ev, rr_item *it, const rr_val *v, int ic)
{
    if (it->type != v->type)
        return 0;
    switch (v->type) {
    case RR_STR:
        if (ic) {
            if (!item_fold(ev, it))
                return 0;
            return it->flen == v->len && bytes_eq(it->fs, v->s, v->len);
        }
        return it->len == v->len && bytes_eq(it->s, v->s, v->len);
    case RR_NUM: return it->num == v->num;
    case RR_BOOL: return it->b == v->b;
    default: return 1;
    }
}

static int set_has(rr_eval *ev, const rr_set *set, rr_item *it, int ic)
{
    if (it->type == RR_ARR || it->type == RR_OBJ || it->type == RR_MISSING)
        return 0;
    if (!set->bits) {
        for (uint32_t k = 0; k < set->n; k++)
            if (item_eq_val(ev, it, &set->v[k], ic))
                return 1;
        return 0;
    }
    uint32_t h;
    if (ic && it->type == RR_STR) {
        if (!item_fold(ev, it))
            return 0;
        h = item_fhash(it);
    } else {
        h = item_hash(it);
    }
    uint32_t mask = (1u << set->bits) - 1;
    for (uint32_t s = h & mask; set->tab[s]; s = (s + 1) & mask)
        if (set->v[set->tab[s] - 1].hash == h && item_eq_val(ev, it, &set->v[set->tab[s] - 1], ic))
            return 1;
    return 0;
}

/* The string of an item to compare (folded with ignoreCase). */
static int item_text(rr_eval *ev, rr_item *it, int ic, const char **s, size_t *n)
{
    if (it->type != RR_STR)
        return 0;
    if (ic) {
        if (!item_fold(ev, it))
            return 0;
        *s = it->fs;
        *n = it->flen;
    } else {
        *s = it->s;
        *n = it->len;
    }
    return 1;
}

static int strcmp_n(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

/* <0, 0, >0, or 2 when not comparable. */
static int item_cmp(rr_eval *ev, rr_item *it, const rr_val *v, int ic)
{
    if (it->type == RR_NUM && v->type == RR_NUM)
        return it->num < v->num ? -1 : it->num > v->num;
    const char *s;
    size_t n;
    if (v->type == RR_STR && item_text(ev, it, ic, &s, &n)) {
        int c = strcmp_n(s, n, v->s, v->len);
        return c < 0 ? -1 : c > 0;
    }
    return 2;
}

/* The positive operator on one scalar (or container marker) item. */
static int item_test(rr_eval *ev, const rr_node *n, rr_item *it)
{
    int ic = (n->flags & RR_F_ICASE) != 0;
    const char *s;
    size_t len;
    int c;
    switch (n->op) {
    case RR_OP_EQ:
    case RR_OP_NE:
    case RR_OP_EQI:
        return item_eq_val(ev, it, &n->v, ic);
    case RR_OP_IN:
    case RR_OP_NOTIN:
        return set_has(ev, &n->set, it, ic);
    case RR_OP_ANYBUT:
        return !set_has(ev, &n->set, it, ic);
    case RR_OP_CONTAINS:
    case RR_OP_NOTCONTAINS:
        return n->v.type == RR_STR && item_text(ev, it, ic, &s, &len) && n->v.len <= len &&
               memmem(s, len, n->v.s, n->v.len) != NULL;
    case RR_OP_STARTS:
        return item_text(ev, it, ic, &s, &len) && n->v.len <= len &&
               bytes_eq(s, n->v.s, n->v.len);
    case RR_OP_ENDS:
        return item_text(ev, it, ic, &s, &len) && n->v.len <= len &&
               bytes_eq(s + len - n->v.len, n->v.s, n->v.len);
    case RR_OP_GT:
        c = item_cmp(ev, it, &n->v, ic);
        return c == 1;
    case RR_OP_GE:
        c = item_cmp(ev, it, &n->v, ic);
        return c == 1 || c == 0;
    case RR_OP_LT:
        c = item_cmp(ev, it, &n->v, ic);
        return c == -1;
    case RR_OP_LE:
        c = item_cmp(ev, it, &n->v, ic);
        return c == -1 || c == 0;
    case RR_OP_BETWEEN: {
        int lo = item_cmp(ev, it, &n->v, ic);
        if (lo != 0 && lo != 1)
            return 0;
        int hi = item_cmp(ev, it, &n->v2, ic);
        return hi == 0 || hi == -1;
    }
    case RR_OP_MATCHES:
        return it->type == RR_STR && omni__regex_search(n->re, it->s, it->len) == 1;
    default:
        return 0;
    }
}

static const rr_fact *fact_of(const rr_eval *ev, uint32_t field)
{
    return ev->fstamp[field] == ev->epoch ? &ev->facts[field] : NULL;
}

static int eval_cond(rr_eval *ev, const rr_node *n)
{
    rr_fact *f = (rr_fact *)fact_of(ev, n->field);
    int op = n->op;
    int neg = op == RR_OP_NE || op == RR_OP_NOTIN || op == RR_OP_NOTCONTAINS;
    if (op == RR_OP_EXISTS)
        return (f != NULL) == n->v.b;
    if (!f)
        return neg && !(op == RR_OP_NOTCONTAINS && (n->flags & RR_F_STRICT));
    int r = 0;
    if (n->flags & RR_F_STRICT) {
        if (op == RR_OP_CONTAINS || op == RR_OP_NOTCONTAINS) {
            if (f->v.type != RR_ARR)
                return 0;
            for (uint32_t k = 0; k < f->nelem && !r; k++)
                r = item_eq_val(ev, &ev->elems[f->elem + k], &n->v, 0);
            return op == RR_OP_CONTAINS ? r : !r;
        }
        if (op >= RR_OP_GT && op <= RR_OP_LE && f->v.type != RR_NUM)
            return 0;
        if (f->v.type != RR_ARR && f->v.type != RR_OBJ)
            r = item_test(ev, n, &f->v);
        return neg ? !r : r;
    }
    if (f->v.type == RR_ARR) {
        int ic = (n->flags & RR_F_ICASE) != 0;
        for (uint32_t k = 0; k < f->nelem && !r; k++) {
            rr_item *it = &ev->elems[f->elem + k];
            if (op == RR_OP_CONTAINS || op == RR_OP_NOTCONTAINS)
                r = item_eq_val(ev, it, &n->v, ic && n->v.type == RR_STR);
            else
                r = item_test(ev, n, it);
        }
    } else if (f->v.type == RR_OBJ) {
        r = op == RR_OP_ANYBUT;
    } else {
        r = item_test(ev, n, &f->v);
    }
    return neg ? !r : r;
}

/* Explain: the fact's JSON. */
static void write_actual(omni_buf *b, const rr_fact *f)
{
    if (f->dv)
        omni__value_write_json(b, f->dv);
    else if (f->raw)
        omni__json_w_raw(b, f->raw, f->rawlen);
    else
        omni__json_w_null(b);
}

static int eval_node(rr_eval *ev, const rr_node *nodes, uint32_t i, omni_buf *ex)
{
    const rr_node *n = &nodes[i];
    uint32_t end = i + n->size;
    switch (n->kind) {
    case RR_N_ALL:
        for (uint32_t k = i + 1; k < end; k += nodes[k].size)
            if (!eval_node(ev, nodes, k, ex))
                return 0;
        return 1;
    case RR_N_ANY:
        for (uint32_t k = i + 1; k < end; k += nodes[k].size)
            if (eval_node(ev, nodes, k, ex))
                return 1;
        return 0;
    case RR_N_NOT:
        return i + 1 < end ? !eval_node(ev, nodes, i + 1, ex) : 1;
    default: {
        int r = eval_cond(ev, n);
        if (ex) {
            omni__json_w_obj_begin(ex);
            omni__json_w_keyl(ex, "path");
            omni__json_w_str(ex, n->path);
            omni__json_w_keyl(ex, "field");
            omni__json_w_str(ex, n->field_name ? n->field_name : "");
            if (n->jpath) {
                omni__json_w_keyl(ex, "jsonPath");
                omni__json_w_str(ex, n->jpath);
            }
            omni__json_w_keyl(ex, "operator");
            omni__json_w_str(ex, n->op_name ? n->op_name : omni__rr_op_name(n->op));
            if (n->value_json) {
                omni__json_w_keyl(ex, "value");
                omni__json_w_raw(ex, n->value_json, strlen(n->value_json));
            }
            const rr_fact *f = fact_of(ev, n->field);
            if (f) {
                omni__json_w_keyl(ex, "actual");
                write_actual(ex, f);
            }
            omni__json_w_keyl(ex, "result");
            omni__json_w_bool(ex, r);
            omni__json_w_obj_end(ex);
        }
        return r;
    }
    }
}

int omni__rr_explain_rule(rr_eval *ev, const omni_rules *r, uint32_t idx, omni_buf *b)
{
    const rr_rule *rule = &r->rules[idx];
    return eval_node(ev, r->nodes + rule->node_off, 0, b);
}

/* After resolution: candidates, evaluation, stop. */
static int finish(rr_eval *ev, int64_t now_ms)
{
    const omni_rules *r = ev->r;
    if (!ev->failed && r->time_node >= 0)
        synth_time(ev, now_ms);
    if (ev->failed)
        return omni__err(ev->failed, "rules: out of memory");
    size_t nc = candidates(ev);
    if (ev->failed)
        return omni__err(ev->failed, "rules: out of memory");
    size_t nm = 0;
    for (size_t k = 0; k < nc; k++) {
        uint32_t idx = r->by_rank[ev->cand[k]];
        const rr_rule *rule = &r->rules[idx];
        if (eval_node(ev, r->nodes + rule->node_off, 0, NULL)) {
            ev->matched[nm++] = idx;
            if (rule->has_stop)
                break;
        }
    }
    ev->nmatched = nm;
    if (ev->failed)
        return omni__err(ev->failed, "rules: out of memory");
    return OMNI_OK;
}

int omni__rr_match_value(const omni_rules *r, const omni_value *root, int64_t now_ms,
                         rr_eval **ev_out, const uint32_t **matched, size_t *nmatched)
{
    *ev_out = NULL;
    if (root->type != OMNI_VALUE_OBJECT)
        return omni__err(OMNI_EJSON, "rules: the facts must be a JSON object");
    rr_eval *ev = ev_take(r);
    if (!ev)
        return omni__err(OMNI_ENOMEM, "rules: out of memory");
    visit_value(ev, &r->tnodes[0], root);
    int st = finish(ev, now_ms);
    if (st) {
        omni__rr_eval_release(ev);
        return st;
    }
    *ev_out = ev;
    *matched = ev->matched;
    *nmatched = ev->nmatched;
    return OMNI_OK;
}

static int check_args(const omni_rules *r, const uint32_t *idx, size_t cap, size_t *count)
{
    if (count)
        *count = 0;
    if (!r)
        return omni__err(OMNI_EINVAL, "rules: rules is NULL");
    if (!count)
        return omni__err(OMNI_EINVAL, "rules: count is NULL");
    if (!idx && cap)
        return omni__err(OMNI_EINVAL, "rules: idx is NULL with cap > 0");
    return OMNI_OK;
}

static void copy_out(const rr_eval *ev, uint32_t *idx, size_t cap, size_t *count)
{
    size_t n = ev->nmatched < cap ? ev->nmatched : cap;
    if (n)
        memcpy(idx, ev->matched, n * sizeof(uint32_t));
    *count = ev->nmatched;
}

int omni_rules_match(const omni_rules *r, const char *facts_json, size_t len, int64_t now_ms,
                     uint32_t *idx, size_t cap, size_t *count)
{
    int st = check_args(r, idx, cap, count);
    if (st)
        return st;
    if (!facts_json)
        return omni__err(OMNI_EINVAL, "rules: facts is NULL");
    if (len > OMNI_RULES_MAX_FACTS)
        return omni__err(OMNI_ETOOLARGE, "rules: the facts are larger than %u bytes",
                         OMNI_RULES_MAX_FACTS);
    rr_eval *ev = ev_take(r);
    if (!ev)
        return omni__err(OMNI_ENOMEM, "rules: out of memory");
    if (fast_scan(ev, facts_json, len) != 0) {
        if (ev->failed) {
            omni__rr_eval_release(ev);
            return omni__err(ev->failed, "rules: out of memory");
        }
        /* not JSON (the validator says why), not an object, or (never
         * expected) text the one-pass reader refused: two passes */
        st = omni__json_validate(facts_json, len, OMNI_RULES_MAX_FACTS, "facts");
        omni__jspan root = omni__j_root(facts_json, len);
        if (!st && !omni__j_is(root, '{'))
            st = omni__err(OMNI_EJSON, "rules: the facts must be a JSON object");
        if (st) {
            omni__rr_eval_release(ev);
            return st;
        }
        ev_new_epoch(ev);
        ev->tstamp[0] = ev->epoch;
        scan_obj(ev, &r->tnodes[0], root);
    }
    st = finish(ev, now_ms);
    if (!st)
        copy_out(ev, idx, cap, count);
    omni__rr_eval_release(ev);
    return st;
}

int omni_rules_match_data(const omni_rules *r, const omni_data *facts, int64_t now_ms,
                          uint32_t *idx, size_t cap, size_t *count)
{
    int st = check_args(r, idx, cap, count);
    if (st)
        return st;
    if (!facts)
        return omni__err(OMNI_EINVAL, "rules: facts is NULL");
    rr_eval *ev;
    const uint32_t *m;
    size_t n;
    st = omni__rr_match_value(r, omni_data_root(facts), now_ms, &ev, &m, &n);
    if (st)
        return st;
    copy_out(ev, idx, cap, count);
    omni__rr_eval_release(ev);
    return OMNI_OK;
}

int omni__rr_candidate_count(const omni_rules *r, const char *facts_json, size_t len,
                             size_t *n)
{
    *n = 0;
    rr_eval *ev = ev_take(r);
    if (!ev)
        return omni__err(OMNI_ENOMEM, "rules: out of memory");
    int st = OMNI_OK;
    if (fast_scan(ev, facts_json, len) != 0) {
        st = omni__err(OMNI_EJSON, "rules: the facts are not a JSON object");
    } else {
        if (r->time_node >= 0)
            synth_time(ev, 0);
        *n = candidates(ev);
        if (ev->failed)
            st = omni__err(ev->failed, "rules: out of memory");
    }
    omni__rr_eval_release(ev);
    return st;
}
