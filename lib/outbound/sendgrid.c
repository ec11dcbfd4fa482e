/* Outbound adapter "sendgrid": one email through Twilio SendGrid's v3 Mail
 * Send API (the seed's email fallback).
 *
 * Request: POST {baseUrl}/v3/mail/send (default https://api.sendgrid.com),
 * Authorization: Bearer <apiKey>, Content-Type: application/json,
 *   {"personalizations": [{"to": [{"email": recipient.channelIdentifier}],
 *                          "dynamic_template_data"?: message.templateParams}],
 *    "from": {"email", "name"?} (config.from),
 *    "subject"?: message.subject,
 *    "content"?: [{"type": "text/plain", "value"}, {"type": "text/html", "value"}],
 *    "template_id"?: message.templateId,
 *    "attachments"?: [{"content", "filename", "type", "disposition": "attachment"}],
 *    "custom_args"?: {"correlationId": event.correlationId}}
 * (SendGrid requires text/plain before text/html in "content".)
 *
 * Message members accepted (the event's "message" object):
 *   "contentType":    "text" (default) | "media" | "template";
 *   "subject":        required unless templateId is given (a dynamic
 *                     template carries its own subject);
 *   "text", "html":   the bodies; when both are absent "content" is the
 *                     text/plain body; one is required unless templateId;
 *   "templateId":     a dynamic template id ("d-..."), required when
 *                     contentType is "template"; "templateParams" (an
 *                     object) becomes personalizations[0].dynamic_template_data;
 *   "attachments":    [{"filename", "contentType"?, "contentBase64"}] (at
 *                     most 100; filename 1..255 bytes without control
 *                     characters, contentType default application/octet-stream,
 *                     contentBase64 standard base64 with padding).
 * recipient.channelIdentifier must be an address local@domain (printable
 * ASCII without spaces, quotes, commas or angle brackets, at most 320 bytes).
 *
 * Response: 202 (any 2xx) with the X-Message-Id header ->
 * {"success":true,"status":"accepted","carrierMessageId":X-Message-Id};
 * a 2xx without it is still a success (the mail was accepted; sending
 * again would duplicate it) with carrierMessageId "".
 * Errors: {"errors":[{"message","field","help"}]}; SendGrid has no error
 * codes, so providerCode is the HTTP status and the message joins the
 * first three errors' messages. Classes:
 *   400 -> INVALID_REQUEST; INVALID_RECIPIENT when an error's field is in
 *          personalizations (the recipient); TEMPLATE_REJECTED when an
 *          error's field is template_id
 *   401, 403 -> AUTH_FAILED (bad key, missing mail.send scope, unverified
 *          sender identity)
 *   413 -> INVALID_REQUEST (payload too large)
 *   429 -> RATE_LIMITED (retryable, Retry-After honoured)
 *   5xx -> PROVIDER_UNAVAILABLE (retryable)
 *   other 4xx -> INVALID_REQUEST; a non-JSON error body PROVIDER_ERROR
 *   unless the status is 401/403/429/5xx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "sendgrid"
#define MAX_ATTACHMENTS 100

typedef struct sg_state {
    char *key, *from_email, *from_name, *base;
} sg_state;

static void sg_free(void *p)
{
    sg_state *s = p;
    if (!s)
        return;
    omni__ob_secret_free(s->key);
    free(s->from_email);
    free(s->from_name);
    free(s->base);
    free(s);
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static int no_controls(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

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

static int sg_config(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    sg_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc;
    if ((rc = omni__ob_secret(&s->key, c, path, "apiKey", 1)))
        goto fail;
    if (!printable_ascii(s->key)) {
        rc = omni__ob_config_error(path, "apiKey", "must be printable ASCII");
        goto fail;
    }
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(c, "from");
    if (!cJSON_IsObject(from)) {
        rc = omni__ob_config_error(path, "from", "must be an object {\"email\", \"name\"?}");
        goto fail;
    }
    char fpath[64];
    snprintf(fpath, sizeof(fpath), "%s.from", path);
    if ((rc = omni__ob_string(&s->from_email, from, fpath, "email", 1, 320)))
        goto fail;
    if (!address_ok(s->from_email)) {
        rc = omni__ob_config_error(fpath, "email", "must be an email address local@domain");
        goto fail;
    }
    if ((rc = omni__ob_string(&s->from_name, from, fpath, "name", 0, 256)))
        goto fail;
    if ((rc = omni__ob_base_url(&s->base, c, path, "baseUrl", "https://api.sendgrid.com")))
        goto fail;
    const cJSON *item;
    cJSON_ArrayForEach(item, c)
    {
        if (strcmp(item->string, "apiKey") && strcmp(item->string, "from") &&
            strcmp(item->string, "baseUrl")) {
            rc = omni__ob_config_error(path, item->string, "is not a known member");
            goto fail;
        }
    }
    cJSON_ArrayForEach(item, from)
    {
        if (strcmp(item->string, "email") && strcmp(item->string, "name")) {
            rc = omni__ob_config_error(fpath, item->string, "is not a known member");
            goto fail;
        }
    }
    *state = s;
    return OMNI_OK;
fail:
    sg_free(s);
    return rc;
}

/* ---- the request ---------------------------------------------------------------- */

