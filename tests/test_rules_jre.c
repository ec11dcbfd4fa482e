/* The rule engine with json-rules-engine's rule format (include/omni/rules.h):
 * the examples of json-rules-engine's README (the basic "fouled out" rule,
 * the advanced "microsoft christmas pto" rule with JSONPath), its operator
 * semantics (strict equality, contains on arrays only, numeric comparisons),
 * priorities, ids, JSONPath forms, events as actions, refused constructs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>
#include <omni/rules.h>

static omni_rules *compile_opts(const char *rules, const char *opts)
{
    omni_rules *r = NULL;
    int st = omni_rules_compile(&r, rules, strlen(rules), opts, opts ? strlen(opts) : 0);
    cr_assert_eq(st, OMNI_OK, "compile: %s (%s)", omni_error_last_message(),
                 omni_error_last()->details ? omni_error_last()->details : "");
    return r;
}

static omni_rules *compile(const char *rules)
{
    return compile_opts(rules, NULL);
}

static char details_copy[16384];
static const char *compile_fail(const char *rules)
{
    omni_rules *r = NULL;
    int st = omni_rules_compile(&r, rules, strlen(rules), NULL, 0);
    cr_assert_eq(st, OMNI_ECONFIG, "status %d: %s", st, omni_error_last_message());
    cr_assert_null(r);
    snprintf(details_copy, sizeof(details_copy), "%s", omni_error_last()->details);
    return details_copy;
}

static char out_copy[16384];
static const char *eval(const omni_rules *r, const char *facts, unsigned flags)
{
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_rules_eval(&out, &n, r, facts, strlen(facts), 0, flags), OMNI_OK, "%s",
                 omni_error_last_message());
    snprintf(out_copy, sizeof(out_copy), "%s", out);
    omni_free(out);
    /* the text matcher agrees */
    uint32_t idx[64];
    size_t cnt;
    cr_assert_eq(omni_rules_match(r, facts, strlen(facts), 0, idx, 64, &cnt), OMNI_OK);
    char ids[2048];
    size_t il = 0;
    ids[0] = '\0';
    for (size_t i = 0; i < cnt; i++)
        il += (size_t)snprintf(ids + il, sizeof(ids) - il, "%s\"%s\"", i ? "," : "",
                               omni_rules_id(r, idx[i]));
    char want[2100];
    snprintf(want, sizeof(want), "{\"matched\":[%s]", ids);
    cr_assert(strncmp(out_copy, want, strlen(want)) == 0, "%s vs %s", out_copy, want);
    return out_copy;
}

static int fires(const omni_rules *r, const char *facts)
{
    uint32_t idx[8];
    size_t cnt = 0;
    cr_assert_eq(omni_rules_match(r, facts, strlen(facts), 0, idx, 8, &cnt), OMNI_OK, "%s",
                 omni_error_last_message());
    return cnt > 0;
}

/* One rule with one condition. */
static int holds(const char *cond, const char *facts)
{
    char rules[2048];
    snprintf(rules, sizeof(rules),
             "[{\"conditions\":{\"all\":[%s]},\"event\":{\"type\":\"t\"}}]", cond);
    omni_rules *r = compile(rules);
    int f = fires(r, facts);
    omni_rules_free(r);
    return f;
}

#define HOLDS(c, f) cr_assert(holds(c, f), "%s should hold on %s", c, f)
#define FAILS(c, f) cr_assert(!holds(c, f), "%s should not hold on %s", c, f)

/* json-rules-engine README, "Basic Example": foul out any player who has
 * committed 5 fouls in a 40 minute game or 6 in a 48 minute game. */
static const char *basic_rule =
    "[{\"conditions\":{\"any\":[{\"all\":[{\"fact\":\"gameDuration\",\"operator\":\"equal\","
    "\"value\":40},{\"fact\":\"personalFoulCount\",\"operator\":\"greaterThanInclusive\","
    "\"value\":5}]},{\"all\":[{\"fact\":\"gameDuration\",\"operator\":\"equal\",\"value\":48},"
    "{\"fact\":\"personalFoulCount\",\"operator\":\"greaterThanInclusive\",\"value\":6}]}]},"
    "\"event\":{\"type\":\"fouledOut\",\"params\":{\"message\":\"Player has fouled out!\"}}}]";

