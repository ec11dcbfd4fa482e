/* The asynchronous HTTP transport: libcurl's multi interface driven by a
 * libuv loop (one uv_poll per socket, one uv_timer for curl's timeouts).
 * See omni/async.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "omni_config.h"
#include "transport_internal.h"

#if OMNI_HAVE_CURL && OMNI_HAVE_UV

#include <arpa/inet.h>

#include <uv.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define DEFAULT_MAX_RESPONSE (1024u * 1024u)
#define DEFAULT_MAX_QUEUED 100000u
#define DEFAULT_RETRY 2u
#define MAX_QUEUED 10000000
#define MAX_TIMEOUT_MS 3600000
#define MAX_HOST_CONNECTIONS 1024
#define MAX_RETRY 5
#define MAX_USER_AGENT 512
#define MAX_IDLE_HANDLES 1024u

enum { HV_AUTO = 0, HV_1_1 = 1, HV_2 = 2 };

typedef struct areq areq;

/* One socket curl wants watched. */
typedef struct sock_ctx {
    uv_poll_t poll;
    omni_async *a;
    curl_socket_t fd;
    struct sock_ctx *prev, *next;
} sock_ctx;

/* One request, from omni_async_send to its callback. */
struct areq {
    areq *prev, *next; /* in the active list or the queue */
    omni_http_request *req;
    omni_async_cb cb;
    void *user;
    CURL *h;
    struct curl_slist *headers;
    omni_http_response *tmp;
    omni__curl_xfer x;
    uint32_t timeout_ms, connect_ms;
    uint64_t started; /* uv_hrtime() / 1e6 at its first start (ms) */
    unsigned retries; /* the transport's own */
    unsigned sends;   /* times curl was about to send it (its own retries included) */
    char host[256];
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct req_list {
    areq *head, *tail;
    size_t count;
} req_list;

struct omni_async {
    uv_loop_t *loop;
    uv_loop_t own_loop;
    int own;
    CURLM *multi;
    uv_timer_t timer;

    /* options */
    size_t max_concurrent, max_queued, max_response;
    uint32_t timeout_ms, connect_ms;
    char *ca_file, *user_agent;
    int http_version;
    long max_host_connections;
    unsigned retry_max;

    req_list active, queue;
    sock_ctx *socks;
    CURL **idle; /* reusable easy handles */
    size_t idle_count, idle_cap;
    omni_http_response *resp; /* the answer handed to a callback */
    int refd;                 /* the handles are referenced (something in flight) */
    int h2c_no_reuse;         /* libcurl < 8.0.0 cannot reuse h2c connections */

    /* counters */
    uint64_t sent, succeeded, failed, canceled, retries, connections;
    size_t peak;