/* Checks message.attachments and writes them (the "attachments" member). */
static int w_attachments(omni_buf *b, const cJSON *arr)
{
    if (!cJSON_IsArray(arr))
        return omni__ob_event_error(CARRIER, "message.attachments", "must be an array");
    if (cJSON_GetArraySize(arr) > MAX_ATTACHMENTS)
        return omni__ob_event_error(CARRIER, "message.attachments",
                                    "must hold at most 100 attachments");
    if (!cJSON_GetArraySize(arr))
        return OMNI_OK;
    omni__json_w_keyl(b, "attachments");
    omni__json_w_arr_begin(b);
    const cJSON *a;
    size_t i = 0;
    int rc;
    cJSON_ArrayForEach(a, arr)
    {
        char where[64];
        snprintf(where, sizeof(where), "message.attachments[%zu]", i++);
        if (!cJSON_IsObject(a))
            return omni__ob_event_error(CARRIER, where, "must be an object");
        const char *name, *type, *data;
        if ((rc = omni__ob_opt_str(&name, a, "filename", where, CARRIER)) ||
            (rc = omni__ob_opt_str(&type, a, "contentType", where, CARRIER)) ||
            (rc = omni__ob_opt_str(&data, a, "contentBase64", where, CARRIER)))
            return rc;
        if (!name || !name[0] || strlen(name) > 255 || !no_controls(name))
            return omni__err(OMNI_EINVAL, "outbound " CARRIER ": %s.filename must be 1..255 "
                                          "bytes without control characters",
                             where);
        if (type && !omni__ob_mime_type_ok(type))
            return omni__err(OMNI_EINVAL,
                             "outbound " CARRIER ": %s.contentType must be \"type/subtype\"",
                             where);
        if (!data)
            return omni__err(OMNI_EINVAL,
                             "outbound " CARRIER ": %s.contentBase64 must be a string", where);
        int ok = omni__ob_base64_ok(data);
        if (ok < 0)
            return omni__err(OMNI_ENOMEM, NULL);
        if (!ok)
            return omni__err(OMNI_EINVAL, "outbound " CARRIER ": %s.contentBase64 is not "
                                          "valid base64 (RFC 4648 section 4)",
                             where);
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "content");
        omni__json_w_str(b, data);
        omni__json_w_keyl(b, "filename");
        omni__json_w_str(b, name);
        omni__json_w_keyl(b, "type");
        omni__json_w_str(b, type ? type : "application/octet-stream");
        omni__json_w_keyl(b, "disposition");
        omni__json_w_str(b, "attachment");
        omni__json_w_obj_end(b);
    }
    omni__json_w_arr_end(b);
    return OMNI_OK;
}

