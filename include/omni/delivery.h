/*
 * libomni — the delivery engine (seed 001's publishOutbound with its
 * retryPolicy and dlqConfig): sends outbound messages through the carrier
 * adapters (omni/outbound.h) and never loses or doubles one.
 *
 * Every message lives in the engine's store from the moment it is
 * published until it is final, so a process that dies at any point loses
 * nothing: another process (or the same one restarted) finds the work
 * through omni_delivery_tick. The core is sans-I/O:
 *
 *   omni_delivery_job *job;
 *   omni_delivery_publish(&job, delivery, event, len, NULL, 0, now);
 *   for (;;) {
 *       int action; const omni_http_request *req; int64_t until;
 *       omni_delivery_next(job, now, &action, &req, &until);
 *       if (action == OMNI_DELIVERY_SEND) {           // send req yourself
 *           int rc = my_http(req, &resp);              // rc: OMNI_OK or a transport error
 *           omni_delivery_feed(job, rc == OMNI_OK ? resp : NULL, rc, now);
 *       } else if (action == OMNI_DELIVERY_WAIT) {     // sleep until `until`, or
 *           break;                                     // leave it to omni_delivery_tick
 *       } else break;                                  // OMNI_DELIVERY_DONE
 *   }
 *   omni_delivery_job_result(job, &result, &n);        // PublishOutboundResult
 *
 * and omni_delivery_send() runs that loop through the engine's transport.
 *
 * ---- Guarantees ----------------------------------------------------------------------
 * Idempotency: the key is options.idempotencyKey, else correlationId + "/" +
 * recipient.channelIdentifier. A publish with a key seen before never sends
 * again: it returns the first message's current result with "duplicate":
 * true, also from another process (the record is in the store) for as long
 * as the record is kept (idempotencyTtlMs after it became final).
 * Claiming: a send is claimed by compare-and-swap before the request leaves
 * (state "sending" with a lease of leaseMs), so two processes never send the
 * same attempt. A process that dies with a claimed send leaves the message
 * in doubt: the provider may or may not have it. When the lease runs out,
 * the next tick dead-letters it with reason IN_DOUBT (inDoubt
 * "deadLetter", the default: never a duplicate) or sends it again (inDoubt
 * "retry": never lost, possibly doubled). A timeout or a broken connection
 * during a send is retried like a 5xx (the rule); with providers
 * that may have accepted a request they answered too late this can double a
 * message — set "retryTimeouts": false to dead-letter those instead.
 *
 * ---- Configuration (JSON object, at most OMNI_LIMIT_CONFIG_BYTES) ---------------
 *   {"retryPolicy": {"maxRetries": 3 (0..20), "backoffMultiplier": 2 (1..10),
 *                    "maxBackoff": 10000 (ms, 1..86400000),
 *                    "initialBackoff": 1000 (ms, 1..86400000)},
 *    "fallback": {"aws-sns": ["twilio"], "aws-ses": ["sendgrid", "smtp"]}
 *                (carrier -> up to 3 carriers tried in order),
 *    "circuitBreaker": {"failureThreshold": 5 (consecutive failures, 1..1000),
 *                       "failureRate": 0.5 (0 < r <= 1), "minRequests": 20,
 *                       "windowMs": 60000, "cooldownMs": 30000},
 *    "rateLimits": {"twilio": {"perSecond": 100 (> 0), "burst": 100 (>= 1)}, ...}
 *                (one token bucket per carrier and sender),
 *    "leaseMs": 60000 (1000..3600000; more than the transport's timeout),
 *    "inDoubt": "deadLetter" | "retry", "retryTimeouts": true,
 *    "idempotencyTtlMs": 604800000 (7 days), "deadLetterRetentionMs":
 *    1209600000 (14 days, the seed's dlqConfig),
 *    "webhookUrl": "https://hooks.example.com/status/{carrier}/{messageId}"
 *                (tracking.webhookUrl of the result; {carrier} and
 *                {messageId} are replaced)}
 * Every member is optional; unknown members are OMNI_ECONFIG.
 * Backoff before retry n (1-based) is "full jitter": a uniform random time
 * in [0, min(maxBackoff, initialBackoff * backoffMultiplier^(n-1))] from the
 * engine's random hook, and never less than the provider's Retry-After.
 *
 * ---- Events and options -------------------------------------------------------------
 * The event is the seed's PublishOutboundEvent (omni/outbound.h) with
 * "options"?: {"scheduledAt"?: RFC 3339, "expiresAt"?: RFC 3339,
 * "idempotencyKey"?: 1..512 bytes, "priority"?, "trackDelivery"?, ...} and,
 * when the message was recorded in a conversation (omni_conversation_step
 * with direction outbound), "messageState": {"sequenceNumber"} beside
 * routing.conversationId: the engine then attaches the provider's message
 * id and status to that record (omni_conversation_delivery), so the
 * carrier's status callbacks update it, and marks it failed with the reason
 * (errorCode/errorMessage) when the message is dead-lettered or expires.
 * scheduledAt defers the first attempt until then; expiresAt (checked
 * before every attempt) makes an unsent message final with status
 * "expired" instead of being sent late.
 *
 * ---- Results (the seed's PublishOutboundResult) --------------------------------------
 *   {"success": bool, "correlationId", "duplicate"?: true,
 *    "delivery": {"messageId", "carrierMessageId"?, "status", "carrier",
 *                 "timestamp" (RFC 3339), "cost"?, "currency"?, "attempts": n,
 *                 "nextAttemptAt"?: RFC 3339},
 *    "tracking": {"trackingId" (the messageId), "webhookUrl"},
 *    "error"?: {"code", "message", "retryable"},
 *    "events"?: [message.delivery_updated]}   (the conversation's change events)
 * status: "queued" / "sent" (the provider accepted it; success true),
 * "scheduled" (waiting for scheduledAt), "pending" (a retry is due at
 * nextAttemptAt; error is the last failure), "sending" (another process
 * holds the send), "failed" (dead-lettered; error says why), "expired".
 * error.code: the adapter's classes (RATE_LIMITED, PROVIDER_UNAVAILABLE,
 * AUTH_FAILED, INVALID_RECIPIENT, RECIPIENT_OPTED_OUT, TEMPLATE_REJECTED,
 * WINDOW_CLOSED, INVALID_REQUEST, PROVIDER_ERROR), TIMEOUT,
 * CONNECTION_FAILED, TRANSPORT_ERROR, RETRIES_EXHAUSTED (with the last
 * error's message), IN_DOUBT, EXPIRED, CIRCUIT_OPEN.
 * Fallback: on AUTH_FAILED, PROVIDER_ERROR, a provider that is not
 * configured, retries exhausted, or an open circuit, the next fallback
 * carrier is tried (with a fresh retry budget); message-level errors
 * (INVALID_RECIPIENT, RECIPIENT_OPTED_OUT, WINDOW_CLOSED, TEMPLATE_REJECTED,
 * INVALID_REQUEST, a message the adapter cannot build) never fall back, so
 * an opted-out customer is not reached through another provider.
 *
 * ---- Push -------------------------------------------------------------------------------
 * With push adapters attached (omni_delivery_set_push), recipient.carrier may
 * be a push carrier: "apns" (platform ios), "fcm" (android) or "webpush"
 * (web); the event then carries "push": the device's message (omni/push.h)
 * and recipient.channelIdentifier is the device token (web: the
 * subscription's endpoint). Everything above applies: idempotency, claims,
 * retries, the circuit breaker and rate limits per push carrier, dead
 * letters; push carriers have no fallback (a token belongs to one platform).
 * Specific to push:
 *  - FCM's access token: when it is missing or about to expire, next
 *    returns a SEND of the token request (omni_push_token_request) before the
 *    message; its answer, fed like any other, fills the push object's cache
 *    (shared by every job) and is not an attempt of the message. A refusal
 *    is: AUTH_FAILED (final) or PROVIDER_UNAVAILABLE (retried).
 *  - A refused device token (error.code INVALID_TOKEN: APNs Unregistered,
 *    BadDeviceToken, DeviceTokenNotForTopic; FCM UNREGISTERED or
 *    INVALID_ARGUMENT on the token; Web Push 404/410) is final, and the
 *    device leaves the registry: omni_device_remove with the provider's
 *    reason; its "device.invalidated" event is in the result's "events" (a
 *    device that was not registered is skipped).
 *  - APNs ExpiredProviderToken (TOKEN_EXPIRED): the provider token was
 *    discarded, and the retry is due at once (once in a row; then the usual
 *    backoff).
 *  - delivery.carrierMessageId is the provider's id (apns-id, FCM's message
 *    name, the Web Push service's Location).
 *  - A message that cannot be built: PAYLOAD_TOO_LARGE (APNs over 4096
 *    bytes, Web Push over its record), AUTH_FAILED (a key that cannot sign,
 *    no FCM access token), INVALID_REQUEST; PROVIDER_NOT_CONFIGURED when the
 *    platform (or push itself) is not configured.
 *
 * ---- Stored records ---------------------------------------------------------------------
 * "delivery" (key messageId: the message with its attempt history
 * {n, carrier, startedAt, endedAt, outcome, httpStatus?, error?}),
 * "delivery_due" (the time-ordered work index), "delivery_dlq" (dead
 * letters, kept deadLetterRetentionMs), "delivery_circuit" (one per
 * carrier, shared by every process on the store), "delivery_rate" (token
 * buckets). The messageId is derived from the idempotency key (a UUID,
 * version 8, of its SHA-256), so it is the same in every process.
 *
 * Thread-safety: an omni_delivery may be used from many threads at once; a
 * job belongs to one thread at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_DELIVERY_H
#define OMNI_DELIVERY_H

#include "common.h"
#include "outbound.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;
typedef struct omni_delivery omni_delivery;
typedef struct omni_delivery_job omni_delivery_job;
typedef struct omni_push omni_push;

/*
 * Creates a delivery engine over `engine` (store, transport, clock, random,
 * log, metrics) and the compiled providers `outbound`; both are borrowed and
 * must outlive it. config_json may be NULL (all defaults).
 * Errors: OMNI_EINVAL (NULL out/engine/outbound), OMNI_ECONFIG (details
 * {"path"}; a fallback or rate limit naming an unknown carrier too),
 * OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ENOMEM.
 */
