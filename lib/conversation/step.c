/* The conversation step (seed 001's workFlowBiDirectional) over the
 * engine's store, exactly once:
 *
 * 1. read the conversation record of (customer, channel, account);
 * 2. a message seen before answers with its first result: found by its
 *    reference record ("message_ref"), or, over a host's hook, as the
 *    conversation's pending latest message;
 * 3. commit the new state with one compare-and-swap of the conversation
 *    record. The bundled stores write it, the reference record (create-only:
 *    it is also the duplicate check) and the message record in one atomic
 *    batch. Over a host's hook the conversation record carries the message
 *    ("lastMessage") and the two records are written after the commit, by
 *    this call or, when the writer died in between, by the next call that
 *    touches the conversation (which writes out a pending message before
 *    it replaces it).
 *
 * The compare-and-swap is the only commit point, so a message is recorded
 * whole or not at all and sequence numbers stay dense. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <omni/conversation.h>
#include <omni/datetime.h>
#include <omni/identity.h>
#include <omni/store.h>
#include <omni/uuid.h>

#include "conversation_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "storage/store_internal.h"
#include "records.h"

#define EVENT_MAX (1024u * 1024u)
#define MESSAGE_MAX (256u * 1024u)
#define OPTIONS_MAX (4u * 1024u)
#define DEFAULT_DEDUPE_MS (7LL * 24 * 60 * 60 * 1000)
#define DEFAULT_ATTEMPTS 16
#define MAX_ATTEMPTS 64

/* ---- storage helpers shared with query.c --------------------------------- */

int omni__conv_db_error(int rc, const char *what)
{
    if (rc == OMNI_ENOMEM || rc == OMNI_ESTORAGE || rc == OMNI_ECONFLICT)
        return rc;
    return omni__err_retry(OMNI_ESTORAGE, 1, "conversation: %s failed (%s: %s)", what,
                           omni_status_code(rc), omni_error_last_message());
}

int omni__conv_corrupt(const char *ns)
{
    return omni__err_retry(OMNI_ESTORAGE, 0, "conversation: a stored %s record is not one "
                                             "libomni wrote",
                           ns);
}

int omni__conv_load(omni_store *store, const char *ns, const char *key, int64_t now,
                    omni__stored *out)
{
    out->text = NULL;
    out->len = 0;
    out->version = 0;
    int rc = omni_store_get(store, ns, key, now, &out->text, &out->len, &out->version, NULL);
    if (rc == OMNI_ENOTFOUND)
        return rc;
    if (rc)
        return omni__conv_db_error(rc, "reading the store");
    /* a bundled backend hands back what was put: documents libomni wrote */
    if (!omni__store_trusted(store) &&
        omni__json_validate(out->text, out->len, OMNI_STORE_MAX_VALUE, "stored record")) {
        omni_free(out->text);
        out->text = NULL;
        return omni__conv_corrupt(ns);
    }
    return OMNI_OK;
}

int omni__conv_load_conversation(omni_store *store, const char *key, int64_t now,
                                 omni__stored *st, omni__conv *c)
{
    int rc = omni__conv_load(store, OMNI__NS_CONVERSATION, key, now, st);
    if (rc)
        return rc;
    if (omni__conv_read(c, st->text, st->len, 1, omni__store_trusted(store))) {
        omni_free(st->text);
        st->text = NULL;
        return omni__conv_corrupt(OMNI__NS_CONVERSATION);
    }
    return OMNI_OK;
}

void omni__conv_message_key(char *out, size_t cap, const char *conversation_id, int64_t seq)
{
    size_t n = strlen(conversation_id);
    if (n + 14 > cap || seq < 0) {
        out[0] = '\0';
        return;
    }
    memcpy(out, conversation_id, n);
    out[n] = '/';
    for (int i = 12; i >= 1; i--, seq /= 10)
        out[n + (size_t)i] = (char)('0' + seq % 10);
    out[n + 13] = '\0';
}

/* The fields of a message record that the step and the queries need. */
int omni__conv_msg_read(omni__msg *m, omni__jspan rec)
{
    static const char *const names[] = {"messageId",        "sequenceNumber", "direction",
                                        "carrier",          "carrierMessageId",
                                        "deliveryStatus",   "conversationId", "createdAt"};
    omni__jspan f[8];
    omni__j_fields(rec, names, f, 8);
    if (!omni__j_uint(f[1], &m->seq))
        m->seq = 0;
    if (omni__j_str(f[0], m->message_id, sizeof(m->message_id)) <= 0 || m->seq <= 0 ||
        omni__j_str(f[2], m->direction, sizeof(m->direction)) <= 0 ||
        omni__j_str(f[3], m->carrier, sizeof(m->carrier)) <= 0 ||
        omni__j_str(f[4], m->carrier_message_id, sizeof(m->carrier_message_id)) <= 0 ||
        omni__j_str(f[5], m->delivery_status, sizeof(m->delivery_status)) <= 0 ||
        omni__j_str(f[6], m->conversation_id, sizeof(m->conversation_id)) <= 0)
        return OMNI_EINVAL;
    if (omni__conv_span_time(f[7], &m->created_at) != OMNI_OK)
        return OMNI_EINVAL;
    if (strcmp(m->direction, "inbound") != 0 && strcmp(m->direction, "outbound") != 0)
        return OMNI_EINVAL;
    return OMNI_OK;
}

/* "a/b/c" into out (cap bytes; truncated to fit, always terminated). */
static void join3(char *out, size_t cap, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    size_t n = 0;
    for (int i = 0; i < 3 && cap > 0; i++) {
        size_t len = strlen(parts[i]);
        if (i > 0 && n + 1 < cap)
            out[n++] = '/';
        if (len > cap - 1 - n)
            len = cap - 1 - n;
        memcpy(out + n, parts[i], len);
        n += len;
    }
    if (cap > 0)
        out[n] = '\0';
}

