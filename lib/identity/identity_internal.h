/* Internal: the numbering table (phone_data.c), the parsed form of a phone
 * number (phone.c) and the identity helpers shared by normalize.c and
 * lookup.c. Carrier adapters and later components may use the omni__phone_*
 * and omni__identity_* functions declared here. */
#ifndef OMNI_IDENTITY_INTERNAL_H
#define OMNI_IDENTITY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <omni/omni.h>

/* ---- the numbering table (phone_data.c) --------------------------------- */

/* Bit n of a length mask: a national significant number (NSN) of n digits. */
#define OMNI__LEN(n) (1u << (n))
#define OMNI__LENS(a, b) ((2u << (b)) - (1u << (a)))

/* Region flags. */
#define OMNI__PH_NANP 0x01u      /* +1: NPA-NXX rules, trunk 1 */
#define OMNI__PH_NONGEO 0x02u    /* a non-geographic code (region "001") */
#define OMNI__PH_ZERO_NSN 0x04u  /* NSNs may begin with 0 although the trunk prefix is 0 */
/* Argentina: national "<area> 15 <number>" is "9 <area> <number>" */
#define OMNI__PH_AR_MOBILE 0x08u

/*
 * One region of the table (ISO 3166-1 alpha-2, or "001" for the
 * non-geographic codes). Rows are sorted by country calling code; the main
 * region of a code comes first and carries the code's facts (lengths,
 * rules); the other regions of a shared code only say which NSN prefixes
 * are theirs (`leading`).
 *
 * Patterns (trunk, idd, leading, rules) are alternatives separated by '|'
 * of digits, 'x' (any digit) and classes "[2-9]" / "[1247]".
 *   trunk    national (trunk) prefixes, tried longest first; "" none
 *   idd      international dialing prefixes of the region
 *   leading  NSN prefixes of a secondary region
 *   rules    main rows: "prefix=lengths;prefix=lengths;..." where lengths
 *            is "10" or "9-10" or "7,9-10"; the first rule whose prefix
 *            matches the NSN decides its allowed lengths; when no rule
 *            matches, the NSN is invalid. NULL: `lengths` applies to all.
 */
typedef struct omni__phone_region {
    char iso[4];
    uint16_t cc;
    uint16_t flags;
    uint32_t lengths; /* main rows: allowed NSN lengths (OMNI__LEN bits) */
    const char *trunk;
    const char *idd;
    const char *leading; /* secondary rows only */
    const char *rules;   /* main rows only; may be NULL */
    /* Local dialing: "PREFIX/N" — an N-digit number dialed locally is
     * PREFIX + the number (the Channel Islands' 6-digit numbers, the
     * Caribbean's 7-digit numbers, ...); NULL when none. */
    const char *local;
} omni__phone_region;

extern const omni__phone_region omni__phone_regions[];
extern const size_t omni__phone_region_count;

/* The main region of a country calling code, or NULL when the code is not
 * assigned (or not in use). */
const omni__phone_region *omni__phone_cc_main(unsigned cc);
/* A region by ISO code (case-insensitive, exactly two letters), or NULL. */
const omni__phone_region *omni__phone_region_find(const char *iso);
/* 1 when `s` (n digits) starts with one of the '|' alternatives of
 * `patterns`; *match_len receives the matched prefix length. Alternatives
 * are tried in the order written. */
int omni__phone_prefix_match(const char *patterns, const char *s, size_t n, size_t *match_len);

/* ---- parsed numbers (phone.c) ------------------------------------------- */

#define OMNI__PHONE_MAX_NSN 17
#define OMNI__PHONE_MAX_EXT 15

/* omni__phone_parse flags: the digits are international even without '+'
 * (a WhatsApp wa_id); the region need not be resolved (region is then the
 * main region of the code: saves the +1 area-code search on hot paths). */
#define OMNI__PHONE_INTERNATIONAL 0x01u
#define OMNI__PHONE_NO_REGION 0x02u

typedef struct omni__phone {
    unsigned cc;
    size_t nsn_len;
    char nsn[OMNI__PHONE_MAX_NSN + 1];
    char ext[OMNI__PHONE_MAX_EXT + 1]; /* "" when none */
    char e164[OMNI_E164_STRLEN];
    const omni__phone_region *region; /* resolved region (main region of cc when unsure) */
} omni__phone;

/* Parses raw input as omni_phone_to_e164 documents. Sets the last error on
 * failure (OMNI_EIDENTIFIER, OMNI_EINVAL for a bad region, OMNI_ETOOLARGE);
 * error messages never contain the number. */
int omni__phone_parse(omni__phone *out, const char *raw, size_t len, const char *default_region,
                      unsigned flags);

/* 1 when `nsn` is a valid national significant number for code `cc`. */
int omni__phone_nsn_valid(unsigned cc, const char *nsn, size_t n);

/* Splits an E.164 string ("+CC...") into code and NSN after checking it is
 * one (valid code, valid length). OMNI_OK or OMNI_EIDENTIFIER (last error
 * set). */
int omni__phone_split_e164(const char *e164, size_t len, unsigned *cc, const char **nsn,
                           size_t *nsn_len);

/* ---- identifiers (normalize.c) ------------------------------------------ */

/* Longest normalized identifier ("lc:" + a 256-byte session id, ...). */
#define OMNI__IDENTIFIER_MAX 300
/* Longest userId / sessionId accepted. */
#define OMNI__IDENTIFIER_ID_MAX 256

/* The sender's fields (NULL when absent; not NUL-terminated). */
typedef struct omni__sender {
    const char *phone;
    size_t phone_len;
    const char *user_id;
    size_t user_id_len;
    const char *session_id;
    size_t session_id_len;
} omni__sender;

/* Seed 001's normalizeIdentifier into out (cap >= OMNI__IDENTIFIER_MAX + 1):
 * twilio, bandwidth, inteliquent -> E.164; whatsapp -> "wa:+E164" (or
 * "wa:id:<userId>" for a sender without a phone number); livechat ->
 * "lc:<sessionId>"; messagebird -> userId, else E.164. Sets the last error:
 * OMNI_ECARRIER, OMNI_EIDENTIFIER, OMNI_EINVAL. */
int omni__identity_normalize(char *out, size_t cap, const char *carrier, size_t carrier_len,
                             const omni__sender *sender, const char *default_region);

/* The identity-index key of a normalized identifier: phone identifiers
 * ("+E164", "wa:+E164") with the Brazilian ninth-digit equivalence when
 * `br_ninth` is set; other identifiers unchanged. OMNI_OK, OMNI_EINVAL
 * (small buffer) or OMNI_EIDENTIFIER. */
int omni__identity_key(char *out, size_t cap, const char *identifier, size_t len, int br_ninth);

/* Normalizes what a host passes to link / unlink: "+..." and "wa:..."
 * phone identifiers are parsed (any written form) into their canonical
 * form; "lc:<id>" and plain ids are checked. OMNI_OK or OMNI_EIDENTIFIER. */
int omni__identity_canonical(char *out, size_t cap, const char *identifier);


#endif
