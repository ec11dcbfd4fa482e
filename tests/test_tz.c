/* Time zones (lib/core/tz.h): the system zoneinfo, TZif parsing (RFC 8536),
 * the footer TZ rule, bad names and corrupt data, local -> UTC and civil
 * time. Expected offsets were checked against the tzdata rules (US: second
 * Sunday of March to first Sunday of November at 02:00; EU: last Sunday of
 * March / October at 01:00 UTC; Lord Howe: +10:30 / +11 from the first
 * Sunday of October to the first Sunday of April). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <omni/omni.h>

#include "lib/core/tz.h"

static omni__tz *load(const char *name)
{
    omni__tz *tz = NULL;
    int rc = omni__tz_load(&tz, name);
    cr_assert_eq(rc, OMNI_OK, "load %s: %d %s", name, rc, omni_error_last_message());
    cr_assert_str_eq(omni__tz_name(tz), name);
    return tz;
}

static void expect(const omni__tz *tz, int64_t t, int32_t off, int dst, const char *abbr)
{
    int32_t o = 0;
    int d = -1;
    const char *a = NULL;
    int rc = omni__tz_offset(tz, t, &o, &d, &a);
    cr_assert_eq(rc, OMNI_OK, "offset: %s", omni_error_last_message());
    cr_assert_eq(o, off, "%s at %lld: offset %d, expected %d", omni__tz_name(tz), (long long)t,
                 o, off);
    cr_assert_eq(d, dst, "%s at %lld: dst %d, expected %d", omni__tz_name(tz), (long long)t, d,
                 dst);
    cr_assert_str_eq(a, abbr, "%s at %lld", omni__tz_name(tz), (long long)t);
}

/* Unix seconds of a UTC civil time. */
static int64_t utc(int64_t y, int mo, int d, int h, int mi, int s)
{
    return omni__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

Test(tz, new_york_2026_transitions)
{
    omni__tz *tz = load("America/New_York");
    expect(tz, utc(2026, 1, 15, 0, 0, 0), -18000, 0, "EST");
    /* 2026-03-08 02:00 EST = 07:00Z: the exact second and the one before */
    expect(tz, utc(2026, 3, 8, 7, 0, 0) - 1, -18000, 0, "EST");
    expect(tz, utc(2026, 3, 8, 7, 0, 0), -14400, 1, "EDT");
    cr_assert_eq(utc(2026, 3, 8, 7, 0, 0), 1772953200);
    expect(tz, utc(2026, 7, 4, 16, 0, 0), -14400, 1, "EDT");
    /* 2026-11-01 02:00 EDT = 06:00Z */
    expect(tz, utc(2026, 11, 1, 6, 0, 0) - 1, -14400, 1, "EDT");
    expect(tz, utc(2026, 11, 1, 6, 0, 0), -18000, 0, "EST");
    cr_assert_eq(utc(2026, 11, 1, 6, 0, 0), 1793512800);
    omni__tz_free(tz);
}

Test(tz, fixed_offset_zones)
{
    omni__tz *tz = load("Asia/Kolkata");
    expect(tz, utc(2026, 6, 1, 0, 0, 0), 19800, 0, "IST");
    expect(tz, utc(2026, 12, 31, 23, 59, 59), 19800, 0, "IST");
    omni__tz_free(tz);
    tz = load("Asia/Kathmandu");
    expect(tz, utc(2026, 6, 1, 0, 0, 0), 20700, 0, "+0545");
    omni__tz_free(tz);
    tz = load("UTC");
    expect(tz, 0, 0, 0, "UTC");
    expect(tz, utc(2026, 6, 1, 0, 0, 0), 0, 0, "UTC");
    omni__tz_free(tz);
    tz = load("Etc/UTC");
    expect(tz, 1, 0, 0, "UTC");
    omni__tz_free(tz);
    tz = load("Etc/GMT+5"); /* POSIX sign: five hours west */
    expect(tz, utc(2026, 6, 1, 0, 0, 0), -18000, 0, "-05");
    omni__tz_free(tz);
    cr_assert_eq(omni__tz_utc(&tz), OMNI_OK);
    expect(tz, 123456789, 0, 0, "UTC");
    omni__tz_free(tz);
}

Test(tz, london)
{
    omni__tz *tz = load("Europe/London");
    expect(tz, utc(2026, 1, 1, 0, 0, 0), 0, 0, "GMT");
    expect(tz, utc(2026, 3, 29, 1, 0, 0) - 1, 0, 0, "GMT");
    expect(tz, utc(2026, 3, 29, 1, 0, 0), 3600, 1, "BST");
    expect(tz, utc(2026, 7, 1, 0, 0, 0), 3600, 1, "BST");
    expect(tz, utc(2026, 10, 25, 1, 0, 0) - 1, 3600, 1, "BST");
    expect(tz, utc(2026, 10, 25, 1, 0, 0), 0, 0, "GMT");
    omni__tz_free(tz);
}

Test(tz, lord_howe_half_hour_dst)
{
    omni__tz *tz = load("Australia/Lord_Howe");
    expect(tz, utc(2026, 1, 1, 0, 0, 0), 39600, 1, "+11");
    /* DST ends 2026-04-05 02:00 +11 = 04-04 15:00Z */
    expect(tz, utc(2026, 4, 4, 15, 0, 0) - 1, 39600, 1, "+11");
    expect(tz, utc(2026, 4, 4, 15, 0, 0), 37800, 0, "+1030");
    expect(tz, utc(2026, 7, 1, 0, 0, 0), 37800, 0, "+1030");
    /* DST starts 2026-10-04 02:00 +10:30 = 10-03 15:30Z */
    expect(tz, utc(2026, 10, 3, 15, 30, 0) - 1, 37800, 0, "+1030");
    expect(tz, utc(2026, 10, 3, 15, 30, 0), 39600, 1, "+11");
    /* far future: the footer rule */
    expect(tz, utc(2300, 1, 1, 0, 0, 0), 39600, 1, "+11");
    expect(tz, utc(2300, 7, 1, 0, 0, 0), 37800, 0, "+1030");
    omni__tz_free(tz);
}

Test(tz, far_future_uses_footer_rule)
{
    omni__tz *tz = load("America/New_York");
    expect(tz, utc(2200, 1, 1, 0, 0, 0), -18000, 0, "EST");
    expect(tz, utc(2200, 7, 1, 0, 0, 0), -14400, 1, "EDT");
    /* 2200: second Sunday of March is March 9; 07:00Z */
    expect(tz, utc(2200, 3, 9, 7, 0, 0) - 1, -18000, 0, "EST");
    expect(tz, utc(2200, 3, 9, 7, 0, 0), -14400, 1, "EDT");
    /* first Sunday of November 2200 is November 2; 06:00Z */
    expect(tz, utc(2200, 11, 2, 6, 0, 0) - 1, -14400, 1, "EDT");
    expect(tz, utc(2200, 11, 2, 6, 0, 0), -18000, 0, "EST");
    expect(tz, utc(9999, 12, 31, 23, 59, 59), -18000, 0, "EST");
    omni__tz_free(tz);
    /* southern hemisphere rule AEST-10AEDT,M10.1.0,M4.1.0/3 */
    tz = load("Australia/Sydney");
    expect(tz, utc(2250, 1, 10, 0, 0, 0), 39600, 1, "AEDT");
    expect(tz, utc(2250, 6, 10, 0, 0, 0), 36000, 0, "AEST");
    omni__tz_free(tz);
    /* negative rule times (RFC 8536 version 3): <-02>2<-01>,M3.5.0/-1,M10.5.0/0 */
    tz = load("America/Nuuk");
    expect(tz, utc(2300, 7, 1, 0, 0, 0), -3600, 1, "-01");
    expect(tz, utc(2300, 1, 1, 0, 0, 0), -7200, 0, "-02");
    omni__tz_free(tz);
}

Test(tz, before_first_transition_uses_first_type)
{
    omni__tz *tz = load("America/New_York");
    expect(tz, utc(1800, 1, 1, 0, 0, 0), -17762, 0, "LMT");
    omni__tz_free(tz);
    tz = load("Asia/Kolkata");
    expect(tz, utc(1800, 1, 1, 0, 0, 0), 21208, 0, "LMT");
    omni__tz_free(tz);
}

Test(tz, out_of_range_times)
{
    omni__tz *tz = load("Asia/Kolkata");
    cr_assert_eq(omni__tz_offset(tz, INT64_MAX, NULL, NULL, NULL), OMNI_ETIME);
    cr_assert_eq(omni__tz_offset(tz, INT64_MIN, NULL, NULL, NULL), OMNI_ETIME);
    cr_assert_eq(omni__tz_offset(tz, OMNI__TZ_MAX_ABS_S, NULL, NULL, NULL), OMNI_OK);
    cr_assert_eq(omni__tz_offset(NULL, 0, NULL, NULL, NULL), OMNI_EINVAL);
    int64_t u;
    cr_assert_eq(omni__tz_from_local(tz, INT64_MAX, &u), OMNI_ETIME);
    cr_assert_eq(omni__tz_from_local(tz, 0, NULL), OMNI_EINVAL);
    omni__tz_free(tz);
    omni__tz_free(NULL);
}

Test(tz, bad_names)
{
    static const char *bad[] = {"../etc/passwd", "/etc/passwd", "Asia//Kolkata", "Asia/Kolkata/",
                                "", "-x", "Asia/-x", "Asia/Kol kata", "Asia/Kolkata\n",
                                "Asia/../Kolkata", "Asia/./Kolkata", "Asia\\Kolkata", "a*",
                                "Europe/Lon\xC3\xB6"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        omni__tz *tz = (omni__tz *)1;
        cr_assert_eq(omni__tz_load(&tz, bad[i]), OMNI_EINVAL, "name %s", bad[i]);
        cr_assert_null(tz);
        cr_assert_eq(omni__tz_name_valid(bad[i]), 0);
    }
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    omni__tz *tz = NULL;
    cr_assert_eq(omni__tz_load(&tz, longname), OMNI_EINVAL);
    cr_assert_eq(omni__tz_load(&tz, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__tz_load(NULL, "UTC"), OMNI_EINVAL);
    cr_assert_eq(omni__tz_load(&tz, "Nowhere/Zone"), OMNI_ENOTFOUND);
    cr_assert_not_null(strstr(omni_error_last_message(), "Nowhere/Zone"));
    cr_assert_eq(omni__tz_load(&tz, "Asia"), OMNI_ENOTFOUND); /* a directory */
    cr_assert_eq(omni__tz_name_valid("Etc/GMT+5"), 1);
    cr_assert_eq(omni__tz_name_valid("America/Port-au-Prince"), 1);
    cr_assert_eq(omni__tz_name_valid("America/Argentina/Buenos_Aires"), 1);
}

/* ---- hand-built TZif data ------------------------------------------------ */

typedef struct tzb {
    uint8_t d[4096];
    size_t n;
} tzb;

static void put(tzb *b, const void *p, size_t n)
{
    cr_assert(b->n + n <= sizeof(b->d));
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put32(tzb *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

static void put64(tzb *b, int64_t v)
{
    put32(b, (uint32_t)((uint64_t)v >> 32));
    put32(b, (uint32_t)v);
}

typedef struct ttype {
    int32_t off;
    uint8_t dst, idx;
} ttype;

static void header(tzb *b, char ver, uint32_t ut, uint32_t std, uint32_t leap, uint32_t time,
                   uint32_t type, uint32_t chr)
{
    put(b, "TZif", 4);
    uint8_t v = (uint8_t)ver;
    put(b, &v, 1);
    uint8_t zero[15] = {0};
    put(b, zero, 15);
    put32(b, ut);
    put32(b, std);
    put32(b, leap);
    put32(b, time);
    put32(b, type);
    put32(b, chr);
}

/* A version `ver` file: an empty-ish v1 block (the types only, as zic's
 * "slim" output), then the 64-bit data and the footer. */
static void build(tzb *b, char ver, size_t nt, const int64_t *times, const uint8_t *idx,
                  size_t ntypes, const ttype *types, const char *chars, size_t nchars,
                  const char *footer)
{
    b->n = 0;
    for (int pass = 0; pass < (ver ? 2 : 1); pass++) {
        int v1 = pass == 0 && ver;
        size_t tcount = v1 ? 0 : nt;
        header(b, ver, 0, 0, 0, (uint32_t)tcount, (uint32_t)ntypes, (uint32_t)nchars);
        for (size_t i = 0; i < tcount; i++) {
            if (ver)
                put64(b, times[i]);
            else
                put32(b, (uint32_t)(int32_t)times[i]);
        }
        put(b, idx, tcount);
        for (size_t i = 0; i < ntypes; i++) {
            put32(b, (uint32_t)types[i].off);
            put(b, &types[i].dst, 1);
            put(b, &types[i].idx, 1);
        }
        put(b, chars, nchars);
    }
    if (ver) {
        put(b, "\n", 1);
        put(b, footer, strlen(footer));
        put(b, "\n", 1);
    }
}

static int parse(const tzb *b, omni__tz **out)
{
    *out = NULL;
    return omni__tz_parse(out, b->d, b->n, "Test/Zone");
}

/* The time type set shared by most cases: STD +1h, DST +2h. */
static const ttype TYPES[] = {{3600, 0, 0}, {7200, 1, 4}};
static const char CHARS[] = "STD\0DST";

Test(tz, parse_built_v2_with_rule)
{
    tzb b;
    int64_t times[] = {1000000, 2000000};
    uint8_t idx[] = {1, 0};
    build(&b, '2', 2, times, idx, 2, TYPES, CHARS, sizeof(CHARS), "STD-1DST,M3.5.0,M10.5.0/3");
    omni__tz *tz;
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, 0, 3600, 0, "STD");         /* before the first transition: type 0 */
    expect(tz, 1000000, 7200, 1, "DST");
    expect(tz, 1999999, 7200, 1, "DST");
    /* after the last transition: the footer (EU rule, 01:00 UTC) */
    expect(tz, utc(2026, 3, 29, 1, 0, 0) - 1, 3600, 0, "STD");
    expect(tz, utc(2026, 3, 29, 1, 0, 0), 7200, 1, "DST");
    expect(tz, utc(2026, 10, 25, 1, 0, 0) - 1, 7200, 1, "DST");
    expect(tz, utc(2026, 10, 25, 1, 0, 0), 3600, 0, "STD");
    omni__tz_free(tz);
}

Test(tz, parse_version_1_and_3_and_4)
{
    tzb b;
    int64_t times[] = {-100, 100};
    uint8_t idx[] = {1, 0};
    build(&b, 0, 2, times, idx, 2, TYPES, CHARS, sizeof(CHARS), NULL);
    omni__tz *tz;
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, -101, 3600, 0, "STD");
    expect(tz, 0, 7200, 1, "DST");
    expect(tz, 1000000000, 3600, 0, "STD"); /* no footer: the last type */
    omni__tz_free(tz);
    build(&b, '3', 2, times, idx, 2, TYPES, CHARS, sizeof(CHARS), "");
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, 1000000000, 3600, 0, "STD"); /* empty footer: the last type */
    omni__tz_free(tz);
    build(&b, '4', 2, times, idx, 2, TYPES, CHARS, sizeof(CHARS), "<+01>-1");
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, 1000000000, 3600, 0, "+01");
    omni__tz_free(tz);
}

