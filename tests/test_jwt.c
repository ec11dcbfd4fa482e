/* Tests for JWT sign/verify (omni/crypto.h) with HS256, RS256 and ES256,
 * including the worked examples of RFC 7515 Appendix A. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <omni/omni.h>

#include "lib/core/crypto_internal.h"

/* ---- RFC 7515 Appendix A values -------------------------------------- */

/* A.1: HS256. The JWK "k" of the HMAC key. */
static const char *a1_k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcg"
                          "UuTwjAzZr1Z9CAow";
static const char *a1_token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/* The JWS Payload of A.1-A.3, with its CRLF line breaks. */
static const char *rfc_payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
#define RFC_EXP_MS 1300819380000LL

/* A.2: RS256, the RSA key as a JWK. */
static const char *a2_n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4q"
                          "PCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ"
                          "47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WT"
                          "BEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
                          "DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static const char *a2_e = "AQAB";
static const char *a2_d = "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMg"
                          "vfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYL"
                          "U6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0Z"
                          "HHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZ"
                          "FD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ";
static const char *a2_p = "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ"
                          "3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-"
                          "nXqhJTBgIPgtldC-KDV5z-y2XDwGUc";
static const char *a2_q = "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1Z"
                          "Se7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTlt"
                          "RJ11BKBBypeeF6689rjcJIDEz9RWdc";
static const char *a2_dp = "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9Ykx"
                           "vuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vn"
                           "eTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0";
static const char *a2_dq = "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB"
                           "719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZ"
                           "nOZ68m6_pbLBSp3nssTdlqvd0tIiTHU";
static const char *a2_qi = "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq"
                           "2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgf"
                           "p_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U";
static const char *a2_signing_input =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ";
static const char *a2_sig =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp"
    "5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOY"
    "EUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/* A.3: ES256, the public key as a JWK (x, y on P-256). */
static const char *a3_x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char *a3_y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char *a3_token =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
    "cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
/* A.3.1: the R and S values of that signature. */
static const uint8_t a3_r[32] = {14,  209, 33,  83,  121, 99,  108, 72,  60,  47,  127,
                                 21,  88,  7,   212, 2,   163, 178, 40,  3,   58,  249,
                                 124, 126, 23,  129, 154, 195, 22,  158, 166, 101};
static const uint8_t a3_s[32] = {197, 10,  7,   211, 140, 60,  112, 229, 216, 241, 45,
                                 175, 8,   74,  84,  128, 166, 101, 144, 197, 242, 147,
                                 80,  154, 143, 63,  127, 138, 131, 163, 84,  213};

/* ---- helpers ---------------------------------------------------------- */

static uint8_t *b64u_dec(const char *s, size_t *len)
{
    uint8_t *out = NULL;
    cr_assert_eq(omni_base64url_decode(&out, len, s, strlen(s)), OMNI_OK, "decode %s", s);
    return out;
}

static char *b64u_enc(const void *data, size_t len)
{
    char *out = NULL;
    size_t n;
    cr_assert_eq(omni_base64url_encode(&out, &n, data, len), OMNI_OK);
    return out;
}

static BIGNUM *bn_b64u(const char *s)
{
    size_t n;
    uint8_t *b = b64u_dec(s, &n);
    BIGNUM *bn = BN_bin2bn(b, (int)n, NULL);
    omni_free(b);
    cr_assert_not_null(bn);
    return bn;
}

/* The RFC 7515 A.2 RSA key, built from its JWK members. */
static EVP_PKEY *rfc_rsa_key(void)
{
    const char *vals[8] = {a2_n, a2_e, a2_d, a2_p, a2_q, a2_dp, a2_dq, a2_qi};
    const char *names[8] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                            OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                            OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                            OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    BIGNUM *bn[8];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    cr_assert_not_null(bld);
    for (int i = 0; i < 8; i++) {
        bn[i] = bn_b64u(vals[i]);
        cr_assert_eq(OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]), 1);
    }
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    cr_assert_eq(EVP_PKEY_fromdata_init(ctx), 1);
    cr_assert_eq(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (int i = 0; i < 8; i++)
        BN_free(bn[i]);
    return pkey;
}

/* The RFC 7515 A.3 EC public key, built from the JWK x and y. */
static EVP_PKEY *rfc_ec_pub(void)
{
    size_t xl, yl;
    uint8_t *x = b64u_dec(a3_x, &xl), *y = b64u_dec(a3_y, &yl);
    cr_assert_eq(xl, 32);
    cr_assert_eq(yl, 32);
    uint8_t point[65];
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    omni_free(x);
    omni_free(y);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    cr_assert_eq(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                                 0),
                 1);
    cr_assert_eq(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65), 1);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    cr_assert_eq(EVP_PKEY_fromdata_init(ctx), 1);
    cr_assert_eq(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static char *bio_string(BIO *bio)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    cr_assert_gt(n, 0);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    return s;
}

enum { PEM_PKCS8, PEM_TRADITIONAL, PEM_PUBLIC, PEM_CERT, PEM_ENCRYPTED };

static char *to_pem(EVP_PKEY *pkey, int form)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = 0;
    if (form == PEM_PKCS8) {
        ok = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
    } else if (form == PEM_TRADITIONAL) {
        ok = PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL);
    } else if (form == PEM_PUBLIC) {
        ok = PEM_write_bio_PUBKEY(bio, pkey);
    } else if (form == PEM_ENCRYPTED) {
        ok = PEM_write_bio_PKCS8PrivateKey(bio, pkey, EVP_aes_256_cbc(), "pass", 4, NULL, NULL);
    } else {
        X509 *x = X509_new();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pkey);
        X509_NAME *name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"omni test",
                                   -1, -1, 0);
        X509_set_issuer_name(x, name);
        cr_assert_gt(X509_sign(x, pkey, EVP_sha256()), 0);
        ok = PEM_write_bio_X509(bio, x);
        X509_free(x);
    }
    cr_assert_eq(ok, 1);
    return bio_string(bio);
}

static EVP_PKEY *gen_rsa(unsigned bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    cr_assert_not_null(k);
    return k;
}

static EVP_PKEY *gen_ec(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    cr_assert_not_null(k);
    return k;
}

