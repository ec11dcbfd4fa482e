/* UTF-8 validation (RFC 3629): a lead-byte class table, an eight-byte ASCII
 * fast path, and omni_utf8_validate(). */
#include <stdio.h>
#include <string.h>

#include <omni/encoding.h>

#include "codec.h"
#include "error.h"

/* Lead byte classes: ASCII, never valid, and the multi-byte leads whose
 * second byte has a restricted range (Unicode 15, table 3-7). */
enum { U_A, U_X, U_2, U_E0, U_3, U_ED, U_F0, U_4, U_F4 };

static const uint8_t lead_class[256] = {
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,  U_A,
     U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,
     U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,
     U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,
     U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,
     U_X,  U_X,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,
     U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,  U_2,
    U_E0,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3,  U_3, U_ED,  U_3,  U_3,
    U_F0,  U_4,  U_4,  U_4, U_F4,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,  U_X,
};

/* Per class: sequence length (0: invalid lead) and the second byte's range. */
static const struct {
    uint8_t len, lo, hi;
} seq_info[] = {
    [U_A] = {1, 0x00, 0x7F},  [U_X] = {0, 0xFF, 0x00},  [U_2] = {2, 0x80, 0xBF},
    [U_E0] = {3, 0xA0, 0xBF}, [U_3] = {3, 0x80, 0xBF},  [U_ED] = {3, 0x80, 0x9F},
    [U_F0] = {4, 0x90, 0xBF}, [U_4] = {4, 0x80, 0xBF},  [U_F4] = {4, 0x80, 0x8F},
};

#define ASCII_MASK 0x8080808080808080ull

int omni__utf8_valid(const char *s, size_t n, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & ASCII_MASK)) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        unsigned k = lead_class[c];
        size_t len = seq_info[k].len;
        if (len == 0 || n - i < len)
            goto bad;
        unsigned c1 = p[i + 1];
        if (c1 < seq_info[k].lo || c1 > seq_info[k].hi)
            goto bad;
        if (len >= 3 && (p[i + 2] & 0xC0) != 0x80)
            goto bad;
        if (len == 4 && (p[i + 3] & 0xC0) != 0x80)
            goto bad;
        i += len;
    }
    return 1;
bad:
    if (bad_offset)
        *bad_offset = i;
    return 0;
}

const char *omni__utf8_reason(const char *s, size_t n, size_t off)
{
    const unsigned char *p = (const unsigned char *)s + off;
    size_t left = n - off;
    if (off >= n)
        return "invalid UTF-8";
    unsigned c = p[0];
    unsigned k = lead_class[c];
    if (c >= 0x80 && c <= 0xBF)
        return "unexpected continuation byte";
    if (c == 0xC0 || c == 0xC1)
        return "overlong encoding";
    if (k == U_X)
        return "byte that never appears in UTF-8";
    size_t len = seq_info[k].len;
    /* Check the bytes that are there, in order, before calling it truncated. */
    for (size_t j = 1; j < len && j < left; j++) {
        unsigned b = p[j];
        if (j == 1 && (b & 0xC0) == 0x80 && (b < seq_info[k].lo || b > seq_info[k].hi)) {
            if (k == U_E0 || k == U_F0)
                return "overlong encoding";
            if (k == U_ED)
                return "encoded surrogate (U+D800..U+DFFF)";
            return "code point above U+10FFFF";
        }
        if ((b & 0xC0) != 0x80)
            return "missing continuation byte";
    }
    return "truncated sequence at end of input";
}

int omni_utf8_validate(const char *text, size_t len, size_t *error_offset)
{
    if (!text && len)
        return omni__err(OMNI_EINVAL, "omni_utf8_validate: text is NULL");
    size_t off;
    if (omni__utf8_valid(text, len, &off))
        return OMNI_OK;
    if (error_offset)
        *error_offset = off;
    return omni__err(OMNI_EENCODING, "invalid UTF-8 at byte offset %zu (byte 0x%02X): %s", off,
                     (unsigned)(unsigned char)text[off], omni__utf8_reason(text, len, off));
}

size_t omni__utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        unsigned b = s[i];
        if (b < lo || b > hi)
            return 0;
        lo = 0x80, hi = 0xBF;
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return len;
}
