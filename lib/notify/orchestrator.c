/* The notification orchestrator (seed 000's notification-orchestrator): channel
 * selection from the user's preferences and the urgency, quiet hours, templates,
 * and the sends through the delivery engine (include/omni/orchestrator.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/datetime.h>
#include <omni/delivery.h>
#include <omni/omni.h>
#include <omni/orchestrator.h>
#include <omni/push.h>
#include <omni/template_store.h>
#include <omni/uuid.h>

#include "../core/buf.h"
#include "../core/engine.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../core/quiet_hours.h"
#include "notify_internal.h"

enum { CH_PUSH, CH_SMS, CH_EMAIL, CH_WHATSAPP, CH_N };

struct omni_orchestrator {
    omni_delivery *d;
    int on[CH_N];
    char *carrier[CH_N];
    char *from[CH_N];
    char *default_locale;
    char *account;
};

static int ch_index(const char *s)
{
    for (int i = 0; s && i < CH_N; i++)
        if (strcmp(omni__notify_channels[i], s) == 0)
            return i;
    return -1;
}

static int in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* ---- configuration ------------------------------------------------------------------ */

static int cfg_bad(const char *path, const char *why)
{
    return omni__err_details(OMNI_ECONFIG, NULL, "orchestrator config: %s %s", path, why);
}

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

void omni_orchestrator_free(omni_orchestrator *o)
{
    if (!o)
        return;
    for (int i = 0; i < CH_N; i++) {
        free(o->carrier[i]);
        free(o->from[i]);
    }
    free(o->default_locale);
    free(o->account);
    free(o);
}

static int str_member(const cJSON *obj, const char *name, size_t max, const char *path,
                      const char **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!it)
        return OMNI_OK;
    size_t n = cJSON_IsString(it) ? strlen(it->valuestring) : 0;
    if (n < 1 || n > max) {
        char p[80];
        snprintf(p, sizeof p, "%s%s", path, name);
        return cfg_bad(p, "must be a non-empty string");
    }
    *out = it->valuestring;
    return OMNI_OK;
}

static int read_config(omni_orchestrator *o, const cJSON *cfg)
{
    static const char *const top[] = {"channels", "defaultLocale", "accountId", NULL};
    static const char *const chm[] = {"carrier", "from", NULL};
    if (!cJSON_IsObject(cfg))
        return cfg_bad("the configuration", "must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, cfg) if (!in_list(it->string, top))
        return cfg_bad(it->string, "is not a member (channels, defaultLocale, accountId)");
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(cfg, "channels");
    if (!cJSON_IsObject(chs))
        return cfg_bad("channels", "must be an object {sms?, email?, whatsapp?, push?}");
    cJSON_ArrayForEach(it, chs) {
        int c = ch_index(it->string);
        char p[64];
        snprintf(p, sizeof p, "channels.%.20s", it->string ? it->string : "");
        if (c < 0)
            return cfg_bad(p, "is not a channel (push, sms, email, whatsapp)");
        if (!cJSON_IsObject(it))
            return cfg_bad(p, "must be an object");
        const cJSON *m;
        cJSON_ArrayForEach(m, it) {
            if (c == CH_PUSH || !in_list(m->string, chm) ||
                (c == CH_EMAIL && strcmp(m->string, "from") == 0)) {
                snprintf(p, sizeof p, "channels.%s.%.30s", it->string, m->string);
                return cfg_bad(p, "is not a member of this channel");
            }
        }
        snprintf(p, sizeof p, "channels.%s.", it->string);
        const char *carrier = NULL, *from = NULL;
        int rc = str_member(it, "carrier", 64, p, &carrier);
        if (!rc)
            rc = str_member(it, "from", 256, p, &from);
        if (rc)
            return rc;
        if (c != CH_PUSH && !carrier) {
            snprintf(p, sizeof p, "channels.%s.carrier", it->string);
            return cfg_bad(p, "is required");
        }
        o->on[c] = 1;
        if ((carrier && !(o->carrier[c] = dup_str(carrier))) ||
            (from && !(o->from[c] = dup_str(from))))
            return omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    }
    const char *loc = NULL, *acc = NULL;
    int rc = str_member(cfg, "defaultLocale", 35, "", &loc);
    if (!rc)
        rc = str_member(cfg, "accountId", 256, "", &acc);
    if (rc)
        return rc;
    if (!(o->default_locale = strdup(loc ? loc : "en")) || (acc && !(o->account = strdup(acc))))
        return omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    return OMNI_OK;
}

int omni_orchestrator_new(omni_orchestrator **out, omni_delivery *d, const char *config_json,
                          size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "orchestrator: out is NULL");
    *out = NULL;
    if (!d || !config_json)
        return omni__err(OMNI_EINVAL, "orchestrator: delivery and configuration are required");
    if (len > OMNI_LIMIT_CONFIG_BYTES)
        return omni__err(OMNI_ETOOLARGE, "orchestrator config: over %u bytes",
                         OMNI_LIMIT_CONFIG_BYTES);
    cJSON *cfg = NULL;
    int rc = omni__json_parse(&cfg, config_json, len, OMNI_LIMIT_CONFIG_BYTES,
                              "orchestrator config");
    if (rc)
        return rc;
    omni_orchestrator *o = calloc(1, sizeof *o);
    if (!o)
        rc = omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    else
        o->d = d;
    if (!rc)
        rc = read_config(o, cfg);
    cJSON_Delete(cfg);
    if (rc) {
        omni_orchestrator_free(o);
        return rc;
    }
    *out = o;
    return OMNI_OK;
}

