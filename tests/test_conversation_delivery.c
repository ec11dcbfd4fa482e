/* Delivery status tracking (omni_conversation_delivery): the provider's id
 * attached to an outbound message, carrier callbacks by that id, callbacks
 * that arrive first (parked, then applied in order by the attach or the
 * step), their expiry, a fallback carrier's new attempt, the carrier's error
 * reasons, the park/attach races run in exact interleavings on two threads
 * through a gated storage hook, the same over SQLite, and every error path. */
#include <criterion/criterion.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

/* 2025-01-02T03:04:05.000Z */
#define T0 INT64_C(1735787045000)
#define DAY INT64_C(86400000)

/* ---- a storage hook that can fail, and gate calls between two threads ----- */

/* A gate: before the nth call (op 'g' get, 'p' put, 'd' delete) of one
 * thread role on one namespace, wait until the phase reaches wait_phase;
 * after it, set the phase to set_phase (0: neither). */
typedef struct gate {
    int role;
    char op;
    const char *ns;
    int nth;
    int wait_phase, set_phase;
} gate;

#define MAX_GATES 8

typedef struct host {
    omni_store *inner;
    omni_storage_hook h;
    int fail_ns_put;     /* puts to fail_ns fail */
    const char *fail_ns;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int phase;
    gate gates[MAX_GATES];
    int counts[MAX_GATES];
    size_t n_gates;
    int timed_out;
} host;

static _Thread_local int g_role; /* 0: the test's thread */

static void gate_point(host *s, char op, const char *ns, int after)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_gates; i++) {
        const gate *g = &s->gates[i];
        if (g->role != g_role || g->op != op || strcmp(g->ns, ns) != 0)
            continue;
        if (!after)
            s->counts[i]++;
        if (s->counts[i] != g->nth)
            continue;
        if (!after && g->wait_phase) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 5;
            while (s->phase < g->wait_phase)
                if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
                    s->timed_out = 1;
                    break;
                }
        }
        if (after && g->set_phase) {
            s->phase = g->set_phase;
            pthread_cond_broadcast(&s->cv);
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static int host_get(void *ctx, const char *ns, const char *key, int64_t now, char **v,
                    size_t *n, uint64_t *ver, int64_t *exp)
{
    host *h = ctx;
    gate_point(h, 'g', ns, 0);
    int rc = h->h.get(h->h.ctx, ns, key, now, v, n, ver, exp);
    gate_point(h, 'g', ns, 1);
    return rc;
}

static int host_put(void *ctx, const char *ns, const char *key, const char *v, size_t n,
                    uint64_t expected, int64_t exp, int64_t now, uint64_t *nv)
{
    host *h = ctx;
    if (h->fail_ns_put && strcmp(ns, h->fail_ns) == 0)
        return OMNI_ESTORAGE;
    gate_point(h, 'p', ns, 0);
    int rc = h->h.put(h->h.ctx, ns, key, v, n, expected, exp, now, nv);
    gate_point(h, 'p', ns, 1);
    return rc;
}

static int host_del(void *ctx, const char *ns, const char *key, uint64_t expected, int64_t now)
{
    host *h = ctx;
    gate_point(h, 'd', ns, 0);
    int rc = h->h.del(h->h.ctx, ns, key, expected, now);
    gate_point(h, 'd', ns, 1);
    return rc;
}

static int host_list(void *ctx, const char *ns, const char *prefix, const char *after,
                     size_t limit, int64_t now, omni_store_list_cb cb, void *cb_ctx, char **next)
{
    host *h = ctx;
    return h->h.list(h->h.ctx, ns, prefix, after, limit, now, cb, cb_ctx, next);
}

/* ---- an engine with a clock the test moves -------------------------------- */

typedef struct fixture {
    int64_t now;
    omni_store *store; /* the bundled store, or the host's inner one */
    omni_engine *e;
    host *host;        /* NULL: the bundled store's own table */
} fixture;

static int64_t fx_clock(void *ctx)
{
    return ((fixture *)ctx)->now;
}

static void fx_engine(fixture *f, const omni_storage_hook *storage)
{
    omni_clock_hook clock = OMNI_CLOCK_HOOK_INIT;
    clock.ctx = f;
    clock.now_ms = fx_clock;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.clock = &clock;
    hooks.storage = storage;
    f->e = NULL;
    cr_assert_eq(omni_engine_new(&f->e, NULL, 0, &hooks), OMNI_OK, "%s",
                 omni_error_last_message());
}

static void fx_open_uri(fixture *f, const char *uri)
{
    f->now = T0;
    f->host = NULL;
    cr_assert_eq(omni_store_open(&f->store, uri), OMNI_OK, "%s", omni_error_last_message());
    omni_storage_hook h;
    cr_assert_eq(omni_store_get_hook(f->store, &h), OMNI_OK);
    fx_engine(f, &h);
}

static void fx_open(fixture *f)
{
    fx_open_uri(f, "memory:");
}

/* An engine over a host's hook (no atomic batch) that forwards to a memory
 * store. */
static void fx_open_host(fixture *f, host *h)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    f->now = T0;
    f->host = h;
    cr_assert_eq(omni_store_open(&h->inner, "memory:"), OMNI_OK);
    cr_assert_eq(omni_store_get_hook(h->inner, &h->h), OMNI_OK);
    f->store = h->inner;
    omni_storage_hook t = OMNI_STORAGE_HOOK_INIT;
    t.ctx = h;
    t.get = host_get;
    t.put = host_put;
    t.del = host_del;
    t.list = host_list;
    fx_engine(f, &t);
}

