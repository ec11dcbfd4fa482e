/* Entity scanners of the content analyzer: e-mail addresses, http(s) and
 * www. links (with the shortener and suspicious-host checks of the spam
 * score), phone numbers (normalized with omni_phone_to_e164) written by
 * hand, and the configured named patterns through the rules' regex engine. */
#include <string.h>

#include <omni/identity.h>

#include "analyze_internal.h"
#include "core/buf.h"
#include "core/json.h"

#define MAX_HOST 253
#define MAX_PHONE_SPAN 40

static int is_alpha(unsigned c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(unsigned c)
{
    return is_alpha(c) || is_digit(c);
}

static unsigned lower(unsigned c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive prefix test of an ASCII lower-case literal. */
static int has_prefix(const unsigned char *s, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (lower(s[i]) != (unsigned char)lit[i])
            return 0;
    return 1;
}

/* ---- the entity list: the first OMNI_ANALYZE_MAX_ENTITIES in text order ---- */

/* Inserts e in order of (start, kind); returns 0 when it was dropped
 * because the list is full of entities that all come before it. */
static int ent_add(ana_scan *sc, const ana_entity *e)
{
    int n = sc->nent;
    if (n == OMNI_ANALYZE_MAX_ENTITIES) {
        const ana_entity *last = &sc->ent[n - 1];
        if (last->start <= e->start)
            return 0;
        n--; /* the last one falls off */
    }
    int at = n;
    while (at > 0 && sc->ent[at - 1].start > e->start)
        at--;
    memmove(&sc->ent[at + 1], &sc->ent[at], (size_t)(n - at) * sizeof(ana_entity));
    sc->ent[at] = *e;
    sc->nent = n + 1;
    return 1;
}

/* ---- links ----------------------------------------------------------------- */

static int list_has(const char *const *list, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n && list[i]; i++)
        if (strncmp(list[i], s, len) == 0 && list[i][len] == '\0')
            return 1;
    return 0;
}

static int is_shortener(const omni_analyzer *a, const char *host, size_t n)
{
    if (n > 4 && memcmp(host, "www.", 4) == 0) {
        host += 4;
        n -= 4;
    }
    return list_has((const char *const *)a->shorteners, a->nshorteners, host, n);
}

/* Suspicious host: an IPv4 or IPv6 literal, a punycode label, a risky TLD. */
static int host_suspicious(const char *h, size_t n)
{
    if (n == 0)
        return 1;
    if (h[0] == '[')
        return 1;
    size_t dots = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        dots += h[i] == '.';
        digits += is_digit((unsigned char)h[i]);
    }
    if (dots == 3 && digits + dots == n)
        return 1;
    for (size_t i = 0; i + 4 <= n; i++)
        if ((i == 0 || h[i - 1] == '.') && memcmp(h + i, "xn--", 4) == 0)
            return 1;
    size_t t = n;
    while (t > 0 && h[t - 1] != '.')
        t--;
    if (t == 0)
        return 0;
    size_t nt = 0;
    for (; omni__ana_risky_tlds[nt]; nt++)
        ;
    return list_has(omni__ana_risky_tlds, nt, h + t, n - t);
}

/* A URL character: printable ASCII except spaces, quotes, <>, `, {}, |, \, ^. */
static int url_char(unsigned c)
{
    return c > 0x20 && c < 0x7F && !strchr("\"'<>`{}|\\^", (int)c);
}

/* The end of a URL that starts at s[0..n): the longest run of URL characters
 * without the trailing punctuation of the sentence around it. */
static size_t url_end(const unsigned char *s, size_t n, size_t from)
{
    size_t e = from;
    while (e < n && url_char(s[e]))
        e++;
    for (;;) {
        if (e <= from)
            break;
        unsigned c = s[e - 1];
        if (strchr(".,;:!?*", (int)c)) {
            e--;
            continue;
        }
        if (c == ')' || c == ']') {
            unsigned open = c == ')' ? '(' : '[';
            int bal = 0;
            for (size_t i = from; i < e; i++)
                bal += s[i] == open ? 1 : s[i] == c ? -1 : 0;
            if (bal < 0) {
                e--;
                continue;
            }
        }
        break;
    }
    return e;
}

/* Checks the authority of a URL at u[0..n) whose host starts at `hs`, and
 * counts the link in sc. */
