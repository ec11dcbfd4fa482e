/* Built-in template helpers: handlebars.js' if, unless, each, with, lookup
 * and log (same semantics, same argument checks), and the notification
 * helpers formatNumber, formatCurrency, formatDate (through the public
 * omni_format_* functions), uppercase, lowercase, truncate, default and the
 * conditions eq, ne, gt, lt, and, or, not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omni/omni.h>

#include "lib/core/error.h"
#include "template_internal.h"

static int fail(omni_helper_call *call, int status, const char *msg)
{
    return omni__render_fail(call->st, status, "line %u, column %u: %s: %s", call->c->line,
                             call->c->col, call->c->name.original, msg);
}

/* handlebars' Utils.isEmpty */
static int is_empty(const omni_value *v)
{
    if (!omni__js_truthy(v) && !(v->type == OMNI_VALUE_NUMBER && v->u.num == 0))
        return 1;
    return v->type == OMNI_VALUE_ARRAY && v->n == 0;
}

static const omni_value *arg(const omni_helper_call *call, size_t i)
{
    return i < call->argc ? call->args[i] : &omni__undefined;
}

/* A block helper called without a block: handlebars calls the missing
 * options.fn and throws a TypeError. */
static int need_block(omni_helper_call *call)
{
    if (call->is_block)
        return 0;
    return fail(call, OMNI_EHELPER, "must be used as a block ({{#...}})");
}

/* ---- handlebars.js' helpers ----------------------------------------------- */

static int h_if_impl(omni_helper_call *call, int negate, const char *argmsg)
{
    if (call->argc != 1)
        return fail(call, OMNI_EHELPER, argmsg);
    if (need_block(call))
        return call->st->status;
    const omni_value *cond = call->args[0];
    const omni_value *iz = omni_helper_hash(call, "includeZero");
    int include_zero = iz ? omni__js_truthy(iz) : call->st->t->include_zero;
    int empty = (!include_zero && !omni__js_truthy(cond)) || is_empty(cond);
    const omni__prog *fn = call->fn, *inv = call->inverse;
    if (negate) {
        fn = call->inverse;
        inv = call->fn;
    }
    call->direct = 1;
    return omni__render_child(call, empty ? inv : fn, NULL, NULL, NULL, NULL);
}

static int h_if(omni_helper_call *call)
{
    return h_if_impl(call, 0, "#if requires exactly one argument");
}

static int h_unless(omni_helper_call *call)
{
    return h_if_impl(call, 1, "#unless requires exactly one argument");
}

static int h_with(omni_helper_call *call)
{
    if (call->argc != 1)
        return fail(call, OMNI_EHELPER, "#with requires exactly one argument");
    if (need_block(call))
        return call->st->status;
    const omni_value *ctx = call->args[0];
    call->direct = 1;
    if (!is_empty(ctx))
        return omni__render_child(call, call->fn, ctx, NULL, ctx, NULL);
    return omni__render_child(call, call->inverse, NULL, NULL, NULL, NULL);
}

int omni__builtin_each(omni_helper_call *call)
{
    if (call->argc == 0)
        return fail(call, OMNI_EHELPER, "must pass iterator to #each");
    if (call->argc != 1 || need_block(call))
        return call->st->status ? call->st->status
                                : fail(call, OMNI_EHELPER, "#each takes one argument");
    omni__rs *st = call->st;
    const omni_value *ctx = call->args[0];
    call->direct = 1;
    omni__dframe frame = *call->f->data;
    frame.parent = call->f->data;
    uint32_t n = 0;
    if (ctx->type == OMNI_VALUE_ARRAY) {
        n = ctx->n;
        for (uint32_t i = 0; i < n; i++) {
            frame.index = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0, {.num = i}};
            frame.key = frame.index;
            frame.first = i == 0 ? omni__true_value : omni__false_value;
            frame.last = i == n - 1 ? omni__true_value : omni__false_value;
            const omni_value *item = &ctx->u.items[i];
            if (omni__render_step(st, 1) ||
                omni__render_child(call, call->fn, item, &frame, item, &frame.key))
                return st->status;
        }
    } else if (ctx->type == OMNI_VALUE_OBJECT) {
        n = ctx->n;
        for (uint32_t i = 0; i < n; i++) {
            const omni__member *m = &ctx->u.members[i];
            frame.key = (omni_value){OMNI_VALUE_STRING, 0, 0, 0, m->klen, {.str = m->key}};
            frame.index = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0, {.num = i}};
            frame.first = i == 0 ? omni__true_value : omni__false_value;
            frame.last = i == n - 1 ? omni__true_value : omni__false_value;
            if (omni__render_step(st, 1) ||
                omni__render_child(call, call->fn, &m->value, &frame, &m->value, &frame.key))
                return st->status;
        }
    }
    if (n == 0)
        return omni__render_child(call, call->inverse, NULL, NULL, NULL, NULL);
    return 0;
}

