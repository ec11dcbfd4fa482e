/* Phone numbers: parses what people and carriers write ("+49 (0)30 1234-567",
 * "0044 20 7946 0958", "tel:+1-415-555-0100;ext=7", "whatsapp:+5511...",
 * a wa_id, a national number of a default region) into E.164 with the
 * numbering table of phone_data.c, and the Brazilian ninth-digit key.
 *
 * The steps: strip a scheme ("tel:", "sms:", "whatsapp:", "wa:"), split off
 * an extension, collect the digits (ASCII, full-width and Arabic-Indic
 * digits; visual separators dropped; anything else is refused), then read
 * the digits as international ('+', an IDD prefix of the default region, a
 * wa_id) or national (trunk prefix of the default region), keeping the first
 * reading whose national significant number is valid for its country code.
 * Messages never contain the number (it is personal data). */
#include <stdio.h>
#include <string.h>

#include <omni/identity.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "identity_internal.h"

#define MAX_DIGITS 24

/* Why a reading failed, for the error message (the most telling one wins). */
enum {
    WHY_NONE = 0,
    WHY_SHORT,     /* too few digits */
    WHY_LENGTH,    /* not a valid length / pattern for the code */
    WHY_CC,        /* no such country code */
    WHY_NO_REGION, /* national number without a default region */
};

/* ---- validity ----------------------------------------------------------- */

/* Parses "10" / "9-10" / "7,9-10" (up to the next ';' or NUL) into a mask. */
static uint32_t rule_lengths(const char *p)
{
    uint32_t mask = 0;
    while (*p && *p != ';') {
        unsigned a = 0, b;
        while (*p >= '0' && *p <= '9')
            a = a * 10 + (unsigned)(*p++ - '0');
        b = a;
        if (*p == '-') {
            p++;
            b = 0;
            while (*p >= '0' && *p <= '9')
                b = b * 10 + (unsigned)(*p++ - '0');
        }
        for (unsigned k = a; k <= b && k < 32; k++)
            mask |= 1u << k;
        if (*p == ',')
            p++;
        else if (*p && *p != ';')
            return 0; /* malformed rule: allow nothing */
    }
    return mask;
}

/* The lengths that the rules allow for an NSN starting with s. */
static uint32_t rules_for(const char *rules, const char *s, size_t n)
{
    const char *p = rules;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq)
            return 0;
        char pat[32];
        size_t plen = (size_t)(eq - p);
        if (plen >= sizeof(pat))
            return 0;
        memcpy(pat, p, plen);
        pat[plen] = '\0';
        if (omni__phone_prefix_match(pat, s, n, NULL))
            return rule_lengths(eq + 1);
        const char *semi = strchr(eq, ';');
        if (!semi)
            break;
        p = semi + 1;
    }
    return 0;
}

static int trunk_is_zero(const char *trunk)
{
    /* one of the alternatives is exactly "0" */
    const char *p = trunk;
    while (*p) {
        if (p[0] == '0' && (p[1] == '|' || p[1] == '\0'))
            return 1;
        while (*p && *p != '|')
            p++;
        if (*p)
            p++;
    }
    return 0;
}

static int nsn_valid_main(const omni__phone_region *m, const char *nsn, size_t n)
{
    if (n < 2 || n > OMNI__PHONE_MAX_NSN || n > 31)
        return 0;
    if (!(m->lengths & OMNI__LEN(n)))
        return 0;
    if (m->rules && !(rules_for(m->rules, nsn, n) & OMNI__LEN(n)))
        return 0;
    if (nsn[0] == '0' && !(m->flags & OMNI__PH_ZERO_NSN) && trunk_is_zero(m->trunk))
        return 0;
    /* E.164: at most 15 digits with the country code */
    size_t cc_digits = m->cc >= 100 ? 3 : m->cc >= 10 ? 2 : 1;
    return cc_digits + n <= 15;
}

int omni__phone_nsn_valid(unsigned cc, const char *nsn, size_t n)
{
    const omni__phone_region *m = omni__phone_cc_main(cc);
    return m && nsn && nsn_valid_main(m, nsn, n);
}

