/* Identity lookup (seed 001's workFlowIdentityLookup) over the engine's
 * store: routing ("routing": recipient key -> routing), customers
 * ("customer": customerId -> record) and the identity index ("identity":
 * identity key -> {customerId}). Every write is a compare-and-swap
 * (create-only where it creates), so hosts sharing one store never
 * duplicate a customer.
 *
 * The lookup reads its input with a small non-allocating reader over
 * documents that omni__json_validate accepted (spans of the text, no
 * tree), which keeps a lookup of a known customer at a few microseconds. */
#include <stdio.h>
#include <string.h>

#include <omni/identity.h>

#include "core/buf.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "identity_internal.h"
#include "storage/store_internal.h"

#define NS_ROUTING "routing"
#define NS_CUSTOMER "customer"
#define NS_IDENTITY "identity"

#define ROUTING_MAX_BYTES (64u * 1024u)
#define OPTIONS_MAX_BYTES (4u * 1024u)
#define CUSTOMER_MAX_BYTES (1024u * 1024u)
#define ID_MAX 128      /* customerId, accountId, ... */
#define RECIPIENT_MAX 160
#define CAS_ATTEMPTS 8

/* ---- a reader over validated JSON text ---------------------------------- */

typedef struct jspan {
    const char *p; /* NULL: absent */
    size_t n;
} jspan;

static const char *j_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Bytes that matter when skipping: 1 inside strings ('"', '\\'), 2 in
 * containers ('"', brackets). */
static const unsigned char j_class[256] = {
    ['"'] = 3, ['\\'] = 1, ['{'] = 2, ['}'] = 2, ['['] = 2, [']'] = 2,
};

static const char *j_skip_str(const char *p, const char *e)
{
    p++;
    for (;;) {
        while (p < e && !(j_class[(unsigned char)*p] & 1))
            p++;
        if (p >= e)
            return e;
        if (*p == '"')
            return p + 1;
        p += 2; /* an escape: the next byte never ends the string */
    }
}