static void link_checks(const omni_analyzer *a, const unsigned char *u, size_t n, size_t hs,
                        ana_scan *sc)
{
    size_t ae = hs;
    while (ae < n && u[ae] != '/' && u[ae] != '?' && u[ae] != '#')
        ae++;
    size_t h0 = hs;
    for (size_t i = hs; i < ae; i++)
        if (u[i] == '@')
            h0 = i + 1;
    int userinfo = h0 != hs;
    size_t h1 = ae;
    if (h0 < ae && u[h0] == '[') {
        h1 = h0;
        while (h1 < ae && u[h1] != ']')
            h1++;
        h1 = h1 < ae ? h1 + 1 : ae;
    } else {
        for (size_t i = h0; i < ae; i++)
            if (u[i] == ':') {
                h1 = i;
                break;
            }
    }
    char host[MAX_HOST + 1];
    size_t hn = h1 - h0;
    if (hn > MAX_HOST)
        hn = MAX_HOST;
    for (size_t i = 0; i < hn; i++)
        host[i] = (char)lower(u[h0 + i]);
    while (hn > 0 && host[hn - 1] == '.')
        hn--; /* "example.com." */
    sc->links++;
    if (is_shortener(a, host, hn))
        sc->shortened = 1;
    if (userinfo || host_suspicious(host, hn))
        sc->suspicious = 1;
}

/* A URL at s[i..): "http://", "https://" or "www." at a word start. Returns
 * its end, or 0 when there is none. *hs is the start of its authority. */
static size_t url_at(const unsigned char *s, size_t n, size_t i, size_t *hs)
{
    unsigned prev = i > 0 ? s[i - 1] : ' ';
    if (is_alnum(prev) || prev == '_' || prev == '@' || prev == '.' || prev == '/' ||
        prev == '-')
        return 0;
    size_t k;
    if (has_prefix(s + i, n - i, "http://"))
        k = 7;
    else if (has_prefix(s + i, n - i, "https://"))
        k = 8;
    else if (has_prefix(s + i, n - i, "www."))
        k = 0;
    else
        return 0;
    size_t h = i + k;
    if (k == 0 && !(i + 4 < n && is_alnum(s[i + 4])))
        return 0;
    if (k > 0 && !(h < n && (is_alnum(s[h]) || s[h] == '[')))
        return 0;
    size_t e = url_end(s, n, i);
    if (e <= h)
        return 0;
    *hs = h;
    return e;
}

/* A bare link to a known shortener ("bit.ly/3xYz") around the '.' at s[i]:
 * returns its end with *start, or 0. *skip is where the caller goes on. */
static size_t bare_short_at(const omni_analyzer *a, const unsigned char *s, size_t n, size_t i,
                            size_t floor_, size_t *start, size_t *skip)
{
    size_t b = i;
    while (b > floor_ && (is_alnum(s[b - 1]) || s[b - 1] == '-' || s[b - 1] == '.'))
        b--;
    size_t e = i;
    while (e < n && (is_alnum(s[e]) || s[e] == '-' || s[e] == '.'))
        e++;
    *skip = e;
    if (b > 0 && (s[b - 1] == '@' || s[b - 1] == '/' || s[b - 1] == '_' || s[b - 1] == ':'))
        return 0;
    if (e >= n || s[e] != '/' || e + 1 >= n || !url_char(s[e + 1]) || e - b > MAX_HOST)
        return 0;
    char host[MAX_HOST + 1];
    for (size_t k = b; k < e; k++)
        host[k - b] = (char)lower(s[k]);
    if (!is_shortener(a, host, e - b))
        return 0;
    size_t end = url_end(s, n, e);
    if (end <= e + 1)
        return 0;
    *start = b;
    *skip = end;
    return end;
}

/* ---- e-mail ------------------------------------------------------------------- */

static int local_char(unsigned c)
{
    return is_alnum(c) || (c && strchr("._%+-", (int)c));
}

/* An address around the '@' at s[at]; returns its end with *start, or 0. */
static size_t email_at(const unsigned char *s, size_t n, size_t at, size_t floor_,
                       size_t *start)
{
    size_t b = at;
    while (b > floor_ && at - b < 64 && local_char(s[b - 1]))
        b--;
    if (b > floor_ && local_char(s[b - 1]))
        return 0; /* a local part over 64 bytes */
    while (b < at && s[b] == '.')
        b++;
    if (b == at || s[at - 1] == '.')
        return 0;
    size_t e = at + 1;
    while (e < n && (is_alnum(s[e]) || s[e] == '.' || s[e] == '-') && e - at <= MAX_HOST)
        e++;
    while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
        e--;
    if (e < n && (s[e] == '@' || is_alnum(s[e]) || s[e] == '_'))
        return 0;
    /* labels: non-empty, not starting or ending with '-'; a TLD of 2+ letters */
    size_t labels = 0, ls = at + 1;
    for (size_t k = at + 1; k <= e; k++) {
        if (k < e && s[k] != '.')
            continue;
        if (k == ls || s[ls] == '-' || s[k - 1] == '-')
            return 0;
        labels++;
        if (k == e) {
            if (k - ls < 2)
                return 0;
            for (size_t t = ls; t < k; t++)
                if (!is_alpha(s[t]))
                    return 0;
        }
        ls = k + 1;
    }
    if (labels < 2)
        return 0;
    *start = b;
    return e;
}

