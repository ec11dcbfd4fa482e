/*
 * libomni — pre-routing (seed 001's workFlowPreRoute): content analysis,
 * opt-out compliance, routing rules, auto-responses by business hours, and
 * the routing decision, for one PreRouteEvent.
 *
 *   omni_preroute *p;
 *   omni_preroute_compile(&p, config_json, config_len);
 *   char *out; size_t n;
 *   omni_preroute_run(&out, &n, engine, p, event_json, event_len);   // PreRouteResult
 *   omni_free(out);
 *   omni_preroute_free(p);
 *
 * ---- Configuration (JSON object, at most OMNI_LIMIT_CONFIG_BYTES) -------------
 *   {"defaults": ACCOUNT,                 used for accounts not listed, and as
 *                                         the base of every listed account
 *    "accounts": [ {"accountId": "acc-1", ...ACCOUNT members...}, ... ],
 *    "templates": {"greeting": {"en": "Hi {{identity.profile.firstName}}!",
 *                               "hi": "..."}, ...},
 *    "analyzer": {...omni_analyzer_compile configuration...}}
 * ACCOUNT members (each optional; a listed account's member replaces the
 * default's member as a whole):
 *   "timeZone": IANA zone (default "UTC"), for business hours and time.*
 *   "locale": default language of responses (default "en")
 *   "businessHours": {"weekly": {"mon": [["09:00","18:00"]], ...},
 *                     "holidays": ["2026-12-25"]}   (absent: always open)
 *   "rules": a rules document (omni/rules.h)
 *   "autoResponses": {"greeting": {"enabled": true, "templateId": "greeting"},
 *                     "away": {...}, "acknowledgment": {...},
 *                     "windowSeconds": 86400}   at most one auto-response per
 *                     conversation per window (default 24 h; 0 = no limit);
 *                     an entry's "enabled" defaults to true, and its
 *                     templateId is required when enabled
 *   "optOut": {...keywords as lib/rules/optout.h: stop/start/help/courtesy/
 *              locales..., "confirmations": {"stop": "templateId",
 *              "start": "templateId", "help": "templateId"}}
 *   "priority": {"vipTags": ["vip"], "urgencyWords": ["urgent", "asap", ...]}
 *              (defaults: ["vip"]; urgent, asap, emergency, immediately,
 *              "right away"; VIP tags compare case-insensitively, urgency
 *              words as whole words after the opt-out normalization)
 *   "defaultDestination": {"type": "queue", "id": "default", "name": "Default Queue"}
 *   "analyzer": {...omni_analyzer_compile configuration...}   the account's own
 *              intents, lexicon, blocklists and entity patterns (absent: the
 *              defaults', else the top-level "analyzer")
 *              (type agent|queue|bot|external, id required, name defaults to
 *              the id, metadata an optional object)
 * Templates are rendered (Handlebars, no HTML escaping) with the event plus
 * "contentAnalysis" as data, in the first language the template has of:
 * identity.preferences.language, the detected language, the account locale,
 * "en", else its first. Every template id named anywhere must exist.
 *
 * ---- What one run does ---------------------------------------------------------
 * event: PreRouteEvent {correlationId, conversation, messageState, routing
 * {accountId,...}, identity, message {content, contentType, direction?,...}}
 * (at most OMNI_PREROUTE_MAX_EVENT bytes).
 *  1. Opt-out keywords (inbound text from the customer only: not outbound,
 *     bot, agent or auto-generated messages; classified with the locale
 *     identity.preferences.language, else the account's locale; the
 *     customer is identity.customerId, else routing.customerId, and a STOP
 *     or START without one is OMNI_EINVAL): STOP records the customer as
 *     opted out for the account (ledger, below) and answers the stop
 *     confirmation once, when the status changes; START / UNSTOP / YES opt
 *     back in with the start confirmation; HELP answers the help text. Such
 *     a message is not routed to agents: action "auto_respond" (or "block"
 *     when there is nothing to say: no template, or the status did not
 *     change), tags ["opt_out"|"opt_in"|"help"], priority 0, the account's
 *     default destination; its analysis is the built-in one (the hook is
 *     not called). START / UNSTOP / YES from a customer who is not opted
 *     out is an ordinary message (a "yes" reaches the agents). A retry of
 *     the message that changed the status (same messageState.messageId, or
 *     message.id, and the same content) answers again. Confirmations do not count against the
 *     auto-response window.
 *  2. Content analysis (built-in analyzer of the configuration, then the
 *     engine's analyzer hook if any).
 *  3. Spam, or a sender on the blocklist: action "block", destination
 *     {"type":"queue","id":"blocked","name":"Blocked Messages"}, priority 0,
 *     tags ["blocked","spam"], nextStep "terminate" (as the seed).
 *  4. Rules of the account, with facts = the event + "contentAnalysis"
 *     (+ "time" in the account's zone). A block action blocks as in 3
 *     (tags ["blocked"] and the rules' tags), escalate gives action
 *     "escalate" (an auto-response may still be sent with it).
 *  5. Auto-responder: a rule's auto_respond (responseType "custom"), else
 *     "away" outside business hours, else "greeting" when conversation.status
 *     is "new", else "acknowledgment" — each only when enabled, and only
 *     when the loop guard allows: never for outbound messages, messages from
 *     a bot or an agent (message.senderType / identity.customerType "bot"),
 *     messages marked auto-generated (message.autoResponse true,
 *     message.metadata.autoSubmitted or an "auto-submitted" header other than
 *     "no", "precedence" bulk/junk/list/auto_reply, "x-autoreply"), and at
 *     most once per conversation per window (store namespace "autoresponse",
 *     key conversationId, written by compare-and-swap so two hosts never
 *     both answer; a retry of the message that was answered, with the same
 *     message id and content, gets the same answer again). The conversation is
 *     conversation.conversationId, else routing.conversationId; without one
 *     no auto-response is sent. A customer who opted out (the ledger, or
 *     identity.preferences.optOutStatus true) gets none either: only the
 *     opt-out confirmation of step 1 ever goes to an opted-out customer.
 *  6. Destination: resolveDestination over the matched rules, else the
 *     account's defaultDestination. Priority (0-100): 50, +30 for a VIP tag
 *     in identity.profile.tags, +20 for an urgency word, +15 for negative
 *     sentiment, capped at 100; a rule's set_priority replaces it (low 25,
 *     normal 50, high 75, urgent 100). priorityLevel: urgent from 90, high
 *     from 70, normal from 40, else low. Tags: the rules' add_tag values,
 *     then the intents, then "vip", "urgent", "negative_sentiment" as they
 *     apply (no repeats). A destination without a name is named by its id.
 *
 * ---- Result (PreRouteResult) ---------------------------------------------------
 *   {"success": true, "correlationId": "...",
 *    "routingDecision": {"action": "route"|"auto_respond"|"block"|"escalate"|"queue",
 *        "destination": {type, id, name, metadata}, "priority": 75,
 *        "priorityLevel": "high", "tags": [...]},
 *    "autoResponse": {"enabled": true, "responseType": "greeting"|"away"|
 *        "acknowledgment"|"custom"|"opt_out"|"opt_in"|"help",
 *        "templateId": "...", "language": "en", "content": "..."},   (absent if none)
 *    "contentAnalysis": {...omni/analyze.h result...},
 *    "matchedRules": ["rule-id", ...],
 *    "optOut": {"status": "opted_out"|"opted_in", "changed": true},  (keyword only)
 *    "transformedMessage": {...event.message, "language", "priority", "tags"},
 *                           (language: the detected one, "und" when none)
 *    "nextStep": "publishOutbound"|"pushNotification"|"terminate",
 *    "nextSteps": [...]}    every step that applies: publishOutbound for an
 *                           auto-response, pushNotification when routed
 *                           (action route, queue or escalate)
 * action: "queue" when the destination is a queue, "route" for an agent or a
 * bot; "auto_respond" when an auto-response is sent; the seed's nextStep is
 * the first of nextSteps ("terminate" when empty).
 *
 * Thread-safety: a compiled omni_preroute is immutable and shareable; runs
 * are as thread-safe as the engine's store.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_PREROUTE_H
#define OMNI_PREROUTE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;
typedef struct omni_preroute omni_preroute;

#define OMNI_PREROUTE_MAX_EVENT (1024u * 1024u)
#define OMNI_PREROUTE_MAX_ACCOUNTS 10000

/*
 * Compiles a configuration (see above). Every account's rules, hours,
 * keywords and templates are compiled up front.
 * Errors: OMNI_ECONFIG (message and details {"path": "accounts[2].rules[0]
 * .conditions[0].operator", ...}; rule errors carry the rule errors list of
 * omni_rules_compile), OMNI_ENOTFOUND (unknown time zone), OMNI_EINVAL,
 * OMNI_EJSON, OMNI_ETOOLARGE, OMNI_ETOODEEP, OMNI_ENOMEM.
 */
