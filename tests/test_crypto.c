/* Tests for hashes, HMAC and constant-time comparison (omni/crypto.h). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/crypto_internal.h"

static void to_hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = '\0';
}

static void check_hmac(int hash, const void *key, size_t key_len, const void *data, size_t len,
                       const char *want_hex)
{
    uint8_t mac[OMNI_HASH_MAX_SIZE];
    char hex[2 * OMNI_HASH_MAX_SIZE + 1];
    cr_assert_eq(omni_hmac(mac, sizeof(mac), hash, key, key_len, data, len), OMNI_OK);
    to_hex(hex, mac, omni_hash_size(hash));
    /* a truncated vector (RFC 4231 test case 5) compares its prefix */
    cr_assert_eq(strncmp(hex, want_hex, strlen(want_hex)), 0, "got %s, want %s", hex, want_hex);
}

static void check_digest(int hash, const char *data, const char *want_hex)
{
    uint8_t md[OMNI_HASH_MAX_SIZE];
    char hex[2 * OMNI_HASH_MAX_SIZE + 1];
    cr_assert_eq(omni_hash_digest(md, sizeof(md), hash, data, strlen(data)), OMNI_OK);
    to_hex(hex, md, omni_hash_size(hash));
    cr_assert_str_eq(hex, want_hex);
}

Test(crypto, hash_sizes)
{
    cr_assert_eq(omni_hash_size(OMNI_HASH_SHA1), 20);
    cr_assert_eq(omni_hash_size(OMNI_HASH_SHA256), 32);
    cr_assert_eq(omni_hash_size(OMNI_HASH_SHA512), 64);
    cr_assert_eq(omni_hash_size(0), 0);
    cr_assert_eq(omni_hash_size(99), 0);
}

