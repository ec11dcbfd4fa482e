/* Pre-routing configuration: omni_preroute_compile / omni_preroute_free.
 * Accounts are merged with the defaults member by member, and everything
 * (rules, business hours, keywords, templates per language, the analyzer)
 * is compiled once. Every error names its JSON path. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/analyze.h>
#include <omni/omni.h>
#include <omni/preroute.h>
#include <omni/rules.h>
#include <omni/template.h>

#include "core/error.h"
#include "core/json.h"
#include "core/tz.h"
#include "preroute_internal.h"

#define PATH_MAX_LEN 512

/* Copies src into dst[cap] (truncated, always terminated). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memmove(dst, src, n);
    dst[n] = '\0';
}

/* ---- errors with a path ------------------------------------------------------ */

/* Sets OMNI_ECONFIG (or `status`) with details {"path": path} and the
 * message "preroute: PATH: ...". */
static int cfg_err(int status, const char *path, const char *fmt, ...) OMNI__PRINTF(3, 4);

static int cfg_err(int status, const char *path, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_keyl(&d, "path");
    omni__json_w_str(&d, path);
    omni__json_w_obj_end(&d);
    if (d.failed) {
        omni__buf_free(&d);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    int rc = omni__err_details(status, d.data, "preroute: %s: %s", path, msg);
    omni__buf_free(&d);
    return rc;
}

/* Wraps the last error of a component (hours, optout, analyzer, template)
 * with the path of its configuration; EINVAL becomes ECONFIG. */
static int cfg_wrap(int rc, const char *path)
{
    char msg[600];
    copy_str(msg, sizeof(msg), omni_error_last_message());
    if (rc == OMNI_EINVAL || rc == OMNI_ESYNTAX || rc == OMNI_EJSON || rc == OMNI_EHELPER ||
        rc == OMNI_EENCODING || rc == OMNI_EUNSUPPORTED)
        rc = OMNI_ECONFIG;
    if (rc == OMNI_ENOMEM)
        return rc;
    return cfg_err(rc, path, "%s", msg);
}

/* out = a + sep + b, truncated to PATH_MAX_LEN. */
static void path_cat(char *out, const char *a, const char *sep, const char *b)
{
    char tmp[PATH_MAX_LEN];
    size_t n = 0;
    const char *parts[3] = {a, sep, b};
    for (int i = 0; i < 3; i++)
        for (const char *q = parts[i]; *q && n + 1 < sizeof(tmp); q++)
            tmp[n++] = *q;
    tmp[n] = '\0';
    memcpy(out, tmp, n + 1);
}

static void path_join(char *out, const char *base, const char *member)
{
    path_cat(out, base, base[0] ? "." : "", member);
}

static void path_index(char *out, const char *base, size_t i)
{
    char num[32];
    snprintf(num, sizeof(num), "[%zu]", i);
    path_cat(out, base, "", num);
}

/* ---- small validated readers ------------------------------------------------- */

static int only_members(const cJSON *obj, const char *path, const char *const *names)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
    {
        int ok = 0;
        for (size_t i = 0; names[i]; i++)
            ok |= strcmp(m->string, names[i]) == 0;
        if (!ok) {
            char p[PATH_MAX_LEN];
            path_join(p, path, m->string);
            return cfg_err(OMNI_ECONFIG, p, "unknown member");
        }
    }
    return OMNI_OK;
}

static int want_object(const cJSON *v, const char *path)
{
    return cJSON_IsObject(v) ? OMNI_OK : cfg_err(OMNI_ECONFIG, path, "must be an object");
}

static int want_string(const cJSON *v, const char *path, size_t min, size_t max)
{
    if (!cJSON_IsString(v))
        return cfg_err(OMNI_ECONFIG, path, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n < min || n > max)
        return cfg_err(OMNI_ECONFIG, path, "must be %zu..%zu bytes", min, max);
    return OMNI_OK;
}

static int lang_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > OMNI__PR_MAX_LANG)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* ---- templates ---------------------------------------------------------------- */

static void templates_free(omni_preroute *p)
{
    for (size_t i = 0; i < p->n_templates; i++) {
        for (size_t j = 0; j < p->templates[i].n; j++)
            omni_template_free(p->templates[i].langs[j].t);
        free(p->templates[i].langs);
        free(p->templates[i].id);
    }
    free(p->templates);
    p->templates = NULL;
    p->n_templates = 0;
}

