/* Internal: business hours — a weekly schedule in an IANA time zone with
 * holiday dates, compiled once and asked "open now? until when?".
 *
 * The schedule document (JSON, at most OMNI__HOURS_MAX_BYTES):
 *
 *   {"timezone": "Asia/Kolkata",
 *    "weekly": {"mon": [["09:00", "18:00"]], "tue": [["09:00", "13:00"], ["14:00", "18:00"]],
 *               "fri": [["22:00", "06:00"]], "sat": [], ...},
 *    "holidays": ["2026-12-25", "2027-01-01"]}
 *
 * - "timezone": an IANA zone name (loaded from the system zoneinfo, see
 *   lib/core/tz.h); optional, default "UTC".
 * - "weekly": required object whose members are among "mon" "tue" "wed"
 *   "thu" "fri" "sat" "sun"; a missing day is closed all day, [] likewise.
 *   A day is a list of at most OMNI__HOURS_MAX_INTERVALS intervals
 *   ["HH:MM", "HH:MM"] of local wall-clock time (two digits each, 00:00 to
 *   23:59; "24:00" is allowed as an end only), start inclusive, end
 *   exclusive. An interval whose end is before its start (["22:00", "06:00"])
 *   runs past midnight into the next day; an end of "00:00" means midnight
 *   at the end of the day. Equal start and end is an error. The intervals of
 *   one day may not overlap (touching is fine: 09:00-12:00 and 12:00-18:00
 *   are one stretch); the part of an overnight interval after midnight may
 *   overlap the next day's own intervals, the union counts.
 * - "holidays": optional list of at most OMNI__HOURS_MAX_HOLIDAYS local dates
 *   "YYYY-MM-DD" (years 0000-9999, a real calendar date; repeats allowed)
 *   that are closed from 00:00 to 24:00 local time. A holiday closes its
 *   calendar date only: the part after midnight of an overnight interval
 *   that started the day before is closed too, while an overnight interval
 *   starting on a holiday still opens at midnight of the following (ordinary)
 *   day for its after-midnight part.
 * - No other member is accepted.
 *
 * Daylight-saving time. Every interval is attached to one local date, and
 * its boundaries are turned into instants with omni__tz_from_local, so an
 * interval happens exactly once per date whatever the clock does:
 * - a boundary on a repeated wall time (the fall-back hour) is its earlier
 *   occurrence: ["01:30", "02:00"] on 2026-11-01 in America/New_York opens at
 *   01:30 EDT and closes at 02:00 EST, 1 h 30 min later, open throughout the
 *   repeated hour;
 * - a boundary on a skipped wall time (the spring-forward gap) moves forward
 *   by the length of the gap (the "compatible" rule of tz.h): on 2026-03-08
 *   in America/New_York, where 02:00-03:00 does not exist, opening at 02:30
 *   opens at 03:30 EDT and closing at 02:30 closes at 03:30 EDT; an interval
 *   whose end instant is thereby not after its start instant is empty that
 *   day (02:30-03:15 would run from 03:30 EDT to 03:15 EDT: closed);
 * - a day that is shorter or longer than 24 h simply has its intervals where
 *   the local clock shows them (09:00-17:00 is 8 real hours on every date
 *   whose transition is at night).
 *
 * Thread-safety: a compiled omni__hours is immutable; any number of threads
 * may call omni__hours_at on it at once. */
#ifndef OMNI_RULES_HOURS_H
#define OMNI_RULES_HOURS_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni__hours omni__hours;

/* Largest schedule document accepted. */
#define OMNI__HOURS_MAX_BYTES (64u * 1024u)
/* Most intervals in one day's list. */
#define OMNI__HOURS_MAX_INTERVALS 48
/* Most holiday dates. */
#define OMNI__HOURS_MAX_HOLIDAYS 1000
/* How far omni__hours_at looks for the next change, in local days. */
#define OMNI__HOURS_HORIZON_DAYS 400
/* Instants accepted by omni__hours_at: |now_ms| <= 2^53 (about 285,000
 * years around 1970). */
#define OMNI__HOURS_MAX_ABS_MS (INT64_C(1) << 53)

/*
 * Compiles a schedule document (json[0..len), no terminator needed) into
 * *out (NULL on error), released with omni__hours_free.
 * Errors (last error set, message starting "hours: "):
 * - OMNI_EINVAL: NULL out or json; a member of the wrong type or with a bad
 *   value, unknown or repeated member; the message names the JSON path, e.g.
 *   "hours: weekly.mon[1][0] is not HH:MM", "hours: weekly.tue[0] and
 *   weekly.tue[1] overlap", "hours: holidays[3] is not a date YYYY-MM-DD";
 * - OMNI_ENOTFOUND: the time zone does not exist (a malformed zone name is
 *   OMNI_EINVAL); OMNI_EENCODING / OMNI_EUNSUPPORTED / OMNI_ETOOLARGE for
 *   an unusable zone file (message "hours: timezone: ...");
 * - OMNI_EJSON: not well-formed JSON; OMNI_ETOODEEP;
 * - OMNI_ETOOLARGE: len > OMNI__HOURS_MAX_BYTES;
 * - OMNI_ENOMEM.
 */
int omni__hours_compile(omni__hours **out, const char *json, size_t len);

/*
 * Whether the business is open at `now_ms` (milliseconds since the Unix
 * epoch): *open is 1 or 0. *next_change_ms is the first instant after now_ms
 * at which that changes (a whole second, in ms), or 0 when it does not
 * change within OMNI__HOURS_HORIZON_DAYS × 86400 s after now_ms (an
 * always-closed or always-open schedule, or one whose only open days are
 * all holidays).
 * When not 0, next_change_ms > now_ms, the state at next_change_ms - 1 is
 * *open and the state at next_change_ms is !*open. Either output may be NULL.
 * Errors (last error set, outputs unchanged): OMNI_EINVAL (NULL h),
 * OMNI_ETIME (|now_ms| > OMNI__HOURS_MAX_ABS_MS).
 */
int omni__hours_at(const omni__hours *h, int64_t now_ms, int *open, int64_t *next_change_ms);

/* The zone name of the schedule ("UTC" when none was given). */
const char *omni__hours_timezone(const omni__hours *h);

/* Releases a schedule; NULL does nothing. */
void omni__hours_free(omni__hours *h);

#endif
