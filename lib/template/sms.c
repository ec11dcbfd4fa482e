/* SMS encoding and segments: the 3GPP TS 23.038 GSM 7-bit default alphabet
 * and its extension table, or UCS-2; one table-driven pass over the UTF-8
 * text counts septets / UTF-16 units, a second one (long texts only) lays
 * out the parts. */
#include <string.h>

#include <omni/channel.h>

#include "../core/buf.h"
#include "../core/codec.h"
#include "../core/error.h"
#include "../core/json.h"

#define GSM_SINGLE 160u
#define GSM_PART 153u
#define UCS_SINGLE 70u
#define UCS_PART 67u

/*
 * Septets per character for U+0000..U+00FF: 0 not in the GSM alphabet,
 * 1 in the default alphabet (3GPP TS 23.038 section 6.2.1), 2 in the
 * extension table (section 6.2.1.1: ESC + code). '`' and the C0/C1
 * controls other than LF and CR are not in the alphabet; 0x09 of the
 * default alphabet is capital C with cedilla (U+00C7) as in the ETSI table.
 */
static const uint8_t gsm_latin1[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x40 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1,
    /* 0x60 */ 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0,
    /* 0x80 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x90 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0xA0    ¡     £  ¤  ¥     §                                  */
    /* 0xA0 */ 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0xB0                                                 ¿       */
    /* 0xB0 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    /* 0xC0             Ä  Å  Æ  Ç     É                            */
    /* 0xC0 */ 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0,
    /* 0xD0       Ñ              Ö     Ø           Ü        ß       */
    /* 0xD0 */ 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1,
    /* 0xE0    à           ä  å  æ     è  é        ì                */
    /* 0xE0 */ 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0,
    /* 0xF0       ñ  ò        ö     ø  ù        ü                   */
    /* 0xF0 */ 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0,
};

/* Septets of any code point (0: not in the GSM alphabet). */
static inline unsigned gsm_cost(uint32_t cp)
{
    if (cp < 0x100)
        return gsm_latin1[cp];
    switch (cp) {
    /* Greek capitals of the default alphabet: Γ Δ Θ Λ Ξ Π Σ Φ Ψ Ω */
    case 0x0393: case 0x0394: case 0x0398: case 0x039B: case 0x039E:
    case 0x03A0: case 0x03A3: case 0x03A6: case 0x03A8: case 0x03A9:
        return 1;
    case 0x20AC: /* € (extension table 0x65) */
        return 2;
    default:
        return 0;
    }
}

/* Decodes one code point of already validated UTF-8 at p[*i]. */
static inline uint32_t next_cp(const unsigned char *p, size_t *i)
{
    uint32_t c = p[*i];
    if (c < 0x80) {
        *i += 1;
        return c;
    }
    if (c < 0xE0) {
        uint32_t cp = ((c & 0x1F) << 6) | (p[*i + 1] & 0x3F);
        *i += 2;
        return cp;
    }
    if (c < 0xF0) {
        uint32_t cp = ((c & 0x0F) << 12) | ((uint32_t)(p[*i + 1] & 0x3F) << 6) |
                      (p[*i + 2] & 0x3F);
        *i += 3;
        return cp;
    }
    uint32_t cp = ((c & 0x07) << 18) | ((uint32_t)(p[*i + 1] & 0x3F) << 12) |
                  ((uint32_t)(p[*i + 2] & 0x3F) << 6) | (p[*i + 3] & 0x3F);
    *i += 4;
    return cp;
}

typedef struct sms_info {
    int encoding;
    uint32_t segments;
    uint32_t units;
} sms_info;

static int check_input(const char *text, size_t len)
{
    if (!text && len)
        return omni__err(OMNI_EINVAL, "SMS text is NULL");
    if (len > OMNI_SMS_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "SMS text is %zu bytes; the limit is %u", len,
                         OMNI_SMS_MAX_INPUT);
    size_t bad = 0;
    if (len && !omni__utf8_valid(text, len, &bad))
        return omni__err(OMNI_EENCODING, "SMS text is not valid UTF-8 at byte %zu: %s", bad,
                         omni__utf8_reason(text, len, bad));
    return OMNI_OK;
}

/* Parts of a concatenated message: characters fill a part greedily and one
 * that does not fit starts the next, so an escape sequence or a surrogate
 * pair is never split. */
