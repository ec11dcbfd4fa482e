/* Tests of pre-routing (omni/preroute.h): configuration errors with paths,
 * every step of a run (opt-out keywords, analysis and the analyzer hook,
 * spam, rules, the auto-responder with business hours, DST and holidays,
 * the loop guard and the per-conversation window, races between threads and
 * between two engines on one SQLite file), the opt-out ledger, and every
 * error path of omni_preroute_run. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <omni/analyze.h>
#include <omni/omni.h>
#include <omni/preroute.h>

/* ---- fixtures ------------------------------------------------------------------ */

static const char base_config[] =
    "{\"defaults\":{\"timeZone\":\"America/New_York\",\"locale\":\"en\","
    " \"businessHours\":{\"weekly\":{\"mon\":[[\"09:00\",\"17:00\"]],\"tue\":[[\"09:00\",\"17:00\"]],"
    "   \"wed\":[[\"09:00\",\"17:00\"]],\"thu\":[[\"09:00\",\"17:00\"]],\"fri\":[[\"09:00\",\"17:00\"]],"
    "   \"sat\":[[\"09:00\",\"17:00\"]],\"sun\":[[\"09:00\",\"17:00\"]]},"
    "   \"holidays\":[\"2026-12-25\"]},"
    " \"autoResponses\":{\"greeting\":{\"templateId\":\"greeting\"},"
    "   \"away\":{\"templateId\":\"away\"},"
    "   \"acknowledgment\":{\"enabled\":false,\"templateId\":\"ack\"},\"windowSeconds\":3600},"
    " \"optOut\":{\"confirmations\":{\"stop\":\"stop_ok\",\"start\":\"start_ok\","
    "   \"help\":\"help_text\"}},"
    " \"rules\":["
    "  {\"id\":\"vip\",\"priority\":100,\"conditions\":[{\"field\":\"identity.profile.tags\","
    "    \"operator\":\"contains\",\"value\":\"vip\"}],"
    "    \"actions\":[{\"type\":\"route_to_queue\",\"queueId\":\"vip-support\","
    "    \"queueName\":\"VIP Support\"}]},"
    "  {\"id\":\"legal\",\"priority\":90,\"conditions\":[{\"field\":\"message.content\","
    "    \"operator\":\"contains\",\"value\":\"lawsuit\"}],\"actions\":[{\"type\":\"escalate\"}]},"
    "  {\"id\":\"billing\",\"priority\":80,\"conditions\":[{\"field\":\"contentAnalysis.intent\","
    "    \"operator\":\"contains\",\"value\":\"billing\"}],"
    "    \"actions\":[{\"type\":\"route_to_queue\",\"queueId\":\"billing-team\"},"
    "    {\"type\":\"add_tag\",\"tag\":\"billing-inquiry\"}]},"
    "  {\"id\":\"blockme\",\"priority\":70,\"conditions\":[{\"field\":\"message.content\","
    "    \"operator\":\"contains\",\"value\":\"BLOCKME\"}],\"actions\":[{\"type\":\"block\"}]},"
    "  {\"id\":\"promo\",\"priority\":60,\"conditions\":[{\"field\":\"message.content\","
    "    \"operator\":\"contains\",\"value\":\"promo code\"}],"
    "    \"actions\":[{\"type\":\"auto_respond\",\"templateId\":\"promo\"}]},"
    "  {\"id\":\"outage\",\"priority\":50,\"conditions\":[{\"field\":\"message.content\","
    "    \"operator\":\"contains\",\"value\":\"outage\"}],"
    "    \"actions\":[{\"type\":\"set_priority\",\"priority\":\"urgent\"}]}]},"
    " \"accounts\":["
    "  {\"accountId\":\"acc-hi\",\"locale\":\"hi\",\"timeZone\":\"Asia/Kolkata\","
    "   \"optOut\":{\"stop\":[\"halt\",\"stop\"],\"confirmations\":{\"stop\":\"stop_ok\"}}},"
    "  {\"accountId\":\"acc-ack\",\"autoResponses\":{\"acknowledgment\":{\"templateId\":\"ack\"},"
    "   \"windowSeconds\":0},\"defaultDestination\":{\"type\":\"agent\",\"id\":\"agent-7\","
    "   \"name\":\"Asha\",\"metadata\":{\"skills\":[\"billing\"]}}}],"
    " \"templates\":{"
    "  \"greeting\":{\"en\":\"Hi {{identity.profile.firstName}}!\","
    "    \"hi\":\"\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87 "
    "{{identity.profile.firstName}}!\"},"
    "  \"away\":{\"en\":\"We are closed. <b>Back at 9</b>\"},"
    "  \"ack\":{\"en\":\"Got it.\"},"
    "  \"stop_ok\":{\"en\":\"You are unsubscribed. Reply START to resubscribe.\","
    "    \"hi\":\"STOP hi\"},"
    "  \"start_ok\":{\"en\":\"Welcome back.\"},"
    "  \"help_text\":{\"en\":\"Help: call 555-0100.\"},"
    "  \"promo\":{\"en\":\"Promo noted for {{identity.customerId}}.\"}},"
    " \"analyzer\":{\"spam\":{\"phrases\":[\"free money\"],\"senders\":[\"+15550000666\"],"
    "   \"weights\":{\"blocked_phrase\":1.0,\"blocked_sender\":1.0}}}}";

/* 11:00 EDT on Monday 2026-03-09: open. */
#define OPEN_TIME "2026-03-09T15:00:00Z"
/* 03:00 EDT: closed. */
#define CLOSED_TIME "2026-03-09T07:00:00Z"

static omni_preroute *compile_base(void)
{
    omni_preroute *p = NULL;
    int rc = omni_preroute_compile(&p, base_config, strlen(base_config));
    cr_assert_eq(rc, OMNI_OK, "%s %s", omni_error_last_message(),
                 omni_error_last()->details ? omni_error_last()->details : "");
    return p;
}

static omni_engine *engine_at(const char *when, const omni_analyzer_hook *hook,
                              const char *storage)
{
    char cfg[512];
    if (storage)
        snprintf(cfg, sizeof(cfg), "{\"clock\":{\"fixed\":\"%s\"},\"storage\":\"%s\"}", when,
                 storage);
    else
        snprintf(cfg, sizeof(cfg), "{\"clock\":{\"fixed\":\"%s\"}}", when);
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.analyzer = hook;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), &hooks), OMNI_OK, "%s",
                 omni_error_last_message());
    return e;
}

/* An event. msg_extra / ident_extra: more members (",\"x\":1") or "". */
static char *event(const char *account, const char *conv, const char *status, const char *msg_id,
                   const char *content, const char *msg_extra, const char *ident_extra)
{
    char *out = NULL;
    /* ident_extra replaces the default profile / customerType it names */
    const char *ctype = strstr(ident_extra, "customerType") ? "" : ",\"customerType\":\"known\"";
    const char *profile = strstr(ident_extra, "\"profile\"") ? "" : ",\"profile\":{\"firstName\":\"Ada\"}";
    int n = asprintf(&out,
                     "{\"correlationId\":\"corr-%s\","
                     "\"conversation\":{\"conversationId\":\"%s\",\"status\":\"%s\"},"
                     "\"messageState\":{\"messageId\":\"%s\",\"sequenceNumber\":1},"
                     "\"routing\":{\"accountId\":\"%s\",\"channel\":\"sms\"},"
                     "\"identity\":{\"customerId\":\"cust-1\"%s%s%s},"
                     "\"message\":{\"id\":\"%s\",\"content\":\"%s\",\"contentType\":\"text\"%s}}",
                     msg_id, conv, status, msg_id, account, ctype, profile, ident_extra, msg_id,
                     content,
                     msg_extra);
    cr_assert(n > 0);
    return out;
}

typedef struct run_out {
    int rc;
    cJSON *doc;
    char *text;
} run_out;