static int64_t clock_cb(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* An engine whose clock reads *now. */
static omni_engine *engine_at(int64_t *now)
{
    omni_clock_hook ck = OMNI_CLOCK_HOOK_INIT;
    ck.ctx = now;
    ck.now_ms = clock_cb;
    omni_hooks h = OMNI_HOOKS_INIT;
    h.clock = &ck;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &h), OMNI_OK);
    return e;
}

/* A token "b64(header).b64(payload).b64(HMAC-SHA256)" built by hand, so
 * tests can sign headers the library would never produce. */
static char *hs256_token(const char *header, const char *payload, const char *secret)
{
    char *h = b64u_enc(header, strlen(header)), *p = b64u_enc(payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 64;
    char *tok = malloc(n);
    cr_assert_not_null(tok);
    snprintf(tok, n, "%s.%s", h, p);
    uint8_t mac[32];
    cr_assert_eq(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, secret, strlen(secret), tok,
                           strlen(tok)),
                 OMNI_OK);
    char *s = b64u_enc(mac, 32);
    strcat(tok, ".");
    strcat(tok, s);
    omni_free(h);
    omni_free(p);
    omni_free(s);
    return tok;
}

static int verify_hs(const char *token, const char *secret, int64_t *now, int64_t leeway)
{
    omni_engine *e = now ? engine_at(now) : NULL;
    char *out = (char *)0x1;
    int rc = omni_jwt_verify(&out, NULL, e, token, strlen(token), "HS256", secret, strlen(secret),
                             leeway);
    if (rc)
        cr_assert_null(out, "out must be NULL on error");
    omni_free(out);
    omni_engine_free(e);
    return rc;
}

static int verify_pem(const char *token, const char *alg, const char *pem)
{
    char *out = NULL;
    int64_t now = RFC_EXP_MS - 1000;
    omni_engine *e = engine_at(&now);
    int rc = omni_jwt_verify(&out, NULL, e, token, strlen(token), alg, pem, strlen(pem), 0);
    omni_free(out);
    omni_engine_free(e);
    return rc;
}

/* The decoded middle (or first) part of a token. */
static char *token_part(const char *token, int index)
{
    const char *s = token;
    for (int i = 0; i < index; i++)
        s = strchr(s, '.') + 1;
    const char *e = strchr(s, '.');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    uint8_t *out = NULL;
    size_t len;
    cr_assert_eq(omni_base64url_decode(&out, &len, s, n), OMNI_OK);
    return (char *)out;
}

/* ---- RFC 7515 Appendix A ----------------------------------------------- */

/* A.1: the HMAC over the RFC's exact signing input (with CRLFs in the
 * header and payload) is the RFC's signature. */
Test(jwt, rfc7515_a1_hmac)
{
    size_t klen;
    uint8_t *k = b64u_dec(a1_k, &klen);
    cr_assert_eq(klen, 64);
    const char *dot2 = strrchr(a1_token, '.');
    uint8_t mac[32];
    cr_assert_eq(omni__hmac_sha256(mac, k, klen, a1_token, (size_t)(dot2 - a1_token)), OMNI_OK);
    char *sig = b64u_enc(mac, 32);
    cr_assert_str_eq(sig, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    omni_free(sig);
    char *hdr = token_part(a1_token, 0);
    cr_assert_str_eq(hdr, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}");
    omni_free(hdr);
    omni_free(k);
}

Test(jwt, rfc7515_a1_verify)
{
    size_t klen;
    uint8_t *k = b64u_dec(a1_k, &klen);
    int64_t now = RFC_EXP_MS - 1000;
    omni_engine *e = engine_at(&now);
    char *out = NULL;
    size_t out_len = 0;
    cr_assert_eq(omni_jwt_verify(&out, &out_len, e, a1_token, strlen(a1_token), "HS256", k, klen,
                                 0),
                 OMNI_OK);
    /* the payload comes back exactly as signed, CRLFs included */
    cr_assert_str_eq(out, rfc_payload);
    cr_assert_eq(out_len, strlen(rfc_payload));
    omni_free(out);

    /* at exp the token has expired; 60 s of leeway accept it */
    now = RFC_EXP_MS;
    cr_assert_eq(omni_jwt_verify(&out, NULL, e, a1_token, strlen(a1_token), "HS256", k, klen, 0),
                 OMNI_EEXPIRED);
    cr_assert_null(out);
    cr_assert_eq(omni_error_last()->status, OMNI_EEXPIRED);
    cr_assert_str_eq(omni_error_last_code(), "TOKEN_EXPIRED");
    cr_assert_eq(omni_jwt_verify(&out, NULL, e, a1_token, strlen(a1_token), "HS256", k, klen, 60),
                 OMNI_OK);
    omni_free(out);
    now = RFC_EXP_MS + 60000;
    cr_assert_eq(omni_jwt_verify(&out, NULL, e, a1_token, strlen(a1_token), "HS256", k, klen, 60),
                 OMNI_EEXPIRED);
    /* NULL engine: the system clock, long past 2011 */
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, a1_token, strlen(a1_token), "HS256", k, klen,
                                 0),
                 OMNI_EEXPIRED);
    /* a wrong secret */
    now = RFC_EXP_MS - 1000;
    k[0] ^= 1;
    cr_assert_eq(omni_jwt_verify(&out, NULL, e, a1_token, strlen(a1_token), "HS256", k, klen, 0),
                 OMNI_ESIGNATURE);
    omni_engine_free(e);
    omni_free(k);
}

/* A.2: signing the RFC's exact signing input with the RFC's key gives the
 * RFC's exact signature (RSASSA-PKCS1-v1_5 is deterministic). */
