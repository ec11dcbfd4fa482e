/* The template store: NotificationTemplate documents in the engine's store
 * (namespace "template", key = templateId), every version kept in
 * "template_version" (key "<templateId>@<10-digit version>"), CAS on
 * update, and rendering by id with the locale fallback chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>
#include <omni/template_store.h>

#include "../core/engine.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../storage/store_internal.h"
#include "template_internal.h"

#define NS_CURRENT "template"
#define NS_VERSIONS "template_version"
#define DOC_MAX (1024u * 1024u)
#define ID_MAX 128
#define LOCALE_MAX 35
#define VAR_NAME_MAX 128
#define LIST_DEFAULT 100
#define LIST_SCAN_MAX 10000u

static const char *const CATEGORIES[] = {"payment", "order", "system", "promotional", NULL};
static const char *const CHANNELS[] = {"sms", "email", "whatsapp", "push", NULL};

static int in_set(const char *s, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (!strcmp(s, set[i]))
            return 1;
    return 0;
}

/* Sets OMNI_EINVAL with details {"path": path}. */
static int field_err(const char *path, const char *fmt, const char *extra)
{
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_key(&d, "path");
    omni__json_w_str(&d, path);
    omni__json_w_obj_end(&d);
    int rc;
    if (d.failed)
        rc = omni__err(OMNI_EINVAL, fmt, path, extra ? extra : "");
    else
        rc = omni__err_details(OMNI_EINVAL, d.data, fmt, path, extra ? extra : "");
    omni__buf_free(&d);
    return rc;
}

