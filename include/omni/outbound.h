/*
 * libomni — carrier adapters, outbound side (seed 001's publishOutbound,
 * seed 000's sms/email/whatsapp handlers): sans-I/O. An adapter turns one
 * outbound message into the exact HTTP request of the provider's public
 * API, and the provider's HTTP response into a result. Nothing here touches
 * the network; the delivery engine (or the host) sends the request through
 * a transport.
 *
 *   omni_outbound *ob;
 *   omni_outbound_new(&ob, config_json, config_len);       // providers + credentials
 *   omni_http_request *req;
 *   omni_outbound_build(&req, ob, NULL, event_json, event_len, now_ms);
 *   omni_http_response *resp;
 *   omni_transport_send(transport, req, &resp);
 *   char *result; size_t n;
 *   omni_outbound_parse(&result, &n, ob, "twilio", resp, now_ms);
 *
 * ---- Configuration (JSON object, at most OMNI_LIMIT_CONFIG_BYTES) --------------
 * One member per provider that is used; every member optional:
 *   "twilio":   {"accountSid": "AC...", "authToken": SECRET
 *                | "apiKeySid": "SK...", "apiKeySecret": SECRET,
 *                "messagingServiceSid"?: "MG...", "statusCallback"?: URL,
 *                "baseUrl"?: "https://api.twilio.com"}
 *   "whatsapp": {"accessToken": SECRET, "phoneNumberId": "1234",
 *                "apiVersion"?: "v21.0", "baseUrl"?: "https://graph.facebook.com"}
 *   "aws-sns":  {"region": "us-east-1", "accessKeyId": SECRET, "secretAccessKey": SECRET,
 *                "sessionToken"?: SECRET, "smsType"?: "Transactional"|"Promotional",
 *                "senderId"?: "...", "originationNumber"?: "+1...", "endpoint"?: URL}
 *   "aws-ses":  {"region", "accessKeyId", "secretAccessKey", "sessionToken"?,
 *                "fromEmailAddress": "...", "configurationSetName"?, "endpoint"?: URL}
 *   "sendgrid": {"apiKey": SECRET, "from": {"email", "name"?}, "baseUrl"?: URL}
 *   "bandwidth": {"accountId": "9900000", "username": "...", "password": SECRET,
 *                 "applicationId": "...", "baseUrl"?: "https://messaging.bandwidth.com"}
 *   "messagebird": {"accessKey": SECRET, "channelId": "...",
 *                   "baseUrl"?: "https://conversations.messagebird.com"}
 *   "inteliquent": {"token": SECRET, "baseUrl"?: "https://messagebroker.inteliquent.com"}
 *   "smtp":     {"url": "smtps://smtp.example.com:465" | "smtp://smtp.example.com:587",
 *                "username"?: "...", "password"?: SECRET (both or neither),
 *                "tls"?: "required" (default) | "none", "from": {"email", "name"?},
 *                "replyTo"?: "help@example.com"}
 * SECRET is a string or {"env": "NAME"}, read from the environment when the
 * configuration is compiled. "baseUrl" / "endpoint" let tests point a
 * provider at a local server (http://127.0.0.1:PORT). Secret values never
 * appear in errors, results or logs.
 *
 * ---- The message (JSON, at most OMNI_OUTBOUND_MAX_EVENT bytes) ---------------
 * The seed's PublishOutboundEvent:
 *   {"correlationId", "messageType": "reply"|"auto_response"|"broadcast"|"notification",
 *    "recipient": {"customerId", "channelIdentifier": "+14155550100" | "ada@example.com",
 *                  "carrier": "twilio", "channel": "sms"|"whatsapp"|"email"},
 *    "message": {"content", "contentType": "text"|"media"|"template"|"interactive",
 *                "mediaUrls"?: [...], "templateId"?, "templateParams"?: {...},
 *                "buttons"?: [...], ...provider members documented per adapter},
 *    "routing": {"accountId", "conversationId", "fromNumber"?, "businessId"?},
 *    "options"?: {...}, "serviceWindow"?: {"open": bool}}
 * "serviceWindow" is the conversation's WhatsApp window as
 * omni_conversation_window reports it; when it says closed, the whatsapp
 * adapter refuses free-form content with OMNI_EWINDOW (templates pass).
 *
 * ---- The result (JSON) ----------------------------------------------------------
 *   {"success": true, "carrier": "twilio", "carrierMessageId": "SM...",
 *    "status": "queued"|"sent"|"accepted"|"failed",
 *    "cost"?: 0.0075, "currency"?: "USD",
 *    "error"?: {"code": "RATE_LIMITED", "providerCode": "20429",
 *               "message": "...", "retryable": true},
 *    "retryAfterMs"?: 30000}
 * Error classes (error.code): RATE_LIMITED (429, retryable, Retry-After
 * honoured as retryAfterMs), PROVIDER_UNAVAILABLE (5xx, retryable),
 * AUTH_FAILED, INVALID_RECIPIENT, RECIPIENT_OPTED_OUT, TEMPLATE_REJECTED,
 * WINDOW_CLOSED, INVALID_REQUEST (not retryable), and PROVIDER_ERROR for
 * anything else (retryable only for a 5xx). An HTTP error is a result with
 * success false, not a failing call.
 *
 * ---- Providers ---------------------------------------------------------------------
 * twilio: POST {baseUrl}/2010-04-01/Accounts/{accountSid}/Messages.json,
 * form-encoded, HTTP Basic auth (accountSid:authToken or apiKeySid:apiKeySecret).
 * Sender: routing.fromNumber -> From, else the configured messagingServiceSid
 * -> MessagingServiceSid (neither: OMNI_EINVAL). contentType "text": content ->
 * Body; "media": mediaUrls (1..10) -> MediaUrl each, content -> Body if given;
 * "template": templateId (Content SID "HX...") -> ContentSid, templateParams
 * (object of strings) -> ContentVariables JSON. message.statusCallback or the
 * configured statusCallback -> StatusCallback. recipient.channel "whatsapp"
 * prefixes To and From with "whatsapp:". Result: sid, status queued/accepted/
 * sent, cost = |price| with price_unit when Twilio reports one; error codes
 * 21211/21614/21612 INVALID_RECIPIENT, 21610 RECIPIENT_OPTED_OUT, 63016
 * WINDOW_CLOSED, 21655/21656/63027/63028 TEMPLATE_REJECTED, 20003 AUTH_FAILED,
 * 20429 RATE_LIMITED, 20500/20503 PROVIDER_UNAVAILABLE (lib/outbound/twilio.c).
 *
 * whatsapp (Cloud API): POST {baseUrl}/{apiVersion}/{phoneNumberId}/messages,
 * Bearer accessToken, JSON {"messaging_product":"whatsapp","recipient_type":
 * "individual","to": digits of channelIdentifier (without "whatsapp:" and "+")}.
 * "text": content, previewUrl?; "template": message.template {name, language,
 * components?} passed through, or templateId + language? ("en_US") +
 * templateParams (array -> positional body parameters, object -> named ones);
 * "media": media {type image|document|audio|video|sticker, link | id,
 * caption?, filename? (document)} or mediaUrls [one URL] + mediaType? ("image")
 * with content as caption; "interactive": content (body), header?, footer?,
 * buttons (1..3, strings or {id, title}) or sections [{title?, rows [{id,
 * title, description?}]}] (10 rows at most) + buttonText; replyTo -> context.
 * Everything but a template is OMNI_EWINDOW while serviceWindow.open is false.
 * Result: messages[0].id, status "accepted"; error codes 131047 WINDOW_CLOSED,
 * 131026/131021/131030 INVALID_RECIPIENT, 131050 RECIPIENT_OPTED_OUT, 132xxx
 * TEMPLATE_REJECTED, 0/3/10/190/2xx AUTH_FAILED, 4/80007/130429/131048/131056
 * RATE_LIMITED, 1/2/131000/131016 PROVIDER_UNAVAILABLE, 100/131008/131009/
 * 131051/131052/131053 INVALID_REQUEST (lib/outbound/whatsapp.c).
 *
 * aws-sns: SNS Publish (Query API 2010-03-31) to a phone number, SigV4
 *   (service "sns"). message: "content" (text, 1..1600 bytes), "contentType"
 *   "text" only, "smsType"? / "senderId"? overriding the config; the
 *   recipient is E.164. smsType, senderId and originationNumber become
 *   the AWS.SNS.SMS.SMSType, AWS.SNS.SMS.SenderID and
 *   AWS.MM.SMS.OriginationNumber message attributes. Result status
 *   "accepted" with the MessageId; error Codes: Throttled/Throttling
 *   RATE_LIMITED, OptedOut RECIPIENT_OPTED_OUT, InvalidParameter on
 *   PhoneNumber and EndpointDisabled INVALID_RECIPIENT, AuthorizationError
 *   and signature/token errors AUTH_FAILED, InternalError
 *   PROVIDER_UNAVAILABLE (lib/outbound/aws_sns.c lists them all).
 *
 * aws-ses: SES v2 SendEmail, SigV4 (service "ses"). message: "subject",
 *   "text"/"html" ("content" as text when both are absent) -> Content.Simple;
 *   "templateId" (+ "templateParams" object) -> Content.Template;
 *   "attachments" [{"filename","contentType"?,"contentBase64"}] ->
 *   Content.Raw, the MIME message described under smtp (From is the configured
 *   fromEmailAddress as it is). Result "accepted" with MessageId; x-amzn-ErrorType
 *   TooManyRequestsException RATE_LIMITED, MessageRejected/BadRequest
 *   INVALID_REQUEST, NotFound of a template TEMPLATE_REJECTED,
 *   AccountSuspended/SendingPaused PROVIDER_ERROR (not retryable).
 *
 * sendgrid: v3 /mail/send with Bearer apiKey. message: "subject", "text"/
 *   "html"/"content", "templateId" (+ "templateParams" as
 *   dynamic_template_data), "attachments" as for aws-ses; correlationId
 *   goes to custom_args. Result "accepted" with the X-Message-Id header;
 *   errors (no codes: providerCode is the HTTP status) 400 INVALID_REQUEST
 *   (INVALID_RECIPIENT for a personalizations field, TEMPLATE_REJECTED for
 *   template_id), 401/403 AUTH_FAILED, 413 INVALID_REQUEST, 429, 5xx.
 *
 * bandwidth (Messaging API v2): POST {baseUrl}/api/v2/users/{accountId}/messages,
 *   HTTP Basic auth (username:password, or API token:secret), JSON {"to": [recipient],
 *   "from": routing.fromNumber (required), "text", "applicationId", "media"?, "tag"?,
 *   "priority"?}. message: "text" content; "media" mediaUrls (1..10) with content as
 *   optional text; "tag" (<= 1024 bytes; default the correlationId), "priority"
 *   "default"|"high". Result: 202 id, status "accepted"; errors {type, description,
 *   fieldErrors} by HTTP status (providerCode = type): 400 INVALID_REQUEST
 *   (INVALID_RECIPIENT when fieldErrors names "to"), 401/403 AUTH_FAILED, 429, 5xx
 *   (lib/outbound/bandwidth.c).
 *
 * messagebird (Conversations API): POST {baseUrl}/v1/send, "Authorization: AccessKey
 *   {accessKey}", JSON {"to": recipient, "from": routing.channelId or the configured
 *   channelId, "type", "content", "reportUrl"?}. message: "text" content -> {"text"};
 *   "media" mediaUrls [one URL] + mediaType? image|video|audio|file -> {<type>: {url,
 *   caption? (content; not for audio)}}; "reportUrl"?. Result: id, status "accepted";
 *   errors {"errors": [{code, description, parameter}]}: 2 AUTH_FAILED, 9/10
 *   INVALID_REQUEST (INVALID_RECIPIENT for parameter "to"), 20/21/98 INVALID_REQUEST,
 *   25 (balance) PROVIDER_ERROR, 99 PROVIDER_UNAVAILABLE, else by HTTP status
 *   (lib/outbound/messagebird.c).
 *
 * inteliquent (message broker): POST {baseUrl}/msgbroker/rest/publishMessages, Bearer
 *   token, JSON {"from": digits, "to": [digits], "text"?, "mediaUrls"?} (numbers
 *   without "+"; routing.fromNumber required). message: "text" content; "media"
 *   mediaUrls (1..10) with content as optional text. Result: {"success": true,
 *   "result": {"referenceId"}} -> "accepted"; {"success": false, "reason", "detail"}
 *   PROVIDER_ERROR; otherwise by HTTP status. Followed from SDK-level documentation
 *   only; the error vocabulary is unconfirmed (lib/outbound/inteliquent.c).
 *
 * smtp (the seed's email fallback; RFC 5321 submission through a transport that
 *   speaks SMTP, as the curl transport does): the request is method "SEND" to the
 *   configured url (smtp:// with STARTTLS or smtps:// with implicit TLS; host,
 *   optional port, optional path "/<helo-domain>" for EHLO; no userinfo, query or
 *   other path) with the header fields "Mail-From: <from.email>", "Rcpt-To:
 *   <recipient>", "Smtp-Tls: required|none" and, with credentials, "Authorization:
 *   Basic base64(username:password)" (username without ':'); the body is the
 *   message. "tls": "none" is only accepted for smtp:// to 127.0.0.1, [::1] or
 *   localhost (tests, local relays). The recipient is an address local@domain
 *   (dot-atom local part of at most 64 bytes, LDH domain labels, at most 254
 *   bytes; no quoted local parts, domain literals or non-ASCII addresses).
 *   message: "subject" (required, at most 998 bytes, no control characters),
 *   "text"/"html" ("content" as text when both are absent), "attachments" as for
 *   aws-ses; contentType "text" or "media"; "templateId" and contentType
 *   "template" are OMNI_EINVAL (no provider templates: render first). A CR or LF
 *   in the subject, a filename, the recipient or a configured name or address is
 *   refused, naming the member (OMNI_EINVAL; OMNI_ECONFIG in the configuration).
 *   The message (RFC 5322, MIME): Date (now_ms, "+0000"; OMNI_ETIME outside the
 *   years 1970..9999), From (name as atoms, a quoted-string or RFC 2047 "B"
 *   encoded-words), Reply-To?, To, Subject (encoded-words when not ASCII or when
 *   it looks like one; folded to 78 columns, lines with encoded-words to 76),
 *   Message-ID "<32 hex digits@from-domain>" (SHA-256 of correlationId and the
 *   recipient, and of now_ms when there is no correlationId: the same event gives
 *   the same id), MIME-Version; one text part, multipart/alternative (text, then
 *   HTML) and multipart/mixed around it with the attachments (base64 in lines of
 *   76); text parts 7bit when printable ASCII with lines of at most 998 bytes,
 *   else quoted-printable; CRLF line ends everywhere; boundaries from
 *   correlationId that cannot occur in any part. The response (what the transport
 *   makes of the SMTP exchange) has the server's reply code as status and its
 *   reply lines as body. 2xx -> "accepted", carrierMessageId the queue id of the
 *   reply ("queued as X", "id=X") and absent when it names none (SMTP has no
 *   message id of its own; the Message-ID is in the request body). Refusals are
 *   classed by the RFC 3463 enhanced code when the reply has one of its class,
 *   else by the reply code; providerCode "550 5.1.1" (or "550"): every 4xx is
 *   retryable, RATE_LIMITED for 452 or a text speaking of a rate, "too many" or
 *   throttling (4.7.x throttling replies), else PROVIDER_UNAVAILABLE (421, 450,
 *   451, 454); AUTH_FAILED for 530, 534, 535, 538, X.7.8, X.7.9, X.7.11 (RFC 4954);
 *   INVALID_RECIPIENT for X.1.x (but X.1.7/X.1.8, the sender: INVALID_REQUEST),
 *   X.2.1, X.2.2 and, without an enhanced code, 550, 551, 553; INVALID_REQUEST
 *   (too big) for X.2.3, X.3.4 and 552; PROVIDER_ERROR (policy, spam, not
 *   retryable) for other X.7.x and 554; INVALID_REQUEST for other 5xx; anything
 *   else (1xx, 3xx) PROVIDER_ERROR (lib/outbound/smtp.c, lib/outbound/mime.c).
 *
 * Thread-safety: a compiled omni_outbound is immutable and shareable.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_OUTBOUND_H
#define OMNI_OUTBOUND_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_outbound omni_outbound;
typedef struct omni_http_request omni_http_request;
typedef struct omni_http_response omni_http_response;

#define OMNI_OUTBOUND_MAX_EVENT (1024u * 1024u)

/*
 * Compiles a provider configuration (see above) into *out, released with
 * omni_outbound_free. Errors: OMNI_ECONFIG (details {"path": ...}; a
 * missing environment variable names the variable, never a value),
 * OMNI_EINVAL (NULL out), OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ENOMEM.
 */
