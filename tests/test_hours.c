/* Business hours (lib/rules/hours.h): ordinary days, split and touching
 * intervals, overnight intervals, holidays, always open / always closed,
 * the search horizon, daylight-saving days in America/New_York (2026-03-08
 * 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT -> 01:00 EST) and
 * Europe/Berlin (2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST, 2026-10-25
 * 01:00Z: 03:00 CEST -> 02:00 CET), Asia/Kolkata (+05:30, no DST), the
 * open/next-change invariant over a year, and every validation error.
 * Calendar facts used: 2026-01-01 is a Thursday, 2026-12-25 a Friday. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/tz.h"
#include "lib/rules/hours.h"

/* Unix milliseconds of a UTC civil time. */
static int64_t utc(int64_t y, int mo, int d, int h, int mi)
{
    return (omni__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static omni__hours *compile(const char *json)
{
    omni__hours *h = NULL;
    int rc = omni__hours_compile(&h, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "compile %s: %d %s", json, rc, omni_error_last_message());
    cr_assert_not_null(h);
    return h;
}

/* Asserts the state at t and the next change (0: none). */
static void expect_at(const omni__hours *h, int64_t t, int open, int64_t next)
{
    int o = -1;
    int64_t n = -1;
    int rc = omni__hours_at(h, t, &o, &n);
    cr_assert_eq(rc, OMNI_OK, "at: %s", omni_error_last_message());
    cr_assert_eq(o, open, "at %lld: open %d, expected %d", (long long)t, o, open);
    cr_assert_eq(n, next, "at %lld: next change %lld, expected %lld (diff %lld s)", (long long)t,
                 (long long)n, (long long)next, (long long)(n - next) / 1000);
}

static void expect_error(const char *json, int status, const char *needle)
{
    omni__hours *h = (omni__hours *)1;
    int rc = omni__hours_compile(&h, json, strlen(json));
    cr_assert_eq(rc, status, "%s: %d (%s), expected %d", json, rc, omni_error_last_message(),
                 status);
    cr_assert_null(h);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "%s: message \"%s\" lacks \"%s\"",
                  json, omni_error_last_message(), needle);
}

/* the start of a New York schedule, up to the weekly object */
#define NY "{\"timezone\": \"America/New_York\", \"weekly\": "

#define WEEKDAYS_9_17                                                                      \
    "\"mon\": [[\"09:00\",\"17:00\"]], \"tue\": [[\"09:00\",\"17:00\"]],"                  \
    " \"wed\": [[\"09:00\",\"17:00\"]], \"thu\": [[\"09:00\",\"17:00\"]],"                 \
    " \"fri\": [[\"09:00\",\"17:00\"]]"

Test(hours, ordinary_days_utc_default)
{
    omni__hours *h = compile("{\"weekly\": {" WEEKDAYS_9_17 "}}");
    cr_assert_str_eq(omni__hours_timezone(h), "UTC");
    /* Monday 2026-01-05 */
    expect_at(h, utc(2026, 1, 5, 10, 0), 1, utc(2026, 1, 5, 17, 0));
    expect_at(h, utc(2026, 1, 5, 8, 0), 0, utc(2026, 1, 5, 9, 0));
    expect_at(h, utc(2026, 1, 5, 9, 0), 1, utc(2026, 1, 5, 17, 0)); /* start inclusive */
    expect_at(h, utc(2026, 1, 5, 9, 0) - 1, 0, utc(2026, 1, 5, 9, 0));
    expect_at(h, utc(2026, 1, 5, 17, 0) - 1, 1, utc(2026, 1, 5, 17, 0));
    expect_at(h, utc(2026, 1, 5, 17, 0), 0, utc(2026, 1, 6, 9, 0)); /* end exclusive */
    /* Friday evening -> Monday morning across the weekend */
    expect_at(h, utc(2026, 1, 9, 18, 0), 0, utc(2026, 1, 12, 9, 0));
    expect_at(h, utc(2026, 1, 10, 12, 0), 0, utc(2026, 1, 12, 9, 0));
    expect_at(h, utc(2026, 1, 11, 23, 59), 0, utc(2026, 1, 12, 9, 0));
    /* before 1970: Monday 1969-12-29 */
    expect_at(h, utc(1969, 12, 29, 12, 0), 1, utc(1969, 12, 29, 17, 0));
    expect_at(h, utc(1969, 12, 27, 12, 0), 0, utc(1969, 12, 29, 9, 0));
    omni__hours_free(h);
}

Test(hours, outputs_may_be_null)
{
    omni__hours *h = compile("{\"weekly\": {" WEEKDAYS_9_17 "}}");
    int open = -1;
    int64_t next = -1;
    cr_assert_eq(omni__hours_at(h, utc(2026, 1, 5, 10, 0), &open, NULL), OMNI_OK);
    cr_assert_eq(open, 1);
    cr_assert_eq(omni__hours_at(h, utc(2026, 1, 5, 10, 0), NULL, &next), OMNI_OK);
    cr_assert_eq(next, utc(2026, 1, 5, 17, 0));
    cr_assert_eq(omni__hours_at(h, utc(2026, 1, 5, 10, 0), NULL, NULL), OMNI_OK);
    omni__hours_free(h);
    omni__hours_free(NULL);
}

Test(hours, split_and_touching_intervals)
{
    omni__hours *h = compile("{\"timezone\": \"UTC\", \"weekly\": {"
                             "\"tue\": [[\"13:00\",\"18:00\"], [\"09:00\",\"12:00\"]],"
                             "\"wed\": [[\"09:00\",\"12:00\"], [\"12:00\",\"18:00\"]]}}");
    /* Tuesday 2026-01-06: lunch break */
    expect_at(h, utc(2026, 1, 6, 11, 0), 1, utc(2026, 1, 6, 12, 0));
    expect_at(h, utc(2026, 1, 6, 12, 30), 0, utc(2026, 1, 6, 13, 0));
    expect_at(h, utc(2026, 1, 6, 13, 0), 1, utc(2026, 1, 6, 18, 0));
    /* Wednesday: touching intervals are one stretch */
    expect_at(h, utc(2026, 1, 7, 11, 0), 1, utc(2026, 1, 7, 18, 0));
    /* after Wednesday: next Tuesday */
    expect_at(h, utc(2026, 1, 7, 18, 0), 0, utc(2026, 1, 13, 9, 0));
    omni__hours_free(h);
}

Test(hours, overnight_intervals)
{
    omni__hours *h = compile("{\"weekly\": {\"fri\": [[\"22:00\",\"06:00\"]]}}");
    /* Friday 2026-01-09 22:00 to Saturday 06:00 */
    expect_at(h, utc(2026, 1, 9, 21, 0), 0, utc(2026, 1, 9, 22, 0));
    expect_at(h, utc(2026, 1, 9, 23, 0), 1, utc(2026, 1, 10, 6, 0));
    expect_at(h, utc(2026, 1, 10, 0, 0), 1, utc(2026, 1, 10, 6, 0));
    expect_at(h, utc(2026, 1, 10, 5, 59), 1, utc(2026, 1, 10, 6, 0));
    expect_at(h, utc(2026, 1, 10, 6, 0), 0, utc(2026, 1, 16, 22, 0));
    omni__hours_free(h);

    /* the after-midnight part joins Saturday's own interval */
    h = compile("{\"weekly\": {\"fri\": [[\"22:00\",\"06:00\"]],"
                " \"sat\": [[\"06:00\",\"10:00\"]]}}");
    expect_at(h, utc(2026, 1, 9, 23, 0), 1, utc(2026, 1, 10, 10, 0));
    omni__hours_free(h);
    /* ... or overlaps it: the union counts */
    h = compile("{\"weekly\": {\"fri\": [[\"22:00\",\"06:00\"]],"
                " \"sat\": [[\"05:00\",\"08:00\"]]}}");
    expect_at(h, utc(2026, 1, 9, 23, 0), 1, utc(2026, 1, 10, 8, 0));
    omni__hours_free(h);
    /* an end of 00:00 is midnight; 24:00 joins the next day's 00:00 */
    h = compile("{\"weekly\": {\"fri\": [[\"22:00\",\"00:00\"]], \"sat\": [[\"20:00\",\"24:00\"]],"
                " \"sun\": [[\"00:00\",\"02:00\"]]}}");
    expect_at(h, utc(2026, 1, 9, 23, 0), 1, utc(2026, 1, 10, 0, 0));
    expect_at(h, utc(2026, 1, 10, 21, 0), 1, utc(2026, 1, 11, 2, 0));
    omni__hours_free(h);
    /* Sunday night into Monday wraps the week */
    h = compile("{\"weekly\": {\"sun\": [[\"23:00\",\"01:30\"]]}}");
    expect_at(h, utc(2026, 1, 12, 1, 0), 1, utc(2026, 1, 12, 1, 30));
    expect_at(h, utc(2026, 1, 12, 1, 30), 0, utc(2026, 1, 18, 23, 0));
    omni__hours_free(h);
}

Test(hours, holidays)
{
    omni__hours *h = compile("{\"weekly\": {" WEEKDAYS_9_17 "},"
                             " \"holidays\": [\"2027-01-01\", \"2026-12-25\", \"2026-12-25\"]}");
    /* Thursday 2026-12-24 after hours -> Monday 2026-12-28 (Friday 25th closed) */
    expect_at(h, utc(2026, 12, 24, 17, 0), 0, utc(2026, 12, 28, 9, 0));
    expect_at(h, utc(2026, 12, 25, 10, 0), 0, utc(2026, 12, 28, 9, 0));
    expect_at(h, utc(2026, 12, 24, 16, 0), 1, utc(2026, 12, 24, 17, 0));
    /* Thursday 2026-12-31 -> Monday 2027-01-04 */
    expect_at(h, utc(2026, 12, 31, 17, 0), 0, utc(2027, 1, 4, 9, 0));
    /* the next year's 25 December is an ordinary Saturday anyway */
    omni__hours_free(h);

    /* an overnight interval into a holiday stops at midnight */
    h = compile("{\"weekly\": {\"thu\": [[\"22:00\",\"06:00\"]]}, \"holidays\": [\"2026-12-25\"]}");
    expect_at(h, utc(2026, 12, 24, 23, 0), 1, utc(2026, 12, 25, 0, 0));
    expect_at(h, utc(2026, 12, 25, 1, 0), 0, utc(2026, 12, 31, 22, 0));
    omni__hours_free(h);
    /* one starting on a holiday opens at midnight for its after-midnight part */
    h = compile("{\"weekly\": {\"fri\": [[\"22:00\",\"06:00\"]]}, \"holidays\": [\"2026-12-25\"]}");
    expect_at(h, utc(2026, 12, 25, 21, 0), 0, utc(2026, 12, 26, 0, 0));
    expect_at(h, utc(2026, 12, 25, 23, 0), 0, utc(2026, 12, 26, 0, 0));
    expect_at(h, utc(2026, 12, 26, 3, 0), 1, utc(2026, 12, 26, 6, 0));
    omni__hours_free(h);
}

Test(hours, always_open_and_always_closed)
{
    omni__hours *h = compile("{\"weekly\": {}}");
    expect_at(h, utc(2026, 1, 5, 10, 0), 0, 0);
    omni__hours_free(h);
    h = compile("{\"weekly\": {\"mon\": []}, \"holidays\": []}");
    expect_at(h, utc(2026, 1, 5, 10, 0), 0, 0);
    omni__hours_free(h);

    const char *all = NY "{"
                      "\"mon\": [[\"00:00\",\"24:00\"]], \"tue\": [[\"00:00\",\"24:00\"]],"
                      "\"wed\": [[\"00:00\",\"24:00\"]], \"thu\": [[\"00:00\",\"24:00\"]],"
                      "\"fri\": [[\"00:00\",\"24:00\"]], \"sat\": [[\"00:00\",\"24:00\"]],"
                      "\"sun\": [[\"00:00\",\"24:00\"]]}%s}";
    char buf[1024];
    snprintf(buf, sizeof(buf), all, "");
    h = compile(buf);
    expect_at(h, utc(2026, 1, 5, 10, 0), 1, 0);
    expect_at(h, utc(2026, 3, 8, 6, 59), 1, 0); /* across both DST changes */
    omni__hours_free(h);
    /* always open but for one holiday 100 days ahead: closes at its local midnight */
    snprintf(buf, sizeof(buf), all, ", \"holidays\": [\"2026-04-15\"]");
    h = compile(buf);
    expect_at(h, utc(2026, 1, 5, 10, 0), 1, utc(2026, 4, 15, 4, 0));
    expect_at(h, utc(2026, 4, 15, 12, 0), 0, utc(2026, 4, 16, 4, 0));
    omni__hours_free(h);
}

Test(hours, horizon)
{
    /* open on Mondays only, and every Monday of the next ~420 days is a holiday */
    char buf[16384];
    int n = snprintf(buf, sizeof(buf), "{\"weekly\": {\"mon\": [[\"09:00\",\"10:00\"]]}, "
                                       "\"holidays\": [");
    int64_t first = omni__days_from_civil(2026, 1, 5);
    for (int i = 0; i < 60; i++) {
        omni__civil c;
        omni__civil_from_seconds((first + 7 * i) * 86400, &c);
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"%04lld-%02d-%02d\"", i ? "," : "",
                      (long long)c.year, c.month, c.day);
    }
    snprintf(buf + n, sizeof(buf) - (size_t)n, "]}");
    omni__hours *h = compile(buf);
    expect_at(h, utc(2026, 1, 4, 12, 0), 0, 0); /* the first open Monday is beyond 400 days */
    /* within the horizon again: from a later instant the first free Monday is found */
    int64_t free_monday = (first + 7 * 60) * 86400 * 1000 + 9 * 3600 * 1000;
    expect_at(h, free_monday - INT64_C(300) * 86400 * 1000, 0, free_monday);
    omni__hours_free(h);
}

