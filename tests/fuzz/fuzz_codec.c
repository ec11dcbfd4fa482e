/* Fuzz target for the codecs: base64 / base64url, percent-encoding and
 * UTF-8 validation on arbitrary bytes, with round-trip invariants:
 *   - decode(encode(x)) == x for both base64 alphabets and every
 *     percent-encoding mode;
 *   - the strict base64 decoders accept only canonical text, so whatever
 *     decodes re-encodes to exactly the input (base64url: minus padding);
 *   - the UTF-8 validator agrees with a by-definition reference decoder and
 *     its offset is the length of the longest valid prefix. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/codec.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void base64_round_trip(const uint8_t *data, size_t size, int url)
{
    char *enc = NULL;
    size_t enc_len = 0;
    int rc = url ? omni_base64url_encode(&enc, &enc_len, data, size)
                 : omni_base64_encode(&enc, &enc_len, data, size);
    CHECK(rc == OMNI_OK);
    CHECK(enc_len == omni__base64_encoded_len(size, url));
    CHECK(strlen(enc) == enc_len);
    uint8_t *dec = NULL;
    size_t dec_len = 0;
    rc = url ? omni_base64url_decode(&dec, &dec_len, enc, enc_len)
             : omni_base64_decode(&dec, &dec_len, enc, enc_len);
    CHECK(rc == OMNI_OK);
    CHECK(dec_len == size && (size == 0 || memcmp(dec, data, size) == 0));
    omni_free(enc);
    omni_free(dec);
}

static void base64_decode_any(const uint8_t *data, size_t size, int url)
{
    const char *text = (const char *)data;
    uint8_t *dec = (uint8_t *)1;
    size_t dec_len = 7;
    int rc = url ? omni_base64url_decode(&dec, &dec_len, text, size)
                 : omni_base64_decode(&dec, &dec_len, text, size);
    /* the internal decoder gives the same verdict and bytes */
    size_t cap = omni__base64_decoded_max(size);
    uint8_t *raw = malloc(cap ? cap : 1);
    CHECK(raw != NULL);
    size_t raw_len = 0;
    int rc2 = omni__base64_decode_into(raw, cap, &raw_len, text, size, url);
    CHECK(rc == rc2);
    if (rc != OMNI_OK) {
        CHECK(rc == OMNI_EENCODING);
        CHECK(dec == NULL && dec_len == 0);
        CHECK(omni_error_last_status() == OMNI_EENCODING);
        CHECK(strstr(omni_error_last_message(), "byte offset") != NULL);
        free(raw);
        return;
    }
    CHECK(raw_len == dec_len && (dec_len == 0 || memcmp(raw, dec, dec_len) == 0));
    CHECK(dec[dec_len] == 0);
    free(raw);
    /* canonical: re-encoding gives the input back */
    char *enc = NULL;
    size_t enc_len = 0;
    rc = url ? omni_base64url_encode(&enc, &enc_len, dec, dec_len)
             : omni_base64_encode(&enc, &enc_len, dec, dec_len);
    CHECK(rc == OMNI_OK);
    size_t expect_len = size;
    if (url)
        while (expect_len > 0 && text[expect_len - 1] == '=')
            expect_len--;
    CHECK(enc_len == expect_len && memcmp(enc, text, enc_len) == 0);
    omni_free(enc);
    omni_free(dec);
}

static void url_round_trip(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char *enc = NULL;
    size_t enc_len = 0;
    CHECK(omni_url_encode(&enc, &enc_len, text, size) == OMNI_OK);
    char *dec = NULL;
    size_t dec_len = 0;
    CHECK(omni_url_decode(&dec, &dec_len, enc, enc_len) == OMNI_OK);
    CHECK(dec_len == size && (size == 0 || memcmp(dec, text, size) == 0));
    omni_free(enc);
    omni_free(dec);

    /* internal modes: form (space -> '+') and path both round-trip */
    for (int mode = OMNI__PCT_RFC3986; mode <= OMNI__PCT_PATH; mode++) {
        omni_buf b = OMNI_BUF_INIT;
        omni__url_encode_append(&b, text, size, mode);
        CHECK(!b.failed);
        for (size_t i = 0; i < b.len; i++)
            CHECK(b.data[i] > 0x20 && b.data[i] < 0x7F);
        omni_buf d = OMNI_BUF_INIT;
        CHECK(omni__url_decode_append(&d, b.data ? b.data : "", b.len,
                                      mode == OMNI__PCT_FORM) == OMNI_OK);
        CHECK(d.len == size && (size == 0 || memcmp(d.data, text, size) == 0));
        omni__buf_free(&b);
        omni__buf_free(&d);
    }
}

static void url_decode_any(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char *dec = (char *)1;
    size_t dec_len = 9;
    int rc = omni_url_decode(&dec, &dec_len, text, size);
    if (rc != OMNI_OK) {
        CHECK(rc == OMNI_EENCODING && dec == NULL && dec_len == 0);
        /* a failure means some '%' is not followed by two hex digits */
        CHECK(memchr(text, '%', size) != NULL);
        return;
    }
    CHECK(dec_len <= size && dec[dec_len] == 0);
    /* no '%' means nothing changes */
    if (!memchr(text, '%', size))
        CHECK(dec_len == size && (size == 0 || memcmp(dec, text, size) == 0));
    /* encode(decode(x)) decodes to the same bytes */
    char *enc = NULL;
    size_t enc_len = 0;
    CHECK(omni_url_encode(&enc, &enc_len, dec, dec_len) == OMNI_OK);
    char *again = NULL;
    size_t again_len = 0;
    CHECK(omni_url_decode(&again, &again_len, enc, enc_len) == OMNI_OK);
    CHECK(again_len == dec_len && (dec_len == 0 || memcmp(again, dec, dec_len) == 0));
    omni_free(enc);
    omni_free(again);
    omni_free(dec);
}

/* By-definition UTF-8: length of the longest valid prefix. */
static size_t ref_valid_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        size_t len;
        uint32_t min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return i;
        }
        if (n - i < len)
            return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
            c = c << 6 | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

static void utf8_check(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t want = ref_valid_prefix(data, size);
    size_t off = (size_t)-1;
    int ok = omni__utf8_valid(text, size, &off);
    if (want == size) {
        CHECK(ok == 1 && off == (size_t)-1);
        CHECK(omni_utf8_validate(text, size, NULL) == OMNI_OK);
    } else {
        CHECK(ok == 0 && off == want);
        size_t off2 = 0;
        CHECK(omni_utf8_validate(text, size, &off2) == OMNI_EENCODING && off2 == want);
        CHECK(omni__utf8_reason(text, size, off) != NULL);
        CHECK(omni__utf8_valid(text, off, NULL) == 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    base64_round_trip(data, size, 0);
    base64_round_trip(data, size, 1);
    base64_decode_any(data, size, 0);
    base64_decode_any(data, size, 1);
    url_round_trip(data, size);
    url_decode_any(data, size);
    utf8_check(data, size);
    return 0;
}
