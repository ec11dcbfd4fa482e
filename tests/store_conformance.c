/* The storage conformance suite (see store_conformance.h): the behaviour of
 * omni/store.h and the storage hook of omni/hooks.h, for any backend. */
#include "store_conformance.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/storage/store_internal.h"

/* 2026-01-01T00:00:00.000Z */
#define T0 INT64_C(1767225600000)

/* ---- helpers ------------------------------------------------------------ */

static omni_store *sc_open(sc_open_fn open)
{
    omni_store *s = NULL;
    int rc = open(&s);
    cr_assert_eq(rc, OMNI_OK, "open: %s", omni_error_last_message());
    cr_assert_not_null(s);
    return s;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    cr_assert_not_null(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *repeat(char c, size_t n)
{
    char *d = malloc(n + 1);
    cr_assert_not_null(d);
    memset(d, c, n);
    d[n] = '\0';
    return d;
}

static int put_rc(omni_store *s, const char *ns, const char *key, const char *json,
                  uint64_t expected, int64_t expires, int64_t now, uint64_t *version)
{
    return omni_store_put(s, ns, key, json, json ? strlen(json) : 0, expected, expires, now,
                          version);
}

static uint64_t put_ok(omni_store *s, const char *ns, const char *key, const char *json,
                       uint64_t expected, int64_t expires, int64_t now)
{
    uint64_t v = 0;
    int rc = put_rc(s, ns, key, json, expected, expires, now, &v);
    cr_assert_eq(rc, OMNI_OK, "put %s/%s: %d %s", ns, key, rc, omni_error_last_message());
    cr_assert_gt(v, 0);
    return v;
}

static void expect_value(omni_store *s, const char *ns, const char *key, int64_t now,
                         const char *want, uint64_t want_version)
{
    char *v = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    int64_t exp = -1;
    int rc = omni_store_get(s, ns, key, now, &v, &len, &ver, &exp);
    cr_assert_eq(rc, OMNI_OK, "get %s/%s: %d %s", ns, key, rc, omni_error_last_message());
    cr_assert_not_null(v);
    cr_assert_eq(len, strlen(want), "length %zu, want %zu", len, strlen(want));
    cr_assert_eq(v[len], '\0');
    cr_assert_str_eq(v, want);
    cr_assert_eq(ver, want_version, "version %llu, want %llu", (unsigned long long)ver,
                 (unsigned long long)want_version);
    omni_free(v);
}

static void expect_expiry(omni_store *s, const char *ns, const char *key, int64_t now,
                          int64_t want)
{
    char *v = NULL;
    size_t len = 0;
    int64_t exp = -1;
    cr_assert_eq(omni_store_get(s, ns, key, now, &v, &len, NULL, &exp), OMNI_OK);
    cr_assert_eq(exp, want);
    omni_free(v);
}

static void expect_missing(omni_store *s, const char *ns, const char *key, int64_t now)
{
    char *v = (char *)"sentinel";
    size_t len = 99;
    int rc = omni_store_get(s, ns, key, now, &v, &len, NULL, NULL);
    cr_assert_eq(rc, OMNI_ENOTFOUND, "get %s/%s: %d", ns, key, rc);
    cr_assert_null(v);
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_error_last()->status, OMNI_ENOTFOUND);
    cr_assert_str_eq(omni_error_last_code(), "NOT_FOUND");
}

typedef struct {
    size_t n;
    char *keys[4096];
    char *values[4096];
    uint64_t versions[4096];
    int64_t expires[4096];
    size_t stop_after; /* stop when n reaches this; 0: never */
} sc_list;

static int collect_cb(void *ctx, const char *key, size_t key_len, const char *value,
                      size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    sc_list *l = ctx;
    cr_assert_lt(l->n, 4096);
    l->keys[l->n] = dup_n(key, key_len);
    l->values[l->n] = dup_n(value, value_len);
    l->versions[l->n] = version;
    l->expires[l->n] = expires_at_ms;
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static void list_free(sc_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->values[i]);
    }
    free(l);
}

static sc_list *list_new(size_t stop_after)
{
    sc_list *l = calloc(1, sizeof(*l));
    cr_assert_not_null(l);
    l->stop_after = stop_after;
    return l;
}

/* One page; returns the collected records, *next receives the cursor. */
static sc_list *list_page(omni_store *s, const char *ns, const char *prefix, const char *after,
                          size_t limit, int64_t now, char **next)
{
    sc_list *l = list_new(0);
    int rc = omni_store_list(s, ns, prefix, after, limit, now, collect_cb, l, next);
    cr_assert_eq(rc, OMNI_OK, "list: %d %s", rc, omni_error_last_message());
    cr_assert_leq(l->n, limit);
    return l;
}

/* Asserts that a page holds exactly `want` (n keys) and the cursor `want_next`. */
static char *expect_page(omni_store *s, const char *ns, const char *prefix, const char *after,
                         size_t limit, int64_t now, const char *const *want, size_t n,
                         const char *want_next)
{
    char *next = (char *)"sentinel";
    sc_list *l = list_page(s, ns, prefix, after, limit, now, &next);
    cr_assert_eq(l->n, n, "page has %zu records, want %zu", l->n, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(l->keys[i], want[i], "record %zu", i);
    if (want_next)
        cr_assert(next && strcmp(next, want_next) == 0, "next is %s, want %s",
                  next ? next : "NULL", want_next);
    else
        cr_assert_null(next, "next is %s, want NULL", next);
    list_free(l);
    return next;
}

static size_t count_all(omni_store *s, const char *ns, int64_t now)
{
    size_t total = 0;
    char *after = NULL;
    for (;;) {
        char *next = NULL;
        sc_list *l = list_page(s, ns, "", after, OMNI_STORE_MAX_LIST, now, &next);
        total += l->n;
        list_free(l);
        omni_free(after);
        after = next;
        if (!next)
            break;
    }
    return total;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- point operations --------------------------------------------------- */

void sc_get_missing(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    expect_missing(s, "identity", "nobody", T0);
    put_ok(s, "identity", "somebody", "{}", OMNI_STORE_CREATE, 0, T0);
    expect_missing(s, "identity", "nobody", T0);
    expect_missing(s, "other", "somebody", T0);
    expect_missing(s, "identity", "somebod", T0);
    expect_missing(s, "identity", "somebodyy", T0);
    omni_store_free(s);
}

void sc_create_only_twice(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    cr_assert_eq(put_ok(s, "ns", "k", "{\"a\":1}", OMNI_STORE_CREATE, 0, T0), 1);
    uint64_t v = 77;
    cr_assert_eq(put_rc(s, "ns", "k", "{\"a\":2}", OMNI_STORE_CREATE, 0, T0, &v), OMNI_EEXISTS);
    cr_assert_eq(v, 77, "new_version must not change on error");
    cr_assert_str_eq(omni_error_last_code(), "ALREADY_EXISTS");
    expect_value(s, "ns", "k", T0, "{\"a\":1}", 1);
    omni_store_free(s);
}

void sc_cas_right_version(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "1", OMNI_STORE_CREATE, 0, T0);
    cr_assert_eq(put_ok(s, "ns", "k", "2", 1, 0, T0), 2);
    expect_value(s, "ns", "k", T0, "2", 2);
    omni_store_free(s);
}

void sc_cas_wrong_version(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "1", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "k", "2", 1, 0, T0);
    const uint64_t wrong[] = {1, 3, 4, 1000, UINT64_MAX - 1};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        cr_assert_eq(put_rc(s, "ns", "k", "\"x\"", wrong[i], 0, T0, NULL), OMNI_ECONFLICT);
        cr_assert_str_eq(omni_error_last_code(), "VERSION_CONFLICT");
        cr_assert_eq(omni_error_last_retryable(), 1);
    }
    expect_value(s, "ns", "k", T0, "2", 2);
    omni_store_free(s);
}

