/* A small real HTTP/2 (h2c, prior knowledge) test server on libnghttp2 (see h2_server.h). */
#include "h2_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define READ_CHUNK (64u * 1024u)
#define WRITE_BATCH (64u * 1024u)
#define MAX_BODY (64u * 1024u * 1024u)

struct conn;

typedef struct stream {
    struct conn *c;
    int32_t id;
    omni_h2_request *req; /* being received; handed to the server once processed */
    size_t body_cap;
    int processed;
    /* the answer */
    int status;
    char *headers;
    uint8_t *body;
    size_t body_len, body_off, body_limit;
    int partial;
    uint32_t reset;
    int held; /* complete, waiting for the GOAWAY decision */
    int head; /* a HEAD request: the answer has no body */
    int64_t ready_at;
    struct stream *wait_prev, *wait_next; /* delayed answers of the connection */
    int waiting;
    struct stream *prev, *next; /* every stream of the connection */
} stream;

typedef struct conn {
    struct omni_h2_server *srv;
    int fd;
    unsigned id;
    SSL *ssl;          /* TLS mode */
    int handshaking;   /* TLS handshake not finished */
    int tls_want_write; /* OpenSSL waits for the socket to be writable */
    nghttp2_session *s;
    uint8_t *out;
    size_t out_len, out_off, out_cap;
    unsigned processed;      /* requests processed on this connection */
    int affected;            /* goaway/drop apply here */
    int goaway_sent;
    int32_t last_id;         /* of the GOAWAY */
    unsigned answered;       /* answers completely sent */
    int stop_processing;     /* drop_after reached: ignore further requests */
    int holding;             /* goaway_min_open: requests wait for the GOAWAY decision */
    size_t held_count;
    int64_t hold_until;
    size_t open;             /* streams open */
    int drop_now;
    int draining;      /* dropped: FIN sent, reading and discarding until the peer closes */
    int64_t drain_until;
    int dead;
    stream *waiting;
    stream *streams;
} conn;

struct omni_h2_server {
    int lfd;
    int wake[2];
    uint16_t port;
    pthread_t thread;
    omni_h2_handler handler;
    void *ctx;
    omni_h2_options opts;
    nghttp2_session_callbacks *cbs;
    nghttp2_option *option;
    SSL_CTX *tls;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    omni_h2_request **reqs;
    size_t req_count, req_cap;
    size_t processed, ignored, accepted, goaways, drops;
    size_t open_streams, peak_streams;
    char **urls;
    size_t url_count;

    /* the server thread's own state */
    conn **conns;
    size_t conn_count, conn_cap;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return 0;
    return *a == *b;
}

const char *omni_h2_request_header(const omni_h2_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->header_count; i++)
        if (ieq(req->header_names[i], name))
            return req->header_values[i];
    return NULL;
}

static char *dupn(const void *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void request_free(omni_h2_request *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->path);
    free(r->scheme);
    free(r->authority);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    free(r->header_names);
    free(r->header_values);
    free(r->body);
    free(r);
}

/* ---- queries -------------------------------------------------------------- */

uint16_t omni_h2_server_port(const omni_h2_server *srv)
{
    return srv ? srv->port : 0;
}

const char *omni_h2_server_url(omni_h2_server *srv, const char *path)
{
    if (!srv)
        return NULL;
    if (!path)
        path = "";
    size_t n = strlen(path) + 40;
    char *url = malloc(n);
    if (!url)
        return NULL;
    snprintf(url, n, "%s://127.0.0.1:%u%s", srv->tls ? "https" : "http", (unsigned)srv->port,
             path);
    pthread_mutex_lock(&srv->mu);
    char **p = realloc(srv->urls, (srv->url_count + 1) * sizeof(*p));
    if (!p) {
        pthread_mutex_unlock(&srv->mu);
        free(url);
        return NULL;
    }
    srv->urls = p;
    srv->urls[srv->url_count++] = url;
    pthread_mutex_unlock(&srv->mu);
    return url;
}

