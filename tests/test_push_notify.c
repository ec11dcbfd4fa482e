/* pushNotification (omni_push_notify, include/omni/push.h) and push through
 * the delivery engine (include/omni/delivery.h "Push"), against a real HTTP
 * server on 127.0.0.1 through the curl transport. The server answers like
 * APNs (/3/device/<token>), FCM HTTP v1 (its token endpoint and
 * messages:send) and a Web Push service (/push/<id>), by the token: tokens
 * starting "dead" are refused as unregistered, "busy" gets a 503 first,
 * APNs token 5ca1ab1e an ExpiredProviderToken first. Covers preferences (disabled,
 * opted out, quiet hours across midnight in the user's zone, critical
 * bypass, platforms), devices from the event and from the registry, invalid
 * tokens leaving the registry, idempotency, retries inline and by tick, the
 * FCM token exchange inside the job, and every malformed event path. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "golden.h"
#include "http_server.h"

/* 2026-01-01T00:00:00Z: 01:00 in Berlin, 19:00 (Dec 31) in New York */
#define CLOCK "2026-01-01T00:00:00Z"
/* 56 hex digits: APNs tokens here are 64 */
#define HEX56 "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
#define IOS_TOKEN "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f801234"
#define UA_PUBLIC                                                                          \
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define AUTH "BTBZMqHH6r4Tts7J_aSIgg"
#define VAPID_PRIVATE "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"

typedef struct fx {
    omni_test_server *srv;
    omni_engine *engine;
    omni_outbound *ob;
    omni_push *push;
    omni_delivery *d;
    pthread_mutex_t mu;
    int seen_busy, seen_stale; /* first answers given */
    int token_status;          /* FCM token endpoint's status (0: 200) */
} fx;

static fx F;

/* Answers like the three providers; see the file comment. */
static void answer(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    static __thread char body[512], headers[256];
    (void)ctx;
    const char *t = req->target;
    act->body = body;
    act->headers = headers;
    headers[0] = body[0] = '\0';
    int dead = strstr(t, "/dead") != NULL || strstr(req->body ? (char *)req->body : "",
                                                    "\"token\":\"dead") != NULL;
    int busy = strstr(t, "busy") != NULL || strstr((char *)req->body, "\"token\":\"busy") != NULL;
    int stale = strstr(t, "/3/device/5ca1ab1e") != NULL;
    pthread_mutex_lock(&F.mu);
    int first_busy = busy && !F.seen_busy++;
    int first_stale = stale && !F.seen_stale++;
    int token_status = F.token_status;
    pthread_mutex_unlock(&F.mu);
    if (strcmp(t, "/token") == 0) {
        act->status = token_status ? token_status : 200;
        snprintf(headers, sizeof headers, "Content-Type: application/json\r\n");
        snprintf(body, sizeof body, "%s",
                 token_status ? "{\"error\":\"invalid_grant\",\"error_description\":\"bad\"}"
                              : "{\"access_token\":\"ya29.test-token\",\"expires_in\":3599,"
                                "\"token_type\":\"Bearer\"}");
    } else if (first_busy) {
        act->status = 503;
        snprintf(headers, sizeof headers, "Content-Type: application/json\r\n");
        snprintf(body, sizeof body,
                 strncmp(t, "/3/", 3) == 0 ? "{\"reason\":\"ServiceUnavailable\"}"
                                           : "{\"error\":{\"code\":503,\"status\":"
                                             "\"UNAVAILABLE\",\"message\":\"try later\"}}");
    } else if (strncmp(t, "/3/device/", 10) == 0) {
        if (dead) {
            act->status = 410;
            snprintf(body, sizeof body,
                     "{\"reason\":\"Unregistered\",\"timestamp\":1700000000000}");
        } else if (first_stale) {
            act->status = 403;
            snprintf(body, sizeof body, "{\"reason\":\"ExpiredProviderToken\"}");
        } else {
            act->status = 200;
            snprintf(headers, sizeof headers, "apns-id: 00000000-0000-4000-8000-%012zu\r\n",
                     req->index);
        }
    } else if (strstr(t, "/messages:send")) {
        snprintf(headers, sizeof headers, "Content-Type: application/json\r\n");
        if (dead) {
            act->status = 404;
            snprintf(body, sizeof body,
                     "{\"error\":{\"code\":404,\"message\":\"Requested entity was not found.\","
                     "\"status\":\"NOT_FOUND\",\"details\":[{\"@type\":\"type.googleapis.com/"
                     "google.firebase.fcm.v1.FcmError\",\"errorCode\":\"UNREGISTERED\"}]}}");
        } else {
            act->status = 200;
            snprintf(body, sizeof body, "{\"name\":\"projects/omni-test/messages/%zu\"}",
                     req->index);
        }
    } else if (strncmp(t, "/push/", 6) == 0) {
        act->status = dead ? 410 : 201;
        if (!dead)
            snprintf(headers, sizeof headers, "Location: /m/%zu\r\n", req->index);
    } else {
        act->status = 404;
    }
    act->body_len = strlen(body);
}

