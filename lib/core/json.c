/* JSON: strict validation, parsing through cJSON, path lookups, a writer. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "error.h"
#include "json_scan.h"

/* ---- strict validation: lib/core/json_scan.c ----------------------------- */

int omni__json_validate(const char *text, size_t len, size_t max_bytes, const char *what)
{
    return omni__json_scan(text, len, max_bytes, what, NULL);
}

int omni__json_parse(cJSON **out, const char *text, size_t len, size_t max_bytes,
                     const char *what)
{
    *out = NULL;
    int rc = omni__json_validate(text, len, max_bytes, what);
    if (rc)
        return rc;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        /* The validator accepted it: cJSON refused a lone surrogate escape
         * or ran out of memory. */
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        char details[48];
        snprintf(details, sizeof(details), "{\"offset\":%zu}", off);
        return omni__err_details(OMNI_EJSON, details,
                                 "%s: invalid \\u escape or out of memory near offset %zu",
                                 what ? what : "JSON", off);
    }
    *out = root;
    return OMNI_OK;
}

/* ---- path lookups ------------------------------------------------------ */

cJSON *omni__json_at(const cJSON *root, const char *path)
{
    const cJSON *cur = root;
    const char *p = path;
    char seg[256];
    while (cur && *p) {
        size_t n = 0;
        int index_form = 0;
        if (*p == '[') {
            p++;
            index_form = 1;
            while (*p && *p != ']' && n < sizeof(seg) - 1)
                seg[n++] = *p++;
            if (*p != ']')
                return NULL;
            p++;
            if (*p && *p != '.' && *p != '[')
                return NULL;
        } else {
            while (*p && *p != '.' && *p != '[' && n < sizeof(seg) - 1)
                seg[n++] = *p++;
            if (*p && *p != '.' && *p != '[')
                return NULL; /* segment too long */
        }
        seg[n] = '\0';
        if (*p == '.')
            p++;
        if (cJSON_IsArray(cur)) {
            if (n == 0 || n > 9)
                return NULL;
            int idx = 0;
            for (size_t i = 0; i < n; i++) {
                if (seg[i] < '0' || seg[i] > '9')
                    return NULL;
                idx = idx * 10 + (seg[i] - '0');
            }
            cur = cJSON_GetArrayItem(cur, idx);
        } else if (cJSON_IsObject(cur) && !index_form) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
        } else {
            return NULL;
        }
    }
    return (cJSON *)cur;
}

const char *omni__json_str(const cJSON *root, const char *path)
{
    const cJSON *it = path && *path ? omni__json_at(root, path) : root;
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

#define OMNI__2P53 9007199254740992.0

int omni__json_int(const cJSON *root, const char *path, int64_t *out)
{
    const cJSON *it = path && *path ? omni__json_at(root, path) : root;
    if (!it || cJSON_IsNull(it))
        return OMNI_ENOTFOUND;
    if (!cJSON_IsNumber(it))
        return OMNI_EINVAL;
    double d = it->valuedouble;
    if (!(d >= -OMNI__2P53 && d <= OMNI__2P53) || d != floor(d))
        return OMNI_EINVAL;
    *out = (int64_t)d;
    return 0;
}

int omni__json_num(const cJSON *root, const char *path, double *out)
{
    const cJSON *it = path && *path ? omni__json_at(root, path) : root;
    if (!it || cJSON_IsNull(it))
        return OMNI_ENOTFOUND;
    if (!cJSON_IsNumber(it))
        return OMNI_EINVAL;
    *out = it->valuedouble;
    return 0;
}

int omni__json_bool(const cJSON *root, const char *path, int *out)
{
    const cJSON *it = path && *path ? omni__json_at(root, path) : root;
    if (!it || cJSON_IsNull(it))
        return OMNI_ENOTFOUND;
    if (!cJSON_IsBool(it))
        return OMNI_EINVAL;
    *out = cJSON_IsTrue(it);
    return 0;
}

int omni__json_id(const cJSON *item, char *buf, size_t cap)
{
    if (!item || cJSON_IsNull(item))
        return OMNI_ENOTFOUND;
    if (cJSON_IsString(item)) {
        size_t n = strlen(item->valuestring);
        if (n + 1 > cap)
            return OMNI_EINVAL;
        memcpy(buf, item->valuestring, n + 1);
        return 0;
    }
    int64_t v;
    if (omni__json_int(item, NULL, &v))
        return OMNI_EINVAL;
    int n = snprintf(buf, cap, "%lld", (long long)v);
    return n < 0 || (size_t)n >= cap ? OMNI_EINVAL : 0;
}

/* ---- writer ------------------------------------------------------------ */

static void w_sep(omni_buf *b)
{
    if (b->len == 0 || b->failed)
        return;
    char last = b->data[b->len - 1];
    if (last != '{' && last != '[' && last != ':')
        omni__buf_putc(b, ',');
}

void omni__json_w_obj_begin(omni_buf *b)
{
    w_sep(b);
    omni__buf_putc(b, '{');
}

void omni__json_w_obj_end(omni_buf *b)
{
    omni__buf_putc(b, '}');
}

void omni__json_w_arr_begin(omni_buf *b)
{
    w_sep(b);
    omni__buf_putc(b, '[');
}

void omni__json_w_arr_end(omni_buf *b)
{
    omni__buf_putc(b, ']');
}

/* The length of the prefix of s[0..n) that needs no escaping: no '"', '\\'
 * or control character; eight bytes at a time. */
static size_t plain_run(const char *s, size_t n)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        /* a zero byte in q or bs, or a byte below 0x20 in x */
        uint64_t hit = ((q - ones) & ~q) | ((bs - ones) & ~bs) | ((x - ones * 0x20) & ~x);
        if (hit & highs)
            break;
    }
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
        i++;
    }
    return i;
}

