/*
 * libomni — encodings: base64 and base64url (RFC 4648), percent-encoding
 * (RFC 3986), application/x-www-form-urlencoded (WHATWG URL), UTF-8.
 *
 * Every function that returns text or bytes allocates *out (released with
 * omni_free()); the result is NUL-terminated for convenience and *out_len
 * excludes the NUL. out_len may be NULL for the functions returning char *
 * (not for the base64 decoders, whose bytes may contain NUL). Inputs are
 * limited to OMNI_CODEC_MAX_INPUT bytes (OMNI_ETOOLARGE beyond). Invalid
 * input gives OMNI_EENCODING and a message naming the byte offset; nothing
 * is allocated then and *out is NULL (also on any other error). A NULL out,
 * or a NULL input with a non-zero length, gives OMNI_EINVAL; a NULL input
 * with length 0 is the empty input.
 *
 * Thread-safety: all functions are pure and thread-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_ENCODING_H
#define OMNI_ENCODING_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OMNI_CODEC_MAX_INPUT (64u * 1024u * 1024u)

/* Standard alphabet with '=' padding (RFC 4648 section 4). */
OMNI_API int omni_base64_encode(char **out, size_t *out_len, const void *data, size_t len);
/* Strict: padding required, no whitespace, '-' '_' rejected, non-zero
 * trailing bits (a non-canonical encoding) rejected. */
OMNI_API int omni_base64_decode(uint8_t **out, size_t *out_len, const char *text, size_t len);

/* URL-safe alphabet, no padding (RFC 4648 section 5, as JOSE uses it). */
OMNI_API int omni_base64url_encode(char **out, size_t *out_len, const void *data, size_t len);
/* Padding optional, but when present it must be exactly right ("QQ" and
 * "QQ==" decode, "QQ=" does not); '+' '/', whitespace and non-zero
 * trailing bits rejected. */
OMNI_API int omni_base64url_decode(uint8_t **out, size_t *out_len, const char *text, size_t len);

/* RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~)
 * stay, every other byte becomes %XX with upper-case hex (the encoding AWS
 * SigV4 and OAuth require). */
OMNI_API int omni_url_encode(char **out, size_t *out_len, const char *text, size_t len);
/* Decodes %XX sequences (either case of hex; '+' stays '+'); a '%' not
 * followed by two hex digits is an error. The result is not checked for
 * UTF-8 and may contain any byte, NUL included (use *out_len). */
OMNI_API int omni_url_decode(char **out, size_t *out_len, const char *text, size_t len);

/* application/x-www-form-urlencoded, serialized exactly as the WHATWG URL
 * Standard's urlencoded serializer (URLSearchParams.toString()) does.
 * pairs_json is an array of [name, value] pairs (order and repeated names
 * kept) or an object of string values (member order kept). Output is
 * name=value joined by '&' ("" for no pairs); in names and values the bytes
 * A-Z a-z 0-9 '*' '-' '.' '_' stay, space becomes '+', every other byte
 * (UTF-8 bytes included, and '~') becomes %XX with upper-case hex.
 * Errors: OMNI_EJSON (malformed JSON), OMNI_EINVAL (another shape, a
 * non-string name or value, or a string containing U+0000). */
OMNI_API int omni_form_encode(char **out, size_t *out_len, const char *pairs_json, size_t len);
/* Decodes a form body into a JSON array of [name, value] pairs, in order,
 * repeated names kept: "a=1&b=x+y&a=2" -> [["a","1"],["b","x y"],["a","2"]].
 * Empty segments ("a=1&&b") are skipped; a name without '=' has value "";
 * the first '=' splits ("a=b=c" -> ["a","b=c"]); '+' is a space and %2B a
 * '+'. Unlike the WHATWG parser (which keeps a stray '%' and substitutes
 * U+FFFD), malformed % sequences and decoded names or values that are not
 * UTF-8 are OMNI_EENCODING errors naming the byte offset in body. Control
 * characters and %00 are kept (escaped in the JSON output). */
OMNI_API int omni_form_decode(char **out, size_t *out_len, const char *body, size_t len);

/* Validates UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF). Returns OMNI_OK or OMNI_EENCODING; on error *error_offset (may
 * be NULL) receives the offset where the first ill-formed sequence starts
 * (= the length of the longest valid prefix; for C3 41 or a truncated
 * E2 82 at the end, the offset of the lead byte), and the message says
 * why. *error_offset is untouched on success. No size limit. */
OMNI_API int omni_utf8_validate(const char *text, size_t len, size_t *error_offset);

#ifdef __cplusplus
}
#endif

#endif
