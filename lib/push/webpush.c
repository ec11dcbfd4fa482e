/* Web Push message encryption (RFC 8291) over the aes128gcm content coding
 * (RFC 8188), P-256 key pairs and VAPID (RFC 8292) headers
 * (include/omni/push.h). */
#include <omni/crypto.h>
#include <omni/encoding.h>
#include <omni/omni.h>
#include <omni/push.h>

#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/crypto_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "push/push_internal.h"

#define ECE_TAG_LEN 16
#define ECE_KEY_LEN 16
#define ECE_NONCE_LEN 12
#define ECE_HEADER_MIN 21 /* salt 16 + rs 4 + idlen 1 */
#define ECE_RS_MIN 18
#define WEBPUSH_RS_DEFAULT 4096u
#define WEBPUSH_RS_MAX 0x7fffffffu
#define VAPID_ENDPOINT_MAX 8192
#define VAPID_SUBJECT_MAX 1024

/* ---- HKDF-SHA-256 (RFC 5869) pieces ----------------------------------------------- */

/* T(1) of HKDF-Expand: HMAC(prk, info || 0x01), first n (<= 32) bytes. */
static int hkdf_expand1(uint8_t *out, size_t n, const uint8_t prk[32], const void *info,
                        size_t info_len)
{
    uint8_t in[160], t[32];
    if (info_len + 1 > sizeof(in))
        return OMNI_ECRYPTO;
    memcpy(in, info, info_len);
    in[info_len] = 0x01;
    int rc = omni__hmac_sha256(t, prk, 32, in, info_len + 1);
    if (!rc)
        memcpy(out, t, n);
    OPENSSL_cleanse(t, sizeof(t));
    OPENSSL_cleanse(in, sizeof(in));
    return rc;
}

/* RFC 8188 section 2.2 and 2.3: PRK = HMAC(salt, IKM); CEK and NONCE. */
static int ece_keys(uint8_t cek[ECE_KEY_LEN], uint8_t nonce[ECE_NONCE_LEN], const uint8_t *ikm,
                    size_t ikm_len, const uint8_t salt[16])
{
    static const char cek_info[] = "Content-Encoding: aes128gcm"; /* + its NUL */
    static const char nonce_info[] = "Content-Encoding: nonce";
    uint8_t prk[32];
    int rc = omni__hmac_sha256(prk, salt, 16, ikm, ikm_len);
    if (!rc)
        rc = hkdf_expand1(cek, ECE_KEY_LEN, prk, cek_info, sizeof(cek_info));
    if (!rc)
        rc = hkdf_expand1(nonce, ECE_NONCE_LEN, prk, nonce_info, sizeof(nonce_info));
    OPENSSL_cleanse(prk, sizeof(prk));
    return rc;
}

