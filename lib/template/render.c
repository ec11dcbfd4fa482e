/* Template renderer: walks a compiled program with a frame (context,
 * parent contexts, @data frame, block parameters) writing into one
 * geometrically growing output buffer. Lookups use the precomputed segment
 * hashes; temporary values live in a stack-backed arena, so a render of
 * parsed data allocates only its result in the common case. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/error.h"
#include "lib/core/json.h"
#include "template_internal.h"

/* ---- errors and limits --------------------------------------------------- */

int omni__render_fail(omni__rs *st, int status, const char *fmt, ...)
{
    if (st->status)
        return st->status;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st->status = status;
    omni__err(status, "%s", msg);
    return status;
}

int omni__render_step(omni__rs *st, uint64_t n)
{
    st->steps += n;
    if (st->steps > OMNI__MAX_STEPS)
        return omni__render_fail(st, OMNI_ETOOLARGE,
                                 "template render exceeds its work limit of %u steps",
                                 (unsigned)OMNI__MAX_STEPS);
    return 0;
}

/* ---- output ---------------------------------------------------------------- */

static int out_grow(omni__rs *st, size_t n)
{
    if (omni__buf_reserve(&st->out, n)) {
        if (st->out.failed == OMNI_ETOOLARGE)
            return omni__render_fail(st, OMNI_ETOOLARGE,
                                     "rendered output exceeds its size limit of %u bytes",
                                     OMNI_TEMPLATE_MAX_OUTPUT);
        return omni__render_fail(st, OMNI_ENOMEM, "out of memory");
    }
    return 0;
}

