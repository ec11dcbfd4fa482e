/* IANA time zones: a strict TZif (RFC 8536, versions 1-4) parser, the POSIX
 * TZ footer rule for times after the last transition, zone loading from
 * the system zoneinfo, and civil-time arithmetic. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omni/common.h>

#include "error.h"
#include "tz.h"

#define TZ_ABBR_MAX 15          /* longest abbreviation kept */
#define TZ_FOOTER_MAX 256       /* longest footer TZ string */
#define TZ_UTOFF_MIN (-89999)   /* -24:59:59 (RFC 8536 section 3.2) */
#define TZ_UTOFF_MAX 93599      /* +25:59:59 */
#define TZ_HEADER_LEN 44

/* ---- civil time ---------------------------------------------------------- */

int omni__is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && omni__is_leap_year(y) ? 29 : days[m - 1];
}

/* Counts in 400-year eras of 146097 days, years starting on March 1 so that
 * the leap day ends a year. */
int64_t omni__days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = m > 2 ? m - 3 : m + 9;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void omni__civil_from_seconds(int64_t s, omni__civil *out)
{
    int64_t days = floor_div(s, 86400);
    int64_t sod = s - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = yoe + era * 400 + (out->month <= 2);
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
    int64_t wd = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    out->weekday = (int)(wd < 0 ? wd + 7 : wd);
    out->yday = (int)(days - omni__days_from_civil(out->year, 1, 1));
}

/* ---- the zone ------------------------------------------------------------ */

typedef struct tz_type {
    int32_t off;
    uint8_t isdst;
    uint32_t abbr; /* index into chars */
} tz_type;

/* A POSIX TZ rule date: Jn (1..365, no leap day), n (0..365) or Mm.w.d. */
typedef struct tz_rule_date {
    char kind; /* 'J', 'N', 'M' */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight, -167h..167h */
} tz_rule_date;

struct omni__tz {
    char name[OMNI__TZ_MAX_NAME + 1];
    size_t timecnt;
    int64_t *times;
    uint8_t *idx;
    size_t typecnt;
    tz_type *types;
    char *chars;
    /* footer TZ string (version 2+, non-empty) */
    int has_footer;
    int has_dst;
    int32_t std_off, dst_off; /* east of UTC, as utoff */
    char std_abbr[TZ_ABBR_MAX + 1];
    char dst_abbr[TZ_ABBR_MAX + 1];
    tz_rule_date start, end;
};

typedef struct tz_hdr {
    int version; /* 1..4 */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tz_hdr;

typedef struct parse_ctx {
    const char *name;
} parse_ctx;

static int bad(const parse_ctx *c, const char *fmt, ...) OMNI__PRINTF(2, 3);
static int bad(const parse_ctx *c, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->name && *c->name)
        return omni__err(OMNI_EENCODING, "time zone %s: invalid TZif data: %s", c->name, msg);
    return omni__err(OMNI_EENCODING, "invalid TZif data: %s", msg);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int read_header(const parse_ctx *c, const uint8_t *p, size_t len, size_t off, tz_hdr *h)
{
    if (len - off < TZ_HEADER_LEN)
        return bad(c, "truncated header at byte %zu", off);
    p += off;
    if (memcmp(p, "TZif", 4) != 0)
        return bad(c, "bad magic at byte %zu", off);
    switch (p[4]) {
    case 0: h->version = 1; break;
    case '2': h->version = 2; break;
    case '3': h->version = 3; break;
    case '4': h->version = 4; break;
    default: return bad(c, "unknown version byte 0x%02x", p[4]);
    }
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->typecnt == 0)
        return bad(c, "typecnt is 0");
    if (h->typecnt > 256)
        return bad(c, "typecnt %u exceeds 256", h->typecnt);
    if (h->charcnt == 0)
        return bad(c, "charcnt is 0");
    if (h->isutcnt != 0 && h->isutcnt != h->typecnt)
        return bad(c, "isutcnt %u is neither 0 nor typecnt", h->isutcnt);
    if (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)
        return bad(c, "isstdcnt %u is neither 0 nor typecnt", h->isstdcnt);
    return OMNI_OK;
}