/* ---- readings ----------------------------------------------------------- */

/* The country code at the start of d: E.164 codes are prefix-free, so the
 * first of the 1-, 2- and 3-digit prefixes that is assigned is the one. */
static const omni__phone_region *split_cc(const char *d, size_t n, size_t *cc_len)
{
    unsigned cc = 0;
    for (size_t k = 0; k < 3 && k < n; k++) {
        if (d[k] < '0' || d[k] > '9')
            return NULL;
        cc = cc * 10 + (unsigned)(d[k] - '0');
        if (k == 0 && cc == 0)
            return NULL;
        const omni__phone_region *m = omni__phone_cc_main(cc);
        if (m) {
            *cc_len = k + 1;
            return m;
        }
    }
    return NULL;
}

/* Argentina: "<area> 15 <number>" (the national way of dialing a mobile,
 * after an optional trunk 0) is "9 <area> <number>" in E.164. Areas are
 * "11" or three or four digits beginning with 2 or 3; the area and number
 * make ten digits. */
static int ar_mobile(const omni__phone_region *m, const char *d, size_t n, char *nsn,
                     size_t *nsn_len)
{
    if (n == 13 && d[0] == '0') {
        d++;
        n--;
    }
    if (n != 12)
        return 0;
    for (size_t area = 2; area <= 4; area++) {
        if (area == 2 ? (d[0] != '1' || d[1] != '1') : (d[0] != '2' && d[0] != '3'))
            continue;
        if (d[area] != '1' || d[area + 1] != '5')
            continue;
        nsn[0] = '9';
        memcpy(nsn + 1, d, area);
        memcpy(nsn + 1 + area, d + area + 2, n - area - 2);
        *nsn_len = n - 1;
        nsn[*nsn_len] = '\0';
        if (nsn_valid_main(m, nsn, *nsn_len))
            return 1;
    }
    return 0;
}

/* The NSN of national digits d of the code whose main row is m: a trunk
 * prefix (or a special national form) is removed when what remains is
 * valid; otherwise the digits are taken as they are. After a country code
 * (`asis_first`) digits that are already a valid NSN are kept, so that an
 * E.164 number always reads back as itself. Returns 1 with the NSN in nsn,
 * or 0 (with *why set). */
static int national(const omni__phone_region *m, const omni__phone_region *region,
                    const char *d, size_t n, char *nsn, size_t *nsn_len, int *why, int local,
                    int asis_first)
{
    if (asis_first && nsn_valid_main(m, d, n)) {
        memcpy(nsn, d, n);
        *nsn_len = n;
        nsn[n] = '\0';
        return 1;
    }
    if ((m->flags & OMNI__PH_AR_MOBILE) && ar_mobile(m, d, n, nsn, nsn_len))
        return 1;
    const char *trunk = region && region->trunk ? region->trunk : m->trunk;
    const char *p = trunk;
    while (p && *p) {
        const char *end = p;
        while (*end && *end != '|')
            end++;
        char alt[16];
        size_t alen = (size_t)(end - p);
        if (alen > 0 && alen < sizeof(alt)) {
            memcpy(alt, p, alen);
            alt[alen] = '\0';
            size_t k = 0;
            if (omni__phone_prefix_match(alt, d, n, &k) && k < n &&
                nsn_valid_main(m, d + k, n - k)) {
                memcpy(nsn, d + k, n - k);
                *nsn_len = n - k;
                nsn[*nsn_len] = '\0';
                return 1;
            }
        }
        p = *end ? end + 1 : end;
    }
    if (nsn_valid_main(m, d, n)) {
        memcpy(nsn, d, n);
        *nsn_len = n;
        nsn[n] = '\0';
        return 1;
    }
    /* a number dialed locally: the region's area code goes in front */
    const omni__phone_region *lr = region ? region : m;
    const char *slash = local && lr->local ? strchr(lr->local, '/') : NULL;
    if (slash) {
        size_t plen = (size_t)(slash - lr->local);
        size_t want = (size_t)(slash[1] - '0');
        if (slash[2] >= '0' && slash[2] <= '9')
            want = want * 10 + (size_t)(slash[2] - '0');
        if (n == want && plen + n <= OMNI__PHONE_MAX_NSN) {
            memcpy(nsn, lr->local, plen);
            memcpy(nsn + plen, d, n);
            nsn[plen + n] = '\0';
            if (nsn_valid_main(m, nsn, plen + n)) {
                *nsn_len = plen + n;
                return 1;
            }
        }
    }
    if (*why < WHY_LENGTH)
        *why = n < 4 ? WHY_SHORT : WHY_LENGTH;
    return 0;
}

