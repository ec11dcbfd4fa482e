/* The device registry (seed 002's DeviceTokens {userId, deviceToken,
 * platform} with its platform index; seed 000's PUT device-token) over the
 * engine's store.
 *
 * Storage layout:
 *   ns "device"       "<platform>/<token id>" -> the device record
 *   ns "device_user"  "<userId>/<platform>/<token id>" -> {} (the per-user
 *                     index; its key without "<userId>/" is the record's key)
 * The token id is the token itself when it is at most 200 bytes of
 * [A-Za-z0-9._:-] and does not begin with "h:", else "h:" + the lower-case
 * hex SHA-256 of the token (web endpoints are long URLs). Listing by
 * platform is a prefix listing of ns "device"; listing by user a prefix
 * listing of ns "device_user", each entry checked against its record.
 *
 * Every change is a compare-and-swap with bounded retries, ordered so that a
 * crash at any point leaves nothing a reader can get wrong:
 *   register: the user's index entry is written before the record
 *             (CREATE / the version read) and again after it; the old
 *             user's entry (a move) is deleted after the record;
 *   remove:   the record is deleted before its index entry.
 * A stale index entry (its record is gone or belongs to another user) is
 * skipped by the listing and deleted there: with the version the listing
 * saw, and only after the record was read, so an entry a concurrent
 * registration rewrote (it always rewrites its entry after its record) is
 * never lost. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <omni/omni.h>
#include <omni/push.h>

#include "core/buf.h"
#include "core/crypto_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "core/tz.h"
#include "storage/store_internal.h"

#define NS_DEVICE "device"
#define NS_DEVICE_USER "device_user"

#define DEVICE_MAX_BYTES (64u * 1024u)
#define QUERY_MAX_BYTES (4u * 1024u)
#define USER_MAX 128
#define TOKEN_MAX 4096
#define TOKEN_ID_PLAIN_MAX 200
#define TOKEN_ID_MAX 201
#define APP_ID_MAX 256
#define LOCALE_MAX 35
#define REASON_MAX 256
#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define CAS_ATTEMPTS 16
#define CLEAN_ATTEMPTS 4
#define KEY_MAX (USER_MAX + 1 + 8 + 1 + TOKEN_ID_MAX + 1)

enum { P_IOS, P_ANDROID, P_WEB };
static const char *const platforms[] = {"ios", "android", "web"};

/* ---- errors and store helpers ------------------------------------------- */

/* Storage failures become DATABASE_ERROR (retryable), keeping the hook's
 * message; out of memory stays what it is. */
static int db_error(int rc, const char *what)
{
    if (rc == OMNI_ENOMEM || rc == OMNI_ESTORAGE)
        return rc;
    return omni__err_retry(OMNI_ESTORAGE, 1, "device registry: %s failed (%s: %s)", what,
                           omni_status_code(rc), omni_error_last_message());
}

/* The record at key, parsed and checked: *rec (cJSON_Delete) with string
 * members userId and deviceToken. OMNI_ENOTFOUND when absent (no error
 * set); OMNI_ESTORAGE for a record that is not a device. */
static int load_record(omni_store *store, const char *key, int64_t now, cJSON **rec,
                       uint64_t *version)
{
    *rec = NULL;
    int rc = omni__store_get_json(store, NS_DEVICE, key, now, rec, version, NULL);
    if (rc == OMNI_ENOTFOUND)
        return rc;
    if (rc)
        return db_error(rc, "reading a device");
    if (!cJSON_IsObject(*rec) || !omni__json_str(*rec, "userId") ||
        !omni__json_str(*rec, "deviceToken")) {
        cJSON_Delete(*rec);
        *rec = NULL;
        return omni__err_retry(OMNI_ESTORAGE, 0, "device registry: a stored device record is "
                                                 "malformed");
    }
    return OMNI_OK;
}

/* The version of an index entry: 1 with *version set, 0 when absent, or an
 * error status. */
static int index_version(omni_store *store, const char *key, int64_t now, uint64_t *version)
{
    char *v = NULL;
    int rc = omni_store_get(store, NS_DEVICE_USER, key, now, &v, NULL, version, NULL);
    omni_free(v);
    if (rc == OMNI_ENOTFOUND)
        return 0;
    return rc ? db_error(rc, "reading the user index") : 1;
}

/* ---- validation --------------------------------------------------------- */

static int is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == ':' || c == '-';
}

static int check_user(const char *s, const char *what)
{
    size_t n = s ? strnlen(s, USER_MAX + 1) : 0;
    if (n == 0 || n > USER_MAX)
        return omni__err(OMNI_EINVAL, "%s must be 1 to %d characters", what, USER_MAX);
    for (size_t i = 0; i < n; i++)
        if (!is_id_char(s[i]) && s[i] != '@' && s[i] != '+')
            return omni__err(OMNI_EINVAL, "%s may only contain letters, digits and ._:@+-",
                             what);
    return OMNI_OK;
}

