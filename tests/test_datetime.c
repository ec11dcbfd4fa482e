/* Tests for RFC 3339 parsing and toISOString formatting (omni/datetime.h). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <omni/omni.h>

#define MIN_MS (-62167219200000LL) /* 0000-01-01T00:00:00.000Z */
#define MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

static int64_t parse_ok(const char *s)
{
    int64_t ms = 12345;
    int rc = omni_time_parse(&ms, s, strlen(s));
    cr_assert_eq(rc, OMNI_OK, "\"%s\": rc %d (%s)", s, rc, omni_error_last_message());
    return ms;
}

static void parse_bad(const char *s, size_t len, int want)
{
    int64_t ms = 12345;
    int rc = omni_time_parse(&ms, s, len);
    cr_assert_eq(rc, want, "\"%.*s\": rc %d, want %d", (int)len, s, rc, want);
    cr_assert_eq(ms, 12345, "output changed on error");
    cr_assert_eq(omni_error_last()->status, want);
}

static void format_is(int64_t ms, const char *want)
{
    char buf[OMNI_TIME_STRLEN];
    cr_assert_eq(omni_time_format(buf, sizeof(buf), ms), OMNI_OK);
    cr_assert_str_eq(buf, want);
}

/* RFC 3339 section 5.8, the examples. */
Test(datetime, rfc3339_examples)
{
    cr_assert_eq(parse_ok("1985-04-12T23:20:50.52Z"), 482196050520LL);
    cr_assert_eq(parse_ok("1996-12-19T16:39:57-08:00"), 851042397000LL);
    /* leap seconds: read as the last millisecond of second 59 */
    cr_assert_eq(parse_ok("1990-12-31T23:59:60Z"), 662687999999LL);
    cr_assert_eq(parse_ok("1990-12-31T15:59:60-08:00"), 662687999999LL);
    /* Netherlands time before 1937, 20 minutes ahead of UTC */
    cr_assert_eq(parse_ok("1937-01-01T12:00:27.87+00:20"), -1041337172130LL);
    format_is(482196050520LL, "1985-04-12T23:20:50.520Z");
    format_is(851042397000LL, "1996-12-20T00:39:57.000Z");
    format_is(662687999999LL, "1990-12-31T23:59:59.999Z");
    format_is(-1041337172130LL, "1937-01-01T11:40:27.870Z");
}

