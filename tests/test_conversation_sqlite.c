/* Conversations over one SQLite file shared by several processes (issue 5):
 * four processes interleave 2,000 inbound messages of 50 customers, every
 * message delivered twice, and each message is recorded exactly once with
 * dense sequence numbers and one agreed result; a writer killed with
 * SIGKILL at random points leaves an intact file, whole messages and dense
 * sequence numbers, and re-delivering its messages records none twice.
 * Each runs over the bundled store's table (which may write a step in one
 * transaction) and over a host hook forwarding to the same kind of store
 * (the commit-then-write-out protocol of conversation.h). */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "omni_config.h"

#if OMNI_HAVE_SQLITE

#include <sqlite3.h>

/* ---- shared helpers ------------------------------------------------------ */

/* splitmix64: the tests' deterministic randomness (fixed seeds). */
static uint64_t rnd_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A temporary directory holding the database and the children's files. */
static char g_dir[64];

static void dir_make(void)
{
    strcpy(g_dir, "/tmp/omni-convsql-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir), "mkdtemp: %s", strerror(errno));
}

static void dir_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

static void dir_remove(void)
{
    static const char *const names[] = {"db",    "db-wal", "db-shm", "db-journal",
                                        "out-0", "out-1",  "out-2",  "out-3"};
    char p[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        dir_path(p, sizeof(p), names[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

/* A host's own storage hook that forwards to a store: the engine then
 * sees a store that cannot write several records atomically and records
 * each message with the commit-then-write-out protocol of conversation.h
 * ("Exactly once"); handed the bundled store's own table instead, it may
 * write a step in one transaction. */
static int fwd_get(void *ctx, const char *ns, const char *key, int64_t now_ms, char **value,
                   size_t *value_len, uint64_t *version, int64_t *expires_at_ms)
{
    return omni_store_get(ctx, ns, key, now_ms, value, value_len, version, expires_at_ms);
}

static int fwd_put(void *ctx, const char *ns, const char *key, const char *value,
                   size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                   int64_t now_ms, uint64_t *new_version)
{
    return omni_store_put(ctx, ns, key, value, value_len, expected_version, expires_at_ms, now_ms,
                          new_version);
}

static int fwd_del(void *ctx, const char *ns, const char *key, uint64_t expected_version,
                   int64_t now_ms)
{
    return omni_store_delete(ctx, ns, key, expected_version, now_ms);
}

static int fwd_list(void *ctx, const char *ns, const char *prefix, const char *after_key,
                    size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                    char **next_key)
{
    return omni_store_list(ctx, ns, prefix, after_key, limit, now_ms, cb, cb_ctx, next_key);
}

/* An engine over its own "sqlite:PATH" store, handed over as the bundled
 * backend's table or (host) through the forwarding hook above. No asserts:
 * children use it. */
typedef struct db {
    omni_store *store;
    omni_engine *engine;
} db;

static int db_open(db *d, int host)
{
    char path[128], uri[160];
    dir_path(path, sizeof(path), "db");
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    d->store = NULL;
    d->engine = NULL;
    int rc = omni_store_open(&d->store, uri);
    if (rc)
        return rc;
    omni_storage_hook hook;
    if (host) {
        rc = omni_storage_hook_init(&hook, OMNI_STORAGE_HOOK_VERSION);
        hook.ctx = d->store;
        hook.get = fwd_get;
        hook.put = fwd_put;
        hook.del = fwd_del;
        hook.list = fwd_list;
    } else {
        rc = omni_store_get_hook(d->store, &hook);
    }
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.storage = &hook;
    if (!rc)
        rc = omni_engine_new(&d->engine, NULL, 0, &hooks);
    if (rc) {
        omni_store_free(d->store);
        d->store = NULL;
    }
    return rc;
}

static void db_open_ok(db *d, int host)
{
    int rc = db_open(d, host);
    cr_assert_eq(rc, OMNI_OK, "open: %s", omni_error_last_message());
}

static void db_close(db *d)
{
    omni_engine_free(d->engine);
    omni_store_free(d->store);
    d->engine = NULL;
    d->store = NULL;
}

/* An IdentityLookupResult of an inbound Twilio SMS. */
static size_t make_event(char *buf, size_t cap, const char *customer, const char *carrier_id)
{
    int n = snprintf(buf, cap,
                     "{\"correlationId\":\"corr-%s\",\"identity\":{\"customerId\":\"%s\"},"
                     "\"routing\":{\"accountId\":\"acct-1\"},"
                     "\"enrichedMessage\":{\"id\":\"%s\",\"carrier\":\"twilio\","
                     "\"channelType\":\"sms\",\"content\":\"message %s\","
                     "\"contentType\":\"text\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}}",
                     carrier_id, customer, carrier_id, carrier_id);
    return (size_t)n;
}

/* Steps an event, retrying retryable CONFLICT / DATABASE_ERROR failures a
 * bounded number of times; *retries counts them. */
#define STEP_TRIES 200

static int step_retry(omni_engine *e, const char *event, size_t len, char **out, size_t *out_len,
                      long *retries)
{
    for (int i = 0;; i++) {
        int rc = omni_conversation_step(out, out_len, e, event, len, NULL, 0);
        if (rc == OMNI_OK)
            return rc;
        if (!((rc == OMNI_ECONFLICT || rc == OMNI_ESTORAGE) && omni_error_last_retryable()) ||
            i + 1 >= STEP_TRIES)
            return rc;
        if (retries)
            (*retries)++;
        struct timespec ts = {0, 200000L * (1 + i % 5)};
        nanosleep(&ts, NULL);
    }
}

/* The members of a step result that two deliveries must agree on. */
typedef struct result {
    int have;
    int duplicate;
    long long seq;
    char conv[64];
    char mid[64];
} result;

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jint(const cJSON *o, const char *name, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return 0;
    *out = (long long)v->valuedouble;
    return 1;
}

static int parse_result(const char *json, size_t len, result *r)
{
    memset(r, 0, sizeof(*r));
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return 0;
    const cJSON *dup = cJSON_GetObjectItemCaseSensitive(root, "duplicate");
    const cJSON *conv = cJSON_GetObjectItemCaseSensitive(root, "conversation");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "messageState");
    const char *cid = jstr(conv, "conversationId"), *mid = jstr(ms, "messageId");
    int ok = cJSON_IsBool(dup) && cid && mid && jint(ms, "sequenceNumber", &r->seq) &&
             strlen(cid) < sizeof(r->conv) && strlen(mid) < sizeof(r->mid);
    if (ok) {
        r->have = 1;
        r->duplicate = cJSON_IsTrue(dup);
        strcpy(r->conv, cid);
        strcpy(r->mid, mid);
    }
    cJSON_Delete(root);
    return ok;
}

static cJSON *parse_ok(char *text, size_t len, const char *what)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    cr_assert_not_null(root, "%s: not JSON: %s", what, text);
    omni_free(text);
    return root;
}

/* A customer's conversations (all on one page). */
static cJSON *list_of(omni_engine *e, const char *customer)
{
    char *out = NULL;
    size_t len = 0;
    static const char q[] = "{\"limit\":1000}";
    int rc = omni_conversation_list(&out, &len, e, customer, q, sizeof(q) - 1);
    cr_assert_eq(rc, OMNI_OK, "list %s: %s", customer, omni_error_last_message());
    cJSON *root = parse_ok(out, len, "list");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "next")), "one page");
    return root;
}