Test(jwt, rfc7515_a2_sign_exact)
{
    EVP_PKEY *key = rfc_rsa_key();
    cr_assert_eq(omni__pkey_check(key, OMNI__JWT_RS256), OMNI_OK);
    uint8_t sig[OMNI__JWS_MAX_SIG];
    size_t sig_len = 0;
    cr_assert_eq(omni__jws_sign_pkey(sig, sizeof(sig), &sig_len, OMNI__JWT_RS256, key,
                                     a2_signing_input, strlen(a2_signing_input)),
                 OMNI_OK);
    cr_assert_eq(sig_len, 256);
    char *b = b64u_enc(sig, sig_len);
    cr_assert_str_eq(b, a2_sig);
    omni_free(b);

    /* the same through PEM (PKCS#8 and traditional) and the loader */
    for (int form = PEM_PKCS8; form <= PEM_TRADITIONAL; form++) {
        char *pem = to_pem(key, form);
        EVP_PKEY *loaded = NULL;
        cr_assert_eq(omni__pkey_from_pem(&loaded, pem, strlen(pem), 1, "test key"), OMNI_OK);
        cr_assert_eq(omni__jws_sign_pkey(sig, sizeof(sig), &sig_len, OMNI__JWT_RS256, loaded,
                                         a2_signing_input, strlen(a2_signing_input)),
                     OMNI_OK);
        b = b64u_enc(sig, sig_len);
        cr_assert_str_eq(b, a2_sig);
        omni_free(b);
        EVP_PKEY_free(loaded);
        free(pem);
    }
    EVP_PKEY_free(key);
}

Test(jwt, rfc7515_a2_verify)
{
    EVP_PKEY *key = rfc_rsa_key();
    char token[1024];
    snprintf(token, sizeof(token), "%s.%s", a2_signing_input, a2_sig);
    int forms[] = {PEM_PUBLIC, PEM_PKCS8, PEM_TRADITIONAL, PEM_CERT};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char *pem = to_pem(key, forms[i]);
        char *out = NULL;
        int64_t now = RFC_EXP_MS - 1000;
        omni_engine *e = engine_at(&now);
        cr_assert_eq(omni_jwt_verify(&out, NULL, e, token, strlen(token), "RS256", pem,
                                     strlen(pem), 0),
                     OMNI_OK, "form %d: %s", forms[i], omni_error_last_message());
        cr_assert_str_eq(out, rfc_payload);
        omni_free(out);
        /* one flipped signature bit */
        char bad[1024];
        strcpy(bad, token);
        char *last = bad + strlen(bad) - 3;
        *last = *last == 'A' ? 'B' : 'A';
        cr_assert_eq(omni_jwt_verify(&out, NULL, e, bad, strlen(bad), "RS256", pem, strlen(pem),
                                     0),
                     OMNI_ESIGNATURE);
        omni_engine_free(e);
        free(pem);
    }
    EVP_PKEY_free(key);
}

/* A.3: the RFC's ES256 token verifies with the public key from x and y. */
Test(jwt, rfc7515_a3_verify)
{
    EVP_PKEY *key = rfc_ec_pub();
    cr_assert_eq(omni__pkey_check(key, OMNI__JWT_ES256), OMNI_OK);
    char *pem = to_pem(key, PEM_PUBLIC);
    cr_assert_eq(verify_pem(a3_token, "ES256", pem), OMNI_OK, "%s", omni_error_last_message());
    char *out = NULL;
    int64_t now = RFC_EXP_MS - 1000;
    omni_engine *e = engine_at(&now);
    cr_assert_eq(omni__jwt_verify_pkey(&out, NULL, e, a3_token, strlen(a3_token),
                                       OMNI__JWT_ES256, key, 0),
                 OMNI_OK);
    cr_assert_str_eq(out, rfc_payload);
    omni_free(out);
    omni_engine_free(e);

    /* the signature is the raw R||S given in A.3.1 */
    size_t n;
    uint8_t *sig = b64u_dec(strrchr(a3_token, '.') + 1, &n);
    cr_assert_eq(n, 64);
    cr_assert_eq(memcmp(sig, a3_r, 32), 0);
    cr_assert_eq(memcmp(sig + 32, a3_s, 32), 0);
    /* raw -> DER -> raw is the identity */
    uint8_t der[80], raw[64];
    size_t der_len = 0;
    cr_assert_eq(omni__ecdsa_raw_to_der(der, sizeof(der), &der_len, sig, 32), OMNI_OK);
    cr_assert_eq(der[0], 0x30);
    cr_assert_eq(omni__ecdsa_der_to_raw(raw, 32, der, der_len), OMNI_OK);
    cr_assert_eq(memcmp(raw, sig, 64), 0);
    /* too small a buffer, malformed DER, trailing bytes */
    cr_assert_eq(omni__ecdsa_raw_to_der(der, 8, &der_len, sig, 32), OMNI_EINVAL);
    cr_assert_eq(omni__ecdsa_der_to_raw(raw, 32, (const uint8_t *)"\x30\x02\x01", 3),
                 OMNI_ECRYPTO);
    uint8_t der2[81];
    cr_assert_eq(omni__ecdsa_raw_to_der(der2, sizeof(der2), &der_len, sig, 32), OMNI_OK);
    der2[der_len] = 0;
    cr_assert_eq(omni__ecdsa_der_to_raw(raw, 32, der2, der_len + 1), OMNI_ECRYPTO);
    /* a component too large for n bytes */
    cr_assert_eq(omni__ecdsa_der_to_raw(raw, 16, der2, der_len), OMNI_ECRYPTO);
    omni_free(sig);

    /* wrong signature length: the DER form instead of raw */
    char *dsig = b64u_enc(der, der_len);
    char token[512];
    snprintf(token, sizeof(token), "%.*s.%s", (int)(strrchr(a3_token, '.') - a3_token), a3_token,
             dsig);
    cr_assert_eq(verify_pem(token, "ES256", pem), OMNI_ESIGNATURE);
    omni_free(dsig);
    free(pem);
    EVP_PKEY_free(key);
}

/* ---- round trips --------------------------------------------------------- */

