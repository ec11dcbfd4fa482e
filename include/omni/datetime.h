/*
 * libomni — RFC 3339 timestamps.
 *
 * Times are int64 milliseconds since the Unix epoch, UTC. Formatting gives
 * JavaScript's Date.prototype.toISOString() form, "2026-11-22T09:30:00.000Z",
 * so documents match the seeds' TypeScript output byte for byte.
 *
 * Thread-safety: pure and thread-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_DATETIME_H
#define OMNI_DATETIME_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Buffer size for omni_time_format: 24 characters plus NUL. */
#define OMNI_TIME_STRLEN 25
#define OMNI_TIME_MAX_INPUT 64

/*
 * Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)",
 * 'T'/'t' and 'Z'/'z' both accepted (nothing else: no space separator, no
 * surrounding whitespace); fractions of one or more digits, any length, are
 * truncated to milliseconds; a leap second (":60", at any minute) is
 * accepted and read as second 59 with the fraction ".999" (the last
 * representable instant of that minute). "-00:00" is read as UTC. The
 * instant, converted to UTC, must lie within 0000-01-01T00:00:00.000Z ..
 * 9999-12-31T23:59:59.999Z, so omni_time_format() accepts every parsed
 * value. *out_ms is only written on success. Errors: OMNI_ETIME (malformed
 * or out of range: month 13, February 30, hour 24, offset beyond 23:59,
 * instant outside those years), OMNI_ETOOLARGE (over OMNI_TIME_MAX_INPUT
 * bytes), OMNI_EINVAL (NULL).
 */
OMNI_API int omni_time_parse(int64_t *out_ms, const char *text, size_t len);

/* Formats ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (cap >= OMNI_TIME_STRLEN).
 * Errors: OMNI_EINVAL (small buffer, or a time outside years 0000..9999). */
OMNI_API int omni_time_format(char *out, size_t out_cap, int64_t ms);

#ifdef __cplusplus
}
#endif

#endif