static int templates_compile(omni_preroute *p, const cJSON *doc)
{
    if (!doc)
        return OMNI_OK;
    int rc = want_object(doc, "templates");
    if (rc)
        return rc;
    size_t n = (size_t)cJSON_GetArraySize(doc);
    if (n == 0)
        return OMNI_OK;
    p->templates = calloc(n, sizeof(*p->templates));
    if (!p->templates)
        return omni__err(OMNI_ENOMEM, NULL);
    static const char opts[] = "{\"escape\":\"none\"}";
    const cJSON *t;
    cJSON_ArrayForEach(t, doc)
    {
        char path[PATH_MAX_LEN];
        path_join(path, "templates", t->string);
        if (strlen(t->string) < 1 || strlen(t->string) > OMNI_RULES_MAX_ID)
            return cfg_err(OMNI_ECONFIG, path, "a template id must be 1..%d bytes",
                           OMNI_RULES_MAX_ID);
        for (size_t k = 0; k < p->n_templates; k++)
            if (strcmp(p->templates[k].id, t->string) == 0)
                return cfg_err(OMNI_ECONFIG, path, "repeated template id");
        if ((rc = want_object(t, path)))
            return rc;
        size_t nl = (size_t)cJSON_GetArraySize(t);
        if (nl == 0)
            return cfg_err(OMNI_ECONFIG, path, "needs at least one language");
        omni__pr_template *pt = &p->templates[p->n_templates++];
        pt->id = dup_str(t->string);
        pt->langs = calloc(nl, sizeof(*pt->langs));
        if (!pt->id || !pt->langs)
            return omni__err(OMNI_ENOMEM, NULL);
        const cJSON *l;
        cJSON_ArrayForEach(l, t)
        {
            char lp[PATH_MAX_LEN];
            path_join(lp, path, l->string);
            if (!lang_ok(l->string))
                return cfg_err(OMNI_ECONFIG, lp, "not a language tag");
            if ((rc = want_string(l, lp, 0, OMNI_TEMPLATE_MAX_SOURCE)))
                return rc;
            omni__pr_tlang *tl = &pt->langs[pt->n];
            copy_str(tl->lang, sizeof(tl->lang), l->string);
            rc = omni_template_compile(&tl->t, l->valuestring, strlen(l->valuestring), opts,
                                       sizeof(opts) - 1, NULL);
            if (rc)
                return cfg_wrap(rc, lp);
            pt->n++;
        }
    }
    return OMNI_OK;
}

static const omni__pr_template *template_find(const omni_preroute *p, const char *id)
{
    for (size_t i = 0; i < p->n_templates; i++)
        if (strcmp(p->templates[i].id, id) == 0)
            return &p->templates[i];
    return NULL;
}

static int template_ref(const omni_preroute *p, const cJSON *v, const char *path,
                        const omni__pr_template **out)
{
    int rc = want_string(v, path, 1, OMNI_RULES_MAX_ID);
    if (rc)
        return rc;
    *out = template_find(p, v->valuestring);
    if (!*out)
        return cfg_err(OMNI_ECONFIG, path, "unknown template \"%.256s\"", v->valuestring);
    return OMNI_OK;
}

static int lang_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x == '_')
            x = '-';
        if (y == '_')
            y = '-';
        if (x != y)
            return 0;
    }
    return 1;
}

const omni__pr_tlang *omni__pr_template_lang(const omni__pr_template *t,
                                             const char *const *candidates, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        const char *want = candidates[c];
        if (!want || !want[0])
            continue;
        size_t wn = strlen(want);
        for (size_t i = 0; i < t->n; i++)
            if (strlen(t->langs[i].lang) == wn && lang_eq(t->langs[i].lang, want, wn))
                return &t->langs[i];
        size_t primary = strcspn(want, "-_");
        if (primary < wn)
            for (size_t i = 0; i < t->n; i++)
                if (strlen(t->langs[i].lang) == primary &&
                    lang_eq(t->langs[i].lang, want, primary))
                    return &t->langs[i];
    }
    for (size_t i = 0; i < t->n; i++)
        if (lang_eq(t->langs[i].lang, "en", 3))
            return &t->langs[i];
    return &t->langs[0];
}

/* ---- accounts ------------------------------------------------------------------- */

static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void account_clear(omni__pr_account *a)
{
    if (a->hcache) {
        pthread_mutex_destroy(&a->hcache->mu);
        free(a->hcache);
    }
    free(a->account_id);
    if (a->own_hours)
        omni__hours_free(a->hours);
    if (a->own_rules)
        omni_rules_free(a->rules);
    if (a->own_optout)
        omni__optout_free(a->optout);
    if (a->own_analyzer)
        omni_analyzer_free(a->analyzer);
    strings_free(a->vip_tags, a->n_vip);
    strings_free(a->urgency, a->n_urgency);
    free(a->dest_type);
    free(a->dest_id);
    free(a->dest_name);
    free(a->dest_metadata);
    memset(a, 0, sizeof(*a));
}