Test(jwt, hs256_roundtrip_exact)
{
    const char *secret = "my-hs256-secret";
    const char *claims = "{ \"sub\" : \"u1\", \"n\": 1.5, \"a\": [1, 2, {\"x\": null}],"
                         " \"s\": \"caf\\u00e9 \\\"q\\\"\" }";
    char *tok = NULL;
    size_t tok_len = 0;
    cr_assert_eq(omni_jwt_sign(&tok, &tok_len, "HS256", secret, strlen(secret),
                               "{\"kid\":\"key-1\",\"x5u\":null}", 26, claims, strlen(claims)),
                 OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(tok_len, strlen(tok));
    /* the header is exactly alg, typ, then the extra fields */
    char *hdr = token_part(tok, 0);
    cr_assert_str_eq(hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-1\",\"x5u\":null}");
    /* the claims are re-serialized compactly */
    char *body = token_part(tok, 1);
    cr_assert_str_eq(body, "{\"sub\":\"u1\",\"n\":1.5,\"a\":[1,2,{\"x\":null}],"
                           "\"s\":\"caf\xc3\xa9 \\\"q\\\"\"}");
    /* the whole token equals one built by hand */
    char *expect = hs256_token(hdr, body, secret);
    cr_assert_str_eq(tok, expect);
    char *out = NULL;
    size_t out_len;
    cr_assert_eq(omni_jwt_verify(&out, &out_len, NULL, tok, tok_len, "HS256", secret,
                                 strlen(secret), 0),
                 OMNI_OK);
    cr_assert_str_eq(out, body);
    cr_assert_eq(out_len, strlen(body));
    /* signing is deterministic */
    char *tok2 = NULL;
    cr_assert_eq(omni_jwt_sign(&tok2, NULL, "HS256", secret, strlen(secret),
                               "{\"kid\":\"key-1\",\"x5u\":null}", 26, claims, strlen(claims)),
                 OMNI_OK);
    cr_assert_str_eq(tok, tok2);
    /* no header_json: just alg and typ */
    omni_free(tok2);
    cr_assert_eq(omni_jwt_sign(&tok2, NULL, "HS256", secret, strlen(secret), NULL, 0, "{}", 2),
                 OMNI_OK);
    char *hdr2 = token_part(tok2, 0);
    cr_assert_str_eq(hdr2, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    char *expect2 = hs256_token(hdr2, "{}", secret);
    cr_assert_str_eq(tok2, expect2);
    cr_assert_eq(strncmp(tok2, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.", 41), 0);
    free(expect2);
    omni_free(hdr2);
    omni_free(tok2);
    omni_free(out);
    free(expect);
    omni_free(hdr);
    omni_free(body);
    omni_free(tok);
}

Test(jwt, rs256_roundtrip)
{
    EVP_PKEY *key = gen_rsa(2048);
    char *priv = to_pem(key, PEM_PKCS8), *trad = to_pem(key, PEM_TRADITIONAL);
    char *pub = to_pem(key, PEM_PUBLIC), *cert = to_pem(key, PEM_CERT);
    const char *claims = "{\"iss\":\"svc@example.iam.gserviceaccount.com\",\"iat\":1,\"exp\":"
                         "99999999999}";
    const char *signers[] = {priv, trad};
    const char *verifiers[] = {pub, cert, priv, trad};
    for (int s = 0; s < 2; s++) {
        char *tok = NULL;
        cr_assert_eq(omni_jwt_sign(&tok, NULL, "RS256", signers[s], strlen(signers[s]),
                                   "{\"kid\":\"k\"}", 11, claims, strlen(claims)),
                     OMNI_OK, "%s", omni_error_last_message());
        char *hdr = token_part(tok, 0);
        cr_assert_str_eq(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k\"}");
        omni_free(hdr);
        for (int v = 0; v < 4; v++) {
            char *out = NULL;
            cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, strlen(tok), "RS256",
                                         verifiers[v], strlen(verifiers[v]), 0),
                         OMNI_OK, "verifier %d: %s", v, omni_error_last_message());
            cr_assert_str_eq(out, claims);
            omni_free(out);
        }
        /* the signature part is 256 bytes */
        size_t n;
        uint8_t *sig = b64u_dec(strrchr(tok, '.') + 1, &n);
        cr_assert_eq(n, 256);
        omni_free(sig);
        omni_free(tok);
    }
    /* internal API with the loaded key */
    char *tok = NULL, *out = NULL;
    cr_assert_eq(omni__jwt_sign_pkey(&tok, NULL, OMNI__JWT_RS256, key, NULL, 0, claims,
                                     strlen(claims)),
                 OMNI_OK);
    cr_assert_eq(omni__jwt_verify_pkey(&out, NULL, NULL, tok, strlen(tok), OMNI__JWT_RS256, key,
                                       0),
                 OMNI_OK);
    omni_free(out);
    cr_assert_eq(omni__jwt_verify_pkey(&out, NULL, NULL, tok, strlen(tok), OMNI__JWT_ES256, key,
                                       0),
                 OMNI_EKEY);
    cr_assert_eq(omni__jwt_verify_pkey(&out, NULL, NULL, tok, strlen(tok), OMNI__JWT_HS256, key,
                                       0),
                 OMNI_EINVAL);
    cr_assert_eq(omni__jwt_sign_pkey(&out, NULL, OMNI__JWT_RS256, NULL, NULL, 0, "{}", 2),
                 OMNI_EINVAL);
    omni_free(tok);
    free(priv);
    free(trad);
    free(pub);
    free(cert);
    EVP_PKEY_free(key);
}

Test(jwt, es256_roundtrip)
{
    EVP_PKEY *key = gen_ec("P-256");
    char *priv = to_pem(key, PEM_PKCS8), *trad = to_pem(key, PEM_TRADITIONAL);
    char *pub = to_pem(key, PEM_PUBLIC), *cert = to_pem(key, PEM_CERT);
    /* "openssl ecparam -genkey" output: EC PARAMETERS before EC PRIVATE KEY */
    size_t pl = strlen(trad) + 128;
    char *with_params = malloc(pl);
    cr_assert_not_null(with_params);
    snprintf(with_params, pl, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
                              "-----END EC PARAMETERS-----\n%s", trad);
    const char *claims = "{\"iss\":\"TEAMID1234\",\"iat\":1700000000}";
    const char *signers[] = {priv, trad, with_params};
    const char *verifiers[] = {pub, cert, priv};
    for (int s = 0; s < 3; s++) {
        char *tok = NULL;
        cr_assert_eq(omni_jwt_sign(&tok, NULL, "ES256", signers[s], strlen(signers[s]),
                                   "{\"kid\":\"ABC123DEFG\"}", 20, claims, strlen(claims)),
                     OMNI_OK, "signer %d: %s", s, omni_error_last_message());
        size_t n;
        uint8_t *sig = b64u_dec(strrchr(tok, '.') + 1, &n);
        cr_assert_eq(n, 64, "ES256 signatures are raw R||S");
        omni_free(sig);
        for (int v = 0; v < 3; v++) {
            char *out = NULL;
            cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, strlen(tok), "ES256",
                                         verifiers[v], strlen(verifiers[v]), 0),
                         OMNI_OK, "verifier %d: %s", v, omni_error_last_message());
            cr_assert_str_eq(out, claims);
            omni_free(out);
        }
        /* a different key does not verify it */
        EVP_PKEY *other = gen_ec("P-256");
        char *opub = to_pem(other, PEM_PUBLIC);
        cr_assert_eq(verify_pem(tok, "ES256", opub), OMNI_ESIGNATURE);
        free(opub);
        EVP_PKEY_free(other);
        omni_free(tok);
    }
    free(with_params);
    free(priv);
    free(trad);
    free(pub);
    free(cert);
    EVP_PKEY_free(key);
}

