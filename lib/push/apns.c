/* Push adapter "ios" (configuration key "apns"): one device's message -> the
 * APNs provider API request, and APNs's response -> a result.
 *
 * Provider facts used (Apple developer documentation: "Sending notification
 * requests to APNs", "Handling notification responses from APNs",
 * "Establishing a token-based connection to APNs", "Generating a remote
 * notification"):
 *  - POST {base}/3/device/{device token} over HTTP/2; base
 *    https://api.push.apple.com (production, the default) or
 *    https://api.sandbox.push.apple.com ("environment": "sandbox"); "baseUrl"
 *    replaces both (tests).
 *  - Token-based authentication: "authorization: bearer <JWT>", the JWT signed
 *    ES256 with the .p8 key, header {"alg":"ES256","typ":"JWT","kid":keyId}
 *    (Apple requires alg and kid; the JOSE "typ" omni's JWT signer always
 *    writes is harmless), claims {"iss":teamId,"iat":seconds}. APNs accepts a token for an hour and
 *    refuses refreshes more often than every 20 minutes
 *    (TooManyProviderTokenUpdates).
 *  - The payload is at most 4096 bytes, 5120 for VoIP pushes.
 *  - apns-collapse-id at most 64 bytes; apns-expiration a UNIX time in
 *    seconds, 0 = deliver once or never store; apns-priority 10 (immediately)
 *    or 5 (power considerations; required for background pushes).
 *  - apns-topic is the bundle id, with a suffix for some push types: voip
 *    ".voip", complication ".complication", fileprovider
 *    ".pushkit.fileprovider", location ".location-query", liveactivity
 *    ".push-type.liveactivity", pushtotalk ".voip-ptt".
 *  - The response: 200 with an apns-id header on success; otherwise a JSON
 *    body {"reason": "...", "timestamp"?} (reasons table below).
 *
 * Request, from the message (include/omni/push.h):
 *   POST {base}/3/device/{token}      token: 64..200 hex digits, an even count
 *   authorization: bearer <cached provider token (below)>
 *   apns-topic: options.topic or the configured topic, + the push type's suffix
 *               (unless the topic already ends with it)
 *   apns-push-type: options.pushType (alert, background, voip, location,
 *               complication, fileprovider, mdm, liveactivity, pushtotalk);
 *               default "background" when options.contentAvailable is true and
 *               there is no title, subtitle or body, else "alert"
 *   apns-priority: 5 for background pushes and for priority low/normal, else 10
 *               (high, critical, or no priority: APNs's own default)
 *   apns-expiration: now (seconds) + options.ttl, when ttl (0..2592000) is given
 *               (ttl 0 gives "0": APNs does not store the notification)
 *   apns-collapse-id: options.collapseKey (1..64 bytes)
 *   content-type: application/json
 *   then message.apns.headers (an object) replaces or adds apns-topic,
 *   apns-push-type, apns-priority ("5", "10" or "1"), apns-expiration,
 *   apns-collapse-id and apns-id (strings of 1..255 printable ASCII bytes, or
 *   integers); other names are refused.
 * Body:
 *   {"aps": {"alert": {"title", "subtitle", "body"} (those given; absent when
 *            none is),
 *            "badge": payload.badge (integer 0..2^31-1),
 *            "sound": payload.sound, or for priority "critical" the critical
 *                     alert dictionary {"critical":1,"name":sound or "default",
 *                     "volume":1} (the app needs Apple's entitlement),
 *            "thread-id": payload.threadId,
 *            "category": payload.category, else payload.clickAction,
 *            "mutable-content": 1 when payload.image or options.mutableContent,
 *            "content-available": 1 when options.contentAvailable},
 *    "image-url": payload.image (a Notification Service Extension fetches it;
 *                 that is why mutable-content is set),
 *    ...payload.data's members at the top level, values as given}
 *   then message.apns.payload (an object) is merged in: objects merge member by
 *   member, null removes a member, anything else replaces it.
 *   iOS cannot define action buttons per notification: they belong to a
 *   category the app registers (UNNotificationCategory). payload.actions are
 *   therefore not sent; with payload.category (or clickAction) the category
 *   selects the app's buttons, without one the actions are dropped.
 *   data may not hold "aps", nor "image-url" when payload.image is given.
 *   The body over 4096 bytes (5120 for voip) is OMNI_ETOOLARGE.
 *
 * Provider token cache (one per configuration, guarded by its mutex): the JWT
 * is reused until it is 20 minutes old, then signed again (iat = now). A
 * response ExpiredProviderToken marks it stale, so the next build signs a
 * new one; but never within 60 seconds of the previous signing: until then
 * the previous token is used. A clock going back before the signing time
 * signs a new one.
 *
 * Response -> result:
 *   2xx                                              success, messageId = apns-id
 *   410 Unregistered, 400 BadDeviceToken, 400 DeviceTokenNotForTopic
 *                                                    INVALID_TOKEN, invalidToken
 *   413 PayloadTooLarge                              PAYLOAD_TOO_LARGE
 *   403 ExpiredProviderToken                         TOKEN_EXPIRED, retryable
 *                                                    (the cached token is dropped)
 *   403 InvalidProviderToken, MissingProviderToken, BadCertificate,
 *       BadCertificateEnvironment, Forbidden         AUTH_FAILED
 *   429 TooManyProviderTokenUpdates, TooManyRequests RATE_LIMITED, retryable
 *   500 InternalServerError, 503 ServiceUnavailable, Shutdown
 *                                                    PROVIDER_UNAVAILABLE, retryable
 *   400 other reasons (BadCollapseId, BadExpirationDate, BadMessageId,
 *       BadPriority, BadTopic, DuplicateHeaders, IdleTimeout, InvalidPushType,
 *       MissingDeviceToken, MissingTopic, PayloadEmpty, TopicDisallowed),
 *       404 BadPath, 405 MethodNotAllowed            INVALID_REQUEST
 *   an unknown reason: by status (410 INVALID_TOKEN, 413 PAYLOAD_TOO_LARGE,
 *   429 RATE_LIMITED, 5xx PROVIDER_UNAVAILABLE, 401/403 AUTH_FAILED, other
 *   4xx INVALID_REQUEST); a body without a string "reason" is PROVIDER_ERROR
 *   unless the status is 429, 5xx, 401 or 403 (which keep their class).
 *   providerCode is the reason; Retry-After becomes retryAfterMs on retryable
 *   errors. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/crypto_internal.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound/outbound_internal.h"
#include "push_internal.h"
#include "transport/transport_internal.h"

#define PLATFORM "ios"
#define TOKEN_MAX_AGE_MS (20 * 60 * 1000LL)
#define TOKEN_MIN_INTERVAL_MS (60 * 1000LL)
#define MAX_PAYLOAD 4096u
#define MAX_PAYLOAD_VOIP 5120u
#define MAX_TTL 2592000LL
#define MAX_HEADER_VALUE 255u
#define MAX_BODY (64u * 1024u)

typedef struct apns_state {
    char *team_id, *key_id, *topic, *base_url;
    size_t topic_len;
    char *url_prefix; /* base_url + "/3/device/" */
    size_t url_prefix_len;
    int url_ok; /* url_prefix + a token is a URL omni_http_request_new accepts */
    EVP_PKEY *pkey;
    pthread_mutex_t mu;
    char *auth;        /* "bearer <the cached provider token>", or NULL */
    size_t auth_len;
    int64_t signed_ms; /* when it was signed */
    int stale;         /* an ExpiredProviderToken response was seen */
} apns_state;

