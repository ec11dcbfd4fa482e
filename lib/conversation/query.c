/* Conversations by id over the engine's store: get, transition, history,
 * a customer's conversations, delete, the service window and the accounts'
 * settings (delivery status: delivery.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/conversation.h>
#include <omni/datetime.h>
#include <omni/store.h>

#include "conversation_internal.h"
#include "core/error.h"
#include "core/json.h"
#include "records.h"
#include "storage/store_internal.h"

#define QUERY_MAX (4u * 1024u)
#define SETTINGS_MAX (4u * 1024u)
#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
#define SCAN_MAX 10000
#define CAS_ATTEMPTS 16

static omni_store *store_of(omni_engine *engine)
{
    return engine ? omni_engine_store(engine) : NULL;
}

static int check_id(const char *id, const char *what)
{
    if (!id || !omni__conv_plain_id(id, strlen(id)))
        return omni__err(OMNI_EINVAL, "conversation: %s must be 1..128 of [A-Za-z0-9._:@+-]",
                         what);
    return OMNI_OK;
}

int omni__conv_find(omni_store *store, const char *id, int64_t now, char *key, size_t key_cap,
                    omni__stored *st, omni__conv *c)
{
    st->text = NULL;
    omni__stored idx;
    int rc = omni__conv_load(store, OMNI__NS_CONVERSATION_ID, id, now, &idx);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "conversation: no conversation with that id");
    if (rc)
        return rc;
    long n = omni__j_get_str(omni__j_root(idx.text, idx.len), "key", key, key_cap);
    omni_free(idx.text);
    if (n <= 0)
        return omni__conv_corrupt(OMNI__NS_CONVERSATION_ID);
    rc = omni__conv_load_conversation(store, key, now, st, c);
    if (rc == OMNI_OK && strcmp(c->id, id) != 0)
        rc = OMNI_ENOTFOUND; /* a racing host's index entry, or a deleted conversation */
    if (rc == OMNI_ENOTFOUND) {
        omni_free(st->text);
        st->text = NULL;
        return omni__err(OMNI_ENOTFOUND, "conversation: no conversation with that id");
    }
    return rc;
}

/* Runs fn with the conversation loaded (c is heap memory: it is large). */
typedef struct loaded {
    omni__conv *c;
    omni__stored st;
    char key[OMNI_STORE_MAX_KEY + 1];
} loaded;

static int load_by_id(omni_engine *engine, const char *id, loaded *l)
{
    l->st.text = NULL;
    l->c = NULL;
    omni_store *store = store_of(engine);
    if (!store)
        return omni__err(OMNI_EINVAL, "conversation: NULL engine");
    int rc = check_id(id, "the conversation id");
    if (rc)
        return rc;
    l->c = omni_malloc(sizeof(*l->c));
    if (!l->c)
        return omni__err(OMNI_ENOMEM, NULL);
    rc = omni__conv_find(store, id, omni_engine_now_ms(engine), l->key, sizeof(l->key), &l->st,
                         l->c);
    if (rc) {
        omni_free(l->c);
        l->c = NULL;
    }
    return rc;
}

static void loaded_free(loaded *l)
{
    omni_free(l->st.text);
    omni_free(l->c);
}

static void clear_out(char **out, size_t *out_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
}

int omni_conversation_get(char **out, size_t *out_len, omni_engine *engine,
                          const char *conversation_id)
{
    clear_out(out, out_len);
    if (!out)
        return omni__err(OMNI_EINVAL, "conversation get: NULL out");
    loaded l;
    int rc = load_by_id(engine, conversation_id, &l);
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__conv_write(&b, l.c, OMNI__CONV_W_IDS | OMNI__CONV_W_WINDOW,
                     omni_engine_now_ms(engine), NULL, 0, NULL);
    loaded_free(&l);
    return omni__buf_finish(&b, OMNI_OK, out, out_len);
}

