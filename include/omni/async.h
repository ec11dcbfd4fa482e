/*
 * libomni — the asynchronous HTTP transport: many requests in flight on a
 * libuv loop through libcurl's multi interface (one uv_poll handle per
 * socket and one uv_timer for curl's timeouts).
 *
 * It runs on its own loop (omni_async_run drives it) or on a host's loop,
 * for example Node's (napi_get_uv_event_loop), so a host fans out requests
 * without blocking its event loop. Requests follow the rules of the curl
 * transport (omni/http.h): TLS peer and host verification always on, only
 * http and https (smtp and smtps are OMNI_EUNSUPPORTED here), no redirects,
 * the same header handling, the same response size limit and the same
 * errors with the same messages (OMNI_ETIMEOUT, OMNI_ECONNECT, OMNI_ETLS,
 * OMNI_ERESPONSE, OMNI_ETRANSPORT; messages name the host at most, never a
 * URL path, header value or body).
 *
 * HTTP/2: requests to one host are multiplexed over one connection
 * (CURLPIPE_MULTIPLEX, PIPEWAIT: requests started together wait for the
 * first connection instead of opening their own), as APNs wants. HTTP/1.1:
 * connections are kept alive and reused (FCM, Web Push). Note: libcurl 7.88
 * ends every HTTP/2 stream whose answer has no body (APNs' 200) with
 * RST_STREAM; a server defending against "rapid reset" (nghttp2 >= 1.57:
 * 1000 at once, 33 per second) then closes the connection with GOAWAY
 * ENHANCE_YOUR_CALM every ~1000 requests, which the transport survives as
 * any GOAWAY (the refused requests go again on a new connection).
 *
 * GOAWAY and connection loss: a request whose stream the server refused
 * (above a GOAWAY's last-stream-id, RST_STREAM REFUSED_STREAM) or whose
 * connection broke before ANY byte of its response arrived is sent again on
 * a new connection, at most "retryUnanswered" times; a request that got any
 * response byte is never sent again (its failure is reported). libcurl
 * itself already starts refused streams and requests on a dead reused
 * connection over again on a fresh connection (at most 5 times; these
 * count in "connections", not in "retries"); the transport's own retries
 * cover what curl reports as failed.
 *
 * Thread-safety: an omni_async belongs to the thread that runs its loop
 * (for an own loop: one thread at a time). Every function must be called
 * on that thread, and every callback runs on it. Different omni_async
 * objects are independent.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_ASYNC_H
#define OMNI_ASYNC_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_async omni_async;
typedef struct omni_http_request omni_http_request;
typedef struct omni_http_response omni_http_response;

#define OMNI_ASYNC_MAX_CONCURRENT 10000
#define OMNI_ASYNC_DEFAULT_CONCURRENT 256

/*
 * A new asynchronous transport.
 *
 * uv_loop: a uv_loop_t * of the host, or NULL for an own loop that
 * omni_async_run drives. On a host loop the transport's handles are
 * unreferenced (uv_unref) while nothing is in flight, so an idle transport
 * never keeps the loop alive.
 *
 * options_json (NULL or "" for defaults, at most 64 KiB):
 *   {"maxConcurrent": 256,      requests in flight at once, 1..10000; more
 *                               sends wait in a queue and start in order
 *    "maxQueued": 100000,       requests waiting at most, 1..10000000 (a send
 *                               beyond fails with OMNI_ETOOLARGE)
 *    "timeoutMs": 10000,        default per-request timeout, 1..3600000
 *    "connectTimeoutMs": 5000,  1..3600000 (never more than the timeout)
 *    "maxResponseBytes": 1048576, body limit, 1..OMNI_HTTP_MAX_BODY
 *    "caFile": "/path/ca.pem",  CA bundle (must be readable)
 *    "userAgent": "libomni/0.1.0",
 *    "httpVersion": "auto",     "auto": HTTP/2 over TLS when the server
 *                               offers it (ALPN), HTTP/1.1 on http://;
 *                               "1.1": HTTP/1.1 only; "2": HTTP/2 (ALPN on
 *                               https://, prior knowledge (h2c) on http://,
 *                               which is allowed only to 127.0.0.0/8, [::1]
 *                               and localhost: tests and local proxies;
 *                               with libcurl before 8.0.0, which breaks a
 *                               reused prior-knowledge connection, each h2c
 *                               request gets a connection of its own)
 *    "maxHostConnections": 0,   0..1024 connections per host at most; 0
 *                               means 1 with "httpVersion": "2" (one
 *                               multiplexed connection per host) and no
 *                               limit otherwise (maxConcurrent bounds them)
 *    "retryUnanswered": 2}      0..5, see GOAWAY above
 * Unknown or repeated keys, values of the wrong type or range and malformed
 * JSON fail with OMNI_ECONFIG (details {"path": "key"}, or the line and
 * column of malformed JSON).
 * Errors: OMNI_EINVAL (out NULL, options NULL with len > 0), OMNI_ECONFIG,
 * OMNI_EUNSUPPORTED (built without libcurl or libuv), OMNI_EINTERNAL (libuv
 * or libcurl could not set up), OMNI_ENOMEM. *out is set only on OMNI_OK.
 */
