/* RFC 3339 timestamps: strict parsing to Unix milliseconds and formatting
 * in JavaScript's toISOString() form. */
#include <omni/datetime.h>

#include "error.h"

#define MS_PER_DAY 86400000LL
/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z in Unix ms. */
#define TIME_MIN_MS (-62167219200000LL)
#define TIME_MAX_MS 253402300799999LL

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
 * Counts in 400-year eras of 146097 days, with years starting on March 1
 * so that the leap day is the last day of a year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                            /* 0..399 */
    int64_t mp = m > 2 ? m - 3 : m + 9;                     /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;               /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;    /* 0..146096 */
    return era * 146097 + doe - 719468;                     /* 719468: 0000-03-01 to 1970 */
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* n decimal digits at s; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int bad(const char *why)
{
    return omni__err(OMNI_ETIME, "not an RFC 3339 date-time: %s", why);
}

int omni_time_parse(int64_t *out_ms, const char *text, size_t len)
{
    if (!out_ms || (!text && len))
        return omni__err(OMNI_EINVAL, "time parse: NULL argument");
    if (len > OMNI_TIME_MAX_INPUT)
        return omni__err(OMNI_ETOOLARGE, "time parse: %zu bytes, over the limit of %d", len,
                         OMNI_TIME_MAX_INPUT);
    /* YYYY-MM-DDTHH:MM:SS then at least one more byte (Z or an offset) */
    if (len < 20)
        return bad("too short");
    const char *s = text;
    if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
        return bad("expected YYYY-MM-DDTHH:MM:SS");
    if (s[10] != 'T' && s[10] != 't')
        return bad("expected 'T' between date and time");
    int year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), minute = digits(s + 14, 2), second = digits(s + 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0)
        return bad("expected digits");
    if (month < 1 || month > 12)
        return bad("month out of range");
    if (day < 1 || day > days_in_month(year, month))
        return bad("day out of range for the month");
    if (hour > 23 || minute > 59 || second > 60)
        return bad("time of day out of range");

    size_t p = 19;
    int ms = 0;
    if (s[p] == '.') {
        p++;
        size_t start = p;
        while (p < len && s[p] >= '0' && s[p] <= '9') {
            if (p - start < 3)
                ms = ms * 10 + (s[p] - '0');
            p++;
        }
        if (p == start)
            return bad("expected digits after '.'");
        for (size_t n = p - start; n < 3; n++)
            ms *= 10;
    }
    if (second == 60) { /* leap second: the last instant of second 59 */
        second = 59;
        ms = 999;
    }

    int64_t offset_min = 0;
    if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
        p++;
    } else if (p < len && (s[p] == '+' || s[p] == '-')) {
        if (len - p < 6 || s[p + 3] != ':')
            return bad("expected an offset +HH:MM or -HH:MM");
        int oh = digits(s + p + 1, 2), om = digits(s + p + 4, 2);
        if (oh < 0 || om < 0)
            return bad("expected an offset +HH:MM or -HH:MM");
        if (oh > 23 || om > 59)
            return bad("offset out of range");
        offset_min = (int64_t)oh * 60 + om;
        if (s[p] == '-')
            offset_min = -offset_min;
        p += 6;
    } else {
        return bad("expected 'Z' or an offset");
    }
    if (p != len)
        return bad("unexpected characters after the time");

    int64_t t = days_from_civil(year, month, day) * MS_PER_DAY +
                ((int64_t)hour * 3600 + minute * 60 + second) * 1000 + ms -
                offset_min * 60000;
    if (t < TIME_MIN_MS || t > TIME_MAX_MS)
        return bad("the instant is outside years 0000..9999 UTC");
    *out_ms = t;
    return OMNI_OK;
}

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

int omni_time_format(char *out, size_t out_cap, int64_t ms)
{
    if (!out || out_cap < OMNI_TIME_STRLEN)
        return omni__err(OMNI_EINVAL, "time format: the buffer needs %d bytes",
                         OMNI_TIME_STRLEN);
    if (ms < TIME_MIN_MS || ms > TIME_MAX_MS)
        return omni__err(OMNI_EINVAL, "time format: %lld ms is outside years 0000..9999",
                         (long long)ms);
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    int y = (int)year;
    int msec = (int)(rem % 1000);
    int secs = (int)(rem / 1000);
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, month);
    out[7] = '-';
    put2(out + 8, day);
    out[10] = 'T';
    put2(out + 11, secs / 3600);
    out[13] = ':';
    put2(out + 14, secs / 60 % 60);
    out[16] = ':';
    put2(out + 17, secs % 60);
    out[19] = '.';
    out[20] = (char)('0' + msec / 100);
    put2(out + 21, msec % 100);
    out[23] = 'Z';
    out[24] = '\0';
    return OMNI_OK;
}
