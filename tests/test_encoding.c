/* Encodings: base64 / base64url (RFC 4648), percent-encoding (RFC 3986),
 * application/x-www-form-urlencoded (WHATWG URL Standard), UTF-8
 * validation (RFC 3629), and the internal codec.h helpers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/codec.h"

/* ---- helpers ------------------------------------------------------------- */

/* Asserts a failure: status, last error status/code, and a message part. */
static void expect_err(int rc, int status, const char *needle)
{
    const omni_error *e = omni_error_last();
    cr_assert_eq(rc, status, "rc %d, expected %d (message: %s)", rc, status, e->message);
    cr_assert_eq(e->status, status);
    cr_assert_str_eq(e->code, omni_status_code(status));
    cr_assert_eq(omni_error_last_status(), status);
    if (needle)
        cr_assert(strstr(e->message, needle) != NULL, "message \"%s\" lacks \"%s\"", e->message,
                  needle);
}

static void b64_enc_is(int url, const void *data, size_t len, const char *want)
{
    char *out = (char *)1;
    size_t n = 99;
    int rc = url ? omni_base64url_encode(&out, &n, data, len)
                 : omni_base64_encode(&out, &n, data, len);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(n, strlen(want), "length %zu, want %zu (%s)", n, strlen(want), want);
    cr_assert_str_eq(out, want);
    omni_free(out);
}

static void b64_dec_is(int url, const char *text, const void *want, size_t want_len)
{
    uint8_t *out = NULL;
    size_t n = 99;
    int rc = url ? omni_base64url_decode(&out, &n, text, strlen(text))
                 : omni_base64_decode(&out, &n, text, strlen(text));
    cr_assert_eq(rc, OMNI_OK, "\"%s\": %s", text, omni_error_last_message());
    cr_assert_eq(n, want_len, "\"%s\": length %zu, want %zu", text, n, want_len);
    cr_assert(memcmp(out, want, want_len) == 0, "\"%s\" decoded wrongly", text);
    cr_assert_eq(out[n], 0, "result is NUL-terminated");
    omni_free(out);
}

static void b64_dec_fails(int url, const char *text, const char *needle)
{
    uint8_t *out = (uint8_t *)1;
    size_t n = 99;
    int rc = url ? omni_base64url_decode(&out, &n, text, strlen(text))
                 : omni_base64_decode(&out, &n, text, strlen(text));
    expect_err(rc, OMNI_EENCODING, needle);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
}

/* ---- base64 -------------------------------------------------------------- */

