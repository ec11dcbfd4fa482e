/* Outbound adapter "whatsapp" (WhatsApp Business Cloud API): one message ->
 * the "send message" request, and its response -> a result.
 *
 * Request (Cloud API reference, Messages: developers.facebook.com/docs/whatsapp/cloud-api/
 * reference/messages):
 *   POST {baseUrl}/{apiVersion}/{phoneNumberId}/messages
 *   Authorization: Bearer {accessToken}; Content-Type: application/json
 *   {"messaging_product":"whatsapp","recipient_type":"individual","to":"<digits>",
 *    ["context":{"message_id":..},] "type":T, T:{...}}
 * "to" is recipient.channelIdentifier without a "whatsapp:" prefix and without "+":
 * 1..20 digits (anything else is OMNI_EINVAL).
 *
 * Message members accepted (event "message"):
 *   replyTo (string, optional) -> context.message_id (every type).
 *   contentType "text" (default): content (non-empty string) -> text.body;
 *       previewUrl (bool, default false) -> text.preview_url.
 *   contentType "template": either template (object) {name (string), language (string code
 *       or {"code"}), components (array of objects, optional, passed as given)}, or
 *       templateId (string: the template name), language (string, default "en_US"),
 *       templateParams (array of strings/numbers -> body parameters {"type":"text","text"}
 *       in order; or object of strings/numbers -> named body parameters
 *       {"type":"text","parameter_name":key,"text":value} in member order).
 *   contentType "media": media (object) {type: image|document|audio|video|sticker,
 *       link (URL) or id (media id), caption?, filename? (document only)}; or mediaUrls
 *       (array of exactly one URL) with mediaType (default "image"), filename?, and content as
 *       the caption. A caption is refused for audio and sticker.
 *   contentType "interactive": content (non-empty string) -> body.text; header (string,
 *       optional) -> header {"type":"text","text"}; footer (string, optional) -> footer.text;
 *       buttons (array of 1..3 items, each a string or {id, title}; a string is both) ->
 *       type "button" with reply buttons; or sections (array of 1..10 {title?, rows: [{id,
 *       title, description?}]}, 1..10 rows in all) with buttonText (string) -> type "list".
 *       Lengths (titles, ids) are the provider's to check.
 * When the conversation's window is closed (serviceWindow.open false), everything but a
 * template is refused with OMNI_EWINDOW before a request is built.
 *
 * Response: 200 {"messaging_product":"whatsapp","contacts":[..],"messages":[{"id":"wamid.."}]}
 * -> success, carrierMessageId = messages[0].id, status "accepted" (the Cloud API accepted the
 * message; delivery arrives through webhooks). No cost is reported.
 * Errors: {"error":{"message","type","code","error_subcode","error_data":{"details"},
 * "fbtrace_id"}} mapped by code:
 *   0 (AuthException), 190 (access token expired), 3 (capability), 10, 200..299
 *   (permission)                                                 AUTH_FAILED, not retryable
 *   4 (app rate limit), 80007 (WABA rate limit), 130429 (throughput), 131048 (spam rate
 *   limit), 131056 (business/consumer pair rate limit)           RATE_LIMITED, retryable
 *   131047 (re-engagement: more than 24 h since the customer replied) WINDOW_CLOSED
 *   131026 (undeliverable), 131021 (recipient is the sender),
 *   131030 (recipient not in the allowed list)                   INVALID_RECIPIENT
 *   131050 (user stopped marketing messages)                     RECIPIENT_OPTED_OUT
 *   132000..132999 (template: parameter mismatch, does not exist, paused, disabled, ...)
 *                                                                TEMPLATE_REJECTED
 *   100 (invalid parameter), 131008, 131009 (parameter missing / invalid), 131051
 *   (unsupported type), 131052, 131053 (media download / upload) INVALID_REQUEST
 *   1 (unknown), 2 (service), 131000 (something went wrong), 131016 (service unavailable)
 *                                                                PROVIDER_UNAVAILABLE, retryable
 *   anything else: by HTTP status (429 RATE_LIMITED, 5xx PROVIDER_UNAVAILABLE, 401/403
 *   AUTH_FAILED, other 4xx INVALID_REQUEST). Retry-After becomes retryAfterMs on retryable
 *   errors; a body that is not the documented JSON is PROVIDER_ERROR (but a 429 / 5xx / 401 /
 *   403 status keeps its class). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound_internal.h"

#define CARRIER "whatsapp"

typedef struct wa_state {
    char *token;
    char *phone_id;
    char *version;
    char *base_url;
} wa_state;

static void st_free(void *p)
{
    wa_state *s = p;
    if (!s)
        return;
    omni__ob_secret_free(s->token);
    free(s->phone_id);
    free(s->version);
    free(s->base_url);
    free(s);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* "v" followed by digits, optionally ".digits" ("v21.0"). */
