/* Tests of the store: the conformance suite on "memory:" and on a host hook
 * wrapped around it, opening by URI, wrapping host hooks (versions, missing
 * callbacks, error propagation), omni_store_get_hook, the memory backend's
 * reclamation of expired records, and the internal fast paths. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/storage/store_internal.h"
#include "omni_config.h"
#include "store_conformance.h"

#define T0 INT64_C(1767225600000)

/* ---- the suite on the bundled backend ----------------------------------- */

static int open_memory(omni_store **out)
{
    return omni_store_open(out, "memory:");
}

STORE_CONFORMANCE_TESTS(store_memory, open_memory)

/* ---- the suite through a host hook -------------------------------------- */

/* A host's table that forwards to a memory store's table. Its get hands out
 * an exact-size buffer without a NUL, as a host may. */
typedef struct {
    omni_store *inner;
    omni_storage_hook h;
} fwd_ctx;

static int fwd_get(void *ctx, const char *ns, const char *key, int64_t now_ms, char **value,
                   size_t *value_len, uint64_t *version, int64_t *expires_at_ms)
{
    fwd_ctx *c = ctx;
    char *v = NULL;
    size_t len = 0;
    int rc = c->h.get(c->h.ctx, ns, key, now_ms, &v, &len, version, expires_at_ms);
    if (rc)
        return rc;
    char *exact = omni_malloc(len);
    if (!exact) {
        omni_free(v);
        return omni_error_set(OMNI_ENOMEM, NULL, -1);
    }
    memcpy(exact, v, len);
    omni_free(v);
    *value = exact;
    *value_len = len;
    return OMNI_OK;
}

static int fwd_put(void *ctx, const char *ns, const char *key, const char *value, size_t value_len,
                   uint64_t expected_version, int64_t expires_at_ms, int64_t now_ms,
                   uint64_t *new_version)
{
    fwd_ctx *c = ctx;
    return c->h.put(c->h.ctx, ns, key, value, value_len, expected_version, expires_at_ms, now_ms,
                    new_version);
}

static int fwd_del(void *ctx, const char *ns, const char *key, uint64_t expected_version,
                   int64_t now_ms)
{
    fwd_ctx *c = ctx;
    return c->h.del(c->h.ctx, ns, key, expected_version, now_ms);
}

static int fwd_list(void *ctx, const char *ns, const char *prefix, const char *after_key,
                    size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                    char **next_key)
{
    fwd_ctx *c = ctx;
    return c->h.list(c->h.ctx, ns, prefix, after_key, limit, now_ms, cb, cb_ctx, next_key);
}

static void fwd_close(void *ctx)
{
    fwd_ctx *c = ctx;
    omni_store_free(c->inner);
    free(c);
}

static int open_wrapped(omni_store **out)
{
    fwd_ctx *c = calloc(1, sizeof(*c));
    cr_assert_not_null(c);
    cr_assert_eq(omni_store_open(&c->inner, "memory:"), OMNI_OK);
    cr_assert_eq(omni_store_get_hook(c->inner, &c->h), OMNI_OK);
    omni_storage_hook h;
    cr_assert_eq(omni_storage_hook_init(&h, OMNI_STORAGE_HOOK_VERSION), OMNI_OK);
    h.ctx = c;
    h.get = fwd_get;
    h.put = fwd_put;
    h.del = fwd_del;
    h.list = fwd_list;
    h.close = fwd_close;
    int rc = omni_store_wrap(out, &h);
    if (rc)
        fwd_close(c);
    return rc;
}

STORE_CONFORMANCE_TESTS(store_wrapped, open_wrapped)

/* ---- opening by URI ----------------------------------------------------- */

Test(store_open, memory)
{
    omni_store *s = NULL;
    cr_assert_eq(omni_store_open(&s, "memory:"), OMNI_OK);
    cr_assert_not_null(s);
    omni_store_free(s);
    cr_assert_eq(omni_store_open(&s, "MEMORY:"), OMNI_OK, "schemes are case-insensitive");
    omni_store_free(s);
}

Test(store_open, memory_takes_no_path)
{
    omni_store *s = (omni_store *)1;
    cr_assert_eq(omni_store_open(&s, "memory:x"), OMNI_EINVAL);
    cr_assert_null(s);
    cr_assert_eq(omni_store_open(&s, "memory://"), OMNI_EINVAL);
}

