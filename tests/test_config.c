/* Tests of the engine configuration (omni/config.h): the full document of
 * tests/data/config/full.json and everything compiled from it (inbound
 * verification per account, pre-routing in the account's language,
 * outbound providers, the workflow), every kind of error with its JSON
 * path (and a document with five errors reporting all five), the limits,
 * secrets never echoed, secrets from the environment, apply on a memory
 * store and an SQLite file (idempotent), a failing store, and the
 * accessors. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <omni/config.h>
#include <omni/omni.h>

#include "test_files.h"

/* ---- helpers ------------------------------------------------------------------------ */

static char *full_text(size_t *len)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    cr_assert_not_null(src, "OMNI_SOURCE_DIR is not set");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/config/full.json", src);
    size_t n = 0;
    char *t = test_read_file(path, &n);
    cr_assert_not_null(t, "cannot read %s", path);
    if (len)
        *len = n;
    return t;
}

static cJSON *full_doc(void)
{
    char *t = full_text(NULL);
    cJSON *d = cJSON_Parse(t);
    free(t);
    cr_assert_not_null(d);
    return d;
}

static char *print(const cJSON *d)
{
    char *s = cJSON_PrintUnformatted(d);
    cr_assert_not_null(s);
    return s;
}

static omni_config *new_ok(const char *json)
{
    omni_config *cfg = NULL;
    int rc = omni_config_new(&cfg, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "omni_config_new: %d %s %s", rc, omni_error_last_message(),
                 omni_error_last()->details ? omni_error_last()->details : "");
    cr_assert_not_null(cfg);
    return cfg;
}

static omni_config *full_config(void)
{
    char *t = full_text(NULL);
    omni_config *cfg = new_ok(t);
    free(t);
    return cfg;
}

static omni_engine *engine_at(const char *now)
{
    char cfg[200];
    snprintf(cfg, sizeof(cfg), "{\"clock\":{\"fixed\":\"%s\"}}", now);
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), NULL), OMNI_OK);
    return e;
}

/* The details' errors of a failed omni_config_new (ECONFIG). */
static cJSON *errors_of_new(const char *json, int *count)
{
    omni_config *cfg = (omni_config *)1;
    int rc = omni_config_new(&cfg, json, strlen(json));
    cr_assert_eq(rc, OMNI_ECONFIG, "expected INVALID_CONFIG, got %d (%s) for %s", rc,
                 omni_error_last_message(), json);
    cr_assert_null(cfg);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_CONFIG");
    const char *details = omni_error_last()->details;
    cr_assert_not_null(details);
    cJSON *d = cJSON_Parse(details);
    cr_assert_not_null(d);
    cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "count");
    cr_assert(cJSON_IsNumber(c));
    *count = c->valueint;
    cJSON *errs = cJSON_DetachItemFromObjectCaseSensitive(d, "errors");
    const char *first = cJSON_GetObjectItemCaseSensitive(d, "path")->valuestring;
    cr_assert_str_eq(first, cJSON_GetArrayItem(errs, 0)->child->valuestring);
    cr_assert(strstr(omni_error_last_message(), first), "%s", omni_error_last_message());
    cJSON_Delete(d);
    return errs;
}

/* The check result of a document. */
static cJSON *check(const char *json)
{
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_config_check(&out, &n, json, strlen(json)), OMNI_OK);
    cr_assert_eq(strlen(out), n);
    cJSON *d = cJSON_Parse(out);
    cr_assert_not_null(d, "%s", out);
    omni_free(out);
    return d;
}

static const cJSON *find_error(const cJSON *errs, const char *path)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, errs)
    {
        const char *p = cJSON_GetObjectItemCaseSensitive(e, "path")->valuestring;
        if (strcmp(p, path) == 0)
            return e;
    }
    return NULL;
}

static void dump(const cJSON *errs, char *buf, size_t cap)
{
    char *s = cJSON_PrintUnformatted(errs);
    snprintf(buf, cap, "%s", s ? s : "?");
    free(s);
}

/* The document fails with an error at `path` (code `code`); with `only`
 * it is the only error. check() agrees. */
static void expect_error(const char *json, const char *path, const char *code, int only)
{
    int count = 0;
    cJSON *errs = errors_of_new(json, &count);
    char all[4096];
    dump(errs, all, sizeof(all));
    const cJSON *e = find_error(errs, path);
    cr_assert_not_null(e, "no error at %s for %s: %s", path, json, all);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring, code,
                     "%s: %s", path, all);
    const char *msg = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
    cr_assert(msg[0], "empty message at %s", path);
    if (only)
        cr_assert_eq(count, 1, "expected one error for %s: %s", json, all);
    cJSON *c = check(json);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "valid")));
    const cJSON *ce = cJSON_GetObjectItemCaseSensitive(c, "errors");
    cr_assert_not_null(find_error(ce, path), "check lacks %s", path);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "errorCount")->valueint, count);
    cJSON_Delete(c);
    cJSON_Delete(errs);
}

/* Sets a member of the full document (path of object members, "a.b.c";
 * value JSON text; NULL removes it) and returns the text. */
static char *full_with(const char *path, const char *value)
{
    cJSON *d = full_doc();
    cJSON *cur = d;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *save = NULL, *tok = strtok_r(buf, ".", &save);
    while (tok) {
        char *next = strtok_r(NULL, ".", &save);
        char *end = NULL;
        long idx = strtol(tok, &end, 10);
        int is_index = *end == '\0';
        if (!next) {
            if (is_index) {
                if (value)
                    cJSON_ReplaceItemInArray(cur, (int)idx, cJSON_Parse(value));
                else
                    cJSON_DeleteItemFromArray(cur, (int)idx);
            } else {
                cJSON_DeleteItemFromObjectCaseSensitive(cur, tok);
                if (value) {
                    cJSON *v = cJSON_Parse(value);
                    cr_assert_not_null(v, "bad value %s", value);
                    cJSON_AddItemToObject(cur, tok, v);
                }
            }
        } else {
            cur = is_index ? cJSON_GetArrayItem(cur, (int)idx)
                           : cJSON_GetObjectItemCaseSensitive(cur, tok);
            cr_assert_not_null(cur, "no %s in the full document", path);
        }
        tok = next;
    }
    char *s = print(d);
    cJSON_Delete(d);
    return s;
}

/* ---- the full document ---------------------------------------------------------- */

Test(config, full_document_compiles)
{
    omni_config *cfg = full_config();
    cr_assert_eq(omni_config_account_count(cfg), 2);
    cr_assert_str_eq(omni_config_account_id(cfg, 0), "acc-retail");
    cr_assert_str_eq(omni_config_account_id(cfg, 1), "acc-india");
    cr_assert_null(omni_config_account_id(cfg, 2));
    cr_assert_str_eq(omni_config_storage(cfg), "memory:");
    size_t n = 0;
    const char *t = omni_config_transport(cfg, &n);
    cr_assert_str_eq(t, "{\"type\":\"curl\",\"timeoutMs\":10000,\"connectTimeoutMs\":5000}");
    cr_assert_eq(n, strlen(t));
    const char *ej = omni_config_engine_json(cfg, &n);
    cr_assert_str_eq(ej, "{\"storage\":\"memory:\",\"transport\":{\"type\":\"curl\","
                         "\"timeoutMs\":10000,\"connectTimeoutMs\":5000}}");
    /* the engine JSON is what omni_engine_new takes */
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, ej, n, NULL), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_not_null(omni_engine_transport(e));
    omni_engine_free(e);
    const char *d = omni_config_delivery(cfg, &n);
    cJSON *dj = cJSON_Parse(d);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(dj, "retryPolicy"), "maxRetries")
                     ->valueint,
                 3);
    cJSON_Delete(dj);
    cr_assert_not_null(omni_config_preroute(cfg));
    cr_assert_not_null(omni_config_inbound(cfg, NULL));
    /* acc-india has carriers of its own; acc-retail and unknown accounts share */
    cr_assert_eq(omni_config_inbound(cfg, "acc-retail"), omni_config_inbound(cfg, NULL));
    cr_assert_eq(omni_config_inbound(cfg, "nobody"), omni_config_inbound(cfg, NULL));
    cr_assert_neq(omni_config_inbound(cfg, "acc-india"), omni_config_inbound(cfg, NULL));
    cr_assert_not_null(omni_config_outbound(cfg, "acc-retail"));
    cr_assert_not_null(omni_config_outbound(cfg, "acc-india"));
    cr_assert_neq(omni_config_outbound(cfg, "acc-retail"), omni_config_outbound(cfg, "acc-india"));
    cr_assert_null(omni_config_outbound(cfg, NULL)); /* no defaults.outbound */
    cr_assert_not_null(omni_config_push(cfg, "acc-retail"));
    cr_assert_null(omni_config_push(cfg, "acc-india"));
    omni_config_free(cfg);
}