static run_out run(omni_engine *e, const omni_preroute *p, const char *ev)
{
    run_out r = {0, NULL, NULL};
    size_t n = 0;
    r.rc = omni_preroute_run(&r.text, &n, e, p, ev, strlen(ev));
    if (r.rc == OMNI_OK) {
        cr_assert_eq(strlen(r.text), n);
        r.doc = cJSON_ParseWithLength(r.text, n);
        cr_assert(r.doc, "result is not JSON: %s", r.text);
    }
    return r;
}

static void run_free(run_out *r)
{
    cJSON_Delete(r->doc);
    omni_free(r->text);
}

static const char *sget(const cJSON *doc, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static const char *action(const run_out *r)
{
    return sget(cJSON_GetObjectItemCaseSensitive(r->doc, "routingDecision"), "action", NULL);
}

static int priority(const run_out *r)
{
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(r->doc, "routingDecision");
    return (int)cJSON_GetObjectItemCaseSensitive(rd, "priority")->valuedouble;
}

static const char *dest(const run_out *r)
{
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(r->doc, "routingDecision");
    return sget(cJSON_GetObjectItemCaseSensitive(rd, "destination"), "id", NULL);
}

static int has_tag(const run_out *r, const char *tag)
{
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(r->doc, "routingDecision");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(rd, "tags"))
    {
        if (cJSON_IsString(t) && strcmp(t->valuestring, tag) == 0)
            return 1;
    }
    return 0;
}

static const char *response_type(const run_out *r)
{
    return sget(r->doc, "autoResponse", "responseType");
}

static const char *response(const run_out *r)
{
    return sget(r->doc, "autoResponse", "content");
}

/* One run of a fresh event; asserts success. */
static run_out ok_run(omni_engine *e, const omni_preroute *p, const char *account,
                      const char *conv, const char *status, const char *msg_id,
                      const char *content, const char *msg_extra, const char *ident_extra)
{
    char *ev = event(account, conv, status, msg_id, content, msg_extra, ident_extra);
    run_out r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_OK, "%s: %s", ev, omni_error_last_message());
    free(ev);
    return r;
}

/* ---- configuration --------------------------------------------------------------- */

Test(preroute_config, empty_config_routes_to_default_queue)
{
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, "{}", 2), OMNI_OK);
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-x", "conv-1", "new", "m1", "hello there", "", "");
    cr_assert_str_eq(action(&r), "queue");
    cr_assert_str_eq(dest(&r), "default");
    cr_assert_eq(priority(&r), 50);
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "pushNotification");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
    cr_assert_str_eq(sget(r.doc, "correlationId", NULL), "corr-m1");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

static void expect_config_error(const char *cfg, int status, const char *path)
{
    omni_preroute *p = (omni_preroute *)1;
    int rc = omni_preroute_compile(&p, cfg, strlen(cfg));
    cr_assert_eq(rc, status, "%s: got %d %s", cfg, rc, omni_error_last_message());
    cr_assert_null(p);
    if (path) {
        const char *d = omni_error_last()->details;
        cr_assert(d, "no details for %s (%s)", cfg, omni_error_last_message());
        cJSON *doc = cJSON_Parse(d);
        cr_assert(doc);
        cr_assert_str_eq(sget(doc, "path", NULL), path, "%s: %s", cfg, d);
        cJSON_Delete(doc);
    }
}

Test(preroute_config, errors_name_their_path)
{
    expect_config_error("{\"bogus\":1}", OMNI_ECONFIG, "bogus");
    expect_config_error("[]", OMNI_ECONFIG, NULL);
    expect_config_error("{\"accounts\":{}}", OMNI_ECONFIG, "accounts");
    expect_config_error("{\"accounts\":[{}]}", OMNI_ECONFIG, "accounts[0].accountId");
    expect_config_error("{\"accounts\":[1]}", OMNI_ECONFIG, "accounts[0]");
    expect_config_error("{\"accounts\":[{\"accountId\":\"a\"},{\"accountId\":\"a\"}]}",
                        OMNI_ECONFIG, "accounts[1].accountId");
    expect_config_error("{\"accounts\":[{\"accountId\":\"a\",\"colour\":1}]}", OMNI_ECONFIG,
                        "accounts[0].colour");
    expect_config_error("{\"defaults\":{\"autoResponses\":{\"greeting\":{\"templateId\":\"nope\"}}}}",
                        OMNI_ECONFIG, "defaults.autoResponses.greeting.templateId");
    expect_config_error("{\"defaults\":{\"autoResponses\":{\"greeting\":{}}}}", OMNI_ECONFIG,
                        "defaults.autoResponses.greeting.templateId");
    expect_config_error("{\"defaults\":{\"autoResponses\":{\"windowSeconds\":-1}}}",
                        OMNI_ECONFIG, "defaults.autoResponses.windowSeconds");
    expect_config_error("{\"defaults\":{\"autoResponses\":{\"windowSeconds\":1.5}}}",
                        OMNI_ECONFIG, "defaults.autoResponses.windowSeconds");
    expect_config_error("{\"templates\":{\"g\":{\"en\":\"{{#if}}\"}}}", OMNI_ECONFIG,
                        "templates.g.en");
    expect_config_error("{\"templates\":{\"g\":{}}}", OMNI_ECONFIG, "templates.g");
    expect_config_error("{\"templates\":{\"g\":{\"e n\":\"x\"}}}", OMNI_ECONFIG,
                        "templates.g.e n");
    expect_config_error("{\"templates\":{\"g\":\"x\"}}", OMNI_ECONFIG, "templates.g");
    expect_config_error("{\"defaults\":{\"timeZone\":\"Mars/Olympus_Mons\"}}", OMNI_ENOTFOUND,
                        "defaults.timeZone");
    expect_config_error("{\"accounts\":[{\"accountId\":\"a\",\"timeZone\":\"../etc\"}]}",
                        OMNI_ECONFIG, "accounts[0].timeZone");
    expect_config_error("{\"defaults\":{\"locale\":\"x\"}}", OMNI_ECONFIG, "defaults.locale");
    expect_config_error(
        "{\"defaults\":{\"businessHours\":{\"weekly\":{\"mon\":[[\"9\",\"17:00\"]]}}}}",
        OMNI_ECONFIG, "defaults.businessHours");
    expect_config_error("{\"defaults\":{\"businessHours\":{\"weekly\":{},\"timezone\":\"UTC\"}}}",
                        OMNI_ECONFIG, "defaults.businessHours.timezone");
    expect_config_error("{\"defaults\":{\"optOut\":{\"stop\":\"STOP\"}}}", OMNI_ECONFIG,
                        "defaults.optOut");
    expect_config_error("{\"defaults\":{\"optOut\":{\"confirmations\":{\"stop\":\"none\"}}}}",
                        OMNI_ECONFIG, "defaults.optOut.confirmations.stop");
    expect_config_error("{\"defaults\":{\"optOut\":{\"confirmations\":{\"later\":\"x\"}}}}",
                        OMNI_ECONFIG, "defaults.optOut.confirmations.later");
    expect_config_error("{\"defaults\":{\"priority\":{\"vipTags\":\"vip\"}}}", OMNI_ECONFIG,
                        "defaults.priority.vipTags");
    expect_config_error("{\"defaults\":{\"priority\":{\"urgencyWords\":[\"ok\",\"!!\"]}}}",
                        OMNI_ECONFIG, "defaults.priority.urgencyWords[1]");
    expect_config_error("{\"defaults\":{\"defaultDestination\":{\"type\":\"moon\",\"id\":\"x\"}}}",
                        OMNI_ECONFIG, "defaults.defaultDestination.type");
    expect_config_error("{\"defaults\":{\"defaultDestination\":{\"type\":\"queue\"}}}",
                        OMNI_ECONFIG, "defaults.defaultDestination.id");
    expect_config_error("{\"analyzer\":[]}", OMNI_ECONFIG, "analyzer");
    expect_config_error("{\"defaults\":{\"rules\":[{\"id\":\"r\",\"conditions\":[],"
                        "\"actions\":[{\"type\":\"auto_respond\",\"templateId\":\"nope\"}]}]}}",
                        OMNI_ECONFIG, "defaults.rules[0].actions[0].templateId");
}

