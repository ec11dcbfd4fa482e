/* Bandwidth Messaging v2 callbacks: HTTP Basic verification and parsing of
 * message-received / -sending / -delivered / -failed into events, through
 * the public omni_inbound API with the fixtures of
 * tests/data/webhooks/bandwidth (bodies as in
 * https://dev.bandwidth.com/docs/messaging/webhooks). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "carrier_fixture.h"

#define CARRIER "bandwidth"
#define USER "bw-callback-user"
#define PASS "s3cret-Bandwidth-pass"
#define CONFIG                                                                               \
    "{\"carriers\":{\"bandwidth\":{\"username\":\"" USER "\",\"password\":\"" PASS "\"}}}"
#define NOW "2024-06-03T09:40:00Z"

FX_CARRIER_SUITE(bandwidth, CONFIG, NOW);

/* A request with this body and the fixtures' credentials. */
static omni_webhook *signed_request(const char *body)
{
    /* base64("bw-callback-user:s3cret-Bandwidth-pass") */
    const char *headers[] = {
        "Host: hooks.example.com", "Content-Type: application/json",
        "Authorization: Basic YnctY2FsbGJhY2stdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M=", NULL};
    return fx_request("POST", "/webhooks/bandwidth", headers, body);
}

static omni_webhook *with_auth(const char *auth, const char *body)
{
    char h[512];
    snprintf(h, sizeof(h), "Authorization: %s", auth);
    const char *headers[] = {"Host: hooks.example.com", h, NULL};
    return fx_request("POST", "/webhooks/bandwidth", headers, body);
}