/* A member of the account, else of the defaults; *path gets where it is. */
static const cJSON *member(const cJSON *acc, const char *acc_path, const cJSON *def,
                           const char *name, char *path)
{
    const cJSON *v = acc ? cJSON_GetObjectItemCaseSensitive(acc, name) : NULL;
    if (v) {
        path_join(path, acc_path, name);
        return v;
    }
    v = def ? cJSON_GetObjectItemCaseSensitive(def, name) : NULL;
    path_join(path, "defaults", name);
    return v;
}

static int string_list(const cJSON *v, const char *path, char ***out, size_t *n, int normalize)
{
    if (!cJSON_IsArray(v))
        return cfg_err(OMNI_ECONFIG, path, "must be an array of strings");
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count > OMNI__PR_MAX_WORDS)
        return cfg_err(OMNI_ECONFIG, path, "more than %d entries", OMNI__PR_MAX_WORDS);
    char **list = calloc(count ? count : 1, sizeof(char *));
    if (!list)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t k = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, v)
    {
        char p[PATH_MAX_LEN];
        path_index(p, path, k);
        int rc = want_string(s, p, 1, OMNI_RULES_MAX_ID);
        if (!rc && normalize) {
            char norm[4 * OMNI_RULES_MAX_ID + 8];
            int words = omni__optout_normalize(s->valuestring, strlen(s->valuestring), norm,
                                               sizeof(norm));
            if (words <= 0)
                rc = cfg_err(OMNI_ECONFIG, p, "has no words");
            else if (!(list[k] = dup_str(norm)))
                rc = omni__err(OMNI_ENOMEM, NULL);
        } else if (!rc && !(list[k] = dup_str(s->valuestring))) {
            rc = omni__err(OMNI_ENOMEM, NULL);
        }
        if (rc) {
            strings_free(list, k + (list[k] != NULL));
            return rc;
        }
        k++;
    }
    *out = list;
    *n = k;
    return OMNI_OK;
}

static int auto_entry(const omni_preroute *p, const cJSON *v, const char *path, omni__pr_auto *a)
{
    static const char *const names[] = {"enabled", "templateId", NULL};
    int rc = want_object(v, path);
    if (!rc)
        rc = only_members(v, path, names);
    if (rc)
        return rc;
    char mp[PATH_MAX_LEN];
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(v, "enabled");
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(v, "templateId");
    path_join(mp, path, "enabled");
    if (en && !cJSON_IsBool(en))
        return cfg_err(OMNI_ECONFIG, mp, "must be a boolean");
    a->enabled = en ? cJSON_IsTrue(en) : 1;
    path_join(mp, path, "templateId");
    if (tid)
        return template_ref(p, tid, mp, &a->tmpl);
    if (a->enabled)
        return cfg_err(OMNI_ECONFIG, mp, "is required when enabled");
    return OMNI_OK;
}

static int auto_responses(const omni_preroute *p, const cJSON *v, const char *path,
                          omni__pr_account *a)
{
    a->window_ms = OMNI__PR_DEFAULT_WINDOW_MS;
    if (!v)
        return OMNI_OK;
    static const char *const names[] = {"greeting", "away", "acknowledgment", "windowSeconds",
                                        NULL};
    int rc = want_object(v, path);
    if (!rc)
        rc = only_members(v, path, names);
    if (rc)
        return rc;
    char mp[PATH_MAX_LEN];
    const cJSON *m;
    struct {
        const char *name;
        omni__pr_auto *slot;
    } entries[] = {{"greeting", &a->greeting}, {"away", &a->away}, {"acknowledgment", &a->ack}};
    for (size_t i = 0; i < 3; i++) {
        if ((m = cJSON_GetObjectItemCaseSensitive(v, entries[i].name))) {
            path_join(mp, path, entries[i].name);
            if ((rc = auto_entry(p, m, mp, entries[i].slot)))
                return rc;
        }
    }
    if ((m = cJSON_GetObjectItemCaseSensitive(v, "windowSeconds"))) {
        path_join(mp, path, "windowSeconds");
        if (!cJSON_IsNumber(m) || m->valuedouble < 0 ||
            m->valuedouble > (double)OMNI__PR_MAX_WINDOW_S ||
            (double)(int64_t)m->valuedouble != m->valuedouble)
            return cfg_err(OMNI_ECONFIG, mp, "must be 0..%lld", (long long)OMNI__PR_MAX_WINDOW_S);
        a->window_ms = (int64_t)m->valuedouble * 1000;
    }
    return OMNI_OK;
}