Test(tz, footer_rule_forms)
{
    tzb b;
    uint8_t idx[1] = {0};
    omni__tz *tz;
    /* no transitions: the footer applies at all times */
    /* Jn: day 60 is March 1 even in leap years; n: zero-based with Feb 29 */
    build(&b, '2', 0, NULL, idx, 2, TYPES, CHARS, sizeof(CHARS), "STD-1DST,J60/0,300/0");
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    /* 2028 is a leap year: J60 = March 1 00:00 STD = Feb 29 23:00Z */
    expect(tz, utc(2028, 2, 29, 23, 0, 0) - 1, 3600, 0, "STD");
    expect(tz, utc(2028, 2, 29, 23, 0, 0), 7200, 1, "DST");
    /* day 300 (zero-based) of 2028 = October 27 (Jan 1 + 300), 00:00 DST = 26th 22:00Z */
    expect(tz, utc(2028, 10, 26, 22, 0, 0) - 1, 7200, 1, "DST");
    expect(tz, utc(2028, 10, 26, 22, 0, 0), 3600, 0, "STD");
    omni__tz_free(tz);

    /* DST all year (RFC 8536 section 3.3.1 example): EST5EDT4,0/0,J365/25 */
    static const ttype est[] = {{-18000, 0, 0}, {-14400, 1, 4}};
    build(&b, '3', 0, NULL, idx, 2, est, "EST\0EDT", 8, "EST5EDT4,0/0,J365/25");
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, utc(2026, 1, 1, 5, 0, 0), -14400, 1, "EDT");
    expect(tz, utc(2026, 6, 1, 0, 0, 0), -14400, 1, "EDT");
    expect(tz, utc(2026, 12, 31, 23, 59, 59), -14400, 1, "EDT");
    expect(tz, utc(2027, 1, 1, 5, 0, 0), -14400, 1, "EDT");
    omni__tz_free(tz);

    /* default DST offset (one hour ahead) and explicit hh:mm:ss times */
    build(&b, '2', 0, NULL, idx, 2, TYPES, CHARS, sizeof(CHARS),
          "<STD>-1<DST>,M4.1.0/01:30:15,M9.5.6/+23");
    cr_assert_eq(parse(&b, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, utc(2026, 7, 1, 0, 0, 0), 7200, 1, "DST");
    /* first Sunday of April 2026 is April 5; 01:30:15 STD = 00:30:15Z */
    expect(tz, utc(2026, 4, 5, 0, 30, 15) - 1, 3600, 0, "STD");
    expect(tz, utc(2026, 4, 5, 0, 30, 15), 7200, 1, "DST");
    /* last Saturday of September 2026 is the 26th; 23:00 DST = 21:00Z */
    expect(tz, utc(2026, 9, 26, 21, 0, 0) - 1, 7200, 1, "DST");
    expect(tz, utc(2026, 9, 26, 21, 0, 0), 3600, 0, "STD");
    omni__tz_free(tz);
}

