/* Locale-aware formatting (omni_format_number / _currency / _date and the
 * internal append functions of lib/template/format.h). The expected
 * strings are what node 20's Intl prints for the same calls (the full
 * differential run is tests/format_intl.js); here they pin the behaviour
 * without node and cover every error path. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/template/format.h"

static void num(double v, const char *loc, int min, int max, const char *want)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_format_number(&out, &n, v, loc, min, max);
    cr_assert_eq(rc, OMNI_OK, "rc %d: %s", rc, omni_error_last_message());
    cr_assert_str_eq(out, want, "formatNumber(%.17g, %s, %d, %d)", v, loc ? loc : "NULL", min,
                     max);
    cr_assert_eq(n, strlen(want));
    omni_free(out);
}

static void cur(double v, const char *code, const char *loc, const char *want)
{
    char *out = NULL;
    int rc = omni_format_currency(&out, NULL, v, code, loc);
    cr_assert_eq(rc, OMNI_OK, "rc %d: %s", rc, omni_error_last_message());
    cr_assert_str_eq(out, want, "formatCurrency(%.17g, %s, %s)", v, code, loc ? loc : "NULL");
    omni_free(out);
}

static void date(const char *iso, const char *pat, const char *zone, const char *loc,
                 const char *want)
{
    char *out = NULL;
    int rc = omni_format_date(&out, NULL, iso, pat, zone, loc);
    cr_assert_eq(rc, OMNI_OK, "rc %d: %s", rc, omni_error_last_message());
    cr_assert_str_eq(out, want, "formatDate(%s, %s, %s, %s)", iso, pat ? pat : "NULL",
                     zone ? zone : "NULL", loc ? loc : "NULL");
    omni_free(out);
}

Test(format, number_grouping_per_locale)
{
    num(1234567.891, "en", -1, -1, "1,234,567.891");
    num(1234567.891, "en-US", -1, -1, "1,234,567.891");
    num(1234567.891, "en-GB", -1, -1, "1,234,567.891");
    num(1234567.891, "en-IN", -1, -1, "12,34,567.891");
    num(1234567.891, "hi", -1, -1, "12,34,567.891");
    num(1234567.891, "hi-IN", -1, -1, "12,34,567.891");
    num(1234567.891, "kn", -1, -1, "1,234,567.891");
    num(1234567.891, "kn-IN", -1, -1, "1,234,567.891");
    num(100000, "en-IN", -1, -1, "1,00,000");
    num(10000, "en-IN", -1, -1, "10,000");
    num(1000, "en-IN", -1, -1, "1,000");
    num(999, "en-IN", -1, -1, "999");
    num(12345678901234567890.0, "en", -1, -1, "12,345,678,901,234,567,000");
    num(12345678901234567890.0, "hi", -1, -1, "1,23,45,67,89,01,23,45,67,000");
    num(1e21, "en", -1, -1, "1,000,000,000,000,000,000,000");
}

Test(format, number_rounding_half_expand_on_shortest_decimal)
{
    num(1.005, "en", -1, 2, "1.01"); /* the double is 1.00499999999999989...: ICU rounds "1.005" */
    num(2.675, "en", -1, 2, "2.68");
    num(1.0005, "en", -1, 2, "1");
    num(0.125, "en", -1, 2, "0.13");
    num(0.0015, "en", -1, -1, "0.002");
    num(2.5, "en", -1, 0, "3");
    num(-2.5, "en", -1, 0, "-3");
    num(0.5, "en", 0, 0, "1");
    num(0.4, "en", 0, 0, "0");
    num(9.995, "en", -1, 2, "10");
    num(999.9995, "en", -1, -1, "1,000");
    num(99999.9999, "en-IN", 2, 2, "1,00,000.00");
    num(0.1 + 0.2, "en", -1, -1, "0.3");
    num(0.000001, "en", -1, -1, "0");
    num(1e-7, "en", 0, 20, "0.0000001");
    num(3.14159265358979, "en", 20, 20, "3.14159265358979000000");
    num(1234.5, "en", 2, 2, "1,234.50");
    num(1234.5, "en", 3, -1, "1,234.500");
    num(1.23456, "en", 5, -1, "1.23456");
    num(1.23456789, "en", 5, -1, "1.23457");
    num(5e-324, "en", -1, -1, "0");
}

