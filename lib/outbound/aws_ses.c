/* Outbound adapter "aws-ses": one email through Amazon SES API v2
 * SendEmail, signed with AWS Signature Version 4 (service "ses").
 *
 * Request: POST {endpoint}/v2/email/outbound-emails (default endpoint
 * https://email.{region}.amazonaws.com), Content-Type: application/json,
 *   {"FromEmailAddress": config.fromEmailAddress,
 *    "Destination": {"ToAddresses": [recipient.channelIdentifier]},
 *    "Content": {"Simple": {"Subject": {"Data", "Charset": "UTF-8"},
 *                           "Body": {"Text"?: {"Data", "Charset"},
 *                                    "Html"?: {"Data", "Charset"}}}}
 *             | {"Template": {"TemplateName", "TemplateData": "<JSON text>"}}
 *             | {"Raw": {"Data": "<base64 of a MIME message>"}},
 *    "ConfigurationSetName"?: config.configurationSetName}
 *
 * Message members accepted (the event's "message" object):
 *   "contentType":    "text" (default) | "media" | "template";
 *   "subject":        the subject (required unless a template is used), at
 *                     most 998 bytes, no control characters;
 *   "text", "html":   the plain-text and HTML bodies; when both are absent
 *                     "content" is the plain-text body; one is required
 *                     unless a template is used;
 *   "templateId":     a stored SES template's name -> Content.Template
 *                     (required when contentType is "template"), with
 *   "templateParams": an object, sent as TemplateData (its JSON text;
 *                     "{}" when absent);
 *   "attachments":    [{"filename", "contentType"?, "contentBase64"}] (at
 *                     most 100): the message is sent as Content.Raw, the
 *                     MIME message of lib/outbound/mime.c (the one the smtp
 *                     adapter sends): Date (now_ms), From (the configured
 *                     fromEmailAddress as it is), To, Subject (RFC 2047
 *                     encoded-words when not ASCII), Message-ID, then a
 *                     multipart/mixed (RFC 2046) of the text (one part, or a
 *                     multipart/alternative of text and HTML; 7bit or
 *                     quoted-printable) and the attachments (base64 in
 *                     lines of 76 characters, RFC 2045 section 6.8); the
 *                     boundaries and Message-ID derive from the event's
 *                     correlationId (SHA-256) so the same event gives the
 *                     same bytes. filename: 1..255 printable ASCII bytes
 *                     without '"' or '\'; contentType a "type/subtype" token
 *                     pair (default application/octet-stream);
 *                     contentBase64 standard base64 with padding.
 *                     Attachments with a template are refused.
 * recipient.channelIdentifier must be an address local@domain of printable
 * ASCII without spaces, quotes, commas or angle brackets (at most 320 bytes).
 *
 * Response: 200 {"MessageId": "..."} -> {"success":true,"status":"accepted"}.
 * Errors: JSON {"message": "..."} with the error name in the
 * x-amzn-ErrorType header (text before any ':'; else the body's "__type"
 * or "code" after any '#'); the name (providerCode) maps to:
 *   TooManyRequestsException, ThrottlingException, Throttling
 *                                           -> RATE_LIMITED (retryable)
 *   MessageRejected, BadRequestException, MailFromDomainNotVerifiedException,
 *   LimitExceededException, ValidationException -> INVALID_REQUEST
 *   NotFoundException: TEMPLATE_REJECTED when its message names a template,
 *                      else INVALID_REQUEST
 *   AccountSuspendedException, SendingPausedException -> PROVIDER_ERROR
 *                                           (not retryable: the account
 *                                           must be fixed first)
 *   UnrecognizedClientException, InvalidSignatureException,
 *   AccessDeniedException, ExpiredTokenException, IncompleteSignatureException,
 *   MissingAuthenticationTokenException    -> AUTH_FAILED
 *   InternalFailure, InternalServiceErrorException, ServiceUnavailable
 *                                           -> PROVIDER_UNAVAILABLE (retryable)
 *   other names by HTTP status (429, 5xx, 401/403, other 4xx INVALID_REQUEST);
 *   no name and no JSON body: PROVIDER_ERROR unless 429/5xx/401/403.
 * A 5xx is always retryable; Retry-After becomes retryAfterMs. A 2xx
 * without MessageId is PROVIDER_ERROR (not retryable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/aws.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "aws-ses"

typedef struct ses_state {
    omni__ob_aws aws;
    char *from, *config_set, *endpoint;
} ses_state;

static void ses_free(void *p)
{
    ses_state *s = p;
    if (!s)
        return;
    omni__ob_aws_free(&s->aws);
    free(s->from);
    free(s->config_set);
    free(s->endpoint);
    free(s);
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* local@domain: printable ASCII, one '@' with text on both sides, none of
 * space " , < > ; at most 320 bytes. */
