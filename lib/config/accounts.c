/* The engine configuration's "inbound", "defaults" and "accounts": webhook
 * settings with their secrets read, each account's identity members and
 * addresses (routing keys, each owned by one account), its outbound and
 * push providers compiled, and the account's JSON without secrets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config_internal.h"
#include "core/error.h"
#include "core/json.h"

typedef struct omni__cfg_addr_tmp {
    char *key;
    char *path;
    long account; /* cfg index, or -1 for an account that is not usable */
    size_t seq;   /* document order */
} omni__cfg_addr_tmp;

const char *const omni__cfg_preroute_members[] = {
    "timeZone", "locale",   "businessHours",      "rules",    "autoResponses",
    "optOut",   "priority", "defaultDestination", "analyzer", NULL};

static const char *const own_default_members[] = {"createCustomers", "defaultRegion",
                                                  "conversation", "outbound", "push", NULL};
static const char *const account_only_members[] = {"accountId", "name",      "businessUnitId",
                                                   "tenantId",  "addresses", "carriers", NULL};

static const struct {
    const char *member;
    const char *prefix; /* routing key prefix; "" for phone numbers */
} address_lists[] = {
    {"phoneNumbers", ""},          {"shortCodes", "shortcode:"},
    {"messagingServiceSids", "mss:"}, {"whatsappPhoneNumberIds", "waba:"},
    {"whatsappBusinessIds", "waba:"}, {"businessIds", "business:"},
};
#define N_ADDRESS_LISTS (sizeof(address_lists) / sizeof(address_lists[0]))

static int allowed_member(const char *name, int account)
{
    return omni__cfg_in_list(name, omni__cfg_preroute_members) ||
           omni__cfg_in_list(name, own_default_members) ||
           (account && omni__cfg_in_list(name, account_only_members));
}

static void only_allowed(omni__cfg_build *B, const cJSON *obj, const char *path, int account)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (allowed_member(it->string, account))
            continue;
        char p[OMNI__CFG_PATH_MAX], name[80];
        snprintf(name, sizeof(name), "%.64s", it->string);
        omni__cfg_path(p, path, name);
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "unknown member");
    }
}

/* ---- routing keys ------------------------------------------------------------------ */

static int all_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, "0123456789") == n;
}

int omni__cfg_routing_key(char *out, size_t cap, const char *key)
{
    static const char *const prefixes[] = {"shortcode:", "mss:", "waba:", "business:"};
    size_t n = strnlen(key, 257);
    if (n == 0 || n > 256)
        return -1;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i]);
        if (strncmp(key, prefixes[i], pl) != 0)
            continue;
        if (i == 0 ? !all_digits(key + pl, 3, 15) : !omni__cfg_plain_id(key + pl))
            return -1;
        snprintf(out, cap, "%s", key);
        return 0;
    }
    if (omni_phone_to_e164(out, cap, key, n, NULL) != OMNI_OK)
        return -1;
    return 0;
}

/* ---- secrets ------------------------------------------------------------------------- */

/* {"env": "NAME"} of one member: reads the variable into a string. */
static int resolve_env(omni__cfg_build *B, cJSON *parent, cJSON *item, const char *path)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "env");
    if (cJSON_GetArraySize(item) != 1 || !cJSON_IsString(name) || !name->valuestring[0] ||
        strlen(name->valuestring) > 256 || strchr(name->valuestring, '=')) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG,
                            "must be a string or {\"env\": \"NAME\"}");
        return OMNI_OK;
    }
    const char *value = getenv(name->valuestring);
    if (!value || !value[0]) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG,
                            "the environment variable %.100s is not set", name->valuestring);
        /* a stand-in, so that the rest of the settings is still checked */
        value = "unset";
    }
    cJSON *s = cJSON_CreateString(value);
    if (s && !(s->string = strdup(item->string))) {
        omni__cfg_wipe_delete(s);
        return OMNI_ENOMEM;
    }
    if (!s || !cJSON_ReplaceItemViaPointer(parent, item, s)) {
        omni__cfg_wipe_delete(s);
        return OMNI_ENOMEM;
    }
    return OMNI_OK;
}