static inline int out_put(omni__rs *st, const char *s, size_t n)
{
    omni_buf *b = &st->out;
    if (n >= b->cap - b->len || b->failed) {
        if (st->status)
            return st->status;
        if (out_grow(st, n))
            return st->status;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n; /* NUL-terminated once, when the render ends */
    return 0;
}

/* handlebars' escapeExpression characters: & < > " ' ` = */
static const uint8_t html_special[256] = {
    ['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5, ['`'] = 6, ['='] = 7,
};
static const char *const html_rep[8] = {"",       "&amp;",  "&lt;",   "&gt;",
                                         "&quot;", "&#x27;", "&#x60;", "&#x3D;"};
static const uint8_t html_rep_len[8] = {0, 5, 4, 4, 6, 6, 6, 6};

static int put_escaped(omni__rs *st, const char *s, size_t n, int esc)
{
    if (esc == OMNI__ESC_NONE)
        return out_put(st, s, n);
    if (esc == OMNI__ESC_JSON) {
        omni__json_escape(&st->out, s, n);
        if (st->out.failed)
            return out_grow(st, 0);
        return 0;
    }
    /* every string the renderer writes is NUL-terminated at s[n] (values,
     * literals, helper results), so strcspn (SSE4.2 in glibc) can scan it;
     * an embedded NUL stops it early and is copied as it is */
    while (n > 0) {
        size_t k = strcspn(s, "&<>\"'`=");
        if (k >= n)
            return out_put(st, s, n);
        if (s[k] == '\0') {
            if (out_put(st, s, k + 1))
                return st->status;
        } else {
            unsigned r = html_special[(unsigned char)s[k]];
            if (out_put(st, s, k) || out_put(st, html_rep[r], html_rep_len[r]))
                return st->status;
        }
        s += k + 1;
        n -= k + 1;
    }
    return 0;
}

/* Small non-negative integers without the general formatter. */
static inline int put_number(omni__rs *st, double d)
{
    char num[32];
    if (d >= 0 && d < 1e9 && (double)(uint32_t)d == d) {
        uint32_t u = (uint32_t)d;
        char *e = num + sizeof(num), *q = e;
        do {
            *--q = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        return out_put(st, q, (size_t)(e - q));
    }
    return out_put(st, num, omni__js_number(num, d));
}

/* Appends a value as handlebars does: null/undefined as nothing, strings
 * escaped unless safe, other values by JavaScript's ToString. */
static int put_value(omni__rs *st, const omni_value *v, int esc)
{
    switch (v->type) {
    case OMNI_VALUE_UNDEFINED:
    case OMNI_VALUE_NULL: return 0;
    case OMNI_VALUE_STRING:
        return put_escaped(st, v->u.str, v->n, (v->flags & OMNI__V_SAFE) ? OMNI__ESC_NONE : esc);
    case OMNI_VALUE_NUMBER: return put_number(st, v->u.num);
    case OMNI_VALUE_BOOL: return v->u.boolean ? out_put(st, "true", 4) : out_put(st, "false", 5);
    case OMNI_VALUE_OBJECT: return out_put(st, "[object Object]", 15);
    default: {
        /* arrays: their elements joined with "," */
        omni_buf tmp = OMNI_BUF_INIT;
        tmp.limit = OMNI_TEMPLATE_MAX_OUTPUT;
        omni__js_string(&tmp, v);
        int rc;
        if (tmp.failed)
            rc = omni__render_fail(st, tmp.failed,
                                   tmp.failed == OMNI_ETOOLARGE
                                       ? "rendered output exceeds its size limit"
                                       : "out of memory");
        else
            rc = put_escaped(st, tmp.data ? tmp.data : "", tmp.len, esc);
        omni__buf_free(&tmp);
        return rc;
    }
    }
}

/* ---- strict mode ------------------------------------------------------------- */

static void record_missing(omni__rs *st, const omni__path *p)
{
    if (!st->t->strict || st->exempt)
        return;
    if (omni__strlist_add(&st->missing, p->original, p->olen))
        omni__render_fail(st, OMNI_ENOMEM, "out of memory");
}

/* ---- lookups ------------------------------------------------------------------ */

static omni_value *tmp_value(omni__rs *st)
{
    omni_value *v = omni__arena_alloc(&st->arena, sizeof(omni_value));
    if (!v)
        omni__render_fail(st, OMNI_ENOMEM, "out of memory");
    return v;
}

/* A member of an object by a compiled segment (inline scan for small
 * objects, the hash index for large ones). */
static inline const omni_value *member(const omni_value *obj, const omni__seg *seg)
{
    if (obj->bits)
        return omni__value_member(obj, seg->name, seg->len, seg->hash);
    const omni__member *m = obj->u.members, *end = m + obj->n;
    const uint64_t k8 = seg->k8;
    const uint32_t len = seg->len;
    for (; m < end; m++) {
        if (m->k8 == k8 && m->klen == len &&
            (len <= 8 || memcmp(m->key + 8, seg->name + 8, len - 8) == 0))
            return &m->value;
    }
    return NULL;
}

/* An own property as handlebars' lookupProperty sees it, or NULL. */
static const omni_value *get_prop(omni__rs *st, const omni_value *v, const omni__seg *seg)
{
    switch (v->type) {
    case OMNI_VALUE_OBJECT:
        return member(v, seg);
    case OMNI_VALUE_ARRAY:
        if (seg->index >= 0)
            return (uint64_t)seg->index < v->n ? &v->u.items[seg->index] : NULL;
        if (seg->is_length) {
            omni_value *r = tmp_value(st);
            if (r)
                *r = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0, {.num = (double)v->n}};
            return r;
        }
        return NULL;
    case OMNI_VALUE_STRING:
        if (seg->is_length) {
            omni_value *r = tmp_value(st);
            if (r)
                *r = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0,
                                  {.num = (double)omni__utf16_length(v->u.str, v->n)}};
            return r;
        }
        if (seg->index >= 0) {
            char ch[4];
            size_t k = omni__utf16_unit_at(v->u.str, v->n, (size_t)seg->index, ch);
            if (!k)
                return NULL;
            omni_value *r = tmp_value(st);
            char *s = r ? omni__arena_strdup(&st->arena, ch, k) : NULL;
            if (!s)
                return r ? (omni__render_fail(st, OMNI_ENOMEM, "out of memory"), NULL) : NULL;
            *r = (omni_value){OMNI_VALUE_STRING, 0, 0, 0, (uint32_t)k, {.str = s}};
            return r;
        }
        return NULL;
    default: return NULL;
    }
}

static int is_nullish(const omni_value *v)
{
    return v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL;
}

/* resolvePath: from `v`, segments [from, nseg); stops at null/undefined. */
static const omni_value *walk(omni__rs *st, const omni_value *v, const omni__path *p, size_t from,
                              int *missing)
{
    for (size_t i = from; i < p->nseg; i++) {
        if (is_nullish(v)) {
            *missing = 1;
            return v;
        }
        const omni_value *r = get_prop(st, v, &p->segs[i]);
        if (!r) {
            *missing = 1;
            return &omni__undefined;
        }
        v = r;
    }
    return v;
}

static const omni_value *data_field(const omni__dframe *d, const omni__seg *s)
{
    switch (s->len) {
    case 3:
        if (memcmp(s->name, "key", 3) == 0)
            return d->key.type ? &d->key : NULL;
        break;
    case 4:
        if (memcmp(s->name, "root", 4) == 0)
            return d->root;
        if (memcmp(s->name, "last", 4) == 0)
            return d->last.type ? &d->last : NULL;
        break;
    case 5:
        if (memcmp(s->name, "index", 5) == 0)
            return d->index.type ? &d->index : NULL;
        if (memcmp(s->name, "first", 5) == 0)
            return d->first.type ? &d->first : NULL;
        break;
    default: break;
    }
    return NULL;
}