Test(preroute_config, rule_errors_carry_the_rules_list_with_account_paths)
{
    const char *cfg = "{\"accounts\":[{\"accountId\":\"a\"},{\"accountId\":\"b\",\"rules\":["
                      "{\"id\":\"ok\",\"conditions\":[],\"actions\":[]},"
                      "{\"id\":\"vip\",\"conditions\":[{\"field\":\"x\",\"operator\":\"eq\","
                      "\"value\":1}],\"actions\":[]}]}]}";
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, cfg, strlen(cfg)), OMNI_ECONFIG);
    cJSON *d = cJSON_Parse(omni_error_last()->details);
    cr_assert(d);
    cr_assert_str_eq(sget(d, "path", NULL), "accounts[1].rules[1].conditions[0].operator");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(d, "errors");
    cr_assert(cJSON_GetArraySize(errs) >= 1);
    const cJSON *e0 = cJSON_GetArrayItem(errs, 0);
    cr_assert_str_eq(sget(e0, "ruleId", NULL), "vip");
    cr_assert_str_eq(sget(e0, "path", NULL), "accounts[1].rules[1].conditions[0].operator");
    cr_assert(strstr(omni_error_last_message(), "accounts[1].rules"));
    cJSON_Delete(d);
}

Test(preroute_config, analyzer_errors_are_prefixed)
{
    const char *cfg = "{\"analyzer\":{\"bogus\":1}}";
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, cfg, strlen(cfg)), OMNI_ECONFIG);
    cJSON *d = cJSON_Parse(omni_error_last()->details);
    cr_assert(d);
    cr_assert(strncmp(sget(d, "path", NULL), "analyzer", 8) == 0);
    cJSON_Delete(d);
}

static int has_string(const cJSON *arr, const char *want)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) if (cJSON_IsString(it) && strcmp(it->valuestring, want) == 0)
        return 1;
    return 0;
}

/* Intents, lexicons and blocklists per account: an account's "analyzer"
 * replaces the top-level one for that account only; errors name the
 * account's path. */
Test(preroute_config, analyzer_per_account)
{
    const char *cfg =
        "{\"analyzer\":{\"intents\":{\"shipping\":[\"parcel\"]}},"
        "\"accounts\":[{\"accountId\":\"acc-x\","
        "\"analyzer\":{\"intents\":{\"warranty\":[\"parcel\"]}}}]}";
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, cfg, strlen(cfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-x", "c1", "active", "m1", "my parcel", "", "");
    const cJSON *intent = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.doc, "contentAnalysis"), "intent");
    cr_assert(has_string(intent, "warranty") && !has_string(intent, "shipping"), "%s", r.text);
    run_free(&r);
    r = ok_run(e, p, "acc-other", "c2", "active", "m2", "my parcel", "", "");
    intent = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.doc, "contentAnalysis"), "intent");
    cr_assert(has_string(intent, "shipping") && !has_string(intent, "warranty"), "%s", r.text);
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
    const char *bad = "{\"accounts\":[{\"accountId\":\"a\",\"analyzer\":{\"bogus\":1}}]}";
    cr_assert_eq(omni_preroute_compile(&p, bad, strlen(bad)), OMNI_ECONFIG);
    cJSON *d = cJSON_Parse(omni_error_last()->details);
    cr_assert(d);
    cr_assert(strncmp(sget(d, "path", NULL), "accounts[0].analyzer", 20) == 0, "%s",
              sget(d, "path", NULL));
    cJSON_Delete(d);
}

Test(preroute_config, argument_json_and_size_errors)
{
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_preroute_compile(&p, NULL, 2), OMNI_EINVAL);
    cr_assert_eq(omni_preroute_compile(&p, "{", 1), OMNI_EJSON);
    cr_assert_eq(omni_preroute_compile(&p, "", 0), OMNI_EJSON);
    size_t big = OMNI_LIMIT_CONFIG_BYTES + 10;
    char *s = malloc(big);
    memset(s, ' ', big);
    s[0] = '{';
    s[big - 1] = '}';
    cr_assert_eq(omni_preroute_compile(&p, s, big), OMNI_ETOOLARGE);
    free(s);
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 150; i++)
        deep[n++] = '[';
    for (int i = 0; i < 150; i++)
        deep[n++] = ']';
    cr_assert_eq(omni_preroute_compile(&p, deep, n), OMNI_ETOODEEP);
    omni_preroute_free(NULL);
}

Test(preroute_config, too_many_accounts)
{
    size_t n = OMNI_PREROUTE_MAX_ACCOUNTS + 1;
    char *s = malloc(n * 24 + 64);
    size_t k = (size_t)sprintf(s, "{\"accounts\":[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s{\"accountId\":\"a%zu\"}", i ? "," : "", i);
    k += (size_t)sprintf(s + k, "]}");
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, s, k), OMNI_ETOOLARGE);
    free(s);
}

/* ---- errors of a run -------------------------------------------------------------- */

static void expect_run_error(omni_engine *e, omni_preroute *p, const char *ev, int status)
{
    char *out = (char *)1;
    size_t n = 7;
    int rc = omni_preroute_run(&out, &n, e, p, ev, strlen(ev));
    cr_assert_eq(rc, status, "%s: got %d (%s)", ev, rc, omni_error_last_message());
    cr_assert_null(out);
    cr_assert_eq(n, 0);
}

Test(preroute_run, error_paths)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    char *out = NULL;
    size_t n;
    const char *ok = "{\"routing\":{\"accountId\":\"a\"},\"message\":{\"content\":\"hi\"}}";
    cr_assert_eq(omni_preroute_run(NULL, &n, e, p, ok, strlen(ok)), OMNI_EINVAL);
    cr_assert_eq(omni_preroute_run(&out, &n, NULL, p, ok, strlen(ok)), OMNI_EINVAL);
    cr_assert_eq(omni_preroute_run(&out, &n, e, NULL, ok, strlen(ok)), OMNI_EINVAL);
    cr_assert_eq(omni_preroute_run(&out, &n, e, p, NULL, 3), OMNI_EINVAL);
    expect_run_error(e, p, "{", OMNI_EJSON);
    expect_run_error(e, p, "", OMNI_EJSON);
    expect_run_error(e, p, "{\"a\":1}{", OMNI_EJSON);
    expect_run_error(e, p, "[1]", OMNI_EINVAL);
    expect_run_error(e, p, "{\"message\":{\"content\":\"hi\"}}", OMNI_EINVAL);
    expect_run_error(e, p, "{\"routing\":{},\"message\":{}}", OMNI_EINVAL);
    expect_run_error(e, p, "{\"routing\":{\"accountId\":7},\"message\":{}}", OMNI_EINVAL);
    expect_run_error(e, p, "{\"routing\":{\"accountId\":\"\"},\"message\":{}}", OMNI_EINVAL);
    expect_run_error(e, p, "{\"routing\":{\"accountId\":\"a\"}}", OMNI_EINVAL);
    expect_run_error(e, p, "{\"routing\":{\"accountId\":\"a\"},\"message\":\"hi\"}", OMNI_EINVAL);
    expect_run_error(e, p, "{\"routing\":{\"accountId\":\"a\"},\"message\":{\"content\":5}}",
                     OMNI_EINVAL);
    expect_run_error(e, p,
                     "{\"correlationId\":5,\"routing\":{\"accountId\":\"a\"},\"message\":{}}",
                     OMNI_EINVAL);
    expect_run_error(e, p,
                     "{\"identity\":[],\"routing\":{\"accountId\":\"a\"},\"message\":{}}",
                     OMNI_EINVAL);
    expect_run_error(e, p,
                     "{\"identity\":{\"customerId\":1},\"routing\":{\"accountId\":\"a\"},"
                     "\"message\":{}}",
                     OMNI_EINVAL);
    expect_run_error(e, p,
                     "{\"routing\":{\"accountId\":\"a\"},\"message\":{\"direction\":1}}",
                     OMNI_EINVAL);
    expect_run_error(e, p,
                     "{\"routing\":{\"accountId\":\"a\"},\"message\":{\"content\":\"a\\u0000b\"}}",
                     OMNI_EINVAL);
    /* a STOP without a customer id cannot be recorded */
    expect_run_error(e, p, "{\"routing\":{\"accountId\":\"a\"},\"message\":{\"content\":\"STOP\"}}",
                     OMNI_EINVAL);
    /* too large */
    size_t big = OMNI_PREROUTE_MAX_EVENT + 1;
    char *s = malloc(big + 1);
    memset(s, ' ', big);
    s[big] = '\0';
    memcpy(s, ok, strlen(ok));
    cr_assert_eq(omni_preroute_run(&out, &n, e, p, s, big), OMNI_ETOOLARGE);
    free(s);
    /* content over the analyzer's limit */
    size_t cl = OMNI_ANALYZE_MAX_CONTENT + 10;
    char *ev = malloc(cl + 200);
    cr_assert(ev);
    static const char head[] = "{\"routing\":{\"accountId\":\"a\"},\"message\":{\"content\":\"";
    size_t k = sizeof(head) - 1;
    memcpy(ev, head, k);
    memset(ev + k, 'a', cl);
    strcpy(ev + k + cl, "\"}}");
    cr_assert_eq(omni_preroute_run(&out, &n, e, p, ev, strlen(ev)), OMNI_ETOOLARGE, "%s",
                 omni_error_last_message());
    free(ev);
    /* null members are absent members */
    const char *nulls = "{\"correlationId\":null,\"conversation\":null,\"identity\":null,"
                        "\"routing\":{\"accountId\":\"a\"},\"message\":{\"content\":null}}";
    run_out r = run(e, p, nulls);
    cr_assert_eq(r.rc, OMNI_OK, "%s", omni_error_last_message());
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.doc, "correlationId")));
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

