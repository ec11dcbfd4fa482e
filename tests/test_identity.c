/* Identity lookup (seed 001's workFlowIdentityLookup): routing, customers,
 * the identity index, known / anonymous / new senders, Brazil's ninth
 * digit, every error path, concurrent creation, a failing store. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#define NOW "2025-01-02T03:04:05.000Z"

static omni_engine *engine_new(void)
{
    static const char cfg[] = "{\"clock\":{\"fixed\":\"" NOW "\"},\"random\":{\"seed\":7}}";
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, cfg, sizeof(cfg) - 1, NULL), OMNI_OK);
    return e;
}

static void routing(omni_engine *e, const char *key, const char *json)
{
    int rc = omni_routing_set(e, key, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "routing %s: %s", key, omni_error_last_message());
}

static void customer(omni_engine *e, const char *json)
{
    char *out = NULL;
    int rc = omni_customer_put(&out, NULL, e, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    omni_free(out);
}

static void link(omni_engine *e, const char *customer_id, const char *identifier)
{
    int rc = omni_identity_link(e, customer_id, identifier);
    cr_assert_eq(rc, OMNI_OK, "link %s: %s", identifier, omni_error_last_message());
}

/* An IdentityLookupEvent with the given carrier, sender and recipient
 * objects (JSON) and rawPayload. */
static char *event(const char *carrier, const char *sender, const char *recipient,
                   const char *raw)
{
    static const char fmt[] =
        "{\"correlationId\":\"c-1\",\"carrier\":\"%s\",\"channelType\":\"sms\","
        "\"senderIdentifier\":%s,\"recipientIdentifier\":%s,"
        "\"message\":{\"id\":\"SM1\",\"content\":\"Hello \\\"there\\\"\",\"contentType\":\"text\","
        "\"timestamp\":\"2025-01-02T03:04:00Z\"},\"rawPayload\":%s}";
    size_t n = strlen(fmt) + strlen(carrier) + strlen(sender) + strlen(recipient) +
               strlen(raw ? raw : "{}") + 1;
    char *s = malloc(n);
    snprintf(s, n, fmt, carrier, sender, recipient, raw ? raw : "{}");
    return s;
}

/* Runs a lookup and returns the parsed result (cJSON_Delete), or NULL when
 * it failed with `status` (checked). */
static cJSON *lookup_opts(omni_engine *e, const char *ev, const char *opts, int status)
{
    char *out = (char *)1;
    size_t len = 7;
    int rc = omni_identity_lookup(&out, &len, e, ev, strlen(ev), opts, opts ? strlen(opts) : 0);
    cr_assert_eq(rc, status, "lookup: %s (%s)", omni_status_code(rc),
                 omni_error_last_message());
    if (rc) {
        cr_assert_null(out);
        cr_assert_eq(len, 0);
        return NULL;
    }
    cr_assert_eq(len, strlen(out));
    cJSON *root = cJSON_Parse(out);
    cr_assert_not_null(root, "not JSON: %s", out);
    omni_free(out);
    return root;
}

static cJSON *lookup(omni_engine *e, const char *ev)
{
    return lookup_opts(e, ev, NULL, OMNI_OK);
}

static const char *str_at(const cJSON *root, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

#define ROUTE_US "{\"accountId\":\"acc-1\",\"businessUnitId\":\"bu-1\",\"tenantId\":\"t-1\"}"
#define ROUTE_NEW \
    "{\"accountId\":\"acc-2\",\"businessUnitId\":\"bu-2\",\"tenantId\":\"t-2\"," \
    "\"createCustomers\":true,\"defaultRegion\":\"BR\"}"
#define TO_US "{\"phoneNumber\":\"+14155550100\"}"
#define TO_NEW "{\"phoneNumber\":\"+14155550199\"}"

Test(identity, known_customer)
{
    omni_engine *e = engine_new();
    routing(e, "+1 (415) 555-0100", ROUTE_US);
    customer(e, "{\"customerId\":\"cust-1\",\"profile\":{\"firstName\":\"Ada\","
                "\"phoneNumbers\":[\"+14155550123\"],\"tags\":[\"vip\"]},"
                "\"preferences\":{\"language\":\"fr\",\"preferredChannel\":\"sms\"}}");
    link(e, "cust-1", "+14155550123");
    char *ev = event("twilio", "{\"phoneNumber\":\"+1 (415) 555-0123\"}", TO_US, NULL);
    cJSON *r = lookup(e, ev);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "success")));
    cr_assert_str_eq(str_at(r, "correlationId", NULL), "c-1");
    cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-1");
    cr_assert_str_eq(str_at(r, "identity", "customerType"), "known");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "identity");
    cr_assert_str_eq(str_at(id, "profile", "firstName"), "Ada");
    cr_assert_str_eq(str_at(id, "preferences", "language"), "fr");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(id, "conversationHistory"));
    cr_assert_str_eq(str_at(r, "routing", "accountId"), "acc-1");
    cr_assert_str_eq(str_at(r, "routing", "businessUnitId"), "bu-1");
    cr_assert_str_eq(str_at(r, "routing", "tenantId"), "t-1");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "id"), "SM1");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "content"), "Hello \"there\"");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "contentType"), "text");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "normalizedSender"), "+14155550123");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "language"), "fr");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "receivedAt"), NOW);
    cr_assert_str_eq(str_at(r, "nextStep", NULL), "workFlowBiDirectional");
    cJSON_Delete(r);
    free(ev);
    omni_engine_free(e);
}

