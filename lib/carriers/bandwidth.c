/* Bandwidth Messaging API v2 callbacks (inbound adapter).
 *
 * Format: https://dev.bandwidth.com/docs/messaging/webhooks (every callback
 * is a JSON array of events {type, time, description, to, errorCode?,
 * message {id, owner, applicationId, time, segmentCount, direction, to[],
 * from, text, media[], tag?, priority?}}) and
 * https://dev.bandwidth.com/docs/messaging/errors (errorCode is an integer).
 *
 * Verification: HTTP Basic credentials that the Bandwidth application sends
 * with its callbacks (settings {"username", "password"}); both halves are
 * compared in constant time, and a missing or malformed Authorization header
 * is a bad signature.
 *
 * Mapping: "message-received" -> a message event (channelType "mms" when it
 * has media or several recipients, else "sms"; media URLs -> contentType
 * "media"); "message-sending" -> status "queued" (like Twilio's "sending"),
 * "message-delivered" -> "delivered", "message-failed" -> "failed" with
 * errorCode and description.
 * Other event types are acknowledged without an event. Addresses become
 * E.164 (numbers without '+' read with the configuration's defaultRegion);
 * an "owner" of 3 to 8 digits is a short code. Each event's rawPayload is
 * its own element of the array. Settings: {"username", "password"} (both or
 * neither; no other members but "verify"). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omni/crypto.h>
#include <omni/datetime.h>
#include <omni/identity.h>

#include "lib/carriers/carrier_internal.h"
#include "lib/core/codec.h"
#include "lib/core/crypto_internal.h"
#include "lib/core/error.h"
#include "lib/core/json.h"

#define BW "bandwidth"
/* Longest Authorization header looked at (Basic credentials). */
#define BW_MAX_AUTH 4096

/* ---- settings and verification ------------------------------------------ */

/* Compiled settings: digests of the configured credentials. */
typedef struct bw_state {
    int configured;
    uint8_t user[32];
    uint8_t pass[32];
} bw_state;

static int bw_compile(const cJSON *settings, void **state)
{
    *state = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, settings)
    {
        const char *k = it->string;
        if (strcmp(k, "username") == 0 || strcmp(k, "password") == 0) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                return omni__carrier_bad_setting(BW, k, "must be a non-empty string");
        } else if (strcmp(k, "verify") != 0) {
            return omni__carrier_bad_setting(BW, k, "is not a Bandwidth setting "
                                                    "(username, password, verify)");
        }
    }
    const char *user = omni__json_str(settings, "username");
    const char *pass = omni__json_str(settings, "password");
    if (!user != !pass)
        return omni__carrier_bad_setting(BW, user ? "password" : "username",
                                         "is required with the other credential");
    bw_state *st = calloc(1, sizeof(*st));
    if (!st)
        return omni__err(OMNI_ENOMEM, NULL);
    if (user) {
        if (omni__sha256(st->user, user, strlen(user)) != OMNI_OK ||
            omni__sha256(st->pass, pass, strlen(pass)) != OMNI_OK) {
            free(st);
            return omni__err(OMNI_ECRYPTO, "bandwidth: cannot digest the credentials");
        }
        st->configured = 1;
    }
    *state = st;
    return OMNI_OK;
}

static void bw_state_free(void *state)
{
    if (state)
        OPENSSL_cleanse(state, sizeof(bw_state));
    free(state);
}

/* 1 when SHA-256(s[0..n)) equals want, compared in constant time. */
static int digest_equal(const uint8_t want[32], const char *s, size_t n)
{
    uint8_t got[32];
    if (omni__sha256(got, s, n) != OMNI_OK)
        return 0;
    return omni_ct_equal(got, want, 32);
}

