/* Percent-encoding (RFC 3986) and application/x-www-form-urlencoded
 * (WHATWG URL Standard, section 5): table-driven encoders into omni_buf,
 * a strict decoder, the form parser into an ordered pair list, and the
 * public wrappers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/encoding.h>

#include "codec.h"
#include "error.h"
#include "json.h"

/* Byte classes, one bit per question:
 *   1  RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~
 *   2  kept by the WHATWG application/x-www-form-urlencoded serializer:
 *      A-Z a-z 0-9 * - . _ (every byte outside the form percent-encode set)
 *   4  '/'   8  ' '   16  '%'   32  '+' */
static const uint8_t pct_class[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     8,  0,  0,  0,  0, 16,  0,  0,  0,  0,  2, 32,  0,  3,  3,  4,
     3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  0,  0,  0,  0,  0,  0,
     0,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,
     3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  0,  0,  0,  0,  3,
     0,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,
     3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  0,  0,  0,  1,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};
static const int8_t hexval[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

enum { PC_UNRESERVED = 1, PC_FORM = 2, PC_SLASH = 4, PC_SPACE = 8 };

static const char hexdig[] = "0123456789ABCDEF";

void omni__url_encode_append(omni_buf *b, const char *s, size_t n, int mode)
{
    if (b->failed)
        return;
    const unsigned char *p = (const unsigned char *)s;
    unsigned keep = PC_UNRESERVED, plus = 0;
    if (mode == OMNI__PCT_FORM) {
        keep = PC_FORM;
        plus = PC_SPACE;
    } else if (mode == OMNI__PCT_PATH) {
        keep = PC_UNRESERVED | PC_SLASH;
    }
    /* Exact size first (two extra bytes per escaped byte), then one reserve. */
    size_t escaped = 0;
    for (size_t i = 0; i < n; i++)
        escaped += !(pct_class[p[i]] & (keep | plus));
    if (escaped > (SIZE_MAX - n) / 2) {
        b->failed = OMNI_ENOMEM;
        return;
    }
    size_t need = n + 2 * escaped;
    if (omni__buf_reserve(b, need))
        return;
    char *o = b->data + b->len;
    if (!escaped && !plus) {
        memcpy(o, p, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned c = p[i];
            unsigned f = pct_class[c];
            if (f & keep) {
                *o++ = (char)c;
            } else if (f & plus) {
                *o++ = '+';
            } else {
                o[0] = '%';
                o[1] = hexdig[c >> 4];
                o[2] = hexdig[c & 15];
                o += 3;
            }
        }
    }
    b->len += need;
    b->data[b->len] = '\0';
}

/* Why a percent-decode failed. */
typedef struct {
    size_t offset; /* of the '%' */
    int truncated; /* input ended inside the sequence */
} pct_error;

/* Decodes s[0..n) into dst (room for n bytes); '+' becomes ' ' when form
 * is set. Returns the decoded length, or SIZE_MAX with *err filled. */
static size_t pct_decode(char *dst, const char *s, size_t n, int form, pct_error *err)
{
    size_t i = 0, o = 0;
    while (i < n) {
        const char *q = memchr(s + i, '%', n - i);
        size_t run = (q ? (size_t)(q - s) : n) - i;
        if (form) {
            for (size_t k = 0; k < run; k++) {
                char c = s[i + k];
                dst[o + k] = c == '+' ? ' ' : c;
            }
        } else if (run) {
            memcpy(dst + o, s + i, run);
        }
        o += run;
        i += run;
        if (!q)
            break;
        int hi = n - i > 1 ? hexval[(unsigned char)s[i + 1]] : 0;
        int lo = n - i > 2 ? hexval[(unsigned char)s[i + 2]] : 0;
        if (n - i < 3 || (hi | lo) < 0) {
            err->offset = i;
            err->truncated = n - i < 3 && (hi | lo) >= 0;
            return SIZE_MAX;
        }
        dst[o++] = (char)(hi << 4 | lo);
        i += 3;
    }
    return o;
}

static int pct_fail(const char *what, const pct_error *e, size_t base)
{
    if (e->truncated)
        return omni__err(OMNI_EENCODING, "%s: truncated percent-encoding at byte offset %zu",
                         what, base + e->offset);
    return omni__err(OMNI_EENCODING,
                     "%s: invalid percent-encoding at byte offset %zu ('%%' must be followed "
                     "by two hex digits)",
                     what, base + e->offset);
}

int omni__url_decode_append(omni_buf *b, const char *s, size_t n, int form)
{
    if (omni__buf_reserve(b, n))
        return omni__buf_status(b);
    pct_error e;
    size_t m = pct_decode(b->data + b->len, s, n, form, &e);
    if (m == SIZE_MAX) {
        b->data[b->len] = '\0';
        return pct_fail(form ? "form data" : "percent-encoded text", &e, 0);
    }
    b->len += m;
    b->data[b->len] = '\0';
    return OMNI_OK;
}

/* ---- public percent-encoding ---------------------------------------------- */

static int text_args(char **out, size_t *out_len, const void *text, size_t len, const char *fn)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!text && len)
        return omni__err(OMNI_EINVAL, "%s: input is NULL", fn);
    if (len > OMNI_CODEC_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "%s: input of %zu bytes exceeds the limit of %u bytes",
                         fn, len, OMNI_CODEC_MAX_INPUT);
    return OMNI_OK;
}

