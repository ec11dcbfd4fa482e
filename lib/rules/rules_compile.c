/* The rule engine's compiler: parses and validates a rules document (seed
 * 001's RoutingRule format and json-rules-engine's format), reporting every
 * problem with its rule id and path, then builds the immutable compiled
 * form: rules in document order and their match order (rank), a flat
 * condition node array, actions ready for output, the trie of referenced
 * field paths and the index of "anchors" (see rules_internal.h).
 *
 * Anchors: for each enabled rule a set of indexable predicates such that
 * every match of the rule makes at least one of them fire —
 *   - a condition equals / in / equalsIgnoreCase (and equals, in with
 *     ignoreCase) anchors on its value(s) (hash of field, kind, value);
 *   - contains anchors on the value as an array element, and for string
 *     facts on the field's substring automaton (Aho-Corasick compiled to a
 *     DFA per field and per ignoreCase variant, see rr_acm: one step per
 *     byte of the fact whatever the number of needles);
 *   - startsWith anchors on the prefix (per field, per distinct prefix
 *     length);
 *   - exists (true) anchors on the field's presence;
 *   - all: the set of its child of least cost (a key costs the candidates
 *     it is expected to add, see "anchors and the index" below); any: the
 *     union of its children's sets when every child has one; not and
 *     other operators: none.
 * Rules without an anchor set are "always candidates". Anchors may fire for
 * facts that do not match (the candidate is then evaluated fully and
 * fails); they never miss a match. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/common.h>
#include <omni/rules.h>

#include "../core/codec.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../core/tz.h"
#include "regex.h"
#include "rules_internal.h"

#define MAX_SEGMENT 64
#define MAX_SEGMENTS 16

/* ---- arena ------------------------------------------------------------- */

void *omni__rr_alloc(rr_arena *a, size_t n)
{
    n = (n + 7u) & ~(size_t)7u;
    rr_chunk *c = a->head;
    if (c && c->cap - c->used >= n) {
        void *p = (char *)(c + 1) + c->used;
        c->used += n;
        return p;
    }
    size_t cap = c ? c->cap * 2 : 4096;
    if (cap > ((size_t)1 << 24))
        cap = (size_t)1 << 24;
    if (cap < n)
        cap = n;
    rr_chunk *nc = malloc(sizeof(rr_chunk) + cap);
    if (!nc)
        return NULL;
    nc->cap = cap;
    nc->used = n;
    nc->next = c;
    a->head = nc;
    a->total += cap;
    return nc + 1;
}

char *omni__rr_strdup(rr_arena *a, const char *s, size_t n)
{
    char *p = omni__rr_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void omni__rr_arena_reset(rr_arena *a)
{
    rr_chunk *c = a->head;
    if (!c)
        return;
    if (!c->next && c->cap <= ((size_t)4 << 20)) {
        c->used = 0;
        return;
    }
    /* several chunks: release them; the next use grows one chunk */
    size_t total = a->total;
    omni__rr_arena_free(a);
    if (total > ((size_t)4 << 20))
        return;
    rr_chunk *nc = malloc(sizeof(rr_chunk) + total);
    if (nc) {
        nc->cap = total;
        nc->used = 0;
        nc->next = NULL;
        a->head = nc;
        a->total = total;
    }
}

void omni__rr_arena_free(rr_arena *a)
{
    rr_chunk *c = a->head;
    while (c) {
        rr_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- values, hashing, folding -------------------------------------------- */

uint32_t omni__rr_val_hash(int type, int b, double num, const char *s, size_t len)
{
    switch (type) {
    case RR_STR:
        return omni__rr_khash(s, len);
    case RR_NUM: {
        if (num == 0)
            num = 0; /* -0 == 0 */
        uint64_t bits;
        memcpy(&bits, &num, sizeof(bits));
        uint32_t h = (uint32_t)(bits ^ (bits >> 32)) * 0x9E3779B1u;
        return h ^ 0x5bd1e995u;
    }
    case RR_BOOL:
        return b ? 0x2545F491u : 0x6C8E9CF5u;
    default:
        return 0x1B873593u; /* null */
    }
}

/* Simple case folding (Unicode CaseFolding.txt statuses C and S) of one
 * code point in the blocks the engine folds. */
static uint32_t fold_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c < 0x100) {
        if (c == 0xB5)
            return 0x3BC;
        if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
            return c + 32;
        return c;
    }
    if (c < 0x180) {
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149)
            return c;
        if (c == 0x178)
            return 0xFF;
        if (c == 0x17F)
            return 's';
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x370 && c < 0x400) {
        if (c == 0x345)
            return 0x3B9;
        if (c >= 0x370 && c <= 0x373)
            return c | 1;
        if (c == 0x376)
            return 0x377;
        if (c == 0x37F)
            return 0x3F3;
        if (c == 0x386)
            return 0x3AC;
        if (c >= 0x388 && c <= 0x38A)
            return c + 37;
        if (c == 0x38C)
            return 0x3CC;
        if (c == 0x38E || c == 0x38F)
            return c + 63;
        if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB))
            return c + 32;
        switch (c) {
        case 0x3C2: return 0x3C3;
        case 0x3CF: return 0x3D7;
        case 0x3D0: return 0x3B2;
        case 0x3D1: return 0x3B8;
        case 0x3D5: return 0x3C6;
        case 0x3D6: return 0x3C0;
        case 0x3F0: return 0x3BA;
        case 0x3F1: return 0x3C1;
        case 0x3F4: return 0x3B8;
        case 0x3F5: return 0x3B5;
        case 0x3F7: return 0x3F8;
        case 0x3F9: return 0x3F2;
        case 0x3FA: return 0x3FB;
        case 0x3FD: return 0x37B;
        case 0x3FE: return 0x37C;
        case 0x3FF: return 0x37D;
        default: break;
        }
        if (c >= 0x3D8 && c <= 0x3EF)
            return c | 1;
        return c;
    }
    if (c >= 0x400 && c < 0x530) {
        if (c <= 0x40F)
            return c + 80;
        if (c <= 0x42F)
            return c + 32;
        if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
            (c >= 0x4D0 && c <= 0x52F))
            return c | 1;
        if (c == 0x4C0)
            return 0x4CF;
        if (c >= 0x4C1 && c <= 0x4CE)
            return (c & 1) ? c + 1 : c;
        return c;
    }
    return c;
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (c >> 12));
    o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

size_t omni__rr_fold(char *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char ch = p[i];
        if (ch < 0x80) {
            out[o++] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = omni__utf8_next(p + i, n - i, &cp);
        if (k == 0) {
            out[o++] = (char)ch;
            i++;
            continue;
        }
        uint32_t f = cp < 0x530 ? fold_cp(cp) : cp;
        if (f == cp) {
            memcpy(out + o, p + i, k);
            o += k;
        } else {
            o += put_utf8(out + o, f); /* folded code points are below U+0800 */
        }
        i += k;
    }
    return o;
}

static const char *const op_names[] = {
    "equals",      "notEquals",     "equalsIgnoreCase", "in",         "notIn",
    "contains",    "notContains",   "startsWith",       "endsWith",   "anythingBut",
    "exists",      "greaterThan",   "greaterThanOrEqual", "lessThan", "lessThanOrEqual",
    "between",     "matches"};

const char *omni__rr_op_name(int op)
{
    return op >= 0 && op < (int)(sizeof(op_names) / sizeof(op_names[0])) ? op_names[op] : "?";
}

static const struct {
    const char *name;
    int op;
} jre_ops[] = {
    {"equal", RR_OP_EQ},
    {"notEqual", RR_OP_NE},
    {"in", RR_OP_IN},
    {"notIn", RR_OP_NOTIN},
    {"contains", RR_OP_CONTAINS},
    {"doesNotContain", RR_OP_NOTCONTAINS},
    {"lessThan", RR_OP_LT},
    {"lessThanInclusive", RR_OP_LE},
    {"greaterThan", RR_OP_GT},
    {"greaterThanInclusive", RR_OP_GE},
};

/* ---- trie lookup ------------------------------------------------------------ */

const rr_tnode *omni__rr_child(const omni_rules *r, const rr_tnode *t, const char *key,
                               size_t klen)
{
    if (t->tab_bits) {
        uint32_t hash = omni__rr_khash(key, klen);
        uint32_t mask = (1u << t->tab_bits) - 1;
        const uint32_t *tab = r->tabs + t->tab_off;
        for (uint32_t h = hash & mask; tab[h]; h = (h + 1) & mask) {
            const rr_tnode *c = &r->tnodes[t->child_off + tab[h] - 1];
            if (c->khash == hash && c->klen == klen && memcmp(c->key, key, klen) == 0)
                return c;
        }
        return NULL;
    }
    const rr_tnode *c = &r->tnodes[t->child_off];
    for (uint32_t i = 0; i < t->child_n; i++, c++)
        if (c->klen == klen && memcmp(c->key, key, klen) == 0)
            return c;
    return NULL;
}

/* ---- growable arrays ------------------------------------------------------- */

#define VEC(T)        \
    struct {          \
        T *v;         \
        size_t n, c;  \
    }

static int vgrow(void **v, size_t *c, size_t need, size_t size)
{
    if (need <= *c)
        return 0;
    size_t nc = *c ? *c : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*v, nc * size);
    if (!p)
        return OMNI_ENOMEM;
    *v = p;
    *c = nc;
    return 0;
}

#define VPUSH(vec, item, fail)                                                          \
    do {                                                                                \
        if (vgrow((void **)&(vec).v, &(vec).c, (vec).n + 1, sizeof(*(vec).v))) {        \
            fail;                                                                       \
        } else {                                                                        \
            (vec).v[(vec).n++] = (item);                                                \
        }                                                                               \
    } while (0)

/* ---- compile context ------------------------------------------------------- */

/* The temporary path trie: nodes keyed by (parent, key) in a hash table. */
typedef struct ttnode {
    const char *key;
    uint32_t klen, hash;
    uint32_t parent; /* node index (0: the root) */
    int is_field;
    uint32_t nkids;
    uint32_t first_kid, next_sib; /* +1 lists, in insertion order */
    uint32_t last_kid;
    uint32_t final; /* index in the final trie */
} ttnode;

typedef struct anchor {
    uint8_t kind;
    uint32_t field; /* final field id */
    rr_val v;
} anchor;

typedef VEC(anchor) anchor_vec;

typedef struct cctx {
    omni_rules *r;
    int status; /* ENOMEM etc. */
    /* errors */
    omni_buf details;
    size_t nerrors;
    char first[640];
    const char *rule_id; /* id of the rule being read (NULL: unknown) */
    /* path */
    char path[1024];
    size_t plen;
    int fmt_jre_forced, fmt_routing_forced;
    /* nodes / actions / rules under construction */
    VEC(rr_node) nodes;
    VEC(uint32_t) node_ttn; /* per node: temp trie node + 1 of its field */
    VEC(rr_action) actions;
    /* temp trie: node 0 is the root */
    VEC(ttnode) tt;
    uint32_t *tt_tab;
    size_t tt_cap;
    VEC(char) scratch;
} cctx;

static void err_add(cctx *c, const char *fmt, ...) OMNI__PRINTF(2, 3);

static void err_add(cctx *c, const char *fmt, ...)
{
    c->nerrors++;
    if (c->nerrors > OMNI_RULES_MAX_ERRORS)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->nerrors == 1) {
        if (c->rule_id)
            snprintf(c->first, sizeof(c->first), "rule \"%.256s\" at %.200s: %.160s",
                     c->rule_id, c->plen ? c->path : "(document)", msg);
        else
            snprintf(c->first, sizeof(c->first), "at %.200s: %.300s",
                     c->plen ? c->path : "(document)", msg);
    }
    omni__json_w_obj_begin(&c->details);
    omni__json_w_keyl(&c->details, "ruleId");
    if (c->rule_id)
        omni__json_w_str(&c->details, c->rule_id);
    else
        omni__json_w_null(&c->details);
    omni__json_w_keyl(&c->details, "path");
    omni__json_w_strn(&c->details, c->path, c->plen);
    omni__json_w_keyl(&c->details, "message");
    omni__json_w_str(&c->details, msg);
    omni__json_w_obj_end(&c->details);
}