Test(hours, kolkata_no_dst)
{
    omni__hours *h = compile("{\"timezone\": \"Asia/Kolkata\", \"weekly\": {"
                             "\"mon\": [[\"09:00\",\"18:00\"]],"
                             " \"sat\": [[\"10:00\",\"14:00\"]]}}");
    cr_assert_str_eq(omni__hours_timezone(h), "Asia/Kolkata");
    /* Monday 2026-01-05 09:00 IST = 03:30Z, 18:00 IST = 12:30Z */
    expect_at(h, utc(2026, 1, 5, 3, 29), 0, utc(2026, 1, 5, 3, 30));
    expect_at(h, utc(2026, 1, 5, 3, 30), 1, utc(2026, 1, 5, 12, 30));
    /* the same in June (no DST) */
    expect_at(h, utc(2026, 6, 15, 12, 0), 1, utc(2026, 6, 15, 12, 30));
    /* Monday evening IST -> Saturday 10:00 IST = 04:30Z */
    expect_at(h, utc(2026, 6, 15, 12, 30), 0, utc(2026, 6, 20, 4, 30));
    /* Sunday 2026-06-14 20:00Z is already Monday 01:30 IST: closed until 03:30Z */
    expect_at(h, utc(2026, 6, 14, 20, 0), 0, utc(2026, 6, 15, 3, 30));
    omni__hours_free(h);
}

