/* Internal: SMTP submission in the curl transport (lib/transport/curl_smtp.c),
 * called by lib/transport/curl.c for requests to smtp:// and smtps:// URLs. */
#ifndef OMNI_CURL_SMTP_H
#define OMNI_CURL_SMTP_H

#include <stdint.h>

#include <omni/omni.h>

typedef struct omni__curl_smtp_opts {
    uint32_t timeout_ms;         /* total, already capped for curl */
    uint32_t connect_timeout_ms; /* <= timeout_ms */
    const char *ca_file;         /* NULL: curl's default */
    const char *host;            /* the URL's authority, for messages */
} omni__curl_smtp_opts;

/* 1 when url starts with smtp:// or smtps:// (ASCII case-insensitive). */
int omni__curl_smtp_url(const char *url);

/*
 * Submits the request's body as one mail with the easy handle `easy` (a
 * CURL *; the caller resets or frees it afterwards). Envelope and security
 * come from the request's header fields (see omni/http.h, the curl
 * transport). On OMNI_OK resp holds the reply: status = the server's last
 * reply code, body = that reply's lines; a transaction the server refused
 * with a 4xx/5xx reply is such a response. Errors: OMNI_EINVAL (a request
 * that is not a valid SMTP submission), OMNI_ETIMEOUT, OMNI_ECONNECT,
 * OMNI_ETLS, OMNI_ETRANSPORT (the connection broke without a refusal),
 * OMNI_EINTERNAL, OMNI_ENOMEM; resp is unchanged then.
 */
int omni__curl_smtp_send(void *easy, const omni_http_request *req, omni_http_response *resp,
                         const omni__curl_smtp_opts *opts);

#endif
