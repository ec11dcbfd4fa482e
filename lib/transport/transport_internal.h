/* Internal: shared between the HTTP objects and the bundled transports. */
#ifndef OMNI_TRANSPORT_INTERNAL_H
#define OMNI_TRANSPORT_INTERNAL_H

#include <stddef.h>

#include <omni/omni.h>

#include "../core/buf.h"
#include "../core/json.h"

/* Largest JSON document accepted by the request/response from_json
 * functions and by the scripted transport: a maximal body written as an
 * escaped string (up to 6 bytes per byte) plus a maximal URL and headers. */
#define OMNI__HTTP_JSON_MAX (112u * 1024u * 1024u)

/* Copies `url`'s authority (host[:port], never userinfo, path or query)
 * into buf for error messages; "?" when it cannot be found. */
void omni__http_url_host(const char *url, char *buf, size_t cap);

/* Length of the scheme prefix "http://" or "https://" (ASCII
 * case-insensitive) of `url`, or 0. */
size_t omni__http_scheme_len(const char *url);

/* Offset of the first byte of url[0..n) that is a space, a control or a
 * non-ASCII byte (not allowed unencoded in a URL), or n when there is none. */
size_t omni__http_url_bad_byte(const char *url, size_t n);

/* A header of omni__http_request_make: name NUL-terminated, value value_len bytes. */
typedef struct omni__http_field {
    const char *name;
    const char *value;
    size_t value_len;
} omni__http_field;

/* A request made in one allocation (the object, its URL and its headers)
 * from parts the caller has already checked; nothing is validated again:
 * method is an upper-case token of at most 32 bytes; url then url_tail
 * (url_len + tail_len bytes) a URL omni_http_request_new accepts; header
 * names tokens and values free of CR, LF and NUL within the limits
 * (omni__http_check_header says so); count <= OMNI_HTTP_MAX_HEADERS. The
 * body is a malloc'd NUL-terminated buffer of body_cap bytes holding
 * body_len <= OMNI_HTTP_MAX_BODY bytes (an omni_buf's data): on success the
 * request owns it. Afterwards the request is an ordinary one (headers may
 * be added, the body replaced, it is freed with omni_http_request_free).
 * This is how adapters on a hot path build their requests; public callers
 * go through omni_http_request_new, which validates everything.
 * OMNI_OK, or OMNI_ENOMEM (last error set; the body stays the caller's). */
int omni__http_request_make(omni_http_request **out, const char *method, const char *url,
                            size_t url_len, const char *url_tail, size_t tail_len,
                            const omni__http_field *fields, size_t count, char *body,
                            size_t body_len, size_t body_cap);

/* The checks omni_http_request_add_header makes of a header (name a token,
 * value without CR or LF, the size limit), with the same errors; the
 * header count is not checked. OMNI_OK or OMNI_EINVAL / OMNI_ETOOLARGE
 * (last error set). */
int omni__http_check_header(const char *name, const char *value);

/* A deep copy of a request. OMNI_OK or OMNI_ENOMEM (last error set). */
int omni__http_request_clone(omni_http_request **out, const omni_http_request *request);

/* Removes the request's headers after the first `count` (no-op when it has
 * fewer): undoes appends, e.g. when signing fails half-way. Never fails. */
void omni__http_request_truncate_headers(omni_http_request *request, size_t count);

/* Replaces dst's status, headers and body with src's (copied). On error
 * dst is unchanged. OMNI_OK or OMNI_ENOMEM. */
int omni__http_response_copy(omni_http_response *dst, const omni_http_response *src);

/* Moves src's status, headers and body into dst (dst's old content is
 * released); src is left empty. Never fails. */
void omni__http_response_move(omni_http_response *dst, omni_http_response *src);

/* Empties a response: status 0, no headers, no body. */
void omni__http_response_clear(omni_http_response *response);

/* Appends to the value of the last header (obsolete line folding): a
 * single space, then `more`. OMNI_OK, OMNI_EINVAL (no header yet or a
 * forbidden byte), OMNI_ETOOLARGE, OMNI_ENOMEM; the last error is set. */
int omni__http_response_extend_last_header(omni_http_response *response, const char *more,
                                           size_t len);

/* Writes a request / response in its JSON form into b. */
void omni__http_request_write_json(omni_buf *b, const omni_http_request *request);
void omni__http_response_write_json(omni_buf *b, const omni_http_response *response);

/* Builds a response from a parsed JSON object of the response form.
 * Errors as omni_http_response_from_json (last error set). */
int omni__http_response_from_cjson(omni_http_response **out, const cJSON *item);

/* Fails with OMNI_EJSON when the JSON text holds a "\u0000" escape: cJSON
 * strings are NUL-terminated, so such a string would be silently cut.
 * `what` names the document in the message. */
int omni__http_json_check_nul(const char *json, size_t len, const char *what);

