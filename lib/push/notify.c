/* pushNotification (seed 001): one event to every device of every
 * recipient, after the recipient's preferences (disabled, notification
 * type turned off, quiet hours in the user's time zone), through the
 * delivery engine (one job per device). See include/omni/push.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/buf.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "core/quiet_hours.h"
#include "core/tz.h"

#define MAX_USER_ID 128
#define MAX_TOKEN 4096
#define TZ_CACHE 8

/* One line of the result: a recipient-level skip, or one device's job. */
typedef struct entry {
    const char *recipient; /* in batch->event */
    const char *platform;  /* "all" for skips */
    const char *reason;    /* skips: DISABLED, OPTED_OUT, QUIET_HOURS, NO_DEVICES */
    char *error;           /* skips: why */
    omni_delivery_job *job;
} entry;

struct omni_push_batch {
    cJSON *event;
    cJSON *devices; /* registry records read for recipients without deviceTokens */
    entry *entries;
    size_t n, cap;
};

typedef struct tz_cache {
    char names[TZ_CACHE][OMNI__TZ_MAX_NAME + 1];
    omni__tz *zones[TZ_CACHE];
    int n;
} tz_cache;

static const char *const types[] = {"new_message", "assignment", "escalation", "reminder",
                                    "alert", NULL};
static const char *const platforms[] = {"ios", "android", "web", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static const char *carrier_of(const char *platform)
{
    return strcmp(platform, "ios") == 0 ? "apns" : strcmp(platform, "android") == 0 ? "fcm"
                                                                                     : "webpush";
}

static int bad(const char *path, const char *why)
{
    return omni__err(OMNI_EINVAL, "push notify: %s %s", path, why);
}

void omni_push_batch_free(omni_push_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->entries[i].error);
        omni_delivery_job_free(b->entries[i].job);
    }
    free(b->entries);
    cJSON_Delete(b->event);
    cJSON_Delete(b->devices);
    free(b);
}

static entry *add_entry(omni_push_batch *b, const char *recipient, const char *platform)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        entry *e = realloc(b->entries, cap * sizeof *e);
        if (!e)
            return NULL;
        b->entries = e;
        b->cap = cap;
    }
    entry *e = &b->entries[b->n++];
    memset(e, 0, sizeof *e);
    e->recipient = recipient;
    e->platform = platform;
    return e;
}

static int add_skip(omni_push_batch *b, const char *recipient, const char *reason,
                    const char *error)
{
    entry *e = add_entry(b, recipient, "all");
    if (!e || !(e->error = strdup(error)))
        return omni__err(OMNI_ENOMEM, "push notify: out of memory");
    e->reason = reason;
    return OMNI_OK;
}

/* ---- preferences ----------------------------------------------------------------------------- */

static int hhmm(const cJSON *it, int *minutes)
{
    *minutes = omni__hhmm(cJSON_IsString(it) ? it->valuestring : NULL);
    return *minutes < 0 ? -1 : 0;
}

static int zone(tz_cache *c, const char *name, const omni__tz **out)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0) {
            *out = c->zones[i];
            return OMNI_OK;
        }
    omni__tz *tz = NULL;
    int rc = omni__tz_load(&tz, name);
    if (rc)
        return rc;
    if (c->n == TZ_CACHE) { /* keep the newest: drop the oldest */
        omni__tz_free(c->zones[0]);
        memmove(c->zones, c->zones + 1, sizeof c->zones[0] * (TZ_CACHE - 1));
        memmove(c->names, c->names + 1, sizeof c->names[0] * (TZ_CACHE - 1));
        c->n--;
    }
    snprintf(c->names[c->n], sizeof c->names[0], "%s", name);
    c->zones[c->n++] = tz;
    *out = tz;
    return OMNI_OK;
}

/* Checks a recipient's preferences; *skip receives the reason (NULL: send)
 * and msg why. */