int omni_conversation_window(omni_engine *engine, const char *conversation_id, int *open,
                             int64_t *expires_at_ms)
{
    loaded l;
    int rc = load_by_id(engine, conversation_id, &l);
    if (rc)
        return rc;
    int64_t exp;
    int o = omni__conv_window(l.c, omni_engine_now_ms(engine), &exp);
    loaded_free(&l);
    if (open)
        *open = o;
    if (expires_at_ms)
        *expires_at_ms = exp;
    return OMNI_OK;
}

/* ---- settings ------------------------------------------------------------ */

/* The account's timeout and dedupe window (defaults when none is stored). */
static int settings_of(omni_engine *engine, const char *account_id, int64_t now,
                       int64_t *timeout_ms, int64_t *dedupe_ms)
{
    int ht, hd;
    return omni__conv_account_settings(engine, account_id, now, timeout_ms, dedupe_ms, &ht,
                                       &hd);
}

int omni_conversation_settings_set(omni_engine *engine, const char *account_id,
                                   const char *settings_json, size_t len)
{
    omni_store *store = store_of(engine);
    if (!store || !settings_json)
        return omni__err(OMNI_EINVAL, "conversation settings: NULL engine or settings");
    int rc = check_id(account_id, "accountId");
    if (!rc)
        rc = omni__json_validate(settings_json, len, SETTINGS_MAX, "conversation settings");
    if (rc)
        return rc;
    int64_t t = 0, d = 0;
    int ht = 0, hd = 0;
    rc = omni__conv_settings_read(settings_json, len, &t, &d, &ht, &hd, NULL,
                                  "conversation settings");
    if (rc)
        return rc;
    /* stored in one canonical form */
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    if (ht) {
        omni__json_w_keyl(&b, "inactivityTimeoutMs");
        omni__json_w_int(&b, t);
    }
    if (hd) {
        omni__json_w_keyl(&b, "dedupeWindowMs");
        omni__json_w_int(&b, d);
    }
    omni__json_w_obj_end(&b);
    rc = omni__buf_status(&b);
    if (!rc)
        rc = omni__store_put_trusted(store, OMNI__NS_SETTINGS, account_id, b.data, b.len,
                                     OMNI_STORE_ANY_VERSION, 0, omni_engine_now_ms(engine), NULL);
    omni__buf_free(&b);
    omni__conv_settings_forget(engine, account_id);
    return rc ? omni__conv_db_error(rc, "writing the settings") : OMNI_OK;
}

int omni_conversation_settings_get(char **out, size_t *out_len, omni_engine *engine,
                                   const char *account_id)
{
    clear_out(out, out_len);
    omni_store *store = store_of(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "conversation settings: NULL out or engine");
    int rc = check_id(account_id, "accountId");
    if (rc)
        return rc;
    omni__stored st;
    rc = omni__conv_load(store, OMNI__NS_SETTINGS, account_id, omni_engine_now_ms(engine), &st);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "conversation settings: none for that account");
    if (rc)
        return rc;
    *out = st.text;
    if (out_len)
        *out_len = st.len;
    return OMNI_OK;
}

/* ---- transition ---------------------------------------------------------- */

