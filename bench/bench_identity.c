/* Identity benchmarks: omni_identity_lookup with the memory store (a known
 * customer, an anonymous sender), omni_phone_to_e164 on common written
 * forms, omni_identity_normalize. Issue 4's goal: at least 500,000 lookups
 * per second on one core for a known customer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "bench.h"

/* An IdentityLookupEvent as the Twilio adapter writes it (~450 bytes). */
static const char known_event[] =
    "{\"kind\":\"message\",\"correlationId\":\"5f0c9a52-7a3e-5d0b-9c1e-2b7f4a1d8e63\","
    "\"carrier\":\"twilio\",\"channelType\":\"sms\","
    "\"senderIdentifier\":{\"phoneNumber\":\"+14155550123\"},"
    "\"recipientIdentifier\":{\"phoneNumber\":\"+14155550100\"},"
    "\"message\":{\"id\":\"SM1234567890abcdef1234567890abcdef\",\"content\":\"Hello there!\","
    "\"contentType\":\"text\",\"mediaUrls\":[],\"timestamp\":\"2025-06-08T21:39:43.000Z\"},"
    "\"rawPayload\":{\"MessageSid\":\"SM1234567890abcdef1234567890abcdef\","
    "\"From\":\"+14155550123\",\"To\":\"+14155550100\",\"Body\":\"Hello there!\","
    "\"NumMedia\":\"0\"}}";

typedef struct {
    omni_engine *e;
    const char *event;
    size_t len;
} lookup_ctx;

static void b_lookup(void *ctx, size_t n)
{
    lookup_ctx *l = ctx;
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        if (omni_identity_lookup(&out, &len, l->e, l->event, l->len, NULL, 0) == OMNI_OK)
            omni_free(out);
    }
}

typedef struct {
    const char *raw, *region;
} phone_case;

static const phone_case phones[] = {
    {"+14155550123", NULL},
    {"(415) 555-0123", "US"},
    {"+44 (0)20 7946 0958", NULL},
    {"0151 23456789", "DE"},
    {"whatsapp:+5511987654321", NULL},
    {"011 15 2345-6789", "AR"},
};

static void b_phone(void *ctx, size_t n)
{
    const phone_case *c = ctx;
    size_t len = strlen(c->raw);
    char out[OMNI_E164_STRLEN];
    for (size_t i = 0; i < n; i++)
        omni_phone_to_e164(out, sizeof(out), c->raw, len, c->region);
    bench_sink(out);
}

static void b_normalize(void *ctx, size_t n)
{
    (void)ctx;
    static const char sender[] = "{\"phoneNumber\":\"16505551234\"}";
    for (size_t i = 0; i < n; i++) {
        char *out;
        size_t len;
        if (omni_identity_normalize(&out, &len, "whatsapp", sender, sizeof(sender) - 1, NULL) ==
            OMNI_OK)
            omni_free(out);
    }
}

static int setup(omni_engine *e)
{
    static const char routing[] =
        "{\"accountId\":\"acc-1\",\"businessUnitId\":\"bu-1\",\"tenantId\":\"t-1\"}";
    static const char customer[] =
        "{\"customerId\":\"cust-1\",\"profile\":{\"firstName\":\"Ada\",\"lastName\":\"Lovelace\","
        "\"phoneNumbers\":[\"+14155550123\"],\"tags\":[\"vip\"],"
        "\"createdAt\":\"2024-01-01T00:00:00Z\",\"lastContactAt\":\"2025-06-01T00:00:00Z\"},"
        "\"preferences\":{\"preferredChannel\":\"sms\",\"language\":\"en\","
        "\"timezone\":\"America/Los_Angeles\",\"optOutStatus\":false,\"marketingConsent\":true}}";
    char *out = NULL;
    if (omni_routing_set(e, "+14155550100", routing, sizeof(routing) - 1) != OMNI_OK ||
        omni_customer_put(&out, NULL, e, customer, sizeof(customer) - 1) != OMNI_OK)
        return -1;
    omni_free(out);
    return omni_identity_link(e, "cust-1", "+14155550123") == OMNI_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 50.0, 7, NULL};
    if (bench_args(&o, argc, argv, "omni-bench-identity", NULL, NULL))
        return 2;
    omni_engine *e = NULL;
    if (omni_engine_new(&e, NULL, 0, NULL) != OMNI_OK || setup(e) != 0) {
        fprintf(stderr, "omni-bench-identity: setup failed: %s\n", omni_error_last_message());
        omni_engine_free(e);
        return 1;
    }
    /* check once that the known lookup really finds the customer */
    char *out = NULL;
    size_t len;
    if (omni_identity_lookup(&out, &len, e, known_event, sizeof(known_event) - 1, NULL, 0) !=
            OMNI_OK ||
        !strstr(out, "\"customerType\":\"known\"")) {
        fprintf(stderr, "omni-bench-identity: the known lookup failed: %s\n",
                omni_error_last_message());
        omni_free(out);
        omni_engine_free(e);
        return 1;
    }
    omni_free(out);

    lookup_ctx known = {e, known_event, sizeof(known_event) - 1};
    bench_run(&o, "identity_lookup_known", b_lookup, &known, NULL, NULL, NULL);

    /* the same event from a sender nobody linked */
    char *anon = strdup(known_event);
    char *p = anon ? strstr(anon, "+14155550123") : NULL;
    if (p) {
        p[11] = '9';
        lookup_ctx anonymous = {e, anon, strlen(anon)};
        bench_run(&o, "identity_lookup_anonymous", b_lookup, &anonymous, NULL, NULL, NULL);
    }
    free(anon);

    static const char *const names[] = {"phone_e164_plain", "phone_e164_us_national",
                                        "phone_e164_gb_paren_zero", "phone_e164_de_trunk",
                                        "phone_e164_whatsapp", "phone_e164_ar_mobile_15"};
    for (size_t i = 0; i < sizeof(phones) / sizeof(phones[0]); i++)
        bench_run(&o, names[i], b_phone, (void *)&phones[i], NULL, NULL, NULL);
    bench_run(&o, "identity_normalize_whatsapp", b_normalize, NULL, NULL, NULL, NULL);
    omni_engine_free(e);
    return 0;
}