static const char *j_skip(const char *p, const char *e)
{
    p = j_ws(p, e);
    if (p >= e)
        return e;
    if (*p == '"')
        return j_skip_str(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < e) {
            while (p < e && !(j_class[(unsigned char)*p] & 2))
                p++;
            if (p >= e)
                break;
            char c = *p;
            if (c == '"') {
                p = j_skip_str(p, e);
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (--depth == 0) {
                return p + 1;
            }
            p++;
        }
        return e;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r')
        p++;
    return p;
}

typedef struct jiter {
    const char *p, *e;
} jiter;

static int j_is(jspan v, char c)
{
    return v.p && v.n > 0 && v.p[0] == c;
}

static int j_obj(jiter *it, jspan obj)
{
    if (!j_is(obj, '{'))
        return 0;
    it->p = obj.p + 1;
    it->e = obj.p + obj.n;
    return 1;
}

/* Next member: key (with its quotes) and value spans. */
static int j_next(jiter *it, jspan *key, jspan *val)
{
    const char *p = j_ws(it->p, it->e);
    if (p < it->e && *p == ',')
        p = j_ws(p + 1, it->e);
    if (p >= it->e || *p != '"')
        return 0;
    const char *k = p;
    p = j_skip_str(p, it->e);
    key->p = k;
    key->n = (size_t)(p - k);
    p = j_ws(p, it->e);
    if (p < it->e && *p == ':')
        p++;
    p = j_ws(p, it->e);
    const char *v = p;
    p = j_skip(p, it->e);
    val->p = v;
    val->n = (size_t)(p - v);
    it->p = p;
    return 1;
}

/* Unescapes a JSON string span into buf (NUL-terminated). Returns the
 * length, or -1 when it does not fit or holds a NUL. */
static long j_str(jspan v, char *buf, size_t cap)
{
    if (!j_is(v, '"') || v.n < 2 || cap == 0)
        return -1;
    const char *p = v.p + 1, *e = v.p + v.n - 1;
    size_t n = 0;
    while (p < e) {
        unsigned long cp;
        if (*p != '\\') {
            if (n + 1 >= cap)
                return -1;
            buf[n++] = *p++;
            continue;
        }
        p++;
        if (p >= e)
            return -1;
        char c = *p++;
        switch (c) {
        case 'n': cp = '\n'; break;
        case 't': cp = '\t'; break;
        case 'r': cp = '\r'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'u': {
            if (e - p < 4)
                return -1;
            cp = 0;
            for (int i = 0; i < 4; i++) {
                char h = *p++;
                cp = cp * 16 + (unsigned long)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned long lo = 0;
                for (int i = 2; i < 6; i++) {
                    char h = p[i];
                    lo = lo * 16 + (unsigned long)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            break;
        }
        default: cp = (unsigned char)c; break;
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        char tmp[4];
        size_t k;
        if (cp < 0x80) {
            tmp[0] = (char)cp, k = 1;
        } else if (cp < 0x800) {
            tmp[0] = (char)(0xC0 | (cp >> 6)), tmp[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
        } else if (cp < 0x10000) {
            tmp[0] = (char)(0xE0 | (cp >> 12)), tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            tmp[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
        } else {
            tmp[0] = (char)(0xF0 | (cp >> 18)), tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), tmp[3] = (char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (n + k >= cap)
            return -1;
        memcpy(buf + n, tmp, k);
        n += k;
    }
    buf[n] = '\0';
    return (long)n;
}

/* 1 when the key span (with quotes) is `name` (len bytes). */
static int j_key_is_n(jspan key, const char *name, size_t len)
{
    if (key.n == len + 2 && memcmp(key.p + 1, name, len) == 0)
        return 1;
    if (!memchr(key.p, '\\', key.n))
        return 0;
    char buf[64];
    long k = j_str(key, buf, sizeof(buf));
    return k == (long)len && memcmp(buf, name, len) == 0;
}

#define j_key_is(key, lit) j_key_is_n(key, lit, sizeof(lit) - 1)

/* The first member `name` of an object span (cJSON's lookup order). */
static jspan j_get(jspan obj, const char *name)
{
    jiter it;
    jspan k, v, none = {NULL, 0};
    if (!j_obj(&it, obj))
        return none;
    size_t len = strlen(name);
    while (j_next(&it, &k, &v))
        if (j_key_is_n(k, name, len))
            return v;
    return none;
}

/* The value of a validated document: trimmed of surrounding whitespace. */
static jspan j_root(const char *text, size_t len)
{
    const char *e = text + len;
    const char *p = j_ws(text, e);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    jspan s = {p, (size_t)(e - p)};
    return s;
}

/* One pass over an object: out[i] receives the first member names[i]
 * (absent: {NULL, 0}). */
static void j_fields(jspan obj, const char *const *names, jspan *out, size_t count)
{
    size_t lens[8];
    for (size_t i = 0; i < count && i < 8; i++) {
        out[i] = (jspan){NULL, 0};
        lens[i] = strlen(names[i]);
    }
    jiter it;
    jspan k, v;
    if (!j_obj(&it, obj))
        return;
    while (j_next(&it, &k, &v)) {
        for (size_t i = 0; i < count && i < 8; i++) {
            if (!out[i].p && j_key_is_n(k, names[i], lens[i])) {
                out[i] = v;
                break;
            }
        }
    }
}

/* A string member copied into buf; 0 when absent or null; -1 on a wrong
 * type or a value that does not fit. */
static int j_get_str(jspan obj, const char *name, char *buf, size_t cap)
{
    jspan v = j_get(obj, name);
    if (!v.p || j_is(v, 'n'))
        return 0;
    if (!j_is(v, '"') || j_str(v, buf, cap) < 0)
        return -1;
    return 1;
}

/* ---- storage errors ----------------------------------------------------- */

/* Storage failures become DATABASE_ERROR (retryable), keeping the hook's
 * message; out of memory stays what it is. */
static int db_error(int rc, const char *what)
{
    if (rc == OMNI_ENOMEM || rc == OMNI_ESTORAGE)
        return rc;
    return omni__err_retry(OMNI_ESTORAGE, 1, "identity: %s failed (%s: %s)", what,
                           omni_status_code(rc), omni_error_last_message());
}

/* Reads a record and validates it as JSON. *text is released with
 * omni_free. OMNI_ENOTFOUND when absent; storage errors as db_error. */
static int load(omni_store *store, const char *ns, const char *key, int64_t now, size_t max,
                char **text, size_t *len, uint64_t *version)
{
    int rc = omni_store_get(store, ns, key, now, text, len, version, NULL);
    if (rc == OMNI_ENOTFOUND)
        return rc;
    if (rc)
        return db_error(rc, "reading the store");
    if (omni__json_validate(*text, *len, max, "stored record") != OMNI_OK) {
        omni_free(*text);
        *text = NULL;
        return omni__err_retry(OMNI_ESTORAGE, 0, "identity: a stored %s record is not valid "
                                                 "JSON",
                               ns);
    }
    return OMNI_OK;
}

static omni_store *engine_store(omni_engine *engine)
{
    return engine ? omni_engine_store(engine) : NULL;
}

/* ---- identifiers and keys ----------------------------------------------- */

/* customerId, accountId, ...: 1..ID_MAX bytes of [A-Za-z0-9._:@+-]. */
static int check_plain_id(const char *s, size_t n, const char *what)
{
    if (n == 0 || n > ID_MAX)
        return omni__err(OMNI_EINVAL, "%s must be 1 to %d characters", what, ID_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '-'))
            return omni__err(OMNI_EINVAL, "%s may only contain letters, digits and ._:@+-",
                             what);
    }
    return OMNI_OK;
}

/* A recipient key: an E.164 number (any written form with '+'),
 * "shortcode:<3-15 digits>", "mss:<id>", "waba:<id>", "business:<id>". */
static int recipient_key(char *out, size_t cap, const char *key)
{
    if (!key)
        return omni__err(OMNI_EINVAL, "routing: recipient key is NULL");
    size_t n = strnlen(key, RECIPIENT_MAX + 1);
    if (n == 0 || n > RECIPIENT_MAX)
        return omni__err(OMNI_EINVAL, "routing: recipient key must be 1 to %d bytes",
                         RECIPIENT_MAX);
    if (key[0] == '+') {
        omni__phone p;
        if (omni__phone_parse(&p, key, n, NULL, 0) != OMNI_OK)
            return omni__err(OMNI_EINVAL, "routing: recipient key is not a valid E.164 number");
        snprintf(out, cap, "%s", p.e164);
        return OMNI_OK;
    }
    static const char *const prefixes[] = {"shortcode:", "mss:", "waba:", "business:"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i]);
        if (n <= pl || memcmp(key, prefixes[i], pl) != 0)
            continue;
        if (i == 0) {
            if (n - pl < 3 || n - pl > 15 || strspn(key + pl, "0123456789") != n - pl)
                return omni__err(OMNI_EINVAL, "routing: a short code is 3 to 15 digits");
        } else if (check_plain_id(key + pl, n - pl, "routing: recipient id") != OMNI_OK) {
            return OMNI_EINVAL;
        }
        snprintf(out, cap, "%s", key);
        return OMNI_OK;
    }
    return omni__err(OMNI_EINVAL, "routing: recipient key must be an E.164 number or begin "
                                  "with shortcode:, mss:, waba: or business:");
}

/* ---- routing ------------------------------------------------------------ */

typedef struct routing {
    char *text; /* the stored record (omni_free) */
    size_t len;
    jspan account, business_unit, tenant; /* JSON string spans */
    int create_customers;
    char region[3];
} routing;

/* Checks a routing document; fills r's spans when r is given. */
static int routing_read(jspan doc, routing *r, const char *what)
{
    if (!j_is(doc, '{'))
        return omni__err(OMNI_EINVAL, "%s must be a JSON object", what);
    static const char *const names[] = {"accountId", "businessUnitId", "tenantId",
                                        "createCustomers", "defaultRegion"};
    jspan f[5];
    j_fields(doc, names, f, 5);
    jspan acc = f[0], bu = f[1], ten = f[2], cc = f[3], reg = f[4];
    char buf[ID_MAX + 1];
    long k;
    if (!acc.p || (k = j_str(acc, buf, sizeof(buf))) <= 0 ||
        check_plain_id(buf, (size_t)k, "routing.accountId") != OMNI_OK)
        return omni__err(OMNI_EINVAL, "%s: accountId must be a string of 1 to %d letters, "
                                      "digits or ._:@+-",
                         what, ID_MAX);
    if (bu.p && !j_is(bu, 'n') && (j_str(bu, buf, sizeof(buf)) < 0))
        return omni__err(OMNI_EINVAL, "%s: businessUnitId must be a string of at most %d bytes",
                         what, ID_MAX);
    if (ten.p && !j_is(ten, 'n') && (j_str(ten, buf, sizeof(buf)) < 0))
        return omni__err(OMNI_EINVAL, "%s: tenantId must be a string of at most %d bytes", what,
                         ID_MAX);
    if (cc.p && !j_is(cc, 't') && !j_is(cc, 'f') && !j_is(cc, 'n'))
        return omni__err(OMNI_EINVAL, "%s: createCustomers must be a boolean", what);
    char rb[8] = "";
    if (reg.p && !j_is(reg, 'n') &&
        (j_str(reg, rb, sizeof(rb)) < 0 || !omni__phone_region_find(rb)))
        return omni__err(OMNI_EINVAL, "%s: defaultRegion must be an ISO 3166-1 alpha-2 region "
                                      "code",
                         what);
    if (r) {
        r->account = acc;
        r->business_unit = j_is(bu, '"') ? bu : (jspan){NULL, 0};
        r->tenant = j_is(ten, '"') ? ten : (jspan){NULL, 0};
        r->create_customers = j_is(cc, 't');
        r->region[0] = '\0';
        if (rb[0]) {
            r->region[0] = (char)(rb[0] & ~0x20);
            r->region[1] = (char)(rb[1] & ~0x20);
            r->region[2] = '\0';
        }
    }
    return OMNI_OK;
}

int omni_routing_set(omni_engine *engine, const char *recipient, const char *json, size_t len)
{
    omni_store *store = engine_store(engine);
    if (!store || !json)
        return omni__err(OMNI_EINVAL, "routing set: NULL engine or routing");
    char key[RECIPIENT_MAX + 1];
    int rc = recipient_key(key, sizeof(key), recipient);
    if (rc)
        return rc;
    rc = omni__json_validate(json, len, ROUTING_MAX_BYTES, "routing");
    if (rc)
        return rc;
    rc = routing_read(j_root(json, len), NULL, "routing");
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        uint64_t version = 0;
        char *old = NULL;
        size_t old_len;
        rc = omni_store_get(store, NS_ROUTING, key, now, &old, &old_len, &version, NULL);
        omni_free(old);
        if (rc == OMNI_ENOTFOUND)
            version = OMNI_STORE_CREATE;
        else if (rc)
            return db_error(rc, "reading the routing");
        rc = omni__store_put_trusted(store, NS_ROUTING, key, json, len, version, 0, now, NULL);
        if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND)
            continue;
        return rc ? db_error(rc, "writing the routing") : OMNI_OK;
    }
    return omni__err(OMNI_ECONFLICT, "routing set: the record kept changing; try again");
}

int omni_routing_get(char **out, size_t *out_len, omni_engine *engine, const char *recipient)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = engine_store(engine);
    if (!out || !store)
        return omni__err(OMNI_EINVAL, "routing get: NULL out or engine");
    char key[RECIPIENT_MAX + 1];
    int rc = recipient_key(key, sizeof(key), recipient);
    if (rc)
        return rc;
    size_t len;
    rc = load(store, NS_ROUTING, key, omni_engine_now_ms(engine), ROUTING_MAX_BYTES, out, &len,
              NULL);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "routing get: no routing for this recipient");
    if (rc == OMNI_OK && out_len)
        *out_len = len;
    return rc;
}