static int version_ok(const char *s)
{
    if (s[0] != 'v' || s[1] < '0' || s[1] > '9')
        return 0;
    s++;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    static const char *const known[] = {"accessToken", "phoneNumberId", "apiVersion", "baseUrl"};
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], it->string) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__ob_config_error(path, it->string, "is not a whatsapp setting");
    }
    wa_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__ob_secret(&s->token, c, path, "accessToken", 1);
    if (!rc)
        rc = omni__ob_string(&s->phone_id, c, path, "phoneNumberId", 1, 64);
    if (!rc && !all_digits(s->phone_id))
        rc = omni__ob_config_error(path, "phoneNumberId", "must be the numeric phone number ID");
    if (!rc)
        rc = omni__ob_string(&s->version, c, path, "apiVersion", 0, 16);
    if (!rc && s->version && !version_ok(s->version))
        rc = omni__ob_config_error(path, "apiVersion", "must look like \"v21.0\"");
    if (!rc && !s->version && !(s->version = strdup("v21.0")))
        rc = omni__err(OMNI_ENOMEM, NULL);
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl", "https://graph.facebook.com");
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- build ------------------------------------------------------------------------ */

static int err(const char *member, const char *why)
{
    return omni__ob_event_error(CARRIER, member, why);
}

static const cJSON *member(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* A string member that must be non-empty when present; *out NULL when absent. */
static int opt_str(const char **out, const cJSON *obj, const char *name, const char *what)
{
    const cJSON *v = member(obj, name);
    *out = NULL;
    if (!v)
        return OMNI_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return err(what, "must be a non-empty string");
    *out = v->valuestring;
    return OMNI_OK;
}

static void w_text_param(omni_buf *b, const char *name, const cJSON *v)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "type");
    omni__json_w_str(b, "text");
    if (name) {
        omni__json_w_keyl(b, "parameter_name");
        omni__json_w_str(b, name);
    }
    omni__json_w_keyl(b, "text");
    if (cJSON_IsString(v)) {
        omni__json_w_str(b, v->valuestring);
    } else {
        char num[64];
        snprintf(num, sizeof(num), "%.15g", v->valuedouble);
        omni__json_w_str(b, num);
    }
    omni__json_w_obj_end(b);
}

static int w_template(omni_buf *b, const omni__ob_event *ev)
{
    const cJSON *t = member(ev->message, "template");
    const char *name, *lang;
    const cJSON *components = NULL, *params = NULL;
    int rc;
    if (t) {
        if (!cJSON_IsObject(t))
            return err("message.template", "must be an object");
        if ((rc = opt_str(&name, t, "name", "message.template.name")))
            return rc;
        if (!name)
            return err("message.template.name", "is required");
        const cJSON *l = member(t, "language");
        if (cJSON_IsObject(l))
            l = member(l, "code");
        if (!cJSON_IsString(l) || !l->valuestring[0])
            return err("message.template.language",
                       "must be a language code or {\"code\": ...}");
        lang = l->valuestring;
        components = member(t, "components");
        if (components) {
            if (!cJSON_IsArray(components))
                return err("message.template.components", "must be an array of objects");
            const cJSON *c;
            cJSON_ArrayForEach(c, components)
            {
                if (!cJSON_IsObject(c))
                    return err("message.template.components", "must be an array of objects");
            }
        }
    } else {
        if ((rc = opt_str(&name, ev->message, "templateId", "message.templateId")))
            return rc;
        if (!name)
            return err("message.templateId", "or message.template is required for a template");
        if ((rc = opt_str(&lang, ev->message, "language", "message.language")))
            return rc;
        if (!lang)
            lang = "en_US";
        params = member(ev->message, "templateParams");
        if (params) {
            if (!cJSON_IsArray(params) && !cJSON_IsObject(params))
                return err("message.templateParams", "must be an array or an object");
            const cJSON *p;
            cJSON_ArrayForEach(p, params)
            {
                if (!cJSON_IsString(p) && !cJSON_IsNumber(p))
                    return err("message.templateParams", "must hold strings or numbers");
            }
        }
    }
    omni__json_w_keyl(b, "template");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "name");
    omni__json_w_str(b, name);
    omni__json_w_keyl(b, "language");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "code");
    omni__json_w_str(b, lang);
    omni__json_w_obj_end(b);
    if (components) {
        omni__json_w_keyl(b, "components");
        omni__json_w_item(b, components);
    } else if (params && cJSON_GetArraySize(params) > 0) {
        omni__json_w_keyl(b, "components");
        omni__json_w_arr_begin(b);
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "type");
        omni__json_w_str(b, "body");
        omni__json_w_keyl(b, "parameters");
        omni__json_w_arr_begin(b);
        const cJSON *p;
        cJSON_ArrayForEach(p, params)
        {
            w_text_param(b, cJSON_IsObject(params) ? p->string : NULL, p);
        }
        omni__json_w_arr_end(b);
        omni__json_w_obj_end(b);
        omni__json_w_arr_end(b);
    }
    omni__json_w_obj_end(b);
    return OMNI_OK;
}

