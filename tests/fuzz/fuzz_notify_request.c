/* Fuzz target: the NotificationRequest and user-preferences checks of the
 * orchestrator (lib/notify/). The first byte picks the parser ('p': the
 * preferences, anything else: a request); the rest is the JSON text.
 * Invariant: a document that passes, printed and parsed again, passes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "../../lib/core/json.h"
#include "../../lib/notify/notify_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    int prefs = data[0] == 'p';
    cJSON *doc = NULL;
    if (omni__json_parse(&doc, (const char *)data + 1, size - 1, 0, "fuzz") != OMNI_OK) {
        omni_error_clear();
        return 0;
    }
    int rc = prefs ? omni__notify_prefs_check(doc) : omni__notify_request_check(doc);
    if (rc == OMNI_OK) {
        char *text = NULL;
        size_t n = 0;
        if (omni__json_print(&text, &n, doc) != OMNI_OK)
            abort();
        cJSON *again = NULL;
        if (omni__json_parse(&again, text, n, 0, "fuzz") != OMNI_OK)
            abort();
        int rc2 = prefs ? omni__notify_prefs_check(again) : omni__notify_request_check(again);
        if (rc2 != OMNI_OK)
            abort();
        if (prefs) {
            int64_t until = 0;
            if (omni__notify_quiet_until(again, INT64_C(1767225600000), &until) == OMNI_OK &&
                until != 0 && until < INT64_C(1767225600000))
                abort(); /* the end of quiet hours is never in the past */
        }
        cJSON_Delete(again);
        omni_free(text);
    } else if (rc != OMNI_EINVAL) {
        abort(); /* the checks refuse with OMNI_EINVAL only */
    }
    omni_error_clear();
    cJSON_Delete(doc);
    return 0;
}
