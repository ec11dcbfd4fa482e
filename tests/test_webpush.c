/* Tests of Web Push message encryption (RFC 8291), the aes128gcm content
 * coding (RFC 8188), P-256 key pairs and VAPID headers (RFC 8292). */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <omni/omni.h>

#include "lib/core/crypto_internal.h"
#include "lib/push/push_internal.h"

/* ---- helpers ---------------------------------------------------------------------- */

static size_t b64(uint8_t *out, size_t cap, const char *text)
{
    uint8_t *d = NULL;
    size_t n = 0;
    cr_assert_eq(omni_base64url_decode(&d, &n, text, strlen(text)), OMNI_OK, "%s", text);
    cr_assert_leq(n, cap);
    memcpy(out, d, n);
    omni_free(d);
    return n;
}

static char *enc64(const uint8_t *data, size_t len)
{
    char *s = NULL;
    cr_assert_eq(omni_base64url_encode(&s, NULL, data, len), OMNI_OK);
    return s;
}

/* RFC 8291 Appendix A: the push message encryption example. */
#define A_PLAINTEXT "When I grow up, I want to be a watermelon"
#define A_AS_PUBLIC                                                                        \
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
#define A_AS_PRIVATE "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
#define A_UA_PUBLIC                                                                        \
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define A_UA_PRIVATE "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
#define A_SALT "DGv6ra1nlYgDCS1FRnbzlw"
#define A_AUTH "BTBZMqHH6r4Tts7J_aSIgg"
#define A_BODY                                                                             \
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocIn" \
    "mYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNW" \
    "QexSgSxsj_Qulcy4a-fN"

/* RFC 8188 section 3.1 (one record) and 3.2 (multiple records, rs 25,
 * keyid "a1"), with 3.1's published intermediate CEK and NONCE. */
#define E1_IKM "yqdlZ-tYemfogSmv7Ws5PQ"
#define E1_SALT "I1BsxtFttlv3u_Oo94xnmw"
#define E1_BODY "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg"
#define E1_CEK "_wniytB-ofscZDh4tbSjHw"
#define E1_NONCE "Bcs8gkIRKLI8GeI8"
#define E2_IKM "BO3ZVPxUlnLORbVGMpbT1Q"
#define E2_BODY                                                                            \
    "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEp" \
    "gz3SsLWIqS_uA"

typedef struct vec {
    uint8_t as_pub[65], as_priv[32], ua_pub[65], ua_priv[32], salt[16], auth[16];
    uint8_t body[256];
    size_t body_len;
} vec;

static void load_a(vec *v)
{
    cr_assert_eq(b64(v->as_pub, 65, A_AS_PUBLIC), 65);
    cr_assert_eq(b64(v->as_priv, 32, A_AS_PRIVATE), 32);
    cr_assert_eq(b64(v->ua_pub, 65, A_UA_PUBLIC), 65);
    cr_assert_eq(b64(v->ua_priv, 32, A_UA_PRIVATE), 32);
    cr_assert_eq(b64(v->salt, 16, A_SALT), 16);
    cr_assert_eq(b64(v->auth, 16, A_AUTH), 16);
    v->body_len = b64(v->body, sizeof(v->body), A_BODY);
}

/* One aes128gcm record sealed by hand with the RFC 8188 3.1 CEK/NONCE. */
static size_t seal(uint8_t *out, uint64_t seq, const void *plain, size_t len)
{
    uint8_t cek[16], nonce[12];
    cr_assert_eq(b64(cek, 16, E1_CEK), 16);
    cr_assert_eq(b64(nonce, 12, E1_NONCE), 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int w = 0;
    cr_assert(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, cek, nonce) == 1);
    cr_assert(EVP_EncryptUpdate(c, out, &w, plain, (int)len) == 1);
    cr_assert(EVP_EncryptFinal_ex(c, out + len, &w) == 1);
    cr_assert(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + len) == 1);
    EVP_CIPHER_CTX_free(c);
    return len + 16;
}

/* The 3.1 header (salt, rs, empty keyid) followed by records. */
static size_t e1_header(uint8_t *out, uint32_t rs)
{
    cr_assert_eq(b64(out, 16, E1_SALT), 16);
    out[16] = (uint8_t)(rs >> 24);
    out[17] = (uint8_t)(rs >> 16);
    out[18] = (uint8_t)(rs >> 8);
    out[19] = (uint8_t)rs;
    out[20] = 0;
    return 21;
}

static int ece_dec(const uint8_t *body, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t ikm[16];
    b64(ikm, 16, E1_IKM);
    return omni__ece_decrypt(out, out_len, body, len, ikm, 16);
}

/* ---- RFC 8291 ------------------------------------------------------------------------ */