/* The record nonce: NONCE XOR the big-endian sequence number (section 2.3). */
static void ece_record_nonce(uint8_t out[ECE_NONCE_LEN], const uint8_t base[ECE_NONCE_LEN],
                             uint64_t seq)
{
    memcpy(out, base, ECE_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        out[ECE_NONCE_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* ---- aes128gcm content coding (RFC 8188) ------------------------------------------ */

int omni__ece_parse_header(omni__ece_header *h, const uint8_t *body, size_t body_len)
{
    if (body_len < ECE_HEADER_MIN)
        return omni__err(OMNI_EENCODING, "aes128gcm: the body is shorter than its header");
    h->salt = body;
    h->rs = (uint32_t)body[16] << 24 | (uint32_t)body[17] << 16 | (uint32_t)body[18] << 8 |
            (uint32_t)body[19];
    h->keyid_len = body[20];
    h->keyid = body + ECE_HEADER_MIN;
    h->header_len = ECE_HEADER_MIN + h->keyid_len;
    if (h->rs < ECE_RS_MIN)
        return omni__err(OMNI_EENCODING, "aes128gcm: record size %u is below 18",
                         (unsigned)h->rs);
    if (body_len < h->header_len)
        return omni__err(OMNI_EENCODING, "aes128gcm: the body is shorter than its key id");
    return OMNI_OK;
}

int omni__ece_encrypt(uint8_t **out, size_t *out_len, const uint8_t *plaintext, size_t len,
                      const uint8_t *ikm, size_t ikm_len, const uint8_t salt[16], uint32_t rs,
                      const uint8_t *keyid, uint8_t keyid_len)
{
    if (!out || !out_len || (!plaintext && len) || !ikm || !salt || (!keyid && keyid_len))
        return omni__err(OMNI_EINVAL, "aes128gcm: NULL argument");
    if (rs < ECE_RS_MIN)
        return omni__err(OMNI_EINVAL, "aes128gcm: record size %u is below 18", (unsigned)rs);
    if (len > OMNI__ECE_MAX_BODY)
        return omni__err(OMNI_ETOOLARGE, "aes128gcm: plaintext over %u bytes",
                         OMNI__ECE_MAX_BODY);
    size_t chunk = (size_t)rs - 17;
    size_t nrec = len == 0 ? 1 : (len + chunk - 1) / chunk;
    size_t hlen = ECE_HEADER_MIN + keyid_len;
    size_t total = hlen + len + nrec * 17;
    uint8_t *body = omni_malloc(total);
    if (!body)
        return omni__err(OMNI_ENOMEM, "aes128gcm: out of memory");
    memcpy(body, salt, 16);
    body[16] = (uint8_t)(rs >> 24);
    body[17] = (uint8_t)(rs >> 16);
    body[18] = (uint8_t)(rs >> 8);
    body[19] = (uint8_t)rs;
    body[20] = keyid_len;
    if (keyid_len)
        memcpy(body + ECE_HEADER_MIN, keyid, keyid_len);

    uint8_t cek[ECE_KEY_LEN], nonce[ECE_NONCE_LEN], iv[ECE_NONCE_LEN];
    int rc = OMNI_ECRYPTO;
    ERR_set_mark();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || ece_keys(cek, nonce, ikm, ikm_len, salt))
        goto done;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1)
        goto done;
    uint8_t *o = body + hlen;
    size_t off = 0;
    for (size_t seq = 0; seq < nrec; seq++) {
        size_t n = len - off < chunk ? len - off : chunk;
        uint8_t delim = seq + 1 == nrec ? 0x02 : 0x01;
        int w = 0;
        ece_record_nonce(iv, nonce, seq);
        if (EVP_EncryptInit_ex(ctx, NULL, NULL, cek, iv) != 1)
            goto done;
        if (n && EVP_EncryptUpdate(ctx, o, &w, plaintext + off, (int)n) != 1)
            goto done;
        if (EVP_EncryptUpdate(ctx, o + n, &w, &delim, 1) != 1)
            goto done;
        if (EVP_EncryptFinal_ex(ctx, o + n + 1, &w) != 1)
            goto done;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, ECE_TAG_LEN, o + n + 1) != 1)
            goto done;
        o += n + 17;
        off += n;
    }
    rc = OMNI_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    ERR_pop_to_mark();
    OPENSSL_cleanse(cek, sizeof(cek));
    OPENSSL_cleanse(nonce, sizeof(nonce));
    if (rc) {
        omni_free(body);
        return omni__err(rc, "aes128gcm: encryption failed");
    }
    *out = body;
    *out_len = total;
    return OMNI_OK;
}

