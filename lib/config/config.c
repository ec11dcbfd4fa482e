/* The engine configuration (include/omni/config.h): the whole document
 * validated with every error collected, the sections compiled in turn
 * (storage, transport, inbound, defaults, accounts, templates, pre-route,
 * delivery, workflow), omni_config_check's summary, and the accessors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "core/error.h"
#include "core/json.h"

static const char *const top_members[] = {"version",  "storage",  "transport", "inbound",
                                          "defaults", "accounts", "templates", "analyzer",
                                          "delivery", "workflow", NULL};

/* ---- freeing ------------------------------------------------------------------------ */

void omni_config_free(omni_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        omni__cfg_account *a = &cfg->accounts[i];
        free(a->id);
        free(a->json);
        omni_inbound_free(a->inbound);
        omni_outbound_free(a->outbound);
        omni_push_free(a->push);
        free(a->routing);
        free(a->conversation);
    }
    free(cfg->accounts);
    for (size_t i = 0; i < cfg->n_addresses; i++)
        free(cfg->addresses[i].key);
    free(cfg->addresses);
    for (size_t i = 0; i < cfg->n_templates; i++) {
        free(cfg->templates[i].id);
        free(cfg->templates[i].input);
        cJSON_Delete(cfg->templates[i].expected);
    }
    free(cfg->templates);
    for (size_t i = 0; i < cfg->n_steps; i++) {
        free(cfg->steps[i].id);
        free(cfg->steps[i].json);
    }
    free(cfg->steps);
    omni_inbound_free(cfg->inbound);
    omni_preroute_free(cfg->preroute);
    omni_outbound_free(cfg->def_outbound);
    omni_push_free(cfg->def_push);
    free(cfg->storage);
    free(cfg->transport);
    free(cfg->engine_json);
    free(cfg->delivery);
    free(cfg->workflow);
    free(cfg->summary);
    free(cfg);
}

static void build_free(omni__cfg_build *B)
{
    omni_config_free(B->cfg);
    omni__cfg_errors_free(&B->errs);
    for (size_t i = 0; i < B->n_acc; i++) {
        cJSON_Delete((cJSON *)B->acc[i].preroute);
        omni__cfg_names_free(&B->acc[i].carriers);
    }
    free(B->acc);
    omni__cfg_accounts_free(B);
    cJSON_Delete(B->pr_defaults);
    cJSON_Delete(B->pr_templates);
    omni__cfg_wipe_delete(B->inbound_resolved);
    omni__cfg_names_free(&B->carriers);
    omni__cfg_names_free(&B->outbound);
    omni__cfg_names_free(&B->push);
    omni__cfg_names_free(&B->steps);
    omni_engine_free(B->scratch);
    omni__cfg_wipe_delete(B->root);
    memset(B, 0, sizeof(*B));
}

/* ---- whole-document checks ------------------------------------------------------- */

/* \u0000 escapes (the text is valid JSON: a backslash only occurs in
 * strings, so a scan of escapes is exact). */
static int check_nul(const char *json, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (json[i] != '\\')
            continue;
        if (json[i + 1] == 'u' && i + 5 < len && memcmp(json + i + 2, "0000", 4) == 0)
            return omni__err(OMNI_EJSON,
                             "configuration: strings must not contain \\u0000 (at offset %zu)",
                             i);
        i++;
    }
    return OMNI_OK;
}

static int cmp_item_name(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

static void repeated_in(omni__cfg_build *B, const cJSON *obj, const char *path, int n)
{
    char p[OMNI__CFG_PATH_MAX];
    if (n <= 16) {
        for (const cJSON *a = obj->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0) {
                    char name[80];
                    snprintf(name, sizeof(name), "%.64s", b->string);
                    omni__cfg_path(p, path, name);
                    omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "repeated member");
                    break;
                }
        return;
    }
    const cJSON **items = malloc((size_t)n * sizeof(*items));
    if (!items) {
        B->errs.nomem = 1;
        return;
    }
    int k = 0;
    for (const cJSON *a = obj->child; a && k < n; a = a->next)
        items[k++] = a;
    qsort(items, (size_t)k, sizeof(*items), cmp_item_name);
    for (int i = 1; i < k; i++)
        if (strcmp(items[i - 1]->string, items[i]->string) == 0) {
            char name[80];
            snprintf(name, sizeof(name), "%.64s", items[i]->string);
            omni__cfg_path(p, path, name);
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "repeated member");
        }
    free(items);
}

