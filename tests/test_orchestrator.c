/* The notification orchestrator and user preferences (include/omni/orchestrator.h)
 * against a real HTTP server on 127.0.0.1 through the curl transport, answering
 * like Twilio (Messages.json; the number +15550000999 is refused with code 21211),
 * SendGrid (/v3/mail/send, 202 + X-Message-Id) and APNs (/3/device/<token>).
 * Covers the preferences store and its checks, every urgency rule, opt-outs,
 * disabled channels, do-not-disturb, quiet hours (deferral with scheduledAt,
 * sent by omni_delivery_tick afterwards; urgent bypass; the user's zone),
 * fallback, templates in en/hi with locale fallback, bulk with a bad item,
 * idempotency, and every error path. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "golden.h"
#include "http_server.h"

#define CLOCK "2026-01-01T00:00:00Z" /* 05:30 in Kolkata */
#define IOS_TOKEN "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f801234"
#define BAD_NUMBER "+15550000999"

typedef struct fx {
    omni_test_server *srv;
    omni_engine *engine;
    omni_outbound *ob;
    omni_push *push;
    omni_delivery *d;
    omni_orchestrator *o;
} fx;

static fx F;

static void answer(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    static __thread char body[512], headers[256];
    (void)ctx;
    const char *t = req->target;
    act->body = body;
    act->headers = headers;
    headers[0] = body[0] = '\0';
    if (strstr(t, "/Messages.json")) {
        snprintf(headers, sizeof headers, "Content-Type: application/json\r\n");
        if (strstr((const char *)req->body, "To=%2B15550000999")) {
            act->status = 400;
            snprintf(body, sizeof body,
                     "{\"code\":21211,\"message\":\"The 'To' number is not valid.\","
                     "\"status\":400}");
        } else {
            act->status = 201;
            snprintf(body, sizeof body, "{\"sid\":\"SM%030zu\",\"status\":\"queued\"}",
                     req->index);
        }
    } else if (strcmp(t, "/v3/mail/send") == 0) {
        act->status = 202;
        snprintf(headers, sizeof headers, "X-Message-Id: sg-%zu\r\n", req->index);
    } else if (strncmp(t, "/3/device/", 10) == 0) {
        act->status = 200;
        snprintf(headers, sizeof headers, "apns-id: 00000000-0000-4000-8000-%012zu\r\n",
                 req->index);
    } else {
        act->status = 404;
    }
    act->body_len = strlen(body);
}

static const char *ORCH_CFG =
    "{\"channels\":{\"sms\":{\"carrier\":\"twilio\",\"from\":\"+14155550100\"},"
    "\"email\":{\"carrier\":\"sendgrid\"},\"push\":{}},\"defaultLocale\":\"en\"}";

