/* The store: opens bundled backends by URI, wraps host hooks, and checks
 * every argument before a backend sees it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omni/store.h>

#include "core/buf.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "omni_config.h"
#include "store_internal.h"

#define STORE_MAX_URI 4096
#define STORE_MAX_SCHEME 32

struct omni_store {
    omni_storage_hook hook;
    int trusted; /* a bundled backend: values come NUL-terminated and valid */
};

/* ---- opening ------------------------------------------------------------ */

#if !OMNI_HAVE_SQLITE
static int open_sqlite(omni_storage_hook *out, const char *rest)
{
    (void)out;
    (void)rest;
    return omni__err(OMNI_EUNSUPPORTED, "store: the SQLite backend (\"sqlite:PATH\") is not "
                                        "built into this library");
}
#endif

/* URI scheme -> backend. A backend switched off at build time keeps its row
 * with an opener that reports OMNI_EUNSUPPORTED. */
static const struct {
    const char *scheme;
    omni__store_opener open;
} store_openers[] = {
    {"memory", omni__store_memory_open},
#if OMNI_HAVE_SQLITE
    {"sqlite", omni__store_sqlite_open},
#else
    {"sqlite", open_sqlite},
#endif
};

static int scheme_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

static int store_new(omni_store **out, const omni_storage_hook *hook, int trusted)
{
    omni_store *s = calloc(1, sizeof(*s));
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    s->hook = *hook;
    s->trusted = trusted;
    *out = s;
    return OMNI_OK;
}

int omni_store_open(omni_store **out, const char *uri)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "store: out is NULL");
    *out = NULL;
    if (!uri)
        return omni__err(OMNI_EINVAL, "store: URI is NULL");
    if (strnlen(uri, STORE_MAX_URI + 1) > STORE_MAX_URI)
        return omni__err(OMNI_EINVAL, "store: URI is longer than %d bytes", STORE_MAX_URI);
    /* The URI may carry a path or credentials: only the scheme is ever echoed. */
    size_t n = 0;
    while (uri[n] && uri[n] != ':' && n <= STORE_MAX_SCHEME && scheme_char(uri[n], n == 0))
        n++;
    if (uri[n] != ':' || n == 0 || n > STORE_MAX_SCHEME)
        return omni__err(OMNI_EINVAL, "store: URI must be \"scheme:...\", for example \"memory:\"");
    for (size_t i = 0; i < sizeof(store_openers) / sizeof(store_openers[0]); i++) {
        if (strlen(store_openers[i].scheme) != n ||
            strncasecmp(uri, store_openers[i].scheme, n) != 0)
            continue;
        omni_storage_hook hook = OMNI_STORAGE_HOOK_INIT;
        int rc = store_openers[i].open(&hook, uri + n + 1);
        if (rc)
            return rc;
        rc = store_new(out, &hook, 1);
        if (rc && hook.close)
            hook.close(hook.ctx);
        return rc;
    }
    return omni__err(OMNI_EUNSUPPORTED,
                     "store: unknown URI scheme \"%.*s\" (known: memory, sqlite)", (int)n, uri);
}

int omni_store_wrap(omni_store **out, const omni_storage_hook *hook)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "store: out is NULL");
    *out = NULL;
    if (!hook)
        return omni__err(OMNI_EINVAL, "storage hook table is NULL");
    int rc = omni__hook_version_check(hook->version, OMNI_STORAGE_HOOK_VERSION, "storage");
    if (rc)
        return rc;
    const char *missing = NULL;
    if (!hook->get)
        missing = "get";
    else if (!hook->put)
        missing = "put";
    else if (!hook->del)
        missing = "del";
    else if (!hook->list)
        missing = "list";
    if (missing)
        return omni__err(OMNI_EINVAL, "storage hook: the %s callback is NULL", missing);
    /* a bundled backend's table handed back (omni_store_get_hook) */
    int bundled = omni__store_memory_owns(hook);
#if OMNI_HAVE_SQLITE
    bundled = bundled || omni__store_sqlite_owns(hook);
#endif
    return store_new(out, hook, bundled);
}

int omni__store_trusted(const omni_store *store)
{
    return store && store->trusted;
}

void omni_store_free(omni_store *store)
{
    if (!store)
        return;
    if (store->hook.close)
        store->hook.close(store->hook.ctx);
    free(store);
}