static void st_free(void *p)
{
    apns_state *s = p;
    if (!s)
        return;
    free(s->team_id);
    free(s->key_id);
    free(s->topic);
    free(s->base_url);
    free(s->url_prefix);
    EVP_PKEY_free(s->pkey);
    free(s->auth);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* 1 when s is exactly n upper-case letters and digits (Apple's team and key ids). */
static int apple_id_ok(const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return i == n;
}

/* A bundle id / topic: 1..255 of [A-Za-z0-9.-_]. */
static int topic_ok_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return n >= 1 && n <= 255;
}

static int topic_ok(const char *s)
{
    return topic_ok_n(s, strlen(s));
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    static const char *const known[] = {"teamId", "keyId", "privateKey", "topic",
                                        "environment", "baseUrl"};
    const cJSON *it;
    cJSON_ArrayForEach(it, c)
    {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], it->string) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__ob_config_error(path, it->string, "is not an apns setting");
    }
    apns_state *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return omni__err(OMNI_ENOMEM, "push: cannot create a mutex");
    }
    char *pem = NULL, *env = NULL;
    int rc = omni__ob_string(&s->team_id, c, path, "teamId", 1, 10);
    if (!rc && !apple_id_ok(s->team_id, 10))
        rc = omni__ob_config_error(path, "teamId", "must be 10 upper-case letters and digits");
    if (!rc)
        rc = omni__ob_string(&s->key_id, c, path, "keyId", 1, 10);
    if (!rc && !apple_id_ok(s->key_id, 10))
        rc = omni__ob_config_error(path, "keyId", "must be 10 upper-case letters and digits");
    if (!rc)
        rc = omni__ob_string(&s->topic, c, path, "topic", 1, 255);
    if (!rc && !topic_ok(s->topic))
        rc = omni__ob_config_error(path, "topic", "must be a bundle id of [A-Za-z0-9.-_]");
    if (!rc)
        rc = omni__ob_string(&env, c, path, "environment", 0, 16);
    if (!rc && env && strcmp(env, "production") != 0 && strcmp(env, "sandbox") != 0)
        rc = omni__ob_config_error(path, "environment", "must be \"production\" or \"sandbox\"");
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl",
                               env && strcmp(env, "sandbox") == 0
                                   ? "https://api.sandbox.push.apple.com"
                                   : "https://api.push.apple.com");
    if (!rc)
        rc = omni__ob_secret(&pem, c, path, "privateKey", 1);
    if (!rc) {
        /* The key's own error is replaced: the path is what the host needs. */
        if (omni__pkey_from_pem(&s->pkey, pem, strlen(pem), 1, "APNs key") != OMNI_OK ||
            omni__pkey_check(s->pkey, OMNI__JWT_ES256) != OMNI_OK)
            rc = omni__ob_config_error(path, "privateKey",
                                       "must be the .p8 EC P-256 private key (PEM)");
    }
    omni__ob_secret_free(pem);
    free(env);
    if (!rc) {
        /* The request URL is this prefix and a hex token: whether it is a
         * URL omni_http_request_new accepts does not depend on the token
         * (its authority ends in the prefix), so it is decided here once. */
        s->topic_len = strlen(s->topic);
        size_t bl = strlen(s->base_url);
        s->url_prefix = malloc(bl + 13);
        if (!s->url_prefix) {
            rc = omni__err(OMNI_ENOMEM, NULL);
        } else {
            memcpy(s->url_prefix, s->base_url, bl);
            memcpy(s->url_prefix + bl, "/3/device/00", 13);
            omni_http_request *probe = NULL;
            s->url_ok = omni_http_request_new(&probe, "POST", s->url_prefix) == OMNI_OK;
            omni_http_request_free(probe);
            if (!s->url_ok)
                omni_error_clear();
            s->url_prefix_len = bl + 10;
            s->url_prefix[s->url_prefix_len] = '\0';
        }
    }
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- provider token ------------------------------------------------------------------ */

