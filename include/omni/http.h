/*
 * libomni — HTTP requests and responses, and transports that execute them.
 *
 * Adapters are sans-I/O: they build an omni_http_request and parse an
 * omni_http_response; an omni_transport executes requests. Bundled
 * transports: libcurl (blocking, connection reuse, TLS verification always
 * on) and a scripted one that answers from a list of canned responses and
 * records what it was sent (tests, demos). Hosts bring their own through an
 * omni_transport_hook (omni/hooks.h).
 *
 * Limits: a URL is at most 8 KiB, at most OMNI_HTTP_MAX_HEADERS headers of
 * at most 16 KiB each (name + value), a body at most OMNI_HTTP_MAX_BODY.
 * Header names and values must not contain CR, LF or NUL.
 *
 * Thread-safety: a request or response object belongs to one thread at a
 * time. The bundled transports are thread-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_HTTP_H
#define OMNI_HTTP_H

#include "common.h"
#include "hooks.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OMNI_HTTP_MAX_URL (8u * 1024u)
#define OMNI_HTTP_MAX_HEADERS 128
#define OMNI_HTTP_MAX_HEADER (16u * 1024u)
#define OMNI_HTTP_MAX_BODY (16u * 1024u * 1024u)
#define OMNI_HTTP_DEFAULT_TIMEOUT_MS 10000u

/* ---- requests --------------------------------------------------------- */

/* method: upper-case token ("GET", "POST", ...); url: absolute http(s) URL.
 * Errors: OMNI_EINVAL (bad method or URL), OMNI_ETOOLARGE, OMNI_ENOMEM. */
OMNI_API int omni_http_request_new(omni_http_request **out, const char *method, const char *url);
OMNI_API void omni_http_request_free(omni_http_request *request);
/* Appends a header (kept in order; repeated names allowed). */
OMNI_API int omni_http_request_add_header(omni_http_request *request, const char *name,
                                          const char *value);
/* Replaces the body (copied). */
OMNI_API int omni_http_request_set_body(omni_http_request *request, const void *body, size_t len);
/* Total time allowed for the exchange; 0 uses OMNI_HTTP_DEFAULT_TIMEOUT_MS. */
OMNI_API int omni_http_request_set_timeout_ms(omni_http_request *request, uint32_t timeout_ms);

OMNI_API const char *omni_http_request_method(const omni_http_request *request);
OMNI_API const char *omni_http_request_url(const omni_http_request *request);
OMNI_API size_t omni_http_request_header_count(const omni_http_request *request);
/* The i-th header's name / value, or NULL when i is out of range. */
OMNI_API const char *omni_http_request_header_name(const omni_http_request *request, size_t i);
OMNI_API const char *omni_http_request_header_value(const omni_http_request *request, size_t i);
/* The first header of that name (ASCII case-insensitive), or NULL. */
OMNI_API const char *omni_http_request_header(const omni_http_request *request, const char *name);
/* The body (NUL-terminated for convenience) and its length; never NULL. */
OMNI_API const char *omni_http_request_body(const omni_http_request *request, size_t *len);
OMNI_API uint32_t omni_http_request_timeout_ms(const omni_http_request *request);

/* JSON form: {"method","url","headers":{name:value}|[[name,value],...],
 * "body":"text" | "bodyBase64":"...", "timeoutMs":N}. to_json writes headers
 * as an object (values of a repeated name joined with ", ") and the body as
 * "body" when it is valid UTF-8, else as "bodyBase64". */
OMNI_API int omni_http_request_from_json(omni_http_request **out, const char *json, size_t len);
OMNI_API int omni_http_request_to_json(char **out, size_t *out_len,
                                       const omni_http_request *request);

/* ---- responses -------------------------------------------------------- */

OMNI_API int omni_http_response_new(omni_http_response **out);
OMNI_API void omni_http_response_free(omni_http_response *response);
/* status: 100..599. */
OMNI_API int omni_http_response_set_status(omni_http_response *response, int status);
OMNI_API int omni_http_response_add_header(omni_http_response *response, const char *name,
                                           const char *value);
