/* Test helpers for the carrier webhook tests (test_webhook.c and
 * test_carrier_*.c): loading the request fixtures of
 * tests/data/webhooks/<carrier>/ (the CLI's REQUEST files), building an
 * inbound configuration and an engine with a fixed clock, running a request
 * through omni_inbound_handle and reading the result. Header-only (static
 * functions); failures abort the calling criterion test. */
#ifndef OMNI_TEST_CARRIER_FIXTURE_H
#define OMNI_TEST_CARRIER_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

static inline char *fx_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    cr_assert(n >= 0);
    char *buf = malloc((size_t)n + 1);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Reads tests/data/webhooks/<carrier>/<name>.json (under OMNI_SOURCE_DIR);
 * `path` receives the file's path. */
static inline char *fx_read_fixture(const char *carrier, const char *name, char path[1024],
                                    size_t *len)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    snprintf(path, 1024, "%s/tests/data/webhooks/%s/%s.json", src ? src : ".", carrier, name);
    return fx_read(path, len);
}

/* The fixture tests/data/webhooks/<carrier>/<name>.json as a request. */
static inline omni_webhook *fx_load(const char *carrier, const char *name)
{
    char path[1024];
    size_t len = 0;
    char *json = fx_read_fixture(carrier, name, path, &len);
    omni_webhook *req = NULL;
    int rc = omni_webhook_from_json(&req, json, len);
    cr_assert_eq(rc, OMNI_OK, "%s: %s", path, omni_error_last_message());
    free(json);
    return req;
}

/* The raw body of a fixture (a copy, released with free()). */
static inline char *fx_body(const omni_webhook *req, size_t *len)
{
    size_t n = 0;
    const char *b = omni_webhook_body(req, &n);
    char *copy = malloc(n + 1);
    cr_assert(copy);
    memcpy(copy, b ? b : "", n);
    copy[n] = '\0';
    if (len)
        *len = n;
    return copy;
}

/* A request built by hand: headers as "Name: value" strings, NULL-ended. */
static inline omni_webhook *fx_request(const char *method, const char *url,
                                       const char *const *headers, const char *body)
{
    omni_webhook *req = NULL;
    cr_assert_eq(omni_webhook_new(&req, method, url), OMNI_OK, "%s",
                 omni_error_last_message());
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *colon = strchr(headers[i], ':');
        cr_assert(colon);
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(colon - headers[i]), headers[i]);
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        cr_assert_eq(omni_webhook_add_header(req, name, value), OMNI_OK, "%s",
                     omni_error_last_message());
    }
    if (body)
        cr_assert_eq(omni_webhook_set_body(req, body, strlen(body)), OMNI_OK);
    return req;
}

/* An inbound object from a JSON configuration (NULL: the defaults). */
static inline omni_inbound *fx_inbound(const char *config)
{
    omni_inbound *in = NULL;
    int rc = omni_inbound_new(&in, config, config ? strlen(config) : 0, NULL);
    cr_assert_eq(rc, OMNI_OK, "config %s: %s", config, omni_error_last_message());
    return in;
}

/* An engine whose clock is frozen at an RFC 3339 time. */
static inline omni_engine *fx_engine(const char *now)
{
    char config[128];
    snprintf(config, sizeof(config), "{\"clock\":{\"fixed\":\"%s\"}}", now);
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, config, strlen(config), NULL), OMNI_OK, "%s",
                 omni_error_last_message());
    return e;
}

/* Defines the file's `in` and `engine` (made from `config` and the frozen
 * time `now` before each test of `suite`, freed after it) and the suite. */
#define FX_CARRIER_SUITE(suite, config, now)                                                 \
    static omni_inbound *in;                                                                 \
    static omni_engine *engine;                                                              \
    static void fx_setup_(void)                                                              \
    {                                                                                        \
        in = fx_inbound(config);                                                             \
        engine = fx_engine(now);                                                             \
    }                                                                                        \
    static void fx_teardown_(void)                                                           \
    {                                                                                        \
        omni_inbound_free(in);                                                               \
        omni_engine_free(engine);                                                            \
    }                                                                                        \
    TestSuite(suite, .init = fx_setup_, .fini = fx_teardown_)

/* Handles a request; returns the parsed result, or NULL with *rc set (and
 * then checks that no output was produced). */
static inline cJSON *fx_handle(const omni_inbound *in, const omni_engine *e,
                               const char *carrier, const omni_webhook *req, int *rc_out)
{
    char *out = (char *)1;
    size_t len = 7;
    int rc = omni_inbound_handle(&out, &len, in, e, carrier, req);
    if (rc_out)
        *rc_out = rc;
    if (rc != OMNI_OK) {
        cr_assert_null(out, "no result on error");
        cr_assert_eq(len, 0);
        return NULL;
    }
    cr_assert_not_null(out);
    cr_assert_eq(strlen(out), len);
    cJSON *root = cJSON_ParseWithLength(out, len);
    cr_assert_not_null(root, "result is valid JSON: %s", out);
    omni_free(out);
    return root;
}

/* Handles a request that must succeed; returns the result. */
static inline cJSON *fx_ok(const omni_inbound *in, const omni_engine *e, const char *carrier,
                           const omni_webhook *req)
{
    int rc = 0;
    cJSON *root = fx_handle(in, e, carrier, req, &rc);
    cr_assert_eq(rc, OMNI_OK, "%s: %s", omni_error_last_code(), omni_error_last_message());
    return root;
}