/* The keyword document without "confirmations", compiled; confirmations
 * resolved to templates. */
static int opt_out(const omni_preroute *p, const cJSON *v, const char *path, omni__pr_account *a)
{
    if (!v) {
        a->own_optout = 1;
        return omni__optout_compile(&a->optout, "{}", 2) ? omni__err(OMNI_ENOMEM, NULL) : 0;
    }
    int rc = want_object(v, path);
    if (rc)
        return rc;
    cJSON *copy = cJSON_Duplicate(v, 1);
    if (!copy)
        return omni__err(OMNI_ENOMEM, NULL);
    cJSON *conf = cJSON_DetachItemFromObjectCaseSensitive(copy, "confirmations");
    char mp[PATH_MAX_LEN];
    path_join(mp, path, "confirmations");
    if (conf) {
        static const char *const names[] = {"stop", "start", "help", NULL};
        rc = want_object(conf, mp);
        if (!rc)
            rc = only_members(conf, mp, names);
        const cJSON *c;
        char cp[PATH_MAX_LEN];
        if (!rc && (c = cJSON_GetObjectItemCaseSensitive(conf, "stop"))) {
            path_join(cp, mp, "stop");
            rc = template_ref(p, c, cp, &a->confirm_stop);
        }
        if (!rc && (c = cJSON_GetObjectItemCaseSensitive(conf, "start"))) {
            path_join(cp, mp, "start");
            rc = template_ref(p, c, cp, &a->confirm_start);
        }
        if (!rc && (c = cJSON_GetObjectItemCaseSensitive(conf, "help"))) {
            path_join(cp, mp, "help");
            rc = template_ref(p, c, cp, &a->confirm_help);
        }
        cJSON_Delete(conf);
    }
    if (!rc) {
        char *text = NULL;
        size_t n = 0;
        rc = omni__json_print(&text, &n, copy);
        if (rc) {
            rc = omni__err(OMNI_ENOMEM, NULL);
        } else {
            rc = omni__optout_compile(&a->optout, text, n);
            free(text);
            if (rc)
                rc = cfg_wrap(rc, path);
            else
                a->own_optout = 1;
        }
    }
    cJSON_Delete(copy);
    return rc;
}

static int priority_cfg(const cJSON *v, const char *path, omni__pr_account *a)
{
    const cJSON *vip = NULL, *urg = NULL;
    char mp[PATH_MAX_LEN];
    if (v) {
        static const char *const names[] = {"vipTags", "urgencyWords", NULL};
        int rc = want_object(v, path);
        if (!rc)
            rc = only_members(v, path, names);
        if (rc)
            return rc;
        vip = cJSON_GetObjectItemCaseSensitive(v, "vipTags");
        urg = cJSON_GetObjectItemCaseSensitive(v, "urgencyWords");
    }
    int rc;
    if (vip) {
        path_join(mp, path, "vipTags");
        if ((rc = string_list(vip, mp, &a->vip_tags, &a->n_vip, 0)))
            return rc;
    } else {
        cJSON *d = cJSON_Parse("[\"vip\"]");
        rc = d ? string_list(d, "priority.vipTags", &a->vip_tags, &a->n_vip, 0)
               : omni__err(OMNI_ENOMEM, NULL);
        cJSON_Delete(d);
        if (rc)
            return rc;
    }
    if (urg) {
        path_join(mp, path, "urgencyWords");
        return string_list(urg, mp, &a->urgency, &a->n_urgency, 1);
    }
    cJSON *d = cJSON_Parse("[\"urgent\",\"asap\",\"emergency\",\"immediately\",\"right away\"]");
    rc = d ? string_list(d, "priority.urgencyWords", &a->urgency, &a->n_urgency, 1)
           : omni__err(OMNI_ENOMEM, NULL);
    cJSON_Delete(d);
    return rc;
}