Test(identity, anonymous_sender_gets_a_deterministic_id)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", ROUTE_US);
    char *ev = event("twilio", "{\"phoneNumber\":\"+14155550124\"}", TO_US, NULL);
    cJSON *r1 = lookup(e, ev);
    cJSON *r2 = lookup(e, ev);
    char want[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid5(want, OMNI_IDENTITY_NAMESPACE, "+14155550124", 12), OMNI_OK);
    cr_assert_str_eq(str_at(r1, "identity", "customerId"), want);
    cr_assert_str_eq(str_at(r2, "identity", "customerId"), want);
    cr_assert_str_eq(str_at(r1, "identity", "customerType"), "anonymous");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(r1, "identity");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(id, "profile"));
    cr_assert_null(str_at(r1, "enrichedMessage", "language"));
    /* nothing was written */
    char *out = NULL;
    cr_assert_eq(omni_customer_get(&out, NULL, e, want), OMNI_EIDENTITY);
    cr_assert_str_eq(omni_error_last_code(), "IDENTITY_NOT_FOUND");
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    free(ev);
    omni_engine_free(e);
}

Test(identity, new_customer_is_created_once)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550199", ROUTE_NEW);
    char *ev = event("twilio", "{\"phoneNumber\":\"+14155550177\"}", TO_NEW, NULL);
    cJSON *r1 = lookup(e, ev);
    cr_assert_str_eq(str_at(r1, "identity", "customerType"), "new");
    char want[OMNI_UUID_STRLEN];
    const char *name = "customer:+14155550177";
    cr_assert_eq(omni_uuid5(want, OMNI_IDENTITY_NAMESPACE, name, strlen(name)), OMNI_OK);
    cr_assert_str_eq(str_at(r1, "identity", "customerId"), want);
    const cJSON *prof = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r1, "identity"), "profile");
    cr_assert_str_eq(str_at(prof, "createdAt", NULL), NOW);
    const cJSON *phones = cJSON_GetObjectItemCaseSensitive(prof, "phoneNumbers");
    cr_assert_eq(cJSON_GetArraySize(phones), 1);
    cr_assert_str_eq(cJSON_GetArrayItem(phones, 0)->valuestring, "+14155550177");
    cr_assert_str_eq(str_at(r1, "routing", "accountId"), "acc-2");
    /* the same sender again: known, same id */
    cJSON *r2 = lookup(e, ev);
    cr_assert_str_eq(str_at(r2, "identity", "customerType"), "known");
    cr_assert_str_eq(str_at(r2, "identity", "customerId"), want);
    char *out = NULL;
    cr_assert_eq(omni_customer_get(&out, NULL, e, want), OMNI_OK);
    cr_assert(strstr(out, "\"source\":{\"carrier\":\"twilio\""), "%s", out);
    omni_free(out);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    free(ev);
    omni_engine_free(e);
}

Test(identity, written_forms_and_default_region)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", "{\"accountId\":\"acc-1\",\"defaultRegion\":\"US\"}");
    customer(e, "{\"customerId\":\"cust-1\"}");
    link(e, "cust-1", "+14155550123");
    const char *forms[] = {"(415) 555-0123", "1-415-555-0123", "+14155550123",
                           "tel:+1-415-555-0123", "415.555.0123 x12"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char sender[96];
        snprintf(sender, sizeof(sender), "{\"phoneNumber\":\"%s\"}", forms[i]);
        char *ev = event("bandwidth", sender, TO_US, NULL);
        cJSON *r = lookup(e, ev);
        cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-1", "%s", forms[i]);
        cr_assert_str_eq(str_at(r, "routing", "businessUnitId"), "");
        cr_assert_str_eq(str_at(r, "routing", "tenantId"), "");
        cJSON_Delete(r);
        free(ev);
    }
    /* the option's region wins over the routing's */
    char *ev = event("bandwidth", "{\"phoneNumber\":\"020 7946 0958\"}", TO_US, NULL);
    cJSON *r = lookup_opts(e, ev, "{\"defaultRegion\":\"GB\"}", OMNI_OK);
    cr_assert_str_eq(str_at(r, "enrichedMessage", "normalizedSender"), "+442079460958");
    cJSON_Delete(r);
    lookup_opts(e, ev, NULL, OMNI_EIDENTIFIER);
    free(ev);
    omni_engine_free(e);
}