static int platform_from(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, platforms[i]) == 0)
            return i;
    return -1;
}

static int check_platform(const char *s, const char *what)
{
    int p = platform_from(s);
    if (p < 0)
        return omni__err(OMNI_EINVAL, "%s must be \"ios\", \"android\" or \"web\"", what);
    return p;
}

/* An https URL without whitespace, control characters or user info. */
static int is_https_url(const char *s, size_t n)
{
    if (n < 9 || strncasecmp(s, "https://", 8) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    size_t a = 8, e = a;
    while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#')
        e++;
    if (e == a)
        return 0;
    for (size_t i = a; i < e; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return 0;
    }
    return s[a] != ':' && s[a] != '.';
}

/* deviceToken for a platform: 1..TOKEN_MAX bytes of printable ASCII; APNs
 * tokens are hex of an even length, web tokens https URLs. */
static int check_token(int platform, const char *s)
{
    size_t n = s ? strnlen(s, TOKEN_MAX + 1) : 0;
    if (n == 0 || n > TOKEN_MAX)
        return omni__err(OMNI_EINVAL, "device: deviceToken must be 1 to %d bytes", TOKEN_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return omni__err(OMNI_EINVAL, "device: deviceToken may only contain printable "
                                          "ASCII characters");
    if (platform == P_IOS && (n % 2 || strspn(s, "0123456789abcdefABCDEF") != n))
        return omni__err(OMNI_EINVAL, "device: deviceToken of an ios device must be the APNs "
                                      "token in hex");
    if (platform == P_WEB && !is_https_url(s, n))
        return omni__err(OMNI_EINVAL, "device: deviceToken of a web device must be the "
                                      "subscription's https endpoint URL");
    return OMNI_OK;
}

/* 1 when the 65 bytes are an uncompressed point on P-256. */
static int p256_point_ok(const uint8_t *p, size_t n)
{
    if (n != OMNI_WEBPUSH_PUBLIC_KEY_LEN || p[0] != 0x04)
        return 0;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    int ok = pt && EC_POINT_oct2point(g, pt, p, n, NULL) == 1 &&
             EC_POINT_is_on_curve(g, pt, NULL) == 1;
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return ok;
}

/* A base64url member decoding to `want` bytes (and a P-256 point when
 * point is set). */
static int check_b64_key(const cJSON *keys, const char *name, size_t want, int point)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(keys, name);
    if (!cJSON_IsString(v) || !v->valuestring)
        return omni__err(OMNI_EINVAL, "device: subscription.keys.%s must be a string", name);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    size_t n = strlen(v->valuestring);
    int ok = n <= 256 && omni_base64url_decode(&raw, &raw_len, v->valuestring, n) == OMNI_OK &&
             raw_len == want && (!point || p256_point_ok(raw, raw_len));
    omni_free(raw);
    if (!ok)
        return point ? omni__err(OMNI_EINVAL, "device: subscription.keys.p256dh must be the "
                                              "base64url of an uncompressed P-256 point (65 "
                                              "bytes, 0x04 first)")
                     : omni__err(OMNI_EINVAL, "device: subscription.keys.auth must be the "
                                              "base64url of 16 bytes");
    return OMNI_OK;
}

/* Sets the error and returns 1 when obj has a member not in names or one
 * twice. */
static int dup_or_unknown(const cJSON *obj, const char *const *names, size_t n, const char *what)
{
    unsigned seen = 0;
    for (const cJSON *m = obj->child; m; m = m->next) {
        size_t i = 0;
        while (i < n && strcmp(m->string, names[i]) != 0)
            i++;
        if (i == n || (seen & (1u << i))) {
            omni__err(OMNI_EINVAL, "device: %s has %s member \"%.64s\"", what,
                      i == n ? "an unknown" : "a duplicate", m->string);
            return 1;
        }
        seen |= 1u << i;
    }
    return 0;
}

static int check_subscription(const cJSON *sub, const char *token)
{
    if (!cJSON_IsObject(sub))
        return omni__err(OMNI_EINVAL, "device: subscription must be an object");
    if (dup_or_unknown(sub, (const char *const[]){"endpoint", "keys", "expirationTime"}, 3,
                       "subscription"))
        return OMNI_EINVAL;
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(sub, "endpoint");
    if (!cJSON_IsString(ep) || !ep->valuestring || strcmp(ep->valuestring, token) != 0)
        return omni__err(OMNI_EINVAL, "device: subscription.endpoint must equal deviceToken");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(sub, "expirationTime");
    if (exp && !cJSON_IsNull(exp) && (!cJSON_IsNumber(exp) || exp->valuedouble < 0))
        return omni__err(OMNI_EINVAL, "device: subscription.expirationTime must be null or a "
                                      "time in milliseconds");
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(sub, "keys");
    if (!cJSON_IsObject(keys))
        return omni__err(OMNI_EINVAL, "device: subscription.keys must be an object");
    if (dup_or_unknown(keys, (const char *const[]){"p256dh", "auth"}, 2, "subscription.keys"))
        return OMNI_EINVAL;
    int rc = check_b64_key(keys, "p256dh", OMNI_WEBPUSH_PUBLIC_KEY_LEN, 1);
    return rc ? rc : check_b64_key(keys, "auth", OMNI_WEBPUSH_AUTH_SECRET_LEN, 0);
}

/* An optional string member (absent or null: *out NULL): 1..max bytes
 * without control characters, or of `set` when given. */
static int opt_str(const cJSON *root, const char *name, size_t max, const char *set,
                   const char **out)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!v || cJSON_IsNull(v))
        return OMNI_OK;
    size_t n = cJSON_IsString(v) && v->valuestring ? strnlen(v->valuestring, max + 1) : 0;
    int ok = n >= 1 && n <= max;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)v->valuestring[i];
        ok = set ? strchr(set, c) != NULL : (c >= 0x20 && c != 0x7f);
    }
    if (!ok)
        return omni__err(OMNI_EINVAL, "device: %s must be a string of 1 to %zu %s", name, max,
                         set ? "letters, digits, '-' or '_'" : "bytes without control characters");
    *out = v->valuestring;
    return OMNI_OK;
}

