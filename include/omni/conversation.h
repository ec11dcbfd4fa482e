/*
 * libomni — conversations: the bidirectional state machine, exactly-once
 * message recording, history, delivery status and change events (seed 001's
 * workFlowBiDirectional and dynamoStream).
 *
 * Ownership: every `char **out` receives a NUL-terminated JSON document
 * allocated by the library, released by the caller with omni_free();
 * `out_len` (may be NULL) receives its length without the NUL. On error
 * *out is NULL. Inputs are borrowed for the duration of the call.
 *
 * Thread-safety: the pure functions (status table, omni_conversation_apply,
 * the DynamoDB Streams converter) are thread-safe. The store-backed ones are
 * as thread-safe as the engine's store (the bundled ones are): every write is
 * a compare-and-swap, so any number of threads, processes and hosts may step
 * the same conversations at once.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_CONVERSATION_H
#define OMNI_CONVERSATION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

/* ---- the state machine (pure) ------------------------------------------- */

/* Conversation statuses (seed 001's diagram); names are the lower-case
 * words ("new", "active", ...). */
typedef enum omni_conversation_status {
    OMNI_CONVERSATION_NEW = 0,
    OMNI_CONVERSATION_ACTIVE = 1,
    OMNI_CONVERSATION_RESOLVED = 2,
    OMNI_CONVERSATION_ESCALATED = 3,
    OMNI_CONVERSATION_EXPIRED = 4,
    OMNI_CONVERSATION_REOPENED = 5
} omni_conversation_status;

/* Events; names: "inbound_message", "outbound_message", "agent_assigned",
 * "agent_transferred", "agent_left", "bot_handover", "escalate", "resolve",
 * "inactivity_timeout", "reopen", "set_metadata". */
typedef enum omni_conversation_event {
    OMNI_CONVERSATION_INBOUND_MESSAGE = 0,
    OMNI_CONVERSATION_OUTBOUND_MESSAGE = 1,
    OMNI_CONVERSATION_AGENT_ASSIGNED = 2,
    OMNI_CONVERSATION_AGENT_TRANSFERRED = 3,
    OMNI_CONVERSATION_AGENT_LEFT = 4,
    OMNI_CONVERSATION_BOT_HANDOVER = 5,
    OMNI_CONVERSATION_ESCALATE = 6,
    OMNI_CONVERSATION_RESOLVE = 7,
    OMNI_CONVERSATION_INACTIVITY_TIMEOUT = 8,
    OMNI_CONVERSATION_REOPEN = 9,
    OMNI_CONVERSATION_SET_METADATA = 10
} omni_conversation_event;

/*
 * The transition table. Rows: the status before; "-" is INVALID_TRANSITION.
 *
 *   event \ status      new       active    resolved  escalated expired   reopened
 *   inbound_message     active    active    reopened  escalated reopened  active
 *   outbound_message    active    active    reopened  escalated reopened  active
 *   agent_assigned      active    active    -         escalated -         active
 *   agent_transferred   -         active    -         escalated -         active
 *   agent_left          -         active    -         escalated -         active
 *   bot_handover        active    active    -         active    -         active
 *   escalate            escalated escalated -         -         -         escalated
 *   resolve             resolved  resolved  -         resolved  -         resolved
 *   inactivity_timeout  expired   expired   expired   expired   -         expired
 *   reopen              -         -         reopened  reopened  reopened  -
 *   set_metadata        new       active    resolved  escalated expired   reopened
 *
 * A conversation is created in "new" by its first message (which is the
 * only message that leaves it "new"). Beyond the table, the documents apply
 * preconditions that are also INVALID_TRANSITION: agent_transferred and
 * agent_left need an assigned agent; agent_transferred to the agent already
 * assigned; inactivity_timeout before lastActivityAt + the timeout.
 * Errors: OMNI_EINVAL (a number outside the enums, NULL next),
 * OMNI_ETRANSITION (with a message naming the event and the status).
 */
OMNI_API int omni_conversation_next_status(int status, int event, int *next);

/* Static names ("new", "inbound_message"), or NULL for unknown numbers. */
OMNI_API const char *omni_conversation_status_name(int status);
OMNI_API const char *omni_conversation_event_name(int event);

/* Name -> number (exact, lower case). Errors: OMNI_EINVAL. */
OMNI_API int omni_conversation_status_parse(const char *name, int *status);
OMNI_API int omni_conversation_event_parse(const char *name, int *event);