/* A path in handlebars mode: the general case. */
static __attribute__((noinline)) const omni_value *
eval_path_slow(omni__rs *st, const omni__frame *f, const omni__path *p)
{
    int missing = 0;
    const omni_value *v;
    if (p->plain) {
        v = walk(st, f->ctx, p, 0, &missing);
    } else if (p->bp_level >= 0) {
        const omni__bpframe *b = f->bp;
        for (int i = 0; b && i < p->bp_level; i++)
            b = b->parent;
        v = b && p->bp_index < 2 && b->v[p->bp_index] ? b->v[p->bp_index] : &omni__undefined;
        v = walk(st, v, p, 1, &missing);
    } else if (p->data) {
        const omni__dframe *d = f->data;
        for (int i = 0; d && i < p->depth; i++)
            d = d->parent;
        if (!d) {
            missing = 1;
            v = &omni__undefined;
        } else {
            v = data_field(d, &p->segs[0]);
            if (!v) {
                missing = 1;
                v = &omni__undefined;
            } else {
                v = walk(st, v, p, 1, &missing);
            }
        }
    } else {
        v = f->ctx;
        if (p->depth) {
            const omni__dnode *d = f->depths;
            for (int i = 0; d && i < p->depth; i++)
                d = d->next;
            v = d ? d->ctx : &omni__undefined;
            if (!d && p->nseg == 0)
                missing = 1;
        }
        v = walk(st, v, p, 0, &missing);
    }
    if (missing)
        record_missing(st, p);
    return v;
}

/* A path in handlebars mode; members of objects from `this` inline. */
static inline const omni_value *eval_path_hb(omni__rs *st, const omni__frame *f,
                                             const omni__path *p)
{
    if (p->plain) {
        const omni_value *v = f->ctx;
        for (uint16_t i = 0; i < p->nseg; i++) {
            if (v->type != OMNI_VALUE_OBJECT)
                return eval_path_slow(st, f, p);
            v = member(v, &p->segs[i]);
            if (!v)
                return eval_path_slow(st, f, p);
        }
        return v;
    }
    return eval_path_slow(st, f, p);
}

/* A name in mustache mode: the first part through the context stack. */
static const omni_value *eval_path_mu(omni__rs *st, const omni__frame *f, const omni__path *p)
{
    if (p->nseg == 0)
        return f->ctx;
    int missing = 0;
    const omni_value *v = NULL;
    for (const omni__dnode *d = f->depths; d && !v; d = d->next)
        if (!is_nullish(d->ctx))
            v = get_prop(st, d->ctx, &p->segs[0]);
    if (!v) {
        missing = 1;
        v = &omni__undefined;
    } else {
        v = walk(st, v, p, 1, &missing);
    }
    if (missing)
        record_missing(st, p);
    return v;
}

static const omni_value *eval_path(omni__rs *st, const omni__frame *f, const omni__path *p)
{
    return st->t->mode == OMNI__MODE_MUSTACHE ? eval_path_mu(st, f, p) : eval_path_hb(st, f, p);
}

static const omni_value *call_helper(omni__rs *st, const omni__frame *f, const omni__call *c,
                                     const omni__prog *fn, const omni__prog *inverse, int block);
static const omni_value *unknown_helper(omni__rs *st, const omni__frame *f, const omni__call *c);

/* NULL only after an error. */
static const omni_value *eval_expr(omni__rs *st, const omni__frame *f, const omni__expr *e)
{
    switch (e->kind) {
    case OMNI__EX_PATH: return eval_path(st, f, &e->path);
    case OMNI__EX_LIT: return &e->lit;
    default:
        return e->sub->helper ? call_helper(st, f, e->sub, NULL, NULL, 0)
                              : unknown_helper(st, f, e->sub);
    }
}

/* ---- helper calls ----------------------------------------------------------- */

const omni_value *omni__helper_this(const omni_helper_call *call)
{
    const omni_value *ctx = call->f->ctx;
    return is_nullish(ctx) ? &omni__null_ctx : ctx;
}