static size_t path_push_idx(cctx *c, size_t i)
{
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%zu]", i);
    if (n > 0 && (size_t)n < sizeof(c->path) - c->plen)
        c->plen += (size_t)n;
    c->path[c->plen] = '\0';
    return old;
}

static size_t path_push_key(cctx *c, const char *k)
{
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%s",
                     c->plen ? "." : "", k);
    if (n > 0 && (size_t)n < sizeof(c->path) - c->plen)
        c->plen += (size_t)n;
    c->path[c->plen] = '\0';
    return old;
}

static void path_pop(cctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

static void oom(cctx *c)
{
    if (!c->status)
        c->status = OMNI_ENOMEM;
}

static char *adup(cctx *c, const char *s, size_t n)
{
    char *p = omni__rr_strdup(&c->r->arena, s, n);
    if (!p)
        oom(c);
    return p;
}

static const char *type_name(const cJSON *v)
{
    if (!v)
        return "missing";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    return "an object";
}

static int is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

/* The compact JSON text of an item, in the arena. */
static const char *item_json(cctx *c, const cJSON *v)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_item(&b, v);
    const char *s = NULL;
    if (b.failed || !b.data)
        oom(c);
    else
        s = adup(c, b.data, b.len);
    omni__buf_free(&b);
    return s;
}

/* A scalar constant (strings copied, folded when fold is set). */
static int make_val(cctx *c, const cJSON *v, int fold, rr_val *out)
{
    memset(out, 0, sizeof(*out));
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        char *s = omni__rr_alloc(&c->r->arena, n + 1);
        if (!s) {
            oom(c);
            return -1;
        }
        if (fold)
            n = omni__rr_fold(s, v->valuestring, n);
        else
            memcpy(s, v->valuestring, n);
        s[n] = '\0';
        out->type = RR_STR;
        out->s = s;
        out->len = (uint32_t)n;
    } else if (cJSON_IsNumber(v)) {
        out->type = RR_NUM;
        out->num = v->valuedouble;
    } else if (cJSON_IsBool(v)) {
        out->type = RR_BOOL;
        out->b = cJSON_IsTrue(v) ? 1 : 0;
    } else if (cJSON_IsNull(v)) {
        out->type = RR_NULL;
    } else {
        return -1;
    }
    out->hash = omni__rr_val_hash(out->type, out->b, out->num, out->s, out->len);
    return 0;
}

static int val_eq(const rr_val *a, const rr_val *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case RR_STR: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case RR_NUM: return a->num == b->num;
    case RR_BOOL: return a->b == b->b;
    default: return 1;
    }
}

/* ---- the temporary path trie --------------------------------------------- */

static int tt_rehash(cctx *c, size_t cap)
{
    uint32_t *tab = calloc(cap, sizeof(*tab));
    if (!tab)
        return OMNI_ENOMEM;
    for (size_t i = 1; i < c->tt.n; i++) {
        const ttnode *t = &c->tt.v[i];
        size_t h = (t->hash ^ (t->parent * 0x9E3779B1u)) & (cap - 1);
        while (tab[h])
            h = (h + 1) & (cap - 1);
        tab[h] = (uint32_t)i;
    }
    free(c->tt_tab);
    c->tt_tab = tab;
    c->tt_cap = cap;
    return 0;
}

/* The child `key` of temp node `parent` (created when absent); 0 on OOM. */
static uint32_t tt_child(cctx *c, uint32_t parent, const char *key, size_t klen)
{
    uint32_t hash = omni__rr_fnv(key, klen);
    if (c->tt_cap) {
        size_t h = (hash ^ (parent * 0x9E3779B1u)) & (c->tt_cap - 1);
        for (; c->tt_tab[h]; h = (h + 1) & (c->tt_cap - 1)) {
            const ttnode *t = &c->tt.v[c->tt_tab[h]];
            if (t->parent == parent && t->hash == hash && t->klen == klen &&
                memcmp(t->key, key, klen) == 0)
                return c->tt_tab[h];
        }
    }
    if ((c->tt.n + 1) * 2 > c->tt_cap && tt_rehash(c, c->tt_cap ? c->tt_cap * 2 : 64)) {
        oom(c);
        return 0;
    }
    ttnode t;
    memset(&t, 0, sizeof(t));
    t.key = adup(c, key, klen);
    if (!t.key)
        return 0;
    t.klen = (uint32_t)klen;
    t.hash = hash;
    t.parent = parent;
    uint32_t id = (uint32_t)c->tt.n;
    int fail = 0;
    VPUSH(c->tt, t, fail = 1);
    if (fail) {
        oom(c);
        return 0;
    }
    ttnode *p = &c->tt.v[parent];
    if (p->last_kid)
        c->tt.v[p->last_kid - 1].next_sib = id + 1;
    else
        p->first_kid = id + 1;
    p->last_kid = id + 1;
    p->nkids++;
    size_t h = (hash ^ (parent * 0x9E3779B1u)) & (c->tt_cap - 1);
    while (c->tt_tab[h])
        h = (h + 1) & (c->tt_cap - 1);
    c->tt_tab[h] = id;
    return id;
}

/* ---- field paths ------------------------------------------------------------ */

typedef struct seglist {
    const char *s[MAX_SEGMENTS + 1];
    size_t n[MAX_SEGMENTS + 1];
    size_t count;
} seglist;

/* Registers a field (segments) and returns its temp trie node (0: error,
 * already reported or OOM). */
static uint32_t add_field(cctx *c, const seglist *sl)
{
    uint32_t node = 0;
    for (size_t i = 0; i < sl->count; i++) {
        node = tt_child(c, node, sl->s[i], sl->n[i]);
        if (!node)
            return 0;
    }
    c->tt.v[node].is_field = 1;
    return node;
}

static int check_segment(cctx *c, const char *s, size_t n)
{
    if (n == 0) {
        err_add(c, "empty path segment");
        return -1;
    }
    if (n > MAX_SEGMENT) {
        err_add(c, "path segment longer than %d bytes", MAX_SEGMENT);
        return -1;
    }
    if (memchr(s, '\0', n)) {
        err_add(c, "path segment holds a NUL character");
        return -1;
    }
    return 0;
}

/* A RoutingRule field "a.b.0". */
static uint32_t routing_field(cctx *c, const char *f, size_t len)
{
    if (len == 0) {
        err_add(c, "field must not be empty");
        return 0;
    }
    if (len > OMNI_RULES_MAX_PATH) {
        err_add(c, "field longer than %d bytes", OMNI_RULES_MAX_PATH);
        return 0;
    }
    seglist sl;
    sl.count = 0;
    const char *p = f, *e = f + len;
    while (1) {
        const char *d = memchr(p, '.', (size_t)(e - p));
        const char *se = d ? d : e;
        if (sl.count == MAX_SEGMENTS) {
            err_add(c, "field has more than %d segments", MAX_SEGMENTS);
            return 0;
        }
        if (check_segment(c, p, (size_t)(se - p)))
            return 0;
        sl.s[sl.count] = p;
        sl.n[sl.count++] = (size_t)(se - p);
        if (!d)
            break;
        p = d + 1;
    }
    return add_field(c, &sl);
}

/* A json-rules-engine fact + JSONPath ($.a.b, $.a[0], $['a b'], $["a b"]). */
static uint32_t jre_field(cctx *c, const char *fact, const char *path)
{
    seglist sl;
    sl.count = 0;
    size_t flen = strlen(fact);
    size_t total = flen;
    if (check_segment(c, fact, flen))
        return 0;
    sl.s[0] = fact;
    sl.n[0] = flen;
    sl.count = 1;
    if (path) {
        size_t plen = strlen(path);
        const char *p = path, *e = path + plen;
        if (plen == 0 || *p != '$') {
            err_add(c, "unsupported JSONPath \"%.100s\" (use $.a.b, $.a[0] or $['a b'])",
                    path);
            return 0;
        }
        p++;
        while (p < e) {
            const char *s;
            size_t n;
            if (*p == '.') {
                p++;
                s = p;
                while (p < e && *p != '.' && *p != '[')
                    p++;
                n = (size_t)(p - s);
                if (n == 0 || memchr(s, '*', n) || memchr(s, '@', n) || memchr(s, '(', n) ||
                    memchr(s, ']', n) || memchr(s, '\'', n) || memchr(s, '"', n)) {
                    err_add(c, "unsupported JSONPath \"%.100s\" (use $.a.b, $.a[0] or $['a b'])",
                            path);
                    return 0;
                }
            } else if (*p == '[' && p + 1 < e && (p[1] == '\'' || p[1] == '"')) {
                char q = p[1];
                s = p + 2;
                const char *qe = memchr(s, q, (size_t)(e - s));
                if (!qe || qe + 1 >= e || qe[1] != ']' || memchr(s, '\\', (size_t)(qe - s))) {
                    err_add(c, "unsupported JSONPath \"%.100s\" (use $.a.b, $.a[0] or $['a b'])",
                            path);
                    return 0;
                }
                n = (size_t)(qe - s);
                p = qe + 2;
            } else if (*p == '[') {
                s = p + 1;
                const char *q = s;
                while (q < e && *q >= '0' && *q <= '9')
                    q++;
                if (q == s || q >= e || *q != ']' || (q - s > 1 && *s == '0')) {
                    err_add(c, "unsupported JSONPath \"%.100s\" (use $.a.b, $.a[0] or $['a b'])",
                            path);
                    return 0;
                }
                n = (size_t)(q - s);
                p = q + 1;
            } else {
                err_add(c, "unsupported JSONPath \"%.100s\" (use $.a.b, $.a[0] or $['a b'])",
                        path);
                return 0;
            }
            if (sl.count == MAX_SEGMENTS) {
                err_add(c, "path has more than %d segments", MAX_SEGMENTS);
                return 0;
            }
            if (check_segment(c, s, n))
                return 0;
            total += n + 1;
            sl.s[sl.count] = s;
            sl.n[sl.count++] = n;
        }
    }
    if (total > OMNI_RULES_MAX_PATH) {
        err_add(c, "fact and path longer than %d bytes", OMNI_RULES_MAX_PATH);
        return 0;
    }
    return add_field(c, &sl);
}

/* ---- conditions ------------------------------------------------------------- */

typedef struct rule_build {
    int jre;
    size_t nconds; /* conditions and groups */
    int too_many;
} rule_build;

static int parse_node(cctx *c, rule_build *rb, const cJSON *v, int depth);

/* Appends a node; returns its index or -1. */
static long push_node(cctx *c, const rr_node *n, uint32_t ttn)
{
    int fail = 0;
    VPUSH(c->nodes, *n, fail = 1);
    if (!fail)
        VPUSH(c->node_ttn, ttn, fail = 1);
    if (fail) {
        oom(c);
        return -1;
    }
    return (long)c->nodes.n - 1;
}

static int count_node(cctx *c, rule_build *rb)
{
    if (++rb->nconds > OMNI_RULES_MAX_CONDITIONS) {
        if (!rb->too_many)
            err_add(c, "more than %d conditions and groups in one rule",
                    OMNI_RULES_MAX_CONDITIONS);
        rb->too_many = 1;
        return -1;
    }
    return 0;
}

/* A group of children (array) of kind all/any. */
static int parse_group_array(cctx *c, rule_build *rb, const cJSON *arr, int kind, int depth)
{
    if (depth > OMNI_RULES_MAX_DEPTH) {
        err_add(c, "groups nested more than %d deep", OMNI_RULES_MAX_DEPTH);
        return -1;
    }
    if (count_node(c, rb))
        return -1;
    rr_node g;
    memset(&g, 0, sizeof(g));
    g.kind = (uint8_t)kind;
    g.path = adup(c, c->path, c->plen);
    long gi = push_node(c, &g, 0);
    if (gi < 0)
        return -1;
    int bad = 0;
    size_t i = 0;
    for (const cJSON *ch = arr->child; ch; ch = ch->next, i++) {
        size_t old = path_push_idx(c, i);
        if (parse_node(c, rb, ch, depth))
            bad = 1;
        path_pop(c, old);
        if (rb->too_many || c->status)
            break;
    }
    c->nodes.v[gi].size = (uint32_t)(c->nodes.n - (size_t)gi);
    return bad ? -1 : 0;
}

