/*
 * libomni — carrier adapters, inbound side: verify a carrier's webhook
 * request and parse it into normalized events (seed 001's
 * IdentityLookupEvent for messages, delivery-status events for status
 * callbacks).
 *
 *   omni_inbound *in;                 // compiled once from configuration
 *   omni_inbound_new(&in, config, len, NULL);
 *   omni_webhook *req;                // one per received request
 *   omni_webhook_new(&req, "POST", "/webhooks/twilio?x=1");
 *   omni_webhook_add_header(req, "Host", "hooks.example.com"); ...
 *   omni_webhook_set_body(req, body, body_len);
 *   char *result; size_t n;
 *   omni_inbound_handle(&result, &n, in, engine, "twilio", req);
 *
 * Verification always happens before anything is parsed for use, in
 * constant time. A missing or wrong signature, an unknown carrier, a
 * malformed body or a body over the limit gives a distinct error
 * (OMNI_ESIGNATURE, OMNI_ECARRIER, OMNI_EWEBHOOK, OMNI_ETOOLARGE) and no
 * events. Secrets never appear in messages or results.
 *
 * Built-in carriers: "twilio", "whatsapp" (Meta WhatsApp Cloud API),
 * "bandwidth" (Messaging v2), "messagebird" (Bird Conversations),
 * "livechat", "inteliquent". Hosts add their own through an
 * omni_carrier_adapter table.
 *
 * Thread-safety: omni_inbound and a filled omni_carriers registry are
 * immutable and shareable; an omni_webhook belongs to one thread at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_CARRIER_H
#define OMNI_CARRIER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

#define OMNI_WEBHOOK_MAX_BODY (1024u * 1024u)
#define OMNI_WEBHOOK_MAX_URL (8u * 1024u)
#define OMNI_WEBHOOK_MAX_HEADERS 128
/* Events one request may yield (OMNI_ETOOLARGE beyond). */
#define OMNI_WEBHOOK_MAX_EVENTS 1000

/* The namespace of every event's correlationId:
 * correlationId = UUIDv5(OMNI_CARRIER_MESSAGE_NAMESPACE, carrier + ":" +
 * carrier message id), e.g. UUIDv5(ns, "twilio:SM123..."). The namespace
 * itself is UUIDv5(OMNI_UUID_NS_URL, "urn:libomni:carrier-message"). */
#define OMNI_CARRIER_MESSAGE_NAMESPACE "0db08d7e-55c5-5152-9b91-0d896bfc46cf"

/* ---- the received request --------------------------------------------- */

typedef struct omni_webhook omni_webhook;

/* method: an upper-case token of 1..32 letters ("POST", "GET"); url: as
 * received — an origin-form target ("/hooks/twilio?a=b") or an absolute
 * http(s) URL with a host and no user information — of 1 to
 * OMNI_WEBHOOK_MAX_URL printable ASCII bytes (percent-encode others).
 * Errors: OMNI_EINVAL, OMNI_ETOOLARGE, OMNI_ENOMEM; *out is NULL then. */
OMNI_API int omni_webhook_new(omni_webhook **out, const char *method, const char *url);
OMNI_API void omni_webhook_free(omni_webhook *request);
/* Appends a header (order kept, repeated names allowed) with the rules of
 * omni_http_request_add_header: a token name, no CR, LF or NUL in the
 * value, name + value at most 16 KiB, at most OMNI_WEBHOOK_MAX_HEADERS.
 * Errors: OMNI_EINVAL, OMNI_ETOOLARGE, OMNI_ENOMEM; nothing changes then. */
OMNI_API int omni_webhook_add_header(omni_webhook *request, const char *name, const char *value);
/* The body (copied, binary-safe); at most OMNI_WEBHOOK_MAX_BODY bytes
 * (OMNI_ETOOLARGE; the old body stays). */
OMNI_API int omni_webhook_set_body(omni_webhook *request, const void *body, size_t len);
/* JSON form {"method","url","headers":{...}|[[n,v],...],"body"|"bodyBase64"}
 * (the CLI's REQUEST files): "method" and "url" required, "body" (text) and
 * "bodyBase64" (RFC 4648 section 4) exclusive; unknown or repeated keys
 * and the rules above give OMNI_EWEBHOOK, a \u0000 escape or malformed
 * JSON OMNI_EJSON, a body over the limit OMNI_ETOOLARGE (documents are at
 * most 8 MiB). */
OMNI_API int omni_webhook_from_json(omni_webhook **out, const char *json, size_t len);
OMNI_API const char *omni_webhook_method(const omni_webhook *request);
OMNI_API const char *omni_webhook_url(const omni_webhook *request);
/* First header of that name (ASCII case-insensitive) or NULL. */
OMNI_API const char *omni_webhook_header(const omni_webhook *request, const char *name);
OMNI_API size_t omni_webhook_header_count(const omni_webhook *request);
/* The i-th header's name / value, or NULL when i is out of range. */
OMNI_API const char *omni_webhook_header_name(const omni_webhook *request, size_t i);
OMNI_API const char *omni_webhook_header_value(const omni_webhook *request, size_t i);
/* The body, NUL-terminated for convenience ("" when empty; NULL only for
 * a NULL request), and its length (len may be NULL). Borrowed. */
