/* The rule engine (include/omni/rules.h), RoutingRule format: every
 * operator on scalars, arrays, missing facts and wrong types; groups;
 * priorities, ties, stop, disabled rules; actions and resolveDestination;
 * explain; time.* facts (Europe/Berlin, DST); compile errors; the index
 * against a brute-force evaluator; threads; text and parsed facts. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>
#include <omni/rules.h>

#include "lib/core/json.h"
#include "lib/rules/rules_internal.h"

/* ---- helpers ------------------------------------------------------------- */

static omni_rules *compile_opts(const char *rules, const char *opts)
{
    omni_rules *r = NULL;
    int st = omni_rules_compile(&r, rules, strlen(rules), opts, opts ? strlen(opts) : 0);
    cr_assert_eq(st, OMNI_OK, "compile: %s (%s)", omni_error_last_message(),
                 omni_error_last()->details ? omni_error_last()->details : "");
    cr_assert_not_null(r);
    return r;
}

static omni_rules *compile(const char *rules)
{
    return compile_opts(rules, NULL);
}

/* Compile failure: returns the details (static copy) after checking status. */
static char details_copy[65536];
static const char *compile_fail(const char *rules, int want)
{
    omni_rules *r = (omni_rules *)1;
    int st = omni_rules_compile(&r, rules, strlen(rules), NULL, 0);
    cr_assert_eq(st, want, "status %d, want %d: %s", st, want, omni_error_last_message());
    cr_assert_null(r);
    const char *d = omni_error_last()->details;
    snprintf(details_copy, sizeof(details_copy), "%s", d ? d : "");
    return details_copy;
}

static cJSON *eval_json(const omni_rules *r, const char *facts, int64_t now, unsigned flags)
{
    char *out = NULL;
    size_t n = 0;
    int st = omni_rules_eval(&out, &n, r, facts, strlen(facts), now, flags);
    cr_assert_eq(st, OMNI_OK, "eval: %s", omni_error_last_message());
    cJSON *j = cJSON_ParseWithLength(out, n);
    cr_assert_not_null(j, "output is JSON: %s", out);
    /* the parsed path gives the same text */
    omni_data *d = NULL;
    cr_assert_eq(omni_data_parse(&d, facts, strlen(facts)), OMNI_OK);
    char *out2 = NULL;
    size_t n2 = 0;
    cr_assert_eq(omni_rules_eval_data(&out2, &n2, r, d, now, flags), OMNI_OK);
    cr_assert_str_eq(out, out2);
    omni_free(out2);
    omni_data_free(d);
    omni_free(out);
    return j;
}

/* The matched ids joined with ",", checked against omni_rules_match (text
 * and parsed) too. */
static char matched_buf[8192];
static const char *matched_at(const omni_rules *r, const char *facts, int64_t now)
{
    cJSON *j = eval_json(r, facts, now, 0);
    matched_buf[0] = '\0';
    size_t len = 0;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "matched");
    cr_assert(cJSON_IsArray(m));
    int count = 0;
    for (const cJSON *e = m->child; e; e = e->next, count++)
        len += (size_t)snprintf(matched_buf + len, sizeof(matched_buf) - len, "%s%s",
                                len ? "," : "", e->valuestring);
    cJSON_Delete(j);
    uint32_t idx[256];
    size_t n = 0;
    cr_assert_eq(omni_rules_match(r, facts, strlen(facts), now, idx, 256, &n), OMNI_OK,
                 "%s", omni_error_last_message());
    cr_assert_eq(n, (size_t)count, "match count %zu vs eval %d for %s", n, count, facts);
    char buf[8192];
    size_t bl = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        bl += (size_t)snprintf(buf + bl, sizeof(buf) - bl, "%s%s", bl ? "," : "",
                               omni_rules_id(r, idx[i]));
    cr_assert_str_eq(buf, matched_buf, "text match %s vs eval %s", buf, matched_buf);
    omni_data *d = NULL;
    cr_assert_eq(omni_data_parse(&d, facts, strlen(facts)), OMNI_OK);
    uint32_t idx2[256];
    size_t n2 = 0;
    cr_assert_eq(omni_rules_match_data(r, d, now, idx2, 256, &n2), OMNI_OK);
    cr_assert_eq(n2, n);
    cr_assert(n == 0 || memcmp(idx, idx2, n * sizeof(uint32_t)) == 0);
    omni_data_free(d);
    return matched_buf;
}

static const char *matched(const omni_rules *r, const char *facts)
{
    return matched_at(r, facts, 1700000000000);
}

/* One rule "r" with one condition on field "f"; does it match facts? */
static int holds(const char *cond, const char *facts)
{
    char rules[4096];
    snprintf(rules, sizeof(rules), "[{\"id\":\"r\",\"conditions\":[%s],\"actions\":[]}]", cond);
    omni_rules *r = compile(rules);
    int m = strcmp(matched(r, facts), "r") == 0;
    omni_rules_free(r);
    return m;
}

#define HOLDS(cond, facts) cr_assert(holds(cond, facts), "%s should hold on %s", cond, facts)
#define FAILS(cond, facts) cr_assert(!holds(cond, facts), "%s should not hold on %s", cond, facts)

/* ---- the seed's example ------------------------------------------------------ */

static const char *seed_rules =
    "[{\"id\":\"vip-customer-rule\",\"name\":\"VIP Customer Priority Routing\",\"priority\":100,"
    "\"conditions\":[{\"field\":\"identity.profile.tags\",\"operator\":\"contains\","
    "\"value\":\"vip\"}],\"actions\":[{\"type\":\"route_to_queue\",\"queueId\":\"vip-support\","
    "\"priority\":\"high\"}],\"enabled\":true},"
    "{\"id\":\"billing-intent-rule\",\"name\":\"Billing Intent Routing\",\"priority\":80,"
    "\"conditions\":[{\"field\":\"contentAnalysis.intent\",\"operator\":\"contains\","
    "\"value\":\"billing\"}],\"actions\":[{\"type\":\"route_to_queue\","
    "\"queueId\":\"billing-team\"},{\"type\":\"add_tag\",\"tag\":\"billing-inquiry\"}],"
    "\"enabled\":true}]";

Test(rules, seed_example)
{
    omni_rules *r = compile(seed_rules);
    cr_assert_eq(omni_rules_count(r), 2);
    cr_assert_str_eq(omni_rules_id(r, 0), "vip-customer-rule");
    cr_assert_str_eq(omni_rules_id(r, 1), "billing-intent-rule");
    cr_assert_null(omni_rules_id(r, 2));
    cr_assert_eq(omni__rules_uses_time(r), 0);
    const char *facts = "{\"identity\":{\"profile\":{\"tags\":[\"new\",\"vip\"]}},"
                        "\"contentAnalysis\":{\"intent\":\"billing\"}}";
    cJSON *j = eval_json(r, facts, 0, 0);
    char *s = cJSON_PrintUnformatted(j);
    cr_assert_str_eq(
        s, "{\"matched\":[\"vip-customer-rule\",\"billing-intent-rule\"],\"actions\":["
           "{\"ruleId\":\"vip-customer-rule\",\"type\":\"route_to_queue\",\"queueId\":"
           "\"vip-support\",\"priority\":\"high\"},{\"ruleId\":\"billing-intent-rule\","
           "\"type\":\"route_to_queue\",\"queueId\":\"billing-team\"},{\"ruleId\":"
           "\"billing-intent-rule\",\"type\":\"add_tag\",\"tag\":\"billing-inquiry\"}],"
           "\"destination\":{\"type\":\"queue\",\"id\":\"vip-support\",\"metadata\":{}},"
           "\"tags\":[\"billing-inquiry\"],\"priority\":\"high\",\"block\":false,"
           "\"escalate\":false,\"autoRespond\":null,\"stoppedBy\":null}");
    free(s);
    cJSON_Delete(j);
    /* no rule: the default queue */
    j = eval_json(r, "{}", 0, 0);
    s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "destination"));
    cr_assert_str_eq(s, "{\"type\":\"queue\",\"id\":\"default\",\"name\":\"Default Queue\","
                        "\"metadata\":{}}");
    free(s);
    cJSON_Delete(j);
    cr_assert_str_eq(matched(r, "{\"contentAnalysis\":{\"intent\":\"billing_refund\"}}"),
                     "billing-intent-rule");
    omni_rules_free(r);
}

/* ---- operators ------------------------------------------------------------------ */

Test(rules, equals_and_not_equals)
{
    const char *c = "{\"field\":\"f\",\"operator\":\"equals\",\"value\":\"a\"}";
    HOLDS(c, "{\"f\":\"a\"}");
    FAILS(c, "{\"f\":\"A\"}");
    FAILS(c, "{\"f\":\"ab\"}");
    FAILS(c, "{}");
    FAILS(c, "{\"f\":null}");
    FAILS(c, "{\"f\":{\"a\":1}}");
    HOLDS(c, "{\"f\":[\"x\",\"a\"]}"); /* any element */
    FAILS(c, "{\"f\":[]}");
    HOLDS(c, "{\"f\":\"\\u0061\"}"); /* escapes decoded */
    /* numbers numerically, types strict */
    c = "{\"field\":\"f\",\"operator\":\"equals\",\"value\":1}";
    HOLDS(c, "{\"f\":1}");
    HOLDS(c, "{\"f\":1.0}");
    HOLDS(c, "{\"f\":10e-1}");
    FAILS(c, "{\"f\":\"1\"}");
    FAILS(c, "{\"f\":true}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equals\",\"value\":true}", "{\"f\":true}");
    FAILS("{\"field\":\"f\",\"operator\":\"equals\",\"value\":true}", "{\"f\":1}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equals\",\"value\":null}", "{\"f\":null}");
    FAILS("{\"field\":\"f\",\"operator\":\"equals\",\"value\":null}", "{}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equals\",\"value\":0}", "{\"f\":-0}");
    /* notEquals: the negation, true when missing, no element equal */
    c = "{\"field\":\"f\",\"operator\":\"notEquals\",\"value\":\"a\"}";
    FAILS(c, "{\"f\":\"a\"}");
    HOLDS(c, "{\"f\":\"b\"}");
    HOLDS(c, "{}");
    HOLDS(c, "{\"f\":1}");
    FAILS(c, "{\"f\":[\"b\",\"a\"]}");
    HOLDS(c, "{\"f\":[\"b\",\"c\"]}");
    /* ignoreCase */
    c = "{\"field\":\"f\",\"operator\":\"equals\",\"value\":\"Straße\",\"ignoreCase\":true}";
    HOLDS(c, "{\"f\":\"STRAßE\"}");
    HOLDS(c, "{\"f\":\"straße\"}");
    FAILS(c, "{\"f\":\"STRASSE\"}");
}

Test(rules, equals_ignore_case_unicode)
{
    const char *c = "{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"Éclair\"}";
    HOLDS(c, "{\"f\":\"éCLAIR\"}");
    HOLDS(c, "{\"f\":\"ÉCLAIR\"}");
    FAILS(c, "{\"f\":\"eclair\"}");
    FAILS(c, "{\"f\":1}");
    HOLDS(c, "{\"f\":[1,\"ÉcLaIr\"]}");
    /* Greek (final sigma folds to sigma), Cyrillic, Latin Extended-A */
    HOLDS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"ΟΔΟΣ\"}",
          "{\"f\":\"οδος\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"οδοσ\"}",
          "{\"f\":\"ΟΔΟς\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"ДОБРЫЙ ДЕНЬ\"}",
          "{\"f\":\"добрый день\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"ЁЖ\"}",
          "{\"f\":\"ёж\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"ŁÓDŹ\"}",
          "{\"f\":\"łódź\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"ſ\"}",
          "{\"f\":\"S\"}");
    FAILS("{\"field\":\"f\",\"operator\":\"equalsIgnoreCase\",\"value\":\"İ\"}",
          "{\"f\":\"i\"}");
}

