/* The outbound adapters' common part (omni/outbound.h, lib/outbound/outbound.c):
 * configuration errors with paths, secrets from the environment, dispatch
 * errors, Retry-After, HTTP error classes and the result documents. The
 * providers have their own test files. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <omni/omni.h>

#include "lib/core/json.h"
#include "lib/outbound/outbound_internal.h"

static int new_ob(omni_outbound **ob, const char *cfg)
{
    return omni_outbound_new(ob, cfg, cfg ? strlen(cfg) : 0);
}

static const char *detail_path(void)
{
    static char path[256];
    const char *d = omni_error_last()->details;
    cr_assert_not_null(d);
    cJSON *j = cJSON_Parse(d);
    cr_assert_not_null(j);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "path");
    cr_assert(cJSON_IsString(p));
    strncpy(path, p->valuestring, sizeof(path) - 1);
    cJSON_Delete(j);
    return path;
}

Test(outbound, carriers_list)
{
    const char *const *names = omni_outbound_carriers();
    size_t n = 0;
    int twilio = 0, ses = 0;
    for (; names[n]; n++) {
        twilio |= strcmp(names[n], "twilio") == 0;
        ses |= strcmp(names[n], "aws-ses") == 0;
    }
    cr_assert_eq(n, 9);
    cr_assert(twilio && ses);
}

Test(outbound, configuration_errors)
{
    omni_outbound *ob = (omni_outbound *)1;
    cr_assert_eq(omni_outbound_new(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_outbound_new(&ob, NULL, 3), OMNI_EINVAL);
    cr_assert_eq(new_ob(&ob, "{"), OMNI_EJSON);
    cr_assert_null(ob);
    cr_assert_eq(new_ob(&ob, "[]"), OMNI_ECONFIG);
    cr_assert_eq(new_ob(&ob, "{\"pigeon\":{}}"), OMNI_ECONFIG);
    cr_assert_str_eq(detail_path(), "pigeon");
    cr_assert_eq(new_ob(&ob, "{\"twilio\":[]}"), OMNI_ECONFIG);
    cr_assert_str_eq(detail_path(), "twilio");
    cr_assert_eq(new_ob(&ob, "{}"), OMNI_OK);
    omni_outbound_free(ob);
    cr_assert_eq(new_ob(&ob, NULL), OMNI_OK); /* no providers */
    omni_outbound_free(ob);
    omni_outbound_free(NULL);
}

Test(outbound, secrets_strings_and_environment)
{
    cJSON *cfg = cJSON_Parse("{\"a\":\"s3cr3t\",\"b\":{\"env\":\"OMNI_TEST_OB_SECRET\"},"
                             "\"c\":{\"env\":\"OMNI_TEST_OB_MISSING\"},\"d\":7,"
                             "\"e\":{\"env\":\"X\",\"more\":1},\"u\":\"http://127.0.0.1:9/x/\","
                             "\"v\":\"ftp://h\"}");
    cr_assert_not_null(cfg);
    char *s = NULL;
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "a", 1), OMNI_OK);
    cr_assert_str_eq(s, "s3cr3t");
    omni__ob_secret_free(s);
    setenv("OMNI_TEST_OB_SECRET", "from-env", 1);
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "b", 1), OMNI_OK);
    cr_assert_str_eq(s, "from-env");
    omni__ob_secret_free(s);
    unsetenv("OMNI_TEST_OB_MISSING");
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "c", 1), OMNI_ECONFIG);
    cr_assert_null(s);
    cr_assert(strstr(omni_error_last_message(), "OMNI_TEST_OB_MISSING"));
    cr_assert_str_eq(detail_path(), "p.c");
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "d", 1), OMNI_ECONFIG);
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "e", 1), OMNI_ECONFIG);
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "zz", 1), OMNI_ECONFIG);
    cr_assert(strstr(omni_error_last_message(), "required"));
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "zz", 0), OMNI_OK);
    cr_assert_null(s);
    /* the failing messages never hold a value */
    cr_assert_eq(omni__ob_secret(&s, cfg, "p", "d", 1), OMNI_ECONFIG);
    cr_assert_null(strstr(omni_error_last_message(), "s3cr3t"));
    char *u = NULL;
    cr_assert_eq(omni__ob_base_url(&u, cfg, "p", "u", "https://x"), OMNI_OK);
    cr_assert_str_eq(u, "http://127.0.0.1:9/x");
    free(u);
    cr_assert_eq(omni__ob_base_url(&u, cfg, "p", "none", "https://api.example.com/"), OMNI_OK);
    cr_assert_str_eq(u, "https://api.example.com");
    free(u);
    cr_assert_eq(omni__ob_base_url(&u, cfg, "p", "v", "https://x"), OMNI_ECONFIG);
    cr_assert_null(u);
    char *plain = NULL;
    cr_assert_eq(omni__ob_string(&plain, cfg, "p", "a", 1, 3), OMNI_ECONFIG);
    cr_assert_eq(omni__ob_string(&plain, cfg, "p", "a", 1, 64), OMNI_OK);
    cr_assert_str_eq(plain, "s3cr3t");
    free(plain);
    cJSON_Delete(cfg);
}

