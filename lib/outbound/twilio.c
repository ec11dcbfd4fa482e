/* Outbound adapter "twilio": one message -> the Programmable Messaging
 * "Create a Message" request, and its response -> a result.
 *
 * Request (Twilio Messages resource, https://www.twilio.com/docs/messaging/api/message-resource):
 *   POST {baseUrl}/2010-04-01/Accounts/{accountSid}/Messages.json
 *   Authorization: Basic base64(accountSid:authToken) or base64(apiKeySid:apiKeySecret)
 *   Content-Type: application/x-www-form-urlencoded, Accept: application/json
 *   body (form-encoded, in this order): To, From | MessagingServiceSid, Body,
 *   MediaUrl (repeated), ContentSid, ContentVariables, StatusCallback.
 *
 * Message members accepted (event "message"):
 *   contentType "text" (default): content (non-empty string) -> Body.
 *   contentType "media": mediaUrls (array of 1..10 non-empty strings) -> one MediaUrl each;
 *       content (string, optional) -> Body.
 *   contentType "template": templateId (string, "HX..." Content SID) -> ContentSid;
 *       templateParams (object, optional) -> ContentVariables as compact JSON.
 *   statusCallback (string, optional) overrides the configuration's statusCallback.
 *   Any other contentType ("interactive" included: use a Content template) is OMNI_EINVAL.
 * Sender: routing.fromNumber (string) -> From; else the configuration's
 * messagingServiceSid -> MessagingServiceSid; else OMNI_EINVAL.
 * recipient.channel "whatsapp": To and From get the "whatsapp:" prefix (unless present).
 *
 * Response: 201 {"sid","status","price","price_unit","error_code",...}: success with
 * carrierMessageId = sid, status queued|accepted (scheduled -> accepted; sending, sent,
 * delivered -> sent), cost = |price| when Twilio reports a price (a string such as
 * "-0.00750"), currency = price_unit. A 2xx whose status is failed/undelivered is an error.
 * Errors: JSON {"code","message","more_info","status"} mapped by code:
 *   20003 (authenticate), 20005 (account not active)        AUTH_FAILED, not retryable
 *   20429 (too many requests), 14107 (rate limit)            RATE_LIMITED, retryable
 *   21211 (invalid 'To'), 21614 ('To' not mobile), 21612 (To/From cannot be connected),
 *   21217, 21401, 21421 (invalid phone number)               INVALID_RECIPIENT, not retryable
 *   21610 (unsubscribed recipient, STOP)                     RECIPIENT_OPTED_OUT, not retryable
 *   63016 (WhatsApp free-form outside the 24 h window)       WINDOW_CLOSED, not retryable
 *   21655, 21656 (invalid ContentSid / ContentVariables),
 *   63027, 63028 (template does not exist / param mismatch)  TEMPLATE_REJECTED, not retryable
 *   20500, 20503 (internal error / service unavailable)      PROVIDER_UNAVAILABLE, retryable
 *   21408 (region not enabled), 21606 (bad From), others     by HTTP status: 429
 *       RATE_LIMITED, 5xx PROVIDER_UNAVAILABLE, 401/403 AUTH_FAILED, other 4xx INVALID_REQUEST.
 * Retry-After (seconds or HTTP-date) becomes retryAfterMs on retryable errors. A body that
 * is not the documented JSON is a PROVIDER_ERROR (retryable for a 5xx). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "twilio"

typedef struct twilio_state {
    char *account_sid;
    char *auth_user; /* accountSid or apiKeySid */
    char *auth_secret;
    char *service_sid;
    char *status_callback;
    char *base_url;
} twilio_state;

static void st_free(void *p)
{
    twilio_state *s = p;
    if (!s)
        return;
    free(s->account_sid);
    free(s->auth_user);
    omni__ob_secret_free(s->auth_secret);
    free(s->service_sid);
    free(s->status_callback);
    free(s->base_url);
    free(s);
}

