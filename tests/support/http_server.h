/*
 * A small real HTTP/1.1 server for tests (test support, not part of libomni).
 *
 * It listens on 127.0.0.1 on an ephemeral port and runs in its own thread
 * (poll() over the listener, the connections and a wake-up pipe). It keeps
 * connections alive (several requests per connection, Content-Length
 * bodies), counts accepted connections, and records every request it
 * receives. Each request is answered by the next queued action
 * (omni_test_server_push), else by the handler given to _start, else with
 * 200 and the body "ok".
 *
 *     omni_test_server *srv;
 *     omni_test_server_start(&srv, NULL, NULL);
 *     omni_test_server_respond(srv, 201, "X-Id: 7\r\n", "created", 7);
 *     ... send to omni_test_server_url(srv, "/things") ...
 *     const omni_test_request *r = omni_test_server_request(srv, 0);
 *     omni_test_server_stop(srv);
 *
 * Thread-safety: every function may be called from any thread while the
 * server runs. The handler runs on the server's thread.
 */
#ifndef OMNI_TEST_HTTP_SERVER_H
#define OMNI_TEST_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni_test_server omni_test_server;

/* One received request, recorded exactly as it arrived. Owned by the
 * server; valid until omni_test_server_stop. */
typedef struct omni_test_request {
    size_t index;         /* order of arrival, from 0 */
    unsigned connection;  /* id of the connection it came on, from 1 */
    char *method;         /* "GET" */
    char *target;         /* request target as sent: "/path?query" */
    size_t header_count;
    char **header_names;  /* as sent (case kept) */
    char **header_values; /* leading/trailing whitespace removed */
    uint8_t *body;        /* body_len bytes, followed by a NUL */
    size_t body_len;
} omni_test_request;

typedef enum omni_test_action_kind {
    OMNI_TEST_RESPOND = 0, /* status, headers, body */
    OMNI_TEST_CLOSE = 1,   /* close the connection without answering */
    OMNI_TEST_HUGE = 2,    /* status, headers, then huge_len bytes of 'x' */
    OMNI_TEST_RAW = 3      /* send body[0..body_len) as is (garbage, 1xx...) */
} omni_test_action_kind;

/* What to do with one request. Every kind waits delay_ms first. */
typedef struct omni_test_action {
    int kind;            /* omni_test_action_kind */
    unsigned delay_ms;   /* wait before answering (timeouts) */
    int status;          /* RESPOND, HUGE: status code (0 means 200) */
    const char *headers; /* RESPOND, HUGE: extra lines "Name: value\r\n...", or NULL */
    const void *body;    /* RESPOND: the body; RAW: the bytes to send */
    size_t body_len;
    uint64_t huge_len;   /* HUGE: number of body bytes */
    int no_length;       /* HUGE: no Content-Length, the end of the body is the close */
    int close_after;     /* close the connection once the answer is sent */
} omni_test_action;

/* Decides the action for a request (on the server's thread). `act` arrives
 * filled with the default (200, "ok"); strings it points to need to live
 * only until the handler returns. */
typedef void (*omni_test_handler)(void *ctx, const omni_test_request *req,
                                  omni_test_action *act);

/* Starts a server. handler may be NULL. Returns 0, or -1 (errno set). */
int omni_test_server_start(omni_test_server **out, omni_test_handler handler, void *ctx);
/* Stops the thread, closes every connection, frees everything. Never
 * blocks on a client. NULL does nothing. */
void omni_test_server_stop(omni_test_server *srv);

uint16_t omni_test_server_port(const omni_test_server *srv);
/* "http://127.0.0.1:PORT" + path (path should start with '/'); the string
 * is owned by the server and lives until _stop. */
const char *omni_test_server_url(omni_test_server *srv, const char *path);

/* Queues an action (copied) for the next request without one. 0 or -1. */
int omni_test_server_push(omni_test_server *srv, const omni_test_action *act);
/* Shorthands for push. */
int omni_test_server_respond(omni_test_server *srv, int status, const char *headers,
                             const void *body, size_t body_len);
int omni_test_server_delay(omni_test_server *srv, unsigned delay_ms, int status,
                           const char *body);
int omni_test_server_close_next(omni_test_server *srv);

/* Connections accepted so far. */
size_t omni_test_server_connections(omni_test_server *srv);
/* Requests received so far, and the i-th of them (NULL when out of range). */
size_t omni_test_server_request_count(omni_test_server *srv);
const omni_test_request *omni_test_server_request(omni_test_server *srv, size_t i);
/* Waits up to timeout_ms until at least n requests arrived; 1 if so. */
int omni_test_server_wait_requests(omni_test_server *srv, size_t n, unsigned timeout_ms);

/* The first header of that name (ASCII case-insensitive), or NULL. */
const char *omni_test_request_header(const omni_test_request *req, const char *name);

#endif