static void start(void)
{
    memset(&F, 0, sizeof F);
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    const char *cfg = "{\"storage\":\"memory:\",\"transport\":{\"type\":\"curl\",\"timeoutMs\":"
                      "3000},\"clock\":{\"fixed\":\"" CLOCK "\"},\"random\":{\"seed\":3}}";
    cr_assert_eq(omni_engine_new(&F.engine, cfg, strlen(cfg), NULL), OMNI_OK, "%s",
                 omni_error_last_message());
    char url[128];
    snprintf(url, sizeof url, "%s", omni_test_server_url(F.srv, ""));
    char ob[1024];
    snprintf(ob, sizeof ob,
             "{\"twilio\":{\"accountSid\":\"AC00000000000000000000000000000001\","
             "\"authToken\":\"tw-secret\",\"baseUrl\":\"%s\"},"
             "\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{\"email\":\"ops@example.com\"},"
             "\"baseUrl\":\"%s\"}}",
             url, url);
    cr_assert_eq(omni_outbound_new(&F.ob, ob, strlen(ob)), OMNI_OK, "%s",
                 omni_error_last_message());
    size_t len = 0;
    char *key = golden_read("push/apns", "AuthKey_TEST123456.p8", &len);
    cr_assert(key);
    setenv("OMNI_TEST_ORCH_APNS_KEY", key, 1);
    free(key);
    char pcfg[1024];
    snprintf(pcfg, sizeof pcfg,
             "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\","
             "\"privateKey\":{\"env\":\"OMNI_TEST_ORCH_APNS_KEY\"},\"topic\":\"com.example.app\","
             "\"baseUrl\":\"%s\"}}",
             url);
    cr_assert_eq(omni_push_new(&F.push, pcfg, strlen(pcfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    const char *dcfg = "{\"retryPolicy\":{\"maxRetries\":1,\"initialBackoff\":50,"
                       "\"maxBackoff\":100}}";
    cr_assert_eq(omni_delivery_new(&F.d, F.engine, F.ob, dcfg, strlen(dcfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(omni_delivery_set_push(F.d, F.push), OMNI_OK);
    cr_assert_eq(omni_orchestrator_new(&F.o, F.d, ORCH_CFG, strlen(ORCH_CFG)), OMNI_OK, "%s",
                 omni_error_last_message());
}

static void stop(void)
{
    omni_orchestrator_free(F.o);
    omni_delivery_free(F.d);
    omni_push_free(F.push);
    omni_outbound_free(F.ob);
    omni_engine_free(F.engine);
    omni_test_server_stop(F.srv);
}

TestSuite(orchestrator, .init = start, .fini = stop);

/* ---- helpers ----------------------------------------------------------------------------- */

static size_t requests_to(const char *part)
{
    size_t n = 0;
    for (size_t i = 0; i < omni_test_server_request_count(F.srv); i++)
        if (strstr(omni_test_server_request(F.srv, i)->target, part))
            n++;
    return n;
}

static const char *last_body_to(const char *part)
{
    const char *b = NULL;
    for (size_t i = 0; i < omni_test_server_request_count(F.srv); i++)
        if (strstr(omni_test_server_request(F.srv, i)->target, part))
            b = (const char *)omni_test_server_request(F.srv, i)->body;
    return b;
}

static void put_prefs(const char *json)
{
    char *out = NULL;
    cr_assert_eq(omni_notify_prefs_put(&out, NULL, F.engine, json, strlen(json)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_free(out);
}

static void register_ios(const char *user)
{
    char json[512], *out = NULL;
    snprintf(json, sizeof json,
             "{\"userId\":\"%s\",\"deviceToken\":\"" IOS_TOKEN "\",\"platform\":\"ios\"}", user);
    cr_assert_eq(omni_device_register(&out, NULL, F.engine, json, strlen(json)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_free(out);
}

/* Sends a request (text) and returns the parsed result. */
static cJSON *notify(const char *req)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_notify_send(&out, &n, F.o, req, strlen(req), NULL, 0);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cJSON *r = cJSON_Parse(out);
    cr_assert(r, "%s", out);
    omni_free(out);
    return r;
}

static const cJSON *chan(const cJSON *r, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "channels")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "channel");
        if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0)
            return it;
    }
    return NULL;
}

static const char *sval(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static void expect_chan(const cJSON *r, const char *name, const char *status, const char *reason)
{
    const cJSON *c = chan(r, name);
    char *txt = cJSON_PrintUnformatted(r);
    cr_assert(c, "no channel %s in %s", name, txt);
    cr_assert_str_eq(sval(c, "status"), status, "%s: %s", name, txt);
    if (reason)
        cr_assert_str_eq(sval(c, "reason"), reason, "%s: %s", name, txt);
    free(txt);
}

static int bval(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

#define FULL_PREFS(extra)                                                                      \
    "{\"userId\":\"u1\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"},"                \
    "\"email\":{\"address\":\"ada@example.com\"},\"push\":{}},"                               \
    "\"preferredChannels\":[\"email\",\"sms\",\"push\"]" extra "}"

/* ---- preferences --------------------------------------------------------------------------- */

Test(orchestrator, prefs_put_get_delete)
{
    char *out = NULL;
    size_t n = 0;
    const char *doc = FULL_PREFS(",\"locale\":\"hi\",\"timezone\":\"Asia/Kolkata\","
                                 "\"quietHours\":{\"start\":\"22:00\",\"end\":\"07:00\"},"
                                 "\"optOuts\":[\"whatsapp\"],\"doNotDisturb\":[\"informational\"]");
    cr_assert_eq(omni_notify_prefs_put(&out, &n, F.engine, doc, strlen(doc)), OMNI_OK, "%s",
                 omni_error_last_message());
    cJSON *r = cJSON_Parse(out);
    cr_assert_str_eq(sval(r, "createdAt"), "2026-01-01T00:00:00.000Z");
    cr_assert_str_eq(sval(r, "updatedAt"), "2026-01-01T00:00:00.000Z");
    cr_assert_str_eq(sval(r, "locale"), "hi");
    cJSON_Delete(r);
    omni_free(out);
    cr_assert_eq(omni_notify_prefs_get(&out, &n, F.engine, "u1"), OMNI_OK);
    cr_assert(strstr(out, "\"Asia/Kolkata\""));
    omni_free(out);
    /* replacing keeps createdAt; the record can be put again as read */
    put_prefs(FULL_PREFS(""));
    cr_assert_eq(omni_notify_prefs_get(&out, &n, F.engine, "u1"), OMNI_OK);
    cr_assert(!strstr(out, "Kolkata"));
    put_prefs(out);
    omni_free(out);
    cr_assert_eq(omni_notify_prefs_delete(F.engine, "u1"), OMNI_OK);
    cr_assert_eq(omni_notify_prefs_get(&out, &n, F.engine, "u1"), OMNI_ENOTFOUND);
    cr_assert_null(out);
    cr_assert_eq(omni_notify_prefs_delete(F.engine, "u1"), OMNI_ENOTFOUND);
}

static void prefs_refused(const char *doc, int status, const char *needle)
{
    char *out = NULL;
    int rc = omni_notify_prefs_put(&out, NULL, F.engine, doc, strlen(doc));
    cr_assert_eq(rc, status, "%s: %d %s", doc, rc, omni_error_last_message());
    cr_assert_null(out);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "%s: %s", doc,
                  omni_error_last_message());
}

Test(orchestrator, prefs_errors)
{
    const char *u = "\"userId\":\"u1\",";
    (void)u;
    prefs_refused("[]", OMNI_EINVAL, "object");
    prefs_refused("{", OMNI_EJSON, NULL);
    prefs_refused("{\"channels\":{}}", OMNI_EINVAL, "userId");
    prefs_refused("{\"userId\":\"a b\",\"channels\":{}}", OMNI_EINVAL, "userId");
    prefs_refused("{\"userId\":\"u\"}", OMNI_EINVAL, "channels");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"x\":1}", OMNI_EINVAL, "x");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"fax\":{}}}", OMNI_EINVAL, "channels.fax");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"sms\":1}}", OMNI_EINVAL, "channels.sms");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"sms\":{\"address\":\"4155550123\"}}}",
                  OMNI_EINVAL, "channels.sms.address");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"sms\":{\"address\":\"+1415\"}}}",
                  OMNI_EINVAL, "channels.sms.address");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"email\":{\"address\":\"nobody\"}}}",
                  OMNI_EINVAL, "channels.email.address");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"email\":{\"address\":\"a@b@c\"}}}",
                  OMNI_EINVAL, "channels.email.address");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"push\":{\"address\":\"x\"}}}", OMNI_EINVAL,
                  "channels.push.address");
    prefs_refused("{\"userId\":\"u\",\"channels\":{\"push\":{\"enabled\":1}}}", OMNI_EINVAL,
                  "channels.push.enabled");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"preferredChannels\":[\"fax\"]}",
                  OMNI_EINVAL, "preferredChannels");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"preferredChannels\":[\"sms\",\"sms\"]}",
                  OMNI_EINVAL, "repeat");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"optOuts\":\"sms\"}", OMNI_EINVAL,
                  "optOuts");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"doNotDisturb\":[\"urgent\",\"x\"]}",
                  OMNI_EINVAL, "doNotDisturb");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"doNotDisturb\":1}", OMNI_EINVAL,
                  "doNotDisturb");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"timezone\":\"Mars/Olympus\"}",
                  OMNI_EINVAL, "timezone");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"timezone\":\"../etc\"}", OMNI_EINVAL,
                  "timezone");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"locale\":\"\"}", OMNI_EINVAL, "locale");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"locale\":\"e n\"}", OMNI_EINVAL, "locale");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"quietHours\":[]}", OMNI_EINVAL,
                  "quietHours");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"quietHours\":{\"start\":\"24:00\","
                  "\"end\":\"07:00\"}}",
                  OMNI_EINVAL, "quietHours.start");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"quietHours\":{\"start\":\"22:00\"}}",
                  OMNI_EINVAL, "quietHours.end");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"quietHours\":{\"start\":\"22:00\","
                  "\"end\":\"07:00\",\"timezone\":\"Nowhere/X\"}}",
                  OMNI_EINVAL, "quietHours.timezone");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"quietHours\":{\"start\":\"22:00\","
                  "\"end\":\"07:00\",\"enabled\":\"yes\"}}",
                  OMNI_EINVAL, "quietHours.enabled");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"quietHours\":{\"start\":\"22:00\","
                  "\"end\":\"07:00\",\"x\":1}}",
                  OMNI_EINVAL, "quietHours.x");
    prefs_refused("{\"userId\":\"u\",\"channels\":{},\"createdAt\":\"yesterday\"}", OMNI_EINVAL,
                  "createdAt");
    /* size limit, NULL arguments, bad ids */
    size_t big = OMNI_NOTIFY_MAX_PREFS + 1;
    char *doc = malloc(big + 1);
    memset(doc, ' ', big);
    doc[big] = '\0';
    cr_assert_eq(omni_notify_prefs_put(NULL, NULL, F.engine, doc, big), OMNI_ETOOLARGE);
    free(doc);
    cr_assert_eq(omni_notify_prefs_put(NULL, NULL, NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_notify_prefs_put(NULL, NULL, F.engine, NULL, 0), OMNI_EINVAL);
    char *out = NULL;
    cr_assert_eq(omni_notify_prefs_get(NULL, NULL, F.engine, "u1"), OMNI_EINVAL);
    cr_assert_eq(omni_notify_prefs_get(&out, NULL, NULL, "u1"), OMNI_EINVAL);
    cr_assert_eq(omni_notify_prefs_get(&out, NULL, F.engine, "a/b c"), OMNI_EINVAL);
    cr_assert_eq(omni_notify_prefs_get(&out, NULL, F.engine, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_notify_prefs_delete(NULL, "u1"), OMNI_EINVAL);
    cr_assert_eq(omni_notify_prefs_delete(F.engine, ""), OMNI_EINVAL);
    /* nothing was stored by the refusals */
    cr_assert_eq(omni_notify_prefs_get(&out, NULL, F.engine, "u"), OMNI_ENOTFOUND);
}

/* ---- configuration ------------------------------------------------------------------------- */

static void config_refused(const char *cfg, int status, const char *needle)
{
    omni_orchestrator *o = (omni_orchestrator *)1;
    int rc = omni_orchestrator_new(&o, F.d, cfg, strlen(cfg));
    cr_assert_eq(rc, status, "%s: %d %s", cfg, rc, omni_error_last_message());
    cr_assert_null(o);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "%s: %s", cfg,
                  omni_error_last_message());
}