#if !OMNI_HAVE_SQLITE
Test(store_open, sqlite_not_built)
{
    omni_store *s = (omni_store *)1;
    cr_assert_eq(omni_store_open(&s, "sqlite:/tmp/omni-test.db"), OMNI_EUNSUPPORTED);
    cr_assert_null(s);
    cr_assert(strstr(omni_error_last_message(), "SQLite") != NULL, "%s",
              omni_error_last_message());
    cr_assert_str_eq(omni_error_last_code(), "UNSUPPORTED");
}
#endif /* with SQLite: tests/test_store_sqlite.c */

Test(store_open, unknown_scheme_named_without_the_rest)
{
    omni_store *s = (omni_store *)1;
    cr_assert_eq(omni_store_open(&s, "redis://user:hunter2@127.0.0.1/0"), OMNI_EUNSUPPORTED);
    cr_assert_null(s);
    const char *msg = omni_error_last_message();
    cr_assert(strstr(msg, "\"redis\"") != NULL, "%s", msg);
    cr_assert(strstr(msg, "hunter2") == NULL, "the URI may hold a secret: %s", msg);
    cr_assert_eq(omni_store_open(&s, "postgres+ssl:x"), OMNI_EUNSUPPORTED);
}

Test(store_open, malformed)
{
    omni_store *s = (omni_store *)1;
    const char *bad[] = {"memory", "", ":", ":memory", "1abc:", "a b:", "mem ory:", "m\xc3\xa9:",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(omni_store_open(&s, bad[i]), OMNI_EINVAL, "uri %zu", i);
        cr_assert_null(s);
    }
    cr_assert_eq(omni_store_open(&s, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_store_open(NULL, "memory:"), OMNI_EINVAL);
    char *long_uri = malloc(5001);
    memcpy(long_uri, "sqlite:", 7);
    memset(long_uri + 7, 'p', 5001 - 8);
    long_uri[5000] = '\0';
    cr_assert_eq(omni_store_open(&s, long_uri), OMNI_EINVAL);
    free(long_uri);
}

Test(store_open, engine_storage_config)
{
    omni_engine *e = NULL;
    const char *cfg = "{\"storage\":\"memory:\"}";
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), NULL), OMNI_OK);
    omni_store *s = omni_engine_store(e);
    cr_assert_not_null(s);
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL), OMNI_OK);
    omni_engine_free(e);
    /* a backend that cannot open fails the engine (not built, or no such directory) */
    cfg = "{\"storage\":\"sqlite:/nonexistent-omni-dir/x.db\"}";
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), NULL),
                 OMNI_HAVE_SQLITE ? OMNI_ESTORAGE : OMNI_EUNSUPPORTED);
    cr_assert_null(e);
}

/* ---- wrapping host hooks ------------------------------------------------ */

/* A host table with fault injection. */
enum {
    MODE_OK,          /* behave: an empty store that accepts writes */
    MODE_FIRE,        /* omni_error_set(OMNI_ESTORAGE, "disk on fire", 1) */
    MODE_BARE,        /* return OMNI_ESTORAGE without a message */
    MODE_NOTFOUND,    /* return OMNI_ENOTFOUND without a message */
    MODE_UNKNOWN,     /* return -999 */
    MODE_POSITIVE,    /* return 7 */
    MODE_MISMATCH,    /* set OMNI_ESTORAGE, return OMNI_ECONFLICT */
    MODE_NULL_VALUE,  /* get: OK without a value */
    MODE_ZERO_VERSION, /* get: a value at version 0; put: no new version */
    MODE_HUGE_VALUE,  /* get: a value length over the limit */
    MODE_FLOOD,       /* list: ignores limit and stop, 5 records */
    MODE_BAD_JSON,    /* list: a value that is not JSON */
    MODE_BAD_KEY      /* list: a key that is not UTF-8 */
};

typedef struct {
    int mode;
    int calls;
    int closed;
    int delivered; /* records the caller's callback saw */
} fault_ctx;

