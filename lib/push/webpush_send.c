/* Push adapter "web" (configuration key "webpush"): one message -> the Web Push
 * request of RFC 8030 with an RFC 8291 encrypted body and an RFC 8292 VAPID
 * Authorization, and the push service's answer -> a result.
 *
 * Configuration: {"vapidPrivateKey": SECRET (base64url of the 32-byte P-256
 * key; its public key is derived once, here), "subject": "mailto:..." |
 * "https://..." (at most 1024 bytes), "vapidExpiresSeconds"?: 1..86400
 * (default 43200, RFC 8292 section 2: at most 24 hours)}. Other members are
 * refused.
 *
 * Message members used:
 *   subscription (required): {"endpoint": https URL (http only to a loopback
 *     host, for tests), "expirationTime"?: null | number (ignored), "keys":
 *     {"p256dh": base64url of the 65-byte uncompressed P-256 point, "auth":
 *     base64url of 16 bytes}} as PushSubscription.toJSON() gives it; other
 *     members are refused. "token", when given, must equal the endpoint.
 *   payload: "title" (required string), "body"?, "image"?, "sound"? (strings),
 *     "badge"? (string: a badge image URL; number: a count, passed as it is),
 *     "clickAction"? (string), "data"? (object), "actions"? (array of at most
 *     10 {"id", "title", "url"?} strings). subtitle, category and threadId
 *     have no Web Push meaning and are not sent.
 *   options: "ttl" (0..2419200, default 2419200 = 4 weeks), "urgency"
 *     (very-low|low|normal|high), "priority" (low|normal|high|critical),
 *     "webTopic" (1..32 of the base64url alphabet), "collapseKey" (1..64
 *     bytes). Other options are the other platforms' and are not used; so are
 *     the message's "apns", "android" and "webpush" members (FCM/APNs
 *     overrides).
 *
 * Request (RFC 8030 section 5):
 *   POST <endpoint>
 *   TTL: <options.ttl>                          (section 5.2; 0 allowed)
 *   Urgency: <options.urgency>, else from priority: critical|high -> high,
 *            normal (the default) -> normal, low -> low     (section 5.3)
 *   Topic: <options.webTopic>                   (section 5.4; only when given)
 *   Content-Encoding: aes128gcm                 (RFC 8291 section 4)
 *   Content-Type: application/octet-stream
 *   Authorization: vapid t=<JWT>, k=<public key>  (RFC 8292 section 3; the JWT
 *            is ES256 {"aud": the endpoint's origin, "exp": now +
 *            vapidExpiresSeconds, "sub": subject})
 *   body: omni_webpush_encrypt (one 4096-byte record, fresh salt and key pair)
 *         of the notification JSON the service worker receives
 *         (event.data.json()), members in this order, absent ones left out:
 *     {"title", "body"?, "image"?, "badge"?, "sound"?, "tag"? (options.
 *      collapseKey: a notification with the same tag replaces the previous
 *      one), "url"? (payload.clickAction), "data"? (payload.data as given),
 *      "actions"? ([{"action": id, "title", "url"?}], the NotificationAction
 *      shape of showNotification plus the url to open)}
 *   A notification JSON over OMNI_WEBPUSH_MAX_PLAINTEXT (3993) bytes is
 *   OMNI_ETOOLARGE before anything is encrypted.
 *
 * VAPID header cache: one header per endpoint origin (scheme://authority as
 * written, lower-cased), reused until half its lifetime has passed (or the
 * clock went back before it was made), at most 64 origins (the oldest is
 * replaced); guarded by the state's mutex, signing happens outside it.
 *
 * Response (RFC 8030 sections 5 and 7): 201 Created (also 200, 202): sent,
 * messageId = the Location header (the push message resource) when present.
 *   404 Not Found, 410 Gone (subscription expired)   INVALID_TOKEN, invalidToken
 *   413 Payload Too Large                            PAYLOAD_TOO_LARGE
 *   429 Too Many Requests                            RATE_LIMITED, retryable
 *   400 (and other 4xx)                              INVALID_REQUEST
 *   401, 403 (VAPID refused)                         AUTH_FAILED
 *   5xx                                              PROVIDER_UNAVAILABLE, retryable
 *   anything else                                    PROVIDER_ERROR
 * providerCode is "<status> <reason phrase>" (e.g. "410 Gone", the reason
 * omni_device_remove gets); Retry-After (seconds or HTTP-date) becomes
 * retryAfterMs on retryable errors. The error message carries the service's
 * JSON "message" (or "error") string when the body is such an object
 * (Mozilla autopush answers so), cleaned and cut to 200 bytes; other bodies
 * are not quoted.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <omni/omni.h>
#include <omni/push.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound/outbound_internal.h"
#include "push_internal.h"

#define PLATFORM "web"
#define SUBJECT_MAX 1024
#define ENDPOINT_MAX 8192
#define ORIGIN_MAX 300
#define CACHE_SLOTS 64
#define TTL_DEFAULT 2419200
#define TTL_MAX 2419200
#define ACTIONS_MAX 10
#define COLLAPSE_MAX 64

typedef struct vapid_slot {
    char *origin; /* NULL: free */
    char *header;
    int64_t made_ms;
} vapid_slot;