OMNI_API int omni_delivery_new(omni_delivery **out, omni_engine *engine,
                               const omni_outbound *outbound, const char *config_json,
                               size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_delivery_free(omni_delivery *delivery);

/* The engine it was created over and the push adapters attached (borrowed),
 * or NULL. */
OMNI_API omni_engine *omni_delivery_engine(const omni_delivery *delivery);
OMNI_API omni_push *omni_delivery_push(const omni_delivery *delivery);

/* Attaches the push adapters (borrowed: they must outlive the engine; NULL
 * detaches them), so messages to push carriers can be sent (see "Push"
 * above). Call it before the engine is used from other threads.
 * Errors: OMNI_EINVAL (NULL delivery). */
OMNI_API int omni_delivery_set_push(omni_delivery *delivery, omni_push *push);

/* ---- the sans-I/O core --------------------------------------------------------- */

typedef enum omni_delivery_action {
    OMNI_DELIVERY_SEND = 1, /* send *request and feed the outcome */
    OMNI_DELIVERY_WAIT = 2, /* nothing to do before *wait_until_ms (stored: tick resumes it) */
    OMNI_DELIVERY_DONE = 3  /* final, or held by another process: see the result */
} omni_delivery_action;

/*
 * Publishes one message: finds it by its idempotency key (a duplicate), or
 * prepares it, and returns the job that drives it. A new message is stored
 * by the job's first omni_delivery_next, before any request leaves and
 * before that call returns (so a job dropped before its first next was
 * never published). options_json (may be NULL) overrides the event's
 * "options" members. Errors: OMNI_EJSON, OMNI_EINVAL (a required
 * member missing: correlationId, recipient.channelIdentifier,
 * recipient.carrier; a bad time or key), OMNI_ETOOLARGE (the event over
 * OMNI_OUTBOUND_MAX_EVENT), OMNI_ESTORAGE, OMNI_ENOMEM. A message the
 * adapter cannot build is not an error here: it becomes a dead letter.
 */
OMNI_API int omni_delivery_publish(omni_delivery_job **out, omni_delivery *delivery,
                                   const char *event_json, size_t len, const char *options_json,
                                   size_t options_len, int64_t now_ms);

/* The job of a stored message (by messageId), to drive a due message
 * yourself. Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ESTORAGE, OMNI_ENOMEM. */
OMNI_API int omni_delivery_resume(omni_delivery_job **out, omni_delivery *delivery,
                                  const char *message_id, int64_t now_ms);

/*
 * The next action at now_ms. SEND: *request (owned by the job, valid until
 * the next call on it) is claimed and must be sent, then fed; WAIT:
 * *wait_until_ms is when to call again (the message is stored with that
 * due time, so dropping the job is safe); DONE: read the result.
 * request and wait_until_ms may be NULL. Errors: OMNI_EINVAL (NULL, or a
 * SEND not fed yet), OMNI_ESTORAGE, OMNI_ENOMEM; on error nothing was
 * claimed and the job may be retried or dropped.
 */
OMNI_API int omni_delivery_next(omni_delivery_job *job, int64_t now_ms, int *action,
                                const omni_http_request **request, int64_t *wait_until_ms);

/*
 * Feeds the outcome of the SEND: the response (transport_status OMNI_OK),
 * or response NULL and the transport's error (OMNI_ETIMEOUT, OMNI_ECONNECT,
 * OMNI_ETLS, OMNI_ERESPONSE, OMNI_ETRANSPORT, or any other negative status,
 * treated as a transport error). The outcome is recorded in the attempt
 * history, the circuit breaker and the message. Errors: OMNI_EINVAL (no SEND
 * outstanding), OMNI_ESTORAGE (the outcome could not be recorded: the
 * message stays claimed until its lease ends, then is in doubt),
 * OMNI_ENOMEM.
 */
OMNI_API int omni_delivery_feed(omni_delivery_job *job, const omni_http_response *response,
                                int transport_status, int64_t now_ms);

/* The job's current PublishOutboundResult (see above), released with
 * omni_free(). Errors: OMNI_EINVAL, OMNI_ENOMEM. */
OMNI_API int omni_delivery_job_result(const omni_delivery_job *job, char **out, size_t *out_len);
OMNI_API void omni_delivery_job_free(omni_delivery_job *job);

/* ---- driven through the engine's transport --------------------------------------- */

/*
 * Publishes and drives one message through the engine's transport.
 * options_json (may be NULL) as for publish, plus "deadlineMs": how long
 * this call may take (like a Lambda's remaining time; 0, the default: no
 * waiting — a retry is left stored for omni_delivery_tick, unless its
 * jittered delay came out as 0 ms: it is due at once and sent inline).
 * Retries whose time falls within the deadline are waited for (a real
 * sleep) and sent inline. *out is the PublishOutboundResult. Errors: as publish, and
 * OMNI_EUNSUPPORTED when the engine has no transport.
 */
OMNI_API int omni_delivery_send(char **out, size_t *out_len, omni_delivery *delivery,
                                const char *event_json, size_t len, const char *options_json,
                                size_t options_len);

/*
 * Drives a published or resumed job through the engine's transport from the
 * engine's clock: sends, feeds, and waits (a real sleep) for retries due
 * at or before deadline_ms (absolute, engine clock; 0: never waits), then
 * returns; read the outcome with omni_delivery_job_result. Errors:
 * OMNI_EINVAL, OMNI_EUNSUPPORTED (no transport), and those of next and feed.
 */
OMNI_API int omni_delivery_run(omni_delivery_job *job, int64_t deadline_ms);

/*
 * Drives a job through the asynchronous transport (omni/async.h) on its
 * loop's thread: every SEND goes out with omni_async_send and is fed from
 * its callback, so many jobs are in flight at once. It never waits: a retry
 * that is not due at once is left stored for omni_delivery_tick (status
 * "pending"). cb runs exactly once, on the loop's thread, with the job
 * (still owned by the caller: read its result, then free it) and OMNI_OK,
 * or the error of next / feed; it may run before this function returns
 * when no request was needed (a duplicate, a skipped or final message).
 * A send the transport refuses (a closed transport: OMNI_ECANCELED) is fed
 * to the job as a transport error. Errors (cb is then never called):
 * OMNI_EINVAL, OMNI_ENOMEM.
 */
typedef struct omni_async omni_async;
typedef void (*omni_delivery_done_cb)(void *user, omni_delivery_job *job, int status);
OMNI_API int omni_delivery_run_async(omni_delivery_job *job, omni_async *async,
                                     omni_delivery_done_cb cb, void *user);

/*
 * Processes the stored work that is due at now_ms, earliest first, at most
 * `limit` messages (1..1000): scheduled sends, retries, fallbacks after a
 * cool-down, claims whose lease ran out (in doubt), expiries. *out (may be
 * NULL) is {"processed", "sent", "retried", "deadLettered", "expired",
 * "inDoubt", "errors" (messages whose processing failed, e.g. a storage
 * error; logged, left for the next tick), "nextDueAt": RFC 3339 | null}. Errors: OMNI_EINVAL,
 * OMNI_EUNSUPPORTED (no transport), OMNI_ESTORAGE, OMNI_ENOMEM.
 */
OMNI_API int omni_delivery_tick(char **out, size_t *out_len, omni_delivery *delivery,
                                int64_t now_ms, size_t limit);

/* A stored message: {"messageId", "idempotencyKey", "correlationId",
 * "state", "carrier", "attempts": [...], "result", "event", ...}.
 * Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ESTORAGE, OMNI_ENOMEM. */
OMNI_API int omni_delivery_get(char **out, size_t *out_len, omni_delivery *delivery,
                               const char *message_id);

/* ---- dead letters ---------------------------------------------------------------- */

/* One page of dead letters: query_json (may be NULL) {"limit": 1..1000
 * (50), "cursor"}; *out {"items": [{"messageId", "correlationId",
 * "idempotencyKey", "carrier", "reason": {"code", "message"}, "deadAt",
 * "attempts": [...], "event"}], "next": cursor|null}. */
OMNI_API int omni_delivery_dlq_list(char **out, size_t *out_len, omni_delivery *delivery,
                                    const char *query_json, size_t len);
/* One dead letter (the item form above). Errors: OMNI_ENOTFOUND. */
OMNI_API int omni_delivery_dlq_get(char **out, size_t *out_len, omni_delivery *delivery,
                                   const char *message_id);
/* Sends a dead letter again: the message becomes due now with a fresh
 * retry budget on its first carrier (the attempt history is kept), and the
 * dead letter is removed. *out is the PublishOutboundResult of the
 * redriven message (status "pending"; omni_delivery_tick sends it).
 * Errors: OMNI_ENOTFOUND, OMNI_ECONFLICT (changed meanwhile: retry). */
OMNI_API int omni_delivery_dlq_redrive(char **out, size_t *out_len, omni_delivery *delivery,
                                       const char *message_id);
/* Removes one dead letter (message_id) or, with NULL, every one; *count
 * (may be NULL) receives how many. The message records stay final. */
OMNI_API int omni_delivery_dlq_purge(omni_delivery *delivery, const char *message_id,
                                     size_t *count);

#ifdef __cplusplus
}
#endif

#endif
