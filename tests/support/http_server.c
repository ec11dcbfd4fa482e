/* A small real HTTP/1.1 test server on 127.0.0.1 (see http_server.h). */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEAD (64u * 1024u)
#define MAX_BODY (64u * 1024u * 1024u)
#define CHUNK (64u * 1024u)

enum { ST_READING, ST_WAITING, ST_WRITING };

typedef struct owned_action {
    omni_test_action a; /* a.headers and a.body point into the copies below */
    char *headers;
    uint8_t *body;
} owned_action;

typedef struct conn {
    int fd;
    unsigned id;
    int state;
    char *in;
    size_t in_len, in_cap;
    int sent_continue;
    int64_t ready_at;
    owned_action act;
    int is_head;
    int client_close;
    char *out;
    size_t out_len, out_off;
    uint64_t huge_left;
    int close_when_done;
    int dead;
} conn;

struct omni_test_server {
    int lfd;
    int wake[2];
    uint16_t port;
    pthread_t thread;
    omni_test_handler handler;
    void *ctx;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    owned_action *queue;
    size_t q_head, q_count, q_cap;
    omni_test_request **reqs;
    size_t req_count, req_cap;
    size_t accepted;
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

const char *omni_test_request_header(const omni_test_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->header_count; i++)
        if (ieq(req->header_names[i], name))
            return req->header_values[i];
    return NULL;
}

/* ---- actions ------------------------------------------------------------ */

static void action_free(owned_action *o)
{
    free(o->headers);
    free(o->body);
    memset(o, 0, sizeof(*o));
}

static int action_copy(owned_action *dst, const omni_test_action *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->a = *src;
    if (src->headers) {
        dst->headers = strdup(src->headers);
        if (!dst->headers)
            return -1;
    }
    dst->body = malloc(src->body_len + 1);
    if (!dst->body) {
        free(dst->headers);
        return -1;
    }
    if (src->body_len)
        memcpy(dst->body, src->body, src->body_len);
    dst->body[src->body_len] = 0;
    dst->a.headers = dst->headers;
    dst->a.body = dst->body;
    return 0;
}

int omni_test_server_push(omni_test_server *srv, const omni_test_action *act)
{
    owned_action o;
    if (!srv || !act || action_copy(&o, act) != 0)
        return -1;
    pthread_mutex_lock(&srv->mu);
    if (srv->q_count == srv->q_cap) {
        size_t cap = srv->q_cap ? srv->q_cap * 2 : 8;
        owned_action *p = malloc(cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&srv->mu);
            action_free(&o);
            return -1;
        }
        for (size_t i = 0; i < srv->q_count; i++)
            p[i] = srv->queue[(srv->q_head + i) % srv->q_cap];
        free(srv->queue);
        srv->queue = p;
        srv->q_cap = cap;
        srv->q_head = 0;
    }
    srv->queue[(srv->q_head + srv->q_count) % srv->q_cap] = o;
    srv->q_count++;
    pthread_mutex_unlock(&srv->mu);
    return 0;
}

int omni_test_server_respond(omni_test_server *srv, int status, const char *headers,
                             const void *body, size_t body_len)
{
    omni_test_action a = {0};
    a.kind = OMNI_TEST_RESPOND;
    a.status = status;
    a.headers = headers;
    a.body = body;
    a.body_len = body_len;
    return omni_test_server_push(srv, &a);
}

int omni_test_server_delay(omni_test_server *srv, unsigned delay_ms, int status,
                           const char *body)
{
    omni_test_action a = {0};
    a.kind = OMNI_TEST_RESPOND;
    a.delay_ms = delay_ms;
    a.status = status;
    a.body = body;
    a.body_len = body ? strlen(body) : 0;
    return omni_test_server_push(srv, &a);
}

int omni_test_server_close_next(omni_test_server *srv)
{
    omni_test_action a = {0};
    a.kind = OMNI_TEST_CLOSE;
    return omni_test_server_push(srv, &a);
}

/* ---- queries ------------------------------------------------------------ */

uint16_t omni_test_server_port(const omni_test_server *srv)
{
    return srv ? srv->port : 0;
}