static size_t locked_get(omni_h2_server *srv, const size_t *field)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = *field;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

size_t omni_h2_server_connections(omni_h2_server *srv)
{
    return locked_get(srv, &srv->accepted);
}

size_t omni_h2_server_request_count(omni_h2_server *srv)
{
    return locked_get(srv, &srv->processed);
}

size_t omni_h2_server_ignored(omni_h2_server *srv)
{
    return locked_get(srv, &srv->ignored);
}

size_t omni_h2_server_peak_streams(omni_h2_server *srv)
{
    return locked_get(srv, &srv->peak_streams);
}

size_t omni_h2_server_goaways(omni_h2_server *srv)
{
    return locked_get(srv, &srv->goaways);
}

size_t omni_h2_server_drops(omni_h2_server *srv)
{
    return locked_get(srv, &srv->drops);
}

const omni_h2_request *omni_h2_server_request(omni_h2_server *srv, size_t i)
{
    pthread_mutex_lock(&srv->mu);
    const omni_h2_request *r = i < srv->req_count ? srv->reqs[i] : NULL;
    pthread_mutex_unlock(&srv->mu);
    return r;
}

int omni_h2_server_wait_requests(omni_h2_server *srv, size_t n, unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->mu);
    while (srv->processed < n)
        if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT)
            break;
    int ok = srv->processed >= n;
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

/* ---- streams -------------------------------------------------------------- */

static void wait_remove(stream *st)
{
    if (!st->waiting)
        return;
    if (st->wait_prev)
        st->wait_prev->wait_next = st->wait_next;
    else
        st->c->waiting = st->wait_next;
    if (st->wait_next)
        st->wait_next->wait_prev = st->wait_prev;
    st->wait_prev = st->wait_next = NULL;
    st->waiting = 0;
}

static void stream_free(stream *st)
{
    wait_remove(st);
    st->c->open--;
    if (st->prev)
        st->prev->next = st->next;
    else
        st->c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    request_free(st->req);
    free(st->headers);
    free(st->body);
    free(st);
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                         uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    (void)s;
    (void)id;
    (void)user_data;
    stream *st = source->ptr;
    size_t left = st->body_limit - st->body_off;
    size_t n = left < length ? left : length;
    if (n)
        memcpy(buf, st->body + st->body_off, n);
    st->body_off += n;
    if (st->body_off == st->body_limit) {
        if (!st->partial)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0)
            return NGHTTP2_ERR_DEFERRED; /* the rest never comes: the connection drops */
    }
    return (ssize_t)n;
}

/* Sends the decided answer of a processed stream. */
static void stream_answer(conn *c, stream *st)
{
    if (st->reset) {
        nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, st->id, st->reset);
        return;
    }
    nghttp2_nv nv[66];
    size_t nvlen = 0;
    char status[8], clen[24];
    snprintf(status, sizeof status, "%d", st->status);
    snprintf(clen, sizeof clen, "%zu", st->body_len);
    int with_data = (st->body_len > 0 && !st->head) || st->partial;
    nv[nvlen++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status, 7, strlen(status),
                               NGHTTP2_NV_FLAG_NONE};
    nv[nvlen++] = (nghttp2_nv){(uint8_t *)"content-length", (uint8_t *)clen, 14, strlen(clen),
                               NGHTTP2_NV_FLAG_NONE};
    /* "name: value\r\n" lines, names lower-cased in place */
    char *p = st->headers;
    while (p && *p && nvlen < 66) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        if (eol) {
            *eol = '\0';
            if (eol > p && eol[-1] == '\r')
                eol[-1] = '\0';
        }
        char *colon = strchr(p, ':');
        if (colon && colon > p) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            for (char *q = p; *q; q++)
                *q = (char)lower((unsigned char)*q);
            nv[nvlen++] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)v, strlen(p), strlen(v),
                                       NGHTTP2_NV_FLAG_NONE};
        }
        p = next;
    }
    if (st->head)
        st->body_len = 0; /* content-length announces the body a GET would get */
    st->body_limit = st->partial ? st->body_len / 2 : st->body_len;
    nghttp2_data_provider prd;
    prd.source.ptr = st;
    prd.read_callback = read_body;
    if (nghttp2_submit_response(c->s, st->id, nv, nvlen, with_data ? &prd : NULL) != 0)
        c->dead = 1;
}

