/* Conversation benchmarks (issue 5): omni_conversation_step of new inbound
 * messages spread over 1,000 customers' conversations, with the in-memory
 * store (goal: 300,000 per second on one core) and with an SQLite file in
 * WAL mode with synchronous=NORMAL (goal: 10,000 per second); a redelivered
 * message; and the bytes of storage per conversation and per message.
 *
 * Peers, run in the same invocation:
 * - memory: the store operations any exactly-once step needs at least (read
 *   the conversation, look the message up, write the conversation, the
 *   message and its reference), with records of the same sizes and no
 *   conversation logic: how close the step gets to its storage floor;
 * - SQLite: a hand-written recorder on the raw sqlite3 API (prepared
 *   statements, one transaction per message: read the counter, bump it,
 *   insert the message and its dedupe key), the least an application
 *   writing straight to SQLite would do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include <omni/omni.h>

#include "bench.h"
#include "lib/storage/store_internal.h"

#define CUSTOMERS 1000

/* An IdentityLookupResult as the identity lookup writes it (~620 bytes);
 * the customer number and message id are patched in place. */
static const char event_template[] =
    "{\"success\":true,\"correlationId\":\"5f0c9a52-7a3e-5d0b-9c1e-2b7f4a1d8e63\","
    "\"identity\":{\"customerId\":\"cust-0000\",\"customerType\":\"known\","
    "\"profile\":{\"firstName\":\"Ada\",\"lastName\":\"Lovelace\"},"
    "\"preferences\":{\"language\":\"en\",\"timezone\":\"America/Los_Angeles\"}},"
    "\"routing\":{\"accountId\":\"acc-1\",\"businessUnitId\":\"bu-1\",\"tenantId\":\"t-1\"},"
    "\"enrichedMessage\":{\"id\":\"SM0000000000\",\"content\":\"Hello there! When does my "
    "order arrive?\",\"contentType\":\"text\",\"mediaUrls\":[],"
    "\"timestamp\":\"2025-06-08T21:39:43.000Z\",\"carrier\":\"twilio\",\"channelType\":\"sms\","
    "\"normalizedSender\":\"+14155550123\",\"language\":\"en\","
    "\"receivedAt\":\"2025-06-08T21:39:43.120Z\"},\"nextStep\":\"workFlowBiDirectional\"}";

typedef struct stepper {
    omni_engine *e;
    char event[sizeof(event_template)];
    size_t len;
    char *cust, *id; /* the digits to patch */
    uint64_t next;   /* message number */
    unsigned customers;
    int failed;
} stepper;

static void put_digits(char *p, int width, uint64_t v)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

static void stepper_init(stepper *s, omni_engine *e, uint64_t first)
{
    memset(s, 0, sizeof(*s));
    s->e = e;
    memcpy(s->event, event_template, sizeof(event_template));
    s->len = sizeof(event_template) - 1;
    s->cust = strstr(s->event, "cust-") + 5;
    s->id = strstr(s->event, "\"SM") + 3;
    s->next = first;
    s->customers = CUSTOMERS;
}

static void b_step(void *ctx, size_t n)
{
    stepper *s = ctx;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = s->next++;
        put_digits(s->cust, 4, k % s->customers);
        put_digits(s->id, 10, k);
        char *out = NULL;
        size_t len;
        if (omni_conversation_step(&out, &len, s->e, s->event, s->len, NULL, 0) != OMNI_OK)
            s->failed = 1;
        omni_free(out);
    }
}

/* The same message again and again: a duplicate. */
static void b_duplicate(void *ctx, size_t n)
{
    stepper *s = ctx;
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        size_t len;
        if (omni_conversation_step(&out, &len, s->e, s->event, s->len, NULL, 0) != OMNI_OK)
            s->failed = 1;
        omni_free(out);
    }
}

/* ---- the memory peer: the storage floor ------------------------------------ */

typedef struct floor_peer {
    omni_store *store;
    char conv[1100], msg[900], ref[1400];
    uint64_t next;
    uint64_t versions[CUSTOMERS];
} floor_peer;

static void fill_json_string(char *buf, size_t size)
{
    memset(buf, 'x', size - 1);
    buf[0] = buf[size - 2] = '"';
    buf[size - 1] = '\0';
}