void omni__conv_ref_key(char *out, size_t cap, const char *direction, const char *carrier,
                        const char *carrier_message_id)
{
    join3(out, cap, direction[0] == 'o' ? "out" : "in", carrier, carrier_message_id);
}

/* The result's members (no braces) for a message of a conversation, as
 * the conversation stood right after the message was committed:
 * "correlationId", "conversation", "messageState", "routing". */
static void result_core(omni_buf *b, const omni__conv *c, const omni__msg *m,
                        omni__jspan correlation, int64_t now, const char *view, size_t view_len)
{
    omni__json_w_keyl(b, "correlationId");
    if (omni__j_is(correlation, '"'))
        omni__json_w_raw(b, correlation.p, correlation.n);
    else
        omni__json_w_null(b);
    omni__json_w_keyl(b, "conversation");
    if (view) { /* the first members of the stored document, just written */
        omni__json_w_raw(b, view, view_len);
        omni__conv_w_window(b, c, now);
        omni__json_w_obj_end(b);
    } else {
        omni__conv_write(b, c, OMNI__CONV_W_WINDOW, now, NULL, 0, NULL);
    }
    omni__json_w_keyl(b, "messageState");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "messageId");
    omni__json_w_str(b, m->message_id);
    omni__json_w_keyl(b, "sequenceNumber");
    omni__json_w_int(b, m->seq);
    omni__json_w_keyl(b, "deliveryStatus");
    omni__json_w_str(b, m->delivery_status);
    omni__json_w_keyl(b, "direction");
    omni__json_w_str(b, m->direction);
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "routing");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "accountId");
    omni__json_w_str(b, c->account_id);
    omni__json_w_keyl(b, "businessUnitId");
    omni__json_w_str(b, c->business_unit_id);
    omni__json_w_keyl(b, "tenantId");
    omni__json_w_str(b, c->tenant_id);
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, c->id);
    omni__json_w_keyl(b, "customerId");
    omni__json_w_str(b, c->customer_id);
    omni__json_w_keyl(b, "channel");
    omni__json_w_str(b, c->channel);
    omni__json_w_keyl(b, "assignedTo");
    if (c->assigned_to[0])
        omni__json_w_str(b, c->assigned_to);
    else
        omni__json_w_null(b);
    omni__json_w_keyl(b, "priority");
    static const char *const prio[] = {"low", "normal", "high", "urgent"};
    omni__json_w_str(b, prio[c->priority]);
    omni__json_w_obj_end(b);
}

/* The reference record of a message: its conversation, sequence number and
 * first result (core: the result's members). */
static void ref_record(omni_buf *b, const omni__conv *c, const omni__msg *m, const char *core,
                       size_t core_len)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, c->id);
    omni__json_w_keyl(b, "sequenceNumber");
    omni__json_w_int(b, m->seq);
    omni__json_w_keyl(b, "result");
    omni__buf_putc(b, '{');
    omni__buf_append(b, core, core_len);
    omni__buf_putc(b, '}');
    omni__json_w_obj_end(b);
}

/* When a reference expires (0: never). */
static int64_t ref_expiry(int64_t now, int64_t ttl_ms)
{
    int64_t exp = ttl_ms ? now + ttl_ms : 0;
    return exp > INT64_C(253402300799999) ? INT64_C(253402300799999) : exp;
}

/* Writes the reference record, then the message record, of the pending
 * message of c (both create-only: a record that exists is left as it is).
 * ref_ttl_ms 0: the reference never expires. */
static int materialize(omni_store *store, const omni__conv *c, int64_t now, int64_t ref_ttl_ms,
                       const omni__msg *m, const char *core, size_t core_len)
{
    char key[OMNI_STORE_MAX_KEY + 1];
    omni_buf b = OMNI_BUF_INIT;
    ref_record(&b, c, m, core, core_len);
    int rc = omni__buf_status(&b);
    if (!rc) {
        omni__conv_ref_key(key, sizeof(key), m->direction, m->carrier, m->carrier_message_id);
        rc = omni__store_put_trusted(store, OMNI__NS_MESSAGE_REF, key, b.data, b.len,
                                     OMNI_STORE_CREATE, ref_expiry(now, ref_ttl_ms), now, NULL);
        if (rc == OMNI_EEXISTS)
            rc = OMNI_OK;
    }
    omni__buf_free(&b);
    if (rc)
        return omni__conv_db_error(rc, "writing a message reference");
    omni__conv_message_key(key, sizeof(key), c->id, m->seq);
    rc = omni__store_put_trusted(store, OMNI__NS_MESSAGE, key, c->last_message.p,
                                 c->last_message.n, OMNI_STORE_CREATE, 0, now, NULL);
    if (rc == OMNI_EEXISTS)
        rc = OMNI_OK;
    return rc ? omni__conv_db_error(rc, "writing a message record") : OMNI_OK;
}

/* The correlationId member of a message record (a string span). */
static omni__jspan msg_correlation(omni__jspan rec)
{
    omni__jspan v = omni__j_get(rec, "correlationId");
    return omni__j_is(v, '"') ? v : (omni__jspan){NULL, 0};
}

/* FNV-1a of an id: the key of the engine's small caches. Never 0 (0 marks
 * an empty slot). */
static uint64_t id_hash(const char *id)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * UINT64_C(1099511628211);
    return h | 1;
}

/* 1 when this engine wrote out message seq of the conversation itself. */
static int written_out(omni_engine *e, const char *conversation_id, int64_t seq)
{
    uint64_t h = id_hash(conversation_id);
    pthread_mutex_lock(&e->mu);
    size_t i = (size_t)(h >> 56);
    int hit = e->conv_written[i].id_hash == h && e->conv_written[i].seq == seq;
    pthread_mutex_unlock(&e->mu);
    return hit;
}