/* A request is complete: process it (or not: GOAWAY, drop) and answer. */
static void stream_complete(conn *c, stream *st)
{
    omni_h2_server *srv = c->srv;
    if (st->processed || st->held)
        return;
    if (c->holding) {
        st->held = 1;
        if (c->held_count++ == 0)
            c->hold_until = now_ms() + 200;
        return;
    }
    if ((c->goaway_sent && st->id > c->last_id) || c->stop_processing || !st->req->method ||
        !st->req->path) {
        pthread_mutex_lock(&srv->mu);
        srv->ignored++;
        pthread_mutex_unlock(&srv->mu);
        if (!st->req->method || !st->req->path)
            nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return;
    }
    st->processed = 1;
    c->processed++;
    omni_h2_request *r = st->req;
    r->connection = c->id;
    r->stream_id = st->id;
    if (!r->scheme)
        r->scheme = dupn("", 0);
    if (!r->authority)
        r->authority = dupn("", 0);
    if (!r->body)
        r->body = (uint8_t *)dupn("", 0);
    omni_h2_response resp = {200, NULL, "ok", 2, 0, 0, 0};
    if (srv->handler)
        srv->handler(srv->ctx, r, &resp);
    st->status = resp.status ? resp.status : 200;
    st->headers = resp.headers ? dupn(resp.headers, strlen(resp.headers)) : NULL;
    st->body = (uint8_t *)dupn(resp.body ? resp.body : "", resp.body ? resp.body_len : 0);
    st->body_len = resp.body ? resp.body_len : 0;
    st->partial = resp.partial;
    st->reset = resp.reset;
    st->head = strcmp(r->method, "HEAD") == 0;
    if (!st->body || (resp.headers && !st->headers))
        c->dead = 1;

    pthread_mutex_lock(&srv->mu);
    r->index = srv->processed++;
    int keep = !srv->opts.no_record && srv->req_count < srv->req_cap;
    if (!srv->opts.no_record && !keep) {
        size_t cap = srv->req_cap ? srv->req_cap * 2 : 64;
        omni_h2_request **p = realloc(srv->reqs, cap * sizeof(*p));
        if (p) {
            srv->reqs = p;
            srv->req_cap = cap;
            keep = 1;
        }
    }
    if (keep) {
        srv->reqs[srv->req_count++] = r;
        st->req = NULL;
    }
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);

    if (c->affected && srv->opts.goaway_after && !srv->opts.goaway_min_open &&
        c->processed == srv->opts.goaway_after && !c->goaway_sent) {
        c->goaway_sent = 1;
        c->last_id = st->id;
        if (nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE, st->id, srv->opts.goaway_error, NULL,
                                  0) != 0)
            c->dead = 1;
        pthread_mutex_lock(&srv->mu);
        srv->goaways++;
        pthread_mutex_unlock(&srv->mu);
    }
    if (c->affected && srv->opts.drop_after && c->processed == srv->opts.drop_after)
        c->stop_processing = 1;

    if (resp.delay_ms) {
        st->ready_at = now_ms() + resp.delay_ms;
        st->waiting = 1;
        st->wait_prev = NULL;
        st->wait_next = c->waiting;
        if (c->waiting)
            c->waiting->wait_prev = st;
        c->waiting = st;
    } else {
        stream_answer(c, st);
    }
}

