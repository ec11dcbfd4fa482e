/* Foundation benchmarks: JSON, encodings, HMAC, JWT, UUIDs, the memory
 * store. Peers (cJSON used raw, OpenSSL one-shot calls) run in the same
 * invocation so the ratios are like for like on this machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <omni/omni.h>

#include "bench.h"
#include "lib/core/json.h"

/* A WhatsApp Cloud API text webhook (~600 bytes), as Meta documents it. */
static const char whatsapp_webhook[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
    "\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},"
    "\"contacts\":[{\"profile\":{\"name\":\"Sheena Nelson\"},\"wa_id\":\"16505551234\"}],"
    "\"messages\":[{\"from\":\"16505551234\",\"id\":\"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRB"
    "NjU5OUFFRTAzODEwMTQ0RgA=\",\"timestamp\":\"1749416383\",\"type\":\"text\",\"text\":{"
    "\"body\":\"Does it come in another color?\"}}]},\"field\":\"messages\"}]}]}";

static const char twilio_form[] =
    "ToCountry=US&ToState=CA&SmsMessageSid=SM1234567890abcdef1234567890abcdef&NumMedia=0"
    "&ToCity=&FromZip=94105&SmsSid=SM1234567890abcdef1234567890abcdef&FromState=CA"
    "&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Hello+there%21+%F0%9F%91%8B"
    "&FromCountry=US&To=%2B14155550100&ToZip=&NumSegments=1"
    "&MessageSid=SM1234567890abcdef1234567890abcdef&AccountSid=AC0123456789abcdef0123456789abcd"
    "&From=%2B14155550199&ApiVersion=2010-04-01";

static void b_json_parse(void *ctx, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        cJSON *root;
        omni__json_parse(&root, whatsapp_webhook, sizeof(whatsapp_webhook) - 1, 0, NULL);
        cJSON_Delete(root);
    }
}

static void p_json_parse(void *ctx, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(cJSON_ParseWithLength(whatsapp_webhook, sizeof(whatsapp_webhook) - 1));
}

static void b_json_print(void *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        omni__json_print(&out, &len, ctx);
        free(out);
    }
}

static void p_json_print(void *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cJSON_PrintUnformatted(ctx));
}

static uint8_t payload[1024];

static void b_b64url(void *ctx, size_t n)
{
    size_t len = *(size_t *)ctx;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t out_len;
        omni_base64url_encode(&out, &out_len, payload, len);
        omni_free(out);
    }
}

static void p_b64(void *ctx, size_t n)
{
    size_t len = *(size_t *)ctx;
    for (size_t i = 0; i < n; i++) {
        unsigned char *out = malloc(4 * ((len + 2) / 3) + 1);
        EVP_EncodeBlock(out, payload, (int)len);
        free(out);
    }
}

static void b_hmac(void *ctx, size_t n)
{
    (void)ctx;
    uint8_t mac[32];
    for (size_t i = 0; i < n; i++)
        omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, "app-secret", 10, whatsapp_webhook,
                  sizeof(whatsapp_webhook) - 1);
    bench_sink(mac);
}

static void p_hmac(void *ctx, size_t n)
{
    (void)ctx;
    uint8_t mac[32];
    unsigned len;
    for (size_t i = 0; i < n; i++)
        HMAC(EVP_sha256(), "app-secret", 10, (const uint8_t *)whatsapp_webhook,
             sizeof(whatsapp_webhook) - 1, mac, &len);
    bench_sink(mac);
}

static void b_form(void *ctx, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        omni_form_decode(&out, &len, twilio_form, sizeof(twilio_form) - 1);
        omni_free(out);
    }
}

static const char claims[] = "{\"iss\":\"TEAMID1234\",\"iat\":1795339800}";

static void b_jwt_hs256(void *ctx, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++) {
        char *tok;
        size_t len;
        omni_jwt_sign(&tok, &len, "HS256", "secret", 6, NULL, 0, claims, sizeof(claims) - 1);
        omni_free(tok);
    }
}

typedef struct {
    const char *token;
    size_t len;
} verify_ctx;

static void b_jwt_verify(void *ctx, size_t n)
{
    verify_ctx *v = ctx;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        omni_jwt_verify(&out, &len, NULL, v->token, v->len, "HS256", "secret", 6, 0);
        omni_free(out);
    }
}