static int fault_status(fault_ctx *f)
{
    switch (f->mode) {
    case MODE_FIRE: return omni_error_set(OMNI_ESTORAGE, "disk on fire", 1);
    case MODE_BARE: return OMNI_ESTORAGE;
    case MODE_NOTFOUND: return OMNI_ENOTFOUND;
    case MODE_UNKNOWN: return -999;
    case MODE_POSITIVE: return 7;
    case MODE_MISMATCH:
        omni_error_set(OMNI_ESTORAGE, "a message for another status", -1);
        return OMNI_ECONFLICT;
    default: return OMNI_OK;
    }
}

static int fault_get(void *ctx, const char *ns, const char *key, int64_t now_ms, char **value,
                     size_t *value_len, uint64_t *version, int64_t *expires_at_ms)
{
    (void)ns;
    (void)key;
    (void)now_ms;
    fault_ctx *f = ctx;
    f->calls++;
    int rc = fault_status(f);
    if (rc)
        return rc;
    if (f->mode == MODE_NULL_VALUE)
        return OMNI_OK;
    *value = omni_malloc(4);
    memcpy(*value, "true", 4);
    *value_len = f->mode == MODE_HUGE_VALUE ? OMNI_STORE_MAX_VALUE + 1 : 4;
    *version = f->mode == MODE_ZERO_VERSION ? 0 : 3;
    *expires_at_ms = 0;
    return OMNI_OK;
}

static int fault_put(void *ctx, const char *ns, const char *key, const char *value,
                     size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                     int64_t now_ms, uint64_t *new_version)
{
    (void)ns;
    (void)key;
    (void)value;
    (void)value_len;
    (void)expected_version;
    (void)expires_at_ms;
    (void)now_ms;
    fault_ctx *f = ctx;
    f->calls++;
    int rc = fault_status(f);
    if (rc)
        return rc;
    if (f->mode != MODE_ZERO_VERSION)
        *new_version = 1;
    return OMNI_OK;
}

static int fault_del(void *ctx, const char *ns, const char *key, uint64_t expected_version,
                     int64_t now_ms)
{
    (void)ns;
    (void)key;
    (void)expected_version;
    (void)now_ms;
    fault_ctx *f = ctx;
    f->calls++;
    return fault_status(f);
}

static int fault_list(void *ctx, const char *ns, const char *prefix, const char *after_key,
                      size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                      char **next_key)
{
    (void)ns;
    (void)prefix;
    (void)after_key;
    (void)limit;
    (void)now_ms;
    fault_ctx *f = ctx;
    f->calls++;
    int rc = fault_status(f);
    if (rc)
        return rc;
    if (f->mode == MODE_FLOOD) {
        for (int i = 0; i < 5; i++)
            cb(cb_ctx, "k", 1, "1", 1, 1, 0); /* ignores the return value */
        *next_key = omni_malloc(2);
        memcpy(*next_key, "k", 2);
    } else if (f->mode == MODE_BAD_JSON) {
        cb(cb_ctx, "k", 1, "{bad", 4, 1, 0);
    } else if (f->mode == MODE_BAD_KEY) {
        cb(cb_ctx, "\xff", 1, "1", 1, 1, 0);
    }
    return OMNI_OK;
}

static void fault_close(void *ctx)
{
    ((fault_ctx *)ctx)->closed++;
}

static omni_storage_hook fault_hook(fault_ctx *f)
{
    omni_storage_hook h = OMNI_STORAGE_HOOK_INIT;
    h.ctx = f;
    h.get = fault_get;
    h.put = fault_put;
    h.del = fault_del;
    h.list = fault_list;
    h.close = fault_close;
    return h;
}

static omni_store *fault_store(fault_ctx *f)
{
    omni_storage_hook h = fault_hook(f);
    omni_store *s = NULL;
    cr_assert_eq(omni_store_wrap(&s, &h), OMNI_OK);
    return s;
}

static int count_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    (void)version;
    (void)expires_at_ms;
    ((fault_ctx *)ctx)->delivered++;
    return 0;
}

static int stop_cb(void *ctx, const char *key, size_t key_len, const char *value,
                   size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    count_cb(ctx, key, key_len, value, value_len, version, expires_at_ms);
    return 1;
}

