/* Fuzz target: omni_data_parse (the template data parser).
 * Invariants: it accepts exactly what lib/core/json.c's validator accepts,
 * with the same status, message and error position; an accepted document
 * printed with omni_value_json parses back and prints the same; every
 * member of every object is found again by omni_value_get (keys are unique
 * after parsing, so large objects' hash indexes are checked too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"
#include "lib/template/template_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lookups(const omni_value *v, int depth)
{
    if (depth > OMNI_LIMIT_JSON_DEPTH + 1)
        abort();
    size_t n = omni_value_count(v);
    for (size_t i = 0; i < n; i++) {
        const omni_value *child = omni_value_at(v, i);
        if (!child)
            abort();
        if (omni_value_type(v) == OMNI_VALUE_OBJECT) {
            /* by the exact key (it may hold a NUL), through the hash index
             * for large objects */
            const omni__member *m = &v->u.members[i];
            if (omni__value_member(v, m->key, m->klen, omni__hash(m->key, m->klen)) != child)
                abort();
            if (strlen(m->key) == m->klen && omni_value_get(v, m->key) != child)
                abort();
        }
        check_lookups(child, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    omni_data *d = NULL;
    int rc = omni_data_parse(&d, text, size);
    char *msg = strdup(omni_error_last_message());
    const char *det = omni_error_last()->details;
    char *details = det ? strdup(det) : NULL;
    int v = omni__json_validate(text, size, 0, "data");
    if ((rc == OMNI_OK) != (v == OMNI_OK))
        abort();
    if (rc != OMNI_OK) {
        if (d || rc != v || !msg || strcmp(msg, omni_error_last_message()) != 0)
            abort();
        if ((details == NULL) != (omni_error_last()->details == NULL))
            abort();
        if (details && strcmp(details, omni_error_last()->details) != 0)
            abort();
        free(msg);
        free(details);
        return 0;
    }
    free(msg);
    free(details);
    const omni_value *root = omni_data_root(d);
    check_lookups(root, 0);
    char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    if (omni_value_json(&a, &an, root) != OMNI_OK)
        abort();
    omni_data *again = NULL;
    if (omni_data_parse(&again, a, an) != OMNI_OK)
        abort();
    if (omni_value_json(&b, &bn, omni_data_root(again)) != OMNI_OK)
        abort();
    if (an != bn || memcmp(a, b, an) != 0)
        abort();
    omni_free(a);
    omni_free(b);
    omni_data_free(again);
    omni_data_free(d);
    return 0;
}