Test(config, full_document_account_json)
{
    omni_config *cfg = full_config();
    size_t n = 0;
    const char *j = omni_config_account_json(cfg, "acc-india", &n);
    cr_assert_not_null(j);
    cr_assert_eq(strlen(j), n);
    cJSON *a = cJSON_Parse(j);
    cr_assert_not_null(a);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "accountId")->valuestring, "acc-india");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "businessUnitId")->valuestring,
                     "bu-india");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "tenantId")->valuestring, "tenant-2");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "timeZone")->valuestring,
                     "Asia/Kolkata");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "locale")->valuestring, "hi");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "createCustomers")));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "defaultRegion")->valuestring, "IN");
    /* "080 4567 8901" read with defaultRegion IN */
    cJSON *phones = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(a, "addresses"), "phoneNumbers");
    cr_assert_str_eq(cJSON_GetArrayItem(phones, 0)->valuestring, "+918045678901");
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(a, "routingKeys");
    cr_assert_eq(cJSON_GetArraySize(keys), 2);
    /* carriers: the account's bandwidth and the shared twilio, whatsapp */
    char *c = print(cJSON_GetObjectItemCaseSensitive(a, "carriers"));
    cr_assert_str_eq(c, "[\"bandwidth\",\"twilio\",\"whatsapp\"]");
    free(c);
    c = print(cJSON_GetObjectItemCaseSensitive(a, "outbound"));
    cr_assert_str_eq(c, "[\"bandwidth\"]");
    free(c);
    /* the account's own members and the defaults' */
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(a, "conversation"), "inactivityTimeoutMs")
                     ->valuedouble,
                 43200000);
    cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(a, "autoResponses"));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "rules"), 0), "id")
                         ->valuestring,
                     "refund-hi");
    cJSON_Delete(a);
    /* the retail account: defaults fill in */
    a = cJSON_Parse(omni_config_account_json(cfg, "acc-retail", NULL));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "timeZone")->valuestring,
                     "America/New_York");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(a, "locale")->valuestring, "en");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(a, "createCustomers")));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(a, "defaultRegion"));
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "push"), 0)
                         ->valuestring,
                     "webpush");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "routingKeys")), 5);
    cJSON_Delete(a);
    cr_assert_null(omni_config_account_json(cfg, "nobody", &n));
    cr_assert_eq(n, 0);
    cr_assert_eq(omni_error_last_status(), OMNI_ENOTFOUND);
    cr_assert_null(omni_config_account_json(cfg, NULL, NULL));
    cr_assert_eq(omni_error_last_status(), OMNI_EINVAL);
    omni_config_free(cfg);
}

Test(config, account_of_an_address)
{
    omni_config *cfg = full_config();
    static const struct {
        const char *key, *account;
    } cases[] = {
        {"+14155550100", "acc-retail"},
        {"+1 (415) 555-0100", "acc-retail"},
        {"whatsapp:+14155550100", "acc-retail"},
        {"shortcode:12345", "acc-retail"},
        {"mss:MG00000000000000000000000000000001", "acc-retail"},
        {"waba:106540352242922", "acc-retail"},
        {"waba:102290129340398", "acc-retail"},
        {"waba:109876543210987", "acc-india"},
        {"+91 80 4567 8901", "acc-india"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *a = omni_config_account(cfg, cases[i].key);
        cr_assert_not_null(a, "%s: %s", cases[i].key, omni_error_last_message());
        cr_assert_str_eq(a, cases[i].account, "%s", cases[i].key);
    }
    cr_assert_null(omni_config_account(cfg, "+14155550199"));
    cr_assert_eq(omni_error_last_status(), OMNI_ENOTFOUND);
    cr_assert_null(omni_config_account(cfg, "shortcode:99999"));
    cr_assert_eq(omni_error_last_status(), OMNI_ENOTFOUND);
    const char *bad[] = {"shortcode:12", "mss:", "waba:a b", "not a number", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_null(omni_config_account(cfg, bad[i]), "%s", bad[i]);
        cr_assert_eq(omni_error_last_status(), OMNI_EINVAL, "%s", bad[i]);
    }
    cr_assert_null(omni_config_account(cfg, NULL));
    cr_assert_eq(omni_error_last_status(), OMNI_EINVAL);
    cr_assert_null(omni_config_account(NULL, "+14155550100"));
    cr_assert_eq(omni_error_last_status(), OMNI_EINVAL);
    omni_config_free(cfg);
}

Test(config, full_document_check_summary)
{
    char *t = full_text(NULL);
    cJSON *c = check(t);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "valid")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "errors")), 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "errorCount")->valueint, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "accounts")->valueint, 2);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "addresses")->valueint, 7);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "templates")->valueint, 6);
    char *s = print(cJSON_GetObjectItemCaseSensitive(c, "carriers"));
    cr_assert_str_eq(s, "[\"bandwidth\",\"twilio\",\"whatsapp\"]");
    free(s);
    s = print(cJSON_GetObjectItemCaseSensitive(c, "outbound"));
    cr_assert_str_eq(s, "[\"bandwidth\",\"twilio\",\"whatsapp\"]");
    free(s);
    s = print(cJSON_GetObjectItemCaseSensitive(c, "push"));
    cr_assert_str_eq(s, "[\"webpush\"]");
    free(s);
    s = print(cJSON_GetObjectItemCaseSensitive(c, "steps"));
    cr_assert_str_eq(s, "[\"workFlowIdentityLookup\",\"workFlowBiDirectional\","
                        "\"workFlowPreRoute\",\"publishOutbound\",\"pushNotification\"]");
    free(s);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "storage")->valuestring, "memory:");
    /* the summary of the compiled configuration is the same document */
    omni_config *cfg = new_ok(t);
    cJSON *sum = cJSON_Parse(omni_config_summary(cfg, NULL));
    cr_assert(cJSON_Compare(sum, c, 1));
    cJSON_Delete(sum);
    omni_config_free(cfg);
    cJSON_Delete(c);
    free(t);
}

Test(config, workflow_steps)
{
    omni_config *cfg = full_config();
    cr_assert_eq(omni_config_step_count(cfg), 5);
    cr_assert_str_eq(omni_config_step_id(cfg, 2), "workFlowPreRoute");
    cr_assert_null(omni_config_step_id(cfg, 5));
    size_t n = 0;
    const char *s = omni_config_step(cfg, "workFlowPreRoute", &n);
    cr_assert_not_null(s);
    cr_assert_eq(strlen(s), n);
    cr_assert_str_eq(s, "{\"stepId\":\"workFlowPreRoute\",\"enabled\":true,\"timeout\":45000,"
                        "\"retryPolicy\":{\"maxRetries\":3,\"backoffMultiplier\":2,"
                        "\"maxBackoff\":15000,\"initialBackoff\":1000},\"conditions\":[],"
                        "\"nextSteps\":[{\"stepId\":\"publishOutbound\",\"condition\":"
                        "\"auto_response_enabled\"},{\"stepId\":\"pushNotification\","
                        "\"condition\":\"route_to_agent\"},{\"stepId\":\"terminate\","
                        "\"condition\":\"blocked\"}],\"options\":{}}");
    s = omni_config_step(cfg, "workFlowIdentityLookup", NULL);
    cr_assert(strstr(s, "\"options\":{\"brazilNinthDigit\":true}"), "%s", s);
    /* a step given with few members gets the defaults */
    s = omni_config_step(cfg, "pushNotification", NULL);
    cr_assert_str_eq(s, "{\"stepId\":\"pushNotification\",\"enabled\":true,\"timeout\":30000,"
                        "\"retryPolicy\":{\"maxRetries\":3,\"backoffMultiplier\":2,"
                        "\"maxBackoff\":10000,\"initialBackoff\":1000},\"conditions\":[],"
                        "\"nextSteps\":[],\"options\":{}}");
    cr_assert_null(omni_config_step(cfg, "terminate", &n));
    cr_assert_eq(n, 0);
    cr_assert_null(omni_config_step(cfg, NULL, NULL));
    cJSON *w = cJSON_Parse(omni_config_workflow(cfg, &n));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(w, "steps")), 5);
    cJSON_Delete(w);
    omni_config_free(cfg);
}

Test(config, default_workflow_is_the_seed_pipeline)
{
    omni_config *cfg = new_ok("{\"version\":1}");
    cr_assert_eq(omni_config_step_count(cfg), 5);
    const char *ids[] = {"workFlowIdentityLookup", "workFlowBiDirectional", "workFlowPreRoute",
                         "publishOutbound", "pushNotification"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(omni_config_step_id(cfg, i), ids[i]);
    /* seed 001 defaultStepConfigs */
    cJSON *s = cJSON_Parse(omni_config_step(cfg, "workFlowIdentityLookup", NULL));
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(s, "timeout")->valueint, 30000);
    cJSON *next = cJSON_GetObjectItemCaseSensitive(s, "nextSteps");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(next, 0), "stepId")
                         ->valuestring,
                     "workFlowBiDirectional");
    cJSON_Delete(s);
    s = cJSON_Parse(omni_config_step(cfg, "workFlowPreRoute", NULL));
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(s, "timeout")->valueint, 45000);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(s, "retryPolicy"), "maxBackoff")
                     ->valueint,
                 15000);
    next = cJSON_GetObjectItemCaseSensitive(s, "nextSteps");
    cr_assert_eq(cJSON_GetArraySize(next), 3);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(next, 2), "condition")
                         ->valuestring,
                     "blocked");
    cJSON_Delete(s);
    /* the smallest document: defaults everywhere */
    cr_assert_str_eq(omni_config_storage(cfg), "memory:");
    cr_assert_null(omni_config_transport(cfg, NULL));
    cr_assert_str_eq(omni_config_delivery(cfg, NULL), "{}");
    cr_assert_str_eq(omni_config_engine_json(cfg, NULL), "{\"storage\":\"memory:\"}");
    cr_assert_eq(omni_config_account_count(cfg), 0);
    cr_assert_not_null(omni_config_preroute(cfg));
    cr_assert_not_null(omni_config_inbound(cfg, NULL));
    cr_assert_null(omni_config_push(cfg, NULL));
    omni_config_free(cfg);
    /* a workflow that disables a step and ends early */
    cfg = new_ok("{\"version\":1,\"workflow\":{\"steps\":[{\"stepId\":\"workFlowPreRoute\","
                 "\"enabled\":false,\"conditions\":[\"always\"],\"nextSteps\":[{\"stepId\":"
                 "\"terminate\"}]}]}}");
    cr_assert_eq(omni_config_step_count(cfg), 1);
    cr_assert(strstr(omni_config_step(cfg, "workFlowPreRoute", NULL),
                     "\"enabled\":false,\"timeout\":45000"));
    cr_assert(strstr(omni_config_step(cfg, "workFlowPreRoute", NULL),
                     "\"nextSteps\":[{\"stepId\":\"terminate\",\"condition\":\"always\"}]"));
    omni_config_free(cfg);
}

