/* Tests of the WhatsApp Cloud API adapter: X-Hub-Signature-256 (checked
 * against RFC 4231's HMAC-SHA256 vector and recomputed for every fixture),
 * the GET subscription handshake, each message and status type of
 * tests/data/webhooks/whatsapp, and every error path. */
#include "carrier_fixture.h"

#define SECRET "test-app-secret-0123456789"
#define VERIFY_TOKEN "test-verify-token"
#define CONFIG                                                                                 \
    "{\"carriers\":{\"whatsapp\":{\"appSecret\":\"" SECRET "\",\"verifyToken\":\"" VERIFY_TOKEN \
    "\"}}}"

static void hex_hmac(char out[72], const char *secret, const char *body, size_t len)
{
    uint8_t mac[32];
    cr_assert_eq(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, secret, strlen(secret), body, len),
                 OMNI_OK);
    strcpy(out, "sha256=");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

static omni_webhook *post(const char *signature, const char *body)
{
    omni_webhook *w = NULL;
    cr_assert_eq(omni_webhook_new(&w, "POST", "/whatsapp/webhook"), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(w, "Host", "hooks.example.com"), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(w, "Content-Type", "application/json"), OMNI_OK);
    if (signature)
        cr_assert_eq(omni_webhook_add_header(w, "X-Hub-Signature-256", signature), OMNI_OK);
    cr_assert_eq(omni_webhook_set_body(w, body, strlen(body)), OMNI_OK);
    return w;
}

/* A correctly signed POST. */
static omni_webhook *signed_post(const char *body)
{
    char sig[72];
    hex_hmac(sig, SECRET, body, strlen(body));
    return post(sig, body);
}

/* ---- signatures ----------------------------------------------------------------- */

/* RFC 4231 section 4.3 (test case 2): HMAC-SHA256 with key "Jefe" of "what do
 * ya want for nothing?" is 5bdcc146bf60754e6a042426089575c75a003f089d27398
 * 39dec58b964ec3843; as a Meta signature over that body. */
Test(whatsapp_verify, rfc4231_vector)
{
    omni_inbound *in = cu_inbound("{\"carriers\":{\"whatsapp\":{\"appSecret\":\"Jefe\"}}}");
    const char *body = "what do ya want for nothing?";
    omni_webhook *w =
        post("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", body);
    cr_assert_eq(omni_inbound_verify(in, NULL, "whatsapp", w), OMNI_OK, "%s",
                 omni_error_last_message());
    /* verified, but not a webhook document */
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    /* the hex digits in either case, the prefix too */
    w = post("SHA256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843", body);
    cr_assert_eq(omni_inbound_verify(in, NULL, "whatsapp", w), OMNI_OK);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

static const char *const fixtures[] = {
    "text",     "text_pretty", "image",   "audio",    "video",
    "document", "sticker",     "location", "contacts", "interactive_button_reply",
    "interactive_list_reply", "button", "reaction", "unsupported", "batch",
    "statuses", "status_failed", "account_update", NULL};

Test(whatsapp_verify, every_fixture_verifies_and_its_signature_is_real)
{
    omni_inbound *in = cu_inbound(CONFIG);
    omni_inbound *wrong = cu_inbound("{\"carriers\":{\"whatsapp\":{\"appSecret\":\"other\"}}}");
    for (int i = 0; fixtures[i]; i++) {
        omni_webhook *w = cu_fixture("whatsapp", fixtures[i]);
        cr_assert_eq(omni_inbound_verify(in, NULL, "whatsapp", w), OMNI_OK, "%s: %s",
                     fixtures[i], omni_error_last_message());
        cr_assert_eq(omni_inbound_verify(wrong, NULL, "whatsapp", w), OMNI_ESIGNATURE);
        size_t len;
        const char *body = omni_webhook_body(w, &len);
        char sig[72];
        hex_hmac(sig, SECRET, body, len);
        cu_assert_str(omni_webhook_header(w, "X-Hub-Signature-256"), sig);
        omni_webhook_free(w);
    }
    omni_inbound_free(wrong);
    omni_inbound_free(in);
}

Test(whatsapp_verify, errors)
{
    omni_inbound *in = cu_inbound(CONFIG);
    const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
    char sig[72];
    hex_hmac(sig, SECRET, body, strlen(body));

    omni_webhook *w = post(NULL, body);
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "missing"));
    omni_webhook_free(w);

    char variants[6][80];
    snprintf(variants[0], 80, "%s", sig + 7);           /* no prefix */
    snprintf(variants[1], 80, "sha1=%s", sig + 7);      /* another algorithm */
    snprintf(variants[2], 80, "%.70s", sig);            /* one digit short */
    snprintf(variants[3], 80, "%sa", sig);              /* one digit long */
    snprintf(variants[4], 80, "%.69sxy", sig);          /* not hex */
    snprintf(variants[5], 80, "%.70s%c", sig, sig[70] == '0' ? '1' : '0'); /* wrong */
    for (int i = 0; i < 6; i++) {
        w = post(variants[i], body);
        cu_handle_fails(in, NULL, "whatsapp", w, OMNI_ESIGNATURE);
        omni_webhook_free(w);
    }
    /* a valid signature of another body */
    w = post(sig, "{\"object\":\"whatsapp_business_account\",\"entry\":[{}]}");
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    /* methods Meta does not use */
    omni_webhook_new(&w, "PUT", "/whatsapp/webhook");
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    omni_inbound_free(in);

    /* no appSecret configured */
    in = cu_inbound("{\"carriers\":{\"whatsapp\":{\"verifyToken\":\"x\"}}}");
    w = post(sig, body);
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "appSecret"));
    omni_webhook_free(w);
    omni_inbound_free(in);
}

