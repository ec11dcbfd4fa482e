/* The engine configuration's "templates" (checked by the template store on
 * a scratch memory engine, their stored form kept for apply), "analyzer",
 * and the pre-route handle compiled from defaults, accounts, templates and
 * analyzer — with one compile per account to find every account's error
 * when the whole one fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/error.h"
#include "core/json.h"

/* ---- templates --------------------------------------------------------------------- */

static int template_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

/* {"<defaultLocale>": content.body, "<L>": localizations.L.body, ...} */
static cJSON *preroute_entry(const cJSON *stored)
{
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return NULL;
    const char *def = omni__json_str(stored, "defaultLocale");
    const char *body = omni__json_str(stored, "content.body");
    if (!cJSON_AddStringToObject(e, def ? def : "en", body ? body : ""))
        goto fail;
    const cJSON *locs = cJSON_GetObjectItemCaseSensitive(stored, "localizations");
    const cJSON *l;
    cJSON_ArrayForEach(l, locs)
    {
        const char *lb = omni__json_str(l, "body");
        if (cJSON_GetObjectItemCaseSensitive(e, l->string))
            continue;
        if (!cJSON_AddStringToObject(e, l->string, lb ? lb : ""))
            goto fail;
    }
    return e;
fail:
    cJSON_Delete(e);
    return NULL;
}

static int one_template(omni__cfg_build *B, const cJSON *t, size_t i)
{
    char path[OMNI__CFG_PATH_MAX], p[OMNI__CFG_PATH_MAX];
    omni__cfg_path_index(path, "templates", i);
    if (!cJSON_IsObject(t)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG,
                            "must be a NotificationTemplate object (omni/template_store.h)");
        return OMNI_OK;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "templateId");
    const char *ids = cJSON_IsString(id) ? id->valuestring : NULL;
    /* a repeated id is this document's error; the store would say EXISTS */
    size_t j = 0;
    for (const cJSON *o = B->sec_templates->child; ids && o != t; o = o->next, j++) {
        const char *oid = omni__json_str(o, "templateId");
        if (oid && strcmp(oid, ids) == 0) {
            omni__cfg_path(p, path, "templateId");
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                                "repeats the templateId of templates[%zu]", j);
            return OMNI_OK;
        }
    }
    char *text = NULL;
    size_t n = 0;
    if (omni__json_print(&text, &n, t))
        return OMNI_ENOMEM;
    char *stored = NULL;
    size_t slen = 0;
    int rc = omni_template_create(&stored, &slen, B->scratch, text, n);
    cJSON *entry = NULL;
    if (rc == OMNI_ENOMEM) {
        free(text);
        return rc;
    }
    if (rc) {
        free(text);
        omni__cfg_error_last(&B->errs, path, rc, NULL, NULL);
        /* a stand-in, so that references to it are not errors too */
        if (ids && template_id_ok(ids) &&
            (!(entry = cJSON_CreateObject()) || !cJSON_AddStringToObject(entry, "en", "")))
            goto nomem;
    } else {
        cJSON *doc = cJSON_ParseWithLength(stored, slen);
        omni_free(stored);
        if (!doc) {
            free(text);
            return OMNI_ENOMEM;
        }
        if (!(entry = preroute_entry(doc))) {
            cJSON_Delete(doc);
            free(text);
            return OMNI_ENOMEM;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "version");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "createdAt");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "updatedAt");
        omni__cfg_template *ct = &B->cfg->templates[B->cfg->n_templates];
        ct->id = strdup(ids);
        ct->input = text;
        ct->input_len = n;
        ct->expected = doc;
        B->cfg->n_templates++;
        if (!ct->id)
            goto nomem;
    }
    if (entry)
        cJSON_AddItemToObject(B->pr_templates, ids, entry);
    return OMNI_OK;
nomem:
    cJSON_Delete(entry);
    return OMNI_ENOMEM;
}