OMNI_API int omni_outbound_new(omni_outbound **out, const char *config_json,
                               size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_outbound_free(omni_outbound *outbound);

/* The provider names this library has outbound adapters for, in a static
 * NULL-terminated list ("twilio", "whatsapp", ...). */
OMNI_API const char *const *omni_outbound_carriers(void);

/*
 * Builds the request that sends one message with `carrier` (NULL: the
 * message's recipient.carrier). now_ms stamps signed requests (SigV4).
 * *out is released with omni_http_request_free.
 * Errors: OMNI_ECARRIER (no such adapter), OMNI_ECONFIG (the provider is
 * not configured), OMNI_EINVAL (a member missing or of the wrong type, a
 * recipient the provider cannot address; the message names the member),
 * OMNI_EWINDOW (whatsapp free-form content while the window is closed),
 * OMNI_ETIME (now_ms a SigV4 signature or an email's Date cannot show),
 * OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ENOMEM.
 */
OMNI_API int omni_outbound_build(omni_http_request **out, const omni_outbound *outbound,
                                 const char *carrier, const char *event_json, size_t len,
                                 int64_t now_ms);

/*
 * Reads the provider's response to a request built for `carrier` into the
 * result JSON (see above). now_ms turns an HTTP-date Retry-After into
 * retryAfterMs. Errors: OMNI_ECARRIER, OMNI_EINVAL (NULL), OMNI_ENOMEM; a
 * response the provider would never send (not JSON where JSON is
 * documented) is a result with error PROVIDER_ERROR, not a failure.
 */
OMNI_API int omni_outbound_parse(char **out, size_t *out_len, const omni_outbound *outbound,
                                 const char *carrier, const omni_http_response *response,
                                 int64_t now_ms);

#ifdef __cplusplus
}
#endif

#endif