/* Every operation fails with `want`; returns after checking the message. */
static void expect_every_op(omni_store *s, int want, const char *message)
{
    char *v = (char *)"sentinel";
    int rc = omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL);
    cr_assert_eq(rc, want, "get: %d", rc);
    cr_assert_null(v);
    if (message)
        cr_assert_str_eq(omni_error_last_message(), message);
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_ANY_VERSION, 0, T0, NULL), want);
    if (message)
        cr_assert_str_eq(omni_error_last_message(), message);
    cr_assert_eq(omni_store_delete(s, "ns", "k", OMNI_STORE_ANY_VERSION, T0), want);
    if (message)
        cr_assert_str_eq(omni_error_last_message(), message);
    fault_ctx dummy = {0};
    char *next = (char *)"sentinel";
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 10, T0, count_cb, &dummy, &next), want);
    cr_assert_null(next);
    if (message)
        cr_assert_str_eq(omni_error_last_message(), message);
    char *out = (char *)"sentinel";
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, T0, &out, NULL), want);
    cr_assert_null(out);
}

Test(store_wrap, refuses_bad_tables)
{
    fault_ctx f = {0};
    omni_storage_hook h = fault_hook(&f);
    omni_store *s = (omni_store *)1;
    cr_assert_eq(omni_store_wrap(&s, NULL), OMNI_EINVAL);
    cr_assert_null(s);
    cr_assert_eq(omni_store_wrap(NULL, &h), OMNI_EINVAL);
    h.version = 0;
    cr_assert_eq(omni_store_wrap(&s, &h), OMNI_EVERSION);
    cr_assert_str_eq(omni_error_last_code(), "UNSUPPORTED_VERSION");
    h.version = 99;
    cr_assert_eq(omni_store_wrap(&s, &h), OMNI_EVERSION);
    cr_assert_null(s);
    const char *names[] = {"get", "put", "del", "list"};
    for (int i = 0; i < 4; i++) {
        h = fault_hook(&f);
        switch (i) {
        case 0: h.get = NULL; break;
        case 1: h.put = NULL; break;
        case 2: h.del = NULL; break;
        default: h.list = NULL; break;
        }
        cr_assert_eq(omni_store_wrap(&s, &h), OMNI_EINVAL);
        cr_assert_null(s);
        cr_assert(strstr(omni_error_last_message(), names[i]) != NULL, "%s",
                  omni_error_last_message());
    }
    cr_assert_eq(f.calls, 0);
    cr_assert_eq(f.closed, 0, "a refused table is not closed");
}

Test(store_wrap, close_on_free)
{
    fault_ctx f = {0};
    omni_store *s = fault_store(&f);
    cr_assert_eq(f.closed, 0);
    omni_store_free(s);
    cr_assert_eq(f.closed, 1);
    /* close is optional */
    omni_storage_hook h = fault_hook(&f);
    h.close = NULL;
    cr_assert_eq(omni_store_wrap(&s, &h), OMNI_OK);
    omni_store_free(s);
    cr_assert_eq(f.closed, 1);
}

Test(store_wrap, host_message_kept)
{
    fault_ctx f = {MODE_FIRE, 0, 0, 0};
    omni_store *s = fault_store(&f);
    expect_every_op(s, OMNI_ESTORAGE, "disk on fire");
    cr_assert_str_eq(omni_error_last_code(), "DATABASE_ERROR");
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_eq(f.calls, 5);
    omni_store_free(s);
}

Test(store_wrap, bare_error_gets_a_message)
{
    fault_ctx f = {MODE_BARE, 0, 0, 0};
    omni_store *s = fault_store(&f);
    /* a stale message from an earlier failure must not be reused */
    omni_error_set(OMNI_ESTORAGE, "an old message", -1);
    expect_every_op(s, OMNI_ESTORAGE, NULL);
    cr_assert(strstr(omni_error_last_message(), "old") == NULL);
    cr_assert(strstr(omni_error_last_message(), "storage list hook failed") != NULL, "%s",
              omni_error_last_message());
    char *v = NULL;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_ESTORAGE);
    cr_assert(strstr(omni_error_last_message(), "storage get hook failed") != NULL);
    f.mode = MODE_NOTFOUND;
    expect_every_op(s, OMNI_ENOTFOUND, NULL);
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_ENOTFOUND);
    cr_assert(strstr(omni_error_last_message(), "no record") != NULL);
    f.mode = MODE_MISMATCH;
    expect_every_op(s, OMNI_ECONFLICT, NULL);
    cr_assert_eq(omni_error_last_status(), OMNI_ECONFLICT);
    omni_store_free(s);
}