int omni_routing_delete(omni_engine *engine, const char *recipient)
{
    omni_store *store = engine_store(engine);
    if (!store)
        return omni__err(OMNI_EINVAL, "routing delete: engine is NULL");
    char key[RECIPIENT_MAX + 1];
    int rc = recipient_key(key, sizeof(key), recipient);
    if (rc)
        return rc;
    rc = omni_store_delete(store, NS_ROUTING, key, OMNI_STORE_ANY_VERSION,
                           omni_engine_now_ms(engine));
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "routing delete: no routing for this recipient");
    return rc ? db_error(rc, "deleting the routing") : OMNI_OK;
}

/* ---- customers ---------------------------------------------------------- */

int omni_customer_put(char **out, size_t *out_len, omni_engine *engine, const char *json,
                      size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = engine_store(engine);
    if (!store || !json)
        return omni__err(OMNI_EINVAL, "customer put: NULL engine or customer");
    cJSON *root;
    int rc = omni__json_parse(&root, json, len, CUSTOMER_MAX_BYTES, "customer");
    if (rc)
        return rc;
    char id[OMNI_UUID_STRLEN > ID_MAX + 1 ? OMNI_UUID_STRLEN : ID_MAX + 1];
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "customerId");
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(root, "profile");
    const cJSON *prefs = cJSON_GetObjectItemCaseSensitive(root, "preferences");
    if (!cJSON_IsObject(root))
        rc = omni__err(OMNI_EINVAL, "customer must be a JSON object");
    else if (profile && !cJSON_IsObject(profile))
        rc = omni__err(OMNI_EINVAL, "customer.profile must be an object");
    else if (prefs && !cJSON_IsObject(prefs))
        rc = omni__err(OMNI_EINVAL, "customer.preferences must be an object");
    else if (cid && !cJSON_IsNull(cid)) {
        if (!cJSON_IsString(cid) || !cid->valuestring)
            rc = omni__err(OMNI_EINVAL, "customer.customerId must be a string");
        else if (!(rc = check_plain_id(cid->valuestring, strlen(cid->valuestring),
                                       "customer.customerId")))
            snprintf(id, sizeof(id), "%s", cid->valuestring);
    } else {
        rc = omni_uuid7(id, engine);
        if (!rc) {
            cJSON_DeleteItemFromObjectCaseSensitive(root, "customerId");
            if (!cJSON_AddStringToObject(root, "customerId", id))
                rc = omni__err(OMNI_ENOMEM, NULL);
        }
    }
    char *text = NULL;
    size_t text_len = 0;
    if (!rc)
        rc = omni__json_print(&text, &text_len, root);
    cJSON_Delete(root);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    rc = OMNI_ECONFLICT;
    for (int attempt = 0; attempt < CAS_ATTEMPTS && rc == OMNI_ECONFLICT; attempt++) {
        uint64_t version = 0;
        char *old = NULL;
        size_t old_len;
        rc = omni_store_get(store, NS_CUSTOMER, id, now, &old, &old_len, &version, NULL);
        omni_free(old);
        if (rc == OMNI_ENOTFOUND)
            version = OMNI_STORE_CREATE;
        else if (rc) {
            rc = db_error(rc, "reading the customer");
            break;
        }
        rc = omni__store_put_trusted(store, NS_CUSTOMER, id, text, text_len, version, 0, now,
                                     NULL);
        if (rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND)
            rc = OMNI_ECONFLICT;
        else if (rc)
            rc = db_error(rc, "writing the customer");
    }
    if (rc == OMNI_ECONFLICT)
        rc = omni__err(OMNI_ECONFLICT, "customer put: the record kept changing; try again");
    if (rc) {
        omni_free(text);
        return rc;
    }
    *out = text; /* malloc'd, as omni_free expects */
    if (out_len)
        *out_len = text_len;
    return OMNI_OK;
}

