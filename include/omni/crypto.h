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
 * take a PEM key (at most 64 KiB, else OMNI_ETOOLARGE): signing needs the
 * private key (PKCS#8 "BEGIN PRIVATE KEY", or the traditional RSA / EC
 * forms, also after an "EC PARAMETERS" block; an APNs .p8 file works as
 * is), verifying accepts a public key ("BEGIN PUBLIC KEY"), a private key
 * or an X.509 certificate. Encrypted PEM keys are refused (OMNI_EKEY; the
 * library never prompts for a passphrase). ES256 needs a P-256 key; RS256
 * an RSA key of 2048 to 16384 bits. ES256 signatures are the raw 64-byte
 * R||S that JOSE requires, not DER. After the argument and size checks the
 * key is loaded and checked before the token or claims are parsed, so an
 * unusable key gives OMNI_EKEY whatever the token.
 */
#define OMNI_JWT_MAX_BYTES (64u * 1024u)

/* Signs claims_json (a JSON object) into a token "header.payload.signature".
 * The header is {"alg":"<alg>","typ":"JWT"} followed by the members of
 * header_json in their order: NULL/0, or a JSON object of extra header
 * fields (e.g. {"kid":"ABC123"}) that must not contain "alg" or "typ"
 * (OMNI_EINVAL). The payload is claims_json re-serialized compactly (no
 * whitespace, member order kept, numbers in their shortest round-trip form,
 * non-ASCII text as raw UTF-8), so equal claims always give equal tokens.
 * Objects with a repeated top-level member name, and strings containing
 * \u0000, are refused (OMNI_EJSON). claims_len and header_len are limited
 * to OMNI_JWT_MAX_BYTES, and so is the resulting token. *out is released
 * with omni_free(); out_len may be NULL.
 * Errors: OMNI_EINVAL (unknown alg, NULL arguments, "alg"/"typ" in
 * header_json), OMNI_EJSON (claims/header not an object), OMNI_EKEY (key
 * unusable for alg), OMNI_ECRYPTO, OMNI_ETOOLARGE, OMNI_ENOMEM. */
OMNI_API int omni_jwt_sign(char **out, size_t *out_len, const char *alg, const void *key,
                           size_t key_len, const char *header_json, size_t header_len,
                           const char *claims_json, size_t claims_len);

/*
 * Verifies a token with the algorithm the caller expects (the header's
 * "alg" must equal `alg`; "none" and other algorithms are refused, so no
 * algorithm confusion is possible) and returns its claims in *out: the
 * payload exactly as signed (decoded bytes, NUL-terminated, released with
 * omni_free(); out_len may be NULL).
 *
 * The token must be exactly three parts of strict base64url (alphabet
 * A-Z a-z 0-9 - _, no padding, no whitespace, zero trailing bits). The
 * header must be a JSON object without repeated member names or \u0000 in
 * strings (OMNI_EJSON); a header with "crit" is refused
 * (OMNI_EUNSUPPORTED: no extension is understood).
 * The signature is checked (HS256 in constant time) before the payload is
 * parsed; the payload must be a JSON object without repeated top-level
 * member names. When present, "exp" and "nbf" (NumericDate seconds, must
 * be numbers, else OMNI_EJSON) are checked against the engine's clock
 * (NULL: the system clock) with `leeway_s` (>= 0) seconds of tolerance:
 * expired when now >= exp + leeway, not yet valid when now + leeway < nbf.
 * Errors: OMNI_EINVAL (NULL arguments, unknown alg, negative leeway),
 * OMNI_EENCODING / OMNI_EJSON (malformed token), OMNI_ESIGNATURE (wrong
 * alg, missing alg, wrong signature or signature length), OMNI_EEXPIRED,
 * OMNI_ENOTYET, OMNI_EUNSUPPORTED ("crit"), OMNI_EKEY, OMNI_ETOOLARGE
 * (token over OMNI_JWT_MAX_BYTES), OMNI_ENOMEM.
 */
OMNI_API int omni_jwt_verify(char **out, size_t *out_len, const omni_engine *engine,
                             const char *token, size_t token_len, const char *alg, const void *key,
                             size_t key_len, int64_t leeway_s);

#ifdef __cplusplus
}
#endif

#endif
