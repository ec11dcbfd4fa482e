/* Internal: the template component's shared definitions — the compact value
 * representation (omni_data), the compiled program, the render state and the
 * helper-call structure shared by parse.c, render.c, helpers.c and
 * builtins.c. */
#ifndef OMNI_TEMPLATE_INTERNAL_H
#define OMNI_TEMPLATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"

/* ---- values ------------------------------------------------------------ */

#define OMNI__V_SAFE 1u    /* string that is never escaped (SafeString) */
#define OMNI__V_NULLCTX 2u /* handlebars' nullContext: the {} used as `this` for null */

typedef struct omni__member omni__member;

struct omni_value {
    uint8_t type;  /* omni_value_type */
    uint8_t flags; /* OMNI__V_* */
    uint8_t bits;  /* object: log2 of its hash index size (0: no index) */
    uint8_t pad;
    uint32_t n; /* string bytes, array elements or object members */
    union {
        double num;
        int boolean;
        const char *str; /* NUL-terminated */
        const omni_value *items;
        const omni__member *members;
    } u;
};

struct omni__member {
    const char *key; /* NUL-terminated */
    uint32_t klen;
    uint32_t hash;
    uint64_t k8; /* the key's first 8 bytes, zero-padded (fast compare) */
    omni_value value;
};

/* Objects with more members than this get a hash index (open addressing,
 * uint32 slots holding member index + 1, placed right before the members). */
#define OMNI__INDEX_MIN 8

struct omni_data {
    omni_value root;
    /* the document's single block follows */
};

/* Key hash (FNV-1a, 32 bit). */
static inline uint32_t omni__hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The first 8 bytes of a key, zero-padded. */
static inline uint64_t omni__key8(const char *s, size_t n)
{
    uint64_t k = 0;
    memcpy(&k, s, n < 8 ? n : 8); /* the same on both sides of a compare */
    return k;
}

extern const omni_value omni__undefined;  /* a static undefined value */
extern const omni_value omni__null_value; /* a static null */
extern const omni_value omni__null_ctx;   /* handlebars' nullContext ({}) */
extern const omni_value omni__true_value;
extern const omni_value omni__false_value;
extern const omni_value omni__empty_string;

/* Member lookup with a precomputed hash; NULL when absent or not an object. */
const omni_value *omni__value_member(const omni_value *obj, const char *key, size_t klen,
                                     uint32_t hash);

/* Parses JSON into memory obtained from `alloc` (one call, the exact size
 * needed). Strictness, limits and errors as omni__json_parse (`what` names
 * the document in messages). Objects follow JavaScript's property order:
 * array-index keys ascending first, then the rest in document order; a
 * repeated key keeps its first position and its last value. Lone surrogate
 * escapes become U+FFFD. */
typedef void *(*omni__alloc_fn)(void *ud, size_t size);
int omni__data_parse_with(const omni_value **out, const char *json, size_t len,
                          size_t max_bytes, const char *what, omni__alloc_fn alloc, void *ud);

/* Orders members as JavaScript orders own properties (array-index keys
 * ascending first, then the others as they are); 0 or OMNI_ENOMEM. */
int omni__js_order_members(omni__member *ms, uint32_t n);

/* JavaScript's Number::toString into buf (at least 32 bytes); returns the
 * length. */
size_t omni__js_number(char *buf, double v);
/* JavaScript's ToString: strings as is, numbers as above, booleans, "null",
 * "undefined", arrays joined with "," (null/undefined elements empty) and
 * objects as "[object Object]". */
void omni__js_string(omni_buf *b, const omni_value *v);
/* JavaScript's ToNumber, and its StringToNumber on UTF-8 text. */
double omni__js_tonumber(const omni_value *v);
double omni__js_str_tonumber(const char *s, size_t n);
/* JavaScript's `!!v`, and handlebars' `if` (also false for empty arrays). */
int omni__js_truthy(const omni_value *v);
/* Strict (===) and loose (==) equality as JavaScript defines them; arrays
 * and objects compare by identity. */
