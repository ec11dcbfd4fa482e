/* The received webhook request (omni_webhook): method, URL as received,
 * headers and body, plus its JSON form (the CLI's REQUEST files). The
 * method, headers and body are kept in an omni_http_request, so header
 * validation and case-insensitive lookup are those of lib/transport/http.c;
 * the URL is kept here because a webhook's may be an origin-form target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "transport/transport_internal.h"

/* A placeholder absolute URL for the inner HTTP request object. */
#define INNER_URL "http://webhook.invalid/"
/* Largest JSON form: a maximal body escaped (6 bytes per byte), a maximal
 * URL and headers. */
#define WEBHOOK_JSON_MAX (8u * 1024u * 1024u)

struct omni_webhook {
    omni_http_request *http;
    char *url;
};

/* An origin-form target ("/path?query") or an absolute http(s) URL with a
 * host; printable ASCII only. */
static int check_url(const char *url)
{
    if (!url)
        return omni__err(OMNI_EINVAL, "webhook URL is NULL");
    size_t n = strlen(url);
    if (n == 0)
        return omni__err(OMNI_EINVAL, "webhook URL is empty");
    if (n > OMNI_WEBHOOK_MAX_URL)
        return omni__err(OMNI_ETOOLARGE, "webhook URL is %zu bytes, over the limit of %u", n,
                         OMNI_WEBHOOK_MAX_URL);
    size_t i = omni__http_url_bad_byte(url, n);
    if (i < n)
        return omni__err(OMNI_EINVAL,
                         "webhook URL has a space, control or non-ASCII byte at offset %zu "
                         "(percent-encode it)",
                         i);
    if (url[0] == '/')
        return OMNI_OK;
    size_t skip = omni__http_scheme_len(url);
    if (!skip)
        return omni__err(OMNI_EINVAL,
                         "webhook URL must be an origin-form target (\"/path?query\") or an "
                         "absolute http(s) URL");
    const char *host = url + skip;
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0)
        return omni__err(OMNI_EINVAL, "webhook URL has no host");
    if (memchr(host, '@', host_len))
        return omni__err(OMNI_EINVAL, "webhook URL must not contain user information");
    return OMNI_OK;
}

int omni_webhook_new(omni_webhook **out, const char *method, const char *url)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "webhook: out is NULL");
    *out = NULL;
    if (!method)
        return omni__err(OMNI_EINVAL, "webhook method is NULL");
    int rc = check_url(url);
    if (rc)
        return rc;
    omni_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return omni__err(OMNI_ENOMEM, NULL);
    w->url = strdup(url);
    if (!w->url) {
        free(w);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    rc = omni_http_request_new(&w->http, method, INNER_URL);
    if (rc) {
        free(w->url);
        free(w);
        return rc;
    }
    *out = w;
    return OMNI_OK;
}

void omni_webhook_free(omni_webhook *request)
{
    if (!request)
        return;
    omni_http_request_free(request->http);
    free(request->url);
    free(request);
}

int omni_webhook_add_header(omni_webhook *request, const char *name, const char *value)
{
    if (!request)
        return omni__err(OMNI_EINVAL, "webhook is NULL");
    if (omni_http_request_header_count(request->http) >= OMNI_WEBHOOK_MAX_HEADERS)
        return omni__err(OMNI_ETOOLARGE, "webhook has more than %d headers",
                         OMNI_WEBHOOK_MAX_HEADERS);
    return omni_http_request_add_header(request->http, name, value);
}

int omni_webhook_set_body(omni_webhook *request, const void *body, size_t len)
{
    if (!request)
        return omni__err(OMNI_EINVAL, "webhook is NULL");
    if (len > OMNI_WEBHOOK_MAX_BODY)
        return omni__err(OMNI_ETOOLARGE, "webhook body is %zu bytes, over the limit of %u", len,
                         OMNI_WEBHOOK_MAX_BODY);
    return omni_http_request_set_body(request->http, body, len);
}

const char *omni_webhook_method(const omni_webhook *request)
{
    return request ? omni_http_request_method(request->http) : NULL;
}

const char *omni_webhook_url(const omni_webhook *request)
{
    return request ? request->url : NULL;
}

const char *omni_webhook_header(const omni_webhook *request, const char *name)
{
    return request && name ? omni_http_request_header(request->http, name) : NULL;
}

size_t omni_webhook_header_count(const omni_webhook *request)
{
    return request ? omni_http_request_header_count(request->http) : 0;
}

const char *omni_webhook_header_name(const omni_webhook *request, size_t i)
{
    return request ? omni_http_request_header_name(request->http, i) : NULL;
}

const char *omni_webhook_header_value(const omni_webhook *request, size_t i)
{
    return request ? omni_http_request_header_value(request->http, i) : NULL;
}

const char *omni_webhook_body(const omni_webhook *request, size_t *len)
{
    if (!request) {
        if (len)
            *len = 0;
        return NULL;
    }
    return omni_http_request_body(request->http, len);
}

/* ---- JSON form ----------------------------------------------------------- */

/* Re-reports the last error as OMNI_EWEBHOOK (argument errors of the
 * setters become a malformed request), keeping its message; size and
 * memory errors keep their status. */
static int as_webhook_error(int rc)
{
    if (rc == OMNI_ETOOLARGE || rc == OMNI_ENOMEM)
        return rc;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
    return omni__err(OMNI_EWEBHOOK, "webhook request JSON: %s", msg);
}

