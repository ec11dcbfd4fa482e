/*
 * libomni — the rule engine of pre-routing (seed 001's RoutingRule and
 * resolveDestination), also accepting json-rules-engine's rule format.
 *
 *   omni_rules *r;
 *   omni_rules_compile(&r, rules_json, len, "{\"timeZone\":\"Asia/Kolkata\"}", 28);
 *   char *out; size_t n;
 *   omni_rules_eval(&out, &n, r, facts_json, facts_len, 0, 0);
 *   // {"matched":["vip-customer-rule"],"actions":[...],"destination":{...},...}
 *   omni_free(out);
 *   omni_rules_free(r);
 *
 * ---- Rule documents ------------------------------------------------------
 *
 * The rules document is a JSON array of rules, or an object {"rules": [...]}
 * (error paths then start with "rules"). Each element is one of two formats;
 * a rule with an "event" member is a json-rules-engine rule, any other a
 * RoutingRule. Both may be mixed in one document.
 *
 * RoutingRule (seed 001):
 *   {"id": "vip-customer-rule", "name": "VIP", "priority": 100, "enabled": true,
 *    "conditions": [ {"field": "identity.profile.tags", "operator": "contains",
 *                     "value": "vip"} ],
 *    "actions": [ {"type": "route_to_queue", "queueId": "vip-support"} ]}
 *   - id: required string, 1..OMNI_RULES_MAX_ID bytes, unique in the document;
 *     name: optional string; priority: optional integer (default 0; larger
 *     runs first), |priority| <= 2^31 - 1; enabled: optional boolean
 *     (default true; a disabled rule is validated, never matches);
 *   - conditions: an array (all of them must hold; [] always holds) or one
 *     group object. A group is {"all": [...]}, {"any": [...]} or
 *     {"not": condition-or-group}; groups nest. {"all": []} holds,
 *     {"any": []} does not.
 *   - a condition is {"field": PATH, "operator": OP, "value": V}; PATH is a
 *     dotted path into the facts ("message.content", "identity.profile.tags",
 *     "contentAnalysis.intent"); a segment of decimal digits also indexes an
 *     array ("message.mediaUrls.0"); segments are 1..64 bytes, at most
 *     OMNI_RULES_MAX_PATH bytes and 16 segments in all. An optional
 *     "ignoreCase": true makes a string comparison case-insensitive.
 *   - actions: array of 0..OMNI_RULES_MAX_ACTIONS objects {"type": T, ...}:
 *       route_to_agent {agentId, agentName?, skills?: [string]}
 *       route_to_queue {queueId, queueName?, estimatedWait?: number}
 *       route_to_bot   {botId, botName?, botCapabilities?: [string]}
 *       add_tag        {tag}
 *       set_priority   {priority: "low"|"normal"|"high"|"urgent"}
 *       auto_respond   {templateId}
 *       block          {reason?}
 *       escalate       {reason?}
 *       stop           {}  (no rule after this one in the match order applies)
 *     A routing action may also carry "priority" (a level as above). Ids and
 *     strings are 1..OMNI_RULES_MAX_ID bytes. Members not listed here are
 *     kept and copied to the output (extensions for the host).
 *
 * json-rules-engine (its documented rule format, version 6/7):
 *   {"name": "billing", "priority": 10,
 *    "conditions": {"all": [{"fact": "contentAnalysis", "path": "$.intent",
 *                            "operator": "contains", "value": "billing"}]},
 *    "event": {"type": "route_to_queue", "params": {"queueId": "billing"}}}
 *   - the rule id is "name" when given, else "#N" (N its 0-based position);
 *     priority defaults to 1 and must be >= 1, as json-rules-engine wants;
 *   - conditions: a top-level {"all"}, {"any"} or {"not"}; nested groups as
 *     above; a condition is {fact, operator, value, path?, params?}; the
 *     field is fact + path, where path is a JSONPath of the forms $.a.b,
 *     $.a[0], $['a b'] or $["a b"] (anything else is refused);
 *   - operators: equal, notEqual, in, notIn, contains, doesNotContain,
 *     lessThan, lessThanInclusive, greaterThan, greaterThanInclusive, with
 *     json-rules-engine's semantics: equal/notEqual are strict equality
 *     (an array fact never equals a scalar), in/notIn test the fact against
 *     a value array, contains/doesNotContain need an array fact (membership),
 *     the comparisons need number facts;
 *   - the event becomes the rule's one action: {"type": event.type,
 *     ...event.params}; when event.type is not one of the action types
 *     above it is reported as {"type": "event", "event": {...the event...}}.
 *   - not supported (refused with a clear message): condition references
 *     ({"condition": "name"}), fact references as values ({"value":
 *     {"fact": ...}}), custom operators and decorators ("everyFact:...").
 *   - a fact that is missing evaluates as undefined (json-rules-engine's
 *     allowUndefinedFacts: true), never an error.
 *
 * ---- Operators (RoutingRule) ---------------------------------------------
 *
 * Values in conditions are scalars (string, number, boolean, null) unless
 * said otherwise. When the fact is an array, a positive operator holds when
 * it holds for ANY element (as AWS event-ruler), and its negation holds when
 * it holds for no element. A missing fact makes positive operators false
 * and notEquals, notIn, notContains true; anythingBut and "exists": true
 * need the fact to exist.
 *   equals, notEquals          same type and value (numbers numerically)
 *   equalsIgnoreCase           strings, Unicode simple case folding
 *   in, notIn                  value: array of 1..OMNI_RULES_MAX_IN scalars
 *   contains, notContains      string fact: substring; array fact: an
 *                              element equals the value
 *   startsWith, endsWith       strings
 *   anythingBut                value: scalar or array; the fact exists and
 *                              equals none of them
 *   exists                     value: true (default) or false
 *   greaterThan, greaterThanOrEqual, lessThan, lessThanOrEqual
 *                              numbers with numbers; strings with strings
 *                              (bytewise, so "09:30" < "17:00" and ISO
 *                              dates order correctly); mixed types false
 *   between                    value [low, high], inclusive, both numbers
 *                              or both strings
 *   matches                    value: a regular expression (UTF-8, at most
 *                              OMNI_RULES_MAX_REGEX bytes) of the
 *                              linear-time subset below; searched anywhere
 *                              in the string (anchor with ^ $); "ignoreCase"
 *                              or a leading (?i) for case-insensitive
 * The regular expression subset: literals, ., classes [a-z] [^...], \d \w
 * \s \D \W \S, \b \B, ^ $, groups ( ) (?: ), alternation |, quantifiers
 * * + ? {n} {n,} {n,m} (m <= 1000, lazy forms accepted), escapes \t \n \r
 * \f \v \xHH \x{H...}. Backreferences, lookaround, atomic groups,
 * possessive quantifiers, named groups, inline flags other than a leading
 * (?i), \p{...} classes are refused at compile time. Matching takes time
 * linear in the text (Thompson NFA simulation, no backtracking).
 *
 * ---- Facts and time --------------------------------------------------------
 *
 * Facts are one JSON object (at most OMNI_RULES_MAX_FACTS bytes as text),
 * typically the PreRouteEvent plus "contentAnalysis". When any rule reads
 * "time.*" and the facts have no "time" member, the engine supplies
 *   time {hour 0-23, minute 0-59, weekday "monday".."sunday", isoWeekday
 *         1-7 (Monday 1), date "YYYY-MM-DD", clock "HH:MM", epochMs}
 * at now_ms (0: the current time) in the compile option "timeZone"
 * (an IANA zone from the system zoneinfo; default "UTC").
 *
 * ---- Matching ----------------------------------------------------------------
 *
 * The match order is priority descending, ties in document order. Rules are
 * indexed by field and value: equals, in, equalsIgnoreCase, startsWith,
 * contains on array facts and exists conditions that every match of a rule
 * needs are looked up in hash tables, and contains on string facts runs one
 * Aho-Corasick automaton per field over the fact (up to 64 MiB of
 * transitions per field, 256 MiB per rule set; beyond that a field's
 * needles are searched one by one), so only candidate rules are evaluated
 * and the cost of such rules does not grow with their number. Each rule is
 * found through its cheapest such condition (the one expected to add the
 * fewest candidates, judged from the whole rule set at compile time). Each field a
 * rule references is resolved once per evaluation.
 *
 * Thread-safety: a compiled omni_rules is immutable and may be evaluated
 * from any number of threads at once. Evaluation allocates only for its
 * output (and per-thread scratch reused between calls).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_RULES_H
#define OMNI_RULES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_rules omni_rules;
typedef struct omni_data omni_data;

#define OMNI_RULES_MAX_SOURCE (32u * 1024u * 1024u) /* rules document */
#define OMNI_RULES_MAX_RULES 100000
#define OMNI_RULES_MAX_CONDITIONS 256 /* conditions and groups of one rule */
#define OMNI_RULES_MAX_DEPTH 16       /* group nesting */
#define OMNI_RULES_MAX_ACTIONS 32
#define OMNI_RULES_MAX_ID 256         /* ids, names and action strings */
#define OMNI_RULES_MAX_PATH 256       /* a field path */
#define OMNI_RULES_MAX_IN 10000       /* values of one in / notIn */
#define OMNI_RULES_MAX_REGEX 4096
#define OMNI_RULES_MAX_ERRORS 100     /* errors reported by compile */
#define OMNI_RULES_MAX_FACTS (1024u * 1024u) /* facts as JSON text */