Test(hours, new_york_spring_forward)
{
    omni__hours *h = compile(NY "{" WEEKDAYS_9_17
                             ", \"sun\": [[\"01:00\",\"04:00\"]]}}");
    /* Sunday 2026-03-08: 01:00 EST = 06:00Z to 04:00 EDT = 08:00Z (two real hours) */
    expect_at(h, utc(2026, 3, 8, 5, 59), 0, utc(2026, 3, 8, 6, 0));
    expect_at(h, utc(2026, 3, 8, 6, 30), 1, utc(2026, 3, 8, 8, 0));
    expect_at(h, utc(2026, 3, 8, 7, 30), 1, utc(2026, 3, 8, 8, 0));
    /* then Monday 09:00 EDT = 13:00Z (the Monday before: 09:00 EST = 14:00Z) */
    expect_at(h, utc(2026, 3, 8, 8, 0), 0, utc(2026, 3, 9, 13, 0));
    expect_at(h, utc(2026, 3, 2, 10, 0), 0, utc(2026, 3, 2, 14, 0));
    /* Friday 17:00 EST = 22:00Z; the weekend holds the change */
    expect_at(h, utc(2026, 3, 6, 21, 0), 1, utc(2026, 3, 6, 22, 0));
    omni__hours_free(h);

    /* opening at the skipped 02:30 opens at 03:30 EDT = 07:30Z */
    h = compile(NY "{\"sun\": [[\"02:30\",\"05:00\"]]}}");
    expect_at(h, utc(2026, 3, 8, 7, 0), 0, utc(2026, 3, 8, 7, 30)); /* 03:00 EDT: closed */
    expect_at(h, utc(2026, 3, 8, 7, 30), 1, utc(2026, 3, 8, 9, 0));
    /* the Sunday before and after: 02:30 EST = 07:30Z, 02:30 EDT = 06:30Z */
    expect_at(h, utc(2026, 3, 1, 7, 0), 0, utc(2026, 3, 1, 7, 30));
    expect_at(h, utc(2026, 3, 8, 9, 0), 0, utc(2026, 3, 15, 6, 30));
    omni__hours_free(h);

    /* closing at the skipped 02:30 closes at 03:30 EDT = 07:30Z */
    h = compile(NY "{\"sun\": [[\"00:00\",\"02:30\"]]}}");
    expect_at(h, utc(2026, 3, 8, 7, 10), 1, utc(2026, 3, 8, 7, 30));
    omni__hours_free(h);

    /* an interval inside the gap is empty that day: 03:30 EDT to 03:15 EDT */
    h = compile(NY "{\"sun\": [[\"02:30\",\"03:15\"]]}}");
    expect_at(h, utc(2026, 3, 8, 5, 0), 0, utc(2026, 3, 15, 6, 30));
    expect_at(h, utc(2026, 3, 8, 7, 20), 0, utc(2026, 3, 15, 6, 30));
    omni__hours_free(h);
}