/* ---- the subscription handshake -------------------------------------------------- */

static omni_webhook *get(const char *query)
{
    char url[512];
    snprintf(url, sizeof(url), "/whatsapp/webhook?%s", query);
    omni_webhook *w = NULL;
    cr_assert_eq(omni_webhook_new(&w, "GET", url), OMNI_OK);
    return w;
}

Test(whatsapp_handshake, answers_the_challenge)
{
    omni_inbound *in = cu_inbound(CONFIG);
    omni_webhook *w = cu_fixture("whatsapp", "verify_get");
    cr_assert_eq(omni_inbound_verify(in, NULL, "whatsapp", w), OMNI_OK);
    cJSON *res = cu_handle(in, NULL, "whatsapp", w);
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 0);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(resp, "status")->valueint, 200);
    cu_assert_str(cu_str(resp, "headers", "Content-Type", NULL), "text/plain");
    cu_assert_str(cu_str(resp, "body", NULL, NULL), "1158201444");
    cJSON_Delete(res);
    omni_webhook_free(w);

    /* percent-encoded values are decoded */
    w = get("hub.challenge=abc-123_X.~&hub.verify_token=test%2Dverify%2Dtoken&hub.mode=subscribe");
    res = cu_handle(in, NULL, "whatsapp", w);
    cu_assert_str(cu_str(res, "response", "body", NULL), "abc-123_X.~");
    cJSON_Delete(res);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(whatsapp_handshake, errors)
{
    omni_inbound *in = cu_inbound(CONFIG);
    static const struct {
        const char *query;
        int status;
    } cases[] = {
        {"hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong", OMNI_ESIGNATURE},
        {"hub.mode=subscribe&hub.challenge=1&hub.verify_token=test-verify-toke", OMNI_ESIGNATURE},
        {"hub.mode=subscribe&hub.challenge=1", OMNI_ESIGNATURE},
        {"hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=test-verify-token",
         OMNI_EWEBHOOK},
        {"hub.challenge=1&hub.verify_token=test-verify-token", OMNI_EWEBHOOK},
        {"hub.mode=subscribe&hub.verify_token=test-verify-token", OMNI_EWEBHOOK},
        {"hub.mode=subscribe&hub.challenge=&hub.verify_token=test-verify-token", OMNI_EWEBHOOK},
        {"hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=test-verify-token",
         OMNI_EWEBHOOK},
        {"hub.mode=subscribe&hub.challenge=1&hub.verify_token=%ZZ", OMNI_EWEBHOOK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_webhook *w = get(cases[i].query);
        cu_handle_fails(in, NULL, "whatsapp", w, cases[i].status);
        omni_webhook_free(w);
    }
    char q[400];
    char big[200];
    memset(big, '7', 129);
    big[129] = '\0';
    snprintf(q, sizeof(q), "hub.mode=subscribe&hub.challenge=%s&hub.verify_token=%s", big,
             VERIFY_TOKEN);
    omni_webhook *w = get(q);
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    omni_inbound_free(in);

    /* no verifyToken configured: the handshake cannot be verified */
    in = cu_inbound("{\"carriers\":{\"whatsapp\":{\"appSecret\":\"s\"}}}");
    w = get("hub.mode=subscribe&hub.challenge=1&hub.verify_token=x");
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "verifyToken"));
    omni_webhook_free(w);
    omni_inbound_free(in);
    /* verification off still checks a configured token */
    in = cu_inbound("{\"carriers\":{\"whatsapp\":{\"verify\":false,\"verifyToken\":\"t\"}}}");
    w = get("hub.mode=subscribe&hub.challenge=1&hub.verify_token=x");
    cu_handle_fails(in, NULL, "whatsapp", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

/* ---- messages ------------------------------------------------------------------------ */

static cJSON *handle_fixture(const char *name)
{
    omni_inbound *in = cu_inbound(CONFIG);
    omni_webhook *w = cu_fixture("whatsapp", name);
    cJSON *res = cu_handle(in, NULL, "whatsapp", w);
    omni_webhook_free(w);
    omni_inbound_free(in);
    return res;
}

/* The checks every message event of the fixtures shares. */
static const cJSON *message_event(const cJSON *res, int i, const char *content_type,
                                  const char *content)
{
    const cJSON *ev = cu_event(res, i);
    cu_assert_str(cu_str(ev, "kind", NULL, NULL), "message");
    cu_assert_str(cu_str(ev, "carrier", NULL, NULL), "whatsapp");
    cu_assert_str(cu_str(ev, "channelType", NULL, NULL), "chat");
    cu_assert_str(cu_str(ev, "recipientIdentifier", "phoneNumber", NULL), "+16505550100");
    cu_assert_str(cu_str(ev, "recipientIdentifier", "businessId", NULL), "106540352242922");
    cu_assert_str(cu_str(ev, "message", "contentType", NULL), content_type);
    cu_assert_str(cu_str(ev, "message", "content", NULL), content);
    const char *id = cu_str(ev, "message", "id", NULL);
    cr_assert_not_null(id);
    cu_assert_correlation(ev, "whatsapp", id);
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(ev, "rawPayload");
    cu_assert_str(cu_str(raw, "object", NULL, NULL), "whatsapp_business_account");
    return ev;
}

Test(whatsapp_messages, text)
{
    cJSON *res = handle_fixture("text");
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 1);
    const cJSON *ev = message_event(res, 0, "text", "Does it come in another color?");
    cu_assert_str(cu_str(ev, "message", "id", NULL),
                  "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
    cu_assert_str(cu_str(ev, "senderIdentifier", "phoneNumber", NULL), "+16505551234");
    cu_assert_str(cu_str(ev, "senderName", NULL, NULL), "Sheena Nelson");
    /* "timestamp": "1749416383" (Unix seconds) */
    cu_assert_str(cu_str(ev, "message", "timestamp", NULL), "2025-06-08T20:59:43.000Z");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(resp, "status")->valueint, 200);
    cu_assert_str(cu_str(resp, "body", NULL, NULL), "");
    cJSON_Delete(res);

    /* a pretty-printed body: rawPayload is the same document, minified */
    res = handle_fixture("text_pretty");
    ev = message_event(res, 0, "text", "Pretty-printed body\nwith a newline");
    char *raw = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(ev, "rawPayload"));
    cr_assert_null(strstr(raw, "  "));
    cr_assert_not_null(strstr(raw, "\"body\":\"Pretty-printed body\\nwith a newline\""));
    free(raw);
    cJSON_Delete(res);
}