int omni_url_encode(char **out, size_t *out_len, const char *text, size_t len)
{
    int rc = text_args(out, out_len, text, len, "omni_url_encode");
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__url_encode_append(&b, text, len, OMNI__PCT_RFC3986);
    return omni__buf_detach(&b, out, out_len);
}

int omni_url_decode(char **out, size_t *out_len, const char *text, size_t len)
{
    int rc = text_args(out, out_len, text, len, "omni_url_decode");
    if (rc)
        return rc;
    char *buf = malloc(len + 1);
    if (!buf)
        return omni__err(OMNI_ENOMEM, NULL);
    pct_error e;
    size_t m = pct_decode(buf, text, len, 0, &e);
    if (m == SIZE_MAX) {
        free(buf);
        return pct_fail("omni_url_decode", &e, 0);
    }
    buf[m] = '\0';
    *out = buf;
    if (out_len)
        *out_len = m;
    return OMNI_OK;
}

/* ---- form bodies ------------------------------------------------------------ */

/* Offset in raw[0..n) (successfully decoded) of the byte that produced
 * decoded byte number `k`. Error path only. */
static size_t raw_offset(const char *raw, size_t n, size_t k)
{
    size_t i = 0;
    while (i < n && k > 0) {
        i += raw[i] == '%' ? 3 : 1;
        k--;
    }
    return i;
}

/* Decodes one name or value of a form body into dst and checks UTF-8.
 * `base` is raw's offset in the body. Returns the length or SIZE_MAX after
 * setting the last error. */
static size_t form_component(char *dst, const char *raw, size_t n, size_t base,
                             const char *which)
{
    pct_error e;
    size_t m = pct_decode(dst, raw, n, 1, &e);
    if (m == SIZE_MAX) {
        pct_fail("form body", &e, base);
        return SIZE_MAX;
    }
    size_t bad;
    if (!omni__utf8_valid(dst, m, &bad)) {
        omni__err(OMNI_EENCODING, "form body: decoded %s is not UTF-8 at byte offset %zu (%s)",
                  which, base + raw_offset(raw, n, bad), omni__utf8_reason(dst, m, bad));
        return SIZE_MAX;
    }
    dst[m] = '\0';
    return m;
}

int omni__form_parse(omni__pairs *out, const char *body, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "form body: out is NULL");
    *out = (omni__pairs)OMNI__PAIRS_INIT;
    if (!body && len)
        return omni__err(OMNI_EINVAL, "form body: body is NULL");
    if (len > OMNI_CODEC_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "form body of %zu bytes exceeds the limit of %u bytes",
                         len, OMNI_CODEC_MAX_INPUT);
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        count += end > i;
        i = end + 1;
    }
    if (!count)
        return OMNI_OK;
    /* One block: the pair array, then every decoded string with its NUL
     * (decoding never grows, so len + 2 per pair is enough). */
    size_t items_size = count * sizeof(omni__pair);
    char *block = malloc(items_size + len + 2 * count);
    if (!block)
        return omni__err(OMNI_ENOMEM, NULL);
    omni__pair *items = (omni__pair *)(void *)block;
    char *storage = block + items_size;
    size_t used = 0, k = 0;
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - body) : len;
        if (end > i) {
            const char *seg = body + i;
            size_t seg_len = end - i;
            const char *eq = memchr(seg, '=', seg_len);
            size_t name_len = eq ? (size_t)(eq - seg) : seg_len;
            size_t value_off = eq ? i + name_len + 1 : end;
            omni__pair *pr = &items[k++];
            pr->name = storage + used;
            pr->name_len = form_component(pr->name, seg, name_len, i, "name");
            if (pr->name_len == SIZE_MAX)
                goto fail;
            used += pr->name_len + 1;
            pr->value = storage + used;
            pr->value_len = form_component(pr->value, body + value_off, end - value_off,
                                           value_off, "value");
            if (pr->value_len == SIZE_MAX)
                goto fail;
            used += pr->value_len + 1;
        }
        i = end + 1;
    }
    out->items = items;
    out->count = count;
    out->storage = storage;
    return OMNI_OK;
