/* Linear-time regular expressions for the rule engine: a parser to an AST,
 * a compiler to a Thompson NFA program, and a state-set simulation (one
 * sparse set of program counters per text position, no backtracking). The
 * supported subset and the limits are documented in regex.h. */
#include "regex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/common.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json_scan.h"

/* Text units: a well-formed UTF-8 sequence is its code point; a byte b that
 * does not start one is the unit RX_BAD + b. */
#define RX_BAD 0x110000u
#define RX_MAXUNIT (RX_BAD + 0xFFu)
#define RX_NONE 0xFFFFFFFFu /* no unit: before the start or after the end */
#define RX_INF 0xFFFFFFFFu  /* unbounded repetition */
#define RX_NIL 0xFFFFFFFFu  /* end of a patch chain */
#define RX_STACK_PROG 256   /* programs this small search with stack scratch */

/* ---- program ---------------------------------------------------------------- */

enum { OP_CHAR, OP_ANY, OP_CLASS, OP_ASSERT, OP_SPLIT, OP_JMP, OP_MATCH };
enum { AS_BOL, AS_EOL, AS_WORDB, AS_NWORDB };

typedef struct {
    uint32_t op;
    uint32_t x; /* CHAR: code point; CLASS: first range; ASSERT: kind; SPLIT/JMP: target */
    uint32_t y; /* CLASS: range count; SPLIT: second target */
} rx_inst;

typedef struct {
    uint32_t lo, hi;
} rx_range;

struct omni__regex {
    rx_inst *prog;
    uint32_t n;
    rx_range *ranges;
    uint32_t nranges;
    int anchored; /* every match starts at offset 0 */
    /* omni__regex_find: the first bytes a match can start with (a
     * superset), unless first_all (an empty match is possible) */
    int first_all;
    unsigned char first[32];
};

/* ---- UTF-8 ------------------------------------------------------------------- */

/* Decodes the unit at s[i] (i < n) into *u and returns its length in bytes
 * (RFC 3629 well-formedness; an ill-formed byte is a unit of length 1). */
static size_t rx_decode(const unsigned char *s, size_t n, size_t i, uint32_t *u)
{
    uint32_t cp;
    size_t k = omni__utf8_next(s + i, n - i, &cp);
    if (k == 0) {
        *u = RX_BAD + s[i];
        return 1;
    }
    *u = cp;
    return k;
}

/* ---- case folding -------------------------------------------------------------- */

/* Simple case folding (CaseFolding.txt C + S) of U+0000..U+017F; identity
 * elsewhere. */
static uint32_t rx_fold(uint32_t c)
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
    if (c <= 0x12F)
        return c | 1;
    if (c >= 0x132 && c <= 0x137)
        return c | 1;
    if (c >= 0x139 && c <= 0x148)
        return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177)
        return c | 1;
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x179 && c <= 0x17E)
        return (c & 1) ? c + 1 : c;
    if (c == 0x17F)
        return 's';
    return c;
}

#define RX_FOLD_END 0x180u /* rx_fold changes only code points below this */
#define RX_MU 0x3BCu       /* the one fold target outside the folded block */

static int rx_isword(uint32_t u)
{
    return u < 0x80 && ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                        (u >= '0' && u <= '9') || u == '_');
}

/* ---- parser ----------------------------------------------------------------------- */

enum { N_EMPTY, N_CHAR, N_ANY, N_CLASS, N_ASSERT, N_CAT, N_ALT, N_REPEAT };

typedef struct {
    uint8_t type;
    uint8_t lazy;
    uint16_t nest; /* groups + quantifiers nested in this node, itself included */
    uint32_t a;    /* CHAR: cp; CLASS: first range; ASSERT: kind; REPEAT: min */
    uint32_t b;    /* CLASS: range count; REPEAT: max (RX_INF) */
    int32_t kid, last, next;
} rx_node;

typedef struct {
    const unsigned char *p;
    size_t len, pos;
    int icase;
    rx_node *nodes;
    size_t nn, ncap;
    rx_range *rg;
    size_t nrg, rgcap;
    int open; /* groups currently open */
    int status;
} rx_parser;

enum { CAT_d, CAT_D, CAT_w, CAT_W, CAT_s, CAT_S };

static int rx_fail(rx_parser *P, int status, const char *fmt, ...) OMNI__PRINTF(3, 4);