int omni__ece_decrypt(uint8_t **out, size_t *out_len, const uint8_t *body, size_t body_len,
                      const uint8_t *ikm, size_t ikm_len)
{
    if (!out || !out_len || (!body && body_len) || !ikm)
        return omni__err(OMNI_EINVAL, "aes128gcm: NULL argument");
    if (body_len > OMNI__ECE_MAX_BODY)
        return omni__err(OMNI_ETOOLARGE, "aes128gcm: body over %u bytes", OMNI__ECE_MAX_BODY);
    omni__ece_header h;
    int rc = omni__ece_parse_header(&h, body, body_len);
    if (rc)
        return rc;
    const uint8_t *p = body + h.header_len;
    size_t left = body_len - h.header_len;
    if (left == 0)
        return omni__err(OMNI_EENCODING, "aes128gcm: the body has no record");
    size_t cap = left + 1;
    uint8_t *plain = omni_malloc(cap);
    if (!plain)
        return omni__err(OMNI_ENOMEM, "aes128gcm: out of memory");

    uint8_t cek[ECE_KEY_LEN], nonce[ECE_NONCE_LEN], iv[ECE_NONCE_LEN];
    size_t plen = 0;
    int last = 0;
    ERR_set_mark();
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    rc = OMNI_ECRYPTO;
    if (!ctx || ece_keys(cek, nonce, ikm, ikm_len, h.salt))
        goto fail;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1)
        goto fail;
    for (uint64_t seq = 0; left > 0; seq++) {
        size_t rlen = left < h.rs ? left : h.rs;
        if (last) {
            rc = omni__err(OMNI_EENCODING, "aes128gcm: a record follows the last record");
            goto out;
        }
        if (rlen < 17) {
            rc = omni__err(OMNI_EENCODING, "aes128gcm: record %llu is shorter than 17 bytes",
                           (unsigned long long)seq);
            goto out;
        }
        size_t clen = rlen - ECE_TAG_LEN;
        int w = 0;
        ece_record_nonce(iv, nonce, seq);
        rc = OMNI_ECRYPTO;
        if (EVP_DecryptInit_ex(ctx, NULL, NULL, cek, iv) != 1)
            goto fail;
        if (EVP_DecryptUpdate(ctx, plain + plen, &w, p, (int)clen) != 1)
            goto fail;
        if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, ECE_TAG_LEN, (void *)(p + clen)) != 1)
            goto fail;
        if (EVP_DecryptFinal_ex(ctx, plain + plen + clen, &w) != 1) {
            rc = omni__err(OMNI_ESIGNATURE, "aes128gcm: record %llu does not authenticate",
                           (unsigned long long)seq);
            goto out;
        }
        /* RFC 8188 section 2: data, one delimiter, then only zeros. */
        size_t i = clen;
        while (i > 0 && plain[plen + i - 1] == 0)
            i--;
        if (i == 0) {
            rc = omni__err(OMNI_EENCODING, "aes128gcm: record %llu has no padding delimiter",
                           (unsigned long long)seq);
            goto out;
        }
        uint8_t delim = plain[plen + i - 1];
        if (delim != 0x01 && delim != 0x02) {
            rc = omni__err(OMNI_EENCODING, "aes128gcm: record %llu has a bad padding delimiter",
                           (unsigned long long)seq);
            goto out;
        }
        last = delim == 0x02;
        plen += i - 1;
        p += rlen;
        left -= rlen;
        if (!last && left == 0) {
            rc = omni__err(OMNI_EENCODING, "aes128gcm: the body is truncated (no last record)");
            goto out;
        }
    }
    rc = OMNI_OK;
    goto out;
fail:
    rc = omni__err(OMNI_ECRYPTO, "aes128gcm: decryption failed");
out:
    EVP_CIPHER_CTX_free(ctx);
    ERR_pop_to_mark();
    OPENSSL_cleanse(cek, sizeof(cek));
    OPENSSL_cleanse(nonce, sizeof(nonce));
    if (rc) {
        OPENSSL_cleanse(plain, cap);
        omni_free(plain);
        return rc;
    }
    plain[plen] = 0;
    *out = plain;
    *out_len = plen;
    return OMNI_OK;
}

/* ---- P-256 ------------------------------------------------------------------------- */

typedef struct p256 {
    BN_CTX *bn;
    const EC_GROUP *g; /* the shared group */
    EC_POINT *pt; /* scratch */
    BIGNUM *k;    /* a private scalar, constant-time */
    BIGNUM *x;
} p256;

static void p256_close(p256 *c)
{
    EC_POINT_free(c->pt);
    BN_clear_free(c->k);
    BN_free(c->x);
    BN_CTX_free(c->bn);
}

/* The P-256 group, built once per process (8 us of every operation
 * otherwise) and never changed after: OpenSSL only reads a group that is
 * passed as const, so every thread may use it at once. */
static EC_GROUP *shared_group;
static pthread_once_t shared_group_once = PTHREAD_ONCE_INIT;

