/* The device registry (omni/push.h): register, refresh, move, remove,
 * invalidation, listing by user and by platform with paging, long web
 * tokens, every validation error, concurrent registration, crash
 * consistency through a failing storage hook, the SQLite store. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#define NOW "2025-01-02T03:04:05.000Z"
#define LATER "2025-01-02T03:05:05.000Z"
#define NOW_MS INT64_C(1735787045000)

/* RFC 8291 Appendix A: the user agent's public key and auth secret. */
#define UA_PUBLIC                                                                              \
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define UA_AUTH "BTBZMqHH6r4Tts7J_aSIgg"
#define IOS_TOKEN "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"
#define FCM_TOKEN "fcm-token_1:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"

/* ---- fixtures ------------------------------------------------------------ */

static int64_t clock_now(void *ctx)
{
    return *(int64_t *)ctx;
}

/* A host storage hook over an omni_store that can fail its n-th write
 * (put or delete, counting from 1) with OMNI_ESTORAGE. */
typedef struct faulty {
    omni_store *inner;
    int writes;
    int fail_at; /* 0: never */
} faulty;

static int f_get(void *ctx, const char *ns, const char *key, int64_t now, char **value,
                 size_t *value_len, uint64_t *version, int64_t *expires)
{
    faulty *f = ctx;
    return omni_store_get(f->inner, ns, key, now, value, value_len, version, expires);
}

static int f_fail(faulty *f)
{
    return ++f->writes == f->fail_at ? omni_error_set(OMNI_ESTORAGE, "injected failure", 1) : 0;
}

static int f_put(void *ctx, const char *ns, const char *key, const char *value,
                 size_t value_len, uint64_t expected, int64_t expires, int64_t now,
                 uint64_t *new_version)
{
    faulty *f = ctx;
    int rc = f_fail(f);
    return rc ? rc
              : omni_store_put(f->inner, ns, key, value, value_len, expected, expires, now,
                               new_version);
}

static int f_del(void *ctx, const char *ns, const char *key, uint64_t expected, int64_t now)
{
    faulty *f = ctx;
    int rc = f_fail(f);
    return rc ? rc : omni_store_delete(f->inner, ns, key, expected, now);
}

static int f_list(void *ctx, const char *ns, const char *prefix, const char *after,
                  size_t limit, int64_t now, omni_store_list_cb cb, void *cb_ctx, char **next)
{
    faulty *f = ctx;
    return omni_store_list(f->inner, ns, prefix, after, limit, now, cb, cb_ctx, next);
}

typedef struct fixture {
    omni_engine *e;
    omni_store *inner; /* with a faulty hook */
    faulty f;
    int64_t now;
} fixture;

static void fx_open(fixture *fx, int with_faulty)
{
    memset(fx, 0, sizeof(*fx));
    fx->now = NOW_MS;
    omni_clock_hook clk = OMNI_CLOCK_HOOK_INIT;
    clk.ctx = &fx->now;
    clk.now_ms = clock_now;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.clock = &clk;
    omni_storage_hook sh = OMNI_STORAGE_HOOK_INIT;
    if (with_faulty) {
        cr_assert_eq(omni_store_open(&fx->inner, "memory:"), OMNI_OK);
        fx->f.inner = fx->inner;
        sh.ctx = &fx->f;
        sh.get = f_get;
        sh.put = f_put;
        sh.del = f_del;
        sh.list = f_list;
        hooks.storage = &sh;
    }
    cr_assert_eq(omni_engine_new(&fx->e, NULL, 0, &hooks), OMNI_OK);
}

static void fx_close(fixture *fx)
{
    omni_engine_free(fx->e);
    omni_store_free(fx->inner);
}

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    cr_assert_not_null(j, "not JSON: %s", s);
    return j;
}

static const char *jstr(const cJSON *j, const char *path)
{
    const cJSON *cur = j;
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = (*t >= '0' && *t <= '9') ? cJSON_GetArrayItem(cur, atoi(t))
                                       : cJSON_GetObjectItemCaseSensitive(cur, t);
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

static const cJSON *jat(const cJSON *j, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(j, name);
}

/* Registers, expecting OMNI_OK; returns the parsed result. */
static cJSON *reg(omni_engine *e, const char *json)
{
    char *out = NULL;
    int rc = omni_device_register(&out, NULL, e, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "register %s: %s", json, omni_error_last_message());
    cJSON *j = parse(out);
    omni_free(out);
    return j;
}

static char *ios(const char *user, const char *token)
{
    char *s = malloc(512);
    snprintf(s, 512, "{\"userId\":\"%s\",\"deviceToken\":\"%s\",\"platform\":\"ios\"}", user,
             token);
    return s;
}

static char *web(const char *user, const char *endpoint)
{
    size_t n = strlen(endpoint) * 2 + 512;
    char *s = malloc(n);
    snprintf(s, n,
             "{\"userId\":\"%s\",\"deviceToken\":\"%s\",\"platform\":\"web\","
             "\"subscription\":{\"endpoint\":\"%s\",\"expirationTime\":null,"
             "\"keys\":{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" UA_AUTH "\"}}}",
             user, endpoint, endpoint);
    return s;
}

static void reg_free(omni_engine *e, char *json)
{
    cJSON_Delete(reg(e, json));
    free(json);
}

/* The page of a listing; *n receives the item count. */
static cJSON *list(omni_engine *e, const char *user, const char *platform, const char *query)
{
    char *out = NULL;
    int rc = omni_device_list(&out, NULL, e, user, platform, query, query ? strlen(query) : 0);
    cr_assert_eq(rc, OMNI_OK, "list: %s", omni_error_last_message());
    cJSON *j = parse(out);
    omni_free(out);
    return j;
}

static int list_count(omni_engine *e, const char *user, const char *platform)
{
    cJSON *j = list(e, user, platform, "{\"limit\":1000}");
    int n = cJSON_GetArraySize(jat(j, "items"));
    cr_assert(cJSON_IsNull(jat(j, "next")));
    cJSON_Delete(j);
    return n;
}

static int count_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires)
{
    (void)key, (void)key_len, (void)value, (void)value_len, (void)version, (void)expires;
    (*(int *)ctx)++;
    return 0;
}