static int check_preferences(const cJSON *prefs, const char *path, const char *type,
                             int critical, int64_t now_ms, tz_cache *tzc, const char **skip,
                             char *msg, size_t msg_cap)
{
    static const char *const members[] = {"enabled", "notificationTypes", "platforms",
                                          "quietHours", "timezone", NULL};
    static const char *const qh_members[] = {"start", "end", "timezone", "enabled", NULL};
    char p[160];
    *skip = NULL;
    if (!prefs || cJSON_IsNull(prefs))
        return OMNI_OK;
    if (!cJSON_IsObject(prefs))
        return bad(path, "must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, prefs) if (!in_list(it->string, members))
    {
        snprintf(p, sizeof p, "%s.%.40s", path, it->string);
        return bad(p, "is not a preference (enabled, notificationTypes, platforms, quietHours, "
                      "timezone)");
    }
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(prefs, "enabled");
    if (enabled && !cJSON_IsBool(enabled)) {
        snprintf(p, sizeof p, "%s.enabled", path);
        return bad(p, "must be true or false");
    }
    const cJSON *ntypes = cJSON_GetObjectItemCaseSensitive(prefs, "notificationTypes");
    if (ntypes && !cJSON_IsObject(ntypes)) {
        snprintf(p, sizeof p, "%s.notificationTypes", path);
        return bad(p, "must be an object of notification types to true or false");
    }
    cJSON_ArrayForEach(it, ntypes) if (!in_list(it->string, types) || !cJSON_IsBool(it))
    {
        snprintf(p, sizeof p, "%s.notificationTypes.%.40s", path, it->string);
        return bad(p, "must be a notification type (new_message, assignment, escalation, "
                      "reminder, alert) set to true or false");
    }
    const cJSON *plats = cJSON_GetObjectItemCaseSensitive(prefs, "platforms");
    if (plats && !cJSON_IsArray(plats)) {
        snprintf(p, sizeof p, "%s.platforms", path);
        return bad(p, "must be an array of platforms");
    }
    cJSON_ArrayForEach(it, plats) if (!cJSON_IsString(it) || !in_list(it->valuestring, platforms))
    {
        snprintf(p, sizeof p, "%s.platforms", path);
        return bad(p, "must list \"ios\", \"android\" or \"web\"");
    }
    const cJSON *user_tz = cJSON_GetObjectItemCaseSensitive(prefs, "timezone");
    if (user_tz && (!cJSON_IsString(user_tz) || !omni__tz_name_valid(user_tz->valuestring))) {
        snprintf(p, sizeof p, "%s.timezone", path);
        return bad(p, "must be an IANA time zone name");
    }
    const cJSON *qh = cJSON_GetObjectItemCaseSensitive(prefs, "quietHours");
    int start = 0, end = 0, qh_on = 0;
    const char *tzname = user_tz ? user_tz->valuestring : "UTC";
    if (qh && !cJSON_IsNull(qh)) {
        if (!cJSON_IsObject(qh)) {
            snprintf(p, sizeof p, "%s.quietHours", path);
            return bad(p, "must be an object {start, end, timezone?}");
        }
        cJSON_ArrayForEach(it, qh) if (!in_list(it->string, qh_members))
        {
            snprintf(p, sizeof p, "%s.quietHours.%.40s", path, it->string);
            return bad(p, "is not a member of quietHours (start, end, timezone, enabled)");
        }
        if (hhmm(cJSON_GetObjectItemCaseSensitive(qh, "start"), &start)) {
            snprintf(p, sizeof p, "%s.quietHours.start", path);
            return bad(p, "must be a time \"HH:MM\" (00:00 to 23:59)");
        }
        if (hhmm(cJSON_GetObjectItemCaseSensitive(qh, "end"), &end)) {
            snprintf(p, sizeof p, "%s.quietHours.end", path);
            return bad(p, "must be a time \"HH:MM\" (00:00 to 23:59)");
        }
        const cJSON *qtz = cJSON_GetObjectItemCaseSensitive(qh, "timezone");
        if (qtz && (!cJSON_IsString(qtz) || !omni__tz_name_valid(qtz->valuestring))) {
            snprintf(p, sizeof p, "%s.quietHours.timezone", path);
            return bad(p, "must be an IANA time zone name");
        }
        if (qtz)
            tzname = qtz->valuestring;
        const cJSON *qen = cJSON_GetObjectItemCaseSensitive(qh, "enabled");
        if (qen && !cJSON_IsBool(qen)) {
            snprintf(p, sizeof p, "%s.quietHours.enabled", path);
            return bad(p, "must be true or false");
        }
        qh_on = !cJSON_IsFalse(qen) && start != end;
    }
    if (cJSON_IsFalse(enabled)) {
        *skip = "DISABLED";
        snprintf(msg, msg_cap, "notifications are turned off");
        return OMNI_OK;
    }
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ntypes, type))) {
        *skip = "OPTED_OUT";
        snprintf(msg, msg_cap, "notification type %s is turned off", type);
        return OMNI_OK;
    }
    if (!qh_on || critical)
        return OMNI_OK;
    const omni__tz *tz = NULL;
    int rc = zone(tzc, tzname, &tz);
    if (rc) {
        snprintf(p, sizeof p, "%s.quietHours.timezone", path);
        omni_error_clear();
        return omni__err(OMNI_EINVAL, "push notify: %s: no time zone %s", p, tzname);
    }
    int quiet = omni__quiet_hours(tz, start, end, now_ms, NULL);
    if (quiet < 0)
        return quiet;
    if (quiet) {
        *skip = "QUIET_HOURS";
        snprintf(msg, msg_cap, "quiet hours until %02d:%02d %s", end / 60, end % 60, tzname);
    }
    return OMNI_OK;
}

