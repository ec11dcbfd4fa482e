/* Inbound carrier webhooks (issue 4): verify + parse + normalize through
 * omni_inbound_handle for a signed Twilio SMS webhook and a signed WhatsApp
 * Cloud API text webhook (goal: at least 200,000 per second each on one
 * core), and verification alone. The requests are built and signed once;
 * each iteration handles one request and frees the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "bench.h"
#include "lib/core/codec.h"

#define TWILIO_TOKEN "bench-auth-token-0123456789abcdef"
#define WA_SECRET "bench-app-secret"

/* A Twilio SMS webhook as Twilio sends it (form fields of its Messaging
 * webhook documentation). */
static const char twilio_form[] =
    "ToCountry=US&ToState=CA&SmsMessageSid=SM1234567890abcdef1234567890abcdef&NumMedia=0"
    "&ToCity=&FromZip=94105&SmsSid=SM1234567890abcdef1234567890abcdef&FromState=CA"
    "&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Hello+there%21+%F0%9F%91%8B"
    "&FromCountry=US&To=%2B14155550100&ToZip=&NumSegments=1"
    "&MessageSid=SM1234567890abcdef1234567890abcdef&AccountSid=AC0123456789abcdef0123456789abcd"
    "&MessagingServiceSid=MG0123456789abcdef0123456789abcd"
    "&From=%2B14155550199&ApiVersion=2010-04-01";

/* A WhatsApp Cloud API text webhook (~600 bytes), as Meta documents it. */
static const char whatsapp_body[] =
    "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\","
    "\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
    "\"display_phone_number\":\"16505550100\",\"phone_number_id\":\"106540352242922\"},"
    "\"contacts\":[{\"profile\":{\"name\":\"Sheena Nelson\"},\"wa_id\":\"16505551234\"}],"
    "\"messages\":[{\"from\":\"16505551234\",\"id\":\"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRB"
    "NjU5OUFFRTAzODEwMTQ0RgA=\",\"timestamp\":\"1749416383\",\"type\":\"text\",\"text\":{"
    "\"body\":\"Does it come in another color?\"}}]},\"field\":\"messages\"}]}]}";

static const char config[] =
    "{\"carriers\":{\"twilio\":{\"authToken\":\"" TWILIO_TOKEN "\"},"
    "\"whatsapp\":{\"appSecret\":\"" WA_SECRET "\",\"verifyToken\":\"vt\"}}}";

typedef struct ctx {
    omni_inbound *in;
    omni_webhook *req;
    const char *carrier;
} ctx;

static int cmp_pair(const void *a, const void *b)
{
    const omni__pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* X-Twilio-Signature of url + the sorted form fields, computed here with
 * the public HMAC so the benchmark does not rely on the code it measures. */
static int twilio_signature(char *out, size_t cap, const char *url, const char *form)
{
    omni__pairs p = OMNI__PAIRS_INIT;
    if (omni__form_parse(&p, form, strlen(form)))
        return -1;
    qsort(p.items, p.count, sizeof(p.items[0]), cmp_pair);
    char data[4096];
    size_t n = (size_t)snprintf(data, sizeof(data), "%s", url);
    for (size_t i = 0; i < p.count; i++)
        n += (size_t)snprintf(data + n, sizeof(data) - n, "%s%s", p.items[i].name,
                              p.items[i].value);
    omni__pairs_free(&p);
    uint8_t mac[20];
    if (omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA1, TWILIO_TOKEN, strlen(TWILIO_TOKEN), data, n))
        return -1;
    char *b64;
    size_t len;
    if (omni_base64_encode(&b64, &len, mac, sizeof(mac)) || len >= cap)
        return -1;
    memcpy(out, b64, len + 1);
    omni_free(b64);
    return 0;
}

static int whatsapp_signature(char *out, size_t cap)
{
    uint8_t mac[32];
    if (cap < 72 || omni_hmac(mac, sizeof(mac), OMNI_HASH_SHA256, WA_SECRET, strlen(WA_SECRET),
                              whatsapp_body, sizeof(whatsapp_body) - 1))
        return -1;
    strcpy(out, "sha256=");
    for (int i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

static void b_handle(void *p, size_t n)
{
    ctx *c = p;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        if (omni_inbound_handle(&out, &len, c->in, NULL, c->carrier, c->req)) {
            fprintf(stderr, "handle failed: %s\n", omni_error_last_message());
            abort();
        }
        bench_sink(out);
        omni_free(out);
    }
}

static void b_verify(void *p, size_t n)
{
    ctx *c = p;
    for (size_t i = 0; i < n; i++)
        if (omni_inbound_verify(c->in, NULL, c->carrier, c->req)) {
            fprintf(stderr, "verify failed: %s\n", omni_error_last_message());
            abort();
        }
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 50.0, 7, NULL};
    if (bench_args(&o, argc, argv, "omni-bench-inbound", NULL, NULL))
        return 2;
    omni_inbound *in;
    if (omni_inbound_new(&in, config, sizeof(config) - 1, NULL)) {
        fprintf(stderr, "inbound: %s\n", omni_error_last_message());
        return 1;
    }
    char sig[96];
    omni_webhook *tw, *wa;
    if (twilio_signature(sig, sizeof(sig), "https://hooks.example.com/twilio/sms?tenant=acme",
                         twilio_form) ||
        omni_webhook_new(&tw, "POST", "/twilio/sms?tenant=acme") ||
        omni_webhook_add_header(tw, "Host", "hooks.example.com") ||
        omni_webhook_add_header(tw, "Content-Type", "application/x-www-form-urlencoded") ||
        omni_webhook_add_header(tw, "User-Agent", "TwilioProxy/1.1") ||
        omni_webhook_add_header(tw, "X-Twilio-Signature", sig) ||
        omni_webhook_set_body(tw, twilio_form, sizeof(twilio_form) - 1)) {
        fprintf(stderr, "twilio request: %s\n", omni_error_last_message());
        return 1;
    }
    if (whatsapp_signature(sig, sizeof(sig)) ||
        omni_webhook_new(&wa, "POST", "/whatsapp/webhook") ||
        omni_webhook_add_header(wa, "Host", "hooks.example.com") ||
        omni_webhook_add_header(wa, "Content-Type", "application/json") ||
        omni_webhook_add_header(wa, "User-Agent", "facebookexternalua") ||
        omni_webhook_add_header(wa, "X-Hub-Signature-256", sig) ||
        omni_webhook_set_body(wa, whatsapp_body, sizeof(whatsapp_body) - 1)) {
        fprintf(stderr, "whatsapp request: %s\n", omni_error_last_message());
        return 1;
    }
    ctx t = {in, tw, "twilio"}, w = {in, wa, "whatsapp"};
    bench_run(&o, "inbound_handle_twilio_sms", b_handle, &t, NULL, NULL, NULL);
    bench_run(&o, "inbound_handle_whatsapp_text", b_handle, &w, NULL, NULL, NULL);
    bench_run(&o, "inbound_verify_twilio_sms", b_verify, &t, NULL, NULL, NULL);
    bench_run(&o, "inbound_verify_whatsapp_text", b_verify, &w, NULL, NULL, NULL);
    omni_webhook_free(tw);
    omni_webhook_free(wa);
    omni_inbound_free(in);
    return 0;
}