int omni_customer_get(char **out, size_t *out_len, omni_engine *engine, const char *customer_id)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = engine_store(engine);
    if (!out || !store || !customer_id)
        return omni__err(OMNI_EINVAL, "customer get: NULL argument");
    int rc = check_plain_id(customer_id, strnlen(customer_id, ID_MAX + 1), "customerId");
    if (rc)
        return rc;
    size_t len;
    rc = load(store, NS_CUSTOMER, customer_id, omni_engine_now_ms(engine), CUSTOMER_MAX_BYTES,
              out, &len, NULL);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_EIDENTITY, "customer get: no customer with this id");
    if (rc == OMNI_OK && out_len)
        *out_len = len;
    return rc;
}

/* ---- the identity index ------------------------------------------------- */

/* {"customerId":"...","identifier":"...","linkedAt":"..."} */
static int index_value(omni_buf *b, const char *customer_id, const char *identifier,
                       int64_t now)
{
    char when[OMNI_TIME_STRLEN];
    if (omni_time_format(when, sizeof(when), now) != OMNI_OK)
        when[0] = '\0';
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "customerId");
    omni__json_w_str(b, customer_id);
    omni__json_w_key(b, "identifier");
    omni__json_w_str(b, identifier);
    omni__json_w_key(b, "linkedAt");
    omni__json_w_str(b, when);
    omni__json_w_obj_end(b);
    return omni__buf_status(b);
}

/* The customerId an index record points to (into buf). */
static int index_customer(const char *text, size_t len, char *buf, size_t cap)
{
    int k = j_get_str(j_root(text, len), "customerId", buf, cap);
    if (k <= 0 || check_plain_id(buf, strlen(buf), "customerId") != OMNI_OK)
        return omni__err_retry(OMNI_ESTORAGE, 0, "identity: an identity index record has no "
                                                 "valid customerId");
    return OMNI_OK;
}

/* Creates the index record key -> customer_id (create-only). OMNI_OK when
 * it now points to customer_id (created, or already so), OMNI_EEXISTS
 * with *other filled when it points to another customer. */
static int index_create(omni_store *store, const char *key, const char *customer_id,
                        const char *identifier, int64_t now, char *other, size_t other_cap)
{
    omni_buf b = OMNI_BUF_INIT;
    int rc = index_value(&b, customer_id, identifier, now);
    if (!rc)
        rc = omni__store_put_trusted(store, NS_IDENTITY, key, b.data, b.len, OMNI_STORE_CREATE,
                                     0, now, NULL);
    omni__buf_free(&b);
    if (rc == OMNI_OK)
        return OMNI_OK;
    if (rc != OMNI_EEXISTS)
        return db_error(rc, "writing the identity index");
    char *text;
    size_t len;
    rc = load(store, NS_IDENTITY, key, now, ROUTING_MAX_BYTES, &text, &len, NULL);
    if (rc == OMNI_ENOTFOUND) /* unlinked in between: the caller may retry */
        return omni__err(OMNI_ECONFLICT, "identity: the index changed during the write");
    if (rc)
        return rc;
    rc = index_customer(text, len, other, other_cap);
    omni_free(text);
    if (rc)
        return rc;
    return strcmp(other, customer_id) == 0 ? OMNI_OK : OMNI_EEXISTS;
}

