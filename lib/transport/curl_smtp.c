/* The curl transport's SMTP submission: a "SEND" request to an smtp:// or
 * smtps:// URL becomes MAIL FROM / RCPT TO / DATA through libcurl, and the
 * server's reply becomes the response (see curl_smtp.h, omni/http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "core/codec.h"
#include "core/error.h"
#include "curl_smtp.h"
#include "omni_config.h"
#include "transport_internal.h"

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

int omni__curl_smtp_url(const char *url)
{
    return url && (prefix_ieq(url, "smtp://") || prefix_ieq(url, "smtps://"));
}

#if OMNI_HAVE_CURL

#include <openssl/crypto.h>

#include <curl/curl.h>

#define REPLY_MAX (16u * 1024u) /* kept of one reply; RFC 5321 lines are <= 512 */
#define MAX_RCPT 100
#define MAX_ADDRESS 256

/* One SMTP reply as it arrives (its lines, CRLF-ended). */
typedef struct smtp_reply {
    int code;
    size_t len;
    char text[REPLY_MAX];
} smtp_reply;

typedef struct smtp_xfer {
    const char *body;
    size_t len, off;
    CURL *h;
    curl_socket_t fd;    /* the socket of a new connection, or CURL_SOCKET_BAD */
    int64_t deadline_ms; /* monotonic */
    int cut;             /* on_progress shut the connection down: a timeout */
    smtp_reply cur;  /* the reply being read */
    smtp_reply last; /* the last complete reply, but QUIT's 221 */
    smtp_reply err;  /* the last 4xx/5xx reply not followed by a positive one */
} smtp_xfer;

/* ---- callbacks ---------------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends the exchange once its time is up. libcurl's own timeout ends the
 * transaction, but then it still says QUIT and waits for the answer with
 * only its (whole-second) server response timeout, which would hold the
 * caller up to a second more with a stalled server. libcurl calls this at
 * least once a second, and when its timeout is reached: the connection is
 * shut down then (so QUIT fails at once), and the exchange is a timeout. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    smtp_xfer *x = ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    int64_t now = mono_ms();
    if (!x->cut && now + 5 >= x->deadline_ms) {
        /* the socket of a new connection, else (a reused one) the last one */
        curl_socket_t fd = x->fd;
        if (fd == CURL_SOCKET_BAD &&
            curl_easy_getinfo(x->h, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK)
            fd = CURL_SOCKET_BAD;
        if (fd != CURL_SOCKET_BAD)
            shutdown(fd, SHUT_RDWR);
        x->cut = 1;
    }
    return now > x->deadline_ms + 1000; /* a backstop */
}

static int on_socket(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    smtp_xfer *x = ud;
    if (purpose == CURLSOCKTYPE_IPCXN)
        x->fd = fd;
    return CURL_SOCKOPT_OK;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    smtp_xfer *x = ud;
    size_t n = size * nitems, left = x->len - x->off;
    if (n > left)
        n = left;
    memcpy(buf, x->body + x->off, n);
    x->off += n;
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    (void)data;
    (void)ud;
    return size * nmemb; /* SMTP sends no body our way */
}

/* libcurl hands every server reply line to the header callback. */
static size_t on_reply(char *buf, size_t size, size_t nitems, void *ud)
{
    smtp_xfer *x = ud;
    size_t total = size * nitems;
    if (total < 3 || buf[0] < '1' || buf[0] > '5' || buf[1] < '0' || buf[1] > '9' ||
        buf[2] < '0' || buf[2] > '9')
        return total;
    int code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
    if (x->cur.len && x->cur.code != code)
        x->cur.len = 0; /* a malformed reply: start over */
    x->cur.code = code;
    size_t n = total < REPLY_MAX - x->cur.len ? total : REPLY_MAX - x->cur.len;
    memcpy(x->cur.text + x->cur.len, buf, n);
    x->cur.len += n;
    if (total > 3 && buf[3] == '-')
        return total; /* more lines follow */
    if (code != 221) {
        x->last = x->cur;
        if (code >= 400) {
            x->err = x->cur;
        } else {
            x->err.len = 0;
            x->err.code = 0;
        }
    }
    x->cur.len = 0;
    return total;
}

/* ---- the request --------------------------------------------------------------- */

/* "<address>" (or "<>" when empty_ok) of printable ASCII without spaces. */
static int envelope_ok(const char *v, int empty_ok)
{
    size_t n = strlen(v);
    if (n < 2 || n > MAX_ADDRESS + 2 || v[0] != '<' || v[n - 1] != '>' || (n == 2 && !empty_ok))
        return 0;
    for (size_t i = 1; i + 1 < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f || v[i] == '<' ||
            v[i] == '>')
            return 0;
    return 1;
}