Test(store_wrap, unknown_status_is_ehook)
{
    fault_ctx f = {MODE_UNKNOWN, 0, 0, 0};
    omni_store *s = fault_store(&f);
    expect_every_op(s, OMNI_EHOOK, NULL);
    cr_assert_str_eq(omni_error_last_code(), "HOOK_FAILED");
    cr_assert(strstr(omni_error_last_message(), "-999") != NULL, "%s",
              omni_error_last_message());
    f.mode = MODE_POSITIVE;
    expect_every_op(s, OMNI_EHOOK, NULL);
    omni_store_free(s);
}

Test(store_wrap, bad_outputs_are_ehook)
{
    fault_ctx f = {MODE_NULL_VALUE, 0, 0, 0};
    omni_store *s = fault_store(&f);
    char *v = (char *)"sentinel";
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_EHOOK);
    cr_assert_null(v);
    f.mode = MODE_ZERO_VERSION; /* the value is freed, not leaked */
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_EHOOK);
    cr_assert_null(v);
    uint64_t nv = 5;
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, &nv), OMNI_EHOOK);
    cr_assert_eq(nv, 5);
    f.mode = MODE_HUGE_VALUE;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_EHOOK);
    cr_assert_null(v);
    /* a well-behaved answer without a NUL comes back NUL-terminated */
    f.mode = MODE_OK;
    size_t len = 0;
    uint64_t ver = 0;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, &len, &ver, NULL), OMNI_OK);
    cr_assert_eq(len, 4);
    cr_assert_str_eq(v, "true");
    cr_assert_eq(ver, 3);
    omni_free(v);
    omni_store_free(s);
}

Test(store_wrap, list_guard)
{
    fault_ctx f = {MODE_FLOOD, 0, 0, 0};
    omni_store *s = fault_store(&f);
    char *next = NULL;
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 2, T0, count_cb, &f, &next), OMNI_OK);
    cr_assert_eq(f.delivered, 2, "never more than limit records");
    cr_assert_str_eq(next, "k");
    omni_free(next);
    f.delivered = 0;
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 10, T0, stop_cb, &f, NULL), OMNI_OK);
    cr_assert_eq(f.delivered, 1, "nothing after the callback asked to stop");
    /* list_json checks what a host returns */
    f.mode = MODE_BAD_JSON;
    char *out = (char *)"sentinel";
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, T0, &out, NULL), OMNI_ESTORAGE);
    cr_assert_null(out);
    cr_assert_eq(omni_error_last_retryable(), 0);
    f.mode = MODE_BAD_KEY;
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, T0, &out, NULL), OMNI_ESTORAGE);
    cr_assert_null(out);
    omni_store_free(s);
}

Test(store_wrap, arguments_checked_before_the_hook)
{
    fault_ctx f = {MODE_OK, 0, 0, 0};
    omni_store *s = fault_store(&f);
    char *v = NULL;
    cr_assert_eq(omni_store_get(s, "BAD", "k", T0, &v, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_store_get(s, "ns", "", T0, &v, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_store_put(s, "ns", "k", "{", 1, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EJSON);
    cr_assert_eq(omni_store_put(s, "ns", "k", "1", 1, OMNI_STORE_CREATE, -1, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni_store_delete(s, "ns", "k", OMNI_STORE_CREATE, T0), OMNI_EINVAL);
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 0, T0, count_cb, &f, NULL), OMNI_EINVAL);
    cr_assert_eq(f.calls, 0);
    omni_store_free(s);
}

Test(store_wrap, engine_uses_host_hook)
{
    fault_ctx f = {MODE_FIRE, 0, 0, 0};
    omni_storage_hook h = fault_hook(&f);
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.storage = &h;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &hooks), OMNI_OK);
    char *v = NULL;
    cr_assert_eq(omni_store_get(omni_engine_store(e), "ns", "k", T0, &v, NULL, NULL, NULL),
                 OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_message(), "disk on fire");
    omni_engine_free(e);
    cr_assert_eq(f.closed, 1);
}

/* ---- omni_store_get_hook ------------------------------------------------ */

