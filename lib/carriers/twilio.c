/* Twilio Messaging webhooks: X-Twilio-Signature verification and the
 * parsing of incoming messages (SMS, MMS, WhatsApp and other channels
 * through Twilio) and status callbacks.
 *
 * Signature (Twilio's "Webhooks security" page): base64 of HMAC-SHA1 with
 * the auth token over the full URL Twilio requested, followed, for form
 * POSTs, by every POST parameter's name and value concatenated in the
 * order of the names (bytewise; the values of a repeated name sorted too
 * and repeated identical pairs taken once, as Twilio's SDKs do). For
 * application/json bodies only the URL is signed and its bodySHA256 query
 * parameter must be the hex SHA-256 of the body. Like the SDKs, the URL is
 * tried both without its port and with it (the scheme's default port added
 * when absent), because the URL as configured in the console decides. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "carrier_internal.h"
#include "core/codec.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"

#define NAME "twilio"
#define MAX_MEDIA 10
#define SIG_LEN 20

typedef struct twilio_state {
    omni__hmac_key *key; /* HMAC-SHA1 with the auth token; NULL when unset */
} twilio_state;

static void twilio_free(void *p)
{
    twilio_state *st = p;
    if (!st)
        return;
    omni__hmac_key_free(st->key);
    free(st);
}

static int twilio_compile(const cJSON *settings, void **state)
{
    for (const cJSON *c = settings->child; c; c = c->next) {
        const char *k = c->string ? c->string : "";
        if (strcmp(k, "authToken") == 0) {
            if (!cJSON_IsString(c) || !c->valuestring[0])
                return omni__carrier_bad_setting(NAME, "authToken", "must be a non-empty string");
        } else if (strcmp(k, "verify") != 0) {
            return omni__carrier_bad_setting(NAME, k, "unknown setting (authToken, verify)");
        }
    }
    twilio_state *st = calloc(1, sizeof(*st));
    if (!st)
        return omni__err(OMNI_ENOMEM, NULL);
    const char *token = omni__json_str(settings, "authToken");
    if (token) {
        int rc = omni__hmac_key_new(&st->key, OMNI_HASH_SHA1, token, strlen(token));
        if (rc) {
            free(st);
            return rc;
        }
    }
    *state = st;
    return OMNI_OK;
}

/* ---- verification ----------------------------------------------------------- */

static int is_json(const omni__carrier_req *r)
{
    const char *ct = omni_webhook_header(r->req, "Content-Type");
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", 16) == 0 &&
           (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ');
}

static int sha256_hex_matches(const char *hex, const char *body, size_t len)
{
    uint8_t want[32], got[32];
    if (!hex || strlen(hex) != 64 || !omni__hex_decode(want, hex, 32))
        return 0;
    if (omni_hash_digest(got, sizeof(got), OMNI_HASH_SHA256, body, len))
        return 0;
    return omni_ct_equal(want, got, 32);
}

/* The authority of scheme://authority/...: its start, length and the
 * length of its host part (the rest is ":port"). */
static const char *authority(const char *url, size_t *alen, size_t *host)
{
    const char *auth = strstr(url, "://") + 3;
    *alen = strcspn(auth, "/?#");
    if (auth[0] == '[') {
        const char *end = memchr(auth, ']', *alen);
        *host = end ? (size_t)(end - auth) + 1 : *alen;
    } else {
        const char *colon = memchr(auth, ':', *alen);
        *host = colon ? (size_t)(colon - auth) : *alen;
    }
    return auth;
}

static int has_port(const char *url)
{
    size_t alen, host;
    authority(url, &alen, &host);
    return host < alen;
}

/* MAC of: url with its port removed (with_port 0) or present (1, the
 * scheme's default port added when absent), then params. */
static int mac_url(omni__hmac *h, const char *url, int with_port, const char *params, size_t plen,
                   uint8_t out[SIG_LEN])
{
    size_t alen, host;
    const char *auth = authority(url, &alen, &host);
    int port = host < alen;
    omni__hmac_begin(h);
    omni__hmac_update(h, url, (size_t)(auth - url) + host);
    if (with_port) {
        if (port)
            omni__hmac_update(h, auth + host, alen - host);
        else if (strncmp(url, "https", 5) == 0)
            omni__hmac_update(h, ":443", 4);
        else
            omni__hmac_update(h, ":80", 3);
    }
    omni__hmac_update(h, auth + alen, strlen(auth + alen));
    omni__hmac_update(h, params, plen);
    return omni__hmac_final(h, out);
}

/* The sorted name+value concatenation of the form fields. */
static int build_params(omni_buf *b, const omni__pairs *p)
{
    size_t n = p->count;
    size_t stack[2 * 64];
    size_t *idx = n <= 64 ? stack : malloc(2 * n * sizeof(size_t));
    if (!idx)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        total += p->items[i].name_len + p->items[i].value_len;
    }
    omni__pairs_sort(idx, idx + n, n, p, 1);
    omni__buf_reserve(b, total);
    const omni__pair *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const omni__pair *a = &p->items[idx[i]];
        if (prev && prev->name_len == a->name_len && prev->value_len == a->value_len &&
            memcmp(prev->name, a->name, a->name_len) == 0 &&
            memcmp(prev->value, a->value, a->value_len) == 0)
            continue; /* an identical repeated pair counts once */
        omni__buf_append(b, a->name, a->name_len);
        omni__buf_append(b, a->value, a->value_len);
        prev = a;
    }
    if (idx != stack)
        free(idx);
    return omni__buf_status(b);
}