static void shared_group_init(void)
{
    shared_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}

static int p256_open(p256 *c)
{
    memset(c, 0, sizeof(*c));
    c->bn = BN_CTX_new();
    (void)pthread_once(&shared_group_once, shared_group_init);
    c->g = shared_group;
    c->pt = c->g ? EC_POINT_new(c->g) : NULL;
    c->k = BN_secure_new();
    c->x = BN_new();
    if (!c->bn || !c->g || !c->pt || !c->k || !c->x) {
        p256_close(c);
        return OMNI_ENOMEM;
    }
    BN_set_flags(c->k, BN_FLG_CONSTTIME);
    return OMNI_OK;
}

/* Loads a 32-byte private scalar into c->k: 0 when it is in 1..n-1. */
static int p256_load_private(p256 *c, const uint8_t priv[32])
{
    if (!BN_bin2bn(priv, 32, c->k))
        return -1;
    return BN_is_zero(c->k) || BN_cmp(c->k, EC_GROUP_get0_order(c->g)) >= 0 ? -1 : 0;
}

/* pub = k * G, uncompressed. */
static int p256_public(p256 *c, uint8_t pub[65])
{
    if (EC_POINT_mul(c->g, c->pt, c->k, NULL, NULL, c->bn) != 1)
        return -1;
    return EC_POINT_point2oct(c->g, c->pt, POINT_CONVERSION_UNCOMPRESSED, pub, 65, c->bn) == 65
               ? 0
               : -1;
}

/* A point from its uncompressed form, checked on the curve; NULL if not. */
static EC_POINT *p256_point(p256 *c, const uint8_t pub[65])
{
    if (pub[0] != 0x04)
        return NULL;
    EC_POINT *q = EC_POINT_new(c->g);
    if (!q)
        return NULL;
    if (EC_POINT_oct2point(c->g, q, pub, 65, c->bn) != 1 ||
        EC_POINT_is_on_curve(c->g, q, c->bn) != 1 || EC_POINT_is_at_infinity(c->g, q)) {
        EC_POINT_free(q);
        return NULL;
    }
    return q;
}

/* ECDH: the x coordinate of k * q. */
static int p256_ecdh(p256 *c, uint8_t secret[32], const EC_POINT *q)
{
    if (EC_POINT_mul(c->g, c->pt, NULL, q, c->k, c->bn) != 1 ||
        EC_POINT_is_at_infinity(c->g, c->pt))
        return -1;
    if (EC_POINT_get_affine_coordinates(c->g, c->pt, c->x, NULL, c->bn) != 1)
        return -1;
    return BN_bn2binpad(c->x, secret, 32) == 32 ? 0 : -1;
}

/* A fresh private scalar from the OS generator into c->k. */
static int p256_generate(p256 *c)
{
    for (int i = 0; i < 8; i++) {
        if (BN_priv_rand_range_ex(c->k, EC_GROUP_get0_order(c->g), 0, c->bn) != 1)
            return -1;
        if (!BN_is_zero(c->k))
            return 0;
    }
    return -1;
}

/* ---- Web Push (RFC 8291) ----------------------------------------------------------- */

/* RFC 8291 section 3.3: IKM = HKDF(auth_secret, ecdh_secret,
 * "WebPush: info" || 0x00 || ua_public || as_public, 32). */
static int webpush_ikm(uint8_t ikm[32], const uint8_t secret[32], const uint8_t auth[16],
                       const uint8_t ua_public[65], const uint8_t as_public[65])
{
    static const char label[] = "WebPush: info"; /* + its NUL */
    uint8_t info[sizeof(label) + 130], prk[32];
    memcpy(info, label, sizeof(label));
    memcpy(info + sizeof(label), ua_public, 65);
    memcpy(info + sizeof(label) + 65, as_public, 65);
    int rc = omni__hmac_sha256(prk, auth, 16, secret, 32);
    if (!rc)
        rc = hkdf_expand1(ikm, 32, prk, info, sizeof(info));
    OPENSSL_cleanse(prk, sizeof(prk));
    return rc;
}