Test(hours, new_york_fall_back)
{
    /* Sunday 2026-11-01: 01:00-02:00 happens twice (05:00-06:00Z EDT, 06:00-07:00Z EST) */
    omni__hours *h = compile(NY "{\"sun\": [[\"01:30\",\"02:00\"]]}}");
    /* 01:30 EDT = 05:30Z to 02:00 EST = 07:00Z, open through the repeated hour */
    expect_at(h, utc(2026, 11, 1, 5, 0), 0, utc(2026, 11, 1, 5, 30));
    expect_at(h, utc(2026, 11, 1, 5, 45), 1, utc(2026, 11, 1, 7, 0));
    expect_at(h, utc(2026, 11, 1, 6, 15), 1, utc(2026, 11, 1, 7, 0)); /* 01:15 EST */
    omni__hours_free(h);

    /* closing at 01:30 closes at its first occurrence (01:30 EDT = 05:30Z) */
    h = compile(NY "{\"sun\": [[\"00:00\",\"01:30\"]]}}");
    expect_at(h, utc(2026, 11, 1, 5, 0), 1, utc(2026, 11, 1, 5, 30));
    expect_at(h, utc(2026, 11, 1, 6, 10), 0, utc(2026, 11, 8, 5, 0)); /* 01:10 EST: closed */
    omni__hours_free(h);

    /* a whole Sunday is 25 hours: 04:00Z to 05:00Z the next day */
    h = compile(NY "{\"sun\": [[\"00:00\",\"24:00\"]]}}");
    expect_at(h, utc(2026, 11, 1, 3, 59), 0, utc(2026, 11, 1, 4, 0));
    expect_at(h, utc(2026, 11, 1, 4, 0), 1, utc(2026, 11, 2, 5, 0));
    omni__hours_free(h);

    /* weekday hours around the change: Friday 17:00 EDT = 21:00Z, Monday 09:00 EST = 14:00Z */
    h = compile(NY "{" WEEKDAYS_9_17 "}}");
    expect_at(h, utc(2026, 10, 30, 20, 0), 1, utc(2026, 10, 30, 21, 0));
    expect_at(h, utc(2026, 10, 30, 21, 0), 0, utc(2026, 11, 2, 14, 0));
    omni__hours_free(h);
}

