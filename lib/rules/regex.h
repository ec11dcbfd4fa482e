/* Internal: a linear-time regular expression engine (Thompson NFA, no
 * backtracking) for the rule engine's `matches` operator. */
#ifndef OMNI_RULES_REGEX_H
#define OMNI_RULES_REGEX_H

#include <stddef.h>

/*
 * The engine answers two questions: does `pattern` match somewhere in
 * `text` (omni__regex_search), and where is the leftmost-longest match
 * (omni__regex_find)? There are no capture groups. A pattern is parsed,
 * compiled to a Thompson NFA program and run as a simulation that keeps the
 * set of live program states per text position, so a search takes
 * O(len(text) x program size) time and O(program size) memory whatever the
 * pattern; no construct can cause exponential (backtracking) behaviour.
 *
 * ---- Supported subset (everything else is refused at compile time) ------
 *
 * The pattern is UTF-8 (ill-formed UTF-8 is an error); it is matched one code
 * point at a time, never byte by byte.
 *
 *   x            a literal code point (any except the metacharacters below);
 *                `]` and `}` outside a class are literals
 *   .            any code point except \n (U+000A)
 *   [abc] [a-z]  a class: code points and ranges (bounds are code points, so
 *                [é-ü] works), `]` first and `-` first or last are literal;
 *                [^...] negated; \d \w \s \D \W \S may appear inside; a `[`
 *                inside a class must be escaped (\[); \b is refused there
 *   \d \D        ASCII digit [0-9] / anything else
 *   \w \W        ASCII word character [A-Za-z0-9_] / anything else
 *   \s \S        ASCII space [ \t\n\v\f\r] / anything else
 *   \t \n \r \f \v   the control characters
 *   \xHH         the code point U+00HH (two hex digits; not a raw byte)
 *   \x{H...}     the code point U+H... (1 to 6 hex digits, at most U+10FFFF)
 *   \. \\ \* ... a backslash before any ASCII punctuation or space is that
 *                literal character
 *   \b \B        ASCII word boundary / not a word boundary (word characters
 *                as for \w; the text's start and end count as non-word)
 *   ^ $          start / end of the whole text (no multiline mode; unlike
 *                Python and PCRE, $ does NOT match before a final \n)
 *   ( ) (?: )    groups (both only group: nothing is captured)
 *   a|b          alternation (empty branches allowed: `a|` matches "")
 *   * + ?        quantifiers, {n} {n,} {n,m} with n <= m <= 1000; each may be
 *                followed by `?` (lazy: same match/no-match answer); a
 *                quantifier may follow another (a{2}{3} = (?:a{2}){3})
 *   (?i)         case-insensitive matching, only as the very first 4 bytes
 *                (same as OMNI__REGEX_ICASE)
 *
 * Refused with OMNI_EINVAL and a message naming the construct and its byte
 * offset (for example: unsupported construct "(?=" at offset 3: lookaround
 * is not supported): backreferences (\1, (?P=name)), octal escapes (\0),
 * lookaround ((?= (?! (?<= (?<!), atomic groups (?>, possessive quantifiers
 * (*+ ++ ?+ }+), named groups ((?<n> (?P<n> (?'n'), comments (?#, inline
 * flags other than a leading (?i) (including (?i:...) and (?s) (?m) (?x)),
 * \p{..} \P{..} property classes, \A \Z \z \G \K \Q \E \u \U \N \c \a \e and
 * other letter escapes, POSIX classes / nested `[` in a class, a `{` that is
 * not a complete {n} {n,} {n,m} (write \{ for a literal brace), {,m},
 * reversed ranges ([z-a], {3,2}), a range bound that is a class ([a-\d]),
 * quantifiers with nothing to repeat (`*a`, `(|*)`, `^*`, `\b+`; quantify
 * an assertion by grouping it), unbalanced parentheses, unterminated
 * classes, a trailing backslash, and ill-formed UTF-8 in the pattern.
 *
 * ---- Case-insensitive matching (OMNI__REGEX_ICASE or a leading (?i)) ------
 *
 * Two code points match when their simple case foldings are equal (Unicode
 * CaseFolding.txt statuses C and S), folding only U+0000..U+017F: ASCII,
 * Latin-1 Supplement and Latin Extended-A (so (?i)é matches É, (?i)s
 * matches S and ſ U+017F, (?i)ÿ matches Ÿ U+0178, (?i)µ matches μ U+03BC).
 * Any other code point matches only itself (Greek, Cyrillic, U+1E9E ẞ,
 * U+212A KELVIN SIGN ...). ß, İ (U+0130), ı (U+0131) and ŉ have no simple
 * folding and match only themselves. Folding applies to literals and to the
 * characters and ranges of a class (before its negation: (?i)[^a] matches
 * neither a nor A); it does not change \d \w \s \D \W \S, `.`, \b or \B.
 * (Python's re.IGNORECASE also pairs i with İ/ı and k with K; this engine
 * does not.)
 *
 * ---- Text -------------------------------------------------------------------
 *
 * The text is any byte string of any length (NUL bytes included). Well-formed
 * UTF-8 sequences (RFC 3629) are single code points. Each byte that does not
 * start a well-formed sequence is one unit of its own that matches only `.`,
 * negated classes ([^...]) and \D \W \S; it never matches a literal or a
 * positive class, and it is not a word character for \b. So searching never
 * fails on ill-formed UTF-8, and a pattern made of literals only matches
 * exactly when its UTF-8 bytes occur in the text.
 *
 * ---- Limits ------------------------------------------------------------------
 *
 * - pattern: at most OMNI__REGEX_MAX_PATTERN (1024) bytes -> OMNI_ETOOLARGE;
 * - repetition counts at most 1000 -> OMNI_ETOOLARGE;
 * - compiled program at most OMNI__REGEX_MAX_PROGRAM (10,000) instructions
 *   -> OMNI_ETOOLARGE (counted repetition is expanded, so (?:a{100}){100}
 *   or a{1000}{1000} is refused);
 * - nesting (groups within groups plus quantifiers applied to quantified
 *   expressions) at most OMNI__REGEX_MAX_NEST (100) -> OMNI_ETOODEEP.
 *
 * Thread-safety: a compiled omni__regex is immutable; any number of threads
 * may search with the same one at once. Nothing is global.
 */