static int id_valid(const char *id)
{
    if (!id)
        return 0;
    size_t n = strnlen(id, ID_MAX + 1);
    if (n == 0 || n > ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int check_id(const char *id)
{
    if (!id_valid(id))
        return omni__err(OMNI_EINVAL, "templateId must be 1..%d bytes of [A-Za-z0-9_.:-]",
                         ID_MAX);
    return OMNI_OK;
}

/*
 * Canonical form of a BCP 47 tag: subtags split at '-' or '_', the
 * language lower case, 4-letter scripts title case, 2-letter regions upper
 * case, anything else lower case ("kn_in" -> "kn-IN"). Returns 0 or -1 for
 * a malformed tag (the rules of omni_format_*'s locale argument).
 */
static int locale_canon(const char *tag, char out[LOCALE_MAX + 1])
{
    size_t n = strnlen(tag, LOCALE_MAX + 1);
    if (n == 0 || n > LOCALE_MAX)
        return -1;
    size_t i = 0, o = 0, sub = 0;
    while (i <= n) {
        size_t start = i;
        while (i < n && tag[i] != '-' && tag[i] != '_') {
            char c = tag[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                return -1;
            i++;
        }
        size_t len = i - start;
        if (len == 0 || len > 8)
            return -1;
        if (sub > 0)
            out[o++] = '-';
        for (size_t k = 0; k < len; k++) {
            char c = tag[start + k];
            int up = (sub > 0 && len == 2) || (sub > 0 && len == 4 && k == 0);
            if (up && c >= 'a' && c <= 'z')
                c = (char)(c - 32);
            else if (!up && c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            out[o++] = c;
        }
        if (sub == 0) {
            if (len < 2 || len > 3)
                return -1;
            for (size_t k = 0; k < len; k++)
                if (out[k] < 'a' || out[k] > 'z')
                    return -1;
        }
        sub++;
        i++;
    }
    out[o] = '\0';
    return 0;
}

/* ---- compiling every source --------------------------------------------- */

/* Compiles one template source to check it; a syntax error becomes
 * OMNI_ESYNTAX with details {"path", "line", "column"}. */
static int check_source(const char *src, size_t len, const char *path, int html)
{
    omni_template *t = NULL;
    const char *opts = html ? "{\"escape\":\"html\"}" : "{\"escape\":\"none\"}";
    int rc = omni_template_compile(&t, src, len, opts, strlen(opts), NULL);
    if (rc == OMNI_OK) {
        omni_template_free(t);
        return OMNI_OK;
    }
    const omni_error *e = omni_error_last();
    char msg[600];
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "template error");
    char *details_text = e->details ? strdup(e->details) : NULL;
    cJSON *details = NULL;
    if (details_text)
        omni__json_parse(&details, details_text, strlen(details_text), 0, "error details");
    free(details_text);
    if (!cJSON_IsObject(details)) {
        cJSON_Delete(details);
        details = cJSON_CreateObject();
    }
    char *dj = NULL;
    if (details) {
        cJSON_DeleteItemFromObjectCaseSensitive(details, "path");
        cJSON_AddStringToObject(details, "path", path);
        dj = cJSON_PrintUnformatted(details);
        cJSON_Delete(details);
    }
    rc = omni__err_details(rc, dj, "%s: %s", path, msg);
    free(dj);
    return rc;
}

/* ---- document validation ------------------------------------------------- */

/* Whether one of the first n items of arr (or, with member, their member
 * of that name) is the string s. */
static int repeats(const cJSON *arr, int n, const char *member, const char *s)
{
    const cJSON *it;
    int j = 0;
    cJSON_ArrayForEach(it, arr) {
        if (j++ >= n)
            break;
        const cJSON *v = member ? cJSON_GetObjectItemCaseSensitive(it, member) : it;
        if (cJSON_IsString(v) && !strcmp(v->valuestring, s))
            return 1;
    }
    return 0;
}

static int want_string(const cJSON *item, const char *path, int required, int nonempty)
{
    if (!item)
        return required ? field_err(path, "%s is required%s", NULL) : OMNI_OK;
    if (!cJSON_IsString(item))
        return field_err(path, "%s must be a string%s", NULL);
    if (nonempty && !item->valuestring[0])
        return field_err(path, "%s must not be empty%s", NULL);
    return OMNI_OK;
}

/* content or a localization: {"subject"?, "body", "htmlBody"?} plus the
 * seed's "attachments" / "styling" (kept as they are). */
static int check_content(const cJSON *c, const char *path)
{
    char p[200];
    if (!cJSON_IsObject(c))
        return field_err(path, "%s must be an object%s", NULL);
    const cJSON *it;
    cJSON_ArrayForEach(it, c) {
        if (strcmp(it->string, "subject") && strcmp(it->string, "body") &&
            strcmp(it->string, "htmlBody") && strcmp(it->string, "attachments") &&
            strcmp(it->string, "styling")) {
            snprintf(p, sizeof(p), "%s.%s", path, it->string);
            return field_err(p, "%s is not a known field%s", NULL);
        }
    }
    static const struct {
        const char *name;
        int required, html;
    } fields[] = {{"subject", 0, 0}, {"body", 1, 0}, {"htmlBody", 0, 1}};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, fields[i].name);
        snprintf(p, sizeof(p), "%s.%s", path, fields[i].name);
        int rc = want_string(f, p, fields[i].required, 0);
        if (rc)
            return rc;
        if (f) {
            rc = check_source(f->valuestring, strlen(f->valuestring), p, fields[i].html);
            if (rc)
                return rc;
        }
    }
    return OMNI_OK;
}

static int check_variables(const cJSON *vars)
{
    if (!cJSON_IsArray(vars))
        return field_err("variables", "%s must be an array%s", NULL);
    int i = 0;
    const cJSON *v;
    char p[64];
    cJSON_ArrayForEach(v, vars) {
        snprintf(p, sizeof(p), "variables[%d]", i);
        if (!cJSON_IsObject(v))
            return field_err(p, "%s must be an object%s", NULL);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        snprintf(p, sizeof(p), "variables[%d].name", i);
        int rc = want_string(name, p, 1, 1);
        if (rc)
            return rc;
        size_t nl = strlen(name->valuestring);
        if (nl > VAR_NAME_MAX)
            return field_err(p, "%s is longer than 128 bytes%s", NULL);
        for (size_t k = 0; k < nl; k++) {
            unsigned char c = (unsigned char)name->valuestring[k];
            if (c <= ' ' || c == '{' || c == '}')
                return field_err(p, "%s must not contain spaces, controls or braces%s", NULL);
        }
        if (repeats(vars, i, "name", name->valuestring))
            return field_err(p, "%s repeats a variable name%s", NULL);
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(v, "required");
        snprintf(p, sizeof(p), "variables[%d].required", i);
        if (req && !cJSON_IsBool(req))
            return field_err(p, "%s must be a boolean%s", NULL);
        snprintf(p, sizeof(p), "variables[%d].type", i);
        if ((rc = want_string(cJSON_GetObjectItemCaseSensitive(v, "type"), p, 0, 0)))
            return rc;
        snprintf(p, sizeof(p), "variables[%d].description", i);
        if ((rc = want_string(cJSON_GetObjectItemCaseSensitive(v, "description"), p, 0, 0)))
            return rc;
        i++;
    }
    return OMNI_OK;
}

static const char *const TOP_FIELDS[] = {
    "templateId", "name",        "description", "category",  "channels",
    "content",    "variables",   "version",     "isActive",  "createdAt",
    "updatedAt",  "defaultLocale", "localizations", NULL};

/*
 * Validates an input document and builds the stored form in a canonical
 * field order (version, createdAt and updatedAt are left for the caller).
 * Items are moved out of `in`.
 */
static int build_doc(cJSON *in, cJSON **out)
{
    *out = NULL;
    if (!cJSON_IsObject(in))
        return field_err("", "the template must be a JSON object%s%s", NULL);
    const cJSON *it;
    cJSON_ArrayForEach(it, in) {
        if (!in_set(it->string, TOP_FIELDS))
            return field_err(it->string, "%s is not a known field%s", NULL);
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "templateId");
    int rc = want_string(id, "templateId", 1, 1);
    if (rc)
        return rc;
    if (!id_valid(id->valuestring))
        return field_err("templateId", "%s must be 1..128 bytes of [A-Za-z0-9_.:-]%s", NULL);
    if ((rc = want_string(cJSON_GetObjectItemCaseSensitive(in, "name"), "name", 1, 1)))
        return rc;
    if ((rc = want_string(cJSON_GetObjectItemCaseSensitive(in, "description"), "description", 0,
                          0)))
        return rc;
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(in, "category");
    if ((rc = want_string(cat, "category", 1, 0)))
        return rc;
    if (!in_set(cat->valuestring, CATEGORIES))
        return field_err("category", "%s must be payment, order, system or promotional%s",
                         NULL);
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(in, "channels");
    if (!chs)
        return field_err("channels", "%s is required%s", NULL);
    if (!cJSON_IsArray(chs) || cJSON_GetArraySize(chs) == 0)
        return field_err("channels", "%s must be a non-empty array%s", NULL);
    int i = 0;
    cJSON_ArrayForEach(it, chs) {
        char p[32];
        snprintf(p, sizeof(p), "channels[%d]", i);
        if (!cJSON_IsString(it) || !in_set(it->valuestring, CHANNELS))
            return field_err(p, "%s must be sms, email, whatsapp or push%s", NULL);
        if (repeats(chs, i, NULL, it->valuestring))
            return field_err(p, "%s repeats a channel%s", NULL);
        i++;
    }
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(in, "content");
    if (!content)
        return field_err("content", "%s is required%s", NULL);
    if ((rc = check_content(content, "content")))
        return rc;
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(in, "variables");
    if (vars && (rc = check_variables(vars)))
        return rc;
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(in, "isActive");
    if (active && !cJSON_IsBool(active))
        return field_err("isActive", "%s must be a boolean%s", NULL);
    char def[LOCALE_MAX + 1] = "en";
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(in, "defaultLocale");
    if (dl) {
        if ((rc = want_string(dl, "defaultLocale", 0, 1)))
            return rc;
        if (locale_canon(dl->valuestring, def))
            return field_err("defaultLocale", "%s is not a valid locale tag%s", NULL);
    }
    cJSON *locs = cJSON_GetObjectItemCaseSensitive(in, "localizations");
    cJSON *canon_locs = NULL;
    if (locs) {
        if (!cJSON_IsObject(locs))
            return field_err("localizations", "%s must be an object%s", NULL);
        canon_locs = cJSON_CreateObject();
        if (!canon_locs)
            return omni__err(OMNI_ENOMEM, NULL);
        cJSON *l = locs->child;
        while (l) {
            cJSON *next = l->next;
            char p[200], tag[LOCALE_MAX + 1];
            snprintf(p, sizeof(p), "localizations.%s", l->string);
            if (locale_canon(l->string, tag)) {
                cJSON_Delete(canon_locs);
                return field_err(p, "%s: the key is not a valid locale tag%s", NULL);
            }
            if (cJSON_GetObjectItemCaseSensitive(canon_locs, tag)) {
                cJSON_Delete(canon_locs);
                return field_err(p, "%s repeats a locale%s", NULL);
            }
            if ((rc = check_content(l, p))) {
                cJSON_Delete(canon_locs);
                return rc;
            }
            cJSON_DetachItemViaPointer(locs, l);
            cJSON_AddItemToObject(canon_locs, tag, l);
            l = next;
        }
    }

    cJSON *doc = cJSON_CreateObject();
    if (!doc) {
        cJSON_Delete(canon_locs);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    static const char *const order[] = {"templateId", "name", "description", "category",
                                        "channels", "content", "variables", NULL};
    for (size_t k = 0; order[k]; k++) {
        cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(in, order[k]);
        if (item)
            cJSON_AddItemToObject(doc, order[k], item);
        else if (!strcmp(order[k], "variables"))
            cJSON_AddItemToObject(doc, "variables", cJSON_CreateArray());
    }
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddBoolToObject(doc, "isActive", active ? cJSON_IsTrue(active) : 1);
    cJSON_AddStringToObject(doc, "defaultLocale", def);
    if (canon_locs)
        cJSON_AddItemToObject(doc, "localizations", canon_locs);
    cJSON_AddStringToObject(doc, "createdAt", "");
    cJSON_AddStringToObject(doc, "updatedAt", "");
    if (!cJSON_GetObjectItemCaseSensitive(doc, "updatedAt")) {
        cJSON_Delete(doc);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    *out = doc;
    return OMNI_OK;
}

static int set_string(cJSON *doc, const char *key, const char *value)
{
    cJSON *s = cJSON_CreateString(value);
    if (!s || !cJSON_ReplaceItemInObjectCaseSensitive(doc, key, s)) {
        cJSON_Delete(s);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    return OMNI_OK;
}

static int set_number(cJSON *doc, const char *key, double value)
{
    cJSON *n = cJSON_CreateNumber(value);
    if (!n || !cJSON_ReplaceItemInObjectCaseSensitive(doc, key, n)) {
        cJSON_Delete(n);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    return OMNI_OK;
}

static int parse_input(cJSON **doc, const char *json, size_t len)
{
    *doc = NULL;
    if (!json)
        return omni__err(OMNI_EINVAL, "template JSON is NULL");
    if (len > DOC_MAX)
        return omni__err(OMNI_ETOOLARGE, "a template document is at most 1 MiB (got %zu bytes)",
                         len);
    cJSON *in = NULL;
    int rc = omni__json_parse(&in, json, len, DOC_MAX, "template");
    if (rc)
        return rc;
    rc = build_doc(in, doc);
    cJSON_Delete(in);
    return rc;
}

static int check_engine(omni_engine *engine, omni_store **store)
{
    if (!engine)
        return omni__err(OMNI_EINVAL, "engine is NULL");
    *store = omni_engine_store(engine);
    if (!*store)
        return omni__err(OMNI_EINVAL, "the engine has no store");
    return OMNI_OK;
}

/* How a call with a result starts: out checked and cleared, then the engine
 * and its store. */
static int begin(char **out, size_t *out_len, omni_engine *engine, omni_store **store)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    return check_engine(engine, store);
}

static void version_key(char *buf, size_t cap, const char *id, uint64_t version)
{
    snprintf(buf, cap, "%s@%010llu", id, (unsigned long long)version);
}

/* Writes the record of version `version` of template id (replacing any). */
static int keep_version(omni_store *store, const char *id, uint64_t version, const cJSON *doc,
                        int64_t now)
{
    char vkey[ID_MAX + 16];
    version_key(vkey, sizeof(vkey), id, version);
    return omni__store_put_json(store, NS_VERSIONS, vkey, doc, OMNI_STORE_ANY_VERSION, 0, now,
                                NULL);
}

/* keep_version as a best effort: get falls back to the current document,
 * and the next update writes the record again before replacing it. */
static void keep_version_or_warn(omni_engine *engine, omni_store *store, const char *id,
                                 uint32_t version, const cJSON *doc, int64_t now)
{
    if (keep_version(store, id, version, doc, now))
        omni__log(engine, OMNI_LOG_WARN, "template", "could not keep version %u of %s", version,
                  id);
}

/* Serializes `doc` into *out (released with omni_free). */
static int hand_out(const cJSON *doc, char **out, size_t *out_len)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_item(&b, doc);
    return omni__buf_detach(&b, out, out_len);
}

static int stamp(cJSON *doc, int64_t now_ms, const char *created)
{
    char ts[OMNI_TIME_STRLEN];
    int rc = omni_time_format(ts, sizeof(ts), now_ms);
    if (rc)
        return omni__err(OMNI_ETIME, "the engine clock is outside years 0000..9999");
    rc = set_string(doc, "createdAt", created ? created : ts);
    if (!rc)
        rc = set_string(doc, "updatedAt", ts);
    return rc;
}

/* ---- kept versions --------------------------------------------------------- */

typedef struct key_list {
    char **keys;
    size_t count, cap;
    int failed;
} key_list;

static int collect_key(void *ctx, const char *key, size_t key_len, const char *value,
                       size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)value, (void)value_len, (void)version, (void)expires_at_ms;
    key_list *l = ctx;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **k = realloc(l->keys, cap * sizeof(*k));
        if (!k) {
            l->failed = 1;
            return 1;
        }
        l->keys = k;
        l->cap = cap;
    }
    char *c = malloc(key_len + 1);
    if (!c) {
        l->failed = 1;
        return 1;
    }
    memcpy(c, key, key_len);
    c[key_len] = '\0';
    l->keys[l->count++] = c;
    return 0;
}

static void key_list_free(key_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->keys[i]);
    free(l->keys);
    memset(l, 0, sizeof(*l));
}

