/*
 * libomni — push notifications (seed 001's pushNotification, seed 002's push
 * system, seed 000's push-notification-handler).
 *
 * This header grows with issue 8. Present so far:
 *  - Web Push message encryption (RFC 8291 over the aes128gcm content coding
 *    of RFC 8188) and VAPID (RFC 8292), pure functions;
 *  - the device registry (seed 002 DeviceTokens {userId, deviceToken,
 *    platform} with a platform index; seed 000's PUT device-token) over the
 *    engine's store.
 * The platform adapters (FCM HTTP v1, APNs, Web Push requests), the
 * pushNotification step and the asynchronous transport follow.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_PUSH_H
#define OMNI_PUSH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

/* ---- Web Push message encryption (RFC 8291, RFC 8188) ---------------------------- */

#define OMNI_WEBPUSH_PUBLIC_KEY_LEN 65 /* uncompressed P-256 point 0x04 || X || Y */
#define OMNI_WEBPUSH_PRIVATE_KEY_LEN 32
#define OMNI_WEBPUSH_AUTH_SECRET_LEN 16
#define OMNI_WEBPUSH_SALT_LEN 16
/* The largest plaintext one message may carry: RFC 8291 section 4 lets a
 * push service refuse records over 4096 bytes; one record holds
 * 4096 - 16 (tag) - 1 (delimiter) - 86 (header) = 3993 bytes. */
#define OMNI_WEBPUSH_MAX_PLAINTEXT 3993u

/*
 * Encrypts a push message for one subscription (RFC 8291 section 3): ECDH
 * between an application server key pair and the user agent's public key
 * (ua_public, the subscription's "p256dh"), HKDF-SHA-256 with the
 * subscription's auth_secret ("auth") into the input keying material, then
 * the aes128gcm content coding (RFC 8188 section 2) with one record whose
 * padding delimiter is 0x02. *out is the whole HTTP body: the header
 * (salt, record size, keyid = the application server's public key) and the
 * record; release it with omni_free().
 *
 * salt (16 bytes) and as_private (the application server's 32-byte private
 * key) may be NULL: then a fresh random salt and a fresh key pair are used,
 * as RFC 8291 requires for every message; passing them reproduces RFC
 * 8291's worked example (Appendix A) byte for byte. record_size 0 means
 * 4096; otherwise 18..2^31-1 and large enough for the plaintext in one
 * record (plaintext_len + 17 <= record_size, else OMNI_ETOOLARGE).
 * Limits: plaintext at most OMNI_WEBPUSH_MAX_PLAINTEXT bytes when
 * record_size is 0 or 4096, else record_size - 17.
 * Errors: OMNI_EINVAL (NULL, a bad record size), OMNI_EKEY (ua_public not a
 * point on P-256, as_private not a valid scalar), OMNI_ETOOLARGE,
 * OMNI_ECRYPTO, OMNI_ENOMEM.
 * Thread-safety: reentrant.
 */
OMNI_API int omni_webpush_encrypt(uint8_t **out, size_t *out_len, const uint8_t *plaintext,
                                  size_t plaintext_len,
                                  const uint8_t ua_public[OMNI_WEBPUSH_PUBLIC_KEY_LEN],
                                  const uint8_t auth_secret[OMNI_WEBPUSH_AUTH_SECRET_LEN],
                                  const uint8_t *salt, const uint8_t *as_private,
                                  uint32_t record_size);

/*
 * The user agent's side (RFC 8291 section 3.4, RFC 8188 section 2):
 * decrypts an aes128gcm body with the subscription's private key and auth
 * secret; for tests and for hosts that receive pushes. Every record is
 * checked (tag, padding delimiter 0x01 before the last record and 0x02 in
 * it, no record after the last); *out is the plaintext (omni_free()).
 * body_len at most 1 MiB. Errors: OMNI_EINVAL, OMNI_EENCODING (a malformed
 * header or record, a keyid that is not a P-256 point), OMNI_ESIGNATURE
 * (a record does not authenticate), OMNI_EKEY, OMNI_ETOOLARGE,
 * OMNI_ENOMEM.
 */
OMNI_API int omni_webpush_decrypt(uint8_t **out, size_t *out_len, const uint8_t *body,
                                  size_t body_len,
                                  const uint8_t ua_private[OMNI_WEBPUSH_PRIVATE_KEY_LEN],
                                  const uint8_t auth_secret[OMNI_WEBPUSH_AUTH_SECRET_LEN]);

/* A new P-256 key pair from the engine's random hook (NULL engine: OS
 * random): a VAPID application server key or a test subscription. */
OMNI_API int omni_webpush_keypair(uint8_t public_key[OMNI_WEBPUSH_PUBLIC_KEY_LEN],
                                  uint8_t private_key[OMNI_WEBPUSH_PRIVATE_KEY_LEN],
                                  const omni_engine *engine);

/*
 * The VAPID Authorization header value (RFC 8292 section 3): "vapid t=<JWT>,
 * k=<base64url public key>" where the JWT is ES256 with {"aud": the origin
 * of endpoint (scheme://host[:port]), "exp": now + expires_s, "sub":
 * subject}. subject is a "mailto:" or "https:" URI (RFC 8292 section 2.1);
 * expires_s 1..86400 (at most 24 h, section 2); private_key is the 32-byte
 * P-256 private key (its public key is derived). *out is NUL-terminated
 * (omni_free()). Errors: OMNI_EINVAL (endpoint not an https URL — or http
 * to a loopback host, for tests —, subject, expires_s), OMNI_EKEY,
 * OMNI_ECRYPTO, OMNI_ENOMEM.
 */