/* ---- devices --------------------------------------------------------------------------------- */

/* The user's devices from the registry (at most OMNI_PUSH_MAX_DEVICES),
 * appended to b->devices; *first is the index of the first one. */
static int registry_devices(omni_push_batch *b, omni_engine *e, const char *user, int *first,
                            int *count)
{
    *first = cJSON_GetArraySize(b->devices);
    *count = 0;
    char query[400];
    char *cursor = NULL;
    int rc = OMNI_OK;
    while (*count < OMNI_PUSH_MAX_DEVICES) {
        omni_buf q = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&q);
        omni__json_w_keyl(&q, "limit");
        omni__json_w_int(&q, OMNI_PUSH_MAX_DEVICES);
        if (cursor) {
            omni__json_w_keyl(&q, "cursor");
            omni__json_w_str(&q, cursor);
        }
        omni__json_w_obj_end(&q);
        rc = omni__buf_status(&q);
        if (!rc)
            snprintf(query, sizeof query, "%.*s", (int)q.len, q.data);
        omni__buf_free(&q);
        char *out = NULL;
        size_t n = 0;
        if (!rc)
            rc = omni_device_list(&out, &n, e, user, NULL, query, strlen(query));
        cJSON *page = NULL;
        if (!rc)
            rc = omni__json_parse(&page, out, n, 0, "device list");
        omni_free(out);
        if (rc)
            break;
        cJSON *item;
        cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
        while (*count < OMNI_PUSH_MAX_DEVICES && (item = cJSON_DetachItemFromArray(items, 0))) {
            cJSON_AddItemToArray(b->devices, item);
            (*count)++;
        }
        const char *next = omni__json_str(page, "next");
        free(cursor);
        cursor = next ? strdup(next) : NULL;
        cJSON_Delete(page);
        if (!next)
            break;
        if (!cursor) {
            rc = omni__err(OMNI_ENOMEM, "push notify: out of memory");
            break;
        }
    }
    free(cursor);
    return rc;
}

/* One device of a recipient, as {token, platform, appId?, subscription?}. */
typedef struct device {
    const char *token, *platform, *app_id;
    const cJSON *subscription;
} device;

static int read_device(device *dv, const cJSON *d, const char *path)
{
    char p[160];
    memset(dv, 0, sizeof *dv);
    if (!cJSON_IsObject(d))
        return bad(path, "must be an object {token, platform, appId?}");
    const char *token = omni__json_str(d, "token");
    if (!token)
        token = omni__json_str(d, "deviceToken"); /* a registry record */
    size_t tlen = token ? strlen(token) : 0;
    if (!tlen || tlen > MAX_TOKEN) {
        snprintf(p, sizeof p, "%s.token", path);
        return bad(p, "must be a string of 1 to 4096 bytes");
    }
    const char *platform = omni__json_str(d, "platform");
    if (!in_list(platform, platforms)) {
        snprintf(p, sizeof p, "%s.platform", path);
        return bad(p, "must be \"ios\", \"android\" or \"web\"");
    }
    const cJSON *app = cJSON_GetObjectItemCaseSensitive(d, "appId");
    if (app && !cJSON_IsNull(app) &&
        (!cJSON_IsString(app) || !*app->valuestring || strlen(app->valuestring) > 256)) {
        snprintf(p, sizeof p, "%s.appId", path);
        return bad(p, "must be a string of 1 to 256 bytes");
    }
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(d, "subscription");
    if (sub && !cJSON_IsNull(sub) && !cJSON_IsObject(sub)) {
        snprintf(p, sizeof p, "%s.subscription", path);
        return bad(p, "must be an object {endpoint, keys}");
    }
    dv->token = token;
    dv->platform = platform;
    dv->app_id = cJSON_IsString(app) ? app->valuestring : NULL;
    dv->subscription = cJSON_IsObject(sub) ? sub : NULL;
    return OMNI_OK;
}

