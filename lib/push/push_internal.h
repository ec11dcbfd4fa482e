/* Internal: the aes128gcm content coding (RFC 8188) with a given input
 * keying material, and raw P-256 key helpers, shared by Web Push (RFC 8291,
 * RFC 8292) and its tests, tools and the later Web Push adapter. */
#ifndef OMNI_PUSH_INTERNAL_H
#define OMNI_PUSH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <omni/push.h>

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

#endif