/* ---- result shape -------------------------------------------------------------------- */

Test(preroute_run, result_members_in_seed_order_and_transformed_message)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "new", "m1", "hello there",
                       ",\"tags\":[\"old\"],\"mediaUrls\":[]", "");
    static const char *const order[] = {"\"success\"",          "\"correlationId\"",
                                        "\"routingDecision\"",  "\"autoResponse\"",
                                        "\"contentAnalysis\"",  "\"matchedRules\"",
                                        "\"transformedMessage\"", "\"nextStep\"",
                                        "\"nextSteps\""};
    const char *prev = r.text;
    for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
        const char *at = strstr(r.text, order[i]);
        cr_assert(at && at >= prev, "%s out of order in %s", order[i], r.text);
        prev = at;
    }
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(r.doc, "routingDecision");
    cr_assert_str_eq(sget(rd, "priorityLevel", NULL), "normal");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(rd, "destination");
    cr_assert_str_eq(sget(d, "type", NULL), "queue");
    cr_assert_str_eq(sget(d, "name", NULL), "Default Queue");
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(d, "metadata")));
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(r.doc, "contentAnalysis");
    cr_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(ca, "spam")));
    cr_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ca, "intent")));
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(r.doc, "transformedMessage");
    cr_assert_str_eq(sget(tm, "content", NULL), "hello there");
    cr_assert_str_eq(sget(tm, "id", NULL), "m1");
    cr_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(tm, "mediaUrls")));
    cr_assert_str_eq(sget(tm, "language", NULL), "en");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(tm, "priority")->valuedouble, 50);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(tm, "tags");
    cr_assert(cJSON_IsArray(tags));
    /* the message's own tags are replaced by the decision's */
    const cJSON *tg;
    cJSON_ArrayForEach(tg, tags)
    {
        cr_assert(cJSON_IsString(tg) && strcmp(tg->valuestring, "old") != 0, "%s", r.text);
    }
    cr_assert_eq(cJSON_GetArraySize(tags),
                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rd, "tags")));
    /* the greeting was sent */
    cr_assert_str_eq(action(&r), "auto_respond");
    cr_assert_str_eq(response_type(&r), "greeting");
    cr_assert_str_eq(response(&r), "Hi Ada!");
    cr_assert_str_eq(sget(r.doc, "autoResponse", "templateId"), "greeting");
    cr_assert_str_eq(sget(r.doc, "autoResponse", "language"), "en");
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "publishOutbound");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

/* ---- opt-out ------------------------------------------------------------------------------ */

static void stop_form(const char *text)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", text, "", "");
    cr_assert_str_eq(action(&r), "auto_respond", "%s: %s", text, r.text);
    cr_assert(has_tag(&r, "opt_out"), "%s", text);
    cr_assert_str_eq(response_type(&r), "opt_out");
    cr_assert_str_eq(response(&r), "You are unsubscribed. Reply START to resubscribe.");
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_out");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"), "changed")));
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "publishOutbound");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.doc, "matchedRules")), 0);
    run_free(&r);
    char *rec = NULL;
    size_t n;
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-1"), OMNI_OK);
    cJSON *d = cJSON_Parse(rec);
    cr_assert_str_eq(sget(d, "status", NULL), "opted_out", "%s", rec);
    cr_assert_str_eq(sget(d, "channel", NULL), "sms");
    cr_assert_str_eq(sget(d, "keyword", NULL), text);
    cr_assert_str_eq(sget(d, "updatedAt", NULL), "2026-03-09T15:00:00.000Z");
    cJSON_Delete(d);
    omni_free(rec);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_optout, every_stop_keyword_form)
{
    stop_form("STOP");
    stop_form("STOPALL");
    stop_form("UNSUBSCRIBE");
    stop_form("CANCEL");
    stop_form("END");
    stop_form("QUIT");
    stop_form("Stop. Thank you");
    stop_form("stop!!!");
    stop_form("unsubscribe please");
}

Test(preroute_optout, confirmation_only_once_and_retry_repeats_it)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", "STOP", "", "");
    cr_assert_str_eq(response_type(&r), "opt_out");
    run_free(&r);
    /* the same message again (a retry): the same answer */
    r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", "STOP", "", "");
    cr_assert_str_eq(response_type(&r), "opt_out");
    run_free(&r);
    /* another STOP: recorded already, nothing to say */
    r = ok_run(e, p, "acc-1", "conv-1", "active", "m2", "stop", "", "");
    cr_assert_str_eq(action(&r), "block");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"), "changed")));
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "terminate");
    cr_assert(has_tag(&r, "opt_out"));
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

static void start_form(const char *text)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", "STOP", "", "");
    run_free(&r);
    r = ok_run(e, p, "acc-1", "conv-1", "active", "m2", text, "", "");
    cr_assert_str_eq(action(&r), "auto_respond", "%s: %s", text, r.text);
    cr_assert_str_eq(response_type(&r), "opt_in");
    cr_assert_str_eq(response(&r), "Welcome back.");
    cr_assert(has_tag(&r, "opt_in"));
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_in");
    run_free(&r);
    char *rec = NULL;
    size_t n;
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-1"), OMNI_OK);
    cr_assert(strstr(rec, "\"status\":\"opted_in\""), "%s", rec);
    omni_free(rec);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_optout, start_unstop_yes_opt_back_in)
{
    start_form("START");
    start_form("unstop");
    start_form("Yes");
}