/* lookup obj field: obj[field] (own properties), or obj when obj is falsy. */
static int h_lookup(omni_helper_call *call)
{
    if (call->argc == 0)
        return 0; /* obj is the options object: options[undefined] */
    const omni_value *obj = call->args[0];
    if (!omni__js_truthy(obj)) {
        call->result = *obj;
        return 0;
    }
    omni_buf key = OMNI_BUF_INIT;
    if (call->argc >= 2)
        omni__js_string(&key, call->args[1]);
    else
        omni__buf_puts(&key, "[object Object]"); /* the field is the options object */
    if (key.failed) {
        omni__buf_free(&key);
        return omni__render_fail(call->st, OMNI_ENOMEM, "out of memory");
    }
    const char *k = key.data ? key.data : "";
    omni__seg seg;
    seg.name = k;
    seg.len = (uint32_t)key.len;
    seg.hash = omni__hash(k, key.len);
    seg.k8 = omni__key8(k, key.len);
    seg.index = omni__array_index(k, key.len);
    seg.is_length = key.len == 6 && memcmp(k, "length", 6) == 0;
    const omni_value *r = NULL;
    if (obj->type == OMNI_VALUE_OBJECT) {
        r = omni__value_member(obj, seg.name, seg.len, seg.hash);
    } else if (obj->type == OMNI_VALUE_ARRAY) {
        if (seg.index >= 0 && (uint64_t)seg.index < obj->n)
            r = &obj->u.items[seg.index];
        else if (seg.is_length)
            call->result = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0, {.num = obj->n}};
    } else if (obj->type == OMNI_VALUE_STRING) {
        if (seg.is_length) {
            call->result = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0,
                                        {.num = (double)omni__utf16_length(obj->u.str, obj->n)}};
        } else if (seg.index >= 0) {
            char ch[4];
            size_t len = omni__utf16_unit_at(obj->u.str, obj->n, (size_t)seg.index, ch);
            if (len) {
                omni__buf_free(&key);
                return omni_helper_return_string(call, ch, len) ? call->st->status : 0;
            }
        }
    }
    omni__buf_free(&key);
    if (r)
        call->result = *r;
    return 0;
}

static int h_log(omni_helper_call *call)
{
    (void)call; /* no output: log records need an engine, which a render has not */
    return 0;
}

/* ---- notification helpers ----------------------------------------------------- */

/* A value as text (JavaScript ToString; null and undefined as ""). */
static int text_of(omni_helper_call *call, const omni_value *v, omni_buf *b)
{
    if (v->type != OMNI_VALUE_UNDEFINED && v->type != OMNI_VALUE_NULL)
        omni__js_string(b, v);
    if (b->failed)
        return omni__render_fail(call->st, OMNI_ENOMEM, "out of memory");
    return 0;
}

static const char *str_opt(omni_helper_call *call, const char *hash_name, size_t pos,
                           const char *dflt, omni_buf *scratch)
{
    const omni_value *v = omni_helper_hash(call, hash_name);
    if (!v && pos < call->argc)
        v = call->args[pos];
    if (!v || v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL)
        return dflt;
    omni__buf_reset(scratch);
    omni__js_string(scratch, v);
    return scratch->failed ? dflt : scratch->data ? scratch->data : "";
}

static int int_opt(omni_helper_call *call, const char *hash_name, size_t pos, int *out)
{
    const omni_value *v = omni_helper_hash(call, hash_name);
    if (!v && pos < call->argc)
        v = call->args[pos];
    *out = -1;
    if (!v || v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL)
        return 0;
    double d = omni__js_tonumber(v);
    if (!(d >= 0 && d <= 100) || d != floor(d))
        return fail(call, OMNI_EHELPER, "fraction digits must be a small non-negative integer");
    *out = (int)d;
    return 0;
}

