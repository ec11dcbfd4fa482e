/* The delivery engine (include/omni/delivery.h) against a real HTTP server
 * on 127.0.0.1 through the bundled curl transport: idempotency (also across
 * a new engine on the same SQLite file), inline and stored retries with
 * Retry-After, fallback, the circuit breaker shared through the store,
 * scheduling and expiry, rate limits, timeouts and resets, claims left in
 * doubt, dead letters (list, get, redrive, purge), and every error path of
 * the API. The server answers like Twilio's Messages API and SNS Publish. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "http_server.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z, the engine's frozen clock */

static const char twilio_ok[] = "{\"sid\":\"SM%04zu\",\"status\":\"queued\",\"price\":null}";
static const char sns_ok[] = "<PublishResponse><PublishResult><MessageId>sns-%04zu</MessageId>"
                             "</PublishResult></PublishResponse>";

/* Default answers: a success in the provider's format, numbered by arrival. */
static void answer(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    static __thread char body[256];
    (void)ctx;
    int sns = strstr(req->target, "/2010-04-01/") == NULL;
    snprintf(body, sizeof body, sns ? sns_ok : twilio_ok, req->index);
    act->status = sns ? 200 : 201;
    act->headers = sns ? "Content-Type: text/xml\r\n" : "Content-Type: application/json\r\n";
    act->body = body;
    act->body_len = strlen(body);
}

typedef struct fx {
    omni_test_server *srv;
    omni_engine *engine;
    omni_outbound *ob;
    omni_delivery *d;
    char db[128];
} fx;

static fx F;

static void open_engine(const char *store, unsigned timeout_ms)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"storage\":\"%s\",\"transport\":{\"type\":\"curl\",\"timeoutMs\":%u,"
             "\"connectTimeoutMs\":%u},\"clock\":{\"fixed\":\"2026-01-01T00:00:00Z\"},"
             "\"random\":{\"seed\":7}}",
             store, timeout_ms, timeout_ms);
    cr_assert_eq(omni_engine_new(&F.engine, cfg, strlen(cfg), NULL), OMNI_OK, "%s",
                 omni_error_last_message());
}

static void open_delivery(const char *delivery_cfg)
{
    char ob[1024];
    const char *url = omni_test_server_url(F.srv, "");
    snprintf(ob, sizeof ob,
             "{\"twilio\":{\"accountSid\":\"AC00000000000000000000000000000001\","
             "\"authToken\":\"tw-secret\",\"baseUrl\":\"%s\"},"
             "\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
             "\"secretAccessKey\":\"sns-secret\",\"endpoint\":\"%s\"},"
             "\"whatsapp\":{\"accessToken\":\"wa-secret\",\"phoneNumberId\":\"1234\","
             "\"baseUrl\":\"%s\"}}",
             url, url, url);
    cr_assert_eq(omni_outbound_new(&F.ob, ob, strlen(ob)), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(omni_delivery_new(&F.d, F.engine, F.ob, delivery_cfg,
                                   delivery_cfg ? strlen(delivery_cfg) : 0),
                 OMNI_OK, "%s", omni_error_last_message());
}

static void start(const char *delivery_cfg)
{
    memset(&F, 0, sizeof F);
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    open_engine("memory:", 2000);
    open_delivery(delivery_cfg);
}

static void stop(void)
{
    omni_delivery_free(F.d);
    omni_outbound_free(F.ob);
    omni_engine_free(F.engine);
    omni_test_server_stop(F.srv);
    if (F.db[0])
        unlink(F.db);
}

static char *event(const char *corr, const char *carrier, const char *extra)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"correlationId\":\"%s\",\"messageType\":\"reply\","
             "\"recipient\":{\"customerId\":\"c1\",\"channelIdentifier\":\"+14155550100\","
             "\"carrier\":\"%s\",\"channel\":\"sms\"},"
             "\"message\":{\"content\":\"Hello\",\"contentType\":\"text\"},"
             "\"routing\":{\"accountId\":\"acc-1\",\"conversationId\":\"conv-1\","
             "\"fromNumber\":\"+14155550199\"}%s}",
             corr, carrier, extra ? extra : "");
    return buf;
}

/* Sends one message; returns the parsed result. */
static cJSON *send_msg(const char *ev, const char *opts)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_delivery_send(&out, &n, F.d, ev, strlen(ev), opts, opts ? strlen(opts) : 0);
    cr_assert_eq(rc, OMNI_OK, "send: %s", omni_error_last_message());
    cJSON *j = cJSON_ParseWithLength(out, n);
    cr_assert_not_null(j, "%s", out);
    omni_free(out);
    return j;
}

static cJSON *tick(int64_t now)
{
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_delivery_tick(&out, &n, F.d, now, 100), OMNI_OK, "%s",
                 omni_error_last_message());
    cJSON *j = cJSON_ParseWithLength(out, n);
    omni_free(out);
    return j;
}

static const char *str(const cJSON *j, const char *a, const char *b)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        it = cJSON_GetObjectItemCaseSensitive(it, b);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double num(const cJSON *j, const char *a, const char *b)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, a);
    if (b)
        it = cJSON_GetObjectItemCaseSensitive(it, b);
    return cJSON_IsNumber(it) ? it->valuedouble : -1;
}

static cJSON *stored(const char *id)
{
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_delivery_get(&out, &n, F.d, id), OMNI_OK, "%s", omni_error_last_message());
    cJSON *j = cJSON_ParseWithLength(out, n);
    omni_free(out);
    return j;
}

static void push(int status, const char *headers, const char *body)
{
    cr_assert_eq(omni_test_server_respond(F.srv, status, headers, body, strlen(body)), 0);
}

#define JSON_H "Content-Type: application/json\r\n"

/* ---- sending ------------------------------------------------------------------------------ */

