/* Tests of the Twilio adapter: X-Twilio-Signature verification against
 * Twilio's published examples, every fixture in tests/data/webhooks/twilio
 * (signatures recomputed here independently), the normalized events, and
 * every error path. */
#include "carrier_fixture.h"

#define TOKEN "test-auth-token-0123456789abcdef"
#define CONFIG "{\"carriers\":{\"twilio\":{\"authToken\":\"" TOKEN "\"}}}"
#define NOW "2026-11-22T09:30:00.000Z"

/* ---- an independent signer (Twilio's documented algorithm) -------------------------- */

typedef struct kv {
    char *k, *v;
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* base64(HMAC-SHA1(token, url + sorted distinct name+value pairs)). */
static char *sign(const char *token, const char *url, const char *form)
{
    kv items[256];
    size_t n = 0;
    if (form && *form) {
        char *json;
        size_t len;
        cr_assert_eq(omni_form_decode(&json, &len, form, strlen(form)), OMNI_OK);
        cJSON *arr = cJSON_Parse(json);
        omni_free(json);
        const cJSON *p;
        cJSON_ArrayForEach(p, arr)
        {
            cr_assert_lt(n, 256);
            items[n].k = strdup(cJSON_GetArrayItem(p, 0)->valuestring);
            items[n].v = strdup(cJSON_GetArrayItem(p, 1)->valuestring);
            n++;
        }
        cJSON_Delete(arr);
    }
    qsort(items, n, sizeof(kv), kv_cmp);
    size_t cap = strlen(url) + 1;
    for (size_t i = 0; i < n; i++)
        cap += strlen(items[i].k) + strlen(items[i].v);
    char *data = malloc(cap);
    strcpy(data, url);
    for (size_t i = 0; i < n; i++) {
        if (!(i && !kv_cmp(&items[i], &items[i - 1]))) {
            strcat(data, items[i].k);
            strcat(data, items[i].v);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(items[i].k);
        free(items[i].v);
    }
    uint8_t mac[20];
    cr_assert_eq(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA1, token, strlen(token), data,
                           strlen(data)),
                 OMNI_OK);
    free(data);
    char *b64;
    size_t len;
    cr_assert_eq(omni_base64_encode(&b64, &len, mac, sizeof(mac)), OMNI_OK);
    return b64;
}

static omni_webhook *request(const char *method, const char *url, const char *host,
                             const char *signature, const char *content_type, const char *body)
{
    omni_webhook *w = NULL;
    cr_assert_eq(omni_webhook_new(&w, method, url), OMNI_OK, "%s", omni_error_last_message());
    if (host)
        cr_assert_eq(omni_webhook_add_header(w, "Host", host), OMNI_OK);
    if (content_type)
        cr_assert_eq(omni_webhook_add_header(w, "Content-Type", content_type), OMNI_OK);
    if (signature)
        cr_assert_eq(omni_webhook_add_header(w, "X-Twilio-Signature", signature), OMNI_OK);
    if (body)
        cr_assert_eq(omni_webhook_set_body(w, body, strlen(body)), OMNI_OK);
    return w;
}

static omni_inbound *inbound_token(const char *token, const char *extra)
{
    char config[512];
    snprintf(config, sizeof(config), "{%s\"carriers\":{\"twilio\":{\"authToken\":\"%s\"}}}",
             extra ? extra : "", token);
    return cu_inbound(config);
}

/* ---- published examples --------------------------------------------------------------- */

/* Twilio's "Webhooks security" page (www.twilio.com/docs/usage/security,
 * "Validating requests"): auth token 12345, URL
 * https://mycompany.com/myapp.php?foo=1&bar=2, POST parameters CallSid,
 * Caller, Digits, From, To -> 0/KCTR6DLpKmkAf8muzZqo1nDgQ=. */
static const char doc_body[] = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
                               "&From=%2B12349013030&To=%2B18005551212";

Test(twilio_vectors, documentation_example)
{
    omni_inbound *in = inbound_token("12345", NULL);
    /* the parameters in another order: the signature sorts them */
    omni_webhook *w = request("POST", "/myapp.php?foo=1&bar=2", "mycompany.com",
                              "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", NULL,
                              "To=%2B18005551212&Digits=1234&From=%2B12349013030"
                              "&CallSid=CA1234567890ABCDE&Caller=%2B12349013030");
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_webhook_free(w);
    char *mine = sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", doc_body);
    cr_assert_str_eq(mine, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    omni_free(mine);
    /* one byte of the query changed */
    w = request("POST", "/myapp.php?foo=1&bar=3", "mycompany.com",
                "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", NULL, doc_body);
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), OMNI_ESIGNATURE);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

/* The request validator tests of Twilio's Python SDK (twilio-python,
 * tests/unit/test_request_validator.py): token 12345, the same URL and
 * parameters with Caller/From +14158675309. */
static const char sdk_body[] = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234"
                               "&From=%2B14158675309&To=%2B18005551212";

static void sdk_expect(const char *url, const char *signature, const char *body, int status)
{
    omni_inbound *in = inbound_token("12345", NULL);
    omni_webhook *w = request("POST", url, NULL, signature,
                              body && body[0] == '{' ? "application/json" : NULL, body);
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), status, "%s %s: %s", url,
                 signature, omni_error_last_message());
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(twilio_vectors, sdk_examples_and_ports)
{
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
               sdk_body, OMNI_OK);
    /* "removes port": the request has :1234, Twilio signed the URL without it */
    sdk_expect("https://mycompany.com:1234/myapp.php?foo=1&bar=2",
               "RSOYDt4T1cUTdK1PDd93/VVr8B8=", sdk_body, OMNI_OK);
    /* "adds port": signed with :443 (as configured in the console) */
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w=",
               sdk_body, OMNI_OK);
    /* http with an explicit port, and http signed with :80 */
    sdk_expect("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
               sdk_body, OMNI_OK);
    sdk_expect("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4=",
               sdk_body, OMNI_OK);
    /* a repeated name: its values are sorted too ("duplicate" vectors) */
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2", "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
               "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234", OMNI_OK);
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2", "IK+Dwps556ElfBT0I3Rgjkr1wJU=",
               "Digits=1234&SidAccount=AC123&Sid=CA123&Digits=5678", OMNI_OK);
    /* a JSON body: the URL (with bodySHA256) alone is signed */
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
               "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
               "a9nBmqA0ju/hNViExpshrM61xv4=", "{\"property\": \"value\", \"boolean\": true}",
               OMNI_OK);
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
               "0A1FF7634D9AB3B95DB5C9A2DFE9416E41502B283A80C7CF19632632F96E6620",
               "a9nBmqA0ju/hNViExpshrM61xv4=", "{\"property\": \"value\", \"boolean\": true}",
               OMNI_ESIGNATURE); /* the URL changed, so the signature does not match */
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
               "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
               "a9nBmqA0ju/hNViExpshrM61xv4=", "{\"property\": \"value\", \"boolean\": false}",
               OMNI_ESIGNATURE); /* the body changed */
    /* the parameters are not signed for JSON bodies, so wrong if sent as form */
    sdk_expect("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
               "CallSid=CA1234567890ABCDE", OMNI_ESIGNATURE);
}

