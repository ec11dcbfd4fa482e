/* AWS Signature Version 4 (AWS4-HMAC-SHA256): canonical request, string to
 * sign, signing key, Authorization header and presigned URLs
 * (include/omni/aws.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <omni/aws.h>
#include <omni/http.h>

#include "aws/sigv4_internal.h"
#include "core/buf.h"
#include "core/crypto_internal.h"
#include "core/error.h"
#include "core/tz.h"
#include "transport/transport_internal.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define KEY_ID_MAX 128
#define SECRET_MAX 128
#define TOKEN_MAX 4096
#define SCOPE_NAME_MAX 64
#define EXPIRES_MAX 604800u
/* 9999-12-31T23:59:59.999Z in Unix milliseconds. */
#define NOW_MS_MAX 253402300799999LL
/* Headers omni_aws_sigv4_sign may add: Host, X-Amz-Date,
 * X-Amz-Content-Sha256, X-Amz-Security-Token, Authorization. */
#define MAX_ADDED 5

/* ---- small helpers ------------------------------------------------------ */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = lower((unsigned char)*a), cb = lower((unsigned char)*b);
        if (ca != cb || !ca)
            return ca - cb;
    }
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static void hex_lower(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void put_pct(omni_buf *b, unsigned char c)
{
    static const char digits[] = "0123456789ABCDEF";
    char t[3] = {'%', digits[c >> 4], digits[c & 15]};
    omni__buf_append(b, t, 3);
}

/* Appends s[0..n) encoded once with the unreserved set, escapes already in s
 * taken as the bytes they stand for (so "%41" and "A" give "A", "%2f" gives
 * "%2F"); a '%' not followed by two hex digits is itself encoded. A literal
 * '/' is kept when keep_slash is set. */
static void pct_normalize(omni_buf *b, const char *s, size_t n, int keep_slash)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            c = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 +
                                hexval((unsigned char)s[i + 2]));
            i += 2;
            if (is_unreserved(c))
                omni__buf_putc(b, (char)c);
            else
                put_pct(b, c);
            continue;
        }
        if (is_unreserved(c) || (keep_slash && c == '/'))
            omni__buf_putc(b, (char)c);
        else
            put_pct(b, c);
    }
}

/* Appends s[0..n) percent-encoded as it stands (a '%' becomes "%25"). */
static void pct_encode(omni_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c))
            omni__buf_putc(b, (char)c);
        else
            put_pct(b, c);
    }
}

static int trim_eq(const char *v, const char *want)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == strlen(want) && memcmp(v, want, n) == 0;
}

/* ---- argument checks ---------------------------------------------------- */

static int check_scope_name(const char *s, const char *what)
{
    if (!s)
        return omni__err(OMNI_EINVAL, "%s is NULL", what);
    size_t n = strnlen(s, SCOPE_NAME_MAX + 1);
    if (n == 0 || n > SCOPE_NAME_MAX)
        return omni__err(OMNI_EINVAL, "%s must be 1..%d bytes", what, SCOPE_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return omni__err(OMNI_EINVAL, "%s \"%s\" may only hold a-z, 0-9 and '-'", what, s);
    return OMNI_OK;
}

static int check_credentials(const omni_aws_credentials *cred)
{
    if (!cred)
        return omni__err(OMNI_EINVAL, "credentials are NULL");
    if (cred->version != OMNI_AWS_CREDENTIALS_VERSION)
        return omni__err(OMNI_EVERSION, "credentials version %u is not supported (expected %u)",
                         cred->version, OMNI_AWS_CREDENTIALS_VERSION);
    const char *id = cred->access_key_id;
    if (!id)
        return omni__err(OMNI_EINVAL, "access key id is NULL");
    size_t n = strnlen(id, KEY_ID_MAX + 1);
    if (n == 0 || n > KEY_ID_MAX)
        return omni__err(OMNI_EINVAL, "access key id must be 1..%d bytes", KEY_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= '0' && id[i] <= '9')))
            return omni__err(OMNI_EINVAL, "access key id may only hold letters and digits");
    if (!cred->secret_access_key)
        return omni__err(OMNI_EINVAL, "secret access key is NULL");
    n = strnlen(cred->secret_access_key, SECRET_MAX + 1);
    if (n == 0 || n > SECRET_MAX)
        return omni__err(OMNI_EINVAL, "secret access key must be 1..%d bytes", SECRET_MAX);
    if (cred->session_token) {
        const char *t = cred->session_token;
        n = strnlen(t, TOKEN_MAX + 1);
        if (n == 0 || n > TOKEN_MAX)
            return omni__err(OMNI_EINVAL, "session token must be 1..%d bytes", TOKEN_MAX);
        if (strpbrk(t, "\r\n"))
            return omni__err(OMNI_EINVAL, "session token must not contain CR or LF");
    }
    return OMNI_OK;
}

