/*
 * libomni — the engine configuration: one JSON document that configures the
 * whole inbound workflow (seed 001) — accounts and their addresses, carrier
 * and push credentials, rules, business hours, auto-responses, templates,
 * the analyzer, the delivery engine, the workflow steps, storage and
 * transport — validated up front with every error reported by JSON path,
 * then compiled into the components' handles.
 *
 *   omni_config *cfg;
 *   if (omni_config_new(&cfg, json, len) != OMNI_OK)      // OMNI_ECONFIG:
 *       ... omni_error_last()->details lists {"errors": [{path, message}...]}
 *   omni_engine *e;
 *   size_t n;
 *   const char *ej = omni_config_engine_json(cfg, &n);     // storage + transport
 *   omni_engine_new(&e, ej, n, NULL);
 *   omni_config_apply(NULL, NULL, cfg, e);                 // routing, templates
 *   const omni_inbound *in = omni_config_inbound(cfg, NULL);
 *   const omni_preroute *pr = omni_config_preroute(cfg);
 *   ...
 *   omni_config_free(cfg);
 *
 * ---- The document (JSON object, at most OMNI_LIMIT_CONFIG_BYTES) ---------------
 *   {"version": 1,                   required; the format of this document
 *    "storage": "memory:" | "sqlite:PATH",      the engine's "storage"
 *                                    (omni_engine_new; default "memory:")
 *    "transport": {"type": "curl", ...options of omni_transport_curl_new}
 *               | {"type": "scripted", "responses": [...]} | {"type": "none"}
 *                                    the engine's "transport" (omni_engine_new)
 *    "inbound": {"publicBaseUrl", "trustForwardedHeaders", "maxBodyBytes",
 *                "defaultRegion", "carriers": {"twilio": {"authToken": SECRET},
 *                "whatsapp": {"appSecret": SECRET, "verifyToken": SECRET}, ...}}
 *                                    omni_inbound_new's configuration, shared
 *                                    by every account
 *    "defaults": DEFAULTS,           the base of every account (below)
 *    "accounts": [ACCOUNT, ...],     at most OMNI_CONFIG_MAX_ACCOUNTS
 *    "templates": [NotificationTemplate, ...]   as omni_template_create takes
 *                                    them (omni/template_store.h): templateId,
 *                                    name, category, channels, content {subject?,
 *                                    body, htmlBody?}, defaultLocale?,
 *                                    localizations? {"hi": {...}, "kn": {...}};
 *                                    at most OMNI_CONFIG_MAX_TEMPLATES
 *    "analyzer": {...},              omni_analyzer_compile's configuration
 *    "delivery": {...},              omni_delivery_new's configuration
 *                                    (retryPolicy, fallback, circuitBreaker, ...)
 *    "workflow": {"steps": [STEP, ...]}}        absent: the seed's pipeline
 * Every member but "version" is optional; unknown and repeated members are
 * errors everywhere in the document, and strings may not hold \u0000.
 *
 * ACCOUNT (a listed account's member replaces the default's member as a whole):
 *   "accountId": 1..128 bytes of [A-Za-z0-9._:@+-], required, unique
 *   "name": 1..256 bytes; "businessUnitId", "tenantId": at most 128 bytes
 *   "createCustomers": bool, "defaultRegion": "US"   (the routing record's
 *        members, omni/identity.h; defaultRegion also reads the account's
 *        phone numbers written without a country code)
 *   "addresses": {"phoneNumbers": ["+14155550100"],   -> E.164 routing key
 *                 "shortCodes": ["12345"],            -> "shortcode:12345"
 *                 "messagingServiceSids": ["MG..."],  -> "mss:MG..."
 *                 "whatsappPhoneNumberIds": ["1234"], -> "waba:1234"
 *                 "whatsappBusinessIds": ["5678"],    -> "waba:5678"
 *                 "businessIds": ["..."]}             -> "business:..."
 *        every list optional; an address belongs to at most one account (the
 *        same number written twice counts once: keys are compared normalized);
 *        at most OMNI_CONFIG_MAX_ADDRESSES in all accounts
 *   "carriers": {"twilio": {"authToken": SECRET}, ...}   this account's own
 *        webhook settings (as inbound.carriers): the account's inbound is
 *        "inbound" with these carriers replacing the shared carriers of the
 *        same name (for webhooks the host knows to be the account's, e.g. by
 *        their URL path)
 *   "outbound": {...}   the account's providers (omni_outbound_new)
 *   "push": {...}       the account's push platforms (omni_push_new)
 *   "conversation": {"inactivityTimeoutMs": 1..2^40, "dedupeWindowMs":
 *        0..2^40}       the account's conversation settings
 *                       (omni_conversation_settings_set, written by apply)
 *   pre-routing members, passed to omni_preroute_compile as the account's
 *   (omni/preroute.h): "timeZone" (IANA, default "UTC"), "locale" (default
 *   language of responses, default "en"), "businessHours" {"weekly",
 *   "holidays"}, "rules", "autoResponses" (templateIds name "templates"),
 *   "optOut" (keywords and "confirmations" {"stop", "start", "help"}:
 *   templateIds), "priority", "defaultDestination", "analyzer".
 * DEFAULTS: the members of ACCOUNT except accountId, name, businessUnitId,
 *   tenantId, addresses and carriers. They become the pre-route "defaults"
 *   (also used for accounts that are not listed), and the outbound / push /
 *   conversation / createCustomers / defaultRegion of accounts without their
 *   own.
 * SECRET: a string, or {"env": "NAME"} read from the environment when the
 *   document is compiled (as omni_outbound_new and omni_push_new read theirs;
 *   in "inbound" and "carriers" this document reads them). A variable that
 *   is not set, or empty, is an error naming the variable. Secret values
 *   never appear in errors, results, summaries or logs.
 * "templates" also become the pre-route templates: template X in locale L is
 *   {"X": {"<defaultLocale>": content.body, "<L>": localizations.L.body}}.
 *
 * STEP (seed 001's WorkflowStepConfig):
 *   {"stepId": "workFlowIdentityLookup" | "workFlowBiDirectional" |
 *               "workFlowPreRoute" | "publishOutbound" | "pushNotification",
 *                                    required, unique
 *    "enabled": true,                false: the step is not run
 *    "timeout": ms,                  1..900000 (default 30000; 45000 for
 *                                    workFlowPreRoute)
 *    "retryPolicy": {"maxRetries": 3 (0..20), "backoffMultiplier": 2 (1..10),
 *                    "maxBackoff": ms (1..86400000; default 10000, 15000 for
 *                    workFlowPreRoute), "initialBackoff": 1000 (1..86400000)}
 *                                    (the delivery engine's retryPolicy members)
 *    "conditions": [CONDITION, ...], the step runs only when all hold (default [])
 *    "nextSteps": [{"stepId": a step of the list or "terminate",
 *                   "condition": CONDITION (default "always")}, ...]   (at most 10)
 *    "options": {...}}               the step function's options:
 *        workFlowIdentityLookup {"defaultRegion", "brazilNinthDigit"}
 *        (omni_identity_lookup), workFlowBiDirectional {"inactivityTimeoutMs",
 *        "dedupeWindowMs", "maxAttempts"} (omni_conversation_step),
 *        publishOutbound / pushNotification {"deadlineMs": 0..86400000}
 *        (omni_delivery_send, omni_push_notify); none for workFlowPreRoute
 *   CONDITION: "always" | "auto_response_enabled" | "route_to_agent" | "blocked"
 *   1..OMNI_CONFIG_MAX_STEPS steps; nextSteps may not form a cycle. The first
 *   step is where the workflow starts. The default (no "workflow") is the
 *   seed's defaultStepConfigs with the two steps they lead to:
 *     workFlowIdentityLookup -> workFlowBiDirectional (always)
 *     workFlowBiDirectional  -> workFlowPreRoute (always)
 *     workFlowPreRoute       -> publishOutbound (auto_response_enabled),
 *                               pushNotification (route_to_agent),
 *                               terminate (blocked)
 *     publishOutbound, pushNotification: no next steps
 *   with timeout 30000 (workFlowPreRoute 45000) and retryPolicy {3, 2, 10000
 *   (workFlowPreRoute 15000), 1000}.
 *
 * ---- Errors ---------------------------------------------------------------------
 * omni_config_new validates the whole document and reports every error (at
 * most OMNI_CONFIG_MAX_ERRORS, one per path): the structure above checked
 * here, and each component's section compiled with the component's own
 * function, its error path prefixed with the section's path (a component
 * stops at its first error, so one section reports one error; the rules of
 * an account report each rule error). Error entries:
 *   {"path": "accounts[1].outbound.twilio.authToken", "message": "...",
 *    "code": "INVALID_CONFIG" (or the component's: "NOT_FOUND" for an
 *    unknown time zone, ...)}
 * and, for a document that is not JSON, "line" and "column".
 *
 * Thread-safety: an omni_config is immutable after omni_config_new and may
 * be used from any number of threads at once; so are the handles it lends
 * (the omni_push objects guard their token caches themselves).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_CONFIG_H
#define OMNI_CONFIG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;
typedef struct omni_inbound omni_inbound;
typedef struct omni_preroute omni_preroute;
typedef struct omni_outbound omni_outbound;
typedef struct omni_push omni_push;
typedef struct omni_config omni_config;

#define OMNI_CONFIG_VERSION 1
#define OMNI_CONFIG_MAX_ACCOUNTS 1000
#define OMNI_CONFIG_MAX_ADDRESSES 10000 /* in all accounts together */
#define OMNI_CONFIG_MAX_STEPS 100
#define OMNI_CONFIG_MAX_TEMPLATES 1000
#define OMNI_CONFIG_MAX_ERRORS 100 /* errors listed; more are counted only */

