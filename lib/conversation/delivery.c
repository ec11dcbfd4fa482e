/* Delivery status of recorded messages (omni_conversation_delivery): status
 * updates by conversation and sequence number or by the carrier's message
 * id, the provider's id attached to an outbound message, and statuses that
 * arrive before their message is known, parked until its reference record
 * appears.
 *
 * Ordering that makes parking exact without a transaction: an attach writes
 * the message record, then the reference record, then reads the parked
 * statuses; a status that finds no reference parks itself, then reads the
 * reference again. Whichever of the two comes second sees the other's write
 * and applies the parked statuses (both may: every status change is a
 * compare-and-swap that only one caller wins, so each change and its event
 * happen once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/conversation.h>
#include <omni/store.h>

#include "conversation_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "records.h"
#include "storage/store_internal.h"

#define UPDATE_MAX (64u * 1024u)
#define CAS_ATTEMPTS 16
#define PARK_MS (7LL * 24 * 60 * 60 * 1000)
#define MAX_ATTACHED 16
#define MAX_PARKED 16

/* ---- statuses ------------------------------------------------------------ */

/* Rank of a delivery status: 0 pending/processing, 1 queued, 2 sent,
 * 3 delivered, 4 read (final), 5 failed/undelivered (final); -1 unknown. */
static int delivery_rank(const char *s)
{
    static const char *const names[] = {"pending", "processing", "queued", "sent",
                                        "delivered", "read", "failed", "undelivered"};
    static const int ranks[] = {0, 0, 1, 2, 3, 4, 5, 5};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return ranks[i];
    return -1;
}

/* 1 when a message may move from status `from` to `to`. */
static int delivery_advances(const char *from, const char *to)
{
    int f = delivery_rank(from), t = delivery_rank(to);
    if (f < 0 || t < 0 || strcmp(from, to) == 0)
        return 0;
    if (f >= 4) /* read, failed and undelivered are final */
        return 0;
    if (t == 5)
        return f <= 2;
    return t > f;
}

/* ---- the update ---------------------------------------------------------- */

typedef struct delivery_in {
    char conversation_id[OMNI__CONV_ID_MAX + 1]; /* "": by the carrier's id */
    int64_t seq;
    char carrier[OMNI__CONV_CHANNEL_MAX + 1]; /* attach: "" the message's */
    char carrier_message_id[OMNI__CONV_MSGID_MAX + 1];
    int attach;
    char status[16];
    int64_t at;
    omni__jspan error_code, error_message; /* JSON values; {NULL, 0} absent */
} delivery_in;

/* 1..32 of [a-z0-9_-], as the step takes carrier names. */
static int carrier_ok(const char *s)
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

