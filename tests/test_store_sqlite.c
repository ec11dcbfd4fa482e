/* Tests of the "sqlite:PATH" store: the conformance suite on a fresh
 * temporary file per test (and on ":memory:"), data surviving close and
 * reopen, exact compare-and-swap across two connections and across four
 * processes on one file, waiting for and timing out on another writer's
 * lock, unwritable paths, files that are not a libomni store, the expiry
 * grace period and the reclaiming of expired rows, and path validation. */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <omni/omni.h>

#include "omni_config.h"

#if OMNI_HAVE_SQLITE

#include <sqlite3.h>

#include "lib/storage/store_internal.h"
#include "store_conformance.h"

#define T0 INT64_C(1767225600000)

/* ---- temporary files ---------------------------------------------------- */

/* Each criterion test runs in its own process: one file per test. */
static char g_path[64];

static void make_temp(void)
{
    strcpy(g_path, "/tmp/omni-sqlite-XXXXXX");
    int fd = mkstemp(g_path);
    cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
    close(fd);
}

static void remove_temp(void)
{
    if (!g_path[0])
        return;
    char p[80];
    unlink(g_path);
    snprintf(p, sizeof(p), "%s-wal", g_path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", g_path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-journal", g_path);
    unlink(p);
    g_path[0] = '\0';
}

static int open_path(omni_store **out, const char *path)
{
    char uri[128];
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    return omni_store_open(out, uri);
}

static int open_temp(omni_store **out)
{
    if (!g_path[0])
        make_temp();
    return open_path(out, g_path);
}

static omni_store *open_ok(void)
{
    omni_store *s = NULL;
    int rc = open_temp(&s);
    cr_assert_eq(rc, OMNI_OK, "open: %s", omni_error_last_message());
    return s;
}

static int open_memory_db(omni_store **out)
{
    return omni_store_open(out, "sqlite::memory:");
}

TestSuite(store_sqlite, .fini = remove_temp);
STORE_CONFORMANCE_TESTS(store_sqlite, open_temp)

STORE_CONFORMANCE_TESTS(store_sqlite_memory, open_memory_db)

TestSuite(sqlite, .fini = remove_temp);

/* ---- persistence -------------------------------------------------------- */