void sc_cas_absent(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    cr_assert_eq(put_rc(s, "ns", "k", "1", 1, 0, T0, NULL), OMNI_ENOTFOUND);
    cr_assert_eq(put_rc(s, "ns", "k", "1", 42, 0, T0, NULL), OMNI_ENOTFOUND);
    expect_missing(s, "ns", "k", T0);
    cr_assert_eq(count_all(s, "ns", T0), 0);
    omni_store_free(s);
}

void sc_any_version_upsert(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    cr_assert_eq(put_ok(s, "ns", "k", "\"first\"", OMNI_STORE_ANY_VERSION, 0, T0), 1);
    cr_assert_eq(put_ok(s, "ns", "k", "\"second\"", OMNI_STORE_ANY_VERSION, 0, T0), 2);
    cr_assert_eq(put_ok(s, "ns", "k", "\"third\"", OMNI_STORE_ANY_VERSION, 0, T0), 3);
    expect_value(s, "ns", "k", T0, "\"third\"", 3);
    omni_store_free(s);
}

void sc_version_sequence(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    uint64_t v = put_ok(s, "ns", "counter", "0", OMNI_STORE_CREATE, 0, T0);
    cr_assert_eq(v, 1);
    for (int i = 1; i <= 20; i++) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%d", i);
        uint64_t nv = put_ok(s, "ns", "counter", buf, v, 0, T0);
        cr_assert_eq(nv, v + 1);
        v = nv;
        expect_value(s, "ns", "counter", T0, buf, v);
    }
    cr_assert_eq(v, 21);
    omni_store_free(s);
}

void sc_delete_right_version(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "1", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "k", "2", 1, 0, T0);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 2, T0), OMNI_OK);
    expect_missing(s, "ns", "k", T0);
    cr_assert_eq(count_all(s, "ns", T0), 0);
    /* after a delete the key is free again and its versions start over */
    cr_assert_eq(put_ok(s, "ns", "k", "3", OMNI_STORE_CREATE, 0, T0), 1);
    cr_assert_eq(omni_store_delete(s, "ns", "k", OMNI_STORE_ANY_VERSION, T0), OMNI_OK);
    expect_missing(s, "ns", "k", T0);
    omni_store_free(s);
}

void sc_delete_wrong_version(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "1", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "k", "2", 1, 0, T0);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 1, T0), OMNI_ECONFLICT);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 3, T0), OMNI_ECONFLICT);
    expect_value(s, "ns", "k", T0, "2", 2);
    omni_store_free(s);
}

void sc_delete_missing(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    cr_assert_eq(omni_store_delete(s, "ns", "k", OMNI_STORE_ANY_VERSION, T0), OMNI_ENOTFOUND);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 1, T0), OMNI_ENOTFOUND);
    put_ok(s, "ns", "other", "1", OMNI_STORE_CREATE, 0, T0);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 1, T0), OMNI_ENOTFOUND);
    cr_assert_eq(omni_store_delete(s, "ns", "other", 1, T0), OMNI_OK);
    cr_assert_eq(omni_store_delete(s, "ns", "other", 1, T0), OMNI_ENOTFOUND);
    omni_store_free(s);
}

/* ---- expiry ------------------------------------------------------------- */

void sc_ttl_visibility(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "{\"ttl\":true}", OMNI_STORE_CREATE, T0 + 1000, T0);
    expect_value(s, "ns", "k", T0, "{\"ttl\":true}", 1);
    expect_expiry(s, "ns", "k", T0 + 999, T0 + 1000);
    expect_value(s, "ns", "k", T0 + 999, "{\"ttl\":true}", 1);
    expect_missing(s, "ns", "k", T0 + 1000); /* expiry <= now: gone */
    expect_missing(s, "ns", "k", T0 + 1001);
    expect_missing(s, "ns", "k", T0 + 86400000);
    /* a record without expiry never expires */
    put_ok(s, "ns", "forever", "0", OMNI_STORE_CREATE, 0, T0);
    expect_expiry(s, "ns", "forever", INT64_MAX, 0);
    omni_store_free(s);
}

void sc_ttl_create_over_expired(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "\"old\"", OMNI_STORE_CREATE, T0 + 1000, T0);
    cr_assert_eq(put_ok(s, "ns", "k", "\"old2\"", 1, T0 + 1000, T0 + 500), 2);
    /* still there before expiry: create-only refuses */
    cr_assert_eq(put_rc(s, "ns", "k", "\"new\"", OMNI_STORE_CREATE, 0, T0 + 999, NULL),
                 OMNI_EEXISTS);
    /* the usual pattern: get finds nothing, then create */
    expect_missing(s, "ns", "k", T0 + 1000);
    uint64_t v = put_ok(s, "ns", "k", "\"new\"", OMNI_STORE_CREATE, 0, T0 + 1000);
    cr_assert_eq(v, 3, "the version continues over an expired record (got %llu)",
                 (unsigned long long)v);
    expect_value(s, "ns", "k", T0 + 2000, "\"new\"", 3);
    expect_expiry(s, "ns", "k", T0 + 2000, 0);
    /* a stale compare-and-swap with the old versions fails */
    cr_assert_eq(put_rc(s, "ns", "k", "\"stale\"", 2, 0, T0 + 2000, NULL), OMNI_ECONFLICT);
    cr_assert_eq(put_rc(s, "ns", "k", "\"stale\"", 1, 0, T0 + 2000, NULL), OMNI_ECONFLICT);
    omni_store_free(s);
}

void sc_ttl_other_ops_on_expired(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "1", OMNI_STORE_CREATE, T0 + 1000, T0);
    /* a version was expected: the record does not exist any more */
    cr_assert_eq(put_rc(s, "ns", "k", "2", 1, 0, T0 + 1000, NULL), OMNI_ENOTFOUND);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 1, T0 + 1000), OMNI_ENOTFOUND);
    cr_assert_eq(omni_store_delete(s, "ns", "k", OMNI_STORE_ANY_VERSION, T0 + 1000),
                 OMNI_ENOTFOUND);
    expect_missing(s, "ns", "k", T0 + 1000);
    /* ANY_VERSION writes over it and continues the version */
    cr_assert_eq(put_ok(s, "ns", "k", "3", OMNI_STORE_ANY_VERSION, 0, T0 + 1001), 2);
    expect_value(s, "ns", "k", T0 + 1001, "3", 2);
    omni_store_free(s);
}

void sc_ttl_change_expiry(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "k", "1", OMNI_STORE_CREATE, T0 + 1000, T0);
    /* a put sets the expiry anew: 0 removes it */
    put_ok(s, "ns", "k", "2", 1, 0, T0 + 10);
    expect_value(s, "ns", "k", T0 + 5000, "2", 2);
    put_ok(s, "ns", "k", "3", 2, T0 + 10000, T0 + 5000);
    expect_expiry(s, "ns", "k", T0 + 9999, T0 + 10000);
    expect_missing(s, "ns", "k", T0 + 10000);
    /* the largest accepted expiry: 9999-12-31T23:59:59.999Z */
    put_ok(s, "ns", "far", "0", OMNI_STORE_CREATE, INT64_C(253402300799999), T0);
    expect_expiry(s, "ns", "far", T0, INT64_C(253402300799999));
    omni_store_free(s);
}

