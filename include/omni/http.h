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
 * A method is 1..32 upper-case letters A-Z (RFC 9110 token). A URL is an
 * absolute http:// or https:// URL (scheme in any case) with a host (name,
 * IPv4 or [IPv6]), an optional port 1..65535, no userinfo (RFC 9110
 * section 4.2.4), and only printable ASCII (no spaces or control bytes:
 * percent-encode others); smtp:// and smtps:// URLs with the same rules
 * are accepted too, for mail submission (the "SEND" requests of the smtp
 * outbound adapter, see the curl transport below). Header names are RFC
 * 9110 tokens; header values must not contain CR, LF or NUL. Bodies are
 * binary-safe. Error messages never quote a URL's path or query, a header
 * value or a body (they may hold secrets); they name the host at most.
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

/* method: upper-case token ("GET", "POST", "SEND", ...); url: absolute
 * http(s) or smtp(s) URL. Errors: OMNI_EINVAL (bad method or URL),
 * OMNI_ETOOLARGE, OMNI_ENOMEM. */
OMNI_API int omni_http_request_new(omni_http_request **out, const char *method, const char *url);
OMNI_API void omni_http_request_free(omni_http_request *request);
/* Appends a header (kept in order; repeated names allowed). Errors:
 * OMNI_EINVAL (NULL, name not a token, CR or LF in the value),
 * OMNI_ETOOLARGE (more than OMNI_HTTP_MAX_HEADERS headers, name + value over
 * OMNI_HTTP_MAX_HEADER), OMNI_ENOMEM; nothing changes on error. */
OMNI_API int omni_http_request_add_header(omni_http_request *request, const char *name,
                                          const char *value);
/* Replaces the body (copied; binary-safe). Errors: OMNI_EINVAL (NULL with
 * len > 0), OMNI_ETOOLARGE (over OMNI_HTTP_MAX_BODY), OMNI_ENOMEM; the old
 * body stays on error. */
OMNI_API int omni_http_request_set_body(omni_http_request *request, const void *body, size_t len);
/* Total time allowed for the exchange; 0 (the default) uses the transport's
 * default (for the curl transport its "timeoutMs", by default
 * OMNI_HTTP_DEFAULT_TIMEOUT_MS). The getter returns the value set (0 when
 * unset). */
OMNI_API int omni_http_request_set_timeout_ms(omni_http_request *request, uint32_t timeout_ms);

OMNI_API const char *omni_http_request_method(const omni_http_request *request);
OMNI_API const char *omni_http_request_url(const omni_http_request *request);
OMNI_API size_t omni_http_request_header_count(const omni_http_request *request);
/* The i-th header's name / value, or NULL when i is out of range. */
OMNI_API const char *omni_http_request_header_name(const omni_http_request *request, size_t i);
OMNI_API const char *omni_http_request_header_value(const omni_http_request *request, size_t i);
/* The first header of that name (ASCII case-insensitive), or NULL. */
OMNI_API const char *omni_http_request_header(const omni_http_request *request, const char *name);
/* The body (NUL-terminated for convenience) and its length (len may be
 * NULL); never NULL ("" when empty). */
OMNI_API const char *omni_http_request_body(const omni_http_request *request, size_t *len);
OMNI_API uint32_t omni_http_request_timeout_ms(const omni_http_request *request);

/* JSON form: {"method","url","headers":{name:value}|[[name,value],...],
 * "body":"text" | "bodyBase64":"...", "timeoutMs":N}. "method" and "url"
 * are required; the others optional ("body" and "bodyBase64" exclusive;
 * "timeoutMs" an integer 0..2^32-1). Unknown or repeated keys, and strings
 * holding \u0000 (cJSON would cut them), are refused. Documents are at most
 * 112 MiB. Errors: OMNI_EINVAL, OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ETOODEEP,
 * OMNI_EENCODING (bad base64), OMNI_ENOMEM; *out is NULL then.
 * to_json writes headers as an object in order, or, when a name repeats
 * (ASCII case-insensitively), as the array of [name, value] pairs, so that
 * nothing is merged; the body as "body" when it is valid UTF-8 without NUL
 * bytes, else as "bodyBase64" (RFC 4648 section 4); an empty body and a
 * zero timeout are left out. from_json(to_json(x)) always equals x. */