OMNI_API int omni_http_response_set_body(omni_http_response *response, const void *body,
                                         size_t len);
/* Appends to the body (for streaming transports). */
OMNI_API int omni_http_response_append_body(omni_http_response *response, const void *data,
                                            size_t len);

OMNI_API int omni_http_response_status(const omni_http_response *response);
OMNI_API size_t omni_http_response_header_count(const omni_http_response *response);
OMNI_API const char *omni_http_response_header_name(const omni_http_response *response, size_t i);
OMNI_API const char *omni_http_response_header_value(const omni_http_response *response,
                                                     size_t i);
OMNI_API const char *omni_http_response_header(const omni_http_response *response,
                                               const char *name);
OMNI_API const char *omni_http_response_body(const omni_http_response *response, size_t *len);

/* JSON form: {"status":N,"headers":{...},"body":"..."|"bodyBase64":"..."}. */
OMNI_API int omni_http_response_from_json(omni_http_response **out, const char *json,
                                          size_t len);
OMNI_API int omni_http_response_to_json(char **out, size_t *out_len,
                                        const omni_http_response *response);

/* ---- transports ------------------------------------------------------- */

typedef struct omni_transport omni_transport;

/*
 * The libcurl transport. options_json (NULL or "" for defaults):
 *   {"timeoutMs": 10000,          default per-request total timeout
 *    "connectTimeoutMs": 5000,
 *    "maxResponseBytes": 1048576, larger responses fail OMNI_ERESPONSE
 *    "maxConnections": 8,         idle connections kept for reuse
 *    "caFile": "/path/ca.pem",    extra trust anchors (verification stays on)
 *    "userAgent": "libomni/0.1.0"}
 * Errors: OMNI_ECONFIG, OMNI_EUNSUPPORTED (built without curl), OMNI_ENOMEM.
 * Sending fails with OMNI_ETIMEOUT, OMNI_ECONNECT, OMNI_ETLS, OMNI_ERESPONSE
 * or OMNI_ETRANSPORT; all but OMNI_ETLS and OMNI_ERESPONSE are retryable.
 */
OMNI_API int omni_transport_curl_new(omni_transport **out, const char *options_json,
                                     size_t options_len) OMNI_WARN_UNUSED;

/*
 * The scripted transport: answers requests in order from a JSON array of
 * responses, each {"status":N,"headers":{...},"body":"..."} or a transport
 * error {"error":"TIMEOUT"|"CONNECT_FAILED"|"TLS_ERROR"|"TRANSPORT_ERROR",
 * "message":"..."}. When the list is used up, sending fails with
 * OMNI_EEXHAUSTED. Every request is recorded (see _sent()).
 */
OMNI_API int omni_transport_scripted_new(omni_transport **out, const char *responses_json,
                                         size_t len) OMNI_WARN_UNUSED;
/* The requests a scripted transport was sent, as a JSON array of request
 * objects (omni_http_request_to_json form). Errors: OMNI_EINVAL when the
 * transport is not a scripted one. */
OMNI_API int omni_transport_scripted_sent(omni_transport *transport, char **out, size_t *out_len);

/* Wraps a host's transport hook (copied; ctx released with hook->close). */
OMNI_API int omni_transport_wrap(omni_transport **out,
                                 const omni_transport_hook *hook) OMNI_WARN_UNUSED;
OMNI_API void omni_transport_free(omni_transport *transport);

/* Executes a request. *out (released with omni_http_response_free) is set
 * only on OMNI_OK; an HTTP error status is still OMNI_OK. */
OMNI_API int omni_transport_send(omni_transport *transport, const omni_http_request *request,
                                 omni_http_response **out);

/* Copies the transport's hook table into *out (close cleared in the copy). */
OMNI_API int omni_transport_get_hook(const omni_transport *transport, omni_transport_hook *out);

#ifdef __cplusplus
}
#endif

#endif