/* Deletes every kept version of `id`, a page at a time. */
static int delete_versions(omni_store *store, const char *id, int64_t now_ms)
{
    char prefix[ID_MAX + 2];
    snprintf(prefix, sizeof(prefix), "%s@", id);
    for (int page = 0; page < 10000; page++) {
        key_list l = {0};
        int rc = omni_store_list(store, NS_VERSIONS, prefix, NULL, OMNI_STORE_MAX_LIST, now_ms,
                                 collect_key, &l, NULL);
        if (!rc && l.failed)
            rc = omni__err(OMNI_ENOMEM, NULL);
        for (size_t i = 0; !rc && i < l.count; i++) {
            rc = omni_store_delete(store, NS_VERSIONS, l.keys[i], OMNI_STORE_ANY_VERSION, now_ms);
            if (rc == OMNI_ENOTFOUND)
                rc = OMNI_OK; /* deleted concurrently */
        }
        size_t n = l.count;
        key_list_free(&l);
        if (rc || n == 0)
            return rc;
    }
    return OMNI_OK;
}

/* ---- create / update / get / delete --------------------------------------- */

static uint32_t doc_version(const cJSON *doc)
{
    int64_t v = 0;
    if (omni__json_int(doc, "version", &v) || v < 1 || v > UINT32_MAX)
        return 0;
    return (uint32_t)v;
}