int omni_conversation_transition(char **out, size_t *out_len, omni_engine *engine,
                                  const char *conversation_id, const char *event_json,
                                  size_t len)
{
    clear_out(out, out_len);
    if (!out || !event_json)
        return omni__err(OMNI_EINVAL, "conversation transition: NULL out or event");
    int rc = omni__json_validate(event_json, len, OMNI__CONV_EVENT_MAX, "conversation event");
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    omni__conv_event ev;
    rc = omni__conv_event_read(&ev, event_json, len, now);
    if (rc)
        return rc;
    if (ev.event == OMNI_CONVERSATION_INBOUND_MESSAGE ||
        ev.event == OMNI_CONVERSATION_OUTBOUND_MESSAGE)
        return omni__err(OMNI_EINVAL, "conversation transition: messages are recorded by the "
                                      "conversation step, not as a transition");
    /* statuses parked for a message written out on the way (flush) */
    omni_buf events = OMNI_BUF_INIT, doc = OMNI_BUF_INIT, parked = OMNI_BUF_INIT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        loaded l;
        rc = load_by_id(engine, conversation_id, &l);
        if (rc)
            break;
        omni_store *store = store_of(engine);
        int64_t timeout, dedupe;
        rc = settings_of(engine, l.c->account_id, now, &timeout, &dedupe);
        if (!rc)
            rc = omni__conv_flush_pending(engine, l.c, now, dedupe, &parked);
        if (!rc && ev.event == OMNI_CONVERSATION_INACTIVITY_TIMEOUT && !ev.timeout_ms)
            ev.timeout_ms = timeout;
        omni__buf_reset(&events);
        omni__buf_reset(&doc);
        omni__json_w_arr_begin(&events);
        if (parked.len)
            omni__json_w_raw(&events, parked.data, parked.len);
        if (!rc)
            rc = omni__conv_apply(l.c, &ev, &events);
        omni__json_w_arr_end(&events);
        if (!rc) {
            omni__conv_write(&doc, l.c, OMNI__CONV_W_IDS, now, NULL, 0, NULL);
            rc = omni__buf_status(&doc);
        }
        if (!rc) {
            rc = omni__store_put_trusted(store, OMNI__NS_CONVERSATION, l.key, doc.data, doc.len,
                                         l.st.version, 0, now, NULL);
            if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND) {
                loaded_free(&l);
                rc = omni__err_retry(OMNI_ECONFLICT, 1, "conversation transition: the "
                                                        "conversation kept changing");
                continue;
            }
            if (rc)
                rc = omni__conv_db_error(rc, "writing the conversation");
        }
        if (!rc) {
            omni__buf_reset(&doc);
            omni__json_w_obj_begin(&doc);
            omni__json_w_keyl(&doc, "conversation");
            omni__conv_write(&doc, l.c, OMNI__CONV_W_IDS | OMNI__CONV_W_WINDOW, now, NULL, 0,
                             NULL);
            omni__json_w_keyl(&doc, "events");
            omni__json_w_raw(&doc, events.data, events.len);
            omni__json_w_obj_end(&doc);
        }
        loaded_free(&l);
        break;
    }
    omni__buf_free(&events);
    omni__buf_free(&parked);
    return omni__buf_finish(&doc, rc, out, out_len);
}

/* ---- pages --------------------------------------------------------------- */

typedef struct page_query {
    long limit;
    char cursor[OMNI_STORE_MAX_KEY + 1];
    char direction[16];
    char content_type[OMNI__CONV_CHANNEL_MAX + 1];
    int status; /* -1: any */
    int64_t since, until; /* 0: none */
} page_query;