#define OMNI__REGEX_ICASE 1u

#define OMNI__REGEX_MAX_PATTERN 1024
#define OMNI__REGEX_MAX_PROGRAM 10000
#define OMNI__REGEX_MAX_REPEAT 1000
#define OMNI__REGEX_MAX_NEST 100

typedef struct omni__regex omni__regex;

/*
 * Compiles pattern[0..len) (not NUL-terminated; NUL bytes are literals; a
 * NULL pattern is allowed when len is 0) with `flags` (0 or
 * OMNI__REGEX_ICASE). On success stores a new regex in *out (release with
 * omni__regex_free) and returns OMNI_OK. On error *out is set to NULL, the
 * last error is set and the result is:
 *   OMNI_EINVAL     out NULL, pattern NULL with len > 0, unknown flag bits,
 *                   or a syntax error / unsupported construct (the message
 *                   names the construct and its byte offset);
 *   OMNI_ETOOLARGE  pattern, repetition count or program over its limit;
 *   OMNI_ETOODEEP   nesting over its limit;
 *   OMNI_ENOMEM     out of memory.
 */
int omni__regex_compile(omni__regex **out, const char *pattern, size_t len, unsigned flags);

/*
 * 1 when the regex matches somewhere in text[0..len) (unanchored unless the
 * pattern uses ^ / $), else 0. text may be NULL when len is 0. Runs in
 * O(len x program size) time without recursion; never fails on any bytes.
 * Errors (last error set): OMNI_EINVAL for a NULL regex or a NULL text with
 * len > 0; OMNI_ENOMEM when the search's scratch space (5 x 4 bytes per
 * program instruction; programs of at most 256 instructions use the stack
 * and never fail) cannot be allocated.
 */
int omni__regex_search(const omni__regex *re, const char *text, size_t len);

/*
 * Finds the leftmost-longest match at or after byte offset `from` of
 * text[0..len): among the matches that start at the smallest offset, the
 * longest (POSIX semantics: lazy quantifiers and the order of alternatives
 * do not change the span). Returns 1 with [*start, *end) set, 0 when there
 * is no match (the spans are left alone). `from` should be 0 or a unit
 * boundary (the end of an earlier match); ^ still matches only at offset
 * 0, and \b / \B at `from` look at the byte before it. A match may be
 * empty (*start == *end): to find the next one, a caller moves on by at
 * least one unit. Time O((len - from) x program size), no recursion.
 * Errors (last error set): OMNI_EINVAL (NULL regex, NULL text with len > 0,
 * NULL start or end, from > len), OMNI_ETOOLARGE (len of 4 GiB or more),
 * OMNI_ENOMEM (scratch of 7 x 4 bytes per instruction; programs of at most
 * 256 instructions use the stack and never fail).
 */
int omni__regex_find(const omni__regex *re, const char *text, size_t len, size_t from,
                     size_t *start, size_t *end);

/* Number of instructions of the compiled program (for tests and limits). */
size_t omni__regex_program_size(const omni__regex *re);

/* Releases a regex; NULL does nothing. */
void omni__regex_free(omni__regex *re);

#endif
