/* The libcurl transport: blocking easy handles from a small pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/error.h"
#include "core/json.h"
#include "curl_smtp.h"
#include "omni_config.h"
#include "transport_internal.h"

#if OMNI_HAVE_CURL

#include <pthread.h>

#include <curl/curl.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define DEFAULT_MAX_RESPONSE (1024u * 1024u)
#define DEFAULT_MAX_CONNECTIONS 8
#define MAX_TIMEOUT_MS 3600000
#define MAX_CONNECTIONS 64
#define MAX_USER_AGENT 512

typedef struct curl_tp {
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    size_t max_response;
    size_t max_idle;
    char *ca_file;
    char *user_agent;
    pthread_mutex_t mu;
    CURL **idle; /* guarded by mu */
    size_t idle_count;
} curl_tp;

/* ---- global initialisation ------------------------------------------------ */

/* curl_global_init is not thread-safe before 7.84: call it exactly once.
 * It is never undone (curl_global_cleanup would break other users of
 * libcurl in the process). */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int omni__curl_global_init(void)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return omni__err(OMNI_EINTERNAL, "curl transport: curl_global_init failed");
    return OMNI_OK;
}

/* ---- options ------------------------------------------------------------- */

#define WHAT "curl transport"

static int set_option(void *ctx, unsigned k, const cJSON *c, const char *key)
{
    curl_tp *tp = ctx;
    int64_t v = 0;
    int rc;
    switch (k) {
    case 0:
        rc = omni__opt_int(WHAT, c, key, 1, MAX_TIMEOUT_MS, &v);
        tp->timeout_ms = (uint32_t)v;
        return rc;
    case 1:
        rc = omni__opt_int(WHAT, c, key, 1, MAX_TIMEOUT_MS, &v);
        tp->connect_timeout_ms = (uint32_t)v;
        return rc;
    case 2:
        rc = omni__opt_int(WHAT, c, key, 1, OMNI_HTTP_MAX_BODY, &v);
        tp->max_response = (size_t)v;
        return rc;
    case 3:
        rc = omni__opt_int(WHAT, c, key, 0, MAX_CONNECTIONS, &v);
        tp->max_idle = (size_t)v;
        return rc;
    case 4:
        return omni__opt_file(WHAT, c, key, &tp->ca_file);
    default:
        return omni__opt_str(WHAT, c, key, MAX_USER_AGENT, &tp->user_agent);
    }
}

static int parse_options(curl_tp *tp, const char *json, size_t len)
{
    static const char *const keys[] = {"timeoutMs", "connectTimeoutMs", "maxResponseBytes",
                                       "maxConnections", "caFile", "userAgent"};
    return omni__opt_read(WHAT, json, len, keys, 6, set_option, tp);
}

/* ---- the handle pool -------------------------------------------------------- */

static void curl_tp_free(curl_tp *tp)
{
    if (!tp)
        return;
    for (size_t i = 0; i < tp->idle_count; i++)
        curl_easy_cleanup(tp->idle[i]);
    free(tp->idle);
    free(tp->ca_file);
    free(tp->user_agent);
    pthread_mutex_destroy(&tp->mu);
    free(tp);
}

static void curl_close(void *ctx)
{
    curl_tp_free(ctx);
}

/* The most recently used idle handle (its connections are the warmest). */
static CURL *acquire(curl_tp *tp)
{
    CURL *h = NULL;
    pthread_mutex_lock(&tp->mu);
    if (tp->idle_count)
        h = tp->idle[--tp->idle_count];
    pthread_mutex_unlock(&tp->mu);
    return h ? h : curl_easy_init();
}