int omni__cfg_templates(omni__cfg_build *B)
{
    if (!(B->pr_templates = cJSON_CreateObject()))
        return OMNI_ENOMEM;
    const cJSON *list = B->sec_templates;
    if (!list)
        return OMNI_OK;
    if (!cJSON_IsArray(list)) {
        omni__cfg_error_add(&B->errs, "templates", OMNI_ECONFIG,
                            "must be an array of NotificationTemplate objects");
        return OMNI_OK;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    B->n_templates_seen = n;
    if (n > OMNI_CONFIG_MAX_TEMPLATES) {
        omni__cfg_error_add(&B->errs, "templates", OMNI_ETOOLARGE, "more than %d templates",
                            OMNI_CONFIG_MAX_TEMPLATES);
        n = OMNI_CONFIG_MAX_TEMPLATES;
    }
    if (n == 0)
        return OMNI_OK;
    if (!(B->cfg->templates = calloc(n, sizeof(*B->cfg->templates))))
        return OMNI_ENOMEM;
    const cJSON *t = list->child;
    for (size_t i = 0; i < n && t; i++, t = t->next) {
        int rc = one_template(B, t, i);
        if (rc)
            return rc;
    }
    return OMNI_OK;
}

/* ---- the pre-route ---------------------------------------------------------------- */

typedef struct pr_map {
    omni__cfg_build *B;
    long single;     /* the document index of "accounts[0]", or -1 */
    size_t *indices; /* full compile: pre-route account k -> document index */
    size_t n_indices;
} pr_map;

static void map_template(const omni__cfg_build *B, const char *rest, char *out)
{
    /* rest: "<id>[.<language>...]"; ids may hold '.', so the longest id
     * of the document that prefixes rest wins */
    const cJSON *best = NULL;
    size_t best_len = 0, best_i = 0, i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, B->sec_templates)
    {
        const char *id = omni__json_str(t, "templateId");
        size_t n = id ? strlen(id) : 0;
        if (n && n > best_len && strncmp(rest, id, n) == 0 && (rest[n] == '\0' || rest[n] == '.')) {
            best = t;
            best_len = n;
            best_i = i;
        }
        i++;
    }
    if (!best) {
        omni__cfg_path(out, "templates", "");
        return;
    }
    char base[OMNI__CFG_PATH_MAX];
    omni__cfg_path_index(base, "templates", best_i);
    const char *lang = rest[best_len] == '.' ? rest + best_len + 1 : "";
    if (!lang[0]) {
        omni__cfg_path(out, base, "");
        return;
    }
    const char *def = omni__json_str(best, "defaultLocale");
    char sub[OMNI__CFG_PATH_MAX];
    if (strcmp(lang, def ? def : "en") == 0)
        snprintf(sub, sizeof(sub), "content.body");
    else
        snprintf(sub, sizeof(sub), "localizations.%.200s.body", lang);
    omni__cfg_path(out, base, sub);
}

static void preroute_path(void *ctx, const char *in, char *out)
{
    pr_map *m = ctx;
    if (strncmp(in, "accounts[", 9) == 0) {
        char *end = NULL;
        unsigned long k = strtoul(in + 9, &end, 10);
        if (end && *end == ']') {
            long doc = -1;
            if (m->single >= 0)
                doc = m->single;
            else if (m->indices && k < m->n_indices)
                doc = (long)m->indices[k];
            if (doc >= 0) {
                char base[OMNI__CFG_PATH_MAX];
                omni__cfg_path_index(base, "accounts", (size_t)doc);
                omni__cfg_path(out, base, end + 1 + (end[1] == '.'));
                return;
            }
        }
    } else if (strncmp(in, "templates.", 10) == 0) {
        map_template(m->B, in + 10, out);
        return;
    }
    omni__cfg_path(out, "", in);
}