/* Digits that begin with a country code (after '+', an IDD prefix, or a
 * wa_id). */
static int international(const char *d, size_t n, const omni__phone_region **main,
                         char *nsn, size_t *nsn_len, int *why)
{
    size_t cc_len = 0;
    const omni__phone_region *m = split_cc(d, n, &cc_len);
    if (!m) {
        if (*why < WHY_CC)
            *why = n < 3 ? WHY_SHORT : WHY_CC;
        return 0;
    }
    if (!national(m, NULL, d + cc_len, n - cc_len, nsn, nsn_len, why, 1, 1))
        return 0;
    *main = m;
    return 1;
}

/* The region of a valid number: the secondary region of a shared code
 * whose leading digits match, else the main region. */
static const omni__phone_region *resolve_region(const omni__phone_region *m, const char *nsn,
                                                size_t n)
{
    const omni__phone_region *end = omni__phone_regions + omni__phone_region_count;
    for (const omni__phone_region *r = m + 1; r < end && r->cc == m->cc; r++)
        if (r->leading && omni__phone_prefix_match(r->leading, nsn, n, NULL))
            return r;
    return m;
}

/* Reads the collected digits. */
static int analyze(omni__phone *out, const char *d, size_t n, int plus, int intl,
                   const omni__phone_region *def, int want_region)
{
    int why = WHY_NONE;
    const omni__phone_region *m = NULL;
    char nsn[MAX_DIGITS + 1];
    size_t nsn_len = 0;
    int ok = 0;

    if (n < 2) {
        why = WHY_SHORT;
    } else if (plus) {
        ok = international(d, n, &m, nsn, &nsn_len, &why);
    } else if (def && !intl) {
        /* 1. an international prefix of the region (and then nothing else:
         * what follows an IDD prefix is a country code) */
        int idd_seen = 0;
        const char *p = def->idd;
        while (!ok && p && *p) {
            const char *end = p;
            while (*end && *end != '|')
                end++;
            char alt[16];
            size_t alen = (size_t)(end - p), k = 0;
            if (alen > 0 && alen < sizeof(alt)) {
                memcpy(alt, p, alen);
                alt[alen] = '\0';
                if (omni__phone_prefix_match(alt, d, n, &k) && k < n && d[k] != '0') {
                    idd_seen = 1;
                    ok = international(d + k, n - k, &m, nsn, &nsn_len, &why);
                }
            }
            p = *end ? end + 1 : end;
        }
        /* 2. a national number of the region */
        if (!ok && !idd_seen) {
            const omni__phone_region *dm = omni__phone_cc_main(def->cc);
            if (dm && national(dm, def, d, n, nsn, &nsn_len, &why, 1, 0)) {
                m = dm;
                ok = 1;
            }
        }
        /* 3. the region's own country code written without '+' */
        if (!ok && !idd_seen) {
            char ccs[4];
            int cl = snprintf(ccs, sizeof(ccs), "%u", def->cc);
            if (cl > 0 && (size_t)cl < n && memcmp(d, ccs, (size_t)cl) == 0) {
                const omni__phone_region *dm = omni__phone_cc_main(def->cc);
                /* only when the number is then one of the region's own */
                if (dm &&
                    national(dm, def, d + cl, n - (size_t)cl, nsn, &nsn_len, &why, 0, 0) &&
                    (resolve_region(dm, nsn, nsn_len) == def || (def->flags & OMNI__PH_NANP))) {
                    m = dm;
                    ok = 1;
                }
            }
        }
        /* 4. "00" (the most common international prefix) where the region
         * uses another one and nothing else made sense */
        if (!ok && !idd_seen && n > 3 && d[0] == '0' && d[1] == '0' && d[2] != '0')
            ok = international(d + 2, n - 2, &m, nsn, &nsn_len, &why);
    } else {
        /* international without '+': a wa_id, or "00" / "011" + code */
        size_t k = 0;
        if (n > 3 && d[0] == '0' && d[1] == '0')
            k = 2;
        else if (n > 4 && d[0] == '0' && d[1] == '1' && d[2] == '1')
            k = 3;
        if (d[0] == '0' && k == 0)
            why = intl ? WHY_CC : WHY_NO_REGION;
        else if (d[k] == '0')
            why = WHY_CC;
        else
            ok = international(d + k, n - k, &m, nsn, &nsn_len, &why);
    }

    if (!ok) {
        switch (why) {
        case WHY_CC:
            return omni__err(OMNI_EIDENTIFIER, "phone number: no such country calling code");
        case WHY_NO_REGION:
            return omni__err(OMNI_EIDENTIFIER, "phone number: a national number needs a default "
                                               "region (or write it with '+' and the country "
                                               "code)");
        case WHY_SHORT:
            return omni__err(OMNI_EIDENTIFIER, "phone number: too few digits");
        default:
            return omni__err(OMNI_EIDENTIFIER, "phone number: not a valid number (wrong length "
                                               "or prefix for its country)");
        }
    }
    out->cc = m->cc;
    memcpy(out->nsn, nsn, nsn_len + 1);
    out->nsn_len = nsn_len;
    out->region = want_region ? resolve_region(m, nsn, nsn_len) : m;
    char ccs[4];
    size_t cl = 0;
    unsigned cc = m->cc;
    if (cc >= 100)
        ccs[cl++] = (char)('0' + cc / 100);
    if (cc >= 10)
        ccs[cl++] = (char)('0' + cc / 10 % 10);
    ccs[cl++] = (char)('0' + cc % 10);
    if (1 + cl + nsn_len + 1 > sizeof(out->e164)) {
        memset(out, 0, sizeof(*out));
        return omni__err(OMNI_EIDENTIFIER, "phone number: longer than E.164 allows");
    }
    out->e164[0] = '+';
    memcpy(out->e164 + 1, ccs, cl);
    memcpy(out->e164 + 1 + cl, nsn, nsn_len + 1);
    return OMNI_OK;
}

