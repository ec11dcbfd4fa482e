/* Outbound adapters "bandwidth", "messagebird" and "inteliquent": golden requests
 * (tests/data/outbound/<provider>/<case>.json, written from the providers' documentation:
 * Bandwidth Messaging API v2 POST /api/v2/users/{accountId}/messages with HTTP Basic auth and
 * JSON {to[], from, text, applicationId, media[], tag, priority}; MessageBird Conversations
 * POST /v1/send with "AccessKey" auth and JSON {to, from, type, content, reportUrl};
 * Inteliquent message broker POST /msgbroker/rest/publishMessages with Bearer auth and JSON
 * {from, to[], text, mediaUrls[]}), the response -> result tables (responses.json: success,
 * every mapped error, 429 with Retry-After in seconds and as an HTTP-date, 5xx, non-JSON
 * bodies), and every error path of configuration and build, checking that no secret leaks
 * into an error message or a result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "golden.h"

#define BW_SECRET "bw-secret-pass-5a4b3c"
#define MB_SECRET "mb-secret-access-key-77"
#define IQ_SECRET "iq-secret-bearer-0c0ffee"

static const char *const bw_cfg =
    "{\"bandwidth\":{\"accountId\":\"9900000\",\"username\":\"api-user-1\","
    "\"password\":\"" BW_SECRET "\",\"applicationId\":\"93de2206-9669-4e07-948d-329f4b722ee2\"}}";
static const char *const mb_cfg = "{\"messagebird\":{\"accessKey\":\"" MB_SECRET
                                  "\",\"channelId\":\"619747f69cf940a98fb443140ce9aed2\"}}";
static const char *const iq_cfg = "{\"inteliquent\":{\"token\":\"" IQ_SECRET "\"}}";

static void no_secret(const char *s)
{
    cr_assert_null(strstr(s, BW_SECRET), "secret in %s", s);
    cr_assert_null(strstr(s, MB_SECRET), "secret in %s", s);
    cr_assert_null(strstr(s, IQ_SECRET), "secret in %s", s);
}

/* ---- golden files (tests/support/golden.h) ----------------------------------------- */

static int run_goldens(const char *provider)
{
    char why[2048];
    int n = golden_outbound_requests(provider, 1, why, sizeof why);
    cr_assert_geq(n, 0, "%s", why);
    return n;
}

static int run_responses(const char *provider, const char *config)
{
    static const char *const secrets[] = {BW_SECRET, MB_SECRET, IQ_SECRET, NULL};
    char why[4096];
    int n = golden_outbound_responses(provider, config, secrets, "2024-05-01T12:00:00Z", why,
                                      sizeof why);
    cr_assert_geq(n, 0, "%s", why);
    return n;
}

/* The last error's details hold {"path": path}. */
static void expect_path(const char *path)
{
    char got[256];
    cr_assert_str_eq(golden_error_path(got, sizeof got), path, "%s", omni_error_last_message());
}

typedef struct cfg_case {
    const char *json, *path;
} cfg_case;

static void check_config_errors(const cfg_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        omni_outbound *ob = (omni_outbound *)1;
        int rc = omni_outbound_new(&ob, cases[i].json, strlen(cases[i].json));
        cr_assert_eq(rc, OMNI_ECONFIG, "case %zu: %d", i, rc);
        cr_assert_null(ob);
        expect_path(cases[i].path);
        no_secret(omni_error_last_message());
    }
}

typedef struct build_case {
    const char *event, *needle;
} build_case;

static void check_build_errors(const char *config, const build_case *cases, size_t n)
{
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, config, strlen(config)), OMNI_OK);
    for (size_t i = 0; i < n; i++) {
        omni_http_request *req = (omni_http_request *)1;
        int rc = omni_outbound_build(&req, ob, NULL, cases[i].event, strlen(cases[i].event), 0);
        cr_assert_eq(rc, OMNI_EINVAL, "case %zu: %d (%s)", i, rc, omni_error_last_message());
        cr_assert_null(req);
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].needle), "case %zu: %s", i,
                           omni_error_last_message());
        no_secret(omni_error_last_message());
    }
    omni_outbound_free(ob);
}

