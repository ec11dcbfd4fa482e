/* JSON Web Tokens (JWS compact serialization, RFC 7515 / RFC 7519) with
 * HS256, RS256 and ES256: PEM keys, ECDSA signature forms, sign, verify. */
#include <omni/crypto.h>
#include <omni/omni.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "codec.h"
#include "crypto_internal.h"
#include "error.h"
#include "json.h"

/* ---- algorithms --------------------------------------------------------- */

int omni__jwt_alg_from_name(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "HS256") == 0)
        return OMNI__JWT_HS256;
    if (strcmp(name, "RS256") == 0)
        return OMNI__JWT_RS256;
    if (strcmp(name, "ES256") == 0)
        return OMNI__JWT_ES256;
    return 0;
}

const char *omni__jwt_alg_name(int alg)
{
    switch (alg) {
    case OMNI__JWT_HS256: return "HS256";
    case OMNI__JWT_RS256: return "RS256";
    case OMNI__JWT_ES256: return "ES256";
    default: return NULL;
    }
}

/* ---- PEM keys ----------------------------------------------------------- */

/* Never prompt for a passphrase (OpenSSL's default callback reads the tty). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

enum { READ_PUBKEY, READ_CERT, READ_PRIVATE };

/* One attempt on a fresh read-only BIO; NULL when this form is absent. */
static EVP_PKEY *read_pem(const void *pem, size_t len, int form, int *oom)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio) {
        *oom = 1;
        return NULL;
    }
    EVP_PKEY *pkey = NULL;
    if (form == READ_PUBKEY) {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    } else if (form == READ_CERT) {
        X509 *cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
        if (cert) {
            pkey = X509_get_pubkey(cert);
            X509_free(cert);
        }
    } else {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    }
    BIO_free(bio);
    return pkey;
}

int omni__pkey_from_pem(EVP_PKEY **out, const void *pem, size_t len, int private_only,
                        const char *what)
{
    if (!what)
        what = "key";
    if (!out)
        return omni__err(OMNI_EINVAL, "%s: out is NULL", what);
    *out = NULL;
    if (!pem && len)
        return omni__err(OMNI_EINVAL, "%s is NULL", what);
    if (!pem || len == 0)
        return omni__err(OMNI_EKEY, "%s is empty", what);
    if (len > OMNI__PEM_MAX_BYTES)
        return omni__err(OMNI_ETOOLARGE, "%s is %zu bytes, over the PEM limit of %u", what, len,
                         OMNI__PEM_MAX_BYTES);
    if (!memmem(pem, len, "-----BEGIN ", 11))
        return omni__err(OMNI_EKEY, "%s is not PEM (no \"-----BEGIN\" line)", what);
    if (memmem(pem, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37) ||
        memmem(pem, len, "Proc-Type: 4,ENCRYPTED", 22))
        return omni__err(OMNI_EKEY, "%s is encrypted; pass the unencrypted PEM key", what);

    int oom = 0;
    EVP_PKEY *pkey = NULL;
    ERR_set_mark();
    if (!private_only) {
        pkey = read_pem(pem, len, READ_PUBKEY, &oom);
        if (!pkey && !oom)
            pkey = read_pem(pem, len, READ_CERT, &oom);
    }
    if (!pkey && !oom)
        pkey = read_pem(pem, len, READ_PRIVATE, &oom);
    ERR_pop_to_mark();
    if (oom)
        return omni__err(OMNI_ENOMEM, NULL);
    if (!pkey)
        return omni__err(OMNI_EKEY,
                         private_only ? "%s is not a readable PEM private key"
                                      : "%s is not a readable PEM public key, certificate or "
                                        "private key",
                         what);
    *out = pkey;
    return OMNI_OK;
}