Test(rules_jre, readme_basic_fouled_out)
{
    omni_rules *r = compile(basic_rule);
    cr_assert_str_eq(omni_rules_id(r, 0), "#0");
    /* the README's facts: 6 fouls, 40 minutes -> "Player has fouled out!" */
    const char *out = eval(r, "{\"personalFoulCount\":6,\"gameDuration\":40}", 0);
    cr_assert_str_eq(
        out, "{\"matched\":[\"#0\"],\"actions\":[{\"ruleId\":\"#0\",\"type\":\"event\","
             "\"event\":{\"type\":\"fouledOut\",\"params\":{\"message\":\"Player has fouled "
             "out!\"}}}],\"destination\":{\"type\":\"queue\",\"id\":\"default\",\"name\":"
             "\"Default Queue\",\"metadata\":{}},\"tags\":[],\"priority\":null,\"block\":false,"
             "\"escalate\":false,\"autoRespond\":null,\"stoppedBy\":null}");
    cr_assert(fires(r, "{\"personalFoulCount\":5,\"gameDuration\":40}"));
    cr_assert(fires(r, "{\"personalFoulCount\":6,\"gameDuration\":48}"));
    cr_assert(!fires(r, "{\"personalFoulCount\":5,\"gameDuration\":48}"));
    cr_assert(!fires(r, "{\"personalFoulCount\":4,\"gameDuration\":40}"));
    cr_assert(!fires(r, "{\"personalFoulCount\":\"6\",\"gameDuration\":40}"));
    cr_assert(!fires(r, "{\"gameDuration\":40}")); /* undefined facts are allowed */
    omni_rules_free(r);
}

/* json-rules-engine README, "Advanced Example": a fact object read through
 * JSONPath ($.company, $.status, $.ptoDaysTaken) with equal, in, contains. */
Test(rules_jre, readme_advanced_microsoft_pto)
{
    omni_rules *r = compile(
        "[{\"conditions\":{\"all\":[{\"fact\":\"account-information\",\"operator\":\"equal\","
        "\"value\":\"microsoft\",\"path\":\"$.company\"},{\"fact\":\"account-information\","
        "\"operator\":\"in\",\"value\":[\"active\",\"paid-leave\"],\"path\":\"$.status\"},"
        "{\"fact\":\"account-information\",\"operator\":\"contains\",\"value\":\"2016-12-25\","
        "\"path\":\"$.ptoDaysTaken\"}]},\"event\":{\"type\":\"microsoft-christmas-pto\","
        "\"params\":{\"message\":\"current microsoft employee taking christmas day off\"}}}]");
    /* the README's account "lincoln" */
    const char *out = eval(r,
                           "{\"accountId\":\"lincoln\",\"account-information\":{\"company\":"
                           "\"microsoft\",\"status\":\"active\",\"ptoDaysTaken\":[\"2016-12-25\","
                           "\"2016-04-01\"]}}",
                           OMNI_RULES_EXPLAIN);
    cr_assert(strstr(out, "\"event\":{\"type\":\"microsoft-christmas-pto\",\"params\":{"
                          "\"message\":\"current microsoft employee taking christmas day off\"}}"),
              "%s", out);
    cr_assert(strstr(out, "{\"path\":\"[0].conditions.all[1]\",\"field\":\"account-information\","
                          "\"jsonPath\":\"$.status\",\"operator\":\"in\",\"value\":[\"active\","
                          "\"paid-leave\"],\"actual\":\"active\",\"result\":true}"),
              "%s", out);
    cr_assert(!fires(r, "{\"account-information\":{\"company\":\"apple\",\"status\":\"active\","
                        "\"ptoDaysTaken\":[\"2016-12-25\"]}}"));
    cr_assert(!fires(r, "{\"account-information\":{\"company\":\"microsoft\",\"status\":"
                        "\"terminated\",\"ptoDaysTaken\":[\"2016-12-25\"]}}"));
    cr_assert(!fires(r, "{\"account-information\":{\"company\":\"microsoft\",\"status\":"
                        "\"active\",\"ptoDaysTaken\":\"2016-12-25\"}}"));
    omni_rules_free(r);
}