static int destination_cfg(const cJSON *v, const char *path, omni__pr_account *a)
{
    const char *type = "queue", *id = "default", *name = "Default Queue";
    char *meta = NULL;
    if (v) {
        static const char *const names[] = {"type", "id", "name", "metadata", NULL};
        char mp[PATH_MAX_LEN];
        int rc = want_object(v, path);
        if (!rc)
            rc = only_members(v, path, names);
        if (rc)
            return rc;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "type");
        const cJSON *i = cJSON_GetObjectItemCaseSensitive(v, "id");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "name");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "metadata");
        path_join(mp, path, "type");
        if ((rc = want_string(t, mp, 1, 16)))
            return rc;
        type = t->valuestring;
        if (strcmp(type, "agent") && strcmp(type, "queue") && strcmp(type, "bot") &&
            strcmp(type, "external"))
            return cfg_err(OMNI_ECONFIG, mp, "must be agent, queue, bot or external");
        path_join(mp, path, "id");
        if ((rc = want_string(i, mp, 1, OMNI_RULES_MAX_ID)))
            return rc;
        id = i->valuestring;
        name = id;
        if (n) {
            path_join(mp, path, "name");
            if ((rc = want_string(n, mp, 1, OMNI_RULES_MAX_ID)))
                return rc;
            name = n->valuestring;
        }
        if (m) {
            path_join(mp, path, "metadata");
            if ((rc = want_object(m, mp)))
                return rc;
            size_t len;
            if (omni__json_print(&meta, &len, m))
                return omni__err(OMNI_ENOMEM, NULL);
        }
    }
    a->dest_type = dup_str(type);
    a->dest_id = dup_str(id);
    a->dest_name = dup_str(name);
    a->dest_metadata = meta ? meta : dup_str("{}");
    if (!a->dest_type || !a->dest_id || !a->dest_name || !a->dest_metadata)
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

static int business_hours(const cJSON *v, const char *path, omni__pr_account *a)
{
    if (!v)
        return OMNI_OK;
    static const char *const names[] = {"weekly", "holidays", NULL};
    int rc = want_object(v, path);
    if (!rc)
        rc = only_members(v, path, names);
    if (rc)
        return rc;
    cJSON *copy = cJSON_Duplicate(v, 1);
    if (!copy || !cJSON_AddStringToObject(copy, "timezone", a->time_zone)) {
        cJSON_Delete(copy);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    char *text = NULL;
    size_t n = 0;
    rc = omni__json_print(&text, &n, copy);
    cJSON_Delete(copy);
    if (rc)
        return omni__err(OMNI_ENOMEM, NULL);
    rc = omni__hours_compile(&a->hours, text, n);
    free(text);
    if (rc)
        return cfg_wrap(rc, path);
    a->own_hours = 1;
    return OMNI_OK;
}

/* Prefixes a rules error path with the account's path. */
static void rules_path(char *out, const char *base, const char *sub)
{
    path_cat(out, base, sub[0] == '[' || !sub[0] ? "" : ".", sub);
}

static int rules_error(int rc, const char *path)
{
    const omni_error *e = omni_error_last();
    if (rc != OMNI_ECONFIG || !e->details)
        return cfg_wrap(rc, path);
    cJSON *d = NULL;
    if (omni__json_parse(&d, e->details, strlen(e->details), 0, "details"))
        return cfg_wrap(rc, path);
    char msg[600];
    copy_str(msg, sizeof(msg), e->message);
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(d, "errors");
    char first[PATH_MAX_LEN];
    copy_str(first, sizeof(first), path);
    omni_buf b = OMNI_BUF_INIT;
    const cJSON *it;
    size_t k = 0;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "path");
    size_t path_at = b.len;
    omni__json_w_str(&b, path);
    size_t path_end = b.len;
    omni__json_w_keyl(&b, "errors");
    omni__json_w_arr_begin(&b);
    cJSON_ArrayForEach(it, errs)
    {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(it, "ruleId");
        const char *sub = omni__json_str(it, "path");
        const char *m = omni__json_str(it, "message");
        char full[PATH_MAX_LEN];
        rules_path(full, path, sub ? sub : "");
        if (k++ == 0)
            copy_str(first, sizeof(first), full);
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "ruleId");
        if (cJSON_IsString(rid))
            omni__json_w_str(&b, rid->valuestring);
        else
            omni__json_w_null(&b);
        omni__json_w_keyl(&b, "path");
        omni__json_w_str(&b, full);
        omni__json_w_keyl(&b, "message");
        omni__json_w_str(&b, m ? m : "");
        omni__json_w_obj_end(&b);
    }
    omni__json_w_arr_end(&b);
    omni__json_w_obj_end(&b);
    cJSON_Delete(d);
    if (b.failed) {
        omni__buf_free(&b);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    /* the top-level path is that of the first error */
    omni_buf out = OMNI_BUF_INIT;
    omni__buf_append(&out, b.data, path_at);
    omni__json_w_str(&out, first);
    omni__buf_append(&out, b.data + path_end, b.len - path_end);
    omni__buf_free(&b);
    if (out.failed) {
        omni__buf_free(&out);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    rc = omni__err_details(OMNI_ECONFIG, out.data, "preroute: %s: %s", path, msg);
    omni__buf_free(&out);
    return rc;
}

/* Every auto_respond templateId of a rules document must name a template. */
static int rules_templates(const omni_preroute *p, const cJSON *doc, const char *path)
{
    const cJSON *list = doc;
    char lp[PATH_MAX_LEN];
    copy_str(lp, sizeof(lp), path);
    if (cJSON_IsObject(doc)) {
        list = cJSON_GetObjectItemCaseSensitive(doc, "rules");
        path_join(lp, path, "rules");
    }
    if (!cJSON_IsArray(list))
        return OMNI_OK;
    size_t i = 0;
    const cJSON *rule;
    cJSON_ArrayForEach(rule, list)
    {
        char rp[PATH_MAX_LEN], ap[PATH_MAX_LEN], tp[PATH_MAX_LEN];
        path_index(rp, lp, i++);
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rule, "event");
        if (ev) {
            const char *type = omni__json_str(ev, "type");
            const cJSON *tid = omni__json_at(ev, "params.templateId");
            if (type && strcmp(type, "auto_respond") == 0 && tid) {
                path_join(tp, rp, "event.params.templateId");
                const omni__pr_template *t;
                int rc = template_ref(p, tid, tp, &t);
                if (rc)
                    return rc;
            }
            continue;
        }
        const cJSON *acts = cJSON_GetObjectItemCaseSensitive(rule, "actions");
        size_t k = 0;
        const cJSON *act;
        cJSON_ArrayForEach(act, acts)
        {
            const char *type = omni__json_str(act, "type");
            const cJSON *tid = cJSON_GetObjectItemCaseSensitive(act, "templateId");
            path_join(ap, rp, "actions");
            path_index(tp, ap, k++);
            if (type && strcmp(type, "auto_respond") == 0 && tid) {
                char fp[PATH_MAX_LEN];
                path_join(fp, tp, "templateId");
                const omni__pr_template *t;
                int rc = template_ref(p, tid, fp, &t);
                if (rc)
                    return rc;
            }
        }
    }
    return OMNI_OK;
}