Test(format, number_signs_and_specials)
{
    num(0, "en", -1, -1, "0");
    num(-0.0, "en", -1, -1, "-0");
    num(-0.0001, "en", -1, -1, "-0");
    num(-1234.5, "hi", -1, -1, "-1,234.5");
    num(NAN, "en", -1, -1, "NaN");
    num(INFINITY, "kn", -1, -1, "\xE2\x88\x9E");
    num(-INFINITY, "en-IN", -1, -1, "-\xE2\x88\x9E");
    /* the largest double: 309 digits, no exponent */
    char *out = NULL;
    cr_assert_eq(omni_format_number(&out, NULL, 1.7976931348623157e308, "en-IN", 0, 0),
                 OMNI_OK);
    cr_assert_eq(strncmp(out, "17,97,69,31,34,86,23,15,70,00", 29), 0);
    omni_free(out);
}

Test(format, currency)
{
    cur(123456, "INR", "en-IN", "\xE2\x82\xB9" "1,23,456.00");         /* ₹1,23,456.00 */
    cur(1234567.891, "INR", "kn-IN", "\xE2\x82\xB9" "1,234,567.89");   /* Intl kn-IN */
    cur(1234.5, "USD", "en", "$1,234.50");
    cur(1234.5, "USD", "en-GB", "US$1,234.50");
    cur(-1234.5, "EUR", "hi", "-\xE2\x82\xAC" "1,234.50");
    cur(-1234.5, "GBP", "en-GB", "-\xC2\xA3" "1,234.50");
    cur(1234567.891, "JPY", "en", "\xC2\xA5" "1,234,568");
    cur(1234567.891, "JPY", "en-IN", "JP\xC2\xA5" "12,34,568");
    cur(1234567.891, "KRW", "en", "\xE2\x82\xA9" "1,234,568");
    cur(0.5, "JPY", "en", "\xC2\xA5" "1");
    cur(-1234.567, "KWD", "en", "-KWD\xC2\xA0" "1,234.567");
    cur(-1234.567, "AED", "hi", "-AED\xC2\xA0" "1,234.57");
    cur(1234.5, "xyz", "en", "XYZ\xC2\xA0" "1,234.50");             /* unknown code */
    cur(1, "PHP", "en", "\xE2\x82\xB1" "1.00");
    cur(1, "PHP", "hi", "PHP\xC2\xA0" "1.00");
    cur(1, "THB", "en", "THB\xC2\xA0" "1.00");
    cur(1, "THB", "kn", "\xE0\xB8\xBF" "1.00");
    cur(1, "XOF", "en", "F\xE2\x80\xAF" "CFA\xC2\xA0" "1");
    cur(0, "INR", "en-IN", "\xE2\x82\xB9" "0.00");
    cur(-0.0, "INR", "en-IN", "-\xE2\x82\xB9" "0.00");
    cur(-0.001, "INR", "en-IN", "-\xE2\x82\xB9" "0.00");
    cur(2.675, "INR", "en-IN", "\xE2\x82\xB9" "2.68");
    cur(NAN, "INR", "en", "\xE2\x82\xB9" "NaN");
    cur(-INFINITY, "AED", "en", "-AED\xE2\x88\x9E");
    cur(1, "inr", NULL, "\xE2\x82\xB9" "1.00");
}

