/* Internal: opt-out compliance keywords — classifying an inbound message as
 * STOP (opt out), START (opt back in), HELP or none, with per-account and
 * per-locale keyword lists.
 *
 * Default keywords (carrier practice: Twilio's default opt-out handling and
 * Advanced Opt-Out, CTIA; 47 CFR 64.1200(a)(12) names "stop", "quit",
 * "end", "revoke", "opt out", "cancel" and "unsubscribe"):
 *   STOP:  stop, stopall, unsubscribe, cancel, end, quit, revoke, optout,
 *          "opt out" (so also "opt-out"), arret (Canadian French);
 *   START: start, unstop, yes;
 *   HELP:  help, info;
 *   courtesy words: please pls plz thanks thank thankyou thx ty tq you now
 *          asap immediately all me text texts texting msg msgs message
 *          messages messaging sending sir maam madam.
 * Built-in locales (configurable like everything else; chosen as common
 * imperative forms, not an authority):
 *   "hi": STOP रोकें रोको बंद "बंद करें" "बंद करो" बन्द "बन्द करें" "बन्द करो"
 *         अनसब्सक्राइब "band karo" "band karein" "band karen"; START शुरू
 *         "शुरू करें" "चालू करें"; HELP मदद सहायता; courtesy कृपया धन्यवाद
 *         शुक्रिया मैसेज संदेश मुझे भेजना अब जी;
 *   "kn": STOP ನಿಲ್ಲಿಸಿ ನಿಲ್ಲಿಸು; START ಪ್ರಾರಂಭಿಸಿ ಆರಂಭಿಸಿ; HELP ಸಹಾಯ;
 *         courtesy ದಯವಿಟ್ಟು ಧನ್ಯವಾದ ಧನ್ಯವಾದಗಳು ಸಂದೇಶ ಈಗ.
 *
 * Normalization (applied alike to keywords and to message text):
 * - the text is cut into words at every character that is not a letter,
 *   digit or combining mark: ASCII punctuation and spaces, Latin-1
 *   punctuation and symbols (U+0080-U+00BF, × ÷), the Devanagari danda
 *   (। ॥), general punctuation and spaces (U+2000-U+206F), symbols,
 *   arrows, dingbats, emoji (U+2100-U+2BFF, U+1F000-U+1FBFF), CJK and
 *   fullwidth punctuation; so "opt-out" is the two words "opt out" and
 *   "don't" is "don t"; bytes that are not valid UTF-8 also cut words;
 * - ASCII letters are lower-cased; Latin letters with diacritics
 *   (U+00C0-U+017F) fold to their base letters (é -> e, Ö -> o, ß -> ss,
 *   æ -> ae, œ -> oe, ł -> l), fullwidth ASCII letters and digits to ASCII;
 *   combining diacritical marks (U+0300-U+036F), zero-width (non-)joiners,
 *   the word joiner, soft hyphen, BOM and variation selectors are dropped,
 *   so NFC and NFD spellings of Latin text match; other scripts are
 *   compared byte for byte (no case folding, no Unicode normalization);
 * - words are joined by one space.
 *
 * Matching rule. After normalization the message must be
 *     C* K X*
 * where K is a keyword of one class (one or more consecutive words equal to
 * the keyword's words), each C is a courtesy word, each X is a courtesy
 * word or a one-word keyword of the same class, and the C and X words
 * together number at most OMNI__OPTOUT_MAX_EXTRA_WORDS. The whole message
 * being a keyword is the special case with no C or X. So "STOP", "stop.",
 * "Stop!!!", "STOP ALL", "Stop. Thank you", "stop please", "Please stop
 * texting me", "opt-out", "Arrêt" are STOP; "Don't stop", "I will stop by
 * later", "stop by later", "please don't stop", "End of story", "Cancel my
 * order" and "stop start" are none. When several readings match, the one
 * with no extra words wins, then the longer keyword (in words), then STOP
 * before START before HELP. A message with no words is none.
 *
 * Configuration document (JSON, at most OMNI__OPTOUT_MAX_BYTES):
 *   {"stop": [...], "start": [...], "help": [...], "courtesy": [...],
 *    "locales": {"hi": {"stop": [...], "start": [...], "help": [...],
 *                       "courtesy": [...]}, ...}}
 * Every member is optional. A list that is present replaces the built-in
 * list (an empty list disables that class, or for "courtesy" allows only
 * exact matches); an absent one keeps the built-in list. "locales" adds to
 * or changes the built-in locales (hi, kn) member by member: a locale's
 * lists are used IN ADDITION to the top-level lists when a message is
 * classified with that locale. Locale names: 2..35 bytes of ASCII letters,
 * digits, '-' and '_', starting with a letter, compared case-insensitively
 * with '_' and '-' alike; at most OMNI__OPTOUT_MAX_LOCALES locales in all.
 * Keywords: strings of 1..OMNI__OPTOUT_MAX_KEYWORD_BYTES bytes with 1 to
 * OMNI__OPTOUT_MAX_KEYWORD_WORDS words after normalization (a courtesy entry
 * exactly one word); at most OMNI__OPTOUT_MAX_PER_CLASS per list. A keyword
 * repeated within a class is harmless; the same keyword in two classes of
 * the lists in effect for some locale (top-level plus that locale) is an
 * error.
 *
 * Thread-safety: a compiled omni__optout is immutable; any number of
 * threads may classify with it at once. Classification allocates nothing.
 */