Test(delivery, sends_once_and_returns_the_publish_outbound_result)
{
    start("{\"webhookUrl\":\"https://hooks.example.com/s/{carrier}/{messageId}\"}");
    cJSON *r = send_msg(event("corr-1", "twilio", NULL), NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")));
    cr_assert_str_eq(str(r, "correlationId", NULL), "corr-1");
    cr_assert_str_eq(str(r, "delivery", "status"), "queued");
    cr_assert_str_eq(str(r, "delivery", "carrier"), "twilio");
    cr_assert_str_eq(str(r, "delivery", "carrierMessageId"), "SM0000");
    cr_assert_str_eq(str(r, "delivery", "timestamp"), "2026-01-01T00:00:00.000Z");
    cr_assert_eq(num(r, "delivery", "attempts"), 1);
    const char *id = str(r, "delivery", "messageId");
    cr_assert_eq(strlen(id), 36);
    cr_assert_eq(id[14], '8', "a version 8 UUID: %s", id);
    cr_assert_str_eq(str(r, "tracking", "trackingId"), id);
    char url[128];
    snprintf(url, sizeof url, "https://hooks.example.com/s/twilio/%s", id);
    cr_assert_str_eq(str(r, "tracking", "webhookUrl"), url);
    cr_assert_null(cJSON_GetObjectItem(r, "error"));
    cr_assert_eq(omni_test_server_request_count(F.srv), 1);
    const omni_test_request *q = omni_test_server_request(F.srv, 0);
    cr_assert_str_eq(q->method, "POST");
    cr_assert_str_eq(q->target,
                     "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json");
    cr_assert_not_null(strstr((const char *)q->body, "Body=Hello"));
    /* the attempt history */
    cJSON *rec = stored(id);
    cr_assert_str_eq(str(rec, "state", NULL), "delivered");
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "attempts"), 0);
    cr_assert_str_eq(str(a, "outcome", NULL), "accepted");
    cr_assert_eq(num(a, "httpStatus", NULL), 201);
    char *text = cJSON_PrintUnformatted(rec);
    cr_assert_null(strstr(text, "tw-secret"), "no secret in the stored record");
    free(text);
    cJSON_Delete(rec);
    cJSON_Delete(r);
    stop();
}

Test(delivery, a_repeated_publish_never_sends_twice)
{
    start(NULL);
    cJSON *a = send_msg(event("corr-2", "twilio", NULL), NULL);
    cJSON *b = send_msg(event("corr-2", "twilio", NULL), NULL);
    cr_assert_null(cJSON_GetObjectItem(a, "duplicate"));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(b, "duplicate")));
    cr_assert_str_eq(str(a, "delivery", "messageId"), str(b, "delivery", "messageId"));
    cr_assert_str_eq(str(b, "delivery", "carrierMessageId"), "SM0000");
    /* the host's own key */
    cJSON *c = send_msg(event("corr-3", "twilio", NULL), "{\"idempotencyKey\":\"k-1\"}");
    cJSON *d = send_msg(event("corr-4", "twilio", NULL), "{\"idempotencyKey\":\"k-1\"}");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "duplicate")));
    cr_assert_str_eq(str(d, "correlationId", NULL), "corr-3");
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
    stop();
}

Test(delivery, two_publishes_of_one_message_at_once_send_it_once)
{
    start(NULL);
    const char *ev = event("corr-race", "twilio", NULL);
    omni_delivery_job *a, *b;
    cr_assert_eq(omni_delivery_publish(&a, F.d, ev, strlen(ev), NULL, 0, T0), OMNI_OK);
    cr_assert_eq(omni_delivery_publish(&b, F.d, ev, strlen(ev), NULL, 0, T0), OMNI_OK);
    /* nothing is stored before the first next */
    char *out;
    cr_assert_eq(omni_delivery_get(&out, NULL, F.d, "x"), OMNI_ENOTFOUND);
    int action;
    const omni_http_request *req;
    cr_assert_eq(omni_delivery_next(a, T0, &action, &req, NULL), OMNI_OK);
    cr_assert_eq(action, OMNI_DELIVERY_SEND);
    int64_t until = 0;
    cr_assert_eq(omni_delivery_next(b, T0, &action, NULL, &until), OMNI_OK);
    cr_assert_eq(action, OMNI_DELIVERY_WAIT, "the other one holds the send");
    cr_assert_eq(until, T0 + 60000);
    cr_assert_eq(omni_delivery_job_result(b, &out, NULL), OMNI_OK);
    cr_assert_not_null(strstr(out, "\"duplicate\":true"), "%s", out);
    cr_assert_not_null(strstr(out, "\"status\":\"sending\""), "%s", out);
    omni_free(out);
    omni_delivery_job_free(a);
    omni_delivery_job_free(b);
    stop();
}

Test(delivery, idempotency_survives_a_new_process_on_the_same_sqlite_file)
{
    memset(&F, 0, sizeof F);
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    snprintf(F.db, sizeof F.db, "/tmp/omni-delivery-%d.db", (int)getpid());
    unlink(F.db);
    char uri[160];
    snprintf(uri, sizeof uri, "sqlite:%s", F.db);
    open_engine(uri, 2000);
    open_delivery(NULL);
    cJSON *a = send_msg(event("corr-5", "twilio", NULL), NULL);
    omni_delivery_free(F.d);
    omni_outbound_free(F.ob);
    omni_engine_free(F.engine);
    open_engine(uri, 2000); /* "restarted" */
    open_delivery(NULL);
    cJSON *b = send_msg(event("corr-5", "twilio", NULL), NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(b, "duplicate")));
    cr_assert_str_eq(str(b, "delivery", "carrierMessageId"), "SM0000");
    cr_assert_eq(omni_test_server_request_count(F.srv), 1);
    cJSON_Delete(a);
    cJSON_Delete(b);
    unlink(F.db);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", F.db);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", F.db);
    unlink(wal);
    stop();
}

/* ---- retries ------------------------------------------------------------------------------ */

Test(delivery, retries_inline_within_the_deadline)
{
    start("{\"retryPolicy\":{\"maxRetries\":3,\"initialBackoff\":5,\"maxBackoff\":20}}");
    push(503, JSON_H, "{\"code\":20503,\"message\":\"Service unavailable\",\"status\":503}");
    push(500, NULL, "oops");
    cJSON *r = send_msg(event("corr-6", "twilio", NULL), "{\"deadlineMs\":5000}");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")), "%s", cJSON_PrintUnformatted(r));
    cr_assert_eq(num(r, "delivery", "attempts"), 3);
    cr_assert_eq(omni_test_server_request_count(F.srv), 3);
    cJSON *rec = stored(str(r, "delivery", "messageId"));
    cJSON *att = cJSON_GetObjectItem(rec, "attempts");
    cr_assert_str_eq(str(cJSON_GetArrayItem(att, 0), "outcome", NULL), "retry");
    cr_assert_str_eq(str(cJSON_GetArrayItem(att, 0), "error", "code"), "PROVIDER_UNAVAILABLE");
    cr_assert_eq(num(cJSON_GetArrayItem(att, 1), "httpStatus", NULL), 500);
    cr_assert_str_eq(str(cJSON_GetArrayItem(att, 2), "outcome", NULL), "accepted");
    cJSON_Delete(rec);
    cJSON_Delete(r);
    stop();
}