int omni__cfg_resolve_carriers(omni__cfg_build *B, const cJSON *carriers, const char *path,
                               cJSON **out)
{
    *out = NULL;
    if (!cJSON_IsObject(carriers))
        return OMNI_OK;
    cJSON *copy = cJSON_Duplicate(carriers, 1);
    if (!copy)
        return OMNI_ENOMEM;
    for (cJSON *c = copy->child; c; c = c->next) {
        if (!cJSON_IsObject(c))
            continue;
        cJSON *m = c->child;
        while (m) {
            cJSON *next = m->next;
            if (cJSON_IsObject(m) && cJSON_GetObjectItemCaseSensitive(m, "env")) {
                char p[OMNI__CFG_PATH_MAX], q[OMNI__CFG_PATH_MAX];
                omni__cfg_path(p, path, c->string);
                omni__cfg_path(q, p, m->string);
                if (resolve_env(B, c, m, q)) {
                    omni__cfg_wipe_delete(copy);
                    return OMNI_ENOMEM;
                }
            }
            m = next;
        }
    }
    *out = copy;
    return OMNI_OK;
}

/* ---- components ------------------------------------------------------------------- */

static int compile_inbound(omni__cfg_build *B, const cJSON *doc, omni_inbound **out,
                           const char *prefix, omni__cfg_path_map map, void *map_ctx)
{
    char *text = NULL;
    size_t n = 0;
    if (omni__json_print(&text, &n, doc))
        return OMNI_ENOMEM;
    int rc = omni_inbound_new(out, text, n, NULL);
    OPENSSL_cleanse(text, n);
    free(text);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc)
        omni__cfg_error_last(&B->errs, prefix, rc, map, map_ctx);
    return OMNI_OK;
}

int omni__cfg_inbound(omni__cfg_build *B)
{
    const cJSON *in = B->sec_inbound;
    cJSON *doc = NULL;
    if (in && !cJSON_IsObject(in)) {
        omni__cfg_error_add(&B->errs, "inbound", OMNI_ECONFIG,
                            "must be an object (omni_inbound_new's configuration)");
        return OMNI_OK;
    }
    if (!(doc = in ? cJSON_Duplicate(in, 1) : cJSON_CreateObject()))
        return OMNI_ENOMEM;
    B->inbound_resolved = doc;
    const cJSON *carriers = cJSON_GetObjectItemCaseSensitive(doc, "carriers");
    size_t before = B->errs.count;
    if (cJSON_IsObject(carriers)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, carriers)
        {
            if (omni__cfg_names_add(&B->carriers, c->string))
                return OMNI_ENOMEM;
        }
        cJSON *resolved = NULL;
        if (omni__cfg_resolve_carriers(B, carriers, "inbound.carriers", &resolved))
            return OMNI_ENOMEM;
        if (!cJSON_ReplaceItemInObjectCaseSensitive(doc, "carriers", resolved)) {
            omni__cfg_wipe_delete(resolved);
            return OMNI_ENOMEM;
        }
    }
    int rc = compile_inbound(B, doc, &B->cfg->inbound, "inbound", NULL, NULL);
    if (rc)
        return rc;
    /* a secret that could not be read leaves the stand-in compiled */
    B->inbound_ok = B->cfg->inbound != NULL && B->errs.count == before;
    return OMNI_OK;
}

/* Compiles an outbound or push section; names of its members go to `names`. */
static int compile_provider(omni__cfg_build *B, const cJSON *item, const char *path, int push,
                            void **out, omni__cfg_names *names)
{
    if (!cJSON_IsObject(item)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG, "must be an object");
        return OMNI_OK;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, item)
    {
        if (omni__cfg_names_add(names, it->string))
            return OMNI_ENOMEM;
    }
    char *text = NULL;
    size_t n = 0;
    if (omni__json_print(&text, &n, item))
        return OMNI_ENOMEM;
    int rc;
    if (push)
        rc = omni_push_new((omni_push **)out, text, n);
    else
        rc = omni_outbound_new((omni_outbound **)out, text, n);
    OPENSSL_cleanse(text, n);
    free(text);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc)
        omni__cfg_error_last(&B->errs, path, rc, NULL, NULL);
    return OMNI_OK;
}

