/* Internal: shared by the orchestrator's files (lib/notify/): the checks of
 * the preferences and of a NotificationRequest (also used by the fuzz target),
 * and the quiet-hours arithmetic. */
#ifndef OMNI_NOTIFY_INTERNAL_H
#define OMNI_NOTIFY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <omni/orchestrator.h>

#define OMNI__NOTIFY_NS "notify_prefs"

/* The four channels, in their default order. */
extern const char *const omni__notify_channels[];

/* Checks a preferences document (the public header's rules). Time zones are
 * loaded (they must exist). Errors: OMNI_EINVAL naming the member. */
int omni__notify_prefs_check(const cJSON *prefs);

/* Checks a NotificationRequest. Errors: OMNI_EINVAL naming the member. */
int omni__notify_request_check(const cJSON *req);

/* Quiet hours of checked preferences at now_ms: *until_ms receives the end of
 * the quiet period (UTC ms) when now is inside it, else 0. Errors:
 * OMNI_EINVAL (a zone that cannot be loaded), OMNI_ETIME. */
int omni__notify_quiet_until(const cJSON *prefs, int64_t now_ms, int64_t *until_ms);

#endif