OMNI_API const char *omni_webhook_body(const omni_webhook *request, size_t *len);

/* ---- host adapters ----------------------------------------------------- */

/* Lent to a host adapter's parse callback (valid during that call only):
 * hands over one event, a JSON object in the normalized shape (see
 * omni_inbound_handle). "kind" must be "message" (with "message": {"id":
 * "..."}) or "status" (with "carrierMessageId" and a "status" of the
 * documented set); "carrier" is set to the adapter's name, "correlationId"
 * derived as documented unless given; the other members are copied as
 * they are. Errors: OMNI_EINVAL (not such an object; nothing is added),
 * OMNI_EJSON, OMNI_ETOOLARGE (more than OMNI_WEBHOOK_MAX_EVENTS). */
typedef struct omni_event_sink omni_event_sink;
OMNI_API int omni_event_emit(omni_event_sink *sink, const char *event_json, size_t len);

#define OMNI_CARRIER_ADAPTER_VERSION 1u

/*
 * A host's carrier adapter. `settings_json` is the carrier's object from
 * the inbound configuration ("carriers": {"<name>": {...}}), `public_url`
 * the request's public URL as reconstructed by libomni (see
 * omni_inbound_new). verify returns OMNI_OK or OMNI_ESIGNATURE (or another
 * error); parse calls omni_event_emit once per event and returns OMNI_OK or
 * OMNI_EWEBHOOK. parse is only called after verify succeeded.
 */
typedef struct omni_carrier_adapter {
    unsigned version;
    void *ctx;
    const char *name; /* 1..32 bytes of [a-z0-9_-]; copied */
    int (*verify)(void *ctx, const omni_webhook *request, const char *public_url,
                  const char *settings_json, size_t settings_len, int64_t now_ms);
    int (*parse)(void *ctx, const omni_webhook *request, const char *settings_json,
                 size_t settings_len, omni_event_sink *sink);
} omni_carrier_adapter;

#define OMNI_CARRIER_ADAPTER_INIT {OMNI_CARRIER_ADAPTER_VERSION, NULL, NULL, NULL, NULL}
OMNI_API int omni_carrier_adapter_init(omni_carrier_adapter *adapter, unsigned version);

/* A registry of adapters: the built-in ones plus the host's. A registry
 * being filled belongs to one thread at a time. */
typedef struct omni_carriers omni_carriers;
OMNI_API int omni_carriers_new(omni_carriers **out) OMNI_WARN_UNUSED;
/* Adds or replaces (a host adapter may replace a built-in one); the table
 * is copied (ctx is borrowed and must outlive every omni_inbound made with
 * the registry). Errors: OMNI_EVERSION (version 0 or newer than
 * OMNI_CARRIER_ADAPTER_VERSION), OMNI_EINVAL (bad name, verify or parse
 * missing), OMNI_ENOMEM. */
OMNI_API int omni_carriers_register(omni_carriers *registry, const omni_carrier_adapter *adapter);
OMNI_API void omni_carriers_free(omni_carriers *registry);
/* The names known, as a JSON array (built-ins first, then registration
 * order). */
OMNI_API int omni_carriers_list(char **out, size_t *out_len, const omni_carriers *registry);

/* ---- inbound handling -------------------------------------------------- */

typedef struct omni_inbound omni_inbound;

/*
 * Compiles the inbound configuration (secrets are copied and never echoed):
 *   {"publicBaseUrl": "https://hooks.example.com",  the URL the carrier
 *        signed is this base (which may end in a path prefix, "/api") + the
 *        request's path and query; when absent the URL is rebuilt from the
 *        request: the scheme and authority of an absolute request URL, else
 *        "https" and the Host header; only when "trustForwardedHeaders" is
 *        true, the first element of X-Forwarded-Proto (http|https),
 *        X-Forwarded-Host and X-Forwarded-Port replace them. A scheme's
 *        default port (443, 80) is left out and a fragment dropped; Twilio's
 *        signature is accepted over the URL with or without its port, as
 *        Twilio's SDKs do. Without a usable host the URL is unknown (an
 *        adapter then gets "" and signature checks needing it fail).
 *    "trustForwardedHeaders": false,
 *    "maxBodyBytes": 1048576,                   1..OMNI_WEBHOOK_MAX_BODY
 *    "defaultRegion": "US",   for carrier addresses without a country code
 *    "carriers": {
 *      "twilio":      {"authToken": "..."},
 *      "whatsapp":    {"appSecret": "...", "verifyToken": "..."},
 *      "messagebird": {"signingKey": "...", "leewaySeconds": 5},
 *      "bandwidth":   {"username": "...", "password": "..."},
 *      "livechat":    {"secretKey": "..."},
 *      "inteliquent": {"header": "X-Inteliquent-Secret", "secret": "..."},
 *      "<host adapter>": {...}}}
 * A carrier without settings cannot be verified: its requests fail with
 * OMNI_ESIGNATURE (unless its settings say "verify": false, for tests).
 * Unknown keys, unknown carriers, repeated keys and values of the wrong
 * type fail, and so do settings a built-in carrier does not know (the
 * ones shown, and "verify"). `registry` may be NULL (built-ins only); it
 * is copied. Errors: OMNI_EJSON, OMNI_ECONFIG (details {"path":
 * "carriers.twilio.authToken"}; the message names the path, never a
 * value), OMNI_ENOMEM.
 */
