/* Internal: quiet hours ("HH:MM" to "HH:MM" in a time zone) for the
 * components that hold messages back at night (pushNotification in
 * lib/push/notify.c, the orchestrator in lib/notify/). */
#ifndef OMNI_CORE_QUIET_HOURS_H
#define OMNI_CORE_QUIET_HOURS_H

#include <stdint.h>

#include "tz.h"

/* Minutes since midnight of "HH:MM" (00:00..23:59, exactly 5 bytes);
 * -1 for anything else (s may be NULL). Does not set the last error. */
int omni__hhmm(const char *s);

/*
 * Whether now_ms falls in the quiet period [start, end) (minutes since
 * local midnight; across midnight when end < start; never when start ==
 * end) in zone tz, and when that period ends (*until_ms, may be NULL: the
 * end's local time on this day or the next, as an instant — a time a DST
 * gap skips moves forward — never before now_ms). Returns 1 quiet, 0 not,
 * or a negative status (OMNI_ETIME for a time out of range).
 */
int omni__quiet_hours(const omni__tz *tz, int start, int end, int64_t now_ms,
                      int64_t *until_ms);

/* The lower-case hex SHA-256 of s (64 characters and a NUL): an id for a
 * token too long or too free-form to be a store key. */
void omni__sha256_hex(char out[65], const char *s, size_t len);

#endif