static void start_with(int attach_push)
{
    memset(&F, 0, sizeof F);
    pthread_mutex_init(&F.mu, NULL);
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    const char *cfg = "{\"storage\":\"memory:\",\"transport\":{\"type\":\"curl\",\"timeoutMs\":"
                      "3000},\"clock\":{\"fixed\":\"" CLOCK "\"},\"random\":{\"seed\":3}}";
    cr_assert_eq(omni_engine_new(&F.engine, cfg, strlen(cfg), NULL), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(omni_outbound_new(&F.ob, "{}", 2), OMNI_OK, "%s", omni_error_last_message());
    size_t len = 0;
    char *key = golden_read("push/apns", "AuthKey_TEST123456.p8", &len);
    char *sa = golden_read("push/fcm", "service_account.json", &len);
    cr_assert(key && sa);
    setenv("OMNI_TEST_NOTIFY_APNS_KEY", key, 1);
    setenv("OMNI_TEST_NOTIFY_FCM_SA", sa, 1);
    free(key);
    free(sa);
    char url[128];
    snprintf(url, sizeof url, "%s", omni_test_server_url(F.srv, ""));
    char pcfg[1024];
    snprintf(pcfg, sizeof pcfg,
             "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\","
             "\"privateKey\":{\"env\":\"OMNI_TEST_NOTIFY_APNS_KEY\"},\"topic\":\"com.example.app\","
             "\"baseUrl\":\"%s\"},"
             "\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_NOTIFY_FCM_SA\"},\"baseUrl\":\"%s\","
             "\"tokenUrl\":\"%s/token\"},"
             "\"webpush\":{\"vapidPrivateKey\":\"" VAPID_PRIVATE "\","
             "\"subject\":\"mailto:ops@example.com\"}}",
             url, url, url);
    cr_assert_eq(omni_push_new(&F.push, pcfg, strlen(pcfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    const char *dcfg = "{\"retryPolicy\":{\"maxRetries\":2,\"initialBackoff\":50,"
                       "\"maxBackoff\":100}}";
    cr_assert_eq(omni_delivery_new(&F.d, F.engine, F.ob, dcfg, strlen(dcfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    if (attach_push)
        cr_assert_eq(omni_delivery_set_push(F.d, F.push), OMNI_OK);
}

static void start(void)
{
    start_with(1);
}

static void stop(void)
{
    omni_delivery_free(F.d);
    omni_push_free(F.push);
    omni_outbound_free(F.ob);
    omni_engine_free(F.engine);
    omni_test_server_stop(F.srv);
    pthread_mutex_destroy(&F.mu);
}

TestSuite(push_notify, .init = start, .fini = stop);

/* An event with `recipients` (JSON array text) and `options` (object text). */
static char *event(const char *corr, const char *type, const char *recipients,
                   const char *options)
{
    static char buf[32768];
    snprintf(buf, sizeof buf,
             "{\"correlationId\":\"%s\",\"notificationType\":\"%s\",\"recipients\":%s,"
             "\"payload\":{\"title\":\"New message\",\"body\":\"Asha: is my order shipped?\","
             "\"data\":{\"conversationId\":\"conv-1\"}},"
             "\"options\":%s,\"context\":{\"conversationId\":\"conv-1\",\"accountId\":\"acc-1\"}}",
             corr, type, recipients, options ? options : "{\"priority\":\"high\"}");
    return buf;
}

static cJSON *notify(const char *ev, const char *opts)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_push_notify(&out, &n, F.d, ev, strlen(ev), opts, opts ? strlen(opts) : 0);
    cr_assert_eq(rc, OMNI_OK, "notify: %s", omni_error_last_message());
    cJSON *j = cJSON_ParseWithLength(out, n);
    cr_assert_not_null(j, "%s", out);
    omni_free(out);
    return j;
}

static const cJSON *line(const cJSON *res, int i)
{
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(res, "deliveryResults");
    const cJSON *l = cJSON_GetArrayItem(all, i);
    cr_assert_not_null(l, "no result %d", i);
    return l;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int summary(const cJSON *res, const char *name)
{
    const cJSON *it =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "summary"), name);
    cr_assert(cJSON_IsNumber(it), "summary.%s", name);
    return it->valueint;
}

static void expect_line(const cJSON *res, int i, const char *user, const char *platform,
                        const char *status)
{
    const cJSON *l = line(res, i);
    cr_assert_str_eq(str(l, "recipientId"), user);
    cr_assert_str_eq(str(l, "platform"), platform);
    cr_assert_str_eq(str(l, "status"), status, "line %d: %s (%s)", i, str(l, "status"),
                     str(l, "error") ? str(l, "error") : "");
}

static size_t requests_to(const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < omni_test_server_request_count(F.srv); i++)
        if (strncmp(omni_test_server_request(F.srv, i)->target, prefix, strlen(prefix)) == 0 ||
            strstr(omni_test_server_request(F.srv, i)->target, prefix))
            n++;
    return n;
}

static void register_device(const char *json)
{
    char *out = NULL;
    cr_assert_eq(omni_device_register(&out, NULL, F.engine, json, strlen(json)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_free(out);
}

#define WEB_DEVICE(endpoint)                                                               \
    "{\"token\":\"" endpoint "\",\"platform\":\"web\",\"subscription\":{\"endpoint\":\""   \
    endpoint "\",\"keys\":{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" AUTH "\"}}}"

Test(push_notify, every_platform_from_the_event)
{
    char rec[2048];
    snprintf(rec, sizeof rec,
             "[{\"userId\":\"agent-1\",\"deviceTokens\":["
             "{\"token\":\"" IOS_TOKEN "\",\"platform\":\"ios\",\"appId\":\"com.example.agent\"},"
             "{\"token\":\"fcm-token-1\",\"platform\":\"android\",\"appId\":\"com.example\"},"
             WEB_DEVICE("%s") "]}]",
             omni_test_server_url(F.srv, "/push/sub-1"),
             omni_test_server_url(F.srv, "/push/sub-1"));
    cJSON *res = notify(event("corr-1", "new_message", rec, NULL), NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "success")));
    cr_assert_str_eq(str(res, "correlationId"), "corr-1");
    expect_line(res, 0, "agent-1", "ios", "sent");
    expect_line(res, 1, "agent-1", "android", "sent");
    expect_line(res, 2, "agent-1", "web", "sent");
    cr_assert_eq(summary(res, "total"), 3);
    cr_assert_eq(summary(res, "sent"), 3);
    cr_assert_eq(summary(res, "failed") + summary(res, "skipped") + summary(res, "pending"), 0);
    cr_assert_not_null(strstr(str(line(res, 0), "messageId"), "00000000-0000-4000-8000-"));
    cr_assert_not_null(strstr(str(line(res, 1), "messageId"), "projects/omni-test/messages/"));
    cr_assert_not_null(strstr(str(line(res, 2), "messageId"), "/m/"));
    cr_assert_eq(strlen(str(line(res, 0), "deliveryId")), 36);
    /* one token exchange, then one request per device, in order */
    cr_assert_eq(omni_test_server_request_count(F.srv), 4);
    const omni_test_request *apns = omni_test_server_request(F.srv, 0);
    cr_assert_str_eq(apns->target, "/3/device/" IOS_TOKEN);
    const char *topic = NULL;
    for (size_t i = 0; i < apns->header_count; i++)
        if (strcasecmp(apns->header_names[i], "apns-topic") == 0)
            topic = apns->header_values[i];
    cr_assert_str_eq(topic, "com.example.agent", "the iOS appId is the apns-topic");
    cr_assert_str_eq(omni_test_server_request(F.srv, 1)->target, "/token");
    cr_assert_not_null(strstr(omni_test_server_request(F.srv, 2)->target,
                              "/v1/projects/omni-test/messages:send"));
    cr_assert_str_eq(omni_test_server_request(F.srv, 3)->target, "/push/sub-1");
    cr_assert_not_null(strstr((char *)omni_test_server_request(F.srv, 2)->body, "fcm-token-1"));
    cJSON_Delete(res);

    /* the same event again sends nothing: every device is a duplicate */
    res = notify(event("corr-1", "new_message", rec, NULL), NULL);
    cr_assert_eq(omni_test_server_request_count(F.srv), 4);
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(str(line(res, i), "status"), "sent");
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line(res, i), "duplicate")));
    }
    cJSON_Delete(res);
}

