/* HTTP request and response objects: validation, accessors, JSON forms. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "transport_internal.h"

#define METHOD_MAX 32
/* Longest base64 text of a maximal body. */
#define BODY_B64_MAX (((OMNI_HTTP_MAX_BODY + 2u) / 3u) * 4u)

typedef struct header {
    char *name; /* one allocation: name NUL value NUL */
    char *value;
} header;

typedef struct hlist {
    header *items;
    size_t count;
    size_t cap;
    /* The block of a request made by omni__http_request_make: the items array
     * and header strings inside [blk_lo, blk_hi) are part of it and are not
     * freed one by one (0, 0: none). */
    uintptr_t blk_lo, blk_hi;
} hlist;

typedef struct body {
    char *data; /* NULL when empty; else NUL-terminated */
    size_t len;
    size_t cap;
} body;

struct omni_http_request {
    char method[METHOD_MAX + 1];
    char *url;
    hlist headers;
    body body;
    uint32_t timeout_ms;
};

struct omni_http_response {
    int status;
    hlist headers;
    body body;
};

/* ---- small helpers ------------------------------------------------------ */

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = ascii_lower((unsigned char)*a), cb = ascii_lower((unsigned char)*b);
        if (ca != cb || !ca)
            return ca - cb;
    }
}

/* RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
 * "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
static const unsigned char tchar[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                                 /* 0x00..0x1F */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20..0x2F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30..0x3F */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40..0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50..0x5F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60..0x6F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70..0x7F */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
#undef R16
};

static int is_tchar(unsigned char c)
{
    return tchar[c];
}

/* 1 when p points into the request block of h (see hlist). */
static int in_block(const hlist *h, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    return a >= h->blk_lo && a < h->blk_hi;
}

static const char *body_ptr(const body *b, size_t *len)
{
    if (len)
        *len = b->len;
    return b->data ? b->data : "";
}

static void body_free(body *b)
{
    free(b->data);
    *b = (body){NULL, 0, 0};
}

/* Replaces the body with a copy of data; the old body is kept on error. */
static int body_set(body *b, const void *data, size_t len, const char *what)
{
    if (!data && len)
        return omni__err(OMNI_EINVAL, "%s body is NULL with a length of %zu", what, len);
    if (len > OMNI_HTTP_MAX_BODY)
        return omni__err(OMNI_ETOOLARGE, "%s body is %zu bytes, over the limit of %u", what, len,
                         OMNI_HTTP_MAX_BODY);
    char *p = NULL;
    if (len) {
        p = malloc(len + 1);
        if (!p)
            return omni__err(OMNI_ENOMEM, NULL);
        memcpy(p, data, len);
        p[len] = '\0';
    }
    free(b->data);
    b->data = p;
    b->len = len;
    b->cap = len ? len + 1 : 0;
    return OMNI_OK;
}

static int body_append(body *b, const void *data, size_t len, const char *what)
{
    if (!data && len)
        return omni__err(OMNI_EINVAL, "%s data is NULL with a length of %zu", what, len);
    if (len == 0)
        return OMNI_OK;
    if (len > OMNI_HTTP_MAX_BODY || b->len > OMNI_HTTP_MAX_BODY - len)
        return omni__err(OMNI_ETOOLARGE, "%s body would exceed the limit of %u bytes", what,
                         OMNI_HTTP_MAX_BODY);
    size_t need = b->len + len + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return omni__err(OMNI_ENOMEM, NULL);
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return OMNI_OK;
}

static void hlist_free(hlist *h)
{
    for (size_t i = 0; i < h->count; i++)
        if (!in_block(h, h->items[i].name))
            free(h->items[i].name);
    if (!in_block(h, h->items))
        free(h->items);
    *h = (hlist){NULL, 0, 0, 0, 0};
}

