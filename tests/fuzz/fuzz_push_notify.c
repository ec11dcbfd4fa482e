/* Fuzz target: a pushNotification event (outside input) through
 * omni_push_notify_begin over a memory-store engine whose registry holds
 * devices of user "u1" (iOS, Android and a web subscription). Invariants: an
 * error leaves no batch and a known status; a batch's result is JSON whose
 * summary counts every line (total = lines = omni_push_batch_count,
 * total = skipped + pending: nothing was sent), every skip has no job and
 * every other line has one, and nothing was written to the delivery
 * engine's store (a job is stored by its first next only). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static omni_engine *engine;
static omni_outbound *outbound;
static omni_delivery *delivery;

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

static int stored(const char *ns)
{
    int n = 0;
    CHECK(omni_store_list(omni_engine_store(engine), ns, NULL, NULL, 1000, 1, count_cb, &n,
                          NULL) == OMNI_OK);
    return n;
}

static void setup(void)
{
    static const char cfg[] = "{\"clock\":{\"fixed\":\"2026-03-09T15:00:00Z\"}}";
    static const char *const devices[] = {
        "{\"userId\":\"u1\",\"deviceToken\":\"00112233445566778899aabbccddeeff00112233445566778899"
        "aabbccddeeff\",\"platform\":\"ios\"}",
        "{\"userId\":\"u1\",\"deviceToken\":\"fcm-1\",\"platform\":\"android\"}",
        "{\"userId\":\"u1\",\"deviceToken\":\"https://push.example.net/s/1\",\"platform\":\"web\","
        "\"subscription\":{\"endpoint\":\"https://push.example.net/s/1\",\"keys\":{\"p256dh\":"
        "\"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        "\",\"auth\":\"BTBZMqHH6r4Tts7J_aSIgg\"}}}"};
    CHECK(omni_engine_new(&engine, cfg, sizeof cfg - 1, NULL) == OMNI_OK);
    CHECK(omni_outbound_new(&outbound, "{}", 2) == OMNI_OK);
    CHECK(omni_delivery_new(&delivery, engine, outbound, NULL, 0) == OMNI_OK);
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        char *out = NULL;
        CHECK(omni_device_register(&out, NULL, engine, devices[i], strlen(devices[i])) ==
              OMNI_OK);
        omni_free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine)
        setup();
    omni_push_batch *b = NULL;
    int rc = omni_push_notify_begin(&b, delivery, (const char *)data, size, 1773068400000LL);
    if (rc) {
        CHECK(!b && known(rc));
        omni_error_clear();
        return 0;
    }
    char *out = NULL;
    size_t len = 0;
    CHECK(omni_push_batch_result(b, &out, &len) == OMNI_OK);
    cJSON *res = cJSON_ParseWithLength(out, len);
    CHECK(res);
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(res, "deliveryResults");
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(res, "summary");
    int total = cJSON_GetObjectItemCaseSensitive(sum, "total")->valueint;
    int skipped = cJSON_GetObjectItemCaseSensitive(sum, "skipped")->valueint;
    int pending = cJSON_GetObjectItemCaseSensitive(sum, "pending")->valueint;
    CHECK(total == cJSON_GetArraySize(lines) && (size_t)total == omni_push_batch_count(b));
    CHECK(total >= 1 && total == skipped + pending);
    for (int i = 0; i < total; i++) {
        const cJSON *l = cJSON_GetArrayItem(lines, i);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(l, "status");
        CHECK(cJSON_IsString(st));
        int skip = strcmp(st->valuestring, "skipped") == 0;
        CHECK(skip || strcmp(st->valuestring, "pending") == 0);
        CHECK(skip == (omni_push_batch_job(b, (size_t)i) == NULL));
    }
    CHECK(stored("delivery") == 0 && stored("delivery_due") == 0);
    cJSON_Delete(res);
    omni_free(out);
    omni_push_batch_free(b);
    return 0;
}
