/*
 * libomni — content analysis of a message (seed 001's contentAnalyzer):
 * spam score with reasons, sentiment, intents, entities and language, by a
 * built-in analyzer that needs no network, and a hook through which a host
 * plugs in its own service (an ML model) in front of it.
 *
 *   omni_analyzer *a;
 *   omni_analyzer_compile(&a, NULL, 0);          // built-in defaults
 *   char *out; size_t n;
 *   omni_analyze(&out, &n, a, "{\"content\":\"I want a refund for order AB-123456\"}", 52);
 *   omni_free(out);
 *   omni_analyzer_free(a);
 *
 * ---- Request (JSON object, at most OMNI_ANALYZE_MAX_REQUEST bytes) -----------
 *   {"content": "...",              the text (at most OMNI_ANALYZE_MAX_CONTENT
 *                                   bytes of UTF-8); required
 *    "contentType": "text",         text|media|location|contact (default text;
 *                                   only text and media captions are analyzed)
 *    "language": "hi",              a hint (the customer's preference); used
 *                                   when detection is not confident
 *    "sender": "+14155550100"}      checked against the sender blocklist
 *
 * ---- Result (ContentAnalysis; seed field names plus details) -----------------
 *   {"spam": false, "spamScore": 0.15,           0..1; spam when >= threshold
 *    "spamReasons": ["shortened_link"],          see below
 *    "sentiment": "negative", "sentimentScore": -0.6,   -1..1
 *    "intent": ["billing", "cancel"],            configured order
 *    "entities": [{"type": "email"|"phone"|"url"|<pattern name>,
 *                  "value": "as written", "normalized": "...",
 *                  "start": 10, "end": 27}],     byte offsets in content
 *    "language": "en", "languageConfidence": 0.92}
 * Spam reasons (listed in this order): "blocked_sender" (the request's
 * sender, as E.164 when it reads as a phone number with defaultRegion, else
 * trimmed and ASCII lower-cased, is in spam.senders, normalized alike),
 * "blocked_phrase" (a spam.phrases entry, matched like intent keywords),
 * "shortened_link" (a link to a known URL shortener: bit.ly bitly.com
 * tinyurl.com t.co goo.gl ow.ly is.gd v.gd buff.ly rebrand.ly cutt.ly
 * shorturl.at tiny.cc rb.gy t.ly bl.ink s.id lnkd.in trib.al soo.gd clck.ru
 * x.co qr.ae adf.ly shorte.st bc.vc po.st tny.im u.to y2u.be, also "www."
 * before them), "suspicious_link" (a raw IPv4 or [IPv6] host, userinfo in
 * the URL ("https://bank.com@evil.example"), a punycode "xn--" label, a
 * risky top-level domain: zip mov xyz top click link work loan win bid gq
 * tk ml cf ga icu cam rest country kim men review stream download racing
 * date faith party science accountant cricket buzz fit), "repeated_characters"
 * (a character repeated 6+ times in a row; digits and spaces do not count),
 * "all_caps" (at least 10 ASCII letters outside links and addresses, over
 * 80% capitals), "excessive_links" (more than 3 links), "excessive_punctuation"
 * (a run of 4+ of '!' and '?', as "!!!!" or "?!?!"). Each reason adds its
 * weight; the score is capped at 1 and rounded to 2 decimals. Default
 * weights: blocked_sender 1, blocked_phrase 0.6, shortened_link 0.35,
 * suspicious_link 0.45, repeated_characters 0.15, all_caps 0.2,
 * excessive_links 0.3, excessive_punctuation 0.15; default threshold 0.5
 * ("spam" is true when the score is >= threshold and above 0). A reason
 * whose weight is 0 is still listed.
 * Sentiment: a lexicon per language (a built-in one for en of about 300
 * common words scored -3..+3, extended or replaced per account; other
 * languages' lexicons are configured). A word's value comes from the
 * lexicon of the detected language (or the adopted hint) when it has the
 * word, else from the en lexicon. An intensifier among the 2 words before
 * ("very", "really", "so", "extremely", "bahut", ...) multiplies it by 1.5,
 * a diminisher ("slightly", "somewhat", "barely", ...) by 0.5; a negator
 * among the 3 words before ("not", "no", "never", "without", the "t" of
 * "don't", "nahi", "नहीं", "ಇಲ್ಲ", ...) flips its sign unless another lexicon
 * word stands between them ("not good, very bad": bad stays negative).
 * score = clamp(sum / (3 x sqrt(k)), -1, 1) over the k lexicon words of the
 * text, rounded to 2 decimals; neutral within +-0.2 (inclusive).
 * Intents: keyword and phrase lists matched on whole words after
 * normalization (lower case, diacritics removed, punctuation as space: the
 * normalization of opt-out keywords), so "Réfund!" matches "refund" and
 * "refundable" does not; a phrase matches its words in a row ("charged...
 * twice" matches "charged twice"). Built-in, in this output order:
 * billing, cancel, support, sales, order_status, complaint, greeting,
 * human_agent (lists in lib/analyze/lexicon.c: refund, invoice, "charged
 * twice"; cancel, unsubscribe, "close my account"; help, "not working",
 * "doesn t work"; price, "how much", demo; tracking, "where is my order";
 * complaint, unacceptable, "not happy"; hello, namaste, नमस्ते, ನಮಸ್ಕಾರ,
 * "good morning"; agent, human, "real person", ...). Configured intents
 * replace a built-in's list in place or come after the built-ins in
 * configuration order; at most 64 intents in all.
 * Entities, in text order (the first OMNI_ANALYZE_MAX_ENTITIES): e-mail
 * addresses (normalized: lower case); phone numbers (7 to 15 digits in the
 * usual written forms with ' ', '-', '.', '(', ')' and a leading '+', not
 * inside a word, link or address, not a date such as 2024-01-15,
 * normalized to E.164 with defaultRegion, default "US"; what
 * omni_phone_to_e164 refuses is not a phone number); http(s) URLs, bare
 * "www." hosts and bare links to a known shortener ("bit.ly/x"), without
 * the sentence's trailing punctuation (normalized: scheme and host lower
 * case, "https://" before a bare host); named patterns of the
 * configuration (the regular expression subset of omni/rules.h, searched
 * leftmost-longest, empty matches skipped), "normalized" then the match
 * itself. Patterns may overlap the built-in kinds.
 * Language: "en", "hi", "kn" (the seeds' SUPPORTED_LOCALES) and "und".
 * When Devanagari, Kannada and other non-Latin letters outnumber Latin
 * ones, the script with the most letters wins (Devanagari -> hi, Kannada
 * -> kn, another -> und) with confidence 0.5 + 0.45 x its share of the
 * letters. Otherwise the common words decide: E English and H romanized
 * Hindi ("kya", "hai", "nahi", "mera", ...) word hits give en when E >= H,
 * else hi, with confidence |E - H| / (E + H) x (1 - exp(-max(E, H) / 2)) x
 * the Latin share of the letters; none: und with 0. Confidences are rounded
 * to 2 decimals. Below 0.5 the hint, when it is a language tag, is adopted
 * instead (its primary subtag in lower case) with confidence 0.5.
 * Only "text" and "media" content is analyzed; for "location" and "contact"
 * only the sender is checked and the rest is neutral ("und" or the hint).
 * Other request members are ignored; "language" and "sender" may be null.
 *
 * ---- Configuration (JSON object, at most OMNI_ANALYZE_MAX_CONFIG bytes) -----
 *   {"spam": {"threshold": 0.7, "phrases": ["free money"], "senders": ["+1..."],
 *             "shorteners": [...replaces the built-in list...],
 *             "weights": {"shortened_link": 0.4, ...}},
 *    "sentiment": {"lexicon": {"en": {"awesome": 3, "meh": -1}},  merged into
 *                  "replace": false},                             the built-in one
 *    "intents": {"billing": ["invoice", "charged twice"], ...},   replaces a
 *                  built-in intent's list or adds one; [] removes it
 *    "entities": {"order": "\\b[A-Z]{2}-\\d{6}\\b", "booking": "..."},
 *    "defaultRegion": "US"}
 * Every member is optional; unknown or repeated members are errors.
 * Limits: threshold and weights 0..1; keywords and phrases 1..128 bytes of
 * 1..8 words, at most 1000 per list (10000 senders, 256 bytes each);
 * lexicon keys are primary language subtags (2..8 letters), words single
 * words with values -5..5, at most 20000 words and 16 languages; intent and
 * entity names 1..64 bytes of ASCII letters, digits, '_', '-', '.' (not
 * email, phone, url); at most 32 patterns; shorteners are ASCII host names.
 *
 * Thread-safety: a compiled omni_analyzer is immutable; any number of
 * threads may analyze with it at once.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_ANALYZE_H
#define OMNI_ANALYZE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_analyzer omni_analyzer;

#define OMNI_ANALYZE_MAX_CONTENT (64u * 1024u)
#define OMNI_ANALYZE_MAX_REQUEST (256u * 1024u)
#define OMNI_ANALYZE_MAX_CONFIG (1024u * 1024u)
#define OMNI_ANALYZE_MAX_ENTITIES 64 /* more are dropped (in text order) */