static void note_written_out(omni_engine *e, const char *conversation_id, int64_t seq)
{
    uint64_t h = id_hash(conversation_id);
    pthread_mutex_lock(&e->mu);
    size_t i = (size_t)(h >> 56);
    e->conv_written[i].id_hash = h;
    e->conv_written[i].seq = seq;
    pthread_mutex_unlock(&e->mu);
}

/* The statuses parked for an outbound message whose reference was just
 * written (events appended to `events`, NULL: dropped). The message is
 * recorded either way: a failure is logged and the statuses stay parked. */
static void apply_parked(omni_engine *engine, const omni__msg *m, int64_t now, omni_buf *events)
{
    int rc = omni__conv_apply_parked(engine, m->carrier, m->carrier_message_id, now, events);
    if (rc)
        omni__log(engine, OMNI_LOG_WARN, "conversation",
                  "the delivery statuses parked for an outbound message were not applied (%s)",
                  omni_status_code(rc));
}

int omni__conv_flush_pending(omni_engine *engine, const omni__conv *c, int64_t now,
                             int64_t ref_ttl_ms, omni_buf *parked_events)
{
    if (!c->last_message.p)
        return OMNI_OK;
    omni__msg m;
    if (omni__conv_msg_read(&m, c->last_message))
        return omni__conv_corrupt(OMNI__NS_CONVERSATION);
    /* the conversation id never comes back after a delete (UUIDv7), so a
     * hit is a message record that exists */
    if (written_out(engine, c->id, m.seq))
        return OMNI_OK;
    omni_store *store = omni_engine_store(engine);
    char key[OMNI_STORE_MAX_KEY + 1];
    omni__conv_message_key(key, sizeof(key), c->id, m.seq);
    char *text = NULL;
    int rc = omni_store_get(store, OMNI__NS_MESSAGE, key, now, &text, NULL, NULL, NULL);
    omni_free(text);
    if (rc == OMNI_OK) {
        note_written_out(engine, c->id, m.seq);
        return OMNI_OK;
    }
    if (rc != OMNI_ENOTFOUND)
        return omni__conv_db_error(rc, "reading a message record");
    omni_buf core = OMNI_BUF_INIT;
    result_core(&core, c, &m, msg_correlation(c->last_message), now, NULL, 0);
    rc = omni__buf_status(&core);
    if (!rc)
        rc = materialize(store, c, now, ref_ttl_ms, &m, core.data, core.len);
    omni__buf_free(&core);
    if (!rc) {
        note_written_out(engine, c->id, m.seq);
        if (m.direction[0] == 'o')
            apply_parked(engine, &m, now, parked_events);
    }
    return rc;
}

/* ---- the step's input ---------------------------------------------------- */

typedef struct step_in {
    omni__jspan correlation;
    omni__jspan message; /* enrichedMessage */
    char customer_id[OMNI__CONV_ID_MAX + 1];
    char account_id[OMNI__CONV_ID_MAX + 1];
    char business_unit_id[OMNI__CONV_TEXT_MAX + 1];
    char tenant_id[OMNI__CONV_TEXT_MAX + 1];
    char carrier[OMNI__CONV_CHANNEL_MAX + 1];
    char channel[OMNI__CONV_CHANNEL_MAX + 1];
    char message_id[OMNI__CONV_MSGID_MAX + 1];
    char content_type[OMNI__CONV_CHANNEL_MAX + 1];
    int outbound;
} step_in;

typedef struct step_opts {
    int64_t timeout_ms, dedupe_ms;
    int attempts;
    int has_timeout, has_dedupe;
} step_opts;

static int in_bad(const char *what)
{
    return omni__err(OMNI_EINVAL, "conversation step: %s", what);
}

static int channel_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OMNI__CONV_CHANNEL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

/* A string span into buf: 0 absent or null (buf ""), 1 set, -1 not a
 * string or too long. */
static int span_str(omni__jspan v, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!v.p || omni__j_is(v, 'n'))
        return 0;
    return omni__j_is(v, '"') && omni__j_str(v, buf, cap) >= 0 ? 1 : -1;
}