static int twilio_verify(const omni__carrier_req *r)
{
    const twilio_state *st = r->state;
    if (!st || !st->key)
        return omni__carrier_bad_signature(NAME, "no authToken is configured");
    int get = strcmp(r->method, "GET") == 0;
    if (!get && strcmp(r->method, "POST") != 0)
        return omni__carrier_malformed(NAME, "Twilio sends webhooks as POST or GET");
    const char *sig = omni_webhook_header(r->req, "X-Twilio-Signature");
    if (!sig || !sig[0])
        return omni__carrier_bad_signature(NAME, "the X-Twilio-Signature header is missing");
    uint8_t want[SIG_LEN + 4];
    size_t want_len = 0;
    size_t slen = strlen(sig);
    if (slen != 28 || omni__base64_decode_into(want, sizeof(want), &want_len, sig, slen, 0) ||
        want_len != SIG_LEN) {
        return omni__carrier_bad_signature(NAME, "X-Twilio-Signature is not a base64 "
                                                 "HMAC-SHA1 value");
    }
    if (!r->public_url[0])
        return omni__carrier_bad_signature(NAME, "the public URL is unknown (no valid Host "
                                                 "header; configure publicBaseUrl)");
    int rc;
    omni_buf params = OMNI_BUF_INIT;
    int json = !get && is_json(r);
    if (!get && !json) {
        const omni__pairs *p;
        if ((rc = omni__carrier_form(r, NAME, &p)))
            return rc;
        if ((rc = build_params(&params, p))) {
            omni__buf_free(&params);
            return rc;
        }
    }
    omni__hmac h;
    if ((rc = omni__hmac_init(&h, st->key))) {
        omni__buf_free(&params);
        return rc;
    }
    /* The URL as it most likely was configured first (without a port when
     * it has none); the other form only when that fails. Which form
     * matched is no secret, so this early exit leaks nothing. */
    uint8_t mac[SIG_LEN];
    const char *pdata = params.data ? params.data : "";
    int first = has_port(r->public_url);
    rc = mac_url(&h, r->public_url, first, pdata, params.len, mac);
    int ok = !rc && omni_ct_equal(mac, want, SIG_LEN);
    if (!rc && !ok) {
        rc = mac_url(&h, r->public_url, !first, pdata, params.len, mac);
        ok = !rc && omni_ct_equal(mac, want, SIG_LEN);
    }
    omni__hmac_release(&h);
    omni__buf_free(&params);
    if (rc)
        return omni__err(OMNI_ECRYPTO, "twilio webhook: computing the signature failed");
    if (!ok)
        return omni__carrier_bad_signature(NAME, "X-Twilio-Signature does not match");
    if (json) {
        const omni__pairs *q;
        if ((rc = omni__carrier_query(r, NAME, &q)))
            return rc;
        const char *hash = omni__pairs_get(q, "bodySHA256");
        if (!hash)
            return omni__carrier_bad_signature(NAME, "a JSON body needs the bodySHA256 query "
                                                     "parameter");
        if (!sha256_hex_matches(hash, r->body, r->body_len))
            return omni__carrier_bad_signature(NAME, "bodySHA256 does not match the body");
    }
    return OMNI_OK;
}