/* Records in a namespace of the engine's store (raw, no verification). */
static int raw_count(omni_engine *e, const char *ns, const char *prefix)
{
    int n = 0;
    int rc = omni_store_list(omni_engine_store(e), ns, prefix, NULL, 1000, NOW_MS + 3600000,
                             count_cb, &n, NULL);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    return n;
}

/* ---- register / refresh / move / remove ---------------------------------- */

Test(devices, register_creates)
{
    fixture fx;
    fx_open(&fx, 0);
    const char *dev = "{\"userId\":\"user-1\",\"deviceToken\":\"" IOS_TOKEN "\",\"platform\":"
                      "\"ios\",\"appId\":\"com.example.app\",\"locale\":\"en-US\",\"timezone\":"
                      "\"Asia/Kolkata\",\"metadata\":{\"model\":\"iPhone15,2\",\"n\":[1,2]}}";
    cJSON *r = reg(fx.e, dev);
    cr_assert(cJSON_IsTrue(jat(r, "created")));
    cr_assert_str_eq(jstr(r, "device.userId"), "user-1");
    cr_assert_str_eq(jstr(r, "device.deviceToken"), IOS_TOKEN);
    cr_assert_str_eq(jstr(r, "device.platform"), "ios");
    cr_assert_str_eq(jstr(r, "device.appId"), "com.example.app");
    cr_assert_str_eq(jstr(r, "device.locale"), "en-US");
    cr_assert_str_eq(jstr(r, "device.timezone"), "Asia/Kolkata");
    cr_assert_str_eq(jstr(r, "device.metadata.model"), "iPhone15,2");
    cr_assert_str_eq(jstr(r, "device.registeredAt"), NOW);
    cr_assert_str_eq(jstr(r, "device.updatedAt"), NOW);
    cr_assert_eq(cJSON_GetArraySize(jat(r, "events")), 1);
    cr_assert_str_eq(jstr(r, "events.0.source"), "omni.push");
    cr_assert_str_eq(jstr(r, "events.0.detailType"), "device.registered");
    cr_assert_str_eq(jstr(r, "events.0.detail.userId"), "user-1");
    cr_assert_str_eq(jstr(r, "events.0.detail.platform"), "ios");
    cr_assert_str_eq(jstr(r, "events.0.detail.deviceToken"), IOS_TOKEN);
    cr_assert_str_eq(jstr(r, "events.0.detail.registeredAt"), NOW);
    cJSON_Delete(r);

    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_device_get(&out, &n, fx.e, "ios", IOS_TOKEN), OMNI_OK);
    cr_assert_eq(n, strlen(out));
    cJSON *g = parse(out);
    cr_assert_str_eq(jstr(g, "userId"), "user-1");
    cr_assert_str_eq(jstr(g, "metadata.model"), "iPhone15,2");
    cJSON_Delete(g);
    omni_free(out);
    /* the layout: "device" ios/<token>, "device_user" user-1/ios/<token> */
    char *v = NULL;
    cr_assert_eq(omni_store_get(omni_engine_store(fx.e), "device", "ios/" IOS_TOKEN, NOW_MS, &v,
                                NULL, NULL, NULL),
                 OMNI_OK);
    omni_free(v);
    cr_assert_eq(omni_store_get(omni_engine_store(fx.e), "device_user",
                                "user-1/ios/" IOS_TOKEN, NOW_MS, &v, NULL, NULL, NULL),
                 OMNI_OK);
    cr_assert_str_eq(v, "{}");
    omni_free(v);
    fx_close(&fx);
}

Test(devices, refresh_keeps_registered_at)
{
    fixture fx;
    fx_open(&fx, 0);
    reg_free(fx.e, ios("user-1", IOS_TOKEN));
    fx.now += 60000;
    const char *dev = "{\"userId\":\"user-1\",\"deviceToken\":\"" IOS_TOKEN "\",\"platform\":"
                      "\"ios\",\"locale\":\"hi\"}";
    cJSON *r = reg(fx.e, dev);
    cr_assert(cJSON_IsFalse(jat(r, "created")));
    cr_assert_str_eq(jstr(r, "device.registeredAt"), NOW);
    cr_assert_str_eq(jstr(r, "device.updatedAt"), LATER);
    cr_assert_str_eq(jstr(r, "device.locale"), "hi");
    cr_assert_str_eq(jstr(r, "events.0.detailType"), "device.updated");
    cr_assert_str_eq(jstr(r, "events.0.detail.updatedAt"), LATER);
    cr_assert_null(jat(jat(jat(r, "events")->child, "detail"), "previousUserId"));
    cJSON_Delete(r);
    cr_assert_eq(list_count(fx.e, "user-1", NULL), 1);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 1);
    /* a stored record round-trips as a registration (registeredAt and
     * updatedAt in the input are ignored) */
    char *out = NULL;
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "ios", IOS_TOKEN), OMNI_OK);
    cJSON_Delete(reg(fx.e, out));
    omni_free(out);
    fx_close(&fx);
}

