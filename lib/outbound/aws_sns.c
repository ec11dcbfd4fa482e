/* Outbound adapter "aws-sns": one SMS through Amazon SNS Publish (Query
 * API, version 2010-03-31) to a phone number, signed with AWS Signature
 * Version 4 (service "sns").
 *
 * Request: POST {endpoint}/ (default https://sns.{region}.amazonaws.com),
 * Content-Type: application/x-www-form-urlencoded; charset=utf-8, body
 *   Action=Publish&Version=2010-03-31&PhoneNumber=<E.164>&Message=<text>
 *   [&MessageAttributes.entry.N.Name=AWS.SNS.SMS.SMSType
 *    &MessageAttributes.entry.N.Value.DataType=String
 *    &MessageAttributes.entry.N.Value.StringValue=Transactional|Promotional]
 *   [... AWS.SNS.SMS.SenderID] [... AWS.MM.SMS.OriginationNumber]
 * (N counts from 1 in that order; names and values percent-encoded with the
 * RFC 3986 unreserved set, as AWS's Query API and SigV4 expect).
 *
 * Message members accepted (the event's "message" object):
 *   "content":     the SMS text (required, a non-empty string of at most
 *                  1600 bytes: SNS's limit for one Publish of an SMS);
 *   "contentType": "text" (the default; SNS SMS has no media or templates,
 *                  anything else is OMNI_EINVAL);
 *   "smsType":     "Transactional" | "Promotional", overriding the config's
 *                  "smsType";
 *   "senderId":    1..11 letters/digits (at least one letter), overriding
 *                  the config's "senderId".
 * recipient.channelIdentifier must be E.164: '+' and 3..15 digits.
 *
 * Response: 200 XML <PublishResponse><PublishResult><MessageId>..., read as
 * {"success":true,"status":"accepted","carrierMessageId":MessageId}.
 * Errors: XML <ErrorResponse><Error><Type/><Code/><Message/></Error>; the
 * Code (providerCode) maps to:
 *   Throttled, Throttling, ThrottlingException, KMSThrottling, TooManyRequests
 *                                     -> RATE_LIMITED (retryable)
 *   OptedOut                          -> RECIPIENT_OPTED_OUT
 *   EndpointDisabled                  -> INVALID_RECIPIENT
 *   InvalidParameter, InvalidParameterValue: INVALID_RECIPIENT when the
 *     message names the PhoneNumber parameter, else INVALID_REQUEST
 *   AuthorizationError, InvalidClientTokenId, SignatureDoesNotMatch,
 *   IncompleteSignature, ExpiredToken, InvalidSecurity, AccessDenied,
 *   MissingAuthenticationToken, OptInRequired -> AUTH_FAILED
 *   InternalError, InternalFailure, ServiceUnavailable
 *                                     -> PROVIDER_UNAVAILABLE (retryable)
 *   any other code or no readable XML: by HTTP status (429 RATE_LIMITED,
 *   5xx PROVIDER_UNAVAILABLE, 401/403 AUTH_FAILED; other 4xx with a code
 *   INVALID_REQUEST; a body that is not SNS's XML PROVIDER_ERROR).
 * A 5xx is always retryable; Retry-After (seconds or HTTP-date) becomes
 * retryAfterMs on any failed result. A 2xx without a MessageId is
 * PROVIDER_ERROR (not retryable: the message may have been sent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/aws.h>

#include "core/codec.h"
#include "core/error.h"
#include "outbound_internal.h"

#define CARRIER "aws-sns"
#define MAX_SMS_BYTES 1600
#define XML_SCAN_MAX (64u * 1024u)

typedef struct sns_state {
    omni__ob_aws aws;
    char *sms_type, *sender_id, *origination;
    char *endpoint;
} sns_state;

static void sns_free(void *p)
{
    sns_state *s = p;
    if (!s)
        return;
    omni__ob_aws_free(&s->aws);
    free(s->sms_type);
    free(s->sender_id);
    free(s->origination);
    free(s->endpoint);
    free(s);
}

/* A sender ID: 1..11 letters and digits, at least one letter (SNS's rule). */
static int sender_id_ok(const char *s)
{
    if (!omni__ob_alnum(s, 11))
        return 0;
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            return 1;
    return 0;
}