#define LOCALE_SET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

/* 1 when the JSON text has a \u0000 escape (cJSON would cut the string
 * there). */
static int has_nul_escape(const char *json, size_t len)
{
    const char *p = json, *end = json + len;
    while ((p = memmem(p, (size_t)(end - p), "u0000", 5)) != NULL) {
        size_t bs = 0;
        while (p - bs > json && p[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs % 2)
            return 1;
        p += 5;
    }
    return 0;
}
/* 1 when an object anywhere in v repeats a member name (RFC 8259 section 4:
 * names SHOULD be unique; a stored record must read back the same). */
static int has_repeated_name(const cJSON *v, int depth)
{
    if (depth > 64)
        return 1;
    for (const cJSON *a = v ? v->child : NULL; a; a = a->next) {
        if (cJSON_IsObject(v))
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0)
                    return 1;
        if ((cJSON_IsObject(a) || cJSON_IsArray(a)) && has_repeated_name(a, depth + 1))
            return 1;
    }
    return 0;
}


typedef struct device_in {
    cJSON *root;
    const char *user, *token, *app_id, *locale, *timezone;
    int platform;
    const cJSON *subscription, *metadata;
} device_in;

static int read_device(device_in *d, const char *json, size_t len)
{
    memset(d, 0, sizeof(*d));
    int rc = omni__json_parse(&d->root, json, len, DEVICE_MAX_BYTES, "device");
    if (rc)
        return rc;
    cJSON *root = d->root;
    if (!cJSON_IsObject(root))
        return omni__err(OMNI_EINVAL, "device must be a JSON object");
    static const char *const known[] = {"userId", "deviceToken", "platform", "subscription",
                                        "appId", "locale", "timezone", "metadata",
                                        "registeredAt", "updatedAt"};
    unsigned seen = 0;
    for (const cJSON *m = root->child; m; m = m->next) {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(m->string, known[i]) != 0)
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return omni__err(OMNI_EINVAL, "device: unknown member \"%.64s\"", m->string);
        if (seen & (1u << i))
            return omni__err(OMNI_EINVAL, "device: member \"%s\" appears twice", known[i]);
        seen |= 1u << i;
    }
    if (has_nul_escape(json, len))
        return omni__err(OMNI_EINVAL, "device: strings may not contain NUL (\\u0000)");
    const char *user = omni__json_str(root, "userId");
    if (!user)
        return omni__err(OMNI_EINVAL, "device: userId is missing or not a string");
    if ((rc = check_user(user, "device: userId")) != OMNI_OK)
        return rc;
    const char *platform = omni__json_str(root, "platform");
    if (!platform)
        return omni__err(OMNI_EINVAL, "device: platform is missing or not a string");
    if ((d->platform = check_platform(platform, "device: platform")) < 0)
        return OMNI_EINVAL;
    const char *token = omni__json_str(root, "deviceToken");
    if (!token)
        return omni__err(OMNI_EINVAL, "device: deviceToken is missing or not a string");
    if ((rc = check_token(d->platform, token)) != OMNI_OK)
        return rc;
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(root, "subscription");
    if (sub && cJSON_IsNull(sub))
        sub = NULL;
    if (d->platform == P_WEB && !sub)
        return omni__err(OMNI_EINVAL, "device: subscription is required for platform web");
    if (d->platform != P_WEB && sub)
        return omni__err(OMNI_EINVAL, "device: subscription is only for platform web");
    if (sub && (rc = check_subscription(sub, token)) != OMNI_OK)
        return rc;
    if ((rc = opt_str(root, "appId", APP_ID_MAX, NULL, &d->app_id)) != OMNI_OK ||
        (rc = opt_str(root, "locale", LOCALE_MAX, LOCALE_SET, &d->locale)) != OMNI_OK ||
        (rc = opt_str(root, "timezone", 64, NULL, &d->timezone)) != OMNI_OK)
        return rc;
    if (d->timezone && !omni__tz_name_valid(d->timezone))
        return omni__err(OMNI_EINVAL, "device: timezone must be an IANA zone name");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (meta && cJSON_IsNull(meta))
        meta = NULL;
    if (meta && !cJSON_IsObject(meta))
        return omni__err(OMNI_EINVAL, "device: metadata must be an object");
    if (meta && has_repeated_name(meta, 0))
        return omni__err(OMNI_EINVAL, "device: metadata repeats a member name");
    d->user = user;
    d->token = token;
    d->subscription = sub;
    d->metadata = meta;
    return OMNI_OK;
}