Test(devices, move_to_another_user)
{
    fixture fx;
    fx_open(&fx, 0);
    reg_free(fx.e, ios("alice", IOS_TOKEN));
    cJSON *r = reg(fx.e, "{\"userId\":\"bob\",\"deviceToken\":\"" IOS_TOKEN "\","
                         "\"platform\":\"ios\"}");
    cr_assert(cJSON_IsFalse(jat(r, "created")));
    cr_assert_str_eq(jstr(r, "events.0.detailType"), "device.moved");
    cr_assert_str_eq(jstr(r, "events.0.detail.userId"), "bob");
    cr_assert_str_eq(jstr(r, "events.0.detail.previousUserId"), "alice");
    cr_assert_str_eq(jstr(r, "device.userId"), "bob");
    cJSON_Delete(r);
    /* never a duplicate: one record, one index entry, bob's */
    cr_assert_eq(raw_count(fx.e, "device", ""), 1);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 1);
    cr_assert_eq(raw_count(fx.e, "device_user", "bob/"), 1);
    cr_assert_eq(list_count(fx.e, "alice", NULL), 0);
    cr_assert_eq(list_count(fx.e, "bob", NULL), 1);
    cr_assert_eq(list_count(fx.e, NULL, "ios"), 1);
    fx_close(&fx);
}

Test(devices, remove_unregisters)
{
    fixture fx;
    fx_open(&fx, 0);
    reg_free(fx.e, ios("alice", IOS_TOKEN));
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_device_remove(&out, &n, fx.e, "ios", IOS_TOKEN, NULL), OMNI_OK);
    cr_assert_eq(n, strlen(out));
    cJSON *r = parse(out);
    omni_free(out);
    cr_assert_str_eq(jstr(r, "device.userId"), "alice");
    cr_assert_str_eq(jstr(r, "events.0.detailType"), "device.unregistered");
    cr_assert_str_eq(jstr(r, "events.0.detail.removedAt"), NOW);
    cr_assert_null(jat(jat(jat(r, "events")->child, "detail"), "reason"));
    cJSON_Delete(r);
    cr_assert_eq(raw_count(fx.e, "device", ""), 0);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 0);
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "ios", IOS_TOKEN), OMNI_ENOTFOUND);
    cr_assert_null(out);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", IOS_TOKEN, NULL), OMNI_ENOTFOUND);
    cr_assert_str_eq(omni_error_last()->code, "NOT_FOUND");
    fx_close(&fx);
}

Test(devices, remove_invalidated_with_reason)
{
    fixture fx;
    fx_open(&fx, 0);
    reg_free(fx.e, web("carol", "https://fcm.googleapis.com/fcm/send/abc:def"));
    char *out = NULL;
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "web",
                                    "https://fcm.googleapis.com/fcm/send/abc:def", "410 Gone"),
                 OMNI_OK);
    cJSON *r = parse(out);
    omni_free(out);
    cr_assert_str_eq(jstr(r, "events.0.detailType"), "device.invalidated");
    cr_assert_str_eq(jstr(r, "events.0.detail.reason"), "410 Gone");
    cr_assert_str_eq(jstr(r, "events.0.detail.userId"), "carol");
    cr_assert_str_eq(jstr(r, "events.0.detail.platform"), "web");
    cr_assert_str_eq(jstr(r, "device.subscription.keys.auth"), UA_AUTH);
    cJSON_Delete(r);
    cr_assert_eq(list_count(fx.e, "carol", NULL), 0);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 0);
    fx_close(&fx);
}

Test(devices, remove_errors)
{
    fixture fx;
    fx_open(&fx, 0);
    reg_free(fx.e, ios("alice", IOS_TOKEN));
    char *out = (char *)1;
    cr_assert_eq(omni_device_remove(NULL, NULL, fx.e, "ios", IOS_TOKEN, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, NULL, "ios", IOS_TOKEN, NULL), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, NULL, IOS_TOKEN, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "blackberry", IOS_TOKEN, NULL),
                 OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", "not hex", NULL), OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", IOS_TOKEN, ""), OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", IOS_TOKEN, "bad\nreason"),
                 OMNI_EINVAL);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", IOS_TOKEN, "\xff"), OMNI_EINVAL);
    char long_reason[300];
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", IOS_TOKEN, long_reason),
                 OMNI_EINVAL);
    /* nothing changed */
    cr_assert_eq(list_count(fx.e, "alice", NULL), 1);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "android", IOS_TOKEN, NULL),
                 OMNI_ENOTFOUND);
    fx_close(&fx);
}

Test(devices, get_errors)
{
    fixture fx;
    fx_open(&fx, 0);
    char *out = (char *)1;
    size_t n = 9;
    cr_assert_eq(omni_device_get(NULL, NULL, fx.e, "ios", IOS_TOKEN), OMNI_EINVAL);
    cr_assert_eq(omni_device_get(&out, &n, NULL, "ios", IOS_TOKEN), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "IOS", IOS_TOKEN), OMNI_EINVAL);
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "ios", ""), OMNI_EINVAL);
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "web", "http://example.com/x"), OMNI_EINVAL);
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "android", "a b"), OMNI_EINVAL);
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "android", FCM_TOKEN), OMNI_ENOTFOUND);
    fx_close(&fx);
}

/* ---- listing -------------------------------------------------------------- */