static int check_header(const char *name, const char *value, const char *what)
{
    if (!name || !value)
        return omni__err(OMNI_EINVAL, "%s header name or value is NULL", what);
    size_t nlen = strlen(name);
    if (nlen == 0)
        return omni__err(OMNI_EINVAL, "%s header name is empty", what);
    size_t vlen = strlen(value);
    if (nlen > OMNI_HTTP_MAX_HEADER || vlen > OMNI_HTTP_MAX_HEADER - nlen)
        return omni__err(OMNI_ETOOLARGE, "%s header is %zu bytes, over the limit of %u", what,
                         nlen + vlen, OMNI_HTTP_MAX_HEADER);
    for (size_t i = 0; i < nlen; i++)
        if (!is_tchar((unsigned char)name[i]))
            return omni__err(OMNI_EINVAL,
                             "%s header name has a character that is not allowed in a token "
                             "(byte 0x%02x at offset %zu)",
                             what, (unsigned char)name[i], i);
    if (memchr(value, '\r', vlen) || memchr(value, '\n', vlen))
        /* The value is not quoted: it may hold a secret. */
        return omni__err(OMNI_EINVAL, "%s header \"%.64s\" has a CR or LF in its value",
                         what, name);
    return OMNI_OK;
}

int omni__http_check_header(const char *name, const char *value)
{
    return check_header(name, value, "request");
}

static int hlist_add(hlist *h, const char *name, const char *value, const char *what)
{
    int rc = check_header(name, value, what);
    if (rc)
        return rc;
    if (h->count >= OMNI_HTTP_MAX_HEADERS)
        return omni__err(OMNI_ETOOLARGE, "%s has more than %d headers", what,
                         OMNI_HTTP_MAX_HEADERS);
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        header *p;
        if (in_block(h, h->items)) {
            p = malloc(cap * sizeof(*p));
            if (p)
                memcpy(p, h->items, h->count * sizeof(*p));
        } else {
            p = realloc(h->items, cap * sizeof(*p));
        }
        if (!p)
            return omni__err(OMNI_ENOMEM, NULL);
        h->items = p;
        h->cap = cap;
    }
    size_t nlen = strlen(name), vlen = strlen(value);
    char *mem = malloc(nlen + vlen + 2);
    if (!mem)
        return omni__err(OMNI_ENOMEM, NULL);
    memcpy(mem, name, nlen + 1);
    memcpy(mem + nlen + 1, value, vlen + 1);
    h->items[h->count].name = mem;
    h->items[h->count].value = mem + nlen + 1;
    h->count++;
    return OMNI_OK;
}

static int hlist_copy(hlist *dst, const hlist *src)
{
    hlist tmp = {NULL, 0, 0, 0, 0};
    for (size_t i = 0; i < src->count; i++) {
        int rc = hlist_add(&tmp, src->items[i].name, src->items[i].value, "HTTP");
        if (rc) {
            hlist_free(&tmp);
            return rc;
        }
    }
    *dst = tmp;
    return OMNI_OK;
}

static const char *hlist_get(const hlist *h, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < h->count; i++)
        if (ascii_casecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    return NULL;
}

/* 1 when some name occurs twice (ASCII case-insensitively). */
static int hlist_has_repeats(const hlist *h)
{
    for (size_t i = 1; i < h->count; i++)
        for (size_t j = 0; j < i; j++)
            if (ascii_casecmp(h->items[i].name, h->items[j].name) == 0)
                return 1;
    return 0;
}

/* ---- method and URL ----------------------------------------------------- */

static int check_method(const char *method)
{
    if (!method)
        return omni__err(OMNI_EINVAL, "HTTP method is NULL");
    size_t n = strlen(method);
    if (n == 0)
        return omni__err(OMNI_EINVAL, "HTTP method is empty");
    if (n > METHOD_MAX)
        return omni__err(OMNI_EINVAL, "HTTP method is longer than %d characters", METHOD_MAX);
    for (size_t i = 0; i < n; i++)
        if (method[i] < 'A' || method[i] > 'Z')
            return omni__err(OMNI_EINVAL,
                             "HTTP method must be upper-case letters (\"GET\", \"POST\", ...); "
                             "byte 0x%02x at offset %zu is not",
                             (unsigned char)method[i], i);
    return OMNI_OK;
}

size_t omni__http_scheme_len(const char *url)
{
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(schemes[k]), i = 0;
        while (i < n && url[i] && ascii_lower((unsigned char)url[i]) == schemes[k][i])
            i++;
        if (i == n)
            return n;
    }
    return 0;
}

/* Length of "http://", "https://", "smtp://" or "smtps://" (ASCII
 * case-insensitive) at the start of url, or 0: the schemes a request may
 * have (SMTP ones for mail submission, see omni/http.h). */