    /* life cycle */
    int running;          /* inside omni_async_run */
    int uv_running;       /* inside a uv_run started by this file */
    int closing;          /* omni_async_close was called */
    int closed;           /* every handle is closed */
    int in_done;          /* inside done_cb */
    int depth;            /* completion callbacks running */
    int free_pending;     /* omni_async_free was called: release as soon as it is safe */
    size_t closing_handles;
    omni_async_done_cb done_cb;
    void *done_user;
};

/* ---- options ------------------------------------------------------------ */

#define WHAT "async transport"

static const char *const option_keys[] = {
    "maxConcurrent", "maxQueued",   "timeoutMs",          "connectTimeoutMs",
    "maxResponseBytes", "caFile",   "userAgent",          "httpVersion",
    "maxHostConnections", "retryUnanswered",
};
#define OPTION_COUNT (sizeof(option_keys) / sizeof(option_keys[0]))

static int set_option(void *ctx, unsigned k, const cJSON *c, const char *key)
{
    omni_async *a = ctx;
    int64_t v = 0;
    int rc;
    switch (k) {
    case 0:
        rc = omni__opt_int(WHAT, c, key, 1, OMNI_ASYNC_MAX_CONCURRENT, &v);
        a->max_concurrent = (size_t)v;
        return rc;
    case 1:
        rc = omni__opt_int(WHAT, c, key, 1, MAX_QUEUED, &v);
        a->max_queued = (size_t)v;
        return rc;
    case 2:
        rc = omni__opt_int(WHAT, c, key, 1, MAX_TIMEOUT_MS, &v);
        a->timeout_ms = (uint32_t)v;
        return rc;
    case 3:
        rc = omni__opt_int(WHAT, c, key, 1, MAX_TIMEOUT_MS, &v);
        a->connect_ms = (uint32_t)v;
        return rc;
    case 4:
        rc = omni__opt_int(WHAT, c, key, 1, OMNI_HTTP_MAX_BODY, &v);
        a->max_response = (size_t)v;
        return rc;
    case 5:
        return omni__opt_file(WHAT, c, key, &a->ca_file);
    case 6:
        return omni__opt_str(WHAT, c, key, MAX_USER_AGENT, &a->user_agent);
    case 7:
        if (cJSON_IsString(c) && strcmp(c->valuestring, "auto") == 0)
            a->http_version = HV_AUTO;
        else if (cJSON_IsString(c) && strcmp(c->valuestring, "1.1") == 0)
            a->http_version = HV_1_1;
        else if (cJSON_IsString(c) && strcmp(c->valuestring, "2") == 0)
            a->http_version = HV_2;
        else
            return omni__opt_error(WHAT, key, "must be \"auto\", \"1.1\" or \"2\"");
        return OMNI_OK;
    case 8:
        rc = omni__opt_int(WHAT, c, key, 0, MAX_HOST_CONNECTIONS, &v);
        a->max_host_connections = (long)v;
        return rc;
    default:
        rc = omni__opt_int(WHAT, c, key, 0, MAX_RETRY, &v);
        a->retry_max = (unsigned)v;
        return rc;
    }
}

static int parse_options(omni_async *a, const char *json, size_t len)
{
    return omni__opt_read(WHAT, json, len, option_keys, (unsigned)OPTION_COUNT, set_option, a);
}

/* ---- small helpers ---------------------------------------------------------- */

static void list_push(req_list *l, areq *r)
{
    r->next = NULL;
    r->prev = l->tail;
    if (l->tail)
        l->tail->next = r;
    else
        l->head = r;
    l->tail = r;
    l->count++;
}

static void list_remove(req_list *l, areq *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        l->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->tail = r->prev;
    r->prev = r->next = NULL;
    l->count--;
}

/* Monotonic milliseconds (not the loop's cached time, which may be old
 * when sends come from outside the loop). */
static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

static size_t in_flight(const omni_async *a)
{
    return a->active.count + a->queue.count;
}

/* Loopback hosts, which alone may be sent cleartext HTTP/2 with prior knowledge. */
static int is_loopback(const char *authority)
{
    char host[256];
    size_t n = 0;
    if (authority[0] == '[') {
        const char *end = strchr(authority, ']');
        return end && (size_t)(end - authority) == 4 && memcmp(authority, "[::1", 4) == 0;
    }
    while (authority[n] && authority[n] != ':' && n < sizeof(host) - 1) {
        host[n] = authority[n];
        n++;
    }
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr in;
    return inet_pton(AF_INET, host, &in) == 1 && (ntohl(in.s_addr) >> 24) == 127;
}

static int is_https(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0;
}

/* References the handles while something is in flight (an idle transport
 * never keeps a host's loop alive). */
static void update_refs(omni_async *a)
{
    int want = !a->closing && in_flight(a) > 0;
    if (want == a->refd)
        return;
    a->refd = want;
    if (want)
        uv_ref((uv_handle_t *)&a->timer);
    else
        uv_unref((uv_handle_t *)&a->timer);
    for (sock_ctx *s = a->socks; s; s = s->next) {
        if (want)
            uv_ref((uv_handle_t *)&s->poll);
        else
            uv_unref((uv_handle_t *)&s->poll);
    }
}

static CURL *handle_get(omni_async *a)
{
    if (a->idle_count)
        return a->idle[--a->idle_count];
    return curl_easy_init();
}

static void handle_put(omni_async *a, CURL *h)
{
    if (!h)
        return;
    if (a->idle_count < a->idle_cap && !a->closing) {
        curl_easy_reset(h);
        a->idle[a->idle_count++] = h;
    } else {
        curl_easy_cleanup(h);
    }
}

/* Releases a request's resources (its easy handle back to the pool). */
static void areq_free(omni_async *a, areq *r)
{
    handle_put(a, r->h);
    curl_slist_free_all(r->headers);
    omni_http_request_free(r->req);
    omni_http_response_free(r->tmp);
    free(r);
}

/* ---- handles closing ---------------------------------------------------------- */

static void release_memory(omni_async *a)
{
    for (size_t i = 0; i < a->idle_count; i++)
        curl_easy_cleanup(a->idle[i]);
    free(a->idle);
    omni_http_response_free(a->resp);
    free(a->ca_file);
    free(a->user_agent);
    if (a->own)
        uv_loop_close(&a->own_loop);
    free(a);
}

/* The memory may go: every handle is closed and no call of this file is
 * on the stack that uses it afterwards. */
static int can_release(const omni_async *a)
{
    return a->closed && !a->uv_running && !a->depth && !a->in_done;
}

/* The last handle is closed: done_cb, then a pending free. */
static void all_closed(omni_async *a)
{
    a->closed = 1;
    if (a->done_cb) {
        omni_async_done_cb cb = a->done_cb;
        a->done_cb = NULL;
        a->in_done = 1;
        cb(a->done_user);
        a->in_done = 0;
    }
    if (a->free_pending && can_release(a))
        release_memory(a);
}

static void on_handle_closed(omni_async *a)
{
    if (--a->closing_handles == 0 && a->closing)
        all_closed(a);
}

static void on_sock_closed(uv_handle_t *h)
{
    sock_ctx *s = h->data;
    omni_async *a = s->a;
    free(s);
    on_handle_closed(a);
}

static void on_timer_closed(uv_handle_t *h)
{
    on_handle_closed(h->data);
}

static void sock_close(omni_async *a, sock_ctx *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        a->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    a->closing_handles++;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* ---- libuv <-> curl --------------------------------------------------------------- */

static void check_done(omni_async *a);

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx *s = h->data;
    omni_async *a = s->a;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running = 0;
    curl_multi_socket_action(a->multi, s->fd, flags, &running);
    check_done(a);
}

static void on_timer(uv_timer_t *t)
{
    omni_async *a = t->data;
    int running = 0;
    curl_multi_socket_action(a->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(a);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)e;
    omni_async *a = userp;
    sock_ctx *s = socketp;
    if (a->closing)
        return 0;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(a->multi, fd, NULL);
            sock_close(a, s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1;
        if (uv_poll_init_socket(a->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->a = a;
        s->fd = fd;
        s->poll.data = s;
        s->next = a->socks;
        if (a->socks)
            a->socks->prev = s;
        a->socks = s;
        if (!a->refd)
            uv_unref((uv_handle_t *)&s->poll);
        curl_multi_assign(a->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    omni_async *a = userp;
    if (a->closing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&a->timer);
    else
        uv_timer_start(&a->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- requests --------------------------------------------------------------------- */

/* Called by curl each time it is about to send the request (on a new or a
 * reused connection): counts the sends, curl's own retries included. */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    ((areq *)clientp)->sends++;
    return CURL_PREREQFUNC_OK;
}

/* Starts (or restarts, for a retry) an exchange; OMNI_OK or an error (last
 * error set). */
static int start_request(omni_async *a, areq *r)
{
    if (!r->h) {
        r->h = handle_get(a);
        if (!r->h)
            return omni__err(OMNI_ENOMEM, "async transport: cannot create a curl handle");
        omni__curl_opts o = {r->timeout_ms, r->connect_ms, a->max_response, a->ca_file,
                             a->user_agent};
        int rc = omni__curl_prepare(r->h, &r->headers, r->req, &o, &r->x, r->errbuf);
        if (rc)
            return rc;
        const char *url = omni_http_request_url(r->req);
        int tls = is_https(url);
        long version = CURL_HTTP_VERSION_1_1;
        if (tls && a->http_version != HV_1_1)
            version = CURL_HTTP_VERSION_2TLS;
        else if (!tls && a->http_version == HV_2)
            version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
        CURLcode c = curl_easy_setopt(r->h, CURLOPT_PRIVATE, (void *)r);
        if (c == CURLE_OK)
            c = curl_easy_setopt(r->h, CURLOPT_PREREQFUNCTION, on_prereq);
        if (c == CURLE_OK)
            c = curl_easy_setopt(r->h, CURLOPT_PREREQDATA, (void *)r);
        if (c == CURLE_OK)
            c = curl_easy_setopt(r->h, CURLOPT_HTTP_VERSION, version);
        if (version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && a->h2c_no_reuse) {
            /* libcurl 7.x breaks a reused prior-knowledge connection (curl
             * issue 10634, fixed in 8.0.0): one connection per request. */
            if (c == CURLE_OK)
                c = curl_easy_setopt(r->h, CURLOPT_FRESH_CONNECT, 1L);
            if (c == CURLE_OK)
                c = curl_easy_setopt(r->h, CURLOPT_FORBID_REUSE, 1L);
        } else if (c == CURLE_OK && version != CURL_HTTP_VERSION_1_1) {
            c = curl_easy_setopt(r->h, CURLOPT_PIPEWAIT, 1L);
        }
        if (c != CURLE_OK)
            return omni__err(OMNI_EINTERNAL, "async transport: libcurl refused an option (%s)",
                             curl_easy_strerror(c));
        r->started = now_ms();
    }
    CURLMcode mc = curl_multi_add_handle(a->multi, r->h);
    if (mc != CURLM_OK)
        return omni__err(mc == CURLM_OUT_OF_MEMORY ? OMNI_ENOMEM : OMNI_EINTERNAL,
                         "async transport: cannot start the exchange with %s (%s)", r->host,
                         curl_multi_strerror(mc));
    return OMNI_OK;
}

/* Runs a finished request's callback: rc OMNI_OK with a->resp, or an error
 * (the last error describes it). The request is released first. */
static void complete(omni_async *a, areq *r, int rc)
{
    omni_async_cb cb = r->cb;
    void *user = r->user;
    int status = rc;
    /* keep the message: releasing must not change the last error */
    areq_free(a, r);
    a->depth++;
    if (status == OMNI_OK) {
        a->succeeded++;
        cb(user, a->resp, OMNI_OK);
        omni__http_response_clear(a->resp);
    } else {
        if (status == OMNI_ECANCELED)
            a->canceled++;
        else
            a->failed++;
        cb(user, NULL, status);
    }
    a->depth--;
}

/* A failure that may be sent again on a new connection: the connection
 * broke (or failed at the HTTP/2 framing level) and not one response byte
 * arrived. A stream the server reset (CURLE_HTTP2_STREAM) is not sent again:
 * only REFUSED_STREAM promises it was not processed, and curl itself starts
 * those over. */
static int may_retry(omni_async *a, areq *r, CURLcode c)
{
    if (r->x.fail || r->retries >= a->retry_max)
        return 0;
    switch (c) {
    case CURLE_HTTP2:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: /* 7.88: "HTTP/2 stream N was not closed cleanly" */
        break;
    default:
        return 0;
    }
    long header_bytes = 0, code = 0;
    curl_off_t body_bytes = 0;
    curl_easy_getinfo(r->h, CURLINFO_HEADER_SIZE, &header_bytes);
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(r->h, CURLINFO_SIZE_DOWNLOAD_T, &body_bytes);
    if (header_bytes > 0 || code != 0 || body_bytes > 0 ||
        omni_http_response_header_count(r->tmp) > 0)
        return 0;
    uint64_t spent = now_ms() - r->started;
    return spent + 1 < r->timeout_ms;
}

static void finish_one(omni_async *a, areq *r, CURLcode c)
{
    curl_multi_remove_handle(a->multi, r->h);
    long connects = 0;
    if (curl_easy_getinfo(r->h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
        a->connections += (uint64_t)connects;
    /* curl's own retries of this attempt (refused stream, dead reused
     * connection): every send after the attempt's first */
    if (r->sends > 1)
        a->retries += r->sends - 1;
    r->sends = 0;
    if (c != CURLE_OK && may_retry(a, r, c)) {
        uint32_t left = (uint32_t)(r->timeout_ms - (now_ms() - r->started));
        omni__http_response_clear(r->tmp);
        r->errbuf[0] = '\0';
        r->retries++;
        a->retries++;
        curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(r->connect_ms < left ? r->connect_ms : left));
        if (start_request(a, r) == OMNI_OK)
            return;
        list_remove(&a->active, r);
        complete(a, r, omni_error_last_status());
        return;
    }
    int rc = omni__curl_finish(r->h, c, &r->x, r->errbuf, r->timeout_ms, a->resp);
    list_remove(&a->active, r);
    complete(a, r, rc);
}

/* Starts queued requests while there is room. */
static void start_queued(omni_async *a)
{
    while (!a->closing && a->queue.head && a->active.count < a->max_concurrent) {
        areq *r = a->queue.head;
        list_remove(&a->queue, r);
        int rc = start_request(a, r);
        if (rc) {
            complete(a, r, rc);
            continue;
        }
        list_push(&a->active, r);
        if (a->active.count > a->peak)
            a->peak = a->active.count;
    }
}

static void check_done(omni_async *a)
{
    CURLMsg *m;
    int left = 0;
    while (!a->closing && (m = curl_multi_info_read(a->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *h = m->easy_handle;
        CURLcode c = m->data.result; /* m is invalid once the handle is removed */
        char *priv = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        if (priv)
            finish_one(a, (areq *)priv, c);
    }
    start_queued(a);
    if (!a->closing)
        update_refs(a);
}

/* ---- public API ----------------------------------------------------------------- */

int omni_async_new(omni_async **out, void *uv_loop, const char *options_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "async transport: out is NULL");
    *out = NULL;
    if (!options_json && len)
        return omni__err(OMNI_EINVAL, "async transport options are NULL");
    int rc = omni__curl_global_init();
    if (rc)
        return rc;
    omni_async *a = calloc(1, sizeof(*a));
    if (!a)
        return omni__err(OMNI_ENOMEM, NULL);
    a->max_concurrent = OMNI_ASYNC_DEFAULT_CONCURRENT;
    a->max_queued = DEFAULT_MAX_QUEUED;
    a->max_response = DEFAULT_MAX_RESPONSE;
    a->timeout_ms = OMNI_HTTP_DEFAULT_TIMEOUT_MS;
    a->connect_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    a->retry_max = DEFAULT_RETRY;
    rc = parse_options(a, options_json, len);
    if (!rc && !a->user_agent) {
        a->user_agent = strdup("libomni/" OMNI_VERSION_STRING);
        if (!a->user_agent)
            rc = omni__err(OMNI_ENOMEM, NULL);
    }
    if (!rc) {
        a->idle_cap = a->max_concurrent < MAX_IDLE_HANDLES ? a->max_concurrent : MAX_IDLE_HANDLES;
        a->idle = calloc(a->idle_cap, sizeof(*a->idle));
        if (!a->idle)
            rc = omni__err(OMNI_ENOMEM, NULL);
    }
    if (!rc)
        rc = omni_http_response_new(&a->resp);
    if (rc) {
        free(a->idle);
        free(a->ca_file);
        free(a->user_agent);
        free(a);
        return rc;
    }
    if (uv_loop) {
        a->loop = uv_loop;
    } else {
        if (uv_loop_init(&a->own_loop) != 0) {
            omni_http_response_free(a->resp);
            free(a->idle);
            free(a->ca_file);
            free(a->user_agent);
            free(a);
            return omni__err(OMNI_EINTERNAL, "async transport: cannot create a libuv loop");
        }
        a->own = 1;
        a->loop = &a->own_loop;
    }
    a->multi = curl_multi_init();
    if (!a->multi || uv_timer_init(a->loop, &a->timer) != 0) {
        if (a->multi)
            curl_multi_cleanup(a->multi);
        if (a->own)
            uv_loop_close(&a->own_loop);
        omni_http_response_free(a->resp);
        free(a->idle);
        free(a->ca_file);
        free(a->user_agent);
        free(a);
        return omni__err(OMNI_EINTERNAL, "async transport: cannot set up libcurl or libuv");
    }
    a->timer.data = a;
    uv_unref((uv_handle_t *)&a->timer);
    a->h2c_no_reuse = curl_version_info(CURLVERSION_NOW)->version_num < 0x080000;
    long host_max = a->max_host_connections;
    if (host_max == 0 && a->http_version == HV_2)
        host_max = 1;
    long streams = a->max_concurrent > 100 ? (long)a->max_concurrent : 100;
    CURLMcode mc = curl_multi_setopt(a->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(a->multi, CURLMOPT_SOCKETDATA, a);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(a->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(a->multi, CURLMOPT_TIMERDATA, a);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(a->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(a->multi, CURLMOPT_MAX_HOST_CONNECTIONS, host_max);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(a->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, streams);
    if (mc != CURLM_OK) {
        omni_async_free(a);
        return omni__err(OMNI_EINTERNAL, "async transport: libcurl refused an option (%s)",
                         curl_multi_strerror(mc));
    }
    *out = a;
    return OMNI_OK;
}

int omni_async_send(omni_async *a, const omni_http_request *request, omni_async_cb cb,
                    void *user)
{
    if (!a || !request || !cb)
        return omni__err(OMNI_EINVAL, "async transport: NULL argument");
    if (a->closing)
        return omni__err(OMNI_ECANCELED, "async transport: the transport is closed");
    const char *url = omni_http_request_url(request);
    char host[256];
    omni__http_url_host(url, host, sizeof(host));
    if (omni__http_scheme_len(url) == 0)
        return omni__err(OMNI_EUNSUPPORTED,
                         "async transport: only http and https URLs are supported (%s)", host);
    if (a->http_version == HV_2 && !is_https(url) && !is_loopback(host))
        return omni__err(OMNI_EUNSUPPORTED,
                         "async transport: cleartext HTTP/2 is only allowed to loopback hosts, "
                         "not %s", host);
    int start_now = a->active.count < a->max_concurrent && a->queue.count == 0;
    if (!start_now && a->queue.count >= a->max_queued)
        return omni__err(OMNI_ETOOLARGE, "async transport: %zu requests are queued already",
                         a->queue.count);
    areq *r = calloc(1, sizeof(*r));
    if (!r)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__http_request_clone(&r->req, request);
    if (!rc)
        rc = omni_http_response_new(&r->tmp);
    if (rc) {
        omni_http_request_free(r->req);
        free(r);
        return rc;
    }
    r->cb = cb;
    r->user = user;
    memcpy(r->host, host, sizeof(host));
    r->x.tmp = r->tmp;
    r->x.max_response = a->max_response;
    r->x.host = r->host;
    omni__curl_timeouts(r->req, a->timeout_ms, a->connect_ms, &r->timeout_ms, &r->connect_ms);
    if (start_now) {
        rc = start_request(a, r);
        if (rc) {
            areq_free(a, r);
            return rc;
        }
        list_push(&a->active, r);
        if (a->active.count > a->peak)
            a->peak = a->active.count;
    } else {
        list_push(&a->queue, r);
    }
    a->sent++;
    update_refs(a);
    return OMNI_OK;
}

size_t omni_async_pending(const omni_async *a)
{
    return a ? in_flight(a) : 0;
}

int omni_async_stats(const omni_async *a, char **out, size_t *out_len)
{
    if (!a || !out)
        return omni__err(OMNI_EINVAL, "async transport: NULL argument");
    omni_buf b;
    omni__buf_init(&b, 0);
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "sent");
    omni__json_w_int(&b, (int64_t)a->sent);
    omni__json_w_key(&b, "succeeded");
    omni__json_w_int(&b, (int64_t)a->succeeded);
    omni__json_w_key(&b, "failed");
    omni__json_w_int(&b, (int64_t)a->failed);
    omni__json_w_key(&b, "canceled");
    omni__json_w_int(&b, (int64_t)a->canceled);
    omni__json_w_key(&b, "retries");
    omni__json_w_int(&b, (int64_t)a->retries);
    omni__json_w_key(&b, "connections");
    omni__json_w_int(&b, (int64_t)a->connections);
    omni__json_w_key(&b, "inFlight");
    omni__json_w_int(&b, (int64_t)a->active.count);
    omni__json_w_key(&b, "queued");
    omni__json_w_int(&b, (int64_t)a->queue.count);
    omni__json_w_key(&b, "peakInFlight");
    omni__json_w_int(&b, (int64_t)a->peak);
    omni__json_w_obj_end(&b);
    return omni__buf_detach(&b, out, out_len);
}

int omni_async_run(omni_async *a)
{
    if (!a)
        return omni__err(OMNI_EINVAL, "async transport: NULL argument");
    if (!a->own)
        return omni__err(OMNI_EINVAL, "async transport: omni_async_run drives only an own loop "
                                      "(this one runs on the host's loop)");
    if (a->running || a->uv_running || a->depth || a->in_done)
        return omni__err(OMNI_EINVAL, "async transport: omni_async_run called from a callback");
    a->running = 1;
    a->uv_running = 1;
    while (in_flight(a) > 0 || (a->closing && !a->closed)) {
        uv_run(a->loop, UV_RUN_DEFAULT);
        if (in_flight(a) > 0 && !a->closing) {
            /* Nothing referenced is left, yet requests wait: let curl look
             * at its transfers again (its timeouts end every one). */
            a->refd = 0;
            update_refs(a);
            uv_timer_start(&a->timer, on_timer, 1, 0);
        }
    }
    a->uv_running = 0;
    a->running = 0;
    if (a->free_pending && can_release(a))
        release_memory(a);
    return OMNI_OK;
}

/* Cancels everything and starts closing the handles; never releases the
 * memory (the public callers decide). */
static void do_close(omni_async *a, omni_async_done_cb done_cb, void *user)
{
    a->closing = 1;
    a->done_cb = done_cb;
    a->done_user = user;
    /* The poll handles stop while curl's sockets are still open. */
    while (a->socks)
        sock_close(a, a->socks);
    uv_timer_stop(&a->timer);
    a->closing_handles++;
    uv_close((uv_handle_t *)&a->timer, on_timer_closed);
    /* Every outstanding request, in the order they were sent. */
    req_list all = a->active;
    if (a->queue.head) {
        if (all.tail) {
            all.tail->next = a->queue.head;
            a->queue.head->prev = all.tail;
            all.tail = a->queue.tail;
        } else {
            all = a->queue;
        }
        all.count += a->queue.count;
    }
    memset(&a->active, 0, sizeof(a->active));
    memset(&a->queue, 0, sizeof(a->queue));
    for (areq *r = all.head; r; r = r->next)
        if (r->h)
            curl_multi_remove_handle(a->multi, r->h);
    curl_multi_cleanup(a->multi);
    a->multi = NULL;
    while (all.head) {
        areq *r = all.head;
        all.head = r->next;
        omni__err(OMNI_ECANCELED, "async transport: closed before the exchange with %s ended",
                  r->host);
        complete(a, r, OMNI_ECANCELED);
    }
    a->refd = 0;
    if (a->own && !a->uv_running && !a->depth && !a->in_done) {
        /* The close callbacks run now; done_cb with them. */
        a->uv_running = 1;
        uv_run(a->loop, UV_RUN_DEFAULT);
        a->uv_running = 0;
    }
}

void omni_async_close(omni_async *a, omni_async_done_cb done_cb, void *user)
{
    if (!a || a->closing)
        return;
    do_close(a, done_cb, user);
    /* omni_async_free from a callback during the close */
    if (a->free_pending && can_release(a))
        release_memory(a);
}

void omni_async_free(omni_async *a)
{
    if (!a || a->free_pending)
        return;
    a->free_pending = 1;
    if (!a->closing)
        do_close(a, NULL, NULL);
    if (can_release(a))
        release_memory(a);
    /* else: released once that is safe: at the end of the omni_async_run
     * or omni_async_close on the stack, or, on a host loop, once the
     * handles are closed */
}

#else /* !(OMNI_HAVE_CURL && OMNI_HAVE_UV) */

int omni_async_new(omni_async **out, void *uv_loop, const char *options_json, size_t len)
{
    (void)uv_loop;
    (void)options_json;
    (void)len;
    if (out)
        *out = NULL;
    return omni__err(OMNI_EUNSUPPORTED, "libomni was built without libcurl or libuv");
}

int omni_async_send(omni_async *a, const omni_http_request *request, omni_async_cb cb,
                    void *user)
{
    (void)a;
    (void)request;
    (void)cb;
    (void)user;
    return omni__err(OMNI_EINVAL, "async transport: NULL argument");
}

int omni_async_run(omni_async *a)
{
    (void)a;
    return omni__err(OMNI_EINVAL, "async transport: NULL argument");
}

size_t omni_async_pending(const omni_async *a)
{
    (void)a;
    return 0;
}

int omni_async_stats(const omni_async *a, char **out, size_t *out_len)
{
    (void)a;
    (void)out;
    (void)out_len;
    return omni__err(OMNI_EINVAL, "async transport: NULL argument");
}

void omni_async_close(omni_async *a, omni_async_done_cb done_cb, void *user)
{
    (void)a;
    (void)done_cb;
    (void)user;
}

void omni_async_free(omni_async *a)
{
    (void)a;
}

#endif
