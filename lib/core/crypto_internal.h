/* Internal: hashing, PEM keys, JOSE signatures and JWTs for the other
 * components (APNs and VAPID sign ES256 JWTs, FCM signs RS256 ones).
 *
 * A component that signs often loads its PEM key once with
 * omni__pkey_from_pem() + omni__pkey_check() and keeps the EVP_PKEY; the
 * *_pkey functions then skip the PEM parsing. An EVP_PKEY may be used by
 * several threads at once for signing and verifying (each call makes its
 * own EVP contexts); it must not be freed while a call runs.
 *
 * Thread-safety: all functions are thread-safe. */
#ifndef OMNI_CORE_CRYPTO_INTERNAL_H
#define OMNI_CORE_CRYPTO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <omni/crypto.h>

/* JOSE algorithms. */
enum {
    OMNI__JWT_HS256 = 1,
    OMNI__JWT_RS256 = 2,
    OMNI__JWT_ES256 = 3
};

/* "HS256", "RS256", "ES256" (exact case) -> OMNI__JWT_*; anything else
 * (including "none") -> 0. NULL-safe; does not set the last error. */
int omni__jwt_alg_from_name(const char *name);
/* The JOSE name of an OMNI__JWT_* value, or NULL. */
const char *omni__jwt_alg_name(int alg);

/* Largest PEM input accepted (a key or a certificate chain). */
#define OMNI__PEM_MAX_BYTES (64u * 1024u)
/* RSA modulus sizes accepted for RS256 (bits). */
#define OMNI__RSA_MIN_BITS 2048
#define OMNI__RSA_MAX_BITS 16384
/* Largest JOSE signature (RS256 with a 16384-bit key). */
#define OMNI__JWS_MAX_SIG (OMNI__RSA_MAX_BITS / 8)

/* One-shot digests without setting the last error: OMNI_OK or OMNI_ECRYPTO
 * (then the caller reports). data may be NULL when len is 0. */
int omni__sha256(uint8_t out[32], const void *data, size_t len);
int omni__hmac_sha256(uint8_t out[32], const void *key, size_t key_len, const void *data,
                      size_t len);

/* Loads a PEM key (what: names it in messages, e.g. "APNs key").
 * private_only 1: a private key only (PKCS#8 "PRIVATE KEY", traditional
 * "RSA PRIVATE KEY" / "EC PRIVATE KEY"; other PEM blocks before it, such
 * as "EC PARAMETERS", are skipped). private_only 0: also a public key
 * ("PUBLIC KEY", SubjectPublicKeyInfo) or an X.509 "CERTIFICATE" (its
 * public key). Encrypted keys are refused (no passphrase prompt ever).
 * Errors (last error set, never with key material): OMNI_EINVAL (NULL),
 * OMNI_ETOOLARGE (over OMNI__PEM_MAX_BYTES), OMNI_EKEY (empty, not PEM,
 * unreadable or encrypted). *out is released with EVP_PKEY_free(). */
int omni__pkey_from_pem(EVP_PKEY **out, const void *pem, size_t len, int private_only,
                        const char *what);

/* Checks that pkey suits alg: RS256 an RSA key (not RSA-PSS) of
 * OMNI__RSA_MIN_BITS..OMNI__RSA_MAX_BITS bits; ES256 an EC key on P-256.
 * Errors (last error set): OMNI_EKEY, OMNI_EINVAL (HS256 or unknown alg). */
int omni__pkey_check(const EVP_PKEY *pkey, int alg);

/* ECDSA signature forms. raw is R||S, each component n bytes big-endian
 * (n = 32 for P-256); DER is the ASN.1 SEQUENCE of two INTEGERs.
 * der_to_raw: OMNI_OK, or OMNI_ECRYPTO when der is malformed or a
 * component does not fit n bytes. raw_to_der: OMNI_OK, OMNI_EINVAL (der_cap
 * too small; 2 * n + 9 always suffices) or OMNI_ENOMEM. Neither sets the
 * last error. */
int omni__ecdsa_der_to_raw(uint8_t *raw, size_t n, const uint8_t *der, size_t der_len);
int omni__ecdsa_raw_to_der(uint8_t *der, size_t der_cap, size_t *der_len, const uint8_t *raw,
                           size_t n);

/* JWS signature over data with a loaded key: RS256 RSASSA-PKCS1-v1_5 with
 * SHA-256; ES256 ECDSA P-256 SHA-256 as raw 64-byte R||S. The key must
 * have passed omni__pkey_check for alg. sig_cap >= OMNI__JWS_MAX_SIG always
 * suffices. Errors (last error set): OMNI_EINVAL, OMNI_ECRYPTO. */
int omni__jws_sign_pkey(uint8_t *sig, size_t sig_cap, size_t *sig_len, int alg, EVP_PKEY *pkey,
                        const void *data, size_t len);

/* Verifies a JWS signature with a loaded key: OMNI_OK, or OMNI_ESIGNATURE
 * (wrong length or mismatch), OMNI_EINVAL; last error set on failure. */
int omni__jws_verify_pkey(int alg, EVP_PKEY *pkey, const void *data, size_t len,
                          const uint8_t *sig, size_t sig_len);

/* omni_jwt_sign / omni_jwt_verify with an already-loaded key for RS256 or
 * ES256 (alg is OMNI__JWT_RS256 or OMNI__JWT_ES256; the key is checked with
 * omni__pkey_check). Same rules, output and errors as the public calls. */
int omni__jwt_sign_pkey(char **out, size_t *out_len, int alg, EVP_PKEY *pkey,
                        const char *header_json, size_t header_len, const char *claims_json,
                        size_t claims_len);
int omni__jwt_verify_pkey(char **out, size_t *out_len, const omni_engine *engine,
                          const char *token, size_t token_len, int alg, EVP_PKEY *pkey,
                          int64_t leeway_s);

#endif
