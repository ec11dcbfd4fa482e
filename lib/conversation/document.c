/* The conversation document: reading and writing it, the event document,
 * the pure transition (omni_conversation_apply) and the change events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/conversation.h>
#include <omni/datetime.h>

#include "conversation_internal.h"
#include "core/error.h"
#include "core/json.h"

static const char *const participant_types[] = {"customer", "agent", "bot"};
static const char *const participant_statuses[] = {"active", "left", "transferred"};
static const char *const sentiments[] = {"positive", "neutral", "negative"};
static const char *const priorities[] = {"low", "normal", "high", "urgent"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int omni__conv_plain_id(const char *s, size_t n)
{
    if (n == 0 || n > OMNI__CONV_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- reading ------------------------------------------------------------- */

static int bad(const char *member)
{
    return omni__err(OMNI_EINVAL, "conversation: \"%s\" is missing or invalid", member);
}

/* A string member into buf (1..cap-1 bytes); plain: also an id. */
static int rd_str(omni__jspan v, char *buf, size_t cap, int plain, const char *name)
{
    long n = -1;
    if (omni__j_is(v, '"') && v.n >= 2 && v.n - 2 < cap && !memchr(v.p, '\\', v.n)) {
        n = (long)(v.n - 2); /* no escapes: the bytes as they are */
        memcpy(buf, v.p + 1, (size_t)n);
        buf[n] = '\0';
    } else if (omni__j_is(v, '"')) {
        n = omni__j_str(v, buf, cap);
    }
    if (n <= 0 || (plain && !omni__conv_plain_id(buf, (size_t)n)))
        return bad(name);
    return OMNI_OK;
}

/* A string or null member into buf ("" for null). */
static int rd_opt_str(omni__jspan v, char *buf, size_t cap, int plain, const char *name)
{
    buf[0] = '\0';
    if (!v.p || omni__j_is(v, 'n'))
        return OMNI_OK;
    if (omni__j_is(v, '"') && v.n == 2)
        return plain ? bad(name) : OMNI_OK;
    return rd_str(v, buf, cap, plain, name);
}

/* Documents repeat a handful of times (now, startedAt, joinedAt, ...):
 * a small per-thread cache of formatted times saves formatting them again
 * (omni__conv_w_time). */
#define TIME_CACHE 8
static _Thread_local struct {
    int64_t ms;
    unsigned char len;
    char text[OMNI_TIME_STRLEN];
} time_cache[TIME_CACHE];

static int rd_time(omni__jspan v, int64_t *out, int nullable, const char *name)
{
    if (nullable && (!v.p || omni__j_is(v, 'n'))) {
        *out = 0;
        return OMNI_OK;
    }
    if (omni__conv_span_time(v, out) != OMNI_OK || *out <= 0)
        return bad(name);
    return OMNI_OK;
}

int omni__conv_span_time(omni__jspan v, int64_t *out)
{
    if (!omni__j_is(v, '"') || v.n < 3)
        return OMNI_EINVAL;
    if (!memchr(v.p, '\\', v.n)) /* as written: parse in place */
        return omni_time_parse(out, v.p + 1, v.n - 2) == OMNI_OK ? OMNI_OK : OMNI_EINVAL;
    char t[64];
    long n = omni__j_str(v, t, sizeof(t));
    return n > 0 && omni_time_parse(out, t, (size_t)n) == OMNI_OK ? OMNI_OK : OMNI_EINVAL;
}

static int rd_enum(omni__jspan v, const char *const *names, int count, const char *name)
{
    if (!omni__j_is(v, '"') || v.n < 2)
        return -1;
    int i = omni__conv_name_index(names, count, v.p + 1, v.n - 2);
    if (i < 0)
        bad(name);
    return i;
}

static int rd_topics(omni__jspan v, char (*topics)[OMNI__CONV_TOPIC_MAX + 1], size_t *n)
{
    *n = 0;
    if (!omni__j_is(v, '['))
        return bad("topics");
    const char *p = omni__j_ws(v.p + 1, v.p + v.n);
    const char *e = v.p + v.n - 1;
    while (p < e) {
        if (*p == ',')
            p = omni__j_ws(p + 1, e);
        const char *q = omni__j_skip(p, e);
        omni__jspan t = {p, (size_t)(q - p)};
        if (*n >= OMNI__CONV_MAX_TOPICS || rd_str(t, topics[*n], OMNI__CONV_TOPIC_MAX + 1, 0,
                                                  "topics") != OMNI_OK)
            return bad("topics");
        (*n)++;
        p = omni__j_ws(q, e);
    }
    return OMNI_OK;
}