/* The result of an omni_format_* call, or the helper's failure. */
static int formatted(omni_helper_call *call, int rc, char *s, size_t len)
{
    if (rc) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
        return fail(call, OMNI_EHELPER, msg);
    }
    rc = omni_helper_return_string(call, s, len);
    omni_free(s);
    return rc ? omni__render_fail(call->st, rc, "out of memory") : 0;
}

static const char *locale_of(omni_helper_call *call, omni_buf *scratch)
{
    const char *dflt = call->st->t->locale[0] ? call->st->t->locale : NULL;
    const omni_value *v = omni_helper_hash(call, "locale");
    if (!v || v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL)
        return dflt;
    omni__buf_reset(scratch);
    omni__js_string(scratch, v);
    return scratch->failed ? dflt : scratch->data ? scratch->data : "";
}

/* formatNumber value [minFractionDigits [maxFractionDigits]]
 *   hash: minimumFractionDigits, maximumFractionDigits, locale */
static int h_format_number(omni_helper_call *call)
{
    const omni_value *v = arg(call, 0);
    if (v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL)
        return 0;
    int mn, mx;
    if (int_opt(call, "minimumFractionDigits", 1, &mn) ||
        int_opt(call, "maximumFractionDigits", 2, &mx))
        return call->st->status;
    omni_buf sl = OMNI_BUF_INIT;
    const char *loc = locale_of(call, &sl);
    char *s = NULL;
    size_t len = 0;
    int rc = omni_format_number(&s, &len, omni__js_tonumber(v), loc, mn, mx);
    omni__buf_free(&sl);
    return formatted(call, rc, s, len);
}

/* formatCurrency value [currency [locale]]  hash: currency, locale */
static int h_format_currency(omni_helper_call *call)
{
    const omni_value *v = arg(call, 0);
    if (v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL)
        return 0;
    omni_buf sc = OMNI_BUF_INIT, sl = OMNI_BUF_INIT;
    const char *code = str_opt(call, "currency", 1, NULL, &sc);
    const char *loc = str_opt(call, "locale", 2, NULL, &sl);
    if (!loc)
        loc = call->st->t->locale[0] ? call->st->t->locale : NULL;
    int rc;
    char *s = NULL;
    size_t len = 0;
    if (!code) {
        rc = fail(call, OMNI_EHELPER, "needs a currency code (formatCurrency amount \"INR\")");
    } else {
        rc = omni_format_currency(&s, &len, omni__js_tonumber(v), code, loc);
        rc = formatted(call, rc, s, len);
    }
    omni__buf_free(&sc);
    omni__buf_free(&sl);
    return rc;
}

/* RFC 3339 text for Unix milliseconds (years 1970..9999). */
static int ms_to_rfc3339(double ms, char out[64])
{
    if (!(ms >= 0 && ms < 253402300800000.0))
        return -1;
    time_t secs = (time_t)(ms / 1000);
    int millis = (int)(ms - (double)secs * 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm))
        return -1;
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
             tm.tm_sec % 100, millis % 1000);
    return 0;
}

/* formatDate value [pattern [timeZone]]  hash: pattern, timeZone, locale;
 * value: RFC 3339 text or Unix milliseconds. */
static int h_format_date(omni_helper_call *call)
{
    const omni_value *v = arg(call, 0);
    if (v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL)
        return 0;
    omni_buf sv = OMNI_BUF_INIT, sp = OMNI_BUF_INIT, st = OMNI_BUF_INIT, sl = OMNI_BUF_INIT;
    char iso[64];
    const char *when;
    int rc = 0;
    if (v->type == OMNI_VALUE_NUMBER) {
        if (ms_to_rfc3339(v->u.num, iso)) {
            rc = fail(call, OMNI_EHELPER, "the time is out of range");
            goto done;
        }
        when = iso;
    } else {
        omni__js_string(&sv, v);
        when = sv.data ? sv.data : "";
    }
    const char *pattern = str_opt(call, "pattern", 1, NULL, &sp);
    const char *tz = str_opt(call, "timeZone", 2, NULL, &st);
    if (!tz)
        tz = call->st->t->time_zone[0] ? call->st->t->time_zone : NULL;
    const char *loc = locale_of(call, &sl);
    char *s = NULL;
    size_t len = 0;
    rc = omni_format_date(&s, &len, when, pattern, tz, loc);
    rc = formatted(call, rc, s, len);
done:
    omni__buf_free(&sv);
    omni__buf_free(&sp);
    omni__buf_free(&st);
    omni__buf_free(&sl);
    return rc;
}