/* ---- publishing ------------------------------------------------------------------------------ */

typedef struct shared {
    const char *corr;
    char *payload;  /* event.payload printed */
    const cJSON *options;
    int64_t expires_at; /* from options.ttl, 0: none */
} shared;

/* The delivery engine's event of one device. */
static int device_event(omni_buf *b, const shared *sh, const char *user, const device *dv,
                        const cJSON *subscription)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "correlationId");
    omni__json_w_str(b, sh->corr);
    omni__json_w_keyl(b, "recipient");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "channelIdentifier");
    omni__json_w_str(b, dv->token);
    omni__json_w_keyl(b, "carrier");
    omni__json_w_str(b, carrier_of(dv->platform));
    omni__json_w_keyl(b, "userId");
    omni__json_w_str(b, user);
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "push");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "platform");
    omni__json_w_str(b, dv->platform);
    if (subscription) {
        omni__json_w_keyl(b, "subscription");
        omni__json_w_item(b, subscription);
    } else {
        omni__json_w_keyl(b, "token");
        omni__json_w_str(b, dv->token);
    }
    omni__json_w_keyl(b, "payload");
    omni__json_w_raw(b, sh->payload, strlen(sh->payload));
    int topic = dv->app_id && strcmp(dv->platform, "ios") == 0 &&
                !cJSON_GetObjectItemCaseSensitive(sh->options, "topic");
    if (sh->options || topic) {
        omni__json_w_keyl(b, "options");
        omni__json_w_obj_begin(b);
        const cJSON *it;
        cJSON_ArrayForEach(it, sh->options) {
            omni__json_w_key(b, it->string);
            omni__json_w_item(b, it);
        }
        if (topic) {
            omni__json_w_keyl(b, "topic");
            omni__json_w_str(b, dv->app_id);
        }
        omni__json_w_obj_end(b);
    }
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "options");
    omni__json_w_obj_begin(b);
    char tid[65];
    omni__sha256_hex(tid, dv->token, strlen(dv->token));
    omni__json_w_keyl(b, "idempotencyKey");
    omni_buf key = OMNI_BUF_INIT;
    omni__buf_printf(&key, "push/%s/%s/%s/%s", sh->corr, user, dv->platform, tid);
    int rc = omni__buf_status(&key);
    if (!rc)
        omni__json_w_strn(b, key.data, key.len);
    omni__buf_free(&key);
    if (rc)
        return rc;
    if (sh->expires_at) {
        char t[40];
        if (omni_time_format(t, sizeof t, sh->expires_at) == OMNI_OK) {
            omni__json_w_keyl(b, "expiresAt");
            omni__json_w_str(b, t);
        }
    }
    omni__json_w_obj_end(b);
    omni__json_w_obj_end(b);
    return omni__buf_status(b);
}

static int publish_device(omni_push_batch *b, omni_delivery *d, const shared *sh,
                          const char *user, const device *dv, const char *path, int64_t now)
{
    omni_engine *e = omni_delivery_engine(d);
    const cJSON *sub = NULL;
    cJSON *record = NULL;
    int rc = OMNI_OK;
    if (strcmp(dv->platform, "web") == 0) {
        sub = dv->subscription;
        if (!sub) { /* the registry's record of that endpoint */
            char *out = NULL;
            size_t n = 0;
            rc = omni_device_get(&out, &n, e, "web", dv->token);
            if (!rc)
                rc = omni__json_parse(&record, out, n, 0, "device record");
            omni_free(out);
            if (rc == OMNI_ENOTFOUND || rc == OMNI_EINVAL) {
                omni_error_clear();
                char p[200];
                snprintf(p, sizeof p, "%s.subscription", path);
                return bad(p, "is required for a web device that is not registered");
            }
            if (rc)
                return rc;
            sub = cJSON_GetObjectItemCaseSensitive(record, "subscription");
        }
    }
    omni_buf ev = OMNI_BUF_INIT;
    rc = device_event(&ev, sh, user, dv, sub);
    entry *en = NULL;
    if (!rc && !(en = add_entry(b, user, NULL)))
        rc = omni__err(OMNI_ENOMEM, "push notify: out of memory");
    if (!rc) {
        en->platform = strcmp(dv->platform, "ios") == 0       ? "ios"
                       : strcmp(dv->platform, "android") == 0 ? "android"
                                                              : "web";
        rc = omni_delivery_publish(&en->job, d, ev.data, ev.len, NULL, 0, now);
        if (rc)
            b->n--; /* the entry is dropped with the batch's failure */
    }
    omni__buf_free(&ev);
    cJSON_Delete(record);
    return rc;
}

