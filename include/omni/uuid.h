/*
 * libomni — UUIDs (RFC 9562): name-based version 5 for identifiers that a
 * retry must not duplicate, time-ordered version 7 for new records.
 *
 * Thread-safety: thread-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_UUID_H
#define OMNI_UUID_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

/* Buffer size for a UUID string: 36 characters plus NUL. */
#define OMNI_UUID_STRLEN 37
#define OMNI_UUID_MAX_NAME (64u * 1024u)

/* Well-known namespaces (RFC 9562 section 6.6). */
#define OMNI_UUID_NS_DNS "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define OMNI_UUID_NS_URL "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
#define OMNI_UUID_NS_OID "6ba7b812-9dad-11d1-80b4-00c04fd430c8"
#define OMNI_UUID_NS_X500 "6ba7b814-9dad-11d1-80b4-00c04fd430c8"

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case; also accepts
 * the "urn:uuid:" prefix and braces) into 16 bytes. Errors: OMNI_EINVAL. */
OMNI_API int omni_uuid_parse(uint8_t out[16], const char *text, size_t len);

/* Writes the canonical lower-case form of 16 bytes. Errors: OMNI_EINVAL
 * (NULL). */
OMNI_API int omni_uuid_format(char out[OMNI_UUID_STRLEN], const uint8_t uuid[16]);

/* UUIDv5: SHA-1 of namespace bytes + name. namespace_uuid is a UUID string
 * (e.g. OMNI_UUID_NS_DNS). Errors: OMNI_EINVAL, OMNI_ETOOLARGE. */
OMNI_API int omni_uuid5(char out[OMNI_UUID_STRLEN], const char *namespace_uuid, const char *name,
                        size_t name_len);

/* UUIDv7: 48-bit Unix millisecond timestamp from the engine's clock and 74
 * random bits from its random hook (NULL engine: system clock and OS
 * random). Within one engine the values are strictly increasing, also when
 * the clock stands still or steps back (RFC 9562 section 6.2, method 2: the
 * random part is incremented as a counter). Each call asks the random hook
 * for 10 bytes r[0..9], placed at UUID bytes 6..15 under the version and
 * variant bits: rand_a = (r[0] & 0x0F) << 8 | r[1], rand_b = (r[2] & 0x3F)
 * followed by r[3..9]. When the clock's millisecond is not after the
 * engine's previous UUIDv7, the previous value plus one (74-bit counter
 * rand_a:rand_b, carrying into the timestamp) is used instead. Times
 * before 1970 count as 0, beyond 48 bits as the largest timestamp.
 * Errors: OMNI_EINVAL (out NULL), OMNI_EHOOK or the status the random hook
 * returned, OMNI_ECRYPTO (OS random failed), OMNI_EINTERNAL (the engine
 * already issued the largest possible UUIDv7). */
OMNI_API int omni_uuid7(char out[OMNI_UUID_STRLEN], const omni_engine *engine);

#ifdef __cplusplus
}
#endif

#endif