static void w_part(omni_buf *b, const char *type, const char *value)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "type");
    omni__json_w_str(b, type);
    omni__json_w_keyl(b, "value");
    omni__json_w_str(b, value);
    omni__json_w_obj_end(b);
}

static int write_body(omni_buf *b, const sg_state *s, const omni__ob_event *ev)
{
    const cJSON *msg = ev->message;
    const char *subject, *text, *html, *content, *template_id;
    int rc;
    if (strcmp(ev->content_type, "text") != 0 && strcmp(ev->content_type, "media") != 0 &&
        strcmp(ev->content_type, "template") != 0)
        return omni__ob_event_error(CARRIER, "message.contentType",
                                    "must be \"text\", \"media\" or \"template\"");
    if ((rc = omni__ob_opt_str(&subject, msg, "subject", "message", CARRIER)) ||
        (rc = omni__ob_opt_str(&text, msg, "text", "message", CARRIER)) ||
        (rc = omni__ob_opt_str(&html, msg, "html", "message", CARRIER)) ||
        (rc = omni__ob_opt_str(&content, msg, "content", "message", CARRIER)) ||
        (rc = omni__ob_opt_str(&template_id, msg, "templateId", "message", CARRIER)))
        return rc;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "templateParams");
    if (params && !cJSON_IsObject(params))
        return omni__ob_event_error(CARRIER, "message.templateParams", "must be an object");
    if (strcmp(ev->content_type, "template") == 0 && !template_id)
        return omni__ob_event_error(CARRIER, "message.templateId",
                                    "is required when contentType is \"template\"");
    if (template_id && (!template_id[0] || strlen(template_id) > 256))
        return omni__ob_event_error(CARRIER, "message.templateId", "must be 1..256 bytes");
    if (subject && (!subject[0] || strlen(subject) > 998 || !no_controls(subject)))
        return omni__ob_event_error(CARRIER, "message.subject",
                                    "must be 1..998 bytes without control characters");
    if (!subject && !template_id)
        return omni__ob_event_error(CARRIER, "message.subject", "must be a non-empty string");
    if (!text && !html)
        text = content;
    if (text && !text[0])
        text = NULL;
    if (html && !html[0])
        html = NULL;
    if (!text && !html && !template_id)
        return omni__ob_event_error(CARRIER, "message.text",
                                    "(or html, or content) must be a non-empty string");

    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "personalizations");
    omni__json_w_arr_begin(b);
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "to");
    omni__json_w_arr_begin(b);
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "email");
    omni__json_w_str(b, ev->to);
    omni__json_w_obj_end(b);
    omni__json_w_arr_end(b);
    if (template_id && params) {
        omni__json_w_keyl(b, "dynamic_template_data");
        omni__json_w_item(b, params);
    }
    omni__json_w_obj_end(b);
    omni__json_w_arr_end(b);
    omni__json_w_keyl(b, "from");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "email");
    omni__json_w_str(b, s->from_email);
    if (s->from_name) {
        omni__json_w_keyl(b, "name");
        omni__json_w_str(b, s->from_name);
    }
    omni__json_w_obj_end(b);
    if (subject) {
        omni__json_w_keyl(b, "subject");
        omni__json_w_str(b, subject);
    }
    if (text || html) {
        omni__json_w_keyl(b, "content");
        omni__json_w_arr_begin(b);
        if (text)
            w_part(b, "text/plain", text);
        if (html)
            w_part(b, "text/html", html);
        omni__json_w_arr_end(b);
    }
    if (template_id) {
        omni__json_w_keyl(b, "template_id");
        omni__json_w_str(b, template_id);
    }
    const cJSON *atts = cJSON_GetObjectItemCaseSensitive(msg, "attachments");
    if (atts && (rc = w_attachments(b, atts)))
        return rc;
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(ev->root, "correlationId");
    if (cid && !cJSON_IsString(cid))
        return omni__ob_event_error(CARRIER, "correlationId", "must be a string");
    if (cid && cid->valuestring[0]) {
        omni__json_w_keyl(b, "custom_args");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "correlationId");
        omni__json_w_str(b, cid->valuestring);
        omni__json_w_obj_end(b);
    }
    omni__json_w_obj_end(b);
    return OMNI_OK;
}