int omni__pkey_check(const EVP_PKEY *pkey, int alg)
{
    if (!pkey)
        return omni__err(OMNI_EINVAL, "key is NULL");
    const char *type = EVP_PKEY_get0_type_name(pkey);
    if (!type)
        type = "unknown";
    if (alg == OMNI__JWT_RS256) {
        if (!EVP_PKEY_is_a(pkey, "RSA"))
            return omni__err(OMNI_EKEY, "RS256 needs an RSA key, not %s", type);
        int bits = EVP_PKEY_get_bits(pkey);
        if (bits < OMNI__RSA_MIN_BITS || bits > OMNI__RSA_MAX_BITS)
            return omni__err(OMNI_EKEY, "RS256 needs an RSA key of %d to %d bits, not %d",
                             OMNI__RSA_MIN_BITS, OMNI__RSA_MAX_BITS, bits);
        return OMNI_OK;
    }
    if (alg == OMNI__JWT_ES256) {
        if (!EVP_PKEY_is_a(pkey, "EC"))
            return omni__err(OMNI_EKEY, "ES256 needs an EC P-256 key, not %s", type);
        char group[80];
        size_t glen = 0;
        int ok = 0;
        ERR_set_mark();
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) == 1)
            ok = strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
        ERR_pop_to_mark();
        if (!ok)
            return omni__err(OMNI_EKEY, "ES256 needs an EC key on the P-256 curve");
        return OMNI_OK;
    }
    return omni__err(OMNI_EINVAL, "key check: not an RS256 or ES256 algorithm");
}

/* ---- ECDSA signature forms ---------------------------------------------- */

int omni__ecdsa_der_to_raw(uint8_t *raw, size_t n, const uint8_t *der, size_t der_len)
{
    if (!raw || !der || n == 0 || n > 1024 || der_len > 4096)
        return OMNI_ECRYPTO;
    int rc = OMNI_ECRYPTO;
    ERR_set_mark();
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig && p == der + der_len) {
        const BIGNUM *r = NULL, *s = NULL;
        ECDSA_SIG_get0(sig, &r, &s);
        if (r && s && (size_t)BN_num_bytes(r) <= n && (size_t)BN_num_bytes(s) <= n &&
            BN_bn2binpad(r, raw, (int)n) == (int)n && BN_bn2binpad(s, raw + n, (int)n) == (int)n)
            rc = OMNI_OK;
    }
    ECDSA_SIG_free(sig);
    ERR_pop_to_mark();
    return rc;
}

int omni__ecdsa_raw_to_der(uint8_t *der, size_t der_cap, size_t *der_len, const uint8_t *raw,
                           size_t n)
{
    if (!der || !der_len || !raw || n == 0 || n > 1024)
        return OMNI_EINVAL;
    int rc = OMNI_ENOMEM;
    ERR_set_mark();
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)n, NULL);
    BIGNUM *s = BN_bin2bn(raw + n, (int)n, NULL);
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        int len = i2d_ECDSA_SIG(sig, NULL);
        if (len <= 0) {
            rc = OMNI_ENOMEM;
        } else if ((size_t)len > der_cap) {
            rc = OMNI_EINVAL;
        } else {
            unsigned char *p = der;
            if (i2d_ECDSA_SIG(sig, &p) == len) {
                *der_len = (size_t)len;
                rc = OMNI_OK;
            }
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    ERR_pop_to_mark();
    return rc;
}

/* ---- JWS signatures with a loaded key ------------------------------------ */

static const uint8_t empty_input[1] = {0};

