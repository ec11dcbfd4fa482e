/*
 * libomni — phone numbers (E.164), identifier normalization and identity
 * lookup (seed 001's workFlowIdentityLookup).
 *
 * Thread-safety: the phone and normalization functions are pure and
 * thread-safe; the identity functions are as thread-safe as the engine's
 * store (the bundled ones are), and every write goes through
 * compare-and-swap, so concurrent hosts never duplicate a customer.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_IDENTITY_H
#define OMNI_IDENTITY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

/* ---- phone numbers ------------------------------------------------------ */

/* Buffer size for an E.164 string: '+' and at most 15 digits, plus NUL. */
#define OMNI_E164_STRLEN 17
#define OMNI_PHONE_MAX_INPUT 256

/*
 * Normalizes a phone number as written by people and carriers into E.164
 * ("+4915123456789"), agreeing with Google libphonenumber's E.164 format for
 * real-world input: spaces, dashes, dots, parentheses; a leading '+';
 * international dialing prefixes (00, 011 and the country-specific ones of
 * default_region); trunk prefixes (0 in GB, DE, FR, IN, AU, ...; Italy keeps
 * its leading 0); NANP; "tel:", "whatsapp:" and "wa:" prefixes; WhatsApp
 * wa_id digits without '+'; extensions ("x123", "ext. 123", ";ext=123") are
 * stripped (see omni_phone_parse to get them). default_region is an ISO
 * 3166-1 alpha-2 code ("US", "IN") used for numbers without a country code;
 * it may be NULL (or "") when the input is international.
 *
 * How the digits are read: after '+' (or "whatsapp:" / "wa:") they begin
 * with the country code; without '+' and without a default region they are
 * international too (a wa_id, or "00" / "011" + country code); with a
 * default region, the region's international prefixes ("00", "011",
 * "0011", "810", carrier-selection forms) come first, then a national
 * number (its trunk prefix removed: "0", "8", "06", "1", ...; a local
 * number of a one-area region gets its area code: the Channel Islands'
 * 6-digit, the Caribbean's 7-digit numbers), then "00" + code when the
 * region uses another prefix. Argentina's national mobile form
 * "0 11 15 ..." becomes +54 9 11 ...; Mexico's "01"/"044"/"045" and
 * "+52 1" are removed. The national significant number must have a length
 * (and leading digits) in use in its country; a number only dialable
 * locally (a US 7-digit number) is refused. Letters (vanity numbers) are
 * refused. Unassigned and unused codes (+379, +991) are refused.
 * The table covers every ITU-T E.164 country code in use (numbering plans
 * as published by the regulators); tests/identity/phone_oracle.py checks it
 * against libphonenumber.
 * A result always reads back as itself (after a country code, digits that
 * are already a valid number are kept). Extensions have 1 to 15 digits.
 * Errors: OMNI_EIDENTIFIER (unusable input: letters, too short or long for
 * the country, unknown country code, invalid UTF-8, a NUL byte),
 * OMNI_EINVAL (NULL, small buffer, unknown region), OMNI_ETOOLARGE (over
 * OMNI_PHONE_MAX_INPUT). Messages never contain the number.
 */
OMNI_API int omni_phone_to_e164(char *out, size_t out_cap, const char *raw, size_t len,
                                const char *default_region);

/* The same, as JSON: {"input","e164","countryCode":N,"region":"DE",
 * "nationalNumber":"15123456789","extension"?:"123"}. "region" is the
 * region the number belongs to (inside shared codes too: +1 area codes,
 * +7 RU/KZ, +44 GB/GG/IM/JE, ...), "001" for the non-geographic codes
 * (+800, +870, +882, ...). *out is released with omni_free. */
OMNI_API int omni_phone_parse(char **out, size_t *out_len, const char *raw, size_t len,
                              const char *default_region);

/* Flags of omni_phone_identity_key. */
#define OMNI_PHONE_BR_NINTH_DIGIT 1u

/* The form used to match identities: the E.164 number itself, except that
 * with OMNI_PHONE_BR_NINTH_DIGIT a Brazilian mobile number is written with
 * its ninth digit (+55 DD 9XXXX-XXXX), so +55 DD XXXX-XXXX (the old
 * 8-digit form still sent by some carriers) resolves to the same identity.
 * A Brazilian number is taken as a mobile in the old form when its eight
 * subscriber digits begin with 6, 7, 8 or 9 (fixed lines begin with 2-5).
 * e164 must be an E.164 string (as omni_phone_to_e164 writes it).
 * Errors: OMNI_EINVAL (NULL, small buffer, unknown flags),
 * OMNI_EIDENTIFIER (not a valid E.164 number). */
