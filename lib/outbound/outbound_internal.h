/* Internal: the outbound adapters' common interface and helpers (see
 * include/omni/outbound.h). Each provider lives in its own file
 * (lib/outbound/<provider>.c) and exports one omni__ob_adapter. */
#ifndef OMNI_OUTBOUND_INTERNAL_H
#define OMNI_OUTBOUND_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <omni/http.h>
#include <omni/outbound.h>

#include "../core/buf.h"

/* The parsed event handed to an adapter: the whole document plus its
 * common members (NULL when absent; type-checked as objects by the core). */
typedef struct omni__ob_event {
    const cJSON *root;
    const cJSON *recipient, *message, *routing, *options;
    const char *to;           /* recipient.channelIdentifier (required, a string) */
    const char *content_type; /* message.contentType, default "text" */
    int window_closed;        /* serviceWindow.open is false */
} omni__ob_event;

typedef struct omni__ob_adapter {
    const char *name; /* "twilio" */
    /* Compiles the provider's configuration object `cfg` (at JSON path
     * `path`) into *state; errors through omni__ob_config_error. */
    int (*config)(void **state, const cJSON *cfg, const char *path);
    void (*free)(void *state);
    /* The request for one event. Errors: OMNI_EINVAL naming the member,
     * OMNI_EWINDOW, OMNI_ENOMEM. */
    int (*build)(omni_http_request **out, const void *state, const omni__ob_event *ev,
                 int64_t now_ms);
    /* The result of a response into `out` (omni__ob_result_* helpers). */
    int (*parse)(omni_buf *out, const void *state, const omni_http_response *resp,
                 int64_t now_ms);
} omni__ob_adapter;

/* The adapters (one per file). */
extern const omni__ob_adapter omni__ob_twilio;
extern const omni__ob_adapter omni__ob_whatsapp;
extern const omni__ob_adapter omni__ob_aws_sns;
extern const omni__ob_adapter omni__ob_aws_ses;
extern const omni__ob_adapter omni__ob_sendgrid;
extern const omni__ob_adapter omni__ob_bandwidth;
extern const omni__ob_adapter omni__ob_messagebird;
extern const omni__ob_adapter omni__ob_inteliquent;
extern const omni__ob_adapter omni__ob_smtp;

/* ---- configuration helpers ---------------------------------------------------- */

/* OMNI_ECONFIG with details {"path": "<path>.<member>"} and the message
 * "outbound: <path>.<member>: <why>". member may be NULL. */
int omni__ob_config_error(const char *path, const char *member, const char *why);

/* A secret member: a string, or {"env": "NAME"} read from the environment.
 * *out is a malloc'd copy (free with omni__ob_secret_free, which wipes it).
 * Absent: *out NULL and OMNI_OK when optional, else an error. */
int omni__ob_secret(char **out, const cJSON *cfg, const char *path, const char *member,
                    int required);
void omni__ob_secret_free(char *secret);

/* A plain string member copied with malloc (NULL when absent and optional);
 * max_len bytes at most. */
int omni__ob_string(char **out, const cJSON *cfg, const char *path, const char *member,
                    int required, size_t max_len);

/* A base URL member (default `def`): an http(s) URL without a trailing
 * slash, copied with malloc. */
int omni__ob_base_url(char **out, const cJSON *cfg, const char *path, const char *member,
                      const char *def);

/* ---- AWS providers (aws-sns, aws-ses) -------------------------------------------- */

/* Region and credentials of an AWS provider's configuration. */
typedef struct omni__ob_aws {
    char *region, *key_id, *secret, *token;
} omni__ob_aws;

/* Reads "region" (1..64 of [a-z0-9-]), "accessKeyId" (1..128 letters and
 * digits), "secretAccessKey" (1..128 bytes) and "sessionToken" (optional),
 * the secrets as omni__ob_secret does. On error the caller still calls
 * omni__ob_aws_free. */
int omni__ob_aws_config(omni__ob_aws *a, const cJSON *cfg, const char *path);
void omni__ob_aws_free(omni__ob_aws *a);
/* Signs req for `service` with SigV4 at now_ms. */
int omni__ob_aws_sign(omni_http_request *req, const omni__ob_aws *a, const char *service,
                      int64_t now_ms);

/* 1 when s is 1..max ASCII letters and digits. */
int omni__ob_alnum(const char *s, size_t max);