/* ---- fixtures -------------------------------------------------------------------------- */

static const char *const fixtures[] = {
    "sms",          "mms",           "short_code",       "whatsapp_text",
    "whatsapp_location", "whatsapp_button", "whatsapp_contact", "status_delivered",
    "status_undelivered", "whatsapp_status_read", "signed_with_port", "get",
    "json_body",    NULL};

Test(twilio_fixtures, every_fixture_verifies_and_its_signature_is_real)
{
    omni_inbound *in = cu_inbound(CONFIG);
    omni_inbound *wrong = inbound_token("another-token", NULL);
    for (int i = 0; fixtures[i]; i++) {
        omni_webhook *w = cu_fixture("twilio", fixtures[i]);
        cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), OMNI_OK, "%s: %s", fixtures[i],
                     omni_error_last_message());
        cr_assert_eq(omni_inbound_verify(wrong, NULL, "twilio", w), OMNI_ESIGNATURE, "%s",
                     fixtures[i]);
        /* recompute the fixture's signature from its URL and body */
        cJSON *req = cu_fixture_json("twilio", fixtures[i]);
        const char *url = cu_str(req, "url", NULL, NULL);
        const char *body = cu_str(req, "body", NULL, NULL);
        const char *ct = cu_str(req, "headers", "Content-Type", NULL);
        char full[4096];
        int port = strcmp(fixtures[i], "signed_with_port") == 0;
        snprintf(full, sizeof(full), "https://hooks.example.com%s%s", port ? ":443" : "", url);
        int form = body && (!ct || strstr(ct, "form"));
        char *mine = sign(TOKEN, full, form ? body : NULL);
        cu_assert_str(cu_str(req, "headers", "X-Twilio-Signature", NULL), mine);
        omni_free(mine);
        cJSON_Delete(req);
        omni_webhook_free(w);
    }
    omni_inbound_free(wrong);
    omni_inbound_free(in);
}