/* Size of a data block with `tsz`-byte times (counts are < 2^32, so the
 * sum fits in 64 bits). */
static uint64_t block_size(const tz_hdr *h, unsigned tsz)
{
    return (uint64_t)h->timecnt * tsz + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsz + 4) + h->isstdcnt + h->isutcnt;
}

/* Validates one data block; when `tz` is not NULL also copies it in. */
static int read_block(const parse_ctx *c, const uint8_t *p, const tz_hdr *h, unsigned tsz,
                      omni__tz *tz)
{
    const uint8_t *times = p;
    const uint8_t *idx = times + (size_t)h->timecnt * tsz;
    const uint8_t *types = idx + h->timecnt;
    const uint8_t *chars = types + (size_t)h->typecnt * 6;
    const uint8_t *leaps = chars + h->charcnt;
    const uint8_t *isstd = leaps + (size_t)h->leapcnt * (tsz + 4);
    const uint8_t *isut = isstd + h->isstdcnt;

    int64_t prev = 0;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t t = tsz == 4 ? (int64_t)(int32_t)be32(times + (size_t)i * 4)
                             : be64(times + (size_t)i * 8);
        if (i > 0 && t <= prev)
            return bad(c, "transition %u is not after transition %u", i, i - 1);
        prev = t;
        if (idx[i] >= h->typecnt)
            return bad(c, "transition %u uses type %u of %u", i, idx[i], h->typecnt);
        if (tz) {
            tz->times[i] = t;
            tz->idx[i] = idx[i];
        }
    }
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const uint8_t *r = types + (size_t)i * 6;
        int32_t off = (int32_t)be32(r);
        if (off < TZ_UTOFF_MIN || off > TZ_UTOFF_MAX)
            return bad(c, "type %u has UT offset %d out of range", i, off);
        if (r[4] > 1)
            return bad(c, "type %u has isdst %u", i, r[4]);
        if (r[5] >= h->charcnt)
            return bad(c, "type %u designation index %u is beyond charcnt", i, r[5]);
        if (!memchr(chars + r[5], 0, h->charcnt - r[5]))
            return bad(c, "type %u designation is not NUL-terminated", i);
        if (tz) {
            tz->types[i].off = off;
            tz->types[i].isdst = r[4];
            tz->types[i].abbr = r[5];
        }
    }
    if (h->leapcnt)
        return omni__err(OMNI_EUNSUPPORTED,
                         "time zone %s has leap-second records, which are not supported",
                         c->name && *c->name ? c->name : "(data)");
    for (uint32_t i = 0; i < h->isstdcnt; i++)
        if (isstd[i] > 1)
            return bad(c, "standard/wall indicator %u is %u", i, isstd[i]);
    for (uint32_t i = 0; i < h->isutcnt; i++) {
        if (isut[i] > 1)
            return bad(c, "UT/local indicator %u is %u", i, isut[i]);
        if (isut[i] == 1 && (h->isstdcnt == 0 || isstd[i] != 1))
            return bad(c, "UT indicator %u set without the standard indicator", i);
    }
    if (tz)
        memcpy(tz->chars, chars, h->charcnt);
    return OMNI_OK;
}

/* ---- POSIX TZ strings (the footer) -------------------------------------- */

typedef struct tzs {
    const char *s, *end;
} tzs;

static int tzs_name(tzs *t, char *out)
{
    size_t n = 0;
    if (t->s < t->end && *t->s == '<') {
        t->s++;
        while (t->s < t->end && *t->s != '>') {
            char ch = *t->s;
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '+' || ch == '-'))
                return -1;
            if (n >= TZ_ABBR_MAX)
                return -1;
            out[n++] = ch;
            t->s++;
        }
        if (t->s >= t->end)
            return -1;
        t->s++; /* '>' */
    } else {
        while (t->s < t->end &&
               ((*t->s >= 'A' && *t->s <= 'Z') || (*t->s >= 'a' && *t->s <= 'z'))) {
            if (n >= TZ_ABBR_MAX)
                return -1;
            out[n++] = *t->s++;
        }
    }
    out[n] = '\0';
    return n >= 3 ? 0 : -1;
}