static int parse_value_set(cctx *c, const cJSON *v, int fold, rr_set *set, int allow_scalar)
{
    if (allow_scalar && is_scalar(v)) {
        rr_val *vals = omni__rr_alloc(&c->r->arena, sizeof(rr_val));
        if (!vals || make_val(c, v, fold && cJSON_IsString(v), vals)) {
            oom(c);
            return -1;
        }
        set->v = vals;
        set->n = 1;
        return 0;
    }
    if (!cJSON_IsArray(v)) {
        err_add(c, "value must be an array of 1 to %d scalars%s", OMNI_RULES_MAX_IN,
                allow_scalar ? " or a scalar" : "");
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (n == 0 || n > OMNI_RULES_MAX_IN) {
        err_add(c, "value must be an array of 1 to %d scalars", OMNI_RULES_MAX_IN);
        return -1;
    }
    rr_val *vals = omni__rr_alloc(&c->r->arena, n * sizeof(rr_val));
    if (!vals) {
        oom(c);
        return -1;
    }
    size_t i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!is_scalar(e)) {
            size_t old = path_push_idx(c, i);
            err_add(c, "must be a scalar, not %s", type_name(e));
            path_pop(c, old);
            return -1;
        }
        if (make_val(c, e, fold && cJSON_IsString(e), &vals[i]))
            return -1;
    }
    set->v = vals;
    set->n = (uint32_t)n;
    if (n > 8) {
        uint32_t bits = 4;
        while ((1u << bits) < n * 2)
            bits++;
        uint32_t *tab = omni__rr_alloc(&c->r->arena, sizeof(uint32_t) << bits);
        if (!tab) {
            oom(c);
            return -1;
        }
        memset(tab, 0, sizeof(uint32_t) << bits);
        uint32_t mask = (1u << bits) - 1;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t h = vals[k].hash & mask;
            int dup = 0;
            while (tab[h]) {
                if (val_eq(&vals[tab[h] - 1], &vals[k])) {
                    dup = 1;
                    break;
                }
                h = (h + 1) & mask;
            }
            if (!dup)
                tab[h] = k + 1;
        }
        set->bits = bits;
        set->tab = tab;
    }
    return 0;
}

/* One condition {field|fact, operator, value, ...}. */
static int parse_cond(cctx *c, rule_build *rb, const cJSON *v)
{
    if (count_node(c, rb))
        return -1;
    rr_node n;
    memset(&n, 0, sizeof(n));
    n.kind = RR_N_COND;
    const cJSON *field = NULL, *fact = NULL, *jpath = NULL, *op = NULL, *value = NULL,
                *icase = NULL;
    int bad = 0;
    for (const cJSON *m = v->child; m; m = m->next) {
        const char *k = m->string;
        const cJSON **slot = NULL;
        if (!rb->jre && strcmp(k, "field") == 0)
            slot = &field;
        else if (!rb->jre && strcmp(k, "ignoreCase") == 0)
            slot = &icase;
        else if (rb->jre && strcmp(k, "fact") == 0)
            slot = &fact;
        else if (rb->jre && strcmp(k, "path") == 0)
            slot = &jpath;
        else if (strcmp(k, "operator") == 0)
            slot = &op;
        else if (strcmp(k, "value") == 0)
            slot = &value;
        else if (rb->jre && (strcmp(k, "params") == 0 || strcmp(k, "name") == 0 ||
                             strcmp(k, "priority") == 0))
            continue; /* fact parameters (static facts take none), labels */
        if (!slot) {
            size_t old = path_push_key(c, k);
            if (rb->jre && strcmp(k, "condition") == 0)
                err_add(c, "condition references are not supported");
            else
                err_add(c, "unknown member \"%.64s\"", k);
            path_pop(c, old);
            bad = 1;
            continue;
        }
        if (*slot) {
            size_t old = path_push_key(c, k);
            err_add(c, "duplicate member \"%s\"", k);
            path_pop(c, old);
            bad = 1;
        }
        *slot = m;
    }
    /* the field */
    uint32_t ttn = 0;
    if (!rb->jre) {
        size_t old = path_push_key(c, "field");
        if (!field) {
            path_pop(c, old);
            err_add(c, "missing field");
            bad = 1;
        } else if (!cJSON_IsString(field)) {
            err_add(c, "field must be a string, not %s", type_name(field));
            bad = 1;
        } else {
            ttn = routing_field(c, field->valuestring, strlen(field->valuestring));
            if (!ttn)
                bad = 1;
            n.field_name = adup(c, field->valuestring, strlen(field->valuestring));
        }
        path_pop(c, old);
        if (icase && !cJSON_IsBool(icase)) {
            old = path_push_key(c, "ignoreCase");
            err_add(c, "ignoreCase must be a boolean, not %s", type_name(icase));
            path_pop(c, old);
            bad = 1;
        } else if (cJSON_IsTrue(icase)) {
            n.flags |= RR_F_ICASE;
        }
    } else {
        n.flags |= RR_F_STRICT;
        const char *ps = NULL;
        if (jpath) {
            size_t old = path_push_key(c, "path");
            if (!cJSON_IsString(jpath)) {
                err_add(c, "path must be a string, not %s", type_name(jpath));
                bad = 1;
            } else {
                ps = jpath->valuestring;
                n.jpath = adup(c, ps, strlen(ps));
            }
            path_pop(c, old);
        }
        size_t old = path_push_key(c, "fact");
        if (!fact) {
            path_pop(c, old);
            err_add(c, "missing fact");
            bad = 1;
        } else if (!cJSON_IsString(fact)) {
            err_add(c, "fact must be a string, not %s", type_name(fact));
            bad = 1;
        } else {
            if (ps) {
                path_pop(c, old);
                old = path_push_key(c, "path");
            }
            ttn = jre_field(c, fact->valuestring, ps);
            if (!ttn)
                bad = 1;
            n.field_name = adup(c, fact->valuestring, strlen(fact->valuestring));
        }
        path_pop(c, old);
    }
    /* the operator */
    int opc = -1;
    {
        size_t old = path_push_key(c, "operator");
        if (!op) {
            path_pop(c, old);
            err_add(c, "missing operator");
            bad = 1;
        } else if (!cJSON_IsString(op)) {
            err_add(c, "operator must be a string, not %s", type_name(op));
            bad = 1;
        } else if (rb->jre) {
            for (size_t i = 0; i < sizeof(jre_ops) / sizeof(jre_ops[0]); i++)
                if (strcmp(op->valuestring, jre_ops[i].name) == 0)
                    opc = jre_ops[i].op;
            if (opc < 0) {
                if (strchr(op->valuestring, ':'))
                    err_add(c, "operator decorators are not supported (\"%.64s\")",
                            op->valuestring);
                else
                    err_add(c, "unknown operator \"%.64s\"", op->valuestring);
                bad = 1;
            }
        } else {
            for (int i = 0; i <= RR_OP_MATCHES; i++)
                if (strcmp(op->valuestring, op_names[i]) == 0)
                    opc = i;
            if (opc < 0) {
                err_add(c, "unknown operator \"%.64s\"", op->valuestring);
                bad = 1;
            }
        }
        path_pop(c, old);
        if (opc >= 0)
            n.op_name = adup(c, op->valuestring, strlen(op->valuestring));
    }
    /* the value */
    if (opc >= 0) {
        n.op = (uint8_t)opc;
        int fold = (n.flags & RR_F_ICASE) != 0;
        size_t old = path_push_key(c, "value");
        if (!value && opc != RR_OP_EXISTS) {
            path_pop(c, old);
            err_add(c, "missing value");
            old = c->plen;
            bad = 1;
        } else if (rb->jre && cJSON_IsObject(value) &&
                   cJSON_GetObjectItemCaseSensitive(value, "fact")) {
            err_add(c, "fact references as values are not supported");
            bad = 1;
        } else {
            switch (opc) {
            case RR_OP_EQ:
            case RR_OP_NE:
            case RR_OP_CONTAINS:
            case RR_OP_NOTCONTAINS:
                if (!is_scalar(value)) {
                    err_add(c, "value must be a scalar, not %s", type_name(value));
                    bad = 1;
                } else if (make_val(c, value, fold && cJSON_IsString(value), &n.v)) {
                    bad = 1;
                }
                break;
            case RR_OP_EQI:
            case RR_OP_STARTS:
            case RR_OP_ENDS:
                if (!cJSON_IsString(value)) {
                    err_add(c, "value must be a string, not %s", type_name(value));
                    bad = 1;
                } else {
                    if (opc == RR_OP_EQI)
                        n.flags |= RR_F_ICASE;
                    if (make_val(c, value, (n.flags & RR_F_ICASE) != 0, &n.v))
                        bad = 1;
                }
                break;
            case RR_OP_IN:
            case RR_OP_NOTIN:
            case RR_OP_ANYBUT:
                if (parse_value_set(c, value, fold, &n.set, opc == RR_OP_ANYBUT))
                    bad = 1;
                break;
            case RR_OP_EXISTS:
                if (value && !cJSON_IsBool(value)) {
                    err_add(c, "value must be a boolean, not %s", type_name(value));
                    bad = 1;
                }
                n.v.type = RR_BOOL;
                n.v.b = !value || cJSON_IsTrue(value);
                break;
            case RR_OP_GT:
            case RR_OP_GE:
            case RR_OP_LT:
            case RR_OP_LE:
                if (rb->jre ? !cJSON_IsNumber(value)
                            : !(cJSON_IsNumber(value) || cJSON_IsString(value))) {
                    err_add(c, "value must be a number%s, not %s", rb->jre ? "" : " or a string",
                            type_name(value));
                    bad = 1;
                } else if (make_val(c, value, fold && cJSON_IsString(value), &n.v)) {
                    bad = 1;
                }
                break;
            case RR_OP_BETWEEN: {
                const cJSON *lo = cJSON_IsArray(value) ? value->child : NULL;
                const cJSON *hi = lo ? lo->next : NULL;
                int nums = cJSON_IsNumber(lo) && cJSON_IsNumber(hi);
                int strs = cJSON_IsString(lo) && cJSON_IsString(hi);
                if (!hi || hi->next || !(nums || strs)) {
                    err_add(c, "value must be [low, high], both numbers or both strings");
                    bad = 1;
                } else if (make_val(c, lo, fold && strs, &n.v) ||
                           make_val(c, hi, fold && strs, &n.v2)) {
                    bad = 1;
                } else if (nums ? n.v.num > n.v2.num
                                : (memcmp(n.v.s, n.v2.s,
                                          n.v.len < n.v2.len ? n.v.len : n.v2.len) > 0 ||
                                   (memcmp(n.v.s, n.v2.s,
                                           n.v.len < n.v2.len ? n.v.len : n.v2.len) == 0 &&
                                    n.v.len > n.v2.len))) {
                    err_add(c, "low is greater than high");
                    bad = 1;
                }
                break;
            }
            case RR_OP_MATCHES:
                if (!cJSON_IsString(value)) {
                    err_add(c, "value must be a string (a regular expression), not %s",
                            type_name(value));
                    bad = 1;
                } else if (strlen(value->valuestring) > OMNI_RULES_MAX_REGEX) {
                    err_add(c, "regular expression longer than %d bytes", OMNI_RULES_MAX_REGEX);
                    bad = 1;
                } else {
                    int st = omni__regex_compile(&n.re, value->valuestring,
                                                 strlen(value->valuestring),
                                                 fold ? OMNI__REGEX_ICASE : 0);
                    if (st == OMNI_ENOMEM) {
                        oom(c);
                        bad = 1;
                    } else if (st) {
                        err_add(c, "bad regular expression: %s", omni_error_last_message());
                        bad = 1;
                    }
                }
                break;
            default:
                break;
            }
        }
        path_pop(c, old);
        if (value)
            n.value_json = item_json(c, value);
    }
    n.size = 1;
    n.path = adup(c, c->path, c->plen);
    if (push_node(c, &n, ttn) < 0) {
        omni__regex_free(n.re);
        return -1;
    }
    /* a regex compiled for a condition with other errors is released with
     * the other nodes */
    if (bad)
        return -1;
    return 0;
}