Test(rules_jre, operator_semantics)
{
    /* equal / notEqual: strict; an array never equals a scalar */
    HOLDS("{\"fact\":\"f\",\"operator\":\"equal\",\"value\":\"a\"}", "{\"f\":\"a\"}");
    FAILS("{\"fact\":\"f\",\"operator\":\"equal\",\"value\":\"a\"}", "{\"f\":[\"a\"]}");
    FAILS("{\"fact\":\"f\",\"operator\":\"equal\",\"value\":1}", "{\"f\":\"1\"}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"equal\",\"value\":1}", "{\"f\":1.0}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"equal\",\"value\":null}", "{\"f\":null}");
    FAILS("{\"fact\":\"f\",\"operator\":\"equal\",\"value\":null}", "{}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"notEqual\",\"value\":\"a\"}", "{\"f\":[\"a\"]}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"notEqual\",\"value\":\"a\"}", "{}");
    FAILS("{\"fact\":\"f\",\"operator\":\"notEqual\",\"value\":\"a\"}", "{\"f\":\"a\"}");
    /* in / notIn: the fact in the value array */
    HOLDS("{\"fact\":\"f\",\"operator\":\"in\",\"value\":[1,2]}", "{\"f\":2}");
    FAILS("{\"fact\":\"f\",\"operator\":\"in\",\"value\":[1,2]}", "{\"f\":[2]}");
    FAILS("{\"fact\":\"f\",\"operator\":\"in\",\"value\":[1,2]}", "{}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"notIn\",\"value\":[1,2]}", "{}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"notIn\",\"value\":[1,2]}", "{\"f\":3}");
    FAILS("{\"fact\":\"f\",\"operator\":\"notIn\",\"value\":[1,2]}", "{\"f\":1}");
    /* contains / doesNotContain: array facts only */
    HOLDS("{\"fact\":\"f\",\"operator\":\"contains\",\"value\":\"b\"}", "{\"f\":[\"a\",\"b\"]}");
    FAILS("{\"fact\":\"f\",\"operator\":\"contains\",\"value\":\"b\"}", "{\"f\":\"abc\"}");
    FAILS("{\"fact\":\"f\",\"operator\":\"contains\",\"value\":\"b\"}", "{}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"doesNotContain\",\"value\":\"b\"}", "{\"f\":[\"a\"]}");
    FAILS("{\"fact\":\"f\",\"operator\":\"doesNotContain\",\"value\":\"b\"}",
          "{\"f\":[\"b\"]}");
    FAILS("{\"fact\":\"f\",\"operator\":\"doesNotContain\",\"value\":\"b\"}", "{\"f\":\"a\"}");
    FAILS("{\"fact\":\"f\",\"operator\":\"doesNotContain\",\"value\":\"b\"}", "{}");
    /* comparisons: number facts */
    HOLDS("{\"fact\":\"f\",\"operator\":\"lessThan\",\"value\":10}", "{\"f\":9}");
    FAILS("{\"fact\":\"f\",\"operator\":\"lessThan\",\"value\":10}", "{\"f\":10}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"lessThanInclusive\",\"value\":10}", "{\"f\":10}");
    HOLDS("{\"fact\":\"f\",\"operator\":\"greaterThan\",\"value\":10}", "{\"f\":10.5}");
    FAILS("{\"fact\":\"f\",\"operator\":\"greaterThanInclusive\",\"value\":10}", "{\"f\":9}");
    FAILS("{\"fact\":\"f\",\"operator\":\"greaterThan\",\"value\":1}", "{\"f\":[5]}");
    FAILS("{\"fact\":\"f\",\"operator\":\"greaterThan\",\"value\":1}", "{\"f\":\"5\"}");
    FAILS("{\"fact\":\"f\",\"operator\":\"lessThan\",\"value\":1}", "{}");
}