/* Every message record of a conversation, following the cursors. */
static cJSON *history_all(omni_engine *e, const char *conv_id)
{
    cJSON *all = cJSON_CreateArray();
    char cursor[256] = "";
    for (int pages = 0;; pages++) {
        cr_assert_lt(pages, 10000, "history never ends");
        char q[400];
        if (cursor[0])
            snprintf(q, sizeof(q), "{\"limit\":1000,\"cursor\":\"%s\"}", cursor);
        else
            snprintf(q, sizeof(q), "{\"limit\":1000}");
        char *out = NULL;
        size_t len = 0;
        int rc = omni_conversation_history(&out, &len, e, conv_id, q, strlen(q));
        cr_assert_eq(rc, OMNI_OK, "history %s: %s", conv_id, omni_error_last_message());
        cJSON *root = parse_ok(out, len, "history");
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
        cr_assert(cJSON_IsArray(items));
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            cJSON_AddItemToArray(all, cJSON_Duplicate(it, 1));
        }
        const char *next = jstr(root, "next");
        if (!next) {
            cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "next")));
            cJSON_Delete(root);
            return all;
        }
        cr_assert_lt(strlen(next), sizeof(cursor));
        strcpy(cursor, next);
        cJSON_Delete(root);
    }
}

/* 1 when the record exists, 0 when not (any other outcome fails). */
static int record_exists(omni_store *s, const char *ns, const char *key)
{
    char *v = NULL;
    int rc = omni_store_get(s, ns, key, omni_engine_now_ms(NULL), &v, NULL, NULL, NULL);
    omni_free(v);
    cr_assert(rc == OMNI_OK || rc == OMNI_ENOTFOUND, "get %s %s: %s", ns, key,
              omni_error_last_message());
    return rc == OMNI_OK;
}