/* ---- the request --------------------------------------------------------------------- */

static int req_bad(const char *path, const char *why)
{
    return omni__err(OMNI_EINVAL, "notification request: %s %s", path, why);
}

static int time_ok(const cJSON *t, int64_t *ms)
{
    *ms = 0;
    if (!t)
        return 1;
    if (!cJSON_IsString(t) || omni_time_parse(ms, t->valuestring, strlen(t->valuestring))) {
        omni_error_clear();
        return 0;
    }
    return 1;
}

int omni__notify_request_check(const cJSON *req)
{
    static const char *const top[] = {"userId",   "messageType",  "requestId", "content",
                                      "channels", "scheduledFor", "expiresAt", NULL};
    static const char *const cm[] = {"subject", "body", "templateId", "variables", "data", NULL};
    static const char *const types[] = {"urgent", "important", "informational", NULL};
    if (!cJSON_IsObject(req))
        return req_bad("the request", "must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, req) if (!in_list(it->string, top))
        return req_bad(it->string, "is not a member of a NotificationRequest");
    const char *user = omni__json_str(req, "userId");
    size_t n = user ? strlen(user) : 0;
    if (n < 1 || n > 128)
        return req_bad("userId", "must be a string of 1 to 128 bytes");
    if (!in_list(omni__json_str(req, "messageType"), types))
        return req_bad("messageType", "must be urgent, important or informational");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(req, "requestId");
    if (rid) {
        n = cJSON_IsString(rid) ? strlen(rid->valuestring) : 0;
        if (n < 1 || n > 128 || strchr(rid->valuestring, '/'))
            return req_bad("requestId", "must be a string of 1 to 128 bytes without '/'");
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "content");
    if (!cJSON_IsObject(c))
        return req_bad("content", "must be an object {subject?, body, templateId?, variables?}");
    cJSON_ArrayForEach(it, c) if (!in_list(it->string, cm))
        return req_bad("content", "has a member that is not subject, body, templateId, "
                                  "variables or data");
    const char *names[] = {"subject", "body", "templateId"};
    for (int i = 0; i < 3; i++) {
        it = cJSON_GetObjectItemCaseSensitive(c, names[i]);
        if (it && (!cJSON_IsString(it) || (i == 2 && !*it->valuestring))) {
            char p[40];
            snprintf(p, sizeof p, "content.%s", names[i]);
            return req_bad(p, "must be a string");
        }
    }
    if (!cJSON_GetObjectItemCaseSensitive(c, "body") &&
        !cJSON_GetObjectItemCaseSensitive(c, "templateId"))
        return req_bad("content.body", "is required without content.templateId");
    it = cJSON_GetObjectItemCaseSensitive(c, "variables");
    if (it && !cJSON_IsObject(it))
        return req_bad("content.variables", "must be an object");
    it = cJSON_GetObjectItemCaseSensitive(c, "data");
    if (it && !cJSON_IsObject(it))
        return req_bad("content.data", "must be an object");
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(req, "channels");
    if (chs) {
        int cnt = cJSON_GetArraySize(chs);
        if (!cJSON_IsArray(chs) || cnt < 1 || cnt > CH_N)
            return req_bad("channels", "must be an array of 1 to 4 channels");
        cJSON_ArrayForEach(it, chs) {
            if (!cJSON_IsString(it) || ch_index(it->valuestring) < 0)
                return req_bad("channels", "must list push, sms, email or whatsapp");
            for (const cJSON *jt = chs->child; jt != it; jt = jt->next)
                if (strcmp(jt->valuestring, it->valuestring) == 0)
                    return req_bad("channels", "must not repeat a channel");
        }
    }
    int64_t ms;
    if (!time_ok(cJSON_GetObjectItemCaseSensitive(req, "scheduledFor"), &ms))
        return req_bad("scheduledFor", "must be an RFC 3339 time");
    if (!time_ok(cJSON_GetObjectItemCaseSensitive(req, "expiresAt"), &ms))
        return req_bad("expiresAt", "must be an RFC 3339 time");
    return OMNI_OK;
}

/* ---- one send ------------------------------------------------------------------------- */

typedef struct ctx {
    omni_orchestrator *o;
    omni_engine *e;
    const cJSON *req, *prefs;
    const char *user, *type, *rid;
    int urgent;
    int64_t now, sched, expires;
    const char *options; /* the caller's options (deadlineMs) */
    size_t options_len;
    cJSON *devices; /* the user's devices (items) or NULL */
} ctx;

/* Subject, body and htmlBody of a channel (rendered or given). */
typedef struct content {
    char *subject, *body, *html;
} content;

static void content_free(content *c)
{
    free(c->subject);
    free(c->body);
    free(c->html);
}

/* OMNI_OK, or a render error (returned; the message is the last error). */
static int make_content(ctx *x, int ch, content *out)
{
    memset(out, 0, sizeof *out);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(x->req, "content");
    const char *tid = omni__json_str(c, "templateId");
    if (!tid) {
        const char *s = omni__json_str(c, "subject"), *b = omni__json_str(c, "body");
        if ((s && !(out->subject = strdup(s))) || !(out->body = strdup(b ? b : "")))
            return omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
        return OMNI_OK;
    }
    char *vars = NULL;
    size_t vlen = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "variables");
    int rc = v ? omni__json_print(&vars, &vlen, v) : OMNI_OK;
    char *res = NULL;
    size_t rlen = 0;
    const char *locale = omni__json_str(x->prefs, "locale");
    if (!rc)
        rc = omni_template_render_stored(&res, &rlen, x->e, tid, locale ? locale
                                                                        : x->o->default_locale,
                                         x->o->default_locale, omni__notify_channels[ch], vars,
                                         vlen);
    omni_free(vars);
    cJSON *r = NULL;
    if (!rc)
        rc = omni__json_parse(&r, res, rlen, 0, "rendered template");
    omni_free(res);
    if (rc)
        return rc;
    const char *s = omni__json_str(r, "subject"), *b = omni__json_str(r, "body"),
               *h = omni__json_str(r, "htmlBody");
    if ((s && !(out->subject = strdup(s))) || !(out->body = strdup(b ? b : "")) ||
        (h && !(out->html = strdup(h))))
        rc = omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    cJSON_Delete(r);
    return rc;
}