OMNI_API int omni_async_new(omni_async **out, void *uv_loop, const char *options_json,
                            size_t len) OMNI_WARN_UNUSED;

/*
 * The completion callback: runs exactly once per accepted request, on the
 * loop's thread, never from inside omni_async_send. On success status is
 * OMNI_OK and response the answer (any HTTP status; valid only during the
 * callback: copy what you keep). On failure response is NULL, status the
 * error (OMNI_ETIMEOUT, OMNI_ECONNECT, OMNI_ETLS, OMNI_ERESPONSE,
 * OMNI_ETRANSPORT, OMNI_ENOMEM, OMNI_ECANCELED when the transport was
 * closed first) and omni_error_last() describes it during the callback.
 * The callback may call omni_async_send, omni_async_pending,
 * omni_async_stats and omni_async_close, but not omni_async_run or
 * omni_async_free.
 */
typedef void (*omni_async_cb)(void *user, const omni_http_response *response, int status);

/*
 * Starts one exchange: the request is copied (the caller may free it at
 * once); it starts now when fewer than maxConcurrent are in flight, else
 * when its turn in the queue comes. Its timeout (the request's, else
 * "timeoutMs") counts from its start, across its retries.
 * Errors (the callback is then never called): OMNI_EINVAL (NULL a, request
 * or cb), OMNI_EUNSUPPORTED (an smtp:// or smtps:// URL; "httpVersion": "2"
 * to a clear-text http:// host that is not loopback), OMNI_ETOOLARGE (the
 * queue holds maxQueued requests), OMNI_ECANCELED (the transport is
 * closing), OMNI_EINTERNAL (libcurl refused the request), OMNI_ENOMEM.
 */
OMNI_API int omni_async_send(omni_async *a, const omni_http_request *request, omni_async_cb cb,
                             void *user);

/*
 * Own loop only: runs the loop until nothing is in flight (every callback
 * has run, including those of requests sent from callbacks). Returns
 * OMNI_OK (at once when nothing is in flight), or OMNI_EINVAL (NULL, a
 * transport on a host's loop, or called from one of its callbacks).
 */
OMNI_API int omni_async_run(omni_async *a);

/* Requests whose callback has not run yet (in flight and queued); 0 for
 * NULL. */
OMNI_API size_t omni_async_pending(const omni_async *a);

/*
 * Counters, as JSON: {"sent": accepted sends, "succeeded": callbacks with
 * OMNI_OK, "failed": callbacks with an error other than OMNI_ECANCELED,
 * "canceled", "retries": requests sent again after GOAWAY / connection
 * loss, "connections": new connections opened (CURLINFO_NUM_CONNECTS
 * summed over the finished requests, curl's own retries included),
 * "inFlight", "queued", "peakInFlight"}. *out is released with omni_free().
 * Errors: OMNI_EINVAL (NULL), OMNI_ENOMEM.
 */
OMNI_API int omni_async_stats(const omni_async *a, char **out, size_t *out_len);

/* Called once a closed transport's handles are closed. */
typedef void (*omni_async_done_cb)(void *user);

/*
 * Closes the transport. Every request whose callback has not run completes
 * now, before omni_async_close returns, in the order they were sent, with
 * response NULL and OMNI_ECANCELED; later sends fail with OMNI_ECANCELED.
 * Connections are closed, then the libuv handles (asynchronously, as
 * uv_close), and done_cb (may be NULL) runs once they are: on a host loop
 * from that loop, never inside omni_async_close; on an own loop before
 * omni_async_close returns, or, when called from a callback during
 * omni_async_run, before omni_async_run returns. A second call, or NULL,
 * does nothing. Afterwards only omni_async_free (and _pending/_stats) may
 * be called.
 */
OMNI_API void omni_async_close(omni_async *a, omni_async_done_cb done_cb, void *user);

/*
 * Releases the transport; NULL does nothing. Not from one of its
 * callbacks. A transport not closed yet is closed first (outstanding
 * callbacks run with OMNI_ECANCELED). Own loop: everything is released
 * before it returns, the loop included. Host loop: if the handles are not
 * closed yet (done_cb has not run), the memory is released from the host's
 * loop once they are, so the host must keep running its loop (Node does).
 */
OMNI_API void omni_async_free(omni_async *a);

#ifdef __cplusplus
}
#endif

#endif