OMNI_API int omni_http_request_from_json(omni_http_request **out, const char *json, size_t len);
OMNI_API int omni_http_request_to_json(char **out, size_t *out_len,
                                       const omni_http_request *request);

/* ---- responses -------------------------------------------------------- */

/* A new response has status 0 (unset), no headers and an empty body. The
 * setters follow the rules of the request's. */
OMNI_API int omni_http_response_new(omni_http_response **out);
OMNI_API void omni_http_response_free(omni_http_response *response);
/* status: 100..599 (OMNI_EINVAL otherwise). */
OMNI_API int omni_http_response_set_status(omni_http_response *response, int status);
OMNI_API int omni_http_response_add_header(omni_http_response *response, const char *name,
                                           const char *value);
OMNI_API int omni_http_response_set_body(omni_http_response *response, const void *body,
                                         size_t len);
/* Appends to the body (for streaming transports); OMNI_ETOOLARGE past
 * OMNI_HTTP_MAX_BODY, leaving the body as it was. */
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

/* JSON form: {"status":N,"headers":{...}|[[name,value],...],
 * "body":"..."|"bodyBase64":"..."}, with the rules of the request form
 * ("status" required, an integer 100..599). to_json fails with OMNI_EINVAL
 * while the status is unset. */
OMNI_API int omni_http_response_from_json(omni_http_response **out, const char *json,
                                          size_t len);
OMNI_API int omni_http_response_to_json(char **out, size_t *out_len,
                                        const omni_http_response *response);

/* ---- transports ------------------------------------------------------- */

typedef struct omni_transport omni_transport;

/*
 * The libcurl transport. options_json (NULL or "" for defaults):
 *   {"timeoutMs": 10000,          default per-request total timeout, 1..3600000
 *    "connectTimeoutMs": 5000,    1..3600000 (never more than the total)
 *    "maxResponseBytes": 1048576, body limit, 1..OMNI_HTTP_MAX_BODY; larger
 *                                 responses fail OMNI_ERESPONSE (checked
 *                                 against Content-Length and while receiving)
 *    "maxConnections": 8,         0..64 idle curl handles kept for reuse; each
 *                                 keeps its live connections (keep-alive)
 *    "caFile": "/path/ca.pem",    CA bundle to verify servers with, instead of
 *                                 curl's default file (must be readable);
 *                                 verification always stays on
 *    "userAgent": "libomni/0.1.0"}
 * Unknown or repeated keys and values of the wrong type or range fail with
 * OMNI_ECONFIG (details {"path": "key"}), as does malformed JSON.
 * Errors: OMNI_ECONFIG, OMNI_EUNSUPPORTED (built without curl), OMNI_ENOMEM.
 *
 * Sending: TLS peer and host verification are always on; only http and
 * https are allowed (smtp and smtps for mail, see below); redirects are not
 * followed (a 3xx is a response); the response's headers are those of the
 * final response (not of 1xx interim ones). curl's own Expect, Accept and
 * (for bodies) Content-Type headers are not sent unless the request has
 * them; a Content-Length header of the request is not passed on (curl
 * computes it from the body). HEAD sends no body; POST, PUT and PATCH
 * always send theirs (Content-Length: 0 when empty), other methods when it
 * is not empty. Proxies: curl's usual environment variables (http_proxy,
 * https_proxy, no_proxy, all_proxy) are honoured. Sending fails with
 * OMNI_ETIMEOUT, OMNI_ECONNECT (connect or DNS failure), OMNI_ETLS,
 * OMNI_ERESPONSE or OMNI_ETRANSPORT (the connection broke, the server sent
 * nothing or no valid HTTP); all but OMNI_ETLS and OMNI_ERESPONSE are
 * retryable. libcurl is initialised once per process (curl_global_init) and
 * never de-initialised.
 *
 * Mail (smtp:// and smtps:// URLs): the request must be "SEND" with one
 * "Mail-From: <address>" ("<>" allowed), 1..100 "Rcpt-To: <address>"
 * (printable ASCII without spaces, at most 256 bytes between the brackets),
 * optionally "Smtp-Tls: required" (the default: STARTTLS for smtp://, which
 * fails with OMNI_ETLS when the server does not offer it; implicit TLS for
 * smtps://) or "none" (clear text, only for smtp:// to 127.0.0.1, [::1] or
 * localhost), and optionally "Authorization: Basic base64(user:password)" for
 * SMTP AUTH (the credentials are wiped after use); other header fields are
 * ignored and anything else is OMNI_EINVAL. The body is sent as the message
 * (DATA, dot-stuffed by libcurl; a final CRLF is added when it lacks one).
 * Only smtp and smtps are allowed for such requests, TLS verification stays
 * on, a clear-text connection is never reused. The response's status is the
 * server's last reply code (250 for an accepted message) and its body that
 * reply's lines as sent (CRLF-ended, at most 16 KiB); a transaction the server
 * refuses with a 4xx or 5xx reply (at the greeting, AUTH, MAIL, RCPT, DATA or
 * after the data) is such a response too, not an error. Connect failures,
 * timeouts (a server that stops answering; the whole exchange is bounded by
 * the timeout) and a connection that breaks without a refusal fail as for
 * HTTP (OMNI_ECONNECT, OMNI_ETIMEOUT, OMNI_ETRANSPORT).
 */