static void w_time(omni_buf *b, const char *key, int64_t ms)
{
    char t[40];
    if (ms > 0 && omni_time_format(t, sizeof t, ms) == OMNI_OK) {
        omni__json_w_key(b, key);
        omni__json_w_str(b, t);
    }
}

/* The event's common head: correlationId, messageType. */
static void w_head(omni_buf *b, ctx *x)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "correlationId");
    omni__json_w_str(b, x->rid);
    omni__json_w_keyl(b, "messageType");
    omni__json_w_str(b, "notification");
}

static void w_options(omni_buf *b, ctx *x, const char *key)
{
    omni__json_w_keyl(b, "options");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "idempotencyKey");
    omni__json_w_str(b, key);
    w_time(b, "scheduledAt", x->sched);
    w_time(b, "expiresAt", x->expires);
    omni__json_w_obj_end(b);
}

/* Sends one event; appends the PublishOutboundResult to deliveries and
 * returns its status class: 0 sent, 1 pending, 2 scheduled, 3 failed. */
static int send_event(ctx *x, omni_buf *ev, cJSON *deliveries, int *cls)
{
    int rc = omni__buf_status(ev);
    char *out = NULL;
    size_t n = 0;
    if (!rc)
        rc = omni_delivery_send(&out, &n, x->o->d, ev->data, ev->len, x->options,
                                x->options_len);
    cJSON *r = NULL;
    if (!rc)
        rc = omni__json_parse(&r, out, n, 0, "delivery result");
    omni_free(out);
    if (rc)
        return rc;
    const char *st = omni__json_str(r, "delivery.status");
    if (!st)
        st = "failed";
    if (strcmp(st, "queued") == 0 || strcmp(st, "sent") == 0 || strcmp(st, "accepted") == 0 ||
        strcmp(st, "delivered") == 0)
        *cls = 0;
    else if (strcmp(st, "pending") == 0 || strcmp(st, "sending") == 0)
        *cls = 1;
    else if (strcmp(st, "scheduled") == 0)
        *cls = 2;
    else
        *cls = 3;
    cJSON_AddItemToArray(deliveries, r);
    return OMNI_OK;
}