Test(identity, one_customer_many_identifiers)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", ROUTE_US);
    routing(e, "waba:106540352242922", ROUTE_US);
    routing(e, "business:lc-license-1", ROUTE_US);
    routing(e, "mss:MG0123456789abcdef0123456789abcdef", ROUTE_US);
    customer(e, "{\"customerId\":\"cust-9\"}");
    link(e, "cust-9", "+14155550123");
    link(e, "cust-9", "wa:14155550123");
    link(e, "cust-9", "lc:S-77");
    link(e, "cust-9", "2e15efafec384e1c82e9842075e87beb");
    link(e, "cust-9", "+14155550123"); /* again, same customer: fine */
    struct {
        const char *carrier, *sender, *recipient, *raw;
    } cases[] = {
        {"twilio", "{\"phoneNumber\":\"+14155550123\"}", "{}",
         "{\"MessagingServiceSid\":\"MG0123456789abcdef0123456789abcdef\"}"},
        {"whatsapp", "{\"phoneNumber\":\"14155550123\"}",
         "{\"phoneNumber\":\"+15550783881\",\"businessId\":\"106540352242922\"}", NULL},
        {"livechat", "{\"sessionId\":\"S-77\",\"userId\":\"a@b.c\"}",
         "{\"businessId\":\"lc-license-1\"}", NULL},
        {"messagebird", "{\"userId\":\"2e15efafec384e1c82e9842075e87beb\"}", TO_US, NULL},
        {"inteliquent", "{\"phoneNumber\":\"14155550123\"}", TO_US, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *ev = event(cases[i].carrier, cases[i].sender, cases[i].recipient, cases[i].raw);
        cJSON *r = lookup(e, ev);
        cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-9", "%s", cases[i].carrier);
        cr_assert_str_eq(str_at(r, "identity", "customerType"), "known");
        cJSON_Delete(r);
        free(ev);
    }
    omni_engine_free(e);
}

Test(identity, link_and_unlink)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", ROUTE_US);
    customer(e, "{\"customerId\":\"cust-1\"}");
    customer(e, "{\"customerId\":\"cust-2\"}");
    link(e, "cust-1", "+14155550123");
    /* owned by another customer */
    cr_assert_eq(omni_identity_link(e, "cust-2", "+1 415 555 0123"), OMNI_EEXISTS);
    cr_assert_str_eq(omni_error_last_code(), "ALREADY_EXISTS");
    char *ev = event("twilio", "{\"phoneNumber\":\"+14155550123\"}", TO_US, NULL);
    cJSON *r = lookup(e, ev);
    cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-1");
    cJSON_Delete(r);
    /* unlinked: anonymous; then it can move to cust-2 */
    cr_assert_eq(omni_identity_unlink(e, "+14155550123"), OMNI_OK);
    r = lookup(e, ev);
    cr_assert_str_eq(str_at(r, "identity", "customerType"), "anonymous");
    cJSON_Delete(r);
    cr_assert_eq(omni_identity_unlink(e, "+14155550123"), OMNI_ENOTFOUND);
    link(e, "cust-2", "+14155550123");
    r = lookup(e, ev);
    cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-2");
    cJSON_Delete(r);
    free(ev);
    /* errors */
    cr_assert_eq(omni_identity_link(e, "cust-404", "+14155550111"), OMNI_EIDENTITY);
    cr_assert_eq(omni_identity_link(e, "cust 1", "+14155550111"), OMNI_EINVAL);
    cr_assert_eq(omni_identity_link(e, "cust-1", "+1415"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", "wa:hello"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", "lc:"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", "wa:"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", "wa:id:"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", ""), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", "tab\there"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", "lc:\xff\xfe"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_link(e, "cust-1", NULL), OMNI_EINVAL);
    cr_assert_eq(omni_identity_link(NULL, "cust-1", "+14155550111"), OMNI_EINVAL);
    cr_assert_eq(omni_identity_unlink(e, "+1415"), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_identity_unlink(NULL, "+14155550111"), OMNI_EINVAL);
    omni_engine_free(e);
}

Test(identity, brazil_8_and_9_digit_forms_are_one_customer)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550199", ROUTE_NEW);
    routing(e, "+14155550100", ROUTE_US);
    customer(e, "{\"customerId\":\"cust-br\"}");
    link(e, "cust-br", "+55 11 8765-4321"); /* linked in the old form */
    const char *senders[] = {"{\"phoneNumber\":\"+5511987654321\"}",
                             "{\"phoneNumber\":\"+551187654321\"}",
                             "{\"phoneNumber\":\"(11) 98765-4321\"}"};
    for (size_t i = 0; i < 3; i++) {
        char *ev = event("twilio", senders[i], TO_NEW, NULL); /* routing region BR */
        cJSON *r = lookup(e, ev);
        cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-br", "%s", senders[i]);
        cJSON_Delete(r);
        free(ev);
    }
    /* WhatsApp wa_id in both forms, new customers: one record */
    char *a = event("whatsapp", "{\"phoneNumber\":\"552187654321\"}", TO_US, NULL);
    char *b = event("whatsapp", "{\"phoneNumber\":\"5521987654321\"}", TO_US, NULL);
    cJSON *ra = lookup(e, a), *rb = lookup(e, b);
    cr_assert_str_eq(str_at(ra, "identity", "customerId"), str_at(rb, "identity", "customerId"));
    cr_assert_str_eq(str_at(ra, "enrichedMessage", "normalizedSender"), "wa:+552187654321");
    cJSON_Delete(ra);
    cJSON_Delete(rb);
    /* the equivalence switched off: the 8-digit form is another identity */
    ra = lookup_opts(e, a, "{\"brazilNinthDigit\":false}", OMNI_OK);
    rb = lookup_opts(e, b, "{\"brazilNinthDigit\":false}", OMNI_OK);
    cr_assert_str_neq(str_at(ra, "identity", "customerId"), str_at(rb, "identity", "customerId"));
    cJSON_Delete(ra);
    cJSON_Delete(rb);
    free(a);
    free(b);
    omni_engine_free(e);
}