/* A provider that is not configured: build and parse say OMNI_ECONFIG. */
static void check_unconfigured(const char *provider, const char *event)
{
    omni_outbound *none = NULL;
    cr_assert_eq(omni_outbound_new(&none, "{}", 2), OMNI_OK);
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, none, NULL, event, strlen(event), 0), OMNI_ECONFIG);
    cr_assert_eq(omni_outbound_build(&req, none, provider, event, strlen(event), 0),
                 OMNI_ECONFIG);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(resp, 202), OMNI_OK);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_outbound_parse(&out, &n, none, provider, resp, 0), OMNI_ECONFIG);
    omni_http_response_free(resp);
    omni_outbound_free(none);
}

Test(outbound_sms, carriers_list)
{
    int found = 0;
    for (const char *const *c = omni_outbound_carriers(); *c; c++)
        found |= (strcmp(*c, "bandwidth") == 0) | (strcmp(*c, "messagebird") == 0) << 1 |
                 (strcmp(*c, "inteliquent") == 0) << 2;
    cr_assert_eq(found, 7);
}

/* ================================ bandwidth ======================================= */

Test(outbound_sms, bandwidth_golden_requests)
{
    cr_assert_geq(run_goldens("bandwidth"), 3);
}

Test(outbound_sms, bandwidth_responses)
{
    cr_assert_geq(run_responses("bandwidth", bw_cfg), 18);
}

#define BW_OK_REST "\"applicationId\":\"a\""
Test(outbound_sms, bandwidth_config_errors)
{
    static const cfg_case cases[] = {
        {"{\"bandwidth\":{\"username\":\"u\",\"password\":\"" BW_SECRET "\"," BW_OK_REST "}}",
         "bandwidth.accountId"},
        {"{\"bandwidth\":{\"accountId\":7,\"username\":\"u\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST "}}",
         "bandwidth.accountId"},
        {"{\"bandwidth\":{\"accountId\":\"99/00\",\"username\":\"u\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST "}}",
         "bandwidth.accountId"},
        {"{\"bandwidth\":{\"accountId\":\"\",\"username\":\"u\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST "}}",
         "bandwidth.accountId"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"password\":\"" BW_SECRET "\"," BW_OK_REST "}}",
         "bandwidth.username"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST "}}",
         "bandwidth.username"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"a:b\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST "}}",
         "bandwidth.username"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\"," BW_OK_REST "}}",
         "bandwidth.password"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":3," BW_OK_REST "}}",
         "bandwidth.password"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":\"\"," BW_OK_REST
         "}}",
         "bandwidth.password"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":{\"env\":"
         "\"OMNI_TEST_NO_SUCH_VAR_BW\"}," BW_OK_REST "}}",
         "bandwidth.password"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":\"" BW_SECRET
         "\"}}",
         "bandwidth.applicationId"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":\"" BW_SECRET
         "\",\"applicationId\":\"\"}}",
         "bandwidth.applicationId"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST ",\"baseUrl\":\"messaging.bandwidth.com\"}}",
         "bandwidth.baseUrl"},
        {"{\"bandwidth\":{\"accountId\":\"1\",\"username\":\"u\",\"password\":\"" BW_SECRET
         "\"," BW_OK_REST ",\"token\":\"x\"}}",
         "bandwidth.token"},
        {"{\"bandwidth\":\"x\"}", "bandwidth"},
    };
    check_config_errors(cases, sizeof(cases) / sizeof(cases[0]));
    /* the missing environment variable is named; a present one is used */
    const char *env = cases[10].json;
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, env, strlen(env)), OMNI_ECONFIG);
    cr_assert_not_null(strstr(omni_error_last_message(), "OMNI_TEST_NO_SUCH_VAR_BW"));
    setenv("OMNI_TEST_NO_SUCH_VAR_BW", "pw", 1);
    cr_assert_eq(omni_outbound_new(&ob, env, strlen(env)), OMNI_OK);
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"+1\",\"carrier\":\"bandwidth\"},"
                     "\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":\"+2\"}}";
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ev, strlen(ev), 0), OMNI_OK);
    /* base64("u:pw") */
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"), "Basic dTpwdw==");
    omni_http_request_free(req);
    omni_outbound_free(ob);
    unsetenv("OMNI_TEST_NO_SUCH_VAR_BW");
}