static int is_loopback(const char *authority)
{
    size_t n = authority[0] == '[' ? strcspn(authority, "]") + 1 : strcspn(authority, ":");
    static const char *const names[] = {"127.0.0.1", "[::1]", "localhost"};
    for (size_t k = 0; k < 3; k++) {
        size_t len = strlen(names[k]), i = 0;
        if (len != n)
            continue;
        while (i < n && lower((unsigned char)authority[i]) == names[k][i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

typedef struct envelope {
    const char *from;
    struct curl_slist *rcpt;
    int tls_none;
    char *cred; /* "user\0password", wiped */
    size_t cred_cap;
    const char *password;
} envelope;

static void envelope_free(envelope *e)
{
    curl_slist_free_all(e->rcpt);
    if (e->cred) {
        OPENSSL_cleanse(e->cred, e->cred_cap);
        free(e->cred);
    }
    memset(e, 0, sizeof(*e));
}

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* Decodes "Basic base64(user:password)". */
static int credentials(envelope *e, const char *auth, const char *host)
{
    if (!prefix_ieq(auth, "basic "))
        return omni__err(OMNI_EINVAL, "SMTP request to %s: Authorization must be Basic "
                                      "credentials",
                         host);
    const char *b64 = auth + 6;
    while (*b64 == ' ')
        b64++;
    size_t n = strlen(b64);
    e->cred_cap = omni__base64_decoded_max(n) + 1;
    e->cred = malloc(e->cred_cap);
    if (!e->cred)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t len = 0;
    if (omni__base64_decode_into((uint8_t *)e->cred, e->cred_cap, &len, b64, n, 0) != OMNI_OK) {
        omni_error_clear();
        return omni__err(OMNI_EINVAL, "SMTP request to %s: Authorization is not valid base64",
                         host);
    }
    e->cred[len] = '\0';
    char *colon = memchr(e->cred, ':', len);
    if (!colon || colon == e->cred || memchr(e->cred, '\0', len))
        return omni__err(OMNI_EINVAL, "SMTP request to %s: Authorization must hold "
                                      "user:password",
                         host);
    *colon = '\0';
    e->password = colon + 1;
    return OMNI_OK;
}

static int read_envelope(envelope *e, const omni_http_request *req, const char *host)
{
    memset(e, 0, sizeof(*e));
    if (strcmp(omni_http_request_method(req), "SEND") != 0)
        return omni__err(OMNI_EINVAL, "SMTP request to %s: the method must be SEND", host);
    size_t count = omni_http_request_header_count(req), rcpts = 0;
    const char *tls = NULL, *auth = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *name = omni_http_request_header_name(req, i);
        const char *value = omni_http_request_header_value(req, i);
        if (ascii_ieq(name, "Mail-From")) {
            if (e->from || !envelope_ok(value, 1))
                return omni__err(OMNI_EINVAL, "SMTP request to %s: one Mail-From \"<address>\" "
                                              "is required",
                                 host);
            e->from = value;
        } else if (ascii_ieq(name, "Rcpt-To")) {
            if (!envelope_ok(value, 0) || ++rcpts > MAX_RCPT)
                return omni__err(OMNI_EINVAL, "SMTP request to %s: Rcpt-To must be "
                                              "\"<address>\" (at most %d)",
                                 host, MAX_RCPT);
            struct curl_slist *next = curl_slist_append(e->rcpt, value);
            if (!next)
                return omni__err(OMNI_ENOMEM, NULL);
            e->rcpt = next;
        } else if (ascii_ieq(name, "Smtp-Tls")) {
            if (tls || (strcmp(value, "required") != 0 && strcmp(value, "none") != 0))
                return omni__err(OMNI_EINVAL, "SMTP request to %s: one Smtp-Tls \"required\" "
                                              "or \"none\" is allowed",
                                 host);
            tls = value;
        } else if (ascii_ieq(name, "Authorization")) {
            if (auth)
                return omni__err(OMNI_EINVAL, "SMTP request to %s: one Authorization is "
                                              "allowed",
                                 host);
            auth = value;
        }
    }
    if (!e->from || !e->rcpt)
        return omni__err(OMNI_EINVAL, "SMTP request to %s: Mail-From and at least one Rcpt-To "
                                      "are required",
                         host);
    e->tls_none = tls && strcmp(tls, "none") == 0;
    if (e->tls_none && (prefix_ieq(omni_http_request_url(req), "smtps://") || !is_loopback(host)))
        return omni__err(OMNI_EINVAL, "SMTP request to %s: Smtp-Tls none is only allowed for "
                                      "smtp:// to 127.0.0.1, [::1] or localhost",
                         host);
    return auth ? credentials(e, auth, host) : OMNI_OK;
}

/* ---- errors ------------------------------------------------------------------- */

static int map_error(CURLcode c, const char *host, char *errbuf, uint32_t timeout_ms)
{
    size_t n = strlen(errbuf);
    while (n && (errbuf[n - 1] == ' ' || errbuf[n - 1] == '\n' || errbuf[n - 1] == '\r'))
        errbuf[--n] = '\0';
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(c);
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_ABORTED_BY_CALLBACK: /* on_progress: the time is up */
        return omni__err(OMNI_ETIMEOUT, "SMTP exchange with %s timed out after %u ms", host,
                         timeout_ms);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return omni__err(OMNI_ECONNECT, "could not connect to %s: %s", host, why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED: /* no STARTTLS offered */
        return omni__err(OMNI_ETLS, "TLS failure with %s: %s", host, why);
    case CURLE_OUT_OF_MEMORY:
        return omni__err(OMNI_ENOMEM, NULL);
    case CURLE_URL_MALFORMAT:
        return omni__err(OMNI_EINVAL, "libcurl refused the URL for %s: %s", host, why);
    default:
        return omni__err(OMNI_ETRANSPORT, "SMTP exchange with %s failed: %s", host, why);
    }
}

/* ---- send ----------------------------------------------------------------------- */

static int make_response(omni_http_response *resp, const smtp_reply *r, const char *host)
{
    omni_http_response *tmp;
    int rc = omni_http_response_new(&tmp);
    if (rc)
        return rc;
    if (r->code < 100 || r->code > 599)
        rc = omni__err(OMNI_ETRANSPORT, "%s answered with an invalid reply code %d", host,
                       r->code);
    if (!rc)
        rc = omni_http_response_set_status(tmp, r->code);
    if (!rc)
        rc = omni_http_response_set_body(tmp, r->text, r->len);
    if (!rc)
        omni__http_response_move(resp, tmp);
    omni_http_response_free(tmp);
    return rc;
}

int omni__curl_smtp_send(void *easy, const omni_http_request *req, omni_http_response *resp,
                         const omni__curl_smtp_opts *o)
{
    CURL *h = easy;
    envelope e;
    int rc = read_envelope(&e, req, o->host);
    if (rc) {
        envelope_free(&e);
        return rc;
    }
    smtp_xfer *x = calloc(1, sizeof(*x));
    if (!x) {
        envelope_free(&e);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    x->body = omni_http_request_body(req, &x->len);
    x->h = h;
    x->fd = CURL_SOCKET_BAD;
    x->deadline_ms = mono_ms() + o->timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                         \
    do {                                                                                      \
        if (c == CURLE_OK)                                                                    \
            c = curl_easy_setopt(h, opt, val);                                                \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, omni_http_request_url(req));
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)((o->timeout_ms + 999) / 1000));
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, x);
    SET(CURLOPT_SOCKOPTFUNCTION, on_socket);
    SET(CURLOPT_SOCKOPTDATA, x);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USE_SSL, (long)(e.tls_none ? CURLUSESSL_NONE : CURLUSESSL_ALL));
    /* A clear-text connection is never kept for a later request. */
    SET(CURLOPT_FORBID_REUSE, e.tls_none ? 1L : 0L);
    SET(CURLOPT_MAIL_FROM, e.from);
    SET(CURLOPT_MAIL_RCPT, e.rcpt);
    if (e.cred) {
        SET(CURLOPT_USERNAME, e.cred);
        SET(CURLOPT_PASSWORD, e.password);
    }
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, x);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
    SET(CURLOPT_HEADERFUNCTION, on_reply);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