/* A Twilio SID: the two-letter prefix and letters/digits, at most 64 bytes. */
static int sid_ok(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, 2) != 0 || strlen(s) < 3 || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    static const char *const known[] = {"accountSid", "authToken",      "apiKeySid",
                                        "apiKeySecret", "messagingServiceSid",
                                        "statusCallback", "baseUrl"};
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], it->string) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__ob_config_error(path, it->string, "is not a twilio setting");
    }
    twilio_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__ob_string(&s->account_sid, c, path, "accountSid", 1, 64);
    if (!rc && !sid_ok(s->account_sid, "AC"))
        rc = omni__ob_config_error(path, "accountSid", "must be an account SID (AC...)");
    int has_token = cJSON_GetObjectItemCaseSensitive(c, "authToken") != NULL;
    int has_key = cJSON_GetObjectItemCaseSensitive(c, "apiKeySid") != NULL ||
                  cJSON_GetObjectItemCaseSensitive(c, "apiKeySecret") != NULL;
    if (!rc && has_token == has_key)
        rc = omni__ob_config_error(path, "authToken",
                                   "give either authToken or apiKeySid with apiKeySecret");
    if (!rc && has_token) {
        rc = omni__ob_secret(&s->auth_secret, c, path, "authToken", 1);
        if (!rc && !(s->auth_user = strdup(s->account_sid)))
            rc = omni__err(OMNI_ENOMEM, NULL);
    } else if (!rc) {
        rc = omni__ob_string(&s->auth_user, c, path, "apiKeySid", 1, 64);
        if (!rc && !sid_ok(s->auth_user, "SK"))
            rc = omni__ob_config_error(path, "apiKeySid", "must be an API key SID (SK...)");
        if (!rc)
            rc = omni__ob_secret(&s->auth_secret, c, path, "apiKeySecret", 1);
    }
    if (!rc)
        rc = omni__ob_string(&s->service_sid, c, path, "messagingServiceSid", 0, 64);
    if (!rc && s->service_sid && !sid_ok(s->service_sid, "MG"))
        rc = omni__ob_config_error(path, "messagingServiceSid",
                                   "must be a Messaging Service SID (MG...)");
    if (!rc)
        rc = omni__ob_string(&s->status_callback, c, path, "statusCallback", 0, 2048);
    if (!rc && s->status_callback && strncmp(s->status_callback, "https://", 8) != 0 &&
        strncmp(s->status_callback, "http://", 7) != 0)
        rc = omni__ob_config_error(path, "statusCallback", "must be an http(s) URL");
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl", "https://api.twilio.com");
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- build ------------------------------------------------------------------------ */

static void form_pair(omni_buf *b, const char *name, const char *prefix, const char *value)
{
    if (b->len)
        omni__buf_putc(b, '&');
    omni__buf_puts(b, name);
    omni__buf_putc(b, '=');
    if (prefix)
        omni__url_encode_append(b, prefix, strlen(prefix), OMNI__PCT_FORM);
    omni__url_encode_append(b, value, strlen(value), OMNI__PCT_FORM);
}

static int all_strings(const cJSON *obj)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, obj)
    {
        if (!cJSON_IsString(v))
            return 0;
    }
    return 1;
}