static void expect_bad(const tzb *b, int status, const char *needle)
{
    omni__tz *tz = (omni__tz *)1;
    int rc = omni__tz_parse(&tz, b->d, b->n, "Test/Zone");
    cr_assert_eq(rc, status, "status %d, expected %d (%s)", rc, status,
                 omni_error_last_message());
    cr_assert_null(tz);
    if (needle)
        cr_assert_not_null(strstr(omni_error_last_message(), needle), "message: %s",
                           omni_error_last_message());
}

Test(tz, corrupt_data_is_an_error)
{
    tzb b;
    int64_t times[] = {1000, 2000};
    uint8_t idx[] = {1, 0};
    const char *f = "STD-1DST,M3.5.0,M10.5.0/3";
    build(&b, '2', 2, times, idx, 2, TYPES, CHARS, sizeof(CHARS), f);

    tzb c = b;
    c.d[0] = 'X';
    expect_bad(&c, OMNI_EENCODING, "magic");
    c = b;
    c.d[4] = '9';
    expect_bad(&c, OMNI_EENCODING, "version");
    c = b;
    c.n = 20;
    expect_bad(&c, OMNI_EENCODING, "truncated header");

    /* non-ascending transitions */
    int64_t rev[] = {2000, 1000};
    build(&c, '2', 2, rev, idx, 2, TYPES, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "not after");
    int64_t same[] = {1000, 1000};
    build(&c, '2', 2, same, idx, 2, TYPES, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "not after");
    /* type index out of range */
    uint8_t idx_bad[] = {1, 2};
    build(&c, '2', 2, times, idx_bad, 2, TYPES, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "uses type 2");
    /* UT offset out of range, INT32_MIN, isdst 2, designation index */
    ttype t1[] = {{3600, 0, 0}, {90000 * 2, 1, 4}};
    build(&c, '2', 2, times, idx, 2, t1, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "out of range");
    ttype t2[] = {{INT32_MIN, 0, 0}, {7200, 1, 4}};
    build(&c, '2', 2, times, idx, 2, t2, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "out of range");
    ttype t3[] = {{3600, 2, 0}, {7200, 1, 4}};
    build(&c, '2', 2, times, idx, 2, t3, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "isdst");
    ttype t4[] = {{3600, 0, 0}, {7200, 1, 8}};
    build(&c, '2', 2, times, idx, 2, t4, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "beyond charcnt");
    /* designation without a NUL */
    build(&c, '2', 2, times, idx, 2, TYPES, "STD\0DST", 7, f);
    expect_bad(&c, OMNI_EENCODING, "NUL");
    /* typecnt 0, charcnt 0 */
    build(&c, '2', 0, NULL, idx, 0, TYPES, CHARS, sizeof(CHARS), f);
    expect_bad(&c, OMNI_EENCODING, "typecnt is 0");
    build(&c, '2', 0, NULL, idx, 1, TYPES, "", 0, f);
    expect_bad(&c, OMNI_EENCODING, "charcnt is 0");

    /* trailing bytes, missing and unterminated footers */
    c = b;
    put(&c, "x", 1);
    expect_bad(&c, OMNI_EENCODING, "trailing");
    c = b;
    c.n -= strlen(f) + 2;
    expect_bad(&c, OMNI_EENCODING, "missing footer");
    c = b;
    c.n -= 1;
    expect_bad(&c, OMNI_EENCODING, "unterminated footer");

    /* every truncation of a valid file fails cleanly */
    for (size_t n = 0; n < b.n; n++) {
        c = b;
        c.n = n;
        omni__tz *tz = NULL;
        cr_assert_eq(omni__tz_parse(&tz, c.d, c.n, NULL), OMNI_EENCODING, "length %zu", n);
    }
    /* and so does every truncation of a real zone file */
    FILE *fp = fopen("/usr/share/zoneinfo/Asia/Kolkata", "rb");
    if (fp) {
        uint8_t buf[4096];
        size_t n = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        omni__tz *tz = NULL;
        cr_assert_eq(omni__tz_parse(&tz, buf, n, "Asia/Kolkata"), OMNI_OK);
        omni__tz_free(tz);
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(omni__tz_parse(&tz, buf, k, NULL), OMNI_EENCODING, "length %zu", k);
        /* flip each byte of the header counts: never a crash */
        for (size_t k = 20; k < 44; k++) {
            uint8_t save = buf[k];
            buf[k] ^= 0xFF;
            int rc = omni__tz_parse(&tz, buf, n, NULL);
            if (rc == OMNI_OK)
                omni__tz_free(tz);
            buf[k] = save;
        }
    }
}

