/* Fuzz target for the rule matcher (lib/rules/rules_match.c). A fixed rule
 * set (every operator, groups, paths into arrays, ignoreCase, time.*,
 * priorities and a stop rule) is compiled once; the input is the facts.
 * Invariants:
 *   - omni_rules_match (text) and omni_rules_eval (text) return the same
 *     status; on success omni_rules_match_data and omni_rules_eval_data
 *     (parsed) agree with them: the same indices, the same JSON text;
 *   - the matched list is in match order (priority descending, ties in
 *     document order), with a stop rule only last;
 *   - a repeated evaluation gives the same answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>
#include <omni/rules.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NRULES 16
/* priorities of the rules below, in document order */
static const int prio[NRULES] = {100, 80, 80, 50, 50, 40, 30, 30, 20, 10, 10, 5, 1, 1, 0, 200};
static const int stops[NRULES] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static const char rules_json[] =
    "[{\"id\":\"vip\",\"priority\":100,\"conditions\":[{\"field\":\"identity.profile.tags\","
    "\"operator\":\"contains\",\"value\":\"vip\"}],\"actions\":[{\"type\":\"route_to_queue\","
    "\"queueId\":\"vip\",\"priority\":\"high\"}]},"
    "{\"id\":\"billing\",\"priority\":80,\"conditions\":[{\"field\":\"contentAnalysis.intent\","
    "\"operator\":\"in\",\"value\":[\"billing\",\"refund\",1,true,null]}],\"actions\":["
    "{\"type\":\"add_tag\",\"tag\":\"b\"}]},"
    "{\"id\":\"prefix\",\"priority\":80,\"conditions\":{\"any\":[{\"field\":\"a\",\"operator\":"
    "\"startsWith\",\"value\":\"x\"},{\"field\":\"a\",\"operator\":\"startsWith\","
    "\"value\":\"ABC\",\"ignoreCase\":true}]},\"actions\":[]},"
    "{\"id\":\"icase\",\"priority\":50,\"conditions\":[{\"field\":\"b\",\"operator\":"
    "\"equalsIgnoreCase\",\"value\":\"Émile\"}],\"actions\":[]},"
    "{\"id\":\"exists\",\"priority\":50,\"conditions\":[{\"field\":\"c.0.d\",\"operator\":"
    "\"exists\"},{\"not\":{\"field\":\"c.1\",\"operator\":\"exists\"}}],\"actions\":[]},"
    "{\"id\":\"num\",\"priority\":40,\"conditions\":[{\"field\":\"n\",\"operator\":\"between\","
    "\"value\":[-1.5,1e3]},{\"field\":\"n\",\"operator\":\"notEquals\",\"value\":7}],"
    "\"actions\":[]},"
    "{\"id\":\"str\",\"priority\":30,\"conditions\":{\"any\":[{\"field\":\"s\",\"operator\":"
    "\"lessThan\",\"value\":\"m\"},{\"field\":\"s\",\"operator\":\"endsWith\",\"value\":\"z\"}]},"
    "\"actions\":[]},"
    "{\"id\":\"re\",\"priority\":30,\"conditions\":[{\"field\":\"message.content\",\"operator\":"
    "\"matches\",\"value\":\"(?i)\\\\border\\\\s*#?\\\\d+\"}],\"actions\":[]},"
    "{\"id\":\"but\",\"priority\":20,\"conditions\":[{\"field\":\"k\",\"operator\":"
    "\"anythingBut\",\"value\":[\"a\",2]},{\"field\":\"k\",\"operator\":\"notIn\","
    "\"value\":[\"q\"]}],\"actions\":[]},"
    "{\"id\":\"sub\",\"priority\":10,\"conditions\":[{\"field\":\"message.content\",\"operator\":"
    "\"contains\",\"value\":\"HELP\",\"ignoreCase\":true},{\"field\":\"message.content\","
    "\"operator\":\"notContains\",\"value\":\"spam\"}],\"actions\":[]},"
    "{\"id\":\"time\",\"priority\":10,\"conditions\":[{\"field\":\"time.hour\",\"operator\":"
    "\"greaterThanOrEqual\",\"value\":9},{\"field\":\"time.weekday\",\"operator\":\"notIn\","
    "\"value\":[\"saturday\",\"sunday\"]}],\"actions\":[]},"
    "{\"id\":\"eq\",\"priority\":5,\"conditions\":[{\"field\":\"e\",\"operator\":\"equals\","
    "\"value\":1},{\"field\":\"e\",\"operator\":\"lessThanOrEqual\",\"value\":1}],\"actions\":[]},"
    "{\"name\":\"jre\",\"conditions\":{\"all\":[{\"fact\":\"j\",\"path\":\"$.x[0]\",\"operator\":"
    "\"greaterThan\",\"value\":1},{\"fact\":\"j\",\"path\":\"$['y z']\",\"operator\":"
    "\"doesNotContain\",\"value\":3}]},\"event\":{\"type\":\"t\"}},"
    "{\"name\":\"jre2\",\"conditions\":{\"any\":[{\"fact\":\"j\",\"operator\":\"equal\","
    "\"value\":\"v\"},{\"fact\":\"k\",\"operator\":\"in\",\"value\":[1,2,3]}]},"
    "\"event\":{\"type\":\"add_tag\",\"params\":{\"tag\":\"j\"}}},"
    "{\"id\":\"always\",\"conditions\":[],\"actions\":[{\"type\":\"add_tag\",\"tag\":\"a\"}]},"
    "{\"id\":\"stopper\",\"priority\":200,\"conditions\":[{\"field\":\"stop\",\"operator\":"
    "\"equals\",\"value\":true}],\"actions\":[{\"type\":\"stop\"}]}]";