int omni__js_strict_eq(const omni_value *a, const omni_value *b);
int omni__js_loose_eq(const omni_value *a, const omni_value *b);
/* JavaScript's `a < b` (1), with NaN comparisons false. */
int omni__js_less(const omni_value *a, const omni_value *b);
/* Compact JSON text of a value (undefined as null). */
void omni__value_write_json(omni_buf *b, const omni_value *v);
/* Number of UTF-16 code units of a UTF-8 string (JavaScript's length). */
size_t omni__utf16_length(const char *s, size_t n);
/* The UTF-16 code unit at `index` as a one-character UTF-8 string (U+FFFD
 * for half of a surrogate pair) into out[4]; returns its length, 0 when
 * index is out of range. */
size_t omni__utf16_unit_at(const char *s, size_t n, size_t index, char out[4]);
/* Canonical array index ("0", "17"; not "01"), or -1. */
int64_t omni__array_index(const char *s, size_t n);
/* JavaScript's \s (for the handlebars lexer): the code point's UTF-8 length
 * at s (n bytes available), or 0 when it is not whitespace. */
size_t omni__js_space(const char *s, size_t n);

/* ---- compile-time arena (owned by a template) --------------------------- */

typedef struct omni__chunk {
    struct omni__chunk *next;
    char *data;
    size_t cap;
} omni__chunk;

typedef struct omni__arena {
    omni__chunk *cur;  /* chunk being filled (NULL: none yet) */
    size_t used;       /* bytes used in cur */
    omni__chunk *head; /* heap chunks, for freeing */
    omni__chunk first; /* optional caller-provided first chunk (not freed) */
} omni__arena;

typedef struct omni__arena_mark {
    omni__chunk *cur;
    size_t used;
} omni__arena_mark;

void omni__arena_init(omni__arena *a, void *buf, size_t cap);
void *omni__arena_alloc(omni__arena *a, size_t n); /* 8-aligned; NULL: out of memory */
char *omni__arena_strdup(omni__arena *a, const char *s, size_t n);
static inline omni__arena_mark omni__arena_get_mark(const omni__arena *a)
{
    omni__arena_mark m = {a->cur, a->used};
    return m;
}
static inline void omni__arena_release(omni__arena *a, omni__arena_mark m)
{
    a->cur = m.cur;
    a->used = m.used;
}
void omni__arena_free(omni__arena *a);
void *omni__arena_alloc_cb(void *ud, size_t n); /* omni__alloc_fn over an arena */

/* ---- compiled program --------------------------------------------------- */

enum {
    OMNI__MODE_HANDLEBARS = 0,
    OMNI__MODE_MUSTACHE = 1
};
enum {
    OMNI__ESC_HTML = 0,
    OMNI__ESC_NONE = 1,
    OMNI__ESC_JSON = 2
};

typedef struct omni__seg {
    const char *name; /* NUL-terminated */
    uint32_t len;
    uint32_t hash;
    uint64_t k8;
    int64_t index; /* canonical array index, or -1 */
    uint8_t is_length;
} omni__seg;

typedef struct omni__path {
    const char *original; /* as handlebars.js prints it; for errors and strict mode */
    uint32_t olen;
    uint8_t data;   /* @ */
    uint8_t scoped; /* this / ./ prefix */
    uint8_t simple; /* one segment, not scoped, no depth, not data */
    uint8_t plain;  /* from `this`: no data, depth or block parameter */
    uint16_t depth; /* ../ count */
    int16_t bp_level; /* block parameter: program levels up, or -1 */
    int16_t bp_index;
    uint16_t nseg;
    const omni__seg *segs;
} omni__path;

enum {
    OMNI__EX_PATH = 1,
    OMNI__EX_LIT = 2,
    OMNI__EX_SUB = 3
};

typedef struct omni__call omni__call;

typedef struct omni__expr {
    uint8_t kind;
    omni__path path;       /* EX_PATH */
    omni_value lit;        /* EX_LIT */
    const omni__call *sub; /* EX_SUB */
} omni__expr;