static int rules_cfg(const omni_preroute *p, const cJSON *v, const char *path,
                     omni__pr_account *a)
{
    if (!v)
        return OMNI_OK;
    char *text = NULL;
    size_t n = 0;
    if (omni__json_print(&text, &n, v))
        return omni__err(OMNI_ENOMEM, NULL);
    omni_buf opts = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&opts);
    omni__json_w_keyl(&opts, "timeZone");
    omni__json_w_str(&opts, a->time_zone);
    omni__json_w_obj_end(&opts);
    if (opts.failed) {
        free(text);
        omni__buf_free(&opts);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    int rc = omni_rules_compile(&a->rules, text, n, opts.data, opts.len);
    free(text);
    omni__buf_free(&opts);
    if (rc)
        return rules_error(rc, path);
    a->own_rules = 1;
    return rules_templates(p, v, path);
}

/* Compiles an analyzer configuration (NULL: the built-in defaults) into
 * *out; errors carry the configuration path of the analyzer's member. */
static int analyzer_cfg(const cJSON *v, const char *path, omni_analyzer **out)
{
    int rc;
    if (v) {
        if ((rc = want_object(v, path)))
            return rc;
        char *text = NULL;
        size_t n = 0;
        if (omni__json_print(&text, &n, v))
            return omni__err(OMNI_ENOMEM, NULL);
        rc = omni_analyzer_compile(out, text, n);
        free(text);
    } else {
        rc = omni_analyzer_compile(out, NULL, 0);
    }
    if (rc) {
        const omni_error *e = omni_error_last();
        char sub[PATH_MAX_LEN];
        copy_str(sub, sizeof(sub), path);
        cJSON *d = NULL;
        if (e->details && !omni__json_parse(&d, e->details, strlen(e->details), 0, "details")) {
            const char *dp = omni__json_str(d, "path");
            if (dp)
                path_join(sub, path, dp);
        }
        cJSON_Delete(d);
        return cfg_wrap(rc, sub);
    }
    return OMNI_OK;
}

static const char *const account_members[] = {
    "accountId",     "timeZone", "locale",   "businessHours",      "rules",
    "autoResponses", "optOut",   "priority", "defaultDestination", "analyzer", NULL};

/* Compiles account `acc` (NULL: the defaults) over `def` (NULL when
 * compiling the defaults). `base` is the compiled defaults to share from. */
