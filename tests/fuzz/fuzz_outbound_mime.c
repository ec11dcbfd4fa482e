/* Fuzz target: the email message the smtp adapter builds (lib/outbound/mime.c)
 * from arbitrary subject, text, HTML and display-name bytes. Input: one flag
 * byte (1 text, 2 html, 4 an attachment, 8 a display name, 16 a
 * correlationId), then the strings separated by NUL bytes in the order
 * subject, text, html, name. Invariants when the build succeeds: every line
 * ends with CRLF and has at most 998 bytes, a header line with an
 * encoded-word at most 76 (RFC 2047 section 2); the Subject decodes back to the subject; a
 * single text part (7bit or quoted-printable) decodes back to the text with
 * its line breaks as CRLF. A failing build is OMNI_EINVAL (a member the
 * adapter refuses) or OMNI_EJSON / OMNI_EENCODING (bytes that are not UTF-8),
 * never a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends s with its line breaks (CRLF, CR, LF) as CRLF. */
static size_t crlf(char *out, const char *s)
{
    size_t o = 0;
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n') {
            if (*s == '\r' && s[1] == '\n')
                s++;
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Quoted-printable decoding (RFC 2045 section 6.7): "=XX" (upper-case hex),
 * soft line breaks "=\r\n"; anything else is copied. -1 when malformed. */
static long qp_decode(char *out, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '=') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
            continue;
        }
        if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
            return -1;
        out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    return (long)o;
}

static void check_lines(const char *msg, size_t n)
{
    CHECK(n >= 2 && msg[n - 2] == '\r' && msg[n - 1] == '\n');
    size_t start = 0;
    int in_header = 1;
    for (size_t i = 0; i < n; i++) {
        if (msg[i] == '\n')
            CHECK(0); /* a LF not after a CR */
        if (msg[i] != '\r')
            continue;
        CHECK(i + 1 < n && msg[i + 1] == '\n');
        size_t len = i - start;
        CHECK(len <= 998);
        if (!len)
            in_header = 0;
        for (size_t k = start; in_header && k + 10 <= i; k++)
            if (memcmp(msg + k, "=?UTF-8?B?", 10) == 0) {
                CHECK(len <= 76);
                break;
            }
        i++;
        start = i + 1;
    }
}

/* The Subject header decoded: unfolded, encoded-words decoded (the space
 * between two of them dropped). */
static void check_subject(const char *msg, const char *subject)
{
    const char *p = strstr(msg, "\r\nSubject: ");
    CHECK(p);
    p += 11;
    const char *end = strstr(p, "\r\nMessage-ID: ");
    CHECK(end);
    size_t n = (size_t)(end - p);
    char *got = malloc(n + 1);
    CHECK(got);
    size_t o = 0;
    if (n >= 10 && memcmp(p, "=?UTF-8?B?", 10) == 0) {
        const char *q = p;
        while (q < end) {
            while (q < end && (*q == ' ' || *q == '\r' || *q == '\n'))
                q++;
            if (q == end)
                break;
            CHECK(end - q > 12 && memcmp(q, "=?UTF-8?B?", 10) == 0);
            const char *w = q + 10;
            const char *close = strstr(w, "?=");
            CHECK(close && close < end);
            uint8_t *raw = NULL;
            size_t rn = 0;
            CHECK(omni_base64_decode(&raw, &rn, w, (size_t)(close - w)) == OMNI_OK);
            memcpy(got + o, raw, rn);
            o += rn;
            omni_free(raw);
            q = close + 2;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
                CHECK(i + 2 < n && p[i + 2] == ' '); /* folding: CRLF before a space */
                i++;
                continue;
            }
            got[o++] = p[i];
        }
    }
    got[o] = '\0';
    CHECK(o == strlen(subject) && memcmp(got, subject, o) == 0);
    free(got);
}