/* An upper-case region the phone number table knows. */
static int region_ok(const cJSON *v)
{
    char e164[OMNI_E164_STRLEN];
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 2 || v->valuestring[0] < 'A' ||
        v->valuestring[0] > 'Z' || v->valuestring[1] < 'A' || v->valuestring[1] > 'Z')
        return 0;
    return omni_phone_to_e164(e164, sizeof(e164), "+14155550100", 12, v->valuestring) ==
           OMNI_OK;
}

/* createCustomers, defaultRegion and conversation of an account or the
 * defaults. */
static void own_members(omni__cfg_build *B, const cJSON *obj, const char *path)
{
    char p[OMNI__CFG_PATH_MAX];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "createCustomers");
    if (v && !cJSON_IsBool(v)) {
        omni__cfg_path(p, path, "createCustomers");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be true or false");
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "defaultRegion");
    if (v && !region_ok(v)) {
        omni__cfg_path(p, path, "defaultRegion");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                            "must be a known ISO 3166-1 alpha-2 code in upper case (\"US\")");
    }
    v = cJSON_GetObjectItemCaseSensitive(obj, "conversation");
    if (!v)
        return;
    omni__cfg_path(p, path, "conversation");
    if (!cJSON_IsObject(v)) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be an object");
        return;
    }
    static const char *const members[] = {"inactivityTimeoutMs", "dedupeWindowMs", NULL};
    omni__cfg_only_members(B, v, p, members);
    for (int i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, members[i]);
        int64_t x = 0;
        if (!m)
            continue;
        if (omni__json_int(m, NULL, &x) || x < (i == 0 ? 1 : 0) || x > (INT64_C(1) << 40)) {
            char q[OMNI__CFG_PATH_MAX];
            omni__cfg_path(q, p, members[i]);
            omni__cfg_error_add(&B->errs, q, OMNI_ECONFIG, "must be an integer %d..2^40",
                                i == 0 ? 1 : 0);
        }
    }
}

/* The pre-route members of obj (an account or the defaults), copied. */
static cJSON *preroute_part(const cJSON *obj, const char *account_id)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (account_id && !cJSON_AddStringToObject(o, "accountId", account_id)) {
        cJSON_Delete(o);
        return NULL;
    }
    for (size_t i = 0; omni__cfg_preroute_members[i]; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, omni__cfg_preroute_members[i]);
        if (!m)
            continue;
        cJSON *d = cJSON_Duplicate(m, 1);
        if (!d) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, omni__cfg_preroute_members[i], d);
    }
    return o;
}

int omni__cfg_defaults(omni__cfg_build *B)
{
    const cJSON *d = B->sec_defaults;
    if (!d)
        return OMNI_OK;
    if (!cJSON_IsObject(d)) {
        omni__cfg_error_add(&B->errs, "defaults", OMNI_ECONFIG, "must be an object");
        return OMNI_OK;
    }
    only_allowed(B, d, "defaults", 0);
    own_members(B, d, "defaults");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "outbound");
    int rc;
    if (v && (rc = compile_provider(B, v, "defaults.outbound", 0, (void **)&B->cfg->def_outbound,
                                    &B->outbound)))
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(d, "push");
    if (v && (rc = compile_provider(B, v, "defaults.push", 1, (void **)&B->cfg->def_push,
                                    &B->push)))
        return rc;
    if (!(B->pr_defaults = preroute_part(d, NULL)))
        return OMNI_ENOMEM;
    return OMNI_OK;
}

/* ---- addresses ------------------------------------------------------------------------ */