fail:
    free(block);
    return OMNI_EENCODING;
}

void omni__pairs_free(omni__pairs *p)
{
    if (!p)
        return;
    free(p->items);
    *p = (omni__pairs)OMNI__PAIRS_INIT;
}

const omni__pair *omni__pairs_find(const omni__pairs *p, const char *name, size_t name_len)
{
    if (!p || !name)
        return NULL;
    for (size_t i = 0; i < p->count; i++) {
        const omni__pair *pr = &p->items[i];
        if (pr->name_len == name_len && memcmp(pr->name, name, name_len) == 0)
            return pr;
    }
    return NULL;
}

const char *omni__pairs_get(const omni__pairs *p, const char *name)
{
    if (!name)
        return NULL;
    const omni__pair *pr = omni__pairs_find(p, name, strlen(name));
    return pr ? pr->value : NULL;
}

int omni_form_decode(char **out, size_t *out_len, const char *body, size_t len)
{
    int rc = text_args(out, out_len, body, len, "omni_form_decode");
    if (rc)
        return rc;
    omni__pairs pairs = OMNI__PAIRS_INIT;
    rc = omni__form_parse(&pairs, body, len);
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_arr_begin(&b);
    for (size_t i = 0; i < pairs.count; i++) {
        const omni__pair *pr = &pairs.items[i];
        omni__json_w_arr_begin(&b);
        omni__json_w_strn(&b, pr->name, pr->name_len);
        omni__json_w_strn(&b, pr->value, pr->value_len);
        omni__json_w_arr_end(&b);
    }
    omni__json_w_arr_end(&b);
    omni__pairs_free(&pairs);
    return omni__buf_detach(&b, out, out_len);
}

static const char *json_type(const cJSON *it)
{
    if (cJSON_IsString(it))
        return "a string";
    if (cJSON_IsNumber(it))
        return "a number";
    if (cJSON_IsBool(it))
        return "a boolean";
    if (cJSON_IsNull(it))
        return "null";
    if (cJSON_IsArray(it))
        return "an array";
    return "an object";
}

/* cJSON strings are NUL-terminated, so a \u0000 escape would silently cut
 * a name or value short; refuse it. Outside strings valid JSON has no
 * backslash, so a plain scan is exact. */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && n - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++;
    }
    return 0;
}

static void form_pair(omni_buf *b, const char *name, const char *value)
{
    if (b->len)
        omni__buf_putc(b, '&');
    omni__url_encode_append(b, name, strlen(name), OMNI__PCT_FORM);
    omni__buf_putc(b, '=');
    omni__url_encode_append(b, value, strlen(value), OMNI__PCT_FORM);
}

int omni_form_encode(char **out, size_t *out_len, const char *pairs_json, size_t len)
{
    int rc = text_args(out, out_len, pairs_json, len, "omni_form_encode");
    if (rc)
        return rc;
    cJSON *root = NULL;
    rc = omni__json_parse(&root, pairs_json, len, OMNI_CODEC_MAX_INPUT, "form pairs");
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    if (has_nul_escape(pairs_json, len)) {
        rc = omni__err(OMNI_EINVAL, "form pairs: names and values may not contain U+0000");
    } else if (cJSON_IsArray(root)) {
        size_t i = 0;
        for (const cJSON *el = root->child; el; el = el->next, i++) {
            const cJSON *name = cJSON_IsArray(el) ? el->child : NULL;
            const cJSON *value = name ? name->next : NULL;
            if (!cJSON_IsString(name) || !cJSON_IsString(value) || value->next) {
                rc = omni__err(OMNI_EINVAL,
                               "form pairs: element %zu must be a [name, value] array of two "
                               "strings, not %s",
                               i, cJSON_IsArray(el) ? "an array of another shape" : json_type(el));
                break;
            }
            form_pair(&b, name->valuestring, value->valuestring);
        }
    } else if (cJSON_IsObject(root)) {
        for (const cJSON *m = root->child; m; m = m->next) {
            if (!cJSON_IsString(m)) {
                rc = omni__err(OMNI_EINVAL,
                               "form pairs: the value of \"%.64s\" must be a string, not %s",
                               m->string, json_type(m));
                break;
            }
            form_pair(&b, m->string, m->valuestring);
        }
    } else {
        rc = omni__err(OMNI_EINVAL,
                       "form pairs must be an array of [name, value] pairs or an object of "
                       "string values, not %s",
                       json_type(root));
    }
    cJSON_Delete(root);
    if (rc) {
        omni__buf_free(&b);
        return rc;
    }
    return omni__buf_detach(&b, out, out_len);
}