static int rd_participants(omni__conv *c, omni__jspan v)
{
    c->n_part = 0;
    if (!omni__j_is(v, '['))
        return bad("participants");
    const char *p = omni__j_ws(v.p + 1, v.p + v.n);
    const char *e = v.p + v.n - 1;
    static const char *const names[] = {"id", "type", "joinedAt", "status"};
    while (p < e) {
        if (*p == ',')
            p = omni__j_ws(p + 1, e);
        const char *q = omni__j_skip(p, e);
        omni__jspan item = {p, (size_t)(q - p)}, f[4];
        if (c->n_part >= OMNI__CONV_MAX_PARTICIPANTS || !omni__j_is(item, '{'))
            return bad("participants");
        omni__j_fields(item, names, f, 4);
        omni__conv_participant *pa = &c->part[c->n_part];
        int type = rd_enum(f[1], participant_types, COUNT(participant_types), "participants");
        int st = rd_enum(f[3], participant_statuses, COUNT(participant_statuses),
                         "participants");
        if (rd_str(f[0], pa->id, sizeof(pa->id), 1, "participants") || type < 0 || st < 0 ||
            rd_time(f[2], &pa->joined_at, 0, "participants"))
            return bad("participants");
        pa->type = (unsigned char)type;
        pa->status = (unsigned char)st;
        c->n_part++;
        p = omni__j_ws(q, e);
    }
    return OMNI_OK;
}

/* The members of a conversation document, as spans of its text. */
typedef struct doc_spans {
    omni__jspan conv_id, customer, account, bu, tenant, ch_type, ch_carrier, status, assigned,
        parts, started, last_activity, count, sentiment, topics, priority, inbound, created,
        updated, last;
} doc_spans;

/* ---- the canonical layout, read in one pass ---- */

typedef struct cursor {
    const char *p, *e;
    int ok;
} cursor;

static void lit(cursor *k, const char *s, size_t n)
{
    if (k->ok && (size_t)(k->e - k->p) >= n && memcmp(k->p, s, n) == 0)
        k->p += n;
    else
        k->ok = 0;
}
#define LIT(k, s) lit(k, s, sizeof(s) - 1)

/* A string without escapes (span with its quotes). */
static omni__jspan str_at(cursor *k)
{
    omni__jspan v = {NULL, 0};
    if (!k->ok || k->p >= k->e || *k->p != '"') {
        k->ok = 0;
        return v;
    }
    const char *q = memchr(k->p + 1, '"', (size_t)(k->e - k->p - 1));
    if (!q || memchr(k->p + 1, '\\', (size_t)(q - k->p - 1))) {
        k->ok = 0;
        return v;
    }
    v.p = k->p;
    v.n = (size_t)(q + 1 - k->p);
    k->p = q + 1;
    return v;
}

/* Any value (span). */
static omni__jspan value_at(cursor *k)
{
    omni__jspan v = {NULL, 0};
    if (!k->ok || k->p >= k->e) {
        k->ok = 0;
        return v;
    }
    const char *q = omni__j_skip(k->p, k->e);
    v.p = k->p;
    v.n = (size_t)(q - k->p);
    k->p = q;
    if (v.n == 0)
        k->ok = 0;
    return v;
}

static omni__jspan str_or_null_at(cursor *k)
{
    if (k->ok && k->e - k->p >= 4 && memcmp(k->p, "null", 4) == 0) {
        omni__jspan v = {k->p, 4};
        k->p += 4;
        return v;
    }
    return str_at(k);
}

/* 1 when the text is laid out exactly as omni__conv_write writes it
 * (compact, members in its order, no escapes in short strings): the
 * spans are then found without a general scan. */
static int canonical_spans(const char *text, size_t len, doc_spans *d)
{
    cursor k = {text, text + len, 1};
    memset(d, 0, sizeof(*d));
    LIT(&k, "{\"conversationId\":");
    d->conv_id = str_at(&k);
    LIT(&k, ",\"channel\":{\"type\":");
    d->ch_type = str_at(&k);
    LIT(&k, ",\"carrier\":");
    d->ch_carrier = str_at(&k);
    LIT(&k, "},\"status\":");
    d->status = str_at(&k);
    LIT(&k, ",\"assignedTo\":");
    d->assigned = str_or_null_at(&k);
    LIT(&k, ",\"participants\":");
    d->parts = value_at(&k);
    LIT(&k, ",\"metadata\":{\"startedAt\":");
    d->started = str_at(&k);
    LIT(&k, ",\"lastActivityAt\":");
    d->last_activity = str_at(&k);
    LIT(&k, ",\"messageCount\":");
    d->count = value_at(&k);
    if (k.ok && k.e - k.p > 13 && memcmp(k.p, ",\"sentiment\":", 13) == 0) {
        k.p += 13;
        d->sentiment = str_at(&k);
    }
    LIT(&k, ",\"topics\":");
    d->topics = value_at(&k);
    LIT(&k, ",\"priority\":");
    d->priority = str_at(&k);
    LIT(&k, "},\"customerId\":");
    d->customer = str_at(&k);
    LIT(&k, ",\"accountId\":");
    d->account = str_at(&k);
    LIT(&k, ",\"businessUnitId\":");
    d->bu = str_at(&k);
    LIT(&k, ",\"tenantId\":");
    d->tenant = str_at(&k);
    LIT(&k, ",\"lastInboundAt\":");
    d->inbound = str_or_null_at(&k);
    LIT(&k, ",\"createdAt\":");
    d->created = str_at(&k);
    LIT(&k, ",\"updatedAt\":");
    d->updated = str_at(&k);
    if (k.ok && k.e - k.p > 15 && memcmp(k.p, ",\"lastMessage\":", 15) == 0) {
        k.p += 15;
        d->last = value_at(&k);
    }
    LIT(&k, "}");
    return k.ok && k.p == k.e;
}

