/* Fuzz target: AWS SigV4 signing of arbitrary requests.
 *
 * Input: a flags byte (bits 0-1 the sign flags, bit 2 a session token,
 * bit 3 a bad credentials version, bits 4-7 pick now_ms), then lines:
 * METHOD, URL, header lines "Name:value" up to an empty line, and the rest
 * is the body. Requests the HTTP object refuses are skipped.
 *
 * Invariants: canonical and sign never crash; a failing call leaves the
 * request unchanged; the canonical request has the documented line
 * structure (method, URI, query, one line per signed header, blank line,
 * signed list, payload hash) and the string to sign hashes it; signing two
 * copies of the request gives the same status and Authorization; presign
 * never crashes and keeps the URL as its prefix. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t nows[] = {1440938160000LL, 0, -1, 253402300799999LL, 253402300800000LL,
                               1709251199000LL};

static char *dup_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *e = nl ? nl : end;
    size_t n = (size_t)(e - *p);
    char *s = malloc(n + 1);
    CHECK(s);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

static omni_http_request *build(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    char *method = dup_line(&p, end);
    char *url = dup_line(&p, end);
    omni_http_request *r = NULL;
    int rc = omni_http_request_new(&r, method, url);
    free(method);
    free(url);
    if (rc)
        return NULL;
    while (p < end && *p != '\n') {
        char *line = dup_line(&p, end);
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            (void)omni_http_request_add_header(r, line, colon + 1);
        }
        free(line);
    }
    if (p < end && *p == '\n')
        p++;
    (void)omni_http_request_set_body(r, p, (size_t)(end - p));
    return r;
}

static int is_hex64(const char *s, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The documented shape of a canonical request. */
static void check_canonical(const char *creq, size_t len, const char *method, const char *sts)
{
    CHECK(strlen(creq) == len);
    CHECK(!strchr(creq, '\r'));
    const char *line[8];
    size_t count = 0;
    const char *nl;
    const char *p = creq;
    /* method, URI, query */
    for (int i = 0; i < 3; i++) {
        nl = strchr(p, '\n');
        CHECK(nl);
        line[count++] = p;
        p = nl + 1;
    }
    CHECK(strncmp(line[0], method, strlen(method)) == 0 && line[0][strlen(method)] == '\n');
    CHECK(line[1][0] == '/');
    /* header lines up to the blank line */
    const char *headers = p;
    size_t nheaders = 0;
    while (*p != '\n') {
        nl = strchr(p, '\n');
        CHECK(nl);
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        CHECK(colon && colon > p);
        for (const char *c = p; c < colon; c++)
            CHECK(!(*c >= 'A' && *c <= 'Z'));
        nheaders++;
        p = nl + 1;
    }
    p++;
    const char *signed_list = p;
    nl = strchr(p, '\n');
    CHECK(nl);
    const char *hash = nl + 1;
    CHECK(!strchr(hash, '\n'));
    /* The signed list names the header lines, in order. */
    size_t nsigned = 0;
    const char *h = headers;
    const char *s = signed_list;
    while (s < nl) {
        const char *semi = memchr(s, ';', (size_t)(nl - s));
        const char *se = semi ? semi : nl;
        size_t n = (size_t)(se - s);
        CHECK(strncmp(h, s, n) == 0 && h[n] == ':');
        h = strchr(h, '\n') + 1;
        nsigned++;
        s = se + (semi ? 1 : 0);
        if (!semi)
            break;
    }
    CHECK(nsigned == nheaders);
    CHECK(nheaders >= 2); /* host and x-amz-date at least */
    CHECK(strlen(hash) >= 1 && strlen(hash) <= 64);
    /* The string to sign: 4 lines, the last the hex SHA-256 of creq. */
    CHECK(strncmp(sts, "AWS4-HMAC-SHA256\n", 17) == 0);
    const char *last = strrchr(sts, '\n');
    CHECK(last && is_hex64(last + 1, strlen(last + 1)));
    uint8_t d[32];
    char hex[65];
    CHECK(omni_hash_digest(d, sizeof(d), OMNI_HASH_SHA256, creq, len) == OMNI_OK);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(hex, last + 1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    unsigned flags = data[0] & 3u;
    omni_aws_credentials cred = OMNI_AWS_CREDENTIALS_INIT;
    cred.access_key_id = "AKIDEXAMPLE";
    cred.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    if (data[0] & 4u)
        cred.session_token = "FQoGZXIvYXdzEXAMPLE//token+=";
    if (data[0] & 8u)
        cred.version = 7;
    int64_t now = nows[(data[0] >> 4) % (sizeof(nows) / sizeof(nows[0]))];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    omni_http_request *a = build(text, len);
    if (!a)
        return 0;
    omni_http_request *b = build(text, len);
    CHECK(b);
    char *before = NULL;
    CHECK(omni_http_request_to_json(&before, NULL, a) == OMNI_OK);

    char *creq = NULL, *sts = NULL;
    size_t creq_len = 0, sts_len = 0;
    int rc = omni_aws_sigv4_canonical(&creq, &creq_len, &sts, &sts_len, a, &cred, "us-east-1",
                                      "service", now, flags);
    if (rc == OMNI_OK) {
        CHECK(strlen(sts) == sts_len);
        check_canonical(creq, creq_len, omni_http_request_method(a), sts);
    } else {
        CHECK(!creq && !sts);
    }
    omni_free(creq);
    omni_free(sts);

    int ra = omni_aws_sigv4_sign(a, &cred, "us-east-1", "service", now, flags);
    int rb = omni_aws_sigv4_sign(b, &cred, "us-east-1", "service", now, flags);
    CHECK(ra == rb);
    /* canonical and sign agree on success (sign may also fail on limits). */
    CHECK(ra != OMNI_OK || rc == OMNI_OK);
    if (ra == OMNI_OK) {
        const char *x = omni_http_request_header(a, "Authorization");
        const char *y = omni_http_request_header(b, "Authorization");
        CHECK(x && y && strcmp(x, y) == 0);
        CHECK(strncmp(x, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 40) == 0);
        /* Signed now: a second signature is refused. */
        CHECK(omni_aws_sigv4_sign(a, &cred, "us-east-1", "service", now, flags) == OMNI_EINVAL);
    } else {
        char *after = NULL;
        CHECK(omni_http_request_to_json(&after, NULL, a) == OMNI_OK);
        CHECK(strcmp(before, after) == 0);
        omni_free(after);
    }
    omni_free(before);

    char *url = NULL;
    const char *u = omni_http_request_url(b);
    if (omni_aws_sigv4_presign(&url, NULL, omni_http_request_method(b), u, &cred, "us-east-1",
                               (data[0] & 1u) ? "s3" : "service", now,
                               1u + (uint32_t)data[0] * 2000u) == OMNI_OK) {
        CHECK(strncmp(url, u, strcspn(u, "#")) == 0);
        CHECK(strstr(url, "X-Amz-Signature=") != NULL);
    } else {
        CHECK(url == NULL);
    }
    omni_free(url);
    omni_http_request_free(a);
    omni_http_request_free(b);
    return 0;
}