Test(orchestrator, config_errors)
{
    config_refused("[]", OMNI_ECONFIG, "object");
    config_refused("{", OMNI_EJSON, NULL);
    config_refused("{}", OMNI_ECONFIG, "channels");
    config_refused("{\"channels\":{},\"x\":1}", OMNI_ECONFIG, "x");
    config_refused("{\"channels\":{\"fax\":{}}}", OMNI_ECONFIG, "channels.fax");
    config_refused("{\"channels\":{\"sms\":[]}}", OMNI_ECONFIG, "channels.sms");
    config_refused("{\"channels\":{\"sms\":{}}}", OMNI_ECONFIG, "channels.sms.carrier");
    config_refused("{\"channels\":{\"sms\":{\"carrier\":\"\"}}}", OMNI_ECONFIG, "carrier");
    config_refused("{\"channels\":{\"sms\":{\"carrier\":\"twilio\",\"x\":1}}}", OMNI_ECONFIG,
                   "channels.sms.x");
    config_refused("{\"channels\":{\"email\":{\"carrier\":\"sendgrid\",\"from\":\"a@b\"}}}",
                   OMNI_ECONFIG, "channels.email.from");
    config_refused("{\"channels\":{\"push\":{\"carrier\":\"apns\"}}}", OMNI_ECONFIG,
                   "channels.push.carrier");
    config_refused("{\"channels\":{},\"defaultLocale\":5}", OMNI_ECONFIG, "defaultLocale");
    omni_orchestrator *o = NULL;
    cr_assert_eq(omni_orchestrator_new(NULL, F.d, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_orchestrator_new(&o, NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_orchestrator_new(&o, F.d, NULL, 0), OMNI_EINVAL);
    omni_orchestrator_free(NULL);
}

/* ---- urgency rules ------------------------------------------------------------------------- */

Test(orchestrator, urgent_sends_push_and_sms)
{
    put_prefs(FULL_PREFS(""));
    register_ios("u1");
    cJSON *r = notify("{\"userId\":\"u1\",\"messageType\":\"urgent\",\"requestId\":\"r1\","
                      "\"content\":{\"subject\":\"Alert\",\"body\":\"Server down\"}}");
    cr_assert(bval(r, "success"));
    expect_chan(r, "push", "sent", NULL);
    expect_chan(r, "sms", "sent", NULL);
    cr_assert_null(chan(r, "email"));
    cr_assert_eq(requests_to("/3/device/" IOS_TOKEN), 1);
    cr_assert_eq(requests_to("/Messages.json"), 1);
    cr_assert_eq(requests_to("/v3/mail/send"), 0);
    cr_assert(strstr(last_body_to("/Messages.json"), "Body=Server+down") ||
              strstr(last_body_to("/Messages.json"), "Body=Server%20down"));
    cr_assert(strstr(last_body_to("/3/device/"), "\"Server down\""));
    cr_assert(!bval(r, "fallbackUsed"));
    cJSON_Delete(r);
}

Test(orchestrator, urgent_falls_back_when_push_and_sms_fail)
{
    put_prefs("{\"userId\":\"u2\",\"channels\":{\"sms\":{\"address\":\"" BAD_NUMBER "\"},"
              "\"email\":{\"address\":\"bo@example.com\"}}}");
    cJSON *r = notify("{\"userId\":\"u2\",\"messageType\":\"urgent\","
                      "\"content\":{\"subject\":\"S\",\"body\":\"B\"}}");
    cr_assert(bval(r, "success"));
    expect_chan(r, "sms", "failed", NULL);
    expect_chan(r, "email", "sent", NULL);
    cr_assert(bval(r, "fallbackUsed"));
    cJSON_Delete(r);
}

Test(orchestrator, important_uses_the_preferred_channel)
{
    put_prefs(FULL_PREFS(""));
    register_ios("u1");
    cJSON *r = notify("{\"userId\":\"u1\",\"messageType\":\"important\","
                      "\"content\":{\"subject\":\"Invoice\",\"body\":\"Due soon\"}}");
    cr_assert(bval(r, "success"));
    expect_chan(r, "email", "sent", NULL);
    cr_assert_null(chan(r, "sms"));
    cr_assert_null(chan(r, "push"));
    cr_assert_eq(requests_to("/v3/mail/send"), 1);
    cr_assert(strstr(last_body_to("/v3/mail/send"), "\"Invoice\""));
    cr_assert_eq(requests_to("/Messages.json") + requests_to("/3/device/"), 0);
    cr_assert(!bval(r, "fallbackUsed"));
    cJSON_Delete(r);
}

Test(orchestrator, important_falls_back_after_a_failure)
{
    put_prefs("{\"userId\":\"u3\",\"channels\":{\"sms\":{\"address\":\"" BAD_NUMBER "\"},"
              "\"email\":{\"address\":\"cy@example.com\"}},\"preferredChannels\":[\"sms\","
              "\"email\"]}");
    cJSON *r = notify("{\"userId\":\"u3\",\"messageType\":\"important\","
                      "\"content\":{\"subject\":\"S\",\"body\":\"B\"}}");
    cr_assert(bval(r, "success"));
    expect_chan(r, "sms", "failed", NULL);
    expect_chan(r, "email", "sent", NULL);
    cr_assert(bval(r, "fallbackUsed"));
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chan(r, "sms"),
                                                                         "deliveries"),
                                        0);
    cr_assert_str_eq(sval(cJSON_GetObjectItemCaseSensitive(d, "error"), "code"),
                     "INVALID_RECIPIENT");
    cJSON_Delete(r);
}