/* Any layout: the first member of each name (cJSON's lookup order). */
static int general_spans(omni__jspan root, doc_spans *d)
{
    memset(d, 0, sizeof(*d));
    omni__jspan channel = {0}, meta = {0};
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, root);
    while (omni__j_next(&it, &k, &v)) {
        if (k.n < 4)
            continue;
#define M(span, name)                                       \
    else if (!span.p && omni__j_key_is(k, name)) span = v;
        if (0) {
        }
        M(d->conv_id, "conversationId")
        M(d->customer, "customerId")
        M(d->account, "accountId")
        M(d->bu, "businessUnitId")
        M(d->tenant, "tenantId")
        M(channel, "channel")
        M(d->status, "status")
        M(d->assigned, "assignedTo")
        M(d->parts, "participants")
        M(meta, "metadata")
        M(d->inbound, "lastInboundAt")
        M(d->created, "createdAt")
        M(d->updated, "updatedAt")
        M(d->last, "lastMessage")
#undef M
    }
    if (!omni__j_is(channel, '{'))
        return bad("channel");
    static const char *const chn[] = {"type", "carrier"};
    omni__jspan cf[2];
    omni__j_fields(channel, chn, cf, 2);
    d->ch_type = cf[0];
    d->ch_carrier = cf[1];
    if (!omni__j_is(meta, '{'))
        return bad("metadata");
    static const char *const mn[] = {"startedAt", "lastActivityAt", "messageCount",
                                     "sentiment", "topics",         "priority"};
    omni__jspan mf[6];
    omni__j_fields(meta, mn, mf, 6);
    d->started = mf[0];
    d->last_activity = mf[1];
    d->count = mf[2];
    d->sentiment = mf[3];
    d->topics = mf[4];
    d->priority = mf[5];
    return OMNI_OK;
}

int omni__conv_read(omni__conv *c, const char *text, size_t len, int stored, int lazy)
{
    omni__jspan root = omni__j_root(text, len);
    if (!omni__j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "conversation: the document must be an object");
    doc_spans d;
    if (!canonical_spans(root.p, root.n, &d)) {
        int grc = general_spans(root, &d);
        if (grc)
            return grc;
    }
    int rc;
    if ((rc = rd_str(d.conv_id, c->id, sizeof(c->id), 1, "conversationId")) ||
        (rc = rd_str(d.customer, c->customer_id, sizeof(c->customer_id), 1, "customerId")) ||
        (rc = rd_str(d.account, c->account_id, sizeof(c->account_id), 1, "accountId")) ||
        (rc = rd_opt_str(d.bu, c->business_unit_id, sizeof(c->business_unit_id), 0,
                         "businessUnitId")) ||
        (rc = rd_opt_str(d.tenant, c->tenant_id, sizeof(c->tenant_id), 0, "tenantId")) ||
        (rc = rd_opt_str(d.assigned, c->assigned_to, sizeof(c->assigned_to), 1, "assignedTo")))
        return rc;
    if ((rc = rd_str(d.ch_type, c->channel, sizeof(c->channel), 0, "channel.type")) ||
        (rc = rd_opt_str(d.ch_carrier, c->carrier, sizeof(c->carrier), 0, "channel.carrier")))
        return rc;
    c->status = omni__j_is(d.status, '"') && d.status.n >= 2
                    ? omni__conv_status_from(d.status.p + 1, d.status.n - 2)
                    : -1;
    if (c->status < 0)
        return bad("status");
    c->part_raw = d.parts;
    c->part_parsed = 0;
    if (!omni__j_is(d.parts, '['))
        return bad("participants");
    if (!lazy && (rc = rd_participants(c, d.parts)))
        return rc;
    c->part_parsed = !lazy;
    if ((rc = rd_time(d.started, &c->started_at, 0, "metadata.startedAt")) ||
        (rc = rd_time(d.last_activity, &c->last_activity_at, 0, "metadata.lastActivityAt")))
        return rc;
    if (!omni__j_uint(d.count, &c->message_count))
        return bad("metadata.messageCount");
    c->sentiment = -1;
    if (d.sentiment.p && !omni__j_is(d.sentiment, 'n') &&
        (c->sentiment = rd_enum(d.sentiment, sentiments, COUNT(sentiments),
                                "metadata.sentiment")) < 0)
        return bad("metadata.sentiment");
    c->n_topics = 0;
    c->topics_raw = d.topics;
    c->topics_parsed = !d.topics.p || !lazy;
    if (d.topics.p && !omni__j_is(d.topics, '['))
        return bad("topics");
    if (d.topics.p && !lazy && (rc = rd_topics(d.topics, c->topics, &c->n_topics)))
        return rc;
    c->priority = OMNI__PRIO_NORMAL;
    if (d.priority.p && (c->priority = rd_enum(d.priority, priorities, COUNT(priorities),
                                               "metadata.priority")) < 0)
        return bad("metadata.priority");
    if ((rc = rd_time(d.inbound, &c->last_inbound_at, 1, "lastInboundAt")) ||
        (rc = rd_time(d.created, &c->created_at, 0, "createdAt")) ||
        (rc = rd_time(d.updated, &c->updated_at, 0, "updatedAt")))
        return rc;
    c->last_message = (omni__jspan){NULL, 0};
    if (stored && d.last.p && !omni__j_is(d.last, 'n')) {
        if (!omni__j_is(d.last, '{'))
            return bad("lastMessage");
        c->last_message = d.last;
    }
    return OMNI_OK;
}