/* Every object of the document: no member name twice. */
static void repeated_members(omni__cfg_build *B, const cJSON *item, const char *path)
{
    int n = 0;
    for (const cJSON *c = item->child; c; c = c->next)
        n++;
    if (cJSON_IsObject(item) && n > 1)
        repeated_in(B, item, path, n);
    size_t i = 0;
    for (const cJSON *c = item->child; c; c = c->next, i++) {
        if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
            continue;
        char p[OMNI__CFG_PATH_MAX];
        if (cJSON_IsObject(item)) {
            char name[80];
            snprintf(name, sizeof(name), "%.64s", c->string);
            omni__cfg_path(p, path, name);
        } else {
            omni__cfg_path_index(p, path, i);
        }
        repeated_members(B, c, p);
    }
}

/* ---- storage, transport, delivery --------------------------------------------------- */

static int section_storage(omni__cfg_build *B)
{
    const cJSON *s = B->sec_storage;
    const char *uri = "memory:";
    if (s) {
        if (!cJSON_IsString(s) || !s->valuestring[0] || strlen(s->valuestring) > 4096) {
            omni__cfg_error_add(&B->errs, "storage", OMNI_ECONFIG,
                                "must be a store URI: \"memory:\" or \"sqlite:PATH\"");
            return OMNI_OK;
        }
        uri = s->valuestring;
        if (strncasecmp(uri, "memory:", 7) == 0) {
            if (uri[7]) {
                omni__cfg_error_add(&B->errs, "storage", OMNI_ECONFIG,
                                    "nothing may follow \"memory:\"");
                return OMNI_OK;
            }
        } else if (strncasecmp(uri, "sqlite:", 7) == 0) {
            if (!uri[7]) {
                omni__cfg_error_add(&B->errs, "storage", OMNI_ECONFIG,
                                    "\"sqlite:\" needs a file name");
                return OMNI_OK;
            }
            omni_store *probe = NULL;
            int rc = omni_store_open(&probe, "sqlite::memory:");
            omni_store_free(probe);
            if (rc == OMNI_ENOMEM)
                return rc;
            if (rc) {
                omni__cfg_error_add(&B->errs, "storage", OMNI_EUNSUPPORTED,
                                    "this library was built without SQLite");
                return OMNI_OK;
            }
        } else {
            omni__cfg_error_add(&B->errs, "storage", OMNI_EUNSUPPORTED,
                                "unsupported store: \"memory:\" or \"sqlite:PATH\"");
            return OMNI_OK;
        }
    }
    if (!(B->cfg->storage = strdup(uri)))
        return OMNI_ENOMEM;
    return OMNI_OK;
}

static void transport_path(void *ctx, const char *in, char *out)
{
    (void)ctx;
    if (strncmp(in, "transport", 9) == 0 && (in[9] == '\0' || in[9] == '.'))
        omni__cfg_path(out, "", in);
    else
        omni__cfg_path(out, "transport", in);
}

static int section_transport(omni__cfg_build *B)
{
    const cJSON *t = B->sec_transport;
    if (!t)
        return OMNI_OK;
    if (!cJSON_IsObject(t)) {
        omni__cfg_error_add(&B->errs, "transport", OMNI_ECONFIG,
                            "must be an object {\"type\": \"curl\"|\"scripted\"|\"none\", ...}");
        return OMNI_OK;
    }
    char *text = NULL;
    size_t n = 0;
    if (omni__json_print(&text, &n, t))
        return OMNI_ENOMEM;
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_puts(&b, "{\"transport\":");
    omni__buf_append(&b, text, n);
    omni__buf_putc(&b, '}');
    if (b.failed) {
        free(text);
        omni__buf_free(&b);
        return OMNI_ENOMEM;
    }
    omni_engine *e = NULL;
    int rc = omni_engine_new(&e, b.data, b.len, NULL);
    omni__buf_free(&b);
    omni_engine_free(e);
    if (rc == OMNI_ENOMEM) {
        free(text);
        return rc;
    }
    if (rc)
        omni__cfg_error_last(&B->errs, "", rc, transport_path, NULL);
    B->cfg->transport = text;
    B->cfg->transport_len = n;
    return OMNI_OK;
}

