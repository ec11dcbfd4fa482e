/* Tests of the inbound webhook framework: the omni_webhook object and its
 * JSON form, the carrier registry and host adapters (omni_carrier_adapter,
 * omni_event_emit), the inbound configuration and its errors, public URL
 * reconstruction, size limits, unknown carriers and the result document. */
#include "carrier_fixture.h"

/* ---- omni_webhook ------------------------------------------------------------ */

static omni_webhook *hook(const char *method, const char *url)
{
    omni_webhook *w = NULL;
    cr_assert_eq(omni_webhook_new(&w, method, url), OMNI_OK, "%s", omni_error_last_message());
    return w;
}

static void expect_bad_hook(const char *method, const char *url, int status)
{
    omni_webhook *w = (omni_webhook *)1;
    int rc = omni_webhook_new(&w, method, url);
    cr_assert_eq(rc, status, "%s %s: got %d", method ? method : "(null)", url ? url : "(null)",
                 rc);
    cr_assert_null(w);
    cr_assert_gt(strlen(omni_error_last_message()), 0);
}

Test(webhook, construction_and_accessors)
{
    omni_webhook *w = hook("POST", "/hooks/twilio?tenant=acme");
    cr_assert_str_eq(omni_webhook_method(w), "POST");
    cr_assert_str_eq(omni_webhook_url(w), "/hooks/twilio?tenant=acme");
    cr_assert_eq(omni_webhook_header_count(w), 0);
    size_t len = 9;
    cr_assert_str_eq(omni_webhook_body(w, &len), "");
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_webhook_add_header(w, "Host", "hooks.example.com"), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(w, "X-Twilio-Signature", "abc="), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(w, "x-twilio-signature", "second"), OMNI_OK);
    cr_assert_eq(omni_webhook_header_count(w), 3);
    cr_assert_str_eq(omni_webhook_header(w, "HOST"), "hooks.example.com");
    cr_assert_str_eq(omni_webhook_header(w, "x-TWILIO-signature"), "abc=");
    cr_assert_null(omni_webhook_header(w, "Missing"));
    cr_assert_str_eq(omni_webhook_header_name(w, 2), "x-twilio-signature");
    cr_assert_str_eq(omni_webhook_header_value(w, 2), "second");
    cr_assert_null(omni_webhook_header_name(w, 3));
    cr_assert_null(omni_webhook_header_value(w, 3));
    static const char body[] = "a=1\0b";
    cr_assert_eq(omni_webhook_set_body(w, body, sizeof(body) - 1), OMNI_OK);
    const char *got = omni_webhook_body(w, &len);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(got, body, 5), 0);
    cr_assert_eq(got[5], '\0');
    cr_assert_eq(omni_webhook_set_body(w, NULL, 0), OMNI_OK);
    cr_assert_str_eq(omni_webhook_body(w, NULL), "");
    omni_webhook_free(w);
    omni_webhook_free(NULL);

    w = hook("GET", "https://hooks.example.com:8443/wa?hub.mode=subscribe");
    cr_assert_str_eq(omni_webhook_url(w), "https://hooks.example.com:8443/wa?hub.mode=subscribe");
    omni_webhook_free(w);
}