/* ---- characters --------------------------------------------------------- */

/* The digit value of a code point (ASCII, full-width, Arabic-Indic,
 * Eastern Arabic-Indic), or -1. */
static int digit_of(uint32_t cp)
{
    if (cp >= '0' && cp <= '9')
        return (int)(cp - '0');
    if (cp >= 0xFF10 && cp <= 0xFF19)
        return (int)(cp - 0xFF10);
    if (cp >= 0x0660 && cp <= 0x0669)
        return (int)(cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9)
        return (int)(cp - 0x06F0);
    return -1;
}

static int is_plus(uint32_t cp)
{
    return cp == '+' || cp == 0xFF0B;
}

static int is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200B) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* Visual separators people put between digits. */
static int is_separator(uint32_t cp)
{
    switch (cp) {
    case '-': case '.': case '(': case ')': case '/': case '[': case ']': case '~':
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015:
    case 0x2212: case 0x30FC: case 0xFF0D: case 0xFF0E: case 0xFF08: case 0xFF09:
    case 0xFF0F: case 0xFF5E:
        return 1;
    default:
        return is_space(cp);
    }
}

static int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive ASCII prefix test. */
static size_t has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (ascii_lower((unsigned char)s[i]) != prefix[i])
            return 0;
    return k;
}

typedef struct digits {
    char d[MAX_DIGITS + 1];
    size_t n;
    int plus;
} digits;