static const char event_json[] =
    "{\"correlationId\":\"c-1\",\"recipient\":{\"channelIdentifier\":\"+14155550100\","
    "\"carrier\":\"twilio\",\"channel\":\"sms\"},\"message\":{\"content\":\"hi\"}}";

static int build(const omni_outbound *ob, const char *carrier, const char *ev)
{
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_outbound_build(&req, ob, carrier, ev, ev ? strlen(ev) : 0, 0);
    if (rc)
        cr_assert_null(req);
    else
        omni_http_request_free(req);
    return rc;
}

Test(outbound, dispatch_errors)
{
    omni_outbound *ob;
    cr_assert_eq(new_ob(&ob, "{}"), OMNI_OK);
    cr_assert_eq(omni_outbound_build(NULL, ob, NULL, "{}", 2, 0), OMNI_EINVAL);
    cr_assert_eq(build(NULL, NULL, event_json), OMNI_EINVAL);
    cr_assert_eq(build(ob, NULL, "{"), OMNI_EJSON);
    cr_assert_eq(build(ob, NULL, "[]"), OMNI_EINVAL);
    cr_assert_eq(build(ob, NULL, "{\"recipient\":{\"channelIdentifier\":\"x\"}}"), OMNI_EINVAL);
    cr_assert_eq(build(ob, NULL, "{\"recipient\":1,\"message\":{}}"), OMNI_EINVAL);
    cr_assert_eq(build(ob, NULL, "{\"recipient\":{},\"message\":{}}"), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "channelIdentifier"));
    cr_assert_eq(build(ob, NULL,
                       "{\"recipient\":{\"channelIdentifier\":\"x\"},\"message\":{},"
                       "\"routing\":[]}"),
                 OMNI_EINVAL);
    cr_assert_eq(build(ob, NULL, "{\"recipient\":{\"channelIdentifier\":\"x\"},\"message\":{}}"),
                 OMNI_EINVAL); /* no carrier anywhere */
    cr_assert_eq(build(ob, NULL,
                       "{\"recipient\":{\"channelIdentifier\":\"x\"},"
                       "\"message\":{\"contentType\":3}}"),
                 OMNI_EINVAL);
    cr_assert_eq(build(ob, "pigeon", event_json), OMNI_ECARRIER);
    cr_assert_eq(build(ob, NULL, event_json), OMNI_ECONFIG); /* twilio not configured */
    cr_assert(strstr(omni_error_last_message(), "not configured"));
    omni_http_response *resp;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(resp, 200), OMNI_OK);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_outbound_parse(&out, &n, ob, "twilio", resp, 0), OMNI_ECONFIG);
    cr_assert_eq(omni_outbound_parse(&out, &n, ob, "pigeon", resp, 0), OMNI_ECARRIER);
    cr_assert_eq(omni_outbound_parse(&out, &n, ob, NULL, resp, 0), OMNI_EINVAL);
    cr_assert_eq(omni_outbound_parse(&out, &n, ob, "twilio", NULL, 0), OMNI_EINVAL);
    omni_http_response_free(resp);
    omni_outbound_free(ob);
}

static int64_t retry_after(const char *value, int64_t now_ms)
{
    omni_http_response *resp;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    if (value)
        cr_assert_eq(omni_http_response_add_header(resp, "Retry-After", value), OMNI_OK);
    int64_t v = omni__ob_retry_after(resp, now_ms);
    omni_http_response_free(resp);
    return v;
}