int omni_store_get_hook(const omni_store *store, omni_storage_hook *out)
{
    if (!store || !out)
        return omni__err(OMNI_EINVAL, "store: NULL store or out");
    *out = store->hook;
    out->close = NULL;
    return OMNI_OK;
}

/* ---- argument checks ---------------------------------------------------- */

int omni__store_check_ns(const char *ns)
{
    if (!ns)
        return omni__err(OMNI_EINVAL, "store: namespace is NULL");
    size_t n = 0;
    for (; ns[n]; n++) {
        char c = ns[n];
        if (n >= OMNI_STORE_MAX_NS)
            return omni__err(OMNI_EINVAL, "store: namespace is longer than %d bytes",
                             OMNI_STORE_MAX_NS);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return omni__err(OMNI_EINVAL, "store: namespace may only hold [a-z0-9_.-] "
                                          "(byte %zu is not one)", n);
    }
    if (n == 0)
        return omni__err(OMNI_EINVAL, "store: namespace is empty");
    return OMNI_OK;
}

/* Keys are never echoed: they may hold personal data (phone numbers). */
int omni__store_check_key(const char *key)
{
    if (!key)
        return omni__err(OMNI_EINVAL, "store: key is NULL");
    size_t n = strnlen(key, OMNI_STORE_MAX_KEY + 1);
    if (n == 0)
        return omni__err(OMNI_EINVAL, "store: key is empty");
    if (n > OMNI_STORE_MAX_KEY)
        return omni__err(OMNI_EINVAL, "store: key is longer than %d bytes", OMNI_STORE_MAX_KEY);
    size_t off = 0;
    if (omni_utf8_validate(key, n, &off) != OMNI_OK)
        return omni__err(OMNI_EINVAL, "store: key is not valid UTF-8 (byte %zu)", off);
    return OMNI_OK;
}

/* prefix and after_key of list: bounded strings, compared bytewise. */
static int check_bound(const char *s, const char *what)
{
    if (strnlen(s, OMNI_STORE_MAX_KEY + 1) > OMNI_STORE_MAX_KEY)
        return omni__err(OMNI_EINVAL, "store: %s is longer than %d bytes", what,
                         OMNI_STORE_MAX_KEY);
    return OMNI_OK;
}

static int check_now(int64_t now_ms)
{
    if (now_ms < 0)
        return omni__err(OMNI_EINVAL, "store: now_ms is negative");
    return OMNI_OK;
}

/* ---- calling the hook --------------------------------------------------- */

/* Turns a hook's return into a status with a message. */
static int hook_result(int rc, unsigned long mark, const char *what)
{
    if (rc == OMNI_OK)
        return OMNI_OK;
    if (rc > 0 || rc < OMNI__STATUS_MIN)
        return omni__err(OMNI_EHOOK, "%s hook returned an unknown status %d", what, rc);
    if (omni__err_mark() == mark) {
        /* the hook set no message: the expected outcomes get a plain one */
        switch (rc) {
        case OMNI_ENOTFOUND: return omni__err(rc, "store: no record with this key");
        case OMNI_EEXISTS: return omni__err(rc, "store: a record with this key exists");
        case OMNI_ECONFLICT: return omni__err(rc, "store: version conflict");
        default: break;
        }
    }
    return omni__err_from_hook(rc, mark, what);
}