static const omni_value *call_helper(omni__rs *st, const omni__frame *f, const omni__call *c,
                                     const omni__prog *fn, const omni__prog *inverse, int block)
{
    const omni_value *argv[8], *hv[8];
    const omni_value **args = argv, **hvals = hv;
    if (c->nparams > 8 || c->nhash > 8) {
        args = omni__arena_alloc(&st->arena, (c->nparams + 1u) * sizeof(*args));
        hvals = omni__arena_alloc(&st->arena, (c->nhash + 1u) * sizeof(*hvals));
        if (!args || !hvals) {
            omni__render_fail(st, OMNI_ENOMEM, "out of memory");
            return NULL;
        }
    }
    if (c->exempt)
        st->exempt++;
    for (uint16_t i = 0; i < c->nparams; i++)
        if (!(args[i] = eval_expr(st, f, &c->params[i])))
            break;
    for (uint16_t i = 0; !st->status && i < c->nhash; i++)
        if (!(hvals[i] = eval_expr(st, f, &c->hash[i].value)))
            break;
    if (c->exempt)
        st->exempt--;
    if (st->status)
        return NULL;
    omni_helper_call call;
    memset(&call, 0, sizeof(call));
    call.st = st;
    call.f = f;
    call.c = c;
    call.fn = fn;
    call.inverse = inverse;
    call.args = args;
    call.argc = c->nparams;
    call.hvals = hvals;
    call.is_block = block;
    int rc;
    if (c->helper == OMNI__H_BUILTIN) {
        rc = c->builtin->fn(&call);
    } else {
        unsigned long mark = omni__err_mark();
        rc = c->host_fn(c->host_ctx, &call);
        if (rc < 0 && !st->status) {
            const omni_error *e = omni_error_last();
            if (omni__err_mark() != mark && e->message && e->message[0])
                omni__render_fail(st, OMNI_EHELPER, "helper \"%s\" failed: %s",
                                  c->name.original, e->message);
            else
                omni__render_fail(st, OMNI_EHELPER, "helper \"%s\" failed (%s)",
                                  c->name.original, omni_status_code(rc));
        }
    }
    if (rc < 0 && !st->status)
        omni__render_fail(st, OMNI_EHELPER, "helper \"%s\" failed", c->name.original);
    if (st->status) {
        omni__buf_free(&call.acc);
        return NULL;
    }
    if (call.direct) {
        omni__buf_free(&call.acc);
        return &omni__undefined;
    }
    omni_value *r = tmp_value(st);
    if (!r) {
        omni__buf_free(&call.acc);
        return NULL;
    }
    if (call.use_acc) {
        char *s = omni__arena_strdup(&st->arena, call.acc.data ? call.acc.data : "",
                                     call.acc.len);
        size_t len = call.acc.len;
        omni__buf_free(&call.acc);
        if (!s) {
            omni__render_fail(st, OMNI_ENOMEM, "out of memory");
            return NULL;
        }
        *r = (omni_value){OMNI_VALUE_STRING, OMNI__V_SAFE, 0, 0, (uint32_t)len, {.str = s}};
        return r;
    }
    *r = call.result;
    return r;
}

/* A helper call whose name is no helper: handlebars calls
 * `(helpers.x || context.x || helperMissing)`; data values are never
 * functions, so a truthy value fails, arguments make helperMissing fail, and
 * otherwise the result is undefined. */
static const omni_value *unknown_helper(omni__rs *st, const omni__frame *f, const omni__call *c)
{
    for (uint16_t i = 0; i < c->nparams; i++)
        if (!eval_expr(st, f, &c->params[i]))
            return NULL;
    for (uint16_t i = 0; i < c->nhash; i++)
        if (!eval_expr(st, f, &c->hash[i].value))
            return NULL;
    st->exempt++;
    const omni_value *v = eval_path(st, f, &c->name);
    st->exempt--;
    if (!v)
        return NULL;
    if (omni__js_truthy(v)) {
        omni__render_fail(st, OMNI_EHELPER, "line %u, column %u: \"%s\" is not a helper",
                          c->line, c->col, c->name.original);
        return NULL;
    }
    if (c->nparams) {
        omni__render_fail(st, OMNI_EHELPER, "line %u, column %u: missing helper \"%s\"", c->line,
                          c->col, c->name.original);
        return NULL;
    }
    return &omni__undefined;
}

/* ---- programs ------------------------------------------------------------------ */

static int run_prog(omni__rs *st, const omni__prog *p, const omni__frame *f);

static int enter(omni__rs *st)
{
    if (++st->depth > OMNI__MAX_RENDER_DEPTH)
        return omni__render_fail(st, OMNI_ETOODEEP,
                                 "template blocks and partials nest deeper than %d at render time",
                                 OMNI__MAX_RENDER_DEPTH);
    return 0;
}

/* A child program with a new context (handlebars' wrapProgram). */
static int run_child(omni__rs *st, const omni__frame *f, const omni__prog *prog,
                     const omni_value *ctx, const omni__dframe *data, const omni_value *bp0,
                     const omni_value *bp1)
{
    if (!prog)
        return 0;
    if (prog->n == 1 && prog->body[0]->kind == OMNI__N_CONTENT && !f->indent_len)
        return out_put(st, prog->body[0]->orig, prog->body[0]->olen); /* plain text */
    if (enter(st))
        return st->status;
    omni__frame nf = *f;
    omni__dnode dn;
    nf.ctx = ctx;
    if (data)
        nf.data = data;
    if (st->t->mode == OMNI__MODE_MUSTACHE) {
        if (ctx != f->ctx) {
            dn.ctx = ctx;
            dn.next = f->depths;
            nf.depths = &dn;
        }
    } else if (st->t->uses_depths) {
        const omni_value *top = f->depths ? f->depths->ctx : &omni__undefined;
        if (!omni__js_loose_eq(ctx, top) &&
            !((ctx->flags & OMNI__V_NULLCTX) && top->type == OMNI_VALUE_NULL)) {
            dn.ctx = ctx;
            dn.next = f->depths;
            nf.depths = &dn;
        }
    }
    omni__bpframe bp = {f->bp, {bp0, bp1}};
    if (st->t->uses_bparams)
        nf.bp = &bp;
    int rc = run_prog(st, prog, &nf);
    st->depth--;
    return rc;
}