Test(webpush, rfc8291_appendix_a_encrypt_byte_for_byte)
{
    vec v;
    load_a(&v);
    uint8_t *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_webpush_encrypt(&out, &n, (const uint8_t *)A_PLAINTEXT,
                                      strlen(A_PLAINTEXT), v.ua_pub, v.auth, v.salt, v.as_priv,
                                      0),
                 OMNI_OK);
    cr_assert_eq(n, v.body_len);
    cr_assert_eq(n, 144);
    cr_assert_arr_eq(out, v.body, n);
    /* header: salt, rs 4096, idlen 65, keyid = as_public (RFC 8291 section 4) */
    cr_assert_eq(out[16] << 24 | out[17] << 16 | out[18] << 8 | out[19], 4096);
    cr_assert_eq(out[20], 65);
    cr_assert_arr_eq(out + 21, v.as_pub, 65);
    omni_free(out);
    /* record_size 4096 given explicitly is the same */
    cr_assert_eq(omni_webpush_encrypt(&out, &n, (const uint8_t *)A_PLAINTEXT,
                                      strlen(A_PLAINTEXT), v.ua_pub, v.auth, v.salt, v.as_priv,
                                      4096),
                 OMNI_OK);
    cr_assert_arr_eq(out, v.body, n);
    omni_free(out);
}

Test(webpush, rfc8291_appendix_a_decrypt)
{
    vec v;
    load_a(&v);
    uint8_t *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, v.ua_priv, v.auth), OMNI_OK);
    cr_assert_eq(n, strlen(A_PLAINTEXT));
    cr_assert_arr_eq(out, A_PLAINTEXT, n);
    cr_assert_eq(out[n], 0);
    omni_free(out);
}

Test(webpush, rfc8291_keys_derive_their_public_keys)
{
    vec v;
    load_a(&v);
    uint8_t pub[65];
    EVP_PKEY *k = NULL;
    cr_assert_eq(omni__p256_pkey_from_private(&k, pub, v.as_priv), OMNI_OK);
    cr_assert_arr_eq(pub, v.as_pub, 65);
    EVP_PKEY_free(k);
    cr_assert_eq(omni__p256_pkey_from_private(&k, pub, v.ua_priv), OMNI_OK);
    cr_assert_arr_eq(pub, v.ua_pub, 65);
    EVP_PKEY_free(k);
    cr_assert_eq(omni__p256_pkey_from_public(&k, v.ua_pub), OMNI_OK);
    EVP_PKEY_free(k);
    uint8_t bad[65];
    memcpy(bad, v.ua_pub, 65);
    bad[64] ^= 1;
    cr_assert_eq(omni__p256_pkey_from_public(&k, bad), OMNI_EKEY);
    cr_assert_eq(omni__p256_pkey_from_public(NULL, bad), OMNI_EINVAL);
    uint8_t zero[32] = {0};
    cr_assert_eq(omni__p256_pkey_from_private(&k, pub, zero), OMNI_EKEY);
    cr_assert_eq(omni__p256_pkey_from_private(NULL, pub, zero), OMNI_EINVAL);
}

/* ---- RFC 8188 ------------------------------------------------------------------------ */

Test(webpush, rfc8188_3_1_single_record)
{
    uint8_t body[64], ikm[16], salt[16];
    size_t blen = b64(body, sizeof(body), E1_BODY);
    cr_assert_eq(blen, 53);
    b64(ikm, 16, E1_IKM);
    b64(salt, 16, E1_SALT);
    uint8_t *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni__ece_decrypt(&out, &n, body, blen, ikm, 16), OMNI_OK);
    cr_assert_eq(n, 15);
    cr_assert_arr_eq(out, "I am the walrus", 15);
    omni_free(out);
    /* and encryption reproduces the body */
    cr_assert_eq(omni__ece_encrypt(&out, &n, (const uint8_t *)"I am the walrus", 15, ikm, 16,
                                   salt, 4096, NULL, 0),
                 OMNI_OK);
    cr_assert_eq(n, blen);
    cr_assert_arr_eq(out, body, n);
    omni_free(out);
    /* the published CEK and NONCE: a record sealed with them decrypts */
    uint8_t b2[64];
    size_t l = e1_header(b2, 4096);
    l += seal(b2 + l, 0, "I am the walrus\x02", 16);
    cr_assert_arr_eq(b2, body, blen);
}