/* Reads the current document (OMNI_ESTORAGE when it is not a template). */
static int read_current(omni_store *store, const char *id, int64_t now, cJSON **doc,
                        uint64_t *rv)
{
    int rc = omni__store_get_json(store, NS_CURRENT, id, now, doc, rv, NULL);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "template %s not found", id);
    if (rc)
        return rc;
    if (!cJSON_IsObject(*doc) || doc_version(*doc) == 0 ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*doc, "content"))) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return omni__err_retry(OMNI_ESTORAGE, 0, "the stored template %s is damaged", id);
    }
    return OMNI_OK;
}

OMNI_API int omni_template_create(char **out, size_t *out_len, omni_engine *engine,
                                  const char *template_json, size_t len)
{
    omni_store *store;
    int rc = begin(out, out_len, engine, &store);
    if (rc)
        return rc;
    cJSON *doc = NULL;
    if ((rc = parse_input(&doc, template_json, len)))
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    const char *id = cJSON_GetObjectItemCaseSensitive(doc, "templateId")->valuestring;
    rc = stamp(doc, now, NULL);
    if (!rc) {
        rc = omni__store_put_json(store, NS_CURRENT, id, doc, OMNI_STORE_CREATE, 0, now, NULL);
        if (rc == OMNI_EEXISTS)
            rc = omni__err(OMNI_EEXISTS, "template %s already exists", id);
    }
    if (!rc)
        keep_version_or_warn(engine, store, id, 1, doc, now);
    if (!rc)
        rc = hand_out(doc, out, out_len);
    cJSON_Delete(doc);
    return rc;
}