Test(delivery, retry_after_is_honoured_and_tick_sends_the_stored_retry)
{
    start("{\"retryPolicy\":{\"initialBackoff\":10,\"maxBackoff\":10}}");
    push(429, "Retry-After: 30\r\n" JSON_H,
         "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}");
    cJSON *r = send_msg(event("corr-7", "twilio", NULL), NULL);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "success")));
    cr_assert_str_eq(str(r, "delivery", "status"), "pending");
    cr_assert_str_eq(str(r, "delivery", "nextAttemptAt"), "2026-01-01T00:00:30.000Z");
    cr_assert_str_eq(str(r, "error", "code"), "RATE_LIMITED");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "retryable")));
    cJSON *t = tick(T0 + 29999);
    cr_assert_eq(num(t, "processed", NULL), 0);
    cr_assert_str_eq(str(t, "nextDueAt", NULL), "2026-01-01T00:00:30.000Z");
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 1);
    t = tick(T0 + 30000);
    cr_assert_eq(num(t, "processed", NULL), 1);
    cr_assert_eq(num(t, "sent", NULL), 1);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(t, "nextDueAt")));
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    cJSON *rec = stored(str(r, "delivery", "messageId"));
    cr_assert_str_eq(str(rec, "state", NULL), "delivered");
    cJSON_Delete(rec);
    cJSON_Delete(r);
    stop();
}

Test(delivery, backoff_is_full_jitter_capped_by_max_backoff)
{
    start("{\"retryPolicy\":{\"maxRetries\":5,\"initialBackoff\":1000,\"backoffMultiplier\":3,"
          "\"maxBackoff\":5000}}");
    int64_t now = T0;
    cJSON *r = NULL;
    for (int i = 0; i < 5; i++)
        push(503, NULL, "busy");
    r = send_msg(event("corr-8", "twilio", NULL), NULL);
    const char *id = str(r, "delivery", "messageId");
    char idc[40];
    snprintf(idc, sizeof idc, "%s", id);
    cJSON_Delete(r);
    int64_t caps[] = {1000, 3000, 5000, 5000};
    for (int i = 0; i < 4; i++) {
        cJSON *rec = stored(idc);
        int64_t next = (int64_t)num(rec, "nextAttemptAt", NULL);
        cr_assert(next >= now && next <= now + caps[i], "retry %d: %lld after %lld", i + 1,
                  (long long)(next - now), (long long)now);
        cJSON_Delete(rec);
        now = next;
        cJSON *t = tick(now);
        cr_assert_eq(num(t, "processed", NULL), 1);
        cJSON_Delete(t);
    }
    cJSON *rec = stored(idc);
    cr_assert_eq(num(rec, "retry", NULL), 5);
    cJSON_Delete(rec);
    stop();
}

Test(delivery, retries_exhausted_become_a_dead_letter)
{
    start("{\"retryPolicy\":{\"maxRetries\":1,\"initialBackoff\":1,\"maxBackoff\":1}}");
    push(503, NULL, "busy");
    push(502, NULL, "bad gateway");
    cJSON *r = send_msg(event("corr-9", "twilio", NULL), "{\"deadlineMs\":2000}");
    cr_assert_str_eq(str(r, "delivery", "status"), "failed");
    cr_assert_str_eq(str(r, "error", "code"), "RETRIES_EXHAUSTED");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "retryable")));
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_delivery_dlq_get(&out, &n, F.d, str(r, "delivery", "messageId")), OMNI_OK);
    cJSON *dl = cJSON_ParseWithLength(out, n);
    omni_free(out);
    cr_assert_str_eq(str(dl, "reason", "code"), "RETRIES_EXHAUSTED");
    cr_assert_str_eq(str(dl, "correlationId", NULL), "corr-9");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(dl, "attempts")), 2);
    cr_assert_not_null(cJSON_GetObjectItem(dl, "event"));
    cr_assert_not_null(str(dl, "deadAt", NULL));
    cJSON_Delete(dl);
    cJSON_Delete(r);
    stop();
}

Test(delivery, a_non_retryable_error_is_dead_lettered_without_fallback)
{
    start("{\"fallback\":{\"twilio\":\"aws-sns\"}}");
    push(400, JSON_H, "{\"code\":21211,\"message\":\"Invalid 'To' Phone Number\",\"status\":400}");
    cJSON *r = send_msg(event("corr-10", "twilio", NULL), NULL);
    cr_assert_str_eq(str(r, "delivery", "status"), "failed");
    cr_assert_str_eq(str(r, "error", "code"), "INVALID_RECIPIENT");
    cr_assert_eq(omni_test_server_request_count(F.srv), 1, "no fallback for a bad number");
    cJSON_Delete(r);
    stop();
}

