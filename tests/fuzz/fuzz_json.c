/* Fuzz target: the strict JSON parser and the writer.
 * Invariants: validate and parse agree; an accepted document printed by the
 * writer parses back to an equal tree; the error always has a message. */
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
    if (!cJSON_Compare(root, again, 1))
        abort();
    free(out);
    cJSON_Delete(root);
    cJSON_Delete(again);
    return 0;
}
