/* Template compiler: options, the handlebars lexer (the rules of
 * handlebars.js 4.7.8's jison lexer, in order), a recursive-descent parser
 * for its grammar, handlebars' whitespace control (standalone lines and ~),
 * the mustache-spec parser (set delimiters, standalone lines), name
 * resolution (helpers, block parameters, path segments with precomputed
 * hashes) and omni_template_inspect. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/codec.h"
#include "lib/core/error.h"
#include "lib/core/json.h"
#include "template_internal.h"

/* ---- compile context -------------------------------------------------------- */

#define MAX_LEVELS (OMNI_TEMPLATE_MAX_NESTING * 2 + 8)

typedef struct cctx {
    omni_template *t;
    omni__arena *a;
    const char *src;
    size_t len;
    const char *partial; /* name of the partial being compiled, NULL for the main template */
    const omni_helpers *helpers;
    int status;
    size_t err_pos;
    char err_msg[200];
    /* lexical block-parameter scopes: one per program being parsed */
    const omni__prog *levels[MAX_LEVELS];
    int nlevels;
    int nesting; /* blocks */
    int sexpr_nesting;
} cctx;

static int fail_at(cctx *c, size_t pos, const char *fmt, ...) OMNI__PRINTF(3, 4);

static int fail_at(cctx *c, size_t pos, const char *fmt, ...)
{
    if (c->status)
        return c->status;
    c->status = OMNI_ESYNTAX;
    c->err_pos = pos > c->len ? c->len : pos;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
    va_end(ap);
    return c->status;
}

static int fail_nomem(cctx *c)
{
    if (!c->status) {
        c->status = OMNI_ENOMEM;
        snprintf(c->err_msg, sizeof(c->err_msg), "out of memory");
    }
    return c->status;
}

static void line_col(const char *src, size_t pos, uint32_t *line, uint32_t *col)
{
    uint32_t l = 1, k = 1;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') {
            l++;
            k = 1;
        } else if (((unsigned char)src[i] & 0xC0) != 0x80) {
            k++;
        }
    }
    *line = l;
    *col = k;
}

/* Sets the thread's last error from the compile context. */
static int report(cctx *c)
{
    if (c->status == OMNI_ENOMEM)
        return omni__err(OMNI_ENOMEM, NULL);
    uint32_t line, col;
    line_col(c->src, c->err_pos, &line, &col);
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_key(&d, "line");
    omni__json_w_int(&d, line);
    omni__json_w_key(&d, "column");
    omni__json_w_int(&d, col);
    if (c->partial) {
        omni__json_w_key(&d, "partial");
        omni__json_w_str(&d, c->partial);
    }
    omni__json_w_obj_end(&d);
    int rc;
    if (c->partial)
        rc = omni__err_details(c->status, d.failed ? NULL : d.data,
                               "line %u, column %u: %s (in partial \"%s\")", line, col,
                               c->err_msg, c->partial);
    else
        rc = omni__err_details(c->status, d.failed ? NULL : d.data, "line %u, column %u: %s",
                               line, col, c->err_msg);
    omni__buf_free(&d);
    return rc;
}

static void *c_alloc(cctx *c, size_t n)
{
    void *p = omni__arena_alloc(c->a, n);
    if (!p)
        fail_nomem(c);
    else
        memset(p, 0, n);
    return p;
}

static char *c_strdup(cctx *c, const char *s, size_t n)
{
    char *p = omni__arena_strdup(c->a, s, n);
    if (!p)
        fail_nomem(c);
    return p;
}

/* A growable array of pointers (parser scratch; freed by its owner). */
typedef struct pvec {
    void **items;
    size_t n, cap;
} pvec;

static int pvec_push(cctx *c, pvec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **q = realloc(v->items, cap * sizeof(*q));
        if (!q)
            return fail_nomem(c);
        v->items = q;
        v->cap = cap;
    }
    v->items[v->n++] = p;
    return 0;
}

/* ---- handlebars lexer ---------------------------------------------------------- */

enum {
    T_EOF = 1,
    T_CONTENT,
    T_COMMENT,
    T_OPEN,
    T_OPEN_UNESCAPED,
    T_OPEN_BLOCK,
    T_OPEN_ENDBLOCK,
    T_OPEN_INVERSE,
    T_OPEN_INVERSE_CHAIN,
    T_INVERSE,
    T_OPEN_PARTIAL,
    T_CLOSE,
    T_CLOSE_UNESCAPED,
    T_OPEN_SEXPR,
    T_CLOSE_SEXPR,
    T_EQUALS,
    T_ID,
    T_SEP,
    T_DATA,
    T_STRING,
    T_NUMBER,
    T_BOOLEAN,
    T_UNDEFINED,
    T_NULL,
    T_OPEN_BLOCK_PARAMS,
    T_CLOSE_BLOCK_PARAMS,
    T_INVALID,
    T_UNSUPPORTED /* raw blocks, partial blocks, decorators */
};

enum { L_INITIAL, L_MU, L_EMU, L_COM };

typedef struct token {
    int type;
    size_t pos, end;  /* source range of the token */
    const char *text; /* token text (processed for content, strings, [ids]) */
    size_t tlen;
    uint8_t strip_open, strip_close; /* ~ on an opening / closing token */
    const char *what;                /* for T_UNSUPPORTED */
} token;

typedef struct lexer {
    cctx *c;
    const char *s;
    size_t n, pos;
    int state;
    token q[4]; /* lookahead */
    int nq;
} lexer;

static int starts(const lexer *lx, size_t at, const char *lit)
{
    size_t k = strlen(lit);
    return at <= lx->n && lx->n - at >= k && memcmp(lx->s + at, lit, k) == 0;
}

static int in_set(const char *set, char ch)
{
    return ch != '\0' && strchr(set, ch) != NULL;
}

/* JavaScript \s at `at` (0 when not whitespace or at the end). */
static size_t js_ws(const lexer *lx, size_t at)
{
    return at < lx->n ? omni__js_space(lx->s + at, lx->n - at) : 0;
}

static size_t skip_ws(const lexer *lx, size_t at)
{
    size_t k;
    while ((k = js_ws(lx, at)) > 0)
        at += k;
    return at;
}

/* handlebars' ID characters: anything but whitespace and !"#%&'()*+,./;<=>@[\]^`{|}~ */
static int id_char(const lexer *lx, size_t at)
{
    char ch = lx->s[at];
    if (js_ws(lx, at))
        return 0;
    return !in_set("!\"#%&'()*+,./;<=>@[\\]^`{|}~", ch);
}

/* The ID lookahead: = ~ } / . ) | or whitespace (not the end). */
static int id_lookahead(const lexer *lx, size_t at)
{
    return at < lx->n && (in_set("=~}/.)|", lx->s[at]) || js_ws(lx, at) > 0);
}

/* The literal lookahead: ~ } ) or whitespace. */
static int lit_lookahead(const lexer *lx, size_t at)
{
    return at < lx->n && (in_set("~})", lx->s[at]) || js_ws(lx, at) > 0);
}

static int word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

static size_t utf8_len_at(const lexer *lx, size_t at)
{
    unsigned char ch = (unsigned char)lx->s[at];
    size_t k = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
    return at + k > lx->n ? lx->n - at : k;
}

/* A quoted token (rules 31, 32 and 42) with the regex's backtracking: an
 * escaped close \q never ends it unless no plain close follows, in which
 * case the last escaped one ends it. Returns the end, or 0. */
static size_t scan_quoted(const lexer *lx, size_t at, char q)
{
    size_t i = at + 1, last_escaped = 0;
    while (i < lx->n) {
        if (lx->s[i] == '\\' && i + 1 < lx->n && lx->s[i + 1] == q) {
            last_escaped = i + 1;
            i += 2;
            continue;
        }
        if (lx->s[i] == q)
            return i + 1;
        i++;
    }
    return last_escaped ? last_escaped + 1 : 0;
}

/* Copies text replacing each "\x" (x in `set`) by x, left to right. */
static const char *unescape(lexer *lx, const char *s, size_t n, const char *set, size_t *out_n)
{
    int any = 0;
    for (size_t i = 0; i + 1 < n && !any; i++)
        any = s[i] == '\\' && in_set(set, s[i + 1]);
    *out_n = n;
    if (!any)
        return s;
    char *o = omni__arena_alloc(lx->c->a, n + 1);
    if (!o) {
        fail_nomem(lx->c);
        *out_n = 0;
        return "";
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && in_set(set, s[i + 1]))
            i++;
        o[k++] = s[i];
    }
    o[k] = '\0';
    *out_n = k;
    return o;
}

static void tok_set(lexer *lx, token *t, int type, size_t pos, size_t end)
{
    t->type = type;
    t->pos = pos;
    t->end = end;
    t->text = lx->s + pos;
    t->tlen = end - pos;
    lx->pos = end;
}

/* A tag's close at r: an optional '~' then "}}". When there is one, sets t
 * (type, from p to past the close, its strip flag), returns to the initial
 * state and returns 1; otherwise returns 0. */
static int lex_close(lexer *lx, token *t, int type, size_t p, size_t r)
{
    uint8_t sc = 0;
    if (r < lx->n && lx->s[r] == '~') {
        sc = 1;
        r++;
    }
    if (!starts(lx, r, "}}"))
        return 0;
    tok_set(lx, t, type, p, r + 2);
    t->strip_close = sc;
    lx->state = L_INITIAL;
    return 1;
}

/* Tags that start with "{{" (rules 9, 11..23). Returns 1 when the lexer
 * switched to the comment state, 0 otherwise (t set when type != 0). */