/* A condition or a group object. */
static int parse_node(cctx *c, rule_build *rb, const cJSON *v, int depth)
{
    if (!cJSON_IsObject(v)) {
        err_add(c, "a condition must be an object, not %s", type_name(v));
        return -1;
    }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(v, "all");
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(v, "any");
    const cJSON *not = cJSON_GetObjectItemCaseSensitive(v, "not");
    int groups = (all != NULL) + (any != NULL) + (not != NULL);
    if (groups == 0) {
        if (rb->jre && cJSON_GetObjectItemCaseSensitive(v, "condition")) {
            err_add(c, "condition references are not supported");
            return -1;
        }
        return parse_cond(c, rb, v);
    }
    int bad = 0;
    for (const cJSON *m = v->child; m; m = m->next) {
        if (strcmp(m->string, "all") == 0 || strcmp(m->string, "any") == 0 ||
            strcmp(m->string, "not") == 0)
            continue;
        if (rb->jre && (strcmp(m->string, "name") == 0 || strcmp(m->string, "priority") == 0))
            continue;
        size_t old = path_push_key(c, m->string);
        err_add(c, "unknown member \"%.64s\" in a group", m->string);
        path_pop(c, old);
        bad = 1;
    }
    if (groups > 1) {
        err_add(c, "a group has exactly one of all, any, not");
        return -1;
    }
    if (bad)
        return -1;
    const cJSON *g = all ? all : any ? any : not;
    size_t old = path_push_key(c, g->string);
    int rc;
    if (not) {
        if (depth + 1 > OMNI_RULES_MAX_DEPTH) {
            err_add(c, "groups nested more than %d deep", OMNI_RULES_MAX_DEPTH);
            rc = -1;
        } else if (count_node(c, rb)) {
            rc = -1;
        } else {
            rr_node gn;
            memset(&gn, 0, sizeof(gn));
            gn.kind = RR_N_NOT;
            gn.path = adup(c, c->path, c->plen);
            long gi = push_node(c, &gn, 0);
            rc = gi < 0 ? -1 : parse_node(c, rb, not, depth + 1);
            if (gi >= 0)
                c->nodes.v[gi].size = (uint32_t)(c->nodes.n - (size_t)gi);
        }
    } else if (!cJSON_IsArray(g)) {
        err_add(c, "%s must be an array, not %s", g->string, type_name(g));
        rc = -1;
    } else {
        rc = parse_group_array(c, rb, g, all ? RR_N_ALL : RR_N_ANY, depth + 1);
    }
    path_pop(c, old);
    return rc;
}

/* ---- actions ---------------------------------------------------------------- */

static const struct {
    const char *name;
    int type;
} action_types[] = {
    {"route_to_agent", RR_A_AGENT}, {"route_to_queue", RR_A_QUEUE},
    {"route_to_bot", RR_A_BOT},     {"add_tag", RR_A_TAG},
    {"set_priority", RR_A_PRIORITY}, {"auto_respond", RR_A_AUTO},
    {"block", RR_A_BLOCK},          {"escalate", RR_A_ESCALATE},
    {"stop", RR_A_STOP},
};

static int action_type(const char *s)
{
    for (size_t i = 0; i < sizeof(action_types) / sizeof(action_types[0]); i++)
        if (strcmp(s, action_types[i].name) == 0)
            return action_types[i].type;
    return -1;
}

static int priority_level(const char *s)
{
    if (strcmp(s, "low") == 0)
        return OMNI__RULES_PRIORITY_LOW;
    if (strcmp(s, "normal") == 0)
        return OMNI__RULES_PRIORITY_NORMAL;
    if (strcmp(s, "high") == 0)
        return OMNI__RULES_PRIORITY_HIGH;
    if (strcmp(s, "urgent") == 0)
        return OMNI__RULES_PRIORITY_URGENT;
    return 0;
}

/* A string member (1..MAX_ID bytes); required or optional. Returns the
 * string, NULL when absent (an error reported when required) or bad. */
static const char *act_str(cctx *c, const cJSON *obj, const char *name, int required, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) {
        if (required) {
            err_add(c, "missing %s", name);
            *bad = 1;
        }
        return NULL;
    }
    size_t old = path_push_key(c, name);
    const char *s = NULL;
    if (!cJSON_IsString(v) || strlen(v->valuestring) == 0 ||
        strlen(v->valuestring) > OMNI_RULES_MAX_ID) {
        err_add(c, "%s must be a string of 1 to %d bytes", name, OMNI_RULES_MAX_ID);
        *bad = 1;
    } else {
        s = v->valuestring;
    }
    path_pop(c, old);
    return s;
}

static void act_str_array(cctx *c, const cJSON *obj, const char *name, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return;
    size_t old = path_push_key(c, name);
    if (!cJSON_IsArray(v)) {
        err_add(c, "%s must be an array of strings, not %s", name, type_name(v));
        *bad = 1;
    } else {
        size_t i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            if (!cJSON_IsString(e) || strlen(e->valuestring) == 0 ||
                strlen(e->valuestring) > OMNI_RULES_MAX_ID) {
                size_t o2 = path_push_idx(c, i);
                err_add(c, "must be a string of 1 to %d bytes", OMNI_RULES_MAX_ID);
                path_pop(c, o2);
                *bad = 1;
            }
        }
    }
    path_pop(c, old);
}

/* Validates an action object (members of `obj`, type `type`) into *a;
 * `type_item` is written first in the output and skipped among members. */
static int parse_action_body(cctx *c, const cJSON *obj, int type, const char *type_str,
                             rr_action *a)
{
    int bad = 0;
    memset(a, 0, sizeof(*a));
    a->type = type;
    const char *s;
    switch (type) {
    case RR_A_AGENT:
    case RR_A_QUEUE:
    case RR_A_BOT: {
        static const char *const idk[] = {"agentId", "queueId", "botId"};
        static const char *const namek[] = {"agentName", "queueName", "botName"};
        static const char *const dt[] = {"agent", "queue", "bot"};
        int k = type - RR_A_AGENT;
        a->dest_type = dt[k];
        s = act_str(c, obj, idk[k], 1, &bad);
        a->id = s ? adup(c, s, strlen(s)) : NULL;
        s = act_str(c, obj, namek[k], 0, &bad);
        a->name = s ? adup(c, s, strlen(s)) : NULL;
        omni_buf m = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&m);
        if (type == RR_A_AGENT) {
            act_str_array(c, obj, "skills", &bad);
            const cJSON *sk = cJSON_GetObjectItemCaseSensitive(obj, "skills");
            if (sk) {
                omni__json_w_keyl(&m, "skillSet");
                omni__json_w_item(&m, sk);
            }
        } else if (type == RR_A_QUEUE) {
            const cJSON *w = cJSON_GetObjectItemCaseSensitive(obj, "estimatedWait");
            if (w && !cJSON_IsNumber(w)) {
                size_t old = path_push_key(c, "estimatedWait");
                err_add(c, "estimatedWait must be a number, not %s", type_name(w));
                path_pop(c, old);
                bad = 1;
            } else if (w) {
                omni__json_w_keyl(&m, "estimatedWait");
                omni__json_w_item(&m, w);
            }
        } else {
            act_str_array(c, obj, "botCapabilities", &bad);
            const cJSON *cap = cJSON_GetObjectItemCaseSensitive(obj, "botCapabilities");
            if (cap) {
                omni__json_w_keyl(&m, "capabilities");
                omni__json_w_item(&m, cap);
            }
        }
        omni__json_w_obj_end(&m);
        if (m.failed)
            oom(c);
        else
            a->metadata = adup(c, m.data, m.len);
        omni__buf_free(&m);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "priority");
        if (p) {
            size_t old = path_push_key(c, "priority");
            if (!cJSON_IsString(p) || !(a->priority = priority_level(p->valuestring))) {
                err_add(c, "priority must be \"low\", \"normal\", \"high\" or \"urgent\"");
                bad = 1;
            }
            path_pop(c, old);
        }
        break;
    }
    case RR_A_TAG:
        s = act_str(c, obj, "tag", 1, &bad);
        a->id = s ? adup(c, s, strlen(s)) : NULL;
        break;
    case RR_A_PRIORITY: {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "priority");
        if (!p) {
            err_add(c, "missing priority");
            bad = 1;
        } else {
            size_t old = path_push_key(c, "priority");
            if (!cJSON_IsString(p) || !(a->priority = priority_level(p->valuestring))) {
                err_add(c, "priority must be \"low\", \"normal\", \"high\" or \"urgent\"");
                bad = 1;
            }
            path_pop(c, old);
        }
        break;
    }
    case RR_A_AUTO:
        s = act_str(c, obj, "templateId", 1, &bad);
        a->id = s ? adup(c, s, strlen(s)) : NULL;
        break;
    case RR_A_BLOCK:
    case RR_A_ESCALATE: {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "reason");
        if (r) {
            size_t old = path_push_key(c, "reason");
            if (!cJSON_IsString(r) || strlen(r->valuestring) > OMNI_RULES_MAX_ID) {
                err_add(c, "reason must be a string of at most %d bytes", OMNI_RULES_MAX_ID);
                bad = 1;
            }
            path_pop(c, old);
        }
        break;
    }
    default:
        break;
    }
    /* the output members: type first, then the others in order */
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "type");
    omni__json_w_str(&b, type_str);
    for (const cJSON *m = obj ? obj->child : NULL; m; m = m->next) {
        if (strcmp(m->string, "type") == 0)
            continue;
        omni__json_w_key(&b, m->string);
        omni__json_w_item(&b, m);
    }
    omni__json_w_obj_end(&b);
    if (b.failed) {
        oom(c);
    } else {
        /* without the braces: "type":...,... */
        a->json = adup(c, b.data + 1, b.len - 2);
    }
    omni__buf_free(&b);
    return bad ? -1 : 0;
}

static int push_action(cctx *c, const rr_action *a)
{
    int fail = 0;
    VPUSH(c->actions, *a, fail = 1);
    if (fail) {
        oom(c);
        return -1;
    }
    return 0;
}

static int parse_actions(cctx *c, const cJSON *acts, rr_rule *rule)
{
    size_t old = path_push_key(c, "actions");
    int bad = 0;
    if (!acts) {
        path_pop(c, old);
        err_add(c, "missing actions");
        return -1;
    }
    if (!cJSON_IsArray(acts)) {
        err_add(c, "actions must be an array, not %s", type_name(acts));
        path_pop(c, old);
        return -1;
    }
    if (cJSON_GetArraySize(acts) > OMNI_RULES_MAX_ACTIONS) {
        err_add(c, "more than %d actions", OMNI_RULES_MAX_ACTIONS);
        path_pop(c, old);
        return -1;
    }
    size_t i = 0;
    for (const cJSON *a = acts->child; a; a = a->next, i++) {
        size_t o2 = path_push_idx(c, i);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
        int type = -1;
        if (!cJSON_IsObject(a)) {
            err_add(c, "an action must be an object, not %s", type_name(a));
            bad = 1;
        } else if (!t) {
            err_add(c, "missing type");
            bad = 1;
        } else if (!cJSON_IsString(t)) {
            size_t o3 = path_push_key(c, "type");
            err_add(c, "type must be a string, not %s", type_name(t));
            path_pop(c, o3);
            bad = 1;
        } else if ((type = action_type(t->valuestring)) < 0) {
            size_t o3 = path_push_key(c, "type");
            err_add(c, "unknown action type \"%.64s\"", t->valuestring);
            path_pop(c, o3);
            bad = 1;
        } else {
            rr_action ra;
            if (parse_action_body(c, a, type, t->valuestring, &ra))
                bad = 1;
            else if (push_action(c, &ra) == 0) {
                rule->act_n++;
                if (type == RR_A_STOP)
                    rule->has_stop = 1;
            }
        }
        path_pop(c, o2);
    }
    path_pop(c, old);
    return bad ? -1 : 0;
}

