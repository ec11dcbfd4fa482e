/*
 * libomni — channel-aware text: SMS encoding and segments, per-channel
 * validation of templates, and the locale-aware formatting that the
 * template helpers formatNumber / formatCurrency / formatDate use.
 *
 * Thread-safety: all functions are pure and thread-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_CHANNEL_H
#define OMNI_CHANNEL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SMS ---------------------------------------------------------------- */

#define OMNI_SMS_MAX_INPUT (64u * 1024u)

typedef enum omni_sms_encoding {
    OMNI_SMS_GSM7 = 1, /* 3GPP TS 23.038 default alphabet + extension table */
    OMNI_SMS_UCS2 = 2
} omni_sms_encoding;

/*
 * Counts an SMS body (UTF-8). GSM-7 when every character is in the default
 * alphabet or its extension table (3GPP TS 23.038 6.2.1 / 6.2.1.1; 0x09 is
 * capital C cedilla U+00C7 as in the ETSI table, so small c cedilla, '`',
 * tab and other controls than LF and CR are not GSM): the extension
 * characters ^ { } \ [ ~ ] | and the euro sign and form feed count as two
 * septets; 160 septets in a single message, 153 per part of a concatenated
 * one. Otherwise UCS-2: 70 UTF-16 units single, 67 per part; characters
 * outside the BMP count as two units. Parts are filled greedily and never
 * split an escape sequence or a surrogate pair, so a message can need more
 * parts than units / 153 (or / 67). An empty text is one GSM-7 segment of
 * 0 units. `units` is septets for GSM-7 and UTF-16 units for UCS-2. Any
 * output pointer may be NULL; text may be NULL when len is 0.
 * Errors: OMNI_EINVAL, OMNI_EENCODING (not UTF-8; the message names the
 * byte offset), OMNI_ETOOLARGE (over OMNI_SMS_MAX_INPUT bytes).
 */
OMNI_API int omni_sms_count(int *out_encoding, uint32_t *out_segments, uint32_t *out_units,
                            const char *text, size_t len);

/* The same as JSON, with the text of each part (UTF-8):
 * {"encoding":"GSM-7"|"UCS-2","segments":N,"units":N,"parts":["...",...]}.
 * A single-segment message (including the empty text) has one part, the
 * whole text. Errors as omni_sms_count. */
OMNI_API int omni_sms_segments(char **out, size_t *out_len, const char *text, size_t len);

/* ---- validation --------------------------------------------------------- */