/* ---- nghttp2 callbacks ---------------------------------------------------- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    conn *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    stream *st = calloc(1, sizeof(*st));
    if (st)
        st->req = calloc(1, sizeof(*st->req));
    if (!st || !st->req) {
        free(st);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    st->c = c;
    st->id = frame->hd.stream_id;
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    c->open++;
    nghttp2_session_set_stream_user_data(s, st->id, st);
    omni_h2_server *srv = c->srv;
    pthread_mutex_lock(&srv->mu);
    if (++srv->open_streams > srv->peak_streams)
        srv->peak_streams = srv->open_streams;
    pthread_mutex_unlock(&srv->mu);
    return 0;
}

static int set_pseudo(char **field, const uint8_t *value, size_t len)
{
    if (*field)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* repeated: reset the stream */
    *field = dupn(value, len);
    return *field ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *ud)
{
    (void)flags;
    (void)ud;
    stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
    if (!st || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    omni_h2_request *r = st->req;
    if (namelen && name[0] == ':') {
        if (namelen == 7 && memcmp(name, ":method", 7) == 0)
            return set_pseudo(&r->method, value, valuelen);
        if (namelen == 5 && memcmp(name, ":path", 5) == 0)
            return set_pseudo(&r->path, value, valuelen);
        if (namelen == 7 && memcmp(name, ":scheme", 7) == 0)
            return set_pseudo(&r->scheme, value, valuelen);
        if (namelen == 10 && memcmp(name, ":authority", 10) == 0)
            return set_pseudo(&r->authority, value, valuelen);
        return 0;
    }
    char **names = realloc(r->header_names, (r->header_count + 1) * sizeof(char *));
    if (!names)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    r->header_names = names;
    char **values = realloc(r->header_values, (r->header_count + 1) * sizeof(char *));
    if (!values)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    r->header_values = values;
    char *n = dupn(name, namelen), *v = dupn(value, valuelen);
    if (!n || !v) {
        free(n);
        free(v);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    r->header_names[r->header_count] = n;
    r->header_values[r->header_count] = v;
    r->header_count++;
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *ud)
{
    (void)flags;
    (void)ud;
    stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (!st || !st->req)
        return 0;
    omni_h2_request *r = st->req;
    if (r->body_len + len > MAX_BODY)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (r->body_len + len + 1 > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 256;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        uint8_t *p = realloc(r->body, cap);
        if (!p)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        r->body = p;
        st->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = 0;
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    conn *c = ud;
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
        if (st && st->req)
            stream_complete(c, st);
    }
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    conn *c = ud;
    stream *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
    if (!st || !st->processed)
        return 0;
    if (st->partial && ((frame->hd.type == NGHTTP2_DATA && st->body_off == st->body_limit) ||
                        (frame->hd.type == NGHTTP2_HEADERS && st->body_limit == 0))) {
        c->drop_now = 1;
        return 0;
    }
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        c->answered++;
        omni_h2_server *srv = c->srv;
        if (c->affected && srv->opts.drop_after && c->answered >= srv->opts.drop_after)
            c->drop_now = 1;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
    (void)error_code;
    conn *c = ud;
    stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    omni_h2_server *srv = c->srv;
    pthread_mutex_lock(&srv->mu);
    srv->open_streams--;
    pthread_mutex_unlock(&srv->mu);
    stream_free(st);
    return 0;
}

/* ---- connections ---------------------------------------------------------- */

static void conn_free(conn *c)
{
    if (c->s)
        nghttp2_session_del(c->s); /* calls no stream-close callback */
    size_t open = 0;
    while (c->streams) {
        stream_free(c->streams);
        open++;
    }
    if (open) {
        pthread_mutex_lock(&c->srv->mu);
        c->srv->open_streams -= open;
        pthread_mutex_unlock(&c->srv->mu);
    }
    if (c->ssl)
        SSL_free(c->ssl); /* no close_notify: the connection simply ends */
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    free(c);
}

/* ---- raw I/O (TCP or TLS) ----------------------------------------------------------- */

/* > 0 bytes, 0 would block, -1 closed or failed. */
static ssize_t io_recv(conn *c, uint8_t *buf, size_t n)
{
    if (!c->ssl) {
        for (;;) {
            ssize_t r = recv(c->fd, buf, n, MSG_DONTWAIT);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            return r <= 0 ? -1 : r;
        }
    }
    int r = SSL_read(c->ssl, buf, n > 1u << 30 ? 1 << 30 : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ)
        return 0;
    if (e == SSL_ERROR_WANT_WRITE) {
        c->tls_want_write = 1;
        return 0;
    }
    return -1;
}

static ssize_t io_send(conn *c, const uint8_t *buf, size_t n)
{
    if (!c->ssl) {
        for (;;) {
            ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
            return r <= 0 ? -1 : r;
        }
    }
    int r = SSL_write(c->ssl, buf, n > 1u << 30 ? 1 << 30 : (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
        return 0;
    }
    return -1;
}

/* Advances the TLS handshake: 1 done, 0 in progress, -1 failed (or no h2). */
static int tls_handshake(conn *c)
{
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        const unsigned char *alpn = NULL;
        unsigned len = 0;
        SSL_get0_alpn_selected(c->ssl, &alpn, &len);
        if (len != 2 || memcmp(alpn, "h2", 2) != 0)
            return -1;
        c->handshaking = 0;
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    ERR_clear_error();
    if (e == SSL_ERROR_WANT_READ)
        return 0;
    if (e == SSL_ERROR_WANT_WRITE) {
        c->tls_want_write = 1;
        return 0;
    }
    return -1;
}

static int out_append(conn *c, const uint8_t *data, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : WRITE_BATCH * 2;
        while (cap < c->out_len + n)
            cap *= 2;
        uint8_t *p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    return 0;
}

/* Ends the connection so that every answer sent so far reaches the client:
 * FIN (shutdown), then the socket is closed once the client has acknowledged
 * all our bytes (SIOCOUTQ 0), reading and discarding what it still sends.
 * A plain close() with requests unread in the socket would send a RST and
 * discard answers not yet transmitted: the client would lose responses the
 * server processed. */
static void conn_finish(conn *c)
{
    shutdown(c->fd, SHUT_WR);
    c->draining = 1;
    c->drain_until = now_ms() + 1000;
}

static void conn_drop(conn *c)
{
    omni_h2_server *srv = c->srv;
    pthread_mutex_lock(&srv->mu);
    srv->drops++;
    pthread_mutex_unlock(&srv->mu);
    conn_finish(c);
}

static void conn_drain(conn *c, int64_t now)
{
    uint8_t buf[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n > 0)
            continue;
        c->dead = 1; /* the peer closed too (or failed) */
        return;
    }
    int unacked = 0;
    if (ioctl(c->fd, SIOCOUTQ, &unacked) != 0 || unacked == 0 || now >= c->drain_until)
        c->dead = 1;
}

/* 1 when a stream with an id up to last is still open (its request or its
 * answer is not complete). */
static int open_below(const conn *c, int32_t last)
{
    for (const stream *st = c->streams; st; st = st->next)
        if (st->id <= last)
            return 1;
    return 0;
}

/* Sends what nghttp2 has to send; closes when done with a GOAWAY'd connection. */
static void conn_flush(conn *c)
{
    while (!c->dead && !c->draining) {
        if (c->handshaking)
            return;
        while (c->out_off < c->out_len) {
            ssize_t n = io_send(c, c->out + c->out_off, c->out_len - c->out_off);
            if (n == 0)
                return;
            if (n < 0) {
                c->dead = 1;
                return;
            }
            c->out_off += (size_t)n;
        }
        c->out_len = c->out_off = 0;
        if (c->drop_now) {
            conn_drop(c);
            return;
        }
        for (;;) {
            const uint8_t *data = NULL;
            ssize_t n = nghttp2_session_mem_send(c->s, &data);
            if (n < 0) {
                c->dead = 1;
                return;
            }
            if (n == 0)
                break;
            if (out_append(c, data, (size_t)n) != 0) {
                c->dead = 1;
                return;
            }
            if (c->out_len >= WRITE_BATCH || c->drop_now)
                break;
        }
        if (c->out_len == 0)
            break;
    }
    if (c->dead || c->draining)
        return;
    if (c->goaway_sent && !c->waiting && !nghttp2_session_want_write(c->s) &&
        !open_below(c, c->last_id))
        conn_finish(c); /* every stream up to last-stream-id is answered */
    else if (!nghttp2_session_want_read(c->s) && !nghttp2_session_want_write(c->s))
        conn_finish(c); /* nghttp2 ended the session (its GOAWAY is sent) */
}

static void check_hold(conn *c, int64_t now);

static void conn_read(conn *c)
{
    uint8_t buf[READ_CHUNK];
    c->tls_want_write = 0;
    if (c->handshaking) {
        int h = tls_handshake(c);
        if (h < 0)
            c->dead = 1;
        if (h <= 0)
            return;
    }
    for (int rounds = 0; rounds < 16 && !c->dead; rounds++) {
        ssize_t n = io_recv(c, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            c->dead = 1;
            return;
        }
        ssize_t used = nghttp2_session_mem_recv(c->s, buf, (size_t)n);
        if (used < 0) {
            c->dead = 1;
            return;
        }
        check_hold(c, now_ms());
        if ((size_t)n < sizeof buf && !(c->ssl && SSL_pending(c->ssl) > 0))
            break;
    }
    conn_flush(c);
}

/* goaway_min_open: once goaway_after requests arrived and goaway_min_open
 * streams are open (or 200 ms passed), GOAWAY names the goaway_after-th
 * request's stream; the held requests up to it are processed, the others
 * not. Fewer than goaway_after by then: all are processed, no GOAWAY. */
static void check_hold(conn *c, int64_t now)
{
    omni_h2_server *srv = c->srv;
    if (!c->holding || c->held_count == 0)
        return;
    int enough = c->held_count >= srv->opts.goaway_after;
    if (!(enough && c->open >= srv->opts.goaway_min_open) && now < c->hold_until)
        return;
    c->holding = 0;
    /* the streams list runs from the newest (highest id) to the oldest */
    stream *oldest = c->streams;
    while (oldest && oldest->next)
        oldest = oldest->next;
    if (enough) {
        /* the goaway_after-th stream by id, complete or not: the ones up to
         * it still complete and are processed */
        size_t k = 0;
        for (stream *st = oldest; st; st = st->prev)
            if (++k == srv->opts.goaway_after) {
                c->last_id = st->id;
                break;
            }
        c->goaway_sent = 1;
        if (nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE, c->last_id, srv->opts.goaway_error,
                                  NULL, 0) != 0)
            c->dead = 1;
        pthread_mutex_lock(&srv->mu);
        srv->goaways++;
        pthread_mutex_unlock(&srv->mu);
    }
    for (stream *st = oldest; st;) {
        stream *prev = st->prev; /* answering may not free it, but be safe */
        if (st->held) {
            st->held = 0;
            stream_complete(c, st);
        }
        st = prev;
    }
}

static void conn_timers(conn *c, int64_t now)
{
    stream *st = c->waiting;
    while (st) {
        stream *next = st->wait_next;
        if (now >= st->ready_at) {
            wait_remove(st);
            stream_answer(c, st);
        }
        st = next;
    }
}

static void accept_all(omni_h2_server *srv)
{
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof(*c));
        if (c && srv->conn_count == srv->conn_cap) {
            size_t cap = srv->conn_cap ? srv->conn_cap * 2 : 16;
            conn **p = realloc(srv->conns, cap * sizeof(*p));
            if (p) {
                srv->conns = p;
                srv->conn_cap = cap;
            } else {
                free(c);
                c = NULL;
            }
        }
        if (c && nghttp2_session_server_new2(&c->s, srv->cbs, c, srv->option) != 0) {
            free(c);
            c = NULL;
        }
        if (!c) {
            close(fd);
            continue;
        }
        c->srv = srv;
        c->fd = fd;
        if (srv->tls) {
            c->ssl = SSL_new(srv->tls);
            if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
                c->dead = 1;
            else
                SSL_set_accept_state(c->ssl);
            c->handshaking = 1;
        }
        pthread_mutex_lock(&srv->mu);
        c->id = (unsigned)++srv->accepted;
        pthread_mutex_unlock(&srv->mu);
        c->affected = srv->opts.affected_connections == 0 ||
                      c->id <= srv->opts.affected_connections;
        c->holding = c->affected && srv->opts.goaway_after && srv->opts.goaway_min_open;
        nghttp2_settings_entry iv[2] = {
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, srv->opts.max_concurrent_streams},
            {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
        };
        if (nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, 2) != 0)
            c->dead = 1;
        srv->conns[srv->conn_count++] = c;
        conn_flush(c);
    }
}

