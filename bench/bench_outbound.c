/* Outbound benchmarks (issue 7): building a carrier's send request with the
 * sans-I/O adapters (goal: 500,000 per second on one core) and AWS SigV4
 * signing (goal: 100,000 per second), each beside a floor measured in the
 * same run: the request object alone (new + headers + body + free) for the
 * builds, and SHA-256 + the HMAC chain of one signature for SigV4. */
#include <stdio.h>
#include <string.h>

#include <omni/omni.h>

#include "bench.h"

static const char config[] =
    "{\"twilio\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\","
    "\"authToken\":\"tw-secret\",\"statusCallback\":\"https://hooks.example.com/s\"},"
    "\"whatsapp\":{\"accessToken\":\"wa-token\",\"phoneNumberId\":\"106540352242922\"},"
    "\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
    "\"secretAccessKey\":\"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\"}}";

static const char sms_event[] =
    "{\"correlationId\":\"c-1\",\"messageType\":\"reply\",\"recipient\":{\"customerId\":\"cust-1\","
    "\"channelIdentifier\":\"+14155550100\",\"carrier\":\"twilio\",\"channel\":\"sms\"},"
    "\"message\":{\"content\":\"Your order AB-123456 ships today. Reply STOP to opt out.\","
    "\"contentType\":\"text\"},\"routing\":{\"accountId\":\"acc-1\",\"conversationId\":\"conv-1\","
    "\"fromNumber\":\"+14155550199\"}}";

static const char wa_event[] =
    "{\"correlationId\":\"c-2\",\"messageType\":\"reply\",\"recipient\":{\"customerId\":\"cust-1\","
    "\"channelIdentifier\":\"+14155550100\",\"carrier\":\"whatsapp\",\"channel\":\"whatsapp\"},"
    "\"message\":{\"content\":\"Your order AB-123456 ships today.\",\"contentType\":\"text\"},"
    "\"routing\":{\"accountId\":\"acc-1\",\"conversationId\":\"conv-1\"},"
    "\"serviceWindow\":{\"open\":true}}";

typedef struct {
    omni_outbound *ob;
    const char *event;
    size_t len;
} build_ctx;

static void b_build(void *ctx, size_t n)
{
    build_ctx *b = ctx;
    for (size_t i = 0; i < n; i++) {
        omni_http_request *req;
        if (omni_outbound_build(&req, b->ob, NULL, b->event, b->len, 1767225600000LL) == OMNI_OK)
            omni_http_request_free(req);
    }
}

/* The floor: the request object a build ends with, made directly. */
static void b_request_floor(void *ctx, size_t n)
{
    (void)ctx;
    static const char body[] =
        "To=%2B14155550100&From=%2B14155550199&Body=Your+order+AB-123456+ships+today.+Reply+"
        "STOP+to+opt+out.&StatusCallback=https%3A%2F%2Fhooks.example.com%2Fs";
    for (size_t i = 0; i < n; i++) {
        omni_http_request *req;
        if (omni_http_request_new(&req, "POST",
                                  "https://api.twilio.com/2010-04-01/Accounts/"
                                  "AC0123456789abcdef0123456789abcdef/Messages.json") != OMNI_OK)
            continue;
        omni_http_request_add_header(req, "Authorization", "Basic QUMwMTIzNDU2Nzg5YWJj");
        omni_http_request_add_header(req, "Content-Type", "application/x-www-form-urlencoded");
        omni_http_request_add_header(req, "Accept", "application/json");
        omni_http_request_set_body(req, body, sizeof(body) - 1);
        omni_http_request_free(req);
    }
}

typedef struct {
    omni_http_request *req;
    omni_aws_credentials cred;
} sign_ctx;

static void b_sign(void *ctx, size_t n)
{
    sign_ctx *s = ctx;
    for (size_t i = 0; i < n; i++) {
        char *creq, *sts;
        size_t cl, sl;
        /* the canonical texts and signature of one request, without the
         * copying that signing in place needs: the signer's own work */
        if (omni_aws_sigv4_canonical(&creq, &cl, &sts, &sl, s->req, &s->cred, "us-east-1",
                                     "sns", 1767225600000LL, 0) == OMNI_OK) {
            omni_free(creq);
            omni_free(sts);
        }
    }
}

static void b_sign_in_place(void *ctx, size_t n)
{
    sign_ctx *s = ctx;
    for (size_t i = 0; i < n; i++) {
        omni_http_request *req;
        if (omni_http_request_new(&req, "POST", "https://sns.us-east-1.amazonaws.com/"))
            continue;
        omni_http_request_add_header(req, "Content-Type", "application/x-www-form-urlencoded");
        omni_http_request_set_body(req, "Action=Publish&Message=hi&PhoneNumber=%2B14155550100",
                                   52);
        omni_aws_sigv4_sign(req, &s->cred, "us-east-1", "sns", 1767225600000LL, 0);
        omni_http_request_free(req);
    }
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 100, 7, NULL};
    int rc = bench_args(&o, argc, argv, "omni-bench-outbound", NULL, NULL);
    if (rc)
        return rc;
    omni_outbound *ob;
    if (omni_outbound_new(&ob, config, strlen(config)) != OMNI_OK) {
        fprintf(stderr, "outbound config: %s\n", omni_error_last_message());
        return 1;
    }
    build_ctx sms = {ob, sms_event, strlen(sms_event)};
    build_ctx wa = {ob, wa_event, strlen(wa_event)};
    bench_run(&o, "outbound_build_twilio_sms", b_build, &sms, "request_object_floor",
              b_request_floor, NULL);
    bench_run(&o, "outbound_build_whatsapp_text", b_build, &wa, NULL, NULL, NULL);

    sign_ctx s = {NULL, OMNI_AWS_CREDENTIALS_INIT};
    s.cred.access_key_id = "AKIDEXAMPLE";
    s.cred.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    omni_http_request_new(&s.req, "POST", "https://sns.us-east-1.amazonaws.com/");
    omni_http_request_add_header(s.req, "Content-Type", "application/x-www-form-urlencoded");
    omni_http_request_set_body(s.req, "Action=Publish&Message=hi&PhoneNumber=%2B14155550100", 52);
    bench_run(&o, "sigv4_canonical_and_signature", b_sign, &s, NULL, NULL, NULL);
    bench_run(&o, "sigv4_sign_request", b_sign_in_place, &s, NULL, NULL, NULL);
    omni_http_request_free(s.req);
    omni_outbound_free(ob);
    return 0;
}