int omni_identity_link(omni_engine *engine, const char *customer_id, const char *identifier)
{
    omni_store *store = engine_store(engine);
    if (!store || !customer_id || !identifier)
        return omni__err(OMNI_EINVAL, "identity link: NULL argument");
    int rc = check_plain_id(customer_id, strnlen(customer_id, ID_MAX + 1), "customerId");
    if (rc)
        return rc;
    char canon[OMNI__IDENTIFIER_MAX + 1], key[OMNI__IDENTIFIER_MAX + 1];
    rc = omni__identity_canonical(canon, sizeof(canon), identifier);
    if (!rc)
        rc = omni__identity_key(key, sizeof(key), canon, strlen(canon), 1);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    char *text;
    size_t len;
    rc = load(store, NS_CUSTOMER, customer_id, now, CUSTOMER_MAX_BYTES, &text, &len, NULL);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_EIDENTITY, "identity link: no customer with this id");
    if (rc)
        return rc;
    omni_free(text);
    char other[ID_MAX + 1];
    rc = index_create(store, key, customer_id, canon, now, other, sizeof(other));
    if (rc == OMNI_EEXISTS)
        return omni__err(OMNI_EEXISTS, "identity link: the identifier belongs to another "
                                       "customer (unlink it first)");
    return rc;
}

int omni_identity_unlink(omni_engine *engine, const char *identifier)
{
    omni_store *store = engine_store(engine);
    if (!store || !identifier)
        return omni__err(OMNI_EINVAL, "identity unlink: NULL argument");
    char canon[OMNI__IDENTIFIER_MAX + 1], key[OMNI__IDENTIFIER_MAX + 1];
    int rc = omni__identity_canonical(canon, sizeof(canon), identifier);
    if (!rc)
        rc = omni__identity_key(key, sizeof(key), canon, strlen(canon), 1);
    if (rc)
        return rc;
    rc = omni_store_delete(store, NS_IDENTITY, key, OMNI_STORE_ANY_VERSION,
                           omni_engine_now_ms(engine));
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "identity unlink: the identifier is not linked");
    return rc ? db_error(rc, "deleting from the identity index") : OMNI_OK;
}

/* A writer into a buffer sized in advance (cap counts the NUL). */
typedef struct ow {
    char *p;
    size_t n, cap;
    int over; /* the estimate was short (a bug): nothing is handed out */
} ow;

static void ow_put(ow *w, const char *s, size_t n)
{
    if (w->n + n < w->cap) {
        memcpy(w->p + w->n, s, n);
        w->n += n;
    } else {
        w->over = 1;
    }
}

/* The inside of a JSON string (at most 6 bytes per input byte). */
static void ow_escape(ow *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t k = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, k = 2;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4], esc[5] = hex[c & 15], k = 6;
        } else {
            esc[0] = (char)c, k = 1;
        }
        ow_put(w, esc, k);
    }
}

const char *omni_identity_namespace(void)
{
    return OMNI_IDENTITY_NAMESPACE;
}

/* ---- the lookup --------------------------------------------------------- */

typedef struct lookup_opts {
    char region[3];
    int br_ninth;
} lookup_opts;

static int read_options(lookup_opts *o, const char *json, size_t len)
{
    o->region[0] = '\0';
    o->br_ninth = 1;
    if (!json || len == 0)
        return OMNI_OK;
    int rc = omni__json_validate(json, len, OPTIONS_MAX_BYTES, "lookup options");
    if (rc)
        return rc;
    jspan root = j_root(json, len);
    jiter it;
    jspan k, v;
    if (!j_obj(&it, root))
        return omni__err(OMNI_EINVAL, "lookup options must be a JSON object");
    while (j_next(&it, &k, &v)) {
        if (j_key_is(k, "defaultRegion")) {
            char rb[8];
            if (j_is(v, 'n'))
                continue;
            if (j_str(v, rb, sizeof(rb)) < 0 || !omni__phone_region_find(rb))
                return omni__err(OMNI_EINVAL, "lookup options: defaultRegion must be an ISO "
                                              "3166-1 alpha-2 region code");
            o->region[0] = (char)(rb[0] & ~0x20);
            o->region[1] = (char)(rb[1] & ~0x20);
            o->region[2] = '\0';
        } else if (j_key_is(k, "brazilNinthDigit")) {
            if (!j_is(v, 't') && !j_is(v, 'f'))
                return omni__err(OMNI_EINVAL, "lookup options: brazilNinthDigit must be a "
                                              "boolean");
            o->br_ninth = j_is(v, 't');
        } else {
            return omni__err(OMNI_EINVAL, "lookup options: unknown option (known: "
                                          "defaultRegion, brazilNinthDigit)");
        }
    }
    return OMNI_OK;
}

typedef struct event {
    jspan root;
    jspan correlation; /* string span */
    char carrier[33];
    size_t carrier_len;
    jspan sender, recipient, message;
} event;

/* rawPayload, looked up only when routing needs it. */
static jspan event_raw(const event *ev)
{
    jspan raw = j_get(ev->root, "rawPayload");
    return j_is(raw, '{') ? raw : (jspan){NULL, 0};
}