static int add_address(omni__cfg_build *B, const char *key, const char *path, long account)
{
    if (B->n_addr == B->addr_cap) {
        size_t cap = B->addr_cap ? B->addr_cap * 2 : 16;
        omni__cfg_addr_tmp *a = realloc(B->addr, cap * sizeof(*a));
        if (!a)
            return OMNI_ENOMEM;
        B->addr = a;
        B->addr_cap = cap;
    }
    omni__cfg_addr_tmp *t = &B->addr[B->n_addr];
    t->key = strdup(key);
    t->path = strdup(path);
    t->account = account;
    t->seq = B->n_addr;
    if (!t->key || !t->path) {
        free(t->key);
        free(t->path);
        return OMNI_ENOMEM;
    }
    B->n_addr++;
    return OMNI_OK;
}

static int addresses(omni__cfg_build *B, const cJSON *obj, const char *path, const char *region,
                     long account)
{
    if (!cJSON_IsObject(obj)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG,
                            "must be an object of address lists (phoneNumbers, shortCodes, "
                            "messagingServiceSids, whatsappPhoneNumberIds, "
                            "whatsappBusinessIds, businessIds)");
        return OMNI_OK;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        size_t k = 0;
        while (k < N_ADDRESS_LISTS && strcmp(address_lists[k].member, it->string) != 0)
            k++;
        char lp[OMNI__CFG_PATH_MAX], name[80];
        snprintf(name, sizeof(name), "%.64s", it->string);
        omni__cfg_path(lp, path, name);
        if (k == N_ADDRESS_LISTS) {
            omni__cfg_error_add(&B->errs, lp, OMNI_ECONFIG, "unknown member");
            continue;
        }
        if (!cJSON_IsArray(it)) {
            omni__cfg_error_add(&B->errs, lp, OMNI_ECONFIG, "must be an array of strings");
            continue;
        }
        size_t i = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, it)
        {
            char ap[OMNI__CFG_PATH_MAX], key[256];
            omni__cfg_path_index(ap, lp, i++);
            if (B->n_addresses_seen >= OMNI_CONFIG_MAX_ADDRESSES) {
                omni__cfg_error_add(&B->errs, ap, OMNI_ETOOLARGE,
                                    "more than %d addresses in all accounts",
                                    OMNI_CONFIG_MAX_ADDRESSES);
                return OMNI_OK;
            }
            B->n_addresses_seen++;
            const char *s = cJSON_IsString(a) ? a->valuestring : NULL;
            const char *prefix = address_lists[k].prefix;
            if (!s || !s[0]) {
                omni__cfg_error_add(&B->errs, ap, OMNI_ECONFIG, "must be a non-empty string");
                continue;
            }
            if (!prefix[0]) {
                if (omni_phone_to_e164(key, sizeof(key), s, strlen(s), region) != OMNI_OK) {
                    omni__cfg_error_add(&B->errs, ap, OMNI_EIDENTIFIER,
                                        "is not a valid phone number%s",
                                        region ? "" : " (write it with '+' and the country "
                                                      "code, or set defaultRegion)");
                    continue;
                }
            } else if (strcmp(prefix, "shortcode:") == 0) {
                if (!all_digits(s, 3, 15)) {
                    omni__cfg_error_add(&B->errs, ap, OMNI_ECONFIG,
                                        "a short code is 3 to 15 digits");
                    continue;
                }
                snprintf(key, sizeof(key), "%s%s", prefix, s);
            } else {
                if (!omni__cfg_plain_id(s)) {
                    omni__cfg_error_add(&B->errs, ap, OMNI_ECONFIG,
                                        "must be 1..128 bytes of [A-Za-z0-9._:@+-]");
                    continue;
                }
                snprintf(key, sizeof(key), "%s%s", prefix, s);
            }
            if (add_address(B, key, ap, account))
                return OMNI_ENOMEM;
        }
    }
    return OMNI_OK;
}