/* RFC 9110 section 10.2.3: delay-seconds or an HTTP-date (IMF-fixdate). */
Test(outbound, retry_after)
{
    cr_assert_eq(retry_after(NULL, 0), -1);
    cr_assert_eq(retry_after("120", 0), 120000);
    cr_assert_eq(retry_after(" 0 ", 0), 0);
    cr_assert_eq(retry_after("12x", 0), -1);
    cr_assert_eq(retry_after("-5", 0), -1);
    cr_assert_eq(retry_after("99999999999999", 0), -1);
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s */
    cr_assert_eq(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL - 30000), 30000);
    cr_assert_eq(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL + 5000), 0);
    cr_assert_eq(retry_after("Sun, 06 Nov 1994 08:49:37 UTC", 0), -1);
    cr_assert_eq(retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 0), -1); /* obsolete form */
    cr_assert_eq(retry_after("Sun, 06 Foo 1994 08:49:37 GMT", 0), -1);
}

Test(outbound, http_classes)
{
    int r = -1;
    cr_assert_str_eq(omni__ob_http_class(429, &r), "RATE_LIMITED");
    cr_assert_eq(r, 1);
    cr_assert_str_eq(omni__ob_http_class(503, &r), "PROVIDER_UNAVAILABLE");
    cr_assert_eq(r, 1);
    cr_assert_str_eq(omni__ob_http_class(401, &r), "AUTH_FAILED");
    cr_assert_eq(r, 0);
    cr_assert_str_eq(omni__ob_http_class(403, &r), "AUTH_FAILED");
    cr_assert_str_eq(omni__ob_http_class(400, &r), "INVALID_REQUEST");
    cr_assert_eq(r, 0);
    cr_assert_str_eq(omni__ob_http_class(302, &r), "PROVIDER_ERROR");
}

Test(outbound, result_documents)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__ob_result_ok(&b, "twilio", "SM1", "queued", 0.0075, "USD");
    cr_assert_str_eq(b.data, "{\"success\":true,\"carrier\":\"twilio\",\"carrierMessageId\":"
                             "\"SM1\",\"status\":\"queued\",\"cost\":0.0075,\"currency\":\"USD\"}");
    omni__buf_free(&b);
    omni__ob_result_ok(&b, "whatsapp", "wamid.1", "accepted", -1, NULL);
    cr_assert_str_eq(b.data, "{\"success\":true,\"carrier\":\"whatsapp\",\"carrierMessageId\":"
                             "\"wamid.1\",\"status\":\"accepted\"}");
    omni__buf_free(&b);
    omni__ob_result_error(&b, "twilio", "RATE_LIMITED", "20429", "Too Many Requests", 1, 30000);
    cr_assert_str_eq(b.data, "{\"success\":false,\"carrier\":\"twilio\",\"status\":\"failed\","
                             "\"error\":{\"code\":\"RATE_LIMITED\",\"providerCode\":\"20429\","
                             "\"message\":\"Too Many Requests\",\"retryable\":true},"
                             "\"retryAfterMs\":30000}");
    omni__buf_free(&b);
    omni__ob_result_error(&b, "sendgrid", "AUTH_FAILED", NULL, NULL, 0, -1);
    cr_assert_str_eq(b.data, "{\"success\":false,\"carrier\":\"sendgrid\",\"status\":\"failed\","
                             "\"error\":{\"code\":\"AUTH_FAILED\",\"message\":\"\","
                             "\"retryable\":false}}");
    omni__buf_free(&b);
}

Test(outbound, body_json)
{
    omni_http_response *resp;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_null(omni__ob_body_json(resp));
    cr_assert_eq(omni_http_response_set_body(resp, "not json", 8), OMNI_OK);
    cr_assert_null(omni__ob_body_json(resp));
    cr_assert_eq(omni_http_response_set_body(resp, "{\"a\":1}", 7), OMNI_OK);
    cJSON *j = omni__ob_body_json(resp);
    cr_assert_not_null(j);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "a")->valueint, 1);
    cJSON_Delete(j);
    omni_http_response_free(resp);
}