static int rx_fail(rx_parser *P, int status, const char *fmt, ...)
{
    if (P->status != OMNI_OK)
        return -1;
    if (status == OMNI_ENOMEM) {
        P->status = omni__err(OMNI_ENOMEM, NULL);
        return -1;
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    P->status = omni__err(status, "%s", msg);
    return -1;
}

/* Writes pattern bytes [off, off+n) into out (printable ASCII as is, other
 * bytes as \xHH), at most 24 source bytes. */
static const char *rx_snip(const rx_parser *P, size_t off, size_t n, char out[100])
{
    size_t o = 0;
    if (n > 24)
        n = 24;
    for (size_t i = off; i < off + n && i < P->len; i++) {
        unsigned c = P->p[i];
        if (c >= 0x20 && c < 0x7F) {
            out[o++] = (char)c;
        } else {
            snprintf(out + o, 5, "\\x%02X", c);
            o += 4;
        }
    }
    out[o] = '\0';
    return out;
}

/* Fails with: <what> "<pattern bytes [off, off+n)>" at offset <off>: <why>. */
static int rx_fail_at(rx_parser *P, int status, const char *what, size_t off, size_t n,
                      const char *why)
{
    char s[100];
    return rx_fail(P, status, "%s \"%s\" at offset %zu: %s", what, rx_snip(P, off, n, s), off,
                   why);
}

static int rx_unsupported(rx_parser *P, size_t off, size_t n, const char *why)
{
    return rx_fail_at(P, OMNI_EINVAL, "unsupported construct", off, n, why);
}

/* Room for one more element in a growing array (*arr, *cap elements of
 * `size` bytes, `used` in use): 0, or -1 after reporting OMNI_ENOMEM. */
static int rx_room(rx_parser *P, void **arr, size_t *cap, size_t used, size_t size)
{
    if (used < *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    void *grown = realloc(*arr, n * size);
    if (!grown)
        return rx_fail(P, OMNI_ENOMEM, NULL);
    *arr = grown;
    *cap = n;
    return 0;
}

static int32_t rx_node_new(rx_parser *P, int type)
{
    void *nodes = P->nodes;
    int full = rx_room(P, &nodes, &P->ncap, P->nn, sizeof(*P->nodes));
    P->nodes = nodes;
    if (full)
        return -1;
    rx_node *nd = &P->nodes[P->nn];
    memset(nd, 0, sizeof(*nd));
    nd->type = (uint8_t)type;
    nd->kid = nd->last = nd->next = -1;
    return (int32_t)P->nn++;
}

static void rx_node_add(rx_parser *P, int32_t parent, int32_t kid)
{
    rx_node *pa = &P->nodes[parent];
    if (pa->last < 0)
        pa->kid = kid;
    else
        P->nodes[pa->last].next = kid;
    pa->last = kid;
    if (P->nodes[kid].nest > pa->nest)
        pa->nest = P->nodes[kid].nest;
}

/* ---- class ranges (the tail of P->rg, from `start`, is the class being built) ---- */

static int rx_rg_push(rx_parser *P, uint32_t lo, uint32_t hi)
{
    void *rg = P->rg;
    int full = rx_room(P, &rg, &P->rgcap, P->nrg, sizeof(*P->rg));
    P->rg = rg;
    if (full)
        return -1;
    P->rg[P->nrg].lo = lo;
    P->rg[P->nrg].hi = hi;
    P->nrg++;
    return 0;
}

static int rx_rg_cmp(const void *a, const void *b)
{
    const rx_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges of the tail. */
static void rx_rg_norm(rx_parser *P, size_t start)
{
    size_t n = P->nrg - start;
    if (n < 2)
        return;
    rx_range *r = P->rg + start;
    qsort(r, n, sizeof(*r), rx_rg_cmp);
    size_t o = 0;
    for (size_t i = 1; i < n; i++) {
        if (r[i].lo <= r[o].hi || r[i].lo - 1 == r[o].hi) {
            if (r[i].hi > r[o].hi)
                r[o].hi = r[i].hi;
        } else {
            r[++o] = r[i];
        }
    }
    P->nrg = start + o + 1;
}

/* Replaces the (normalized) tail by its complement within [0, RX_MAXUNIT]. */
static int rx_rg_negate(rx_parser *P, size_t start)
{
    if (rx_rg_push(P, 0, 0) < 0) /* room for the extra range */
        return -1;
    P->nrg--;
    size_t n = P->nrg - start, o = 0;
    rx_range *r = P->rg + start;
    uint32_t from = 0;
    int open = 1; /* `from` still has to be covered */
    for (size_t i = 0; i < n; i++) {
        uint32_t lo = r[i].lo, hi = r[i].hi;
        if (lo > from) {
            r[o].lo = from;
            r[o].hi = lo - 1;
            o++;
        }
        if (hi >= RX_MAXUNIT) {
            open = 0;
            break;
        }
        from = hi + 1;
    }
    if (open) {
        r[o].lo = from;
        r[o].hi = RX_MAXUNIT;
        o++;
    }
    P->nrg = start + o;
    return 0;
}

static int rx_rg_contains(const rx_parser *P, size_t start, uint32_t c)
{
    for (size_t i = start; i < P->nrg; i++)
        if (c >= P->rg[i].lo && c <= P->rg[i].hi)
            return 1;
    return 0;
}

/* Closes the tail under case equivalence (see rx_fold) and normalizes it. */
static int rx_rg_fold(rx_parser *P, size_t start)
{
    unsigned char bits[RX_FOLD_END];
    memset(bits, 0, sizeof(bits));
    for (size_t i = start; i < P->nrg; i++) {
        uint32_t lo = P->rg[i].lo, hi = P->rg[i].hi;
        for (uint32_t c = lo; c <= hi && c < RX_FOLD_END; c++)
            bits[c] = 1;
    }
    int mu = rx_rg_contains(P, start, RX_MU);
    /* 1: add the folding of every member; 2: add every code point whose
     * folding is a member. The result is closed (rx_fold is idempotent). */
    for (uint32_t c = 0; c < RX_FOLD_END; c++) {
        uint32_t f = rx_fold(c);
        if (f != c && bits[c]) {
            if (f == RX_MU)
                mu = 1;
            else
                bits[f] = 1;
        }
    }
    for (uint32_t c = 0; c < RX_FOLD_END; c++) {
        uint32_t f = rx_fold(c);
        if (f != c && (f == RX_MU ? mu : bits[f]))
            bits[c] = 1;
    }
    for (uint32_t c = 0; c < RX_FOLD_END;) {
        if (!bits[c]) {
            c++;
            continue;
        }
        uint32_t e = c;
        while (e + 1 < RX_FOLD_END && bits[e + 1])
            e++;
        if (rx_rg_push(P, c, e) < 0)
            return -1;
        c = e + 1;
    }
    if (mu && rx_rg_push(P, RX_MU, RX_MU) < 0)
        return -1;
    rx_rg_norm(P, start);
    return 0;
}

static int rx_rg_add_cat(rx_parser *P, int cat)
{
    size_t start = P->nrg;
    int rc = 0;
    switch (cat / 2) {
    case 0: /* \d */
        rc = rx_rg_push(P, '0', '9');
        break;
    case 1: /* \w */
        rc = rx_rg_push(P, '0', '9') | rx_rg_push(P, 'A', 'Z') | rx_rg_push(P, '_', '_') |
             rx_rg_push(P, 'a', 'z');
        break;
    default: /* \s */
        rc = rx_rg_push(P, '\t', '\r') | rx_rg_push(P, ' ', ' ');
        break;
    }
    if (rc < 0)
        return -1;
    if (cat % 2)
        return rx_rg_negate(P, start);
    return 0;
}

/* ---- escapes ------------------------------------------------------------------------ */

enum { ESC_CHAR, ESC_CAT, ESC_ASSERT };

/* Parses the escape at P->pos (a backslash). *kind is ESC_CHAR (*val = code
 * point), ESC_CAT (*val = CAT_*) or ESC_ASSERT (*val = AS_*). */
static int rx_escape(rx_parser *P, int in_class, int *kind, uint32_t *val)
{
    size_t off = P->pos;
    char s[100];
    if (off + 1 >= P->len)
        return rx_fail(P, OMNI_EINVAL, "trailing backslash at offset %zu", off);
    unsigned e = P->p[off + 1];
    P->pos = off + 2;
    *kind = ESC_CHAR;
    switch (e) {
    case 'd': *kind = ESC_CAT; *val = CAT_d; return 0;
    case 'D': *kind = ESC_CAT; *val = CAT_D; return 0;
    case 'w': *kind = ESC_CAT; *val = CAT_w; return 0;
    case 'W': *kind = ESC_CAT; *val = CAT_W; return 0;
    case 's': *kind = ESC_CAT; *val = CAT_s; return 0;
    case 'S': *kind = ESC_CAT; *val = CAT_S; return 0;
    case 't': *val = '\t'; return 0;
    case 'n': *val = '\n'; return 0;
    case 'r': *val = '\r'; return 0;
    case 'f': *val = '\f'; return 0;
    case 'v': *val = '\v'; return 0;
    case 'b':
    case 'B':
        if (in_class)
            return rx_fail(P, OMNI_EINVAL, "\"\\%c\" at offset %zu is not allowed in a class",
                           (char)e, off);
        *kind = ESC_ASSERT;
        *val = e == 'b' ? AS_WORDB : AS_NWORDB;
        return 0;
    case 'x': {
        uint32_t v = 0;
        size_t i = off + 2;
        if (i < P->len && P->p[i] == '{') {
            size_t digits = 0;
            for (i++; i < P->len && omni__hexval(P->p[i]) >= 0 && digits < 7; i++, digits++)
                v = v * 16 + (uint32_t)omni__hexval(P->p[i]);
            if (digits == 0 || digits > 6 || i >= P->len || P->p[i] != '}' || v > 0x10FFFF)
                return rx_fail(P, OMNI_EINVAL,
                               "invalid escape \"%s\" at offset %zu: \\x{...} takes 1 to 6 hex "
                               "digits up to 10FFFF",
                               rx_snip(P, off, i - off + (i < P->len), s), off);
            P->pos = i + 1;
        } else {
            if (i + 1 >= P->len || omni__hexval(P->p[i]) < 0 || omni__hexval(P->p[i + 1]) < 0)
                return rx_fail(P, OMNI_EINVAL,
                               "invalid escape \"%s\" at offset %zu: \\x takes two hex digits",
                               rx_snip(P, off, P->len - off < 4 ? P->len - off : 4, s), off);
            v = (uint32_t)(omni__hexval(P->p[i]) * 16 + omni__hexval(P->p[i + 1]));
            P->pos = i + 2;
        }
        *val = v;
        return 0;
    }
    case 'p':
    case 'P':
        return rx_unsupported(P, off, 2, "Unicode property classes are not supported");
    case '0':
        return rx_unsupported(P, off, 2, "octal escapes are not supported (use \\xHH)");
    default:
        break;
    }
    if (e >= '1' && e <= '9')
        return rx_unsupported(P, off, 2, "backreferences are not supported");
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
        return rx_unsupported(P, off, 2, "unknown escape");
    if (e >= 0x20 && e < 0x7F) {
        *val = e;
        return 0;
    }
    return rx_fail(P, OMNI_EINVAL,
                   "invalid escape \"%s\" at offset %zu: only ASCII punctuation and space can "
                   "be escaped",
                   rx_snip(P, off, 2, s), off);
}

/* ---- atoms --------------------------------------------------------------------------- */

/* A node for literal code point c (a class of its case variants under icase). */
static int32_t rx_literal(rx_parser *P, uint32_t c)
{
    if (P->icase) {
        size_t start = P->nrg;
        if (rx_rg_push(P, c, c) < 0 || rx_rg_fold(P, start) < 0)
            return -1;
        if (P->nrg - start > 1 || P->rg[start].lo != P->rg[start].hi) {
            int32_t i = rx_node_new(P, N_CLASS);
            if (i < 0)
                return -1;
            P->nodes[i].a = (uint32_t)start;
            P->nodes[i].b = (uint32_t)(P->nrg - start);
            return i;
        }
        P->nrg = start;
    }
    int32_t i = rx_node_new(P, N_CHAR);
    if (i >= 0)
        P->nodes[i].a = c;
    return i;
}

/* A class node over the ranges P->rg[start..nrg). */
static int32_t rx_class_node(rx_parser *P, size_t start)
{
    int32_t i = rx_node_new(P, N_CLASS);
    if (i < 0)
        return -1;
    P->nodes[i].a = (uint32_t)start;
    P->nodes[i].b = (uint32_t)(P->nrg - start);
    return i;
}

static int32_t rx_cat_node(rx_parser *P, int cat)
{
    size_t start = P->nrg;
    if (rx_rg_add_cat(P, cat) < 0)
        return -1;
    return rx_class_node(P, start);
}

/* One class member at P->pos: *is_cat and *val as for rx_escape. */
static int rx_class_atom(rx_parser *P, int *is_cat, uint32_t *val)
{
    unsigned c = P->p[P->pos];
    *is_cat = 0;
    if (c == '\\') {
        int kind;
        if (rx_escape(P, 1, &kind, val) < 0)
            return -1;
        *is_cat = kind == ESC_CAT;
        return 0;
    }
    if (c == '[')
        return rx_fail(P, OMNI_EINVAL,
                       "\"[\" at offset %zu inside a class must be escaped as \\[ (nested and "
                       "POSIX classes are not supported)",
                       P->pos);
    P->pos += rx_decode(P->p, P->len, P->pos, val);
    return 0;
}

static int32_t rx_class(rx_parser *P)
{
    size_t open = P->pos++;
    size_t start = P->nrg;
    unsigned cats = 0;
    int neg = 0;
    if (P->pos < P->len && P->p[P->pos] == '^') {
        neg = 1;
        P->pos++;
    }
    for (int first = 1;; first = 0) {
        if (P->pos >= P->len)
            return rx_fail(P, OMNI_EINVAL, "missing \"]\" for the class opened at offset %zu",
                           open);
        if (P->p[P->pos] == ']' && !first) {
            P->pos++;
            break;
        }
        size_t item = P->pos;
        int is_cat;
        uint32_t lo;
        if (rx_class_atom(P, &is_cat, &lo) < 0)
            return -1;
        if (P->pos + 1 < P->len && P->p[P->pos] == '-' && P->p[P->pos + 1] != ']') {
            P->pos++;
            int hi_cat;
            uint32_t hi;
            if (rx_class_atom(P, &hi_cat, &hi) < 0)
                return -1;
            if (is_cat || hi_cat)
                return rx_fail_at(P, OMNI_EINVAL, "invalid range", item, P->pos - item,
                                  "a range bound must be a single character");
            if (lo > hi)
                return rx_fail_at(P, OMNI_EINVAL, "invalid range", item, P->pos - item,
                                  "the start is after the end");
            if (rx_rg_push(P, lo, hi) < 0)
                return -1;
        } else if (is_cat) {
            cats |= 1u << lo;
        } else if (rx_rg_push(P, lo, lo) < 0) {
            return -1;
        }
    }
    rx_rg_norm(P, start);
    if (P->icase && rx_rg_fold(P, start) < 0)
        return -1;
    for (int cat = CAT_d; cat <= CAT_S; cat++)
        if ((cats & (1u << cat)) && rx_rg_add_cat(P, cat) < 0)
            return -1;
    rx_rg_norm(P, start);
    if (neg && rx_rg_negate(P, start) < 0)
        return -1;
    return rx_class_node(P, start);
}

static int32_t rx_alt(rx_parser *P);

/* The group at P->pos (an opening parenthesis). */
static int32_t rx_group(rx_parser *P)
{
    size_t open = P->pos;
    const unsigned char *p = P->p;
    size_t left = P->len - open;
    if (left >= 2 && p[open + 1] == '?') {
        unsigned c = left >= 3 ? p[open + 2] : 0;
        unsigned d = left >= 4 ? p[open + 3] : 0;
        if (c == ':') {
            P->pos = open + 3;
        } else if (c == '=' || c == '!') {
            return rx_unsupported(P, open, 3, "lookaround is not supported");
        } else if (c == '<' && (d == '=' || d == '!')) {
            return rx_unsupported(P, open, 4, "lookaround is not supported");
        } else if (c == '<' || c == '\'') {
            return rx_unsupported(P, open, 3, "named groups are not supported");
        } else if (c == 'P' && d == '<') {
            return rx_unsupported(P, open, 4, "named groups are not supported");
        } else if (c == 'P' && d == '=') {
            return rx_unsupported(P, open, 4, "backreferences are not supported");
        } else if (c == '>') {
            return rx_unsupported(P, open, 3, "atomic groups are not supported");
        } else if (c == '#') {
            return rx_unsupported(P, open, 3, "comments are not supported");
        } else if (c && strchr("aiLmsux-^", (int)c)) {
            size_t e = open + 2;
            while (e < P->len && e - open < 16 && p[e] != ')' && p[e] != ':')
                e++;
            return rx_unsupported(P, open, e - open + (e < P->len),
                                  "inline flags are only supported as (?i) at the start of "
                                  "the pattern");
        } else {
            return rx_unsupported(P, open, left >= 3 ? 3 : 2, "unknown group syntax");
        }
    } else {
        P->pos = open + 1;
    }
    if (++P->open > OMNI__REGEX_MAX_NEST)
        return rx_fail(P, OMNI_ETOODEEP,
                       "groups and quantifiers are nested deeper than %d at offset %zu",
                       OMNI__REGEX_MAX_NEST, open);
    int32_t inner = rx_alt(P);
    if (inner < 0)
        return -1;
    if (P->pos >= P->len || P->p[P->pos] != ')')
        return rx_fail(P, OMNI_EINVAL, "missing \")\" for the group opened at offset %zu", open);
    P->pos++;
    P->open--;
    if (P->nodes[inner].nest + 1 > OMNI__REGEX_MAX_NEST)
        return rx_fail(P, OMNI_ETOODEEP,
                       "groups and quantifiers are nested deeper than %d at offset %zu",
                       OMNI__REGEX_MAX_NEST, open);
    P->nodes[inner].nest++;
    return inner;
}

/* Parses {n} {n,} {n,m} at `at`. Returns 1 (with *min, *max and *end just
 * past the brace; counts capped at 100000), or 0 if it is not one. */
static int rx_braces(const rx_parser *P, size_t at, uint32_t *min, uint32_t *max, size_t *end)
{
    size_t i = at + 1;
    uint32_t n = 0, m;
    size_t digits = 0;
    for (; i < P->len && P->p[i] >= '0' && P->p[i] <= '9'; i++, digits++)
        n = n > 100000 ? n : n * 10 + (uint32_t)(P->p[i] - '0');
    if (digits == 0 || i >= P->len)
        return 0;
    if (P->p[i] == '}') {
        m = n;
    } else if (P->p[i] == ',') {
        i++;
        digits = 0;
        m = 0;
        for (; i < P->len && P->p[i] >= '0' && P->p[i] <= '9'; i++, digits++)
            m = m > 100000 ? m : m * 10 + (uint32_t)(P->p[i] - '0');
        if (digits == 0)
            m = RX_INF;
        if (i >= P->len || P->p[i] != '}')
            return 0;
    } else {
        return 0;
    }
    *min = n;
    *max = m;
    *end = i + 1;
    return 1;
}

static int rx_bad_brace(rx_parser *P, size_t at)
{
    return rx_fail(P, OMNI_EINVAL,
                   "invalid repetition \"{\" at offset %zu: expected {n}, {n,} or {n,m} "
                   "(write \\{ for a literal brace)",
                   at);
}

static int32_t rx_atom(rx_parser *P)
{
    size_t off = P->pos;
    unsigned c = P->p[off];
    int32_t i;
    switch (c) {
    case '(':
        return rx_group(P);
    case '[':
        return rx_class(P);
    case '.':
        P->pos++;
        return rx_node_new(P, N_ANY);
    case '^':
    case '$':
        P->pos++;
        i = rx_node_new(P, N_ASSERT);
        if (i >= 0)
            P->nodes[i].a = c == '^' ? AS_BOL : AS_EOL;
        return i;
    case '*':
    case '+':
    case '?':
        return rx_fail(P, OMNI_EINVAL, "nothing to repeat for \"%c\" at offset %zu", (char)c,
                       off);
    case '{': {
        uint32_t mn, mx;
        size_t end;
        if (rx_braces(P, off, &mn, &mx, &end))
            return rx_fail(P, OMNI_EINVAL, "nothing to repeat for \"{\" at offset %zu", off);
        return rx_bad_brace(P, off);
    }
    case '\\': {
        int kind;
        uint32_t val;
        if (rx_escape(P, 0, &kind, &val) < 0)
            return -1;
        if (kind == ESC_CAT)
            return rx_cat_node(P, (int)val);
        if (kind == ESC_ASSERT) {
            i = rx_node_new(P, N_ASSERT);
            if (i >= 0)
                P->nodes[i].a = val;
            return i;
        }
        return rx_literal(P, val);
    }
    default: {
        uint32_t u;
        P->pos += rx_decode(P->p, P->len, off, &u);
        return rx_literal(P, u);
    }
    }
}

static int rx_is_quant(unsigned c)
{
    return c == '*' || c == '+' || c == '?' || c == '{';
}

static int32_t rx_repeat(rx_parser *P)
{
    size_t off = P->pos;
    int is_group = P->p[off] == '(';
    int32_t a = rx_atom(P);
    if (a < 0)
        return -1;
    while (P->pos < P->len && rx_is_quant(P->p[P->pos])) {
        size_t q = P->pos;
        unsigned c = P->p[q];
        uint32_t mn = 0, mx = RX_INF;
        if (c == '+') {
            mn = 1;
        } else if (c == '?') {
            mx = 1;
        }
        P->pos++;
        if (c == '{') {
            size_t end;
            if (!rx_braces(P, q, &mn, &mx, &end))
                return rx_bad_brace(P, q);
            if (mn > OMNI__REGEX_MAX_REPEAT || (mx != RX_INF && mx > OMNI__REGEX_MAX_REPEAT))
                return rx_fail_at(P, OMNI_ETOOLARGE, "repetition", q, end - q,
                                  "counts are limited to 1000");
            if (mn > mx)
                return rx_fail_at(P, OMNI_EINVAL, "invalid repetition", q, end - q,
                                  "the minimum is over the maximum");
            P->pos = end;
        }
        if (!is_group && P->nodes[a].type == N_ASSERT)
            return rx_fail(P, OMNI_EINVAL,
                           "nothing to repeat for \"%c\" at offset %zu (an anchor or \\b cannot "
                           "be repeated)",
                           (char)c, q);
        int lazy = 0;
        if (P->pos < P->len && P->p[P->pos] == '?') {
            lazy = 1;
            P->pos++;
        }
        if (P->pos < P->len && P->p[P->pos] == '+')
            return rx_unsupported(P, q, P->pos + 1 - q,
                                  "possessive quantifiers are not supported");
        if (P->nodes[a].nest + 1 > OMNI__REGEX_MAX_NEST)
            return rx_fail(P, OMNI_ETOODEEP,
                           "groups and quantifiers are nested deeper than %d at offset %zu",
                           OMNI__REGEX_MAX_NEST, q);
        int32_t r = rx_node_new(P, N_REPEAT);
        if (r < 0)
            return -1;
        rx_node *nd = &P->nodes[r];
        nd->a = mn;
        nd->b = mx;
        nd->lazy = (uint8_t)lazy;
        nd->kid = nd->last = a;
        nd->nest = (uint16_t)(P->nodes[a].nest + 1);
        a = r;
    }
    return a;
}

static int32_t rx_concat(rx_parser *P)
{
    int32_t single = -1, cat = -1;
    while (P->pos < P->len && P->p[P->pos] != '|' && P->p[P->pos] != ')') {
        int32_t r = rx_repeat(P);
        if (r < 0)
            return -1;
        if (single < 0) {
            single = r;
        } else {
            if (cat < 0) {
                cat = rx_node_new(P, N_CAT);
                if (cat < 0)
                    return -1;
                rx_node_add(P, cat, single);
            }
            rx_node_add(P, cat, r);
        }
    }
    if (cat >= 0)
        return cat;
    if (single >= 0)
        return single;
    return rx_node_new(P, N_EMPTY);
}

static int32_t rx_alt(rx_parser *P)
{
    int32_t first = rx_concat(P);
    if (first < 0 || P->pos >= P->len || P->p[P->pos] != '|')
        return first;
    int32_t alt = rx_node_new(P, N_ALT);
    if (alt < 0)
        return -1;
    rx_node_add(P, alt, first);
    while (P->pos < P->len && P->p[P->pos] == '|') {
        P->pos++;
        int32_t b = rx_concat(P);
        if (b < 0)
            return -1;
        rx_node_add(P, alt, b);
    }
    return alt;
}

/* ---- compiler ----------------------------------------------------------------------------- */

#define RX_CAP ((uint64_t)OMNI__REGEX_MAX_PROGRAM + 1)

/* Instructions node i compiles to, saturated at RX_CAP. */
static uint64_t rx_size(const rx_node *N, int32_t i)
{
    const rx_node *nd = &N[i];
    uint64_t s = 0;
    switch (nd->type) {
    case N_EMPTY:
        return 0;
    case N_CHAR:
    case N_ANY:
    case N_CLASS:
    case N_ASSERT:
        return 1;
    case N_CAT:
    case N_ALT:
        for (int32_t k = nd->kid; k >= 0; k = N[k].next) {
            s += rx_size(N, k);
            if (nd->type == N_ALT && N[k].next >= 0)
                s += 2;
            if (s >= RX_CAP)
                return RX_CAP;
        }
        return s;
    default: { /* N_REPEAT */
        uint64_t c = rx_size(N, nd->kid);
        uint64_t mn = nd->a;
        if (nd->b == RX_INF)
            s = mn == 0 ? c + 2 : mn * c + 1;
        else
            s = mn * c + (nd->b - mn) * (c + 1);
        return s > RX_CAP ? RX_CAP : s;
    }
    }
}

typedef struct {
    rx_inst *prog;
    uint32_t n, cap;
    int overflow;
} rx_emitter;

static uint32_t rx_put(rx_emitter *E, uint32_t op, uint32_t x, uint32_t y)
{
    uint32_t pc = E->n;
    if (pc >= E->cap) { /* never: rx_size sized the program; stay in bounds anyway */
        E->overflow = 1;
        pc = 0;
    } else {
        E->n++;
    }
    E->prog[pc].op = op;
    E->prog[pc].x = x;
    E->prog[pc].y = y;
    return pc;
}

static void rx_emit(rx_emitter *E, const rx_node *N, int32_t i)
{
    const rx_node *nd = &N[i];
    switch (nd->type) {
    case N_EMPTY:
        return;
    case N_CHAR:
        rx_put(E, OP_CHAR, nd->a, 0);
        return;
    case N_ANY:
        rx_put(E, OP_ANY, 0, 0);
        return;
    case N_CLASS:
        rx_put(E, OP_CLASS, nd->a, nd->b);
        return;
    case N_ASSERT:
        rx_put(E, OP_ASSERT, nd->a, 0);
        return;
    case N_CAT:
        for (int32_t k = nd->kid; k >= 0; k = N[k].next)
            rx_emit(E, N, k);
        return;
    case N_ALT: {
        /* SPLIT L1, L2; L1: a; JMP end; L2: SPLIT ...; last: z; end: */
        uint32_t jumps = RX_NIL;
        for (int32_t k = nd->kid; k >= 0; k = N[k].next) {
            if (N[k].next < 0) {
                rx_emit(E, N, k);
                break;
            }
            uint32_t split = rx_put(E, OP_SPLIT, 0, 0);
            E->prog[split].x = split + 1;
            rx_emit(E, N, k);
            jumps = rx_put(E, OP_JMP, jumps, 0);
            E->prog[split].y = E->n;
        }
        while (jumps != RX_NIL) {
            uint32_t next = E->prog[jumps].x;
            E->prog[jumps].x = E->n;
            jumps = next;
        }
        return;
    }
    default: { /* N_REPEAT */
        uint32_t mn = nd->a, mx = nd->b;
        if (mx == RX_INF && mn == 0) {
            /* L: SPLIT L+1, end; x; JMP L; end: */
            uint32_t l = rx_put(E, OP_SPLIT, 0, 0);
            rx_emit(E, N, nd->kid);
            rx_put(E, OP_JMP, l, 0);
            E->prog[l].x = l + 1;
            E->prog[l].y = E->n;
            if (nd->lazy) {
                E->prog[l].x = E->n;
                E->prog[l].y = l + 1;
            }
            return;
        }
        if (mx == RX_INF) {
            /* x ... x (min - 1 times); L: x; SPLIT L, next */
            for (uint32_t k = 0; k + 1 < mn; k++)
                rx_emit(E, N, nd->kid);
            uint32_t l = E->n;
            rx_emit(E, N, nd->kid);
            uint32_t s = rx_put(E, OP_SPLIT, l, 0);
            E->prog[s].y = s + 1;
            if (nd->lazy) {
                E->prog[s].x = s + 1;
                E->prog[s].y = l;
            }
            return;
        }
        for (uint32_t k = 0; k < mn; k++)
            rx_emit(E, N, nd->kid);
        /* (max - min) times: SPLIT next, end; x */
        uint32_t chain = RX_NIL;
        for (uint32_t k = mn; k < mx; k++) {
            uint32_t s = rx_put(E, OP_SPLIT, 0, chain);
            E->prog[s].x = s + 1;
            rx_emit(E, N, nd->kid);
            chain = s;
        }
        while (chain != RX_NIL) {
            uint32_t next = E->prog[chain].y;
            E->prog[chain].y = E->n;
            if (nd->lazy) {
                E->prog[chain].y = E->prog[chain].x;
                E->prog[chain].x = E->n;
            }
            chain = next;
        }
        return;
    }
    }
}

/* 1 when every match of node i starts with ^ (so only offset 0 can match). */
static int rx_anchored(const rx_node *N, int32_t i)
{
    const rx_node *nd = &N[i];
    switch (nd->type) {
    case N_ASSERT:
        return nd->a == AS_BOL;
    case N_CAT:
        return rx_anchored(N, nd->kid);
    case N_ALT:
        for (int32_t k = nd->kid; k >= 0; k = N[k].next)
            if (!rx_anchored(N, k))
                return 0;
        return 1;
    case N_REPEAT:
        return nd->a >= 1 && rx_anchored(N, nd->kid);
    default:
        return 0;
    }
}

static void rx_first_mark(omni__regex *re, unsigned lo, unsigned hi)
{
    for (unsigned b = lo; b <= hi; b++)
        re->first[b >> 3] |= (unsigned char)(1u << (b & 7));
}

/* Fills re->first: the lead bytes of the units the instructions reachable
 * from pc 0 without consuming text can consume (assertions taken as true, so
 * a superset); first_all when MATCH is reachable that way. 0: no memory. */
static int rx_first_bytes(omni__regex *re)
{
    memset(re->first, 0, sizeof(re->first));
    re->first_all = 0;
    unsigned char *seen = calloc(re->n, 1);
    uint32_t *stack = malloc((re->n + 1) * sizeof(uint32_t));
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return 0;
    }
    size_t sp = 0;
    stack[sp++] = 0;
    while (sp) {
        uint32_t pc = stack[--sp];
        if (seen[pc])
            continue;
        seen[pc] = 1;
        const rx_inst *in = &re->prog[pc];
        switch (in->op) {
        case OP_JMP:
            stack[sp++] = in->x;
            break;
        case OP_SPLIT:
            stack[sp++] = in->y;
            stack[sp++] = in->x;
            break;
        case OP_ASSERT:
            stack[sp++] = pc + 1;
            break;
        case OP_MATCH:
        case OP_ANY:
            re->first_all = 1;
            break;
        case OP_CHAR: {
            uint32_t x = in->x;
            unsigned b = x < 0x80     ? x
                         : x >= RX_BAD ? x - RX_BAD
                         : x < 0x800   ? 0xC0 | (x >> 6)
                         : x < 0x10000 ? 0xE0 | (x >> 12)
                                       : 0xF0 | (x >> 18);
            rx_first_mark(re, b, b);
            break;
        }
        default: /* OP_CLASS */
            for (uint32_t k = 0; k < in->y; k++) {
                const rx_range *r = &re->ranges[in->x + k];
                if (r->lo < 0x80)
                    rx_first_mark(re, r->lo, r->hi < 0x7F ? r->hi : 0x7F);
                if (r->hi >= 0x80)
                    rx_first_mark(re, 0x80, 0xFF);
            }
            break;
        }
    }
    free(seen);
    free(stack);
    return 1;
}

int omni__regex_compile(omni__regex **out, const char *pattern, size_t len, unsigned flags)
{
    if (out)
        *out = NULL;
    if (!out)
        return omni__err(OMNI_EINVAL, "omni__regex_compile: out is NULL");
    if (!pattern && len > 0)
        return omni__err(OMNI_EINVAL, "omni__regex_compile: pattern is NULL");
    if (flags & ~OMNI__REGEX_ICASE)
        return omni__err(OMNI_EINVAL, "omni__regex_compile: unknown flags 0x%x", flags);
    if (len > OMNI__REGEX_MAX_PATTERN)
        return omni__err(OMNI_ETOOLARGE, "regular expression is %zu bytes, over the limit of %d",
                         len, OMNI__REGEX_MAX_PATTERN);
    const unsigned char *p = (const unsigned char *)(pattern ? pattern : "");
    for (size_t i = 0; i < len;) {
        uint32_t u;
        size_t n = rx_decode(p, len, i, &u);
        if (u >= RX_BAD)
            return omni__err(OMNI_EINVAL,
                             "regular expression is not valid UTF-8 (byte 0x%02X at offset %zu)",
                             p[i], i);
        i += n;
    }

    rx_parser P;
    memset(&P, 0, sizeof(P));
    P.p = p;
    P.len = len;
    P.icase = (flags & OMNI__REGEX_ICASE) != 0;
    P.status = OMNI_OK;
    if (len >= 4 && memcmp(p, "(?i)", 4) == 0) {
        P.icase = 1;
        P.pos = 4;
    }
    omni__regex *re = NULL;
    int32_t root = rx_alt(&P);
    if (root >= 0 && P.pos < P.len) /* rx_alt stops only at an unmatched ')' */
        root = rx_fail(&P, OMNI_EINVAL, "unmatched \")\" at offset %zu", P.pos);
    if (root < 0)
        goto done;
    uint64_t size = rx_size(P.nodes, root) + 1;
    if (size > OMNI__REGEX_MAX_PROGRAM) {
        rx_fail(&P, OMNI_ETOOLARGE,
                "regular expression compiles to over %d instructions (counted repetitions "
                "are expanded)",
                OMNI__REGEX_MAX_PROGRAM);
        goto done;
    }
    re = calloc(1, sizeof(*re));
    if (!re) {
        rx_fail(&P, OMNI_ENOMEM, NULL);
        goto done;
    }
    re->prog = malloc((size_t)size * sizeof(rx_inst));
    re->ranges = malloc((P.nrg ? P.nrg : 1) * sizeof(rx_range));
    if (!re->prog || !re->ranges) {
        rx_fail(&P, OMNI_ENOMEM, NULL);
        goto done;
    }
    if (P.nrg)
        memcpy(re->ranges, P.rg, P.nrg * sizeof(rx_range));
    re->nranges = (uint32_t)P.nrg;
    rx_emitter E = {re->prog, 0, (uint32_t)size, 0};
    rx_emit(&E, P.nodes, root);
    rx_put(&E, OP_MATCH, 0, 0);
    if (E.overflow || E.n != size) { /* cannot happen: rx_size and rx_emit agree */
        P.status = omni__err(OMNI_EINTERNAL, "regex compiler size mismatch");
        goto done;
    }
    re->n = E.n;
    re->anchored = rx_anchored(P.nodes, root);
    if (!rx_first_bytes(re)) {
        rx_fail(&P, OMNI_ENOMEM, NULL);
        goto done;
    }

done:
    free(P.nodes);
    free(P.rg);
    if (P.status != OMNI_OK) {
        omni__regex_free(re);
        return P.status;
    }
    *out = re;
    return OMNI_OK;
}

size_t omni__regex_program_size(const omni__regex *re)
{
    return re ? re->n : 0;
}

void omni__regex_free(omni__regex *re)
{
    if (!re)
        return;
    free(re->prog);
    free(re->ranges);
    free(re);
}

/* ---- simulation ------------------------------------------------------------------------------ */

typedef struct {
    uint32_t *dense, *sparse;
    uint32_t n;
} rx_set;

static int rx_in_class(const rx_range *r, uint32_t n, uint32_t u)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u < r[mid].lo)
            hi = mid;
        else if (u > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int rx_closure(const omni__regex *re, rx_set *set, uint32_t *stack, uint32_t *start,
                      uint32_t pc0, uint32_t st, int at_start, int at_end, uint32_t prev,
                      uint32_t next);

/* Adds pc0 and everything reachable from it without consuming text to the
 * set, at a position between units `prev` and `next` (RX_NONE at the ends).
 * Returns 1 when MATCH is reachable. `stack` holds at least re->n + 1 pcs. */
static int rx_add(const omni__regex *re, rx_set *set, uint32_t *stack, uint32_t pc0,
                  int at_start, int at_end, uint32_t prev, uint32_t next)
{
    return rx_closure(re, set, stack, NULL, pc0, 0, at_start, at_end, prev, next);
}

int omni__regex_search(const omni__regex *re, const char *text, size_t len)
{
    if (!re)
        return omni__err(OMNI_EINVAL, "omni__regex_search: regex is NULL");
    if (!text && len > 0)
        return omni__err(OMNI_EINVAL, "omni__regex_search: text is NULL");
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    uint32_t n = re->n;
    uint32_t local[5 * RX_STACK_PROG + 1];
    uint32_t *mem = local;
    size_t words = 5 * (size_t)n + 1;
    if (n > RX_STACK_PROG) {
        mem = malloc(words * sizeof(uint32_t));
        if (!mem)
            return omni__err(OMNI_ENOMEM, NULL);
    }
    /* Zeroed so that no membership test reads an indeterminate value. */
    memset(mem, 0, words * sizeof(uint32_t));
    rx_set a = {mem, mem + n, 0}, b = {mem + 2 * (size_t)n, mem + 3 * (size_t)n, 0};
    uint32_t *stack = mem + 4 * (size_t)n;
    rx_set *cl = &a, *nl = &b;

    int found = 0;
    size_t pos = 0, clen = 0;
    uint32_t prev = RX_NONE, cur = RX_NONE;
    if (len > 0)
        clen = rx_decode(s, len, 0, &cur);
    for (;;) {
        if ((!re->anchored || pos == 0) &&
            rx_add(re, cl, stack, 0, pos == 0, pos == len, prev, cur)) {
            found = 1;
            break;
        }
        if (pos >= len || cl->n == 0) {
            if (pos >= len || re->anchored)
                break;
        }
        size_t next = pos + clen, nlen = 0;
        uint32_t ncur = RX_NONE;
        if (next < len)
            nlen = rx_decode(s, len, next, &ncur);
        nl->n = 0;
        for (uint32_t k = 0; k < cl->n && !found; k++) {
            uint32_t pc = cl->dense[k];
            const rx_inst *in = &re->prog[pc];
            int ok;
            switch (in->op) {
            case OP_CHAR:
                ok = cur == in->x;
                break;
            case OP_ANY:
                ok = cur != '\n';
                break;
            case OP_CLASS:
                ok = rx_in_class(re->ranges + in->x, in->y, cur);
                break;
            default:
                continue;
            }
            if (ok && rx_add(re, nl, stack, pc + 1, 0, next == len, cur, ncur))
                found = 1;
        }
        if (found)
            break;
        rx_set *t = cl;
        cl = nl;
        nl = t;
        prev = cur;
        cur = ncur;
        clen = nlen;
        pos = next;
    }
    if (mem != local)
        free(mem);
    return found;
}

/* ---- finding the leftmost-longest match ------------------------------------------------------ */

/* The closure of rx_add. With `start` (rx_find), every thread carries the
 * text offset where its match started (start[pc] = st); a pc already in the
 * set keeps its thread (the threads are added in order of their start
 * offsets, so the earlier start wins, and two threads at one pc have the
 * same future), and MATCH records the match while the closure goes on.
 * Without it (rx_add), the first MATCH reached ends the closure. Returns 1
 * when MATCH is reachable. */
static int rx_closure(const omni__regex *re, rx_set *set, uint32_t *stack, uint32_t *start,
                      uint32_t pc0, uint32_t st, int at_start, int at_end, uint32_t prev,
                      uint32_t next)
{
    size_t sp = 0;
    int matched = 0;
    stack[sp++] = pc0;
    while (sp) {
        uint32_t pc = stack[--sp];
        uint32_t k = set->sparse[pc];
        if (k < set->n && set->dense[k] == pc)
            continue;
        set->sparse[pc] = set->n;
        set->dense[set->n++] = pc;
        if (start)
            start[pc] = st;
        const rx_inst *in = &re->prog[pc];
        switch (in->op) {
        case OP_JMP:
            stack[sp++] = in->x;
            break;
        case OP_SPLIT:
            stack[sp++] = in->y;
            stack[sp++] = in->x;
            break;
        case OP_ASSERT: {
            int ok;
            if (in->x == AS_BOL)
                ok = at_start;
            else if (in->x == AS_EOL)
                ok = at_end;
            else
                ok = (rx_isword(prev) != rx_isword(next)) == (in->x == AS_WORDB);
            if (ok)
                stack[sp++] = pc + 1;
            break;
        }
        case OP_MATCH:
            if (!start)
                return 1;
            matched = 1;
            break;
        default:
            break;
        }
    }
    return matched;
}

int omni__regex_find(const omni__regex *re, const char *text, size_t len, size_t from,
                     size_t *match_start, size_t *match_end)
{
    if (!re)
        return omni__err(OMNI_EINVAL, "omni__regex_find: regex is NULL");
    if (!text && len > 0)
        return omni__err(OMNI_EINVAL, "omni__regex_find: text is NULL");
    if (!match_start || !match_end)
        return omni__err(OMNI_EINVAL, "omni__regex_find: NULL span pointer");
    if (from > len)
        return omni__err(OMNI_EINVAL, "omni__regex_find: from %zu is past the text (%zu bytes)",
                         from, len);
    if (len >= RX_NONE)
        return omni__err(OMNI_ETOOLARGE, "omni__regex_find: text over 4 GiB");
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    uint32_t n = re->n;
    uint32_t local[7 * RX_STACK_PROG + 1];
    uint32_t *mem = local;
    size_t words = 7 * (size_t)n + 1;
    if (n > RX_STACK_PROG) {
        mem = malloc(words * sizeof(uint32_t));
        if (!mem)
            return omni__err(OMNI_ENOMEM, NULL);
    }
    memset(mem, 0, words * sizeof(uint32_t));
    rx_set a = {mem, mem + n, 0}, b = {mem + 2 * (size_t)n, mem + 3 * (size_t)n, 0};
    uint32_t *sa = mem + 4 * (size_t)n, *sb = mem + 5 * (size_t)n;
    uint32_t *stack = mem + 6 * (size_t)n;
    rx_set *cl = &a, *nl = &b;
    uint32_t *cst = sa, *nst = sb;

    /* best match so far: start RX_NONE = none */
    uint32_t best_s = RX_NONE, best_e = 0;
    size_t pos = from, clen = 0;
    /* Only word-ness of the unit before `from` matters (\b); word units are
     * ASCII, so one byte tells. */
    uint32_t prev = from == 0 ? RX_NONE : s[from - 1] < 0x80 ? s[from - 1] : RX_BAD;
    uint32_t cur = RX_NONE;
    if (pos < len)
        clen = rx_decode(s, len, pos, &cur);
    for (;;) {
        if (cl->n == 0 && best_s == RX_NONE && !re->anchored && !re->first_all && pos < len &&
            !(re->first[s[pos] >> 3] & (1u << (s[pos] & 7)))) {
            /* no thread alive and no match can start here: skip ahead */
            do { /* unit by unit: never into the middle of a sequence */
                uint32_t u;
                pos += s[pos] < 0x80 ? 1 : rx_decode(s, len, pos, &u);
            } while (pos < len && !(re->first[s[pos] >> 3] & (1u << (s[pos] & 7))));
            if (pos >= len)
                break;
            prev = s[pos - 1] < 0x80 ? s[pos - 1] : RX_BAD;
            clen = rx_decode(s, len, pos, &cur);
        }
        if (best_s == RX_NONE && (!re->anchored || pos == 0) &&
            rx_closure(re, cl, stack, cst, 0, (uint32_t)pos, pos == 0, pos == len, prev, cur)) {
            best_s = (uint32_t)pos;
            best_e = (uint32_t)pos;
        }
        if (cl->n == 0 && (best_s != RX_NONE || re->anchored || pos >= len))
            break;
        if (pos >= len)
            break;
        size_t next = pos + clen, nlen = 0;
        uint32_t ncur = RX_NONE;
        if (next < len)
            nlen = rx_decode(s, len, next, &ncur);
        nl->n = 0;
        for (uint32_t k = 0; k < cl->n; k++) {
            uint32_t pc = cl->dense[k];
            uint32_t st = cst[pc];
            if (best_s != RX_NONE && st > best_s)
                continue; /* a match starts earlier: this thread cannot win */
            const rx_inst *in = &re->prog[pc];
            int ok;
            switch (in->op) {
            case OP_CHAR:
                ok = cur == in->x;
                break;
            case OP_ANY:
                ok = cur != '\n';
                break;
            case OP_CLASS:
                ok = rx_in_class(re->ranges + in->x, in->y, cur);
                break;
            default:
                continue;
            }
            if (ok && rx_closure(re, nl, stack, nst, pc + 1, st, 0, next == len, cur, ncur)) {
                if (best_s == RX_NONE || st < best_s || (st == best_s && next > best_e)) {
                    best_s = st;
                    best_e = (uint32_t)next;
                }
            }
        }
        rx_set *t = cl;
        cl = nl;
        nl = t;
        uint32_t *ts = cst;
        cst = nst;
        nst = ts;
        prev = cur;
        cur = ncur;
        clen = nlen;
        pos = next;
    }
    if (mem != local)
        free(mem);
    if (best_s == RX_NONE)
        return 0;
    *match_start = best_s;
    *match_end = best_e;
    return 1;
}