/* ---- keys --------------------------------------------------------------- */

static int token_id(char out[TOKEN_ID_MAX + 1], const char *token)
{
    size_t n = strlen(token);
    int plain = n <= TOKEN_ID_PLAIN_MAX && !(n >= 2 && token[0] == 'h' && token[1] == ':');
    for (size_t i = 0; plain && i < n; i++)
        plain = is_id_char(token[i]);
    if (plain) {
        memcpy(out, token, n + 1);
        return OMNI_OK;
    }
    uint8_t md[32];
    if (omni__sha256(md, token, n) != OMNI_OK)
        return omni__err(OMNI_ECRYPTO, "device registry: hashing the token failed");
    static const char hex[] = "0123456789abcdef";
    out[0] = 'h';
    out[1] = ':';
    for (int i = 0; i < 32; i++) {
        out[2 + 2 * i] = hex[md[i] >> 4];
        out[3 + 2 * i] = hex[md[i] & 15];
    }
    out[66] = '\0';
    return OMNI_OK;
}

/* The device's key "<platform>/<token id>" and the platform's index. */
static int device_key(char *key, int platform, const char *token)
{
    char id[TOKEN_ID_MAX + 1];
    int rc = token_id(id, token);
    if (rc)
        return rc;
    snprintf(key, KEY_MAX, "%s/%s", platforms[platform], id);
    return OMNI_OK;
}

/* "<user>/<dkey>" (user at most USER_MAX bytes, dkey shorter than KEY_MAX
 * - USER_MAX - 1, as the callers guarantee). */
static void user_key(char *out, const char *user, const char *dkey)
{
    size_t u = strnlen(user, USER_MAX), k = strnlen(dkey, KEY_MAX - USER_MAX - 2);
    memcpy(out, user, u);
    out[u] = '/';
    memcpy(out + u + 1, dkey, k);
    out[u + 1 + k] = '\0';
}

/* ---- output ------------------------------------------------------------- */

static void w_record(omni_buf *b, const device_in *d, const char *registered_at,
                     const char *updated_at)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "userId");
    omni__json_w_str(b, d->user);
    omni__json_w_keyl(b, "deviceToken");
    omni__json_w_str(b, d->token);
    omni__json_w_keyl(b, "platform");
    omni__json_w_str(b, platforms[d->platform]);
    if (d->subscription) {
        omni__json_w_keyl(b, "subscription");
        omni__json_w_item(b, d->subscription);
    }
    if (d->app_id) {
        omni__json_w_keyl(b, "appId");
        omni__json_w_str(b, d->app_id);
    }
    if (d->locale) {
        omni__json_w_keyl(b, "locale");
        omni__json_w_str(b, d->locale);
    }
    if (d->timezone) {
        omni__json_w_keyl(b, "timezone");
        omni__json_w_str(b, d->timezone);
    }
    if (d->metadata) {
        omni__json_w_keyl(b, "metadata");
        omni__json_w_item(b, d->metadata);
    }
    omni__json_w_keyl(b, "registeredAt");
    omni__json_w_str(b, registered_at);
    omni__json_w_keyl(b, "updatedAt");
    omni__json_w_str(b, updated_at);
    omni__json_w_obj_end(b);
}

/* {"source": "omni.push", "detailType": type, "detail": {userId,
 * previousUserId?, platform, deviceToken, reason?, <time_key>}} */
static void w_event(omni_buf *b, const char *type, const char *user, const char *prev_user,
                    const char *platform, const char *token, const char *reason,
                    const char *time_key, const char *when)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "source");
    omni__json_w_str(b, "omni.push");
    omni__json_w_keyl(b, "detailType");
    omni__json_w_str(b, type);
    omni__json_w_keyl(b, "detail");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "userId");
    omni__json_w_str(b, user);
    if (prev_user) {
        omni__json_w_keyl(b, "previousUserId");
        omni__json_w_str(b, prev_user);
    }
    omni__json_w_keyl(b, "platform");
    omni__json_w_str(b, platform);
    omni__json_w_keyl(b, "deviceToken");
    omni__json_w_str(b, token);
    if (reason) {
        omni__json_w_keyl(b, "reason");
        omni__json_w_str(b, reason);
    }
    omni__json_w_key(b, time_key);
    omni__json_w_str(b, when);
    omni__json_w_obj_end(b);
    omni__json_w_obj_end(b);
}