static void release(curl_tp *tp, CURL *h)
{
    /* Clears the options (and their pointers into the request); keeps the
     * live connections for the next exchange. */
    curl_easy_reset(h);
    pthread_mutex_lock(&tp->mu);
    if (tp->idle_count < tp->max_idle) {
        tp->idle[tp->idle_count++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&tp->mu);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- callbacks ------------------------------------------------------------ */

static int ows(char c)
{
    return c == ' ' || c == '\t';
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    omni__curl_xfer *x = ud;
    size_t total = size * nitems, len = total;
    if (x->fail)
        return 0;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new response starts (after a 1xx): keep only the final one. */
        omni__http_response_clear(x->tmp);
        return total;
    }
    if (len == 0)
        return total;
    if (memchr(buf, '\0', len) || memchr(buf, '\r', len) || memchr(buf, '\n', len)) {
        x->fail = omni__err(OMNI_ETRANSPORT, "malformed response header from %s", x->host);
        return 0;
    }
    int rc;
    if (ows(buf[0])) {
        /* Obsolete line folding (RFC 9112 section 5.2): join with a space. */
        size_t s = 0;
        while (s < len && ows(buf[s]))
            s++;
        rc = omni__http_response_extend_last_header(x->tmp, buf + s, len - s);
    } else {
        const char *colon = memchr(buf, ':', len);
        if (!colon || colon == buf || ows(colon[-1])) {
            x->fail = omni__err(OMNI_ETRANSPORT, "malformed response header from %s", x->host);
            return 0;
        }
        size_t nlen = (size_t)(colon - buf);
        size_t vs = nlen + 1, ve = len;
        while (vs < ve && ows(buf[vs]))
            vs++;
        while (ve > vs && ows(buf[ve - 1]))
            ve--;
        char *line = malloc(len + 2);
        if (!line) {
            x->fail = omni__err(OMNI_ENOMEM, NULL);
            return 0;
        }
        memcpy(line, buf, nlen);
        line[nlen] = '\0';
        memcpy(line + nlen + 1, buf + vs, ve - vs);
        line[nlen + 1 + (ve - vs)] = '\0';
        rc = omni_http_response_add_header(x->tmp, line, line + nlen + 1);
        free(line);
    }
    if (rc == OMNI_ETOOLARGE) {
        x->fail = omni__err(OMNI_ERESPONSE,
                            "response from %s has more than %d headers or a header over %u bytes",
                            x->host, OMNI_HTTP_MAX_HEADERS, OMNI_HTTP_MAX_HEADER);
        return 0;
    }
    if (rc == OMNI_ENOMEM) {
        x->fail = rc;
        return 0;
    }
    if (rc) {
        x->fail = omni__err(OMNI_ETRANSPORT, "malformed response header from %s", x->host);
        return 0;
    }
    return total;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    omni__curl_xfer *x = ud;
    size_t n = size * nmemb, have = 0;
    if (x->fail)
        return 0;
    omni_http_response_body(x->tmp, &have);
    if (n > x->max_response - have) {
        x->fail = omni__err(OMNI_ERESPONSE, "response from %s exceeds the limit of %zu bytes",
                            x->host, x->max_response);
        return 0;
    }
    int rc = omni_http_response_append_body(x->tmp, data, n);
    if (rc) {
        x->fail = rc;
        return 0;
    }
    return n;
}

/* ---- errors ------------------------------------------------------------- */

int omni__curl_map_error(CURLcode c, const char *host, char *errbuf, uint32_t timeout_ms,
                         size_t max_response)
{
    /* curl's error buffer names the host, port and the failing step; it
     * never holds request headers or bodies. */
    size_t n = strlen(errbuf);
    while (n && (errbuf[n - 1] == ' ' || errbuf[n - 1] == '\n' || errbuf[n - 1] == '\r'))
        errbuf[--n] = '\0';
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(c);
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
        return omni__err(OMNI_ETIMEOUT, "HTTP exchange with %s timed out after %u ms", host,
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
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return omni__err(OMNI_ETLS, "TLS failure with %s: %s", host, why);
    case CURLE_FILESIZE_EXCEEDED:
        return omni__err(OMNI_ERESPONSE, "response from %s exceeds the limit of %zu bytes", host,
                         max_response);
    case CURLE_OUT_OF_MEMORY:
        return omni__err(OMNI_ENOMEM, NULL);
    case CURLE_URL_MALFORMAT:
        return omni__err(OMNI_EINVAL, "libcurl refused the URL for %s: %s", host, why);
    case CURLE_UNSUPPORTED_PROTOCOL: /* also: the server answered in HTTP/0.9 or garbage */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    default:
        return omni__err(OMNI_ETRANSPORT, "HTTP exchange with %s failed: %s", host, why);
    }
}

/* ---- send ------------------------------------------------------------------ */

static int has_header(const omni_http_request *r, const char *name)
{
    return omni_http_request_header(r, name) != NULL;
}

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char cb = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

/* Request headers as curl wants them. A Content-Length header is not
 * passed on: curl computes it from the body. Returns OMNI_OK or
 * OMNI_ENOMEM; *out may be NULL when there is nothing to send. */
static int build_headers(struct curl_slist **out, const omni_http_request *r, int with_body)
{
    struct curl_slist *list = NULL;
    size_t n = omni_http_request_header_count(r);
    for (size_t i = 0; i < n; i++) {
        const char *name = omni_http_request_header_name(r, i);
        const char *value = omni_http_request_header_value(r, i);
        if (ascii_ieq(name, "Content-Length"))
            continue;
        size_t nl = strlen(name), vl = strlen(value);
        char *line = malloc(nl + vl + 3);
        if (!line)
            goto oom;
        memcpy(line, name, nl);
        if (vl == 0) {
            /* "Name;" is curl's way to send a header with an empty value
             * ("Name:" would remove it). */
            line[nl] = ';';
            line[nl + 1] = '\0';
        } else {
            line[nl] = ':';
            line[nl + 1] = ' ';
            memcpy(line + nl + 2, value, vl + 1);
        }
        struct curl_slist *next = curl_slist_append(list, line);
        free(line);
        if (!next)
            goto oom;
        list = next;
    }
    /* "Name:" removes a header curl would add by itself. */
    static const char *const suppress[] = {"Expect", "Accept", "Content-Type"};
    for (size_t k = 0; k < 3; k++) {
        if (k == 2 && !with_body)
            break;
        if (has_header(r, suppress[k]))
            continue;
        char line[32];
        snprintf(line, sizeof(line), "%s:", suppress[k]);
        struct curl_slist *next = curl_slist_append(list, line);
        if (!next)
            goto oom;
        list = next;
    }
    *out = list;
    return OMNI_OK;
oom:
    curl_slist_free_all(list);
    return omni__err(OMNI_ENOMEM, NULL);
}

void omni__curl_timeouts(const omni_http_request *req, uint32_t default_ms, uint32_t connect_ms,
                         uint32_t *timeout, uint32_t *connect_timeout)
{
    uint32_t t = omni_http_request_timeout_ms(req);
    if (!t)
        t = default_ms;
    if (t > 0x7fffffffu) /* curl takes a long, which may have 32 bits */
        t = 0x7fffffffu;
    *timeout = t;
    *connect_timeout = connect_ms < t ? connect_ms : t;
}

int omni__curl_prepare(CURL *h, struct curl_slist **headers_out, const omni_http_request *req,
                       const omni__curl_opts *o, omni__curl_xfer *x, char *errbuf)
{
    *headers_out = NULL;
    const char *method = omni_http_request_method(req);
    size_t body_len = 0;
    const char *body = omni_http_request_body(req, &body_len);
    int is_head = strcmp(method, "HEAD") == 0;
    int is_post = strcmp(method, "POST") == 0;
    int with_body = !is_head && (is_post || body_len > 0 || strcmp(method, "PUT") == 0 ||
                                 strcmp(method, "PATCH") == 0);
    struct curl_slist *headers = NULL;
    int rc = build_headers(&headers, req, with_body);
    if (rc)
        return rc;
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
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_NOPROGRESS, 1L);
    SET(CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
    if (o->ca_file)
        SET(CURLOPT_CAINFO, o->ca_file);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, o->user_agent);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    if (!is_head) /* a HEAD answer's Content-Length announces no body */
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_response);
    if (is_head) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && !with_body) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        if (!is_post)
            SET(CURLOPT_CUSTOMREQUEST, method);
        if (with_body) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
            SET(CURLOPT_POSTFIELDS, body);
        }
    }
