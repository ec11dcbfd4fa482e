/* Outbound adapter "smtp": one email submitted to an SMTP server (RFC 5321,
 * RFC 6409), the seed's email fallback. The request is a "SEND" request to
 * the smtp:// or smtps:// URL whose body is the MIME message
 * (lib/outbound/mime.c); a transport that speaks SMTP executes it (the curl
 * transport does, lib/transport/curl_smtp.c): envelope from the
 * Mail-From and Rcpt-To header fields, STARTTLS or implicit TLS from
 * Smtp-Tls, SMTP AUTH from the Basic credentials. The response's status is
 * the server's last reply code and its body the reply text.
 *
 * Replies are classified by the RFC 3463 enhanced status code when the
 * reply carries one (its class matching the reply code), else by the reply
 * code (RFC 5321 section 4.2.3, RFC 4954 section 6); see outbound.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/codec.h"
#include "core/error.h"
#include "outbound_internal.h"

#define CARRIER "smtp"
#define MAX_URL 1024
#define MAX_NAME 256
#define MAX_USER 256

typedef struct smtp_state {
    char *url;
    char *user, *password; /* both or neither; password wiped on free */
    int tls_none;
    char *from_email, *from_name, *reply_to;
} smtp_state;

static void smtp_free(void *p)
{
    smtp_state *s = p;
    if (!s)
        return;
    free(s->url);
    free(s->user);
    omni__ob_secret_free(s->password);
    free(s->from_email);
    free(s->from_name);
    free(s->reply_to);
    free(s);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int prefix_ieq(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (lower((unsigned char)*s) != *prefix)
            return 0;
    return 1;
}

static int span_ieq(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != word[i])
            return 0;
    return 1;
}

static int domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
}

/* smtp[s]://host[:port][/[helo-domain]]: *why is set when it is not. */
static int check_url(const char *url, int *smtps, int *loopback, const char **why)
{
    size_t skip = prefix_ieq(url, "smtps://") ? 8 : prefix_ieq(url, "smtp://") ? 7 : 0;
    *smtps = skip == 8;
    *loopback = 0;
    *why = "must be smtp://host[:port] or smtps://host[:port], optionally with "
           "\"/<helo-domain>\"";
    if (!skip)
        return 0;
    const char *host = url + skip, *p = host;
    size_t hlen;
    if (*p == '[') {
        p++;
        while ((*p >= '0' && *p <= '9') || (lower((unsigned char)*p) >= 'a' &&
                                             lower((unsigned char)*p) <= 'f') ||
               *p == ':' || *p == '.')
            p++;
        if (*p != ']' || p == host + 1)
            return 0;
        p++;
    } else {
        while (domain_char((unsigned char)*p) || *p == '_')
            p++;
    }
    hlen = (size_t)(p - host);
    if (!hlen)
        return 0;
    if (*p == ':') {
        long port = 0;
        const char *d = ++p;
        while (*p >= '0' && *p <= '9' && port <= 65535)
            port = port * 10 + (*p++ - '0');
        if (p == d || port < 1 || port > 65535)
            return 0;
    }
    if (*p == '/') {
        p++;
        size_t n = 0;
        while (domain_char((unsigned char)p[n]))
            n++;
        if (n > 253)
            return 0;
        p += n;
    }
    if (*p) /* userinfo, a query, a fragment, a longer path */
        return 0;
    *loopback = span_ieq(host, hlen, "127.0.0.1") || span_ieq(host, hlen, "[::1]") ||
                span_ieq(host, hlen, "localhost");
    return 1;
}

/* A display name: 1..256 bytes of UTF-8 without control characters. */
static int name_error(const char *name, const char *path)
{
    if (strpbrk(name, "\r\n"))
        return omni__ob_config_error(path, "name", "must not hold CR or LF");
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return omni__ob_config_error(path, "name", "must not hold control characters");
    return OMNI_OK;
}

static int address_member(char **out, const cJSON *obj, const char *path, const char *member,
                          int required)
{
    int rc = omni__ob_string(out, obj, path, member, required, 254);
    if (rc || !*out)
        return rc;
    if (strpbrk(*out, "\r\n"))
        return omni__ob_config_error(path, member, "must not hold CR or LF");
    if (!omni__mime_address_ok(*out))
        return omni__ob_config_error(path, member,
                                     "must be an email address local@domain (a dot-atom "
                                     "local part of at most 64 bytes)");
    return OMNI_OK;
}

static int known_members(const cJSON *obj, const char *path, const char *const *known)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(item->string, known[i]) == 0;
        if (!ok)
            return omni__ob_config_error(path, item->string, "is not a known member");
    }
    return OMNI_OK;
}