static int account_compile(const omni_preroute *p, omni__pr_account *a, const cJSON *acc,
                           const char *acc_path, const cJSON *def,
                           const omni__pr_account *base)
{
    char path[PATH_MAX_LEN];
    int rc;
    a->hcache = calloc(1, sizeof(*a->hcache));
    if (!a->hcache)
        return omni__err(OMNI_ENOMEM, NULL);
    if (pthread_mutex_init(&a->hcache->mu, NULL) != 0) {
        free(a->hcache);
        a->hcache = NULL;
        return omni__err(OMNI_ENOMEM, "preroute: cannot create a mutex");
    }
    const cJSON *obj = acc ? acc : def;
    const char *obj_path = acc ? acc_path : "defaults";
    if (obj && (rc = only_members(obj, obj_path, account_members + (acc ? 0 : 1))))
        return rc;
    if (acc) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(acc, "accountId");
        path_join(path, acc_path, "accountId");
        if ((rc = want_string(id, path, 1, OMNI__PR_MAX_ID)))
            return rc;
        if (!(a->account_id = dup_str(id->valuestring)))
            return omni__err(OMNI_ENOMEM, NULL);
    }
    const cJSON *d = acc ? def : NULL;
    const cJSON *tz = member(acc ? acc : def, obj_path, d, "timeZone", path);
    copy_str(a->time_zone, sizeof(a->time_zone), "UTC");
    int tz_given = tz != NULL;
    if (tz) {
        if ((rc = want_string(tz, path, 1, 64)))
            return rc;
        omni__tz *z = NULL;
        if ((rc = omni__tz_load(&z, tz->valuestring)))
            return cfg_wrap(rc, path);
        omni__tz_free(z);
        copy_str(a->time_zone, sizeof(a->time_zone), tz->valuestring);
    }
    const cJSON *loc = member(acc ? acc : def, obj_path, d, "locale", path);
    copy_str(a->locale, sizeof(a->locale), "en");
    if (loc) {
        if (!cJSON_IsString(loc) || !lang_ok(loc->valuestring))
            return cfg_err(OMNI_ECONFIG, path, "must be a language tag");
        copy_str(a->locale, sizeof(a->locale), loc->valuestring);
    }
    /* shared with the defaults when the account has neither the member nor
     * a time zone of its own */
    int same_tz = base && strcmp(base->time_zone, a->time_zone) == 0;
    (void)tz_given;
    const cJSON *v = member(acc ? acc : def, obj_path, d, "businessHours", path);
    if (base && same_tz && !(acc && cJSON_GetObjectItemCaseSensitive(acc, "businessHours"))) {
        a->hours = base->hours;
    } else if ((rc = business_hours(v, path, a))) {
        return rc;
    }
    v = member(acc ? acc : def, obj_path, d, "rules", path);
    if (base && same_tz && !(acc && cJSON_GetObjectItemCaseSensitive(acc, "rules"))) {
        a->rules = base->rules;
    } else if ((rc = rules_cfg(p, v, path, a))) {
        return rc;
    }
    v = member(acc ? acc : def, obj_path, d, "optOut", path);
    if (base && !(acc && cJSON_GetObjectItemCaseSensitive(acc, "optOut"))) {
        a->optout = base->optout;
        a->confirm_stop = base->confirm_stop;
        a->confirm_start = base->confirm_start;
        a->confirm_help = base->confirm_help;
    } else if ((rc = opt_out(p, v, path, a))) {
        return rc;
    }
    v = member(acc ? acc : def, obj_path, d, "autoResponses", path);
    if ((rc = auto_responses(p, v, path, a)))
        return rc;
    v = member(acc ? acc : def, obj_path, d, "priority", path);
    if ((rc = priority_cfg(v, path, a)))
        return rc;
    v = member(acc ? acc : def, obj_path, d, "analyzer", path);
    if (acc ? cJSON_GetObjectItemCaseSensitive(acc, "analyzer") : v) {
        if ((rc = analyzer_cfg(v, path, &a->analyzer)))
            return rc;
        a->own_analyzer = 1;
    } else {
        a->analyzer = base ? base->analyzer : p->analyzer;
    }
    v = member(acc ? acc : def, obj_path, d, "defaultDestination", path);
    return destination_cfg(v, path, a);
}

static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

int omni__pr_open(const omni__pr_account *acc, int64_t now_ms)
{
    if (!acc->hours)
        return 1;
    omni__pr_hcache *c = acc->hcache;
    int open = 1;
    pthread_mutex_lock(&c->mu);
    if (c->valid && now_ms >= c->from && now_ms < c->until) {
        open = c->open;
        pthread_mutex_unlock(&c->mu);
        return open;
    }
    pthread_mutex_unlock(&c->mu);
    int64_t next = 0;
    if (omni__hours_at(acc->hours, now_ms, &open, &next))
        return 1; /* a clock out of range: treat as open */
    pthread_mutex_lock(&c->mu);
    c->valid = 1;
    c->open = open;
    c->from = now_ms;
    /* no change within the horizon: ask again a day later */
    c->until = next ? next : now_ms + 86400000;
    pthread_mutex_unlock(&c->mu);
    return open;
}