static int cmp_addr(const void *a, const void *b)
{
    const omni__cfg_addr_tmp *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Each address in one account: the later mentions are errors. */
static void addresses_unique(omni__cfg_build *B)
{
    if (B->n_addr < 2)
        return;
    /* by key, then document order: the first mention stays first */
    qsort(B->addr, B->n_addr, sizeof(*B->addr), cmp_addr);
    for (size_t i = 1; i < B->n_addr; i++) {
        size_t first = i - 1;
        while (first > 0 && strcmp(B->addr[first - 1].key, B->addr[i].key) == 0)
            first--;
        if (strcmp(B->addr[first].key, B->addr[i].key) != 0)
            continue;
        omni__cfg_error_add(&B->errs, B->addr[i].path, OMNI_ECONFIG,
                            "the same address as %.200s: an address belongs to one account",
                            B->addr[first].path);
    }
}

/* ---- accounts ------------------------------------------------------------------------ */

static const cJSON *effective(const omni__cfg_build *B, const cJSON *acc, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(acc, name);
    if (!v && cJSON_IsObject(B->sec_defaults))
        v = cJSON_GetObjectItemCaseSensitive(B->sec_defaults, name);
    return v;
}

static int routing_doc(omni__cfg_build *B, const cJSON *acc, omni__cfg_account *a)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "accountId");
    omni__json_w_str(&b, a->id);
    const char *names[] = {"businessUnitId", "tenantId"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(acc, names[i]);
        if (cJSON_IsString(v)) {
            omni__json_w_key(&b, names[i]);
            omni__json_w_str(&b, v->valuestring);
        }
    }
    omni__json_w_keyl(&b, "createCustomers");
    omni__json_w_bool(&b, cJSON_IsTrue(effective(B, acc, "createCustomers")));
    const cJSON *r = effective(B, acc, "defaultRegion");
    if (cJSON_IsString(r)) {
        omni__json_w_keyl(&b, "defaultRegion");
        omni__json_w_str(&b, r->valuestring);
    }
    omni__json_w_obj_end(&b);
    if (b.failed) {
        omni__buf_free(&b);
        return OMNI_ENOMEM;
    }
    a->routing = b.data;
    const cJSON *conv = effective(B, acc, "conversation");
    if (cJSON_IsObject(conv)) {
        omni_buf c = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&c);
        const char *members[] = {"inactivityTimeoutMs", "dedupeWindowMs"};
        for (int i = 0; i < 2; i++) {
            int64_t x;
            if (!omni__json_int(conv, members[i], &x)) {
                omni__json_w_key(&c, members[i]);
                omni__json_w_int(&c, x);
            }
        }
        omni__json_w_obj_end(&c);
        if (c.failed) {
            omni__buf_free(&c);
            return OMNI_ENOMEM;
        }
        a->conversation = c.data;
    }
    return OMNI_OK;
}

static void identity_members(omni__cfg_build *B, const cJSON *acc, const char *path)
{
    char p[OMNI__CFG_PATH_MAX];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(acc, "name");
    if (v && (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 256)) {
        omni__cfg_path(p, path, "name");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be a string of 1..256 bytes");
    }
    const char *names[] = {"businessUnitId", "tenantId"};
    for (int i = 0; i < 2; i++) {
        v = cJSON_GetObjectItemCaseSensitive(acc, names[i]);
        if (v && (!cJSON_IsString(v) || strlen(v->valuestring) > 128)) {
            omni__cfg_path(p, path, names[i]);
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                                "must be a string of at most 128 bytes");
        }
    }
}

/* Maps the paths of an account's own inbound ("carriers.x.y") to the
 * account ("accounts[i].carriers.x.y"). */
static void account_inbound_path(void *ctx, const char *in, char *out)
{
    const char *prefix = ctx;
    if (strncmp(in, "carriers", 8) == 0)
        omni__cfg_path(out, prefix, in);
    else
        omni__cfg_path(out, prefix, "carriers");
}

/* The account's own inbound: the shared settings, its carriers replacing
 * the shared carriers of the same names. */