static int smtp_config(void **state, const cJSON *c, const char *path)
{
    static const char *const known[] = {"url", "username", "password", "tls", "from",
                                        "replyTo", NULL};
    static const char *const from_known[] = {"email", "name", NULL};
    *state = NULL;
    smtp_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc, smtps = 0, loopback = 0;
    const char *why = NULL;
    char *tls = NULL;
    if ((rc = known_members(c, path, known)))
        goto fail;
    if ((rc = omni__ob_string(&s->url, c, path, "url", 1, MAX_URL)))
        goto fail;
    if (!check_url(s->url, &smtps, &loopback, &why)) {
        rc = omni__ob_config_error(path, "url", why);
        goto fail;
    }
    omni_http_request *probe = NULL;
    if ((rc = omni_http_request_new(&probe, "SEND", s->url))) {
        rc = omni__ob_config_error(path, "url", "is not a valid URL");
        goto fail;
    }
    omni_http_request_free(probe);
    if ((rc = omni__ob_string(&s->user, c, path, "username", 0, MAX_USER)))
        goto fail;
    if ((rc = omni__ob_secret(&s->password, c, path, "password", 0)))
        goto fail;
    if (!s->user != !s->password) {
        rc = omni__ob_config_error(path, s->user ? "password" : "username",
                                   "is required with the other credential (both or neither)");
        goto fail;
    }
    if (s->user && (strchr(s->user, ':') || strpbrk(s->user, "\r\n"))) {
        rc = omni__ob_config_error(path, "username", "must not hold ':', CR or LF");
        goto fail;
    }
    if ((rc = omni__ob_string(&tls, c, path, "tls", 0, 16)))
        goto fail;
    if (tls && strcmp(tls, "none") != 0 && strcmp(tls, "required") != 0) {
        rc = omni__ob_config_error(path, "tls", "must be \"required\" or \"none\"");
        goto fail;
    }
    s->tls_none = tls && strcmp(tls, "none") == 0;
    if (s->tls_none && (smtps || !loopback)) {
        rc = omni__ob_config_error(path, "tls",
                                   "\"none\" is only allowed for smtp:// to a loopback host "
                                   "(127.0.0.1, [::1], localhost)");
        goto fail;
    }
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(c, "from");
    if (!cJSON_IsObject(from)) {
        rc = omni__ob_config_error(path, "from", "must be an object {\"email\", \"name\"?}");
        goto fail;
    }
    char fpath[64];
    snprintf(fpath, sizeof(fpath), "%s.from", path);
    if ((rc = known_members(from, fpath, from_known)) ||
        (rc = address_member(&s->from_email, from, fpath, "email", 1)) ||
        (rc = omni__ob_string(&s->from_name, from, fpath, "name", 0, MAX_NAME)) ||
        (s->from_name && (rc = name_error(s->from_name, fpath))) ||
        (rc = address_member(&s->reply_to, c, path, "replyTo", 0)))
        goto fail;
    free(tls);
    *state = s;
    return OMNI_OK;
fail:
    free(tls);
    smtp_free(s);
    return rc;
}

/* ---- the request ---------------------------------------------------------------- */

static int add_address_header(omni_http_request *req, const char *name, const char *addr)
{
    char v[260];
    snprintf(v, sizeof(v), "<%s>", addr);
    return omni_http_request_add_header(req, name, v);
}

static int add_auth(omni_http_request *req, const smtp_state *s)
{
    omni_buf cred = OMNI_BUF_INIT, auth = OMNI_BUF_INIT;
    omni__buf_printf(&cred, "%s:%s", s->user, s->password);
    omni__buf_puts(&auth, "Basic ");
    if (!cred.failed)
        omni__base64_append(&auth, cred.data, cred.len, 0);
    omni__buf_putc(&auth, '\0');
    int rc = cred.failed || auth.failed
                 ? omni__err(OMNI_ENOMEM, NULL)
                 : omni_http_request_add_header(req, "Authorization", auth.data);
    if (cred.data)
        OPENSSL_cleanse(cred.data, cred.cap);
    if (auth.data)
        OPENSSL_cleanse(auth.data, auth.cap);
    omni__buf_free(&cred);
    omni__buf_free(&auth);
    return rc;
}