static const char *push_carrier(const char *platform)
{
    if (!platform)
        return NULL;
    if (strcmp(platform, "ios") == 0)
        return "apns";
    if (strcmp(platform, "android") == 0)
        return "fcm";
    if (strcmp(platform, "web") == 0)
        return "webpush";
    return NULL;
}

static int send_push(ctx *x, const content *c, cJSON *deliveries, int best[4])
{
    const cJSON *dv;
    cJSON_ArrayForEach(dv, x->devices) {
        const char *token = omni__json_str(dv, "deviceToken");
        const char *platform = omni__json_str(dv, "platform");
        const char *carrier = push_carrier(platform);
        if (!token || !carrier)
            continue;
        omni_buf ev = OMNI_BUF_INIT, key = OMNI_BUF_INIT;
        char tid[65];
        omni__sha256_hex(tid, token, strlen(token));
        omni__buf_printf(&key, "notify/%s/%s/push/%s/%s", x->rid, x->user, platform, tid);
        w_head(&ev, x);
        omni__json_w_keyl(&ev, "recipient");
        omni__json_w_obj_begin(&ev);
        omni__json_w_keyl(&ev, "channelIdentifier");
        omni__json_w_str(&ev, token);
        omni__json_w_keyl(&ev, "carrier");
        omni__json_w_str(&ev, carrier);
        omni__json_w_keyl(&ev, "userId");
        omni__json_w_str(&ev, x->user);
        omni__json_w_obj_end(&ev);
        omni__json_w_keyl(&ev, "push");
        omni__json_w_obj_begin(&ev);
        omni__json_w_keyl(&ev, "platform");
        omni__json_w_str(&ev, platform);
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(dv, "subscription");
        if (strcmp(platform, "web") == 0 && sub) {
            omni__json_w_keyl(&ev, "subscription");
            omni__json_w_item(&ev, sub);
        } else {
            omni__json_w_keyl(&ev, "token");
            omni__json_w_str(&ev, token);
        }
        omni__json_w_keyl(&ev, "payload");
        omni__json_w_obj_begin(&ev);
        if (c->subject) {
            omni__json_w_keyl(&ev, "title");
            omni__json_w_str(&ev, c->subject);
        }
        omni__json_w_keyl(&ev, "body");
        omni__json_w_str(&ev, c->body);
        const cJSON *data = omni__json_at(x->req, "content.data");
        if (data) {
            omni__json_w_keyl(&ev, "data");
            omni__json_w_item(&ev, data);
        }
        omni__json_w_obj_end(&ev);
        omni__json_w_keyl(&ev, "options");
        omni__json_w_obj_begin(&ev);
        omni__json_w_keyl(&ev, "priority");
        omni__json_w_str(&ev, x->urgent ? "high" : "normal");
        const char *app = omni__json_str(dv, "appId");
        if (app && strcmp(platform, "ios") == 0) {
            omni__json_w_keyl(&ev, "topic");
            omni__json_w_str(&ev, app);
        }
        omni__json_w_obj_end(&ev);
        omni__json_w_obj_end(&ev);
        int rc = omni__buf_status(&key);
        if (!rc) {
            omni__buf_putc(&key, '\0');
            w_options(&ev, x, key.data);
        }
        omni__json_w_obj_end(&ev);
        int cls = 3;
        if (!rc)
            rc = send_event(x, &ev, deliveries, &cls);
        omni__buf_free(&ev);
        omni__buf_free(&key);
        if (rc)
            return rc;
        best[cls]++;
    }
    return OMNI_OK;
}