static int read_query(page_query *q, const char *json, size_t len, int history)
{
    memset(q, 0, sizeof(*q));
    q->limit = PAGE_DEFAULT;
    q->status = -1;
    if (!json)
        return OMNI_OK;
    int rc = omni__json_validate(json, len, QUERY_MAX, "query");
    if (rc)
        return rc;
    omni__jspan root = omni__j_root(json, len);
    if (!omni__j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "query: must be a JSON object");
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, root);
    while (omni__j_next(&it, &k, &v)) {
        if (omni__j_is(v, 'n'))
            continue;
        if (omni__j_key_is(k, "limit")) {
            int64_t limit;
            if (!omni__j_uint(v, &limit) || limit < 1 || limit > PAGE_MAX)
                return omni__err(OMNI_EINVAL, "query: limit must be 1..%d", PAGE_MAX);
            q->limit = (long)limit;
        } else if (omni__j_key_is(k, "cursor")) {
            if (omni__j_str(v, q->cursor, sizeof(q->cursor)) < 0)
                return omni__err(OMNI_EINVAL, "query: cursor must be a string from \"next\"");
        } else if (history && omni__j_key_is(k, "direction")) {
            if (omni__j_str(v, q->direction, sizeof(q->direction)) < 0 ||
                (strcmp(q->direction, "inbound") != 0 && strcmp(q->direction, "outbound") != 0))
                return omni__err(OMNI_EINVAL, "query: direction must be inbound or outbound");
        } else if (history && omni__j_key_is(k, "contentType")) {
            if (omni__j_str(v, q->content_type, sizeof(q->content_type)) <= 0)
                return omni__err(OMNI_EINVAL, "query: contentType must be a short string");
        } else if (history && (omni__j_key_is(k, "since") || omni__j_key_is(k, "until"))) {
            int64_t *t = omni__j_key_is(k, "since") ? &q->since : &q->until;
            if (omni__conv_span_time(v, t) != OMNI_OK)
                return omni__err(OMNI_EINVAL, "query: since and until must be RFC 3339 times");
        } else if (!history && omni__j_key_is(k, "status")) {
            q->status = omni__j_is(v, '"') && v.n >= 2 ? omni__conv_status_from(v.p + 1, v.n - 2)
                                                        : -1;
            if (q->status < 0)
                return omni__err(OMNI_EINVAL, "query: status must be a status name");
        } else {
            return omni__err(OMNI_EINVAL, "query: unknown member");
        }
    }
    return OMNI_OK;
}

typedef struct pager {
    const page_query *q;
    omni_buf *b;
    long matched;
    long scanned;
    char last_key[OMNI_STORE_MAX_KEY + 1]; /* the last key scanned */
    int history;
    int64_t now;
    omni__conv *c; /* list: scratch */
    int bad;       /* a record that is not libomni's */
    int lazy;      /* a bundled store: documents are libomni's own */
} pager;

/* 1 when a message record passes the history filters. */
static int message_matches(const page_query *q, omni__jspan rec)
{
    static const char *const names[] = {"direction", "contentType", "createdAt"};
    omni__jspan f[3];
    omni__j_fields(rec, names, f, 3);
    char s[64];
    if (q->direction[0] &&
        (omni__j_str(f[0], s, sizeof(s)) <= 0 || strcmp(s, q->direction) != 0))
        return 0;
    if (q->content_type[0] &&
        (omni__j_str(f[1], s, sizeof(s)) <= 0 || strcmp(s, q->content_type) != 0))
        return 0;
    if (q->since || q->until) {
        int64_t t;
        if (omni__conv_span_time(f[2], &t) != OMNI_OK)
            return 0;
        if ((q->since && t < q->since) || (q->until && t >= q->until))
            return 0;
    }
    return 1;
}

static int page_cb(void *ctx, const char *key, size_t key_len, const char *value, size_t len,
                   uint64_t version, int64_t expires_at_ms)
{
    (void)version;
    (void)expires_at_ms;
    pager *p = ctx;
    p->scanned++;
    snprintf(p->last_key, sizeof(p->last_key), "%.*s", (int)key_len, key);
    if (omni__json_validate(value, len, OMNI_STORE_MAX_VALUE, "stored record")) {
        p->bad = 1;
        return 1;
    }
    omni__jspan rec = omni__j_root(value, len);
    if (p->history) {
        if (!message_matches(p->q, rec))
            goto next;
        omni__json_w_raw(p->b, rec.p, rec.n);
    } else {
        if (omni__conv_read(p->c, value, len, 1, p->lazy)) {
            p->bad = 1;
            return 1;
        }
        if (p->q->status >= 0 && p->c->status != p->q->status)
            goto next;
        omni__conv_write(p->b, p->c, OMNI__CONV_W_IDS | OMNI__CONV_W_WINDOW, p->now, NULL, 0,
                         NULL);
    }
    p->matched++;
next:
    return p->matched >= p->q->limit || p->scanned >= SCAN_MAX;
}

/* Lists ns under prefix into {"items": [...], "next"}; pending (may be
 * {NULL, 0}) is a message record to add at the end when it sorts after
 * everything listed (a committed message not written out yet). */