static int smtp_build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                      int64_t now_ms)
{
    const smtp_state *s = state;
    *out = NULL;
    if (strpbrk(ev->to, "\r\n"))
        return omni__ob_event_error(CARRIER, "recipient.channelIdentifier",
                                    "must not hold CR or LF");
    if (!omni__mime_address_ok(ev->to))
        return omni__ob_event_error(CARRIER, "recipient.channelIdentifier",
                                    "must be an email address local@domain (a dot-atom local "
                                    "part, at most 254 bytes)");
    if (strcmp(ev->content_type, "text") != 0 && strcmp(ev->content_type, "media") != 0)
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\" or \"media\" (smtp has no provider "
                                    "templates: render the template first)");
    if (cJSON_GetObjectItemCaseSensitive(ev->message, "templateId"))
        return omni__ob_event_error(CARRIER, "message.templateId",
                                    "is not supported: smtp has no provider templates "
                                    "(render the template first)");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(ev->root, "correlationId");
    if (cid && !cJSON_IsString(cid))
        return omni__ob_event_error(CARRIER, "correlationId", "must be a string");
    omni__mime_mail *m = calloc(1, sizeof(*m));
    if (!m)
        return omni__err(OMNI_ENOMEM, NULL);
    omni_buf body = OMNI_BUF_INIT;
    omni_http_request *req = NULL;
    int rc = omni__mime_read(m, ev, CARRIER);
    if (rc)
        goto done;
    m->from_email = s->from_email;
    m->from_name = s->from_name;
    m->reply_to = s->reply_to;
    m->to = ev->to;
    m->correlation_id = cid ? cid->valuestring : NULL;
    if ((rc = omni__mime_build(&body, m, now_ms, CARRIER)))
        goto done;
    if (body.failed) {
        rc = omni__err(body.failed, "outbound " CARRIER ": the message is too large");
        goto done;
    }
    if ((rc = omni_http_request_new(&req, "SEND", s->url)) ||
        (rc = add_address_header(req, "Mail-From", s->from_email)) ||
        (rc = add_address_header(req, "Rcpt-To", ev->to)) ||
        (rc = omni_http_request_add_header(req, "Smtp-Tls", s->tls_none ? "none" : "required")) ||
        (s->user && (rc = add_auth(req, s))) ||
        (rc = omni_http_request_set_body(req, body.data, body.len)))
        goto done;
    *out = req;
    req = NULL;
done:
    omni_http_request_free(req);
    omni__buf_free(&body);
    free(m);
    return rc;
}

/* ---- the response ------------------------------------------------------------------- */

typedef struct reply {
    int code;
    int enh[3];      /* RFC 3463 class.subject.detail, enh[0] 0 when absent */
    char enh_text[16];
    char text[512];  /* the reply's text lines joined with spaces, clean UTF-8 */
} reply;

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* An enhanced status code "c.sss.ddd" followed by a space or the end: its
 * length, or 0. */
static size_t enhanced_code(const char *s, size_t n, int out[3])
{
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = i;
        int v = 0;
        while (i < n && digit(s[i]) && i - start < 3)
            v = v * 10 + (s[i++] - '0');
        if (i == start || (part == 0 && i - start != 1))
            return 0;
        out[part] = v;
        if (part < 2) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < n && s[i] != ' ')
        return 0;
    if (out[0] != 2 && out[0] != 4 && out[0] != 5)
        return 0;
    return i;
}

/* Reads the reply lines ("250-...", "250 ...") of body: the enhanced code
 * of the first line when its class matches the reply code, and the text
 * of every line without the codes. */