#define BW_TO "\"recipient\":{\"channelIdentifier\":\"+19195551234\",\"carrier\":\"bandwidth\"}"
#define BW_FROM "\"routing\":{\"fromNumber\":\"+19195554321\"}"
Test(outbound_sms, bandwidth_build_errors)
{
    static const build_case cases[] = {
        {"{" BW_TO ",\"message\":{}," BW_FROM "}", "message.content"},
        {"{" BW_TO ",\"message\":{\"content\":\"\"}," BW_FROM "}", "message.content"},
        {"{" BW_TO ",\"message\":{\"content\":5}," BW_FROM "}", "message.content"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\"}}", "routing.fromNumber"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\"},\"routing\":{}}", "routing.fromNumber"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":1}}",
         "routing.fromNumber"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":\"\"}}",
         "routing.fromNumber"},
        {"{" BW_TO ",\"message\":{\"contentType\":\"media\"}," BW_FROM "}", "message.mediaUrls"},
        {"{" BW_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[]}," BW_FROM "}",
         "message.mediaUrls"},
        {"{" BW_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":\"https://a\"}," BW_FROM
         "}",
         "message.mediaUrls"},
        {"{" BW_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"a\",\"b\",\"c\","
         "\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]}," BW_FROM "}",
         "message.mediaUrls"},
        {"{" BW_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\",\"\"]},"
         BW_FROM "}",
         "message.mediaUrls"},
        {"{" BW_TO ",\"message\":{\"contentType\":\"template\",\"templateId\":\"t\"}," BW_FROM
         "}",
         "message.contentType"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\",\"tag\":7}," BW_FROM "}", "message.tag"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\",\"priority\":\"urgent\"}," BW_FROM "}",
         "message.priority"},
        {"{" BW_TO ",\"message\":{\"content\":\"x\",\"priority\":1}," BW_FROM "}",
         "message.priority"},
        {"{\"recipient\":{\"carrier\":\"bandwidth\"},\"message\":{\"content\":\"x\"}," BW_FROM
         "}",
         "channelIdentifier"},
    };
    check_build_errors(bw_cfg, cases, sizeof(cases) / sizeof(cases[0]));
    /* a tag longer than 1024 bytes is refused; a long correlationId is just not used */
    char big[1200];
    memset(big, 'a', 1100);
    big[1100] = '\0';
    char ev[1500];
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, bw_cfg, strlen(bw_cfg)), OMNI_OK);
    omni_http_request *req = NULL;
    snprintf(ev, sizeof(ev), "{" BW_TO ",\"message\":{\"content\":\"x\",\"tag\":\"%s\"}," BW_FROM
             "}", big);
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ev, strlen(ev), 0), OMNI_EINVAL);
    snprintf(ev, sizeof(ev), "{\"correlationId\":\"%s\"," BW_TO ",\"message\":{\"content\":"
             "\"x\"}," BW_FROM "}", big);
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ev, strlen(ev), 0), OMNI_OK);
    cr_assert_null(strstr(omni_http_request_body(req, NULL), "\"tag\""));
    omni_http_request_free(req);
    omni_outbound_free(ob);
    check_unconfigured("bandwidth", "{" BW_TO ",\"message\":{\"content\":\"x\"}," BW_FROM "}");
}

/* ================================ messagebird ===================================== */

Test(outbound_sms, messagebird_golden_requests)
{
    cr_assert_geq(run_goldens("messagebird"), 4);
}

Test(outbound_sms, messagebird_responses)
{
    cr_assert_geq(run_responses("messagebird", mb_cfg), 18);
}

Test(outbound_sms, messagebird_config_errors)
{
    static const cfg_case cases[] = {
        {"{\"messagebird\":{\"channelId\":\"c\"}}", "messagebird.accessKey"},
        {"{\"messagebird\":{\"accessKey\":1,\"channelId\":\"c\"}}", "messagebird.accessKey"},
        {"{\"messagebird\":{\"accessKey\":\"\",\"channelId\":\"c\"}}", "messagebird.accessKey"},
        {"{\"messagebird\":{\"accessKey\":\"" MB_SECRET "\\r\\nX: y\",\"channelId\":\"c\"}}",
         "messagebird.accessKey"},
        {"{\"messagebird\":{\"accessKey\":{\"env\":\"OMNI_TEST_NO_SUCH_VAR_MB\"},"
         "\"channelId\":\"c\"}}",
         "messagebird.accessKey"},
        {"{\"messagebird\":{\"accessKey\":\"" MB_SECRET "\"}}", "messagebird.channelId"},
        {"{\"messagebird\":{\"accessKey\":\"" MB_SECRET "\",\"channelId\":\"\"}}",
         "messagebird.channelId"},
        {"{\"messagebird\":{\"accessKey\":\"" MB_SECRET "\",\"channelId\":[]}}",
         "messagebird.channelId"},
        {"{\"messagebird\":{\"accessKey\":\"" MB_SECRET "\",\"channelId\":\"c\","
         "\"baseUrl\":\"ftp://x\"}}",
         "messagebird.baseUrl"},
        {"{\"messagebird\":{\"accessKey\":\"" MB_SECRET "\",\"channelId\":\"c\","
         "\"originator\":\"x\"}}",
         "messagebird.originator"},
        {"{\"messagebird\":null}", "messagebird"},
    };
    check_config_errors(cases, sizeof(cases) / sizeof(cases[0]));
    omni_outbound *ob = NULL;
    const char *env = cases[4].json;
    cr_assert_eq(omni_outbound_new(&ob, env, strlen(env)), OMNI_ECONFIG);
    cr_assert_not_null(strstr(omni_error_last_message(), "OMNI_TEST_NO_SUCH_VAR_MB"));
}