Test(bandwidth, inbound_sms)
{
    omni_webhook *req = fx_load(CARRIER, "message_received_sms");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(res, "carrier", "bandwidth");
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    char cid[OMNI_UUID_STRLEN];
    fx_correlation(cid, CARRIER, "1717407000123x7k2mbq5r3s4t6u");
    fx_assert_str(ev, "kind", "message");
    fx_assert_str(ev, "correlationId", cid);
    fx_assert_str(ev, "carrier", "bandwidth");
    fx_assert_str(ev, "channelType", "sms");
    fx_assert_str(ev, "senderIdentifier.phoneNumber", "+14155550100");
    fx_assert_str(ev, "recipientIdentifier.phoneNumber", "+19195551234");
    fx_assert_str(ev, "message.id", "1717407000123x7k2mbq5r3s4t6u");
    fx_assert_str(ev, "message.content", "Hi, is my order #4471 shipped yet?");
    fx_assert_str(ev, "message.contentType", "text");
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:30:00.120Z");
    fx_assert_absent(ev, "message.mediaUrls");
    fx_assert_absent(ev, "media");
    /* rawPayload is this event's element of the callback array */
    fx_assert_str(ev, "rawPayload.type", "message-received");
    fx_assert_str(ev, "rawPayload.message.applicationId", "93de2206-9669-4e07-948d-329f4b722ee2");
    cr_assert_eq(fx_at(ev, "rawPayload.message.segmentCount")->valueint, 1);
    fx_assert_str(res, "response.body", "");
    cr_assert_eq(fx_at(res, "response.status")->valueint, 200);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, inbound_mms_media)
{
    omni_webhook *req = fx_load(CARRIER, "message_received_mms");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "channelType", "mms");
    fx_assert_str(ev, "message.contentType", "media");
    fx_assert_str(ev, "message.content", "Here is the damaged box");
    cr_assert_eq(cJSON_GetArraySize(fx_at(ev, "message.mediaUrls")), 2);
    fx_assert_str(ev, "message.mediaUrls.0",
                  "https://messaging.bandwidth.com/api/v2/users/9900001/media/"
                  "1717407072004qa8n3jd0w2c5vbx/0/IMG_2041.jpg");
    fx_assert_str(ev, "media.1.url",
                  "https://messaging.bandwidth.com/api/v2/users/9900001/media/"
                  "1717407072004qa8n3jd0w2c5vbx/1/IMG_2042.jpg");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, inbound_group_message_uses_owner)
{
    omni_webhook *req = fx_load(CARRIER, "message_received_group");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "channelType", "mms"); /* group messages travel as MMS */
    fx_assert_str(ev, "message.contentType", "text");
    fx_assert_str(ev, "recipientIdentifier.phoneNumber", "+19195551234");
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:32:40.000Z");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, status_delivered)
{
    omni_webhook *req = fx_load(CARRIER, "message_delivered");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    char cid[OMNI_UUID_STRLEN];
    fx_correlation(cid, CARRIER, "1717407300111c3b1k9d8s7a6f5g");
    fx_assert_str(ev, "kind", "status");
    fx_assert_str(ev, "correlationId", cid);
    fx_assert_str(ev, "carrierMessageId", "1717407300111c3b1k9d8s7a6f5g");
    fx_assert_str(ev, "status", "delivered");
    fx_assert_str(ev, "timestamp", "2024-06-03T09:35:02.450Z");
    fx_assert_str(ev, "recipient", "+14155550100");
    fx_assert_absent(ev, "errorCode");
    fx_assert_absent(ev, "errorMessage");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, status_failed_with_error_code)
{
    omni_webhook *req = fx_load(CARRIER, "message_failed");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "status", "failed");
    fx_assert_str(ev, "errorCode", "4432");
    fx_assert_str(ev, "errorMessage", "forbidden to country");
    fx_assert_str(ev, "recipient", "+525512345678");
    fx_assert_str(ev, "timestamp", "2024-06-03T09:36:20.000Z");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, status_sending_is_queued)
{
    omni_webhook *req = fx_load(CARRIER, "message_sending");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    fx_assert_str(fx_event(res, 0), "status", "queued");
    fx_assert_str(fx_event(res, 0), "carrierMessageId", "1717407420875xo7watq5px6rbe5d");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, batch_yields_one_event_per_element)
{
    omni_webhook *req = fx_load(CARRIER, "batch_mixed");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 4);
    fx_assert_str(fx_event(res, 0), "message.id", "1717407000123x7k2mbq5r3s4t6u");
    fx_assert_str(fx_event(res, 1), "message.id", "1717407001999k2j4h6g8f0d1s3a");
    fx_assert_str(fx_event(res, 1), "message.content", "Also, can I change the delivery address?");
    fx_assert_str(fx_event(res, 2), "status", "delivered");
    fx_assert_str(fx_event(res, 3), "status", "failed");
    cr_assert_str_neq(fx_str(fx_event(res, 0), "correlationId"),
                      fx_str(fx_event(res, 1), "correlationId"));
    /* each event carries its own element */
    fx_assert_str(fx_event(res, 1), "rawPayload.message.id", "1717407001999k2j4h6g8f0d1s3a");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, redelivery_gives_same_ids)
{
    omni_webhook *req = fx_load(CARRIER, "message_received_sms");
    cJSON *a = fx_ok(in, engine, CARRIER, req);
    cJSON *b = fx_ok(in, engine, CARRIER, req);
    cr_assert_str_eq(fx_str(fx_event(a, 0), "correlationId"),
                     fx_str(fx_event(b, 0), "correlationId"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    omni_webhook_free(req);
}

Test(bandwidth, addresses_become_e164)
{
    omni_inbound *us = fx_inbound("{\"defaultRegion\":\"US\",\"carriers\":{\"bandwidth\":"
                                  "{\"username\":\"" USER "\",\"password\":\"" PASS "\"}}}");
    omni_webhook *req = signed_request(
        "[{\"type\":\"message-received\",\"time\":\"2024-06-03T09:30:00Z\",\"to\":\"9195551234\","
        "\"message\":{\"id\":\"m-1\",\"owner\":\"(919) 555-1234\",\"direction\":\"in\","
        "\"to\":[\"9195551234\"],\"from\":\"+1 415-555-0100\",\"text\":\"hi\"}}]");
    cJSON *res = fx_ok(us, engine, CARRIER, req);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "senderIdentifier.phoneNumber", "+14155550100");
    fx_assert_str(ev, "recipientIdentifier.phoneNumber", "+19195551234");
    cJSON_Delete(res);
    omni_webhook_free(req);
    omni_inbound_free(us);
}

Test(bandwidth, short_code_owner)
{
    omni_webhook *req = signed_request(
        "[{\"type\":\"message-received\",\"time\":\"2024-06-03T09:30:00Z\",\"to\":\"24273\","
        "\"message\":{\"id\":\"m-2\",\"owner\":\"24273\",\"direction\":\"in\",\"to\":[\"24273\"],"
        "\"from\":\"+14155550100\",\"text\":\"JOIN\"}}]");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "recipientIdentifier.shortCode", "24273");
    fx_assert_absent(ev, "recipientIdentifier.phoneNumber");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, recipient_falls_back_to_event_to_and_message_to)
{
    omni_webhook *req = signed_request(
        "[{\"type\":\"message-received\",\"to\":\"+19195550001\",\"message\":{\"id\":\"a\","
        "\"from\":\"+14155550100\",\"to\":[\"+19195550002\"]}},"
        "{\"type\":\"message-received\",\"message\":{\"id\":\"b\",\"from\":\"+14155550100\","
        "\"to\":[\"+19195550002\"]}},"
        "{\"type\":\"message-received\",\"message\":{\"id\":\"c\",\"from\":\"+14155550100\"}}]");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 3);
    fx_assert_str(fx_event(res, 0), "recipientIdentifier.phoneNumber", "+19195550001");
    fx_assert_str(fx_event(res, 1), "recipientIdentifier.phoneNumber", "+19195550002");
    fx_assert_absent(fx_event(res, 2), "recipientIdentifier.phoneNumber");
    /* no text and no time: empty content, the request's clock */
    fx_assert_str(fx_event(res, 2), "message.content", "");
    fx_assert_str(fx_event(res, 2), "message.timestamp", "2024-06-03T09:40:00.000Z");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, unknown_types_and_empty_batches_give_no_events)
{
    omni_webhook *req = signed_request("[{\"type\":\"message-read\",\"time\":"
                                       "\"2024-06-03T09:30:00Z\",\"message\":{\"id\":\"x\"}}]");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 0);
    cJSON_Delete(res);
    omni_webhook_free(req);

    req = signed_request("[]");
    res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 0);
    cr_assert_eq(fx_at(res, "response.status")->valueint, 200);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(bandwidth, string_error_code_is_kept)
{
    omni_webhook *req = signed_request(
        "[{\"type\":\"message-failed\",\"time\":\"2024-06-03T09:30:00Z\",\"errorCode\":\"9902\","
        "\"description\":\"Timed out waiting for delivery receipt\",\"to\":\"+14155550100\","
        "\"message\":{\"id\":\"f-1\"}}]");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "errorCode", "9902");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