/* Writes "bearer <JWT>" into out (cap bytes), signing a new token when the
 * cache rules say so; the header value is kept formatted in the cache. */
static int bearer(char *out, size_t cap, apns_state *s, int64_t now_ms)
{
    int rc = OMNI_OK;
    pthread_mutex_lock(&s->mu);
    int64_t age = now_ms - s->signed_ms;
    int usable = s->auth && age >= 0 &&
                 ((!s->stale && age < TOKEN_MAX_AGE_MS) || age < TOKEN_MIN_INTERVAL_MS);
    if (!usable) {
        char header[64], claims[64];
        int hl = snprintf(header, sizeof(header), "{\"kid\":\"%s\"}",
                          s->key_id);
        int cl = snprintf(claims, sizeof(claims), "{\"iss\":\"%s\",\"iat\":%lld}", s->team_id,
                          (long long)(now_ms / 1000));
        char *jwt = NULL;
        size_t jl = 0;
        rc = omni__jwt_sign_pkey(&jwt, &jl, OMNI__JWT_ES256, s->pkey, header, (size_t)hl,
                                 claims, (size_t)cl);
        if (!rc) {
            free(s->auth);
            s->auth = malloc(jl + 8);
            if (s->auth) {
                memcpy(s->auth, "bearer ", 7);
                memcpy(s->auth + 7, jwt, jl + 1);
                s->auth_len = jl + 7;
            } else {
                rc = omni__err(OMNI_ENOMEM, NULL);
            }
            omni_free(jwt);
            s->signed_ms = now_ms;
            s->stale = 0;
        }
    }
    if (!rc) {
        if (s->auth_len + 1 > cap)
            rc = omni__err(OMNI_EKEY, "push ios: the provider token is too long");
        else
            memcpy(out, s->auth, s->auth_len + 1);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- build ------------------------------------------------------------------------- */

static int merr(const char *member, const char *why)
{
    return omni__push_msg_error(PLATFORM, member, why);
}

static const cJSON *member(const cJSON *obj, const char *name)
{
    return obj ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

static int is_number(omni__jspan v)
{
    return v.p && v.n && (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9'));
}

/* An optional string member (a span of the message); out->p NULL when absent. */
static int opt_str(omni__pstr *out, const omni__push_msg *m, omni__jspan v, const char *what)
{
    *out = (omni__pstr){NULL, 0, 0};
    if (!v.p)
        return OMNI_OK;
    if (!omni__j_is(v, '"'))
        return merr(what, "must be a string");
    return omni__push_str(out, m, v);
}

static int opt_bool(int *out, omni__jspan v, const char *what)
{
    *out = 0;
    if (!v.p)
        return OMNI_OK;
    if (!omni__j_is(v, 't') && !omni__j_is(v, 'f'))
        return merr(what, "must be a boolean");
    *out = v.p[0] == 't';
    return OMNI_OK;
}

/* An optional integer member in lo..hi; *present 0 when absent. */
static int opt_int(int64_t *out, int *present, omni__jspan v, const char *what, int64_t lo,
                   int64_t hi)
{
    *present = 0;
    if (!v.p)
        return OMNI_OK;
    double d = is_number(v) ? omni__j_num(v) : 0;
    if (!is_number(v) || !(d >= (double)lo && d <= (double)hi) || d != (double)(int64_t)d) {
        char why[80];
        snprintf(why, sizeof(why), "must be an integer %lld..%lld", (long long)lo,
                 (long long)hi);
        return merr(what, why);
    }
    *out = (int64_t)d;
    *present = 1;
    return OMNI_OK;
}

static int token_ok(omni__pstr t)
{
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return t.n >= 64 && t.n <= 200 && t.n % 2 == 0;
}

typedef struct push_type {
    const char *name;
    const char *suffix; /* appended to the topic, or NULL */
} push_type;

static const push_type push_types[] = {
    {"alert", NULL},
    {"background", NULL},
    {"voip", ".voip"},
    {"location", ".location-query"},
    {"complication", ".complication"},
    {"fileprovider", ".pushkit.fileprovider"},
    {"mdm", NULL},
    {"liveactivity", ".push-type.liveactivity"},
    {"pushtotalk", ".voip-ptt"},
};

/* The headers an override may set, in the order they are written. */
enum { H_TOPIC, H_TYPE, H_PRIORITY, H_EXPIRATION, H_COLLAPSE, H_ID, H_COUNT };
static const char *const header_names[H_COUNT] = {"apns-topic", "apns-push-type",
                                                  "apns-priority", "apns-expiration",
                                                  "apns-collapse-id", "apns-id"};

/* A header value as the override gives it: a printable string or an integer. */
static int header_value(char *out, size_t cap, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble != (double)(int64_t)v->valuedouble || v->valuedouble < 0 ||
            v->valuedouble > 9007199254740992.0)
            return 0;
        snprintf(out, cap, "%lld", (long long)v->valuedouble);
        return 1;
    }
    if (!cJSON_IsString(v))
        return 0;
    size_t n = strlen(v->valuestring);
    if (n < 1 || n > MAX_HEADER_VALUE || n >= cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (v->valuestring[i] < 0x21 || v->valuestring[i] > 0x7e)
            return 0;
    memcpy(out, v->valuestring, n + 1);
    return 1;
}

static int apply_header_overrides(char values[H_COUNT][MAX_HEADER_VALUE + 1],
                                  const cJSON *headers)
{
    if (!cJSON_IsObject(headers))
        return merr("apns.headers", "must be an object");
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        size_t i = 0;
        while (i < H_COUNT && strcasecmp(header_names[i], h->string) != 0)
            i++;
        if (i == H_COUNT)
            return merr("apns.headers", "may only set apns-topic, apns-push-type, "
                                        "apns-priority, apns-expiration, apns-collapse-id "
                                        "and apns-id");
        char v[MAX_HEADER_VALUE + 1];
        if (!header_value(v, sizeof(v), h))
            return merr("apns.headers",
                        "values must be strings of 1..255 printable ASCII bytes or integers");
        if (i == H_PRIORITY && strcmp(v, "10") != 0 && strcmp(v, "5") != 0 &&
            strcmp(v, "1") != 0)
            return merr("apns.headers", "apns-priority must be 10, 5 or 1");
        memcpy(values[i], v, strlen(v) + 1);
    }
    return OMNI_OK;
}

/* Merges src into dst (RFC 7396 JSON merge patch). */
static int merge(cJSON *dst, const cJSON *src)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, src)
    {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, it->string);
        if (cJSON_IsNull(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, it->string);
        } else if (cJSON_IsObject(it) && cJSON_IsObject(cur)) {
            if (merge(cur, it))
                return OMNI_ENOMEM;
        } else {
            cJSON *copy = cJSON_Duplicate(it, 1);
            if (!copy)
                return OMNI_ENOMEM;
            if (cur) {
                if (!cJSON_ReplaceItemViaPointer(dst, cur, copy)) {
                    cJSON_Delete(copy);
                    return OMNI_ENOMEM;
                }
            } else if (!cJSON_AddItemToObject(dst, it->string, copy)) {
                cJSON_Delete(copy);
                return OMNI_ENOMEM;
            }
        }
    }
    return OMNI_OK;
}