static cJSON *handle_fixture(const char *name, const char *config)
{
    omni_inbound *in = cu_inbound(config ? config : CONFIG);
    omni_engine *e = cu_engine_at(NOW);
    omni_webhook *w = cu_fixture("twilio", name);
    cJSON *res = cu_handle(in, e, "twilio", w);
    omni_webhook_free(w);
    omni_engine_free(e);
    omni_inbound_free(in);
    return res;
}

static void check_message_basics(const cJSON *ev, const char *sid, const char *channel,
                                 const char *content_type)
{
    cu_assert_str(cu_str(ev, "kind", NULL, NULL), "message");
    cu_assert_str(cu_str(ev, "carrier", NULL, NULL), "twilio");
    cu_assert_str(cu_str(ev, "channelType", NULL, NULL), channel);
    cu_assert_str(cu_str(ev, "message", "id", NULL), sid);
    cu_assert_str(cu_str(ev, "message", "contentType", NULL), content_type);
    cu_assert_str(cu_str(ev, "message", "timestamp", NULL), NOW); /* Twilio sends none */
    cu_assert_correlation(ev, "twilio", sid);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "rawPayload")));
}

Test(twilio_fixtures, sms)
{
    cJSON *res = handle_fixture("sms", NULL);
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 1);
    const cJSON *ev = cu_event(res, 0);
    check_message_basics(ev, "SM1f0e8ae6ade43cb3c0ce4525424e404f", "sms", "text");
    cu_assert_str(cu_str(ev, "senderIdentifier", "phoneNumber", NULL), "+14155550199");
    cu_assert_str(cu_str(ev, "recipientIdentifier", "phoneNumber", NULL), "+14155550100");
    cu_assert_str(cu_str(ev, "message", "content", NULL),
                  "Hello there! \xF0\x9F\x91\x8B Is the store open?");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "message"),
                                                    "mediaUrls"));
    cu_assert_str(cu_str(ev, "accountSid", NULL, NULL), "AC0123456789abcdef0123456789abcdef");
    cu_assert_str(cu_str(ev, "messagingServiceSid", NULL, NULL),
                  "MG0123456789abcdef0123456789abcdef");
    /* rawPayload: every form field, decoded */
    cu_assert_str(cu_str(ev, "rawPayload", "FromCity", NULL), "SAN FRANCISCO");
    cu_assert_str(cu_str(ev, "rawPayload", "To", NULL), "+14155550100");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "rawPayload")), 20);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(resp, "status")->valueint, 200);
    cu_assert_str(cu_str(resp, "headers", "Content-Type", NULL), "text/xml");
    cu_assert_str(cu_str(resp, "body", NULL, NULL),
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
    cJSON_Delete(res);
}