static int read_event(cJSON *ev, shared *sh, const char **type, int *critical, int64_t now)
{
    if (!cJSON_IsObject(ev))
        return bad("the event", "must be a JSON object");
    sh->corr = omni__json_str(ev, "correlationId");
    if (!sh->corr || !*sh->corr || strlen(sh->corr) > 256)
        return bad("correlationId", "must be a string of 1 to 256 bytes");
    *type = omni__json_str(ev, "notificationType");
    if (!in_list(*type, types))
        return bad("notificationType", "must be new_message, assignment, escalation, reminder "
                                       "or alert");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(ev, "recipients");
    int n = cJSON_GetArraySize(rs);
    if (!cJSON_IsArray(rs) || n < 1 || n > OMNI_PUSH_MAX_RECIPIENTS)
        return bad("recipients", "must be an array of 1 to 1000 recipients");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(ev, "payload");
    if (!cJSON_IsObject(payload))
        return bad("payload", "must be an object {title, body, ...}");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(ev, "options");
    if (opts && !cJSON_IsNull(opts) && !cJSON_IsObject(opts))
        return bad("options", "must be an object");
    sh->options = cJSON_IsObject(opts) ? opts : NULL;
    const char *prio = omni__json_str(sh->options, "priority");
    *critical = prio && strcmp(prio, "critical") == 0;
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(sh->options, "ttl");
    if (ttl && cJSON_IsNumber(ttl) && ttl->valuedouble > 0 && ttl->valuedouble <= 2419200 &&
        ttl->valuedouble == (double)(int64_t)ttl->valuedouble)
        sh->expires_at = now + (int64_t)ttl->valuedouble * 1000;
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(ev, "context");
    if (ctx && !cJSON_IsNull(ctx) && !cJSON_IsObject(ctx))
        return bad("context", "must be an object");
    return omni__json_print(&sh->payload, NULL, payload);
}

int omni_push_notify_begin(omni_push_batch **out, omni_delivery *d, const char *event_json,
                           size_t len, int64_t now)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push notify: out is NULL");
    *out = NULL;
    if (!d || !event_json)
        return omni__err(OMNI_EINVAL, "push notify: delivery and event are required");
    if (now < 0)
        return omni__err(OMNI_EINVAL, "push notify: now_ms must be >= 0");
    if (len > OMNI_PUSH_MAX_EVENT)
        return omni__err(OMNI_ETOOLARGE, "push notify: the event is over %u bytes",
                         OMNI_PUSH_MAX_EVENT);
    omni_push_batch *b = calloc(1, sizeof *b);
    if (!b)
        return omni__err(OMNI_ENOMEM, "push notify: out of memory");
    int rc = omni__json_parse(&b->event, event_json, len, OMNI_PUSH_MAX_EVENT, "push event");
    shared sh = {0};
    const char *type = NULL;
    int critical = 0;
    if (!rc)
        rc = read_event(b->event, &sh, &type, &critical, now);
    if (!rc && !(b->devices = cJSON_CreateArray()))
        rc = omni__err(OMNI_ENOMEM, "push notify: out of memory");
    tz_cache tzc = {0};
    omni_engine *e = omni_delivery_engine(d);
    const cJSON *r;
    int ri = 0;
    const cJSON *recipients = rc ? NULL : cJSON_GetObjectItemCaseSensitive(b->event, "recipients");
    cJSON_ArrayForEach(r, recipients) {
        char path[64];
        snprintf(path, sizeof path, "recipients[%d]", ri++);
        const char *user = omni__json_str(r, "userId");
        if (!cJSON_IsObject(r)) {
            rc = bad(path, "must be an object {userId, deviceTokens?, preferences?}");
        } else if (!user || !*user || strlen(user) > MAX_USER_ID) {
            char p[80];
            snprintf(p, sizeof p, "%s.userId", path);
            rc = bad(p, "must be a string of 1 to 128 bytes");
        }
        const char *skip = NULL;
        char msg[200] = "", p[96];
        snprintf(p, sizeof p, "%s.preferences", path);
        if (!rc)
            rc = check_preferences(cJSON_GetObjectItemCaseSensitive(r, "preferences"), p, type,
                                   critical, now, &tzc, &skip, msg, sizeof msg);
        if (rc)
            break;
        if (skip) {
            if ((rc = add_skip(b, user, skip, msg)))
                break;
            continue;
        }
        const cJSON *plats = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(r, "preferences"), "platforms");
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "deviceTokens");
        int first = 0, count = 0, from_registry = !list || cJSON_IsNull(list);
        if (from_registry) {
            if ((rc = registry_devices(b, e, user, &first, &count)))
                break;
            list = b->devices;
        } else if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > OMNI_PUSH_MAX_DEVICES) {
            snprintf(p, sizeof p, "%s.deviceTokens", path);
            rc = bad(p, "must be an array of at most 100 devices");
            break;
        } else {
            count = cJSON_GetArraySize(list);
        }
        int sent = 0;
        for (int i = 0; !rc && i < count; i++) {
            device dv;
            snprintf(p, sizeof p, "%s.deviceTokens[%d]", path, i);
            if ((rc = read_device(&dv, cJSON_GetArrayItem(list, first + i), p)))
                break;
            int wanted = !plats;
            const cJSON *pl;
            cJSON_ArrayForEach(pl, plats) wanted |= strcmp(pl->valuestring, dv.platform) == 0;
            if (!wanted)
                continue;
            if (!(rc = publish_device(b, d, &sh, user, &dv, p, now)))
                sent++;
        }
        if (!rc && !sent)
            rc = add_skip(b, user, "NO_DEVICES",
                          from_registry ? "the user has no registered device"
                                        : "no device of the user's platforms");
        if (rc)
            break;
    }
    for (int i = 0; i < tzc.n; i++)
        omni__tz_free(tzc.zones[i]);
    free(sh.payload);
    if (rc) {
        omni_push_batch_free(b);
        return rc;
    }
    *out = b;
    return OMNI_OK;
}