static int lex_open(lexer *lx, token *t, size_t p)
{
    const char *s = lx->s;
    size_t q = p + 2;
    uint8_t so = 0;
    if (q < lx->n && s[q] == '~') {
        so = 1;
        q++;
    }
    t->strip_open = so;
    char c0 = q < lx->n ? s[q] : '\0';
    if (c0 == '>') {
        tok_set(lx, t, T_OPEN_PARTIAL, p, q + 1);
        return 0;
    }
    if (c0 == '#') {
        if (starts(lx, q, "#>")) {
            tok_set(lx, t, T_UNSUPPORTED, p, q + 2);
            t->what = "partial blocks ({{#> }}) are not supported";
        } else if (starts(lx, q, "#*")) {
            tok_set(lx, t, T_UNSUPPORTED, p, q + 2);
            t->what = "decorators and inline partials ({{#* }}) are not supported";
        } else {
            tok_set(lx, t, T_OPEN_BLOCK, p, q + 1);
        }
        return 0;
    }
    if (c0 == '/') {
        tok_set(lx, t, T_OPEN_ENDBLOCK, p, q + 1);
        return 0;
    }
    /* rule 15: {{^}} */
    if (c0 == '^' && lex_close(lx, t, T_INVERSE, p, skip_ws(lx, q + 1)))
        return 0;
    /* rule 16: {{else}} */
    size_t e0 = skip_ws(lx, q);
    int has_else = starts(lx, e0, "else");
    if (has_else && lex_close(lx, t, T_INVERSE, p, skip_ws(lx, e0 + 4)))
        return 0;
    if (c0 == '^') { /* rule 17 */
        tok_set(lx, t, T_OPEN_INVERSE, p, q + 1);
        return 0;
    }
    if (has_else && (e0 + 4 >= lx->n || !word_char(s[e0 + 4]))) { /* rule 18: else\b */
        tok_set(lx, t, T_OPEN_INVERSE_CHAIN, p, e0 + 4);
        return 0;
    }
    if (c0 == '{') {
        tok_set(lx, t, T_OPEN_UNESCAPED, p, q + 1);
        return 0;
    }
    if (c0 == '&') {
        tok_set(lx, t, T_OPEN, p, q + 1);
        return 0;
    }
    if (starts(lx, q, "!--")) { /* rule 21: re-lexed from "{{" as a long comment */
        lx->state = L_COM;
        lx->pos = p;
        return 1;
    }
    if (c0 == '!') { /* rule 22: {{! ... }} */
        size_t k = q + 1;
        while (k + 1 < lx->n && !(s[k] == '}' && s[k + 1] == '}'))
            k++;
        if (k + 1 < lx->n) {
            tok_set(lx, t, T_COMMENT, p, k + 2);
            t->strip_close = s[k - 1] == '~';
            lx->state = L_INITIAL;
            return 0;
        }
    }
    if (c0 == '*') {
        tok_set(lx, t, T_UNSUPPORTED, p, q + 1);
        t->what = "decorators ({{* }}) are not supported";
        return 0;
    }
    tok_set(lx, t, T_OPEN, p, q); /* rule 23 */
    return 0;
}

/* One token in the mu state (rules 7..44). Returns 1 after switching to
 * the comment state, otherwise 0 or the error status. */
static int lex_mu(lexer *lx, token *t)
{
    const char *s = lx->s;
    for (;;) {
        size_t p = lx->pos;
        memset(t, 0, sizeof(*t));
        if (p >= lx->n) {
            tok_set(lx, t, T_EOF, p, p);
            return 0;
        }
        char ch = s[p];
        if (ch == '(') {
            tok_set(lx, t, T_OPEN_SEXPR, p, p + 1);
            return 0;
        }
        if (ch == ')') {
            tok_set(lx, t, T_CLOSE_SEXPR, p, p + 1);
            return 0;
        }
        if (starts(lx, p, "{{{{")) {
            tok_set(lx, t, T_UNSUPPORTED, p, p + 4);
            t->what = "raw blocks ({{{{ }}}}) are not supported";
            return 0;
        }
        if (starts(lx, p, "}}}}")) { /* rule 10: a raw block close, never valid here */
            tok_set(lx, t, T_INVALID, p, p + 4);
            return 0;
        }
        if (starts(lx, p, "{{"))
            return lex_open(lx, t, p);
        if (ch == '=') {
            tok_set(lx, t, T_EQUALS, p, p + 1);
            return 0;
        }
        if (starts(lx, p, "..")) {
            tok_set(lx, t, T_ID, p, p + 2);
            return 0;
        }
        if (ch == '.' && id_lookahead(lx, p + 1)) {
            tok_set(lx, t, T_ID, p, p + 1);
            return 0;
        }
        if (ch == '.' || ch == '/') {
            tok_set(lx, t, T_SEP, p, p + 1);
            return 0;
        }
        if (js_ws(lx, p)) {
            lx->pos = skip_ws(lx, p);
            continue;
        }
        {
            size_t r = p;
            int unescaped = 0;
            if (s[r] == '}' && (starts(lx, r + 1, "}}") || starts(lx, r + 1, "~}}"))) {
                unescaped = 1;
                r++;
            }
            if (lex_close(lx, t, unescaped ? T_CLOSE_UNESCAPED : T_CLOSE, p, r))
                return 0;
        }
        if (ch == '"' || ch == '\'') {
            size_t e = scan_quoted(lx, p, ch);
            if (e) {
                char set[2] = {ch, '\0'};
                tok_set(lx, t, T_STRING, p, e);
                t->text = unescape(lx, s + p + 1, e - p - 2, set, &t->tlen);
                return lx->c->status;
            }
        }
        if (ch == '@') {
            tok_set(lx, t, T_DATA, p, p + 1);
            return 0;
        }
        static const struct {
            const char *lit;
            int type;
        } lits[] = {{"true", T_BOOLEAN}, {"false", T_BOOLEAN}, {"undefined", T_UNDEFINED},
                    {"null", T_NULL}};
        for (size_t i = 0; i < 4; i++) {
            size_t k = strlen(lits[i].lit);
            if (starts(lx, p, lits[i].lit) && lit_lookahead(lx, p + k)) {
                tok_set(lx, t, lits[i].type, p, p + k);
                return 0;
            }
        }
        {
            /* rule 38: -?[0-9]+(\.[0-9]+)? before the literal lookahead */
            size_t r = p + (ch == '-');
            size_t d0 = r;
            while (r < lx->n && s[r] >= '0' && s[r] <= '9')
                r++;
            if (r > d0) {
                size_t e = r;
                if (r + 1 < lx->n && s[r] == '.' && s[r + 1] >= '0' && s[r + 1] <= '9') {
                    size_t f = r + 1;
                    while (f < lx->n && s[f] >= '0' && s[f] <= '9')
                        f++;
                    if (lit_lookahead(lx, f))
                        e = f;
                }
                if (lit_lookahead(lx, e)) {
                    tok_set(lx, t, T_NUMBER, p, e);
                    return 0;
                }
            }
        }
        if (starts(lx, p, "as") && js_ws(lx, p + 2)) {
            size_t r = skip_ws(lx, p + 2);
            if (r < lx->n && s[r] == '|') {
                tok_set(lx, t, T_OPEN_BLOCK_PARAMS, p, r + 1);
                return 0;
            }
        }
        if (ch == '|') {
            tok_set(lx, t, T_CLOSE_BLOCK_PARAMS, p, p + 1);
            return 0;
        }
        {
            size_t r = p;
            while (r < lx->n && id_char(lx, r))
                r += utf8_len_at(lx, r);
            if (r > p && id_lookahead(lx, r)) {
                tok_set(lx, t, T_ID, p, r);
                return 0;
            }
        }
        if (ch == '[') {
            size_t e = scan_quoted(lx, p, ']');
            if (e) {
                tok_set(lx, t, T_ID, p, e);
                t->text = unescape(lx, s + p, e - p, "\\]", &t->tlen);
                return lx->c->status;
            }
        }
        /* rule 43: any other character */
        tok_set(lx, t, T_INVALID, p, p + utf8_len_at(lx, p));
        return 0;
    }
}

/* The next token from the source (any state). */
static int lex_next(lexer *lx, token *t)
{
    const char *s = lx->s;
    for (;;) {
        if (lx->c->status)
            return lx->c->status;
        size_t p = lx->pos;
        memset(t, 0, sizeof(*t));
        if (lx->state == L_MU) {
            int r = lex_mu(lx, t);
            if (r == 1)
                continue;
            return r;
        }
        if (lx->state == L_COM) {
            /* rule 6: [\s\S]*?--~?}} from the "{{" */
            for (size_t i = p; i + 4 <= lx->n; i++) {
                if (memcmp(s + i, "--}}", 4) == 0) {
                    tok_set(lx, t, T_COMMENT, p, i + 4);
                    break;
                }
                if (i + 5 <= lx->n && memcmp(s + i, "--~}}", 5) == 0) {
                    tok_set(lx, t, T_COMMENT, p, i + 5);
                    t->strip_close = 1;
                    break;
                }
            }
            if (!t->type)
                return fail_at(lx->c, p, "unterminated comment");
            t->strip_open = s[p + 2] == '~';
            lx->state = L_INITIAL;
            return 0;
        }
        if (lx->state == L_EMU) {
            /* rule 2: [^\0]{2,}? up to "{{", "\{{", "\\{{" or the end */
            size_t i = p;
            int found = 0;
            while (i < lx->n && s[i] != '\0') {
                i++;
                if (i - p >= 2 && (i == lx->n || starts(lx, i, "{{") || starts(lx, i, "\\{{") ||
                                   starts(lx, i, "\\\\{{"))) {
                    found = 1;
                    break;
                }
            }
            if (!found)
                return fail_at(lx->c, i, "NUL character in the template");
            tok_set(lx, t, T_CONTENT, p, i);
            lx->state = L_INITIAL;
            return 0;
        }
        /* INITIAL: rules 0, 1, 44 */
        if (p >= lx->n) {
            tok_set(lx, t, T_EOF, p, p);
            return 0;
        }
        size_t i = p;
        while (i < lx->n && s[i] != '\0' && !(s[i] == '{' && starts(lx, i, "{{")))
            i++;
        if (i >= lx->n || s[i] == '\0') {
            if (i == p)
                return fail_at(lx->c, p, "NUL character in the template");
            tok_set(lx, t, T_CONTENT, p, i);
            return 0;
        }
        size_t e = i;
        if (e - p >= 2 && s[e - 1] == '\\' && s[e - 2] == '\\') {
            e--;
            lx->state = L_MU;
        } else if (e - p >= 1 && s[e - 1] == '\\') {
            e--;
            lx->state = L_EMU;
        } else {
            lx->state = L_MU;
        }
        lx->pos = i;
        if (e > p) {
            t->type = T_CONTENT;
            t->pos = p;
            t->end = i;
            t->text = s + p;
            t->tlen = e - p;
            return 0;
        }
    }
}

static token *peek(lexer *lx, int k)
{
    while (lx->nq <= k) {
        if (lex_next(lx, &lx->q[lx->nq]))
            return NULL;
        lx->nq++;
    }
    return &lx->q[k];
}

static int next_tok(lexer *lx, token *out)
{
    token *t = peek(lx, 0);
    if (!t)
        return lx->c->status;
    *out = *t;
    memmove(&lx->q[0], &lx->q[1], (size_t)(lx->nq - 1) * sizeof(token));
    lx->nq--;
    return 0;
}

/* ---- handlebars parser ------------------------------------------------------- */

typedef struct parser {
    cctx *c;
    lexer lx;
} parser;