/* Simple case mapping: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. */
static unsigned map_case(unsigned cp, int upper)
{
    if (upper) {
        if (cp >= 'a' && cp <= 'z')
            return cp - 32;
        if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7))
            return cp - 32;
        if (cp == 0xFF)
            return 0x178;
        if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 &&
            cp != 0x149 && cp != 0x17F) {
            int odd_lower = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
            if (odd_lower ? (cp % 2 == 0) : (cp % 2 == 1))
                return cp - 1;
            return cp;
        }
        if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2)
            return cp - 32;
        if (cp == 0x3C2)
            return 0x3A3;
        if (cp >= 0x430 && cp <= 0x44F)
            return cp - 32;
        if (cp >= 0x450 && cp <= 0x45F)
            return cp - 80;
        return cp;
    }
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    if (cp == 0x178)
        return 0xFF;
    if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 &&
        cp != 0x17F) {
        int odd_lower = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_lower ? (cp % 2 == 1) : (cp % 2 == 0))
            return cp + 1;
        return cp;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
        return cp + 32;
    if (cp >= 0x410 && cp <= 0x42F)
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 80;
    return cp;
}

static size_t put_cp(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int change_case(omni_helper_call *call, int upper)
{
    omni_buf in = OMNI_BUF_INIT, out = OMNI_BUF_INIT;
    if (text_of(call, arg(call, 0), &in))
        return call->st->status;
    const unsigned char *s = (const unsigned char *)(in.data ? in.data : "");
    for (size_t i = 0; i < in.len;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + k > in.len)
            k = in.len - i;
        unsigned cp = k == 1 ? c : c & (0xFFu >> (k + 1));
        for (size_t j = 1; j < k; j++)
            cp = (cp << 6) | (s[i + j] & 0x3Fu);
        char enc[4];
        if (upper && cp == 0xDF) {
            omni__buf_append(&out, "SS", 2); /* ß */
        } else {
            unsigned m = map_case(cp, upper);
            if (m == cp)
                omni__buf_append(&out, s + i, k);
            else
                omni__buf_append(&out, enc, put_cp(enc, m));
        }
        i += k;
    }
    int rc = out.failed ? omni__render_fail(call->st, OMNI_ENOMEM, "out of memory")
                        : omni_helper_return_string(call, out.data ? out.data : "", out.len);
    omni__buf_free(&in);
    omni__buf_free(&out);
    return rc ? call->st->status ? call->st->status : rc : 0;
}

static int h_uppercase(omni_helper_call *call)
{
    return change_case(call, 1);
}

static int h_lowercase(omni_helper_call *call)
{
    return change_case(call, 0);
}

/* truncate text length [suffix]: at most `length` characters (code points);
 * when cut, the text ends with `suffix` (default "") within that length. */