Test(twilio_fixtures, mms)
{
    cJSON *res = handle_fixture("mms", NULL);
    const cJSON *ev = cu_event(res, 0);
    check_message_basics(ev, "MM5ef8732a3c49700934481addd5ce1659", "mms", "media");
    cu_assert_str(cu_str(ev, "message", "content", NULL), "Here are the photos");
    const cJSON *urls = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev,
                                                                                         "message"),
                                                         "mediaUrls");
    cr_assert_eq(cJSON_GetArraySize(urls), 2);
    cr_assert_not_null(strstr(cJSON_GetArrayItem(urls, 1)->valuestring,
                              "/Media/ME1b2c3d4e5f60718293a4b5c6d7e8f9a0"));
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(ev, "media");
    cr_assert_eq(cJSON_GetArraySize(media), 2);
    cu_assert_str(cu_str(cJSON_GetArrayItem(media, 0), "contentType", NULL, NULL), "image/jpeg");
    cu_assert_str(cu_str(cJSON_GetArrayItem(media, 1), "contentType", NULL, NULL), "image/png");
    cu_assert_str(cu_str(cJSON_GetArrayItem(media, 1), "url", NULL, NULL),
                  cJSON_GetArrayItem(urls, 1)->valuestring);
    cJSON_Delete(res);
}

Test(twilio_fixtures, short_code_recipient)
{
    cJSON *res = handle_fixture("short_code", NULL);
    const cJSON *ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "recipientIdentifier", "shortCode", NULL), "86753");
    cr_assert_null(cu_str(ev, "recipientIdentifier", "phoneNumber", NULL));
    cu_assert_str(cu_str(ev, "message", "content", NULL), "STOP");
    cJSON_Delete(res);
}

Test(twilio_fixtures, whatsapp_through_twilio)
{
    cJSON *res = handle_fixture("whatsapp_text", NULL);
    const cJSON *ev = cu_event(res, 0);
    check_message_basics(ev, "SM3c7f1d2e5a6b7c8d9e0f1a2b3c4d5e6f", "chat", "text");
    cu_assert_str(cu_str(ev, "senderIdentifier", "phoneNumber", NULL), "+5511987654321");
    cu_assert_str(cu_str(ev, "recipientIdentifier", "phoneNumber", NULL), "+14155238886");
    cu_assert_str(cu_str(ev, "senderName", NULL, NULL), "Sheena Nelson");
    cu_assert_str(cu_str(ev, "message", "content", NULL), "Ol\xC3\xA1, quero saber do meu pedido");
    cu_assert_str(cu_str(ev, "rawPayload", "From", NULL), "whatsapp:+5511987654321");
    cJSON_Delete(res);

    res = handle_fixture("whatsapp_location", NULL);
    ev = cu_event(res, 0);
    check_message_basics(ev, "SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", "chat", "location");
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(ev, "location");
    cr_assert_float_eq(cJSON_GetObjectItemCaseSensitive(loc, "latitude")->valuedouble,
                       37.7879277, 1e-9);
    cr_assert_float_eq(cJSON_GetObjectItemCaseSensitive(loc, "longitude")->valuedouble,
                       -122.4075102, 1e-9);
    cu_assert_str(cu_str(loc, "name", NULL, NULL), "Twilio HQ");
    cu_assert_str(cu_str(loc, "address", NULL, NULL), "375 Beale St, San Francisco, CA 94105");
    cJSON_Delete(res);

    res = handle_fixture("whatsapp_button", NULL);
    ev = cu_event(res, 0);
    check_message_basics(ev, "SM0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", "chat", "text");
    cu_assert_str(cu_str(ev, "reply", "id", NULL), "confirm_order_1234");
    cu_assert_str(cu_str(ev, "reply", "title", NULL), "Yes, confirm");
    cu_assert_str(cu_str(ev, "context", "messageId", NULL), "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6");
    cu_assert_str(cu_str(ev, "messagingServiceSid", NULL, NULL),
                  "MG0123456789abcdef0123456789abcdef");
    cJSON_Delete(res);

    res = handle_fixture("whatsapp_contact", NULL);
    ev = cu_event(res, 0);
    check_message_basics(ev, "MM2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f", "chat", "contact");
    cu_assert_str(cu_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev, "media"), 0),
                         "contentType", NULL, NULL),
                  "text/vcard");
    cJSON_Delete(res);
}