static void *server_main(void *arg)
{
    omni_h2_server *srv = arg;
    /* OpenSSL writes with write(): a peer that went away must give EPIPE,
     * not kill the process */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    struct pollfd *pfds = NULL;
    size_t pcap = 0;
    for (;;) {
        size_t need = srv->conn_count + 2;
        if (need > pcap) {
            struct pollfd *p = realloc(pfds, need * 2 * sizeof(*p));
            if (!p)
                break;
            pfds = p;
            pcap = need * 2;
        }
        pfds[0] = (struct pollfd){srv->wake[0], POLLIN, 0};
        pfds[1] = (struct pollfd){srv->lfd, POLLIN, 0};
        int64_t now = now_ms(), wait = -1;
        for (size_t i = 0; i < srv->conn_count; i++) {
            conn *c = srv->conns[i];
            short ev = POLLIN;
            if (!c->draining && (c->out_off < c->out_len || c->tls_want_write))
                ev |= POLLOUT;
            pfds[i + 2] = (struct pollfd){c->fd, ev, 0};
            if (c->draining) {
                if (wait < 0 || wait > 1)
                    wait = 1; /* looks at the send queue again soon */
                continue;
            }
            if (c->holding && c->held_count) {
                int64_t left = c->hold_until > now ? c->hold_until - now : 0;
                if (wait < 0 || left < wait)
                    wait = left;
            }
            for (stream *st = c->waiting; st; st = st->wait_next) {
                int64_t left = st->ready_at > now ? st->ready_at - now : 0;
                if (wait < 0 || left < wait)
                    wait = left;
            }
        }
        int n = poll(pfds, srv->conn_count + 2, (int)wait);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfds[0].revents & POLLIN))
            break;
        size_t count = srv->conn_count; /* accepted ones join the next round */
        if (n > 0 && (pfds[1].revents & POLLIN))
            accept_all(srv);
        now = now_ms();
        for (size_t i = 0; i < count; i++) {
            conn *c = srv->conns[i];
            short re = n > 0 ? pfds[i + 2].revents : 0;
            if (c->dead)
                continue;
            if (c->draining) {
                conn_drain(c, now);
                continue;
            }
            if ((re & (POLLIN | POLLHUP | POLLERR)) || (c->handshaking && (re & POLLOUT)))
                conn_read(c);
            if (!c->dead && !c->draining)
                check_hold(c, now);
            if (!c->dead && !c->draining && c->waiting)
                conn_timers(c, now);
            if (!c->dead)
                conn_flush(c);
        }
        size_t k = 0;
        for (size_t i = 0; i < srv->conn_count; i++) {
            if (srv->conns[i]->dead)
                conn_free(srv->conns[i]);
            else
                srv->conns[k++] = srv->conns[i];
        }
        srv->conn_count = k;
    }
    free(pfds);
    return NULL;
}