static size_t request_scheme_len(const char *url)
{
    size_t n = omni__http_scheme_len(url);
    static const char *const mail[] = {"smtp://", "smtps://"};
    for (size_t k = 0; !n && k < 2; k++) {
        size_t len = strlen(mail[k]), i = 0;
        while (i < len && url[i] && ascii_lower((unsigned char)url[i]) == mail[k][i])
            i++;
        if (i == len)
            n = len;
    }
    return n;
}

size_t omni__http_url_bad_byte(const char *url, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)url[i] > 0x20 && (unsigned char)url[i] < 0x7F)
        i++;
    return i;
}

static int is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
}

/* Validates an absolute http(s) or smtp(s) URL (RFC 3986 / RFC 9110 section 4.2). */
static int check_url(const char *url)
{
    if (!url)
        return omni__err(OMNI_EINVAL, "URL is NULL");
    size_t n = strlen(url);
    if (n > OMNI_HTTP_MAX_URL)
        return omni__err(OMNI_ETOOLARGE, "URL is %zu bytes, over the limit of %u", n,
                         OMNI_HTTP_MAX_URL);
    size_t i = omni__http_url_bad_byte(url, n);
    if (i < n)
        /* The URL itself is not quoted: its query may hold a key. */
        return omni__err(OMNI_EINVAL,
                         "URL has a space, control or non-ASCII byte (0x%02x) at offset %zu; "
                         "percent-encode it",
                         (unsigned char)url[i], i);
    size_t s = request_scheme_len(url);
    if (!s)
        return omni__err(OMNI_EINVAL, "URL must be absolute and start with http://, https://, "
                                      "smtp:// or smtps://");
    const char *auth = url + s;
    size_t alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen))
        /* RFC 9110 section 4.2.4: no userinfo in http(s) URIs. */
        return omni__err(OMNI_EINVAL, "URL must not carry userinfo (user:password@)");
    const char *host_end = auth + alen;
    const char *port = NULL;
    if (alen && auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close || close == auth + 1)
            return omni__err(OMNI_EINVAL, "URL has a malformed IPv6 host");
        for (const char *p = auth + 1; p < close; p++)
            if (!((*p >= '0' && *p <= '9') || (ascii_lower((unsigned char)*p) >= 'a' &&
                                               ascii_lower((unsigned char)*p) <= 'f') ||
                  *p == ':' || *p == '.'))
                return omni__err(OMNI_EINVAL, "URL has a malformed IPv6 host");
        if (close + 1 < host_end) {
            if (close[1] != ':')
                return omni__err(OMNI_EINVAL, "URL has characters after its IPv6 host");
            port = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        const char *hend = colon ? colon : host_end;
        if (hend == auth)
            return omni__err(OMNI_EINVAL, "URL has no host");
        for (const char *p = auth; p < hend; p++)
            if (!is_host_char((unsigned char)*p))
                return omni__err(OMNI_EINVAL, "URL host has a character that is not allowed "
                                              "(0x%02x)",
                                 (unsigned char)*p);
        if (colon)
            port = colon + 1;
    }
    if (port) {
        long v = 0;
        if (port == host_end)
            return omni__err(OMNI_EINVAL, "URL has an empty port");
        for (const char *p = port; p < host_end; p++) {
            if (*p < '0' || *p > '9' || v > 65535)
                return omni__err(OMNI_EINVAL, "URL has an invalid port");
            v = v * 10 + (*p - '0');
        }
        if (v < 1 || v > 65535)
            return omni__err(OMNI_EINVAL, "URL port must be 1..65535");
    }
    return OMNI_OK;
}