OMNI_API int omni_phone_identity_key(char *out, size_t out_cap, const char *e164,
                                     unsigned flags);

/* ---- identifiers --------------------------------------------------------- */

/*
 * Seed 001's normalizeIdentifier: twilio, bandwidth, inteliquent -> E.164;
 * whatsapp -> "wa:+E164" (a wa_id without '+' is international; a sender
 * with a userId but no phone number, as WhatsApp usernames will send,
 * -> "wa:id:<userId>"); livechat -> "lc:<sessionId>"; messagebird ->
 * userId, else E.164. Phone numbers are read as omni_phone_to_e164 does
 * ("whatsapp:+..." from Twilio gives the plain E.164, as the seed says).
 * sender_json is the event's senderIdentifier object {phoneNumber?,
 * userId?, sessionId?, email?} (at most 64 KiB); userId and sessionId are
 * 1..256 bytes without control characters. *out is released with
 * omni_free. Errors: OMNI_ECARRIER (not one of the six carriers),
 * OMNI_EIDENTIFIER (missing or unusable identifier, senderIdentifier not
 * an object), OMNI_EJSON, OMNI_EINVAL (NULL, unknown region).
 */
OMNI_API int omni_identity_normalize(char **out, size_t *out_len, const char *carrier,
                                     const char *sender_json, size_t sender_len,
                                     const char *default_region);

/* ---- customers, identity index, routing (through the engine's store) ---- */

/*
 * Store layout (namespaces of the engine's store):
 *   "routing"   recipient key -> routing document
 *   "customer"  customerId -> customer record
 *   "identity"  identity key -> {"customerId","identifier","linkedAt"}
 * The identity key of a normalized identifier is the identifier itself,
 * with omni_phone_identity_key(OMNI_PHONE_BR_NINTH_DIGIT) applied to phone
 * identifiers ("+E164" and "wa:+E164"). Every write is a compare-and-swap;
 * records that are created are created only-if-absent, so two hosts
 * creating the same new customer at once end with one record.
 *
 * Derived ids (UUIDv5, RFC 9562) in libomni's namespace
 * OMNI_IDENTITY_NAMESPACE, which is itself UUIDv5(URL namespace,
 * "urn:libomni:identity"):
 *   anonymous customerId = UUIDv5(OMNI_IDENTITY_NAMESPACE, identity key)
 *   new customerId       = UUIDv5(OMNI_IDENTITY_NAMESPACE,
 *                                 "customer:" + identity key)
 */
#define OMNI_IDENTITY_NAMESPACE "ca92a1e2-b2fd-54d1-bf49-15373b45d00d"
/* The same string, for callers that cannot see macros. */
OMNI_API const char *omni_identity_namespace(void);

/*
 * Routing: a recipient -> {"accountId","businessUnitId","tenantId",
 * "createCustomers": bool (unknown senders get a new customer record
 * instead of an anonymous id), "defaultRegion": "US"}. Recipient keys:
 * an E.164 number ('+' and any written form; stored as E.164),
 * "shortcode:<3-15 digits>", "mss:<MessagingServiceSid>", "waba:<WhatsApp
 * phone-number id or business id>", "business:<id>" (ids: 1..128 of
 * [A-Za-z0-9._:@+-]). accountId is required (1..128 of those characters);
 * businessUnitId and tenantId are strings of at most 128 bytes; other
 * members are kept as they are. set creates or replaces (by CAS); get
 * returns the stored document (*out released with omni_free); delete
 * removes it. Errors: OMNI_EINVAL (key or document), OMNI_EJSON,
 * OMNI_ETOOLARGE (over 64 KiB), OMNI_ENOTFOUND (get, delete),
 * OMNI_ESTORAGE (retryable), OMNI_ECONFLICT (set: the record kept changing
 * under concurrent writers).
 */
OMNI_API int omni_routing_set(omni_engine *engine, const char *recipient_key,
                              const char *routing_json, size_t len);
OMNI_API int omni_routing_get(char **out, size_t *out_len, omni_engine *engine,
                              const char *recipient_key);
OMNI_API int omni_routing_delete(omni_engine *engine, const char *recipient_key);

/*
 * Customers: {"customerId"?, "profile": {firstName, lastName, email,
 * phoneNumbers, tags, createdAt, lastContactAt}, "preferences":
 * {preferredChannel, language, timezone, optOutStatus, marketingConsent}}.
 * put creates (a customerId is made when absent: a UUIDv7 from the
 * engine's clock and random hooks) or replaces (by CAS); *out receives the
 * stored record. customerId: 1..128 of [A-Za-z0-9._:@+-]; profile and
 * preferences must be objects when present; other members are kept.
 * Records are at most 1 MiB. get: *out is the stored record;
 * OMNI_EIDENTITY when there is none. Errors: OMNI_EINVAL, OMNI_EJSON,
 * OMNI_ETOOLARGE, OMNI_EIDENTITY (get), OMNI_ESTORAGE, OMNI_ECONFLICT.
 */