Test(webhook, null_safe_accessors)
{
    cr_assert_null(omni_webhook_method(NULL));
    cr_assert_null(omni_webhook_url(NULL));
    cr_assert_null(omni_webhook_header(NULL, "Host"));
    cr_assert_eq(omni_webhook_header_count(NULL), 0);
    cr_assert_null(omni_webhook_header_name(NULL, 0));
    cr_assert_null(omni_webhook_header_value(NULL, 0));
    size_t len = 3;
    cr_assert_null(omni_webhook_body(NULL, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_webhook_add_header(NULL, "a", "b"), OMNI_EINVAL);
    cr_assert_eq(omni_webhook_set_body(NULL, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_webhook_new(NULL, "GET", "/"), OMNI_EINVAL);
}

Test(webhook, invalid_construction)
{
    expect_bad_hook(NULL, "/", OMNI_EINVAL);
    expect_bad_hook("post", "/", OMNI_EINVAL);
    expect_bad_hook("", "/", OMNI_EINVAL);
    expect_bad_hook("POST", NULL, OMNI_EINVAL);
    expect_bad_hook("POST", "", OMNI_EINVAL);
    expect_bad_hook("POST", "hooks/twilio", OMNI_EINVAL);
    expect_bad_hook("POST", "ftp://example.com/x", OMNI_EINVAL);
    expect_bad_hook("POST", "https:///path", OMNI_EINVAL);
    expect_bad_hook("POST", "https://user:pw@example.com/x", OMNI_EINVAL);
    expect_bad_hook("POST", "/a b", OMNI_EINVAL);
    expect_bad_hook("POST", "/caf\xc3\xa9", OMNI_EINVAL);
    expect_bad_hook("POST", "/a\nb", OMNI_EINVAL);
    char *long_url = malloc(OMNI_WEBHOOK_MAX_URL + 2);
    memset(long_url, 'a', OMNI_WEBHOOK_MAX_URL + 1);
    long_url[0] = '/';
    long_url[OMNI_WEBHOOK_MAX_URL + 1] = '\0';
    expect_bad_hook("POST", long_url, OMNI_ETOOLARGE);
    long_url[OMNI_WEBHOOK_MAX_URL] = '\0'; /* exactly at the limit */
    omni_webhook *w = hook("POST", long_url);
    omni_webhook_free(w);
    free(long_url);
}

Test(webhook, header_and_body_limits)
{
    omni_webhook *w = hook("POST", "/x");
    cr_assert_eq(omni_webhook_add_header(w, "Bad Name", "v"), OMNI_EINVAL);
    cr_assert_eq(omni_webhook_add_header(w, "X", "a\r\nInjected: 1"), OMNI_EINVAL);
    cr_assert_eq(omni_webhook_add_header(w, NULL, "v"), OMNI_EINVAL);
    cr_assert_eq(omni_webhook_header_count(w), 0);
    for (int i = 0; i < OMNI_WEBHOOK_MAX_HEADERS; i++)
        cr_assert_eq(omni_webhook_add_header(w, "X-N", "v"), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(w, "X-N", "v"), OMNI_ETOOLARGE);
    cr_assert_eq(omni_webhook_header_count(w), OMNI_WEBHOOK_MAX_HEADERS);

    char *big = calloc(1, OMNI_WEBHOOK_MAX_BODY + 1);
    cr_assert_eq(omni_webhook_set_body(w, "keep", 4), OMNI_OK);
    cr_assert_eq(omni_webhook_set_body(w, big, OMNI_WEBHOOK_MAX_BODY + 1), OMNI_ETOOLARGE);
    cr_assert_str_eq(omni_webhook_body(w, NULL), "keep");
    cr_assert_eq(omni_webhook_set_body(w, big, OMNI_WEBHOOK_MAX_BODY), OMNI_OK);
    cr_assert_eq(omni_webhook_set_body(w, NULL, 3), OMNI_EINVAL);
    free(big);
    omni_webhook_free(w);
}

/* ---- JSON form ------------------------------------------------------------------- */

static omni_webhook *from_json(const char *json)
{
    omni_webhook *w = NULL;
    int rc = omni_webhook_from_json(&w, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "%s: %s", json, omni_error_last_message());
    return w;
}

static void expect_bad_json(const char *json, int status)
{
    omni_webhook *w = (omni_webhook *)1;
    int rc = omni_webhook_from_json(&w, json, strlen(json));
    cr_assert_eq(rc, status, "%s: got %s (%s)", json, omni_status_code(rc),
                 omni_error_last_message());
    cr_assert_null(w);
}

Test(webhook_json, object_and_array_headers)
{
    omni_webhook *w = from_json("{\"method\":\"POST\",\"url\":\"/t?x=1\",\"headers\":"
                                "{\"Host\":\"h.example\",\"Content-Type\":\"text/plain\"},"
                                "\"body\":\"hello\"}");
    cr_assert_str_eq(omni_webhook_method(w), "POST");
    cr_assert_str_eq(omni_webhook_url(w), "/t?x=1");
    cr_assert_str_eq(omni_webhook_header(w, "content-type"), "text/plain");
    cr_assert_str_eq(omni_webhook_body(w, NULL), "hello");
    omni_webhook_free(w);

    w = from_json("{\"method\":\"GET\",\"url\":\"https://h.example/\",\"headers\":"
                  "[[\"X-A\",\"1\"],[\"x-a\",\"2\"]],\"bodyBase64\":\"AP8=\"}");
    cr_assert_eq(omni_webhook_header_count(w), 2);
    cr_assert_str_eq(omni_webhook_header_value(w, 1), "2");
    size_t len;
    const unsigned char *b = (const unsigned char *)omni_webhook_body(w, &len);
    cr_assert_eq(len, 2);
    cr_assert_eq(b[0], 0x00);
    cr_assert_eq(b[1], 0xFF);
    omni_webhook_free(w);

    w = from_json("{\"url\":\"/\",\"method\":\"DELETE\"}");
    cr_assert_eq(omni_webhook_header_count(w), 0);
    omni_webhook_free(w);
}

Test(webhook_json, errors)
{
    expect_bad_json("", OMNI_EJSON);
    expect_bad_json("{\"method\":\"POST\",", OMNI_EJSON);
    expect_bad_json("[]", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"url\":\"/\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":1,\"url\":\"/\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"extra\":1}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"url\":\"/\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"post\",\"url\":\"/\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"relative\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"headers\":\"Host: x\"}",
                    OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"headers\":{\"A\":1}}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"headers\":[[\"A\"]]}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"headers\":{\"Bad Name\":\"v\"}}",
                    OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"body\":\"a\",\"bodyBase64\":\"YQ==\"}",
                    OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"body\":5}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"bodyBase64\":\"***\"}", OMNI_EWEBHOOK);
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"bodyBase64\":7}", OMNI_EWEBHOOK);
    /* cJSON strings end at NUL: a \u0000 would cut the body silently */
    expect_bad_json("{\"method\":\"POST\",\"url\":\"/\",\"body\":\"a\\u0000b\"}", OMNI_EJSON);
    cr_assert_eq(omni_webhook_from_json(NULL, "{}", 2), OMNI_EINVAL);
    omni_webhook *w;
    cr_assert_eq(omni_webhook_from_json(&w, NULL, 2), OMNI_EINVAL);
}

Test(webhook_json, body_size_limits)
{
    size_t n = OMNI_WEBHOOK_MAX_BODY + 1;
    char *json = malloc(n + 64);
    cr_assert_not_null(json);
    int k = sprintf(json, "{\"method\":\"POST\",\"url\":\"/\",\"body\":\"");
    cr_assert_gt(k, 0);
    memset(json + k, 'a', n);
    strcpy(json + k + n, "\"}");
    expect_bad_json(json, OMNI_ETOOLARGE);
    /* base64 of more than the limit */
    size_t b64 = ((n + 2) / 3) * 4;
    json = realloc(json, b64 + 64);
    cr_assert_not_null(json);
    k = sprintf(json, "{\"method\":\"POST\",\"url\":\"/\",\"bodyBase64\":\"");
    memset(json + k, 'A', b64);
    strcpy(json + k + b64, "\"}");
    expect_bad_json(json, OMNI_ETOOLARGE);
    free(json);
}

/* ---- registry ------------------------------------------------------------------- */

Test(registry, builtins_and_list)
{
    omni_carriers *reg = NULL;
    cr_assert_eq(omni_carriers_new(&reg), OMNI_OK);
    char *list;
    size_t len;
    cr_assert_eq(omni_carriers_list(&list, &len, reg), OMNI_OK);
    cr_assert_str_eq(list, "[\"twilio\",\"whatsapp\",\"bandwidth\",\"messagebird\",\"livechat\","
                           "\"inteliquent\"]");
    cr_assert_eq(len, strlen(list));
    omni_free(list);
    cr_assert_eq(omni_carriers_list(NULL, &len, reg), OMNI_EINVAL);
    cr_assert_eq(omni_carriers_list(&list, &len, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_carriers_new(NULL), OMNI_EINVAL);
    omni_carriers_free(reg);
    omni_carriers_free(NULL);
}

/* A host adapter that records what it was given. */
typedef struct recorder {
    int verify_calls, parse_calls;
    char public_url[1024];
    char settings[512];
    int64_t now_ms;
    int verify_rc, parse_rc;
    int set_message;
    const char *events[4]; /* emitted by parse */
    int emit_rc[4];
} recorder;

static int rec_verify(void *ctx, const omni_webhook *req, const char *public_url,
                      const char *settings, size_t settings_len, int64_t now_ms)
{
    recorder *r = ctx;
    (void)req;
    r->verify_calls++;
    snprintf(r->public_url, sizeof(r->public_url), "%s", public_url);
    snprintf(r->settings, sizeof(r->settings), "%.*s", (int)settings_len, settings);
    r->now_ms = now_ms;
    if (r->verify_rc && r->set_message)
        return omni_error_set(r->verify_rc, "host says no", -1);
    return r->verify_rc;
}

static int rec_parse(void *ctx, const omni_webhook *req, const char *settings,
                     size_t settings_len, omni_event_sink *sink)
{
    recorder *r = ctx;
    (void)req;
    (void)settings;
    (void)settings_len;
    r->parse_calls++;
    for (int i = 0; i < 4 && r->events[i]; i++)
        r->emit_rc[i] = omni_event_emit(sink, r->events[i], strlen(r->events[i]));
    return r->parse_rc;
}

static omni_carrier_adapter rec_adapter(recorder *r, const char *name)
{
    omni_carrier_adapter a = OMNI_CARRIER_ADAPTER_INIT;
    a.ctx = r;
    a.name = name;
    a.verify = rec_verify;
    a.parse = rec_parse;
    return a;
}

Test(registry, register_validation)
{
    omni_carriers *reg;
    cr_assert_eq(omni_carriers_new(&reg), OMNI_OK);
    recorder r = {0};
    omni_carrier_adapter a = rec_adapter(&r, "acme-sms_2");
    cr_assert_eq(omni_carriers_register(reg, &a), OMNI_OK);
    cr_assert_eq(omni_carriers_register(reg, &a), OMNI_OK); /* replaces itself */

    omni_carrier_adapter bad = a;
    bad.version = 0;
    cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_EVERSION);
    bad.version = OMNI_CARRIER_ADAPTER_VERSION + 1;
    cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_EVERSION);
    static const char *const bad_names[] = {"", "Acme", "a b", "a.b", "caf\xc3\xa9",
                                            "abcdefghijklmnopqrstuvwxyz0123456", NULL};
    for (int i = 0; bad_names[i]; i++) {
        bad = a;
        bad.name = bad_names[i];
        cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_EINVAL, "%s", bad_names[i]);
    }
    bad = a;
    bad.name = NULL;
    cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_EINVAL);
    bad = a;
    bad.name = "abcdefghijklmnopqrstuvwxyz012345"; /* 32 bytes: fine */
    cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_OK);
    bad = a;
    bad.verify = NULL;
    cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_EINVAL);
    bad = a;
    bad.parse = NULL;
    cr_assert_eq(omni_carriers_register(reg, &bad), OMNI_EINVAL);
    cr_assert_eq(omni_carriers_register(NULL, &a), OMNI_EINVAL);
    cr_assert_eq(omni_carriers_register(reg, NULL), OMNI_EINVAL);

    char *list;
    cr_assert_eq(omni_carriers_list(&list, NULL, reg), OMNI_OK);
    cr_assert_str_eq(list, "[\"twilio\",\"whatsapp\",\"bandwidth\",\"messagebird\",\"livechat\","
                           "\"inteliquent\",\"acme-sms_2\",\"abcdefghijklmnopqrstuvwxyz012345\"]");
    omni_free(list);
    omni_carriers_free(reg);
}