/*
 * Compiles an analyzer configuration (NULL or 0 bytes: built-in defaults)
 * into *out, released with omni_analyzer_free.
 * Errors: OMNI_ECONFIG (a bad member; message and details {"path": ...}
 * name it, e.g. "entities.order: unsupported construct \"(?=\" at offset 3"),
 * OMNI_EINVAL (NULL out), OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ETOODEEP,
 * OMNI_ENOMEM.
 */
OMNI_API int omni_analyzer_compile(omni_analyzer **out, const char *config_json,
                                   size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_analyzer_free(omni_analyzer *analyzer);

/*
 * Analyzes one request (see above) with the built-in analyzer; `analyzer`
 * NULL uses the defaults. *out is the ContentAnalysis JSON (omni_free).
 * Errors: OMNI_EINVAL (NULL out / request, no "content" string, a member of
 * the wrong type), OMNI_EJSON, OMNI_ETOOLARGE (request or content over its
 * limit), OMNI_EENCODING (content not UTF-8), OMNI_ENOMEM.
 */
OMNI_API int omni_analyze(char **out, size_t *out_len, const omni_analyzer *analyzer,
                          const char *request_json, size_t len);

/* The same for a bare text (language hint and sender may be NULL). */
OMNI_API int omni_analyze_text(char **out, size_t *out_len, const omni_analyzer *analyzer,
                               const char *text, size_t len, const char *language_hint,
                               const char *sender);

/* ---- the analyzer hook ------------------------------------------------------- */

#define OMNI_ANALYZER_HOOK_VERSION 1u

/*
 * A host's analyzer (an ML service, a moderation API). Called by
 * omni_preroute after the built-in analysis with the request JSON and the
 * built-in result; it writes a JSON object to *out (allocated with
 * omni_malloc; the library frees it) whose members REPLACE the built-in
 * result's members of the same name (so it may answer only "sentiment" and
 * "sentimentScore"), or sets *out to NULL to keep the built-in result. The
 * merged result is validated: spam boolean, sentiment positive|neutral|
 * negative, intent an array of strings, entities an array of objects with
 * type and value, language a string; anything else fails the call with
 * OMNI_EHOOK and a message naming the member. Returning a negative status
 * fails the call (after omni_error_set() for the message), so a host that
 * wants to fall back to the built-in analysis on its own errors returns
 * OMNI_OK with *out NULL.
 */
typedef struct omni_analyzer_hook {
    unsigned version;
    void *ctx;
    int (*analyze)(void *ctx, const char *request_json, size_t request_len,
                   const char *builtin_json, size_t builtin_len, char **out, size_t *out_len);
} omni_analyzer_hook;

#define OMNI_ANALYZER_HOOK_INIT {OMNI_ANALYZER_HOOK_VERSION, NULL, NULL}
OMNI_API int omni_analyzer_hook_init(omni_analyzer_hook *hook, unsigned version);

#ifdef __cplusplus
}
#endif

#endif