Test(devices, list_by_user_paged)
{
    fixture fx;
    fx_open(&fx, 0);
    char tok[80];
    for (int i = 0; i < 5; i++) {
        snprintf(tok, sizeof(tok), "%s%02d", FCM_TOKEN, i);
        char dev[256];
        snprintf(dev, sizeof(dev),
                 "{\"userId\":\"dave\",\"deviceToken\":\"%s\",\"platform\":\"android\"}", tok);
        cJSON_Delete(reg(fx.e, dev));
    }
    reg_free(fx.e, ios("dave", IOS_TOKEN));
    reg_free(fx.e, ios("erin", "aabbccdd"));
    reg_free(fx.e, ios("dave2", "aabbccddee"));

    /* pages of 2: 2, 2, 2 (next null at the end) */
    int total = 0, pages = 0;
    char query[256] = "{\"limit\":2}";
    for (;;) {
        cJSON *p = list(fx.e, "dave", NULL, query);
        int n = cJSON_GetArraySize(jat(p, "items"));
        cr_assert_leq(n, 2);
        for (int i = 0; i < n; i++)
            cr_assert_str_eq(jstr(p, "items.0.userId"), "dave");
        total += n;
        pages++;
        const cJSON *next = jat(p, "next");
        if (cJSON_IsNull(next)) {
            cJSON_Delete(p);
            break;
        }
        cr_assert(cJSON_IsString(next));
        snprintf(query, sizeof(query), "{\"limit\":2,\"cursor\":\"%s\"}", next->valuestring);
        cJSON_Delete(p);
        cr_assert_lt(pages, 10);
    }
    cr_assert_eq(total, 6);
    cr_assert_eq(pages, 3);
    /* only one platform of the user */
    cJSON *p = list(fx.e, "dave", NULL, "{\"platform\":\"ios\"}");
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 1);
    cr_assert_str_eq(jstr(p, "items.0.deviceToken"), IOS_TOKEN);
    cJSON_Delete(p);
    p = list(fx.e, "dave", NULL, "{\"platform\":\"web\",\"cursor\":null}");
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 0);
    cJSON_Delete(p);
    /* default query */
    p = list(fx.e, "dave", NULL, NULL);
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 6);
    cJSON_Delete(p);
    cr_assert_eq(list_count(fx.e, "nobody", NULL), 0);
    fx_close(&fx);
}

Test(devices, list_by_platform_paged)
{
    fixture fx;
    fx_open(&fx, 0);
    for (int i = 0; i < 7; i++) {
        char tok[32], user[16];
        snprintf(tok, sizeof(tok), "%02xaabbcc", i);
        snprintf(user, sizeof(user), "u%d", i % 3);
        reg_free(fx.e, ios(user, tok));
    }
    reg_free(fx.e, web("u0", "https://push.example.net/sub/1"));
    cJSON *p = list(fx.e, NULL, "ios", "{\"limit\":3}");
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 3);
    cr_assert_str_eq(jstr(p, "items.0.deviceToken"), "00aabbcc");
    char query[256];
    snprintf(query, sizeof(query), "{\"limit\":3,\"cursor\":\"%s\"}", jstr(p, "next"));
    cJSON_Delete(p);
    p = list(fx.e, NULL, "ios", query);
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 3);
    cr_assert_str_eq(jstr(p, "items.0.deviceToken"), "03aabbcc");
    snprintf(query, sizeof(query), "{\"limit\":3,\"cursor\":\"%s\"}", jstr(p, "next"));
    cJSON_Delete(p);
    p = list(fx.e, NULL, "ios", query);
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 1);
    cr_assert(cJSON_IsNull(jat(p, "next")));
    cJSON_Delete(p);
    cr_assert_eq(list_count(fx.e, NULL, "web"), 1);
    cr_assert_eq(list_count(fx.e, NULL, "android"), 0);
    fx_close(&fx);
}

Test(devices, list_errors)
{
    fixture fx;
    fx_open(&fx, 0);
    char *out = (char *)1;
#define LIST_FAILS(rc_, user, platform, q)                                                     \
    do {                                                                                       \
        const char *q_ = (q);                                                                  \
        cr_assert_eq(omni_device_list(&out, NULL, fx.e, user, platform, q_,                    \
                                      q_ ? strlen(q_) : 0),                                    \
                     rc_, "query %s", q_ ? q_ : "(null)");                                     \
        cr_assert_null(out);                                                                   \
    } while (0)
    cr_assert_eq(omni_device_list(NULL, NULL, fx.e, "u", NULL, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_device_list(&out, NULL, NULL, "u", NULL, NULL, 0), OMNI_EINVAL);
    LIST_FAILS(OMNI_EINVAL, NULL, NULL, NULL);
    LIST_FAILS(OMNI_EINVAL, "u", "ios", NULL);
    LIST_FAILS(OMNI_EINVAL, "bad user", NULL, NULL);
    LIST_FAILS(OMNI_EINVAL, "", NULL, NULL);
    LIST_FAILS(OMNI_EINVAL, NULL, "windows", NULL);
    LIST_FAILS(OMNI_EJSON, "u", NULL, "{");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "[]");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"limit\":0}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"limit\":1001}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"limit\":2.5}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"limit\":\"5\"}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"cursor\":5}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"cursor\":\"\"}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"cursor\":\"v/ios/aa\"}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"cursor\":\"u/\"}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"platform\":\"mac\"}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"platform\":1}");
    LIST_FAILS(OMNI_EINVAL, NULL, "ios", "{\"platform\":\"ios\"}");
    LIST_FAILS(OMNI_EINVAL, NULL, "ios", "{\"cursor\":\"android/x\"}");
    LIST_FAILS(OMNI_EINVAL, "u", NULL, "{\"other\":1}");
    char big[5000];
    memset(big, ' ', sizeof(big));
    memcpy(big, "{}", 2);
    big[sizeof(big) - 1] = '\0';
    LIST_FAILS(OMNI_ETOOLARGE, "u", NULL, big);