static int build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                 int64_t now_ms)
{
    (void)now_ms;
    const twilio_state *s = state;
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(ev->recipient, "channel");
    if (ch && !cJSON_IsString(ch))
        return omni__ob_event_error(CARRIER, "recipient.channel", "must be a string");
    int wa = ch && strcmp(ch->valuestring, "whatsapp") == 0;
    const char *wa_prefix = "whatsapp:";
    const char *to_prefix = wa && strncmp(ev->to, wa_prefix, 9) != 0 ? wa_prefix : NULL;

    const cJSON *from = ev->routing ? cJSON_GetObjectItemCaseSensitive(ev->routing, "fromNumber")
                                    : NULL;
    if (from && (!cJSON_IsString(from) || !from->valuestring[0]))
        return omni__ob_event_error(CARRIER, "routing.fromNumber", "must be a non-empty string");
    if (!from && !s->service_sid)
        return omni__ob_event_error(CARRIER, "routing.fromNumber",
                                    "is required (no messagingServiceSid is configured)");
    const char *from_prefix =
        from && wa && strncmp(from->valuestring, wa_prefix, 9) != 0 ? wa_prefix : NULL;

    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev->message, "content");
    if (content && !cJSON_IsString(content))
        return omni__ob_event_error(CARRIER, "message.content", "must be a string");
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(ev->message, "statusCallback");
    if (cb && (!cJSON_IsString(cb) || (strncmp(cb->valuestring, "https://", 8) != 0 &&
                                       strncmp(cb->valuestring, "http://", 7) != 0)))
        return omni__ob_event_error(CARRIER, "message.statusCallback",
                                    "must be an http(s) URL string");

    omni_buf body = OMNI_BUF_INIT;
    omni__buf_init(&body, OMNI_HTTP_MAX_BODY);
    form_pair(&body, "To", to_prefix, ev->to);
    if (from)
        form_pair(&body, "From", from_prefix, from->valuestring);
    else
        form_pair(&body, "MessagingServiceSid", NULL, s->service_sid);

    int rc = OMNI_OK;
    const char *ct = ev->content_type;
    if (strcmp(ct, "text") == 0) {
        if (!content || !content->valuestring[0])
            rc = omni__ob_event_error(CARRIER, "message.content",
                                      "must be a non-empty string for a text message");
        else
            form_pair(&body, "Body", NULL, content->valuestring);
    } else if (strcmp(ct, "media") == 0) {
        const cJSON *urls = cJSON_GetObjectItemCaseSensitive(ev->message, "mediaUrls");
        int n = cJSON_IsArray(urls) ? cJSON_GetArraySize(urls) : 0;
        if (n < 1 || n > 10) {
            rc = omni__ob_event_error(CARRIER, "message.mediaUrls",
                                      "must be an array of 1..10 URLs for a media message");
        } else {
            if (content && content->valuestring[0])
                form_pair(&body, "Body", NULL, content->valuestring);
            const cJSON *u;
            cJSON_ArrayForEach(u, urls)
            {
                if (!cJSON_IsString(u) || !u->valuestring[0]) {
                    rc = omni__ob_event_error(CARRIER, "message.mediaUrls",
                                              "must hold non-empty strings");
                    break;
                }
                form_pair(&body, "MediaUrl", NULL, u->valuestring);
            }
        }
    } else if (strcmp(ct, "template") == 0) {
        const char *tid = omni__ob_msg_str(ev, "templateId");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(ev->message, "templateParams");
        if (!tid || !tid[0]) {
            rc = omni__ob_event_error(CARRIER, "message.templateId",
                                      "must be a non-empty string (a Content SID) for a "
                                      "template message");
        } else if (params && !cJSON_IsObject(params)) {
            rc = omni__ob_event_error(CARRIER, "message.templateParams", "must be an object");
        } else if (params && !all_strings(params)) {
            rc = omni__ob_event_error(CARRIER, "message.templateParams",
                                      "must have string values");
        } else {
            form_pair(&body, "ContentSid", NULL, tid);
            if (params) {
                omni_buf vars = OMNI_BUF_INIT;
                omni__json_w_item(&vars, params);
                omni__buf_putc(&vars, '\0');
                if (vars.failed)
                    rc = omni__err(vars.failed, NULL);
                else
                    form_pair(&body, "ContentVariables", NULL, vars.data);
                omni__buf_free(&vars);
            }
        }
    } else {
        rc = omni__ob_event_error(CARRIER, "message.contentType",
                                  "must be \"text\", \"media\" or \"template\"");
    }
    const char *callback = cb ? cb->valuestring : s->status_callback;
    if (!rc && callback)
        form_pair(&body, "StatusCallback", NULL, callback);
    if (rc) {
        omni__buf_free(&body);
        return rc;
    }
    return omni__ob_post(out, CARRIER, &body, "Basic", s->auth_user, s->auth_secret,
                         "application/x-www-form-urlencoded", "application/json",
                         "%s/2010-04-01/Accounts/%s/Messages.json", s->base_url, s->account_sid);
}

/* ---- parse ------------------------------------------------------------------------ */

typedef struct code_class {
    int code;
    const char *cls;
    int retryable;
} code_class;