typedef struct web_state {
    uint8_t priv[32];
    uint8_t pub[65];
    char *subject;
    uint32_t expires_s;
    pthread_mutex_t mu;
    vapid_slot cache[CACHE_SLOTS];
} web_state;

static void st_free(void *p)
{
    web_state *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        free(s->cache[i].origin);
        if (s->cache[i].header) {
            OPENSSL_cleanse(s->cache[i].header, strlen(s->cache[i].header));
            free(s->cache[i].header);
        }
    }
    free(s->subject);
    OPENSSL_cleanse(s->priv, sizeof(s->priv));
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int prefix_ci(const char *s, const char *p)
{
    for (; *p; s++, p++)
        if ((*s >= 'A' && *s <= 'Z' ? *s + 32 : *s) != *p)
            return 0;
    return 1;
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    static const char *const known[] = {"vapidPrivateKey", "subject", "vapidExpiresSeconds"};
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], it->string) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__ob_config_error(path, it->string, "is not a webpush setting");
    }
    web_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, "push: out of memory");
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return omni__err(OMNI_ENOMEM, "push: cannot create a mutex");
    }
    char *key = NULL;
    int rc = omni__ob_secret(&key, c, path, "vapidPrivateKey", 1);
    if (!rc) {
        uint8_t raw[48];
        size_t n = 0, klen = strlen(key);
        if (klen > 64 || omni__base64_decode_into(raw, sizeof(raw), &n, key, klen, 1) ||
            n != 32)
            rc = omni__ob_config_error(path, "vapidPrivateKey",
                                       "must be the base64url of a 32-byte P-256 private key");
        else
            memcpy(s->priv, raw, 32);
        OPENSSL_cleanse(raw, sizeof(raw));
        omni__ob_secret_free(key);
    }
    if (!rc) {
        EVP_PKEY *pk = NULL;
        if (omni__p256_pkey_from_private(&pk, s->pub, s->priv))
            rc = omni__ob_config_error(path, "vapidPrivateKey",
                                       "is not a valid P-256 private key");
        EVP_PKEY_free(pk);
    }
    if (!rc)
        rc = omni__ob_string(&s->subject, c, path, "subject", 1, SUBJECT_MAX);
    if (!rc) {
        size_t n = strlen(s->subject);
        int ok = (n > 7 && prefix_ci(s->subject, "mailto:")) ||
                 (n > 8 && prefix_ci(s->subject, "https://"));
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)s->subject[i] > 0x20 && (unsigned char)s->subject[i] < 0x7f;
        if (!ok)
            rc = omni__ob_config_error(path, "subject",
                                       "must be a mailto: or https:// URI (RFC 8292 2.1)");
    }
    s->expires_s = 43200;
    if (!rc && cJSON_GetObjectItemCaseSensitive(c, "vapidExpiresSeconds")) {
        int64_t v = 0;
        if (omni__json_int(c, "vapidExpiresSeconds", &v) || v < 1 || v > 86400)
            rc = omni__ob_config_error(path, "vapidExpiresSeconds",
                                       "must be an integer 1..86400 (at most 24 hours)");
        else
            s->expires_s = (uint32_t)v;
    }
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- build ---------------------------------------------------------------------- */

