/* Hashes (SHA-1, SHA-256, SHA-512), HMAC and constant-time comparison
 * through OpenSSL's libcrypto. */
#include <omni/crypto.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto_internal.h"
#include "error.h"

static const EVP_MD *hash_md(int hash)
{
    switch (hash) {
    case OMNI_HASH_SHA1: return EVP_sha1();
    case OMNI_HASH_SHA256: return EVP_sha256();
    case OMNI_HASH_SHA512: return EVP_sha512();
    default: return NULL;
    }
}

size_t omni_hash_size(int hash)
{
    switch (hash) {
    case OMNI_HASH_SHA1: return 20;
    case OMNI_HASH_SHA256: return 32;
    case OMNI_HASH_SHA512: return 64;
    default: return 0;
    }
}

/* OpenSSL may refuse NULL pointers even with a zero length. */
static const uint8_t empty_input[1] = {0};

static int digest_raw(uint8_t *out, const EVP_MD *md, const void *data, size_t len)
{
    unsigned int n = 0;
    ERR_set_mark();
    int ok = EVP_Digest(len ? data : empty_input, len, out, &n, md, NULL);
    ERR_pop_to_mark();
    return ok == 1 ? OMNI_OK : OMNI_ECRYPTO;
}

static int hmac_raw(uint8_t *out, const EVP_MD *md, const void *key, size_t key_len,
                    const void *data, size_t len)
{
    unsigned int n = 0;
    if (key_len > INT32_MAX)
        return OMNI_ECRYPTO;
    ERR_set_mark();
    const unsigned char *r = HMAC(md, key_len ? key : empty_input, (int)key_len,
                                  len ? data : empty_input, len, out, &n);
    ERR_pop_to_mark();
    return r ? OMNI_OK : OMNI_ECRYPTO;
}

int omni__sha256(uint8_t out[32], const void *data, size_t len)
{
    return digest_raw(out, EVP_sha256(), data, len);
}

int omni__hmac_sha256(uint8_t out[32], const void *key, size_t key_len, const void *data,
                      size_t len)
{
    return hmac_raw(out, EVP_sha256(), key, key_len, data, len);
}

static int check_args(const char *fn, uint8_t *out, size_t out_cap, int hash, const void *data,
                      size_t len)
{
    size_t size = omni_hash_size(hash);
    if (!size)
        return omni__err(OMNI_EINVAL, "%s: unknown hash %d", fn, hash);
    if (!out)
        return omni__err(OMNI_EINVAL, "%s: out is NULL", fn);
    if (out_cap < size)
        return omni__err(OMNI_EINVAL, "%s: output buffer of %zu bytes is smaller than %zu", fn,
                         out_cap, size);
    if (!data && len)
        return omni__err(OMNI_EINVAL, "%s: data is NULL", fn);
    return OMNI_OK;
}

int omni_hash_digest(uint8_t *out, size_t out_cap, int hash, const void *data, size_t len)
{
    int rc = check_args("hash", out, out_cap, hash, data, len);
    if (rc)
        return rc;
    if (digest_raw(out, hash_md(hash), data, len))
        return omni__err(OMNI_ECRYPTO, "hash: the digest failed");
    return OMNI_OK;
}

int omni_hmac(uint8_t *out, size_t out_cap, int hash, const void *key, size_t key_len,
              const void *data, size_t len)
{
    int rc = check_args("hmac", out, out_cap, hash, data, len);
    if (rc)
        return rc;
    if (!key && key_len)
        return omni__err(OMNI_EINVAL, "hmac: key is NULL");
    if (hmac_raw(out, hash_md(hash), key, key_len, data, len))
        return omni__err(OMNI_ECRYPTO, "hmac: the MAC computation failed");
    return OMNI_OK;
}

int omni_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return 1;
    if (!a || !b)
        return 0;
    return CRYPTO_memcmp(a, b, len) == 0;
}