/* ---- index upkeep ------------------------------------------------------- */

/* The user of the record at dkey now: 1 and user copied, 0 when absent or
 * unreadable (then the caller keeps the entry), -1 when absent. */
static int current_user(omni_store *store, const char *dkey, int64_t now, char *user)
{
    cJSON *rec;
    int rc = load_record(store, dkey, now, &rec, NULL);
    if (rc == OMNI_ENOTFOUND)
        return -1;
    if (rc)
        return 0;
    snprintf(user, USER_MAX + 1, "%s", omni__json_str(rec, "userId"));
    cJSON_Delete(rec);
    return 1;
}

/* Deletes user's index entry of dkey when it is stale (the record is gone or
 * belongs to another user). The entry's version is read (or was read by
 * the caller: version != 0) before the record, and the delete expects it:
 * a registration for user rewrites the entry after its record, so it either
 * makes the delete fail or recreates the entry. Failures are only logged
 * (a later listing cleans up). Returns 1 when the entry is gone. */
static int clean_index(omni_engine *e, omni_store *store, const char *user, const char *dkey,
                       int64_t now, uint64_t version)
{
    char ukey[KEY_MAX], owner[USER_MAX + 1];
    user_key(ukey, user, dkey);
    for (int attempt = 0; attempt < CLEAN_ATTEMPTS; attempt++) {
        if (!version) {
            int k = index_version(store, ukey, now, &version);
            if (k <= 0)
                return k == 0;
        }
        int cur = current_user(store, dkey, now, owner);
        if (cur == 0 || (cur > 0 && strcmp(owner, user) == 0))
            return 0;
        int rc = omni_store_delete(store, NS_DEVICE_USER, ukey, version, now);
        if (rc == OMNI_OK || rc == OMNI_ENOTFOUND)
            return 1;
        if (rc != OMNI_ECONFLICT) {
            omni__log(e, OMNI_LOG_WARN, "push", "device registry: removing a stale user index "
                                                "entry failed (%s)",
                      omni_status_code(rc));
            return 0;
        }
        version = 0;
    }
    return 0;
}

/* ---- register ----------------------------------------------------------- */

static omni_store *engine_store(omni_engine *engine)
{
    return engine ? omni_engine_store(engine) : NULL;
}

static void out_init(char **out, size_t *out_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
}