/* The cache key of an endpoint: lower-cased "scheme://authority". */
static int origin_of(char *out, size_t cap, const char *endpoint)
{
    size_t skip;
    if (prefix_ci(endpoint, "https://"))
        skip = 8;
    else if (prefix_ci(endpoint, "http://"))
        skip = 7;
    else
        return -1;
    size_t alen = strcspn(endpoint + skip, "/?#");
    if (alen == 0 || skip + alen + 1 > cap)
        return -1;
    for (size_t i = 0; i < skip + alen; i++) {
        char ch = endpoint[i];
        out[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    out[skip + alen] = '\0';
    return 0;
}

/* A VAPID header for endpoint (a malloc'd copy), from the cache or signed. */
static int vapid_header(char **out, web_state *s, const char *endpoint, int64_t now_ms)
{
    char origin[ORIGIN_MAX];
    if (origin_of(origin, sizeof(origin), endpoint))
        return omni__push_msg_error(PLATFORM, "subscription.endpoint",
                                    "must be an https URL with a host");
    int64_t half_ms = (int64_t)s->expires_s * 500;
    *out = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        vapid_slot *v = &s->cache[i];
        if (v->origin && strcmp(v->origin, origin) == 0) {
            if (now_ms >= v->made_ms && now_ms - v->made_ms < half_ms)
                *out = strdup(v->header);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (*out)
        return OMNI_OK;

    char *hdr = NULL;
    int rc = omni_webpush_vapid(&hdr, NULL, endpoint, s->subject, s->priv, now_ms, s->expires_s);
    if (rc == OMNI_EINVAL)
        return omni__push_msg_error(PLATFORM, "subscription.endpoint",
                                    "must be an https URL (http only to a loopback host) "
                                    "without user information");
    if (rc)
        return rc;
    char *copy = strdup(hdr);
    char *key = strdup(origin);
    if (!copy || !key) {
        free(copy);
        free(key);
        omni_free(hdr);
        return omni__err(OMNI_ENOMEM, "push web: out of memory");
    }
    pthread_mutex_lock(&s->mu);
    size_t pick = CACHE_SLOTS;
    for (size_t i = 0; i < CACHE_SLOTS && pick == CACHE_SLOTS; i++)
        if (s->cache[i].origin && strcmp(s->cache[i].origin, origin) == 0)
            pick = i;
    for (size_t i = 0; i < CACHE_SLOTS && pick == CACHE_SLOTS; i++)
        if (!s->cache[i].origin)
            pick = i;
    if (pick == CACHE_SLOTS) {
        pick = 0;
        for (size_t i = 1; i < CACHE_SLOTS; i++)
            if (s->cache[i].made_ms < s->cache[pick].made_ms)
                pick = i;
    }
    vapid_slot *v = &s->cache[pick];
    free(v->origin);
    if (v->header) {
        OPENSSL_cleanse(v->header, strlen(v->header));
        free(v->header);
    }
    v->origin = key;
    v->header = copy;
    v->made_ms = now_ms;
    pthread_mutex_unlock(&s->mu);
    *out = strdup(hdr);
    OPENSSL_cleanse(hdr, strlen(hdr));
    omni_free(hdr);
    return *out ? OMNI_OK : omni__err(OMNI_ENOMEM, "push web: out of memory");
}

/* Decodes a base64url member of subscription.keys into exactly n bytes. */
static int key_member(uint8_t *out, size_t n, const cJSON *keys, const char *name,
                      const char *why)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(keys, name);
    char member[32];
    snprintf(member, sizeof(member), "subscription.keys.%s", name);
    uint8_t buf[96];
    size_t got = 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) > 100 ||
        omni__base64_decode_into(buf, sizeof(buf), &got, v->valuestring,
                                 strlen(v->valuestring), 1) ||
        got != n)
        return omni__push_msg_error(PLATFORM, member, why);
    memcpy(out, buf, n);
    return OMNI_OK;
}

static int only_members(const cJSON *obj, const char *const *names, size_t n, const char *where)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        size_t i = 0;
        while (i < n && strcmp(names[i], it->string) != 0)
            i++;
        if (i == n) {
            char member[96];
            snprintf(member, sizeof(member), "%s.%.48s", where, it->string);
            return omni__push_msg_error(PLATFORM, member, "is not a known member");
        }
    }
    return OMNI_OK;
}

typedef struct web_sub {
    const char *endpoint;
    uint8_t p256dh[65];
    uint8_t auth[16];
} web_sub;

