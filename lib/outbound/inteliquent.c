/* Outbound adapter "inteliquent": one message -> the Inteliquent (now Sinch Voice &
 * Messaging) message broker "Send Outbound Message" request, and its response -> a result.
 *
 * Sources (no first-party documentation page was found with the search tool in this session):
 * the OpenAPI-generated SDK docs in github.com/ooglek/inteliquent-sdk-php
 * (docs/Api/MessageBrokerApi.md "publishMessagesPost: Send Outbound Message ... The
 * authorization bearer header in your request must match one of your API keys for the message
 * broker service", docs/Model/InlineObject139.md {from, to[], text?, mediaUrls?},
 * docs/Model/ResponsePublishMessage.md {success, reason, detail, result {referenceId, from,
 * text, mediaUrls, messageType, resultResponses [{to, status}]}}), and open-source clients
 * that POST to https://messagebroker.inteliquent.com/msgbroker/rest/publishMessages with
 * "Authorization: Bearer <key>" and numbers as digits without '+' ("19205550000").
 * UNCONFIRMED: the HTTP statuses and "reason" values of errors (no list was found: errors are
 * classed by HTTP status, reason is passed on as providerCode), the vocabulary of
 * resultResponses[].status, rate-limit behaviour, and whether a referenceId is always given.
 *
 * Configuration ("inteliquent"): token (SECRET: a message broker API key),
 * baseUrl? (default https://messagebroker.inteliquent.com).
 *
 * Request:
 *   POST {baseUrl}/msgbroker/rest/publishMessages
 *   Authorization: Bearer {token}
 *   Content-Type: application/json, Accept: application/json
 *   body {"from": digits, "to": [digits], "text"?, "mediaUrls"?: [...]}
 * Numbers: recipient.channelIdentifier and routing.fromNumber (required), each "+" and
 * 1..15 digits or just the digits; sent as the digits (E.164 without '+').
 * Message members accepted (event "message"):
 *   contentType "text" (default): content (non-empty string) -> text.
 *   contentType "media": mediaUrls (array of 1..10 http(s) URLs) -> mediaUrls; content
 *       (string, optional) -> text.
 *   Any other contentType is OMNI_EINVAL.
 *
 * Response: 2xx {"success": true, "result": {"referenceId", ...}}: success with
 * carrierMessageId = result.referenceId, status "accepted". 2xx {"success": false, "reason",
 * "detail"}: PROVIDER_ERROR, not retryable (providerCode = reason, message = detail).
 * Other statuses by HTTP class: 429 RATE_LIMITED and 5xx PROVIDER_UNAVAILABLE (retryable,
 * Retry-After honoured), 401/403 AUTH_FAILED, other 4xx INVALID_REQUEST. A body that is not
 * JSON is a PROVIDER_ERROR (except 401/403/429/5xx). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "inteliquent"

typedef struct iq_state {
    char *token;
    char *base_url;
} iq_state;

static void st_free(void *p)
{
    iq_state *s = p;
    if (!s)
        return;
    omni__ob_secret_free(s->token);
    free(s->base_url);
    free(s);
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        if (strcmp(it->string, "token") != 0 && strcmp(it->string, "baseUrl") != 0)
            return omni__ob_config_error(path, it->string, "is not an inteliquent setting");
    }
    iq_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__ob_secret(&s->token, c, path, "token", 1);
    if (!rc && (strchr(s->token, '\r') || strchr(s->token, '\n')))
        rc = omni__ob_config_error(path, "token", "must not contain line breaks");
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl",
                               "https://messagebroker.inteliquent.com");
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- build ------------------------------------------------------------------------ */

/* The digits of "+NNN" / "NNN" (1..15 digits), or NULL. */
static const char *digits(const char *s)
{
    if (*s == '+')
        s++;
    size_t n = strlen(s);
    if (n < 1 || n > 15)
        return NULL;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return NULL;
    return s;
}