Test(rules, in_and_not_in)
{
    const char *c = "{\"field\":\"f\",\"operator\":\"in\",\"value\":[\"a\",2,true,null]}";
    HOLDS(c, "{\"f\":\"a\"}");
    HOLDS(c, "{\"f\":2.0}");
    HOLDS(c, "{\"f\":true}");
    HOLDS(c, "{\"f\":null}");
    FAILS(c, "{\"f\":\"2\"}");
    FAILS(c, "{\"f\":false}");
    FAILS(c, "{}");
    HOLDS(c, "{\"f\":[\"z\",\"a\"]}");
    FAILS(c, "{\"f\":{}}");
    c = "{\"field\":\"f\",\"operator\":\"notIn\",\"value\":[\"a\",\"b\"]}";
    HOLDS(c, "{\"f\":\"c\"}");
    FAILS(c, "{\"f\":\"b\"}");
    HOLDS(c, "{}");
    FAILS(c, "{\"f\":[\"c\",\"a\"]}");
    HOLDS(c, "{\"f\":[\"c\",\"d\"]}");
    /* a large list (hash set) with ignoreCase */
    char cond[8192];
    size_t n = (size_t)snprintf(cond, sizeof(cond),
                                "{\"field\":\"f\",\"operator\":\"in\",\"ignoreCase\":true,"
                                "\"value\":[");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(cond + n, sizeof(cond) - n, "%s\"Val%d\"", i ? "," : "", i);
    snprintf(cond + n, sizeof(cond) - n, ",7]}");
    HOLDS(cond, "{\"f\":\"vAL199\"}");
    HOLDS(cond, "{\"f\":7}");
    FAILS(cond, "{\"f\":\"val200\"}");
    FAILS(cond, "{\"f\":\"7\"}");
}

Test(rules, contains_and_not_contains)
{
    const char *c = "{\"field\":\"f\",\"operator\":\"contains\",\"value\":\"bill\"}";
    HOLDS(c, "{\"f\":\"about billing\"}");
    HOLDS(c, "{\"f\":\"bill\"}");
    FAILS(c, "{\"f\":\"Billing\"}");
    FAILS(c, "{\"f\":\"bil\"}");
    HOLDS(c, "{\"f\":[\"x\",\"bill\"]}");
    FAILS(c, "{\"f\":[\"billing\"]}"); /* array: an element equals */
    FAILS(c, "{}");
    FAILS(c, "{\"f\":5}");
    HOLDS("{\"field\":\"f\",\"operator\":\"contains\",\"value\":\"BILL\",\"ignoreCase\":true}",
          "{\"f\":\"my Billing\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"contains\",\"value\":\"BILL\",\"ignoreCase\":true}",
          "{\"f\":[\"bill\"]}");
    HOLDS("{\"field\":\"f\",\"operator\":\"contains\",\"value\":3}", "{\"f\":[1,3]}");
    FAILS("{\"field\":\"f\",\"operator\":\"contains\",\"value\":3}", "{\"f\":\"123\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"contains\",\"value\":\"\"}", "{\"f\":\"x\"}");
    c = "{\"field\":\"f\",\"operator\":\"notContains\",\"value\":\"spam\"}";
    HOLDS(c, "{\"f\":\"ham\"}");
    FAILS(c, "{\"f\":\"no spam here\"}");
    HOLDS(c, "{}");
    FAILS(c, "{\"f\":[\"spam\"]}");
    HOLDS(c, "{\"f\":[\"spammy\"]}");
}

Test(rules, starts_ends_with)
{
    const char *c = "{\"field\":\"f\",\"operator\":\"startsWith\",\"value\":\"+1\"}";
    HOLDS(c, "{\"f\":\"+15551234\"}");
    HOLDS(c, "{\"f\":\"+1\"}");
    FAILS(c, "{\"f\":\"+4415\"}");
    FAILS(c, "{\"f\":\"+\"}");
    FAILS(c, "{\"f\":15}");
    HOLDS(c, "{\"f\":[\"x\",\"+1x\"]}");
    FAILS(c, "{}");
    HOLDS("{\"field\":\"f\",\"operator\":\"startsWith\",\"value\":\"\"}", "{\"f\":\"\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"startsWith\",\"value\":\"ÉT\",\"ignoreCase\":true}",
          "{\"f\":\"été\"}");
    c = "{\"field\":\"f\",\"operator\":\"endsWith\",\"value\":\".pdf\"}";
    HOLDS(c, "{\"f\":\"a.pdf\"}");
    FAILS(c, "{\"f\":\"a.PDF\"}");
    FAILS(c, "{\"f\":\"pdf\"}");
    HOLDS(c, "{\"f\":[\"a.png\",\"b.pdf\"]}");
    HOLDS("{\"field\":\"f\",\"operator\":\"endsWith\",\"value\":\".pdf\",\"ignoreCase\":true}",
          "{\"f\":\"A.PDF\"}");
}

Test(rules, anything_but_and_exists)
{
    const char *c = "{\"field\":\"f\",\"operator\":\"anythingBut\",\"value\":[\"a\",\"b\"]}";
    HOLDS(c, "{\"f\":\"c\"}");
    FAILS(c, "{\"f\":\"a\"}");
    FAILS(c, "{}"); /* needs the fact */
    HOLDS(c, "{\"f\":null}");
    HOLDS(c, "{\"f\":[\"a\",\"c\"]}");
    FAILS(c, "{\"f\":[\"a\",\"b\"]}");
    HOLDS("{\"field\":\"f\",\"operator\":\"anythingBut\",\"value\":\"x\"}", "{\"f\":1}");
    FAILS("{\"field\":\"f\",\"operator\":\"anythingBut\",\"value\":\"x\"}", "{\"f\":\"x\"}");
    c = "{\"field\":\"a.b\",\"operator\":\"exists\"}";
    HOLDS(c, "{\"a\":{\"b\":null}}");
    HOLDS(c, "{\"a\":{\"b\":[]}}");
    FAILS(c, "{\"a\":{}}");
    FAILS(c, "{\"a\":5}");
    HOLDS("{\"field\":\"a.b\",\"operator\":\"exists\",\"value\":true}", "{\"a\":{\"b\":0}}");
    c = "{\"field\":\"a.b\",\"operator\":\"exists\",\"value\":false}";
    HOLDS(c, "{}");
    FAILS(c, "{\"a\":{\"b\":false}}");
}

Test(rules, comparisons)
{
    HOLDS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":5}", "{\"f\":5.5}");
    FAILS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":5}", "{\"f\":5}");
    HOLDS("{\"field\":\"f\",\"operator\":\"greaterThanOrEqual\",\"value\":5}", "{\"f\":5}");
    HOLDS("{\"field\":\"f\",\"operator\":\"lessThan\",\"value\":5}", "{\"f\":-1e3}");
    FAILS("{\"field\":\"f\",\"operator\":\"lessThan\",\"value\":5}", "{\"f\":5}");
    HOLDS("{\"field\":\"f\",\"operator\":\"lessThanOrEqual\",\"value\":5}", "{\"f\":5}");
    /* mixed types are false, strings bytewise */
    FAILS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":5}", "{\"f\":\"6\"}");
    FAILS("{\"field\":\"f\",\"operator\":\"lessThan\",\"value\":5}", "{\"f\":null}");
    FAILS("{\"field\":\"f\",\"operator\":\"lessThan\",\"value\":5}", "{}");
    HOLDS("{\"field\":\"f\",\"operator\":\"lessThan\",\"value\":\"17:00\"}",
          "{\"f\":\"09:30\"}");
    FAILS("{\"field\":\"f\",\"operator\":\"lessThan\",\"value\":\"17:00\"}",
          "{\"f\":\"17:00\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":\"2024-01-31\"}",
          "{\"f\":\"2024-02-01T00:00:00Z\"}");
    FAILS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":\"abc\"}", "{\"f\":\"ab\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":\"ab\"}", "{\"f\":\"abc\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":5}", "{\"f\":[1,9]}");
    FAILS("{\"field\":\"f\",\"operator\":\"greaterThan\",\"value\":5}", "{\"f\":[1,2]}");
    /* between, inclusive */
    const char *c = "{\"field\":\"f\",\"operator\":\"between\",\"value\":[1,3]}";
    HOLDS(c, "{\"f\":1}");
    HOLDS(c, "{\"f\":3}");
    HOLDS(c, "{\"f\":2.5}");
    FAILS(c, "{\"f\":3.01}");
    FAILS(c, "{\"f\":\"2\"}");
    c = "{\"field\":\"f\",\"operator\":\"between\",\"value\":[\"09:00\",\"17:00\"]}";
    HOLDS(c, "{\"f\":\"12:15\"}");
    HOLDS(c, "{\"f\":\"17:00\"}");
    FAILS(c, "{\"f\":\"17:01\"}");
    FAILS(c, "{\"f\":12}");
}

Test(rules, matches)
{
    const char *c =
        "{\"field\":\"f\",\"operator\":\"matches\",\"value\":\"\\\\border\\\\s*#?\\\\d{4,}\"}";
    HOLDS(c, "{\"f\":\"my order #12345 is late\"}");
    FAILS(c, "{\"f\":\"reorder 12345\"}");
    FAILS(c, "{\"f\":\"order 12\"}");
    FAILS(c, "{\"f\":12345}");
    HOLDS(c, "{\"f\":[\"x\",\"order 9999\"]}");
    HOLDS("{\"field\":\"f\",\"operator\":\"matches\",\"value\":\"^REFUND\",\"ignoreCase\":true}",
          "{\"f\":\"refund please\"}");
    HOLDS("{\"field\":\"f\",\"operator\":\"matches\",\"value\":\"(?i)^refund$\"}",
          "{\"f\":\"ReFuNd\"}");
    FAILS("{\"field\":\"f\",\"operator\":\"matches\",\"value\":\"^refund$\"}",
          "{\"f\":\"refund\\n\"}");
}

Test(rules, paths_and_arrays)
{
    /* a digit segment indexes an array, or an object key */
    const char *c = "{\"field\":\"m.urls.1\",\"operator\":\"equals\",\"value\":\"b\"}";
    HOLDS(c, "{\"m\":{\"urls\":[\"a\",\"b\"]}}");
    FAILS(c, "{\"m\":{\"urls\":[\"b\"]}}");
    HOLDS(c, "{\"m\":{\"urls\":{\"1\":\"b\"}}}");
    c = "{\"field\":\"items.0.sku\",\"operator\":\"startsWith\",\"value\":\"X-\"}";
    HOLDS(c, "{\"items\":[{\"sku\":\"X-1\"},{\"sku\":\"Y\"}]}");
    FAILS(c, "{\"items\":[{\"sku\":\"Y\"},{\"sku\":\"X-1\"}]}");
    /* no implicit mapping over arrays of objects */
    FAILS("{\"field\":\"items.sku\",\"operator\":\"exists\"}", "{\"items\":[{\"sku\":1}]}");
    /* keys with escapes, unicode, repeated keys (the last one wins) */
    HOLDS("{\"field\":\"a b.é\",\"operator\":\"equals\",\"value\":1}",
          "{\"a\\u0020b\":{\"\\u00e9\":1}}");
    c = "{\"field\":\"a.b\",\"operator\":\"exists\"}";
    FAILS(c, "{\"a\":{\"b\":1},\"a\":{\"c\":2}}");
    HOLDS(c, "{\"a\":{\"c\":2},\"a\":{\"b\":1}}");
    HOLDS("{\"field\":\"a\",\"operator\":\"equals\",\"value\":2}", "{\"a\":1,\"a\":2}");
    FAILS("{\"field\":\"a\",\"operator\":\"equals\",\"value\":1}", "{\"a\":1,\"a\":2}");
    /* escaped strings, surrogates */
    HOLDS("{\"field\":\"s\",\"operator\":\"equals\",\"value\":\"a\\\"b\\n😀\"}",
          "{\"s\":\"a\\\"b\\n\\ud83d\\ude00\"}");
    HOLDS("{\"field\":\"s\",\"operator\":\"equals\",\"value\":\"\xEF\xBF\xBD\"}",
          "{\"s\":\"\\ud800\"}");
    /* deep paths */
    HOLDS("{\"field\":\"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p\",\"operator\":\"equals\",\"value\":1}",
          "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":"
          "{\"m\":{\"n\":{\"o\":{\"p\":1}}}}}}}}}}}}}}}}");
}

/* ---- groups ---------------------------------------------------------------------------- */