#ifndef OMNI_RULES_OPTOUT_H
#define OMNI_RULES_OPTOUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni__optout omni__optout;

/* Classes returned by omni__optout_classify. */
enum {
    OMNI__OPTOUT_NONE = 0,
    OMNI__OPTOUT_STOP = 1,
    OMNI__OPTOUT_START = 2,
    OMNI__OPTOUT_HELP = 3
};

#define OMNI__OPTOUT_MAX_BYTES (256u * 1024u)  /* configuration document */
#define OMNI__OPTOUT_MAX_KEYWORD_BYTES 64      /* one keyword, as given */
#define OMNI__OPTOUT_MAX_KEYWORD_WORDS 8       /* one keyword, normalized */
#define OMNI__OPTOUT_MAX_PER_CLASS 200         /* entries of one list */
#define OMNI__OPTOUT_MAX_LOCALES 32            /* built-in and configured */
#define OMNI__OPTOUT_MAX_EXTRA_WORDS 5         /* courtesy words around K */

/*
 * Compiles a keyword configuration (json[0..len), no terminator needed)
 * into *out (NULL on error), released with omni__optout_free. "{}" gives
 * the built-in defaults.
 * Errors (last error set, message starting "optout: "):
 * - OMNI_EINVAL: NULL out or json; unknown or repeated member, wrong type,
 *   a list longer than OMNI__OPTOUT_MAX_PER_CLASS, a bad keyword or locale
 *   name, a keyword in two classes; the message names the JSON path, e.g.
 *   "optout: locales.hi.stop[2] is longer than 64 bytes",
 *   "optout: start[0] \"stop\" is also a stop keyword";
 * - OMNI_EJSON, OMNI_ETOODEEP, OMNI_ETOOLARGE (len > OMNI__OPTOUT_MAX_BYTES),
 *   OMNI_ENOMEM.
 */
int omni__optout_compile(omni__optout **out, const char *json, size_t len);

/*
 * The class of an inbound message text[0..len) (UTF-8; invalid bytes cut
 * words) under the matching rule above: OMNI__OPTOUT_NONE, _STOP, _START or
 * _HELP. `o` NULL uses the built-in defaults. `locale` (may be NULL: none)
 * adds that locale's lists: an exact match of the locale name ("hi-IN")
 * first, else its primary language subtag ("hi"); an unknown locale adds
 * nothing. text NULL counts as empty. Never fails, never allocates, does
 * not set the last error; time is linear in len.
 */
int omni__optout_classify(const omni__optout *o, const char *text, size_t len,
                          const char *locale);

/* Releases a configuration; NULL does nothing. */
void omni__optout_free(omni__optout *o);

/* Normalizes s[0..n) as described above into out[0..cap) (NUL-terminated
 * when cap > 0): returns the number of words, or -1 when the result does not
 * fit. For tests and for other components that want the same matching. */
int omni__optout_normalize(const char *s, size_t n, char *out, size_t cap);

#endif