/* Collects the digits of s[0..n) (the number part only). */
static int collect(digits *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = omni__utf8_next(u + i, n - i, &cp);
        if (k == 0)
            return omni__err(OMNI_EIDENTIFIER, "phone number: not valid UTF-8");
        int dv = digit_of(cp);
        if (dv >= 0) {
            if (out->n >= MAX_DIGITS)
                return omni__err(OMNI_EIDENTIFIER, "phone number: too many digits");
            out->d[out->n++] = (char)('0' + dv);
        } else if (is_plus(cp)) {
            if (out->n > 0 || out->plus)
                return omni__err(OMNI_EIDENTIFIER, "phone number: '+' may only stand before "
                                                   "the first digit");
            out->plus = 1;
        } else if (!is_separator(cp)) {
            return omni__err(OMNI_EIDENTIFIER, "phone number: contains characters that are "
                                               "not digits or separators");
        }
        i += k;
    }
    out->d[out->n] = '\0';
    if (out->n == 0)
        return omni__err(OMNI_EIDENTIFIER, "phone number: no digits");
    return OMNI_OK;
}

/* Length of the number part: digits, '+' and separators, up to the first
 * other character (an extension marker, or garbage). */
static size_t number_part(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = omni__utf8_next(u + i, n - i, &cp);
        if (k == 0 || !(digit_of(cp) >= 0 || is_plus(cp) || is_separator(cp)))
            break;
        i += k;
    }
    return i;
}

/* Reads an extension suffix: [ ,;]* marker [.:=]* [ ]* digits [#] [ ]*.
 * Returns 1 with the digits in ext, 0 when s is not an extension. */
static int extension(char *ext, const char *s, size_t n)
{
    static const char *const markers[] = {"extension", "extn", "ext", "xtn", "anexo", "ramal",
                                          "x", "#"};
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
        i++;
    size_t k = 0;
    if (i < n && s[i] == ';') {
        /* only ";ext=" */
        i++;
        if (!has_prefix(s + i, n - i, "ext="))
            return 0;
    }
    for (size_t m = 0; m < sizeof(markers) / sizeof(markers[0]) && !k; m++)
        k = has_prefix(s + i, n - i, markers[m]);
    if (!k)
        return 0;
    i += k;
    while (i < n && (s[i] == '.' || s[i] == ':' || s[i] == '=' || s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t nd = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (nd >= OMNI__PHONE_MAX_EXT)
            return 0;
        ext[nd++] = s[i++];
    }
    ext[nd] = '\0';
    if (nd == 0)
        return 0;
    if (i < n && s[i] == '#')
        i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i == n;
}

/* RFC 3966 parameters after the number of a tel: URI: ";ext=",
 * ";phone-context=" (a global context "+CC..." is prepended to a local
 * number), others ignored. */
static int tel_params(char *ext, char *context, size_t context_cap, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] != ';')
            return omni__err(OMNI_EIDENTIFIER, "phone number: malformed tel: URI parameters");
        i++;
        size_t start = i;
        while (i < n && s[i] != ';')
            i++;
        const char *p = s + start;
        size_t len = i - start;
        size_t k;
        if ((k = has_prefix(p, len, "ext="))) {
            if (len - k == 0 || len - k > OMNI__PHONE_MAX_EXT)
                return omni__err(OMNI_EIDENTIFIER, "phone number: bad extension");
            for (size_t j = k; j < len; j++)
                if (p[j] < '0' || p[j] > '9')
                    return omni__err(OMNI_EIDENTIFIER, "phone number: bad extension");
            memcpy(ext, p + k, len - k);
            ext[len - k] = '\0';
        } else if ((k = has_prefix(p, len, "phone-context="))) {
            if (len - k > 0 && p[k] == '+' && len - k < context_cap) {
                memcpy(context, p + k, len - k);
                context[len - k] = '\0';
            }
        }
    }
    return OMNI_OK;
}

/* ---- parsing ------------------------------------------------------------ */