void omni__http_url_host(const char *url, char *buf, size_t cap)
{
    if (!cap)
        return;
    size_t s = url ? request_scheme_len(url) : 0;
    if (!s) {
        snprintf(buf, cap, "?");
        return;
    }
    const char *auth = url + s;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    if (at) {
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    if (alen == 0) {
        snprintf(buf, cap, "?");
        return;
    }
    snprintf(buf, cap, "%.*s", (int)(alen > 255 ? 255 : alen), auth);
}

/* ---- requests ----------------------------------------------------------- */

int omni_http_request_new(omni_http_request **out, const char *method, const char *url)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    int rc = check_method(method);
    if (rc)
        return rc;
    rc = check_url(url);
    if (rc)
        return rc;
    /* one block: the object and its URL (see hlist) */
    size_t ul = strlen(url), total = sizeof(omni_http_request) + ul + 1;
    char *blk = malloc(total);
    if (!blk)
        return omni__err(OMNI_ENOMEM, NULL);
    omni_http_request *r = (omni_http_request *)(void *)blk;
    memset(r, 0, sizeof(*r));
    r->url = blk + sizeof(*r);
    memcpy(r->url, url, ul + 1);
    r->headers.blk_lo = (uintptr_t)blk;
    r->headers.blk_hi = (uintptr_t)blk + total;
    memcpy(r->method, method, strlen(method) + 1);
    *out = r;
    return OMNI_OK;
}

int omni__http_request_make(omni_http_request **out, const char *method, const char *url,
                            size_t url_len, const char *url_tail, size_t tail_len,
                            const omni__http_field *fields, size_t count, char *data,
                            size_t body_len, size_t body_cap)
{
    enum { SPARE = 4 }; /* room for headers added later without a new array */
    *out = NULL;
    size_t mlen = strlen(method);
    size_t strs = url_len + tail_len + 1;
    for (size_t i = 0; i < count; i++)
        strs += strlen(fields[i].name) + fields[i].value_len + 2;
    size_t total = sizeof(omni_http_request) + (count + SPARE) * sizeof(header) + strs;
    char *blk = malloc(total);
    if (!blk)
        return omni__err(OMNI_ENOMEM, NULL);
    omni_http_request *r = (omni_http_request *)(void *)blk;
    memset(r, 0, sizeof(*r));
    header *items = (header *)(void *)(blk + sizeof(*r));
    char *s = (char *)(items + count + SPARE);
    memcpy(r->method, method, mlen + 1);
    r->url = s;
    memcpy(s, url, url_len);
    memcpy(s + url_len, url_tail, tail_len);
    s += url_len + tail_len;
    *s++ = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t nl = strlen(fields[i].name), vl = fields[i].value_len;
        items[i].name = s;
        memcpy(s, fields[i].name, nl + 1);
        s += nl + 1;
        items[i].value = s;
        memcpy(s, fields[i].value, vl);
        s[vl] = '\0';
        s += vl + 1;
    }
    r->headers = (hlist){items, count, count + SPARE, (uintptr_t)blk, (uintptr_t)blk + total};
    r->body = (body){body_len ? data : NULL, body_len, body_len ? body_cap : 0};
    if (!body_len)
        free(data);
    *out = r;
    return OMNI_OK;
}

void omni_http_request_free(omni_http_request *request)
{
    if (!request)
        return;
    if (!in_block(&request->headers, request->url))
        free(request->url);
    hlist_free(&request->headers);
    body_free(&request->body);
    free(request);
}

int omni_http_request_add_header(omni_http_request *request, const char *name,
                                 const char *value)
{
    if (!request)
        return omni__err(OMNI_EINVAL, "request is NULL");
    return hlist_add(&request->headers, name, value, "request");
}

int omni_http_request_set_body(omni_http_request *request, const void *data, size_t len)
{
    if (!request)
        return omni__err(OMNI_EINVAL, "request is NULL");
    return body_set(&request->body, data, len, "request");
}

int omni_http_request_set_timeout_ms(omni_http_request *request, uint32_t timeout_ms)
{
    if (!request)
        return omni__err(OMNI_EINVAL, "request is NULL");
    request->timeout_ms = timeout_ms;
    return OMNI_OK;
}

const char *omni_http_request_method(const omni_http_request *request)
{
    return request ? request->method : NULL;
}

const char *omni_http_request_url(const omni_http_request *request)
{
    return request ? request->url : NULL;
}

size_t omni_http_request_header_count(const omni_http_request *request)
{
    return request ? request->headers.count : 0;
}

const char *omni_http_request_header_name(const omni_http_request *request, size_t i)
{
    return request && i < request->headers.count ? request->headers.items[i].name : NULL;
}

const char *omni_http_request_header_value(const omni_http_request *request, size_t i)
{
    return request && i < request->headers.count ? request->headers.items[i].value : NULL;
}