Test(push_notify, devices_from_the_registry_and_invalid_tokens_leave_it)
{
    register_device("{\"userId\":\"agent-2\",\"deviceToken\":\"" IOS_TOKEN
                    "\",\"platform\":\"ios\"}");
    register_device("{\"userId\":\"agent-2\",\"deviceToken\":\"deadbeef" HEX56
                    "\",\"platform\":\"ios\"}");
    register_device("{\"userId\":\"agent-2\",\"deviceToken\":\"dead-fcm\","
                    "\"platform\":\"android\"}");
    cJSON *res = notify(event("corr-2", "assignment", "[{\"userId\":\"agent-2\"}]", NULL), NULL);
    cr_assert_eq(summary(res, "total"), 3);
    cr_assert_eq(summary(res, "sent"), 1);
    cr_assert_eq(summary(res, "failed"), 2);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "success")), "1 of 3 failed < 3");
    int invalid = 0;
    for (int i = 0; i < 3; i++) {
        const cJSON *l = line(res, i);
        if (strcmp(str(l, "status"), "failed") == 0) {
            cr_assert_str_eq(str(l, "errorCode"), "INVALID_TOKEN");
            invalid++;
        }
    }
    cr_assert_eq(invalid, 2);
    /* both refused devices are gone, with one device.invalidated event each */
    char *out = NULL;
    cr_assert_eq(omni_device_get(&out, NULL, F.engine, "ios", "deadbeef" HEX56),
                 OMNI_ENOTFOUND);
    cr_assert_eq(omni_device_get(&out, NULL, F.engine, "android", "dead-fcm"), OMNI_ENOTFOUND);
    cr_assert_eq(omni_device_get(&out, NULL, F.engine, "ios", IOS_TOKEN), OMNI_OK);
    omni_free(out);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(res, "events");
    cr_assert_eq(cJSON_GetArraySize(events), 2);
    const cJSON *ev;
    int apns = 0, fcm = 0;
    cJSON_ArrayForEach(ev, events) {
        cr_assert_str_eq(str(ev, "detailType"), "device.invalidated");
        const cJSON *detail = cJSON_GetObjectItemCaseSensitive(ev, "detail");
        cr_assert_str_eq(str(detail, "userId"), "agent-2");
        apns += strcmp(str(detail, "reason"), "Unregistered") == 0;
        fcm += strcmp(str(detail, "reason"), "UNREGISTERED") == 0;
    }
    cr_assert(apns == 1 && fcm == 1);
    cJSON_Delete(res);

    /* the next notification reaches only the device left */
    size_t before = omni_test_server_request_count(F.srv);
    res = notify(event("corr-3", "assignment", "[{\"userId\":\"agent-2\"}]", NULL), NULL);
    cr_assert_eq(summary(res, "total"), 1);
    cr_assert_eq(summary(res, "sent"), 1);
    cr_assert_eq(omni_test_server_request_count(F.srv), before + 1);
    cJSON_Delete(res);
}