Test(sqlite, data_survives_reopen)
{
    omni_store *s = open_ok();
    uint64_t v = 0;
    cr_assert_eq(omni_store_put(s, "ns", "a", "{\"n\":1}", 7, OMNI_STORE_CREATE, 0, T0, &v),
                 OMNI_OK);
    cr_assert_eq(omni_store_put(s, "ns", "a", "{\"n\":2}", 7, 1, 0, T0, &v), OMNI_OK);
    cr_assert_eq(omni_store_put(s, "ns", "b", "[]", 2, OMNI_STORE_CREATE, T0 + 5000, T0, NULL),
                 OMNI_OK);
    cr_assert_eq(omni_store_put(s, "other", "\xc3\xa9", "true", 4, OMNI_STORE_CREATE, 0, T0,
                                NULL),
                 OMNI_OK);
    omni_store_free(s);

    s = open_ok();
    char *val = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    int64_t exp = -1;
    cr_assert_eq(omni_store_get(s, "ns", "a", T0, &val, &len, &ver, &exp), OMNI_OK);
    cr_assert_str_eq(val, "{\"n\":2}");
    cr_assert_eq(ver, 2);
    cr_assert_eq(exp, 0);
    omni_free(val);
    cr_assert_eq(omni_store_get(s, "ns", "b", T0, &val, &len, &ver, &exp), OMNI_OK);
    cr_assert_eq(exp, T0 + 5000);
    omni_free(val);
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(s, "other", "", NULL, 10, T0, &out, NULL), OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[{\"key\":\"\xc3\xa9\",\"value\":true,\"version\":1,"
                          "\"expiresAt\":null}],\"next\":null}");
    omni_free(out);
    /* the versions continue across the reopen */
    cr_assert_eq(omni_store_put(s, "ns", "a", "3", 1, 2, 0, T0, &v), OMNI_OK);
    cr_assert_eq(v, 3);
    omni_store_free(s);
}

Test(sqlite, memory_databases_are_separate)
{
    omni_store *a = NULL, *b = NULL;
    cr_assert_eq(omni_store_open(&a, "sqlite::memory:"), OMNI_OK);
    cr_assert_eq(omni_store_open(&b, "SQLITE::memory:"), OMNI_OK);
    cr_assert_eq(omni_store_put(a, "ns", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL), OMNI_OK);
    char *v = NULL;
    cr_assert_eq(omni_store_get(b, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_ENOTFOUND);
    omni_store_free(a);
    omni_store_free(b);
}

/* ---- concurrency across connections and processes ----------------------- */

#define CAS_THREADS 4
#define CAS_INCREMENTS 250

typedef struct {
    omni_store *s;
    int increments;
    int failures;
} cas_worker;

/* Adds one to ctr/counter `n` times by get + compare-and-swap. */
static int increment(omni_store *s, int n)
{
    for (int i = 0; i < n; i++) {
        for (;;) {
            char *v = NULL;
            uint64_t ver = 0;
            int rc = omni_store_get(s, "ctr", "counter", T0, &v, NULL, &ver, NULL);
            if (rc == OMNI_ENOTFOUND) {
                rc = omni_store_put(s, "ctr", "counter", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL);
                if (rc == OMNI_OK)
                    break;
                if (rc != OMNI_EEXISTS)
                    return rc;
                continue;
            }
            if (rc != OMNI_OK)
                return rc;
            long cur = strtol(v, NULL, 10);
            omni_free(v);
            char buf[32];
            int len = snprintf(buf, sizeof(buf), "%ld", cur + 1);
            rc = omni_store_put(s, "ctr", "counter", buf, (size_t)len, ver, 0, T0, NULL);
            if (rc == OMNI_OK)
                break;
            if (rc != OMNI_ECONFLICT)
                return rc;
        }
    }
    return OMNI_OK;
}

static void *cas_thread(void *arg)
{
    cas_worker *w = arg;
    if (increment(w->s, w->increments))
        w->failures++;
    return NULL;
}

static void expect_counter(omni_store *s, long want)
{
    char *v = NULL;
    uint64_t ver = 0;
    cr_assert_eq(omni_store_get(s, "ctr", "counter", T0, &v, NULL, &ver, NULL), OMNI_OK);
    cr_assert_eq(strtol(v, NULL, 10), want, "counter %s, want %ld", v, want);
    cr_assert_eq(ver, (uint64_t)want, "every increment is one version");
    omni_free(v);
}

Test(sqlite, two_connections_cas_exact)
{
    omni_store *a = open_ok();
    omni_store *b = open_ok();
    pthread_t th[CAS_THREADS];
    cas_worker w[CAS_THREADS];
    for (int i = 0; i < CAS_THREADS; i++) {
        w[i] = (cas_worker){i % 2 ? a : b, CAS_INCREMENTS, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, cas_thread, &w[i]), 0);
    }
    for (int i = 0; i < CAS_THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0, "worker %d: %s", i, omni_error_last_message());
    }
    expect_counter(a, CAS_THREADS * CAS_INCREMENTS);
    expect_counter(b, CAS_THREADS * CAS_INCREMENTS);
    omni_store_free(a);
    omni_store_free(b);
}

Test(sqlite, four_processes_cas_exact)
{
    make_temp();
    pid_t pids[4];
    for (int i = 0; i < 4; i++) {
        pids[i] = fork();
        cr_assert_geq(pids[i], 0);
        if (pids[i] == 0) {
            omni_store *s = NULL;
            int rc = open_path(&s, g_path);
            if (!rc)
                rc = increment(s, 100);
            omni_store_free(s);
            _exit(rc ? 1 : 0);
        }
    }
    for (int i = 0; i < 4; i++) {
        int st = 0;
        cr_assert_eq(waitpid(pids[i], &st, 0), pids[i]);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "process %d failed", i);
    }
    omni_store *s = open_ok();
    expect_counter(s, 400);
    omni_store_free(s);
}

/* Holds the write lock of the file through a raw connection. */
typedef struct {
    const char *path;
    int hold_ms;
    sqlite3 *db;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int locked;
} locker;

static void *lock_thread(void *arg)
{
    locker *l = arg;
    sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    pthread_mutex_lock(&l->mu);
    l->locked = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    struct timespec ts = {l->hold_ms / 1000, (long)(l->hold_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

static void start_locker(locker *l, pthread_t *th, int hold_ms)
{
    l->path = g_path;
    l->hold_ms = hold_ms;
    l->locked = 0;
    cr_assert_eq(sqlite3_open(g_path, &l->db), SQLITE_OK);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    cr_assert_eq(pthread_create(th, NULL, lock_thread, l), 0);
    pthread_mutex_lock(&l->mu);
    while (!l->locked)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

static void stop_locker(locker *l, pthread_t th)
{
    pthread_join(th, NULL);
    sqlite3_close(l->db);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
}

Test(sqlite, waits_for_another_writer)
{
    omni_store *s = open_ok();
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL), OMNI_OK);
    locker l;
    pthread_t th;
    start_locker(&l, &th, 300);
    /* reads go on while another connection writes (WAL) */
    char *v = NULL;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_OK);
    omni_free(v);
    /* a write waits for the lock */
    uint64_t ver = 0;
    cr_assert_eq(omni_store_put(s, "ns", "k", "2", 1, 1, 0, T0, &ver), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(ver, 2);
    stop_locker(&l, th);
    omni_store_free(s);
}

Test(sqlite, busy_timeout_is_retryable_storage_error, .timeout = 30)
{
    omni_store *s = open_ok();
    locker l;
    pthread_t th;
    start_locker(&l, &th, 6500);
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_code(), "DATABASE_ERROR");
    cr_assert_eq(omni_error_last_retryable(), 1);
    const char *msg = omni_error_last_message();
    cr_assert(strstr(msg, "put") != NULL && strstr(msg, "locked") != NULL, "%s", msg);
    stop_locker(&l, th);
    /* and afterwards the store works */
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL), OMNI_OK);
    omni_store_free(s);
}