static int read_subscription(web_sub *w, const omni__push_msg *m)
{
    static const char *const sub_names[] = {"endpoint", "expirationTime", "keys"};
    static const char *const key_names[] = {"p256dh", "auth"};
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(m->root, "subscription");
    if (!cJSON_IsObject(sub))
        return omni__push_msg_error(PLATFORM, "subscription",
                                    "is required: {\"endpoint\", \"keys\": {\"p256dh\", "
                                    "\"auth\"}}");
    int rc = only_members(sub, sub_names, 3, "subscription");
    if (rc)
        return rc;
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(sub, "endpoint");
    if (!cJSON_IsString(ep) || !ep->valuestring[0] || strlen(ep->valuestring) > ENDPOINT_MAX)
        return omni__push_msg_error(PLATFORM, "subscription.endpoint",
                                    "must be a URL string of 1..8192 bytes");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(sub, "expirationTime");
    if (exp && !cJSON_IsNull(exp) && !cJSON_IsNumber(exp))
        return omni__push_msg_error(PLATFORM, "subscription.expirationTime",
                                    "must be null or a number");
    if (m->token && strcmp(m->token, ep->valuestring) != 0)
        return omni__push_msg_error(PLATFORM, "token", "must equal subscription.endpoint");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(sub, "keys");
    if (!cJSON_IsObject(keys))
        return omni__push_msg_error(PLATFORM, "subscription.keys",
                                    "must be an object {\"p256dh\", \"auth\"}");
    if ((rc = only_members(keys, key_names, 2, "subscription.keys")))
        return rc;
    if ((rc = key_member(w->p256dh, 65, keys, "p256dh",
                         "must be the base64url of a 65-byte uncompressed P-256 point")))
        return rc;
    if (w->p256dh[0] != 0x04)
        return omni__push_msg_error(PLATFORM, "subscription.keys.p256dh",
                                    "must be an uncompressed P-256 point (0x04 first)");
    if ((rc = key_member(w->auth, 16, keys, "auth", "must be the base64url of 16 bytes")))
        return rc;
    w->endpoint = ep->valuestring;
    return OMNI_OK;
}

typedef struct web_opts {
    int64_t ttl;
    const char *urgency;
    const char *topic;
    const char *tag;
} web_opts;

static int read_options(web_opts *o, const omni__push_msg *m)
{
    static const char *const urgencies[] = {"very-low", "low", "normal", "high"};
    o->ttl = TTL_DEFAULT;
    o->urgency = "normal";
    o->topic = o->tag = NULL;
    const cJSON *op = m->options;
    if (!op)
        return OMNI_OK;
    if (cJSON_GetObjectItemCaseSensitive(op, "ttl") &&
        (omni__json_int(op, "ttl", &o->ttl) || o->ttl < 0 || o->ttl > TTL_MAX))
        return omni__push_msg_error(PLATFORM, "options.ttl",
                                    "must be an integer 0..2419200 (seconds)");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(op, "priority");
    if (pr) {
        const char *p = cJSON_IsString(pr) ? pr->valuestring : "";
        if (!strcmp(p, "critical") || !strcmp(p, "high"))
            o->urgency = "high";
        else if (!strcmp(p, "normal") || !strcmp(p, "low"))
            o->urgency = p[0] == 'n' ? "normal" : "low";
        else
            return omni__push_msg_error(PLATFORM, "options.priority",
                                        "must be \"low\", \"normal\", \"high\" or \"critical\"");
    }
    const cJSON *ur = cJSON_GetObjectItemCaseSensitive(op, "urgency");
    if (ur) {
        size_t i = 0;
        while (cJSON_IsString(ur) && i < 4 && strcmp(urgencies[i], ur->valuestring) != 0)
            i++;
        if (!cJSON_IsString(ur) || i == 4)
            return omni__push_msg_error(PLATFORM, "options.urgency",
                                        "must be \"very-low\", \"low\", \"normal\" or \"high\"");
        o->urgency = urgencies[i];
    }
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(op, "webTopic");
    if (tp) {
        const char *t = cJSON_IsString(tp) ? tp->valuestring : "";
        size_t n = strlen(t);
        if (n == 0 || n > 32 ||
            strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != n)
            return omni__push_msg_error(PLATFORM, "options.webTopic",
                                        "must be 1..32 characters of the base64url alphabet "
                                        "(RFC 8030 5.4)");
        o->topic = t;
    }
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(op, "collapseKey");
    if (ck) {
        if (!cJSON_IsString(ck) || !ck->valuestring[0] ||
            strlen(ck->valuestring) > COLLAPSE_MAX)
            return omni__push_msg_error(PLATFORM, "options.collapseKey",
                                        "must be a string of 1..64 bytes");
        o->tag = ck->valuestring;
    }
    return OMNI_OK;
}