OMNI_API int omni_preroute_compile(omni_preroute **out, const char *config_json,
                                   size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_preroute_free(omni_preroute *preroute);

/*
 * Runs pre-routing for one PreRouteEvent (see above); the clock, store and
 * analyzer hook are the engine's. *out is the PreRouteResult (omni_free).
 * Errors: OMNI_EINVAL (NULL argument, event not an object, members of the
 * wrong type or over 256 bytes, no routing.accountId or message, a NUL in
 * message.content), OMNI_EJSON, OMNI_ETOOLARGE (the event, or content over
 * the analyzer's limit), OMNI_ETOODEEP, a template's render error, the
 * analyzer hook's (OMNI_EHOOK) and the store's errors (retryable ones are
 * retryable: the run changed nothing it would not redo identically).
 */
OMNI_API int omni_preroute_run(char **out, size_t *out_len, omni_engine *engine,
                               const omni_preroute *preroute, const char *event_json,
                               size_t len);

/* ---- the opt-out ledger ---------------------------------------------------------
 * One record per (accountId, customerId) in store namespace "optout", key
 * "<accountId>/<customerId>": {"accountId","customerId","status":
 * "opted_out"|"opted_in","keyword","channel","updatedAt","messageId"?,
 * "messageHash"?}
 * (keyword: the message as written, at most 63 bytes; keyword and channel
 * null when unknown; messageId / messageHash: the message that made the
 * change, so that a retry of it is recognized). Ids are
 * 1..256 bytes of UTF-8 and an accountId holds no '/'. Outbound
 * marketing to an opted-out customer must not be sent; the one opt-out
 * confirmation is. */

/* The record as JSON {"accountId","customerId","status","keyword",
 * "channel","updatedAt"}; a customer never seen gives {"accountId",
 * "customerId","status":"opted_in"} (no updatedAt). Errors: OMNI_EINVAL
 * (NULL out or engine, a bad id), the store's. */
OMNI_API int omni_optout_get(char **out, size_t *out_len, omni_engine *engine,
                             const char *account_id, const char *customer_id);

/* Sets the status (opted_out 1 / 0) by hand (an agent or an import);
 * keyword and channel may be NULL. *changed (may be NULL) tells whether the
 * status changed (setting opted_in on a customer never seen writes
 * nothing). Errors: OMNI_EINVAL (NULL engine, ids empty, over 256 bytes,
 * not UTF-8, an accountId with '/', keyword or channel over 256 bytes),
 * the store's, OMNI_ECONFLICT (retryable) when the record kept changing
 * under 16 compare-and-swap attempts. */
OMNI_API int omni_optout_set(omni_engine *engine, const char *account_id,
                             const char *customer_id, int opted_out, const char *keyword,
                             const char *channel, int *changed);

#ifdef __cplusplus
}
#endif

#endif