Test(store_hook, round_trip)
{
    omni_store *a = NULL;
    cr_assert_eq(omni_store_open(&a, "memory:"), OMNI_OK);
    cr_assert_eq(omni_store_put(a, "ns", "k", "[1]", 3, OMNI_STORE_CREATE, 0, T0, NULL), OMNI_OK);
    omni_storage_hook h;
    memset(&h, 0xab, sizeof(h));
    cr_assert_eq(omni_store_get_hook(a, &h), OMNI_OK);
    cr_assert_eq(h.version, OMNI_STORAGE_HOOK_VERSION);
    cr_assert_null(h.close, "the copy must not free the backend");
    cr_assert(h.ctx && h.get && h.put && h.del && h.list);
    /* the table works when called directly */
    char *v = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    int64_t exp = -1;
    cr_assert_eq(h.get(h.ctx, "ns", "k", T0, &v, &len, &ver, &exp), OMNI_OK);
    cr_assert_eq(len, 3);
    cr_assert(memcmp(v, "[1]", 3) == 0);
    cr_assert_eq(ver, 1);
    cr_assert_eq(exp, 0);
    omni_free(v);
    /* a second store over the same backend sees the same records */
    omni_store *b = NULL;
    cr_assert_eq(omni_store_wrap(&b, &h), OMNI_OK);
    cr_assert_eq(omni_store_put(b, "ns", "k", "[2]", 3, 1, 0, T0, NULL), OMNI_OK);
    omni_store_free(b); /* close is NULL: a keeps working */
    cr_assert_eq(omni_store_get(a, "ns", "k", T0, &v, &len, &ver, NULL), OMNI_OK);
    cr_assert_str_eq(v, "[2]");
    cr_assert_eq(ver, 2);
    omni_free(v);
    /* and an engine can be handed the bundled backend */
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.storage = &h;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &hooks), OMNI_OK);
    cr_assert_eq(omni_store_get(omni_engine_store(e), "ns", "k", T0, &v, &len, &ver, NULL),
                 OMNI_OK);
    cr_assert_eq(ver, 2);
    omni_free(v);
    omni_engine_free(e);
    omni_store_free(a);
}

Test(store_hook, memory_table_checks_lengths)
{
    omni_store *a = NULL;
    cr_assert_eq(omni_store_open(&a, "memory:"), OMNI_OK);
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
    free(long_key);
    cr_assert_eq(h.put(h.ctx, "ns", "k", NULL, 1, OMNI_STORE_CREATE, 0, T0, &ver), OMNI_EINVAL);
    char *next = NULL;
    cr_assert_eq(h.list(h.ctx, "ns", NULL, "", 10, T0, count_cb, NULL, &next), OMNI_EINVAL);
    omni_store_free(a);
}

/* ---- memory backend: reclaiming expired records ------------------------- */

/* Enough writes to sweep every bucket of a small table several times. */
static void churn(omni_store *s, int64_t now)
{
    for (int i = 0; i < 2000; i++) {
        char key[8];
        snprintf(key, sizeof(key), "c%d", i % 8);
        cr_assert_eq(omni_store_put(s, "churn", key, "0", 1, OMNI_STORE_ANY_VERSION, 0, now,
                                    NULL),
                     OMNI_OK);
    }
}