OMNI_API int omni_template_update(char **out, size_t *out_len, omni_engine *engine,
                                  const char *template_json, size_t len,
                                  uint32_t expected_version)
{
    omni_store *store;
    int rc = begin(out, out_len, engine, &store);
    if (rc)
        return rc;
    cJSON *doc = NULL;
    if ((rc = parse_input(&doc, template_json, len)))
        return rc;
    const char *id = cJSON_GetObjectItemCaseSensitive(doc, "templateId")->valuestring;
    /* With expected_version 0 a lost race is retried; otherwise it is a
     * conflict. */
    for (int attempt = 0;; attempt++) {
        int64_t now = omni_engine_now_ms(engine);
        cJSON *cur = NULL;
        uint64_t rv = 0;
        if ((rc = read_current(store, id, now, &cur, &rv)))
            break;
        uint32_t v = doc_version(cur);
        if (expected_version && v != expected_version) {
            rc = omni__err(OMNI_ECONFLICT, "template %s is at version %u, not %u", id, v,
                           expected_version);
            cJSON_Delete(cur);
            break;
        }
        if (v == UINT32_MAX) {
            rc = omni__err(OMNI_EINVAL, "template %s has no version numbers left", id);
            cJSON_Delete(cur);
            break;
        }
        const char *created = omni__json_str(cur, "createdAt");
        rc = set_number(doc, "version", (double)v + 1);
        if (!rc)
            rc = stamp(doc, now, created);
        /* keep (or repair) the record of the version being replaced: it is
         * the only document that ever had version v */
        if (!rc)
            rc = keep_version(store, id, v, cur, now);
        cJSON_Delete(cur);
        if (!rc)
            rc = omni__store_put_json(store, NS_CURRENT, id, doc, rv, 0, now, NULL);
        if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND) {
            if (expected_version == 0 && attempt < 64)
                continue;
            if (rc == OMNI_ENOTFOUND)
                rc = omni__err(OMNI_ENOTFOUND, "template %s was deleted", id);
            else
                rc = omni__err(OMNI_ECONFLICT, "template %s was updated concurrently", id);
            break;
        }
        if (!rc)
            keep_version_or_warn(engine, store, id, v + 1, doc, now);
        break;
    }
    if (!rc)
        rc = hand_out(doc, out, out_len);
    cJSON_Delete(doc);
    return rc;
}

