/* LiveChat webhooks (inbound adapter), Configuration API webhooks v3.x.
 *
 * Format: https://platform.text.com/docs/management/webhooks (formerly
 * developers.livechat.com/docs/management/webhooks; body {webhook_id,
 * secret_key, action, organization_id (v3.4+) | license_id (<= v3.3),
 * payload, additional_data}) and the Agent Chat API data structures
 * https://platform.text.com/docs/messaging/agent-chat-api/data-structures
 * (Event "message" {id, created_at, type, author_id, text}, "file" {id,
 * created_at, type, author_id, name, url, content_type}; User "customer"
 * {id, type, name, email}).
 *
 * Verification: the payload's secret_key must equal the configured
 * "secretKey" (digests compared in constant time). The key travels inside
 * the body, so the body is parsed (strictly, within the size limit) to read
 * it; nothing else is used before the comparison succeeded. A body that is
 * not JSON is OMNI_EWEBHOOK, a missing or wrong key OMNI_ESIGNATURE. The key
 * is left out of the document that becomes the events' rawPayload.
 * Settings: {"secretKey"} (no other members but "verify").
 *
 * Mapping (channelType "chat"; sender sessionId = chat id, userId = the
 * event's author_id, email and senderName from the customer's user object
 * when the webhook carries one; recipient business id = organization_id or
 * license_id; message id = the event id):
 *   incoming_chat  -> one message event per "message" / "file" event of the
 *                     thread whose author is a user of type "customer"
 *   incoming_event -> a message event for a "message" / "file" event; the
 *                     payload names no user types, so register the webhook
 *                     with filters.author_type "customer"; as a safety net
 *                     an author_id that is an e-mail address (an agent's
 *                     login) is skipped
 *   chat_deactivated and every other action -> no event (acknowledged). */
#include <stdlib.h>
#include <string.h>

#include <omni/crypto.h>
#include <omni/datetime.h>

#include "lib/carriers/carrier_internal.h"
#include "lib/core/crypto_internal.h"
#include "lib/core/error.h"
#include "lib/core/json.h"

#define LC "livechat"

/* ---- settings and verification ------------------------------------------ */

/* Compiled settings: the digest of the secret key (configured 0: none). */
typedef struct lc_state {
    int configured;
    uint8_t key[32];
} lc_state;

static int lc_compile(const cJSON *settings, void **state)
{
    *state = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, settings)
    {
        const char *k = it->string;
        if (strcmp(k, "secretKey") == 0) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                return omni__carrier_bad_setting(LC, k, "must be a non-empty string");
        } else if (strcmp(k, "verify") != 0) {
            return omni__carrier_bad_setting(LC, k,
                                             "is not a LiveChat setting (secretKey, verify)");
        }
    }
    lc_state *st = calloc(1, sizeof(*st));
    if (!st)
        return omni__err(OMNI_ENOMEM, NULL);
    const char *key = omni__json_str(settings, "secretKey");
    if (key) {
        if (omni__sha256(st->key, key, strlen(key)) != OMNI_OK) {
            free(st);
            return omni__err(OMNI_ECRYPTO, "livechat: cannot digest the secret key");
        }
        st->configured = 1;
    }
    *state = st;
    return OMNI_OK;
}

static void lc_state_free(void *state)
{
    if (state)
        OPENSSL_cleanse(state, sizeof(lc_state));
    free(state);
}