Test(rules_jre, json_path_forms)
{
    const char *facts = "{\"u\":{\"a\":{\"b\":7},\"list\":[3,{\"x\":9}],\"a b\":5,"
                        "\"q'\":1}}";
    HOLDS("{\"fact\":\"u\",\"path\":\"$.a.b\",\"operator\":\"equal\",\"value\":7}", facts);
    HOLDS("{\"fact\":\"u\",\"path\":\"$.list[0]\",\"operator\":\"equal\",\"value\":3}", facts);
    HOLDS("{\"fact\":\"u\",\"path\":\"$.list[1].x\",\"operator\":\"equal\",\"value\":9}", facts);
    HOLDS("{\"fact\":\"u\",\"path\":\"$['a b']\",\"operator\":\"equal\",\"value\":5}", facts);
    HOLDS("{\"fact\":\"u\",\"path\":\"$[\\\"a b\\\"]\",\"operator\":\"equal\",\"value\":5}",
          facts);
    HOLDS("{\"fact\":\"u\",\"path\":\"$[\\\"q'\\\"]\",\"operator\":\"equal\",\"value\":1}", facts);
    HOLDS("{\"fact\":\"u\",\"path\":\"$\",\"operator\":\"notEqual\",\"value\":1}", facts);
    FAILS("{\"fact\":\"u\",\"path\":\"$.list[2]\",\"operator\":\"equal\",\"value\":3}", facts);
    FAILS("{\"fact\":\"u\",\"path\":\"$.nope.deeper\",\"operator\":\"equal\",\"value\":3}", facts);
    /* a fact name is one member, dots included */
    HOLDS("{\"fact\":\"a.b\",\"operator\":\"equal\",\"value\":1}", "{\"a.b\":1}");
    FAILS("{\"fact\":\"a.b\",\"operator\":\"equal\",\"value\":1}", "{\"a\":{\"b\":1}}");
    /* anything else is refused */
    static const char *const bad[] = {"$..a",   "$.a[*]", "a.b",    "$.a[01]", "$['a]",
                                      "$.",     "$.a..b", "$.a[-1]", "$[?(@.a)]", "$.*"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char rules[512];
        snprintf(rules, sizeof(rules),
                 "[{\"name\":\"p\",\"conditions\":{\"all\":[{\"fact\":\"u\",\"path\":\"%s\","
                 "\"operator\":\"equal\",\"value\":1}]},\"event\":{\"type\":\"t\"}}]",
                 bad[i]);
        const char *d = compile_fail(rules);
        cr_assert(strstr(d, "\"path\":\"[0].conditions.all[0].path\",\"message\":"
                            "\"unsupported JSONPath"),
                  "%s: %s", bad[i], d);
    }
}

Test(rules_jre, priorities_ids_and_mixing)
{
    omni_rules *r = compile(
        "[{\"id\":\"routing\",\"conditions\":[],\"actions\":[]},"
        "{\"conditions\":{\"all\":[]},\"event\":{\"type\":\"a\"}},"
        "{\"name\":\"high\",\"priority\":10,\"conditions\":{\"all\":[]},"
        "\"event\":{\"type\":\"b\"}},"
        "{\"name\":\"named\",\"conditions\":{\"any\":[{\"fact\":\"x\",\"operator\":\"equal\","
        "\"value\":1}]},\"event\":{\"type\":\"c\"}},"
        "{\"conditions\":{\"not\":{\"fact\":\"x\",\"operator\":\"equal\",\"value\":1}},"
        "\"event\":{\"type\":\"d\"}}]");
    cr_assert_eq(omni_rules_count(r), 5);
    cr_assert_str_eq(omni_rules_id(r, 1), "#1");
    cr_assert_str_eq(omni_rules_id(r, 2), "high");
    cr_assert_str_eq(omni_rules_id(r, 4), "#4");
    /* priority default 1 (json-rules-engine) ranks above RoutingRule's default 0 */
    const char *out = eval(r, "{\"x\":1}", 0);
    cr_assert(strncmp(out, "{\"matched\":[\"high\",\"#1\",\"named\",\"routing\"]", 40) == 0,
              "%s", out);
    out = eval(r, "{}", 0);
    cr_assert(strncmp(out, "{\"matched\":[\"high\",\"#1\",\"#4\",\"routing\"]", 37) == 0, "%s",
              out);
    omni_rules_free(r);
    /* duplicate names, bad priorities, bad names */
    const char *d = compile_fail(
        "[{\"name\":\"n\",\"conditions\":{\"all\":[]},\"event\":{\"type\":\"a\"}},"
        "{\"name\":\"n\",\"priority\":0,\"conditions\":{\"all\":[]},\"event\":{\"type\":\"a\"}},"
        "{\"name\":5,\"priority\":2.5,\"conditions\":{\"all\":[]},\"event\":{\"type\":\"a\"}}]");
    cr_assert(strstr(d, "{\"ruleId\":\"n\",\"path\":\"[1].priority\",\"message\":\"priority must "
                        "be at least 1\"}"), "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"#2\",\"path\":\"[2].name\",\"message\":\"name must be a "
                        "string of 1 to 256 bytes\"}"), "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"#2\",\"path\":\"[2].priority\""), "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"n\",\"path\":\"[1]\",\"message\":\"duplicate rule id "
                        "\\\"n\\\" (first at [0])\"}"), "%s", d);
}