int omni_webpush_encrypt(uint8_t **out, size_t *out_len, const uint8_t *plaintext,
                         size_t plaintext_len, const uint8_t ua_public[OMNI_WEBPUSH_PUBLIC_KEY_LEN],
                         const uint8_t auth_secret[OMNI_WEBPUSH_AUTH_SECRET_LEN],
                         const uint8_t *salt, const uint8_t *as_private, uint32_t record_size)
{
    if (!out || !out_len || (!plaintext && plaintext_len) || !ua_public || !auth_secret)
        return omni__err(OMNI_EINVAL, "webpush encrypt: NULL argument");
    uint32_t rs = record_size ? record_size : WEBPUSH_RS_DEFAULT;
    if (rs < ECE_RS_MIN || rs > WEBPUSH_RS_MAX)
        return omni__err(OMNI_EINVAL,
                         "webpush encrypt: record size %u is outside 18..2147483647",
                         (unsigned)rs);
    size_t limit = rs == WEBPUSH_RS_DEFAULT ? OMNI_WEBPUSH_MAX_PLAINTEXT : (size_t)rs - 17;
    if (plaintext_len > limit)
        return omni__err(OMNI_ETOOLARGE,
                         "webpush encrypt: plaintext of %zu bytes over the limit of %zu for "
                         "record size %u",
                         plaintext_len, limit, (unsigned)rs);

    uint8_t salt_buf[16], as_public[65], secret[32], ikm[32];
    p256 c;
    if (p256_open(&c))
        return omni__err(OMNI_ENOMEM, "webpush encrypt: out of memory");
    ERR_set_mark();
    int rc = OMNI_OK;
    EC_POINT *q = p256_point(&c, ua_public);
    if (!q) {
        rc = omni__err(OMNI_EKEY, "webpush encrypt: the user agent public key (p256dh) is not "
                                  "an uncompressed P-256 point");
        goto done;
    }
    if (as_private) {
        if (p256_load_private(&c, as_private)) {
            rc = omni__err(OMNI_EKEY, "webpush encrypt: the application server private key is "
                                      "not a valid P-256 scalar");
            goto done;
        }
    } else if (p256_generate(&c)) {
        rc = omni__err(OMNI_ECRYPTO, "webpush encrypt: key generation failed");
        goto done;
    }
    if (!salt) {
        if (RAND_bytes_ex(NULL, salt_buf, sizeof(salt_buf), 0) != 1) {
            rc = omni__err(OMNI_ECRYPTO, "webpush encrypt: the random generator failed");
            goto done;
        }
        salt = salt_buf;
    }
    if (p256_public(&c, as_public) || p256_ecdh(&c, secret, q) ||
        webpush_ikm(ikm, secret, auth_secret, ua_public, as_public)) {
        rc = omni__err(OMNI_ECRYPTO, "webpush encrypt: key agreement failed");
        goto done;
    }
    rc = omni__ece_encrypt(out, out_len, plaintext, plaintext_len, ikm, sizeof(ikm), salt, rs,
                           as_public, 65);
done:
    EC_POINT_free(q);
    p256_close(&c);
    ERR_pop_to_mark();
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(ikm, sizeof(ikm));
    return rc;
}