/* A carrier message id: 1..256 bytes without control characters. */
static int message_id_ok(omni__jspan v, char *buf, size_t cap)
{
    if (omni__j_str(v, buf, cap) <= 0)
        return 0;
    for (const char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int absent(omni__jspan v)
{
    return !v.p || omni__j_is(v, 'n');
}

/* The status members of an update or of a parked status. */
static int read_status(delivery_in *d, omni__jspan status, omni__jspan timestamp,
                       omni__jspan error_code, omni__jspan error_message, int64_t now)
{
    if (omni__j_str(status, d->status, sizeof(d->status)) <= 0 || delivery_rank(d->status) < 0)
        return omni__err(OMNI_EINVAL, "delivery update: status must be pending, processing, "
                                      "queued, sent, delivered, read, failed or undelivered");
    d->at = now;
    if (!absent(timestamp) && omni__conv_span_time(timestamp, &d->at) != OMNI_OK)
        return omni__err(OMNI_EINVAL, "delivery update: timestamp must be RFC 3339");
    if (!absent(error_code) && !omni__j_is(error_code, '"') &&
        !(error_code.p[0] == '-' || (error_code.p[0] >= '0' && error_code.p[0] <= '9')))
        return omni__err(OMNI_EINVAL, "delivery update: errorCode must be a string or number");
    if (!absent(error_message) && !omni__j_is(error_message, '"'))
        return omni__err(OMNI_EINVAL, "delivery update: errorMessage must be a string");
    d->error_code = absent(error_code) ? (omni__jspan){NULL, 0} : error_code;
    d->error_message = absent(error_message) ? (omni__jspan){NULL, 0} : error_message;
    return OMNI_OK;
}

static int read_delivery(delivery_in *d, const char *json, size_t len, int64_t now)
{
    int rc = omni__json_validate(json, len, UPDATE_MAX, "delivery update");
    if (rc)
        return rc;
    omni__jspan root = omni__j_root(json, len);
    if (!omni__j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "delivery update: must be a JSON object");
    static const char *const names[] = {"conversationId", "sequenceNumber", "carrier",
                                        "carrierMessageId", "status", "timestamp",
                                        "errorCode", "errorMessage"};
    omni__jspan f[8];
    omni__j_fields(root, names, f, 8);
    memset(d, 0, sizeof(*d));
    if ((rc = read_status(d, f[4], f[5], f[6], f[7], now)))
        return rc;
    int has_carrier = !absent(f[2]), has_id = !absent(f[3]);
    if (has_id && !message_id_ok(f[3], d->carrier_message_id, sizeof(d->carrier_message_id)))
        return omni__err(OMNI_EINVAL, "delivery update: carrierMessageId must be a string of "
                                      "1..256 bytes without control characters");
    if (!absent(f[0])) {
        if (omni__j_str(f[0], d->conversation_id, sizeof(d->conversation_id)) <= 0 ||
            !omni__conv_plain_id(d->conversation_id, strlen(d->conversation_id)) ||
            !omni__j_uint(f[1], &d->seq) || d->seq < 1)
            return omni__err(OMNI_EINVAL, "delivery update: conversationId needs a "
                                          "sequenceNumber >= 1");
        if (!has_id)
            return OMNI_OK; /* a "carrier" alone names nothing to attach */
        d->attach = 1;
    } else if (!has_carrier || !has_id) {
        return omni__err(OMNI_EINVAL, "delivery update: needs conversationId and "
                                      "sequenceNumber, or carrier and carrierMessageId");
    }
    if (has_carrier &&
        (omni__j_str(f[2], d->carrier, sizeof(d->carrier)) <= 0 || !carrier_ok(d->carrier)))
        return omni__err(OMNI_EINVAL, "delivery update: carrier must be 1..32 of [a-z0-9_-]");
    return OMNI_OK;
}

/* ---- message records ----------------------------------------------------- */

/* A message record's key and conversation. */
typedef struct target {
    char key[OMNI_STORE_MAX_KEY + 1];
    char conversation_id[OMNI__CONV_ID_MAX + 1];
    int64_t seq;
} target;

static void target_set(target *t, const char *conversation_id, int64_t seq)
{
    OMNI__CONV_COPY(t->conversation_id, conversation_id);
    t->seq = seq;
    omni__conv_message_key(t->key, sizeof(t->key), conversation_id, seq);
}

/* Iterates the elements of an array span. */
typedef struct arr_iter {
    const char *p, *e;
} arr_iter;

static int arr_begin(arr_iter *it, omni__jspan v)
{
    if (!omni__j_is(v, '[') || v.n < 2)
        return 0;
    it->e = v.p + v.n - 1;
    it->p = omni__j_ws(v.p + 1, it->e);
    return 1;
}

static int arr_next(arr_iter *it, omni__jspan *item)
{
    if (it->p < it->e && *it->p == ',')
        it->p = omni__j_ws(it->p + 1, it->e);
    if (it->p >= it->e)
        return 0;
    const char *q = omni__j_skip(it->p, it->e);
    *item = (omni__jspan){it->p, (size_t)(q - it->p)};
    it->p = omni__j_ws(q, it->e);
    return 1;
}

enum { ID_NONE, ID_CURRENT, ID_EARLIER };

/* Where (carrier, id) stands among the ids attached to a record
 * ("carrierMessageIds", oldest first): the last one (current), an earlier
 * one, or none; *count receives how many there are. -1: malformed. */
static int id_place(omni__jspan rec, const char *carrier, const char *id, size_t *count)
{
    omni__jspan list = omni__j_get(rec, "carrierMessageIds");
    size_t n = 0;
    int match = -1;
    if (list.p) {
        arr_iter it;
        omni__jspan item;
        if (!arr_begin(&it, list))
            return -1;
        while (arr_next(&it, &item)) {
            char c[OMNI__CONV_CHANNEL_MAX + 1], m[OMNI__CONV_MSGID_MAX + 1];
            if (!omni__j_is(item, '{') || omni__j_get_str(item, "carrier", c, sizeof(c)) <= 0 ||
                omni__j_get_str(item, "carrierMessageId", m, sizeof(m)) <= 0)
                return -1;
            if (strcmp(c, carrier) == 0 && strcmp(m, id) == 0)
                match = (int)n;
            n++;
        }
    }
    if (count)
        *count = n;
    if (match < 0)
        return ID_NONE;
    return (size_t)match + 1 == n ? ID_CURRENT : ID_EARLIER;
}

/* What changes in a message record. */
typedef struct rec_edit {
    const delivery_in *d;         /* the status, its time and the carrier's error */
    int set_status;               /* deliveryStatus, errorCode, errorMessage from d */
    const char *carrier, *id;     /* the current carrier id (NULL: kept) */
    const char *stepped_carrier;  /* the stepped id, set by the first attach (NULL: kept) */
    const char *stepped_id;
    int add_id;                   /* appends {carrier, id} to carrierMessageIds */
} rec_edit;

static void w_member(omni_buf *b, omni__jspan k, omni__jspan v)
{
    omni__json_w_raw(b, k.p, k.n);
    omni__buf_putc(b, ':');
    omni__buf_append(b, v.p, v.n);
}

static void w_attached(omni_buf *b, const rec_edit *e)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "carrier");
    omni__json_w_str(b, e->carrier);
    omni__json_w_keyl(b, "carrierMessageId");
    omni__json_w_str(b, e->id);
    omni__conv_w_time(b, "attachedAt", e->d->at, 0);
    omni__json_w_obj_end(b);
}

/* The record with the edit applied; members keep their places, new ones
 * come last. */