Test(registry, adapter_init)
{
    omni_carrier_adapter a;
    memset(&a, 0x55, sizeof(a));
    cr_assert_eq(omni_carrier_adapter_init(&a, OMNI_CARRIER_ADAPTER_VERSION), OMNI_OK);
    cr_assert_eq(a.version, OMNI_CARRIER_ADAPTER_VERSION);
    cr_assert_null(a.ctx);
    cr_assert_null(a.name);
    cr_assert_null(a.verify);
    cr_assert_null(a.parse);
    cr_assert_eq(omni_carrier_adapter_init(&a, 0), OMNI_EVERSION);
    cr_assert_eq(omni_carrier_adapter_init(&a, 2), OMNI_EVERSION);
    cr_assert_eq(omni_carrier_adapter_init(NULL, 1), OMNI_EINVAL);
}

/* ---- host adapters through omni_inbound ------------------------------------------ */

static omni_inbound *inbound_with(recorder *r, const char *name, const char *config)
{
    omni_carriers *reg;
    cr_assert_eq(omni_carriers_new(&reg), OMNI_OK);
    omni_carrier_adapter a = rec_adapter(r, name);
    cr_assert_eq(omni_carriers_register(reg, &a), OMNI_OK);
    omni_inbound *in = NULL;
    int rc = omni_inbound_new(&in, config, strlen(config), reg);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    omni_carriers_free(reg); /* the inbound keeps its own copy */
    return in;
}