/* ---- writing ------------------------------------------------------------- */

void omni__conv_w_time(omni_buf *b, const char *key, int64_t ms, int nullable)
{
    omni__json_w_key(b, key);
    if (nullable && ms == 0) {
        omni__json_w_null(b);
        return;
    }
    size_t slot = (size_t)((uint64_t)ms % TIME_CACHE);
    if (time_cache[slot].len == 0 || time_cache[slot].ms != ms) {
        char t[OMNI_TIME_STRLEN];
        if (omni_time_format(t, sizeof(t), ms) != OMNI_OK) {
            omni__json_w_null(b);
            return;
        }
        size_t n = strlen(t);
        memcpy(time_cache[slot].text, t, n + 1);
        time_cache[slot].len = (unsigned char)n;
        time_cache[slot].ms = ms;
    }
    omni__buf_putc(b, '"');
    omni__buf_append(b, time_cache[slot].text, time_cache[slot].len);
    omni__buf_putc(b, '"');
}

int omni__conv_window(const omni__conv *c, int64_t now, int64_t *expires_at)
{
    *expires_at = 0;
    if (strcmp(c->channel, "whatsapp") != 0)
        return 1;
    if (c->last_inbound_at == 0)
        return 0;
    *expires_at = c->last_inbound_at + OMNI__CONV_WINDOW_MS;
    return now < *expires_at;
}

static void w_opt_str(omni_buf *b, const char *key, const char *s)
{
    omni__json_w_key(b, key);
    if (s[0])
        omni__json_w_str(b, s);
    else
        omni__json_w_null(b);
}

void omni__conv_w_window(omni_buf *b, const omni__conv *c, int64_t now)
{
    if (strcmp(c->channel, "whatsapp") != 0)
        return;
    int64_t expires;
    int open = omni__conv_window(c, now, &expires);
    omni__json_w_keyl(b, "serviceWindow");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "open");
    omni__json_w_bool(b, open);
    omni__conv_w_time(b, "expiresAt", expires, 1);
    omni__json_w_obj_end(b);
}

