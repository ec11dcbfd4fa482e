/* Meta WhatsApp Cloud API webhooks: X-Hub-Signature-256 verification, the
 * GET subscription handshake, and the parsing of entry[].changes[].value
 * with messages (text, media, location, contacts, interactive, button,
 * reaction, ...) and statuses (sent, delivered, read, failed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <omni/omni.h>

#include "carrier_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"

#define NAME "whatsapp"
#define CHALLENGE_MAX 128

typedef struct whatsapp_state {
    omni__hmac_key *key;  /* HMAC-SHA256 with the app secret; NULL when unset */
    uint8_t token_hash[32]; /* SHA-256 of the verify token */
    int has_token;
} whatsapp_state;

static void whatsapp_free(void *p)
{
    whatsapp_state *st = p;
    if (!st)
        return;
    omni__hmac_key_free(st->key);
    OPENSSL_cleanse(st, sizeof(*st));
    free(st);
}

static int whatsapp_compile(const cJSON *settings, void **state)
{
    for (const cJSON *c = settings->child; c; c = c->next) {
        const char *k = c->string ? c->string : "";
        if (strcmp(k, "appSecret") == 0 || strcmp(k, "verifyToken") == 0) {
            if (!cJSON_IsString(c) || !c->valuestring[0])
                return omni__carrier_bad_setting(NAME, k, "must be a non-empty string");
        } else if (strcmp(k, "verify") != 0) {
            return omni__carrier_bad_setting(NAME, k,
                                             "unknown setting (appSecret, verifyToken, verify)");
        }
    }
    whatsapp_state *st = calloc(1, sizeof(*st));
    if (!st)
        return omni__err(OMNI_ENOMEM, NULL);
    const char *secret = omni__json_str(settings, "appSecret");
    const char *token = omni__json_str(settings, "verifyToken");
    int rc = OMNI_OK;
    if (secret)
        rc = omni__hmac_key_new(&st->key, OMNI_HASH_SHA256, secret, strlen(secret));
    if (!rc && token) {
        rc = omni_hash_digest(st->token_hash, sizeof(st->token_hash), OMNI_HASH_SHA256, token,
                              strlen(token));
        st->has_token = 1;
    }
    if (rc) {
        whatsapp_free(st);
        return rc;
    }
    *state = st;
    return OMNI_OK;
}

/* ---- verification ----------------------------------------------------------- */

/* The subscription handshake's token check (constant time over digests,
 * so not even the token's length leaks). */
static int check_token(const whatsapp_state *st, const omni__pairs *q)
{
    const char *token = omni__pairs_get(q, "hub.verify_token");
    if (!token)
        return omni__carrier_bad_signature(NAME, "hub.verify_token is missing");
    if (!st || !st->has_token)
        return omni__carrier_bad_signature(NAME, "no verifyToken is configured");
    uint8_t got[32];
    if (omni_hash_digest(got, sizeof(got), OMNI_HASH_SHA256, token, strlen(token)))
        return omni__err(OMNI_ECRYPTO, "whatsapp webhook: hashing the token failed");
    if (!omni_ct_equal(got, st->token_hash, sizeof(got)))
        return omni__carrier_bad_signature(NAME, "hub.verify_token does not match");
    return OMNI_OK;
}

static int handshake_query(const omni__carrier_req *r, const omni__pairs **q)
{
    int rc = omni__carrier_query(r, NAME, q);
    if (rc)
        return rc;
    const char *mode = omni__pairs_get(*q, "hub.mode");
    if (!mode || strcmp(mode, "subscribe") != 0)
        return omni__carrier_malformed(NAME, "a GET request must be the subscription handshake "
                                             "(hub.mode=subscribe)");
    return OMNI_OK;
}