static int read_step_input(step_in *in, const char *json, size_t len)
{
    int rc = omni__json_validate(json, len, EVENT_MAX, "conversation step event");
    if (rc)
        return rc;
    omni__jspan root = omni__j_root(json, len);
    if (!omni__j_is(root, '{'))
        return in_bad("the event must be a JSON object");
    static const char *const names[] = {"correlationId", "identity", "routing",
                                        "enrichedMessage", "direction", "channel",
                                        "carrier",        "channelType"};
    omni__jspan f[8];
    omni__j_fields(root, names, f, 8);
    memset(in, 0, sizeof(*in));
    in->correlation = f[0];
    if (!omni__j_is(f[0], '"'))
        return in_bad("\"correlationId\" must be a string");
    omni__jspan identity = f[1], routing = f[2], msg = f[3];
    if (!omni__j_is(identity, '{') || !omni__j_is(routing, '{') || !omni__j_is(msg, '{'))
        return in_bad("\"identity\", \"routing\" and \"enrichedMessage\" must be objects");
    if (msg.n > MESSAGE_MAX)
        return omni__err(OMNI_ETOOLARGE, "conversation step: enrichedMessage is over %u bytes",
                         MESSAGE_MAX);
    in->message = msg;
    static const char *const rnames[] = {"accountId", "businessUnitId", "tenantId",
                                         "channelType"};
    static const char *const mnames[] = {"id", "carrier", "contentType", "channelType"};
    omni__jspan r[4], mf[4];
    omni__j_fields(routing, rnames, r, 4);
    omni__j_fields(msg, mnames, mf, 4);
    if (omni__j_get_str(identity, "customerId", in->customer_id, sizeof(in->customer_id)) <= 0 ||
        !omni__conv_plain_id(in->customer_id, strlen(in->customer_id)))
        return in_bad("identity.customerId must be 1..128 of [A-Za-z0-9._:@+-]");
    if (span_str(r[0], in->account_id, sizeof(in->account_id)) <= 0 ||
        !omni__conv_plain_id(in->account_id, strlen(in->account_id)))
        return in_bad("routing.accountId must be 1..128 of [A-Za-z0-9._:@+-]");
    if (span_str(r[1], in->business_unit_id, sizeof(in->business_unit_id)) < 0 ||
        span_str(r[2], in->tenant_id, sizeof(in->tenant_id)) < 0)
        return in_bad("routing.businessUnitId and tenantId must be strings of at most 128 "
                      "bytes");
    if (span_str(mf[0], in->message_id, sizeof(in->message_id)) <= 0 || !in->message_id[0])
        return in_bad("enrichedMessage.id must be a string of 1..256 bytes");
    for (const char *p = in->message_id; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return in_bad("enrichedMessage.id must not hold control characters");
    if (span_str(mf[1], in->carrier, sizeof(in->carrier)) <= 0 &&
        span_str(f[6], in->carrier, sizeof(in->carrier)) <= 0)
        return in_bad("enrichedMessage.carrier must be a carrier name");
    if (!channel_name_ok(in->carrier))
        return in_bad("enrichedMessage.carrier must be 1..32 of [a-z0-9_-]");
    if (span_str(mf[2], in->content_type, sizeof(in->content_type)) < 0)
        return in_bad("enrichedMessage.contentType must be a short string");
    /* direction */
    if (f[4].p && !omni__j_is(f[4], 'n')) {
        if (omni__j_is(f[4], '"') && f[4].n == 10 && memcmp(f[4].p, "\"outbound\"", 10) == 0)
            in->outbound = 1;
        else if (!(omni__j_is(f[4], '"') && f[4].n == 9 && memcmp(f[4].p, "\"inbound\"", 9) == 0))
            return in_bad("\"direction\" must be \"inbound\" or \"outbound\"");
    }
    /* channel: explicit, else derived from carrier and channelType */
    if (f[5].p && !omni__j_is(f[5], 'n')) {
        if (omni__j_str(f[5], in->channel, sizeof(in->channel)) <= 0 ||
            !channel_name_ok(in->channel))
            return in_bad("\"channel\" must be 1..32 of [a-z0-9_-]");
        return OMNI_OK;
    }
    char type[OMNI__CONV_CHANNEL_MAX + 1] = "";
    if (span_str(r[3], type, sizeof(type)) <= 0 && span_str(mf[3], type, sizeof(type)) <= 0 &&
        span_str(f[7], type, sizeof(type)) <= 0)
        type[0] = '\0';
    const char *ch;
    if (strcmp(in->carrier, "whatsapp") == 0 ||
        (strcmp(in->carrier, "twilio") == 0 && strcmp(type, "chat") == 0))
        ch = "whatsapp";
    else if (strcmp(type, "sms") == 0 || strcmp(type, "mms") == 0)
        ch = "sms";
    else if (strcmp(type, "chat") == 0)
        ch = in->carrier;
    else if (strcmp(type, "voice") == 0)
        ch = "voice";
    else if (type[0] == '\0' && strcmp(in->carrier, "livechat") == 0)
        ch = "livechat";
    else if (type[0] == '\0')
        ch = "sms";
    else
        return in_bad("routing.channelType is not sms, mms, chat or voice (name a \"channel\")");
    OMNI__CONV_COPY(in->channel, ch);
    return OMNI_OK;
}

/* A positive integer member up to max; 0 absent, -1 bad. */
static int opt_int(omni__jspan obj, const char *name, int64_t min, int64_t max, int64_t *out)
{
    omni__jspan v = omni__j_get(obj, name);
    if (!v.p)
        return 0;
    int64_t x;
    if (!omni__j_uint(v, &x) || x < min || x > max)
        return -1;
    *out = x;
    return 1;
}

int omni__conv_settings_read(const char *json, size_t len, int64_t *timeout_ms,
                             int64_t *dedupe_ms, int *has_timeout, int *has_dedupe,
                             int64_t *attempts, const char *what)
{
    omni__jspan root = omni__j_root(json, len);
    if (!omni__j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "%s must be a JSON object", what);
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, root);
    while (omni__j_next(&it, &k, &v)) {
        if (!omni__j_key_is(k, "inactivityTimeoutMs") && !omni__j_key_is(k, "dedupeWindowMs") &&
            !(attempts && omni__j_key_is(k, "maxAttempts")))
            return omni__err(OMNI_EINVAL, "%s: unknown member", what);
    }
    int r1 = opt_int(root, "inactivityTimeoutMs", 1, OMNI__CONV_MAX_MS, timeout_ms);
    int r2 = opt_int(root, "dedupeWindowMs", 0, OMNI__CONV_MAX_MS, dedupe_ms);
    int r3 = attempts ? opt_int(root, "maxAttempts", 1, MAX_ATTEMPTS, attempts) : 0;
    if (r1 < 0)
        return omni__err(OMNI_EINVAL, "%s: inactivityTimeoutMs must be 1..2^40", what);
    if (r2 < 0)
        return omni__err(OMNI_EINVAL, "%s: dedupeWindowMs must be 0..2^40", what);
    if (r3 < 0)
        return omni__err(OMNI_EINVAL, "%s: maxAttempts must be 1..64", what);
    *has_timeout |= r1 > 0;
    *has_dedupe |= r2 > 0;
    return OMNI_OK;
}

static int read_options(step_opts *o, const char *json, size_t len)
{
    o->timeout_ms = OMNI__CONV_DEFAULT_TIMEOUT_MS;
    o->dedupe_ms = DEFAULT_DEDUPE_MS;
    o->attempts = DEFAULT_ATTEMPTS;
    o->has_timeout = o->has_dedupe = 0;
    if (!json)
        return OMNI_OK;
    int rc = omni__json_validate(json, len, OPTIONS_MAX, "conversation options");
    if (rc)
        return rc;
    int64_t attempts = DEFAULT_ATTEMPTS;
    rc = omni__conv_settings_read(json, len, &o->timeout_ms, &o->dedupe_ms, &o->has_timeout,
                                  &o->has_dedupe, &attempts, "conversation options");
    o->attempts = (int)attempts;
    return rc;
}