/* ---- parsing ------------------------------------------------------------------ */

/* The fields the adapter reads, collected in one pass over the form (or
 * the JSON object's members); the first occurrence of a name wins. */
enum {
    F_MESSAGE_SID, F_SMS_MESSAGE_SID, F_SMS_SID, F_FROM, F_TO, F_BODY, F_NUM_MEDIA,
    F_PROFILE_NAME, F_BUTTON_PAYLOAD, F_BUTTON_TEXT, F_REPLIED_SID, F_LATITUDE, F_LONGITUDE,
    F_LABEL, F_ADDRESS, F_ACCOUNT_SID, F_SERVICE_SID, F_MESSAGE_STATUS, F_ERROR_CODE,
    F_ERROR_MESSAGE, F_COUNT
};

static const struct {
    const char *name;
    size_t len;
} field_names[F_COUNT] = {
#define F(s) {s, sizeof(s) - 1}
    F("MessageSid"),   F("SmsMessageSid"), F("SmsSid"),          F("From"),
    F("To"),           F("Body"),          F("NumMedia"),        F("ProfileName"),
    F("ButtonPayload"), F("ButtonText"),   F("OriginalRepliedMessageSid"),
    F("Latitude"),     F("Longitude"),     F("Label"),           F("Address"),
    F("AccountSid"),   F("MessagingServiceSid"), F("MessageStatus"), F("ErrorCode"),
    F("ErrorMessage"),
#undef F
};

typedef struct fields {
    const char *v[F_COUNT];
    const char *media_url[MAX_MEDIA];
    const char *media_type[MAX_MEDIA];
    char num_buf[24]; /* NumMedia given as a JSON number */
} fields;

/* "MediaUrl3" -> 3 with prefix "MediaUrl"; -1 otherwise. */
static int media_index(const char *name, size_t len, const char *prefix, size_t plen)
{
    if (len != plen + 1 || memcmp(name, prefix, plen) != 0)
        return -1;
    char d = name[plen];
    return d >= '0' && d <= '9' ? d - '0' : -1;
}

static void collect_one(fields *f, const char *name, size_t len, const char *value)
{
    for (int i = 0; i < F_COUNT; i++) {
        if (field_names[i].len == len && name[0] == field_names[i].name[0] &&
            memcmp(name, field_names[i].name, len) == 0) {
            if (!f->v[i])
                f->v[i] = value;
            return;
        }
    }
    if (len < 9 || name[0] != 'M' || name[1] != 'e')
        return;
    int k = media_index(name, len, "MediaUrl", 8);
    if (k >= 0 && !f->media_url[k]) {
        f->media_url[k] = value;
        return;
    }
    k = media_index(name, len, "MediaContentType", 16);
    if (k >= 0 && !f->media_type[k])
        f->media_type[k] = value;
}

static void collect_pairs(fields *f, const omni__pairs *p)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < p->count; i++)
        collect_one(f, p->items[i].name, p->items[i].name_len, p->items[i].value);
}

static void collect_json(fields *f, const cJSON *obj)
{
    memset(f, 0, sizeof(*f));
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string)
            continue;
        size_t len = strlen(c->string);
        if (cJSON_IsString(c)) {
            collect_one(f, c->string, len, c->valuestring);
        } else if (cJSON_IsNumber(c) && strcmp(c->string, "NumMedia") == 0 && !f->v[F_NUM_MEDIA]) {
            if (omni__json_id(c, f->num_buf, sizeof(f->num_buf)) == 0)
                f->v[F_NUM_MEDIA] = f->num_buf;
            else
                f->v[F_NUM_MEDIA] = "-";
        }
    }
}

static const char *get(const fields *f, int i)
{
    const char *s = f->v[i];
    return s && s[0] ? s : NULL;
}