Test(identity, routing_resolution)
{
    omni_engine *e = engine_new();
    routing(e, "shortcode:88088", "{\"accountId\":\"acc-sc\"}");
    routing(e, "mss:MG11111111111111111111111111111111", "{\"accountId\":\"acc-mss\"}");
    routing(e, "waba:102290129340398", "{\"accountId\":\"acc-waba\"}");
    routing(e, "+14155550100", "{\"accountId\":\"acc-phone\"}");
    struct {
        const char *carrier, *recipient, *raw, *want;
    } cases[] = {
        {"twilio", "{\"shortCode\":\"88088\"}", NULL, "acc-sc"},
        {"twilio", "{\"phoneNumber\":\"+14155550111\"}",
         "{\"MessagingServiceSid\":\"MG11111111111111111111111111111111\"}", "acc-mss"},
        /* the number itself wins over its messaging service */
        {"twilio", TO_US, "{\"MessagingServiceSid\":\"MG11111111111111111111111111111111\"}",
         "acc-phone"},
        {"whatsapp", "{\"businessId\":\"999\"}",
         "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\"}]}",
         "acc-waba"},
        {"whatsapp", "{\"businessId\":\"102290129340398\"}", NULL, "acc-waba"},
        {"bandwidth", "{\"phoneNumber\":\"14155550100\"}", NULL, "acc-phone"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *ev = event(cases[i].carrier, "{\"phoneNumber\":\"+14155550123\"}",
                         cases[i].recipient, cases[i].raw);
        cJSON *r = lookup(e, ev);
        cr_assert_str_eq(str_at(r, "routing", "accountId"), cases[i].want, "case %zu", i);
        cJSON_Delete(r);
        free(ev);
    }
    /* nothing configured: ROUTING_RESOLUTION_FAILED, retryable */
    const char *none[] = {"{\"phoneNumber\":\"+14155550111\"}", "{}", "null",
                          "{\"phoneNumber\":\"not a number\"}", "{\"shortCode\":\"1\"}"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        char *ev = event("twilio", "{\"phoneNumber\":\"+14155550123\"}", none[i], NULL);
        lookup_opts(e, ev, NULL, OMNI_EROUTING);
        cr_assert_str_eq(omni_error_last_code(), "ROUTING_RESOLUTION_FAILED");
        cr_assert_eq(omni_error_last_retryable(), 1);
        free(ev);
    }
    omni_engine_free(e);
}

Test(identity, lookup_errors)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", ROUTE_US);
    char *out = NULL;
    size_t len;
    const char *ok = "{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":"
                     "{\"phoneNumber\":\"+14155550123\"},\"recipientIdentifier\":" TO_US ","
                     "\"message\":{}}";
    cJSON_Delete(lookup(e, ok));
    cr_assert_eq(omni_identity_lookup(NULL, &len, e, ok, strlen(ok), NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_identity_lookup(&out, &len, NULL, ok, strlen(ok), NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_identity_lookup(&out, &len, e, NULL, 0, NULL, 0), OMNI_EINVAL);
    struct {
        const char *ev;
        int status;
    } bad[] = {
        {"", OMNI_EJSON},
        {"{\"correlationId\":", OMNI_EJSON},
        {"[1,2]", OMNI_EINVAL},
        {"{\"carrier\":\"twilio\",\"senderIdentifier\":{},\"message\":{}}", OMNI_EINVAL},
        {"{\"correlationId\":\"\",\"carrier\":\"twilio\",\"senderIdentifier\":{},"
         "\"message\":{}}", OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"senderIdentifier\":{},\"message\":{}}", OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"carrier\":7,\"senderIdentifier\":{},\"message\":{}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"message\":{}}", OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":\"+1\","
         "\"message\":{}}", OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":{}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":{},"
         "\"recipientIdentifier\":[],\"message\":{}}", OMNI_EINVAL},
        {"{\"kind\":\"status\",\"correlationId\":\"c\",\"carrier\":\"twilio\","
         "\"senderIdentifier\":{},\"message\":{}}", OMNI_EINVAL},
        /* routing is found; the sender is not usable */
        {"{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":"
         "{\"phoneNumber\":\"+1415\"},\"recipientIdentifier\":" TO_US ",\"message\":{}}",
         OMNI_EIDENTIFIER},
        {"{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":"
         "{\"phoneNumber\":5},\"recipientIdentifier\":" TO_US ",\"message\":{}}",
         OMNI_EIDENTIFIER},
        {"{\"correlationId\":\"c\",\"carrier\":\"carrier-x\",\"senderIdentifier\":"
         "{\"phoneNumber\":\"+14155550123\"},\"recipientIdentifier\":" TO_US ",\"message\":{}}",
         OMNI_ECARRIER},
        {"{\"correlationId\":\"c\",\"carrier\":\"livechat\",\"senderIdentifier\":"
         "{\"userId\":\"u\"},\"recipientIdentifier\":" TO_US ",\"message\":{}}",
         OMNI_EIDENTIFIER},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = (char *)1;
        int rc = omni_identity_lookup(&out, &len, e, bad[i].ev, strlen(bad[i].ev), NULL, 0);
        cr_assert_eq(rc, bad[i].status, "case %zu: %s", i, omni_status_code(rc));
        cr_assert_null(out);
    }
    cr_assert_str_eq(omni_error_last_code(), "INVALID_IDENTIFIER");
    cr_assert_eq(omni_error_last_retryable(), 0);
    /* options */
    const char *bad_opts[] = {"{", "[]", "{\"defaultRegion\":\"ZZ\"}", "{\"defaultRegion\":1}",
                              "{\"brazilNinthDigit\":1}", "{\"other\":true}"};
    int want[] = {OMNI_EJSON, OMNI_EINVAL, OMNI_EINVAL, OMNI_EINVAL, OMNI_EINVAL, OMNI_EINVAL};
    for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++)
        lookup_opts(e, ok, bad_opts[i], want[i]);
    cJSON_Delete(lookup_opts(e, ok, "{\"defaultRegion\":null,\"brazilNinthDigit\":true}", 0));
    /* over the size limit */
    size_t big = OMNI_LIMIT_JSON_BYTES + 16;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    memcpy(huge, ok, strlen(ok));
    cr_assert_eq(omni_identity_lookup(&out, &len, e, huge, big, NULL, 0), OMNI_ETOOLARGE);
    free(huge);
    omni_engine_free(e);
}

Test(identity, enriched_message_replaces_members_and_accepts_inbound_events)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", ROUTE_US);
    const char *ev =
        "{\"kind\":\"message\",\"correlationId\":\"c\\u002d2\",\"carrier\":\"twilio\","
        "\"senderIdentifier\":{\"phoneNumber\":\"+14155550123\"},"
        "\"recipientIdentifier\":" TO_US ",\"message\":{\"id\":\"m\",\"normalizedSender\":\"x\","
        "\"receivedAt\":\"y\",\"carrier\":\"z\",\"mediaUrls\":[\"https://a/b\"]},\"media\":[],"
        "\"channelType\":\"mms\"}";
    cJSON *r = lookup(e, ev);
    cr_assert_str_eq(str_at(r, "correlationId", NULL), "c-2");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "enrichedMessage");
    /* id, mediaUrls, carrier, channelType, normalizedSender, receivedAt */
    cr_assert_eq(cJSON_GetArraySize(m), 6);
    cr_assert_str_eq(str_at(m, "carrier", NULL), "twilio");
    cr_assert_str_eq(str_at(m, "channelType", NULL), "mms");
    cr_assert_str_eq(str_at(m, "normalizedSender", NULL), "+14155550123");
    cr_assert_str_eq(str_at(m, "receivedAt", NULL), NOW);
    cJSON_Delete(r);
    /* messages copied as they are: with whitespace, empty */
    const char *msgs[] = {"{ \"id\" : \"m\" , \"n\" : [ 1 , 2 ] }", "{ }", "{}"};
    size_t counts[] = {5, 3, 3}; /* the members, carrier, normalizedSender, receivedAt */
    for (size_t i = 0; i < 3; i++) {
        char buf[512];
        snprintf(buf, sizeof(buf),
                 "{\"correlationId\":\"c\",\"carrier\":\"twilio\",\"senderIdentifier\":"
                 "{\"phoneNumber\":\"+14155550123\"},\"recipientIdentifier\":" TO_US ","
                 "\"message\":%s}",
                 msgs[i]);
        r = lookup(e, buf);
        m = cJSON_GetObjectItemCaseSensitive(r, "enrichedMessage");
        cr_assert_eq(cJSON_GetArraySize(m), (int)counts[i], "%s", msgs[i]);
        cr_assert_str_eq(str_at(m, "normalizedSender", NULL), "+14155550123");
        cJSON_Delete(r);
    }
    omni_engine_free(e);
}

