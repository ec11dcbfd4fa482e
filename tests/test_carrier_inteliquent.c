/* Inteliquent Message Broker inbound webhooks: the shared-secret header
 * check and parsing of messages and delivery receipts into events, through
 * the public omni_inbound API with the fixtures of
 * tests/data/webhooks/inteliquent (fields of the Services API 2.0.0
 * "Receive Inbound Message Webhook": referenceId, from, to[], text,
 * mediaUrls[], deliveryReceipt). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "carrier_fixture.h"

#define CARRIER "inteliquent"
#define SECRET "iq-test-shared-secret-91b7"
#define CONFIG "{\"carriers\":{\"inteliquent\":{\"secret\":\"" SECRET "\"}}}"
#define NOW "2024-06-03T09:50:00Z"

FX_CARRIER_SUITE(inteliquent, CONFIG, NOW);

static omni_webhook *post(const char *header, const char *body)
{
    const char *headers[] = {"Host: hooks.example.com", "Content-Type: application/json", header,
                             NULL};
    return fx_request("POST", "/webhooks/inteliquent", headers, body);
}

static omni_webhook *signed_post(const char *body)
{
    return post("X-Inteliquent-Secret: " SECRET, body);
}

Test(inteliquent, sms)
{
    omni_webhook *req = fx_load(CARRIER, "sms");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    char cid[OMNI_UUID_STRLEN];
    fx_correlation(cid, CARRIER, "9a7c1e2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d");
    fx_assert_str(ev, "kind", "message");
    fx_assert_str(ev, "correlationId", cid);
    fx_assert_str(ev, "carrier", "inteliquent");
    fx_assert_str(ev, "channelType", "sms");
    /* "13125550142": 11 digits without '+' are international digits */
    fx_assert_str(ev, "senderIdentifier.phoneNumber", "+13125550142");
    fx_assert_str(ev, "recipientIdentifier.phoneNumber", "+17735550199");
    fx_assert_str(ev, "message.id", "9a7c1e2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d");
    fx_assert_str(ev, "message.content", "STOP sending me promos please");
    fx_assert_str(ev, "message.contentType", "text");
    /* Inteliquent sends no timestamp: the request's clock */
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:50:00.000Z");
    fx_assert_str(ev, "rawPayload.referenceId", "9a7c1e2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d");
    cr_assert(cJSON_IsFalse(fx_at(ev, "rawPayload.deliveryReceipt")));
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, sms_with_default_region)
{
    omni_inbound *us = fx_inbound("{\"defaultRegion\":\"US\",\"carriers\":{\"inteliquent\":"
                                  "{\"secret\":\"" SECRET "\"}}}");
    omni_webhook *req = fx_load(CARRIER, "sms");
    cJSON *res = fx_ok(us, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "senderIdentifier.phoneNumber", "+13125550142");
    fx_assert_str(fx_event(res, 0), "recipientIdentifier.phoneNumber", "+17735550199");
    cJSON_Delete(res);
    omni_webhook_free(req);
    /* ten national digits need the region */
    req = signed_post("{\"referenceId\":\"r-10\",\"from\":\"3125550142\",\"to\":[\"7735550199\"],"
                      "\"text\":\"hi\"}");
    res = fx_ok(us, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "senderIdentifier.phoneNumber", "+13125550142");
    fx_assert_str(fx_event(res, 0), "recipientIdentifier.phoneNumber", "+17735550199");
    cJSON_Delete(res);
    omni_webhook_free(req);
    omni_inbound_free(us);
}