/*
 * A conversation document, as omni_conversation_get returns it:
 *   {"conversationId", "customerId", "accountId", "businessUnitId",
 *    "tenantId", "channel": {"type": "sms"|"whatsapp"|"chat"|...,
 *    "carrier": "twilio"|...}, "status", "assignedTo": "id"|null,
 *    "participants": [{"id", "type": "customer"|"agent"|"bot", "joinedAt",
 *    "status": "active"|"left"|"transferred"}],
 *    "metadata": {"startedAt", "lastActivityAt", "messageCount",
 *    "sentiment"?: "positive"|"neutral"|"negative", "topics": [...],
 *    "priority": "low"|"normal"|"high"|"urgent"},
 *    "lastInboundAt": RFC 3339|null (the customer's last message),
 *    "serviceWindow": {"open": bool, "expiresAt": RFC 3339|null} (WhatsApp
 *    conversations only: the 24-hour customer service window since
 *    lastInboundAt; outbound free text needs it open),
 *    "createdAt", "updatedAt"}
 * Times are RFC 3339 UTC with milliseconds.
 *
 * Pure transition of such a document by an event document:
 *   {"event": "<name>", "at"?: RFC 3339 (default now_ms),
 *    "agentId"? (agent_assigned, agent_transferred: required),
 *    "botId"? (bot_handover: required), "reason"?,
 *    "sentiment"?, "topics"?, "priority"? (any event; set_metadata needs one),
 *    "inactivityTimeoutMs"? (inactivity_timeout: default 24 h)}
 * agent_assigned adds (or re-activates) the agent as a participant and sets
 * assignedTo, marking a previous assignee "transferred"; agent_transferred
 * does the same for a conversation that has an agent; agent_left marks the
 * assignee "left" and clears assignedTo; bot_handover hands the
 * conversation to a bot (joins, becomes assignedTo; a human assignee is
 * "transferred"); escalate hands it to the human queue (bots
 * "transferred", assignedTo null unless "agentId" is given); message
 * events update lastActivityAt, messageCount and, inbound, lastInboundAt.
 * *out: {"conversation": <document>, "events": [<change events>]}.
 * The document is at most OMNI_CONVERSATION_MAX_DOC bytes, the event 64 KiB.
 * Errors: OMNI_EJSON, OMNI_EINVAL (a member of the wrong type, an unknown
 * event or status, a bad time or id), OMNI_ETOOLARGE, OMNI_ETRANSITION
 * (nothing is written to *out), OMNI_ENOMEM.
 */
#define OMNI_CONVERSATION_MAX_DOC (256u * 1024u)
OMNI_API int omni_conversation_apply(char **out, size_t *out_len, const char *conversation_json,
                                     size_t conversation_len, const char *event_json,
                                     size_t event_len, int64_t now_ms);

/*
 * Change events (seed 001's dynamoStream), returned by every call that
 * changes something, for the host to publish (EventBridge PutEvents maps
 * one to one):
 *   {"source": "omni.workflow", "detailType": "<type>", "detail": {...}}
 *   conversation.created        {conversationId, customerId, accountId,
 *                                channel, status, createdAt}
 *   conversation.status_changed {conversationId, previousStatus, newStatus,
 *                                changedAt}
 *   conversation.assigned       {conversationId, previousAssignee,
 *                                newAssignee (null: unassigned), assignedAt}
 *   conversation.deleted        {conversationId, deletedAt}
 *   message.created             {messageId, conversationId, sequenceNumber,
 *                                direction, createdAt}
 *   message.delivery_updated    {messageId, conversationId, previousStatus,
 *                                newStatus, updatedAt, errorCode?,
 *                                errorMessage? (the carrier's, when newStatus
 *                                is failed or undelivered)}
 */

/* ---- conversations over the engine's store ------------------------------ */