/* ---- the compiled components do their work ---------------------------------------- */

static char *basic(const char *user, const char *pass)
{
    char raw[256], *b64 = NULL, *out = NULL;
    size_t n = 0;
    snprintf(raw, sizeof(raw), "%s:%s", user, pass);
    cr_assert_eq(omni_base64_encode(&b64, &n, raw, strlen(raw)), OMNI_OK);
    cr_assert(asprintf(&out, "Basic %s", b64) > 0);
    omni_free(b64);
    return out;
}

static int bandwidth_verify(const omni_inbound *in, const char *user, const char *pass)
{
    omni_webhook *req = NULL;
    cr_assert_eq(omni_webhook_new(&req, "POST", "/webhooks/bandwidth"), OMNI_OK);
    char *auth = basic(user, pass);
    cr_assert_eq(omni_webhook_add_header(req, "Host", "hooks.example.com"), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(req, "Authorization", auth), OMNI_OK);
    cr_assert_eq(omni_webhook_add_header(req, "Content-Type", "application/json"), OMNI_OK);
    cr_assert_eq(omni_webhook_set_body(req, "[]", 2), OMNI_OK);
    int rc = omni_inbound_verify(in, NULL, "bandwidth", req);
    free(auth);
    omni_webhook_free(req);
    return rc;
}

Test(config, inbound_per_account)
{
    omni_config *cfg = full_config();
    const omni_inbound *shared = omni_config_inbound(cfg, NULL);
    const omni_inbound *india = omni_config_inbound(cfg, "acc-india");
    cr_assert_eq(bandwidth_verify(shared, "bw-hooks", "bw-hook-secret-0004"), OMNI_OK);
    cr_assert_eq(bandwidth_verify(shared, "bw-india", "bw-india-secret-0007"), OMNI_ESIGNATURE);
    cr_assert_eq(bandwidth_verify(india, "bw-india", "bw-india-secret-0007"), OMNI_OK);
    cr_assert_eq(bandwidth_verify(india, "bw-hooks", "bw-hook-secret-0004"), OMNI_ESIGNATURE);
    omni_config_free(cfg);
}

static char *preroute_event(const char *account, const char *lang, const char *conv)
{
    char *out = NULL;
    cr_assert(asprintf(&out,
                       "{\"correlationId\":\"corr-%s\","
                       "\"conversation\":{\"conversationId\":\"%s\",\"status\":\"new\"},"
                       "\"messageState\":{\"messageId\":\"m-%s\",\"sequenceNumber\":1},"
                       "\"routing\":{\"accountId\":\"%s\",\"channel\":\"sms\"},"
                       "\"identity\":{\"customerId\":\"cust-%s\",\"customerType\":\"known\","
                       "\"profile\":{\"firstName\":\"Asha\"},"
                       "\"preferences\":{\"language\":\"%s\"}},"
                       "\"message\":{\"id\":\"m-%s\",\"content\":\"hello there\","
                       "\"contentType\":\"text\"}}",
                       conv, conv, conv, account, conv, lang, conv) > 0);
    return out;
}

static cJSON *run_preroute(omni_engine *e, const omni_config *cfg, const char *ev)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_preroute_run(&out, &n, e, omni_config_preroute(cfg), ev, strlen(ev));
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cJSON *d = cJSON_Parse(out);
    omni_free(out);
    return d;
}

Test(config, preroute_uses_accounts_and_templates)
{
    omni_config *cfg = full_config();
    /* Monday 2026-03-02 06:00Z: 11:30 in Kolkata (open), 01:00 in New York (closed) */
    omni_engine *e = engine_at("2026-03-02T06:00:00Z");
    char *ev = preroute_event("acc-india", "hi", "c1");
    cJSON *r = run_preroute(e, cfg, ev);
    cJSON *ar = cJSON_GetObjectItemCaseSensitive(r, "autoResponse");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ar, "responseType")->valuestring,
                     "greeting");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ar, "templateId")->valuestring,
                     "greeting");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ar, "language")->valuestring, "hi");
    const char *content = cJSON_GetObjectItemCaseSensitive(ar, "content")->valuestring;
    cr_assert(strstr(content, "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4"
                              "\xe0\xa5\x87 Asha!"),
              "%s", content); /* "नमस्ते Asha!" */
    cJSON_Delete(r);
    free(ev);
    /* Kannada */
    ev = preroute_event("acc-india", "kn", "c2");
    r = run_preroute(e, cfg, ev);
    ar = cJSON_GetObjectItemCaseSensitive(r, "autoResponse");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ar, "language")->valuestring, "kn");
    cJSON_Delete(r);
    free(ev);
    /* the retail account is closed at that hour: away, in English */
    ev = preroute_event("acc-retail", "en", "c3");
    r = run_preroute(e, cfg, ev);
    ar = cJSON_GetObjectItemCaseSensitive(r, "autoResponse");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ar, "responseType")->valuestring, "away");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(ar, "content")->valuestring,
                     "We are closed right now. We will answer when we open again.");
    cJSON_Delete(r);
    free(ev);
    /* the account's own rule */
    const char *refund =
        "{\"correlationId\":\"corr-r\",\"conversation\":{\"conversationId\":\"c4\",\"status\":"
        "\"active\"},\"routing\":{\"accountId\":\"acc-india\"},\"identity\":{\"customerId\":"
        "\"cust-9\"},\"message\":{\"id\":\"m9\",\"content\":\"I want a refund\","
        "\"contentType\":\"text\"}}";
    r = run_preroute(e, cfg, refund);
    cJSON *dest = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "routingDecision"), "destination");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(dest, "id")->valuestring, "refunds-in");
    cJSON_Delete(r);
    omni_engine_free(e);
    omni_config_free(cfg);
}

Test(config, outbound_per_account)
{
    omni_config *cfg = full_config();
    const char *ev = "{\"correlationId\":\"c-1\",\"messageType\":\"reply\","
                     "\"recipient\":{\"customerId\":\"u\",\"channelIdentifier\":\"+14155550123\","
                     "\"carrier\":\"twilio\",\"channel\":\"sms\"},"
                     "\"message\":{\"content\":\"hi\",\"contentType\":\"text\"},"
                     "\"routing\":{\"accountId\":\"acc-retail\",\"conversationId\":\"c\"}}";
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, omni_config_outbound(cfg, "acc-retail"), NULL, ev,
                                     strlen(ev), 1772431200000),
                 OMNI_OK, "%s", omni_error_last_message());
    cr_assert(strstr(omni_http_request_url(req), "/Accounts/AC00000000000000000000000000000001/"));
    omni_http_request_free(req);
    /* acc-india has no twilio provider */
    cr_assert_eq(omni_outbound_build(&req, omni_config_outbound(cfg, "acc-india"), NULL, ev,
                                     strlen(ev), 1772431200000),
                 OMNI_ECONFIG);
    omni_config_free(cfg);
}

/* ---- apply ---------------------------------------------------------------------------- */

static cJSON *apply(const omni_config *cfg, omni_engine *e)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_config_apply(&out, &n, cfg, e);
    cr_assert_eq(rc, OMNI_OK, "apply: %s", omni_error_last_message());
    cJSON *d = cJSON_Parse(out);
    cr_assert_not_null(d);
    omni_free(out);
    return d;
}

static void expect_counts(const cJSON *r, const char *what, int written, int unchanged)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, what);
    cr_assert_not_null(c, "%s", what);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "written")->valueint, written, "%s", what);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "unchanged")->valueint, unchanged, "%s",
                 what);
}

#define RAVI "{\"identity\":{\"profile\":{\"firstName\":\"Ravi\"}}}"