static int account_inbound(omni__cfg_build *B, const cJSON *carriers, const char *path,
                           const char *acc_path, omni_inbound **out, omni__cfg_names *names)
{
    if (!cJSON_IsObject(carriers)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG,
                            "must be an object of carrier settings (as inbound.carriers)");
        return OMNI_OK;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, carriers)
    {
        if (omni__cfg_names_add(names, c->string) ||
            omni__cfg_names_add(&B->carriers, c->string))
            return OMNI_ENOMEM;
    }
    cJSON *resolved = NULL;
    if (omni__cfg_resolve_carriers(B, carriers, path, &resolved))
        return OMNI_ENOMEM;
    /* over the shared settings; alone when those have errors of their own */
    cJSON *doc = B->inbound_ok ? cJSON_Duplicate(B->inbound_resolved, 1) : cJSON_CreateObject();
    if (!doc) {
        omni__cfg_wipe_delete(resolved);
        return OMNI_ENOMEM;
    }
    cJSON *shared = cJSON_GetObjectItemCaseSensitive(doc, "carriers");
    if (!shared) {
        cJSON_AddItemToObject(doc, "carriers", resolved);
    } else {
        cJSON *m = resolved->child;
        while (m) {
            cJSON *next = m->next;
            cJSON_DetachItemViaPointer(resolved, m);
            cJSON_DeleteItemFromObjectCaseSensitive(shared, m->string);
            cJSON_AddItemToObject(shared, m->string, m);
            m = next;
        }
        cJSON_Delete(resolved);
    }
    int rc = compile_inbound(B, doc, out, "", account_inbound_path, (void *)acc_path);
    omni__cfg_wipe_delete(doc);
    return rc;
}

static int id_taken(const omni__cfg_build *B, size_t upto, const char *id, size_t *where)
{
    for (size_t j = 0; j < upto; j++) {
        if (!B->acc[j].usable)
            continue;
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(B->acc[j].item, "accountId");
        if (strcmp(o->valuestring, id) == 0) {
            *where = j;
            return 1;
        }
    }
    return 0;
}

static int one_account(omni__cfg_build *B, size_t i)
{
    const cJSON *acc = B->acc[i].item;
    char path[OMNI__CFG_PATH_MAX], p[OMNI__CFG_PATH_MAX];
    omni__cfg_path_index(path, "accounts", i);
    if (!cJSON_IsObject(acc)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG, "must be an object");
        return OMNI_OK;
    }
    only_allowed(B, acc, path, 1);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(acc, "accountId");
    omni__cfg_path(p, path, "accountId");
    size_t other = 0;
    if (!id) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "is required");
    } else if (!cJSON_IsString(id) || !omni__cfg_plain_id(id->valuestring)) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                            "must be 1..128 bytes of [A-Za-z0-9._:@+-]");
    } else if (id_taken(B, i, id->valuestring, &other)) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "repeats the accountId of accounts[%zu]",
                            other);
    } else {
        B->acc[i].usable = 1;
    }
    identity_members(B, acc, path);
    own_members(B, acc, path);
    omni_config *cfg = B->cfg;
    omni__cfg_account scratch = {0};
    omni__cfg_account *a = &scratch;
    if (B->acc[i].usable) {
        B->acc[i].cfg_index = cfg->n_accounts;
        a = &cfg->accounts[cfg->n_accounts++];
        if (!(a->id = strdup(id->valuestring)))
            return OMNI_ENOMEM;
    }
    int rc = OMNI_OK;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(acc, "addresses");
    if (v) {
        omni__cfg_path(p, path, "addresses");
        const cJSON *r = effective(B, acc, "defaultRegion");
        rc = addresses(B, v, p, region_ok(r) ? r->valuestring : NULL,
                       B->acc[i].usable ? (long)B->acc[i].cfg_index : -1);
    }
    const cJSON *shared = cJSON_GetObjectItemCaseSensitive(B->inbound_resolved, "carriers");
    if (!cJSON_IsObject(shared))
        shared = NULL;
    const cJSON *sc;
    cJSON_ArrayForEach(sc, shared)
    {
        if (!rc)
            rc = omni__cfg_names_add(&B->acc[i].carriers, sc->string);
    }
    v = cJSON_GetObjectItemCaseSensitive(acc, "carriers");
    if (!rc && v) {
        omni__cfg_path(p, path, "carriers");
        rc = account_inbound(B, v, p, path, &a->inbound, &B->acc[i].carriers);
    }
    v = cJSON_GetObjectItemCaseSensitive(acc, "outbound");
    if (!rc && v) {
        omni__cfg_path(p, path, "outbound");
        rc = compile_provider(B, v, p, 0, (void **)&a->outbound, &B->outbound);
    }
    v = cJSON_GetObjectItemCaseSensitive(acc, "push");
    if (!rc && v) {
        omni__cfg_path(p, path, "push");
        rc = compile_provider(B, v, p, 1, (void **)&a->push, &B->push);
    }
    if (a == &scratch) {
        omni_inbound_free(scratch.inbound);
        omni_outbound_free(scratch.outbound);
        omni_push_free(scratch.push);
        return rc;
    }
    if (!rc && !(B->acc[i].preroute = preroute_part(acc, a->id)))
        rc = OMNI_ENOMEM;
    if (!rc)
        rc = routing_doc(B, acc, a);
    return rc;
}

