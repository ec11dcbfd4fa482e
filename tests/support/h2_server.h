/*
 * A small real HTTP/2 server for tests and benchmarks (test support, not part
 * of libomni), on libnghttp2.
 *
 * It listens on 127.0.0.1 on an ephemeral port and speaks cleartext HTTP/2
 * with prior knowledge (h2c: the client starts with the connection preface,
 * no Upgrade), or HTTP/2 over TLS (ALPN "h2") with a certificate the test
 * gives (tests/data/tls), in its own thread (poll() over the listener, the
 * connections and a wake-up pipe). Many connections, many concurrent streams on each
 * (SETTINGS_MAX_CONCURRENT_STREAMS configurable). Every request it processes
 * is recorded (pseudo-headers, headers, body, connection id, stream id) and
 * answered through the handler (status, headers, body, an optional delay),
 * so a test can answer like APNs. It can be told to misbehave on some
 * connections:
 *  - goaway_after N: once the N-th request of a connection is processed,
 *    send GOAWAY with last-stream-id = that request's stream (error code
 *    goaway_error); streams above it are not processed (RFC 9113 section
 *    6.8), the ones up to it are answered, then the connection is closed.
 *    With goaway_min_open M, requests are held until N arrived and M
 *    streams are open (or 200 ms passed), so that the GOAWAY finds many
 *    streams in flight;
 *  - drop_after N: requests after the N-th of a connection are not
 *    processed; once the N-th answer is sent, the connection is closed
 *    abruptly (no GOAWAY);
 *  - a handler can answer with a partial response (headers and half the
 *    body, then the connection is dropped) or reset the stream.
 *
 *     omni_h2_server *srv;
 *     omni_h2_server_start(&srv, NULL, handler, ctx);
 *     ... send to omni_h2_server_url(srv, "/3/device/abc") ...
 *     const omni_h2_request *r = omni_h2_server_request(srv, 0);
 *     omni_h2_server_stop(srv);
 *
 * Thread-safety: every function may be called from any thread while the
 * server runs. The handler runs on the server's thread.
 */
#ifndef OMNI_TEST_H2_SERVER_H
#define OMNI_TEST_H2_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni_h2_server omni_h2_server;

/* One processed request. Owned by the server; valid until _stop. */
typedef struct omni_h2_request {
    size_t index;         /* order of processing, from 0 */
    unsigned connection;  /* id of its connection, from 1 */
    int32_t stream_id;
    char *method;         /* :method */
    char *path;           /* :path */
    char *scheme;         /* :scheme */
    char *authority;      /* :authority ("" when absent) */
    size_t header_count;  /* regular header fields, as received (lower case) */
    char **header_names;
    char **header_values;
    uint8_t *body; /* body_len bytes, followed by a NUL */
    size_t body_len;
} omni_h2_request;

/* The answer to one request; the handler gets it filled with 200 "ok". */
typedef struct omni_h2_response {
    int status;          /* 0 means 200 */
    const char *headers; /* "name: value\r\n" lines (names are lower-cased), or NULL */
    const void *body;
    size_t body_len;
    unsigned delay_ms;   /* answer this much later (other streams go on meanwhile) */
    uint32_t reset;      /* non-zero: RST_STREAM with this error code, no answer */
    int partial;         /* send the headers and half the body, then drop the connection */
} omni_h2_response;

/* Decides the answer (on the server's thread); strings the response points
 * to need to live only until the handler returns. */
typedef void (*omni_h2_handler)(void *ctx, const omni_h2_request *req, omni_h2_response *resp);

typedef struct omni_h2_options {
    uint32_t max_concurrent_streams; /* 0: 100 */
    unsigned goaway_after;           /* 0: never */
    uint32_t goaway_error;           /* 0: NO_ERROR */
    size_t goaway_min_open;          /* hold requests until this many streams are open */
    unsigned drop_after;             /* 0: never */
    unsigned affected_connections;   /* goaway/drop on connections 1..N only; 0: all */
    int no_record;                   /* count requests without keeping them (benchmarks) */
    int strict_reset_limit;          /* keep nghttp2's rapid-reset defence (1000 RST_STREAM at
                                      * once, 33/s; then GOAWAY ENHANCE_YOUR_CALM): off by
                                      * default, libcurl 7.88 resets every body-less answer */
    const char *tls_cert_file;       /* both set: TLS (PEM certificate chain and key) */
    const char *tls_key_file;
} omni_h2_options;

/* Starts a server; opts and handler may be NULL. Returns 0, or -1. */
int omni_h2_server_start(omni_h2_server **out, const omni_h2_options *opts,
                         omni_h2_handler handler, void *ctx);
/* Stops the thread, closes every connection, frees everything. NULL does
 * nothing. */
void omni_h2_server_stop(omni_h2_server *srv);

uint16_t omni_h2_server_port(const omni_h2_server *srv);
/* "http://127.0.0.1:PORT" + path ("https://" with TLS); owned by the server
 * until _stop. */
const char *omni_h2_server_url(omni_h2_server *srv, const char *path);

/* Connections accepted so far. */
size_t omni_h2_server_connections(omni_h2_server *srv);
/* Requests processed so far (handler called), and the i-th of them (NULL
 * when out of range or with no_record). */
size_t omni_h2_server_request_count(omni_h2_server *srv);
const omni_h2_request *omni_h2_server_request(omni_h2_server *srv, size_t i);
/* Requests received but not processed (above a GOAWAY's last-stream-id, or
 * after drop_after). */
size_t omni_h2_server_ignored(omni_h2_server *srv);
/* The most streams open at the same time, over all connections. */
size_t omni_h2_server_peak_streams(omni_h2_server *srv);
/* GOAWAY frames sent and connections dropped abruptly. */
size_t omni_h2_server_goaways(omni_h2_server *srv);
size_t omni_h2_server_drops(omni_h2_server *srv);
/* Waits up to timeout_ms until at least n requests were processed; 1 if so. */
int omni_h2_server_wait_requests(omni_h2_server *srv, size_t n, unsigned timeout_ms);

/* The first header of that name (ASCII case-insensitive), or NULL. */
const char *omni_h2_request_header(const omni_h2_request *req, const char *name);

#endif