/* An optional string member of the payload, written under `key` when present. */
static int put_str(omni_buf *b, const cJSON *payload, const char *name, const char *key,
                   int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, name);
    char member[48];
    snprintf(member, sizeof(member), "payload.%s", name);
    if (!v)
        return required ? omni__push_msg_error(PLATFORM, member, "is required") : OMNI_OK;
    if (!cJSON_IsString(v))
        return omni__push_msg_error(PLATFORM, member, "must be a string");
    omni__json_w_key(b, key);
    omni__json_w_str(b, v->valuestring);
    return OMNI_OK;
}

static int put_actions(omni_buf *b, const cJSON *actions)
{
    if (!cJSON_IsArray(actions) || cJSON_GetArraySize(actions) > ACTIONS_MAX)
        return omni__push_msg_error(PLATFORM, "payload.actions",
                                    "must be an array of at most 10 {\"id\", \"title\", "
                                    "\"url\"?}");
    omni__json_w_key(b, "actions");
    omni__json_w_arr_begin(b);
    const cJSON *a;
    cJSON_ArrayForEach(a, actions)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(a, "title");
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(a, "url");
        if (!cJSON_IsObject(a) || !cJSON_IsString(id) || !id->valuestring[0] ||
            !cJSON_IsString(title) || (url && !cJSON_IsString(url)))
            return omni__push_msg_error(PLATFORM, "payload.actions",
                                        "items must be {\"id\", \"title\", \"url\"?} with "
                                        "string values");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "action");
        omni__json_w_str(b, id->valuestring);
        omni__json_w_keyl(b, "title");
        omni__json_w_str(b, title->valuestring);
        if (url) {
            omni__json_w_keyl(b, "url");
            omni__json_w_str(b, url->valuestring);
        }
        omni__json_w_obj_end(b);
    }
    omni__json_w_arr_end(b);
    return OMNI_OK;
}

/* The notification JSON the service worker receives (see the top). */
static int notification_json(omni_buf *b, const omni__push_msg *m, const web_opts *o)
{
    const cJSON *p = m->payload;
    omni__json_w_obj_begin(b);
    int rc = put_str(b, p, "title", "title", 1);
    if (!rc)
        rc = put_str(b, p, "body", "body", 0);
    if (!rc)
        rc = put_str(b, p, "image", "image", 0);
    const cJSON *badge = cJSON_GetObjectItemCaseSensitive(p, "badge");
    if (!rc && badge) {
        if (cJSON_IsString(badge) || cJSON_IsNumber(badge)) {
            omni__json_w_keyl(b, "badge");
            omni__json_w_item(b, badge);
        } else {
            rc = omni__push_msg_error(PLATFORM, "payload.badge", "must be a string or a number");
        }
    }
    if (!rc)
        rc = put_str(b, p, "sound", "sound", 0);
    if (!rc && o->tag) {
        omni__json_w_keyl(b, "tag");
        omni__json_w_str(b, o->tag);
    }
    if (!rc)
        rc = put_str(b, p, "clickAction", "url", 0);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(p, "data");
    if (!rc && data) {
        if (cJSON_IsObject(data)) {
            omni__json_w_keyl(b, "data");
            omni__json_w_item(b, data);
        } else {
            rc = omni__push_msg_error(PLATFORM, "payload.data", "must be an object");
        }
    }
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(p, "actions");
    if (!rc && actions)
        rc = put_actions(b, actions);
    omni__json_w_obj_end(b);
    return rc ? rc : omni__buf_status(b);
}