void omni__conv_write(omni_buf *b, const omni__conv *c, unsigned what, int64_t now,
                      const char *last_message, size_t last_message_len, size_t *view_end)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, c->id);
    omni__json_w_keyl(b, "channel");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "type");
    omni__json_w_str(b, c->channel);
    omni__json_w_keyl(b, "carrier");
    omni__json_w_str(b, c->carrier);
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, omni_conversation_status_name(c->status));
    w_opt_str(b, "assignedTo", c->assigned_to);
    omni__json_w_keyl(b, "participants");
    if (!c->part_parsed) {
        omni__json_w_raw(b, c->part_raw.p, c->part_raw.n);
    } else {
        omni__json_w_arr_begin(b);
        for (size_t i = 0; i < c->n_part; i++) {
            const omni__conv_participant *p = &c->part[i];
            omni__json_w_obj_begin(b);
            omni__json_w_keyl(b, "id");
            omni__json_w_str(b, p->id);
            omni__json_w_keyl(b, "type");
            omni__json_w_str(b, participant_types[p->type]);
            omni__conv_w_time(b, "joinedAt", p->joined_at, 0);
            omni__json_w_keyl(b, "status");
            omni__json_w_str(b, participant_statuses[p->status]);
            omni__json_w_obj_end(b);
        }
        omni__json_w_arr_end(b);
    }
    omni__json_w_keyl(b, "metadata");
    omni__json_w_obj_begin(b);
    omni__conv_w_time(b, "startedAt", c->started_at, 0);
    omni__conv_w_time(b, "lastActivityAt", c->last_activity_at, 0);
    omni__json_w_keyl(b, "messageCount");
    omni__json_w_int(b, c->message_count);
    if (c->sentiment >= 0) {
        omni__json_w_keyl(b, "sentiment");
        omni__json_w_str(b, sentiments[c->sentiment]);
    }
    omni__json_w_keyl(b, "topics");
    if (!c->topics_parsed) {
        omni__json_w_raw(b, c->topics_raw.p, c->topics_raw.n);
    } else {
        omni__json_w_arr_begin(b);
        for (size_t i = 0; i < c->n_topics; i++)
            omni__json_w_str(b, c->topics[i]);
        omni__json_w_arr_end(b);
    }
    omni__json_w_keyl(b, "priority");
    omni__json_w_str(b, priorities[c->priority]);
    omni__json_w_obj_end(b);
    if (view_end)
        *view_end = b->len;
    if (what & OMNI__CONV_W_WINDOW)
        omni__conv_w_window(b, c, now);
    if (what & OMNI__CONV_W_IDS) {
        omni__json_w_keyl(b, "customerId");
        omni__json_w_str(b, c->customer_id);
        omni__json_w_keyl(b, "accountId");
        omni__json_w_str(b, c->account_id);
        omni__json_w_keyl(b, "businessUnitId");
        omni__json_w_str(b, c->business_unit_id);
        omni__json_w_keyl(b, "tenantId");
        omni__json_w_str(b, c->tenant_id);
        omni__conv_w_time(b, "lastInboundAt", c->last_inbound_at, 1);
        omni__conv_w_time(b, "createdAt", c->created_at, 0);
        omni__conv_w_time(b, "updatedAt", c->updated_at, 0);
    }
    if (last_message) {
        omni__json_w_keyl(b, "lastMessage");
        omni__json_w_raw(b, last_message, last_message_len);
    }
    omni__json_w_obj_end(b);
}

/* ---- change events ------------------------------------------------------- */

void omni__conv_ev_begin(omni_buf *b, const char *type)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "source");
    omni__json_w_str(b, "omni.workflow");
    omni__json_w_keyl(b, "detailType");
    omni__json_w_str(b, type);
    omni__json_w_keyl(b, "detail");
    omni__json_w_obj_begin(b);
}

void omni__conv_ev_end(omni_buf *b)
{
    omni__json_w_obj_end(b);
    omni__json_w_obj_end(b);
}

void omni__conv_ev_created(omni_buf *b, const omni__conv *c)
{
    omni__conv_ev_begin(b, "conversation.created");
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, c->id);
    omni__json_w_keyl(b, "customerId");
    omni__json_w_str(b, c->customer_id);
    omni__json_w_keyl(b, "accountId");
    omni__json_w_str(b, c->account_id);
    omni__json_w_keyl(b, "channel");
    omni__json_w_str(b, c->channel);
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, omni_conversation_status_name(c->status));
    omni__conv_w_time(b, "createdAt", c->created_at, 0);
    omni__conv_ev_end(b);
}

void omni__conv_ev_status(omni_buf *b, const char *conversation_id, int from, int to, int64_t at)
{
    omni__conv_ev_begin(b, "conversation.status_changed");
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, conversation_id);
    omni__json_w_keyl(b, "previousStatus");
    omni__json_w_str(b, omni_conversation_status_name(from));
    omni__json_w_keyl(b, "newStatus");
    omni__json_w_str(b, omni_conversation_status_name(to));
    omni__conv_w_time(b, "changedAt", at, 0);
    omni__conv_ev_end(b);
}

void omni__conv_ev_assigned(omni_buf *b, const char *conversation_id, const char *from,
                            const char *to, int64_t at)
{
    omni__conv_ev_begin(b, "conversation.assigned");
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, conversation_id);
    w_opt_str(b, "previousAssignee", from);
    w_opt_str(b, "newAssignee", to);
    omni__conv_w_time(b, "assignedAt", at, 0);
    omni__conv_ev_end(b);
}

