/* Hashes (SHA-1, SHA-256, SHA-512), HMAC and constant-time comparison
 * through OpenSSL's libcrypto. */
#include <omni/crypto.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>

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

/* SHA-256 fetched from the default provider once: OpenSSL 3 looks an
 * algorithm up (under a global lock) on every use of EVP_sha256() or HMAC(),
 * which dominated SigV4 signing (six HMACs and two digests per request).
 * The fetched object lives as long as the process. */
static EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256_md(void)
{
    pthread_once(&g_sha256_once, sha256_fetch);
    return g_sha256 ? g_sha256 : EVP_sha256();
}

/* SHA-256 over up to three parts with one context. */
static int sha256_parts(uint8_t out[32], EVP_MD_CTX *c, const void *a, size_t an, const void *b,
                        size_t bn)
{
    unsigned int n = 0;
    return EVP_DigestInit_ex(c, sha256_md(), NULL) == 1 &&
                   EVP_DigestUpdate(c, an ? a : empty_input, an) == 1 &&
                   (!bn || EVP_DigestUpdate(c, b, bn) == 1) &&
                   EVP_DigestFinal_ex(c, out, &n) == 1
               ? OMNI_OK
               : OMNI_ECRYPTO;
}

int omni__sha256(uint8_t out[32], const void *data, size_t len)
{
    return digest_raw(out, sha256_md(), data, len);
}

/* HMAC-SHA-256 (RFC 2104) built on the fetched digest: the same bytes as
 * OpenSSL's HMAC() without its per-call algorithm lookups. */
int omni__hmac_sha256(uint8_t out[32], const void *key, size_t key_len, const void *data,
                      size_t len)
{
    uint8_t k[64] = {0}, pad[64], inner[32];
    int rc = OMNI_ECRYPTO;
    ERR_set_mark();
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c)
        goto done;
    if (key_len > sizeof(k)) {
        if (sha256_parts(k, c, key, key_len, NULL, 0))
            goto done;
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < sizeof(k); i++)
        pad[i] = k[i] ^ 0x36;
    if (sha256_parts(inner, c, pad, sizeof(pad), data, len))
        goto done;
    for (size_t i = 0; i < sizeof(k); i++)
        pad[i] = k[i] ^ 0x5c;
    rc = sha256_parts(out, c, pad, sizeof(pad), inner, sizeof(inner));
done:
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    ERR_pop_to_mark();
    return rc;
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
    if (digest_raw(out, hash == OMNI_HASH_SHA256 ? sha256_md() : hash_md(hash), data, len))
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
    int failed = hash == OMNI_HASH_SHA256 ? omni__hmac_sha256(out, key, key_len, data, len)
                                          : hmac_raw(out, hash_md(hash), key, key_len, data, len);
    if (failed)
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
