/* Fuzz target for the rule compiler (lib/rules/rules_compile.c). Input: a
 * rules document. Invariants:
 *   - compiling returns OK or a documented error (ECONFIG with details
 *     {"errors":[...]} of 1..100 entries, EJSON, ETOOLARGE, ETOODEEP), with
 *     *out NULL on error;
 *   - a compiled set has ids for exactly omni_rules_count rules, all
 *     distinct and non-empty;
 *   - evaluated against a few fixed facts, omni_rules_match (text),
 *     omni_rules_match_data (parsed) and omni_rules_eval agree, every index
 *     is in range and listed once, and a cap smaller than the count gives
 *     the same prefix. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>
#include <omni/rules.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const facts[] = {
    "{}",
    "{\"a\":1,\"b\":\"x\",\"c\":[1,\"x\",null],\"d\":{\"e\":true},\"f\":\"Hello World\"}",
    "{\"message\":{\"content\":\"billing refund\",\"mediaUrls\":[\"u0\",\"u1\"]},"
    "\"identity\":{\"profile\":{\"tags\":[\"vip\"]}},\"contentAnalysis\":{\"intent\":\"billing\","
    "\"sentiment\":-0.5},\"time\":{\"hour\":10}}",
    "{\"gameDuration\":40,\"personalFoulCount\":6,\"u\":{\"a b\":[2,{\"x\":\"y\"}]}}",
};

static void check_facts(const omni_rules *r, const char *f)
{
    size_t n = omni_rules_count(r);
    uint32_t *idx = malloc((n + 1) * sizeof(uint32_t));
    uint32_t *idx2 = malloc((n + 1) * sizeof(uint32_t));
    CHECK(idx && idx2);
    size_t cnt = 0, cnt2 = 0;
    CHECK(omni_rules_match(r, f, strlen(f), 1700000000000, idx, n + 1, &cnt) == OMNI_OK);
    CHECK(cnt <= n);
    for (size_t i = 0; i < cnt; i++) {
        CHECK(idx[i] < n);
        for (size_t k = 0; k < i; k++)
            CHECK(idx[k] != idx[i]);
    }
    omni_data *d = NULL;
    CHECK(omni_data_parse(&d, f, strlen(f)) == OMNI_OK);
    CHECK(omni_rules_match_data(r, d, 1700000000000, idx2, n + 1, &cnt2) == OMNI_OK);
    CHECK(cnt2 == cnt && (cnt == 0 || memcmp(idx, idx2, cnt * sizeof(uint32_t)) == 0));
    if (cnt > 1) {
        CHECK(omni_rules_match(r, f, strlen(f), 1700000000000, idx2, 1, &cnt2) == OMNI_OK);
        CHECK(cnt2 == cnt && idx2[0] == idx[0]);
    }
    char *out = NULL, *out2 = NULL;
    size_t len = 0, len2 = 0;
    CHECK(omni_rules_eval(&out, &len, r, f, strlen(f), 1700000000000, OMNI_RULES_EXPLAIN) ==
          OMNI_OK);
    CHECK(omni_rules_eval_data(&out2, &len2, r, d, 1700000000000, OMNI_RULES_EXPLAIN) ==
          OMNI_OK);
    CHECK(len == len2 && memcmp(out, out2, len) == 0);
    /* the matched list is the ids in order */
    omni_data *od = NULL;
    CHECK(omni_data_parse(&od, out, len) == OMNI_OK);
    const omni_value *m = omni_value_get(omni_data_root(od), "matched");
    CHECK(omni_value_count(m) == cnt);
    for (size_t i = 0; i < cnt; i++) {
        const char *s = omni_value_string(omni_value_at(m, i), NULL);
        CHECK(s && strcmp(s, omni_rules_id(r, idx[i])) == 0);
    }
    omni_data_free(od);
    omni_free(out);
    omni_free(out2);
    omni_data_free(d);
    free(idx);
    free(idx2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    omni_rules *r = (omni_rules *)1;
    int st = omni_rules_compile(&r, (const char *)data, size, NULL, 0);
    if (st != OMNI_OK) {
        CHECK(r == NULL);
        CHECK(st == OMNI_ECONFIG || st == OMNI_EJSON || st == OMNI_ETOOLARGE ||
              st == OMNI_ETOODEEP);
        if (st == OMNI_ECONFIG) {
            const char *det = omni_error_last()->details;
            CHECK(det);
            omni_data *d = NULL;
            CHECK(omni_data_parse(&d, det, strlen(det)) == OMNI_OK);
            const omni_value *errs = omni_value_get(omni_data_root(d), "errors");
            CHECK(omni_value_count(errs) >= 1 && omni_value_count(errs) <= OMNI_RULES_MAX_ERRORS);
            omni_data_free(d);
        }
        return 0;
    }
    size_t n = omni_rules_count(r);
    for (size_t i = 0; i < n; i++) {
        const char *id = omni_rules_id(r, i);
        CHECK(id && *id);
        for (size_t k = 0; k < i && n < 200; k++)
            CHECK(strcmp(id, omni_rules_id(r, k)) != 0);
    }
    CHECK(omni_rules_id(r, n) == NULL);
    for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
        check_facts(r, facts[i]);
    omni_rules_free(r);
    return 0;
}