void omni__json_escape(omni_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        size_t run = plain_run(s + i, n - i);
        omni__buf_append(b, s + i, run);
        i += run;
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i++];
        char esc[6];
        switch (c) {
        case '"': omni__buf_append(b, "\\\"", 2); break;
        case '\\': omni__buf_append(b, "\\\\", 2); break;
        case '\n': omni__buf_append(b, "\\n", 2); break;
        case '\r': omni__buf_append(b, "\\r", 2); break;
        case '\t': omni__buf_append(b, "\\t", 2); break;
        case '\b': omni__buf_append(b, "\\b", 2); break;
        case '\f': omni__buf_append(b, "\\f", 2); break;
        default:
            esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            omni__buf_append(b, esc, 6);
        }
    }
}

void omni__json_w_raw_key(omni_buf *b, const char *quoted_key_colon, size_t n)
{
    w_sep(b);
    omni__buf_append(b, quoted_key_colon, n);
}

void omni__json_w_key(omni_buf *b, const char *key)
{
    w_sep(b);
    omni__buf_putc(b, '"');
    omni__json_escape(b, key, strlen(key));
    omni__buf_append(b, "\":", 2);
}

void omni__json_w_strn(omni_buf *b, const char *s, size_t n)
{
    w_sep(b);
    /* the usual case: nothing to escape, room in the buffer */
    if (!b->failed && !b->limit && n + 3 < b->cap - b->len && plain_run(s, n) == n) {
        char *d = b->data + b->len;
        d[0] = '"';
        memcpy(d + 1, s, n);
        d[n + 1] = '"';
        d[n + 2] = '\0';
        b->len += n + 2;
        return;
    }
    omni__buf_putc(b, '"');
    omni__json_escape(b, s, n);
    omni__buf_putc(b, '"');
}

void omni__json_w_str(omni_buf *b, const char *s)
{
    if (!s) {
        omni__json_w_null(b);
        return;
    }
    omni__json_w_strn(b, s, strlen(s));
}

void omni__json_w_int(omni_buf *b, int64_t v)
{
    w_sep(b);
    char d[24];
    size_t i = sizeof(d);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    omni__buf_append(b, d + i, sizeof(d) - i);
}

void omni__json_w_num(omni_buf *b, double v)
{
    if (v == floor(v) && fabs(v) < OMNI__2P53) {
        omni__json_w_int(b, (int64_t)v); /* -0.0 prints "0", as before */
        return;
    }
    w_sep(b);
    if (!isfinite(v)) {
        omni__buf_append(b, "null", 4);
        return;
    }
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    omni__buf_puts(b, tmp);
}

void omni__json_w_bool(omni_buf *b, int v)
{
    w_sep(b);
    omni__buf_puts(b, v ? "true" : "false");
}

void omni__json_w_null(omni_buf *b)
{
    w_sep(b);
    omni__buf_append(b, "null", 4);
}

void omni__json_w_raw(omni_buf *b, const char *json, size_t n)
{
    w_sep(b);
    omni__buf_append(b, json, n);
}

void omni__json_w_item(omni_buf *b, const cJSON *item)
{
    if (!item) {
        omni__json_w_null(b);
        return;
    }
    switch (item->type & 0xFF) {
    case cJSON_False: omni__json_w_bool(b, 0); break;
    case cJSON_True: omni__json_w_bool(b, 1); break;
    case cJSON_NULL: omni__json_w_null(b); break;
    case cJSON_Number: omni__json_w_num(b, item->valuedouble); break;
    case cJSON_String: omni__json_w_str(b, item->valuestring); break;
    case cJSON_Raw: omni__json_w_raw(b, item->valuestring, strlen(item->valuestring)); break;
    case cJSON_Array:
        omni__json_w_arr_begin(b);
        for (const cJSON *c = item->child; c; c = c->next)
            omni__json_w_item(b, c);
        omni__json_w_arr_end(b);
        break;
    case cJSON_Object:
        omni__json_w_obj_begin(b);
        for (const cJSON *c = item->child; c; c = c->next) {
            omni__json_w_key(b, c->string ? c->string : "");
            omni__json_w_item(b, c);
        }
        omni__json_w_obj_end(b);
        break;
    default: omni__json_w_null(b);
    }
}

int omni__json_print(char **out, size_t *out_len, const cJSON *item)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_item(&b, item);
    return omni__buf_detach(&b, out, out_len);
}