Test(rules, groups)
{
    omni_rules *r = compile(
        "[{\"id\":\"all\",\"conditions\":{\"all\":[{\"field\":\"a\",\"operator\":\"equals\","
        "\"value\":1},{\"field\":\"b\",\"operator\":\"equals\",\"value\":2}]},\"actions\":[]},"
        "{\"id\":\"any\",\"conditions\":{\"any\":[{\"field\":\"a\",\"operator\":\"equals\","
        "\"value\":1},{\"field\":\"b\",\"operator\":\"equals\",\"value\":2}]},\"actions\":[]},"
        "{\"id\":\"not\",\"conditions\":{\"not\":{\"field\":\"a\",\"operator\":\"equals\","
        "\"value\":1}},\"actions\":[]},"
        "{\"id\":\"nest\",\"conditions\":[{\"any\":[{\"all\":[{\"field\":\"a\",\"operator\":"
        "\"equals\",\"value\":1},{\"not\":{\"field\":\"c\",\"operator\":\"exists\"}}]},"
        "{\"field\":\"b\",\"operator\":\"in\",\"value\":[7,8]}]}],\"actions\":[]},"
        "{\"id\":\"empty-all\",\"conditions\":{\"all\":[]},\"actions\":[]},"
        "{\"id\":\"empty-any\",\"conditions\":{\"any\":[]},\"actions\":[]},"
        "{\"id\":\"empty-array\",\"conditions\":[],\"actions\":[]},"
        "{\"id\":\"not-any-empty\",\"conditions\":{\"not\":{\"any\":[]}},\"actions\":[]},"
        "{\"id\":\"not-all-empty\",\"conditions\":{\"not\":{\"all\":[]}},\"actions\":[]}]");
    cr_assert_str_eq(matched(r, "{\"a\":1,\"b\":2}"),
                     "all,any,nest,empty-all,empty-array,not-any-empty");
    cr_assert_str_eq(matched(r, "{\"a\":1}"), "any,nest,empty-all,empty-array,not-any-empty");
    cr_assert_str_eq(matched(r, "{\"a\":1,\"c\":0}"),
                     "any,empty-all,empty-array,not-any-empty");
    cr_assert_str_eq(matched(r, "{\"b\":8}"),
                     "not,nest,empty-all,empty-array,not-any-empty");
    cr_assert_str_eq(matched(r, "{}"), "not,empty-all,empty-array,not-any-empty");
    omni_rules_free(r);
}

/* ---- order, stop, disabled ------------------------------------------------------------ */

Test(rules, priorities_ties_stop_disabled)
{
    omni_rules *r = compile(
        "{\"rules\":[{\"id\":\"low\",\"priority\":-5,\"conditions\":[],\"actions\":[]},"
        "{\"id\":\"t1\",\"priority\":10,\"conditions\":[],\"actions\":[]},"
        "{\"id\":\"off\",\"priority\":1000,\"enabled\":false,\"conditions\":[],\"actions\":[]},"
        "{\"id\":\"t2\",\"priority\":10,\"conditions\":[{\"field\":\"x\",\"operator\":"
        "\"equals\",\"value\":1}],\"actions\":[]},"
        "{\"id\":\"zero\",\"conditions\":[],\"actions\":[]},"
        "{\"id\":\"top\",\"priority\":2147483647,\"conditions\":[{\"field\":\"x\",\"operator\":"
        "\"exists\"}],\"actions\":[]},"
        "{\"id\":\"stopper\",\"priority\":5,\"conditions\":[{\"field\":\"stop\",\"operator\":"
        "\"equals\",\"value\":true}],\"actions\":[{\"type\":\"add_tag\",\"tag\":\"s\"},"
        "{\"type\":\"stop\"},{\"type\":\"add_tag\",\"tag\":\"after-stop-same-rule\"}]}]}");
    cr_assert_eq(omni_rules_count(r), 7);
    cr_assert_str_eq(omni_rules_id(r, 2), "off");
    cr_assert_str_eq(matched(r, "{\"x\":1}"), "top,t1,t2,zero,low");
    cr_assert_str_eq(matched(r, "{\"x\":2}"), "top,t1,zero,low");
    cr_assert_str_eq(matched(r, "{\"stop\":true}"), "t1,stopper");
    cJSON *j = eval_json(r, "{\"stop\":true}", 0, 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "stoppedBy")->valuestring, "stopper");
    char *tags = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "tags"));
    cr_assert_str_eq(tags, "[\"s\",\"after-stop-same-rule\"]");
    free(tags);
    cJSON_Delete(j);
    /* the count may exceed cap */
    uint32_t idx[2];
    size_t n = 99;
    cr_assert_eq(omni_rules_match(r, "{\"x\":1}", 7, 0, idx, 2, &n), OMNI_OK);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(omni_rules_id(r, idx[0]), "top");
    cr_assert_str_eq(omni_rules_id(r, idx[1]), "t1");
    cr_assert_eq(omni_rules_match(r, "{\"x\":1}", 7, 0, NULL, 0, &n), OMNI_OK);
    cr_assert_eq(n, 5);
    omni_rules_free(r);
}

/* ---- actions ----------------------------------------------------------------------------- */

Test(rules, actions_and_destination)
{
    omni_rules *r = compile(
        "[{\"id\":\"a\",\"priority\":9,\"conditions\":[{\"field\":\"k\",\"operator\":\"equals\","
        "\"value\":\"agent\"}],\"actions\":[{\"type\":\"route_to_agent\",\"agentId\":\"ag-1\","
        "\"agentName\":\"Asha\",\"skills\":[\"billing\",\"fr\"],\"x-host\":{\"n\":1}},"
        "{\"type\":\"set_priority\",\"priority\":\"urgent\"}]},"
        "{\"id\":\"b\",\"priority\":8,\"conditions\":[],\"actions\":[{\"type\":\"route_to_bot\","
        "\"botId\":\"bot-1\",\"botCapabilities\":[\"faq\"],\"priority\":\"low\"},"
        "{\"type\":\"add_tag\",\"tag\":\"t1\"},"
        "{\"type\":\"auto_respond\",\"templateId\":\"tpl-1\"},"
        "{\"type\":\"escalate\",\"reason\":\"angry\"}]},"
        "{\"id\":\"c\",\"priority\":7,\"conditions\":[],\"actions\":[{\"type\":\"route_to_queue\","
        "\"queueId\":\"q\",\"queueName\":\"Q\",\"estimatedWait\":5},{\"type\":\"add_tag\","
        "\"tag\":\"t2\"},{\"type\":\"add_tag\",\"tag\":\"t1\"},{\"type\":\"auto_respond\","
        "\"templateId\":\"tpl-2\"},{\"type\":\"block\"}]}]");
    cJSON *j = eval_json(r, "{\"k\":\"agent\"}", 0, 0);
    char *s = cJSON_PrintUnformatted(j);
    cr_assert_str_eq(
        s,
        "{\"matched\":[\"a\",\"b\",\"c\"],\"actions\":[{\"ruleId\":\"a\",\"type\":"
        "\"route_to_agent\",\"agentId\":\"ag-1\",\"agentName\":\"Asha\",\"skills\":[\"billing\","
        "\"fr\"],\"x-host\":{\"n\":1}},{\"ruleId\":\"a\",\"type\":\"set_priority\",\"priority\":"
        "\"urgent\"},{\"ruleId\":\"b\",\"type\":\"route_to_bot\",\"botId\":\"bot-1\","
        "\"botCapabilities\":[\"faq\"],\"priority\":\"low\"},{\"ruleId\":\"b\",\"type\":"
        "\"add_tag\",\"tag\":\"t1\"},{\"ruleId\":\"b\",\"type\":\"auto_respond\",\"templateId\":"
        "\"tpl-1\"},{\"ruleId\":\"b\",\"type\":\"escalate\",\"reason\":\"angry\"},{\"ruleId\":"
        "\"c\",\"type\":\"route_to_queue\",\"queueId\":\"q\",\"queueName\":\"Q\","
        "\"estimatedWait\":5},{\"ruleId\":\"c\",\"type\":\"add_tag\",\"tag\":\"t2\"},{\"ruleId\":"
        "\"c\",\"type\":\"add_tag\",\"tag\":\"t1\"},{\"ruleId\":\"c\",\"type\":\"auto_respond\","
        "\"templateId\":\"tpl-2\"},{\"ruleId\":\"c\",\"type\":\"block\"}],\"destination\":{"
        "\"type\":\"agent\",\"id\":\"ag-1\",\"name\":\"Asha\",\"metadata\":{\"skillSet\":["
        "\"billing\",\"fr\"]}},\"tags\":[\"t1\",\"t2\"],\"priority\":\"urgent\",\"block\":true,"
        "\"escalate\":true,\"autoRespond\":{\"ruleId\":\"b\",\"templateId\":\"tpl-1\"},"
        "\"stoppedBy\":null}");
    free(s);
    cJSON_Delete(j);
    /* without the agent rule: the bot, its priority */
    j = eval_json(r, "{}", 0, 0);
    s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "destination"));
    cr_assert_str_eq(s, "{\"type\":\"bot\",\"id\":\"bot-1\",\"metadata\":{\"capabilities\":"
                        "[\"faq\"]}}");
    free(s);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "priority")->valuestring, "low");
    cJSON_Delete(j);
    /* omni__rules_decide over the queue rule only */
    uint32_t only_c = 2;
    omni__rules_decision d;
    omni__rules_decide(r, &only_c, 1, &d);
    cr_assert_eq(d.has_destination, 1);
    cr_assert_str_eq(d.dest_type, "queue");
    cr_assert_str_eq(d.dest_id, "q");
    cr_assert_str_eq(d.dest_name, "Q");
    cr_assert_str_eq(d.dest_metadata_json, "{\"estimatedWait\":5}");
    cr_assert_eq(d.priority, OMNI__RULES_PRIORITY_NONE);
    cr_assert_eq(d.block, 1);
    cr_assert_eq(d.escalate, 0);
    cr_assert_str_eq(d.auto_respond_template, "tpl-2");
    cr_assert_str_eq(d.auto_respond_rule, "c");
    cr_assert_null(d.stopped_by);
    cr_assert_eq(d.tag_count, 2);
    cr_assert_str_eq(d.tags[0], "t2");
    cr_assert_str_eq(d.tags[1], "t1");
    omni__rules_decide(r, NULL, 0, &d);
    cr_assert_eq(d.has_destination, 0);
    omni_rules_free(r);
}

/* ---- explain ------------------------------------------------------------------------------ */

Test(rules, explain)
{
    omni_rules *r = compile(
        "[{\"id\":\"e\",\"conditions\":{\"any\":[{\"field\":\"a\",\"operator\":\"equals\","
        "\"value\":\"x\"},{\"all\":[{\"field\":\"missing\",\"operator\":\"notEquals\","
        "\"value\":1},{\"field\":\"n\",\"operator\":\"in\",\"value\":[1,2]}]}]},\"actions\":[]},"
        "{\"id\":\"nomatch\",\"conditions\":[{\"field\":\"a\",\"operator\":\"equals\","
        "\"value\":\"zz\"}],\"actions\":[]}]");
    cJSON *j = eval_json(r, "{\"a\":\"y\",\"n\":2}", 0, OMNI_RULES_EXPLAIN);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "explain"));
    cr_assert_str_eq(
        s, "[{\"ruleId\":\"e\",\"conditions\":[{\"path\":\"[0].conditions.any[0]\",\"field\":"
           "\"a\",\"operator\":\"equals\",\"value\":\"x\",\"actual\":\"y\",\"result\":false},"
           "{\"path\":\"[0].conditions.any[1].all[0]\",\"field\":\"missing\",\"operator\":"
           "\"notEquals\",\"value\":1,\"result\":true},{\"path\":\"[0].conditions.any[1].all[1]\","
           "\"field\":\"n\",\"operator\":\"in\",\"value\":[1,2],\"actual\":2,\"result\":true}]}]");
    free(s);
    cJSON_Delete(j);
    /* without the flag: no explain member */
    j = eval_json(r, "{\"a\":\"y\",\"n\":2}", 0, 0);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(j, "explain"));
    cJSON_Delete(j);
    omni_rules_free(r);
}

/* ---- time --------------------------------------------------------------------------------- */

