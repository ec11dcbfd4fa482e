/* The "sqlite:PATH" storage backend: one SQLite database file, safe for
 * several threads and several processes at once.
 *
 * Schema: records(ns TEXT, key BLOB, version INTEGER, expires_at INTEGER,
 * value BLOB, PRIMARY KEY(ns, key)) WITHOUT ROWID (the value last, so that
 * reading a version never walks a large value). Keys are BLOBs, so
 * SQLite compares them with memcmp: listings come in bytewise key order.
 * The file runs in WAL mode with synchronous=NORMAL (an application crash
 * loses nothing that was committed; a power loss may lose the last commits,
 * never consistency).
 *
 * Every write is one BEGIN IMMEDIATE transaction (read the version, check
 * it, write), so compare-and-swap is exact across connections and
 * processes. Expiry follows the memory backend: an expired record is
 * invisible, but its row keeps its version for OMNI__STORE_MEMORY_GRACE_MS,
 * so a put over it continues the version; after that a put starts again at
 * 1, and writers delete such rows a few at a time.
 *
 * One connection per store, guarded by a mutex; prepared statements are
 * cached on it. list copies rows out in batches and calls back without the
 * lock, so callbacks may call into the same store.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "core/error.h"
#include "list_batch.h"
#include "store_internal.h"

#define SQ_MAX_PATH 4096
#define SQ_BUSY_TIMEOUT_MS 5000
#define SQ_RECLAIM_EVERY 64        /* writes between two reclaim passes */
#define SQ_RECLAIM_ROWS "32"       /* rows deleted by one pass */
#define SQ_APPLICATION_ID 0x4f4d4e49 /* "OMNI" */
#define SQ_SCHEMA_VERSION 1

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_GET,
    ST_META,
    ST_WRITE,
    ST_INSERT,
    ST_SWAP,
    ST_DELETE,
    ST_RECLAIM,
    ST_LIST,
    ST_LIST_BOUNDED,
    ST_COUNT
};

static const char *const sq_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_GET] = "SELECT value, version, expires_at FROM records WHERE ns = ?1 AND key = ?2",
    [ST_META] = "SELECT version, expires_at FROM records WHERE ns = ?1 AND key = ?2",
    [ST_WRITE] = "INSERT INTO records(ns, key, value, version, expires_at) "
                 "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(ns, key) DO UPDATE SET "
                 "value = excluded.value, version = excluded.version, "
                 "expires_at = excluded.expires_at",
    [ST_INSERT] = "INSERT INTO records(ns, key, value, version, expires_at) "
                  "VALUES(?1, ?2, ?3, 1, ?4)",
    [ST_SWAP] = "UPDATE records SET value = ?3, version = version + 1, expires_at = ?4 "
                "WHERE ns = ?1 AND key = ?2 AND version = ?5 AND "
                "(expires_at = 0 OR expires_at > ?6)",
    [ST_DELETE] = "DELETE FROM records WHERE ns = ?1 AND key = ?2",
    [ST_RECLAIM] = "DELETE FROM records WHERE (ns, key) IN (SELECT ns, key FROM records "
                   "WHERE expires_at > 0 AND expires_at <= ?1 LIMIT " SQ_RECLAIM_ROWS ")",
    [ST_LIST] = "SELECT key, value, version, expires_at FROM records "
                "WHERE ns = ?1 AND key >= ?2 AND (expires_at = 0 OR expires_at > ?3) "
                "ORDER BY key LIMIT ?4",
    [ST_LIST_BOUNDED] = "SELECT key, value, version, expires_at FROM records "
                        "WHERE ns = ?1 AND key >= ?2 AND key < ?5 "
                        "AND (expires_at = 0 OR expires_at > ?3) ORDER BY key LIMIT ?4",
};

static const char sq_schema[] =
    "CREATE TABLE IF NOT EXISTS records("
    "ns TEXT NOT NULL, key BLOB NOT NULL, version INTEGER NOT NULL, "
    "expires_at INTEGER NOT NULL DEFAULT 0, value BLOB NOT NULL, "
    "PRIMARY KEY(ns, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS records_expiry ON records(expires_at) WHERE expires_at > 0;";