void omni__conv_ev_deleted(omni_buf *b, const char *conversation_id, int64_t at)
{
    omni__conv_ev_begin(b, "conversation.deleted");
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, conversation_id);
    omni__conv_w_time(b, "deletedAt", at, 0);
    omni__conv_ev_end(b);
}

void omni__conv_ev_message(omni_buf *b, const char *message_id, const char *conversation_id,
                           int64_t seq, const char *direction, int64_t at)
{
    omni__conv_ev_begin(b, "message.created");
    omni__json_w_keyl(b, "messageId");
    omni__json_w_str(b, message_id);
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, conversation_id);
    omni__json_w_keyl(b, "sequenceNumber");
    omni__json_w_int(b, seq);
    omni__json_w_keyl(b, "direction");
    omni__json_w_str(b, direction);
    omni__conv_w_time(b, "createdAt", at, 0);
    omni__conv_ev_end(b);
}

void omni__conv_ev_delivery(omni_buf *b, const char *message_id, const char *conversation_id,
                            const char *from, const char *to, int64_t at, omni__jspan error_code,
                            omni__jspan error_message)
{
    omni__conv_ev_begin(b, "message.delivery_updated");
    omni__json_w_keyl(b, "messageId");
    omni__json_w_str(b, message_id);
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, conversation_id);
    omni__json_w_keyl(b, "previousStatus");
    omni__json_w_str(b, from);
    omni__json_w_keyl(b, "newStatus");
    omni__json_w_str(b, to);
    omni__conv_w_time(b, "updatedAt", at, 0);
    if (strcmp(to, "failed") == 0 || strcmp(to, "undelivered") == 0) {
        if (error_code.p) {
            omni__json_w_keyl(b, "errorCode");
            omni__json_w_raw(b, error_code.p, error_code.n);
        }
        if (error_message.p) {
            omni__json_w_keyl(b, "errorMessage");
            omni__json_w_raw(b, error_message.p, error_message.n);
        }
    }
    omni__conv_ev_end(b);
}

/* ---- events -------------------------------------------------------------- */

static int ev_bad(const char *member)
{
    return omni__err(OMNI_EINVAL, "conversation event: \"%s\" is invalid", member);
}

int omni__conv_event_read(omni__conv_event *ev, const char *text, size_t len, int64_t now)
{
    omni__jspan root = omni__j_root(text, len);
    if (!omni__j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "conversation event: must be a JSON object");
    ev->event = -1;
    ev->at = now;
    ev->agent_id[0] = ev->bot_id[0] = '\0';
    ev->timeout_ms = 0;
    ev->sentiment = -2;
    ev->priority = -1;
    ev->has_topics = 0;
    ev->n_topics = 0;
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, root);
    while (omni__j_next(&it, &k, &v)) {
        if (omni__j_key_is(k, "event")) {
            ev->event = omni__j_is(v, '"') && v.n >= 2 ? omni__conv_event_from(v.p + 1, v.n - 2)
                                                        : -1;
            if (ev->event < 0)
                return omni__err(OMNI_EINVAL, "conversation event: \"event\" is not one of the "
                                              "event names");
        } else if (omni__j_key_is(k, "at")) {
            if (rd_time(v, &ev->at, 0, "at"))
                return ev_bad("at");
        } else if (omni__j_key_is(k, "agentId")) {
            if (!omni__j_is(v, 'n') && rd_str(v, ev->agent_id, sizeof(ev->agent_id), 1, "agentId"))
                return ev_bad("agentId");
        } else if (omni__j_key_is(k, "botId")) {
            if (!omni__j_is(v, 'n') && rd_str(v, ev->bot_id, sizeof(ev->bot_id), 1, "botId"))
                return ev_bad("botId");
        } else if (omni__j_key_is(k, "sentiment")) {
            ev->sentiment = omni__j_is(v, 'n') ? -1
                                               : rd_enum(v, sentiments, COUNT(sentiments),
                                                         "sentiment");
            if (ev->sentiment == -2 || (ev->sentiment < 0 && !omni__j_is(v, 'n')))
                return ev_bad("sentiment");
        } else if (omni__j_key_is(k, "priority")) {
            if ((ev->priority = rd_enum(v, priorities, COUNT(priorities), "priority")) < 0)
                return ev_bad("priority");
        } else if (omni__j_key_is(k, "topics")) {
            if (rd_topics(v, ev->topics, &ev->n_topics))
                return ev_bad("topics");
            ev->has_topics = 1;
        } else if (omni__j_key_is(k, "inactivityTimeoutMs")) {
            int64_t t;
            if (!omni__j_uint(v, &t) || t < 1 || t > OMNI__CONV_MAX_MS)
                return ev_bad("inactivityTimeoutMs");
            ev->timeout_ms = t;
        } else if (omni__j_key_is(k, "reason")) {
            if (!omni__j_is(v, '"') && !omni__j_is(v, 'n'))
                return ev_bad("reason");
        } else {
            return omni__err(OMNI_EINVAL, "conversation event: unknown member");
        }
    }
    if (ev->event < 0)
        return omni__err(OMNI_EINVAL, "conversation event: \"event\" is required");
    return OMNI_OK;
}