Test(webpush, rfc8188_3_2_multiple_records)
{
    uint8_t body[128], ikm[16];
    size_t blen = b64(body, sizeof(body), E2_BODY);
    cr_assert_eq(blen, 73);
    b64(ikm, 16, E2_IKM);
    omni__ece_header h;
    cr_assert_eq(omni__ece_parse_header(&h, body, blen), OMNI_OK);
    cr_assert_eq(h.rs, 25);
    cr_assert_eq(h.keyid_len, 2);
    cr_assert_arr_eq(h.keyid, "a1", 2);
    uint8_t *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni__ece_decrypt(&out, &n, body, blen, ikm, 16), OMNI_OK);
    cr_assert_eq(n, 15);
    cr_assert_arr_eq(out, "I am the walrus", 15);
    omni_free(out);
    /* truncated after the first record: its delimiter is 0x01 */
    cr_assert_eq(omni__ece_decrypt(&out, &n, body, 23 + 25, ikm, 16), OMNI_EENCODING);
    /* the second record alone (sequence 0 then) does not authenticate */
    uint8_t swapped[128];
    memcpy(swapped, body, 23);
    memcpy(swapped + 23, body + 48, 25);
    memcpy(swapped + 48, body + 23, 25);
    cr_assert_eq(omni__ece_decrypt(&out, &n, swapped, blen, ikm, 16), OMNI_ESIGNATURE);
    /* a wrong IKM */
    ikm[0] ^= 1;
    cr_assert_eq(omni__ece_decrypt(&out, &n, body, blen, ikm, 16), OMNI_ESIGNATURE);
}

Test(webpush, ece_multi_record_round_trip)
{
    uint8_t ikm[16], salt[16];
    b64(ikm, 16, E1_IKM);
    b64(salt, 16, E1_SALT);
    uint8_t plain[300];
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    size_t lens[] = {0, 1, 2, 32, 33, 299, 300};
    uint32_t rss[] = {18, 19, 49, 50, 4096};
    for (size_t a = 0; a < sizeof(lens) / sizeof(lens[0]); a++) {
        for (size_t r = 0; r < sizeof(rss) / sizeof(rss[0]); r++) {
            uint8_t *body = NULL, *out = NULL;
            size_t blen = 0, n = 0;
            cr_assert_eq(omni__ece_encrypt(&body, &blen, plain, lens[a], ikm, 16, salt, rss[r],
                                           (const uint8_t *)"k", 1),
                         OMNI_OK);
            cr_assert_eq(omni__ece_decrypt(&out, &n, body, blen, ikm, 16), OMNI_OK,
                         "len %zu rs %u", lens[a], rss[r]);
            cr_assert_eq(n, lens[a]);
            if (n)
                cr_assert_arr_eq(out, plain, n);
            omni_free(out);
            omni_free(body);
        }
    }
}

Test(webpush, ece_padding_and_delimiters)
{
    uint8_t body[256], *out = NULL;
    size_t n = 0, l;

    /* padding zeros after the delimiter are removed */
    l = e1_header(body, 4096);
    l += seal(body + l, 0, "xy\x02\0\0\0", 6);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_OK);
    cr_assert_eq(n, 2);
    cr_assert_arr_eq(out, "xy", 2);
    omni_free(out);

    /* a record of only padding delimiter: empty plaintext */
    l = e1_header(body, 4096);
    l += seal(body + l, 0, "\x02", 1);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_OK);
    cr_assert_eq(n, 0);
    omni_free(out);

    /* bad delimiter 0x03 */
    l = e1_header(body, 4096);
    l += seal(body + l, 0, "xy\x03", 3);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_EENCODING);

    /* non-zero after what would be the delimiter */
    l = e1_header(body, 4096);
    l += seal(body + l, 0, "x\x02\0\x05", 4);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_EENCODING);

    /* only zeros: no delimiter */
    l = e1_header(body, 4096);
    l += seal(body + l, 0, "\0\0", 2);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_EENCODING);

    /* a single record with delimiter 0x01: truncated */
    l = e1_header(body, 4096);
    l += seal(body + l, 0, "x\x01", 2);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_EENCODING);

    /* a record after the last (rs 18: two plaintext bytes + tag each) */
    l = e1_header(body, 18);
    l += seal(body + l, 0, "\x02\0", 2);
    l += seal(body + l, 1, "\x02", 1);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_EENCODING);

    /* rs 18 records with 0x01 then 0x02 (padding-only records) */
    l = e1_header(body, 18);
    l += seal(body + l, 0, "\x01\0", 2);
    l += seal(body + l, 1, "\x02", 1);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_OK);
    cr_assert_eq(n, 0);
    omni_free(out);

    /* a 16-byte trailing record (tag only) */
    l = e1_header(body, 18);
    l += seal(body + l, 0, "\x01\0", 2);
    l += seal(body + l, 1, "", 0);
    cr_assert_eq(ece_dec(body, l, &out, &n), OMNI_EENCODING);
}