/* FIPS 180-4 examples (NIST CSRC "abc" and the empty message). */
Test(crypto, digests)
{
    check_digest(OMNI_HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
    check_digest(OMNI_HASH_SHA256, "abc",
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_digest(OMNI_HASH_SHA512, "abc",
                 "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                 "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    check_digest(OMNI_HASH_SHA256, "",
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* NULL data with length 0 is the empty message */
    uint8_t md[32];
    char hex[65];
    cr_assert_eq(omni_hash_digest(md, sizeof(md), OMNI_HASH_SHA256, NULL, 0), OMNI_OK);
    to_hex(hex, md, 32);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* the internal helper agrees */
    uint8_t md2[32];
    cr_assert_eq(omni__sha256(md2, "", 0), OMNI_OK);
    cr_assert_eq(memcmp(md, md2, 32), 0);
}

Test(crypto, digest_errors)
{
    uint8_t md[64];
    cr_assert_eq(omni_hash_digest(md, sizeof(md), 7, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_error_last()->status, OMNI_EINVAL);
    cr_assert_eq(omni_hash_digest(md, 31, OMNI_HASH_SHA256, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hash_digest(md, 63, OMNI_HASH_SHA512, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hash_digest(NULL, 64, OMNI_HASH_SHA256, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hash_digest(md, sizeof(md), OMNI_HASH_SHA256, NULL, 1), OMNI_EINVAL);
    /* a buffer of exactly the size is fine */
    cr_assert_eq(omni_hash_digest(md, 20, OMNI_HASH_SHA1, "x", 1), OMNI_OK);
}

/* RFC 4231 section 4, test cases 1-7 (HMAC-SHA-256 and HMAC-SHA-512). */
static const char *tc7_data = "This is a test using a larger than block-size key and a larger "
                              "than block-size data. The key needs to be hashed before being "
                              "used by the HMAC algorithm.";

Test(crypto, hmac_rfc4231)
{
    uint8_t k1[20], k3[20], d3[50], k4[25], d4[50], k5[20], k6[131];
    memset(k1, 0x0b, sizeof(k1));
    memset(k3, 0xaa, sizeof(k3));
    memset(d3, 0xdd, sizeof(d3));
    for (int i = 0; i < 25; i++)
        k4[i] = (uint8_t)(i + 1);
    memset(d4, 0xcd, sizeof(d4));
    memset(k5, 0x0c, sizeof(k5));
    memset(k6, 0xaa, sizeof(k6));
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";

    /* Test Case 1 */
    check_hmac(OMNI_HASH_SHA256, k1, 20, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac(OMNI_HASH_SHA512, k1, 20, "Hi There", 8,
               "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
               "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    /* Test Case 2 */
    check_hmac(OMNI_HASH_SHA256, "Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    check_hmac(OMNI_HASH_SHA512, "Jefe", 4, "what do ya want for nothing?", 28,
               "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
               "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    /* Test Case 3 */
    check_hmac(OMNI_HASH_SHA256, k3, 20, d3, 50,
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    check_hmac(OMNI_HASH_SHA512, k3, 20, d3, 50,
               "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
               "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb");
    /* Test Case 4 */
    check_hmac(OMNI_HASH_SHA256, k4, 25, d4, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    check_hmac(OMNI_HASH_SHA512, k4, 25, d4, 50,
               "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
               "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd");
    /* Test Case 5: the RFC gives the output truncated to 128 bits */
    check_hmac(OMNI_HASH_SHA256, k5, 20, "Test With Truncation", 20,
               "a3b6167473100ee06e0c796c2955552b");
    check_hmac(OMNI_HASH_SHA512, k5, 20, "Test With Truncation", 20,
               "415fad6271580a531d4179bc891d87a6");
    /* Test Case 6 */
    check_hmac(OMNI_HASH_SHA256, k6, 131, d6, strlen(d6),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    check_hmac(OMNI_HASH_SHA512, k6, 131, d6, strlen(d6),
               "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
               "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
    /* Test Case 7 */
    check_hmac(OMNI_HASH_SHA256, k6, 131, tc7_data, strlen(tc7_data),
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    check_hmac(OMNI_HASH_SHA512, k6, 131, tc7_data, strlen(tc7_data),
               "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
               "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58");
}

/* RFC 2202 section 3, HMAC-SHA-1 test cases 1-7. */
Test(crypto, hmac_sha1_rfc2202)
{
    uint8_t k1[20], k3[20], d3[50], k4[25], d4[50], k5[20], k6[80];
    memset(k1, 0x0b, sizeof(k1));
    memset(k3, 0xaa, sizeof(k3));
    memset(d3, 0xdd, sizeof(d3));
    for (int i = 0; i < 25; i++)
        k4[i] = (uint8_t)(i + 1);
    memset(d4, 0xcd, sizeof(d4));
    memset(k5, 0x0c, sizeof(k5));
    memset(k6, 0xaa, sizeof(k6));
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *d7 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";

    check_hmac(OMNI_HASH_SHA1, k1, 20, "Hi There", 8, "b617318655057264e28bc0b6fb378c8ef146be00");
    check_hmac(OMNI_HASH_SHA1, "Jefe", 4, "what do ya want for nothing?", 28,
               "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    check_hmac(OMNI_HASH_SHA1, k3, 20, d3, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
    check_hmac(OMNI_HASH_SHA1, k4, 25, d4, 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
    check_hmac(OMNI_HASH_SHA1, k5, 20, "Test With Truncation", 20,
               "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04");
    check_hmac(OMNI_HASH_SHA1, k6, 80, d6, strlen(d6), "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    check_hmac(OMNI_HASH_SHA1, k6, 80, d7, strlen(d7), "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

Test(crypto, hmac_internal_matches_public)
{
    uint8_t a[32], b[64];
    cr_assert_eq(omni__hmac_sha256(a, "Jefe", 4, "what do ya want for nothing?", 28), OMNI_OK);
    cr_assert_eq(omni_hmac(b, sizeof(b), OMNI_HASH_SHA256, "Jefe", 4,
                           "what do ya want for nothing?", 28),
                 OMNI_OK);
    cr_assert_eq(memcmp(a, b, 32), 0);
}

Test(crypto, hmac_empty_key_and_data)
{
    /* HMAC-SHA256 with an empty key over an empty message (a well-known
     * value: b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad) */
    check_hmac(OMNI_HASH_SHA256, NULL, 0, NULL, 0,
               "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    check_hmac(OMNI_HASH_SHA256, "", 0, "", 0,
               "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

Test(crypto, hmac_errors)
{
    uint8_t mac[64];
    cr_assert_eq(omni_hmac(mac, sizeof(mac), 0, "k", 1, "d", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hmac(mac, 19, OMNI_HASH_SHA1, "k", 1, "d", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hmac(NULL, 64, OMNI_HASH_SHA1, "k", 1, "d", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, NULL, 1, "d", 1), OMNI_EINVAL);
    cr_assert_eq(omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, "k", 1, NULL, 1), OMNI_EINVAL);
    /* the message never contains the key */
    cr_assert_eq(omni_hmac(mac, 1, OMNI_HASH_SHA256, "supersecretkey", 14, "d", 1),
                 OMNI_EINVAL);
    cr_assert_null(strstr(omni_error_last_message(), "supersecretkey"));
}

Test(crypto, ct_equal)
{
    cr_assert_eq(omni_ct_equal("abc", "abc", 3), 1);
    cr_assert_eq(omni_ct_equal("abc", "abd", 3), 0);
    cr_assert_eq(omni_ct_equal("xbc", "abc", 3), 0);
    cr_assert_eq(omni_ct_equal("abc", "abd", 2), 1);
    cr_assert_eq(omni_ct_equal("a", "b", 0), 1);
    cr_assert_eq(omni_ct_equal(NULL, NULL, 0), 1);
    cr_assert_eq(omni_ct_equal(NULL, "a", 1), 0);
    cr_assert_eq(omni_ct_equal("a", NULL, 1), 0);
    uint8_t a[256], b[256];
    for (int i = 0; i < 256; i++)
        a[i] = b[i] = (uint8_t)i;
    cr_assert_eq(omni_ct_equal(a, b, sizeof(a)), 1);
    b[255] ^= 0x80;
    cr_assert_eq(omni_ct_equal(a, b, sizeof(a)), 0);
}