Test(inteliquent, mms)
{
    omni_webhook *req = fx_load(CARRIER, "mms");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "channelType", "mms");
    fx_assert_str(ev, "message.contentType", "media");
    fx_assert_str(ev, "message.content", "Photo of the meter reading");
    fx_assert_str(ev, "message.mediaUrls.0",
                  "https://mms.inteliquent.com/media/4b2a6c8d-0e1f-4a3b-9c5d-6e7f8a9b0c1d/0/"
                  "meter.jpg");
    cr_assert_eq(cJSON_GetArraySize(fx_at(ev, "media")), 1);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, group_message)
{
    omni_webhook *req = fx_load(CARRIER, "group_mms");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "channelType", "mms");
    fx_assert_str(ev, "message.contentType", "text");
    fx_assert_str(ev, "recipientIdentifier.phoneNumber", "+17735550199");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, delivery_receipts)
{
    omni_webhook *req = fx_load(CARRIER, "delivery_receipt");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    char cid[OMNI_UUID_STRLEN];
    fx_correlation(cid, CARRIER, "c0ffee00-1234-4abc-9def-0123456789ab");
    fx_assert_str(ev, "kind", "status");
    fx_assert_str(ev, "correlationId", cid);
    fx_assert_str(ev, "carrierMessageId", "c0ffee00-1234-4abc-9def-0123456789ab");
    fx_assert_str(ev, "status", "delivered");
    fx_assert_absent(ev, "errorCode");
    fx_assert_str(ev, "recipient", "+13125550142");
    fx_assert_str(ev, "timestamp", "2024-06-03T09:50:00.000Z");
    cJSON_Delete(res);
    omni_webhook_free(req);

    req = fx_load(CARRIER, "delivery_receipt_undelivered");
    res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "status", "undelivered");
    fx_assert_str(fx_event(res, 0), "errorCode", "001");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, receipt_states)
{
    static const char *const map[][3] = {
        {"stat:DELIVRD err:000", "delivered", NULL},
        {"stat:delivrd err:0", "delivered", NULL},
        {"stat:UNDELIV err:013", "undelivered", "013"},
        {"stat:EXPIRED err:000", "undelivered", NULL},
        {"stat:REJECTD err:0a1", "failed", "0a1"},
        {"stat:DELETED", "failed", NULL},
        {"stat:ACCEPTD", "sent", NULL},
        {"stat:ENROUTE err:000", "sent", NULL},
        {"stat:UNKNOWN", "sent", NULL},
        {"stat:SOMETHING", "sent", NULL},
        {"stat:", "sent", NULL},
        {"Delivered", "delivered", NULL},
        {"", "delivered", NULL}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        char body[300];
        snprintf(body, sizeof(body),
                 "{\"referenceId\":\"r%zu\",\"from\":\"13125550142\",\"to\":[\"17735550199\"],"
                 "\"deliveryReceipt\":true,\"text\":\"id:r%zu sub:001 %s text:\"}",
                 i, i, map[i][0]);
        omni_webhook *req = signed_post(body);
        cJSON *res = fx_ok(in, engine, CARRIER, req);
        fx_assert_str(fx_event(res, 0), "status", map[i][1]);
        if (map[i][2])
            fx_assert_str(fx_event(res, 0), "errorCode", map[i][2]);
        else
            fx_assert_absent(fx_event(res, 0), "errorCode");
        cJSON_Delete(res);
        omni_webhook_free(req);
    }
}

Test(inteliquent, batch)
{
    omni_webhook *req = fx_load(CARRIER, "batch");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 3);
    fx_assert_str(fx_event(res, 0), "kind", "message");
    fx_assert_str(fx_event(res, 1), "kind", "message");
    fx_assert_str(fx_event(res, 1), "message.content", "Actually, keep the order updates");
    fx_assert_str(fx_event(res, 1), "rawPayload.referenceId",
                  "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b");
    fx_assert_str(fx_event(res, 2), "kind", "status");
    fx_assert_str(fx_event(res, 2), "status", "delivered"); /* a receipt without text */
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, numeric_reference_and_string_to)
{
    omni_webhook *req = signed_post("{\"referenceId\":884221,\"from\":\"+13125550142\","
                                    "\"to\":\"+17735550199\",\"text\":null}");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "message.id", "884221");
    fx_assert_str(fx_event(res, 0), "recipientIdentifier.phoneNumber", "+17735550199");
    fx_assert_str(fx_event(res, 0), "message.content", "");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, unusable_sender_is_kept_as_given)
{
    /* not a phone number: kept so identity lookup can report it */
    omni_webhook *req = signed_post("{\"referenceId\":\"r\",\"from\":\"ACME\",\"to\":[]}");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "senderIdentifier.phoneNumber", "ACME");
    fx_assert_absent(fx_event(res, 0), "recipientIdentifier.phoneNumber");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

/* ---- verification ------------------------------------------------------- */

Test(inteliquent, every_fixture_verifies)
{
    static const char *const names[] = {
        "sms",   "mms", "group_mms", "delivery_receipt", "delivery_receipt_undelivered",
        "batch", "malformed_no_reference", "malformed_truncated", NULL};
    fx_assert_fixtures_verify(in, engine, CARRIER, names);
}

Test(inteliquent, missing_or_wrong_secret)
{
    static const char *const headers[] = {
        "X-Other: " SECRET,
        "X-Inteliquent-Secret: wrong",
        "X-Inteliquent-Secret: " SECRET "x",
        "X-Inteliquent-Secret: iq-test-shared-secret-91b",
        "X-Inteliquent-Secret: IQ-TEST-SHARED-SECRET-91B7",
        NULL};
    const char body[] = "{\"referenceId\":\"r\",\"from\":\"13125550142\",\"to\":[\"17735550199\"]}";
    for (size_t i = 0; headers[i]; i++) {
        omni_webhook *req = post(headers[i], body);
        cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_ESIGNATURE, "%s",
                     headers[i]);
        fx_fails(in, engine, CARRIER, req, OMNI_ESIGNATURE);
        cr_assert_null(strstr(omni_error_last_message(), SECRET));
        omni_webhook_free(req);
    }
    /* header names are case-insensitive */
    omni_webhook *req = post("x-inteliquent-secret: " SECRET, body);
    cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_OK);
    omni_webhook_free(req);
}