static int send_address(ctx *x, int ch, const content *c, cJSON *deliveries, int best[4])
{
    omni_orchestrator *o = x->o;
    const char *name = omni__notify_channels[ch];
    char p[64];
    snprintf(p, sizeof p, "channels.%s.address", name);
    const char *addr = omni__json_str(x->prefs, p);
    omni_buf ev = OMNI_BUF_INIT, key = OMNI_BUF_INIT;
    omni__buf_printf(&key, "notify/%s/%s/%s", x->rid, x->user, name);
    omni__buf_putc(&key, '\0');
    w_head(&ev, x);
    omni__json_w_keyl(&ev, "recipient");
    omni__json_w_obj_begin(&ev);
    omni__json_w_keyl(&ev, "customerId");
    omni__json_w_str(&ev, x->user);
    omni__json_w_keyl(&ev, "channelIdentifier");
    omni__json_w_str(&ev, addr ? addr : "");
    omni__json_w_keyl(&ev, "carrier");
    omni__json_w_str(&ev, o->carrier[ch]);
    omni__json_w_keyl(&ev, "channel");
    omni__json_w_str(&ev, name);
    omni__json_w_obj_end(&ev);
    omni__json_w_keyl(&ev, "message");
    omni__json_w_obj_begin(&ev);
    omni__json_w_keyl(&ev, "content");
    omni__json_w_str(&ev, c->body);
    omni__json_w_keyl(&ev, "contentType");
    omni__json_w_str(&ev, "text");
    if (ch == CH_EMAIL && c->subject) {
        omni__json_w_keyl(&ev, "subject");
        omni__json_w_str(&ev, c->subject);
    }
    if (ch == CH_EMAIL && c->html) {
        omni__json_w_keyl(&ev, "html");
        omni__json_w_str(&ev, c->html);
    }
    omni__json_w_obj_end(&ev);
    if (o->from[ch] || o->account) {
        omni__json_w_keyl(&ev, "routing");
        omni__json_w_obj_begin(&ev);
        if (o->account) {
            omni__json_w_keyl(&ev, "accountId");
            omni__json_w_str(&ev, o->account);
        }
        if (o->from[ch]) {
            omni__json_w_keyl(&ev, "fromNumber");
            omni__json_w_str(&ev, o->from[ch]);
        }
        omni__json_w_obj_end(&ev);
    }
    int rc = omni__buf_status(&key);
    if (!rc)
        w_options(&ev, x, key.data);
    omni__json_w_obj_end(&ev);
    int cls = 3;
    if (!rc)
        rc = send_event(x, &ev, deliveries, &cls);
    omni__buf_free(&ev);
    omni__buf_free(&key);
    if (!rc)
        best[cls]++;
    return rc;
}

static cJSON *channel_entry(cJSON *chans, int ch, const char *status, const char *reason)
{
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return NULL;
    cJSON_AddItemToArray(chans, e);
    cJSON_AddStringToObject(e, "channel", omni__notify_channels[ch]);
    cJSON_AddStringToObject(e, "status", status);
    if (reason)
        cJSON_AddStringToObject(e, "reason", reason);
    return e;
}

/* Sends on one channel; *ok: 1 when sent, scheduled or pending; 0 failed. */
static int send_channel(ctx *x, int ch, cJSON *chans, int *ok)
{
    *ok = 0;
    content c;
    cJSON *deliveries = cJSON_CreateArray();
    if (!deliveries)
        return omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    int rc = make_content(x, ch, &c);
    if (rc && rc != OMNI_ENOMEM && rc != OMNI_ESTORAGE) {
        cJSON *e = channel_entry(chans, ch, "failed", "TEMPLATE_ERROR");
        if (e) {
            cJSON_AddStringToObject(e, "error", omni_error_last_message());
            cJSON_AddItemToObject(e, "deliveries", deliveries);
        } else {
            cJSON_Delete(deliveries);
        }
        omni_error_clear();
        content_free(&c);
        return e ? OMNI_OK : omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    }
    int best[4] = {0, 0, 0, 0};
    if (!rc)
        rc = ch == CH_PUSH ? send_push(x, &c, deliveries, best)
                           : send_address(x, ch, &c, deliveries, best);
    content_free(&c);
    if (rc) {
        cJSON_Delete(deliveries);
        return rc;
    }
    const char *st = best[0] ? "sent" : best[1] ? "pending" : best[2] ? "scheduled" : "failed";
    *ok = best[0] || best[1] || best[2];
    cJSON *e = channel_entry(chans, ch, st, NULL);
    if (!e) {
        cJSON_Delete(deliveries);
        return omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    }
    if (best[2] && !best[0] && !best[1]) {
        char t[40];
        if (omni_time_format(t, sizeof t, x->sched) == OMNI_OK)
            cJSON_AddStringToObject(e, "scheduledAt", t);
    }
    cJSON_AddItemToObject(e, "deliveries", deliveries);
    return OMNI_OK;
}