Test(datetime, epoch_and_negative)
{
    cr_assert_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(parse_ok("1970-01-01T00:00:00.000Z"), 0);
    cr_assert_eq(parse_ok("1970-01-01T01:00:00+01:00"), 0);
    cr_assert_eq(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    cr_assert_eq(parse_ok("1969-12-31T23:59:59Z"), -1000);
    cr_assert_eq(parse_ok("1969-07-20T20:17:40Z"), -14182940000LL);
    cr_assert_eq(parse_ok("0001-01-01T00:00:00Z"), -62135596800000LL);
    format_is(0, "1970-01-01T00:00:00.000Z");
    format_is(-1, "1969-12-31T23:59:59.999Z");
    format_is(-1000, "1969-12-31T23:59:59.000Z");
    format_is(-86400000, "1969-12-31T00:00:00.000Z");
    format_is(-86400001, "1969-12-30T23:59:59.999Z");
    format_is(-14182940000LL, "1969-07-20T20:17:40.000Z");
    format_is(-62135596800000LL, "0001-01-01T00:00:00.000Z");
    /* the same as JavaScript: new Date(1700000000000).toISOString() */
    format_is(1700000000000LL, "2023-11-14T22:13:20.000Z");
}

Test(datetime, range_limits)
{
    cr_assert_eq(parse_ok("0000-01-01T00:00:00Z"), MIN_MS);
    cr_assert_eq(parse_ok("9999-12-31T23:59:59.999Z"), MAX_MS);
    cr_assert_eq(parse_ok("9999-12-31T23:59:60Z"), MAX_MS);
    cr_assert_eq(parse_ok("0000-01-01T00:20:00+00:20"), MIN_MS);
    cr_assert_eq(parse_ok("9999-12-31T23:58:59.999-00:01"), MAX_MS);
    format_is(MIN_MS, "0000-01-01T00:00:00.000Z");
    format_is(MAX_MS, "9999-12-31T23:59:59.999Z");
    /* instants outside years 0000..9999 UTC */
    const char *out[] = {"0000-01-01T00:00:00+00:01", "0000-01-01T00:19:59.999+00:20",
                         "9999-12-31T23:59:59.999-00:01", "9999-12-31T23:00:00-01:00"};
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
        parse_bad(out[i], strlen(out[i]), OMNI_ETIME);
    char buf[OMNI_TIME_STRLEN];
    cr_assert_eq(omni_time_format(buf, sizeof(buf), MIN_MS - 1), OMNI_EINVAL);
    cr_assert_eq(omni_time_format(buf, sizeof(buf), MAX_MS + 1), OMNI_EINVAL);
    cr_assert_eq(omni_time_format(buf, sizeof(buf), INT64_MIN), OMNI_EINVAL);
    cr_assert_eq(omni_time_format(buf, sizeof(buf), INT64_MAX), OMNI_EINVAL);
    cr_assert_eq(omni_time_format(buf, OMNI_TIME_STRLEN - 1, 0), OMNI_EINVAL);
    cr_assert_eq(omni_time_format(NULL, OMNI_TIME_STRLEN, 0), OMNI_EINVAL);
}

Test(datetime, leap_years)
{
    cr_assert_eq(parse_ok("2000-02-29T12:00:00Z"), 951825600000LL);
    parse_ok("2024-02-29T00:00:00Z");
    parse_ok("2400-02-29T00:00:00Z");
    parse_ok("1600-02-29T00:00:00Z");
    parse_ok("0000-02-29T00:00:00Z"); /* year 0 is a leap year (divisible by 400) */
    const char *bad[] = {"1900-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z",
                         "2000-02-30T00:00:00Z", "2001-02-29T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i], strlen(bad[i]), OMNI_ETIME);
    format_is(951825600000LL, "2000-02-29T12:00:00.000Z");
    /* last day of each month in a common year and its next day */
    static const char *ends[] = {"01-31", "02-28", "03-31", "04-30", "05-31", "06-30",
                                 "07-31", "08-31", "09-30", "10-31", "11-30", "12-31"};
    static const char *over[] = {"01-32", "02-29", "03-32", "04-31", "05-32", "06-31",
                                 "07-32", "08-32", "09-31", "10-32", "11-31", "12-32"};
    for (int m = 0; m < 12; m++) {
        char s[32];
        snprintf(s, sizeof(s), "2023-%sT00:00:00Z", ends[m]);
        parse_ok(s);
        snprintf(s, sizeof(s), "2023-%sT00:00:00Z", over[m]);
        parse_bad(s, strlen(s), OMNI_ETIME);
    }
}

Test(datetime, fractions_case_and_offsets)
{
    cr_assert_eq(parse_ok("2020-01-01T00:00:00.1Z") % 1000, 100);
    cr_assert_eq(parse_ok("2020-01-01T00:00:00.12Z") % 1000, 120);
    cr_assert_eq(parse_ok("2020-01-01T00:00:00.123Z") % 1000, 123);
    /* more digits are truncated, never rounded */
    cr_assert_eq(parse_ok("2020-01-01T00:00:00.123999Z") % 1000, 123);
    cr_assert_eq(parse_ok("2020-01-01T00:00:00.999999999Z") % 1000, 999);
    cr_assert_eq(parse_ok("1969-12-31T23:59:59.9999Z"), -1);
    /* a leap second ignores its fraction */
    cr_assert_eq(parse_ok("1990-12-31T23:59:60.5Z"), 662687999999LL);
    /* lower-case t and z */
    cr_assert_eq(parse_ok("1985-04-12t23:20:50.52z"), 482196050520LL);
    /* offsets */
    int64_t base = parse_ok("2020-06-01T12:00:00Z");
    cr_assert_eq(parse_ok("2020-06-01T12:00:00+00:00"), base);
    cr_assert_eq(parse_ok("2020-06-01T12:00:00-00:00"), base);
    cr_assert_eq(parse_ok("2020-06-01T17:30:00+05:30"), base);
    cr_assert_eq(parse_ok("2020-06-01T00:01:00-11:59"), base);
    cr_assert_eq(parse_ok("2020-06-02T11:59:00+23:59"), base);
    cr_assert_eq(parse_ok("2020-05-31T12:01:00-23:59"), base);
    /* the longest accepted input: 64 bytes */
    char s[80];
    snprintf(s, sizeof(s), "2020-01-01T00:00:00.%043dZ", 7);
    cr_assert_eq(strlen(s), OMNI_TIME_MAX_INPUT);
    parse_ok(s);
    snprintf(s, sizeof(s), "2020-01-01T00:00:00.%044dZ", 7);
    parse_bad(s, strlen(s), OMNI_ETOOLARGE);
}

Test(datetime, malformed)
{
    const char *bad[] = {
        "",
        "Z",
        "1985-04-12",
        "1985-04-12T23:20:50",
        "1985-04-12T23:20:50.52",
        "1985-04-12 23:20:50Z",
        "1985-04-12_23:20:50Z",
        "85-04-12T23:20:50Z",
        "1985-4-12T23:20:50Z",
        "1985-04-2T23:20:50Z",
        "1985-04-12T3:20:50Z",
        "1985-04-12T23:20Z",
        "1985-04-12T23:20:50ZZ",
        "1985-04-12T23:20:50Z ",
        " 1985-04-12T23:20:50Z",
        "+1985-04-12T23:20:50Z",
        "-1985-04-12T23:20:50Z",
        "19850-04-12T23:20:50Z",
        "1985/04/12T23:20:50Z",
        "1985-04-12T23.20.50Z",
        "1985-13-12T23:20:50Z",
        "1985-00-12T23:20:50Z",
        "1985-04-00T23:20:50Z",
        "1985-04-31T23:20:50Z",
        "1985-04-12T24:00:00Z",
        "1985-04-12T23:60:00Z",
        "1985-04-12T23:20:61Z",
        "1985-04-12T23:20:99Z",
        "1985-04-12T23:20:5aZ",
        "1985-04-12T23:20:50.Z",
        "1985-04-12T23:20:50.",
        "1985-04-12T23:20:50,52Z",
        "1985-04-12T23:20:50.5.2Z",
        "1985-04-12T23:20:50.-5Z",
        "1985-04-12T23:20:50+01",
        "1985-04-12T23:20:50+0100",
        "1985-04-12T23:20:50+1:00",
        "1985-04-12T23:20:50+01:0",
        "1985-04-12T23:20:50+01:00:00",
        "1985-04-12T23:20:50+24:00",
        "1985-04-12T23:20:50+05:60",
        "1985-04-12T23:20:50+aa:00",
        "1985-04-12T23:20:50 +01:00",
        "1985-04-12T23:20:50UTC",
        "1985-04-12T23:20:50Z+01:00",
        "1985-04-12T23:20:50GMT",
        "abcd-ef-ghTij:kl:mnZ",
        "0x85-04-12T23:20:50Z",
        "1985-04-12T23:20:50\xef\xbc\xba",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i], strlen(bad[i]), OMNI_ETIME);
    /* an embedded NUL and a length that cuts the string short */
    parse_bad("1985-04-12T23:20:50\0Z", 21, OMNI_ETIME);
    parse_bad("1985-04-12T23:20:50Z", 19, OMNI_ETIME);
    parse_bad("1985-04-12T23:20:50.52Z", 22, OMNI_ETIME);
    /* NULL arguments */
    int64_t ms;
    cr_assert_eq(omni_time_parse(NULL, "1985-04-12T23:20:50Z", 20), OMNI_EINVAL);
    cr_assert_eq(omni_time_parse(&ms, NULL, 20), OMNI_EINVAL);
    parse_bad(NULL, 0, OMNI_ETIME);
    /* over the size limit */
    char big[200];
    memset(big, '1', sizeof(big));
    parse_bad(big, sizeof(big), OMNI_ETOOLARGE);
    cr_assert_str_eq(omni_error_last_code(), "PAYLOAD_TOO_LARGE");
}

/* format(parse(x)) round trips, and both agree with the C library's
 * timegm() for every day between 1600 and 2600 (at varying times). */
Test(datetime, agrees_with_timegm)
{
    int64_t start = parse_ok("1600-01-01T00:00:00Z") / 86400000;
    int64_t end = parse_ok("2600-01-01T00:00:00Z") / 86400000;
    for (int64_t day = start; day < end; day++) {
        int64_t ms = day * 86400000 + (day * 7919 % 86400) * 1000 + (day % 1000);
        char buf[OMNI_TIME_STRLEN];
        cr_assert_eq(omni_time_format(buf, sizeof(buf), ms), OMNI_OK);
        struct tm tm = {0};
        cr_assert_eq(sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        int64_t secs = (int64_t)timegm(&tm);
        cr_assert_eq(secs * 1000 + (ms % 1000 + 1000) % 1000, ms, "%s", buf);
        int64_t back;
        cr_assert_eq(omni_time_parse(&back, buf, strlen(buf)), OMNI_OK);
        cr_assert_eq(back, ms, "%s", buf);
    }
}

Test(datetime, roundtrip_extremes)
{
    int64_t vals[] = {MIN_MS, MIN_MS + 1, -1, 0, 1, 999, 1000, 86399999, MAX_MS - 1, MAX_MS,
                      951782400000LL, 4107542400000LL};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char buf[OMNI_TIME_STRLEN];
        cr_assert_eq(omni_time_format(buf, sizeof(buf), vals[i]), OMNI_OK);
        cr_assert_eq(strlen(buf), 24);
        int64_t back;
        cr_assert_eq(omni_time_parse(&back, buf, strlen(buf)), OMNI_OK);
        cr_assert_eq(back, vals[i]);
    }
}