#define MB_TO "\"recipient\":{\"channelIdentifier\":\"+31612345678\",\"carrier\":\"messagebird\"}"
Test(outbound_sms, messagebird_build_errors)
{
    static const build_case cases[] = {
        {"{" MB_TO ",\"message\":{}}", "message.content"},
        {"{" MB_TO ",\"message\":{\"content\":\"\"}}", "message.content"},
        {"{" MB_TO ",\"message\":{\"content\":[]}}", "message.content"},
        {"{" MB_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"channelId\":5}}",
         "routing.channelId"},
        {"{" MB_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"channelId\":\"\"}}",
         "routing.channelId"},
        {"{" MB_TO ",\"message\":{\"content\":\"x\",\"reportUrl\":\"mailto:a\"}}",
         "message.reportUrl"},
        {"{" MB_TO ",\"message\":{\"content\":\"x\",\"reportUrl\":true}}", "message.reportUrl"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\"}}", "message.mediaUrls"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[]}}",
         "message.mediaUrls"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\","
         "\"https://b\"]}}",
         "message.mediaUrls"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"a.png\"]}}",
         "message.mediaUrls"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[7]}}",
         "message.mediaUrls"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\"],"
         "\"mediaType\":\"sticker\"}}",
         "message.mediaType"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\"],"
         "\"mediaType\":2}}",
         "message.mediaType"},
        {"{" MB_TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\"}}",
         "message.contentType"},
    };
    check_build_errors(mb_cfg, cases, sizeof(cases) / sizeof(cases[0]));
    check_unconfigured("messagebird", "{" MB_TO ",\"message\":{\"content\":\"x\"}}");
}

/* ================================ inteliquent ===================================== */

Test(outbound_sms, inteliquent_golden_requests)
{
    cr_assert_geq(run_goldens("inteliquent"), 3);
}

Test(outbound_sms, inteliquent_responses)
{
    cr_assert_geq(run_responses("inteliquent", iq_cfg), 14);
}

Test(outbound_sms, inteliquent_config_errors)
{
    static const cfg_case cases[] = {
        {"{\"inteliquent\":{}}", "inteliquent.token"},
        {"{\"inteliquent\":{\"token\":2}}", "inteliquent.token"},
        {"{\"inteliquent\":{\"token\":\"\"}}", "inteliquent.token"},
        {"{\"inteliquent\":{\"token\":\"" IQ_SECRET "\\n\"}}", "inteliquent.token"},
        {"{\"inteliquent\":{\"token\":{\"env\":\"OMNI_TEST_NO_SUCH_VAR_IQ\"}}}",
         "inteliquent.token"},
        {"{\"inteliquent\":{\"token\":\"" IQ_SECRET "\",\"baseUrl\":\"mailto:x\"}}",
         "inteliquent.baseUrl"},
        {"{\"inteliquent\":{\"token\":\"" IQ_SECRET "\",\"baseUrl\":5}}", "inteliquent.baseUrl"},
        {"{\"inteliquent\":{\"token\":\"" IQ_SECRET "\",\"apiKey\":\"x\"}}",
         "inteliquent.apiKey"},
        {"{\"inteliquent\":7}", "inteliquent"},
    };
    check_config_errors(cases, sizeof(cases) / sizeof(cases[0]));
    omni_outbound *ob = NULL;
    const char *env = cases[4].json;
    cr_assert_eq(omni_outbound_new(&ob, env, strlen(env)), OMNI_ECONFIG);
    cr_assert_not_null(strstr(omni_error_last_message(), "OMNI_TEST_NO_SUCH_VAR_IQ"));
}