Test(format, locale_resolution)
{
    num(100000, "EN-in", -1, -1, "1,00,000");
    num(100000, "en_IN", -1, -1, "1,00,000");
    num(100000, "hi_in", -1, -1, "1,00,000");
    num(100000, "en-Latn-IN", -1, -1, "1,00,000");
    num(100000, "en-AU", -1, -1, "100,000");  /* not built in: en */
    num(100000, "fr", -1, -1, "100,000");     /* unknown language: en */
    num(100000, "hi-US", -1, -1, "1,00,000"); /* the language's data */
    num(100000, NULL, -1, -1, "100,000");
    num(100000, "", -1, -1, "100,000");
    cr_assert_str_eq(omni__locale_tag(omni__locale_get("KN_in")), "kn-IN");
    cr_assert_str_eq(omni__locale_tag(omni__locale_get("kn-Knda")), "kn");
    cr_assert_str_eq(omni__locale_tag(omni__locale_get("zh-Hant-TW")), "en");
    cr_assert_str_eq(omni__locale_tag(NULL), "en");
}

Test(format, date_styles)
{
    const char *t = "2026-03-08T07:05:09Z"; /* 03:05:09 EDT in New York */
    const char *ny = "America/New_York";
    date(t, "short", ny, "en", "3/8/26");
    date(t, "medium", ny, "en-US", "Mar 8, 2026");
    date(t, "long", ny, "en", "March 8, 2026");
    date(t, "full", ny, "en", "Sunday, March 8, 2026");
    date(t, "short", ny, "en-GB", "08/03/2026");
    date(t, "medium", ny, "en-GB", "8 Mar 2026");
    date(t, "short", ny, "en-IN", "08/03/26");
    date(t, "full", ny, "en-IN", "Sunday, 8 March 2026");
    date(t, "short", ny, "hi", "8/3/26");
    date(t, "medium", ny, "hi",
         "8 \xE0\xA4\xAE\xE0\xA4\xBE\xE0\xA4\xB0\xE0\xA5\x8D\xE0\xA4\x9A 2026"); /* 8 मार्च 2026 */
    date(t, "full", ny, "hi-IN", "रविवार, 8 मार्च 2026");
    date(t, "medium", ny, "kn", "ಮಾರ್ಚ್ 8, 2026");
    date(t, "full", ny, "kn-IN", "ಭಾನುವಾರ, ಮಾರ್ಚ್ 8, 2026");
    date("2026-09-25T12:00:00Z", "medium", NULL, "en-GB", "25 Sept 2026");
    date("2026-09-25T12:00:00Z", "medium", NULL, "hi", "25 सित॰ 2026");
    date("2026-09-25T12:00:00Z", "medium", "", "kn", "ಸೆಪ್ಟೆಂ 25, 2026");
    date("2026-09-25T12:00:00Z", NULL, NULL, NULL, "Sep 25, 2026"); /* default: medium */
    date("2026-09-25T12:00:00Z", "", "UTC", "en", "Sep 25, 2026");
}