/* ---- start / stop ----------------------------------------------------------- */

/* ALPN: "h2" or nothing (the handshake then ends without h2 and the
 * connection is closed). */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (unsigned i = 0; i < inlen;) {
        unsigned n = in[i];
        if (i + 1 + n > inlen)
            break;
        if (n == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int omni_h2_server_start(omni_h2_server **out, const omni_h2_options *opts,
                         omni_h2_handler handler, void *ctx)
{
    *out = NULL;
    omni_h2_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -1;
    if (opts)
        srv->opts = *opts;
    if (!srv->opts.max_concurrent_streams)
        srv->opts.max_concurrent_streams = 100;
    srv->handler = handler;
    srv->ctx = ctx;
    if (srv->opts.tls_cert_file && srv->opts.tls_key_file) {
        srv->tls = SSL_CTX_new(TLS_server_method());
        if (!srv->tls ||
            SSL_CTX_use_certificate_chain_file(srv->tls, srv->opts.tls_cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(srv->tls, srv->opts.tls_key_file, SSL_FILETYPE_PEM) != 1) {
            ERR_clear_error();
            SSL_CTX_free(srv->tls);
            free(srv);
            return -1;
        }
        SSL_CTX_set_min_proto_version(srv->tls, TLS1_2_VERSION);
        SSL_CTX_set_mode(srv->tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                       SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_alpn_select_cb(srv->tls, alpn_select, NULL);
    }
    srv->opts.tls_cert_file = srv->opts.tls_key_file = NULL; /* not kept */
    if (nghttp2_session_callbacks_new(&srv->cbs) != 0) {
        SSL_CTX_free(srv->tls);
        free(srv);
        return -1;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(srv->cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(srv->cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(srv->cbs, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(srv->cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(srv->cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(srv->cbs, on_stream_close);
    if (nghttp2_option_new(&srv->option) != 0) {
        nghttp2_session_callbacks_del(srv->cbs);
        SSL_CTX_free(srv->tls);
        free(srv);
        return -1;
    }
    /* libcurl 7.88 resets (RST_STREAM) every stream whose answer has no body;
     * nghttp2's rapid-reset defence (1000 at once, 33 per second) would end
     * the connection every ~1000 such requests. Lifted unless asked for. */
    if (!srv->opts.strict_reset_limit)
        nghttp2_option_set_stream_reset_rate_limit(srv->option, UINT64_MAX / 2, UINT64_MAX / 2);
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->lfd < 0) {
        nghttp2_session_callbacks_del(srv->cbs);
        nghttp2_option_del(srv->option);
        SSL_CTX_free(srv->tls);
        free(srv);
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(addr);
    if (bind(srv->lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(srv->lfd, 128) != 0 ||
        getsockname(srv->lfd, (struct sockaddr *)&addr, &alen) != 0 ||
        pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        int e = errno;
        close(srv->lfd);
        nghttp2_session_callbacks_del(srv->cbs);
        nghttp2_option_del(srv->option);
        SSL_CTX_free(srv->tls);
        free(srv);
        errno = e;
        return -1;
    }
    srv->port = ntohs(addr.sin_port);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);
    if (pthread_create(&srv->thread, NULL, server_main, srv) != 0) {
        close(srv->lfd);
        close(srv->wake[0]);
        close(srv->wake[1]);
        pthread_mutex_destroy(&srv->mu);
        pthread_cond_destroy(&srv->cv);
        nghttp2_session_callbacks_del(srv->cbs);
        nghttp2_option_del(srv->option);
        SSL_CTX_free(srv->tls);
        free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void omni_h2_server_stop(omni_h2_server *srv)
{
    if (!srv)
        return;
    ssize_t w;
    do {
        w = write(srv->wake[1], "x", 1);
    } while (w < 0 && errno == EINTR);
    pthread_join(srv->thread, NULL);
    for (size_t i = 0; i < srv->conn_count; i++)
        conn_free(srv->conns[i]);
    free(srv->conns);
    close(srv->lfd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    for (size_t i = 0; i < srv->req_count; i++)
        request_free(srv->reqs[i]);
    free(srv->reqs);
    for (size_t i = 0; i < srv->url_count; i++)
        free(srv->urls[i]);
    free(srv->urls);
    nghttp2_session_callbacks_del(srv->cbs);
    nghttp2_option_del(srv->option);
    SSL_CTX_free(srv->tls);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
}