/* json-rules-engine's event: one action. */
static int parse_event(cctx *c, const cJSON *ev, rr_rule *rule)
{
    size_t old = path_push_key(c, "event");
    int bad = 0;
    if (!cJSON_IsObject(ev)) {
        err_add(c, "event must be an object, not %s", type_name(ev));
        path_pop(c, old);
        return -1;
    }
    const cJSON *t = NULL, *params = NULL;
    for (const cJSON *m = ev->child; m; m = m->next) {
        if (strcmp(m->string, "type") == 0) {
            t = m;
        } else if (strcmp(m->string, "params") == 0) {
            params = m;
        } else {
            size_t o2 = path_push_key(c, m->string);
            err_add(c, "unknown member \"%.64s\"", m->string);
            path_pop(c, o2);
            bad = 1;
        }
    }
    if (!t) {
        err_add(c, "missing type");
        bad = 1;
    } else if (!cJSON_IsString(t) || strlen(t->valuestring) == 0 ||
               strlen(t->valuestring) > OMNI_RULES_MAX_ID) {
        size_t o2 = path_push_key(c, "type");
        err_add(c, "type must be a string of 1 to %d bytes", OMNI_RULES_MAX_ID);
        path_pop(c, o2);
        bad = 1;
    }
    if (params && !cJSON_IsObject(params)) {
        size_t o2 = path_push_key(c, "params");
        err_add(c, "params must be an object, not %s", type_name(params));
        path_pop(c, o2);
        bad = 1;
    }
    if (!bad) {
        int type = action_type(t->valuestring);
        rr_action ra;
        if (type >= 0) {
            size_t o2 = path_push_key(c, "params");
            cJSON empty;
            memset(&empty, 0, sizeof(empty));
            empty.type = cJSON_Object;
            if (parse_action_body(c, params ? params : &empty, type, t->valuestring, &ra))
                bad = 1;
            path_pop(c, o2);
        } else {
            memset(&ra, 0, sizeof(ra));
            ra.type = RR_A_EVENT;
            omni_buf b = OMNI_BUF_INIT;
            omni__json_w_keyl(&b, "type");
            omni__json_w_str(&b, "event");
            omni__json_w_keyl(&b, "event");
            omni__json_w_item(&b, ev);
            if (b.failed)
                oom(c);
            else
                ra.json = adup(c, b.data, b.len);
            omni__buf_free(&b);
        }
        if (!bad && push_action(c, &ra) == 0) {
            rule->act_n = 1;
            rule->has_stop = ra.type == RR_A_STOP;
        }
    }
    path_pop(c, old);
    return bad ? -1 : 0;
}

/* ---- rules ------------------------------------------------------------------- */

static int valid_id(const cJSON *v)
{
    return cJSON_IsString(v) && strlen(v->valuestring) >= 1 &&
           strlen(v->valuestring) <= OMNI_RULES_MAX_ID;
}

static int parse_rule(cctx *c, const cJSON *v, size_t index, rr_rule *rule)
{
    memset(rule, 0, sizeof(*rule));
    rule->enabled = 1;
    c->rule_id = NULL;
    if (!cJSON_IsObject(v)) {
        err_add(c, "a rule must be an object, not %s", type_name(v));
        return -1;
    }
    int jre = c->fmt_jre_forced ||
              (!c->fmt_routing_forced && cJSON_GetObjectItemCaseSensitive(v, "event"));
    int bad = 0;
    char hash_id[32];
    const cJSON *id = NULL, *name = NULL, *prio = NULL, *enabled = NULL, *conds = NULL,
                *acts = NULL, *event = NULL;
    for (const cJSON *m = v->child; m; m = m->next) {
        const char *k = m->string;
        const cJSON **slot = NULL;
        if (!jre && strcmp(k, "id") == 0)
            slot = &id;
        else if (strcmp(k, "name") == 0)
            slot = &name;
        else if (strcmp(k, "priority") == 0)
            slot = &prio;
        else if (!jre && strcmp(k, "enabled") == 0)
            slot = &enabled;
        else if (strcmp(k, "conditions") == 0)
            slot = &conds;
        else if (!jre && strcmp(k, "actions") == 0)
            slot = &acts;
        else if (jre && strcmp(k, "event") == 0)
            slot = &event;
        if (slot && !*slot) {
            *slot = m;
            continue;
        }
        /* reported below, once the id is known */
    }
    /* the id first, so every error names it */
    if (jre) {
        if (name && valid_id(name)) {
            c->rule_id = name->valuestring;
        } else {
            snprintf(hash_id, sizeof(hash_id), "#%zu", index);
            c->rule_id = hash_id;
        }
        rule->id = adup(c, c->rule_id, strlen(c->rule_id));
        if (name && !valid_id(name)) {
            size_t old = path_push_key(c, "name");
            err_add(c, "name must be a string of 1 to %d bytes", OMNI_RULES_MAX_ID);
            path_pop(c, old);
            bad = 1;
        }
    } else {
        if (!id) {
            err_add(c, "missing id");
            bad = 1;
        } else if (!valid_id(id)) {
            size_t old = path_push_key(c, "id");
            err_add(c, "id must be a string of 1 to %d bytes", OMNI_RULES_MAX_ID);
            path_pop(c, old);
            bad = 1;
        } else {
            c->rule_id = id->valuestring;
            rule->id = adup(c, c->rule_id, strlen(c->rule_id));
        }
        if (name && (!cJSON_IsString(name) || strlen(name->valuestring) > OMNI_RULES_MAX_ID)) {
            size_t old = path_push_key(c, "name");
            err_add(c, "name must be a string of at most %d bytes", OMNI_RULES_MAX_ID);
            path_pop(c, old);
            bad = 1;
        }
    }
    /* members */
    {
        const cJSON *seen[8] = {0};
        size_t nseen = 0;
        for (const cJSON *m = v->child; m; m = m->next) {
            const char *k = m->string;
            int known = strcmp(k, "name") == 0 || strcmp(k, "priority") == 0 ||
                        strcmp(k, "conditions") == 0 ||
                        (!jre && (strcmp(k, "id") == 0 || strcmp(k, "enabled") == 0 ||
                                  strcmp(k, "actions") == 0)) ||
                        (jre && strcmp(k, "event") == 0);
            size_t old = path_push_key(c, k);
            if (!known) {
                if (!jre && strcmp(k, "event") == 0)
                    err_add(c, "unknown member \"event\" (a json-rules-engine rule in the "
                               "routing format)");
                else
                    err_add(c, "unknown member \"%.64s\"", k);
                bad = 1;
            } else {
                int dup = 0;
                for (size_t i = 0; i < nseen; i++)
                    if (strcmp(seen[i]->string, k) == 0)
                        dup = 1;
                if (dup) {
                    err_add(c, "duplicate member \"%s\"", k);
                    bad = 1;
                } else if (nseen < 8) {
                    seen[nseen++] = m;
                }
            }
            path_pop(c, old);
        }
    }
    /* priority */
    if (prio) {
        size_t old = path_push_key(c, "priority");
        double d = cJSON_IsNumber(prio) ? prio->valuedouble : NAN;
        if (!cJSON_IsNumber(prio) || d != floor(d) || fabs(d) > 2147483647.0) {
            err_add(c, "priority must be an integer of at most 2^31 - 1 in magnitude");
            bad = 1;
        } else if (jre && d < 1) {
            err_add(c, "priority must be at least 1");
            bad = 1;
        } else {
            rule->priority = (int64_t)d;
        }
        path_pop(c, old);
    } else {
        rule->priority = jre ? 1 : 0;
    }
    if (enabled) {
        if (!cJSON_IsBool(enabled)) {
            size_t old = path_push_key(c, "enabled");
            err_add(c, "enabled must be a boolean, not %s", type_name(enabled));
            path_pop(c, old);
            bad = 1;
        } else {
            rule->enabled = cJSON_IsTrue(enabled);
        }
    }
    /* conditions */
    rule->node_off = (uint32_t)c->nodes.n;
    {
        rule_build rb = {jre, 0, 0};
        size_t old = path_push_key(c, "conditions");
        if (!conds) {
            path_pop(c, old);
            err_add(c, "missing conditions");
            bad = 1;
        } else if (cJSON_IsArray(conds) && !jre) {
            if (parse_group_array(c, &rb, conds, RR_N_ALL, 1))
                bad = 1;
        } else if (cJSON_IsObject(conds) &&
                   (cJSON_GetObjectItemCaseSensitive(conds, "all") ||
                    cJSON_GetObjectItemCaseSensitive(conds, "any") ||
                    cJSON_GetObjectItemCaseSensitive(conds, "not"))) {
            if (parse_node(c, &rb, conds, 0))
                bad = 1;
        } else if (jre && cJSON_IsObject(conds) &&
                   cJSON_GetObjectItemCaseSensitive(conds, "condition")) {
            err_add(c, "condition references are not supported");
            bad = 1;
        } else {
            err_add(c, jre ? "conditions must be an object with all, any or not"
                           : "conditions must be an array or a group (all, any or not)");
            bad = 1;
        }
        path_pop(c, old);
    }
    rule->node_n = (uint32_t)(c->nodes.n - rule->node_off);
    /* actions */
    rule->act_off = (uint32_t)c->actions.n;
    if (jre) {
        if (!event) {
            err_add(c, "missing event");
            bad = 1;
        } else if (parse_event(c, event, rule)) {
            bad = 1;
        }
    } else if (parse_actions(c, acts, rule)) {
        bad = 1;
    }
    if (rule->id) {
        omni_buf b = OMNI_BUF_INIT;
        omni__json_w_str(&b, rule->id);
        if (b.failed)
            oom(c);
        else
            rule->id_json = adup(c, b.data, b.len);
        omni__buf_free(&b);
    }
    return bad ? -1 : 0;
}

/* ---- options ------------------------------------------------------------------ */

static int parse_options(cctx *c, const char *opts, size_t len, omni__tz **tz)
{
    *tz = NULL;
    const char *zone = NULL;
    cJSON *root = NULL;
    if (opts && len) {
        int st = omni__json_parse(&root, opts, len, 64 * 1024, "rules options");
        if (st)
            return st;
        if (!cJSON_IsObject(root)) {
            cJSON_Delete(root);
            return omni__err(OMNI_EINVAL, "rules options: must be a JSON object");
        }
        for (const cJSON *m = root->child; m; m = m->next) {
            if (strcmp(m->string, "timeZone") == 0) {
                if (!cJSON_IsString(m)) {
                    cJSON_Delete(root);
                    return omni__err(OMNI_EINVAL, "rules options: timeZone must be a string");
                }
                zone = m->valuestring;
            } else if (strcmp(m->string, "format") == 0) {
                const char *f = cJSON_IsString(m) ? m->valuestring : "";
                if (strcmp(f, "routing") == 0) {
                    c->fmt_routing_forced = 1;
                } else if (strcmp(f, "json-rules-engine") == 0) {
                    c->fmt_jre_forced = 1;
                } else if (strcmp(f, "auto") != 0) {
                    cJSON_Delete(root);
                    return omni__err(OMNI_EINVAL, "rules options: format must be \"auto\", "
                                                  "\"routing\" or \"json-rules-engine\"");
                }
            } else {
                int st = omni__err(OMNI_EINVAL, "rules options: unknown member \"%.64s\"",
                                   m->string);
                cJSON_Delete(root);
                return st;
            }
        }
    } else if (!opts && len) {
        return omni__err(OMNI_EINVAL, "rules options: NULL with a length");
    }
    int st;
    if (!zone || strcmp(zone, "UTC") == 0)
        st = omni__tz_utc(tz);
    else
        st = omni__tz_load(tz, zone);
    if (st && st != OMNI_ENOMEM && st != OMNI_ENOTFOUND)
        st = omni__err(OMNI_EINVAL, "rules options: invalid timeZone \"%.128s\"", zone);
    else if (st == OMNI_ENOTFOUND)
        st = omni__err(OMNI_ENOTFOUND, "rules options: unknown timeZone \"%.128s\"", zone);
    cJSON_Delete(root);
    return st;
}

/* ---- the trie, fields ----------------------------------------------------------- */