static int w_text(omni_buf *b, const omni__ob_event *ev)
{
    const char *content;
    int rc = opt_str(&content, ev->message, "content", "message.content");
    if (rc)
        return rc;
    if (!content)
        return err("message.content", "is required for a text message");
    const cJSON *pv = member(ev->message, "previewUrl");
    if (pv && !cJSON_IsBool(pv))
        return err("message.previewUrl", "must be a boolean");
    omni__json_w_keyl(b, "text");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "preview_url");
    omni__json_w_bool(b, cJSON_IsTrue(pv));
    omni__json_w_keyl(b, "body");
    omni__json_w_str(b, content);
    omni__json_w_obj_end(b);
    return OMNI_OK;
}

static const char *const media_types[] = {"image", "document", "audio", "video", "sticker"};

static int media_type_ok(const char *t)
{
    for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
        if (strcmp(t, media_types[i]) == 0)
            return 1;
    return 0;
}

/* Writes "type":T,T:{...} for a media message. */
static int w_media(omni_buf *b, const omni__ob_event *ev)
{
    const cJSON *m = member(ev->message, "media");
    const char *type = NULL, *link = NULL, *id = NULL, *caption = NULL, *filename = NULL;
    int rc;
    if (m) {
        if (!cJSON_IsObject(m))
            return err("message.media", "must be an object");
        if ((rc = opt_str(&type, m, "type", "message.media.type")) ||
            (rc = opt_str(&link, m, "link", "message.media.link")) ||
            (rc = opt_str(&id, m, "id", "message.media.id")) ||
            (rc = opt_str(&caption, m, "caption", "message.media.caption")) ||
            (rc = opt_str(&filename, m, "filename", "message.media.filename")))
            return rc;
        if (!type || !media_type_ok(type))
            return err("message.media.type",
                       "must be \"image\", \"document\", \"audio\", \"video\" or \"sticker\"");
        if (!link == !id)
            return err("message.media", "needs exactly one of link and id");
    } else {
        const cJSON *urls = member(ev->message, "mediaUrls");
        if (!cJSON_IsArray(urls) || cJSON_GetArraySize(urls) != 1 ||
            !cJSON_IsString(urls->child) || !urls->child->valuestring[0])
            return err("message.mediaUrls",
                       "must be an array of exactly one URL (or give message.media)");
        link = urls->child->valuestring;
        if ((rc = opt_str(&type, ev->message, "mediaType", "message.mediaType")) ||
            (rc = opt_str(&caption, ev->message, "content", "message.content")) ||
            (rc = opt_str(&filename, ev->message, "filename", "message.filename")))
            return rc;
        if (!type)
            type = "image";
        if (!media_type_ok(type))
            return err("message.mediaType",
                       "must be \"image\", \"document\", \"audio\", \"video\" or \"sticker\"");
    }
    if (link && strncmp(link, "https://", 8) != 0 && strncmp(link, "http://", 7) != 0)
        return err("message.media link", "must be an http(s) URL");
    if (caption && (strcmp(type, "audio") == 0 || strcmp(type, "sticker") == 0))
        return err("message caption", "is not allowed for audio and sticker media");
    if (filename && strcmp(type, "document") != 0)
        return err("message filename", "is only allowed for document media");
    omni__json_w_keyl(b, "type");
    omni__json_w_str(b, type);
    omni__json_w_key(b, type);
    omni__json_w_obj_begin(b);
    if (link) {
        omni__json_w_keyl(b, "link");
        omni__json_w_str(b, link);
    } else {
        omni__json_w_keyl(b, "id");
        omni__json_w_str(b, id);
    }
    if (caption) {
        omni__json_w_keyl(b, "caption");
        omni__json_w_str(b, caption);
    }
    if (filename) {
        omni__json_w_keyl(b, "filename");
        omni__json_w_str(b, filename);
    }
    omni__json_w_obj_end(b);
    return OMNI_OK;
}