int omni_device_register(char **out, size_t *out_len, omni_engine *engine,
                         const char *device_json, size_t len)
{
    out_init(out, out_len);
    omni_store *store = engine_store(engine);
    if (!out || !store || !device_json)
        return omni__err(OMNI_EINVAL, "device register: NULL out, engine or device");
    device_in d;
    int rc = read_device(&d, device_json, len);
    char dkey[KEY_MAX], ukey[KEY_MAX];
    if (!rc)
        rc = device_key(dkey, d.platform, d.token);
    if (rc) {
        cJSON_Delete(d.root);
        return rc;
    }
    user_key(ukey, d.user, dkey);
    int64_t now = omni_engine_now_ms(engine);
    char when[OMNI_TIME_STRLEN];
    if (omni_time_format(when, sizeof(when), now) != OMNI_OK) {
        cJSON_Delete(d.root);
        return omni__err(OMNI_ETIME, "device register: the engine's clock is out of range");
    }
    omni_buf rec = OMNI_BUF_INIT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        cJSON *old = NULL;
        uint64_t ver = 0;
        rc = load_record(store, dkey, now, &old, &ver);
        if (rc && rc != OMNI_ENOTFOUND)
            break;
        char old_user[USER_MAX + 1] = "", registered[OMNI_TIME_STRLEN];
        snprintf(registered, sizeof(registered), "%s", when);
        if (old) {
            const char *ou = omni__json_str(old, "userId");
            const char *ra = omni__json_str(old, "registeredAt");
            if (strcmp(omni__json_str(old, "deviceToken"), d.token) != 0) {
                cJSON_Delete(old);
                rc = omni__err_retry(OMNI_ESTORAGE, 0, "device registry: the record under "
                                                       "this token's key holds another token");
                break;
            }
            snprintf(old_user, sizeof(old_user), "%s", ou);
            if (ra && strlen(ra) < sizeof(registered))
                snprintf(registered, sizeof(registered), "%s", ra);
            cJSON_Delete(old);
        }
        int created = ver == 0, moved = !created && strcmp(old_user, d.user) != 0;
        /* the new user's index entry first: a crash leaves a stale entry,
         * never a record its user cannot list */
        if (created || moved) {
            rc = omni__store_put_trusted(store, NS_DEVICE_USER, ukey, "{}", 2,
                                         OMNI_STORE_ANY_VERSION, 0, now, NULL);
            if (rc) {
                rc = db_error(rc, "writing the user index");
                break;
            }
        }
        /* a move: the old entry's version before the record changes */
        uint64_t old_ver = 0;
        char old_ukey[KEY_MAX];
        if (moved) {
            user_key(old_ukey, old_user, dkey);
            int k = index_version(store, old_ukey, now, &old_ver);
            if (k < 0) {
                rc = k;
                break;
            }
        }
        omni__buf_reset(&rec);
        w_record(&rec, &d, registered, when);
        if ((rc = omni__buf_status(&rec)) != OMNI_OK)
            break;
        rc = omni__store_put_trusted(store, NS_DEVICE, dkey, rec.data, rec.len,
                                     created ? OMNI_STORE_CREATE : ver, 0, now, NULL);
        if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND)
            continue;
        if (rc) {
            rc = db_error(rc, "writing the device");
            break;
        }
        /* the entry again, after the record: a concurrent listing may have
         * found it stale in between */
        uint64_t uver = 0;
        int prc = omni__store_put_trusted(store, NS_DEVICE_USER, ukey, "{}", 2,
                                          OMNI_STORE_ANY_VERSION, 0, now, &uver);
        if (prc)
            omni__log(engine, OMNI_LOG_WARN, "push", "device registry: rewriting the user "
                                                     "index entry failed (%s)",
                      omni_status_code(prc));
        else
            clean_index(engine, store, d.user, dkey, now, uver); /* moved again meanwhile */
        if (moved)
            clean_index(engine, store, old_user, dkey, now, old_ver);

        omni_buf b = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "device");
        omni__json_w_raw(&b, rec.data, rec.len);
        omni__json_w_keyl(&b, "created");
        omni__json_w_bool(&b, created);
        omni__json_w_keyl(&b, "events");
        omni__json_w_arr_begin(&b);
        if (created)
            w_event(&b, "device.registered", d.user, NULL, platforms[d.platform], d.token, NULL,
                    "registeredAt", when);
        else
            w_event(&b, moved ? "device.moved" : "device.updated", d.user,
                    moved ? old_user : NULL, platforms[d.platform], d.token, NULL, "updatedAt",
                    when);
        omni__json_w_arr_end(&b);
        omni__json_w_obj_end(&b);
        omni__buf_free(&rec);
        cJSON_Delete(d.root);
        return omni__buf_finish(&b, OMNI_OK, out, out_len);
    }
    omni__buf_free(&rec);
    cJSON_Delete(d.root);
    if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ECONFLICT, "device register: the device kept changing; try "
                                         "again");
    return rc;
}

/* ---- get and remove ----------------------------------------------------- */

/* platform + token -> the record's key. */
static int locate(char *dkey, int *platform, const char *p, const char *token, const char *what)
{
    if (!p || !token)
        return omni__err(OMNI_EINVAL, "%s: NULL platform or device token", what);
    if ((*platform = check_platform(p, "platform")) < 0)
        return OMNI_EINVAL;
    int rc = check_token(*platform, token);
    return rc ? rc : device_key(dkey, *platform, token);
}

static int not_found(const char *what)
{
    return omni__err(OMNI_ENOTFOUND, "%s: no such device", what);
}

int omni_device_get(char **out, size_t *out_len, omni_engine *engine, const char *platform,
                    const char *device_token)
{
    out_init(out, out_len);
    omni_store *store = engine_store(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "device get: NULL out or engine");
    char dkey[KEY_MAX];
    int p;
    int rc = locate(dkey, &p, platform, device_token, "device get");
    if (rc)
        return rc;
    cJSON *rec;
    rc = load_record(store, dkey, omni_engine_now_ms(engine), &rec, NULL);
    if (rc == OMNI_ENOTFOUND)
        return not_found("device get");
    if (rc)
        return rc;
    if (strcmp(omni__json_str(rec, "deviceToken"), device_token) != 0) {
        cJSON_Delete(rec);
        return not_found("device get");
    }
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_item(&b, rec);
    cJSON_Delete(rec);
    return omni__buf_finish(&b, OMNI_OK, out, out_len);
}