/* ---- listing ------------------------------------------------------------ */

void sc_list_prefix(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    const char *keys[] = {"b/1", "a/2", "ab/1", "a", "a/1", "c"};
    for (size_t i = 0; i < 6; i++)
        put_ok(s, "ns", keys[i], "true", OMNI_STORE_CREATE, 0, T0);
    const char *all[] = {"a", "a/1", "a/2", "ab/1", "b/1", "c"};
    expect_page(s, "ns", "", NULL, 10, T0, all, 6, NULL);
    expect_page(s, "ns", NULL, NULL, 10, T0, all, 6, NULL);
    const char *a_slash[] = {"a/1", "a/2"};
    expect_page(s, "ns", "a/", NULL, 10, T0, a_slash, 2, NULL);
    const char *a[] = {"a", "a/1", "a/2", "ab/1"};
    expect_page(s, "ns", "a", NULL, 10, T0, a, 4, NULL);
    const char *exact[] = {"ab/1"};
    expect_page(s, "ns", "ab/1", NULL, 10, T0, exact, 1, NULL);
    expect_page(s, "ns", "ab/12", NULL, 10, T0, NULL, 0, NULL);
    expect_page(s, "ns", "zz", NULL, 10, T0, NULL, 0, NULL);
    expect_page(s, "ns", "0", NULL, 10, T0, NULL, 0, NULL);
    expect_page(s, "empty", "", NULL, 10, T0, NULL, 0, NULL);
    /* records carry their value and version */
    put_ok(s, "ns", "c", "{\"v\":2}", 1, T0 + 5000, T0);
    sc_list *l = list_page(s, "ns", "c", NULL, 10, T0, NULL);
    cr_assert_eq(l->n, 1);
    cr_assert_str_eq(l->values[0], "{\"v\":2}");
    cr_assert_eq(l->versions[0], 2);
    cr_assert_eq(l->expires[0], T0 + 5000);
    list_free(l);
    omni_store_free(s);
}

void sc_list_bytewise_order(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    /* inserted out of order; the listing is ascending by bytes (so by code
     * point for UTF-8), not by any locale: "B" < "Z" < "a" < "~" < "ä" */
    const char *keys[] = {
        "a", "B", "Z", "e", "~", "a0", "a b", "\x7f", "ab", "aa", "a\x01", "A", "0", "-",
        "\xc3\xa9",                 /* é */
        "\xc3\xa4",                 /* ä */
        "\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
        "\xe6\x97\xa5",             /* 日 */
        "\xf0\x9f\x98\x80",         /* U+1F600, four bytes */
        "\xef\xbf\xbd",             /* U+FFFD */
        "a\xc3\xa9",                /* aé */
    };
    size_t n = sizeof(keys) / sizeof(keys[0]);
    for (size_t i = 0; i < n; i++)
        put_ok(s, "ns", keys[i], "1", OMNI_STORE_CREATE, 0, T0);
    const char **sorted = malloc(n * sizeof(*sorted));
    memcpy(sorted, keys, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_str);
    cr_assert_str_eq(sorted[0], "-");
    cr_assert_str_eq(sorted[n - 1], "\xf0\x9f\x98\x80");
    expect_page(s, "ns", "", NULL, 100, T0, sorted, n, NULL);
    /* the same order across pages of one */
    char *after = NULL;
    for (size_t i = 0; i < n; i++) {
        char *next = NULL;
        sc_list *l = list_page(s, "ns", "", after, 1, T0, &next);
        cr_assert_eq(l->n, 1);
        cr_assert_str_eq(l->keys[0], sorted[i]);
        list_free(l);
        omni_free(after);
        after = next;
        cr_assert_eq(next == NULL, i == n - 1);
    }
    free(sorted);
    /* prefixes are bytes too: a multi-byte prefix, and a lone lead byte */
    const char *ri[] = {"\xe6\x97\xa5", "\xe6\x97\xa5\xe6\x9c\xac"};
    expect_page(s, "ns", "\xe6\x97\xa5", NULL, 100, T0, ri, 2, NULL);
    const char *c3[] = {"\xc3\xa4", "\xc3\xa9"};
    expect_page(s, "ns", "\xc3", NULL, 100, T0, c3, 2, NULL);
    omni_store_free(s);
}

void sc_list_pagination(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[16];
    for (int i = 24; i >= 0; i--) {
        snprintf(key, sizeof(key), "k%02d", i);
        put_ok(s, "ns", key, "{}", OMNI_STORE_CREATE, 0, T0);
    }
    put_ok(s, "ns", "j", "{}", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "l", "{}", OMNI_STORE_CREATE, 0, T0);
    /* walk pages of 10 until next is NULL: 10, 10, 5 */
    char *after = NULL;
    size_t pages = 0, seen = 0;
    const size_t sizes[] = {10, 10, 5};
    for (;;) {
        char *next = NULL;
        sc_list *l = list_page(s, "ns", "k", after, 10, T0, &next);
        cr_assert_lt(pages, 3);
        cr_assert_eq(l->n, sizes[pages]);
        for (size_t i = 0; i < l->n; i++) {
            snprintf(key, sizeof(key), "k%02zu", seen + i);
            cr_assert_str_eq(l->keys[i], key);
        }
        seen += l->n;
        pages++;
        if (next) {
            cr_assert_str_eq(next, l->keys[l->n - 1], "the cursor is the last key of the page");
        }
        list_free(l);
        omni_free(after);
        after = next;
        if (!next)
            break;
    }
    cr_assert_eq(pages, 3);
    cr_assert_eq(seen, 25);
    /* a page that ends exactly at the last record has no cursor */
    for (int i = 25; i < 30; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        put_ok(s, "ns", key, "{}", OMNI_STORE_CREATE, 0, T0);
    }
    char *next = NULL;
    sc_list *l = list_page(s, "ns", "k", "k19", 10, T0, &next);
    cr_assert_eq(l->n, 10);
    cr_assert_null(next);
    list_free(l);
    omni_store_free(s);
}

void sc_list_limit_edges(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[16];
    for (int i = 0; i < 1001; i++) {
        snprintf(key, sizeof(key), "r%04d", i);
        put_ok(s, "ns", key, "0", OMNI_STORE_CREATE, 0, T0);
    }
    char *next = NULL;
    sc_list *l = list_page(s, "ns", "", NULL, 1000, T0, &next);
    cr_assert_eq(l->n, 1000);
    cr_assert_str_eq(l->keys[999], "r0999");
    cr_assert_str_eq(next, "r0999");
    list_free(l);
    const char *last[] = {"r1000"};
    expect_page(s, "ns", "", next, 1000, T0, last, 1, NULL);
    omni_free(next);
    const char *first[] = {"r0000"};
    next = expect_page(s, "ns", "", NULL, 1, T0, first, 1, "r0000");
    omni_free(next);
    /* limit 0 and over the maximum are refused */
    sc_list *none = list_new(0);
    next = (char *)"sentinel";
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 0, T0, collect_cb, none, &next), OMNI_EINVAL);
    cr_assert_null(next);
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, OMNI_STORE_MAX_LIST + 1, T0, collect_cb, none,
                                 NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, (size_t)-1, T0, collect_cb, none, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(none->n, 0, "the callback is never called when list fails");
    list_free(none);
    omni_store_free(s);
}

