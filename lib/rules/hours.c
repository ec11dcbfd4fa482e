/* Business hours: compiling a weekly schedule with holidays in an IANA time
 * zone, and answering "open at this instant, and until when". Each local
 * date's intervals become instants through omni__tz_from_local, so
 * daylight-saving days follow tz.h's rules (see hours.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/common.h>

#include "../core/error.h"
#include "../core/json.h"
#include "../core/tz.h"
#include "hours.h"

#define MIN_PER_DAY 1440
#define DAY_S INT64_C(86400)
/* Any piece of local date D lies at or after D * 86400 - MARGIN_S (the
 * largest UTC offset TZif allows is below 26 hours). */
#define MARGIN_S (INT64_C(27) * 3600)
/* Dates before floor(t / 86400) - BACK_DAYS cannot reach t (offsets below
 * 26 h, forward shifts of a skipped time below 48 h). */
#define BACK_DAYS 5
/* Pieces of one weekday: its own intervals and the previous day's
 * after-midnight parts. */
#define MAX_PIECES (2 * OMNI__HOURS_MAX_INTERVALS)

typedef struct piece {
    uint16_t start, end; /* minutes of the local day, start < end <= 1440 */
} piece;

struct omni__hours {
    omni__tz *tz;
    int npieces[7]; /* by weekday, 0 = Sunday */
    piece pieces[7][MAX_PIECES];
    int64_t *holidays; /* sorted day numbers (days since 1970-01-01) */
    size_t nholidays;
};

static const char *const day_keys[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* ---- compiling ----------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "HH:MM" -> minutes; "24:00" only when allow_24. -1 when malformed. */
static int parse_hhmm(const char *s, int allow_24)
{
    if (!s || strlen(s) != 5 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' ||
        !is_digit(s[3]) || !is_digit(s[4]))
        return -1;
    int hh = (s[0] - '0') * 10 + (s[1] - '0');
    int mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (hh == 24 && mm == 0 && allow_24)
        return MIN_PER_DAY;
    if (hh > 23 || mm > 59)
        return -1;
    return hh * 60 + mm;
}

/* "YYYY-MM-DD" -> day number; 0 on success, -1 when malformed. */
static int parse_date(const char *s, int64_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !is_digit(s[i]))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return -1;
    int dim = m == 2 && omni__is_leap_year(y) ? 29 : mdays[m - 1];
    if (d > dim)
        return -1;
    *day = omni__days_from_civil(y, m, d);
    return 0;
}

/* A day's own part of an interval: [s, e) or [s, 1440) for an overnight one. */
static void own_part(int s, int e, int *os, int *oe)
{
    *os = s;
    *oe = e > s ? e : MIN_PER_DAY;
}

