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
#include "../core/json.h"
#include "../core/json_span.h"

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

/* A string of the message as a cJSON tree would hold it: decoded, cut at a
 * "\u0000" escape; not NUL-terminated. p is NULL when absent. */
typedef struct omni__pstr {
    const char *p;
    size_t n;
    int plain; /* p is the message's own text between the quotes (no escape) */
} omni__pstr;

/* Strings decoded for one build (omni__push_str), released after it. */
typedef struct omni__push_strs {
    char **items;
    size_t count, cap;
} omni__push_strs;

/* The message handed to an adapter (the core checks these types). Adapters
 * on the hot path (apns, fcm) read spans of the text through the helpers
 * of core/json_span.h that read as cJSON does, so they behave exactly as
 * code reading omni__json_parse's tree; the others (tree = 1) get the tree. */
typedef struct omni__push_msg {
    /* spans (all adapters): the message object and its members ({NULL, 0}
     * when absent; payload is an object, options an object or absent) */
    omni__jspan jroot, jpayload, joptions, jtopic, jcondition, japns, jandroid, jwebpush;
    omni__pstr jtoken; /* "token" (1..4096 bytes) */
    omni__push_strs *strs;
    omni__jdoc doc; /* the text and its tape */
    /* the tree (adapters with tree = 1 only; NULL otherwise) */
    const cJSON *root;
    const cJSON *payload; /* object (required) */
    const cJSON *options; /* object or NULL */
    const char *token;    /* "token" or NULL */
} omni__push_msg;

/* omni__j_cfields over the message's tape: the members names[i] of obj (a
 * value span of the message) into out[i] ({NULL, 0}: absent). */
static inline void omni__push_fields(const omni__push_msg *m, omni__jspan obj,
                                     const omni__jname *names, omni__jspan *out, size_t count)
{
    omni__jdoc_fields(&m->doc, obj, names, out, count);
}

/* The value of a string span as omni__pstr: the text itself when it holds
 * no escape, else a decoded copy (NUL-terminated) owned by the message.
 * OMNI_OK or OMNI_ENOMEM (last error set). */
int omni__push_str(omni__pstr *out, const omni__push_msg *m, omni__jspan s);

/* Writes a string value as omni__json_w_strn does; a plain one is copied
 * with its quotes as it is (it holds nothing to escape). */
static inline void omni__push_w_str(omni_buf *b, omni__pstr s)
{
    if (s.plain)
        omni__json_w_raw(b, s.p - 1, s.n + 2);
    else
        omni__json_w_strn(b, s.p, s.n);
}

/* 1 when the string is lit (a literal). */
#define omni__pstr_is(s, lit) ((s).n == sizeof(lit) - 1 && memcmp((s).p, lit, sizeof(lit) - 1) == 0)

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
    int tree; /* build reads msg->root / payload / options / token */
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

/* Writes v in decimal into out (at least 21 bytes), NUL-terminated;
 * returns the number of digits. */
size_t omni__push_utoa(char *out, uint64_t v);

/* OMNI_EINVAL "push <platform>: <member> <why>". */
int omni__push_msg_error(const char *platform, const char *member, const char *why);

#endif