Test(twilio_fixtures, status_callbacks)
{
    cJSON *res = handle_fixture("status_delivered", NULL);
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 1);
    const cJSON *ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "kind", NULL, NULL), "status");
    cu_assert_str(cu_str(ev, "carrierMessageId", NULL, NULL), "SM1f0e8ae6ade43cb3c0ce4525424e404f");
    cu_assert_str(cu_str(ev, "status", NULL, NULL), "delivered");
    cu_assert_str(cu_str(ev, "recipient", NULL, NULL), "+14155550199");
    cu_assert_str(cu_str(ev, "timestamp", NULL, NULL), NOW);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(ev, "errorCode"));
    /* the same id as the message it reports on */
    cu_assert_correlation(ev, "twilio", "SM1f0e8ae6ade43cb3c0ce4525424e404f");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cu_assert_str(cu_str(resp, "body", NULL, NULL), "");
    cJSON_Delete(res);

    res = handle_fixture("status_undelivered", NULL);
    ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "status", NULL, NULL), "undelivered");
    cu_assert_str(cu_str(ev, "errorCode", NULL, NULL), "30003");
    cJSON_Delete(res);

    res = handle_fixture("whatsapp_status_read", NULL);
    ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "status", NULL, NULL), "read");
    cu_assert_str(cu_str(ev, "recipient", NULL, NULL), "+14155550199");
    cJSON_Delete(res);
}

Test(twilio_fixtures, get_json_and_port_variants)
{
    cJSON *res = handle_fixture("get", NULL);
    const cJSON *ev = cu_event(res, 0);
    check_message_basics(ev, "SM8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b", "sms", "text");
    cu_assert_str(cu_str(ev, "message", "content", NULL), "Sent by GET");
    cu_assert_str(cu_str(ev, "rawPayload", "Body", NULL), "Sent by GET");
    cJSON_Delete(res);

    res = handle_fixture("json_body", NULL);
    ev = cu_event(res, 0);
    check_message_basics(ev, "SM9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c", "sms", "text");
    cu_assert_str(cu_str(ev, "message", "content", NULL), "JSON hello");
    cu_assert_str(cu_str(ev, "rawPayload", "Body", NULL), "JSON hello");
    cJSON_Delete(res);

    res = handle_fixture("signed_with_port", NULL);
    cu_assert_str(cu_str(cu_event(res, 0), "message", "content", NULL), "Signed with the port");
    cJSON_Delete(res);
}