const char *omni_http_request_header(const omni_http_request *request, const char *name)
{
    return request ? hlist_get(&request->headers, name) : NULL;
}

const char *omni_http_request_body(const omni_http_request *request, size_t *len)
{
    if (!request) {
        if (len)
            *len = 0;
        return "";
    }
    return body_ptr(&request->body, len);
}

uint32_t omni_http_request_timeout_ms(const omni_http_request *request)
{
    return request ? request->timeout_ms : 0;
}

int omni__http_request_clone(omni_http_request **out, const omni_http_request *src)
{
    *out = NULL;
    omni_http_request *r = calloc(1, sizeof(*r));
    if (!r)
        return omni__err(OMNI_ENOMEM, NULL);
    memcpy(r->method, src->method, sizeof(r->method));
    r->timeout_ms = src->timeout_ms;
    r->url = strdup(src->url);
    int rc = r->url ? OMNI_OK : omni__err(OMNI_ENOMEM, NULL);
    if (!rc)
        rc = hlist_copy(&r->headers, &src->headers);
    if (!rc)
        rc = body_set(&r->body, src->body.data, src->body.len, "request");
    if (rc) {
        omni_http_request_free(r);
        return rc;
    }
    *out = r;
    return OMNI_OK;
}

void omni__http_request_truncate_headers(omni_http_request *request, size_t count)
{
    hlist *h = &request->headers;
    while (h->count > count) {
        h->count--;
        if (!in_block(h, h->items[h->count].name))
            free(h->items[h->count].name);
    }
}

/* ---- responses ---------------------------------------------------------- */

int omni_http_response_new(omni_http_response **out)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

void omni_http_response_free(omni_http_response *response)
{
    if (!response)
        return;
    hlist_free(&response->headers);
    body_free(&response->body);
    free(response);
}

int omni_http_response_set_status(omni_http_response *response, int status)
{
    if (!response)
        return omni__err(OMNI_EINVAL, "response is NULL");
    if (status < 100 || status > 599)
        return omni__err(OMNI_EINVAL, "HTTP status %d is not in 100..599", status);
    response->status = status;
    return OMNI_OK;
}

int omni_http_response_add_header(omni_http_response *response, const char *name,
                                  const char *value)
{
    if (!response)
        return omni__err(OMNI_EINVAL, "response is NULL");
    return hlist_add(&response->headers, name, value, "response");
}

int omni_http_response_set_body(omni_http_response *response, const void *data, size_t len)
{
    if (!response)
        return omni__err(OMNI_EINVAL, "response is NULL");
    return body_set(&response->body, data, len, "response");
}

int omni_http_response_append_body(omni_http_response *response, const void *data, size_t len)
{
    if (!response)
        return omni__err(OMNI_EINVAL, "response is NULL");
    return body_append(&response->body, data, len, "response");
}

int omni_http_response_status(const omni_http_response *response)
{
    return response ? response->status : 0;
}

size_t omni_http_response_header_count(const omni_http_response *response)
{
    return response ? response->headers.count : 0;
}

const char *omni_http_response_header_name(const omni_http_response *response, size_t i)
{
    return response && i < response->headers.count ? response->headers.items[i].name : NULL;
}

const char *omni_http_response_header_value(const omni_http_response *response, size_t i)
{
    return response && i < response->headers.count ? response->headers.items[i].value : NULL;
}

const char *omni_http_response_header(const omni_http_response *response, const char *name)
{
    return response ? hlist_get(&response->headers, name) : NULL;
}

const char *omni_http_response_body(const omni_http_response *response, size_t *len)
{
    if (!response) {
        if (len)
            *len = 0;
        return "";
    }
    return body_ptr(&response->body, len);
}

void omni__http_response_clear(omni_http_response *response)
{
    hlist_free(&response->headers);
    body_free(&response->body);
    response->status = 0;
}

int omni__http_response_copy(omni_http_response *dst, const omni_http_response *src)
{
    hlist h;
    int rc = hlist_copy(&h, &src->headers);
    if (rc)
        return rc;
    body b = {NULL, 0, 0};
    rc = body_set(&b, src->body.data, src->body.len, "response");
    if (rc) {
        hlist_free(&h);
        return rc;
    }
    omni__http_response_clear(dst);
    dst->status = src->status;
    dst->headers = h;
    dst->body = b;
    return OMNI_OK;
}