/* How long an engine trusts the account settings it read (other engines'
 * changes show within this time; its own at once). */
#define SETTINGS_FRESH_NS INT64_C(1000000000)

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t settings_slot(const char *account_id)
{
    return (size_t)((id_hash(account_id) >> 1) % 32);
}

void omni__conv_settings_forget(omni_engine *e, const char *account_id)
{
    size_t i = settings_slot(account_id);
    pthread_mutex_lock(&e->mu);
    e->conv_settings[i].account[0] = '\0';
    pthread_mutex_unlock(&e->mu);
}

int omni__conv_account_settings(omni_engine *e, const char *account_id, int64_t now,
                                int64_t *timeout_ms, int64_t *dedupe_ms, int *has_timeout,
                                int *has_dedupe)
{
    size_t i = settings_slot(account_id);
    int64_t t_ns = mono_ns();
    pthread_mutex_lock(&e->mu);
    if (strcmp(e->conv_settings[i].account, account_id) == 0 &&
        t_ns - e->conv_settings[i].read_at_ns < SETTINGS_FRESH_NS) {
        *timeout_ms = e->conv_settings[i].timeout_ms;
        *dedupe_ms = e->conv_settings[i].dedupe_ms;
        *has_timeout = e->conv_settings[i].has_timeout;
        *has_dedupe = e->conv_settings[i].has_dedupe;
        pthread_mutex_unlock(&e->mu);
        return OMNI_OK;
    }
    pthread_mutex_unlock(&e->mu);
    *timeout_ms = OMNI__CONV_DEFAULT_TIMEOUT_MS;
    *dedupe_ms = DEFAULT_DEDUPE_MS;
    *has_timeout = *has_dedupe = 0;
    omni__stored st;
    int rc = omni__conv_load(omni_engine_store(e), OMNI__NS_SETTINGS, account_id, now, &st);
    if (rc == OMNI_OK) {
        rc = omni__conv_settings_read(st.text, st.len, timeout_ms, dedupe_ms, has_timeout,
                                      has_dedupe, NULL, "stored settings");
        omni_free(st.text);
        if (rc)
            return omni__conv_corrupt(OMNI__NS_SETTINGS);
    } else if (rc != OMNI_ENOTFOUND) {
        return rc;
    }
    pthread_mutex_lock(&e->mu);
    OMNI__CONV_COPY(e->conv_settings[i].account, account_id);
    e->conv_settings[i].read_at_ns = t_ns;
    e->conv_settings[i].timeout_ms = *timeout_ms;
    e->conv_settings[i].dedupe_ms = *dedupe_ms;
    e->conv_settings[i].has_timeout = *has_timeout;
    e->conv_settings[i].has_dedupe = *has_dedupe;
    pthread_mutex_unlock(&e->mu);
    return OMNI_OK;
}

/* Fills what the options left open from the account's settings. */
static int account_settings(omni_engine *e, const char *account_id, int64_t now, step_opts *o)
{
    if (o->has_timeout && o->has_dedupe)
        return OMNI_OK;
    int64_t t, d;
    int ht, hd;
    int rc = omni__conv_account_settings(e, account_id, now, &t, &d, &ht, &hd);
    if (rc)
        return rc;
    if (ht && !o->has_timeout)
        o->timeout_ms = t;
    if (hd && !o->has_dedupe)
        o->dedupe_ms = d;
    return OMNI_OK;
}

/* ---- per-thread scratch ---------------------------------------------------- */

/* What a step needs besides its result: the conversation (a few KiB) and its
 * builders, kept per thread between calls so a step does not allocate them
 * again (a buffer that grew past SCRATCH_KEEP is released). */
typedef struct step_scratch {
    omni__conv conv;
    omni_buf events, rec, doc, core, refdoc;
    int in_use;
} step_scratch;

#define SCRATCH_KEEP (64u * 1024u)

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_release(step_scratch *s)
{
    omni__buf_free(&s->events);
    omni__buf_free(&s->rec);
    omni__buf_free(&s->doc);
    omni__buf_free(&s->core);
    omni__buf_free(&s->refdoc);
    free(s);
}

static void scratch_destroy(void *p)
{
    scratch_release(p);
}

static void scratch_init(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

static step_scratch *scratch_take(void)
{
    pthread_once(&scratch_once, scratch_init);
    step_scratch *s = scratch_key_ok ? pthread_getspecific(scratch_key) : NULL;
    if (s && !s->in_use) {
        s->in_use = 1;
        return s;
    }
    /* the first step of this thread, or one called from inside another
     * (a host hook that steps): its own */
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->in_use = 1;
    if (scratch_key_ok && !pthread_getspecific(scratch_key) &&
        pthread_setspecific(scratch_key, s) != 0)
        s->in_use = 2; /* not kept: released when given back */
    else if (scratch_key_ok && pthread_getspecific(scratch_key) != s)
        s->in_use = 2;
    return s;
}

static void scratch_give(step_scratch *s)
{
    if (s->in_use == 2) {
        scratch_release(s);
        return;
    }
    omni_buf *bufs[] = {&s->events, &s->rec, &s->doc, &s->core, &s->refdoc};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
        if (bufs[i]->cap > SCRATCH_KEEP)
            omni__buf_free(bufs[i]);
        else
            omni__buf_reset(bufs[i]);
    }
    s->in_use = 0;
}

/* ---- the step ------------------------------------------------------------ */