const char *omni_test_server_url(omni_test_server *srv, const char *path)
{
    if (!srv)
        return NULL;
    if (!path)
        path = "";
    size_t n = strlen(path) + 40;
    char *url = malloc(n);
    if (!url)
        return NULL;
    snprintf(url, n, "http://127.0.0.1:%u%s", (unsigned)srv->port, path);
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

size_t omni_test_server_connections(omni_test_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->accepted;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

size_t omni_test_server_request_count(omni_test_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->req_count;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

const omni_test_request *omni_test_server_request(omni_test_server *srv, size_t i)
{
    pthread_mutex_lock(&srv->mu);
    const omni_test_request *r = i < srv->req_count ? srv->reqs[i] : NULL;
    pthread_mutex_unlock(&srv->mu);
    return r;
}

int omni_test_server_wait_requests(omni_test_server *srv, size_t n, unsigned timeout_ms)
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
    while (srv->req_count < n)
        if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT)
            break;
    int ok = srv->req_count >= n;
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

/* ---- records ------------------------------------------------------------ */

static void request_free(omni_test_request *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->target);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    free(r->header_names);
    free(r->header_values);
    free(r->body);
    free(r);
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- the connection state machine --------------------------------------- */

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->dead = 1;
}

static void conn_free(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->in);
    free(c->out);
    action_free(&c->act);
    free(c);
}

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static int out_set(conn *c, const char *data, size_t len)
{
    free(c->out);
    c->out = malloc(len ? len : 1);
    if (!c->out)
        return -1;
    memcpy(c->out, data, len);
    c->out_len = len;
    c->out_off = 0;
    return 0;
}

static void try_parse(omni_test_server *srv, conn *c);

/* Writes what is pending; refills a huge body; finishes the answer. */
static void conn_write(omni_test_server *srv, conn *c)
{
    for (;;) {
        while (c->out_off < c->out_len) {
            ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return;
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                conn_close(c);
                return;
            }
            c->out_off += (size_t)n;
        }
        if (c->huge_left == 0)
            break;
        size_t n = c->huge_left < CHUNK ? (size_t)c->huge_left : CHUNK;
        if (c->out_len < n) {
            free(c->out);
            c->out = malloc(CHUNK);
            if (!c->out) {
                conn_close(c);
                return;
            }
        }
        memset(c->out, 'x', n);
        c->out_len = n;
        c->out_off = 0;
        c->huge_left -= n;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    if (c->close_when_done) {
        conn_close(c);
        return;
    }
    c->state = ST_READING;
    try_parse(srv, c);
}

/* Starts the answer of the current request (its delay is over). */
static void conn_answer(omni_test_server *srv, conn *c)
{
    const omni_test_action *a = &c->act.a;
    c->close_when_done = a->close_after || c->client_close;
    if (a->kind == OMNI_TEST_CLOSE) {
        conn_close(c);
        return;
    }
    if (a->kind == OMNI_TEST_RAW) {
        if (out_set(c, a->body, a->body_len) != 0) {
            conn_close(c);
            return;
        }
    } else {
        int status = a->status ? a->status : 200;
        int huge = a->kind == OMNI_TEST_HUGE;
        if (huge && a->no_length)
            c->close_when_done = 1;
        size_t hl = a->headers ? strlen(a->headers) : 0;
        size_t body_len = huge || c->is_head ? 0 : a->body_len;
        size_t cap = 256 + hl + body_len;
        char *buf = malloc(cap);
        if (!buf) {
            conn_close(c);
            return;
        }
        int n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\n", status, reason(status));
        size_t len = (size_t)n;
        if (!(huge && a->no_length)) {
            unsigned long long cl = huge ? (unsigned long long)a->huge_len
                                         : (unsigned long long)a->body_len;
            len += (size_t)snprintf(buf + len, cap - len, "Content-Length: %llu\r\n", cl);
        }
        if (c->close_when_done)
            len += (size_t)snprintf(buf + len, cap - len, "Connection: close\r\n");
        memcpy(buf + len, a->headers ? a->headers : "", hl);
        len += hl;
        memcpy(buf + len, "\r\n", 2);
        len += 2;
        memcpy(buf + len, a->body, body_len);
        len += body_len;
        free(c->out);
        c->out = buf;
        c->out_len = len;
        c->out_off = 0;
        c->huge_left = huge && !c->is_head ? a->huge_len : 0;
    }
    c->state = ST_WRITING;
    conn_write(srv, c);
}