Test(rules, time_facts_berlin_dst)
{
    const char *rules =
        "[{\"id\":\"hours\",\"conditions\":[{\"field\":\"time.hour\",\"operator\":\"between\","
        "\"value\":[9,17]}],\"actions\":[]},"
        "{\"id\":\"sunday\",\"conditions\":[{\"field\":\"time.weekday\",\"operator\":\"equals\","
        "\"value\":\"sunday\"},{\"field\":\"time.isoWeekday\",\"operator\":\"equals\","
        "\"value\":7}],\"actions\":[]},"
        "{\"id\":\"clock\",\"conditions\":[{\"field\":\"time.clock\",\"operator\":\"between\","
        "\"value\":[\"03:00\",\"03:59\"]}],\"actions\":[]},"
        "{\"id\":\"date\",\"conditions\":[{\"field\":\"time.date\",\"operator\":\"equals\","
        "\"value\":\"2024-03-31\"}],\"actions\":[]},"
        "{\"id\":\"epoch\",\"conditions\":[{\"field\":\"time.epochMs\",\"operator\":"
        "\"greaterThan\",\"value\":0}],\"actions\":[]}]";
    omni_rules *r = compile_opts(rules, "{\"timeZone\":\"Europe/Berlin\"}");
    cr_assert_eq(omni__rules_uses_time(r), 1);
    /* 2024-03-31T00:30:00Z = 01:30 CET (before the switch at 01:00 UTC) */
    cr_assert_str_eq(matched_at(r, "{}", INT64_C(1711845000000)), "sunday,date,epoch");
    /* 2024-03-31T01:30:00Z = 03:30 CEST */
    cr_assert_str_eq(matched_at(r, "{}", INT64_C(1711848600000)), "sunday,clock,date,epoch");
    /* 2024-07-01T08:00:00Z = 10:00 CEST, a Monday */
    cr_assert_str_eq(matched_at(r, "{}", INT64_C(1719820800000)), "hours,epoch");
    /* explain shows the supplied values */
    cJSON *j = eval_json(r, "{}", INT64_C(1711848600000), OMNI_RULES_EXPLAIN);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "explain"));
    cr_assert(strstr(s, "\"field\":\"time.clock\",\"operator\":\"between\",\"value\":[\"03:00\","
                        "\"03:59\"],\"actual\":\"03:30\",\"result\":true"), "%s", s);
    cr_assert(strstr(s, "\"actual\":1711848600000"), "%s", s);
    free(s);
    cJSON_Delete(j);
    /* a "time" in the facts is used as given */
    cr_assert_str_eq(matched_at(r, "{\"time\":{\"hour\":12,\"weekday\":\"sunday\"}}",
                                INT64_C(1711848600000)),
                     "hours");
    cr_assert_str_eq(matched_at(r, "{\"time\":null}", INT64_C(1711848600000)), "");
    omni_rules_free(r);
    /* UTC by default; the zone must exist */
    r = compile(rules);
    cr_assert_str_eq(matched_at(r, "{}", INT64_C(1711848600000)), "sunday,date,epoch");
    omni_rules_free(r);
    /* the whole object */
    r = compile("[{\"id\":\"t\",\"conditions\":[{\"field\":\"time\",\"operator\":\"exists\"}],"
                "\"actions\":[]}]");
    j = eval_json(r, "{}", INT64_C(1711848600000), OMNI_RULES_EXPLAIN);
    s = cJSON_PrintUnformatted(j);
    cr_assert(strstr(s, "\"actual\":{\"hour\":1,\"minute\":30,\"weekday\":\"sunday\","
                        "\"isoWeekday\":7,\"date\":\"2024-03-31\",\"clock\":\"01:30\","
                        "\"epochMs\":1711848600000}"), "%s", s);
    free(s);
    cJSON_Delete(j);
    omni_rules_free(r);
    /* now_ms 0: the current time (some hour) */
    r = compile("[{\"id\":\"t\",\"conditions\":[{\"field\":\"time.hour\",\"operator\":"
                "\"between\",\"value\":[0,23]}],\"actions\":[]}]");
    cr_assert_str_eq(matched_at(r, "{}", 0), "t");
    omni_rules_free(r);
}

/* ---- compile errors ------------------------------------------------------------------------ */

Test(rules, compile_errors_all_reported)
{
    const char *d = compile_fail(
        "[{\"id\":\"vip\",\"conditions\":[{\"field\":\"a\",\"operator\":\"equals\",\"value\":1},"
        "{\"field\":\"b\",\"operator\":\"eq\",\"value\":1}],\"actions\":[{\"type\":\"nope\"}]},"
        "{\"id\":\"vip\",\"colour\":\"red\",\"conditions\":[{\"field\":\"a..b\",\"operator\":"
        "\"matches\",\"value\":\"(a\"}],\"actions\":[{\"type\":\"route_to_queue\"}]},"
        "{\"conditions\":[],\"actions\":[]},"
        "{\"id\":\"types\",\"priority\":1.5,\"enabled\":\"yes\",\"conditions\":["
        "{\"field\":\"x\",\"operator\":\"in\",\"value\":\"a\"},"
        "{\"field\":\"x\",\"operator\":\"startsWith\",\"value\":1},"
        "{\"field\":\"x\",\"operator\":\"equals\",\"value\":[1]},"
        "{\"field\":\"x\",\"operator\":\"between\",\"value\":[1,\"z\"]},"
        "{\"field\":\"x\",\"operator\":\"exists\",\"value\":1},"
        "{\"field\":\"x\",\"operator\":\"equals\"},"
        "{\"field\":\"x\",\"operator\":\"matches\",\"value\":\"(?=a)\"},"
        "{\"field\":\"x\",\"operator\":\"in\",\"value\":[1,{}]},"
        "{\"field\":1,\"operator\":\"equals\",\"value\":1},"
        "{\"field\":\"x\",\"operator\":\"equals\",\"value\":1,\"ignoreCase\":1},"
        "{\"all\":[],\"any\":[]},{\"bogus\":1},5],"
        "\"actions\":[{\"type\":\"set_priority\",\"priority\":\"max\"},"
        "{\"type\":\"add_tag\",\"tag\":\"\"},{\"type\":\"route_to_agent\",\"agentId\":\"a\","
        "\"skills\":\"x\"},{\"type\":\"route_to_queue\",\"queueId\":\"q\",\"estimatedWait\":"
        "\"5\"},\"str\"]}]",
        OMNI_ECONFIG);
    const char *msg = omni_error_last_message();
    cr_assert(strstr(msg, "rules: 30 errors; rule \"vip\" at [0].conditions[1].operator: "
                          "unknown operator \"eq\"") == msg, "%s", msg);
    cJSON *j = cJSON_Parse(d);
    cr_assert_not_null(j);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    cr_assert_eq(cJSON_GetArraySize(errs), 30, "%s", d);
    static const char *const want[][3] = {
        {"vip", "[0].conditions[1].operator", "unknown operator \"eq\""},
        {"vip", "[0].actions[0].type", "unknown action type \"nope\""},
        {"vip", "[1].colour", "unknown member \"colour\""},
        {"vip", "[1].conditions[0].field", "empty path segment"},
        {"vip", "[1].conditions[0].value", "bad regular expression: "},
        {"vip", "[1].actions[0]", "missing queueId"},
        {NULL, "[2]", "missing id"},
        {"types", "[3].priority", "priority must be an integer"},
        {"types", "[3].enabled", "enabled must be a boolean, not a string"},
        {"types", "[3].conditions[0].value", "value must be an array of 1 to 10000 scalars"},
        {"types", "[3].conditions[1].value", "value must be a string, not a number"},
        {"types", "[3].conditions[2].value", "value must be a scalar, not an array"},
        {"types", "[3].conditions[3].value", "value must be [low, high]"},
        {"types", "[3].conditions[4].value", "value must be a boolean, not a number"},
        {"types", "[3].conditions[5]", "missing value"},
        {"types", "[3].conditions[6].value", "bad regular expression: "},
        {"types", "[3].conditions[7].value[1]", "must be a scalar, not an object"},
        {"types", "[3].conditions[8].field", "field must be a string, not a number"},
        {"types", "[3].conditions[9].ignoreCase", "ignoreCase must be a boolean"},
        {"types", "[3].conditions[10]", "a group has exactly one of all, any, not"},
        {"types", "[3].conditions[11].bogus", "unknown member \"bogus\""},
        {"types", "[3].conditions[11]", "missing field"},
        {"types", "[3].conditions[11]", "missing operator"},
        {"types", "[3].conditions[12]", "a condition must be an object, not a number"},
        {"types", "[3].actions[0].priority", "priority must be \"low\""},
        {"types", "[3].actions[1].tag", "tag must be a string of 1 to 256 bytes"},
        {"types", "[3].actions[2].skills", "skills must be an array of strings"},
        {"types", "[3].actions[3].estimatedWait", "estimatedWait must be a number"},
        {"types", "[3].actions[4]", "an action must be an object, not a string"},
        {"vip", "[1]", "duplicate rule id \"vip\" (first at [0])"},
    };
    size_t i = 0;
    for (const cJSON *e = errs->child; e; e = e->next, i++) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "ruleId");
        const char *path = cJSON_GetObjectItemCaseSensitive(e, "path")->valuestring;
        const char *m = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
        if (want[i][0])
            cr_assert_str_eq(id->valuestring, want[i][0], "error %zu: %s", i, d);
        else
            cr_assert(cJSON_IsNull(id), "error %zu", i);
        cr_assert_str_eq(path, want[i][1], "error %zu: %s", i, m);
        cr_assert(strncmp(m, want[i][2], strlen(want[i][2])) == 0, "error %zu: %s", i, m);
    }
    /* the regex message is included */
    cr_assert(strstr(d, "lookaround"), "%s", d);
    cJSON_Delete(j);
}

Test(rules, compile_limits)
{
    char *big = malloc(1 << 20);
    cr_assert_not_null(big);
    /* nesting deeper than 16 groups */
    size_t n = (size_t)sprintf(big, "[{\"id\":\"deep\",\"conditions\":");
    for (int i = 0; i < 17; i++)
        n += (size_t)sprintf(big + n, "{\"all\":[");
    n += (size_t)sprintf(big + n, "{\"field\":\"a\",\"operator\":\"exists\"}");
    for (int i = 0; i < 17; i++)
        n += (size_t)sprintf(big + n, "]}");
    sprintf(big + n, ",\"actions\":[]}]");
    const char *d = compile_fail(big, OMNI_ECONFIG);
    cr_assert(strstr(d, "groups nested more than 16 deep"), "%s", d);
    /* 16 is fine */
    n = (size_t)sprintf(big, "[{\"id\":\"deep\",\"conditions\":");
    for (int i = 0; i < 16; i++)
        n += (size_t)sprintf(big + n, "{\"not\":");
    n += (size_t)sprintf(big + n, "{\"field\":\"a\",\"operator\":\"exists\"}");
    for (int i = 0; i < 16; i++)
        n += (size_t)sprintf(big + n, "}");
    sprintf(big + n, ",\"actions\":[]}]");
    omni_rules *r = compile(big);
    cr_assert_str_eq(matched(r, "{\"a\":1}"), "deep"); /* 16 nots: an even number */
    cr_assert_str_eq(matched(r, "{}"), "");
    omni_rules_free(r);
    /* too many conditions */
    n = (size_t)sprintf(big, "[{\"id\":\"many\",\"conditions\":[");
    for (int i = 0; i < 256; i++)
        n += (size_t)sprintf(big + n, "%s{\"field\":\"a\",\"operator\":\"exists\"}", i ? "," : "");
    sprintf(big + n, "],\"actions\":[]}]");
    d = compile_fail(big, OMNI_ECONFIG);
    cr_assert(strstr(d, "more than 256 conditions and groups in one rule"), "%s", d);
    /* too many actions */
    n = (size_t)sprintf(big, "[{\"id\":\"acts\",\"conditions\":[],\"actions\":[");
    for (int i = 0; i < 33; i++)
        n += (size_t)sprintf(big + n, "%s{\"type\":\"block\"}", i ? "," : "");
    sprintf(big + n, "]}]");
    d = compile_fail(big, OMNI_ECONFIG);
    cr_assert(strstr(d, "more than 32 actions"), "%s", d);
    /* id length, path limits */
    char id[300];
    memset(id, 'i', 257);
    id[257] = '\0';
    sprintf(big, "[{\"id\":\"%s\",\"conditions\":[],\"actions\":[]}]", id);
    d = compile_fail(big, OMNI_ECONFIG);
    cr_assert(strstr(d, "id must be a string of 1 to 256 bytes"), "%s", d);
    id[256] = '\0';
    sprintf(big, "[{\"id\":\"%s\",\"conditions\":[],\"actions\":[]}]", id);
    r = compile(big);
    omni_rules_free(r);
    d = compile_fail("[{\"id\":\"p\",\"conditions\":[{\"field\":\"a.b.c.d.e.f.g.h.i.j.k.l.m.n."
                     "o.p.q\",\"operator\":\"exists\"}],\"actions\":[]}]",
                     OMNI_ECONFIG);
    cr_assert(strstr(d, "more than 16 segments"), "%s", d);
    memset(id, 's', 65);
    id[65] = '\0';
    sprintf(big, "[{\"id\":\"p\",\"conditions\":[{\"field\":\"%s\",\"operator\":\"exists\"}],"
                 "\"actions\":[]}]", id);
    d = compile_fail(big, OMNI_ECONFIG);
    cr_assert(strstr(d, "path segment longer than 64 bytes"), "%s", d);
    /* in: at most 10000 values */
    n = (size_t)sprintf(big, "[{\"id\":\"in\",\"conditions\":[{\"field\":\"a\",\"operator\":"
                             "\"in\",\"value\":[");
    for (int i = 0; i < 10001; i++)
        n += (size_t)sprintf(big + n, "%s%d", i ? "," : "", i);
    sprintf(big + n, "]}],\"actions\":[]}]");
    d = compile_fail(big, OMNI_ECONFIG);
    cr_assert(strstr(d, "value must be an array of 1 to 10000 scalars"), "%s", d);
    /* more than 100 errors: 100 listed, the count says all */
    n = (size_t)sprintf(big, "[");
    for (int i = 0; i < 150; i++)
        n += (size_t)sprintf(big + n, "%s{}", i ? "," : "");
    sprintf(big + n, "]");
    d = compile_fail(big, OMNI_ECONFIG);
    cJSON *j = cJSON_Parse(d);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors")), 100);
    cJSON_Delete(j);
    cr_assert(strstr(omni_error_last_message(), "rules: 450 errors (the first 100 listed)"),
              "%s", omni_error_last_message());
    /* more than OMNI_RULES_MAX_RULES rules */
    free(big);
    big = malloc(4 * (OMNI_RULES_MAX_RULES + 1) + 8);
    n = 0;
    big[n++] = '[';
    for (int i = 0; i <= OMNI_RULES_MAX_RULES; i++) {
        if (i)
            big[n++] = ',';
        big[n++] = '{';
        big[n++] = '}';
    }
    big[n++] = ']';
    big[n] = '\0';
    compile_fail(big, OMNI_ETOOLARGE);
    free(big);
}