Test(hours, berlin_both_changes)
{
    omni__hours *h = compile("{\"timezone\": \"Europe/Berlin\", \"weekly\": {" WEEKDAYS_9_17
                             ", \"sun\": [[\"02:30\",\"06:00\"]]}}");
    /* 2026-03-29: 02:30 does not exist; opens at 03:30 CEST = 01:30Z, closes 06:00 CEST = 04:00Z */
    expect_at(h, utc(2026, 3, 29, 1, 15), 0, utc(2026, 3, 29, 1, 30));
    expect_at(h, utc(2026, 3, 29, 1, 30), 1, utc(2026, 3, 29, 4, 0));
    /* Monday after: 09:00 CEST = 07:00Z; the Monday before: 09:00 CET = 08:00Z */
    expect_at(h, utc(2026, 3, 29, 4, 0), 0, utc(2026, 3, 30, 7, 0));
    expect_at(h, utc(2026, 3, 23, 7, 30), 0, utc(2026, 3, 23, 8, 0));
    /* 2026-10-25: 02:00-03:00 twice; 02:30 CEST = 00:30Z to 06:00 CET = 05:00Z */
    expect_at(h, utc(2026, 10, 25, 0, 15), 0, utc(2026, 10, 25, 0, 30));
    expect_at(h, utc(2026, 10, 25, 1, 45), 1, utc(2026, 10, 25, 5, 0)); /* 02:45 CET */
    /* Monday after: 09:00 CET = 08:00Z */
    expect_at(h, utc(2026, 10, 25, 5, 0), 0, utc(2026, 10, 26, 8, 0));
    omni__hours_free(h);
}