static int count_cb(void *ctx, const char *key, size_t key_len, const char *value, size_t len,
                    uint64_t version, int64_t expires_at_ms)
{
    (void)key, (void)key_len, (void)value, (void)len, (void)version, (void)expires_at_ms;
    (*(long *)ctx)++;
    return 0;
}

/* The number of records of ns under prefix. */
static long count_records(omni_store *s, const char *ns, const char *prefix)
{
    long n = 0;
    char after[300] = "";
    for (;;) {
        char *next = NULL;
        int rc = omni_store_list(s, ns, prefix, after[0] ? after : NULL, 1000,
                                 omni_engine_now_ms(NULL), count_cb, &n, &next);
        cr_assert_eq(rc, OMNI_OK, "list %s: %s", ns, omni_error_last_message());
        if (!next)
            return n;
        snprintf(after, sizeof(after), "%s", next);
        omni_free(next);
    }
}

/* A message record is whole: every member of the documented record, the
 * enrichedMessage as stepped, at the expected position. */
static void check_record(const cJSON *it, const char *conv_id, long long want_seq)
{
    long long seq = 0;
    cr_assert(jint(it, "sequenceNumber", &seq), "sequenceNumber");
    cr_assert_eq(seq, want_seq, "conversation %s: sequence %lld at position %lld", conv_id, seq,
                 want_seq);
    const char *mid = jstr(it, "messageId"), *cmid = jstr(it, "carrierMessageId");
    cr_assert(mid && mid[0], "messageId");
    cr_assert(cmid && cmid[0], "carrierMessageId");
    cr_assert_str_eq(jstr(it, "conversationId"), conv_id);
    cr_assert_str_eq(jstr(it, "direction"), "inbound");
    cr_assert_str_eq(jstr(it, "carrier"), "twilio");
    cr_assert_str_eq(jstr(it, "contentType"), "text");
    cr_assert_str_eq(jstr(it, "deliveryStatus"), "processing");
    cr_assert(jstr(it, "createdAt") && jstr(it, "updatedAt"));
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(it, "message");
    cr_assert(cJSON_IsObject(msg), "the enrichedMessage is recorded");
    cr_assert_str_eq(jstr(msg, "id"), cmid);
    char content[128];
    snprintf(content, sizeof(content), "message %s", cmid);
    cr_assert_str_eq(jstr(msg, "content"), content);
    char corr[128];
    snprintf(corr, sizeof(corr), "corr-%s", cmid);
    cr_assert_str_eq(jstr(it, "correlationId"), corr);
}

/* ---- 4 processes, 2,000 messages, each delivered twice -------------------- */

#define T1_CUSTOMERS 50
#define T1_PER 40
#define T1_MSGS (T1_CUSTOMERS * T1_PER)
#define T1_DELIVERIES (2 * T1_MSGS)
#define T1_PROCS 4

static void t1_names(int msg, char *customer, char *carrier_id)
{
    sprintf(customer, "cust-%02d", msg / T1_PER);
    sprintf(carrier_id, "SM%02d%04dx", msg / T1_PER, msg % T1_PER);
}

/* Child: steps its share of the deliveries, writing one line per delivery
 * ("msg dup seq conversationId messageId") to out-<i>. Exit 0 on success. */
static void t1_child(int me, int host, const int *deliveries, int ready_fd, int go_fd)
{
    db d;
    char path[128], name[16];
    snprintf(name, sizeof(name), "out-%d", me);
    dir_path(path, sizeof(path), name);
    FILE *f = NULL;
    int rc = db_open(&d, host);
    if (rc)
        fprintf(stderr, "child %d: open: %s\n", me, omni_error_last_message());
    else if (!(f = fopen(path, "w")))
        rc = 1;
    /* one byte each, also on failure (the parent counts them) */
    char c = rc ? 'f' : 'r', ev[1024], customer[32], cid[32];
    if (write(ready_fd, &c, 1) != 1 || rc)
        _exit(2);
    if (read(go_fd, &c, 1) != 0)
        _exit(2); /* start together: the parent closes the pipe */
    long retries = 0;
    for (int k = me; k < T1_DELIVERIES; k += T1_PROCS) {
        int msg = deliveries[k];
        t1_names(msg, customer, cid);
        size_t len = make_event(ev, sizeof(ev), customer, cid);
        char *out = NULL;
        size_t out_len = 0;
        rc = step_retry(d.engine, ev, len, &out, &out_len, &retries);
        if (rc) {
            fprintf(stderr, "child %d: step %s: %s (%s)\n", me, cid, omni_status_code(rc),
                    omni_error_last_message());
            _exit(3);
        }
        result r;
        if (!parse_result(out, out_len, &r)) {
            fprintf(stderr, "child %d: bad result %s\n", me, out);
            _exit(4);
        }
        omni_free(out);
        fprintf(f, "%d %d %lld %s %s\n", msg, r.duplicate, r.seq, r.conv, r.mid);
    }
    fprintf(f, "retries %ld\n", retries);
    if (fclose(f))
        _exit(2);
    db_close(&d);
    _exit(0);
}

