/* Web Push benchmarks (issue 8): RFC 8291 encryption of a 200-byte payload
 * (fresh salt and sender key pair each time, as real sends need) against the
 * floor of the raw OpenSSL operations one encryption needs, measured in the
 * same run: P-256 key generation, ECDH, two HKDF-SHA-256 (RFC 8291's and
 * RFC 8188's) and one AES-128-GCM seal through EVP. Also decryption and the
 * VAPID header. Goal: >= 20,000 encryptions per second on one core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <omni/omni.h>

#include "bench.h"

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

int main(int argc, char **argv)
{
    bench_opts o;
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
    EVP_PKEY_free(c.ua_pkey);
    omni_free(c.body);
    return 0;
}
