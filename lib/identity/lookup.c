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
#include "core/json_span.h"
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
    omni__jspan account, business_unit, tenant; /* JSON string spans */
    int create_customers;
    char region[3];
} routing;

/* Checks a routing document; fills r's spans when r is given. */
static int routing_read(omni__jspan doc, routing *r, const char *what)
{
    if (!omni__j_is(doc, '{'))
        return omni__err(OMNI_EINVAL, "%s must be a JSON object", what);
    static const char *const names[] = {"accountId", "businessUnitId", "tenantId",
                                        "createCustomers", "defaultRegion"};
    omni__jspan f[5];
    omni__j_fields(doc, names, f, 5);
    omni__jspan acc = f[0], bu = f[1], ten = f[2], cc = f[3], reg = f[4];
    char buf[ID_MAX + 1];
    long k;
    if (!acc.p || (k = omni__j_str(acc, buf, sizeof(buf))) <= 0 ||
        check_plain_id(buf, (size_t)k, "routing.accountId") != OMNI_OK)
        return omni__err(OMNI_EINVAL, "%s: accountId must be a string of 1 to %d letters, "
                                      "digits or ._:@+-",
                         what, ID_MAX);
    if (bu.p && !omni__j_is(bu, 'n') && (omni__j_str(bu, buf, sizeof(buf)) < 0))
        return omni__err(OMNI_EINVAL, "%s: businessUnitId must be a string of at most %d bytes",
                         what, ID_MAX);
    if (ten.p && !omni__j_is(ten, 'n') && (omni__j_str(ten, buf, sizeof(buf)) < 0))
        return omni__err(OMNI_EINVAL, "%s: tenantId must be a string of at most %d bytes", what,
                         ID_MAX);
    if (cc.p && !omni__j_is(cc, 't') && !omni__j_is(cc, 'f') && !omni__j_is(cc, 'n'))
        return omni__err(OMNI_EINVAL, "%s: createCustomers must be a boolean", what);
    char rb[8] = "";
    if (reg.p && !omni__j_is(reg, 'n') &&
        (omni__j_str(reg, rb, sizeof(rb)) < 0 || !omni__phone_region_find(rb)))
        return omni__err(OMNI_EINVAL, "%s: defaultRegion must be an ISO 3166-1 alpha-2 region "
                                      "code",
                         what);
    if (r) {
        r->account = acc;
        r->business_unit = omni__j_is(bu, '"') ? bu : (omni__jspan){NULL, 0};
        r->tenant = omni__j_is(ten, '"') ? ten : (omni__jspan){NULL, 0};
        r->create_customers = omni__j_is(cc, 't');
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
    rc = routing_read(omni__j_root(json, len), NULL, "routing");
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
    int k = omni__j_get_str(omni__j_root(text, len), "customerId", buf, cap);
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
    omni__jspan root = omni__j_root(json, len);
    omni__jiter it;
    omni__jspan k, v;
    if (!omni__j_obj(&it, root))
        return omni__err(OMNI_EINVAL, "lookup options must be a JSON object");
    while (omni__j_next(&it, &k, &v)) {
        if (omni__j_key_is(k, "defaultRegion")) {
            char rb[8];
            if (omni__j_is(v, 'n'))
                continue;
            if (omni__j_str(v, rb, sizeof(rb)) < 0 || !omni__phone_region_find(rb))
                return omni__err(OMNI_EINVAL, "lookup options: defaultRegion must be an ISO "
                                              "3166-1 alpha-2 region code");
            o->region[0] = (char)(rb[0] & ~0x20);
            o->region[1] = (char)(rb[1] & ~0x20);
            o->region[2] = '\0';
        } else if (omni__j_key_is(k, "brazilNinthDigit")) {
            if (!omni__j_is(v, 't') && !omni__j_is(v, 'f'))
                return omni__err(OMNI_EINVAL, "lookup options: brazilNinthDigit must be a "
                                              "boolean");
            o->br_ninth = omni__j_is(v, 't');
        } else {
            return omni__err(OMNI_EINVAL, "lookup options: unknown option (known: "
                                          "defaultRegion, brazilNinthDigit)");
        }
    }
    return OMNI_OK;
}

typedef struct event {
    omni__jspan root;
    omni__jspan correlation; /* string span */
    char carrier[33];
    size_t carrier_len;
    omni__jspan sender, recipient, message;
    omni__jspan channel_type; /* string span, or {NULL, 0} */
} event;

/* rawPayload, looked up only when routing needs it. */
static omni__jspan event_raw(const event *ev)
{
    omni__jspan raw = omni__j_get(ev->root, "rawPayload");
    return omni__j_is(raw, '{') ? raw : (omni__jspan){NULL, 0};
}

static int read_event(event *ev, const char *json, size_t len)
{
    int rc = omni__json_validate(json, len, 0, "event");
    if (rc)
        return rc;
    omni__jspan root = omni__j_root(json, len);
    if (!omni__j_is(root, '{'))
        return omni__err(OMNI_EINVAL, "event must be a JSON object");
    memset(ev, 0, sizeof(*ev));
    omni__jspan kind = {NULL, 0}, carrier = {NULL, 0};
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, root);
    ev->root = root;
    /* first occurrence wins, as everywhere else; the scan stops once all
     * are found (a status event has no sender and is refused below) */
    int found = 0;
    while (found < 7 && omni__j_next(&it, &k, &v)) {
        if (!ev->correlation.p && omni__j_key_is(k, "correlationId"))
            ev->correlation = v, found++;
        else if (!carrier.p && omni__j_key_is(k, "carrier"))
            carrier = v, found++;
        else if (!ev->sender.p && omni__j_key_is(k, "senderIdentifier"))
            ev->sender = v, found++;
        else if (!ev->recipient.p && omni__j_key_is(k, "recipientIdentifier"))
            ev->recipient = v, found++;
        else if (!ev->message.p && omni__j_key_is(k, "message"))
            ev->message = v, found++;
        else if (!kind.p && omni__j_key_is(k, "kind"))
            kind = v, found++;
        else if (!ev->channel_type.p && omni__j_key_is(k, "channelType"))
            ev->channel_type = v, found++;
    }
    if (ev->channel_type.p && !omni__j_is(ev->channel_type, '"')) {
        if (!omni__j_is(ev->channel_type, 'n'))
            return omni__err(OMNI_EINVAL, "event: channelType must be a string");
        ev->channel_type = (omni__jspan){NULL, 0};
    }
    if (kind.p && !(kind.n == 9 && memcmp(kind.p, "\"message\"", 9) == 0))
        return omni__err(OMNI_EINVAL, "event: only message events have a sender to look up");
    char cid[OMNI__IDENTIFIER_ID_MAX + 1];
    if (!omni__j_is(ev->correlation, '"') || omni__j_str(ev->correlation, cid, sizeof(cid)) <= 0)
        return omni__err(OMNI_EINVAL, "event: correlationId must be a non-empty string of at "
                                      "most %d bytes",
                         OMNI__IDENTIFIER_ID_MAX);
    long cl = omni__j_is(carrier, '"')
                  ? omni__j_str(carrier, ev->carrier, sizeof(ev->carrier))
                  : -1;
    if (cl <= 0)
        return omni__err(OMNI_EINVAL, "event: carrier must be a non-empty string");
    ev->carrier_len = (size_t)cl;
    if (!omni__j_is(ev->sender, '{'))
        return omni__err(OMNI_EINVAL, "event: senderIdentifier must be an object");
    if (ev->recipient.p && !omni__j_is(ev->recipient, '{') && !omni__j_is(ev->recipient, 'n'))
        return omni__err(OMNI_EINVAL, "event: recipientIdentifier must be an object");
    if (!omni__j_is(ev->message, '{'))
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
    rc = routing_read(omni__j_root(r->text, r->len), r, "stored routing");
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
    omni__jspan rcp = omni__j_is(ev->recipient, '{') ? ev->recipient : (omni__jspan){NULL, 0};
    static const char *const names[] = {"phoneNumber", "shortCode", "businessId"};
    omni__jspan f[3];
    omni__j_fields(rcp, names, f, 3);

    if (!found && omni__j_is(f[0], '"') && omni__j_str(f[0], buf, sizeof(buf)) > 0) {
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
    if (!found && omni__j_is(f[1], '"') && omni__j_str(f[1], buf, sizeof(buf)) > 0) {
        snprintf(key, sizeof(key), "shortcode:%s", buf);
        found = try_routing(store, key, now, r);
    }
    if (!found && omni__j_is(f[2], '"') && omni__j_str(f[2], buf, sizeof(buf)) > 0) {
        snprintf(key, sizeof(key), "%s%s", whatsapp ? "waba:" : "business:", buf);
        found = try_routing(store, key, now, r);
    }
    omni__jspan raw = found ? (omni__jspan){NULL, 0} : event_raw(ev);
    if (!found && omni__j_is(raw, '{') &&
        omni__j_get_str(raw, "MessagingServiceSid", buf, sizeof(buf)) > 0) {
        snprintf(key, sizeof(key), "mss:%s", buf);
        found = try_routing(store, key, now, r);
    }
    if (!found && whatsapp && omni__j_is(raw, '{')) {
        /* rawPayload.entry[0].id: the WhatsApp Business Account */
        omni__jspan entry = omni__j_get(raw, "entry");
        if (omni__j_is(entry, '[')) {
            const char *p = omni__j_ws(entry.p + 1, entry.p + entry.n);
            omni__jspan first = {p, (size_t)(omni__j_skip(p, entry.p + entry.n) - p)};
            if (omni__j_is(first, '{') && omni__j_get_str(first, "id", buf, sizeof(buf)) > 0) {
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

static int read_sender(omni__jspan obj, sender_bufs *b, omni__sender *s)
{
    memset(s, 0, sizeof(*s));
    static const char *const names[] = {"phoneNumber", "userId", "sessionId"};
    char *bufs[] = {b->phone, b->user, b->session};
    size_t caps[] = {sizeof(b->phone), sizeof(b->user), sizeof(b->session)};
    const char **ptrs[] = {&s->phone, &s->user_id, &s->session_id};
    size_t *lens[] = {&s->phone_len, &s->user_id_len, &s->session_id_len};
    omni__jspan f[3];
    omni__j_fields(obj, names, f, 3);
    for (int i = 0; i < 3; i++) {
        int k = 0;
        if (f[i].p && !omni__j_is(f[i], 'n'))
            k = omni__j_is(f[i], '"') && omni__j_str(f[i], bufs[i], caps[i]) >= 0 ? 1 : -1;
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

    omni__jspan cust = cust_text ? omni__j_root(cust_text, cust_len) : (omni__jspan){NULL, 0};
    static const char *const cnames[] = {"profile", "preferences"};
    omni__jspan cf[2];
    omni__j_fields(cust, cnames, cf, 2);
    omni__jspan profile = cf[0], prefs = cf[1];
    omni__jspan language =
        omni__j_is(prefs, '{') ? omni__j_get(prefs, "language") : (omni__jspan){NULL, 0};
    char when[OMNI_TIME_STRLEN];
    if (omni_time_format(when, sizeof(when), now) != OMNI_OK)
        when[0] = '\0';

    /* The result, written in constant chunks into one allocation (spans
     * are JSON text the reader took from validated documents). */
    size_t id_len = strlen(customer_id), ident_len = strlen(identifier);
    int has_language = language.p && omni__j_is(language, '"');
    size_t cap = 360 + 6 * ev.carrier_len + ev.channel_type.n + ev.correlation.n + 6 * id_len + profile.n + prefs.n + r.account.n +
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
    if (omni__j_is(profile, '{')) {
        PUT(",\"profile\":");
        SPAN(profile);
    }
    if (omni__j_is(prefs, '{')) {
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
        !memmem(mp, ev.message.n, "\"carrier\"", 9) &&
        !(ev.channel_type.p && memmem(mp, ev.message.n, "\"channelType\"", 13)) &&
        !(has_language && memmem(mp, ev.message.n, "\"language\"", 10)) &&
        !memchr(mp, '\\', ev.message.n)) {
        /* none of the members we add (not even escaped): copy it as it is */
        const char *body = omni__j_ws(mp + 1, me);
        if (body < me) {
            ow_put(&w, body, (size_t)(me - body));
            PUT(",");
        }
    } else {
        omni__jiter it;
        omni__jspan k, v;
        omni__j_obj(&it, ev.message);
        while (omni__j_next(&it, &k, &v)) {
            if (omni__j_key_is(k, "normalizedSender") || omni__j_key_is(k, "receivedAt") ||
                omni__j_key_is(k, "carrier") ||
                (ev.channel_type.p && omni__j_key_is(k, "channelType")) ||
                (has_language && omni__j_key_is(k, "language")))
                continue;
            SPAN(k);
            PUT(":");
            SPAN(v);
            PUT(",");
        }
    }
    PUT("\"carrier\":\"");
    ow_escape(&w, ev.carrier, ev.carrier_len);
    if (ev.channel_type.p) {
        PUT("\",\"channelType\":");
        SPAN(ev.channel_type);
        PUT(",\"normalizedSender\":\"");
    } else {
        PUT("\",\"normalizedSender\":\"");
    }
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