Test(whatsapp_messages, media)
{
    static const struct {
        const char *fixture, *id, *mime, *caption, *filename;
    } cases[] = {
        {"image", "1003383421387256", "image/jpeg", "This is the one I want", NULL},
        {"audio", "1027016289257045", "audio/ogg; codecs=opus", NULL, NULL},
        {"video", "2024826871409387", "video/mp4", "Unboxing", NULL},
        {"document", "1482094832493058", "application/pdf", "Invoice for March",
         "invoice-2026-03.pdf"},
        {"sticker", "1239457450352417", "image/webp", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *res = handle_fixture(cases[i].fixture);
        const cJSON *ev =
            message_event(res, 0, "media", cases[i].caption ? cases[i].caption : "");
        const cJSON *media = cJSON_GetObjectItemCaseSensitive(ev, "media");
        cr_assert_eq(cJSON_GetArraySize(media), 1);
        const cJSON *m = media->child;
        cu_assert_str(cu_str(m, "id", NULL, NULL), cases[i].id);
        cu_assert_str(cu_str(m, "contentType", NULL, NULL), cases[i].mime);
        cr_assert_not_null(cu_str(m, "sha256", NULL, NULL));
        if (cases[i].caption)
            cu_assert_str(cu_str(m, "caption", NULL, NULL), cases[i].caption);
        else
            cr_assert_null(cu_str(m, "caption", NULL, NULL));
        if (cases[i].filename)
            cu_assert_str(cu_str(m, "filename", NULL, NULL), cases[i].filename);
        /* media ids only: no URLs */
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ev, "message"), "mediaUrls"));
        cJSON_Delete(res);
    }
}