Test(preroute_optout, yes_from_a_subscribed_customer_is_an_ordinary_message)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", "yes", "", "");
    cr_assert_str_eq(action(&r), "queue", "%s", r.text);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "pushNotification");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_optout, help_answers_every_time)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        run_out r = ok_run(e, p, "acc-1", "conv-1", "active", i ? "m2" : "m1", "HELP", "", "");
        cr_assert_str_eq(action(&r), "auto_respond");
        cr_assert_str_eq(response_type(&r), "help");
        cr_assert_str_eq(response(&r), "Help: call 555-0100.");
        cr_assert(has_tag(&r, "help"));
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
        run_free(&r);
    }
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_optout, without_a_confirmation_template_it_blocks)
{
    const char *cfg = "{}";
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, cfg, 2), OMNI_OK);
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", "STOP", "", "");
    cr_assert_str_eq(action(&r), "block");
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_out");
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "terminate");
    run_free(&r);
    r = ok_run(e, p, "acc-1", "conv-1", "active", "m2", "help", "", "");
    cr_assert_str_eq(action(&r), "block");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_optout, per_account_and_per_locale_keywords)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    /* acc-hi's own keyword */
    run_out r = ok_run(e, p, "acc-hi", "conv-1", "active", "m1", "halt", "",
                       ",\"preferences\":{\"language\":\"en\"}");
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_out");
    /* the customer's language comes before the account's locale */
    cr_assert_str_eq(response(&r), "You are unsubscribed. Reply START to resubscribe.");
    run_free(&r);
    /* not a keyword for other accounts */
    r = ok_run(e, p, "acc-1", "conv-2", "active", "m2", "halt", "", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
    run_free(&r);
    /* Hindi STOP: with the customer's language hi */
    const char *roko = "\xe0\xa4\xb0\xe0\xa5\x8b\xe0\xa4\x95\xe0\xa5\x8b"; /* रोको */
    r = ok_run(e, p, "acc-1", "conv-3", "active", "m3", roko, "",
               ",\"preferences\":{\"language\":\"hi\"}");
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_out", "%s", r.text);
    cr_assert_str_eq(sget(r.doc, "autoResponse", "language"), "hi");
    run_free(&r);
    /* ... but not for an English-speaking customer of an English account */
    char *ev = event("acc-1", "conv-4", "active", "m4", roko, "",
                     ",\"preferences\":{\"language\":\"en\"}");
    ev = realloc(ev, strlen(ev) + 1);
    r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_OK);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
    run_free(&r);
    free(ev);
    /* acc-hi's locale hi applies without a preference */
    cr_assert_eq(omni_optout_set(e, "acc-hi", "cust-1", 0, NULL, NULL, NULL), OMNI_OK);
    r = ok_run(e, p, "acc-hi", "conv-5", "active", "m5", roko, "", "");
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_out", "%s", r.text);
    cr_assert_str_eq(response(&r), "STOP hi");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_optout, not_for_outbound_or_automatic_messages)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "active", "m1", "STOP",
                       ",\"direction\":\"outbound\"", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
    run_free(&r);
    r = ok_run(e, p, "acc-1", "conv-1", "active", "m2", "STOP", ",\"senderType\":\"bot\"", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "optOut"));
    run_free(&r);
    char *rec = NULL;
    size_t n;
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-1"), OMNI_OK);
    cr_assert(strstr(rec, "opted_in"));
    omni_free(rec);
    omni_engine_free(e);
    omni_preroute_free(p);
}

/* ---- the ledger ----------------------------------------------------------------------------- */

Test(preroute_ledger, get_set_and_marketing_state)
{
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    char *rec = NULL;
    size_t n = 0;
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-9"), OMNI_OK);
    cr_assert_str_eq(rec, "{\"accountId\":\"acc-1\",\"customerId\":\"cust-9\","
                          "\"status\":\"opted_in\"}");
    cr_assert_eq(n, strlen(rec));
    omni_free(rec);
    int changed = -1;
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-9", 1, "import", "whatsapp", &changed),
                 OMNI_OK);
    cr_assert_eq(changed, 1);
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-9", 1, NULL, NULL, &changed), OMNI_OK);
    cr_assert_eq(changed, 0);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-9"), OMNI_OK);
    cJSON *d = cJSON_Parse(rec);
    cr_assert_str_eq(sget(d, "status", NULL), "opted_out");
    cr_assert_str_eq(sget(d, "keyword", NULL), "import");
    cr_assert_str_eq(sget(d, "channel", NULL), "whatsapp");
    cr_assert_str_eq(sget(d, "updatedAt", NULL), "2026-03-09T15:00:00.000Z");
    cJSON_Delete(d);
    omni_free(rec);
    /* another account keeps its own record */
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-2", "cust-9"), OMNI_OK);
    cr_assert(strstr(rec, "opted_in"));
    omni_free(rec);
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-9", 0, NULL, NULL, NULL), OMNI_OK);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-9"), OMNI_OK);
    d = cJSON_Parse(rec);
    cr_assert_str_eq(sget(d, "status", NULL), "opted_in");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "keyword")));
    cJSON_Delete(d);
    omni_free(rec);
    /* setting opted_in on a customer never seen changes nothing */
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-new", 0, NULL, NULL, &changed), OMNI_OK);
    cr_assert_eq(changed, 0);
    omni_engine_free(e);
}

Test(preroute_ledger, invalid_arguments)
{
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    char *rec = (char *)1;
    size_t n;
    char long_id[300];
    memset(long_id, 'x', 257);
    long_id[257] = '\0';
    cr_assert_eq(omni_optout_get(NULL, &n, e, "a", "c"), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, NULL, "a", "c"), OMNI_EINVAL);
    cr_assert_null(rec);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "", "c"), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "a", ""), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, e, NULL, "c"), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "a/b", "c"), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, e, long_id, "c"), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "a", long_id), OMNI_EINVAL);
    cr_assert_eq(omni_optout_get(&rec, &n, e, "a", "\xff"), OMNI_EINVAL);
    cr_assert_eq(omni_optout_set(NULL, "a", "c", 1, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_optout_set(e, "", "c", 1, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_optout_set(e, "a", long_id, 1, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_optout_set(e, "a", "c", 1, long_id, NULL, NULL), OMNI_EINVAL);
    long_id[256] = '\0';
    cr_assert_eq(omni_optout_set(e, "a", long_id, 1, NULL, NULL, NULL), OMNI_OK);
    omni_engine_free(e);
}

/* ---- spam, rules, priority ----------------------------------------------------------------- */

Test(preroute_run, spam_and_blocked_sender_are_blocked)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "conv-1", "new", "m1", "get free money now", "", "");
    cr_assert_str_eq(action(&r), "block", "%s", r.text);
    cr_assert_str_eq(dest(&r), "blocked");
    cr_assert_eq(priority(&r), 0);
    cr_assert(has_tag(&r, "blocked") && has_tag(&r, "spam"));
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "terminate");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.doc, "nextSteps")), 0);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    run_free(&r);
    r = ok_run(e, p, "acc-1", "conv-1", "new", "m2", "hello",
               ",\"from\":\"+15550000666\"", "");
    cr_assert_str_eq(action(&r), "block", "%s", r.text);
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_rules, destinations_tags_escalate_block_priority)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    /* VIP: the rule's queue, +30 */
    run_out r = ok_run(e, p, "acc-1", "c1", "active", "m1", "hello", "",
                       ",\"profile\":{\"tags\":[\"vip\"]}");
    cr_assert_str_eq(dest(&r), "vip-support");
    cr_assert_eq(priority(&r), 80);
    cr_assert(has_tag(&r, "vip"));
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.doc,
                                                                             "matchedRules"), 0);
    cr_assert(cJSON_IsString(first));
    cr_assert_str_eq(first->valuestring, "vip");
    run_free(&r);
    /* billing intent */
    r = ok_run(e, p, "acc-1", "c2", "active", "m2", "I want a refund for my invoice", "", "");
    cr_assert_str_eq(dest(&r), "billing-team", "%s", r.text);
    cr_assert(has_tag(&r, "billing-inquiry") && has_tag(&r, "billing"));
    cr_assert_str_eq(action(&r), "queue");
    run_free(&r);
    /* escalate */
    r = ok_run(e, p, "acc-1", "c3", "active", "m3", "my lawyer mentions a lawsuit", "", "");
    cr_assert_str_eq(action(&r), "escalate");
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "pushNotification");
    run_free(&r);
    /* block rule */
    r = ok_run(e, p, "acc-1", "c4", "active", "m4", "BLOCKME please", "", "");
    cr_assert_str_eq(action(&r), "block");
    cr_assert_str_eq(dest(&r), "blocked");
    cr_assert_str_eq(sget(r.doc, "nextStep", NULL), "terminate");
    run_free(&r);
    /* set_priority replaces the computed one */
    r = ok_run(e, p, "acc-1", "c5", "active", "m5", "outage here", "", "");
    cr_assert_eq(priority(&r), 100);
    cr_assert_str_eq(sget(cJSON_GetObjectItemCaseSensitive(r.doc, "routingDecision"),
                          "priorityLevel", NULL),
                     "urgent");
    run_free(&r);
    /* an agent as default destination: action route */
    r = ok_run(e, p, "acc-ack", "c6", "active", "m6", "hello", ",\"direction\":\"outbound\"", "");
    cr_assert_str_eq(action(&r), "route");
    cr_assert_str_eq(dest(&r), "agent-7");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_rules, priority_from_urgency_sentiment_and_vip)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "c1", "active", "m1", "Please call me ASAP!", "", "");
    cr_assert_eq(priority(&r), 70, "%s", r.text);
    cr_assert(has_tag(&r, "urgent"));
    cr_assert_str_eq(sget(cJSON_GetObjectItemCaseSensitive(r.doc, "routingDecision"),
                          "priorityLevel", NULL),
                     "high");
    run_free(&r);
    /* a word containing an urgency word is not one */
    r = ok_run(e, p, "acc-1", "c1", "active", "m2", "the urgently-needed asaparagus", "", "");
    cr_assert_eq(priority(&r), 50, "%s", r.text);
    run_free(&r);
    r = ok_run(e, p, "acc-1", "c1", "active", "m3",
               "This is terrible, I am very angry and the service is awful", "", "");
    cr_assert(has_tag(&r, "negative_sentiment"), "%s", r.text);
    cr_assert_eq(priority(&r), 65);
    run_free(&r);
    r = ok_run(e, p, "acc-1", "c1", "active", "m4",
               "URGENT: this is terrible, I am very angry and the service is awful", "",
               ",\"profile\":{\"tags\":[\"VIP\"]}");
    cr_assert_eq(priority(&r), 100, "%s", r.text);
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

