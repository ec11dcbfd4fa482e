/* omni_config_apply: writes the routing records, conversation settings and
 * templates of a compiled configuration into the engine's store, each only
 * when the stored record differs, so that applying twice writes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/error.h"
#include "core/json.h"

typedef struct counts {
    int64_t written, unchanged;
} counts;

/* Is the stored JSON text the same document as `want`? */
static int same_json(const char *stored, size_t len, const cJSON *want)
{
    cJSON *have = cJSON_ParseWithLength(stored, len);
    int same = have && cJSON_Compare(have, want, 1);
    cJSON_Delete(have);
    return same;
}

static int apply_routing(omni_engine *e, const omni_config *cfg, counts *c)
{
    for (size_t i = 0; i < cfg->n_addresses; i++) {
        const omni__cfg_address *a = &cfg->addresses[i];
        const char *doc = cfg->accounts[a->account].routing;
        size_t len = strlen(doc);
        char *old = NULL;
        size_t old_len = 0;
        int rc = omni_routing_get(&old, &old_len, e, a->key);
        if (rc && rc != OMNI_ENOTFOUND)
            return rc;
        if (!rc) {
            cJSON *want = cJSON_ParseWithLength(doc, len);
            if (!want) {
                omni_free(old);
                return omni__err(OMNI_ENOMEM, NULL);
            }
            int same = same_json(old, old_len, want);
            cJSON_Delete(want);
            omni_free(old);
            if (same) {
                c->unchanged++;
                continue;
            }
        }
        if ((rc = omni_routing_set(e, a->key, doc, len)))
            return rc;
        c->written++;
    }
    return OMNI_OK;
}

static int apply_settings(omni_engine *e, const omni_config *cfg, counts *c)
{
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        const omni__cfg_account *a = &cfg->accounts[i];
        if (!a->conversation)
            continue;
        size_t len = strlen(a->conversation);
        char *old = NULL;
        size_t old_len = 0;
        int rc = omni_conversation_settings_get(&old, &old_len, e, a->id);
        if (rc && rc != OMNI_ENOTFOUND)
            return rc;
        if (!rc) {
            cJSON *want = cJSON_ParseWithLength(a->conversation, len);
            if (!want) {
                omni_free(old);
                return omni__err(OMNI_ENOMEM, NULL);
            }
            int same = same_json(old, old_len, want);
            cJSON_Delete(want);
            omni_free(old);
            if (same) {
                c->unchanged++;
                continue;
            }
        }
        if ((rc = omni_conversation_settings_set(e, a->id, a->conversation, len)))
            return rc;
        c->written++;
    }
    return OMNI_OK;
}

static int apply_templates(omni_engine *e, const omni_config *cfg, counts *c)
{
    for (size_t i = 0; i < cfg->n_templates; i++) {
        const omni__cfg_template *t = &cfg->templates[i];
        char *old = NULL, *out = NULL;
        size_t old_len = 0, out_len = 0;
        int rc = omni_template_get(&old, &old_len, e, t->id, 0);
        if (rc == OMNI_ENOTFOUND) {
            rc = omni_template_create(&out, &out_len, e, t->input, t->input_len);
            omni_free(out);
            if (rc)
                return rc;
            c->written++;
            continue;
        }
        if (rc)
            return rc;
        cJSON *have = cJSON_ParseWithLength(old, old_len);
        omni_free(old);
        if (!have)
            return omni__err(OMNI_ENOMEM, NULL);
        cJSON_DeleteItemFromObjectCaseSensitive(have, "version");
        cJSON_DeleteItemFromObjectCaseSensitive(have, "createdAt");
        cJSON_DeleteItemFromObjectCaseSensitive(have, "updatedAt");
        int same = cJSON_Compare(have, t->expected, 1);
        cJSON_Delete(have);
        if (same) {
            c->unchanged++;
            continue;
        }
        rc = omni_template_update(&out, &out_len, e, t->input, t->input_len, 0);
        omni_free(out);
        if (rc)
            return rc;
        c->written++;
    }
    return OMNI_OK;
}

static void write_counts(omni_buf *b, const char *name, const counts *c)
{
    omni__json_w_key(b, name);
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "written");
    omni__json_w_int(b, c->written);
    omni__json_w_keyl(b, "unchanged");
    omni__json_w_int(b, c->unchanged);
    omni__json_w_obj_end(b);
}

int omni_config_apply(char **out, size_t *out_len, const omni_config *cfg, omni_engine *engine)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!cfg || !engine)
        return omni__err(OMNI_EINVAL, "configuration apply: NULL configuration or engine");
    if (!omni_engine_store(engine))
        return omni__err(OMNI_EINVAL, "configuration apply: the engine has no store");
    counts routing = {0, 0}, settings = {0, 0}, templates = {0, 0};
    int rc = apply_routing(engine, cfg, &routing);
    if (!rc)
        rc = apply_settings(engine, cfg, &settings);
    if (!rc)
        rc = apply_templates(engine, cfg, &templates);
    if (rc)
        return rc;
    if (!out)
        return OMNI_OK;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    write_counts(&b, "routing", &routing);
    write_counts(&b, "conversationSettings", &settings);
    write_counts(&b, "templates", &templates);
    omni__json_w_obj_end(&b);
    return omni__buf_detach(&b, out, out_len);
}