static int address_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n < 3 || n > 320 || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    if (!printable_ascii(s) || strpbrk(s, " \",<>;"))
        return 0;
    return 1;
}

static int ses_config(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    ses_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc;
    if ((rc = omni__ob_aws_config(&s->aws, c, path)))
        goto fail;
    if ((rc = omni__ob_string(&s->from, c, path, "fromEmailAddress", 1, 512)))
        goto fail;
    if (!printable_ascii(s->from) || !strchr(s->from, '@')) {
        rc = omni__ob_config_error(path, "fromEmailAddress",
                                   "must be an email address (\"Name <a@b>\" allowed) of "
                                   "printable ASCII");
        goto fail;
    }
    if ((rc = omni__ob_string(&s->config_set, c, path, "configurationSetName", 0, 64)))
        goto fail;
    char def[128];
    snprintf(def, sizeof(def), "https://email.%s.amazonaws.com", s->aws.region);
    if ((rc = omni__ob_base_url(&s->endpoint, c, path, "endpoint", def)))
        goto fail;
    const cJSON *item;
    cJSON_ArrayForEach(item, c)
    {
        static const char *const known[] = {"region", "accessKeyId", "secretAccessKey",
                                            "sessionToken", "fromEmailAddress",
                                            "configurationSetName", "endpoint", NULL};
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
    ses_free(s);
    return rc;
}

/* ---- the message ---------------------------------------------------------------- */

typedef struct mail {
    omni__mime_mail mime; /* subject, text, html, attachments */
    const char *template_id;
    const cJSON *params;
} mail;

static int read_mail(mail *m, const omni__ob_event *ev)
{
    const cJSON *msg = ev->message;
    int rc;
    if (strcmp(ev->content_type, "text") != 0 && strcmp(ev->content_type, "media") != 0 &&
        strcmp(ev->content_type, "template") != 0)
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\", \"media\" or \"template\"");
    if ((rc = omni__ob_opt_str(&m->template_id, msg, "templateId", "message", CARRIER)))
        return rc;
    m->params = cJSON_GetObjectItemCaseSensitive(msg, "templateParams");
    if (m->params && !cJSON_IsObject(m->params))
        return omni__ob_event_error(CARRIER, "message.templateParams", "must be an object");
    if (strcmp(ev->content_type, "template") == 0 && !m->template_id)
        return omni__ob_event_error(CARRIER, "message.templateId",
                                    "is required when contentType is \"template\"");
    if (m->template_id) {
        const char *unused; /* the mail members still have to be strings */
        if ((rc = omni__ob_opt_str(&unused, msg, "subject", "message", CARRIER)) ||
            (rc = omni__ob_opt_str(&unused, msg, "text", "message", CARRIER)) ||
            (rc = omni__ob_opt_str(&unused, msg, "html", "message", CARRIER)) ||
            (rc = omni__ob_opt_str(&unused, msg, "content", "message", CARRIER)))
            return rc;
        if (!m->template_id[0] || strlen(m->template_id) > 256)
            return omni__ob_event_error(CARRIER, "message.templateId", "must be 1..256 bytes");
        if (cJSON_GetObjectItemCaseSensitive(msg, "attachments"))
            return omni__ob_event_error(CARRIER, "message.attachments",
                                        "cannot be sent with an SES template");
        return OMNI_OK;
    }
    return omni__mime_read(&m->mime, ev, CARRIER);
}

/* The raw MIME message (lib/outbound/mime.c) with the configured From
 * value as it is. */