static const char *tok_name(int type)
{
    switch (type) {
    case T_EOF: return "end of template";
    case T_CONTENT: return "text";
    case T_COMMENT: return "comment";
    case T_OPEN: return "'{{'";
    case T_OPEN_UNESCAPED: return "'{{{'";
    case T_OPEN_BLOCK: return "'{{#'";
    case T_OPEN_ENDBLOCK: return "'{{/'";
    case T_OPEN_INVERSE: return "'{{^'";
    case T_OPEN_INVERSE_CHAIN: return "'{{else'";
    case T_INVERSE: return "'{{else}}'";
    case T_OPEN_PARTIAL: return "'{{>'";
    case T_CLOSE: return "'}}'";
    case T_CLOSE_UNESCAPED: return "'}}}'";
    case T_OPEN_SEXPR: return "'('";
    case T_CLOSE_SEXPR: return "')'";
    case T_EQUALS: return "'='";
    case T_ID: return "a name";
    case T_SEP: return "a path separator";
    case T_DATA: return "'@'";
    case T_STRING: return "a string";
    case T_NUMBER: return "a number";
    case T_BOOLEAN: return "a boolean";
    case T_UNDEFINED: return "'undefined'";
    case T_NULL: return "'null'";
    case T_OPEN_BLOCK_PARAMS: return "'as |'";
    case T_CLOSE_BLOCK_PARAMS: return "'|'";
    default: return "an invalid character";
    }
}

static int unexpected(parser *p, const token *t, const char *expected)
{
    if (t->type == T_UNSUPPORTED)
        return fail_at(p->c, t->pos, "%s", t->what);
    if (t->type == T_INVALID && t->tlen > 0 && t->tlen < 5)
        return fail_at(p->c, t->pos, "unexpected '%.*s', expected %s", (int)t->tlen, t->text,
                       expected);
    return fail_at(p->c, t->pos, "unexpected %s, expected %s", tok_name(t->type), expected);
}

static int expect(parser *p, int type, token *out, const char *expected)
{
    token *t = peek(&p->lx, 0);
    if (!t)
        return p->c->status;
    if (t->type != type)
        return unexpected(p, t, expected);
    return next_tok(&p->lx, out);
}

/* handlebars' id(): "[x]" -> "x" (when no line terminator inside). */
static void strip_brackets(const char *s, size_t n, const char **out, size_t *out_n)
{
    *out = s;
    *out_n = n;
    if (n < 2 || s[0] != '[' || s[n - 1] != ']')
        return;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n' || ch == '\r')
            return;
        if (ch == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
            return; /* U+2028, U+2029 */
    }
    *out = s + 1;
    *out_n = n - 2;
}

/* handlebars' scopedId: /^\.|this\b/ on the original. */
static int scoped_id(const char *o, size_t n)
{
    if (n && o[0] == '.')
        return 1;
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(o + i, "this", 4) == 0 && (i + 4 == n || !word_char(o[i + 4])))
            return 1;
    return 0;
}

typedef struct part {
    const char *part; /* stripped */
    size_t plen;
    const char *orig; /* token text */
    size_t olen;
    char sep; /* separator before it, 0 for the first */
} part;

static int resolve_block_param(cctx *c, omni__path *path)
{
    path->bp_level = -1;
    path->bp_index = -1;
    if (path->data || path->depth || path->scoped || path->nseg == 0)
        return 0;
    const omni__seg *s0 = &path->segs[0];
    for (int j = c->nlevels - 1; j >= 0; j--) {
        const omni__prog *lv = c->levels[j];
        if (!lv || !lv->nbparams)
            continue;
        for (uint16_t k = 0; k < lv->nbparams; k++) {
            const char *bp = lv->bparams[k];
            if (strlen(bp) == s0->len && memcmp(bp, s0->name, s0->len) == 0) {
                path->bp_level = (int16_t)(c->nlevels - 1 - j);
                path->bp_index = (int16_t)k;
                return 1;
            }
        }
    }
    return 0;
}

static int make_seg(cctx *c, omni__seg *sg, const char *s, size_t n)
{
    sg->name = c_strdup(c, s, n);
    if (!sg->name)
        return c->status;
    sg->len = (uint32_t)n;
    sg->hash = omni__hash(s, n);
    sg->k8 = omni__key8(s, n);
    sg->index = omni__array_index(s, n);
    sg->is_length = n == 6 && memcmp(s, "length", 6) == 0;
    return 0;
}

/* handlebars' preparePath. */
static int prepare_path(cctx *c, omni__path *path, int data, const part *parts, size_t nparts,
                        size_t pos)
{
    memset(path, 0, sizeof(*path));
    path->data = (uint8_t)data;
    omni_buf o = OMNI_BUF_INIT;
    if (data)
        omni__buf_putc(&o, '@');
    omni__seg *segs = c_alloc(c, (nparts ? nparts : 1) * sizeof(omni__seg));
    if (!segs)
        return c->status;
    size_t nseg = 0;
    for (size_t i = 0; i < nparts; i++) {
        const part *pt = &parts[i];
        int literal = pt->olen != pt->plen || memcmp(pt->orig, pt->part, pt->plen) != 0;
        if (pt->sep)
            omni__buf_putc(&o, pt->sep);
        omni__buf_append(&o, pt->part, pt->plen);
        int special = (pt->plen == 2 && memcmp(pt->part, "..", 2) == 0) ||
                      (pt->plen == 1 && pt->part[0] == '.') ||
                      (pt->plen == 4 && memcmp(pt->part, "this", 4) == 0);
        if (!literal && special) {
            if (nseg > 0) {
                int rc = fail_at(c, pos, "invalid path: %.*s", (int)(o.len > 100 ? 100 : o.len),
                                 o.data ? o.data : "");
                omni__buf_free(&o);
                return rc;
            }
            if (pt->plen == 2)
                path->depth++;
        } else if (make_seg(c, &segs[nseg++], pt->part, pt->plen)) {
            omni__buf_free(&o);
            return c->status;
        }
    }
    if (o.failed) {
        omni__buf_free(&o);
        return fail_nomem(c);
    }
    path->original = c_strdup(c, o.data ? o.data : "", o.len);
    path->olen = (uint32_t)o.len;
    omni__buf_free(&o);
    if (!path->original)
        return c->status;
    path->segs = segs;
    path->nseg = (uint16_t)nseg;
    path->scoped = (uint8_t)scoped_id(path->original, path->olen);
    path->simple = nseg == 1 && !path->scoped && !path->depth;
    if (path->depth)
        c->t->uses_depths = 1;
    if (resolve_block_param(c, path))
        c->t->uses_bparams = 1;
    path->plain = !path->data && !path->depth && path->bp_level < 0;
    return 0;
}

/* pathSegments: ID (SEP ID)* — the first ID already consumed. */
static int parse_path(parser *p, omni__path *path, int data, const token *first, size_t pos)
{
    part parts[64];
    size_t n = 0;
    token t = *first;
    char sep = 0;
    for (;;) {
        if (n == sizeof(parts) / sizeof(parts[0]))
            return fail_at(p->c, t.pos, "a path has at most 64 segments");
        parts[n].sep = sep;
        parts[n].orig = t.text;
        parts[n].olen = t.tlen;
        strip_brackets(t.text, t.tlen, &parts[n].part, &parts[n].plen);
        n++;
        token *nx = peek(&p->lx, 0);
        if (!nx)
            return p->c->status;
        if (nx->type != T_SEP)
            break;
        token st;
        if (next_tok(&p->lx, &st))
            return p->c->status;
        sep = st.text[0];
        if (expect(p, T_ID, &t, "a name after the path separator"))
            return p->c->status;
    }
    return prepare_path(p->c, path, data, parts, n, pos);
}

static int fail_deep(cctx *c, size_t pos, const char *what)
{
    if (c->status)
        return c->status;
    fail_at(c, pos, "%s", what);
    c->status = OMNI_ETOODEEP;
    return c->status;
}

static int is_param_start(int type)
{
    return type == T_ID || type == T_DATA || type == T_STRING || type == T_NUMBER ||
           type == T_BOOLEAN || type == T_UNDEFINED || type == T_NULL || type == T_OPEN_SEXPR;
}

/* A literal token as a value (handlebars' literal nodes). */
static int make_literal(cctx *c, const token *t, omni_value *v)
{
    memset(v, 0, sizeof(*v));
    switch (t->type) {
    case T_STRING: {
        char *s = c_strdup(c, t->text, t->tlen);
        if (!s)
            return c->status;
        v->type = OMNI_VALUE_STRING;
        v->n = (uint32_t)t->tlen;
        v->u.str = s;
        return 0;
    }
    case T_NUMBER:
        v->type = OMNI_VALUE_NUMBER;
        v->u.num = omni__js_str_tonumber(t->text, t->tlen);
        return 0;
    case T_BOOLEAN:
        *v = t->tlen == 4 ? omni__true_value : omni__false_value;
        return 0;
    case T_NULL:
        *v = omni__null_value;
        return 0;
    default:
        *v = omni__undefined;
        return 0;
    }
}

/* transformLiteralToPath: a literal in a callee position is a one-part path
 * named by the literal's string form. */
static int literal_to_path(cctx *c, const omni_value *lit, omni__path *path)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__js_string(&b, lit);
    if (b.failed) {
        omni__buf_free(&b);
        return fail_nomem(c);
    }
    memset(path, 0, sizeof(*path));
    const char *s = b.data ? b.data : "";
    path->original = c_strdup(c, s, b.len);
    path->olen = (uint32_t)b.len;
    omni__seg *seg = c_alloc(c, sizeof(omni__seg));
    if (!path->original || !seg || make_seg(c, seg, s, b.len)) {
        omni__buf_free(&b);
        return c->status ? c->status : fail_nomem(c);
    }
    omni__buf_free(&b);
    path->segs = seg;
    path->nseg = 1;
    path->scoped = (uint8_t)scoped_id(path->original, path->olen);
    path->simple = !path->scoped;
    if (resolve_block_param(c, path))
        c->t->uses_bparams = 1;
    path->plain = !path->data && !path->depth && path->bp_level < 0;
    return 0;
}

static omni__call *parse_sexpr(parser *p);