/* E.164: '+' and 3..15 digits, the first not 0. */
static int e164_ok(const char *s)
{
    if (s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    size_t n = 0;
    for (s++; *s; s++, n++)
        if (*s < '0' || *s > '9')
            return 0;
    return n >= 3 && n <= 15;
}

static int sms_type_ok(const char *t)
{
    return strcmp(t, "Transactional") == 0 || strcmp(t, "Promotional") == 0;
}

static int sns_config(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    sns_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc;
    if ((rc = omni__ob_aws_config(&s->aws, c, path)))
        goto fail;
    if ((rc = omni__ob_string(&s->sms_type, c, path, "smsType", 0, 32)))
        goto fail;
    if (s->sms_type && !sms_type_ok(s->sms_type)) {
        rc = omni__ob_config_error(path, "smsType", "must be \"Transactional\" or "
                                                     "\"Promotional\"");
        goto fail;
    }
    if ((rc = omni__ob_string(&s->sender_id, c, path, "senderId", 0, 11)))
        goto fail;
    if (s->sender_id && !sender_id_ok(s->sender_id)) {
        rc = omni__ob_config_error(path, "senderId",
                                   "must be 1..11 letters and digits with at least one letter");
        goto fail;
    }
    if ((rc = omni__ob_string(&s->origination, c, path, "originationNumber", 0, 16)))
        goto fail;
    if (s->origination && !e164_ok(s->origination)) {
        rc = omni__ob_config_error(path, "originationNumber", "must be an E.164 number");
        goto fail;
    }
    char def[128];
    snprintf(def, sizeof(def), "https://sns.%s.amazonaws.com", s->aws.region);
    if ((rc = omni__ob_base_url(&s->endpoint, c, path, "endpoint", def)))
        goto fail;
    const cJSON *item;
    cJSON_ArrayForEach(item, c)
    {
        static const char *const known[] = {"region", "accessKeyId", "secretAccessKey",
                                            "sessionToken", "smsType", "senderId",
                                            "originationNumber", "endpoint", NULL};
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(item->string, known[i]) == 0;
        if (!ok) {
            rc = omni__ob_config_error(path, item->string, "is not a known member");
            goto fail;
        }
    }
    *state = s;
    return OMNI_OK;
fail:
    sns_free(s);
    return rc;
}

static void param(omni_buf *b, const char *name, const char *value)
{
    if (b->len)
        omni__buf_putc(b, '&');
    omni__buf_puts(b, name);
    omni__buf_putc(b, '=');
    omni__url_encode_append(b, value, strlen(value), OMNI__PCT_RFC3986);
}

static void attribute(omni_buf *b, int *n, const char *name, const char *value)
{
    char key[64];
    ++*n;
    snprintf(key, sizeof(key), "MessageAttributes.entry.%d.Name", *n);
    param(b, key, name);
    snprintf(key, sizeof(key), "MessageAttributes.entry.%d.Value.DataType", *n);
    param(b, key, "String");
    snprintf(key, sizeof(key), "MessageAttributes.entry.%d.Value.StringValue", *n);
    param(b, key, value);
}

/* message.<name>: absent (NULL, OK) or a string, else an error. */
static int opt_str(const char **out, const omni__ob_event *ev, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev->message, name);
    *out = NULL;
    if (!v)
        return OMNI_OK;
    if (!cJSON_IsString(v)) {
        char member[64];
        snprintf(member, sizeof(member), "message.%s", name);
        return omni__ob_event_error(CARRIER, member, "must be a string");
    }
    *out = v->valuestring;
    return OMNI_OK;
}

static int sns_build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                     int64_t now_ms)
{
    const sns_state *s = state;
    *out = NULL;
    if (strcmp(ev->content_type, "text") != 0)
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\" (SNS sends text SMS only)");
    if (!e164_ok(ev->to))
        return omni__ob_event_error(CARRIER, "recipient.channelIdentifier",
                                    "must be an E.164 phone number (+ and 3..15 digits)");
    const char *text, *sms_type, *sender_id;
    int rc;
    if ((rc = opt_str(&text, ev, "content")) || (rc = opt_str(&sms_type, ev, "smsType")) ||
        (rc = opt_str(&sender_id, ev, "senderId")))
        return rc;
    if (!text || !text[0])
        return omni__ob_event_error(CARRIER, "message.content", "must be a non-empty string");
    if (strlen(text) > MAX_SMS_BYTES)
        return omni__err(OMNI_ETOOLARGE, "outbound " CARRIER ": message.content is over %d "
                                         "bytes (SNS's limit for one SMS publish)",
                         MAX_SMS_BYTES);
    if (sms_type && !sms_type_ok(sms_type))
        return omni__ob_event_error(CARRIER, "message.smsType",
                                    "must be \"Transactional\" or \"Promotional\"");
    if (sender_id && !sender_id_ok(sender_id))
        return omni__ob_event_error(CARRIER, "message.senderId",
                                    "must be 1..11 letters and digits with at least one letter");
    if (!sms_type)
        sms_type = s->sms_type;
    if (!sender_id)
        sender_id = s->sender_id;

    omni_buf body = OMNI_BUF_INIT;
    param(&body, "Action", "Publish");
    param(&body, "Version", "2010-03-31");
    param(&body, "PhoneNumber", ev->to);
    param(&body, "Message", text);
    int n = 0;
    if (sms_type)
        attribute(&body, &n, "AWS.SNS.SMS.SMSType", sms_type);
    if (sender_id)
        attribute(&body, &n, "AWS.SNS.SMS.SenderID", sender_id);
    if (s->origination)
        attribute(&body, &n, "AWS.MM.SMS.OriginationNumber", s->origination);
    if ((rc = omni__buf_status(&body))) {
        omni__buf_free(&body);
        return omni__err(rc, NULL);
    }

    char url[1100];
    snprintf(url, sizeof(url), "%s/", s->endpoint);
    omni_http_request *req = NULL;
    if (!(rc = omni_http_request_new(&req, "POST", url)) &&
        !(rc = omni_http_request_add_header(req, "Content-Type",
                                            "application/x-www-form-urlencoded; "
                                            "charset=utf-8")) &&
        !(rc = omni_http_request_set_body(req, body.data, body.len))) {
        rc = omni__ob_aws_sign(req, &s->aws, "sns", now_ms);
    }
    omni__buf_free(&body);
    if (rc) {
        omni_http_request_free(req);
        return rc;
    }
    *out = req;
    return OMNI_OK;
}