static int cmp_piece(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct raw_day {
    int n;
    uint16_t s[OMNI__HOURS_MAX_INTERVALS], e[OMNI__HOURS_MAX_INTERVALS];
} raw_day;

static int parse_day(const cJSON *v, const char *key, raw_day *out)
{
    if (!cJSON_IsArray(v))
        return omni__err(OMNI_EINVAL, "hours: weekly.%s is not an array of intervals", key);
    int n = cJSON_GetArraySize(v);
    if (n > OMNI__HOURS_MAX_INTERVALS)
        return omni__err(OMNI_EINVAL, "hours: weekly.%s has more than %d intervals", key,
                         OMNI__HOURS_MAX_INTERVALS);
    int i = 0;
    for (const cJSON *iv = v->child; iv; iv = iv->next, i++) {
        if (!cJSON_IsArray(iv) || cJSON_GetArraySize(iv) != 2)
            return omni__err(OMNI_EINVAL,
                             "hours: weekly.%s[%d] is not a pair [\"HH:MM\", \"HH:MM\"]", key, i);
        const cJSON *a = iv->child, *b = iv->child->next;
        int s = parse_hhmm(cJSON_IsString(a) ? a->valuestring : NULL, 0);
        if (s < 0)
            return omni__err(OMNI_EINVAL, "hours: weekly.%s[%d][0] is not HH:MM (00:00 to 23:59)",
                             key, i);
        int e = parse_hhmm(cJSON_IsString(b) ? b->valuestring : NULL, 1);
        if (e < 0)
            return omni__err(OMNI_EINVAL, "hours: weekly.%s[%d][1] is not HH:MM (00:00 to 24:00)",
                             key, i);
        if (s == e)
            return omni__err(OMNI_EINVAL, "hours: weekly.%s[%d] is empty (start equals end)", key,
                             i);
        out->s[i] = (uint16_t)s;
        out->e[i] = (uint16_t)(e == 0 ? MIN_PER_DAY : e); /* "00:00" as an end: midnight */
        for (int j = 0; j < i; j++) {
            int as, ae, bs, be;
            own_part(out->s[j], out->e[j], &as, &ae);
            own_part(out->s[i], out->e[i], &bs, &be);
            if (as < be && bs < ae)
                return omni__err(OMNI_EINVAL, "hours: weekly.%s[%d] and weekly.%s[%d] overlap",
                                 key, j, key, i);
        }
    }
    out->n = i;
    return OMNI_OK;
}

static int parse_weekly(omni__hours *h, const cJSON *weekly)
{
    if (!cJSON_IsObject(weekly))
        return omni__err(OMNI_EINVAL, "hours: weekly is not an object");
    int rc = OMNI_OK, seen[7] = {0};
    raw_day days[7];
    memset(days, 0, sizeof(days));
    for (const cJSON *m = weekly->child; m; m = m->next) {
        int wd = -1;
        for (int k = 0; k < 7; k++)
            if (strcmp(m->string, day_keys[k]) == 0)
                wd = k;
        if (wd < 0)
            return omni__err(OMNI_EINVAL,
                             "hours: weekly.%.40s is not a day (mon, tue, wed, thu, fri, sat, sun)",
                             m->string);
        if (seen[wd]++)
            return omni__err(OMNI_EINVAL, "hours: weekly.%s appears twice", day_keys[wd]);
        rc = parse_day(m, day_keys[wd], &days[wd]);
        if (rc)
            return rc;
    }
    for (int wd = 0; wd < 7; wd++) {
        piece tmp[MAX_PIECES];
        int n = 0;
        const raw_day *own = &days[wd], *prev = &days[(wd + 6) % 7];
        for (int i = 0; i < own->n; i++) {
            int s, e;
            own_part(own->s[i], own->e[i], &s, &e);
            tmp[n++] = (piece){(uint16_t)s, (uint16_t)e};
        }
        for (int i = 0; i < prev->n; i++)
            if (prev->e[i] < prev->s[i]) /* overnight with an after-midnight part */
                tmp[n++] = (piece){0, prev->e[i]};
        qsort(tmp, (size_t)n, sizeof(piece), cmp_piece);
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (m > 0 && tmp[i].start <= h->pieces[wd][m - 1].end) {
                if (tmp[i].end > h->pieces[wd][m - 1].end)
                    h->pieces[wd][m - 1].end = tmp[i].end;
            } else {
                h->pieces[wd][m++] = tmp[i];
            }
        }
        h->npieces[wd] = m;
    }
    return OMNI_OK;
}

static int parse_holidays(omni__hours *h, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return omni__err(OMNI_EINVAL, "hours: holidays is not an array of dates");
    int n = cJSON_GetArraySize(v);
    if (n > OMNI__HOURS_MAX_HOLIDAYS)
        return omni__err(OMNI_EINVAL, "hours: holidays has more than %d dates",
                         OMNI__HOURS_MAX_HOLIDAYS);
    if (n == 0)
        return OMNI_OK;
    h->holidays = malloc((size_t)n * sizeof(int64_t));
    if (!h->holidays)
        return omni__err(OMNI_ENOMEM, "hours: out of memory");
    int i = 0;
    for (const cJSON *d = v->child; d; d = d->next, i++) {
        if (parse_date(cJSON_IsString(d) ? d->valuestring : NULL, &h->holidays[i]) != 0)
            return omni__err(OMNI_EINVAL, "hours: holidays[%d] is not a date YYYY-MM-DD", i);
    }
    h->nholidays = (size_t)i;
    qsort(h->holidays, h->nholidays, sizeof(int64_t), cmp_day);
    return OMNI_OK;
}

static int load_zone(omni__hours *h, const cJSON *v)
{
    const char *name = "UTC";
    if (v) {
        if (!cJSON_IsString(v))
            return omni__err(OMNI_EINVAL, "hours: timezone is not a string");
        name = v->valuestring;
        if (!omni__tz_name_valid(name))
            return omni__err(OMNI_EINVAL, "hours: timezone is not a valid IANA zone name");
    }
    int rc = omni__tz_load(&h->tz, name);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "hours: timezone: unknown time zone \"%s\"", name);
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
        return omni__err(rc, "hours: timezone: %s", msg);
    }
    return OMNI_OK;
}

static int compile_root(omni__hours *h, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return omni__err(OMNI_EINVAL, "hours: the schedule is not a JSON object");
    const cJSON *tz = NULL, *weekly = NULL, *holidays = NULL;
    for (const cJSON *m = root->child; m; m = m->next) {
        const cJSON **slot = NULL;
        if (strcmp(m->string, "timezone") == 0)
            slot = &tz;
        else if (strcmp(m->string, "weekly") == 0)
            slot = &weekly;
        else if (strcmp(m->string, "holidays") == 0)
            slot = &holidays;
        if (slot && *slot)
            return omni__err(OMNI_EINVAL, "hours: %s appears twice", m->string);
        if (slot)
            *slot = m;
        else
            return omni__err(OMNI_EINVAL,
                             "hours: unknown member \"%.40s\" (expected timezone, weekly, "
                             "holidays)",
                             m->string);
    }
    if (!weekly)
        return omni__err(OMNI_EINVAL, "hours: weekly is missing");
    int rc = parse_weekly(h, weekly);
    if (!rc && holidays)
        rc = parse_holidays(h, holidays);
    if (!rc)
        rc = load_zone(h, tz);
    return rc;
}