/* RFC 4648 section 10 (test vectors). */
static const char *const rfc4648_in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc4648_std[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                          "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const rfc4648_url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};

Test(base64, rfc4648_section10_vectors)
{
    for (size_t i = 0; i < 7; i++) {
        b64_enc_is(0, rfc4648_in[i], strlen(rfc4648_in[i]), rfc4648_std[i]);
        b64_dec_is(0, rfc4648_std[i], rfc4648_in[i], strlen(rfc4648_in[i]));
    }
}

Test(base64url, rfc4648_section10_vectors_without_padding)
{
    for (size_t i = 0; i < 7; i++) {
        b64_enc_is(1, rfc4648_in[i], strlen(rfc4648_in[i]), rfc4648_url[i]);
        b64_dec_is(1, rfc4648_url[i], rfc4648_in[i], strlen(rfc4648_in[i]));
        /* padding is optional on input, so the padded form decodes too */
        b64_dec_is(1, rfc4648_std[i], rfc4648_in[i], strlen(rfc4648_in[i]));
    }
}

/* RFC 4648 section 9 (illustrations and examples). */
Test(base64, rfc4648_section9_examples)
{
    static const uint8_t d[] = {0x14, 0xfb, 0x9c, 0x03, 0xd9, 0x7e};
    b64_enc_is(0, d, 6, "FPucA9l+");
    b64_enc_is(0, d, 5, "FPucA9k=");
    b64_enc_is(0, d, 4, "FPucAw==");
    b64_dec_is(0, "FPucA9l+", d, 6);
    b64_dec_is(0, "FPucA9k=", d, 5);
    b64_dec_is(0, "FPucAw==", d, 4);
    b64_enc_is(1, d, 6, "FPucA9l-");
    b64_dec_is(1, "FPucA9l-", d, 6);
}

/* 0xfb 0xff use the two characters in which the alphabets differ
 * (RFC 4648 section 5: '+' '/' become '-' '_'). */
Test(base64, alphabets_differ_for_fb_ff)
{
    static const uint8_t two[] = {0xfb, 0xff};
    static const uint8_t three[] = {0xfb, 0xff, 0xbf};
    b64_enc_is(0, two, 2, "+/8=");
    b64_enc_is(1, two, 2, "-_8");
    b64_enc_is(0, three, 3, "+/+/");
    b64_enc_is(1, three, 3, "-_-_");
    b64_dec_is(0, "+/8=", two, 2);
    b64_dec_is(1, "-_8", two, 2);
    b64_dec_is(1, "-_8=", two, 2);
    b64_dec_is(1, "-_-_", three, 3);
    b64_dec_fails(0, "-_8=", "'-' at byte offset 0 belongs to the base64url alphabet");
    b64_dec_fails(0, "+_8=", "'_' at byte offset 1");
    b64_dec_fails(1, "+/8", "'+' at byte offset 0 belongs to the standard alphabet");
    b64_dec_fails(1, "-/8", "'/' at byte offset 1");
}

Test(base64, round_trip_every_byte_and_length)
{
    uint8_t data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (int url = 0; url <= 1; url++) {
        for (size_t len = 0; len <= sizeof(data); len++) {
            char *enc;
            size_t enc_len;
            int rc = url ? omni_base64url_encode(&enc, &enc_len, data, len)
                         : omni_base64_encode(&enc, &enc_len, data, len);
            cr_assert_eq(rc, OMNI_OK);
            cr_assert_eq(enc_len, omni__base64_encoded_len(len, url));
            cr_assert_eq(enc_len, url ? (len * 4 + 2) / 3 : (len + 2) / 3 * 4);
            uint8_t *dec;
            size_t dec_len;
            rc = url ? omni_base64url_decode(&dec, &dec_len, enc, enc_len)
                     : omni_base64_decode(&dec, &dec_len, enc, enc_len);
            cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
            cr_assert_eq(dec_len, len);
            cr_assert(memcmp(dec, data, len) == 0);
            omni_free(enc);
            omni_free(dec);
        }
    }
    /* all 256 byte values at every position of a 3-byte group */
    uint8_t all[258];
    for (int shift = 0; shift < 3; shift++) {
        for (int i = 0; i < 256; i++)
            all[i + shift] = (uint8_t)i;
        memset(all, 0xAA, (size_t)shift);
        char *enc;
        size_t enc_len;
        cr_assert_eq(omni_base64_encode(&enc, &enc_len, all, 256 + (size_t)shift), OMNI_OK);
        uint8_t *dec;
        size_t dec_len;
        cr_assert_eq(omni_base64_decode(&dec, &dec_len, enc, enc_len), OMNI_OK);
        cr_assert_eq(dec_len, 256 + (size_t)shift);
        cr_assert(memcmp(dec, all, dec_len) == 0);
        omni_free(enc);
        omni_free(dec);
    }
}

Test(base64, strict_decoder_errors)
{
    b64_dec_fails(0, "Zg", "missing padding at byte offset 2");
    b64_dec_fails(0, "Zm8", "missing padding at byte offset 3");
    b64_dec_fails(0, "Zg=", "wrong padding at byte offset 2");
    b64_dec_fails(0, "Zm9v=", "wrong padding at byte offset 4");
    b64_dec_fails(0, "Zm9v==", "wrong padding at byte offset 4");
    b64_dec_fails(0, "Zm8==", "wrong padding at byte offset 3");
    b64_dec_fails(0, "Z===", "unexpected '=' at byte offset 1");
    b64_dec_fails(0, "====", "unexpected '=' at byte offset 0");
    b64_dec_fails(0, "Zg==Zm8=", "unexpected '=' at byte offset 2");
    b64_dec_fails(0, "Zm9vY", "lone character at byte offset 4");
    b64_dec_fails(0, "Zm9vY===", "unexpected '=' at byte offset 5");
    /* whitespace and line breaks are not skipped (RFC 4648 section 3.3) */
    b64_dec_fails(0, "Zm9v YmFy", "byte 0x20 at byte offset 4");
    b64_dec_fails(0, "Zm9v\nYmFy", "byte 0x0A at byte offset 4");
    b64_dec_fails(0, "Zm9vYmFy\r\n", "byte 0x0D at byte offset 8");
    b64_dec_fails(0, " Zg==", "byte 0x20 at byte offset 0");
    b64_dec_fails(0, "Zm9v*mFy", "character '*' at byte offset 4");
    b64_dec_fails(0, "Zm9v\xc3\xa9mFy", "byte 0xC3 at byte offset 4");
    /* non-canonical trailing bits (RFC 4648 section 3.5): "Zh==" would be
     * 'f' with a stray bit, "Zm9=" "fo" with one */
    b64_dec_fails(0, "Zh==", "non-zero trailing bits at byte offset 1");
    b64_dec_fails(0, "Zm9=", "non-zero trailing bits at byte offset 2");
    b64_dec_fails(0, "Zm9vZh==", "non-zero trailing bits at byte offset 5");
}

Test(base64url, strict_decoder_errors)
{
    b64_dec_fails(1, "Zg=", "wrong padding at byte offset 2");
    b64_dec_fails(1, "Zm8==", "wrong padding at byte offset 3");
    b64_dec_fails(1, "Zm9v=", "wrong padding at byte offset 4");
    b64_dec_fails(1, "Zm9v==", "wrong padding at byte offset 4");
    b64_dec_fails(1, "Z===", "unexpected '=' at byte offset 1");
    b64_dec_fails(1, "Zg==Zm8", "unexpected '=' at byte offset 2");
    b64_dec_fails(1, "Zm9vY", "lone character at byte offset 4");
    b64_dec_fails(1, "Z", "lone character at byte offset 0");
    b64_dec_fails(1, "Zm9v YmFy", "byte 0x20 at byte offset 4");
    b64_dec_fails(1, "Zm9v\tYmFy", "byte 0x09 at byte offset 4");
    b64_dec_fails(1, "Zh", "non-zero trailing bits at byte offset 1");
    b64_dec_fails(1, "Zm9", "non-zero trailing bits at byte offset 2");
    b64_dec_fails(1, "Zm9v.mFy", "character '.' at byte offset 4");
}

Test(base64, null_arguments_and_empty_input)
{
    uint8_t *bytes = (uint8_t *)1;
    char *text = (char *)1;
    size_t n = 5;
    expect_err(omni_base64_encode(NULL, &n, "a", 1), OMNI_EINVAL, "out is NULL");
    expect_err(omni_base64_encode(&text, &n, NULL, 1), OMNI_EINVAL, "data is NULL");
    cr_assert_null(text);
    expect_err(omni_base64url_encode(NULL, &n, "a", 1), OMNI_EINVAL, "out is NULL");
    expect_err(omni_base64_decode(NULL, &n, "Zg==", 4), OMNI_EINVAL, "out is NULL");
    expect_err(omni_base64_decode(&bytes, NULL, "Zg==", 4), OMNI_EINVAL, "out_len is NULL");
    cr_assert_null(bytes);
    bytes = (uint8_t *)1;
    expect_err(omni_base64url_decode(&bytes, &n, NULL, 4), OMNI_EINVAL, "text is NULL");
    cr_assert_null(bytes);
    /* NULL with length 0 is the empty input */
    cr_assert_eq(omni_base64_encode(&text, &n, NULL, 0), OMNI_OK);
    cr_assert_str_eq(text, "");
    cr_assert_eq(n, 0);
    omni_free(text);
    cr_assert_eq(omni_base64url_decode(&bytes, &n, NULL, 0), OMNI_OK);
    cr_assert_not_null(bytes);
    cr_assert_eq(n, 0);
    omni_free(bytes);
    /* out_len is optional for the text result */
    cr_assert_eq(omni_base64_encode(&text, NULL, "f", 1), OMNI_OK);
    cr_assert_str_eq(text, "Zg==");
    omni_free(text);
}

/* The limit is checked before the input is read, so a short buffer with a
 * large claimed length tests it without allocating 64 MiB. */
Test(base64, size_limit)
{
    static const char small[16] = "Zm9v";
    size_t big = (size_t)OMNI_CODEC_MAX_INPUT + 1;
    char *text = (char *)1;
    uint8_t *bytes = (uint8_t *)1;
    size_t n = 7;
    expect_err(omni_base64_encode(&text, &n, small, big), OMNI_ETOOLARGE, "exceeds the limit");
    cr_assert_null(text);
    cr_assert_eq(n, 0);
    expect_err(omni_base64url_encode(&text, &n, small, big), OMNI_ETOOLARGE, NULL);
    expect_err(omni_base64_decode(&bytes, &n, small, big), OMNI_ETOOLARGE, "67108865 bytes");
    cr_assert_null(bytes);
    expect_err(omni_base64url_decode(&bytes, &n, small, big), OMNI_ETOOLARGE, NULL);
    cr_assert_str_eq(omni_error_last_code(), "PAYLOAD_TOO_LARGE");
}

Test(base64, error_last_after_failure)
{
    omni_error_clear();
    uint8_t *out;
    size_t n;
    int rc = omni_base64_decode(&out, &n, "Zm9v!mFy", 8);
    cr_assert_eq(rc, OMNI_EENCODING);
    const omni_error *e = omni_error_last();
    cr_assert_eq(e->status, OMNI_EENCODING);
    cr_assert_str_eq(e->code, "INVALID_ENCODING");
    cr_assert_eq(e->retryable, 0);
    cr_assert_str_eq(e->message, "invalid base64: character '!' at byte offset 4");
    /* a later success does not clear it */
    cr_assert_eq(omni_base64_decode(&out, &n, "Zm9v", 4), OMNI_OK);
    omni_free(out);
    cr_assert_eq(omni_error_last_status(), OMNI_EENCODING);
}

Test(codec_internal, base64_append_and_decode_into)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_puts(&b, "sig=");
    omni__base64_append(&b, "foob", 4, 0);
    omni__buf_putc(&b, '&');
    omni__base64_append(&b, "\xfb\xff", 2, 1);
    omni__base64_append(&b, "", 0, 0);
    cr_assert_eq(b.failed, 0);
    cr_assert_str_eq(b.data, "sig=Zm9vYg==&-_8");
    cr_assert_eq(b.len, strlen("sig=Zm9vYg==&-_8"));
    omni__buf_free(&b);

    cr_assert_eq(omni__base64_decoded_max(0), 0);
    cr_assert_eq(omni__base64_decoded_max(2), 1);
    cr_assert_eq(omni__base64_decoded_max(3), 2);
    cr_assert_eq(omni__base64_decoded_max(4), 3);
    cr_assert_eq(omni__base64_decoded_max(8), 6);
    cr_assert_eq(omni__base64_encoded_len(4, 0), 8);
    cr_assert_eq(omni__base64_encoded_len(4, 1), 6);

    uint8_t out[6];
    size_t n = 0;
    cr_assert_eq(omni__base64_decode_into(out, sizeof(out), &n, "Zm9vYmFy", 8, 0), OMNI_OK);
    cr_assert_eq(n, 6);
    cr_assert(memcmp(out, "foobar", 6) == 0);
    cr_assert_eq(omni__base64_decode_into(out, 3, &n, "Zm9vYg", 6, 1), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "too small") != NULL);
    cr_assert_eq(omni__base64_decode_into(out, 4, &n, "Zm9vYg", 6, 1), OMNI_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(omni__base64_decode_into(NULL, 0, &n, "", 0, 0), OMNI_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(omni__base64_decode_into(out, sizeof(out), &n, "Zm9v+mFy", 8, 1), OMNI_EENCODING);

    /* a failed buffer stays failed and untouched */
    omni_buf f = OMNI_BUF_INIT;
    f.failed = OMNI_ENOMEM;
    omni__base64_append(&f, "abc", 3, 0);
    cr_assert_null(f.data);
    omni_buf lim;
    omni__buf_init(&lim, 5);
    omni__base64_append(&lim, "abcdef", 6, 0);
    cr_assert_eq(lim.failed, OMNI_ETOOLARGE);
    omni__buf_free(&lim);
}

/* ---- percent-encoding (RFC 3986) ---------------------------------------- */

static void url_enc_is(const char *in, size_t len, const char *want)
{
    char *out;
    size_t n;
    cr_assert_eq(omni_url_encode(&out, &n, in, len), OMNI_OK);
    cr_assert_str_eq(out, want);
    cr_assert_eq(n, strlen(want));
    omni_free(out);
}

static void url_dec_is(const char *in, const char *want, size_t want_len)
{
    char *out;
    size_t n;
    cr_assert_eq(omni_url_decode(&out, &n, in, strlen(in)), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_eq(n, want_len);
    cr_assert(memcmp(out, want, n) == 0);
    cr_assert_eq(out[n], '\0');
    omni_free(out);
}

static void url_dec_fails(const char *in, const char *needle)
{
    char *out = (char *)1;
    size_t n = 3;
    expect_err(omni_url_decode(&out, &n, in, strlen(in)), OMNI_EENCODING, needle);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
}

/* RFC 3986 section 2.5: "A" stays, U+00C0 is %C3%80, U+30A2 is %E3%82%A2;
 * section 2.1: space is %20 and upper-case hex digits are used. */
Test(url, rfc3986_examples)
{
    url_enc_is("A", 1, "A");
    url_enc_is("\xc3\x80", 2, "%C3%80");
    url_enc_is("\xe3\x82\xa2", 3, "%E3%82%A2");
    url_enc_is(" ", 1, "%20");
    url_dec_is("%C3%80", "\xc3\x80", 2);
    url_dec_is("%E3%82%A2", "\xe3\x82\xa2", 3);
    /* section 6.2.2.1/6.2.2.2: lower-case hex is equivalent; %7E is '~' */
    url_dec_is("%c3%80", "\xc3\x80", 2);
    url_dec_is("%7Euser", "~user", 5);
    url_enc_is("~user", 5, "~user");
    /* section 2.2 reserved characters are encoded */
    url_enc_is(":/?#[]@!$&'()*+,;=", 18,
               "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D");
    url_enc_is("a+b c", 5, "a%2Bb%20c");
    url_enc_is("", 0, "");
}

/* RFC 3986 section 2.3: exactly ALPHA DIGIT - . _ ~ stay. */
Test(url, every_byte)
{
    for (int c = 0; c < 256; c++) {
        char in = (char)c;
        char *out;
        size_t n;
        cr_assert_eq(omni_url_encode(&out, &n, &in, 1), OMNI_OK);
        int unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            cr_assert_eq(n, 1);
            cr_assert_eq(out[0], in);
        } else {
            char want[4];
            snprintf(want, sizeof(want), "%%%02X", c);
            cr_assert_str_eq(out, want);
        }
        char *back;
        size_t m;
        cr_assert_eq(omni_url_decode(&back, &m, out, n), OMNI_OK);
        cr_assert_eq(m, 1);
        cr_assert_eq(back[0], in);
        omni_free(out);
        omni_free(back);
    }
}

Test(url, decode_keeps_plus_and_other_bytes)
{
    url_dec_is("a+b", "a+b", 3);
    url_dec_is("a b~*", "a b~*", 5);
    url_dec_is("%00x", "\0x", 2);
    url_dec_is("%25%2525", "%%25", 4);
    url_dec_is("%FF%fe", "\xff\xfe", 2);
    url_dec_is("", "", 0);
}

Test(url, decode_errors)
{
    url_dec_fails("%", "truncated percent-encoding at byte offset 0");
    url_dec_fails("ab%4", "truncated percent-encoding at byte offset 2");
    url_dec_fails("%zz", "invalid percent-encoding at byte offset 0");
    url_dec_fails("a%g1", "invalid percent-encoding at byte offset 1");
    url_dec_fails("a%4g", "invalid percent-encoding at byte offset 1");
    url_dec_fails("%%41", "invalid percent-encoding at byte offset 0");
    url_dec_fails("ok%20%", "truncated percent-encoding at byte offset 5");
    url_dec_fails("x%z", "invalid percent-encoding at byte offset 1");
    url_dec_fails("x% 1", "invalid percent-encoding at byte offset 1");
}

Test(url, null_arguments_and_limit)
{
    char *out = (char *)1;
    size_t n = 1;
    expect_err(omni_url_encode(NULL, &n, "a", 1), OMNI_EINVAL, "out is NULL");
    expect_err(omni_url_encode(&out, &n, NULL, 2), OMNI_EINVAL, "input is NULL");
    cr_assert_null(out);
    expect_err(omni_url_decode(NULL, &n, "a", 1), OMNI_EINVAL, "out is NULL");
    expect_err(omni_url_decode(&out, &n, NULL, 1), OMNI_EINVAL, "input is NULL");
    size_t big = (size_t)OMNI_CODEC_MAX_INPUT + 1;
    expect_err(omni_url_encode(&out, &n, "abc", big), OMNI_ETOOLARGE, "exceeds the limit");
    expect_err(omni_url_decode(&out, &n, "abc", big), OMNI_ETOOLARGE, "exceeds the limit");
    cr_assert_null(out);
    cr_assert_eq(omni_url_decode(&out, NULL, NULL, 0), OMNI_OK);
    cr_assert_str_eq(out, "");
    omni_free(out);
    cr_assert_eq(omni_url_encode(&out, NULL, "a b", 3), OMNI_OK);
    cr_assert_str_eq(out, "a%20b");
    omni_free(out);
}

Test(codec_internal, url_modes_and_decode_append)
{
    omni_buf b = OMNI_BUF_INIT;
    const char *s = "/a b/~c*+";
    omni__url_encode_append(&b, s, strlen(s), OMNI__PCT_RFC3986);
    omni__buf_putc(&b, '|');
    omni__url_encode_append(&b, s, strlen(s), OMNI__PCT_PATH);
    omni__buf_putc(&b, '|');
    omni__url_encode_append(&b, s, strlen(s), OMNI__PCT_FORM);
    cr_assert_eq(b.failed, 0);
    cr_assert_str_eq(b.data, "%2Fa%20b%2F~c%2A%2B|/a%20b/~c%2A%2B|%2Fa+b%2F%7Ec*%2B");
    omni__buf_reset(&b);
    cr_assert_eq(omni__url_decode_append(&b, "a+b%20", 6, 0), OMNI_OK);
    cr_assert_eq(omni__url_decode_append(&b, "|a+b%20", 7, 1), OMNI_OK);
    cr_assert_str_eq(b.data, "a+b |a b ");
    size_t before = b.len;
    expect_err(omni__url_decode_append(&b, "x%2", 3, 1), OMNI_EENCODING, "byte offset 1");
    cr_assert_eq(b.len, before);
    cr_assert_str_eq(b.data, "a+b |a b ");
    omni__buf_free(&b);
}

/* ---- form decode ----------------------------------------------------------- */

static void form_dec_is(const char *body, size_t len, const char *want_json)
{
    char *out;
    size_t n;
    cr_assert_eq(omni_form_decode(&out, &n, body, len), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_str_eq(out, want_json);
    cr_assert_eq(n, strlen(want_json));
    omni_free(out);
}

static void form_dec_fails(const char *body, const char *needle)
{
    char *out = (char *)1;
    size_t n = 1;
    expect_err(omni_form_decode(&out, &n, body, strlen(body)), OMNI_EENCODING, needle);
    cr_assert_null(out);
}

#define FD(body, want) form_dec_is(body, strlen(body), want)

Test(form, decode_header_example_and_rules)
{
    FD("a=1&b=x+y&a=2", "[[\"a\",\"1\"],[\"b\",\"x y\"],[\"a\",\"2\"]]");
    FD("", "[]");
    FD("&&&", "[]");
    FD("a=1&&b", "[[\"a\",\"1\"],[\"b\",\"\"]]");
    FD("&a=&", "[[\"a\",\"\"]]");
    FD("=v", "[[\"\",\"v\"]]");
    FD("=", "[[\"\",\"\"]]");
    FD("d=a=b", "[[\"d\",\"a=b\"]]");
    FD("c=%2B&p=+", "[[\"c\",\"+\"],[\"p\",\" \"]]");
    FD("a+b=c+d%20e", "[[\"a b\",\"c d e\"]]");
    FD("k=%26%3D%25", "[[\"k\",\"&=%\"]]");
    FD("q=%22%5C", "[[\"q\",\"\\\"\\\\\"]]");
    FD("n=%0A%00%1f", "[[\"n\",\"\\n\\u0000\\u001f\"]]");
    FD("a=1;b=2", "[[\"a\",\"1;b=2\"]]");
}

Test(form, decode_utf8_multibyte)
{
    FD("name=%C3%A9t%C3%A9&sym=%E2%82%AC&g=%F0%9D%84%9E",
       "[[\"name\",\"\xc3\xa9t\xc3\xa9\"],[\"sym\",\"\xe2\x82\xac\"],"
       "[\"g\",\"\xf0\x9d\x84\x9e\"]]");
    /* raw (not percent-encoded) UTF-8 is accepted too */
    FD("q=caf\xc3\xa9", "[[\"q\",\"caf\xc3\xa9\"]]");
    /* Twilio-style body */
    FD("From=%2B15551234567&Body=Hello+w%C3%B6rld%21&NumMedia=0",
       "[[\"From\",\"+15551234567\"],[\"Body\",\"Hello w\xc3\xb6rld!\"],[\"NumMedia\",\"0\"]]");
}

Test(form, decode_errors_name_the_offset)
{
    form_dec_fails("a=%", "truncated percent-encoding at byte offset 2");
    form_dec_fails("a=%4", "truncated percent-encoding at byte offset 2");
    form_dec_fails("a=%4&b=1", "truncated percent-encoding at byte offset 2");
    form_dec_fails("x=1&a=%zz", "invalid percent-encoding at byte offset 6");
    form_dec_fails("a%2=1", "truncated percent-encoding at byte offset 1");
    form_dec_fails("a%2x=1", "invalid percent-encoding at byte offset 1");
    /* overlong C0 80 */
    form_dec_fails("a=%C0%80", "value is not UTF-8 at byte offset 2 (overlong encoding)");
    form_dec_fails("a=%E0%80%80", "byte offset 2 (overlong encoding)");
    /* surrogate U+D800 as ED A0 80 */
    form_dec_fails("a=%ED%A0%80", "byte offset 2 (encoded surrogate");
    /* U+110000 as F4 90 80 80 */
    form_dec_fails("a=%F4%90%80%80", "byte offset 2 (code point above U+10FFFF)");
    /* truncated sequences */
    form_dec_fails("a=%E2%82", "byte offset 2 (truncated sequence");
    form_dec_fails("a=%E2%82&b=1", "byte offset 2 (truncated sequence");
    form_dec_fails("a=x%C3", "byte offset 3 (truncated sequence");
    /* a sequence split across '=' is invalid in both halves */
    form_dec_fails("%C3=%A9", "name is not UTF-8 at byte offset 0");
    form_dec_fails("ok=1&b=x%C3%28", "value is not UTF-8 at byte offset 8 (missing continuation");
    form_dec_fails("a=\xff", "byte offset 2 (byte that never appears in UTF-8)");
    form_dec_fails("a=%80", "byte offset 2 (unexpected continuation byte)");
    form_dec_fails("a=b+%C3%A9%FF", "byte offset 10");
    cr_assert_str_eq(omni_error_last_code(), "INVALID_ENCODING");
}

Test(form, decode_null_arguments_and_limit)
{
    char *out = (char *)1;
    size_t n = 1;
    expect_err(omni_form_decode(NULL, &n, "a=1", 3), OMNI_EINVAL, "out is NULL");
    expect_err(omni_form_decode(&out, &n, NULL, 3), OMNI_EINVAL, "input is NULL");
    cr_assert_null(out);
    expect_err(omni_form_decode(&out, &n, "a=1", (size_t)OMNI_CODEC_MAX_INPUT + 1),
               OMNI_ETOOLARGE, "exceeds the limit");
    cr_assert_null(out);
    cr_assert_eq(omni_form_decode(&out, NULL, NULL, 0), OMNI_OK);
    cr_assert_str_eq(out, "[]");
    omni_free(out);
}

Test(codec_internal, form_parse_pairs)
{
    static const char body[] = "To=%2B1555&Body=hi+there&&To=second&flag&nul=a%00b&=x";
    omni__pairs p;
    cr_assert_eq(omni__form_parse(&p, body, strlen(body)), OMNI_OK);
    cr_assert_eq(p.count, 6);
    /* one block: the strings follow the array */
    cr_assert_eq((void *)p.storage, (void *)(p.items + p.count));
    cr_assert_str_eq(p.items[0].name, "To");
    cr_assert_str_eq(p.items[0].value, "+1555");
    cr_assert_eq(p.items[0].value_len, 5);
    cr_assert_str_eq(p.items[1].value, "hi there");
    cr_assert_str_eq(omni__pairs_get(&p, "To"), "+1555");
    cr_assert_str_eq(p.items[2].value, "second");
    cr_assert_str_eq(omni__pairs_get(&p, "flag"), "");
    cr_assert_null(omni__pairs_get(&p, "to"));
    cr_assert_null(omni__pairs_get(&p, "missing"));
    cr_assert_null(omni__pairs_get(&p, NULL));
    const omni__pair *nul = omni__pairs_find(&p, "nul", 3);
    cr_assert_not_null(nul);
    cr_assert_eq(nul->value_len, 3);
    cr_assert(memcmp(nul->value, "a\0b", 4) == 0);
    cr_assert_str_eq(omni__pairs_get(&p, ""), "x");
    cr_assert_null(omni__pairs_find(&p, "Bod", 3));
    omni__pairs_free(&p);
    cr_assert_null(p.items);
    cr_assert_eq(p.count, 0);
    omni__pairs_free(&p);
    omni__pairs_free(NULL);

    cr_assert_eq(omni__form_parse(&p, "&&", 2), OMNI_OK);
    cr_assert_eq(p.count, 0);
    cr_assert_null(p.items);
    cr_assert_null(omni__pairs_get(&p, "a"));
    omni__pairs_free(&p);

    cr_assert_eq(omni__form_parse(&p, "a=1&b=%G0", 9), OMNI_EENCODING);
    cr_assert_null(p.items);
    cr_assert_eq(p.count, 0);
    cr_assert_eq(omni__form_parse(NULL, "a", 1), OMNI_EINVAL);
    cr_assert_eq(omni__form_parse(&p, NULL, 1), OMNI_EINVAL);
    cr_assert_eq(omni__form_parse(&p, "a", (size_t)OMNI_CODEC_MAX_INPUT + 1), OMNI_ETOOLARGE);
}

/* ---- form encode ------------------------------------------------------------ */

static void form_enc_is(const char *json, const char *want)
{
    char *out;
    size_t n;
    cr_assert_eq(omni_form_encode(&out, &n, json, strlen(json)), OMNI_OK, "%s: %s", json,
                 omni_error_last_message());
    cr_assert_str_eq(out, want);
    cr_assert_eq(n, strlen(want));
    omni_free(out);
}

static void form_enc_fails(const char *json, int status, const char *needle)
{
    char *out = (char *)1;
    size_t n = 1;
    expect_err(omni_form_encode(&out, &n, json, strlen(json)), status, needle);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
}

Test(form, encode_pairs_and_object)
{
    form_enc_is("[[\"a\",\"1\"],[\"b\",\"x y\"],[\"a\",\"2\"]]", "a=1&b=x+y&a=2");
    form_enc_is("{\"name\":\"value\",\"To\":\"+15551234567\"}", "name=value&To=%2B15551234567");
    form_enc_is("[]", "");
    form_enc_is("{}", "");
    form_enc_is("[[\"\",\"\"]]", "=");
    form_enc_is("[[\"a\",\"\"],[\"\",\"b\"]]", "a=&=b");
    form_enc_is("{\"k\":\"1\",\"k\":\"2\"}", "k=1&k=2");
    form_enc_is("[[\"\\u00e9\",\"\xe2\x82\xac\"]]", "%C3%A9=%E2%82%AC");
    form_enc_is("[[\"emoji\",\"\\ud83d\\ude00\"]]", "emoji=%F0%9F%98%80");
    /* an escaped backslash followed by "u0000" is not a NUL */
    form_enc_is("[[\"a\",\"\\\\u0000\"]]", "a=%5Cu0000");
}

/* Golden output of URLSearchParams.toString() (the WHATWG serializer) for
 * new URLSearchParams([["a b","~*!'()-._"],["k","é+%&="],["",""]]). */
Test(form, encode_matches_whatwg_serializer)
{
    form_enc_is("[[\"a b\",\"~*!'()-._\"],[\"k\",\"\xc3\xa9+%&=\"],[\"\",\"\"]]",
                "a+b=%7E*%21%27%28%29-._&k=%C3%A9%2B%25%26%3D&=");
    /* every ASCII byte but NUL: only * - . _ 0-9 A-Z a-z stay, ' ' is '+' */
    char json[1024];
    char want[1024];
    size_t j = 0, w = 0;
    j += (size_t)snprintf(json + j, sizeof(json) - j, "[[\"v\",\"");
    w += (size_t)snprintf(want + w, sizeof(want) - w, "v=");
    for (int c = 1; c < 128; c++) {
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
            j += (size_t)snprintf(json + j, sizeof(json) - j, "\\u%04x", (unsigned)c);
        else
            json[j++] = (char)c;
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '*' || c == '-' || c == '.' || c == '_';
        if (keep)
            want[w++] = (char)c;
        else if (c == ' ')
            want[w++] = '+';
        else
            w += (size_t)snprintf(want + w, sizeof(want) - w, "%%%02X", (unsigned)c);
    }
    j += (size_t)snprintf(json + j, sizeof(json) - j, "\"]]");
    want[w] = '\0';
    form_enc_is(json, want);
}

Test(form, encode_decode_round_trip)
{
    static const char *const pairs =
        "[[\"a\",\"1\"],[\"b\",\"x y+z\"],[\"a\",\"\"],[\"\",\"v\"],[\"k=&%\",\"%2B\"],"
        "[\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\",\"\\t\\n~\"]]";
    char *body;
    size_t body_len;
    cr_assert_eq(omni_form_encode(&body, &body_len, pairs, strlen(pairs)), OMNI_OK);
    char *json;
    size_t json_len;
    cr_assert_eq(omni_form_decode(&json, &json_len, body, body_len), OMNI_OK);
    cr_assert_str_eq(json, "[[\"a\",\"1\"],[\"b\",\"x y+z\"],[\"a\",\"\"],[\"\",\"v\"],"
                           "[\"k=&%\",\"%2B\"],[\"\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\","
                           "\"\\t\\n~\"]]");
    /* and the decoded JSON encodes to the same body */
    char *again;
    cr_assert_eq(omni_form_encode(&again, NULL, json, json_len), OMNI_OK);
    cr_assert_str_eq(again, body);
    omni_free(body);
    omni_free(json);
    omni_free(again);
}

Test(form, encode_errors)
{
    form_enc_fails("[1]", OMNI_EINVAL, "element 0 must be a [name, value] array");
    form_enc_fails("[[\"a\",\"1\"],[\"b\"]]", OMNI_EINVAL,
                   "element 1 must be a [name, value] array of two strings, not an array");
    form_enc_fails("[[\"a\",1]]", OMNI_EINVAL, "element 0");
    form_enc_fails("[[null,\"1\"]]", OMNI_EINVAL, "element 0");
    form_enc_fails("[[\"a\",\"b\",\"c\"]]", OMNI_EINVAL, "element 0");
    form_enc_fails("[[]]", OMNI_EINVAL, "element 0");
    form_enc_fails("[{\"a\":\"b\"}]", OMNI_EINVAL, "not an object");
    form_enc_fails("{\"a\":\"1\",\"b\":2}", OMNI_EINVAL,
                   "the value of \"b\" must be a string, not a number");
    form_enc_fails("{\"a\":null}", OMNI_EINVAL, "not null");
    form_enc_fails("{\"a\":true}", OMNI_EINVAL, "not a boolean");
    form_enc_fails("{\"a\":[\"x\"]}", OMNI_EINVAL, "not an array");
    form_enc_fails("\"a=1\"", OMNI_EINVAL, "not a string");
    form_enc_fails("42", OMNI_EINVAL, "not a number");
    form_enc_fails("null", OMNI_EINVAL, "not null");
    form_enc_fails("[[\"a\",\"x\\u0000y\"]]", OMNI_EINVAL, "U+0000");
    form_enc_fails("{\"\\u0000\":\"x\"}", OMNI_EINVAL, "U+0000");
    form_enc_fails("[", OMNI_EJSON, "form pairs");
    form_enc_fails("", OMNI_EJSON, "empty document");
    form_enc_fails("[[\"a\",\"\xc0\x80\"]]", OMNI_EJSON, NULL);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_JSON");
}

Test(form, encode_null_arguments_and_limit)
{
    char *out = (char *)1;
    size_t n = 1;
    expect_err(omni_form_encode(NULL, &n, "[]", 2), OMNI_EINVAL, "out is NULL");
    expect_err(omni_form_encode(&out, &n, NULL, 2), OMNI_EINVAL, "input is NULL");
    cr_assert_null(out);
    expect_err(omni_form_encode(&out, &n, "[]", (size_t)OMNI_CODEC_MAX_INPUT + 1),
               OMNI_ETOOLARGE, "exceeds the limit");
    cr_assert_null(out);
}

/* ---- UTF-8 ------------------------------------------------------------------ */

static void utf8_ok(const char *s, size_t n)
{
    size_t off = 12345;
    cr_assert_eq(omni_utf8_validate(s, n, &off), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(off, 12345, "offset untouched on success");
    cr_assert_eq(omni__utf8_valid(s, n, NULL), 1);
}

static void utf8_bad(const char *s, size_t n, size_t want_off, const char *reason)
{
    size_t off = 12345;
    expect_err(omni_utf8_validate(s, n, &off), OMNI_EENCODING, reason);
    cr_assert_eq(off, want_off, "offset %zu, want %zu", off, want_off);
    char at[48];
    snprintf(at, sizeof(at), "at byte offset %zu", want_off);
    cr_assert(strstr(omni_error_last_message(), at) != NULL, "%s", omni_error_last_message());
    size_t off2 = 0;
    cr_assert_eq(omni__utf8_valid(s, n, &off2), 0);
    cr_assert_eq(off2, want_off);
    /* the prefix before the offset is valid */
    cr_assert_eq(omni__utf8_valid(s, want_off, NULL), 1);
}

#define OK8(lit) utf8_ok(lit, sizeof(lit) - 1)
#define BAD8(lit, off, reason) utf8_bad(lit, sizeof(lit) - 1, off, reason)

/* RFC 3629 section 4 (syntax) and the boundaries of Unicode table 3-7. */
Test(utf8, valid_sequences_and_boundaries)
{
    OK8("");
    OK8("plain ASCII text that is longer than eight bytes, with \x7f and \x01");
    OK8("\x00");
    OK8("\xc2\x80");         /* U+0080 */
    OK8("\xdf\xbf");         /* U+07FF */
    OK8("\xe0\xa0\x80");     /* U+0800 */
    OK8("\xed\x9f\xbf");     /* U+D7FF */
    OK8("\xee\x80\x80");     /* U+E000 */
    OK8("\xef\xbf\xbf");     /* U+FFFF */
    OK8("\xf0\x90\x80\x80"); /* U+10000 */
    OK8("\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    /* RFC 3629 section 7 examples */
    OK8("\x41\xe2\x89\xa2\xce\x91\x2e");         /* A<NOT IDENTICAL TO><ALPHA>. */
    OK8("\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4"); /* Korean "hangugeo" */
    OK8("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"); /* Japanese "nihongo" */
    OK8("\xef\xbb\xbf\xf0\xa3\x8e\xb4");         /* BOM + U+233B4 */
    OK8("mixed caf\xc3\xa9 and \xf0\x9f\x98\x80 emoji, then ASCII again......");
}

Test(utf8, invalid_sequences_name_offset_and_reason)
{
    BAD8("\xc0\x80", 0, "overlong encoding");
    BAD8("\xc1\xbf", 0, "overlong encoding");
    BAD8("\xe0\x80\x80", 0, "overlong encoding");
    BAD8("\xe0\x9f\xbf", 0, "overlong encoding");
    BAD8("\xf0\x80\x80\x80", 0, "overlong encoding");
    BAD8("\xf0\x8f\xbf\xbf", 0, "overlong encoding");
    BAD8("\xed\xa0\x80", 0, "encoded surrogate");
    BAD8("\xed\xbf\xbf", 0, "encoded surrogate");
    BAD8("\xf4\x90\x80\x80", 0, "code point above U+10FFFF");
    BAD8("\xf5\x80\x80\x80", 0, "byte that never appears in UTF-8");
    BAD8("\xff", 0, "byte that never appears in UTF-8");
    BAD8("\xfe\xfe\xff\xff", 0, "never appears");
    BAD8("\x80", 0, "unexpected continuation byte");
    BAD8("a\xbf", 1, "unexpected continuation byte");
    BAD8("\xc3", 0, "truncated sequence at end of input");
    BAD8("ab\xe2\x82", 2, "truncated sequence");
    BAD8("\xf0\x9f\x98", 0, "truncated sequence");
    BAD8("\xc3\x41", 0, "missing continuation byte");
    BAD8("\xe2\x28\xa1", 0, "missing continuation byte");
    BAD8("\xe2\x82\x28", 0, "missing continuation byte");
    BAD8("\xf0\x9f\x98\x28", 0, "missing continuation byte");
    BAD8("\xc3\xa9\xc3\xa9\xc3", 4, "truncated");
    /* after an ASCII run checked eight bytes at a time */
    BAD8("0123456789abcdefghij\xc0\x80", 20, "overlong");
    BAD8("01234567\xed\xa0\x80xxxxxxxxxxx", 8, "surrogate");
    BAD8("0123\xff" "5678901234", 4, "never appears");
    BAD8("0123456789abcdef\xc3\xa9\xe2\x82\xac\xf4\x90\x80\x80", 21, "above U+10FFFF");
}

Test(utf8, arguments)
{
    expect_err(omni_utf8_validate(NULL, 1, NULL), OMNI_EINVAL, "text is NULL");
    cr_assert_eq(omni_utf8_validate(NULL, 0, NULL), OMNI_OK);
    expect_err(omni_utf8_validate("\xc0\x80", 2, NULL), OMNI_EENCODING, "byte offset 0");
    cr_assert_str_eq(omni_error_last()->message,
                     "invalid UTF-8 at byte offset 0 (byte 0xC0): overlong encoding");
    /* the internal check does not touch the last error */
    omni_error_clear();
    cr_assert_eq(omni__utf8_valid("\xff", 1, NULL), 0);
    cr_assert_eq(omni_error_last_status(), OMNI_OK);
}

/* Reference: decode by the definition (code point ranges), compare. */
static int ref_valid(const uint8_t *s, size_t n)
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
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

Test(utf8, agrees_with_reference_on_all_short_sequences)
{
    uint8_t s[4];
    for (uint32_t v = 0; v < 0x1000000; v++) {
        s[0] = (uint8_t)(v >> 16);
        s[1] = (uint8_t)(v >> 8);
        s[2] = (uint8_t)v;
        if (omni__utf8_valid((const char *)s, 3, NULL) != ref_valid(s, 3))
            cr_assert_fail("3-byte %02X %02X %02X disagrees", s[0], s[1], s[2]);
        if (s[2] == 0 && omni__utf8_valid((const char *)s, 2, NULL) != ref_valid(s, 2))
            cr_assert_fail("2-byte %02X %02X disagrees", s[0], s[1]);
    }
    static const uint8_t edge[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    for (uint32_t a = 0xE0; a <= 0xFF; a++)
        for (uint32_t b = 0; b < 256; b++)
            for (size_t c = 0; c < sizeof(edge); c++)
                for (size_t d = 0; d < sizeof(edge); d++) {
                    s[0] = (uint8_t)a;
                    s[1] = (uint8_t)b;
                    s[2] = edge[c];
                    s[3] = edge[d];
                    if (omni__utf8_valid((const char *)s, 4, NULL) != ref_valid(s, 4))
                        cr_assert_fail("4-byte %02X %02X %02X %02X disagrees", s[0], s[1], s[2],
                                       s[3]);
                }
}