static int whatsapp_verify(const omni__carrier_req *r)
{
    const whatsapp_state *st = r->state;
    if (strcmp(r->method, "GET") == 0) {
        const omni__pairs *q;
        int rc = handshake_query(r, &q);
        return rc ? rc : check_token(st, q);
    }
    if (strcmp(r->method, "POST") != 0)
        return omni__carrier_malformed(NAME, "Meta sends webhooks as POST (and GET for the "
                                             "subscription handshake)");
    if (!st || !st->key)
        return omni__carrier_bad_signature(NAME, "no appSecret is configured");
    const char *sig = omni_webhook_header(r->req, "X-Hub-Signature-256");
    if (!sig || !sig[0])
        return omni__carrier_bad_signature(NAME, "the X-Hub-Signature-256 header is missing");
    uint8_t want[32], got[32];
    if (strlen(sig) != 7 + 64 || strncasecmp(sig, "sha256=", 7) != 0 ||
        !omni__hex_decode(want, sig + 7, 32))
        return omni__carrier_bad_signature(NAME, "X-Hub-Signature-256 is not \"sha256=\" and "
                                                 "64 hex digits");
    omni__hmac h;
    int rc = omni__hmac_init(&h, st->key);
    if (rc)
        return rc;
    omni__hmac_begin(&h);
    omni__hmac_update(&h, r->body, r->body_len);
    rc = omni__hmac_final(&h, got);
    omni__hmac_release(&h);
    if (rc)
        return omni__err(OMNI_ECRYPTO, "whatsapp webhook: computing the signature failed");
    if (!omni_ct_equal(want, got, sizeof(got)))
        return omni__carrier_bad_signature(NAME, "X-Hub-Signature-256 does not match");
    return OMNI_OK;
}

/* ---- parsing ------------------------------------------------------------------ */

static const char *jstr(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static const cJSON *jobj(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsObject(it) ? it : NULL;
}

/* Unix seconds as a string of digits (or an integral number) -> ms. */
static int timestamp_ms(const cJSON *obj, int64_t fallback, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "timestamp");
    int64_t s = 0;
    if (!it) {
        *out = fallback;
        return 1;
    }
    if (cJSON_IsString(it)) {
        const char *p = it->valuestring;
        size_t n = strlen(p);
        if (n == 0 || n > 12)
            return 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return 0;
            s = s * 10 + (*p - '0');
        }
    } else if (omni__json_int(it, NULL, &s) || s < 0 || s > 999999999999) {
        return 0;
    }
    *out = s * 1000;
    return 1;
}

/* A WhatsApp number (digits without '+') as E.164 into buf, else NULL. */
static const char *wa_e164(char *buf, const omni__carrier_req *r, const char *digits)
{
    size_t n = digits ? strlen(digits) : 0;
    if (n == 0 || n > 32)
        return NULL;
    char tmp[40];
    size_t k = digits[0] == '+' ? 0 : 1;
    tmp[0] = '+';
    memcpy(tmp + k, digits, n + 1);
    return omni__carrier_e164(buf, r, tmp) ? buf : NULL;
}

typedef struct value_ctx {
    const omni__carrier_req *r;
    omni__events *ev;
    const cJSON *value;
    const char *business_phone; /* E.164 of metadata.display_phone_number */
    const char *phone_number_id;
} value_ctx;

static const char *profile_name(const cJSON *value, const char *wa_id)
{
    const cJSON *contacts = cJSON_GetObjectItemCaseSensitive(value, "contacts");
    const cJSON *only = NULL;
    int n = 0;
    for (const cJSON *c = cJSON_IsArray(contacts) ? contacts->child : NULL; c; c = c->next) {
        n++;
        only = c;
        const char *id = jstr(c, "wa_id");
        if (id && wa_id && strcmp(id, wa_id) == 0)
            return jstr(jobj(c, "profile"), "name");
    }
    return n == 1 ? jstr(jobj(only, "profile"), "name") : NULL;
}

static const char *const media_types[] = {"image", "audio", "video", "document", "sticker", NULL};

static int is_media_type(const char *t)
{
    for (size_t i = 0; media_types[i]; i++)
        if (strcmp(t, media_types[i]) == 0)
            return 1;
    return 0;
}