Test(rules, compile_other_errors)
{
    omni_rules *r = (omni_rules *)1;
    cr_assert_eq(omni_rules_compile(NULL, "[]", 2, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_rules_compile(&r, NULL, 0, NULL, 0), OMNI_EINVAL);
    cr_assert_null(r);
    compile_fail("[", OMNI_EJSON);
    cr_assert(strstr(omni_error_last()->details, "\"line\":1"));
    compile_fail("", OMNI_EJSON);
    const char *d = compile_fail("5", OMNI_ECONFIG);
    cr_assert(strstr(d, "the rules must be an array"), "%s", d);
    d = compile_fail("{\"rulez\":[]}", OMNI_ECONFIG);
    cr_assert(strstr(d, "\"path\":\"rulez\",\"message\":\"unknown member \\\"rulez\\\"\""), "%s",
              d);
    cr_assert(strstr(d, "\"path\":\"rules\",\"message\":\"the rules must be an array"), "%s", d);
    d = compile_fail("{\"rules\":[{\"id\":\"x\",\"conditions\":[{\"field\":\"a\"}],"
                     "\"actions\":[]}]}", OMNI_ECONFIG);
    cr_assert(strstr(d, "\"path\":\"rules[0].conditions[0]\""), "%s", d);
    d = compile_fail("[{\"id\":\"x\",\"conditions\":5,\"actions\":[]}]", OMNI_ECONFIG);
    cr_assert(strstr(d, "conditions must be an array or a group"), "%s", d);
    d = compile_fail("[{\"id\":\"x\",\"conditions\":[],\"actions\":[],\"event\":{}}]",
                     OMNI_ECONFIG);
    /* with "event" it is a json-rules-engine rule: id and actions are unknown there */
    cr_assert(strstr(d, "\"path\":\"[0].id\",\"message\":\"unknown member \\\"id\\\"\""), "%s",
              d);
    char deep[400];
    memset(deep, '[', 100);
    deep[100] = '\0';
    cr_assert_eq(omni_rules_compile(&r, deep, 100, NULL, 0), OMNI_ETOODEEP);
    /* options */
    const char *ok = "[]";
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "{\"timeZone\":\"Mars/Olympus\"}", 27),
                 OMNI_ENOTFOUND);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "{\"timeZone\":\"../etc\"}", 21), OMNI_EINVAL);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "{\"timeZone\":5}", 14), OMNI_EINVAL);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "{\"format\":\"xml\"}", 16), OMNI_EINVAL);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "{\"colour\":1}", 12), OMNI_EINVAL);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "[]", 2), OMNI_EINVAL);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, "{", 1), OMNI_EJSON);
    cr_assert_eq(omni_rules_compile(&r, ok, 2, NULL, 3), OMNI_EINVAL);
    cr_assert_null(r);
    const char *opts = "{\"format\":\"routing\",\"timeZone\":\"UTC\"}";
    cr_assert_eq(omni_rules_compile(&r, ok, 2, opts, strlen(opts)), OMNI_OK);
    cr_assert_eq(omni_rules_count(r), 0);
    cr_assert_str_eq(matched(r, "{}"), "");
    omni_rules_free(r);
    /* format routing: an "event" rule is refused */
    r = NULL;
    const char *jre = "[{\"conditions\":{\"all\":[]},\"event\":{\"type\":\"x\"}}]";
    cr_assert_eq(omni_rules_compile(&r, jre, strlen(jre), "{\"format\":\"routing\"}", 20),
                 OMNI_ECONFIG);
    cr_assert_eq(omni_rules_count(NULL), 0);
    cr_assert_null(omni_rules_id(NULL, 0));
    omni_rules_free(NULL);
}

/* ---- evaluation errors --------------------------------------------------------------------- */

