/* Fuzz target: omni_webhook_from_json on arbitrary bytes.
 * Invariants for every accepted input x:
 *   w = from_json(x) has a method, a URL within OMNI_WEBHOOK_MAX_URL, at
 *   most OMNI_WEBHOOK_MAX_HEADERS headers and a body within
 *   OMNI_WEBHOOK_MAX_BODY; written back in the JSON form (headers as
 *   [name, value] pairs, the body as bodyBase64) it is accepted again and
 *   equal (method, URL, every header in order, body bytes).
 * A refused input leaves *out NULL with an error status of the documented
 * set. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static char *to_json(const omni_webhook *w)
{
    cJSON *root = cJSON_CreateObject();
    check(root != NULL);
    cJSON_AddStringToObject(root, "method", omni_webhook_method(w));
    cJSON_AddStringToObject(root, "url", omni_webhook_url(w));
    cJSON *headers = cJSON_AddArrayToObject(root, "headers");
    for (size_t i = 0; i < omni_webhook_header_count(w); i++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(omni_webhook_header_name(w, i)));
        cJSON_AddItemToArray(pair, cJSON_CreateString(omni_webhook_header_value(w, i)));
        cJSON_AddItemToArray(headers, pair);
    }
    size_t len;
    const char *body = omni_webhook_body(w, &len);
    char *b64 = NULL;
    size_t b64_len;
    check(omni_base64_encode(&b64, &b64_len, body, len) == OMNI_OK);
    cJSON_AddStringToObject(root, "bodyBase64", b64);
    omni_free(b64);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    check(text != NULL);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    omni_webhook *a = (omni_webhook *)1, *b = NULL;
    int rc = omni_webhook_from_json(&a, (const char *)data, size);
    if (rc != OMNI_OK) {
        check(a == NULL);
        check(rc == OMNI_EJSON || rc == OMNI_EWEBHOOK || rc == OMNI_ETOOLARGE ||
              rc == OMNI_ETOODEEP || rc == OMNI_ENOMEM);
        check(omni_error_last_status() == rc);
        return 0;
    }
    check(omni_webhook_method(a) != NULL);
    const char *url = omni_webhook_url(a);
    check(url && strlen(url) >= 1 && strlen(url) <= OMNI_WEBHOOK_MAX_URL);
    check(omni_webhook_header_count(a) <= OMNI_WEBHOOK_MAX_HEADERS);
    size_t la, lb;
    const char *ba = omni_webhook_body(a, &la);
    check(la <= OMNI_WEBHOOK_MAX_BODY && ba[la] == '\0');

    char *json = to_json(a);
    check(omni_webhook_from_json(&b, json, strlen(json)) == OMNI_OK);
    free(json);
    check(str_eq(omni_webhook_method(a), omni_webhook_method(b)));
    check(str_eq(omni_webhook_url(a), omni_webhook_url(b)));
    size_t n = omni_webhook_header_count(a);
    check(n == omni_webhook_header_count(b));
    for (size_t i = 0; i < n; i++) {
        check(str_eq(omni_webhook_header_name(a, i), omni_webhook_header_name(b, i)));
        check(str_eq(omni_webhook_header_value(a, i), omni_webhook_header_value(b, i)));
    }
    const char *bb = omni_webhook_body(b, &lb);
    check(la == lb && memcmp(ba, bb, la) == 0);
    omni_webhook_free(a);
    omni_webhook_free(b);
    return 0;
}