Test(delivery, falls_back_to_the_next_provider_on_a_provider_error)
{
    start("{\"fallback\":{\"aws-sns\":[\"twilio\"]}}");
    push(403, "Content-Type: text/xml\r\n",
         "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
         "<Message>The request signature we calculated does not match</Message></Error>"
         "</ErrorResponse>");
    cJSON *r = send_msg(event("corr-11", "aws-sns", NULL), NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")), "%s", cJSON_PrintUnformatted(r));
    cr_assert_str_eq(str(r, "delivery", "carrier"), "twilio");
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    cr_assert_null(strstr(omni_test_server_request(F.srv, 0)->target, "/2010-04-01/"));
    cr_assert_not_null(strstr(omni_test_server_request(F.srv, 1)->target, "/2010-04-01/"));
    cJSON *rec = stored(str(r, "delivery", "messageId"));
    cJSON *att = cJSON_GetObjectItem(rec, "attempts");
    cr_assert_str_eq(str(cJSON_GetArrayItem(att, 0), "carrier", NULL), "aws-sns");
    cr_assert_str_eq(str(cJSON_GetArrayItem(att, 0), "error", "code"), "AUTH_FAILED");
    cr_assert_str_eq(str(cJSON_GetArrayItem(att, 1), "carrier", NULL), "twilio");
    cJSON_Delete(rec);
    cJSON_Delete(r);
    stop();
}

Test(delivery, exhausted_retries_fall_back_too)
{
    start("{\"retryPolicy\":{\"maxRetries\":0},\"fallback\":{\"twilio\":\"aws-sns\"}}");
    push(503, NULL, "busy");
    cJSON *r = send_msg(event("corr-12", "twilio", NULL), NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")));
    cr_assert_str_eq(str(r, "delivery", "carrier"), "aws-sns");
    cr_assert_str_eq(str(r, "delivery", "carrierMessageId"), "sns-0001");
    cJSON_Delete(r);
    stop();
}

/* ---- circuit breaker ------------------------------------------------------------------------ */

Test(delivery, the_circuit_opens_waits_out_its_cool_down_and_probes)
{
    start("{\"retryPolicy\":{\"maxRetries\":0},\"circuitBreaker\":{\"failureThreshold\":2,"
          "\"cooldownMs\":10000}}");
    push(503, NULL, "down");
    push(503, NULL, "down");
    cJSON *a = send_msg(event("corr-13", "twilio", NULL), NULL);
    cJSON *b = send_msg(event("corr-14", "twilio", NULL), NULL);
    cr_assert_str_eq(str(b, "delivery", "status"), "failed");
    cJSON_Delete(a);
    cJSON_Delete(b);
    /* open: nothing is sent; the message waits for the cool-down */
    cJSON *c = send_msg(event("corr-15", "twilio", NULL), NULL);
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    cr_assert_str_eq(str(c, "delivery", "status"), "pending");
    cr_assert_str_eq(str(c, "error", "code"), "CIRCUIT_OPEN");
    cr_assert_str_eq(str(c, "delivery", "nextAttemptAt"), "2026-01-01T00:00:10.000Z");
    /* shared through the store: another delivery object on the same engine sees it */
    omni_delivery *other;
    const char *same = "{\"retryPolicy\":{\"maxRetries\":0},\"circuitBreaker\":"
                       "{\"failureThreshold\":2,\"cooldownMs\":10000}}";
    cr_assert_eq(omni_delivery_new(&other, F.engine, F.ob, same, strlen(same)), OMNI_OK);
    char *out = NULL;
    size_t n = 0;
    const char *ev = event("corr-16", "twilio", NULL);
    cr_assert_eq(omni_delivery_send(&out, &n, other, ev, strlen(ev), NULL, 0), OMNI_OK);
    cr_assert_not_null(strstr(out, "CIRCUIT_OPEN"), "%s", out);
    omni_free(out);
    omni_delivery_free(other);
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    /* after the cool-down one probe goes out; its success closes the circuit */
    cJSON *t = tick(T0 + 10000);
    cr_assert_eq(num(t, "sent", NULL), 2, "%s", cJSON_PrintUnformatted(t));
    cr_assert_eq(omni_test_server_request_count(F.srv), 4);
    cJSON_Delete(t);
    cJSON_Delete(c);
    stop();
}

Test(delivery, an_open_circuit_sends_to_the_fallback)
{
    start("{\"retryPolicy\":{\"maxRetries\":0},\"circuitBreaker\":{\"failureThreshold\":1},"
          "\"fallback\":{\"twilio\":\"aws-sns\"}}");
    push(500, NULL, "down");
    cJSON *a = send_msg(event("corr-17", "twilio", NULL), NULL); /* twilio fails, sns sends */
    cr_assert_str_eq(str(a, "delivery", "carrier"), "aws-sns");
    cJSON *b = send_msg(event("corr-18", "twilio", NULL), NULL); /* twilio skipped */
    cr_assert_str_eq(str(b, "delivery", "carrier"), "aws-sns");
    cr_assert_eq(omni_test_server_request_count(F.srv), 3);
    cJSON *rec = stored(str(b, "delivery", "messageId"));
    cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "attempts"), 0);
    cr_assert_str_eq(str(att, "outcome", NULL), "circuit_open");
    cJSON_Delete(rec);
    cJSON_Delete(a);
    cJSON_Delete(b);
    stop();
}

/* ---- scheduling, expiry, rate limits ------------------------------------------------------- */

Test(delivery, scheduled_messages_wait_until_due)
{
    start(NULL);
    cJSON *r = send_msg(event("corr-19", "twilio", NULL),
                        "{\"scheduledAt\":\"2026-01-01T01:00:00Z\"}");
    cr_assert_str_eq(str(r, "delivery", "status"), "scheduled");
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    cJSON *t = tick(T0 + 3599999);
    cr_assert_eq(num(t, "processed", NULL), 0);
    cJSON_Delete(t);
    t = tick(T0 + 3600000);
    cr_assert_eq(num(t, "sent", NULL), 1);
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 1);
    cJSON_Delete(r);
    stop();
}

Test(delivery, expired_messages_are_never_sent_late)
{
    start("{\"retryPolicy\":{\"initialBackoff\":60000,\"maxBackoff\":60000}}");
    cJSON *r = send_msg(event("corr-20", "twilio",
                              ",\"options\":{\"scheduledAt\":\"2026-01-01T00:10:00Z\","
                              "\"expiresAt\":\"2026-01-01T00:05:00Z\"}"),
                        NULL);
    cJSON *t = tick(T0 + 600000);
    cr_assert_eq(num(t, "expired", NULL), 1);
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 0);
    cJSON *rec = stored(str(r, "delivery", "messageId"));
    cr_assert_str_eq(str(rec, "state", NULL), "expired");
    cr_assert_str_eq(str(rec, "lastError", "code"), "EXPIRED");
    cJSON_Delete(rec);
    cJSON_Delete(r);
    /* a retry that would fall after expiresAt expires at once */
    push(503, NULL, "busy");
    r = send_msg(event("corr-21", "twilio", NULL), "{\"expiresAt\":\"2026-01-01T00:00:30Z\"}");
    cr_assert_str_eq(str(r, "delivery", "status"), "expired");
    cJSON_Delete(r);
    stop();
}

Test(delivery, a_rate_limit_queues_a_burst_instead_of_earning_429s)
{
    start("{\"rateLimits\":{\"twilio\":{\"perSecond\":2,\"burst\":2}}}");
    char corr[16];
    int sent = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(corr, sizeof corr, "burst-%d", i);
        cJSON *r = send_msg(event(corr, "twilio", NULL), NULL);
        sent += cJSON_IsTrue(cJSON_GetObjectItem(r, "success"));
        cJSON_Delete(r);
    }
    cr_assert_eq(sent, 2);
    cr_assert_eq(omni_test_server_request_count(F.srv), 2);
    cJSON *t = tick(T0 + 500); /* one token refilled */
    cr_assert_eq(num(t, "sent", NULL), 1, "%s", cJSON_PrintUnformatted(t));
    cJSON_Delete(t);
    t = tick(T0 + 1500);
    cr_assert_eq(num(t, "sent", NULL), 2, "%s", cJSON_PrintUnformatted(t));
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 5);
    stop();
}

/* ---- transport failures -------------------------------------------------------------------- */