static void fx_close(fixture *f)
{
    omni_engine_free(f->e);
    omni_store_free(f->store);
    if (f->host) {
        pthread_mutex_destroy(&f->host->mu);
        pthread_cond_destroy(&f->host->cv);
    }
}

/* ---- JSON helpers ---------------------------------------------------------- */

static const cJSON *at(const cJSON *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    const cJSON *cur = j;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(tok));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cur;
}

static const char *str(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    cr_assert(cJSON_IsString(v), "%s is not a string", path);
    return v->valuestring;
}

static double num(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", path);
    return v->valuedouble;
}

static int count(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    cr_assert(cJSON_IsArray(v), "%s is not an array", path);
    return cJSON_GetArraySize(v);
}

static int is_true(const cJSON *j, const char *path)
{
    return cJSON_IsTrue(at(j, path));
}

/* Steps a message; returns the result. */
static cJSON *step(fixture *f, const char *id, const char *direction)
{
    char ev[1024];
    snprintf(ev, sizeof(ev),
             "{\"correlationId\":\"corr-%s\",\"identity\":{\"customerId\":\"cust-1\"},"
             "\"routing\":{\"accountId\":\"acc-1\"},\"enrichedMessage\":{\"id\":\"%s\","
             "\"carrier\":\"twilio\",\"channelType\":\"sms\",\"content\":\"hi\","
             "\"contentType\":\"text\",\"timestamp\":\"2025-01-02T03:04:00Z\"},"
             "\"direction\":\"%s\"}",
             id, id, direction);
    char *out = NULL;
    int rc = omni_conversation_step(&out, NULL, f->e, ev, strlen(ev), NULL, 0);
    cr_assert_eq(rc, OMNI_OK, "step: %s", omni_error_last_message());
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j);
    omni_free(out);
    return j;
}

/* Steps an outbound message; *cid receives its conversation id (static). */
static int64_t step_out(fixture *f, const char *id, char *cid, size_t cap)
{
    cJSON *r = step(f, id, "outbound");
    snprintf(cid, cap, "%s", str(r, "conversation.conversationId"));
    int64_t seq = (int64_t)num(r, "messageState.sequenceNumber");
    cJSON_Delete(r);
    return seq;
}

static int vdeliver(fixture *f, cJSON **res, const char *fmt, va_list ap)
{
    char u[2048];
    vsnprintf(u, sizeof(u), fmt, ap);
    char *out = (char *)1;
    size_t len = 0;
    int rc = omni_conversation_delivery(&out, &len, f->e, u, strlen(u));
    if (rc) {
        cr_assert_null(out, "no output on an error");
        *res = NULL;
        return rc;
    }
    cr_assert_eq(strlen(out), len);
    *res = cJSON_Parse(out);
    cr_assert_not_null(*res, "%s", out);
    omni_free(out);
    return rc;
}

/* A delivery update (printf format); asserts success. */
static cJSON *deliver(fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cJSON *res = NULL;
    int rc = vdeliver(f, &res, fmt, ap);
    va_end(ap);
    cr_assert_eq(rc, OMNI_OK, "delivery: %s", omni_error_last_message());
    return res;
}

/* A delivery update that must fail; returns its status. */
static int deliver_rc(fixture *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cJSON *res = NULL;
    int rc = vdeliver(f, &res, fmt, ap);
    va_end(ap);
    cJSON_Delete(res);
    return rc;
}

#define ATTACH "{\"conversationId\":\"%s\",\"sequenceNumber\":%d,\"carrier\":\"%s\"," \
               "\"carrierMessageId\":\"%s\",\"status\":\"%s\"}"
#define CALLBACK "{\"kind\":\"status\",\"carrier\":\"%s\",\"carrierMessageId\":\"%s\"," \
                 "\"status\":\"%s\"}"

/* The stored record (NULL when absent), parsed. */
static cJSON *stored(fixture *f, const char *ns, const char *key)
{
    char *v = NULL;
    int rc = omni_store_get(f->store, ns, key, f->now, &v, NULL, NULL, NULL);
    if (rc == OMNI_ENOTFOUND)
        return NULL;
    cr_assert_eq(rc, OMNI_OK);
    cJSON *j = cJSON_Parse(v);
    omni_free(v);
    return j;
}

static int has(fixture *f, const char *ns, const char *key)
{
    cJSON *j = stored(f, ns, key);
    cJSON_Delete(j);
    return j != NULL;
}

/* The message record (history item seq, 1-based). */
static cJSON *history_item(fixture *f, const char *cid, int seq)
{
    char *out = NULL;
    cr_assert_eq(omni_conversation_history(&out, NULL, f->e, cid, NULL, 0), OMNI_OK);
    cJSON *h = cJSON_Parse(out);
    omni_free(out);
    cJSON *item = cJSON_DetachItemFromArray(cJSON_GetObjectItemCaseSensitive(h, "items"),
                                            seq - 1);
    cJSON_Delete(h);
    cr_assert_not_null(item);
    return item;
}

/* The index of the first event of that type (-1: none). */
static int event_index(const cJSON *res, const char *type)
{
    int n = count(res, "events");
    for (int i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof(p), "events.%d.detailType", i);
        if (strcmp(str(res, p), type) == 0)
            return i;
    }
    return -1;
}

static void assert_event(const cJSON *res, int i, const char *from, const char *to)
{
    char p[64];
    snprintf(p, sizeof(p), "events.%d.detailType", i);
    cr_assert_str_eq(str(res, p), "message.delivery_updated");
    snprintf(p, sizeof(p), "events.%d.detail.previousStatus", i);
    cr_assert_str_eq(str(res, p), from, "event %d", i);
    snprintf(p, sizeof(p), "events.%d.detail.newStatus", i);
    cr_assert_str_eq(str(res, p), to, "event %d", i);
}