/* ---- verification ------------------------------------------------------- */

Test(bandwidth, every_fixture_verifies)
{
    static const char *const names[] = {
        "message_received_sms", "message_received_mms", "message_received_group",
        "message_delivered",    "message_failed",       "message_sending",
        "batch_mixed",          NULL};
    fx_assert_fixtures_verify(in, engine, CARRIER, names);
}

Test(bandwidth, missing_authorization)
{
    const char *headers[] = {"Host: hooks.example.com", NULL};
    omni_webhook *req = fx_request("POST", "/webhooks/bandwidth", headers, "[]");
    cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_ESIGNATURE);
    fx_fails(in, engine, CARRIER, req, OMNI_ESIGNATURE);
    cr_assert_str_eq(omni_error_last_code(), "SIGNATURE_INVALID");
    omni_webhook_free(req);
}

Test(bandwidth, wrong_credentials_and_no_events)
{
    static const char *const bad[] = {
        "Basic YnctY2FsbGJhY2stdXNlcjp3cm9uZw==",         /* bw-callback-user:wrong */
        "Basic d3JvbmctdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M=", /* wrong-user:<pw> */
        "Basic YnctY2FsbGJhY2stdXNlcnMzY3JldC1CYW5kd2lkdGgtcGFzcw==", /* no ':' */
        "Basic YnctY2FsbGJhY2stdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M",  /* bad padding */
        "Basic YnctY2FsbGJhY2stdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M=x",
        "Bearer YnctY2FsbGJhY2stdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M=",
        "Basic",
        "Basic   ",
        "BasicYnctY2FsbGJhY2stdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M=",
        "Basic Ong=", /* ":" */
        NULL};
    omni_webhook *good = fx_load(CARRIER, "message_received_sms");
    size_t len = 0;
    char *body = fx_body(good, &len);
    for (size_t i = 0; bad[i]; i++) {
        omni_webhook *req = with_auth(bad[i], body);
        cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_ESIGNATURE, "%s",
                     bad[i]);
        fx_fails(in, engine, CARRIER, req, OMNI_ESIGNATURE);
        cr_assert_null(strstr(omni_error_last_message(), PASS), "no secret in the message");
        omni_webhook_free(req);
    }
    free(body);
    omni_webhook_free(good);
}