Test(delivery, a_timeout_is_retried)
{
    memset(&F, 0, sizeof F);
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    open_engine("memory:", 200);
    open_delivery("{\"retryPolicy\":{\"initialBackoff\":1,\"maxBackoff\":1}}");
    cr_assert_eq(omni_test_server_delay(F.srv, 1000, 201, "late"), 0);
    cJSON *r = send_msg(event("corr-22", "twilio", NULL), NULL);
    cr_assert_str_eq(str(r, "delivery", "status"), "pending");
    cr_assert_str_eq(str(r, "error", "code"), "TIMEOUT");
    cJSON *t = tick(T0 + 1);
    cr_assert_eq(num(t, "sent", NULL), 1);
    cJSON_Delete(t);
    cJSON_Delete(r);
    stop();
}

Test(delivery, retry_timeouts_false_dead_letters_them)
{
    memset(&F, 0, sizeof F);
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    open_engine("memory:", 200);
    open_delivery("{\"retryTimeouts\":false}");
    cr_assert_eq(omni_test_server_delay(F.srv, 1000, 201, "late"), 0);
    cJSON *r = send_msg(event("corr-23", "twilio", NULL), NULL);
    cr_assert_str_eq(str(r, "delivery", "status"), "failed");
    cr_assert_str_eq(str(r, "error", "code"), "TIMEOUT");
    cJSON_Delete(r);
    stop();
}

Test(delivery, a_reset_connection_is_retried)
{
    start("{\"retryPolicy\":{\"initialBackoff\":1,\"maxBackoff\":1}}");
    cr_assert_eq(omni_test_server_close_next(F.srv), 0);
    cJSON *r = send_msg(event("corr-24", "twilio", NULL), "{\"deadlineMs\":3000}");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")), "%s", cJSON_PrintUnformatted(r));
    cJSON *rec = stored(str(r, "delivery", "messageId"));
    cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "attempts"), 0);
    cr_assert_str_eq(str(att, "error", "code"), "TRANSPORT_ERROR");
    cJSON_Delete(rec);
    cJSON_Delete(r);
    stop();
}

Test(delivery, a_refused_connection_is_retried)
{
    start("{\"retryPolicy\":{\"initialBackoff\":1,\"maxBackoff\":1}}");
    omni_test_server_stop(F.srv); /* the port is closed now */
    F.srv = NULL;
    cr_assert_eq(omni_test_server_start(&F.srv, answer, NULL), 0);
    cJSON *r = send_msg(event("corr-25", "twilio", NULL), NULL);
    cr_assert_str_eq(str(r, "error", "code"), "CONNECTION_FAILED");
    cr_assert_str_eq(str(r, "delivery", "status"), "pending");
    cJSON_Delete(r);
    stop();
}

/* ---- claims in doubt ------------------------------------------------------------------------- */

static char *claim_and_abandon(const char *corr)
{
    omni_delivery_job *job;
    const char *ev = event(corr, "twilio", NULL);
    cr_assert_eq(omni_delivery_publish(&job, F.d, ev, strlen(ev), NULL, 0, T0), OMNI_OK);
    int action;
    const omni_http_request *req;
    cr_assert_eq(omni_delivery_next(job, T0, &action, &req, NULL), OMNI_OK);
    cr_assert_eq(action, OMNI_DELIVERY_SEND);
    /* a second process cannot take the claimed send */
    omni_delivery_job *other;
    char *result;
    cr_assert_eq(omni_delivery_job_result(job, &result, NULL), OMNI_OK);
    cJSON *r = cJSON_Parse(result);
    omni_free(result);
    char *id = strdup(str(r, "delivery", "messageId"));
    cJSON_Delete(r);
    cr_assert_eq(omni_delivery_resume(&other, F.d, id, T0 + 1), OMNI_OK);
    int64_t until;
    cr_assert_eq(omni_delivery_next(other, T0 + 1, &action, NULL, &until), OMNI_OK);
    cr_assert_eq(action, OMNI_DELIVERY_WAIT);
    cr_assert_eq(until, T0 + 60000);
    omni_delivery_job_free(other);
    omni_delivery_job_free(job); /* the process "dies" holding the claim */
    return id;
}

Test(delivery, a_claim_whose_process_died_is_dead_lettered_in_doubt)
{
    start(NULL);
    char *id = claim_and_abandon("corr-26");
    cJSON *t = tick(T0 + 59999);
    cr_assert_eq(num(t, "processed", NULL), 0);
    cJSON_Delete(t);
    t = tick(T0 + 60000);
    cr_assert_eq(num(t, "inDoubt", NULL), 1);
    cr_assert_eq(num(t, "deadLettered", NULL), 1);
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 0, "never sent again");
    cJSON *rec = stored(id);
    cr_assert_str_eq(str(rec, "lastError", "code"), "IN_DOUBT");
    cr_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItem(rec, "attempts"), 0), "outcome",
                         NULL),
                     "in_doubt");
    cJSON_Delete(rec);
    free(id);
    stop();
}

Test(delivery, in_doubt_retry_sends_it_again)
{
    start("{\"inDoubt\":\"retry\",\"retryPolicy\":{\"initialBackoff\":1,\"maxBackoff\":1}}");
    char *id = claim_and_abandon("corr-27");
    cJSON *t = tick(T0 + 60000);
    cr_assert_eq(num(t, "inDoubt", NULL), 1);
    cJSON_Delete(t);
    t = tick(T0 + 60001);
    cr_assert_eq(num(t, "sent", NULL), 1, "%s", cJSON_PrintUnformatted(t));
    cJSON_Delete(t);
    cr_assert_eq(omni_test_server_request_count(F.srv), 1);
    free(id);
    stop();
}

Test(delivery, a_late_answer_resolves_an_in_doubt_dead_letter)
{
    start(NULL);
    omni_delivery_job *job;
    const char *ev = event("corr-28", "twilio", NULL);
    cr_assert_eq(omni_delivery_publish(&job, F.d, ev, strlen(ev), NULL, 0, T0), OMNI_OK);
    int action;
    const omni_http_request *req;
    cr_assert_eq(omni_delivery_next(job, T0, &action, &req, NULL), OMNI_OK);
    cJSON *t = tick(T0 + 60000); /* another process gives up on the claim */
    cr_assert_eq(num(t, "deadLettered", NULL), 1);
    cJSON_Delete(t);
    omni_http_response *resp;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(resp, 201), OMNI_OK);
    const char *body = "{\"sid\":\"SMlate\",\"status\":\"queued\"}";
    cr_assert_eq(omni_http_response_set_body(resp, body, strlen(body)), OMNI_OK);
    cr_assert_eq(omni_delivery_feed(job, resp, OMNI_OK, T0 + 60001), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_http_response_free(resp);
    char *out;
    cr_assert_eq(omni_delivery_job_result(job, &out, NULL), OMNI_OK);
    cJSON *r = cJSON_Parse(out);
    omni_free(out);
    cr_assert_str_eq(str(r, "delivery", "carrierMessageId"), "SMlate");
    cr_assert_eq(omni_delivery_dlq_get(&out, NULL, F.d, str(r, "delivery", "messageId")),
                 OMNI_ENOTFOUND);
    cJSON_Delete(r);
    omni_delivery_job_free(job);
    stop();
}

