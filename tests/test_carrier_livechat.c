/* LiveChat webhooks (v3.x): the secret_key check and parsing of
 * incoming_chat / incoming_event (message and file events) into events,
 * through the public omni_inbound API with the fixtures of
 * tests/data/webhooks/livechat (bodies as in
 * https://platform.text.com/docs/management/webhooks). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "carrier_fixture.h"

#define CARRIER "livechat"
#define SECRET "lc-test-secret-7c1e9a2b4d"
#define CONFIG "{\"carriers\":{\"livechat\":{\"secretKey\":\"" SECRET "\"}}}"
#define ORG "390e44e6-f1e6-4368-a6dd-74b14508c2e1"
#define CUSTOMER "b7eff798-f8df-4364-8059-649c35c9ed0c"
#define NOW "2024-06-03T09:45:00Z"

FX_CARRIER_SUITE(livechat, CONFIG, NOW);

static omni_webhook *post(const char *body)
{
    const char *headers[] = {"Host: hooks.example.com", "Content-Type: application/json", NULL};
    return fx_request("POST", "/webhooks/livechat", headers, body);
}

/* Handles and checks that the secret never appears in the result. */
static cJSON *handle_ok(const omni_inbound *cfg, omni_webhook *req)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_inbound_handle(&out, &len, cfg, engine, CARRIER, req);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cr_assert_null(strstr(out, SECRET), "the secret key is not in the result");
    cr_assert_null(strstr(out, "secret_key"), "no secret_key member in the result");
    cJSON *res = cJSON_Parse(out);
    cr_assert_not_null(res);
    omni_free(out);
    return res;
}