void omni__http_response_move(omni_http_response *dst, omni_http_response *src)
{
    omni__http_response_clear(dst);
    dst->status = src->status;
    dst->headers = src->headers;
    dst->body = src->body;
    src->status = 0;
    src->headers = (hlist){NULL, 0, 0, 0, 0};
    src->body = (body){NULL, 0, 0};
}

int omni__http_response_extend_last_header(omni_http_response *response, const char *more,
                                           size_t len)
{
    hlist *h = &response->headers;
    if (h->count == 0)
        return omni__err(OMNI_EINVAL, "header continuation line without a header");
    header *last = &h->items[h->count - 1];
    size_t nlen = strlen(last->name), vlen = strlen(last->value);
    if (memchr(more, '\0', len) || memchr(more, '\r', len) || memchr(more, '\n', len))
        return omni__err(OMNI_EINVAL, "header \"%.64s\" has a forbidden byte in its value",
                         last->name);
    if (len > OMNI_HTTP_MAX_HEADER || nlen + vlen + 1 + len > OMNI_HTTP_MAX_HEADER)
        return omni__err(OMNI_ETOOLARGE, "response header is over the limit of %u bytes",
                         OMNI_HTTP_MAX_HEADER);
    char *mem = malloc(nlen + vlen + len + 3);
    if (!mem)
        return omni__err(OMNI_ENOMEM, NULL);
    memcpy(mem, last->name, nlen + 1);
    memcpy(mem + nlen + 1, last->value, vlen);
    mem[nlen + 1 + vlen] = ' ';
    memcpy(mem + nlen + 2 + vlen, more, len);
    mem[nlen + 2 + vlen + len] = '\0';
    free(last->name);
    last->name = mem;
    last->value = mem + nlen + 1;
    return OMNI_OK;
}

/* ---- JSON forms --------------------------------------------------------- */

int omni__http_json_check_nul(const char *json, size_t len, const char *what)
{
    /* The text was validated as JSON: a backslash only occurs in strings,
     * so a linear scan of escapes is exact. */
    for (size_t i = 0; i + 1 < len; i++) {
        if (json[i] != '\\')
            continue;
        if (json[i + 1] == 'u' && i + 5 < len && memcmp(json + i + 2, "0000", 4) == 0)
            return omni__err(OMNI_EJSON,
                             "%s: strings must not contain \\u0000 (at offset %zu); use "
                             "\"bodyBase64\" for binary bodies",
                             what, i);
        i++; /* skip the escaped character */
    }
    return OMNI_OK;
}

static void write_headers(omni_buf *b, const hlist *h)
{
    omni__json_w_key(b, "headers");
    if (hlist_has_repeats(h)) {
        omni__json_w_arr_begin(b);
        for (size_t i = 0; i < h->count; i++) {
            omni__json_w_arr_begin(b);
            omni__json_w_str(b, h->items[i].name);
            omni__json_w_str(b, h->items[i].value);
            omni__json_w_arr_end(b);
        }
        omni__json_w_arr_end(b);
        return;
    }
    omni__json_w_obj_begin(b);
    for (size_t i = 0; i < h->count; i++) {
        omni__json_w_key(b, h->items[i].name);
        omni__json_w_str(b, h->items[i].value);
    }
    omni__json_w_obj_end(b);
}

static void write_body(omni_buf *b, const body *bd)
{
    if (bd->len == 0)
        return;
    /* Text when it is UTF-8 without NUL (cJSON strings end at a NUL). */
    if (!memchr(bd->data, '\0', bd->len) && omni__utf8_valid(bd->data, bd->len, NULL)) {
        omni__json_w_key(b, "body");
        omni__json_w_strn(b, bd->data, bd->len);
        return;
    }
    omni__json_w_key(b, "bodyBase64");
    omni__buf_putc(b, '"');
    omni__base64_append(b, bd->data, bd->len, 0);
    omni__buf_putc(b, '"');
}