/* {"id","title"} of a button or row (a string is both). */
static int id_title(const cJSON *item, const char **id, const char **title, const char *what)
{
    if (cJSON_IsString(item) && item->valuestring[0]) {
        *id = *title = item->valuestring;
        return OMNI_OK;
    }
    if (!cJSON_IsObject(item))
        return err(what, "must be a string or an object {id, title}");
    int rc = opt_str(id, item, "id", what);
    if (!rc)
        rc = opt_str(title, item, "title", what);
    if (!rc && (!*id || !*title))
        return err(what, "needs a non-empty id and title");
    return rc;
}

static int w_interactive(omni_buf *b, const omni__ob_event *ev)
{
    const char *body, *header, *footer, *button_text;
    int rc;
    if ((rc = opt_str(&body, ev->message, "content", "message.content")) ||
        (rc = opt_str(&header, ev->message, "header", "message.header")) ||
        (rc = opt_str(&footer, ev->message, "footer", "message.footer")) ||
        (rc = opt_str(&button_text, ev->message, "buttonText", "message.buttonText")))
        return rc;
    if (!body)
        return err("message.content", "is required for an interactive message");
    const cJSON *buttons = member(ev->message, "buttons");
    const cJSON *sections = member(ev->message, "sections");
    if (!buttons == !sections)
        return err("message.buttons", "or message.sections (exactly one) is required for an "
                                      "interactive message");
    if (buttons && (!cJSON_IsArray(buttons) || cJSON_GetArraySize(buttons) < 1 ||
                    cJSON_GetArraySize(buttons) > 3))
        return err("message.buttons", "must be an array of 1..3 buttons");
    if (sections) {
        if (!cJSON_IsArray(sections) || cJSON_GetArraySize(sections) < 1 ||
            cJSON_GetArraySize(sections) > 10)
            return err("message.sections", "must be an array of 1..10 sections");
        if (!button_text)
            return err("message.buttonText", "is required for a list");
    }
    omni__json_w_keyl(b, "interactive");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "type");
    omni__json_w_str(b, buttons ? "button" : "list");
    if (header) {
        omni__json_w_keyl(b, "header");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "type");
        omni__json_w_str(b, "text");
        omni__json_w_keyl(b, "text");
        omni__json_w_str(b, header);
        omni__json_w_obj_end(b);
    }
    omni__json_w_keyl(b, "body");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "text");
    omni__json_w_str(b, body);
    omni__json_w_obj_end(b);
    if (footer) {
        omni__json_w_keyl(b, "footer");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "text");
        omni__json_w_str(b, footer);
        omni__json_w_obj_end(b);
    }
    omni__json_w_keyl(b, "action");
    omni__json_w_obj_begin(b);
    const cJSON *it;
    if (buttons) {
        omni__json_w_keyl(b, "buttons");
        omni__json_w_arr_begin(b);
        cJSON_ArrayForEach(it, buttons)
        {
            const char *id = NULL, *title = NULL;
            if ((rc = id_title(it, &id, &title, "message.buttons[]")))
                return rc;
            omni__json_w_obj_begin(b);
            omni__json_w_keyl(b, "type");
            omni__json_w_str(b, "reply");
            omni__json_w_keyl(b, "reply");
            omni__json_w_obj_begin(b);
            omni__json_w_keyl(b, "id");
            omni__json_w_str(b, id);
            omni__json_w_keyl(b, "title");
            omni__json_w_str(b, title);
            omni__json_w_obj_end(b);
            omni__json_w_obj_end(b);
        }
        omni__json_w_arr_end(b);
    } else {
        omni__json_w_keyl(b, "button");
        omni__json_w_str(b, button_text);
        omni__json_w_keyl(b, "sections");
        omni__json_w_arr_begin(b);
        int rows_total = 0;
        cJSON_ArrayForEach(it, sections)
        {
            const char *stitle = NULL;
            if (!cJSON_IsObject(it))
                return err("message.sections[]", "must be an object");
            if ((rc = opt_str(&stitle, it, "title", "message.sections[].title")))
                return rc;
            const cJSON *rows = member(it, "rows");
            int n = cJSON_IsArray(rows) ? cJSON_GetArraySize(rows) : 0;
            if (n < 1)
                return err("message.sections[].rows", "must be a non-empty array");
            rows_total += n;
            if (rows_total > 10)
                return err("message.sections", "hold more than 10 rows in all");
            omni__json_w_obj_begin(b);
            if (stitle) {
                omni__json_w_keyl(b, "title");
                omni__json_w_str(b, stitle);
            }
            omni__json_w_keyl(b, "rows");
            omni__json_w_arr_begin(b);
            const cJSON *row;
            cJSON_ArrayForEach(row, rows)
            {
                const char *id = NULL, *title = NULL, *desc = NULL;
                if ((rc = id_title(row, &id, &title, "message.sections[].rows[]")))
                    return rc;
                if (cJSON_IsObject(row) &&
                    (rc = opt_str(&desc, row, "description",
                                  "message.sections[].rows[].description")))
                    return rc;
                omni__json_w_obj_begin(b);
                omni__json_w_keyl(b, "id");
                omni__json_w_str(b, id);
                omni__json_w_keyl(b, "title");
                omni__json_w_str(b, title);
                if (desc) {
                    omni__json_w_keyl(b, "description");
                    omni__json_w_str(b, desc);
                }
                omni__json_w_obj_end(b);
            }
            omni__json_w_arr_end(b);
            omni__json_w_obj_end(b);
        }
        omni__json_w_arr_end(b);
    }
    omni__json_w_obj_end(b);
    omni__json_w_obj_end(b);
    return OMNI_OK;
}