/* helperName (and sexpr when allowed). The token is consumed. */
static int parse_operand(parser *p, omni__expr *e, int allow_sexpr)
{
    memset(e, 0, sizeof(*e));
    token *pk = peek(&p->lx, 0);
    if (!pk)
        return p->c->status;
    if (allow_sexpr && pk->type == T_OPEN_SEXPR) {
        e->kind = OMNI__EX_SUB;
        e->sub = parse_sexpr(p);
        return p->c->status;
    }
    token t;
    if (next_tok(&p->lx, &t))
        return p->c->status;
    switch (t.type) {
    case T_ID:
        e->kind = OMNI__EX_PATH;
        return parse_path(p, &e->path, 0, &t, t.pos);
    case T_DATA: {
        token id;
        if (expect(p, T_ID, &id, "a name after '@'"))
            return p->c->status;
        e->kind = OMNI__EX_PATH;
        return parse_path(p, &e->path, 1, &id, t.pos);
    }
    case T_STRING:
    case T_NUMBER:
    case T_BOOLEAN:
    case T_UNDEFINED:
    case T_NULL:
        e->kind = OMNI__EX_LIT;
        return make_literal(p->c, &t, &e->lit);
    default:
        return unexpected(p, &t, "a name or a literal");
    }
}

/* param* hash? into the call; hash pairs are kept as handlebars' hash
 * object holds them (unique keys: the first value, in the order of the
 * last occurrences reversed). */
static int parse_args(parser *p, omni__call *call)
{
    cctx *c = p->c;
    omni__expr params[OMNI__MAX_PARAMS];
    omni__hashpair pairs[OMNI__MAX_PARAMS];
    size_t np = 0, nh = 0;
    for (;;) {
        token *t0 = peek(&p->lx, 0);
        if (!t0)
            return c->status;
        if (t0->type == T_ID) {
            token *t1 = peek(&p->lx, 1);
            if (!t1)
                return c->status;
            if (t1->type == T_EQUALS)
                break;
            t0 = peek(&p->lx, 0);
        }
        if (!is_param_start(t0->type))
            break;
        if (np == OMNI__MAX_PARAMS)
            return fail_at(c, t0->pos, "a call has at most %d arguments", OMNI__MAX_PARAMS);
        if (parse_operand(p, &params[np++], 1))
            return c->status;
    }
    for (;;) {
        token *t0 = peek(&p->lx, 0);
        if (!t0)
            return c->status;
        if (t0->type != T_ID)
            break;
        token *t1 = peek(&p->lx, 1);
        if (!t1)
            return c->status;
        if (t1->type != T_EQUALS)
            break;
        if (nh == OMNI__MAX_PARAMS)
            return fail_at(c, t0->pos, "a call has at most %d hash arguments", OMNI__MAX_PARAMS);
        token key, eq;
        next_tok(&p->lx, &key);
        next_tok(&p->lx, &eq);
        const char *k;
        size_t kn;
        strip_brackets(key.text, key.tlen, &k, &kn);
        pairs[nh].key = c_strdup(c, k, kn);
        pairs[nh].klen = (uint32_t)kn;
        if (!pairs[nh].key)
            return c->status;
        if (parse_operand(p, &pairs[nh].value, 1))
            return c->status;
        nh++;
    }
    if (np) {
        omni__expr *ps = c_alloc(c, np * sizeof(*ps));
        if (!ps)
            return c->status;
        memcpy(ps, params, np * sizeof(*ps));
        call->params = ps;
        call->nparams = (uint16_t)np;
    }
    if (nh) {
        omni__hashpair *hs = c_alloc(c, nh * sizeof(*hs));
        if (!hs)
            return c->status;
        size_t k = 0;
        for (size_t i = nh; i-- > 0;) {
            size_t j;
            for (j = 0; j < k; j++)
                if (hs[j].klen == pairs[i].klen &&
                    memcmp(hs[j].key, pairs[i].key, pairs[i].klen) == 0)
                    break;
            if (j < k)
                hs[j].value = pairs[i].value; /* an earlier pair's value wins */
            else
                hs[k++] = pairs[i];
        }
        call->hash = hs;
        call->nhash = (uint16_t)k;
        call->has_hash = 1;
    }
    return 0;
}

static void resolve_helper(cctx *c, omni__call *call)
{
    if (c->t->mode != OMNI__MODE_HANDLEBARS || !call->name.simple || call->name.bp_level >= 0)
        return;
    const omni__seg *s0 = &call->name.segs[0];
    const omni__host_helper *h = omni__helpers_find(c->helpers, s0->name, s0->len);
    if (h) {
        call->helper = OMNI__H_HOST;
        call->host_fn = h->fn;
        call->host_ctx = h->ctx;
        return;
    }
    const omni__builtin *b = omni__builtin_find(s0->name, s0->len);
    if (b) {
        call->helper = OMNI__H_BUILTIN;
        call->builtin = b;
        call->exempt = b->exempt;
    }
}

/* helperName param* hash? as a call (the callee converted to a path). */
static omni__call *parse_call(parser *p, size_t pos, omni__expr *name_out)
{
    cctx *c = p->c;
    omni__call *call = c_alloc(c, sizeof(*call));
    if (!call)
        return NULL;
    line_col(c->src, pos, &call->line, &call->col);
    omni__expr name;
    if (parse_operand(p, &name, 0))
        return NULL;
    if (name_out)
        *name_out = name;
    if (name.kind == OMNI__EX_LIT) {
        if (literal_to_path(c, &name.lit, &call->name))
            return NULL;
    } else {
        call->name = name.path;
    }
    if (parse_args(p, call))
        return NULL;
    resolve_helper(c, call);
    return call;
}

static omni__call *parse_sexpr(parser *p)
{
    cctx *c = p->c;
    token open, close;
    if (next_tok(&p->lx, &open))
        return NULL;
    if (++c->sexpr_nesting > OMNI_TEMPLATE_MAX_NESTING) {
        fail_deep(c, open.pos, "subexpressions nest deeper than the limit");
        return NULL;
    }
    omni__call *call = parse_call(p, open.pos, NULL);
    if (!call)
        return NULL;
    if (expect(p, T_CLOSE_SEXPR, &close, "')'"))
        return NULL;
    c->sexpr_nesting--;
    return call;
}

static omni__node *new_node(cctx *c, int kind, size_t pos)
{
    omni__node *n = c_alloc(c, sizeof(*n));
    if (n) {
        n->kind = (uint8_t)kind;
        line_col(c->src, pos, &n->line, &n->col);
    }
    return n;
}

static omni__node *parse_mustache(parser *p)
{
    token open, close;
    if (next_tok(&p->lx, &open))
        return NULL;
    omni__node *n = new_node(p->c, OMNI__N_MUSTACHE, open.pos);
    if (!n)
        return NULL;
    n->call = parse_call(p, open.pos, NULL);
    if (!n->call)
        return NULL;
    int unescaped = open.type == T_OPEN_UNESCAPED;
    if (expect(p, unescaped ? T_CLOSE_UNESCAPED : T_CLOSE, &close, unescaped ? "'}}}'" : "'}}'"))
        return NULL;
    char flag = open.tlen > 3 ? open.text[3] : open.tlen > 2 ? open.text[2] : 0;
    n->escaped = flag != '{' && flag != '&';
    n->s_open = open.strip_open;
    n->s_close = close.strip_close;
    return n;
}

static omni__prog *parse_program(parser *p, const char *const *bparams, uint16_t nbp);

static int parse_block_params(parser *p, const char *const **out, uint16_t *nout)
{
    cctx *c = p->c;
    *out = NULL;
    *nout = 0;
    token *t = peek(&p->lx, 0);
    if (!t)
        return c->status;
    if (t->type != T_OPEN_BLOCK_PARAMS)
        return 0;
    token open;
    next_tok(&p->lx, &open);
    const char *names[OMNI__MAX_PARAMS];
    size_t n = 0;
    for (;;) {
        t = peek(&p->lx, 0);
        if (!t)
            return c->status;
        if (t->type == T_CLOSE_BLOCK_PARAMS && n > 0)
            break;
        token id;
        if (expect(p, T_ID, &id, "a block parameter name"))
            return c->status;
        if (n == OMNI__MAX_PARAMS)
            return fail_at(c, id.pos, "a block has at most %d parameters", OMNI__MAX_PARAMS);
        names[n] = c_strdup(c, id.text, id.tlen);
        if (!names[n++])
            return c->status;
    }
    token close;
    next_tok(&p->lx, &close);
    const char **arr = c_alloc(c, n * sizeof(*arr));
    if (!arr)
        return c->status;
    memcpy(arr, names, n * sizeof(*arr));
    *out = arr;
    *nout = (uint16_t)n;
    return 0;
}

/* The opening tag of a block, as prepareBlock needs it. */
typedef struct open_tag {
    omni__call *call;
    omni__expr name; /* as written, for validateClose */
    const char *const *bparams;
    uint16_t nbp;
    uint8_t s_open, s_close;
    size_t pos;
} open_tag;

/* inverseAndProgram / inverseChain. */
typedef struct iap {
    int present, chain;
    omni__prog *prog;
    uint8_t s_open, s_close;
} iap;

static int parse_open_tag(parser *p, open_tag *o)
{
    cctx *c = p->c;
    token open, close;
    memset(o, 0, sizeof(*o));
    if (next_tok(&p->lx, &open))
        return c->status;
    o->pos = open.pos;
    o->s_open = open.strip_open;
    o->call = parse_call(p, open.pos, &o->name);
    if (!o->call)
        return c->status;
    if (parse_block_params(p, &o->bparams, &o->nbp))
        return c->status;
    if (expect(p, T_CLOSE, &close, "'}}'"))
        return c->status;
    o->s_close = close.strip_close;
    return 0;
}

/* validateClose: the originals compare with === (paths and strings are
 * strings; other literals keep their type). */
static int same_name(const omni__expr *a, const omni__expr *b)
{
    int sa = a->kind == OMNI__EX_PATH || a->lit.type == OMNI_VALUE_STRING;
    int sb = b->kind == OMNI__EX_PATH || b->lit.type == OMNI_VALUE_STRING;
    if (sa != sb)
        return 0;
    if (!sa)
        return omni__js_strict_eq(&a->lit, &b->lit);
    const char *x = a->kind == OMNI__EX_PATH ? a->path.original : a->lit.u.str;
    const char *y = b->kind == OMNI__EX_PATH ? b->path.original : b->lit.u.str;
    size_t xn = a->kind == OMNI__EX_PATH ? a->path.olen : a->lit.n;
    size_t yn = b->kind == OMNI__EX_PATH ? b->path.olen : b->lit.n;
    return xn == yn && memcmp(x, y, xn) == 0;
}

static const char *name_text(const omni__expr *e, char *buf, size_t cap)
{
    if (e->kind == OMNI__EX_PATH)
        return e->path.original;
    omni_buf b = OMNI_BUF_INIT;
    omni__js_string(&b, &e->lit);
    snprintf(buf, cap, "%.*s", (int)(b.len > cap ? cap : b.len), b.data ? b.data : "");
    omni__buf_free(&b);
    return buf;
}