/* ---- selection ------------------------------------------------------------------------- */

/* The skip reason of a channel, or NULL when it may be used. */
static const char *skip_reason(ctx *x, int ch)
{
    const char *name = omni__notify_channels[ch];
    if (!x->o->on[ch])
        return "NOT_CONFIGURED";
    const cJSON *oo = cJSON_GetObjectItemCaseSensitive(x->prefs, "optOuts"), *it;
    cJSON_ArrayForEach(it, oo) if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
        return "OPTED_OUT";
    const cJSON *dnd = cJSON_GetObjectItemCaseSensitive(x->prefs, "doNotDisturb");
    if (cJSON_IsTrue(dnd) && !x->urgent)
        return "DO_NOT_DISTURB";
    const cJSON *dnd_list = cJSON_IsArray(dnd) ? dnd : NULL;
    cJSON_ArrayForEach(it, dnd_list) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, x->type) == 0)
            return "DO_NOT_DISTURB";
    }
    const cJSON *c = omni__json_at(x->prefs, "channels");
    c = cJSON_GetObjectItemCaseSensitive(c, name);
    if (!c)
        return ch == CH_PUSH ? "NO_DEVICES" : "NO_ADDRESS";
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "enabled")))
        return "DISABLED";
    if (ch == CH_PUSH && cJSON_GetArraySize(x->devices) == 0)
        return "NO_DEVICES";
    return NULL;
}

static int load_devices(ctx *x)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_device_list(&out, &n, x->e, x->user, NULL, "{\"limit\":100}", 13);
    cJSON *r = NULL;
    if (rc == OMNI_EINVAL) { /* a userId the registry refuses: no devices */
        omni_error_clear();
        return OMNI_OK;
    }
    if (!rc)
        rc = omni__json_parse(&r, out, n, 0, "device list");
    omni_free(out);
    if (rc)
        return rc;
    x->devices = cJSON_DetachItemFromObjectCaseSensitive(r, "items");
    cJSON_Delete(r);
    return OMNI_OK;
}