static void check_applied(omni_engine *e)
{
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_routing_get(&out, &n, e, "+14155550100"), OMNI_OK);
    cr_assert_str_eq(out, "{\"accountId\":\"acc-retail\",\"businessUnitId\":\"bu-retail\","
                          "\"tenantId\":\"tenant-1\",\"createCustomers\":false}");
    omni_free(out);
    cr_assert_eq(omni_routing_get(&out, &n, e, "waba:109876543210987"), OMNI_OK);
    cr_assert_str_eq(out, "{\"accountId\":\"acc-india\",\"businessUnitId\":\"bu-india\","
                          "\"tenantId\":\"tenant-2\",\"createCustomers\":true,"
                          "\"defaultRegion\":\"IN\"}");
    omni_free(out);
    cr_assert_eq(omni_conversation_settings_get(&out, &n, e, "acc-india"), OMNI_OK);
    cr_assert_str_eq(out, "{\"inactivityTimeoutMs\":43200000,\"dedupeWindowMs\":604800000}");
    omni_free(out);
    cr_assert_eq(omni_template_render_stored(&out, &n, e, "greeting", "kn", NULL, "sms",
                                             RAVI, strlen(RAVI)),
                 OMNI_OK, "%s", omni_error_last_message());
    cr_assert(strstr(out, "Ravi"), "%s", out);
    cr_assert(strstr(out, "\"locale\":\"kn\""), "%s", out);
    omni_free(out);
}

Test(config, apply_memory_is_idempotent)
{
    omni_config *cfg = full_config();
    omni_engine *e = engine_at("2026-03-02T06:00:00Z");
    cJSON *r = apply(cfg, e);
    expect_counts(r, "routing", 7, 0);
    expect_counts(r, "conversationSettings", 2, 0);
    expect_counts(r, "templates", 6, 0);
    cJSON_Delete(r);
    check_applied(e);
    r = apply(cfg, e);
    expect_counts(r, "routing", 0, 7);
    expect_counts(r, "conversationSettings", 0, 2);
    expect_counts(r, "templates", 0, 6);
    cJSON_Delete(r);
    /* the templates were not updated by the second run */
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_template_get(&out, &n, e, "greeting", 0), OMNI_OK);
    cr_assert(strstr(out, "\"version\":1"), "%s", out);
    omni_free(out);
    /* out may be NULL */
    cr_assert_eq(omni_config_apply(NULL, NULL, cfg, e), OMNI_OK);
    omni_engine_free(e);
    omni_config_free(cfg);
}

Test(config, apply_writes_what_changed)
{
    omni_config *cfg = full_config();
    omni_engine *e = engine_at("2026-03-02T06:00:00Z");
    cJSON_Delete(apply(cfg, e));
    omni_config_free(cfg);
    /* the ack template's body and acc-india's business unit changed */
    cJSON *d = full_doc();
    cJSON *ack = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "templates"), 2);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(ack, "content"),
                                           "body", cJSON_CreateString("Received, thank you."));
    cJSON *india = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d, "accounts"), 1);
    cJSON_ReplaceItemInObjectCaseSensitive(india, "businessUnitId",
                                           cJSON_CreateString("bu-india-2"));
    char *t = print(d);
    cJSON_Delete(d);
    cfg = new_ok(t);
    free(t);
    cJSON *r = apply(cfg, e);
    expect_counts(r, "routing", 2, 5);
    expect_counts(r, "conversationSettings", 0, 2);
    expect_counts(r, "templates", 1, 5);
    cJSON_Delete(r);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_template_get(&out, &n, e, "ack", 0), OMNI_OK);
    cr_assert(strstr(out, "\"version\":2"), "%s", out);
    cr_assert(strstr(out, "Received, thank you."), "%s", out);
    omni_free(out);
    cr_assert_eq(omni_routing_get(&out, &n, e, "+918045678901"), OMNI_OK);
    cr_assert(strstr(out, "bu-india-2"), "%s", out);
    omni_free(out);
    /* a template deleted from the store is created again */
    cr_assert_eq(omni_template_delete(e, "away"), OMNI_OK);
    r = apply(cfg, e);
    expect_counts(r, "templates", 1, 5);
    expect_counts(r, "routing", 0, 7);
    cJSON_Delete(r);
    omni_engine_free(e);
    omni_config_free(cfg);
}

Test(config, apply_sqlite_is_idempotent)
{
    char dir[] = "/tmp/omni-config-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128], ecfg[256];
    snprintf(path, sizeof(path), "%s/store.db", dir);
    snprintf(ecfg, sizeof(ecfg), "{\"storage\":\"sqlite:%s\"}", path);
    omni_config *cfg = full_config();
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, ecfg, strlen(ecfg), NULL), OMNI_OK, "%s",
                 omni_error_last_message());
    cJSON *r = apply(cfg, e);
    expect_counts(r, "routing", 7, 0);
    expect_counts(r, "templates", 6, 0);
    cJSON_Delete(r);
    omni_engine_free(e);
    /* another engine (another process) on the same file finds it all */
    cr_assert_eq(omni_engine_new(&e, ecfg, strlen(ecfg), NULL), OMNI_OK);
    r = apply(cfg, e);
    expect_counts(r, "routing", 0, 7);
    expect_counts(r, "conversationSettings", 0, 2);
    expect_counts(r, "templates", 0, 6);
    cJSON_Delete(r);
    check_applied(e);
    omni_engine_free(e);
    omni_config_free(cfg);
    unlink(path);
    char side[160];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    rmdir(dir);
}

/* a store that fails reads or writes */
typedef struct faulty {
    omni_storage_hook inner;
    int fail_get, fail_put;
} faulty;

static int f_get(void *ctx, const char *ns, const char *key, int64_t now, char **value,
                 size_t *value_len, uint64_t *version, int64_t *exp)
{
    faulty *f = ctx;
    if (f->fail_get)
        return omni_error_set(OMNI_ESTORAGE, "disk on fire", -1);
    return f->inner.get(f->inner.ctx, ns, key, now, value, value_len, version, exp);
}

static int f_put(void *ctx, const char *ns, const char *key, const char *value, size_t len,
                 uint64_t expected, int64_t exp, int64_t now, uint64_t *nv)
{
    faulty *f = ctx;
    if (f->fail_put)
        return omni_error_set(OMNI_ESTORAGE, "read-only replica", -1);
    return f->inner.put(f->inner.ctx, ns, key, value, len, expected, exp, now, nv);
}

static int f_del(void *ctx, const char *ns, const char *key, uint64_t expected, int64_t now)
{
    faulty *f = ctx;
    return f->inner.del(f->inner.ctx, ns, key, expected, now);
}

static int f_list(void *ctx, const char *ns, const char *prefix, const char *after,
                  size_t limit, int64_t now, omni_store_list_cb cb, void *cb_ctx, char **next)
{
    faulty *f = ctx;
    return f->inner.list(f->inner.ctx, ns, prefix, after, limit, now, cb, cb_ctx, next);
}

Test(config, apply_reports_store_failures)
{
    omni_store *mem = NULL;
    cr_assert_eq(omni_store_open(&mem, "memory:"), OMNI_OK);
    faulty f;
    memset(&f, 0, sizeof(f));
    cr_assert_eq(omni_store_get_hook(mem, &f.inner), OMNI_OK);
    omni_storage_hook hook = OMNI_STORAGE_HOOK_INIT;
    hook.ctx = &f;
    hook.get = f_get;
    hook.put = f_put;
    hook.del = f_del;
    hook.list = f_list;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.storage = &hook;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &hooks), OMNI_OK);
    omni_config *cfg = full_config();
    char *out = (char *)1;
    size_t n = 7;
    f.fail_get = 1;
    cr_assert_eq(omni_config_apply(&out, &n, cfg, e), OMNI_ESTORAGE);
    cr_assert_null(out);
    cr_assert_eq(n, 0);
    cr_assert_eq(omni_error_last_retryable(), 1);
    f.fail_get = 0;
    f.fail_put = 1;
    cr_assert_eq(omni_config_apply(&out, &n, cfg, e), OMNI_ESTORAGE);
    cr_assert(strstr(omni_error_last_message(), "read-only replica"), "%s",
              omni_error_last_message());
    /* the store is back: apply completes */
    f.fail_put = 0;
    cJSON *r = apply(cfg, e);
    expect_counts(r, "routing", 7, 0);
    cJSON_Delete(r);
    r = apply(cfg, e);
    expect_counts(r, "templates", 0, 6);
    cJSON_Delete(r);
    cr_assert_eq(omni_config_apply(NULL, NULL, NULL, e), OMNI_EINVAL);
    cr_assert_eq(omni_config_apply(NULL, NULL, cfg, NULL), OMNI_EINVAL);
    omni_config_free(cfg);
    omni_engine_free(e);
    omni_store_free(mem);
}

/* ---- errors ------------------------------------------------------------------------- */

Test(config, five_errors_are_all_reported)
{
    const char *doc =
        "{\"version\":1,\"storage\":5,"
        "\"accounts\":["
        " {\"accountId\":\"a0\",\"addresses\":{\"shortCodes\":[\"12\"]}},"
        " {\"accountId\":\"a1\",\"outbound\":{\"twilio\":{\"accountSid\":"
        "\"AC00000000000000000000000000000001\"}}}],"
        "\"templates\":[{\"templateId\":\"t\",\"name\":\"T\",\"category\":\"system\","
        " \"channels\":[\"sms\"],\"content\":{\"body\":\"{{#if x}}open\"}}],"
        "\"workflow\":{\"steps\":[{\"stepId\":\"workFlowIdentityLookup\","
        " \"nextSteps\":[{\"stepId\":\"nowhere\"}]}]}}";
    int count = 0;
    cJSON *errs = errors_of_new(doc, &count);
    char all[4096];
    dump(errs, all, sizeof(all));
    cr_assert_eq(count, 5, "%s", all);
    cr_assert_eq(cJSON_GetArraySize(errs), 5, "%s", all);
    const char *paths[] = {"storage", "accounts[0].addresses.shortCodes[0]",
                           "accounts[1].outbound.twilio.authToken", "templates[0].content.body",
                           "workflow.steps[0].nextSteps[0].stepId"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_not_null(find_error(errs, paths[i]), "no %s in %s", paths[i], all);
    cJSON_Delete(errs);
    /* check lists the same five */
    cJSON *c = check(doc);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "errors")), 5);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "accounts")->valueint, 2);
    cJSON_Delete(c);
}