int omni__jws_sign_pkey(uint8_t *sig, size_t sig_cap, size_t *sig_len, int alg, EVP_PKEY *pkey,
                        const void *data, size_t len)
{
    if (!sig || !sig_len || !pkey || (!data && len))
        return omni__err(OMNI_EINVAL, "JWS sign: NULL argument");
    if (alg != OMNI__JWT_RS256 && alg != OMNI__JWT_ES256)
        return omni__err(OMNI_EINVAL, "JWS sign: not an RS256 or ES256 algorithm");
    if (!len)
        data = empty_input;
    int max = EVP_PKEY_get_size(pkey);
    if (max <= 0 || max > OMNI__JWS_MAX_SIG)
        return omni__err(OMNI_EKEY, "JWS sign: unusable key");
    if ((alg == OMNI__JWT_RS256 && sig_cap < (size_t)max) ||
        (alg == OMNI__JWT_ES256 && sig_cap < 64))
        return omni__err(OMNI_EINVAL, "JWS sign: signature buffer too small");

    int rc = OMNI_ECRYPTO;
    uint8_t der[OMNI__JWS_MAX_SIG];
    ERR_set_mark();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (!ctx) {
        rc = OMNI_ENOMEM;
        goto done;
    }
    if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pkey) != 1)
        goto done;
    if (alg == OMNI__JWT_RS256) {
        size_t n = (size_t)max;
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
            EVP_DigestSign(ctx, sig, &n, data, len) != 1)
            goto done;
        *sig_len = n;
    } else {
        size_t n = sizeof(der);
        if (EVP_DigestSign(ctx, der, &n, data, len) != 1 ||
            omni__ecdsa_der_to_raw(sig, 32, der, n) != OMNI_OK)
            goto done;
        *sig_len = 64;
    }
    rc = OMNI_OK;
done:
    EVP_MD_CTX_free(ctx);
    ERR_pop_to_mark();
    if (rc == OMNI_ENOMEM)
        return omni__err(OMNI_ENOMEM, NULL);
    if (rc)
        return omni__err(OMNI_ECRYPTO, "%s signing failed (is it a private key?)",
                         omni__jwt_alg_name(alg));
    return OMNI_OK;
}

int omni__jws_verify_pkey(int alg, EVP_PKEY *pkey, const void *data, size_t len,
                          const uint8_t *sig, size_t sig_len)
{
    if (!pkey || (!data && len) || (!sig && sig_len))
        return omni__err(OMNI_EINVAL, "JWS verify: NULL argument");
    if (alg != OMNI__JWT_RS256 && alg != OMNI__JWT_ES256)
        return omni__err(OMNI_EINVAL, "JWS verify: not an RS256 or ES256 algorithm");
    if (!len)
        data = empty_input;
    uint8_t der[80];
    const uint8_t *s = sig;
    size_t s_len = sig_len;
    if (alg == OMNI__JWT_RS256) {
        int size = EVP_PKEY_get_size(pkey);
        if (size <= 0 || sig_len != (size_t)size)
            return omni__err(OMNI_ESIGNATURE, "RS256 signature has %zu bytes, expected %d",
                             sig_len, size);
    } else {
        if (sig_len != 64)
            return omni__err(OMNI_ESIGNATURE, "ES256 signature has %zu bytes, expected 64",
                             sig_len);
        int rc = omni__ecdsa_raw_to_der(der, sizeof(der), &s_len, sig, 32);
        if (rc)
            return omni__err(rc, NULL);
        s = der;
    }
    int ok = 0, oom = 0;
    ERR_set_mark();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (!ctx)
        oom = 1;
    else if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
             (alg != OMNI__JWT_RS256 ||
              EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1))
        ok = EVP_DigestVerify(ctx, s, s_len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_pop_to_mark();
    if (oom)
        return omni__err(OMNI_ENOMEM, NULL);
    if (!ok)
        return omni__err(OMNI_ESIGNATURE, "%s signature does not verify",
                         omni__jwt_alg_name(alg));
    return OMNI_OK;
}

/* ---- JWT ------------------------------------------------------------------ */

typedef struct jwt_key {
    int alg;
    const uint8_t *secret; /* HS256 */
    size_t secret_len;
    EVP_PKEY *pkey; /* RS256, ES256 */
} jwt_key;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 with *dup set when two members of obj share a name, 0 when none do,
 * OMNI_ENOMEM. */
static int find_duplicate(const cJSON *obj, const char **dup)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n < 2)
        return 0;
    const char **names = malloc(n * sizeof(*names));
    if (!names)
        return OMNI_ENOMEM;
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof(*names), cmp_names);
    int found = 0;
    for (i = 1; i < n && !found; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            *dup = names[i];
            found = 1;
        }
    free(names);
    return found;
}