Test(tz, counts_and_indicators)
{
    tzb b, c;
    int64_t times[] = {1000};
    uint8_t idx[] = {0};
    build(&b, '2', 1, times, idx, 2, TYPES, CHARS, sizeof(CHARS), "STD-1");
    omni__tz *tz;
    cr_assert_eq(parse(&b, &tz), OMNI_OK);
    omni__tz_free(tz);
    /* header count fields: offsets 20 isut, 24 isstd, 28 leap, 36 type */
    size_t h2 = 44 + 2 * 6 + sizeof(CHARS); /* second header offset */
    /* isutcnt neither 0 nor typecnt */
    c = b;
    c.d[h2 + 23] = 1;
    expect_bad(&c, OMNI_EENCODING, "isutcnt");
    c = b;
    c.d[h2 + 27] = 3;
    expect_bad(&c, OMNI_EENCODING, "isstdcnt");
    /* typecnt > 256 */
    c = b;
    c.d[h2 + 38] = 1;
    c.d[h2 + 39] = 1;
    expect_bad(&c, OMNI_EENCODING, "exceeds 256");
    /* a huge timecnt: truncated, no huge allocation */
    c = b;
    c.d[h2 + 32] = 0xFF;
    expect_bad(&c, OMNI_EENCODING, "truncated");
    /* the two headers disagree on the version */
    c = b;
    c.d[h2 + 4] = '3';
    expect_bad(&c, OMNI_EENCODING, "disagree");

    /* indicators: append isstd / isut arrays by hand */
    tzb d;
    d.n = 0;
    header(&d, '2', 0, 0, 0, 0, 1, 4);
    put32(&d, 0), put(&d, "\0\0", 2), put(&d, "UTC", 4);
    header(&d, '2', 1, 1, 0, 0, 1, 4);
    put32(&d, 0), put(&d, "\0\0", 2), put(&d, "UTC", 4);
    size_t ind = d.n;
    put(&d, "\1\1", 2);
    put(&d, "\nUTC0\n", 6);
    cr_assert_eq(parse(&d, &tz), OMNI_OK, "%s", omni_error_last_message());
    expect(tz, 0, 0, 0, "UTC");
    omni__tz_free(tz);
    c = d;
    c.d[ind] = 0; /* UT without standard */
    expect_bad(&c, OMNI_EENCODING, "UT indicator");
    c = d;
    c.d[ind] = 2;
    expect_bad(&c, OMNI_EENCODING, "standard/wall");
    c = d;
    c.d[ind + 1] = 2;
    expect_bad(&c, OMNI_EENCODING, "UT/local");

    /* leap-second records: structurally fine, but not supported */
    d.n = 0;
    header(&d, '2', 0, 0, 0, 0, 1, 4);
    put32(&d, 0), put(&d, "\0\0", 2), put(&d, "UTC", 4);
    header(&d, '2', 0, 0, 1, 0, 1, 4);
    put32(&d, 0), put(&d, "\0\0", 2), put(&d, "UTC", 4);
    put64(&d, 78796800), put32(&d, 1);
    put(&d, "\nUTC0\n", 6);
    expect_bad(&d, OMNI_EUNSUPPORTED, "leap");
}

