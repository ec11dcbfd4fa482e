/* Every HTTP provider end to end: the delivery engine sends a message built
 * by each adapter (tests/data/outbound/<provider>/<case>.json) through the
 * curl transport to a local HTTP server on 127.0.0.1 that answers with each
 * documented response of that provider (tests/data/outbound/<provider>/
 * responses.json: successes, every mapped error class, 429 with
 * Retry-After, 5xx, bodies that are not the provider's format), and the
 * stored outcome must be what the adapter's table says: delivered with the
 * provider's message id, a retry scheduled for a retryable error, or a dead
 * letter with the error's code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "http_server.h"
#include "golden.h"

static cJSON *load(const char *provider, const char *name)
{
    char dir[64], why[512];
    snprintf(dir, sizeof dir, "outbound/%s", provider);
    cJSON *j = golden_load(dir, name, why, sizeof why);
    cr_assert_not_null(j, "%s", why);
    return j;
}

/* One response case through the whole engine; returns 1 when it matched. */
static int run_case(omni_test_server *srv, const char *provider, const cJSON *cfg_case,
                    const cJSON *rc, int index)
{
    /* the provider's configuration, pointed at the local server */
    cJSON *cfg = cJSON_Duplicate(cJSON_GetObjectItem(cfg_case, "config"), 1);
    cJSON *pc = cJSON_GetObjectItem(cfg, provider);
    const char *url_key = strncmp(provider, "aws-", 4) == 0 ? "endpoint" : "baseUrl";
    cJSON_DeleteItemFromObject(pc, url_key);
    cJSON_AddStringToObject(pc, url_key, omni_test_server_url(srv, ""));
    char *cfg_text = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    omni_engine *e;
    const char *ecfg = "{\"transport\":{\"type\":\"curl\",\"timeoutMs\":3000},"
                       "\"clock\":{\"fixed\":\"2026-01-01T00:00:00Z\"}}";
    cr_assert_eq(omni_engine_new(&e, ecfg, strlen(ecfg), NULL), OMNI_OK);
    omni_outbound *ob;
    cr_assert_eq(omni_outbound_new(&ob, cfg_text, strlen(cfg_text)), OMNI_OK, "%s: %s", provider,
                 omni_error_last_message());
    free(cfg_text);
    omni_delivery *d;
    const char *dcfg = "{\"retryPolicy\":{\"maxRetries\":1},\"circuitBreaker\":"
                       "{\"failureThreshold\":1000,\"minRequests\":1000000}}";
    cr_assert_eq(omni_delivery_new(&d, e, ob, dcfg, strlen(dcfg)), OMNI_OK);

    /* the server's answer */
    char headers[2048] = "";
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(rc, "headers")) {
        size_t n = strlen(headers);
        snprintf(headers + n, sizeof headers - n, "%s: %s\r\n", h->string, h->valuestring);
    }
    const char *body = cJSON_GetObjectItem(rc, "body")->valuestring;
    int status = cJSON_GetObjectItem(rc, "status")->valueint;
    cr_assert_eq(omni_test_server_respond(srv, status, headers, body, strlen(body)), 0);

    char *ev = cJSON_PrintUnformatted(cJSON_GetObjectItem(cfg_case, "event"));
    char opts[64];
    snprintf(opts, sizeof opts, "{\"idempotencyKey\":\"case-%d\"}", index);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_delivery_send(&out, &n, d, ev, strlen(ev), opts, strlen(opts)), OMNI_OK,
                 "%s case %d: %s", provider, index, omni_error_last_message());
    free(ev);
    cJSON *got = cJSON_ParseWithLength(out, n);
    const cJSON *want = cJSON_GetObjectItem(rc, "result");
    int ok = 1;
    if (cJSON_IsTrue(cJSON_GetObjectItem(want, "success"))) {
        const cJSON *wid = cJSON_GetObjectItem(want, "carrierMessageId");
        const cJSON *gid = cJSON_GetObjectItem(cJSON_GetObjectItem(got, "delivery"),
                                               "carrierMessageId");
        ok = cJSON_IsTrue(cJSON_GetObjectItem(got, "success")) &&
             (!wid || (cJSON_IsString(gid) && strcmp(wid->valuestring, gid->valuestring) == 0));
    } else {
        const cJSON *werr = cJSON_GetObjectItem(want, "error");
        const cJSON *gerr = cJSON_GetObjectItem(got, "error");
        const char *wcode = cJSON_GetObjectItem(werr, "code")->valuestring;
        const cJSON *gcode = cJSON_GetObjectItem(gerr, "code");
        const char *gstatus =
            cJSON_GetObjectItem(cJSON_GetObjectItem(got, "delivery"), "status")->valuestring;
        int retryable = cJSON_IsTrue(cJSON_GetObjectItem(werr, "retryable"));
        ok = cJSON_IsFalse(cJSON_GetObjectItem(got, "success")) && cJSON_IsString(gcode) &&
             strcmp(gcode->valuestring, wcode) == 0 &&
             strcmp(gstatus, retryable ? "pending" : "failed") == 0;
    }
    if (!ok)
        cr_log_error("%s case %d (HTTP %d): got %s, want %s", provider, index, status, out,
                     cJSON_PrintUnformatted(want));
    cJSON_Delete(got);
    omni_free(out);
    omni_delivery_free(d);
    omni_outbound_free(ob);
    omni_engine_free(e);
    return ok;
}

static void run_provider(const char *provider, const char *case_file)
{
    omni_test_server *srv;
    cr_assert_eq(omni_test_server_start(&srv, NULL, NULL), 0);
    cJSON *cfg_case = load(provider, case_file);
    cJSON *responses = load(provider, "responses.json");
    int i = 0, failed = 0;
    const cJSON *rc;
    cJSON_ArrayForEach(rc, responses) {
        size_t before = omni_test_server_request_count(srv);
        failed += !run_case(srv, provider, cfg_case, rc, i);
        cr_assert_eq(omni_test_server_request_count(srv), before + 1,
                     "%s case %d: exactly one request", provider, i);
        i++;
    }
    cr_assert_gt(i, 5, "%s has response cases", provider);
    cr_assert_eq(failed, 0, "%s: %d of %d cases differ", provider, failed, i);
    cJSON_Delete(cfg_case);
    cJSON_Delete(responses);
    omni_test_server_stop(srv);
}

Test(delivery_providers, twilio) { run_provider("twilio", "sms_text.json"); }
Test(delivery_providers, whatsapp) { run_provider("whatsapp", "text.json"); }
Test(delivery_providers, aws_sns) { run_provider("aws-sns", "text_minimal.json"); }
Test(delivery_providers, aws_ses) { run_provider("aws-ses", "simple_text_html.json"); }
Test(delivery_providers, sendgrid) { run_provider("sendgrid", "text.json"); }
Test(delivery_providers, bandwidth) { run_provider("bandwidth", "sms_text.json"); }
Test(delivery_providers, messagebird) { run_provider("messagebird", "text.json"); }
Test(delivery_providers, inteliquent) { run_provider("inteliquent", "sms_text.json"); }