static void record_and_decide(omni_test_server *srv, conn *c, omni_test_request *r)
{
    pthread_mutex_lock(&srv->mu);
    if (srv->req_count == srv->req_cap) {
        size_t cap = srv->req_cap ? srv->req_cap * 2 : 16;
        omni_test_request **p = realloc(srv->reqs, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&srv->mu);
            request_free(r);
            conn_close(c);
            return;
        }
        srv->reqs = p;
        srv->req_cap = cap;
    }
    r->index = srv->req_count;
    srv->reqs[srv->req_count++] = r;
    pthread_cond_broadcast(&srv->cv);
    int queued = srv->q_count > 0;
    action_free(&c->act);
    if (queued) {
        c->act = srv->queue[srv->q_head];
        srv->q_head = (srv->q_head + 1) % srv->q_cap;
        srv->q_count--;
    }
    pthread_mutex_unlock(&srv->mu);
    if (!queued) {
        omni_test_action a = {0};
        a.kind = OMNI_TEST_RESPOND;
        a.status = 200;
        a.body = "ok";
        a.body_len = 2;
        if (srv->handler)
            srv->handler(srv->ctx, r, &a);
        if (action_copy(&c->act, &a) != 0) {
            conn_close(c);
            return;
        }
    }
    c->ready_at = now_ms() + c->act.a.delay_ms;
    c->state = ST_WAITING;
    if (c->act.a.delay_ms == 0)
        conn_answer(srv, c);
}

static const char *find_crlfcrlf(const char *s, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == '\r' && s[i + 3] == '\n')
            return s + i;
    return NULL;
}

/* Parses complete requests from the input buffer while reading. */
static void try_parse(omni_test_server *srv, conn *c)
{
    while (!c->dead && c->state == ST_READING && c->in_len > 0) {
        if (c->in[0] < 'A' || c->in[0] > 'Z') {
            conn_close(c); /* not HTTP (a TLS hello, garbage) */
            return;
        }
        const char *end = find_crlfcrlf(c->in, c->in_len);
        if (!end) {
            if (c->in_len > MAX_HEAD)
                conn_close(c);
            return;
        }
        size_t head_len = (size_t)(end - c->in) + 4;
        /* request line */
        const char *line_end = memmem(c->in, head_len, "\r\n", 2);
        const char *sp1 = memchr(c->in, ' ', (size_t)(line_end - c->in));
        const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
        if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
            conn_close(c);
            return;
        }
        omni_test_request *r = calloc(1, sizeof(*r));
        if (!r) {
            conn_close(c);
            return;
        }
        r->connection = c->id;
        r->method = dupn(c->in, (size_t)(sp1 - c->in));
        r->target = dupn(sp1 + 1, (size_t)(sp2 - sp1 - 1));
        size_t content_length = 0;
        int bad = !r->method || !r->target, expect = 0;
        c->client_close = strncmp(sp2 + 1, "HTTP/1.0", 8) == 0;
        /* header lines */
        const char *p = line_end + 2;
        while (!bad && p < end + 2) {
            const char *le = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
            const char *colon = memchr(p, ':', (size_t)(le - p));
            if (!colon || colon == p) {
                bad = 1;
                break;
            }
            const char *vs = colon + 1, *ve = le;
            while (vs < ve && (*vs == ' ' || *vs == '\t'))
                vs++;
            while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            char **names = realloc(r->header_names, (r->header_count + 1) * sizeof(char *));
            if (names)
                r->header_names = names;
            char **values = realloc(r->header_values, (r->header_count + 1) * sizeof(char *));
            if (values)
                r->header_values = values;
            if (!names || !values) {
                bad = 1;
                break;
            }
            char *name = dupn(p, (size_t)(colon - p));
            char *value = dupn(vs, (size_t)(ve - vs));
            if (!name || !value) {
                free(name);
                free(value);
                bad = 1;
                break;
            }
            r->header_names[r->header_count] = name;
            r->header_values[r->header_count] = value;
            r->header_count++;
            if (ieq(name, "Content-Length")) {
                char *e;
                errno = 0;
                unsigned long long v = strtoull(value, &e, 10);
                if (!*value || *e || errno || v > MAX_BODY)
                    bad = 1;
                content_length = (size_t)v;
            } else if (ieq(name, "Transfer-Encoding")) {
                bad = 1; /* chunked request bodies are not supported */
            } else if (ieq(name, "Connection") && ieq(value, "close")) {
                c->client_close = 1;
            } else if (ieq(name, "Expect") && ieq(value, "100-continue")) {
                expect = 1;
            }
            p = le + 2;
        }
        if (bad) {
            request_free(r);
            conn_close(c);
            return;
        }
        if (c->in_len < head_len + content_length) {
            request_free(r);
            if (expect && !c->sent_continue) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                c->sent_continue = 1;
                if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                    conn_close(c);
            }
            return;
        }
        r->body = malloc(content_length + 1);
        if (!r->body) {
            request_free(r);
            conn_close(c);
            return;
        }
        memcpy(r->body, c->in + head_len, content_length);
        r->body[content_length] = 0;
        r->body_len = content_length;
        c->is_head = strcmp(r->method, "HEAD") == 0;
        c->sent_continue = 0;
        size_t used = head_len + content_length;
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        c->in[c->in_len] = '\0';
        record_and_decide(srv, c, r);
    }
}