OMNI_API int omni_template_get(char **out, size_t *out_len, omni_engine *engine,
                               const char *template_id, uint32_t version)
{
    omni_store *store;
    int rc = begin(out, out_len, engine, &store);
    if (!rc)
        rc = check_id(template_id);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    cJSON *cur = NULL;
    if ((rc = read_current(store, template_id, now, &cur, NULL)))
        return rc;
    uint32_t v = doc_version(cur);
    if (version == 0 || version == v) {
        rc = hand_out(cur, out, out_len);
        cJSON_Delete(cur);
        return rc;
    }
    cJSON_Delete(cur);
    if (version > v)
        return omni__err(OMNI_ENOTFOUND, "template %s has no version %u (current: %u)",
                         template_id, version, v);
    char vkey[ID_MAX + 16];
    version_key(vkey, sizeof(vkey), template_id, version);
    cJSON *kept = NULL;
    rc = omni__store_get_json(store, NS_VERSIONS, vkey, now, &kept, NULL, NULL);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "version %u of template %s is not kept", version,
                         template_id);
    if (rc)
        return rc;
    rc = hand_out(kept, out, out_len);
    cJSON_Delete(kept);
    return rc;
}

OMNI_API int omni_template_delete(omni_engine *engine, const char *template_id)
{
    omni_store *store;
    int rc = check_engine(engine, &store);
    if (!rc)
        rc = check_id(template_id);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(engine);
    rc = omni_store_delete(store, NS_CURRENT, template_id, OMNI_STORE_ANY_VERSION, now);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "template %s not found", template_id);
    if (rc)
        return rc;
    /* The template is gone once its current document is. Kept versions
     * left behind by a storage failure are unreachable (get reads them only
     * up to the current version, and every write rewrites its own) and go
     * with the next delete of the same id. */
    if (delete_versions(store, template_id, now))
        omni__log(engine, OMNI_LOG_WARN, "template", "kept versions of %s not all deleted",
                  template_id);
    return OMNI_OK;
}

/* ---- list ------------------------------------------------------------------ */

typedef struct list_ctx {
    const char *category, *channel;
    int active; /* -1: any */
    size_t want, scanned, scan_max;
    omni_buf *b;
    size_t items;
    char *last_key; /* of the last record examined */
    int stopped, failed;
} list_ctx;

static int matches(const cJSON *doc, const list_ctx *c)
{
    if (!cJSON_IsObject(doc))
        return 0;
    if (c->category) {
        const char *cat = omni__json_str(doc, "category");
        if (!cat || strcmp(cat, c->category))
            return 0;
    }
    if (c->channel) {
        const cJSON *chs = cJSON_GetObjectItemCaseSensitive(doc, "channels");
        const cJSON *ch;
        int found = 0;
        cJSON_ArrayForEach(ch, chs) {
            if (cJSON_IsString(ch) && !strcmp(ch->valuestring, c->channel))
                found = 1;
        }
        if (!found)
            return 0;
    }
    if (c->active >= 0) {
        int a = 1;
        if (omni__json_bool(doc, "isActive", &a) != OMNI_OK)
            a = 1;
        if (a != c->active)
            return 0;
    }
    return 1;
}