static int lc_verify(const omni__carrier_req *r)
{
    if (omni__carrier_verify_off(r))
        return OMNI_OK;
    const lc_state *st = r->state;
    if (!st || !st->configured)
        return omni__carrier_bad_signature(LC, "no secret key configured");
    /* The key is inside the body: parse it (strictly, shared with parse)
     * and look at nothing but secret_key until it matched. */
    const cJSON *root = NULL;
    int rc = omni__carrier_json(r, LC, &root);
    if (rc)
        return rc;
    const char *got = cJSON_IsObject(root) ? omni__json_str(root, "secret_key") : NULL;
    if (!got)
        return omni__carrier_bad_signature(LC, "the webhook has no secret_key");
    uint8_t d[32];
    if (omni__sha256(d, got, strlen(got)) != OMNI_OK || !omni_ct_equal(d, st->key, sizeof(d)))
        return omni__carrier_bad_signature(LC, "wrong secret_key");
    return OMNI_OK;
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct lc_ctx {
    const omni__carrier_req *r;
    omni__events *ev;
    const cJSON *root; /* rawPayload (without secret_key) */
    const char *business_id;
    const char *chat_id;
    const cJSON *users; /* incoming_chat: the chat's users, else NULL */
} lc_ctx;

static int is_content_event(const char *type)
{
    return strcmp(type, "message") == 0 || strcmp(type, "file") == 0;
}

/* Checks an Event object; OMNI_OK or OMNI_EWEBHOOK. */
static int check_event(const cJSON *e)
{
    if (!cJSON_IsObject(e))
        return omni__carrier_malformed(LC, "an event is not an object");
    const char *id = omni__json_str(e, "id");
    const char *type = omni__json_str(e, "type");
    if (!id || !*id || !type)
        return omni__carrier_malformed(LC, "an event has no \"id\" or \"type\"");
    if (!is_content_event(type))
        return OMNI_OK;
    if (!omni__json_str(e, "author_id"))
        return omni__carrier_malformed(LC, "a message event has no \"author_id\"");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(e, "text");
    if (text && !cJSON_IsString(text))
        return omni__carrier_malformed(LC, "an event's \"text\" is not a string");
    if (strcmp(type, "file") == 0 && !omni__json_str(e, "url"))
        return omni__carrier_malformed(LC, "a file event has no \"url\"");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "created_at");
    if (ts && !cJSON_IsString(ts))
        return omni__carrier_malformed(LC, "an event's \"created_at\" is not a string");
    return OMNI_OK;
}

/* The user object with this id in the chat's users, or NULL. */
static const cJSON *find_user(const cJSON *users, const char *id)
{
    const cJSON *u;
    cJSON_ArrayForEach(u, users)
    {
        const char *uid = omni__json_str(u, "id");
        if (uid && strcmp(uid, id) == 0)
            return u;
    }
    return NULL;
}

static int emit_event(const lc_ctx *c, const cJSON *e, const cJSON *user)
{
    const char *type = omni__json_str(e, "type");
    omni__message msg;
    memset(&msg, 0, sizeof(msg));
    msg.channel_type = "chat";
    msg.message_id = omni__json_str(e, "id");
    msg.sender_session_id = c->chat_id;
    msg.sender_user_id = omni__json_str(e, "author_id");
    if (user) {
        const char *email = omni__json_str(user, "email");
        const char *name = omni__json_str(user, "name");
        msg.sender_email = email && *email ? email : NULL;
        msg.sender_name = name && *name ? name : NULL;
    }
    msg.recipient_business_id = c->business_id;
    omni__media media;
    memset(&media, 0, sizeof(media));
    if (strcmp(type, "file") == 0) {
        media.url = omni__json_str(e, "url");
        media.content_type = omni__json_str(e, "content_type");
        media.filename = omni__json_str(e, "name");
        media.caption = omni__json_str(e, "alternative_text");
        msg.media = &media;
        msg.media_count = 1;
        msg.content_type = "media";
        msg.content = media.caption ? media.caption : "";
    } else {
        const char *text = omni__json_str(e, "text");
        msg.content_type = "text";
        msg.content = text ? text : "";
    }
    const char *ts = omni__json_str(e, "created_at");
    int64_t ms;
    msg.timestamp_ms =
        ts && omni_time_parse(&ms, ts, strlen(ts)) == OMNI_OK ? ms : c->r->now_ms;
    return omni__event_message(c->ev, c->r, &msg, c->root);
}