static void four_processes(int host)
{
    dir_make();
    /* The workload: the messages in a shuffled order, each followed closely
     * by its second delivery (a local shuffle within a few places), dealt
     * round-robin so the two deliveries mostly run in two processes at
     * about the same time. */
    uint64_t seed = 20260101;
    int order[T1_MSGS], deliveries[T1_DELIVERIES];
    for (int i = 0; i < T1_MSGS; i++)
        order[i] = i;
    for (int i = T1_MSGS - 1; i > 0; i--) {
        int j = (int)(rnd_next(&seed) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < T1_MSGS; i++)
        deliveries[2 * i] = deliveries[2 * i + 1] = order[i];
    for (int k = 0; k < T1_DELIVERIES; k++) {
        int j = k + (int)(rnd_next(&seed) % 6);
        if (j < T1_DELIVERIES) {
            int t = deliveries[k];
            deliveries[k] = deliveries[j];
            deliveries[j] = t;
        }
    }
    int split = 0, first_pos[T1_MSGS];
    for (int i = 0; i < T1_MSGS; i++)
        first_pos[i] = -1;
    long gap = 0;
    for (int k = 0; k < T1_DELIVERIES; k++) {
        int m = deliveries[k];
        if (first_pos[m] < 0) {
            first_pos[m] = k;
        } else {
            split += (first_pos[m] % T1_PROCS) != (k % T1_PROCS);
            gap += k - first_pos[m];
        }
    }

    /* The file is created (and switched to WAL) before the children open
     * it: several processes opening a brand-new file at once is the
     * storage backend's concern, not this test's. No handle crosses fork. */
    db init;
    db_open_ok(&init, host);
    db_close(&init);

    int ready[2], go[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(go), 0);
    pid_t pids[T1_PROCS];
    for (int i = 0; i < T1_PROCS; i++) {
        pids[i] = fork();
        cr_assert_geq(pids[i], 0, "fork: %s", strerror(errno));
        if (pids[i] == 0) {
            close(go[1]);
            close(ready[0]);
            t1_child(i, host, deliveries, ready[1], go[0]);
        }
    }
    close(ready[1]);
    close(go[0]);
    for (int i = 0; i < T1_PROCS; i++) {
        char c;
        if (read(ready[0], &c, 1) != 1 || c != 'r')
            break; /* a child failed to start: its exit status says why */
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    close(go[1]);
    for (int i = 0; i < T1_PROCS; i++) {
        int st = 0;
        cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed (status %d)", i, st);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(ready[0]);

    /* The children's results: both deliveries of a message agree, exactly
     * one of them is not a duplicate. */
    static result res[T1_MSGS][2];
    memset(res, 0, sizeof(res));
    long retries = 0;
    for (int i = 0; i < T1_PROCS; i++) {
        char path[128], name[16], line[256];
        snprintf(name, sizeof(name), "out-%d", i);
        dir_path(path, sizeof(path), name);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        int lines = 0;
        while (fgets(line, sizeof(line), f)) {
            long r = 0;
            if (sscanf(line, "retries %ld", &r) == 1) {
                retries += r;
                continue;
            }
            result x;
            int msg = -1;
            memset(&x, 0, sizeof(x));
            cr_assert_eq(sscanf(line, "%d %d %lld %63s %63s", &msg, &x.duplicate, &x.seq, x.conv,
                                x.mid),
                         5, "bad line %s", line);
            cr_assert(msg >= 0 && msg < T1_MSGS);
            x.have = 1;
            result *slot = res[msg][0].have ? &res[msg][1] : &res[msg][0];
            cr_assert_not(slot->have, "message %d answered three times", msg);
            *slot = x;
            lines++;
        }
        fclose(f);
        cr_assert_eq(lines, T1_DELIVERIES / T1_PROCS, "child %d wrote %d results", i, lines);
    }
    for (int m = 0; m < T1_MSGS; m++) {
        result *a = &res[m][0], *b = &res[m][1];
        cr_assert(a->have && b->have, "message %d: two results", m);
        cr_assert_str_eq(a->conv, b->conv, "message %d: conversationId differs", m);
        cr_assert_eq(a->seq, b->seq, "message %d: sequenceNumber %lld vs %lld", m, a->seq, b->seq);
        cr_assert_str_eq(a->mid, b->mid, "message %d: messageId differs", m);
        cr_assert_eq(a->duplicate + b->duplicate, 1,
                     "message %d: exactly one delivery is the first (duplicate %d and %d)", m,
                     a->duplicate, b->duplicate);
    }

    /* The file: one conversation per customer, 40 messages numbered 1..40,
     * each carrier id once, matching what the children were told. */
    db d;
    db_open_ok(&d, host);
    static char seen[T1_MSGS];
    memset(seen, 0, sizeof(seen));
    long total = 0;
    for (int c = 0; c < T1_CUSTOMERS; c++) {
        char customer[32], cid[32];
        t1_names(c * T1_PER, customer, cid);
        cJSON *list = list_of(d.engine, customer);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
        cr_assert_eq(cJSON_GetArraySize(items), 1, "%s has %d conversations", customer,
                     cJSON_GetArraySize(items));
        const cJSON *conv = cJSON_GetArrayItem(items, 0);
        const char *conv_id = jstr(conv, "conversationId");
        cr_assert_not_null(conv_id);
        cr_assert_str_eq(jstr(conv, "customerId"), customer);
        cr_assert_str_eq(jstr(conv, "status"), "active");
        long long count = 0;
        cr_assert(jint(cJSON_GetObjectItemCaseSensitive(conv, "metadata"), "messageCount",
                       &count));
        cr_assert_eq(count, T1_PER, "%s: messageCount %lld", customer, count);
        char *doc = NULL;
        cr_assert_eq(omni_conversation_get(&doc, NULL, d.engine, conv_id), OMNI_OK,
                     "the id index finds %s: %s", conv_id, omni_error_last_message());
        omni_free(doc);

        cJSON *hist = history_all(d.engine, conv_id);
        cr_assert_eq(cJSON_GetArraySize(hist), T1_PER, "%s: %d messages in history", customer,
                     cJSON_GetArraySize(hist));
        long long pos = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, hist)
        {
            check_record(it, conv_id, ++pos);
            const char *cmid = jstr(it, "carrierMessageId");
            int cc = -1, k = -1;
            char x = 0;
            cr_assert_eq(sscanf(cmid, "SM%2d%4d%c", &cc, &k, &x), 3, "carrier id %s", cmid);
            cr_assert_eq(cc, c, "%s holds a message of customer %d", customer, cc);
            int m = cc * T1_PER + k;
            cr_assert_not(seen[m], "%s recorded twice", cmid);
            seen[m] = 1;
            total++;
            cr_assert_str_eq(res[m][0].conv, conv_id, "%s: result's conversationId", cmid);
            cr_assert_eq(res[m][0].seq, pos, "%s: result's sequenceNumber", cmid);
            cr_assert_str_eq(res[m][0].mid, jstr(it, "messageId"), "%s: result's messageId",
                             cmid);
        }
        cJSON_Delete(hist);
        cJSON_Delete(list);
    }
    cr_assert_eq(total, T1_MSGS);
    long written = count_records(d.store, "message", NULL);
    long refs = count_records(d.store, "message_ref", NULL);
    long index = count_records(d.store, "conversation_id", NULL);
    long convs = count_records(d.store, "conversation", NULL);
    cr_assert_eq(convs, T1_CUSTOMERS);
    cr_assert_leq(written, T1_MSGS);
    cr_assert_leq(refs, T1_MSGS);
    cr_log_info("four processes (%s): %d deliveries in %.2f s, %ld retried calls; %d of %d "
                "messages had their two deliveries in two processes (mean distance %.1f places); "
                "store: %ld conversations, %ld id index entries, %ld message records, "
                "%ld references",
                host ? "host hook" : "bundled store", T1_DELIVERIES,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, retries,
                split, T1_MSGS, (double)gap / T1_MSGS, convs, index, written, refs);
    db_close(&d);
    dir_remove();
}

Test(conversation_sqlite, four_processes_every_message_twice, .timeout = 50)
{
    four_processes(0);
}

Test(conversation_sqlite, four_processes_every_message_twice_host_hook, .timeout = 50)
{
    four_processes(1);
}

/* ---- a writer killed at random points ------------------------------------ */

#define T2_ROUNDS 30
#define T2_STREAM 5000 /* more than a child gets through before it is killed */
#define T2_PERSIST 4   /* customers p0..p3 in every round, n<round> new each round */
#define T2_FANOUT (T2_PERSIST + 1)

static void t2_customer(int round, int i, char *out)
{
    if (i % T2_FANOUT < T2_PERSIST)
        sprintf(out, "p%d", i % T2_FANOUT);
    else
        sprintf(out, "n%02d", round);
}

static void t2_carrier_id(int round, int i, char *out)
{
    sprintf(out, "r%02d-%05d", round, i);
}

static void t2_child(int round, int host, int ready_fd)
{
    db d;
    if (db_open(&d, host)) {
        fprintf(stderr, "round %d: child open: %s\n", round, omni_error_last_message());
        _exit(2);
    }
    /* Odd rounds: the clock starts after the first step (a new WAL's first
     * commit syncs and takes long, so early kills mostly land there). */
    char c = 'r';
    if (round % 2 == 0 && write(ready_fd, &c, 1) != 1)
        _exit(2);
    char ev[1024], customer[32], cid[32];
    for (int i = 0; i < T2_STREAM; i++) {
        if (i == 1 && round % 2 == 1 && write(ready_fd, &c, 1) != 1)
            _exit(2);
        t2_customer(round, i, customer);
        t2_carrier_id(round, i, cid);
        size_t len = make_event(ev, sizeof(ev), customer, cid);
        char *out = NULL;
        int rc = step_retry(d.engine, ev, len, &out, NULL, NULL);
        omni_free(out);
        if (rc) {
            fprintf(stderr, "round %d: step %s: %s\n", round, cid, omni_error_last_message());
            _exit(3);
        }
    }
    db_close(&d);
    _exit(0);
}

/* What the file holds of the messages of the current round. */
typedef struct t2_msg {
    int recorded;
    long long seq;
    char conv[64];
    char mid[64];
} t2_msg;

typedef struct t2_state {
    int round;
    int last[T2_ROUNDS];  /* per finished round: the highest index recorded */
    int max_index;        /* current round: the highest index recorded (-1: none) */
    int recorded;         /* current round: messages recorded */
    int pending_current;  /* conversations whose latest message (of this round) is not
                             written out */
    int pending_with_ref; /* ... of those, with the reference written already */
    t2_msg *cur;          /* [T2_STREAM] */
} t2_state;

static int sqlite_integrity_cb(void *ctx, int n, char **vals, char **names)
{
    (void)names;
    char *buf = ctx;
    if (n > 0 && vals[0] && !buf[0])
        snprintf(buf, 256, "%s", vals[0]);
    else if (n > 0 && vals[0])
        strcat(buf, "+more"); /* more than one line: not "ok" */
    return 0;
}

static void integrity_check(void)
{
    char path[128], msg[512] = "";
    dir_path(path, sizeof(path), "db");
    sqlite3 *raw = NULL;
    cr_assert_eq(sqlite3_open_v2(path, &raw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    char *err = NULL;
    int rc = sqlite3_exec(raw, "PRAGMA integrity_check", sqlite_integrity_cb, msg, &err);
    cr_assert_eq(rc, SQLITE_OK, "integrity_check: %s", err ? err : "?");
    cr_assert_str_eq(msg, "ok", "integrity_check: %s", msg);
    sqlite3_free(err);
    cr_assert_eq(sqlite3_close(raw), SQLITE_OK);
}

/* Checks every conversation: dense sequence numbers 1..messageCount, whole
 * records, no carrier id twice, only the latest message possibly not written
 * out, the recorded messages of each round a prefix of its stream. Fills
 * st->cur and the counters for the current round. */
static void t2_verify(db *d, t2_state *st)
{
    static unsigned char seen[T2_ROUNDS][T2_STREAM];
    memset(seen, 0, sizeof(seen));
    memset(st->cur, 0, sizeof(t2_msg) * T2_STREAM);
    st->max_index = -1;
    st->recorded = 0;
    st->pending_current = st->pending_with_ref = 0;
    int max_seen[T2_ROUNDS];
    for (int r = 0; r < T2_ROUNDS; r++)
        max_seen[r] = -1;
    long total = 0;
    for (int cust = 0; cust < T2_PERSIST + st->round + 1; cust++) {
        char customer[16];
        if (cust < T2_PERSIST)
            sprintf(customer, "p%d", cust);
        else
            sprintf(customer, "n%02d", cust - T2_PERSIST);
        cJSON *list = list_of(d->engine, customer);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
        cr_assert_leq(cJSON_GetArraySize(items), 1, "%s has %d conversations", customer,
                      cJSON_GetArraySize(items));
        const cJSON *conv = cJSON_GetArrayItem(items, 0);
        if (!conv) {
            cJSON_Delete(list);
            continue;
        }
        const char *conv_id = jstr(conv, "conversationId");
        cr_assert_not_null(conv_id);
        long long count = 0;
        cr_assert(jint(cJSON_GetObjectItemCaseSensitive(conv, "metadata"), "messageCount",
                       &count));
        cr_assert_geq(count, 1);
        cJSON *hist = history_all(d->engine, conv_id);
        cr_assert_eq(cJSON_GetArraySize(hist), count,
                     "round %d, %s: messageCount %lld but %d messages in history", st->round,
                     customer, count, cJSON_GetArraySize(hist));
        long long pos = 0;
        int last_round = -1, last_index = -1;
        const cJSON *it;
        cJSON_ArrayForEach(it, hist)
        {
            check_record(it, conv_id, ++pos);
            const char *cmid = jstr(it, "carrierMessageId");
            int r = -1, i = -1;
            cr_assert_eq(sscanf(cmid, "r%2d-%5d", &r, &i), 2, "carrier id %s", cmid);
            cr_assert(r >= 0 && r <= st->round && i >= 0 && i < T2_STREAM, "%s", cmid);
            char want[16];
            t2_customer(r, i, want);
            cr_assert_str_eq(want, customer, "%s in the conversation of %s", cmid, customer);
            cr_assert_not(seen[r][i], "round %d: %s recorded twice", st->round, cmid);
            seen[r][i] = 1;
            if (i > max_seen[r])
                max_seen[r] = i;
            total++;
            if (r == st->round) {
                t2_msg *m = &st->cur[i];
                m->recorded = 1;
                m->seq = pos;
                snprintf(m->conv, sizeof(m->conv), "%s", conv_id);
                snprintf(m->mid, sizeof(m->mid), "%s", jstr(it, "messageId"));
                st->recorded++;
            }
            last_round = r;
            last_index = i;
        }
        /* Only the latest message may be waiting to be written out. */
        char prefix[80], key[96];
        snprintf(prefix, sizeof(prefix), "%s/", conv_id);
        long written = count_records(d->store, "message", prefix);
        snprintf(key, sizeof(key), "%s/%012lld", conv_id, count);
        int last_written = record_exists(d->store, "message", key);
        cr_assert_eq(written, last_written ? count : count - 1,
                     "round %d, %s: %ld of %lld messages written out (latest %s)", st->round,
                     customer, written, count, last_written ? "written" : "pending");
        if (!last_written) {
            char ref[96], cmid[32];
            t2_carrier_id(last_round, last_index, cmid);
            snprintf(ref, sizeof(ref), "in/twilio/%s", cmid);
            if (last_round == st->round) {
                st->pending_current++;
                st->pending_with_ref += record_exists(d->store, "message_ref", ref);
            }
        }
        cJSON_Delete(hist);
        cJSON_Delete(list);
    }
    /* Every round's recorded messages are a prefix of its stream (the
     * writer steps them in order); finished rounds are unchanged. */
    for (int r = 0; r <= st->round; r++) {
        for (int i = 0; i <= max_seen[r]; i++)
            cr_assert(seen[r][i], "round %d: r%02d-%05d lost although r%02d-%05d is recorded",
                      st->round, r, i, r, max_seen[r]);
        if (r < st->round)
            cr_assert_eq(max_seen[r], st->last[r], "round %d: round %d changed", st->round, r);
    }
    st->max_index = max_seen[st->round];
    cr_assert_eq(st->recorded, st->max_index + 1);
    long distinct = 0;
    for (int r = 0; r <= st->round; r++)
        distinct += max_seen[r] + 1;
    cr_assert_eq(total, distinct, "round %d: %ld messages recorded, %ld carrier ids", st->round,
                 total, distinct);
}

static void killed_writer(int host)
{
    dir_make();
    uint64_t seed = 5;
    t2_state st;
    memset(&st, 0, sizeof(st));
    st.cur = calloc(T2_STREAM, sizeof(t2_msg));
    cr_assert_not_null(st.cur);
    int rounds_pending = 0, rounds_pending_ref = 0, rounds_nothing = 0, finished = 0;
    long redelivered = 0, steps_by_children = 0;
    char ev[1024], customer[32], cid[32];
    for (int round = 0; round < T2_ROUNDS; round++) {
        st.round = round;
        int ready[2];
        cr_assert_eq(pipe(ready), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
        if (pid == 0) {
            close(ready[0]);
            t2_child(round, host, ready[1]);
        }
        close(ready[1]);
        char c;
        ssize_t got = read(ready[0], &c, 1);
        close(ready[0]);
        if (got == 1) {
            long us = 1000 + (long)(rnd_next(&seed) % 29001); /* 1..30 ms */
            struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
        }
        int status = 0;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) {
            cr_assert_eq(WEXITSTATUS(status), 0, "round %d: the writer failed (exit %d)", round,
                         WEXITSTATUS(status));
            finished++;
        } else {
            cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "round %d: the writer died of %d", round, status);
        }

        /* The file as the killed writer left it. */
        integrity_check();
        db d;
        db_open_ok(&d, host);
        t2_verify(&d, &st);
        steps_by_children += st.recorded;
        rounds_pending += st.pending_current > 0;
        rounds_pending_ref += st.pending_with_ref > 0;
        rounds_nothing += st.recorded == 0;
        cr_assert_leq(st.pending_current, 1, "a single writer leaves at most one pending");

        /* Deliver again everything the writer may have been working on:
         * the recorded messages are duplicates with their first result, the
         * next one (maybe half done) is recorded now, once. */
        int upto = st.max_index + 1 < T2_STREAM ? st.max_index + 1 : T2_STREAM - 1;
        for (int i = 0; i <= upto; i++) {
            t2_customer(round, i, customer);
            t2_carrier_id(round, i, cid);
            size_t len = make_event(ev, sizeof(ev), customer, cid);
            char *out = NULL;
            size_t out_len = 0;
            int rc = step_retry(d.engine, ev, len, &out, &out_len, NULL);
            cr_assert_eq(rc, OMNI_OK, "round %d: redeliver %s: %s", round, cid,
                         omni_error_last_message());
            result r;
            cr_assert(parse_result(out, out_len, &r), "result %s", out);
            omni_free(out);
            redelivered++;
            t2_msg *m = &st.cur[i];
            cr_assert_eq(r.duplicate, m->recorded, "round %d: %s duplicate %d, recorded %d",
                         round, cid, r.duplicate, m->recorded);
            if (m->recorded) {
                cr_assert_str_eq(r.conv, m->conv, "%s: conversation", cid);
                cr_assert_eq(r.seq, m->seq, "%s: sequence number", cid);
                cr_assert_str_eq(r.mid, m->mid, "%s: messageId", cid);
            }
        }
        int before = st.max_index;
        t2_verify(&d, &st);
        cr_assert_eq(st.max_index, upto, "round %d: after redelivery %d recorded (was %d)",
                     round, st.max_index + 1, before + 1);
        st.last[round] = st.max_index;
        db_close(&d);
    }
    integrity_check();
    free(st.cur);
    cr_log_info("killed writer (%s): %d rounds (%d finished unkilled, %d killed before recording "
                "anything), %ld messages recorded by the writers, %ld redelivered; killed "
                "after the commit and before the message record in %d rounds (%d of them "
                "after the reference was written)",
                host ? "host hook" : "bundled store", T2_ROUNDS, finished, rounds_nothing,
                steps_by_children, redelivered, rounds_pending, rounds_pending_ref);
    /* Through the host hook a message is committed before it is written
     * out: some kills must land in between (the bundled store may write a
     * step in one transaction, leaving nothing in between). */
    if (host)
        cr_expect_gt(rounds_pending, 0, "no kill landed between the commit and the message "
                                        "record");
    dir_remove();
}

Test(conversation_sqlite, writer_killed_at_random_points, .timeout = 50)
{
    killed_writer(0);
}

Test(conversation_sqlite, writer_killed_at_random_points_host_hook, .timeout = 50)
{
    killed_writer(1);
}

#else /* !OMNI_HAVE_SQLITE */

Test(conversation_sqlite, not_built)
{
    omni_store *s = (omni_store *)1;
    cr_assert_eq(omni_store_open(&s, "sqlite:/tmp/omni-test.db"), OMNI_EUNSUPPORTED);
    cr_assert_null(s);
}

#endif
