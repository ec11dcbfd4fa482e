/* base64 and base64url (RFC 4648 sections 4 and 5): table-driven encoder
 * into omni_buf, strict decoder into caller memory, public wrappers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/encoding.h>

#include "codec.h"
#include "error.h"

static const char enc_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char enc_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decoding tables: the 6-bit value, or XX for a byte outside the alphabet
 * ('=' included: padding is stripped before decoding). */
#define XX 0x80
static const uint8_t dec_std[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
static const uint8_t dec_url[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, XX, XX, XX,
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
#undef XX

/* Largest input whose encoded length still fits a size_t. */
#define ENC_MAX_INPUT (SIZE_MAX / 4 * 3 - 3)

size_t omni__base64_encoded_len(size_t len, int url_no_pad)
{
    size_t full = len / 3 * 4;
    size_t rem = len % 3;
    if (!rem)
        return full;
    return full + (url_no_pad ? rem + 1 : 4);
}

size_t omni__base64_decoded_max(size_t n)
{
    return n / 4 * 3 + (n % 4) * 3 / 4;
}

static void encode_raw(char *o, const uint8_t *p, size_t len, int url_no_pad)
{
    const char *a = url_no_pad ? enc_url : enc_std;
    size_t i = 0;
    for (; len - i >= 3; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = a[v >> 18];
        o[1] = a[(v >> 12) & 63];
        o[2] = a[(v >> 6) & 63];
        o[3] = a[v & 63];
        o += 4;
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        o[0] = a[v >> 18];
        o[1] = a[(v >> 12) & 63];
        if (!url_no_pad) {
            o[2] = '=';
            o[3] = '=';
        }
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        o[0] = a[v >> 18];
        o[1] = a[(v >> 12) & 63];
        o[2] = a[(v >> 6) & 63];
        if (!url_no_pad)
            o[3] = '=';
    }
}

void omni__base64_append(omni_buf *b, const void *data, size_t len, int url_no_pad)
{
    if (b->failed)
        return;
    if (len > ENC_MAX_INPUT) {
        b->failed = OMNI_ENOMEM;
        return;
    }
    size_t n = omni__base64_encoded_len(len, url_no_pad);
    if (omni__buf_reserve(b, n))
        return;
    encode_raw(b->data + b->len, data, len, url_no_pad);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Error for the byte at s[off], which is outside the alphabet. */
static int bad_char(const char *s, size_t off, int url)
{
    unsigned c = (unsigned char)s[off];
    const char *what = url ? "base64url" : "base64";
    if (c == '=')
        return omni__err(OMNI_EENCODING, "invalid %s: unexpected '=' at byte offset %zu", what,
                         off);
    if (url && (c == '+' || c == '/'))
        return omni__err(OMNI_EENCODING,
                         "invalid base64url: '%c' at byte offset %zu belongs to the standard "
                         "alphabet, not base64url",
                         (int)c, off);
    if (!url && (c == '-' || c == '_'))
        return omni__err(OMNI_EENCODING,
                         "invalid base64: '%c' at byte offset %zu belongs to the base64url "
                         "alphabet, not base64",
                         (int)c, off);
    if (c > 0x20 && c < 0x7F)
        return omni__err(OMNI_EENCODING, "invalid %s: character '%c' at byte offset %zu", what,
                         (int)c, off);
    return omni__err(OMNI_EENCODING, "invalid %s: byte 0x%02X at byte offset %zu", what, c, off);
}

int omni__base64_decode_into(uint8_t *out, size_t cap, size_t *out_len, const char *s, size_t n,
                             int url)
{
    const uint8_t *t = url ? dec_url : dec_std;
    const char *what = url ? "base64url" : "base64";
    const unsigned char *p = (const unsigned char *)s;
    size_t pad = 0;
    while (pad < 2 && pad < n && p[n - 1 - pad] == '=')
        pad++;
    size_t d = n - pad;
    size_t rem = d % 4;
    size_t full = d - rem;
    size_t need = full / 4 * 3 + (rem > 1 ? rem - 1 : 0);
    if (need > cap)
        return omni__err(OMNI_EINVAL, "%s: output buffer of %zu bytes is too small (%zu needed)",
                         what, cap, need);
    uint8_t *o = out;
    for (size_t i = 0; i < full; i += 4) {
        uint32_t a = t[p[i]], b = t[p[i + 1]], c = t[p[i + 2]], e = t[p[i + 3]];
        if ((a | b | c | e) & 0x80) {
            size_t k = i;
            while (!(t[p[k]] & 0x80))
                k++;
            return bad_char(s, k, url);
        }
        uint32_t v = a << 18 | b << 12 | c << 6 | e;
        o[0] = (uint8_t)(v >> 16);
        o[1] = (uint8_t)(v >> 8);
        o[2] = (uint8_t)v;
        o += 3;
    }
    for (size_t k = full; k < d; k++)
        if (t[p[k]] & 0x80)
            return bad_char(s, k, url);
    if (rem == 1)
        return omni__err(OMNI_EENCODING,
                         "invalid %s: truncated input, a lone character at byte offset %zu "
                         "cannot encode a byte",
                         what, full);
    if (rem >= 2) {
        uint32_t a = t[p[full]], b = t[p[full + 1]];
        if (rem == 2) {
            if (b & 0x0F)
                return omni__err(OMNI_EENCODING,
                                 "invalid %s: non-zero trailing bits at byte offset %zu "
                                 "(non-canonical encoding)",
                                 what, full + 1);
            *o++ = (uint8_t)(a << 2 | b >> 4);
        } else {
            uint32_t c = t[p[full + 2]];
            if (c & 0x03)
                return omni__err(OMNI_EENCODING,
                                 "invalid %s: non-zero trailing bits at byte offset %zu "
                                 "(non-canonical encoding)",
                                 what, full + 2);
            *o++ = (uint8_t)(a << 2 | b >> 4);
            *o++ = (uint8_t)(b << 4 | c >> 2);
        }
    }
    if (pad) {
        /* With rem 2 or 3, padding is correct exactly when the total length
         * is a multiple of 4; with rem 0 any '=' is wrong. */
        if (rem == 0 || n % 4 != 0)
            return omni__err(OMNI_EENCODING,
                             "invalid %s: wrong padding at byte offset %zu (%zu '=' after %zu "
                             "characters)",
                             what, d, pad, d);
    } else if (!url && rem) {
        return omni__err(OMNI_EENCODING,
                         "invalid base64: missing padding at byte offset %zu (length %zu is "
                         "not a multiple of 4)",
                         n, n);
    }
    *out_len = need;
    return OMNI_OK;
}

static int encode_pub(char **out, size_t *out_len, const void *data, size_t len, int url,
                      const char *fn)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!data && len)
        return omni__err(OMNI_EINVAL, "%s: data is NULL", fn);
    if (len > OMNI_CODEC_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "%s: input of %zu bytes exceeds the limit of %u bytes",
                         fn, len, OMNI_CODEC_MAX_INPUT);
    omni_buf b = OMNI_BUF_INIT;
    omni__base64_append(&b, data, len, url);
    return omni__buf_detach(&b, out, out_len);
}

static int decode_pub(uint8_t **out, size_t *out_len, const char *text, size_t len, int url,
                      const char *fn)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    if (!out_len)
        return omni__err(OMNI_EINVAL, "%s: out_len is NULL", fn);
    *out_len = 0;
    if (!text && len)
        return omni__err(OMNI_EINVAL, "%s: text is NULL", fn);
    if (len > OMNI_CODEC_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "%s: input of %zu bytes exceeds the limit of %u bytes",
                         fn, len, OMNI_CODEC_MAX_INPUT);
    size_t cap = omni__base64_decoded_max(len);
    uint8_t *buf = malloc(cap + 1);
    if (!buf)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t n = 0;
    int rc = omni__base64_decode_into(buf, cap, &n, text, len, url);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return OMNI_OK;
}

int omni_base64_encode(char **out, size_t *out_len, const void *data, size_t len)
{
    return encode_pub(out, out_len, data, len, 0, "omni_base64_encode");
}

int omni_base64_decode(uint8_t **out, size_t *out_len, const char *text, size_t len)
{
    return decode_pub(out, out_len, text, len, 0, "omni_base64_decode");
}

int omni_base64url_encode(char **out, size_t *out_len, const void *data, size_t len)
{
    return encode_pub(out, out_len, data, len, 1, "omni_base64url_encode");
}

int omni_base64url_decode(uint8_t **out, size_t *out_len, const char *text, size_t len)
{
    return decode_pub(out, out_len, text, len, 1, "omni_base64url_decode");
}