Test(bandwidth, basic_scheme_is_case_insensitive)
{
    omni_webhook *req =
        with_auth("basic  YnctY2FsbGJhY2stdXNlcjpzM2NyZXQtQmFuZHdpZHRoLXBhc3M= ", "[]");
    cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_webhook_free(req);
}

Test(bandwidth, password_with_colon)
{
    omni_inbound *c = fx_inbound("{\"carriers\":{\"bandwidth\":{\"username\":\"u\","
                                 "\"password\":\"p:a:ss\"}}}");
    omni_webhook *req = with_auth("Basic dTpwOmE6c3M=", "[]"); /* u:p:a:ss */
    cr_assert_eq(omni_inbound_verify(c, engine, CARRIER, req), OMNI_OK);
    omni_webhook_free(req);
    req = with_auth("Basic dTpwOmE=", "[]"); /* u:p:a */
    cr_assert_eq(omni_inbound_verify(c, engine, CARRIER, req), OMNI_ESIGNATURE);
    omni_webhook_free(req);
    omni_inbound_free(c);
}

Test(bandwidth, oversized_authorization_header)
{
    char *auth = malloc(5000);
    memcpy(auth, "Basic ", 6);
    memset(auth + 6, 'A', 4990);
    auth[4996] = '\0';
    omni_webhook *req = with_auth(auth, "[]");
    cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_ESIGNATURE);
    omni_webhook_free(req);
    free(auth);
}