/* The documented invariant: next > now, state at next - 1 is the current
 * one and state at next is the other, over a year in 97-minute steps. */
static void sweep(const char *json)
{
    omni__hours *h = compile(json);
    for (int64_t t = utc(2026, 1, 1, 0, 0); t < utc(2027, 1, 1, 0, 0); t += 97 * 60 * 1000 + 7) {
        int open = -1, o2 = -1;
        int64_t next = -1, n2;
        cr_assert_eq(omni__hours_at(h, t, &open, &next), OMNI_OK);
        if (next == 0)
            continue;
        cr_assert_gt(next, t);
        cr_assert_eq(omni__hours_at(h, next - 1, &o2, &n2), OMNI_OK);
        cr_assert_eq(o2, open, "%s at %lld", json, (long long)t);
        cr_assert_eq(n2, next);
        cr_assert_eq(omni__hours_at(h, next, &o2, &n2), OMNI_OK);
        cr_assert_eq(o2, !open, "%s at %lld", json, (long long)t);
    }
    omni__hours_free(h);
}

Test(hours, invariant_over_a_year)
{
    sweep(NY "{\"mon\": [[\"09:00\",\"17:00\"]],"
          " \"sun\": [[\"01:30\",\"02:30\"], [\"23:00\",\"01:00\"]],"
          " \"sat\": [[\"02:15\",\"02:45\"]]},"
          " \"holidays\": [\"2026-07-04\", \"2026-11-01\"]}");
    sweep("{\"timezone\": \"Europe/Berlin\", \"weekly\": {\"sun\": [[\"02:30\",\"03:00\"],"
          " [\"03:00\",\"24:00\"]], \"mon\": [[\"00:00\",\"02:30\"]],"
          " \"fri\": [[\"20:00\",\"08:00\"]], \"sat\": [[\"07:00\",\"09:00\"]]}}");
    sweep("{\"timezone\": \"Asia/Kolkata\", \"weekly\": {\"wed\": [[\"00:00\",\"24:00\"]],"
          " \"thu\": [[\"00:00\",\"00:01\"]]}, \"holidays\": [\"2026-05-06\"]}");
}

Test(hours, at_errors)
{
    omni__hours *h = compile("{\"weekly\": {}}");
    int open = 7;
    int64_t next = 7;
    cr_assert_eq(omni__hours_at(NULL, 0, &open, &next), OMNI_EINVAL);
    cr_assert_eq(omni__hours_at(h, OMNI__HOURS_MAX_ABS_MS + 1, &open, &next), OMNI_ETIME);
    cr_assert_eq(omni__hours_at(h, -OMNI__HOURS_MAX_ABS_MS - 1, &open, &next), OMNI_ETIME);
    cr_assert_eq(omni__hours_at(h, INT64_MIN, &open, &next), OMNI_ETIME);
    cr_assert_eq(open, 7);
    cr_assert_eq(next, 7);
    cr_assert_eq(omni__hours_at(h, OMNI__HOURS_MAX_ABS_MS, &open, &next), OMNI_OK);
    cr_assert_eq(omni__hours_at(h, -OMNI__HOURS_MAX_ABS_MS, &open, &next), OMNI_OK);
    omni__hours_free(h);
    h = compile("{\"weekly\": {\"mon\": [[\"00:00\",\"24:00\"]]}}");
    cr_assert_eq(omni__hours_at(h, OMNI__HOURS_MAX_ABS_MS, &open, &next), OMNI_OK);
    cr_assert_eq(omni__hours_at(h, -OMNI__HOURS_MAX_ABS_MS, &open, &next), OMNI_OK);
    omni__hours_free(h);
}