/*
 * Store layout (namespaces of the engine's store):
 *   "conversation"     "<customerId>/<channel>/<accountId>" -> the
 *                      conversation of that customer on that channel and
 *                      account, with its latest message
 *   "conversation_id"  conversationId -> {"key": "<the key above>"}
 *   "message"          "<conversationId>/<sequenceNumber, 12 digits>" ->
 *                      message record
 *   "message_ref"      "<in|out>/<carrier>/<message id>" -> the first
 *                      result of that message (duplicate detection; kept
 *                      for dedupeWindowMs); also "out/<carrier>/<the
 *                      provider's id>" for every id attached to an
 *                      outbound message (omni_conversation_delivery)
 *   "delivery_parked"  "<carrier>/<carrierMessageId>" -> delivery statuses
 *                      that arrived before their message was known (kept
 *                      7 days)
 *   "conversation_settings"  accountId -> {"inactivityTimeoutMs",
 *                      "dedupeWindowMs"}
 * Conversation and message ids are UUIDv7 (engine clock and random
 * hooks); of hosts that race to create a conversation one wins, and the
 * others continue the winner's.
 *
 * Exactly once: a step commits with one compare-and-swap of the
 * conversation record. The bundled stores (memory:, sqlite:) write that
 * record, the message record and the reference record in one atomic batch.
 * Over a host's storage hook, which has no batch, the conversation record
 * carries the new message ("lastMessage") until its message and reference
 * records are written: by the same call right after the commit, or by the
 * next call that touches the conversation when the writer died in between
 * (history and delivery updates see such a message too). Either way a
 * message is recorded whole or not at all, and sequence numbers are dense
 * (1..n) however many hosts write at once.
 */

/*
 * Conversation step (seed 001's workFlowBiDirectional). Input: an
 * IdentityLookupResult or a BiDirectionalEvent:
 *   {"correlationId", "identity": {"customerId", ...},
 *    "routing": {"accountId", "businessUnitId"?, "tenantId"?,
 *                "channelType"?},
 *    "enrichedMessage": {"id" (the carrier's message id; for outbound the
 *                        host's idempotency id), "carrier", "channelType"?,
 *                        "content", "contentType", "mediaUrls"?,
 *                        "timestamp", ...},
 *    "direction"?: "inbound" (default) | "outbound",
 *    "channel"?: a channel name overriding the derived one}
 * The channel (the conversation key's part, 1..32 of [a-z0-9_-]) is
 * "channel", else derived: carrier "whatsapp" or a Twilio "chat" message ->
 * "whatsapp"; channelType "sms"/"mms" -> "sms"; "chat" -> the carrier name
 * (livechat, messagebird); "voice" -> "voice".
 *
 * It finds the customer's conversation on (customerId, channel, accountId),
 * continues it (new|active|reopened|escalated), reopens it when it is
 * resolved or expired (or when lastActivityAt is older than the
 * inactivity timeout), or creates it; records the message with the next
 * sequence number; and returns the BiDirectionalResult:
 *   {"success": true, "correlationId", "duplicate": bool,
 *    "conversation": {"conversationId", "status" (new|active|reopened|
 *    escalated), "participants", "channel", "metadata", "assignedTo",
 *    "serviceWindow"?},
 *    "messageState": {"messageId", "sequenceNumber", "deliveryStatus":
 *    "processing" (inbound) | "pending" (outbound), "direction"},
 *    "routing": {accountId, businessUnitId, tenantId, conversationId,
 *    customerId, channel, assignedTo, priority},
 *    "events": [...], "nextStep": "workFlowPreRoute"}
 * The same message (direction, carrier and id) stepped again returns the
 * first result with "duplicate": true and no events, and changes nothing
 * (an outbound id that is a provider's id attached to another message
 * answers as that message; OMNI_EEXISTS when its first result is no longer
 * kept). An outbound message gets the delivery statuses parked for its
 * carrier and id (see omni_conversation_delivery): their
 * message.delivery_updated events follow the step's.
 * An outbound message of contentType other than "template" on a WhatsApp
 * conversation whose service window is closed is OMNI_EWINDOW.
 *
 * options_json (may be NULL): {"inactivityTimeoutMs": 1..2^40,
 * "dedupeWindowMs": 0 (forever) | 1..2^40, "maxAttempts": 1..64}; defaults
 * come from the account's settings, else 24 h, 7 days and 16. A
 * compare-and-swap conflict re-reads and retries up to maxAttempts times,
 * then fails OMNI_ECONFLICT (retryable).
 * Limits: the event 1 MiB, the enrichedMessage 256 KiB; ids 1..128 of
 * [A-Za-z0-9._:@+-] (customerId, accountId); message ids 1..256 bytes
 * without control characters.
 * Errors: OMNI_EJSON, OMNI_EINVAL (a required member missing or of the
 * wrong type, a bad id or option), OMNI_ETOOLARGE, OMNI_EWINDOW,
 * OMNI_ECONFLICT, OMNI_ESTORAGE (retryable; also a stored record that is
 * not what libomni wrote, not retryable), OMNI_ENOMEM.
 */