static int page(omni_store *store, const char *ns, const char *prefix, const page_query *q,
                int history, omni__conv *scratch, omni__jspan pending, const char *pending_key,
                int64_t now, char **out, size_t *out_len)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "items");
    omni__json_w_arr_begin(&b);
    pager p = {q, &b, 0, 0, "", history, now, scratch, 0, omni__store_trusted(store)};
    const char *after = q->cursor[0] ? q->cursor : NULL;
    char *next = NULL;
    int rc = OMNI_OK;
    size_t plen = strlen(prefix);
    if (after && strncmp(after, prefix, plen) != 0)
        rc = omni__err(OMNI_EINVAL, "query: the cursor is not from this listing");
    while (!rc && p.matched < q->limit && p.scanned < SCAN_MAX) {
        omni_free(next);
        next = NULL;
        long room = SCAN_MAX - p.scanned;
        size_t batch = (size_t)(room < OMNI_STORE_MAX_LIST ? room : OMNI_STORE_MAX_LIST);
        rc = omni_store_list(store, ns, prefix, after, batch, now, page_cb, &p, &next);
        if (rc) {
            rc = omni__conv_db_error(rc, "listing the store");
            break;
        }
        if (p.bad) {
            rc = omni__conv_corrupt(ns);
            break;
        }
        if (!next)
            break;
        after = next;
    }
    if (!rc && !next && pending.p && p.matched < q->limit &&
        strcmp(pending_key, p.last_key[0] ? p.last_key : (q->cursor[0] ? q->cursor : "")) > 0) {
        if (message_matches(q, pending))
            omni__json_w_raw(&b, pending.p, pending.n);
        OMNI__CONV_COPY(p.last_key, pending_key);
    }
    omni__json_w_arr_end(&b);
    omni__json_w_keyl(&b, "next");
    if (next && p.last_key[0])
        omni__json_w_str(&b, p.last_key);
    else
        omni__json_w_null(&b);
    omni__json_w_obj_end(&b);
    omni_free(next);
    return omni__buf_finish(&b, rc, out, out_len);
}

int omni_conversation_history(char **out, size_t *out_len, omni_engine *engine,
                              const char *conversation_id, const char *query_json, size_t len)
{
    clear_out(out, out_len);
    if (!out)
        return omni__err(OMNI_EINVAL, "conversation history: NULL out");
    page_query q;
    int rc = read_query(&q, query_json, len, 1);
    if (rc)
        return rc;
    loaded l;
    rc = load_by_id(engine, conversation_id, &l);
    if (rc)
        return rc;
    char prefix[OMNI__CONV_ID_MAX + 2], pending_key[OMNI_STORE_MAX_KEY + 1] = "";
    snprintf(prefix, sizeof(prefix), "%s/", l.c->id);
    omni__msg m;
    omni__jspan pending = l.c->last_message;
    if (pending.p && omni__conv_msg_read(&m, pending) == OMNI_OK)
        omni__conv_message_key(pending_key, sizeof(pending_key), l.c->id, m.seq);
    else
        pending = (omni__jspan){NULL, 0};
    rc = page(store_of(engine), OMNI__NS_MESSAGE, prefix, &q, 1, NULL, pending, pending_key,
              omni_engine_now_ms(engine), out, out_len);
    loaded_free(&l);
    return rc;
}

int omni_conversation_list(char **out, size_t *out_len, omni_engine *engine,
                           const char *customer_id, const char *query_json, size_t len)
{
    clear_out(out, out_len);
    omni_store *store = store_of(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "conversation list: NULL out or engine");
    int rc = check_id(customer_id, "customerId");
    if (rc)
        return rc;
    page_query q;
    rc = read_query(&q, query_json, len, 0);
    if (rc)
        return rc;
    omni__conv *scratch = omni_malloc(sizeof(*scratch));
    if (!scratch)
        return omni__err(OMNI_ENOMEM, NULL);
    char prefix[OMNI__CONV_ID_MAX + 2];
    snprintf(prefix, sizeof(prefix), "%s/", customer_id);
    rc = page(store, OMNI__NS_CONVERSATION, prefix, &q, 0, scratch, (omni__jspan){NULL, 0}, "",
              omni_engine_now_ms(engine), out, out_len);
    omni_free(scratch);
    return rc;
}

