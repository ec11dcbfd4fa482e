/* Template data: a strict JSON parser into one block per document (values,
 * members with precomputed key hashes, hash indexes for large objects,
 * strings), the omni_data / omni_value API, JavaScript value semantics
 * (ToString, ToNumber, equality, number formatting) and small arenas. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/codec.h"
#include "lib/core/error.h"
#include "lib/core/json.h"
#include "lib/core/json_scan.h"
#include "format.h"
#include "template_internal.h"

const omni_value omni__undefined = {OMNI_VALUE_UNDEFINED, 0, 0, 0, 0, {0}};
const omni_value omni__null_value = {OMNI_VALUE_NULL, 0, 0, 0, 0, {0}};
const omni_value omni__null_ctx = {OMNI_VALUE_OBJECT, OMNI__V_NULLCTX, 0, 0, 0, {0}};
const omni_value omni__true_value = {OMNI_VALUE_BOOL, 0, 0, 0, 0, {.boolean = 1}};
const omni_value omni__false_value = {OMNI_VALUE_BOOL, 0, 0, 0, 0, {.boolean = 0}};
const omni_value omni__empty_string = {OMNI_VALUE_STRING, 0, 0, 0, 0, {.str = ""}};

/* ---- arena ------------------------------------------------------------- */

void omni__arena_init(omni__arena *a, void *buf, size_t cap)
{
    memset(a, 0, sizeof(*a));
    if (buf && cap) {
        a->first.data = buf;
        a->first.cap = cap;
        a->cur = &a->first;
    }
}