static int build_trie(cctx *c)
{
    omni_rules *r = c->r;
    size_t nt = c->tt.n;
    r->tnodes = calloc(nt, sizeof(rr_tnode));
    uint32_t *order = malloc(nt * sizeof(uint32_t)); /* final -> temp */
    uint32_t *stack = malloc(nt * sizeof(uint32_t));
    if (!r->tnodes || !order || !stack) {
        free(order);
        free(stack);
        return OMNI_ENOMEM;
    }
    r->ntnodes = nt;
    /* breadth-first layout: children contiguous */
    order[0] = 0;
    c->tt.v[0].final = 0;
    size_t next = 1;
    size_t tabs = 0;
    for (size_t i = 0; i < next; i++) {
        ttnode *t = &c->tt.v[order[i]];
        rr_tnode *f = &r->tnodes[i];
        f->key = t->key ? t->key : "";
        f->klen = t->klen;
        f->hash = t->hash;
        f->khash = omni__rr_khash(f->key, f->klen);
        f->child_off = (uint32_t)next;
        f->child_n = t->nkids;
        f->max_index = -1;
        for (uint32_t k = t->first_kid; k; k = c->tt.v[k - 1].next_sib) {
            c->tt.v[k - 1].final = (uint32_t)next;
            order[next++] = k - 1;
        }
        if (t->nkids > 8) {
            uint32_t bits = 4;
            while ((1u << bits) < t->nkids * 2)
                bits++;
            f->tab_bits = bits;
            f->tab_off = (uint32_t)tabs;
            tabs += (size_t)1 << bits;
        }
    }
    r->tabs = calloc(tabs ? tabs : 1, sizeof(uint32_t));
    if (!r->tabs) {
        free(order);
        free(stack);
        return OMNI_ENOMEM;
    }
    for (size_t i = 0; i < nt; i++) {
        rr_tnode *f = &r->tnodes[i];
        /* array index keys: decimal without leading zeros */
        f->index = -1;
        if (i && f->klen > 0 && f->klen <= 9 && (f->klen == 1 || f->key[0] != '0')) {
            int64_t v = 0;
            uint32_t k;
            for (k = 0; k < f->klen && f->key[k] >= '0' && f->key[k] <= '9'; k++)
                v = v * 10 + (f->key[k] - '0');
            if (k == f->klen)
                f->index = v;
        }
        if (f->tab_bits) {
            uint32_t mask = (1u << f->tab_bits) - 1;
            uint32_t *tab = r->tabs + f->tab_off;
            for (uint32_t k = 0; k < f->child_n; k++) {
                uint32_t h = r->tnodes[f->child_off + k].khash & mask;
                while (tab[h])
                    h = (h + 1) & mask;
                tab[h] = k + 1;
            }
        }
    }
    for (size_t i = 0; i < nt; i++) {
        rr_tnode *f = &r->tnodes[i];
        for (uint32_t k = 0; k < f->child_n; k++) {
            int64_t ix = r->tnodes[f->child_off + k].index;
            if (ix > f->max_index)
                f->max_index = ix;
        }
    }
    /* field ids in depth-first order: a subtree's fields are contiguous */
    uint32_t fid = 0;
    size_t sp = 0;
    /* iterative DFS with enter / exit marks (high bit: exit) */
    stack[sp++] = 0;
    uint32_t *mark = calloc(nt, sizeof(uint32_t));
    if (!mark) {
        free(order);
        free(stack);
        return OMNI_ENOMEM;
    }
    while (sp) {
        uint32_t i = stack[sp - 1];
        rr_tnode *f = &r->tnodes[i];
        if (!mark[i]) {
            mark[i] = 1;
            f->flo = fid;
            if (i && c->tt.v[order[i]].is_field)
                f->field = ++fid;
            /* push children in reverse so the first is visited first */
            for (uint32_t k = f->child_n; k > 0; k--)
                stack[sp++] = f->child_off + k - 1;
        } else {
            sp--;
            f->fhi = fid;
        }
    }
    free(mark);
    r->nfields = fid;
    /* the stack may hold up to nt entries at once: every node is pushed once */
    free(order);
    free(stack);
    /* "time" under the root */
    const rr_tnode *tn = omni__rr_child(r, &r->tnodes[0], "time", 4);
    r->time_node = tn ? (int)(tn - r->tnodes) : -1;
    r->uses_time = tn != NULL;
    return 0;
}

/* ---- anchors and the index -------------------------------------------------------- *
 *
 * Anchors are chosen by cost in two passes. Pass 1 lists every indexable
 * predicate key (kind, field, value) a rule could anchor on (every
 * condition outside a "not") and counts, per key, the rules holding it:
 * the size of the bucket the key would have if every such rule chose it;
 * and per class (field, kind, and for prefixes their length) the number
 * of distinct keys. Pass 2 gives each rule the anchor set of least cost,
 * where a key costs the candidates it is expected to add to an
 * evaluation: its bucket size times the chance that it fires, estimated
 * as 1 / the distinct keys of its class (a fact has one value per field,
 * one prefix per length: carrier "twilio" fires for 1 fact in
 * 8 when the rules name 8 carriers, accountId "acct-1" for 1 in
 * thousands). So a rule with a common value (carrier "twilio") and a rare
 * one (accountId "acct-1") is found through the rare one, and the common
 * bucket stays small. An `in` costs the sum of its values' keys, an `all`
 * takes its cheapest child, an `any` the sum of its branches. Ties prefer
 * equality over prefix over exists over substring (whose automaton costs
 * a pass over the fact's text). */

#define COST_NONE (-1.0) /* not indexable: the rule is always a candidate */
#define COST_NEVER (-2.0) /* can never hold */
#define COST_OOM (-3.0)

static int anc_push(anchor_vec *v, int kind, uint32_t field, const rr_val *val)
{
    anchor a;
    memset(&a, 0, sizeof(a));
    a.kind = (uint8_t)kind;
    a.field = field;
    if (val)
        a.v = *val;
    int fail = 0;
    VPUSH(*v, a, fail = 1);
    return fail ? OMNI_ENOMEM : 0;
}

/* The keys of condition n into out: 0, COST_NONE (not indexable) or
 * COST_OOM. */
static double cond_anchors(const rr_node *n, anchor_vec *out)
{
    uint32_t f = n->field;
    int ic = (n->flags & RR_F_ICASE) != 0;
    switch (n->op) {
    case RR_OP_EQ:
    case RR_OP_EQI:
        return anc_push(out, ic && n->v.type == RR_STR ? RR_K_IEQ : RR_K_EQ, f, &n->v)
                   ? COST_OOM
                   : 0;
    case RR_OP_IN:
        for (uint32_t k = 0; k < n->set.n; k++)
            if (anc_push(out, ic && n->set.v[k].type == RR_STR ? RR_K_IEQ : RR_K_EQ, f,
                         &n->set.v[k]))
                return COST_OOM;
        return 0;
    case RR_OP_CONTAINS:
        if (anc_push(out, ic && n->v.type == RR_STR ? RR_K_IEQ : RR_K_EQ, f, &n->v))
            return COST_OOM;
        if (!(n->flags & RR_F_STRICT) && n->v.type == RR_STR &&
            anc_push(out, ic ? RR_K_ISUB : RR_K_SUB, f, &n->v))
            return COST_OOM;
        return 0;
    case RR_OP_STARTS:
        return anc_push(out, ic ? RR_K_IPRE : RR_K_PRE, f, &n->v) ? COST_OOM : 0;
    case RR_OP_EXISTS:
        if (!n->v.b)
            return COST_NONE;
        return anc_push(out, RR_K_EXISTS, f, NULL) ? COST_OOM : 0;
    default:
        return COST_NONE;
    }
}

static uint32_t anchor_hash(const anchor *a);
static int entry_match(const rr_entry *e, const anchor *a, uint32_t h);

/* Pass 1's table: per key, how many rules could anchor on it. */
typedef struct kcount {
    rr_entry e;    /* hash, field, kind, value (post_* unused) */
    uint32_t n;    /* rules */
    uint32_t last; /* rank + 1 of the last rule counted */
} kcount;

typedef struct ktab {
    VEC(kcount) keys;
    uint32_t *tab;
    uint32_t bits;
} ktab;

/* The class of a key for the distinct counts: (field, kind), and for
 * prefixes also the prefix length (each length is probed on its own). */
static anchor key_class(const anchor *a)
{
    anchor c;
    memset(&c, 0, sizeof(c));
    c.kind = RR_K_EQ;
    c.field = a->field * RR_K_COUNT + a->kind;
    c.v.type = RR_NUM;
    c.v.num = a->kind == RR_K_PRE || a->kind == RR_K_IPRE ? (double)a->v.len : 0;
    c.v.hash = omni__rr_val_hash(RR_NUM, 0, c.v.num, NULL, 0);
    return c;
}

static kcount *kt_find(const ktab *kt, const anchor *a, uint32_t h, uint32_t *slot_out)
{
    uint32_t mask = (1u << kt->bits) - 1, slot = h & mask;
    while (kt->tab[slot]) {
        kcount *k = &kt->keys.v[kt->tab[slot] - 1];
        if (entry_match(&k->e, a, h))
            return k;
        slot = (slot + 1) & mask;
    }
    if (slot_out)
        *slot_out = slot;
    return NULL;
}

static int kt_add(ktab *kt, const anchor *a, uint32_t rank)
{
    uint32_t h = anchor_hash(a), slot = 0;
    kcount *k = kt_find(kt, a, h, &slot);
    if (k) {
        if (k->last != rank + 1) {
            k->last = rank + 1;
            k->n++;
        }
        return 0;
    }
    kcount nk;
    memset(&nk, 0, sizeof(nk));
    nk.e.hash = h;
    nk.e.field = a->field;
    nk.e.kind = a->kind;
    nk.e.v = a->v;
    nk.n = 1;
    nk.last = rank + 1;
    int fail = 0;
    VPUSH(kt->keys, nk, fail = 1);
    if (fail)
        return OMNI_ENOMEM;
    kt->tab[slot] = (uint32_t)kt->keys.n;
    if (kt->keys.n * 2 > ((size_t)1 << kt->bits)) {
        uint32_t nb = kt->bits + 1, nm = (1u << nb) - 1;
        uint32_t *nt = calloc((size_t)1 << nb, sizeof(uint32_t));
        if (!nt)
            return OMNI_ENOMEM;
        for (size_t q = 0; q < kt->keys.n; q++) {
            uint32_t s2 = kt->keys.v[q].e.hash & nm;
            while (nt[s2])
                s2 = (s2 + 1) & nm;
            nt[s2] = (uint32_t)q + 1;
        }
        free(kt->tab);
        kt->tab = nt;
        kt->bits = nb;
    }
    return 0;
}

/* Pass 1 over the nodes of one rule: every key outside a "not". */
static int collect_keys(ktab *kt, const rr_node *nodes, uint32_t count, uint32_t rank,
                        anchor_vec *tmp)
{
    for (uint32_t i = 0; i < count;) {
        const rr_node *n = &nodes[i];
        if (n->kind == RR_N_NOT) {
            i += n->size;
            continue;
        }
        if (n->kind == RR_N_COND) {
            tmp->n = 0;
            if (cond_anchors(n, tmp) == COST_OOM)
                return OMNI_ENOMEM;
            for (size_t k = 0; k < tmp->n; k++)
                if (kt_add(kt, &tmp->v[k], rank))
                    return OMNI_ENOMEM;
        }
        i++;
    }
    return 0;
}

/* ---- substring automata (see rr_acm in rules_internal.h) ------------------ */

/* The automaton of the needles ents[idx[k]].v (k < n) into *a, using at
 * most `limit` bytes of transitions. Returns 0, 1 when it would not fit
 * (nothing allocated: the caller keeps the linear list) or -1 on OOM. */