/*
 * Compiles a rules document (json[0..len)) into *out, released with
 * omni_rules_free. options_json (may be NULL / 0 bytes) is an object:
 *   {"timeZone": "Europe/Berlin",          zone of the time.* facts
 *    "format": "auto"|"routing"|"json-rules-engine"}   default "auto"
 * Everything is validated and EVERY problem is reported (up to
 * OMNI_RULES_MAX_ERRORS): the error is OMNI_ECONFIG, its message names the
 * count and the first problem ("rules: 2 errors; rule \"vip\" at
 * [0].conditions[1].operator: unknown operator \"eq\""), and its details
 * are {"errors": [{"ruleId": "vip" or null, "path": "[0].conditions[1].operator",
 * "message": "unknown operator \"eq\""}, ...]}.
 * Other errors: OMNI_EINVAL (NULL out or json), OMNI_EJSON (not JSON, with
 * line/column details), OMNI_ETOOLARGE (over OMNI_RULES_MAX_SOURCE or
 * OMNI_RULES_MAX_RULES), OMNI_ETOODEEP, OMNI_ENOTFOUND (unknown time zone),
 * OMNI_ENOMEM. On error *out is NULL.
 */
OMNI_API int omni_rules_compile(omni_rules **out, const char *json, size_t len,
                                const char *options_json, size_t options_len) OMNI_WARN_UNUSED;