Test(store_memory_expiry, version_kept_within_grace_then_reclaimed)
{
    omni_store *s = NULL;
    cr_assert_eq(omni_store_open(&s, "memory:"), OMNI_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(omni_store_put(s, "ns", i ? "gone" : "kept", "1", 1, OMNI_STORE_ANY_VERSION,
                                    T0 + 1000, T0, NULL),
                     OMNI_OK);
    /* kept: version 1; gone: versions 1, 2 */
    int64_t within = T0 + 1000 + OMNI__STORE_MEMORY_GRACE_MS - 1;
    churn(s, within);
    uint64_t v = 0;
    cr_assert_eq(omni_store_put(s, "ns", "kept", "2", 1, OMNI_STORE_CREATE, 0, within, &v),
                 OMNI_OK);
    cr_assert_eq(v, 2, "within the grace period the version continues");
    int64_t after = T0 + 1000 + OMNI__STORE_MEMORY_GRACE_MS;
    churn(s, after);
    cr_assert_eq(omni_store_put(s, "ns", "gone", "2", 1, OMNI_STORE_CREATE, 0, after, &v),
                 OMNI_OK);
    cr_assert_eq(v, 1, "after the grace period the record was forgotten");
    omni_store_free(s);
}

Test(store_memory_expiry, many_expired_records_do_not_stay_listed)
{
    omni_store *s = NULL;
    cr_assert_eq(omni_store_open(&s, "memory:"), OMNI_OK);
    char key[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "t%05d", i);
        cr_assert_eq(omni_store_put(s, "ttl", key, "1", 1, OMNI_STORE_CREATE, T0 + 10, T0, NULL),
                     OMNI_OK);
    }
    cr_assert_eq(omni_store_put(s, "ttl", "zz", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_OK);
    /* sweeping happens on writes; listing is correct before and after */
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(s, "ttl", "", NULL, 5, T0 + 10, &out, NULL), OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[{\"key\":\"zz\",\"value\":1,\"version\":1,"
                          "\"expiresAt\":null}],\"next\":null}");
    omni_free(out);
    for (int i = 0; i < 20000; i++)
        cr_assert_eq(omni_store_put(s, "ttl", "zz", "1", 1, OMNI_STORE_ANY_VERSION, 0,
                                    T0 + 10 + OMNI__STORE_MEMORY_GRACE_MS, NULL),
                     OMNI_OK);
    cr_assert_eq(omni_store_list_json(s, "ttl", "", NULL, 5, T0 + 10, &out, NULL), OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[{\"key\":\"zz\",\"value\":1,\"version\":20001,"
                          "\"expiresAt\":null}],\"next\":null}");
    omni_free(out);
    /* the forgotten records can be created afresh */
    uint64_t v = 0;
    cr_assert_eq(omni_store_put(s, "ttl", "t00042", "2", 1, OMNI_STORE_CREATE, 0,
                                T0 + 10 + OMNI__STORE_MEMORY_GRACE_MS, &v),
                 OMNI_OK);
    cr_assert_eq(v, 1);
    omni_store_free(s);
}

/* ---- memory backend: readers, writers and listers at once --------------- */

typedef struct {
    omni_store *s;
    int id;
    int failures;
} mixed_worker;

static void *mixed_writer(void *arg)
{
    mixed_worker *w = arg;
    char key[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "w%d-%04d", w->id, i % 500);
        int rc = omni_store_put(w->s, "mix", key, "{\"v\":1}", 7, OMNI_STORE_ANY_VERSION,
                                i % 3 ? 0 : T0 + i, T0 + i, NULL);
        if (rc)
            w->failures++;
        if (i % 2) {
            snprintf(key, sizeof(key), "w%d-%04d", w->id, (i * 7) % 500);
            rc = omni_store_delete(w->s, "mix", key, OMNI_STORE_ANY_VERSION, T0 + i);
            if (rc && rc != OMNI_ENOTFOUND)
                w->failures++;
        }
    }
    return NULL;
}

typedef struct {
    char last[64];
    int bad;
} order_ctx;

static int order_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)expires_at_ms;
    order_ctx *o = ctx;
    if (key_len >= sizeof(o->last) || strcmp(key, o->last) <= 0 || key[0] != 'w' ||
        value_len != 7 || memcmp(value, "{\"v\":1}", 7) != 0 || version == 0)
        o->bad++;
    memcpy(o->last, key, key_len + 1);
    return 0;
}

static void *mixed_lister(void *arg)
{
    mixed_worker *w = arg;
    for (int round = 0; round < 100; round++) {
        order_ctx o = {"", 0};
        char *after = NULL;
        for (;;) {
            char *next = NULL;
            if (omni_store_list(w->s, "mix", "w", after, 37, T0, order_cb, &o, &next))
                w->failures++;
            omni_free(after);
            after = next;
            if (!next)
                break;
        }
        w->failures += o.bad;
        char key[32];
        snprintf(key, sizeof(key), "w%d-%04d", round % 2, round);
        char *v = NULL;
        int rc = omni_store_get(w->s, "mix", key, T0, &v, NULL, NULL, NULL);
        if (rc == OMNI_OK)
            omni_free(v);
        else if (rc != OMNI_ENOTFOUND)
            w->failures++;
    }
    return NULL;
}

Test(store_memory_threads, readers_writers_listers)
{
    omni_store *s = NULL;
    cr_assert_eq(omni_store_open(&s, "memory:"), OMNI_OK);
    pthread_t th[4];
    mixed_worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (mixed_worker){s, i % 2, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, i < 2 ? mixed_writer : mixed_lister, &w[i]),
                     0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0, "worker %d", i);
    }
    omni_store_free(s);
}