Test(tz, bad_footers)
{
    static const char *bad[] = {
        "ST-1",                          /* name too short */
        "STD",                           /* no offset */
        "STD-1DST",                      /* DST without a rule */
        "STD-1DST,M3.5.0",               /* no end */
        "STD-1DST,M13.5.0,M10.5.0",      /* month 13 */
        "STD-1DST,M3.6.0,M10.5.0",       /* week 6 */
        "STD-1DST,M3.5.7,M10.5.0",       /* day 7 */
        "STD-1DST,J0,J100",              /* Julian day 0 */
        "STD-1DST,J366,J100",            /* Julian day 366 */
        "STD-1DST,366,100",              /* zero-based 366 */
        "STD-1DST,M3.5.0/168,M10.5.0",   /* rule hour 168 */
        "STD-25",                        /* offset hour 25 */
        "STD-1:60",                      /* minute 60 */
        "STD-1:00:60",                   /* second 60 */
        "STD-1DST,M3.5.0,M10.5.0x",      /* trailing */
        "<STD-1",                        /* unterminated <> */
        "<ST_D>-1",                      /* bad character in <> */
        "<ABCDEFGHIJKLMNOPQ>-1",         /* too long */
        "STD-1DST-2,M3.5.0,",            /* empty end */
        "STD-0001",                      /* four hour digits */
        "STD1\0",                        /* NUL inside (stops at the NUL) */
    };
    int64_t times[] = {1000};
    uint8_t idx[] = {0};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tzb b;
        build(&b, '2', 1, times, idx, 2, TYPES, CHARS, sizeof(CHARS), bad[i]);
        if (i == sizeof(bad) / sizeof(bad[0]) - 1) {
            /* put a real NUL into the footer */
            b.n -= 1;
            put(&b, "\0\n", 2);
        }
        expect_bad(&b, OMNI_EENCODING, "footer");
    }
    /* a footer longer than 256 bytes */
    char longf[300];
    memset(longf, 'A', sizeof(longf) - 1);
    longf[sizeof(longf) - 1] = '\0';
    tzb b;
    build(&b, '2', 1, times, idx, 2, TYPES, CHARS, sizeof(CHARS), longf);
    expect_bad(&b, OMNI_EENCODING, "longer than");
}