/* ---- event helpers ------------------------------------------------------------- */

/* OMNI_EINVAL "outbound <carrier>: <member> <why>". */
int omni__ob_event_error(const char *carrier, const char *member, const char *why);

/* An optional string member `name` of obj (at event path `where`): *out
 * NULL when absent; OMNI_EINVAL "outbound <carrier>: <where>.<name> must be
 * a string" when of another type. */
int omni__ob_opt_str(const char **out, const cJSON *obj, const char *name, const char *where,
                     const char *carrier);

/* 1 when t is a MIME type "type/subtype" (RFC 2045 tokens, at most 127
 * bytes), else 0. */
int omni__ob_mime_type_ok(const char *t);

/* 1 when s is valid base64 (RFC 4648 section 4), 0 when not, -1 when out
 * of memory; leaves no error behind. */
int omni__ob_base64_ok(const char *s);

/* Copies s[0..n) into out (cap bytes with the NUL) keeping well-formed
 * UTF-8 only ('?' for each ill-formed byte) and cutting on a character
 * boundary: provider text safe to put into a result. */
void omni__ob_clean_text(char *out, size_t cap, const char *s, size_t n);

/* message.<name> as a string, or NULL (absent or not a string). */
const char *omni__ob_msg_str(const omni__ob_event *ev, const char *name);

/* ---- requests ------------------------------------------------------------------ */

/*
 * The POST request of an adapter: the URL from url_fmt, "Authorization:
 * <scheme> <credential>" where the credential is base64(basic_user ":"
 * secret) when basic_user is given (HTTP Basic) and `secret` as it is
 * otherwise, Content-Type, Accept (NULL: none) and the body. A body whose
 * buffer failed gives "outbound <carrier>: the request body is too large".
 * The body is freed and the credential copies are wiped either way; *out is
 * NULL on error.
 */
int omni__ob_post(omni_http_request **out, const char *carrier, omni_buf *body,
                  const char *scheme, const char *basic_user, const char *secret,
                  const char *content_type, const char *accept, const char *url_fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 9, 10)))
#endif
    ;

/* The response body when it is a JSON object, else NULL (cJSON_Delete). */
cJSON *omni__ob_body_object(const omni_http_response *resp);

/* 1 for the statuses that keep their HTTP error class even when the body is
 * not the provider's format (429, 5xx, 401, 403: proxies and gateways send
 * them too); for any other status such a body is PROVIDER_ERROR. */
int omni__ob_status_speaks(int status);

/* ---- email: MIME messages (lib/outbound/mime.c) --------------------------------- */

#define OMNI__MIME_MAX_ATTACHMENTS 100
#define OMNI__MIME_MAX_SUBJECT 998

typedef struct omni__mime_attachment {
    const char *filename; /* 1..255 printable ASCII bytes without '"' or '\\' */
    const char *type;     /* "type/subtype" (default application/octet-stream) */
    const char *b64;      /* standard base64 with padding (checked) */
} omni__mime_attachment;

/*
 * One email. The content members are filled by omni__mime_read; the header
 * members by the adapter. Every string is borrowed (from the event or the
 * adapter's configuration) and must outlive omni__mime_build.
 */
typedef struct omni__mime_mail {
    /* content */
    const char *subject;      /* required; no control characters, <= 998 bytes */
    const char *text, *html;  /* NULL when absent; at least one is set */
    omni__mime_attachment att[OMNI__MIME_MAX_ATTACHMENTS];
    size_t n_att;
    /* header fields */
    const char *from_email;   /* the From address (local@domain), or NULL with from_raw */
    const char *from_name;    /* display name (UTF-8, no controls) or NULL */
    const char *from_raw;     /* instead of from_email/from_name: a From value written as
                               * it is (printable ASCII, checked by the adapter) */
    const char *reply_to;     /* NULL: no Reply-To */
    const char *to;           /* the recipient address */
    const char *correlation_id; /* seeds boundaries and Message-ID; NULL: "" */
} omni__mime_mail;

/*
 * Reads message.subject, "text", "html" ("content" as the text when both
 * are absent) and "attachments" [{"filename", "contentType"?,
 * "contentBase64"}] (at most 100) into m; errors are OMNI_EINVAL "outbound
 * <carrier>: message.<member> ..." naming the member (a CR or LF in the
 * subject or a filename: "must not hold CR or LF"), OMNI_ENOMEM. Templates
 * are the adapter's business (read before calling this).
 */