Test(push_notify, preferences)
{
    const char *dev = "\"deviceTokens\":[{\"token\":\"" IOS_TOKEN "\",\"platform\":\"ios\"}]";
    char rec[4096];
    snprintf(rec, sizeof rec,
             "[{\"userId\":\"off\",%s,\"preferences\":{\"enabled\":false}},"
             "{\"userId\":\"no-reminders\",%s,\"preferences\":{\"notificationTypes\":"
             "{\"reminder\":false,\"alert\":true}}},"
             "{\"userId\":\"berlin\",%s,\"preferences\":{\"timezone\":\"Europe/Berlin\","
             "\"quietHours\":{\"start\":\"22:00\",\"end\":\"07:00\"}}},"
             "{\"userId\":\"new-york\",%s,\"preferences\":{\"quietHours\":{\"start\":\"22:00\","
             "\"end\":\"07:00\",\"timezone\":\"America/New_York\"}}},"
             "{\"userId\":\"quiet-off\",%s,\"preferences\":{\"quietHours\":{\"start\":\"00:00\","
             "\"end\":\"02:00\",\"enabled\":false}}},"
             "{\"userId\":\"web-only\",%s,\"preferences\":{\"platforms\":[\"web\"]}},"
             "{\"userId\":\"nobody\"}]",
             dev, dev, dev, dev, dev, dev);
    cJSON *res = notify(event("corr-4", "reminder", rec, NULL), NULL);
    expect_line(res, 0, "off", "all", "skipped");
    cr_assert_str_eq(str(line(res, 0), "reason"), "DISABLED");
    expect_line(res, 1, "no-reminders", "all", "skipped");
    cr_assert_str_eq(str(line(res, 1), "reason"), "OPTED_OUT");
    expect_line(res, 2, "berlin", "all", "skipped"); /* 01:00 in Berlin */
    cr_assert_str_eq(str(line(res, 2), "reason"), "QUIET_HOURS");
    cr_assert_str_eq(str(line(res, 2), "error"), "quiet hours until 07:00 Europe/Berlin");
    expect_line(res, 3, "new-york", "ios", "sent"); /* 19:00 in New York */
    expect_line(res, 4, "quiet-off", "ios", "sent");
    expect_line(res, 5, "web-only", "all", "skipped");
    cr_assert_str_eq(str(line(res, 5), "reason"), "NO_DEVICES");
    expect_line(res, 6, "nobody", "all", "skipped");
    cr_assert_str_eq(str(line(res, 6), "error"), "the user has no registered device");
    cr_assert_eq(summary(res, "total"), 7);
    cr_assert_eq(summary(res, "skipped"), 5);
    cr_assert_eq(summary(res, "sent"), 2);
    cJSON_Delete(res);

    /* critical priority goes through quiet hours, not through an opt-out */
    res = notify(event("corr-5", "reminder", rec, "{\"priority\":\"critical\"}"), NULL);
    expect_line(res, 1, "no-reminders", "all", "skipped");
    expect_line(res, 2, "berlin", "ios", "sent");
    cJSON_Delete(res);
}