Test(rules, eval_errors)
{
    omni_rules *r = compile(seed_rules);
    char *out = (char *)1;
    size_t n = 7;
    cr_assert_eq(omni_rules_eval(NULL, &n, r, "{}", 2, 0, 0), OMNI_EINVAL);
    cr_assert_eq(omni_rules_eval(&out, &n, NULL, "{}", 2, 0, 0), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
    cr_assert_eq(omni_rules_eval(&out, &n, r, NULL, 0, 0, 0), OMNI_EINVAL);
    cr_assert_eq(omni_rules_eval(&out, &n, r, "{}", 2, 0, 2), OMNI_EINVAL);
    cr_assert_eq(omni_rules_eval(&out, &n, r, "{", 1, 0, 0), OMNI_EJSON);
    cr_assert_eq(omni_rules_eval(&out, &n, r, "[]", 2, 0, 0), OMNI_EJSON);
    cr_assert_eq(omni_rules_eval(&out, &n, r, "\"x\"", 3, 0, 0), OMNI_EJSON);
    cr_assert_eq(omni_rules_eval(&out, &n, r, "{}x", 3, 0, 0), OMNI_EJSON);
    cr_assert_eq(omni_rules_eval(&out, &n, r, "{\"a\":\"\xff\"}", 8, 0, 0), OMNI_EJSON);
    cr_assert_eq(omni_rules_eval_data(&out, &n, r, NULL, 0, 0), OMNI_EINVAL);
    cr_assert_eq(omni_rules_eval_data(&out, &n, r, (omni_data *)1, 0, 4), OMNI_EINVAL);
    size_t big = OMNI_RULES_MAX_FACTS + 1;
    char *text = malloc(big);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    cr_assert_eq(omni_rules_eval(&out, &n, r, text, big, 0, 0), OMNI_ETOOLARGE);
    uint32_t idx[4];
    size_t cnt = 9;
    cr_assert_eq(omni_rules_match(r, text, big, 0, idx, 4, &cnt), OMNI_ETOOLARGE);
    cr_assert_eq(cnt, 0);
    /* just at the limit is fine */
    cr_assert_eq(omni_rules_match(r, text, big - 1, 0, idx, 4, &cnt), OMNI_EJSON);
    text[big - 2] = '}';
    cr_assert_eq(omni_rules_match(r, text, big - 1, 0, idx, 4, &cnt), OMNI_OK);
    free(text);
    char deep[300];
    memset(deep, '[', 200);
    memcpy(deep, "{\"a\":", 5);
    cr_assert_eq(omni_rules_match(r, deep, 200, 0, idx, 4, &cnt), OMNI_ETOODEEP);
    cr_assert_eq(omni_rules_eval(&out, &n, r, deep, 200, 0, 0), OMNI_ETOODEEP);
    cr_assert_eq(omni_rules_match(NULL, "{}", 2, 0, idx, 4, &cnt), OMNI_EINVAL);
    cr_assert_eq(omni_rules_match(r, NULL, 0, 0, idx, 4, &cnt), OMNI_EINVAL);
    cr_assert_eq(omni_rules_match(r, "{}", 2, 0, NULL, 4, &cnt), OMNI_EINVAL);
    cr_assert_eq(omni_rules_match(r, "{}", 2, 0, idx, 4, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_rules_match(r, "[1]", 3, 0, idx, 4, &cnt), OMNI_EJSON);
    cr_assert_eq(omni_rules_match_data(r, NULL, 0, idx, 4, &cnt), OMNI_EINVAL);
    cr_assert_eq(omni_rules_match_data(NULL, NULL, 0, idx, 4, &cnt), OMNI_EINVAL);
    omni_data *d = NULL;
    cr_assert_eq(omni_data_parse(&d, "[1]", 3), OMNI_OK);
    cr_assert_eq(omni_rules_match_data(r, d, 0, idx, 4, &cnt), OMNI_EJSON);
    cr_assert_eq(omni_rules_eval_data(&out, &n, r, d, 0, 0), OMNI_EJSON);
    omni_data_free(d);
    omni_rules_free(r);
}

/* The one-pass text reader: invalid JSON is refused wherever it is (in a
 * value a rule reads, in a subtree no rule reads, in an array of a field),
 * the nesting limit is that of omni_data_parse, and strings a rule reads
 * are decoded (escapes) while others are only checked. */
Test(rules, text_reader_strict)
{
    const char *rules =
        "[{\"id\":\"a\",\"conditions\":[{\"field\":\"x.y\",\"operator\":\"exists\"}],"
        "\"actions\":[]},"
        "{\"id\":\"b\",\"conditions\":[{\"field\":\"arr\",\"operator\":\"contains\","
        "\"value\":\"q\"}],\"actions\":[]},"
        "{\"id\":\"c\",\"conditions\":[{\"field\":\"s\",\"operator\":\"equals\","
        "\"value\":\"A\\u00e9\\\"\"}],\"actions\":[]}]";
    omni_rules *r = compile(rules);
    static const char *const bad[] = {
        "{\"arr\":[\"q\",]}", "{\"arr\":[\"q\" \"r\"]}", "{\"x\":{\"y\":1,}}",
        "{\"z\":\"\\x\"}", "{\"z\":\"\x01\"}", "{\"s\":\"\x1f\"}", "{\"z\":\"\xc3\"}",
        "{\"z\":\"\xed\xa0\x80\"}", "{\"arr\":[tru]}", "{\"arr\":[01]}", "{\"z\":-}",
        "{\"z\":1.}", "{\"z\":1e}", "{\"x\":{\"y\":nul}}", "{\"arr\":[\"q\"]} x",
        "{\"arr\":[\"q\"]", "{\"z\":[1,{\"a\"}]}", "{\"z\":{\"a\":1 \"b\":2}}", "{\"x\" {}}",
        "{\"arr\":[\"\\u12G4\"]}", "{\"z\":\"abcdefghijklmnopqrstuvwxyz\x1f\"}",
        "{\"z\":\"abcdefghijklmnopqrs\xff\"}", "{\"s\":\"abcdefghijklmnopqrs\xc0\xaf\"}",
        "{\"z\":{\"k\":[1,2,]}}", "{\"z\":[1 2]}", "{\"z\":falsee}", "{,}", "{\"a\":1,}",
        "{\"x\":{\"y\":[1}}", "{\"x\":{\"y\":\"\\ud800\\\"}}", "{\"z\":+1}", NULL};
    uint32_t idx[4];
    size_t cnt;
    for (int i = 0; bad[i]; i++)
        cr_assert_eq(omni_rules_match(r, bad[i], strlen(bad[i]), 1, idx, 4, &cnt), OMNI_EJSON,
                     "accepted %s", bad[i]);
    /* nesting: the same verdict as omni_data_parse, read or skipped */
    static const char *const where[] = {"{\"z\":%s}", "{\"x\":{\"y\":%s}}",
                                        "{\"arr\":[\"q\",%s]}", "{\"x\":%s}"};
    for (int w = 0; w < 4; w++)
        for (int d = 60; d <= 66; d++) {
            char inner[200], doc[300];
            memset(inner, '[', (size_t)d);
            inner[d] = '1';
            memset(inner + d + 1, ']', (size_t)d);
            inner[2 * d + 1] = '\0';
            snprintf(doc, sizeof(doc), where[w], inner);
            omni_data *dd = NULL;
            int want = omni_data_parse(&dd, doc, strlen(doc));
            omni_data_free(dd);
            int st = omni_rules_match(r, doc, strlen(doc), 1, idx, 4, &cnt);
            cr_assert_eq(st, want, "depth %d at %d: %d, omni_data_parse %d", d, w, st, want);
        }
    /* escapes: decoded in read values (and keys), only checked elsewhere */
    const char *ok = "{\"z\":\"\\u0041\\n\",\"\\u0073\":\"\\u0041\\u00e9\\\"\","
                     "\"arr\":[1,\"\\u0071\",{\"q\":[]}],\"x\":{\"y\":null}}";
    cr_assert_eq(omni_rules_match(r, ok, strlen(ok), 1, idx, 4, &cnt), OMNI_OK);
    cr_assert_eq(cnt, 3);
    cr_assert_eq(idx[0], 0);
    cr_assert_eq(idx[1], 1);
    cr_assert_eq(idx[2], 2);
    omni_rules_free(r);
}

/* ---- the index against a brute-force evaluator ----------------------------------------------- */

/* A small deterministic generator (xorshift). */
static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

typedef struct bf_rule {
    int kind; /* 0 equals s, 1 in {s,s2}, 2 startsWith s, 3 exists, 4 equals num, 5 contains
                 (array) s, 6 equalsIgnoreCase s, 7 any(equals s | greaterThan num) */
    const char *field;
    char s[16], s2[16];
    int num;
    int priority;
} bf_rule;

static const char *const bf_fields[] = {"k", "m.intent", "tags", "n"};

static int bf_str(const cJSON *v, const char *s)
{
    return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

static int bf_ieq(const cJSON *v, const char *s)
{
    return cJSON_IsString(v) && strcasecmp(v->valuestring, s) == 0; /* ASCII values */
}

/* The documented semantics, on cJSON facts (positive operators hold for any
 * array element). */
static int bf_holds(const bf_rule *b, const cJSON *facts)
{
    const cJSON *v = omni__json_at(facts, b->field);
    if (b->kind == 3)
        return v != NULL;
    if (!v)
        return 0;
    const cJSON *one = v;
    const cJSON *list = cJSON_IsArray(v) ? v->child : v;
    for (one = list; one; one = cJSON_IsArray(v) ? one->next : NULL) {
        switch (b->kind) {
        case 0:
            if (bf_str(one, b->s))
                return 1;
            break;
        case 1:
            if (bf_str(one, b->s) || bf_str(one, b->s2))
                return 1;
            break;
        case 2:
            if (cJSON_IsString(one) && strncmp(one->valuestring, b->s, strlen(b->s)) == 0)
                return 1;
            break;
        case 4:
            if (cJSON_IsNumber(one) && one->valuedouble == b->num)
                return 1;
            break;
        case 5:
            if (cJSON_IsArray(v) ? bf_str(one, b->s)
                                 : (cJSON_IsString(one) && strstr(one->valuestring, b->s)))
                return 1;
            break;
        case 6:
            if (bf_ieq(one, b->s))
                return 1;
            break;
        case 7:
            if (bf_str(one, b->s) || (cJSON_IsNumber(one) && one->valuedouble > b->num))
                return 1;
            break;
        }
        if (!cJSON_IsArray(v))
            break;
    }
    return 0;
}

/* The condition of b as RoutingRule JSON into cond (256 bytes). */
static void bf_cond_json(const bf_rule *b, char *cond)
{
    switch (b->kind) {
    case 0:
    case 5:
    case 6:
        sprintf(cond, "{\"field\":\"%s\",\"operator\":\"%s\",\"value\":\"%s\"}", b->field,
                b->kind == 0 ? "equals" : b->kind == 5 ? "contains" : "equalsIgnoreCase",
                b->s);
        break;
    case 1:
        sprintf(cond, "{\"field\":\"%s\",\"operator\":\"in\",\"value\":[\"%s\",\"%s\"]}",
                b->field, b->s, b->s2);
        break;
    case 2:
        sprintf(cond, "{\"field\":\"%s\",\"operator\":\"startsWith\",\"value\":\"%s\"}",
                b->field, b->s);
        break;
    case 3:
        sprintf(cond, "{\"field\":\"%s\",\"operator\":\"exists\"}", b->field);
        break;
    case 4:
        sprintf(cond, "{\"field\":\"%s\",\"operator\":\"equals\",\"value\":%d}", b->field,
                b->num);
        break;
    default:
        sprintf(cond, "{\"any\":[{\"field\":\"%s\",\"operator\":\"equals\",\"value\":\"%s\"},"
                      "{\"field\":\"%s\",\"operator\":\"greaterThan\",\"value\":%d}]}",
                b->field, b->s, b->field, b->num);
    }
}

static void random_word(char *out, int range)
{
    static const char *const pre[] = {"ab", "Ab", "x", "bill", "q"};
    sprintf(out, "%s%u", pre[rnd(5)], rnd((uint32_t)range));
}

Test(rules, index_matches_brute_force)
{
    enum { NRULES = 10000, NFACTS = 1000 };
    bf_rule *br = calloc(NRULES, sizeof(bf_rule));
    size_t cap = (size_t)NRULES * 200 + 16;
    char *text = malloc(cap);
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < NRULES; i++) {
        bf_rule *b = &br[i];
        /* most rules: equals one distinct value (the measure) */
        b->kind = i < NRULES / 2 ? 0 : (int)rnd(8);
        b->field = bf_fields[rnd(4)];
        if (i < NRULES / 2)
            sprintf(b->s, "ab%d", i);
        else
            random_word(b->s, 300);
        random_word(b->s2, 300);
        if (b->kind == 2)
            b->s[1 + rnd(3)] = '\0';
        b->num = (int)rnd(50);
        b->priority = (int)rnd(5);
        char cond[256];
        bf_cond_json(b, cond);
        n += (size_t)snprintf(text + n, cap - n,
                              "%s{\"id\":\"r%d\",\"priority\":%d,\"conditions\":[%s],"
                              "\"actions\":[]}",
                              i ? "," : "", i, b->priority, cond);
    }
    text[n++] = ']';
    text[n] = '\0';
    omni_rules *r = compile(text);
    free(text);
    uint32_t *idx = malloc(NRULES * sizeof(uint32_t));
    uint32_t *want = malloc(NRULES * sizeof(uint32_t));
    for (int f = 0; f < NFACTS; f++) {
        char facts[1024], w1[16], w2[16], w3[16], w4[16];
        random_word(w1, 300);
        random_word(w2, 300);
        random_word(w3, 300);
        random_word(w4, 300);
        if (rnd(3) == 0)
            sprintf(w1, "ab%u", rnd(NRULES));
        if (rnd(4) == 0)
            w2[0] = (char)(w2[0] ^ 0x20); /* case variations */
        int num = (int)rnd(60);
        switch (rnd(4)) {
        case 0:
            sprintf(facts, "{\"k\":\"%s\",\"m\":{\"intent\":\"%s\"},\"tags\":[\"%s\",\"%s\"],"
                           "\"n\":%d}", w1, w2, w3, w1, num);
            break;
        case 1:
            sprintf(facts, "{\"k\":%d,\"m\":{\"intent\":[\"%s\",%d]},\"tags\":\"%s%s\"}", num,
                    w2, num, w3, w4);
            break;
        case 2:
            sprintf(facts, "{\"n\":\"%s\",\"tags\":[],\"m\":{}}", w1);
            break;
        default:
            sprintf(facts, "{\"m\":{\"intent\":\"%s\"},\"k\":[\"%s\",\"%s\"],\"n\":[%d,\"%s\"]}",
                    w1, w2, w3, num, w4);
        }
        cJSON *fj = cJSON_Parse(facts);
        cr_assert_not_null(fj, "%s", facts);
        /* brute force: every rule, then sort by (priority desc, index) */
        size_t nw = 0;
        for (int p = 4; p >= 0; p--)
            for (int i = 0; i < NRULES; i++)
                if (br[i].priority == p && bf_holds(&br[i], fj))
                    want[nw++] = (uint32_t)i;
        cJSON_Delete(fj);
        size_t cnt = 0;
        cr_assert_eq(omni_rules_match(r, facts, strlen(facts), 0, idx, NRULES, &cnt), OMNI_OK);
        cr_assert_eq(cnt, nw, "facts %s: %zu matches, brute force %zu", facts, cnt, nw);
        cr_assert(nw == 0 || memcmp(idx, want, nw * sizeof(uint32_t)) == 0, "facts %s", facts);
        omni_data *d = NULL;
        cr_assert_eq(omni_data_parse(&d, facts, strlen(facts)), OMNI_OK);
        cr_assert_eq(omni_rules_match_data(r, d, 0, idx, NRULES, &cnt), OMNI_OK);
        omni_data_free(d);
        cr_assert_eq(cnt, nw, "facts %s (data)", facts);
        cr_assert(nw == 0 || memcmp(idx, want, nw * sizeof(uint32_t)) == 0, "facts %s", facts);
    }
    free(idx);
    free(want);
    free(br);
    omni_rules_free(r);
}

/* ---- threads ------------------------------------------------------------------------------ */

/* Rules of 1-3 conditions (all), values drawn from small (shared by many
 * rules) and large domains, so the cost-based anchor choice picks among
 * common and rare keys: the same matches as a brute-force evaluator. */
Test(rules, index_multi_condition_brute_force)
{
    enum { NRULES = 3000, NFACTS = 600, MAXC = 3 };
    bf_rule *br = calloc((size_t)NRULES * MAXC, sizeof(bf_rule));
    int *nconds = calloc(NRULES, sizeof(int));
    int *prio = calloc(NRULES, sizeof(int));
    size_t cap = (size_t)NRULES * 800 + 16;
    char *text = malloc(cap);
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < NRULES; i++) {
        nconds[i] = 1 + (int)rnd(MAXC);
        prio[i] = (int)rnd(5);
        char conds[800];
        size_t cn = 0;
        for (int k = 0; k < nconds[i]; k++) {
            bf_rule *b = &br[i * MAXC + k];
            b->kind = (int)rnd(8);
            b->field = bf_fields[rnd(4)];
            int range = rnd(2) ? 3 : 300; /* common or rare values */
            random_word(b->s, range);
            random_word(b->s2, range);
            if (rnd(4) == 0)
                sprintf(b->s, "ab%d", i);
            if (b->kind == 2)
                b->s[1 + rnd(3)] = '\0';
            b->num = (int)rnd(range == 3 ? 5 : 50);
            char cond[256];
            bf_cond_json(b, cond);
            cn += (size_t)snprintf(conds + cn, sizeof(conds) - cn, "%s%s", k ? "," : "", cond);
        }
        n += (size_t)snprintf(text + n, cap - n,
                              "%s{\"id\":\"r%d\",\"priority\":%d,\"conditions\":[%s],"
                              "\"actions\":[]}",
                              i ? "," : "", i, prio[i], conds);
    }
    text[n++] = ']';
    text[n] = '\0';
    omni_rules *r = compile(text);
    free(text);
    uint32_t *idx = malloc(NRULES * sizeof(uint32_t));
    uint32_t *want = malloc(NRULES * sizeof(uint32_t));
    size_t total = 0;
    for (int f = 0; f < NFACTS; f++) {
        char facts[1024], w[4][16];
        for (int k = 0; k < 4; k++)
            random_word(w[k], rnd(2) ? 3 : 300);
        if (rnd(3) == 0)
            sprintf(w[rnd(4)], "ab%u", rnd(NRULES));
        int num = (int)rnd(rnd(2) ? 5 : 60);
        switch (rnd(3)) {
        case 0:
            sprintf(facts, "{\"k\":\"%s\",\"m\":{\"intent\":\"%s\"},\"tags\":[\"%s\",\"%s\"],"
                           "\"n\":%d}", w[0], w[1], w[2], w[3], num);
            break;
        case 1:
            sprintf(facts, "{\"k\":\"%s\",\"m\":{\"intent\":[\"%s\",%d]},\"tags\":\"%s\","
                           "\"n\":\"%s\"}", w[0], w[1], num, w[2], w[3]);
            break;
        default:
            sprintf(facts, "{\"m\":{\"intent\":\"%s\"},\"k\":[\"%s\",\"%s\"],\"n\":[%d,\"%s\"],"
                           "\"tags\":[\"%s\"]}", w[0], w[1], w[2], num, w[3], w[0]);
        }
        cJSON *fj = cJSON_Parse(facts);
        cr_assert_not_null(fj, "%s", facts);
        size_t nw = 0;
        for (int p = 4; p >= 0; p--)
            for (int i = 0; i < NRULES; i++) {
                if (prio[i] != p)
                    continue;
                int all = 1;
                for (int k = 0; k < nconds[i] && all; k++)
                    all = bf_holds(&br[i * MAXC + k], fj);
                if (all)
                    want[nw++] = (uint32_t)i;
            }
        cJSON_Delete(fj);
        total += nw;
        size_t cnt = 0;
        cr_assert_eq(omni_rules_match(r, facts, strlen(facts), 0, idx, NRULES, &cnt), OMNI_OK);
        cr_assert_eq(cnt, nw, "facts %s: %zu matches, brute force %zu", facts, cnt, nw);
        cr_assert(nw == 0 || memcmp(idx, want, nw * sizeof(uint32_t)) == 0, "facts %s", facts);
        omni_data *d = NULL;
        cr_assert_eq(omni_data_parse(&d, facts, strlen(facts)), OMNI_OK);
        cr_assert_eq(omni_rules_match_data(r, d, 0, idx, NRULES, &cnt), OMNI_OK);
        omni_data_free(d);
        cr_assert_eq(cnt, nw, "facts %s (data)", facts);
        cr_assert(nw == 0 || memcmp(idx, want, nw * sizeof(uint32_t)) == 0, "facts %s", facts);
    }
    cr_assert_gt(total, (size_t)NFACTS, "the facts match something (%zu)", total);
    free(idx);
    free(want);
    free(nconds);
    free(prio);
    free(br);
    omni_rules_free(r);
}

/* Cost-based anchors: rules whose `all` holds a value most rules share
 * (a = "common", or carrier = one of 2 values) and one of their own (b,
 * or an accountId in a list) are found through their own value: a fact
 * makes only the rules of its own values candidates, whatever the order of
 * the conditions. */
static void anchor_case(const char *rules, const char *facts, size_t max_cand, size_t want_n,
                        uint32_t want_first)
{
    omni_rules *r = compile(rules);
    size_t nc = 0;
    cr_assert_eq(omni__rr_candidate_count(r, facts, strlen(facts), &nc), OMNI_OK);
    cr_assert_leq(nc, max_cand, "%zu candidates for %s", nc, facts);
    uint32_t idx[8];
    size_t cnt = 0;
    cr_assert_eq(omni_rules_match(r, facts, strlen(facts), 0, idx, 8, &cnt), OMNI_OK);
    cr_assert_eq(cnt, want_n, "%zu matches for %s", cnt, facts);
    if (want_n)
        cr_assert_eq(idx[0], want_first);
    omni_rules_free(r);
}

Test(rules, anchor_prefers_rare_values)
{
    enum { N = 2000 };
    char *text = malloc((size_t)N * 300 + 64);
    char *text2 = malloc((size_t)N * 300 + 64);
    char *text3 = malloc((size_t)N * 300 + 64);
    size_t n = 0, n2 = 0, n3 = 0;
    text[n++] = text2[n2++] = text3[n3++] = '[';
    for (int i = 0; i < N; i++) {
        const char *sep = i ? "," : "";
        if (i % 10 != 9) {
            /* 90%: a = "common" and b = their own value */
            n += (size_t)sprintf(text + n,
                                 "%s{\"id\":\"r%d\",\"conditions\":["
                                 "{\"field\":\"a\",\"operator\":\"equals\",\"value\":\"common\"},"
                                 "{\"field\":\"b\",\"operator\":\"equals\",\"value\":\"b%d\"}],"
                                 "\"actions\":[]}",
                                 sep, i, i);
            /* the same with the rare condition first */
            n2 += (size_t)sprintf(text2 + n2,
                                  "%s{\"id\":\"r%d\",\"conditions\":{\"all\":["
                                  "{\"field\":\"b\",\"operator\":\"equals\",\"value\":\"b%d\"},"
                                  "{\"field\":\"a\",\"operator\":\"equals\","
                                  "\"value\":\"common\"}]},\"actions\":[]}",
                                  sep, i, i);
            /* carrier (2 values) + accountId in 3 own values + region (2) */
            n3 += (size_t)sprintf(text3 + n3,
                                  "%s{\"id\":\"r%d\",\"conditions\":["
                                  "{\"field\":\"m.carrier\",\"operator\":\"equals\","
                                  "\"value\":\"%s\"},"
                                  "{\"field\":\"acct\",\"operator\":\"in\","
                                  "\"value\":[\"x%d\",\"y%d\",\"z%d\"]},"
                                  "{\"field\":\"region\",\"operator\":\"equals\","
                                  "\"value\":\"%s\"}],\"actions\":[]}",
                                  sep, i, i % 2 ? "twilio" : "sinch", i, i, i,
                                  i % 4 < 2 ? "eu" : "us");
        } else {
            /* 10%: only a = "common" (they must use that bucket) */
            n += (size_t)sprintf(text + n,
                                 "%s{\"id\":\"r%d\",\"conditions\":["
                                 "{\"field\":\"a\",\"operator\":\"equals\",\"value\":\"k%d\"}],"
                                 "\"actions\":[]}",
                                 sep, i, i % 7);
            n2 += (size_t)sprintf(text2 + n2,
                                  "%s{\"id\":\"r%d\",\"conditions\":["
                                  "{\"field\":\"a\",\"operator\":\"equals\",\"value\":\"common\"}],"
                                  "\"actions\":[]}",
                                  sep, i);
            n3 += (size_t)sprintf(text3 + n3,
                                  "%s{\"id\":\"r%d\",\"conditions\":["
                                  "{\"field\":\"m.carrier\",\"operator\":\"equals\","
                                  "\"value\":\"twilio\"},"
                                  "{\"field\":\"region\",\"operator\":\"startsWith\","
                                  "\"value\":\"e\"}],\"actions\":[]}",
                                  sep, i);
        }
    }
    strcpy(text + n, "]");
    strcpy(text2 + n2, "]");
    strcpy(text3 + n3, "]");
    /* before cost-based anchors: 1,800 candidates (every rule with a) */
    anchor_case(text, "{\"a\":\"common\",\"b\":\"b42\"}", 1, 1, 42);
    /* r43 (b) and the 28 rules i % 10 == 9, i % 7 == 3 (59, 129, ...) of a = k3 */
    anchor_case(text, "{\"a\":\"k3\",\"b\":\"b43\"}", 29, 28, 59);
    /* the common-only rules are 200 candidates of every fact with a = common */
    anchor_case(text2, "{\"a\":\"common\",\"b\":\"b1234\"}", N / 10 + 1, N / 10 + 1, 9);
    anchor_case(text2, "{\"b\":\"b1234\"}", 1, 0, 0);
    /* the accountId list wins over carrier (2 values) and region (2) */
    anchor_case(text3, "{\"m\":{\"carrier\":\"twilio\"},\"acct\":\"y1001\",\"region\":\"eu\"}",
                1 + N / 10, 1 + N / 10, 9);
    /* (the 200 rules of carrier and region prefix "e" anchor on the prefix) */
    anchor_case(text3, "{\"m\":{\"carrier\":\"sinch\"},\"acct\":\"z1002\",\"region\":\"zz\"}",
                1, 0, 0);
    anchor_case(text3, "{\"m\":{\"carrier\":\"sinch\"},\"acct\":\"z1004\",\"region\":\"eu\"}",
                1 + N / 10, 1, 1004);
    free(text);
    free(text2);
    free(text3);
}

typedef struct thread_arg {
    const omni_rules *r;
    int ok;
} thread_arg;

static const char *const thread_facts[] = {
    "{\"identity\":{\"profile\":{\"tags\":[\"vip\"]}},"
    "\"contentAnalysis\":{\"intent\":\"billing\"}}",
    "{\"contentAnalysis\":{\"intent\":\"billing_x\"}}",
    "{\"identity\":{\"profile\":{\"tags\":\"vip\"}}}",
    "{}",
};

static void *thread_main(void *p)
{
    thread_arg *a = p;
    a->ok = 1;
    char *first[4] = {0};
    for (int iter = 0; iter < 500; iter++) {
        for (int k = 0; k < 4; k++) {
            char *out;
            size_t n;
            if (omni_rules_eval(&out, &n, a->r, thread_facts[k], strlen(thread_facts[k]), 0,
                                OMNI_RULES_EXPLAIN) != OMNI_OK) {
                a->ok = 0;
                continue;
            }
            if (!first[k])
                first[k] = out;
            else {
                if (strcmp(first[k], out) != 0)
                    a->ok = 0;
                omni_free(out);
            }
        }
    }
    for (int k = 0; k < 4; k++)
        omni_free(first[k]);
    return NULL;
}

Test(rules, threads_agree)
{
    omni_rules *r = compile(seed_rules);
    char *expect[4];
    for (int k = 0; k < 4; k++) {
        size_t n;
        cr_assert_eq(omni_rules_eval(&expect[k], &n, r, thread_facts[k],
                                     strlen(thread_facts[k]), 0, OMNI_RULES_EXPLAIN),
                     OMNI_OK);
    }
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].r = r;
        cr_assert_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert(args[i].ok, "thread %d saw different results", i);
    }
    /* and the same as the main thread's */
    for (int k = 0; k < 4; k++) {
        char *out;
        size_t n;
        cr_assert_eq(omni_rules_eval(&out, &n, r, thread_facts[k], strlen(thread_facts[k]), 0,
                                     OMNI_RULES_EXPLAIN),
                     OMNI_OK);
        cr_assert_str_eq(out, expect[k]);
        omni_free(out);
        omni_free(expect[k]);
    }
    omni_rules_free(r);
}