/* ---- attach, then callbacks ----------------------------------------------- */

Test(conversation_delivery, attach_then_callbacks)
{
    fixture f;
    fx_open(&f);
    char cid[64];
    int seq = (int)step_out(&f, "idem-1", cid, sizeof(cid));
    f.now += 1000;
    cJSON *r = deliver(&f,
                       "{\"conversationId\":\"%s\",\"sequenceNumber\":%d,\"carrier\":\"twilio\","
                       "\"carrierMessageId\":\"SM1\",\"status\":\"queued\",\"timestamp\":"
                       "\"2025-01-02T03:04:06Z\"}",
                       cid, seq);
    cr_assert(is_true(r, "changed"));
    cr_assert(!is_true(r, "parked"));
    cr_assert_str_eq(str(r, "message.carrier"), "twilio");
    cr_assert_str_eq(str(r, "message.carrierMessageId"), "SM1");
    cr_assert_str_eq(str(r, "message.steppedCarrier"), "twilio");
    cr_assert_str_eq(str(r, "message.steppedMessageId"), "idem-1");
    cr_assert_eq(count(r, "message.carrierMessageIds"), 1);
    cr_assert_str_eq(str(r, "message.carrierMessageIds.0.carrierMessageId"), "SM1");
    cr_assert_str_eq(str(r, "message.carrierMessageIds.0.attachedAt"),
                     "2025-01-02T03:04:06.000Z");
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "queued");
    cr_assert_str_eq(str(r, "message.updatedAt"), "2025-01-02T03:04:06.000Z");
    cr_assert_eq(count(r, "events"), 1);
    assert_event(r, 0, "pending", "queued");
    cr_assert_str_eq(str(r, "events.0.detail.conversationId"), cid);
    cJSON_Delete(r);
    /* both ids find the message */
    cr_assert(has(&f, "message_ref", "out/twilio/SM1"));
    cr_assert(has(&f, "message_ref", "out/twilio/idem-1"));

    /* the same attach again: nothing changes */
    r = deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "queued");
    cr_assert(!is_true(r, "changed"));
    cr_assert_eq(count(r, "events"), 0);
    cr_assert_eq(count(r, "message.carrierMessageIds"), 1);
    cJSON_Delete(r);
    /* "carrier" defaults to the message's */
    r = deliver(&f,
                "{\"conversationId\":\"%s\",\"sequenceNumber\":%d,\"carrierMessageId\":\"SM1\","
                "\"status\":\"queued\"}",
                cid, seq);
    cr_assert(!is_true(r, "changed"));
    cJSON_Delete(r);

    /* the carrier's callbacks by its id */
    const char *order[] = {"sent", "delivered"};
    const char *prev = "queued";
    for (int i = 0; i < 2; i++) {
        f.now += 1000;
        r = deliver(&f, CALLBACK, "twilio", "SM1", order[i]);
        cr_assert(is_true(r, "changed"));
        cr_assert(!is_true(r, "parked"));
        cr_assert_eq(count(r, "events"), 1);
        assert_event(r, 0, prev, order[i]);
        prev = order[i];
        cJSON_Delete(r);
    }
    /* out of order: never backwards */
    r = deliver(&f, CALLBACK, "twilio", "SM1", "sent");
    cr_assert(!is_true(r, "changed"));
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "delivered");
    cJSON_Delete(r);
    /* a status naming the stepped id applies too */
    r = deliver(&f, CALLBACK, "twilio", "idem-1", "read");
    cr_assert(is_true(r, "changed"));
    assert_event(r, 0, "delivered", "read");
    cJSON_Delete(r);
    /* a late attach does not move it back */
    r = deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "sent");
    cr_assert(!is_true(r, "changed"));
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "read");
    cJSON_Delete(r);
    cJSON *h = history_item(&f, cid, seq);
    cr_assert_str_eq(str(h, "deliveryStatus"), "read");
    cr_assert_str_eq(str(h, "carrierMessageId"), "SM1");
    cJSON_Delete(h);

    /* the step of either id is still a duplicate of that message */
    cJSON *d1 = step(&f, "idem-1", "outbound");
    cJSON *d2 = step(&f, "SM1", "outbound");
    cr_assert(is_true(d1, "duplicate"));
    cr_assert(is_true(d2, "duplicate"));
    cr_assert_eq(num(d2, "messageState.sequenceNumber"), seq);
    cr_assert_str_eq(str(d2, "messageState.messageId"), str(d1, "messageState.messageId"));
    cJSON_Delete(d1);
    cJSON_Delete(d2);

    /* delete removes every reference of the message */
    char *out = NULL;
    cr_assert_eq(omni_conversation_delete(&out, NULL, f.e, cid), OMNI_OK);
    omni_free(out);
    cr_assert(!has(&f, "message_ref", "out/twilio/SM1"));
    cr_assert(!has(&f, "message_ref", "out/twilio/idem-1"));
    fx_close(&f);
}

/* ---- callbacks first ----------------------------------------------------------- */

/* delivered, then sent (out of order), then delivered again, all before
 * the attach; store: the memory store or a SQLite file. */