int omni__render_child(omni_helper_call *call, const omni__prog *prog, const omni_value *ctx,
                       const omni__dframe *data, const omni_value *bp0, const omni_value *bp1)
{
    if (!ctx)
        ctx = omni__helper_this(call);
    return run_child(call->st, call->f, prog, ctx, data, bp0, bp1);
}

/* blockHelperMissing: {{#name}} when name is no helper. */
static int block_missing(omni__rs *st, const omni__frame *f, const omni__node *n,
                         const omni_value *v)
{
    if (v->type == OMNI_VALUE_BOOL && v->u.boolean)
        return run_child(st, f, n->prog, f->ctx, NULL, NULL, NULL);
    if (v->type == OMNI_VALUE_BOOL || is_nullish(v))
        return run_child(st, f, n->inverse, f->ctx, NULL, NULL, NULL);
    if (v->type == OMNI_VALUE_ARRAY) {
        if (v->n == 0)
            return run_child(st, f, n->inverse, f->ctx, NULL, NULL, NULL);
        const omni_value *argv[1] = {v};
        omni_helper_call call;
        memset(&call, 0, sizeof(call));
        call.st = st;
        call.f = f;
        call.c = n->call;
        call.fn = n->prog;
        call.inverse = n->inverse;
        call.args = argv;
        call.argc = 1;
        call.is_block = 1;
        return omni__builtin_each(&call);
    }
    return run_child(st, f, n->prog, v, NULL, NULL, NULL);
}

static const omni__partial_def *find_partial(const omni_template *t, const char *name, size_t n)
{
    uint32_t h = omni__hash(name, n);
    for (size_t i = 0; i < t->npartials; i++)
        if (t->partials[i].hash == h && t->partials[i].nlen == n &&
            memcmp(t->partials[i].name, name, n) == 0)
            return &t->partials[i];
    return NULL;
}

/* Utils.extend({}, context, hash): a new object. */
static const omni_value *merge_context(omni__rs *st, const omni__frame *f, const omni_value *ctx,
                                       const omni__partial_ref *pr)
{
    size_t base = 0;
    if (ctx->type == OMNI_VALUE_OBJECT || ctx->type == OMNI_VALUE_ARRAY)
        base = ctx->n;
    else if (ctx->type == OMNI_VALUE_STRING)
        base = omni__utf16_length(ctx->u.str, ctx->n);
    omni__member *ms = omni__arena_alloc(&st->arena, (base + pr->nhash + 1) * sizeof(*ms));
    omni_value *obj = tmp_value(st);
    if (!ms || !obj) {
        omni__render_fail(st, OMNI_ENOMEM, "out of memory");
        return NULL;
    }
    size_t n = 0;
    if (ctx->type == OMNI_VALUE_OBJECT) {
        memcpy(ms, ctx->u.members, ctx->n * sizeof(*ms));
        n = ctx->n;
    } else if (base) {
        for (size_t i = 0; i < base; i++) {
            char key[16];
            int kl = snprintf(key, sizeof(key), "%zu", i);
            char *ks = omni__arena_strdup(&st->arena, key, (size_t)kl);
            if (!ks) {
                omni__render_fail(st, OMNI_ENOMEM, "out of memory");
                return NULL;
            }
            ms[n].key = ks;
            ms[n].klen = (uint32_t)kl;
            ms[n].hash = omni__hash(ks, (size_t)kl);
            ms[n].k8 = omni__key8(ks, (size_t)kl);
            if (ctx->type == OMNI_VALUE_ARRAY) {
                ms[n].value = ctx->u.items[i];
            } else {
                char ch[4];
                size_t k = omni__utf16_unit_at(ctx->u.str, ctx->n, i, ch);
                char *s = omni__arena_strdup(&st->arena, ch, k);
                if (!s) {
                    omni__render_fail(st, OMNI_ENOMEM, "out of memory");
                    return NULL;
                }
                ms[n].value = (omni_value){OMNI_VALUE_STRING, 0, 0, 0, (uint32_t)k, {.str = s}};
            }
            n++;
        }
    }
    for (uint16_t i = 0; i < pr->nhash; i++) {
        const omni__hashpair *hp = &pr->hash[i];
        const omni_value *hv = eval_expr(st, f, &hp->value);
        if (!hv)
            return NULL;
        uint32_t h = omni__hash(hp->key, hp->klen);
        size_t j;
        for (j = 0; j < n; j++)
            if (ms[j].hash == h && ms[j].klen == hp->klen &&
                memcmp(ms[j].key, hp->key, hp->klen) == 0)
                break;
        if (j == n) {
            ms[n].key = hp->key;
            ms[n].klen = hp->klen;
            ms[n].hash = h;
            ms[n].k8 = omni__key8(hp->key, hp->klen);
            n++;
        }
        ms[j].value = *hv;
    }
    if (omni__js_order_members(ms, (uint32_t)n)) {
        omni__render_fail(st, OMNI_ENOMEM, "out of memory");
        return NULL;
    }
    *obj = (omni_value){OMNI_VALUE_OBJECT, 0, 0, 0, (uint32_t)n, {.members = ms}};
    return obj;
}