/* ---- auto-responder ----------------------------------------------------------------------- */

Test(preroute_auto, greeting_away_acknowledgment_custom)
{
    omni_preroute *p = compile_base();
    omni_engine *open = engine_at(OPEN_TIME, NULL, NULL);
    omni_engine *closed = engine_at(CLOSED_TIME, NULL, NULL);
    run_out r = ok_run(closed, p, "acc-1", "c1", "new", "m1", "hello", "", "");
    cr_assert_str_eq(response_type(&r), "away");
    cr_assert_str_eq(response(&r), "We are closed. <b>Back at 9</b>"); /* no HTML escaping */
    run_free(&r);
    /* active conversation, acknowledgment disabled: routed, nothing sent */
    r = ok_run(open, p, "acc-1", "c2", "active", "m2", "hello", "", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    cr_assert_str_eq(action(&r), "queue");
    run_free(&r);
    /* acknowledgment enabled (acc-ack) */
    r = ok_run(open, p, "acc-ack", "c3", "active", "m3", "hello", "", "");
    cr_assert_str_eq(response_type(&r), "acknowledgment");
    cr_assert_str_eq(response(&r), "Got it.");
    run_free(&r);
    /* a rule's auto_respond */
    r = ok_run(open, p, "acc-1", "c4", "active", "m4", "I have a promo code", "", "");
    cr_assert_str_eq(response_type(&r), "custom");
    cr_assert_str_eq(response(&r), "Promo noted for cust-1.");
    run_free(&r);
    /* acc-hi is open (12:30 in Asia/Kolkata) when New York is closed; the
     * greeting in the customer's language */
    r = ok_run(closed, p, "acc-hi", "c5", "new", "m5", "hello", "",
               ",\"preferences\":{\"language\":\"hi-IN\"}");
    cr_assert_str_eq(response_type(&r), "greeting", "%s", r.text);
    cr_assert_str_eq(sget(r.doc, "autoResponse", "language"), "hi", "%s", r.text);
    run_free(&r);
    /* the customer's preference wins */
    r = ok_run(closed, p, "acc-hi", "c6", "new", "m6", "hello", "",
               ",\"preferences\":{\"language\":\"en-US\"}");
    cr_assert_str_eq(sget(r.doc, "autoResponse", "language"), "en");
    run_free(&r);
    omni_engine_free(open);
    omni_engine_free(closed);
    omni_preroute_free(p);
}

Test(preroute_auto, once_per_window_and_retries)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", "", "");
    cr_assert_str_eq(response_type(&r), "greeting");
    run_free(&r);
    r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", "", ""); /* retry */
    cr_assert_str_eq(response_type(&r), "greeting");
    run_free(&r);
    r = ok_run(e, p, "acc-1", "c1", "new", "m2", "hello again", "", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    cr_assert_str_eq(action(&r), "queue");
    run_free(&r);
    omni_engine_free(e);
    /* an hour later (windowSeconds 3600) it may answer again: same store? a
     * fresh engine has a fresh memory store, so use acc-ack with window 0 */
    e = engine_at(OPEN_TIME, NULL, NULL);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof(id), "m%d", i);
        r = ok_run(e, p, "acc-ack", "c9", "active", id, "hello", "", "");
        cr_assert_str_eq(response_type(&r), "acknowledgment");
        run_free(&r);
    }
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_auto, window_expires)
{
    char path[] = "/tmp/omni-preroute-XXXXXX";
    cr_assert(mkdtemp(path));
    char uri[128];
    snprintf(uri, sizeof(uri), "sqlite:%s/db", path);
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, uri);
    run_out r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", "", "");
    cr_assert_str_eq(response_type(&r), "greeting");
    run_free(&r);
    omni_engine_free(e);
    e = engine_at("2026-03-09T15:59:59Z", NULL, uri);
    r = ok_run(e, p, "acc-1", "c1", "new", "m2", "hello", "", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    run_free(&r);
    omni_engine_free(e);
    e = engine_at("2026-03-09T16:00:01Z", NULL, uri);
    r = ok_run(e, p, "acc-1", "c1", "new", "m3", "hello", "", "");
    cr_assert_str_eq(response_type(&r), "greeting");
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
    cr_assert_eq(system(cmd), 0);
}

static void guarded(const char *msg_extra, const char *ident_extra)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", msg_extra, ident_extra);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"), "%s%s: %s",
                   msg_extra, ident_extra, r.text);
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

static void unguarded(const char *msg_extra)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    run_out r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", msg_extra, "");
    cr_assert_str_eq(response_type(&r), "greeting", "%s", msg_extra);
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_auto, loop_guard)
{
    guarded(",\"direction\":\"outbound\"", "");
    guarded(",\"senderType\":\"bot\"", "");
    guarded(",\"senderType\":\"agent\"", "");
    guarded("", ",\"customerType\":\"bot\"");
    guarded(",\"autoResponse\":true", "");
    guarded(",\"metadata\":{\"autoSubmitted\":true}", "");
    guarded(",\"metadata\":{\"autoSubmitted\":\"auto-replied\"}", "");
    guarded(",\"headers\":{\"Auto-Submitted\":\"auto-generated\"}", "");
    guarded(",\"metadata\":{\"headers\":{\"precedence\":\"bulk\"}}", "");
    guarded(",\"headers\":{\"Precedence\":\"auto_reply\"}", "");
    guarded(",\"headers\":{\"X-Autoreply\":\"yes\"}", "");
    unguarded(",\"headers\":{\"Auto-Submitted\":\"no\"}");
    unguarded(",\"metadata\":{\"autoSubmitted\":false}");
    unguarded(",\"direction\":\"inbound\",\"senderType\":\"customer\"");
    unguarded(",\"headers\":{\"Precedence\":\"first-class\"}");
    /* no conversation id: no window, no answer */
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    const char *ev = "{\"routing\":{\"accountId\":\"acc-1\"},\"conversation\":{\"status\":\"new\"},"
                     "\"message\":{\"content\":\"hello\"}}";
    run_out r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_OK);
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"));
    run_free(&r);
    omni_engine_free(e);
    omni_preroute_free(p);
}

/* Business hours in America/New_York across the spring-forward of
 * 2026-03-08 (clocks go from 02:00 EST to 03:00 EDT): 13:30Z is 09:30 EDT
 * (open) on that Sunday, but 08:30 EST (closed) the day before. */