Test(webpush, ece_malformed_headers)
{
    uint8_t body[64], *out = NULL, ikm[16];
    size_t n = 0, blen = b64(body, sizeof(body), E1_BODY);
    b64(ikm, 16, E1_IKM);
    /* shorter than the 21-byte header */
    for (size_t l = 0; l < 21; l++)
        cr_assert_eq(omni__ece_decrypt(&out, &n, body, l, ikm, 16), OMNI_EENCODING);
    /* header only */
    cr_assert_eq(omni__ece_decrypt(&out, &n, body, 21, ikm, 16), OMNI_EENCODING);
    /* every truncation fails */
    for (size_t l = 22; l < blen; l++)
        cr_assert_neq(omni__ece_decrypt(&out, &n, body, l, ikm, 16), OMNI_OK);
    /* trailing garbage: another, unauthenticated record */
    uint8_t more[80];
    memcpy(more, body, blen);
    memset(more + blen, 0xAA, 20);
    cr_assert_neq(omni__ece_decrypt(&out, &n, more, blen + 20, ikm, 16), OMNI_OK);
    /* rs below 18 */
    uint8_t bad[64];
    memcpy(bad, body, blen);
    bad[19] = 17;
    bad[18] = 0;
    cr_assert_eq(omni__ece_decrypt(&out, &n, bad, blen, ikm, 16), OMNI_EENCODING);
    /* a key id longer than the body */
    memcpy(bad, body, blen);
    bad[20] = 200;
    cr_assert_eq(omni__ece_decrypt(&out, &n, bad, blen, ikm, 16), OMNI_EENCODING);
    /* every single bit flip in the record is caught */
    for (size_t i = 21; i < blen; i++) {
        memcpy(bad, body, blen);
        bad[i] ^= 0x10;
        cr_assert_eq(omni__ece_decrypt(&out, &n, bad, blen, ikm, 16), OMNI_ESIGNATURE);
    }
    /* a changed salt changes the key */
    memcpy(bad, body, blen);
    bad[0] ^= 1;
    cr_assert_eq(omni__ece_decrypt(&out, &n, bad, blen, ikm, 16), OMNI_ESIGNATURE);
    /* arguments and size */
    cr_assert_eq(omni__ece_decrypt(NULL, &n, body, blen, ikm, 16), OMNI_EINVAL);
    cr_assert_eq(omni__ece_decrypt(&out, NULL, body, blen, ikm, 16), OMNI_EINVAL);
    cr_assert_eq(omni__ece_decrypt(&out, &n, NULL, blen, ikm, 16), OMNI_EINVAL);
    cr_assert_eq(omni__ece_decrypt(&out, &n, body, blen, NULL, 16), OMNI_EINVAL);
    uint8_t *big = calloc(1, OMNI__ECE_MAX_BODY + 1);
    cr_assert_eq(omni__ece_decrypt(&out, &n, big, OMNI__ECE_MAX_BODY + 1, ikm, 16),
                 OMNI_ETOOLARGE);
    free(big);
}

