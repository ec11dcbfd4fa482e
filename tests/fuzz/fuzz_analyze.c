/* Fuzz target: content analysis. The input is used both as a message text
 * (omni_analyze_text, with the defaults and with a configured analyzer)
 * and as a request document (omni_analyze). Invariants: the output is
 * valid JSON with the header's members, entity spans lie inside the
 * content and their "value" is content[start..end), spamScore is in [0,1]
 * and sentimentScore in [-1,1]. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "fuzz_check.h"
#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *out, size_t n, const char *content, size_t clen)
{
    cJSON *r = NULL;
    CHECK(omni__json_parse(&r, out, n, 0, "result") == OMNI_OK);
    CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "spam")));
    double v = -9;
    CHECK(omni__json_num(r, "spamScore", &v) == 0 && v >= 0 && v <= 1);
    CHECK(omni__json_num(r, "sentimentScore", &v) == 0 && v >= -1 && v <= 1);
    CHECK(omni__json_num(r, "languageConfidence", &v) == 0 && v >= 0 && v <= 1);
    const char *s = omni__json_str(r, "sentiment");
    CHECK(s && (!strcmp(s, "positive") || !strcmp(s, "neutral") || !strcmp(s, "negative")));
    CHECK(omni__json_str(r, "language"));
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "spamReasons")));
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(r, "intent")));
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(r, "entities");
    CHECK(cJSON_IsArray(ents) && cJSON_GetArraySize(ents) <= OMNI_ANALYZE_MAX_ENTITIES);
    int64_t prev = -1;
    for (const cJSON *e = ents->child; e; e = e->next) {
        int64_t st = -1, en = -1;
        CHECK(omni__json_int(e, "start", &st) == 0 && omni__json_int(e, "end", &en) == 0);
        CHECK(st >= 0 && st < en && (uint64_t)en <= clen && st >= prev);
        prev = st;
        const char *val = omni__json_str(e, "value");
        CHECK(val && strlen(val) == (size_t)(en - st) && !memcmp(val, content + st, en - st));
        CHECK(omni__json_str(e, "type") && omni__json_str(e, "normalized"));
    }
    cJSON_Delete(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char cfg[] =
        "{\"entities\":{\"order\":\"\\\\b[A-Z]{2}-\\\\d{6}\\\\b\",\"any\":\"a*|b\"},"
        "\"spam\":{\"phrases\":[\"free money\",\"x\"],\"senders\":[\"+14155550100\"]},"
        "\"intents\":{\"vip\":[\"gold member\"]},\"defaultRegion\":\"IN\","
        "\"sentiment\":{\"lexicon\":{\"hi\":{\"bekaar\":-3}}}}";
    const char *text = (const char *)data;
    char *out = NULL;
    size_t n = 0;
    omni_analyzer *a = NULL;
    CHECK(omni_analyzer_compile(&a, cfg, sizeof(cfg) - 1) == OMNI_OK);
    for (int k = 0; k < 2; k++) {
        int rc = omni_analyze_text(&out, &n, k ? a : NULL, text, size, "hi", "4155550100");
        if (rc == OMNI_OK) {
            check(out, n, text, size);
            omni_free(out);
        } else {
            CHECK(out == NULL);
            CHECK(rc == OMNI_EENCODING || rc == OMNI_ETOOLARGE);
        }
    }
    /* as a request */
    int rc = omni_analyze(&out, &n, a, text, size);
    if (rc == OMNI_OK) {
        cJSON *req = NULL;
        CHECK(omni__json_parse(&req, text, size, OMNI_ANALYZE_MAX_REQUEST, "r") == OMNI_OK);
        const char *content = omni__json_str(req, "content");
        CHECK(content);
        check(out, n, content, strlen(content));
        cJSON_Delete(req);
        omni_free(out);
    } else {
        CHECK(out == NULL);
        CHECK(rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
              rc == OMNI_ETOODEEP || rc == OMNI_EENCODING);
    }
    omni_analyzer_free(a);
    return 0;
}