void omni__http_request_write_json(omni_buf *b, const omni_http_request *r)
{
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "method");
    omni__json_w_str(b, r->method);
    omni__json_w_key(b, "url");
    omni__json_w_str(b, r->url);
    write_headers(b, &r->headers);
    write_body(b, &r->body);
    if (r->timeout_ms) {
        omni__json_w_key(b, "timeoutMs");
        omni__json_w_int(b, r->timeout_ms);
    }
    omni__json_w_obj_end(b);
}

void omni__http_response_write_json(omni_buf *b, const omni_http_response *r)
{
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "status");
    omni__json_w_int(b, r->status);
    write_headers(b, &r->headers);
    write_body(b, &r->body);
    omni__json_w_obj_end(b);
}

int omni_http_request_to_json(char **out, size_t *out_len, const omni_http_request *request)
{
    if (!out || !request)
        return omni__err(OMNI_EINVAL, "out or request is NULL");
    omni_buf b = OMNI_BUF_INIT;
    omni__http_request_write_json(&b, request);
    return omni__buf_detach(&b, out, out_len);
}

int omni_http_response_to_json(char **out, size_t *out_len, const omni_http_response *response)
{
    if (!out || !response)
        return omni__err(OMNI_EINVAL, "out or response is NULL");
    if (response->status == 0)
        return omni__err(OMNI_EINVAL, "response has no status");
    omni_buf b = OMNI_BUF_INIT;
    omni__http_response_write_json(&b, response);
    return omni__buf_detach(&b, out, out_len);
}

/* Reads "headers" (an object of strings or an array of [name, value]). */
static int read_headers(hlist *h, const cJSON *item, const char *what)
{
    if (cJSON_IsObject(item)) {
        for (const cJSON *c = item->child; c; c = c->next) {
            if (!cJSON_IsString(c))
                return omni__err(OMNI_EINVAL, "%s: header \"%.64s\" must be a string", what,
                                 c->string ? c->string : "");
            int rc = hlist_add(h, c->string ? c->string : "", c->valuestring, what);
            if (rc)
                return rc;
        }
        return OMNI_OK;
    }
    if (cJSON_IsArray(item)) {
        size_t i = 0;
        for (const cJSON *c = item->child; c; c = c->next, i++) {
            const cJSON *n = cJSON_IsArray(c) ? c->child : NULL;
            const cJSON *v = n ? n->next : NULL;
            if (!cJSON_IsString(n) || !cJSON_IsString(v) || v->next)
                return omni__err(OMNI_EINVAL, "%s: headers[%zu] must be a [name, value] pair "
                                              "of strings",
                                 what, i);
            int rc = hlist_add(h, n->valuestring, v->valuestring, what);
            if (rc)
                return rc;
        }
        return OMNI_OK;
    }
    return omni__err(OMNI_EINVAL, "%s: \"headers\" must be an object or an array of pairs",
                     what);
}

static int read_body(body *bd, const cJSON *text, const cJSON *b64, const char *what)
{
    if (text && b64)
        return omni__err(OMNI_EINVAL, "%s: \"body\" and \"bodyBase64\" are exclusive", what);
    if (text) {
        if (!cJSON_IsString(text))
            return omni__err(OMNI_EINVAL, "%s: \"body\" must be a string", what);
        return body_set(bd, text->valuestring, strlen(text->valuestring), what);
    }
    if (b64) {
        if (!cJSON_IsString(b64))
            return omni__err(OMNI_EINVAL, "%s: \"bodyBase64\" must be a string", what);
        size_t n = strlen(b64->valuestring);
        if (n > BODY_B64_MAX)
            return omni__err(OMNI_ETOOLARGE, "%s: \"bodyBase64\" decodes to more than %u bytes",
                             what, OMNI_HTTP_MAX_BODY);
        uint8_t *dec = NULL;
        size_t dec_len = 0;
        int rc = omni_base64_decode(&dec, &dec_len, b64->valuestring, n);
        if (rc) {
            char msg[512];
            snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
            return omni__err(rc, "%s: \"bodyBase64\": %s", what, msg);
        }
        rc = body_set(bd, dec, dec_len, what);
        omni_free(dec);
        return rc;
    }
    return OMNI_OK;
}

/* Looks up the object's members by name, refusing unknown and repeated
 * keys. names[] is NULL-terminated; found[i] receives the member or NULL. */
