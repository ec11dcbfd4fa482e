/* Outbound adapter "bandwidth": one message -> the Bandwidth Messaging API v2 "Create
 * Message" request, and its response -> a result.
 *
 * Sources checked: "Send Messages" (https://dev.bandwidth.com/docs/messaging/createMessage/),
 * "Messaging" (https://dev.bandwidth.com/docs/messaging: base URL, 202 Accepted = queued),
 * "Errors" (https://dev.bandwidth.com/v2-messaging/codes.html: 400 request-validation, 401
 * unauthorized, 403 forbidden, 404, 415, 429), the SDKs' MessageRequest / CreateMessageRequestError
 * models ({type, description, fieldErrors [{fieldName, description}]}).
 *
 * Configuration ("bandwidth"): accountId (string, 1..64 of letters, digits, '-'),
 * username (string), password (SECRET: a string or {"env": NAME}), applicationId (string),
 * baseUrl? (default https://messaging.bandwidth.com). username/password may be an API
 * token and secret: both are sent as HTTP Basic credentials. (Bandwidth's newer OAuth 2.0
 * bearer tokens are not supported here.)
 *
 * Request:
 *   POST {baseUrl}/api/v2/users/{accountId}/messages
 *   Authorization: Basic base64(username:password)
 *   Content-Type: application/json; charset=utf-8, Accept: application/json
 *   body {"to":[channelIdentifier],"from":routing.fromNumber,"text"?,"applicationId",
 *         "media"?:[...],"tag"?,"priority"?}
 * Message members accepted (event "message"):
 *   contentType "text" (default): content (non-empty string) -> text.
 *   contentType "media": mediaUrls (array of 1..10 non-empty strings) -> media;
 *       content (string, optional) -> text.
 *   tag (string, at most 1024 bytes, optional) -> tag; else the event's correlationId (when a
 *       string of at most 1024 bytes) -> tag, so that callbacks can be correlated.
 *   priority ("default" | "high", optional) -> priority.
 *   Any other contentType is OMNI_EINVAL. routing.fromNumber (a Bandwidth number) is required.
 *
 * Response: 202 {"id","owner","applicationId","time","segmentCount","direction","to","from",
 * "text","tag"}: success, carrierMessageId = id, status "accepted" (queued for delivery; the
 * outcome arrives by webhook). Bandwidth reports no price at creation time.
 * Errors {"type","description","fieldErrors"?} (providerCode = type), classed by HTTP status:
 *   400 request-validation                  INVALID_REQUEST, not retryable; INVALID_RECIPIENT
 *                                           when a fieldErrors[].fieldName is "to"
 *   401 unauthorized, 403 forbidden         AUTH_FAILED, not retryable
 *   404, 415 and other 4xx                  INVALID_REQUEST, not retryable
 *   429 (too many requests)                 RATE_LIMITED, retryable, Retry-After honoured
 *   5xx                                     PROVIDER_UNAVAILABLE, retryable, Retry-After honoured
 * A body that is not Bandwidth's JSON is a PROVIDER_ERROR (except 401/403/429/5xx, whose
 * status alone tells the class). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "bandwidth"

typedef struct bw_state {
    char *account_id;
    char *username;
    char *password;
    char *application_id;
    char *base_url;
} bw_state;

static void st_free(void *p)
{
    bw_state *s = p;
    if (!s)
        return;
    free(s->account_id);
    free(s->username);
    omni__ob_secret_free(s->password);
    free(s->application_id);
    free(s->base_url);
    free(s);
}

static int account_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-'))
            return 0;
    return 1;
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    static const char *const known[] = {"accountId", "username", "password", "applicationId",
                                        "baseUrl"};
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], it->string) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__ob_config_error(path, it->string, "is not a bandwidth setting");
    }
    bw_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__ob_string(&s->account_id, c, path, "accountId", 1, 64);
    if (!rc && !account_ok(s->account_id))
        rc = omni__ob_config_error(path, "accountId", "must be letters, digits and '-'");
    if (!rc)
        rc = omni__ob_string(&s->username, c, path, "username", 1, 256);
    if (!rc && (!s->username[0] || strchr(s->username, ':')))
        rc = omni__ob_config_error(path, "username", "must be non-empty and without ':'");
    if (!rc)
        rc = omni__ob_secret(&s->password, c, path, "password", 1);
    if (!rc)
        rc = omni__ob_string(&s->application_id, c, path, "applicationId", 1, 128);
    if (!rc && !s->application_id[0])
        rc = omni__ob_config_error(path, "applicationId", "must not be empty");
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl",
                               "https://messaging.bandwidth.com");
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- build ------------------------------------------------------------------------ */