void *omni__arena_alloc(omni__arena *a, size_t n)
{
    size_t used = (a->used + 7u) & ~(size_t)7u;
    if (a->cur && used <= a->cur->cap && n <= a->cur->cap - used) {
        a->used = used + n;
        return a->cur->data + used;
    }
    /* the next chunk: reuse a released one when it is big enough */
    omni__chunk *next = a->cur ? a->cur->next : a->head;
    if (!next || next->cap < n) {
        if (n > ((size_t)1 << 40))
            return NULL;
        size_t cap = a->cur && a->cur->cap < ((size_t)1 << 30) ? a->cur->cap * 2 : 4096;
        if (cap < 4096)
            cap = 4096;
        if (cap < n)
            cap = n;
        omni__chunk *c = malloc(sizeof(omni__chunk) + cap + 8);
        if (!c)
            return NULL;
        c->data = (char *)(((uintptr_t)(c + 1) + 7u) & ~(uintptr_t)7u);
        c->cap = cap;
        if (a->cur) {
            c->next = a->cur->next;
            a->cur->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        next = c;
    }
    a->cur = next;
    a->used = n;
    return next->data;
}

char *omni__arena_strdup(omni__arena *a, const char *s, size_t n)
{
    char *p = omni__arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void omni__arena_free(omni__arena *a)
{
    /* heap chunks hang off `first` (when given) or off head */
    omni__chunk *c = a->first.data ? a->first.next : a->head;
    while (c) {
        omni__chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(a, 0, sizeof(*a));
}

void *omni__arena_alloc_cb(void *ud, size_t n)
{
    return omni__arena_alloc(ud, n);
}

/* ---- string lists with a hash set (inspect, strict mode) ----------------- */

static int strlist_grow_index(omni__strlist *l)
{
    size_t cap = l->icap ? l->icap * 2 : 16;
    uint32_t *idx = calloc(cap, sizeof(*idx));
    if (!idx)
        return OMNI_ENOMEM;
    for (size_t i = 0; i < l->n; i++) {
        size_t h = omni__hash(l->items[i], l->lens[i]) & (cap - 1);
        while (idx[h])
            h = (h + 1) & (cap - 1);
        idx[h] = (uint32_t)i + 1;
    }
    free(l->idx);
    l->idx = idx;
    l->icap = cap;
    return 0;
}

int omni__strlist_add(omni__strlist *l, const char *s, size_t n)
{
    if (l->n >= UINT32_MAX - 1)
        return OMNI_ENOMEM;
    if ((l->n + 1) * 2 > l->icap && strlist_grow_index(l))
        return OMNI_ENOMEM;
    size_t mask = l->icap - 1, h = omni__hash(s, n) & mask;
    while (l->idx[h]) {
        size_t i = l->idx[h] - 1;
        if (l->lens[i] == n && memcmp(l->items[i], s, n) == 0)
            return 0;
        h = (h + 1) & mask;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **p = realloc(l->items, cap * sizeof(*p));
        if (!p)
            return OMNI_ENOMEM;
        l->items = p;
        size_t *q = realloc(l->lens, cap * sizeof(*q));
        if (!q)
            return OMNI_ENOMEM;
        l->lens = q;
        l->cap = cap;
    }
    l->items[l->n] = s;
    l->lens[l->n] = n;
    l->n++;
    l->idx[h] = (uint32_t)l->n;
    return 0;
}

void omni__strlist_free(omni__strlist *l)
{
    free(l->items);
    free(l->lens);
    free(l->idx);
    memset(l, 0, sizeof(*l));
}

/* ---- pass 1: lib/core/json_scan.c, recording sizes ---------------------- */

static size_t index_slots(uint32_t count)
{
    size_t slots = 16;
    while (slots < (size_t)count * 2)
        slots *= 2;
    return slots;
}

/* The scanner's close hook: the structural bytes a container takes in
 * pass 2 (its items, or its members and, for a large object, the hash
 * index). */
static void add_struct_bytes(void *ud, int kind, uint32_t count)
{
    size_t *bytes = ud;
    if (kind == '[') {
        *bytes += (size_t)count * sizeof(omni_value);
    } else {
        *bytes += (size_t)count * sizeof(omni__member);
        if (count > OMNI__INDEX_MIN)
            *bytes += index_slots(count) * sizeof(uint32_t);
    }
}

/* ---- pass 2: build ------------------------------------------------------ */

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    const uint32_t *counts;
    size_t ci;
    char *sp;  /* structural bump pointer */
    char *str; /* string bump pointer */
    int status;
} dbuild;

static void db_ws(dbuild *b)
{
    const unsigned char *p = b->p;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    b->p = p;
}

static unsigned hex4(const unsigned char *p)
{
    return (unsigned)(omni__hexval(p[0]) << 12 | omni__hexval(p[1]) << 8 |
                      omni__hexval(p[2]) << 4 | omni__hexval(p[3]));
}

/* Decodes the string at b->p (validated) into the string region. */
static const char *db_string(dbuild *b, uint32_t *len)
{
    const unsigned char *p = b->p + 1;
    char *start = b->str, *o = b->str;
    uint32_t info = b->counts[b->ci++];
    if (!(info & OMNI__JSON_ESCAPED)) {
        /* no escapes: the raw bytes */
        memcpy(o, p, info);
        o[info] = '\0';
        b->p = p + info + 1;
        b->str = o + info + 1;
        *len = info;
        return start;
    }
    for (;;) {
        /* validated: the closing quote follows */
        const unsigned char *q = p;
        while (*q != '"' && *q != '\\')
            q++;
        size_t run = (size_t)(q - p);
        if (run > 16) {
            memcpy(o, p, run);
            o += run;
        } else {
            for (size_t i = 0; i < run; i++)
                o[i] = (char)p[i];
            o += run;
        }
        p = q;
        if (*p == '"')
            break;
        unsigned e = p[1];
        p += 2;
        switch (e) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = hex4(p);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = hex4(p + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* lone surrogate: what JavaScript's UTF-8 output writes */
            o = omni__utf8_put(o, cp);
            break;
        }
        default: *o++ = (char)e; /* " \ / */
        }
    }
    *o++ = '\0';
    b->p = p + 1;
    b->str = o;
    *len = (uint32_t)(o - start - 1);
    return start;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod in the C locale, on a NUL-terminated copy. */
static double c_strtod(const char *s, size_t n)
{
    char small[64];
    char *buf = n < sizeof(small) ? small : malloc(n + 1);
    if (!buf)
        return NAN;
    memcpy(buf, s, n);
    buf[n] = '\0';
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

/* Parses a validated JSON number (exact: a fast path for up to 15
 * significant digits, strtod otherwise). */
static double parse_number(const unsigned char *p, const unsigned char **endp)
{
    const unsigned char *start = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    uint64_t m = 0;
    int digits = 0, exp10 = 0, exact = 1;
    while (*p >= '0' && *p <= '9') {
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
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
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
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = 0;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        int e = 0;
        while (*p >= '0' && *p <= '9') {
            if (e < 100000)
                e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    *endp = p;
    if (m == 0)
        return neg ? -0.0 : 0.0;
    if (exact && digits <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        return neg ? -v : v;
    }
    return c_strtod((const char *)start, (size_t)(p - start));
}

static void db_value(dbuild *b, omni_value *v);

static int key_is_index(const omni__member *m)
{
    return omni__array_index(m->key, m->klen) >= 0;
}

static int member_order(const omni__member *a, size_t apos, const omni__member *b,
                        size_t bpos)
{
    int64_t ai = omni__array_index(a->key, a->klen);
    int64_t bi = omni__array_index(b->key, b->klen);
    if (ai >= 0 && bi >= 0)
        return ai < bi ? -1 : ai > bi;
    if (ai >= 0)
        return -1;
    if (bi >= 0)
        return 1;
    return apos < bpos ? -1 : apos > bpos;
}

typedef struct {
    omni__member m;
    size_t pos;
} sort_item;

static int sort_cmp(const void *x, const void *y)
{
    const sort_item *a = x, *b = y;
    return member_order(&a->m, a->pos, &b->m, b->pos);
}

/* JavaScript's own-property order: array-index keys ascending, then the rest
 * in insertion order (stable). */
int omni__js_order_members(omni__member *ms, uint32_t n)
{
    int any = 0;
    for (uint32_t i = 0; i < n && !any; i++)
        any = key_is_index(&ms[i]);
    if (!any)
        return 0;
    if (n <= 16) {
        /* insertion sort (stable): an index key moves ahead of non-index
         * keys and of larger index keys */
        for (uint32_t i = 1; i < n; i++) {
            omni__member tmp = ms[i];
            int64_t ti = omni__array_index(tmp.key, tmp.klen);
            uint32_t j = i;
            while (ti >= 0 && j > 0) {
                int64_t pi = omni__array_index(ms[j - 1].key, ms[j - 1].klen);
                if (pi >= 0 && pi <= ti)
                    break;
                ms[j] = ms[j - 1];
                j--;
            }
            ms[j] = tmp;
        }
        return 0;
    }
    sort_item *items = malloc((size_t)n * sizeof(*items));
    if (!items)
        return OMNI_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        items[i].m = ms[i];
        items[i].pos = i;
    }
    qsort(items, n, sizeof(*items), sort_cmp);
    for (uint32_t i = 0; i < n; i++)
        ms[i] = items[i].m;
    free(items);
    return 0;
}

static void index_build(uint32_t *tab, size_t slots, const omni__member *ms, uint32_t n)
{
    memset(tab, 0, slots * sizeof(uint32_t));
    size_t mask = slots - 1;
    for (uint32_t i = 0; i < n; i++) {
        size_t h = ms[i].hash & mask;
        while (tab[h])
            h = (h + 1) & mask;
        tab[h] = i + 1;
    }
}

static void db_object(dbuild *b, omni_value *v)
{
    uint32_t cap = b->counts[b->ci++];
    v->type = OMNI_VALUE_OBJECT;
    v->n = 0;
    v->u.members = NULL;
    b->p++; /* { */
    if (cap == 0) {
        db_ws(b);
        b->p++; /* } */
        return;
    }
    uint32_t *tab = NULL;
    size_t slots = 0;
    if (cap > OMNI__INDEX_MIN) {
        slots = index_slots(cap);
        tab = (uint32_t *)b->sp;
        b->sp += slots * sizeof(uint32_t);
        memset(tab, 0, slots * sizeof(uint32_t));
    }
    omni__member *ms = (omni__member *)b->sp;
    b->sp += (size_t)cap * sizeof(omni__member);
    uint32_t n = 0;
    int digit_key = 0;
    for (;;) {
        db_ws(b);
        omni__member *m = &ms[n];
        m->key = db_string(b, &m->klen);
        m->hash = omni__hash(m->key, m->klen);
        m->k8 = omni__key8(m->key, m->klen);
        db_ws(b);
        b->p++; /* : */
        db_ws(b);
        db_value(b, &m->value);
        /* a repeated key keeps its first position and takes the last value */
        omni__member *dup = NULL;
        if (tab) {
            size_t mask = slots - 1, h = m->hash & mask;
            while (tab[h]) {
                omni__member *o = &ms[tab[h] - 1];
                if (o->hash == m->hash && o->klen == m->klen &&
                    memcmp(o->key, m->key, m->klen) == 0) {
                    dup = o;
                    break;
                }
                h = (h + 1) & mask;
            }
            if (!dup)
                tab[h] = n + 1;
        } else {
            for (uint32_t j = 0; j < n; j++) {
                omni__member *o = &ms[j];
                if (o->hash == m->hash && o->klen == m->klen &&
                    memcmp(o->key, m->key, m->klen) == 0) {
                    dup = o;
                    break;
                }
            }
        }
        if (dup) {
            dup->value = m->value;
        } else {
            digit_key |= m->klen > 0 && (unsigned)(m->key[0] - '0') <= 9;
            n++;
        }
        db_ws(b);
        if (*b->p++ == '}')
            break;
    }
    if (digit_key && omni__js_order_members(ms, n) && !b->status)
        b->status = OMNI_ENOMEM;
    if (tab) {
        index_build(tab, slots, ms, n);
        unsigned bits = 0;
        while (((size_t)1 << bits) < slots)
            bits++;
        v->bits = (uint8_t)bits;
    }
    v->n = n;
    v->u.members = ms;
}

static void db_array(dbuild *b, omni_value *v)
{
    uint32_t n = b->counts[b->ci++];
    v->type = OMNI_VALUE_ARRAY;
    v->n = n;
    b->p++; /* [ */
    if (n == 0) {
        v->u.items = NULL;
        db_ws(b);
        b->p++;
        return;
    }
    omni_value *items = (omni_value *)b->sp;
    b->sp += (size_t)n * sizeof(omni_value);
    for (uint32_t i = 0; i < n; i++) {
        db_ws(b);
        db_value(b, &items[i]);
        db_ws(b);
        b->p++; /* , or ] */
    }
    v->u.items = items;
}

static void db_value(dbuild *b, omni_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (*b->p) {
    case '{': db_object(b, v); break;
    case '[': db_array(b, v); break;
    case '"':
        v->type = OMNI_VALUE_STRING;
        v->u.str = db_string(b, &v->n);
        break;
    case 't':
        v->type = OMNI_VALUE_BOOL;
        v->u.boolean = 1;
        b->p += 4;
        break;
    case 'f':
        v->type = OMNI_VALUE_BOOL;
        b->p += 5;
        break;
    case 'n':
        v->type = OMNI_VALUE_NULL;
        b->p += 4;
        break;
    default: {
        const unsigned char *end;
        v->type = OMNI_VALUE_NUMBER;
        v->u.num = parse_number(b->p, &end);
        b->p = end;
    }
    }
}

int omni__data_parse_with(const omni_value **out, const char *json, size_t len,
                          size_t max_bytes, const char *what, omni__alloc_fn alloc, void *ud)
{
    *out = NULL;
    if (!what)
        what = "JSON";
    uint32_t local[256];
    size_t struct_bytes = sizeof(omni_value); /* the root */
    omni__json_rec rec = {local, 0, sizeof(local) / sizeof(local[0]), local, 0,
                          add_struct_bytes, &struct_bytes};
    int rc = omni__json_scan(json, len, max_bytes, what, &rec);
    if (rc) {
        omni__json_rec_free(&rec);
        return rc;
    }
    char *mem = alloc(ud, struct_bytes + rec.str_bytes);
    if (!mem) {
        omni__json_rec_free(&rec);
        return omni__err(OMNI_ENOMEM, "%s: out of memory", what);
    }
    /* The text is validated; the builder relies on a terminator after the
     * last token, so it reads a NUL-terminated view when needed. */
    dbuild b;
    b.counts = rec.counts;
    b.ci = 0;
    b.sp = mem + sizeof(omni_value);
    b.str = mem + struct_bytes;
    b.status = 0;
    /* Scalars at the very end of the input need a terminator: numbers and
     * literals are re-read only up to their validated extent, except that
     * the number parser stops at the first non-number byte. Copy the tail
     * when the document does not end with a closing bracket or quote. */
    const unsigned char *text = (const unsigned char *)json;
    char small[64];
    char *copy = NULL;
    {
        const unsigned char *e = text + len;
        while (e > text && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
            e--;
        if (e > text && e[-1] != '}' && e[-1] != ']' && e[-1] != '"') {
            /* a bare scalar document: copy it with a terminator */
            size_t n = (size_t)(e - text);
            copy = n < sizeof(small) ? small : malloc(n + 1);
            if (!copy) {
                omni__json_rec_free(&rec);
                return omni__err(OMNI_ENOMEM, "%s: out of memory", what);
            }
            memcpy(copy, text, n);
            copy[n] = '\0';
            text = (const unsigned char *)copy;
        }
    }
    b.p = text;
    b.end = copy ? (const unsigned char *)copy + strlen(copy) : text + len;
    db_ws(&b);
    omni_value *root = (omni_value *)mem;
    db_value(&b, root);
    if (copy && copy != small)
        free(copy);
    omni__json_rec_free(&rec);
    if (b.status)
        return omni__err(OMNI_ENOMEM, "%s: out of memory", what);
    *out = root;
    return OMNI_OK;
}

/* ---- public: omni_data ---------------------------------------------------- */

static void *data_alloc(void *ud, size_t n)
{
    omni_data **pd = ud;
    omni_data *d = malloc(sizeof(omni_data) + n);
    *pd = d;
    return d ? (char *)d + sizeof(omni_data) : NULL;
}

int omni_data_parse(omni_data **out, const char *json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_data_parse: out is NULL");
    *out = NULL;
    omni_data *d = NULL;
    const omni_value *root;
    int rc = omni__data_parse_with(&root, json, len, 0, "data", data_alloc, &d);
    if (rc) {
        free(d);
        return rc;
    }
    d->root = *root;
    *out = d;
    return OMNI_OK;
}

void omni_data_free(omni_data *data)
{
    free(data);
}

const omni_value *omni_data_root(const omni_data *data)
{
    return data ? &data->root : NULL;
}

int omni_value_type(const omni_value *v)
{
    return v ? v->type : OMNI_VALUE_UNDEFINED;
}

const char *omni_value_string(const omni_value *v, size_t *len)
{
    if (!v || v->type != OMNI_VALUE_STRING) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = v->n;
    return v->u.str;
}

double omni_value_number(const omni_value *v)
{
    return v && v->type == OMNI_VALUE_NUMBER ? v->u.num : 0;
}

int omni_value_truthy(const omni_value *v)
{
    if (!v)
        return 0;
    if (v->type == OMNI_VALUE_ARRAY)
        return v->n > 0;
    return omni__js_truthy(v);
}

size_t omni_value_count(const omni_value *v)
{
    if (!v || (v->type != OMNI_VALUE_ARRAY && v->type != OMNI_VALUE_OBJECT))
        return 0;
    return v->n;
}

const omni_value *omni_value_at(const omni_value *v, size_t i)
{
    if (!v || i >= omni_value_count(v))
        return NULL;
    return v->type == OMNI_VALUE_ARRAY ? &v->u.items[i] : &v->u.members[i].value;
}

const char *omni_value_key(const omni_value *v, size_t i)
{
    if (!v || v->type != OMNI_VALUE_OBJECT || i >= v->n)
        return NULL;
    return v->u.members[i].key;
}

const omni_value *omni__value_member(const omni_value *obj, const char *key, size_t klen,
                                     uint32_t hash)
{
    if (obj->type != OMNI_VALUE_OBJECT || obj->n == 0)
        return NULL;
    const omni__member *ms = obj->u.members;
    if (obj->bits) {
        size_t slots = (size_t)1 << obj->bits, mask = slots - 1;
        const uint32_t *tab = (const uint32_t *)ms - slots;
        for (size_t h = hash & mask; tab[h]; h = (h + 1) & mask) {
            const omni__member *m = &ms[tab[h] - 1];
            if (m->hash == hash && m->klen == klen && memcmp(m->key, key, klen) == 0)
                return &m->value;
        }
        return NULL;
    }
    for (uint32_t i = 0; i < obj->n; i++) {
        const omni__member *m = &ms[i];
        if (m->hash == hash && m->klen == klen && memcmp(m->key, key, klen) == 0)
            return &m->value;
    }
    return NULL;
}

const omni_value *omni_value_get(const omni_value *v, const char *key)
{
    if (!v || !key)
        return NULL;
    size_t n = strlen(key);
    return omni__value_member(v, key, n, omni__hash(key, n));
}

int omni_value_json(char **out, size_t *out_len, const omni_value *v)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_value_json: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_buf b = OMNI_BUF_INIT;
    omni__value_write_json(&b, v);
    return omni__buf_detach(&b, out, out_len);
}

/* ---- JavaScript semantics ---------------------------------------------- */

/* Shortest digits that read back as `a` (a > 0, finite): digits into d (no
 * trailing zeros), returns the count; *point = decimal exponent n such that
 * a = 0.d × 10^n. */
static int shortest_digits(double a, char *d, int *point)
{
    /* fast path: few fraction digits, below 10^15: the smallest k for which
     * an integer m gives m / 10^k == a exactly (division is correctly
     * rounded, so that decimal reads back as a) */
    if (a >= 1e-5 && a < 1e15) {
        for (int k = 1; k <= 15; k++) {
            double scaled = a * pow10_exact[k];
            if (scaled >= 1e15)
                break;
            uint64_t r = (uint64_t)(scaled + 0.5);
            for (int delta = 0; delta < 3; delta++) {
                uint64_t m = delta == 0 ? r : delta == 1 ? r - 1 : r + 1;
                if (m == 0 || (double)m / pow10_exact[k] != a)
                    continue;
                char tmp[24];
                int n = 0;
                while (m) {
                    tmp[n++] = (char)('0' + m % 10);
                    m /= 10;
                }
                int nd = 0;
                for (int i = n - 1; i >= 0; i--)
                    d[nd++] = tmp[i];
                while (nd > 1 && d[nd - 1] == '0')
                    nd--;
                *point = n - k;
                return nd;
            }
        }
    }
    /* general path, in the C locale */
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    int nd = omni__shortest_digits(a, d, point);
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    return nd;
}

size_t omni__js_number(char *buf, double v)
{
    if (v != v) {
        memcpy(buf, "NaN", 4);
        return 3;
    }
    if (isinf(v)) {
        if (v < 0) {
            memcpy(buf, "-Infinity", 10);
            return 9;
        }
        memcpy(buf, "Infinity", 9);
        return 8;
    }
    if (v == 0) {
        buf[0] = '0';
        buf[1] = '\0';
        return 1;
    }
    char *o = buf;
    double a = v;
    if (v < 0) {
        *o++ = '-';
        a = -v;
    }
    if (a < 9007199254740992.0 && (double)(uint64_t)a == a) {
        uint64_t m = (uint64_t)a;
        char tmp[24];
        int n = 0;
        while (m) {
            tmp[n++] = (char)('0' + m % 10);
            m /= 10;
        }
        while (n)
            *o++ = tmp[--n];
        *o = '\0';
        return (size_t)(o - buf);
    }
    char d[24];
    int point;
    int k = shortest_digits(a, d, &point);
    int n = point;
    if (k <= n && n <= 21) {
        memcpy(o, d, (size_t)k);
        o += k;
        for (int i = k; i < n; i++)
            *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, d, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, d + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -n; i++)
            *o++ = '0';
        memcpy(o, d, (size_t)k);
        o += k;
    } else {
        int e = n - 1;
        *o++ = d[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(k - 1));
            o += k - 1;
        }
        *o++ = 'e';
        *o++ = e < 0 ? '-' : '+';
        if (e < 0)
            e = -e;
        char tmp[8];
        int m = 0;
        do {
            tmp[m++] = (char)('0' + e % 10);
            e /= 10;
        } while (e);
        while (m)
            *o++ = tmp[--m];
    }
    *o = '\0';
    return (size_t)(o - buf);
}

static void js_string_inner(omni_buf *b, const omni_value *v, int in_array)
{
    char num[32];
    switch (v ? v->type : OMNI_VALUE_UNDEFINED) {
    case OMNI_VALUE_UNDEFINED:
        if (!in_array)
            omni__buf_append(b, "undefined", 9);
        break;
    case OMNI_VALUE_NULL:
        if (!in_array)
            omni__buf_append(b, "null", 4);
        break;
    case OMNI_VALUE_BOOL:
        if (v->u.boolean)
            omni__buf_append(b, "true", 4);
        else
            omni__buf_append(b, "false", 5);
        break;
    case OMNI_VALUE_NUMBER:
        omni__buf_append(b, num, omni__js_number(num, v->u.num));
        break;
    case OMNI_VALUE_STRING:
        omni__buf_append(b, v->u.str, v->n);
        break;
    case OMNI_VALUE_ARRAY:
        for (uint32_t i = 0; i < v->n; i++) {
            if (i)
                omni__buf_putc(b, ',');
            js_string_inner(b, &v->u.items[i], 1);
        }
        break;
    default:
        omni__buf_append(b, "[object Object]", 15);
    }
}

void omni__js_string(omni_buf *b, const omni_value *v)
{
    js_string_inner(b, v, 0);
}

size_t omni__js_space(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0D))
        return 1;
    if (c < 0x80)
        return 0;
    if (c == 0xC2 && n >= 2 && p[1] == 0xA0)
        return 2; /* U+00A0 */
    if (n < 3)
        return 0;
    unsigned cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    if ((c & 0xF0) != 0xE0)
        return 0;
    if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
        return 3;
    return 0;
}