/* Parses a JSON object without duplicate member names. */
static int parse_object(cJSON **out, const char *text, size_t len, const char *what)
{
    int rc = omni__json_parse(out, text, len, OMNI_JWT_MAX_BYTES, what);
    if (rc)
        return rc;
    if (!cJSON_IsObject(*out))
        rc = omni__err(OMNI_EJSON, "%s must be a JSON object", what);
    const char *dup = NULL;
    int found = rc ? 0 : find_duplicate(*out, &dup);
    if (found == OMNI_ENOMEM)
        rc = omni__err(OMNI_ENOMEM, NULL);
    else if (found)
        rc = omni__err(OMNI_EJSON, "%s has the member \"%.64s\" more than once", what, dup);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* 1 when valid JSON text contains a "\u0000" escape (where a backslash can
 * only start an escape): cJSON would cut that string short, so the
 * re-serialized document would silently differ from the caller's. */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* the escaped character */
    }
    return 0;
}

static int jwt_sign(char **out, size_t *out_len, const jwt_key *k, const char *header_json,
                    size_t header_len, const char *claims_json, size_t claims_len)
{
    cJSON *claims = NULL, *extra = NULL;
    omni_buf hdr = OMNI_BUF_INIT, body = OMNI_BUF_INIT, tok;
    omni__buf_init(&tok, OMNI_JWT_MAX_BYTES);
    uint8_t sig[OMNI__JWS_MAX_SIG];
    size_t sig_len = 0;

    int rc = parse_object(&claims, claims_json, claims_len, "JWT claims");
    if (!rc && has_nul_escape(claims_json, claims_len))
        rc = omni__err(OMNI_EJSON, "JWT claims: strings with \\u0000 are not supported");
    if (!rc && header_len > 0) {
        rc = parse_object(&extra, header_json, header_len, "JWT header");
        if (!rc && has_nul_escape(header_json, header_len))
            rc = omni__err(OMNI_EJSON, "JWT header: strings with \\u0000 are not supported");
        if (!rc && (cJSON_GetObjectItemCaseSensitive(extra, "alg") ||
                    cJSON_GetObjectItemCaseSensitive(extra, "typ")))
            rc = omni__err(OMNI_EINVAL,
                           "JWT header: \"alg\" and \"typ\" are set by the library; "
                           "leave them out of header_json");
    }
    if (rc)
        goto done;

    omni__json_w_obj_begin(&hdr);
    omni__json_w_key(&hdr, "alg");
    omni__json_w_str(&hdr, omni__jwt_alg_name(k->alg));
    omni__json_w_key(&hdr, "typ");
    omni__json_w_str(&hdr, "JWT");
    for (const cJSON *c = extra ? extra->child : NULL; c; c = c->next) {
        omni__json_w_key(&hdr, c->string);
        omni__json_w_item(&hdr, c);
    }
    omni__json_w_obj_end(&hdr);
    omni__json_w_item(&body, claims);
    if ((rc = omni__buf_status(&hdr)) || (rc = omni__buf_status(&body)))
        goto done;

    omni__base64_append(&tok, hdr.data, hdr.len, 1);
    omni__buf_putc(&tok, '.');
    omni__base64_append(&tok, body.data, body.len, 1);
    if (!tok.failed) {
        if (k->alg == OMNI__JWT_HS256) {
            if (omni__hmac_sha256(sig, k->secret, k->secret_len, tok.data, tok.len))
                rc = omni__err(OMNI_ECRYPTO, "HS256: the HMAC computation failed");
            sig_len = 32;
        } else {
            rc = omni__jws_sign_pkey(sig, sizeof(sig), &sig_len, k->alg, k->pkey, tok.data,
                                     tok.len);
        }
        if (rc)
            goto done;
        omni__buf_putc(&tok, '.');
        omni__base64_append(&tok, sig, sig_len, 1);
    }
    if (tok.failed == OMNI_ETOOLARGE) {
        rc = omni__err(OMNI_ETOOLARGE, "the JWT would exceed OMNI_JWT_MAX_BYTES (%u bytes)",
                       OMNI_JWT_MAX_BYTES);
        goto done;
    }
    rc = omni__buf_detach(&tok, out, out_len);
done:
    OPENSSL_cleanse(sig, sizeof(sig));
    cJSON_Delete(claims);
    cJSON_Delete(extra);
    omni__buf_free(&hdr);
    omni__buf_free(&body);
    omni__buf_free(&tok);
    return rc;
}