Test(orchestrator, informational_never_falls_back)
{
    put_prefs("{\"userId\":\"u3\",\"channels\":{\"sms\":{\"address\":\"" BAD_NUMBER "\"},"
              "\"email\":{\"address\":\"cy@example.com\"}},\"preferredChannels\":[\"sms\"]}");
    cJSON *r = notify("{\"userId\":\"u3\",\"messageType\":\"informational\","
                      "\"content\":{\"body\":\"FYI\"}}");
    cr_assert(!bval(r, "success"));
    expect_chan(r, "sms", "failed", NULL);
    cr_assert_null(chan(r, "email"));
    cr_assert_eq(requests_to("/v3/mail/send"), 0);
    cJSON_Delete(r);
}

Test(orchestrator, request_channels_limit_the_choice)
{
    put_prefs(FULL_PREFS(""));
    cJSON *r = notify("{\"userId\":\"u1\",\"messageType\":\"important\",\"channels\":[\"sms\","
                      "\"whatsapp\"],\"content\":{\"body\":\"Only SMS\"}}");
    expect_chan(r, "sms", "sent", NULL);
    expect_chan(r, "whatsapp", "skipped", "NOT_CONFIGURED");
    cr_assert_null(chan(r, "email"));
    cJSON_Delete(r);
}