static int members(const cJSON *obj, const char *const *names, const cJSON **found,
                   const char *what)
{
    size_t k = 0;
    while (names[k])
        found[k++] = NULL;
    for (const cJSON *c = obj->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t i = 0;
        while (names[i] && strcmp(names[i], key) != 0)
            i++;
        if (!names[i])
            return omni__err(OMNI_EINVAL, "%s: unknown key \"%.64s\"", what, key);
        if (found[i])
            return omni__err(OMNI_EINVAL, "%s: key \"%s\" appears twice", what, key);
        found[i] = c;
    }
    return OMNI_OK;
}

static int request_from_cjson(omni_http_request **out, const cJSON *root)
{
    static const char *const names[] = {"method", "url", "headers", "body", "bodyBase64",
                                        "timeoutMs", NULL};
    const char *what = "HTTP request JSON";
    const cJSON *m[6];
    if (!cJSON_IsObject(root))
        return omni__err(OMNI_EINVAL, "%s must be an object", what);
    int rc = members(root, names, m, what);
    if (rc)
        return rc;
    if (!cJSON_IsString(m[0]) || !cJSON_IsString(m[1]))
        return omni__err(OMNI_EINVAL, "%s: \"method\" and \"url\" are required strings", what);
    int64_t timeout = 0;
    if (m[5]) {
        rc = omni__json_int(m[5], NULL, &timeout);
        if (rc || timeout < 0 || timeout > (int64_t)UINT32_MAX)
            return omni__err(OMNI_EINVAL, "%s: \"timeoutMs\" must be an integer in 0..%u", what,
                             UINT32_MAX);
    }
    omni_http_request *r;
    rc = omni_http_request_new(&r, m[0]->valuestring, m[1]->valuestring);
    if (rc)
        return rc;
    r->timeout_ms = (uint32_t)timeout;
    if (m[2])
        rc = read_headers(&r->headers, m[2], what);
    if (!rc)
        rc = read_body(&r->body, m[3], m[4], what);
    if (rc) {
        omni_http_request_free(r);
        return rc;
    }
    *out = r;
    return OMNI_OK;
}

int omni__http_response_from_cjson(omni_http_response **out, const cJSON *root)
{
    static const char *const names[] = {"status", "headers", "body", "bodyBase64", NULL};
    const char *what = "HTTP response JSON";
    const cJSON *m[4];
    *out = NULL;
    if (!cJSON_IsObject(root))
        return omni__err(OMNI_EINVAL, "%s must be an object", what);
    int rc = members(root, names, m, what);
    if (rc)
        return rc;
    int64_t status = 0;
    if (!m[0] || omni__json_int(m[0], NULL, &status) || status < 100 || status > 599)
        return omni__err(OMNI_EINVAL, "%s: \"status\" must be an integer in 100..599", what);
    omni_http_response *r;
    rc = omni_http_response_new(&r);
    if (rc)
        return rc;
    r->status = (int)status;
    if (m[1])
        rc = read_headers(&r->headers, m[1], what);
    if (!rc)
        rc = read_body(&r->body, m[2], m[3], what);
    if (rc) {
        omni_http_response_free(r);
        return rc;
    }
    *out = r;
    return OMNI_OK;
}

static int parse_doc(cJSON **root, const char *json, size_t len, const char *what)
{
    int rc = omni__json_parse(root, json, len, OMNI__HTTP_JSON_MAX, what);
    if (rc)
        return rc;
    rc = omni__http_json_check_nul(json, len, what);
    if (rc) {
        cJSON_Delete(*root);
        *root = NULL;
    }
    return rc;
}

int omni_http_request_from_json(omni_http_request **out, const char *json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (!json && len)
        return omni__err(OMNI_EINVAL, "JSON text is NULL");
    cJSON *root;
    int rc = parse_doc(&root, json, len, "HTTP request JSON");
    if (rc)
        return rc;
    rc = request_from_cjson(out, root);
    cJSON_Delete(root);
    return rc;
}

int omni_http_response_from_json(omni_http_response **out, const char *json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (!json && len)
        return omni__err(OMNI_EINVAL, "JSON text is NULL");
    cJSON *root;
    int rc = parse_doc(&root, json, len, "HTTP response JSON");
    if (rc)
        return rc;
    rc = omni__http_response_from_cjson(out, root);
    cJSON_Delete(root);
    return rc;
}