/* The participant (id, type), or NULL. */
static omni__conv_participant *find_part(omni__conv *c, const char *id, int type)
{
    for (size_t i = 0; i < c->n_part; i++)
        if (c->part[i].type == type && strcmp(c->part[i].id, id) == 0)
            return &c->part[i];
    return NULL;
}

/* The participant that is the assignee (an agent or a bot), or NULL. */
static omni__conv_participant *assignee(omni__conv *c)
{
    if (!c->assigned_to[0])
        return NULL;
    for (size_t i = 0; i < c->n_part; i++)
        if (c->part[i].type != OMNI__P_CUSTOMER && strcmp(c->part[i].id, c->assigned_to) == 0)
            return &c->part[i];
    return NULL;
}

/* Joins (or re-activates) a participant. */
static int join(omni__conv *c, const char *id, int type, int64_t at)
{
    omni__conv_participant *p = find_part(c, id, type);
    if (!p) {
        if (c->n_part >= OMNI__CONV_MAX_PARTICIPANTS)
            return omni__err(OMNI_ETOOLARGE, "conversation: at most %d participants",
                             OMNI__CONV_MAX_PARTICIPANTS);
        p = &c->part[c->n_part++];
        OMNI__CONV_COPY(p->id, id);
        p->type = (unsigned char)type;
        p->joined_at = at;
    }
    p->status = OMNI__PS_ACTIVE;
    return OMNI_OK;
}

/* Hands the assignment to (id, type): the previous assignee is
 * "transferred". */
static int assign(omni__conv *c, const char *id, int type, int64_t at)
{
    omni__conv_participant *prev = assignee(c);
    if (prev && !(prev->type == type && strcmp(prev->id, id) == 0))
        prev->status = OMNI__PS_TRANSFERRED;
    int rc = join(c, id, type, at);
    if (rc)
        return rc;
    OMNI__CONV_COPY(c->assigned_to, id);
    return OMNI_OK;
}

static int precondition(const omni__conv *c, const omni__conv_event *ev, const char *why)
{
    return omni__err(OMNI_ETRANSITION, "conversation: %s does not apply to this "
                                       "conversation, which is %s (%s)",
                     omni_conversation_event_name(ev->event),
                     omni_conversation_status_name(c->status), why);
}