#define IQ_TO "\"recipient\":{\"channelIdentifier\":\"+19205550001\",\"carrier\":\"inteliquent\"}"
#define IQ_FROM "\"routing\":{\"fromNumber\":\"+19205550000\"}"
Test(outbound_sms, inteliquent_build_errors)
{
    static const build_case cases[] = {
        {"{" IQ_TO ",\"message\":{}," IQ_FROM "}", "message.content"},
        {"{" IQ_TO ",\"message\":{\"content\":\"\"}," IQ_FROM "}", "message.content"},
        {"{" IQ_TO ",\"message\":{\"content\":{}}," IQ_FROM "}", "message.content"},
        {"{" IQ_TO ",\"message\":{\"content\":\"x\"}}", "routing.fromNumber"},
        {"{" IQ_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":19205550000}}",
         "routing.fromNumber"},
        {"{" IQ_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":\"+1-920\"}}",
         "routing.fromNumber"},
        {"{" IQ_TO ",\"message\":{\"content\":\"x\"},\"routing\":{\"fromNumber\":\"+\"}}",
         "routing.fromNumber"},
        {"{\"recipient\":{\"channelIdentifier\":\"ada@example.com\",\"carrier\":\"inteliquent\"},"
         "\"message\":{\"content\":\"x\"}," IQ_FROM "}",
         "recipient.channelIdentifier"},
        {"{\"recipient\":{\"channelIdentifier\":\"+1234567890123456\",\"carrier\":"
         "\"inteliquent\"},\"message\":{\"content\":\"x\"}," IQ_FROM "}",
         "recipient.channelIdentifier"},
        {"{" IQ_TO ",\"message\":{\"contentType\":\"media\"}," IQ_FROM "}", "message.mediaUrls"},
        {"{" IQ_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[]}," IQ_FROM "}",
         "message.mediaUrls"},
        {"{" IQ_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"ftp://a\"]}," IQ_FROM
         "}",
         "message.mediaUrls"},
        {"{" IQ_TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"a\",\"b\",\"c\","
         "\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\"]}," IQ_FROM "}",
         "message.mediaUrls"},
        {"{" IQ_TO ",\"message\":{\"contentType\":\"template\",\"templateId\":\"t\"}," IQ_FROM
         "}",
         "message.contentType"},
    };
    check_build_errors(iq_cfg, cases, sizeof(cases) / sizeof(cases[0]));
    check_unconfigured("inteliquent", "{" IQ_TO ",\"message\":{\"content\":\"x\"}," IQ_FROM "}");
}

/* The three providers side by side in one configuration: each request goes to its own
 * provider with its own credentials only. */
Test(outbound_sms, three_providers_one_config)
{
    const char *cfg =
        "{\"bandwidth\":{\"accountId\":\"9900000\",\"username\":\"u\",\"password\":\"" BW_SECRET
        "\",\"applicationId\":\"app\"},\"messagebird\":{\"accessKey\":\"" MB_SECRET
        "\",\"channelId\":\"ch\"},\"inteliquent\":{\"token\":\"" IQ_SECRET "\"}}";
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, cfg, strlen(cfg)), OMNI_OK);
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"+19205550001\",\"carrier\":"
                     "\"inteliquent\"},\"message\":{\"content\":\"hi\"},\"routing\":"
                     "{\"fromNumber\":\"+19205550000\"}}";
    static const char *const names[] = {"bandwidth", "messagebird", "inteliquent"};
    static const char *const hosts[] = {"https://messaging.bandwidth.com/",
                                        "https://conversations.messagebird.com/",
                                        "https://messagebroker.inteliquent.com/"};
    for (int i = 0; i < 3; i++) {
        omni_http_request *req = NULL;
        cr_assert_eq(omni_outbound_build(&req, ob, names[i], ev, strlen(ev), 0), OMNI_OK, "%s",
                     omni_error_last_message());
        cr_assert_eq(strncmp(omni_http_request_url(req), hosts[i], strlen(hosts[i])), 0);
        const char *body = omni_http_request_body(req, NULL);
        no_secret(body);
        omni_http_request_free(req);
    }
    omni_outbound_free(ob);
}