Test(inteliquent, configured_header_name)
{
    omni_inbound *custom = fx_inbound("{\"carriers\":{\"inteliquent\":{\"header\":"
                                      "\"X-Webhook-Token\",\"secret\":\"" SECRET "\"}}}");
    const char body[] = "{\"referenceId\":\"r\",\"from\":\"13125550142\"}";
    omni_webhook *req = post("X-Webhook-Token: " SECRET, body);
    cr_assert_eq(omni_inbound_verify(custom, engine, CARRIER, req), OMNI_OK);
    omni_webhook_free(req);
    /* the default header no longer counts */
    req = signed_post(body);
    cr_assert_eq(omni_inbound_verify(custom, engine, CARRIER, req), OMNI_ESIGNATURE);
    omni_webhook_free(req);
    omni_inbound_free(custom);
}

Test(inteliquent, unconfigured_and_verify_off)
{
    omni_webhook *req = fx_load(CARRIER, "sms");
    omni_inbound *none = fx_inbound("{}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    none = fx_inbound("{\"carriers\":{\"inteliquent\":{\"header\":\"X-Inteliquent-Secret\"}}}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    omni_inbound *off = fx_inbound("{\"carriers\":{\"inteliquent\":{\"verify\":false}}}");
    omni_webhook *bare = fx_request("POST", "/webhooks/inteliquent", NULL,
                                    "{\"referenceId\":\"r\",\"from\":\"13125550142\"}");
    cJSON *res = fx_ok(off, engine, CARRIER, bare);
    cr_assert_eq(fx_count(res), 1);
    cJSON_Delete(res);
    omni_webhook_free(bare);
    omni_inbound_free(off);
    omni_webhook_free(req);
}

Test(inteliquent, settings_are_checked)
{
    static const char *const bad[] = {
        "{\"carriers\":{\"inteliquent\":{\"secret\":\"\"}}}",
        "{\"carriers\":{\"inteliquent\":{\"secret\":1}}}",
        "{\"carriers\":{\"inteliquent\":{\"secret\":\"s\",\"header\":\"\"}}}",
        "{\"carriers\":{\"inteliquent\":{\"secret\":\"s\",\"header\":\"X Bad\"}}}",
        "{\"carriers\":{\"inteliquent\":{\"secret\":\"s\",\"header\":\"X-Bad:\"}}}",
        "{\"carriers\":{\"inteliquent\":{\"secret\":\"s\",\"header\":\"X-Very-Long-Header-Name-"
        "That-Goes-On-And-On-Beyond-Sixty-Four-Bytes\"}}}",
        "{\"carriers\":{\"inteliquent\":{\"secret\":\"s\",\"apiKey\":\"k\"}}}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        omni_inbound *c = NULL;
        cr_assert_eq(omni_inbound_new(&c, bad[i], strlen(bad[i]), NULL), OMNI_ECONFIG, "%s",
                     bad[i]);
        cr_assert_not_null(strstr(omni_error_last()->details, "carriers.inteliquent."));
    }
}

/* ---- malformed and oversize --------------------------------------------- */

Test(inteliquent, malformed)
{
    static const char *const names[] = {"malformed_no_reference", "malformed_truncated", NULL};
    for (size_t i = 0; names[i]; i++) {
        omni_webhook *req = fx_load(CARRIER, names[i]);
        fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
        omni_webhook_free(req);
    }
    static const char *const bad[] = {
        "",
        "\"text\"",
        "42",
        "{\"referenceId\":\"\",\"from\":\"13125550142\"}",
        "{\"referenceId\":1.5,\"from\":\"13125550142\"}",
        "{\"referenceId\":{},\"from\":\"13125550142\"}",
        "{\"referenceId\":\"r\"}", /* a message needs "from" */
        "{\"referenceId\":\"r\",\"from\":5}",
        "{\"referenceId\":\"r\",\"from\":\"13125550142\",\"text\":[]}",
        "{\"referenceId\":\"r\",\"from\":\"13125550142\",\"to\":[1]}",
        "{\"referenceId\":\"r\",\"from\":\"13125550142\",\"to\":{}}",
        "{\"referenceId\":\"r\",\"from\":\"13125550142\",\"mediaUrls\":\"https://x\"}",
        "{\"referenceId\":\"r\",\"from\":\"13125550142\",\"deliveryReceipt\":\"true\"}",
        "[{\"referenceId\":\"r\",\"from\":\"13125550142\"},7]",
        "[{\"referenceId\":\"r\",\"from\":\"13125550142\"},{\"from\":\"13125550142\"}]",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        omni_webhook *req = signed_post(bad[i]);
        fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
        omni_webhook_free(req);
    }
    /* an empty batch is fine */
    omni_webhook *req = signed_post("[]");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 0);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(inteliquent, oversize)
{
    omni_inbound *small = fx_inbound("{\"maxBodyBytes\":64,\"carriers\":{\"inteliquent\":"
                                     "{\"secret\":\"" SECRET "\"}}}");
    omni_webhook *req = fx_load(CARRIER, "mms");
    cr_assert_eq(omni_inbound_verify(small, engine, CARRIER, req), OMNI_ETOOLARGE);
    fx_fails(small, engine, CARRIER, req, OMNI_ETOOLARGE);
    omni_webhook_free(req);
    omni_inbound_free(small);
}