Test(livechat, incoming_chat_customer_events_only)
{
    omni_webhook *req = fx_load(CARRIER, "incoming_chat");
    cJSON *res = handle_ok(in, req);
    /* system message and the agent's message are not inbound messages */
    cr_assert_eq(fx_count(res), 2);

    const cJSON *ev = fx_event(res, 0);
    char cid[OMNI_UUID_STRLEN];
    fx_correlation(cid, CARRIER, "QB5RNX0WF3_2");
    fx_assert_str(ev, "kind", "message");
    fx_assert_str(ev, "correlationId", cid);
    fx_assert_str(ev, "carrier", "livechat");
    fx_assert_str(ev, "channelType", "chat");
    fx_assert_str(ev, "senderIdentifier.sessionId", "PJ0MRSHTDG");
    fx_assert_str(ev, "senderIdentifier.userId", CUSTOMER);
    fx_assert_str(ev, "senderIdentifier.email", "t.anderson@example.com");
    fx_assert_absent(ev, "senderIdentifier.phoneNumber");
    fx_assert_str(ev, "senderName", "Thomas Anderson");
    fx_assert_str(ev, "recipientIdentifier.businessId", ORG);
    fx_assert_str(ev, "message.id", "QB5RNX0WF3_2");
    fx_assert_str(ev, "message.content", "Hello, my order #4471 has not arrived.");
    fx_assert_str(ev, "message.contentType", "text");
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:30:01.909Z");
    fx_assert_str(ev, "rawPayload.action", "incoming_chat");
    fx_assert_str(ev, "rawPayload.webhook_id", "e5c1a0b3f9d24c7ea3b1c0d9e8f7a6b5");
    fx_assert_str(ev, "rawPayload.payload.chat.id", "PJ0MRSHTDG");
    fx_assert_absent(ev, "rawPayload.secret_key");

    ev = fx_event(res, 1);
    fx_assert_str(ev, "message.id", "QB5RNX0WF3_4");
    fx_assert_str(ev, "message.contentType", "media");
    fx_assert_str(ev, "message.content", "");
    fx_assert_str(ev, "message.mediaUrls.0",
                  "https://cdn.livechat-files.com/api/file/lc/att/8948324/"
                  "45a3581b59a7295145c3825c86ec7ab3/receipt.png");
    fx_assert_str(ev, "media.0.contentType", "image/png");
    fx_assert_str(ev, "media.0.filename", "receipt.png");
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:30:03.000Z");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(livechat, incoming_event_message)
{
    omni_webhook *req = fx_load(CARRIER, "incoming_event_message");
    cJSON *res = handle_ok(in, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "senderIdentifier.sessionId", "PJ0MRSHTDG");
    fx_assert_str(ev, "senderIdentifier.userId", CUSTOMER);
    fx_assert_absent(ev, "senderIdentifier.email"); /* no user objects in this webhook */
    fx_assert_absent(ev, "senderName");
    fx_assert_str(ev, "message.id", "QB5RNX0WF3_5");
    fx_assert_str(ev, "message.content", "It was supposed to arrive Monday 📦");
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:31:10.250Z");
    fx_assert_str(ev, "recipientIdentifier.businessId", ORG);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(livechat, incoming_event_file)
{
    omni_webhook *req = fx_load(CARRIER, "incoming_event_file");
    cJSON *res = handle_ok(in, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "message.contentType", "media");
    fx_assert_str(ev, "media.0.contentType", "application/pdf");
    fx_assert_str(ev, "media.0.filename", "label.pdf");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(livechat, agent_event_is_skipped)
{
    omni_webhook *req = fx_load(CARRIER, "incoming_event_agent");
    cJSON *res = handle_ok(in, req);
    cr_assert_eq(fx_count(res), 0);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(livechat, license_id_as_business_id)
{
    omni_webhook *req = fx_load(CARRIER, "incoming_event_license");
    cJSON *res = handle_ok(in, req);
    fx_assert_str(fx_event(res, 0), "recipientIdentifier.businessId", "104130623");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(livechat, chat_deactivated_gives_no_event)
{
    omni_webhook *req = fx_load(CARRIER, "chat_deactivated");
    cJSON *res = handle_ok(in, req);
    cr_assert_eq(fx_count(res), 0);
    cr_assert_eq(fx_at(res, "response.status")->valueint, 200);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(livechat, other_event_types_and_actions)
{
    static const char *const bodies[] = {
        /* a rich message, a system message, a filled form: not messages */
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"id\":\"E1\",\"type\":\"system_message\",\"text\":\"closed\"}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"id\":\"E2\",\"type\":\"filled_form\",\"author_id\":\"u\"}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"user_added_to_chat\",\"payload\":{}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\",\"payload\":{\"chat\":"
        "{\"id\":\"C\"}}}",
        NULL};
    for (size_t i = 0; bodies[i]; i++) {
        omni_webhook *req = post(bodies[i]);
        cJSON *res = handle_ok(in, req);
        cr_assert_eq(fx_count(res), 0, "%s", bodies[i]);
        cJSON_Delete(res);
        omni_webhook_free(req);
    }
}

Test(livechat, incoming_chat_author_not_in_users)
{
    omni_webhook *req = post("{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\","
                             "\"payload\":{\"chat\":{\"id\":\"C\",\"users\":[{\"id\":\"u1\","
                             "\"type\":\"customer\"}],\"thread\":{\"id\":\"T\",\"events\":["
                             "{\"id\":\"T_1\",\"type\":\"message\",\"author_id\":\"u2\","
                             "\"text\":\"who am I\"},{\"id\":\"T_2\",\"type\":\"message\","
                             "\"author_id\":\"u1\",\"text\":\"me\"}]}}}}");
    cJSON *res = handle_ok(in, req);
    cr_assert_eq(fx_count(res), 1);
    fx_assert_str(fx_event(res, 0), "message.id", "T_2");
    fx_assert_absent(fx_event(res, 0), "senderIdentifier.email");
    fx_assert_absent(fx_event(res, 0), "recipientIdentifier.businessId");
    /* no created_at: the request's clock */
    fx_assert_str(fx_event(res, 0), "message.timestamp", "2024-06-03T09:45:00.000Z");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

/* ---- verification ------------------------------------------------------- */

Test(livechat, every_fixture_verifies)
{
    static const char *const names[] = {
        "incoming_chat",         "incoming_event_message", "incoming_event_file",
        "incoming_event_agent",  "incoming_event_license", "chat_deactivated",
        "malformed_no_payload",  NULL};
    fx_assert_fixtures_verify(in, engine, CARRIER, names);
}

Test(livechat, wrong_or_missing_secret)
{
    omni_inbound *other = fx_inbound("{\"carriers\":{\"livechat\":{\"secretKey\":\"nope\"}}}");
    omni_webhook *req = fx_load(CARRIER, "incoming_chat");
    cr_assert_eq(omni_inbound_verify(other, engine, CARRIER, req), OMNI_ESIGNATURE);
    fx_fails(other, engine, CARRIER, req, OMNI_ESIGNATURE);
    cr_assert_null(strstr(omni_error_last_message(), SECRET));
    omni_webhook_free(req);
    omni_inbound_free(other);

    static const char *const bodies[] = {
        "{\"action\":\"incoming_event\",\"payload\":{}}",
        "{\"secret_key\":null,\"action\":\"incoming_event\",\"payload\":{}}",
        "{\"secret_key\":42,\"action\":\"incoming_event\",\"payload\":{}}",
        "{\"secret_key\":\"\",\"action\":\"incoming_event\",\"payload\":{}}",
        "{\"secret_key\":\"" SECRET "x\",\"action\":\"incoming_event\",\"payload\":{}}",
        "{\"secret_key\":\"lc-test-secret-7c1e9a2b4\",\"action\":\"incoming_event\"}",
        "{\"payload\":{\"secret_key\":\"" SECRET "\"}}",
        "[\"" SECRET "\"]",
        "\"" SECRET "\"",
        NULL};
    for (size_t i = 0; bodies[i]; i++) {
        req = post(bodies[i]);
        cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_ESIGNATURE, "%s",
                     bodies[i]);
        fx_fails(in, engine, CARRIER, req, OMNI_ESIGNATURE);
        omni_webhook_free(req);
    }
}

Test(livechat, unparseable_body_is_malformed_before_verification)
{
    omni_webhook *req = fx_load(CARRIER, "malformed_truncated");
    cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_EWEBHOOK);
    fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
    cr_assert_str_eq(omni_error_last_code(), "MALFORMED_WEBHOOK");
    omni_webhook_free(req);
    req = post("");
    fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
    omni_webhook_free(req);
}

Test(livechat, unconfigured_and_verify_off)
{
    omni_webhook *req = fx_load(CARRIER, "incoming_event_message");
    omni_inbound *none = fx_inbound("{}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    none = fx_inbound("{\"carriers\":{\"livechat\":{}}}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    omni_inbound *off = fx_inbound("{\"carriers\":{\"livechat\":{\"verify\":false}}}");
    omni_webhook *wrong = post("{\"secret_key\":\"whatever\",\"action\":\"incoming_event\","
                               "\"payload\":{\"chat_id\":\"C\",\"event\":{\"id\":\"E\",\"type\":"
                               "\"message\",\"author_id\":\"u\",\"text\":\"t\"}}}");
    cJSON *res = fx_ok(off, engine, CARRIER, wrong);
    cr_assert_eq(fx_count(res), 1);
    /* even unverified, the key is not echoed */
    fx_assert_absent(fx_event(res, 0), "rawPayload.secret_key");
    cJSON_Delete(res);
    omni_webhook_free(wrong);
    omni_inbound_free(off);
    omni_webhook_free(req);
}

Test(livechat, settings_are_checked)
{
    static const char *const bad[] = {
        "{\"carriers\":{\"livechat\":{\"secretKey\":\"\"}}}",
        "{\"carriers\":{\"livechat\":{\"secretKey\":[]}}}",
        "{\"carriers\":{\"livechat\":{\"secret_key\":\"x\"}}}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        omni_inbound *c = NULL;
        cr_assert_eq(omni_inbound_new(&c, bad[i], strlen(bad[i]), NULL), OMNI_ECONFIG, "%s",
                     bad[i]);
        cr_assert_not_null(strstr(omni_error_last()->details, "carriers.livechat."));
    }
}

/* ---- malformed and oversize --------------------------------------------- */

Test(livechat, malformed)
{
    omni_webhook *req = fx_load(CARRIER, "malformed_no_payload");
    fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
    omni_webhook_free(req);

    static const char *const bad[] = {
        "{\"secret_key\":\"" SECRET "\",\"payload\":{}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":1,\"payload\":{}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":[]}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"event\":"
        "{\"id\":\"E\",\"type\":\"message\",\"author_id\":\"u\"}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\"}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"type\":\"message\",\"author_id\":\"u\"}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"id\":\"E\",\"type\":\"message\"}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"id\":\"E\",\"type\":\"message\",\"author_id\":\"u\",\"text\":5}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"id\":\"E\",\"type\":\"file\",\"author_id\":\"u\"}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_event\",\"payload\":{\"chat_id\":"
        "\"C\",\"event\":{\"id\":\"E\",\"type\":\"message\",\"author_id\":\"u\",\"created_at\":"
        "7}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\",\"payload\":{}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\",\"payload\":{\"chat\":"
        "{\"id\":\"C\",\"users\":{}}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\",\"payload\":{\"chat\":"
        "{\"id\":\"C\",\"thread\":[]}}}",
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\",\"payload\":{\"chat\":"
        "{\"id\":\"C\",\"thread\":{\"events\":{}}}}}",
        /* one bad event spoils the whole chat */
        "{\"secret_key\":\"" SECRET "\",\"action\":\"incoming_chat\",\"payload\":{\"chat\":"
        "{\"id\":\"C\",\"users\":[{\"id\":\"u\",\"type\":\"customer\"}],\"thread\":{\"events\":["
        "{\"id\":\"E1\",\"type\":\"message\",\"author_id\":\"u\",\"text\":\"ok\"},"
        "{\"id\":\"E2\",\"type\":\"file\",\"author_id\":\"u\"}]}}}}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        req = post(bad[i]);
        cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_OK);
        fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
        omni_webhook_free(req);
    }
}

Test(livechat, oversize)
{
    omni_inbound *small = fx_inbound("{\"maxBodyBytes\":300,\"carriers\":{\"livechat\":"
                                     "{\"secretKey\":\"" SECRET "\"}}}");
    omni_webhook *req = fx_load(CARRIER, "incoming_chat");
    cr_assert_eq(omni_inbound_verify(small, engine, CARRIER, req), OMNI_ETOOLARGE);
    fx_fails(small, engine, CARRIER, req, OMNI_ETOOLARGE);
    omni_webhook_free(req);
    omni_inbound_free(small);
}