static int list_cb(void *ctx, const char *key, size_t key_len, const char *value,
                   size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    (void)version, (void)expires_at_ms;
    list_ctx *c = ctx;
    char *k = malloc(key_len + 1);
    if (!k) {
        c->failed = 1;
        return 1;
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    free(c->last_key);
    c->last_key = k;
    c->scanned++;
    /* (a record that is not JSON is skipped) */
    cJSON *doc = NULL;
    omni__json_parse(&doc, value, value_len, OMNI_STORE_MAX_VALUE, "stored template");
    if (doc && matches(doc, c)) {
        omni__json_w_raw(c->b, value, value_len);
        c->items++;
    }
    cJSON_Delete(doc);
    if (c->items >= c->want || c->scanned >= c->scan_max) {
        c->stopped = 1;
        return 1;
    }
    return 0;
}

static int parse_filter(list_ctx *c, cJSON **root, const char *filter_json, size_t filter_len)
{
    *root = NULL;
    if (!filter_json || filter_len == 0)
        return OMNI_OK;
    int rc = omni__json_parse(root, filter_json, filter_len, 0, "template filter");
    if (rc)
        return rc;
    if (!cJSON_IsObject(*root))
        return omni__err(OMNI_EINVAL, "the template filter must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, *root) {
        if (!strcmp(it->string, "category")) {
            if (!cJSON_IsString(it) || !in_set(it->valuestring, CATEGORIES))
                return field_err("category", "filter %s must be a template category%s", NULL);
            c->category = it->valuestring;
        } else if (!strcmp(it->string, "channel")) {
            if (!cJSON_IsString(it) || !in_set(it->valuestring, CHANNELS))
                return field_err("channel", "filter %s must be sms, email, whatsapp or push%s",
                                 NULL);
            c->channel = it->valuestring;
        } else if (!strcmp(it->string, "isActive")) {
            if (!cJSON_IsBool(it))
                return field_err("isActive", "filter %s must be a boolean%s", NULL);
            c->active = cJSON_IsTrue(it);
        } else {
            return field_err(it->string, "filter %s is not a known field%s", NULL);
        }
    }
    return OMNI_OK;
}

OMNI_API int omni_template_list(char **out, size_t *out_len, omni_engine *engine,
                                const char *filter_json, size_t filter_len, const char *after,
                                size_t limit)
{
    omni_store *store;
    int rc = begin(out, out_len, engine, &store);
    if (rc)
        return rc;
    if (limit == 0)
        limit = LIST_DEFAULT;
    if (limit > OMNI_STORE_MAX_LIST)
        return omni__err(OMNI_EINVAL, "limit is at most %d", OMNI_STORE_MAX_LIST);
    if (after && *after && !id_valid(after))
        return omni__err(OMNI_EINVAL, "the cursor is not a templateId");
    list_ctx c = {0};
    c.active = -1;
    c.want = limit;
    c.scan_max = limit * 10 > LIST_SCAN_MAX ? LIST_SCAN_MAX : limit * 10;
    if (c.scan_max < limit)
        c.scan_max = limit;
    cJSON *filter = NULL;
    if ((rc = parse_filter(&c, &filter, filter_json, filter_len))) {
        cJSON_Delete(filter);
        return rc;
    }
    int64_t now = omni_engine_now_ms(engine);
    omni_buf b = OMNI_BUF_INIT;
    c.b = &b;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "items");
    omni__json_w_arr_begin(&b);
    char cursor[ID_MAX + 1] = "";
    if (after)
        snprintf(cursor, sizeof(cursor), "%s", after);
    char *next = NULL;
    /* page through the store until enough items or the scan budget is spent */
    for (;;) {
        size_t page = c.scan_max - c.scanned;
        if (page > OMNI_STORE_MAX_LIST)
            page = OMNI_STORE_MAX_LIST;
        omni_free(next);
        next = NULL;
        rc = omni_store_list(store, NS_CURRENT, "", cursor, page, now, list_cb, &c, &next);
        if (rc || c.failed || c.stopped || !next || !c.last_key)
            break;
        snprintf(cursor, sizeof(cursor), "%s", c.last_key);
    }
    if (!rc && c.failed)
        rc = omni__err(OMNI_ENOMEM, NULL);
    omni__json_w_arr_end(&b);
    omni__json_w_key(&b, "next");
    if (c.stopped || next)
        omni__json_w_str(&b, c.last_key ? c.last_key : next);
    else
        omni__json_w_null(&b);
    omni__json_w_obj_end(&b);
    omni_free(next);
    free(c.last_key);
    cJSON_Delete(filter);
    return omni__buf_finish(&b, rc, out, out_len);
}

/* ---- render ---------------------------------------------------------------- */

static int render_field(omni_buf *b, const char *key, const char *src, const omni_data *data,
                        const char *locale, int html, char **text, size_t *text_len)
{
    omni_buf o = OMNI_BUF_INIT;
    omni__compile_options(&o, html, locale);
    int rc = omni__buf_status(&o);
    omni_template *t = NULL;
    if (!rc)
        rc = omni_template_compile(&t, src, strlen(src), o.data, o.len, NULL);
    omni__buf_free(&o);
    if (rc)
        return rc;
    char *r = NULL;
    size_t rl = 0;
    rc = omni_template_render_data(&r, &rl, t, data);
    omni_template_free(t);
    if (rc)
        return rc;
    omni__json_w_key(b, key);
    omni__json_w_strn(b, r, rl);
    if (text) {
        *text = r;
        *text_len = rl;
    } else {
        omni_free(r);
    }
    return OMNI_OK;
}

/* The language subtag of a canonical tag ("kn-IN" -> "kn"). */
static void language_of(const char *tag, char out[LOCALE_MAX + 1])
{
    size_t n = strcspn(tag, "-");
    memcpy(out, tag, n);
    out[n] = '\0';
}