static void rec_write(omni_buf *b, omni__jspan rec, const rec_edit *e)
{
    int had_stepped = 0, had_list = 0;
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, rec);
    omni__json_w_obj_begin(b);
    while (omni__j_next(&it, &k, &v)) {
        if (omni__j_key_is(k, "deliveryStatus") && e->set_status) {
            omni__json_w_keyl(b, "deliveryStatus");
            omni__json_w_str(b, e->d->status);
        } else if (omni__j_key_is(k, "updatedAt")) {
            omni__conv_w_time(b, "updatedAt", e->d->at, 0);
        } else if ((omni__j_key_is(k, "errorCode") || omni__j_key_is(k, "errorMessage")) &&
                   e->set_status) {
            continue; /* replaced below */
        } else if (omni__j_key_is(k, "carrier") && e->carrier) {
            omni__json_w_keyl(b, "carrier");
            omni__json_w_str(b, e->carrier);
        } else if (omni__j_key_is(k, "carrierMessageId") && e->id) {
            omni__json_w_keyl(b, "carrierMessageId");
            omni__json_w_str(b, e->id);
        } else if (omni__j_key_is(k, "steppedCarrier")) {
            had_stepped = 1;
            w_member(b, k, v);
        } else if (omni__j_key_is(k, "carrierMessageIds") && e->add_id) {
            had_list = 1;
            omni__json_w_keyl(b, "carrierMessageIds");
            omni__json_w_arr_begin(b);
            arr_iter ai;
            omni__jspan item;
            if (arr_begin(&ai, v))
                while (arr_next(&ai, &item))
                    omni__json_w_raw(b, item.p, item.n);
            w_attached(b, e);
            omni__json_w_arr_end(b);
        } else {
            w_member(b, k, v);
        }
    }
    if (e->stepped_carrier && !had_stepped) {
        omni__json_w_keyl(b, "steppedCarrier");
        omni__json_w_str(b, e->stepped_carrier);
        omni__json_w_keyl(b, "steppedMessageId");
        omni__json_w_str(b, e->stepped_id);
    }
    if (e->add_id && !had_list) {
        omni__json_w_keyl(b, "carrierMessageIds");
        omni__json_w_arr_begin(b);
        w_attached(b, e);
        omni__json_w_arr_end(b);
    }
    if (e->set_status && e->d->error_code.p) {
        omni__json_w_keyl(b, "errorCode");
        omni__json_w_raw(b, e->d->error_code.p, e->d->error_code.n);
    }
    if (e->set_status && e->d->error_message.p) {
        omni__json_w_keyl(b, "errorMessage");
        omni__json_w_raw(b, e->d->error_message.p, e->d->error_message.n);
    }
    omni__json_w_obj_end(b);
}

/* ---- references ------------------------------------------------------------ */

/* The message a reference record names: OMNI_OK, OMNI_ENOTFOUND (no last
 * error), or a storage error. */
static int ref_target(omni_store *store, const char *direction, const char *carrier,
                      const char *id, int64_t now, target *t)
{
    char ref_key[OMNI_STORE_MAX_KEY + 1];
    omni__conv_ref_key(ref_key, sizeof(ref_key), direction, carrier, id);
    omni__stored ref;
    int rc = omni__conv_load(store, OMNI__NS_MESSAGE_REF, ref_key, now, &ref);
    if (rc)
        return rc;
    omni__jspan root = omni__j_root(ref.text, ref.len);
    char conv_id[OMNI__CONV_ID_MAX + 1];
    int64_t seq = 0;
    long n = omni__j_get_str(root, "conversationId", conv_id, sizeof(conv_id));
    int got = omni__j_uint(omni__j_get(root, "sequenceNumber"), &seq);
    omni_free(ref.text);
    if (n <= 0 || !got || seq < 1)
        return omni__conv_corrupt(OMNI__NS_MESSAGE_REF);
    target_set(t, conv_id, seq);
    return OMNI_OK;
}

static int same_target(const target *a, const target *b)
{
    return a->seq == b->seq && strcmp(a->conversation_id, b->conversation_id) == 0;
}

/* Deletes one reference record while it names the message t. */
static int ref_delete(omni_store *store, const char *direction, const char *carrier,
                      const char *id, const target *t, int64_t now)
{
    char ref_key[OMNI_STORE_MAX_KEY + 1];
    omni__conv_ref_key(ref_key, sizeof(ref_key), direction, carrier, id);
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        omni__stored ref;
        int rc = omni__conv_load(store, OMNI__NS_MESSAGE_REF, ref_key, now, &ref);
        if (rc == OMNI_ENOTFOUND)
            return OMNI_OK;
        if (rc)
            return rc;
        omni__jspan root = omni__j_root(ref.text, ref.len);
        char conv_id[OMNI__CONV_ID_MAX + 1];
        int64_t seq = 0;
        int ours = omni__j_get_str(root, "conversationId", conv_id, sizeof(conv_id)) > 0 &&
                   omni__j_uint(omni__j_get(root, "sequenceNumber"), &seq) && seq == t->seq &&
                   strcmp(conv_id, t->conversation_id) == 0;
        uint64_t version = ref.version;
        omni_free(ref.text);
        if (!ours)
            return OMNI_OK;
        rc = omni_store_delete(store, OMNI__NS_MESSAGE_REF, ref_key, version, now);
        if (rc == OMNI_OK || rc == OMNI_ENOTFOUND)
            return OMNI_OK;
        if (rc != OMNI_ECONFLICT)
            return rc;
    }
    return omni__err_retry(OMNI_ECONFLICT, 1, "conversation: a message reference kept changing");
}