static void callbacks_before_attach(fixture *f)
{
    char cid[64];
    int seq = (int)step_out(f, "idem-1", cid, sizeof(cid));
    f->now += 1000;
    cJSON *r = deliver(f,
                       "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":"
                       "\"delivered\",\"timestamp\":\"2025-01-02T03:04:09Z\"}");
    cr_assert(is_true(r, "parked"));
    cr_assert(!is_true(r, "changed"));
    cr_assert(cJSON_IsNull(at(r, "message")));
    cr_assert_eq(count(r, "events"), 0);
    cJSON_Delete(r);
    f->now += 1000;
    cJSON_Delete(deliver(f, CALLBACK, "twilio", "SM1", "sent"));
    cJSON_Delete(deliver(f, CALLBACK, "twilio", "SM1", "delivered"));
    /* kept in arrival order, one per status */
    cJSON *p = stored(f, "delivery_parked", "twilio/SM1");
    cr_assert_not_null(p);
    cr_assert_eq(count(p, "updates"), 2);
    cr_assert_str_eq(str(p, "updates.0.status"), "delivered");
    cr_assert_str_eq(str(p, "updates.0.timestamp"), "2025-01-02T03:04:09.000Z");
    cr_assert_str_eq(str(p, "updates.1.status"), "sent");
    cJSON_Delete(p);
    /* the message's status has not moved */
    cJSON *h = history_item(f, cid, seq);
    cr_assert_str_eq(str(h, "deliveryStatus"), "pending");
    cJSON_Delete(h);

    f->now += 1000;
    r = deliver(f, ATTACH, cid, seq, "twilio", "SM1", "queued");
    cr_assert(is_true(r, "changed"));
    cr_assert(!is_true(r, "parked"));
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "delivered");
    cr_assert_eq(count(r, "events"), 2);
    assert_event(r, 0, "pending", "queued");
    assert_event(r, 1, "queued", "delivered");
    cr_assert_str_eq(str(r, "events.1.detail.updatedAt"), "2025-01-02T03:04:09.000Z");
    cJSON_Delete(r);
    cr_assert(!has(f, "delivery_parked", "twilio/SM1"), "applied and deleted");
    h = history_item(f, cid, seq);
    cr_assert_str_eq(str(h, "deliveryStatus"), "delivered");
    cJSON_Delete(h);
    /* the callbacks find it directly now */
    r = deliver(f, CALLBACK, "twilio", "SM1", "read");
    cr_assert(is_true(r, "changed"));
    cr_assert(!is_true(r, "parked"));
    cJSON_Delete(r);
}

Test(conversation_delivery, callbacks_before_the_attach_apply_in_order)
{
    fixture f;
    fx_open(&f);
    callbacks_before_attach(&f);
    fx_close(&f);
}

Test(conversation_delivery, callbacks_before_the_attach_over_sqlite)
{
    char dir[] = "/tmp/omni-delivery-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char uri[128], path[96];
    snprintf(path, sizeof(path), "%s/conv.db", dir);
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    fixture f;
    fx_open_uri(&f, uri);
    callbacks_before_attach(&f);
    fx_close(&f);
    /* and it is all in the file */
    fx_open_uri(&f, uri);
    cr_assert(has(&f, "message_ref", "out/twilio/SM1"));
    cr_assert(!has(&f, "delivery_parked", "twilio/SM1"));
    fx_close(&f);
    unlink(path);
    char side[128];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    rmdir(dir);
}

Test(conversation_delivery, a_parked_failure_keeps_the_carriers_reason)
{
    fixture f;
    fx_open(&f);
    char cid[64];
    int seq = (int)step_out(&f, "idem-1", cid, sizeof(cid));
    cJSON *r = deliver(&f, "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":"
                           "\"failed\",\"errorCode\":\"30007\",\"errorMessage\":\"Carrier "
                           "violation\"}");
    cr_assert(is_true(r, "parked"));
    cJSON_Delete(r);
    r = deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "queued");
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "failed");
    cr_assert_str_eq(str(r, "message.errorCode"), "30007");
    cr_assert_str_eq(str(r, "message.errorMessage"), "Carrier violation");
    cr_assert_eq(count(r, "events"), 2);
    assert_event(r, 1, "queued", "failed");
    cr_assert_str_eq(str(r, "events.1.detail.errorCode"), "30007");
    cr_assert_str_eq(str(r, "events.1.detail.errorMessage"), "Carrier violation");
    cr_assert_null(at(r, "events.0.detail.errorCode"), "only failures carry a reason");
    cJSON_Delete(r);
    /* final */
    r = deliver(&f, CALLBACK, "twilio", "SM1", "delivered");
    cr_assert(!is_true(r, "changed"));
    cJSON_Delete(r);
    /* undelivered by sequence number, with a numeric code */
    seq = (int)step_out(&f, "idem-2", cid, sizeof(cid));
    r = deliver(&f,
                "{\"conversationId\":\"%s\",\"sequenceNumber\":%d,\"status\":\"undelivered\","
                "\"errorCode\":30005,\"errorMessage\":\"Unknown destination\"}",
                cid, seq);
    cr_assert_eq(num(r, "message.errorCode"), 30005);
    cr_assert_eq(num(r, "events.0.detail.errorCode"), 30005);
    cJSON_Delete(r);
    fx_close(&f);
}

Test(conversation_delivery, parked_statuses_expire_after_seven_days)
{
    fixture f;
    fx_open(&f);
    char cid[64];
    int seq = (int)step_out(&f, "idem-1", cid, sizeof(cid));
    int seq2 = (int)step_out(&f, "idem-2", cid, sizeof(cid));
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM1", "delivered"));
    f.now += DAY;
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM2", "delivered"));
    /* SM1's first status came 7 days ago: gone; SM2's is one day younger */
    f.now = T0 + 7 * DAY;
    cJSON *r = deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "queued");
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "queued");
    cr_assert_eq(count(r, "events"), 1);
    cJSON_Delete(r);
    r = deliver(&f, ATTACH, cid, seq2, "twilio", "SM2", "queued");
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "delivered");
    cr_assert_eq(count(r, "events"), 2);
    cJSON_Delete(r);
    /* a later status does not extend the first one's lifetime */
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM3", "sent"));
    f.now += 7 * DAY - 1;
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM3", "delivered"));
    cJSON *p = stored(&f, "delivery_parked", "twilio/SM3");
    cr_assert_eq(count(p, "updates"), 2);
    cJSON_Delete(p);
    f.now += 1;
    cr_assert(!has(&f, "delivery_parked", "twilio/SM3"));
    fx_close(&f);
}