typedef struct sq_store {
    pthread_mutex_t mu;
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    unsigned writes;           /* since the last reclaim pass */
    struct timespec busy_since; /* busy handler: start of the current wait */
} sq_store;

/* ---- errors ------------------------------------------------------------- */

/* Any SQLite failure of `op`: OMNI_ESTORAGE naming the operation and
 * SQLite's generic text for the code (never a key, value or path). */
static int sq_fail(int rc, const char *op)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return omni__err_retry(OMNI_ESTORAGE, 1,
                               "sqlite store: %s: the database stayed locked for over %d ms",
                               op, SQ_BUSY_TIMEOUT_MS);
    case SQLITE_NOMEM:
        return omni__err(OMNI_ENOMEM, "sqlite store: %s: out of memory", op);
    case SQLITE_IOERR:
    case SQLITE_FULL:
        return omni__err_retry(OMNI_ESTORAGE, 1, "sqlite store: %s failed: %s", op,
                               sqlite3_errstr(rc));
    default:
        return omni__err_retry(OMNI_ESTORAGE, 0, "sqlite store: %s failed: %s", op,
                               sqlite3_errstr(rc));
    }
}

/* ---- busy handling ------------------------------------------------------ */

static int64_t elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - since->tv_sec) * 1000 +
           (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Waits for another connection's lock with short, growing sleeps (50 us up
 * to 5 ms) until SQ_BUSY_TIMEOUT_MS have passed. Runs under the store's
 * mutex, so busy_since is not shared. */