typedef struct omni__hashpair {
    const char *key; /* NUL-terminated */
    uint32_t klen;
    omni__expr value;
} omni__hashpair;

/* How a name resolved at compile time. */
enum {
    OMNI__H_NONE = 0,
    OMNI__H_HOST = 1,
    OMNI__H_BUILTIN = 2
};

typedef struct omni_helper_call omni_helper_call;
typedef int (*omni__builtin_fn)(omni_helper_call *call);

enum {
    OMNI__B_OTHER = 0,
    OMNI__B_IF = 1,
    OMNI__B_UNLESS = 2
};

typedef struct omni__builtin {
    const char *name;
    omni__builtin_fn fn;
    uint8_t exempt; /* strict mode: its arguments are never "missing" */
    uint8_t kind;   /* OMNI__B_*: the renderer runs if/unless blocks itself */
} omni__builtin;

struct omni__call {
    omni__path name; /* the callee as a path (literals converted as handlebars does) */
    uint8_t helper;  /* OMNI__H_* */
    uint8_t has_hash;
    uint8_t exempt;  /* strict mode: arguments are conditions */
    omni_helper_fn host_fn;
    void *host_ctx;
    const omni__builtin *builtin;
    uint16_t nparams;
    uint16_t nhash;
    const omni__expr *params;
    const omni__hashpair *hash;
    uint32_t line, col;
};

enum {
    OMNI__N_CONTENT = 1,
    OMNI__N_COMMENT = 2,
    OMNI__N_MUSTACHE = 3,
    OMNI__N_BLOCK = 4,
    OMNI__N_PARTIAL = 5
};

typedef struct omni__prog omni__prog;

typedef struct omni__partial_ref {
    const char *name; /* static name (NULL when dynamic) */
    uint32_t nlen;
    int32_t index;            /* into the template's partials, -1 when unknown */
    const omni__call *dynamic; /* {{> (expr)}} */
    uint8_t has_context;
    omni__expr context;
    uint16_t nhash;
    const omni__hashpair *hash;
    const char *indent; /* standalone indentation ("" when none) */
    uint32_t indent_len;
} omni__partial_ref;

typedef struct omni__node {
    uint8_t kind;
    uint8_t escaped;    /* mustache: {{ }} (1) or {{{ }}} / {{& }} (0) */
    uint8_t bol;        /* mustache mode: starts a template line */
    uint8_t standalone; /* mustache mode: a standalone partial */
    uint8_t inverted;   /* mustache mode section {{^ }} */
    /* strip flags (handlebars whitespace control) */
    uint8_t s_open, s_close;                /* mustache / partial / comment / block open tag */
    uint8_t os_open, os_close;              /* block: open tag ~ */
    uint8_t is_open, is_close, has_inverse_strip; /* block: {{else}} tag ~ */
    uint8_t cs_open, cs_close;              /* block: close tag ~ */
    uint8_t lstripped, rstripped;
    /* content */
    const char *orig;
    uint32_t olen;
    uint32_t vstart, vend; /* value = orig[vstart, vend) */
    /* mustache / block */
    const omni__call *call;
    omni__prog *prog, *inverse;
    /* partial */
    omni__partial_ref *partial;
    uint32_t line, col;
} omni__node;

struct omni__prog {
    omni__node **body;
    uint32_t n;
    uint8_t chained;    /* the inverse program of an {{else if}} chain */
    uint16_t nbparams;  /* `as |a b|` */
    const char *const *bparams;
};

typedef struct omni__partial_def {
    const char *name;
    uint32_t nlen;
    uint32_t hash;
    const omni__prog *prog;
} omni__partial_def;

typedef struct omni__strlist { /* distinct strings (borrowed), in order of addition */
    const char **items;
    size_t *lens;
    size_t n, cap;
    uint32_t *idx; /* hash set: item index + 1 */
    size_t icap;
} omni__strlist;