Test(orchestrator, skips_opted_out_disabled_and_missing)
{
    put_prefs("{\"userId\":\"u4\",\"channels\":{\"sms\":{\"address\":\"+14155550123\","
              "\"enabled\":false},\"email\":{\"address\":\"d@example.com\"},\"push\":{}},"
              "\"optOuts\":[\"email\"]}");
    cJSON *r = notify("{\"userId\":\"u4\",\"messageType\":\"important\","
                      "\"content\":{\"body\":\"x\"}}");
    cr_assert(!bval(r, "success"));
    expect_chan(r, "push", "skipped", "NO_DEVICES");
    expect_chan(r, "sms", "skipped", "DISABLED");
    expect_chan(r, "email", "skipped", "OPTED_OUT");
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    cJSON_Delete(r);
    r = notify("{\"userId\":\"u4\",\"messageType\":\"important\",\"channels\":[\"whatsapp\"],"
               "\"content\":{\"body\":\"x\"}}");
    expect_chan(r, "whatsapp", "skipped", "NOT_CONFIGURED");
    cJSON_Delete(r);
    /* a channel the user has not set up */
    put_prefs("{\"userId\":\"u5\",\"channels\":{\"push\":{}}}");
    r = notify("{\"userId\":\"u5\",\"messageType\":\"important\",\"channels\":[\"sms\"],"
               "\"content\":{\"body\":\"x\"}}");
    expect_chan(r, "sms", "skipped", "NO_ADDRESS");
    cJSON_Delete(r);
}

Test(orchestrator, do_not_disturb)
{
    put_prefs(FULL_PREFS(",\"doNotDisturb\":true"));
    cJSON *r = notify("{\"userId\":\"u1\",\"messageType\":\"important\","
                      "\"content\":{\"body\":\"x\"}}");
    cr_assert(!bval(r, "success"));
    expect_chan(r, "email", "skipped", "DO_NOT_DISTURB");
    expect_chan(r, "sms", "skipped", "DO_NOT_DISTURB");
    cJSON_Delete(r);
    r = notify("{\"userId\":\"u1\",\"messageType\":\"urgent\",\"content\":{\"body\":\"x\"}}");
    cr_assert(bval(r, "success"));
    expect_chan(r, "sms", "sent", NULL);
    cJSON_Delete(r);
    /* a list covers only its types */
    put_prefs(FULL_PREFS(",\"doNotDisturb\":[\"informational\"]"));
    r = notify("{\"userId\":\"u1\",\"messageType\":\"informational\","
               "\"content\":{\"body\":\"x\"}}");
    expect_chan(r, "email", "skipped", "DO_NOT_DISTURB");
    cJSON_Delete(r);
    r = notify("{\"userId\":\"u1\",\"messageType\":\"important\","
               "\"content\":{\"subject\":\"s\",\"body\":\"x\"}}");
    expect_chan(r, "email", "sent", NULL);
    cJSON_Delete(r);
}