/* ---- verify: malformed tokens and wrong algorithms ------------------------ */

Test(jwt, verify_structure_errors)
{
    const char *k = "secret";
    char *good = hs256_token("{\"alg\":\"HS256\"}", "{\"a\":1}", k);
    cr_assert_eq(verify_hs(good, k, NULL, 0), OMNI_OK);

    cr_assert_eq(verify_hs("", k, NULL, 0), OMNI_EENCODING);
    cr_assert_eq(verify_hs("abc", k, NULL, 0), OMNI_EENCODING);
    cr_assert_eq(verify_hs("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ", k, NULL, 0), OMNI_EENCODING);
    char four[512];
    snprintf(four, sizeof(four), "%s.AAAA", good);
    cr_assert_eq(verify_hs(four, k, NULL, 0), OMNI_EENCODING);
    snprintf(four, sizeof(four), "%s.", good);
    cr_assert_eq(verify_hs(four, k, NULL, 0), OMNI_EENCODING);
    /* empty parts */
    cr_assert_eq(verify_hs("..", k, NULL, 0), OMNI_EJSON);

    /* truncated signature: 43 -> 40 characters (30 bytes, canonical) */
    char trunc[512];
    strcpy(trunc, good);
    trunc[strlen(trunc) - 3] = '\0';
    cr_assert_eq(verify_hs(trunc, k, NULL, 0), OMNI_ESIGNATURE);
    /* truncated to 37 characters: no base64url length */
    trunc[strlen(trunc) - 3] = '\0';
    cr_assert_eq(verify_hs(trunc, k, NULL, 0), OMNI_EENCODING);
    /* truncated inside the payload: 2 parts */
    strcpy(trunc, good);
    *strrchr(trunc, '.') = '\0';
    cr_assert_eq(verify_hs(trunc, k, NULL, 0), OMNI_EENCODING);

    /* bad base64url: standard alphabet, padding, whitespace, bad trailing bits */
    char bad[512];
    strcpy(bad, good);
    bad[3] = '+';
    cr_assert_eq(verify_hs(bad, k, NULL, 0), OMNI_EENCODING);
    strcpy(bad, good);
    bad[3] = '/';
    cr_assert_eq(verify_hs(bad, k, NULL, 0), OMNI_EENCODING);
    strcpy(bad, good);
    bad[3] = ' ';
    cr_assert_eq(verify_hs(bad, k, NULL, 0), OMNI_EENCODING);
    cr_assert_eq(verify_hs("eyJhbGciOiJIUzI1NiJ9=.eyJhIjoxfQ.AAAA", k, NULL, 0),
                 OMNI_EENCODING);
    /* "eyJhIjoxfQ" ends in Q (trailing bits 0); R has a non-zero trailing bit */
    cr_assert_eq(verify_hs("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfR.AAAA", k, NULL, 0),
                 OMNI_EENCODING);
    /* a signature of 43 + 2 characters (length % 4 == 1) */
    snprintf(bad, sizeof(bad), "%sAA", good);
    cr_assert_eq(verify_hs(bad, k, NULL, 0), OMNI_EENCODING);
    /* 43 + 1 characters: 33 bytes, a wrong length */
    snprintf(bad, sizeof(bad), "%sA", good);
    cr_assert_eq(verify_hs(bad, k, NULL, 0), OMNI_ESIGNATURE);
    /* NUL byte inside the token */
    char nul[] = "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.AA\0A";
    char *out = NULL;
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, nul, sizeof(nul) - 1, "HS256", k, 6, 0),
                 OMNI_EENCODING);

    /* tampered payload: another payload with the original signature */
    char *other = hs256_token("{\"alg\":\"HS256\"}", "{\"a\":2}", k);
    char tampered[512];
    size_t head = (size_t)(strrchr(other, '.') - other);
    snprintf(tampered, sizeof(tampered), "%.*s%s", (int)head, other, strrchr(good, '.'));
    cr_assert_eq(verify_hs(tampered, k, NULL, 0), OMNI_ESIGNATURE);
    /* one character of the payload changed (still canonical base64url) */
    strcpy(tampered, good);
    char *p = strchr(tampered, '.') + 1;
    *p = *p == 'e' ? 'f' : 'e';
    int rc = verify_hs(tampered, k, NULL, 0);
    cr_assert(rc == OMNI_ESIGNATURE, "rc %d", rc);
    free(other);
    free(good);
}