Test(whatsapp_messages, location_and_contacts)
{
    cJSON *res = handle_fixture("location");
    const cJSON *ev = message_event(res, 0, "location", "Meta Headquarters");
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(ev, "location");
    cr_assert_float_eq(cJSON_GetObjectItemCaseSensitive(loc, "latitude")->valuedouble, 37.483307,
                       1e-9);
    cr_assert_float_eq(cJSON_GetObjectItemCaseSensitive(loc, "longitude")->valuedouble,
                       -122.148981, 1e-9);
    cu_assert_str(cu_str(loc, "address", NULL, NULL), "1 Hacker Way, Menlo Park, CA 94025");
    cJSON_Delete(res);

    res = handle_fixture("contacts");
    ev = message_event(res, 0, "contact", "Barbara J. Johnson");
    const cJSON *contacts = cJSON_GetObjectItemCaseSensitive(ev, "contacts");
    cr_assert_eq(cJSON_GetArraySize(contacts), 1);
    const cJSON *phones = cJSON_GetObjectItemCaseSensitive(contacts->child, "phones");
    cu_assert_str(cu_str(phones->child, "wa_id", NULL, NULL), "19405551234");
    cJSON_Delete(res);
}

Test(whatsapp_messages, replies_and_reactions)
{
    cJSON *res = handle_fixture("interactive_button_reply");
    const cJSON *ev = message_event(res, 0, "text", "Change");
    cu_assert_str(cu_str(ev, "reply", "id", NULL), "change-button");
    cu_assert_str(cu_str(ev, "reply", "title", NULL), "Change");
    cu_assert_str(cu_str(ev, "context", "messageId", NULL),
                  "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBJDT05URVhUMQ==");
    cJSON_Delete(res);

    res = handle_fixture("interactive_list_reply");
    ev = message_event(res, 0, "text", "Express Shipping");
    cu_assert_str(cu_str(ev, "reply", "id", NULL), "priority_express");
    cJSON_Delete(res);

    res = handle_fixture("button");
    ev = message_event(res, 0, "text", "Stop promotions");
    cu_assert_str(cu_str(ev, "reply", "id", NULL), "STOP_PROMOTIONS");
    cu_assert_str(cu_str(ev, "reply", "title", NULL), "Stop promotions");
    cr_assert_not_null(cu_str(ev, "context", "messageId", NULL));
    cJSON_Delete(res);

    res = handle_fixture("reaction");
    ev = message_event(res, 0, "text", "\xF0\x9F\x91\x8D");
    cu_assert_str(cu_str(ev, "reaction", "messageId", NULL),
                  "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBJHNTY3OEg5MEFCQ0RFRjEyMwA=");
    cu_assert_str(cu_str(ev, "reaction", "emoji", NULL), "\xF0\x9F\x91\x8D");
    cJSON_Delete(res);
}