Test(host_adapter, verify_parse_and_emit)
{
    recorder r = {0};
    r.events[0] = "{\"kind\":\"message\",\"channelType\":\"chat\",\"senderIdentifier\":"
                  "{\"userId\":\"u1\"},\"recipientIdentifier\":{},\"message\":{\"id\":\"m-1\","
                  "\"content\":\"hi\",\"contentType\":\"text\",\"timestamp\":"
                  "\"2026-11-22T09:30:00.000Z\"},\"rawPayload\":{}}";
    r.events[1] = "{\"kind\":\"status\",\"carrier\":\"spoofed\",\"carrierMessageId\":\"m-0\","
                  "\"status\":\"delivered\",\"timestamp\":\"2026-11-22T09:30:00.000Z\"}";
    r.events[2] = "{\"kind\":\"status\",\"correlationId\":\"given\",\"carrierMessageId\":\"m-2\","
                  "\"status\":\"read\"}";
    omni_inbound *in = inbound_with(&r, "acme", "{\"carriers\":{\"acme\":{\"key\":\"k1\","
                                                "\"nested\":{\"a\":[1,2]}}}}");
    omni_engine *e = cu_engine_at("2026-11-22T09:30:00Z");
    omni_webhook *w = hook("POST", "/hooks/acme?x=1");
    cr_assert_eq(omni_webhook_add_header(w, "Host", "hooks.example.com"), OMNI_OK);
    cJSON *res = cu_handle(in, e, "acme", w);
    cr_assert_eq(r.verify_calls, 1);
    cr_assert_eq(r.parse_calls, 1);
    cr_assert_str_eq(r.public_url, "https://hooks.example.com/hooks/acme?x=1");
    cr_assert_str_eq(r.settings, "{\"key\":\"k1\",\"nested\":{\"a\":[1,2]}}");
    cr_assert_eq(r.now_ms, 1795339800000);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(r.emit_rc[i], OMNI_OK);
    cu_assert_str(cu_str(res, "carrier", NULL, NULL), "acme");
    cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 3);
    const cJSON *ev = cu_event(res, 0);
    cu_assert_str(cu_str(ev, "kind", NULL, NULL), "message");
    cu_assert_str(cu_str(ev, "carrier", NULL, NULL), "acme");
    cu_assert_correlation(ev, "acme", "m-1");
    cu_assert_str(cu_str(ev, "message", "content", NULL), "hi");
    ev = cu_event(res, 1);
    cu_assert_str(cu_str(ev, "carrier", NULL, NULL), "acme"); /* never the host's claim */
    cu_assert_correlation(ev, "acme", "m-0");
    cu_assert_str(cu_str(cu_event(res, 2), "correlationId", NULL, NULL), "given");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(res, "response")->child->valueint, 200);
    cJSON_Delete(res);

    /* verify alone */
    cr_assert_eq(omni_inbound_verify(in, e, "acme", w), OMNI_OK);
    cr_assert_eq(r.verify_calls, 2);
    cr_assert_eq(r.parse_calls, 1);
    omni_webhook_free(w);
    omni_engine_free(e);
    omni_inbound_free(in);
}