/* handlebars' prepareBlock. `close_strip` is the closing tag's strip (or
 * the next chain's), has_close whether there is one. */
static omni__node *prepare_block(parser *p, const open_tag *o, omni__prog *program, iap *inv,
                                 int has_close, uint8_t cs_open, uint8_t cs_close, int inverted)
{
    omni__node *n = new_node(p->c, OMNI__N_BLOCK, o->pos);
    if (!n)
        return NULL;
    n->call = o->call;
    omni__prog *inverse = NULL;
    if (inv && inv->present) {
        if (inv->chain) {
            omni__node *first = inv->prog->body[0];
            first->cs_open = cs_open;
            first->cs_close = cs_close;
        }
        n->is_open = inv->s_open;
        n->is_close = inv->s_close;
        n->has_inverse_strip = 1;
        inverse = inv->prog;
    }
    if (inverted) {
        omni__prog *tmp = inverse;
        inverse = program;
        program = tmp;
    }
    n->prog = program;
    n->inverse = inverse;
    n->os_open = o->s_open;
    n->os_close = o->s_close;
    if (has_close) {
        n->cs_open = cs_open;
        n->cs_close = cs_close;
    }
    return n;
}

static int parse_inverse_chain(parser *p, iap *out);

static int enter_block(cctx *c, size_t pos)
{
    if (++c->nesting > OMNI_TEMPLATE_MAX_NESTING)
        return fail_deep(c, pos, "blocks nest deeper than the limit");
    return 0;
}

static omni__node *parse_block(parser *p, int inverted)
{
    cctx *c = p->c;
    token *pk = peek(&p->lx, 0);
    if (!pk || enter_block(c, pk->pos))
        return NULL;
    open_tag o;
    if (parse_open_tag(p, &o))
        return NULL;
    omni__prog *body = parse_program(p, o.bparams, o.nbp);
    if (!body)
        return NULL;
    iap inv = {0, 0, NULL, 0, 0};
    pk = peek(&p->lx, 0);
    if (!pk)
        return NULL;
    if (pk->type == T_INVERSE || (!inverted && pk->type == T_OPEN_INVERSE_CHAIN)) {
        if (parse_inverse_chain(p, &inv))
            return NULL;
    }
    token ob, cl;
    if (expect(p, T_OPEN_ENDBLOCK, &ob, "the closing tag of the block"))
        return NULL;
    omni__expr cname;
    if (parse_operand(p, &cname, 0))
        return NULL;
    if (expect(p, T_CLOSE, &cl, "'}}'"))
        return NULL;
    if (!same_name(&o.name, &cname)) {
        char b1[80], b2[80];
        fail_at(c, o.pos, "%s doesn't match %s", name_text(&o.name, b1, sizeof(b1)),
                name_text(&cname, b2, sizeof(b2)));
        return NULL;
    }
    c->nesting--;
    return prepare_block(p, &o, body, &inv, 1, ob.strip_open, cl.strip_close, inverted);
}

static int parse_inverse_chain(parser *p, iap *out)
{
    cctx *c = p->c;
    token t;
    memset(out, 0, sizeof(*out));
    token *pk = peek(&p->lx, 0);
    if (!pk)
        return c->status;
    if (pk->type == T_INVERSE) {
        next_tok(&p->lx, &t);
        out->present = 1;
        out->s_open = t.strip_open;
        out->s_close = t.strip_close;
        out->prog = parse_program(p, NULL, 0);
        return c->status;
    }
    /* {{else name ...}}: a chained program holding one block */
    if (enter_block(c, pk->pos))
        return c->status;
    omni__prog *chained = c_alloc(c, sizeof(*chained));
    if (!chained)
        return c->status;
    chained->chained = 1;
    if (c->nlevels >= MAX_LEVELS)
        return fail_deep(c, pk->pos, "blocks nest deeper than the limit");
    c->levels[c->nlevels++] = chained;
    open_tag o;
    if (parse_open_tag(p, &o))
        return c->status;
    omni__prog *body = parse_program(p, o.bparams, o.nbp);
    if (!body)
        return c->status;
    iap inner = {0, 0, NULL, 0, 0};
    pk = peek(&p->lx, 0);
    if (!pk)
        return c->status;
    if (pk->type == T_INVERSE || pk->type == T_OPEN_INVERSE_CHAIN) {
        if (parse_inverse_chain(p, &inner))
            return c->status;
    }
    omni__node *blk = prepare_block(p, &o, body, &inner, inner.present, inner.s_open,
                                    inner.s_close, 0);
    c->nlevels--;
    if (!blk)
        return c->status;
    omni__node **bd = c_alloc(c, sizeof(*bd));
    if (!bd)
        return c->status;
    bd[0] = blk;
    chained->body = bd;
    chained->n = 1;
    c->nesting--;
    out->present = 1;
    out->chain = 1;
    out->prog = chained;
    out->s_open = o.s_open;
    out->s_close = o.s_close;
    return 0;
}

static omni__node *parse_partial(parser *p)
{
    cctx *c = p->c;
    token open, close;
    if (next_tok(&p->lx, &open))
        return NULL;
    omni__node *n = new_node(c, OMNI__N_PARTIAL, open.pos);
    omni__partial_ref *pr = c_alloc(c, sizeof(*pr));
    if (!n || !pr)
        return NULL;
    n->partial = pr;
    pr->index = -1;
    pr->indent = "";
    omni__expr name;
    if (parse_operand(p, &name, 1))
        return NULL;
    if (name.kind == OMNI__EX_SUB) {
        pr->dynamic = name.sub;
    } else if (name.kind == OMNI__EX_PATH) {
        pr->name = name.path.original;
        pr->nlen = name.path.olen;
    } else {
        omni_buf b = OMNI_BUF_INIT;
        omni__js_string(&b, &name.lit);
        pr->name = c_strdup(c, b.data ? b.data : "", b.len);
        pr->nlen = (uint32_t)b.len;
        omni__buf_free(&b);
        if (!pr->name)
            return NULL;
    }
    omni__call args;
    memset(&args, 0, sizeof(args));
    if (parse_args(p, &args))
        return NULL;
    if (expect(p, T_CLOSE, &close, "'}}'"))
        return NULL;
    if (args.nparams > 1) {
        fail_at(c, open.pos, "unsupported number of partial arguments: %u", args.nparams);
        return NULL;
    }
    if (args.nparams == 1) {
        pr->has_context = 1;
        pr->context = args.params[0];
    }
    pr->hash = args.hash;
    pr->nhash = args.nhash;
    n->s_open = open.strip_open;
    n->s_close = close.strip_close;
    return n;
}

static omni__node *parse_statement(parser *p)
{
    cctx *c = p->c;
    token *t = peek(&p->lx, 0);
    if (!t)
        return NULL;
    switch (t->type) {
    case T_CONTENT: {
        token ct;
        next_tok(&p->lx, &ct);
        omni__node *n = new_node(c, OMNI__N_CONTENT, ct.pos);
        if (!n)
            return NULL;
        n->orig = c_strdup(c, ct.text, ct.tlen);
        n->olen = (uint32_t)ct.tlen;
        n->vstart = 0;
        n->vend = (uint32_t)ct.tlen;
        return n->orig ? n : NULL;
    }
    case T_COMMENT: {
        token ct;
        next_tok(&p->lx, &ct);
        omni__node *n = new_node(c, OMNI__N_COMMENT, ct.pos);
        if (!n)
            return NULL;
        n->s_open = ct.tlen > 2 && ct.text[2] == '~';
        n->s_close = ct.tlen >= 3 && ct.text[ct.tlen - 3] == '~';
        return n;
    }
    case T_OPEN:
    case T_OPEN_UNESCAPED: return parse_mustache(p);
    case T_OPEN_BLOCK: return parse_block(p, 0);
    case T_OPEN_INVERSE: return parse_block(p, 1);
    case T_OPEN_PARTIAL: return parse_partial(p);
    default: unexpected(p, t, "text or a tag"); return NULL;
    }
}

static omni__prog *parse_program(parser *p, const char *const *bparams, uint16_t nbp)
{
    cctx *c = p->c;
    if (c->nlevels >= MAX_LEVELS) {
        fail_deep(c, p->lx.pos, "blocks nest deeper than the limit");
        return NULL;
    }
    omni__prog *prog = c_alloc(c, sizeof(*prog));
    if (!prog)
        return NULL;
    prog->bparams = bparams;
    prog->nbparams = nbp;
    c->levels[c->nlevels++] = prog;
    pvec body = {NULL, 0, 0};
    for (;;) {
        token *t = peek(&p->lx, 0);
        if (!t)
            break;
        if (t->type == T_EOF || t->type == T_OPEN_ENDBLOCK || t->type == T_INVERSE ||
            t->type == T_OPEN_INVERSE_CHAIN)
            break;
        omni__node *n = parse_statement(p);
        if (!n || pvec_push(c, &body, n))
            break;
    }
    c->nlevels--;
    if (!c->status && body.n) {
        prog->body = c_alloc(c, body.n * sizeof(omni__node *));
        if (prog->body) {
            memcpy(prog->body, body.items, body.n * sizeof(omni__node *));
            prog->n = (uint32_t)body.n;
        }
    }
    free(body.items);
    return c->status ? NULL : prog;
}

/* ---- whitespace control (handlebars' WhitespaceControl visitor) -------------- */

typedef struct wstrip {
    int present;
    int open, close;
    int open_sa, close_sa, inline_sa;
} wstrip;

static size_t cp_len(const char *s, size_t i, size_t n)
{
    unsigned char ch = (unsigned char)s[i];
    size_t k = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
    return i + k > n ? n - i : k;
}

/* /\r?\n\s*?$/ on s (or_all: /(^|\r?\n)\s*?$/). */
static int ws_tail_has_nl(const char *s, size_t n, int or_all)
{
    int nl = 0, nonws = 0;
    for (size_t i = 0; i < n;) {
        size_t k = omni__js_space(s + i, n - i);
        if (k) {
            if (s[i] == '\n')
                nl = 1;
            i += k;
        } else {
            nl = 0;
            nonws = 1;
            i += cp_len(s, i, n);
        }
    }
    return nl || (or_all && !nonws);
}

/* /^\s*?\r?\n/ on s (or_all: /^\s*?(\r?\n|$)/). */
static int ws_head_has_nl(const char *s, size_t n, int or_all)
{
    for (size_t i = 0; i < n;) {
        size_t k = omni__js_space(s + i, n - i);
        if (!k)
            return 0;
        if (s[i] == '\n')
            return 1;
        i += k;
    }
    return or_all;
}