Test(whatsapp_messages, unsupported_batch_and_other_fields)
{
    cJSON *res = handle_fixture("unsupported");
    const cJSON *ev = message_event(res, 0, "text", "");
    cu_assert_str(cu_str(ev, "messageType", NULL, NULL), "unsupported");
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(ev, "errors");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(errors->child, "code")->valueint, 131051);
    cJSON_Delete(res);

    res = handle_fixture("batch");
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 2);
    ev = message_event(res, 0, "text", "First");
    cu_assert_str(cu_str(ev, "senderName", NULL, NULL), "Sheena Nelson");
    ev = message_event(res, 1, "text", "Segunda mensagem");
    cu_assert_str(cu_str(ev, "senderIdentifier", "phoneNumber", NULL), "+5511987654321");
    cu_assert_str(cu_str(ev, "senderName", NULL, NULL), "Kai Mendes"); /* matched by wa_id */
    cu_assert_str(cu_str(ev, "message", "timestamp", NULL), "2025-06-08T20:59:41.000Z");
    cr_assert_str_neq(cu_str(cu_event(res, 0), "correlationId", NULL, NULL),
                      cu_str(ev, "correlationId", NULL, NULL));
    cJSON_Delete(res);

    res = handle_fixture("account_update");
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 0);
    cJSON_Delete(res);
}

Test(whatsapp_statuses, sent_delivered_read_failed)
{
    cJSON *res = handle_fixture("statuses");
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 3);
    static const char *const st[] = {"sent", "delivered", "read"};
    static const char *const ts[] = {"2025-06-08T20:59:50.000Z", "2025-06-08T20:59:51.000Z",
                                     "2025-06-08T21:00:00.000Z"};
    for (int i = 0; i < 3; i++) {
        const cJSON *ev = cu_event(res, i);
        cu_assert_str(cu_str(ev, "kind", NULL, NULL), "status");
        cu_assert_str(cu_str(ev, "status", NULL, NULL), st[i]);
        cu_assert_str(cu_str(ev, "timestamp", NULL, NULL), ts[i]);
        cu_assert_str(cu_str(ev, "recipient", NULL, NULL), "+16505551234");
        cu_assert_str(cu_str(ev, "carrierMessageId", NULL, NULL),
                      "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA");
        cu_assert_correlation(ev, "whatsapp",
                              "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA");
    }
    cJSON_Delete(res);

    res = handle_fixture("status_failed");
    const cJSON *ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "status", NULL, NULL), "failed");
    cu_assert_str(cu_str(ev, "errorCode", NULL, NULL), "131047");
    cr_assert_not_null(strstr(cu_str(ev, "errorMessage", NULL, NULL), "24 hours"));
    cJSON_Delete(res);
}