size_t omni_push_batch_count(const omni_push_batch *b)
{
    return b ? b->n : 0;
}

omni_delivery_job *omni_push_batch_job(omni_push_batch *b, size_t i)
{
    return b && i < b->n ? b->entries[i].job : NULL;
}

/* ---- results --------------------------------------------------------------------------------- */

typedef struct summary {
    int64_t total, sent, failed, skipped, pending;
} summary;

static int job_line(omni_buf *b, cJSON *events, const entry *en, summary *s)
{
    char *text = NULL;
    size_t n = 0;
    cJSON *res = NULL;
    int rc = omni_delivery_job_result(en->job, &text, &n);
    if (!rc)
        rc = omni__json_parse(&res, text, n, 0, "delivery result");
    omni_free(text);
    if (rc)
        return rc;
    const char *status = omni__json_str(res, "delivery.status");
    const char *line = "pending";
    if (status && (strcmp(status, "sent") == 0 || strcmp(status, "queued") == 0))
        line = "sent";
    else if (status && (strcmp(status, "failed") == 0 || strcmp(status, "expired") == 0))
        line = "failed";
    s->sent += line[0] == 's';
    s->failed += line[0] == 'f';
    s->pending += line[0] == 'p';
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, line);
    const char *v = omni__json_str(res, "delivery.carrierMessageId");
    if (v) {
        omni__json_w_keyl(b, "messageId");
        omni__json_w_str(b, v);
    }
    if ((v = omni__json_str(res, "delivery.messageId"))) {
        omni__json_w_keyl(b, "deliveryId");
        omni__json_w_str(b, v);
    }
    if (line[0] != 's' && (v = omni__json_str(res, "error.message"))) {
        omni__json_w_keyl(b, "error");
        omni__json_w_str(b, v);
        omni__json_w_keyl(b, "errorCode");
        omni__json_w_str(b, omni__json_str(res, "error.code"));
    }
    if (line[0] == 'p' && (v = omni__json_str(res, "delivery.nextAttemptAt"))) {
        omni__json_w_keyl(b, "nextAttemptAt");
        omni__json_w_str(b, v);
    }
    int dup = 0;
    if (omni__json_bool(res, "duplicate", &dup) == OMNI_OK && dup) {
        omni__json_w_keyl(b, "duplicate");
        omni__json_w_bool(b, 1);
    }
    cJSON *evs = cJSON_GetObjectItemCaseSensitive(res, "events"), *ev;
    while ((ev = cJSON_DetachItemFromArray(evs, 0)))
        cJSON_AddItemToArray(events, ev);
    omni_error_clear();
    cJSON_Delete(res);
    return OMNI_OK;
}