#undef SET
    if (c != CURLE_OK) {
        curl_slist_free_all(headers);
        return omni__err(OMNI_EINTERNAL, "curl transport: libcurl refused an option (%s)",
                         curl_easy_strerror(c));
    }
    *headers_out = headers;
    return OMNI_OK;
}

int omni__curl_finish(CURL *h, CURLcode c, omni__curl_xfer *x, char *errbuf, uint32_t timeout_ms,
                      omni_http_response *resp)
{
    if (x->fail)
        return x->fail; /* the callback set the last error */
    if (c != CURLE_OK)
        return omni__curl_map_error(c, x->host, errbuf, timeout_ms, x->max_response);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 100 || status > 599)
        return omni__err(OMNI_ETRANSPORT, "%s answered with an invalid status %ld", x->host,
                         status);
    omni_http_response_set_status(x->tmp, (int)status);
    omni__http_response_move(resp, x->tmp);
    return OMNI_OK;
}

static int curl_send(void *ctx, const omni_http_request *req, omni_http_response *resp)
{
    curl_tp *tp = ctx;
    if (!tp || !req || !resp)
        return omni__err(OMNI_EINVAL, "curl transport: NULL argument");
    char host[256];
    omni__http_url_host(omni_http_request_url(req), host, sizeof(host));
    uint32_t timeout, connect_timeout;
    omni__curl_timeouts(req, tp->timeout_ms, tp->connect_timeout_ms, &timeout, &connect_timeout);

    if (omni__curl_smtp_url(omni_http_request_url(req))) {
        /* Mail submission: lib/transport/curl_smtp.c */
        omni__curl_smtp_opts o = {timeout, connect_timeout, tp->ca_file, host};
        CURL *sh = acquire(tp);
        if (!sh)
            return omni__err(OMNI_ENOMEM, "curl transport: cannot create a handle");
        int src = omni__curl_smtp_send(sh, req, resp, &o);
        release(tp, sh);
        return src;
    }

    omni_http_response *tmp;
    int rc = omni_http_response_new(&tmp);
    if (rc)
        return rc;
    CURL *h = acquire(tp);
    if (!h) {
        omni_http_response_free(tmp);
        return omni__err(OMNI_ENOMEM, "curl transport: cannot create a handle");
    }
    omni__curl_xfer x = {tmp, tp->max_response, 0, host};
    omni__curl_opts o = {timeout, connect_timeout, tp->max_response, tp->ca_file, tp->user_agent};
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *headers = NULL;
    rc = omni__curl_prepare(h, &headers, req, &o, &x, errbuf);
    if (!rc)
        rc = omni__curl_finish(h, curl_easy_perform(h), &x, errbuf, timeout, resp);
    release(tp, h);
    curl_slist_free_all(headers);
    omni_http_response_free(tmp);
    return rc;
}