/* JavaScript's StringToNumber. */
double omni__js_str_tonumber(const char *s, size_t n)
{
    size_t i = 0, k;
    while (i < n && (k = omni__js_space(s + i, n - i)) > 0)
        i += k;
    size_t j = n;
    while (j > i) {
        /* trailing whitespace: step back over one code point */
        size_t back = 1;
        while (back < j - i && back < 4 && ((unsigned char)s[j - back] & 0xC0) == 0x80)
            back++;
        if (omni__js_space(s + j - back, back) == back)
            j -= back;
        else
            break;
    }
    if (i == j)
        return 0;
    const char *p = s + i;
    size_t len = j - i;
    char radix = len > 2 ? (char)(p[1] | 0x20) : 0;
    if (len > 2 && p[0] == '0' && (radix == 'x' || radix == 'o' || radix == 'b')) {
        int base = radix == 'x' ? 16 : radix == 'o' ? 8 : 2;
        double v = 0;
        for (size_t q = 2; q < len; q++) {
            int d = omni__hexval((unsigned char)p[q]);
            if (d < 0 || d >= base)
                return NAN;
            v = v * base + d;
        }
        return v;
    }
    size_t q = 0;
    int neg = 0;
    if (p[q] == '+' || p[q] == '-')
        neg = p[q++] == '-';
    if (len - q == 8 && memcmp(p + q, "Infinity", 8) == 0)
        return neg ? -INFINITY : INFINITY;
    /* StrDecimalLiteral: digits [. digits] [e [+-] digits], or . digits */
    size_t start = q, intd = 0, fracd = 0;
    while (q < len && p[q] >= '0' && p[q] <= '9') {
        q++;
        intd++;
    }
    if (q < len && p[q] == '.') {
        q++;
        while (q < len && p[q] >= '0' && p[q] <= '9') {
            q++;
            fracd++;
        }
    }
    if (intd + fracd == 0)
        return NAN;
    if (q < len && (p[q] == 'e' || p[q] == 'E')) {
        q++;
        if (q < len && (p[q] == '+' || p[q] == '-'))
            q++;
        size_t ed = 0;
        while (q < len && p[q] >= '0' && p[q] <= '9') {
            q++;
            ed++;
        }
        if (!ed)
            return NAN;
    }
    if (q != len)
        return NAN;
    double v = c_strtod(p + start, len - start);
    return neg ? -v : v;
}

