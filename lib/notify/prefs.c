/* User notification preferences (seed 000's user-notification-preferences):
 * their checks, the quiet-hours arithmetic, and put/get/delete over the
 * engine's store (include/omni/orchestrator.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/datetime.h>
#include <omni/omni.h>
#include <omni/orchestrator.h>

#include "../core/buf.h"
#include "../core/engine.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../core/quiet_hours.h"
#include "../core/tz.h"
#include "notify_internal.h"

const char *const omni__notify_channels[] = {"push", "sms", "email", "whatsapp", NULL};
static const char *const msg_types[] = {"urgent", "important", "informational", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static int bad(const char *path, const char *why)
{
    return omni__err(OMNI_EINVAL, "notify preferences: %s %s", path, why);
}

static int members_ok(const cJSON *obj, const char *const *names, const char *path)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        if (!in_list(it->string, names)) {
            char p[200];
            snprintf(p, sizeof p, "%s%s%.40s", path, *path ? "." : "", it->string);
            return bad(p, "is not a known member");
        }
    }
    return OMNI_OK;
}

static int id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._:@+-", c)))
            return 0;
    }
    return 1;
}

static int e164_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 9 || n > 16 || s[0] != '+' || s[1] == '0')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int email_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 254)
        return 0;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 127)
            return 0;
    return 1;
}

static int hhmm(const cJSON *it, int *minutes)
{
    *minutes = omni__hhmm(cJSON_IsString(it) ? it->valuestring : NULL);
    return *minutes < 0 ? -1 : 0;
}

static int zone_ok(const cJSON *it, const char *path)
{
    if (!cJSON_IsString(it) || !omni__tz_name_valid(it->valuestring))
        return bad(path, "must be an IANA time zone name");
    omni__tz *tz = NULL;
    if (omni__tz_load(&tz, it->valuestring) != OMNI_OK) {
        omni_error_clear();
        return bad(path, "names no known time zone");
    }
    omni__tz_free(tz);
    return OMNI_OK;
}

/* A list of distinct names from `allowed` (1..max items). */
static int name_list_ok(const cJSON *arr, const char *const *allowed, int max, const char *path,
                        const char *why)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > max)
        return bad(path, why);
    const cJSON *it, *jt;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it) || !in_list(it->valuestring, allowed))
            return bad(path, why);
        for (jt = arr->child; jt != it; jt = jt->next)
            if (strcmp(jt->valuestring, it->valuestring) == 0)
                return bad(path, "must not repeat a name");
    }
    return OMNI_OK;
}

static int channel_ok(const cJSON *ch, const char *name)
{
    static const char *const addr_members[] = {"address", "enabled", NULL};
    static const char *const push_members[] = {"enabled", NULL};
    char p[64];
    snprintf(p, sizeof p, "channels.%s", name);
    if (!cJSON_IsObject(ch))
        return bad(p, "must be an object");
    int push = strcmp(name, "push") == 0;
    int rc = members_ok(ch, push ? push_members : addr_members, p);
    if (rc)
        return rc;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(ch, "enabled");
    if (en && !cJSON_IsBool(en)) {
        snprintf(p, sizeof p, "channels.%s.enabled", name);
        return bad(p, "must be true or false");
    }
    if (push)
        return OMNI_OK;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ch, "address");
    const char *s = cJSON_IsString(a) ? a->valuestring : NULL;
    snprintf(p, sizeof p, "channels.%s.address", name);
    if (strcmp(name, "email") == 0 ? !email_ok(s) : !e164_ok(s))
        return bad(p, strcmp(name, "email") == 0
                          ? "must be an email address (3..254 bytes with one @)"
                          : "must be an E.164 number (+ and 8 to 15 digits)");
    return OMNI_OK;
}