int omni__conv_refs_delete(omni_store *store, omni__jspan rec, const omni__msg *m, int64_t now)
{
    target t;
    target_set(&t, m->conversation_id, m->seq);
    int rc = ref_delete(store, m->direction, m->carrier, m->carrier_message_id, &t, now);
    char c[OMNI__CONV_CHANNEL_MAX + 1], id[OMNI__CONV_MSGID_MAX + 1];
    if (!rc && omni__j_get_str(rec, "steppedCarrier", c, sizeof(c)) > 0 &&
        omni__j_get_str(rec, "steppedMessageId", id, sizeof(id)) > 0)
        rc = ref_delete(store, m->direction, c, id, &t, now);
    arr_iter it;
    omni__jspan item;
    if (!rc && arr_begin(&it, omni__j_get(rec, "carrierMessageIds")))
        while (!rc && arr_next(&it, &item))
            if (omni__j_get_str(item, "carrier", c, sizeof(c)) > 0 &&
                omni__j_get_str(item, "carrierMessageId", id, sizeof(id)) > 0)
                rc = ref_delete(store, m->direction, c, id, &t, now);
    return rc;
}

/* ---- applying a status ------------------------------------------------------ */

/* What a call did: the message record as it stands (empty: not read) and
 * the change events (comma-separated elements). */
typedef struct applied {
    omni_buf rec;
    omni_buf *events;
    int changed;
} applied;

static void applied_set_rec(applied *a, const char *text, size_t len)
{
    omni__buf_reset(&a->rec);
    omni__buf_append(&a->rec, text, len);
}

/* The dedupe window of the conversation's account (the reference records'
 * lifetime). */
static int conversation_window(omni_engine *engine, omni_store *store, const char *id,
                               int64_t now, omni__conv *c, int64_t *dedupe_ms,
                               omni_buf *parked_events, int flush)
{
    char key[OMNI_STORE_MAX_KEY + 1];
    omni__stored st;
    int rc = omni__conv_find(store, id, now, key, sizeof(key), &st, c);
    if (rc)
        return rc;
    int64_t timeout;
    int ht, hd;
    rc = omni__conv_account_settings(engine, c->account_id, now, &timeout, dedupe_ms, &ht, &hd);
    if (!rc && flush)
        rc = omni__conv_flush_pending(engine, c, now, *dedupe_ms, parked_events);
    omni_free(st.text);
    return rc;
}

/* Reads a message record. The first time a missing one may be a committed
 * message that is not written out yet: its conversation writes it out. */
static int load_message(omni_engine *engine, omni_store *store, const target *t, int64_t now,
                        int first, omni__stored *st, omni_buf *events)
{
    int rc = omni__conv_load(store, OMNI__NS_MESSAGE, t->key, now, st);
    if (rc == OMNI_ENOTFOUND && first) {
        omni__conv *c = omni_malloc(sizeof(*c));
        if (!c)
            return omni__err(OMNI_ENOMEM, NULL);
        int64_t dedupe;
        rc = conversation_window(engine, store, t->conversation_id, now, c, &dedupe, events, 1);
        omni_free(c);
        if (rc && rc != OMNI_ENOTFOUND)
            return rc;
        rc = omni__conv_load(store, OMNI__NS_MESSAGE, t->key, now, st);
    }
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "delivery update: no such message");
    return rc;
}

static int kept_changing(void)
{
    return omni__err_retry(OMNI_ECONFLICT, 1, "delivery update: the message kept changing");
}

/* Applies a status to the message t (by_carrier: the update names the
 * carrier's id, which is ignored once a later attempt replaced it). */
static int apply_status(omni_engine *engine, omni_store *store, const target *t,
                        const delivery_in *d, int by_carrier, int64_t now, applied *a)
{
    omni_buf b = OMNI_BUF_INIT;
    int rc = OMNI_ECONFLICT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        omni__stored st;
        rc = load_message(engine, store, t, now, attempt == 0, &st, a->events);
        if (rc)
            break;
        omni__jspan rec = omni__j_root(st.text, st.len);
        omni__msg m;
        int place = ID_NONE;
        if (omni__conv_msg_read(&m, rec) ||
            (by_carrier && (place = id_place(rec, d->carrier, d->carrier_message_id, NULL)) < 0)) {
            omni_free(st.text);
            rc = omni__conv_corrupt(OMNI__NS_MESSAGE);
            break;
        }
        /* a status of an attempt that a later one replaced changes nothing */
        int change = place != ID_EARLIER && delivery_advances(m.delivery_status, d->status);
        if (!change) {
            applied_set_rec(a, rec.p, rec.n);
            omni_free(st.text);
            break;
        }
        omni__buf_reset(&b);
        rec_edit e = {d, 1, NULL, NULL, NULL, NULL, 0};
        rec_write(&b, rec, &e);
        rc = omni__buf_status(&b);
        if (!rc)
            rc = omni__store_put_trusted(store, OMNI__NS_MESSAGE, t->key, b.data, b.len,
                                         st.version, 0, now, NULL);
        omni_free(st.text);
        if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND) {
            rc = OMNI_ECONFLICT;
            continue;
        }
        if (rc) {
            rc = omni__conv_db_error(rc, "writing the message");
            break;
        }
        omni__conv_ev_delivery(a->events, m.message_id, m.conversation_id, m.delivery_status,
                               d->status, d->at, d->error_code, d->error_message);
        applied_set_rec(a, b.data, b.len);
        a->changed = 1;
        break;
    }
    omni__buf_free(&b);
    if (rc == OMNI_ECONFLICT)
        rc = kept_changing();
    return rc;
}

