/* Web Push benchmarks (issue 8): RFC 8291 encryption of a 200-byte payload
 * (fresh salt and sender key pair each time, as real sends need) against the
 * floor of the raw OpenSSL operations one encryption needs, measured in the
 * same run: P-256 key generation, ECDH, two HKDF-SHA-256 (RFC 8291's and
 * RFC 8188's) and one AES-128-GCM seal through EVP. Also decryption and the
 * VAPID header. Goal: >= 20,000 encryptions per second on one core.
 * APNs and FCM: omni_push_build of an alert to a device token (the provider
 * token / the OAuth access token is cached, so no signing in the loop; goal
 * 500,000 per second each) against the floor of the request object the
 * build ends with, made the way the build makes it (the body in its own
 * buffer, then the object, URL and headers in one block through
 * omni__http_request_make) and freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <omni/omni.h>

#include "bench.h"
#include "lib/transport/transport_internal.h"

typedef struct push_ctx {
    uint8_t ua_public[65], ua_private[32], auth[16];
    uint8_t payload[200];
    uint8_t *body;
    size_t body_len;
    EVP_PKEY *ua_pkey; /* the peer's view of the subscription key */
} push_ctx;

static void run_encrypt(void *p, size_t n)
{
    push_ctx *c = p;
    for (size_t i = 0; i < n; i++) {
        uint8_t *out = NULL;
        size_t len = 0;
        if (omni_webpush_encrypt(&out, &len, c->payload, sizeof(c->payload), c->ua_public,
                                 c->auth, NULL, NULL, 0)) {
            fprintf(stderr, "webpush encrypt failed: %s\n", omni_error_last_message());
            exit(1);
        }
        bench_sink(out);
        omni_free(out);
    }
}

static void run_decrypt(void *p, size_t n)
{
    push_ctx *c = p;
    for (size_t i = 0; i < n; i++) {
        uint8_t *out = NULL;
        size_t len = 0;
        if (omni_webpush_decrypt(&out, &len, c->body, c->body_len, c->ua_private, c->auth)) {
            fprintf(stderr, "webpush decrypt failed\n");
            exit(1);
        }
        bench_sink(out);
        omni_free(out);
    }
}

static void run_vapid(void *p, size_t n)
{
    push_ctx *c = p;
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        if (omni_webpush_vapid(&out, NULL, "https://fcm.googleapis.com/fcm/send/abc",
                               "mailto:ops@example.com", c->ua_private, 1700000000000LL, 43200)) {
            fprintf(stderr, "webpush vapid failed\n");
            exit(1);
        }
        bench_sink(out);
        omni_free(out);
    }
}

static int hkdf(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
                const uint8_t *ikm, size_t ikm_len, const void *info, size_t info_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
        OSSL_PARAM_construct_end()};
    int ok = kc && EVP_KDF_derive(kc, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

/* The floor: the same operations straight through OpenSSL's EVP API. */
static void run_floor(void *p, size_t n)
{
    push_ctx *c = p;
    static const char cek_info[] = "Content-Encoding: aes128gcm";
    static const char nonce_info[] = "Content-Encoding: nonce";
    for (size_t i = 0; i < n; i++) {
        uint8_t salt[16], secret[32], ikm[32], okm[28], info[14 + 130], as_pub[65];
        uint8_t out[sizeof(c->payload) + 1 + 16], pad = 0x02;
        size_t slen = sizeof(secret);
        int w = 0;
        RAND_bytes(salt, sizeof(salt));
        EVP_PKEY *as = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(as, NULL);
        int ok = as && dc && EVP_PKEY_derive_init(dc) == 1 &&
                 EVP_PKEY_derive_set_peer(dc, c->ua_pkey) == 1 &&
                 EVP_PKEY_derive(dc, secret, &slen) == 1 &&
                 EVP_PKEY_get_octet_string_param(as, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, as_pub,
                                                 sizeof(as_pub), NULL) == 1;
        memcpy(info, "WebPush: info", 14);
        memcpy(info + 14, c->ua_public, 65);
        memcpy(info + 79, as_pub, 65);
        ok = ok && !hkdf(ikm, 32, c->auth, 16, secret, 32, info, sizeof(info));
        ok = ok && !hkdf(okm, 16, salt, 16, ikm, 32, cek_info, sizeof(cek_info));
        ok = ok && !hkdf(okm + 16, 12, salt, 16, ikm, 32, nonce_info, sizeof(nonce_info));
        EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
        ok = ok && cc && EVP_EncryptInit_ex(cc, EVP_aes_128_gcm(), NULL, okm, okm + 16) == 1 &&
             EVP_EncryptUpdate(cc, out, &w, c->payload, (int)sizeof(c->payload)) == 1 &&
             EVP_EncryptUpdate(cc, out + sizeof(c->payload), &w, &pad, 1) == 1 &&
             EVP_EncryptFinal_ex(cc, out + sizeof(c->payload) + 1, &w) == 1 &&
             EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_GET_TAG, 16, out + sizeof(c->payload) + 1) ==
                 1;
        EVP_CIPHER_CTX_free(cc);
        EVP_PKEY_CTX_free(dc);
        EVP_PKEY_free(as);
        if (!ok) {
            fprintf(stderr, "floor: OpenSSL failed\n");
            exit(1);
        }
        bench_sink(out);
    }
}