void sc_list_after_key(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[16];
    for (int i = 1; i <= 10; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        put_ok(s, "ns", key, "0", OMNI_STORE_CREATE, 0, T0);
    }
    put_ok(s, "ns", "a", "0", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "z", "0", OMNI_STORE_CREATE, 0, T0);
    const char *after5x[] = {"k06", "k07", "k08", "k09", "k10"};
    expect_page(s, "ns", "k", "k05x", 10, T0, after5x, 5, NULL); /* not a stored key */
    expect_page(s, "ns", "k", "k05", 10, T0, after5x, 5, NULL);  /* strictly after */
    const char *all_k[] = {"k01", "k02", "k03", "k04", "k05",
                           "k06", "k07", "k08", "k09", "k10"};
    expect_page(s, "ns", "k", "a", 10, T0, all_k, 10, NULL); /* cursor before the prefix */
    expect_page(s, "ns", "k", "", 10, T0, all_k, 10, NULL);
    expect_page(s, "ns", "k", NULL, 10, T0, all_k, 10, NULL);
    expect_page(s, "ns", "k", "k10", 10, T0, NULL, 0, NULL);
    expect_page(s, "ns", "k", "k1", 10, T0, all_k + 9, 1, NULL);
    expect_page(s, "ns", "k", "zzz", 10, T0, NULL, 0, NULL); /* cursor past the prefix */
    expect_page(s, "ns", "k0", "k1", 10, T0, NULL, 0, NULL);
    const char *after_k10[] = {"z"};
    expect_page(s, "ns", "", "k10", 10, T0, after_k10, 1, NULL);
    omni_store_free(s);
}

void sc_list_skips_expired(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[16];
    for (int i = 1; i <= 9; i++) {
        snprintf(key, sizeof(key), "e%d", i);
        put_ok(s, "ns", key, "0", OMNI_STORE_CREATE, i % 2 ? T0 + 1000 : 0, T0);
    }
    cr_assert_eq(count_all(s, "ns", T0 + 999), 9);
    const char *live[] = {"e2", "e4", "e6", "e8"};
    expect_page(s, "ns", "", NULL, 10, T0 + 1000, live, 4, NULL);
    char *next = expect_page(s, "ns", "", NULL, 2, T0 + 1000, live, 2, "e4");
    /* e9 is expired: the page ending at e8 is the last one */
    char *last = expect_page(s, "ns", "", next, 2, T0 + 1000, live + 2, 2, NULL);
    omni_free(next);
    cr_assert_null(last);
    const char *only[] = {"e8"};
    expect_page(s, "ns", "", "e7", 1, T0 + 1000, only, 1, NULL);
    /* a create-only put over an expired record makes it visible again */
    put_ok(s, "ns", "e9", "1", OMNI_STORE_CREATE, 0, T0 + 1000);
    sc_list *l = list_page(s, "ns", "e9", NULL, 10, T0 + 1000, NULL);
    cr_assert_eq(l->n, 1);
    cr_assert_str_eq(l->values[0], "1");
    cr_assert_eq(l->versions[0], 2);
    list_free(l);
    omni_store_free(s);
}

void sc_list_early_stop(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "s%d", i);
        put_ok(s, "ns", key, "0", OMNI_STORE_CREATE, 0, T0);
    }
    sc_list *l = list_new(3);
    char *next = NULL;
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 10, T0, collect_cb, l, &next), OMNI_OK);
    cr_assert_eq(l->n, 3, "the listing stops when the callback says so");
    cr_assert_str_eq(l->keys[2], "s2");
    cr_assert_str_eq(next, "s2", "the cursor continues after the last record delivered");
    list_free(l);
    l = list_new(0);
    char *next2 = NULL;
    cr_assert_eq(omni_store_list(s, "ns", "", next, 10, T0, collect_cb, l, &next2), OMNI_OK);
    cr_assert_eq(l->n, 7);
    cr_assert_str_eq(l->keys[0], "s3");
    cr_assert_null(next2);
    list_free(l);
    omni_free(next);
    /* stopping at the very last record: nothing follows, so no cursor */
    l = list_new(1);
    next = (char *)"sentinel";
    cr_assert_eq(omni_store_list(s, "ns", "", "s8", 10, T0, collect_cb, l, &next), OMNI_OK);
    cr_assert_eq(l->n, 1);
    cr_assert_null(next);
    list_free(l);
    /* stopping at the first of many: the cursor is that record */
    l = list_new(1);
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 1000, T0, collect_cb, l, &next), OMNI_OK);
    cr_assert_eq(l->n, 1);
    cr_assert_str_eq(next, "s0");
    omni_free(next);
    list_free(l);
    omni_store_free(s);
}

void sc_list_many_keys(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[32], value[32];
    const int n = 3000;
    for (int i = 0; i < n; i++) {
        int j = (int)(((long)i * 7919) % n); /* a permutation: 7919 is prime */
        snprintf(key, sizeof(key), "key-%05d", j);
        snprintf(value, sizeof(value), "%d", j);
        put_ok(s, "ns", key, value, OMNI_STORE_CREATE, 0, T0);
    }
    for (int i = 0; i < n; i += 3) {
        snprintf(key, sizeof(key), "key-%05d", i);
        cr_assert_eq(omni_store_delete(s, "ns", key, 1, T0), OMNI_OK);
    }
    /* every remaining key once, in order, across pages of 1000 */
    char *after = NULL;
    int expect = 1, seen = 0;
    for (;;) {
        char *next = NULL;
        sc_list *l = list_page(s, "ns", "key-", after, 1000, T0, &next);
        for (size_t i = 0; i < l->n; i++) {
            snprintf(key, sizeof(key), "key-%05d", expect);
            snprintf(value, sizeof(value), "%d", expect);
            cr_assert_str_eq(l->keys[i], key);
            cr_assert_str_eq(l->values[i], value);
            expect += expect % 3 == 2 ? 2 : 1;
            seen++;
        }
        list_free(l);
        omni_free(after);
        after = next;
        if (!next)
            break;
    }
    cr_assert_eq(seen, 2000);
    sc_list *l = list_page(s, "ns", "key-01", NULL, 1000, T0, NULL);
    cr_assert_eq(l->n, 667); /* 1000..1999 less the 333 multiples of 3 */
    cr_assert_str_eq(l->keys[0], "key-01000");
    list_free(l);
    expect_value(s, "ns", "key-02999", T0, "2999", 1);
    expect_missing(s, "ns", "key-02997", T0); /* 2997 is a multiple of 3 */
    omni_store_free(s);
}

typedef struct {
    omni_store *s;
    int seen;
    int failures;
} reenter_ctx;

/* Deletes each record it is handed and writes one elsewhere. */
static int reenter_cb(void *ctx, const char *key, size_t key_len, const char *value,
                      size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)value;
    (void)value_len;
    (void)expires_at_ms;
    reenter_ctx *r = ctx;
    char *k = dup_n(key, key_len);
    if (omni_store_delete(r->s, "ns", k, version, T0) != OMNI_OK)
        r->failures++;
    char other[32];
    snprintf(other, sizeof(other), "log-%s", k);
    if (omni_store_put(r->s, "other", other, "1", 1, OMNI_STORE_CREATE, 0, T0, NULL) != OMNI_OK)
        r->failures++;
    free(k);
    r->seen++;
    return 0;
}