static int check_common(const omni_aws_credentials *cred, const char *region,
                        const char *service)
{
    int rc = check_credentials(cred);
    if (!rc)
        rc = check_scope_name(region, "region");
    if (!rc)
        rc = check_scope_name(service, "service");
    return rc;
}

/* ---- time --------------------------------------------------------------- */

/* amz_date: "YYYYMMDDTHHMMSSZ" (17 bytes with the NUL). */
static int format_amz_date(char amz_date[17], int64_t now_ms)
{
    if (now_ms < 0 || now_ms > NOW_MS_MAX)
        return omni__err(OMNI_ETIME, "now_ms %lld is outside the years 1970..9999",
                         (long long)now_ms);
    omni__civil c;
    omni__civil_from_seconds(now_ms / 1000, &c);
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ", (int)c.year, c.month, c.day,
             c.hour, c.minute, c.second);
    memcpy(amz_date, tmp, 17);
    return OMNI_OK;
}

static int digits_value(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Checks an X-Amz-Date header value (spaces around it allowed) and copies
 * it into amz_date. */
static int parse_amz_date(char amz_date[17], const char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int ok = n == 16 && value[8] == 'T' && value[15] == 'Z';
    int y = ok ? digits_value(value, 4) : -1, mo = ok ? digits_value(value + 4, 2) : -1;
    int d = ok ? digits_value(value + 6, 2) : -1, hh = ok ? digits_value(value + 9, 2) : -1;
    int mi = ok ? digits_value(value + 11, 2) : -1, ss = ok ? digits_value(value + 13, 2) : -1;
    ok = ok && y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && hh >= 0 && hh < 24 && mi >= 0 &&
         mi < 60 && ss >= 0 && ss < 60;
    if (ok) {
        int max = mo == 2 && omni__is_leap_year(y) ? 29 : mdays[mo - 1];
        ok = d <= max;
    }
    if (!ok)
        return omni__err(OMNI_EINVAL, "the request's X-Amz-Date header is not of the form "
                                      "YYYYMMDD'T'HHMMSS'Z'");
    memcpy(amz_date, value, 16);
    amz_date[16] = '\0';
    return OMNI_OK;
}

/* ---- URL parts ---------------------------------------------------------- */

typedef struct url_parts {
    const char *authority;
    size_t authority_len;
    const char *path;
    size_t path_len;
    const char *query; /* after '?', NULL when there is no '?' */
    size_t query_len;
    size_t before_fragment; /* length of the URL without "#..." */
    int https;
} url_parts;

static void split_url(url_parts *u, const char *url)
{
    size_t s = omni__http_scheme_len(url);
    u->https = s == 8;
    u->authority = url + s;
    u->authority_len = strcspn(u->authority, "/?#");
    u->path = u->authority + u->authority_len;
    u->path_len = strcspn(u->path, "?#");
    const char *q = u->path + u->path_len;
    u->query = *q == '?' ? q + 1 : NULL;
    u->query_len = u->query ? strcspn(u->query, "#") : 0;
    u->before_fragment = strcspn(url, "#");
}

/* The Host header value for a URL: its authority, without the port when it
 * is the scheme's default. */
static void url_host(omni_buf *b, const url_parts *u)
{
    const char *a = u->authority;
    size_t n = u->authority_len;
    const char *colon = NULL;
    const char *close = n && a[0] == '[' ? memchr(a, ']', n) : NULL;
    const char *from = close ? close : a;
    colon = memchr(from, ':', n - (size_t)(from - a));
    if (colon) {
        long port = 0;
        for (const char *p = colon + 1; p < a + n && port <= 65535; p++)
            port = port * 10 + (*p - '0');
        if (port == (u->https ? 443 : 80))
            n = (size_t)(colon - a);
    }
    omni__buf_append(b, a, n);
}

/* ---- canonical parts ---------------------------------------------------- */

/* Canonical URI. Default: the path normalized (empty and "." segments
 * dropped, ".." removing the previous one, RFC 3986 section 5.2.4) and
 * each segment percent-encoded once more, as AWS requires for every
 * service but S3. s3: the path as it stands, encoded once (escapes kept
 * as the bytes they stand for), not normalized. */
static void canonical_uri(omni_buf *b, const char *path, size_t n, int s3)
{
    if (n == 0) {
        omni__buf_putc(b, '/');
        return;
    }
    if (s3) {
        pct_normalize(b, path, n, 1);
        return;
    }
    /* A trailing '/', "." or ".." leaves the result ending in '/'. */
    const char *last = path + n;
    while (last > path && last[-1] != '/')
        last--;
    size_t last_len = (size_t)(path + n - last);
    int trailing = last_len == 0 || (last_len == 1 && last[0] == '.') ||
                   (last_len == 2 && last[0] == '.' && last[1] == '.');
    size_t base = b->len;
    size_t i = 0;
    while (i < n) {
        if (path[i] == '/') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < n && path[i] != '/')
            i++;
        size_t len = i - start;
        const char *seg = path + start;
        if (len == 1 && seg[0] == '.')
            continue;
        if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            /* Drop the last segment written (with its '/'). */
            if (!b->failed && b->len > base) {
                size_t k = b->len;
                while (k > base && b->data[k - 1] != '/')
                    k--;
                b->len = k > base ? k - 1 : base;
                b->data[b->len] = '\0';
            }
            continue;
        }
        omni__buf_putc(b, '/');
        pct_encode(b, seg, len);
    }
    if (b->failed)
        return;
    if (b->len == base || trailing)
        omni__buf_putc(b, '/');
}