static const struct {
    const char *doc; /* members after "version":1 (or a whole document) */
    const char *path;
    const char *code;
} error_cases[] = {
    /* the document */
    {"\"colour\":\"blue\"", "colour", "INVALID_CONFIG"},
    {"\"storage\":\"memory:\",\"storage\":\"memory:\"", "storage", "INVALID_CONFIG"},
    {"\"defaults\":{\"locale\":\"en\",\"locale\":\"hi\"}", "defaults.locale", "INVALID_CONFIG"},
    /* storage, transport */
    {"\"storage\":\"memory:x\"", "storage", "INVALID_CONFIG"},
    {"\"storage\":\"sqlite:\"", "storage", "INVALID_CONFIG"},
    {"\"storage\":\"redis://h\"", "storage", "UNSUPPORTED"},
    {"\"storage\":[]", "storage", "INVALID_CONFIG"},
    {"\"transport\":\"curl\"", "transport", "INVALID_CONFIG"},
    {"\"transport\":{\"type\":\"pigeon\"}", "transport.type", "INVALID_CONFIG"},
    {"\"transport\":{\"type\":\"curl\",\"timeoutMs\":0}", "transport.timeoutMs",
     "INVALID_CONFIG"},
    /* inbound */
    {"\"inbound\":[]", "inbound", "INVALID_CONFIG"},
    {"\"inbound\":{\"carriers\":{\"pigeon\":{}}}", "inbound.carriers.pigeon", "INVALID_CONFIG"},
    {"\"inbound\":{\"carriers\":{\"twilio\":{\"authToken\":5}}}",
     "inbound.carriers.twilio.authToken", "INVALID_CONFIG"},
    {"\"inbound\":{\"carriers\":{\"twilio\":{\"authToken\":{\"env\":5}}}}",
     "inbound.carriers.twilio.authToken", "INVALID_CONFIG"},
    {"\"inbound\":{\"carriers\":{\"twilio\":{\"authToken\":{\"env\":\"A\",\"x\":1}}}}",
     "inbound.carriers.twilio.authToken", "INVALID_CONFIG"},
    {"\"inbound\":{\"publicBaseUrl\":\"ftp://x\"}", "inbound.publicBaseUrl", "INVALID_CONFIG"},
    /* defaults */
    {"\"defaults\":5", "defaults", "INVALID_CONFIG"},
    {"\"defaults\":{\"accountId\":\"x\"}", "defaults.accountId", "INVALID_CONFIG"},
    {"\"defaults\":{\"createCustomers\":\"yes\"}", "defaults.createCustomers", "INVALID_CONFIG"},
    {"\"defaults\":{\"defaultRegion\":\"us\"}", "defaults.defaultRegion", "INVALID_CONFIG"},
    {"\"defaults\":{\"conversation\":[]}", "defaults.conversation", "INVALID_CONFIG"},
    {"\"defaults\":{\"conversation\":{\"inactivityTimeoutMs\":0}}",
     "defaults.conversation.inactivityTimeoutMs", "INVALID_CONFIG"},
    {"\"defaults\":{\"conversation\":{\"dedupeWindowMs\":-1}}",
     "defaults.conversation.dedupeWindowMs", "INVALID_CONFIG"},
    {"\"defaults\":{\"conversation\":{\"ttl\":1}}", "defaults.conversation.ttl",
     "INVALID_CONFIG"},
    {"\"defaults\":{\"outbound\":{\"pigeon\":{}}}", "defaults.outbound.pigeon", "INVALID_CONFIG"},
    {"\"defaults\":{\"push\":{\"apns\":5}}", "defaults.push.apns", "INVALID_CONFIG"},
    {"\"defaults\":{\"timeZone\":\"Mars/Olympus\"}", "defaults.timeZone", "NOT_FOUND"},
    {"\"defaults\":{\"autoResponses\":{\"greeting\":{\"templateId\":\"nope\"}}}",
     "defaults.autoResponses.greeting.templateId", "INVALID_CONFIG"},
    /* accounts */
    {"\"accounts\":{}", "accounts", "INVALID_CONFIG"},
    {"\"accounts\":[5]", "accounts[0]", "INVALID_CONFIG"},
    {"\"accounts\":[{}]", "accounts[0].accountId", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a b\"}]", "accounts[0].accountId", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\"},{\"accountId\":\"a\"}]", "accounts[1].accountId",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"nickname\":\"x\"}]", "accounts[0].nickname",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"name\":\"\"}]", "accounts[0].name", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"tenantId\":5}]", "accounts[0].tenantId",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":[]}]", "accounts[0].addresses",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"faxes\":[]}}]",
     "accounts[0].addresses.faxes", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"phoneNumbers\":\"+14155550100\"}}]",
     "accounts[0].addresses.phoneNumbers", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"phoneNumbers\":[5]}}]",
     "accounts[0].addresses.phoneNumbers[0]", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"phoneNumbers\":[\"4155550100\"]}}]",
     "accounts[0].addresses.phoneNumbers[0]", "INVALID_IDENTIFIER"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"shortCodes\":[\"12a45\"]}}]",
     "accounts[0].addresses.shortCodes[0]", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"messagingServiceSids\":[\"M G\"]}}]",
     "accounts[0].addresses.messagingServiceSids[0]", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"phoneNumbers\":[\"+14155550100\","
     "\"+1 415-555-0100\"]}}]",
     "accounts[0].addresses.phoneNumbers[1]", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"whatsappPhoneNumberIds\":[\"77\"]}},"
     "{\"accountId\":\"b\",\"addresses\":{\"whatsappBusinessIds\":[\"77\"]}}]",
     "accounts[1].addresses.whatsappBusinessIds[0]", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"defaultRegion\":\"XX\"}]", "accounts[0].defaultRegion",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"carriers\":[]}]", "accounts[0].carriers",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"carriers\":{\"twilio\":{\"authToken\":\"\"}}}]",
     "accounts[0].carriers.twilio.authToken", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"outbound\":5}]", "accounts[0].outbound",
     "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"outbound\":{\"whatsapp\":{\"accessToken\":\"t\","
     "\"phoneNumberId\":\"abc\"}}}]",
     "accounts[0].outbound.whatsapp.phoneNumberId", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"push\":{\"fcm\":{}}}]",
     "accounts[0].push.fcm.serviceAccount", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"rules\":[{\"id\":\"r\",\"conditions\":[{\"field\":"
     "\"x\",\"operator\":\"zz\",\"value\":1}],\"actions\":[{\"type\":\"block\"}]}]}]",
     "accounts[0].rules[0].conditions[0].operator", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"businessHours\":{\"weekly\":{\"mon\":[[\"9\","
     "\"17:00\"]]}}}]",
     "accounts[0].businessHours", "INVALID_CONFIG"},
    {"\"accounts\":[{\"accountId\":\"a\",\"optOut\":{\"confirmations\":{\"stop\":\"nope\"}}}]",
     "accounts[0].optOut.confirmations.stop", "INVALID_CONFIG"},
    /* templates */
    {"\"templates\":{}", "templates", "INVALID_CONFIG"},
    {"\"templates\":[5]", "templates[0]", "INVALID_CONFIG"},
    {"\"templates\":[{\"templateId\":\"t\"}]", "templates[0].name", "INVALID_CONFIG"},
    {"\"templates\":[{\"templateId\":\"t\",\"name\":\"T\",\"category\":\"system\","
     "\"channels\":[\"fax\"],\"content\":{\"body\":\"x\"}}]",
     "templates[0].channels[0]", "INVALID_CONFIG"},
    {"\"templates\":[{\"templateId\":\"t\",\"name\":\"T\",\"category\":\"system\","
     "\"channels\":[\"sms\"],\"content\":{\"body\":\"x\"},\"localizations\":{\"hi\":{\"body\":"
     "\"{{/if}}\"}}}]",
     "templates[0].localizations.hi.body", "INVALID_CONFIG"},
    {"\"templates\":[{\"templateId\":\"t\",\"name\":\"T\",\"category\":\"system\","
     "\"channels\":[\"sms\"],\"content\":{\"body\":\"x\"}},{\"templateId\":\"t\",\"name\":\"T\","
     "\"category\":\"system\",\"channels\":[\"sms\"],\"content\":{\"body\":\"y\"}}]",
     "templates[1].templateId", "INVALID_CONFIG"},
    /* analyzer, delivery */
    {"\"analyzer\":[]", "analyzer", "INVALID_CONFIG"},
    {"\"analyzer\":{\"spam\":{\"threshold\":2}}", "analyzer.spam.threshold", "INVALID_CONFIG"},
    {"\"delivery\":true", "delivery", "INVALID_CONFIG"},
    {"\"delivery\":{\"retryPolicy\":{\"maxRetries\":21}}", "delivery.retryPolicy.maxRetries",
     "INVALID_CONFIG"},
    {"\"delivery\":{\"colour\":1}", "delivery.colour", "INVALID_CONFIG"},
    /* workflow */
    {"\"workflow\":[]", "workflow", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\"}],\"x\":1}", "workflow.x",
     "INVALID_CONFIG"},
    {"\"workflow\":{}", "workflow.steps", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[]}", "workflow.steps", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[5]}", "workflow.steps[0]", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{}]}", "workflow.steps[0].stepId", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"sendFax\"}]}", "workflow.steps[0].stepId",
     "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\"},{\"stepId\":"
     "\"publishOutbound\"}]}",
     "workflow.steps[1].stepId", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"retries\":1}]}",
     "workflow.steps[0].retries", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"enabled\":1}]}",
     "workflow.steps[0].enabled", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"timeout\":900001}]}",
     "workflow.steps[0].timeout", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"retryPolicy\":5}]}",
     "workflow.steps[0].retryPolicy", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"retryPolicy\":{\"maxRetries\":"
     "21}}]}",
     "workflow.steps[0].retryPolicy.maxRetries", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"retryPolicy\":"
     "{\"backoffMultiplier\":0.5}}]}",
     "workflow.steps[0].retryPolicy.backoffMultiplier", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"retryPolicy\":{\"maxBackoff\":"
     "0}}]}",
     "workflow.steps[0].retryPolicy.maxBackoff", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"retryPolicy\":{\"jitter\":1}}]}",
     "workflow.steps[0].retryPolicy.jitter", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"conditions\":\"always\"}]}",
     "workflow.steps[0].conditions", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"conditions\":[\"sometimes\"]}]}",
     "workflow.steps[0].conditions[0]", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":{}}]}",
     "workflow.steps[0].nextSteps", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":[5]}]}",
     "workflow.steps[0].nextSteps[0]", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":[{}]}]}",
     "workflow.steps[0].nextSteps[0].stepId", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":[{\"stepId\":"
     "\"terminate\",\"condition\":\"never\"}]}]}",
     "workflow.steps[0].nextSteps[0].condition", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":[{\"stepId\":"
     "\"terminate\",\"when\":\"always\"}]}]}",
     "workflow.steps[0].nextSteps[0].when", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"workFlowPreRoute\",\"nextSteps\":[{\"stepId\":"
     "\"pushNotification\"}]}]}",
     "workflow.steps[0].nextSteps[0].stepId", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":[{\"stepId\":"
     "\"publishOutbound\"}]}]}",
     "workflow.steps[0].nextSteps[0].stepId", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"nextSteps\":["
     "{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"},"
     "{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"},"
     "{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"},"
     "{\"stepId\":\"terminate\"},{\"stepId\":\"terminate\"}]}]}",
     "workflow.steps[0].nextSteps", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"options\":[]}]}",
     "workflow.steps[0].options", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\",\"options\":{\"deadlineMs\":-1}}]}",
     "workflow.steps[0].options.deadlineMs", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"workFlowPreRoute\",\"options\":{\"deadlineMs\":1}}]}",
     "workflow.steps[0].options.deadlineMs", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"workFlowIdentityLookup\",\"options\":"
     "{\"defaultRegion\":\"usa\"}}]}",
     "workflow.steps[0].options.defaultRegion", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"workFlowIdentityLookup\",\"options\":"
     "{\"brazilNinthDigit\":\"yes\"}}]}",
     "workflow.steps[0].options.brazilNinthDigit", "INVALID_CONFIG"},
    {"\"workflow\":{\"steps\":[{\"stepId\":\"workFlowBiDirectional\",\"options\":"
     "{\"maxAttempts\":65}}]}",
     "workflow.steps[0].options.maxAttempts", "INVALID_CONFIG"},
};