/* ---- delete -------------------------------------------------------------- */

typedef struct sweep {
    omni_store *store;
    int64_t now;
    int rc;
} sweep;

/* Deletes one message record and its reference. */
static int sweep_cb(void *ctx, const char *key_in, size_t key_len, const char *value,
                    size_t len, uint64_t version, int64_t expires_at_ms)
{
    (void)version;
    (void)expires_at_ms;
    sweep *s = ctx;
    char key[OMNI_STORE_MAX_KEY + 1];
    snprintf(key, sizeof(key), "%.*s", (int)key_len, key_in);
    omni__msg m;
    if (omni__json_validate(value, len, OMNI_STORE_MAX_VALUE, NULL) == OMNI_OK &&
        omni__conv_msg_read(&m, omni__j_root(value, len)) == OMNI_OK) {
        int rc = omni__conv_refs_delete(s->store, omni__j_root(value, len), &m, s->now);
        if (rc) {
            s->rc = rc;
            return 1;
        }
    }
    int rc = omni_store_delete(s->store, OMNI__NS_MESSAGE, key, OMNI_STORE_ANY_VERSION, s->now);
    if (rc && rc != OMNI_ENOTFOUND) {
        s->rc = rc;
        return 1;
    }
    return 0;
}

int omni_conversation_delete(char **out, size_t *out_len, omni_engine *engine,
                             const char *conversation_id)
{
    clear_out(out, out_len);
    if (!out)
        return omni__err(OMNI_EINVAL, "conversation delete: NULL out");
    int64_t now = omni_engine_now_ms(engine);
    int rc = OMNI_ECONFLICT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS && rc == OMNI_ECONFLICT; attempt++) {
        loaded l;
        rc = load_by_id(engine, conversation_id, &l);
        if (rc)
            return rc;
        rc = omni_store_delete(store_of(engine), OMNI__NS_CONVERSATION, l.key, l.st.version,
                               now);
        loaded_free(&l);
        if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND)
            rc = OMNI_ECONFLICT;
        else if (rc)
            return omni__conv_db_error(rc, "deleting the conversation");
    }
    if (rc)
        return omni__err_retry(OMNI_ECONFLICT, 1, "conversation delete: the conversation kept "
                                                  "changing");
    /* the conversation is gone (new messages start a new one); its
     * messages, references and index entry follow */
    omni_store *store = store_of(engine);
    char prefix[OMNI__CONV_ID_MAX + 2];
    snprintf(prefix, sizeof(prefix), "%s/", conversation_id);
    sweep s = {store, now, OMNI_OK};
    for (;;) {
        char *next = NULL;
        rc = omni_store_list(store, OMNI__NS_MESSAGE, prefix, NULL, OMNI_STORE_MAX_LIST, now,
                             sweep_cb, &s, &next);
        omni_free(next);
        if (rc || s.rc) {
            return omni__conv_db_error(rc ? rc : s.rc, "deleting the messages");
        }
        if (!next)
            break;
    }
    rc = omni_store_delete(store, OMNI__NS_CONVERSATION_ID, conversation_id,
                           OMNI_STORE_ANY_VERSION, now);
    if (rc && rc != OMNI_ENOTFOUND)
        return omni__conv_db_error(rc, "deleting the conversation index");
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "events");
    omni__json_w_arr_begin(&b);
    omni__conv_ev_deleted(&b, conversation_id, now);
    omni__json_w_arr_end(&b);
    omni__json_w_obj_end(&b);
    return omni__buf_finish(&b, OMNI_OK, out, out_len);
}