void sc_list_callback_reenters(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char key[16];
    for (int i = 0; i < 150; i++) {
        snprintf(key, sizeof(key), "r%03d", i);
        put_ok(s, "ns", key, "0", OMNI_STORE_CREATE, 0, T0);
    }
    reenter_ctx r = {s, 0, 0};
    char *next = NULL;
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 100, T0, reenter_cb, &r, &next), OMNI_OK);
    cr_assert_eq(r.seen, 100);
    cr_assert_eq(r.failures, 0);
    cr_assert_str_eq(next, "r099");
    cr_assert_eq(omni_store_list(s, "ns", "", next, 100, T0, reenter_cb, &r, NULL), OMNI_OK);
    omni_free(next);
    cr_assert_eq(r.seen, 150);
    cr_assert_eq(r.failures, 0);
    cr_assert_eq(count_all(s, "ns", T0), 0);
    cr_assert_eq(count_all(s, "other", T0), 150);
    omni_store_free(s);
}

void sc_many_namespaces(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char ns[16];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 200; i++) {
            snprintf(ns, sizeof(ns), "ns.%d", i);
            put_ok(s, ns, "a", "1", OMNI_STORE_CREATE, 0, T0);
            put_ok(s, ns, "b", "2", OMNI_STORE_CREATE, 0, T0);
        }
        for (int i = 0; i < 200; i++) {
            snprintf(ns, sizeof(ns), "ns.%d", i);
            cr_assert_eq(count_all(s, ns, T0), 2);
            expect_value(s, ns, "b", T0, "2", 1);
            cr_assert_eq(omni_store_delete(s, ns, "a", 1, T0), OMNI_OK);
            cr_assert_eq(omni_store_delete(s, ns, "b", 1, T0), OMNI_OK);
            cr_assert_eq(count_all(s, ns, T0), 0);
        }
    }
    omni_store_free(s);
}

void sc_namespaces_isolated(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    const char *spaces[] = {"a", "b", "a.b", "a-b", "a_b", "0", "ab"};
    for (size_t i = 0; i < 7; i++) {
        char value[8];
        snprintf(value, sizeof(value), "%zu", i);
        put_ok(s, spaces[i], "k", value, OMNI_STORE_CREATE, 0, T0);
    }
    put_ok(s, "a", "k", "\"a2\"", 1, 0, T0);
    put_ok(s, "a", "k2", "\"a\"", OMNI_STORE_CREATE, 0, T0);
    expect_value(s, "a", "k", T0, "\"a2\"", 2);
    expect_value(s, "b", "k", T0, "1", 1);
    expect_value(s, "a.b", "k", T0, "2", 1);
    expect_value(s, "ab", "k", T0, "6", 1);
    const char *a_keys[] = {"k", "k2"};
    expect_page(s, "a", "", NULL, 10, T0, a_keys, 2, NULL);
    expect_page(s, "b", "", NULL, 10, T0, a_keys, 1, NULL);
    cr_assert_eq(omni_store_delete(s, "a", "k", 2, T0), OMNI_OK);
    expect_missing(s, "a", "k", T0);
    expect_value(s, "b", "k", T0, "1", 1);
    expect_value(s, "a_b", "k", T0, "4", 1);
    cr_assert_eq(omni_store_delete(s, "b", "k2", OMNI_STORE_ANY_VERSION, T0), OMNI_ENOTFOUND);
    omni_store_free(s);
}

/* ---- invalid arguments -------------------------------------------------- */

/* The records that must survive every refused call below. */
static void seed_records(omni_store *s)
{
    put_ok(s, "ns", "k", "{\"keep\":1}", OMNI_STORE_CREATE, 0, T0);
}

static void expect_unchanged(omni_store *s)
{
    expect_value(s, "ns", "k", T0, "{\"keep\":1}", 1);
    cr_assert_eq(count_all(s, "ns", T0), 1);
}

static void expect_all_refused(omni_store *s, const char *ns, const char *key, int want)
{
    char *v = (char *)"sentinel";
    size_t len = 0;
    cr_assert_eq(omni_store_get(s, ns, key, T0, &v, &len, NULL, NULL), want);
    cr_assert_null(v);
    cr_assert_eq(omni_error_last_status(), want);
    cr_assert_eq(put_rc(s, ns, key, "1", OMNI_STORE_CREATE, 0, T0, NULL), want);
    cr_assert_eq(put_rc(s, ns, key, "1", OMNI_STORE_ANY_VERSION, 0, T0, NULL), want);
    cr_assert_eq(put_rc(s, ns, key, "1", 1, 0, T0, NULL), want);
    cr_assert_eq(omni_store_delete(s, ns, key, OMNI_STORE_ANY_VERSION, T0), want);
    cr_assert_eq(omni_store_delete(s, ns, key, 1, T0), want);
}

void sc_invalid_namespace(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    seed_records(s);
    char *long_ns = repeat('n', OMNI_STORE_MAX_NS + 1);
    const char *bad[] = {NULL, "", "Identity", "has space", "a/b", "\xc3\xa9", "a\x01",
                         "ns:", "ns*", "n\xff", long_ns};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_all_refused(s, bad[i], "k", OMNI_EINVAL);
        sc_list *l = list_new(0);
        cr_assert_eq(omni_store_list(s, bad[i], "", NULL, 10, T0, collect_cb, l, NULL),
                     OMNI_EINVAL);
        cr_assert_eq(l->n, 0);
        list_free(l);
        char *out = (char *)"sentinel";
        cr_assert_eq(omni_store_list_json(s, bad[i], "", NULL, 10, T0, &out, NULL), OMNI_EINVAL);
        cr_assert_null(out);
    }
    cr_assert_str_eq(omni_error_last_code(), "INVALID_ARGUMENT");
    /* the longest namespace and every allowed character work */
    long_ns[OMNI_STORE_MAX_NS] = '\0';
    put_ok(s, long_ns, "k", "1", OMNI_STORE_CREATE, 0, T0);
    expect_value(s, long_ns, "k", T0, "1", 1);
    put_ok(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-", "k", "1", OMNI_STORE_CREATE, 0, T0);
    free(long_ns);
    expect_unchanged(s);
    omni_store_free(s);
}