OMNI_API void omni_rules_free(omni_rules *rules);

/* Number of rules (enabled or not), and the id of rule `index` (document
 * order) or NULL when out of range; the string lives as long as `rules`. */
OMNI_API size_t omni_rules_count(const omni_rules *rules);
OMNI_API const char *omni_rules_id(const omni_rules *rules, size_t index);

/* Flags of the evaluation functions. */
#define OMNI_RULES_EXPLAIN 1u /* add "explain" to the result */

/*
 * Evaluates the rules against one facts object given as JSON text
 * (omni_rules_eval) or parsed (omni_rules_eval_data), at now_ms (Unix ms;
 * 0 = current time, used only for time.* facts). *out is a JSON object:
 *   {"matched": ["vip-customer-rule", ...],       ids in match order, up to
 *                                                  and including a stop rule
 *    "actions": [{"ruleId": "...", "type": "route_to_queue", ...}, ...],
 *    "destination": {"type": "queue", "id": "vip-support", "name": "...",
 *                    "metadata": {...}},        resolveDestination: the first
 *                     routing action in match order, else {"type": "queue",
 *                     "id": "default", "name": "Default Queue", "metadata": {}}
 *    "tags": [...],                 add_tag values, first occurrence order
 *    "priority": "high" | null,     the first set_priority (or a routing
 *                                   action's "priority") in match order
 *    "block": bool, "escalate": bool,
 *    "autoRespond": {"ruleId", "templateId"} | null,   the first auto_respond
 *    "stoppedBy": "rule-id" | null,
 *    "explain": [{"ruleId": "...", "conditions": [{"path": "[0].conditions[0]",
 *                 "field": "...", "operator": "...", "value": ..., "actual": ...,
 *                 "result": true}, ...]}, ...]}      with OMNI_RULES_EXPLAIN:
 *                 per matched rule every condition evaluated (actual absent
 *                 when the fact is missing)
 * Errors: OMNI_EINVAL (NULL argument, unknown flags), OMNI_EJSON (facts not
 * JSON or not an object), OMNI_ETOOLARGE (over OMNI_RULES_MAX_FACTS),
 * OMNI_ETOODEEP, OMNI_ENOMEM.
 */
OMNI_API int omni_rules_eval(char **out, size_t *out_len, const omni_rules *rules,
                             const char *facts_json, size_t len, int64_t now_ms,
                             unsigned flags);
OMNI_API int omni_rules_eval_data(char **out, size_t *out_len, const omni_rules *rules,
                                  const omni_data *facts, int64_t now_ms, unsigned flags);

/*
 * The matching rules only, without building JSON: the document indices of
 * the matching rules in match order go to idx[0..cap), and *count gets how
 * many matched (it may exceed cap; then the first cap are written). The
 * stop action applies. No allocation once the calling thread's scratch has
 * grown to the rule set. Errors as omni_rules_eval.
 */
OMNI_API int omni_rules_match(const omni_rules *rules, const char *facts_json, size_t len,
                              int64_t now_ms, uint32_t *idx, size_t cap, size_t *count);
OMNI_API int omni_rules_match_data(const omni_rules *rules, const omni_data *facts,
                                   int64_t now_ms, uint32_t *idx, size_t cap, size_t *count);

#ifdef __cplusplus
}
#endif

#endif