/* Bundled transports: each fills a hook table (with close set) whose ctx
 * it owns. On error nothing is allocated and the last error is set. */
int omni__curl_open(omni_transport_hook *out, const char *options_json, size_t len);
int omni__scripted_open(omni_transport_hook *out, const char *responses_json, size_t len);

/* The scripted transport's send (to recognise a scripted transport) and
 * its recorded requests as a JSON array. */
int omni__scripted_send(void *ctx, const omni_http_request *request,
                        omni_http_response *response);
int omni__scripted_sent(void *ctx, char **out, size_t *out_len);

/* ---- options documents of the curl and async transports (options.c) ---- */

#define OMNI__OPT_MAX_DOC (64u * 1024u) /* an options document */
#define OMNI__OPT_MAX_PATH 4096         /* caFile */

/* Reads json (NULL or empty: nothing to do) as an object whose members are
 * each one of keys[0..nkeys) (nkeys <= 32), at most once; set(ctx, k, item,
 * key) reads member keys[k]. Malformed JSON, another type, an unknown or a
 * repeated member: OMNI_ECONFIG with details {"path"} (or the parser's line
 * and column), messages naming `what` ("curl transport", ...). */
typedef int (*omni__opt_set_fn)(void *ctx, unsigned k, const cJSON *item, const char *key);
int omni__opt_read(const char *what, const char *json, size_t len, const char *const *keys,
                   unsigned nkeys, omni__opt_set_fn set, void *ctx);
/* OMNI_ECONFIG "<what> option "<key>" <why>" with details {"path": key}. */
int omni__opt_error(const char *what, const char *key, const char *why);
/* An integer member in min..max. */
int omni__opt_int(const char *what, const cJSON *item, const char *key, int64_t min,
                  int64_t max, int64_t *out);
/* A string member of 1..max bytes without control characters; replaces
 * *out (freeing the old value) on success. */
int omni__opt_str(const char *what, const cJSON *item, const char *key, size_t max, char **out);
/* A readable file's path (omni__opt_str, then access(R_OK)). */
int omni__opt_file(const char *what, const cJSON *item, const char *key, char **out);

/* ---- pieces of the curl transport (curl.c) shared with the async one ---- */

#include "omni_config.h"
#if OMNI_HAVE_CURL
#include <curl/curl.h>

/* curl_global_init, exactly once per process (never undone). OMNI_OK or
 * OMNI_EINTERNAL (last error set). */
int omni__curl_global_init(void);

/* State of one HTTP exchange, shared with the header and body callbacks. */
typedef struct omni__curl_xfer {
    omni_http_response *tmp; /* headers and body of the current response */
    size_t max_response;
    int fail;         /* status reported by a callback (last error set), or 0 */
    const char *host; /* the URL's authority, for error messages */
} omni__curl_xfer;

/* Resolved options of one exchange. */
typedef struct omni__curl_opts {
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    size_t max_response;
    const char *ca_file; /* NULL: curl's default bundle */
    const char *user_agent;
} omni__curl_opts;

/* The exchange's total and connect timeouts: the request's timeout or
 * default_ms, capped for curl; the connect timeout never above the total. */
void omni__curl_timeouts(const omni_http_request *req, uint32_t default_ms, uint32_t connect_ms,
                         uint32_t *timeout, uint32_t *connect_timeout);

/* Sets every option of an HTTP(S) exchange of req on h (TLS verification,
 * protocols, no redirects, method, body, headers, response callbacks into
 * x). errbuf (CURL_ERROR_SIZE bytes), req, o's strings, x and *headers_out
 * must live until the exchange is over; the caller frees *headers_out with
 * curl_slist_free_all. OMNI_OK, OMNI_ENOMEM or OMNI_EINTERNAL (last error
 * set; nothing to free then). */
int omni__curl_prepare(CURL *h, struct curl_slist **headers_out, const omni_http_request *req,
                       const omni__curl_opts *o, omni__curl_xfer *x, char *errbuf);

/* The outcome of an exchange that ended with c: OMNI_OK with x->tmp moved
 * into resp (status set), or the error of a callback or of c (last error
 * set, see omni__curl_map_error). */
int omni__curl_finish(CURL *h, CURLcode c, omni__curl_xfer *x, char *errbuf, uint32_t timeout_ms,
                      omni_http_response *resp);

/* Maps a failed exchange's CURLcode to OMNI_ETIMEOUT, OMNI_ECONNECT,
 * OMNI_ETLS, OMNI_ERESPONSE, OMNI_ENOMEM, OMNI_EINVAL or OMNI_ETRANSPORT
 * and sets the last error (naming host and curl's reason from errbuf, never
 * a path, header value or body). */
int omni__curl_map_error(CURLcode c, const char *host, char *errbuf, uint32_t timeout_ms,
                         size_t max_response);
#endif

#endif