/* body = body merged with message.apns.payload (a span of the message). */
static int apply_payload_override(omni_buf *body, omni__jspan over_text)
{
    if (!omni__j_is(over_text, '{'))
        return merr("apns.payload", "must be an object");
    cJSON *over = cJSON_ParseWithLength(over_text.p, over_text.n);
    cJSON *doc = over ? cJSON_ParseWithLength(body->data, body->len) : NULL;
    if (!doc) {
        cJSON_Delete(over);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    int rc = merge(doc, over);
    cJSON_Delete(over);
    if (rc) {
        cJSON_Delete(doc);
        return omni__err(rc, NULL);
    }
    if (!cJSON_IsObject(member(doc, "aps"))) {
        cJSON_Delete(doc);
        return merr("apns.payload.aps", "must stay an object");
    }
    char *text = NULL;
    size_t len = 0;
    rc = omni__json_print(&text, &len, doc);
    cJSON_Delete(doc);
    if (rc)
        return rc;
    omni__buf_reset(body);
    omni__buf_append(body, text, len);
    free(text);
    return OMNI_OK;
}

typedef struct alert_fields {
    omni__pstr title, subtitle, body, sound, category, thread, image;
    int64_t badge;
    int has_badge;
    omni__jspan data; /* an object, or absent */
} alert_fields;

enum { P_TITLE, P_SUBTITLE, P_BODY, P_SOUND, P_CATEGORY, P_CLICK, P_THREAD, P_IMAGE, P_BADGE,
       P_DATA, P_ACTIONS, P_COUNT };
static const omni__jname payload_members[P_COUNT] = {
    OMNI__JNAME("title"), OMNI__JNAME("subtitle"), OMNI__JNAME("body"), OMNI__JNAME("sound"),
    OMNI__JNAME("category"), OMNI__JNAME("clickAction"), OMNI__JNAME("threadId"),
    OMNI__JNAME("image"), OMNI__JNAME("badge"), OMNI__JNAME("data"), OMNI__JNAME("actions")};

static int read_payload(alert_fields *a, const omni__push_msg *m)
{
    omni__jspan f[P_COUNT];
    omni__push_fields(m, m->jpayload, payload_members, f, P_COUNT);
    omni__pstr click;
    int rc;
    if ((rc = opt_str(&a->title, m, f[P_TITLE], "payload.title")) ||
        (rc = opt_str(&a->subtitle, m, f[P_SUBTITLE], "payload.subtitle")) ||
        (rc = opt_str(&a->body, m, f[P_BODY], "payload.body")) ||
        (rc = opt_str(&a->sound, m, f[P_SOUND], "payload.sound")) ||
        (rc = opt_str(&a->category, m, f[P_CATEGORY], "payload.category")) ||
        (rc = opt_str(&click, m, f[P_CLICK], "payload.clickAction")) ||
        (rc = opt_str(&a->thread, m, f[P_THREAD], "payload.threadId")) ||
        (rc = opt_str(&a->image, m, f[P_IMAGE], "payload.image")) ||
        (rc = opt_int(&a->badge, &a->has_badge, f[P_BADGE], "payload.badge", 0, 2147483647)))
        return rc;
    if (!a->category.p)
        a->category = click;
    if (a->image.p && !a->image.n)
        return merr("payload.image", "must be a non-empty URL");
    omni__jspan data = f[P_DATA];
    if (data.p) {
        static const omni__jname reserved[] = {OMNI__JNAME("aps"), OMNI__JNAME("image-url")};
        omni__jspan r[2];
        if (!omni__j_is(data, '{'))
            return merr("payload.data", "must be an object");
        omni__push_fields(m, data, reserved, r, 2);
        if (r[0].p)
            return merr("payload.data", "must not hold \"aps\" (APNs's own dictionary)");
        if (a->image.p && r[1].p)
            return merr("payload.data", "must not hold \"image-url\" with payload.image");
    }
    a->data = data;
    omni__jiter it;
    omni__jspan act;
    if (f[P_ACTIONS].p) {
        static const omni__jname names[] = {OMNI__JNAME("id"), OMNI__JNAME("title")};
        omni__jspan af[2];
        if (!omni__j_arr(&it, f[P_ACTIONS]))
            return merr("payload.actions", "must be an array of {id, title}");
        while (omni__j_next_item(&it, &act)) {
            omni__push_fields(m, act, names, af, 2);
            if (!omni__j_is(act, '{') || !omni__j_is(af[0], '"') || !omni__j_is(af[1], '"'))
                return merr("payload.actions", "must be an array of {id, title}");
        }
    }
    return OMNI_OK;
}

static void write_body(omni_buf *b, const alert_fields *a, int critical, int mutable_content,
                       int content_available)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "aps");
    omni__json_w_obj_begin(b);
    if (a->title.p || a->subtitle.p || a->body.p) {
        omni__json_w_keyl(b, "alert");
        omni__json_w_obj_begin(b);
        if (a->title.p) {
            omni__json_w_keyl(b, "title");
            omni__push_w_str(b, a->title);
        }
        if (a->subtitle.p) {
            omni__json_w_keyl(b, "subtitle");
            omni__push_w_str(b, a->subtitle);
        }
        if (a->body.p) {
            omni__json_w_keyl(b, "body");
            omni__push_w_str(b, a->body);
        }
        omni__json_w_obj_end(b);
    }
    if (a->has_badge) {
        omni__json_w_keyl(b, "badge");
        omni__json_w_int(b, a->badge);
    }
    if (critical) {
        omni__json_w_keyl(b, "sound");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "critical");
        omni__json_w_int(b, 1);
        omni__json_w_keyl(b, "name");
        if (a->sound.p)
            omni__push_w_str(b, a->sound);
        else
            omni__json_w_str(b, "default");
        omni__json_w_keyl(b, "volume");
        omni__json_w_int(b, 1);
        omni__json_w_obj_end(b);
    } else if (a->sound.p) {
        omni__json_w_keyl(b, "sound");
        omni__push_w_str(b, a->sound);
    }
    if (a->thread.p) {
        omni__json_w_keyl(b, "thread-id");
        omni__push_w_str(b, a->thread);
    }
    if (a->category.p) {
        omni__json_w_keyl(b, "category");
        omni__push_w_str(b, a->category);
    }
    if (mutable_content) {
        omni__json_w_keyl(b, "mutable-content");
        omni__json_w_int(b, 1);
    }
    if (content_available) {
        omni__json_w_keyl(b, "content-available");
        omni__json_w_int(b, 1);
    }
    omni__json_w_obj_end(b);
    if (a->image.p) {
        omni__json_w_keyl(b, "image-url");
        omni__push_w_str(b, a->image);
    }
    omni__jiter it;
    omni__jspan k, v;
    if (omni__j_obj(&it, a->data)) {
        while (omni__j_next(&it, &k, &v)) {
            omni__j_write_key(b, k);
            omni__j_write(b, v);
        }
    }
    omni__json_w_obj_end(b);
}

