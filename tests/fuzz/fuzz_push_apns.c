/* Fuzz target: the APNs push adapter (lib/push/apns.c). The first byte picks
 * the mode. Even: the rest is a response (a status from a list, header flags,
 * then the body) through omni_push_parse: it never fails on a well-formed
 * response, the result is a JSON object {"success", "platform": "ios",
 * "status"} whose error carries code/message/retryable with a known code, and
 * no key material appears. Odd: the rest is a message through omni_push_build
 * (configuration compiled once): a success is a POST to .../3/device/<token>
 * with a "bearer" JWT, the apns-* headers, and a JSON object body with an
 * "aps" object within APNs's limit (4096, 5120 for voip); a failure leaves
 * *out NULL with one of the documented status codes; nothing quotes the key. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A test key made for the tests (tests/data/push/apns/AuthKey_TEST123456.p8). */
#define KEY_LINE "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1RxfREgC6RCYE3A/"
static const char config[] =
    "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\",\"topic\":\"com.example.app\","
    "\"baseUrl\":\"http://127.0.0.1:9\",\"privateKey\":\"-----BEGIN PRIVATE KEY-----\\n" KEY_LINE
    "\\n2MZxsAqg/cCLNfeHRGoDOtn5LUShRANCAAS6enz+FydzUpOTN0uiguG4jgQGb97M\\n"
    "xP1lobRpJCDrZoEwWSdtjzMMGs9KTYyT9SUnDCkZ33YsJq2uH5gk19uC\\n"
    "-----END PRIVATE KEY-----\\n\"}}";

static const int statuses[] = {200, 201, 204, 301, 400, 401, 403, 404, 405,
                               410, 413, 429, 500, 502, 503};

static int known_code(const char *c)
{
    static const char *const codes[] = {"INVALID_TOKEN", "PAYLOAD_TOO_LARGE", "AUTH_FAILED",
                                        "TOKEN_EXPIRED", "RATE_LIMITED", "PROVIDER_UNAVAILABLE",
                                        "INVALID_REQUEST", "PROVIDER_ERROR"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(c, codes[i]) == 0)
            return 1;
    return 0;
}

/* The input carries the key's text itself (then a result may echo it: the
 * provider's words, not the key). */
static int input_has_key;

static void check_result(const char *out, size_t len)
{
    CHECK(strlen(out) == len);
    CHECK(input_has_key || !strstr(out, "1RxfREgC6RCYE3A"));
    cJSON *j = cJSON_ParseWithLength(out, len);
    CHECK(cJSON_IsObject(j));
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "success");
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(j, "platform");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    CHECK(cJSON_IsBool(ok));
    CHECK(cJSON_IsString(pf) && strcmp(pf->valuestring, "ios") == 0);
    CHECK(cJSON_IsString(st));
    if (cJSON_IsTrue(ok)) {
        CHECK(strcmp(st->valuestring, "sent") == 0);
        CHECK(!cJSON_GetObjectItemCaseSensitive(j, "error"));
    } else {
        CHECK(strcmp(st->valuestring, "failed") == 0);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        CHECK(cJSON_IsObject(e));
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        CHECK(cJSON_IsString(code) && known_code(code->valuestring));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "retryable");
        CHECK(cJSON_IsBool(r));
        const cJSON *inv = cJSON_GetObjectItemCaseSensitive(j, "invalidToken");
        CHECK(!inv || (cJSON_IsTrue(inv) && strcmp(code->valuestring, "INVALID_TOKEN") == 0));
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive(j, "retryAfterMs");
        CHECK(!ra || (cJSON_IsTrue(r) && cJSON_IsNumber(ra) && ra->valuedouble >= 0));
    }
    cJSON_Delete(j);
}

static void fuzz_parse(omni_push *p, const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    int status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    uint8_t flags = data[1];
    omni_http_response *resp;
    if (omni_http_response_new(&resp) != OMNI_OK)
        return;
    omni_http_response_set_status(resp, status);
    if (flags & 1)
        omni_http_response_add_header(resp, "apns-id", "EC1BF194-B3B2-4E5B-9D4E-6A1B2C3D4E5F");
    if (flags & 2)
        omni_http_response_add_header(resp, "Retry-After",
                                      (flags & 4) ? "7" : "Sun, 06 Nov 1994 08:49:37 GMT");
    omni_http_response_set_body(resp, data + 2, size - 2);
    char *out = NULL;
    size_t len = 0;
    int rc = omni_push_parse(&out, &len, p, "ios", resp, 1705312800000LL);
    CHECK(rc == OMNI_OK || rc == OMNI_ENOMEM);
    if (rc == OMNI_OK)
        check_result(out, len);
    omni_free(out);
    omni_http_response_free(resp);
}

static void fuzz_build(omni_push *p, const uint8_t *data, size_t size)
{
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_push_build(&req, p, (const char *)data, size, 1705312800000LL);
    if (rc != OMNI_OK) {
        CHECK(req == NULL);
        CHECK(rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
              rc == OMNI_ECONFIG || rc == OMNI_ETOODEEP || rc == OMNI_ENOMEM ||
              rc == OMNI_EENCODING || rc == OMNI_EUNSUPPORTED);
        CHECK(input_has_key || !strstr(omni_error_last_message(), "1RxfREgC6RCYE3A"));
        return;
    }
    CHECK(strcmp(omni_http_request_method(req), "POST") == 0);
    CHECK(strncmp(omni_http_request_url(req), "http://127.0.0.1:9/3/device/", 28) == 0);
    const char *auth = omni_http_request_header(req, "authorization");
    CHECK(auth && strncmp(auth, "bearer ey", 9) == 0);
    CHECK(omni_http_request_header(req, "apns-topic"));
    const char *type = omni_http_request_header(req, "apns-push-type");
    CHECK(type);
    const char *prio = omni_http_request_header(req, "apns-priority");
    CHECK(prio);
    const char *ct = omni_http_request_header(req, "content-type");
    CHECK(ct && strcmp(ct, "application/json") == 0);
    size_t len = 0;
    const char *body = omni_http_request_body(req, &len);
    CHECK(len <= (strcmp(type, "voip") == 0 ? 5120u : 4096u));
    CHECK(input_has_key || !strstr(body, "1RxfREgC6RCYE3A"));
    cJSON *j = cJSON_ParseWithLength(body, len);
    CHECK(cJSON_IsObject(j));
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "aps")));
    cJSON_Delete(j);
    omni_http_request_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static omni_push *p;
    if (!p && omni_push_new(&p, config, strlen(config)) != OMNI_OK)
        abort();
    if (size < 1)
        return 0;
    input_has_key = memmem(data, size, "1RxfREgC6RCYE3A", 15) != NULL;
    if (data[0] & 1)
        fuzz_build(p, data + 1, size - 1);
    else
        fuzz_parse(p, data + 1, size - 1);
    return 0;
}