int omni_webpush_decrypt(uint8_t **out, size_t *out_len, const uint8_t *body, size_t body_len,
                         const uint8_t ua_private[OMNI_WEBPUSH_PRIVATE_KEY_LEN],
                         const uint8_t auth_secret[OMNI_WEBPUSH_AUTH_SECRET_LEN])
{
    if (!out || !out_len || (!body && body_len) || !ua_private || !auth_secret)
        return omni__err(OMNI_EINVAL, "webpush decrypt: NULL argument");
    if (body_len > OMNI__ECE_MAX_BODY)
        return omni__err(OMNI_ETOOLARGE, "webpush decrypt: body over %u bytes",
                         OMNI__ECE_MAX_BODY);
    uint8_t ua_public[65], secret[32], ikm[32];
    p256 c;
    if (p256_open(&c))
        return omni__err(OMNI_ENOMEM, "webpush decrypt: out of memory");
    ERR_set_mark();
    EC_POINT *q = NULL;
    omni__ece_header h;
    int rc;
    if (p256_load_private(&c, ua_private)) {
        rc = omni__err(OMNI_EKEY, "webpush decrypt: the user agent private key is not a valid "
                                  "P-256 scalar");
        goto done;
    }
    rc = omni__ece_parse_header(&h, body, body_len);
    if (rc)
        goto done;
    if (h.keyid_len != 65 || !(q = p256_point(&c, h.keyid))) {
        rc = omni__err(OMNI_EENCODING, "webpush decrypt: the key id is not an uncompressed "
                                       "P-256 point");
        goto done;
    }
    if (p256_public(&c, ua_public) || p256_ecdh(&c, secret, q) ||
        webpush_ikm(ikm, secret, auth_secret, ua_public, h.keyid)) {
        rc = omni__err(OMNI_ECRYPTO, "webpush decrypt: key agreement failed");
        goto done;
    }
    rc = omni__ece_decrypt(out, out_len, body, body_len, ikm, sizeof(ikm));
done:
    EC_POINT_free(q);
    p256_close(&c);
    ERR_pop_to_mark();
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(ikm, sizeof(ikm));
    return rc;
}

int omni_webpush_keypair(uint8_t public_key[OMNI_WEBPUSH_PUBLIC_KEY_LEN],
                         uint8_t private_key[OMNI_WEBPUSH_PRIVATE_KEY_LEN],
                         const omni_engine *engine)
{
    if (!public_key || !private_key)
        return omni__err(OMNI_EINVAL, "webpush keypair: NULL argument");
    uint8_t priv[32], pub[65];
    p256 c;
    if (p256_open(&c))
        return omni__err(OMNI_ENOMEM, "webpush keypair: out of memory");
    ERR_set_mark();
    int rc = OMNI_ECRYPTO;
    for (int i = 0; i < 16; i++) {
        int r = omni_engine_random(engine, priv, sizeof(priv));
        if (r) {
            if (omni_error_last_status() != r)
                omni__err(r, "webpush keypair: the random generator failed");
            rc = r;
            goto done;
        }
        if (!p256_load_private(&c, priv)) {
            rc = OMNI_OK;
            break;
        }
    }
    if (rc) {
        rc = omni__err(OMNI_ECRYPTO, "webpush keypair: the random generator gives no valid key");
        goto done;
    }
    if (p256_public(&c, pub)) {
        rc = omni__err(OMNI_ECRYPTO, "webpush keypair: key derivation failed");
        goto done;
    }
    memcpy(public_key, pub, sizeof(pub));
    memcpy(private_key, priv, sizeof(priv));
done:
    p256_close(&c);
    ERR_pop_to_mark();
    OPENSSL_cleanse(priv, sizeof(priv));
    return rc;
}

/* ---- EVP_PKEY from raw P-256 keys ---------------------------------------------------- */

static int pkey_fromdata(EVP_PKEY **out, OSSL_PARAM *params, int selection)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    int ok = pc && EVP_PKEY_fromdata_init(pc) == 1 &&
             EVP_PKEY_fromdata(pc, out, selection, params) == 1;
    EVP_PKEY_CTX_free(pc);
    return ok ? 0 : -1;
}

int omni__p256_pkey_from_public(EVP_PKEY **out, const uint8_t public_key[65])
{
    if (!out || !public_key)
        return omni__err(OMNI_EINVAL, "P-256 key: NULL argument");
    p256 c;
    if (p256_open(&c))
        return omni__err(OMNI_ENOMEM, "P-256 key: out of memory");
    ERR_set_mark();
    int rc = OMNI_OK;
    EC_POINT *q = p256_point(&c, public_key);
    if (!q) {
        rc = omni__err(OMNI_EKEY, "P-256 key: not an uncompressed P-256 point");
    } else {
        char group[] = "prime256v1";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
            OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)public_key, 65),
            OSSL_PARAM_construct_end()};
        *out = NULL;
        if (pkey_fromdata(out, params, EVP_PKEY_PUBLIC_KEY))
            rc = omni__err(OMNI_ECRYPTO, "P-256 key: the key could not be built");
    }
    EC_POINT_free(q);
    p256_close(&c);
    ERR_pop_to_mark();
    return rc;
}