Test(rules_jre, events_become_actions)
{
    omni_rules *r = compile(
        "[{\"name\":\"billing\",\"priority\":10,\"conditions\":{\"all\":[{\"fact\":"
        "\"contentAnalysis\",\"path\":\"$.intent\",\"operator\":\"equal\",\"value\":\"billing\"}]},"
        "\"event\":{\"type\":\"route_to_queue\",\"params\":{\"queueId\":\"billing\","
        "\"queueName\":\"Billing\",\"estimatedWait\":30}}},"
        "{\"name\":\"tag\",\"conditions\":{\"all\":[]},\"event\":{\"type\":\"add_tag\","
        "\"params\":{\"tag\":\"seen\"}}},"
        "{\"name\":\"stop\",\"conditions\":{\"all\":[{\"fact\":\"spam\",\"operator\":\"equal\","
        "\"value\":true}]},\"priority\":99,\"event\":{\"type\":\"stop\"}}]");
    const char *out = eval(r, "{\"contentAnalysis\":{\"intent\":\"billing\"}}", 0);
    cr_assert_str_eq(
        out, "{\"matched\":[\"billing\",\"tag\"],\"actions\":[{\"ruleId\":\"billing\",\"type\":"
             "\"route_to_queue\",\"queueId\":\"billing\",\"queueName\":\"Billing\","
             "\"estimatedWait\":30},{\"ruleId\":\"tag\",\"type\":\"add_tag\",\"tag\":\"seen\"}],"
             "\"destination\":{\"type\":\"queue\",\"id\":\"billing\",\"name\":\"Billing\","
             "\"metadata\":{\"estimatedWait\":30}},\"tags\":[\"seen\"],\"priority\":null,"
             "\"block\":false,\"escalate\":false,\"autoRespond\":null,\"stoppedBy\":null}");
    out = eval(r, "{\"spam\":true,\"contentAnalysis\":{\"intent\":\"billing\"}}", 0);
    cr_assert(strncmp(out, "{\"matched\":[\"stop\"],\"actions\":[{\"ruleId\":\"stop\",\"type\":"
                           "\"stop\"}]", 63) == 0, "%s", out);
    cr_assert(strstr(out, "\"stoppedBy\":\"stop\""), "%s", out);
    omni_rules_free(r);
    /* a known type validates its params */
    const char *d = compile_fail(
        "[{\"name\":\"q\",\"conditions\":{\"all\":[]},\"event\":{\"type\":\"route_to_queue\","
        "\"params\":{\"queueName\":\"x\"}}},"
        "{\"name\":\"p\",\"conditions\":{\"all\":[]},\"event\":{\"type\":\"set_priority\","
        "\"params\":{\"priority\":\"meh\"}}},"
        "{\"name\":\"e\",\"conditions\":{\"all\":[]},\"event\":{\"params\":[],\"extra\":1}}]");
    cr_assert(strstr(d, "{\"ruleId\":\"q\",\"path\":\"[0].event.params\",\"message\":\"missing "
                        "queueId\"}"), "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"p\",\"path\":\"[1].event.params.priority\""), "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"e\",\"path\":\"[2].event.extra\",\"message\":\"unknown "
                        "member \\\"extra\\\"\"}"), "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"e\",\"path\":\"[2].event\",\"message\":\"missing type\"}"),
              "%s", d);
    cr_assert(strstr(d, "{\"ruleId\":\"e\",\"path\":\"[2].event.params\",\"message\":\"params "
                        "must be an object, not an array\"}"), "%s", d);
}