/* ---- dead letters ------------------------------------------------------------------------------ */

Test(delivery, dead_letters_list_redrive_and_purge)
{
    start(NULL);
    push(401, JSON_H, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}");
    push(401, JSON_H, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}");
    push(401, JSON_H, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}");
    char ids[3][40];
    for (int i = 0; i < 3; i++) {
        char corr[16];
        snprintf(corr, sizeof corr, "dl-%d", i);
        cJSON *r = send_msg(event(corr, "twilio", NULL), NULL);
        cr_assert_str_eq(str(r, "error", "code"), "AUTH_FAILED");
        snprintf(ids[i], sizeof ids[i], "%s", str(r, "delivery", "messageId"));
        cJSON_Delete(r);
    }
    char *out;
    size_t n;
    cr_assert_eq(omni_delivery_dlq_list(&out, &n, F.d, "{\"limit\":2}", 11), OMNI_OK);
    cJSON *page = cJSON_ParseWithLength(out, n);
    omni_free(out);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 2);
    const char *next = str(page, "next", NULL);
    cr_assert_not_null(next);
    char q[96];
    snprintf(q, sizeof q, "{\"cursor\":\"%s\"}", next);
    cJSON_Delete(page);
    cr_assert_eq(omni_delivery_dlq_list(&out, &n, F.d, q, strlen(q)), OMNI_OK);
    page = cJSON_ParseWithLength(out, n);
    omni_free(out);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 1);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(page, "next")));
    cJSON_Delete(page);
    /* redrive: due now, sent by the next tick, no longer a dead letter */
    cr_assert_eq(omni_delivery_dlq_redrive(&out, &n, F.d, ids[0]), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_not_null(strstr(out, "\"status\":\"pending\""), "%s", out);
    omni_free(out);
    cr_assert_eq(omni_delivery_dlq_get(&out, &n, F.d, ids[0]), OMNI_ENOTFOUND);
    cr_assert_eq(omni_delivery_dlq_redrive(&out, &n, F.d, ids[0]), OMNI_ENOTFOUND);
    cJSON *t = tick(T0);
    cr_assert_eq(num(t, "sent", NULL), 1);
    cJSON_Delete(t);
    cJSON *rec = stored(ids[0]);
    cr_assert_str_eq(str(rec, "state", NULL), "delivered");
    cr_assert_eq(num(rec, "redrives", NULL), 1);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(rec, "attempts")), 2, "history kept");
    cJSON_Delete(rec);
    /* purge one, then all */
    size_t count = 0;
    cr_assert_eq(omni_delivery_dlq_purge(F.d, ids[1], &count), OMNI_OK);
    cr_assert_eq(count, 1);
    cr_assert_eq(omni_delivery_dlq_purge(F.d, ids[1], &count), OMNI_ENOTFOUND);
    cr_assert_eq(omni_delivery_dlq_purge(F.d, NULL, &count), OMNI_OK);
    cr_assert_eq(count, 1);
    cr_assert_eq(omni_delivery_dlq_list(&out, &n, F.d, NULL, 0), OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[],\"next\":null}");
    omni_free(out);
    stop();
}

Test(delivery, messages_the_adapter_cannot_build_are_dead_letters)
{
    start(NULL);
    cJSON *r = send_msg(
        "{\"correlationId\":\"wa-1\",\"recipient\":{\"channelIdentifier\":\"+14155550100\","
        "\"carrier\":\"whatsapp\",\"channel\":\"whatsapp\"},\"message\":{\"content\":\"hi\","
        "\"contentType\":\"text\"},\"routing\":{\"accountId\":\"a\",\"conversationId\":\"c\"},"
        "\"serviceWindow\":{\"open\":false}}",
        NULL);
    cr_assert_str_eq(str(r, "error", "code"), "WINDOW_CLOSED");
    cr_assert_str_eq(str(r, "delivery", "status"), "failed");
    cJSON_Delete(r);
    r = send_msg(event("bad-1", "twilio", "") /* fine */, NULL);
    cJSON_Delete(r);
    r = send_msg("{\"correlationId\":\"bad-2\",\"recipient\":{\"channelIdentifier\":\"+1415\","
                 "\"carrier\":\"twilio\"},\"message\":{\"contentType\":\"media\"},"
                 "\"routing\":{\"fromNumber\":\"+14155550199\"}}",
                 NULL);
    cr_assert_str_eq(str(r, "error", "code"), "INVALID_REQUEST");
    cJSON_Delete(r);
    cr_assert_eq(omni_test_server_request_count(F.srv), 1);
    stop();
}

Test(delivery, an_unconfigured_provider_falls_back_or_dies)
{
    start("{\"fallback\":{\"sendgrid\":\"twilio\"}}");
    cJSON *r = send_msg(event("nc-1", "sendgrid", NULL), NULL);
    cr_assert_str_eq(str(r, "delivery", "carrier"), "twilio", "%s", cJSON_PrintUnformatted(r));
    cJSON_Delete(r);
    r = send_msg(event("nc-2", "bandwidth", NULL), NULL);
    cr_assert_str_eq(str(r, "error", "code"), "PROVIDER_NOT_CONFIGURED");
    cJSON_Delete(r);
    stop();
}

/* ---- API errors --------------------------------------------------------------------------------- */

static void config_error(const char *cfg, const char *path)
{
    omni_delivery *d = (omni_delivery *)1;
    cr_assert_eq(omni_delivery_new(&d, F.engine, F.ob, cfg, strlen(cfg)), OMNI_ECONFIG, "%s", cfg);
    cr_assert_null(d);
    char want[96];
    snprintf(want, sizeof want, "\"path\":\"%s\"", path);
    cr_assert_not_null(strstr(omni_error_last()->details, want), "%s: %s", cfg,
                       omni_error_last()->details);
}