static void b_floor(void *ctx, size_t n)
{
    floor_peer *f = ctx;
    char slot[64], ref[64], key[64];
    for (size_t i = 0; i < n; i++) {
        uint64_t k = f->next++;
        unsigned c = (unsigned)(k % CUSTOMERS);
        snprintf(slot, sizeof(slot), "cust-%04u/sms/acc-1", c);
        snprintf(ref, sizeof(ref), "in/twilio/SM%010llu", (unsigned long long)k);
        snprintf(key, sizeof(key), "0194d1c2-7c1a-7d3e-9f00-%012u/%012llu", c,
                 (unsigned long long)k);
        char *v = NULL;
        uint64_t ver = 0;
        if (omni_store_get(f->store, "conversation", slot, 1, &v, NULL, &ver, NULL) == OMNI_OK)
            omni_free(v);
        if (omni_store_get(f->store, "message_ref", ref, 1, &v, NULL, NULL, NULL) == OMNI_OK)
            omni_free(v);
        omni__store_op ops[3] = {
            {"conversation", slot, f->conv, sizeof(f->conv) - 1, ver ? ver : OMNI_STORE_CREATE,
             0, 0},
            {"message_ref", ref, f->ref, sizeof(f->ref) - 1, OMNI_STORE_CREATE, 0, 0},
            {"message", key, f->msg, sizeof(f->msg) - 1, OMNI_STORE_CREATE, 0, 0},
        };
        omni__store_put_batch(f->store, ops, 3, 1, NULL);
    }
}

/* ---- the SQLite peer: a raw sqlite3 recorder ------------------------------ */

typedef struct raw_peer {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *read, *bump, *create, *insert, *dedupe;
    uint64_t next;
    char body[900];
    int failed;
} raw_peer;