OMNI_API int omni_conversation_step(char **out, size_t *out_len, omni_engine *engine,
                                    const char *event_json, size_t len, const char *options_json,
                                    size_t options_len);

/* The conversation document (see above). Errors: OMNI_EINVAL (NULL, a bad
 * id), OMNI_ENOTFOUND, OMNI_ESTORAGE, OMNI_ENOMEM. */
OMNI_API int omni_conversation_get(char **out, size_t *out_len, omni_engine *engine,
                                   const char *conversation_id);

/* Applies an event document (as omni_conversation_apply; message events are
 * recorded through omni_conversation_step instead: OMNI_EINVAL here) to a
 * stored conversation by compare-and-swap. inactivity_timeout uses the
 * account's timeout unless the event names one. *out: {"conversation",
 * "events"}. Errors: as omni_conversation_apply and omni_conversation_get,
 * OMNI_ECONFLICT (retryable). */
OMNI_API int omni_conversation_transition(char **out, size_t *out_len, omni_engine *engine,
                                          const char *conversation_id, const char *event_json,
                                          size_t len);

/*
 * Messages of a conversation in sequence order (seed 003's get_message).
 * query_json (may be NULL): {"limit": 1..1000 (default 50), "cursor":
 * "<next from the previous page>", "direction": "inbound"|"outbound",
 * "contentType": "...", "since": RFC 3339, "until": RFC 3339 (createdAt,
 * since inclusive, until exclusive)}. *out: {"items": [message records],
 * "next": cursor|null}. A message record: {"messageId", "conversationId",
 * "sequenceNumber", "direction", "carrier", "carrierMessageId",
 * "contentType", "deliveryStatus", "createdAt", "updatedAt",
 * "correlationId", "message": <the enrichedMessage as stepped>,
 * "errorCode"?, "errorMessage"?, and once a provider's id is attached
 * (omni_conversation_delivery) "steppedCarrier", "steppedMessageId",
 * "carrierMessageIds": [{"carrier", "carrierMessageId", "attachedAt"}]}.
 * A page scans at most 10000 records and may come back short (even empty)
 * with "next" set. Errors: OMNI_EINVAL, OMNI_EJSON,
 * OMNI_ENOTFOUND (no such conversation), OMNI_ESTORAGE, OMNI_ENOMEM.
 */
OMNI_API int omni_conversation_history(char **out, size_t *out_len, omni_engine *engine,
                                       const char *conversation_id, const char *query_json,
                                       size_t len);

/* A customer's conversations (every channel and account), by key order.
 * query_json (may be NULL): {"limit": 1..1000 (default 50), "cursor",
 * "status": "<name>"}. *out: {"items": [conversation documents], "next"}.
 * Errors: as omni_conversation_history (an unknown customer is an empty
 * list). */
OMNI_API int omni_conversation_list(char **out, size_t *out_len, omni_engine *engine,
                                    const char *customer_id, const char *query_json, size_t len);