typedef struct qpair {
    size_t name_off, name_len, value_off, value_len;
} qpair;

typedef struct qsort_pair {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} qsort_pair;

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

static int qpair_cmp(const void *pa, const void *pb)
{
    const qsort_pair *a = pa, *b = pb;
    int c = bytes_cmp(a->name, a->name_len, b->name, b->name_len);
    return c ? c : bytes_cmp(a->value, a->value_len, b->value, b->value_len);
}

/* Canonical query string: the URL's parameters plus `extra` (raw
 * name/value strings, for presigning), each name and value encoded, sorted
 * by name then value, joined with '&'. */
static int canonical_query(omni_buf *b, const char *q, size_t qlen, const omni__sigv4_pair *extra,
                           size_t nextra)
{
    size_t cap = nextra + 1;
    for (size_t i = 0; i < qlen; i++)
        cap += q[i] == '&';
    qpair *pairs = malloc(cap * sizeof(*pairs));
    qsort_pair *sorted = malloc(cap * sizeof(*sorted));
    omni_buf enc = OMNI_BUF_INIT;
    if (!pairs || !sorted) {
        free(pairs);
        free(sorted);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    size_t count = 0, i = 0;
    while (q && i <= qlen) {
        size_t start = i;
        while (i < qlen && q[i] != '&')
            i++;
        size_t len = i - start;
        i++;
        if (len == 0)
            continue;
        const char *item = q + start;
        const char *eq = memchr(item, '=', len);
        size_t nlen = eq ? (size_t)(eq - item) : len;
        qpair *p = &pairs[count++];
        p->name_off = enc.len;
        pct_normalize(&enc, item, nlen, 0);
        p->name_len = enc.len - p->name_off;
        p->value_off = enc.len;
        if (eq)
            pct_normalize(&enc, eq + 1, len - nlen - 1, 0);
        p->value_len = enc.len - p->value_off;
    }
    for (size_t k = 0; k < nextra; k++) {
        qpair *p = &pairs[count++];
        p->name_off = enc.len;
        pct_encode(&enc, extra[k].name, strlen(extra[k].name));
        p->name_len = enc.len - p->name_off;
        p->value_off = enc.len;
        pct_encode(&enc, extra[k].value, strlen(extra[k].value));
        p->value_len = enc.len - p->value_off;
    }
    int rc = omni__buf_status(&enc);
    if (!rc && count) {
        for (size_t k = 0; k < count; k++)
            sorted[k] = (qsort_pair){enc.data + pairs[k].name_off, pairs[k].name_len,
                                     enc.data + pairs[k].value_off, pairs[k].value_len};
        qsort(sorted, count, sizeof(*sorted), qpair_cmp);
        for (size_t k = 0; k < count; k++) {
            if (k)
                omni__buf_putc(b, '&');
            omni__buf_append(b, sorted[k].name, sorted[k].name_len);
            omni__buf_putc(b, '=');
            omni__buf_append(b, sorted[k].value, sorted[k].value_len);
        }
    }
    omni__buf_free(&enc);
    free(pairs);
    free(sorted);
    return rc;
}

/* Headers never signed: they are set or changed by clients and proxies. */
static int header_excluded(const char *name)
{
    static const char *const names[] = {
        "authorization", "user-agent",         "expect",           "content-length",
        "connection",    "keep-alive",         "proxy-connection", "proxy-authenticate",
        "te",            "proxy-authorization", "trailer",          "transfer-encoding",
        "upgrade",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (casecmp(name, names[i]) == 0)
            return 1;
    return 0;
}

typedef struct hsort {
    const char *name;
    const char *value;
    size_t index;
} hsort;

static int hsort_cmp(const void *pa, const void *pb)
{
    const hsort *a = pa, *b = pb;
    int c = casecmp(a->name, b->name);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Appends a header value trimmed, inner runs of spaces and tabs folded. */
static void put_trimmed(omni_buf *b, const char *v)
{
    int pending = 0, any = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            pending = any;
            continue;
        }
        if (pending)
            omni__buf_putc(b, ' ');
        pending = 0;
        any = 1;
        omni__buf_putc(b, *v);
    }
}

static void put_lower(omni_buf *b, const char *s)
{
    for (; *s; s++)
        omni__buf_putc(b, (char)lower((unsigned char)*s));
}

/* Canonical headers ("name:value\n" each) into b and the signed header list
 * into signed_list. */
static int canonical_headers(omni_buf *b, omni_buf *signed_list, const omni__sigv4_pair *h,
                             size_t n)
{
    hsort *s = malloc((n ? n : 1) * sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (!header_excluded(h[i].name))
            s[count++] = (hsort){h[i].name, h[i].value, i};
    qsort(s, count, sizeof(*s), hsort_cmp);
    for (size_t i = 0; i < count;) {
        size_t j = i + 1;
        while (j < count && casecmp(s[j].name, s[i].name) == 0)
            j++;
        if (i)
            omni__buf_putc(signed_list, ';');
        put_lower(signed_list, s[i].name);
        put_lower(b, s[i].name);
        omni__buf_putc(b, ':');
        for (size_t k = i; k < j; k++) {
            if (k > i)
                omni__buf_putc(b, ',');
            put_trimmed(b, s[k].value);
        }
        omni__buf_putc(b, '\n');
        i = j;
    }
    free(s);
    return OMNI_OK;
}

/* ---- the signing pipeline ----------------------------------------------- */

int omni__aws_sigv4_signing_key(uint8_t out[32], const char *secret, const char *date8,
                                const char *region, const char *service)
{
    uint8_t k[SECRET_MAX + 4];
    uint8_t k1[32], k2[32];
    size_t n = strlen(secret);
    if (n > SECRET_MAX)
        return omni__err(OMNI_EINVAL, "secret access key must be 1..%d bytes", SECRET_MAX);
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, n);
    int rc = omni__hmac_sha256(k1, k, n + 4, date8, strlen(date8));
    if (!rc)
        rc = omni__hmac_sha256(k2, k1, 32, region, strlen(region));
    if (!rc)
        rc = omni__hmac_sha256(k1, k2, 32, service, strlen(service));
    if (!rc)
        rc = omni__hmac_sha256(out, k1, 32, "aws4_request", 12);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    if (rc) {
        OPENSSL_cleanse(out, 32);
        return omni__err(OMNI_ECRYPTO, "HMAC-SHA256 failed while deriving the signing key");
    }
    return OMNI_OK;
}

int omni__aws_sigv4_build(omni__sigv4_result *r, const omni__sigv4_input *in)
{
    memset(r, 0, sizeof(*r));
    omni_buf creq = OMNI_BUF_INIT, sl = OMNI_BUF_INIT, sts = OMNI_BUF_INIT;
    url_parts u;
    split_url(&u, in->url);
    omni__buf_puts(&creq, in->method);
    omni__buf_putc(&creq, '\n');
    canonical_uri(&creq, u.path, u.path_len, in->s3);
    omni__buf_putc(&creq, '\n');
    int rc = canonical_query(&creq, u.query, u.query_len, in->query_extra, in->nquery_extra);
    omni__buf_putc(&creq, '\n');
    if (!rc)
        rc = canonical_headers(&creq, &sl, in->headers, in->nheaders);
    if (!rc) {
        omni__buf_putc(&creq, '\n');
        omni__buf_append(&creq, sl.data ? sl.data : "", sl.len);
        omni__buf_putc(&creq, '\n');
        omni__buf_puts(&creq, in->payload_hash);
        rc = omni__buf_status(&creq);
    }
    if (!rc)
        rc = omni__buf_status(&sl);
    uint8_t digest[32];
    char hex[65];
    if (!rc && omni__sha256(digest, creq.data, creq.len))
        rc = omni__err(OMNI_ECRYPTO, "SHA-256 failed");
    if (!rc) {
        hex_lower(hex, digest, 32);
        omni__buf_printf(&sts, ALGORITHM "\n%s\n%.8s/%s/%s/aws4_request\n%s", in->amz_date,
                         in->amz_date, in->region, in->service, hex);
        rc = omni__buf_status(&sts);
    }
    if (!rc) {
        uint8_t key[32], sig[32];
        char date8[9];
        memcpy(date8, in->amz_date, 8);
        date8[8] = '\0';
        rc = omni__aws_sigv4_signing_key(key, in->secret, date8, in->region, in->service);
        if (!rc && omni__hmac_sha256(sig, key, 32, sts.data, sts.len))
            rc = omni__err(OMNI_ECRYPTO, "HMAC-SHA256 failed");
        OPENSSL_cleanse(key, sizeof(key));
        if (!rc)
            hex_lower(r->signature, sig, 32);
    }
    if (rc) {
        omni__buf_free(&creq);
        omni__buf_free(&sl);
        omni__buf_free(&sts);
        return rc;
    }
    r->canonical = creq.data;
    r->canonical_len = creq.len;
    r->string_to_sign = sts.data;
    r->string_len = sts.len;
    r->signed_headers = sl.data;
    r->signed_len = sl.len;
    return OMNI_OK;
}

void omni__aws_sigv4_result_free(omni__sigv4_result *r)
{
    free(r->canonical);
    free(r->string_to_sign);
    free(r->signed_headers);
    memset(r, 0, sizeof(*r));
}

/* ---- requests ----------------------------------------------------------- */

/* What signing a request needs: its date, the headers to add, all headers
 * (the request's and the added ones), the payload hash. */
typedef struct plan {
    char amz_date[17];
    char payload_hex[65];
    const char *payload_hash;
    omni_buf host;
    omni__sigv4_pair added[MAX_ADDED];
    size_t nadded;
    omni__sigv4_pair *all;
    size_t nall;
} plan;

static void plan_free(plan *p)
{
    omni__buf_free(&p->host);
    free(p->all);
    p->all = NULL;
}

static int count_header(const omni_http_request *req, const char *name, const char **first)
{
    int n = 0;
    size_t count = omni_http_request_header_count(req);
    *first = NULL;
    for (size_t i = 0; i < count; i++)
        if (casecmp(omni_http_request_header_name(req, i), name) == 0) {
            if (!n)
                *first = omni_http_request_header_value(req, i);
            n++;
        }
    return n;
}

static int make_plan(plan *p, const omni_http_request *req, const omni_aws_credentials *cred,
                     const char *region, const char *service, int64_t now_ms, unsigned flags)
{
    memset(p, 0, sizeof(*p));
    if (!req)
        return omni__err(OMNI_EINVAL, "request is NULL");
    int rc = check_common(cred, region, service);
    if (rc)
        return rc;
    if (flags & ~(OMNI_AWS_SIGV4_S3 | OMNI_AWS_SIGV4_UNSIGNED_PAYLOAD))
        return omni__err(OMNI_EINVAL, "unknown flags 0x%x", flags & ~3u);
    const char *v;
    if (count_header(req, "Authorization", &v))
        return omni__err(OMNI_EINVAL, "the request is already signed (it has an Authorization "
                                      "header)");
    int n = count_header(req, "X-Amz-Date", &v);
    if (n > 1)
        return omni__err(OMNI_EINVAL, "the request has more than one X-Amz-Date header");
    rc = n ? parse_amz_date(p->amz_date, v) : format_amz_date(p->amz_date, now_ms);
    if (rc)
        return rc;
    int add_date = n == 0;
    n = count_header(req, "Host", &v);
    if (n > 1)
        return omni__err(OMNI_EINVAL, "the request has more than one Host header");
    int add_host = n == 0;
    if (add_host) {
        url_parts u;
        split_url(&u, omni_http_request_url(req));
        url_host(&p->host, &u);
        if ((rc = omni__buf_status(&p->host)) != 0)
            return rc;
    }
    int add_token = 0;
    if (cred->session_token) {
        n = count_header(req, "X-Amz-Security-Token", &v);
        if (n > 1 || (n == 1 && !trim_eq(v, cred->session_token))) {
            plan_free(p);
            return omni__err(OMNI_EINVAL, "the request's X-Amz-Security-Token header differs "
                                          "from the credentials' session token");
        }
        add_token = n == 0;
    }
    int add_sha = 0;
    size_t body_len;
    const char *body = omni_http_request_body(req, &body_len);
    if (flags & (OMNI_AWS_SIGV4_S3 | OMNI_AWS_SIGV4_UNSIGNED_PAYLOAD)) {
        n = count_header(req, "X-Amz-Content-Sha256", &v);
        if (n > 1) {
            plan_free(p);
            return omni__err(OMNI_EINVAL, "the request has more than one X-Amz-Content-Sha256 "
                                          "header");
        }
        add_sha = n == 0;
        if (n) {
            /* The request's own value is the payload hash (S3 streaming
             * forms and precomputed hashes). */
            while (*v == ' ' || *v == '\t')
                v++;
            size_t len = strlen(v);
            while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (len == 0 || len > 64) {
                plan_free(p);
                return omni__err(OMNI_EINVAL, "the request's X-Amz-Content-Sha256 header must "
                                              "be 1..64 bytes");
            }
            memcpy(p->payload_hex, v, len);
            p->payload_hex[len] = '\0';
            p->payload_hash = p->payload_hex;
        }
    }
    if (!p->payload_hash) {
        if (flags & OMNI_AWS_SIGV4_UNSIGNED_PAYLOAD) {
            p->payload_hash = UNSIGNED_PAYLOAD;
        } else {
            uint8_t d[32];
            if (omni__sha256(d, body, body_len)) {
                plan_free(p);
                return omni__err(OMNI_ECRYPTO, "SHA-256 failed");
            }
            hex_lower(p->payload_hex, d, 32);
            p->payload_hash = p->payload_hex;
        }
    }
    if (add_host)
        p->added[p->nadded++] = (omni__sigv4_pair){"Host", p->host.data};
    if (add_date)
        p->added[p->nadded++] = (omni__sigv4_pair){"X-Amz-Date", p->amz_date};
    if (add_sha)
        p->added[p->nadded++] = (omni__sigv4_pair){"X-Amz-Content-Sha256", p->payload_hash};
    if (add_token)
        p->added[p->nadded++] = (omni__sigv4_pair){"X-Amz-Security-Token", cred->session_token};
    size_t count = omni_http_request_header_count(req);
    p->all = malloc((count + p->nadded + 1) * sizeof(*p->all));
    if (!p->all) {
        plan_free(p);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    for (size_t i = 0; i < count; i++)
        p->all[p->nall++] = (omni__sigv4_pair){omni_http_request_header_name(req, i),
                                         omni_http_request_header_value(req, i)};
    for (size_t i = 0; i < p->nadded; i++)
        p->all[p->nall++] = p->added[i];
    return OMNI_OK;
}

static int build_for_request(omni__sigv4_result *r, const plan *p, const omni_http_request *req,
                             const omni_aws_credentials *cred, const char *region,
                             const char *service, unsigned flags)
{
    omni__sigv4_input in = {0};
    in.method = omni_http_request_method(req);
    in.url = omni_http_request_url(req);
    in.headers = p->all;
    in.nheaders = p->nall;
    in.payload_hash = p->payload_hash;
    in.amz_date = p->amz_date;
    in.region = region;
    in.service = service;
    in.secret = cred->secret_access_key;
    in.s3 = (flags & OMNI_AWS_SIGV4_S3) != 0;
    return omni__aws_sigv4_build(r, &in);
}

int omni_aws_sigv4_canonical(char **canonical_request, size_t *canonical_len,
                             char **string_to_sign, size_t *string_len,
                             const omni_http_request *request, const omni_aws_credentials *cred,
                             const char *region, const char *service, int64_t now_ms,
                             unsigned flags)
{
    if (canonical_request)
        *canonical_request = NULL;
    if (canonical_len)
        *canonical_len = 0;
    if (string_to_sign)
        *string_to_sign = NULL;
    if (string_len)
        *string_len = 0;
    plan p;
    int rc = make_plan(&p, request, cred, region, service, now_ms, flags);
    if (rc)
        return rc;
    omni__sigv4_result r;
    rc = build_for_request(&r, &p, request, cred, region, service, flags);
    plan_free(&p);
    if (rc)
        return rc;
    if (canonical_request) {
        *canonical_request = r.canonical;
        r.canonical = NULL;
        if (canonical_len)
            *canonical_len = r.canonical_len;
    } else if (canonical_len) {
        *canonical_len = r.canonical_len;
    }
    if (string_to_sign) {
        *string_to_sign = r.string_to_sign;
        r.string_to_sign = NULL;
        if (string_len)
            *string_len = r.string_len;
    } else if (string_len) {
        *string_len = r.string_len;
    }
    omni__aws_sigv4_result_free(&r);
    return OMNI_OK;
}

int omni_aws_sigv4_sign(omni_http_request *request, const omni_aws_credentials *cred,
                        const char *region, const char *service, int64_t now_ms, unsigned flags)
{
    plan p;
    int rc = make_plan(&p, request, cred, region, service, now_ms, flags);
    if (rc)
        return rc;
    omni__sigv4_result r;
    rc = build_for_request(&r, &p, request, cred, region, service, flags);
    if (rc) {
        plan_free(&p);
        return rc;
    }
    omni_buf auth = OMNI_BUF_INIT;
    omni__buf_printf(&auth, ALGORITHM " Credential=%s/%.8s/%s/%s/aws4_request, "
                                      "SignedHeaders=%s, Signature=%s",
                     cred->access_key_id, p.amz_date, region, service,
                     r.signed_headers ? r.signed_headers : "", r.signature);
    omni__aws_sigv4_result_free(&r);
    rc = omni__buf_status(&auth);
    size_t before = omni_http_request_header_count(request);
    if (!rc && before + p.nadded + 1 > OMNI_HTTP_MAX_HEADERS)
        rc = omni__err(OMNI_ETOOLARGE, "signing would take the request over %d headers",
                       OMNI_HTTP_MAX_HEADERS);
    if (!rc && auth.len + strlen("Authorization") > OMNI_HTTP_MAX_HEADER)
        rc = omni__err(OMNI_ETOOLARGE, "the Authorization header would be over %u bytes",
                       OMNI_HTTP_MAX_HEADER);
    for (size_t i = 0; !rc && i < p.nadded; i++)
        rc = omni_http_request_add_header(request, p.added[i].name, p.added[i].value);
    if (!rc)
        rc = omni_http_request_add_header(request, "Authorization", auth.data);
    if (rc)
        omni__http_request_truncate_headers(request, before);
    omni__buf_free(&auth);
    plan_free(&p);
    return rc;
}

/* ---- presigned URLs ----------------------------------------------------- */

static int has_presign_param(const url_parts *u)
{
    static const char *const names[] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                        "X-Amz-Date",      "X-Amz-Expires",
                                        "X-Amz-SignedHeaders", "X-Amz-Signature",
                                        "X-Amz-Security-Token"};
    size_t i = 0;
    while (u->query && i < u->query_len) {
        size_t start = i;
        while (i < u->query_len && u->query[i] != '&')
            i++;
        const char *item = u->query + start;
        size_t len = i - start, nlen = strcspn(item, "=&#");
        nlen = nlen < len ? nlen : len;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (strlen(names[k]) == nlen && memcmp(item, names[k], nlen) == 0)
                return 1;
        i++;
    }
    return 0;
}

int omni_aws_sigv4_presign(char **out, size_t *out_len, const char *method, const char *url,
                           const omni_aws_credentials *cred, const char *region,
                           const char *service, int64_t now_ms, uint32_t expires_s)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    int rc = check_common(cred, region, service);
    if (rc)
        return rc;
    if (expires_s < 1 || expires_s > EXPIRES_MAX)
        return omni__err(OMNI_EINVAL, "expires_s must be 1..%u seconds", EXPIRES_MAX);
    omni_http_request *tmp;
    rc = omni_http_request_new(&tmp, method, url); /* checks the method and the URL */
    if (rc)
        return rc;
    omni_http_request_free(tmp);
    url_parts u;
    split_url(&u, url);
    if (has_presign_param(&u))
        return omni__err(OMNI_EINVAL, "the URL already has X-Amz-* presigning parameters");
    char amz_date[17];
    rc = format_amz_date(amz_date, now_ms);
    if (rc)
        return rc;
    omni_buf host = OMNI_BUF_INIT, credential = OMNI_BUF_INIT, b = OMNI_BUF_INIT;
    url_host(&host, &u);
    omni__buf_printf(&credential, "%s/%.8s/%s/%s/aws4_request", cred->access_key_id, amz_date,
                     region, service);
    char expires[16];
    snprintf(expires, sizeof(expires), "%u", (unsigned)expires_s);
    omni__sigv4_pair params[6] = {{"X-Amz-Algorithm", ALGORITHM},
                            {"X-Amz-Credential", credential.data},
                            {"X-Amz-Date", amz_date},
                            {"X-Amz-Expires", expires},
                            {"X-Amz-SignedHeaders", "host"},
                            {"X-Amz-Security-Token", cred->session_token}};
    size_t nparams = cred->session_token ? 6 : 5;
    rc = omni__buf_status(&host);
    if (!rc)
        rc = omni__buf_status(&credential);
    omni__sigv4_result r;
    if (!rc) {
        int s3 = strcmp(service, "s3") == 0;
        omni__sigv4_pair hosthdr = {"host", host.data};
        omni__sigv4_input in = {0};
        in.method = method;
        in.url = url;
        in.headers = &hosthdr;
        in.nheaders = 1;
        in.payload_hash = s3 ? UNSIGNED_PAYLOAD : EMPTY_SHA256;
        in.amz_date = amz_date;
        in.region = region;
        in.service = service;
        in.secret = cred->secret_access_key;
        in.s3 = s3;
        in.query_extra = params;
        in.nquery_extra = nparams;
        rc = omni__aws_sigv4_build(&r, &in);
    }
    if (!rc) {
        omni__buf_append(&b, url, u.before_fragment);
        int sep = !(u.query && u.query_len == 0);
        for (size_t i = 0; i < nparams; i++) {
            if (sep)
                omni__buf_putc(&b, i == 0 && !u.query ? '?' : '&');
            sep = 1;
            pct_encode(&b, params[i].name, strlen(params[i].name));
            omni__buf_putc(&b, '=');
            pct_encode(&b, params[i].value, strlen(params[i].value));
        }
        omni__buf_printf(&b, "&X-Amz-Signature=%s", r.signature);
        omni__aws_sigv4_result_free(&r);
    }
    omni__buf_free(&host);
    omni__buf_free(&credential);
    return omni__buf_finish(&b, rc, out, out_len);
}