Test(format, date_patterns)
{
    const char *ny = "America/New_York";
    /* one second before and at the DST start (07:00Z) */
    date("2026-03-08T06:59:59Z", "yyyy-MM-dd HH:mm:ss z", ny, "en", "2026-03-08 01:59:59 GMT-5");
    date("2026-03-08T07:00:00Z", "yyyy-MM-dd HH:mm:ss z", ny, "en", "2026-03-08 03:00:00 GMT-4");
    date("2026-03-08T07:05:09Z", "EEEE, d MMMM yyyy 'at' h:mm a z", ny, "en",
         "Sunday, 8 March 2026 at 3:05 AM GMT-4");
    date("2026-03-08T07:05:09Z", "y yy M d H h m s", ny, "en", "2026 26 3 8 3 3 5 9");
    date("2026-07-04T18:30:00Z", "hh:mm a", "Asia/Kolkata", "en-IN", "12:00 am");
    date("2026-07-04T06:30:00Z", "h:mm a", "Asia/Kolkata", "hi", "12:00 pm");
    date("2026-07-04T06:30:00Z", "h a", "Asia/Kolkata", "kn", "12 PM");
    date("2026-07-04T06:30:00Z", "z", "Asia/Kolkata", "kn", "GMT+5:30");
    date("2026-07-04T06:30:00Z", "z", "Asia/Kathmandu", "en", "GMT+5:45");
    date("2026-07-04T06:30:00Z", "z", NULL, "en", "GMT+0");
    date("1883-11-18T16:59:59Z", "z", ny, "en", "GMT-4:56:02"); /* local mean time */
    date("1883-11-18T17:00:00Z", "z", ny, "en", "GMT-5");       /* railway time */
    date("2026-01-01T00:00:00Z", "EEE E EE MMM", "Australia/Lord_Howe", "en-GB",
         "Thu Thu Thu Jan");
    date("2026-01-01T00:00:00Z", "HH:mm z", "Australia/Lord_Howe", "en", "11:00 GMT+11");
    date("2026-07-01T00:00:00Z", "HH:mm z", "Australia/Lord_Howe", "en", "10:30 GMT+10:30");
    date("2026-07-01T00:00:00+05:30", "EEEE EEE MMMM MMM", "UTC", "kn",
         "ಮಂಗಳವಾರ ಮಂಗಳ ಜೂನ್ ಜೂನ್");
    date("2026-01-15T10:00:00Z", "MMMM MMM EEEE EEE", "UTC", "hi", "जनवरी जन॰ गुरुवार गुरु");
    date("2026-01-15T10:00:00Z", "'it''s' dd/MM ''", "UTC", "en", "it's 15/01 '");
    date("2026-01-15T10:00:00Z", "-/.,: 123", "UTC", "en", "-/.,: 123");
    date("0999-06-15T12:00:00Z", "y yyyy yy", "UTC", "en", "999 0999 99");
    date("2200-07-01T00:00:00Z", "yyyy-MM-dd HH:mm z", ny, "en", "2200-06-30 20:00 GMT-4");
    date("2026-12-31T23:59:59.999-01:00", "yyyy-MM-dd HH:mm:ss", "UTC", "en",
         "2027-01-01 00:59:59");
}