/* ---- quiet hours --------------------------------------------------------------------------- */

Test(orchestrator, quiet_hours_defer_and_tick_sends)
{
    /* 00:00Z is inside 22:00-07:00 UTC: deferred to 07:00Z */
    put_prefs("{\"userId\":\"q1\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"}},"
              "\"quietHours\":{\"start\":\"22:00\",\"end\":\"07:00\"}}");
    cJSON *r = notify("{\"userId\":\"q1\",\"messageType\":\"important\",\"requestId\":\"q\","
                      "\"content\":{\"body\":\"Later\"}}");
    cr_assert(bval(r, "success"));
    expect_chan(r, "sms", "scheduled", NULL);
    cr_assert_str_eq(sval(chan(r, "sms"), "scheduledAt"), "2026-01-01T07:00:00.000Z");
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    cJSON_Delete(r);
    int64_t t7 = 0;
    cr_assert_eq(omni_time_parse(&t7, "2026-01-01T07:00:00Z", 20), OMNI_OK);
    char *out = NULL;
    cr_assert_eq(omni_delivery_tick(&out, NULL, F.d, t7 - 1000, 100), OMNI_OK);
    omni_free(out);
    cr_assert_eq(requests_to("/Messages.json"), 0);
    cr_assert_eq(omni_delivery_tick(&out, NULL, F.d, t7, 100), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert(strstr(out, "\"sent\":1"), "%s", out);
    omni_free(out);
    cr_assert_eq(requests_to("/Messages.json"), 1);
    cr_assert(strstr(last_body_to("/Messages.json"), "Body=Later"));
}

Test(orchestrator, quiet_hours_in_the_users_zone_and_urgent_bypass)
{
    /* 00:00Z is 05:30 in Kolkata: quiet until 07:00 IST = 01:30Z */
    put_prefs("{\"userId\":\"q2\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"}},"
              "\"timezone\":\"Asia/Kolkata\",\"quietHours\":{\"start\":\"22:00\","
              "\"end\":\"07:00\"}}");
    cJSON *r = notify("{\"userId\":\"q2\",\"messageType\":\"informational\","
                      "\"content\":{\"body\":\"x\"}}");
    cr_assert_str_eq(sval(chan(r, "sms"), "scheduledAt"), "2026-01-01T01:30:00.000Z");
    cJSON_Delete(r);
    r = notify("{\"userId\":\"q2\",\"messageType\":\"urgent\",\"content\":{\"body\":\"now\"}}");
    expect_chan(r, "sms", "sent", NULL);
    cr_assert_eq(requests_to("/Messages.json"), 1);
    cJSON_Delete(r);
    /* outside quiet hours (disabled, or another zone): sent now */
    put_prefs("{\"userId\":\"q3\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"}},"
              "\"timezone\":\"America/New_York\",\"quietHours\":{\"start\":\"22:00\","
              "\"end\":\"07:00\"}}");
    r = notify("{\"userId\":\"q3\",\"messageType\":\"informational\","
               "\"content\":{\"body\":\"x\"}}");
    expect_chan(r, "sms", "sent", NULL);
    cJSON_Delete(r);
    put_prefs("{\"userId\":\"q4\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"}},"
              "\"quietHours\":{\"start\":\"22:00\",\"end\":\"07:00\",\"enabled\":false}}");
    r = notify("{\"userId\":\"q4\",\"messageType\":\"informational\","
               "\"content\":{\"body\":\"x\"}}");
    expect_chan(r, "sms", "sent", NULL);
    cJSON_Delete(r);
}

Test(orchestrator, scheduled_for_defers)
{
    put_prefs(FULL_PREFS(""));
    cJSON *r = notify("{\"userId\":\"u1\",\"messageType\":\"important\",\"channels\":[\"sms\"],"
                      "\"scheduledFor\":\"2026-01-02T09:00:00Z\",\"content\":{\"body\":\"x\"}}");
    cr_assert_str_eq(sval(chan(r, "sms"), "status"), "scheduled");
    cr_assert_str_eq(sval(chan(r, "sms"), "scheduledAt"), "2026-01-02T09:00:00.000Z");
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    cJSON_Delete(r);
}

/* ---- templates ----------------------------------------------------------------------------- */

#define WELCOME                                                                              \
    "{\"templateId\":\"welcome\",\"name\":\"Welcome\",\"category\":\"system\","              \
    "\"channels\":[\"sms\",\"email\",\"push\"],"                                             \
    "\"content\":{\"subject\":\"Hi {{name}}\",\"body\":\"Hello {{name}}\"},"                 \
    "\"variables\":[{\"name\":\"name\"}],"                                                   \
    "\"localizations\":{\"hi\":{\"body\":\"Namaste {{name}}\"}}}"

