/* Fuzz target: the delivery engine's outside inputs. The first byte picks
 * what the rest is: 0 a PublishOutboundEvent (published, then driven with a
 * 503 and a 201), 1 the publish options of a fixed event, 2 a dead-letter
 * query, 3 the body of the provider's answer fed to a claimed send (with
 * the status from the second byte). A fresh memory-store engine with a fixed
 * clock each time; nothing touches the network.
 * Invariants: errors are known statuses with no output; every result is a
 * JSON object with success, delivery.messageId and delivery.status; a
 * second publish of a message that went through is a duplicate and never
 * asks to send again; nothing crashes, leaks or hangs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "fuzz_check.h"
#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char event[] =
    "{\"correlationId\":\"f-1\",\"recipient\":{\"channelIdentifier\":\"+14155550100\","
    "\"carrier\":\"twilio\",\"channel\":\"sms\"},\"message\":{\"content\":\"hi\","
    "\"contentType\":\"text\"},\"routing\":{\"fromNumber\":\"+14155550199\"}}";

static int known(int rc)
{
    return rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
           rc == OMNI_ETOODEEP || rc == OMNI_EENCODING;
}

static void check_result(omni_delivery_job *job)
{
    char *out = NULL;
    size_t n = 0;
    CHECK(omni_delivery_job_result(job, &out, &n) == OMNI_OK);
    cJSON *r = NULL;
    CHECK(omni__json_parse(&r, out, n, 0, "result") == OMNI_OK);
    CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "success")));
    CHECK(omni__json_str(r, "delivery.messageId") != NULL);
    CHECK(omni__json_str(r, "delivery.status") != NULL);
    cJSON_Delete(r);
    omni_free(out);
}

static omni_http_response *response(int status, const void *body, size_t len)
{
    omni_http_response *resp = NULL;
    CHECK(omni_http_response_new(&resp) == OMNI_OK);
    CHECK(omni_http_response_set_status(resp, status) == OMNI_OK);
    if (omni_http_response_set_body(resp, body, len) != OMNI_OK)
        omni_error_clear();
    return resp;
}

/* Drives a job with the given answers until it waits or is done. */
static void drive(omni_delivery_job *job, int status, const void *body, size_t len)
{
    for (int i = 0; i < 8; i++) {
        int action = 0;
        int64_t until = 0;
        if (omni_delivery_next(job, 1767225600000LL + i, &action, NULL, &until) != OMNI_OK)
            return;
        if (action != OMNI_DELIVERY_SEND)
            return;
        omni_http_response *resp = response(i == 0 ? status : 201, body, len);
        CHECK(omni_delivery_feed(job, resp, OMNI_OK, 1767225600000LL + i) == OMNI_OK);
        omni_http_response_free(resp);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char ecfg[] = "{\"clock\":{\"fixed\":\"2026-01-01T00:00:00Z\"}}";
    static const char obcfg[] = "{\"twilio\":{\"accountSid\":\"AC1\",\"authToken\":\"t\","
                                "\"baseUrl\":\"http://127.0.0.1:9\"}}";
    static const char dcfg[] = "{\"retryPolicy\":{\"initialBackoff\":1,\"maxBackoff\":1}}";
    omni_engine *e = NULL;
    omni_outbound *ob = NULL;
    omni_delivery *d = NULL;
    CHECK(omni_engine_new(&e, ecfg, sizeof ecfg - 1, NULL) == OMNI_OK);
    CHECK(omni_outbound_new(&ob, obcfg, sizeof obcfg - 1) == OMNI_OK);
    CHECK(omni_delivery_new(&d, e, ob, dcfg, sizeof dcfg - 1) == OMNI_OK);
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    omni_delivery_job *job = NULL;
    int rc;
    switch (data[0] % 4) {
    case 0:
    case 1:
        if (data[0] % 4 == 0)
            rc = omni_delivery_publish(&job, d, in, n, NULL, 0, 1767225600000LL);
        else
            rc = omni_delivery_publish(&job, d, event, sizeof event - 1, in, n, 1767225600000LL);
        if (rc) {
            CHECK(known(rc) && job == NULL);
            break;
        }
        drive(job, 503, "busy", 4);
        check_result(job);
        omni_delivery_job_free(job);
        job = NULL;
        /* published again: the same message, never a second send once delivered */
        if (data[0] % 4 == 0)
            rc = omni_delivery_publish(&job, d, in, n, NULL, 0, 1767225600000LL + 100);
        else
            rc = omni_delivery_publish(&job, d, event, sizeof event - 1, in, n,
                                       1767225600000LL + 100);
        if (rc == OMNI_OK) {
            char *out = NULL;
            CHECK(omni_delivery_job_result(job, &out, NULL) == OMNI_OK);
            int was_delivered = strstr(out, "\"success\":true") != NULL;
            omni_free(out);
            int action = 0;
            if (omni_delivery_next(job, 1767225600000LL + 100, &action, NULL, NULL) == OMNI_OK)
                CHECK(!was_delivered || action == OMNI_DELIVERY_DONE);
            omni_delivery_job_free(job);
        }
        break;
    case 2: {
        char *out = NULL;
        rc = omni_delivery_dlq_list(&out, NULL, d, in, n);
        CHECK(rc == OMNI_OK || known(rc));
        CHECK(rc == OMNI_OK || out == NULL);
        omni_free(out);
        break;
    }
    default:
        if (n < 1)
            break;
        CHECK(omni_delivery_publish(&job, d, event, sizeof event - 1, NULL, 0,
                                    1767225600000LL) == OMNI_OK);
        drive(job, 100 + (uint8_t)in[0] % 250 * 2, in + 1, n - 1); /* 100..598 */
        check_result(job);
        omni_delivery_job_free(job);
        break;
    }
    omni_error_clear();
    omni_delivery_free(d);
    omni_outbound_free(ob);
    omni_engine_free(e);
    return 0;
}