/*
 * Validates a template for a channel: "sms", "email", "whatsapp", "push".
 * `template_json` is a NotificationTemplate document (seed 000:
 * {templateId, name, category, channels, content {subject, body, htmlBody},
 * variables [{name, required, ...}], localizations {...}}; recognised by
 * '{' followed by '"' or '}') or else a bare template body (UTF-8, no NUL
 * byte). At most 1 MiB. options_json (may be NULL or empty):
 *   {"data": {...},               sample data to render with (default {})
 *    "maxSmsSegments": 3,         >= 1; no limit when absent
 *    "whatsappParameters": N,     the approved template's parameter count
 *                                 (>= 0; not checked when absent)
 *    "locale": "en"}              the format helpers' locale for `content`
 *                                 (default: the document's defaultLocale,
 *                                 else en); a localization uses its key
 * The content and every localization are checked (fields "content.body",
 * "localizations.hi.body", ...): the texts the channel sends (sms,
 * whatsapp: body; push: subject as the title, body; email: subject, body
 * and htmlBody, the latter with HTML escaping) are compiled in Handlebars
 * mode and rendered with the sample data. Findings (severity code):
 *   error SYNTAX_ERROR       a source does not compile (line and column)
 *   error RENDER_ERROR       rendering with the sample data fails
 *   error MISSING_BODY       content.body or a localization's body missing
 *   error MISSING_SUBJECT    email without content.subject (or a bare body)
 *   error MISSING_VARIABLE   a variable declared "required": true is absent
 *                            or null in the sample data (checked only when
 *                            data is given); for a bare body with data, a
 *                            warning per top-level name it reads that the
 *                            data lacks
 *   warning UNKNOWN_VARIABLE the template reads a top-level name that the
 *                            document's variables array does not declare
 *   error WHATSAPP_PARAMETER_COUNT  the body's distinct variable paths are
 *                            not whatsappParameters in number
 *   error PAYLOAD_TOO_LARGE  {"aps":{"alert":{"title":subject,"body":body}}}
 *                            (APNs) or {"notification":{"title":...,"body":
 *                            ...}} (FCM) rendered over 4096 bytes
 *   error SMS_TOO_MANY_SEGMENTS  the rendered body needs more than
 *                            maxSmsSegments segments (or is over
 *                            OMNI_SMS_MAX_INPUT bytes)
 *   error SMS_MISSING_OPT_OUT  a "promotional" SMS body (source or
 *                            rendering) has none of the words STOP,
 *                            UNSUBSCRIBE, OPTOUT, OPT-OUT, "OPT OUT"
 *                            (case-insensitive, whole words)
 *   warning HTML_IN_TEXT_CHANNEL  sms, whatsapp or push text (source or
 *                            rendering) with an HTML tag (<b>, </p>, <br/>,
 *                            <!--) or a character reference (&amp;, &#39;)
 * Result: {"valid": true when no error finding, "channel": "...",
 * "findings": [{"severity": "error"|"warning", "code": "...", "message":
 * "...", "field": "..."}], "sms": omni_sms_segments of the rendered content
 * body (channel sms), "push": {"apnsBytes": N, "fcmBytes": N} (channel
 * push)}. Errors (as opposed to findings): OMNI_EINVAL (unknown channel,
 * NULL, bad option values, details {"path"}), OMNI_EJSON (options, or a
 * document that is not a JSON object), OMNI_EENCODING (a bare body that is
 * not UTF-8), OMNI_ETOOLARGE, OMNI_ENOMEM.
 */
OMNI_API int omni_template_validate(char **out, size_t *out_len, const char *template_json,
                                    size_t len, const char *channel, const char *options_json,
                                    size_t options_len);

/* ---- locale-aware formatting (the template helpers) --------------------- */

/*
 * Locales with built-in data: en, en-US, en-GB, en-IN, hi, hi-IN, kn, kn-IN.
 * A tag matches case-insensitively, with '-' or '_' ("kn_IN"): language and
 * region when built in, else the language, else en (so "en-AU" and "fr"
 * format as en). NULL or "" is en. A malformed tag (over 35 bytes, a
 * character outside [A-Za-z0-9_-], an empty subtag, a first subtag that is
 * not 2-3 letters) is OMNI_EINVAL.
 *
 * For the built-in locales the output is byte for byte what JavaScript's
 * Intl gives in node 20 (ICU 78, CLDR 48; tests/format_intl.js checks
 * ~30000 cases): Latin digits, '-' as minus sign, '.' as decimal separator,
 * ',' grouping by threes (en, en-US, en-GB, kn, kn-IN: 1,234,567.5; CLDR
 * gives Kannada Western grouping) or Indian 3;2 (en-IN, hi, hi-IN:
 * 12,34,567.5).
 *
 * All three return a string released with omni_free. Errors: OMNI_EINVAL
 * (NULL out, bad locale, bad arguments as listed), OMNI_ENOMEM.
 */

/* formatNumber: rounded half away from zero (Intl's "halfExpand") on the
 * shortest decimal that reads back as the double, as ICU does (1.005 with
 * two digits is "1.01", 2.675 is "2.68"); trailing zeros dropped down to
 * min_fraction. min/max fraction digits 0..20, or -1 for Intl's defaults
 * (min 0; max the larger of min and 3); min > max is OMNI_EINVAL. Negative
 * zero and negatives that round to zero keep the sign ("-0"); NaN gives
 * "NaN", the infinities "∞" and "-∞" (as Intl). */
OMNI_API int omni_format_number(char **out, size_t *out_len, double value, const char *locale,
                                int min_fraction, int max_fraction);