static int read_headers(omni_webhook *w, const cJSON *item)
{
    int rc;
    if (cJSON_IsObject(item)) {
        for (const cJSON *c = item->child; c; c = c->next) {
            if (!cJSON_IsString(c))
                return omni__err(OMNI_EWEBHOOK,
                                 "webhook request JSON: header \"%.64s\" must be a string",
                                 c->string ? c->string : "");
            if ((rc = omni_webhook_add_header(w, c->string ? c->string : "", c->valuestring)))
                return as_webhook_error(rc);
        }
        return OMNI_OK;
    }
    if (cJSON_IsArray(item)) {
        size_t i = 0;
        for (const cJSON *c = item->child; c; c = c->next, i++) {
            const cJSON *n = cJSON_IsArray(c) ? c->child : NULL;
            const cJSON *v = n ? n->next : NULL;
            if (!cJSON_IsString(n) || !cJSON_IsString(v) || v->next)
                return omni__err(OMNI_EWEBHOOK,
                                 "webhook request JSON: headers[%zu] must be a [name, value] "
                                 "pair of strings",
                                 i);
            if ((rc = omni_webhook_add_header(w, n->valuestring, v->valuestring)))
                return as_webhook_error(rc);
        }
        return OMNI_OK;
    }
    return omni__err(OMNI_EWEBHOOK,
                     "webhook request JSON: \"headers\" must be an object or an array of pairs");
}

static int read_body(omni_webhook *w, const cJSON *text, const cJSON *b64)
{
    if (text && b64)
        return omni__err(OMNI_EWEBHOOK,
                         "webhook request JSON: \"body\" and \"bodyBase64\" are exclusive");
    if (text) {
        if (!cJSON_IsString(text))
            return omni__err(OMNI_EWEBHOOK, "webhook request JSON: \"body\" must be a string");
        int rc = omni_webhook_set_body(w, text->valuestring, strlen(text->valuestring));
        return rc ? as_webhook_error(rc) : OMNI_OK;
    }
    if (!b64)
        return OMNI_OK;
    if (!cJSON_IsString(b64))
        return omni__err(OMNI_EWEBHOOK, "webhook request JSON: \"bodyBase64\" must be a string");
    size_t n = strlen(b64->valuestring);
    size_t cap = omni__base64_decoded_max(n);
    if (cap > OMNI_WEBHOOK_MAX_BODY + 2)
        return omni__err(OMNI_ETOOLARGE,
                         "webhook request JSON: \"bodyBase64\" decodes to more than %u bytes",
                         OMNI_WEBHOOK_MAX_BODY);
    uint8_t *dec = malloc(cap ? cap : 1);
    if (!dec)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t dec_len = 0;
    int rc = omni__base64_decode_into(dec, cap, &dec_len, b64->valuestring, n, 0);
    if (rc) {
        free(dec);
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
        return omni__err(OMNI_EWEBHOOK, "webhook request JSON: \"bodyBase64\": %s", msg);
    }
    rc = omni_webhook_set_body(w, dec, dec_len);
    free(dec);
    return rc ? as_webhook_error(rc) : OMNI_OK;
}

int omni_webhook_from_json(omni_webhook **out, const char *json, size_t len)
{
    static const char *const names[] = {"method", "url", "headers", "body", "bodyBase64", NULL};
    if (!out)
        return omni__err(OMNI_EINVAL, "webhook: out is NULL");
    *out = NULL;
    if (!json && len)
        return omni__err(OMNI_EINVAL, "webhook request JSON is NULL");
    cJSON *root;
    int rc = omni__json_parse(&root, json, len, WEBHOOK_JSON_MAX, "webhook request JSON");
    if (rc)
        return rc;
    if ((rc = omni__http_json_check_nul(json, len, "webhook request JSON"))) {
        cJSON_Delete(root);
        return rc;
    }
    const cJSON *m[5] = {NULL, NULL, NULL, NULL, NULL};
    if (!cJSON_IsObject(root)) {
        rc = omni__err(OMNI_EWEBHOOK, "webhook request JSON must be an object");
        goto done;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t i = 0;
        while (names[i] && strcmp(names[i], key) != 0)
            i++;
        if (!names[i]) {
            rc = omni__err(OMNI_EWEBHOOK, "webhook request JSON: unknown key \"%.64s\"", key);
            goto done;
        }
        if (m[i]) {
            rc = omni__err(OMNI_EWEBHOOK, "webhook request JSON: key \"%s\" appears twice", key);
            goto done;
        }
        m[i] = c;
    }
    if (!cJSON_IsString(m[0]) || !cJSON_IsString(m[1])) {
        rc = omni__err(OMNI_EWEBHOOK,
                       "webhook request JSON: \"method\" and \"url\" are required strings");
        goto done;
    }
    omni_webhook *w;
    if ((rc = omni_webhook_new(&w, m[0]->valuestring, m[1]->valuestring))) {
        rc = as_webhook_error(rc);
        goto done;
    }
    if (m[2])
        rc = read_headers(w, m[2]);
    if (!rc)
        rc = read_body(w, m[3], m[4]);
    if (rc)
        omni_webhook_free(w);
    else
        *out = w;
done:
    cJSON_Delete(root);
    return rc;
}