Test(twilio_fixtures, behind_a_proxy)
{
    omni_webhook *w = cu_fixture("twilio", "proxied");
    omni_inbound *plain = cu_inbound(CONFIG);
    /* untrusted forwarded headers: Host 10.0.0.5:8080 is not what Twilio signed */
    cr_assert_eq(omni_inbound_verify(plain, NULL, "twilio", w), OMNI_ESIGNATURE);
    omni_inbound *trusted = inbound_token(TOKEN, "\"trustForwardedHeaders\":true,");
    cr_assert_eq(omni_inbound_verify(trusted, NULL, "twilio", w), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_inbound *based = inbound_token(TOKEN, "\"publicBaseUrl\":\"https://hooks.example.com\",");
    cr_assert_eq(omni_inbound_verify(based, NULL, "twilio", w), OMNI_OK);
    cJSON *res = cu_handle(trusted, NULL, "twilio", w);
    cu_assert_str(cu_str(cu_event(res, 0), "senderIdentifier", "phoneNumber", NULL),
                  "+447700900123");
    cJSON_Delete(res);
    omni_inbound_free(plain);
    omni_inbound_free(trusted);
    omni_inbound_free(based);
    omni_webhook_free(w);
}

/* ---- parsing details ------------------------------------------------------------------ */

/* Parses a form body with verification off. */
static cJSON *parse_form(const char *body, const char *extra_config)
{
    char config[256];
    snprintf(config, sizeof(config), "{%s\"carriers\":{\"twilio\":{\"verify\":false}}}",
             extra_config ? extra_config : "");
    omni_inbound *in = cu_inbound(config);
    omni_webhook *w = request("POST", "/t", "h.example", NULL, NULL, body);
    cJSON *res = cu_handle(in, NULL, "twilio", w);
    omni_webhook_free(w);
    omni_inbound_free(in);
    return res;
}

static void parse_form_fails(const char *body, int status)
{
    omni_inbound *in = cu_inbound("{\"carriers\":{\"twilio\":{\"verify\":false}}}");
    omni_webhook *w = request("POST", "/t", "h.example", NULL, NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, status);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(twilio_parse, identifiers)
{
    cJSON *res = parse_form("MessageSid=SM1&From=messenger%3A1234567890&To=messenger%3A987654"
                            "&Body=hi",
                            NULL);
    const cJSON *ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "channelType", NULL, NULL), "chat");
    cu_assert_str(cu_str(ev, "senderIdentifier", "userId", NULL), "messenger:1234567890");
    cu_assert_str(cu_str(ev, "recipientIdentifier", "businessId", NULL), "987654");
    cJSON_Delete(res);

    res = parse_form("SmsSid=SM2&From=ACME&To=%2B14155550100", NULL);
    ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "message", "id", NULL), "SM2");
    cu_assert_str(cu_str(ev, "senderIdentifier", "userId", NULL), "ACME");
    cu_assert_str(cu_str(ev, "message", "content", NULL), "");
    cJSON_Delete(res);

    /* a national number with the configured default region */
    res = parse_form("MessageSid=SM3&From=4155550199&To=%2B14155550100",
                     "\"defaultRegion\":\"US\",");
    cu_assert_str(cu_str(cu_event(res, 0), "senderIdentifier", "phoneNumber", NULL),
                  "+14155550199");
    cJSON_Delete(res);
}

Test(twilio_parse, repeated_fields_in_raw_payload)
{
    cJSON *res = parse_form("MessageSid=SM1&From=%2B14155550199&To=%2B14155550100&Tag=a&Tag=b"
                            "&Empty=&Tag=c",
                            NULL);
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(cu_event(res, 0), "rawPayload");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(raw, "Tag");
    cr_assert_eq(cJSON_GetArraySize(tags), 3);
    cr_assert_str_eq(cJSON_GetArrayItem(tags, 2)->valuestring, "c");
    cu_assert_str(cu_str(raw, "Empty", NULL, NULL), "");
    /* order of first appearance */
    cr_assert_str_eq(raw->child->string, "MessageSid");
    cr_assert_str_eq(raw->child->next->next->next->string, "Tag");
    cJSON_Delete(res);

    /* many fields take the sorting path; arrays keep body order */
    char body[8192];
    int k = sprintf(body, "MessageSid=SM1&From=%%2B14155550199&To=%%2B14155550100");
    for (int i = 0; i < 60; i++)
        k += sprintf(body + k, "&F%02d=%d&Z=%d", i % 30, i, i);
    res = parse_form(body, NULL);
    raw = cJSON_GetObjectItemCaseSensitive(cu_event(res, 0), "rawPayload");
    cr_assert_eq(cJSON_GetArraySize(raw), 3 + 30 + 1);
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(raw, "Z");
    cr_assert_eq(cJSON_GetArraySize(z), 60);
    cr_assert_str_eq(cJSON_GetArrayItem(z, 59)->valuestring, "59");
    const cJSON *f7 = cJSON_GetObjectItemCaseSensitive(raw, "F07");
    cr_assert_str_eq(cJSON_GetArrayItem(f7, 1)->valuestring, "37");
    cr_assert_str_eq(raw->child->next->next->next->string, "F00");
    cr_assert_str_eq(raw->child->next->next->next->next->string, "Z");
    cJSON_Delete(res);
}

