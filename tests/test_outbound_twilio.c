/* Outbound adapter "twilio": golden requests (tests/data/outbound/twilio/<case>.json, written
 * from Twilio's Messages resource documentation: POST /2010-04-01/Accounts/{AccountSid}/
 * Messages.json, form-encoded To/From/MessagingServiceSid/Body/MediaUrl/ContentSid/
 * ContentVariables/StatusCallback, HTTP Basic auth), the response -> result table
 * (responses.json: success, every mapped Twilio error code, 429 with Retry-After in seconds
 * and as an HTTP-date, 5xx, non-JSON bodies), and every error path of configuration and
 * build, checking that no secret leaks into an error message or a result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>


#define PROVIDER "twilio"
#define SECRET "tw-secret-token-9f8e7d"
#include "outbound_golden.inc"

static const char *const base_cfg =
    "{\"twilio\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\","
    "\"authToken\":\"" SECRET "\"}}";

Test(outbound_twilio, golden_requests)
{
    int n = run_goldens();
    cr_assert_geq(n, 7, "only %d golden cases", n);
}

Test(outbound_twilio, responses)
{
    int n = run_responses(base_cfg);
    cr_assert_geq(n, 20);
}

Test(outbound_twilio, carriers_list)
{
    const char *const *c = omni_outbound_carriers();
    int found = 0;
    for (; *c; c++)
        found |= strcmp(*c, "twilio") == 0;
    cr_assert(found);
}

/* ---- configuration errors ------------------------------------------------------ */

Test(outbound_twilio, config_errors)
{
    static const struct {
        const char *json, *path;
    } cases[] = {
        {"{\"twilio\":{\"authToken\":\"" SECRET "\"}}", "twilio.accountSid"},
        {"{\"twilio\":{\"accountSid\":\"XX0123\",\"authToken\":\"" SECRET "\"}}",
         "twilio.accountSid"},
        {"{\"twilio\":{\"accountSid\":\"AC12-34\",\"authToken\":\"" SECRET "\"}}",
         "twilio.accountSid"},
        {"{\"twilio\":{\"accountSid\":7,\"authToken\":\"" SECRET "\"}}", "twilio.accountSid"},
        {"{\"twilio\":{\"accountSid\":\"AC1\"}}", "twilio.authToken"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"" SECRET "\",\"apiKeySid\":\"SK1\","
         "\"apiKeySecret\":\"" SECRET "\"}}",
         "twilio.authToken"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"apiKeySid\":\"SK1\"}}", "twilio.apiKeySecret"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"apiKeySecret\":\"" SECRET "\"}}",
         "twilio.apiKeySid"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"apiKeySid\":\"AC2\",\"apiKeySecret\":\"" SECRET
         "\"}}",
         "twilio.apiKeySid"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":5}}", "twilio.authToken"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"\"}}", "twilio.authToken"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"" SECRET
         "\",\"messagingServiceSid\":\"XY1\"}}",
         "twilio.messagingServiceSid"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"" SECRET
         "\",\"statusCallback\":\"ftp://x\"}}",
         "twilio.statusCallback"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"" SECRET
         "\",\"baseUrl\":\"api.twilio.com\"}}",
         "twilio.baseUrl"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"" SECRET "\",\"region\":\"us\"}}",
         "twilio.region"},
        {"{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":"
         "{\"env\":\"OMNI_TEST_NO_SUCH_VAR_X\"}}}",
         "twilio.authToken"},
        {"{\"twilio\":[]}", "twilio"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_outbound *ob = (omni_outbound *)1;
        int rc = omni_outbound_new(&ob, cases[i].json, strlen(cases[i].json));
        cr_assert_eq(rc, OMNI_ECONFIG, "case %zu: %d", i, rc);
        cr_assert_null(ob);
        expect_path(cases[i].path);
        cr_assert_null(strstr(omni_error_last_message(), SECRET), "case %zu leaks", i);
    }
    /* the missing environment variable is named */
    omni_outbound *ob = NULL;
    const char *env = cases[15].json;
    cr_assert_eq(omni_outbound_new(&ob, env, strlen(env)), OMNI_ECONFIG);
    cr_assert_not_null(strstr(omni_error_last_message(), "OMNI_TEST_NO_SUCH_VAR_X"));
}

Test(outbound_twilio, config_env_secret)
{
    setenv("OMNI_TEST_TW_TOKEN", SECRET, 1);
    const char *cfg = "{\"twilio\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\","
                      "\"authToken\":{\"env\":\"OMNI_TEST_TW_TOKEN\"}}}";
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, cfg, strlen(cfg)), OMNI_OK);
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"+14155550100\",\"carrier\":"
                     "\"twilio\"},\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":"
                     "\"+1\"}}";
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ev, strlen(ev), 0), OMNI_OK);
    /* base64("AC0123456789abcdef0123456789abcdef:tw-secret-token-9f8e7d") */
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"),
                     "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0dy1zZWNyZXQtdG9rZW4t"
                     "OWY4ZTdk");
    omni_http_request_free(req);
    omni_outbound_free(ob);
    unsetenv("OMNI_TEST_TW_TOKEN");
}

/* ---- build errors -------------------------------------------------------------- */

#define TO "\"recipient\":{\"channelIdentifier\":\"+14155550100\",\"carrier\":\"twilio\""
#define FROM "\"routing\":{\"fromNumber\":\"+14155550199\"}"