static omni_rules *rules(void)
{
    static omni_rules *r;
    if (!r) {
        const char *opts = "{\"timeZone\":\"Europe/Berlin\"}";
        CHECK(omni_rules_compile(&r, rules_json, sizeof(rules_json) - 1, opts, strlen(opts)) ==
              OMNI_OK);
        CHECK(omni_rules_count(r) == NRULES);
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const omni_rules *r = rules();
    const char *text = (const char *)data;
    int64_t now = 1711848600000; /* fixed: time.* facts are deterministic */
    uint32_t idx[NRULES], idx2[NRULES];
    size_t cnt = 0, cnt2 = 0;
    int st = omni_rules_match(r, text, size, now, idx, NRULES, &cnt);
    char *out = NULL;
    size_t len = 0;
    int st2 = omni_rules_eval(&out, &len, r, text, size, now, OMNI_RULES_EXPLAIN);
    CHECK(st == st2);
    if (st != OMNI_OK) {
        CHECK(out == NULL && cnt == 0);
        CHECK(st == OMNI_EJSON || st == OMNI_ETOOLARGE || st == OMNI_ETOODEEP);
        return 0;
    }
    /* match order, stop last */
    for (size_t i = 0; i < cnt; i++) {
        CHECK(idx[i] < NRULES);
        if (i + 1 < cnt) {
            CHECK(!stops[idx[i]]);
            CHECK(prio[idx[i]] > prio[idx[i + 1]] ||
                  (prio[idx[i]] == prio[idx[i + 1]] && idx[i] < idx[i + 1]));
        }
    }
    /* again: the same */
    CHECK(omni_rules_match(r, text, size, now, idx2, NRULES, &cnt2) == OMNI_OK);
    CHECK(cnt2 == cnt && (cnt == 0 || memcmp(idx, idx2, cnt * sizeof(uint32_t)) == 0));
    /* parsed facts */
    omni_data *d = NULL;
    CHECK(omni_data_parse(&d, text, size) == OMNI_OK);
    CHECK(omni_rules_match_data(r, d, now, idx2, NRULES, &cnt2) == OMNI_OK);
    CHECK(cnt2 == cnt && (cnt == 0 || memcmp(idx, idx2, cnt * sizeof(uint32_t)) == 0));
    char *out2 = NULL;
    size_t len2 = 0;
    CHECK(omni_rules_eval_data(&out2, &len2, r, d, now, OMNI_RULES_EXPLAIN) == OMNI_OK);
    CHECK(len == len2 && memcmp(out, out2, len) == 0);
    /* the eval output lists the same ids */
    omni_data *od = NULL;
    CHECK(omni_data_parse(&od, out, len) == OMNI_OK);
    const omni_value *m = omni_value_get(omni_data_root(od), "matched");
    CHECK(omni_value_count(m) == cnt);
    for (size_t i = 0; i < cnt; i++) {
        const char *s = omni_value_string(omni_value_at(m, i), NULL);
        CHECK(s && strcmp(s, omni_rules_id(r, idx[i])) == 0);
    }
    omni_data_free(od);
    omni_data_free(d);
    omni_free(out);
    omni_free(out2);
    return 0;
}