Test(identity, events_from_the_twilio_adapter)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550100", ROUTE_US);
    customer(e, "{\"customerId\":\"cust-1\"}");
    link(e, "cust-1", "+14155550199");
    static const char cfg[] = "{\"carriers\":{\"twilio\":{\"verify\":false}}}";
    omni_inbound *in = NULL;
    cr_assert_eq(omni_inbound_new(&in, cfg, sizeof(cfg) - 1, NULL), OMNI_OK);
    omni_webhook *req = NULL;
    cr_assert_eq(omni_webhook_new(&req, "POST", "/hooks/twilio"), OMNI_OK);
    omni_webhook_add_header(req, "Host", "hooks.example.com");
    omni_webhook_add_header(req, "Content-Type", "application/x-www-form-urlencoded");
    static const char body[] = "MessageSid=SM1234567890abcdef1234567890abcdef&From=%2B14155550199"
                               "&To=%2B14155550100&Body=Hi&NumMedia=0"
                               "&AccountSid=AC0123456789abcdef0123456789abcd";
    cr_assert_eq(omni_webhook_set_body(req, body, sizeof(body) - 1), OMNI_OK);
    char *res = NULL;
    size_t n;
    int rc = omni_inbound_handle(&res, &n, in, e, "twilio", req);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cJSON *doc = cJSON_Parse(res);
    cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "events"), 0);
    cr_assert_not_null(ev, "%s", res);
    char *text = cJSON_PrintUnformatted(ev);
    cJSON *r = lookup(e, text);
    cr_assert_str_eq(str_at(r, "identity", "customerId"), "cust-1");
    cr_assert_str_eq(str_at(r, "enrichedMessage", "content"), "Hi");
    cJSON_Delete(r);
    free(text);
    cJSON_Delete(doc);
    omni_free(res);
    omni_webhook_free(req);
    omni_inbound_free(in);
    omni_engine_free(e);
}

