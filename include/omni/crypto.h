/*
 * libomni — hashes, HMAC, constant-time comparison and JSON Web Tokens
 * (RFC 7519 / RFC 7515) through OpenSSL's libcrypto.
 *
 * Keys and secrets are never copied into error messages or logs.
 * Thread-safety: all functions are thread-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_CRYPTO_H
#define OMNI_CRYPTO_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

typedef enum omni_hash {
    OMNI_HASH_SHA1 = 1,
    OMNI_HASH_SHA256 = 2,
    OMNI_HASH_SHA512 = 3
} omni_hash;

#define OMNI_HASH_MAX_SIZE 64

/* Size in bytes of a hash's output (20, 32, 64), or 0 for an unknown hash. */
OMNI_API size_t omni_hash_size(int hash);

/* Digest of data into out (capacity out_cap >= omni_hash_size(hash)).
 * Errors: OMNI_EINVAL (unknown hash, small buffer, NULL with len > 0). */
OMNI_API int omni_hash_digest(uint8_t *out, size_t out_cap, int hash, const void *data,
                              size_t len);

/* HMAC (RFC 2104) of data with key. Errors as omni_hash_digest. */
OMNI_API int omni_hmac(uint8_t *out, size_t out_cap, int hash, const void *key, size_t key_len,
                       const void *data, size_t len);

/* 1 when the two buffers are equal, 0 otherwise, in time that depends only
 * on len (never on the contents). */
OMNI_API int omni_ct_equal(const void *a, const void *b, size_t len);

/*
 * JWT (JWS compact serialization) with HS256, RS256 or ES256.
 *
 * Keys: HS256 takes the raw secret bytes (at least 1 byte). RS256 and ES256
 * take a PEM key: signing needs the private key (PKCS#8 "BEGIN PRIVATE KEY",
 * or the traditional RSA / EC forms; an APNs .p8 file works as is),
 * verifying accepts a public key, a private key or an X.509 certificate.
 * ES256 needs a P-256 key; RS256 at least 2048 bits. ES256 signatures are
 * the raw 64-byte R||S that JOSE requires, not DER.
 */
#define OMNI_JWT_MAX_BYTES (64u * 1024u)

/* Signs claims_json (a JSON object) into a token "header.payload.signature".
 * header_json: NULL, or a JSON object of extra header fields (e.g.
 * {"kid":"ABC123"}); "alg" and "typ":"JWT" are always set by the library.
 * Errors: OMNI_EINVAL (unknown alg), OMNI_EJSON (claims/header not an
 * object), OMNI_EKEY (key unusable for alg), OMNI_ECRYPTO, OMNI_ETOOLARGE. */
OMNI_API int omni_jwt_sign(char **out, size_t *out_len, const char *alg, const void *key,
                           size_t key_len, const char *header_json, size_t header_len,
                           const char *claims_json, size_t claims_len);

/*
 * Verifies a token with the algorithm the caller expects (the header's
 * "alg" must equal `alg`; "none" and other algorithms are refused, so no
 * algorithm confusion is possible) and returns its claims as JSON in *out.
 * When present, "exp" and "nbf" (NumericDate seconds) are checked against
 * the engine's clock (NULL: the system clock) with `leeway_s` seconds of
 * tolerance. Errors: OMNI_EINVAL, OMNI_EENCODING / OMNI_EJSON (malformed
 * token), OMNI_ESIGNATURE (wrong alg or signature), OMNI_EEXPIRED,
 * OMNI_ENOTYET, OMNI_EKEY, OMNI_ETOOLARGE.
 */
OMNI_API int omni_jwt_verify(char **out, size_t *out_len, const omni_engine *engine,
                             const char *token, size_t token_len, const char *alg, const void *key,
                             size_t key_len, int64_t leeway_s);

#ifdef __cplusplus
}
#endif

#endif