/* Checks a part's characters (only A-Z a-z 0-9 - _, no padding) and
 * decodes it strictly into a new allocation (NUL-terminated). */
static int decode_part(uint8_t **out, size_t *out_len, const char *s, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return omni__err(OMNI_EENCODING, "JWT %s: byte %zu is not a base64url character",
                             what, i);
    }
    if (n % 4 == 1)
        return omni__err(OMNI_EENCODING, "JWT %s: %zu characters is not a base64url length",
                         what, n);
    size_t cap = omni__base64_decoded_max(n) + 1;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t len = 0;
    if (omni__base64_decode_into(buf, cap, &len, s, n, 1) != OMNI_OK) {
        free(buf);
        return omni__err(OMNI_EENCODING, "JWT %s is not canonical base64url", what);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return OMNI_OK;
}

/* Reads an optional NumericDate claim: 0 absent, 1 present (in *v). */
static int time_claim(const cJSON *payload, const char *name, double *v, int *present)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(payload, name);
    *present = 0;
    if (!it)
        return OMNI_OK;
    if (!cJSON_IsNumber(it))
        return omni__err(OMNI_EJSON, "JWT claim \"%s\" must be a number (NumericDate)", name);
    *v = it->valuedouble;
    *present = 1;
    return OMNI_OK;
}

