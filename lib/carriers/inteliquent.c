/* Inteliquent Message Broker inbound SMS/MMS webhooks (inbound adapter).
 *
 * Format: Inteliquent Services API 2.0.0, Message Broker, "Receive Inbound
 * Message Webhook" (/CustomerConfiguredWebhookURLForInboundMessaging) and
 * "Configure Inbound Message Webhook" (/configureAuthorization), as
 * published at https://services.inteliquent.com/Services/2.0.0 (OpenAPI:
 * github.com/ooglek/inteliquent-sdk-php, Inteliquent_API_V2-3.yaml): a JSON
 * object {referenceId (required), from, to [TNs], text, mediaUrls [URLs],
 * deliveryReceipt (true for a delivery receipt)}; numbers are written as
 * 11 digits ("19205550000"). The documented body is one object; a JSON
 * array of such objects is accepted too and yields one event per element.
 *
 * Verification: Inteliquent sends a custom header configured with the
 * webhook (header_name / header_value of configureAuthorization). Settings
 * {"header": name (default "X-Inteliquent-Secret"), "secret": value}; the
 * value is compared in constant time (digests), a missing header or an
 * unconfigured secret is a bad signature.
 *
 * Mapping: a message -> a message event (channelType "mms" with media or
 * several recipients, else "sms"; sender and recipient (the first of "to")
 * as E.164, digits without '+' read as the configuration's defaultRegion
 * or, without one, as international digits; no timestamp is
 * sent, so the request's clock gives it). A delivery receipt -> a status
 * event for the referenceId: when its text carries the SMPP receipt fields
 * ("... stat:DELIVRD err:000 ...") they give the status (DELIVRD ->
 * delivered, UNDELIV/EXPIRED -> undelivered, REJECTD/DELETED -> failed,
 * ACCEPTD/ENROUTE/UNKNOWN -> sent) and a non-zero err the error code;
 * without them the receipt means delivered. The receipt's "from" (the
 * handset) is the status recipient. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omni/crypto.h>
#include <omni/identity.h>

#include "lib/carriers/carrier_internal.h"
#include "lib/core/crypto_internal.h"
#include "lib/core/error.h"
#include "lib/core/json.h"

#define IQ "inteliquent"
#define IQ_DEFAULT_HEADER "X-Inteliquent-Secret"

/* ---- settings and verification ------------------------------------------ */

#define IQ_MAX_HEADER_NAME 64

typedef struct iq_state {
    char header[IQ_MAX_HEADER_NAME + 1];
    int configured;
    uint8_t secret[32]; /* SHA-256 of the shared secret */
} iq_state;

/* 1 when s is an HTTP field name (RFC 9110 token). */
static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!isalnum(c) && !strchr("!#$%&'*+-.^_`|~", c))
            return 0;
    }
    return 1;
}

static int iq_compile(const cJSON *settings, void **state)
{
    *state = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, settings)
    {
        const char *k = it->string;
        if (strcmp(k, "secret") == 0) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                return omni__carrier_bad_setting(IQ, k, "must be a non-empty string");
        } else if (strcmp(k, "header") == 0) {
            if (!cJSON_IsString(it) || strlen(it->valuestring) > IQ_MAX_HEADER_NAME ||
                !is_token(it->valuestring))
                return omni__carrier_bad_setting(IQ, k, "must be an HTTP header name");
        } else if (strcmp(k, "verify") != 0) {
            return omni__carrier_bad_setting(IQ, k, "is not an Inteliquent setting "
                                                    "(header, secret, verify)");
        }
    }
    iq_state *st = calloc(1, sizeof(*st));
    if (!st)
        return omni__err(OMNI_ENOMEM, NULL);
    const char *name = omni__json_str(settings, "header");
    snprintf(st->header, sizeof(st->header), "%s", name ? name : IQ_DEFAULT_HEADER);
    const char *secret = omni__json_str(settings, "secret");
    if (secret) {
        if (omni__sha256(st->secret, secret, strlen(secret)) != OMNI_OK) {
            free(st);
            return omni__err(OMNI_ECRYPTO, "inteliquent: cannot digest the shared secret");
        }
        st->configured = 1;
    }
    *state = st;
    return OMNI_OK;
}