static int build(omni_http_request **out, const void *state, const omni__ob_event *ev,
                 int64_t now_ms)
{
    (void)now_ms;
    const wa_state *s = state;
    const char *ct = ev->content_type;
    int is_template = strcmp(ct, "template") == 0;
    if (strcmp(ct, "text") != 0 && !is_template && strcmp(ct, "media") != 0 &&
        strcmp(ct, "interactive") != 0)
        return err("message.contentType",
                   "must be \"text\", \"template\", \"media\" or \"interactive\"");
    if (ev->window_closed && !is_template)
        return omni__err(OMNI_EWINDOW, "outbound whatsapp: the customer service window is "
                                       "closed (24 hours since the customer's last message); "
                                       "only a template message can be sent");
    const char *to = ev->to;
    if (strncmp(to, "whatsapp:", 9) == 0)
        to += 9;
    if (*to == '+')
        to++;
    if (!all_digits(to) || strlen(to) > 20)
        return err("recipient.channelIdentifier",
                   "must be a phone number (+ and up to 20 digits) for WhatsApp");
    const char *reply_to;
    int rc = opt_str(&reply_to, ev->message, "replyTo", "message.replyTo");
    if (rc)
        return rc;

    omni_buf b = OMNI_BUF_INIT;
    omni__buf_init(&b, OMNI_HTTP_MAX_BODY);
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "messaging_product");
    omni__json_w_str(&b, "whatsapp");
    omni__json_w_keyl(&b, "recipient_type");
    omni__json_w_str(&b, "individual");
    omni__json_w_keyl(&b, "to");
    omni__json_w_str(&b, to);
    if (reply_to) {
        omni__json_w_keyl(&b, "context");
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "message_id");
        omni__json_w_str(&b, reply_to);
        omni__json_w_obj_end(&b);
    }
    if (strcmp(ct, "media") != 0) {
        omni__json_w_keyl(&b, "type");
        omni__json_w_str(&b, ct);
    }
    if (is_template)
        rc = w_template(&b, ev);
    else if (strcmp(ct, "text") == 0)
        rc = w_text(&b, ev);
    else if (strcmp(ct, "media") == 0)
        rc = w_media(&b, ev);
    else
        rc = w_interactive(&b, ev);
    omni__json_w_obj_end(&b);
    if (rc) {
        omni__buf_free(&b);
        return rc;
    }
    return omni__ob_post(out, CARRIER, &b, "Bearer", NULL, s->token, "application/json", NULL,
                         "%s/%s/%s/messages", s->base_url, s->version, s->phone_id);
}