static int build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                 int64_t now_ms)
{
    (void)now_ms;
    const iq_state *s = state;
    const char *to = digits(ev->to);
    if (!to)
        return omni__ob_event_error(CARRIER, "recipient.channelIdentifier",
                                    "must be a phone number (\"+\" and 1..15 digits)");
    const cJSON *from = ev->routing ? cJSON_GetObjectItemCaseSensitive(ev->routing, "fromNumber")
                                    : NULL;
    if (!from)
        return omni__ob_event_error(CARRIER, "routing.fromNumber", "is required");
    const char *from_digits = cJSON_IsString(from) ? digits(from->valuestring) : NULL;
    if (!from_digits)
        return omni__ob_event_error(CARRIER, "routing.fromNumber",
                                    "must be a phone number (\"+\" and 1..15 digits)");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev->message, "content");
    if (content && !cJSON_IsString(content))
        return omni__ob_event_error(CARRIER, "message.content", "must be a string");

    const cJSON *urls = NULL;
    const char *ct = ev->content_type;
    if (strcmp(ct, "text") == 0) {
        if (!content || !content->valuestring[0])
            return omni__ob_event_error(CARRIER, "message.content",
                                        "must be a non-empty string for a text message");
    } else if (strcmp(ct, "media") == 0) {
        urls = cJSON_GetObjectItemCaseSensitive(ev->message, "mediaUrls");
        int n = cJSON_IsArray(urls) ? cJSON_GetArraySize(urls) : 0;
        if (n < 1 || n > 10)
            return omni__ob_event_error(CARRIER, "message.mediaUrls",
                                        "must be an array of 1..10 URLs for a media message");
        const cJSON *u;
        cJSON_ArrayForEach(u, urls)
        {
            if (!cJSON_IsString(u) || (strncmp(u->valuestring, "https://", 8) != 0 &&
                                       strncmp(u->valuestring, "http://", 7) != 0))
                return omni__ob_event_error(CARRIER, "message.mediaUrls",
                                            "must hold http(s) URL strings");
        }
    } else {
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\" or \"media\"");
    }

    omni_buf body = OMNI_BUF_INIT;
    omni__buf_init(&body, OMNI_HTTP_MAX_BODY);
    omni__json_w_obj_begin(&body);
    omni__json_w_keyl(&body, "from");
    omni__json_w_str(&body, from_digits);
    omni__json_w_keyl(&body, "to");
    omni__json_w_arr_begin(&body);
    omni__json_w_str(&body, to);
    omni__json_w_arr_end(&body);
    if (content && content->valuestring[0]) {
        omni__json_w_keyl(&body, "text");
        omni__json_w_str(&body, content->valuestring);
    }
    if (urls) {
        omni__json_w_keyl(&body, "mediaUrls");
        omni__json_w_arr_begin(&body);
        const cJSON *u;
        cJSON_ArrayForEach(u, urls)
        {
            omni__json_w_str(&body, u->valuestring);
        }
        omni__json_w_arr_end(&body);
    }
    omni__json_w_obj_end(&body);
    return omni__ob_post(out, CARRIER, &body, "Bearer", NULL, s->token, "application/json",
                         "application/json", "%s/msgbroker/rest/publishMessages", s->base_url);
}

/* ---- parse ------------------------------------------------------------------------ */

static void error_result(omni_buf *out, int status, const cJSON *j,
                         const omni_http_response *resp, int64_t now_ms)
{
    int retryable;
    const char *cls = omni__ob_http_class(status, &retryable);
    if (status >= 200 && status < 300) {
        cls = "PROVIDER_ERROR";
        retryable = 0;
    }
    const cJSON *reason = j ? cJSON_GetObjectItemCaseSensitive(j, "reason") : NULL;
    const cJSON *detail = j ? cJSON_GetObjectItemCaseSensitive(j, "detail") : NULL;
    char pcode[128] = "";
    if (cJSON_IsString(reason) && reason->valuestring[0])
        omni__ob_clean_text(pcode, sizeof(pcode), reason->valuestring,
                            strlen(reason->valuestring));
    char text[512] = "";
    if (cJSON_IsString(detail) && detail->valuestring[0])
        omni__ob_clean_text(text, sizeof(text), detail->valuestring, strlen(detail->valuestring));
    omni__ob_result_http_error(out, CARRIER, "Inteliquent", status, j != NULL, resp, now_ms,
                               cls, retryable, pcode, text[0] ? text : pcode);
}

static int parse(omni_buf *out, const void *state, const omni_http_response *resp,
                 int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    cJSON *j = omni__ob_body_object(resp);
    if (status >= 200 && status < 300) {
        const cJSON *ok = j ? cJSON_GetObjectItemCaseSensitive(j, "success") : NULL;
        const cJSON *res = j ? cJSON_GetObjectItemCaseSensitive(j, "result") : NULL;
        const cJSON *id = cJSON_IsObject(res) ? cJSON_GetObjectItemCaseSensitive(res,
                                                                                 "referenceId")
                                              : NULL;
        if (!j)
            error_result(out, status, NULL, resp, now_ms);
        else if (!cJSON_IsTrue(ok))
            error_result(out, status, j, resp, now_ms);
        else if (!cJSON_IsString(id) || !id->valuestring[0])
            omni__ob_result_error(out, CARRIER, "PROVIDER_ERROR", NULL,
                                  "a success response without a referenceId", 0, -1);
        else
            omni__ob_result_ok(out, CARRIER, id->valuestring, "accepted", -1, NULL);
    } else {
        error_result(out, status, j, resp, now_ms);
    }
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_inteliquent = {"inteliquent", cfg, st_free, build, parse};