Test(webpush, ece_encrypt_errors)
{
    uint8_t ikm[16] = {1}, salt[16] = {2}, *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni__ece_encrypt(NULL, &n, NULL, 0, ikm, 16, salt, 4096, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni__ece_encrypt(&out, NULL, NULL, 0, ikm, 16, salt, 4096, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni__ece_encrypt(&out, &n, NULL, 1, ikm, 16, salt, 4096, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni__ece_encrypt(&out, &n, NULL, 0, NULL, 16, salt, 4096, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni__ece_encrypt(&out, &n, NULL, 0, ikm, 16, NULL, 4096, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni__ece_encrypt(&out, &n, NULL, 0, ikm, 16, salt, 4096, NULL, 3),
                 OMNI_EINVAL);
    cr_assert_eq(omni__ece_encrypt(&out, &n, NULL, 0, ikm, 16, salt, 17, NULL, 0), OMNI_EINVAL);
    uint8_t one = 0;
    cr_assert_eq(omni__ece_encrypt(&out, &n, &one, OMNI__ECE_MAX_BODY + 1, ikm, 16, salt, 4096,
                                   NULL, 0),
                 OMNI_ETOOLARGE);
}

/* ---- omni_webpush_encrypt / decrypt ---------------------------------------------------- */

static void keypair(uint8_t pub[65], uint8_t priv[32])
{
    cr_assert_eq(omni_webpush_keypair(pub, priv, NULL), OMNI_OK);
}

static void round_trip(size_t len, uint32_t rs)
{
    uint8_t ua_pub[65], ua_priv[32], auth[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    keypair(ua_pub, ua_priv);
    uint8_t *plain = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        plain[i] = (uint8_t)(i * 31 + 7);
    uint8_t *body = NULL, *out = NULL;
    size_t blen = 0, n = 0;
    cr_assert_eq(omni_webpush_encrypt(&body, &blen, plain, len, ua_pub, auth, NULL, NULL, rs),
                 OMNI_OK, "len %zu rs %u", len, rs);
    cr_assert_eq(blen, 86 + len + 17); /* one record */
    uint32_t want_rs = rs ? rs : 4096;
    cr_assert_eq((uint32_t)body[16] << 24 | body[17] << 16 | body[18] << 8 | body[19], want_rs);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, body, blen, ua_priv, auth), OMNI_OK);
    cr_assert_eq(n, len);
    if (len)
        cr_assert_arr_eq(out, plain, len);
    omni_free(out);
    omni_free(body);
    free(plain);
}

Test(webpush, round_trips)
{
    round_trip(0, 0);
    round_trip(1, 0);
    round_trip(200, 0);
    round_trip(OMNI_WEBPUSH_MAX_PLAINTEXT, 0);
    round_trip(OMNI_WEBPUSH_MAX_PLAINTEXT, 4096);
    round_trip(1, 18);
    round_trip(0, 18);
    round_trip(83, 100);
    round_trip(4983, 5000);
}

Test(webpush, fresh_salt_and_key_every_message)
{
    uint8_t ua_pub[65], ua_priv[32], auth[16] = {1};
    keypair(ua_pub, ua_priv);
    uint8_t *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    cr_assert_eq(omni_webpush_encrypt(&a, &an, (const uint8_t *)"hi", 2, ua_pub, auth, NULL,
                                      NULL, 0),
                 OMNI_OK);
    cr_assert_eq(omni_webpush_encrypt(&b, &bn, (const uint8_t *)"hi", 2, ua_pub, auth, NULL,
                                      NULL, 0),
                 OMNI_OK);
    cr_assert_eq(an, bn);
    cr_assert_neq(memcmp(a, b, 16), 0, "salt repeated");
    cr_assert_neq(memcmp(a + 21, b + 21, 65), 0, "sender key repeated");
    omni_free(a);
    omni_free(b);
}

Test(webpush, encrypt_errors)
{
    vec v;
    load_a(&v);
    const uint8_t *p = (const uint8_t *)A_PLAINTEXT;
    size_t pl = strlen(A_PLAINTEXT), n = 0;
    uint8_t *out = NULL;
    cr_assert_eq(omni_webpush_encrypt(NULL, &n, p, pl, v.ua_pub, v.auth, NULL, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_encrypt(&out, NULL, p, pl, v.ua_pub, v.auth, NULL, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, NULL, 1, v.ua_pub, v.auth, NULL, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, NULL, v.auth, NULL, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, v.ua_pub, NULL, NULL, NULL, 0),
                 OMNI_EINVAL);
    /* record sizes */
    cr_assert_eq(omni_webpush_encrypt(&out, &n, NULL, 0, v.ua_pub, v.auth, NULL, NULL, 17),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, NULL, 0, v.ua_pub, v.auth, NULL, NULL, 1),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, NULL, 0, v.ua_pub, v.auth, NULL, NULL,
                                      0x80000000u),
                 OMNI_EINVAL);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_ARGUMENT");
    /* sizes */
    uint8_t *big = calloc(1, 6000);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, big, OMNI_WEBPUSH_MAX_PLAINTEXT + 1, v.ua_pub,
                                      v.auth, NULL, NULL, 0),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, big, OMNI_WEBPUSH_MAX_PLAINTEXT + 1, v.ua_pub,
                                      v.auth, NULL, NULL, 4096),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, big, 84, v.ua_pub, v.auth, NULL, NULL, 100),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, big, 2, v.ua_pub, v.auth, NULL, NULL, 18),
                 OMNI_ETOOLARGE);
    free(big);
    /* a bad user agent key: wrong prefix, off the curve, zero */
    uint8_t bad[65];
    memcpy(bad, v.ua_pub, 65);
    bad[0] = 0x05;
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, bad, v.auth, NULL, NULL, 0), OMNI_EKEY);
    bad[0] = 0x04;
    bad[40] ^= 1;
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, bad, v.auth, NULL, NULL, 0), OMNI_EKEY);
    memset(bad, 0, 65);
    bad[0] = 0x04;
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, bad, v.auth, NULL, NULL, 0), OMNI_EKEY);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_KEY");
    /* a bad sender scalar: 0, the group order, all ones */
    uint8_t zero[32] = {0}, ones[32], order[32];
    memset(ones, 0xff, 32);
    static const uint8_t n256[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
                                     0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
    memcpy(order, n256, 32);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, v.ua_pub, v.auth, v.salt, zero, 0),
                 OMNI_EKEY);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, v.ua_pub, v.auth, v.salt, ones, 0),
                 OMNI_EKEY);
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, v.ua_pub, v.auth, v.salt, order, 0),
                 OMNI_EKEY);
    /* the message never carries key material */
    char *hex = enc64(v.as_priv, 32);
    cr_assert_null(strstr(omni_error_last_message(), hex));
    omni_free(hex);
    /* n - 1 is valid */
    order[31] -= 1;
    cr_assert_eq(omni_webpush_encrypt(&out, &n, p, pl, v.ua_pub, v.auth, v.salt, order, 0),
                 OMNI_OK);
    omni_free(out);
}

