/* Identifier normalization (seed 001's normalizeIdentifier) and the
 * identity-index key (E.164 with the Brazilian ninth-digit equivalence). */
#include <string.h>

#include <omni/identity.h>

#include "core/error.h"
#include "core/json.h"
#include "identity_internal.h"

#define SENDER_MAX_BYTES (64u * 1024u)

/* A user or session id: 1..OMNI__IDENTIFIER_ID_MAX bytes, no control
 * characters (the text comes from JSON, so it is UTF-8). */
static int check_id(const char *s, size_t n, const char *what)
{
    if (n == 0)
        return omni__err(OMNI_EIDENTIFIER, "identifier: %s is empty", what);
    if (n > OMNI__IDENTIFIER_ID_MAX)
        return omni__err(OMNI_EIDENTIFIER, "identifier: %s is longer than %d bytes", what,
                         OMNI__IDENTIFIER_ID_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            return omni__err(OMNI_EIDENTIFIER, "identifier: %s contains a control character",
                             what);
    }
    size_t off = 0;
    if (omni_utf8_validate(s, n, &off) != OMNI_OK)
        return omni__err(OMNI_EIDENTIFIER, "identifier: %s is not valid UTF-8", what);
    return OMNI_OK;
}

static int put(char *out, size_t cap, const char *prefix, const char *s, size_t n)
{
    size_t p = strlen(prefix);
    if (p + n + 1 > cap)
        return omni__err(OMNI_EINVAL, "identifier: output buffer too small");
    memcpy(out, prefix, p);
    memcpy(out + p, s, n);
    out[p + n] = '\0';
    return OMNI_OK;
}

static int phone(char *out, size_t cap, const char *prefix, const omni__sender *s,
                 const char *region, unsigned flags)
{
    if (!s->phone)
        return omni__err(OMNI_EIDENTIFIER, "identifier: senderIdentifier.phoneNumber is missing");
    omni__phone p;
    int rc = omni__phone_parse(&p, s->phone, s->phone_len, region,
                               flags | OMNI__PHONE_NO_REGION);
    if (rc)
        return rc == OMNI_ETOOLARGE ? omni__err(OMNI_EIDENTIFIER, "identifier: phoneNumber is "
                                                                  "too long")
                                    : rc;
    return put(out, cap, prefix, p.e164, strlen(p.e164));
}

static int carrier_is(const char *c, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(c, name, n) == 0;
}

int omni__identity_normalize(char *out, size_t cap, const char *carrier, size_t carrier_len,
                             const omni__sender *s, const char *region)
{
    if (!out || cap == 0 || !s)
        return omni__err(OMNI_EINVAL, "identifier: NULL argument");
    out[0] = '\0';
    if (!carrier)
        return omni__err(OMNI_EINVAL, "identifier: carrier is NULL");
    if (carrier_is(carrier, carrier_len, "twilio") ||
        carrier_is(carrier, carrier_len, "bandwidth") ||
        carrier_is(carrier, carrier_len, "inteliquent"))
        return phone(out, cap, "", s, region, 0);
    if (carrier_is(carrier, carrier_len, "whatsapp")) {
        /* a wa_id is international even without '+' */
        if (s->phone || !s->user_id)
            return phone(out, cap, "wa:", s, region, OMNI__PHONE_INTERNATIONAL);
        int rc = check_id(s->user_id, s->user_id_len, "userId");
        return rc ? rc : put(out, cap, "wa:id:", s->user_id, s->user_id_len);
    }
    if (carrier_is(carrier, carrier_len, "livechat")) {
        if (!s->session_id)
            return omni__err(OMNI_EIDENTIFIER, "identifier: senderIdentifier.sessionId is "
                                               "missing");
        int rc = check_id(s->session_id, s->session_id_len, "sessionId");
        return rc ? rc : put(out, cap, "lc:", s->session_id, s->session_id_len);
    }
    if (carrier_is(carrier, carrier_len, "messagebird")) {
        if (s->user_id && s->user_id_len) {
            int rc = check_id(s->user_id, s->user_id_len, "userId");
            return rc ? rc : put(out, cap, "", s->user_id, s->user_id_len);
        }
        return phone(out, cap, "", s, region, 0);
    }
    return omni__err(OMNI_ECARRIER, "identifier: unknown carrier (known: twilio, whatsapp, "
                                    "bandwidth, messagebird, livechat, inteliquent)");
}

/* Reads an optional string member; OMNI_OK also when absent. */
static int member(const cJSON *obj, const char *name, const char **s, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *s = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v))
        return OMNI_OK;
    if (!cJSON_IsString(v) || !v->valuestring)
        return omni__err(OMNI_EIDENTIFIER, "identifier: senderIdentifier.%s must be a string",
                         name);
    *s = v->valuestring;
    *n = strlen(v->valuestring);
    return OMNI_OK;
}

