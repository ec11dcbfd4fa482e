/* Fuzz target: the WhatsApp Cloud API adapter on arbitrary bodies.
 *   1. POST with verification off: parsing never crashes, leaks or hangs;
 *      a result is valid JSON with an "events" array of at most
 *      OMNI_WEBHOOK_MAX_EVENTS message/status events; a failure hands out
 *      nothing and is one of the documented errors.
 *   2. With a fixed app secret: a signature taken from the input is refused;
 *      the correct X-Hub-Signature-256 (computed here) verifies and the
 *      request parses like 1.
 *   3. The bytes as the query of the GET subscription handshake (when they
 *      can be a URL): a 200 answer echoes a hub.challenge of letters,
 *      digits and -._~ only, with no events. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_carrier_common.h"

#define SECRET "fuzz-app-secret"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the parsed result (caller deletes) or NULL on a failure. */
static cJSON *handle(omni_inbound *in, omni_webhook *w)
{
    return fz_handle_events(in, "whatsapp", w);
}

static omni_webhook *post(const uint8_t *data, size_t size, const char *sig)
{
    omni_webhook *w = NULL;
    fz_check(omni_webhook_new(&w, "POST", "/whatsapp") == OMNI_OK);
    fz_check(omni_webhook_add_header(w, "Content-Type", "application/json") == OMNI_OK);
    if (sig)
        fz_check(omni_webhook_add_header(w, "X-Hub-Signature-256", sig) == OMNI_OK);
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
    omni_inbound *off = fz_open_inbound("{\"carriers\":{\"whatsapp\":{\"verify\":false}}}");
    omni_inbound *on = fz_open_inbound("{\"carriers\":{\"whatsapp\":{\"appSecret\":\"" SECRET
                                    "\",\"verifyToken\":\"tok\"}}}");
    omni_webhook *w = post(data, size, NULL);
    if (w) {
        cJSON_Delete(handle(off, w));
        omni_webhook_free(w);
    }

    char forged[80];
    snprintf(forged, sizeof(forged), "sha256=");
    for (size_t i = 0; i < 64; i++)
        forged[7 + i] = "0123456789abcdef"[(i < size ? data[i] : 0) & 15];
    forged[71] = '\0';
    w = post(data, size, forged);
    if (w) {
        fz_check(omni_inbound_verify(on, NULL, "whatsapp", w) == OMNI_ESIGNATURE);
        fz_check(handle(on, w) == NULL);
        omni_webhook_free(w);
    }
    uint8_t mac[32];
    fz_check(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, SECRET, strlen(SECRET), data, size) ==
          OMNI_OK);
    char sig[80];
    strcpy(sig, "sha256=");
    for (int i = 0; i < 32; i++)
        snprintf(sig + 7 + 2 * i, 3, "%02X", mac[i]);
    w = post(data, size, sig);
    if (w) {
        fz_check(omni_inbound_verify(on, NULL, "whatsapp", w) == OMNI_OK);
        cJSON_Delete(handle(on, w));
        omni_webhook_free(w);
    }

    char url[512];
    if (size < 400) {
        snprintf(url, sizeof(url), "/whatsapp?%.*s", (int)size, (const char *)data);
        omni_webhook *g = NULL;
        if (strlen(url) == 10 + size && omni_webhook_new(&g, "GET", url) == OMNI_OK) {
            cJSON *res = handle(on, g);
            if (res) {
                fz_check(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "events")) == 0);
                const cJSON *resp = cJSON_GetObjectItemCaseSensitive(res, "response");
                const cJSON *body = cJSON_GetObjectItemCaseSensitive(resp, "body");
                fz_check(cJSON_IsString(body) && body->valuestring[0]);
                for (const char *p = body->valuestring; *p; p++)
                    fz_check(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789-._~",
                                 *p) != NULL);
                cJSON_Delete(res);
            }
            omni_webhook_free(g);
        }
    }
    omni_inbound_free(off);
    omni_inbound_free(on);
    return 0;
}