static int acm_build(rr_acm *a, const rr_entry *ents, const uint32_t *idx, uint32_t n,
                     size_t limit)
{
    memset(a, 0, sizeof(*a));
    uint8_t used[256] = {0};
    size_t total = 1;
    for (uint32_t k = 0; k < n; k++) {
        const rr_val *v = &ents[idx[k]].v;
        total += v->len;
        for (uint32_t i = 0; i < v->len; i++)
            used[(unsigned char)v->s[i]] = 1;
    }
    uint32_t nc = 1;
    for (int b = 0; b < 256; b++)
        a->cls[b] = used[b] ? (uint8_t)nc++ : 0;
    /* every byte occurs: class 0 is empty, byte 255 takes it (the cast) */
    if (nc == 257)
        nc = 256;
    size_t maxst = limit / ((size_t)nc * sizeof(uint32_t));
    if (maxst > total)
        maxst = total;
    if (maxst < total && maxst < 2)
        return 1;
    uint32_t *delta = calloc(maxst * nc, sizeof(uint32_t));
    uint32_t *out = calloc(maxst * 2, sizeof(uint32_t));
    uint32_t *fail = NULL, *q = NULL;
    if (!delta || !out)
        goto oom;
    uint32_t *dict = out + maxst;
    /* the trie (0: no edge; no edge leads back to the root) */
    uint32_t ns = 1;
    for (uint32_t k = 0; k < n; k++) {
        const rr_val *v = &ents[idx[k]].v;
        uint32_t st = 0;
        for (uint32_t i = 0; i < v->len; i++) {
            uint32_t *t = &delta[(size_t)st * nc + a->cls[(unsigned char)v->s[i]]];
            if (!*t) {
                if (ns == maxst) {
                    free(delta);
                    free(out);
                    return 1;
                }
                *t = ns++;
            }
            st = *t;
        }
        out[st] = idx[k] + 1;
    }
    /* failure links breadth first, completing each row from its failure
     * state's (already complete) row */
    fail = calloc(ns, sizeof(uint32_t));
    q = malloc(ns * sizeof(uint32_t));
    if (!fail || !q)
        goto oom;
    uint32_t head = 0, tail = 0;
    for (uint32_t c = 0; c < nc; c++)
        if (delta[c])
            q[tail++] = delta[c];
    while (head < tail) {
        uint32_t st = q[head++], f = fail[st];
        dict[st] = f && out[f] ? f : dict[f];
        uint32_t *row = &delta[(size_t)st * nc];
        const uint32_t *frow = &delta[(size_t)f * nc];
        for (uint32_t c = 0; c < nc; c++) {
            if (row[c]) {
                fail[row[c]] = frow[c];
                q[tail++] = row[c];
            } else {
                row[c] = frow[c];
            }
        }
    }
    free(fail);
    free(q);
    fail = q = NULL;
    /* premultiplied targets with the output flag */
    for (size_t i = 0; i < (size_t)ns * nc; i++) {
        uint32_t t = delta[i];
        delta[i] = t * nc | (t && (out[t] || dict[t]) ? RR_ACM_OUT : 0);
    }
    a->out = malloc((size_t)ns * 2 * sizeof(uint32_t));
    if (!a->out)
        goto oom;
    memcpy(a->out, out, ns * sizeof(uint32_t));
    memcpy(a->out + ns, dict, ns * sizeof(uint32_t));
    a->dict = a->out + ns;
    free(out);
    uint32_t *shrunk = realloc(delta, (size_t)ns * nc * sizeof(uint32_t));
    a->delta = shrunk ? shrunk : delta;
    a->nclass = nc;
    a->nstates = ns;
    return 0;
oom:
    free(delta);
    free(out);
    free(fail);
    free(q);
    free(a->out);
    a->out = NULL;
    return -1;
}

/* The cost of one key (see above), plus a tie-breaker by kind. */
static double key_cost(const ktab *kt, const ktab *classes, const anchor *a)
{
    static const double kind_extra[RR_K_COUNT] = {
        [RR_K_EQ] = 0, [RR_K_IEQ] = 0, [RR_K_PRE] = 2e-9, [RR_K_IPRE] = 2e-9,
        [RR_K_SUB] = 6e-9, [RR_K_ISUB] = 6e-9, [RR_K_EXISTS] = 4e-9,
    };
    const kcount *k = kt_find(kt, a, anchor_hash(a), NULL);
    double n = k ? (double)k->n : 1.0;
    anchor ca = key_class(a);
    const kcount *d = kt_find(classes, &ca, anchor_hash(&ca), NULL);
    return n / (d ? (double)d->n : 1.0) + kind_extra[a->kind];
}

/* Anchor set of node i into out (pass 2); returns its cost, COST_NONE,
 * COST_NEVER or COST_OOM. */
static double node_anchors(const ktab *kt, const ktab *cls, const rr_node *nodes, uint32_t i,
                           anchor_vec *out)
{
    const rr_node *n = &nodes[i];
    if (n->kind == RR_N_NOT)
        return COST_NONE;
    if (n->kind == RR_N_COND) {
        size_t start = out->n;
        double st = cond_anchors(n, out);
        if (st < 0)
            return st;
        double cost = 0;
        for (size_t k = start; k < out->n; k++)
            cost += key_cost(kt, cls, &out->v[k]);
        return cost;
    }
    /* groups */
    uint32_t end = i + n->size;
    if (n->kind == RR_N_ALL) {
        double best = COST_NONE;
        anchor_vec bestv = {NULL, 0, 0}, tmp = {NULL, 0, 0};
        for (uint32_t k = i + 1; k < end; k += nodes[k].size) {
            tmp.n = 0;
            double cost = node_anchors(kt, cls, nodes, k, &tmp);
            if (cost == COST_OOM) {
                free(tmp.v);
                free(bestv.v);
                return COST_OOM;
            }
            if (cost == COST_NEVER) {
                best = COST_NEVER;
                break;
            }
            if (cost >= 0 && (best < 0 || cost < best)) {
                best = cost;
                anchor_vec sw = bestv;
                bestv = tmp;
                tmp = sw;
            }
        }
        if (best >= 0) {
            for (size_t k = 0; k < bestv.n; k++)
                if (anc_push(out, bestv.v[k].kind, bestv.v[k].field, &bestv.v[k].v)) {
                    best = COST_OOM;
                    break;
                }
        }
        free(tmp.v);
        free(bestv.v);
        return best;
    }
    /* any: the union, when every branch that can hold has a set */
    double total = 0;
    int any_live = 0;
    size_t start = out->n;
    for (uint32_t k = i + 1; k < end; k += nodes[k].size) {
        double cost = node_anchors(kt, cls, nodes, k, out);
        if (cost == COST_OOM)
            return COST_OOM;
        if (cost == COST_NEVER)
            continue;
        if (cost == COST_NONE) {
            out->n = start;
            return COST_NONE;
        }
        any_live = 1;
        total += cost;
    }
    if (!any_live) {
        out->n = start;
        return COST_NEVER;
    }
    return total;
}

static uint32_t anchor_hash(const anchor *a)
{
    /* prefixes are probed with an incremental FNV-1a */
    uint32_t vh = a->kind == RR_K_EXISTS                          ? 0
                  : a->kind == RR_K_PRE || a->kind == RR_K_IPRE ? omni__rr_fnv(a->v.s, a->v.len)
                                                                  : a->v.hash;
    return omni__rr_key_hash(vh, a->field, a->kind);
}

static int entry_match(const rr_entry *e, const anchor *a, uint32_t h)
{
    return e->hash == h && e->field == a->field && e->kind == a->kind &&
           (a->kind == RR_K_EXISTS || val_eq(&e->v, &a->v));
}

typedef struct posting {
    uint32_t entry, rank;
} posting;

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static int build_index(cctx *c)
{
    omni_rules *r = c->r;
    VEC(posting) posts = {NULL, 0, 0};
    VEC(rr_entry) ents = {NULL, 0, 0};
    VEC(uint32_t) always = {NULL, 0, 0};
    uint32_t *tab = NULL;
    uint32_t bits = 4;
    anchor_vec av = {NULL, 0, 0};
    ktab kt, cls;
    memset(&kt, 0, sizeof(kt));
    memset(&cls, 0, sizeof(cls));
    int st = OMNI_ENOMEM;
    tab = calloc((size_t)1 << bits, sizeof(uint32_t));
    kt.bits = cls.bits = 4;
    kt.tab = calloc((size_t)1 << kt.bits, sizeof(uint32_t));
    cls.tab = calloc((size_t)1 << cls.bits, sizeof(uint32_t));
    if (!tab || !kt.tab || !cls.tab)
        goto done;
    /* pass 1: bucket sizes if every rule could choose every key */
    for (uint32_t rank = 0; rank < r->nrules; rank++) {
        const rr_rule *rule = &r->rules[r->by_rank[rank]];
        if (rule->enabled &&
            collect_keys(&kt, r->nodes + rule->node_off, rule->node_n, rank, &av))
            goto done;
    }
    /* distinct keys per class */
    for (size_t k = 0; k < kt.keys.n; k++) {
        anchor a;
        memset(&a, 0, sizeof(a));
        a.kind = kt.keys.v[k].e.kind;
        a.field = kt.keys.v[k].e.field;
        a.v = kt.keys.v[k].e.v;
        anchor ca = key_class(&a);
        if (kt_add(&cls, &ca, (uint32_t)k))
            goto done;
    }
    /* pass 2: each rule's cheapest anchor set */
    for (uint32_t rank = 0; rank < r->nrules; rank++) {
        const rr_rule *rule = &r->rules[r->by_rank[rank]];
        if (!rule->enabled)
            continue;
        av.n = 0;
        double cost = node_anchors(&kt, &cls, r->nodes + rule->node_off, 0, &av);
        if (cost == COST_OOM)
            goto done;
        if (cost == COST_NEVER)
            continue;
        if (cost == COST_NONE) {
            int fail = 0;
            VPUSH(always, rank, fail = 1);
            if (fail)
                goto done;
            continue;
        }
        for (size_t k = 0; k < av.n; k++) {
            const anchor *a = &av.v[k];
            uint32_t h = anchor_hash(a);
            uint32_t mask = (1u << bits) - 1, slot = h & mask;
            while (tab[slot] && !entry_match(&ents.v[tab[slot] - 1], a, h))
                slot = (slot + 1) & mask;
            uint32_t ei;
            if (tab[slot]) {
                ei = tab[slot] - 1;
            } else {
                rr_entry e;
                memset(&e, 0, sizeof(e));
                e.hash = h;
                e.field = a->field;
                e.kind = a->kind;
                e.v = a->v;
                int fail = 0;
                VPUSH(ents, e, fail = 1);
                if (fail)
                    goto done;
                ei = (uint32_t)ents.n - 1;
                tab[slot] = ei + 1;
                if (ents.n * 2 > ((size_t)1 << bits)) {
                    uint32_t nb = bits + 1;
                    uint32_t *nt = calloc((size_t)1 << nb, sizeof(uint32_t));
                    if (!nt)
                        goto done;
                    uint32_t nm = (1u << nb) - 1;
                    for (size_t q = 0; q < ents.n; q++) {
                        uint32_t s2 = ents.v[q].hash & nm;
                        while (nt[s2])
                            s2 = (s2 + 1) & nm;
                        nt[s2] = (uint32_t)q + 1;
                    }
                    free(tab);
                    tab = nt;
                    bits = nb;
                }
            }
            posting p = {ei, rank};
            int fail = 0;
            VPUSH(posts, p, fail = 1);
            if (fail)
                goto done;
        }
    }
    /* postings grouped per entry (in rank order), duplicates dropped */
    r->postings = malloc((posts.n ? posts.n : 1) * sizeof(uint32_t));
    if (!r->postings)
        goto done;
    for (size_t k = 0; k < posts.n; k++)
        ents.v[posts.v[k].entry].post_n++;
    uint32_t off = 0;
    for (size_t k = 0; k < ents.n; k++) {
        ents.v[k].post_off = off;
        off += ents.v[k].post_n;
        ents.v[k].post_n = 0;
    }
    for (size_t k = 0; k < posts.n; k++) {
        rr_entry *e = &ents.v[posts.v[k].entry];
        if (e->post_n && r->postings[e->post_off + e->post_n - 1] == posts.v[k].rank)
            continue;
        r->postings[e->post_off + e->post_n++] = posts.v[k].rank;
    }
    /* per field */
    r->findex = calloc(r->nfields ? r->nfields : 1, sizeof(rr_findex));
    r->lens = malloc((ents.n ? ents.n : 1) * sizeof(uint32_t));
    r->subs = malloc((ents.n ? ents.n : 1) * sizeof(uint32_t));
    r->ifields = malloc((r->nfields ? r->nfields : 1) * sizeof(uint32_t));
    if (!r->findex || !r->lens || !r->subs || !r->ifields)
        goto done;
    for (size_t k = 0; k < ents.n; k++) {
        rr_findex *fx = &r->findex[ents.v[k].field];
        fx->kinds |= 1u << ents.v[k].kind;
        switch (ents.v[k].kind) {
        case RR_K_PRE: fx->pre_n++; break;
        case RR_K_IPRE: fx->ipre_n++; break;
        case RR_K_SUB: fx->sub_n++; break;
        case RR_K_ISUB: fx->isub_n++; break;
        case RR_K_EXISTS: fx->exists_entry = (uint32_t)k + 1; break;
        default: break;
        }
    }
    uint32_t loff = 0, soff = 0;
    r->nifields = 0;
    for (size_t f = 0; f < r->nfields; f++) {
        rr_findex *fx = &r->findex[f];
        if (fx->kinds)
            r->ifields[r->nifields++] = (uint32_t)f;
        fx->pre_off = loff;
        loff += fx->pre_n;
        fx->ipre_off = loff;
        loff += fx->ipre_n;
        fx->sub_off = soff;
        soff += fx->sub_n;
        fx->isub_off = soff;
        soff += fx->isub_n;
        fx->pre_n = fx->ipre_n = fx->sub_n = fx->isub_n = 0;
    }
    for (size_t k = 0; k < ents.n; k++) {
        rr_findex *fx = &r->findex[ents.v[k].field];
        switch (ents.v[k].kind) {
        case RR_K_PRE: r->lens[fx->pre_off + fx->pre_n++] = ents.v[k].v.len; break;
        case RR_K_IPRE: r->lens[fx->ipre_off + fx->ipre_n++] = ents.v[k].v.len; break;
        case RR_K_SUB: r->subs[fx->sub_off + fx->sub_n++] = (uint32_t)k; break;
        case RR_K_ISUB: r->subs[fx->isub_off + fx->isub_n++] = (uint32_t)k; break;
        default: break;
        }
    }
    /* distinct sorted prefix lengths */
    for (size_t f = 0; f < r->nfields; f++) {
        rr_findex *fx = &r->findex[f];
        uint32_t *offs[2] = {&fx->pre_off, &fx->ipre_off};
        uint32_t *ns[2] = {&fx->pre_n, &fx->ipre_n};
        for (int w = 0; w < 2; w++) {
            uint32_t *l = r->lens + *offs[w];
            uint32_t n = *ns[w];
            if (n < 2)
                continue;
            qsort(l, n, sizeof(uint32_t), cmp_u32);
            uint32_t m = 1;
            for (uint32_t k = 1; k < n; k++)
                if (l[k] != l[m - 1])
                    l[m++] = l[k];
            *ns[w] = m;
        }
    }
    /* substring automata: per field and kind, within RR_ACM_MAX_TOTAL in all
     * (beyond it, and for a field over RR_ACM_MAX_BYTES, the linear list) */
    size_t nacm = 0;
    for (size_t f = 0; f < r->nfields; f++)
        nacm += (r->findex[f].sub_n != 0) + (r->findex[f].isub_n != 0);
    if (nacm) {
        r->acms = calloc(nacm, sizeof(rr_acm));
        if (!r->acms)
            goto done;
        size_t budget = RR_ACM_MAX_TOTAL;
        for (size_t f = 0; f < r->nfields; f++) {
            rr_findex *fx = &r->findex[f];
            for (int w = 0; w < 2; w++) {
                uint32_t n = w ? fx->isub_n : fx->sub_n;
                if (!n)
                    continue;
                rr_acm *a = &r->acms[r->nacms];
                int rc = acm_build(a, ents.v, r->subs + (w ? fx->isub_off : fx->sub_off), n,
                                   budget < RR_ACM_MAX_BYTES ? budget : RR_ACM_MAX_BYTES);
                if (rc < 0)
                    goto done;
                if (rc > 0)
                    continue;
                budget -= (size_t)a->nstates * a->nclass * sizeof(uint32_t);
                r->nacms++;
                if (w)
                    fx->isub_acm = (uint32_t)r->nacms;
                else
                    fx->sub_acm = (uint32_t)r->nacms;
            }
        }
    }
    r->entries = ents.v;
    r->nentries = ents.n;
    ents.v = NULL;
    r->etab = tab;
    r->ebits = bits;
    tab = NULL;
    r->always = always.v;
    r->nalways = always.n;
    always.v = NULL;
    st = 0;
done:
    free(posts.v);
    free(ents.v);
    free(always.v);
    free(tab);
    free(av.v);
    free(kt.keys.v);
    free(kt.tab);
    free(cls.keys.v);
    free(cls.tab);
    return st;
}

