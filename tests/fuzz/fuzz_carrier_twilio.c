/* Fuzz target: the Twilio adapter on arbitrary bodies.
 *   1. POST (form and JSON) and GET (the bytes as the query, when they can
 *      be a URL) with verification off: parsing never crashes, leaks or
 *      hangs; a result is valid JSON with an "events" array of at most
 *      OMNI_WEBHOOK_MAX_EVENTS message/status events; a failure hands out
 *      nothing and is one of the documented errors.
 *   2. The same body with a fixed auth token: with a signature taken from
 *      the input it is refused (or malformed); with the correct signature
 *      (computed here independently) it verifies and parses like 1. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_carrier_common.h"
#include "lib/core/codec.h"

#define TOKEN "fuzz-auth-token"
#define URL "https://hooks.example.com/twilio"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void handle(omni_inbound *in, omni_webhook *w)
{
    cJSON *root = fz_handle_events(in, "twilio", w);
    if (!root)
        return;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(root, "events"))
        fz_check(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ev, "correlationId")));
    cJSON_Delete(root);
}

static int cmp_pair(const void *a, const void *b)
{
    const omni__pair *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c || x->name_len != y->name_len)
        return c ? c : (x->name_len < y->name_len ? -1 : 1);
    n = x->value_len < y->value_len ? x->value_len : y->value_len;
    c = memcmp(x->value, y->value, n);
    return c ? c : (x->value_len > y->value_len) - (x->value_len < y->value_len);
}

/* Twilio's signature of URL + the sorted distinct form fields, or NULL
 * when the body is not a valid form. */
static char *signature(const char *body, size_t len)
{
    omni__pairs p = OMNI__PAIRS_INIT;
    if (omni__form_parse(&p, body, len) != OMNI_OK)
        return NULL;
    if (p.count)
        qsort(p.items, p.count, sizeof(p.items[0]), cmp_pair);
    size_t cap = strlen(URL) + 1;
    for (size_t i = 0; i < p.count; i++)
        cap += p.items[i].name_len + p.items[i].value_len;
    char *s = malloc(cap);
    fz_check(s != NULL);
    size_t k = strlen(URL);
    memcpy(s, URL, k);
    for (size_t i = 0; i < p.count; i++) {
        if (i && cmp_pair(&p.items[i], &p.items[i - 1]) == 0)
            continue;
        memcpy(s + k, p.items[i].name, p.items[i].name_len);
        k += p.items[i].name_len;
        memcpy(s + k, p.items[i].value, p.items[i].value_len);
        k += p.items[i].value_len;
    }
    omni__pairs_free(&p);
    uint8_t mac[20];
    fz_check(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA1, TOKEN, strlen(TOKEN), s, k) == OMNI_OK);
    free(s);
    char *b64;
    size_t b64_len;
    fz_check(omni_base64_encode(&b64, &b64_len, mac, sizeof(mac)) == OMNI_OK);
    return b64;
}

static omni_webhook *post(const uint8_t *data, size_t size, const char *ct, const char *sig)
{
    omni_webhook *w = NULL;
    fz_check(omni_webhook_new(&w, "POST", "/twilio") == OMNI_OK);
    fz_check(omni_webhook_add_header(w, "Host", "hooks.example.com") == OMNI_OK);
    if (ct)
        fz_check(omni_webhook_add_header(w, "Content-Type", ct) == OMNI_OK);
    if (sig && omni_webhook_add_header(w, "X-Twilio-Signature", sig) != OMNI_OK)
        fz_check(omni_webhook_add_header(w, "X-Twilio-Signature", "x") == OMNI_OK);
    if (omni_webhook_set_body(w, data, size) != OMNI_OK) {
        omni_webhook_free(w);
        return NULL;
    }
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > OMNI_WEBHOOK_MAX_BODY)
        return 0;
    omni_inbound *off = fz_open_inbound("{\"carriers\":{\"twilio\":{\"verify\":false}}}");
    omni_inbound *on = fz_open_inbound("{\"carriers\":{\"twilio\":{\"authToken\":\"" TOKEN "\"}}}");

    /* 1. parsing with verification off */
    omni_webhook *w = post(data, size, NULL, NULL);
    if (w) {
        handle(off, w);
        omni_webhook_free(w);
    }
    w = post(data, size, "application/json", NULL);
    if (w) {
        handle(off, w);
        omni_webhook_free(w);
    }
    char url[512];
    if (size < 400) {
        snprintf(url, sizeof(url), "/twilio?%.*s", (int)size, (const char *)data);
        omni_webhook *g = NULL;
        if (strlen(url) == 8 + size && omni_webhook_new(&g, "GET", url) == OMNI_OK) {
            handle(off, g);
            omni_webhook_free(g);
        }
    }

    /* 2. verification: a signature from the input never passes */
    char forged[29];
    size_t n = size < 28 ? size : 28;
    for (size_t i = 0; i < n; i++)
        forged[i] = (char)(data[i] % 94 + 33);
    forged[n] = '\0';
    w = post(data, size, NULL, forged);
    if (w) {
        int rc = omni_inbound_verify(on, NULL, "twilio", w);
        fz_check(rc == OMNI_ESIGNATURE || rc == OMNI_EWEBHOOK || rc == OMNI_ENOMEM);
        handle(on, w);
        omni_webhook_free(w);
    }
    char *sig = signature((const char *)data, size);
    if (sig) {
        w = post(data, size, "application/x-www-form-urlencoded", sig);
        if (w) {
            fz_check(omni_inbound_verify(on, NULL, "twilio", w) == OMNI_OK);
            handle(on, w);
            omni_webhook_free(w);
        }
        omni_free(sig);
    }
    omni_inbound_free(off);
    omni_inbound_free(on);
    return 0;
}