/* ---- the step applies parked statuses --------------------------------------------- */

Test(conversation_delivery, an_outbound_step_applies_statuses_parked_for_its_id)
{
    fixture f;
    fx_open(&f);
    /* a host that steps after sending, with the carrier's id */
    cJSON_Delete(step(&f, "SM-IN", "inbound"));
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM-X", "sent"));
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM-X", "delivered"));
    cJSON *r = step(&f, "SM-X", "outbound");
    /* the step's own events (status_changed new -> active, message.created),
     * then the parked statuses' */
    int i = event_index(r, "message.delivery_updated");
    cr_assert_eq(count(r, "events"), 4);
    cr_assert_eq(i, 2);
    cr_assert_eq(event_index(r, "message.created"), 1);
    assert_event(r, 2, "pending", "sent");
    assert_event(r, 3, "sent", "delivered");
    cr_assert_str_eq(str(r, "events.2.detail.messageId"), str(r, "messageState.messageId"));
    char cid[64];
    snprintf(cid, sizeof(cid), "%s", str(r, "conversation.conversationId"));
    cJSON_Delete(r);
    cJSON *h = history_item(&f, cid, 2);
    cr_assert_str_eq(str(h, "deliveryStatus"), "delivered");
    cJSON_Delete(h);
    cr_assert(!has(&f, "delivery_parked", "twilio/SM-X"));
    /* the duplicate step has no events */
    r = step(&f, "SM-X", "outbound");
    cr_assert(is_true(r, "duplicate"));
    cr_assert_eq(count(r, "events"), 0);
    cJSON_Delete(r);
    /* an inbound message never takes parked statuses */
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM-Y", "read"));
    cJSON_Delete(step(&f, "SM-Y", "inbound"));
    h = history_item(&f, cid, 3);
    cr_assert_str_eq(str(h, "deliveryStatus"), "processing");
    cJSON_Delete(h);
    cr_assert(has(&f, "delivery_parked", "twilio/SM-Y"));
    /* though its callbacks find it once it is recorded */
    r = deliver(&f, CALLBACK, "twilio", "SM-Y", "read");
    cr_assert(is_true(r, "changed"));
    cr_assert_str_eq(str(r, "message.direction"), "inbound");
    cJSON_Delete(r);
    fx_close(&f);
}

Test(conversation_delivery, a_host_hook_step_applies_parked_statuses_too)
{
    fixture f;
    host h;
    fx_open_host(&f, &h);
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM-X", "queued"));
    cJSON *r = step(&f, "SM-X", "outbound");
    cr_assert_eq(count(r, "events"), 3); /* created, message.created, the parked status */
    assert_event(r, 2, "pending", "queued");
    cJSON_Delete(r);
    /* the write-out of a committed message applies them when the step could
     * not: its reference and message records are lost after the commit */
    cJSON_Delete(deliver(&f, CALLBACK, "twilio", "SM-Z", "sent"));
    h.fail_ns = "message_ref";
    h.fail_ns_put = 1;
    r = step(&f, "SM-Z", "outbound");
    cr_assert_eq(event_index(r, "message.delivery_updated"), -1,
                 "not written out: nothing applied yet");
    char cid[64];
    snprintf(cid, sizeof(cid), "%s", str(r, "conversation.conversationId"));
    cJSON_Delete(r);
    h.fail_ns_put = 0;
    cr_assert(has(&f, "delivery_parked", "twilio/SM-Z"));
    /* the next step of the conversation writes it out */
    r = step(&f, "SM-IN", "inbound");
    cr_assert_eq(count(r, "events"), 2);
    assert_event(r, 0, "pending", "sent");
    cr_assert_str_eq(str(r, "events.1.detailType"), "message.created");
    cr_assert_eq(num(r, "messageState.sequenceNumber"), 3);
    cJSON_Delete(r);
    cJSON *item = history_item(&f, cid, 2);
    cr_assert_str_eq(str(item, "deliveryStatus"), "sent");
    cJSON_Delete(item);
    cr_assert(!has(&f, "delivery_parked", "twilio/SM-Z"));
    fx_close(&f);
}

/* ---- a fallback carrier: a new attempt ---------------------------------------------- */