/*
 * Validates and compiles a document (see above) into *out, released with
 * omni_config_free. Errors: OMNI_ECONFIG with details {"path": the first
 * error's path, "errors": [...every error...], "count": n} (count may exceed
 * the errors listed) and the message "configuration: N error(s); first:
 * PATH: ..."; OMNI_EJSON (not JSON, or a \u0000 escape; details {"offset",
 * "line", "column"}), OMNI_ETOOLARGE (over OMNI_LIMIT_CONFIG_BYTES),
 * OMNI_ETOODEEP, OMNI_EINVAL (NULL out, or NULL json with len > 0),
 * OMNI_ENOMEM. *out is NULL on error.
 */
OMNI_API int omni_config_new(omni_config **out, const char *json, size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_config_free(omni_config *cfg);

/*
 * Checks a document without keeping anything; never fails on a bad
 * document (what `omni config check` prints). *out:
 *   {"valid": bool, "errors": [...as above...], "errorCount": n,
 *    "accounts": n, "addresses": n, "templates": n,
 *    "carriers": ["twilio", ...]   inbound carriers (shared and accounts'),
 *    "outbound": ["twilio", ...]   outbound providers of any account,
 *    "push": ["apns", ...]         push platforms of any account,
 *    "steps": ["workFlowIdentityLookup", ...],   the workflow in order,
 *    "storage": "memory:"}
 * — counts and names as far as the document could be read; never a secret.
 * "valid" is true exactly when omni_config_new succeeds on the same
 * document (with the same environment). Errors: OMNI_EINVAL (NULL out, or
 * NULL json with len > 0), OMNI_ENOMEM.
 */
OMNI_API int omni_config_check(char **out, size_t *out_len, const char *json, size_t len);

/* The check summary of a compiled configuration ("valid": true); borrowed,
 * valid until omni_config_free. */
OMNI_API const char *omni_config_summary(const omni_config *cfg, size_t *len);

/*
 * Writes what the workflow reads from the engine's store: the routing
 * record of every address (omni_routing_set: {"accountId",
 * "businessUnitId"?, "tenantId"?, "createCustomers"?, "defaultRegion"?}),
 * every account's conversation settings (omni_conversation_settings_set,
 * when it has "conversation"), and the templates (omni_template_create, or
 * omni_template_update when the stored one differs in any member but
 * version, createdAt and updatedAt). Idempotent: a record that already
 * holds the same content is not written, so a second run writes nothing.
 * Records of addresses or templates no longer in the document are left as
 * they are. *out (may be NULL) receives
 *   {"routing": {"written", "unchanged"}, "conversationSettings":
 *    {"written", "unchanged"}, "templates": {"written", "unchanged"}}.
 * It stops at the first failure; what was written stays, and running it
 * again completes it. Errors: OMNI_EINVAL (NULL cfg or engine), the
 * store's (OMNI_ESTORAGE, OMNI_ECONFLICT: retryable), OMNI_ENOMEM.
 * Thread-safety: as the engine's store.
 */
OMNI_API int omni_config_apply(char **out, size_t *out_len, const omni_config *cfg,
                               omni_engine *engine);

/* ---- the compiled pieces (borrowed: valid until omni_config_free) ---------- */

/* {"storage": URI, "transport"?: {...}}: the configuration for
 * omni_engine_new (add "clock", "random", "log" to it as needed). */
OMNI_API const char *omni_config_engine_json(const omni_config *cfg, size_t *len);
/* The store URI ("memory:" when the document has none). */
OMNI_API const char *omni_config_storage(const omni_config *cfg);
/* The "transport" object as JSON, or NULL when the document has none. */
OMNI_API const char *omni_config_transport(const omni_config *cfg, size_t *len);
/* The "delivery" object as JSON for omni_delivery_new ("{}" when absent). */
OMNI_API const char *omni_config_delivery(const omni_config *cfg, size_t *len);

/* The inbound handle that verifies and parses webhooks: account_id NULL
 * (or an account without "carriers" of its own, or one not listed): the
 * shared one built from "inbound" (always present; carriers without
 * settings fail verification, see omni_inbound_new); an account with
 * "carriers": its own. */
OMNI_API const omni_inbound *omni_config_inbound(const omni_config *cfg, const char *account_id);
/* The pre-route handle with every account (always present). */
OMNI_API const omni_preroute *omni_config_preroute(const omni_config *cfg);
/* The account's outbound providers / push platforms: its own, else the
 * defaults', else NULL (NULL account_id or an account not listed: the
 * defaults'). The push object is shared by every caller (thread-safe). */
OMNI_API const omni_outbound *omni_config_outbound(const omni_config *cfg,
                                                   const char *account_id);
OMNI_API omni_push *omni_config_push(const omni_config *cfg, const char *account_id);

/* Accounts in document order: the count, and the i-th accountId (NULL when
 * out of range). */
OMNI_API size_t omni_config_account_count(const omni_config *cfg);
OMNI_API const char *omni_config_account_id(const omni_config *cfg, size_t i);
/* The accountId of the account that owns an address, or NULL (last error
 * OMNI_ENOTFOUND; OMNI_EINVAL for a key that is no address). address_key:
 * a routing key as omni_routing_set takes it: a phone number with '+' in
 * any written form ("whatsapp:+1 415..." too), "shortcode:12345",
 * "mss:MG...", "waba:1234", "business:..." */
OMNI_API const char *omni_config_account(const omni_config *cfg, const char *address_key);
/*
 * The account's settings as JSON, without secrets, the defaults applied:
 *   {"accountId", "name"?, "businessUnitId"?, "tenantId"?, "createCustomers",
 *    "defaultRegion"?, "timeZone", "locale", "addresses": {...as given, phone
 *    numbers in E.164}, "routingKeys": [...], "carriers": [inbound carrier
 *    names], "outbound": [provider names], "push": [platforms],
 *    "conversation"?, "businessHours"?, "autoResponses"?, "optOut"?,
 *    "priority"?, "defaultDestination"?, "rules"?, "analyzer"?}
 * NULL (last error OMNI_ENOTFOUND) for an account that is not listed.
 */
OMNI_API const char *omni_config_account_json(const omni_config *cfg, const char *account_id,
                                              size_t *len);

/* The workflow: {"steps": [STEP...]} with every default filled in; the
 * number of steps, the i-th step's id, and a step's JSON by id (NULL when
 * the workflow has no such step). */
OMNI_API const char *omni_config_workflow(const omni_config *cfg, size_t *len);
OMNI_API size_t omni_config_step_count(const omni_config *cfg);
OMNI_API const char *omni_config_step_id(const omni_config *cfg, size_t i);
OMNI_API const char *omni_config_step(const omni_config *cfg, const char *step_id, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