Test(webpush, decrypt_errors)
{
    vec v;
    load_a(&v);
    uint8_t *out = NULL, bad[256];
    size_t n = 0;
    /* the wrong auth secret */
    uint8_t auth[16];
    memcpy(auth, v.auth, 16);
    auth[3] ^= 1;
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, v.ua_priv, auth),
                 OMNI_ESIGNATURE);
    cr_assert_str_eq(omni_error_last_code(), "SIGNATURE_INVALID");
    /* the wrong private key (the sender's) */
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, v.as_priv, v.auth),
                 OMNI_ESIGNATURE);
    /* invalid private scalars */
    uint8_t zero[32] = {0}, ones[32];
    memset(ones, 0xff, 32);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, zero, v.auth), OMNI_EKEY);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, ones, v.auth), OMNI_EKEY);
    /* key id of another length */
    memcpy(bad, v.body, v.body_len);
    bad[20] = 64;
    cr_assert_eq(omni_webpush_decrypt(&out, &n, bad, v.body_len, v.ua_priv, v.auth),
                 OMNI_EENCODING);
    /* key id off the curve, or compressed-form prefix */
    memcpy(bad, v.body, v.body_len);
    bad[21 + 64] ^= 1;
    cr_assert_eq(omni_webpush_decrypt(&out, &n, bad, v.body_len, v.ua_priv, v.auth),
                 OMNI_EENCODING);
    memcpy(bad, v.body, v.body_len);
    bad[21] = 0x02;
    cr_assert_eq(omni_webpush_decrypt(&out, &n, bad, v.body_len, v.ua_priv, v.auth),
                 OMNI_EENCODING);
    /* truncations and garbling */
    for (size_t l = 0; l < v.body_len; l++) {
        int rc = omni_webpush_decrypt(&out, &n, v.body, l, v.ua_priv, v.auth);
        cr_assert(rc == OMNI_EENCODING || rc == OMNI_ESIGNATURE, "len %zu: %d", l, rc);
    }
    for (size_t i = 86; i < v.body_len; i++) {
        memcpy(bad, v.body, v.body_len);
        bad[i] ^= 0x80;
        cr_assert_eq(omni_webpush_decrypt(&out, &n, bad, v.body_len, v.ua_priv, v.auth),
                     OMNI_ESIGNATURE);
    }
    /* record size field below 18 */
    memcpy(bad, v.body, v.body_len);
    bad[18] = 0;
    bad[19] = 10;
    cr_assert_eq(omni_webpush_decrypt(&out, &n, bad, v.body_len, v.ua_priv, v.auth),
                 OMNI_EENCODING);
    /* arguments */
    cr_assert_eq(omni_webpush_decrypt(NULL, &n, v.body, v.body_len, v.ua_priv, v.auth),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_decrypt(&out, NULL, v.body, v.body_len, v.ua_priv, v.auth),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, NULL, 5, v.ua_priv, v.auth), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, NULL, v.auth), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, v.body, v.body_len, v.ua_priv, NULL),
                 OMNI_EINVAL);
    /* oversize */
    uint8_t *big = calloc(1, OMNI__ECE_MAX_BODY + 1);
    cr_assert_eq(omni_webpush_decrypt(&out, &n, big, OMNI__ECE_MAX_BODY + 1, v.ua_priv, v.auth),
                 OMNI_ETOOLARGE);
    free(big);
    cr_assert_null(out);
}

/* ---- keypair ---------------------------------------------------------------------------- */

static int zero_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0, len);
    return 0;
}

static int failing_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return omni_error_set(OMNI_EHOOK, "entropy gone", 0);
}

static omni_engine *engine_with(int (*fill)(void *, uint8_t *, size_t))
{
    omni_random_hook r = OMNI_RANDOM_HOOK_INIT;
    r.fill = fill;
    omni_hooks h = OMNI_HOOKS_INIT;
    h.random = &r;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &h), OMNI_OK);
    return e;
}