/* ---- parked statuses --------------------------------------------------------- */

static void park_key(char *out, size_t cap, const char *carrier, const char *id)
{
    snprintf(out, cap, "%s/%s", carrier, id);
}

/* Reads a parked status (an element of "updates") into d. */
static int read_parked(delivery_in *d, omni__jspan item, const char *carrier, const char *id)
{
    static const char *const names[] = {"status", "timestamp", "errorCode", "errorMessage"};
    omni__jspan f[4];
    memset(d, 0, sizeof(*d));
    if (!omni__j_is(item, '{'))
        return OMNI_EINVAL;
    omni__j_fields(item, names, f, 4);
    if (absent(f[1]) || read_status(d, f[0], f[1], f[2], f[3], 0) != OMNI_OK)
        return OMNI_EINVAL;
    OMNI__CONV_COPY(d->carrier, carrier);
    OMNI__CONV_COPY(d->carrier_message_id, id);
    return OMNI_OK;
}

static void w_parked_status(omni_buf *b, const delivery_in *d, int64_t now)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, d->status);
    omni__conv_w_time(b, "timestamp", d->at, 0);
    if (d->error_code.p) {
        omni__json_w_keyl(b, "errorCode");
        omni__json_w_raw(b, d->error_code.p, d->error_code.n);
    }
    if (d->error_message.p) {
        omni__json_w_keyl(b, "errorMessage");
        omni__json_w_raw(b, d->error_message.p, d->error_message.n);
    }
    omni__conv_w_time(b, "receivedAt", now, 0);
    omni__json_w_obj_end(b);
}

/* Keeps a status for a carrier id that names no message yet:
 * {"carrier", "carrierMessageId", "updates": [...]} in arrival order, one
 * per status name (a status already parked could not change the outcome
 * when they are applied in order), for PARK_MS after the first. */
static int park(omni_store *store, const delivery_in *d, int64_t now)
{
    char key[OMNI_STORE_MAX_KEY + 1];
    park_key(key, sizeof(key), d->carrier, d->carrier_message_id);
    omni_buf b = OMNI_BUF_INIT;
    int rc = OMNI_ECONFLICT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        char *text = NULL;
        size_t len = 0;
        uint64_t version = 0;
        int64_t expires = 0;
        rc = omni_store_get(store, OMNI__NS_PARKED, key, now, &text, &len, &version, &expires);
        if (rc && rc != OMNI_ENOTFOUND) {
            rc = omni__conv_db_error(rc, "reading parked statuses");
            break;
        }
        int found = rc == OMNI_OK;
        omni__jspan updates = {NULL, 0};
        if (found) {
            if (!omni__store_trusted(store) &&
                omni__json_validate(text, len, OMNI_STORE_MAX_VALUE, NULL) != OMNI_OK)
                updates.p = NULL;
            else
                updates = omni__j_get(omni__j_root(text, len), "updates");
            arr_iter it;
            if (!arr_begin(&it, updates)) {
                omni_free(text);
                rc = omni__conv_corrupt(OMNI__NS_PARKED);
                break;
            }
        }
        omni__buf_reset(&b);
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "carrier");
        omni__json_w_str(&b, d->carrier);
        omni__json_w_keyl(&b, "carrierMessageId");
        omni__json_w_str(&b, d->carrier_message_id);
        omni__json_w_keyl(&b, "updates");
        omni__json_w_arr_begin(&b);
        int dup = 0, n = 0;
        arr_iter it;
        omni__jspan item;
        if (found && arr_begin(&it, updates))
            while (arr_next(&it, &item)) {
                char s[16];
                if (omni__j_get_str(item, "status", s, sizeof(s)) > 0 &&
                    strcmp(s, d->status) == 0)
                    dup = 1;
                omni__json_w_raw(&b, item.p, item.n);
                n++;
            }
        omni_free(text);
        if (dup || n >= MAX_PARKED) {
            rc = OMNI_OK; /* kept already (or as many as there can be) */
            break;
        }
        w_parked_status(&b, d, now);
        omni__json_w_arr_end(&b);
        omni__json_w_obj_end(&b);
        if ((rc = omni__buf_status(&b)))
            break;
        if (!found) {
            expires = now + PARK_MS;
            if (expires > OMNI__STORE_MAX_EXPIRY_MS)
                expires = OMNI__STORE_MAX_EXPIRY_MS;
        }
        rc = omni__store_put_trusted(store, OMNI__NS_PARKED, key, b.data, b.len,
                                     found ? version : OMNI_STORE_CREATE, expires, now, NULL);
        if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND) {
            rc = OMNI_ECONFLICT;
            continue;
        }
        if (rc)
            rc = omni__conv_db_error(rc, "parking a delivery status");
        break;
    }
    omni__buf_free(&b);
    if (rc == OMNI_ECONFLICT)
        rc = omni__err_retry(OMNI_ECONFLICT, 1, "delivery update: the parked statuses kept "
                                                "changing");
    return rc;
}