/* ---- paths and files that cannot serve -------------------------------- */

static void expect_open_fails(const char *path, int want)
{
    omni_store *s = (omni_store *)1;
    char uri[256];
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    cr_assert_eq(omni_store_open(&s, uri), want, "%s: %s", path, omni_error_last_message());
    cr_assert_null(s);
    /* the message never echoes the path */
    if (path[0])
        cr_assert(strstr(omni_error_last_message(), path) == NULL, "%s",
                  omni_error_last_message());
}

Test(sqlite, unwritable_paths)
{
    expect_open_fails("/nonexistent-omni-dir/store.db", OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_code(), "DATABASE_ERROR");
    cr_assert_eq(omni_error_last_retryable(), 0);
    expect_open_fails("/proc/omni-store.db", OMNI_ESTORAGE); /* nothing can be created there */
    expect_open_fails("/tmp", OMNI_ESTORAGE);                /* a directory */
    if (geteuid() != 0) {
        /* a read-only file (root writes anyway) */
        omni_store *s = open_ok();
        omni_store_free(s);
        cr_assert_eq(chmod(g_path, 0444), 0);
        expect_open_fails(g_path, OMNI_ESTORAGE);
    }
}

Test(sqlite, corrupt_file)
{
    make_temp();
    FILE *f = fopen(g_path, "wb");
    cr_assert_not_null(f);
    unsigned char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    cr_assert_eq(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
    fclose(f);
    expect_open_fails(g_path, OMNI_ESTORAGE);
    cr_assert_eq(omni_error_last_retryable(), 0);
    const char *msg = omni_error_last_message();
    cr_assert(strstr(msg, "open") != NULL && strstr(msg, "not a database") != NULL, "%s", msg);
}

Test(sqlite, foreign_and_newer_databases)
{
    make_temp();
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(g_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(g_path, OMNI_ESTORAGE);
    cr_assert(strstr(omni_error_last_message(), "another application") != NULL);
    remove_temp();

    omni_store *s = open_ok();
    omni_store_free(s);
    cr_assert_eq(sqlite3_open(g_path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    expect_open_fails(g_path, OMNI_ESTORAGE);
    cr_assert(strstr(omni_error_last_message(), "newer") != NULL);
}

Test(sqlite, path_validation)
{
    expect_open_fails("", OMNI_EINVAL);
    omni_storage_hook h = OMNI_STORAGE_HOOK_INIT;
    cr_assert_eq(omni__store_sqlite_open(&h, NULL), OMNI_EINVAL);
    char *long_path = malloc(4098);
    cr_assert_not_null(long_path);
    memset(long_path, 'p', 4097);
    long_path[4097] = '\0';
    cr_assert_eq(omni__store_sqlite_open(&h, long_path), OMNI_EINVAL);
    cr_assert_null(h.ctx);
    free(long_path);
    /* 4096 bytes is accepted as a length (the name itself is too long for the OS) */
    char *max_path = malloc(4097);
    memset(max_path, 'p', 4096);
    max_path[0] = '/';
    max_path[4096] = '\0';
    cr_assert_eq(omni__store_sqlite_open(&h, max_path), OMNI_ESTORAGE);
    free(max_path);
}

/* ---- expiry ------------------------------------------------------------- */

Test(sqlite, version_kept_within_grace_then_restarts)
{
    omni_store *s = open_ok();
    cr_assert_eq(omni_store_put(s, "ns", "kept", "1", 1, OMNI_STORE_CREATE, T0 + 1000, T0, NULL),
                 OMNI_OK);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(omni_store_put(s, "ns", "gone", "1", 1, OMNI_STORE_ANY_VERSION, T0 + 1000,
                                    T0, NULL),
                     OMNI_OK);
    int64_t within = T0 + 1000 + OMNI__STORE_MEMORY_GRACE_MS - 1;
    uint64_t v = 0;
    cr_assert_eq(omni_store_put(s, "ns", "kept", "2", 1, OMNI_STORE_CREATE, 0, within, &v),
                 OMNI_OK);
    cr_assert_eq(v, 2, "within the grace period the version continues");
    int64_t after = T0 + 1000 + OMNI__STORE_MEMORY_GRACE_MS;
    cr_assert_eq(omni_store_put(s, "ns", "gone", "2", 1, OMNI_STORE_CREATE, 0, after, &v),
                 OMNI_OK);
    cr_assert_eq(v, 1, "after the grace period the record is forgotten");
    omni_store_free(s);
}

static long count_rows(void)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open(g_path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM records", -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    long n = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

Test(sqlite, expired_rows_are_reclaimed)
{
    omni_store *s = open_ok();
    char key[16];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "t%04d", i);
        cr_assert_eq(omni_store_put(s, "ttl", key, "1", 1, OMNI_STORE_CREATE, T0 + 10, T0, NULL),
                     OMNI_OK);
    }
    cr_assert_eq(omni_store_put(s, "ttl", "zz", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_OK);
    cr_assert_eq(count_rows(), 501);
    /* within the grace period the rows stay (invisible) */
    int64_t within = T0 + 10 + OMNI__STORE_MEMORY_GRACE_MS - 1;
    for (int i = 0; i < 2000; i++)
        cr_assert_eq(omni_store_put(s, "ttl", "zz", "1", 1, OMNI_STORE_ANY_VERSION, 0, within,
                                    NULL),
                     OMNI_OK);
    cr_assert_eq(count_rows(), 501);
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(s, "ttl", "", NULL, 5, within, &out, NULL), OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[{\"key\":\"zz\",\"value\":1,\"version\":2001,"
                          "\"expiresAt\":null}],\"next\":null}");
    omni_free(out);
    /* afterwards writers delete them a few at a time */
    int64_t after = within + 1;
    for (int i = 0; i < 2000; i++)
        cr_assert_eq(omni_store_put(s, "ttl", "zz", "1", 1, OMNI_STORE_ANY_VERSION, 0, after,
                                    NULL),
                     OMNI_OK);
    cr_assert_eq(count_rows(), 1);
    omni_store_free(s);
}

/* ---- the table called directly ------------------------------------------ */

static int count_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    (void)version;
    (void)expires_at_ms;
    (*(int *)ctx)++;
    return 0;
}

Test(sqlite, table_checks_lengths)
{
    omni_store *a = open_ok();
    omni_storage_hook h;
    cr_assert_eq(omni_store_get_hook(a, &h), OMNI_OK);
    char *v = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    int64_t exp = 0;
    cr_assert_eq(h.get(h.ctx, "", "k", T0, &v, &len, &ver, &exp), OMNI_EINVAL);
    cr_assert_eq(h.get(h.ctx, "ns", NULL, T0, &v, &len, &ver, &exp), OMNI_EINVAL);
    char *long_key = malloc(OMNI_STORE_MAX_KEY + 2);
    memset(long_key, 'k', OMNI_STORE_MAX_KEY + 1);
    long_key[OMNI_STORE_MAX_KEY + 1] = '\0';
    cr_assert_eq(h.put(h.ctx, "ns", long_key, "1", 1, OMNI_STORE_CREATE, 0, T0, &ver),
                 OMNI_EINVAL);
    cr_assert_eq(h.del(h.ctx, "ns", long_key, OMNI_STORE_ANY_VERSION, T0), OMNI_EINVAL);
    cr_assert_eq(h.list(h.ctx, "ns", long_key, "", 10, T0, count_cb, &len, &v), OMNI_EINVAL);
    free(long_key);
    cr_assert_eq(h.put(h.ctx, "ns", "k", NULL, 1, OMNI_STORE_CREATE, 0, T0, &ver), OMNI_EINVAL);
    cr_assert_eq(h.put(h.ctx, "ns", "k", "1", 1, OMNI_STORE_CREATE, -1, T0, &ver), OMNI_EINVAL);
    char *next = NULL;
    int n = 0;
    cr_assert_eq(h.list(h.ctx, "ns", NULL, "", 10, T0, count_cb, &n, &next), OMNI_EINVAL);
    /* a prefix of 0xff bytes has no upper bound */
    cr_assert_eq(h.list(h.ctx, "ns", "\xff\xff", "", 10, T0, count_cb, &n, &next), OMNI_OK);
    cr_assert_eq(n, 0);
    cr_assert_null(next);
    omni_store_free(a);
}

#else /* !OMNI_HAVE_SQLITE */

Test(sqlite, not_built)
{
    omni_store *s = (omni_store *)1;
    cr_assert_eq(omni_store_open(&s, "sqlite:/tmp/omni-test.db"), OMNI_EUNSUPPORTED);
    cr_assert_null(s);
}

#endif