Test(bandwidth, unconfigured_carrier_cannot_verify)
{
    omni_inbound *none = fx_inbound("{}");
    omni_webhook *req = fx_load(CARRIER, "message_received_sms");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    /* settings without credentials (only "verify": true) */
    none = fx_inbound("{\"carriers\":{\"bandwidth\":{\"verify\":true}}}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    omni_webhook_free(req);
}

Test(bandwidth, verification_off_for_tests)
{
    omni_inbound *off = fx_inbound("{\"carriers\":{\"bandwidth\":{\"verify\":false}}}");
    const char *headers[] = {"Host: hooks.example.com", NULL};
    omni_webhook *req = fx_request("POST", "/webhooks/bandwidth", headers,
                                   "[{\"type\":\"message-received\",\"message\":{\"id\":\"z\","
                                   "\"from\":\"+14155550100\",\"to\":[\"+19195551234\"]}}]");
    cJSON *res = fx_ok(off, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    cJSON_Delete(res);
    omni_webhook_free(req);
    omni_inbound_free(off);
}

Test(bandwidth, settings_are_checked)
{
    static const char *const bad[] = {
        "{\"carriers\":{\"bandwidth\":{\"username\":\"u\"}}}",
        "{\"carriers\":{\"bandwidth\":{\"password\":\"p\"}}}",
        "{\"carriers\":{\"bandwidth\":{\"username\":\"\",\"password\":\"p\"}}}",
        "{\"carriers\":{\"bandwidth\":{\"username\":1,\"password\":\"p\"}}}",
        "{\"carriers\":{\"bandwidth\":{\"username\":\"u\",\"password\":\"p\",\"pass\":\"x\"}}}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        omni_inbound *c = NULL;
        cr_assert_eq(omni_inbound_new(&c, bad[i], strlen(bad[i]), NULL), OMNI_ECONFIG, "%s",
                     bad[i]);
        cr_assert_null(c);
        cr_assert_not_null(omni_error_last()->details);
        cr_assert_not_null(strstr(omni_error_last()->details, "carriers.bandwidth."));
    }
}

/* ---- malformed and oversize --------------------------------------------- */

Test(bandwidth, malformed_fixtures)
{
    static const char *const names[] = {"malformed_not_array", "malformed_truncated",
                                        "malformed_no_message_id", NULL};
    for (size_t i = 0; names[i]; i++) {
        omni_webhook *req = fx_load(CARRIER, names[i]);
        cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_OK);
        fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
        cr_assert_str_eq(omni_error_last_code(), "MALFORMED_WEBHOOK");
        omni_webhook_free(req);
    }
}

Test(bandwidth, malformed_events)
{
    static const char *const bad[] = {
        "",
        "{}",
        "[1]",
        "[{}]",
        "[{\"type\":7,\"message\":{\"id\":\"a\"}}]",
        "[{\"type\":\"message-received\"}]",
        "[{\"type\":\"message-received\",\"message\":{\"id\":\"\"}}]",
        "[{\"type\":\"message-received\",\"message\":{\"id\":\"a\"}}]", /* no from */
        "[{\"type\":\"message-received\",\"message\":{\"id\":\"a\",\"from\":5}}]",
        "[{\"type\":\"message-received\",\"message\":{\"id\":\"a\",\"from\":\"+14155550100\","
        "\"media\":\"https://x\"}}]",
        "[{\"type\":\"message-received\",\"message\":{\"id\":\"a\",\"from\":\"+14155550100\","
        "\"media\":[1]}}]",
        "[{\"type\":\"message-received\",\"message\":{\"id\":\"a\",\"from\":\"+14155550100\","
        "\"to\":{}}}]",
        "[{\"type\":\"message-failed\",\"errorCode\":44.5,\"message\":{\"id\":\"a\"}}]",
        "[{\"type\":\"message-failed\",\"errorCode\":[],\"message\":{\"id\":\"a\"}}]",
        "[{\"type\":\"message-delivered\",\"to\":1,\"message\":{\"id\":\"a\"}}]",
        /* one bad element spoils the batch: no events at all */
        "[{\"type\":\"message-delivered\",\"message\":{\"id\":\"a\"}},{\"type\":\"x\"}]",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        omni_webhook *req = signed_request(bad[i]);
        fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
        omni_webhook_free(req);
    }
}

Test(bandwidth, oversize_body)
{
    omni_inbound *small = fx_inbound("{\"maxBodyBytes\":512,\"carriers\":{\"bandwidth\":"
                                     "{\"username\":\"" USER "\",\"password\":\"" PASS "\"}}}");
    omni_webhook *req = fx_load(CARRIER, "batch_mixed");
    cr_assert_eq(omni_inbound_verify(small, engine, CARRIER, req), OMNI_ETOOLARGE);
    fx_fails(small, engine, CARRIER, req, OMNI_ETOOLARGE);
    cr_assert_str_eq(omni_error_last_code(), "PAYLOAD_TOO_LARGE");
    omni_webhook_free(req);
    omni_inbound_free(small);

    /* over OMNI_WEBHOOK_MAX_BODY the request itself refuses the body */
    req = signed_request(NULL);
    size_t big = OMNI_WEBHOOK_MAX_BODY + 1;
    char *body = malloc(big);
    memset(body, ' ', big);
    cr_assert_eq(omni_webhook_set_body(req, body, big), OMNI_ETOOLARGE);
    free(body);
    omni_webhook_free(req);
}