static int raw_open(raw_peer *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    fill_json_string(r->body, sizeof(r->body));
    if (sqlite3_open(path, &r->db) != SQLITE_OK)
        return -1;
    const char *setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                        "CREATE TABLE conversations(id TEXT PRIMARY KEY, count INTEGER, "
                        "doc BLOB) WITHOUT ROWID;"
                        "CREATE TABLE messages(conv TEXT, seq INTEGER, body BLOB, "
                        "PRIMARY KEY(conv, seq)) WITHOUT ROWID;"
                        "CREATE TABLE dedupe(id TEXT PRIMARY KEY, conv TEXT, seq INTEGER) "
                        "WITHOUT ROWID;";
    if (sqlite3_exec(r->db, setup, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    struct {
        sqlite3_stmt **st;
        const char *sql;
    } s[] = {
        {&r->begin, "BEGIN IMMEDIATE"},
        {&r->commit, "COMMIT"},
        {&r->read, "SELECT count FROM conversations WHERE id = ?1"},
        {&r->bump, "UPDATE conversations SET count = ?2, doc = ?3 WHERE id = ?1"},
        {&r->create, "INSERT INTO conversations(id, count, doc) VALUES(?1, 1, ?2)"},
        {&r->insert, "INSERT INTO messages(conv, seq, body) VALUES(?1, ?2, ?3)"},
        {&r->dedupe, "INSERT INTO dedupe(id, conv, seq) VALUES(?1, ?2, ?3)"},
    };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        if (sqlite3_prepare_v2(r->db, s[i].sql, -1, s[i].st, NULL) != SQLITE_OK)
            return -1;
    return 0;
}

static int run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static void b_raw(void *ctx, size_t n)
{
    raw_peer *r = ctx;
    char conv[32], id[32];
    for (size_t i = 0; i < n; i++) {
        uint64_t k = r->next++;
        snprintf(conv, sizeof(conv), "cust-%04u", (unsigned)(k % CUSTOMERS));
        snprintf(id, sizeof(id), "SM%010llu", (unsigned long long)k);
        int64_t seq = 1;
        int ok = run(r->begin) == 0;
        sqlite3_bind_text(r->read, 1, conv, -1, SQLITE_STATIC);
        int found = sqlite3_step(r->read) == SQLITE_ROW;
        if (found)
            seq = sqlite3_column_int64(r->read, 0) + 1;
        sqlite3_reset(r->read);
        if (found) {
            sqlite3_bind_text(r->bump, 1, conv, -1, SQLITE_STATIC);
            sqlite3_bind_int64(r->bump, 2, seq);
            sqlite3_bind_blob(r->bump, 3, r->body, 600, SQLITE_STATIC);
            ok = ok && run(r->bump) == 0;
        } else {
            sqlite3_bind_text(r->create, 1, conv, -1, SQLITE_STATIC);
            sqlite3_bind_blob(r->create, 2, r->body, 600, SQLITE_STATIC);
            ok = ok && run(r->create) == 0;
        }
        sqlite3_bind_text(r->insert, 1, conv, -1, SQLITE_STATIC);
        sqlite3_bind_int64(r->insert, 2, seq);
        sqlite3_bind_blob(r->insert, 3, r->body, sizeof(r->body) - 1, SQLITE_STATIC);
        ok = ok && run(r->insert) == 0;
        sqlite3_bind_text(r->dedupe, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(r->dedupe, 2, conv, -1, SQLITE_STATIC);
        sqlite3_bind_int64(r->dedupe, 3, seq);
        ok = ok && run(r->dedupe) == 0;
        ok = ok && run(r->commit) == 0;
        if (!ok) {
            r->failed = 1;
            sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
}

static void raw_close(raw_peer *r)
{
    sqlite3_stmt *all[] = {r->begin, r->commit, r->read, r->bump, r->create, r->insert,
                           r->dedupe};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(r->db);
}

/* ---- storage size ---------------------------------------------------------- */

typedef struct sizes {
    size_t records, bytes;
} sizes;

static int size_cb(void *ctx, const char *key, size_t key_len, const char *value,
                   size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)key;
    (void)value;
    (void)version;
    (void)expires_at_ms;
    sizes *s = ctx;
    s->records++;
    s->bytes += key_len + value_len;
    return 0;
}

static sizes ns_size(omni_store *store, const char *ns, int64_t now)
{
    sizes s = {0, 0};
    char *after = NULL;
    do {
        char *next = NULL;
        if (omni_store_list(store, ns, NULL, after, OMNI_STORE_MAX_LIST, now, size_cb, &s,
                            &next) != OMNI_OK) {
            omni_free(next);
            break;
        }
        omni_free(after);
        after = next;
    } while (after);
    return s;
}

/* An engine over a store opened by URI (*store is the caller's to free). */
static omni_engine *engine_over(const char *uri, omni_store **store)
{
    omni_storage_hook h;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    omni_engine *e = NULL;
    if (omni_store_open(store, uri) != OMNI_OK || omni_store_get_hook(*store, &h) != OMNI_OK)
        return NULL;
    hooks.storage = &h;
    if (omni_engine_new(&e, NULL, 0, &hooks) != OMNI_OK)
        return NULL;
    return e;
}

/* Steps `per` messages for each of `customers` customers over a fresh
 * memory store, then reports the key + value bytes per conversation (its
 * record and id index) and per message (its record and reference). */
static void report_sizes(int customers, int per)
{
    omni_store *store = NULL;
    omni_engine *e = engine_over("memory:", &store);
    if (!e) {
        omni_store_free(store);
        return;
    }
    stepper s;
    stepper_init(&s, e, 0);
    s.customers = (unsigned)customers;
    b_step(&s, (size_t)customers * (size_t)per);
    int64_t now = omni_engine_now_ms(e);
    sizes conv = ns_size(store, "conversation", now);
    sizes idx = ns_size(store, "conversation_id", now);
    sizes msg = ns_size(store, "message", now);
    sizes ref = ns_size(store, "message_ref", now);
    printf("{\"name\":\"conversation_storage_bytes\",\"conversations\":%zu,\"messages\":%zu,"
           "\"bytes_per_conversation\":%.0f,\"bytes_per_message\":%.0f,"
           "\"message_record\":%.0f,\"reference_record\":%.0f}\n",
           conv.records, msg.records,
           conv.records ? (double)(conv.bytes + idx.bytes) / (double)conv.records : 0.0,
           msg.records ? (double)(msg.bytes + ref.bytes) / (double)msg.records : 0.0,
           msg.records ? (double)msg.bytes / (double)msg.records : 0.0,
           ref.records ? (double)ref.bytes / (double)ref.records : 0.0);
    fflush(stdout);
    omni_engine_free(e);
    omni_store_free(store);
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
    bench_opts o = {0, 50.0, 7, NULL};
    if (bench_args(&o, argc, argv, "omni-bench-conversation", NULL, NULL))
        return 2;
    int status = 0;

    /* memory */
    omni_store *mem = NULL;
    omni_engine *e = engine_over("memory:", &mem);
    if (!e) {
        fprintf(stderr, "omni-bench-conversation: %s\n", omni_error_last_message());
        return 1;
    }
    stepper s;
    stepper_init(&s, e, 0);
    b_step(&s, CUSTOMERS); /* every customer has a conversation */
    floor_peer *fp = calloc(1, sizeof(*fp));
    omni_store *floor_store = NULL;
    if (!fp || omni_store_open(&floor_store, "memory:") != OMNI_OK)
        return 1;
    fp->store = floor_store;
    fill_json_string(fp->conv, sizeof(fp->conv));
    fill_json_string(fp->msg, sizeof(fp->msg));
    fill_json_string(fp->ref, sizeof(fp->ref));
    bench_run(&o, "conversation_step_memory", b_step, &s, "store_floor_memory", b_floor, fp);
    stepper dup;
    stepper_init(&dup, e, 0);
    put_digits(dup.cust, 4, 0);
    put_digits(dup.id, 10, 0);
    bench_run(&o, "conversation_step_duplicate_memory", b_duplicate, &dup, NULL, NULL, NULL);
    if (s.failed || dup.failed) {
        fprintf(stderr, "omni-bench-conversation: a memory step failed: %s\n",
                omni_error_last_message());
        status = 1;
    }
    omni_engine_free(e);
    omni_store_free(mem);
    omni_store_free(floor_store);
    free(fp);

    /* SQLite */
    char dir[] = "/tmp/omni-bench-conv-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char uri[256], ours[200], peer[200];
    snprintf(ours, sizeof(ours), "%s/omni.db", dir);
    snprintf(peer, sizeof(peer), "%s/raw.db", dir);
    snprintf(uri, sizeof(uri), "sqlite:%s", ours);
    omni_store *sq = NULL;
    e = engine_over(uri, &sq);
    raw_peer raw;
    if (!e || raw_open(&raw, peer) != 0) {
        fprintf(stderr, "omni-bench-conversation: cannot open the SQLite files\n");
        return 1;
    }
    bench_opts so = o;
    so.batch_ms = o.batch_ms * 4; /* slower per op: longer batches */
    stepper_init(&s, e, 0);
    bench_run(&so, "conversation_step_sqlite", b_step, &s, "raw_sqlite3_recorder", b_raw, &raw);
    if (s.failed || raw.failed) {
        fprintf(stderr, "omni-bench-conversation: an SQLite step failed: %s\n",
                omni_error_last_message());
        status = 1;
    }
    /* file size per message, after a checkpoint */
    omni_engine_free(e);
    omni_store_free(sq);
    raw_close(&raw);
    sqlite3 *db = NULL;
    if (!o.smoke && sqlite3_open(ours, &db) == SQLITE_OK) {
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_stmt *st = NULL;
        int64_t pages = 0, size = 0, msgs = 0;
        if (sqlite3_prepare_v2(db, "SELECT (SELECT page_count FROM pragma_page_count), "
                                   "(SELECT page_size FROM pragma_page_size), "
                                   "(SELECT count(*) FROM records WHERE ns = 'message')",
                               -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            pages = sqlite3_column_int64(st, 0);
            size = sqlite3_column_int64(st, 1);
            msgs = sqlite3_column_int64(st, 2);
        }
        sqlite3_finalize(st);
        if (msgs > 0)
            printf("{\"name\":\"conversation_sqlite_file_bytes\",\"messages\":%lld,"
                   "\"file_bytes_per_message\":%.0f}\n",
                   (long long)msgs, (double)(pages * size) / (double)msgs);
        sqlite3_close(db);
    }
    char rm[300];
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    if (system(rm) != 0)
        status = 1;

    report_sizes(o.smoke ? 10 : 200, o.smoke ? 2 : 20);
    return status;
}