/* {"defaults"?, "accounts"?: [...], "templates", "analyzer"?} */
static int preroute_doc(omni__cfg_build *B, int with_defaults, long only, char **text,
                        size_t *len)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    if (with_defaults && B->pr_defaults) {
        omni__json_w_keyl(&b, "defaults");
        omni__json_w_item(&b, B->pr_defaults);
    }
    if (only != -2) {
        omni__json_w_keyl(&b, "accounts");
        omni__json_w_arr_begin(&b);
        for (size_t i = 0; i < B->n_acc; i++)
            if (B->acc[i].usable && B->acc[i].preroute && (only < 0 || (size_t)only == i))
                omni__json_w_item(&b, B->acc[i].preroute);
        omni__json_w_arr_end(&b);
    }
    omni__json_w_keyl(&b, "templates");
    omni__json_w_item(&b, B->pr_templates);
    if (B->sec_analyzer && B->analyzer_ok) {
        omni__json_w_keyl(&b, "analyzer");
        omni__json_w_item(&b, B->sec_analyzer);
    }
    omni__json_w_obj_end(&b);
    if (b.failed) {
        omni__buf_free(&b);
        return OMNI_ENOMEM;
    }
    *text = b.data;
    *len = b.len;
    return OMNI_OK;
}

/* Compiles one pre-route document; *rc_out is its status. */
static int compile_doc(omni__cfg_build *B, int with_defaults, long only, omni_preroute **out,
                       int *rc_out)
{
    char *text = NULL;
    size_t len = 0;
    if (preroute_doc(B, with_defaults, only, &text, &len))
        return OMNI_ENOMEM;
    *rc_out = omni_preroute_compile(out, text, len);
    free(text);
    return *rc_out == OMNI_ENOMEM ? OMNI_ENOMEM : OMNI_OK;
}

static int analyzer_section(omni__cfg_build *B)
{
    const cJSON *a = B->sec_analyzer;
    B->analyzer_ok = 1;
    if (!a)
        return OMNI_OK;
    B->analyzer_ok = 0;
    if (!cJSON_IsObject(a)) {
        omni__cfg_error_add(&B->errs, "analyzer", OMNI_ECONFIG,
                            "must be an object (omni_analyzer_compile's configuration)");
        return OMNI_OK;
    }
    char *text = NULL;
    size_t n = 0;
    if (omni__json_print(&text, &n, a))
        return OMNI_ENOMEM;
    omni_analyzer *an = NULL;
    int rc = omni_analyzer_compile(&an, text, n);
    free(text);
    omni_analyzer_free(an);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc)
        omni__cfg_error_last(&B->errs, "analyzer", rc, NULL, NULL);
    else
        B->analyzer_ok = 1;
    return OMNI_OK;
}

int omni__cfg_preroute(omni__cfg_build *B)
{
    int rc = analyzer_section(B);
    if (rc)
        return rc;
    int st = 0;
    if ((rc = compile_doc(B, 1, -1, &B->cfg->preroute, &st)))
        return rc;
    if (st == OMNI_OK)
        return OMNI_OK;
    /* where the whole one failed: the base, then each account alone */
    size_t before = B->errs.count;
    char first_msg[600];
    snprintf(first_msg, sizeof(first_msg), "%s", omni_error_last_message());
    size_t *indices = calloc(B->n_acc ? B->n_acc : 1, sizeof(*indices));
    if (!indices)
        return OMNI_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < B->n_acc; i++)
        if (B->acc[i].usable)
            indices[k++] = i;
    /* keep the whole compile's error for when the pieces all pass */
    char *details = omni_error_last()->details ? strdup(omni_error_last()->details) : NULL;
    int full_st = st;
    omni_preroute *p = NULL;
    pr_map map = {B, -1, NULL, 0};
    rc = compile_doc(B, 1, -2, &p, &st);
    omni_preroute_free(p);
    int base_ok = st == OMNI_OK;
    if (!rc && !base_ok)
        omni__cfg_error_last(&B->errs, "", st, preroute_path, &map);
    for (size_t i = 0; !rc && i < B->n_acc; i++) {
        if (!B->acc[i].usable)
            continue;
        p = NULL;
        rc = compile_doc(B, base_ok, (long)i, &p, &st);
        omni_preroute_free(p);
        map.single = (long)i;
        if (!rc && st)
            omni__cfg_error_last(&B->errs, "", st, preroute_path, &map);
    }
    if (!rc && B->errs.count == before) {
        omni__err_details(full_st, details, "%s", first_msg);
        map.single = -1;
        map.indices = indices;
        map.n_indices = k;
        omni__cfg_error_last(&B->errs, "", full_st, preroute_path, &map);
    }
    free(details);
    free(indices);
    return rc;
}