static int tzs_num(tzs *t, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (t->s < t->end && *t->s >= '0' && *t->s <= '9' && n < max_digits) {
        v = v * 10 + (*t->s++ - '0');
        n++;
    }
    if (n == 0 || (t->s < t->end && *t->s >= '0' && *t->s <= '9'))
        return -1;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours. */
static int tzs_hms(tzs *t, int max_hours, int32_t *out)
{
    int neg = 0;
    if (t->s < t->end && (*t->s == '+' || *t->s == '-')) {
        neg = *t->s == '-';
        t->s++;
    }
    int h, m = 0, sec = 0;
    if (tzs_num(t, 3, &h) || h > max_hours)
        return -1;
    if (t->s < t->end && *t->s == ':') {
        t->s++;
        if (tzs_num(t, 2, &m) || m > 59)
            return -1;
        if (t->s < t->end && *t->s == ':') {
            t->s++;
            if (tzs_num(t, 2, &sec) || sec > 59)
                return -1;
        }
    }
    int32_t v = h * 3600 + m * 60 + sec;
    *out = neg ? -v : v;
    return 0;
}

static int tzs_date(tzs *t, tz_rule_date *r)
{
    if (t->s >= t->end)
        return -1;
    if (*t->s == 'J') {
        t->s++;
        r->kind = 'J';
        if (tzs_num(t, 3, &r->n) || r->n < 1 || r->n > 365)
            return -1;
    } else if (*t->s == 'M') {
        t->s++;
        r->kind = 'M';
        if (tzs_num(t, 2, &r->m) || r->m < 1 || r->m > 12)
            return -1;
        if (t->s >= t->end || *t->s++ != '.')
            return -1;
        if (tzs_num(t, 1, &r->w) || r->w < 1 || r->w > 5)
            return -1;
        if (t->s >= t->end || *t->s++ != '.')
            return -1;
        if (tzs_num(t, 1, &r->d) || r->d > 6)
            return -1;
    } else {
        r->kind = 'N';
        if (tzs_num(t, 3, &r->n) || r->n > 365)
            return -1;
    }
    r->time = 7200; /* 02:00 by default */
    if (t->s < t->end && *t->s == '/') {
        t->s++;
        /* RFC 8536 section 3.3.1: hours -167..167 */
        if (tzs_hms(t, 167, &r->time))
            return -1;
    }
    return 0;
}

static int parse_footer(const parse_ctx *c, omni__tz *tz, const char *s, size_t n)
{
    tzs t = {s, s + n};
    int32_t v;
    if (tzs_name(&t, tz->std_abbr))
        return bad(c, "footer TZ string: bad standard time name");
    if (tzs_hms(&t, 24, &v))
        return bad(c, "footer TZ string: bad standard time offset");
    tz->std_off = -v; /* POSIX offsets are positive west of Greenwich */
    tz->has_footer = 1;
    if (t.s == t.end)
        return OMNI_OK;
    if (tzs_name(&t, tz->dst_abbr))
        return bad(c, "footer TZ string: bad daylight time name");
    tz->has_dst = 1;
    tz->dst_off = tz->std_off + 3600;
    if (t.s < t.end && *t.s != ',') {
        if (tzs_hms(&t, 24, &v))
            return bad(c, "footer TZ string: bad daylight time offset");
        tz->dst_off = -v;
    }
    if (t.s >= t.end || *t.s != ',')
        return bad(c, "footer TZ string: daylight time without a rule");
    t.s++;
    if (tzs_date(&t, &tz->start))
        return bad(c, "footer TZ string: bad rule start");
    if (t.s >= t.end || *t.s != ',')
        return bad(c, "footer TZ string: missing rule end");
    t.s++;
    if (tzs_date(&t, &tz->end))
        return bad(c, "footer TZ string: bad rule end");
    if (t.s != t.end)
        return bad(c, "footer TZ string: trailing characters");
    return OMNI_OK;
}

/* ---- parse --------------------------------------------------------------- */

static omni__tz *tz_alloc(size_t timecnt, size_t typecnt, size_t charcnt)
{
    /* one block: struct, times, types, idx, chars */
    size_t sz = sizeof(omni__tz) + timecnt * sizeof(int64_t) + typecnt * sizeof(tz_type) +
                timecnt + charcnt + 1;
    omni__tz *tz = calloc(1, sz);
    if (!tz)
        return NULL;
    char *p = (char *)(tz + 1);
    tz->times = (int64_t *)p;
    p += timecnt * sizeof(int64_t);
    tz->types = (tz_type *)p;
    p += typecnt * sizeof(tz_type);
    tz->idx = (uint8_t *)p;
    p += timecnt;
    tz->chars = p;
    tz->timecnt = timecnt;
    tz->typecnt = typecnt;
    return tz;
}

static void set_name(omni__tz *tz, const char *name)
{
    if (!name)
        return;
    size_t n = strnlen(name, OMNI__TZ_MAX_NAME);
    memcpy(tz->name, name, n);
    tz->name[n] = '\0';
}

int omni__tz_parse(omni__tz **out, const uint8_t *data, size_t len, const char *name)
{
    if (!out || (!data && len))
        return omni__err(OMNI_EINVAL, "NULL argument");
    *out = NULL;
    if (len > OMNI__TZ_MAX_FILE)
        return omni__err(OMNI_ETOOLARGE, "TZif data is %zu bytes; the limit is %u", len,
                         OMNI__TZ_MAX_FILE);
    parse_ctx c = {name};
    tz_hdr h1, h2;
    int rc = read_header(&c, data, len, 0, &h1);
    if (rc)
        return rc;
    uint64_t b1 = block_size(&h1, 4);
    if (b1 > len - TZ_HEADER_LEN)
        return bad(&c, "truncated version 1 data");
    size_t off = TZ_HEADER_LEN + (size_t)b1;

    const tz_hdr *h = &h1;
    unsigned tsz = 4;
    size_t data_off = TZ_HEADER_LEN;
    if (h1.version >= 2) {
        /* The version 1 block is only checked for size; the 64-bit data
         * after the second header is what counts. */
        rc = read_header(&c, data, len, off, &h2);
        if (rc)
            return rc;
        if (h2.version != h1.version)
            return bad(&c, "the two headers disagree on the version");
        uint64_t b2 = block_size(&h2, 8);
        if (b2 > len - off - TZ_HEADER_LEN)
            return bad(&c, "truncated version %d data", h2.version);
        data_off = off + TZ_HEADER_LEN;
        off = data_off + (size_t)b2;
        h = &h2;
        tsz = 8;
    }
    /* validate before allocating anything */
    rc = read_block(&c, data + data_off, h, tsz, NULL);
    if (rc)
        return rc;

    const char *footer = NULL;
    size_t footer_len = 0;
    if (h->version >= 2) {
        if (off >= len || data[off] != '\n')
            return bad(&c, "missing footer");
        const uint8_t *nl = memchr(data + off + 1, '\n', len - off - 1);
        if (!nl)
            return bad(&c, "unterminated footer");
        footer = (const char *)data + off + 1;
        footer_len = (size_t)(nl - (data + off + 1));
        if (footer_len > TZ_FOOTER_MAX)
            return bad(&c, "footer TZ string longer than %d bytes", TZ_FOOTER_MAX);
        off = (size_t)(nl - data) + 1;
    }
    if (off != len)
        return bad(&c, "%zu trailing bytes", len - off);

    omni__tz *tz = tz_alloc(h->timecnt, h->typecnt, h->charcnt);
    if (!tz)
        return omni__err(OMNI_ENOMEM, NULL);
    set_name(tz, name);
    rc = read_block(&c, data + data_off, h, tsz, tz);
    if (rc == OMNI_OK && footer_len)
        rc = parse_footer(&c, tz, footer, footer_len);
    if (rc) {
        free(tz);
        return rc;
    }
    *out = tz;
    return OMNI_OK;
}

void omni__tz_free(omni__tz *tz)
{
    free(tz);
}

const char *omni__tz_name(const omni__tz *tz)
{
    return tz ? tz->name : "";
}

static int make_fixed(omni__tz **out, const char *name, const char *abbr)
{
    size_t n = strlen(abbr) + 1;
    omni__tz *tz = tz_alloc(0, 1, n);
    if (!tz)
        return omni__err(OMNI_ENOMEM, NULL);
    set_name(tz, name);
    memcpy(tz->chars, abbr, n);
    *out = tz;
    return OMNI_OK;
}

int omni__tz_utc(omni__tz **out)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "NULL argument");
    return make_fixed(out, "UTC", "UTC");
}