static int section_delivery(omni__cfg_build *B)
{
    const cJSON *d = B->sec_delivery;
    char *text = NULL;
    size_t n = 0;
    if (d) {
        if (!cJSON_IsObject(d)) {
            omni__cfg_error_add(&B->errs, "delivery", OMNI_ECONFIG, "must be an object");
            return OMNI_OK;
        }
        if (omni__json_print(&text, &n, d))
            return OMNI_ENOMEM;
        omni_outbound *ob = NULL;
        omni_delivery *dl = NULL;
        int rc = omni_outbound_new(&ob, "{}", 2);
        if (!rc) {
            rc = omni_delivery_new(&dl, B->scratch, ob, text, n);
            if (rc && rc != OMNI_ENOMEM)
                omni__cfg_error_last(&B->errs, "delivery", rc, NULL, NULL);
        }
        omni_delivery_free(dl);
        omni_outbound_free(ob);
        if (rc == OMNI_ENOMEM) {
            free(text);
            return rc;
        }
    } else {
        if (!(text = strdup("{}")))
            return OMNI_ENOMEM;
        n = 2;
    }
    B->cfg->delivery = text;
    B->cfg->delivery_len = n;
    return OMNI_OK;
}

/* ---- the summary --------------------------------------------------------------------- */

static void write_summary(omni_buf *b, const omni__cfg_build *B, int valid)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "valid");
    omni__json_w_bool(b, valid);
    omni__json_w_keyl(b, "errors");
    omni__cfg_errors_write(b, &B->errs);
    omni__json_w_keyl(b, "errorCount");
    omni__json_w_int(b, (int64_t)B->errs.count);
    omni__json_w_keyl(b, "accounts");
    omni__json_w_int(b, cJSON_IsArray(B->sec_accounts) ? cJSON_GetArraySize(B->sec_accounts) : 0);
    omni__json_w_keyl(b, "addresses");
    omni__json_w_int(b, (int64_t)B->n_addresses_seen);
    omni__json_w_keyl(b, "templates");
    omni__json_w_int(b, (int64_t)B->n_templates_seen);
    omni__json_w_keyl(b, "carriers");
    omni__cfg_names_write(b, &B->carriers);
    omni__json_w_keyl(b, "outbound");
    omni__cfg_names_write(b, &B->outbound);
    omni__json_w_keyl(b, "push");
    omni__cfg_names_write(b, &B->push);
    omni__json_w_keyl(b, "steps");
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < B->steps.n; i++)
        omni__json_w_str(b, B->steps.items[i]);
    omni__json_w_arr_end(b);
    if (B->cfg && B->cfg->storage) {
        omni__json_w_keyl(b, "storage");
        omni__json_w_str(b, B->cfg->storage);
    }
    omni__json_w_obj_end(b);
}

static int finish(omni__cfg_build *B)
{
    omni_config *cfg = B->cfg;
    int rc = omni__cfg_accounts_finish(B);
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "storage");
    omni__json_w_str(&b, cfg->storage);
    if (cfg->transport) {
        omni__json_w_keyl(&b, "transport");
        omni__json_w_raw(&b, cfg->transport, cfg->transport_len);
    }
    omni__json_w_obj_end(&b);
    if (b.failed) {
        omni__buf_free(&b);
        return OMNI_ENOMEM;
    }
    cfg->engine_json = b.data;
    cfg->engine_len = b.len;
    omni_buf s = OMNI_BUF_INIT;
    write_summary(&s, B, 1);
    if (s.failed) {
        omni__buf_free(&s);
        return OMNI_ENOMEM;
    }
    cfg->summary = s.data;
    cfg->summary_len = s.len;
    return OMNI_OK;
}

/* ---- the build --------------------------------------------------------------------- */

static int sections(omni__cfg_build *B)
{
    const cJSON *root = B->root;
    repeated_members(B, root, "");
    omni__cfg_only_members(B, root, "", top_members);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!v)
        omni__cfg_error_add(&B->errs, "version", OMNI_ECONFIG, "is required (%d)",
                            OMNI_CONFIG_VERSION);
    else if (!cJSON_IsNumber(v) || v->valuedouble != OMNI_CONFIG_VERSION)
        omni__cfg_error_add(&B->errs, "version", OMNI_EVERSION,
                            "unsupported version: this library reads version %d",
                            OMNI_CONFIG_VERSION);
    B->sec_storage = cJSON_GetObjectItemCaseSensitive(root, "storage");
    B->sec_transport = cJSON_GetObjectItemCaseSensitive(root, "transport");
    B->sec_inbound = cJSON_GetObjectItemCaseSensitive(root, "inbound");
    B->sec_defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    B->sec_accounts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
    B->sec_templates = cJSON_GetObjectItemCaseSensitive(root, "templates");
    B->sec_analyzer = cJSON_GetObjectItemCaseSensitive(root, "analyzer");
    B->sec_delivery = cJSON_GetObjectItemCaseSensitive(root, "delivery");
    B->sec_workflow = cJSON_GetObjectItemCaseSensitive(root, "workflow");
    int rc = omni_engine_new(&B->scratch, NULL, 0, NULL);
    if (rc)
        return rc == OMNI_ENOMEM ? rc : omni__err(OMNI_EINTERNAL, "configuration: no engine");
    if ((rc = section_storage(B)) || (rc = section_transport(B)) ||
        (rc = omni__cfg_inbound(B)) || (rc = omni__cfg_defaults(B)) ||
        (rc = omni__cfg_accounts(B)) || (rc = omni__cfg_templates(B)) ||
        (rc = omni__cfg_preroute(B)) || (rc = section_delivery(B)) ||
        (rc = omni__cfg_workflow(B)))
        return rc;
    if (B->errs.nomem)
        return OMNI_ENOMEM;
    if (B->errs.count == 0)
        return finish(B);
    return OMNI_OK;
}

