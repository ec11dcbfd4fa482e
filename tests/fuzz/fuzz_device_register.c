/* Fuzz target: a device registration (outside input) through
 * omni_device_register on a fresh memory-store engine with a fixed clock.
 * Invariants: an error leaves no output, a known status and an empty
 * registry; a success gives JSON whose record carries the input's userId,
 * deviceToken and platform, the device can be read back, is listed for its
 * user and platform exactly once, a second registration refreshes it
 * (created false, "device.updated"), and removing it empties the registry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "fuzz_check.h"
#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int known(int rc)
{
    return rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
           rc == OMNI_ETOODEEP;
}

static int count_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires)
{
    (void)key, (void)key_len, (void)value, (void)value_len, (void)version, (void)expires;
    (*(int *)ctx)++;
    return 0;
}

static int raw_count(omni_engine *e, const char *ns)
{
    int n = 0;
    CHECK(omni_store_list(omni_engine_store(e), ns, NULL, NULL, 1000, 1, count_cb, &n, NULL) ==
          OMNI_OK);
    return n;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number of listed items whose deviceToken is token. */
static int listed(omni_engine *e, const char *user, const char *platform, const char *token)
{
    char *out = NULL;
    CHECK(omni_device_list(&out, NULL, e, user, platform, "{\"limit\":1000}", 14) == OMNI_OK);
    cJSON *j = cJSON_Parse(out);
    CHECK(j);
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "items"))
    {
        const char *t = str(it, "deviceToken");
        CHECK(t);
        n += strcmp(t, token) == 0;
    }
    cJSON_Delete(j);
    omni_free(out);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char cfg[] = "{\"clock\":{\"fixed\":\"2026-03-09T15:00:00Z\"}}";
    omni_engine *e = NULL;
    CHECK(omni_engine_new(&e, cfg, sizeof(cfg) - 1, NULL) == OMNI_OK);
    char *out = (char *)1;
    size_t len = 7;
    int rc = omni_device_register(&out, &len, e, (const char *)data, size);
    if (rc) {
        CHECK(out == NULL && len == 0 && known(rc));
        CHECK(raw_count(e, "device") == 0 && raw_count(e, "device_user") == 0);
        omni_engine_free(e);
        return 0;
    }
    CHECK(out && strlen(out) == len);
    CHECK(omni__json_validate(out, len, 0, NULL) == OMNI_OK);
    cJSON *in = cJSON_ParseWithLength((const char *)data, size);
    cJSON *r = cJSON_Parse(out);
    CHECK(in && r);
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(r, "device");
    const char *user = str(dev, "userId"), *token = str(dev, "deviceToken");
    const char *platform = str(dev, "platform");
    CHECK(user && token && platform);
    CHECK(!strcmp(user, str(in, "userId")) && !strcmp(token, str(in, "deviceToken")) &&
          !strcmp(platform, str(in, "platform")));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "created")));
    const cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "events"), 0);
    CHECK(ev && !strcmp(str(ev, "detailType"), "device.registered"));
    CHECK(raw_count(e, "device") == 1 && raw_count(e, "device_user") == 1);

    char *got = NULL;
    CHECK(omni_device_get(&got, NULL, e, platform, token) == OMNI_OK);
    cJSON *g = cJSON_Parse(got);
    CHECK(g && cJSON_Compare(g, dev, 1));
    cJSON_Delete(g);
    omni_free(got);
    CHECK(listed(e, user, NULL, token) == 1 && listed(e, NULL, platform, token) == 1);

    /* the same registration again: a refresh */
    char *again = NULL;
    CHECK(omni_device_register(&again, NULL, e, (const char *)data, size) == OMNI_OK);
    cJSON *a = cJSON_Parse(again);
    CHECK(a && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(a, "created")));
    ev = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "events"), 0);
    CHECK(ev && !strcmp(str(ev, "detailType"), "device.updated"));
    cJSON_Delete(a);
    omni_free(again);
    CHECK(raw_count(e, "device") == 1 && raw_count(e, "device_user") == 1);

    char *rm = NULL;
    CHECK(omni_device_remove(&rm, NULL, e, platform, token, "fuzz") == OMNI_OK);
    omni_free(rm);
    CHECK(raw_count(e, "device") == 0 && raw_count(e, "device_user") == 0);
    CHECK(omni_device_get(&got, NULL, e, platform, token) == OMNI_ENOTFOUND);

    cJSON_Delete(in);
    cJSON_Delete(r);
    omni_free(out);
    omni_engine_free(e);
    return 0;
}