Test(config, every_kind_of_error)
{
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        char *doc = NULL;
        cr_assert(asprintf(&doc, "{\"version\":1,%s}", error_cases[i].doc) > 0);
        expect_error(doc, error_cases[i].path, error_cases[i].code, 1);
        free(doc);
    }
}

Test(config, document_level_errors)
{
    expect_error("[]", "", "INVALID_CONFIG", 1);
    expect_error("{}", "version", "INVALID_CONFIG", 1);
    expect_error("{\"version\":2}", "version", "UNSUPPORTED_VERSION", 1);
    expect_error("{\"version\":\"1\"}", "version", "UNSUPPORTED_VERSION", 1);
    /* a cycle over three steps */
    expect_error("{\"version\":1,\"workflow\":{\"steps\":["
                 "{\"stepId\":\"workFlowIdentityLookup\",\"nextSteps\":[{\"stepId\":"
                 "\"workFlowBiDirectional\"}]},"
                 "{\"stepId\":\"workFlowBiDirectional\",\"nextSteps\":[{\"stepId\":"
                 "\"workFlowPreRoute\"}]},"
                 "{\"stepId\":\"workFlowPreRoute\",\"nextSteps\":[{\"stepId\":"
                 "\"terminate\"},{\"stepId\":\"workFlowIdentityLookup\"}]}]}}",
                 "workflow.steps[2].nextSteps[1].stepId", "INVALID_CONFIG", 1);
    /* the message of a cycle names the steps */
    omni_config *cfg = NULL;
    const char *loop = "{\"version\":1,\"workflow\":{\"steps\":[{\"stepId\":\"publishOutbound\","
                       "\"nextSteps\":[{\"stepId\":\"pushNotification\"}]},{\"stepId\":"
                       "\"pushNotification\",\"nextSteps\":[{\"stepId\":\"publishOutbound\"}]}]}}";
    cr_assert_eq(omni_config_new(&cfg, loop, strlen(loop)), OMNI_ECONFIG);
    cr_assert(strstr(omni_error_last()->details,
                     "makes a cycle: publishOutbound -> pushNotification -> publishOutbound"),
              "%s", omni_error_last()->details);
    /* an error in one account does not hide another account's */
    int count = 0;
    cJSON *errs = errors_of_new(
        "{\"version\":1,\"accounts\":["
        "{\"accountId\":\"a\",\"timeZone\":\"Nowhere/Land\"},"
        "{\"accountId\":\"b\",\"locale\":\"?\"},"
        "{\"accountId\":\"c\",\"autoResponses\":{\"away\":{\"templateId\":\"missing\"}}}]}",
        &count);
    cr_assert_eq(count, 3);
    cr_assert_not_null(find_error(errs, "accounts[0].timeZone"));
    cr_assert_not_null(find_error(errs, "accounts[1].locale"));
    cr_assert_not_null(find_error(errs, "accounts[2].autoResponses.away.templateId"));
    cJSON_Delete(errs);
    /* a broken template is reported once, not again where it is used */
    errs = errors_of_new("{\"version\":1,\"templates\":[{\"templateId\":\"g\",\"name\":\"G\","
                         "\"category\":\"system\",\"channels\":[\"sms\"],\"content\":{\"body\":"
                         "\"{{#each}}\"}}],\"defaults\":{\"autoResponses\":{\"greeting\":"
                         "{\"templateId\":\"g\"}}}}",
                         &count);
    cr_assert_eq(count, 1);
    cr_assert_not_null(find_error(errs, "templates[0].content.body"));
    cJSON_Delete(errs);
    /* an account's error in a pre-route template reference is mapped to it */
    errs = errors_of_new("{\"version\":1,\"accounts\":[{\"accountId\":\"z\"},"
                         "{\"accountId\":\"a\",\"optOut\":{\"confirmations\":{\"help\":\"h\"}}}]}",
                         &count);
    cr_assert_not_null(find_error(errs, "accounts[1].optOut.confirmations.help"));
    cJSON_Delete(errs);
}