int omni_store_get(omni_store *store, const char *ns, const char *key, int64_t now_ms,
                   char **value, size_t *value_len, uint64_t *version, int64_t *expires_at_ms)
{
    if (value)
        *value = NULL;
    if (value_len)
        *value_len = 0;
    if (!store || !value)
        return omni__err(OMNI_EINVAL, "store get: NULL store or value");
    int rc = omni__store_check_ns(ns);
    if (!rc)
        rc = omni__store_check_key(key);
    if (!rc)
        rc = check_now(now_ms);
    if (rc)
        return rc;
    char *v = NULL;
    size_t len = 0;
    uint64_t ver = 0;
    int64_t exp = 0;
    unsigned long mark = omni__err_mark();
    rc = store->hook.get(store->hook.ctx, ns, key, now_ms, &v, &len, &ver, &exp);
    if (rc)
        return hook_result(rc, mark, "storage get");
    if (!store->trusted) {
        if (!v || len > OMNI_STORE_MAX_VALUE || ver == 0 || ver == OMNI_STORE_ANY_VERSION) {
            omni_free(v);
            return omni__err(OMNI_EHOOK, "storage get hook returned %s",
                             !v ? "no value" : ver == 0 || ver == OMNI_STORE_ANY_VERSION
                                                   ? "an invalid version"
                                                   : "a value over the size limit");
        }
        /* the hook's buffer need not be NUL-terminated; it came from omni_malloc */
        char *t = realloc(v, len + 1);
        if (!t) {
            omni_free(v);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        v = t;
        v[len] = '\0';
    }
    *value = v;
    if (value_len)
        *value_len = len;
    if (version)
        *version = ver;
    if (expires_at_ms)
        *expires_at_ms = exp;
    return OMNI_OK;
}

/* The checks of a put's arguments (value: its size; JSON when validate). */
static int check_put(const char *ns, const char *key, const char *value, size_t value_len,
                     int64_t expires_at_ms, int64_t now_ms, int validate)
{
    int rc = omni__store_check_ns(ns);
    if (!rc)
        rc = omni__store_check_key(key);
    if (rc)
        return rc;
    if (!value)
        return omni__err(OMNI_EINVAL, "store put: value is NULL");
    if (value_len > OMNI_STORE_MAX_VALUE)
        return omni__err(OMNI_ETOOLARGE, "store put: value is %zu bytes, over the limit of %u",
                         value_len, OMNI_STORE_MAX_VALUE);
    if (expires_at_ms < 0 || expires_at_ms > OMNI__STORE_MAX_EXPIRY_MS)
        return omni__err(OMNI_EINVAL, "store put: expires_at_ms must be 0 (never) or a time "
                                      "up to year 9999");
    if ((rc = check_now(now_ms)))
        return rc;
    if (validate && (rc = omni__json_validate(value, value_len, OMNI_STORE_MAX_VALUE,
                                              "store value")))
        return rc;
    return OMNI_OK;
}

static int store_put(omni_store *store, const char *ns, const char *key, const char *value,
                     size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                     int64_t now_ms, uint64_t *new_version, int validate)
{
    if (!store)
        return omni__err(OMNI_EINVAL, "store put: store is NULL");
    int rc = check_put(ns, key, value, value_len, expires_at_ms, now_ms, validate);
    if (rc)
        return rc;
    uint64_t nv = 0;
    unsigned long mark = omni__err_mark();
    rc = store->hook.put(store->hook.ctx, ns, key, value, value_len, expected_version,
                         expires_at_ms, now_ms, &nv);
    if (rc)
        return hook_result(rc, mark, "storage put");
    if (nv == 0 || nv == OMNI_STORE_ANY_VERSION)
        return omni__err(OMNI_EHOOK, "storage put hook returned an invalid new version");
    if (new_version)
        *new_version = nv;
    return OMNI_OK;
}

int omni__store_batch_supported(const omni_store *store)
{
    if (!store || !store->trusted)
        return 0;
#if OMNI_HAVE_SQLITE
    if (omni__store_sqlite_owns(&store->hook))
        return 1;
#endif
    return omni__store_memory_owns(&store->hook);
}

int omni__store_put_batch(omni_store *store, omni__store_op *ops, size_t n, int64_t now_ms,
                          size_t *failed)
{
    if (!store || !ops || n == 0 || n > OMNI__STORE_MAX_BATCH)
        return omni__err(OMNI_EINVAL, "store batch: NULL store or ops, or not 1..%d puts",
                         OMNI__STORE_MAX_BATCH);
    for (size_t i = 0; i < n; i++) {
        int rc = check_put(ops[i].ns, ops[i].key, ops[i].value, ops[i].value_len,
                           ops[i].expires_at_ms, now_ms, 0);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(ops[j].ns, ops[i].ns) == 0 && strcmp(ops[j].key, ops[i].key) == 0)
                return omni__err(OMNI_EINVAL, "store batch: the same key twice");
    }
    if (!omni__store_batch_supported(store))
        return omni__err(OMNI_EUNSUPPORTED, "store batch: this store cannot put atomically");
#if OMNI_HAVE_SQLITE
    if (omni__store_sqlite_owns(&store->hook))
        return omni__store_sqlite_batch(store->hook.ctx, ops, n, now_ms, failed);
#endif
    return omni__store_memory_batch(store->hook.ctx, ops, n, now_ms, failed);
}