static int notify_one(cJSON **result, omni_orchestrator *o, cJSON *req, const char *options,
                      size_t options_len)
{
    *result = NULL;
    int rc = omni__notify_request_check(req);
    if (rc)
        return rc;
    ctx x = {0};
    x.o = o;
    x.e = omni_delivery_engine(o->d);
    x.req = req;
    x.user = omni__json_str(req, "userId");
    x.type = omni__json_str(req, "messageType");
    x.urgent = strcmp(x.type, "urgent") == 0;
    x.options = options;
    x.options_len = options_len;
    x.now = omni_engine_now_ms(x.e);
    char uuid[OMNI_UUID_STRLEN];
    x.rid = omni__json_str(req, "requestId");
    if (!x.rid) {
        if ((rc = omni_uuid7(uuid, x.e)))
            return rc;
        x.rid = uuid;
    }
    time_ok(cJSON_GetObjectItemCaseSensitive(req, "scheduledFor"), &x.sched);
    time_ok(cJSON_GetObjectItemCaseSensitive(req, "expiresAt"), &x.expires);
    if (x.sched <= x.now)
        x.sched = 0;
    /* the preferences */
    char *ptext = NULL;
    size_t plen = 0;
    if (strlen(x.user) > 128 || (rc = omni_notify_prefs_get(&ptext, &plen, x.e, x.user))) {
        if (!rc || rc == OMNI_EINVAL) {
            omni_error_clear();
            rc = OMNI_ENOTFOUND;
        }
        if (rc == OMNI_ENOTFOUND) {
            omni_error_clear();
            rc = omni__err(OMNI_ENOTFOUND, "notify: no preferences for user %s", x.user);
        }
        return rc;
    }
    cJSON *prefs = NULL;
    rc = omni__json_parse(&prefs, ptext, plen, 0, "notify preferences");
    omni_free(ptext);
    if (!rc && omni__notify_prefs_check(prefs) != OMNI_OK) {
        omni_error_clear();
        rc = omni__err(OMNI_ESTORAGE, "notify: the stored preferences of %s are malformed",
                       x.user);
    }
    if (rc) {
        cJSON_Delete(prefs);
        return rc;
    }
    x.prefs = prefs;
    int64_t quiet = 0;
    if (!x.urgent && (rc = omni__notify_quiet_until(prefs, x.now, &quiet))) {
        cJSON_Delete(prefs);
        return rc;
    }
    if (quiet > x.sched)
        x.sched = quiet;
    /* the order: preferredChannels, then the rest; limited by the request */
    int order[CH_N], n = 0, seen[CH_N] = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(prefs, "preferredChannels")) {
        int c = ch_index(it->valuestring);
        if (c >= 0 && !seen[c]) {
            seen[c] = 1;
            order[n++] = c;
        }
    }
    for (int c = 0; c < CH_N; c++)
        if (!seen[c])
            order[n++] = c;
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(req, "channels");
    const cJSON *have = omni__json_at(prefs, "channels");
    int cand[CH_N], nc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = omni__notify_channels[order[i]];
        int listed = 0;
        cJSON_ArrayForEach(it, want) listed |= strcmp(it->valuestring, name) == 0;
        if (want ? listed : cJSON_GetObjectItemCaseSensitive(have, name) != NULL)
            cand[nc++] = order[i];
    }
    cJSON *res = cJSON_CreateObject();
    cJSON *chans = cJSON_CreateArray();
    if (!res || !chans) {
        cJSON_Delete(res);
        cJSON_Delete(chans);
        cJSON_Delete(prefs);
        return omni__err(OMNI_ENOMEM, "orchestrator: out of memory");
    }
    for (int i = 0; i < nc && !rc; i++)
        if (cand[i] == CH_PUSH)
            rc = load_devices(&x);
    int eligible[CH_N], ne = 0;
    for (int i = 0; i < nc && !rc; i++) {
        const char *why = skip_reason(&x, cand[i]);
        if (why)
            channel_entry(chans, cand[i], "skipped", why);
        else
            eligible[ne++] = cand[i];
    }
    int success = 0, fallback = 0, ok = 0;
    if (!rc && x.urgent) {
        int tried[CH_N] = {0};
        for (int i = 0; i < ne && !rc; i++)
            if (eligible[i] == CH_PUSH || eligible[i] == CH_SMS) {
                tried[i] = 1;
                rc = send_channel(&x, eligible[i], chans, &ok);
                success |= ok;
            }
        for (int i = 0; i < ne && !rc && !success; i++)
            if (!tried[i]) {
                fallback = 1;
                rc = send_channel(&x, eligible[i], chans, &ok);
                success |= ok;
            }
    } else if (!rc) {
        int deferred = x.sched > 0;
        int limit = strcmp(x.type, "important") == 0 && !deferred ? ne : (ne ? 1 : 0);
        for (int i = 0; i < limit && !rc && !success; i++) {
            fallback = i > 0;
            rc = send_channel(&x, eligible[i], chans, &ok);
            success |= ok;
        }
    }
    cJSON_Delete(prefs);
    cJSON_Delete(x.devices);
    if (rc) {
        cJSON_Delete(res);
        cJSON_Delete(chans);
        return rc;
    }
    cJSON_AddBoolToObject(res, "success", success);
    cJSON_AddStringToObject(res, "requestId", x.rid);
    cJSON_AddStringToObject(res, "userId", x.user);
    cJSON_AddStringToObject(res, "messageType", x.type);
    cJSON_AddItemToObject(res, "channels", chans);
    cJSON_AddBoolToObject(res, "fallbackUsed", fallback);
    *result = res;
    return OMNI_OK;
}