static void iq_state_free(void *state)
{
    if (state)
        OPENSSL_cleanse(state, sizeof(iq_state));
    free(state);
}

static int iq_verify(const omni__carrier_req *r)
{
    if (omni__carrier_verify_off(r))
        return OMNI_OK;
    const iq_state *st = r->state;
    if (!st || !st->configured)
        return omni__carrier_bad_signature(IQ, "no shared secret configured");
    const char *got = r->req ? omni_webhook_header(r->req, st->header) : NULL;
    if (!got)
        return omni__carrier_bad_signature(IQ, "the request has no shared-secret header");
    uint8_t d[32];
    if (omni__sha256(d, got, strlen(got)) != OMNI_OK || !omni_ct_equal(d, st->secret, sizeof(d)))
        return omni__carrier_bad_signature(IQ, "wrong shared secret");
    return OMNI_OK;
}

/* ---- parsing ------------------------------------------------------------- */

static const char *phone(char out[OMNI_E164_STRLEN], const omni__carrier_req *r, const char *raw)
{
    if (!raw)
        return NULL;
    return omni__carrier_e164(out, r, raw) ? out : raw;
}

static int is_str_array(const cJSON *a)
{
    if (!cJSON_IsArray(a))
        return 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) if (!cJSON_IsString(it)) return 0;
    return 1;
}

static int check_item(const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return omni__carrier_malformed(IQ, "a message is not a JSON object");
    char ref[128];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "referenceId");
    if (omni__json_id(id, ref, sizeof(ref)) != OMNI_OK || !ref[0])
        return omni__carrier_malformed(IQ, "a message has no usable \"referenceId\"");
    const cJSON *dr = cJSON_GetObjectItemCaseSensitive(o, "deliveryReceipt");
    if (dr && !cJSON_IsBool(dr) && !cJSON_IsNull(dr))
        return omni__carrier_malformed(IQ, "\"deliveryReceipt\" is not a boolean");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "from");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to");
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(o, "mediaUrls");
    if ((from && !cJSON_IsString(from) && !cJSON_IsNull(from)) ||
        (text && !cJSON_IsString(text) && !cJSON_IsNull(text)))
        return omni__carrier_malformed(IQ, "\"from\" or \"text\" is not a string");
    if (to && !cJSON_IsNull(to) && !cJSON_IsString(to) && !is_str_array(to))
        return omni__carrier_malformed(IQ, "\"to\" is not an array of numbers");
    if (media && !cJSON_IsNull(media) && !is_str_array(media))
        return omni__carrier_malformed(IQ, "\"mediaUrls\" is not an array of URLs");
    if (!cJSON_IsTrue(dr) && !cJSON_IsString(from))
        return omni__carrier_malformed(IQ, "a message has no \"from\"");
    return OMNI_OK;
}

/* Status from an SMPP-style receipt text ("id:.. stat:DELIVRD err:000"). */
static const char *receipt_status(const char *text, char *err, size_t err_cap)
{
    err[0] = '\0';
    const char *st = text ? strstr(text, "stat:") : NULL;
    if (!st)
        return "delivered";
    st += 5;
    size_t n = 0;
    while (st[n] && !isspace((unsigned char)st[n]))
        n++;
    const char *e = strstr(text, "err:");
    if (e) {
        e += 4;
        size_t k = 0;
        while (e[k] && isalnum((unsigned char)e[k]) && k + 1 < err_cap) {
            err[k] = e[k];
            k++;
        }
        err[k] = '\0';
        size_t z = 0;
        while (err[z] == '0')
            z++;
        if (err[z] == '\0')
            err[0] = '\0'; /* err:000 is no error */
    }
    static const char *const map[][2] = {
        {"DELIVRD", "delivered"}, {"UNDELIV", "undelivered"}, {"EXPIRED", "undelivered"},
        {"REJECTD", "failed"},    {"REJECTED", "failed"},     {"DELETED", "failed"},
        {"ACCEPTD", "sent"},      {"ENROUTE", "sent"},        {"UNKNOWN", "sent"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i][0]) == n && strncasecmp(st, map[i][0], n) == 0)
            return map[i][1];
    return "sent";
}