Test(conversation_delivery, a_new_attempt_starts_over_and_earlier_ids_change_nothing)
{
    fixture f;
    fx_open(&f);
    char cid[64];
    int seq = (int)step_out(&f, "idem-1", cid, sizeof(cid));
    cJSON_Delete(deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "queued"));
    cJSON *r = deliver(&f, "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":"
                           "\"failed\",\"errorCode\":30003}");
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "failed");
    cJSON_Delete(r);
    /* resent through a fallback carrier */
    r = deliver(&f, ATTACH, cid, seq, "bandwidth", "BW1", "queued");
    cr_assert(is_true(r, "changed"));
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "queued");
    cr_assert_str_eq(str(r, "message.carrier"), "bandwidth");
    cr_assert_str_eq(str(r, "message.carrierMessageId"), "BW1");
    cr_assert_null(at(r, "message.errorCode"), "the failed attempt's reason is dropped");
    cr_assert_str_eq(str(r, "message.steppedMessageId"), "idem-1");
    cr_assert_eq(count(r, "message.carrierMessageIds"), 2);
    cr_assert_str_eq(str(r, "message.carrierMessageIds.0.carrier"), "twilio");
    cr_assert_str_eq(str(r, "message.carrierMessageIds.1.carrier"), "bandwidth");
    assert_event(r, 0, "failed", "queued");
    cJSON_Delete(r);
    /* the earlier attempt's callbacks change nothing now */
    r = deliver(&f, CALLBACK, "twilio", "SM1", "delivered");
    cr_assert(!is_true(r, "changed"));
    cr_assert(!is_true(r, "parked"));
    cr_assert_str_eq(str(r, "message.deliveryStatus"), "queued");
    cJSON_Delete(r);
    /* nor does attaching the earlier id again */
    r = deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "sent");
    cr_assert(!is_true(r, "changed"));
    cr_assert_str_eq(str(r, "message.carrierMessageId"), "BW1");
    cJSON_Delete(r);
    r = deliver(&f, CALLBACK, "bandwidth", "BW1", "delivered");
    cr_assert(is_true(r, "changed"));
    cJSON_Delete(r);
    /* the same carrier with another id is a new attempt too */
    r = deliver(&f, ATTACH, cid, seq, "bandwidth", "BW2", "sent");
    assert_event(r, 0, "delivered", "sent");
    cr_assert_eq(count(r, "message.carrierMessageIds"), 3);
    cJSON_Delete(r);
    /* by sequence number: always the current attempt */
    r = deliver(&f, "{\"conversationId\":\"%s\",\"sequenceNumber\":%d,\"status\":\"read\"}",
                cid, seq);
    cr_assert(is_true(r, "changed"));
    cJSON_Delete(r);
    /* at most 16 ids */
    for (int i = 3; i < 16; i++) {
        char id[16];
        snprintf(id, sizeof(id), "BX%d", i);
        cJSON_Delete(deliver(&f, ATTACH, cid, seq, "bandwidth", id, "queued"));
    }
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, seq, "bandwidth", "BX99", "queued"),
                 OMNI_ETOOLARGE);
    r = deliver(&f, ATTACH, cid, seq, "bandwidth", "BX15", "queued");
    cr_assert(!is_true(r, "changed"), "the current one again is fine");
    cr_assert_eq(count(r, "message.carrierMessageIds"), 16);
    cJSON_Delete(r);
    /* delete sweeps every reference */
    char *out = NULL;
    cr_assert_eq(omni_conversation_delete(&out, NULL, f.e, cid), OMNI_OK);
    omni_free(out);
    cr_assert_eq(omni_store_list_json(f.store, "message_ref", NULL, NULL, 100, f.now, &out,
                                      NULL),
                 OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[],\"next\":null}");
    omni_free(out);
    fx_close(&f);
}

/* ---- races, in exact interleavings ----------------------------------------------------- */

typedef struct racer {
    fixture *f;
    host *h;
    int role, start_phase;
    char update[512];
    int rc;
    cJSON *res;
} racer;