/* ---- parsing details and malformed documents ----------------------------------------- */

static const char *wrap(char *buf, size_t cap, const char *value)
{
    snprintf(buf, cap,
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":"
             "[{\"field\":\"messages\",\"value\":%s}]}]}",
             value);
    return buf;
}

static cJSON *handle_value(const char *value)
{
    char body[4096];
    omni_inbound *in = cu_inbound(CONFIG);
    omni_webhook *w = signed_post(wrap(body, sizeof(body), value));
    cJSON *res = cu_handle(in, NULL, "whatsapp", w);
    omni_webhook_free(w);
    omni_inbound_free(in);
    return res;
}

static void body_fails(const char *body, int status)
{
    omni_inbound *in = cu_inbound(CONFIG);
    omni_webhook *w = signed_post(body);
    cu_handle_fails(in, NULL, "whatsapp", w, status);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

static void value_fails(const char *value)
{
    char body[4096];
    body_fails(wrap(body, sizeof(body), value), OMNI_EWEBHOOK);
}

Test(whatsapp_parse, details)
{
    /* no metadata, no contacts, a numeric timestamp, a username-only sender */
    cJSON *res = handle_value("{\"messages\":[{\"from_user_id\":\"US.13491208655302741918\","
                              "\"id\":\"wamid.X\",\"timestamp\":1749416383,\"type\":\"text\","
                              "\"text\":{\"body\":\"hi\"}}]}");
    const cJSON *ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "senderIdentifier", "userId", NULL), "US.13491208655302741918");
    cr_assert_null(cu_str(ev, "senderIdentifier", "phoneNumber", NULL));
    cr_assert_null(cu_str(ev, "recipientIdentifier", "businessId", NULL));
    cu_assert_str(cu_str(ev, "message", "timestamp", NULL), "2025-06-08T20:59:43.000Z");
    cJSON_Delete(res);

    /* a removed reaction has no emoji; an unknown status is skipped */
    res = handle_value("{\"messages\":[{\"from\":\"16505551234\",\"id\":\"wamid.R\","
                       "\"timestamp\":\"1\",\"type\":\"reaction\",\"reaction\":"
                       "{\"message_id\":\"wamid.M\"}}],\"statuses\":[{\"id\":\"wamid.S\","
                       "\"status\":\"deleted\",\"timestamp\":\"1\"},{\"id\":\"wamid.S\","
                       "\"status\":\"delivered\",\"timestamp\":\"2\",\"recipient_id\":\"x\","
                       "\"errors\":[{\"code\":\"E1\",\"title\":\"T\"}]}]}");
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 2);
    cu_assert_str(cu_str(cu_event(res, 0), "reaction", "messageId", NULL), "wamid.M");
    cr_assert_null(cu_str(cu_event(res, 0), "reaction", "emoji", NULL));
    cu_assert_str(cu_str(cu_event(res, 1), "recipient", NULL, NULL), "x");
    cu_assert_str(cu_str(cu_event(res, 1), "errorCode", NULL, NULL), "E1");
    cu_assert_str(cu_str(cu_event(res, 1), "errorMessage", NULL, NULL), "T");
    cJSON_Delete(res);

    /* a system message and a flow reply */
    res = handle_value("{\"messages\":[{\"from\":\"16505551234\",\"id\":\"wamid.Y\","
                       "\"timestamp\":\"1\",\"type\":\"system\",\"system\":{\"body\":"
                       "\"User changed number\",\"type\":\"user_changed_number\"}},"
                       "{\"from\":\"16505551234\",\"id\":\"wamid.Z\",\"timestamp\":\"1\","
                       "\"type\":\"interactive\",\"interactive\":{\"type\":\"nfm_reply\","
                       "\"nfm_reply\":{\"name\":\"flow\",\"body\":\"Sent\","
                       "\"response_json\":\"{}\"}}}]}");
    cu_assert_str(cu_str(cu_event(res, 0), "message", "content", NULL), "User changed number");
    cu_assert_str(cu_str(cu_event(res, 0), "messageType", NULL, NULL), "system");
    cu_assert_str(cu_str(cu_event(res, 1), "reply", "id", NULL), "flow");
    cJSON_Delete(res);
}