double omni__js_tonumber(const omni_value *v)
{
    switch (v ? v->type : OMNI_VALUE_UNDEFINED) {
    case OMNI_VALUE_NULL: return 0;
    case OMNI_VALUE_BOOL: return v->u.boolean ? 1 : 0;
    case OMNI_VALUE_NUMBER: return v->u.num;
    case OMNI_VALUE_STRING: return omni__js_str_tonumber(v->u.str, v->n);
    case OMNI_VALUE_ARRAY:
    case OMNI_VALUE_OBJECT: {
        /* ToPrimitive then ToNumber: via the string form */
        omni_buf b = OMNI_BUF_INIT;
        omni__js_string(&b, v);
        double d = b.failed ? NAN : omni__js_str_tonumber(b.data ? b.data : "", b.len);
        omni__buf_free(&b);
        return d;
    }
    default: return NAN;
    }
}

int omni__js_truthy(const omni_value *v)
{
    switch (v ? v->type : OMNI_VALUE_UNDEFINED) {
    case OMNI_VALUE_BOOL: return v->u.boolean;
    case OMNI_VALUE_NUMBER: return v->u.num != 0 && v->u.num == v->u.num;
    case OMNI_VALUE_STRING: return v->n > 0;
    case OMNI_VALUE_ARRAY:
    case OMNI_VALUE_OBJECT: return 1;
    default: return 0;
    }
}