/* The answer: {"success","duplicate", <core members>, "events", "nextStep"}. */
static int answer(char **out, size_t *out_len, int duplicate, const char *core, size_t core_len,
                  const omni_buf *events)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_reserve(&b, core_len + (events ? events->len : 0) + 96);
    omni__buf_puts(&b, duplicate ? "{\"success\":true,\"duplicate\":true,"
                                 : "{\"success\":true,\"duplicate\":false,");
    omni__buf_append(&b, core, core_len);
    omni__buf_puts(&b, ",\"events\":");
    if (events && events->len)
        omni__buf_append(&b, events->data, events->len);
    else
        omni__buf_puts(&b, "[]");
    omni__buf_puts(&b, ",\"nextStep\":\"workFlowPreRoute\"}");
    return omni__buf_finish(&b, OMNI_OK, out, out_len);
}

/* A reference record -> the duplicate's answer. */
static int answer_from_ref(char **out, size_t *out_len, const omni__stored *ref)
{
    omni__jspan root = omni__j_root(ref->text, ref->len);
    omni__jspan result = omni__j_get(root, "result");
    if (!result.p && omni__j_is(omni__j_get(root, "attached"), 't'))
        return omni__err(OMNI_EEXISTS, "conversation step: that message id is the carrier's id "
                                       "attached to a recorded message");
    if (!omni__j_is(result, '{') || result.n < 2)
        return omni__conv_corrupt(OMNI__NS_MESSAGE_REF);
    return answer(out, out_len, 1, result.p + 1, result.n - 2, NULL);
}

/* Waits a little before retrying a compare-and-swap that lost a race. */
static void backoff(int attempt, unsigned *seed)
{
    if (attempt < 2) {
        sched_yield();
        return;
    }
    *seed = *seed * 1103515245u + 12345u;
    long cap_us = 50L << (attempt < 6 ? attempt : 6);
    if (cap_us > 2000)
        cap_us = 2000;
    struct timespec ts = {0, (long)((*seed >> 8) % (unsigned long)cap_us) * 1000L};
    nanosleep(&ts, NULL);
}

/* A new conversation for the input. */
static int new_conversation(omni__conv *c, const step_in *in, omni_engine *engine, int64_t now)
{
    memset(c, 0, sizeof(*c));
    char id[OMNI_UUID_STRLEN];
    int rc = omni_uuid7(id, engine);
    if (rc)
        return rc;
    OMNI__CONV_COPY(c->id, id);
    OMNI__CONV_COPY(c->customer_id, in->customer_id);
    OMNI__CONV_COPY(c->account_id, in->account_id);
    OMNI__CONV_COPY(c->business_unit_id, in->business_unit_id);
    OMNI__CONV_COPY(c->tenant_id, in->tenant_id);
    OMNI__CONV_COPY(c->channel, in->channel);
    OMNI__CONV_COPY(c->carrier, in->carrier);
    c->status = OMNI_CONVERSATION_NEW;
    c->part_parsed = c->topics_parsed = 1;
    c->n_part = 1;
    OMNI__CONV_COPY(c->part[0].id, in->customer_id);
    c->part[0].type = OMNI__P_CUSTOMER;
    c->part[0].status = OMNI__PS_ACTIVE;
    c->part[0].joined_at = now;
    c->started_at = c->last_activity_at = c->created_at = c->updated_at = now;
    c->sentiment = -1;
    c->priority = OMNI__PRIO_NORMAL;
    return OMNI_OK;
}

/* The message record of the step's message. */
static void message_record(omni_buf *b, const omni__conv *c, const step_in *in,
                           const omni__msg *m, int64_t now)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "messageId");
    omni__json_w_str(b, m->message_id);
    omni__json_w_keyl(b, "conversationId");
    omni__json_w_str(b, c->id);
    omni__json_w_keyl(b, "sequenceNumber");
    omni__json_w_int(b, m->seq);
    omni__json_w_keyl(b, "direction");
    omni__json_w_str(b, m->direction);
    omni__json_w_keyl(b, "carrier");
    omni__json_w_str(b, in->carrier);
    omni__json_w_keyl(b, "carrierMessageId");
    omni__json_w_str(b, in->message_id);
    omni__json_w_keyl(b, "contentType");
    if (in->content_type[0])
        omni__json_w_str(b, in->content_type);
    else
        omni__json_w_null(b);
    omni__json_w_keyl(b, "deliveryStatus");
    omni__json_w_str(b, m->delivery_status);
    omni__conv_w_time(b, "createdAt", now, 0);
    omni__conv_w_time(b, "updatedAt", now, 0);
    omni__json_w_keyl(b, "correlationId");
    omni__json_w_raw(b, in->correlation.p, in->correlation.n);
    omni__json_w_keyl(b, "message");
    omni__json_w_raw(b, in->message.p, in->message.n);
    omni__json_w_obj_end(b);
}

/* 1 when the pending message of c is the input's message. */
static int pending_is(const omni__conv *c, const step_in *in, omni__msg *m)
{
    if (!c->last_message.p || omni__conv_msg_read(m, c->last_message))
        return 0;
    return strcmp(m->carrier_message_id, in->message_id) == 0 &&
           strcmp(m->carrier, in->carrier) == 0 &&
           (m->direction[0] == 'o') == (in->outbound != 0);
}