/* ---- internal fast paths ------------------------------------------------ */

Test(store_internal, put_json_and_get_json)
{
    omni_store *s = NULL;
    cr_assert_eq(omni_store_open(&s, "memory:"), OMNI_OK);
    cJSON *doc = cJSON_Parse("{\"id\":\"c-1\",\"n\":[1,2],\"s\":\"\\u00e9\\\"\"}");
    cr_assert_not_null(doc);
    uint64_t v = 0;
    cr_assert_eq(omni__store_put_json(s, "ns", "doc", doc, OMNI_STORE_CREATE, 0, T0, &v),
                 OMNI_OK);
    cr_assert_eq(v, 1);
    char *text = NULL;
    cr_assert_eq(omni_store_get(s, "ns", "doc", T0, &text, NULL, NULL, NULL), OMNI_OK);
    cr_assert_str_eq(text, "{\"id\":\"c-1\",\"n\":[1,2],\"s\":\"\xc3\xa9\\\"\"}");
    omni_free(text);
    cJSON *got = NULL;
    uint64_t ver = 0;
    int64_t exp = -1;
    cr_assert_eq(omni__store_get_json(s, "ns", "doc", T0, &got, &ver, &exp), OMNI_OK);
    cr_assert(cJSON_Compare(doc, got, 1));
    cr_assert_eq(ver, 1);
    cr_assert_eq(exp, 0);
    cJSON_Delete(got);
    got = (cJSON *)1;
    cr_assert_eq(omni__store_get_json(s, "ns", "missing", T0, &got, NULL, NULL), OMNI_ENOTFOUND);
    cr_assert_null(got);
    cr_assert_eq(omni__store_put_json(s, "ns", "doc", doc, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EEXISTS);
    cr_assert_eq(omni__store_put_json(s, "NS", "doc", doc, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni__store_put_json(s, "ns", "doc", NULL, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni__store_get_json(s, "ns", "doc", T0, NULL, NULL, NULL), OMNI_EINVAL);
    cJSON_Delete(doc);
    omni_store_free(s);
}

Test(store_internal, put_trusted_skips_only_json)
{
    omni_store *s = NULL;
    cr_assert_eq(omni_store_open(&s, "memory:"), OMNI_OK);
    /* the caller vouches for the JSON: it is not checked (here it is wrong on purpose) */
    cr_assert_eq(omni__store_put_trusted(s, "ns", "k", "{x", 2, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_OK);
    cJSON *got = (cJSON *)1;
    cr_assert_eq(omni__store_get_json(s, "ns", "k", T0, &got, NULL, NULL), OMNI_ESTORAGE);
    cr_assert_null(got);
    cr_assert_eq(omni_error_last_retryable(), 0);
    /* everything else still is */
    cr_assert_eq(omni__store_put_trusted(s, "n s", "k", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni__store_put_trusted(s, "ns", "", "1", 1, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni__store_put_trusted(s, "ns", "k2", "1", OMNI_STORE_MAX_VALUE + 1,
                                         OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni__store_put_trusted(s, "ns", "k2", "1", 1, OMNI_STORE_CREATE, -2, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni__store_put_trusted(NULL, "ns", "k2", "1", 1, OMNI_STORE_CREATE, 0, T0,
                                         NULL),
                 OMNI_EINVAL);
    omni_store_free(s);
}

Test(store_internal, check_helpers)
{
    cr_assert_eq(omni__store_check_ns("identity"), OMNI_OK);
    cr_assert_eq(omni__store_check_ns("conversation.active"), OMNI_OK);
    cr_assert_eq(omni__store_check_ns("Identity"), OMNI_EINVAL);
    cr_assert_eq(omni__store_check_ns(NULL), OMNI_EINVAL);
    cr_assert_eq(omni__store_check_key("identity/+15551234567"), OMNI_OK);
    cr_assert_eq(omni__store_check_key("\xe6\x97\xa5"), OMNI_OK);
    cr_assert_eq(omni__store_check_key("\xe6\x97"), OMNI_EINVAL);
    cr_assert_eq(omni__store_check_key(""), OMNI_EINVAL);
    /* messages never echo the key (it may be a phone number) */
    cr_assert_eq(omni__store_check_key("+15551234567\xff"), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "5551234567") == NULL);
}