static int build(omni_http_request **out, void *state, const omni__push_msg *m, int64_t now_ms)
{
    web_state *s = state;
    web_sub w;
    web_opts o;
    int rc = read_subscription(&w, m);
    if (!rc)
        rc = read_options(&o, m);
    if (rc)
        return rc;
    omni_buf json = OMNI_BUF_INIT;
    rc = notification_json(&json, m, &o);
    if (rc == OMNI_ENOMEM || (!rc && json.len > OMNI_WEBPUSH_MAX_PLAINTEXT)) {
        if (rc)
            rc = omni__err(OMNI_ENOMEM, "push web: out of memory");
        else
            rc = omni__err(OMNI_ETOOLARGE,
                           "push web: the notification JSON is %zu bytes, over the %u a Web "
                           "Push message holds",
                           json.len, OMNI_WEBPUSH_MAX_PLAINTEXT);
    }
    if (rc) {
        omni__buf_free(&json);
        return rc;
    }
    uint8_t *body = NULL;
    size_t body_len = 0;
    char *auth = NULL;
    omni_http_request *req = NULL;
    rc = omni_webpush_encrypt(&body, &body_len, (const uint8_t *)json.data, json.len, w.p256dh,
                              w.auth, NULL, NULL, 0);
    if (rc == OMNI_EKEY)
        rc = omni__err(OMNI_EKEY, "push web: subscription.keys.p256dh is not a point on P-256");
    if (!rc && (rc = omni_http_request_new(&req, "POST", w.endpoint)) == OMNI_EINVAL)
        rc = omni__push_msg_error(PLATFORM, "subscription.endpoint",
                                  "is not a valid URL (printable ASCII only)");
    if (!rc)
        rc = vapid_header(&auth, s, w.endpoint, now_ms);
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%lld", (long long)o.ttl);
    if (!rc)
        rc = omni_http_request_add_header(req, "TTL", ttl);
    if (!rc)
        rc = omni_http_request_add_header(req, "Urgency", o.urgency);
    if (!rc && o.topic)
        rc = omni_http_request_add_header(req, "Topic", o.topic);
    if (!rc)
        rc = omni_http_request_add_header(req, "Content-Encoding", "aes128gcm");
    if (!rc)
        rc = omni_http_request_add_header(req, "Content-Type", "application/octet-stream");
    if (!rc)
        rc = omni_http_request_add_header(req, "Authorization", auth);
    if (!rc)
        rc = omni_http_request_set_body(req, body, body_len);
    if (json.data)
        OPENSSL_cleanse(json.data, json.len);
    omni__buf_free(&json);
    omni_free(body);
    if (auth) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }
    if (rc) {
        omni_http_request_free(req);
        return rc;
    }
    *out = req;
    return OMNI_OK;
}

/* ---- parse ---------------------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return NULL;
    }
}

static int parse(omni_buf *out, void *state, const omni_http_response *resp, int64_t now_ms)
{
    (void)state;
    int status = omni_http_response_status(resp);
    if (status == 200 || status == 201 || status == 202) {
        const char *loc = omni_http_response_header(resp, "Location");
        char id[1024];
        if (loc && loc[0])
            omni__ob_clean_text(id, sizeof(id), loc, strlen(loc));
        omni__push_result_ok(out, PLATFORM, loc && loc[0] ? id : NULL);
        return omni__buf_status(out);
    }
    const char *code = "PROVIDER_ERROR";
    int retryable = 0, invalid = 0;
    if (status == 404 || status == 410) {
        code = "INVALID_TOKEN";
        invalid = 1;
    } else if (status == 413) {
        code = "PAYLOAD_TOO_LARGE";
    } else if (status == 429) {
        code = "RATE_LIMITED";
        retryable = 1;
    } else if (status == 401 || status == 403) {
        code = "AUTH_FAILED";
    } else if (status >= 500 && status <= 599) {
        code = "PROVIDER_UNAVAILABLE";
        retryable = 1;
    } else if (status >= 400 && status <= 499) {
        code = "INVALID_REQUEST";
    }
    char provider[48];
    const char *phrase = reason_phrase(status);
    if (phrase)
        snprintf(provider, sizeof(provider), "%d %s", status, phrase);
    else
        snprintf(provider, sizeof(provider), "%d", status);

    char detail[208] = "";
    cJSON *j = omni__ob_body_json(resp);
    if (cJSON_IsObject(j)) {
        const char *t = omni__json_str(j, "message");
        if (!t)
            t = omni__json_str(j, "error");
        if (t)
            omni__ob_clean_text(detail, 201, t, strlen(t));
    }
    cJSON_Delete(j);
    char msg[320];
    snprintf(msg, sizeof(msg), "the push service answered %s%s%s", provider,
             detail[0] ? ": " : "", detail);
    int64_t retry = retryable ? omni__ob_retry_after(resp, now_ms) : -1;
    omni__push_result_error(out, PLATFORM, code, provider, msg, retryable, invalid, retry);
    return omni__buf_status(out);
}

const omni__push_adapter omni__push_web = {"web", "webpush", cfg, st_free, build, parse, 1};