int omni__conv_apply(omni__conv *c, const omni__conv_event *ev, omni_buf *events)
{
    int next;
    int rc = omni_conversation_next_status(c->status, ev->event, &next);
    if (rc)
        return rc;
    /* the assignee is a participant: read them when it matters */
    int needs_parts = ev->event != OMNI_CONVERSATION_INBOUND_MESSAGE &&
                      ev->event != OMNI_CONVERSATION_OUTBOUND_MESSAGE &&
                      ev->event != OMNI_CONVERSATION_SET_METADATA;
    if (needs_parts && !c->part_parsed) {
        if ((rc = rd_participants(c, c->part_raw)))
            return rc;
        c->part_parsed = 1;
    }

    /* work on a copy: on error c stays as it was */
    omni__conv n = *c;
    omni__conv_participant *cur = assignee(&n);
    int is_bot = cur && cur->type == OMNI__P_BOT;
    switch (ev->event) {
    case OMNI_CONVERSATION_INBOUND_MESSAGE:
    case OMNI_CONVERSATION_OUTBOUND_MESSAGE:
        n.message_count++;
        n.last_activity_at = ev->at > n.last_activity_at ? ev->at : n.last_activity_at;
        if (ev->event == OMNI_CONVERSATION_INBOUND_MESSAGE)
            n.last_inbound_at = ev->at > n.last_inbound_at ? ev->at : n.last_inbound_at;
        break;
    case OMNI_CONVERSATION_AGENT_ASSIGNED:
    case OMNI_CONVERSATION_AGENT_TRANSFERRED:
        if (!ev->agent_id[0])
            return omni__err(OMNI_EINVAL, "conversation event: %s needs \"agentId\"",
                             omni_conversation_event_name(ev->event));
        if (ev->event == OMNI_CONVERSATION_AGENT_TRANSFERRED) {
            if (!cur || is_bot)
                return precondition(c, ev, "no agent is assigned");
            if (strcmp(cur->id, ev->agent_id) == 0)
                return precondition(c, ev, "that agent is already assigned");
        }
        if ((rc = assign(&n, ev->agent_id, OMNI__P_AGENT, ev->at)))
            return rc;
        break;
    case OMNI_CONVERSATION_AGENT_LEFT:
        if (!cur || is_bot)
            return precondition(c, ev, "no agent is assigned");
        if (ev->agent_id[0] && strcmp(ev->agent_id, cur->id) != 0)
            return precondition(c, ev, "that agent is not the assignee");
        cur->status = OMNI__PS_LEFT;
        n.assigned_to[0] = '\0';
        break;
    case OMNI_CONVERSATION_BOT_HANDOVER:
        if (!ev->bot_id[0])
            return omni__err(OMNI_EINVAL, "conversation event: bot_handover needs \"botId\"");
        if ((rc = assign(&n, ev->bot_id, OMNI__P_BOT, ev->at)))
            return rc;
        break;
    case OMNI_CONVERSATION_ESCALATE:
        for (size_t i = 0; i < n.n_part; i++)
            if (n.part[i].type == OMNI__P_BOT && n.part[i].status == OMNI__PS_ACTIVE)
                n.part[i].status = OMNI__PS_TRANSFERRED;
        if (is_bot)
            n.assigned_to[0] = '\0';
        if (ev->agent_id[0] && (rc = assign(&n, ev->agent_id, OMNI__P_AGENT, ev->at)))
            return rc;
        break;
    case OMNI_CONVERSATION_INACTIVITY_TIMEOUT: {
        int64_t t = ev->timeout_ms ? ev->timeout_ms : OMNI__CONV_DEFAULT_TIMEOUT_MS;
        if (ev->at < n.last_activity_at + t)
            return precondition(c, ev, "the conversation is not inactive long enough");
        break;
    }
    case OMNI_CONVERSATION_SET_METADATA:
        if (ev->sentiment == -2 && ev->priority < 0 && !ev->has_topics)
            return omni__err(OMNI_EINVAL, "conversation event: set_metadata needs "
                                          "\"sentiment\", \"topics\" or \"priority\"");
        break;
    default: break;
    }
    if (ev->sentiment != -2)
        n.sentiment = ev->sentiment;
    if (ev->priority >= 0)
        n.priority = ev->priority;
    if (ev->has_topics) {
        n.topics_parsed = 1;
        n.n_topics = ev->n_topics;
        memcpy(n.topics, ev->topics, sizeof(n.topics[0]) * ev->n_topics);
    }
    n.status = next;
    if (ev->at > n.updated_at)
        n.updated_at = ev->at;
    if (n.status != c->status)
        omni__conv_ev_status(events, n.id, c->status, n.status, ev->at);
    if (strcmp(n.assigned_to, c->assigned_to) != 0)
        omni__conv_ev_assigned(events, n.id, c->assigned_to, n.assigned_to, ev->at);
    *c = n;
    return OMNI_OK;
}

int omni_conversation_apply(char **out, size_t *out_len, const char *conversation_json,
                            size_t conversation_len, const char *event_json, size_t event_len,
                            int64_t now_ms)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out || !conversation_json || !event_json || now_ms < 0)
        return omni__err(OMNI_EINVAL, "conversation apply: NULL argument or negative time");
    int rc = omni__json_validate(conversation_json, conversation_len, OMNI_CONVERSATION_MAX_DOC,
                                 "conversation");
    if (!rc)
        rc = omni__json_validate(event_json, event_len, OMNI__CONV_EVENT_MAX,
                                 "conversation event");
    if (rc)
        return rc;
    omni__conv *c = omni_malloc(sizeof(*c));
    omni__conv_event *ev = omni_malloc(sizeof(*ev));
    if (!c || !ev) {
        omni_free(c);
        omni_free(ev);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    omni_buf events = OMNI_BUF_INIT, b = OMNI_BUF_INIT;
    rc = omni__conv_read(c, conversation_json, conversation_len, 0, 0);
    if (!rc)
        rc = omni__conv_event_read(ev, event_json, event_len, now_ms);
    omni__json_w_arr_begin(&events);
    if (!rc)
        rc = omni__conv_apply(c, ev, &events);
    omni__json_w_arr_end(&events);
    if (!rc) {
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "conversation");
        omni__conv_write(&b, c, OMNI__CONV_W_IDS | OMNI__CONV_W_WINDOW, now_ms, NULL, 0, NULL);
        omni__json_w_keyl(&b, "events");
        omni__json_w_raw(&b, events.data ? events.data : "[]", events.len);
        omni__json_w_obj_end(&b);
        rc = omni__buf_status(&events);
    }
    omni__buf_free(&events);
    omni_free(c);
    omni_free(ev);
    return omni__buf_finish(&b, rc, out, out_len);
}
