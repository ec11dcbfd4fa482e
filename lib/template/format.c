/* Locale-aware number, currency and date formatting with built-in data for
 * en, en-US, en-GB, en-IN, hi, hi-IN, kn, kn-IN, producing what JavaScript's
 * Intl (node 20, full ICU) produces for those locales. Numbers go through
 * the shortest round-trip decimal of the double (as ICU does) and are
 * rounded half away from zero on those digits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/channel.h>
#include <omni/datetime.h>

#include "../core/error.h"
#include "format.h"

/* ---- locale data (CLDR, as shipped with node 20's ICU) ------------------ */

enum { SYM_EN, SYM_GB, SYM_IN, SYM_INDIC };

struct omni__locale {
    const char *tag;
    int indian_grouping; /* 3;2 (12,34,567) instead of 3 (1,234,567) */
    int symbols;         /* SYM_*: which currency symbols the locale uses */
    const char *const *month_long;
    const char *const *month_short;
    const char *const *day_long;
    const char *const *day_short;
    const char *am, *pm;
    const char *style[4]; /* short, medium, long, full in this file's pattern language */
};

static const char *const EN_MONTHS[12] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};
static const char *const EN_MON[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const GB_MON[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"};
static const char *const EN_DAYS[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
static const char *const EN_DAY[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* Hindi (Devanagari); "॰" is U+0970 DEVANAGARI ABBREVIATION SIGN. */
static const char *const HI_MONTHS[12] = {
    "जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून",
    "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"};
static const char *const HI_MON[12] = {
    "जन॰", "फ़र॰", "मार्च", "अप्रैल", "मई", "जून",
    "जुल॰", "अग॰", "सित॰", "अक्टू॰", "नव॰", "दिस॰"};
static const char *const HI_DAYS[7] = {"रविवार", "सोमवार", "मंगलवार", "बुधवार",
                                       "गुरुवार", "शुक्रवार", "शनिवार"};
static const char *const HI_DAY[7] = {"रवि", "सोम", "मंगल", "बुध", "गुरु", "शुक्र", "शनि"};

/* Kannada */
static const char *const KN_MONTHS[12] = {
    "ಜನವರಿ", "ಫೆಬ್ರವರಿ", "ಮಾರ್ಚ್", "ಏಪ್ರಿಲ್", "ಮೇ", "ಜೂನ್",
    "ಜುಲೈ", "ಆಗಸ್ಟ್", "ಸೆಪ್ಟೆಂಬರ್", "ಅಕ್ಟೋಬರ್", "ನವೆಂಬರ್", "ಡಿಸೆಂಬರ್"};
static const char *const KN_MON[12] = {
    "ಜನ", "ಫೆಬ್ರ", "ಮಾರ್ಚ್", "ಏಪ್ರಿ", "ಮೇ", "ಜೂನ್",
    "ಜುಲೈ", "ಆಗ", "ಸೆಪ್ಟೆಂ", "ಅಕ್ಟೋ", "ನವೆಂ", "ಡಿಸೆಂ"};
static const char *const KN_DAYS[7] = {"ಭಾನುವಾರ", "ಸೋಮವಾರ", "ಮಂಗಳವಾರ", "ಬುಧವಾರ",
                                       "ಗುರುವಾರ", "ಶುಕ್ರವಾರ", "ಶನಿವಾರ"};
static const char *const KN_DAY[7] = {"ಭಾನು", "ಸೋಮ", "ಮಂಗಳ", "ಬುಧ", "ಗುರು", "ಶುಕ್ರ", "ಶನಿ"};

#define EN_US_STYLES {"M/d/yy", "MMM d, y", "MMMM d, y", "EEEE, MMMM d, y"}
#define HI_STYLES {"d/M/yy", "d MMM y", "d MMMM y", "EEEE, d MMMM y"}
#define KN_STYLES {"d/M/yy", "MMM d, y", "MMMM d, y", "EEEE, MMMM d, y"}

static const omni__locale LOCALES[] = {
    {"en", 0, SYM_EN, EN_MONTHS, EN_MON, EN_DAYS, EN_DAY, "AM", "PM", EN_US_STYLES},
    {"en-US", 0, SYM_EN, EN_MONTHS, EN_MON, EN_DAYS, EN_DAY, "AM", "PM", EN_US_STYLES},
    {"en-GB", 0, SYM_GB, EN_MONTHS, GB_MON, EN_DAYS, EN_DAY, "am", "pm",
     {"dd/MM/y", "d MMM y", "d MMMM y", "EEEE, d MMMM y"}},
    {"en-IN", 1, SYM_IN, EN_MONTHS, GB_MON, EN_DAYS, EN_DAY, "am", "pm",
     {"dd/MM/yy", "d MMM y", "d MMMM y", "EEEE, d MMMM y"}},
    {"hi", 1, SYM_INDIC, HI_MONTHS, HI_MON, HI_DAYS, HI_DAY, "am", "pm", HI_STYLES},
    {"hi-IN", 1, SYM_INDIC, HI_MONTHS, HI_MON, HI_DAYS, HI_DAY, "am", "pm", HI_STYLES},
    {"kn", 0, SYM_INDIC, KN_MONTHS, KN_MON, KN_DAYS, KN_DAY, "AM", "PM", KN_STYLES},
    {"kn-IN", 0, SYM_INDIC, KN_MONTHS, KN_MON, KN_DAYS, KN_DAY, "AM", "PM", KN_STYLES},
};
#define N_LOCALES (sizeof(LOCALES) / sizeof(LOCALES[0]))

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

const omni__locale *omni__locale_get(const char *tag)
{
    if (!tag || !*tag)
        return &LOCALES[0];
    size_t n = strnlen(tag, 36);
    if (n > 35) {
        omni__err(OMNI_EINVAL, "locale tag is longer than 35 bytes");
        return NULL;
    }
    char lang[4] = {0}, region[3] = {0};
    size_t i = 0, sub = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && tag[i] != '-' && tag[i] != '_') {
            char c = tag[i];
            if (!is_alpha(c) && !(c >= '0' && c <= '9')) {
                omni__err(OMNI_EINVAL, "invalid locale tag (expected e.g. \"en-IN\")");
                return NULL;
            }
            i++;
        }
        size_t len = i - start;
        if (len == 0 || len > 8) {
            omni__err(OMNI_EINVAL, "invalid locale tag (expected e.g. \"en-IN\")");
            return NULL;
        }
        if (sub == 0) {
            if (len < 2 || len > 3 || !is_alpha(tag[start]) || !is_alpha(tag[start + 1]) ||
                (len == 3 && !is_alpha(tag[start + 2]))) {
                omni__err(OMNI_EINVAL, "invalid locale tag (expected e.g. \"en-IN\")");
                return NULL;
            }
            for (size_t k = 0; k < len; k++)
                lang[k] = lower(tag[start + k]);
        } else if (len == 2 && !region[0] && is_alpha(tag[start]) && is_alpha(tag[start + 1])) {
            region[0] = upper(tag[start]);
            region[1] = upper(tag[start + 1]);
        }
        sub++;
        i++; /* past the separator (or the end) */
    }
    char full[8];
    snprintf(full, sizeof(full), "%s-%s", lang, region);
    const omni__locale *by_lang = NULL;
    for (size_t k = 0; k < N_LOCALES; k++) {
        if (region[0] && !strcmp(LOCALES[k].tag, full))
            return &LOCALES[k];
        if (!by_lang && !strcmp(LOCALES[k].tag, lang))
            by_lang = &LOCALES[k];
    }
    return by_lang ? by_lang : &LOCALES[0];
}

const char *omni__locale_tag(const omni__locale *loc)
{
    return loc ? loc->tag : "en";
}

/* ---- numbers ------------------------------------------------------------- */

#define MAX_FRACTION 20

int omni__shortest_digits(double a, char *digits, int *exp10)
{
    char tmp[40];
    int lo = 1, hi = 17;
    while (lo < hi) { /* a precision that round-trips keeps doing so above */
        int mid = (lo + hi) / 2;
        snprintf(tmp, sizeof(tmp), "%.*e", mid - 1, a);
        if (strtod(tmp, NULL) == a)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", lo - 1, a);
    /* d.ddddde[+-]XX */
    int n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    int e = atoi(p + 1);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *exp10 = e + 1;
    return n;
}

/* Appends |value| (finite) with grouping and between minf and maxf
 * fraction digits; the caller writes the sign. */
static void append_decimal(omni_buf *b, double value, int indian, int minf, int maxf)
{
    char d[420]; /* integer digits (<= 309) + fraction (<= 20) + carry */
    int n = 0, e = 1;
    double a = fabs(value);
    if (a == 0) {
        d[0] = '0';
        n = 1;
        e = 1;
    } else {
        n = omni__shortest_digits(a, d, &e);
    }
    /* Round at position e + maxf (digits before that position are kept). */
    int keep = e + maxf;
    if (keep < 0) {
        n = 0; /* far below the last kept place: rounds to 0 */
    } else if (keep < n) {
        int up = d[keep] >= '5';
        n = keep;
        if (up) {
            int k = n - 1;
            while (k >= 0 && d[k] == '9')
                d[k--] = '0';
            if (k >= 0) {
                d[k]++;
            } else {
                memmove(d + 1, d, (size_t)n);
                d[0] = '1';
                n++;
                e++;
            }
        }
    }
    /* integer part */
    char ip[330];
    int il = 0;
    if (e <= 0 || n == 0) {
        ip[il++] = '0';
    } else {
        for (int k = 0; k < e; k++)
            ip[il++] = k < n ? d[k] : '0';
    }
    /* grouping: the last three digits, then threes (or twos for Indian) */
    char grouped[520];
    int gl = 0;
    for (int k = 0; k < il; k++) {
        grouped[gl++] = ip[k];
        int left = il - 1 - k; /* digits after this one */
        if (left > 0 && il > 3) {
            if (left == 3 || (left > 3 && (indian ? (left - 3) % 2 == 0 : left % 3 == 0)))
                grouped[gl++] = ',';
        }
    }
    omni__buf_append(b, grouped, (size_t)gl);
    /* fraction: digits at positions e.. (zeros before the first digit) */
    char fp[MAX_FRACTION];
    int fl;
    for (int k = 0; k < maxf; k++) {
        int pos = e + k; /* index into d of fraction digit k */
        fp[k] = pos >= 0 && pos < n ? d[pos] : '0';
    }
    fl = maxf;
    while (fl > minf && fp[fl - 1] == '0')
        fl--;
    if (fl > 0) {
        omni__buf_putc(b, '.');
        omni__buf_append(b, fp, (size_t)fl);
    }
}

static int check_fraction(int *minf, int *maxf)
{
    if ((*minf != -1 && (*minf < 0 || *minf > MAX_FRACTION)) ||
        (*maxf != -1 && (*maxf < 0 || *maxf > MAX_FRACTION)))
        return omni__err(OMNI_EINVAL, "fraction digits must be -1 (default) or 0..%d",
                         MAX_FRACTION);
    if (*minf == -1 && *maxf == -1) {
        *minf = 0;
        *maxf = 3;
    } else if (*minf == -1) {
        *minf = 0;
    } else if (*maxf == -1) {
        *maxf = *minf > 3 ? *minf : 3;
    }
    if (*minf > *maxf)
        return omni__err(OMNI_EINVAL, "minimum fraction digits %d exceed the maximum %d", *minf,
                         *maxf);
    return OMNI_OK;
}

/* NaN and infinities as Intl writes them ("NaN", "-∞", "₹NaN", "-SGD∞":
 * the currency's no-break space only stands next to a digit). Returns 1
 * when handled. */
static int append_special(omni_buf *b, double value, const char *prefix)
{
    if (isnan(value)) {
        omni__buf_puts(b, prefix);
        omni__buf_puts(b, "NaN");
        return 1;
    }
    if (isinf(value)) {
        if (value < 0)
            omni__buf_putc(b, '-');
        omni__buf_puts(b, prefix);
        omni__buf_puts(b, "\xE2\x88\x9E"); /* ∞ */
        return 1;
    }
    return 0;
}

int omni__format_number_append(omni_buf *b, double value, const omni__locale *loc,
                               int min_fraction, int max_fraction)
{
    if (!loc)
        loc = &LOCALES[0];
    int rc = check_fraction(&min_fraction, &max_fraction);
    if (rc)
        return rc;
    if (append_special(b, value, ""))
        return OMNI_OK;
    if (signbit(value))
        omni__buf_putc(b, '-');
    append_decimal(b, value, loc->indian_grouping, min_fraction, max_fraction);
    return OMNI_OK;
}

/* ---- currencies ------------------------------------------------------------ */

/* Minor units (CLDR, as Intl uses them) of the currencies without 2. */
static const struct {
    char code[4];
    uint8_t digits;
} DIGITS[] = {
    {"AFN", 0}, {"ALL", 0}, {"BHD", 3}, {"BIF", 0}, {"CLP", 0}, {"COP", 0}, {"DJF", 0},
    {"GNF", 0}, {"HUF", 0}, {"IDR", 0}, {"IQD", 0}, {"IRR", 0}, {"ISK", 0}, {"JOD", 3},
    {"JPY", 0}, {"KMF", 0}, {"KPW", 0}, {"KRW", 0}, {"KWD", 3}, {"LAK", 0}, {"LBP", 0},
    {"LYD", 3}, {"MGA", 0}, {"MMK", 0}, {"OMR", 3}, {"PKR", 0}, {"PYG", 0}, {"RWF", 0},
    {"SLL", 0}, {"SOS", 0}, {"SYP", 0}, {"TND", 3}, {"UGX", 0}, {"VND", 0}, {"VUV", 0},
    {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"YER", 0},
};

/* Narrow symbols shared by all built-in locales; `space` when a no-break
 * space separates symbol and number (symbols ending in a letter or '.'). */
static const struct {
    char code[4];
    const char *symbol;
    uint8_t space;
} SYMBOLS[] = {
    {"AUD", "A$", 0},    {"BRL", "R$", 0},   {"CAD", "CA$", 0}, {"CNY", "CN¥", 0},
    {"EUR", "€", 0},     {"GBP", "£", 0},    {"HKD", "HK$", 0}, {"ILS", "₪", 0},
    {"INR", "₹", 0},     {"KRW", "₩", 0},    {"MXN", "MX$", 0}, {"NZD", "NZ$", 0},
    {"TWD", "NT$", 0},   {"VND", "₫", 0},    {"XAF", "FCFA", 1}, {"XCD", "EC$", 0},
    {"XCG", "Cg.", 1},   {"XOF", "F\xE2\x80\xAF" "CFA", 1},      {"XPF", "CFPF", 1},
};

/* The symbol of `code` (upper case) in a locale; NULL: the code itself. */
static const char *currency_symbol(const char *code, int symbols, int *space)
{
    *space = 0;
    if (!strcmp(code, "USD"))
        return symbols == SYM_GB ? "US$" : "$";
    if (!strcmp(code, "JPY"))
        return symbols == SYM_EN ? "¥" : "JP¥";
    if (!strcmp(code, "PHP"))
        return symbols == SYM_INDIC ? NULL : "₱";
    if (!strcmp(code, "THB"))
        return symbols == SYM_INDIC ? "฿" : NULL;
    for (size_t i = 0; i < sizeof(SYMBOLS) / sizeof(SYMBOLS[0]); i++) {
        if (!strcmp(SYMBOLS[i].code, code)) {
            *space = SYMBOLS[i].space;
            return SYMBOLS[i].symbol;
        }
    }
    return NULL;
}

int omni__format_currency_append(omni_buf *b, double value, const char *code,
                                 const omni__locale *loc)
{
    if (!loc)
        loc = &LOCALES[0];
    if (!code || strnlen(code, 4) != 3 || !is_alpha(code[0]) || !is_alpha(code[1]) ||
        !is_alpha(code[2]))
        return omni__err(OMNI_EINVAL, "currency must be an ISO 4217 code of three letters");
    char cc[4] = {upper(code[0]), upper(code[1]), upper(code[2]), 0};
    int digits = 2;
    for (size_t i = 0; i < sizeof(DIGITS) / sizeof(DIGITS[0]); i++) {
        if (!strcmp(DIGITS[i].code, cc)) {
            digits = DIGITS[i].digits;
            break;
        }
    }
    int space = 1;
    const char *sym = currency_symbol(cc, loc->symbols, &space);
    if (!sym) {
        sym = cc;
        space = 1;
    }
    if (append_special(b, value, sym))
        return OMNI_OK;
    if (signbit(value))
        omni__buf_putc(b, '-');
    omni__buf_puts(b, sym);
    if (space)
        omni__buf_puts(b, "\xC2\xA0"); /* U+00A0 NO-BREAK SPACE */
    append_decimal(b, value, loc->indian_grouping, digits, digits);
    return OMNI_OK;
}

/* ---- dates ----------------------------------------------------------------- */

static void put_num(omni_buf *b, int64_t v, int width)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%0*lld", width, (long long)v);
    omni__buf_append(b, tmp, (size_t)n);
}

/* "GMT+5:30", "GMT-4", "GMT+0" (Intl's timeZoneName "shortOffset"). */
static void put_gmt(omni_buf *b, int32_t off)
{
    omni__buf_puts(b, "GMT");
    omni__buf_putc(b, off < 0 ? '-' : '+');
    int32_t a = off < 0 ? -off : off;
    put_num(b, a / 3600, 1);
    if (a % 3600) {
        omni__buf_putc(b, ':');
        put_num(b, a / 60 % 60, 2);
        if (a % 60) {
            omni__buf_putc(b, ':');
            put_num(b, a % 60, 2);
        }
    }
}

/* A numeric field of one or two letters ("d", "dd"): the number, padded to
 * the letter count. Returns 0 for a longer run. */
static int put_field(omni_buf *b, size_t run, int64_t v)
{
    if (run > 2)
        return 0;
    put_num(b, v, (int)run);
    return 1;
}

typedef struct date_ctx {
    omni__civil c;
    int32_t off;
    const omni__locale *loc;
} date_ctx;

/* Expands a pattern or a locale's style pattern. */
static int expand(omni_buf *b, const char *pat, const date_ctx *x)
{
    const omni__civil *c = &x->c;
    const omni__locale *loc = x->loc;
    size_t i = 0, n = strlen(pat);
    while (i < n) {
        char ch = pat[i];
        if (ch == '\'') {
            i++;
            if (i < n && pat[i] == '\'') { /* '' is a quote */
                omni__buf_putc(b, '\'');
                i++;
                continue;
            }
            for (;;) {
                if (i >= n)
                    return omni__err(OMNI_EINVAL, "date pattern: unterminated quote");
                if (pat[i] == '\'') {
                    if (i + 1 < n && pat[i + 1] == '\'') {
                        omni__buf_putc(b, '\'');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                omni__buf_putc(b, pat[i++]);
            }
            continue;
        }
        if (!is_alpha(ch)) {
            omni__buf_putc(b, ch);
            i++;
            continue;
        }
        size_t run = 1;
        while (i + run < n && pat[i + run] == ch)
            run++;
        i += run;
        int ok = 1;
        switch (ch) {
        case 'y':
            if (run == 1)
                put_num(b, c->year, 1);
            else if (run == 2)
                put_num(b, c->year % 100, 2);
            else if (run == 4)
                put_num(b, c->year, 4);
            else
                ok = 0;
            break;
        case 'M':
            if (run <= 2)
                put_num(b, c->month, (int)run);
            else if (run == 3)
                omni__buf_puts(b, loc->month_short[c->month - 1]);
            else if (run == 4)
                omni__buf_puts(b, loc->month_long[c->month - 1]);
            else
                ok = 0;
            break;
        case 'd': ok = put_field(b, run, c->day); break;
        case 'E':
            if (run <= 3)
                omni__buf_puts(b, loc->day_short[c->weekday]);
            else if (run == 4)
                omni__buf_puts(b, loc->day_long[c->weekday]);
            else
                ok = 0;
            break;
        case 'H': ok = put_field(b, run, c->hour); break;
        case 'h': ok = put_field(b, run, c->hour % 12 == 0 ? 12 : c->hour % 12); break;
        case 'm': ok = put_field(b, run, c->minute); break;
        case 's': ok = put_field(b, run, c->second); break;
        case 'a':
            if (run == 1)
                omni__buf_puts(b, c->hour < 12 ? loc->am : loc->pm);
            else
                ok = 0;
            break;
        case 'z':
            if (run == 1)
                put_gmt(b, x->off);
            else
                ok = 0;
            break;
        default:
            return omni__err(OMNI_EINVAL,
                             "date pattern: unknown letter '%c' (quote literal text: 'at')", ch);
        }
        if (!ok)
            return omni__err(OMNI_EINVAL, "date pattern: '%c' repeated %zu times is not supported",
                             ch, run);
    }
    return OMNI_OK;
}

#define MAX_PATTERN 256

int omni__format_date_append(omni_buf *b, int64_t ms, const char *pattern, const omni__tz *tz,
                             const omni__locale *loc)
{
    if (!loc)
        loc = &LOCALES[0];
    if (!pattern || !*pattern)
        pattern = "medium";
    if (strnlen(pattern, MAX_PATTERN + 1) > MAX_PATTERN)
        return omni__err(OMNI_EINVAL, "date pattern is longer than %d bytes", MAX_PATTERN);
    static const char *const styles[4] = {"short", "medium", "long", "full"};
    for (int k = 0; k < 4; k++) {
        if (!strcmp(pattern, styles[k])) {
            pattern = loc->style[k];
            break;
        }
    }
    int64_t s = ms / 1000;
    if (ms % 1000 < 0)
        s--; /* floor */
    date_ctx x;
    x.loc = loc;
    x.off = 0;
    if (tz) {
        int rc = omni__tz_offset(tz, s, &x.off, NULL, NULL);
        if (rc)
            return rc;
    }
    omni__civil_from_seconds(s + x.off, &x.c);
    if (x.c.year < 1 || x.c.year > 9999)
        return omni__err(OMNI_ETIME, "formatDate: the local date is outside years 1..9999");
    size_t mark = b->len;
    int rc = expand(b, pattern, &x);
    if (rc && !b->failed) {
        b->len = mark; /* nothing appended on error */
        if (b->data)
            b->data[mark] = '\0';
    }
    return rc;
}

/* ---- public wrappers ------------------------------------------------------ */

static int start_out(char **out, size_t *out_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    return OMNI_OK;
}

OMNI_API int omni_format_number(char **out, size_t *out_len, double value, const char *locale,
                                int min_fraction, int max_fraction)
{
    int rc = start_out(out, out_len);
    if (rc)
        return rc;
    const omni__locale *loc = omni__locale_get(locale);
    if (!loc)
        return OMNI_EINVAL;
    omni_buf b = OMNI_BUF_INIT;
    rc = omni__format_number_append(&b, value, loc, min_fraction, max_fraction);
    return omni__buf_finish(&b, rc, out, out_len);
}

OMNI_API int omni_format_currency(char **out, size_t *out_len, double value, const char *code,
                                  const char *locale)
{
    int rc = start_out(out, out_len);
    if (rc)
        return rc;
    const omni__locale *loc = omni__locale_get(locale);
    if (!loc)
        return OMNI_EINVAL;
    omni_buf b = OMNI_BUF_INIT;
    rc = omni__format_currency_append(&b, value, code, loc);
    return omni__buf_finish(&b, rc, out, out_len);
}

OMNI_API int omni_format_date(char **out, size_t *out_len, const char *rfc3339,
                              const char *pattern, const char *time_zone, const char *locale)
{
    int rc = start_out(out, out_len);
    if (rc)
        return rc;
    if (!rfc3339)
        return omni__err(OMNI_EINVAL, "formatDate: the date is NULL");
    int64_t ms;
    rc = omni_time_parse(&ms, rfc3339, strlen(rfc3339));
    if (rc)
        return rc;
    const omni__locale *loc = omni__locale_get(locale);
    if (!loc)
        return OMNI_EINVAL;
    omni__tz *tz = NULL;
    if (time_zone && *time_zone) {
        rc = omni__tz_load(&tz, time_zone);
        if (rc)
            return rc;
    }
    omni_buf b = OMNI_BUF_INIT;
    rc = omni__format_date_append(&b, ms, pattern, tz, loc);
    omni__tz_free(tz);
    return omni__buf_finish(&b, rc, out, out_len);
}