static void b_uuid5(void *ctx, size_t n)
{
    (void)ctx;
    char out[OMNI_UUID_STRLEN];
    for (size_t i = 0; i < n; i++)
        omni_uuid5(out, OMNI_UUID_NS_URL, "whatsapp:+14155550100", 21);
    bench_sink(out);
}

static void b_uuid7(void *ctx, size_t n)
{
    char out[OMNI_UUID_STRLEN];
    for (size_t i = 0; i < n; i++)
        omni_uuid7(out, ctx);
    bench_sink(out);
}

static void b_time(void *ctx, size_t n)
{
    (void)ctx;
    int64_t ms;
    for (size_t i = 0; i < n; i++)
        omni_time_parse(&ms, "2026-11-22T09:30:00.123+05:30", 29);
    bench_sink(&ms);
}

typedef struct {
    omni_store *store;
    char keys[1000][32];
} store_ctx;

static void b_store_get(void *ctx, size_t n)
{
    store_ctx *s = ctx;
    for (size_t i = 0; i < n; i++) {
        char *v;
        size_t len;
        if (omni_store_get(s->store, "identity", s->keys[i % 1000], 0, &v, &len, NULL, NULL) ==
            OMNI_OK)
            omni_free(v);
    }
}

static void b_store_put(void *ctx, size_t n)
{
    store_ctx *s = ctx;
    static const char value[] = "{\"customerId\":\"c-123\",\"type\":\"known\"}";
    for (size_t i = 0; i < n; i++)
        omni_store_put(s->store, "identity", s->keys[i % 1000], value, sizeof(value) - 1,
                       OMNI_STORE_ANY_VERSION, 0, 0, NULL);
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 50.0, 7, NULL};
    if (bench_args(&o, argc, argv, "omni-bench", NULL, NULL))
        return 2;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 131 + 7);

    bench_run(&o, "json_parse_whatsapp_600B", b_json_parse, NULL, "cjson_unchecked",
              p_json_parse, NULL);
    cJSON *tree = cJSON_ParseWithLength(whatsapp_webhook, sizeof(whatsapp_webhook) - 1);
    bench_run(&o, "json_print_whatsapp_600B", b_json_print, tree, "cjson_print", p_json_print,
              tree);
    cJSON_Delete(tree);
    size_t small = 32, large = 1024;
    bench_run(&o, "base64url_encode_32B", b_b64url, &small, "openssl_EVP_EncodeBlock", p_b64,
              &small);
    bench_run(&o, "base64url_encode_1KiB", b_b64url, &large, "openssl_EVP_EncodeBlock", p_b64,
              &large);
    bench_run(&o, "hmac_sha256_600B", b_hmac, NULL, "openssl_HMAC", p_hmac, NULL);
    bench_run(&o, "form_decode_twilio", b_form, NULL, NULL, NULL, NULL);
    bench_run(&o, "jwt_sign_hs256", b_jwt_hs256, NULL, NULL, NULL, NULL);
    char *tok = NULL;
    size_t tok_len = 0;
    if (omni_jwt_sign(&tok, &tok_len, "HS256", "secret", 6, NULL, 0, claims,
                      sizeof(claims) - 1) == OMNI_OK) {
        verify_ctx v = {tok, tok_len};
        bench_run(&o, "jwt_verify_hs256", b_jwt_verify, &v, NULL, NULL, NULL);
        omni_free(tok);
    }
    bench_run(&o, "uuid5", b_uuid5, NULL, NULL, NULL, NULL);
    omni_engine *e = NULL;
    if (omni_engine_new(&e, NULL, 0, NULL) == OMNI_OK) {
        bench_run(&o, "uuid7", b_uuid7, e, NULL, NULL, NULL);
        omni_engine_free(e);
    }
    bench_run(&o, "rfc3339_parse", b_time, NULL, NULL, NULL, NULL);

    store_ctx *s = calloc(1, sizeof(*s));
    if (s && omni_store_open(&s->store, "memory:") == OMNI_OK) {
        for (int i = 0; i < 1000; i++)
            snprintf(s->keys[i], sizeof(s->keys[i]), "+1415555%04d", i);
        b_store_put(s, 1000);
        bench_run(&o, "store_memory_get", b_store_get, s, NULL, NULL, NULL);
        bench_run(&o, "store_memory_put", b_store_put, s, NULL, NULL, NULL);
        omni_store_free(s->store);
    }
    free(s);
    return 0;
}