static int bw_verify(const omni__carrier_req *r)
{
    if (omni__carrier_verify_off(r))
        return OMNI_OK;
    const bw_state *st = r->state;
    if (!st || !st->configured)
        return omni__carrier_bad_signature(BW, "no callback username and password configured");
    const char *auth = r->req ? omni_webhook_header(r->req, "Authorization") : NULL;
    if (!auth)
        return omni__carrier_bad_signature(BW, "the request has no Authorization header");
    if (strlen(auth) > BW_MAX_AUTH)
        return omni__carrier_bad_signature(BW, "the Authorization header is too long");
    const char *p = auth;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
        return omni__carrier_bad_signature(BW, "the Authorization header is not Basic");
    p += 5;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return omni__carrier_bad_signature(BW, "the Basic credentials are empty");

    char dec[BW_MAX_AUTH]; /* n <= BW_MAX_AUTH, so the decoding fits */
    size_t dlen = 0;
    int ok = omni__base64_decode_into((uint8_t *)dec, sizeof(dec), &dlen, p, n, 0) == OMNI_OK;
    const char *colon = ok ? memchr(dec, ':', dlen) : NULL;
    int ok_user = 0, ok_pass = 0;
    if (colon) {
        size_t ulen = (size_t)(colon - dec);
        /* Both comparisons always run (no short-circuit). */
        ok_user = digest_equal(st->user, dec, ulen);
        ok_pass = digest_equal(st->pass, colon + 1, dlen - ulen - 1);
    }
    OPENSSL_cleanse(dec, sizeof(dec));
    if (!ok)
        return omni__carrier_bad_signature(BW, "the Basic credentials are not valid base64");
    if (!colon)
        return omni__carrier_bad_signature(BW, "the Basic credentials have no ':'");
    if (!(ok_user & ok_pass))
        return omni__carrier_bad_signature(BW, "wrong callback username or password");
    return OMNI_OK;
}

/* ---- parsing ------------------------------------------------------------- */

/* E.164 form of a carrier address into out, or the address as given when
 * it is not a phone number (identity lookup then reports it). */
static const char *phone(char out[OMNI_E164_STRLEN], const omni__carrier_req *r, const char *raw)
{
    if (!raw)
        return NULL;
    return omni__carrier_e164(out, r, raw) ? out : raw;
}

static int64_t time_of(const cJSON *obj, const char *name, int64_t fallback)
{
    const char *t = omni__json_str(obj, name);
    int64_t ms;
    if (t && omni_time_parse(&ms, t, strlen(t)) == OMNI_OK)
        return ms;
    return fallback;
}

static int str_or_absent(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return !it || cJSON_IsString(it) || cJSON_IsNull(it);
}