/* ---- loading -------------------------------------------------------------- */

int omni__tz_name_valid(const char *name)
{
    if (!name)
        return 0;
    size_t n = strnlen(name, OMNI__TZ_MAX_NAME + 1);
    if (n == 0 || n > OMNI__TZ_MAX_NAME)
        return 0;
    int start = 1; /* at the start of a component */
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (ch == '/') {
            if (start)
                return 0; /* leading '/' or empty component */
            start = 1;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '+' || ch == '-'))
            return 0;
        if (start && ch == '-')
            return 0;
        start = 0;
    }
    return !start; /* no trailing '/' */
}

int omni__tz_load(omni__tz **out, const char *name)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "NULL argument");
    *out = NULL;
    if (!name)
        return omni__err(OMNI_EINVAL, "time zone name is NULL");
    if (!omni__tz_name_valid(name))
        return omni__err(OMNI_EINVAL,
                         "invalid time zone name (expected an IANA name such as "
                         "\"Asia/Kolkata\": [A-Za-z0-9_+/-], at most %u bytes)",
                         OMNI__TZ_MAX_NAME);
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
        return make_fixed(out, name, "UTC");
    if (!strcmp(name, "GMT") || !strcmp(name, "Etc/GMT"))
        return make_fixed(out, name, "GMT");

    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path[4096];
    int pn = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (pn < 0 || (size_t)pn >= sizeof(path))
        return omni__err(OMNI_EINVAL, "time zone path too long");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return omni__err(OMNI_ENOTFOUND, "unknown time zone %s", name);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return omni__err(OMNI_ENOTFOUND, "unknown time zone %s", name);
    }
    if (st.st_size > (off_t)OMNI__TZ_MAX_FILE) {
        close(fd);
        return omni__err(OMNI_ETOOLARGE, "time zone file for %s is larger than %u bytes", name,
                         OMNI__TZ_MAX_FILE);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            char eb[128];
            return omni__err(OMNI_ENOTFOUND, "cannot read time zone %s: %s", name,
                             strerror_r(e, eb, sizeof(eb)));
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) { /* the file grew: refuse rather than read forever */
            close(fd);
            free(buf);
            return omni__err(OMNI_ETOOLARGE, "time zone file for %s changed while read", name);
        }
    }
    close(fd);
    int rc = omni__tz_parse(out, buf, len, name);
    free(buf);
    return rc;
}