Test(twilio_parse, status_mapping)
{
    static const char *const map[][2] = {
        {"accepted", "queued"},  {"scheduled", "queued"}, {"queued", "queued"},
        {"sending", "queued"},   {"sent", "sent"},        {"delivered", "delivered"},
        {"read", "read"},        {"undelivered", "undelivered"}, {"failed", "failed"},
        {"canceled", "failed"},  {"partially_delivered", "sent"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "MessageSid=SM9&MessageStatus=%s&To=%%2B14155550142"
                                     "&ErrorCode=30007&ErrorMessage=Carrier+violation",
                 map[i][0]);
        cJSON *res = parse_form(body, NULL);
        const cJSON *ev = cu_event(res, 0);
        cu_assert_str(cu_str(ev, "status", NULL, NULL), map[i][1]);
        cu_assert_str(cu_str(ev, "errorCode", NULL, NULL), "30007");
        cu_assert_str(cu_str(ev, "errorMessage", NULL, NULL), "Carrier violation");
        cJSON_Delete(res);
    }
    /* an unknown status is logged and yields no event; "received" is a message */
    cJSON *res = parse_form("MessageSid=SM9&MessageStatus=teleported", NULL);
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 0);
    cJSON_Delete(res);
    res = parse_form("MessageSid=SM9&MessageStatus=received&From=%2B14155550199"
                     "&To=%2B14155550100&Body=x",
                     NULL);
    cu_assert_str(cu_str(cu_event(res, 0), "kind", NULL, NULL), "message");
    cJSON_Delete(res);
    parse_form_fails("MessageStatus=delivered", OMNI_EWEBHOOK);
}