#undef LIST_FAILS
    fx_close(&fx);
}

/* ---- long web tokens ------------------------------------------------------ */

Test(devices, long_web_token_is_hashed)
{
    fixture fx;
    fx_open(&fx, 0);
    char endpoint[700] = "https://updates.push.services.mozilla.com/wpush/v2/";
    size_t l = strlen(endpoint);
    for (size_t i = l; i < 650; i++)
        endpoint[i] = (char)('a' + i % 26);
    endpoint[650] = '\0';
    char *dev = web("frank", endpoint);
    reg_free(fx.e, dev);
    char *out = NULL;
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "web", endpoint), OMNI_OK);
    cJSON *g = parse(out);
    omni_free(out);
    cr_assert_str_eq(jstr(g, "deviceToken"), endpoint);
    cr_assert_str_eq(jstr(g, "subscription.endpoint"), endpoint);
    cJSON_Delete(g);
    /* the key is "web/h:" + 64 hex digits */
    cJSON *p = list(fx.e, "frank", NULL, NULL);
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 1);
    cJSON_Delete(p);
    omni_store_list_json(omni_engine_store(fx.e), "device", "web/", NULL, 10, NOW_MS, &out,
                         NULL);
    cJSON *raw = parse(out);
    omni_free(out);
    const char *key = jstr(raw, "items.0.key");
    cr_assert_eq(strlen(key), 4 + 2 + 64);
    cr_assert_eq(strncmp(key, "web/h:", 6), 0);
    cr_assert_eq(strspn(key + 6, "0123456789abcdef"), 64);
    cJSON_Delete(raw);
    /* a short token that looks like a hashed id is hashed too (never a
     * collision with a long token's id) */
    const char *htok = "h:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char dev2[300];
    snprintf(dev2, sizeof(dev2),
             "{\"userId\":\"frank\",\"deviceToken\":\"%s\",\"platform\":\"android\"}", htok);
    cJSON_Delete(reg(fx.e, dev2));
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "android", htok), OMNI_OK);
    omni_free(out);
    cr_assert_eq(raw_count(fx.e, "device", "android/h:"), 1);
    cr_assert_eq(raw_count(fx.e, "device", "android/h:0123"), 0);
    /* the maximum, 4096 bytes, and one more */
    char *big = malloc(4200);
    strcpy(big, "https://push.example.org/");
    for (size_t i = strlen(big); i < 4096; i++)
        big[i] = 'x';
    big[4096] = '\0';
    dev = web("frank", big);
    reg_free(fx.e, dev);
    strcat(big, "y");
    dev = web("frank", big);
    cr_assert_eq(omni_device_register(&out, NULL, fx.e, dev, strlen(dev)), OMNI_EINVAL);
    free(dev);
    free(big);
    cr_assert_eq(list_count(fx.e, "frank", NULL), 3);
    fx_close(&fx);
}

/* ---- validation ----------------------------------------------------------- */

#define SUB(ep, p256, auth)                                                                    \
    "\"subscription\":{\"endpoint\":\"" ep "\",\"keys\":{\"p256dh\":\"" p256 "\",\"auth\":\"" \
    auth "\"}}"
#define EP "https://push.example.com/s/1"