Test(tz, parse_argument_errors)
{
    omni__tz *tz;
    cr_assert_eq(omni__tz_parse(NULL, (const uint8_t *)"", 0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__tz_parse(&tz, NULL, 5, NULL), OMNI_EINVAL);
    cr_assert_eq(omni__tz_parse(&tz, NULL, 0, NULL), OMNI_EENCODING);
    static uint8_t big[OMNI__TZ_MAX_FILE + 1];
    cr_assert_eq(omni__tz_parse(&tz, big, sizeof(big), NULL), OMNI_ETOOLARGE);
    cr_assert_eq(omni__tz_utc(NULL), OMNI_EINVAL);
}

Test(tz, tzdir_overrides_the_system_directory)
{
    char dir[] = "/tmp/omni-tz-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sub[300], path[300];
    snprintf(sub, sizeof(sub), "%s/Test", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/Test/Zone", dir);
    tzb b;
    uint8_t idx[1] = {0};
    build(&b, '2', 0, NULL, idx, 2, TYPES, CHARS, sizeof(CHARS), "STD-1");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(b.d, 1, b.n, f);
    fclose(f);
    setenv("TZDIR", dir, 1);
    omni__tz *tz = load("Test/Zone");
    expect(tz, 0, 3600, 0, "STD");
    omni__tz_free(tz);
    /* the system zones are not found through TZDIR any more */
    cr_assert_eq(omni__tz_load(&tz, "Asia/Kolkata"), OMNI_ENOTFOUND);
    /* UTC stays built in */
    tz = load("UTC");
    omni__tz_free(tz);
    /* a corrupt file there */
    f = fopen(path, "wb");
    fwrite(b.d, 1, b.n - 3, f);
    fclose(f);
    cr_assert_eq(omni__tz_load(&tz, "Test/Zone"), OMNI_EENCODING);
    cr_assert_not_null(strstr(omni_error_last_message(), "Test/Zone"));
    unsetenv("TZDIR");
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

Test(tz, local_to_utc)
{
    omni__tz *tz = load("America/New_York");
    int64_t u = 0;
    /* ordinary: 2026-07-04 12:00 EDT = 16:00Z */
    cr_assert_eq(omni__tz_from_local(tz, utc(2026, 7, 4, 12, 0, 0), &u), OMNI_OK);
    cr_assert_eq(u, utc(2026, 7, 4, 16, 0, 0));
    /* skipped: 2026-03-08 02:30 does not exist -> 03:30 EDT = 07:30Z */
    cr_assert_eq(omni__tz_from_local(tz, utc(2026, 3, 8, 2, 30, 0), &u), OMNI_OK);
    cr_assert_eq(u, utc(2026, 3, 8, 7, 30, 0));
    /* repeated: 2026-11-01 01:30 happens twice -> the earlier (EDT) = 05:30Z */
    cr_assert_eq(omni__tz_from_local(tz, utc(2026, 11, 1, 1, 30, 0), &u), OMNI_OK);
    cr_assert_eq(u, utc(2026, 11, 1, 5, 30, 0));
    omni__tz_free(tz);
    tz = load("Asia/Kolkata");
    cr_assert_eq(omni__tz_from_local(tz, utc(2026, 1, 1, 9, 0, 0), &u), OMNI_OK);
    cr_assert_eq(u, utc(2026, 1, 1, 3, 30, 0));
    omni__tz_free(tz);
}

Test(tz, civil_time)
{
    omni__civil c;
    omni__civil_from_seconds(0, &c);
    cr_assert(c.year == 1970 && c.month == 1 && c.day == 1 && c.weekday == 4 && c.yday == 0);
    omni__civil_from_seconds(-1, &c);
    cr_assert(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 &&
              c.minute == 59 && c.second == 59 && c.weekday == 3 && c.yday == 364);
    /* 2000-02-29T12:34:56Z = 951827696 (a Tuesday) */
    omni__civil_from_seconds(951827696, &c);
    cr_assert(c.year == 2000 && c.month == 2 && c.day == 29 && c.hour == 12 && c.minute == 34 &&
              c.second == 56 && c.weekday == 2 && c.yday == 59);
    cr_assert_eq(omni__days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(omni__days_from_civil(1, 1, 1), -719162);
    omni__civil_from_seconds(omni__days_from_civil(1, 1, 1) * 86400, &c);
    cr_assert(c.year == 1 && c.month == 1 && c.day == 1 && c.weekday == 1); /* a Monday */
    cr_assert(omni__is_leap_year(2000) && !omni__is_leap_year(1900) && omni__is_leap_year(2028));
}