/* ---- parse ------------------------------------------------------------------------ */

static const char *code_class(long code, int *retryable)
{
    *retryable = 0;
    switch (code) {
    case 0: case 3: case 10: case 190: return "AUTH_FAILED";
    case 4: case 80007: case 130429: case 131048: case 131056:
        *retryable = 1;
        return "RATE_LIMITED";
    case 131047: return "WINDOW_CLOSED";
    case 131026: case 131021: case 131030: return "INVALID_RECIPIENT";
    case 131050: return "RECIPIENT_OPTED_OUT";
    case 100: case 131008: case 131009: case 131051: case 131052: case 131053:
        return "INVALID_REQUEST";
    case 1: case 2: case 131000: case 131016:
        *retryable = 1;
        return "PROVIDER_UNAVAILABLE";
    default: break;
    }
    if (code >= 200 && code <= 299)
        return "AUTH_FAILED";
    if (code >= 132000 && code <= 132999)
        return "TEMPLATE_REJECTED";
    return NULL;
}

static int parse(omni_buf *out, const void *state, const omni_http_response *resp,
                 int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    cJSON *j = omni__ob_body_object(resp);
    const cJSON *e = j ? member(j, "error") : NULL;
    if (status >= 200 && status < 300 && !e) {
        const cJSON *msgs = j ? member(j, "messages") : NULL;
        const cJSON *first = cJSON_IsArray(msgs) ? msgs->child : NULL;
        const cJSON *id = cJSON_IsObject(first) ? member(first, "id") : NULL;
        if (cJSON_IsString(id) && id->valuestring[0])
            omni__ob_result_ok(out, CARRIER, id->valuestring, "accepted", -1, NULL);
        else
            omni__ob_result_error(out, CARRIER, "PROVIDER_ERROR", NULL,
                                  "a success response without messages[0].id", 0, -1);
        cJSON_Delete(j);
        return OMNI_OK;
    }
    int retryable;
    const char *cls = omni__ob_http_class(status, &retryable);
    char pcode[32] = "", text[600];
    if (cJSON_IsObject(e)) {
        const cJSON *code = member(e, "code");
        const cJSON *msg = member(e, "message");
        const cJSON *data = member(e, "error_data");
        const cJSON *details = cJSON_IsObject(data) ? member(data, "details") : NULL;
        if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1e9) {
            long c = (long)code->valuedouble;
            snprintf(pcode, sizeof(pcode), "%ld", c);
            int r;
            const char *k = code_class(c, &r);
            if (k) {
                cls = k;
                retryable = r;
            }
        }
        if (cJSON_IsString(msg) && cJSON_IsString(details))
            snprintf(text, sizeof(text), "%.300s: %.280s", msg->valuestring,
                     details->valuestring);
        else if (cJSON_IsString(msg))
            snprintf(text, sizeof(text), "%.500s", msg->valuestring);
        else
            snprintf(text, sizeof(text), "HTTP %d", status);
    } else {
        snprintf(text, sizeof(text), "HTTP %d with a body that is not the Graph API's error "
                                     "JSON", status);
        if (!omni__ob_status_speaks(status)) {
            cls = "PROVIDER_ERROR";
            retryable = 0;
        }
    }
    int64_t ra = retryable ? omni__ob_retry_after(resp, now_ms) : -1;
    omni__ob_result_error(out, CARRIER, cls, pcode[0] ? pcode : NULL, text, retryable, ra);
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__ob_adapter omni__ob_whatsapp = {"whatsapp", cfg, st_free, build, parse};
