/* Outbound adapter "messagebird": one message -> the MessageBird (Bird) Conversations API
 * "send" request, and its response -> a result.
 *
 * Sources checked: MessageBird Conversations API reference (POST
 * https://conversations.messagebird.com/v1/send, "Authorization: AccessKey {key}", body
 * {to, from (channel id), type, content, reportUrl?}, 202 {"id","status":"accepted"}), the
 * official SDKs' ConversationSendRequest / ConversationSendResponse (github.com/messagebird/
 * java-rest-api PR 123, messagebird-nodejs examples/conversations.js), and MessageBird's REST
 * API error format {"errors":[{"code","description","parameter"}]} with its documented codes.
 * Bird's newer platform (docs.bird.com) replaces this API; the legacy endpoint is what this
 * adapter targets. Not confirmed from a primary page in this session: the exact HTTP status
 * of a send (202 is the documented one; any 2xx with an id is accepted).
 *
 * Configuration ("messagebird"): accessKey (SECRET), channelId (string: the "from" channel),
 * baseUrl? (default https://conversations.messagebird.com).
 *
 * Request:
 *   POST {baseUrl}/v1/send
 *   Authorization: AccessKey {accessKey}
 *   Content-Type: application/json, Accept: application/json
 *   body {"to": channelIdentifier, "from": routing.channelId or the configured channelId,
 *         "type": ..., "content": {...}, "reportUrl"?}
 * Message members accepted (event "message"):
 *   contentType "text" (default): content (non-empty string) -> type "text", content {text}.
 *   contentType "media": mediaUrls [exactly one URL], mediaType? ("image" (default) | "video"
 *       | "audio" | "file") -> type = mediaType, content {<mediaType>: {url, caption?}};
 *       content (string, optional) is the caption (not for audio, which has none).
 *   reportUrl (http(s) URL, optional) -> reportUrl (status reports).
 *   Any other contentType is OMNI_EINVAL. routing.channelId (string, optional) overrides the
 *   configured channelId.
 *
 * Response: 2xx {"id","status"}: success, carrierMessageId = id, status "accepted".
 * Errors {"errors":[{"code","description","parameter"}]}: the first error decides,
 * providerCode = its code:
 *   2  (request not allowed: bad access key)            AUTH_FAILED, not retryable
 *   9  (missing params), 10 (invalid params)            INVALID_REQUEST, not retryable;
 *                                                       INVALID_RECIPIENT when parameter "to"
 *   20 (not found), 21 (bad request), 98 (API not found) INVALID_REQUEST, not retryable
 *   25 (not enough balance)                             PROVIDER_ERROR, not retryable
 *   99 (internal error)                                 PROVIDER_UNAVAILABLE, retryable
 *   other codes / no code                               by HTTP status: 429 RATE_LIMITED,
 *       5xx PROVIDER_UNAVAILABLE, 401/403 AUTH_FAILED, other 4xx INVALID_REQUEST.
 * Retry-After becomes retryAfterMs on retryable errors. A body that is not MessageBird's
 * JSON is a PROVIDER_ERROR (except 401/403/429/5xx). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "messagebird"

typedef struct mb_state {
    char *access_key;
    char *channel_id;
    char *base_url;
} mb_state;

static void st_free(void *p)
{
    mb_state *s = p;
    if (!s)
        return;
    omni__ob_secret_free(s->access_key);
    free(s->channel_id);
    free(s->base_url);
    free(s);
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    static const char *const known[] = {"accessKey", "channelId", "baseUrl"};
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], it->string) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__ob_config_error(path, it->string, "is not a messagebird setting");
    }
    mb_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__ob_secret(&s->access_key, c, path, "accessKey", 1);
    if (!rc && (strchr(s->access_key, '\r') || strchr(s->access_key, '\n')))
        rc = omni__ob_config_error(path, "accessKey", "must not contain line breaks");
    if (!rc)
        rc = omni__ob_string(&s->channel_id, c, path, "channelId", 1, 128);
    if (!rc && !s->channel_id[0])
        rc = omni__ob_config_error(path, "channelId", "must not be empty");
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl",
                               "https://conversations.messagebird.com");
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- build ------------------------------------------------------------------------ */