Test(devices, validation_errors)
{
    fixture fx;
    fx_open(&fx, 0);
    static const struct {
        int rc;
        const char *json, *mention;
    } cases[] = {
        {OMNI_EJSON, "{", NULL},
        {OMNI_EJSON, "", NULL},
        {OMNI_EINVAL, "[]", "object"},
        {OMNI_EINVAL, "{\"deviceToken\":\"aa\",\"platform\":\"ios\"}", "userId"},
        {OMNI_EINVAL, "{\"userId\":5,\"deviceToken\":\"aa\",\"platform\":\"ios\"}", "userId"},
        {OMNI_EINVAL, "{\"userId\":\"\",\"deviceToken\":\"aa\",\"platform\":\"ios\"}", "userId"},
        {OMNI_EINVAL, "{\"userId\":\"a/b\",\"deviceToken\":\"aa\",\"platform\":\"ios\"}",
         "userId"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"platform\":\"ios\"}", "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"\",\"platform\":\"ios\"}",
         "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":[],\"platform\":\"ios\"}",
         "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"abc\",\"platform\":\"ios\"}",
         "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"zz\",\"platform\":\"ios\"}",
         "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"a b\",\"platform\":\"android\"}",
         "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"\\u00e9\",\"platform\":\"android\"}",
         "deviceToken"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\"}", "platform"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"Ios\"}",
         "platform"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":null}", "platform"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\",\"x\":1}",
         "\"x\""},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"userId\":\"v\"}",
         "twice"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"a\\u0000b\",\"platform\":"
                      "\"android\"}",
         "NUL"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\",\"endpoint\":\"" EP "\","
                      "\"keys\":{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" UA_AUTH "\"}}}",
         "duplicate"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\"," SUB(
                          EP, UA_PUBLIC, UA_AUTH) "}",
         "subscription"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"}",
         "subscription"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":[]}",
         "subscription"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"http://push.example.com/s/1\","
                      "\"platform\":\"web\"," SUB("http://push.example.com/s/1", UA_PUBLIC,
                                                    UA_AUTH) "}",
         "https"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"https://\",\"platform\":\"web\"," SUB(
                          "https://", UA_PUBLIC, UA_AUTH) "}",
         "https"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"https://user@host/x\",\"platform\":"
                      "\"web\"," SUB("https://user@host/x", UA_PUBLIC, UA_AUTH) "}",
         "https"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"," SUB(
                          "https://push.example.com/s/2", UA_PUBLIC, UA_AUTH) "}",
         "endpoint"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\"}}",
         "keys"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\",\"keys\":{\"auth\":\"" UA_AUTH
                      "\"}}}",
         "p256dh"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\""
                      UA_PUBLIC "\"}}}",
         "auth"},
        /* 64 bytes, not 65 */
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"," SUB(
                          EP,
                          "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8"
                          "pZGH6SRpkNtoIAiw",
                          UA_AUTH) "}",
         "p256dh"},
        /* 0x05 first */
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"," SUB(
                          EP,
                          "BSVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8"
                          "pZGH6SRpkNtoIAiw4",
                          UA_AUTH) "}",
         "p256dh"},
        /* not on the curve (last byte changed) */
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"," SUB(
                          EP,
                          "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8"
                          "pZGH6SRpkNtoIAiw8",
                          UA_AUTH) "}",
         "p256dh"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"," SUB(
                          EP, UA_PUBLIC, "BTBZMqHH6r4Tts7J_aSI") "}",
         "auth"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\"," SUB(
                          EP, UA_PUBLIC, "BTBZMqHH6r4Tts7J+aSIgg") "}",
         "auth"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\",\"expirationTime\":\"soon\","
                      "\"keys\":{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" UA_AUTH "\"}}}",
         "expirationTime"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\",\"extra\":1,"
                      "\"keys\":{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" UA_AUTH "\"}}}",
         "extra"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"" EP "\",\"platform\":\"web\","
                      "\"subscription\":{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\""
                      UA_PUBLIC "\",\"auth\":\"" UA_AUTH "\",\"k\":\"\"}}}",
         "\"k\""},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"appId\":\"\"}",
         "appId"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"appId\":\"a\\nb\"}",
         "appId"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"locale\":\"en US\"}",
         "locale"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"locale\":7}",
         "locale"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"timezone\":\"../etc/passwd\"}",
         "timezone"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"metadata\":[1]}",
         "metadata"},
        {OMNI_EINVAL, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                      "\"metadata\":{\"a\":[{\"n\":1,\"n\":2}]}}",
         "repeats a member name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = (char *)1;
        size_t n = 7;
        int rc = omni_device_register(&out, &n, fx.e, cases[i].json, strlen(cases[i].json));
        cr_assert_eq(rc, cases[i].rc, "case %zu (%s): %d %s", i, cases[i].json, rc,
                     omni_error_last_message());
        cr_assert_null(out);
        cr_assert_eq(n, 0);
        if (cases[i].mention)
            cr_assert(strstr(omni_error_last_message(), cases[i].mention), "case %zu: %s", i,
                      omni_error_last_message());
    }
    /* nothing was written */
    cr_assert_eq(raw_count(fx.e, "device", ""), 0);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 0);

    /* user id of 128 characters passes, 129 fails; null optional members */
    char dev[600], user[140];
    memset(user, 'u', 129);
    user[129] = '\0';
    snprintf(dev, sizeof(dev), "{\"userId\":\"%s\",\"deviceToken\":\"aa\",\"platform\":\"ios\"}",
             user);
    char *out = NULL;
    cr_assert_eq(omni_device_register(&out, NULL, fx.e, dev, strlen(dev)), OMNI_EINVAL);
    user[128] = '\0';
    snprintf(dev, sizeof(dev),
             "{\"userId\":\"%s\",\"deviceToken\":\"aa\",\"platform\":\"ios\",\"appId\":null,"
             "\"locale\":null,\"timezone\":null,\"metadata\":null,\"subscription\":null}",
             user);
    cJSON_Delete(reg(fx.e, dev));
    cJSON_Delete(reg(fx.e, "{\"userId\":\"a.b_c:d@e+f-g\",\"deviceToken\":\"" FCM_TOKEN "\","
                           "\"platform\":\"android\"}"));

    /* NULL arguments and the 64 KiB limit */
    cr_assert_eq(omni_device_register(NULL, NULL, fx.e, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_device_register(&out, NULL, NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_device_register(&out, NULL, fx.e, NULL, 2), OMNI_EINVAL);
    size_t big_len = 70 * 1024;
    char *big = malloc(big_len + 1);
    int k = snprintf(big, big_len, "{\"userId\":\"u\",\"deviceToken\":\"aa\",\"platform\":\"ios\","
                                   "\"metadata\":{\"pad\":\"");
    memset(big + k, 'p', big_len - (size_t)k - 3);
    memcpy(big + big_len - 3, "\"}}", 3);
    big[big_len] = '\0';
    cr_assert_eq(omni_device_register(&out, NULL, fx.e, big, big_len), OMNI_ETOOLARGE);
    free(big);
    fx_close(&fx);
}

/* ---- concurrency ---------------------------------------------------------- */

typedef struct racer {
    omni_engine *e;
    const char *user;
    int conflicts;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    char dev[256];
    snprintf(dev, sizeof(dev), "{\"userId\":\"%s\",\"deviceToken\":\"" FCM_TOKEN "\","
                               "\"platform\":\"android\"}",
             r->user);
    for (int i = 0; i < 200; i++) {
        char *out = NULL;
        int rc = omni_device_register(&out, NULL, r->e, dev, strlen(dev));
        omni_free(out);
        if (rc == OMNI_ECONFLICT)
            r->conflicts++;
        else if (rc != OMNI_OK)
            return (void *)1;
    }
    return NULL;
}

static void race_on(omni_engine *e)
{
    racer a = {e, "alice", 0}, b = {e, "bob", 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    void *ra, *rb;
    pthread_join(ta, &ra);
    pthread_join(tb, &rb);
    cr_assert_null(ra);
    cr_assert_null(rb);
    /* one record, one index entry, and they agree */
    cr_assert_eq(raw_count(e, "device", "android/"), 1);
    cr_assert_eq(raw_count(e, "device_user", "alice/android/") +
                     raw_count(e, "device_user", "bob/android/"),
                 1);
    char *out = NULL;
    cr_assert_eq(omni_device_get(&out, NULL, e, "android", FCM_TOKEN), OMNI_OK);
    cJSON *g = parse(out);
    omni_free(out);
    const char *owner = jstr(g, "userId");
    const char *q = "{\"platform\":\"android\"}";
    cJSON *p = list(e, owner, NULL, q);
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 1);
    cJSON_Delete(p);
    p = list(e, strcmp(owner, "alice") == 0 ? "bob" : "alice", NULL, q);
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 0);
    cJSON_Delete(p);
    cJSON_Delete(g);
}