/* ---- APNs request building -------------------------------------------------------- */

/* A P-256 key made for the tests (tests/data/push/apns/AuthKey_TEST123456.p8). */
static const char apns_config[] =
    "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\",\"topic\":\"com.example.app\","
    "\"privateKey\":\"-----BEGIN PRIVATE KEY-----\\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1RxfREgC6RCYE3A/\\n"
    "2MZxsAqg/cCLNfeHRGoDOtn5LUShRANCAAS6enz+FydzUpOTN0uiguG4jgQGb97M\\n"
    "xP1lobRpJCDrZoEwWSdtjzMMGs9KTYyT9SUnDCkZ33YsJq2uH5gk19uC\\n"
    "-----END PRIVATE KEY-----\\n\"}}";

static const char apns_message[] =
    "{\"platform\":\"ios\",\"token\":"
    "\"5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f801234\","
    "\"payload\":{\"title\":\"Order AB-123456\",\"body\":\"Your order ships today.\","
    "\"badge\":1,\"sound\":\"default\",\"data\":{\"orderId\":\"AB-123456\"}},"
    "\"options\":{\"priority\":\"high\",\"ttl\":3600,\"collapseKey\":\"order-AB-123456\"}}";

static void run_apns_build(void *p, size_t n)
{
    omni_push *push = p;
    for (size_t i = 0; i < n; i++) {
        omni_http_request *req;
        if (omni_push_build(&req, push, apns_message, sizeof(apns_message) - 1,
                            1767225600000LL) != OMNI_OK) {
            fprintf(stderr, "apns build failed: %s\n", omni_error_last_message());
            exit(1);
        }
        omni_http_request_free(req);
    }
}

/* FCM: the same notification to an Android token, with an access token in
 * the cache (the token exchange is not in the loop). */
static const char fcm_message[] =
    "{\"platform\":\"android\","
    "\"token\":\"dXNlci10b2tlbi1hYmNkZWY6QVBBOTFiSGhpZ2hfZW50cm9weV90b2tlbg\","
    "\"payload\":{\"title\":\"Order AB-123456\",\"body\":\"Your order ships today.\","
    "\"badge\":1,\"sound\":\"default\",\"data\":{\"orderId\":\"AB-123456\"}},"
    "\"options\":{\"priority\":\"high\",\"ttl\":3600,\"collapseKey\":\"order-AB-123456\","
    "\"channelId\":\"orders\"}}";

static void run_fcm_build(void *p, size_t n)
{
    omni_push *push = p;
    for (size_t i = 0; i < n; i++) {
        omni_http_request *req;
        if (omni_push_build(&req, push, fcm_message, sizeof(fcm_message) - 1,
                            1767225600000LL) != OMNI_OK) {
            fprintf(stderr, "fcm build failed: %s\n", omni_error_last_message());
            exit(1);
        }
        omni_http_request_free(req);
    }
}

/* An FCM configuration with the test service account and a cached token. */
static omni_push *fcm_push(void)
{
    size_t len = 0;
    char *sa = bench_read_file(OMNI_BENCH_SOURCE_DIR "/../tests/data/push/fcm/service_account.json",
                               &len);
    if (!sa)
        return NULL;
    char *cfg = malloc(len + 64);
    snprintf(cfg, len + 64, "{\"fcm\":{\"serviceAccount\":%s}}", sa);
    free(sa);
    omni_push *p = NULL;
    int rc = omni_push_new(&p, cfg, strlen(cfg));
    free(cfg);
    if (rc)
        return NULL;
    omni_http_response *resp = NULL;
    static const char token[] = "{\"access_token\":\"ya29.bench-token\",\"expires_in\":3599,"
                                "\"token_type\":\"Bearer\"}";
    if (omni_http_response_new(&resp) || omni_http_response_set_status(resp, 200) ||
        omni_http_response_set_body(resp, token, sizeof(token) - 1) ||
        omni_push_token_response(p, resp, 1767225600000LL)) {
        omni_http_response_free(resp);
        omni_push_free(p);
        return NULL;
    }
    omni_http_response_free(resp);
    return p;
}

/* The floor: the request object a build ends with, made directly: the body
 * copied into a buffer of its own (the build writes it into one), then the
 * one-block object with the URL and headers, then freed. */
typedef struct floor_req {
    const char *url, *url_tail;
    const omni__http_field *fields;
    size_t count;
    const char *body;
    size_t body_len;
} floor_req;