static int sg_build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                    int64_t now_ms)
{
    (void)now_ms;
    const sg_state *s = state;
    *out = NULL;
    if (!address_ok(ev->to))
        return omni__ob_event_error(CARRIER, "recipient.channelIdentifier",
                                    "must be an email address (local@domain, printable ASCII)");
    omni_buf body = OMNI_BUF_INIT;
    int rc = write_body(&body, s, ev);
    if (!rc && (rc = omni__buf_status(&body)))
        rc = omni__err(rc, NULL);
    if (rc) {
        omni__buf_free(&body);
        return rc;
    }
    return omni__ob_post(out, CARRIER, &body, "Bearer", NULL, s->key, "application/json", NULL,
                         "%s/v3/mail/send", s->base);
}

/* ---- the response ------------------------------------------------------------------- */

/* Appends s keeping well-formed UTF-8 only ('?' for an ill-formed byte),
 * at most max bytes in all, cut on a character boundary. */
static void clean_append(omni_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s), i = 0;
    while (i < n && b->len < max) {
        uint32_t cp;
        size_t k = omni__utf8_next((const unsigned char *)s + i, n - i, &cp);
        if (!k) {
            omni__buf_putc(b, '?');
            i++;
            continue;
        }
        if (b->len + k > max)
            break;
        omni__buf_append(b, s + i, k);
        i += k;
    }
}

static int sg_parse(omni_buf *out, const void *state, const omni_http_response *resp,
                    int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    if (status >= 200 && status < 300) {
        const char *id = omni_http_response_header(resp, "X-Message-Id");
        omni_buf idb = OMNI_BUF_INIT;
        clean_append(&idb, id ? id : "", 256);
        omni__ob_result_ok(out, CARRIER, idb.data ? idb.data : "", "accepted", -1, NULL);
        int rc = omni__buf_status(&idb);
        omni__buf_free(&idb);
        return rc ? omni__err(rc, NULL) : OMNI_OK;
    }
    int64_t retry = omni__ob_retry_after(resp, now_ms);
    int retryable = 0;
    const char *cls = omni__ob_http_class(status, &retryable);
    cJSON *j = omni__ob_body_json(resp);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    omni_buf msg = OMNI_BUF_INIT;
    int recipient = 0, tmpl = 0, count = 0;
    if (cJSON_IsArray(errs)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, errs)
        {
            const char *m = omni__json_str(e, "message");
            const char *field = omni__json_str(e, "field");
            if (field && strncmp(field, "personalizations", 16) == 0)
                recipient = 1;
            if (field && strcmp(field, "template_id") == 0)
                tmpl = 1;
            if (m && count < 3) {
                if (count++)
                    omni__buf_puts(&msg, "; ");
                clean_append(&msg, m, 480);
            }
        }
    }
    if (status == 400 && tmpl)
        cls = "TEMPLATE_REJECTED";
    else if (status == 400 && recipient)
        cls = "INVALID_RECIPIENT";
    if (!cJSON_IsArray(errs) && !omni__ob_status_speaks(status) && status >= 400)
        cls = "PROVIDER_ERROR";
    if (!count)
        omni__buf_printf(&msg, "SendGrid answered HTTP %d", status);
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    int rc = omni__buf_status(&msg);
    if (!rc)
        omni__ob_result_error(out, CARRIER, cls, code, msg.data, retryable, retry);
    omni__buf_free(&msg);
    cJSON_Delete(j);
    return rc ? omni__err(rc, NULL) : OMNI_OK;
}

const omni__ob_adapter omni__ob_sendgrid = {CARRIER, sg_config, sg_free, sg_build, sg_parse};