Test(orchestrator, templates_per_locale_with_fallback)
{
    char *out = NULL;
    cr_assert_eq(omni_template_create(&out, NULL, F.engine, WELCOME, strlen(WELCOME)), OMNI_OK,
                 "%s", omni_error_last_message());
    omni_free(out);
    put_prefs("{\"userId\":\"t1\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"}},"
              "\"locale\":\"hi-IN\"}");
    put_prefs("{\"userId\":\"t2\",\"channels\":{\"sms\":{\"address\":\"+14155550124\"}},"
              "\"locale\":\"fr\"}");
    cJSON *r = notify("{\"userId\":\"t1\",\"messageType\":\"informational\",\"content\":"
                      "{\"templateId\":\"welcome\",\"variables\":{\"name\":\"Asha\"}}}");
    expect_chan(r, "sms", "sent", NULL);
    cr_assert(strstr(last_body_to("/Messages.json"), "Body=Namaste+Asha") ||
                  strstr(last_body_to("/Messages.json"), "Body=Namaste%20Asha"),
              "%s", last_body_to("/Messages.json"));
    cJSON_Delete(r);
    r = notify("{\"userId\":\"t2\",\"messageType\":\"informational\",\"content\":"
               "{\"templateId\":\"welcome\",\"variables\":{\"name\":\"Jean\"}}}");
    expect_chan(r, "sms", "sent", NULL);
    cr_assert(strstr(last_body_to("/Messages.json"), "Body=Hello+Jean") ||
                  strstr(last_body_to("/Messages.json"), "Body=Hello%20Jean"),
              "%s", last_body_to("/Messages.json"));
    cJSON_Delete(r);
    /* a missing template fails the channel (and an important one falls back) */
    put_prefs("{\"userId\":\"t3\",\"channels\":{\"sms\":{\"address\":\"+14155550123\"},"
              "\"email\":{\"address\":\"t3@example.com\"}},\"preferredChannels\":[\"sms\"]}");
    r = notify("{\"userId\":\"t3\",\"messageType\":\"informational\",\"content\":"
               "{\"templateId\":\"nope\"}}");
    expect_chan(r, "sms", "failed", "TEMPLATE_ERROR");
    cr_assert(!bval(r, "success"));
    cJSON_Delete(r);
}

/* ---- idempotency and bulk ------------------------------------------------------------------ */

Test(orchestrator, same_request_twice_sends_once)
{
    put_prefs(FULL_PREFS(""));
    register_ios("u1");
    const char *req = "{\"userId\":\"u1\",\"messageType\":\"urgent\",\"requestId\":\"same\","
                      "\"content\":{\"body\":\"once\"}}";
    cJSON *a = notify(req), *b = notify(req);
    expect_chan(b, "sms", "sent", NULL);
    expect_chan(b, "push", "sent", NULL);
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(chan(b, "sms"),
                                                                         "deliveries"),
                                        0);
    cr_assert(bval(d, "duplicate"));
    cr_assert_eq(requests_to("/Messages.json"), 1);
    cr_assert_eq(requests_to("/3/device/"), 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

Test(orchestrator, bulk_with_a_bad_item)
{
    put_prefs(FULL_PREFS(""));
    const char *bulk =
        "{\"notifications\":["
        "{\"userId\":\"u1\",\"messageType\":\"important\",\"content\":{\"subject\":\"a\","
        "\"body\":\"one\"}},"
        "{\"userId\":\"u1\",\"messageType\":\"sometimes\",\"content\":{\"body\":\"bad\"}},"
        "{\"userId\":\"nobody\",\"messageType\":\"important\",\"content\":{\"body\":\"x\"}},"
        "{\"userId\":\"u1\",\"messageType\":\"informational\",\"channels\":[\"sms\"],"
        "\"content\":{\"body\":\"two\"}}]}";
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_notify_send_bulk(&out, &n, F.o, bulk, strlen(bulk), NULL, 0), OMNI_OK,
                 "%s", omni_error_last_message());
    cJSON *r = cJSON_Parse(out);
    omni_free(out);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(r, "results");
    cr_assert_eq(cJSON_GetArraySize(results), 4);
    cr_assert(bval(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, 0), "result"),
                   "success"));
    const cJSON *e1 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, 1), "error");
    cr_assert_str_eq(sval(e1, "code"), "INVALID_ARGUMENT");
    cr_assert(strstr(sval(e1, "message"), "messageType"));
    const cJSON *e2 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(results, 2), "error");
    cr_assert_str_eq(sval(e2, "code"), omni_status_code(OMNI_ENOTFOUND));
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "summary");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(s, "total")->valueint, 4);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(s, "succeeded")->valueint, 2);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(s, "failed")->valueint, 2);
    cr_assert_eq(requests_to("/v3/mail/send"), 1);
    cr_assert_eq(requests_to("/Messages.json"), 1);
    cJSON_Delete(r);
}

static void bulk_refused(const char *bulk, int status)
{
    char *out = (char *)1;
    int rc = omni_notify_send_bulk(&out, NULL, F.o, bulk, strlen(bulk), NULL, 0);
    cr_assert_eq(rc, status, "%s: %d %s", bulk, rc, omni_error_last_message());
    cr_assert_null(out);
}