void sc_invalid_key(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    seed_records(s);
    char *long_key = repeat('k', OMNI_STORE_MAX_KEY + 1);
    const char *bad[] = {NULL,
                         "",
                         long_key,
                         "\xff",
                         "a\xc3",              /* truncated sequence */
                         "\xc0\xaf",           /* overlong '/' */
                         "\xed\xa0\x80",       /* a surrogate */
                         "\xf4\x90\x80\x80",   /* over U+10FFFF */
                         "ok\x80"};            /* lone continuation byte */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_all_refused(s, "ns", bad[i], OMNI_EINVAL);
    /* prefix and cursor are bounded like keys */
    sc_list *l = list_new(0);
    cr_assert_eq(omni_store_list(s, "ns", long_key, NULL, 10, T0, collect_cb, l, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni_store_list(s, "ns", "", long_key, 10, T0, collect_cb, l, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(l->n, 0);
    list_free(l);
    /* the longest key works, as prefix and cursor too */
    long_key[OMNI_STORE_MAX_KEY] = '\0';
    put_ok(s, "ns2", long_key, "1", OMNI_STORE_CREATE, 0, T0);
    expect_value(s, "ns2", long_key, T0, "1", 1);
    const char *just_it[] = {long_key};
    expect_page(s, "ns2", long_key, NULL, 10, T0, just_it, 1, NULL);
    expect_page(s, "ns2", "", long_key, 10, T0, NULL, 0, NULL);
    free(long_key);
    expect_unchanged(s);
    omni_store_free(s);
}

void sc_invalid_value(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    seed_records(s);
    static const struct {
        const char *text;
        size_t len;
        int want;
    } bad[] = {
        {"", 0, OMNI_EJSON},
        {"{", 1, OMNI_EJSON},
        {"{}x", 3, OMNI_EJSON},
        {"{\"a\":1}", 3, OMNI_EJSON}, /* the length cuts the document */
        {"1\0", 2, OMNI_EJSON},       /* a NUL byte */
        {"\"\xff\"", 3, OMNI_EJSON},  /* not UTF-8 */
        {"undefined", 9, OMNI_EJSON},
        {"'a'", 3, OMNI_EJSON},
        {"[1,]", 4, OMNI_EJSON},
        {"{\"a\" 1}", 7, OMNI_EJSON},
        {"\"tab\there\"", 10, OMNI_EJSON}, /* raw control character */
        {"01", 2, OMNI_EJSON},
        {"1 2", 3, OMNI_EJSON},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const uint64_t expected[] = {OMNI_STORE_CREATE, OMNI_STORE_ANY_VERSION, 1};
        for (size_t j = 0; j < 3; j++) {
            const char *key = j == 0 ? "new" : "k";
            int rc = omni_store_put(s, "ns", key, bad[i].text, bad[i].len, expected[j], 0, T0,
                                    NULL);
            cr_assert_eq(rc, bad[i].want, "value %zu: %d", i, rc);
            cr_assert_str_eq(omni_error_last_code(), "INVALID_JSON");
        }
    }
    /* too deep: 65 nested arrays */
    char deep[131];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    cr_assert_eq(put_rc(s, "ns", "new", deep, OMNI_STORE_CREATE, 0, T0, NULL), OMNI_ETOODEEP);
    cr_assert_eq(omni_store_put(s, "ns", "new", NULL, 0, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni_store_put(s, "ns", "new", NULL, 5, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_EINVAL);
    expect_missing(s, "ns", "new", T0);
    expect_unchanged(s);
    omni_store_free(s);
}

void sc_invalid_version_expiry_now(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    seed_records(s);
    /* delete needs a version or ANY_VERSION; CREATE means nothing there */
    cr_assert_eq(omni_store_delete(s, "ns", "k", OMNI_STORE_CREATE, T0), OMNI_EINVAL);
    /* expiry: 0 or a time up to 9999-12-31T23:59:59.999Z */
    const int64_t bad_exp[] = {-1, INT64_MIN, INT64_C(253402300800000), INT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(put_rc(s, "ns", "k", "2", 1, bad_exp[i], T0, NULL), OMNI_EINVAL);
        cr_assert_eq(put_rc(s, "ns", "new", "2", OMNI_STORE_CREATE, bad_exp[i], T0, NULL),
                     OMNI_EINVAL);
    }
    /* now_ms must not be negative */
    char *v = NULL;
    cr_assert_eq(omni_store_get(s, "ns", "k", -1, &v, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(put_rc(s, "ns", "k", "2", 1, 0, -1, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_store_delete(s, "ns", "k", 1, -1), OMNI_EINVAL);
    sc_list *l = list_new(0);
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 10, -1, collect_cb, l, NULL), OMNI_EINVAL);
    cr_assert_eq(l->n, 0);
    list_free(l);
    expect_missing(s, "ns", "new", T0);
    expect_unchanged(s);
    omni_store_free(s);
}

void sc_invalid_list_args(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    seed_records(s);
    char *next = (char *)"sentinel";
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 10, T0, NULL, NULL, &next), OMNI_EINVAL);
    cr_assert_null(next);
    char *out = (char *)"sentinel";
    size_t len = 7;
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 0, T0, &out, &len), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 1001, T0, &out, &len), OMNI_EINVAL);
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, -5, &out, &len), OMNI_EINVAL);
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, T0, NULL, &len), OMNI_EINVAL);
    expect_unchanged(s);
    omni_store_free(s);
}

void sc_invalid_null_args(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    seed_records(s);
    char *v = (char *)"sentinel";
    size_t len = 3;
    cr_assert_eq(omni_store_get(NULL, "ns", "k", T0, &v, &len, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, NULL, &len, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(put_rc(NULL, "ns", "k", "1", OMNI_STORE_ANY_VERSION, 0, T0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_store_delete(NULL, "ns", "k", OMNI_STORE_ANY_VERSION, T0), OMNI_EINVAL);
    sc_list *l = list_new(0);
    cr_assert_eq(omni_store_list(NULL, "ns", "", NULL, 10, T0, collect_cb, l, NULL), OMNI_EINVAL);
    list_free(l);
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(NULL, "ns", "", NULL, 10, T0, &out, NULL), OMNI_EINVAL);
    cr_assert_null(out);
    omni_storage_hook h;
    cr_assert_eq(omni_store_get_hook(NULL, &h), OMNI_EINVAL);
    cr_assert_eq(omni_store_get_hook(s, NULL), OMNI_EINVAL);
    omni_store_free(NULL);
    expect_unchanged(s);
    omni_store_free(s);
}

/* ---- values ------------------------------------------------------------- */

static const char *const sc_values[] = {
    ("{\"s\":\"quote \\\" backslash \\\\ newline \\n nul \\u0000 emoji \\ud83d\\ude00 "
     "slash \\/ tab \\t\"}"),
    " [1, 2 ,\n3] ",
    "\"plain\"",
    "null",
    "-0.5e-10",
    "\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\"",
    "{\"nested\":{\"a\":[{},[],\"\"],\"b\":false}}",
    "12345678901234567890123456789",
};

void sc_value_escapes(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    size_t n = sizeof(sc_values) / sizeof(sc_values[0]);
    for (size_t i = 0; i < n; i++) {
        char key[8];
        snprintf(key, sizeof(key), "v%zu", i);
        put_ok(s, "ns", key, sc_values[i], OMNI_STORE_CREATE, 0, T0);
    }
    for (size_t i = 0; i < n; i++) {
        char key[8];
        snprintf(key, sizeof(key), "v%zu", i);
        expect_value(s, "ns", key, T0, sc_values[i], 1); /* byte for byte */
    }
    sc_list *l = list_page(s, "ns", "v", NULL, 100, T0, NULL);
    cr_assert_eq(l->n, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(l->values[i], sc_values[i]);
    list_free(l);
    /* list_json embeds each value as JSON */
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_store_list_json(s, "ns", "v", NULL, 100, T0, &out, &len), OMNI_OK);
    cr_assert_eq(strlen(out), len);
    cJSON *doc = cJSON_ParseWithLength(out, len);
    cr_assert_not_null(doc, "list_json output must parse: %s", out);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    cr_assert_eq((size_t)cJSON_GetArraySize(items), n);
    for (size_t i = 0; i < n; i++) {
        cJSON *want = cJSON_Parse(sc_values[i]);
        cr_assert_not_null(want);
        const cJSON *got =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, (int)i), "value");
        cr_assert(cJSON_Compare(want, got, 1), "value %zu differs", i);
        cJSON_Delete(want);
    }
    cJSON_Delete(doc);
    omni_free(out);
    omni_store_free(s);
}