static void run_floor_request(void *p, size_t n)
{
    const floor_req *f = p;
    size_t ul = strlen(f->url), tl = strlen(f->url_tail);
    for (size_t i = 0; i < n; i++) {
        char *body = malloc(512);
        if (!body)
            continue;
        memcpy(body, f->body, f->body_len + 1);
        omni_http_request *req;
        if (omni__http_request_make(&req, "POST", f->url, ul, f->url_tail, tl, f->fields,
                                    f->count, body, f->body_len, 512) != OMNI_OK) {
            free(body);
            continue;
        }
        bench_sink(req);
        omni_http_request_free(req);
    }
}

static const char apns_body[] =
    "{\"aps\":{\"alert\":{\"title\":\"Order AB-123456\",\"body\":\"Your order ships "
    "today.\"},\"badge\":1,\"sound\":\"default\"},\"orderId\":\"AB-123456\"}";
static const char apns_auth[] =
    "bearer eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IlRFU1QxMjM0NTYifQ."
    "eyJpc3MiOiJBQkNERTEyMzQ1IiwiaWF0IjoxNzY3MjI1NjAwfQ.MEUCIQDx5y6x0QnZ0N3lqY1bq9xk"
    "QmFq0e1M3JmC2xk5oVt8NQIgWm8Z1p3m0L1h0oQ0bq2xWw5vKJ9p8f0D3yq9Zr2r6V";
static const omni__http_field apns_fields[] = {
    {"authorization", apns_auth, sizeof(apns_auth) - 1},
    {"apns-topic", "com.example.app", 15},
    {"apns-push-type", "alert", 5},
    {"apns-priority", "10", 2},
    {"apns-expiration", "1767229200", 10},
    {"apns-collapse-id", "order-AB-123456", 15},
    {"content-type", "application/json", 16}};
static const floor_req apns_floor = {
    "https://api.push.apple.com/3/device/",
    "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f801234",
    apns_fields, sizeof(apns_fields) / sizeof(apns_fields[0]), apns_body,
    sizeof(apns_body) - 1};

static const char fcm_body[] =
    "{\"message\":{\"token\":\"dXNlci10b2tlbi1hYmNkZWY6QVBBOTFiSGhpZ2hfZW50cm9weV90b2tlbg\","
    "\"notification\":{\"title\":\"Order AB-123456\",\"body\":\"Your order ships today.\"},"
    "\"data\":{\"orderId\":\"AB-123456\"},\"android\":{\"priority\":\"HIGH\",\"ttl\":\"3600s\","
    "\"collapse_key\":\"order-AB-123456\",\"notification\":{\"channel_id\":\"orders\","
    "\"sound\":\"default\",\"tag\":\"order-AB-123456\",\"notification_count\":1}}}}";
static const omni__http_field fcm_fields[] = {
    {"Authorization", "Bearer ya29.bench-token", 23},
    {"Content-Type", "application/json", 16}};
static const floor_req fcm_floor = {
    "https://fcm.googleapis.com/v1/projects/omni-test/messages:send", "", fcm_fields,
    sizeof(fcm_fields) / sizeof(fcm_fields[0]), fcm_body, sizeof(fcm_body) - 1};

int main(int argc, char **argv)
{
    bench_opts o = {0, 100.0, 7, NULL};
    int rc = bench_args(&o, argc, argv, "omni-bench-push", NULL, NULL);
    if (rc)
        return rc;
    push_ctx c;
    memset(&c, 0, sizeof(c));
    if (omni_webpush_keypair(c.ua_public, c.ua_private, NULL))
        return 1;
    memset(c.auth, 0x5a, sizeof(c.auth));
    for (size_t i = 0; i < sizeof(c.payload); i++)
        c.payload[i] = (uint8_t)('a' + i % 26);
    if (omni_webpush_encrypt(&c.body, &c.body_len, c.payload, sizeof(c.payload), c.ua_public,
                             c.auth, NULL, NULL, 0))
        return 1;
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, c.ua_public, 65),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!pc || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &c.ua_pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        return 1;
    EVP_PKEY_CTX_free(pc);

    bench_run(&o, "webpush_encrypt_200B", run_encrypt, &c, "openssl_evp_floor", run_floor, &c);
    bench_run(&o, "webpush_decrypt_200B", run_decrypt, &c, NULL, NULL, NULL);
    bench_run(&o, "webpush_vapid_header", run_vapid, &c, NULL, NULL, NULL);

    omni_push *apns = NULL;
    if (omni_push_new(&apns, apns_config, sizeof(apns_config) - 1)) {
        fprintf(stderr, "apns config: %s\n", omni_error_last_message());
        return 1;
    }
    bench_run(&o, "push_build_apns_alert", run_apns_build, apns, "request_object_floor",
              run_floor_request, (void *)&apns_floor);
    omni_push_free(apns);
    omni_push *fcm = fcm_push();
    if (!fcm) {
        fprintf(stderr, "fcm config: %s\n", omni_error_last_message());
        return 1;
    }
    bench_run(&o, "push_build_fcm_notification", run_fcm_build, fcm, "request_object_floor",
              run_floor_request, (void *)&fcm_floor);
    omni_push_free(fcm);
    EVP_PKEY_free(c.ua_pkey);
    omni_free(c.body);
    return 0;
}
