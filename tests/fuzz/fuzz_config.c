/* Fuzz target: the engine configuration (omni/config.h) on arbitrary
 * bytes. omni_config_check never fails on a bad document and always
 * answers a JSON object with "valid", "errors" (each with a path and a
 * message) and "errorCount"; "valid" is true exactly when omni_config_new
 * succeeds on the same bytes; a document that fails has a last error with
 * a message (and, for INVALID_CONFIG, details listing its errors). A
 * compiled configuration's accessors agree with its summary, and every
 * account is found again by each of its routing keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_compiled(omni_config *cfg, const cJSON *summary)
{
    const cJSON *accounts = cJSON_GetObjectItemCaseSensitive(summary, "accounts");
    CHECK(cJSON_IsNumber(accounts));
    CHECK((size_t)accounts->valuedouble == omni_config_account_count(cfg));
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(summary, "steps");
    CHECK((size_t)cJSON_GetArraySize(steps) == omni_config_step_count(cfg));
    for (size_t i = 0; i < omni_config_step_count(cfg); i++) {
        const char *id = omni_config_step_id(cfg, i);
        CHECK(id && strcmp(id, cJSON_GetArrayItem(steps, (int)i)->valuestring) == 0);
        size_t n = 0;
        const char *s = omni_config_step(cfg, id, &n);
        CHECK(s && strlen(s) == n);
    }
    CHECK(omni_config_preroute(cfg) && omni_config_inbound(cfg, NULL));
    CHECK(omni_config_storage(cfg) && omni_config_engine_json(cfg, NULL));
    for (size_t i = 0; i < omni_config_account_count(cfg); i++) {
        const char *id = omni_config_account_id(cfg, i);
        CHECK(id);
        size_t n = 0;
        const char *j = omni_config_account_json(cfg, id, &n);
        CHECK(j && strlen(j) == n);
        cJSON *a = cJSON_ParseWithLength(j, n);
        CHECK(a);
        const cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(a, "routingKeys"))
        {
            const char *owner = omni_config_account(cfg, k->valuestring);
            CHECK(owner && strcmp(owner, id) == 0);
        }
        cJSON_Delete(a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    char *out = NULL;
    size_t n = 0;
    int rc = omni_config_check(&out, &n, json, size);
    if (rc == OMNI_ENOMEM)
        return 0;
    CHECK(rc == OMNI_OK && out && strlen(out) == n);
    cJSON *sum = cJSON_ParseWithLength(out, n);
    CHECK(sum);
    const cJSON *valid = cJSON_GetObjectItemCaseSensitive(sum, "valid");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(sum, "errors");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(sum, "errorCount");
    CHECK(cJSON_IsBool(valid) && cJSON_IsArray(errs) && cJSON_IsNumber(count));
    CHECK(cJSON_IsTrue(valid) == (count->valuedouble == 0));
    CHECK(cJSON_GetArraySize(errs) <= OMNI_CONFIG_MAX_ERRORS);
    CHECK((double)cJSON_GetArraySize(errs) <= count->valuedouble);
    const cJSON *e;
    cJSON_ArrayForEach(e, errs)
    {
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "path")));
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        CHECK(cJSON_IsString(m) && m->valuestring[0]);
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "code")));
    }
    omni_config *cfg = (omni_config *)1;
    int st = omni_config_new(&cfg, json, size);
    if (st == OMNI_ENOMEM) {
        cJSON_Delete(sum);
        omni_free(out);
        return 0;
    }
    CHECK((st == OMNI_OK) == cJSON_IsTrue(valid));
    if (st == OMNI_OK) {
        CHECK(cfg);
        check_compiled(cfg, sum);
        omni_config_free(cfg);
    } else {
        CHECK(!cfg && omni_error_last_message()[0]);
        if (st == OMNI_ECONFIG) {
            const char *d = omni_error_last()->details;
            CHECK(d);
            cJSON *dj = cJSON_Parse(d);
            CHECK(dj);
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(dj, "count");
            CHECK(cJSON_IsNumber(c) && c->valuedouble == count->valuedouble);
            cJSON_Delete(dj);
        }
    }
    cJSON_Delete(sum);
    omni_free(out);
    return 0;
}