/* Applies the statuses parked for (carrier, id) when its outbound reference
 * exists, then deletes them (by version: a status parked meanwhile is
 * applied by another round). */
static int apply_parked(omni_engine *engine, omni_store *store, const char *carrier,
                        const char *id, int64_t now, applied *a)
{
    char key[OMNI_STORE_MAX_KEY + 1];
    park_key(key, sizeof(key), carrier, id);
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        omni__stored ps;
        int rc = omni__conv_load(store, OMNI__NS_PARKED, key, now, &ps);
        if (rc == OMNI_ENOTFOUND)
            return OMNI_OK;
        if (rc)
            return rc;
        target t;
        rc = ref_target(store, "outbound", carrier, id, now, &t);
        if (rc) {
            omni_free(ps.text);
            return rc == OMNI_ENOTFOUND ? OMNI_OK : rc;
        }
        arr_iter it;
        omni__jspan item;
        if (!arr_begin(&it, omni__j_get(omni__j_root(ps.text, ps.len), "updates"))) {
            omni_free(ps.text);
            return omni__conv_corrupt(OMNI__NS_PARKED);
        }
        while (arr_next(&it, &item)) {
            delivery_in u;
            if (read_parked(&u, item, carrier, id)) {
                omni_free(ps.text);
                return omni__conv_corrupt(OMNI__NS_PARKED);
            }
            rc = apply_status(engine, store, &t, &u, 1, now, a);
            if (rc) {
                omni_free(ps.text);
                /* no message record (yet): they stay parked */
                return rc == OMNI_ENOTFOUND ? OMNI_OK : rc;
            }
        }
        uint64_t version = ps.version;
        omni_free(ps.text);
        rc = omni_store_delete(store, OMNI__NS_PARKED, key, version, now);
        if (rc == OMNI_OK || rc == OMNI_ENOTFOUND)
            return OMNI_OK;
        if (rc != OMNI_ECONFLICT)
            return omni__conv_db_error(rc, "deleting parked statuses");
    }
    return omni__err_retry(OMNI_ECONFLICT, 1, "delivery update: the parked statuses kept "
                                              "changing");
}

int omni__conv_apply_parked(omni_engine *engine, const char *carrier,
                            const char *carrier_message_id, int64_t now, omni_buf *events)
{
    omni_buf scratch = OMNI_BUF_INIT;
    applied a = {OMNI_BUF_INIT, events ? events : &scratch, 0};
    int rc = apply_parked(engine, omni_engine_store(engine), carrier, carrier_message_id, now,
                          &a);
    omni__buf_free(&a.rec);
    omni__buf_free(&scratch);
    return rc;
}

/* ---- attaching the carrier's id ------------------------------------------------ */

/* The reference record of an attached id: the message and, when the
 * stepped reference is still there, its first result (so a step of that
 * carrier id answers as a duplicate of the message). */
static int attach_ref(omni_store *store, const target *t, omni__jspan rec, const char *carrier,
                      const char *id, int64_t now, int64_t ttl_ms)
{
    char sc[OMNI__CONV_CHANNEL_MAX + 1], sid[OMNI__CONV_MSGID_MAX + 1];
    omni__stored stepped = {NULL, 0, 0};
    if (omni__j_get_str(rec, "steppedCarrier", sc, sizeof(sc)) > 0 &&
        omni__j_get_str(rec, "steppedMessageId", sid, sizeof(sid)) > 0) {
        char key[OMNI_STORE_MAX_KEY + 1];
        omni__conv_ref_key(key, sizeof(key), "outbound", sc, sid);
        int rc = omni__conv_load(store, OMNI__NS_MESSAGE_REF, key, now, &stepped);
        if (rc && rc != OMNI_ENOTFOUND)
            return rc;
    }
    omni__jspan result = stepped.text ? omni__j_get(omni__j_root(stepped.text, stepped.len),
                                                    "result")
                                      : (omni__jspan){NULL, 0};
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "conversationId");
    omni__json_w_str(&b, t->conversation_id);
    omni__json_w_keyl(&b, "sequenceNumber");
    omni__json_w_int(&b, t->seq);
    omni__json_w_keyl(&b, "attached");
    omni__json_w_bool(&b, 1);
    if (omni__j_is(result, '{')) {
        omni__json_w_keyl(&b, "result");
        omni__json_w_raw(&b, result.p, result.n);
    }
    omni__json_w_obj_end(&b);
    omni_free(stepped.text);
    int rc = omni__buf_status(&b);
    char key[OMNI_STORE_MAX_KEY + 1];
    omni__conv_ref_key(key, sizeof(key), "outbound", carrier, id);
    int64_t exp = ttl_ms ? now + ttl_ms : 0;
    if (exp > OMNI__STORE_MAX_EXPIRY_MS)
        exp = OMNI__STORE_MAX_EXPIRY_MS;
    if (!rc)
        rc = omni__store_put_trusted(store, OMNI__NS_MESSAGE_REF, key, b.data, b.len,
                                     OMNI_STORE_CREATE, exp, now, NULL);
    omni__buf_free(&b);
    return rc;
}