int omni__cfg_accounts(omni__cfg_build *B)
{
    const cJSON *list = B->sec_accounts;
    if (!list)
        return OMNI_OK;
    if (!cJSON_IsArray(list)) {
        omni__cfg_error_add(&B->errs, "accounts", OMNI_ECONFIG, "must be an array of accounts");
        return OMNI_OK;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n > OMNI_CONFIG_MAX_ACCOUNTS) {
        omni__cfg_error_add(&B->errs, "accounts", OMNI_ETOOLARGE, "more than %d accounts",
                            OMNI_CONFIG_MAX_ACCOUNTS);
        n = OMNI_CONFIG_MAX_ACCOUNTS;
    }
    if (n == 0)
        return OMNI_OK;
    B->acc = calloc(n, sizeof(*B->acc));
    B->cfg->accounts = calloc(n, sizeof(*B->cfg->accounts));
    if (!B->acc || !B->cfg->accounts)
        return OMNI_ENOMEM;
    const cJSON *it = list->child;
    for (size_t i = 0; i < n && it; i++, it = it->next) {
        B->acc[i].item = it;
        B->n_acc = i + 1;
        int rc = one_account(B, i);
        if (rc)
            return rc;
    }
    addresses_unique(B);
    return OMNI_OK;
}

/* ---- after a clean build ------------------------------------------------------------- */

static void write_names_of(omni_buf *b, const cJSON *obj)
{
    omni__cfg_names s = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (omni__cfg_names_add(&s, it->string))
            b->failed = OMNI_ENOMEM;
    }
    omni__cfg_names_write(b, &s);
    omni__cfg_names_free(&s);
}