OMNI_API int omni_webpush_vapid(char **out, size_t *out_len, const char *endpoint,
                                const char *subject,
                                const uint8_t private_key[OMNI_WEBPUSH_PRIVATE_KEY_LEN],
                                int64_t now_ms, uint32_t expires_s);

/* ---- device registry ----------------------------------------------------------- */

/*
 * A device: {"userId": 1..128 of [A-Za-z0-9._:@+-], "deviceToken": 1..4096
 * bytes (an APNs token, an FCM registration token, or for "web" the
 * subscription's endpoint URL), "platform": "ios"|"android"|"web",
 * "subscription"? (web: {"endpoint", "keys": {"p256dh", "auth"}} as the
 * browser's PushSubscription.toJSON() gives it; required for web, its
 * endpoint must equal deviceToken), "appId"?, "locale"?, "timezone"?
 * (IANA), "metadata"? (object)}. Stored records add "registeredAt",
 * "updatedAt" (RFC 3339).
 * Validation: deviceToken is printable ASCII; for "ios" hex of an even
 * length; for "web" an https URL (no user info). subscription (web only)
 * has only "endpoint", "expirationTime"? (null or a number) and "keys"
 * {"p256dh": base64url of an uncompressed P-256 point (65 bytes, 0x04
 * first, on the curve), "auth": base64url of 16 bytes}. appId is 1..256
 * bytes without control characters, locale 1..35 of [A-Za-z0-9_-],
 * timezone a well-formed zone name. Unknown or repeated members and
 * \u0000 in strings are refused; "registeredAt" / "updatedAt" in the
 * input are ignored (a stored record registers again as it is); null
 * optional members are absent.
 *
 * Store layout (namespaces of the engine's store): "device"
 * "<platform>/<token id>" -> the record; "device_user"
 * "<userId>/<platform>/<token id>" -> {} (the per-user index). The token id
 * is the token when it is at most 200 bytes of [A-Za-z0-9._:-] not
 * beginning with "h:", else "h:" + hex SHA-256 of the token. Writes are
 * ordered so that a crash leaves at most a stale index entry, which
 * listing skips and deletes.
 *
 * Change events, as the conversation ones (omni/conversation.h):
 *   {"source": "omni.push", "detailType": "<type>", "detail": {...}}
 *   device.registered   {userId, platform, deviceToken, registeredAt}
 *   device.updated      {userId, platform, deviceToken, updatedAt}
 *   device.moved        {userId, previousUserId, platform, deviceToken,
 *                        updatedAt}
 *   device.unregistered {userId, platform, deviceToken, removedAt}
 *   device.invalidated  {userId, platform, deviceToken, reason, removedAt}
 *
 * register: creates the device or refreshes it. A token is registered to
 * one user at a time: registering it for another user moves it (the old
 * user's index entry goes; never a duplicate). *out is {"device": <record>,
 * "created": bool, "events": [...]} with events "device.registered",
 * "device.updated" or "device.moved" ({"previousUserId"}).
 * Errors: OMNI_EJSON, OMNI_EINVAL (a member missing or malformed; the
 * message names it), OMNI_ETOOLARGE (over 64 KiB), OMNI_ECONFLICT
 * (retryable, after bounded compare-and-swap retries), OMNI_ESTORAGE,
 * OMNI_ENOMEM.
 */
OMNI_API int omni_device_register(char **out, size_t *out_len, omni_engine *engine,
                                  const char *device_json, size_t len);

/* The device record of (platform, token). Errors: OMNI_EINVAL (a platform
 * or token that register would refuse), OMNI_ENOTFOUND, OMNI_ESTORAGE,
 * OMNI_ENOMEM. */
OMNI_API int omni_device_get(char **out, size_t *out_len, omni_engine *engine,
                             const char *platform, const char *device_token);

/*
 * Removes a device. reason is NULL for an unregistration by the user or
 * host (event "device.unregistered"), or the provider's reason when a send
 * found the token invalid ("Unregistered", "BadDeviceToken", "UNREGISTERED",
 * "410 Gone", ...: event "device.invalidated" with {"reason"}), so hosts can
 * act on it; reason is 1..256 bytes of UTF-8 without control characters.
 * *out is {"device": <the removed record>, "events": [...]}.
 * Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ECONFLICT, OMNI_ESTORAGE,
 * OMNI_ENOMEM.
 */
OMNI_API int omni_device_remove(char **out, size_t *out_len, omni_engine *engine,
                                const char *platform, const char *device_token,
                                const char *reason);

/*
 * A user's devices (user_id) or a platform's devices (platform), one page:
 * exactly one of user_id and platform is given. query_json (may be NULL):
 * {"limit": 1..1000 (default 100), "cursor", "platform"? (with user_id:
 * only that platform)}, at most 4 KiB. *out is {"items": [device records],
 * "next": cursor|null}; a user's page may hold fewer items than the limit
 * (stale index entries are skipped) with "next" set: go on until it is
 * null. Errors: OMNI_EINVAL (also a cursor of another listing), OMNI_EJSON,
 * OMNI_ETOOLARGE, OMNI_ESTORAGE, OMNI_ENOMEM.
 */
OMNI_API int omni_device_list(char **out, size_t *out_len, omni_engine *engine,
                              const char *user_id, const char *platform, const char *query_json,
                              size_t len);

#ifdef __cplusplus
}
#endif

#endif