/* ---- queries ------------------------------------------------------------- */

/* Days since the epoch of a rule date in year y. */
static int64_t rule_day(int64_t y, const tz_rule_date *r)
{
    int64_t jan1 = omni__days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        return jan1 + r->n - 1 + (omni__is_leap_year(y) && r->n >= 60 ? 1 : 0);
    case 'N':
        return jan1 + r->n;
    default: {
        int64_t first = omni__days_from_civil(y, r->m, 1);
        int64_t wd = (first + 4) % 7;
        if (wd < 0)
            wd += 7;
        int64_t day = first + (r->d - wd + 7) % 7 + (int64_t)(r->w - 1) * 7;
        if (day >= first + days_in_month(y, r->m))
            day -= 7; /* week 5: the last such weekday */
        return day;
    }
    }
}

typedef struct tz_event {
    int64_t at;
    int dst; /* the state from `at` on */
} tz_event;

/* DST flag of the footer rule at unix time t. */
static int footer_is_dst(const omni__tz *tz, int64_t t)
{
    omni__civil cv;
    omni__civil_from_seconds(t + tz->std_off, &cv);
    tz_event ev[6];
    int n = 0;
    for (int64_t y = cv.year - 1; y <= cv.year + 1; y++) {
        ev[n].at = rule_day(y, &tz->start) * 86400 + tz->start.time - tz->std_off;
        ev[n++].dst = 1;
        ev[n].at = rule_day(y, &tz->end) * 86400 + tz->end.time - tz->dst_off;
        ev[n++].dst = 0;
    }
    /* insertion sort by time; at equal times the end sorts first so that a
     * start at the same instant (DST all year) wins */
    for (int i = 1; i < n; i++) {
        tz_event e = ev[i];
        int j = i - 1;
        while (j >= 0 && (ev[j].at > e.at || (ev[j].at == e.at && ev[j].dst > e.dst))) {
            ev[j + 1] = ev[j];
            j--;
        }
        ev[j + 1] = e;
    }
    int state = !ev[0].dst;
    for (int i = 0; i < n && ev[i].at <= t; i++)
        state = ev[i].dst;
    return state;
}