int omni__p256_pkey_from_private(EVP_PKEY **out, uint8_t public_key[65],
                                 const uint8_t private_key[32])
{
    if (!out || !private_key)
        return omni__err(OMNI_EINVAL, "P-256 key: NULL argument");
    uint8_t pub[65];
    p256 c;
    if (p256_open(&c))
        return omni__err(OMNI_ENOMEM, "P-256 key: out of memory");
    ERR_set_mark();
    int rc = OMNI_OK;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    if (p256_load_private(&c, private_key)) {
        rc = omni__err(OMNI_EKEY, "P-256 key: the private key is not a valid P-256 scalar");
        goto done;
    }
    rc = OMNI_ECRYPTO;
    if (p256_public(&c, pub))
        goto fail;
    bld = OSSL_PARAM_BLD_new();
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                                0) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, c.k) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) != 1)
        goto fail;
    params = OSSL_PARAM_BLD_to_param(bld);
    *out = NULL;
    if (!params || pkey_fromdata(out, params, EVP_PKEY_KEYPAIR))
        goto fail;
    if (public_key)
        memcpy(public_key, pub, 65);
    rc = OMNI_OK;
    goto done;
fail:
    rc = omni__err(OMNI_ECRYPTO, "P-256 key: the key could not be built");
done:
    OSSL_PARAM_free(params); /* the scalar sat in secure memory (c.k is secure) */
    OSSL_PARAM_BLD_free(bld);
    p256_close(&c);
    ERR_pop_to_mark();
    return rc;
}

/* ---- VAPID (RFC 8292) ---------------------------------------------------------------- */

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static int prefix_ci(const char *s, const char *p)
{
    for (; *p; s++, p++)
        if (lower((unsigned char)*s) != *p)
            return 0;
    return 1;
}

static int all_printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* The origin of a push endpoint (RFC 6454): lower-case scheme and host, the
 * port only when not the scheme's default. */
static int vapid_origin(omni_buf *o, const char *endpoint)
{
    size_t n = strnlen(endpoint, VAPID_ENDPOINT_MAX + 1);
    if (n > VAPID_ENDPOINT_MAX)
        return omni__err(OMNI_EINVAL, "webpush vapid: endpoint over %d bytes",
                         VAPID_ENDPOINT_MAX);
    if (!all_printable_ascii(endpoint, n))
        return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has a space, control or "
                                      "non-ASCII character");
    int https = prefix_ci(endpoint, "https://");
    if (!https && !prefix_ci(endpoint, "http://"))
        return omni__err(OMNI_EINVAL, "webpush vapid: endpoint is not an https URL");
    const char *a = endpoint + (https ? 8 : 7);
    size_t alen = strcspn(a, "/?#");
    if (memchr(a, '@', alen))
        return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has user information");
    const char *host = a, *port = NULL;
    size_t hlen;
    if (alen && a[0] == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close || close == a + 1)
            return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has a malformed IPv6 host");
        hlen = (size_t)(close - a) + 1;
        for (size_t i = 1; i + 1 < hlen; i++)
            if (!strchr("0123456789abcdefABCDEF:.", a[i]))
                return omni__err(OMNI_EINVAL,
                                 "webpush vapid: endpoint has a malformed IPv6 host");
    } else {
        hlen = strcspn(a, ":/?#");
        for (size_t i = 0; i < hlen; i++)
            if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_",
                        a[i]))
                return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has a malformed host");
    }
    if (hlen == 0 || hlen > 255)
        return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has no valid host");
    long port_num = https ? 443 : 80;
    if (hlen < alen) {
        if (a[hlen] != ':' || hlen + 1 == alen || alen - hlen - 1 > 5)
            return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has a malformed port");
        port = a + hlen + 1;
        port_num = 0;
        for (const char *p = port; p < a + alen; p++) {
            if (*p < '0' || *p > '9')
                return omni__err(OMNI_EINVAL, "webpush vapid: endpoint has a malformed port");
            port_num = port_num * 10 + (*p - '0');
        }
        if (port_num < 1 || port_num > 65535)
            return omni__err(OMNI_EINVAL, "webpush vapid: endpoint port out of range");
    }
    if (!https) {
        int loopback = (hlen == 9 && prefix_ci(host, "localhost")) ||
                       (hlen == 5 && memcmp(host, "[::1]", 5) == 0) ||
                       (hlen >= 7 && memcmp(host, "127.", 4) == 0 &&
                        strspn(host, "0123456789.") >= hlen);
        if (!loopback)
            return omni__err(OMNI_EINVAL, "webpush vapid: endpoint is not an https URL (http "
                                          "only to a loopback host)");
    }
    omni__buf_puts(o, https ? "https://" : "http://");
    for (size_t i = 0; i < hlen; i++) {
        omni__buf_putc(o, (char)lower((unsigned char)host[i]));
    }
    if (port_num != (https ? 443 : 80))
        omni__buf_printf(o, ":%ld", port_num);
    return omni__buf_status(o);
}