#undef SET
    if (c != CURLE_OK) {
        rc = omni__err(OMNI_EINTERNAL, "curl transport: libcurl refused an SMTP option (%s)",
                       curl_easy_strerror(c));
    } else {
        c = curl_easy_perform(h);
        if (c == CURLE_OK) {
            if (!x->last.code) {
                long status = 0;
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
                x->last.code = status > 0 && status < 1000 ? (int)status : 0;
                x->last.len = 0;
            }
            rc = make_response(resp, &x->last, o->host);
        } else if (c != CURLE_OPERATION_TIMEDOUT && c != CURLE_ABORTED_BY_CALLBACK &&
                   x->err.code) {
            rc = make_response(resp, &x->err, o->host); /* the server said no */
        } else if (x->cut) {
            rc = map_error(CURLE_OPERATION_TIMEDOUT, o->host, errbuf, o->timeout_ms);
        } else {
            rc = map_error(c, o->host, errbuf, o->timeout_ms);
        }
    }
    /* Drop the pointers into e and x before they go. */
    curl_easy_setopt(h, CURLOPT_USERNAME, (char *)NULL);
    curl_easy_setopt(h, CURLOPT_PASSWORD, (char *)NULL);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, (struct curl_slist *)NULL);
    envelope_free(&e);
    free(x);
    return rc;
}

#else /* !OMNI_HAVE_CURL */

int omni__curl_smtp_send(void *easy, const omni_http_request *req, omni_http_response *resp,
                         const omni__curl_smtp_opts *opts)
{
    (void)easy;
    (void)req;
    (void)resp;
    (void)opts;
    return omni__err(OMNI_EUNSUPPORTED, "libomni was built without libcurl");
}

#endif