Test(webpush, keypair_is_valid_and_fresh)
{
    uint8_t pub[65], priv[32], pub2[65], priv2[32], derived[65];
    keypair(pub, priv);
    keypair(pub2, priv2);
    cr_assert_eq(pub[0], 0x04);
    cr_assert_neq(memcmp(priv, priv2, 32), 0);
    EVP_PKEY *k = NULL;
    cr_assert_eq(omni__p256_pkey_from_private(&k, derived, priv), OMNI_OK);
    cr_assert_arr_eq(derived, pub, 65);
    EVP_PKEY_free(k);
    cr_assert_eq(omni__p256_pkey_from_public(&k, pub), OMNI_OK);
    EVP_PKEY_free(k);
    cr_assert_eq(omni_webpush_keypair(NULL, priv, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_keypair(pub, NULL, NULL), OMNI_EINVAL);
}

Test(webpush, keypair_from_the_engine_random)
{
    const char cfg[] = "{\"random\":{\"seed\":42}}";
    omni_engine *e1 = NULL, *e2 = NULL;
    cr_assert_eq(omni_engine_new(&e1, cfg, strlen(cfg), NULL), OMNI_OK);
    cr_assert_eq(omni_engine_new(&e2, cfg, strlen(cfg), NULL), OMNI_OK);
    uint8_t p1[65], k1[32], p2[65], k2[32];
    cr_assert_eq(omni_webpush_keypair(p1, k1, e1), OMNI_OK);
    cr_assert_eq(omni_webpush_keypair(p2, k2, e2), OMNI_OK);
    cr_assert_arr_eq(p1, p2, 65);
    cr_assert_arr_eq(k1, k2, 32);
    omni_engine_free(e1);
    omni_engine_free(e2);

    /* a generator that only gives zeros never yields a key */
    omni_engine *z = engine_with(zero_fill);
    memset(p1, 0xAB, sizeof(p1));
    cr_assert_eq(omni_webpush_keypair(p1, k1, z), OMNI_ECRYPTO);
    cr_assert_eq(p1[0], 0xAB); /* untouched on error */
    omni_engine_free(z);
    /* a failing hook's status comes through */
    omni_engine *f = engine_with(failing_fill);
    cr_assert_eq(omni_webpush_keypair(p1, k1, f), OMNI_EHOOK);
    omni_engine_free(f);
}

/* ---- VAPID -------------------------------------------------------------------------------- */

#define NOW_MS 1700000000123LL

/* Splits "vapid t=<jwt>, k=<key>"; verifies the JWT with k and returns its claims. */
static char *vapid_check(const char *header, const uint8_t pub[65])
{
    cr_assert_eq(strncmp(header, "vapid t=", 8), 0, "%s", header);
    const char *sep = strstr(header, ", k=");
    cr_assert_not_null(sep);
    const char *jwt = header + 8;
    size_t jwt_len = (size_t)(sep - jwt);
    uint8_t k[65];
    cr_assert_eq(b64(k, sizeof(k), sep + 4), 65);
    cr_assert_arr_eq(k, pub, 65);
    /* header {"alg":"ES256","typ":"JWT"} */
    const char *dot = memchr(jwt, '.', jwt_len);
    cr_assert_not_null(dot);
    char *h64 = strndup(jwt, (size_t)(dot - jwt));
    uint8_t hdr[64] = {0};
    b64(hdr, sizeof(hdr) - 1, h64);
    free(h64);
    cr_assert_str_eq((char *)hdr, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}");
    EVP_PKEY *pk = NULL;
    cr_assert_eq(omni__p256_pkey_from_public(&pk, k), OMNI_OK);
    /* a clock frozen at NOW so exp is in the future */
    const char cfg[] = "{\"clock\":{\"fixed\":\"2023-11-14T22:13:20Z\"}}";
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), NULL), OMNI_OK);
    char *claims = NULL;
    cr_assert_eq(omni__jwt_verify_pkey(&claims, NULL, e, jwt, jwt_len, OMNI__JWT_ES256, pk, 0),
                 OMNI_OK, "%s", omni_error_last_message());
    EVP_PKEY_free(pk);
    omni_engine_free(e);
    return claims;
}

Test(webpush, vapid_header_verifies)
{
    vec v;
    load_a(&v);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_webpush_vapid(&out, &n, "https://fcm.googleapis.com/fcm/send/abc:def",
                                    "mailto:ops@example.com", v.as_priv, NOW_MS, 43200),
                 OMNI_OK);
    cr_assert_eq(strlen(out), n);
    char *claims = vapid_check(out, v.as_pub);
    cr_assert_str_eq(claims, "{\"aud\":\"https://fcm.googleapis.com\",\"exp\":1700043200,"
                             "\"sub\":\"mailto:ops@example.com\"}");
    omni_free(claims);
    omni_free(out);
    /* 24 h is the maximum */
    cr_assert_eq(omni_webpush_vapid(&out, NULL, "https://push.example/x", "https://example.com",
                                    v.as_priv, NOW_MS, 86400),
                 OMNI_OK);
    claims = vapid_check(out, v.as_pub);
    cr_assert_str_eq(claims, "{\"aud\":\"https://push.example\",\"exp\":1700086400,"
                             "\"sub\":\"https://example.com\"}");
    omni_free(claims);
    omni_free(out);
}