/* Indents the output written since `start` as handlebars does (split on
 * "\n"; every line but a final empty one gets the indent). */
static int indent_output(omni__rs *st, size_t start, const char *indent, size_t ilen)
{
    size_t end = st->out.len;
    if (end == start)
        return 0;
    omni_buf tmp = OMNI_BUF_INIT;
    tmp.limit = OMNI_TEMPLATE_MAX_OUTPUT;
    const char *d = st->out.data;
    for (size_t i = start; i < end;) {
        size_t j = i;
        while (j < end && d[j] != '\n')
            j++;
        omni__buf_append(&tmp, indent, ilen);
        omni__buf_append(&tmp, d + i, j - i + (j < end));
        i = j + 1;
    }
    int rc = 0;
    if (tmp.failed) {
        rc = omni__render_fail(st, tmp.failed, tmp.failed == OMNI_ETOOLARGE
                                                   ? "rendered output exceeds its size limit"
                                                   : "out of memory");
    } else {
        st->out.len = start;
        rc = out_put(st, tmp.data, tmp.len);
    }
    omni__buf_free(&tmp);
    return rc;
}

static int run_partial(omni__rs *st, const omni__frame *f, const omni__node *n)
{
    const omni__partial_ref *pr = n->partial;
    const omni_template *t = st->t;
    const omni__partial_def *def = NULL;
    omni__arena_mark mark = omni__arena_get_mark(&st->arena);
    if (pr->dynamic) {
        const omni_value *nv = pr->dynamic->helper ? call_helper(st, f, pr->dynamic, NULL, NULL, 0)
                                                    : unknown_helper(st, f, pr->dynamic);
        if (!nv)
            return st->status;
        if (!omni__js_truthy(nv))
            return omni__render_fail(st, OMNI_ENOTFOUND,
                                     "line %u, column %u: the partial name is empty", n->line,
                                     n->col);
        omni_buf name = OMNI_BUF_INIT;
        omni__js_string(&name, nv);
        if (name.failed) {
            omni__buf_free(&name);
            return omni__render_fail(st, OMNI_ENOMEM, "out of memory");
        }
        def = find_partial(t, name.data, name.len);
        if (!def) {
            omni__render_fail(st, OMNI_ENOTFOUND,
                              "line %u, column %u: partial \"%.100s\" not found", n->line, n->col,
                              name.data);
            omni__buf_free(&name);
            return st->status;
        }
        omni__buf_free(&name);
    } else if (pr->index >= 0) {
        def = &t->partials[pr->index];
    }
    if (!def) {
        if (t->mode == OMNI__MODE_MUSTACHE)
            return 0; /* the spec: a missing partial renders nothing */
        return omni__render_fail(st, OMNI_ENOTFOUND, "line %u, column %u: partial \"%s\" not found",
                                 n->line, n->col, pr->name);
    }
    if (st->partial_depth >= OMNI_TEMPLATE_MAX_PARTIAL_DEPTH)
        return omni__render_fail(st, OMNI_ETOODEEP, "partials nest deeper than %d (\"%s\")",
                                 OMNI_TEMPLATE_MAX_PARTIAL_DEPTH, def->name);
    if (enter(st))
        return st->status;
    st->partial_depth++;
    int rc;
    if (t->mode == OMNI__MODE_MUSTACHE) {
        omni__frame nf = *f;
        if (!n->standalone) {
            nf.indent = NULL; /* the indentation belongs to the calling template's lines */
            nf.indent_len = 0;
        } else if (pr->indent_len) {
            char *ind = omni__arena_alloc(&st->arena, f->indent_len + pr->indent_len + 1);
            if (!ind) {
                rc = omni__render_fail(st, OMNI_ENOMEM, "out of memory");
                goto done;
            }
            if (f->indent_len)
                memcpy(ind, f->indent, f->indent_len);
            memcpy(ind + f->indent_len, pr->indent, pr->indent_len);
            nf.indent = ind;
            nf.indent_len = f->indent_len + pr->indent_len;
        }
        rc = run_prog(st, def->prog, &nf);
    } else {
        const omni_value *ctx = f->ctx;
        if (pr->has_context && !(ctx = eval_expr(st, f, &pr->context))) {
            rc = st->status;
            goto done;
        }
        if (pr->nhash && !(ctx = merge_context(st, f, ctx, pr))) {
            rc = st->status;
            goto done;
        }
        omni__dnode dn = {ctx, NULL};
        omni__frame nf = {ctx, &dn, f->data, NULL, NULL, 0};
        size_t start = st->out.len;
        rc = run_prog(st, def->prog, &nf);
        if (!rc && pr->indent_len)
            rc = indent_output(st, start, pr->indent, pr->indent_len);
    }
done:
    st->partial_depth--;
    st->depth--;
    omni__arena_release(&st->arena, mark);
    return rc;
}