Test(jwt, verify_header_errors)
{
    const char *k = "secret";
    struct {
        const char *header;
        int want;
    } cases[] = {
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", OMNI_OK},
        {"{\"alg\":\"HS256\",\"kid\":\"x\",\"typ\":\"at+jwt\"}", OMNI_OK},
        {"[\"alg\",\"HS256\"]", OMNI_EJSON},
        {"\"HS256\"", OMNI_EJSON},
        {"null", OMNI_EJSON},
        {"{\"alg\":\"HS256\"", OMNI_EJSON},
        {"not json", OMNI_EJSON},
        {"{\"alg\":\"HS256\",\"alg\":\"none\"}", OMNI_EJSON},
        {"{\"alg\":\"HS256\\u0000x\"}", OMNI_EJSON},
        {"{}", OMNI_ESIGNATURE},
        {"{\"typ\":\"JWT\"}", OMNI_ESIGNATURE},
        {"{\"alg\":256}", OMNI_ESIGNATURE},
        {"{\"alg\":null}", OMNI_ESIGNATURE},
        {"{\"alg\":\"none\"}", OMNI_ESIGNATURE},
        {"{\"alg\":\"hs256\"}", OMNI_ESIGNATURE},
        {"{\"alg\":\"HS512\"}", OMNI_ESIGNATURE},
        {"{\"alg\":\"RS256\"}", OMNI_ESIGNATURE},
        {"{\"Alg\":\"HS256\"}", OMNI_ESIGNATURE},
        {"{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", OMNI_EUNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *tok = hs256_token(cases[i].header, "{\"a\":1}", k);
        int rc = verify_hs(tok, k, NULL, 0);
        cr_assert_eq(rc, cases[i].want, "header %s: rc %d, want %d", cases[i].header, rc,
                     cases[i].want);
        free(tok);
    }
}

/* "none" is refused, with or without a signature part, and as a parameter */
Test(jwt, verify_none)
{
    /* RFC 7515 A.5: an unsecured JWS */
    const char *a5 = "eyJhbGciOiJub25lIn0"
                     ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
                     "bS9pc19yb290Ijp0cnVlfQ.";
    cr_assert_eq(verify_hs(a5, "secret", NULL, 0), OMNI_ESIGNATURE);
    char *out = NULL;
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, a5, strlen(a5), "none", "", 0, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, a5, strlen(a5), "none", "k", 1, 0),
                 OMNI_EINVAL);
    char *tok = hs256_token("{\"alg\":\"none\"}", "{}", "secret");
    cr_assert_eq(verify_hs(tok, "secret", NULL, 0), OMNI_ESIGNATURE);
    free(tok);
}

/* Algorithm confusion: an HS256 token whose secret is the RSA public key's
 * PEM text must not verify when RS256 is expected. */
Test(jwt, verify_alg_confusion)
{
    EVP_PKEY *key = rfc_rsa_key();
    char *pub = to_pem(key, PEM_PUBLIC);
    char *tok = hs256_token("{\"alg\":\"HS256\"}", "{\"admin\":true}", pub);
    cr_assert_eq(verify_pem(tok, "RS256", pub), OMNI_ESIGNATURE);
    cr_assert_eq(verify_pem(tok, "ES256", pub), OMNI_EKEY);
    /* and the RS256 token is not accepted as HS256 */
    char token[1024];
    snprintf(token, sizeof(token), "%s.%s", a2_signing_input, a2_sig);
    int64_t now = RFC_EXP_MS - 1000;
    cr_assert_eq(verify_hs(token, pub, &now, 0), OMNI_ESIGNATURE);
    free(tok);
    free(pub);
    EVP_PKEY_free(key);
}

Test(jwt, verify_payload_and_times)
{
    const char *k = "secret";
    const char *h = "{\"alg\":\"HS256\"}";
    int64_t now = 1700000000000LL;
    struct {
        const char *payload;
        int64_t leeway;
        int want;
    } cases[] = {
        {"{\"exp\":1700000001}", 0, OMNI_OK},
        {"{\"exp\":1700000000}", 0, OMNI_EEXPIRED},
        {"{\"exp\":1699999999}", 0, OMNI_EEXPIRED},
        {"{\"exp\":1699999999}", 1, OMNI_EEXPIRED},
        {"{\"exp\":1699999999}", 2, OMNI_OK},
        {"{\"exp\":1699999990.5}", 10, OMNI_OK},
        {"{\"exp\":1700000000.001}", 0, OMNI_OK},
        {"{\"exp\":0}", 0, OMNI_EEXPIRED},
        {"{\"exp\":-1e300}", 1000000000, OMNI_EEXPIRED},
        {"{\"exp\":1e300}", 0, OMNI_OK},
        {"{\"nbf\":1700000000}", 0, OMNI_OK},
        {"{\"nbf\":1700000001}", 0, OMNI_ENOTYET},
        {"{\"nbf\":1700000030}", 29, OMNI_ENOTYET},
        {"{\"nbf\":1700000030}", 30, OMNI_OK},
        {"{\"nbf\":1699999999,\"exp\":1700000001}", 0, OMNI_OK},
        {"{\"nbf\":1700000005,\"exp\":1700000001}", 0, OMNI_ENOTYET},
        {"{\"exp\":\"1800000000\"}", 0, OMNI_EJSON},
        {"{\"exp\":null}", 0, OMNI_EJSON},
        {"{\"nbf\":true}", 0, OMNI_EJSON},
        {"{\"nbf\":[1]}", 0, OMNI_EJSON},
        {"{\"iat\":\"whenever\"}", 0, OMNI_OK},
        {"[1,2]", 0, OMNI_EJSON},
        {"\"claims\"", 0, OMNI_EJSON},
        {"{\"a\":1,\"a\":2}", 0, OMNI_EJSON},
        {"{\"a\":", 0, OMNI_EJSON},
        {"", 0, OMNI_EJSON},
        {"{\"a\":\"\xff\"}", 0, OMNI_EJSON},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *tok = hs256_token(h, cases[i].payload, k);
        int rc = verify_hs(tok, k, &now, cases[i].leeway);
        cr_assert_eq(rc, cases[i].want, "payload %s leeway %lld: rc %d, want %d",
                     cases[i].payload, (long long)cases[i].leeway, rc, cases[i].want);
        free(tok);
    }
}