/* Evaluating two rule sets alternately on one thread (shared scratch). */
Test(rules, scratch_shared_between_rule_sets)
{
    omni_rules *a = compile(seed_rules);
    omni_rules *b = compile("[{\"id\":\"x\",\"conditions\":[{\"field\":\"a.b.c\",\"operator\":"
                            "\"equals\",\"value\":1}],\"actions\":[]}]");
    for (int i = 0; i < 50; i++) {
        cr_assert_str_eq(matched(a, "{\"contentAnalysis\":{\"intent\":\"billing\"}}"),
                         "billing-intent-rule");
        cr_assert_str_eq(matched(b, "{\"a\":{\"b\":{\"c\":1}}}"), "x");
        cr_assert_str_eq(matched(b, "{\"a\":{\"b\":{\"c\":2}}}"), "");
    }
    omni_rules_free(a);
    omni_rules_free(b);
}

/* ---- the substring automaton against a brute-force evaluator ---------------------------- */

/* Characters of needles and texts: few, so needles overlap, nest and
 * repeat; ASCII letters in both cases, 2-byte UTF-8 letters with their
 * case pairs (é/É, ж/Ж, σ/Σ), a 3-byte one (€) and a space. */
static const char *const sub_chars[] = {"a", "b", "A", "B", " ", "\xc3\xa9", "\xc3\x89",
                                        "\xd0\xb6", "\xd0\x96", "\xcf\x83", "\xce\xa3",
                                        "\xe2\x82\xac"};
#define SUB_NCHARS (sizeof(sub_chars) / sizeof(sub_chars[0]))

static void sub_random(char *out, size_t cap, int maxchars)
{
    int n = (int)rnd((uint32_t)maxchars) + 1;
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *c = sub_chars[rnd(SUB_NCHARS)];
        if (len + strlen(c) + 1 > cap)
            break;
        strcpy(out + len, c);
        len += strlen(c);
    }
}

/* The text as a JSON string body: some characters escaped (\u00e9, \u0416). */
static size_t sub_json(char *out, const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (p[0] == 0xc3 && p[1] == 0xa9 && rnd(2)) {
            n += (size_t)sprintf(out + n, "\\u00e9");
            p += 2;
        } else if (p[0] == 0xd0 && p[1] == 0x96 && rnd(2)) {
            n += (size_t)sprintf(out + n, "\\u0416");
            p += 2;
        } else if (p[0] == 'a' && rnd(4) == 0) {
            n += (size_t)sprintf(out + n, "\\u0061");
            p++;
        } else {
            out[n++] = (char)*p++;
        }
    }
    out[n] = '\0';
    return n;
}

typedef struct sub_rule {
    char needle[64];
    int ic;
    int field; /* 0 "t", 1 "m.u" */
    int priority;
} sub_rule;

/* contains as documented: string fact: substring (folded with ignoreCase);
 * array fact: an element equals the needle. */