/*
 * Delivery status of recorded messages. update_json (at most 64 KiB) is
 * one of:
 *  - by the message: {"conversationId", "sequenceNumber", "status",
 *    "timestamp"? (RFC 3339; default now), "errorCode"? (string or number),
 *    "errorMessage"?};
 *  - an attach: the same with "carrierMessageId" (1..256 bytes, no control
 *    characters) and "carrier"? (1..32 of [a-z0-9_-]; default the
 *    message's): the provider's id of an OUTBOUND message, known only once
 *    the provider accepted it. The delivery engine sends, right after that:
 *      {"conversationId", "sequenceNumber" (the step's messageState),
 *       "carrier": <the carrier that accepted it, a fallback's included>,
 *       "carrierMessageId": <its id ("SM...", "wamid...")>,
 *       "status": "queued" | "sent", "timestamp": <when it was accepted>};
 *  - by the carrier's id: a status event of omni_inbound_handle {"carrier",
 *    "carrierMessageId", "status", "timestamp"?, "errorCode"?,
 *    "errorMessage"?, ...}: the message whose reference record
 *    "<out|in>/<carrier>/<id>" names it (outbound first; a stepped id or an
 *    attached one, kept dedupeWindowMs).
 * Other members are ignored.
 *
 * Statuses: pending, processing, queued, sent, delivered, read, failed,
 * undelivered. Status never moves backwards: pending/processing < queued <
 * sent < delivered < read; read is final; failed and undelivered only from
 * pending, processing, queued or sent, and are final. A status that does
 * not advance is not an error ("changed": false, no event). failed and
 * undelivered keep the update's errorCode and errorMessage on the record
 * and in the event; a status change replaces them (drops them when the
 * update has none).
 *
 * Attach: the record's "carrier" and "carrierMessageId" become the
 * provider's; the stepped ones are kept as "steppedCarrier" and
 * "steppedMessageId" (their reference stays, so both ids find the message);
 * "carrierMessageIds" lists the attached ids oldest first; the reference
 * "out/<carrier>/<carrierMessageId>" is written after the record (kept the
 * account's dedupeWindowMs). Then the status applies as above, and the
 * statuses parked for that id (below). Rules:
 *  - the current id again changes no id: only the status applies (so a
 *    repeated attach is a no-op);
 *  - another id (a fallback carrier's, or a resend through the same
 *    carrier) is a new attempt: it becomes the current id and the status
 *    starts over from the attach's (the one way a status goes back: a
 *    message that failed through one provider may be delivered by another);
 *    from then on statuses naming an earlier attempt's id change nothing
 *    ("changed": false), and attaching an earlier id again changes nothing;
 *    at most 16 ids per message (OMNI_ETOOLARGE);
 *  - an id whose reference names another message is OMNI_EEXISTS (nothing
 *    changes); an inbound message is OMNI_EINVAL.
 * Statuses by conversationId and sequenceNumber always apply to the current
 * attempt, as do statuses naming the stepped id (unless that id was itself
 * attached, then replaced).
 *
 * Parked statuses: a status by the carrier's id that no reference record
 * names yet (it arrived before the attach, or before the step of an
 * outbound message stepped with that id) is kept in "delivery_parked" for
 * 7 days after the first one, in arrival order, one per status name (a
 * repeated status could not change the outcome), and *out is {"changed":
 * false, "parked": true, "message": null, "events": []}. When an outbound
 * reference of that carrier id appears (an attach, an outbound step, or
 * the write-out of a committed message), the parked statuses are applied
 * in order, as if they had arrived after it, and deleted; their
 * message.delivery_updated events are returned by that call. Parked
 * statuses only ever apply to outbound messages (status callbacks are
 * about sent messages). Two hosts may park and attach at once: the parker
 * reads the reference again after parking and the attacher reads the
 * parked statuses after writing the reference, so at least one of them
 * applies them; each status change is a compare-and-swap that only one
 * wins, so each change, and its event, happens once.
 * An update by conversationId and sequenceNumber for a message that does
 * not exist is OMNI_ENOTFOUND, not parked: its caller knew the message, so
 * it is a mistake rather than an early callback.
 *
 * *out: {"changed": bool (the record changed: a status moved or an id was
 * attached), "parked": bool, "message": <the record as it stands> | null
 * (parked), "events": [message.delivery_updated, ...]}.
 * Errors: OMNI_EJSON, OMNI_EINVAL (a missing or malformed member, an attach
 * to an inbound message), OMNI_ETOOLARGE, OMNI_ENOTFOUND (no such message
 * by conversationId and sequenceNumber; or a reference whose message is
 * being deleted), OMNI_EEXISTS, OMNI_ECONFLICT (retryable), OMNI_ESTORAGE,
 * OMNI_ENOMEM.
 */
OMNI_API int omni_conversation_delivery(char **out, size_t *out_len, omni_engine *engine,
                                        const char *update_json, size_t len);

/* Deletes a conversation, its messages and its index entry. *out:
 * {"events": [conversation.deleted]}. Errors: OMNI_EINVAL,
 * OMNI_ENOTFOUND, OMNI_ECONFLICT, OMNI_ESTORAGE. */
OMNI_API int omni_conversation_delete(char **out, size_t *out_len, omni_engine *engine,
                                      const char *conversation_id);

/* The WhatsApp customer service window of a conversation at the engine's
 * clock: *open 1 when a free-text reply is allowed (always 1 for other
 * channels, *expires_at_ms 0 then), *expires_at_ms when it closes (0: never
 * opened). Either pointer may be NULL. Errors: as omni_conversation_get. */
OMNI_API int omni_conversation_window(omni_engine *engine, const char *conversation_id,
                                      int *open, int64_t *expires_at_ms);