Test(jwt, verify_argument_errors)
{
    char *out = (char *)0x1;
    const char *tok = "a.b.c";
    cr_assert_eq(omni_jwt_verify(NULL, NULL, NULL, tok, 5, "HS256", "k", 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, NULL, 5, "HS256", "k", 1, 0), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, NULL, "k", 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, "HS384", "k", 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, "hs256", "k", 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, "HS256", "k", 1, -1), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, "HS256", NULL, 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, "HS256", NULL, 0, 0), OMNI_EKEY);
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, 5, "HS256", "", 0, 0), OMNI_EKEY);
    /* oversized token */
    size_t big = OMNI_JWT_MAX_BYTES + 1;
    char *huge = malloc(big);
    cr_assert_not_null(huge);
    memset(huge, 'A', big);
    huge[10] = '.';
    huge[20] = '.';
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, huge, big, "HS256", "k", 1, 0),
                 OMNI_ETOOLARGE);
    /* exactly at the limit is parsed (and fails for other reasons) */
    int rc = omni_jwt_verify(&out, NULL, NULL, huge, big - 1, "HS256", "k", 1, 0);
    cr_assert(rc != OMNI_ETOOLARGE && rc != OMNI_OK, "rc %d", rc);
    free(huge);
}

/* ---- keys ----------------------------------------------------------------- */