const omni__pr_account *omni__pr_account_find(const omni_preroute *p, const char *id)
{
    if (p->table_cap && id) {
        size_t mask = p->table_cap - 1;
        for (size_t i = (size_t)id_hash(id) & mask;; i = (i + 1) & mask) {
            uint32_t slot = p->table[i];
            if (!slot)
                break;
            if (strcmp(p->accounts[slot - 1].account_id, id) == 0)
                return &p->accounts[slot - 1];
        }
    }
    return &p->defaults;
}

void omni_preroute_free(omni_preroute *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_accounts; i++)
        account_clear(&p->accounts[i]);
    free(p->accounts);
    account_clear(&p->defaults);
    free(p->table);
    templates_free(p);
    omni_analyzer_free(p->analyzer);
    free(p);
}

static int compile_doc(omni_preroute *p, const cJSON *root)
{
    static const char *const names[] = {"defaults", "accounts", "templates", "analyzer", NULL};
    int rc = only_members(root, "", names);
    if (rc)
        return rc;
    const cJSON *defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    const cJSON *accounts = cJSON_GetObjectItemCaseSensitive(root, "accounts");
    const cJSON *analyzer = cJSON_GetObjectItemCaseSensitive(root, "analyzer");
    if ((rc = templates_compile(p, cJSON_GetObjectItemCaseSensitive(root, "templates"))))
        return rc;
    if ((rc = analyzer_cfg(analyzer, "analyzer", &p->analyzer)))
        return rc;
    if (defaults && (rc = want_object(defaults, "defaults")))
        return rc;
    if ((rc = account_compile(p, &p->defaults, NULL, "defaults", defaults, NULL)))
        return rc;
    if (!accounts)
        return OMNI_OK;
    if (!cJSON_IsArray(accounts))
        return cfg_err(OMNI_ECONFIG, "accounts", "must be an array");
    size_t n = (size_t)cJSON_GetArraySize(accounts);
    if (n > OMNI_PREROUTE_MAX_ACCOUNTS)
        return cfg_err(OMNI_ETOOLARGE, "accounts", "more than %d accounts",
                       OMNI_PREROUTE_MAX_ACCOUNTS);
    if (n == 0)
        return OMNI_OK;
    p->accounts = calloc(n, sizeof(*p->accounts));
    p->table_cap = 16;
    while (p->table_cap < 2 * n)
        p->table_cap *= 2;
    p->table = calloc(p->table_cap, sizeof(*p->table));
    if (!p->accounts || !p->table)
        return omni__err(OMNI_ENOMEM, NULL);
    const cJSON *acc;
    size_t i = 0;
    cJSON_ArrayForEach(acc, accounts)
    {
        char path[PATH_MAX_LEN];
        path_index(path, "accounts", i);
        if ((rc = want_object(acc, path)))
            return rc;
        omni__pr_account *a = &p->accounts[i];
        rc = account_compile(p, a, acc, path, defaults, &p->defaults);
        p->n_accounts = i + 1; /* cleaned up by omni_preroute_free */
        if (rc)
            return rc;
        size_t mask = p->table_cap - 1;
        size_t s = (size_t)id_hash(a->account_id) & mask;
        for (; p->table[s]; s = (s + 1) & mask) {
            if (strcmp(p->accounts[p->table[s] - 1].account_id, a->account_id) == 0) {
                char ip[PATH_MAX_LEN];
                path_join(ip, path, "accountId");
                return cfg_err(OMNI_ECONFIG, ip, "repeated accountId \"%.256s\"",
                               a->account_id);
            }
        }
        p->table[s] = (uint32_t)(i + 1);
        i++;
    }
    return OMNI_OK;
}

int omni_preroute_compile(omni_preroute **out, const char *config_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "preroute: NULL out");
    *out = NULL;
    if (!config_json)
        return omni__err(OMNI_EINVAL, "preroute: NULL configuration");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, config_json, len, OMNI_LIMIT_CONFIG_BYTES,
                              "preroute configuration");
    if (rc)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return cfg_err(OMNI_ECONFIG, "", "the configuration must be a JSON object");
    }
    omni_preroute *p = calloc(1, sizeof(*p));
    if (!p) {
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    rc = compile_doc(p, root);
    cJSON_Delete(root);
    if (rc) {
        omni_preroute_free(p);
        return rc;
    }
    *out = p;
    return OMNI_OK;
}