static int build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                 int64_t now_ms)
{
    (void)now_ms;
    const bw_state *s = state;
    const cJSON *from = ev->routing ? cJSON_GetObjectItemCaseSensitive(ev->routing, "fromNumber")
                                    : NULL;
    if (!from)
        return omni__ob_event_error(CARRIER, "routing.fromNumber", "is required");
    if (!cJSON_IsString(from) || !from->valuestring[0])
        return omni__ob_event_error(CARRIER, "routing.fromNumber", "must be a non-empty string");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev->message, "content");
    if (content && !cJSON_IsString(content))
        return omni__ob_event_error(CARRIER, "message.content", "must be a string");
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(ev->message, "tag");
    if (tag && (!cJSON_IsString(tag) || strlen(tag->valuestring) > 1024))
        return omni__ob_event_error(CARRIER, "message.tag",
                                    "must be a string of at most 1024 bytes");
    if (!tag) {
        const cJSON *corr = cJSON_GetObjectItemCaseSensitive(ev->root, "correlationId");
        if (cJSON_IsString(corr) && corr->valuestring[0] && strlen(corr->valuestring) <= 1024)
            tag = corr;
    }
    const cJSON *prio = cJSON_GetObjectItemCaseSensitive(ev->message, "priority");
    if (prio && (!cJSON_IsString(prio) || (strcmp(prio->valuestring, "default") != 0 &&
                                           strcmp(prio->valuestring, "high") != 0)))
        return omni__ob_event_error(CARRIER, "message.priority", "must be \"default\" or \"high\"");

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
            if (!cJSON_IsString(u) || !u->valuestring[0])
                return omni__ob_event_error(CARRIER, "message.mediaUrls",
                                            "must hold non-empty strings");
        }
    } else {
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\" or \"media\"");
    }

    omni_buf body = OMNI_BUF_INIT;
    omni__buf_init(&body, OMNI_HTTP_MAX_BODY);
    omni__json_w_obj_begin(&body);
    omni__json_w_keyl(&body, "to");
    omni__json_w_arr_begin(&body);
    omni__json_w_str(&body, ev->to);
    omni__json_w_arr_end(&body);
    omni__json_w_keyl(&body, "from");
    omni__json_w_str(&body, from->valuestring);
    if (content && content->valuestring[0]) {
        omni__json_w_keyl(&body, "text");
        omni__json_w_str(&body, content->valuestring);
    }
    omni__json_w_keyl(&body, "applicationId");
    omni__json_w_str(&body, s->application_id);
    if (urls) {
        omni__json_w_keyl(&body, "media");
        omni__json_w_arr_begin(&body);
        const cJSON *u;
        cJSON_ArrayForEach(u, urls)
        {
            omni__json_w_str(&body, u->valuestring);
        }
        omni__json_w_arr_end(&body);
    }
    if (tag) {
        omni__json_w_keyl(&body, "tag");
        omni__json_w_str(&body, tag->valuestring);
    }
    if (prio) {
        omni__json_w_keyl(&body, "priority");
        omni__json_w_str(&body, prio->valuestring);
    }
    omni__json_w_obj_end(&body);
    return omni__ob_post(out, CARRIER, &body, "Basic", s->username, s->password,
                         "application/json; charset=utf-8", "application/json",
                         "%s/api/v2/users/%s/messages", s->base_url, s->account_id);
}

/* ---- parse ------------------------------------------------------------------------ */

static int field_is_to(const cJSON *j)
{
    const cJSON *fe = cJSON_GetObjectItemCaseSensitive(j, "fieldErrors");
    if (!cJSON_IsArray(fe))
        return 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, fe)
    {
        const cJSON *name = cJSON_IsObject(f) ? cJSON_GetObjectItemCaseSensitive(f, "fieldName")
                                              : NULL;
        if (cJSON_IsString(name) && strcmp(name->valuestring, "to") == 0)
            return 1;
    }
    return 0;
}

static void error_result(omni_buf *out, int status, const cJSON *j,
                         const omni_http_response *resp, int64_t now_ms)
{
    int retryable;
    const char *cls = omni__ob_http_class(status, &retryable);
    const cJSON *type = j ? cJSON_GetObjectItemCaseSensitive(j, "type") : NULL;
    const cJSON *desc = j ? cJSON_GetObjectItemCaseSensitive(j, "description") : NULL;
    if (j && status == 400 && field_is_to(j))
        cls = "INVALID_RECIPIENT";
    char pcode[128] = "";
    if (cJSON_IsString(type) && type->valuestring[0])
        omni__ob_clean_text(pcode, sizeof(pcode), type->valuestring, strlen(type->valuestring));
    char text[512] = "";
    if (cJSON_IsString(desc) && desc->valuestring[0])
        omni__ob_clean_text(text, sizeof(text), desc->valuestring, strlen(desc->valuestring));
    omni__ob_result_http_error(out, CARRIER, "Bandwidth", status, j != NULL, resp, now_ms, cls,
                               retryable, pcode, text);
}

static int parse(omni_buf *out, const void *state, const omni_http_response *resp,
                 int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    cJSON *j = omni__ob_body_object(resp);
    if (status >= 200 && status < 300) {
        const cJSON *id = j ? cJSON_GetObjectItemCaseSensitive(j, "id") : NULL;
        if (!cJSON_IsString(id) || !id->valuestring[0])
            omni__ob_result_error(out, CARRIER, "PROVIDER_ERROR", NULL,
                                  "a success response without a message id", 0, -1);
        else
            omni__ob_result_ok(out, CARRIER, id->valuestring, "accepted", -1, NULL);
    } else {
        error_result(out, status, j, resp, now_ms);
    }
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_bandwidth = {"bandwidth", cfg, st_free, build, parse};