Test(jwt, key_errors)
{
    const char *claims = "{\"a\":1}";
    char *tok = NULL;
    EVP_PKEY *rsa1024 = gen_rsa(1024);
    EVP_PKEY *p384 = gen_ec("P-384");
    EVP_PKEY *p256 = gen_ec("P-256");
    EVP_PKEY *rsa = rfc_rsa_key();
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    cr_assert_not_null(ed);
    char *rsa1024_priv = to_pem(rsa1024, PEM_PKCS8), *rsa1024_pub = to_pem(rsa1024, PEM_PUBLIC);
    char *p384_priv = to_pem(p384, PEM_PKCS8), *p384_pub = to_pem(p384, PEM_PUBLIC);
    char *p256_priv = to_pem(p256, PEM_PKCS8), *p256_pub = to_pem(p256, PEM_PUBLIC);
    char *rsa_priv = to_pem(rsa, PEM_PKCS8), *rsa_pub = to_pem(rsa, PEM_PUBLIC);
    char *ed_priv = to_pem(ed, PEM_PKCS8);
    char *enc = to_pem(p256, PEM_ENCRYPTED);
    struct {
        const char *alg;
        const char *pem;
        int want;
    } sign_cases[] = {
        {"RS256", rsa1024_priv, OMNI_EKEY}, /* RSA below 2048 bits */
        {"RS256", p256_priv, OMNI_EKEY},    /* wrong key type */
        {"RS256", ed_priv, OMNI_EKEY},
        {"ES256", rsa_priv, OMNI_EKEY},
        {"ES256", p384_priv, OMNI_EKEY}, /* P-384 for ES256 */
        {"ES256", ed_priv, OMNI_EKEY},
        {"ES256", p256_pub, OMNI_EKEY}, /* signing needs the private key */
        {"RS256", rsa_pub, OMNI_EKEY},
        {"ES256", enc, OMNI_EKEY}, /* encrypted: never prompts */
        {"ES256", "not a pem key", OMNI_EKEY},
        {"ES256", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", OMNI_EKEY},
        {"ES256", "", OMNI_EKEY},
        {"RS256", rsa_priv, OMNI_OK},
        {"ES256", p256_priv, OMNI_OK},
    };
    for (size_t i = 0; i < sizeof(sign_cases) / sizeof(sign_cases[0]); i++) {
        int rc = omni_jwt_sign(&tok, NULL, sign_cases[i].alg, sign_cases[i].pem,
                               strlen(sign_cases[i].pem), NULL, 0, claims, strlen(claims));
        cr_assert_eq(rc, sign_cases[i].want, "sign case %zu: rc %d (%s)", i, rc,
                     omni_error_last_message());
        if (rc) {
            cr_assert_null(tok);
            /* never any key material in the message */
            const char *body = strchr(sign_cases[i].pem, '\n');
            if (body && strlen(body) > 17) {
                char chunk[17];
                memcpy(chunk, body + 1, 16);
                chunk[16] = '\0';
                cr_assert_null(strstr(omni_error_last_message(), chunk));
            }
        }
        omni_free(tok);
        tok = NULL;
    }
    /* verify with unusable keys */
    const char *any = "eyJhbGciOiJFUzI1NiJ9.e30.AAAA";
    cr_assert_eq(verify_pem(any, "ES256", p384_pub), OMNI_EKEY);
    cr_assert_eq(verify_pem(any, "ES256", rsa_pub), OMNI_EKEY);
    cr_assert_eq(verify_pem(any, "RS256", rsa1024_pub), OMNI_EKEY);
    cr_assert_eq(verify_pem(any, "RS256", p256_pub), OMNI_EKEY);
    cr_assert_eq(verify_pem(any, "RS256", "garbage"), OMNI_EKEY);
    cr_assert_eq(verify_pem(any, "ES256", p256_pub), OMNI_ESIGNATURE);
    /* RS256 signature of the wrong length */
    char token[1024];
    snprintf(token, sizeof(token), "%s.AAAA", a2_signing_input);
    cr_assert_eq(verify_pem(token, "RS256", rsa_pub), OMNI_ESIGNATURE);
    /* a PEM larger than the limit */
    size_t big = OMNI__PEM_MAX_BYTES + 1;
    char *huge = malloc(big + 1);
    cr_assert_not_null(huge);
    memset(huge, 'A', big);
    memcpy(huge, "-----BEGIN PUBLIC KEY-----\n", 27);
    huge[big] = '\0';
    cr_assert_eq(verify_pem(any, "ES256", huge), OMNI_ETOOLARGE);
    free(huge);
    /* the internal checks */
    cr_assert_eq(omni__pkey_check(rsa1024, OMNI__JWT_RS256), OMNI_EKEY);
    cr_assert_eq(omni__pkey_check(p384, OMNI__JWT_ES256), OMNI_EKEY);
    cr_assert_eq(omni__pkey_check(p256, OMNI__JWT_ES256), OMNI_OK);
    cr_assert_eq(omni__pkey_check(p256, OMNI__JWT_HS256), OMNI_EINVAL);
    cr_assert_eq(omni__pkey_check(NULL, OMNI__JWT_ES256), OMNI_EINVAL);
    EVP_PKEY *loaded = (EVP_PKEY *)0x1;
    cr_assert_eq(omni__pkey_from_pem(&loaded, p256_pub, strlen(p256_pub), 1, NULL), OMNI_EKEY);
    cr_assert_null(loaded);
    cr_assert_eq(omni__pkey_from_pem(&loaded, NULL, 5, 0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__pkey_from_pem(NULL, p256_pub, strlen(p256_pub), 0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__pkey_from_pem(&loaded, p256_pub, strlen(p256_pub), 0, NULL), OMNI_OK);
    EVP_PKEY_free(loaded);
    /* signing with a public-only loaded key fails cleanly */
    EVP_PKEY *pub_only = rfc_ec_pub();
    uint8_t sig[64];
    size_t sig_len;
    cr_assert_eq(omni__jws_sign_pkey(sig, sizeof(sig), &sig_len, OMNI__JWT_ES256, pub_only, "x",
                                     1),
                 OMNI_ECRYPTO);
    cr_assert_eq(omni__jws_sign_pkey(sig, 10, &sig_len, OMNI__JWT_ES256, p256, "x", 1),
                 OMNI_EINVAL);
    cr_assert_eq(omni__jws_sign_pkey(sig, sizeof(sig), &sig_len, OMNI__JWT_HS256, p256, "x", 1),
                 OMNI_EINVAL);
    EVP_PKEY_free(pub_only);

    free(rsa1024_priv);
    free(rsa1024_pub);
    free(p384_priv);
    free(p384_pub);
    free(p256_priv);
    free(p256_pub);
    free(rsa_priv);
    free(rsa_pub);
    free(ed_priv);
    free(enc);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ed);
}

/* ---- sign: argument and document errors ----------------------------------- */

Test(jwt, sign_errors)
{
    const char *k = "a-very-secret-hmac-key";
    char *tok = (char *)0x1;
    struct {
        const char *header;
        const char *claims;
        int want;
    } cases[] = {
        {NULL, "{\"a\":1}", OMNI_OK},
        {NULL, "[1]", OMNI_EJSON},
        {NULL, "\"x\"", OMNI_EJSON},
        {NULL, "", OMNI_EJSON},
        {NULL, "{\"a\":", OMNI_EJSON},
        {NULL, "{\"a\":1,\"a\":2}", OMNI_EJSON},
        {NULL, "{\"a\":\"x\\u0000y\"}", OMNI_EJSON},
        {NULL, "{\"a\":\"x\\\\u0000y\"}", OMNI_OK}, /* an escaped backslash, not a NUL */
        {"[]", "{}", OMNI_EJSON},
        {"{\"kid\":1,\"kid\":2}", "{}", OMNI_EJSON},
        {"{\"alg\":\"none\"}", "{}", OMNI_EINVAL},
        {"{\"typ\":\"at+jwt\"}", "{}", OMNI_EINVAL},
        {"{\"kid\":\"a\\u0000\"}", "{}", OMNI_EJSON},
        {"{}", "{}", OMNI_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *h = cases[i].header;
        int rc = omni_jwt_sign(&tok, NULL, "HS256", k, strlen(k), h, h ? strlen(h) : 0,
                               cases[i].claims, strlen(cases[i].claims));
        cr_assert_eq(rc, cases[i].want, "case %zu: rc %d (%s)", i, rc,
                     omni_error_last_message());
        if (rc)
            cr_assert_null(tok);
        cr_assert_null(strstr(omni_error_last_message(), k));
        omni_free(tok);
        tok = NULL;
    }
    cr_assert_eq(omni_jwt_sign(NULL, NULL, "HS256", k, strlen(k), NULL, 0, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "none", k, strlen(k), NULL, 0, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, NULL, k, strlen(k), NULL, 0, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "PS256", k, strlen(k), NULL, 0, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, strlen(k), NULL, 0, NULL, 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, strlen(k), NULL, 3, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", NULL, 3, NULL, 0, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, 0, NULL, 0, "{}", 2), OMNI_EKEY);
    cr_assert_null(tok);
}

Test(jwt, sign_too_large)
{
    const char *k = "k";
    char *tok = NULL;
    /* claims over the limit before any parsing */
    size_t n = OMNI_JWT_MAX_BYTES + 1;
    char *claims = malloc(n + 1);
    cr_assert_not_null(claims);
    memset(claims, ' ', n);
    claims[0] = '{';
    claims[n - 1] = '}';
    claims[n] = '\0';
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, 1, NULL, 0, claims, n), OMNI_ETOOLARGE);
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, 1, claims, n, "{}", 2), OMNI_ETOOLARGE);
    /* claims within the limit whose token (base64url: 4/3 larger) is not */
    size_t m = 50000;
    char *c2 = malloc(m + 16);
    cr_assert_not_null(c2);
    strcpy(c2, "{\"s\":\"");
    memset(c2 + 6, 'x', m);
    strcpy(c2 + 6 + m, "\"}");
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, 1, NULL, 0, c2, strlen(c2)),
                 OMNI_ETOOLARGE);
    cr_assert_null(tok);
    /* a smaller one fits and verifies */
    strcpy(c2 + 6 + 40000, "\"}");
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", k, 1, NULL, 0, c2, strlen(c2)), OMNI_OK);
    char *out = NULL;
    cr_assert_eq(omni_jwt_verify(&out, NULL, NULL, tok, strlen(tok), "HS256", k, 1, 0), OMNI_OK);
    cr_assert_str_eq(out, c2);
    omni_free(out);
    omni_free(tok);
    free(c2);
    free(claims);
}

Test(jwt, alg_names)
{
    cr_assert_eq(omni__jwt_alg_from_name("HS256"), OMNI__JWT_HS256);
    cr_assert_eq(omni__jwt_alg_from_name("RS256"), OMNI__JWT_RS256);
    cr_assert_eq(omni__jwt_alg_from_name("ES256"), OMNI__JWT_ES256);
    cr_assert_eq(omni__jwt_alg_from_name("none"), 0);
    cr_assert_eq(omni__jwt_alg_from_name("es256"), 0);
    cr_assert_eq(omni__jwt_alg_from_name(NULL), 0);
    cr_assert_str_eq(omni__jwt_alg_name(OMNI__JWT_ES256), "ES256");
    cr_assert_null(omni__jwt_alg_name(0));
}
