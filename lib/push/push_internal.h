/* Internal: the aes128gcm content coding (RFC 8188) with a given input
 * keying material, and raw P-256 key helpers, shared by Web Push (RFC 8291,
 * RFC 8292) and its tests, tools and the later Web Push adapter. */
#ifndef OMNI_PUSH_INTERNAL_H
#define OMNI_PUSH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include <omni/http.h>
#include <omni/push.h>

#include "../core/buf.h"

/* Largest aes128gcm body omni__ece_decrypt / omni_webpush_decrypt accept,
 * and largest plaintext omni__ece_encrypt accepts. */
#define OMNI__ECE_MAX_BODY (1024u * 1024u)

/* The header of an aes128gcm body (RFC 8188 section 2.1): salt (16), rs
 * (uint32 big-endian, >= 18), idlen (1), keyid (idlen). Points into body.
 * OMNI_OK or OMNI_EENCODING (last error set). */
typedef struct omni__ece_header {
    const uint8_t *salt;
    uint32_t rs;
    const uint8_t *keyid;
    size_t keyid_len;
    size_t header_len;
} omni__ece_header;
int omni__ece_parse_header(omni__ece_header *h, const uint8_t *body, size_t body_len);

/* Encrypts plaintext (at most OMNI__ECE_MAX_BODY bytes) into an aes128gcm
 * body with the given IKM and salt: records of rs bytes (rs >= 18), each
 * holding up to rs - 17 plaintext bytes, delimiter 0x01, the last 0x02, no
 * padding. *out is released with omni_free(). Errors (last error set):
 * OMNI_EINVAL, OMNI_ETOOLARGE, OMNI_ECRYPTO, OMNI_ENOMEM. */
int omni__ece_encrypt(uint8_t **out, size_t *out_len, const uint8_t *plaintext, size_t len,
                      const uint8_t *ikm, size_t ikm_len, const uint8_t salt[16], uint32_t rs,
                      const uint8_t *keyid, uint8_t keyid_len);

/* Decrypts an aes128gcm body with the given IKM (keyid is not used); the
 * record checks of omni_webpush_decrypt. *out (omni_free()) is the
 * plaintext, NUL-terminated for convenience. Errors (last error set):
 * OMNI_EINVAL, OMNI_ETOOLARGE, OMNI_EENCODING, OMNI_ESIGNATURE,
 * OMNI_ECRYPTO, OMNI_ENOMEM. */
int omni__ece_decrypt(uint8_t **out, size_t *out_len, const uint8_t *body, size_t body_len,
                      const uint8_t *ikm, size_t ikm_len);

/* An EVP_PKEY (EC, P-256) from a raw 32-byte private key, e.g. for
 * omni__jwt_sign_pkey with ES256; public_key (may be NULL) receives the
 * uncompressed public point. Errors (last error set): OMNI_EINVAL, OMNI_EKEY,
 * OMNI_ECRYPTO, OMNI_ENOMEM. *out is released with EVP_PKEY_free(). */
int omni__p256_pkey_from_private(EVP_PKEY **out, uint8_t public_key[65],
                                 const uint8_t private_key[32]);

/* An EVP_PKEY (EC, P-256, public only) from an uncompressed point, e.g. to
 * verify a VAPID JWT with omni__jwt_verify_pkey. Errors: OMNI_EINVAL,
 * OMNI_EKEY (not a point on P-256), OMNI_ECRYPTO. */
int omni__p256_pkey_from_public(EVP_PKEY **out, const uint8_t public_key[65]);

/* ---- platform adapters (lib/push/push.c dispatches; one file each) ------------------ */

/* The parsed message handed to an adapter (the core checks these types). */
typedef struct omni__push_msg {
    const cJSON *root;
    const cJSON *payload; /* object (required) */
    const cJSON *options; /* object or NULL */
    const char *token;    /* "token" or NULL */
} omni__push_msg;

typedef struct omni__push_adapter {
    const char *platform;   /* "ios" | "android" | "web" */
    const char *config_key; /* "apns" | "fcm" | "webpush" */
    /* Compiles the platform's configuration object into *state. Config
     * errors go through omni__ob_config_error with the path "push:<key>"
     * (lib/outbound/outbound_internal.h: secrets, base URLs). */
    int (*config)(void **state, const cJSON *cfg, const char *path);
    void (*free)(void *state);
    /* The request of one message. The state is shared by all threads: an
     * adapter guards its credential cache itself. */
    int (*build)(omni_http_request **out, void *state, const omni__push_msg *msg,
                 int64_t now_ms);
    /* The result of a response (omni__push_result_* below). */
    int (*parse)(omni_buf *out, void *state, const omni_http_response *resp, int64_t now_ms);
} omni__push_adapter;

extern const omni__push_adapter omni__push_apns;
extern const omni__push_adapter omni__push_fcm;
extern const omni__push_adapter omni__push_web;

/* FCM's token exchange (lib/push/fcm.c), called by omni_push_token_*. */
int omni__push_fcm_token_request(omni_http_request **out, void *state, int64_t now_ms);
int omni__push_fcm_token_response(void *state, const omni_http_response *resp, int64_t now_ms);

/* {"success":true,"platform":..,"status":"sent"[,"messageId":..]} */
void omni__push_result_ok(omni_buf *out, const char *platform, const char *message_id);
/* {"success":false,"platform":..,"status":"failed","error":{"code","providerCode"?,
 * "message","retryable"}[,"invalidToken":true][,"retryAfterMs":..]};
 * provider_code may be NULL, retry_after_ms < 0: absent. */
void omni__push_result_error(omni_buf *out, const char *platform, const char *code,
                             const char *provider_code, const char *message, int retryable,
                             int invalid_token, int64_t retry_after_ms);

/* OMNI_EINVAL "push <platform>: <member> <why>". */
int omni__push_msg_error(const char *platform, const char *member, const char *why);

#endif