static int taken(void)
{
    return omni__err(OMNI_EEXISTS, "delivery update: that carrier message id is attached to "
                                   "another message");
}

/* Attaches the carrier's id (d->carrier, d->carrier_message_id) to the
 * outbound message t with d's status, writes its reference record, then
 * applies the statuses parked for it. */
static int attach(omni_engine *engine, omni_store *store, const target *t, const delivery_in *d,
                  int64_t now, applied *a)
{
    omni__conv *c = omni_malloc(sizeof(*c));
    if (!c)
        return omni__err(OMNI_ENOMEM, NULL);
    int64_t ttl = 0;
    int rc = conversation_window(engine, store, t->conversation_id, now, c, &ttl, NULL, 0);
    omni_free(c);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "delivery update: no such message");
    if (rc)
        return rc;
    char carrier[OMNI__CONV_CHANNEL_MAX + 1] = "", checked[OMNI__CONV_CHANNEL_MAX + 1] = "";
    int ref_ours = 0, wrote = 0;
    uint64_t new_version = 0;
    omni__stored st = {NULL, 0, 0};
    omni_buf b = OMNI_BUF_INIT;
    rc = OMNI_ECONFLICT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        omni_free(st.text);
        st.text = NULL;
        rc = load_message(engine, store, t, now, attempt == 0, &st, a->events);
        if (rc)
            break;
        omni__jspan rec = omni__j_root(st.text, st.len);
        omni__msg m;
        if (omni__conv_msg_read(&m, rec)) {
            rc = omni__conv_corrupt(OMNI__NS_MESSAGE);
            break;
        }
        if (strcmp(m.direction, "outbound") != 0) {
            rc = omni__err(OMNI_EINVAL, "delivery update: a carrier message id is attached to "
                                        "outbound messages only");
            break;
        }
        OMNI__CONV_COPY(carrier, d->carrier[0] ? d->carrier : m.carrier);
        size_t n = 0;
        int place = id_place(rec, carrier, d->carrier_message_id, &n);
        if (place < 0) {
            rc = omni__conv_corrupt(OMNI__NS_MESSAGE);
            break;
        }
        if (place == ID_EARLIER) { /* a later attempt replaced it: nothing changes */
            applied_set_rec(a, rec.p, rec.n);
            rc = OMNI_OK;
            omni_free(st.text);
            omni__buf_free(&b);
            return OMNI_OK;
        }
        /* the id must not name another message (checked before any write) */
        if (strcmp(checked, carrier) != 0) {
            target owner;
            rc = ref_target(store, "outbound", carrier, d->carrier_message_id, now, &owner);
            if (rc == OMNI_OK && !same_target(&owner, t)) {
                rc = taken();
                break;
            }
            if (rc && rc != OMNI_ENOTFOUND)
                break;
            ref_ours = rc == OMNI_OK;
            OMNI__CONV_COPY(checked, carrier);
        }
        rec_edit e = {d, 0, NULL, NULL, NULL, NULL, 0};
        if (place == ID_CURRENT) { /* attached already: the status alone */
            e.set_status = delivery_advances(m.delivery_status, d->status);
        } else {
            if (n >= MAX_ATTACHED) {
                rc = omni__err(OMNI_ETOOLARGE, "delivery update: a message has at most %d "
                                               "carrier message ids",
                               MAX_ATTACHED);
                break;
            }
            e.carrier = carrier;
            e.id = d->carrier_message_id;
            e.add_id = 1;
            if (n == 0) { /* the first: the stepped id is kept beside it */
                e.stepped_carrier = m.carrier;
                e.stepped_id = m.carrier_message_id;
                e.set_status = delivery_advances(m.delivery_status, d->status);
            } else { /* a new attempt: its status starts over */
                e.set_status = 1;
            }
        }
        if (!e.set_status && !e.add_id) {
            applied_set_rec(a, rec.p, rec.n);
            rc = OMNI_OK;
            break;
        }
        omni__buf_reset(&b);
        rec_write(&b, rec, &e);
        rc = omni__buf_status(&b);
        if (!rc)
            rc = omni__store_put_trusted(store, OMNI__NS_MESSAGE, t->key, b.data, b.len,
                                         st.version, 0, now, &new_version);
        if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND) {
            rc = OMNI_ECONFLICT;
            continue;
        }
        if (rc) {
            rc = omni__conv_db_error(rc, "writing the message");
            break;
        }
        wrote = 1;
        if (e.set_status && strcmp(m.delivery_status, d->status) != 0)
            omni__conv_ev_delivery(a->events, m.message_id, m.conversation_id,
                                   m.delivery_status, d->status, d->at, d->error_code,
                                   d->error_message);
        applied_set_rec(a, b.data, b.len);
        a->changed = 1;
        break;
    }
    if (rc == OMNI_ECONFLICT)
        rc = kept_changing();
    /* the reference, after the record: a status that finds it finds the id
     * attached */
    if (!rc && !ref_ours) {
        rc = attach_ref(store, t, omni__j_root(a->rec.data, a->rec.len), carrier,
                        d->carrier_message_id, now, ttl);
        if (rc == OMNI_EEXISTS) {
            target owner;
            rc = ref_target(store, "outbound", carrier, d->carrier_message_id, now, &owner);
            if (rc == OMNI_OK && !same_target(&owner, t)) {
                /* another message took the id at the same moment: undo */
                if (wrote)
                    (void)omni__store_put_trusted(store, OMNI__NS_MESSAGE, t->key, st.text,
                                                  st.len, new_version, 0, now, NULL);
                rc = taken();
            } else if (rc == OMNI_ENOTFOUND) {
                rc = omni__err_retry(OMNI_ECONFLICT, 1, "delivery update: the carrier message "
                                                        "id's reference kept changing");
            }
        } else if (rc) {
            rc = omni__conv_db_error(rc, "writing a message reference");
        }
    }
    omni_free(st.text);
    omni__buf_free(&b);
    if (rc)
        return rc;
    /* then the statuses that arrived before it */
    return apply_parked(engine, store, carrier, d->carrier_message_id, now, a);
}