int omni__hours_compile(omni__hours **out, const char *json, size_t len)
{
    if (out)
        *out = NULL;
    if (!out || !json)
        return omni__err(OMNI_EINVAL, "hours: NULL argument");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, json, len, OMNI__HOURS_MAX_BYTES, "hours");
    if (rc)
        return rc;
    omni__hours *h = calloc(1, sizeof(*h));
    if (!h) {
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, "hours: out of memory");
    }
    rc = compile_root(h, root);
    cJSON_Delete(root);
    if (rc) {
        omni__hours_free(h);
        return rc;
    }
    *out = h;
    return OMNI_OK;
}

void omni__hours_free(omni__hours *h)
{
    if (!h)
        return;
    omni__tz_free(h->tz);
    free(h->holidays);
    free(h);
}

const char *omni__hours_timezone(const omni__hours *h)
{
    return h && h->tz ? omni__tz_name(h->tz) : "";
}

/* ---- evaluating ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int is_holiday(const omni__hours *h, int64_t day)
{
    size_t lo = 0, hi = h->nholidays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->holidays[mid] < day)
            lo = mid + 1;
        else if (h->holidays[mid] > day)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

/* The instants [a[i], b[i]) of the pieces of local date `day` that are not
 * empty; returns their count. */
static int date_spans(const omni__hours *h, int64_t day, int64_t *a, int64_t *b)
{
    if (is_holiday(h, day))
        return 0;
    int wd = (int)(((day + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    int n = 0;
    for (int i = 0; i < h->npieces[wd]; i++) {
        int64_t base = day * DAY_S;
        int64_t x = 0, y = 0;
        if (omni__tz_from_local(h->tz, base + h->pieces[wd][i].start * 60, &x) != OMNI_OK ||
            omni__tz_from_local(h->tz, base + h->pieces[wd][i].end * 60, &y) != OMNI_OK)
            continue; /* out of range: cannot happen within OMNI__HOURS_MAX_ABS_MS */
        if (y > x) {
            a[n] = x;
            b[n] = y;
            n++;
        }
    }
    return n;
}

int omni__hours_at(const omni__hours *h, int64_t now_ms, int *open, int64_t *next_change_ms)
{
    if (!h)
        return omni__err(OMNI_EINVAL, "hours: NULL schedule");
    if (now_ms > OMNI__HOURS_MAX_ABS_MS || now_ms < -OMNI__HOURS_MAX_ABS_MS)
        return omni__err(OMNI_ETIME, "hours: instant %lld ms is out of range",
                         (long long)now_ms);
    int64_t t = floor_div(now_ms, 1000);
    int64_t today = floor_div(t, DAY_S);
    int64_t horizon = t + (int64_t)OMNI__HOURS_HORIZON_DAYS * DAY_S;
    int64_t a[MAX_PIECES], b[MAX_PIECES];

    /* state at t, and the end of the spans containing it */
    int is_open = 0;
    int64_t run_end = t;
    for (int64_t d = today - BACK_DAYS; d <= today + BACK_DAYS; d++) {
        int n = date_spans(h, d, a, b);
        for (int i = 0; i < n; i++)
            if (a[i] <= t && t < b[i]) {
                is_open = 1;
                if (b[i] > run_end)
                    run_end = b[i];
            }
    }

    int64_t change = 0;
    if (is_open) {
        /* Extend the open run while some span starts within it and ends
         * after it; sweep dates forward until they cannot reach run_end. */
        int progressed = 1;
        while (progressed && run_end <= horizon) {
            progressed = 0;
            for (int64_t d = floor_div(run_end, DAY_S) - BACK_DAYS;
                 d * DAY_S - MARGIN_S <= run_end && run_end <= horizon; d++) {
                int n = date_spans(h, d, a, b);
                for (int i = 0; i < n; i++)
                    if (a[i] <= run_end && run_end < b[i]) {
                        run_end = b[i];
                        progressed = 1;
                    }
            }
        }
        change = run_end <= horizon ? run_end : 0;
    } else {
        /* the earliest span start after t */
        int64_t best = INT64_MAX;
        for (int64_t d = today - BACK_DAYS;
             d <= today + OMNI__HOURS_HORIZON_DAYS + BACK_DAYS && d * DAY_S - MARGIN_S <= best;
             d++) {
            int n = date_spans(h, d, a, b);
            for (int i = 0; i < n; i++)
                if (a[i] > t && a[i] < best)
                    best = a[i];
        }
        change = best <= horizon ? best : 0;
    }
    if (open)
        *open = is_open;
    if (next_change_ms)
        *next_change_ms = change * 1000;
    return OMNI_OK;
}