/* raw: the rawPayload (NULL: the whole body). */
static int emit_item(omni__events *ev, const omni__carrier_req *r, const cJSON *o,
                     const cJSON *raw)
{
    char ref[128], from_buf[OMNI_E164_STRLEN], to_buf[OMNI_E164_STRLEN];
    omni__json_id(cJSON_GetObjectItemCaseSensitive(o, "referenceId"), ref, sizeof(ref));
    const char *from = omni__json_str(o, "from");
    const char *text = omni__json_str(o, "text");

    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "deliveryReceipt"))) {
        char err[16];
        omni__status_event s;
        memset(&s, 0, sizeof(s));
        s.carrier_message_id = ref;
        s.status = receipt_status(text, err, sizeof(err));
        s.error_code = err[0] ? err : NULL;
        s.recipient = phone(from_buf, r, from);
        s.timestamp_ms = r->now_ms;
        return omni__event_status(ev, r, &s);
    }

    const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to");
    const char *rcpt = cJSON_IsString(to) ? to->valuestring : NULL;
    if (cJSON_IsArray(to) && cJSON_GetArraySize(to) > 0)
        rcpt = cJSON_GetArrayItem(to, 0)->valuestring;
    const cJSON *urls = cJSON_GetObjectItemCaseSensitive(o, "mediaUrls");
    size_t nmedia = cJSON_IsArray(urls) ? (size_t)cJSON_GetArraySize(urls) : 0;
    omni__media *media = NULL;
    if (nmedia) {
        media = calloc(nmedia, sizeof(*media));
        if (!media)
            return omni__err(OMNI_ENOMEM, NULL);
        size_t k = 0;
        const cJSON *u;
        cJSON_ArrayForEach(u, urls) media[k++].url = u->valuestring;
    }
    omni__message msg;
    memset(&msg, 0, sizeof(msg));
    int group = cJSON_IsArray(to) && cJSON_GetArraySize(to) > 1;
    msg.channel_type = (nmedia || group) ? "mms" : "sms";
    msg.message_id = ref;
    msg.sender_phone = phone(from_buf, r, from);
    msg.recipient_phone = phone(to_buf, r, rcpt);
    msg.content = text ? text : "";
    msg.content_type = nmedia ? "media" : "text";
    msg.media = media;
    msg.media_count = nmedia;
    msg.timestamp_ms = r->now_ms;
    int rc = omni__event_message(ev, r, &msg, raw);
    free(media);
    return rc;
}

static int iq_parse(const omni__carrier_req *r, omni__events *ev)
{
    const cJSON *root = NULL;
    int rc = omni__carrier_json(r, IQ, &root);
    if (rc)
        return rc;
    if (cJSON_IsObject(root)) {
        rc = check_item(root);
        return rc ? rc : emit_item(ev, r, root, NULL);
    }
    if (!cJSON_IsArray(root))
        return omni__carrier_malformed(IQ, "the body is not a JSON object");
    const cJSON *o;
    cJSON_ArrayForEach(o, root)
    {
        rc = check_item(o);
        if (rc)
            return rc;
    }
    cJSON_ArrayForEach(o, root)
    {
        rc = emit_item(ev, r, o, o);
        if (rc)
            return rc;
    }
    return OMNI_OK;
}

const omni__carrier omni__carrier_inteliquent = {IQ, iq_verify, iq_parse, iq_compile,
                                                 iq_state_free};