static int parse_one_message(const value_ctx *v, const cJSON *msg)
{
    const omni__carrier_req *r = v->r;
    if (!cJSON_IsObject(msg))
        return omni__carrier_malformed(NAME, "a messages[] entry is not an object");
    omni__message m;
    memset(&m, 0, sizeof(m));
    omni__media media;
    memset(&media, 0, sizeof(media));
    const char *type = jstr(msg, "type");
    const char *from = jstr(msg, "from");
    m.message_id = jstr(msg, "id");
    if (!m.message_id || !m.message_id[0] || !type)
        return omni__carrier_malformed(NAME, "a message needs \"id\" and \"type\"");
    m.sender_user_id = jstr(msg, "from_user_id");
    if (!from && !m.sender_user_id)
        return omni__carrier_malformed(NAME, "a message needs \"from\"");
    if (!timestamp_ms(msg, r->now_ms, &m.timestamp_ms))
        return omni__carrier_malformed(NAME, "a message timestamp must be Unix seconds");
    char sender[OMNI_E164_STRLEN];
    m.sender_phone = wa_e164(sender, r, from);
    if (from && !m.sender_phone && !m.sender_user_id)
        m.sender_user_id = from;
    m.sender_name = profile_name(v->value, from);
    m.recipient_phone = v->business_phone;
    m.recipient_business_id = v->phone_number_id;
    m.channel_type = "chat";
    m.content = "";
    m.content_type = "text";
    m.context_message_id = jstr(jobj(msg, "context"), "id");

    cJSON *extra = NULL;
    const cJSON *body;
    if (strcmp(type, "text") == 0) {
        m.content = jstr(jobj(msg, "text"), "body");
        if (!m.content)
            return omni__carrier_malformed(NAME, "a text message needs text.body");
    } else if (is_media_type(type)) {
        if (!(body = jobj(msg, type)) || !(media.id = jstr(body, "id")))
            return omni__carrier_malformed(NAME, "a media message needs its object with an id");
        media.url = jstr(body, "url");
        media.content_type = jstr(body, "mime_type");
        media.sha256 = jstr(body, "sha256");
        media.caption = jstr(body, "caption");
        media.filename = jstr(body, "filename");
        m.media = &media;
        m.media_count = 1;
        m.content = media.caption ? media.caption : "";
        m.content_type = "media";
    } else if (strcmp(type, "location") == 0) {
        body = jobj(msg, "location");
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(body, "latitude");
        const cJSON *lon = cJSON_GetObjectItemCaseSensitive(body, "longitude");
        if (!cJSON_IsNumber(lat) || !cJSON_IsNumber(lon) || lat->valuedouble < -90 ||
            lat->valuedouble > 90 || lon->valuedouble < -180 || lon->valuedouble > 180)
            return omni__carrier_malformed(NAME, "a location needs numeric latitude and "
                                                 "longitude in range");
        m.location = body;
        m.content = jstr(body, "name") ? jstr(body, "name")
                    : jstr(body, "address") ? jstr(body, "address")
                                            : "";
        m.content_type = "location";
    } else if (strcmp(type, "contacts") == 0) {
        body = cJSON_GetObjectItemCaseSensitive(msg, "contacts");
        if (!cJSON_IsArray(body) || !body->child)
            return omni__carrier_malformed(NAME, "a contacts message needs a contacts array");
        m.contacts = body;
        const char *name = jstr(jobj(body->child, "name"), "formatted_name");
        m.content = name ? name : "";
        m.content_type = "contact";
    } else if (strcmp(type, "interactive") == 0) {
        body = jobj(msg, "interactive");
        const char *itype = jstr(body, "type");
        const cJSON *reply = itype ? jobj(body, itype) : NULL;
        if (!reply)
            return omni__carrier_malformed(NAME, "an interactive message needs its reply object");
        if (strcmp(itype, "nfm_reply") == 0) {
            m.reply_id = jstr(reply, "name");
            m.reply_title = jstr(reply, "body");
        } else {
            m.reply_id = jstr(reply, "id");
            m.reply_title = jstr(reply, "title");
        }
        m.content = m.reply_title ? m.reply_title : "";
    } else if (strcmp(type, "button") == 0) {
        body = jobj(msg, "button");
        m.reply_id = jstr(body, "payload");
        m.reply_title = jstr(body, "text");
        if (!m.reply_id && !m.reply_title)
            return omni__carrier_malformed(NAME, "a button message needs button.payload or "
                                                 "button.text");
        m.content = m.reply_title ? m.reply_title : "";
    } else if (strcmp(type, "reaction") == 0) {
        body = jobj(msg, "reaction");
        m.reaction_message_id = jstr(body, "message_id");
        if (!m.reaction_message_id)
            return omni__carrier_malformed(NAME, "a reaction needs reaction.message_id");
        m.reaction_emoji = jstr(body, "emoji"); /* absent: the reaction was removed */
        m.content = m.reaction_emoji ? m.reaction_emoji : "";
    } else {
        /* system, order, unsupported, request_welcome, ...: kept with their type. */
        const char *text = jstr(jobj(msg, type), "body");
        m.content = text ? text : "";
        const cJSON *errors = cJSON_GetObjectItemCaseSensitive(msg, "errors");
        extra = cJSON_CreateObject();
        if (!extra || !cJSON_AddStringToObject(extra, "messageType", type) ||
            (cJSON_IsArray(errors) && !cJSON_AddItemReferenceToObject(extra, "errors",
                                                                      (cJSON *)errors))) {
            cJSON_Delete(extra);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        m.extra = extra;
    }
    int rc = omni__event_message(v->ev, r, &m, NULL);
    cJSON_Delete(extra);
    return rc;
}

static const char *map_status(const char *s)
{
    static const char *const known[] = {"sent", "delivered", "read", "failed", NULL};
    for (size_t i = 0; known[i]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return NULL;
}

static int parse_one_status(const value_ctx *v, const cJSON *st)
{
    const omni__carrier_req *r = v->r;
    if (!cJSON_IsObject(st))
        return omni__carrier_malformed(NAME, "a statuses[] entry is not an object");
    const char *id = jstr(st, "id"), *status = jstr(st, "status");
    if (!id || !id[0] || !status)
        return omni__carrier_malformed(NAME, "a status needs \"id\" and \"status\"");
    omni__status_event s;
    memset(&s, 0, sizeof(s));
    if (!timestamp_ms(st, r->now_ms, &s.timestamp_ms))
        return omni__carrier_malformed(NAME, "a status timestamp must be Unix seconds");
    s.carrier_message_id = id;
    s.status = map_status(status);
    if (!s.status) {
        omni__log(r->engine, OMNI_LOG_WARN, "carriers",
                  "whatsapp status \"%.32s\" of a message ignored", status);
        return OMNI_OK;
    }
    char recipient[OMNI_E164_STRLEN], code[32];
    const char *rid = jstr(st, "recipient_id");
    s.recipient = wa_e164(recipient, r, rid);
    if (!s.recipient)
        s.recipient = rid;
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(st, "errors");
    const cJSON *err = cJSON_IsArray(errors) ? errors->child : NULL;
    if (cJSON_IsObject(err)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(err, "code");
        if (cJSON_IsString(c))
            s.error_code = c->valuestring;
        else if (!omni__json_id(c, code, sizeof(code)))
            s.error_code = code;
        s.error_message = jstr(jobj(err, "error_data"), "details");
        if (!s.error_message)
            s.error_message = jstr(err, "message");
        if (!s.error_message)
            s.error_message = jstr(err, "title");
    }
    return omni__event_status(v->ev, r, &s);
}

static int parse_value(const omni__carrier_req *r, omni__events *ev, const cJSON *value)
{
    if (!cJSON_IsObject(value))
        return omni__carrier_malformed(NAME, "a change's value is not an object");
    value_ctx v = {r, ev, value, NULL, NULL};
    const cJSON *meta = jobj(value, "metadata");
    char business[OMNI_E164_STRLEN];
    v.business_phone = wa_e164(business, r, jstr(meta, "display_phone_number"));
    v.phone_number_id = jstr(meta, "phone_number_id");
    const cJSON *list, *it;
    int rc;
    if ((list = cJSON_GetObjectItemCaseSensitive(value, "messages"))) {
        if (!cJSON_IsArray(list))
            return omni__carrier_malformed(NAME, "\"messages\" must be an array");
        cJSON_ArrayForEach(it, list) if ((rc = parse_one_message(&v, it))) return rc;
    }
    if ((list = cJSON_GetObjectItemCaseSensitive(value, "statuses"))) {
        if (!cJSON_IsArray(list))
            return omni__carrier_malformed(NAME, "\"statuses\" must be an array");
        cJSON_ArrayForEach(it, list) if ((rc = parse_one_status(&v, it))) return rc;
    }
    return OMNI_OK;
}

static int is_challenge_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static int parse_handshake(const omni__carrier_req *r, omni__events *ev)
{
    const omni__pairs *q;
    int rc = handshake_query(r, &q);
    if (rc)
        return rc;
    const whatsapp_state *st = r->state;
    if (st && st->has_token && (rc = check_token(st, q)))
        return rc;
    const char *challenge = omni__pairs_get(q, "hub.challenge");
    size_t n = challenge ? strlen(challenge) : 0;
    if (n == 0 || n > CHALLENGE_MAX)
        return omni__carrier_malformed(NAME, "hub.challenge is missing or over 128 bytes");
    for (size_t i = 0; i < n; i++)
        if (!is_challenge_char(challenge[i]))
            return omni__carrier_malformed(NAME, "hub.challenge has a character other than "
                                                 "letters, digits and -._~");
    return omni__events_respond(ev, 200, "text/plain", challenge);
}

static int whatsapp_parse(const omni__carrier_req *r, omni__events *ev)
{
    if (strcmp(r->method, "GET") == 0)
        return parse_handshake(r, ev);
    if (strcmp(r->method, "POST") != 0)
        return omni__carrier_malformed(NAME, "Meta sends webhooks as POST");
    const cJSON *root;
    int rc = omni__carrier_json(r, NAME, &root);
    if (rc)
        return rc;
    const char *object = jstr(root, "object");
    if (!cJSON_IsObject(root) || !object || strcmp(object, "whatsapp_business_account") != 0)
        return omni__carrier_malformed(NAME, "the body must be an object with \"object\": "
                                             "\"whatsapp_business_account\"");
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entry");
    if (!cJSON_IsArray(entries))
        return omni__carrier_malformed(NAME, "\"entry\" must be an array");
    const cJSON *entry, *change;
    cJSON_ArrayForEach(entry, entries)
    {
        const cJSON *changes = cJSON_GetObjectItemCaseSensitive(entry, "changes");
        if (!cJSON_IsObject(entry) || !cJSON_IsArray(changes))
            return omni__carrier_malformed(NAME, "each entry needs a \"changes\" array");
        cJSON_ArrayForEach(change, changes)
        {
            const char *field = jstr(change, "field");
            if (!cJSON_IsObject(change) || !field)
                return omni__carrier_malformed(NAME, "each change needs \"field\" and "
                                                     "\"value\"");
            if (strcmp(field, "messages") != 0)
                continue; /* account, template and other notifications carry no message */
            if ((rc = parse_value(r, ev, cJSON_GetObjectItemCaseSensitive(change, "value"))))
                return rc;
        }
    }
    return OMNI_OK;
}

const omni__carrier omni__carrier_whatsapp = {
    NAME, whatsapp_verify, whatsapp_parse, whatsapp_compile, whatsapp_free,
};