static const code_class codes[] = {
    {20003, "AUTH_FAILED", 0},          {20005, "AUTH_FAILED", 0},
    {20429, "RATE_LIMITED", 1},         {14107, "RATE_LIMITED", 1},
    {21211, "INVALID_RECIPIENT", 0},    {21614, "INVALID_RECIPIENT", 0},
    {21612, "INVALID_RECIPIENT", 0},    {21217, "INVALID_RECIPIENT", 0},
    {21401, "INVALID_RECIPIENT", 0},    {21421, "INVALID_RECIPIENT", 0},
    {21610, "RECIPIENT_OPTED_OUT", 0},  {63016, "WINDOW_CLOSED", 0},
    {21655, "TEMPLATE_REJECTED", 0},    {21656, "TEMPLATE_REJECTED", 0},
    {63027, "TEMPLATE_REJECTED", 0},    {63028, "TEMPLATE_REJECTED", 0},
    {20500, "PROVIDER_UNAVAILABLE", 1}, {20503, "PROVIDER_UNAVAILABLE", 1},
};

static void error_result(omni_buf *out, int status, const cJSON *j,
                         const omni_http_response *resp, int64_t now_ms)
{
    int retryable;
    const char *cls = omni__ob_http_class(status, &retryable);
    const cJSON *code = j ? cJSON_GetObjectItemCaseSensitive(j, "code") : NULL;
    if (!code && j)
        code = cJSON_GetObjectItemCaseSensitive(j, "error_code");
    const cJSON *msg = j ? cJSON_GetObjectItemCaseSensitive(j, "message") : NULL;
    if (!cJSON_IsString(msg) && j)
        msg = cJSON_GetObjectItemCaseSensitive(j, "error_message");
    char pcode[32] = "";
    if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1e9) {
        int c = (int)code->valuedouble;
        snprintf(pcode, sizeof(pcode), "%d", c);
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
            if (codes[i].code == c) {
                cls = codes[i].cls;
                retryable = codes[i].retryable;
            }
    }
    omni__ob_result_http_error(out, CARRIER, "Twilio", status, j != NULL, resp, now_ms, cls,
                               retryable, pcode,
                               cJSON_IsString(msg) ? msg->valuestring : NULL);
}

static const char *result_status(const char *s)
{
    if (strcmp(s, "queued") == 0 || strcmp(s, "accepted") == 0)
        return s;
    if (strcmp(s, "scheduled") == 0)
        return "accepted";
    if (strcmp(s, "sending") == 0 || strcmp(s, "sent") == 0 || strcmp(s, "delivered") == 0 ||
        strcmp(s, "read") == 0)
        return "sent";
    if (strcmp(s, "failed") == 0 || strcmp(s, "undelivered") == 0 || strcmp(s, "canceled") == 0)
        return NULL;
    return "queued";
}

static int parse(omni_buf *out, const void *state, const omni_http_response *resp,
                 int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    cJSON *j = omni__ob_body_object(resp);
    if (status >= 200 && status < 300) {
        const cJSON *sid = j ? cJSON_GetObjectItemCaseSensitive(j, "sid") : NULL;
        const cJSON *st = j ? cJSON_GetObjectItemCaseSensitive(j, "status") : NULL;
        const char *mapped = cJSON_IsString(st) ? result_status(st->valuestring) : "queued";
        if (!cJSON_IsString(sid) || !sid->valuestring[0]) {
            omni__ob_result_error(out, CARRIER, "PROVIDER_ERROR", NULL,
                                  "a success response without a message sid", 0, -1);
        } else if (!mapped) {
            error_result(out, 400, j, resp, now_ms);
        } else {
            double cost = -1;
            const cJSON *price = cJSON_GetObjectItemCaseSensitive(j, "price");
            if (cJSON_IsString(price) && price->valuestring[0]) {
                char *end = NULL;
                double v = strtod(price->valuestring, &end);
                if (end && !*end && isfinite(v))
                    cost = fabs(v);
            } else if (cJSON_IsNumber(price) && isfinite(price->valuedouble)) {
                cost = fabs(price->valuedouble);
            }
            const cJSON *unit = cJSON_GetObjectItemCaseSensitive(j, "price_unit");
            omni__ob_result_ok(out, CARRIER, sid->valuestring, mapped, cost,
                               cJSON_IsString(unit) ? unit->valuestring : NULL);
        }
    } else {
        error_result(out, status, j, resp, now_ms);
    }
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_twilio = {"twilio", cfg, st_free, build, parse};