struct omni_template {
    omni__arena arena;
    const omni__prog *main;
    int mode, escape, strict, include_zero;
    int uses_depths;  /* some path reads a parent context (../) */
    int uses_bparams; /* some path reads a block parameter */
    char locale[40];
    char time_zone[72];
    omni__partial_def *partials;
    size_t npartials;
    size_t size_hint;    /* the first output buffer */
    size_t partial_hint; /* the partials' share, added when they are used */
    omni__strlist vars, helpers_used, partials_used;
};

/* ---- helpers registry (helpers.c) -------------------------------------- */

typedef struct omni__host_helper {
    char name[65];
    size_t len;
    omni_helper_fn fn;
    void *ctx;
} omni__host_helper;

struct omni_helpers {
    omni__host_helper *items;
    size_t n, cap;
};

const omni__host_helper *omni__helpers_find(const omni_helpers *h, const char *name, size_t len);
const omni__builtin *omni__builtin_find(const char *name, size_t len);

/* ---- render state -------------------------------------------------------- */

typedef struct omni__dnode { /* handlebars depths / mustache context stack */
    const omni_value *ctx;
    const struct omni__dnode *next;
} omni__dnode;

typedef struct omni__dframe { /* @data */
    const struct omni__dframe *parent;
    const omni_value *root;
    omni_value key, index, first, last; /* undefined when unset */
} omni__dframe;

typedef struct omni__bpframe { /* block parameters, one level per program run */
    const struct omni__bpframe *parent;
    const omni_value *v[2];
} omni__bpframe;

typedef struct omni__frame {
    const omni_value *ctx;
    const omni__dnode *depths;
    const omni__dframe *data;
    const omni__bpframe *bp;
    const char *indent; /* mustache mode: partial indentation */
    size_t indent_len;
} omni__frame;

typedef struct omni__rs {
    const omni_template *t;
    omni_buf out;
    omni__arena arena;
    int status; /* first error (sticky) */
    int depth;  /* nesting of programs and partials */
    int partial_depth;
    uint64_t steps;
    int exempt; /* >0: strict mode does not record missing paths */
    omni__strlist missing;
} omni__rs;

struct omni_helper_call {
    omni__rs *st;
    const omni__frame *f;
    const omni__call *c;
    const omni__prog *fn, *inverse;
    const omni_value **args;
    size_t argc;
    const omni_value **hvals;
    int is_block;
    int direct; /* a built-in block helper wrote into the output itself */
    omni_value result;
    omni_buf acc; /* append_block / append_inverse text */
    int use_acc;
};

/* Renders `prog` as the helper's block body / inverse with `ctx` (NULL:
 * this), into the output (builtins) — data frame `data` (NULL: the current
 * one) and block parameters bp0/bp1 (may be NULL). */
int omni__render_child(omni_helper_call *call, const omni__prog *prog, const omni_value *ctx,
                       const omni__dframe *data, const omni_value *bp0,
                       const omni_value *bp1);
/* The built-in `each` (also blockHelperMissing's iteration). */
int omni__builtin_each(omni_helper_call *call);
/* `this` as a handlebars helper sees it (nullContext for null/undefined). */
const omni_value *omni__helper_this(const omni_helper_call *call);
/* Reports a render error from a helper (sets the sticky status). */
int omni__render_fail(omni__rs *st, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Counts render work; fails the render past its limit. */
int omni__render_step(omni__rs *st, uint64_t n);

/* Adds s (borrowed, not copied) unless already present; 0 or OMNI_ENOMEM. */
int omni__strlist_add(omni__strlist *l, const char *s, size_t n);
void omni__strlist_free(omni__strlist *l);

/* The compile options {"escape":"html"|"none","locale":locale} that the
 * template store and validator compile sources with, into o (parse.c). */
void omni__compile_options(omni_buf *o, int html, const char *locale);

/* Limits that are not in the public header. */
#define OMNI__MAX_RENDER_DEPTH 512
#define OMNI__MAX_STEPS (1u << 24)
#define OMNI__MAX_PARAMS 64

#endif
