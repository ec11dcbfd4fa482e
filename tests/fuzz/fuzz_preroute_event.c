/* Fuzz target: a PreRouteEvent through omni_preroute_run, with a fixed
 * configuration compiled once (rules, business hours, keywords, templates,
 * auto-responses) and a memory-store engine with a fixed clock.
 * Invariants: either an error with no output and a known status, or a
 * result that is valid JSON with the required members of the right types;
 * nothing crashes, leaks or hangs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>
#include <omni/preroute.h>
#include <omni/template.h>

#include "fuzz_check.h"
#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config[] =
    "{\"defaults\":{\"timeZone\":\"America/New_York\","
    "\"businessHours\":{\"weekly\":{\"mon\":[[\"09:00\",\"17:00\"]],\"sun\":[[\"22:00\","
    "\"02:00\"]]},\"holidays\":[\"2026-12-25\"]},"
    "\"autoResponses\":{\"greeting\":{\"templateId\":\"g\"},\"away\":{\"templateId\":\"a\"},"
    "\"acknowledgment\":{\"templateId\":\"k\"},\"windowSeconds\":60},"
    "\"optOut\":{\"confirmations\":{\"stop\":\"s\",\"start\":\"k\",\"help\":\"k\"}},"
    "\"rules\":[{\"id\":\"vip\",\"priority\":9,\"conditions\":[{\"field\":"
    "\"identity.profile.tags\",\"operator\":\"contains\",\"value\":\"vip\"}],\"actions\":"
    "[{\"type\":\"route_to_agent\",\"agentId\":\"a1\"},{\"type\":\"add_tag\",\"tag\":\"v\"}]},"
    "{\"id\":\"bill\",\"conditions\":[{\"field\":\"contentAnalysis.intent\",\"operator\":"
    "\"contains\",\"value\":\"billing\"}],\"actions\":[{\"type\":\"auto_respond\","
    "\"templateId\":\"k\"},{\"type\":\"set_priority\",\"priority\":\"high\"}]},"
    "{\"id\":\"esc\",\"conditions\":[{\"field\":\"message.content\",\"operator\":\"contains\","
    "\"value\":\"lawsuit\"}],\"actions\":[{\"type\":\"escalate\"}]},"
    "{\"id\":\"blk\",\"conditions\":[{\"field\":\"message.content\",\"operator\":\"equals\","
    "\"value\":\"x\"}],\"actions\":[{\"type\":\"block\"}]}]},"
    "\"accounts\":[{\"accountId\":\"hi\",\"locale\":\"hi\",\"timeZone\":\"Asia/Kolkata\"}],"
    "\"templates\":{\"g\":{\"en\":\"Hi {{identity.profile.firstName}} {{#each message.tags}}"
    "{{this}}{{/each}}\",\"hi\":\"namaste\"},\"a\":{\"en\":\"closed\"},\"k\":{\"en\":"
    "\"ok {{contentAnalysis.language}}\"},\"s\":{\"en\":\"bye\"}}}";

static omni_preroute *pre;
static omni_engine *eng;

static int known(int rc)
{
    return rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
           rc == OMNI_ETOODEEP || rc == OMNI_EENCODING || rc == OMNI_EHELPER ||
           rc == OMNI_EMISSING;
}

static void setup(void)
{
    if (pre)
        return;
    static const char ecfg[] = "{\"clock\":{\"fixed\":\"2026-03-09T15:00:00Z\"}}";
    if (omni_preroute_compile(&pre, config, sizeof(config) - 1) ||
        omni_engine_new(&eng, ecfg, sizeof(ecfg) - 1, NULL))
        abort();
}

static const char *str_member(const omni_value *o, const char *name)
{
    return omni_value_string(omni_value_get(o, name), NULL);
}

static int is(const omni_value *o, const char *name, int kind)
{
    return omni_value_type(omni_value_get(o, name)) == kind;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char *out = (char *)1;
    size_t len = 7;
    int rc = omni_preroute_run(&out, &len, eng, pre, (const char *)data, size);
    if (rc) {
        CHECK(out == NULL && len == 0 && known(rc));
        return 0;
    }
    CHECK(out && strlen(out) == len);
    CHECK(omni__json_validate(out, len, 0, NULL) == OMNI_OK);
    /* omni_data reads lone surrogate escapes (echoed from the event) as
     * JSON.parse does */
    omni_data *doc = NULL;
    CHECK(omni_data_parse(&doc, out, len) == OMNI_OK);
    const omni_value *r = omni_data_root(doc);
    CHECK(is(r, "success", OMNI_VALUE_BOOL) && omni_value_truthy(omni_value_get(r, "success")));
    const omni_value *rd = omni_value_get(r, "routingDecision");
    const char *action = str_member(rd, "action");
    CHECK(action && (!strcmp(action, "route") || !strcmp(action, "queue") ||
                     !strcmp(action, "auto_respond") || !strcmp(action, "block") ||
                     !strcmp(action, "escalate")));
    CHECK(is(rd, "priority", OMNI_VALUE_NUMBER));
    double pr = omni_value_number(omni_value_get(rd, "priority"));
    CHECK(pr >= 0 && pr <= 100);
    const omni_value *dest = omni_value_get(rd, "destination");
    CHECK(str_member(dest, "type") && str_member(dest, "id") && str_member(dest, "name"));
    CHECK(is(dest, "metadata", OMNI_VALUE_OBJECT));
    CHECK(is(rd, "tags", OMNI_VALUE_ARRAY));
    const omni_value *ca = omni_value_get(r, "contentAnalysis");
    CHECK(is(ca, "spam", OMNI_VALUE_BOOL));
    CHECK(str_member(ca, "sentiment") && str_member(ca, "language"));
    CHECK(is(ca, "intent", OMNI_VALUE_ARRAY));
    CHECK(is(r, "matchedRules", OMNI_VALUE_ARRAY));
    CHECK(is(r, "transformedMessage", OMNI_VALUE_OBJECT));
    const char *next = str_member(r, "nextStep");
    CHECK(next && (!strcmp(next, "publishOutbound") || !strcmp(next, "pushNotification") ||
                   !strcmp(next, "terminate")));
    CHECK(is(r, "nextSteps", OMNI_VALUE_ARRAY));
    const omni_value *ar = omni_value_get(r, "autoResponse");
    int has_ar = omni_value_type(ar) != OMNI_VALUE_UNDEFINED;
    CHECK(!has_ar || (str_member(ar, "content") && str_member(ar, "responseType")));
    CHECK(has_ar == (strcmp(next, "publishOutbound") == 0));
    omni_data_free(doc);
    omni_free(out);
    return 0;
}