OMNI_API int omni_customer_put(char **out, size_t *out_len, omni_engine *engine,
                               const char *customer_json, size_t len);
OMNI_API int omni_customer_get(char **out, size_t *out_len, omni_engine *engine,
                               const char *customer_id);

/* Links a normalized identifier ("+14155550100", "wa:+14155550100",
 * "lc:S123", a MessageBird userId) to a customer; one customer may own
 * many identifiers, an identifier belongs to one customer (OMNI_EEXISTS
 * when linked to another; linking it again to the same customer is OMNI_OK).
 * Phone identifiers may be written in any form with '+' ("wa:" + a wa_id
 * too) and are stored under their identity key, so a Brazilian mobile
 * linked in one form is found in the other. The customer must exist
 * (OMNI_EIDENTITY otherwise). Unlink removes the link (OMNI_ENOTFOUND when
 * absent). Errors also: OMNI_EINVAL, OMNI_EIDENTIFIER, OMNI_ESTORAGE. */
OMNI_API int omni_identity_link(omni_engine *engine, const char *customer_id,
                                const char *identifier);
OMNI_API int omni_identity_unlink(omni_engine *engine, const char *identifier);

/*
 * Identity lookup: an IdentityLookupEvent (JSON) -> IdentityLookupResult
 * {success, correlationId, identity {customerId, customerType
 * known|anonymous|new, profile?, preferences?, conversationHistory?},
 * routing {accountId, businessUnitId, tenantId}, enrichedMessage,
 * nextStep: "workFlowBiDirectional"}. Unknown senders get a deterministic
 * anonymous id (a UUIDv5 of the normalized identifier: the same sender
 * always gets the same id), or a new customer record when the routing says
 * createCustomers. options_json (may be NULL): {"defaultRegion": "US",
 * "brazilNinthDigit": true} (unknown options are OMNI_EINVAL).
 *
 * Steps: (1) routing from the recipient: recipientIdentifier.phoneNumber
 * (E.164 key), shortCode ("shortcode:"), businessId ("waba:" for
 * whatsapp, else "business:"), rawPayload.MessagingServiceSid ("mss:"),
 * rawPayload.entry[0].id of a WhatsApp webhook ("waba:"); the first one
 * configured wins. (2) The sender's normalized identifier
 * (omni_identity_normalize; default region: the option, else the routing's
 * "defaultRegion") and its identity key ("brazilNinthDigit": false keeps
 * the 8-digit Brazilian form apart; link and unlink always apply it).
 * (3) The identity index: a linked sender is "known" (its record's profile
 * and preferences are returned); an unknown one is "anonymous", or with
 * createCustomers "new": its record (deterministic id, create-only) and
 * index entry are created, so retries and concurrent lookups never
 * duplicate it. enrichedMessage is the event's message with "carrier",
 * "channelType" (the event's, when it has one), "normalizedSender",
 * "language" (the customer's preferences.language, when set) and
 * "receivedAt" (the engine's clock) added, as the conversation step reads
 * them.
 * conversationHistory is not filled yet (it comes with the conversation
 * store). The customer record is not written on known lookups (no
 * lastContactAt update). The event may carry the members of
 * omni_inbound_handle's message events ("kind": "message", "media", ...);
 * a "kind" other than "message" is OMNI_EINVAL.
 *
 * Errors: OMNI_EJSON / OMNI_EINVAL / OMNI_ETOOLARGE (event: not an object;
 * correlationId, carrier, senderIdentifier or message missing),
 * OMNI_EIDENTIFIER (not retryable), OMNI_ECARRIER (an unknown carrier),
 * OMNI_EROUTING (no routing for the recipient; retryable: it can be
 * configured), OMNI_ESTORAGE ("DATABASE_ERROR", retryable; also a store
 * hook that fails with another code). IDENTITY_NOT_FOUND is not an error:
 * it is answered with an anonymous identity. Routing is resolved first, so
 * a message whose recipient has no routing reports OMNI_EROUTING.
 */
OMNI_API int omni_identity_lookup(char **out, size_t *out_len, omni_engine *engine,
                                  const char *event_json, size_t len, const char *options_json,
                                  size_t options_len);

#ifdef __cplusplus
}
#endif

#endif