/* A message of one text part: its content decodes back to the text. */
static void check_single_part(const char *msg, size_t n, const char *text)
{
    const char *body = strstr(msg, "\r\n\r\n");
    CHECK(body);
    body += 4;
    size_t bn = n - (size_t)(body - msg);
    char *want = malloc(strlen(text) * 2 + 3);
    char *got = malloc(bn + 1);
    CHECK(want && got);
    size_t wn = crlf(want, text);
    if (wn < 2 || memcmp(want + wn - 2, "\r\n", 2) != 0) {
        memcpy(want + wn, "\r\n", 3);
        wn += 2;
    }
    long gn;
    /* the header section only (the text may hold anything) */
    size_t hn = (size_t)(body - msg);
    if (memmem(msg, hn, "Content-Transfer-Encoding: quoted-printable\r\n\r\n", 47)) {
        gn = qp_decode(got, body, bn);
        CHECK(gn >= 0);
        for (const char *l = body; l < body + bn;) {
            const char *e = memmem(l, (size_t)(body + bn - l), "\r\n", 2);
            CHECK(e && e - l <= 76);
            l = e + 2;
        }
    } else {
        CHECK(memmem(msg, hn, "Content-Transfer-Encoding: 7bit\r\n\r\n", 35));
        memcpy(got, body, bn);
        gn = (long)bn;
    }
    CHECK((size_t)gn == wn && memcmp(got, want, wn) == 0);
    free(want);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    int flags = data[0];
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    const char *parts[4] = {"", "", "", ""};
    size_t k = 0;
    parts[0] = copy;
    for (size_t i = 0; i + 1 < size && k < 3; i++)
        if (copy[i] == '\0')
            parts[++k] = copy + i + 1;

    cJSON *cfg = cJSON_CreateObject(), *ev = cJSON_CreateObject();
    cJSON *smtp = cJSON_AddObjectToObject(cfg, "smtp");
    cJSON_AddStringToObject(smtp, "url", "smtps://smtp.example.com");
    cJSON *from = cJSON_AddObjectToObject(smtp, "from");
    cJSON_AddStringToObject(from, "email", "a@example.com");
    if (flags & 8)
        cJSON_AddStringToObject(from, "name", parts[3]);
    if (flags & 16)
        cJSON_AddStringToObject(ev, "correlationId", parts[3]);
    cJSON *rcpt = cJSON_AddObjectToObject(ev, "recipient");
    cJSON_AddStringToObject(rcpt, "channelIdentifier", "b@example.org");
    cJSON *m = cJSON_AddObjectToObject(ev, "message");
    cJSON_AddStringToObject(m, "subject", parts[0]);
    if (flags & 1)
        cJSON_AddStringToObject(m, "text", parts[1]);
    if (flags & 2)
        cJSON_AddStringToObject(m, "html", parts[2]);
    if (flags & 4) {
        cJSON *atts = cJSON_AddArrayToObject(m, "attachments");
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "filename", "f.bin");
        cJSON_AddStringToObject(a, "contentBase64", "AAEC");
        cJSON_AddItemToArray(atts, a);
    }
    char *cfg_text = cJSON_PrintUnformatted(cfg);
    char *ev_text = cJSON_PrintUnformatted(ev);
    omni_outbound *ob = NULL;
    if (cfg_text && ev_text &&
        omni_outbound_new(&ob, cfg_text, strlen(cfg_text)) == OMNI_OK) {
        omni_http_request *req = NULL;
        int rc = omni_outbound_build(&req, ob, "smtp", ev_text, strlen(ev_text),
                                     1714564800000LL);
        if (rc == OMNI_OK) {
            size_t n = 0;
            const char *msg = omni_http_request_body(req, &n);
            check_lines(msg, n);
            check_subject(msg, parts[0]);
            const char *text = (flags & 1) && parts[1][0] ? parts[1] : NULL;
            const char *html = (flags & 2) && parts[2][0] ? parts[2] : NULL;
            if (!(flags & 4) && !!text != !!html)
                check_single_part(msg, n, text ? text : html);
            omni_http_request_free(req);
        } else {
            CHECK(rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_EENCODING);
        }
        omni_outbound_free(ob);
    }
    cJSON_free(cfg_text);
    cJSON_free(ev_text);
    cJSON_Delete(cfg);
    cJSON_Delete(ev);
    free(copy);
    return 0;
}