int omni__mime_read(omni__mime_mail *m, const omni__ob_event *ev, const char *carrier);

/*
 * Appends the RFC 5322 message of m to out: Date (from now_ms, "+0000"),
 * From, Reply-To?, To, Subject (RFC 2047 "B" encoded-words when not
 * printable ASCII, folded so that no line exceeds 76 columns; plain ASCII
 * folded at spaces to 78 columns), Message-ID "<hex@from-domain>" (SHA-256
 * of correlationId and recipient; of now_ms too when there is no
 * correlationId), MIME-Version; then the body: one text part, a
 * multipart/alternative of text then HTML, and a multipart/mixed around
 * that and the attachments when there are any. Text parts are 7bit when
 * printable ASCII (tab allowed), every line <= 998 bytes and "=_" absent,
 * else quoted-printable (RFC 2045 section 6.7); line breaks become CRLF.
 * Attachments are base64 in lines of 76 (RFC 2045 section 6.8). Boundaries
 * "=_omni_{mixed,alt}_<hex of SHA-256(correlationId)>" cannot occur in any
 * part. Errors: OMNI_ETIME (now_ms outside 1970..9999), OMNI_ECRYPTO,
 * OMNI_ENOMEM (the buffer's failure is left in out->failed otherwise).
 */
int omni__mime_build(omni_buf *out, const omni__mime_mail *m, int64_t now_ms,
                     const char *carrier);

/* 1 when s is an address local@domain the MIME builder and SMTP accept:
 * 3..254 bytes, a dot-atom local part (RFC 5322 section 3.2.3: atext and
 * single inner dots) of 1..64 bytes, one '@', and a domain of labels of 1..63
 * letters, digits and inner hyphens separated by single dots. No quoted
 * local parts, domain literals or non-ASCII (RFC 6531) addresses. */
int omni__mime_address_ok(const char *s);

/* ---- results ------------------------------------------------------------------- */

/* {"success":true,"carrier":..,"carrierMessageId":..,"status":..[,"cost":..,
 * "currency":..]} ; cost < 0: absent; currency may be NULL; message_id NULL:
 * "carrierMessageId" absent. */
void omni__ob_result_ok(omni_buf *out, const char *carrier, const char *message_id,
                        const char *status, double cost, const char *currency);

/* {"success":false,"carrier":..,"status":"failed","error":{"code","providerCode"?,
 * "message","retryable"}[,"retryAfterMs":..]}; provider_code may be NULL;
 * retry_after_ms < 0: absent. The message must not hold secrets. */
void omni__ob_result_error(omni_buf *out, const char *carrier, const char *code,
                           const char *provider_code, const char *message, int retryable,
                           int64_t retry_after_ms);

/* The end every adapter's error result shares: message (NULL or "": none)
 * is the provider's own text, else "HTTP <status> with a body that is not
 * <provider>'s JSON" when the body was not the provider's JSON (body_json
 * 0), else "HTTP <status>"; such a body keeps its HTTP class only for the
 * statuses omni__ob_status_speaks names (else PROVIDER_ERROR); Retry-After
 * is read when the error is retryable. provider_code may be NULL or "". */
void omni__ob_result_http_error(omni_buf *out, const char *carrier, const char *provider,
                                int status, int body_json, const omni_http_response *resp,
                                int64_t now_ms, const char *cls, int retryable,
                                const char *provider_code, const char *message);

/* The error class of an HTTP status when the provider says nothing more
 * specific: 429 RATE_LIMITED, 5xx PROVIDER_UNAVAILABLE, 401/403
 * AUTH_FAILED, other 4xx INVALID_REQUEST; *retryable set accordingly. */
const char *omni__ob_http_class(int status, int *retryable);

/* Retry-After of a response (delta-seconds or an HTTP-date, RFC 9110
 * section 10.2.3) in ms from now_ms, or -1 when absent or unreadable. */
int64_t omni__ob_retry_after(const omni_http_response *resp, int64_t now_ms);

/* The response body parsed as JSON (NULL when empty or not JSON);
 * release with cJSON_Delete. */
cJSON *omni__ob_body_json(const omni_http_response *resp);

#endif