int omni_device_remove(char **out, size_t *out_len, omni_engine *engine, const char *platform,
                       const char *device_token, const char *reason)
{
    out_init(out, out_len);
    omni_store *store = engine_store(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "device remove: NULL out or engine");
    char dkey[KEY_MAX];
    int p;
    int rc = locate(dkey, &p, platform, device_token, "device remove");
    if (rc)
        return rc;
    if (reason) {
        size_t n = strnlen(reason, REASON_MAX + 1);
        int ok = n >= 1 && n <= REASON_MAX && omni_utf8_validate(reason, n, NULL) == OMNI_OK;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
        if (!ok)
            return omni__err(OMNI_EINVAL, "device remove: reason must be 1 to %d bytes of "
                                          "UTF-8 without control characters",
                             REASON_MAX);
    }
    int64_t now = omni_engine_now_ms(engine);
    char when[OMNI_TIME_STRLEN];
    if (omni_time_format(when, sizeof(when), now) != OMNI_OK)
        return omni__err(OMNI_ETIME, "device remove: the engine's clock is out of range");
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        cJSON *rec;
        uint64_t ver = 0;
        rc = load_record(store, dkey, now, &rec, &ver);
        if (rc == OMNI_ENOTFOUND)
            return not_found("device remove");
        if (rc)
            return rc;
        if (strcmp(omni__json_str(rec, "deviceToken"), device_token) != 0) {
            cJSON_Delete(rec);
            return not_found("device remove");
        }
        char user[USER_MAX + 1], ukey[KEY_MAX];
        snprintf(user, sizeof(user), "%s", omni__json_str(rec, "userId"));
        user_key(ukey, user, dkey);
        uint64_t uver = 0;
        int k = index_version(store, ukey, now, &uver);
        if (k < 0) {
            cJSON_Delete(rec);
            return k;
        }
        rc = omni_store_delete(store, NS_DEVICE, dkey, ver, now);
        if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND) {
            cJSON_Delete(rec);
            continue;
        }
        if (rc) {
            cJSON_Delete(rec);
            return db_error(rc, "deleting the device");
        }
        if (k > 0)
            clean_index(engine, store, user, dkey, now, uver);
        omni_buf b = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "device");
        omni__json_w_item(&b, rec);
        omni__json_w_keyl(&b, "events");
        omni__json_w_arr_begin(&b);
        w_event(&b, reason ? "device.invalidated" : "device.unregistered", user, NULL,
                platforms[p], device_token, reason, "removedAt", when);
        omni__json_w_arr_end(&b);
        omni__json_w_obj_end(&b);
        cJSON_Delete(rec);
        return omni__buf_finish(&b, OMNI_OK, out, out_len);
    }
    return omni__err(OMNI_ECONFLICT, "device remove: the device kept changing; try again");
}

/* ---- list --------------------------------------------------------------- */

typedef struct entry {
    char *key;
    uint64_t version;
} entry;

typedef struct collect {
    omni_buf *items; /* platform listing: the records, as JSON array items */
    int trusted;
    int bad;         /* a stored record that is not JSON */
    entry *entries;  /* user listing: the index entries */
    size_t n, cap;
    int nomem;
} collect;

static int collect_cb(void *ctx, const char *key, size_t key_len, const char *value,
                      size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)expires_at_ms;
    collect *c = ctx;
    if (c->items) {
        if (!c->trusted && omni__json_validate(value, value_len, 0, "stored device") != OMNI_OK) {
            c->bad = 1;
            return 1;
        }
        omni__json_w_raw(c->items, value, value_len);
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        entry *e = realloc(c->entries, cap * sizeof(*e));
        if (!e) {
            c->nomem = 1;
            return 1;
        }
        c->entries = e;
        c->cap = cap;
    }
    char *k = malloc(key_len + 1);
    if (!k) {
        c->nomem = 1;
        return 1;
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    c->entries[c->n].key = k;
    c->entries[c->n].version = version;
    c->n++;
    return 0;
}

static void collect_clear(collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->entries[i].key);
    c->n = 0;
}

typedef struct list_query {
    size_t limit;
    const char *cursor;
    int platform; /* -1: any */
} list_query;

static int read_query(list_query *q, cJSON **root, const char *json, size_t len, int by_user)
{
    q->limit = LIST_DEFAULT;
    q->cursor = NULL;
    q->platform = -1;
    *root = NULL;
    if (!json)
        return OMNI_OK;
    int rc = omni__json_parse(root, json, len, QUERY_MAX_BYTES, "device list query");
    if (rc)
        return rc;
    if (!cJSON_IsObject(*root))
        return omni__err(OMNI_EINVAL, "device list: the query must be a JSON object");
    for (const cJSON *m = (*root)->child; m; m = m->next) {
        if (strcmp(m->string, "limit") == 0) {
            double v = cJSON_IsNumber(m) ? m->valuedouble : 0;
            if (!(v >= 1 && v <= LIST_MAX) || v != (double)(int64_t)v)
                return omni__err(OMNI_EINVAL, "device list: limit must be an integer from 1 to "
                                              "%d",
                                 LIST_MAX);
            q->limit = (size_t)v;
        } else if (strcmp(m->string, "cursor") == 0) {
            if (cJSON_IsNull(m))
                continue;
            if (!cJSON_IsString(m) || !m->valuestring || !m->valuestring[0] ||
                strlen(m->valuestring) > OMNI_STORE_MAX_KEY)
                return omni__err(OMNI_EINVAL, "device list: cursor must be a string from a "
                                              "previous page's \"next\"");
            q->cursor = m->valuestring;
        } else if (strcmp(m->string, "platform") == 0) {
            if (!by_user)
                return omni__err(OMNI_EINVAL, "device list: query.platform goes with a user; "
                                              "list a platform with the platform argument");
            if (cJSON_IsNull(m))
                continue;
            if ((q->platform = check_platform(cJSON_IsString(m) ? m->valuestring : NULL,
                                              "device list: query.platform")) < 0)
                return OMNI_EINVAL;
        } else {
            return omni__err(OMNI_EINVAL, "device list: unknown query member \"%.64s\"",
                             m->string);
        }
    }
    return OMNI_OK;
}

