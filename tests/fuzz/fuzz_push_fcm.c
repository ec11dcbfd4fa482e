/* Fuzz target: the FCM push adapter ("android"). The first byte picks what the rest is:
 *   0: a send response (status from a table, Retry-After / Content-Type by flag bits, the
 *      rest the body) through omni_push_parse;
 *   1: a token endpoint answer through omni_push_token_response;
 *   2: a message (JSON text) through omni_push_build.
 * The configuration is compiled once with an RSA key generated at start-up. Invariants:
 * parse never fails and gives {"success": bool, "platform": "android", "status"} with an
 * error {code (a documented one), message, retryable} when it failed, invalidToken only
 * with INVALID_TOKEN; after a TOKEN_EXPIRED result a build reports OMNI_EEXPIRED; token
 * responses and builds fail only with their documented codes; a built request is a POST to
 * .../messages:send with the cached access token, and its body is {"message": {...}} with
 * exactly one of token/topic/condition and string-only data; the access token appears in no
 * result or error message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ACCESS "ya29.FUZZSECRETaccess"
#define NOW INT64_C(1714564800000)

static const char *const token_ok =
    "{\"access_token\":\"" ACCESS "\",\"expires_in\":3599,\"token_type\":\"Bearer\"}";

static omni_push *setup(void)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    CHECK(key);
    BIO *bio = BIO_new(BIO_s_mem());
    CHECK(bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL));
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    char *copy = malloc((size_t)n + 1);
    CHECK(copy);
    memcpy(copy, pem, (size_t)n);
    copy[n] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(key);
    cJSON *cfg = cJSON_CreateObject(), *fcm = cJSON_AddObjectToObject(cfg, "fcm");
    cJSON *sa = cJSON_AddObjectToObject(fcm, "serviceAccount");
    cJSON_AddStringToObject(sa, "type", "service_account");
    cJSON_AddStringToObject(sa, "project_id", "fuzz-project");
    cJSON_AddStringToObject(sa, "private_key_id", "fuzzkid");
    cJSON_AddStringToObject(sa, "private_key", copy);
    cJSON_AddStringToObject(sa, "client_email", "fuzz@fuzz-project.iam.gserviceaccount.com");
    cJSON_AddStringToObject(sa, "token_uri", "https://oauth2.googleapis.com/token");
    char *text = cJSON_PrintUnformatted(cfg);
    omni_push *p = NULL;
    CHECK(text && omni_push_new(&p, text, strlen(text)) == OMNI_OK);
    free(text);
    free(copy);
    cJSON_Delete(cfg);
    return p;
}

static omni_http_response *response(int status, const char *body, size_t len)
{
    omni_http_response *r = NULL;
    CHECK(omni_http_response_new(&r) == OMNI_OK);
    CHECK(omni_http_response_set_status(r, status) == OMNI_OK);
    CHECK(omni_http_response_set_body(r, body, len) == OMNI_OK);
    return r;
}

/* Caches the fuzz access token. */
static void refresh(omni_push *p)
{
    omni_http_response *r = response(200, token_ok, strlen(token_ok));
    CHECK(omni_push_token_response(p, r, NOW) == OMNI_OK);
    omni_http_response_free(r);
}

/* Set when the input itself holds the marker (then it may be echoed legitimately). */
static int input_has_secret;

static void no_secret(const char *s)
{
    if (!input_has_secret)
        CHECK(!strstr(s, "FUZZSECRET"));
}