/* formatCurrency: `code` is an ISO 4217 code, three ASCII letters in any
 * case (OMNI_EINVAL otherwise); unknown codes are fine. Fraction digits as
 * Intl: 2, but 0 for JPY, KRW, IDR, HUF, PKR, VND, CLP, ISK, ... and 3 for
 * BHD, KWD, OMR, JOD, TND, LYD (CLDR data). The symbol comes
 * first, the minus sign before it: "₹12,34,567.89" (en-IN), "-$1,234.50".
 * Symbols: ₹ € £ ₩ ₪ ₫ A$ CA$ CN¥ HK$ MX$ NZ$ NT$ R$ EC$; USD "$" but "US$"
 * in en-GB; JPY "¥" in en and en-US, "JP¥" elsewhere; PHP "₱" in the en
 * locales; THB "฿" in hi and kn; XAF "FCFA", XOF "F CFA", XPF "CFPF" and
 * XCG "Cg." and any other currency as its code are followed by a no-break
 * space U+00A0 ("AED 1,234.50"). NaN gives "₹NaN", the
 * infinities "₹∞" and "-₹∞" (no space after a code there, as Intl). */
OMNI_API int omni_format_currency(char **out, size_t *out_len, double value, const char *code,
                                  const char *locale);

/*
 * formatDate: `rfc3339` as omni_time_parse reads it; `time_zone` an IANA
 * name read from the system zoneinfo ($TZDIR, else /usr/share/zoneinfo;
 * "UTC" is built in), NULL or "" for UTC; `pattern` a style or a pattern,
 * NULL or "" for "medium".
 *
 * Styles "short", "medium", "long", "full" equal Intl.DateTimeFormat(locale,
 * {dateStyle, timeZone}) (the date only): en "3/8/26", "Mar 8, 2026",
 * "March 8, 2026", "Sunday, March 8, 2026"; en-GB "08/03/2026", "8 Mar
 * 2026"; en-IN "08/03/26"; hi "8/3/26", "8 मार्च 2026", "रविवार, 8 मार्च
 * 2026"; kn "ಮಾರ್ಚ್ 8, 2026".
 *
 * Pattern tokens (a run of one letter; a letter or run length not listed is
 * OMNI_EINVAL; other characters are copied; 'text' in single quotes is
 * literal and '' is a quote), each equal to the Intl part named:
 *   y 2026 (year "numeric"), yy 26 ("2-digit"), yyyy 2026 (4 digits, 0999)
 *   M 3, MM 03, MMM short month (Mar; en-GB and en-IN "Sept"; जन॰; ಜನ),
 *   MMMM long month (March, मार्च, ಮಾರ್ಚ್) (month "short" / "long")
 *   d 8, dd 08
 *   E, EE, EEE short weekday (Sun, रवि, ಭಾನು), EEEE long (Sunday, रविवार)
 *   H HH hour 0-23, h hh hour 1-12, m mm minute, s ss second
 *   a day period of hourCycle h12: "AM"/"PM" (en, en-US, kn, kn-IN),
 *     "am"/"pm" (en-GB, en-IN, hi, hi-IN)
 *   z the offset as timeZoneName "shortOffset": "GMT+5:30", "GMT-4",
 *     "GMT+0", "GMT-4:56:02" (local mean time)
 * Example: "EEEE, d MMMM yyyy 'at' h:mm a z" -> "Sunday, 8 March 2026 at
 * 3:05 AM GMT-4". Patterns are at most 256 bytes.
 * Errors: OMNI_EINVAL (pattern, locale), OMNI_ETIME (not RFC 3339, or the
 * local date outside years 1..9999), OMNI_ETOOLARGE, OMNI_ENOTFOUND
 * (unknown time zone), OMNI_EENCODING (corrupt zone file).
 */
OMNI_API int omni_format_date(char **out, size_t *out_len, const char *rfc3339,
                              const char *pattern, const char *time_zone, const char *locale);

#ifdef __cplusplus
}
#endif

#endif
