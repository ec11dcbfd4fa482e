/* MessageBird (Bird) Conversations API webhooks (inbound adapter).
 *
 * Format: https://developers.messagebird.com/docs/conversations/handle-inbound-messages-curl
 * and https://developers.messagebird.com/api/conversations (webhook body
 * {type: "message.created" | "message.updated" | ..., contact {id, msisdn
 * (a number or a string), displayName, firstName, lastName, ...},
 * conversation {...}, message {id, conversationId, channelId, platform, to,
 * from, direction "received" | "sent", status, type, content {text | image
 * {url, caption} | video | audio | file {url, caption} | location
 * {latitude, longitude}}, createdDatetime, updatedDatetime}}).
 *
 * Verification: the MessageBird-Signature-JWT header, as specified by
 * MessageBird's SDKs (messagebird-nodejs lib/webhook-signature-jwt.js and
 * its reference vectors lib/testdata/webhook-signature-jwt-reference.json):
 * an HS256 JWT signed with the signing key (settings "signingKey") whose
 * claims must hold
 *   iss          "MessageBird"
 *   jti          present (a string)
 *   exp          required; now < exp + leeway
 *   nbf          when present, now + leeway >= nbf
 *   iat          when present, a number not after now + leeway
 *   url_hash     hex SHA-256 of the public URL the request was sent to
 *   payload_hash hex SHA-256 of the raw body; must be absent exactly when
 *                the body is empty
 * now is the request's clock (the engine's clock hook), leeway the
 * "leewaySeconds" setting (default 5, 0..3600). Settings: {"signingKey",
 * "leewaySeconds"} (no other members but "verify"). Hashes are compared in
 * constant time. HS384/HS512 tokens (accepted by the SDKs, not used by
 * MessageBird's signer) are refused.
 *
 * Mapping: message.created with direction "received" -> a message event
 * (channelType "sms" for platform sms, else "chat"; sender userId =
 * contact.id, phoneNumber = contact.msisdn as E.164, senderName =
 * displayName or first + last name; recipient business id = channelId and,
 * when message.to is a number, the E.164 recipient). message.created and
 * message.updated of a message with direction "sent" -> a status event
 * (accepted/pending -> queued, sent/transmitted -> sent, delivered, read,
 * failed/rejected/unsupported -> failed). Anything else (received-message
 * updates, conversation.* events, unknown statuses) gives no event. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <omni/crypto.h>
#include <omni/datetime.h>
#include <omni/identity.h>

#include "lib/carriers/carrier_internal.h"
#include "lib/core/crypto_internal.h"
#include "lib/core/error.h"
#include "lib/core/json.h"

#define MB "messagebird"
#define MB_HEADER "MessageBird-Signature-JWT"
#define MB_DEFAULT_LEEWAY 5
#define MB_MAX_LEEWAY 3600

/* ---- verification ------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes exactly 64 hex digits into 32 bytes; 0 on success. */
static int hex32(uint8_t out[32], const char *s)
{
    if (!s || strlen(s) != 64)
        return -1;
    for (size_t i = 0; i < 32; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Compares a hex SHA-256 claim with the digest of data in constant time. */
static int hash_claim_ok(const char *claim, const void *data, size_t len)
{
    uint8_t want[32], got[32];
    if (hex32(want, claim) != 0 || omni__sha256(got, data, len) != OMNI_OK)
        return 0;
    return omni_ct_equal(want, got, sizeof(want));
}

/* Compiled settings. */
typedef struct mb_state {
    char *key; /* the signing key, NULL when not configured */
    size_t key_len;
    int64_t leeway_s;
} mb_state;

static void mb_state_free(void *state)
{
    mb_state *st = state;
    if (!st)
        return;
    if (st->key) {
        OPENSSL_cleanse(st->key, st->key_len);
        free(st->key);
    }
    free(st);
}

static int mb_compile(const cJSON *settings, void **state)
{
    *state = NULL;
    const cJSON *it;
    int64_t leeway = MB_DEFAULT_LEEWAY;
    cJSON_ArrayForEach(it, settings)
    {
        const char *k = it->string;
        if (strcmp(k, "signingKey") == 0) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                return omni__carrier_bad_setting(MB, k, "must be a non-empty string");
        } else if (strcmp(k, "leewaySeconds") == 0) {
            if (omni__json_int(it, NULL, &leeway) != OMNI_OK || leeway < 0 ||
                leeway > MB_MAX_LEEWAY)
                return omni__carrier_bad_setting(MB, k, "must be an integer from 0 to 3600");
        } else if (strcmp(k, "verify") != 0) {
            return omni__carrier_bad_setting(MB, k, "is not a MessageBird setting "
                                                    "(signingKey, leewaySeconds, verify)");
        }
    }
    mb_state *st = calloc(1, sizeof(*st));
    if (!st)
        return omni__err(OMNI_ENOMEM, NULL);
    st->leeway_s = leeway;
    const char *key = omni__json_str(settings, "signingKey");
    if (key) {
        st->key_len = strlen(key);
        st->key = malloc(st->key_len + 1);
        if (!st->key) {
            free(st);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        memcpy(st->key, key, st->key_len + 1);
    }
    *state = st;
    return OMNI_OK;
}

/* Checks the verified claims; OMNI_OK or a bad-signature error. */
static int check_claims(const omni__carrier_req *r, const cJSON *c, int64_t leeway_s)
{
    const char *iss = omni__json_str(c, "iss");
    if (!iss || strcmp(iss, "MessageBird") != 0)
        return omni__carrier_bad_signature(MB, "the token's issuer is not MessageBird");
    if (!omni__json_str(c, "jti"))
        return omni__carrier_bad_signature(MB, "the token has no jti claim");

    double now = (double)r->now_ms, leeway = (double)leeway_s * 1000.0, v;
    if (omni__json_num(c, "exp", &v) != OMNI_OK)
        return omni__carrier_bad_signature(MB, "the token has no numeric exp claim");
    if (now >= v * 1000.0 + leeway)
        return omni__carrier_bad_signature(MB, "the token has expired (exp is in the past)");
    if (cJSON_GetObjectItemCaseSensitive(c, "nbf")) {
        if (omni__json_num(c, "nbf", &v) != OMNI_OK)
            return omni__carrier_bad_signature(MB, "the token's nbf claim is not a number");
        if (now + leeway < v * 1000.0)
            return omni__carrier_bad_signature(MB, "the token is not valid yet (nbf)");
    }
    if (cJSON_GetObjectItemCaseSensitive(c, "iat")) {
        if (omni__json_num(c, "iat", &v) != OMNI_OK)
            return omni__carrier_bad_signature(MB, "the token's iat claim is not a number");
        if (v * 1000.0 > now + leeway)
            return omni__carrier_bad_signature(MB, "the token was issued in the future (iat)");
    }

    const char *url_hash = omni__json_str(c, "url_hash");
    if (!url_hash)
        return omni__carrier_bad_signature(MB, "the token has no url_hash claim");
    if (!r->public_url ||
        !hash_claim_ok(url_hash, r->public_url, strlen(r->public_url)))
        return omni__carrier_bad_signature(MB, "url_hash does not match the request URL");

    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(c, "payload_hash");
    if (ph) {
        if (!cJSON_IsString(ph))
            return omni__carrier_bad_signature(MB, "the token's payload_hash is not a string");
        if (r->body_len == 0)
            return omni__carrier_bad_signature(MB, "payload_hash is set but the body is empty");
        if (!hash_claim_ok(ph->valuestring, r->body, r->body_len))
            return omni__carrier_bad_signature(MB, "payload_hash does not match the body");
    } else if (r->body_len != 0) {
        return omni__carrier_bad_signature(MB, "the body is not empty but has no payload_hash");
    }
    return OMNI_OK;
}

static int mb_verify(const omni__carrier_req *r)
{
    if (omni__carrier_verify_off(r))
        return OMNI_OK;
    const mb_state *st = r->state;
    if (!st || !st->key)
        return omni__carrier_bad_signature(MB, "no signing key configured");
    const char *token = r->req ? omni_webhook_header(r->req, MB_HEADER) : NULL;
    if (!token || !*token)
        return omni__carrier_bad_signature(MB, "the request has no MessageBird-Signature-JWT");

    /* Signature (HS256 only, "none" refused), exp and nbf by the engine's
     * clock; then every claim again against the request's clock below. */
    char *claims = NULL;
    size_t claims_len = 0;
    int rc = omni_jwt_verify(&claims, &claims_len, r->engine, token, strlen(token), "HS256",
                             st->key, st->key_len, st->leeway_s);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc) {
        char why[200];
        snprintf(why, sizeof(why), "%s", omni_error_last_message());
        return omni__carrier_bad_signature(MB, why);
    }
    cJSON *c = NULL;
    rc = omni__json_parse(&c, claims, claims_len, claims_len + 1, "JWT claims");
    omni_free(claims);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc)
        return omni__carrier_bad_signature(MB, "the token's claims are not a JSON object");
    rc = check_claims(r, c, st->leeway_s);
    cJSON_Delete(c);
    return rc;
}

