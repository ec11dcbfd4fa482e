/* Internal: base64, percent-encoding, form bodies and UTF-8 for the other
 * components (carrier adapters parsing form webhooks, SigV4 canonical
 * strings, JWT). No function here allocates per call except where stated:
 * the encoders append to an omni_buf (sticky failure, checked once by the
 * caller), the decoders write into caller memory.
 *
 * Thread-safety: all functions are pure and thread-safe. */
#ifndef OMNI_CORE_CODEC_H
#define OMNI_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* ---- base64 (RFC 4648) -------------------------------------------------- */

/* Length of the encoding of `len` bytes: standard alphabet with padding
 * (url_no_pad 0) or base64url without padding (url_no_pad 1). */
size_t omni__base64_encoded_len(size_t len, int url_no_pad);

/* Appends the encoding of data[0..len) to b (one reserve, no NUL counted). */
void omni__base64_append(omni_buf *b, const void *data, size_t len, int url_no_pad);

/* Upper bound of the decoded size of n characters (exact for unpadded
 * input of a valid length). */
size_t omni__base64_decoded_max(size_t n);

/* Strict decoder into out[0..cap). url 0: standard alphabet, padding
 * required; url 1: '-' '_' alphabet, padding optional but correct when
 * present. Both: no whitespace, no characters of the other alphabet,
 * non-zero trailing bits rejected. Returns OMNI_OK with *out_len set, or
 * sets the last error and returns OMNI_EENCODING (message names the byte
 * offset) or OMNI_EINVAL (cap too small: pass omni__base64_decoded_max(n)).
 * On error out[] may hold partial output. No size limit is applied here. */
int omni__base64_decode_into(uint8_t *out, size_t cap, size_t *out_len, const char *s, size_t n,
                             int url);

/* ---- percent-encoding ---------------------------------------------------- */

/* Modes of omni__url_encode_append. */
enum {
    OMNI__PCT_RFC3986 = 0, /* keep A-Z a-z 0-9 - . _ ~ ; everything else %XX */
    OMNI__PCT_FORM = 1,    /* WHATWG form: keep A-Z a-z 0-9 * - . _ ; ' ' -> '+' */
    OMNI__PCT_PATH = 2     /* as RFC3986 but '/' kept (SigV4 canonical URI, S3 keys) */
};

/* Appends s[0..n) percent-encoded (upper-case hex) to b; one reserve. */
void omni__url_encode_append(omni_buf *b, const char *s, size_t n, int mode);

/* Appends the percent-decoding of s[0..n) to b ('+' -> ' ' when form is
 * non-zero). Bytes are not checked for UTF-8. Returns OMNI_OK, or sets the
 * last error and returns OMNI_EENCODING (malformed % sequence, message with
 * the byte offset in s) or the buffer's failure status. */
int omni__url_decode_append(omni_buf *b, const char *s, size_t n, int form);

/* ---- application/x-www-form-urlencoded ----------------------------------- */

/* One decoded pair. name and value are NUL-terminated; the lengths count
 * the bytes before the NUL (a value may contain %00, i.e. a NUL byte). */
typedef struct omni__pair {
    char *name;
    size_t name_len;
    char *value;
    size_t value_len;
} omni__pair;

/* Decoded pairs in body order, repeated names kept. items and storage live
 * in one allocation (released by omni__pairs_free); count 0 allocates
 * nothing. */
typedef struct omni__pairs {
    omni__pair *items;
    size_t count;
    char *storage;
} omni__pairs;

#define OMNI__PAIRS_INIT {NULL, 0, NULL}

/* Parses a form body (the rules of omni_form_decode: '&' separates, empty
 * segments skipped, first '=' splits, '+' is a space, strict %XX, decoded
 * names and values must be UTF-8). Returns OMNI_OK, or sets the last error
 * and returns OMNI_EINVAL (NULL), OMNI_ETOOLARGE (len > OMNI_CODEC_MAX_INPUT),
 * OMNI_EENCODING (message names the byte offset in body) or OMNI_ENOMEM;
 * *out is then empty and owns nothing. */
int omni__form_parse(omni__pairs *out, const char *body, size_t len);

/* Releases the pairs and resets *p to empty; NULL does nothing. */
void omni__pairs_free(omni__pairs *p);

/* The first pair named `name` (exact, case-sensitive bytes), or NULL. */
const omni__pair *omni__pairs_find(const omni__pairs *p, const char *name, size_t name_len);

/* The value of the first pair named `name` (NUL-terminated), or NULL. */
const char *omni__pairs_get(const omni__pairs *p, const char *name);

/* ---- UTF-8 ---------------------------------------------------------------- */

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, at most U+10FFFF), else 0 with *bad_offset (may be NULL) set
 * to where the first ill-formed sequence starts, i.e. the length of the
 * longest valid prefix. Does not set the last error. ASCII runs are checked
 * eight bytes at a time. */
int omni__utf8_valid(const char *s, size_t n, size_t *bad_offset);

/* Writes code point cp (at most U+10FFFF) as 1 to 4 bytes of UTF-8 at o and
 * returns the byte after them. */
static inline char *omni__utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Decodes one well-formed UTF-8 sequence (RFC 3629) at s[0..n): returns its
 * length (1..4) and the code point in *cp, or 0 when n is 0 or the bytes
 * are not a well-formed sequence (*cp untouched). */
size_t omni__utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* A static phrase saying why the sequence at s[off] is ill-formed
 * ("overlong encoding", "encoded surrogate (U+D800..U+DFFF)", ...), for
 * error messages; off is the offset omni__utf8_valid reported. */
const char *omni__utf8_reason(const char *s, size_t n, size_t off);

#endif