static int account_json(omni__cfg_build *B, size_t i)
{
    const cJSON *acc = B->acc[i].item;
    omni__cfg_account *a = &B->cfg->accounts[B->acc[i].cfg_index];
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "accountId");
    omni__json_w_str(&b, a->id);
    const char *idm[] = {"name", "businessUnitId", "tenantId"};
    for (int k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(acc, idm[k]);
        if (cJSON_IsString(v)) {
            omni__json_w_key(&b, idm[k]);
            omni__json_w_str(&b, v->valuestring);
        }
    }
    omni__json_w_keyl(&b, "createCustomers");
    omni__json_w_bool(&b, cJSON_IsTrue(effective(B, acc, "createCustomers")));
    const cJSON *r = effective(B, acc, "defaultRegion");
    if (cJSON_IsString(r)) {
        omni__json_w_keyl(&b, "defaultRegion");
        omni__json_w_str(&b, r->valuestring);
    }
    const cJSON *tz = effective(B, acc, "timeZone"), *loc = effective(B, acc, "locale");
    omni__json_w_keyl(&b, "timeZone");
    omni__json_w_str(&b, cJSON_IsString(tz) ? tz->valuestring : "UTC");
    omni__json_w_keyl(&b, "locale");
    omni__json_w_str(&b, cJSON_IsString(loc) ? loc->valuestring : "en");
    /* addresses as given, phone numbers in E.164 */
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive(acc, "addresses");
    omni__json_w_keyl(&b, "addresses");
    omni__json_w_obj_begin(&b);
    const cJSON *list;
    cJSON_ArrayForEach(list, addr)
    {
        int phone = strcmp(list->string, "phoneNumbers") == 0;
        omni__json_w_key(&b, list->string);
        omni__json_w_arr_begin(&b);
        const cJSON *x;
        cJSON_ArrayForEach(x, list)
        {
            char e164[OMNI_E164_STRLEN];
            if (phone && omni_phone_to_e164(e164, sizeof(e164), x->valuestring,
                                            strlen(x->valuestring),
                                            cJSON_IsString(r) ? r->valuestring : NULL) == 0)
                omni__json_w_str(&b, e164);
            else
                omni__json_w_str(&b, x->valuestring);
        }
        omni__json_w_arr_end(&b);
    }
    omni__json_w_obj_end(&b);
    omni__json_w_keyl(&b, "routingKeys");
    omni__json_w_arr_begin(&b);
    for (size_t k = 0; k < B->n_addr; k++)
        if (B->addr[k].account == (long)B->acc[i].cfg_index)
            omni__json_w_str(&b, B->addr[k].key);
    omni__json_w_arr_end(&b);
    omni__json_w_keyl(&b, "carriers");
    omni__cfg_names_write(&b, &B->acc[i].carriers);
    omni__json_w_keyl(&b, "outbound");
    write_names_of(&b, effective(B, acc, "outbound"));
    omni__json_w_keyl(&b, "push");
    write_names_of(&b, effective(B, acc, "push"));
    static const char *const rest[] = {"conversation",       "businessHours", "rules",
                                       "autoResponses",      "optOut",        "priority",
                                       "defaultDestination", "analyzer",      NULL};
    for (size_t k = 0; rest[k]; k++) {
        const cJSON *v = effective(B, acc, rest[k]);
        if (v) {
            omni__json_w_key(&b, rest[k]);
            omni__json_w_item(&b, v);
        }
    }
    omni__json_w_obj_end(&b);
    if (b.failed) {
        omni__buf_free(&b);
        return OMNI_ENOMEM;
    }
    a->json = b.data;
    a->json_len = b.len;
    return OMNI_OK;
}

static int cmp_address(const void *a, const void *b)
{
    return strcmp(((const omni__cfg_address *)a)->key, ((const omni__cfg_address *)b)->key);
}

int omni__cfg_accounts_finish(omni__cfg_build *B)
{
    omni_config *cfg = B->cfg;
    /* B->addr is sorted by key (and has no repeats: the build had no
     * errors); the accounts' routingKeys list them in that order */
    for (size_t i = 0; i < B->n_acc; i++) {
        int rc = B->acc[i].usable ? account_json(B, i) : OMNI_OK;
        if (rc)
            return rc;
    }
    if (B->n_addr) {
        cfg->addresses = calloc(B->n_addr, sizeof(*cfg->addresses));
        if (!cfg->addresses)
            return OMNI_ENOMEM;
    }
    for (size_t k = 0; k < B->n_addr; k++) {
        if (B->addr[k].account < 0)
            continue; /* an account with errors: not reached after a clean build */
        omni__cfg_address *d = &cfg->addresses[cfg->n_addresses];
        if (!(d->key = strdup(B->addr[k].key)))
            return OMNI_ENOMEM;
        d->account = (size_t)B->addr[k].account;
        cfg->n_addresses++;
    }
    if (cfg->n_addresses > 1)
        qsort(cfg->addresses, cfg->n_addresses, sizeof(*cfg->addresses), cmp_address);
    return OMNI_OK;
}

void omni__cfg_accounts_free(omni__cfg_build *B)
{
    for (size_t k = 0; k < B->n_addr; k++) {
        free(B->addr[k].key);
        free(B->addr[k].path);
    }
    free(B->addr);
    B->addr = NULL;
    B->n_addr = B->addr_cap = 0;
}