Test(config, hard_failures)
{
    omni_config *cfg = (omni_config *)1;
    /* not JSON */
    const char *bad = "{\"version\":1,\n \"storage\": }";
    cr_assert_eq(omni_config_new(&cfg, bad, strlen(bad)), OMNI_EJSON);
    cr_assert_null(cfg);
    cr_assert(strstr(omni_error_last()->details, "\"line\":2"), "%s",
              omni_error_last()->details);
    cJSON *c = check(bad);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "valid")));
    cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "errors"), 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e0, "code")->valuestring, "INVALID_JSON");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(e0, "line")->valueint, 2);
    cr_assert(cJSON_GetObjectItemCaseSensitive(e0, "column")->valueint > 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(c, "accounts")->valueint, 0);
    cJSON_Delete(c);
    /* \u0000 in a string */
    const char *nul = "{\"version\":1,\"accounts\":[{\"accountId\":\"a\\u0000b\"}]}";
    cr_assert_eq(omni_config_new(&cfg, nul, strlen(nul)), OMNI_EJSON);
    c = check(nul);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "valid")));
    cJSON_Delete(c);
    /* nesting deeper than OMNI_LIMIT_JSON_DEPTH */
    char deep[200 * 2 + 40];
    size_t k = (size_t)snprintf(deep, sizeof(deep), "{\"version\":1,\"analyzer\":");
    for (int i = 0; i < 100; i++)
        deep[k++] = '[';
    for (int i = 0; i < 100; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = '\0';
    cr_assert_eq(omni_config_new(&cfg, deep, k), OMNI_ETOODEEP);
    /* over OMNI_LIMIT_CONFIG_BYTES */
    size_t big = OMNI_LIMIT_CONFIG_BYTES + 1;
    char *huge = malloc(big + 1);
    cr_assert_not_null(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    memcpy(huge + 1, "\"version\":1", 11);
    huge[big - 1] = '}';
    huge[big] = '\0';
    cr_assert_eq(omni_config_new(&cfg, huge, big), OMNI_ETOOLARGE);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_config_check(&out, &n, huge, big), OMNI_OK);
    cr_assert(strstr(out, "PAYLOAD_TOO_LARGE"), "%s", out);
    omni_free(out);
    free(huge);
    /* arguments */
    cr_assert_eq(omni_config_new(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_config_new(&cfg, NULL, 5), OMNI_EINVAL);
    cr_assert_eq(omni_config_new(&cfg, NULL, 0), OMNI_EJSON);
    cr_assert_eq(omni_config_check(NULL, NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_config_check(&out, &n, NULL, 5), OMNI_EINVAL);
    cr_assert_null(out);
    omni_config_free(NULL);
}

Test(config, limits)
{
    /* accounts */
    size_t cap = 64u * 1024u * 1024u;
    char *doc = malloc(cap);
    cr_assert_not_null(doc);
    size_t k = (size_t)sprintf(doc, "{\"version\":1,\"accounts\":[");
    for (int i = 0; i <= OMNI_CONFIG_MAX_ACCOUNTS; i++)
        k += (size_t)sprintf(doc + k, "%s{\"accountId\":\"a%d\"}", i ? "," : "", i);
    k += (size_t)sprintf(doc + k, "]}");
    int count = 0;
    cJSON *errs = errors_of_new(doc, &count);
    const cJSON *e = find_error(errs, "accounts");
    cr_assert_not_null(e);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring,
                     "PAYLOAD_TOO_LARGE");
    cJSON_Delete(errs);
    /* exactly the limit is fine */
    k = (size_t)sprintf(doc, "{\"version\":1,\"accounts\":[");
    for (int i = 0; i < OMNI_CONFIG_MAX_ACCOUNTS; i++)
        k += (size_t)sprintf(doc + k, "%s{\"accountId\":\"a%d\"}", i ? "," : "", i);
    k += (size_t)sprintf(doc + k, "]}");
    omni_config *cfg = new_ok(doc);
    cr_assert_eq(omni_config_account_count(cfg), OMNI_CONFIG_MAX_ACCOUNTS);
    cr_assert_str_eq(omni_config_account_id(cfg, 999), "a999");
    omni_config_free(cfg);
    /* addresses: 10000 fine, one more is an error */
    for (int extra = 0; extra < 2; extra++) {
        k = (size_t)sprintf(doc, "{\"version\":1,\"accounts\":[");
        int total = OMNI_CONFIG_MAX_ADDRESSES + extra;
        for (int a = 0; a < 10; a++) {
            k += (size_t)sprintf(doc + k,
                                 "%s{\"accountId\":\"a%d\",\"addresses\":{\"shortCodes\":[",
                                 a ? "," : "", a);
            int per = total / 10 + (a == 9 ? total % 10 : 0);
            for (int j = 0; j < per; j++)
                k += (size_t)sprintf(doc + k, "%s\"%d\"", j ? "," : "", 100000 + a * 2000 + j);
            k += (size_t)sprintf(doc + k, "]}}");
        }
        k += (size_t)sprintf(doc + k, "]}");
        if (!extra) {
            cfg = new_ok(doc);
            cr_assert_str_eq(omni_config_account(cfg, "shortcode:118000"), "a9");
            cr_assert_str_eq(omni_config_account(cfg, "shortcode:100000"), "a0");
            omni_config_free(cfg);
        } else {
            errs = errors_of_new(doc, &count);
            cr_assert_eq(count, 1);
            e = cJSON_GetArrayItem(errs, 0);
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring,
                             "PAYLOAD_TOO_LARGE");
            cr_assert(strstr(cJSON_GetObjectItemCaseSensitive(e, "path")->valuestring,
                             "accounts[9].addresses.shortCodes["));
            cJSON_Delete(errs);
        }
    }
    /* steps */
    k = (size_t)sprintf(doc, "{\"version\":1,\"workflow\":{\"steps\":[");
    for (int i = 0; i <= OMNI_CONFIG_MAX_STEPS; i++)
        k += (size_t)sprintf(doc + k, "%s{\"stepId\":\"publishOutbound\"}", i ? "," : "");
    k += (size_t)sprintf(doc + k, "]}}");
    errs = errors_of_new(doc, &count);
    e = find_error(errs, "workflow.steps");
    cr_assert_not_null(e);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "code")->valuestring,
                     "PAYLOAD_TOO_LARGE");
    cJSON_Delete(errs);
    /* templates */
    k = (size_t)sprintf(doc, "{\"version\":1,\"templates\":[");
    for (int i = 0; i <= OMNI_CONFIG_MAX_TEMPLATES; i++)
        k += (size_t)sprintf(doc + k,
                             "%s{\"templateId\":\"t%d\",\"name\":\"T\",\"category\":\"system\","
                             "\"channels\":[\"sms\"],\"content\":{\"body\":\"x\"}}",
                             i ? "," : "", i);
    k += (size_t)sprintf(doc + k, "]}");
    errs = errors_of_new(doc, &count);
    cr_assert_eq(count, 1);
    cr_assert_not_null(find_error(errs, "templates"));
    cJSON_Delete(errs);
    /* errors: at most OMNI_CONFIG_MAX_ERRORS listed, all counted */
    k = (size_t)sprintf(doc, "{\"version\":1,\"accounts\":[");
    for (int i = 0; i < 150; i++)
        k += (size_t)sprintf(doc + k, "%s{\"accountId\":\"a%d\",\"x\":1}", i ? "," : "", i);
    k += (size_t)sprintf(doc + k, "]}");
    errs = errors_of_new(doc, &count);
    cr_assert_eq(count, 150);
    cr_assert_eq(cJSON_GetArraySize(errs), OMNI_CONFIG_MAX_ERRORS);
    cJSON_Delete(errs);
    free(doc);
}

/* ---- secrets ------------------------------------------------------------------------- */

static void no_secret(const char *text, const char *what)
{
    if (!text)
        return;
    cr_assert_null(strstr(text, "S3CR3T"), "a secret in %s: %s", what, text);
}

static void no_secret_anywhere(const char *doc)
{
    omni_config *cfg = NULL;
    int rc = omni_config_new(&cfg, doc, strlen(doc));
    no_secret(omni_error_last_message(), "the message");
    no_secret(omni_error_last()->details, "the details");
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_config_check(&out, &n, doc, strlen(doc)), OMNI_OK);
    no_secret(out, "check");
    omni_free(out);
    if (rc)
        return;
    no_secret(omni_config_summary(cfg, NULL), "the summary");
    no_secret(omni_config_engine_json(cfg, NULL), "the engine JSON");
    no_secret(omni_config_delivery(cfg, NULL), "delivery");
    no_secret(omni_config_workflow(cfg, NULL), "workflow");
    for (size_t i = 0; i < omni_config_account_count(cfg); i++)
        no_secret(omni_config_account_json(cfg, omni_config_account_id(cfg, i), NULL),
                  "an account");
    omni_engine *e = engine_at("2026-03-02T06:00:00Z");
    cr_assert_eq(omni_config_apply(&out, &n, cfg, e), OMNI_OK);
    no_secret(out, "apply");
    omni_free(out);
    omni_engine_free(e);
    omni_config_free(cfg);
}