int omni_device_list(char **out, size_t *out_len, omni_engine *engine, const char *user_id,
                     const char *platform, const char *query_json, size_t len)
{
    out_init(out, out_len);
    omni_store *store = engine_store(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "device list: NULL out or engine");
    if (!user_id == !platform)
        return omni__err(OMNI_EINVAL, "device list: give exactly one of a user and a platform");
    int rc = user_id ? check_user(user_id, "device list: user id")
                     : (check_platform(platform, "device list: platform") < 0 ? OMNI_EINVAL
                                                                               : OMNI_OK);
    if (rc)
        return rc;
    list_query q;
    cJSON *qroot;
    rc = read_query(&q, &qroot, query_json, len, user_id != NULL);
    if (rc) {
        cJSON_Delete(qroot);
        return rc;
    }
    char prefix[KEY_MAX];
    if (platform)
        snprintf(prefix, sizeof(prefix), "%s/", platform);
    else if (q.platform >= 0)
        snprintf(prefix, sizeof(prefix), "%s/%s/", user_id, platforms[q.platform]);
    else
        snprintf(prefix, sizeof(prefix), "%s/", user_id);
    size_t pl = strlen(prefix);
    if (q.cursor && (strncmp(q.cursor, prefix, pl) != 0 || !q.cursor[pl])) {
        cJSON_Delete(qroot);
        return omni__err(OMNI_EINVAL, "device list: the cursor is not from this listing");
    }
    int64_t now = omni_engine_now_ms(engine);
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "items");
    omni__json_w_arr_begin(&b);
    char *next = NULL;
    collect c;
    memset(&c, 0, sizeof(c));
    if (platform) {
        c.items = &b;
        c.trusted = omni__store_trusted(store);
        rc = omni_store_list(store, NS_DEVICE, prefix, q.cursor, q.limit, now, collect_cb, &c,
                             &next);
        if (!rc && c.bad)
            rc = omni__err_retry(OMNI_ESTORAGE, 0, "device list: a stored device record is "
                                                   "not JSON");
        else if (rc)
            rc = db_error(rc, "listing devices");
    } else {
        size_t got = 0;
        char *after = q.cursor ? strdup(q.cursor) : NULL;
        if (q.cursor && !after)
            rc = omni__err(OMNI_ENOMEM, NULL);
        while (!rc && got < q.limit) {
            collect_clear(&c);
            omni_free(next);
            next = NULL;
            rc = omni_store_list(store, NS_DEVICE_USER, prefix, after, q.limit - got, now,
                                 collect_cb, &c, &next);
            if (rc) {
                rc = db_error(rc, "listing a user's devices");
                break;
            }
            if (c.nomem) {
                rc = omni__err(OMNI_ENOMEM, NULL);
                break;
            }
            for (size_t i = 0; !rc && i < c.n; i++) {
                const char *dkey = c.entries[i].key + strlen(user_id) + 1;
                cJSON *rec;
                int lr = load_record(store, dkey, now, &rec, NULL);
                if (lr && lr != OMNI_ENOTFOUND) {
                    rc = lr;
                    break;
                }
                if (rec && strcmp(omni__json_str(rec, "userId"), user_id) == 0) {
                    omni__json_w_item(&b, rec);
                    got++;
                } else {
                    clean_index(engine, store, user_id, dkey, now, c.entries[i].version);
                }
                cJSON_Delete(rec);
            }
            if (rc || !next)
                break;
            /* a next key that does not advance would loop forever */
            if (after && strcmp(next, after) <= 0) {
                rc = omni__err(OMNI_ESTORAGE, "device list: the store's cursor did not "
                                              "advance");
                break;
            }
            free(after);
            after = strdup(next);
            if (!after)
                rc = omni__err(OMNI_ENOMEM, NULL);
        }
        free(after);
        collect_clear(&c);
        free(c.entries);
    }
    cJSON_Delete(qroot);
    omni__json_w_arr_end(&b);
    omni__json_w_keyl(&b, "next");
    if (next)
        omni__json_w_str(&b, next);
    else
        omni__json_w_null(&b);
    omni__json_w_obj_end(&b);
    omni_free(next);
    return omni__buf_finish(&b, rc, out, out_len);
}