/* Checks one element of the callback array; OMNI_OK or OMNI_EWEBHOOK. */
static int check_event(const cJSON *e, size_t i)
{
    char why[96];
    if (!cJSON_IsObject(e)) {
        snprintf(why, sizeof(why), "event %zu is not an object", i);
        return omni__carrier_malformed(BW, why);
    }
    const char *type = omni__json_str(e, "type");
    if (!type) {
        snprintf(why, sizeof(why), "event %zu has no \"type\" string", i);
        return omni__carrier_malformed(BW, why);
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (!cJSON_IsObject(m) || !omni__json_str(m, "id") || !*omni__json_str(m, "id")) {
        snprintf(why, sizeof(why), "event %zu has no \"message\" with an \"id\"", i);
        return omni__carrier_malformed(BW, why);
    }
    if (!str_or_absent(e, "to") || !str_or_absent(e, "time") || !str_or_absent(m, "from") ||
        !str_or_absent(m, "owner") || !str_or_absent(m, "text") || !str_or_absent(m, "time")) {
        snprintf(why, sizeof(why), "event %zu has a field of the wrong type", i);
        return omni__carrier_malformed(BW, why);
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(m, "to");
    if (to && !cJSON_IsArray(to) && !cJSON_IsString(to) && !cJSON_IsNull(to)) {
        snprintf(why, sizeof(why), "event %zu: \"message.to\" is not an array", i);
        return omni__carrier_malformed(BW, why);
    }
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(m, "media");
    if (media && !cJSON_IsNull(media)) {
        const cJSON *u;
        int bad = !cJSON_IsArray(media);
        cJSON_ArrayForEach(u, media) if (!cJSON_IsString(u)) bad = 1;
        if (bad) {
            snprintf(why, sizeof(why), "event %zu: \"message.media\" is not an array of URLs", i);
            return omni__carrier_malformed(BW, why);
        }
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "errorCode");
    char buf[32];
    if (code && !cJSON_IsNull(code) && omni__json_id(code, buf, sizeof(buf)) != OMNI_OK) {
        snprintf(why, sizeof(why), "event %zu: \"errorCode\" is not an integer", i);
        return omni__carrier_malformed(BW, why);
    }
    if (strcmp(type, "message-received") == 0 && !omni__json_str(m, "from")) {
        snprintf(why, sizeof(why), "event %zu: a received message has no \"from\"", i);
        return omni__carrier_malformed(BW, why);
    }
    return OMNI_OK;
}

static int emit_message(omni__events *ev, const omni__carrier_req *r, const cJSON *e)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    char from_buf[OMNI_E164_STRLEN], to_buf[OMNI_E164_STRLEN];

    omni__message msg;
    memset(&msg, 0, sizeof(msg));
    msg.message_id = omni__json_str(m, "id");
    msg.sender_phone = phone(from_buf, r, omni__json_str(m, "from"));

    /* The recipient is the number this copy belongs to: "owner", else the
     * event's "to", else the first of message.to. */
    const char *rcpt = omni__json_str(m, "owner");
    if (!rcpt)
        rcpt = omni__json_str(e, "to");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(m, "to");
    if (!rcpt && cJSON_IsArray(to) && cJSON_IsString(cJSON_GetArrayItem(to, 0)))
        rcpt = cJSON_GetArrayItem(to, 0)->valuestring;
    if (!rcpt && cJSON_IsString(to))
        rcpt = to->valuestring;
    if (rcpt && omni__carrier_is_short_code(rcpt))
        msg.recipient_short_code = rcpt;
    else
        msg.recipient_phone = phone(to_buf, r, rcpt);

    const cJSON *media = cJSON_GetObjectItemCaseSensitive(m, "media");
    size_t nmedia = cJSON_IsArray(media) ? (size_t)cJSON_GetArraySize(media) : 0;
    omni__media *items = NULL;
    if (nmedia) {
        items = calloc(nmedia, sizeof(*items));
        if (!items)
            return omni__err(OMNI_ENOMEM, NULL);
        size_t k = 0;
        const cJSON *u;
        cJSON_ArrayForEach(u, media) items[k++].url = u->valuestring;
    }
    int group = cJSON_IsArray(to) && cJSON_GetArraySize(to) > 1;
    msg.channel_type = (nmedia || group) ? "mms" : "sms";
    const char *text = omni__json_str(m, "text");
    msg.content = text ? text : "";
    msg.content_type = nmedia ? "media" : "text";
    msg.media = items;
    msg.media_count = nmedia;
    msg.timestamp_ms = time_of(m, "time", time_of(e, "time", r->now_ms));
    int rc = omni__event_message(ev, r, &msg, e);
    free(items);
    return rc;
}

static int emit_status(omni__events *ev, const omni__carrier_req *r, const cJSON *e,
                       const char *status)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    char to_buf[OMNI_E164_STRLEN], code[32];
    omni__status_event s;
    memset(&s, 0, sizeof(s));
    s.carrier_message_id = omni__json_str(m, "id");
    s.status = status;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(e, "errorCode");
    if (ec && !cJSON_IsNull(ec) && omni__json_id(ec, code, sizeof(code)) == OMNI_OK)
        s.error_code = code;
    if (strcmp(status, "failed") == 0)
        s.error_message = omni__json_str(e, "description");
    s.recipient = phone(to_buf, r, omni__json_str(e, "to"));
    s.timestamp_ms = time_of(e, "time", r->now_ms);
    return omni__event_status(ev, r, &s);
}

static int bw_parse(const omni__carrier_req *r, omni__events *ev)
{
    const cJSON *root = NULL;
    int prc = omni__carrier_json(r, BW, &root);
    if (prc)
        return prc;
    if (!cJSON_IsArray(root))
        return omni__carrier_malformed(BW, "the body is not a JSON array of events");
    /* Check every event first, so a bad one yields no events at all. */
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root)
    {
        int rc = check_event(e, i++);
        if (rc)
            return rc;
    }
    int rc = OMNI_OK;
    cJSON_ArrayForEach(e, root)
    {
        const char *type = omni__json_str(e, "type");
        if (strcmp(type, "message-received") == 0)
            rc = emit_message(ev, r, e);
        else if (strcmp(type, "message-sending") == 0)
            rc = emit_status(ev, r, e, "queued");
        else if (strcmp(type, "message-delivered") == 0)
            rc = emit_status(ev, r, e, "delivered");
        else if (strcmp(type, "message-failed") == 0)
            rc = emit_status(ev, r, e, "failed");
        if (rc)
            break;
    }
    return rc;
}

const omni__carrier omni__carrier_bandwidth = {BW, bw_verify, bw_parse, bw_compile,
                                               bw_state_free};