/* Mustache mode: text with the partial indentation after inner newlines. */
static int put_indented(omni__rs *st, const char *s, size_t n, const omni__frame *f)
{
    size_t start = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == '\n') {
            if (out_put(st, s + start, i + 1 - start) || out_put(st, f->indent, f->indent_len))
                return st->status;
            start = i + 1;
        }
    }
    return out_put(st, s + start, n - start);
}

static int run_section_mu(omni__rs *st, const omni__frame *f, const omni__node *n)
{
    st->exempt++;
    const omni_value *v = eval_path(st, f, &n->call->name);
    st->exempt--;
    int falsy = v->type == OMNI_VALUE_ARRAY ? v->n == 0 : !omni__js_truthy(v);
    if (n->inverted)
        return falsy ? run_child(st, f, n->inverse, f->ctx, NULL, NULL, NULL) : 0;
    if (falsy)
        return 0;
    if (v->type == OMNI_VALUE_ARRAY) {
        for (uint32_t i = 0; i < v->n; i++) {
            if (omni__render_step(st, 1) ||
                run_child(st, f, n->prog, &v->u.items[i], NULL, NULL, NULL))
                return st->status;
        }
        return 0;
    }
    return run_child(st, f, n->prog, v, NULL, NULL, NULL);
}

static int run_prog(omni__rs *st, const omni__prog *p, const omni__frame *f)
{
    const omni_template *t = st->t;
    const int indent = f->indent_len != 0; /* mustache mode inside an indented partial */
    const int hb = t->mode == OMNI__MODE_HANDLEBARS;
    st->steps += p->n;
    if (st->steps > OMNI__MAX_STEPS && omni__render_step(st, 0))
        return st->status;
    omni__node *const *body = p->body;
    const uint32_t count = p->n;
    for (uint32_t i = 0; i < count; i++) {
        const omni__node *n = body[i];
        if (indent && n->bol && !n->standalone && n->kind != OMNI__N_CONTENT &&
            out_put(st, f->indent, f->indent_len))
            return st->status;
        switch (n->kind) {
        case OMNI__N_CONTENT:
            if (indent) {
                if ((n->bol && out_put(st, f->indent, f->indent_len)) ||
                    put_indented(st, n->orig, n->olen, f))
                    return st->status;
            } else if (out_put(st, n->orig, n->olen)) {
                return st->status;
            }
            break;
        case OMNI__N_MUSTACHE: {
            const omni__call *c = n->call;
            omni__arena_mark mark = omni__arena_get_mark(&st->arena);
            const omni_value *v;
            if (c->helper)
                v = call_helper(st, f, c, NULL, NULL, 0);
            else if (c->nparams || c->has_hash)
                v = unknown_helper(st, f, c);
            else
                v = hb ? eval_path_hb(st, f, &c->name) : eval_path_mu(st, f, &c->name);
            if (!v)
                return st->status;
            if (v->type == OMNI_VALUE_STRING) {
                int esc = n->escaped && !(v->flags & OMNI__V_SAFE) ? t->escape : OMNI__ESC_NONE;
                if (put_escaped(st, v->u.str, v->n, esc))
                    return st->status;
            } else if (put_value(st, v, n->escaped ? t->escape : OMNI__ESC_NONE)) {
                return st->status;
            }
            omni__arena_release(&st->arena, mark);
            break;
        }
        case OMNI__N_BLOCK: {
            const omni__call *c = n->call;
            omni__arena_mark mark = omni__arena_get_mark(&st->arena);
            if (t->mode == OMNI__MODE_MUSTACHE) {
                if (run_section_mu(st, f, n))
                    return st->status;
            } else if (c->helper == OMNI__H_BUILTIN && c->builtin->kind && c->nparams == 1 &&
                       !c->has_hash) {
                /* if / unless without a hash: as the built-in, without a call */
                st->exempt++;
                const omni_value *cond = eval_expr(st, f, &c->params[0]);
                st->exempt--;
                if (!cond)
                    return st->status;
                int falsy = !omni__js_truthy(cond);
                int zero = cond->type == OMNI_VALUE_NUMBER && cond->u.num == 0;
                int empty = (!t->include_zero && falsy) || (falsy && !zero) ||
                            (cond->type == OMNI_VALUE_ARRAY && cond->n == 0);
                if (c->builtin->kind == OMNI__B_UNLESS)
                    empty = !empty;
                const omni_value *self = is_nullish(f->ctx) ? &omni__null_ctx : f->ctx;
                if (run_child(st, f, empty ? n->inverse : n->prog, self, NULL, NULL, NULL))
                    return st->status;
            } else if (c->helper || c->nparams || c->has_hash) {
                const omni_value *v = c->helper
                                          ? call_helper(st, f, c, n->prog, n->inverse, 1)
                                          : unknown_helper(st, f, c);
                if (!v || put_value(st, v, OMNI__ESC_NONE))
                    return st->status;
            } else {
                st->exempt++;
                const omni_value *v = eval_path(st, f, &c->name);
                st->exempt--;
                if (block_missing(st, f, n, v))
                    return st->status;
            }
            omni__arena_release(&st->arena, mark);
            break;
        }
        case OMNI__N_PARTIAL:
            if (run_partial(st, f, n))
                return st->status;
            break;
        default: break;
        }
    }
    return st->status;
}