Test(identity, routing_api)
{
    omni_engine *e = engine_new();
    routing(e, "+44 20 7946 0958", "{\"accountId\":\"a\",\"x\":{\"kept\":true}}");
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_routing_get(&out, &len, e, "+442079460958"), OMNI_OK);
    cr_assert_str_eq(out, "{\"accountId\":\"a\",\"x\":{\"kept\":true}}");
    cr_assert_eq(len, strlen(out));
    omni_free(out);
    routing(e, "+442079460958", "{\"accountId\":\"b\"}"); /* replaces */
    cr_assert_eq(omni_routing_get(&out, NULL, e, "+44 (0)20 7946 0958"), OMNI_OK);
    cr_assert_str_eq(out, "{\"accountId\":\"b\"}");
    omni_free(out);
    uint64_t version = 0;
    char *v;
    cr_assert_eq(omni_store_get(omni_engine_store(e), "routing", "+442079460958", 0, &v, NULL,
                                &version, NULL),
                 OMNI_OK);
    cr_assert_eq(version, 2);
    omni_free(v);
    cr_assert_eq(omni_routing_delete(e, "+442079460958"), OMNI_OK);
    cr_assert_eq(omni_routing_delete(e, "+442079460958"), OMNI_ENOTFOUND);
    cr_assert_eq(omni_routing_get(&out, NULL, e, "+442079460958"), OMNI_ENOTFOUND);
    cr_assert_null(out);
    const char *keys[] = {"", "4155550100", "+1415", "shortcode:12", "shortcode:12a45",
                          "mss:", "waba:a b", "business:x/y", "other:1", NULL};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cr_assert_eq(omni_routing_set(e, keys[i], "{\"accountId\":\"a\"}", 17), OMNI_EINVAL,
                     "%s", keys[i] ? keys[i] : "NULL");
        cr_assert_eq(omni_routing_get(&out, NULL, e, keys[i]), OMNI_EINVAL);
        cr_assert_eq(omni_routing_delete(e, keys[i]), OMNI_EINVAL);
    }
    const char *docs[] = {"[]", "{}", "{\"accountId\":\"\"}", "{\"accountId\":5}",
                          "{\"accountId\":\"a b\"}", "{\"accountId\":\"a\",\"tenantId\":3}",
                          "{\"accountId\":\"a\",\"businessUnitId\":{}}",
                          "{\"accountId\":\"a\",\"createCustomers\":\"yes\"}",
                          "{\"accountId\":\"a\",\"defaultRegion\":\"XX\"}"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        int rc = omni_routing_set(e, "shortcode:123", docs[i], strlen(docs[i]));
        cr_assert_eq(rc, OMNI_EINVAL, "%s: %s", docs[i], omni_error_last_message());
    }
    cr_assert_eq(omni_routing_set(e, "shortcode:123", "{", 1), OMNI_EJSON);
    cr_assert_eq(omni_routing_set(e, "shortcode:123", NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_routing_set(NULL, "shortcode:123", "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_routing_get(NULL, NULL, e, "shortcode:123"), OMNI_EINVAL);
    routing(e, "shortcode:123", "{\"accountId\":\"a\",\"createCustomers\":null,"
                                "\"defaultRegion\":\"gb\",\"tenantId\":null}");
    omni_engine_free(e);
}

Test(identity, customer_api)
{
    omni_engine *e = engine_new();
    char *out = NULL;
    size_t len = 0;
    const char *c = "{\"profile\":{\"firstName\":\"Ada\"},\"preferences\":{},\"extra\":1}";
    cr_assert_eq(omni_customer_put(&out, &len, e, c, strlen(c)), OMNI_OK);
    cJSON *doc = cJSON_Parse(out);
    const char *id = str_at(doc, "customerId", NULL);
    cr_assert_not_null(id);
    uint8_t raw[16];
    cr_assert_eq(omni_uuid_parse(raw, id, strlen(id)), OMNI_OK);
    cr_assert_eq(raw[6] >> 4, 7, "a UUIDv7");
    char *got = NULL;
    cr_assert_eq(omni_customer_get(&got, &len, e, id), OMNI_OK);
    cr_assert_str_eq(got, out);
    omni_free(got);
    omni_free(out);
    cJSON_Delete(doc);
    /* replace */
    customer(e, "{\"customerId\":\"c-1\",\"profile\":{\"firstName\":\"A\"}}");
    customer(e, "{\"customerId\":\"c-1\",\"profile\":{\"firstName\":\"B\"}}");
    cr_assert_eq(omni_customer_get(&got, NULL, e, "c-1"), OMNI_OK);
    cr_assert(strstr(got, "\"B\""));
    omni_free(got);
    /* errors */
    const char *bad[] = {"[]", "{\"customerId\":5}", "{\"customerId\":\"\"}",
                         "{\"customerId\":\"a/b\"}", "{\"profile\":[]}", "{\"preferences\":1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = (char *)1;
        cr_assert_eq(omni_customer_put(&out, NULL, e, bad[i], strlen(bad[i])), OMNI_EINVAL,
                     "%s", bad[i]);
        cr_assert_null(out);
    }
    cr_assert_eq(omni_customer_put(&out, NULL, e, "{", 1), OMNI_EJSON);
    cr_assert_eq(omni_customer_put(&out, NULL, NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_customer_put(&out, NULL, e, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_customer_get(&out, NULL, e, "nope"), OMNI_EIDENTITY);
    cr_assert_eq(omni_customer_get(&out, NULL, e, "a b"), OMNI_EINVAL);
    cr_assert_eq(omni_customer_get(&out, NULL, e, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_customer_get(NULL, NULL, e, "c-1"), OMNI_EINVAL);
    omni_engine_free(e);
}

Test(identity, namespace_is_documented_derivation)
{
    char ns[OMNI_UUID_STRLEN];
    const char *name = "urn:libomni:identity";
    cr_assert_eq(omni_uuid5(ns, OMNI_UUID_NS_URL, name, strlen(name)), OMNI_OK);
    cr_assert_str_eq(ns, OMNI_IDENTITY_NAMESPACE);
    cr_assert_str_eq(omni_identity_namespace(), OMNI_IDENTITY_NAMESPACE);
}

Test(identity, stored_records_that_do_not_make_sense)
{
    omni_engine *e = engine_new();
    omni_store *s = omni_engine_store(e);
    routing(e, "+14155550100", ROUTE_US);
    /* an index entry pointing to a customer that is gone: known, no profile */
    const char *v = "{\"customerId\":\"ghost\"}";
    cr_assert_eq(omni_store_put(s, "identity", "+14155550123", v, strlen(v), 0, 0, 0, NULL), 0);
    char *ev = event("twilio", "{\"phoneNumber\":\"+14155550123\"}", TO_US, NULL);
    cJSON *r = lookup(e, ev);
    cr_assert_str_eq(str_at(r, "identity", "customerId"), "ghost");
    cr_assert_str_eq(str_at(r, "identity", "customerType"), "known");
    cJSON_Delete(r);
    /* an index entry without a customerId: DATABASE_ERROR, not retryable */
    v = "{\"customer\":1}";
    cr_assert_eq(omni_store_put(s, "identity", "+14155550123", v, strlen(v),
                                OMNI_STORE_ANY_VERSION, 0, 0, NULL),
                 0);
    lookup_opts(e, ev, NULL, OMNI_ESTORAGE);
    cr_assert_eq(omni_error_last_retryable(), 0);
    free(ev);
    /* a routing record written behind the API's back */
    v = "{\"account\":\"x\"}";
    cr_assert_eq(omni_store_put(s, "routing", "shortcode:555", v, strlen(v), 0, 0, 0, NULL), 0);
    ev = event("twilio", "{\"phoneNumber\":\"+14155550123\"}", "{\"shortCode\":\"555\"}", NULL);
    lookup_opts(e, ev, NULL, OMNI_EROUTING);
    free(ev);
    omni_engine_free(e);
}

/* ---- concurrency ------------------------------------------------------- */

typedef struct {
    omni_engine *e;
    const char *ev;
    pthread_barrier_t *barrier;
    char id[OMNI_UUID_STRLEN];
    int rc;
} worker;

static void *run_lookup(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(w->barrier);
    char *out = NULL;
    size_t len;
    w->rc = omni_identity_lookup(&out, &len, w->e, w->ev, strlen(w->ev), NULL, 0);
    if (w->rc == OMNI_OK) {
        cJSON *r = cJSON_Parse(out);
        snprintf(w->id, sizeof(w->id), "%s", str_at(r, "identity", "customerId"));
        cJSON_Delete(r);
        omni_free(out);
    }
    return NULL;
}

static int count_cb(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)key, (void)key_len, (void)value, (void)value_len, (void)version, (void)expires_at_ms;
    (*(int *)ctx)++;
    return 0;
}

Test(identity, four_threads_create_one_customer)
{
    omni_engine *e = engine_new();
    routing(e, "+14155550199", ROUTE_NEW);
    for (int round = 0; round < 25; round++) {
        char sender[64];
        snprintf(sender, sizeof(sender), "{\"phoneNumber\":\"+1415555%04d\"}", 2000 + round);
        char *ev = event("twilio", sender, TO_NEW, NULL);
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 4);
        worker w[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            w[i] = (worker){e, ev, &barrier, "", -1};
            pthread_create(&t[i], NULL, run_lookup, &w[i]);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&barrier);
        for (int i = 0; i < 4; i++) {
            cr_assert_eq(w[i].rc, OMNI_OK);
            cr_assert_str_eq(w[i].id, w[0].id);
        }
        free(ev);
    }
    int customers = 0, identities = 0;
    omni_store *s = omni_engine_store(e);
    cr_assert_eq(omni_store_list(s, "customer", NULL, NULL, 1000, 0, count_cb, &customers, NULL),
                 OMNI_OK);
    cr_assert_eq(omni_store_list(s, "identity", NULL, NULL, 1000, 0, count_cb, &identities, NULL),
                 OMNI_OK);
    cr_assert_eq(customers, 25);
    cr_assert_eq(identities, 25);
    omni_engine_free(e);
}

/* ---- a failing store ---------------------------------------------------- */

typedef struct {
    omni_storage_hook inner;
    int fail_get, fail_put;
    int status;
} faulty;

static int f_get(void *ctx, const char *ns, const char *key, int64_t now, char **value,
                 size_t *value_len, uint64_t *version, int64_t *exp)
{
    faulty *f = ctx;
    if (f->fail_get && strcmp(ns, f->fail_get == 1 ? "routing" : "identity") == 0)
        return f->status == OMNI_ESTORAGE ? omni_error_set(OMNI_ESTORAGE, "disk on fire", -1)
                                          : f->status;
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

Test(identity, failing_store_is_a_retryable_database_error)
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
    routing(e, "+14155550100", ROUTE_US);
    routing(e, "+14155550199", ROUTE_NEW);
    char *ev = event("twilio", "{\"phoneNumber\":\"+14155550123\"}", TO_US, NULL);
    char *ev_new = event("twilio", "{\"phoneNumber\":\"+14155550123\"}", TO_NEW, NULL);

    int statuses[] = {OMNI_ESTORAGE, OMNI_EHOOK, OMNI_ETIMEOUT};
    for (size_t i = 0; i < 3; i++) {
        f.status = statuses[i];
        for (int where = 1; where <= 2; where++) { /* the routing read, the index read */
            f.fail_get = where;
            lookup_opts(e, ev, NULL, OMNI_ESTORAGE);
            cr_assert_str_eq(omni_error_last_code(), "DATABASE_ERROR");
            cr_assert_eq(omni_error_last_retryable(), 1);
            if (statuses[i] == OMNI_ESTORAGE)
                cr_assert_str_eq(omni_error_last_message(), "disk on fire");
        }
    }
    f.fail_get = 0;
    /* creating a new customer on a store that refuses writes */
    f.fail_put = 1;
    lookup_opts(e, ev_new, NULL, OMNI_ESTORAGE);
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert(strstr(omni_error_last_message(), "read-only replica"), "%s",
              omni_error_last_message());
    cr_assert_eq(omni_identity_link(e, "x", "+14155550123"), OMNI_EIDENTITY);
    const char *doc = "{\"accountId\":\"a\"}";
    cr_assert_eq(omni_routing_set(e, "shortcode:1234", doc, strlen(doc)), OMNI_ESTORAGE);
    /* back to normal: the retry succeeds */
    f.fail_put = 0;
    cJSON *r = lookup(e, ev_new);
    cr_assert_str_eq(str_at(r, "identity", "customerType"), "new");
    cJSON_Delete(r);
    free(ev);
    free(ev_new);
    omni_engine_free(e);
    omni_store_free(mem);
}