static void *race_run(void *arg)
{
    racer *r = arg;
    g_role = r->role;
    pthread_mutex_lock(&r->h->mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    while (r->h->phase < r->start_phase)
        if (pthread_cond_timedwait(&r->h->cv, &r->h->mu, &ts) == ETIMEDOUT) {
            r->h->timed_out = 1;
            break;
        }
    pthread_mutex_unlock(&r->h->mu);
    char *out = NULL;
    r->rc = omni_conversation_delivery(&out, NULL, r->f->e, r->update, strlen(r->update));
    r->res = out ? cJSON_Parse(out) : NULL;
    omni_free(out);
    return NULL;
}

enum { PARKER = 1, ATTACHER = 2 };

/* Steps an outbound message, then runs a "delivered" callback for SM1
 * (the parker) and the attach of SM1 with "queued" (the attacher) on two
 * threads, gated as `gates` says; returns both results. */
static void race(const gate *gates, size_t n, int attacher_start, cJSON **parker,
                 cJSON **attacher, fixture *f, host *h, char *cid, size_t cap)
{
    fx_open_host(f, h);
    int seq = (int)step_out(f, "idem-1", cid, cap);
    memcpy(h->gates, gates, n * sizeof(*gates));
    h->n_gates = n;
    racer p = {f, h, PARKER, 0, "", 0, NULL}, a = {f, h, ATTACHER, attacher_start, "", 0, NULL};
    snprintf(p.update, sizeof(p.update), CALLBACK, "twilio", "SM1", "delivered");
    snprintf(a.update, sizeof(a.update), ATTACH, cid, seq, "twilio", "SM1", "queued");
    pthread_t tp, ta;
    cr_assert_eq(pthread_create(&tp, NULL, race_run, &p), 0);
    cr_assert_eq(pthread_create(&ta, NULL, race_run, &a), 0);
    pthread_join(tp, NULL);
    pthread_join(ta, NULL);
    cr_assert(!h->timed_out, "the interleaving ran as scripted");
    cr_assert_eq(p.rc, OMNI_OK);
    cr_assert_eq(a.rc, OMNI_OK);
    *parker = p.res;
    *attacher = a.res;
    /* whoever applied it: delivered, once, and nothing left parked */
    cJSON *item = history_item(f, cid, seq);
    cr_assert_str_eq(str(item, "deliveryStatus"), "delivered");
    cJSON_Delete(item);
    cr_assert(!has(f, "delivery_parked", "twilio/SM1"));
    cr_assert_eq(count(*parker, "events") + count(*attacher, "events"), 2,
                 "each change has one event");
}

/* The parker parks; the attacher then runs whole and finds the parked
 * status; the parker's second look at the reference finds it applied. */
Test(conversation_delivery, race_the_attacher_applies_the_parked_status)
{
    const gate gates[] = {
        {PARKER, 'p', "delivery_parked", 1, 0, 1},
        {PARKER, 'g', "message_ref", 3, 2, 0},
        {ATTACHER, 'd', "delivery_parked", 1, 0, 2},
    };
    fixture f;
    host h;
    char cid[64];
    cJSON *p, *a;
    race(gates, 3, 1, &p, &a, &f, &h, cid, sizeof(cid));
    cr_assert_eq(count(a, "events"), 2);
    assert_event(a, 0, "pending", "queued");
    assert_event(a, 1, "queued", "delivered");
    cr_assert(!is_true(p, "parked"));
    cr_assert(!is_true(p, "changed"));
    cr_assert_str_eq(str(p, "message.deliveryStatus"), "delivered");
    cJSON_Delete(p);
    cJSON_Delete(a);
    fx_close(&f);
}

/* The parker misses the reference; the attacher writes it and finds
 * nothing parked yet; the parker parks, looks again, and applies. */
Test(conversation_delivery, race_the_parker_applies_its_own_status)
{
    const gate gates[] = {
        {PARKER, 'g', "message_ref", 2, 0, 1},
        {PARKER, 'g', "delivery_parked", 1, 2, 0},
        {ATTACHER, 'g', "delivery_parked", 1, 0, 2},
    };
    fixture f;
    host h;
    char cid[64];
    cJSON *p, *a;
    race(gates, 3, 1, &p, &a, &f, &h, cid, sizeof(cid));
    cr_assert_eq(count(a, "events"), 1);
    assert_event(a, 0, "pending", "queued");
    cr_assert_str_eq(str(a, "message.deliveryStatus"), "queued");
    cr_assert(!is_true(p, "parked"));
    cr_assert(is_true(p, "changed"));
    cr_assert_eq(count(p, "events"), 1);
    assert_event(p, 0, "queued", "delivered");
    cJSON_Delete(p);
    cJSON_Delete(a);
    fx_close(&f);
}

/* Both see each other: the attacher reads the parked status, then waits;
 * the parker applies it and deletes it; the attacher applies it again (no
 * change, no event) and finds it deleted. */
Test(conversation_delivery, race_both_apply_and_each_change_happens_once)
{
    const gate gates[] = {
        {PARKER, 'p', "delivery_parked", 1, 0, 1},
        {PARKER, 'g', "message_ref", 3, 2, 0},
        {ATTACHER, 'g', "delivery_parked", 1, 0, 2},
        {ATTACHER, 'g', "message", 2, 3, 0},
        {PARKER, 'd', "delivery_parked", 1, 0, 3},
    };
    fixture f;
    host h;
    char cid[64];
    cJSON *p, *a;
    race(gates, 5, 1, &p, &a, &f, &h, cid, sizeof(cid));
    cr_assert_eq(count(a, "events"), 1);
    assert_event(a, 0, "pending", "queued");
    cr_assert_eq(count(p, "events"), 1);
    assert_event(p, 0, "queued", "delivered");
    cr_assert(is_true(p, "changed"));
    cr_assert_str_eq(str(a, "message.deliveryStatus"), "delivered");
    cJSON_Delete(p);
    cJSON_Delete(a);
    fx_close(&f);
}

/* ---- errors ----------------------------------------------------------------------------- */

Test(conversation_delivery, errors_change_nothing)
{
    fixture f;
    fx_open(&f);
    char cid[64];
    cJSON_Delete(step(&f, "SM-IN", "inbound"));
    int in_seq = 1;
    cJSON_Delete(step(&f, "SM-IN2", "inbound"));
    int seq = (int)step_out(&f, "idem-1", cid, sizeof(cid));
    int seq2 = (int)step_out(&f, "idem-2", cid, sizeof(cid));
    cr_assert_eq(seq, 3);
    /* an attach to an inbound message */
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, in_seq, "twilio", "SM9", "queued"), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "outbound"));
    /* no such message or conversation */
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, 9, "twilio", "SM9", "queued"), OMNI_ENOTFOUND);
    cr_assert_eq(deliver_rc(&f, ATTACH, "no-such-conv", 1, "twilio", "SM9", "queued"),
                 OMNI_ENOTFOUND);
    cr_assert_eq(deliver_rc(&f, "{\"conversationId\":\"%s\",\"sequenceNumber\":9,"
                                "\"status\":\"sent\"}",
                            cid),
                 OMNI_ENOTFOUND, "by sequence number: not parked");
    /* an id that names another message */
    cJSON_Delete(deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "queued"));
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, seq2, "twilio", "SM1", "queued"), OMNI_EEXISTS);
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, seq2, "twilio", "idem-1", "queued"),
                 OMNI_EEXISTS, "a stepped id names its message too");
    cJSON *item = history_item(&f, cid, seq2);
    cr_assert_str_eq(str(item, "carrierMessageId"), "idem-2");
    cr_assert_str_eq(str(item, "deliveryStatus"), "pending");
    cr_assert_null(at(item, "carrierMessageIds"));
    cJSON_Delete(item);
    /* malformed updates */
    char long_id[300];
    memset(long_id, 'S', 257);
    long_id[257] = '\0';
    const char *bad_attach[] = {
        "\"carrierMessageId\":\"\"",
        "\"carrierMessageId\":5",
        "\"carrierMessageId\":\"SM\\u0001\"",
        "\"carrierMessageId\":\"SM\\u0000x\"",
        "\"carrierMessageId\":\"SM1\",\"carrier\":\"Twilio\"",
        "\"carrierMessageId\":\"SM1\",\"carrier\":\"a/b\"",
        "\"carrierMessageId\":\"SM1\",\"carrier\":\"\"",
        "\"carrierMessageId\":\"SM1\",\"carrier\":7",
        "\"carrierMessageId\":\"SM1\",\"carrier\":\"abcdefghijklmnopqrstuvwxyz0123456\"",
    };
    for (size_t i = 0; i < sizeof(bad_attach) / sizeof(bad_attach[0]); i++)
        cr_assert_eq(deliver_rc(&f,
                                "{\"conversationId\":\"%s\",\"sequenceNumber\":%d,%s,"
                                "\"status\":\"sent\"}",
                                cid, seq2, bad_attach[i]),
                     OMNI_EINVAL, "%s", bad_attach[i]);
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, seq2, "twilio", long_id, "sent"), OMNI_EINVAL);
    const char *bad[] = {
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\"}",
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":\"lost\"}",
        "{\"carrier\":\"twilio\",\"status\":\"sent\"}",
        "{\"carrierMessageId\":\"SM1\",\"status\":\"sent\"}",
        "{\"carrier\":\"Twilio\",\"carrierMessageId\":\"SM1\",\"status\":\"sent\"}",
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"\",\"status\":\"sent\"}",
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"a\\nb\",\"status\":\"sent\"}",
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":\"sent\","
        "\"timestamp\":\"later\"}",
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":\"failed\","
        "\"errorCode\":true}",
        "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":\"failed\","
        "\"errorMessage\":{}}",
        "{\"status\":\"sent\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(deliver_rc(&f, "%s", bad[i]), OMNI_EINVAL, "%s", bad[i]);
    cr_assert_eq(deliver_rc(&f, "%s", "{"), OMNI_EJSON);
    /* nothing was parked by a refused update */
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(f.store, "delivery_parked", NULL, NULL, 100, f.now, &out,
                                      NULL),
                 OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[],\"next\":null}");
    omni_free(out);
    /* too large */
    size_t big = 70 * 1024;
    char *doc = malloc(big + 128);
    cr_assert_not_null(doc);
    int n = snprintf(doc, big + 128, "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\","
                                     "\"status\":\"failed\",\"errorMessage\":\"");
    memset(doc + n, 'x', big);
    strcpy(doc + n + big, "\"}");
    out = (char *)1;
    cr_assert_eq(omni_conversation_delivery(&out, NULL, f.e, doc, strlen(doc)), OMNI_ETOOLARGE);
    cr_assert_null(out);
    free(doc);
    /* NULL arguments */
    const char *u = "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM1\",\"status\":\"sent\"}";
    cr_assert_eq(omni_conversation_delivery(NULL, NULL, f.e, u, strlen(u)), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_delivery(&out, NULL, NULL, u, strlen(u)), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_delivery(&out, NULL, f.e, NULL, 0), OMNI_EINVAL);
    /* the attached message is as it was */
    item = history_item(&f, cid, seq);
    cr_assert_str_eq(str(item, "carrierMessageId"), "SM1");
    cr_assert_str_eq(str(item, "deliveryStatus"), "queued");
    cJSON_Delete(item);
    fx_close(&f);
}