/* ---- phone numbers -------------------------------------------------------------- */

static int phone_sep(unsigned c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* A phone number starting at s[i] (a digit, or '+' / '(' before one);
 * returns its end (the E.164 form in e164), or 0. *skip: where to go on. */
static size_t phone_at(const omni_analyzer *a, const unsigned char *s, size_t n, size_t i,
                       char *e164, size_t cap, size_t *skip)
{
    unsigned prev = i > 0 ? s[i - 1] : ' ';
    size_t e = i + 1;
    if (is_alnum(prev) || (prev >= 0x80) || (prev && strchr("_-./@+#$%&='*,", (int)prev))) {
        while (e < n && is_digit(s[e]))
            e++;
        *skip = e;
        return 0;
    }
    size_t digits = is_digit(s[i]) ? 1 : 0, group = digits, groups = 0, seps = 0;
    int bad = 0;
    while (e < n && e - i < MAX_PHONE_SPAN) {
        unsigned c = s[e];
        if (is_digit(c)) {
            if (++digits > 15)
                break;
            group++;
            seps = 0;
        } else if (phone_sep(c)) {
            if (++seps > 3)
                break;
            if (group > 0) {
                /* a date ("2024-01-15", "15.01.2024"): a short inner group
                 * before '-' or '.' */
                if (groups > 0 && group <= 2 && (c == '-' || c == '.'))
                    bad = 1;
                groups++;
            }
            group = 0;
        } else {
            break;
        }
        e++;
    }
    size_t end = e;
    while (end > i && phone_sep(s[end - 1]) && s[end - 1] != ')')
        end--;
    *skip = end > i ? end : i + 1;
    if (e < n && (is_alnum(s[e]) || s[e] == '@' || s[e] == '_') && end == e)
        return 0; /* runs into a word, an address or more digits */
    if (end < n && is_digit(s[end]))
        return 0;
    if (bad || digits < 7 || digits > 15)
        return 0;
    /* a closing parenthesis at the end only when one was opened */
    if (end > i && s[end - 1] == ')') {
        int bal = 0;
        for (size_t k = i; k < end; k++)
            bal += s[k] == '(' ? 1 : s[k] == ')' ? -1 : 0;
        if (bal < 0)
            end--;
    }
    if (omni_phone_to_e164(e164, cap, (const char *)s + i, end - i,
                           a->region[0] ? a->region : NULL) != OMNI_OK)
        return 0;
    return end;
}

/* ---- the scan ------------------------------------------------------------------ */

#define T_LINK 1u  /* h H w W @ . */
#define T_PHONE 2u /* digits + ( */
static const unsigned char trigger[256] = {
    ['h'] = T_LINK, ['H'] = T_LINK, ['w'] = T_LINK, ['W'] = T_LINK, ['@'] = T_LINK,
    ['.'] = T_LINK, ['0'] = T_PHONE, ['1'] = T_PHONE, ['2'] = T_PHONE, ['3'] = T_PHONE,
    ['4'] = T_PHONE, ['5'] = T_PHONE, ['6'] = T_PHONE, ['7'] = T_PHONE, ['8'] = T_PHONE,
    ['9'] = T_PHONE, ['+'] = T_PHONE, ['('] = T_PHONE,
};

int omni__ana_entities(const omni_analyzer *a, const char *text, size_t len, ana_scan *sc)
{
    const unsigned char *s = (const unsigned char *)text;
    /* links and addresses first: phone numbers inside them are not numbers */
    ana_entity found[OMNI_ANALYZE_MAX_ENTITIES];
    int nfound = 0;
    size_t floor_ = 0;
    for (size_t i = 0; i < len; i++) {
        while (i < len && !trigger[s[i]])
            i++;
        if (i >= len)
            break;
        unsigned c = s[i];
        size_t st = i, e = 0, hs = 0, skip;
        int type;
        if ((c | 0x20) == 'h' || (c | 0x20) == 'w') {
            e = url_at(s, len, i, &hs);
            type = ENT_URL;
        } else if (c == '@' && i > floor_) {
            e = email_at(s, len, i, floor_, &st);
            type = ENT_EMAIL;
        } else if (c == '.' && i > floor_ && i + 1 < len && is_alnum(s[i - 1]) &&
                   is_alpha(s[i + 1])) {
            e = bare_short_at(a, s, len, i, floor_, &st, &skip);
            type = ENT_URL;
            hs = st;
            if (!e) {
                i = skip > i ? skip - 1 : i;
                continue;
            }
        } else {
            continue;
        }
        if (!e)
            continue;
        if (type == ENT_URL)
            link_checks(a, s, e, hs, sc);
        if (nfound < OMNI_ANALYZE_MAX_ENTITIES) {
            ana_entity *f = &found[nfound++];
            memset(f, 0, sizeof(*f));
            f->start = (uint32_t)st;
            f->end = (uint32_t)e;
            f->type = type;
        }
        floor_ = e;
        i = e - 1;
    }
    for (int k = 0; k < nfound; k++)
        ent_add(sc, &found[k]);

    /* phone numbers, outside the links and addresses */
    int next_found = 0;
    for (size_t i = 0; i < len; i++) {
        while (i < len && !(trigger[s[i]] & T_PHONE))
            i++;
        if (i >= len)
            break;
        unsigned c = s[i];
        if (!(is_digit(c) || ((c == '+' || c == '(') && i + 1 < len && is_digit(s[i + 1]))))
            continue;
        while (next_found < nfound && found[next_found].end <= i)
            next_found++;
        if (next_found < nfound && found[next_found].start <= i) {
            i = found[next_found].end - 1;
            continue;
        }
        ana_entity ph;
        memset(&ph, 0, sizeof(ph));
        size_t skip;
        size_t e = phone_at(a, s, len, i, ph.e164, sizeof(ph.e164), &skip);
        if (e && next_found < nfound && found[next_found].start < e)
            e = 0; /* runs into a link */
        if (e) {
            ph.start = (uint32_t)i;
            ph.end = (uint32_t)e;
            ph.type = ENT_PHONE;
            if (!ent_add(sc, &ph))
                break;
        }
        i = (e ? e : skip) - 1;
    }

    /* the configured patterns */
    for (int p = 0; p < a->npatterns; p++) {
        size_t from = 0;
        while (from <= len) {
            size_t ms, me;
            int rc = omni__regex_find(a->patterns[p].re, text, len, from, &ms, &me);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            if (me > ms) {
                ana_entity pe;
                memset(&pe, 0, sizeof(pe));
                pe.start = (uint32_t)ms;
                pe.end = (uint32_t)me;
                pe.type = ENT_PATTERN;
                pe.pattern = p;
                if (!ent_add(sc, &pe))
                    break;
                from = me;
            } else {
                if (ms >= len)
                    break;
                /* an empty match: step over one character */
                from = ms + 1;
                while (from < len && (s[from] & 0xC0) == 0x80)
                    from++;
            }
        }
    }
    return OMNI_OK;
}

/* Writes a JSON string: the first `lower_n` bytes of v[0..n) lower-cased,
 * after `prefix`. */
static void put_lowered(omni_buf *b, const char *prefix, const char *v, size_t n, size_t lower_n)
{
    char tmp[256];
    omni__json_w_raw(b, "\"", 1);
    omni__buf_puts(b, prefix);
    size_t i = 0;
    while (i < n) {
        size_t k = 0;
        for (; k < sizeof(tmp) && i < n; k++, i++)
            tmp[k] = (char)(i < lower_n ? lower((unsigned char)v[i]) : (unsigned char)v[i]);
        omni__json_escape(b, tmp, k);
    }
    omni__buf_putc(b, '"');
}

void omni__ana_entity_normalized(const char *text, const ana_entity *e, omni_buf *b)
{
    const char *v = text + e->start;
    size_t n = e->end - e->start;
    switch (e->type) {
    case ENT_PHONE:
        omni__json_w_str(b, e->e164);
        return;
    case ENT_EMAIL:
        put_lowered(b, "", v, n, n);
        return;
    case ENT_URL: {
        /* scheme and host lower-cased; "https://" before a bare host */
        const unsigned char *u = (const unsigned char *)v;
        size_t k = has_prefix(u, n, "http://") ? 7 : has_prefix(u, n, "https://") ? 8 : 0;
        size_t ae = k;
        while (ae < n && u[ae] != '/' && u[ae] != '?' && u[ae] != '#')
            ae++;
        put_lowered(b, k ? "" : "https://", v, n, ae);
        return;
    }
    default:
        omni__json_w_strn(b, v, n);
        return;
    }
}