static int sub_holds(const sub_rule *b, const cJSON *facts)
{
    const cJSON *v = omni__json_at(facts, b->field ? "m.u" : "t");
    char fn[64], ft[512];
    size_t nl = strlen(b->needle);
    size_t fnl = b->ic ? omni__rr_fold(fn, b->needle, nl) : nl;
    if (!b->ic)
        memcpy(fn, b->needle, nl);
    if (cJSON_IsString(v)) {
        size_t tl = strlen(v->valuestring);
        cr_assert_lt(tl, sizeof(ft));
        size_t ftl = b->ic ? omni__rr_fold(ft, v->valuestring, tl) : tl;
        if (!b->ic)
            memcpy(ft, v->valuestring, tl);
        return fnl <= ftl && memmem(ft, ftl, fn, fnl) != NULL;
    }
    if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!cJSON_IsString(e))
                continue;
            size_t tl = strlen(e->valuestring);
            size_t ftl = b->ic ? omni__rr_fold(ft, e->valuestring, tl) : tl;
            if (!b->ic)
                memcpy(ft, e->valuestring, tl);
            if (ftl == fnl && memcmp(ft, fn, fnl) == 0)
                return 1;
        }
    }
    return 0;
}

Test(rules, substring_index_brute_force)
{
    enum { NRULES = 4000, NFACTS = 500 };
    sub_rule *br = calloc(NRULES, sizeof(sub_rule));
    size_t cap = (size_t)NRULES * 200 + 16;
    char *text = malloc(cap);
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < NRULES; i++) {
        sub_rule *b = &br[i];
        b->ic = rnd(2);
        b->field = rnd(4) == 0;
        b->priority = (int)rnd(5);
        uint32_t how = rnd(10);
        if (i > 0 && how < 3) {
            /* a prefix or suffix of an earlier needle (whole characters) */
            const char *src = br[rnd((uint32_t)i)].needle;
            size_t sl = strlen(src), cut = rnd((uint32_t)sl + 1);
            while (cut < sl && ((unsigned char)src[cut] & 0xC0) == 0x80)
                cut++;
            if (how == 0) {
                memcpy(b->needle, src, cut);
                b->needle[cut] = '\0';
            } else {
                strcpy(b->needle, src + cut);
            }
        } else if (how == 3) {
            sub_random(b->needle, sizeof(b->needle), 12); /* long: rarely found */
        } else {
            sub_random(b->needle, sizeof(b->needle), 3);
        }
        n += (size_t)snprintf(text + n, cap - n,
                              "%s{\"id\":\"r%d\",\"priority\":%d,\"conditions\":[{\"field\":\"%s\","
                              "\"operator\":\"contains\",\"value\":\"%s\"%s}],\"actions\":[]}",
                              i ? "," : "", i, b->priority, b->field ? "m.u" : "t", b->needle,
                              b->ic ? ",\"ignoreCase\":true" : "");
    }
    text[n++] = ']';
    text[n] = '\0';
    omni_rules *r = compile(text);
    free(text);
    cr_assert_geq(r->nacms, 2, "the fields have automata");
    uint32_t *idx = malloc(NRULES * sizeof(uint32_t));
    uint32_t *want = malloc(NRULES * sizeof(uint32_t));
    size_t total = 0;
    for (int f = 0; f < NFACTS; f++) {
        char t1[256], t2[256], j1[1600], j2[1600], facts[5120];
        sub_random(t1, 200, 40);
        sub_random(t2, 200, 8);
        if (rnd(3) == 0) { /* a needle in the middle of the text */
            const char *nd = br[rnd(NRULES)].needle;
            if (strlen(t1) + strlen(nd) < sizeof(t1) - 1)
                strcat(t1, nd);
            sub_random(t1 + strlen(t1), sizeof(t1) - strlen(t1), 4);
        }
        if (rnd(5) == 0)
            t1[0] = '\0'; /* the empty string */
        sub_json(j1, t1);
        sub_json(j2, t2);
        switch (rnd(4)) {
        case 0:
            snprintf(facts, sizeof(facts), "{\"t\":\"%s\",\"m\":{\"u\":\"%s\"}}", j1, j2);
            break;
        case 1: /* arrays: element equality, no substring */
            snprintf(facts, sizeof(facts), "{\"t\":[\"%s\",\"%s\"],\"m\":{\"u\":\"%s\"}}", j2,
                     br[rnd(NRULES)].needle, j1);
            break;
        case 2: /* a repeated key: the last one counts */
            snprintf(facts, sizeof(facts), "{\"t\":\"%s\",\"m\":{\"u\":5},\"t\":\"%s\"}", j2, j1);
            break;
        default:
            snprintf(facts, sizeof(facts), "{\"m\":{\"u\":\"%s%s\"},\"t\":\"%s\"}", j1, j2, j2);
        }
        /* cJSON keeps the first of repeated keys, the engine the last */
        char ref[5120];
        snprintf(ref, sizeof(ref), "{\"t\":\"%s\",\"m\":{\"u\":5}}", j1);
        cJSON *fj = cJSON_Parse(strstr(facts, "5},\"t\"") ? ref : facts);
        cr_assert_not_null(fj, "%s", facts);
        size_t nw = 0;
        for (int p = 4; p >= 0; p--)
            for (int i = 0; i < NRULES; i++)
                if (br[i].priority == p && sub_holds(&br[i], fj))
                    want[nw++] = (uint32_t)i;
        cJSON_Delete(fj);
        total += nw;
        size_t cnt = 0;
        cr_assert_eq(omni_rules_match(r, facts, strlen(facts), 0, idx, NRULES, &cnt), OMNI_OK);
        cr_assert_eq(cnt, nw, "facts %s: %zu matches, brute force %zu", facts, cnt, nw);
        cr_assert(nw == 0 || memcmp(idx, want, nw * sizeof(uint32_t)) == 0, "facts %s", facts);
        omni_data *d = NULL;
        cr_assert_eq(omni_data_parse(&d, facts, strlen(facts)), OMNI_OK);
        cr_assert_eq(omni_rules_match_data(r, d, 0, idx, NRULES, &cnt), OMNI_OK);
        omni_data_free(d);
        cr_assert_eq(cnt, nw, "facts %s (data)", facts);
        cr_assert(nw == 0 || memcmp(idx, want, nw * sizeof(uint32_t)) == 0, "facts %s", facts);
        /* the index never yields fewer candidates than matches */
        size_t nc = 0;
        cr_assert_eq(omni__rr_candidate_count(r, facts, strlen(facts), &nc), OMNI_OK);
        cr_assert_geq(nc, nw);
    }
    cr_assert_gt(total, (size_t)NFACTS * 10, "the facts match many rules (%zu)", total);
    free(idx);
    free(want);
    free(br);
    omni_rules_free(r);
}

/* Candidates of substring rules are exactly the rules whose needle occurs
 * (once each, however often it occurs), whatever the number of rules. */
Test(rules, substring_candidates_only_present_needles)
{
    enum { NRULES = 2000 };
    size_t cap = (size_t)NRULES * 160 + 16;
    char *text = malloc(cap);
    size_t n = 0;
    text[n++] = '[';
    for (int i = 0; i < NRULES; i++)
        n += (size_t)snprintf(text + n, cap - n,
                              "%s{\"id\":\"r%d\",\"conditions\":[{\"field\":\"message.content\","
                              "\"operator\":\"contains\",\"value\":\"%s%d%s\"%s}],"
                              "\"actions\":[]}",
                              i ? "," : "", i, i % 2 ? "[K" : "<", i, i % 2 ? "]" : ">",
                              i % 2 ? ",\"ignoreCase\":true" : "");
    text[n++] = ']';
    text[n] = '\0';
    omni_rules *r = compile(text);
    free(text);
    static const struct {
        const char *facts;
        size_t cand;
    } cases[] = {
        {"{\"message\":{\"content\":\"nothing here: <17 17> [k 5]\"}}", 0},
        {"{\"message\":{\"content\":\"<18>\"}}", 1},
        {"{\"message\":{\"content\":\"<17>\"}}", 0}, /* 17: \"[K17]\" */
        {"{\"message\":{\"content\":\"x<18><18><18>y<1000> <1999> <1998>\"}}", 3},
        {"{\"message\":{\"content\":\"[k5] [K5] and <4>[K1999]\"}}", 3},
        {"{\"message\":{\"content\":\"<4 [k7 <1>\"}}", 0},
        {"{\"message\":{\"content\":\"\"}}", 0},
        {"{\"message\":{\"content\":[\"<4>\",\"<6>\"]}}", 2}, /* elements equal */
        {"{\"message\":{\"content\":5}}", 0},
        {"{}", 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t nc = 99;
        const char *f = cases[k].facts;
        cr_assert_eq(omni__rr_candidate_count(r, f, strlen(f), &nc), OMNI_OK);
        cr_assert_eq(nc, cases[k].cand, "%zu candidates for %s", nc, f);
        uint32_t idx[8];
        size_t cnt = 0;
        cr_assert_eq(omni_rules_match(r, f, strlen(f), 0, idx, 8, &cnt), OMNI_OK);
        cr_assert_eq(cnt, cases[k].cand, "%zu matches for %s", cnt, f);
    }
    omni_rules_free(r);
}

/* Edge cases: the empty needle (every string contains it), a needle equal
 * to the whole text, needles that are suffixes of one another reported
 * through the suffix chain, bytes outside every needle, and several rule
 * sets sharing one thread's scratch (entry stamps sized per set). */
Test(rules, substring_edge_cases)
{
    omni_rules *r = compile(
        "[{\"id\":\"empty\",\"priority\":9,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"\"}],\"actions\":[]},"
        "{\"id\":\"emptyI\",\"priority\":8,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"\",\"ignoreCase\":true}],\"actions\":[]},"
        "{\"id\":\"abcd\",\"priority\":7,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"abcd\"}],\"actions\":[]},"
        "{\"id\":\"bcd\",\"priority\":6,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"bcd\"}],\"actions\":[]},"
        "{\"id\":\"cd\",\"priority\":5,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"cd\"}],\"actions\":[]},"
        "{\"id\":\"d\",\"priority\":4,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"d\"}],\"actions\":[]},"
        "{\"id\":\"bc\",\"priority\":3,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"bc\"}],\"actions\":[]},"
        "{\"id\":\"SIGMA\",\"priority\":2,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"\xce\xa3\xce\xa3\",\"ignoreCase\":true}],"
        "\"actions\":[]},"
        "{\"id\":\"both\",\"priority\":1,\"conditions\":[{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"bc\"},{\"field\":\"f\","
        "\"operator\":\"contains\",\"value\":\"CD\",\"ignoreCase\":true}],\"actions\":[]}]");
    cr_assert_str_eq(matched(r, "{\"f\":\"\"}"), "empty,emptyI");
    cr_assert_str_eq(matched(r, "{\"f\":\"abcd\"}"), "empty,emptyI,abcd,bcd,cd,d,bc,both");
    cr_assert_str_eq(matched(r, "{\"f\":\"xxbcdxx\"}"), "empty,emptyI,bcd,cd,d,bc,both");
    cr_assert_str_eq(matched(r, "{\"f\":\"ddddd\"}"), "empty,emptyI,d");
    cr_assert_str_eq(matched(r, "{\"f\":\"zzbcCDzz\"}"), "empty,emptyI,bc,both");
    cr_assert_str_eq(matched(r, "{\"f\":\"\xcf\x83\xce\xa3!\"}"), "empty,emptyI,SIGMA");
    cr_assert_str_eq(matched(r, "{\"f\":\"\\u03c3\\u03c3\"}"), "empty,emptyI,SIGMA");
    cr_assert_str_eq(matched(r, "{\"f\":\"\xe2\x82\xac\\t abc\"}"), "empty,emptyI,bc");
    cr_assert_str_eq(matched(r, "{\"f\":[\"bc\",\"x\"]}"), "bc");
    cr_assert_str_eq(matched(r, "{\"f\":7}"), "");
    /* a smaller rule set on the same thread, then this one again */
    omni_rules *r2 = compile("[{\"id\":\"x\",\"conditions\":[{\"field\":\"f\","
                             "\"operator\":\"contains\",\"value\":\"d\"}],\"actions\":[]}]");
    cr_assert_str_eq(matched(r2, "{\"f\":\"abcd\"}"), "x");
    cr_assert_str_eq(matched(r, "{\"f\":\"abcd\"}"), "empty,emptyI,abcd,bcd,cd,d,bc,both");
    omni_rules_free(r2);
    omni_rules_free(r);
}