/* NumMedia: the value, -1 when absent, -2 when malformed. */
static long num_media(const fields *f)
{
    const char *s = f->v[F_NUM_MEDIA];
    if (!s)
        return -1;
    if (!s[0] || strlen(s) > 6)
        return -2;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -2;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* "whatsapp:+1415..." -> the channel ("whatsapp") and the address after
 * it; no prefix: channel "". */
static const char *split_channel(const char *addr, char *channel, size_t cap)
{
    const char *colon = strchr(addr, ':');
    channel[0] = '\0';
    if (!colon || (size_t)(colon - addr) >= cap || colon == addr)
        return addr;
    for (const char *p = addr; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return addr;
    memcpy(channel, addr, (size_t)(colon - addr));
    channel[colon - addr] = '\0';
    return colon + 1;
}

static const char *map_status(const char *s)
{
    static const char *const map[][2] = {
        {"accepted", "queued"},  {"scheduled", "queued"},  {"queued", "queued"},
        {"sending", "queued"},   {"sent", "sent"},         {"delivered", "delivered"},
        {"read", "read"},        {"undelivered", "undelivered"}, {"failed", "failed"},
        {"canceled", "failed"},  {"partially_delivered", "sent"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(s, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static int parse_status(const omni__carrier_req *r, omni__events *ev, const fields *f,
                        const char *status)
{
    const char *sid = get(f, F_MESSAGE_SID);
    if (!sid)
        sid = get(f, F_SMS_SID);
    if (!sid)
        return omni__carrier_malformed(NAME, "the status callback has no MessageSid");
    const char *mapped = map_status(status);
    if (!mapped) {
        omni__log(r->engine, OMNI_LOG_WARN, "carriers",
                  "twilio status callback with the unknown MessageStatus \"%.32s\" ignored",
                  status);
        return OMNI_OK;
    }
    const char *to = get(f, F_TO);
    char e164[OMNI_E164_STRLEN];
    char channel[24];
    const char *recipient = to;
    if (to && omni__carrier_e164(e164, r, split_channel(to, channel, sizeof(channel))))
        recipient = e164;
    omni__status_event st = {sid,
                             mapped,
                             get(f, F_ERROR_CODE),
                             get(f, F_ERROR_MESSAGE),
                             recipient,
                             r->now_ms};
    return omni__event_status(ev, r, &st);
}

static int is_vcard(const char *ct)
{
    return ct && (strncasecmp(ct, "text/vcard", 10) == 0 ||
                  strncasecmp(ct, "text/x-vcard", 12) == 0);
}

static int parse_coordinate(const char *s, double limit, double *out)
{
    if (!s || !s[0] || strlen(s) > 32)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < -limit || v > limit)
        return 0;
    *out = v;
    return 1;
}

static int parse_message(const omni__carrier_req *r, omni__events *ev, const fields *f)
{
    omni__message m;
    memset(&m, 0, sizeof(m));
    m.message_id = get(f, F_MESSAGE_SID);
    if (!m.message_id)
        m.message_id = get(f, F_SMS_MESSAGE_SID);
    if (!m.message_id)
        m.message_id = get(f, F_SMS_SID);
    const char *from = get(f, F_FROM);
    const char *to = get(f, F_TO);
    if (!m.message_id)
        return omni__carrier_malformed(NAME, "the message has no MessageSid");
    if (!from || !to)
        return omni__carrier_malformed(NAME, "the message needs From and To");
    long n_media = num_media(f);
    if (n_media == -2 || n_media > MAX_MEDIA)
        return omni__carrier_malformed(NAME, "NumMedia must be an integer from 0 to 10");
    if (n_media < 0)
        n_media = 0;

    omni__media media[MAX_MEDIA];
    long vcards = 0;
    for (long i = 0; i < n_media; i++) {
        memset(&media[i], 0, sizeof(media[i]));
        media[i].url = f->media_url[i] && f->media_url[i][0] ? f->media_url[i] : NULL;
        if (!media[i].url)
            return omni__carrier_malformed(NAME, "a MediaUrlN named by NumMedia is missing");
        media[i].content_type = f->media_type[i] && f->media_type[i][0] ? f->media_type[i]
                                                                          : NULL;
        vcards += is_vcard(media[i].content_type);
    }

    char from_ch[24], to_ch[24];
    const char *from_addr = split_channel(from, from_ch, sizeof(from_ch));
    const char *to_addr = split_channel(to, to_ch, sizeof(to_ch));
    char from_e164[OMNI_E164_STRLEN], to_e164[OMNI_E164_STRLEN];
    if (omni__carrier_e164(from_e164, r, from_addr))
        m.sender_phone = from_e164;
    else
        m.sender_user_id = from;
    if (omni__carrier_e164(to_e164, r, to_addr))
        m.recipient_phone = to_e164;
    else if (!to_ch[0] && omni__carrier_is_short_code(to_addr))
        m.recipient_short_code = to_addr;
    else
        m.recipient_business_id = to_addr;

    m.channel_type = (from_ch[0] || to_ch[0]) ? "chat" : n_media > 0 ? "mms" : "sms";
    m.content = f->v[F_BODY];
    m.timestamp_ms = r->now_ms;
    m.media = media;
    m.media_count = (size_t)n_media;
    m.sender_name = get(f, F_PROFILE_NAME);
    m.reply_id = get(f, F_BUTTON_PAYLOAD);
    m.reply_title = get(f, F_BUTTON_TEXT);
    m.context_message_id = get(f, F_REPLIED_SID);

    cJSON *location = NULL, *extra = NULL;
    double lat, lon;
    const char *slat = f->v[F_LATITUDE], *slon = f->v[F_LONGITUDE];
    int rc = OMNI_OK;
    if (slat || slon) {
        if (!parse_coordinate(slat, 90, &lat) || !parse_coordinate(slon, 180, &lon))
            return omni__carrier_malformed(NAME, "Latitude and Longitude must be numbers in "
                                                 "range");
        const char *label = get(f, F_LABEL), *address = get(f, F_ADDRESS);
        location = cJSON_CreateObject();
        if (!location || !cJSON_AddNumberToObject(location, "latitude", lat) ||
            !cJSON_AddNumberToObject(location, "longitude", lon) ||
            (label && !cJSON_AddStringToObject(location, "name", label)) ||
            (address && !cJSON_AddStringToObject(location, "address", address))) {
            rc = omni__err(OMNI_ENOMEM, NULL);
            goto done;
        }
        m.location = location;
        m.content_type = "location";
    } else if (n_media > 0) {
        m.content_type = vcards == n_media ? "contact" : "media";
    } else {
        m.content_type = "text";
    }
    const char *account = get(f, F_ACCOUNT_SID), *mss = get(f, F_SERVICE_SID);
    if (account || mss) {
        extra = cJSON_CreateObject();
        if (!extra ||
            (account && !cJSON_AddItemToObjectCS(extra, "accountSid",
                                                 cJSON_CreateStringReference(account))) ||
            (mss && !cJSON_AddItemToObjectCS(extra, "messagingServiceSid",
                                             cJSON_CreateStringReference(mss)))) {
            rc = omni__err(OMNI_ENOMEM, NULL);
            goto done;
        }
        m.extra = extra;
    }
    rc = omni__event_message(ev, r, &m, NULL);
    if (!rc)
        rc = omni__events_respond(ev, 200, "text/xml",
                                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
done:
    cJSON_Delete(location);
    cJSON_Delete(extra);
    return rc;
}

static int twilio_parse(const omni__carrier_req *r, omni__events *ev)
{
    fields f;
    int rc;
    int get_method = strcmp(r->method, "GET") == 0;
    if (!get_method && strcmp(r->method, "POST") != 0)
        return omni__carrier_malformed(NAME, "Twilio sends webhooks as POST or GET");
    if (!get_method && is_json(r)) {
        const cJSON *root;
        if ((rc = omni__carrier_json(r, NAME, &root)))
            return rc;
        if (!cJSON_IsObject(root))
            return omni__carrier_malformed(NAME, "the JSON body must be an object");
        collect_json(&f, root);
    } else {
        const omni__pairs *p;
        if ((rc = omni__carrier_form(r, NAME, &p)))
            return rc;
        collect_pairs(&f, p);
    }
    const char *status = get(&f, F_MESSAGE_STATUS);
    if (status && strcmp(status, "received") != 0 && strcmp(status, "receiving") != 0)
        return parse_status(r, ev, &f, status);
    return parse_message(r, ev, &f);
}

const omni__carrier omni__carrier_twilio = {
    NAME, twilio_verify, twilio_parse, twilio_compile, twilio_free,
};
