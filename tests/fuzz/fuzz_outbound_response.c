/* Fuzz target: every outbound adapter's response parser (omni_outbound_parse)
 * with arbitrary statuses, headers and bodies. Invariants: a parse never
 * fails on a well-formed HTTP response (a body the provider would never send
 * is a result with an error, not a failure), the result is a JSON object
 * with a boolean "success", an error result carries code/message/retryable,
 * and no credential of the configuration appears in it. The smtp adapter gets
 * the same bytes as an SMTP reply with an SMTP reply code. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const configs[][2] = {
    {"twilio", "{\"twilio\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\","
               "\"authToken\":\"FUZZSECRETtwilio\"}}"},
    {"whatsapp", "{\"whatsapp\":{\"accessToken\":\"FUZZSECRETwhatsapp\",\"phoneNumberId\":\"1\"}}"},
    {"aws-sns", "{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDFUZZ\","
                "\"secretAccessKey\":\"FUZZSECRETsns\"}}"},
    {"aws-ses", "{\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDFUZZ\","
                "\"secretAccessKey\":\"FUZZSECRETses\",\"fromEmailAddress\":\"a@example.com\"}}"},
    {"sendgrid", "{\"sendgrid\":{\"apiKey\":\"FUZZSECRETsendgrid\","
                 "\"from\":{\"email\":\"a@example.com\"}}}"},
    {"bandwidth", "{\"bandwidth\":{\"accountId\":\"9900000\",\"username\":\"u\","
                  "\"password\":\"FUZZSECRETbandwidth\",\"applicationId\":\"app\"}}"},
    {"messagebird", "{\"messagebird\":{\"accessKey\":\"FUZZSECRETmessagebird\","
                    "\"channelId\":\"ch\"}}"},
    {"inteliquent", "{\"inteliquent\":{\"token\":\"FUZZSECRETinteliquent\"}}"},
    {"smtp", "{\"smtp\":{\"url\":\"smtps://smtp.example.com\",\"username\":\"u\","
             "\"password\":\"FUZZSECRETsmtp\",\"from\":{\"email\":\"a@example.com\"}}}"},
};
#define N_CONFIGS (sizeof(configs) / sizeof(configs[0]))

static const int statuses[] = {200, 201, 202, 204, 301, 400, 401, 403, 404,
                               408, 409, 413, 422, 429, 500, 502, 503, 504};

/* The smtp adapter reads SMTP replies (RFC 5321 section 4.2.3, RFC 4954). */
static const int smtp_statuses[] = {211, 214, 220, 221, 250, 251, 252, 354, 421, 432, 450,
                                    451, 452, 454, 455, 500, 501, 502, 503, 504, 521, 530,
                                    534, 535, 538, 550, 551, 552, 553, 554, 555};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static omni_outbound *obs[N_CONFIGS];
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < N_CONFIGS; i++)
            if (omni_outbound_new(&obs[i], configs[i][1], strlen(configs[i][1])) != OMNI_OK)
                obs[i] = NULL; /* a provider whose configuration changed: skipped */
        ready = 1;
    }
    if (size < 2)
        return 0;
    int status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    uint8_t flags = data[1];
    omni_http_response *resp;
    if (omni_http_response_new(&resp) != OMNI_OK)
        return 0;
    omni_http_response_set_status(resp, status);
    if (flags & 1)
        omni_http_response_add_header(resp, "Content-Type", "application/json");
    if (flags & 2)
        omni_http_response_add_header(resp, "Retry-After",
                                      (flags & 4) ? "7" : "Sun, 06 Nov 1994 08:49:37 GMT");
    if (flags & 8)
        omni_http_response_add_header(resp, "X-Message-Id", "fuzz-id");
    if (flags & 16)
        omni_http_response_add_header(resp, "x-amzn-ErrorType", "TooManyRequestsException");
    omni_http_response_set_body(resp, data + 2, size - 2);
    omni_http_response *sresp;
    if (omni_http_response_new(&sresp) != OMNI_OK) {
        omni_http_response_free(resp);
        return 0;
    }
    int sstatus = smtp_statuses[data[0] % (sizeof(smtp_statuses) / sizeof(smtp_statuses[0]))];
    omni_http_response_set_status(sresp, sstatus);
    omni_http_response_set_body(sresp, data + 2, size - 2);
    for (size_t i = 0; i < N_CONFIGS; i++) {
        if (!obs[i])
            continue;
        char *out = NULL;
        size_t n = 0;
        int smtp = strcmp(configs[i][0], "smtp") == 0;
        int rc = omni_outbound_parse(&out, &n, obs[i], configs[i][0], smtp ? sresp : resp,
                                     784111777000LL);
        CHECK(rc == OMNI_OK);
        CHECK(out && n == strlen(out));
        cJSON *j = cJSON_ParseWithLength(out, n);
        CHECK(j && cJSON_IsObject(j));
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "success");
        CHECK(cJSON_IsBool(ok));
        if (cJSON_IsFalse(ok)) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
            CHECK(cJSON_IsObject(e));
            CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")));
            CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "message")));
            CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(e, "retryable")));
        }
        if (smtp) {
            /* success exactly for 2xx; a 4xx is retryable, a 5xx is not, and
             * providerCode starts with the reply code */
            CHECK(cJSON_IsTrue(ok) == (sstatus / 100 == 2));
            if (cJSON_IsFalse(ok)) {
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
                const cJSON *pc = cJSON_GetObjectItemCaseSensitive(e, "providerCode");
                char code[8];
                snprintf(code, sizeof(code), "%d", sstatus);
                CHECK(cJSON_IsString(pc) && strncmp(pc->valuestring, code, 3) == 0);
                if (sstatus / 100 == 4 || sstatus / 100 == 5)
                    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "retryable")) ==
                          (sstatus / 100 == 4));
            }
        }
        if (!memmem(data, size, "FUZZSECRET", 10))
            CHECK(!strstr(out, "FUZZSECRET"));
        cJSON_Delete(j);
        omni_free(out);
    }
    omni_http_response_free(sresp);
    omni_http_response_free(resp);
    return 0;
}