static int is_content(const omni__node *n)
{
    return n && n->kind == OMNI__N_CONTENT;
}

static int is_prev_ws(const omni__prog *prog, long i, int is_root)
{
    const omni__node *prev = i - 1 >= 0 && i - 1 < (long)prog->n ? prog->body[i - 1] : NULL;
    const omni__node *sib = i - 2 >= 0 && i - 2 < (long)prog->n ? prog->body[i - 2] : NULL;
    if (!prev)
        return is_root;
    if (is_content(prev))
        return ws_tail_has_nl(prev->orig, prev->olen, !(sib || !is_root));
    return 0;
}

static int is_next_ws(const omni__prog *prog, long i, int is_root)
{
    const omni__node *next = i + 1 >= 0 && i + 1 < (long)prog->n ? prog->body[i + 1] : NULL;
    const omni__node *sib = i + 2 >= 0 && i + 2 < (long)prog->n ? prog->body[i + 2] : NULL;
    if (!next)
        return is_root;
    if (is_content(next))
        return ws_head_has_nl(next->orig, next->olen, !(sib || !is_root));
    return 0;
}

/* omitRight: i < 0 means "the first node" (handlebars' i == null). */
static void omit_right(omni__prog *prog, long i, int multiple)
{
    long idx = i < 0 ? 0 : i + 1;
    if (!prog || idx >= (long)prog->n)
        return;
    omni__node *cur = prog->body[idx];
    if (!is_content(cur) || (!multiple && cur->rstripped))
        return;
    uint32_t old = cur->vstart, v = cur->vstart;
    const char *s = cur->orig;
    if (multiple) {
        size_t k;
        while (v < cur->vend && (k = omni__js_space(s + v, cur->vend - v)) > 0)
            v += (uint32_t)k;
    } else {
        while (v < cur->vend && (s[v] == ' ' || s[v] == '\t'))
            v++;
        if (v < cur->vend && s[v] == '\r')
            v++;
        if (v < cur->vend && s[v] == '\n')
            v++;
    }
    cur->vstart = v;
    cur->rstripped = v != old;
}

/* omitLeft: i < 0 means "the last node". Returns leftStripped. */
static int omit_left(omni__prog *prog, long i, int multiple)
{
    if (!prog)
        return 0;
    long idx = i < 0 ? (long)prog->n - 1 : i - 1;
    if (idx < 0 || idx >= (long)prog->n)
        return 0;
    omni__node *cur = prog->body[idx];
    if (!is_content(cur) || (!multiple && cur->lstripped))
        return 0;
    uint32_t old = cur->vend, e = cur->vend;
    const char *s = cur->orig;
    if (multiple) {
        /* the start of the trailing whitespace run of the value */
        uint32_t run = cur->vstart;
        for (uint32_t q = cur->vstart; q < cur->vend;) {
            size_t k = omni__js_space(s + q, cur->vend - q);
            if (k) {
                q += (uint32_t)k;
            } else {
                q += (uint32_t)cp_len(s, q, cur->vend);
                run = q;
            }
        }
        e = run;
    } else {
        while (e > cur->vstart && (s[e - 1] == ' ' || s[e - 1] == '\t'))
            e--;
    }
    cur->vend = e;
    cur->lstripped = e != old;
    return cur->lstripped;
}

static void wc_program(cctx *c, omni__prog *prog, int *root_seen);

static wstrip wc_block(cctx *c, omni__node *b, int *root_seen)
{
    wstrip st = {1, 0, 0, 0, 0, 0};
    if (b->prog)
        wc_program(c, b->prog, root_seen);
    if (b->inverse)
        wc_program(c, b->inverse, root_seen);
    omni__prog *program = b->prog ? b->prog : b->inverse;
    omni__prog *inverse = b->prog ? b->inverse : NULL;
    omni__prog *first_inv = inverse, *last_inv = inverse;
    if (inverse && inverse->chained) {
        first_inv = inverse->body[0]->prog;
        while (last_inv && last_inv->chained)
            last_inv = last_inv->body[last_inv->n - 1]->prog;
    }
    st.open = b->os_open;
    st.close = b->cs_close;
    st.open_sa = is_next_ws(program, -1, 0);
    st.close_sa = is_prev_ws(first_inv ? first_inv : program,
                             (long)(first_inv ? first_inv : program)->n, 0);
    if (b->os_close)
        omit_right(program, -1, 1);
    if (inverse) {
        if (b->is_open)
            omit_left(program, -1, 1);
        if (b->is_close)
            omit_right(first_inv, -1, 1);
        if (b->cs_open)
            omit_left(last_inv, -1, 1);
        if (is_prev_ws(program, (long)program->n, 0) && is_next_ws(first_inv, -1, 0)) {
            omit_left(program, -1, 0);
            omit_right(first_inv, -1, 0);
        }
    } else if (b->cs_open) {
        omit_left(program, -1, 1);
    }
    return st;
}

static void wc_program(cctx *c, omni__prog *prog, int *root_seen)
{
    int is_root = !*root_seen;
    *root_seen = 1;
    for (long i = 0; i < (long)prog->n; i++) {
        omni__node *cur = prog->body[i];
        wstrip st = {0, 0, 0, 0, 0, 0};
        switch (cur->kind) {
        case OMNI__N_MUSTACHE:
            st.present = 1;
            st.open = cur->s_open;
            st.close = cur->s_close;
            break;
        case OMNI__N_PARTIAL:
        case OMNI__N_COMMENT:
            st.present = 1;
            st.inline_sa = 1;
            st.open = cur->s_open;
            st.close = cur->s_close;
            break;
        case OMNI__N_BLOCK: st = wc_block(c, cur, root_seen); break;
        default: break;
        }
        if (!st.present)
            continue;
        int prev_ws = is_prev_ws(prog, i, is_root), next_ws = is_next_ws(prog, i, is_root);
        int open_sa = st.open_sa && prev_ws, close_sa = st.close_sa && next_ws;
        int inline_sa = st.inline_sa && prev_ws && next_ws;
        if (st.close)
            omit_right(prog, i, 1);
        if (st.open)
            omit_left(prog, i, 1);
        if (inline_sa) {
            omit_right(prog, i, 0);
            if (omit_left(prog, i, 0) && cur->kind == OMNI__N_PARTIAL) {
                const omni__node *pv = prog->body[i - 1];
                size_t e = pv->olen, s = e;
                while (s > 0 && (pv->orig[s - 1] == ' ' || pv->orig[s - 1] == '\t'))
                    s--;
                cur->partial->indent = c_strdup(c, pv->orig + s, e - s);
                cur->partial->indent_len = (uint32_t)(e - s);
                if (!cur->partial->indent)
                    cur->partial->indent = "";
            }
        }
        if (open_sa) {
            omit_right(cur->prog ? cur->prog : cur->inverse, -1, 0);
            omit_left(prog, i, 0);
        }
        if (close_sa) {
            omit_right(prog, i, 0);
            omit_left(cur->inverse ? cur->inverse : cur->prog, -1, 0);
        }
    }
}

/* ---- finalization: drop comments and empty text --------------------------- */

/* Drops comments and empty text; estimates the output size (text and tags
 * inside a block count eight times: blocks often loop). */
static void finalize_prog(omni__prog *prog, size_t *text_bytes, size_t *tags, unsigned weight);

static void finalize_node(omni__node *n, size_t *text_bytes, size_t *tags, unsigned weight)
{
    if (n->kind == OMNI__N_BLOCK) {
        unsigned w = weight < 4096 ? weight * 8 : weight;
        if (n->prog)
            finalize_prog(n->prog, text_bytes, tags, w);
        if (n->inverse)
            finalize_prog(n->inverse, text_bytes, tags, w);
    }
}

static void finalize_prog(omni__prog *prog, size_t *text_bytes, size_t *tags, unsigned weight)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < prog->n; i++) {
        omni__node *n = prog->body[i];
        if (n->kind == OMNI__N_COMMENT)
            continue;
        if (n->kind == OMNI__N_CONTENT) {
            if (n->vend <= n->vstart)
                continue;
            n->orig += n->vstart;
            n->olen = n->vend - n->vstart;
            n->vstart = 0;
            n->vend = n->olen;
            *text_bytes += (size_t)n->olen * weight;
        } else {
            *tags += weight;
        }
        finalize_node(n, text_bytes, tags, weight);
        prog->body[k++] = n;
    }
    prog->n = k;
}

/* ---- mustache parser ---------------------------------------------------------- */

typedef struct mframe {
    pvec body;
    omni__node *section; /* NULL for the root */
    const char *name;
    size_t nlen;
    size_t pos; /* the opening tag */
} mframe;

static int m_path(cctx *c, omni__call *call, const char *name, size_t n, size_t pos)
{
    memset(&call->name, 0, sizeof(call->name));
    call->name.bp_level = -1;
    call->name.bp_index = -1;
    line_col(c->src, pos, &call->line, &call->col);
    if (n == 0)
        return fail_at(c, pos, "empty tag name");
    call->name.original = c_strdup(c, name, n);
    call->name.olen = (uint32_t)n;
    if (!call->name.original)
        return c->status;
    if (n == 1 && name[0] == '.') {
        call->name.plain = 1;
        return 0; /* the implicit iterator */
    }
    size_t nseg = 1;
    for (size_t i = 0; i < n; i++)
        if (name[i] == '.')
            nseg++;
    if (nseg > 64)
        return fail_at(c, pos, "a name has at most 64 parts");
    omni__seg *segs = c_alloc(c, nseg * sizeof(*segs));
    if (!segs)
        return c->status;
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            if (i == start)
                return fail_at(c, pos, "invalid name: %.*s", (int)(n > 80 ? 80 : n), name);
            if (make_seg(c, &segs[k++], name + start, i - start))
                return c->status;
            start = i + 1;
        }
    }
    call->name.segs = segs;
    call->name.nseg = (uint16_t)nseg;
    call->name.simple = nseg == 1;
    call->name.plain = 1;
    return 0;
}