int omni__phone_parse(omni__phone *out, const char *raw, size_t len, const char *default_region,
                      unsigned flags)
{
    if (!out || !raw)
        return omni__err(OMNI_EINVAL, "phone number: NULL argument");
    memset(out, 0, sizeof(*out));
    if (len > OMNI_PHONE_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "phone number: input is longer than %d bytes",
                         OMNI_PHONE_MAX_INPUT);
    const omni__phone_region *def = NULL;
    if (default_region && default_region[0]) {
        def = omni__phone_region_find(default_region);
        if (!def)
            return omni__err(OMNI_EINVAL, "phone number: unknown default region (expected an "
                                          "ISO 3166-1 alpha-2 code such as \"US\")");
    }
    if (memchr(raw, '\0', len))
        return omni__err(OMNI_EIDENTIFIER, "phone number: contains a NUL byte");
    size_t bad = 0;
    if (omni_utf8_validate(raw, len, &bad) != OMNI_OK)
        return omni__err(OMNI_EIDENTIFIER, "phone number: not valid UTF-8 (byte %zu)", bad);

    const char *s = raw;
    size_t n = len;
    while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;

    int intl = (flags & OMNI__PHONE_INTERNATIONAL) != 0, tel = 0;
    size_t k;
    if ((k = has_prefix(s, n, "whatsapp:")) || (k = has_prefix(s, n, "wa:"))) {
        intl = 1;
    } else if ((k = has_prefix(s, n, "tel:")) || (k = has_prefix(s, n, "sms:"))) {
        tel = 1;
    }
    s += k;
    n -= k;

    char ext[OMNI__PHONE_MAX_EXT + 1] = "";
    char context[64] = "";
    size_t num_len;
    if (tel) {
        /* tel:NUMBER;params (RFC 3966); sms:NUMBER?body=... (RFC 5724) */
        size_t end = 0;
        while (end < n && s[end] != ';' && s[end] != '?')
            end++;
        num_len = end;
        size_t pend = end;
        while (pend < n && s[pend] != '?')
            pend++;
        int rc = tel_params(ext, context, sizeof(context), s + end, pend - end);
        if (rc)
            return rc;
    } else {
        num_len = number_part(s, n);
        if (num_len < n && !extension(ext, s + num_len, n - num_len))
            return omni__err(OMNI_EIDENTIFIER, "phone number: contains characters that are "
                                               "not digits, separators or an extension");
    }

    digits dg = {{0}, 0, 0};
    int rc = collect(&dg, s, num_len);
    if (rc)
        return rc;
    if (!dg.plus && context[0] == '+') {
        /* a local number with a global phone-context: prepend its digits */
        digits cx = {{0}, 0, 0};
        if (collect(&cx, context, strlen(context)) == OMNI_OK && cx.n + dg.n <= MAX_DIGITS) {
            memmove(dg.d + cx.n, dg.d, dg.n + 1);
            memcpy(dg.d, cx.d, cx.n);
            dg.n += cx.n;
            dg.plus = 1;
        }
    }
    rc = analyze(out, dg.d, dg.n, dg.plus, intl, def, !(flags & OMNI__PHONE_NO_REGION));
    if (rc) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    memcpy(out->ext, ext, sizeof(ext));
    return OMNI_OK;
}

int omni__phone_split_e164(const char *e164, size_t len, unsigned *cc, const char **nsn,
                           size_t *nsn_len)
{
    if (!e164 || len < 3 || len > 16 || e164[0] != '+')
        return omni__err(OMNI_EIDENTIFIER, "phone number: not in E.164 form (\"+\" and 8 to "
                                           "15 digits)");
    for (size_t i = 1; i < len; i++)
        if (e164[i] < '0' || e164[i] > '9')
            return omni__err(OMNI_EIDENTIFIER, "phone number: not in E.164 form");
    size_t cl = 0;
    const omni__phone_region *m = split_cc(e164 + 1, len - 1, &cl);
    if (!m)
        return omni__err(OMNI_EIDENTIFIER, "phone number: no such country calling code");
    if (!nsn_valid_main(m, e164 + 1 + cl, len - 1 - cl))
        return omni__err(OMNI_EIDENTIFIER, "phone number: not a valid number for its country");
    *cc = m->cc;
    *nsn = e164 + 1 + cl;
    *nsn_len = len - 1 - cl;
    return OMNI_OK;
}