static void conn_read(omni_test_server *srv, conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < CHUNK + 1) {
            size_t cap = c->in_cap ? c->in_cap * 2 : CHUNK * 2;
            if (cap > MAX_HEAD + MAX_BODY + CHUNK * 4) {
                conn_close(c);
                return;
            }
            char *p = realloc(c->in, cap);
            if (!p) {
                conn_close(c);
                return;
            }
            c->in = p;
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->in_len += (size_t)n;
        c->in[c->in_len] = '\0';
    }
    try_parse(srv, c);
}

static void accept_all(omni_test_server *srv)
{
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
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
        if (!c) {
            close(fd);
            continue;
        }
        pthread_mutex_lock(&srv->mu);
        c->id = (unsigned)++srv->accepted;
        pthread_mutex_unlock(&srv->mu);
        c->fd = fd;
        c->state = ST_READING;
        srv->conns[srv->conn_count++] = c;
    }
}

static void *server_main(void *arg)
{
    omni_test_server *srv = arg;
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
            short ev = c->state == ST_READING ? POLLIN : c->state == ST_WRITING ? POLLOUT : 0;
            pfds[i + 2] = (struct pollfd){c->fd, ev, 0};
            if (c->state == ST_WAITING) {
                int64_t left = c->ready_at > now ? c->ready_at - now : 0;
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
            if (c->state == ST_WAITING) {
                if (re & (POLLERR | POLLHUP | POLLNVAL))
                    conn_close(c);
                else if (now >= c->ready_at)
                    conn_answer(srv, c);
            } else if (c->state == ST_READING && (re & (POLLIN | POLLHUP | POLLERR))) {
                conn_read(srv, c);
            } else if (c->state == ST_WRITING && (re & (POLLOUT | POLLHUP | POLLERR))) {
                conn_write(srv, c);
            }
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

/* ---- start / stop ---------------------------------------------------------- */

int omni_test_server_start(omni_test_server **out, omni_test_handler handler, void *ctx)
{
    *out = NULL;
    omni_test_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -1;
    srv->handler = handler;
    srv->ctx = ctx;
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->lfd < 0) {
        free(srv);
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t alen = sizeof(addr);
    if (bind(srv->lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(srv->lfd, 64) != 0 ||
        getsockname(srv->lfd, (struct sockaddr *)&addr, &alen) != 0 ||
        pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        int e = errno;
        close(srv->lfd);
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
        free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void omni_test_server_stop(omni_test_server *srv)
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
    for (size_t i = 0; i < srv->q_count; i++)
        action_free(&srv->queue[(srv->q_head + i) % srv->q_cap]);
    free(srv->queue);
    for (size_t i = 0; i < srv->req_count; i++)
        request_free(srv->reqs[i]);
    free(srv->reqs);
    for (size_t i = 0; i < srv->url_count; i++)
        free(srv->urls[i]);
    free(srv->urls);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
}