Test(rules_jre, unsupported_constructs_refused)
{
    const char *d = compile_fail(
        "[{\"name\":\"ref\",\"conditions\":{\"all\":[{\"condition\":\"shared\"}]},"
        "\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"topref\",\"conditions\":{\"condition\":\"shared\"},"
        "\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"factval\",\"conditions\":{\"all\":[{\"fact\":\"a\",\"operator\":\"equal\","
        "\"value\":{\"fact\":\"b\"}}]},\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"deco\",\"conditions\":{\"all\":[{\"fact\":\"a\",\"operator\":"
        "\"everyFact:greaterThan\",\"value\":1}]},\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"custom\",\"conditions\":{\"all\":[{\"fact\":\"a\",\"operator\":"
        "\"startsWith\",\"value\":\"x\"}]},\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"arrcond\",\"conditions\":[{\"fact\":\"a\",\"operator\":\"equal\","
        "\"value\":1}],\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"types\",\"conditions\":{\"all\":[{\"fact\":\"a\",\"operator\":\"in\","
        "\"value\":\"abc\"},{\"fact\":\"a\",\"operator\":\"lessThan\",\"value\":\"5\"},"
        "{\"fact\":\"a\",\"operator\":\"equal\",\"value\":[1]},{\"fact\":\"a\",\"operator\":"
        "\"equal\"},{\"operator\":\"equal\",\"value\":1},{\"fact\":\"a\",\"field\":\"x\","
        "\"operator\":\"equal\",\"value\":1}]},\"event\":{\"type\":\"t\"}},"
        "{\"name\":\"noevent\",\"conditions\":{\"all\":[]},\"event\":5}]");
    static const char *const want[] = {
        "{\"ruleId\":\"ref\",\"path\":\"[0].conditions.all[0]\",\"message\":\"condition "
        "references are not supported\"}",
        "{\"ruleId\":\"topref\",\"path\":\"[1].conditions\",\"message\":\"condition references "
        "are not supported\"}",
        "{\"ruleId\":\"factval\",\"path\":\"[2].conditions.all[0].value\",\"message\":\"fact "
        "references as values are not supported\"}",
        "{\"ruleId\":\"deco\",\"path\":\"[3].conditions.all[0].operator\",\"message\":"
        "\"operator decorators are not supported",
        "{\"ruleId\":\"custom\",\"path\":\"[4].conditions.all[0].operator\",\"message\":"
        "\"unknown operator \\\"startsWith\\\"\"}",
        "{\"ruleId\":\"arrcond\",\"path\":\"[5].conditions\",\"message\":\"conditions must be an "
        "object with all, any or not\"}",
        "\"path\":\"[6].conditions.all[0].value\",\"message\":\"value must be an array",
        "\"path\":\"[6].conditions.all[1].value\",\"message\":\"value must be a number, not a "
        "string\"",
        "\"path\":\"[6].conditions.all[2].value\",\"message\":\"value must be a scalar",
        "\"path\":\"[6].conditions.all[3]\",\"message\":\"missing value\"",
        "\"path\":\"[6].conditions.all[4]\",\"message\":\"missing fact\"",
        "\"path\":\"[6].conditions.all[5].field\",\"message\":\"unknown member \\\"field\\\"\"",
        "{\"ruleId\":\"noevent\",\"path\":\"[7].event\",\"message\":\"event must be an object, "
        "not a number\"}",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert(strstr(d, want[i]), "missing %s in %s", want[i], d);
    /* format json-rules-engine: every rule is one */
    omni_rules *r = NULL;
    const char *opts = "{\"format\":\"json-rules-engine\"}";
    const char *rules = "[{\"name\":\"x\",\"conditions\":{\"all\":[]}}]";
    cr_assert_eq(omni_rules_compile(&r, rules, strlen(rules), opts, strlen(opts)), OMNI_ECONFIG);
    cr_assert(strstr(omni_error_last_message(), "missing event"), "%s",
              omni_error_last_message());
}