static int check_options(const char *options, size_t len)
{
    if (!options)
        return OMNI_OK;
    cJSON *o = NULL;
    int rc = omni__json_parse(&o, options, len, 4096, "notify options");
    if (rc)
        return rc;
    const cJSON *it;
    cJSON_ArrayForEach(it, o) if (strcmp(it->string, "deadlineMs") != 0)
    {
        cJSON_Delete(o);
        return omni__err(OMNI_EINVAL, "notify options: only deadlineMs is known");
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "deadlineMs");
    if (!cJSON_IsObject(o) ||
        (d && (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 86400000)))
        rc = omni__err(OMNI_EINVAL, "notify options: must be {\"deadlineMs\": 0..86400000}");
    cJSON_Delete(o);
    return rc;
}

/* The checks both entry points make, then the document parsed into *doc. */
static int begin(cJSON **doc, char **out, size_t *out_len, const omni_orchestrator *o,
                 const char *json, size_t len, size_t max, const char *what,
                 const char *options, size_t options_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out || !o || !json)
        return omni__err(OMNI_EINVAL, "%s: out, orchestrator and request are required", what);
    if (len > max)
        return omni__err(OMNI_ETOOLARGE, "%s: the request is over %zu bytes", what, max);
    int rc = check_options(options, options_len);
    return rc ? rc : omni__json_parse(doc, json, len, max, what);
}

int omni_notify_send(char **out, size_t *out_len, omni_orchestrator *o, const char *request_json,
                     size_t len, const char *options, size_t options_len)
{
    cJSON *req = NULL, *res = NULL;
    int rc = begin(&req, out, out_len, o, request_json, len, OMNI_NOTIFY_MAX_REQUEST,
                   "notification request", options, options_len);
    if (!rc)
        rc = notify_one(&res, o, req, options, options_len);
    cJSON_Delete(req);
    if (!rc)
        rc = omni__json_print(out, out_len, res);
    cJSON_Delete(res);
    return rc;
}

int omni_notify_send_bulk(char **out, size_t *out_len, omni_orchestrator *o,
                          const char *bulk_json, size_t len, const char *options,
                          size_t options_len)
{
    cJSON *bulk = NULL;
    int rc = begin(&bulk, out, out_len, o, bulk_json, len, OMNI_NOTIFY_MAX_BULK, "notify bulk",
                   options, options_len);
    if (rc)
        return rc;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(bulk, "notifications");
    int n = cJSON_GetArraySize(items);
    if (!cJSON_IsObject(bulk) || cJSON_GetArraySize(bulk) != 1 || !cJSON_IsArray(items) ||
        n < 1 || n > OMNI_NOTIFY_MAX_BULK_ITEMS) {
        cJSON_Delete(bulk);
        return omni__err(OMNI_EINVAL, "notify bulk: must be {\"notifications\": [1 to %d "
                                      "requests]}",
                         OMNI_NOTIFY_MAX_BULK_ITEMS);
    }
    cJSON *res = cJSON_CreateObject(), *results = cJSON_AddArrayToObject(res, "results");
    if (!results) {
        cJSON_Delete(bulk);
        cJSON_Delete(res);
        return omni__err(OMNI_ENOMEM, "notify bulk: out of memory");
    }
    int ok = 0, failed = 0, i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, items) {
        cJSON *one = NULL, *entry = cJSON_CreateObject();
        if (!entry) {
            rc = omni__err(OMNI_ENOMEM, "notify bulk: out of memory");
            break;
        }
        cJSON_AddItemToArray(results, entry);
        cJSON_AddNumberToObject(entry, "index", i++);
        rc = notify_one(&one, o, it, options, options_len);
        if (rc == OMNI_ESTORAGE || rc == OMNI_EUNSUPPORTED || rc == OMNI_ENOMEM)
            break;
        if (rc) {
            cJSON *err = cJSON_AddObjectToObject(entry, "error");
            cJSON_AddStringToObject(err, "code", omni_status_code(rc));
            cJSON_AddStringToObject(err, "message", omni_error_last_message());
            omni_error_clear();
            rc = OMNI_OK;
            failed++;
            continue;
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(one, "success")))
            ok++;
        else
            failed++;
        cJSON_AddItemToObject(entry, "result", one);
    }
    cJSON_Delete(bulk);
    if (!rc) {
        cJSON *s = cJSON_AddObjectToObject(res, "summary");
        cJSON_AddNumberToObject(s, "total", n);
        cJSON_AddNumberToObject(s, "succeeded", ok);
        cJSON_AddNumberToObject(s, "failed", failed);
        rc = omni__json_print(out, out_len, res);
    }
    cJSON_Delete(res);
    return rc;
}