int omni_webpush_vapid(char **out, size_t *out_len, const char *endpoint, const char *subject,
                       const uint8_t private_key[OMNI_WEBPUSH_PRIVATE_KEY_LEN], int64_t now_ms,
                       uint32_t expires_s)
{
    if (!out || !endpoint || !subject || !private_key)
        return omni__err(OMNI_EINVAL, "webpush vapid: NULL argument");
    if (expires_s < 1 || expires_s > 86400)
        return omni__err(OMNI_EINVAL, "webpush vapid: expires_s %u is outside 1..86400 (24 h)",
                         (unsigned)expires_s);
    if (now_ms < 0)
        return omni__err(OMNI_EINVAL, "webpush vapid: now_ms is negative");
    size_t slen = strnlen(subject, VAPID_SUBJECT_MAX + 1);
    if (slen > VAPID_SUBJECT_MAX)
        return omni__err(OMNI_EINVAL, "webpush vapid: subject over %d bytes", VAPID_SUBJECT_MAX);
    if (!all_printable_ascii(subject, slen) ||
        !((slen > 7 && prefix_ci(subject, "mailto:")) ||
          (slen > 6 && prefix_ci(subject, "https:"))))
        return omni__err(OMNI_EINVAL, "webpush vapid: subject must be a mailto: or https: URI");

    omni_buf origin = OMNI_BUF_INIT, claims = OMNI_BUF_INIT, res = OMNI_BUF_INIT;
    EVP_PKEY *pkey = NULL;
    char *jwt = NULL;
    uint8_t pub[65];
    int rc = vapid_origin(&origin, endpoint);
    if (rc)
        goto done;
    rc = omni__p256_pkey_from_private(&pkey, pub, private_key);
    if (rc)
        goto done;
    omni__json_w_obj_begin(&claims);
    omni__json_w_key(&claims, "aud");
    omni__json_w_strn(&claims, origin.data, origin.len);
    omni__json_w_key(&claims, "exp");
    omni__json_w_int(&claims, now_ms / 1000 + (int64_t)expires_s);
    omni__json_w_key(&claims, "sub");
    omni__json_w_strn(&claims, subject, slen);
    omni__json_w_obj_end(&claims);
    rc = omni__buf_status(&claims);
    if (rc)
        goto done;
    size_t jwt_len = 0;
    rc = omni__jwt_sign_pkey(&jwt, &jwt_len, OMNI__JWT_ES256, pkey, NULL, 0, claims.data,
                             claims.len);
    if (rc)
        goto done;
    omni__buf_puts(&res, "vapid t=");
    omni__buf_append(&res, jwt, jwt_len);
    omni__buf_puts(&res, ", k=");
    omni__base64_append(&res, pub, sizeof(pub), 1);
    rc = omni__buf_detach(&res, out, out_len);
done:
    EVP_PKEY_free(pkey);
    omni_free(jwt);
    omni__buf_free(&origin);
    omni__buf_free(&claims);
    omni__buf_free(&res);
    return rc;
}