Test(devices, concurrent_registration_of_one_token, .timeout = 60)
{
    fixture fx;
    fx_open(&fx, 0);
    race_on(fx.e);
    fx_close(&fx);
}

/* ---- crash consistency ---------------------------------------------------- */

/* Every write of a move (alice -> bob) and of a removal fails once, in
 * turn: the call reports the failure or succeeds, the registry never shows
 * the device twice or to the wrong user, and repeating the call (or a
 * listing) repairs what the failure left. */
Test(devices, failing_write_midway_then_retry)
{
    const char *dev_b = "{\"userId\":\"bob\",\"deviceToken\":\"" FCM_TOKEN "\","
                        "\"platform\":\"android\"}";
    for (int fail_at = 1; fail_at <= 8; fail_at++) {
        fixture fx;
        fx_open(&fx, 1);
        reg_free(fx.e, strdup("{\"userId\":\"alice\",\"deviceToken\":\"" FCM_TOKEN "\","
                              "\"platform\":\"android\"}"));
        fx.f.writes = 0;
        fx.f.fail_at = fail_at;
        char *out = NULL;
        int rc = omni_device_register(&out, NULL, fx.e, dev_b, strlen(dev_b));
        cr_assert(rc == OMNI_OK || rc == OMNI_ESTORAGE, "fail_at %d: %d", fail_at, rc);
        omni_free(out);
        out = NULL;
        fx.f.fail_at = 0;
        /* whatever happened: the device shows for exactly its owner */
        cr_assert_eq(omni_device_get(&out, NULL, fx.e, "android", FCM_TOKEN), OMNI_OK);
        cJSON *g = parse(out);
        omni_free(out);
        int bob = strcmp(jstr(g, "userId"), "bob") == 0;
        cr_assert(rc != OMNI_OK || bob, "fail_at %d", fail_at);
        cJSON_Delete(g);
        cr_assert_eq(list_count(fx.e, "alice", NULL), bob ? 0 : 1, "fail_at %d", fail_at);
        cr_assert_eq(list_count(fx.e, "bob", NULL), bob ? 1 : 0, "fail_at %d", fail_at);
        /* the listings cleaned the stale entries */
        cr_assert_eq(raw_count(fx.e, "device_user", ""), 1, "fail_at %d", fail_at);
        /* the retry */
        cJSON_Delete(reg(fx.e, dev_b));
        cr_assert_eq(raw_count(fx.e, "device", ""), 1);
        cr_assert_eq(raw_count(fx.e, "device_user", ""), 1);
        cr_assert_eq(raw_count(fx.e, "device_user", "bob/"), 1);

        /* a removal failing at each write */
        fx.f.writes = 0;
        fx.f.fail_at = fail_at;
        rc = omni_device_remove(&out, NULL, fx.e, "android", FCM_TOKEN, "UNREGISTERED");
        cr_assert(rc == OMNI_OK || rc == OMNI_ESTORAGE, "fail_at %d: %d", fail_at, rc);
        omni_free(out);
        out = NULL;
        fx.f.fail_at = 0;
        int removed = omni_device_get(&out, NULL, fx.e, "android", FCM_TOKEN) == OMNI_ENOTFOUND;
        omni_free(out);
        out = NULL;
        cr_assert(rc != OMNI_OK || removed);
        cr_assert_eq(list_count(fx.e, "bob", NULL), removed ? 0 : 1);
        if (!removed) {
            cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "android", FCM_TOKEN, NULL),
                         OMNI_OK);
            omni_free(out);
        }
        cr_assert_eq(raw_count(fx.e, "device", ""), 0);
        cr_assert_eq(raw_count(fx.e, "device_user", ""), 0, "fail_at %d", fail_at);
        fx_close(&fx);
    }
}