int omni_push_batch_result(const omni_push_batch *pb, char **out, size_t *out_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push notify: out is NULL");
    *out = NULL;
    if (!pb)
        return omni__err(OMNI_EINVAL, "push notify: batch is NULL");
    omni_buf b = OMNI_BUF_INIT;
    cJSON *events = cJSON_CreateArray();
    summary s = {0};
    int rc = events ? OMNI_OK : omni__err(OMNI_ENOMEM, "push notify: out of memory");
    omni_buf lines = OMNI_BUF_INIT;
    omni__json_w_arr_begin(&lines);
    for (size_t i = 0; !rc && i < pb->n; i++) {
        const entry *en = &pb->entries[i];
        omni__json_w_obj_begin(&lines);
        omni__json_w_keyl(&lines, "recipientId");
        omni__json_w_str(&lines, en->recipient);
        omni__json_w_keyl(&lines, "platform");
        omni__json_w_str(&lines, en->platform);
        s.total++;
        if (en->job) {
            rc = job_line(&lines, events, en, &s);
        } else {
            s.skipped++;
            omni__json_w_keyl(&lines, "status");
            omni__json_w_str(&lines, "skipped");
            omni__json_w_keyl(&lines, "reason");
            omni__json_w_str(&lines, en->reason);
            omni__json_w_keyl(&lines, "error");
            omni__json_w_str(&lines, en->error);
        }
        omni__json_w_obj_end(&lines);
    }
    omni__json_w_arr_end(&lines);
    if (!rc)
        rc = omni__buf_status(&lines);
    char *evtext = NULL;
    size_t evlen = 0;
    if (!rc)
        rc = omni__json_print(&evtext, &evlen, events);
    if (!rc) {
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "success");
        omni__json_w_bool(&b, s.failed < s.total);
        omni__json_w_keyl(&b, "correlationId");
        omni__json_w_str(&b, omni__json_str(pb->event, "correlationId"));
        omni__json_w_keyl(&b, "deliveryResults");
        omni__json_w_raw(&b, lines.data, lines.len);
        omni__json_w_keyl(&b, "summary");
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "total");
        omni__json_w_int(&b, s.total);
        omni__json_w_keyl(&b, "sent");
        omni__json_w_int(&b, s.sent);
        omni__json_w_keyl(&b, "failed");
        omni__json_w_int(&b, s.failed);
        omni__json_w_keyl(&b, "skipped");
        omni__json_w_int(&b, s.skipped);
        omni__json_w_keyl(&b, "pending");
        omni__json_w_int(&b, s.pending);
        omni__json_w_obj_end(&b);
        omni__json_w_keyl(&b, "events");
        omni__json_w_raw(&b, evtext, evlen);
        omni__json_w_obj_end(&b);
        rc = omni__buf_status(&b);
    }
    free(evtext);
    cJSON_Delete(events);
    omni__buf_free(&lines);
    return omni__buf_finish(&b, rc, out, out_len);
}

/* ---- driven through the engine's transport --------------------------------------------------- */

int omni_push_notify(char **out, size_t *out_len, omni_delivery *d, const char *event_json,
                     size_t len, const char *options_json, size_t options_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push notify: out is NULL");
    *out = NULL;
    if (!d)
        return omni__err(OMNI_EINVAL, "push notify: delivery is NULL");
    omni_engine *e = omni_delivery_engine(d);
    if (!omni_engine_transport(e))
        return omni__err(OMNI_EUNSUPPORTED, "push notify: the engine has no transport");
    int64_t deadline_ms = 0;
    if (options_json && options_len) {
        cJSON *o = NULL;
        int rc = omni__json_parse(&o, options_json, options_len, 64u * 1024u, "notify options");
        if (rc)
            return rc;
        const cJSON *it;
        cJSON_ArrayForEach(it, o) {
            if (strcmp(it->string, "deadlineMs") != 0 ||
                omni__json_int(o, "deadlineMs", &deadline_ms) || deadline_ms < 0 ||
                deadline_ms > 86400000)
                rc = omni__err(OMNI_EINVAL, "push notify: options are {\"deadlineMs\": 0 to "
                                            "86400000}");
        }
        if (!cJSON_IsObject(o))
            rc = omni__err(OMNI_EINVAL, "push notify: options must be a JSON object");
        cJSON_Delete(o);
        if (rc)
            return rc;
    }
    int64_t start = omni_engine_now_ms(e);
    omni_push_batch *b = NULL;
    int rc = omni_push_notify_begin(&b, d, event_json, len, start);
    if (rc)
        return rc;
    for (size_t i = 0; !rc && i < b->n; i++)
        if (b->entries[i].job)
            rc = omni_delivery_run(b->entries[i].job, deadline_ms ? start + deadline_ms : 0);
    if (!rc)
        rc = omni_push_batch_result(b, out, out_len);
    omni_push_batch_free(b);
    return rc;
}