static int is_http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                 int64_t now_ms)
{
    (void)now_ms;
    const mb_state *s = state;
    const char *from = s->channel_id;
    const cJSON *ch = ev->routing ? cJSON_GetObjectItemCaseSensitive(ev->routing, "channelId")
                                  : NULL;
    if (ch && (!cJSON_IsString(ch) || !ch->valuestring[0]))
        return omni__ob_event_error(CARRIER, "routing.channelId", "must be a non-empty string");
    if (ch)
        from = ch->valuestring;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev->message, "content");
    if (content && !cJSON_IsString(content))
        return omni__ob_event_error(CARRIER, "message.content", "must be a string");
    const cJSON *report = cJSON_GetObjectItemCaseSensitive(ev->message, "reportUrl");
    if (report && (!cJSON_IsString(report) || !is_http_url(report->valuestring)))
        return omni__ob_event_error(CARRIER, "message.reportUrl", "must be an http(s) URL string");

    const char *type = "text";
    const char *media_url = NULL;
    const char *ct = ev->content_type;
    if (strcmp(ct, "text") == 0) {
        if (!content || !content->valuestring[0])
            return omni__ob_event_error(CARRIER, "message.content",
                                        "must be a non-empty string for a text message");
    } else if (strcmp(ct, "media") == 0) {
        const cJSON *urls = cJSON_GetObjectItemCaseSensitive(ev->message, "mediaUrls");
        if (!cJSON_IsArray(urls) || cJSON_GetArraySize(urls) != 1)
            return omni__ob_event_error(CARRIER, "message.mediaUrls",
                                        "must be an array of exactly one URL for a media "
                                        "message");
        const cJSON *u = cJSON_GetArrayItem(urls, 0);
        if (!cJSON_IsString(u) || !is_http_url(u->valuestring))
            return omni__ob_event_error(CARRIER, "message.mediaUrls",
                                        "must hold an http(s) URL string");
        media_url = u->valuestring;
        const cJSON *mt = cJSON_GetObjectItemCaseSensitive(ev->message, "mediaType");
        type = "image";
        if (mt) {
            if (!cJSON_IsString(mt) || (strcmp(mt->valuestring, "image") != 0 &&
                                        strcmp(mt->valuestring, "video") != 0 &&
                                        strcmp(mt->valuestring, "audio") != 0 &&
                                        strcmp(mt->valuestring, "file") != 0))
                return omni__ob_event_error(CARRIER, "message.mediaType",
                                            "must be \"image\", \"video\", \"audio\" or "
                                            "\"file\"");
            type = mt->valuestring;
        }
    } else {
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\" or \"media\"");
    }

    omni_buf body = OMNI_BUF_INIT;
    omni__buf_init(&body, OMNI_HTTP_MAX_BODY);
    omni__json_w_obj_begin(&body);
    omni__json_w_keyl(&body, "to");
    omni__json_w_str(&body, ev->to);
    omni__json_w_keyl(&body, "from");
    omni__json_w_str(&body, from);
    omni__json_w_keyl(&body, "type");
    omni__json_w_str(&body, type);
    omni__json_w_keyl(&body, "content");
    omni__json_w_obj_begin(&body);
    if (!media_url) {
        omni__json_w_keyl(&body, "text");
        omni__json_w_str(&body, content->valuestring);
    } else {
        omni__json_w_key(&body, type);
        omni__json_w_obj_begin(&body);
        omni__json_w_keyl(&body, "url");
        omni__json_w_str(&body, media_url);
        if (content && content->valuestring[0] && strcmp(type, "audio") != 0) {
            omni__json_w_keyl(&body, "caption");
            omni__json_w_str(&body, content->valuestring);
        }
        omni__json_w_obj_end(&body);
    }
    omni__json_w_obj_end(&body);
    if (report) {
        omni__json_w_keyl(&body, "reportUrl");
        omni__json_w_str(&body, report->valuestring);
    }
    omni__json_w_obj_end(&body);
    return omni__ob_post(out, CARRIER, &body, "AccessKey", NULL, s->access_key,
                         "application/json", "application/json", "%s/v1/send", s->base_url);
}

/* ---- parse ------------------------------------------------------------------------ */

typedef struct code_class {
    int code;
    const char *cls;
    int retryable;
} code_class;

static const code_class codes[] = {
    {2, "AUTH_FAILED", 0},      {9, "INVALID_REQUEST", 0},  {10, "INVALID_REQUEST", 0},
    {20, "INVALID_REQUEST", 0}, {21, "INVALID_REQUEST", 0}, {98, "INVALID_REQUEST", 0},
    {25, "PROVIDER_ERROR", 0},  {99, "PROVIDER_UNAVAILABLE", 1},
};

static void error_result(omni_buf *out, int status, const cJSON *j,
                         const omni_http_response *resp, int64_t now_ms)
{
    int retryable;
    const char *cls = omni__ob_http_class(status, &retryable);
    const cJSON *errs = j ? cJSON_GetObjectItemCaseSensitive(j, "errors") : NULL;
    const cJSON *e = cJSON_IsArray(errs) ? cJSON_GetArrayItem(errs, 0) : NULL;
    if (!cJSON_IsObject(e))
        e = NULL;
    const cJSON *code = e ? cJSON_GetObjectItemCaseSensitive(e, "code") : NULL;
    const cJSON *desc = e ? cJSON_GetObjectItemCaseSensitive(e, "description") : NULL;
    const cJSON *param = e ? cJSON_GetObjectItemCaseSensitive(e, "parameter") : NULL;
    char pcode[32] = "";
    if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1e9) {
        int c = (int)code->valuedouble;
        snprintf(pcode, sizeof(pcode), "%d", c);
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
            if (codes[i].code == c) {
                cls = codes[i].cls;
                retryable = codes[i].retryable;
            }
        if ((c == 9 || c == 10) && cJSON_IsString(param) && strcmp(param->valuestring, "to") == 0)
            cls = "INVALID_RECIPIENT";
    }
    char text[512] = "";
    if (cJSON_IsString(desc) && desc->valuestring[0])
        omni__ob_clean_text(text, sizeof(text), desc->valuestring, strlen(desc->valuestring));
    omni__ob_result_http_error(out, CARRIER, "MessageBird", status, j != NULL, resp, now_ms,
                               cls, retryable, pcode, text);
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

const omni__ob_adapter omni__ob_messagebird = {"messagebird", cfg, st_free, build, parse};