static char *json_string_of(size_t total)
{
    char *v = repeat('a', total);
    v[0] = '"';
    v[total - 1] = '"';
    return v;
}

void sc_value_size_limit(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char *max = json_string_of(OMNI_STORE_MAX_VALUE);
    char *over = json_string_of(OMNI_STORE_MAX_VALUE + 1);
    uint64_t v = 0;
    cr_assert_eq(omni_store_put(s, "ns", "big", max, OMNI_STORE_MAX_VALUE, OMNI_STORE_CREATE, 0,
                                T0, &v),
                 OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(omni_store_put(s, "ns", "big", over, OMNI_STORE_MAX_VALUE + 1, 1, 0, T0, &v),
                 OMNI_ETOOLARGE);
    cr_assert_str_eq(omni_error_last_code(), "PAYLOAD_TOO_LARGE");
    cr_assert_eq(omni_store_put(s, "ns", "big2", over, OMNI_STORE_MAX_VALUE + 1,
                                OMNI_STORE_CREATE, 0, T0, &v),
                 OMNI_ETOOLARGE);
    expect_missing(s, "ns", "big2", T0);
    char *got = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    cr_assert_eq(omni_store_get(s, "ns", "big", T0, &got, &len, &ver, NULL), OMNI_OK);
    cr_assert_eq(len, OMNI_STORE_MAX_VALUE);
    cr_assert_eq(ver, 1);
    cr_assert(memcmp(got, max, len) == 0);
    omni_free(got);
    /* list_json: one big value fits; two end the page early with a cursor */
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, T0, &out, &len), OMNI_OK);
    cr_assert_gt(len, OMNI_STORE_MAX_VALUE);
    cr_assert(strstr(out, "\"next\":null}") != NULL);
    omni_free(out);
    put_ok(s, "ns", "big3", max, OMNI_STORE_CREATE, 0, T0);
    cr_assert_eq(omni_store_list_json(s, "ns", "", NULL, 10, T0, &out, &len), OMNI_OK);
    cr_assert(strncmp(out, "{\"items\":[{\"key\":\"big\",", 23) == 0);
    cr_assert(strstr(out, "\"key\":\"big3\"") == NULL);
    const char *tail = "}],\"next\":\"big\"}";
    cr_assert(len > strlen(tail) && strcmp(out + len - strlen(tail), tail) == 0,
              "the page ends with a cursor after the first item");
    omni_free(out);
    cr_assert_eq(omni_store_list_json(s, "ns", "", "big", 10, T0, &out, &len), OMNI_OK);
    cr_assert(strncmp(out, "{\"items\":[{\"key\":\"big3\",", 24) == 0);
    cr_assert(strstr(out, "\"next\":null}") != NULL);
    omni_free(out);
    free(max);
    free(over);
    omni_store_free(s);
}

void sc_values_are_copies(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    char buf[] = "{\"n\":1}";
    put_ok(s, "ns", "k", buf, OMNI_STORE_CREATE, 0, T0);
    buf[5] = '9'; /* the store kept its own copy */
    expect_value(s, "ns", "k", T0, "{\"n\":1}", 1);
    char *v = NULL;
    size_t len = 0;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, &len, NULL, NULL), OMNI_OK);
    v[5] = '7'; /* and hands out copies */
    omni_free(v);
    expect_value(s, "ns", "k", T0, "{\"n\":1}", 1);
    /* a value shorter than its buffer: only value_len bytes count */
    cr_assert_eq(omni_store_put(s, "ns", "short", "[1][2]", 3, OMNI_STORE_CREATE, 0, T0, NULL),
                 OMNI_OK);
    expect_value(s, "ns", "short", T0, "[1]", 1);
    omni_store_free(s);
}

void sc_optional_outputs(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    cr_assert_eq(put_rc(s, "ns", "k", "[]", OMNI_STORE_CREATE, T0 + 10, T0, NULL), OMNI_OK);
    char *v = NULL;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, NULL, NULL), OMNI_OK);
    cr_assert_str_eq(v, "[]");
    omni_free(v);
    uint64_t ver = 0;
    cr_assert_eq(omni_store_get(s, "ns", "k", T0, &v, NULL, &ver, NULL), OMNI_OK);
    cr_assert_eq(ver, 1);
    omni_free(v);
    sc_list *l = list_new(0);
    cr_assert_eq(omni_store_list(s, "ns", "", NULL, 10, T0, collect_cb, l, NULL), OMNI_OK);
    cr_assert_eq(l->n, 1);
    list_free(l);
    char *out = NULL;
    cr_assert_eq(omni_store_list_json(s, "ns", NULL, NULL, 10, T0, &out, NULL), OMNI_OK);
    cr_assert_not_null(out);
    omni_free(out);
    omni_store_free(s);
}

/* ---- list_json ---------------------------------------------------------- */

static void expect_json(omni_store *s, const char *ns, const char *prefix, const char *after,
                        size_t limit, int64_t now, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_store_list_json(s, ns, prefix, after, limit, now, &out, &len);
    cr_assert_eq(rc, OMNI_OK, "list_json: %d %s", rc, omni_error_last_message());
    cr_assert_eq(len, strlen(out));
    cr_assert_str_eq(out, want);
    omni_free(out);
}

void sc_list_json_shape(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    expect_json(s, "ns", "", NULL, 10, T0, "{\"items\":[],\"next\":null}");
    put_ok(s, "ns", "a", "{\"x\":1}", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "b", "[true]", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "b", "[false]", 1, T0 + 1500, T0);
    put_ok(s, "ns", "q\"k\x01", "\"s\"", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "\xc3\xa9", "7", OMNI_STORE_CREATE, 0, T0);
    expect_json(s, "ns", "", NULL, 10, T0,
                "{\"items\":["
                "{\"key\":\"a\",\"value\":{\"x\":1},\"version\":1,\"expiresAt\":null},"
                "{\"key\":\"b\",\"value\":[false],\"version\":2,"
                "\"expiresAt\":\"2026-01-01T00:00:01.500Z\"},"
                "{\"key\":\"q\\\"k\\u0001\",\"value\":\"s\",\"version\":1,\"expiresAt\":null},"
                "{\"key\":\"\xc3\xa9\",\"value\":7,\"version\":1,\"expiresAt\":null}"
                "],\"next\":null}");
    /* at the expiry, b is gone */
    expect_json(s, "ns", "b", NULL, 10, T0 + 1500, "{\"items\":[],\"next\":null}");
    omni_store_free(s);
}

void sc_list_json_pages(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "ns", "a", "1", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "b", "2", OMNI_STORE_CREATE, 0, T0);
    put_ok(s, "ns", "c", "3", OMNI_STORE_CREATE, 0, T0);
    expect_json(s, "ns", "", NULL, 2, T0,
                "{\"items\":[{\"key\":\"a\",\"value\":1,\"version\":1,\"expiresAt\":null},"
                "{\"key\":\"b\",\"value\":2,\"version\":1,\"expiresAt\":null}],\"next\":\"b\"}");
    expect_json(s, "ns", NULL, "b", 2, T0,
                "{\"items\":[{\"key\":\"c\",\"value\":3,\"version\":1,\"expiresAt\":null}],"
                "\"next\":null}");
    expect_json(s, "ns", "c", "", 1, T0,
                "{\"items\":[{\"key\":\"c\",\"value\":3,\"version\":1,\"expiresAt\":null}],"
                "\"next\":null}");
    omni_store_free(s);
}