static int is_hspace(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int m_text(cctx *c, mframe *f, size_t a, size_t b)
{
    if (b <= a)
        return 0;
    omni__node *n = new_node(c, OMNI__N_CONTENT, a);
    if (!n)
        return c->status;
    n->orig = c_strdup(c, c->src + a, b - a);
    if (!n->orig)
        return c->status;
    n->olen = (uint32_t)(b - a);
    n->vend = n->olen;
    n->bol = a == 0 || c->src[a - 1] == '\n';
    return pvec_push(c, &f->body, n);
}

static omni__prog *m_close_frame(cctx *c, mframe *f)
{
    omni__prog *prog = c_alloc(c, sizeof(*prog));
    if (prog && f->body.n) {
        prog->body = c_alloc(c, f->body.n * sizeof(omni__node *));
        if (prog->body) {
            memcpy(prog->body, f->body.items, f->body.n * sizeof(omni__node *));
            prog->n = (uint32_t)f->body.n;
        }
    }
    free(f->body.items);
    f->body.items = NULL;
    f->body.n = f->body.cap = 0;
    return c->status ? NULL : prog;
}

static omni__prog *parse_mustache_spec(cctx *c)
{
    const char *s = c->src;
    size_t n = c->len;
    char otag[16] = "{{", ctag[16] = "}}";
    size_t olen = 2, clen = 2;
    mframe stack[OMNI_TEMPLATE_MAX_NESTING + 1];
    int top = 0;
    memset(&stack[0], 0, sizeof(stack[0]));
    size_t pos = 0, last_tag_end = 0;
    while (!c->status) {
        /* the next opening delimiter */
        size_t o = pos;
        while (o + olen <= n && memcmp(s + o, otag, olen) != 0)
            o++;
        if (o + olen > n) {
            m_text(c, &stack[top], pos, n);
            break;
        }
        size_t after = o + olen;
        char type = after < n && strchr("#^/!>={&", s[after]) && s[after] ? s[after] : 'v';
        size_t cs = type == 'v' ? after : after + 1;
        /* the closing delimiter ("}" + ctag for {, "=" + ctag for =) */
        char close[20];
        size_t cl = 0;
        if (type == '{' || type == '=')
            close[cl++] = type == '{' ? '}' : '=';
        memcpy(close + cl, ctag, clen);
        cl += clen;
        size_t ce = cs;
        while (ce + cl <= n && memcmp(s + ce, close, cl) != 0)
            ce++;
        if (ce + cl > n) {
            fail_at(c, o, "unclosed tag");
            break;
        }
        size_t tag_end = ce + cl;
        size_t a = cs, b = ce;
        while (a < b && (is_hspace(s[a]) || s[a] == '\n' || s[a] == '\r'))
            a++;
        while (b > a && (is_hspace(s[b - 1]) || s[b - 1] == '\n' || s[b - 1] == '\r'))
            b--;
        /* standalone: alone on its line with only spaces and tabs around */
        int standalone = 0;
        size_t ls = o, after_line = tag_end;
        if (strchr("#^/!>=", type)) {
            while (ls > 0 && s[ls - 1] != '\n')
                ls--;
            int ok = ls >= last_tag_end;
            for (size_t i = ls; ok && i < o; i++)
                ok = is_hspace(s[i]);
            size_t r = tag_end;
            while (ok && r < n && is_hspace(s[r]))
                r++;
            if (ok) {
                if (r == n) {
                    after_line = n;
                    standalone = 1;
                } else if (s[r] == '\n') {
                    after_line = r + 1;
                    standalone = 1;
                } else if (s[r] == '\r' && r + 1 < n && s[r + 1] == '\n') {
                    after_line = r + 2;
                    standalone = 1;
                }
            }
        }
        if (m_text(c, &stack[top], pos, standalone ? ls : o))
            break;
        last_tag_end = tag_end;
        pos = standalone ? after_line : tag_end;
        mframe *f = &stack[top];
        switch (type) {
        case '!': break;
        case '=': {
            /* {{=<% %>=}}: two delimiters separated by whitespace */
            size_t i = a;
            while (i < b && !is_hspace(s[i]))
                i++;
            size_t j = i;
            while (j < b && is_hspace(s[j]))
                j++;
            size_t no = i - a, nc = b - j;
            int bad = no == 0 || nc == 0 || j == i || no >= sizeof(otag) || nc >= sizeof(ctag);
            for (size_t k = j; !bad && k < b; k++)
                bad = is_hspace(s[k]);
            for (size_t k = a; !bad && k < i; k++)
                bad = s[k] == '=';
            for (size_t k = j; !bad && k < b; k++)
                bad = s[k] == '=';
            if (bad) {
                fail_at(c, o, "invalid set-delimiter tag");
                break;
            }
            memcpy(otag, s + a, no);
            otag[no] = '\0';
            olen = no;
            memcpy(ctag, s + j, nc);
            ctag[nc] = '\0';
            clen = nc;
            break;
        }
        case '#':
        case '^': {
            if (top >= OMNI_TEMPLATE_MAX_NESTING) {
                fail_deep(c, o, "sections nest deeper than the limit");
                break;
            }
            omni__node *nd = new_node(c, OMNI__N_BLOCK, o);
            omni__call *call = c_alloc(c, sizeof(*call));
            if (!nd || !call || m_path(c, call, s + a, b - a, o))
                break;
            nd->call = call;
            nd->inverted = type == '^';
            nd->bol = o == 0 || s[o - 1] == '\n';
            nd->standalone = (uint8_t)standalone;
            if (pvec_push(c, &f->body, nd))
                break;
            top++;
            memset(&stack[top], 0, sizeof(stack[top]));
            stack[top].section = nd;
            stack[top].name = s + a;
            stack[top].nlen = b - a;
            stack[top].pos = o;
            break;
        }
        case '/': {
            if (top == 0) {
                fail_at(c, o, "closing tag %.*s without an open section",
                        (int)(b - a > 80 ? 80 : b - a), s + a);
                break;
            }
            if (f->nlen != b - a || memcmp(f->name, s + a, b - a) != 0) {
                fail_at(c, o, "%.*s doesn't match %.*s", (int)(f->nlen > 80 ? 80 : f->nlen),
                        f->name, (int)(b - a > 80 ? 80 : b - a), s + a);
                break;
            }
            omni__prog *body = m_close_frame(c, f);
            if (!body)
                break;
            if (f->section->inverted)
                f->section->inverse = body;
            else
                f->section->prog = body;
            top--;
            break;
        }
        case '>': {
            omni__node *nd = new_node(c, OMNI__N_PARTIAL, o);
            omni__partial_ref *pr = c_alloc(c, sizeof(*pr));
            if (!nd || !pr)
                break;
            nd->partial = pr;
            pr->index = -1;
            pr->name = c_strdup(c, s + a, b - a);
            pr->nlen = (uint32_t)(b - a);
            pr->indent = standalone ? c_strdup(c, s + ls, o - ls) : "";
            pr->indent_len = standalone ? (uint32_t)(o - ls) : 0;
            if (!pr->name || !pr->indent)
                break;
            nd->standalone = (uint8_t)standalone;
            nd->bol = o == 0 || s[o - 1] == '\n';
            pvec_push(c, &f->body, nd);
            break;
        }
        default: {
            omni__node *nd = new_node(c, OMNI__N_MUSTACHE, o);
            omni__call *call = c_alloc(c, sizeof(*call));
            if (!nd || !call || m_path(c, call, s + a, b - a, o))
                break;
            nd->call = call;
            nd->escaped = type == 'v';
            nd->bol = o == 0 || s[o - 1] == '\n';
            pvec_push(c, &f->body, nd);
        }
        }
    }
    if (!c->status && top > 0)
        fail_at(c, stack[top].pos, "unclosed section %.*s",
                (int)(stack[top].nlen > 80 ? 80 : stack[top].nlen), stack[top].name);
    omni__prog *root = NULL;
    if (!c->status)
        root = m_close_frame(c, &stack[0]);
    for (int i = 0; i <= top; i++)
        free(stack[i].body.items);
    return c->status ? NULL : root;
}

/* ---- compiling one source --------------------------------------------------- */

static const omni__prog *compile_source(omni_template *t, const omni_helpers *helpers,
                                        const char *src, size_t len, const char *partial,
                                        int *rc)
{
    cctx c;
    memset(&c, 0, sizeof(c));
    c.t = t;
    c.a = &t->arena;
    c.src = src ? src : "";
    c.len = len;
    c.partial = partial;
    c.helpers = helpers;
    size_t bad;
    if (!omni__utf8_valid(c.src, len, &bad)) {
        fail_at(&c, bad, "invalid UTF-8");
        *rc = report(&c);
        return NULL;
    }
    omni__prog *root = NULL;
    if (t->mode == OMNI__MODE_MUSTACHE) {
        root = parse_mustache_spec(&c);
    } else {
        parser p;
        memset(&p, 0, sizeof(p));
        p.c = &c;
        p.lx.c = &c;
        p.lx.s = c.src;
        p.lx.n = len;
        p.lx.state = L_INITIAL;
        root = parse_program(&p, NULL, 0);
        if (root) {
            token end;
            if (!expect(&p, T_EOF, &end, "the end of the template")) {
                int seen = 0;
                wc_program(&c, root, &seen);
            }
        }
    }
    if (c.status) {
        *rc = report(&c);
        return NULL;
    }
    size_t text = 0, tags = 0;
    finalize_prog(root, &text, &tags, 1);
    size_t hint = text + 16 * tags + 32;
    if (!partial)
        t->size_hint = hint > 65536 ? 65536 : hint;
    else
        t->partial_hint += hint;
    *rc = 0;
    return root;
}

/* ---- inspect: variables, helpers, partials ------------------------------------ */

static int add_var(omni_template *t, const omni__path *p)
{
    if (p->bp_level >= 0 || p->nseg == 0)
        return 0;
    if (p->data && !(p->segs[0].len == 4 && memcmp(p->segs[0].name, "root", 4) == 0 &&
                     p->nseg > 1))
        return 0;
    return omni__strlist_add(&t->vars, p->original, p->olen);
}

static int walk_call(omni_template *t, const omni__call *c, int as_value);

static int walk_expr(omni_template *t, const omni__expr *e)
{
    if (e->kind == OMNI__EX_PATH)
        return add_var(t, &e->path);
    if (e->kind == OMNI__EX_SUB)
        return walk_call(t, e->sub, 0);
    return 0;
}

/* as_value: a mustache or block without arguments, where an unknown name is
 * a lookup rather than a helper call. */
static int walk_call(omni_template *t, const omni__call *c, int as_value)
{
    int rc = 0;
    if (c->helper || !as_value || c->nparams || c->has_hash) {
        if (t->mode == OMNI__MODE_HANDLEBARS)
            rc = omni__strlist_add(&t->helpers_used, c->name.original, c->name.olen);
    } else {
        rc = add_var(t, &c->name);
    }
    for (uint16_t i = 0; !rc && i < c->nparams; i++)
        rc = walk_expr(t, &c->params[i]);
    for (uint16_t i = 0; !rc && i < c->nhash; i++)
        rc = walk_expr(t, &c->hash[i].value);
    return rc;
}

static int walk_prog(omni_template *t, const omni__prog *p)
{
    int rc = 0;
    for (uint32_t i = 0; p && !rc && i < p->n; i++) {
        const omni__node *n = p->body[i];
        switch (n->kind) {
        case OMNI__N_MUSTACHE: rc = walk_call(t, n->call, 1); break;
        case OMNI__N_BLOCK:
            rc = walk_call(t, n->call, 1);
            if (!rc)
                rc = walk_prog(t, n->prog);
            if (!rc)
                rc = walk_prog(t, n->inverse);
            break;
        case OMNI__N_PARTIAL: {
            const omni__partial_ref *pr = n->partial;
            if (pr->name)
                rc = omni__strlist_add(&t->partials_used, pr->name, pr->nlen);
            else
                rc = walk_call(t, pr->dynamic, 0);
            if (!rc && pr->has_context)
                rc = walk_expr(t, &pr->context);
            for (uint16_t k = 0; !rc && k < pr->nhash; k++)
                rc = walk_expr(t, &pr->hash[k].value);
            break;
        }
        default: break;
        }
    }
    return rc;
}

/* Links static partial references to the compiled partials. */
static void link_partials(omni_template *t, omni__prog *p)
{
    for (uint32_t i = 0; p && i < p->n; i++) {
        omni__node *n = p->body[i];
        if (n->kind == OMNI__N_BLOCK) {
            link_partials(t, n->prog);
            link_partials(t, n->inverse);
        } else if (n->kind == OMNI__N_PARTIAL && n->partial->name) {
            omni__partial_ref *pr = n->partial;
            for (size_t k = 0; k < t->npartials; k++) {
                if (t->partials[k].nlen == pr->nlen &&
                    memcmp(t->partials[k].name, pr->name, pr->nlen) == 0) {
                    pr->index = (int32_t)k;
                    break;
                }
            }
        }
    }
}

/* ---- options ------------------------------------------------------------------ */

static int valid_locale_or_tz(const char *s, size_t max, int tz)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || (tz && (ch == '/' || ch == '+'))))
            return 0;
    }
    return !(tz && (strstr(s, "..") || s[0] == '/'));
}