/* An opted-out customer gets no greeting, away message or acknowledgment
 * (only the opt-out confirmation), whether the ledger or the customer's
 * preferences say so; after START the greeting comes back. */
Test(preroute_auto, nothing_for_opted_out_customers)
{
    omni_preroute *p = compile_base();
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    int changed = 0;
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-1", 1, "STOP", "sms", &changed), OMNI_OK);
    cr_assert_eq(changed, 1);
    run_out r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", "", "");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r.doc, "autoResponse"), "%s", r.text);
    cr_assert_str_eq(action(&r), "queue"); /* the message itself still reaches agents */
    run_free(&r);
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-1", 0, NULL, NULL, &changed), OMNI_OK);
    r = ok_run(e, p, "acc-1", "c2", "new", "m2", "hello", "", "");
    cr_assert_str_eq(response_type(&r), "greeting", "%s", r.text);
    run_free(&r);
    omni_engine_free(e);
    guarded("", ",\"preferences\":{\"optOutStatus\":true}");
    omni_preroute_free(p);
}

Test(preroute_auto, business_hours_across_dst_and_holidays)
{
    struct {
        const char *when, *type;
    } cases[] = {
        {"2026-03-07T13:30:00Z", "away"},     /* Sat 08:30 EST */
        {"2026-03-07T14:30:00Z", "greeting"}, /* Sat 09:30 EST */
        {"2026-03-08T12:30:00Z", "away"},     /* Sun 08:30 EDT */
        {"2026-03-08T13:30:00Z", "greeting"}, /* Sun 09:30 EDT */
        {"2026-03-08T20:59:00Z", "greeting"}, /* Sun 16:59 EDT */
        {"2026-03-08T21:00:00Z", "away"},     /* Sun 17:00 EDT */
        {"2026-12-25T16:00:00Z", "away"},     /* 11:00 EST on a holiday */
        {"2026-12-26T16:00:00Z", "greeting"},
    };
    omni_preroute *p = compile_base();
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        omni_engine *e = engine_at(cases[i].when, NULL, NULL);
        run_out r = ok_run(e, p, "acc-1", "c1", "new", "m1", "hello", "", "");
        cr_assert_str_eq(response_type(&r), cases[i].type, "%s: %s", cases[i].when, r.text);
        run_free(&r);
        omni_engine_free(e);
    }
    omni_preroute_free(p);
}

/* ---- races ------------------------------------------------------------------------------ */

typedef struct racer {
    omni_engine *e;
    const omni_preroute *p;
    int id;
    int answered;
    int rc;
    pthread_barrier_t *go;
} racer;

static void *race_one(void *arg)
{
    racer *r = arg;
    char id[16];
    snprintf(id, sizeof(id), "m-%d", r->id);
    char *ev = NULL;
    int n = asprintf(&ev,
                     "{\"conversation\":{\"conversationId\":\"conv-race\",\"status\":\"new\"},"
                     "\"messageState\":{\"messageId\":\"%s\"},\"routing\":{\"accountId\":"
                     "\"acc-1\"},\"identity\":{\"customerId\":\"c\"},\"message\":{\"content\":"
                     "\"hello\"}}",
                     id);
    if (n < 0)
        return NULL;
    pthread_barrier_wait(r->go);
    char *out = NULL;
    size_t len;
    r->rc = omni_preroute_run(&out, &len, r->e, r->p, ev, strlen(ev));
    r->answered = out && strstr(out, "\"autoResponse\":{\"enabled\":true") != NULL;
    omni_free(out);
    free(ev);
    return NULL;
}

static void race(omni_engine **engines, size_t n_engines, int threads)
{
    omni_preroute *p = compile_base();
    pthread_t t[16];
    racer rs[16];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        rs[i] = (racer){engines[(size_t)i % n_engines], p, i, 0, 0, &go};
        pthread_create(&t[i], NULL, race_one, &rs[i]);
    }
    int answered = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(rs[i].rc, OMNI_OK, "%d", rs[i].rc);
        answered += rs[i].answered;
    }
    cr_assert_eq(answered, 1, "%d auto-responses", answered);
    pthread_barrier_destroy(&go);
    omni_preroute_free(p);
}

Test(preroute_race, threads_on_one_engine_answer_once)
{
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    for (int round = 0; round < 5; round++) {
        omni_engine_free(e);
        e = engine_at(OPEN_TIME, NULL, NULL);
        race(&e, 1, 8);
    }
    omni_engine_free(e);
}

Test(preroute_race, two_engines_on_one_sqlite_file_answer_once, .timeout = 60)
{
    for (int round = 0; round < 3; round++) {
        char path[] = "/tmp/omni-preroute-XXXXXX";
        cr_assert(mkdtemp(path));
        char uri[128];
        snprintf(uri, sizeof(uri), "sqlite:%s/db", path);
        omni_engine *es[2] = {engine_at(OPEN_TIME, NULL, uri), engine_at(OPEN_TIME, NULL, uri)};
        race(es, 2, 6);
        omni_engine_free(es[0]);
        omni_engine_free(es[1]);
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
        cr_assert_eq(system(cmd), 0);
    }
}

/* ---- the analyzer hook -------------------------------------------------------------------- */

typedef struct hook_ctx {
    const char *answer; /* NULL: keep the built-in result */
    int fail;
    int calls;
    char request[512];
} hook_ctx;

static int test_hook(void *ctx, const char *req, size_t req_len, const char *builtin,
                     size_t builtin_len, char **out, size_t *out_len)
{
    hook_ctx *h = ctx;
    h->calls++;
    snprintf(h->request, sizeof(h->request), "%.*s", (int)req_len, req);
    cr_assert(builtin_len > 0 && builtin[0] == '{');
    *out = NULL;
    if (h->fail)
        return omni_error_set(OMNI_EHOOK, "model service unavailable", 1);
    if (h->answer) {
        size_t n = strlen(h->answer);
        *out = omni_malloc(n + 1);
        memcpy(*out, h->answer, n + 1);
        *out_len = n;
    }
    return OMNI_OK;
}

static run_out hook_run(hook_ctx *h, const char *content)
{
    omni_analyzer_hook hook = OMNI_ANALYZER_HOOK_INIT;
    hook.ctx = h;
    hook.analyze = test_hook;
    omni_engine *e = engine_at(OPEN_TIME, &hook, NULL);
    omni_preroute *p = compile_base();
    char *ev = event("acc-1", "c1", "active", "m1", content, "",
                     ",\"preferences\":{\"language\":\"en\"}");
    run_out r = run(e, p, ev);
    free(ev);
    omni_engine_free(e);
    omni_preroute_free(p);
    return r;
}

Test(preroute_hook, replaces_sentiment)
{
    hook_ctx h = {"{\"sentiment\":\"negative\",\"sentimentScore\":-0.9}", 0, 0, ""};
    run_out r = hook_run(&h, "hello there");
    cr_assert_eq(r.rc, OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(h.calls, 1);
    cr_assert(strstr(h.request, "\"content\":\"hello there\""), "%s", h.request);
    cr_assert(strstr(h.request, "\"language\":\"en\""), "%s", h.request);
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(r.doc, "contentAnalysis");
    cr_assert_str_eq(sget(ca, "sentiment", NULL), "negative");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(ca, "sentimentScore")->valuedouble, -0.9);
    cr_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(ca, "spam"))); /* kept */
    cr_assert_eq(priority(&r), 65);
    cr_assert(has_tag(&r, "negative_sentiment"));
    run_free(&r);
}

Test(preroute_hook, adds_intents_that_rules_see)
{
    hook_ctx h = {"{\"intent\":[\"billing\"],\"custom\":1}", 0, 0, ""};
    run_out r = hook_run(&h, "hello there");
    cr_assert_eq(r.rc, OMNI_OK);
    cr_assert_str_eq(dest(&r), "billing-team", "%s", r.text);
    run_free(&r);
}