int omni_conversation_step(char **out, size_t *out_len, omni_engine *engine,
                           const char *event_json, size_t len, const char *options_json,
                           size_t options_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = engine ? omni_engine_store(engine) : NULL;
    if (!out || !store || !event_json)
        return omni__err(OMNI_EINVAL, "conversation step: NULL out, engine or event");
    step_opts o;
    int rc = read_options(&o, options_json, options_len);
    if (rc)
        return rc;
    step_in in;
    rc = read_step_input(&in, event_json, len);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    rc = account_settings(engine, in.account_id, now, &o);
    if (rc)
        return rc;

    char slot[OMNI_STORE_MAX_KEY + 1], ref_key[OMNI_STORE_MAX_KEY + 1];
    join3(slot, sizeof(slot), in.customer_id, in.channel, in.account_id);
    omni__conv_ref_key(ref_key, sizeof(ref_key), in.outbound ? "outbound" : "inbound",
                       in.carrier, in.message_id);
    int is_template = strcmp(in.content_type, "template") == 0;

    step_scratch *sc = scratch_take();
    if (!sc)
        return omni__err(OMNI_ENOMEM, NULL);
    omni__conv *c = &sc->conv;
    omni_buf events = sc->events, rec = sc->rec, doc = sc->doc;
    omni_buf core = sc->core, refdoc = sc->refdoc;
    omni__stored st = {NULL, 0, 0};
    int batch = omni__store_batch_supported(store);
    /* room for the usual sizes up front: no growing on the way */
    omni__buf_reserve(&rec, 1024 + in.message.n);
    omni__buf_reserve(&doc, 2048 + (batch ? 0 : 1024 + in.message.n));
    omni__buf_reserve(&core, 2048);
    omni__buf_reserve(&refdoc, 2048);
    omni__buf_reserve(&events, 1024);
    unsigned seed = (unsigned)now ^ (unsigned)(uintptr_t)&seed;
    omni__msg m;
    int committed = 0, seen = 0;
    /* change events of parked delivery statuses applied on the way: by the
     * write-out of the previous message (before), and for this one (after) */
    omni_buf parked_before = OMNI_BUF_INIT, parked = OMNI_BUF_INIT;
    for (int attempt = 0; attempt < o.attempts && !committed; attempt++) {
        if (attempt)
            backoff(attempt, &seed);
        omni_free(st.text);
        st.text = NULL;
        omni__buf_reset(&events);
        omni__buf_reset(&rec);
        omni__buf_reset(&doc);
        int found = 1;
        rc = omni__conv_load_conversation(store, slot, now, &st, c);
        if (rc == OMNI_ENOTFOUND)
            found = 0, rc = OMNI_OK;
        if (rc)
            break;
        /* seen before: its reference, or the pending message itself (an
         * atomic batch finds the reference when it creates it, below) */
        if (!batch || seen) {
            omni__stored ref;
            rc = omni__conv_load(store, OMNI__NS_MESSAGE_REF, ref_key, now, &ref);
            if (rc == OMNI_OK) {
                rc = answer_from_ref(out, out_len, &ref);
                omni_free(ref.text);
                goto done;
            }
            if (rc != OMNI_ENOTFOUND)
                break;
            rc = OMNI_OK;
        }
        if (found && pending_is(c, &in, &m)) {
            omni__buf_reset(&core);
            result_core(&core, c, &m, msg_correlation(c->last_message), now, NULL, 0);
            rc = omni__buf_status(&core);
            if (!rc) {
                /* written out now if it was not yet; the answer stands either way
                 * (a duplicate has no events: those of parked statuses are dropped) */
                if (materialize(store, c, now, o.dedupe_ms, &m, core.data, core.len) == 0) {
                    note_written_out(engine, c->id, m.seq);
                    if (m.direction[0] == 'o')
                        apply_parked(engine, &m, now, NULL);
                }
                rc = answer(out, out_len, 1, core.data, core.len, NULL);
            }
            goto done;
        }
        /* the previous message is written out before it is replaced */
        if (found &&
            (rc = omni__conv_flush_pending(engine, c, now, o.dedupe_ms, &parked_before)))
            break;

        omni__json_w_arr_begin(&events);
        int before = c->status;
        char assignee_before[OMNI__CONV_ID_MAX + 1];
        if (!found) {
            if ((rc = new_conversation(c, &in, engine, now)))
                break;
            before = -1;
        } else if (c->status != OMNI_CONVERSATION_RESOLVED &&
                   c->status != OMNI_CONVERSATION_EXPIRED &&
                   now - c->last_activity_at >= o.timeout_ms) {
            c->status = OMNI_CONVERSATION_EXPIRED; /* timed out since its last message */
        }
        OMNI__CONV_COPY(assignee_before, c->assigned_to);
        if (in.outbound && !is_template) {
            int64_t exp;
            if (!omni__conv_window(c, now, &exp)) {
                rc = omni__err(OMNI_EWINDOW, "conversation step: the WhatsApp customer service "
                                             "window is closed; only template messages may be "
                                             "sent");
                break;
            }
        }
        if (found) {
            omni__conv_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.event = in.outbound ? OMNI_CONVERSATION_OUTBOUND_MESSAGE
                                   : OMNI_CONVERSATION_INBOUND_MESSAGE;
            ev.at = now;
            ev.sentiment = -2;
            ev.priority = -1;
            omni_buf scratch = OMNI_BUF_INIT;
            rc = omni__conv_apply(c, &ev, &scratch);
            omni__buf_free(&scratch);
            if (rc)
                break;
            if (c->status != before)
                omni__conv_ev_status(&events, c->id, before, c->status, now);
            if (strcmp(assignee_before, c->assigned_to) != 0)
                omni__conv_ev_assigned(&events, c->id, assignee_before, c->assigned_to, now);
        } else {
            c->message_count = 1;
            if (!in.outbound)
                c->last_inbound_at = now;
            omni__conv_ev_created(&events, c);
        }
        /* the message */
        char mid[OMNI_UUID_STRLEN];
        if ((rc = omni_uuid7(mid, engine)))
            break;
        memset(&m, 0, sizeof(m));
        OMNI__CONV_COPY(m.message_id, mid);
        m.seq = c->message_count;
        OMNI__CONV_COPY(m.direction, in.outbound ? "outbound" : "inbound");
        OMNI__CONV_COPY(m.carrier, in.carrier);
        OMNI__CONV_COPY(m.carrier_message_id, in.message_id);
        snprintf(m.delivery_status, sizeof(m.delivery_status), "%s",
                 in.outbound ? "pending" : "processing");
        OMNI__CONV_COPY(m.conversation_id, c->id);
        m.created_at = now;
        message_record(&rec, c, &in, &m, now);
        omni__conv_ev_message(&events, m.message_id, c->id, m.seq, m.direction, now);
        omni__json_w_arr_end(&events);
        /* a store that writes atomically takes everything in one batch;
         * otherwise the conversation carries the message until it is
         * written out */
        size_t view_end = 0;
        omni__conv_write(&doc, c, OMNI__CONV_W_IDS, now, batch ? NULL : rec.data,
                         batch ? 0 : rec.len, &view_end);
        omni__buf_reset(&core);
        result_core(&core, c, &m, in.correlation, now, doc.data, view_end);
        if ((rc = omni__buf_status(&rec)) || (rc = omni__buf_status(&doc)) ||
            (rc = omni__buf_status(&events)) || (rc = omni__buf_status(&core)))
            break;
        if (doc.len > OMNI_STORE_MAX_VALUE) {
            rc = omni__err(OMNI_ETOOLARGE, "conversation step: the conversation record would "
                                           "exceed the store's value limit");
            break;
        }
        char idx[OMNI_STORE_MAX_KEY + 32];
        int il = snprintf(idx, sizeof(idx), "{\"key\":\"%s\"}", slot);
        if (batch) {
            char mkey[OMNI_STORE_MAX_KEY + 1];
            omni__conv_message_key(mkey, sizeof(mkey), c->id, m.seq);
            omni__buf_reset(&refdoc);
            ref_record(&refdoc, c, &m, core.data, core.len);
            if ((rc = omni__buf_status(&refdoc)))
                break;
            omni__store_op ops[4] = {
                {OMNI__NS_CONVERSATION, slot, doc.data, doc.len,
                 found ? st.version : OMNI_STORE_CREATE, 0, 0},
                {OMNI__NS_MESSAGE_REF, ref_key, refdoc.data, refdoc.len, OMNI_STORE_CREATE,
                 ref_expiry(now, o.dedupe_ms), 0},
                {OMNI__NS_MESSAGE, mkey, rec.data, rec.len, OMNI_STORE_CREATE, 0, 0},
                {OMNI__NS_CONVERSATION_ID, c->id, idx, (size_t)il, OMNI_STORE_CREATE, 0, 0},
            };
            size_t failed = 0;
            rc = omni__store_put_batch(store, ops, found ? 3 : 4, now, &failed);
            if (rc == OMNI_EEXISTS && failed == 1) {
                seen = 1; /* the reference exists: this message was recorded */
                rc = OMNI_ECONFLICT;
                continue;
            }
            if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND) {
                rc = OMNI_ECONFLICT;
                continue; /* another host committed first: read again */
            }
            if (rc) {
                rc = omni__conv_db_error(rc, "writing the conversation");
                break;
            }
            committed = 1;
            break;
        }
        if (!found) {
            /* the id index first: a conversation that exists is always found */
            rc = omni__store_put_trusted(store, OMNI__NS_CONVERSATION_ID, c->id, idx,
                                         (size_t)il, OMNI_STORE_CREATE, 0, now, NULL);
            if (rc && rc != OMNI_EEXISTS) {
                rc = omni__conv_db_error(rc, "writing the conversation index");
                break;
            }
        }
        rc = omni__store_put_trusted(store, OMNI__NS_CONVERSATION, slot, doc.data, doc.len,
                                     found ? st.version : OMNI_STORE_CREATE, 0, now, NULL);
        if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND) {
            if (!found) /* another host created the conversation: drop our index entry */
                (void)omni_store_delete(store, OMNI__NS_CONVERSATION_ID, c->id,
                                        OMNI_STORE_ANY_VERSION, now);
            rc = OMNI_ECONFLICT;
            continue; /* another host committed first: read again */
        }
        if (rc) {
            rc = omni__conv_db_error(rc, "writing the conversation");
            break;
        }
        committed = 1;
    }
    if (!committed) {
        if (rc == OMNI_ECONFLICT)
            rc = omni__err_retry(OMNI_ECONFLICT, 1, "conversation step: the conversation kept "
                                                    "changing under concurrent writers (%d "
                                                    "attempts)",
                                 o.attempts);
        goto done;
    }
    /* committed: write the message out (a failure here is repaired by the
     * next call that touches the conversation) */
    int written = 1;
    if (!batch) {
        c->last_message = (omni__jspan){rec.data, rec.len};
        int wrc = materialize(store, c, now, o.dedupe_ms, &m, core.data, core.len);
        if (!wrc)
            note_written_out(engine, c->id, m.seq);
        else
            omni__log(engine, OMNI_LOG_WARN, "conversation",
                      "a committed message was not written out yet (%s); the next step of the "
                      "conversation writes it",
                      omni_status_code(wrc));
        written = wrc == OMNI_OK;
    }
    /* statuses that arrived for this outbound message before it was
     * recorded (its reference exists now; else the write-out applies them) */
    if (in.outbound && written)
        apply_parked(engine, &m, now, &parked);
    /* the events in the order things happened: [before, the step's, after]
     * (the step always has events of its own) */
    if (parked_before.len && events.len > 2 && !omni__buf_status(&parked_before)) {
        omni__json_w_raw(&parked_before, events.data + 1, events.len - 1);
        if (!omni__buf_status(&parked_before)) {
            omni__buf_reset(&events);
            omni__buf_putc(&events, '[');
            omni__buf_append(&events, parked_before.data, parked_before.len);
        }
    }
    if (parked.len && !omni__buf_status(&parked) && events.len &&
        events.data[events.len - 1] == ']') {
        events.len--;
        omni__json_w_raw(&events, parked.data, parked.len);
        omni__buf_putc(&events, ']');
    }
    rc = answer(out, out_len, 0, core.data, core.len, &events);
done:
    omni__buf_free(&parked_before);
    omni__buf_free(&parked);
    omni_free(st.text);
    sc->events = events;
    sc->rec = rec;
    sc->doc = doc;
    sc->core = core;
    sc->refdoc = refdoc;
    scratch_give(sc);
    return rc;
}