/* Builds into B (always initialized; release with build_free). Returns a
 * hard failure (a document that is not JSON or too large, no memory) with
 * the last error set; other problems are in B->errs. */
static int build(omni__cfg_build *B, const char *json, size_t len)
{
    memset(B, 0, sizeof(*B));
    if (!(B->cfg = calloc(1, sizeof(*B->cfg))))
        return omni__err(OMNI_ENOMEM, NULL);
    if (len > OMNI_LIMIT_CONFIG_BYTES)
        return omni__err(OMNI_ETOOLARGE, "configuration: %zu bytes is over the limit of %u",
                         len, OMNI_LIMIT_CONFIG_BYTES);
    int rc = omni__json_parse(&B->root, json ? json : "", len, OMNI_LIMIT_CONFIG_BYTES,
                              "configuration");
    if (!rc)
        rc = check_nul(json, len);
    if (rc)
        return rc;
    if (!cJSON_IsObject(B->root)) {
        omni__cfg_error_add(&B->errs, "", OMNI_ECONFIG,
                            "the configuration must be a JSON object");
        return OMNI_OK;
    }
    rc = sections(B);
    if (rc == OMNI_ENOMEM)
        return omni__err(OMNI_ENOMEM, NULL);
    return rc;
}

int omni_config_new(omni_config **out, const char *json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "configuration: out is NULL");
    *out = NULL;
    if (!json && len)
        return omni__err(OMNI_EINVAL, "configuration: the document is NULL");
    omni__cfg_build B;
    int rc = build(&B, json, len);
    if (!rc && (B.errs.count || B.errs.nomem))
        rc = omni__cfg_errors_raise(&B.errs);
    if (!rc) {
        *out = B.cfg;
        B.cfg = NULL;
    }
    build_free(&B);
    return rc;
}