Test(config, secrets_never_echoed)
{
    setenv("OMNI_CFG_TEST_SECRET", "S3CR3T-FROM-ENV", 1);
    const char *accounts =
        "\"accounts\":[{\"accountId\":\"a\",\"addresses\":{\"phoneNumbers\":[\"+14155550100\"]},"
        "\"carriers\":{\"twilio\":{\"authToken\":\"S3CR3T-IN-ACCOUNT\"},"
        " \"whatsapp\":{\"appSecret\":{\"env\":\"OMNI_CFG_TEST_SECRET\"},"
        "  \"verifyToken\":\"S3CR3T-VERIFY\"}},"
        "\"outbound\":{\"twilio\":{\"accountSid\":\"AC00000000000000000000000000000001\","
        " \"authToken\":\"S3CR3T-TWILIO\",\"messagingServiceSid\":\"MG1\"},"
        " \"sendgrid\":{\"apiKey\":{\"env\":\"OMNI_CFG_TEST_SECRET\"},\"from\":{\"email\":"
        "\"a@example.com\"}}},"
        "\"push\":{\"webpush\":{\"vapidPrivateKey\":"
        "\"yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw\","
        " \"subject\":\"mailto:ops@example.com\"}}}]";
    char *doc = NULL;
    cr_assert(asprintf(&doc,
                       "{\"version\":1,\"inbound\":{\"carriers\":{\"bandwidth\":{\"username\":"
                       "\"u\",\"password\":\"S3CR3T-BW\"},\"livechat\":{\"secretKey\":"
                       "{\"env\":\"OMNI_CFG_TEST_SECRET\"}}}},%s}",
                       accounts) > 0);
    no_secret_anywhere(doc); /* valid */
    omni_config *cfg = new_ok(doc);
    omni_config_free(cfg);
    free(doc);
    /* errors in the very sections that hold secrets */
    const char *bad[] = {
        "{\"version\":1,\"accounts\":[{\"accountId\":\"a\",\"outbound\":{\"twilio\":"
        "{\"accountSid\":\"S3CR3T-SID\",\"authToken\":\"S3CR3T-TWILIO\"}}}]}",
        "{\"version\":1,\"accounts\":[{\"accountId\":\"a\",\"push\":{\"webpush\":"
        "{\"vapidPrivateKey\":\"S3CR3T-not-a-key\",\"subject\":\"mailto:a@example.com\"}}}]}",
        "{\"version\":1,\"accounts\":[{\"accountId\":\"a\",\"push\":{\"apns\":{\"teamId\":"
        "\"ABCDE12345\",\"keyId\":\"ABCDE12345\",\"privateKey\":\"S3CR3T-PEM\",\"topic\":"
        "\"com.example\"}}}]}",
        "{\"version\":1,\"accounts\":[{\"accountId\":\"a\",\"push\":{\"fcm\":{\"serviceAccount\":"
        "\"S3CR3T-not-json\"}}}]}",
        "{\"version\":1,\"inbound\":{\"carriers\":{\"twilio\":{\"authToken\":\"S3CR3T-T\","
        "\"verify\":1}}}}",
        "{\"version\":1,\"inbound\":{\"carriers\":{\"inteliquent\":{\"header\":\"bad header\","
        "\"secret\":\"S3CR3T-INTQ\"}}}}",
        "{\"version\":1,\"accounts\":[{\"accountId\":\"a\",\"outbound\":{\"smtp\":{\"url\":"
        "\"smtp://u:S3CR3T@h\",\"password\":\"S3CR3T-SMTP\",\"from\":{\"email\":\"a@b.c\"}}}}]}",
        "{\"version\":1,\"accounts\":[{\"accountId\":\"a\",\"outbound\":{\"aws-sns\":{\"region\":"
        "\"nowhere\",\"accessKeyId\":\"S3CR3T-AK\",\"secretAccessKey\":\"S3CR3T-SK\"}}}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        omni_config *c = NULL;
        int rc = omni_config_new(&c, bad[i], strlen(bad[i]));
        cr_assert_neq(rc, OMNI_OK, "%s", bad[i]);
        no_secret_anywhere(bad[i]);
    }
    unsetenv("OMNI_CFG_TEST_SECRET");
}

Test(config, secrets_from_the_environment)
{
    const char *doc =
        "{\"version\":1,\"inbound\":{\"carriers\":{\"bandwidth\":{\"username\":\"u\","
        "\"password\":{\"env\":\"OMNI_CFG_TEST_BW\"}}}},"
        "\"accounts\":[{\"accountId\":\"a\",\"carriers\":{\"bandwidth\":{\"username\":\"v\","
        "\"password\":{\"env\":\"OMNI_CFG_TEST_BW2\"}}},"
        "\"outbound\":{\"whatsapp\":{\"accessToken\":{\"env\":\"OMNI_CFG_TEST_WA\"},"
        "\"phoneNumberId\":\"123\"}}}]}";
    unsetenv("OMNI_CFG_TEST_BW");
    unsetenv("OMNI_CFG_TEST_BW2");
    unsetenv("OMNI_CFG_TEST_WA");
    /* every missing variable is an error naming it */
    int count = 0;
    cJSON *errs = errors_of_new(doc, &count);
    cr_assert_eq(count, 3);
    const struct {
        const char *path, *var;
    } want[] = {{"inbound.carriers.bandwidth.password", "OMNI_CFG_TEST_BW"},
                {"accounts[0].carriers.bandwidth.password", "OMNI_CFG_TEST_BW2"},
                {"accounts[0].outbound.whatsapp.accessToken", "OMNI_CFG_TEST_WA"}};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *e = find_error(errs, want[i].path);
        cr_assert_not_null(e, "%s", want[i].path);
        const char *m = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
        cr_assert(strstr(m, want[i].var), "%s", m);
        cr_assert(strstr(m, "not set"), "%s", m);
    }
    cJSON_Delete(errs);
    /* an empty variable counts as not set */
    setenv("OMNI_CFG_TEST_BW", "", 1);
    setenv("OMNI_CFG_TEST_BW2", "pw-2", 1);
    setenv("OMNI_CFG_TEST_WA", "wa-token", 1);
    errs = errors_of_new(doc, &count);
    cr_assert_eq(count, 1);
    cr_assert_not_null(find_error(errs, "inbound.carriers.bandwidth.password"));
    cJSON_Delete(errs);
    /* set: the values are used */
    setenv("OMNI_CFG_TEST_BW", "pw-1", 1);
    omni_config *cfg = new_ok(doc);
    cr_assert_eq(bandwidth_verify(omni_config_inbound(cfg, NULL), "u", "pw-1"), OMNI_OK);
    cr_assert_eq(bandwidth_verify(omni_config_inbound(cfg, "a"), "v", "pw-2"), OMNI_OK);
    cr_assert_eq(bandwidth_verify(omni_config_inbound(cfg, "a"), "u", "pw-1"), OMNI_ESIGNATURE);
    /* the variable is read when the document is compiled, not later */
    setenv("OMNI_CFG_TEST_BW", "pw-changed", 1);
    cr_assert_eq(bandwidth_verify(omni_config_inbound(cfg, NULL), "u", "pw-1"), OMNI_OK);
    omni_config_free(cfg);
    unsetenv("OMNI_CFG_TEST_BW");
    unsetenv("OMNI_CFG_TEST_BW2");
    unsetenv("OMNI_CFG_TEST_WA");
}

/* ---- edits of the full document --------------------------------------------------------- */

Test(config, edits_of_the_full_document)
{
    /* defaults' providers serve accounts without their own */
    char *t = full_with("defaults.outbound",
                        "{\"inteliquent\":{\"token\":\"tok-1\"}}");
    omni_config *cfg = new_ok(t);
    cr_assert_not_null(omni_config_outbound(cfg, NULL));
    cr_assert_eq(omni_config_outbound(cfg, "nobody"), omni_config_outbound(cfg, NULL));
    cr_assert_neq(omni_config_outbound(cfg, "acc-retail"), omni_config_outbound(cfg, NULL));
    omni_config_free(cfg);
    free(t);
    /* sqlite storage */
    t = full_with("storage", "\"sqlite:/tmp/somewhere.db\"");
    cfg = new_ok(t);
    cr_assert_str_eq(omni_config_storage(cfg), "sqlite:/tmp/somewhere.db");
    cr_assert(strstr(omni_config_engine_json(cfg, NULL),
                     "\"storage\":\"sqlite:/tmp/somewhere.db\""));
    omni_config_free(cfg);
    free(t);
    /* the same number in two accounts */
    t = full_with("accounts.1.addresses.phoneNumbers", "[\"+14155550100\"]");
    expect_error(t, "accounts[1].addresses.phoneNumbers[0]", "INVALID_CONFIG", 1);
    free(t);
    /* an auto-response naming a template that is not there */
    t = full_with("accounts.1.autoResponses", "{\"greeting\":{\"templateId\":\"welcome\"}}");
    expect_error(t, "accounts[1].autoResponses.greeting.templateId", "INVALID_CONFIG", 1);
    free(t);
    /* the workflow refers to a step that was removed */
    t = full_with("workflow.steps.4", NULL);
    expect_error(t, "workflow.steps[2].nextSteps[1].stepId", "INVALID_CONFIG", 1);
    free(t);
}

/* ---- threads ------------------------------------------------------------------------ */

static void *reader(void *arg)
{
    const omni_config *cfg = arg;
    for (int i = 0; i < 2000; i++) {
        const char *a = omni_config_account(cfg, i % 2 ? "shortcode:12345" : "+918045678901");
        if (!a || strcmp(a, i % 2 ? "acc-retail" : "acc-india") != 0)
            return (void *)1;
        if (!omni_config_account_json(cfg, a, NULL) || !omni_config_step(cfg, "workFlowPreRoute",
                                                                          NULL))
            return (void *)1;
    }
    return NULL;
}

Test(config, shared_between_threads)
{
    omni_config *cfg = full_config();
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, reader, cfg), 0);
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        cr_assert_null(r);
    }
    omni_config_free(cfg);
}

Test(config, null_accessors)
{
    size_t n = 9;
    cr_assert_null(omni_config_summary(NULL, &n));
    cr_assert_eq(n, 0);
    cr_assert_null(omni_config_engine_json(NULL, NULL));
    cr_assert_null(omni_config_storage(NULL));
    cr_assert_null(omni_config_transport(NULL, NULL));
    cr_assert_null(omni_config_delivery(NULL, NULL));
    cr_assert_null(omni_config_inbound(NULL, NULL));
    cr_assert_null(omni_config_preroute(NULL));
    cr_assert_null(omni_config_outbound(NULL, "a"));
    cr_assert_null(omni_config_push(NULL, "a"));
    cr_assert_eq(omni_config_account_count(NULL), 0);
    cr_assert_null(omni_config_account_id(NULL, 0));
    cr_assert_null(omni_config_workflow(NULL, NULL));
    cr_assert_eq(omni_config_step_count(NULL), 0);
    cr_assert_null(omni_config_step_id(NULL, 0));
    cr_assert_null(omni_config_step(NULL, "workFlowPreRoute", NULL));
}