static void read_reply(reply *r, int code, const char *body, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->code = code;
    omni_buf t = OMNI_BUF_INIT;
    size_t i = 0;
    int first = 1;
    while (i < n && t.len < sizeof(r->text)) {
        size_t e = i;
        while (e < n && body[e] != '\r' && body[e] != '\n')
            e++;
        const char *line = body + i;
        size_t len = e - i;
        i = e;
        while (i < n && (body[i] == '\r' || body[i] == '\n'))
            i++;
        if (len >= 3 && digit(line[0]) && digit(line[1]) && digit(line[2]) &&
            (len == 3 || line[3] == ' ' || line[3] == '-')) {
            line += len > 3 ? 4 : 3;
            len -= len > 3 ? 4 : 3;
        }
        int enh[3];
        size_t k = enhanced_code(line, len, enh);
        if (k && enh[0] == code / 100) {
            if (first && !r->enh[0]) {
                memcpy(r->enh, enh, sizeof(enh));
                snprintf(r->enh_text, sizeof(r->enh_text), "%d.%d.%d", enh[0], enh[1],
                         enh[2]);
            }
            line += k;
            len -= k;
        }
        first = 0;
        while (len && *line == ' ')
            line++, len--;
        if (!len)
            continue;
        if (t.len)
            omni__buf_putc(&t, ' ');
        omni__buf_append(&t, line, len);
    }
    if (!t.failed && t.len)
        omni__ob_clean_text(r->text, sizeof(r->text), t.data, t.len);
    omni__buf_free(&t);
}

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The text speaks of a sending rate ("rate limit", "unusual rate", "too
 * many", "throttled"), as 4.7.x throttling replies do. */
static int mentions_rate(const char *text)
{
    char low[sizeof(((reply *)0)->text)];
    size_t n = 0;
    for (; text[n] && n + 1 < sizeof(low); n++)
        low[n] = (char)lower((unsigned char)text[n]);
    low[n] = '\0';
    if (strstr(low, "too many") || strstr(low, "throttl") || strstr(low, "ratelimit"))
        return 1;
    for (const char *p = low; (p = strstr(p, "rate")); p += 4)
        if ((p == low || !is_letter(p[-1])) && !is_letter(p[4]))
            return 1;
    return 0;
}

static const char *classify(const reply *r, int *retryable)
{
    int code = r->code, subject = r->enh[1], detail = r->enh[2];
    int enh = r->enh[0] != 0;
    *retryable = 0;
    if (code >= 400 && code < 500) {
        *retryable = 1;
        return code == 452 || mentions_rate(r->text) ? "RATE_LIMITED" : "PROVIDER_UNAVAILABLE";
    }
    if (code < 500 || code > 599)
        return "PROVIDER_ERROR";
    if (code == 530 || code == 534 || code == 535 || code == 538 ||
        (enh && subject == 7 && (detail == 8 || detail == 9 || detail == 11)))
        return "AUTH_FAILED";
    if (enh) {
        if (subject == 1)
            return detail == 7 || detail == 8 ? "INVALID_REQUEST" /* the sender's address */
                                              : "INVALID_RECIPIENT";
        if (subject == 2 && (detail == 1 || detail == 2))
            return "INVALID_RECIPIENT"; /* mailbox disabled, full */
        if ((subject == 2 && detail == 3) || (subject == 3 && detail == 4))
            return "INVALID_REQUEST"; /* message too big */
        if (subject == 7)
            return "PROVIDER_ERROR"; /* policy: spam, relaying, DMARC */
    }
    if (code == 550 || code == 551 || code == 553)
        return "INVALID_RECIPIENT";
    if (code == 554)
        return "PROVIDER_ERROR";
    return "INVALID_REQUEST"; /* 552 too big, 500-504 and 555 syntax, others */
}

static int id_char(char c)
{
    return is_letter(c) || digit(c) || (c && strchr("._-@+=/:", c));
}

/* The queue id of a success reply: after "queued as " (Postfix) or "id="
 * (Exim), 1..128 id characters; else NULL. */
static const char *queue_id(char *out, size_t cap, const char *text)
{
    const char *p = NULL;
    for (const char *q = text; *q && !p; q++) {
        if (prefix_ieq(q, "queued as "))
            p = q + 10;
        else if (prefix_ieq(q, "id=") && (q == text || !(is_letter(q[-1]) || digit(q[-1]))))
            p = q + 3;
    }
    if (!p)
        return NULL;
    size_t n = 0;
    while (id_char(p[n]))
        if (++n >= cap)
            return NULL;
    while (n && (p[n - 1] == '.' || p[n - 1] == ':'))
        n--;
    if (!n)
        return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

static int smtp_parse(omni_buf *out, const void *state, const omni_http_response *resp,
                      int64_t now_ms)
{
    (void)state;
    (void)now_ms;
    size_t n = 0;
    const char *body = omni_http_response_body(resp, &n);
    reply *r = malloc(sizeof(*r));
    if (!r)
        return omni__err(OMNI_ENOMEM, NULL);
    read_reply(r, omni_http_response_status(resp), body, n);
    if (r->code >= 200 && r->code < 300) {
        char id[129];
        omni__ob_result_ok(out, CARRIER, queue_id(id, sizeof(id), r->text), "accepted", -1,
                           NULL);
        free(r);
        return OMNI_OK;
    }
    int retryable = 0;
    const char *cls = classify(r, &retryable);
    char pcode[32], msg[600];
    snprintf(pcode, sizeof(pcode), "%d%s%s", r->code, r->enh[0] ? " " : "", r->enh_text);
    if (r->text[0])
        snprintf(msg, sizeof(msg), "%s", r->text);
    else
        snprintf(msg, sizeof(msg), "the SMTP server answered %d", r->code);
    omni__ob_result_error(out, CARRIER, cls, pcode, msg, retryable, -1);
    free(r);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_smtp = {CARRIER, smtp_config, smtp_free, smtp_build, smtp_parse};