Test(format, errors)
{
    char *out = (char *)1;
    size_t n = 7;
    /* NULL out */
    cr_assert_eq(omni_format_number(NULL, NULL, 1, "en", -1, -1), OMNI_EINVAL);
    cr_assert_eq(omni_format_currency(NULL, NULL, 1, "INR", "en"), OMNI_EINVAL);
    cr_assert_eq(omni_format_date(NULL, NULL, "2026-01-01T00:00:00Z", NULL, NULL, NULL),
                 OMNI_EINVAL);
    /* fraction digits */
    cr_assert_eq(omni_format_number(&out, &n, 1, "en", 3, 1), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
    cr_assert_eq(omni_format_number(&out, NULL, 1, "en", 21, -1), OMNI_EINVAL);
    cr_assert_eq(omni_format_number(&out, NULL, 1, "en", -1, 21), OMNI_EINVAL);
    cr_assert_eq(omni_format_number(&out, NULL, 1, "en", -2, -1), OMNI_EINVAL);
    cr_assert_eq(omni_format_number(&out, NULL, 1, "en", 4, 3), OMNI_EINVAL);
    cr_assert_not_null(strstr(omni_error_last_message(), "exceed"));
    /* locales */
    static const char *bad_locales[] = {"e", "english", "en--IN", "-en", "en-", "en IN",
                                        "1n-IN", "en-IN-\xC3\xA9", "e1",
                                        "en-abcdefghi", "aaaaaaaa-bbbbbbbb-cccccccc-dddddddd"};
    for (size_t i = 0; i < sizeof(bad_locales) / sizeof(bad_locales[0]); i++) {
        cr_assert_eq(omni_format_number(&out, NULL, 1, bad_locales[i], -1, -1), OMNI_EINVAL,
                     "locale %s", bad_locales[i]);
        cr_assert_eq(omni_format_currency(&out, NULL, 1, "INR", bad_locales[i]), OMNI_EINVAL);
        cr_assert_eq(omni_format_date(&out, NULL, "2026-01-01T00:00:00Z", NULL, NULL,
                                      bad_locales[i]),
                     OMNI_EINVAL);
    }
    /* currency codes */
    static const char *bad_codes[] = {"", "IN", "INRR", "IN1", "\xE2\x82\xB9", "I R"};
    for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++)
        cr_assert_eq(omni_format_currency(&out, NULL, 1, bad_codes[i], "en"), OMNI_EINVAL,
                     "code %s", bad_codes[i]);
    cr_assert_eq(omni_format_currency(&out, NULL, 1, NULL, "en"), OMNI_EINVAL);
    /* dates */
    const char *t = "2026-01-01T00:00:00Z";
    cr_assert_eq(omni_format_date(&out, NULL, NULL, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_format_date(&out, NULL, "2026-13-01T00:00:00Z", NULL, NULL, NULL),
                 OMNI_ETIME);
    cr_assert_eq(omni_format_date(&out, NULL, "yesterday", NULL, NULL, NULL), OMNI_ETIME);
    cr_assert_eq(omni_format_date(&out, NULL, t, NULL, "Mars/Olympus", NULL), OMNI_ENOTFOUND);
    cr_assert_eq(omni_format_date(&out, NULL, t, NULL, "../etc/passwd", NULL), OMNI_EINVAL);
    static const char *bad_patterns[] = {"yyy", "yyyyy", "MMMMM", "ddd", "EEEEE", "HHH", "hhh",
                                         "mmm", "sss", "aa", "zz", "Q", "dd 'open", "tomorrow",
                                         "shorts"};
    for (size_t i = 0; i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++)
        cr_assert_eq(omni_format_date(&out, NULL, t, bad_patterns[i], NULL, NULL), OMNI_EINVAL,
                     "pattern %s", bad_patterns[i]);
    char longpat[300];
    memset(longpat, 'd', sizeof(longpat) - 1);
    longpat[sizeof(longpat) - 1] = '\0';
    cr_assert_eq(omni_format_date(&out, NULL, t, longpat, NULL, NULL), OMNI_EINVAL);
    /* local years outside 1..9999 */
    cr_assert_eq(omni_format_date(&out, NULL, "9999-12-31T23:00:00Z", NULL, "Asia/Kolkata", NULL),
                 OMNI_ETIME);
    cr_assert_eq(omni_format_date(&out, NULL, "0001-01-01T00:00:00Z", NULL, "America/New_York",
                                  NULL),
                 OMNI_ETIME);
    cr_assert_eq(omni_format_date(&out, NULL, "0000-06-01T00:00:00Z", NULL, NULL, NULL),
                 OMNI_ETIME);
    cr_assert_null(out);
}

Test(format, append_functions_leave_buffer_on_error)
{
    omni_buf b = OMNI_BUF_INIT;
    const omni__locale *en = omni__locale_get("en");
    cr_assert_eq(omni__format_number_append(&b, 1234.5, en, -1, -1), OMNI_OK);
    omni__buf_putc(&b, '|');
    cr_assert_eq(omni__format_date_append(&b, 0, "dd 'x", NULL, en), OMNI_EINVAL);
    cr_assert_eq(omni__format_number_append(&b, 1, en, 5, 1), OMNI_EINVAL);
    cr_assert_eq(omni__format_currency_append(&b, 1, "US", en), OMNI_EINVAL);
    cr_assert_eq(b.len, 8);
    omni__tz *tz = NULL;
    cr_assert_eq(omni__tz_load(&tz, "Asia/Kolkata"), OMNI_OK);
    cr_assert_eq(omni__format_date_append(&b, 1767225600000, "HH:mm", tz, NULL), OMNI_OK);
    cr_assert_eq(omni__format_currency_append(&b, 5, "INR", NULL), OMNI_OK);
    /* negative ms: floor to the second before */
    cr_assert_eq(omni__format_date_append(&b, -1, "|yyyy-MM-dd HH:mm:ss", NULL, en), OMNI_OK);
    cr_assert_str_eq(b.data, "1,234.5|05:30\xE2\x82\xB9" "5.00|1969-12-31 23:59:59");
    omni__tz_free(tz);
    omni__buf_free(&b);
}