static uint32_t count_parts(const unsigned char *p, size_t len, int encoding)
{
    unsigned cap = encoding == OMNI_SMS_GSM7 ? GSM_PART : UCS_PART;
    uint32_t parts = 1;
    unsigned fill = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c;
        if (p[i] < 0x80) {
            c = encoding == OMNI_SMS_GSM7 ? gsm_latin1[p[i]] : 1u;
            i++;
        } else {
            uint32_t cp = next_cp(p, &i);
            c = encoding == OMNI_SMS_GSM7 ? gsm_cost(cp) : (cp >= 0x10000 ? 2u : 1u);
        }
        if (fill + c > cap) {
            parts++;
            fill = 0;
        }
        fill += c;
    }
    return parts;
}

/*
 * Totals in one table-driven pass (septets while every character is in the
 * GSM alphabet, UTF-16 units), then, only for a text too long for a single
 * message, a second pass that lays out the parts.
 */
static void sms_scan(sms_info *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    uint32_t septets = 0, units = 0;
    size_t i = 0;
    /* GSM-7 while every character has a septet cost */
    while (i < len) {
        size_t at = i;
        unsigned c;
        if (p[i] < 0x80) {
            c = gsm_latin1[p[i++]];
        } else {
            uint32_t cp = next_cp(p, &i);
            c = gsm_cost(cp);
        }
        if (!c) {
            i = at;
            break;
        }
        septets += c;
        units++; /* every GSM character is one UTF-16 unit */
    }
    if (i == len) {
        out->encoding = OMNI_SMS_GSM7;
        out->units = septets;
        out->segments = septets <= GSM_SINGLE ? 1 : count_parts(p, len, OMNI_SMS_GSM7);
        return;
    }
    /* UCS-2 from here: one unit per character (lead byte), two for a
     * four-byte sequence (outside the BMP) */
    for (; i < len; i++)
        units += ((p[i] & 0xC0) != 0x80) + (p[i] >= 0xF0);
    out->encoding = OMNI_SMS_UCS2;
    out->units = units;
    out->segments = units <= UCS_SINGLE ? 1 : count_parts(p, len, OMNI_SMS_UCS2);
}

OMNI_API int omni_sms_count(int *out_encoding, uint32_t *out_segments, uint32_t *out_units,
                            const char *text, size_t len)
{
    int rc = check_input(text, len);
    if (rc)
        return rc;
    sms_info info;
    sms_scan(&info, text, len);
    if (out_encoding)
        *out_encoding = info.encoding;
    if (out_segments)
        *out_segments = info.segments;
    if (out_units)
        *out_units = info.units;
    return OMNI_OK;
}

/* Appends the parts of a multi-part message as JSON strings: the
 * boundaries of count_parts, by byte offset. */
static void write_parts(omni_buf *b, const char *text, size_t len, int encoding)
{
    const unsigned char *p = (const unsigned char *)text;
    unsigned cap = encoding == OMNI_SMS_GSM7 ? GSM_PART : UCS_PART;
    size_t start = 0, i = 0;
    unsigned fill = 0;
    while (i < len) {
        size_t at = i;
        uint32_t cp = next_cp(p, &i);
        unsigned c = encoding == OMNI_SMS_GSM7 ? gsm_cost(cp) : (cp >= 0x10000 ? 2u : 1u);
        if (fill + c > cap) {
            omni__json_w_strn(b, text + start, at - start);
            start = at;
            fill = 0;
        }
        fill += c;
    }
    omni__json_w_strn(b, text + start, len - start);
}

OMNI_API int omni_sms_segments(char **out, size_t *out_len, const char *text, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    int rc = check_input(text, len);
    if (rc)
        return rc;
    sms_info info;
    sms_scan(&info, text, len);

    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "encoding");
    omni__json_w_str(&b, info.encoding == OMNI_SMS_GSM7 ? "GSM-7" : "UCS-2");
    omni__json_w_key(&b, "segments");
    omni__json_w_int(&b, info.segments);
    omni__json_w_key(&b, "units");
    omni__json_w_int(&b, info.units);
    omni__json_w_key(&b, "parts");
    omni__json_w_arr_begin(&b);
    if (info.segments == 1)
        omni__json_w_strn(&b, text ? text : "", len);
    else
        write_parts(&b, text, len, info.encoding);
    omni__json_w_arr_end(&b);
    omni__json_w_obj_end(&b);
    return omni__buf_detach(&b, out, out_len);
}