int omni_config_check(char **out, size_t *out_len, const char *json, size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return omni__err(OMNI_EINVAL, "configuration check: out is NULL");
    if (!json && len)
        return omni__err(OMNI_EINVAL, "configuration check: the document is NULL");
    omni__cfg_build B;
    int rc = build(&B, json, len);
    if (rc == OMNI_ENOMEM || B.errs.nomem) {
        build_free(&B);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    if (rc) {
        /* the document could not be read at all */
        const omni_error *le = omni_error_last();
        long line = 0, column = 0;
        if (le->details) {
            cJSON *d = cJSON_ParseWithLength(le->details, strlen(le->details));
            int64_t v;
            if (d && !omni__json_int(d, "line", &v))
                line = (long)v;
            if (d && !omni__json_int(d, "column", &v))
                column = (long)v;
            cJSON_Delete(d);
        }
        omni__cfg_errors *E = &B.errs;
        omni__cfg_error_add(E, "", rc, "%s", le->message);
        if (E->n == 1 && line > 0) {
            E->items[0].line = line;
            E->items[0].column = column;
        }
    }
    omni_buf b = OMNI_BUF_INIT;
    int valid = rc == OMNI_OK && B.errs.count == 0;
    if (valid && B.cfg->summary)
        omni__buf_append(&b, B.cfg->summary, B.cfg->summary_len);
    else
        write_summary(&b, &B, valid);
    build_free(&B);
    return omni__buf_detach(&b, out, out_len);
}

/* ---- accessors ---------------------------------------------------------------------- */

static const omni__cfg_account *find_account(const omni_config *cfg, const char *id)
{
    if (!cfg || !id)
        return NULL;
    for (size_t i = 0; i < cfg->n_accounts; i++)
        if (strcmp(cfg->accounts[i].id, id) == 0)
            return &cfg->accounts[i];
    return NULL;
}

static const char *with_len(const char *s, size_t n, size_t *len)
{
    if (len)
        *len = s ? n : 0;
    return s;
}

const char *omni_config_summary(const omni_config *cfg, size_t *len)
{
    return cfg ? with_len(cfg->summary, cfg->summary_len, len) : with_len(NULL, 0, len);
}

const char *omni_config_engine_json(const omni_config *cfg, size_t *len)
{
    return cfg ? with_len(cfg->engine_json, cfg->engine_len, len) : with_len(NULL, 0, len);
}

const char *omni_config_storage(const omni_config *cfg)
{
    return cfg ? cfg->storage : NULL;
}

const char *omni_config_transport(const omni_config *cfg, size_t *len)
{
    return cfg ? with_len(cfg->transport, cfg->transport_len, len) : with_len(NULL, 0, len);
}

const char *omni_config_delivery(const omni_config *cfg, size_t *len)
{
    return cfg ? with_len(cfg->delivery, cfg->delivery_len, len) : with_len(NULL, 0, len);
}

const omni_inbound *omni_config_inbound(const omni_config *cfg, const char *account_id)
{
    const omni__cfg_account *a = find_account(cfg, account_id);
    if (a && a->inbound)
        return a->inbound;
    return cfg ? cfg->inbound : NULL;
}

const omni_preroute *omni_config_preroute(const omni_config *cfg)
{
    return cfg ? cfg->preroute : NULL;
}

const omni_outbound *omni_config_outbound(const omni_config *cfg, const char *account_id)
{
    const omni__cfg_account *a = find_account(cfg, account_id);
    if (a && a->outbound)
        return a->outbound;
    return cfg ? cfg->def_outbound : NULL;
}

omni_push *omni_config_push(const omni_config *cfg, const char *account_id)
{
    const omni__cfg_account *a = find_account(cfg, account_id);
    if (a && a->push)
        return a->push;
    return cfg ? cfg->def_push : NULL;
}

size_t omni_config_account_count(const omni_config *cfg)
{
    return cfg ? cfg->n_accounts : 0;
}

const char *omni_config_account_id(const omni_config *cfg, size_t i)
{
    return cfg && i < cfg->n_accounts ? cfg->accounts[i].id : NULL;
}

static int cmp_address_key(const void *key, const void *item)
{
    return strcmp((const char *)key, ((const omni__cfg_address *)item)->key);
}

const char *omni_config_account(const omni_config *cfg, const char *address_key)
{
    if (!cfg || !address_key) {
        omni__err(OMNI_EINVAL, "configuration: NULL configuration or address");
        return NULL;
    }
    char key[256];
    if (omni__cfg_routing_key(key, sizeof(key), address_key) != 0) {
        omni__err(OMNI_EINVAL, "configuration: not an address (a phone number with '+', "
                               "shortcode:, mss:, waba: or business:)");
        return NULL;
    }
    const omni__cfg_address *a = cfg->n_addresses
                                     ? bsearch(key, cfg->addresses, cfg->n_addresses,
                                               sizeof(*cfg->addresses), cmp_address_key)
                                     : NULL;
    if (!a) {
        omni__err(OMNI_ENOTFOUND, "configuration: no account has that address");
        return NULL;
    }
    return cfg->accounts[a->account].id;
}

const char *omni_config_account_json(const omni_config *cfg, const char *account_id,
                                     size_t *len)
{
    const omni__cfg_account *a = find_account(cfg, account_id);
    if (!a) {
        if (len)
            *len = 0;
        if (!cfg || !account_id)
            omni__err(OMNI_EINVAL, "configuration: NULL configuration or account id");
        else
            omni__err(OMNI_ENOTFOUND, "configuration: no such account");
        return NULL;
    }
    return with_len(a->json, a->json_len, len);
}

const char *omni_config_workflow(const omni_config *cfg, size_t *len)
{
    return cfg ? with_len(cfg->workflow, cfg->workflow_len, len) : with_len(NULL, 0, len);
}

size_t omni_config_step_count(const omni_config *cfg)
{
    return cfg ? cfg->n_steps : 0;
}

const char *omni_config_step_id(const omni_config *cfg, size_t i)
{
    return cfg && i < cfg->n_steps ? cfg->steps[i].id : NULL;
}

const char *omni_config_step(const omni_config *cfg, const char *step_id, size_t *len)
{
    if (cfg && step_id)
        for (size_t i = 0; i < cfg->n_steps; i++)
            if (strcmp(cfg->steps[i].id, step_id) == 0)
                return with_len(cfg->steps[i].json, cfg->steps[i].len, len);
    return with_len(NULL, 0, len);
}
