/*
 * libomni — the template store (seed 000's template-manager and
 * template-versions): NotificationTemplate documents kept through the
 * storage hook, every update keeping the previous version, rendered by id
 * and locale with a fallback chain.
 *
 * A NotificationTemplate: {"templateId", "name", "description"?,
 * "category": "payment"|"order"|"system"|"promotional", "channels":
 * ["sms","email","whatsapp","push"], "content": {"subject"?, "body",
 * "htmlBody"?}, "variables": [{"name", "required"?, "type"?,
 * "description"?}], "version", "isActive", "createdAt", "updatedAt",
 * "defaultLocale"? (default "en"), "localizations"?: {"hi": {"subject"?,
 * "body", "htmlBody"?}, "kn": {...}}}. The store sets version, createdAt
 * and updatedAt. Limits: a document is at most 1 MiB; templateId is 1..128
 * bytes of [A-Za-z0-9_.:-].
 *
 * Validation on create and update (OMNI_EINVAL with details {"path"}):
 * unknown top-level fields are refused (the seed's "attachments" and
 * "styling" are allowed in content and localizations, and variables may
 * carry further fields); name non-empty; channels a non-empty array
 * without repeats; variables' names 1..128 bytes without spaces, controls
 * or braces, not repeated; required a boolean; isActive a boolean (default
 * true); defaultLocale and the localizations' keys well-formed locale tags,
 * stored in canonical case ("kn_in" -> "kn-IN"). Every subject, body and
 * htmlBody (content and localizations) is compiled (htmlBody with HTML
 * escaping): a syntax error is OMNI_ESYNTAX with details {"path":
 * "localizations.hi.body", "line", "column"}. Stored documents have the
 * fields in the order above, version, isActive, defaultLocale,
 * localizations?, createdAt, updatedAt (omni_time_format of
 * omni_engine_now_ms).
 *
 * Storage: namespace "template", key templateId (the current document);
 * namespace "template_version", key "<templateId>@<version, 10 digits>"
 * (every version: written after the current document, best effort, and
 * written again by the update that replaces it, before the compare-and-swap
 * on the current document). Delete removes the current document, then the
 * kept versions (best effort: leftovers stay unreachable).
 *
 * Thread-safety: as thread-safe as the engine's store (the bundled ones are).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_TEMPLATE_STORE_H
#define OMNI_TEMPLATE_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;

/* Creates a template (version 1). Every template source in it is compiled
 * to check it. *out receives the stored document. Errors: OMNI_EJSON,
 * OMNI_EINVAL (field errors, details {"path"}), OMNI_ESYNTAX, OMNI_EEXISTS,
 * OMNI_ESTORAGE. */
OMNI_API int omni_template_create(char **out, size_t *out_len, omni_engine *engine,
                                  const char *template_json, size_t len);

/* Replaces a template (found by the document's templateId) with a new
 * version: version + 1, createdAt kept, updatedAt now; the previous one is
 * kept and readable by number. `expected_version` 0 means any (a
 * concurrent update is then retried); otherwise the current version must
 * be exactly that, else OMNI_ECONFLICT (also when another update wins the
 * race). Errors as create, plus OMNI_ENOTFOUND and OMNI_ECONFLICT. */
OMNI_API int omni_template_update(char **out, size_t *out_len, omni_engine *engine,
                                  const char *template_json, size_t len,
                                  uint32_t expected_version);

/* Reads the current version (version 0) or a kept one. Errors:
 * OMNI_EINVAL (bad id), OMNI_ENOTFOUND (no such template or version),
 * OMNI_ESTORAGE. */
OMNI_API int omni_template_get(char **out, size_t *out_len, omni_engine *engine,
                               const char *template_id, uint32_t version);

/* Deletes a template and its kept versions. Errors: OMNI_ENOTFOUND. */
OMNI_API int omni_template_delete(omni_engine *engine, const char *template_id);

/* Lists current templates in templateId order (bytewise), after the
 * cursor `after` (NULL or "" to start): {"items":[...], "next":
 * cursor|null}. limit 1..1000 (0: 100). filter_json (may be NULL or
 * empty): {"category": "...", "channel": "...", "isActive": bool}, every
 * given condition must hold; unknown keys are OMNI_EINVAL. One call reads
 * at most max(limit, min(10 * limit, 10000)) records, so a selective
 * filter may return fewer than `limit` items with "next" set. */
OMNI_API int omni_template_list(char **out, size_t *out_len, omni_engine *engine,
                                const char *filter_json, size_t filter_len, const char *after,
                                size_t limit);

/*
 * Renders a stored template for a locale with the fallback chain
 * locale ("kn-IN") -> its language ("kn") -> `default_locale` (the
 * account's, may be NULL) -> the template's defaultLocale -> "en". A step
 * matches a localization with that key (tags compared in canonical case,
 * "kn_in" = "kn-IN"), or `content` when it is the template's
 * defaultLocale; the first match is used. A localization without a subject
 * or htmlBody uses the content's. The format helpers get the locale used.
 * channel: "sms" | "email" | "whatsapp" | "push" picks the escaping (html
 * for the email htmlBody, none for everything else) and the fields:
 * subject for email and push, htmlBody for email only.
 * data_json may be NULL (empty data).
 * Result: {"templateId","version","locale": the locale used,
 * "subject"?, "body", "htmlBody"?, "sms"?: omni_sms_segments of the body
 * (channel sms)}.
 * Errors: OMNI_ENOTFOUND, OMNI_EINVAL (bad id, locale or channel, template
 * inactive or channel not among its channels), render errors (OMNI_EJSON
 * for the data, OMNI_EHELPER, ...).
 */
OMNI_API int omni_template_render_stored(char **out, size_t *out_len, omni_engine *engine,
                                         const char *template_id, const char *locale,
                                         const char *default_locale, const char *channel,
                                         const char *data_json, size_t data_len);

#ifdef __cplusplus
}
#endif

#endif