/* Handles a request that must fail with `want` (and no result). */
static inline void fx_fails(const omni_inbound *in, const omni_engine *e, const char *carrier,
                            const omni_webhook *req, int want)
{
    int rc = 0;
    cJSON *root = fx_handle(in, e, carrier, req, &rc);
    cr_assert_null(root);
    cr_assert_eq(rc, want, "expected %s, got %s: %s", omni_status_code(want),
                 omni_status_code(rc), omni_error_last_message());
    cr_assert_eq(omni_error_last_status(), want);
}

/* Checks that every fixture of `names` (NULL-ended) passes verification. */
static inline void fx_assert_fixtures_verify(const omni_inbound *in, const omni_engine *e,
                                             const char *carrier, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        omni_webhook *req = fx_load(carrier, names[i]);
        cr_assert_eq(omni_inbound_verify(in, e, carrier, req), OMNI_OK, "%s: %s", names[i],
                     omni_error_last_message());
        omni_webhook_free(req);
    }
}

static inline const cJSON *fx_events(const cJSON *result)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(result, "events");
    cr_assert(cJSON_IsArray(ev), "result has an events array");
    return ev;
}

static inline int fx_count(const cJSON *result)
{
    return cJSON_GetArraySize(fx_events(result));
}

static inline const cJSON *fx_event(const cJSON *result, int i)
{
    const cJSON *ev = cJSON_GetArrayItem(fx_events(result), i);
    cr_assert_not_null(ev, "event %d exists", i);
    return ev;
}

/* The item at a dotted path ("message.id", "media.0.url"), or NULL. */
static inline const cJSON *fx_at(const cJSON *obj, const char *path)
{
    char seg[128];
    const cJSON *cur = obj;
    while (cur && *path) {
        size_t n = strcspn(path, ".");
        snprintf(seg, sizeof(seg), "%.*s", (int)n, path);
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(seg));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
        path += n;
        if (*path == '.')
            path++;
    }
    return cur;
}

/* The string at a path, or NULL when absent or not a string. */
static inline const char *fx_str(const cJSON *obj, const char *path)
{
    const cJSON *it = fx_at(obj, path);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

#define fx_assert_str(obj, path, want)                                                      \
    do {                                                                                     \
        const char *got_ = fx_str((obj), (path));                                           \
        cr_assert(got_ && strcmp(got_, (want)) == 0, "%s: expected \"%s\", got \"%s\"",     \
                  (path), (want), got_ ? got_ : "(absent)");                                \
    } while (0)

#define fx_assert_absent(obj, path)                                                         \
    cr_assert_null(fx_at((obj), (path)), "%s is absent", (path))

/* The correlationId libomni derives for a carrier message id. */
static inline void fx_correlation(char out[OMNI_UUID_STRLEN], const char *carrier,
                                  const char *id)
{
    char name[512];
    int n = snprintf(name, sizeof(name), "%s:%s", carrier, id);
    cr_assert_eq(omni_uuid5(out, OMNI_CARRIER_MESSAGE_NAMESPACE, name, (size_t)n), OMNI_OK);
}

/* ---- the cu_ names used by test_webhook.c, test_carrier_twilio.c and
 * test_carrier_whatsapp.c ------------------------------------------------ */

static inline char *cu_read_fixture(const char *carrier, const char *name, size_t *len)
{
    char path[1024];
    return fx_read_fixture(carrier, name, path, len);
}

static inline omni_webhook *cu_fixture(const char *carrier, const char *name)
{
    return fx_load(carrier, name);
}

/* The fixture's request JSON as a tree (to read its body, url, headers). */
static inline cJSON *cu_fixture_json(const char *carrier, const char *name)
{
    size_t len;
    char *text = cu_read_fixture(carrier, name, &len);
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    cr_assert_not_null(root);
    return root;
}

static inline omni_inbound *cu_inbound(const char *config)
{
    return fx_inbound(config);
}

static inline omni_engine *cu_engine_at(const char *rfc3339)
{
    return fx_engine(rfc3339);
}

/* Handles a request that must succeed; returns the parsed result. */
static inline cJSON *cu_handle(omni_inbound *in, omni_engine *e, const char *carrier,
                               const omni_webhook *w)
{
    return fx_ok(in, e, carrier, w);
}

/* Handles a request that must fail with `status`; checks that nothing is
 * handed out and that the error has a message. */
static inline void cu_handle_fails(omni_inbound *in, omni_engine *e, const char *carrier,
                                   const omni_webhook *w, int status)
{
    fx_fails(in, e, carrier, w, status);
    cr_assert_gt(strlen(omni_error_last_message()), 0);
}

static inline const char *cu_str(const cJSON *root, const char *a, const char *b,
                                 const char *c)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b)
        it = cJSON_GetObjectItemCaseSensitive(it, b);
    if (c)
        it = cJSON_GetObjectItemCaseSensitive(it, c);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static inline const cJSON *cu_events(const cJSON *result)
{
    return fx_events(result);
}

static inline const cJSON *cu_event(const cJSON *result, int i)
{
    return fx_event(result, i);
}

#define cu_assert_str(actual, expected)                                                        \
    do {                                                                                       \
        const char *a_ = (actual);                                                             \
        cr_assert_not_null(a_, "%s is missing (expected \"%s\")", #actual, (expected));        \
        cr_assert_str_eq(a_, (expected));                                                      \
    } while (0)

/* correlationId as documented: UUIDv5(namespace, carrier ":" id). */
static inline void cu_assert_correlation(const cJSON *event, const char *carrier, const char *id)
{
    char want[OMNI_UUID_STRLEN];
    fx_correlation(want, carrier, id);
    cu_assert_str(cu_str(event, "correlationId", NULL, NULL), want);
}

#endif