Test(push_notify, retries_inline_within_the_deadline_or_by_tick)
{
    cJSON *res = notify(event("corr-6", "alert",
                              "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":\"busy-1\","
                              "\"platform\":\"android\"}]}]",
                              NULL),
                        "{\"deadlineMs\":5000}");
    expect_line(res, 0, "u", "android", "sent");
    cr_assert_eq(requests_to("/messages:send"), 2, "a 503, then the retry");
    cJSON_Delete(res);

    /* without a deadline the retry is stored: pending, then sent by tick */
    F.seen_busy = 0;
    res = notify(event("corr-7", "alert",
                       "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":\"busy-2\","
                       "\"platform\":\"android\"}]}]",
                       NULL),
                 NULL);
    expect_line(res, 0, "u", "android", "pending");
    cr_assert_str_eq(str(line(res, 0), "errorCode"), "PROVIDER_UNAVAILABLE");
    cr_assert_not_null(str(line(res, 0), "nextAttemptAt"));
    cr_assert_eq(summary(res, "pending"), 1);
    char *out = NULL;
    cr_assert_eq(omni_delivery_tick(&out, NULL, F.d, 1767225600000LL + 60000, 10), OMNI_OK);
    cr_assert_not_null(strstr(out, "\"sent\":1"), "%s", out);
    omni_free(out);
    cr_assert_eq(requests_to("/messages:send"), 4);
    cJSON_Delete(res);
}

Test(push_notify, expired_provider_token_is_retried_at_once)
{
    /* no deadline needed: the retry after ExpiredProviderToken is due at once */
    cJSON *res = notify(event("corr-8", "alert",
                              "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":"
                              "\"5ca1ab1e" HEX56 "\","
                              "\"platform\":\"ios\"}]}]",
                              NULL),
                        NULL);
    expect_line(res, 0, "u", "ios", "sent");
    cr_assert_eq(requests_to("/3/device/5ca1ab1e"), 2);
    cJSON_Delete(res);
}

Test(push_notify, fcm_token_refused_is_a_final_auth_failure)
{
    F.token_status = 400;
    cJSON *res = notify(event("corr-10", "alert",
                              "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":\"t1\","
                              "\"platform\":\"android\"}]}]",
                              NULL),
                        "{\"deadlineMs\":5000}");
    expect_line(res, 0, "u", "android", "failed");
    cr_assert_str_eq(str(line(res, 0), "errorCode"), "AUTH_FAILED");
    cr_assert_not_null(strstr(str(line(res, 0), "error"), "FCM access token"));
    cr_assert_eq(requests_to("/messages:send"), 0);
    cr_assert_eq(requests_to("/token"), 1, "a refused key is not asked again");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(res, "success")));
    cJSON_Delete(res);
    /* it is a dead letter with its reason */
    char *out = NULL;
    cr_assert_eq(omni_delivery_dlq_list(&out, NULL, F.d, NULL, 0), OMNI_OK);
    cr_assert_not_null(strstr(out, "AUTH_FAILED"), "%s", out);
    omni_free(out);
}