OMNI_API int omni_transport_curl_new(omni_transport **out, const char *options_json,
                                     size_t options_len) OMNI_WARN_UNUSED;

/*
 * The scripted transport: answers requests in order from a JSON array of
 * responses, each in the response JSON form ({"status":N,"headers":{...},
 * "body":"..."}) or a transport error {"error":"TIMEOUT"|"CONNECT_FAILED"|
 * "TLS_ERROR"|"TRANSPORT_ERROR", "message":"..."} (message optional, at most
 * 400 bytes; sending then fails with OMNI_ETIMEOUT, OMNI_ECONNECT, OMNI_ETLS
 * or OMNI_ETRANSPORT and that message). When the list is used up, sending
 * fails with OMNI_EEXHAUSTED. Every request is recorded (see _sent()),
 * including those answered with an error. It never sleeps.
 * The whole script is checked first: errors are OMNI_ECONFIG (details
 * {"index": i} for a bad entry i; malformed JSON keeps its line/column
 * details), OMNI_EINVAL, OMNI_ENOMEM.
 */
OMNI_API int omni_transport_scripted_new(omni_transport **out, const char *responses_json,
                                         size_t len) OMNI_WARN_UNUSED;
/* The requests a scripted transport was sent, as a JSON array of request
 * objects (omni_http_request_to_json form). Errors: OMNI_EINVAL when the
 * transport is not a scripted one. */
OMNI_API int omni_transport_scripted_sent(omni_transport *transport, char **out, size_t *out_len);

/* Wraps a host's transport hook (copied; ctx released with hook->close when
 * the transport is freed). Errors: OMNI_EINVAL (NULL, no send callback),
 * OMNI_EVERSION, OMNI_ENOMEM; close is not called on error. */
OMNI_API int omni_transport_wrap(omni_transport **out,
                                 const omni_transport_hook *hook) OMNI_WARN_UNUSED;
OMNI_API void omni_transport_free(omni_transport *transport);

/* Executes a request. *out (released with omni_http_response_free) is set
 * only on OMNI_OK; an HTTP error status is still OMNI_OK. Errors: OMNI_EINVAL,
 * the transport's errors, and OMNI_EHOOK when a hook fails without a status
 * of its own or returns OMNI_OK without setting the response status.
 * Thread-safety: as the transport (the bundled ones are thread-safe). */
OMNI_API int omni_transport_send(omni_transport *transport, const omni_http_request *request,
                                 omni_http_response **out);

/* Copies the transport's hook table into *out (close cleared in the copy).
 * Bundled transports have one too, so a curl or scripted transport can be
 * handed to an engine as a hook; its ctx stays owned by this transport and
 * is valid while the transport lives. */
OMNI_API int omni_transport_get_hook(const omni_transport *transport, omni_transport_hook *out);

#ifdef __cplusplus
}
#endif

#endif