static int read_event(event *ev, const char *json, size_t len)
{
    int rc = omni__json_validate(json, len, 0, "event");
    if (rc)
        return rc;
    jspan root = j_root(json, len);
    if (!j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "event must be a JSON object");
    memset(ev, 0, sizeof(*ev));
    jspan kind = {NULL, 0}, carrier = {NULL, 0};
    jiter it;
    jspan k, v;
    j_obj(&it, root);
    ev->root = root;
    /* first occurrence wins, as everywhere else; the scan stops once all
     * are found (a status event has no sender and is refused below) */
    int found = 0;
    while (found < 6 && j_next(&it, &k, &v)) {
        if (!ev->correlation.p && j_key_is(k, "correlationId"))
            ev->correlation = v, found++;
        else if (!carrier.p && j_key_is(k, "carrier"))
            carrier = v, found++;
        else if (!ev->sender.p && j_key_is(k, "senderIdentifier"))
            ev->sender = v, found++;
        else if (!ev->recipient.p && j_key_is(k, "recipientIdentifier"))
            ev->recipient = v, found++;
        else if (!ev->message.p && j_key_is(k, "message"))
            ev->message = v, found++;
        else if (!kind.p && j_key_is(k, "kind"))
            kind = v, found++;
    }
    if (kind.p && !(kind.n == 9 && memcmp(kind.p, "\"message\"", 9) == 0))
        return omni__err(OMNI_EINVAL, "event: only message events have a sender to look up");
    char cid[OMNI__IDENTIFIER_ID_MAX + 1];
    if (!j_is(ev->correlation, '"') || j_str(ev->correlation, cid, sizeof(cid)) <= 0)
        return omni__err(OMNI_EINVAL, "event: correlationId must be a non-empty string of at "
                                      "most %d bytes",
                         OMNI__IDENTIFIER_ID_MAX);
    long cl = j_is(carrier, '"') ? j_str(carrier, ev->carrier, sizeof(ev->carrier)) : -1;
    if (cl <= 0)
        return omni__err(OMNI_EINVAL, "event: carrier must be a non-empty string");
    ev->carrier_len = (size_t)cl;
    if (!j_is(ev->sender, '{'))
        return omni__err(OMNI_EINVAL, "event: senderIdentifier must be an object");
    if (ev->recipient.p && !j_is(ev->recipient, '{') && !j_is(ev->recipient, 'n'))
        return omni__err(OMNI_EINVAL, "event: recipientIdentifier must be an object");
    if (!j_is(ev->message, '{'))
        return omni__err(OMNI_EINVAL, "event: message must be an object");
    return OMNI_OK;
}

/* Tries one routing key; 1 found (r filled), 0 absent, < 0 error. */
static int try_routing(omni_store *store, const char *key, int64_t now, routing *r)
{
    if (omni__store_check_key(key) != OMNI_OK)
        return 0;
    int rc = load(store, NS_ROUTING, key, now, ROUTING_MAX_BYTES, &r->text, &r->len, NULL);
    if (rc == OMNI_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    rc = routing_read(j_root(r->text, r->len), r, "stored routing");
    if (rc) {
        omni_free(r->text);
        r->text = NULL;
        return omni__err(OMNI_EROUTING, "identity lookup: the routing record of the recipient "
                                        "is not valid (set it again with omni_routing_set)");
    }
    return 1;
}

/* Routing from the recipient: its phone number, short code, WhatsApp
 * phone-number id / business id, Twilio MessagingServiceSid, the WABA id
 * of a WhatsApp webhook, another carrier's business id; the first
 * configured one wins. */
static int resolve_routing(omni_store *store, const event *ev, const lookup_opts *o,
                           int64_t now, routing *r)
{
    char buf[RECIPIENT_MAX + 1], key[RECIPIENT_MAX + 16];
    int whatsapp = ev->carrier_len == 8 && memcmp(ev->carrier, "whatsapp", 8) == 0;
    int found = 0;
    jspan rcp = j_is(ev->recipient, '{') ? ev->recipient : (jspan){NULL, 0};
    static const char *const names[] = {"phoneNumber", "shortCode", "businessId"};
    jspan f[3];
    j_fields(rcp, names, f, 3);

    if (!found && j_is(f[0], '"') && j_str(f[0], buf, sizeof(buf)) > 0) {
        /* already E.164 (as the carrier adapters write it): try it as it is */
        size_t bl = strlen(buf);
        int plain = bl >= 3 && bl <= 16 && buf[0] == '+' && strspn(buf + 1, "0123456789") == bl - 1;
        if (plain)
            found = try_routing(store, buf, now, r);
        omni__phone p;
        if (!found &&
            omni__phone_parse(&p, buf, bl, o->region[0] ? o->region : NULL,
                              OMNI__PHONE_NO_REGION) == OMNI_OK &&
            !(plain && strcmp(p.e164, buf) == 0))
            found = try_routing(store, p.e164, now, r);
    }
    if (!found && j_is(f[1], '"') && j_str(f[1], buf, sizeof(buf)) > 0) {
        snprintf(key, sizeof(key), "shortcode:%s", buf);
        found = try_routing(store, key, now, r);
    }
    if (!found && j_is(f[2], '"') && j_str(f[2], buf, sizeof(buf)) > 0) {
        snprintf(key, sizeof(key), "%s%s", whatsapp ? "waba:" : "business:", buf);
        found = try_routing(store, key, now, r);
    }
    jspan raw = found ? (jspan){NULL, 0} : event_raw(ev);
    if (!found && j_is(raw, '{') && j_get_str(raw, "MessagingServiceSid", buf, sizeof(buf)) > 0) {
        snprintf(key, sizeof(key), "mss:%s", buf);
        found = try_routing(store, key, now, r);
    }
    if (!found && whatsapp && j_is(raw, '{')) {
        /* rawPayload.entry[0].id: the WhatsApp Business Account */
        jspan entry = j_get(raw, "entry");
        if (j_is(entry, '[')) {
            const char *p = j_ws(entry.p + 1, entry.p + entry.n);
            jspan first = {p, (size_t)(j_skip(p, entry.p + entry.n) - p)};
            if (j_is(first, '{') && j_get_str(first, "id", buf, sizeof(buf)) > 0) {
                snprintf(key, sizeof(key), "waba:%s", buf);
                found = try_routing(store, key, now, r);
            }
        }
    }
    if (found < 0)
        return found;
    if (!found)
        return omni__err(OMNI_EROUTING, "identity lookup: no routing is configured for the "
                                        "recipient (omni_routing_set: its phone number, "
                                        "shortcode:, waba:, mss: or business: key)");
    return OMNI_OK;
}

/* Reads the sender's phoneNumber / userId / sessionId spans (unescaped). */
typedef struct sender_bufs {
    char phone[OMNI_PHONE_MAX_INPUT + 1];
    char user[OMNI__IDENTIFIER_ID_MAX + 1];
    char session[OMNI__IDENTIFIER_ID_MAX + 1];
} sender_bufs;

static int read_sender(jspan obj, sender_bufs *b, omni__sender *s)
{
    memset(s, 0, sizeof(*s));
    static const char *const names[] = {"phoneNumber", "userId", "sessionId"};
    char *bufs[] = {b->phone, b->user, b->session};
    size_t caps[] = {sizeof(b->phone), sizeof(b->user), sizeof(b->session)};
    const char **ptrs[] = {&s->phone, &s->user_id, &s->session_id};
    size_t *lens[] = {&s->phone_len, &s->user_id_len, &s->session_id_len};
    jspan f[3];
    j_fields(obj, names, f, 3);
    for (int i = 0; i < 3; i++) {
        int k = 0;
        if (f[i].p && !j_is(f[i], 'n'))
            k = j_is(f[i], '"') && j_str(f[i], bufs[i], caps[i]) >= 0 ? 1 : -1;
        if (k < 0)
            return omni__err(OMNI_EIDENTIFIER, "identity lookup: senderIdentifier.%s must be a "
                                               "string of at most %zu bytes",
                             names[i], caps[i] - 1);
        if (k > 0) {
            *ptrs[i] = bufs[i];
            *lens[i] = strlen(bufs[i]);
        }
    }
    return OMNI_OK;
}

/* A new customer's record: {"customerId","profile":{"phoneNumbers":[...],
 * "tags":[],"createdAt","lastContactAt"},"preferences":{},"source"}. */
static int new_customer_record(omni_buf *b, const char *id, const char *identifier,
                               const char *carrier, int64_t now)
{
    char when[OMNI_TIME_STRLEN];
    if (omni_time_format(when, sizeof(when), now) != OMNI_OK)
        when[0] = '\0';
    const char *phone = identifier[0] == '+' ? identifier
                        : strncmp(identifier, "wa:+", 4) == 0 ? identifier + 3
                                                               : NULL;
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "customerId");
    omni__json_w_str(b, id);
    omni__json_w_key(b, "profile");
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "phoneNumbers");
    omni__json_w_arr_begin(b);
    if (phone)
        omni__json_w_str(b, phone);
    omni__json_w_arr_end(b);
    omni__json_w_key(b, "tags");
    omni__json_w_arr_begin(b);
    omni__json_w_arr_end(b);
    omni__json_w_key(b, "createdAt");
    omni__json_w_str(b, when);
    omni__json_w_key(b, "lastContactAt");
    omni__json_w_str(b, when);
    omni__json_w_obj_end(b);
    omni__json_w_key(b, "preferences");
    omni__json_w_obj_begin(b);
    omni__json_w_obj_end(b);
    omni__json_w_key(b, "source");
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "carrier");
    omni__json_w_str(b, carrier);
    omni__json_w_key(b, "identifier");
    omni__json_w_str(b, identifier);
    omni__json_w_obj_end(b);
    omni__json_w_obj_end(b);
    return omni__buf_status(b);
}

