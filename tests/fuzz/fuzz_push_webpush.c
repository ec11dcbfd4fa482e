/* Fuzz target: the Web Push adapter (lib/push/webpush_send.c). The first
 * byte picks the mode:
 *   0: the rest is a response (status from a table, flag byte for headers,
 *      then the body) through omni_push_parse;
 *   1: the rest is a whole message through omni_push_build;
 *   2: the rest is spliced in as "payload" of a valid message;
 *   3: the rest is spliced in as "options" of a valid message;
 *   4: the rest is spliced in as the "subscription".
 * The configuration is compiled once (its VAPID cache is shared by all runs).
 * Invariants: a parse never fails and gives a JSON object {"success" bool,
 * "platform": "web", "status", "error": {code, message, retryable}?}; a
 * build either fails with *out NULL, or gives a POST to the subscription's
 * endpoint with the documented headers and a body that decrypts (RFC 8291,
 * with the subscription's key) into a JSON object with a "title" string of
 * at most OMNI_WEBPUSH_MAX_PLAINTEXT bytes; the VAPID key never appears in
 * an error or a result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AS_PRIVATE "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
/* The input carries the key's text itself: an error or result may then
 * echo it (the input's words, not the configured key). */
static int input_has_key;
#define UA_PUBLIC                                                                          \
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define SUB                                                                                \
    "{\"endpoint\":\"https://push.example.com/s/1\",\"keys\":{\"p256dh\":\"" UA_PUBLIC       \
    "\",\"auth\":\"BTBZMqHH6r4Tts7J_aSIgg\"}}"
#define NOW_MS 1714564800000LL

/* RFC 8291 Appendix A: the user agent's private key and auth secret. */
static const uint8_t ua_private[32] = {
    0xab, 0x57, 0x57, 0xa7, 0x0d, 0xd4, 0xa5, 0x3e, 0x55, 0x3a, 0x6b, 0xbf, 0x71, 0xff, 0xef, 0xea,
    0x28, 0x74, 0xec, 0x07, 0xa6, 0xb3, 0x79, 0xe3, 0xc4, 0x8f, 0x89, 0x5a, 0x02, 0xdc, 0x33, 0xde};
static const uint8_t auth_secret[16] = {0x05, 0x30, 0x59, 0x32, 0xa1, 0xc7, 0xea, 0xbe,
                                        0x13, 0xb6, 0xce, 0xc9, 0xfd, 0xa4, 0x88, 0x82};

static const int statuses[] = {200, 201, 202, 204, 301, 400, 401, 403, 404,
                               406, 410, 413, 429, 500, 502, 503, 504, 599};

static void check_result(const char *out, size_t len)
{
    CHECK(out && strlen(out) == len);
    CHECK(input_has_key || !strstr(out, AS_PRIVATE));
    cJSON *j = cJSON_ParseWithLength(out, len);
    CHECK(cJSON_IsObject(j));
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "success");
    CHECK(cJSON_IsBool(ok));
    const cJSON *pf = cJSON_GetObjectItemCaseSensitive(j, "platform");
    CHECK(cJSON_IsString(pf) && strcmp(pf->valuestring, "web") == 0);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    CHECK(cJSON_IsString(st));
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsTrue(ok)) {
        CHECK(!err && strcmp(st->valuestring, "sent") == 0);
    } else {
        CHECK(cJSON_IsObject(err) && strcmp(st->valuestring, "failed") == 0);
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "code")));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "message")));
        CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(err, "retryable")));
    }
    cJSON_Delete(j);
}

static void fuzz_parse(omni_push *p, const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    omni_http_response *resp;
    if (omni_http_response_new(&resp) != OMNI_OK)
        return;
    omni_http_response_set_status(resp, statuses[data[0] % (sizeof(statuses) / sizeof(int))]);
    uint8_t flags = data[1];
    if (flags & 1)
        omni_http_response_add_header(resp, "Content-Type", "application/json");
    if (flags & 2)
        omni_http_response_add_header(resp, "Retry-After",
                                      (flags & 4) ? "7" : "Wed, 01 May 2024 12:01:00 GMT");
    if (flags & 8)
        omni_http_response_add_header(resp, "Location", "https://push.example.com/m/1");
    omni_http_response_set_body(resp, data + 2, size - 2);
    char *out = NULL;
    size_t len = 0;
    CHECK(omni_push_parse(&out, &len, p, "web", resp, NOW_MS) == OMNI_OK);
    check_result(out, len);
    omni_free(out);
    omni_http_response_free(resp);
}