Test(delivery, configuration_errors_name_the_path)
{
    start(NULL);
    config_error("{\"retries\":1}", "retries");
    config_error("{\"retryPolicy\":{\"maxRetries\":21}}", "retryPolicy.maxRetries");
    config_error("{\"retryPolicy\":{\"maxRetries\":1.5}}", "retryPolicy.maxRetries");
    config_error("{\"retryPolicy\":{\"backoffMultiplier\":0.5}}", "retryPolicy.backoffMultiplier");
    config_error("{\"retryPolicy\":{\"maxBackoff\":0}}", "retryPolicy.maxBackoff");
    config_error("{\"retryPolicy\":{\"jitter\":true}}", "retryPolicy.jitter");
    config_error("{\"retryPolicy\":[]}", "retryPolicy");
    config_error("{\"fallback\":{\"pigeon\":\"twilio\"}}", "fallback.pigeon");
    config_error("{\"fallback\":{\"twilio\":\"twilio\"}}", "fallback.twilio");
    config_error("{\"fallback\":{\"twilio\":[]}}", "fallback.twilio");
    config_error("{\"fallback\":{\"twilio\":[\"aws-sns\",\"sendgrid\",\"smtp\",\"bandwidth\"]}}",
                 "fallback.twilio");
    config_error("{\"fallback\":{\"twilio\":7}}", "fallback.twilio");
    config_error("{\"circuitBreaker\":{\"failureRate\":1.5}}", "circuitBreaker.failureRate");
    config_error("{\"circuitBreaker\":{\"open\":1}}", "circuitBreaker.open");
    config_error("{\"rateLimits\":{\"twilio\":{\"burst\":3}}}", "rateLimits.twilio");
    config_error("{\"rateLimits\":{\"twilio\":{\"perSecond\":0}}}", "rateLimits.twilio.perSecond");
    config_error("{\"leaseMs\":10}", "$.leaseMs");
    config_error("{\"inDoubt\":\"maybe\"}", "inDoubt");
    config_error("{\"retryTimeouts\":1}", "retryTimeouts");
    config_error("{\"webhookUrl\":3}", "webhookUrl");
    config_error("[]", "$");
    omni_delivery *d;
    cr_assert_eq(omni_delivery_new(&d, F.engine, F.ob, "{", 1), OMNI_EJSON);
    cr_assert_eq(omni_delivery_new(&d, NULL, F.ob, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_new(&d, F.engine, NULL, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_new(NULL, F.engine, F.ob, NULL, 0), OMNI_EINVAL);
    omni_delivery_free(NULL);
    stop();
}

static void publish_error(const char *ev, const char *opts, int want, const char *needle)
{
    omni_delivery_job *job = (omni_delivery_job *)1;
    int rc = omni_delivery_publish(&job, F.d, ev, strlen(ev), opts, opts ? strlen(opts) : 0, T0);
    cr_assert_eq(rc, want, "%s: %d %s", ev, rc, omni_error_last_message());
    cr_assert_null(job);
    cr_assert_not_null(strstr(omni_error_last_message(), needle), "%s",
                       omni_error_last_message());
}

Test(delivery, publish_errors_change_nothing)
{
    start(NULL);
    publish_error("[]", NULL, OMNI_EINVAL, "JSON object");
    publish_error("{", NULL, OMNI_EJSON, "");
    publish_error("{\"recipient\":{}}", NULL, OMNI_EINVAL, "correlationId");
    publish_error("{\"correlationId\":\"\"}", NULL, OMNI_EINVAL, "correlationId");
    publish_error("{\"correlationId\":\"a\"}", NULL, OMNI_EINVAL, "recipient");
    publish_error("{\"correlationId\":\"a\",\"recipient\":{\"carrier\":\"twilio\"}}", NULL,
                  OMNI_EINVAL, "channelIdentifier");
    publish_error("{\"correlationId\":\"a\",\"recipient\":{\"channelIdentifier\":\"x\","
                  "\"carrier\":\"pigeon\"}}",
                  NULL, OMNI_EINVAL, "recipient.carrier");
    publish_error(event("e-1", "twilio", ",\"options\":[]"), NULL, OMNI_EINVAL, "options");
    publish_error(event("e-2", "twilio", NULL), "{\"scheduledAt\":\"tomorrow\"}", OMNI_EINVAL,
                  "scheduledAt");
    publish_error(event("e-3", "twilio", NULL), "{\"expiresAt\":5}", OMNI_EINVAL, "expiresAt");
    publish_error(event("e-4", "twilio", NULL), "{\"idempotencyKey\":\"\"}", OMNI_EINVAL,
                  "idempotencyKey");
    publish_error(event("e-5", "twilio", NULL), "[1]", OMNI_EINVAL, "options");
    char *big = malloc(OMNI_OUTBOUND_MAX_EVENT + 2);
    memset(big, ' ', OMNI_OUTBOUND_MAX_EVENT + 1);
    big[OMNI_OUTBOUND_MAX_EVENT + 1] = 0;
    publish_error(big, NULL, OMNI_ETOOLARGE, "");
    free(big);
    omni_delivery_job *job;
    cr_assert_eq(omni_delivery_publish(NULL, F.d, "{}", 2, NULL, 0, T0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_publish(&job, NULL, "{}", 2, NULL, 0, T0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_publish(&job, F.d, "{}", 2, NULL, 0, -1), OMNI_EINVAL);
    char *out;
    cr_assert_eq(omni_delivery_dlq_list(&out, NULL, F.d, NULL, 0), OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[],\"next\":null}");
    omni_free(out);
    cJSON *t = tick(T0 + 86400000);
    cr_assert_eq(num(t, "processed", NULL), 0, "nothing was stored");
    cJSON_Delete(t);
    stop();
}

Test(delivery, job_api_errors)
{
    start(NULL);
    omni_delivery_job *job;
    const char *ev = event("j-1", "twilio", NULL);
    cr_assert_eq(omni_delivery_publish(&job, F.d, ev, strlen(ev), NULL, 0, T0), OMNI_OK);
    omni_http_response *resp;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_delivery_feed(job, resp, OMNI_OK, T0), OMNI_EINVAL, "no SEND yet");
    int action;
    cr_assert_eq(omni_delivery_next(NULL, T0, &action, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_next(job, T0, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_next(job, T0, &action, NULL, NULL), OMNI_OK);
    cr_assert_eq(action, OMNI_DELIVERY_SEND);
    cr_assert_eq(omni_delivery_next(job, T0, &action, NULL, NULL), OMNI_EINVAL, "not fed");
    cr_assert_eq(omni_delivery_feed(job, NULL, OMNI_OK, T0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_feed(NULL, resp, OMNI_OK, T0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_feed(job, NULL, OMNI_ECONNECT, T0), OMNI_OK);
    cr_assert_eq(omni_delivery_next(job, T0, &action, NULL, NULL), OMNI_OK);
    cr_assert_eq(action, OMNI_DELIVERY_WAIT);
    omni_http_response_free(resp);
    omni_delivery_job_free(job);
    omni_delivery_job_free(NULL);
    cr_assert_eq(omni_delivery_resume(&job, F.d, "00000000-0000-8000-8000-000000000000", T0),
                 OMNI_ENOTFOUND);
    cr_assert_eq(omni_delivery_resume(&job, F.d, "", T0), OMNI_EINVAL);
    char *out;
    cr_assert_eq(omni_delivery_get(&out, NULL, F.d, "nope"), OMNI_ENOTFOUND);
    cr_assert_eq(omni_delivery_dlq_get(&out, NULL, F.d, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_dlq_list(&out, NULL, F.d, "{\"limit\":0}", 11), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_dlq_list(&out, NULL, F.d, "{\"page\":1}", 10), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_tick(&out, NULL, F.d, T0, 0), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_tick(&out, NULL, F.d, T0, 1001), OMNI_EINVAL);
    cr_assert_eq(omni_delivery_job_result(NULL, &out, NULL), OMNI_EINVAL);
    stop();
}

Test(delivery, no_transport_is_unsupported)
{
    omni_engine *e;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, NULL), OMNI_OK);
    omni_outbound *ob;
    cr_assert_eq(omni_outbound_new(&ob, "{}", 2), OMNI_OK);
    omni_delivery *d;
    cr_assert_eq(omni_delivery_new(&d, e, ob, NULL, 0), OMNI_OK);
    char *out;
    const char *ev = "{\"correlationId\":\"x\",\"recipient\":{\"channelIdentifier\":\"+1\","
                     "\"carrier\":\"twilio\"}}";
    cr_assert_eq(omni_delivery_send(&out, NULL, d, ev, strlen(ev), NULL, 0), OMNI_EUNSUPPORTED);
    cr_assert_eq(omni_delivery_tick(&out, NULL, d, 0, 10), OMNI_EUNSUPPORTED);
    omni_delivery_free(d);
    omni_outbound_free(ob);
    omni_engine_free(e);
}

/* ---- the conversation that recorded the message ----------------------------------------- */

/* Steps an outbound message into a conversation; returns the publish event
 * that carries its messageState. */
static char *recorded_event(const char *id)
{
    char ev[1024];
    snprintf(ev, sizeof ev,
             "{\"correlationId\":\"corr-%s\",\"identity\":{\"customerId\":\"cust-1\"},"
             "\"routing\":{\"accountId\":\"acc-1\"},\"enrichedMessage\":{\"id\":\"%s\","
             "\"carrier\":\"twilio\",\"channelType\":\"sms\",\"content\":\"Hello\","
             "\"contentType\":\"text\",\"timestamp\":\"2026-01-01T00:00:00Z\"},"
             "\"direction\":\"outbound\"}",
             id, id);
    char *out = NULL;
    cr_assert_eq(omni_conversation_step(&out, NULL, F.engine, ev, strlen(ev), NULL, 0), OMNI_OK,
                 "%s", omni_error_last_message());
    cJSON *r = cJSON_Parse(out);
    omni_free(out);
    char *pub = malloc(1024);
    snprintf(pub, 1024,
             "{\"correlationId\":\"corr-%s\",\"messageType\":\"reply\","
             "\"recipient\":{\"customerId\":\"cust-1\",\"channelIdentifier\":\"+14155550100\","
             "\"carrier\":\"twilio\",\"channel\":\"sms\"},"
             "\"message\":{\"content\":\"Hello\",\"contentType\":\"text\"},"
             "\"routing\":{\"accountId\":\"acc-1\",\"conversationId\":\"%s\","
             "\"fromNumber\":\"+14155550199\"},\"messageState\":{\"sequenceNumber\":%d}}",
             id, str(r, "conversation", "conversationId"),
             (int)num(r, "messageState", "sequenceNumber"));
    cJSON_Delete(r);
    return pub;
}

static cJSON *history_last(const char *conversation_id)
{
    char *out = NULL;
    cr_assert_eq(omni_conversation_history(&out, NULL, F.engine, conversation_id, NULL, 0),
                 OMNI_OK);
    cJSON *h = cJSON_Parse(out);
    omni_free(out);
    cJSON *items = cJSON_GetObjectItem(h, "items");
    cJSON *last = cJSON_DetachItemFromArray(items, cJSON_GetArraySize(items) - 1);
    cJSON_Delete(h);
    return last;
}

Test(delivery, the_conversation_learns_the_carrier_id_and_later_callbacks_find_it)
{
    start(NULL);
    char *pub = recorded_event("out-1");
    cJSON *ev = cJSON_Parse(pub);
    char conv[64];
    snprintf(conv, sizeof conv, "%s", str(ev, "routing", "conversationId"));
    cJSON_Delete(ev);
    cJSON *r = send_msg(pub, NULL);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "success")));
    cJSON *events = cJSON_GetObjectItem(r, "events");
    cr_assert_eq(cJSON_GetArraySize(events), 1, "%s", cJSON_PrintUnformatted(r));
    cJSON *m = history_last(conv);
    cr_assert_str_eq(str(m, "carrierMessageId", NULL), "SM0000");
    cr_assert_str_eq(str(m, "deliveryStatus", NULL), "queued");
    cJSON_Delete(m);
    /* the carrier's status callback names its own id */
    const char *cb = "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM0000\","
                     "\"status\":\"delivered\"}";
    char *out = NULL;
    cr_assert_eq(omni_conversation_delivery(&out, NULL, F.engine, cb, strlen(cb)), OMNI_OK);
    omni_free(out);
    m = history_last(conv);
    cr_assert_str_eq(str(m, "deliveryStatus", NULL), "delivered");
    cJSON_Delete(m);
    cJSON_Delete(r);
    free(pub);
    stop();
}

Test(delivery, a_dead_letter_marks_the_conversation_message_failed)
{
    start(NULL);
    push(400, JSON_H, "{\"code\":21610,\"message\":\"Attempt to send to unsubscribed recipient\"}");
    char *pub = recorded_event("out-2");
    cJSON *ev = cJSON_Parse(pub);
    char conv[64];
    snprintf(conv, sizeof conv, "%s", str(ev, "routing", "conversationId"));
    cJSON_Delete(ev);
    cJSON *r = send_msg(pub, NULL);
    cr_assert_str_eq(str(r, "error", "code"), "RECIPIENT_OPTED_OUT");
    cJSON *m = history_last(conv);
    cr_assert_str_eq(str(m, "deliveryStatus", NULL), "failed");
    cr_assert_str_eq(str(m, "errorCode", NULL), "RECIPIENT_OPTED_OUT", "%s",
                     cJSON_PrintUnformatted(m));
    cJSON_Delete(m);
    cJSON_Delete(r);
    free(pub);
    stop();
}