/* Unknown sender with createCustomers: the customer record (create-only,
 * deterministic id) then the index entry (create-only). Concurrent lookups
 * of the same new sender all end with the one record. *known is set when
 * another customer owns the identifier meanwhile (its id is in id). */
static int create_customer(omni_store *store, const char *key, const char *identifier,
                           const char *carrier, int64_t now, char *id, size_t id_cap,
                           int *known)
{
    char name[OMNI__IDENTIFIER_MAX + 16];
    snprintf(name, sizeof(name), "customer:%s", key);
    int rc = omni_uuid5(id, OMNI_IDENTITY_NAMESPACE, name, strlen(name));
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    rc = new_customer_record(&b, id, identifier, carrier, now);
    if (!rc)
        rc = omni__store_put_trusted(store, NS_CUSTOMER, id, b.data, b.len, OMNI_STORE_CREATE,
                                     0, now, NULL);
    omni__buf_free(&b);
    if (rc && rc != OMNI_EEXISTS)
        return db_error(rc, "creating the customer");
    char other[ID_MAX + 1];
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        rc = index_create(store, key, id, identifier, now, other, sizeof(other));
        if (rc == OMNI_ECONFLICT)
            continue;
        if (rc == OMNI_EEXISTS) {
            snprintf(id, id_cap, "%s", other);
            *known = 1;
            return OMNI_OK;
        }
        return rc;
    }
    return omni__err(OMNI_ESTORAGE, "identity lookup: the identity index kept changing");
}

