/* Fuzz target: the strict JSON parser and the writer.
 * Invariants: validate and parse agree; an accepted document printed by the
 * writer parses back, and printing that again gives the same bytes (numbers
 * beyond double range print as null, as JSON.stringify does); a failure
 * always has a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int v = omni__json_validate(text, size, 1u << 20, "fuzz");
    cJSON *root = NULL;
    int p = omni__json_parse(&root, text, size, 1u << 20, "fuzz");
    if (v != OMNI_OK && p == OMNI_OK)
        abort();
    if (p != OMNI_OK) {
        if (root || omni_error_last_message()[0] == '\0')
            abort();
        return 0;
    }
    char *out;
    size_t len;
    if (omni__json_print(&out, &len, root) != OMNI_OK)
        abort();
    cJSON *again = NULL;
    if (omni__json_parse(&again, out, len, 0, "fuzz") != OMNI_OK)
        abort();
    char *out2;
    size_t len2;
    if (omni__json_print(&out2, &len2, again) != OMNI_OK)
        abort();
    if (len2 != len || memcmp(out, out2, len) != 0)
        abort();
    free(out);
    free(out2);
    cJSON_Delete(root);
    cJSON_Delete(again);
    return 0;
}