/* ---- driven through the asynchronous transport ------------------------------------------------ */

typedef struct notify_async {
    omni_push_batch *b;
    omni_delivery *d;
    omni_async *a;
    omni_push_notify_cb cb;
    void *user;
    size_t outstanding; /* jobs not finished (+1 while starting them) */
    int error;          /* the first job error */
} notify_async;

static void notify_finish(notify_async *n)
{
    char *out = NULL;
    size_t len = 0;
    int rc = n->error ? n->error : omni_push_batch_result(n->b, &out, &len);
    if (rc && !out) /* the callback sees the error's message */
        omni__err(rc, "%s", omni_error_last_message());
    omni_push_notify_cb cb = n->cb;
    void *user = n->user;
    omni_push_batch_free(n->b);
    free(n);
    cb(user, rc ? NULL : out, len, rc);
    omni_free(out);
}

static void job_done(void *user, omni_delivery_job *job, int status)
{
    (void)job; /* owned by the batch */
    notify_async *n = user;
    if (status && !n->error) {
        n->error = status;
        omni__log(omni_delivery_engine(n->d), OMNI_LOG_WARN, "push",
                  "notify: a device's send failed: %s", omni_error_last_message());
    }
    if (--n->outstanding == 0)
        notify_finish(n);
}

static void start_jobs(notify_async *n)
{
    n->outstanding = 1; /* held until every job is started */
    for (size_t i = 0; i < n->b->n; i++) {
        omni_delivery_job *job = n->b->entries[i].job;
        if (!job)
            continue;
        n->outstanding++;
        int rc = omni_delivery_run_async(job, n->a, job_done, n);
        if (rc)
            job_done(n, job, rc);
    }
    if (--n->outstanding == 0)
        notify_finish(n);
}

static void token_answered(void *user, const omni_http_response *response, int status)
{
    notify_async *n = user;
    omni_push *push = omni_delivery_push(n->d);
    omni_engine *e = omni_delivery_engine(n->d);
    if (status == OMNI_OK)
        (void)omni_push_token_response(push, response, omni_engine_now_ms(e));
    /* a failed exchange is tried again by the FCM jobs, which report it */
    omni_error_clear();
    start_jobs(n);
}

int omni_push_notify_async(omni_async *a, omni_delivery *d, const char *event_json, size_t len,
                           omni_push_notify_cb cb, void *user)
{
    if (!a || !d || !cb)
        return omni__err(OMNI_EINVAL, "push notify: async transport, delivery and callback "
                                      "are required");
    notify_async *n = calloc(1, sizeof *n);
    if (!n)
        return omni__err(OMNI_ENOMEM, "push notify: out of memory");
    omni_engine *e = omni_delivery_engine(d);
    int64_t now = omni_engine_now_ms(e);
    int rc = omni_push_notify_begin(&n->b, d, event_json, len, now);
    if (rc) {
        free(n);
        return rc;
    }
    n->d = d;
    n->a = a;
    n->cb = cb;
    n->user = user;
    /* FCM's access token once for the whole batch, before its sends */
    omni_push *push = omni_delivery_push(d);
    int fcm = 0;
    for (size_t i = 0; push && !fcm && i < n->b->n; i++)
        fcm = n->b->entries[i].job && strcmp(n->b->entries[i].platform, "android") == 0;
    omni_http_request *treq = NULL;
    if (fcm && omni_push_token_request(&treq, push, now) == OMNI_OK && treq) {
        rc = omni_async_send(a, treq, token_answered, n);
        omni_http_request_free(treq);
        if (rc == OMNI_OK)
            return OMNI_OK;
    }
    omni_error_clear();
    start_jobs(n);
    return OMNI_OK;
}