int omni__tz_offset(const omni__tz *tz, int64_t unix_s, int32_t *utc_offset_s, int *is_dst,
                    const char **abbrev)
{
    if (!tz)
        return omni__err(OMNI_EINVAL, "time zone is NULL");
    if (unix_s > OMNI__TZ_MAX_ABS_S || unix_s < -OMNI__TZ_MAX_ABS_S)
        return omni__err(OMNI_ETIME, "time %lld is out of range", (long long)unix_s);
    int use_footer = 0;
    size_t type = 0;
    if (tz->timecnt == 0) {
        use_footer = tz->has_footer;
    } else if (unix_s < tz->times[0]) {
        type = 0;
    } else if (unix_s >= tz->times[tz->timecnt - 1]) {
        use_footer = tz->has_footer;
        type = tz->idx[tz->timecnt - 1];
    } else {
        size_t lo = 0, hi = tz->timecnt - 1; /* times[lo] <= t < times[hi] */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (tz->times[mid] <= unix_s)
                lo = mid;
            else
                hi = mid;
        }
        type = tz->idx[lo];
    }
    if (use_footer) {
        int dst = tz->has_dst && footer_is_dst(tz, unix_s);
        if (utc_offset_s)
            *utc_offset_s = dst ? tz->dst_off : tz->std_off;
        if (is_dst)
            *is_dst = dst;
        if (abbrev)
            *abbrev = dst ? tz->dst_abbr : tz->std_abbr;
        return OMNI_OK;
    }
    const tz_type *ty = &tz->types[type];
    if (utc_offset_s)
        *utc_offset_s = ty->off;
    if (is_dst)
        *is_dst = ty->isdst;
    if (abbrev)
        *abbrev = tz->chars + ty->abbr;
    return OMNI_OK;
}

int omni__tz_from_local(const omni__tz *tz, int64_t local_s, int64_t *unix_s)
{
    if (!tz || !unix_s)
        return omni__err(OMNI_EINVAL, "NULL argument");
    if (local_s > OMNI__TZ_MAX_ABS_S - 2 * 86400 || local_s < -OMNI__TZ_MAX_ABS_S + 2 * 86400)
        return omni__err(OMNI_ETIME, "time %lld is out of range", (long long)local_s);
    int32_t before, after;
    omni__tz_offset(tz, local_s - 86400, &before, NULL, NULL);
    omni__tz_offset(tz, local_s + 86400, &after, NULL, NULL);
    int found = 0;
    int64_t best = 0;
    int32_t cand[2] = {before, after};
    for (int i = 0; i < 2; i++) {
        int64_t u = local_s - cand[i];
        int32_t o;
        omni__tz_offset(tz, u, &o, NULL, NULL);
        if (o == cand[i] && (!found || u < best)) {
            best = u;
            found = 1;
        }
    }
    if (!found) {
        /* in a gap: read the wall time with the offset before the shift */
        best = local_s - before;
    }
    *unix_s = best;
    return OMNI_OK;
}