static int h_truncate(omni_helper_call *call)
{
    omni_buf in = OMNI_BUF_INIT, sfx = OMNI_BUF_INIT;
    if (text_of(call, arg(call, 0), &in) || text_of(call, arg(call, 2), &sfx)) {
        omni__buf_free(&in);
        omni__buf_free(&sfx);
        return call->st->status;
    }
    double lim = omni__js_tonumber(arg(call, 1));
    int rc = 0;
    if (call->argc < 2 || !(lim >= 0) || lim != floor(lim)) {
        rc = fail(call, OMNI_EHELPER, "needs a length: truncate text 160 [suffix]");
    } else {
        const char *s = in.data ? in.data : "";
        size_t chars = 0, sfx_chars = 0;
        for (size_t i = 0; i < in.len; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        for (size_t i = 0; i < sfx.len; i++)
            sfx_chars += ((unsigned char)sfx.data[i] & 0xC0) != 0x80;
        if ((double)chars <= lim) {
            rc = omni_helper_return_string(call, s, in.len);
        } else {
            /* room for the suffix: cut shorter; no room: cut at the length */
            int fits = (double)sfx_chars <= lim;
            size_t keep = fits ? (size_t)lim - sfx_chars : (size_t)lim;
            size_t i = 0, n = 0;
            while (i < in.len && n < keep) {
                i++;
                while (i < in.len && ((unsigned char)s[i] & 0xC0) == 0x80)
                    i++;
                n++;
            }
            omni_buf o = OMNI_BUF_INIT;
            omni__buf_append(&o, s, i);
            if (fits)
                omni__buf_append(&o, sfx.data ? sfx.data : "", sfx.len);
            rc = o.failed ? OMNI_ENOMEM
                          : omni_helper_return_string(call, o.data ? o.data : "", o.len);
            omni__buf_free(&o);
        }
        if (rc)
            rc = omni__render_fail(call->st, rc, "out of memory");
    }
    omni__buf_free(&in);
    omni__buf_free(&sfx);
    return rc;
}

/* default value fallback...: the first argument that is neither undefined,
 * null nor "", else the last one. */
static int h_default(omni_helper_call *call)
{
    for (size_t i = 0; i < call->argc; i++) {
        const omni_value *v = call->args[i];
        if (v->type == OMNI_VALUE_UNDEFINED || v->type == OMNI_VALUE_NULL ||
            (v->type == OMNI_VALUE_STRING && v->n == 0))
            continue;
        call->result = *v;
        return 0;
    }
    if (call->argc)
        call->result = *call->args[call->argc - 1];
    return 0;
}

/* A condition: its value, or in block form fn / inverse by it. */
static int condition(omni_helper_call *call, int value)
{
    if (call->is_block) {
        call->direct = 1;
        return omni__render_child(call, value ? call->fn : call->inverse, NULL, NULL, NULL, NULL);
    }
    call->result = value ? omni__true_value : omni__false_value;
    return 0;
}

static int h_eq(omni_helper_call *call)
{
    return condition(call, omni__js_strict_eq(arg(call, 0), arg(call, 1)));
}

static int h_ne(omni_helper_call *call)
{
    return condition(call, !omni__js_strict_eq(arg(call, 0), arg(call, 1)));
}

static int h_gt(omni_helper_call *call)
{
    return condition(call, omni__js_less(arg(call, 1), arg(call, 0)));
}

static int h_lt(omni_helper_call *call)
{
    return condition(call, omni__js_less(arg(call, 0), arg(call, 1)));
}

static int h_and(omni_helper_call *call)
{
    int r = call->argc > 0;
    for (size_t i = 0; r && i < call->argc; i++)
        r = omni_value_truthy(call->args[i]);
    return condition(call, r);
}

static int h_or(omni_helper_call *call)
{
    int r = 0;
    for (size_t i = 0; !r && i < call->argc; i++)
        r = omni_value_truthy(call->args[i]);
    return condition(call, r);
}

static int h_not(omni_helper_call *call)
{
    return condition(call, !omni_value_truthy(arg(call, 0)));
}

static const omni__builtin builtins[] = {
    {"if", h_if, 1, OMNI__B_IF},
    {"unless", h_unless, 1, OMNI__B_UNLESS},
    {"each", omni__builtin_each, 0, 0},
    {"with", h_with, 0, 0},
    {"lookup", h_lookup, 0, 0},
    {"log", h_log, 0, 0},
    {"formatNumber", h_format_number, 0, 0},
    {"formatCurrency", h_format_currency, 0, 0},
    {"formatDate", h_format_date, 0, 0},
    {"uppercase", h_uppercase, 0, 0},
    {"lowercase", h_lowercase, 0, 0},
    {"truncate", h_truncate, 0, 0},
    {"default", h_default, 1, 0},
    {"eq", h_eq, 0, 0},
    {"ne", h_ne, 0, 0},
    {"gt", h_gt, 0, 0},
    {"lt", h_lt, 0, 0},
    {"and", h_and, 0, 0},
    {"or", h_or, 0, 0},
    {"not", h_not, 0, 0},
};

const omni__builtin *omni__builtin_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strlen(builtins[i].name) == len && memcmp(builtins[i].name, name, len) == 0)
            return &builtins[i];
    return NULL;
}