Test(outbound_twilio, build_errors)
{
    static const struct {
        const char *event, *needle;
    } cases[] = {
        {"{" TO "},\"message\":{}," FROM "}", "message.content"},
        {"{" TO "},\"message\":{\"content\":\"\"}," FROM "}", "message.content"},
        {"{" TO "},\"message\":{\"content\":5}," FROM "}", "message.content"},
        {"{" TO "},\"message\":{\"content\":\"x\"}}", "routing.fromNumber"},
        {"{" TO "},\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":3}}",
         "routing.fromNumber"},
        {"{" TO "},\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":\"\"}}",
         "routing.fromNumber"},
        {"{" TO ",\"channel\":7},\"message\":{\"content\":\"x\"}," FROM "}", "recipient.channel"},
        {"{" TO "},\"message\":{\"contentType\":\"media\"}," FROM "}", "message.mediaUrls"},
        {"{" TO "},\"message\":{\"contentType\":\"media\",\"mediaUrls\":[]}," FROM "}",
         "message.mediaUrls"},
        {"{" TO "},\"message\":{\"contentType\":\"media\",\"mediaUrls\":\"https://a\"}," FROM "}",
         "message.mediaUrls"},
        {"{" TO "},\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"a\",\"b\",\"c\",\"d\","
         "\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]}," FROM "}",
         "message.mediaUrls"},
        {"{" TO "},\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\",1]}," FROM
         "}",
         "message.mediaUrls"},
        {"{" TO "},\"message\":{\"contentType\":\"template\"}," FROM "}", "message.templateId"},
        {"{" TO "},\"message\":{\"contentType\":\"template\",\"templateId\":\"\"}," FROM "}",
         "message.templateId"},
        {"{" TO "},\"message\":{\"contentType\":\"template\",\"templateId\":\"HX1\","
         "\"templateParams\":[1]}," FROM "}",
         "message.templateParams"},
        {"{" TO "},\"message\":{\"contentType\":\"template\",\"templateId\":\"HX1\","
         "\"templateParams\":{\"1\":2}}," FROM "}",
         "message.templateParams"},
        {"{" TO "},\"message\":{\"contentType\":\"interactive\",\"content\":\"x\"}," FROM "}",
         "message.contentType"},
        {"{" TO "},\"message\":{\"content\":\"x\",\"statusCallback\":\"mailto:x\"}," FROM "}",
         "message.statusCallback"},
        {"{" TO "},\"message\":{\"content\":\"x\",\"statusCallback\":1}," FROM "}",
         "message.statusCallback"},
        {"{\"recipient\":{\"carrier\":\"twilio\"},\"message\":{\"content\":\"x\"}," FROM "}",
         "channelIdentifier"},
        {"{\"recipient\":{\"channelIdentifier\":\"+1\"},\"message\":{\"content\":\"x\"}}",
         "carrier"},
        {"{" TO "},\"message\":[]}", "message"},
        {"{" TO "},\"message\":{\"contentType\":1}}", "contentType"},
        {"[]", "object"},
    };
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, base_cfg, strlen(base_cfg)), OMNI_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_http_request *req = (omni_http_request *)1;
        int rc = omni_outbound_build(&req, ob, NULL, cases[i].event, strlen(cases[i].event), 0);
        cr_assert_eq(rc, OMNI_EINVAL, "case %zu: %d (%s)", i, rc, omni_error_last_message());
        cr_assert_null(req);
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].needle),
                           "case %zu: %s", i, omni_error_last_message());
        cr_assert_null(strstr(omni_error_last_message(), SECRET));
    }
    /* malformed JSON, unknown carrier, a provider that is not configured */
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, "{", 1, 0), OMNI_EJSON);
    const char *ok = "{" TO "},\"message\":{\"content\":\"x\"}," FROM "}";
    cr_assert_eq(omni_outbound_build(&req, ob, "pigeon", ok, strlen(ok), 0), OMNI_ECARRIER);
    cr_assert_eq(omni_outbound_build(&req, ob, "whatsapp", ok, strlen(ok), 0), OMNI_ECONFIG);
    cr_assert_eq(omni_outbound_build(NULL, ob, NULL, ok, strlen(ok), 0), OMNI_EINVAL);
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ok, strlen(ok), 0), OMNI_OK);
    omni_http_request_free(req);
    omni_outbound_free(ob);

    omni_outbound *none = NULL;
    cr_assert_eq(omni_outbound_new(&none, "{}", 2), OMNI_OK);
    cr_assert_eq(omni_outbound_build(&req, none, NULL, ok, strlen(ok), 0), OMNI_ECONFIG);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(resp, 201), OMNI_OK);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_outbound_parse(&out, &n, none, "twilio", resp, 0), OMNI_ECONFIG);
    cr_assert_eq(omni_outbound_parse(&out, &n, none, NULL, resp, 0), OMNI_EINVAL);
    cr_assert_eq(omni_outbound_parse(&out, &n, none, "twilio", NULL, 0), OMNI_EINVAL);
    omni_http_response_free(resp);
    omni_outbound_free(none);
}

/* A To that already carries the whatsapp: prefix is not prefixed twice; a messaging
 * service with a whatsapp recipient gives MessagingServiceSid (no From). */
Test(outbound_twilio, whatsapp_prefix_once)
{
    const char *cfg = "{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"" SECRET "\","
                      "\"messagingServiceSid\":\"MG1\"}}";
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, cfg, strlen(cfg)), OMNI_OK);
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"whatsapp:+14155550100\","
                     "\"carrier\":\"twilio\",\"channel\":\"whatsapp\"},\"message\":{"
                     "\"content\":\"hi\"}}";
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ev, strlen(ev), 0), OMNI_OK);
    cr_assert_str_eq(omni_http_request_body(req, NULL),
                     "To=whatsapp%3A%2B14155550100&MessagingServiceSid=MG1&Body=hi");
    omni_http_request_free(req);
    omni_outbound_free(ob);
}