OMNI_API int omni_template_render_stored(char **out, size_t *out_len, omni_engine *engine,
                                         const char *template_id, const char *locale,
                                         const char *default_locale, const char *channel,
                                         const char *data_json, size_t data_len)
{
    omni_store *store;
    int rc = begin(out, out_len, engine, &store);
    if (!rc)
        rc = check_id(template_id);
    if (rc)
        return rc;
    if (!channel || !in_set(channel, CHANNELS))
        return omni__err(OMNI_EINVAL, "channel must be sms, email, whatsapp or push");
    /* the fallback chain: locale, its language, the account default, the
     * template's defaultLocale, en */
    char chain[5][LOCALE_MAX + 1];
    int nchain = 0;
    if (locale && *locale) {
        if (locale_canon(locale, chain[nchain]))
            return omni__err(OMNI_EINVAL, "locale is not a valid locale tag");
        nchain++;
        language_of(chain[0], chain[nchain]);
        if (strcmp(chain[nchain], chain[0]))
            nchain++;
    }
    if (default_locale && *default_locale) {
        if (locale_canon(default_locale, chain[nchain]))
            return omni__err(OMNI_EINVAL, "default_locale is not a valid locale tag");
        nchain++;
    }
    int64_t now = omni_engine_now_ms(engine);
    cJSON *doc = NULL;
    if ((rc = read_current(store, template_id, now, &doc, NULL)))
        return rc;
    int active = 1;
    if (omni__json_bool(doc, "isActive", &active) == OMNI_OK && !active) {
        cJSON_Delete(doc);
        return omni__err(OMNI_EINVAL, "template %s is not active", template_id);
    }
    int has_channel = 0;
    const cJSON *ch;
    cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(doc, "channels")) {
        if (cJSON_IsString(ch) && !strcmp(ch->valuestring, channel))
            has_channel = 1;
    }
    if (!has_channel) {
        cJSON_Delete(doc);
        return omni__err(OMNI_EINVAL, "template %s is not for the %s channel", template_id,
                         channel);
    }
    const char *tdef = omni__json_str(doc, "defaultLocale");
    char tdefc[LOCALE_MAX + 1] = "en";
    if (tdef && locale_canon(tdef, tdefc))
        snprintf(tdefc, sizeof(tdefc), "en");
    snprintf(chain[nchain++], LOCALE_MAX + 1, "%s", tdefc);
    snprintf(chain[nchain++], LOCALE_MAX + 1, "en");

    const cJSON *content = cJSON_GetObjectItemCaseSensitive(doc, "content");
    const cJSON *locs = cJSON_GetObjectItemCaseSensitive(doc, "localizations");
    const cJSON *variant = NULL;
    const char *used = NULL;
    for (int i = 0; i < nchain && !variant; i++) {
        const cJSON *l = cJSON_IsObject(locs) ? cJSON_GetObjectItemCaseSensitive(locs, chain[i])
                                              : NULL;
        if (cJSON_IsObject(l)) {
            variant = l;
            used = chain[i];
        } else if (!strcmp(chain[i], tdefc)) {
            variant = content;
            used = chain[i];
        }
    }
    if (!variant) { /* "en" without content in en: the content all the same */
        variant = content;
        used = tdefc;
    }
    const char *body = omni__json_str(variant, "body");
    const char *subject = omni__json_str(variant, "subject");
    const char *html = omni__json_str(variant, "htmlBody");
    if (!subject)
        subject = omni__json_str(content, "subject");
    if (!html)
        html = omni__json_str(content, "htmlBody");
    if (!body) {
        cJSON_Delete(doc);
        return omni__err_retry(OMNI_ESTORAGE, 0, "the stored template %s has no body",
                               template_id);
    }

    omni_data *data = NULL;
    if (data_json && data_len)
        rc = omni_data_parse(&data, data_json, data_len);
    else
        rc = omni_data_parse(&data, "{}", 2);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "templateId");
    omni__json_w_str(&b, template_id);
    omni__json_w_key(&b, "version");
    omni__json_w_int(&b, doc_version(doc));
    omni__json_w_key(&b, "locale");
    omni__json_w_str(&b, used);
    int email = !strcmp(channel, "email");
    if (subject && (email || !strcmp(channel, "push")))
        rc = render_field(&b, "subject", subject, data, used, 0, NULL, NULL);
    char *text = NULL;
    size_t text_len = 0;
    if (!rc)
        rc = render_field(&b, "body", body, data, used, 0, &text, &text_len);
    if (!rc && email && html)
        rc = render_field(&b, "htmlBody", html, data, used, 1, NULL, NULL);
    if (!rc && !strcmp(channel, "sms")) {
        char *sms = NULL;
        size_t sl = 0;
        rc = omni_sms_segments(&sms, &sl, text, text_len);
        if (!rc) {
            omni__json_w_key(&b, "sms");
            omni__json_w_raw(&b, sms, sl);
            omni_free(sms);
        }
    }
    omni__json_w_obj_end(&b);
    omni_free(text);
    omni_data_free(data);
    cJSON_Delete(doc);
    return omni__buf_finish(&b, rc, out, out_len);
}