static int parse_options(omni_template *t, const char *json, size_t len, cJSON **out)
{
    *out = NULL;
    t->mode = OMNI__MODE_HANDLEBARS;
    t->escape = OMNI__ESC_HTML;
    if (!json || len == 0)
        return OMNI_OK;
    cJSON *root;
    int rc = omni__json_parse(&root, json, len, OMNI_LIMIT_CONFIG_BYTES, "template options");
    if (rc) {
        if (rc != OMNI_EJSON)
            return rc;
        /* the same error, as a configuration error (copied: setting the last
         * error releases the current one) */
        char msg[512], details[128];
        snprintf(msg, sizeof(msg), "%s", omni_error_last()->message);
        snprintf(details, sizeof(details), "%s",
                 omni_error_last()->details ? omni_error_last()->details : "");
        return omni__err_details(OMNI_ECONFIG, details[0] ? details : NULL, "%s", msg);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return omni__err(OMNI_ECONFIG, "template options must be a JSON object");
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        const char *k = it->string;
        if (strcmp(k, "mode") == 0) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, "handlebars") == 0)
                t->mode = OMNI__MODE_HANDLEBARS;
            else if (cJSON_IsString(it) && strcmp(it->valuestring, "mustache") == 0)
                t->mode = OMNI__MODE_MUSTACHE;
            else
                goto bad;
        } else if (strcmp(k, "escape") == 0) {
            if (!cJSON_IsString(it))
                goto bad;
            if (strcmp(it->valuestring, "html") == 0)
                t->escape = OMNI__ESC_HTML;
            else if (strcmp(it->valuestring, "none") == 0)
                t->escape = OMNI__ESC_NONE;
            else if (strcmp(it->valuestring, "json") == 0)
                t->escape = OMNI__ESC_JSON;
            else
                goto bad;
        } else if (strcmp(k, "strict") == 0 || strcmp(k, "includeZero") == 0) {
            if (!cJSON_IsBool(it))
                goto bad;
            if (k[0] == 's')
                t->strict = cJSON_IsTrue(it);
            else
                t->include_zero = cJSON_IsTrue(it);
        } else if (strcmp(k, "locale") == 0) {
            if (!cJSON_IsString(it) || !valid_locale_or_tz(it->valuestring, 35, 0))
                goto bad;
            snprintf(t->locale, sizeof(t->locale), "%s", it->valuestring);
        } else if (strcmp(k, "timeZone") == 0) {
            if (!cJSON_IsString(it) || !valid_locale_or_tz(it->valuestring, 64, 1))
                goto bad;
            snprintf(t->time_zone, sizeof(t->time_zone), "%s", it->valuestring);
        } else if (strcmp(k, "partials") == 0) {
            if (!cJSON_IsObject(it))
                goto bad;
            for (const cJSON *p = it->child; p; p = p->next)
                if (!cJSON_IsString(p)) {
                    rc = omni__err(OMNI_ECONFIG, "partial \"%.64s\" must be a string",
                                   p->string);
                    cJSON_Delete(root);
                    return rc;
                }
        } else {
            char key[72];
            snprintf(key, sizeof(key), "%.64s", k);
            cJSON_Delete(root);
            return omni__err(OMNI_ECONFIG, "unknown template option \"%s\"", key);
        }
        continue;
    bad:;
        char key[72];
        snprintf(key, sizeof(key), "%.64s", k);
        cJSON_Delete(root);
        return omni__err(OMNI_ECONFIG, "template option \"%s\" has an invalid value", key);
    }
    *out = root;
    return OMNI_OK;
}

void omni__compile_options(omni_buf *o, int html, const char *locale)
{
    omni__json_w_obj_begin(o);
    omni__json_w_key(o, "escape");
    omni__json_w_str(o, html ? "html" : "none");
    omni__json_w_key(o, "locale");
    omni__json_w_str(o, locale);
    omni__json_w_obj_end(o);
}

/* ---- public ------------------------------------------------------------------- */

void omni_template_free(omni_template *t)
{
    if (!t)
        return;
    omni__strlist_free(&t->vars);
    omni__strlist_free(&t->helpers_used);
    omni__strlist_free(&t->partials_used);
    omni__arena_free(&t->arena);
    free(t);
}

int omni_template_compile(omni_template **out, const char *source, size_t len,
                          const char *options_json, size_t options_len,
                          const omni_helpers *helpers)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_template_compile: out is NULL");
    *out = NULL;
    if (!source && len)
        return omni__err(OMNI_EINVAL, "omni_template_compile: source is NULL");
    if (!options_json && options_len)
        return omni__err(OMNI_EINVAL, "omni_template_compile: options are NULL");
    if (len > OMNI_TEMPLATE_MAX_SOURCE)
        return omni__err(OMNI_ETOOLARGE, "template is %zu bytes, over the limit of %u", len,
                         OMNI_TEMPLATE_MAX_SOURCE);
    omni_template *t = calloc(1, sizeof(*t));
    if (!t)
        return omni__err(OMNI_ENOMEM, NULL);
    omni__arena_init(&t->arena, NULL, 0);
    cJSON *opts = NULL;
    int rc = parse_options(t, options_json, options_len, &opts);
    if (rc) {
        omni_template_free(t);
        return rc;
    }
    /* partials first, so that references can be linked */
    const cJSON *parts = opts ? cJSON_GetObjectItemCaseSensitive(opts, "partials") : NULL;
    size_t np = 0;
    for (const cJSON *p = parts ? parts->child : NULL; p; p = p->next)
        np++;
    if (np) {
        t->partials = omni__arena_alloc(&t->arena, np * sizeof(*t->partials));
        if (!t->partials) {
            cJSON_Delete(opts);
            omni_template_free(t);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        for (const cJSON *p = parts->child; p; p = p->next) {
            size_t plen = strlen(p->valuestring);
            if (plen > OMNI_TEMPLATE_MAX_SOURCE) {
                rc = omni__err(OMNI_ETOOLARGE, "partial \"%.64s\" is %zu bytes, over the limit",
                               p->string, plen);
                break;
            }
            size_t nlen = strlen(p->string);
            /* a repeated name: the last one wins, as in JavaScript */
            size_t k;
            for (k = 0; k < t->npartials; k++)
                if (t->partials[k].nlen == nlen &&
                    memcmp(t->partials[k].name, p->string, nlen) == 0)
                    break;
            omni__partial_def *d = &t->partials[k];
            d->name = omni__arena_strdup(&t->arena, p->string, nlen);
            if (!d->name) {
                rc = omni__err(OMNI_ENOMEM, NULL);
                break;
            }
            d->nlen = (uint32_t)nlen;
            d->hash = omni__hash(p->string, nlen);
            d->prog = compile_source(t, helpers, p->valuestring, plen, d->name, &rc);
            if (rc)
                break;
            if (k == t->npartials)
                t->npartials++;
        }
    }
    cJSON_Delete(opts);
    if (!rc)
        t->main = compile_source(t, helpers, source, len, NULL, &rc);
    if (rc) {
        omni_template_free(t);
        return rc;
    }
    if (t->partial_hint && t->npartials) {
        size_t hint = t->size_hint + t->partial_hint / t->npartials;
        t->size_hint = hint > 65536 ? 65536 : hint;
    }
    link_partials(t, (omni__prog *)t->main);
    for (size_t k = 0; k < t->npartials; k++)
        link_partials(t, (omni__prog *)t->partials[k].prog);
    rc = walk_prog(t, t->main);
    for (size_t k = 0; !rc && k < t->npartials; k++)
        rc = walk_prog(t, t->partials[k].prog);
    if (rc) {
        omni_template_free(t);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    *out = t;
    return OMNI_OK;
}

static void write_list(omni_buf *b, const char *key, const omni__strlist *l)
{
    omni__json_w_key(b, key);
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < l->n; i++)
        omni__json_w_strn(b, l->items[i], l->lens[i]);
    omni__json_w_arr_end(b);
}

int omni_template_inspect(char **out, size_t *out_len, const omni_template *t)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_template_inspect: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!t)
        return omni__err(OMNI_EINVAL, "omni_template_inspect: template is NULL");
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    write_list(&b, "variables", &t->vars);
    write_list(&b, "helpers", &t->helpers_used);
    write_list(&b, "partials", &t->partials_used);
    omni__json_w_obj_end(&b);
    return omni__buf_detach(&b, out, out_len);
}