int omni_store_put(omni_store *store, const char *ns, const char *key, const char *value,
                   size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                   int64_t now_ms, uint64_t *new_version)
{
    return store_put(store, ns, key, value, value_len, expected_version, expires_at_ms, now_ms,
                     new_version, 1);
}

int omni__store_put_trusted(omni_store *store, const char *ns, const char *key, const char *value,
                            size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                            int64_t now_ms, uint64_t *new_version)
{
    return store_put(store, ns, key, value, value_len, expected_version, expires_at_ms, now_ms,
                     new_version, 0);
}

int omni__store_put_json(omni_store *store, const char *ns, const char *key, const cJSON *value,
                         uint64_t expected_version, int64_t expires_at_ms, int64_t now_ms,
                         uint64_t *new_version)
{
    if (!value)
        return omni__err(OMNI_EINVAL, "store put: value is NULL");
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_item(&b, value);
    int rc = omni__buf_status(&b);
    if (!rc)
        rc = store_put(store, ns, key, b.data ? b.data : "", b.len, expected_version,
                       expires_at_ms, now_ms, new_version, 0);
    omni__buf_free(&b);
    return rc;
}

int omni__store_get_json(omni_store *store, const char *ns, const char *key, int64_t now_ms,
                         cJSON **out, uint64_t *version, int64_t *expires_at_ms)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "store get: out is NULL");
    *out = NULL;
    char *v;
    size_t len;
    uint64_t ver;
    int64_t exp;
    int rc = omni_store_get(store, ns, key, now_ms, &v, &len, &ver, &exp);
    if (rc)
        return rc;
    cJSON *root = NULL;
    rc = omni__json_parse(&root, v, len, OMNI_STORE_MAX_VALUE, "stored value");
    omni_free(v);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc)
        return omni__err_retry(OMNI_ESTORAGE, 0, "store: the stored value is not valid JSON");
    *out = root;
    if (version)
        *version = ver;
    if (expires_at_ms)
        *expires_at_ms = exp;
    return OMNI_OK;
}

int omni_store_delete(omni_store *store, const char *ns, const char *key,
                      uint64_t expected_version, int64_t now_ms)
{
    if (!store)
        return omni__err(OMNI_EINVAL, "store delete: store is NULL");
    int rc = omni__store_check_ns(ns);
    if (!rc)
        rc = omni__store_check_key(key);
    if (!rc)
        rc = check_now(now_ms);
    if (rc)
        return rc;
    if (expected_version == OMNI_STORE_CREATE)
        return omni__err(OMNI_EINVAL, "store delete: expected_version must be a version or "
                                      "OMNI_STORE_ANY_VERSION");
    unsigned long mark = omni__err_mark();
    rc = store->hook.del(store->hook.ctx, ns, key, expected_version, now_ms);
    return hook_result(rc, mark, "storage del");
}

/* ---- listing ------------------------------------------------------------ */

/* Stands between the hook and the caller's callback: enforces the limit and
 * the early stop even when a host hook ignores them. */
typedef struct {
    omni_store_list_cb cb;
    void *cb_ctx;
    size_t limit, count;
    int stopped;
} list_guard;

static int guard_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    list_guard *g = ctx;
    if (g->stopped || g->count >= g->limit || !key || !value)
        return 1;
    g->count++;
    if (g->cb(g->cb_ctx, key, key_len, value, value_len, version, expires_at_ms)) {
        g->stopped = 1;
        return 1;
    }
    return 0;
}

int omni_store_list(omni_store *store, const char *ns, const char *prefix, const char *after_key,
                    size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                    char **next_key)
{
    if (next_key)
        *next_key = NULL;
    if (!store || !cb)
        return omni__err(OMNI_EINVAL, "store list: NULL store or callback");
    if (!prefix)
        prefix = "";
    if (!after_key)
        after_key = "";
    int rc = omni__store_check_ns(ns);
    if (!rc)
        rc = check_bound(prefix, "prefix");
    if (!rc)
        rc = check_bound(after_key, "after_key");
    if (!rc)
        rc = check_now(now_ms);
    if (rc)
        return rc;
    if (limit < 1 || limit > OMNI_STORE_MAX_LIST)
        return omni__err(OMNI_EINVAL, "store list: limit must be 1..%d", OMNI_STORE_MAX_LIST);
    list_guard g = {cb, cb_ctx, limit, 0, 0};
    char *next = NULL;
    unsigned long mark = omni__err_mark();
    rc = store->hook.list(store->hook.ctx, ns, prefix, after_key, limit, now_ms, guard_cb, &g,
                          &next);
    if (rc)
        return hook_result(rc, mark, "storage list");
    if (next_key)
        *next_key = next;
    else
        omni_free(next);
    return OMNI_OK;
}