Test(devices, listing_cleans_stale_entries)
{
    fixture fx;
    fx_open(&fx, 0);
    reg_free(fx.e, ios("alice", IOS_TOKEN));
    reg_free(fx.e, ios("alice", "aabb"));
    /* a crash left: a record gone, an entry of another user */
    omni_store *s = omni_engine_store(fx.e);
    cr_assert_eq(omni_store_delete(s, "device", "ios/aabb", OMNI_STORE_ANY_VERSION, NOW_MS),
                 OMNI_OK);
    cr_assert_eq(omni_store_put(s, "device_user", "mallory/ios/" IOS_TOKEN, "{}", 2,
                                OMNI_STORE_CREATE, 0, NOW_MS, NULL),
                 OMNI_OK);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 3);
    cJSON *p = list(fx.e, "alice", NULL, "{\"limit\":1}");
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 1);
    cr_assert_str_eq(jstr(p, "items.0.deviceToken"), IOS_TOKEN);
    char query[300];
    snprintf(query, sizeof(query), "{\"limit\":1,\"cursor\":\"%s\"}", jstr(p, "next"));
    cJSON_Delete(p);
    p = list(fx.e, "alice", NULL, query); /* only the stale entry was left */
    cr_assert_eq(cJSON_GetArraySize(jat(p, "items")), 0);
    cr_assert(cJSON_IsNull(jat(p, "next")));
    cJSON_Delete(p);
    cr_assert_eq(list_count(fx.e, "mallory", NULL), 0);
    cr_assert_eq(raw_count(fx.e, "device_user", ""), 1);
    /* a device record that is not a device is a storage error */
    cr_assert_eq(omni_store_put(s, "device", "ios/ccdd", "[1]", 3, OMNI_STORE_CREATE, 0,
                                NOW_MS, NULL),
                 OMNI_OK);
    char *out = NULL;
    cr_assert_eq(omni_device_get(&out, NULL, fx.e, "ios", "ccdd"), OMNI_ESTORAGE);
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "ios", "ccdd", NULL), OMNI_ESTORAGE);
    const char *dev = "{\"userId\":\"u\",\"deviceToken\":\"ccdd\",\"platform\":\"ios\"}";
    cr_assert_eq(omni_device_register(&out, NULL, fx.e, dev, strlen(dev)), OMNI_ESTORAGE);
    fx_close(&fx);
}

Test(devices, host_hook_store)
{
    /* a host's hook (values not trusted): the same flows */
    fixture fx;
    fx_open(&fx, 1);
    reg_free(fx.e, web("gina", EP));
    reg_free(fx.e, ios("gina", IOS_TOKEN));
    cr_assert_eq(list_count(fx.e, "gina", NULL), 2);
    cr_assert_eq(list_count(fx.e, NULL, "web"), 1);
    char *out = NULL;
    cr_assert_eq(omni_device_remove(&out, NULL, fx.e, "web", EP, "NotRegistered"), OMNI_OK);
    omni_free(out);
    cr_assert_eq(list_count(fx.e, "gina", NULL), 1);
    /* a storage failure while reading */
    fx.f.writes = 0;
    fx.f.fail_at = 1;
    const char *dev = "{\"userId\":\"h\",\"deviceToken\":\"aa\",\"platform\":\"ios\"}";
    cr_assert_eq(omni_device_register(&out, NULL, fx.e, dev, strlen(dev)), OMNI_ESTORAGE);
    cr_assert(omni_error_last()->retryable);
    cr_assert_null(out);
    fx_close(&fx);
}

/* ---- SQLite ---------------------------------------------------------------- */

Test(devices, sqlite_store, .timeout = 60)
{
    char path[] = "/tmp/omni-devices-XXXXXX";
    cr_assert_not_null(mkdtemp(path));
    char cfg[256];
    snprintf(cfg, sizeof(cfg), "{\"storage\":\"sqlite:%s/db\",\"clock\":{\"fixed\":\"" NOW
                               "\"}}",
             path);
    omni_engine *e = NULL;
    int rc = omni_engine_new(&e, cfg, strlen(cfg), NULL);
    if (rc == OMNI_EUNSUPPORTED) {
        rmdir(path);
        cr_skip_test("SQLite is not built in");
    }
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    reg_free(e, ios("alice", IOS_TOKEN));
    reg_free(e, web("alice", EP));
    cJSON *r = reg(e, "{\"userId\":\"bob\",\"deviceToken\":\"" IOS_TOKEN "\","
                      "\"platform\":\"ios\"}");
    cr_assert_str_eq(jstr(r, "events.0.detailType"), "device.moved");
    cJSON_Delete(r);
    cr_assert_eq(list_count(e, "alice", NULL), 1);
    cr_assert_eq(list_count(e, "bob", NULL), 1);
    cr_assert_eq(list_count(e, NULL, "ios"), 1);
    race_on(e);
    char *out = NULL;
    cr_assert_eq(omni_device_remove(&out, NULL, e, "web", EP, NULL), OMNI_OK);
    omni_free(out);
    cr_assert_eq(omni_device_get(&out, NULL, e, "android", FCM_TOKEN), OMNI_OK);
    int alice_owns = strstr(out, "\"alice\"") != NULL;
    omni_free(out);
    cr_assert_eq(list_count(e, "alice", NULL), alice_owns);
    cr_assert_eq(list_count(e, "bob", NULL), 1 + !alice_owns);
    omni_engine_free(e);
    char f[300];
    static const char *const sfx[] = {"/db", "/db-wal", "/db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(f, sizeof(f), "%s%s", path, sfx[i]);
        unlink(f);
    }
    rmdir(path);
}