static int jwt_verify(char **out, size_t *out_len, const omni_engine *engine, const char *token,
                      size_t token_len, const jwt_key *k, int64_t leeway_s)
{
    const char *end = token + token_len;
    const char *d1 = token_len ? memchr(token, '.', token_len) : NULL;
    const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (!d2)
        return omni__err(OMNI_EENCODING, "a JWT has three parts separated by '.'");
    if (memchr(d2 + 1, '.', (size_t)(end - d2 - 1)))
        return omni__err(OMNI_EENCODING, "the JWT has more than three parts");

    uint8_t *hbytes = NULL, *pbytes = NULL, *sbytes = NULL;
    size_t hlen = 0, plen = 0, slen = 0;
    cJSON *header = NULL, *payload = NULL;
    uint8_t mac[32];
    int rc = decode_part(&hbytes, &hlen, token, (size_t)(d1 - token), "header");
    if (!rc)
        rc = decode_part(&pbytes, &plen, d1 + 1, (size_t)(d2 - d1 - 1), "payload");
    if (!rc)
        rc = decode_part(&sbytes, &slen, d2 + 1, (size_t)(end - d2 - 1), "signature");
    if (!rc)
        rc = parse_object(&header, (const char *)hbytes, hlen, "JWT header");
    if (!rc && has_nul_escape((const char *)hbytes, hlen))
        rc = omni__err(OMNI_EJSON, "JWT header: strings with \\u0000 are not supported");
    if (rc)
        goto done;

    const char *want = omni__jwt_alg_name(k->alg);
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
    if (!cJSON_IsString(alg)) {
        rc = omni__err(OMNI_ESIGNATURE, "the JWT header has no \"alg\" string");
        goto done;
    }
    if (strcmp(alg->valuestring, "none") == 0) {
        rc = omni__err(OMNI_ESIGNATURE, "unsecured JWTs (alg \"none\") are refused");
        goto done;
    }
    if (strcmp(alg->valuestring, want) != 0) {
        rc = omni__err(OMNI_ESIGNATURE, "the JWT is not signed with the expected %s", want);
        goto done;
    }
    if (cJSON_GetObjectItemCaseSensitive(header, "crit")) {
        rc = omni__err(OMNI_EUNSUPPORTED,
                       "the JWT header lists critical extensions (\"crit\"); none are supported");
        goto done;
    }

    size_t signed_len = (size_t)(d2 - token);
    if (k->alg == OMNI__JWT_HS256) {
        if (slen != sizeof(mac)) {
            rc = omni__err(OMNI_ESIGNATURE, "HS256 signature has %zu bytes, expected 32", slen);
            goto done;
        }
        if (omni__hmac_sha256(mac, k->secret, k->secret_len, token, signed_len)) {
            rc = omni__err(OMNI_ECRYPTO, "HS256: the HMAC computation failed");
            goto done;
        }
        if (!omni_ct_equal(mac, sbytes, sizeof(mac))) {
            rc = omni__err(OMNI_ESIGNATURE, "HS256 signature does not verify");
            goto done;
        }
    } else {
        rc = omni__jws_verify_pkey(k->alg, k->pkey, token, signed_len, sbytes, slen);
        if (rc)
            goto done;
    }

    rc = parse_object(&payload, (const char *)pbytes, plen, "JWT payload");
    double exp = 0, nbf = 0;
    int has_exp = 0, has_nbf = 0;
    if (!rc)
        rc = time_claim(payload, "exp", &exp, &has_exp);
    if (!rc)
        rc = time_claim(payload, "nbf", &nbf, &has_nbf);
    if (rc)
        goto done;
    double now = (double)omni_engine_now_ms(engine);
    double leeway = (double)leeway_s * 1000.0;
    if (has_exp && now >= exp * 1000.0 + leeway) {
        rc = omni__err(OMNI_EEXPIRED, "the JWT has expired (exp is in the past)");
        goto done;
    }
    if (has_nbf && now + leeway < nbf * 1000.0) {
        rc = omni__err(OMNI_ENOTYET, "the JWT is not valid yet (nbf is in the future)");
        goto done;
    }
    *out = (char *)pbytes;
    if (out_len)
        *out_len = plen;
    pbytes = NULL;
done:
    OPENSSL_cleanse(mac, sizeof(mac));
    cJSON_Delete(header);
    cJSON_Delete(payload);
    free(hbytes);
    free(pbytes);
    free(sbytes);
    return rc;
}

/* ---- public entry points -------------------------------------------------- */

/* Fills k for alg from the caller's key; *owned receives a parsed PEM key
 * that the caller frees. */
static int load_key(jwt_key *k, EVP_PKEY **owned, int alg, const void *key, size_t key_len,
                    int signing)
{
    memset(k, 0, sizeof(*k));
    k->alg = alg;
    *owned = NULL;
    if (!key && key_len)
        return omni__err(OMNI_EINVAL, "JWT: key is NULL");
    if (alg == OMNI__JWT_HS256) {
        if (key_len == 0)
            return omni__err(OMNI_EKEY, "HS256 needs a secret of at least 1 byte");
        k->secret = key;
        k->secret_len = key_len;
        return OMNI_OK;
    }
    int rc = omni__pkey_from_pem(owned, key, key_len, signing,
                                 alg == OMNI__JWT_RS256 ? "RS256 key" : "ES256 key");
    if (!rc)
        rc = omni__pkey_check(*owned, alg);
    if (rc) {
        EVP_PKEY_free(*owned);
        *owned = NULL;
        return rc;
    }
    k->pkey = *owned;
    return OMNI_OK;
}

static int sign_args(char **out, size_t *out_len, const char *header_json, size_t header_len,
                     const char *claims_json, size_t claims_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "JWT sign: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if ((!claims_json && claims_len) || (!header_json && header_len))
        return omni__err(OMNI_EINVAL, "JWT sign: NULL JSON with a non-zero length");
    if (claims_len > OMNI_JWT_MAX_BYTES || header_len > OMNI_JWT_MAX_BYTES)
        return omni__err(OMNI_ETOOLARGE, "JWT sign: input over OMNI_JWT_MAX_BYTES (%u bytes)",
                         OMNI_JWT_MAX_BYTES);
    return OMNI_OK;
}