Test(orchestrator, bulk_errors)
{
    bulk_refused("{", OMNI_EJSON);
    bulk_refused("[]", OMNI_EINVAL);
    bulk_refused("{\"notifications\":[]}", OMNI_EINVAL);
    bulk_refused("{\"notifications\":{}}", OMNI_EINVAL);
    bulk_refused("{\"notifications\":[{}],\"x\":1}", OMNI_EINVAL);
    /* 1001 items */
    size_t cap = 16 + 1001 * 3 + 4;
    char *big = malloc(cap);
    strcpy(big, "{\"notifications\":[");
    for (int i = 0; i < 1001; i++)
        strcat(big, i ? ",{}" : "{}");
    strcat(big, "]}");
    bulk_refused(big, OMNI_EINVAL);
    free(big);
    char *out = NULL;
    cr_assert_eq(omni_notify_send_bulk(NULL, NULL, F.o, "{}", 2, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_notify_send_bulk(&out, NULL, NULL, "{}", 2, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_notify_send_bulk(&out, NULL, F.o, NULL, 0, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_notify_send_bulk(&out, NULL, F.o, "{}", OMNI_NOTIFY_MAX_BULK + 1, NULL, 0),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni_notify_send_bulk(&out, NULL, F.o, "{}", 2, "{\"x\":1}", 7), OMNI_EINVAL);
}

/* ---- request errors ------------------------------------------------------------------------ */

static void send_refused(const char *req, int status, const char *needle)
{
    char *out = (char *)1;
    int rc = omni_notify_send(&out, NULL, F.o, req, strlen(req), NULL, 0);
    cr_assert_eq(rc, status, "%s: %d %s", req, rc, omni_error_last_message());
    cr_assert_null(out);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "%s: %s", req,
                  omni_error_last_message());
}

#define RQ(extra) "{\"userId\":\"u1\",\"messageType\":\"important\"" extra "}"

Test(orchestrator, request_errors)
{
    put_prefs(FULL_PREFS(""));
    send_refused("{", OMNI_EJSON, NULL);
    send_refused("[]", OMNI_EINVAL, "object");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"x\":1"), OMNI_EINVAL, "x");
    send_refused("{\"messageType\":\"urgent\",\"content\":{\"body\":\"x\"}}", OMNI_EINVAL,
                 "userId");
    send_refused("{\"userId\":\"u1\",\"content\":{\"body\":\"x\"}}", OMNI_EINVAL, "messageType");
    send_refused(RQ(""), OMNI_EINVAL, "content");
    send_refused(RQ(",\"content\":{}"), OMNI_EINVAL, "content.body");
    send_refused(RQ(",\"content\":{\"body\":1}"), OMNI_EINVAL, "content.body");
    send_refused(RQ(",\"content\":{\"body\":\"x\",\"y\":1}"), OMNI_EINVAL, "content");
    send_refused(RQ(",\"content\":{\"templateId\":\"\"}"), OMNI_EINVAL, "content.templateId");
    send_refused(RQ(",\"content\":{\"body\":\"x\",\"variables\":[]}"), OMNI_EINVAL,
                 "content.variables");
    send_refused(RQ(",\"content\":{\"body\":\"x\",\"data\":1}"), OMNI_EINVAL, "content.data");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"channels\":[]"), OMNI_EINVAL, "channels");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"channels\":[\"fax\"]"), OMNI_EINVAL,
                 "channels");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"channels\":[\"sms\",\"sms\"]"), OMNI_EINVAL,
                 "repeat");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"scheduledFor\":\"tomorrow\""), OMNI_EINVAL,
                 "scheduledFor");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"expiresAt\":5"), OMNI_EINVAL, "expiresAt");
    send_refused(RQ(",\"content\":{\"body\":\"x\"},\"requestId\":\"a/b\""), OMNI_EINVAL,
                 "requestId");
    send_refused("{\"userId\":\"ghost\",\"messageType\":\"urgent\",\"content\":{\"body\":\"x\"}}",
                 OMNI_ENOTFOUND, "ghost");
    char *out = NULL;
    const char *ok = RQ(",\"content\":{\"body\":\"x\"}");
    cr_assert_eq(omni_notify_send(NULL, NULL, F.o, ok, strlen(ok), NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_notify_send(&out, NULL, NULL, ok, strlen(ok), NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_notify_send(&out, NULL, F.o, NULL, 0, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_notify_send(&out, NULL, F.o, ok, OMNI_NOTIFY_MAX_REQUEST + 1, NULL, 0),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni_notify_send(&out, NULL, F.o, ok, strlen(ok), "{\"deadlineMs\":-1}", 17),
                 OMNI_EINVAL);
    cr_assert_eq(omni_notify_send(&out, NULL, F.o, ok, strlen(ok), "[", 1), OMNI_EJSON);
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    /* with valid options it is sent */
    cr_assert_eq(omni_notify_send(&out, NULL, F.o, ok, strlen(ok), "{\"deadlineMs\":0}", 16),
                 OMNI_OK, "%s", omni_error_last_message());
    omni_free(out);
}