Test(twilio_parse, malformed)
{
    parse_form_fails("From=%2B14155550199&To=%2B14155550100", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&To=%2B14155550100", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=%2B14155550199", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&NumMedia=11", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&NumMedia=-1", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&NumMedia=", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&NumMedia=1", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&Latitude=91&Longitude=0", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&Latitude=1", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&Latitude=1&Longitude=east", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&Body=%ZZ", OMNI_EWEBHOOK);
    parse_form_fails("MessageSid=SM1&From=x&To=y&Body=%C3%28", OMNI_EWEBHOOK);
    parse_form_fails("", OMNI_EWEBHOOK);
    char id[1100];
    memset(id, 'A', sizeof(id));
    memcpy(id, "MessageSid=", 11);
    strcpy(id + 1050, "&From=x&To=y");
    parse_form_fails(id, OMNI_EWEBHOOK); /* message id over 1 KiB */

    omni_inbound *in = cu_inbound("{\"carriers\":{\"twilio\":{\"verify\":false}}}");
    omni_webhook *w = request("PUT", "/t", "h", NULL, NULL, "MessageSid=SM1");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    w = request("POST", "/t", "h", NULL, "application/json", "[1,2]");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    w = request("POST", "/t", "h", NULL, "application/json; charset=utf-8", "{\"MessageSid\":");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    w = request("POST", "/t", "h", NULL, "application/json",
                "{\"MessageSid\":\"SM1\",\"From\":\"+14155550199\",\"To\":\"+14155550100\","
                "\"NumMedia\":1,\"MediaUrl0\":\"https://m.example/1\"}");
    cJSON *res = cu_handle(in, NULL, "twilio", w);
    cu_assert_str(cu_str(cu_event(res, 0), "message", "contentType", NULL), "media");
    cJSON_Delete(res);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

/* ---- verification errors -------------------------------------------------------------- */

Test(twilio_verify, errors)
{
    omni_inbound *in = cu_inbound(CONFIG);
    const char *url = "https://hooks.example.com/t";
    const char *body = "MessageSid=SM1&From=%2B14155550199&To=%2B14155550100&Body=Hi";
    char *good = sign(TOKEN, url, body);

    omni_webhook *w = request("POST", "/t", "hooks.example.com", good, NULL, body);
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), OMNI_OK);
    omni_webhook_free(w);

    /* missing, malformed, wrong signatures */
    w = request("POST", "/t", "hooks.example.com", NULL, NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "missing"));
    omni_webhook_free(w);
    static const char *const bad[] = {"", "not base64!", "0/KCTR6DLpKmkAf8muzZqo1nDgQ",
                                      "0/KCTR6DLpKmkAf8muzZqo1nDgQ==",
                                      "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL};
    for (int i = 0; bad[i]; i++) {
        w = request("POST", "/t", "hooks.example.com", bad[i], NULL, body);
        cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
        omni_webhook_free(w);
    }
    /* tampered body, other path, other host */
    w = request("POST", "/t", "hooks.example.com", good, NULL,
                "MessageSid=SM1&From=%2B14155550199&To=%2B14155550100&Body=Hj");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    w = request("POST", "/t?", "hooks.example.com", good, NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    w = request("POST", "/t", "evil.example.com", good, NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    /* no Host and no publicBaseUrl: the URL is unknown */
    w = request("POST", "/t", NULL, good, NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "publicBaseUrl"));
    omni_webhook_free(w);
    /* an extra parameter appended by an attacker */
    char tampered[256];
    snprintf(tampered, sizeof(tampered), "%s&Extra=1", body);
    w = request("POST", "/t", "hooks.example.com", good, NULL, tampered);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    /* malformed form bodies fail as such, not as bad signatures */
    w = request("POST", "/t", "hooks.example.com", good, NULL, "a=%G1");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    /* a duplicated identical pair counts once (as Twilio's SDKs do) */
    snprintf(tampered, sizeof(tampered), "%s&Body=Hi", body);
    w = request("POST", "/t", "hooks.example.com", good, NULL, tampered);
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), OMNI_OK);
    omni_webhook_free(w);
    /* JSON: bodySHA256 missing or wrong */
    char *json_sig = sign(TOKEN, url, NULL);
    w = request("POST", "/t", "hooks.example.com", json_sig, "application/json", "{}");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "bodySHA256"));
    omni_webhook_free(w);
    omni_free(json_sig);
    json_sig = sign(TOKEN, "https://hooks.example.com/t?bodySHA256=abc", NULL);
    w = request("POST", "/t?bodySHA256=abc", "hooks.example.com", json_sig, "application/json",
                "{}");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    omni_webhook_free(w);
    omni_free(json_sig);
    /* methods Twilio does not use */
    w = request("PATCH", "/t", "hooks.example.com", good, NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_EWEBHOOK);
    omni_webhook_free(w);
    omni_free(good);
    omni_inbound_free(in);

    /* settings without authToken cannot verify */
    in = cu_inbound("{\"carriers\":{\"twilio\":{}}}");
    w = request("POST", "/t", "hooks.example.com", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", NULL, body);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "authToken"));
    cr_assert_null(strstr(omni_error_last_message(), TOKEN));
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(twilio_verify, verification_before_parsing)
{
    /* a forged request with a body that would parse: no events, no response */
    omni_inbound *in = cu_inbound(CONFIG);
    omni_webhook *w = request("POST", "/t", "hooks.example.com", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                              NULL, "MessageSid=SM1&From=%2B14155550199&To=%2B14155550100");
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    cr_assert_str_eq(omni_error_last_code(), "SIGNATURE_INVALID");
    omni_webhook_free(w);
    omni_inbound_free(in);
}