OMNI_API int omni_inbound_new(omni_inbound **out, const char *config_json, size_t len,
                              const omni_carriers *registry) OMNI_WARN_UNUSED;
OMNI_API void omni_inbound_free(omni_inbound *inbound);

/* Verifies only (for Meta's GET subscription handshake: hub.mode and the
 * verify token). OMNI_OK, or OMNI_ECARRIER, OMNI_ETOOLARGE (checked in
 * that order before anything else), OMNI_ESIGNATURE, OMNI_EWEBHOOK. The
 * engine gives the clock (MessageBird's JWT, event timestamps); NULL:
 * system. */
OMNI_API int omni_inbound_verify(const omni_inbound *inbound, const omni_engine *engine,
                                 const char *carrier, const omni_webhook *request);

/*
 * Verifies and parses a request. Result:
 *   {"carrier": "twilio",
 *    "events": [ ... ],
 *    "response": {"status": 200, "headers": {...}, "body": "..."}}
 * where "response" is what the host should answer the carrier (Twilio: an
 * empty TwiML <Response/>; Meta's GET subscription handshake: the
 * hub.challenge) and each event is one of
 *   {"kind": "message", <IdentityLookupEvent fields: correlationId, carrier,
 *    channelType, senderIdentifier, recipientIdentifier, message {id,
 *    content, contentType, mediaUrls, timestamp}, rawPayload>, plus
 *    "media": [{"url"|"id", "contentType"?, "caption"?, "filename"?,
 *    "sha256"?}], "location"? {latitude, longitude, name?, address?},
 *    "contacts"?, "reply"? {id, title} (interactive/button),
 *    "reaction"? {messageId, emoji?}, "senderName"?, "context"?
 *    {messageId} (the replied-to message)}
 *   {"kind": "status", "correlationId", "carrier", "carrierMessageId",
 *    "status": "queued"|"sent"|"delivered"|"read"|"failed"|"undelivered",
 *    "errorCode"?, "errorMessage"?, "timestamp", "recipient"?}
 * correlationId is a UUIDv5 of carrier and carrier message id (see
 * OMNI_CARRIER_MESSAGE_NAMESPACE), so a redelivered webhook gives the same
 * ids, and a status event has the id of the message it reports on. A
 * webhook carrying several messages yields several events (at most
 * OMNI_WEBHOOK_MAX_EVENTS; the result at most 64 MiB: OMNI_ETOOLARGE).
 * Event details: message.timestamp is the carrier's time of the message,
 * or the engine's clock when the carrier sends none (Twilio);
 * "mediaUrls" is present when media have URLs; senderIdentifier and
 * recipientIdentifier hold E.164 numbers where the address is a phone
 * number (omni_phone_to_e164 with "defaultRegion"), else userId /
 * shortCode / businessId; rawPayload is the body as JSON (minified), or
 * the form fields of a form body or a GET's query (a repeated name: an
 * array of its values). Carrier-specific members: twilio "accountSid",
 * "messagingServiceSid"; whatsapp "messageType" and "errors" for message
 * types without a normalized form (system, order, unsupported...).
 * Twilio's MessageStatus maps accepted|scheduled|queued|sending -> queued,
 * sent|partially_delivered -> sent, canceled -> failed, the others to
 * themselves; statuses a carrier adds later are logged (warn) and yield no
 * event. The response's "headers" is an object ({} when none).
 * Errors: as omni_inbound_verify, then OMNI_EWEBHOOK (malformed; no
 * events), OMNI_ETOOLARGE, OMNI_EHOOK (a host adapter's callback returned
 * a positive number), OMNI_EINVAL, OMNI_ENOMEM; *out is NULL then.
 * A webhook that is neither a message
 * from a customer nor a delivery status (LiveChat chat_deactivated and an
 * agent's own messages, MessageBird conversation.* events, Bandwidth event
 * types other than message-received/-sending/-delivered/-failed) is
 * acknowledged with no event.
 */
OMNI_API int omni_inbound_handle(char **out, size_t *out_len, const omni_inbound *inbound,
                                 const omni_engine *engine, const char *carrier,
                                 const omni_webhook *request);

#ifdef __cplusplus
}
#endif

#endif
