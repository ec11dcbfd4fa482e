/* Internal: locale-aware formatting for the template helpers (formatNumber,
 * formatCurrency, formatDate) without an allocation per call: resolve the
 * locale once, load the time zone once (lib/core/tz.h), then append into an
 * omni_buf. The public omni_format_* functions in omni/channel.h are thin
 * wrappers over these. */
#ifndef OMNI_TEMPLATE_FORMAT_H
#define OMNI_TEMPLATE_FORMAT_H

#include <stdint.h>

#include "../core/buf.h"
#include "../core/tz.h"

typedef struct omni__locale omni__locale;

/* The fewest decimal digits whose correctly rounded value reads back as
 * `a` (finite, > 0), through printf/strtod in the current locale: digits
 * (at most 17, no leading or trailing zero) into `digits`, their count
 * returned, and *exp10 such that a = 0.DIGITS * 10^exp10. */
int omni__shortest_digits(double a, char *digits, int *exp10);

/* The built-in locale data for a BCP 47 tag ("kn-IN", "en_GB", "hi"):
 * language + region when built in, else the language, else "en". NULL or
 * "" gives "en". Returns NULL (and sets OMNI_EINVAL) for a malformed tag:
 * more than 35 bytes, characters other than [A-Za-z0-9_-], an empty
 * subtag, or a first subtag that is not 2-3 letters. */
const omni__locale *omni__locale_get(const char *tag);

/* The resolved tag ("en-IN"). */
const char *omni__locale_tag(const omni__locale *loc);

/* formatNumber: min/max fraction digits -1 for the defaults (0 and
 * max(min, 3)). Errors (last error set, nothing appended): OMNI_EINVAL
 * (fraction digits outside 0..20 or min > max). */
int omni__format_number_append(omni_buf *b, double value, const omni__locale *loc,
                               int min_fraction, int max_fraction);

/* formatCurrency: `code` is three ASCII letters (any case). Errors:
 * OMNI_EINVAL. */
int omni__format_currency_append(omni_buf *b, double value, const char *code,
                                 const omni__locale *loc);

/* formatDate of `ms` (Unix milliseconds) in `tz` (NULL: UTC) with a
 * pattern or style as omni_format_date documents (NULL: "medium").
 * Errors: OMNI_EINVAL (bad pattern), OMNI_ETIME (the local date is outside
 * years 1..9999). */
int omni__format_date_append(omni_buf *b, int64_t ms, const char *pattern, const omni__tz *tz,
                             const omni__locale *loc);

#endif