static void check_request(const omni_http_request *req, const char *msg, size_t len)
{
    CHECK(strcmp(omni_http_request_method(req), "POST") == 0);
    cJSON *m = cJSON_ParseWithLength(msg, len);
    CHECK(m);
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(m, "subscription");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(sub, "endpoint");
    CHECK(cJSON_IsString(ep) && strcmp(ep->valuestring, omni_http_request_url(req)) == 0);
    static const char *const names[] = {"TTL", "Urgency", "Content-Encoding", "Content-Type",
                                        "Authorization"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(omni_http_request_header(req, names[i]) != NULL);
    CHECK(strcmp(omni_http_request_header(req, "Content-Encoding"), "aes128gcm") == 0);
    CHECK(strncmp(omni_http_request_header(req, "Authorization"), "vapid t=", 8) == 0);
    size_t blen = 0;
    const char *body = omni_http_request_body(req, &blen);
    CHECK(blen <= 4096);
    uint8_t *plain = NULL;
    size_t plen = 0;
    /* a p256dh other than the known one cannot be decrypted here */
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(sub, "keys");
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(keys, "p256dh");
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(keys, "auth");
    if (cJSON_IsString(pk) && strcmp(pk->valuestring, UA_PUBLIC) == 0 && cJSON_IsString(au) &&
        strcmp(au->valuestring, "BTBZMqHH6r4Tts7J_aSIgg") == 0) {
        CHECK(omni_webpush_decrypt(&plain, &plen, (const uint8_t *)body, blen, ua_private,
                                   auth_secret) == OMNI_OK);
        CHECK(plen <= OMNI_WEBPUSH_MAX_PLAINTEXT);
        cJSON *n = cJSON_ParseWithLength((const char *)plain, plen);
        CHECK(cJSON_IsObject(n));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(n, "title")));
        cJSON_Delete(n);
        omni_free(plain);
    }
    cJSON_Delete(m);
}

static void fuzz_build(omni_push *p, const char *msg, size_t len)
{
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_push_build(&req, p, msg, len, NOW_MS);
    if (rc) {
        CHECK(req == NULL);
        CHECK(input_has_key || !strstr(omni_error_last_message(), AS_PRIVATE));
        return;
    }
    CHECK(req != NULL);
    check_request(req, msg, len);
    omni_http_request_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static omni_push *p;
    if (!p) {
        const char cfg[] = "{\"webpush\":{\"vapidPrivateKey\":\"" AS_PRIVATE "\","
                           "\"subject\":\"mailto:ops@example.com\",\"vapidExpiresSeconds\":600}}";
        CHECK(omni_push_new(&p, cfg, strlen(cfg)) == OMNI_OK);
    }
    if (size < 1 || size > 70000)
        return 0;
    input_has_key = memmem(data, size, AS_PRIVATE, sizeof(AS_PRIVATE) - 1) != NULL;
    uint8_t mode = data[0] % 5;
    data++;
    size--;
    if (mode == 0) {
        fuzz_parse(p, data, size);
        return 0;
    }
    if (mode == 1) {
        fuzz_build(p, (const char *)data, size);
        return 0;
    }
    static const char *const pre[] = {
        "{\"platform\":\"web\",\"subscription\":" SUB ",\"payload\":",
        "{\"platform\":\"web\",\"subscription\":" SUB ",\"payload\":{\"title\":\"t\"},"
        "\"options\":",
        "{\"platform\":\"web\",\"payload\":{\"title\":\"t\"},\"subscription\":"};
    const char *head = pre[mode - 2];
    size_t hlen = strlen(head);
    char *msg = malloc(hlen + size + 2);
    if (!msg)
        return 0;
    memcpy(msg, head, hlen);
    if (size)
        memcpy(msg + hlen, data, size);
    msg[hlen + size] = '}';
    msg[hlen + size + 1] = '\0';
    fuzz_build(p, msg, hlen + size + 1);
    free(msg);
    return 0;
}