static void check_result(omni_push *p, const char *out, size_t len)
{
    CHECK(strlen(out) == len);
    no_secret(out);
    cJSON *j = cJSON_ParseWithLength(out, len);
    CHECK(cJSON_IsObject(j));
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "success");
    const cJSON *plat = cJSON_GetObjectItemCaseSensitive(j, "platform");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    CHECK(cJSON_IsBool(ok) && cJSON_IsString(plat) && cJSON_IsString(st));
    CHECK(strcmp(plat->valuestring, "android") == 0);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(j, "invalidToken");
    if (cJSON_IsTrue(ok)) {
        CHECK(strcmp(st->valuestring, "sent") == 0 && !err && !inv);
    } else {
        CHECK(strcmp(st->valuestring, "failed") == 0 && cJSON_IsObject(err));
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        CHECK(cJSON_IsString(code));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "message")));
        CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(err, "retryable")));
        static const char *const codes[] = {"INVALID_TOKEN", "PAYLOAD_TOO_LARGE", "AUTH_FAILED",
                                            "TOKEN_EXPIRED", "RATE_LIMITED",
                                            "PROVIDER_UNAVAILABLE", "INVALID_REQUEST",
                                            "PROVIDER_ERROR"};
        int known = 0;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            known |= strcmp(code->valuestring, codes[i]) == 0;
        CHECK(known);
        if (inv)
            CHECK(cJSON_IsTrue(inv) && strcmp(code->valuestring, "INVALID_TOKEN") == 0);
        if (strcmp(code->valuestring, "TOKEN_EXPIRED") == 0) {
            static const char msg[] = "{\"platform\":\"android\",\"token\":\"t\",\"payload\":{}}";
            omni_http_request *req = NULL;
            CHECK(omni_push_build(&req, p, msg, strlen(msg), NOW) == OMNI_EEXPIRED);
            CHECK(!req);
            refresh(p);
        }
    }
    cJSON_Delete(j);
}

static void check_request(const omni_http_request *req)
{
    CHECK(strcmp(omni_http_request_method(req), "POST") == 0);
    CHECK(strcmp(omni_http_request_url(req),
                 "https://fcm.googleapis.com/v1/projects/fuzz-project/messages:send") == 0);
    CHECK(strcmp(omni_http_request_header(req, "Authorization"), "Bearer " ACCESS) == 0);
    size_t len = 0;
    const char *body = omni_http_request_body(req, &len);
    no_secret(body);
    cJSON *j = cJSON_ParseWithLength(body, len);
    CHECK(cJSON_IsObject(j) && cJSON_GetArraySize(j) == 1);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    CHECK(cJSON_IsObject(m));
    int targets = 0;
    static const char *const names[] = {"token", "topic", "condition"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, names[i]);
        if (t) {
            CHECK(cJSON_IsString(t) && t->valuestring[0]);
            targets++;
        }
    }
    CHECK(targets == 1);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, "data"), *v;
    cJSON_ArrayForEach(v, d)
        CHECK(cJSON_IsString(v));
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static omni_push *p;
    if (!p) {
        p = setup();
        refresh(p);
    }
    if (size < 2)
        return 0;
    input_has_secret = memmem(data, size, "FUZZSECRET", 10) != NULL;
    static const int statuses[] = {200, 201, 204, 302, 400, 401, 403, 404,
                                   409, 413, 429, 500, 502, 503, 504};
    int status = statuses[data[1] % (sizeof statuses / sizeof statuses[0])];
    const char *rest = (const char *)data + 2;
    size_t n = size - 2;
    switch (data[0] % 3) {
    case 0: {
        omni_http_response *r = response(status, rest, n);
        if (data[1] & 0x10)
            omni_http_response_add_header(r, "Retry-After", (data[1] & 0x20) ? "12" : "x");
        char *out = NULL;
        size_t len = 0;
        CHECK(omni_push_parse(&out, &len, p, "android", r, NOW) == OMNI_OK);
        check_result(p, out, len);
        omni_free(out);
        omni_http_response_free(r);
        break;
    }
    case 1: {
        omni_http_response *r = response(status, rest, n);
        int rc = omni_push_token_response(p, r, NOW);
        CHECK(rc == OMNI_OK || rc == OMNI_EKEY || rc == OMNI_ETRANSPORT || rc == OMNI_EJSON ||
              rc == OMNI_ENOMEM);
        CHECK(rc != OMNI_OK || status == 200);
        no_secret(omni_error_last_message());
        omni_http_response_free(r);
        refresh(p); /* back to the known token */
        break;
    }
    default: {
        omni_http_request *req = NULL;
        int rc = omni_push_build(&req, p, rest, n, NOW);
        CHECK(rc == OMNI_OK || rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
              rc == OMNI_ETOODEEP || rc == OMNI_ECONFIG || rc == OMNI_EENCODING ||
              rc == OMNI_ENOMEM);
        CHECK((rc == OMNI_OK) == (req != NULL));
        if (rc)
            no_secret(omni_error_last_message());
        else
            check_request(req);
        omni_http_request_free(req);
        break;
    }
    }
    return 0;
}