static int mime_message(omni_buf *b, const ses_state *s, const omni__ob_event *ev, mail *m,
                        int64_t now_ms)
{
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(ev->root, "correlationId");
    m->mime.correlation_id = cJSON_IsString(cid) ? cid->valuestring : NULL;
    m->mime.from_raw = s->from;
    m->mime.to = ev->to;
    return omni__mime_build(b, &m->mime, now_ms, CARRIER);
}

static void w_content(omni_buf *b, const char *key, const char *data)
{
    omni__json_w_key(b, key);
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "Data");
    omni__json_w_str(b, data);
    omni__json_w_keyl(b, "Charset");
    omni__json_w_str(b, "UTF-8");
    omni__json_w_obj_end(b);
}

static int ses_build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                     int64_t now_ms)
{
    const ses_state *s = state;
    *out = NULL;
    if (!address_ok(ev->to))
        return omni__ob_event_error(CARRIER, "recipient.channelIdentifier",
                                    "must be an email address (local@domain, printable ASCII)");
    mail *m = calloc(1, sizeof(*m));
    if (!m)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = read_mail(m, ev);
    omni_buf body = OMNI_BUF_INIT, mime = OMNI_BUF_INIT;
    if (rc)
        goto done;
    omni__json_w_obj_begin(&body);
    omni__json_w_keyl(&body, "FromEmailAddress");
    omni__json_w_str(&body, s->from);
    omni__json_w_keyl(&body, "Destination");
    omni__json_w_obj_begin(&body);
    omni__json_w_keyl(&body, "ToAddresses");
    omni__json_w_arr_begin(&body);
    omni__json_w_str(&body, ev->to);
    omni__json_w_arr_end(&body);
    omni__json_w_obj_end(&body);
    omni__json_w_keyl(&body, "Content");
    omni__json_w_obj_begin(&body);
    if (m->template_id) {
        omni__json_w_keyl(&body, "Template");
        omni__json_w_obj_begin(&body);
        omni__json_w_keyl(&body, "TemplateName");
        omni__json_w_str(&body, m->template_id);
        omni__json_w_keyl(&body, "TemplateData");
        char *data = NULL;
        size_t dn = 0;
        if (m->params) {
            if ((rc = omni__json_print(&data, &dn, m->params)))
                goto done;
            omni__json_w_strn(&body, data, dn);
            free(data);
        } else {
            omni__json_w_str(&body, "{}");
        }
        omni__json_w_obj_end(&body);
    } else if (m->mime.n_att) {
        if ((rc = mime_message(&mime, s, ev, m, now_ms)))
            goto done;
        if ((rc = omni__buf_status(&mime))) {
            rc = omni__err(rc, NULL);
            goto done;
        }
        omni__json_w_keyl(&body, "Raw");
        omni__json_w_obj_begin(&body);
        omni__json_w_keyl(&body, "Data");
        omni__buf_putc(&body, '"');
        omni__base64_append(&body, mime.data, mime.len, 0);
        omni__buf_putc(&body, '"');
        omni__json_w_obj_end(&body);
    } else {
        omni__json_w_keyl(&body, "Simple");
        omni__json_w_obj_begin(&body);
        w_content(&body, "Subject", m->mime.subject);
        omni__json_w_keyl(&body, "Body");
        omni__json_w_obj_begin(&body);
        if (m->mime.text)
            w_content(&body, "Text", m->mime.text);
        if (m->mime.html)
            w_content(&body, "Html", m->mime.html);
        omni__json_w_obj_end(&body);
        omni__json_w_obj_end(&body);
    }
    omni__json_w_obj_end(&body);
    if (s->config_set) {
        omni__json_w_keyl(&body, "ConfigurationSetName");
        omni__json_w_str(&body, s->config_set);
    }
    omni__json_w_obj_end(&body);
    if ((rc = omni__buf_status(&body))) {
        rc = omni__err(rc, NULL);
        goto done;
    }

    char url[1100];
    snprintf(url, sizeof(url), "%s/v2/email/outbound-emails", s->endpoint);
    omni_http_request *req = NULL;
    if (!(rc = omni_http_request_new(&req, "POST", url)) &&
        !(rc = omni_http_request_add_header(req, "Content-Type", "application/json")) &&
        !(rc = omni_http_request_set_body(req, body.data, body.len))) {
        rc = omni__ob_aws_sign(req, &s->aws, "ses", now_ms);
    }
    if (rc)
        omni_http_request_free(req);
    else
        *out = req;
done:
    omni__buf_free(&body);
    omni__buf_free(&mime);
    free(m);
    return rc;
}