/* ---- the call ---------------------------------------------------------------- */

static int result(char **out, size_t *out_len, const applied *a, int parked, int rc)
{
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "changed");
    omni__json_w_bool(&b, a->changed);
    omni__json_w_keyl(&b, "parked");
    omni__json_w_bool(&b, parked);
    omni__json_w_keyl(&b, "message");
    if (a->rec.len)
        omni__json_w_raw(&b, a->rec.data, a->rec.len);
    else
        omni__json_w_null(&b);
    omni__json_w_keyl(&b, "events");
    omni__buf_putc(&b, '[');
    if (a->events->len)
        omni__buf_append(&b, a->events->data, a->events->len);
    omni__buf_putc(&b, ']');
    omni__json_w_obj_end(&b);
    int brc = omni__buf_status(&a->rec);
    if (!brc)
        brc = omni__buf_status(a->events);
    return omni__buf_finish(&b, brc, out, out_len);
}

/* A status that names the carrier's id: the message of its reference
 * (outbound first), else parked. */
static int by_carrier_id(omni_engine *engine, omni_store *store, const delivery_in *d,
                         int64_t now, applied *a, int *parked)
{
    static const char *const dirs[] = {"outbound", "inbound"};
    target t;
    for (int i = 0; i < 2; i++) {
        int rc = ref_target(store, dirs[i], d->carrier, d->carrier_message_id, now, &t);
        if (rc == OMNI_OK)
            return apply_status(engine, store, &t, d, 1, now, a);
        if (rc != OMNI_ENOTFOUND)
            return rc;
    }
    int rc = park(store, d, now);
    if (rc)
        return rc;
    /* an attach that wrote the reference meanwhile may have missed it */
    rc = ref_target(store, "outbound", d->carrier, d->carrier_message_id, now, &t);
    if (rc == OMNI_ENOTFOUND) {
        *parked = 1;
        return OMNI_OK;
    }
    if (!rc)
        rc = apply_parked(engine, store, d->carrier, d->carrier_message_id, now, a);
    if (!rc && !a->rec.len) { /* applied by the attacher already, or not writable yet */
        omni__stored st;
        rc = omni__conv_load(store, OMNI__NS_MESSAGE, t.key, now, &st);
        if (rc == OMNI_ENOTFOUND) {
            *parked = 1;
            return OMNI_OK;
        }
        if (!rc) {
            applied_set_rec(a, st.text, st.len);
            omni_free(st.text);
        }
    }
    return rc;
}

int omni_conversation_delivery(char **out, size_t *out_len, omni_engine *engine,
                               const char *update_json, size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = engine ? omni_engine_store(engine) : NULL;
    if (!out || !store || !update_json)
        return omni__err(OMNI_EINVAL, "delivery update: NULL out, engine or update");
    int64_t now = omni_engine_now_ms(engine);
    delivery_in d;
    int rc = read_delivery(&d, update_json, len, now);
    if (rc)
        return rc;
    omni_buf events = OMNI_BUF_INIT;
    applied a = {OMNI_BUF_INIT, &events, 0};
    int parked = 0;
    if (d.conversation_id[0]) {
        target t;
        target_set(&t, d.conversation_id, d.seq);
        rc = d.attach ? attach(engine, store, &t, &d, now, &a)
                      : apply_status(engine, store, &t, &d, 0, now, &a);
    } else {
        rc = by_carrier_id(engine, store, &d, now, &a, &parked);
    }
    rc = result(out, out_len, &a, parked, rc);
    omni__buf_free(&a.rec);
    omni__buf_free(&events);
    return rc;
}