int omni__notify_prefs_check(const cJSON *prefs)
{
    static const char *const members[] = {"userId", "channels", "preferredChannels", "optOuts",
                                          "doNotDisturb", "quietHours", "timezone", "locale",
                                          "createdAt", "updatedAt", NULL};
    static const char *const qh_members[] = {"start", "end", "timezone", "enabled", NULL};
    if (!cJSON_IsObject(prefs))
        return bad("the document", "must be a JSON object");
    int rc = members_ok(prefs, members, "");
    if (rc)
        return rc;
    if (!id_ok(omni__json_str(prefs, "userId")))
        return bad("userId", "must be 1 to 128 bytes of [A-Za-z0-9._:@+-]");
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(prefs, "channels");
    if (!cJSON_IsObject(chs))
        return bad("channels", "must be an object {sms?, email?, whatsapp?, push?}");
    if ((rc = members_ok(chs, omni__notify_channels, "channels")))
        return rc;
    const cJSON *it;
    cJSON_ArrayForEach(it, chs) {
        if ((rc = channel_ok(it, it->string)))
            return rc;
    }
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(prefs, "preferredChannels");
    if (pc && (rc = name_list_ok(pc, omni__notify_channels, 4, "preferredChannels",
                                 "must list channels (push, sms, email, whatsapp)")))
        return rc;
    const cJSON *oo = cJSON_GetObjectItemCaseSensitive(prefs, "optOuts");
    if (oo && (rc = name_list_ok(oo, omni__notify_channels, 4, "optOuts",
                                 "must list channels (push, sms, email, whatsapp)")))
        return rc;
    const cJSON *dnd = cJSON_GetObjectItemCaseSensitive(prefs, "doNotDisturb");
    if (dnd && !cJSON_IsBool(dnd) &&
        (rc = name_list_ok(dnd, msg_types, 3, "doNotDisturb",
                           "must be true, false or a list of message types")))
        return rc;
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(prefs, "timezone");
    if (tz && (rc = zone_ok(tz, "timezone")))
        return rc;
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(prefs, "locale");
    if (loc) {
        const char *s = cJSON_IsString(loc) ? loc->valuestring : "";
        size_t n = strlen(s);
        int ok = n >= 1 && n <= 35;
        for (size_t i = 0; ok && i < n; i++)
            ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                 (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_';
        if (!ok)
            return bad("locale", "must be 1 to 35 bytes of [A-Za-z0-9_-]");
    }
    const cJSON *qh = cJSON_GetObjectItemCaseSensitive(prefs, "quietHours");
    if (qh) {
        int m;
        if (!cJSON_IsObject(qh))
            return bad("quietHours", "must be an object {start, end, timezone?, enabled?}");
        if ((rc = members_ok(qh, qh_members, "quietHours")))
            return rc;
        if (hhmm(cJSON_GetObjectItemCaseSensitive(qh, "start"), &m))
            return bad("quietHours.start", "must be a time \"HH:MM\" (00:00 to 23:59)");
        if (hhmm(cJSON_GetObjectItemCaseSensitive(qh, "end"), &m))
            return bad("quietHours.end", "must be a time \"HH:MM\" (00:00 to 23:59)");
        const cJSON *qtz = cJSON_GetObjectItemCaseSensitive(qh, "timezone");
        if (qtz && (rc = zone_ok(qtz, "quietHours.timezone")))
            return rc;
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(qh, "enabled");
        if (en && !cJSON_IsBool(en))
            return bad("quietHours.enabled", "must be true or false");
    }
    for (int i = 0; i < 2; i++) {
        const char *k = i ? "updatedAt" : "createdAt";
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(prefs, k);
        int64_t ms;
        if (t && (!cJSON_IsString(t) ||
                  omni_time_parse(&ms, t->valuestring, strlen(t->valuestring)) != OMNI_OK)) {
            omni_error_clear();
            return bad(k, "must be an RFC 3339 time");
        }
    }
    return OMNI_OK;
}

int omni__notify_quiet_until(const cJSON *prefs, int64_t now_ms, int64_t *until_ms)
{
    *until_ms = 0;
    const cJSON *qh = cJSON_GetObjectItemCaseSensitive(prefs, "quietHours");
    int start = 0, end = 0;
    if (!cJSON_IsObject(qh) || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(qh, "enabled")) ||
        hhmm(cJSON_GetObjectItemCaseSensitive(qh, "start"), &start) ||
        hhmm(cJSON_GetObjectItemCaseSensitive(qh, "end"), &end) || start == end)
        return OMNI_OK;
    const char *name = omni__json_str(qh, "timezone");
    if (!name)
        name = omni__json_str(prefs, "timezone");
    if (!name)
        name = "UTC";
    omni__tz *tz = NULL;
    int rc = omni__tz_load(&tz, name);
    if (rc)
        return rc;
    rc = omni__quiet_hours(tz, start, end, now_ms, until_ms);
    if (rc > 0)
        rc = OMNI_OK;
    omni__tz_free(tz);
    return rc;
}