int omni__curl_open(omni_transport_hook *out, const char *options_json, size_t len)
{
    int rc = omni__curl_global_init();
    if (rc)
        return rc;
    if (!options_json && len)
        return omni__err(OMNI_EINVAL, "curl transport options are NULL");
    curl_tp *tp = calloc(1, sizeof(*tp));
    if (!tp)
        return omni__err(OMNI_ENOMEM, NULL);
    if (pthread_mutex_init(&tp->mu, NULL) != 0) {
        free(tp);
        return omni__err(OMNI_ENOMEM, "curl transport: cannot create a mutex");
    }
    tp->timeout_ms = OMNI_HTTP_DEFAULT_TIMEOUT_MS;
    tp->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    tp->max_response = DEFAULT_MAX_RESPONSE;
    tp->max_idle = DEFAULT_MAX_CONNECTIONS;
    rc = parse_options(tp, options_json, len);
    if (!rc && !tp->user_agent) {
        tp->user_agent = strdup("libomni/" OMNI_VERSION_STRING);
        if (!tp->user_agent)
            rc = omni__err(OMNI_ENOMEM, NULL);
    }
    if (!rc && tp->max_idle) {
        tp->idle = calloc(tp->max_idle, sizeof(*tp->idle));
        if (!tp->idle)
            rc = omni__err(OMNI_ENOMEM, NULL);
    }
    if (rc) {
        curl_tp_free(tp);
        return rc;
    }
    omni_transport_hook hook = OMNI_TRANSPORT_HOOK_INIT;
    hook.ctx = tp;
    hook.send = curl_send;
    hook.close = curl_close;
    *out = hook;
    return OMNI_OK;
}

#else /* !OMNI_HAVE_CURL */

int omni__curl_open(omni_transport_hook *out, const char *options_json, size_t len)
{
    (void)out;
    (void)options_json;
    (void)len;
    return omni__err(OMNI_EUNSUPPORTED, "libomni was built without libcurl");
}

#endif