static int verify_args(char **out, size_t *out_len, const char *token, size_t token_len,
                       int64_t leeway_s)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "JWT verify: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!token && token_len)
        return omni__err(OMNI_EINVAL, "JWT verify: token is NULL");
    if (leeway_s < 0)
        return omni__err(OMNI_EINVAL, "JWT verify: leeway must not be negative");
    if (token_len > OMNI_JWT_MAX_BYTES)
        return omni__err(OMNI_ETOOLARGE, "the JWT is %zu bytes, over OMNI_JWT_MAX_BYTES (%u)",
                         token_len, OMNI_JWT_MAX_BYTES);
    return OMNI_OK;
}

int omni_jwt_sign(char **out, size_t *out_len, const char *alg, const void *key, size_t key_len,
                  const char *header_json, size_t header_len, const char *claims_json,
                  size_t claims_len)
{
    int rc = sign_args(out, out_len, header_json, header_len, claims_json, claims_len);
    if (rc)
        return rc;
    int a = omni__jwt_alg_from_name(alg);
    if (!a)
        return omni__err(OMNI_EINVAL, "JWT sign: unsupported algorithm (HS256, RS256, ES256)");
    jwt_key k;
    EVP_PKEY *owned = NULL;
    rc = load_key(&k, &owned, a, key, key_len, 1);
    if (!rc)
        rc = jwt_sign(out, out_len, &k, header_json, header_len, claims_json, claims_len);
    EVP_PKEY_free(owned);
    return rc;
}

int omni_jwt_verify(char **out, size_t *out_len, const omni_engine *engine, const char *token,
                    size_t token_len, const char *alg, const void *key, size_t key_len,
                    int64_t leeway_s)
{
    int rc = verify_args(out, out_len, token, token_len, leeway_s);
    if (rc)
        return rc;
    int a = omni__jwt_alg_from_name(alg);
    if (!a)
        return omni__err(OMNI_EINVAL, "JWT verify: unsupported algorithm (HS256, RS256, ES256)");
    jwt_key k;
    EVP_PKEY *owned = NULL;
    rc = load_key(&k, &owned, a, key, key_len, 0);
    if (!rc)
        rc = jwt_verify(out, out_len, engine, token, token_len, &k, leeway_s);
    EVP_PKEY_free(owned);
    return rc;
}

static int pkey_args(int alg, EVP_PKEY *pkey, jwt_key *k)
{
    if (alg != OMNI__JWT_RS256 && alg != OMNI__JWT_ES256)
        return omni__err(OMNI_EINVAL, "JWT: a loaded key is for RS256 or ES256");
    int rc = omni__pkey_check(pkey, alg);
    if (rc)
        return rc;
    memset(k, 0, sizeof(*k));
    k->alg = alg;
    k->pkey = pkey;
    return OMNI_OK;
}

int omni__jwt_sign_pkey(char **out, size_t *out_len, int alg, EVP_PKEY *pkey,
                        const char *header_json, size_t header_len, const char *claims_json,
                        size_t claims_len)
{
    jwt_key k;
    int rc = sign_args(out, out_len, header_json, header_len, claims_json, claims_len);
    if (!rc)
        rc = pkey_args(alg, pkey, &k);
    if (!rc)
        rc = jwt_sign(out, out_len, &k, header_json, header_len, claims_json, claims_len);
    return rc;
}

int omni__jwt_verify_pkey(char **out, size_t *out_len, const omni_engine *engine,
                          const char *token, size_t token_len, int alg, EVP_PKEY *pkey,
                          int64_t leeway_s)
{
    jwt_key k;
    int rc = verify_args(out, out_len, token, token_len, leeway_s);
    if (!rc)
        rc = pkey_args(alg, pkey, &k);
    if (!rc)
        rc = jwt_verify(out, out_len, engine, token, token_len, &k, leeway_s);
    return rc;
}