/* Copies a header value already checked to fit (<= MAX_HEADER_VALUE). */
static void copy_value(char *dst, const char *src, size_t n)
{
    if (n > MAX_HEADER_VALUE)
        n = MAX_HEADER_VALUE;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The request: POST {base}/3/device/{token}, the headers, the body (taken
 * over on success). */
static int make_request(omni_http_request **out, const apns_state *s, omni__pstr token,
                        const char *auth, char hv[H_COUNT][MAX_HEADER_VALUE + 1],
                        omni_buf *body)
{
    int rc;
    if (s->url_prefix_len + token.n + 1 > OMNI_HTTP_MAX_URL)
        return omni__err(OMNI_ETOOLARGE, "push ios: the URL is too long");
    if (!s->url_ok) {
        /* omni_http_request_new says what is wrong with the base URL */
        char *url = malloc(s->url_prefix_len + token.n + 1);
        if (!url)
            return omni__err(OMNI_ENOMEM, NULL);
        memcpy(url, s->url_prefix, s->url_prefix_len);
        memcpy(url + s->url_prefix_len, token.p, token.n);
        url[s->url_prefix_len + token.n] = '\0';
        rc = omni_http_request_new(out, "POST", url);
        free(url);
        if (rc)
            return rc;
        omni_http_request_free(*out);
        *out = NULL;
    }
    omni__http_field fields[H_COUNT + 2];
    size_t n = 0;
    fields[n++] = (omni__http_field){"authorization", auth, strlen(auth)};
    for (int i = 0; i < H_COUNT; i++) {
        if (!hv[i][0])
            continue;
        /* The values are bundle ids, names from the table, digits or printable
         * override strings, except options.collapseKey: refuse CR and LF as
         * omni_http_request_add_header does. */
        if (i == H_COLLAPSE && (rc = omni__http_check_header(header_names[i], hv[i])))
            return rc;
        fields[n++] = (omni__http_field){header_names[i], hv[i], strlen(hv[i])};
    }
    fields[n++] = (omni__http_field){"content-type", "application/json", 16};
    rc = omni__http_request_make(out, "POST", s->url_prefix, s->url_prefix_len, token.p, token.n,
                                 fields, n, body->data, body->len, body->cap);
    if (!rc)
        *body = (omni_buf)OMNI_BUF_INIT;
    return rc;
}

enum { O_PRIORITY, O_COLLAPSE, O_PUSH_TYPE, O_TOPIC, O_CONTENT, O_MUTABLE, O_TTL, O_COUNT };
static const omni__jname option_members[O_COUNT] = {
    OMNI__JNAME("priority"), OMNI__JNAME("collapseKey"), OMNI__JNAME("pushType"),
    OMNI__JNAME("topic"), OMNI__JNAME("contentAvailable"), OMNI__JNAME("mutableContent"),
    OMNI__JNAME("ttl")};

static int build(omni_http_request **out, void *state, const omni__push_msg *m, int64_t now_ms)
{
    apns_state *s = state;
    int rc;
    if (!m->jtoken.p)
        return merr("token", "is required (the APNs device token)");
    if (!token_ok(m->jtoken))
        return merr("token", "must be 64..200 hex digits (an even count)");
    if (m->jtopic.p || m->jcondition.p)
        return merr("topic", "and condition are FCM targets; ios sends to a token");
    if (now_ms < 0)
        return omni__err(OMNI_EINVAL, "push ios: now_ms must not be negative");

    alert_fields a;
    memset(&a, 0, sizeof(a));
    if ((rc = read_payload(&a, m)))
        return rc;
    omni__jspan o[O_COUNT];
    omni__push_fields(m, m->joptions, option_members, o, O_COUNT);
    omni__pstr priority, collapse, ptype_name, topic;
    int content_available, mutable_content, has_ttl;
    int64_t ttl = 0;
    if ((rc = opt_str(&priority, m, o[O_PRIORITY], "options.priority")) ||
        (rc = opt_str(&collapse, m, o[O_COLLAPSE], "options.collapseKey")) ||
        (rc = opt_str(&ptype_name, m, o[O_PUSH_TYPE], "options.pushType")) ||
        (rc = opt_str(&topic, m, o[O_TOPIC], "options.topic")) ||
        (rc = opt_bool(&content_available, o[O_CONTENT], "options.contentAvailable")) ||
        (rc = opt_bool(&mutable_content, o[O_MUTABLE], "options.mutableContent")) ||
        (rc = opt_int(&ttl, &has_ttl, o[O_TTL], "options.ttl", 0, MAX_TTL)))
        return rc;
    int critical = 0, high = 1;
    if (priority.p) {
        if (omni__pstr_is(priority, "critical"))
            critical = 1;
        else if (omni__pstr_is(priority, "low") || omni__pstr_is(priority, "normal"))
            high = 0;
        else if (!omni__pstr_is(priority, "high"))
            return merr("options.priority", "must be low, normal, high or critical");
    }
    if (collapse.p && (!collapse.n || collapse.n > 64))
        return merr("options.collapseKey", "must be 1..64 bytes");
    if (topic.p && !topic_ok_n(topic.p, topic.n))
        return merr("options.topic", "must be a bundle id of [A-Za-z0-9.-_]");
    const push_type *pt = NULL;
    if (ptype_name.p) {
        for (size_t i = 0; i < sizeof(push_types) / sizeof(push_types[0]); i++)
            if (strlen(push_types[i].name) == ptype_name.n &&
                memcmp(push_types[i].name, ptype_name.p, ptype_name.n) == 0)
                pt = &push_types[i];
        if (!pt)
            return merr("options.pushType", "must be alert, background, voip, location, "
                                            "complication, fileprovider, mdm, liveactivity "
                                            "or pushtotalk");
    } else {
        int alert = a.title.p || a.subtitle.p || a.body.p;
        pt = &push_types[content_available && !alert ? 1 : 0];
    }
    omni__jspan ov = m->japns;
    if (ov.p && !omni__j_is(ov, '{'))
        return merr("apns", "must be an object");

    /* Headers. */
    char hv[H_COUNT][MAX_HEADER_VALUE + 1];
    for (int i = 0; i < H_COUNT; i++)
        hv[i][0] = '\0';
    const char *t = topic.p ? topic.p : s->topic;
    size_t tl = topic.p ? topic.n : s->topic_len, sl = pt->suffix ? strlen(pt->suffix) : 0;
    if (sl && tl >= sl && memcmp(t + tl - sl, pt->suffix, sl) == 0)
        sl = 0;
    if (tl + sl > MAX_HEADER_VALUE)
        return merr("options.topic", "with its push type's suffix is over 255 bytes");
    memcpy(hv[H_TOPIC], t, tl);
    memcpy(hv[H_TOPIC] + tl, sl ? pt->suffix : "", sl + 1);
    copy_value(hv[H_TYPE], pt->name, strlen(pt->name));
    int background = strcmp(pt->name, "background") == 0;
    copy_value(hv[H_PRIORITY], background || !high ? "5" : "10", background || !high ? 1 : 2);
    if (has_ttl)
        omni__push_utoa(hv[H_EXPIRATION], ttl == 0 ? 0 : (uint64_t)(now_ms / 1000 + ttl));
    if (collapse.p)
        copy_value(hv[H_COLLAPSE], collapse.p, collapse.n);
    omni__jspan oh = {NULL, 0}, op = {NULL, 0};
    if (ov.p) {
        static const omni__jname names[] = {OMNI__JNAME("headers"), OMNI__JNAME("payload")};
        omni__jspan f[2];
        omni__push_fields(m, ov, names, f, 2);
        oh = f[0];
        op = f[1];
    }
    if (oh.p) {
        cJSON *h = cJSON_ParseWithLength(oh.p, oh.n);
        if (!h)
            return omni__err(OMNI_ENOMEM, NULL);
        rc = apply_header_overrides(hv, h);
        cJSON_Delete(h);
        if (rc)
            return rc;
    }

    /* Body. At most 64 KiB, checked once it is written (the same as a
     * buffer limited to that, which the writer's fast path does without). */
    omni_buf body = OMNI_BUF_INIT;
    omni__buf_reserve(&body, 512);
    write_body(&body, &a, critical, mutable_content || a.image.p, content_available);
    rc = omni__buf_status(&body);
    if (!rc && body.len > MAX_BODY)
        rc = omni__err(OMNI_ETOOLARGE, "output exceeds its size limit of %zu bytes",
                       (size_t)MAX_BODY);
    if (!rc && op.p)
        rc = apply_payload_override(&body, op);
    size_t limit = strcmp(hv[H_TYPE], "voip") == 0 ? MAX_PAYLOAD_VOIP : MAX_PAYLOAD;
    if (!rc && body.len > limit)
        rc = omni__err(OMNI_ETOOLARGE, "push ios: the payload is %zu bytes, over APNs's %zu",
                       body.len, (size_t)limit);

    /* The request. */
    char auth[1024];
    if (!rc)
        rc = bearer(auth, sizeof(auth), s, now_ms);
    if (!rc)
        rc = make_request(out, s, m->jtoken, auth, hv, &body);
    omni__buf_free(&body);
    OPENSSL_cleanse(auth, rc ? sizeof(auth) : strlen(auth));
    return rc;
}

/* ---- parse ------------------------------------------------------------------------- */

typedef struct reason_class {
    const char *reason;
    const char *code;
    int retryable, invalid_token;
} reason_class;

static const reason_class reasons[] = {
    {"Unregistered", "INVALID_TOKEN", 0, 1},
    {"BadDeviceToken", "INVALID_TOKEN", 0, 1},
    {"DeviceTokenNotForTopic", "INVALID_TOKEN", 0, 1},
    {"PayloadTooLarge", "PAYLOAD_TOO_LARGE", 0, 0},
    {"ExpiredProviderToken", "TOKEN_EXPIRED", 1, 0},
    {"InvalidProviderToken", "AUTH_FAILED", 0, 0},
    {"MissingProviderToken", "AUTH_FAILED", 0, 0},
    {"BadCertificate", "AUTH_FAILED", 0, 0},
    {"BadCertificateEnvironment", "AUTH_FAILED", 0, 0},
    {"Forbidden", "AUTH_FAILED", 0, 0},
    {"TooManyProviderTokenUpdates", "RATE_LIMITED", 1, 0},
    {"TooManyRequests", "RATE_LIMITED", 1, 0},
    {"InternalServerError", "PROVIDER_UNAVAILABLE", 1, 0},
    {"ServiceUnavailable", "PROVIDER_UNAVAILABLE", 1, 0},
    {"Shutdown", "PROVIDER_UNAVAILABLE", 1, 0},
    {"BadCollapseId", "INVALID_REQUEST", 0, 0},
    {"BadExpirationDate", "INVALID_REQUEST", 0, 0},
    {"BadMessageId", "INVALID_REQUEST", 0, 0},
    {"BadPriority", "INVALID_REQUEST", 0, 0},
    {"BadTopic", "INVALID_REQUEST", 0, 0},
    {"DuplicateHeaders", "INVALID_REQUEST", 0, 0},
    {"IdleTimeout", "INVALID_REQUEST", 0, 0},
    {"InvalidPushType", "INVALID_REQUEST", 0, 0},
    {"MissingDeviceToken", "INVALID_REQUEST", 0, 0},
    {"MissingTopic", "INVALID_REQUEST", 0, 0},
    {"PayloadEmpty", "INVALID_REQUEST", 0, 0},
    {"TopicDisallowed", "INVALID_REQUEST", 0, 0},
    {"BadPath", "INVALID_REQUEST", 0, 0},
    {"MethodNotAllowed", "INVALID_REQUEST", 0, 0},
};

static int parse(omni_buf *out, void *state, const omni_http_response *resp, int64_t now_ms)
{
    apns_state *s = state;
    int status = omni_http_response_status(resp);
    if (status >= 200 && status < 300) {
        const char *id = omni_http_response_header(resp, "apns-id");
        char clean[128];
        if (id && id[0])
            omni__ob_clean_text(clean, sizeof(clean), id, strlen(id));
        omni__push_result_ok(out, PLATFORM, id && id[0] ? clean : NULL);
        return OMNI_OK;
    }
    cJSON *j = omni__ob_body_json(resp);
    const cJSON *r = cJSON_IsObject(j) ? member(j, "reason") : NULL;
    const char *reason = cJSON_IsString(r) && r->valuestring[0] ? r->valuestring : NULL;
    const reason_class *rc_ = NULL;
    for (size_t i = 0; reason && i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (strcmp(reasons[i].reason, reason) == 0)
            rc_ = &reasons[i];
    const char *code;
    int retryable = 0, invalid = 0;
    char pcode[128] = "", text[256];
    if (reason)
        omni__ob_clean_text(pcode, sizeof(pcode), reason, strlen(reason));
    if (rc_) {
        code = rc_->code;
        retryable = rc_->retryable;
        invalid = rc_->invalid_token;
        snprintf(text, sizeof(text), "APNs: %s (HTTP %d)", pcode, status);
    } else if (reason) {
        if (status == 410) {
            code = "INVALID_TOKEN";
            invalid = 1;
        } else if (status == 413) {
            code = "PAYLOAD_TOO_LARGE";
        } else {
            code = omni__ob_http_class(status, &retryable);
        }
        snprintf(text, sizeof(text), "APNs: %s (HTTP %d)", pcode, status);
    } else {
        snprintf(text, sizeof(text), "APNs: HTTP %d without a reason", status);
        if (omni__ob_status_speaks(status)) {
            code = omni__ob_http_class(status, &retryable);
        } else {
            code = "PROVIDER_ERROR";
        }
    }
    if (rc_ && strcmp(rc_->reason, "ExpiredProviderToken") == 0) {
        pthread_mutex_lock(&s->mu);
        s->stale = 1;
        pthread_mutex_unlock(&s->mu);
    }
    int64_t ra = retryable ? omni__ob_retry_after(resp, now_ms) : -1;
    omni__push_result_error(out, PLATFORM, code, pcode[0] ? pcode : NULL, text, retryable,
                            invalid, ra);
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__push_adapter omni__push_apns = {PLATFORM, "apns", cfg, st_free, build, parse, 0};