static int sq_busy(void *ctx, int count)
{
    sq_store *s = ctx;
    if (count == 0)
        clock_gettime(CLOCK_MONOTONIC, &s->busy_since);
    else if (elapsed_ms(&s->busy_since) >= SQ_BUSY_TIMEOUT_MS)
        return 0;
    long us = 50L << (count < 7 ? count : 7);
    if (us > 5000)
        us = 5000;
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

/* ---- statements --------------------------------------------------------- */

/* Binds bytes as a BLOB (an empty one is a zero-length BLOB, not NULL). */
static int bind_bytes(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (n == 0)
        return sqlite3_bind_zeroblob(st, i, 0);
    return sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

static int bind_key(sqlite3_stmt *st, const char *ns, size_t ns_len, const char *key,
                    size_t key_len)
{
    int rc = sqlite3_bind_text(st, 1, ns, (int)ns_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_bytes(st, 2, key, key_len);
    return rc;
}

/* Runs a statement without results (BEGIN, COMMIT, ...). */
static int run(sq_store *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void rollback(sq_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        (void)run(s, ST_ROLLBACK);
}

/* Checks the lengths of names a host may pass when calling the table
 * directly (the store has validated them already). */
static int lengths(const char *ns, const char *key, size_t *ns_len, size_t *key_len)
{
    if (!ns || !key)
        return omni__err(OMNI_EINVAL, "sqlite store: NULL namespace or key");
    *ns_len = strnlen(ns, OMNI_STORE_MAX_NS + 1);
    *key_len = strnlen(key, OMNI_STORE_MAX_KEY + 1);
    if (*ns_len == 0 || *ns_len > OMNI_STORE_MAX_NS || *key_len == 0 ||
        *key_len > OMNI_STORE_MAX_KEY)
        return omni__err(OMNI_EINVAL, "sqlite store: namespace or key length out of range");
    return OMNI_OK;
}

static int expired(int64_t expires_at_ms, int64_t now_ms)
{
    return expires_at_ms != 0 && expires_at_ms <= now_ms;
}

/* An expired row still carries its version within the grace period. */
static int within_grace(int64_t expires_at_ms, int64_t now_ms)
{
    return now_ms <= expires_at_ms ||
           (uint64_t)now_ms - (uint64_t)expires_at_ms < (uint64_t)OMNI__STORE_MEMORY_GRACE_MS;
}

/* ---- the hook ----------------------------------------------------------- */

static int sq_get(void *ctx, const char *ns, const char *key, int64_t now_ms, char **value,
                  size_t *value_len, uint64_t *version, int64_t *expires_at_ms)
{
    sq_store *s = ctx;
    size_t ns_len, key_len;
    int rc = lengths(ns, key, &ns_len, &key_len);
    if (rc)
        return rc;
    if (!value || !value_len || !version || !expires_at_ms)
        return omni__err(OMNI_EINVAL, "sqlite store: NULL output of get");
    int status = OMNI_OK;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->st[ST_GET];
    rc = bind_key(st, ns, ns_len, key, key_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t exp = sqlite3_column_int64(st, 2);
        if (expired(exp, now_ms)) {
            status = OMNI_ENOTFOUND;
        } else {
            const void *p = sqlite3_column_blob(st, 0);
            size_t n = (size_t)sqlite3_column_bytes(st, 0);
            char *copy = omni_malloc(n + 1);
            if (!copy) {
                status = omni__err(OMNI_ENOMEM, NULL);
            } else {
                if (n)
                    memcpy(copy, p, n);
                copy[n] = '\0';
                *value = copy;
                *value_len = n;
                *version = (uint64_t)sqlite3_column_int64(st, 1);
                *expires_at_ms = exp;
            }
        }
    } else if (rc == SQLITE_DONE) {
        status = OMNI_ENOTFOUND;
    } else {
        status = sq_fail(rc, "get");
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->mu);
    return status == OMNI_ENOTFOUND ? omni__store_not_found() : status;
}

/* Deletes a few rows whose grace period is over (inside a write). */
static int reclaim(sq_store *s, int64_t now_ms)
{
    if (++s->writes < SQ_RECLAIM_EVERY || now_ms <= OMNI__STORE_MEMORY_GRACE_MS)
        return SQLITE_OK;
    s->writes = 0;
    sqlite3_stmt *st = s->st[ST_RECLAIM];
    int rc = sqlite3_bind_int64(st, 1, now_ms - OMNI__STORE_MEMORY_GRACE_MS);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Reads (ns, key)'s row in the open transaction: *exists, *version, *exp. */
static int read_meta(sq_store *s, const char *ns, size_t ns_len, const char *key,
                     size_t key_len, int *exists, uint64_t *version, int64_t *exp)
{
    sqlite3_stmt *st = s->st[ST_META];
    int rc = bind_key(st, ns, ns_len, key, key_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        *version = (uint64_t)sqlite3_column_int64(st, 0);
        *exp = sqlite3_column_int64(st, 1);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* Puts ops[0..n) in one BEGIN IMMEDIATE transaction: all or none. On a
 * refused condition *failed is its index. */
int omni__store_sqlite_batch(void *ctx, omni__store_op *ops, size_t n, int64_t now_ms,
                             size_t *failed)
{
    sq_store *s = ctx;
    if (n == 0 || n > OMNI__STORE_MAX_BATCH)
        return omni__err(OMNI_EINVAL, "sqlite store: a batch holds 1..%d puts",
                         OMNI__STORE_MAX_BATCH);
    size_t ns_len[OMNI__STORE_MAX_BATCH], key_len[OMNI__STORE_MAX_BATCH];
    for (size_t i = 0; i < n; i++) {
        int rc = lengths(ops[i].ns, ops[i].key, &ns_len[i], &key_len[i]);
        if (rc)
            return rc;
        if (!ops[i].value || ops[i].value_len > OMNI_STORE_MAX_VALUE)
            return omni__err(OMNI_EINVAL, "sqlite store: NULL or oversized value");
        if (ops[i].expires_at_ms < 0 || now_ms < 0)
            return omni__err(OMNI_EINVAL, "sqlite store: negative time");
        for (size_t j = 0; j < i; j++)
            if (strcmp(ops[j].ns, ops[i].ns) == 0 && strcmp(ops[j].key, ops[i].key) == 0)
                return omni__err(OMNI_EINVAL, "store: a batch names the same key twice");
    }

    int status = OMNI_OK, rc;
    const char *op = "put (begin)";
    uint64_t found = 0;
    size_t bad = 0;
    pthread_mutex_lock(&s->mu);
    rc = run(s, ST_BEGIN);
    if (rc == SQLITE_OK) {
        op = "put (reclaim)";
        rc = reclaim(s, now_ms);
    }
    for (size_t i = 0; i < n && rc == SQLITE_OK && !status; i++) {
        bad = i;
        uint64_t want_v = ops[i].expected_version;
        if (want_v != OMNI_STORE_CREATE && want_v != OMNI_STORE_ANY_VERSION &&
            want_v < (uint64_t)INT64_MAX) {
            /* compare-and-swap of a live record: one statement (when it
             * changes nothing, the full check below says why) */
            op = "put (swap)";
            sqlite3_stmt *st = s->st[ST_SWAP];
            rc = bind_key(st, ops[i].ns, ns_len[i], ops[i].key, key_len[i]);
            if (rc == SQLITE_OK)
                rc = bind_bytes(st, 3, ops[i].value, ops[i].value_len);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 4, ops[i].expires_at_ms);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 5, (sqlite3_int64)want_v);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 6, now_ms);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            int changed = rc == SQLITE_DONE && sqlite3_changes(s->db) == 1;
            sqlite3_reset(st);
            if (rc != SQLITE_DONE)
                break;
            rc = SQLITE_OK;
            if (changed) {
                ops[i].new_version = want_v + 1;
                continue;
            }
        }
        if (ops[i].expected_version == OMNI_STORE_CREATE) {
            /* a key never seen: one statement (a row that exists, expired
             * or not, makes it fail; then the full check below) */
            op = "put (insert)";
            sqlite3_stmt *st = s->st[ST_INSERT];
            rc = bind_key(st, ops[i].ns, ns_len[i], ops[i].key, key_len[i]);
            if (rc == SQLITE_OK)
                rc = bind_bytes(st, 3, ops[i].value, ops[i].value_len);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 4, ops[i].expires_at_ms);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc == SQLITE_DONE) {
                ops[i].new_version = 1;
                rc = SQLITE_OK;
                continue;
            }
            if ((rc & 0xff) != SQLITE_CONSTRAINT)
                break;
            rc = SQLITE_OK;
        }
        int exists = 0;
        int64_t exp = 0;
        uint64_t row_version = 0;
        op = "put (read)";
        rc = read_meta(s, ops[i].ns, ns_len[i], ops[i].key, key_len[i], &exists, &row_version,
                       &exp);
        if (rc != SQLITE_OK)
            break;
        int live = exists && !expired(exp, now_ms);
        int held = exists && (exp == 0 || within_grace(exp, now_ms));
        uint64_t want = ops[i].expected_version;
        found = live ? row_version : 0;
        if (want == OMNI_STORE_CREATE) {
            if (live)
                status = OMNI_EEXISTS;
        } else if (want != OMNI_STORE_ANY_VERSION) {
            if (!live)
                status = OMNI_ENOTFOUND;
            else if (found != want)
                status = OMNI_ECONFLICT;
        }
        if (!status && held && row_version >= (uint64_t)INT64_MAX)
            status = OMNI_ESTORAGE;
        if (status)
            break;
        ops[i].new_version = held ? row_version + 1 : 1;
        op = "put (write)";
        sqlite3_stmt *st = s->st[ST_WRITE];
        rc = bind_key(st, ops[i].ns, ns_len[i], ops[i].key, key_len[i]);
        if (rc == SQLITE_OK)
            rc = bind_bytes(st, 3, ops[i].value, ops[i].value_len);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 4, (sqlite3_int64)ops[i].new_version);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(st, 5, ops[i].expires_at_ms);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK && !status) {
        op = "put (commit)";
        rc = run(s, ST_COMMIT);
    }
    if (rc != SQLITE_OK)
        status = sq_fail(rc, op);
    rollback(s); /* after a refusal or a failure; a no-op after a commit */
    pthread_mutex_unlock(&s->mu);
    if (failed)
        *failed = bad;
    if (rc != SQLITE_OK)
        return status; /* a failure: sq_fail set the error */
    return omni__store_refused(status, ops[bad].expected_version, found);
}

static int sq_put(void *ctx, const char *ns, const char *key, const char *value, size_t value_len,
                  uint64_t expected_version, int64_t expires_at_ms, int64_t now_ms,
                  uint64_t *new_version)
{
    return omni__store_put_one(omni__store_sqlite_batch, ctx, ns, key, value, value_len,
                               expected_version, expires_at_ms, now_ms, new_version);
}

static int sq_del(void *ctx, const char *ns, const char *key, uint64_t expected_version,
                  int64_t now_ms)
{
    sq_store *s = ctx;
    size_t ns_len, key_len;
    int rc = lengths(ns, key, &ns_len, &key_len);
    if (rc)
        return rc;
    int status = OMNI_OK;
    const char *op = "delete (begin)";
    uint64_t found = 0;
    pthread_mutex_lock(&s->mu);
    rc = run(s, ST_BEGIN);
    if (rc == SQLITE_OK) {
        op = "delete (reclaim)";
        rc = reclaim(s, now_ms);
    }
    int exists = 0;
    int64_t exp = 0;
    if (rc == SQLITE_OK) {
        op = "delete (read)";
        rc = read_meta(s, ns, ns_len, key, key_len, &exists, &found, &exp);
    }
    if (rc == SQLITE_OK) {
        if (!exists || expired(exp, now_ms)) {
            status = OMNI_ENOTFOUND; /* an expired row keeps its version */
        } else if (expected_version != OMNI_STORE_ANY_VERSION && found != expected_version) {
            status = OMNI_ECONFLICT;
        } else {
            op = "delete (write)";
            sqlite3_stmt *st = s->st[ST_DELETE];
            rc = bind_key(st, ns, ns_len, key, key_len);
            if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc == SQLITE_DONE) {
                op = "delete (commit)";
                rc = run(s, ST_COMMIT);
            }
        }
    }
    if (rc != SQLITE_OK)
        status = sq_fail(rc, op);
    rollback(s);
    pthread_mutex_unlock(&s->mu);
    if (status == OMNI_ENOTFOUND)
        return omni__store_not_found();
    if (status == OMNI_ECONFLICT)
        return omni__store_conflict(expected_version, found);
    return status;
}

