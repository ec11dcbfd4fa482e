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

/* ---- platform adapters (sans-I/O): FCM HTTP v1, APNs, Web Push ---------------------- */

/*
 * A compiled push configuration (JSON object, at most OMNI_LIMIT_CONFIG_BYTES),
 * one member per platform that is used:
 *   "apns":    {"teamId": 10 chars, "keyId": 10 chars, "privateKey": SECRET (the .p8
 *               PEM text), "topic": "com.example.app" (the bundle id; the default
 *               apns-topic), "environment"?: "production" (api.push.apple.com) |
 *               "sandbox" (api.sandbox.push.apple.com), "baseUrl"?: URL (tests)}
 *   "fcm":     {"serviceAccount": SECRET (the service-account JSON text or object:
 *               project_id, client_email, private_key, token_uri), "projectId"?
 *               (default: its project_id), "baseUrl"?: "https://fcm.googleapis.com",
 *               "tokenUrl"?: (default: its token_uri)}
 *   "webpush": {"vapidPrivateKey": SECRET (base64url of the 32-byte P-256 key),
 *               "subject": "mailto:..." | "https://...", "vapidExpiresSeconds"?: 43200}
 * SECRET is a string or {"env": "NAME"} as in omni/outbound.h; secrets never
 * appear in errors, results or logs.
 *
 * Credentials are cached in the compiled object and shared by every send
 * (hence it is mutable, guarded by a mutex: thread-safe):
 *  - APNs: the ES256 provider token (kid, iss = teamId, iat) is reused and
 *    replaced once it is 20 minutes old (Apple accepts it for an hour and
 *    answers TooManyProviderTokenUpdates to refreshes more often than every
 *    20 minutes); a response ExpiredProviderToken discards it, so the next
 *    build signs a new one (never twice within a minute);
 *  - FCM: an OAuth 2.0 access token from the token endpoint, obtained with a
 *    signed RS256 assertion (RFC 7523: iss = client_email, scope
 *    https://www.googleapis.com/auth/firebase.messaging, aud = token_uri,
 *    iat, exp = iat + 3600) through omni_push_token_request /
 *    omni_push_token_response; token_request asks for a new one from 5
 *    minutes before the cached one expires, and builds use the cached one
 *    until it expires (then OMNI_EEXPIRED).
 *
 * The message of one device (JSON, at most 64 KiB):
 *   {"platform": "ios"|"android"|"web",
 *    "token"?: the APNs device token (hex) | the FCM registration token,
 *    "subscription"?: web: {"endpoint", "keys": {"p256dh", "auth"}},
 *    "topic"? | "condition"?: FCM targets instead of a token,
 *    "payload": {"title", "body", "subtitle"?, "data"?: {...}, "image"?,
 *                "sound"?, "badge"?, "category"?, "threadId"?, "clickAction"?,
 *                "actions"?: [{"id", "title", "url"?}]}      (seed 001's payload)
 *    "options"?: {"priority": "low"|"normal"|"high"|"critical", "ttl"?: seconds,
 *                 "collapseKey"?, "channelId"?, "pushType"?: APNs apns-push-type
 *                 ("alert" default, "background" when contentAvailable and no
 *                 alert, "voip", ...), "contentAvailable"?, "mutableContent"?,
 *                 "urgency"?: Web Push (very-low|low|normal|high), "webTopic"?,
 *                 "topic"?: APNs apns-topic instead of the configured one},
 *    "apns"?: {"headers"?, "payload"?}, "android"?: {...}, "webpush"?: {...}
 *                 (FCM/APNs platform overrides merged last)}
 * Mapping per platform is documented in the adapter files (lib/push/apns.c,
 * fcm.c, webpush_send.c) and pinned by the golden files in tests/data/push/.
 *
 * Results of omni_push_parse:
 *   {"success", "platform", "messageId"?, "status": "sent"|"failed",
 *    "error"?: {"code", "providerCode"?, "message", "retryable"},
 *    "invalidToken"?: true (remove the device: omni_device_remove with the
 *    reason), "retryAfterMs"?}
 * error.code: INVALID_TOKEN (APNs 410 Unregistered, 400 BadDeviceToken /
 * DeviceTokenNotForTopic; FCM UNREGISTERED, INVALID_ARGUMENT on the token;
 * Web Push 404/410), PAYLOAD_TOO_LARGE, AUTH_FAILED, TOKEN_EXPIRED (APNs
 * ExpiredProviderToken: retryable, the token was discarded), RATE_LIMITED
 * (429, Retry-After honoured), PROVIDER_UNAVAILABLE (5xx), INVALID_REQUEST,
 * PROVIDER_ERROR.
 */
typedef struct omni_push omni_push;
typedef struct omni_http_request omni_http_request;
typedef struct omni_http_response omni_http_response;

OMNI_API int omni_push_new(omni_push **out, const char *config_json, size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_push_free(omni_push *push);

/*
 * The request that sends one device's message. APNs requests are meant for
 * HTTP/2 (the transport decides). Errors: OMNI_ECONFIG (the platform is not
 * configured), OMNI_EINVAL (a member missing or malformed, naming it),
 * OMNI_ETOOLARGE (APNs payload over 4096 bytes, Web Push plaintext over
 * OMNI_WEBPUSH_MAX_PLAINTEXT, checked before anything is sent),
 * OMNI_EEXPIRED (FCM: no valid access token: run the token exchange first),
 * OMNI_EKEY, OMNI_ECRYPTO, OMNI_EJSON, OMNI_ENOMEM.
 */
OMNI_API int omni_push_build(omni_http_request **out, omni_push *push, const char *message_json,
                             size_t len, int64_t now_ms);

/* The response to a request built for `platform` ("ios", "android", "web")
 * as the result JSON above. Errors: OMNI_EINVAL, OMNI_ENOMEM. */
OMNI_API int omni_push_parse(char **out, size_t *out_len, omni_push *push, const char *platform,
                             const omni_http_response *response, int64_t now_ms);

/* FCM's token exchange: *out is the token request when the cached access
 * token is missing or within 5 minutes of expiring, else NULL (nothing to
 * do). Errors: OMNI_EINVAL (NULL, now_ms outside 1970..9999), OMNI_ECONFIG
 * (FCM not configured), OMNI_EKEY, OMNI_ECRYPTO, OMNI_ENOMEM. */
OMNI_API int omni_push_token_request(omni_http_request **out, omni_push *push, int64_t now_ms);
/* Reads the token endpoint's answer ({"access_token", "expires_in",
 * "token_type": "Bearer"}) into the cache. Errors: OMNI_EINVAL (NULL),
 * OMNI_ECONFIG (FCM not configured), OMNI_EKEY (400 invalid_grant /
 * invalid_client / unauthorized_client, 401 or 403: the service account's
 * key is not accepted; not retryable), OMNI_ETRANSPORT (429 or 5xx:
 * retryable; also any other status), OMNI_EJSON (a 200 answer that is not
 * the documented JSON: access_token 1..8192 printable ASCII bytes,
 * token_type "Bearer" in any case, expires_in an integer 1..31622400),
 * OMNI_ENOMEM. On error the cache is unchanged. The error message carries the endpoint's
 * "error"/"error_description", never a credential. */
OMNI_API int omni_push_token_response(omni_push *push, const omni_http_response *response,
                                      int64_t now_ms);

/* ---- pushNotification (seed 001): one event to every device of every recipient ------ */

/*
 * The event (seed 001 PushNotificationEvent, at most OMNI_PUSH_MAX_EVENT bytes):
 *   {"correlationId": 1..256 bytes,
 *    "notificationType": "new_message"|"assignment"|"escalation"|"reminder"|"alert",
 *    "recipients": [1..OMNI_PUSH_MAX_RECIPIENTS of
 *       {"userId",
 *        "deviceTokens"?: [{"token", "platform": "ios"|"android"|"web", "appId"?,
 *                           "subscription"? (web)}]  (absent: the user's devices in the
 *                           registry, at most OMNI_PUSH_MAX_DEVICES),
 *        "preferences"?: {"enabled"?: bool (false: nothing is sent),
 *                         "notificationTypes"?: {"<type>": bool} (false: opted out),
 *                         "platforms"?: ["ios", ...] (only these),
 *                         "quietHours"?: {"start": "HH:MM", "end": "HH:MM",
 *                                         "timezone"?: IANA, "enabled"?: bool},
 *                         "timezone"?: IANA (the user's; quiet hours default to it,
 *                                     else UTC)}}],
 *    "payload": the device message's payload (title, body, data, actions, image,
 *               sound, badge, ...: see the message of one device above),
 *    "options"?: {"priority": "low"|"normal"|"high"|"critical", "ttl"?: seconds,
 *                 "collapseKey"?, "channelId"?, ...} (the device message's options),
 *    "context"?: {"conversationId"?, "messageId"?, "accountId"?}}
 * Per recipient: disabled, the notification type turned off, or the time
 * inside its quiet hours (start inclusive, end exclusive, across midnight
 * when end < start, in the user's time zone; unless priority is
 * "critical") skips it — one result {platform "all", status "skipped",
 * "reason": "DISABLED"|"OPTED_OUT"|"QUIET_HOURS"|"NO_DEVICES", "error"}.
 * Otherwise every device gets the message through the delivery engine
 * (omni/delivery.h, carriers "apns", "fcm", "webpush"), with its
 * guarantees: the idempotency key is "push/" correlationId "/" userId "/"
 * platform "/" SHA-256 of the token, so the same event sent again sends
 * nothing twice; retries with backoff, the circuit breaker, dead letters;
 * a refused token leaves the registry (device.invalidated in "events").
 * ttl also makes the message expire (never sent late). An iOS device's appId
 * is its apns-topic. A web device needs its subscription: given, or the
 * registry's record of that endpoint.
 *
 * The result (seed 001 PushNotificationResult):
 *   {"success": failed < total, "correlationId",
 *    "deliveryResults": [{"recipientId", "platform", "status":
 *        "sent"|"failed"|"skipped"|"pending", "messageId"? (the provider's id),
 *        "deliveryId"? (the delivery engine's messageId), "error"? (message),
 *        "errorCode"?, "reason"? (skips), "nextAttemptAt"? (pending: a retry
 *        is stored for omni_delivery_tick), "duplicate"?: true}],
 *    "summary": {"total", "sent", "failed", "skipped", "pending"},
 *    "events": [device.invalidated ...]}
 */
#define OMNI_PUSH_MAX_EVENT (1024u * 1024u)
#define OMNI_PUSH_MAX_RECIPIENTS 1000
#define OMNI_PUSH_MAX_DEVICES 100 /* per recipient */

typedef struct omni_delivery omni_delivery;
typedef struct omni_delivery_job omni_delivery_job;
typedef struct omni_push_batch omni_push_batch;

/*
 * Sends the event through `delivery` (its engine's store, transport and
 * clock; push adapters attached with omni_delivery_set_push), device after
 * device. options_json (may be NULL): {"deadlineMs": 0..86400000} as for
 * omni_delivery_send (retries due within it are waited for). *out is the
 * result above. Errors: OMNI_EINVAL (a malformed event: the message names
 * the member, e.g. recipients[2].preferences.quietHours.start; nothing is
 * sent), OMNI_EJSON, OMNI_ETOOLARGE, OMNI_EUNSUPPORTED (no transport),
 * OMNI_ESTORAGE, OMNI_ENOMEM.
 */
OMNI_API int omni_push_notify(char **out, size_t *out_len, omni_delivery *delivery,
                              const char *event_json, size_t len, const char *options_json,
                              size_t options_len);

/*
 * The same in steps, for hosts that drive the sends themselves (concurrently,
 * e.g. through omni_async): begin checks the event, applies the preferences,
 * reads the devices and publishes one delivery job per device (nothing is
 * stored before a job's first omni_delivery_next). Errors as omni_push_notify.
 * The batch belongs to one thread at a time.
 */
OMNI_API int omni_push_notify_begin(omni_push_batch **out, omni_delivery *delivery,
                                    const char *event_json, size_t len, int64_t now_ms);
/* How many results the batch has (skips and devices); job i (borrowed,
 * owned by the batch), or NULL for a skip. */
OMNI_API size_t omni_push_batch_count(const omni_push_batch *batch);
OMNI_API omni_delivery_job *omni_push_batch_job(omni_push_batch *batch, size_t i);
/* The result above from the jobs' current state. Errors: OMNI_EINVAL,
 * OMNI_ENOMEM. */
OMNI_API int omni_push_batch_result(const omni_push_batch *batch, char **out, size_t *out_len);
OMNI_API void omni_push_batch_free(omni_push_batch *batch);

/*
 * The same through the asynchronous transport (omni/async.h), on its loop's
 * thread: every device's send is in flight at once (bounded by the
 * transport's maxConcurrent; HTTP/2 multiplexed to APNs), FCM's access token
 * fetched once first when it is needed. It never waits for retries: one
 * that is not due at once is "pending" (omni_delivery_tick sends it). cb
 * runs exactly once on the loop's thread with the result (valid during the
 * call) and OMNI_OK, or NULL and the error of a device whose send could not
 * be recorded (OMNI_ESTORAGE, ...; omni_error_last() says which); it may
 * run before this function returns when nothing needs sending. Errors
 * (cb is then never called): those of omni_push_notify_begin, OMNI_EINVAL.
 */
typedef struct omni_async omni_async;
typedef void (*omni_push_notify_cb)(void *user, const char *result_json, size_t len,
                                    int status);
OMNI_API int omni_push_notify_async(omni_async *async, omni_delivery *delivery,
                                    const char *event_json, size_t len, omni_push_notify_cb cb,
                                    void *user);

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
 * (IANA), "metadata"? (an object; no object in it may repeat a member
 * name)}. Stored records add "registeredAt", "updatedAt" (RFC 3339).
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