/* ---- the response ----------------------------------------------------------- */

/* The text of the first <name>...</name> of an XML body (no attributes on
 * the element), with the five predefined entities decoded and the rest
 * kept as written; 1 when found. Only the first XML_SCAN_MAX bytes are
 * looked at. */
static int xml_text(const char *body, size_t n, const char *name, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if (n > XML_SCAN_MAX)
        n = XML_SCAN_MAX;
    const char *a = memmem(body, n, open, strlen(open));
    if (!a)
        return 0;
    a += strlen(open);
    const char *e = memmem(a, (size_t)(body + n - a), close, strlen(close));
    if (!e)
        return 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    char raw[1024];
    size_t r = 0;
    for (const char *p = a; p < e && r + 1 < sizeof(raw);) {
        char c = *p;
        size_t adv = 1;
        if (c == '&')
            for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
                size_t l = strlen(ents[k].ent);
                if ((size_t)(e - p) >= l && memcmp(p, ents[k].ent, l) == 0) {
                    c = ents[k].c;
                    adv = l;
                    break;
                }
            }
        raw[r++] = c;
        p += adv;
    }
    omni__ob_clean_text(out, cap, raw, r);
    return 1;
}

static int code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

static const char *sns_class(const char *code, const char *message, int status, int *retryable)
{
    static const char *const rate[] = {"Throttled",   "Throttling",      "ThrottlingException",
                                       "KMSThrottling", "TooManyRequests", NULL};
    static const char *const auth[] = {"AuthorizationError", "InvalidClientTokenId",
                                       "SignatureDoesNotMatch", "IncompleteSignature",
                                       "ExpiredToken", "InvalidSecurity", "AccessDenied",
                                       "MissingAuthenticationToken", "OptInRequired", NULL};
    static const char *const down[] = {"InternalError", "InternalFailure", "ServiceUnavailable",
                                       NULL};
    *retryable = status >= 500;
    if (code_in(code, rate)) {
        *retryable = 1;
        return "RATE_LIMITED";
    }
    if (code_in(code, down)) {
        *retryable = 1;
        return "PROVIDER_UNAVAILABLE";
    }
    if (status >= 500 || status == 429)
        return omni__ob_http_class(status, retryable);
    if (strcmp(code, "OptedOut") == 0)
        return "RECIPIENT_OPTED_OUT";
    if (strcmp(code, "EndpointDisabled") == 0)
        return "INVALID_RECIPIENT";
    if (strcmp(code, "InvalidParameter") == 0 || strcmp(code, "InvalidParameterValue") == 0)
        return strstr(message, "PhoneNumber") ? "INVALID_RECIPIENT" : "INVALID_REQUEST";
    if (code_in(code, auth))
        return "AUTH_FAILED";
    return omni__ob_http_class(status, retryable);
}

static int sns_parse(omni_buf *out, const void *state, const omni_http_response *resp,
                     int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    size_t n = 0;
    const char *body = omni_http_response_body(resp, &n);
    char id[256], code[128], message[512];
    if (status >= 200 && status < 300) {
        if (xml_text(body, n, "MessageId", id, sizeof(id)) && id[0])
            omni__ob_result_ok(out, CARRIER, id, "accepted", -1, NULL);
        else
            omni__ob_result_error(out, CARRIER, "PROVIDER_ERROR", NULL,
                                  "SNS answered without a MessageId", 0, -1);
        return OMNI_OK;
    }
    int64_t retry = omni__ob_retry_after(resp, now_ms);
    int retryable = 0;
    if (xml_text(body, n, "Code", code, sizeof(code)) && code[0]) {
        if (!xml_text(body, n, "Message", message, sizeof(message)))
            snprintf(message, sizeof(message), "SNS error %s (HTTP %d)", code, status);
        const char *cls = sns_class(code, message, status, &retryable);
        omni__ob_result_error(out, CARRIER, cls, code, message, retryable, retry);
        return OMNI_OK;
    }
    const char *cls = omni__ob_http_class(status, &retryable);
    if (!omni__ob_status_speaks(status))
        cls = "PROVIDER_ERROR";
    snprintf(message, sizeof(message), "SNS answered HTTP %d without an SNS error document",
             status);
    omni__ob_result_error(out, CARRIER, cls, NULL, message, retryable, retry);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_aws_sns = {CARRIER, sns_config, sns_free, sns_build, sns_parse};