/* ---- store --------------------------------------------------------------------------- */

static omni_store *store_of(omni_engine *e)
{
    return e ? omni_engine_store(e) : NULL;
}

int omni_notify_prefs_put(char **out, size_t *out_len, omni_engine *engine,
                          const char *prefs_json, size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = store_of(engine);
    if (!store || !prefs_json)
        return omni__err(OMNI_EINVAL, "notify preferences: engine and document are required");
    if (len > OMNI_NOTIFY_MAX_PREFS)
        return omni__err(OMNI_ETOOLARGE, "notify preferences: the document is over %u bytes",
                         OMNI_NOTIFY_MAX_PREFS);
    cJSON *doc = NULL;
    int rc = omni__json_parse(&doc, prefs_json, len, OMNI_NOTIFY_MAX_PREFS, "notify preferences");
    if (rc)
        return rc;
    if ((rc = omni__notify_prefs_check(doc))) {
        cJSON_Delete(doc);
        return rc;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "createdAt");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "updatedAt");
    const char *user = omni__json_str(doc, "userId");
    int64_t now = omni_engine_now_ms(engine);
    char ts[40];
    if ((rc = omni_time_format(ts, sizeof ts, now))) {
        cJSON_Delete(doc);
        return rc;
    }
    char *text = NULL;
    size_t tlen = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        char *old = NULL;
        uint64_t ver = 0;
        rc = omni_store_get(store, OMNI__NOTIFY_NS, user, now, &old, NULL, &ver, NULL);
        char created[40];
        snprintf(created, sizeof created, "%s", ts);
        if (rc == OMNI_ENOTFOUND) {
            omni_error_clear();
            ver = OMNI_STORE_CREATE;
        } else if (rc) {
            break;
        } else {
            cJSON *o = cJSON_Parse(old);
            const char *c = omni__json_str(o, "createdAt");
            if (c && strlen(c) < sizeof created)
                snprintf(created, sizeof created, "%s", c);
            cJSON_Delete(o);
        }
        omni_free(old);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "createdAt");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "updatedAt");
        if (!cJSON_AddStringToObject(doc, "createdAt", created) ||
            !cJSON_AddStringToObject(doc, "updatedAt", ts)) {
            rc = omni__err(OMNI_ENOMEM, "notify preferences: out of memory");
            break;
        }
        omni_free(text);
        text = NULL;
        if ((rc = omni__json_print(&text, &tlen, doc)))
            break;
        rc = omni_store_put(store, OMNI__NOTIFY_NS, user, text, tlen, ver, 0, now, NULL);
        if (rc != OMNI_ECONFLICT && rc != OMNI_EEXISTS)
            break;
        omni_error_clear();
        rc = omni__err(OMNI_ECONFLICT, "notify preferences: changed concurrently too often");
    }
    cJSON_Delete(doc);
    if (!rc && out) {
        *out = text;
        if (out_len)
            *out_len = tlen;
        text = NULL;
    }
    omni_free(text);
    return rc;
}

int omni_notify_prefs_get(char **out, size_t *out_len, omni_engine *engine, const char *user_id)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = store_of(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "notify preferences: out and engine are required");
    if (!id_ok(user_id))
        return bad("userId", "must be 1 to 128 bytes of [A-Za-z0-9._:@+-]");
    int rc = omni_store_get(store, OMNI__NOTIFY_NS, user_id, omni_engine_now_ms(engine), out,
                            out_len, NULL, NULL);
    if (rc == OMNI_ENOTFOUND) {
        omni_error_clear();
        return omni__err(OMNI_ENOTFOUND, "notify preferences: none for user %s", user_id);
    }
    return rc;
}

int omni_notify_prefs_delete(omni_engine *engine, const char *user_id)
{
    omni_store *store = store_of(engine);
    if (!store)
        return omni__err(OMNI_EINVAL, "notify preferences: engine is required");
    if (!id_ok(user_id))
        return bad("userId", "must be 1 to 128 bytes of [A-Za-z0-9._:@+-]");
    int rc = omni_store_delete(store, OMNI__NOTIFY_NS, user_id, OMNI_STORE_ANY_VERSION,
                               omni_engine_now_ms(engine));
    if (rc == OMNI_ENOTFOUND) {
        omni_error_clear();
        return omni__err(OMNI_ENOTFOUND, "notify preferences: none for user %s", user_id);
    }
    return rc;
}