typedef struct {
    omni_buf doc;
    omni_buf last_key; /* key of the last item written */
    int trusted;
    int rc;
    int full; /* stopped at the size cap */
    size_t items;
} json_page;

static int json_item_cb(void *ctx, const char *key, size_t key_len, const char *value,
                        size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    json_page *p = ctx;
    if (!p->trusted) {
        if (omni_utf8_validate(key, key_len, NULL) != OMNI_OK ||
            omni__json_validate(value, value_len, OMNI_STORE_MAX_VALUE, "stored value")) {
            p->rc = omni__err_retry(OMNI_ESTORAGE, 0,
                                    "store list: a stored key or value is not valid");
            return 1;
        }
    }
    /* an item takes at most 6 bytes per key byte (\u00XX), the value and ~100 more */
    size_t item_max = key_len * 6 + value_len + 128;
    if (p->items > 0 && p->doc.len + item_max > OMNI__STORE_LIST_JSON_SOFT_MAX) {
        p->full = 1;
        return 1;
    }
    char ts[OMNI_TIME_STRLEN];
    if (expires_at_ms != 0) {
        int rc = omni_time_format(ts, sizeof(ts), expires_at_ms);
        if (rc) {
            p->rc = rc;
            return 1;
        }
    }
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, version);
    omni__json_w_obj_begin(&p->doc);
    omni__json_w_key(&p->doc, "key");
    omni__json_w_strn(&p->doc, key, key_len);
    omni__json_w_key(&p->doc, "value");
    omni__json_w_raw(&p->doc, value, value_len);
    omni__json_w_key(&p->doc, "version");
    omni__json_w_raw(&p->doc, num, (size_t)n);
    omni__json_w_key(&p->doc, "expiresAt");
    if (expires_at_ms != 0)
        omni__json_w_str(&p->doc, ts);
    else
        omni__json_w_null(&p->doc);
    omni__json_w_obj_end(&p->doc);
    omni__buf_reset(&p->last_key);
    omni__buf_append(&p->last_key, key, key_len);
    omni__buf_putc(&p->last_key, '\0');
    p->items++;
    if (p->doc.failed || p->last_key.failed) {
        p->rc = omni__buf_status(p->doc.failed ? &p->doc : &p->last_key);
        return 1;
    }
    return 0;
}

int omni_store_list_json(omni_store *store, const char *ns, const char *prefix,
                         const char *after_key, size_t limit, int64_t now_ms, char **out,
                         size_t *out_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "store list: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!store)
        return omni__err(OMNI_EINVAL, "store list: store is NULL");
    json_page p = {OMNI_BUF_INIT, OMNI_BUF_INIT, store->trusted, 0, 0, 0};
    omni__json_w_obj_begin(&p.doc);
    omni__json_w_key(&p.doc, "items");
    omni__json_w_arr_begin(&p.doc);
    char *next = NULL;
    int rc = omni_store_list(store, ns, prefix, after_key, limit, now_ms, json_item_cb, &p, &next);
    if (!rc && p.rc)
        rc = p.rc;
    if (!rc && p.full) {
        /* continue after the last item that made it into the document */
        omni_free(next);
        next = omni_malloc(p.last_key.len);
        if (!next)
            rc = omni__err(OMNI_ENOMEM, NULL);
        else
            memcpy(next, p.last_key.data, p.last_key.len);
    }
    if (!rc) {
        omni__json_w_arr_end(&p.doc);
        omni__json_w_key(&p.doc, "next");
        omni__json_w_str(&p.doc, next);
        omni__json_w_obj_end(&p.doc);
        rc = omni__buf_detach(&p.doc, out, out_len);
    }
    omni_free(next);
    omni__buf_free(&p.doc);
    omni__buf_free(&p.last_key);
    return rc;
}