int omni_identity_lookup(char **out, size_t *out_len, omni_engine *engine, const char *event_json,
                         size_t len, const char *options_json, size_t options_len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    omni_store *store = engine_store(engine);
    if (!out || !store || !event_json)
        return omni__err(OMNI_EINVAL, "identity lookup: NULL out, engine or event");
    lookup_opts o;
    int rc = read_options(&o, options_json, options_len);
    if (rc)
        return rc;
    event ev;
    rc = read_event(&ev, event_json, len);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);

    routing r;
    memset(&r, 0, sizeof(r));
    rc = resolve_routing(store, &ev, &o, now, &r);
    if (rc)
        return rc;

    /* the sender's identifier and its index key */
    sender_bufs sb;
    omni__sender s;
    char identifier[OMNI__IDENTIFIER_MAX + 1], key[OMNI__IDENTIFIER_MAX + 1];
    const char *region = o.region[0] ? o.region : r.region[0] ? r.region : NULL;
    rc = read_sender(ev.sender, &sb, &s);
    if (!rc)
        rc = omni__identity_normalize(identifier, sizeof(identifier), ev.carrier, ev.carrier_len,
                                      &s, region);
    if (!rc)
        rc = omni__identity_key(key, sizeof(key), identifier, strlen(identifier), o.br_ninth);
    if (rc) {
        omni_free(r.text);
        return rc;
    }

    /* known, new or anonymous */
    char customer_id[ID_MAX + 1];
    const char *type = "known";
    char *index_text = NULL, *cust_text = NULL;
    size_t index_len = 0, cust_len = 0;
    rc = load(store, NS_IDENTITY, key, now, ROUTING_MAX_BYTES, &index_text, &index_len, NULL);
    if (rc == OMNI_OK) {
        rc = index_customer(index_text, index_len, customer_id, sizeof(customer_id));
    } else if (rc == OMNI_ENOTFOUND && r.create_customers) {
        int known = 0;
        rc = create_customer(store, key, identifier, ev.carrier, now, customer_id,
                             sizeof(customer_id), &known);
        type = known ? "known" : "new";
    } else if (rc == OMNI_ENOTFOUND) {
        /* IDENTITY_NOT_FOUND: answered with a deterministic anonymous id */
        rc = omni_uuid5(customer_id, OMNI_IDENTITY_NAMESPACE, key, strlen(key));
        type = "anonymous";
    }
    if (!rc && type[0] != 'a') {
        rc = load(store, NS_CUSTOMER, customer_id, now, CUSTOMER_MAX_BYTES, &cust_text,
                  &cust_len, NULL);
        if (rc == OMNI_ENOTFOUND) {
            omni__log(engine, OMNI_LOG_WARN, "identity",
                      "the identity index points to a customer record that does not exist");
            rc = OMNI_OK;
        }
    }
    if (rc) {
        omni_free(index_text);
        omni_free(r.text);
        return rc;
    }

    jspan cust = cust_text ? j_root(cust_text, cust_len) : (jspan){NULL, 0};
    static const char *const cnames[] = {"profile", "preferences"};
    jspan cf[2];
    j_fields(cust, cnames, cf, 2);
    jspan profile = cf[0], prefs = cf[1];
    jspan language = j_is(prefs, '{') ? j_get(prefs, "language") : (jspan){NULL, 0};
    char when[OMNI_TIME_STRLEN];
    if (omni_time_format(when, sizeof(when), now) != OMNI_OK)
        when[0] = '\0';

    /* The result, written in constant chunks into one allocation (spans
     * are JSON text the reader took from validated documents). */
    size_t id_len = strlen(customer_id), ident_len = strlen(identifier);
    int has_language = language.p && j_is(language, '"');
    size_t cap = 320 + ev.correlation.n + 6 * id_len + profile.n + prefs.n + r.account.n +
                 r.business_unit.n + r.tenant.n + ev.message.n + 6 * ident_len + language.n;
    ow w = {omni_malloc(cap), 0, cap, 0};
    if (!w.p) {
        omni_free(index_text);
        omni_free(cust_text);
        omni_free(r.text);
        return omni__err(OMNI_ENOMEM, NULL);
    }
#define PUT(lit) ow_put(&w, lit, sizeof(lit) - 1)
#define SPAN(sp) ow_put(&w, (sp).p, (sp).n)
    PUT("{\"success\":true,\"correlationId\":");
    SPAN(ev.correlation);
    PUT(",\"identity\":{\"customerId\":\"");
    ow_escape(&w, customer_id, id_len);
    PUT("\",\"customerType\":\"");
    ow_put(&w, type, strlen(type));
    PUT("\"");
    if (j_is(profile, '{')) {
        PUT(",\"profile\":");
        SPAN(profile);
    }
    if (j_is(prefs, '{')) {
        PUT(",\"preferences\":");
        SPAN(prefs);
    }
    PUT("},\"routing\":{\"accountId\":");
    SPAN(r.account);
    PUT(",\"businessUnitId\":");
    if (r.business_unit.p)
        SPAN(r.business_unit);
    else
        PUT("\"\"");
    PUT(",\"tenantId\":");
    if (r.tenant.p)
        SPAN(r.tenant);
    else
        PUT("\"\"");
    /* enrichedMessage: the message plus normalizedSender, language,
     * receivedAt (replacing members of those names) */
    PUT("},\"enrichedMessage\":{");
    const char *mp = ev.message.p, *me = ev.message.p + ev.message.n - 1; /* at its '}' */
    if (!memmem(mp, ev.message.n, "\"normalizedSender\"", 18) &&
        !memmem(mp, ev.message.n, "\"receivedAt\"", 12) &&
        !(has_language && memmem(mp, ev.message.n, "\"language\"", 10)) &&
        !memchr(mp, '\\', ev.message.n)) {
        /* none of the members we add (not even escaped): copy it as it is */
        const char *body = j_ws(mp + 1, me);
        if (body < me) {
            ow_put(&w, body, (size_t)(me - body));
            PUT(",");
        }
    } else {
        jiter it;
        jspan k, v;
        j_obj(&it, ev.message);
        while (j_next(&it, &k, &v)) {
            if (j_key_is(k, "normalizedSender") || j_key_is(k, "receivedAt") ||
                (has_language && j_key_is(k, "language")))
                continue;
            SPAN(k);
            PUT(":");
            SPAN(v);
            PUT(",");
        }
    }
    PUT("\"normalizedSender\":\"");
    ow_escape(&w, identifier, ident_len);
    if (has_language) {
        PUT("\",\"language\":");
        SPAN(language);
        PUT(",\"receivedAt\":\"");
    } else {
        PUT("\",\"receivedAt\":\"");
    }
    ow_put(&w, when, strlen(when));
    PUT("\"},\"nextStep\":\"workFlowBiDirectional\"}");
#undef PUT
#undef SPAN
    w.p[w.n] = '\0';

    omni_free(index_text);
    omni_free(cust_text);
    omni_free(r.text);
    if (w.over) {
        omni_free(w.p);
        return omni__err(OMNI_EINTERNAL, "identity lookup: result size estimate was short");
    }
    *out = w.p;
    if (out_len)
        *out_len = w.n;
    return OMNI_OK;
}
