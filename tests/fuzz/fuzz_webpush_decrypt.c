/* Fuzz target for Web Push decryption: arbitrary bytes as an aes128gcm body
 * are decrypted with RFC 8291 Appendix A's user agent keys (omni_webpush_
 * decrypt) and with the IKMs of RFC 8188 section 3 (omni__ece_decrypt);
 * they must never crash, and an accepted body must re-encrypt and decrypt
 * to the same plaintext. Short inputs also serve as a plaintext that must
 * survive an omni_webpush_encrypt / omni_webpush_decrypt round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/push/push_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 8291 Appendix A: ua_private, ua_public, auth_secret, salt, as_private. */
static const uint8_t ua_private[32] = {
    0xab, 0x57, 0x57, 0xa7, 0x0d, 0xd4, 0xa5, 0x3e, 0x55, 0x3a, 0x6b, 0xbf, 0x71, 0xff, 0xef, 0xea,
    0x28, 0x74, 0xec, 0x07, 0xa6, 0xb3, 0x79, 0xe3, 0xc4, 0x8f, 0x89, 0x5a, 0x02, 0xdc, 0x33, 0xde};
static const uint8_t auth_secret[16] = {0x05, 0x30, 0x59, 0x32, 0xa1, 0xc7, 0xea, 0xbe,
                                        0x13, 0xb6, 0xce, 0xc9, 0xfd, 0xa4, 0x88, 0x82};
static const uint8_t as_private[32] = {
    0xc9, 0xf5, 0x8f, 0x89, 0x81, 0x3e, 0x9f, 0x8e, 0x87, 0x2e, 0x71, 0xf4, 0x2a, 0xa6, 0x4e, 0x17,
    0x57, 0xc9, 0x25, 0x4d, 0xcc, 0x62, 0xb7, 0x2d, 0xdc, 0x01, 0x0b, 0xb4, 0x04, 0x3e, 0xa1, 0x1c};
/* RFC 8188 section 3.1 and 3.2 input keying material. */
static const uint8_t ikm1[16] = {0xca, 0xa7, 0x65, 0x67, 0xeb, 0x58, 0x7a, 0x67,
                                 0xe8, 0x81, 0x29, 0xaf, 0xed, 0x6b, 0x39, 0x3d};
static const uint8_t ikm2[16] = {0x04, 0xed, 0xd9, 0x54, 0xfc, 0x54, 0x96, 0x72,
                                 0xce, 0x45, 0xb5, 0x46, 0x32, 0x96, 0xd3, 0xd5};

static int is_error(int rc)
{
    return rc < 0 && rc >= OMNI__STATUS_MIN;
}

static void check_ece(const uint8_t *data, size_t size, const uint8_t *ikm)
{
    uint8_t *out = NULL, *body = NULL, *again = NULL;
    size_t n = 0, blen = 0, n2 = 0;
    int rc = omni__ece_decrypt(&out, &n, data, size, ikm, 16);
    if (rc != OMNI_OK) {
        if (!is_error(rc) || out)
            abort();
        return;
    }
    if (!out || n + 21 + 17 > size || out[n] != 0)
        abort();
    omni__ece_header h;
    if (omni__ece_parse_header(&h, data, size))
        abort();
    /* re-encrypt with the same header fields: decrypts to the same bytes */
    if (omni__ece_encrypt(&body, &blen, out, n, ikm, 16, h.salt, h.rs, h.keyid,
                          (uint8_t)h.keyid_len))
        abort();
    if (omni__ece_decrypt(&again, &n2, body, blen, ikm, 16) || n2 != n ||
        (n && memcmp(again, out, n)))
        abort();
    omni_free(again);
    omni_free(body);
    omni_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL;
    size_t n = 0;
    int rc = omni_webpush_decrypt(&out, &n, data, size, ua_private, auth_secret);
    if (rc == OMNI_OK) {
        if (!out || n + 86 + 17 > size || out[n] != 0)
            abort();
        omni_free(out);
    } else if (!is_error(rc) || out) {
        abort();
    }
    check_ece(data, size, ikm1);
    check_ece(data, size, ikm2);

    /* the input as a plaintext: encrypt with the example's keys, decrypt back */
    if (size <= OMNI_WEBPUSH_MAX_PLAINTEXT) {
        uint8_t ua_public[65], salt[16] = {0};
        EVP_PKEY *k = NULL;
        if (omni__p256_pkey_from_private(&k, ua_public, ua_private))
            abort();
        EVP_PKEY_free(k);
        memcpy(salt, data, size < 16 ? size : 16);
        uint8_t *body = NULL;
        size_t blen = 0;
        if (omni_webpush_encrypt(&body, &blen, data, size, ua_public, auth_secret, salt,
                                 as_private, 0))
            abort();
        if (blen != 86 + size + 17)
            abort();
        if (omni_webpush_decrypt(&out, &n, body, blen, ua_private, auth_secret) || n != size ||
            (size && memcmp(out, data, size)))
            abort();
        omni_free(out);
        omni_free(body);
    }
    return 0;
}