/* ---- parsing ------------------------------------------------------------- */

/* 1 when s is a phone number as MessageBird writes one: an optional '+'
 * and 5 to 15 digits. */
static int number_like(const char *s)
{
    if (!s)
        return 0;
    if (*s == '+')
        s++;
    size_t n = strlen(s);
    if (n < 5 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* E.164 of an MSISDN ("31612345678" is always international, so a '+' is
 * put in front); NULL when it is not a phone number. */
static const char *msisdn_e164(char out[OMNI_E164_STRLEN], const omni__carrier_req *r,
                               const char *raw)
{
    if (!number_like(raw))
        return NULL;
    char tmp[20];
    snprintf(tmp, sizeof(tmp), "%s%s", raw[0] == '+' ? "" : "+", raw);
    return omni__carrier_e164(out, r, tmp) ? out : NULL;
}

static int64_t time_of(const cJSON *obj, const char *name, int64_t fallback)
{
    const char *t = omni__json_str(obj, name);
    int64_t ms;
    if (t && omni_time_parse(&ms, t, strlen(t)) == OMNI_OK)
        return ms;
    return fallback;
}

static const char *map_status(const char *s)
{
    static const char *const map[][2] = {
        {"accepted", "queued"}, {"pending", "queued"},   {"sent", "sent"},
        {"transmitted", "sent"}, {"delivered", "delivered"}, {"read", "read"},
        {"failed", "failed"},    {"rejected", "failed"},     {"unsupported", "failed"},
    };
    if (!s)
        return NULL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static int str_or_absent(const cJSON *obj, const char *name)
{
    const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    return !it || cJSON_IsString(it) || cJSON_IsNull(it);
}

static int check_message(const cJSON *m)
{
    if (!cJSON_IsObject(m))
        return omni__carrier_malformed(MB, "the webhook has no \"message\" object");
    const char *id = omni__json_str(m, "id");
    if (!id || !*id)
        return omni__carrier_malformed(MB, "the message has no \"id\"");
    static const char *const strs[] = {"direction", "status", "type", "platform", "from",
                                       "to", "channelId", "conversationId",
                                       "createdDatetime", "updatedDatetime"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (!str_or_absent(m, strs[i])) {
            char why[80];
            snprintf(why, sizeof(why), "message.%s is not a string", strs[i]);
            return omni__carrier_malformed(MB, why);
        }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (content && !cJSON_IsObject(content) && !cJSON_IsNull(content))
        return omni__carrier_malformed(MB, "message.content is not an object");
    if (content && !str_or_absent(content, "text"))
        return omni__carrier_malformed(MB, "message.content.text is not a string");
    return OMNI_OK;
}

static const char *const media_types[] = {"image", "video", "audio", "file"};

static int emit_message(omni__events *ev, const omni__carrier_req *r, const cJSON *root,
                        const cJSON *m)
{
    const cJSON *contact = cJSON_GetObjectItemCaseSensitive(root, "contact");
    if (!cJSON_IsObject(contact))
        contact = NULL;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (!cJSON_IsObject(content))
        content = NULL;
    const char *type = omni__json_str(m, "type");
    const char *platform = omni__json_str(m, "platform");

    omni__message msg;
    memset(&msg, 0, sizeof(msg));
    msg.message_id = omni__json_str(m, "id");

    char sender_buf[OMNI_E164_STRLEN], rcpt_buf[OMNI_E164_STRLEN], msisdn[32];
    if (contact) {
        msg.sender_user_id = omni__json_str(contact, "id");
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(contact, "msisdn");
        if (ms && omni__json_id(ms, msisdn, sizeof(msisdn)) == OMNI_OK)
            msg.sender_phone = msisdn_e164(sender_buf, r, msisdn);
    }
    if (!msg.sender_phone)
        msg.sender_phone = msisdn_e164(sender_buf, r, omni__json_str(m, "from"));
    if (!msg.sender_phone && !msg.sender_user_id)
        msg.sender_user_id = omni__json_str(m, "from");

    char *name = NULL;
    const char *display = contact ? omni__json_str(contact, "displayName") : NULL;
    if (display && *display) {
        msg.sender_name = display;
    } else if (contact) {
        const char *first = omni__json_str(contact, "firstName");
        const char *last = omni__json_str(contact, "lastName");
        size_t n = (first ? strlen(first) : 0) + (last ? strlen(last) : 0) + 2;
        if ((first && *first) || (last && *last)) {
            name = malloc(n);
            if (!name)
                return omni__err(OMNI_ENOMEM, NULL);
            snprintf(name, n, "%s%s%s", first ? first : "",
                     (first && *first && last && *last) ? " " : "", last ? last : "");
            msg.sender_name = name;
        }
    }

    msg.recipient_business_id = omni__json_str(m, "channelId");
    msg.recipient_phone = msisdn_e164(rcpt_buf, r, omni__json_str(m, "to"));

    omni__media media;
    memset(&media, 0, sizeof(media));
    cJSON *location = NULL;
    const char *text = content ? omni__json_str(content, "text") : NULL;
    msg.content = text ? text : "";
    msg.content_type = "text";
    for (size_t i = 0; type && content && i < sizeof(media_types) / sizeof(media_types[0]);
         i++) {
        if (strcmp(type, media_types[i]) != 0)
            continue;
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(content, media_types[i]);
        media.url = omni__json_str(obj, "url");
        media.caption = omni__json_str(obj, "caption");
        if (!media.url) {
            free(name);
            return omni__carrier_malformed(MB, "a media message has no content URL");
        }
        msg.media = &media;
        msg.media_count = 1;
        msg.content_type = "media";
        msg.content = media.caption ? media.caption : "";
    }
    if (type && strcmp(type, "location") == 0) {
        double lat, lon;
        const cJSON *loc = content ? cJSON_GetObjectItemCaseSensitive(content, "location") : NULL;
        if (omni__json_num(loc, "latitude", &lat) != OMNI_OK ||
            omni__json_num(loc, "longitude", &lon) != OMNI_OK || lat < -90 || lat > 90 ||
            lon < -180 || lon > 180) {
            free(name);
            return omni__carrier_malformed(MB, "a location message has no valid coordinates");
        }
        location = cJSON_CreateObject();
        if (!location || !cJSON_AddNumberToObject(location, "latitude", lat) ||
            !cJSON_AddNumberToObject(location, "longitude", lon)) {
            cJSON_Delete(location);
            free(name);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        msg.location = location;
        msg.content_type = "location";
    }
    int sms = platform && strcmp(platform, "sms") == 0;
    msg.channel_type = sms ? (msg.media_count ? "mms" : "sms") : "chat";
    msg.timestamp_ms = time_of(m, "createdDatetime", r->now_ms);
    int rc = omni__event_message(ev, r, &msg, NULL);
    cJSON_Delete(location);
    free(name);
    return rc;
}

static int emit_status(omni__events *ev, const omni__carrier_req *r, const cJSON *m,
                       const char *status)
{
    char rcpt_buf[OMNI_E164_STRLEN];
    omni__status_event s;
    memset(&s, 0, sizeof(s));
    s.carrier_message_id = omni__json_str(m, "id");
    s.status = status;
    const char *to = omni__json_str(m, "to");
    const char *e164 = msisdn_e164(rcpt_buf, r, to);
    s.recipient = e164 ? e164 : to;
    s.timestamp_ms = time_of(m, "updatedDatetime", time_of(m, "createdDatetime", r->now_ms));
    return omni__event_status(ev, r, &s);
}

static int mb_parse(const omni__carrier_req *r, omni__events *ev)
{
    const cJSON *root = NULL;
    int rc = omni__carrier_json(r, MB, &root);
    if (rc)
        return rc;
    if (!cJSON_IsObject(root))
        return omni__carrier_malformed(MB, "the body is not a JSON object");
    const char *type = omni__json_str(root, "type");
    if (!type)
        return omni__carrier_malformed(MB, "the webhook has no \"type\" string");
    int created = strcmp(type, "message.created") == 0;
    int updated = strcmp(type, "message.updated") == 0;
    if (!created && !updated)
        return OMNI_OK; /* conversation.* and future events: acknowledged */
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");
    rc = check_message(m);
    if (rc)
        return rc;
    const cJSON *contact = cJSON_GetObjectItemCaseSensitive(root, "contact");
    if (contact && !cJSON_IsObject(contact) && !cJSON_IsNull(contact))
        return omni__carrier_malformed(MB, "\"contact\" is not an object");
    const char *dir = omni__json_str(m, "direction");
    if (dir && strcmp(dir, "received") == 0) {
        if (created)
            return emit_message(ev, r, root, m);
    } else if (dir && strcmp(dir, "sent") == 0) {
        const char *status = map_status(omni__json_str(m, "status"));
        if (status)
            return emit_status(ev, r, m, status);
    }
    return OMNI_OK;
}

const omni__carrier omni__carrier_messagebird = {MB, mb_verify, mb_parse, mb_compile,
                                                 mb_state_free};