Test(whatsapp_parse, malformed)
{
    body_fails("{\"object\":\"whatsapp_business_account\",", OMNI_EWEBHOOK);
    body_fails("[]", OMNI_EWEBHOOK);
    body_fails("{\"object\":\"page\",\"entry\":[]}", OMNI_EWEBHOOK);
    body_fails("{\"entry\":[]}", OMNI_EWEBHOOK);
    body_fails("{\"object\":\"whatsapp_business_account\",\"entry\":{}}", OMNI_EWEBHOOK);
    body_fails("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":{}}]}",
               OMNI_EWEBHOOK);
    body_fails("{\"object\":\"whatsapp_business_account\",\"entry\":[5]}", OMNI_EWEBHOOK);
    body_fails("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{}]}]}",
               OMNI_EWEBHOOK);
    value_fails("[]");
    value_fails("{\"messages\":{}}");
    value_fails("{\"statuses\":{}}");
    value_fails("{\"messages\":[5]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"x\"}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"text\":{\"body\":\"x\"}}]}");
    value_fails("{\"messages\":[{\"id\":\"i\",\"type\":\"text\",\"text\":{\"body\":\"x\"}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"text\"}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"timestamp\":\"12a\","
                "\"type\":\"text\",\"text\":{\"body\":\"x\"}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"timestamp\":-5,"
                "\"type\":\"text\",\"text\":{\"body\":\"x\"}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"image\","
                "\"image\":{\"mime_type\":\"image/png\"}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"location\","
                "\"location\":{\"latitude\":\"1\",\"longitude\":2}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"location\","
                "\"location\":{\"latitude\":100,\"longitude\":2}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"contacts\","
                "\"contacts\":[]}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"interactive\","
                "\"interactive\":{\"type\":\"button_reply\"}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"button\","
                "\"button\":{}}]}");
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"reaction\","
                "\"reaction\":{\"emoji\":\"x\"}}]}");
    value_fails("{\"statuses\":[{\"status\":\"sent\"}]}");
    value_fails("{\"statuses\":[{\"id\":\"x\"}]}");
    value_fails("{\"statuses\":[5]}");
    value_fails("{\"statuses\":[{\"id\":\"x\",\"status\":\"sent\",\"timestamp\":\"soon\"}]}");
    /* a later malformed message discards the earlier events too */
    value_fails("{\"messages\":[{\"from\":\"1\",\"id\":\"i\",\"type\":\"text\",\"text\":"
                "{\"body\":\"x\"}},{\"id\":\"j\"}]}");
}

Test(whatsapp_parse, event_limit)
{
    /* more messages than OMNI_WEBHOOK_MAX_EVENTS in one (verified) webhook */
    size_t cap = 128 * (OMNI_WEBHOOK_MAX_EVENTS + 2);
    char *value = malloc(cap);
    size_t k = (size_t)sprintf(value, "{\"messages\":[");
    for (int i = 0; i <= OMNI_WEBHOOK_MAX_EVENTS; i++)
        k += (size_t)sprintf(value + k, "%s{\"from\":\"1\",\"id\":\"m%d\",\"type\":\"text\","
                                        "\"text\":{\"body\":\"x\"}}",
                             i ? "," : "", i);
    strcpy(value + k, "]}");
    char *body = malloc(cap + 256);
    snprintf(body, cap + 256,
             "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
             "\"messages\",\"value\":%s}]}]}",
             value);
    body_fails(body, OMNI_ETOOLARGE);
    free(body);
    free(value);
}
