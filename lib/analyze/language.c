/* Language detection of the content analyzer (en, hi, kn, und) by script
 * (Devanagari, Kannada) and, for Latin text, by common English and
 * romanized-Hindi words; and the byte-level text figures of the spam score
 * (capitals, repeated characters, runs of ! and ?), taken in the same pass. */
#include <math.h>
#include <string.h>

#include "analyze_internal.h"

/* ASCII letters and digits -> lower case; 0: a separator. */
const unsigned char omni__ana_ascii_word[256] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6',
    ['7'] = '7', ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k',
    ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
    ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y',
    ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
    ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm',
    ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

void omni__ana_text_stats(const char *text, size_t len, ana_stats *st)
{
    const unsigned char *s = (const unsigned char *)text;
    uint32_t prev = 0, run = 0, bang = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        uint32_t cp;
        if (c < 0x80) {
            cp = c;
            i++;
            if (c >= 'a' && c <= 'z')
                st->lower++;
            else if (c >= 'A' && c <= 'Z')
                st->upper++;
            if (c == '!' || c == '?') {
                if (++bang > st->longest_bang)
                    st->longest_bang = bang;
            } else {
                bang = 0;
            }
        } else {
            bang = 0;
            st->nonascii++;
            /* valid UTF-8: decode without checks */
            if (c < 0xE0) {
                cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
                i += 2;
            } else if (c < 0xF0) {
                cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
                i += 3;
            } else {
                cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) |
                     ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
                i += 4;
            }
            if (cp >= 0x900 && cp <= 0x97F) {
                if (cp < 0x964 || cp > 0x96F) /* not the dandas and digits */
                    st->deva++;
            } else if (cp >= 0xC80 && cp <= 0xCFF) {
                if (cp < 0xCE6 || cp > 0xCEF) /* not the digits */
                    st->kann++;
            } else if ((cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
                       (cp >= 0x1E00 && cp <= 0x1EFF)) {
                st->latin++;
            } else if ((cp >= 0x370 && cp <= 0x1FFF) || (cp >= 0x3040 && cp <= 0x9FFF) ||
                       (cp >= 0xAC00 && cp <= 0xD7AF)) {
                st->other++;
            }
        }
        /* repeated characters: not digits, not spaces */
        if (cp == prev && !(cp >= '0' && cp <= '9') && cp > 0x20) {
            if (++run > st->longest_run)
                st->longest_run = run;
        } else {
            run = 1;
            prev = cp;
            if (st->longest_run == 0 && !(cp >= '0' && cp <= '9') && cp > 0x20)
                st->longest_run = 1;
        }
    }
    st->latin += st->upper + st->lower;
}

static double round2(double v)
{
    return floor(v * 100.0 + 0.5) / 100.0;
}

/* The primary subtag of a language tag, lower-cased; NULL when malformed. */
static const char *hint_primary(const char *hint, char *buf)
{
    if (!hint)
        return NULL;
    size_t n = 0;
    while (hint[n] && hint[n] != '-' && hint[n] != '_') {
        char c = hint[n];
        if (n == 8 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return NULL;
        buf[n++] = (char)(c | 0x20);
    }
    if (n < 2)
        return NULL;
    buf[n] = '\0';
    return buf;
}

const char *omni__ana_language(const ana_stats *st, const char *hint, char *hint_buf,
                               double *confidence)
{
    uint32_t letters = st->deva + st->kann + st->latin + st->other;
    const char *lang = "und";
    double conf = 0;
    if (letters > 0 && st->deva + st->kann + st->other > st->latin) {
        /* a script of its own: its share of the letters */
        uint32_t top = st->deva;
        lang = "hi";
        if (st->kann > top) {
            top = st->kann;
            lang = "kn";
        }
        if (st->other > top) {
            top = st->other;
            lang = "und"; /* confidently none of ours */
        }
        conf = 0.5 + 0.45 * (double)top / letters;
    } else if (letters > 0 && st->en + st->hi > 0) {
        uint32_t win = st->en >= st->hi ? st->en : st->hi;
        uint32_t lose = st->en >= st->hi ? st->hi : st->en;
        lang = st->en >= st->hi ? "en" : "hi";
        double margin = (double)(win - lose) / (win + lose);
        conf = margin * (1.0 - exp(-(double)win / 2.0)) * st->latin / letters;
    }
    conf = round2(conf);
    if (conf < 0.5) {
        const char *h = hint_primary(hint, hint_buf);
        if (h) {
            *confidence = 0.5;
            return h;
        }
    }
    *confidence = conf;
    return lang;
}