int omni__js_strict_eq(const omni_value *a, const omni_value *b)
{
    int ta = a ? a->type : OMNI_VALUE_UNDEFINED, tb = b ? b->type : OMNI_VALUE_UNDEFINED;
    if (ta != tb)
        return 0;
    switch (ta) {
    case OMNI_VALUE_UNDEFINED:
    case OMNI_VALUE_NULL: return 1;
    case OMNI_VALUE_BOOL: return !a->u.boolean == !b->u.boolean;
    case OMNI_VALUE_NUMBER: return a->u.num == b->u.num;
    case OMNI_VALUE_STRING: return a->n == b->n && memcmp(a->u.str, b->u.str, a->n) == 0;
    default:
        /* identity: the same value, or the same container */
        return a == b || (a->n == b->n && a->n > 0 && a->u.items == b->u.items) ||
               ((a->flags & OMNI__V_NULLCTX) && (b->flags & OMNI__V_NULLCTX));
    }
}

static int is_prim(int t)
{
    return t != OMNI_VALUE_ARRAY && t != OMNI_VALUE_OBJECT;
}

int omni__js_loose_eq(const omni_value *a, const omni_value *b)
{
    int ta = a ? a->type : OMNI_VALUE_UNDEFINED, tb = b ? b->type : OMNI_VALUE_UNDEFINED;
    if (ta == tb)
        return omni__js_strict_eq(a, b);
    int na = ta == OMNI_VALUE_UNDEFINED || ta == OMNI_VALUE_NULL;
    int nb = tb == OMNI_VALUE_UNDEFINED || tb == OMNI_VALUE_NULL;
    if (na || nb)
        return na && nb;
    if (!is_prim(ta) && !is_prim(tb))
        return 0; /* different container kinds */
    if (!is_prim(ta) || !is_prim(tb)) {
        /* object vs primitive: compare the object's string form */
        const omni_value *obj = is_prim(ta) ? b : a, *prim = is_prim(ta) ? a : b;
        omni_buf buf = OMNI_BUF_INIT;
        omni__js_string(&buf, obj);
        omni_value s = {OMNI_VALUE_STRING, 0, 0, 0, (uint32_t)buf.len,
                        {.str = buf.data ? buf.data : ""}};
        int r = buf.failed ? 0 : omni__js_loose_eq(&s, prim);
        omni__buf_free(&buf);
        return r;
    }
    /* primitives of different types: compare as numbers */
    double x = omni__js_tonumber(a), y = omni__js_tonumber(b);
    return x == y;
}