Test(push_notify, web_devices_need_a_subscription)
{
    const char *ev = event("corr-11", "alert",
                           "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":"
                           "\"https://push.example.net/sub/1\",\"platform\":\"web\"}]}]",
                           NULL);
    char *out = NULL;
    cr_assert_eq(omni_push_notify(&out, NULL, F.d, ev, strlen(ev), NULL, 0), OMNI_EINVAL);
    cr_assert_not_null(strstr(omni_error_last_message(),
                              "recipients[0].deviceTokens[0].subscription is required"),
                       "%s", omni_error_last_message());
    cr_assert_null(out);
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
}

Test(push_notify, malformed_events_send_nothing)
{
    static const struct {
        const char *event, *message;
    } cases[] = {
        {"[]", "the event must be a JSON object"},
        {"{\"notificationType\":\"alert\"}", "correlationId"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"ping\"}", "notificationType"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":[]}",
         "recipients must be an array of 1 to 1000"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":[{}]}",
         "payload"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":[{}],"
         "\"payload\":{}}",
         "recipients[0].userId"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"preferences\":{\"quietHours\":{\"start\":\"25:00\",\"end\":"
         "\"07:00\"}}}],\"payload\":{}}",
         "recipients[0].preferences.quietHours.start"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"preferences\":{\"timezone\":\"Mars/Olympus\",\"quietHours\":"
         "{\"start\":\"00:00\",\"end\":\"23:59\"}}}],\"payload\":{}}",
         "no time zone Mars/Olympus"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"preferences\":{\"mute\":true}}],\"payload\":{}}",
         "recipients[0].preferences.mute"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"preferences\":{\"notificationTypes\":{\"chat\":false}}}],"
         "\"payload\":{}}",
         "notificationTypes.chat"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"preferences\":{\"platforms\":[\"tv\"]}}],\"payload\":{}}",
         "platforms"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"deviceTokens\":{}}],\"payload\":{}}",
         "recipients[0].deviceTokens must be an array"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"deviceTokens\":[{\"token\":\"x\",\"platform\":\"tv\"}]}],"
         "\"payload\":{}}",
         "recipients[0].deviceTokens[0].platform"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"deviceTokens\":[{\"token\":\"\",\"platform\":\"ios\"}]}],"
         "\"payload\":{}}",
         "recipients[0].deviceTokens[0].token"},
        /* a valid first recipient is not sent when a later one is malformed */
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":["
         "{\"userId\":\"a\",\"deviceTokens\":[{\"token\":\"abcd" HEX56
         "0000\",\"platform\":\"ios\"}]},"
         "{\"userId\":7}],\"payload\":{\"title\":\"t\",\"body\":\"b\"}}",
         "recipients[1].userId"},
        {"{\"correlationId\":\"c\",\"notificationType\":\"alert\",\"recipients\":[{\"userId\":"
         "\"a\"}],\"payload\":{},\"options\":[]}",
         "options must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        int rc = omni_push_notify(&out, NULL, F.d, cases[i].event, strlen(cases[i].event), NULL,
                                  0);
        cr_assert_eq(rc, OMNI_EINVAL, "case %zu: %d %s", i, rc, omni_error_last_message());
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].message),
                           "case %zu: %s", i, omni_error_last_message());
        cr_assert_null(out);
    }
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    char *out = NULL;
    cr_assert_eq(omni_push_notify(&out, NULL, F.d, "{", 1, NULL, 0), OMNI_EJSON);
    cr_assert_eq(omni_push_notify(NULL, NULL, F.d, "{}", 2, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_push_notify(&out, NULL, NULL, "{}", 2, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_push_notify(&out, NULL, F.d, "{}", OMNI_PUSH_MAX_EVENT + 1, NULL, 0),
                 OMNI_ETOOLARGE);
    const char *ok = event("c", "alert", "[{\"userId\":\"a\"}]", NULL);
    cr_assert_eq(omni_push_notify(&out, NULL, F.d, ok, strlen(ok), "{\"deadline\":1}", 14),
                 OMNI_EINVAL);
    cr_assert_eq(omni_push_notify(&out, NULL, F.d, ok, strlen(ok), "{\"deadlineMs\":-1}", 17),
                 OMNI_EINVAL);
    omni_push_batch *b = NULL;
    cr_assert_eq(omni_push_notify_begin(&b, F.d, ok, strlen(ok), -1), OMNI_EINVAL);
    cr_assert_eq(omni_push_batch_result(NULL, &out, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_push_batch_count(NULL), 0);
    cr_assert_null(omni_push_batch_job(NULL, 0));
}

/* The batch API: the host drives the jobs itself. */
Test(push_notify, batch_driven_by_the_host)
{
    const char *ev = event("corr-12", "new_message",
                           "[{\"userId\":\"a\",\"deviceTokens\":[{\"token\":\"abcd01" HEX56 "00\","
                           "\"platform\":\"ios\"},{\"token\":\"abcd02" HEX56
                           "00\",\"platform\":\"ios\"}]},"
                           "{\"userId\":\"b\",\"preferences\":{\"enabled\":false}}]",
                           NULL);
    omni_push_batch *b = NULL;
    cr_assert_eq(omni_push_notify_begin(&b, F.d, ev, strlen(ev), 1767225600000LL), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(omni_push_batch_count(b), 3);
    cr_assert_null(omni_push_batch_job(b, 2), "a skip has no job");
    cr_assert_null(omni_push_batch_job(b, 3));
    /* nothing is stored or sent before the jobs run */
    char *out = NULL;
    cr_assert_eq(omni_push_batch_result(b, &out, NULL), OMNI_OK);
    cr_assert_not_null(strstr(out, "\"pending\":2"), "%s", out);
    omni_free(out);
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(omni_delivery_run(omni_push_batch_job(b, i), 0), OMNI_OK);
    cr_assert_eq(omni_push_batch_result(b, &out, NULL), OMNI_OK);
    cJSON *res = cJSON_Parse(out);
    omni_free(out);
    cr_assert_eq(summary(res, "sent"), 2);
    cr_assert_eq(summary(res, "skipped"), 1);
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    cJSON_Delete(res);
    omni_push_batch_free(b);
    cr_assert_eq(omni_delivery_run(NULL, 0), OMNI_EINVAL);
}

/* Without push attached to the engine, push carriers are not configured. */
Test(push_notify, push_not_attached)
{
    stop(); /* the suite's fixture, again without push */
    start_with(0);
    cJSON *res = notify(event("corr-13", "alert",
                              "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":"
                              "\"abcd" HEX56 "0000\","
                              "\"platform\":\"ios\"}]}]",
                              NULL),
                        NULL);
    expect_line(res, 0, "u", "ios", "failed");
    cr_assert_str_eq(str(line(res, 0), "errorCode"), "PROVIDER_NOT_CONFIGURED");
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    cJSON_Delete(res);
    cr_assert_eq(omni_delivery_set_push(NULL, NULL), OMNI_EINVAL);
    cr_assert_null(omni_delivery_engine(NULL));
    cr_assert_eq(omni_delivery_engine(F.d), F.engine);
}

/* Push carriers through the delivery engine directly, and its config rules. */
Test(push_notify, delivery_events_and_config)
{
    const char *ev = "{\"correlationId\":\"c\",\"recipient\":{\"channelIdentifier\":\"abcd\","
                     "\"carrier\":\"apns\"}}";
    omni_delivery_job *job = NULL;
    cr_assert_eq(omni_delivery_publish(&job, F.d, ev, strlen(ev), NULL, 0, 0), OMNI_EINVAL);
    cr_assert_not_null(strstr(omni_error_last_message(), "push must be an object"));
    omni_delivery *d2 = NULL;
    const char *bad[] = {"{\"fallback\":{\"apns\":[\"fcm\"]}}",
                         "{\"fallback\":{\"twilio\":[\"apns\"]}}",
                         "{\"fallback\":{\"twilio\":\"webpush\"}}"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(omni_delivery_new(&d2, F.engine, F.ob, bad[i], strlen(bad[i])),
                     OMNI_ECONFIG, "%s", bad[i]);
        cr_assert_not_null(strstr(omni_error_last_message(), "push"), "%s",
                           omni_error_last_message());
    }
    const char *ok = "{\"rateLimits\":{\"apns\":{\"perSecond\":1000,\"burst\":100}},"
                     "\"circuitBreaker\":{\"failureThreshold\":3}}";
    cr_assert_eq(omni_delivery_new(&d2, F.engine, F.ob, ok, strlen(ok)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_delivery_free(d2);
}

/* ---- through the asynchronous transport (omni/async.h, own loop) ---------------------- */

typedef struct async_result {
    int calls, status;
    cJSON *res;
} async_result;

static void notified(void *user, const char *json, size_t len, int status)
{
    async_result *r = user;
    r->calls++;
    r->status = status;
    r->res = json ? cJSON_ParseWithLength(json, len) : NULL;
}

Test(push_notify, async_fan_out_with_one_token_exchange)
{
    omni_async *a = NULL;
    cr_assert_eq(omni_async_new(&a, NULL, "{\"maxConcurrent\":8}", 19), OMNI_OK, "%s",
                 omni_error_last_message());
    char rec[16384];
    size_t n = (size_t)snprintf(rec, sizeof rec, "[{\"userId\":\"crowd\",\"deviceTokens\":[");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(rec + n, sizeof rec - n,
                              "%s{\"token\":\"%s%02d\",\"platform\":\"%s\"}", i ? "," : "",
                              i % 2 ? "fcm-" : "abcd" HEX56 "00", i, i % 2 ? "android" : "ios");
    snprintf(rec + n, sizeof rec - n, "]}]");
    async_result r = {0};
    const char *ev = event("corr-async", "alert", rec, NULL);
    cr_assert_eq(omni_push_notify_async(a, F.d, ev, strlen(ev), notified, &r), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(r.calls, 0, "the sends are in flight");
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.calls, 1);
    cr_assert_eq(r.status, OMNI_OK);
    cr_assert_eq(summary(r.res, "sent"), 40, "%s", cJSON_PrintUnformatted(r.res));
    cr_assert_eq(requests_to("/token"), 1, "one token exchange for 20 FCM devices");
    cr_assert_eq(requests_to("/3/device/"), 20);
    cr_assert_eq(requests_to("/messages:send"), 20);
    cJSON_Delete(r.res);

    /* a duplicate batch needs no request: the callback runs at once */
    memset(&r, 0, sizeof r);
    cr_assert_eq(omni_push_notify_async(a, F.d, ev, strlen(ev), notified, &r), OMNI_OK);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.calls, 1);
    cr_assert_eq(summary(r.res, "sent"), 40);
    cr_assert_eq(omni_test_server_request_count(F.srv), 41);
    cJSON_Delete(r.res);

    /* a retry is left pending for tick; errors */
    memset(&r, 0, sizeof r);
    ev = event("corr-async-2", "alert",
               "[{\"userId\":\"u\",\"deviceTokens\":[{\"token\":\"busy-a\","
               "\"platform\":\"android\"}]}]",
               NULL);
    cr_assert_eq(omni_push_notify_async(a, F.d, ev, strlen(ev), notified, &r), OMNI_OK);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    expect_line(r.res, 0, "u", "android", "pending");
    cJSON_Delete(r.res);
    cr_assert_eq(omni_push_notify_async(NULL, F.d, ev, strlen(ev), notified, &r), OMNI_EINVAL);
    cr_assert_eq(omni_push_notify_async(a, F.d, "{", 1, notified, &r), OMNI_EJSON);
    cr_assert_eq(omni_delivery_run_async(NULL, a, NULL, NULL), OMNI_EINVAL);
    omni_async_free(a);
}

/* A closed transport: the claimed attempt fails as a transport error (retried later). */
static void job_finished(void *user, omni_delivery_job *job, int status)
{
    (void)job;
    *(int *)user = status + 1000;
}

Test(push_notify, async_job_on_a_closed_transport)
{
    omni_async *a = NULL;
    cr_assert_eq(omni_async_new(&a, NULL, NULL, 0), OMNI_OK);
    omni_async_close(a, NULL, NULL);
    const char *ev = "{\"correlationId\":\"cj\",\"recipient\":{\"channelIdentifier\":\"abcd" HEX56
                     "0000\",\"carrier\":\"apns\"},\"push\":{\"platform\":\"ios\",\"token\":"
                     "\"abcd" HEX56 "0000\",\"payload\":{\"title\":\"t\",\"body\":\"b\"}}}";
    omni_delivery_job *job = NULL;
    cr_assert_eq(omni_delivery_publish(&job, F.d, ev, strlen(ev), NULL, 0, 1767225600000LL),
                 OMNI_OK, "%s", omni_error_last_message());
    int done = 0;
    cr_assert_eq(omni_delivery_run_async(job, a, job_finished, &done), OMNI_OK);
    cr_assert_eq(done, 1000, "finished at once, with OMNI_OK");
    char *out = NULL;
    cr_assert_eq(omni_delivery_job_result(job, &out, NULL), OMNI_OK);
    cr_assert_not_null(strstr(out, "\"status\":\"pending\""), "%s", out);
    omni_free(out);
    omni_delivery_job_free(job);
    omni_async_free(a);
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
}