static void aud_is(const char *endpoint, const char *want)
{
    vec v;
    load_a(&v);
    char *out = NULL;
    cr_assert_eq(omni_webpush_vapid(&out, NULL, endpoint, "mailto:a@b.c", v.as_priv, NOW_MS, 60),
                 OMNI_OK, "%s: %s", endpoint, omni_error_last_message());
    char *claims = vapid_check(out, v.as_pub);
    char expect[512];
    snprintf(expect, sizeof(expect),
             "{\"aud\":\"%s\",\"exp\":1700000060,\"sub\":\"mailto:a@b.c\"}", want);
    cr_assert_str_eq(claims, expect);
    omni_free(claims);
    omni_free(out);
}

Test(webpush, vapid_audience_is_the_origin)
{
    aud_is("https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
           "https://updates.push.services.mozilla.com");
    aud_is("HTTPS://Push.Example.COM:443/a?b#c", "https://push.example.com");
    aud_is("https://push.example.com:8443/a", "https://push.example.com:8443");
    aud_is("https://push.example.com?x=1", "https://push.example.com");
    aud_is("https://push.example.com", "https://push.example.com");
    aud_is("https://[2001:DB8::1]:444/p", "https://[2001:db8::1]:444");
    aud_is("http://localhost:8080/push", "http://localhost:8080");
    aud_is("http://127.0.0.1/push", "http://127.0.0.1");
    aud_is("http://127.0.0.1:80/push", "http://127.0.0.1");
    aud_is("http://[::1]:9000/", "http://[::1]:9000");
}

Test(webpush, vapid_errors)
{
    vec v;
    load_a(&v);
    char *out = NULL;
    const char *ok_ep = "https://push.example.com/x", *ok_sub = "mailto:a@b.c";
    static const char *bad_endpoints[] = {
        "http://push.example.com/x", "ftp://push.example.com/", "push.example.com/x",
        "https://", "https:///path", "https://user@push.example.com/",
        "https://push.example.com:/x", "https://push.example.com:0/",
        "https://push.example.com:65536/", "https://push.example.com:12a/",
        "https://push.example.com:123456/", "https://push example.com/",
        "https://push.example.com/a b", "https://[]/", "https://[::1/",
        "https://[zz::1]/", "https://pu$h.example.com/", "http://127.0.0.1.evil.com/",
        "http://localhost.evil.com/", "https://push.example.com/\xc3\xa9", "",
    };
    for (size_t i = 0; i < sizeof(bad_endpoints) / sizeof(bad_endpoints[0]); i++)
        cr_assert_eq(omni_webpush_vapid(&out, NULL, bad_endpoints[i], ok_sub, v.as_priv, NOW_MS,
                                        60),
                     OMNI_EINVAL, "%s", bad_endpoints[i]);
    char *long_ep = malloc(9000);
    memset(long_ep, 'a', 8999);
    memcpy(long_ep, "https://", 8);
    long_ep[8999] = 0;
    cr_assert_eq(omni_webpush_vapid(&out, NULL, long_ep, ok_sub, v.as_priv, NOW_MS, 60),
                 OMNI_EINVAL);
    free(long_ep);
    static const char *bad_subjects[] = {"", "mailto:", "https:", "ops@example.com",
                                         "mailto:a b@c", "tel:+15551234567", "mailto:\x01"};
    for (size_t i = 0; i < sizeof(bad_subjects) / sizeof(bad_subjects[0]); i++)
        cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, bad_subjects[i], v.as_priv, NOW_MS,
                                        60),
                     OMNI_EINVAL, "%s", bad_subjects[i]);
    cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, ok_sub, v.as_priv, NOW_MS, 0), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, ok_sub, v.as_priv, NOW_MS, 86401),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, ok_sub, v.as_priv, -1, 60), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_vapid(NULL, NULL, ok_ep, ok_sub, v.as_priv, NOW_MS, 60),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_vapid(&out, NULL, NULL, ok_sub, v.as_priv, NOW_MS, 60),
                 OMNI_EINVAL);
    cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, NULL, v.as_priv, NOW_MS, 60), OMNI_EINVAL);
    cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, ok_sub, NULL, NOW_MS, 60), OMNI_EINVAL);
    uint8_t zero[32] = {0};
    cr_assert_eq(omni_webpush_vapid(&out, NULL, ok_ep, ok_sub, zero, NOW_MS, 60), OMNI_EKEY);
    cr_assert_null(out);
}