/* ---- public --------------------------------------------------------------------- */

static int render(char **out, size_t *out_len, const omni_template *t, const omni_value *root)
{
    omni__rs st;
    char arena_buf[1024] __attribute__((aligned(16)));
    memset(&st, 0, sizeof(st));
    st.t = t;
    omni__buf_init(&st.out, OMNI_TEMPLATE_MAX_OUTPUT);
    omni__arena_init(&st.arena, arena_buf, sizeof(arena_buf));
    if (omni__buf_reserve(&st.out, t->size_hint)) {
        omni__arena_free(&st.arena);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    omni__dframe data;
    memset(&data, 0, sizeof(data));
    data.root = root;
    omni__dnode dn = {root, NULL};
    omni__frame f = {root, &dn, &data, NULL, NULL, 0};
    int rc = run_prog(&st, t->main, &f);
    if (!rc && st.missing.n) {
        omni_buf d = OMNI_BUF_INIT, m = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&d);
        omni__json_w_key(&d, "missing");
        omni__json_w_arr_begin(&d);
        for (size_t i = 0; i < st.missing.n; i++) {
            omni__json_w_strn(&d, st.missing.items[i], st.missing.lens[i]);
            if (i < 8)
                omni__buf_printf(&m, "%s%.*s", i ? ", " : "", (int)st.missing.lens[i],
                                 st.missing.items[i]);
        }
        omni__json_w_arr_end(&d);
        omni__json_w_obj_end(&d);
        rc = omni__err_details(OMNI_EMISSING, d.failed ? NULL : d.data,
                               "%zu missing variable%s: %s%s", st.missing.n,
                               st.missing.n == 1 ? "" : "s", m.data ? m.data : "",
                               st.missing.n > 8 ? ", ..." : "");
        omni__buf_free(&d);
        omni__buf_free(&m);
    }
    omni__strlist_free(&st.missing);
    omni__arena_free(&st.arena);
    if (rc) {
        omni__buf_free(&st.out);
        return rc;
    }
    if (st.out.data)
        st.out.data[st.out.len] = '\0';
    return omni__buf_detach(&st.out, out, out_len);
}

int omni_template_render_data(char **out, size_t *out_len, const omni_template *t,
                              const omni_data *data)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_template_render_data: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!t)
        return omni__err(OMNI_EINVAL, "omni_template_render_data: template is NULL");
    if (!data)
        return omni__err(OMNI_EINVAL, "omni_template_render_data: data is NULL");
    return render(out, out_len, t, omni_data_root(data));
}

int omni_template_render(char **out, size_t *out_len, const omni_template *t,
                         const char *data_json, size_t data_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_template_render: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!t)
        return omni__err(OMNI_EINVAL, "omni_template_render: template is NULL");
    if (!data_json && data_len)
        return omni__err(OMNI_EINVAL, "omni_template_render: data is NULL");
    if (data_len == 0) {
        static const omni_value empty = {OMNI_VALUE_OBJECT, 0, 0, 0, 0, {0}};
        return render(out, out_len, t, &empty);
    }
    omni_data *d;
    int rc = omni_data_parse(&d, data_json, data_len);
    if (rc)
        return rc;
    rc = render(out, out_len, t, omni_data_root(d));
    omni_data_free(d);
    return rc;
}