Test(conversation_delivery, storage_failures_and_foreign_records)
{
    fixture f;
    host h;
    fx_open_host(&f, &h);
    char cid[64];
    int seq = (int)step_out(&f, "idem-1", cid, sizeof(cid));
    /* parking fails: an error (retryable), nothing kept */
    h.fail_ns = "delivery_parked";
    h.fail_ns_put = 1;
    cr_assert_eq(deliver_rc(&f, CALLBACK, "twilio", "SM1", "sent"), OMNI_ESTORAGE);
    cr_assert(omni_error_last()->retryable);
    h.fail_ns_put = 0;
    cr_assert(!has(&f, "delivery_parked", "twilio/SM1"));
    /* the reference cannot be written: the attach fails; again, it completes */
    h.fail_ns = "message_ref";
    h.fail_ns_put = 1;
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, seq, "twilio", "SM1", "queued"), OMNI_ESTORAGE);
    h.fail_ns_put = 0;
    cr_assert(!has(&f, "message_ref", "out/twilio/SM1"));
    cJSON *r = deliver(&f, ATTACH, cid, seq, "twilio", "SM1", "queued");
    cr_assert(!is_true(r, "changed"), "the record took the id the first time");
    cJSON_Delete(r);
    cr_assert(has(&f, "message_ref", "out/twilio/SM1"));
    /* a parked record that libomni did not write */
    const char *junk = "{\"updates\":7}";
    cr_assert_eq(omni_store_put(h.inner, "delivery_parked", "twilio/SM5", junk, strlen(junk),
                                OMNI_STORE_CREATE, 0, f.now, NULL),
                 OMNI_OK);
    cr_assert_eq(deliver_rc(&f, CALLBACK, "twilio", "SM5", "sent"), OMNI_ESTORAGE);
    cr_assert(!omni_error_last()->retryable);
    const char *bad_status = "{\"updates\":[{\"status\":\"lost\",\"timestamp\":"
                             "\"2025-01-02T03:04:05Z\"}]}";
    cr_assert_eq(omni_store_put(h.inner, "delivery_parked", "twilio/SM6", bad_status,
                                strlen(bad_status), OMNI_STORE_CREATE, 0, f.now, NULL),
                 OMNI_OK);
    int seq2 = (int)step_out(&f, "idem-2", cid, sizeof(cid));
    cr_assert_eq(deliver_rc(&f, ATTACH, cid, seq2, "twilio", "SM6", "queued"), OMNI_ESTORAGE);
    fx_close(&f);
}