/* The smallest byte string greater than every string that starts with
 * `prefix` (into hi; *hi_len 0: there is none, the prefix is all 0xff). */
static void prefix_end(const char *prefix, size_t len, unsigned char *hi, size_t *hi_len)
{
    memcpy(hi, prefix, len);
    while (len > 0 && hi[len - 1] == 0xff)
        len--;
    if (len > 0)
        hi[len - 1]++;
    *hi_len = len;
}

/* One batch of records from lo (inclusive) into b. Lock held. */
static int list_batch(sq_store *s, const char *ns, size_t ns_len, const unsigned char *lo,
                      size_t lo_len, const unsigned char *hi, size_t hi_len, int64_t now_ms,
                      omni__list_batch *b)
{
    sqlite3_stmt *st = s->st[hi_len ? ST_LIST_BOUNDED : ST_LIST];
    int rc = sqlite3_bind_text(st, 1, ns, (int)ns_len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = bind_bytes(st, 2, lo, lo_len);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, (sqlite3_int64)b->want + 1);
    if (rc == SQLITE_OK && hi_len)
        rc = bind_bytes(st, 5, hi, hi_len);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (omni__list_full(b))
            break;
        size_t klen = (size_t)sqlite3_column_bytes(st, 0);
        const void *k = sqlite3_column_blob(st, 0);
        size_t vlen = (size_t)sqlite3_column_bytes(st, 1);
        const void *v = sqlite3_column_blob(st, 1);
        if (klen == 0 || klen > OMNI_STORE_MAX_KEY || memchr(k, 0, klen)) {
            sqlite3_reset(st);
            return omni__err_retry(OMNI_ESTORAGE, 0, "sqlite store: list found a malformed "
                                                     "key in the database");
        }
        omni__list_add(b, (const char *)k, klen, v, vlen, (uint64_t)sqlite3_column_int64(st, 2),
                       sqlite3_column_int64(st, 3));
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sq_fail(rc, "list");
    if (b->arena.failed)
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

static int sq_list(void *ctx, const char *ns, const char *prefix, const char *after_key,
                   size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                   char **next_key)
{
    sq_store *s = ctx;
    if (!ns || !prefix || !after_key || !cb || !next_key)
        return omni__err(OMNI_EINVAL, "sqlite store: NULL argument to list");
    *next_key = NULL;
    size_t ns_len = strnlen(ns, OMNI_STORE_MAX_NS + 1);
    size_t prefix_len = strnlen(prefix, OMNI_STORE_MAX_KEY + 1);
    size_t after_len = strnlen(after_key, OMNI_STORE_MAX_KEY + 1);
    if (ns_len == 0 || ns_len > OMNI_STORE_MAX_NS || prefix_len > OMNI_STORE_MAX_KEY ||
        after_len > OMNI_STORE_MAX_KEY)
        return omni__err(OMNI_EINVAL, "sqlite store: list argument length out of range");

    /* Lower bound: the prefix, or just past after_key (keys hold no NUL, so
     * key > after_key is key >= after_key "\0"). Upper: the prefix's end. */
    unsigned char lo[OMNI_STORE_MAX_KEY + 1], hi[OMNI_STORE_MAX_KEY];
    size_t lo_len, hi_len;
    if (after_len > 0 && strcmp(after_key, prefix) >= 0) {
        memcpy(lo, after_key, after_len);
        lo[after_len] = 0;
        lo_len = after_len + 1;
    } else {
        memcpy(lo, prefix, prefix_len);
        lo_len = prefix_len;
    }
    prefix_end(prefix, prefix_len, hi, &hi_len);

    omni__list_batch b;
    omni__list_begin(&b, limit);
    int rc = OMNI_OK;
    while (omni__list_next_batch(&b)) {
        pthread_mutex_lock(&s->mu);
        rc = list_batch(s, ns, ns_len, lo, lo_len, hi, hi_len, now_ms, &b);
        pthread_mutex_unlock(&s->mu);
        if (rc || !omni__list_deliver(&b, cb, cb_ctx) || !b.has_cursor)
            break;
        memcpy(lo, b.cursor, b.cursor_len);
        lo[b.cursor_len] = 0;
        lo_len = b.cursor_len + 1;
    }
    return omni__list_finish(&b, rc, next_key);
}

/* ---- opening and closing ------------------------------------------------ */

static void sq_close(void *ctx)
{
    sq_store *s = ctx;
    if (!s)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Runs `sql` and reads the first column of its first row as an integer
 * (when out is not NULL). */
static int pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (out)
                *out = sqlite3_column_int64(st, 0);
            out = NULL;
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Creates the schema in a new file, or checks that an existing file is a
 * libomni store of a schema this library knows. */
static int setup_schema(sq_store *s)
{
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc)
        return sq_fail(rc, "open (begin)");
    int64_t app = 0, ver = 0, objects = 0;
    rc = pragma_int(s->db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = pragma_int(s->db, "PRAGMA user_version", &ver);
    if (rc == SQLITE_OK)
        rc = pragma_int(s->db, "SELECT count(*) FROM sqlite_master", &objects);
    int status = OMNI_OK;
    if (rc != SQLITE_OK) {
        status = sq_fail(rc, "open (read schema)");
    } else if ((app != 0 && app != SQ_APPLICATION_ID) || (app == 0 && objects > 0)) {
        status = omni__err_retry(OMNI_ESTORAGE, 0,
                                 "sqlite store: open: the file is an SQLite database of "
                                 "another application");
    } else if (ver > SQ_SCHEMA_VERSION) {
        status = omni__err_retry(OMNI_ESTORAGE, 0,
                                 "sqlite store: open: the file has schema version %lld, newer "
                                 "than this library's %d",
                                 (long long)ver, SQ_SCHEMA_VERSION);
    } else if (app == 0) {
        char sql[sizeof(sq_schema) + 128];
        snprintf(sql, sizeof(sql), "%sPRAGMA application_id = %d; PRAGMA user_version = %d;",
                 sq_schema, SQ_APPLICATION_ID, SQ_SCHEMA_VERSION);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if (rc)
            status = sq_fail(rc, "open (create schema)");
    }
    if (!status) {
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        if (rc)
            status = sq_fail(rc, "open (commit)");
    }
    if (status && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return status;
}

int omni__store_sqlite_open(omni_storage_hook *out, const char *rest)
{
    if (!out || !rest)
        return omni__err(OMNI_EINVAL, "store URI: \"sqlite:\" needs a path");
    size_t len = strnlen(rest, SQ_MAX_PATH + 1);
    if (len == 0)
        return omni__err(OMNI_EINVAL, "store URI: \"sqlite:\" needs a path (or :memory:)");
    if (len > SQ_MAX_PATH)
        return omni__err(OMNI_EINVAL, "store URI: the sqlite path is longer than %d bytes",
                         SQ_MAX_PATH);
    /* A path is always a file name, never an SQLite "file:" URI. */
    char path[SQ_MAX_PATH + 3];
    snprintf(path, sizeof(path), "%s%s", strncmp(rest, "file:", 5) == 0 ? "./" : "", rest);

    sq_store *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return omni__err(OMNI_ENOMEM, "sqlite store: cannot create its mutex");
    }
    int status = OMNI_OK;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        status = rc == SQLITE_CANTOPEN
                     ? omni__err_retry(OMNI_ESTORAGE, 0, "sqlite store: open: cannot open or "
                                                         "create the database file")
                     : sq_fail(rc, "open");
    }
    if (!status) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_handler(s->db, sq_busy, s);
        if (sqlite3_db_readonly(s->db, "main") == 1)
            status = omni__err_retry(OMNI_ESTORAGE, 0,
                                     "sqlite store: open: the database file is read-only");
    }
    /* The first statements read the file: a file that is not a database
     * fails here. WAL (where the file system allows it; ":memory:" has
     * none) lets readers work while one connection writes. */
    /* Switching a new file to WAL while another connection does the same is
     * refused at once (SQLITE_BUSY without the busy handler): retry within
     * the same 5 s as any other wait. */
    for (int waited = 0; !status;) {
        rc = pragma_int(s->db, "PRAGMA journal_mode = WAL", NULL);
        if ((rc & 0xff) != SQLITE_BUSY || waited >= SQ_BUSY_TIMEOUT_MS) {
            if (rc != SQLITE_OK)
                status = sq_fail(rc, "open (journal mode)");
            break;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited += 2;
    }
    if (!status && (rc = pragma_int(s->db, "PRAGMA synchronous = NORMAL", NULL)) != SQLITE_OK)
        status = sq_fail(rc, "open (synchronous)");

    for (int waited = 0; !status;) {
        status = setup_schema(s);
        if (status != OMNI_ESTORAGE || !omni_error_last_retryable() ||
            waited >= SQ_BUSY_TIMEOUT_MS)
            break;
        status = OMNI_OK; /* busy: another process is creating the schema */
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited += 2;
    }
    for (int i = 0; !status && i < ST_COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, sq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                                NULL);
        if (rc != SQLITE_OK)
            status = sq_fail(rc, "open (prepare)");
    }
    if (status) {
        sq_close(s);
        return status;
    }
    omni_storage_hook h = OMNI_STORAGE_HOOK_INIT;
    h.ctx = s;
    h.get = sq_get;
    h.put = sq_put;
    h.del = sq_del;
    h.list = sq_list;
    h.close = sq_close;
    *out = h;
    return OMNI_OK;
}

int omni__store_sqlite_owns(const omni_storage_hook *hook)
{
    return hook && hook->get == sq_get;
}