/* ---- public API --------------------------------------------------------- */

int omni_phone_to_e164(char *out, size_t out_cap, const char *raw, size_t len,
                       const char *default_region)
{
    if (!out || out_cap == 0)
        return omni__err(OMNI_EINVAL, "phone number: output buffer is NULL or empty");
    out[0] = '\0';
    omni__phone p;
    int rc = omni__phone_parse(&p, raw, len, default_region, OMNI__PHONE_NO_REGION);
    if (rc)
        return rc;
    size_t n = strlen(p.e164);
    if (n + 1 > out_cap)
        return omni__err(OMNI_EINVAL, "phone number: output buffer too small (%zu bytes needed; "
                                      "OMNI_E164_STRLEN always suffices)", n + 1);
    memcpy(out, p.e164, n + 1);
    return OMNI_OK;
}

int omni_phone_parse(char **out, size_t *out_len, const char *raw, size_t len,
                     const char *default_region)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return omni__err(OMNI_EINVAL, "phone number: out is NULL");
    omni__phone p;
    int rc = omni__phone_parse(&p, raw, len, default_region, 0);
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "input");
    omni__json_w_strn(&b, raw, len);
    omni__json_w_key(&b, "e164");
    omni__json_w_str(&b, p.e164);
    omni__json_w_key(&b, "countryCode");
    omni__json_w_int(&b, p.cc);
    omni__json_w_key(&b, "region");
    omni__json_w_str(&b, p.region->iso);
    omni__json_w_key(&b, "nationalNumber");
    omni__json_w_str(&b, p.nsn);
    if (p.ext[0]) {
        omni__json_w_key(&b, "extension");
        omni__json_w_str(&b, p.ext);
    }
    omni__json_w_obj_end(&b);
    return omni__buf_detach(&b, out, out_len);
}

int omni_phone_identity_key(char *out, size_t out_cap, const char *e164, unsigned flags)
{
    if (!out || out_cap == 0)
        return omni__err(OMNI_EINVAL, "phone identity key: output buffer is NULL or empty");
    out[0] = '\0';
    if (!e164)
        return omni__err(OMNI_EINVAL, "phone identity key: e164 is NULL");
    if (flags & ~OMNI_PHONE_BR_NINTH_DIGIT)
        return omni__err(OMNI_EINVAL, "phone identity key: unknown flags 0x%x",
                         flags & ~OMNI_PHONE_BR_NINTH_DIGIT);
    size_t len = strnlen(e164, OMNI_E164_STRLEN);
    unsigned cc;
    const char *nsn;
    size_t nsn_len;
    int rc = omni__phone_split_e164(e164, len, &cc, &nsn, &nsn_len);
    if (rc)
        return rc;
    char key[OMNI_E164_STRLEN + 1];
    /* Brazil: a mobile written in the old 8-digit form (DDD + [6-9]XXX-XXXX)
     * gets its ninth digit: DDD + 9 + [6-9]XXX-XXXX. */
    if ((flags & OMNI_PHONE_BR_NINTH_DIGIT) && cc == 55 && nsn_len == 10 && nsn[2] >= '6' &&
        nsn[2] <= '9') {
        char nine[12];
        memcpy(nine, nsn, 2);
        nine[2] = '9';
        memcpy(nine + 3, nsn + 2, 8);
        nine[11] = '\0';
        if (omni__phone_nsn_valid(55, nine, 11)) {
            snprintf(key, sizeof(key), "+55%s", nine);
            goto done;
        }
    }
    memcpy(key, e164, len + 1);
done:;
    size_t klen = strlen(key);
    if (klen + 1 > out_cap)
        return omni__err(OMNI_EINVAL, "phone identity key: output buffer too small");
    memcpy(out, key, klen + 1);
    return OMNI_OK;
}