static int incoming_chat(lc_ctx *c, const cJSON *payload)
{
    const cJSON *chat = cJSON_GetObjectItemCaseSensitive(payload, "chat");
    c->chat_id = cJSON_IsObject(chat) ? omni__json_str(chat, "id") : NULL;
    if (!c->chat_id || !*c->chat_id)
        return omni__carrier_malformed(LC, "incoming_chat has no chat with an \"id\"");
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(chat, "users");
    if (users && !cJSON_IsArray(users))
        return omni__carrier_malformed(LC, "chat.users is not an array");
    c->users = users;
    const cJSON *thread = cJSON_GetObjectItemCaseSensitive(chat, "thread");
    if (thread && !cJSON_IsObject(thread))
        return omni__carrier_malformed(LC, "chat.thread is not an object");
    const cJSON *events = thread ? cJSON_GetObjectItemCaseSensitive(thread, "events") : NULL;
    if (events && !cJSON_IsArray(events))
        return omni__carrier_malformed(LC, "chat.thread.events is not an array");
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        int rc = check_event(e);
        if (rc)
            return rc;
    }
    cJSON_ArrayForEach(e, events)
    {
        if (!is_content_event(omni__json_str(e, "type")))
            continue;
        const cJSON *user = find_user(users, omni__json_str(e, "author_id"));
        const char *utype = user ? omni__json_str(user, "type") : NULL;
        if (!utype || strcmp(utype, "customer") != 0)
            continue; /* agents' and bots' messages are not inbound */
        int rc = emit_event(c, e, user);
        if (rc)
            return rc;
    }
    return OMNI_OK;
}

static int incoming_event(lc_ctx *c, const cJSON *payload)
{
    c->chat_id = omni__json_str(payload, "chat_id");
    if (!c->chat_id || !*c->chat_id)
        return omni__carrier_malformed(LC, "incoming_event has no \"chat_id\"");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(payload, "event");
    int rc = check_event(e);
    if (rc)
        return rc;
    if (!is_content_event(omni__json_str(e, "type")))
        return OMNI_OK;
    if (strchr(omni__json_str(e, "author_id"), '@'))
        return OMNI_OK; /* an agent's login: not an inbound message */
    return emit_event(c, e, NULL);
}

/* The rawPayload: the body's top-level members except secret_key, as
 * references into the parsed body (nothing is copied). */
static cJSON *raw_without_secret(const cJSON *root)
{
    cJSON *raw = cJSON_CreateObject();
    if (!raw)
        return NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (strcmp(it->string, "secret_key") == 0)
            continue;
        if (!cJSON_AddItemReferenceToObject(raw, it->string, (cJSON *)it)) {
            cJSON_Delete(raw);
            return NULL;
        }
    }
    return raw;
}

static int lc_parse(const omni__carrier_req *r, omni__events *ev)
{
    const cJSON *root = NULL;
    int rc = omni__carrier_json(r, LC, &root);
    if (rc)
        return rc;
    if (!cJSON_IsObject(root))
        return omni__carrier_malformed(LC, "the body is not a JSON object");
    const char *action = omni__json_str(root, "action");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
    if (!action)
        return omni__carrier_malformed(LC, "the webhook has no \"action\"");
    if (!cJSON_IsObject(payload))
        return omni__carrier_malformed(LC, "the webhook has no \"payload\" object");
    int chat = strcmp(action, "incoming_chat") == 0;
    if (!chat && strcmp(action, "incoming_event") != 0)
        return OMNI_OK; /* chat_deactivated and the other actions: no event */

    lc_ctx c;
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.ev = ev;
    char license[32];
    c.business_id = omni__json_str(root, "organization_id");
    if (!c.business_id &&
        omni__json_id(cJSON_GetObjectItemCaseSensitive(root, "license_id"), license,
                      sizeof(license)) == OMNI_OK)
        c.business_id = license;
    /* The shared secret never reaches an event. */
    cJSON *raw = raw_without_secret(root);
    if (!raw)
        return omni__err(OMNI_ENOMEM, NULL);
    c.root = raw;
    rc = chat ? incoming_chat(&c, payload) : incoming_event(&c, payload);
    cJSON_Delete(raw);
    return rc;
}

const omni__carrier omni__carrier_livechat = {LC, lc_verify, lc_parse, lc_compile,
                                              lc_state_free};