/* ---- public API ------------------------------------------------------------- */

void omni_rules_free(omni_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nnodes; i++)
        omni__regex_free(r->nodes[i].re);
    free(r->rules);
    free(r->by_rank);
    free(r->nodes);
    free(r->actions);
    free(r->tnodes);
    free(r->tabs);
    free(r->entries);
    free(r->etab);
    free(r->postings);
    free(r->findex);
    free(r->ifields);
    free(r->lens);
    free(r->subs);
    for (size_t i = 0; i < r->nacms; i++) {
        free(r->acms[i].delta);
        free(r->acms[i].out);
    }
    free(r->acms);
    free(r->always);
    omni__tz_free(r->tz);
    omni__rr_arena_free(&r->arena);
    free(r);
}

size_t omni_rules_count(const omni_rules *r)
{
    return r ? r->nrules : 0;
}

const char *omni_rules_id(const omni_rules *r, size_t index)
{
    if (!r || index >= r->nrules)
        return NULL;
    return r->rules[index].id;
}

int omni__rules_uses_time(const omni_rules *r)
{
    return r ? r->uses_time : 0;
}

static int cmp_rank(const void *x, const void *y, void *ud)
{
    const rr_rule *rules = ud;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    if (rules[a].priority != rules[b].priority)
        return rules[a].priority > rules[b].priority ? -1 : 1;
    return a < b ? -1 : a > b;
}

static void cctx_free(cctx *c)
{
    free(c->nodes.v);
    free(c->node_ttn.v);
    free(c->actions.v);
    free(c->tt.v);
    free(c->tt_tab);
    free(c->scratch.v);
    omni__buf_free(&c->details);
}

int omni_rules_compile(omni_rules **out, const char *json, size_t len, const char *options_json,
                       size_t options_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_rules_compile: out is NULL");
    *out = NULL;
    if (!json)
        return omni__err(OMNI_EINVAL, "omni_rules_compile: json is NULL");
    if (len > OMNI_RULES_MAX_SOURCE)
        return omni__err(OMNI_ETOOLARGE, "rules: the document is larger than %u bytes",
                         OMNI_RULES_MAX_SOURCE);
    omni_rules *r = calloc(1, sizeof(*r));
    if (!r)
        return omni__err(OMNI_ENOMEM, "rules: out of memory");
    cctx c;
    memset(&c, 0, sizeof(c));
    c.r = r;
    r->time_node = -1;
    {
        ttnode root;
        memset(&root, 0, sizeof(root));
        int fail = 0;
        VPUSH(c.tt, root, fail = 1);
        if (fail) {
            omni_rules_free(r);
            return omni__err(OMNI_ENOMEM, "rules: out of memory");
        }
    }
    int st = parse_options(&c, options_json, options_len, &r->tz);
    cJSON *root = NULL;
    if (!st)
        st = omni__json_parse(&root, json, len, OMNI_RULES_MAX_SOURCE, "rules");
    if (st) {
        cctx_free(&c);
        omni_rules_free(r);
        return st;
    }
    omni__json_w_obj_begin(&c.details);
    omni__json_w_keyl(&c.details, "errors");
    omni__json_w_arr_begin(&c.details);
    const cJSON *arr = root;
    if (cJSON_IsObject(root)) {
        for (const cJSON *m = root->child; m; m = m->next) {
            if (strcmp(m->string, "rules") == 0)
                continue;
            path_pop(&c, 0);
            path_push_key(&c, m->string);
            err_add(&c, "unknown member \"%.64s\"", m->string);
        }
        path_pop(&c, 0);
        path_push_key(&c, "rules");
        arr = cJSON_GetObjectItemCaseSensitive(root, "rules");
    }
    if (!cJSON_IsArray(arr)) {
        err_add(&c, "the rules must be an array (or an object {\"rules\": [...]})");
    } else if (cJSON_GetArraySize(arr) > OMNI_RULES_MAX_RULES) {
        cJSON_Delete(root);
        cctx_free(&c);
        omni_rules_free(r);
        return omni__err(OMNI_ETOOLARGE, "rules: more than %d rules", OMNI_RULES_MAX_RULES);
    } else {
        size_t n = (size_t)cJSON_GetArraySize(arr);
        r->rules = calloc(n ? n : 1, sizeof(rr_rule));
        r->by_rank = malloc((n ? n : 1) * sizeof(uint32_t));
        if (!r->rules || !r->by_rank)
            oom(&c);
        size_t i = 0;
        for (const cJSON *e = arr->child; e && !c.status; e = e->next, i++) {
            size_t old = path_push_idx(&c, i);
            parse_rule(&c, e, i, &r->rules[i]);
            path_pop(&c, old);
            r->nrules = i + 1;
        }
        c.rule_id = NULL;
        /* duplicate ids (a hash set over the ids) */
        if (!c.status && n) {
            size_t cap = 16;
            while (cap < n * 2)
                cap *= 2;
            uint32_t *set = calloc(cap, sizeof(uint32_t));
            if (!set)
                oom(&c);
            for (size_t k = 0; set && k < n; k++) {
                const char *id = r->rules[k].id;
                if (!id)
                    continue;
                size_t il = strlen(id);
                size_t h = omni__rr_fnv(id, il) & (cap - 1);
                int dup = 0;
                while (set[h]) {
                    if (strcmp(r->rules[set[h] - 1].id, id) == 0) {
                        dup = 1;
                        break;
                    }
                    h = (h + 1) & (cap - 1);
                }
                if (dup) {
                    size_t old = path_push_idx(&c, k);
                    c.rule_id = id;
                    err_add(&c, "duplicate rule id \"%.256s\" (first at [%u])", id,
                            set[h] - 1);
                    c.rule_id = NULL;
                    path_pop(&c, old);
                } else {
                    set[h] = (uint32_t)k + 1;
                }
            }
            free(set);
        }
    }
    cJSON_Delete(root);
    if (c.status) {
        cctx_free(&c);
        omni_rules_free(r);
        return omni__err(c.status, "rules: out of memory");
    }
    if (c.nerrors) {
        omni__json_w_arr_end(&c.details);
        omni__json_w_obj_end(&c.details);
        if (c.details.failed) {
            cctx_free(&c);
            omni_rules_free(r);
            return omni__err(OMNI_ENOMEM, "rules: out of memory");
        }
        st = omni__err_details(OMNI_ECONFIG, c.details.data, "rules: %zu error%s%s; %s",
                               c.nerrors, c.nerrors == 1 ? "" : "s",
                               c.nerrors > OMNI_RULES_MAX_ERRORS ? " (the first 100 listed)"
                                                                 : "",
                               c.first);
        /* the nodes (with compiled regexes) belong to the context still */
        for (size_t i = 0; i < c.nodes.n; i++)
            omni__regex_free(c.nodes.v[i].re);
        cctx_free(&c);
        omni_rules_free(r);
        return st;
    }
    /* hand over nodes and actions */
    r->nodes = c.nodes.v;
    r->nnodes = c.nodes.n;
    c.nodes.v = NULL;
    r->actions = c.actions.v;
    r->nactions = c.actions.n;
    c.actions.v = NULL;
    st = build_trie(&c);
    if (!st) {
        for (size_t i = 0; i < r->nnodes; i++)
            if (r->nodes[i].kind == RR_N_COND)
                r->nodes[i].field = r->tnodes[c.tt.v[c.node_ttn.v[i]].final].field - 1;
        for (size_t i = 0; i < r->nrules; i++)
            r->by_rank[i] = (uint32_t)i;
        qsort_r(r->by_rank, r->nrules, sizeof(uint32_t), cmp_rank, r->rules);
        for (size_t i = 0; i < r->nrules; i++)
            r->rules[r->by_rank[i]].rank = (uint32_t)i;
        st = build_index(&c);
    }
    cctx_free(&c);
    if (st) {
        omni_rules_free(r);
        return omni__err(st, "rules: out of memory");
    }
    *out = r;
    return OMNI_OK;
}