Test(preroute_hook, null_keeps_the_builtin_result)
{
    hook_ctx h = {NULL, 0, 0, ""};
    run_out r = hook_run(&h, "hello there");
    cr_assert_eq(r.rc, OMNI_OK);
    cr_assert_eq(h.calls, 1);
    cr_assert_eq(priority(&r), 50);
    run_free(&r);
}

Test(preroute_hook, failure_fails_the_run)
{
    hook_ctx h = {NULL, 1, 0, ""};
    run_out r = hook_run(&h, "hello there");
    cr_assert_eq(r.rc, OMNI_EHOOK);
    cr_assert_str_eq(omni_error_last_message(), "model service unavailable");
    cr_assert_null(r.text);
}

static void hook_invalid(const char *answer, const char *member)
{
    hook_ctx h = {answer, 0, 0, ""};
    run_out r = hook_run(&h, "hello there");
    cr_assert_eq(r.rc, OMNI_EHOOK, "%s", answer);
    if (member)
        cr_assert(strstr(omni_error_last_message(), member), "%s: %s", answer,
                  omni_error_last_message());
}

Test(preroute_hook, invalid_members_fail)
{
    hook_invalid("{\"sentiment\":\"angry\"}", "sentiment");
    hook_invalid("{\"spam\":\"no\"}", "spam");
    hook_invalid("{\"intent\":\"billing\"}", "intent");
    hook_invalid("{\"intent\":[1]}", "intent");
    hook_invalid("{\"entities\":[{\"type\":\"email\"}]}", "entities");
    hook_invalid("{\"entities\":{}}", "entities");
    hook_invalid("{\"language\":null}", "language");
    hook_invalid("[]", "object");
    hook_invalid("not json", "JSON");
}

Test(preroute_hook, not_called_for_keyword_messages)
{
    hook_ctx h = {NULL, 1, 0, ""};
    run_out r = hook_run(&h, "STOP");
    cr_assert_eq(r.rc, OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(h.calls, 0);
    cr_assert_str_eq(sget(r.doc, "optOut", "status"), "opted_out");
    run_free(&r);
}

/* ---- store and template failures ----------------------------------------------------- */

typedef struct bad_store {
    int fail_get;
    char *junk; /* a value get hands back when set */
} bad_store;

static int bs_get(void *ctx, const char *ns, const char *key, int64_t now, char **value,
                  size_t *len, uint64_t *version, int64_t *exp)
{
    bad_store *b = ctx;
    (void)ns, (void)key, (void)now, (void)exp;
    if (b->fail_get)
        return omni_error_set(OMNI_ESTORAGE, "disk on fire", 1);
    if (b->junk) {
        size_t n = strlen(b->junk);
        *value = omni_malloc(n + 1);
        memcpy(*value, b->junk, n + 1);
        *len = n;
        *version = 3;
        return OMNI_OK;
    }
    return OMNI_ENOTFOUND;
}

static int bs_put(void *ctx, const char *ns, const char *key, const char *value, size_t len,
                  uint64_t expected, int64_t exp, int64_t now, uint64_t *nv)
{
    (void)ctx, (void)ns, (void)key, (void)value, (void)len, (void)expected, (void)exp, (void)now,
        (void)nv;
    return omni_error_set(OMNI_ESTORAGE, "disk full", 1);
}

static int bs_del(void *ctx, const char *ns, const char *key, uint64_t v, int64_t now)
{
    (void)ctx, (void)ns, (void)key, (void)v, (void)now;
    return OMNI_ENOTFOUND;
}

static int bs_list(void *ctx, const char *ns, const char *prefix, const char *after, size_t limit,
                   int64_t now, omni_store_list_cb cb, void *cb_ctx, char **next)
{
    (void)ctx, (void)ns, (void)prefix, (void)after, (void)limit, (void)now, (void)cb,
        (void)cb_ctx;
    *next = NULL;
    return OMNI_OK;
}

static omni_engine *bad_engine(bad_store *b)
{
    omni_storage_hook sh = OMNI_STORAGE_HOOK_INIT;
    sh.ctx = b;
    sh.get = bs_get;
    sh.put = bs_put;
    sh.del = bs_del;
    sh.list = bs_list;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.storage = &sh;
    omni_engine *e = NULL;
    static const char cfg[] = "{\"clock\":{\"fixed\":\"" OPEN_TIME "\"}}";
    cr_assert_eq(omni_engine_new(&e, cfg, sizeof(cfg) - 1, &hooks), OMNI_OK, "%s",
                 omni_error_last_message());
    return e;
}

Test(preroute_run, store_failures_fail_the_run_retryably)
{
    omni_preroute *p = compile_base();
    bad_store b = {0, NULL};
    omni_engine *e = bad_engine(&b);
    char *ev = event("acc-1", "c1", "new", "m1", "STOP", "", "");
    run_out r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_ESTORAGE, "%d %s", r.rc, omni_error_last_message());
    cr_assert(omni_error_last_retryable());
    free(ev);
    ev = event("acc-1", "c1", "new", "m1", "hello", "", ""); /* a greeting is due */
    r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_ESTORAGE);
    free(ev);
    /* nothing to write: no store access at all */
    b.fail_get = 1;
    ev = event("acc-1", "c1", "active", "m2", "hello", "", "");
    r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_OK, "%s", omni_error_last_message());
    run_free(&r);
    free(ev);
    char *rec = NULL;
    size_t n;
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-1"), OMNI_ESTORAGE);
    cr_assert_eq(omni_optout_set(e, "acc-1", "cust-1", 1, NULL, NULL, NULL), OMNI_ESTORAGE);
    /* a record that is not the ledger's */
    b.fail_get = 0;
    b.junk = "{\"status\":\"maybe\"}";
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-1"), OMNI_ESTORAGE);
    cr_assert(!omni_error_last_retryable());
    b.junk = "[not json";
    cr_assert_eq(omni_optout_get(&rec, &n, e, "acc-1", "cust-1"), OMNI_ESTORAGE);
    omni_engine_free(e);
    omni_preroute_free(p);
}

Test(preroute_run, template_render_errors)
{
    const char *cfg = "{\"defaults\":{\"autoResponses\":{\"greeting\":{\"templateId\":\"g\"}}},"
                      "\"templates\":{\"g\":{\"en\":\"{{nosuchhelper identity.customerId}}\"}}}";
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, cfg, strlen(cfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    char *ev = event("acc-1", "c1", "new", "m1", "hello", "", "");
    run_out r = run(e, p, ev);
    cr_assert_eq(r.rc, OMNI_EHELPER, "%d", r.rc);
    cr_assert(strstr(omni_error_last_message(), "\"g\""), "%s", omni_error_last_message());
    free(ev);
    /* nothing was recorded: with a working template the greeting is sent */
    omni_preroute_free(p);
    omni_engine_free(e);
}

Test(preroute_config, accounts_inherit_and_override_the_defaults)
{
    const char *cfg =
        "{\"defaults\":{\"defaultDestination\":{\"type\":\"queue\",\"id\":\"main\"},"
        "\"rules\":[{\"id\":\"r\",\"conditions\":[],\"actions\":[{\"type\":\"add_tag\","
        "\"tag\":\"seen\"}]}]},"
        "\"accounts\":[{\"accountId\":\"a\"},{\"accountId\":\"b\",\"rules\":[]},"
        "{\"accountId\":\"c\",\"timeZone\":\"Europe/Berlin\"}]}";
    omni_preroute *p = NULL;
    cr_assert_eq(omni_preroute_compile(&p, cfg, strlen(cfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_engine *e = engine_at(OPEN_TIME, NULL, NULL);
    const char *accs[] = {"a", "b", "c", "unlisted"};
    const int seen[] = {1, 0, 1, 1};
    for (int i = 0; i < 4; i++) {
        run_out r = ok_run(e, p, accs[i], "c1", "active", "m1", "hello", "", "");
        cr_assert_eq(has_tag(&r, "seen"), seen[i], "%s: %s", accs[i], r.text);
        cr_assert_str_eq(dest(&r), "main");
        run_free(&r);
    }
    omni_engine_free(e);
    omni_preroute_free(p);
}