/* An account's settings: {"inactivityTimeoutMs": 1..2^40, "dedupeWindowMs":
 * 0..2^40} (both optional; other members are OMNI_EINVAL). set replaces
 * (stored in one canonical form), get returns the stored document
 * (OMNI_ENOTFOUND when none). An engine reuses the settings it read for up
 * to one second, so a change made through another engine applies within a
 * second; one made through the same engine at once. */
OMNI_API int omni_conversation_settings_set(omni_engine *engine, const char *account_id,
                                            const char *settings_json, size_t len);
OMNI_API int omni_conversation_settings_get(char **out, size_t *out_len, omni_engine *engine,
                                            const char *account_id);

/* ---- DynamoDB Streams (for hosts that keep conversations in DynamoDB) ---- */

/*
 * Unmarshalls a DynamoDB item ({"name": AttributeValue, ...}, as in a
 * stream record's NewImage) into plain JSON: S -> string, N -> number (the
 * digits as written; DynamoDB's 38 significant digits kept), B -> base64
 * string, BOOL, NULL -> null, M -> object, L -> array, SS/NS/BS -> arrays.
 * An N is a decimal as DynamoDB accepts it ([+-]digits[.digits][(e|E)
 * [+-]digits], either digit run may be empty, not both; at most 38
 * significant digits; zero or a magnitude within 1E-130 ..
 * 9.99...E+125), written as valid JSON: "+3" -> 3, "007" -> 7, ".5" ->
 * 0.5, "1." -> 1, "1.50" and "1E+05" as they are. A B is canonical
 * standard base64 with padding; NULL must be true; a set is a non-empty
 * array of strings of its type without duplicates (NS by value); an item
 * or M does not repeat a name. Limits: 4 MiB, nesting as
 * OMNI_LIMIT_JSON_DEPTH. Errors: OMNI_EJSON, OMNI_EINVAL (not an item, an
 * AttributeValue with zero, several or an unknown type, a value of the
 * wrong type, an N that is not such a number, bad base64, an empty set, a
 * repeated element or name; the message names the attribute's path),
 * OMNI_ETOOLARGE, OMNI_ETOODEEP, OMNI_ENOMEM.
 */
OMNI_API int omni_dynamodb_unmarshall(char **out, size_t *out_len, const char *item_json,
                                      size_t len);

/*
 * Converts a DynamoStreamEvent {"Records": [...]} into the change events
 * above. The table is read from eventSourceARN
 * ("arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>"):
 * "conversations": INSERT -> conversation.created; MODIFY ->
 * conversation.status_changed when "status" differs and
 * conversation.assigned when "assignedTo" differs (NEW_AND_OLD_IMAGES);
 * REMOVE -> conversation.deleted. "messages": INSERT -> message.created;
 * MODIFY -> message.delivery_updated when "deliveryStatus" differs.
 * Conversation items name their id "conversationId" or "id"; messages
 * "messageId" or "id". The details' other members are the images'
 * attributes of those names, unmarshalled (a missing one is null; "channel"
 * as it is, string or object; createdAt from the NewImage); ids of a MODIFY
 * come from the NewImage, else the OldImage. "Differs" compares the
 * unmarshalled values as JSON values (numbers by value, objects whatever
 * their member order; a missing attribute equals NULL). Event times are
 * the record's dynamodb.ApproximateCreationDateTime (Unix seconds, a
 * fraction rounded to milliseconds), else now_ms.
 * *out: {"events": [...], "records": [{"eventID" (null when absent),
 * "status": "success"|"skipped"|"failed", "error"?}]}, one record entry
 * per input record, in order: "success" when it produced at least one
 * event; a record of another table, a KEYS_ONLY / NEW_IMAGE / OLD_IMAGE
 * record that lacks the image it needs, or a change that yields no event
 * is "skipped"; a malformed record (not an object, eventSourceARN missing
 * or not such an ARN, eventName not INSERT, MODIFY or REMOVE, dynamodb not
 * an object, Keys / NewImage / OldImage not a valid item (null counts as
 * absent), ApproximateCreationDateTime not a number of years 0000..9999,
 * eventID not a string) is "failed" with a short message and does not stop
 * the others (nor set the thread's last error). Limits: 6 MiB (a Lambda
 * payload), 10000 records. Errors (the whole call): OMNI_EJSON, OMNI_EINVAL
 * (not an object, no Records array, now_ms outside years 0000..9999),
 * OMNI_ETOOLARGE, OMNI_ENOMEM.
 */
OMNI_API int omni_dynamodb_stream_events(char **out, size_t *out_len, const char *event_json,
                                         size_t len, int64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif
