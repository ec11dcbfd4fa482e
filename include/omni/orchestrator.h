/*
 * libomni — the notification orchestrator (seed 000's notification-orchestrator
 * with its NotificationRequest and user-notification-preferences): one
 * notification to a user, on the right channels, through the delivery engine.
 *
 * ---- User notification preferences (store namespace "notify_prefs", key userId) ------
 *   {"userId": 1..128 bytes of [A-Za-z0-9._:@+-],
 *    "channels": {"sms"?: {"address": E.164 ("+" and 8..15 digits), "enabled"?: true},
 *                 "whatsapp"?: {"address": E.164, "enabled"?},
 *                 "email"?: {"address": 3..254 bytes with one "@", "enabled"?},
 *                 "push"?: {"enabled"?: true}   (devices: the registry, omni/push.h)},
 *    "preferredChannels"?: ["push", "sms", "email", "whatsapp"] (order; no repeats;
 *                          default that order),
 *    "optOuts"?: ["sms", ...] (channels opted out; no repeats),
 *    "doNotDisturb"?: true | false | ["important", "informational", ...] (the
 *                     message types it covers; true: every type but urgent),
 *    "quietHours"?: {"start": "HH:MM", "end": "HH:MM", "timezone"?: IANA,
 *                    "enabled"?: bool} (start inclusive, end exclusive, across
 *                    midnight when end < start; start == end: none),
 *    "timezone"?: IANA (the user's; quiet hours default to it, else UTC),
 *    "locale"?: 1..35 bytes of [A-Za-z0-9_-] ("hi", "en-US")}
 * At most OMNI_NOTIFY_MAX_PREFS bytes; unknown members anywhere are refused;
 * time zones must exist. The stored record is the document as given plus
 * "createdAt" and "updatedAt" (RFC 3339, engine clock).
 *
 * ---- Orchestrator configuration (JSON object, at most OMNI_LIMIT_CONFIG_BYTES) -----
 *   {"channels": {"sms"?: {"carrier": "twilio", "from"?: "+1..."},
 *                 "whatsapp"?: {"carrier": "whatsapp", "from"?},
 *                 "email"?: {"carrier": "sendgrid"},
 *                 "push"?: {}},
 *    "defaultLocale"?: "en", "accountId"?: "..." (routing.accountId of the events)}
 * A channel absent from "channels" is never used (skipped, NOT_CONFIGURED).
 * "carrier" is an outbound provider of the delivery engine (omni/outbound.h);
 * "from" becomes routing.fromNumber. Push needs push adapters attached to
 * the delivery engine (omni_delivery_set_push).
 *
 * ---- NotificationRequest (JSON, at most OMNI_NOTIFY_MAX_REQUEST bytes) ---------------
 *   {"userId", "messageType": "urgent" | "important" | "informational",
 *    "requestId"?: 1..128 bytes (idempotency: the same requestId for the same
 *                  user never sends twice on a channel; default: a new UUID),
 *    "content": {"subject"?, "body"? (required without templateId),
 *                "templateId"?, "variables"?: {...} (the template's data),
 *                "data"?: {...} (push data)},
 *    "channels"?: ["sms", ...] (limits the choice; 1..4, no repeats),
 *    "scheduledFor"?: RFC 3339, "expiresAt"?: RFC 3339}
 * Unknown members are refused.
 *
 * Channel selection: the user's channels in preferredChannels order (then
 * those not listed, in the order push, sms, email, whatsapp), limited to the
 * request's "channels". A channel is skipped (status "skipped", reason) when it
 * is NOT_CONFIGURED, OPTED_OUT, DISABLED, has NO_ADDRESS (sms, email,
 * whatsapp) or NO_DEVICES (push), or do-not-disturb covers the message type
 * (DO_NOT_DISTURB; never urgent unless listed). Then:
 *   urgent: push AND sms (those that are eligible) together; when none of
 *           them was sent, the other eligible channels in order until one is;
 *   important: the first eligible channel; when it fails, the next one, and
 *           so on (fallbackUsed: true);
 *   informational: the first eligible channel only.
 * Quiet hours (in the user's time zone) defer every non-urgent message to the
 * end of the quiet period (computed with the offset in force now): it is
 * published with the delivery engine's options.scheduledAt and the channel's
 * status is "scheduled" with "scheduledAt"; omni_delivery_tick sends it
 * then. scheduledFor defers it likewise (the later of both). A deferred
 * message cannot fall back (its outcome is not known yet). Urgent bypasses
 * quiet hours (not scheduledFor).
 *
 * Content: with templateId, the stored template (omni/template_store.h) is
 * rendered for each channel with "variables", in the user's locale, falling
 * back to its language, then defaultLocale; a render error fails that channel
 * (reason TEMPLATE_ERROR). Otherwise subject and body as given.
 *
 * Sending: every channel goes through the delivery engine (omni_delivery_send)
 * with the idempotency key "notify/" requestId "/" userId "/" channel (push:
 * one job per registered device, at most OMNI_PUSH_MAX_DEVICES, carrier
 * apns/fcm/webpush, key "notify/" requestId "/" userId "/push/" platform "/"
 * SHA-256 hex of the token), so retries, fallback carriers, the circuit
 * breaker and dead letters apply. SMS/WhatsApp: message {"content": body,
 * "contentType": "text"}; email: {"subject", "content": body, "html"?:
 * htmlBody}; push payload {"title": subject, "body", "data"?}, priority "high"
 * for urgent.
 *
 * Result:
 *   {"success": true when a channel is sent, scheduled or pending,
 *    "requestId", "userId", "messageType",
 *    "channels": [{"channel", "status": "sent"|"failed"|"skipped"|"scheduled"|"pending",
 *                  "reason"?, "scheduledAt"?, "deliveries": [PublishOutboundResult...]}],
 *    "fallbackUsed": bool}
 * A channel's status from its deliveries: sent when one is sent (queued,
 * accepted), else pending (a retry is stored) or scheduled, else failed.
 * Only a failed channel falls back (never a pending one: that could double).
 *
 * Thread-safety: an orchestrator may be used from many threads at once.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_ORCHESTRATOR_H
#define OMNI_ORCHESTRATOR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;
typedef struct omni_delivery omni_delivery;
typedef struct omni_orchestrator omni_orchestrator;

#define OMNI_NOTIFY_MAX_PREFS (16u * 1024u)
#define OMNI_NOTIFY_MAX_REQUEST (256u * 1024u)
#define OMNI_NOTIFY_MAX_BULK (16u * 1024u * 1024u)
#define OMNI_NOTIFY_MAX_BULK_ITEMS 1000

/* ---- preferences --------------------------------------------------------------------- */

/* Stores a user's preferences (replacing earlier ones; compare-and-swap,
 * retried on a concurrent change). *out (may be NULL) is the stored record.
 * Errors: OMNI_EINVAL (the message names the member, e.g.
 * channels.sms.address), OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ECONFLICT (changed
 * concurrently too often), OMNI_ESTORAGE, OMNI_ENOMEM. */
OMNI_API int omni_notify_prefs_put(char **out, size_t *out_len, omni_engine *engine,
                                   const char *prefs_json, size_t len);
/* The stored record. Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ESTORAGE. */
OMNI_API int omni_notify_prefs_get(char **out, size_t *out_len, omni_engine *engine,
                                   const char *user_id);
/* Removes them. Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ESTORAGE. */
OMNI_API int omni_notify_prefs_delete(omni_engine *engine, const char *user_id);

/* ---- the orchestrator ------------------------------------------------------------------ */

/* Compiles a configuration (above) over `delivery` (borrowed: it must outlive
 * the orchestrator; its engine's store holds the preferences). Errors:
 * OMNI_EINVAL (NULL out/delivery), OMNI_ECONFIG (the message names the
 * member), OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ENOMEM. */
OMNI_API int omni_orchestrator_new(omni_orchestrator **out, omni_delivery *delivery,
                                   const char *config_json, size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_orchestrator_free(omni_orchestrator *orchestrator);

/*
 * Sends one NotificationRequest (above). options_json (may be NULL):
 * {"deadlineMs": 0..86400000} as for omni_delivery_send. *out is the result.
 * Errors: OMNI_EINVAL (a malformed request: the message names the member;
 * nothing is sent), OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ENOTFOUND (the user has
 * no preferences), OMNI_EUNSUPPORTED (no transport), OMNI_ESTORAGE,
 * OMNI_ENOMEM.
 */
OMNI_API int omni_notify_send(char **out, size_t *out_len, omni_orchestrator *orchestrator,
                              const char *request_json, size_t len, const char *options_json,
                              size_t options_len);

/*
 * Sends {"notifications": [1..OMNI_NOTIFY_MAX_BULK_ITEMS NotificationRequests]}
 * one after the other (at most OMNI_NOTIFY_MAX_BULK bytes). *out is
 * {"results": [{"index", "result"} | {"index", "error": {"code", "message"}}],
 *  "summary": {"total", "succeeded", "failed"}} (failed: an error or a result
 * with success false). Errors (nothing sent): OMNI_EINVAL, OMNI_EJSON,
 * OMNI_ETOOLARGE, OMNI_ENOMEM; OMNI_ESTORAGE and OMNI_EUNSUPPORTED stop the
 * batch.
 */
OMNI_API int omni_notify_send_bulk(char **out, size_t *out_len, omni_orchestrator *orchestrator,
                                   const char *bulk_json, size_t len, const char *options_json,
                                   size_t options_len);

#ifdef __cplusplus
}
#endif

#endif