/* ---- the response ------------------------------------------------------------------- */

static int code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

static const char *ses_class(const char *code, const char *message, int status, int *retryable)
{
    static const char *const rate[] = {"TooManyRequestsException", "ThrottlingException",
                                       "Throttling", NULL};
    static const char *const down[] = {"InternalFailure", "InternalServiceErrorException",
                                       "ServiceUnavailable", NULL};
    static const char *const bad[] = {"MessageRejected", "BadRequestException",
                                      "MailFromDomainNotVerifiedException",
                                      "LimitExceededException", "ValidationException", NULL};
    static const char *const auth[] = {"UnrecognizedClientException",
                                       "InvalidSignatureException", "AccessDeniedException",
                                       "ExpiredTokenException", "IncompleteSignatureException",
                                       "MissingAuthenticationTokenException", NULL};
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
    if (code_in(code, bad))
        return "INVALID_REQUEST";
    if (strcmp(code, "NotFoundException") == 0)
        return strstr(message, "emplate") ? "TEMPLATE_REJECTED" : "INVALID_REQUEST";
    if (strcmp(code, "AccountSuspendedException") == 0 ||
        strcmp(code, "SendingPausedException") == 0)
        return "PROVIDER_ERROR";
    if (code_in(code, auth))
        return "AUTH_FAILED";
    return omni__ob_http_class(status, retryable);
}

/* The error name: x-amzn-ErrorType up to ':', else the body's "__type" or
 * "code" after its last '#'. */
static void error_name(char *out, size_t cap, const omni_http_response *resp, const cJSON *j)
{
    out[0] = '\0';
    const char *v = omni_http_response_header(resp, "x-amzn-ErrorType");
    if (!v) {
        v = omni__json_str(j, "__type");
        if (!v)
            v = omni__json_str(j, "code");
        if (v && strrchr(v, '#'))
            v = strrchr(v, '#') + 1;
    }
    if (!v)
        return;
    while (*v == ' ')
        v++;
    size_t n = strcspn(v, ": ");
    omni__ob_clean_text(out, cap, v, n);
}

static int ses_parse(omni_buf *out, const void *state, const omni_http_response *resp,
                     int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    cJSON *j = omni__ob_body_json(resp);
    char buf[512];
    if (status >= 200 && status < 300) {
        const char *id = omni__json_str(j, "MessageId");
        if (id && id[0]) {
            omni__ob_clean_text(buf, sizeof(buf), id, strlen(id));
            omni__ob_result_ok(out, CARRIER, buf, "accepted", -1, NULL);
        } else {
            omni__ob_result_error(out, CARRIER, "PROVIDER_ERROR", NULL,
                                  "SES answered without a MessageId", 0, -1);
        }
        cJSON_Delete(j);
        return OMNI_OK;
    }
    int64_t retry = omni__ob_retry_after(resp, now_ms);
    int retryable = 0;
    char code[128];
    error_name(code, sizeof(code), resp, j);
    const char *msg = omni__json_str(j, "message");
    if (!msg)
        msg = omni__json_str(j, "Message");
    if (msg)
        omni__ob_clean_text(buf, sizeof(buf), msg, strlen(msg));
    else if (code[0])
        snprintf(buf, sizeof(buf), "SES error %s (HTTP %d)", code, status);
    else
        snprintf(buf, sizeof(buf), "SES answered HTTP %d without an error document", status);
    const char *cls;
    if (code[0]) {
        cls = ses_class(code, buf, status, &retryable);
    } else {
        cls = omni__ob_http_class(status, &retryable);
        if (!j && !omni__ob_status_speaks(status))
            cls = "PROVIDER_ERROR";
    }
    omni__ob_result_error(out, CARRIER, cls, code[0] ? code : NULL, buf, retryable, retry);
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_aws_ses = {CARRIER, ses_config, ses_free, ses_build, ses_parse};
