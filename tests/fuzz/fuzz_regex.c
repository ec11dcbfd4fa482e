/* Fuzz target for the linear-time regex engine (lib/rules/regex.c). Input:
 * pattern, a NUL byte, text (no NUL: the whole input is the pattern and the
 * text is empty). Invariants:
 *   - compiling returns OK or a documented error, with *out NULL on error,
 *     and the same status with and without OMNI__REGEX_ICASE;
 *   - a compiled program has 1..10000 instructions; every search (the text,
 *     the empty text, a NULL text of length 0) returns 0 or 1;
 *   - a pattern that is a plain literal (valid UTF-8 without metacharacters)
 *     compiles and matches exactly when memmem finds it; with ICASE and
 *     ASCII-only pattern and text, exactly when an ASCII-case-insensitive
 *     memmem finds it;
 *   - the unanchored search agrees with an explicit prefix:
 *     search(P) == search("[\s\S]*(?:P)"), and (?:P) answers like P. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/rules/regex.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_plain_literal(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strchr("\\.^$|?*+()[]{}", p[i]) && p[i] != '\0')
            return 0;
    }
    return 1;
}

static int utf8_ok(const uint8_t *p, size_t n)
{
    /* compile refuses ill-formed UTF-8; a literal that compiled is valid */
    omni__regex *re = NULL;
    int rc = omni__regex_compile(&re, (const char *)p, n, 0);
    omni__regex_free(re);
    return rc == OMNI_OK;
}

static int ascii_only(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80)
            return 0;
    return 1;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ascii_casemem(const uint8_t *h, size_t hn, const uint8_t *n, size_t nn)
{
    if (nn == 0)
        return 1;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t k = 0;
        while (k < nn && lower(h[i + k]) == lower(n[k]))
            k++;
        if (k == nn)
            return 1;
    }
    return 0;
}

static int search_ok(const omni__regex *re, const uint8_t *text, size_t len)
{
    int r = omni__regex_search(re, (const char *)text, len);
    CHECK(r == 0 || r == 1);
    return r;
}

/* Compiles prefix + pattern + suffix; returns the search result, or -1 when
 * the wrapped pattern is over a limit. */
static int wrapped(const char *prefix, const uint8_t *p, size_t n, const char *suffix,
                   unsigned flags, const uint8_t *text, size_t tlen)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    char *w = malloc(a + n + b + 1);
    CHECK(w != NULL);
    memcpy(w, prefix, a);
    if (n)
        memcpy(w + a, p, n);
    memcpy(w + a + n, suffix, b);
    omni__regex *re = NULL;
    int rc = omni__regex_compile(&re, w, a + n + b, flags);
    free(w);
    if (rc != OMNI_OK) {
        CHECK(rc == OMNI_ETOOLARGE || rc == OMNI_ETOODEEP || rc == OMNI_ENOMEM);
        CHECK(re == NULL);
        return -1;
    }
    int r = search_ok(re, text, tlen);
    omni__regex_free(re);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    const uint8_t *text = nul ? nul + 1 : data + size;
    size_t tlen = nul ? size - plen - 1 : 0;
    const char *pat = (const char *)data;

    for (unsigned flags = 0; flags <= OMNI__REGEX_ICASE; flags++) {
        omni__regex *re = (omni__regex *)1;
        int rc = omni__regex_compile(&re, pat, plen, flags);
        if (flags) {
            omni__regex *plain = NULL;
            int rc0 = omni__regex_compile(&plain, pat, plen, 0);
            omni__regex_free(plain);
            CHECK(rc == rc0 || rc == OMNI_ENOMEM || rc0 == OMNI_ENOMEM);
        }
        if (rc != OMNI_OK) {
            CHECK(rc == OMNI_EINVAL || rc == OMNI_ETOOLARGE || rc == OMNI_ETOODEEP ||
                  rc == OMNI_ENOMEM);
            CHECK(re == NULL);
            CHECK(omni_error_last_status() == rc);
            CHECK(omni_error_last_message()[0] != '\0');
            CHECK(!(is_plain_literal(data, plen) && plen <= OMNI__REGEX_MAX_PATTERN &&
                    rc == OMNI_ETOOLARGE));
            continue;
        }
        size_t n = omni__regex_program_size(re);
        CHECK(n >= 1 && n <= OMNI__REGEX_MAX_PROGRAM);
        int r = search_ok(re, text, tlen);
        int e1 = search_ok(re, (const uint8_t *)"", 0);
        int e2 = omni__regex_search(re, NULL, 0);
        CHECK(e1 == e2);
        omni__regex_free(re);

        if (is_plain_literal(data, plen) && utf8_ok(data, plen)) {
            if (!flags)
                CHECK(r == (plen == 0 || memmem(text, tlen, data, plen) != NULL));
            else if (ascii_only(data, plen) && ascii_only(text, tlen))
                CHECK(r == ascii_casemem(text, tlen, data, plen));
            CHECK(e1 == (plen == 0));
        }
        if (plen >= 4 && memcmp(pat, "(?i)", 4) == 0)
            continue; /* (?i) must stay at the very start */
        int w = wrapped("[\\s\\S]*(?:", data, plen, ")", flags, text, tlen);
        CHECK(w == -1 || w == r);
        w = wrapped("(?:", data, plen, ")", flags, text, tlen);
        CHECK(w == -1 || w == r);
    }
    return 0;
}