Test(host_adapter, failures)
{
    recorder r = {0};
    omni_inbound *in = inbound_with(&r, "acme", "{\"carriers\":{\"acme\":{}}}");
    omni_webhook *w = hook("POST", "/h");

    r.verify_rc = OMNI_ESIGNATURE; /* no message of its own: a generic one */
    cu_handle_fails(in, NULL, "acme", w, OMNI_ESIGNATURE);
    cr_assert_eq(r.parse_calls, 0);
    r.set_message = 1;
    cu_handle_fails(in, NULL, "acme", w, OMNI_ESIGNATURE);
    cr_assert_str_eq(omni_error_last_message(), "host says no");
    cr_assert_eq(omni_inbound_verify(in, NULL, "acme", w), OMNI_ESIGNATURE);
    r.verify_rc = 3; /* not a status */
    r.set_message = 0;
    cu_handle_fails(in, NULL, "acme", w, OMNI_EHOOK);

    r.verify_rc = OMNI_OK;
    r.parse_rc = OMNI_EWEBHOOK;
    r.events[0] = "{\"kind\":\"status\",\"carrierMessageId\":\"m\",\"status\":\"sent\"}";
    cu_handle_fails(in, NULL, "acme", w, OMNI_EWEBHOOK);
    cr_assert_eq(r.emit_rc[0], OMNI_OK); /* emitted, but the failure discards it */
    r.parse_rc = 9;
    cu_handle_fails(in, NULL, "acme", w, OMNI_EHOOK);

    /* invalid events are refused by omni_event_emit */
    r.parse_rc = OMNI_OK;
    static const char *const bad[] = {
        "[]",
        "{\"kind\":\"other\"}",
        "{\"message\":{\"id\":\"x\"}}",
        "{\"kind\":\"message\",\"message\":{}}",
        "{\"kind\":\"message\",\"message\":\"x\"}",
        "{\"kind\":\"status\",\"status\":\"sent\"}",
        "{\"kind\":\"status\",\"carrierMessageId\":\"m\",\"status\":\"lost\"}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        r.events[0] = bad[i];
        cJSON *res = cu_handle(in, NULL, "acme", w);
        cr_assert_eq(r.emit_rc[0], OMNI_EINVAL, "%s", bad[i]);
        cr_assert_eq(cJSON_GetArraySize(cu_events(res)), 0);
        cJSON_Delete(res);
    }
    r.events[0] = "{\"kind\":";
    cJSON *res = cu_handle(in, NULL, "acme", w);
    cr_assert_eq(r.emit_rc[0], OMNI_EJSON);
    cJSON_Delete(res);
    cr_assert_eq(omni_event_emit(NULL, "{}", 2), OMNI_EINVAL);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(host_adapter, replaces_builtin_and_needs_settings)
{
    recorder r = {0};
    omni_inbound *in = inbound_with(&r, "twilio", "{}");
    omni_webhook *w = hook("POST", "/h");
    /* no settings: never verified, never parsed */
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ESIGNATURE);
    cr_assert_eq(r.verify_calls, 0);
    omni_inbound_free(in);

    in = inbound_with(&r, "twilio", "{\"carriers\":{\"twilio\":{\"verify\":false}}}");
    cJSON *res = cu_handle(in, NULL, "twilio", w);
    cr_assert_eq(r.verify_calls, 0); /* verification off */
    cr_assert_eq(r.parse_calls, 1);  /* the host's adapter, not the built-in */
    cJSON_Delete(res);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

/* ---- configuration ------------------------------------------------------------------- */

static void expect_config_error(const char *config, int status, const char *path)
{
    omni_inbound *in = (omni_inbound *)1;
    int rc = omni_inbound_new(&in, config, strlen(config), NULL);
    cr_assert_eq(rc, status, "%s: got %s (%s)", config, omni_status_code(rc),
                 omni_error_last_message());
    cr_assert_null(in);
    if (path) {
        const char *details = omni_error_last()->details;
        cr_assert_not_null(details, "%s: no details", config);
        cJSON *d = cJSON_Parse(details);
        cu_assert_str(cu_str(d, "path", NULL, NULL), path);
        cJSON_Delete(d);
        /* the message names the path too, and never a secret */
        cr_assert_not_null(strstr(omni_error_last_message(), path[0] ? path : "(root)"), "%s",
                           omni_error_last_message());
    }
    cr_assert_null(strstr(omni_error_last_message(), "s3cr3t"));
}

Test(config, defaults_and_valid)
{
    omni_inbound *in = NULL;
    cr_assert_eq(omni_inbound_new(&in, NULL, 0, NULL), OMNI_OK);
    omni_inbound_free(in);
    in = cu_inbound("{}");
    omni_inbound_free(in);
    in = cu_inbound("{\"publicBaseUrl\":\"https://hooks.example.com/api/\","
                    "\"trustForwardedHeaders\":true,\"maxBodyBytes\":65536,"
                    "\"defaultRegion\":\"GB\",\"carriers\":{"
                    "\"twilio\":{\"authToken\":\"s3cr3t\"},"
                    "\"whatsapp\":{\"appSecret\":\"s3cr3t\",\"verifyToken\":\"t\"}}}");
    omni_inbound_free(in);
    omni_inbound_free(NULL);
    cr_assert_eq(omni_inbound_new(NULL, "{}", 2, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_inbound_new(&in, NULL, 5, NULL), OMNI_EINVAL);
}

Test(config, errors_name_the_path)
{
    expect_config_error("{", OMNI_EJSON, NULL);
    expect_config_error("[]", OMNI_ECONFIG, "");
    expect_config_error("{\"carriers\":{},\"publicUrl\":\"x\"}", OMNI_ECONFIG, "publicUrl");
    expect_config_error("{\"maxBodyBytes\":1,\"maxBodyBytes\":2}", OMNI_ECONFIG,
                        "maxBodyBytes");
    expect_config_error("{\"publicBaseUrl\":5}", OMNI_ECONFIG, "publicBaseUrl");
    expect_config_error("{\"publicBaseUrl\":\"hooks.example.com\"}", OMNI_ECONFIG,
                        "publicBaseUrl");
    expect_config_error("{\"publicBaseUrl\":\"ftp://hooks.example.com\"}", OMNI_ECONFIG,
                        "publicBaseUrl");
    expect_config_error("{\"publicBaseUrl\":\"https://hooks.example.com/?a=1\"}", OMNI_ECONFIG,
                        "publicBaseUrl");
    expect_config_error("{\"publicBaseUrl\":\"https://u:p@hooks.example.com\"}", OMNI_ECONFIG,
                        "publicBaseUrl");
    expect_config_error("{\"publicBaseUrl\":\"https://hooks.example.com:99999\"}", OMNI_ECONFIG,
                        "publicBaseUrl");
    expect_config_error("{\"publicBaseUrl\":\"https://\"}", OMNI_ECONFIG, "publicBaseUrl");
    expect_config_error("{\"trustForwardedHeaders\":1}", OMNI_ECONFIG, "trustForwardedHeaders");
    expect_config_error("{\"maxBodyBytes\":0}", OMNI_ECONFIG, "maxBodyBytes");
    expect_config_error("{\"maxBodyBytes\":1048577}", OMNI_ECONFIG, "maxBodyBytes");
    expect_config_error("{\"maxBodyBytes\":1.5}", OMNI_ECONFIG, "maxBodyBytes");
    expect_config_error("{\"defaultRegion\":\"us\"}", OMNI_ECONFIG, "defaultRegion");
    expect_config_error("{\"defaultRegion\":\"USA\"}", OMNI_ECONFIG, "defaultRegion");
    expect_config_error("{\"carriers\":[]}", OMNI_ECONFIG, "carriers");
    expect_config_error("{\"carriers\":{\"sinch\":{}}}", OMNI_ECONFIG, "carriers.sinch");
    expect_config_error("{\"carriers\":{\"twilio\":{},\"twilio\":{}}}", OMNI_ECONFIG,
                        "carriers.twilio");
    expect_config_error("{\"carriers\":{\"twilio\":\"s3cr3t\"}}", OMNI_ECONFIG,
                        "carriers.twilio");
    expect_config_error("{\"carriers\":{\"twilio\":{\"verify\":\"no\"}}}", OMNI_ECONFIG,
                        "carriers.twilio.verify");
    expect_config_error("{\"carriers\":{\"twilio\":{\"authToken\":\"\"}}}", OMNI_ECONFIG,
                        "carriers.twilio.authToken");
    expect_config_error("{\"carriers\":{\"twilio\":{\"authToken\":12345}}}", OMNI_ECONFIG,
                        "carriers.twilio.authToken");
    expect_config_error("{\"carriers\":{\"twilio\":{\"authToken\":\"s3cr3t\",\"token\":\"x\"}}}",
                        OMNI_ECONFIG, "carriers.twilio.token");
    expect_config_error("{\"carriers\":{\"whatsapp\":{\"appSecret\":true}}}", OMNI_ECONFIG,
                        "carriers.whatsapp.appSecret");
    expect_config_error("{\"carriers\":{\"whatsapp\":{\"verifyToken\":\"\"}}}", OMNI_ECONFIG,
                        "carriers.whatsapp.verifyToken");
    expect_config_error("{\"carriers\":{\"whatsapp\":{\"appSecret\":\"s3cr3t\",\"x\":1}}}",
                        OMNI_ECONFIG, "carriers.whatsapp.x");
    expect_config_error("{\"carriers\":{\"twilio\":{\"authToken\":\"s\\u0000\"}}}", OMNI_EJSON,
                        NULL);
}

/* ---- public URL reconstruction ----------------------------------------------------- */

/* The public URL a host adapter receives for this request. */
static void expect_url(const char *config_extra, const char *url, const char *const *headers,
                       const char *expected)
{
    recorder r = {0};
    char config[512];
    snprintf(config, sizeof(config), "{%s%s\"carriers\":{\"acme\":{}}}", config_extra,
             config_extra[0] ? "," : "");
    omni_inbound *in = inbound_with(&r, "acme", config);
    omni_webhook *w = hook("POST", url);
    for (int i = 0; headers && headers[i]; i += 2)
        cr_assert_eq(omni_webhook_add_header(w, headers[i], headers[i + 1]), OMNI_OK);
    cr_assert_eq(omni_inbound_verify(in, NULL, "acme", w), OMNI_OK);
    cr_assert_str_eq(r.public_url, expected, "%s %s", config_extra, url);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(public_url, from_host_header)
{
    const char *h[] = {"Host", "hooks.example.com", NULL};
    expect_url("", "/twilio/sms?tenant=acme", h,
               "https://hooks.example.com/twilio/sms?tenant=acme");
    expect_url("", "/a#frag", h, "https://hooks.example.com/a");
    const char *h443[] = {"Host", "hooks.example.com:443", NULL};
    expect_url("", "/a", h443, "https://hooks.example.com/a"); /* default port omitted */
    const char *h8443[] = {"Host", "hooks.example.com:8443", NULL};
    expect_url("", "/a", h8443, "https://hooks.example.com:8443/a");
    const char *v6[] = {"Host", "[2001:db8::1]:8443", NULL};
    expect_url("", "/a", v6, "https://[2001:db8::1]:8443/a");
    /* no usable host: empty (adapters that need it then refuse the request) */
    expect_url("", "/a", NULL, "");
    const char *bad[] = {"Host", "evil.example.com/x", NULL};
    expect_url("", "/a", bad, "");
    const char *badport[] = {"Host", "hooks.example.com:0", NULL};
    expect_url("", "/a", badport, "");
}

Test(public_url, absolute_request_url)
{
    const char *h[] = {"Host", "ignored.example.com", NULL};
    expect_url("", "http://hooks.example.com:8080/x?y=1", h, "http://hooks.example.com:8080/x?y=1");
    expect_url("", "HTTPS://hooks.example.com:443?y=1", h, "https://hooks.example.com/?y=1");
    expect_url("", "http://hooks.example.com:80", h, "http://hooks.example.com/");
}

Test(public_url, configured_base)
{
    const char *h[] = {"Host", "10.0.0.5:8080", "X-Forwarded-Host", "evil.example.com", NULL};
    expect_url("\"publicBaseUrl\":\"https://hooks.example.com\"", "/twilio/sms?x=1", h,
               "https://hooks.example.com/twilio/sms?x=1");
    expect_url("\"publicBaseUrl\":\"https://hooks.example.com/api/\"", "/twilio/sms", h,
               "https://hooks.example.com/api/twilio/sms");
    expect_url("\"publicBaseUrl\":\"https://hooks.example.com:8443\",\"trustForwardedHeaders\":"
               "true",
               "http://internal:8080/x?q", h, "https://hooks.example.com:8443/x?q");
}

Test(public_url, forwarded_headers_only_when_trusted)
{
    const char *h[] = {"Host",          "10.0.0.5:8080", "X-Forwarded-Proto", "https",
                       "X-Forwarded-Host", "hooks.example.com", "X-Forwarded-Port", "443",
                       NULL};
    expect_url("", "/sms", h, "https://10.0.0.5:8080/sms");
    expect_url("\"trustForwardedHeaders\":false", "/sms", h, "https://10.0.0.5:8080/sms");
    expect_url("\"trustForwardedHeaders\":true", "/sms", h, "https://hooks.example.com/sms");
    const char *chain[] = {"Host",          "10.0.0.5",
                           "X-Forwarded-Proto", "http, https",
                           "X-Forwarded-Host", " hooks.example.com , proxy.internal",
                           "X-Forwarded-Port", "8080, 443",
                           NULL};
    expect_url("\"trustForwardedHeaders\":true", "/sms", chain,
               "http://hooks.example.com:8080/sms");
    const char *port_only[] = {"Host", "hooks.example.com:9000", "X-Forwarded-Port", "8443",
                               NULL};
    expect_url("\"trustForwardedHeaders\":true", "/sms", port_only,
               "https://hooks.example.com:8443/sms");
    const char *junk[] = {"Host",          "hooks.example.com", "X-Forwarded-Proto", "gopher",
                          "X-Forwarded-Host", "bad host",       "X-Forwarded-Port", "99999",
                          NULL};
    expect_url("\"trustForwardedHeaders\":true", "/sms", junk, "https://hooks.example.com/sms");
}

/* ---- limits, unknown carriers, results ------------------------------------------------ */

Test(inbound, unknown_carrier)
{
    omni_inbound *in = cu_inbound("{\"carriers\":{\"twilio\":{\"verify\":false}}}");
    omni_webhook *w = hook("POST", "/x");
    cu_handle_fails(in, NULL, "sinch", w, OMNI_ECARRIER);
    cr_assert_str_eq(omni_error_last_code(), "UNKNOWN_CARRIER");
    cr_assert_not_null(strstr(omni_error_last_message(), "sinch"));
    cr_assert_eq(omni_inbound_verify(in, NULL, "Twilio", w), OMNI_ECARRIER);
    cu_handle_fails(in, NULL, "bad\"name\n", w, OMNI_ECARRIER);
    cr_assert_null(strchr(omni_error_last_message(), '\n'));
    cu_handle_fails(in, NULL, "", w, OMNI_ECARRIER);
    cr_assert_eq(omni_inbound_verify(NULL, NULL, "twilio", w), OMNI_EINVAL);
    cr_assert_eq(omni_inbound_verify(in, NULL, NULL, w), OMNI_EINVAL);
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", NULL), OMNI_EINVAL);
    char *out;
    cr_assert_eq(omni_inbound_handle(NULL, NULL, in, NULL, "twilio", w), OMNI_EINVAL);
    cr_assert_eq(omni_inbound_handle(&out, NULL, NULL, NULL, "twilio", w), OMNI_EINVAL);
    cr_assert_null(out);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(inbound, body_size_limit)
{
    omni_inbound *in = cu_inbound("{\"maxBodyBytes\":16,\"carriers\":{\"twilio\":{\"verify\":"
                                  "false}}}");
    omni_webhook *w = hook("POST", "/x");
    cr_assert_eq(omni_webhook_add_header(w, "Host", "h.example"), OMNI_OK);
    cr_assert_eq(omni_webhook_set_body(w, "MessageSid=SM1&F", 16), OMNI_OK);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_EWEBHOOK); /* within the limit: parsed */
    cr_assert_eq(omni_webhook_set_body(w, "MessageSid=SM1&Fr", 17), OMNI_OK);
    cu_handle_fails(in, NULL, "twilio", w, OMNI_ETOOLARGE);
    cr_assert_str_eq(omni_error_last_code(), "PAYLOAD_TOO_LARGE");
    cr_assert_eq(omni_inbound_verify(in, NULL, "twilio", w), OMNI_ETOOLARGE);
    /* the unknown carrier is reported before the size */
    cu_handle_fails(in, NULL, "nope", w, OMNI_ECARRIER);
    omni_webhook_free(w);
    omni_inbound_free(in);
}

Test(inbound, result_document_and_correlation_namespace)
{
    /* the documented namespace derivation */
    char ns[OMNI_UUID_STRLEN];
    const char *urn = "urn:libomni:carrier-message";
    cr_assert_eq(omni_uuid5(ns, OMNI_UUID_NS_URL, urn, strlen(urn)), OMNI_OK);
    cr_assert_str_eq(ns, OMNI_CARRIER_MESSAGE_NAMESPACE);

    omni_inbound *in = cu_inbound("{\"carriers\":{\"twilio\":{\"verify\":false}}}");
    omni_engine *e = cu_engine_at("2026-11-22T09:30:00.250Z");
    omni_webhook *w = hook("POST", "/x");
    const char *body = "MessageSid=SMabc&From=%2B14155550199&To=%2B14155550100&Body=Hi";
    cr_assert_eq(omni_webhook_set_body(w, body, strlen(body)), OMNI_OK);
    cJSON *res = cu_handle(in, e, "twilio", w);
    const cJSON *c;
    int i = 0;
    static const char *const keys[] = {"carrier", "events", "response"};
    cJSON_ArrayForEach(c, res) cr_assert_str_eq(c->string, keys[i++]);
    cr_assert_eq(i, 3);
    const cJSON *ev = cu_event(res, 0);
    cu_assert_correlation(ev, "twilio", "SMabc");
    cu_assert_str(cu_str(ev, "message", "timestamp", NULL), "2026-11-22T09:30:00.250Z");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(resp, "status")->valueint, 200);
    cu_assert_str(cu_str(resp, "headers", "Content-Type", NULL), "text/xml");
    cJSON_Delete(res);
    /* the same request twice gives the same ids (redelivery) */
    res = cu_handle(in, NULL, "twilio", w);
    cu_assert_correlation(cu_event(res, 0), "twilio", "SMabc");
    cJSON_Delete(res);
    omni_webhook_free(w);
    omni_engine_free(e);
    omni_inbound_free(in);
}

Test(inbound, registry_is_copied)
{
    recorder r = {0};
    omni_carriers *reg;
    cr_assert_eq(omni_carriers_new(&reg), OMNI_OK);
    omni_inbound *in = NULL;
    cr_assert_eq(omni_inbound_new(&in, "{}", 2, reg), OMNI_OK);
    omni_carrier_adapter a = rec_adapter(&r, "late");
    cr_assert_eq(omni_carriers_register(reg, &a), OMNI_OK);
    omni_webhook *w = hook("POST", "/x");
    cu_handle_fails(in, NULL, "late", w, OMNI_ECARRIER); /* registered after the copy */
    omni_webhook_free(w);
    omni_inbound_free(in);
    omni_carriers_free(reg);
}

/* ---- thread-safety ------------------------------------------------------------------- */

#include <pthread.h>

typedef struct shared_run {
    omni_inbound *in;
    omni_webhook *twilio, *whatsapp;
    const char *expect_twilio, *expect_whatsapp;
    int failures;
} shared_run;

static void *handle_many(void *p)
{
    shared_run *s = p;
    for (int i = 0; i < 200; i++) {
        char *a = NULL, *b = NULL;
        if (omni_inbound_handle(&a, NULL, s->in, NULL, "twilio", s->twilio) != OMNI_OK ||
            omni_inbound_handle(&b, NULL, s->in, NULL, "whatsapp", s->whatsapp) != OMNI_OK ||
            strcmp(b, s->expect_whatsapp) != 0 || strstr(a, s->expect_twilio) == NULL)
            __atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
        omni_free(a);
        omni_free(b);
    }
    return NULL;
}

Test(inbound, one_inbound_shared_by_threads)
{
    /* omni_inbound (prepared HMAC keys and digest states included) is
     * immutable: many threads verify and parse with it at once. */
    omni_inbound *in = cu_inbound("{\"carriers\":{"
                                  "\"twilio\":{\"authToken\":\"test-auth-token-0123456789abcdef\"},"
                                  "\"whatsapp\":{\"appSecret\":\"test-app-secret-0123456789\"}}}");
    shared_run s = {in, cu_fixture("twilio", "sms"), cu_fixture("whatsapp", "batch"), NULL, NULL,
                    0};
    char *first;
    cr_assert_eq(omni_inbound_handle(&first, NULL, in, NULL, "whatsapp", s.whatsapp), OMNI_OK);
    s.expect_whatsapp = first;
    s.expect_twilio = "\"correlationId\":\"12fe6485-4095-5a92-9647-56f09ef0a5b7\"";
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, handle_many, &s), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(s.failures, 0);
    omni_free(first);
    omni_webhook_free(s.twilio);
    omni_webhook_free(s.whatsapp);
    omni_inbound_free(in);
}