Test(hours, compile_argument_and_document_errors)
{
    omni__hours *h = (omni__hours *)1;
    cr_assert_eq(omni__hours_compile(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni__hours_compile(&h, NULL, 0), OMNI_EINVAL);
    cr_assert_null(h);
    expect_error("{\"weekly\": {}", OMNI_EJSON, NULL);
    expect_error("", OMNI_EJSON, NULL);
    size_t big = OMNI__HOURS_MAX_BYTES + 1;
    char *doc = malloc(big + 1);
    memset(doc, ' ', big);
    memcpy(doc, "{\"weekly\": {}}", 14);
    doc[big] = '\0';
    expect_error(doc, OMNI_ETOOLARGE, NULL);
    /* exactly the limit is fine */
    h = NULL;
    cr_assert_eq(omni__hours_compile(&h, doc, big - 1), OMNI_OK, "%s", omni_error_last_message());
    omni__hours_free(h);
    free(doc);
    expect_error("[]", OMNI_EINVAL, "not a JSON object");
    expect_error("{}", OMNI_EINVAL, "weekly is missing");
    expect_error("{\"weekly\": {}, \"openOn\": []}", OMNI_EINVAL, "unknown member \"openOn\"");
    expect_error("{\"weekly\": {}, \"weekly\": {}}", OMNI_EINVAL, "weekly appears twice");
    expect_error("{\"timezone\": \"UTC\", \"weekly\": {}, \"timezone\": \"UTC\"}", OMNI_EINVAL,
                 "timezone appears twice");
    expect_error("{\"weekly\": {}, \"holidays\": [], \"holidays\": []}", OMNI_EINVAL,
                 "holidays appears twice");
}

Test(hours, weekly_errors)
{
    expect_error("{\"weekly\": []}", OMNI_EINVAL, "hours: weekly is not an object");
    expect_error("{\"weekly\": {\"monday\": []}}", OMNI_EINVAL, "weekly.monday is not a day");
    expect_error("{\"weekly\": {\"Mon\": []}}", OMNI_EINVAL, "weekly.Mon is not a day");
    expect_error("{\"weekly\": {\"mon\": [], \"mon\": []}}", OMNI_EINVAL,
                 "weekly.mon appears twice");
    expect_error("{\"weekly\": {\"tue\": null}}", OMNI_EINVAL, "weekly.tue is not an array");
    expect_error("{\"weekly\": {\"tue\": [\"09:00\", \"17:00\"]}}", OMNI_EINVAL,
                 "weekly.tue[0] is not a pair");
    expect_error("{\"weekly\": {\"wed\": [[\"09:00\",\"10:00\"], [\"11:00\"]]}}", OMNI_EINVAL,
                 "weekly.wed[1] is not a pair");
    expect_error("{\"weekly\": {\"wed\": [[\"09:00\",\"10:00\",\"11:00\"]]}}", OMNI_EINVAL,
                 "weekly.wed[0] is not a pair");
    expect_error("{\"weekly\": {\"mon\": [[\"09:00\",\"10:00\"], [\"9:00\",\"18:00\"]]}}",
                 OMNI_EINVAL, "hours: weekly.mon[1][0] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"24:00\",\"10:00\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][0] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"12:60\",\"13:00\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][0] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[900,\"13:00\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][0] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"ab:cd\",\"13:00\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][0] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"09:00 \",\"13:00\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][0] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"09:00\",\"24:01\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][1] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"09:00\",\"25:00\"]]}}", OMNI_EINVAL,
                 "weekly.mon[0][1] is not HH:MM");
    expect_error("{\"weekly\": {\"mon\": [[\"09:00\",null]]}}", OMNI_EINVAL,
                 "weekly.mon[0][1] is not HH:MM");
    expect_error("{\"weekly\": {\"sat\": [[\"09:00\",\"09:00\"]]}}", OMNI_EINVAL,
                 "weekly.sat[0] is empty");
    expect_error("{\"weekly\": {\"sat\": [[\"00:00\",\"00:00\"]]}}", OMNI_EINVAL,
                 "weekly.sat[0] is empty");
    expect_error("{\"weekly\": {\"thu\": [[\"09:00\",\"12:00\"], [\"11:00\",\"13:00\"]]}}",
                 OMNI_EINVAL, "hours: weekly.thu[0] and weekly.thu[1] overlap");
    expect_error("{\"weekly\": {\"thu\": [[\"08:00\",\"23:00\"], [\"22:00\",\"02:00\"]]}}",
                 OMNI_EINVAL, "weekly.thu[0] and weekly.thu[1] overlap");
    expect_error("{\"weekly\": {\"thu\": [[\"22:00\",\"02:00\"], [\"23:00\",\"01:00\"]]}}",
                 OMNI_EINVAL, "weekly.thu[0] and weekly.thu[1] overlap");
    expect_error("{\"weekly\": {\"thu\": [[\"00:00\",\"24:00\"], [\"10:00\",\"11:00\"]]}}",
                 OMNI_EINVAL, "weekly.thu[0] and weekly.thu[1] overlap");
    /* 48 intervals are fine, 49 are not */
    char buf[4096];
    for (int count = 48; count <= 49; count++) {
        int n = snprintf(buf, sizeof(buf), "{\"weekly\": {\"fri\": [");
        for (int i = 0; i < count; i++)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s[\"%02d:%02d\",\"%02d:%02d\"]",
                          i ? "," : "", i / 2, (i % 2) * 30, i / 2, (i % 2) * 30 + 10);
        snprintf(buf + n, sizeof(buf) - (size_t)n, "]}}");
        if (count == 48) {
            omni__hours *h = compile(buf);
            expect_at(h, utc(2026, 1, 9, 23, 35), 1, utc(2026, 1, 9, 23, 40));
            omni__hours_free(h);
        } else {
            expect_error(buf, OMNI_EINVAL, "weekly.fri has more than 48 intervals");
        }
    }
    /* touching intervals and an overnight part are not overlaps */
    omni__hours *h = compile("{\"weekly\": {\"thu\": [[\"22:00\",\"02:00\"], [\"01:00\",\"05:00\"],"
                             " [\"05:00\",\"06:00\"]]}}");
    omni__hours_free(h);
}

Test(hours, holiday_errors)
{
    expect_error("{\"weekly\": {}, \"holidays\": {}}", OMNI_EINVAL, "holidays is not an array");
    expect_error("{\"weekly\": {}, \"holidays\": [\"2026-12-25\", 20261225]}", OMNI_EINVAL,
                 "holidays[1] is not a date YYYY-MM-DD");
    const char *bad[] = {"2026-02-29", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01",
                         "2026-04-31", "26-01-01",   "2026/01/01", "2026-01-01T00:00",
                         "",           "+026-01-01", "2025-02-29", "1900-02-29"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "{\"weekly\": {}, \"holidays\": [\"2026-01-01\", \"%s\"]}",
                 bad[i]);
        expect_error(buf, OMNI_EINVAL, "hours: holidays[1] is not a date");
    }
    /* leap days and the year range */
    omni__hours *h = compile("{\"weekly\": {}, \"holidays\": [\"2024-02-29\", \"2000-02-29\","
                             " \"0000-01-01\", \"9999-12-31\"]}");
    omni__hours_free(h);
    /* 1000 dates are fine, 1001 are not */
    char *buf = malloc(20000);
    for (int count = 1000; count <= 1001; count++) {
        int n = snprintf(buf, 20000, "{\"weekly\": {}, \"holidays\": [");
        for (int i = 0; i < count; i++)
            n += snprintf(buf + n, 20000 - (size_t)n, "%s\"2026-01-01\"", i ? "," : "");
        snprintf(buf + n, 20000 - (size_t)n, "]}");
        if (count == 1000) {
            h = compile(buf);
            omni__hours_free(h);
        } else {
            expect_error(buf, OMNI_EINVAL, "holidays has more than 1000 dates");
        }
    }
    free(buf);
}

Test(hours, timezone_errors)
{
    expect_error("{\"timezone\": 5, \"weekly\": {}}", OMNI_EINVAL, "timezone is not a string");
    expect_error("{\"timezone\": null, \"weekly\": {}}", OMNI_EINVAL, "timezone is not a string");
    expect_error("{\"timezone\": \"../etc/passwd\", \"weekly\": {}}", OMNI_EINVAL,
                 "timezone is not a valid IANA zone name");
    expect_error("{\"timezone\": \"\", \"weekly\": {}}", OMNI_EINVAL, "not a valid IANA");
    expect_error("{\"timezone\": \"Mars/Olympus_Mons\", \"weekly\": {}}", OMNI_ENOTFOUND,
                 "hours: timezone: unknown time zone \"Mars/Olympus_Mons\"");
    /* the zone is checked after the schedule: a schedule error wins */
    expect_error("{\"timezone\": \"Mars/Olympus_Mons\", \"weekly\": []}", OMNI_EINVAL,
                 "weekly is not an object");
    omni__hours *h = compile("{\"timezone\": \"Etc/UTC\", \"weekly\": {}}");
    cr_assert_str_eq(omni__hours_timezone(h), "Etc/UTC");
    omni__hours_free(h);
}