static unsigned decode_cp(const char *s, size_t n, size_t i)
{
    const unsigned char *p = (const unsigned char *)s + i;
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    unsigned cp = len == 1 ? c : c & (0xFFu >> (len + 1));
    for (size_t q = 1; q < len && i + q < n; q++)
        cp = (cp << 6) | (p[q] & 0x3Fu);
    return cp;
}

/* Compares two UTF-8 strings in UTF-16 code unit order (JavaScript's <):
 * code point order, except that characters above U+FFFF (surrogate pairs,
 * 0xD800..) sort before U+E000..U+FFFF. */
static int utf16_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0;
    while (i < an && i < bn && a[i] == b[i])
        i++;
    if (i == an || i == bn)
        return (i < an) - (i < bn);
    while (i > 0 && ((unsigned char)a[i] & 0xC0) == 0x80)
        i--; /* both strings share the bytes before: the same code point start */
    unsigned ca = decode_cp(a, an, i), cb = decode_cp(b, bn, i);
    unsigned ka = ca >= 0x10000 ? 0xD800u + ((ca - 0x10000u) >> 10) : ca;
    unsigned kb = cb >= 0x10000 ? 0xD800u + ((cb - 0x10000u) >> 10) : cb;
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return ca < cb ? -1 : ca > cb;
}

