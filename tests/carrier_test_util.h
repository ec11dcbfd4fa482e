/* Helpers shared by the carrier webhook tests (test_webhook.c,
 * test_carrier_twilio.c, test_carrier_whatsapp.c): fixtures, inbound
 * objects and results. Header only (static functions). */
#ifndef OMNI_TEST_CARRIER_UTIL_H
#define OMNI_TEST_CARRIER_UTIL_H

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

/* Reads tests/data/webhooks/<carrier>/<name>.json (OMNI_SOURCE_DIR). */
static inline char *cu_read_fixture(const char *carrier, const char *name, size_t *len)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/webhooks/%s/%s.json", src ? src : ".", carrier,
             name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

static inline omni_webhook *cu_fixture(const char *carrier, const char *name)
{
    size_t len;
    char *text = cu_read_fixture(carrier, name, &len);
    omni_webhook *w = NULL;
    int rc = omni_webhook_from_json(&w, text, len);
    free(text);
    cr_assert_eq(rc, OMNI_OK, "%s/%s: %s", carrier, name, omni_error_last_message());
    return w;
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
    omni_inbound *in = NULL;
    int rc = omni_inbound_new(&in, config, config ? strlen(config) : 0, NULL);
    cr_assert_eq(rc, OMNI_OK, "inbound config: %s", omni_error_last_message());
    return in;
}

static inline omni_engine *cu_engine_at(const char *rfc3339)
{
    char config[128];
    snprintf(config, sizeof(config), "{\"clock\":{\"fixed\":\"%s\"}}", rfc3339);
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, config, strlen(config), NULL), OMNI_OK);
    return e;
}

/* Handles a request that must succeed; returns the parsed result. */
static inline cJSON *cu_handle(omni_inbound *in, omni_engine *e, const char *carrier,
                               const omni_webhook *w)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_inbound_handle(&out, &len, in, e, carrier, w);
    cr_assert_eq(rc, OMNI_OK, "%s: %s (%s)", carrier, omni_error_last_message(),
                 omni_error_last_code());
    cr_assert_not_null(out);
    cr_assert_eq(strlen(out), len);
    cJSON *root = cJSON_ParseWithLength(out, len);
    cr_assert_not_null(root, "result is not JSON: %s", out);
    omni_free(out);
    return root;
}

/* Handles a request that must fail with `status`; checks that nothing is
 * handed out and that the error has a message. */
static inline void cu_handle_fails(omni_inbound *in, omni_engine *e, const char *carrier,
                                   const omni_webhook *w, int status)
{
    char *out = (char *)1;
    size_t len = 7;
    int rc = omni_inbound_handle(&out, &len, in, e, carrier, w);
    cr_assert_eq(rc, status, "%s: expected %s, got %s: %s", carrier, omni_status_code(status),
                 omni_status_code(rc), omni_error_last_message());
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_error_last_status(), status);
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
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(result, "events");
    cr_assert(cJSON_IsArray(ev));
    return ev;
}

static inline const cJSON *cu_event(const cJSON *result, int i)
{
    const cJSON *ev = cJSON_GetArrayItem(cu_events(result), i);
    cr_assert_not_null(ev, "no event %d", i);
    return ev;
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
    char name[512], want[OMNI_UUID_STRLEN];
    snprintf(name, sizeof(name), "%s:%s", carrier, id);
    cr_assert_eq(omni_uuid5(want, OMNI_CARRIER_MESSAGE_NAMESPACE, name, strlen(name)), OMNI_OK);
    cu_assert_str(cu_str(event, "correlationId", NULL, NULL), want);
}

#endif
