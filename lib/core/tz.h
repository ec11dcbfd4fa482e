/* Internal: IANA time zones from TZif files (RFC 8536), and civil-time
 * arithmetic for the components that show or reason about local time
 * (formatDate, business hours, quiet hours).
 *
 * An omni__tz is immutable once loaded: load it once where it is used
 * (a compiled template, an account's configuration) and query it from any
 * number of threads. There is no global cache. */
#ifndef OMNI_CORE_TZ_H
#define OMNI_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni__tz omni__tz;

/* Largest TZif file accepted (the biggest real zones are a few KiB). */
#define OMNI__TZ_MAX_FILE (256u * 1024u)
/* Longest zone name ("America/Argentina/ComodRivadavia" is 32). */
#define OMNI__TZ_MAX_NAME 128u
/* Times accepted by omni__tz_offset / omni__tz_from_local: |s| <= 2^55. */
#define OMNI__TZ_MAX_ABS_S (INT64_C(1) << 55)

/* 1 when `name` is a well-formed zone name: 1..OMNI__TZ_MAX_NAME bytes of
 * [A-Za-z0-9_+/-], no leading or trailing '/', no empty component, no
 * component starting with '-' ("..", absolute paths and options can thus
 * never reach the file system). Does not set the last error. */
int omni__tz_name_valid(const char *name);

/* Loads zone `name` from $TZDIR, or /usr/share/zoneinfo when TZDIR is unset
 * or empty. "UTC", "Etc/UTC" and "GMT" need no file (built in).
 * Errors (last error set): OMNI_EINVAL (NULL or malformed name),
 * OMNI_ENOTFOUND (no such zone), OMNI_ETOOLARGE, OMNI_EENCODING (not a
 * valid TZif file), OMNI_EUNSUPPORTED (leap-second "right/" zones),
 * OMNI_ENOMEM. */
int omni__tz_load(omni__tz **out, const char *name);

/* The built-in UTC zone (abbreviation "UTC"). Errors: OMNI_ENOMEM. */
int omni__tz_utc(omni__tz **out);

/* Parses TZif data (versions 1 to 4). Strict: every count, index, offset,
 * designation and the footer TZ string are checked; anything malformed
 * gives OMNI_EENCODING with a message naming the problem. Version 2+ files
 * use the 64-bit data and the footer. `name` (may be NULL) is kept for
 * omni__tz_name. Errors: OMNI_EINVAL, OMNI_ETOOLARGE, OMNI_EENCODING,
 * OMNI_EUNSUPPORTED (leap-second records), OMNI_ENOMEM. */
int omni__tz_parse(omni__tz **out, const uint8_t *data, size_t len, const char *name);

void omni__tz_free(omni__tz *tz);

/* The name given at load / parse time ("" when none). */
const char *omni__tz_name(const omni__tz *tz);

/*
 * Local time type at `unix_s`: offset from UTC in seconds (east positive),
 * DST flag and abbreviation ("EST", "+0545"; borrowed from tz). Before the
 * first transition the first time type applies; after the last one the
 * footer TZ string's rule (or, when the footer is empty, the last type).
 * Any output may be NULL. Errors: OMNI_EINVAL (NULL tz), OMNI_ETIME
 * (|unix_s| > OMNI__TZ_MAX_ABS_S).
 */
int omni__tz_offset(const omni__tz *tz, int64_t unix_s, int32_t *utc_offset_s, int *is_dst,
                    const char **abbrev);

/*
 * The instant of a local wall-clock time (`local_s`: seconds since
 * 1970-01-01T00:00 of the local calendar). A time repeated by a backward
 * shift gives the earlier instant; a time skipped by a forward shift is
 * moved forward by the length of the gap (JavaScript Temporal's
 * "compatible" disambiguation). Errors as omni__tz_offset.
 */
int omni__tz_from_local(const omni__tz *tz, int64_t local_s, int64_t *unix_s);

/* ---- civil time (proleptic Gregorian) ---------------------------------- */

typedef struct omni__civil {
    int64_t year;
    int month;   /* 1..12 */
    int day;     /* 1..31 */
    int hour;    /* 0..23 */
    int minute;  /* 0..59 */
    int second;  /* 0..59 */
    int weekday; /* 0 = Sunday .. 6 */
    int yday;    /* 0..365 */
} omni__civil;

/* Days since 1970-01-01 of y-m-d (month 1..12, any day number). */
int64_t omni__days_from_civil(int64_t y, int m, int d);
/* Civil fields of seconds since 1970-01-01T00:00 (UTC or local). */
void omni__civil_from_seconds(int64_t s, omni__civil *out);
int omni__is_leap_year(int64_t y);

#endif