int omni__js_less(const omni_value *a, const omni_value *b)
{
    /* ToPrimitive: containers become strings */
    omni_buf ba = OMNI_BUF_INIT, bb = OMNI_BUF_INIT;
    omni_value sa, sb;
    if (a && !is_prim(a->type)) {
        omni__js_string(&ba, a);
        sa = (omni_value){OMNI_VALUE_STRING, 0, 0, 0, (uint32_t)ba.len,
                          {.str = ba.data ? ba.data : ""}};
        a = &sa;
    }
    if (b && !is_prim(b->type)) {
        omni__js_string(&bb, b);
        sb = (omni_value){OMNI_VALUE_STRING, 0, 0, 0, (uint32_t)bb.len,
                          {.str = bb.data ? bb.data : ""}};
        b = &sb;
    }
    int r;
    if (a && b && a->type == OMNI_VALUE_STRING && b->type == OMNI_VALUE_STRING) {
        r = utf16_cmp(a->u.str, a->n, b->u.str, b->n) < 0;
    } else {
        double x = omni__js_tonumber(a), y = omni__js_tonumber(b);
        r = x < y;
    }
    omni__buf_free(&ba);
    omni__buf_free(&bb);
    return r;
}

void omni__value_write_json(omni_buf *b, const omni_value *v)
{
    char num[32];
    switch (v ? v->type : OMNI_VALUE_UNDEFINED) {
    case OMNI_VALUE_BOOL:
        omni__json_w_bool(b, v->u.boolean);
        break;
    case OMNI_VALUE_NUMBER:
        if (!isfinite(v->u.num)) {
            omni__json_w_null(b);
        } else {
            omni__json_w_raw(b, num, omni__js_number(num, v->u.num));
        }
        break;
    case OMNI_VALUE_STRING:
        omni__json_w_strn(b, v->u.str, v->n);
        break;
    case OMNI_VALUE_ARRAY:
        omni__json_w_arr_begin(b);
        for (uint32_t i = 0; i < v->n; i++)
            omni__value_write_json(b, &v->u.items[i]);
        omni__json_w_arr_end(b);
        break;
    case OMNI_VALUE_OBJECT:
        omni__json_w_obj_begin(b);
        for (uint32_t i = 0; i < v->n; i++) {
            const omni__member *m = &v->u.members[i];
            /* keys may hold NUL: write them with their length */
            omni__json_w_strn(b, m->key, m->klen);
            omni__buf_putc(b, ':');
            omni__value_write_json(b, &m->value);
        }
        omni__json_w_obj_end(b);
        break;
    default:
        omni__json_w_null(b);
    }
}

size_t omni__utf16_length(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

size_t omni__utf16_unit_at(const char *s, size_t n, size_t index, char out[4])
{
    size_t unit = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + len > n)
            len = n - i;
        size_t w = c >= 0xF0 ? 2 : 1;
        if (index < unit + w) {
            if (w == 2) {
                memcpy(out, "\xEF\xBF\xBD", 3); /* half a surrogate pair */
                return 3;
            }
            memcpy(out, s + i, len);
            return len;
        }
        unit += w;
        i += len;
    }
    return 0;
}

int64_t omni__array_index(const char *s, size_t n)
{
    if (n == 0 || n > 10)
        return -1;
    if (s[0] == '0')
        return n == 1 ? 0 : -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 4294967294LL ? v : -1;
}