/* ---- concurrency -------------------------------------------------------- */

#define SC_THREADS 4
#define SC_INCREMENTS 400

typedef struct {
    omni_store *s;
    int failures;
    int conflicts;
} sc_worker;

static void *increment_worker(void *arg)
{
    sc_worker *w = arg;
    for (int i = 0; i < SC_INCREMENTS; i++) {
        for (;;) {
            char *v = NULL;
            size_t len = 0;
            uint64_t ver = 0;
            int rc = omni_store_get(w->s, "ctr", "counter", T0, &v, &len, &ver, NULL);
            if (rc == OMNI_ENOTFOUND) {
                rc = omni_store_put(w->s, "ctr", "counter", "1", 1, OMNI_STORE_CREATE, 0, T0,
                                    NULL);
                if (rc == OMNI_OK)
                    break;
                if (rc != OMNI_EEXISTS) {
                    w->failures++;
                    return NULL;
                }
                w->conflicts++;
                continue;
            }
            if (rc != OMNI_OK) {
                w->failures++;
                return NULL;
            }
            long n = strtol(v, NULL, 10);
            omni_free(v);
            char buf[32];
            int blen = snprintf(buf, sizeof(buf), "%ld", n + 1);
            rc = omni_store_put(w->s, "ctr", "counter", buf, (size_t)blen, ver, 0, T0, NULL);
            if (rc == OMNI_OK)
                break;
            if (rc != OMNI_ECONFLICT) {
                w->failures++;
                return NULL;
            }
            w->conflicts++;
        }
    }
    return NULL;
}

void sc_concurrent_cas(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    pthread_t th[SC_THREADS];
    sc_worker w[SC_THREADS];
    for (int i = 0; i < SC_THREADS; i++) {
        w[i] = (sc_worker){s, 0, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, increment_worker, &w[i]), 0);
    }
    for (int i = 0; i < SC_THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0);
    }
    char want[16];
    snprintf(want, sizeof(want), "%d", SC_THREADS * SC_INCREMENTS);
    /* every increment landed exactly once: value n at version n */
    expect_value(s, "ctr", "counter", T0, want, SC_THREADS * SC_INCREMENTS);
    omni_store_free(s);
}

/* ---- atomic batches (library-internal: omni__store_put_batch) ------------ */

void sc_batch_all_or_nothing(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    put_ok(s, "a", "x", "1", OMNI_STORE_CREATE, 0, T0);
    if (!omni__store_batch_supported(s)) { /* a host's hook cannot (yet) */
        omni__store_op one[1] = {{"a", "x", "2", 1, 1, 0, 0}};
        cr_assert_eq(omni__store_put_batch(s, one, 1, T0, NULL), OMNI_EUNSUPPORTED);
        expect_value(s, "a", "x", T0, "1", 1);
        omni_store_free(s);
        return;
    }
    /* a conflict in the last op: nothing of the batch is written */
    omni__store_op bad[3] = {
        {"a", "x", "2", 1, 1, 0, 0},
        {"b", "y", "{\"v\":1}", 7, OMNI_STORE_CREATE, 0, 0},
        {"a", "x2", "3", 1, 5, 0, 0},
    };
    size_t failed = 99;
    cr_assert_eq(omni__store_put_batch(s, bad, 3, T0, &failed), OMNI_ENOTFOUND);
    cr_assert_eq(failed, 2);
    expect_value(s, "a", "x", T0, "1", 1);
    expect_missing(s, "b", "y", T0);
    /* an existing key refused with create-only */
    omni__store_op dup[2] = {
        {"b", "y", "true", 4, OMNI_STORE_CREATE, 0, 0},
        {"a", "x", "5", 1, OMNI_STORE_CREATE, 0, 0},
    };
    cr_assert_eq(omni__store_put_batch(s, dup, 2, T0, &failed), OMNI_EEXISTS);
    cr_assert_eq(failed, 1);
    expect_missing(s, "b", "y", T0);
    /* a version that moved on */
    omni__store_op stale[1] = {{"a", "x", "6", 1, 7, 0, 0}};
    cr_assert_eq(omni__store_put_batch(s, stale, 1, T0, &failed), OMNI_ECONFLICT);
    cr_assert_str_eq(omni_error_last_code(), "VERSION_CONFLICT");
    /* all conditions hold: all written, versions reported, expiry kept */
    omni__store_op ok[3] = {
        {"a", "x", "7", 1, 1, 0, 0},
        {"b", "y", "{\"v\":2}", 7, OMNI_STORE_CREATE, T0 + 1000, 0},
        {"c", "z", "null", 4, OMNI_STORE_ANY_VERSION, 0, 0},
    };
    cr_assert_eq(omni__store_put_batch(s, ok, 3, T0, NULL), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(ok[0].new_version, 2);
    cr_assert_eq(ok[1].new_version, 1);
    cr_assert_eq(ok[2].new_version, 1);
    expect_value(s, "a", "x", T0, "7", 2);
    expect_value(s, "b", "y", T0, "{\"v\":2}", 1);
    expect_value(s, "c", "z", T0, "null", 1);
    expect_missing(s, "b", "y", T0 + 1000);
    /* listed afterwards in order like any other record */
    cr_assert_eq(count_all(s, "a", T0), 1);
    omni_store_free(s);
}

void sc_batch_invalid(sc_open_fn open)
{
    omni_store *s = sc_open(open);
    omni__store_op ops[OMNI__STORE_MAX_BATCH + 1];
    for (size_t i = 0; i < OMNI__STORE_MAX_BATCH + 1; i++)
        ops[i] = (omni__store_op){"ns", "k", "1", 1, OMNI_STORE_ANY_VERSION, 0, 0};
    cr_assert_eq(omni__store_put_batch(s, ops, 0, T0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__store_put_batch(s, ops, OMNI__STORE_MAX_BATCH + 1, T0, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni__store_put_batch(NULL, ops, 1, T0, NULL), OMNI_EINVAL);
    /* the same key twice */
    cr_assert_eq(omni__store_put_batch(s, ops, 2, T0, NULL), OMNI_EINVAL);
    /* bad names, values, times: checked before anything is written */
    omni__store_op bad_ns[2] = {{"ok", "k", "1", 1, OMNI_STORE_ANY_VERSION, 0, 0},
                                {"BAD NS", "k", "1", 1, OMNI_STORE_ANY_VERSION, 0, 0}};
    cr_assert_eq(omni__store_put_batch(s, bad_ns, 2, T0, NULL), OMNI_EINVAL);
    omni__store_op bad_exp[1] = {{"ok", "k", "1", 1, OMNI_STORE_ANY_VERSION, -5, 0}};
    cr_assert_eq(omni__store_put_batch(s, bad_exp, 1, T0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__store_put_batch(s, ops, 1, -1, NULL), OMNI_EINVAL);
    expect_missing(s, "ok", "k", T0);
    expect_missing(s, "ns", "k", T0);
    omni_store_free(s);
}