int omni_identity_normalize(char **out, size_t *out_len, const char *carrier,
                            const char *sender_json, size_t sender_len,
                            const char *default_region)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out || !carrier || !sender_json)
        return omni__err(OMNI_EINVAL, "identity normalize: NULL argument");
    if (default_region && default_region[0] && !omni__phone_region_find(default_region))
        return omni__err(OMNI_EINVAL, "identity normalize: unknown default region");
    cJSON *root;
    int rc = omni__json_parse(&root, sender_json, sender_len, SENDER_MAX_BYTES,
                              "senderIdentifier");
    if (rc)
        return rc;
    omni__sender s;
    memset(&s, 0, sizeof(s));
    if (!cJSON_IsObject(root))
        rc = omni__err(OMNI_EIDENTIFIER, "identifier: senderIdentifier must be a JSON object");
    if (!rc)
        rc = member(root, "phoneNumber", &s.phone, &s.phone_len);
    if (!rc)
        rc = member(root, "userId", &s.user_id, &s.user_id_len);
    if (!rc)
        rc = member(root, "sessionId", &s.session_id, &s.session_id_len);
    char buf[OMNI__IDENTIFIER_MAX + 1];
    if (!rc)
        rc = omni__identity_normalize(buf, sizeof(buf), carrier, strlen(carrier), &s,
                                      default_region);
    cJSON_Delete(root);
    if (rc)
        return rc;
    size_t n = strlen(buf);
    char *copy = omni_malloc(n + 1);
    if (!copy)
        return omni__err(OMNI_ENOMEM, NULL);
    memcpy(copy, buf, n + 1);
    *out = copy;
    if (out_len)
        *out_len = n;
    return OMNI_OK;
}

int omni__identity_key(char *out, size_t cap, const char *id, size_t len, int br_ninth)
{
    if (!out || cap == 0 || !id)
        return omni__err(OMNI_EINVAL, "identity key: NULL argument");
    const char *prefix = "";
    const char *num = id;
    size_t num_len = len;
    if (len >= 4 && memcmp(id, "wa:+", 4) == 0) {
        prefix = "wa:";
        num += 3;
        num_len -= 3;
    }
    if (num_len > 0 && num[0] == '+') {
        char e164[OMNI_E164_STRLEN];
        if (num_len >= sizeof(e164))
            return omni__err(OMNI_EIDENTIFIER, "identity key: not an E.164 number");
        memcpy(e164, num, num_len);
        e164[num_len] = '\0';
        char key[OMNI_E164_STRLEN];
        int rc = omni_phone_identity_key(key, sizeof(key), e164,
                                         br_ninth ? OMNI_PHONE_BR_NINTH_DIGIT : 0);
        if (rc)
            return rc;
        return put(out, cap, prefix, key, strlen(key));
    }
    return put(out, cap, "", id, len);
}

int omni__identity_canonical(char *out, size_t cap, const char *id)
{
    if (!id)
        return omni__err(OMNI_EINVAL, "identifier is NULL");
    size_t len = strnlen(id, OMNI__IDENTIFIER_MAX + 1);
    if (len > OMNI__IDENTIFIER_MAX)
        return omni__err(OMNI_EIDENTIFIER, "identifier is longer than %d bytes",
                         OMNI__IDENTIFIER_MAX);
    if (len == 0)
        return omni__err(OMNI_EIDENTIFIER, "identifier is empty");
    omni__phone p;
    if (id[0] == '+') {
        int rc = omni__phone_parse(&p, id, len, NULL, 0);
        return rc ? rc : put(out, cap, "", p.e164, strlen(p.e164));
    }
    if (len >= 6 && memcmp(id, "wa:id:", 6) == 0) {
        int rc = check_id(id + 6, len - 6, "WhatsApp user id");
        return rc ? rc : put(out, cap, "", id, len);
    }
    if (len >= 3 && memcmp(id, "wa:", 3) == 0) {
        int rc = omni__phone_parse(&p, id + 3, len - 3, NULL, OMNI__PHONE_INTERNATIONAL);
        return rc ? rc : put(out, cap, "wa:", p.e164, strlen(p.e164));
    }
    if (len >= 3 && memcmp(id, "lc:", 3) == 0) {
        int rc = check_id(id + 3, len - 3, "LiveChat session id");
        return rc ? rc : put(out, cap, "", id, len);
    }
    int rc = check_id(id, len, "identifier");
    return rc ? rc : put(out, cap, "", id, len);
}
